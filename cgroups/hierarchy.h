// Which cgroup hierarchy a root holds (v1 / hybrid / unified v2) and where each controller lives.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "cgroups/status.h"

namespace slo::cg {

enum class Mode { v1, hybrid, v2 };
enum class Controller { cpu, cpuacct, cpuset, memory, blkio, pids };

std::string_view to_string(Mode m);
std::string_view to_string(Controller c);
std::optional<Controller> controller_from_name(std::string_view name);

// One line of /proc/<pid>/mountinfo (only the fields detection needs; octal escapes such as \040 decoded).
struct MountInfoEntry {
  std::string root;         // field 4: root of the mount within its filesystem ("/" or "/docker/<id>")
  std::string mount_point;  // field 5
  std::string fstype;       // after the " - " separator: "cgroup", "cgroup2", "tmpfs" …
  std::vector<std::string> super_options;  // last field split on ',': "rw", "cpu", "cpuacct", "name=systemd" …
};
std::vector<MountInfoEntry> parse_mountinfo(std::string_view text);

struct DetectOptions {
  // When set ("/proc" or a fixture's "<tree>/proc"), <proc_root>/self/mountinfo names the cgroup mounts below
  // the root (matched by the part of the mount point after "sys/fs/cgroup", so rewritten fixture paths work).
  std::string proc_root;
  // Ask libcgroup's mount table for the v1 controller mounts when the root is a real kernel mount (see
  // docs/cgroups.md). Results are always re-checked with fstatfs and must lie beneath the root.
  bool use_libcgroup = true;
};

struct Hierarchy {
  Mode mode = Mode::v1;
  std::string root;  // absolute, e.g. /sys/fs/cgroup or a fixture copy
  // v1/hybrid: controller -> absolute directory of its hierarchy. Co-mounted controllers ("cpu,cpuacct") map to the
  // same directory; "cpu" and "cpuacct" links are followed to their target.
  std::map<Controller, std::string> v1_dirs;
  // v2 root (mode v2) or the cgroup2 mount of a hybrid host ("<root>/unified"); empty when absent.
  std::string unified_dir;
  // Controllers listed in the unified root's cgroup.controllers (v2 only).
  std::set<Controller> v2_controllers;
  // False when the unified root has no readable cgroup.controllers (fixture copies of a sub-tree): every controller
  // is then assumed present and a missing file reads as "gone".
  bool v2_controllers_known = true;
  // How the layout was found: "fstatfs+libcgroup", "fstatfs+scan", "mountinfo", "content".
  std::string source;

  // Detects by fstatfs magic (CGROUP2_SUPER_MAGIC → v2; TMPFS_MAGIC with v1 mounts → v1/hybrid). A root on another
  // filesystem (a fixture copy in a temp dir) is classified from its contents: cgroup.controllers at the top → v2,
  // controller directories → v1, plus unified/ with cgroup.controllers → hybrid.
  static Result<Hierarchy> detect(const std::string& root);
  static Result<Hierarchy> detect(const std::string& root, const DetectOptions& opts);

  // Directory (absolute) that holds `controller`'s files: v1_dirs for v1/hybrid, unified_dir for v2.
  std::optional<std::string> controller_dir(Controller c) const;
};

}  // namespace slo::cg
