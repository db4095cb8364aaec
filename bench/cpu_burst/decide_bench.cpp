// Cost of one CpuBurstController::decide() alone: CPU time and heap allocations per tick on a synthetic node of N
// pods × 2 containers, half LS (limit 1 CPU per container, kubelet-like quotas), half BE, policy auto, kernel burst
// present, steady state (nothing throttled: the values held do not change). The knob view is an ordered map by
// KnobRef like the executor's. No kernel access, no privileges (docs/benchmarks-cpu-burst.md).
//
//   cpu_burst_decide_bench [--pods 200,500] [--ticks 2000] [--metrics on|off]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <map>
#include <new>
#include <sstream>
#include <string>
#include <vector>

#include <prometheus/registry.h>

#include "agent/decide/cpu_burst/cpu_burst_controller.h"

namespace {

std::atomic<uint64_t> g_allocs{0};

}  // namespace

// The replacement new/delete pair is malloc/free by design; GCC sees only the inlined free().
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
// Counted so that the figure "allocations per tick" is exact (the bench is single-threaded).
void* operator new(std::size_t n) {
  g_allocs.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace {

using namespace slo;

class MapKnobs : public agent::KnobView {
 public:
  std::optional<cg::KnobValue> current(const cg::KnobRef& ref) const override {
    auto it = values.find(ref);
    if (it == values.end()) return std::nullopt;
    return cg::KnobValue{it->second};
  }
  std::optional<cg::KnobValue> original(const cg::KnobRef& ref) const override { return current(ref); }
  std::map<cg::KnobRef, int64_t> values;
};

class NullSink : public agent::IntentSink {
 public:
  void set(const cg::KnobRef&, const cg::KnobValue&, const std::string& reason) override {
    ++intents;
    bytes += reason.size();
  }
  uint64_t intents = 0, bytes = 0;
};

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) / 1e9;
}

long rss_anon_kb() {
  FILE* f = std::fopen("/proc/self/status", "r");
  if (!f) return -1;
  char line[256];
  long v = -1;
  while (std::fgets(line, sizeof line, f))
    if (std::sscanf(line, "RssAnon: %ld kB", &v) == 1) break;
  std::fclose(f);
  return v;
}

