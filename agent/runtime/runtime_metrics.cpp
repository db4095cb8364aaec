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
    prometheus::Counter* periods = nullptr;
    prometheus::Counter* throttled = nullptr;
    prometheus::Gauge* ratio = nullptr;
    std::optional<uint64_t> last_periods, last_throttled;
  };
  uint64_t round = 0;
  prometheus::Gauge* cpu = nullptr;
  prometheus::Gauge* mem = nullptr;
  std::optional<uint64_t> last_usage;
  std::chrono::steady_clock::time_point last_at{};
  std::vector<Container> containers;  // a pod has a handful: a linear search beats a map
};

RuntimeMetrics::RuntimeMetrics(prometheus::Registry& r)
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
      pod_cpu_(prometheus::BuildGauge()
                   .Name("sloagent_pod_cpu_usage_cores")
                   .Help("CPU the pod's cgroup used over the last stats interval, in cores")
                   .Register(r)),
      pod_mem_(prometheus::BuildGauge()
                   .Name("sloagent_pod_memory_working_set_bytes")
                   .Help("Working set (usage - inactive_file) of the pod's cgroup")
                   .Register(r)),
      ctr_periods_(prometheus::BuildCounter()
                       .Name("sloagent_container_cpu_periods_total")
                       .Help("CFS enforcement periods of the container's cgroup (cpu.stat nr_periods)")
                       .Register(r)),
      ctr_throttled_(prometheus::BuildCounter()
                         .Name("sloagent_container_cpu_throttled_periods_total")
                         .Help("Periods in which the container was throttled (cpu.stat nr_throttled)")
                         .Register(r)),
      ctr_ratio_(prometheus::BuildGauge()
                     .Name("sloagent_container_cpu_throttled_ratio")
                     .Help("Throttled periods / periods over the last stats interval (0..1)")
                     .Register(r)) {
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
  auto pod_labels = [](const PodState& p) {
    return prometheus::Labels{
        {"namespace", p.pod.namespace_}, {"pod", p.pod.name}, {"qos", std::string(model::to_string(p.pod.qos))}};
  };
  for (const auto& p : snap.pods) {
    auto& ps = series_[p.pod.uid];
    if (!ps) {
      ps = std::make_unique<PodSeries>();
      const auto pl = pod_labels(p);
      ps->cpu = &pod_cpu_.Add(pl);
      ps->mem = &pod_mem_.Add(pl);
    }
    ps->round = round;
    if (p.stats.cpu_usage_ns) {
      if (ps->last_usage && now > ps->last_at && *p.stats.cpu_usage_ns >= *ps->last_usage)
        ps->cpu->Set(static_cast<double>(*p.stats.cpu_usage_ns - *ps->last_usage) / 1e9 /
                     std::chrono::duration<double>(now - ps->last_at).count());
      ps->last_usage = p.stats.cpu_usage_ns;
      ps->last_at = now;
    }
    if (p.stats.memory) ps->mem->Set(static_cast<double>(p.stats.memory->working_set_bytes));
    for (const auto& c : p.containers) {
      PodSeries::Container* cs = nullptr;
      for (auto& x : ps->containers)
        if (x.name == c.spec.name) cs = &x;
      if (!cs) {
        cs = &ps->containers.emplace_back();
        cs->name = c.spec.name;
        auto cl = pod_labels(p);
        cl["container"] = c.spec.name;
        cs->periods = &ctr_periods_.Add(cl);
        cs->throttled = &ctr_throttled_.Add(cl);
        cs->ratio = &ctr_ratio_.Add(cl);
      }
      cs->round = round;
      if (!c.stats.cpu_stat) continue;
      const auto& st = *c.stats.cpu_stat;
      if (cs->last_periods && st.nr_periods >= *cs->last_periods && st.nr_throttled >= *cs->last_throttled) {
        uint64_t dp = st.nr_periods - *cs->last_periods, dt = st.nr_throttled - *cs->last_throttled;
        if (dp) cs->periods->Increment(static_cast<double>(dp));
        if (dt) cs->throttled->Increment(static_cast<double>(dt));
        cs->ratio->Set(dp ? static_cast<double>(dt) / static_cast<double>(dp) : 0.0);
      }
      cs->last_periods = st.nr_periods;
      cs->last_throttled = st.nr_throttled;
    }
  }
  auto remove_container = [this](PodSeries::Container& c) {
    ctr_periods_.Remove(c.periods);
    ctr_throttled_.Remove(c.throttled);
    ctr_ratio_.Remove(c.ratio);
  };
  for (auto it = series_.begin(); it != series_.end();) {
    auto& s = *it->second;
    if (s.round != round) {
      pod_cpu_.Remove(s.cpu);
      pod_mem_.Remove(s.mem);
      for (auto& c : s.containers) remove_container(c);
      it = series_.erase(it);
      continue;
    }
    for (auto c = s.containers.begin(); c != s.containers.end();) {
      if (c->round == round) {
        ++c;
        continue;
      }
      remove_container(*c);
      c = s.containers.erase(c);
    }
    ++it;
  }
}

}  // namespace slo::agent
