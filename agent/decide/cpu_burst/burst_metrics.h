// Prometheus series of the CPU burst controller (docs/metrics-cpu-burst.md). Per-cgroup series carry namespace,
// pod, container ("" for the pod-level cgroup) and qos, are rows of one MetricTable, and are removed when the pod
// stops being managed.
#pragma once

#include <map>
#include <string>

#include "agent/decide/cpu_burst/node_guard.h"
#include "agent/runtime/metric_table.h"
#include "agent/runtime/metrics_registry.h"

namespace prometheus {
class Registry;
class Gauge;
class Counter;
template <typename T>
class Family;
}  // namespace prometheus

namespace slo::agent::cpu_burst {

struct SeriesKey {
  std::string namespace_, pod, container, qos;
  bool operator<(const SeriesKey& o) const;
};

class BurstMetrics {
 public:
  // The series of one cgroup (a row of the per-cgroup table). Its address is stable until remove_pod() of its pod:
  // the controller keeps the pointer per cgroup so that a tick updates values without building label keys. A column
  // is exported for the cgroup from its first value on.
  struct Series {
    MetricTable::Row* row = nullptr;
    // Last values set: a gauge is written only when its value changes (the controller states every value every
    // 100 ms; the writes to gauges spread over the heap were a few percent of the daemon's CPU).
    double last_quota = -1, last_original = -1, last_burst = -1, last_throttled = -1;
  };

  explicit BurstMetrics(MetricsRegistry& registry);

  // Finds or creates the series entry (no gauge yet).
  Series& series(const SeriesKey& k);
  void set_quota(Series& s, double quota_cores, double original_cores);
  void set_burst(Series& s, double burst_seconds);
  void set_throttled_ratio(Series& s, double ratio);
  void count_raise(Series& s);

  void set_quota(const SeriesKey& k, double quota_cores, double original_cores) { set_quota(series(k), quota_cores, original_cores); }
  void set_burst(const SeriesKey& k, double burst_seconds) { set_burst(series(k), burst_seconds); }
  void set_throttled_ratio(const SeriesKey& k, double ratio) { set_throttled_ratio(series(k), ratio); }
  void count_raise(const SeriesKey& k) { count_raise(series(k)); }
  void count_clamp();
  void count_annotation_error();
  void set_guard(GuardState s, std::optional<double> share_pool_ratio);
  // Drops every series of the pod (namespace/pod); Series pointers of the pod become invalid.
  void remove_pod(const std::string& ns, const std::string& pod);

 private:

  std::shared_ptr<MetricTable> cgroups_;  // columns: quota, original, burst, throttled, raises
  prometheus::Family<prometheus::Gauge>& guard_;
  prometheus::Gauge* share_pool_ = nullptr;
  prometheus::Counter* clamped_ = nullptr;
  prometheus::Counter* annotation_errors_ = nullptr;
  std::map<GuardState, prometheus::Gauge*> guard_states_;
  std::map<SeriesKey, Series> series_;
};

}  // namespace slo::agent::cpu_burst
