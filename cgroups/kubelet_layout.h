// Where kubelet puts pod and container cgroups, for the cgroupfs and systemd drivers and the containerd, CRI-O and
// docker runtimes. Every UID and container ID is validated before it becomes a path component.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "cgroups/cgroup_fs.h"

namespace slo::cg {

enum class Driver { cgroupfs, systemd };
enum class QosTier { guaranteed, burstable, besteffort };
enum class Runtime { containerd, crio, docker, unknown };

std::string_view to_string(Driver d);
std::string_view to_string(QosTier t);
std::string_view to_string(Runtime r);

// Pod UIDs: [0-9a-fA-F-_]{1,64}-ish, never '/', "..", empty. Container IDs: [0-9a-zA-Z]{1,128}.
bool valid_pod_uid(std::string_view uid);
bool valid_container_id(std::string_view id);
// "containerd://abc" → {containerd, "abc"}; nullopt when the ID part is invalid.
struct ContainerRef {
  Runtime runtime = Runtime::unknown;
  std::string id;
};
std::optional<ContainerRef> parse_container_id(std::string_view status_id);

struct KubeletLayout {
  Driver driver = Driver::cgroupfs;
  // Relative path of the kubepods cgroup: "kubepods" / "kubepods.slice", possibly below a parent
  // ("sloagent-demo-1234/kubepods") when kubelet runs with --cgroup-root or in tests.
  std::string kubepods;

  // Looks for kubepods (cgroupfs) or kubepods.slice (systemd) under `parent` ("" = hierarchy root) in the cpu
  // controller (v1) or the unified tree (v2). nullopt when neither exists.
  static std::optional<KubeletLayout> detect(const CgroupFs& fs, const std::string& parent = "");

  std::string tier_dir(QosTier t) const;
  std::optional<std::string> pod_dir(QosTier t, std::string_view uid) const;
  // Relative path of the container's directory: pod_dir + "/" + container_dir_name(c)
  // ("…/cri-containerd-<id>.scope" on systemd). nullopt when pod_dir is unsafe or the ID invalid.
  std::optional<std::string> container_dir(std::string_view pod_dir, const ContainerRef& c) const;
  // Name of the container's directory under its pod for its runtime: cgroupfs "<id>" (CRI-O "crio-<id>"), systemd
  // "<prefix>-<id>.scope" with cri-containerd / crio / docker (unknown runtime: containerd's spelling).
  std::optional<std::string> container_dir_name(const ContainerRef& c) const;
  // Like container_dir, but when the runtime is unknown or the expected name is absent, tries every known
  // spelling and returns the one that exists in `fs`. nullopt when none exists.
  std::optional<std::string> find_container_dir(const CgroupFs& fs, std::string_view pod_dir,
                                                const ContainerRef& c) const;
};

}  // namespace slo::cg
