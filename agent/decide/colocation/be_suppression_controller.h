// BE suppression and eviction (order 20). Every period (default two CFS periods) it computes how much CPU the BE
// tier may use — capacity × cpuSuppressThresholdPercent − LS usage − max(system usage, reserved), shrunk further
// while an LS pod breaches its run-queue latency SLO — and applies it per cpuSuppressPolicy: `cpuset` publishes the
// budget on the Blackboard for the cpuset controller to narrow the BE pool; `cfsQuota` claims the besteffort tier's
// CFS quota. Switching policy or disabling simply stops the claim, and the executor restores the original.
// Under memory pressure it evicts BE pods through ClusterActions (report-only standalone), with a cooldown.
#pragma once

#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "agent/decide/colocation/be_budget.h"
#include "agent/decide/colocation/colocation_config.h"
#include "agent/decide/colocation/node_usage.h"
#include "agent/runtime/cluster_actions.h"
#include "agent/runtime/controller.h"

namespace prometheus {
template <typename T>
class Family;
class Gauge;
class Counter;
}  // namespace prometheus

namespace slo::colocation {

class BeSuppressionController : public agent::Controller {
 public:
  std::string_view name() const override { return "BeSuppression"; }
  agent::Capability probe(const agent::HostInfo& host) override;
  void init(agent::ControllerContext& ctx) override;
  std::optional<std::string> configure(const nlohmann::json& policy) override;
  // Called every tick: the budget is recomputed every periodMillis and held (restated) in between, so that the
  // cpuset controller finds it on the Blackboard whichever tick it decides in.
  std::chrono::milliseconds period() const override { return std::chrono::milliseconds(1); }
  void decide(const agent::Snapshot& snap, agent::Blackboard& board, agent::IntentSink& out) override;
  nlohmann::json status() const override;
  nlohmann::json explain(const std::string& pod_key) const override;

  // For tests and benchmarks: the last decision.
  struct Decision {
    double ls_usage_cores = 0, be_usage_cores = 0, system_usage_cores = 0;
    double watermark_budget = 0;
    std::optional<double> interference_cap;
    double budget = 0;
    bool breached = false;
    std::string policy;
  };
  const Decision& last() const { return last_; }
  void set_cluster(agent::ClusterActions* c) { cluster_ = c; }

 private:
  void mark_hot(const agent::Snapshot& snap, agent::Blackboard& board);
  void evict_if_needed(const agent::Snapshot& snap);
  void log_budget_change(std::chrono::steady_clock::time_point now, double budget, double ls);
  bool breached(const agent::Snapshot& snap, const agent::Blackboard& board) const;

  ThresholdConfig cfg_;
  NodeUsage usage_;
  BudgetSmoother smoother_;
  InterferenceCap interference_;
  Decision last_;
  std::optional<std::chrono::steady_clock::time_point> last_decided_;
  std::optional<std::chrono::steady_clock::time_point> last_called_;  // previous decide() (≈ the tick interval)
  std::string kubepods_, besteffort_;  // tier cgroups of the layout last seen
  std::optional<std::pair<cg::KnobRef, cg::KnobValue>> held_quota_;  // cfsQuota claim of the last decision
  std::string held_reason_;
  std::optional<double> logged_budget_;
  std::chrono::steady_clock::time_point logged_at_{};
  std::chrono::steady_clock::time_point last_eviction_{};
  std::map<std::string, std::deque<nlohmann::json>> decisions_;  // pod key → evictions (bounded)
  agent::ClusterActions* cluster_ = nullptr;
  prometheus::Gauge* budget_gauge_ = nullptr;
  prometheus::Gauge* ls_usage_gauge_ = nullptr;
  prometheus::Gauge* state_cpuset_ = nullptr;
  prometheus::Gauge* state_cfs_quota_ = nullptr;
  prometheus::Family<prometheus::Counter>* evictions_family_ = nullptr;
};

}  // namespace slo::colocation
