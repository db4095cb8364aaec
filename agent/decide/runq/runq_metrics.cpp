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

RunqMetrics::RunqMetrics(prometheus::Registry& registry)
    : latency_(prometheus::BuildHistogram()
                   .Name("sloagent_pod_runq_latency_seconds")
                   .Help("Run-queue latency of the pod's tasks: time from becoming runnable to running on a CPU "
                         "(BPF: every wait; schedstat fallback: per-task mean wait per interval)")
                   .Register(registry)),
      p99_(prometheus::BuildGauge()
               .Name("sloagent_pod_runq_latency_p99_seconds")
               .Help("99th percentile of the pod's run-queue latency over the last controller interval")
               .Register(registry)),
      throttles_(prometheus::BuildCounter()
                     .Name("sloagent_pod_cpu_throttle_events_total")
                     .Help("CFS bandwidth throttles that took a task of the pod off a CPU (BPF only; at most one per "
                           "pod per 5 ms)")
                     .Register(registry)),
      source_(prometheus::BuildGauge()
                  .Name("sloagent_runq_source")
                  .Help("Active run-queue latency source (1 on the active one): bpf_tp_btf, bpf_raw_tp, schedstat")
                  .Register(registry)),
      lost_(prometheus::BuildCounter()
                .Name("sloagent_runq_lost_samples_total")
                .Help("Samples the BPF probe dropped in the kernel (reason: inflight_full, throttle_ring_full)")
                .Register(registry)) {}

std::vector<double> RunqMetrics::bucket_bounds() {
  std::vector<double> b;
  for (int k = 0; k < bpf::kRunqBuckets - 1; k++) b.push_back(bpf::RunqHistogram::upper_bound_seconds(k));
  return b;
}

RunqMetrics::Series& RunqMetrics::series(const PodLabels& k) {
  auto it = series_.find(k);
  if (it != series_.end()) return it->second;
  std::map<std::string, std::string> labels = {{"namespace", k.namespace_}, {"pod", k.pod}, {"qos", k.qos}};
  Series s;
  s.latency = &latency_.Add(labels, bucket_bounds());
  s.p99 = &p99_.Add(labels);
  s.throttles = &throttles_.Add(labels);
  return series_.emplace(k, s).first->second;
}

void RunqMetrics::observe(const PodLabels& k, const bpf::RunqHistogram& interval) { observe(series(k), interval); }

void RunqMetrics::observe(Series& s, const bpf::RunqHistogram& interval) {
  // One increment per finite bound plus the +Inf bucket: exactly our buckets (the last one is open-ended).
  increments_.clear();
  for (uint64_t c : interval.buckets) increments_.push_back(static_cast<double>(c));
  s.latency->ObserveMultiple(increments_, static_cast<double>(interval.sum_ns) * 1e-9);
}

void RunqMetrics::set_p99(const PodLabels& k, double seconds) { series(k).p99->Set(seconds); }

void RunqMetrics::count_throttle_events(const PodLabels& k, uint64_t n) {
  series(k).throttles->Increment(static_cast<double>(n));
}

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
  latency_.Remove(it->second.latency);
  p99_.Remove(it->second.p99);
  throttles_.Remove(it->second.throttles);
  series_.erase(it);
}

}  // namespace slo::agent::runq
