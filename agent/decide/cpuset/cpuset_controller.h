// The cpuset controller (issue 5): reserved / LSE / LSR / share / BE pools, pinned pods, kubelet coexistence.
// Decides on the tick's snapshot and emits cpuset_cpus intents for pod, container and QoS-tier cgroups (the
// executor's OrderedWriter widens parents first and narrows children first), plus cpu_quota -1 for pinned pods.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/decide/cpuset/cpu_manager_state.h"
#include "agent/decide/cpuset/cpuset_config.h"
#include "agent/decide/cpuset/pin_store.h"
#include "agent/decide/cpuset/pool_planner.h"
#include "agent/runtime/controller.h"

namespace slo::cpuset {

class CpusetMetrics;

class CpusetController : public agent::Controller {
 public:
  CpusetController();
  ~CpusetController() override;

  std::string_view name() const override { return "cpuset"; }
  agent::Capability probe(const agent::HostInfo& host) override;
  void init(agent::ControllerContext& ctx) override;
  std::optional<std::string> configure(const nlohmann::json& policy) override;
  std::chrono::milliseconds period() const override { return std::chrono::milliseconds(cfg_.period_ms); }
  void decide(const agent::Snapshot& snap, agent::Blackboard& board, agent::IntentSink& out) override;
  nlohmann::json status() const override;
  nlohmann::json explain(const std::string& pod_key) const override;

  const Plan& last_plan() const { return plan_; }
  const CpusetConfig& config() const { return cfg_; }

 private:
  void refresh_kubelet_state(const std::string& path);
  void load_pins(const agent::HostInfo& host);
  // Fills next_ from the snapshot (demands refilled in place) and pod_demand_.
  void build_input(const agent::Snapshot& snap, const agent::HostInfo& host);
  // The cpuset a pod's cgroups get (its pin or its pool; nullptr: left alone) and, through *pin, its pin if any.
  const cg::CpuSet* cpus_of(const PodDemand& d, const Pinned** pin) const;
  // Why the pod gets cpus_of(d): the intent reason (without the CPUs).
  std::string reason_of(const PodDemand& d, const Pinned* pin) const;

  CpusetConfig cfg_;
  // The plan is a pure function of its input (plan_pools): in_ is the input plan_ was made from, next_ the one being
  // built this tick (both kept so their strings and vectors are reused). Stage 1 (pins and pools) runs only when
  // topology, config, kubelet pins, pods or previous pins changed; stage 2 (the budgeted BE pool) only when that
  // or the budget or the last BE pool did. A node whose pods do not change therefore plans nothing.
  Plan plan_;
  PlanInput in_, next_;
  bool planned_ = false;
  std::optional<model::Topology> planned_topology_;  // topology of in_ (HostInfo may be replaced in place)
  std::vector<int> pod_demand_;  // index in snap.pods → index in next_.pods (then in_.pods); -1: terminal
  cg::CpuSet system_cpus_;       // share | reserved, the pool of SYSTEM pods when they use the reserved CPUs
  PinMap pins_;
  bool pins_loaded_ = false;
  std::optional<PinStore> store_;
  cg::CpuSet prev_be_;
  std::optional<double> last_budget_;
  std::chrono::steady_clock::time_point last_budget_at_{};
  // kubelet cpu_manager_state, re-read when its mtime or size changes.
  std::optional<CpuManagerState> kubelet_;
  std::string kubelet_path_;
  int64_t kubelet_mtime_ns_ = -1;
  int64_t kubelet_size_ = -1;
  std::unique_ptr<CpusetMetrics> metrics_;
};

}  // namespace slo::cpuset
