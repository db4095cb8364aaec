// The cpuset controller's policy: JSON section "cpusetStrategy" (field names in docs/config-cpuset.md).
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "agent/decide/cpuset/cpu_allocator.h"
#include "cgroups/cpu_set.h"

namespace slo::cpuset {

struct CpusetConfig {
  bool enable = true;
  cg::CpuSet reserved;                             // reservedCpus: no pod but SYSTEM pods runs here
  BindPolicy bind_policy = BindPolicy::FullPCPUs;  // cpuBindPolicy (a pod's resource-spec annotation may override)
  bool unset_quota_for_pinned = true;              // unsetQuotaForPinned: CFS quota -1 on pinned pods
  bool respect_scheduler_decision = true;          // respectSchedulerDecision: apply resource-status cpusets
  bool system_pods_use_reserved = true;            // systemPodsUseReserved: SYSTEM pods get reserved + share pool
  int be_min_cpus = 1;                             // beMinCpus: the BE pool never shrinks below this
  int be_max_growth_cpus_per_tick = 2;             // beMaxGrowthCpusPerTick: bounded BE pool growth
  int period_ms = 1000;                            // periodSeconds × 1000

  bool operator==(const CpusetConfig&) const = default;
};

// Reads policy["cpusetStrategy"] (absent → defaults). Errors name the field: "cpusetStrategy.reservedCpus: …".
std::optional<std::string> parse_cpuset_config(const nlohmann::json& policy, CpusetConfig& out);

}  // namespace slo::cpuset
