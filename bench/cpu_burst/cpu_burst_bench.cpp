// CPU burst benchmarks (docs/benchmarks-cpu-burst.md), all in one run on the real v1 cpu hierarchy, as root:
//   1. reaction: time from throttling onset to the quota raise, ours vs the koordinator baseline, alternating;
//   2. latency: a bursty request/response server (Poisson arrivals, each request `threads` × W ms of CPU) in a pod
//      with a 0.6 CPU limit, under no limit / limit only / kernel burst / koordinator baseline / ours, for the
//      short (W 20 ms, mean gap 100 ms) and long (W 70 ms, mean gap 350 ms) shapes, repetitions alternating.
// --short is a CI smoke run (about a minute). Every cgroup made here lives under slo-bench-<pid> and is removed,
// also on SIGINT/SIGTERM (cleanup.h: the handler sets a flag, the loops unwind, main kills and removes the subtree).
#include <signal.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "agent/decide/cpu_burst/cpu_burst_controller.h"
#include "agent/runtime/log.h"
#include "bench/cpu_burst/cleanup.h"
#include "bench/cpu_burst/koord_baseline.h"
#include "bench/cpu_burst/local_runtime.h"
#include "bench/cpu_burst/workload.h"

using namespace slo;
using namespace slo::bench::cpu_burst;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  std::string root = "/sys/fs/cgroup";
  bool short_mode = false;
  bool reaction = true, latency = true;
  int trials = 12;  // reaction trials per algorithm
  int reps = 3;     // latency repetitions per config and shape
  int short_secs = 15, long_secs = 25;
  int64_t quota_us = 60000;
  bool node_guard = false;
  bool high_weight = true;
};

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

std::string loadavg() { return read_text("/proc/loadavg"); }

double pct(std::vector<double> v, double p) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  size_t rank = size_t(std::ceil(p / 100.0 * double(v.size())));
  return v[std::clamp<size_t>(rank, 1, v.size()) - 1];
}

void check(const cg::Status& s, const std::string& what) {
  if (!s.ok()) throw std::runtime_error(what + ": " + s.describe());
}

// One pod (pod + c0) below the bench root, removed on destruction.
struct BenchPod {
  const cg::CgroupFs& fs;
  std::string run, pod, ctr;
  BenchPod(const cg::CgroupFs& f, const std::string& base, int n) : fs(f) {
    run = base + "/r" + std::to_string(n);
    pod = run + "/pod";
    ctr = pod + "/c0";
    check(fs.create(ctr), "create " + ctr);
  }
  ~BenchPod() {
    fs.remove(ctr);
    fs.remove(pod);
    fs.remove(run);
  }
  void limit(int64_t quota_us, int64_t burst_us, bool kernel_burst) {
    for (const auto& c : {pod, ctr}) check(fs.write({c, cg::Knob::cpu_quota, {}}, quota_us), "quota " + c);
    if (kernel_burst)
      for (const auto& c : {ctr, pod}) check(fs.write({c, cg::Knob::cpu_burst, {}}, burst_us), "burst " + c);
  }
  int64_t knob(const std::string& c, cg::Knob k) const {
    auto r = fs.read({c, k, {}});
    return r.ok() ? cg::as_int(r.value) : -2;
  }
};

// The agent runs with a guaranteed CPU share in a real deployment; on this shared build machine (load ~15 on 2
// CPUs) a nice-0 thread waits tens of ms for a CPU, which would measure the neighbours, not the controller.
void raise_priority() { ::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), -10); }

