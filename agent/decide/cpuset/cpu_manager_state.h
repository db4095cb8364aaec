// kubelet's CPU manager checkpoint (/var/lib/kubelet/cpu_manager_state): which containers the static policy pinned.
// We never rewrite those containers and take their CPUs out of our pools.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "cgroups/cpu_set.h"

namespace slo::cpuset {

struct CpuManagerState {
  std::string policy;           // "none" / "static"
  cg::CpuSet default_cpu_set;   // kubelet's shared pool
  std::map<std::string, std::map<std::string, cg::CpuSet>> entries;  // pod UID → container name → CPUs

  cg::CpuSet pinned_cpus() const;
  bool pod_pinned(const std::string& uid) const { return entries.count(uid) > 0; }
};

// Parses the checkpoint JSON ({"policyName","defaultCpuSet","entries",...,"checksum"}); error text on failure.
struct CpuManagerStateParse {
  std::optional<CpuManagerState> state;
  std::string error;
};
CpuManagerStateParse parse_cpu_manager_state(std::string_view text);

}  // namespace slo::cpuset
