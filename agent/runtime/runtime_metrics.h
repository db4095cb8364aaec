// Runtime metrics (prefix sloagent_, base units): tick durations per controller, config reloads, build info, node
// and pod CPU/memory, per-container CPU throttling. Pod and container series are rows of MetricTables, removed when
// the pod leaves.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "agent/runtime/metric_table.h"
#include "agent/runtime/metrics_registry.h"
#include "agent/runtime/snapshot.h"

namespace slo::agent {

class RuntimeMetrics {
 public:
  explicit RuntimeMetrics(MetricsRegistry& r);
  ~RuntimeMetrics();

  prometheus::Histogram& controller_tick(const std::string& controller);
  prometheus::Histogram& phase(const std::string& phase);  // observe / decide / act
  void config_reload(bool ok);
  // Node and pod usage, throttling; called on every slow tick after stats were read.
  void update_usage(const Snapshot& snap);

 private:
  struct PodSeries;  // per pod gauges, its containers' series, the last cumulative values for deltas
  prometheus::Family<prometheus::Histogram>& controller_tick_;
  prometheus::Family<prometheus::Histogram>& phase_;
  prometheus::Family<prometheus::Counter>& reloads_;
  prometheus::Family<prometheus::Gauge>& build_info_;
  prometheus::Gauge& node_cpu_cores_;
  prometheus::Gauge& node_cpu_usage_cores_;
  prometheus::Gauge& node_mem_used_;
  prometheus::Gauge& node_mem_total_;
  // Per-pod and per-container series (columns: see the constructor).
  std::shared_ptr<MetricTable> pods_, containers_;
  std::map<std::string, prometheus::Histogram*> ctl_hist_, phase_hist_;
  // By pod uid. Looked up once per pod per slow tick; labels are built only when a series is created (building them
  // for every pod and container on every slow tick was a tenth of a full tick).
  std::unordered_map<std::string, std::unique_ptr<PodSeries>> series_;
  uint64_t round_ = 0;  // update_usage() calls: series not seen in the current round are removed
  std::optional<uint64_t> last_node_busy_;
  std::chrono::steady_clock::time_point last_node_at_{};
};

}  // namespace slo::agent
