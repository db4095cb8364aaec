// BASELINE, not ours: a re-implementation, from its public documentation, of koordinator's (koordlet) user-space
// CFS quota scaling for CPU burst, used only by the benchmarks to compare against. Not registered in the agent.
//   - one decision per second (koordlet's CPU burst reconcile interval);
//   - node state (idle / cooling / overload) from share-pool usage over a 5 s window, same thresholds;
//   - per container, throttled in the last second (Δnr_throttled > 0) and node idle → quota × 1.2, capped at
//     cfsQuotaBurstPercent of the original; node overload → quota × 0.8, floored at the original; otherwise remain;
//   - cfsQuotaBurstPeriodSeconds > 0: a raised container goes back to the original once it has been raised that
//     long (-1 = unlimited).
// The kernel burst part is left out on purpose: koordlet's default cpuBurstPercent (1000 %) is rejected by
// upstream kernels (burst must be <= quota), so on them the quota scaling is what koordinator effectively does.
#pragma once

#include <chrono>
#include <map>
#include <optional>

#include "agent/decide/cpu_burst/burst_policy.h"
#include "agent/decide/cpu_burst/cpu_window.h"
#include "agent/decide/cpu_burst/node_guard.h"
#include "agent/runtime/controller.h"

namespace slo::bench::cpu_burst {

class KoordBaseline : public agent::Controller {
 public:
  KoordBaseline() : guard_(std::chrono::seconds(5)) {}
  std::string_view name() const override { return "KoordinatorBaseline"; }
  agent::Capability probe(const agent::HostInfo&) override { return {}; }
  std::optional<std::string> configure(const nlohmann::json& policy) override;
  std::chrono::milliseconds period() const override { return std::chrono::seconds(1); }
  void decide(const agent::Snapshot& snap, agent::Blackboard& board, agent::IntentSink& out) override;

 private:
  struct State {
    std::optional<agent::cpu_burst::CpuSample> last;
    int64_t quota_us = 0;
    std::optional<std::chrono::steady_clock::time_point> raised_since;
  };
  agent::cpu_burst::BurstPolicy policy_;
  agent::cpu_burst::NodeGuard guard_;
  std::map<std::string, State> state_;
};

}  // namespace slo::bench::cpu_burst
