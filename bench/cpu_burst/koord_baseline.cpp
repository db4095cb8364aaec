#include "bench/cpu_burst/koord_baseline.h"

#include <algorithm>

namespace slo::bench::cpu_burst {

using agent::cpu_burst::GuardState;

std::optional<std::string> KoordBaseline::configure(const nlohmann::json& policy) {
  auto p = agent::cpu_burst::parse_node_policy(policy);
  if (p.error) return p.error;
  policy_ = p.policy;
  return std::nullopt;
}

void KoordBaseline::decide(const agent::Snapshot& snap, agent::Blackboard&, agent::IntentSink& out) {
  agent::cpu_burst::GuardInput in;
  in.now = snap.now;
  in.capacity_cores = snap.node.cpu_capacity_cores;
  in.node_busy_ns = snap.node.cpu_busy_ns;
  const GuardState node = guard_.update(in, policy_.share_pool_threshold_percent);
  if (!policy_.quota_scaling()) return;

  for (const auto& ps : snap.pods) {
    if (ps.pod.qos != model::QosClass::LS || ps.cgroup.empty()) continue;
    int64_t pod_orig = 0, delta = 0;
    if (snap.knobs)
      if (auto v = snap.knobs->original({ps.cgroup, cg::Knob::cpu_quota, {}})) pod_orig = cg::as_int(*v);
    for (const auto& cs : ps.containers) {
      if (!cs.spec.limits.cpu_millis || cs.cgroup.empty() || !snap.knobs) continue;
      auto ov = snap.knobs->original({cs.cgroup, cg::Knob::cpu_quota, {}});
      if (!ov || cg::as_int(*ov) <= 0) continue;
      const int64_t orig = cg::as_int(*ov);
      const int64_t cap = orig * policy_.cfs_quota_burst_percent / 100;
      auto& st = state_[cs.cgroup];
      if (st.quota_us == 0) st.quota_us = orig;
      bool throttled = false;
      if (cs.stats.cpu_stat) {
        agent::cpu_burst::CpuSample s{cs.stats.cpu_stat_at, cs.stats.cpu_stat->nr_periods,
                                      cs.stats.cpu_stat->nr_throttled, cs.stats.cpu_stat->throttled_ns,
                                      cs.stats.cpu_usage_ns};
        if (st.last)
          if (auto w = agent::cpu_burst::window_between(*st.last, s)) throttled = w->throttled();
        st.last = s;
      }
      if (node == GuardState::overload) {
        st.quota_us = std::max(orig, int64_t(double(st.quota_us) * 0.8));
      } else if ((node == GuardState::idle || node == GuardState::unknown) && throttled) {
        st.quota_us = std::min(cap, int64_t(double(st.quota_us) * 1.2));
      }
      if (st.quota_us > orig) {
        if (!st.raised_since) st.raised_since = snap.now;
        if (policy_.cfs_quota_burst_period_seconds > 0 &&
            snap.now - *st.raised_since >= std::chrono::seconds(policy_.cfs_quota_burst_period_seconds)) {
          st.quota_us = orig;
          st.raised_since.reset();
        }
      } else {
        st.raised_since.reset();
      }
      delta += st.quota_us - orig;
      out.set({cs.cgroup, cg::Knob::cpu_quota, {}}, cg::KnobValue{st.quota_us}, "koordinator baseline");
    }
    if (pod_orig > 0)
      out.set({ps.cgroup, cg::Knob::cpu_quota, {}}, cg::KnobValue{pod_orig + delta}, "koordinator baseline");
  }
}

}  // namespace slo::bench::cpu_burst
