// Runtime benchmark: cost of one full tick (observe every stat, every registered controller decides, executor
// diff) on a synthetic node, v1 and v2 layouts, 50/200/500 pods × 2 containers, against the floor measured in the
// same run: the same number of bare pread(2)s on the kept-open stat files a tick reads. Also a steady tick (the daemon's: ticks at
// agent.tickMs, hot cpu.stat only, controllers when due) against its own floor. Each configuration runs in a
// forked child so its RSS is its own. See docs/benchmarks-runtime.md.
//
//   runtime_tick_bench [--ticks N] [--pods 50,200,500] [--layouts v1,v2] [--no-fork]
//   runtime_tick_bench --make-tree DIR PODS [v1|v2]     (tree + pods.json + proc/ for the daemon benchmark)
#include <fcntl.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <prometheus/registry.h>

#include "agent/observe/file_pod_source.h"
#include "agent/runtime/agent.h"
#include "agent/runtime/memory_policy.h"
#include "agent/runtime/log.h"
#include "tests/runtime/fake_node.h"

using namespace slo;
using Clock = std::chrono::steady_clock;

namespace {

// kB values of /proc/self/status lines.
std::map<std::string, long> proc_status() {
  std::map<std::string, long> out;
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string k = line.substr(0, colon);
    if (k == "VmRSS" || k == "VmHWM" || k == "RssAnon" || k == "RssFile" || k == "RssShmem")
      out[k] = std::atol(line.c_str() + colon + 1);
  }
  return out;
}

// Mappings holding ≥ 256 kB of anonymous memory (SLO_BENCH_SMAPS=1): heap arenas, thread stacks, BPF maps.
void print_anon_mappings() {
  std::ifstream in("/proc/self/smaps");
  std::string line, header;
  while (std::getline(in, line)) {
    if (!line.empty() && std::isxdigit(static_cast<unsigned char>(line[0])) && line.find(' ') > line.find('-')) {
      header = line;
      continue;
    }
    if (std::getenv("SLO_BENCH_SMAPS")[0] == '2' && line.rfind("Rss:", 0) == 0) {
      long kb = std::atol(line.c_str() + 4);
      if (kb >= 128) std::printf("    rss  %6ld kB  %s\n", kb, header.c_str());
    }
    if (line.rfind("Anonymous:", 0) == 0) {
      long kb = std::atol(line.c_str() + 10);
      if (kb >= 256) std::printf("    anon %6ld kB  %s\n", kb, header.c_str());
    }
  }
}

const char* kConfig =
    "agent: {nodeName: node-1, logLevel: error}\n"
    "clusterStrategy:\n"
    "  cpuBurstStrategy: {policy: auto, cpuBurstPercent: 100, cfsQuotaBurstPercent: 300}\n";

// This thread's CPU time in µs. The machine is shared (load ≈ 10 on 2 CPUs): wall time mostly measures the wait
// for a CPU, so tick and floor are compared on CPU time; wall-clock medians are printed too.
double cpu_us() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

// The synthetic node as kubelet would leave it: CFS quota = limit on the containers and the sum on the pod (the
// fake tree starts unlimited), and a frozen /proc (stat, meminfo) so node usage is the node's, not this shared
// build machine's: with the live /proc the BE budget (hence the BE cpuset) follows the other builds' load.
void make_node(const std::string& base, bool v2, int pods) {
  test::FakeNode node(base + "/cg", v2);
  node.populate(pods);
  for (const auto& p : node.pods()) {
    if (p.qos == "BestEffort") continue;
    int64_t per = 100000;  // cpu_limit "1" at the default 100 ms period
    for (const auto& c : p.containers)
      node.write(node.pod_cgroup(p) + "/" + c.id, v2 ? "cpu.max" : "cpu.cfs_quota_us",
                 v2 ? std::to_string(per) + " 100000" : std::to_string(per));
    int64_t sum = per * static_cast<int64_t>(p.containers.size());
    node.write(node.pod_cgroup(p), v2 ? "cpu.max" : "cpu.cfs_quota_us",
               v2 ? std::to_string(sum) + " 100000" : std::to_string(sum));
  }
  node.write_pod_list(base + "/pods.json");
  std::filesystem::create_directories(base + "/proc");
  for (const char* f : {"stat", "meminfo"}) {  // proc files report size 0: copy the text, not the file
    std::ifstream in(std::string("/proc/") + f);
    std::ofstream(base + "/proc/" + f) << in.rdbuf();
  }
  std::ofstream(base + "/config.yaml") << kConfig;
}

double trim_us = 0;  // CPU time of the last release_free_memory() after a collection

