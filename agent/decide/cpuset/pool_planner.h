// Turns the node's pods into cpuset pools and per-pod pinned CPUs. Pure (no I/O): the controller feeds it the
// snapshot, kubelet's pinned CPUs and the previous tick's state, and turns the plan into knob intents.
//
// Pools:  reserved  config; only SYSTEM pods (systemPodsUseReserved)
//         LSE       exclusive: no other pod, not even BE, on these CPUs or their SMT siblings
//         LSR       exclusive among LS pods; BE may share
//         share     online − reserved − kubelet-pinned − LSE (+ siblings) − LSR: LS pods, unpinned LSE/LSR pods
//         BE        online − reserved − kubelet-pinned − LSE (+ siblings), narrowed by the BE CPU budget
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "agent/decide/cpuset/cpu_allocator.h"
#include "agent/decide/cpuset/cpuset_config.h"
#include "agent/model/pod.h"
#include "agent/model/topology.h"

namespace slo::cpuset {

constexpr std::string_view kResourceSpecAnnotation = "scheduling.koordinator.sh/resource-spec";

struct PodDemand {
  std::string key;  // ns/name
  std::string uid;
  model::QosClass qos = model::QosClass::LS;
  int64_t cpu_millis = 0;                    // requests (limits when no request) summed over containers
  std::optional<std::string> resource_status;  // scheduling.koordinator.sh/resource-status annotation (raw JSON)
  std::optional<std::string> resource_spec;    // scheduling.koordinator.sh/resource-spec annotation (raw JSON)
  std::optional<BindPolicy> preferred_policy;  // from resource-spec preferredCPUBindPolicy
  bool kubelet_pinned = false;                 // kubelet's static CPU manager owns this pod's cpusets

  bool operator==(const PodDemand&) const = default;
};

// Builds the demand of a pod from the model (annotations parsed leniently: a bad one only loses the preference).
PodDemand demand_of(const model::Pod& pod, bool kubelet_pinned);
// The same into an existing demand: its strings keep their capacity, and the resource-spec JSON is parsed again
// only when the raw annotation differs from the one `out` holds (the controller refills the last tick's demands).
void fill_demand(const model::Pod& pod, bool kubelet_pinned, PodDemand& out);

struct Pinned {
  cg::CpuSet cpus;
  model::QosClass qos = model::QosClass::LSR;
  std::string source;  // "scheduler", "local", "kept"
  std::string scope;   // allocator scope ("l3", "numa", …) or "scheduler"

  bool operator==(const Pinned&) const = default;
};

struct PlanInput {
  const model::Topology* topology = nullptr;
  CpusetConfig config;
  cg::CpuSet kubelet_pinned_cpus;
  std::vector<PodDemand> pods;
  std::map<std::string, Pinned> previous;  // pod key → last tick's pinned CPUs (stability, restarts)
  std::optional<double> be_budget_cores;   // Blackboard::be_cpu_budget_cores
  cg::CpuSet previous_be_pool;             // last tick's BE pool (bounded growth, stable choice)
};

struct Plan {
  cg::CpuSet online, reserved, kubelet_pinned, lse, lse_blocked, lsr, share, be, be_full;
  std::map<std::string, Pinned> pinned;       // pod key → CPUs (LSE/LSR pods that got an allocation)
  std::map<std::string, std::string> refused; // pod key → why it is not pinned (it runs in the share pool)
  std::string be_reason;                      // how the BE pool was sized this tick
  bool system_uses_reserved = true;

  // The cpuset a pod's cgroups should hold (its pin, or its pool); nullopt for pods we leave alone.
  std::optional<cg::CpuSet> cpus_for(const PodDemand& d) const;
};

Plan plan_pools(const PlanInput& in);

// plan_pools in its two stages, so a caller can redo only the second when only the budget or the last BE pool
// changed. Stage 1 (pins, refusals, every pool but the budgeted BE pool) reads topology, config, kubelet_pinned_cpus,
// pods and previous; stage 2 sets `be` and `be_reason` from be_budget_cores, previous_be_pool and stage 1's be_full
// and lsr. plan_pools(in) == plan_be(in, plan_pins(in)).
Plan plan_pins(const PlanInput& in);
void plan_be(const PlanInput& in, Plan& plan);

void to_json(nlohmann::json& j, const Plan& p);

}  // namespace slo::cpuset
