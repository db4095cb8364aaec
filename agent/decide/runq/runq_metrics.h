// Prometheus series of the run-queue latency controller (docs/metrics-bpf.md). Per-pod series carry namespace, pod
// and qos, are rows of one MetricTable, and are removed when the pod leaves.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "agent/runtime/metric_table.h"
#include "agent/runtime/metrics_registry.h"
#include "bpf/runq_histogram.h"

namespace prometheus {
class Registry;
class Gauge;
class Counter;
class Histogram;
template <typename T>
class Family;
}  // namespace prometheus

namespace slo::agent::runq {

struct PodLabels {
  std::string namespace_, pod, qos;
  bool operator<(const PodLabels& o) const;
};

class RunqMetrics {
 public:
  // A pod's series (a row of the per-pod table); the controller keeps the pointer (valid until remove_pod) so a
  // tick does no label lookups.
  struct Series {
    MetricTable::Row* row = nullptr;
  };

  explicit RunqMetrics(MetricsRegistry& registry);

  // The pod's series, created on first use.
  Series& series(const PodLabels& k);
  void observe(Series& s, const bpf::RunqHistogram& interval);
  void set_p99(Series& s, double seconds);
  void count_throttle_events(Series& s, uint64_t n);

  // Histogram bucket bounds in seconds (the BPF log2 µs buckets: 2 µs … 2^26 µs, then +Inf).
  static std::vector<double> bucket_bounds();

  // Adds one interval's delays (a delta histogram) to the pod's Prometheus histogram.
  void observe(const PodLabels& k, const bpf::RunqHistogram& interval);
  void set_p99(const PodLabels& k, double seconds);
  void count_throttle_events(const PodLabels& k, uint64_t n);
  // The active source: "bpf_tp_btf", "bpf_raw_tp" or "schedstat" (1 on its series, no other series).
  void set_source(const std::string& source);
  // Cumulative kernel-side losses (inflight_full / throttle_ring_full): adds what is new since the last call.
  void set_lost(const std::string& reason, uint64_t cumulative);
  void remove_pod(const PodLabels& k);

 private:

  std::shared_ptr<MetricTable> pods_;  // columns: latency histogram, p99, throttle events
  prometheus::Family<prometheus::Gauge>& source_;
  prometheus::Family<prometheus::Counter>& lost_;
  prometheus::Gauge* source_series_ = nullptr;
  std::map<std::string, std::pair<prometheus::Counter*, uint64_t>> lost_series_;
  std::map<PodLabels, Series> series_;
};

}  // namespace slo::agent::runq