void run(size_t pods, int ticks, bool metrics) {
  agent::HostInfo host;
  host.kernel_burst = true;
  MapKnobs knobs;
  agent::Snapshot snap;
  snap.host = &host;
  snap.knobs = &knobs;
  snap.node.cpu_capacity_cores = 2;
  snap.node.cpu_busy_ns = 0;
  auto now = std::chrono::steady_clock::now();
  for (size_t i = 0; i < pods; ++i) {
    const bool ls = i % 2 == 0;
    agent::PodState ps;
    ps.pod.namespace_ = "bench";
    ps.pod.name = "pod-" + std::to_string(i);
    ps.pod.uid = "0c4f2a5e-1d3b-4c6a-9e7f-" + std::to_string(100000000000 + i);
    ps.pod.phase = "Running";
    ps.pod.qos = ls ? model::QosClass::LS : model::QosClass::BE;
    ps.cgroup = std::string(ls ? "kubepods/burstable/pod" : "kubepods/besteffort/pod") + ps.pod.uid;
    for (int c = 0; c < 2; ++c) {
      agent::ContainerState cs;
      cs.spec.name = "container-" + std::to_string(c);
      if (ls) {
        cs.spec.limits.cpu_millis = 1000;
        cs.spec.requests.cpu_millis = 500;
      }
      cs.cgroup = ps.cgroup + "/" + std::string(64, char('a' + c));
      knobs.values[{cs.cgroup, cg::Knob::cpu_quota, {}}] = ls ? 100000 : -1;
      knobs.values[{cs.cgroup, cg::Knob::cpu_period, {}}] = 100000;
      knobs.values[{cs.cgroup, cg::Knob::cpu_burst, {}}] = 0;
      cs.stats.cpu_stat = cg::CpuStat{};
      cs.stats.cpu_usage_ns = 0;
      ps.containers.push_back(std::move(cs));
    }
    knobs.values[{ps.cgroup, cg::Knob::cpu_quota, {}}] = ls ? 200000 : -1;
    knobs.values[{ps.cgroup, cg::Knob::cpu_period, {}}] = 100000;
    knobs.values[{ps.cgroup, cg::Knob::cpu_burst, {}}] = 0;
    ps.stats.cpu_usage_ns = 0;
    snap.pods.push_back(std::move(ps));
  }

  slo::agent::MetricsRegistry reg;
  agent::cpu_burst::CpuBurstController ctl;
  ctl.probe(host);
  agent::ControllerContext ctx{host, reg};
  if (metrics) ctl.init(ctx);  // without init(): no prometheus series (to separate their memory)
  if (auto err = ctl.configure({{"cpuBurstStrategy", {{"policy", "auto"}}}})) {
    std::fprintf(stderr, "configure: %s\n", err->c_str());
    std::exit(1);
  }
  long rss1 = rss_anon_kb();

  auto advance = [&] {
    now += std::chrono::milliseconds(100);
    snap.now = now;
    snap.wall = std::chrono::system_clock::now();
    ++snap.tick;
    *snap.node.cpu_busy_ns += 50'000'000;
    for (auto& ps : snap.pods) {
      uint64_t sum = 0;
      for (auto& cs : ps.containers) {
        cs.stats.cpu_stat->nr_periods += 1;
        *cs.stats.cpu_usage_ns += 20'000'000;  // 0.2 CPU of a 1 CPU limit: no pressure
        cs.stats.cpu_stat_at = now;
        sum += *cs.stats.cpu_usage_ns;
      }
      *ps.stats.cpu_usage_ns = sum;
    }
  };
  agent::Blackboard board;
  NullSink sink;
  for (int i = 0; i < 20; ++i) {  // warm-up: first claims, history entries
    advance();
    board.hot_cgroups.clear();
    ctl.decide(snap, board, sink);
  }
  std::vector<double> cpu;
  uint64_t allocs = 0;
  sink.intents = 0;
  for (int i = 0; i < ticks; ++i) {
    advance();
    board.hot_cgroups.clear();  // the runtime hands every controller an empty set
    uint64_t a0 = g_allocs.load();
    double t0 = thread_cpu_seconds();
    ctl.decide(snap, board, sink);
    double t1 = thread_cpu_seconds();
    allocs += g_allocs.load() - a0;
    cpu.push_back(t1 - t0);
  }
  std::sort(cpu.begin(), cpu.end());
  double mean = 0;
  for (double c : cpu) mean += c;
  mean /= double(cpu.size());
  const size_t ls = (pods + 1) / 2;
  long rss2 = rss_anon_kb();
  std::printf("%zu pods (%zu LS): decide CPU median %.1f µs, mean %.1f µs, p99 %.1f µs (%.2f µs per LS pod); "
              "%.1f allocations per tick (%.1f per LS pod); %.1f intents per tick; hot cgroups %zu; "
              "controller RssAnon +%ld kB (%.0f B per pod; node model excluded)\n",
              pods, ls, cpu[cpu.size() / 2] * 1e6, mean * 1e6, cpu[cpu.size() * 99 / 100] * 1e6,
              cpu[cpu.size() / 2] * 1e6 / double(ls), double(allocs) / ticks, double(allocs) / ticks / double(ls),
              double(sink.intents) / ticks, board.hot_cgroups.size(), rss2 - rss1, double(rss2 - rss1) * 1024 / double(pods));
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<size_t> pods{200, 500};
  int ticks = 2000;
  bool metrics = true;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--pods") {
      pods.clear();
      std::stringstream ss(argv[i + 1]);
      std::string tok;
      while (std::getline(ss, tok, ',')) pods.push_back(std::stoul(tok));
    } else if (a == "--metrics") {
      metrics = std::string(argv[i + 1]) != "off";
    } else if (a == "--ticks") {
      ticks = std::stoi(argv[i + 1]);
    }
  }
  for (size_t p : pods) run(p, ticks, metrics);
}