// Sum and count of a histogram family's series by label value, from the registry. Collected as a scrape does, and
// followed, as the daemon's /metrics handler is, by release_free_memory().
std::map<std::string, std::pair<double, double>> histogram_by(const prometheus::Registry& r, const std::string& family,
                                                              const std::string& label) {
  std::map<std::string, std::pair<double, double>> out;
  {
    const auto families = r.Collect();
    for (const auto& f : families) {
      if (f.name != family) continue;
      for (const auto& m : f.metric)
        for (const auto& l : m.label)
          if (l.name == label)
            out[l.value] = {m.histogram.sample_sum, static_cast<double>(m.histogram.sample_count)};
    }
  }
  const double t0 = cpu_us();
  agent::release_free_memory();
  trim_us = cpu_us() - t0;
  return out;
}

// Medians of a repeated step: CPU time and wall time, µs.
struct Timing {
  std::vector<double> cpu, wall;
  template <class F>
  void run(F step) {
    double c0 = cpu_us();
    auto t0 = Clock::now();
    step();
    cpu.push_back(cpu_us() - c0);
    wall.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  }
  double c() const { return median(cpu); }
  double mean() const {
    double sum = 0;
    for (double x : cpu) sum += x;
    return cpu.empty() ? 0 : sum / static_cast<double>(cpu.size());
  }
  double w() const { return median(wall); }
};

struct Floor {
  std::vector<int> fds;
  char buf[4096];
  size_t next = 0;
  // One round of n preads into t, continuing through the files where the previous round stopped.
  void round(Timing& t, uint64_t n) {
    t.run([&] {
      for (uint64_t k = 0; k < n; ++k, next = (next + 1) % fds.size())
        if (::pread(fds[next], buf, sizeof buf, 0) < 0) std::abort();
    });
  }
};