// Ticks a controller through the stand-in runtime on its own thread at the controller's period.
class ControllerLoop {
 public:
  ControllerLoop(const cg::CgroupFs& fs, std::unique_ptr<agent::Controller> ctl, const agent::HostInfo& host,
                 agent::PodState pod, bool node_guard)
      : ctl_(std::move(ctl)), rt_(fs, *ctl_, host, node_guard ? "/proc" : "") {
    rt_.set_pods({std::move(pod)});
    thread_ = std::thread([this] {
      raise_priority();
      auto next = Clock::now();
      while (!stop_.load()) {
        auto rep = rt_.tick();
        for (const auto& e : rep.errors) std::fprintf(stderr, "write error: %s\n", e.c_str());
        next += ctl_->period();
        while (!stop_.load() && Clock::now() < next) std::this_thread::sleep_for(std::min<Clock::duration>(next - Clock::now(), 20ms));
      }
    });
  }
  ~ControllerLoop() {
    stop_ = true;
    thread_.join();
    rt_.restore_all();
  }

 private:
  std::unique_ptr<agent::Controller> ctl_;
  LocalRuntime rt_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

enum class Algo { nolimit, limit, kburst, koord, ours };
const char* name_of(Algo a) {
  switch (a) {
    case Algo::nolimit: return "no limit";
    case Algo::limit: return "limit only";
    case Algo::kburst: return "kernel burst (= quota)";
    case Algo::koord: return "koordinator baseline (re-impl.)";
    case Algo::ours: return "ours (auto)";
  }
  return "?";
}

std::unique_ptr<agent::Controller> make_controller(Algo a, const agent::HostInfo& host) {
  if (a == Algo::koord) {
    auto k = std::make_unique<KoordBaseline>();
    auto err = k->configure({{"cpuBurstStrategy", {{"policy", "cfsQuotaBurstOnly"}, {"cfsQuotaBurstPercent", 300}}}});
    if (err) throw std::runtime_error(*err);
    return k;
  }
  auto o = std::make_unique<agent::cpu_burst::CpuBurstController>();
  o->probe(host);
  // Koordinator's defaults except cpuBurstPercent: 100 % is the most the kernel accepts (the default 1000 % would
  // be clamped to it anyway).
  auto err = o->configure({{"cpuBurstStrategy", {{"policy", "auto"}, {"cpuBurstPercent", 100}, {"cfsQuotaBurstPercent", 300}}}});
  if (err) throw std::runtime_error(*err);
  return o;
}

agent::PodState pod_state(const BenchPod& p, int64_t quota_us) {
  agent::PodState ps = make_pod("bench", p.pod, {quota_us / 100});
  ps.containers[0].cgroup = p.ctr;
  return ps;
}

// ---- 1. reaction time ----
struct Reaction {
  double from_onset_ms = NAN, from_start_ms = NAN;
};

Reaction reaction_trial(const cg::CgroupFs& fs, const agent::HostInfo& host, const std::string& base, int n, Algo a,
                        const Options& o, std::mt19937_64& rng) {
  BenchPod p(fs, base, n);
  p.limit(o.quota_us, 0, false);
  Reaction r;
  {
    ControllerLoop loop(fs, make_controller(a, host), host, pod_state(p, o.quota_us), o.node_guard);
    // Random phase against the controller's tick and the CFS period.
    std::this_thread::sleep_for(std::chrono::milliseconds(300 + rng() % 1000));
    throw_if_interrupted();
    Child load = fork_spinner(2);
    check(fs.attach(p.ctr, load.pid), "attach");
    auto s0 = fs.cpu_stat(p.ctr);
    const auto start = Clock::now();
    load.release();
    // Onset = the first throttled period the kernel accounts (nr_throttled moves at the period's end). Ours may
    // raise before that (usage filling the quota): keep polling a little after the raise to find the onset anyway.
    std::optional<Clock::time_point> onset, raised;
    while (Clock::now() - start < 5s && !(raised && (onset || Clock::now() - *raised > 300ms)) && !interrupted()) {
      std::this_thread::sleep_for(2ms);
      auto s = fs.cpu_stat(p.ctr);
      auto now = Clock::now();
      if (!onset && s.ok() && s0.ok() && s.value.nr_throttled > s0.value.nr_throttled) onset = now;
      if (!raised && p.knob(p.ctr, cg::Knob::cpu_quota) > o.quota_us) raised = now;
    }
    load.kill_and_wait();
    if (raised) {
      r.from_start_ms = std::chrono::duration<double, std::milli>(*raised - start).count();
      // Raised before the kernel accounted any throttling: no throttled period was left to react to → 0.
      r.from_onset_ms =
          onset ? std::max(0.0, std::chrono::duration<double, std::milli>(*raised - *onset).count()) : 0.0;
    }
    std::fprintf(stderr, "reaction %s: start→raise %.0f ms, onset→raise %.0f ms%s\n", name_of(a), r.from_start_ms,
                 r.from_onset_ms, onset ? "" : " (raised before any throttled period was accounted)");
  }
  return r;
}

// ---- 2. tail latency ----
struct Shape {
  const char* name;
  double work_ms;
  std::chrono::milliseconds gap;
};
struct RunResult {
  std::vector<double> lat;
  size_t unanswered = 0;
  double avg_cpu = NAN, throttled_ratio = NAN, seconds = 0;
};

RunResult latency_run(const cg::CgroupFs& fs, const agent::HostInfo& host, const std::string& base, int n, Algo a,
                      const Shape& sh, std::chrono::seconds dur, uint64_t seed, const Options& o) {
  BenchPod p(fs, base, n);
  if (a != Algo::nolimit) p.limit(o.quota_us, a == Algo::kburst ? o.quota_us : 0, a == Algo::kburst);
  std::unique_ptr<ControllerLoop> loop;
  if (a == Algo::koord || a == Algo::ours)
    loop = std::make_unique<ControllerLoop>(fs, make_controller(a, host), host, pod_state(p, o.quota_us), o.node_guard);
  Server srv = fork_server(sh.work_ms, 2);
  check(fs.attach(p.ctr, srv.child.pid), "attach");
  auto u0 = fs.cpu_usage_ns(p.pod);
  auto s0 = fs.cpu_stat(p.ctr);
  const auto t0 = Clock::now();
  srv.child.release();
  RunResult r;
  r.lat = run_poisson(srv, sh.gap, dur, 3s, seed, r.unanswered);
  const auto t1 = Clock::now();
  auto u1 = fs.cpu_usage_ns(p.pod);
  auto s1 = fs.cpu_stat(p.ctr);
  srv.child.kill_and_wait();
  srv.close_fds();
  loop.reset();
  r.seconds = std::chrono::duration<double>(t1 - t0).count();
  if (u0.ok() && u1.ok()) r.avg_cpu = double(u1.value - u0.value) / 1e9 / r.seconds;
  if (s0.ok() && s1.ok() && s1.value.nr_periods > s0.value.nr_periods)
    r.throttled_ratio = double(s1.value.nr_throttled - s0.value.nr_throttled) /
                        double(s1.value.nr_periods - s0.value.nr_periods);
  return r;
}

void usage() {
  std::puts(
      "cpu_burst_bench [--short] [--reaction-only | --latency-only] [--trials N] [--reps N]\n"
      "                [--short-secs S] [--long-secs S] [--quota-us Q] [--node-guard] [--no-high-weight]\n"
      "                [--cgroup-root DIR]\n"
      "Root only; real cgroup v1/v2. A full run takes about 10 minutes, --short about 1 minute.");
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error(a + " needs a value");
      return argv[++i];
    };
    if (a == "--short") {
      o.short_mode = true;
      o.trials = 4;
      o.reps = 1;
      o.short_secs = 6;
      o.long_secs = 8;
    } else if (a == "--reaction-only") o.latency = false;
    else if (a == "--latency-only") o.reaction = false;
    else if (a == "--trials") o.trials = std::stoi(next());
    else if (a == "--reps") o.reps = std::stoi(next());
    else if (a == "--short-secs") o.short_secs = std::stoi(next());
    else if (a == "--long-secs") o.long_secs = std::stoi(next());
    else if (a == "--quota-us") o.quota_us = std::stoll(next());
    else if (a == "--node-guard") o.node_guard = true;
    else if (a == "--no-high-weight") o.high_weight = false;
    else if (a == "--cgroup-root") o.root = next();
    else {
      usage();
      return a == "--help" ? 0 : 2;
    }
  }
  if (geteuid() != 0) {
    std::fprintf(stderr, "cpu_burst_bench: needs root (writes real cgroups)\n");
    return 77;
  }
  log::set_level(log::Level::error);
  raise_priority();  // the main thread drives the load and polls cpu.stat for the reaction measurement
  auto fsr = cg::CgroupFs::open(o.root);
  if (!fsr.ok()) {
    std::fprintf(stderr, "open %s: %s\n", o.root.c_str(), fsr.status.describe().c_str());
    return 1;
  }
  const cg::CgroupFs& fs = fsr.value;
  agent::HostInfo host;
  host.cgroup_root = o.root;
  host.mode = fs.mode();
  host.kernel_burst = fs.supports(cg::Knob::cpu_burst);

  utsname u{};
  uname(&u);
  std::string cpu_model;
  {
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line))
      if (line.rfind("model name", 0) == 0) {
        cpu_model = line.substr(line.find(':') + 2);
        break;
      }
  }
  std::printf("# cpu_burst_bench %s\n", o.short_mode ? "(short/smoke mode)" : "");
  std::printf("machine: nproc=%ld, kernel %s, CPU %s, cgroup mode %s, kernel burst %s\n",
              sysconf(_SC_NPROCESSORS_ONLN), u.release, cpu_model.c_str(), std::string(cg::to_string(fs.mode())).c_str(),
              host.kernel_burst ? "yes" : "no");
  std::printf("pod limit: quota %lld us / period 100000 us; node guard %s; bench subtree cpu.shares %s; driver and controller threads nice -10, workload nice 0\n",
              (long long)o.quota_us, o.node_guard ? "on (/proc/stat)" : "off (no node stats: shared build machine)",
              o.high_weight ? "262144" : "default");
  std::printf("loadavg at start: %s\n\n", loadavg().c_str());
  std::fflush(stdout);

  const std::string base = "slo-bench-" + std::to_string(getpid());
  install_interrupt_handlers();  // before the subtree exists: from here on a signal only unwinds to the cleanup below
  check(fs.create(base), "create " + base);
  if (o.high_weight) check(fs.write({base, cg::Knob::cpu_shares, {}}, int64_t(262144)), "shares");
  int n = 0;
  std::mt19937_64 rng(42);
  int rc = 0;
  try {
    if (o.reaction) {
      std::printf("## 1. Reaction time: throttling onset → quota raised (2 spinning threads, limit %.2f CPU)\n\n",
                  double(o.quota_us) / 1e5);
      std::map<Algo, std::vector<double>> onset, start;
      std::map<Algo, int> missed, early;
      for (int t = 0; t < o.trials; ++t)
        for (Algo a : {Algo::ours, Algo::koord}) {  // alternating: both see the same noise
          throw_if_interrupted();
          auto r = reaction_trial(fs, host, base, n++, a, o, rng);
          if (std::isnan(r.from_start_ms)) ++missed[a];
          else start[a].push_back(r.from_start_ms);
          if (!std::isnan(r.from_onset_ms)) onset[a].push_back(r.from_onset_ms);
          if (r.from_onset_ms == 0.0) ++early[a];
        }
      std::printf("| algorithm | trials | onset→raise p50 ms | p99 ms | max ms | raised before kernel accounted throttling | load start→raise p50 ms | p99 ms | no raise in 5 s |\n");
      std::printf("|---|---|---|---|---|---|---|---|---|\n");
      for (Algo a : {Algo::ours, Algo::koord})
        std::printf("| %s | %d | %.0f | %.0f | %.0f | %d | %.0f | %.0f | %d |\n", name_of(a), o.trials, pct(onset[a], 50),
                    pct(onset[a], 99), pct(onset[a], 100), early[a], pct(start[a], 50), pct(start[a], 99), missed[a]);
      std::printf("\nloadavg after reaction runs: %s\n\n", loadavg().c_str());
      std::fflush(stdout);
    }
    if (o.latency) {
      const Shape shapes[] = {{"short", 20, 100ms}, {"long", 70, 350ms}};
      std::vector<Algo> algos = {Algo::nolimit, Algo::limit, Algo::kburst, Algo::koord, Algo::ours};
      std::map<std::pair<int, Algo>, std::vector<RunResult>> res;
      for (int rep = 0; rep < o.reps; ++rep)
        for (int si = 0; si < 2; ++si) {
          // Rotate the order every repetition so no configuration always runs first / after the same neighbour.
          std::vector<Algo> order = algos;
          std::rotate(order.begin(), order.begin() + (rep % order.size()), order.end());
          for (Algo a : order) {
            throw_if_interrupted();
            auto dur = std::chrono::seconds(si == 0 ? o.short_secs : o.long_secs);
            auto r = latency_run(fs, host, base, n++, a, shapes[si], dur, 1000 + uint64_t(rep) * 7 + uint64_t(si), o);
            std::fprintf(stderr, "rep %d %s %-32s p99 %.1f ms avg CPU %.2f (load %s)\n", rep, shapes[si].name,
                         name_of(a), pct(r.lat, 99), r.avg_cpu, loadavg().c_str());
            res[{si, a}].push_back(std::move(r));
          }
        }
      throw_if_interrupted();  // a run cut short by the signal is not reported
      for (int si = 0; si < 2; ++si) {
        const auto& sh = shapes[si];
        std::printf("## 2%s. Tail latency, %s shape: 2 threads × %.0f ms CPU per request, Poisson mean gap %lld ms "
                    "(%d × %d s runs per config)\n\n",
                    si == 0 ? "a" : "b", sh.name, sh.work_ms, (long long)sh.gap.count(), o.reps,
                    si == 0 ? o.short_secs : o.long_secs);
        std::printf("| config | requests | p50 ms | p99 ms | p99.9 ms | p99 per rep | avg CPU | throttled periods | unanswered |\n");
        std::printf("|---|---|---|---|---|---|---|---|---|\n");
        for (Algo a : algos) {
          std::vector<double> all;
          std::string per;
          double cpu = 0, thr = 0;
          size_t un = 0;
          int thr_n = 0;
          for (const auto& r : res[{si, a}]) {
            all.insert(all.end(), r.lat.begin(), r.lat.end());
            char b[32];
            std::snprintf(b, sizeof b, "%s%.0f", per.empty() ? "" : " / ", pct(r.lat, 99));
            per += b;
            cpu += r.avg_cpu;
            un += r.unanswered;
            if (!std::isnan(r.throttled_ratio)) thr += r.throttled_ratio, ++thr_n;
          }
          cpu /= double(std::max<size_t>(1, res[{si, a}].size()));
          std::printf("| %s | %zu | %.1f | %.1f | %.1f | %s | %.2f | %s | %zu |\n", name_of(a), all.size(),
                      pct(all, 50), pct(all, 99), pct(all, 99.9), per.c_str(), cpu,
                      thr_n ? (std::to_string(int(std::round(100 * thr / thr_n))) + " %").c_str() : "-", un);
        }
        std::printf("\n");
      }
      std::printf("loadavg at end: %s\n", loadavg().c_str());
    }
  } catch (const Interrupted&) {
    std::fprintf(stderr, "cpu_burst_bench: %s, removing %s\n", interrupt_signal() == SIGTERM ? "SIGTERM" : "SIGINT",
                 base.c_str());
    rc = 128 + interrupt_signal();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cpu_burst_bench: %s\n", e.what());
    rc = 1;
  }
  // Whatever unwound us (signal, error): no process and no cgroup of ours stays behind.
  if (auto left = remove_subtree(fs, base); !left.empty()) {
    std::fprintf(stderr, "cpu_burst_bench: could not remove all of %s: %s\n", base.c_str(), left.c_str());
    if (rc == 0) rc = 1;
  }
  return rc;
}
