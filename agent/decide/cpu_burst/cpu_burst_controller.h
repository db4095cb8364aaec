// CPU burst for LS pods with a CPU limit: the kernel's CFS burst for short spikes and a dynamic CFS quota for
// sustained ones, under a node guard (docs/cpu-burst.md). Level-triggered: every tick it states the complete set of
// quota/burst values it wants; the executor restores whatever it stops claiming (policy off, pod gone, pod no longer
// eligible, or another owner — a Cgroups CR or the cpuset controller's pinning — takes the cgroup).
//
// Cost: decide() runs every 100 ms over every pod, so everything a tick would otherwise rebuild per pod (knob refs,
// metric series, reason texts, the pod's memory) is kept per pod and per cgroup and rebuilt only when its inputs
// change; the decision history is kept as compact records and rendered as JSON only by explain().
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "agent/decide/cpu_burst/burst_metrics.h"
#include "agent/decide/cpu_burst/burst_policy.h"
#include "agent/decide/cpu_burst/cpu_window.h"
#include "agent/decide/cpu_burst/node_guard.h"
#include "agent/decide/cpu_burst/quota_scaler.h"
#include "agent/runtime/controller.h"

namespace slo::agent::cpu_burst {

class CpuBurstController : public Controller {
 public:
  // Decision records kept per pod for explain() (oldest dropped first).
  static constexpr size_t kDecisionsPerPod = 64;
  // With a throttle event source, an unraised container is read every tick for this long after its pod's last
  // throttle event or its last window at pressure; otherwise at the slow tick only (docs/cpu-burst.md, hot reads).
  static constexpr std::chrono::milliseconds kHotAfterEvent{1000};

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
  using Path = cg::CgroupPath;  // shared by its slot, its knob ref, its decision records and the pod model

  struct CgroupState {
    QuotaScaler scaler;
    std::optional<CpuSample> last;
    std::optional<CpuWindow> window;  // last tick's
    std::chrono::steady_clock::time_point hot_until{};  // read every tick until then (throttled, or at pressure)
  };
  // One cgroup of a pod (the pod's own or a container's) and what is cached for it.
  struct CgroupSlot {
    Path path;
    cg::KnobRef ref;         // {path, knob}: the knob is set before each use
    std::string container;   // spec name; "" for the pod-level cgroup
    BurstMetrics::Series* series = nullptr;  // nullptr until first set, and after the pod's series are removed
    std::optional<CgroupState> state;        // quota scaler (containers only)
    // The burst reason depends only on cpuBurstPercent and the quota it is sized on.
    int64_t burst_reason_percent = -1, burst_reason_quota = -1;
    std::string burst_reason;
    int64_t clamp_checked_want = -1;  // last clamped value looked up in clamp_reported_
    // Original period and quota as the knob view last answered, while its epoch is unchanged and for at most
    // KnobView::kRefreshAfter: asking every 100 ms for every LS cgroup was a sixth of the daemon's CPU.
    uint64_t orig_epoch = 0;
    std::chrono::steady_clock::time_point orig_at{};
    std::optional<int64_t> orig_period, orig_quota;
    // The pod quota's reason depends on the value and the raised containers' names (pod slot only).
    bool quota_reason_valid = false;
    int64_t quota_reason_value = 0;
    std::string quota_reason_names, quota_reason;
  };
  struct Held {
    Path path;
    cg::Knob knob;
    int64_t value;
  };
  // One explain() entry; rendered as JSON on demand (see render()).
  struct Decision {
    enum class Kind : uint8_t { knob, released, not_managed, managed, no_kernel_burst, annotation_ignored };
    Kind kind = Kind::knob;
    cg::Knob knob = cg::Knob::cpu_quota;
    bool has_previous = false;
    bool timed = true;  // "tick" and "time" present
    uint64_t tick = 0;
    std::chrono::system_clock::time_point wall{};
    int64_t value = 0, previous = 0;
    Path cgroup;
    std::string reason;
    std::unique_ptr<BurstPolicy> policy;  // kind managed
  };
  struct Annotation {
    std::string text;
    PolicyParse parsed;
  };
  // Why a pod is not managed, compared each tick without building the message.
  enum class Why : uint8_t { managed, finished, qos, no_cgroup, cr_owned, pinned, policy_none, no_limited };
  struct Verdict {
    Why why = Why::managed;
    model::QosClass qos = model::QosClass::LS;
    const std::string* detail = nullptr;  // phase or cgroup path
  };
  struct PodMemory {
    std::string ns, name;
    uint64_t seen_tick = 0;
    std::vector<Decision> decisions;  // newest last, bounded
    std::vector<Held> held;           // claimed this tick
    std::vector<Held> prev;           // … and the tick before (to record changes only)
    std::string status;               // last eligibility verdict ("managed", "step aside: …")
    bool verdict_valid = false;       // status was rendered from verdict_*
    Why verdict_why = Why::managed;
    model::QosClass verdict_qos = model::QosClass::LS;
    std::string verdict_detail;
    std::string status_text;          // describe() of the verdict_* above
    std::optional<Annotation> annotation;
    CgroupSlot pod_slot;
    std::vector<CgroupSlot> containers;  // parallel to PodState::containers after sync_slots() (eligible pods only)
    uint64_t slots_generation = 0;       // Snapshot::pods_generation the slots were matched against
    std::optional<std::map<std::string, uint64_t, std::less<>>::iterator> guard_entry;  // in guard_in_
    bool noted_no_kernel_burst = false;  // said once in explain()
    bool has_series = false;  // metric series exist: removing them scans every series, so only when there are some
  };
  struct Managed {
    const ContainerState* cs;
    CgroupSlot* slot;
    int64_t period_us, orig_us, quota_us;
  };