// Child: builds the node, runs ticks, prints the result lines.
int run_one(const std::string& base, bool v2, int pods, int ticks) {
  auto rss0 = proc_status();
  make_node(base, v2, pods);
  std::string root = base + "/cg";
  agent::AgentOptions o;
  o.config_path = base + "/config.yaml";
  o.cgroup_root = root;
  o.state_dir = base + "/state";
  o.sysfs_root = "/sys";
  o.proc_root = base + "/proc";
  o.pod_source = std::make_unique<agent::FilePodSource>(base + "/pods.json", std::chrono::seconds(10));
  o.handle_signals = false;
  o.watch = false;
  agent::Agent a(std::move(o));
  if (auto e = a.init()) {
    std::fprintf(stderr, "init: %s\n", e->c_str());
    return 1;
  }
  if (!a.sync_pods_now()) {
    std::fprintf(stderr, "the pods file could not be read\n");
    return 1;
  }
  for (int i = 0; i < 5; ++i) a.tick(true, true);  // warm: files opened, knobs read, first writes done
  if (const char* w = std::getenv("SLO_BENCH_PROFILE_WAIT")) {  // attach a profiler to the ticks only
    std::fprintf(stderr, "bench child %d: ticks start in %s s\n", static_cast<int>(::getpid()), w);
    std::this_thread::sleep_for(std::chrono::seconds(std::atoi(w)));
  }

  // Floors, measured interleaved with the ticks (one floor round after each tick, so both see the same cache and
  // CPU state; these machines are noisy): the same number of bare preads on kept-open files of the same tree.
  //  - full: every stat file a full tick reads (cpu.stat and on v1 cpuacct.usage of every pod and container cgroup,
  //    memory usage and memory.stat of every pod cgroup), in pod order;
  //  - steady: the CPU files (cpu.stat, cpuacct.usage on v1) of the containers, which is what fast ticks read;
  //  - cpu.stat only (the floor of sessions 1-3, printed for comparison): the containers' cpu.stat files, cycled.
  //    Cycling a few hundred small files keeps them cache-hot, so it prices a pread lower than reading 2400
  //    distinct files does; with it the "overhead" included the reads themselves being dearer.
  Floor all, cpu, stat_only;
  auto add = [&](Floor& fl, const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) fl.fds.push_back(fd);
  };
  auto file = [&](const std::string& cg, const char* name) { return test::FakeNode::file_in(root, v2, cg, name); };
  auto add_cgroup = [&](const std::string& cg, bool container) {
    if (cg.empty()) return;
    add(all, file(cg, "cpu.stat"));
    if (!v2) add(all, file(cg, "cpuacct.usage"));
    if (!container) {  // memory is read for pods (and tiers) only
      add(all, file(cg, v2 ? "memory.current" : "memory.usage_in_bytes"));
      add(all, file(cg, "memory.stat"));
      return;
    }
    add(cpu, file(cg, "cpu.stat"));
    if (!v2) add(cpu, file(cg, "cpuacct.usage"));
    add(stat_only, file(cg, "cpu.stat"));
  };
  for (const auto& p : a.snapshot().pods) {
    add_cgroup(p.cgroup, false);
    for (const auto& c : p.containers) add_cgroup(c.cgroup, true);
  }
  if (all.fds.empty() || cpu.fds.empty()) return 1;

  // Full ticks: every stat, every controller.
  const auto ex0 = a.executor().stats();
  auto h0 = histogram_by(*a.registry(), "sloagent_controller_tick_duration_seconds", "controller");
  Timing full, f, f_old;
  uint64_t preads0 = a.stat_preads();
  for (int i = 0; i < ticks; ++i) {
    uint64_t before = a.stat_preads();
    full.run([&] { a.tick(true, true); });
    all.round(f, a.stat_preads() - before);
    stat_only.round(f_old, a.stat_preads() - before);
  }
  uint64_t preads_per_tick = (a.stat_preads() - preads0) / static_cast<uint64_t>(ticks);
  const auto ex1 = a.executor().stats();
  auto h1 = histogram_by(*a.registry(), "sloagent_controller_tick_duration_seconds", "controller");

  // Steady ticks: as the daemon runs them (agent.tickMs apart; hot stats, controllers when due, the slow tick and
  // publish when their interval comes).
  Timing steady_t;
  uint64_t preads1 = a.stat_preads();
  const int steady = std::max(10, ticks / 2);
  auto next = Clock::now();
  Timing fs, fs_old;
  double steady_cpu_ticks = 0;
  for (int i = 0; i < steady; ++i) {
    next += std::chrono::milliseconds(100);
    std::this_thread::sleep_until(next);
    uint64_t before = a.stat_preads();
    const double c0 = cpu_us();
    steady_t.run([&] { a.tick(false, false); });
    steady_cpu_ticks += cpu_us() - c0;
    cpu.round(fs, a.stat_preads() - before);
    stat_only.round(fs_old, a.stat_preads() - before);
  }
  double steady_cpu_mean = steady_cpu_ticks / steady;  // includes the slow ticks and publishes
  double steady_preads = static_cast<double>(a.stat_preads() - preads1) / steady;
  const auto ex2 = a.executor().stats();

  for (auto* fl : {&all, &cpu, &stat_only})
    for (int fd : fl->fds) ::close(fd);

  auto rss = proc_status();
  if (std::getenv("SLO_BENCH_SMAPS")) print_anon_mappings();
  // For heap profilers (heaptrack): leave without destroying the agent, so what is live now is reported as leaked.
  if (std::getenv("SLO_BENCH_EXIT_AT_RSS")) std::exit(0);
  std::printf("%-3s %4d pods %4d ctrs, %zu controllers (CPU time, median; wall in brackets)\n", v2 ? "v2" : "v1", pods,
              pods * 2, a.enabled_controllers());
  std::printf("    full tick   %8.1f us [%8.1f] = %6.2f us/pod | floor %7.1f us [%7.1f] (%5llu preads) | ratio %5.2f\n",
              full.c(), full.w(), full.c() / pods, f.c(), f.w(), static_cast<unsigned long long>(preads_per_tick),
              f.c() > 0 ? full.c() / f.c() : 0.0);
  std::printf("    steady tick %8.1f us [%8.1f], mean %.1f us incl. slow ticks | %.0f preads/tick | floor %6.1f us "
              "[%6.1f] | ratio %5.2f (median), %5.2f (mean)\n",
              steady_t.c(), steady_t.w(), steady_cpu_mean, steady_preads, fs.c(), fs.w(),
              fs.c() > 0 ? steady_t.c() / fs.c() : 0.0, fs.mean() > 0 ? steady_cpu_mean / fs.mean() : 0.0);
  std::printf("    cpu.stat-only floor (sessions 1-3): full %.1f us (ratio %.2f), steady %.1f us (ratio %.2f median)\n",
              f_old.c(), f_old.c() > 0 ? full.c() / f_old.c() : 0.0, fs_old.c(),
              fs_old.c() > 0 ? steady_t.c() / fs_old.c() : 0.0);
  std::printf("    RSS %.1f MB (VmHWM %.1f): anon %.1f MB, file %.1f MB, shmem %.1f MB; at child start %.1f MB "
              "(anon %.1f, file %.1f)\n",
              rss["VmRSS"] / 1024.0, rss["VmHWM"] / 1024.0, rss["RssAnon"] / 1024.0, rss["RssFile"] / 1024.0,
              rss["RssShmem"] / 1024.0, rss0["VmRSS"] / 1024.0, rss0["RssAnon"] / 1024.0, rss0["RssFile"] / 1024.0);
  std::printf("    heap trim after the collection (as after a scrape): %.0f us CPU\n", trim_us);
  std::string per;
  for (const auto& [name, v] : h1) {
    auto b = h0.count(name) ? h0[name] : std::pair<double, double>{0, 0};
    double n = v.second - b.second;
    if (n > 0) {
      char buf[96];
      std::snprintf(buf, sizeof buf, " %s=%.0fus", name.c_str(), (v.first - b.first) / n * 1e6);
      per += buf;
    }
  }
  std::printf("    decide per controller (mean over full ticks):%s\n", per.c_str());
  auto writes = [](const agent::ExecutorStats& x, const agent::ExecutorStats& y, int n) {
    std::string s;
    char buf[96];
    std::snprintf(buf, sizeof buf, "%.2f/tick", static_cast<double>(y.writes_ok - x.writes_ok) / n);
    s = buf;
    for (const auto& [c, k] : y.writes_by_controller) {
      auto it = x.writes_by_controller.find(c);
      uint64_t d = k - (it == x.writes_by_controller.end() ? 0 : it->second);
      if (!d) continue;
      std::snprintf(buf, sizeof buf, " %s=%.2f", c.empty() ? "(restores)" : c.c_str(), static_cast<double>(d) / n);
      s += buf;
    }
    std::snprintf(buf, sizeof buf, "; restored %llu, knob reads %llu, peeks %llu",
                  static_cast<unsigned long long>(y.restored - x.restored),
                  static_cast<unsigned long long>(y.reads - x.reads), static_cast<unsigned long long>(y.peeks - x.peeks));
    return s + buf;
  };
  std::printf("    knob writes: full ticks %s | steady ticks %s | held %zu\n", writes(ex0, ex1, ticks).c_str(),
              writes(ex1, ex2, steady).c_str(), a.executor().held().size());
  return 0;
}

