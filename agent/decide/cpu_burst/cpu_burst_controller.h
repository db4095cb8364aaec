// CPU burst for LS pods with a CPU limit: the kernel's CFS burst for short spikes and a dynamic CFS quota for
// sustained ones, under a node guard (docs/cpu-burst.md). Level-triggered: every tick it states the complete set of
// quota/burst values it wants; the executor restores whatever it stops claiming (policy off, pod gone, pod no longer
// eligible, or another owner — a Cgroups CR or the cpuset controller's pinning — takes the cgroup).
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "agent/decide/cpu_burst/burst_metrics.h"
#include "agent/decide/cpu_burst/burst_policy.h"
#include "agent/decide/cpu_burst/cpu_window.h"
#include "agent/decide/cpu_burst/node_guard.h"
#include "agent/decide/cpu_burst/quota_scaler.h"
#include "agent/runtime/controller.h"

namespace slo::agent::cpu_burst {

class CpuBurstController : public Controller {
 public:
  std::string_view name() const override { return "CpuBurst"; }
  Capability probe(const HostInfo& host) override;
  void init(ControllerContext& ctx) override;
  std::optional<std::string> configure(const nlohmann::json& policy) override;
  std::chrono::milliseconds period() const override;
  void decide(const Snapshot& snap, Blackboard& board, IntentSink& out) override;
  nlohmann::json status() const override;
  nlohmann::json explain(const std::string& pod_key) const override;

  const BurstPolicy& policy() const { return policy_; }
  GuardState guard_state() const { return guard_.state(); }

 private:
  struct CgroupState {
    QuotaScaler scaler;
    std::optional<CpuSample> last;
    std::optional<CpuWindow> window;  // last tick's
  };
  struct Annotation {
    std::string text;
    std::optional<PolicyParse> parsed;  // nullopt until first parsed
  };
  struct PodMemory {
    std::deque<nlohmann::json> decisions;  // newest last, bounded
    std::map<std::string, int64_t> held;   // knob ref string → value claimed this tick
    std::map<std::string, int64_t> prev;   // … and the tick before (to log changes only)
    std::string status;                    // last eligibility verdict ("managed", "step aside: …")
    std::string ns, name;
    bool noted_no_kernel_burst = false;  // said once in explain()
    bool has_series = false;  // metric series exist: removing them scans every series, so only when there are some
  };

  void decide_pod(const Snapshot& snap, const PodState& ps, Blackboard& board, IntentSink& out, PodMemory& mem);
  std::optional<std::string> ineligible(const PodState& ps, const Blackboard& board) const;
  const BurstPolicy& effective_policy(const model::Pod& pod, PodMemory& mem);
  void emit(IntentSink& out, PodMemory& mem, const Snapshot& snap, const cg::KnobRef& ref, int64_t value,
            const std::string& reason);
  void record(PodMemory& mem, const Snapshot& snap, nlohmann::json entry);
  std::optional<int64_t> original_of(const Snapshot& snap, const cg::KnobRef& ref) const;
  void update_guard(const Snapshot& snap, const Blackboard& board);
  void forget_pod(const std::string& key);

  BurstPolicy policy_;
  bool kernel_burst_ = false;
  bool kernel_burst_known_ = false;
  NodeGuard guard_;
  std::unique_ptr<BurstMetrics> metrics_;
  std::map<std::string, CgroupState> cgroups_;  // by cgroup path
  std::map<std::string, Annotation> annotations_;  // by pod key
  std::map<std::string, PodMemory> pods_;          // by pod key
  std::set<std::string> clamp_reported_;           // "cgroup=value" reported once
  uint64_t ticks_ = 0;
};

}  // namespace slo::agent::cpu_burst
