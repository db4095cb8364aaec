#include "agent/runtime/runtime_metrics.h"

#include "slo_config.h"

namespace slo::agent {
namespace {

prometheus::Histogram::BucketBoundaries tick_buckets() {
  return {5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2, 5e-2, 0.1, 0.25};
}

}  // namespace

struct RuntimeMetrics::PodSeries {
  struct Container {
    std::string name;
    uint64_t round = 0;
    MetricTable::Row* row = nullptr;
    std::optional<uint64_t> last_periods, last_throttled;
  };
  uint64_t round = 0;
  MetricTable::Row* row = nullptr;
  std::optional<uint64_t> last_usage;
  std::chrono::steady_clock::time_point last_at{};
  std::vector<Container> containers;  // a pod has a handful: a linear search beats a map
};

RuntimeMetrics::RuntimeMetrics(MetricsRegistry& r)
    : controller_tick_(prometheus::BuildHistogram()
                           .Name("sloagent_controller_tick_duration_seconds")
                           .Help("Time one controller's decide() took")
                           .Register(r)),
      phase_(prometheus::BuildHistogram()
                 .Name("sloagent_tick_phase_duration_seconds")
                 .Help("Time of each phase of a tick (observe, decide, act)")
                 .Register(r)),
      reloads_(prometheus::BuildCounter()
                   .Name("sloagent_config_reloads_total")
                   .Help("Config (re)loads by result (success, failure)")
                   .Register(r)),
      build_info_(prometheus::BuildGauge().Name("sloagent_build_info").Help("Always 1; labels: version").Register(r)),
      node_cpu_cores_(prometheus::BuildGauge()
                          .Name("sloagent_node_cpu_capacity_cores")
                          .Help("Online CPUs of the node")
                          .Register(r)
                          .Add({})),
      node_cpu_usage_cores_(prometheus::BuildGauge()
                                .Name("sloagent_node_cpu_usage_cores")
                                .Help("CPU the node used over the last stats interval, in cores (/proc/stat)")
                                .Register(r)
                                .Add({})),
      node_mem_used_(prometheus::BuildGauge()
                         .Name("sloagent_node_memory_used_bytes")
                         .Help("MemTotal - MemAvailable")
                         .Register(r)
                         .Add({})),
      node_mem_total_(prometheus::BuildGauge()
                          .Name("sloagent_node_memory_total_bytes")
                          .Help("MemTotal")
                          .Register(r)
                          .Add({})),
      pods_(std::make_shared<MetricTable>(
          std::vector<std::string>{"namespace", "pod", "qos"},
          std::vector<MetricTable::Column>{
              {"sloagent_pod_cpu_usage_cores", "CPU the pod's cgroup used over the last stats interval, in cores"},
              {"sloagent_pod_memory_working_set_bytes", "Working set (usage - inactive_file) of the pod's cgroup"}})),
      containers_(std::make_shared<MetricTable>(
          std::vector<std::string>{"container", "namespace", "pod", "qos"},
          std::vector<MetricTable::Column>{
              {"sloagent_container_cpu_periods_total",
               "CFS enforcement periods of the container's cgroup (cpu.stat nr_periods)", MetricTable::Kind::counter},
              {"sloagent_container_cpu_throttled_periods_total",
               "Periods in which the container was throttled (cpu.stat nr_throttled)", MetricTable::Kind::counter},
              {"sloagent_container_cpu_throttled_ratio",
               "Throttled periods / periods over the last stats interval (0..1)"}})) {
  r.attach(pods_);
  r.attach(containers_);
  build_info_.Add({{"version", SLO_VERSION}}).Set(1);
}

RuntimeMetrics::~RuntimeMetrics() = default;

prometheus::Histogram& RuntimeMetrics::controller_tick(const std::string& c) {
  auto& h = ctl_hist_[c];
  if (!h) h = &controller_tick_.Add({{"controller", c}}, tick_buckets());
  return *h;
}

prometheus::Histogram& RuntimeMetrics::phase(const std::string& p) {
  auto& h = phase_hist_[p];
  if (!h) h = &phase_.Add({{"phase", p}}, tick_buckets());
  return *h;
}

void RuntimeMetrics::config_reload(bool ok) { reloads_.Add({{"result", ok ? "success" : "failure"}}).Increment(); }

void RuntimeMetrics::update_usage(const Snapshot& snap) {
  auto now = snap.now;
  node_cpu_cores_.Set(snap.node.cpu_capacity_cores);
  node_mem_used_.Set(static_cast<double>(snap.node.memory_used_bytes));
  node_mem_total_.Set(static_cast<double>(snap.node.memory_total_bytes));
  if (snap.node.cpu_busy_ns) {
    if (last_node_busy_ && now > last_node_at_ && *snap.node.cpu_busy_ns >= *last_node_busy_) {
      double secs = std::chrono::duration<double>(now - last_node_at_).count();
      node_cpu_usage_cores_.Set(static_cast<double>(*snap.node.cpu_busy_ns - *last_node_busy_) / 1e9 / secs);
    }
    last_node_busy_ = snap.node.cpu_busy_ns;
    last_node_at_ = now;
  }

  const uint64_t round = ++round_;
  enum { kPodCpu, kPodMem };
  enum { kPeriods, kThrottled, kRatio };
  for (const auto& p : snap.pods) {
    auto& ps = series_[p.pod.uid];
    if (!ps) {
      ps = std::make_unique<PodSeries>();
      ps->row = &pods_->row({p.pod.namespace_, p.pod.name, std::string(model::to_string(p.pod.qos))});
      pods_->set(*ps->row, kPodCpu, 0);
      pods_->set(*ps->row, kPodMem, 0);
    }
    ps->round = round;
    if (p.stats.cpu_usage_ns) {
      if (ps->last_usage && now > ps->last_at && *p.stats.cpu_usage_ns >= *ps->last_usage)
        pods_->set(*ps->row, kPodCpu,
                   static_cast<double>(*p.stats.cpu_usage_ns - *ps->last_usage) / 1e9 /
                       std::chrono::duration<double>(now - ps->last_at).count());
      ps->last_usage = p.stats.cpu_usage_ns;
      ps->last_at = now;
    }
    if (p.stats.memory) pods_->set(*ps->row, kPodMem, static_cast<double>(p.stats.memory->working_set_bytes));
    for (const auto& c : p.containers) {
      PodSeries::Container* cs = nullptr;
      for (auto& x : ps->containers)
        if (x.name == c.spec.name) cs = &x;
      if (!cs) {
        cs = &ps->containers.emplace_back();
        cs->name = c.spec.name;
        cs->row = &containers_->row(
            {c.spec.name, p.pod.namespace_, p.pod.name, std::string(model::to_string(p.pod.qos))});
        for (int col : {kPeriods, kThrottled, kRatio}) containers_->add(*cs->row, col, 0);
      }
      cs->round = round;
      if (!c.stats.cpu_stat) continue;
      const auto& st = *c.stats.cpu_stat;
      if (cs->last_periods && st.nr_periods >= *cs->last_periods && st.nr_throttled >= *cs->last_throttled) {
        uint64_t dp = st.nr_periods - *cs->last_periods, dt = st.nr_throttled - *cs->last_throttled;
        if (dp) containers_->add(*cs->row, kPeriods, static_cast<double>(dp));
        if (dt) containers_->add(*cs->row, kThrottled, static_cast<double>(dt));
        containers_->set(*cs->row, kRatio, dp ? static_cast<double>(dt) / static_cast<double>(dp) : 0.0);
      }
      cs->last_periods = st.nr_periods;
      cs->last_throttled = st.nr_throttled;
    }
  }
  for (auto it = series_.begin(); it != series_.end();) {
    auto& s = *it->second;
    if (s.round != round) {
      pods_->remove(*s.row);
      for (auto& c : s.containers) containers_->remove(*c.row);
      it = series_.erase(it);
      continue;
    }
    for (auto c = s.containers.begin(); c != s.containers.end();) {
      if (c->round == round) {
        ++c;
        continue;
      }
      containers_->remove(*c->row);
      c = s.containers.erase(c);
    }
    ++it;
  }
}

}  // namespace slo::agent