std::vector<int> split_ints(const std::string& s) {
  std::vector<int> out;
  std::stringstream ss(s);
  std::string x;
  while (std::getline(ss, x, ',')) out.push_back(std::atoi(x.c_str()));
  return out;
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string x;
  while (std::getline(ss, x, ',')) out.push_back(x);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  log::set_level(log::Level::error);
  agent::limit_malloc_arenas();  // as `sloagent run` does
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() >= 3 && args[0] == "--make-tree") {
    make_node(args[1], args.size() > 3 && args[3] == "v2", std::atoi(args[2].c_str()));
    return 0;
  }
  int ticks = 200;
  std::vector<int> pods = {50, 200, 500};
  std::vector<std::string> layouts = {"v1", "v2"};
  bool no_fork = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const bool has_value = i + 1 < args.size();
    if (args[i] == "--no-fork") no_fork = true;
    if (!has_value) continue;
    if (args[i] == "--ticks") ticks = std::atoi(args[++i].c_str());
    else if (args[i] == "--pods") pods = split_ints(args[++i]);
    else if (args[i] == "--layouts") layouts = split(args[++i]);
  }
  for (const auto& l : layouts)
    if (l != "v1" && l != "v2") {
      std::fprintf(stderr, "--layouts: v1, v2 or v1,v2\n");
      return 2;
    }
  // Not /dev/shm: a tmpfs root is taken for a real cgroup mount point (fstatfs magic) and must hold cgroup mounts.
  const char* env = std::getenv("SLO_BENCH_DIR");
  std::string dir = env && *env ? env : "/tmp";
  std::printf("# nproc %ld, loadavg %s", sysconf(_SC_NPROCESSORS_ONLN), [] {
    std::ifstream in("/proc/loadavg");
    std::string s;
    std::getline(in, s);
    return s + "\n";
  }().c_str());
  for (const auto& l : layouts)
    for (int n : pods) {
      std::string tmpl = dir + "/slo-bench-XXXXXX";
      if (!::mkdtemp(tmpl.data())) return 1;
      std::fflush(stdout);
      if (no_fork) {  // one configuration in this process, e.g. under heaptrack (which does not follow forks)
        int rc = run_one(tmpl, l == "v2", n, ticks);
        std::filesystem::remove_all(tmpl);
        if (rc != 0) std::printf("%s %d pods: failed (exit %d)\n", l.c_str(), n, rc);
        if (rc != 0) return rc;
        continue;
      }
      pid_t pid = ::fork();
      if (pid == 0) {
        int rc = run_one(tmpl, l == "v2", n, ticks);
        std::fflush(stdout);
        ::_exit(rc);
      }
      int st = 0;
      ::waitpid(pid, &st, 0);
      std::filesystem::remove_all(tmpl);
      if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) std::printf("%s %d pods: failed (status %d)\n", l.c_str(), n, st);
    }
  return 0;
}
