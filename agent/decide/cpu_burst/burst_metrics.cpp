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

namespace {
enum Column : size_t { kQuota, kOriginal, kBurst, kThrottled, kRaises };
}  // namespace

BurstMetrics::BurstMetrics(MetricsRegistry& r)
    : cgroups_(std::make_shared<MetricTable>(
          std::vector<std::string>{"container", "namespace", "pod", "qos"},
          std::vector<MetricTable::Column>{
              {"sloagent_cpu_burst_quota_cores", "CFS quota held by the CPU burst controller, in CPUs (quota / period)"},
              {"sloagent_cpu_burst_original_quota_cores",
               "CFS quota before the agent changed it, in CPUs (quota / period)"},
              {"sloagent_cpu_burst_burst_seconds",
               "Kernel CFS burst (cpu.cfs_burst_us / cpu.max.burst) held, in seconds per period"},
              {"sloagent_cpu_burst_throttled_ratio", "Throttled CFS periods / elapsed periods over the last tick"},
              {"sloagent_cpu_burst_quota_raises_total",
               "Times the controller raised a container's quota because it was throttled", MetricTable::Kind::counter},
          })),
      guard_(prometheus::BuildGauge()
                 .Name("sloagent_cpu_burst_node_guard_state")
                 .Help("Node guard state: 1 for the current state (unknown, idle, cooling, overload), 0 otherwise")
                 .Register(r)) {
  r.attach(cgroups_);
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

BurstMetrics::Series& BurstMetrics::series(const SeriesKey& k) {
  auto [it, fresh] = series_.try_emplace(k);
  if (fresh) it->second.row = &cgroups_->row({k.container, k.namespace_, k.pod, k.qos});
  return it->second;
}

void BurstMetrics::set_quota(Series& s, double q, double orig) {
  if (q != s.last_quota) cgroups_->set(*s.row, kQuota, s.last_quota = q);
  if (orig != s.last_original) cgroups_->set(*s.row, kOriginal, s.last_original = orig);
}

void BurstMetrics::set_burst(Series& s, double b) {
  if (b != s.last_burst) cgroups_->set(*s.row, kBurst, s.last_burst = b);
}

void BurstMetrics::set_throttled_ratio(Series& s, double r) {
  if (r != s.last_throttled) cgroups_->set(*s.row, kThrottled, s.last_throttled = r);
}

void BurstMetrics::count_raise(Series& s) { cgroups_->add(*s.row, kRaises, 1); }

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
    cgroups_->remove(*it->second.row);
    it = series_.erase(it);
  }
}

}  // namespace slo::agent::cpu_burst
