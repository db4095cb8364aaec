// A Cgroups CR (resources.alibabacloud.com/v1alpha1, ACK's form) parsed and validated into typed per-container
// overrides. Validation is per container: an invalid container entry carries the reason and none of its values, so
// the controller applies nothing of that container while the CR's other containers still apply.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cgroups/cpu_set.h"
#include "cgroups/knob.h"

namespace slo::agent::cgroups_cr {

// Status reasons (CamelCase, as in Kubernetes conditions and events).
inline constexpr const char* kInvalidQuantity = "InvalidQuantity";
inline constexpr const char* kInvalidCpuset = "InvalidCpuset";
inline constexpr const char* kCpusNotOnNode = "CpusNotOnNode";
inline constexpr const char* kUnknownDevice = "UnknownDevice";
inline constexpr const char* kInvalidSpec = "InvalidSpec";

struct IoLimit {
  cg::Knob knob = cg::Knob::io_read_bps;
  std::string device;  // "MAJ:MIN"
  int64_t value = -1;  // per second; -1 = no limit (the CR's 0)
};

struct ContainerOverride {
  std::string name;
  std::optional<int64_t> cpu_millis;
  std::optional<int64_t> memory_bytes;
  std::optional<cg::CpuSet> cpus;
  std::vector<IoLimit> io;
  // Set when the entry is invalid: then the values above are empty and nothing of this container applies.
  std::string invalid_reason;
  std::string invalid_message;

  bool valid() const { return invalid_reason.empty(); }
  bool empty() const { return !cpu_millis && !memory_bytes && !cpus && io.empty(); }
};

struct CrSpec {
  std::string name;        // metadata.name (cluster-scoped)
  int64_t generation = 0;  // metadata.generation (0 when absent, e.g. standalone files)
  bool deployment = false;  // spec.deployment instead of spec.pod
  std::string target_namespace, target_name;
  std::vector<ContainerOverride> containers;
  // Set when the whole object is unusable (no name, neither or both of pod/deployment): nothing applies.
  std::string error;
};

// What validation needs from the node.
struct NodeFacts {
  cg::CpuSet online_cpus;  // empty = topology unknown: every cpuset-cpus is rejected
  // "/dev/vda", "vda" or "253:0" → "MAJ:MIN" of an existing block device; nullopt = unknown device.
  std::function<std::optional<std::string>(const std::string&)> resolve_device;
};

CrSpec parse_cr(const nlohmann::json& obj, const NodeFacts& node);

// Block devices through sysfs: "MAJ:MIN" must exist as <sysfs>/dev/block/MAJ:MIN; "/dev/<name>" or "<name>" must
// have <sysfs>/class/block/<name>/dev (whole disks and partitions). sysfs_root is the sysfs mount ("/sys") or a
// directory holding sys/ (a fixture tree).
std::optional<std::string> resolve_block_device(const std::string& sysfs_root, const std::string& device);

}  // namespace slo::agent::cgroups_cr
