#include "bench/cpu_burst/local_runtime.h"

#include <fstream>
#include <set>
#include <sstream>

#include <unistd.h>

namespace slo::bench::cpu_burst {

std::optional<cg::KnobValue> LocalRuntime::Journal::current(const cg::KnobRef& ref) const {
  auto r = fs->read(ref);
  if (!r.ok()) return std::nullopt;
  return r.value;
}

std::optional<cg::KnobValue> LocalRuntime::Journal::original(const cg::KnobRef& ref) const {
  auto it = originals.find(ref);
  if (it != originals.end()) return it->second;
  return current(ref);  // never written: the current value is the original
}

void LocalRuntime::Sink::set(const cg::KnobRef& ref, const cg::KnobValue& value, const std::string& /*reason*/) {
  writes.push_back({ref, std::move(value)});
}

LocalRuntime::LocalRuntime(const cg::CgroupFs& fs, agent::Controller& controller, agent::HostInfo host,
                           std::string proc_root)
    : fs_(fs), controller_(controller), host_(std::move(host)), proc_root_(std::move(proc_root)) {
  journal_.fs = &fs_;
}

std::optional<uint64_t> LocalRuntime::node_busy_ns() const {
  if (proc_root_.empty()) return std::nullopt;
  std::ifstream in(proc_root_ + "/stat");
  std::string cpu;
  uint64_t v[10] = {};
  if (!(in >> cpu) || cpu != "cpu") return std::nullopt;
  for (auto& x : v) in >> x;
  // user nice system idle iowait irq softirq steal guest guest_nice: busy = all but idle and iowait (guest time
  // is already included in user/nice).
  uint64_t busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
  static const long hz = sysconf(_SC_CLK_TCK);
  return busy * (1000000000ull / uint64_t(hz));
}

TickReport LocalRuntime::tick() {
  TickReport rep;
  agent::Snapshot snap;
  snap.tick = ++tick_;
  snap.now = std::chrono::steady_clock::now();
  snap.wall = std::chrono::system_clock::now();
  snap.host = &host_;
  snap.knobs = &journal_;
  snap.node.cpu_capacity_cores = double(sysconf(_SC_NPROCESSORS_ONLN));
  snap.node.cpu_busy_ns = node_busy_ns();
  auto read_stats = [&](const std::string& cgroup, agent::ContainerStats& st) {
    auto s = fs_.cpu_stat(cgroup);
    st.cpu_stat_at = std::chrono::steady_clock::now();
    if (s.ok()) st.cpu_stat = s.value;
    auto u = fs_.cpu_usage_ns(cgroup);
    if (u.ok()) st.cpu_usage_ns = u.value;
  };
  for (auto& ps : pods_) {
    read_stats(ps.cgroup, ps.stats);
    for (auto& c : ps.containers) read_stats(c.cgroup, c.stats);
  }
  snap.pods = pods_;
  rep.at = snap.now;

  agent::Blackboard board;
  Sink sink;
  controller_.decide(snap, board, sink);
  rep.intents = sink.writes.size();

  // Released knobs go back to their journaled originals in the same ordered batch.
  std::map<cg::KnobRef, int64_t> now_claimed;
  for (const auto& w : sink.writes) now_claimed[w.ref] = cg::as_int(w.value);
  std::vector<cg::KnobWrite> batch = sink.writes;
  for (const auto& [ref, v] : claimed_) {
    (void)v;
    if (now_claimed.count(ref)) continue;
    if (auto it = journal_.originals.find(ref); it != journal_.originals.end()) batch.push_back({ref, it->second});
  }
  for (const auto& w : batch)
    if (!journal_.originals.count(w.ref))
      if (auto cur = fs_.read(w.ref); cur.ok()) journal_.originals[w.ref] = cur.value;
  cg::OrderedWriter writer(fs_);
  for (const auto& o : writer.apply(batch)) {
    if (o.changed) ++rep.writes;
    if (!o.status.ok() && !o.status.gone()) rep.errors.push_back(o.status.describe());
  }
  claimed_ = std::move(now_claimed);
  return rep;
}

std::vector<std::string> LocalRuntime::restore_all() {
  std::vector<cg::KnobWrite> batch;
  for (const auto& [ref, v] : journal_.originals) batch.push_back({ref, v});
  std::vector<std::string> errors;
  cg::OrderedWriter writer(fs_);
  for (const auto& o : writer.apply(batch))
    if (!o.status.ok() && !o.status.gone()) errors.push_back(o.status.describe());
  claimed_.clear();
  return errors;
}

agent::PodState make_pod(const std::string& name, const std::string& pod_cgroup, std::vector<int64_t> limits,
                         model::QosClass qos) {
  agent::PodState ps;
  ps.pod.name = name;
  ps.pod.namespace_ = "bench";
  ps.pod.uid = "uid-" + name;
  ps.pod.phase = "Running";
  ps.pod.qos = qos;
  ps.pod.kube_qos = model::KubeQos::Burstable;
  ps.cgroup = pod_cgroup;
  ps.tier = cg::QosTier::burstable;
  for (size_t i = 0; i < limits.size(); ++i) {
    agent::ContainerState cs;
    cs.spec.name = "c" + std::to_string(i);
    if (limits[i] > 0) {
      cs.spec.limits.cpu_millis = limits[i];
      cs.spec.requests.cpu_millis = limits[i];
    }
    cs.cgroup = pod_cgroup + "/c" + std::to_string(i);
    ps.containers.push_back(std::move(cs));
  }
  return ps;
}

}  // namespace slo::bench::cpu_burst
