#include "agent/decide/cpu_burst/burst_metrics.h"

#include <tuple>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

namespace slo::agent::cpu_burst {

bool SeriesKey::operator<(const SeriesKey& o) const {
  return std::tie(namespace_, pod, container, qos) < std::tie(o.namespace_, o.pod, o.container, o.qos);
}

BurstMetrics::BurstMetrics(prometheus::Registry& r)
    : quota_(prometheus::BuildGauge()
                 .Name("sloagent_cpu_burst_quota_cores")
                 .Help("CFS quota held by the CPU burst controller, in CPUs (quota / period)")
                 .Register(r)),
      original_(prometheus::BuildGauge()
                    .Name("sloagent_cpu_burst_original_quota_cores")
                    .Help("CFS quota before the agent changed it, in CPUs (quota / period)")
                    .Register(r)),
      burst_(prometheus::BuildGauge()
                 .Name("sloagent_cpu_burst_burst_seconds")
                 .Help("Kernel CFS burst (cpu.cfs_burst_us / cpu.max.burst) held, in seconds per period")
                 .Register(r)),
      throttled_(prometheus::BuildGauge()
                     .Name("sloagent_cpu_burst_throttled_ratio")
                     .Help("Throttled CFS periods / elapsed periods over the last tick")
                     .Register(r)),
      raises_(prometheus::BuildCounter()
                  .Name("sloagent_cpu_burst_quota_raises_total")
                  .Help("Times the controller raised a container's quota because it was throttled")
                  .Register(r)),
      guard_(prometheus::BuildGauge()
                 .Name("sloagent_cpu_burst_node_guard_state")
                 .Help("Node guard state: 1 for the current state (unknown, idle, cooling, overload), 0 otherwise")
                 .Register(r)) {
  share_pool_ = &prometheus::BuildGauge()
                     .Name("sloagent_cpu_burst_share_pool_usage_ratio")
                     .Help("Share-pool CPU usage / share-pool CPUs, as seen by the node guard")
                     .Register(r)
                     .Add({});
  clamped_ = &prometheus::BuildCounter()
                  .Name("sloagent_cpu_burst_clamped_total")
                  .Help("Configured burst values lowered to what the kernel accepts (counted once per cgroup/value)")
                  .Register(r)
                  .Add({});
  annotation_errors_ = &prometheus::BuildCounter()
                            .Name("sloagent_cpu_burst_annotation_errors_total")
                            .Help("koordinator.sh/cpuBurst annotations ignored as invalid (once per pod/value)")
                            .Register(r)
                            .Add({});
  for (auto s : {GuardState::unknown, GuardState::idle, GuardState::cooling, GuardState::overload})
    guard_states_[s] = &guard_.Add({{"state", std::string(to_string(s))}});
  set_guard(GuardState::unknown, std::nullopt);
}

static std::map<std::string, std::string> labels_of(const SeriesKey& k) {
  return {{"namespace", k.namespace_}, {"pod", k.pod}, {"container", k.container}, {"qos", k.qos}};
}

BurstMetrics::Series& BurstMetrics::series(const SeriesKey& k) {
  auto [it, fresh] = series_.try_emplace(k);
  if (fresh) it->second.key = &it->first;
  return it->second;
}

void BurstMetrics::set_quota(Series& s, double q, double orig) {
  if (!s.quota) {
    auto labels = labels_of(*s.key);
    s.quota = &quota_.Add(labels);
    s.original = &original_.Add(labels);
  }
  if (q != s.last_quota) s.quota->Set(s.last_quota = q);
  if (orig != s.last_original) s.original->Set(s.last_original = orig);
}

void BurstMetrics::set_burst(Series& s, double b) {
  if (!s.burst) s.burst = &burst_.Add(labels_of(*s.key));
  if (b != s.last_burst) s.burst->Set(s.last_burst = b);
}

void BurstMetrics::set_throttled_ratio(Series& s, double r) {
  if (!s.throttled) s.throttled = &throttled_.Add(labels_of(*s.key));
  if (r != s.last_throttled) s.throttled->Set(s.last_throttled = r);
}

void BurstMetrics::count_raise(Series& s) {
  if (!s.raises) s.raises = &raises_.Add(labels_of(*s.key));
  s.raises->Increment();
}

void BurstMetrics::count_clamp() { clamped_->Increment(); }
void BurstMetrics::count_annotation_error() { annotation_errors_->Increment(); }

void BurstMetrics::set_guard(GuardState st, std::optional<double> ratio) {
  for (auto& [s, g] : guard_states_) g->Set(s == st ? 1 : 0);
  share_pool_->Set(ratio.value_or(0));
}

void BurstMetrics::remove_pod(const std::string& ns, const std::string& pod) {
  for (auto it = series_.begin(); it != series_.end();) {
    if (it->first.namespace_ != ns || it->first.pod != pod) {
      ++it;
      continue;
    }
    auto& s = it->second;
    if (s.quota) quota_.Remove(s.quota);
    if (s.original) original_.Remove(s.original);
    if (s.burst) burst_.Remove(s.burst);
    if (s.throttled) throttled_.Remove(s.throttled);
    if (s.raises) raises_.Remove(s.raises);
    it = series_.erase(it);
  }
}

}  // namespace slo::agent::cpu_burst