  void decide_pod(const Snapshot& snap, const PodState& ps, Blackboard& board, IntentSink& out, PodMemory& mem);
  Verdict ineligible(const PodState& ps, const Blackboard& board) const;
  static std::string describe(const Verdict& v);
  const std::string& status_of(PodMemory& mem, const Verdict& v);
  const BurstPolicy& effective_policy(const model::Pod& pod, PodMemory& mem);
  static void sync_slots(const Snapshot& snap, const PodState& ps, PodMemory& mem);
  BurstMetrics::Series& series_of(const PodState& ps, CgroupSlot& slot);
  void drop_series(PodMemory& mem);
  void emit(IntentSink& out, PodMemory& mem, const Snapshot& snap, CgroupSlot& slot, cg::Knob knob, int64_t value,
            const std::string& reason);
  void record(PodMemory& mem, const Snapshot& snap, Decision d);
  void record_releases(PodMemory& mem, const Snapshot& snap);
  std::optional<int64_t> original_of(const Snapshot& snap, CgroupSlot& slot, cg::Knob knob) const;
  // Refreshes slot.orig_period / orig_quota when the cached answers may be stale.
  void refresh_originals(const Snapshot& snap, CgroupSlot& slot) const;
  void update_guard_input(const PodState& ps, const Blackboard& board, PodMemory& mem);
  PodMemory& memory_for(const PodState& ps, size_t index);
  void forget_pod(std::map<std::string, PodMemory, std::less<>>::iterator it);
  static nlohmann::json render(const Decision& d);

  BurstPolicy policy_;
  bool kernel_burst_ = false;
  bool kernel_burst_known_ = false;
  NodeGuard guard_;
  GuardInput guard_in_;  // kept across ticks: pods' entries are updated in place
  std::unique_ptr<BurstMetrics> metrics_;
  std::map<std::string, PodMemory, std::less<>> pods_;  // by pod key
  std::set<std::string> clamp_reported_;                 // "cgroup=value" reported once
  uint64_t ticks_ = 0;
  // Per-tick scratch, kept for their capacity.
  std::vector<PodMemory*> by_index_;  // pods_ entry of snap.pods[i] last tick (checked before use)
  std::vector<PodMemory*> mems_;      // … this tick
  std::vector<Managed> managed_;
  std::string key_buf_, pod_reason_;
};

}  // namespace slo::agent::cpu_burst
