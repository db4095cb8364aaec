#include "tests/controllers/cpu_burst/burst_world.h"

namespace slo::test::burst {

World::World() {
  host.kernel_burst = true;
  now = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
  snap.host = &host;
  snap.knobs = &knobs;
  snap.now = now;
  snap.wall = std::chrono::system_clock::now();
  snap.node.cpu_capacity_cores = 4;
  snap.node.cpu_busy_ns = 0;
}

size_t World::add_pod(const std::string& name, model::QosClass qos, std::vector<int64_t> limits,
                      std::map<std::string, std::string> annotations) {
  agent::PodState ps;
  ps.pod.name = name;
  ps.pod.namespace_ = "default";
  ps.pod.uid = "uid-" + name;
  ps.pod.phase = "Running";
  ps.pod.qos = qos;
  ps.pod.annotations = std::move(annotations);
  ps.cgroup = "kubepods/burstable/pod" + ps.pod.uid;
  int64_t pod_quota = 0;
  bool all = true;
  for (size_t i = 0; i < limits.size(); ++i) {
    agent::ContainerState cs;
    cs.spec.name = "c" + std::to_string(i);
    if (limits[i] > 0) {
      cs.spec.limits.cpu_millis = limits[i];
      cs.spec.requests.cpu_millis = limits[i];
    }
    cs.cgroup = ps.cgroup + "/ctr" + std::to_string(i);
    int64_t q = limits[i] > 0 ? limits[i] * 100 : -1;
    knobs.set_original(cs.cgroup, cg::Knob::cpu_quota, q);
    knobs.set_original(cs.cgroup, cg::Knob::cpu_period, 100000);
    knobs.set_original(cs.cgroup, cg::Knob::cpu_burst, 0);
    if (q > 0)
      pod_quota += q;
    else
      all = false;
    cs.stats.cpu_stat = cg::CpuStat{};
    cs.stats.cpu_usage_ns = 0;
    cs.stats.cpu_stat_at = now;
    ps.containers.push_back(std::move(cs));
  }
  knobs.set_original(ps.cgroup, cg::Knob::cpu_quota, all ? pod_quota : -1);
  knobs.set_original(ps.cgroup, cg::Knob::cpu_period, 100000);
  knobs.set_original(ps.cgroup, cg::Knob::cpu_burst, 0);
  ps.stats.cpu_usage_ns = 0;
  keys_.push_back(ps.pod.key());
  snap.pods.push_back(std::move(ps));
  return snap.pods.size() - 1;
}

void World::remove_pod(size_t pod) {
  snap.pods.erase(snap.pods.begin() + long(pod));
  keys_.erase(keys_.begin() + long(pod));
}

void World::advance(std::map<std::pair<size_t, size_t>, Load> loads, double node_cores) {
  now += kTick;
  const double secs = std::chrono::duration<double>(kTick).count();
  for (size_t p = 0; p < snap.pods.size(); ++p) {
    auto& ps = snap.pods[p];
    uint64_t pod_usage = 0;
    for (size_t c = 0; c < ps.containers.size(); ++c) {
      auto& cs = ps.containers[c];
      Load l;
      if (auto it = loads.find({p, c}); it != loads.end()) l = it->second;
      auto& st = *cs.stats.cpu_stat;
      st.nr_periods += 1;
      if (l.throttled) st.nr_throttled += 1;
      st.throttled_ns += uint64_t(l.throttled_cores * secs * 1e9);
      *cs.stats.cpu_usage_ns += uint64_t(l.usage_cores * secs * 1e9);
      pod_usage += *cs.stats.cpu_usage_ns;
      cs.stats.cpu_stat_at = now;
    }
    ps.stats.cpu_usage_ns = pod_usage;
  }
  node_busy_ns += uint64_t(node_cores * secs * 1e9);
  snap.node.cpu_busy_ns = node_busy_ns;
  snap.now = now;
  snap.wall += kTick;
  snap.tick += 1;
}

RecordingSink World::decide(agent::Controller& c) {
  RecordingSink sink;
  board.hot_cgroups.clear();  // the runtime rebuilds it every tick; the rest is set by the test
  c.decide(snap, board, sink);
  return sink;
}

}  // namespace slo::test::burst
