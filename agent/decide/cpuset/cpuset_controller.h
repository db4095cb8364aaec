// The cpuset controller (issue 5): reserved / LSE / LSR / share / BE pools, pinned pods, kubelet coexistence.
// Decides on the tick's snapshot and emits cpuset_cpus intents for pod, container and QoS-tier cgroups (the
// executor's OrderedWriter widens parents first and narrows children first), plus cpu_quota -1 for pinned pods.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

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

  CpusetConfig cfg_;
  Plan plan_;
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
  std::map<std::string, std::string> reasons_;  // pod key → what the controller did with it
  std::unique_ptr<CpusetMetrics> metrics_;
};

}  // namespace slo::cpuset
