#include "agent/decide/runq/runq_metrics.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <tuple>

namespace slo::agent::runq {

bool PodLabels::operator<(const PodLabels& o) const {
  return std::tie(namespace_, pod, qos) < std::tie(o.namespace_, o.pod, o.qos);
}

namespace {
enum Column : size_t { kLatency, kP99, kThrottles };
}  // namespace

RunqMetrics::RunqMetrics(MetricsRegistry& registry)
    : pods_(std::make_shared<MetricTable>(
          std::vector<std::string>{"namespace", "pod", "qos"},
          std::vector<MetricTable::Column>{
              {"sloagent_pod_runq_latency_seconds",
               "Run-queue latency of the pod's tasks: time from becoming runnable to running on a CPU (BPF: every "
               "wait; schedstat fallback: per-task mean wait per interval)",
               MetricTable::Kind::histogram, bucket_bounds()},
              {"sloagent_pod_runq_latency_p99_seconds",
               "99th percentile of the pod's run-queue latency over the last controller interval"},
              {"sloagent_pod_cpu_throttle_events_total",
               "CFS bandwidth throttles that took a task of the pod off a CPU (BPF only; at most one per pod per 5 ms)",
               MetricTable::Kind::counter},
          })),
      source_(prometheus::BuildGauge()
                  .Name("sloagent_runq_source")
                  .Help("Active run-queue latency source (1 on the active one): bpf_tp_btf, bpf_raw_tp, schedstat")
                  .Register(registry)),
      lost_(prometheus::BuildCounter()
                .Name("sloagent_runq_lost_samples_total")
                .Help("Samples the BPF probe dropped in the kernel (reason: inflight_full, throttle_ring_full)")
                .Register(registry)) {
  registry.attach(pods_);
}

std::vector<double> RunqMetrics::bucket_bounds() {
  std::vector<double> b;
  for (int k = 0; k < bpf::kRunqBuckets - 1; k++) b.push_back(bpf::RunqHistogram::upper_bound_seconds(k));
  return b;
}

RunqMetrics::Series& RunqMetrics::series(const PodLabels& k) {
  auto it = series_.find(k);
  if (it != series_.end()) return it->second;
  Series s{&pods_->row({k.namespace_, k.pod, k.qos})};
  // All three series exist from the pod's first sample on (an empty histogram, p99 0, no throttles).
  pods_->observe(*s.row, kLatency, nullptr, 0, 0);
  pods_->set(*s.row, kP99, 0);
  pods_->add(*s.row, kThrottles, 0);
  return series_.emplace(k, s).first->second;
}

void RunqMetrics::observe(const PodLabels& k, const bpf::RunqHistogram& interval) { observe(series(k), interval); }

void RunqMetrics::observe(Series& s, const bpf::RunqHistogram& interval) {
  // One increment per finite bound plus the +Inf bucket: exactly our buckets (the last one is open-ended).
  pods_->observe(*s.row, kLatency, interval.buckets.data(), interval.buckets.size(),
                 static_cast<double>(interval.sum_ns) * 1e-9);
}

void RunqMetrics::set_p99(Series& s, double seconds) { pods_->set(*s.row, kP99, seconds); }
void RunqMetrics::set_p99(const PodLabels& k, double seconds) { set_p99(series(k), seconds); }

void RunqMetrics::count_throttle_events(Series& s, uint64_t n) {
  pods_->add(*s.row, kThrottles, static_cast<double>(n));
}
void RunqMetrics::count_throttle_events(const PodLabels& k, uint64_t n) { count_throttle_events(series(k), n); }

void RunqMetrics::set_source(const std::string& source) {
  if (source_series_) source_.Remove(source_series_);
  source_series_ = &source_.Add({{"source", source}});
  source_series_->Set(1);
}

void RunqMetrics::set_lost(const std::string& reason, uint64_t cumulative) {
  auto it = lost_series_.find(reason);
  if (it == lost_series_.end())
    it = lost_series_.emplace(reason, std::make_pair(&lost_.Add({{"reason", reason}}), uint64_t{0})).first;
  auto& [counter, last] = it->second;
  if (cumulative > last) counter->Increment(static_cast<double>(cumulative - last));
  last = cumulative;
}

void RunqMetrics::remove_pod(const PodLabels& k) {
  auto it = series_.find(k);
  if (it == series_.end()) return;
  pods_->remove(*it->second.row);
  series_.erase(it);
}

}  // namespace slo::agent::runq
