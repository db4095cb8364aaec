// Runtime benchmark: cost of one full tick (observe every stat, every registered controller decides, executor
// diff) on a synthetic node in tmpfs, v1 and v2 layouts, 50/200/500 pods × 2 containers, against the floor measured
// in the same run: the same number of bare pread(2)s on kept-open stat files. Each configuration runs in a forked
// child so its RSS is its own. See docs/benchmarks-runtime.md.
//
//   runtime_tick_bench [--ticks N] [--pods 50,200,500] [--layouts v1,v2]
//   runtime_tick_bench --make-tree DIR PODS [v1|v2]     (tree + pods.json for the daemon benchmark)
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "agent/observe/file_pod_source.h"
#include "agent/runtime/agent.h"
#include "agent/runtime/log.h"
#include "tests/runtime/fake_node.h"

using namespace slo;
using Clock = std::chrono::steady_clock;

namespace {

long rss_kb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  return -1;
}

const char* kConfig =
    "agent: {nodeName: node-1, logLevel: error}\n"
    "clusterStrategy:\n"
    "  cpuBurstStrategy: {policy: auto, cpuBurstPercent: 100, cfsQuotaBurstPercent: 300}\n";

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

// Child: builds the node, runs ticks, prints one result line.
int run_one(const std::string& base, bool v2, int pods, int ticks) {
  std::string root = base + "/cg";
  test::FakeNode node(root, v2);
  node.populate(pods);
  node.write_pod_list(base + "/pods.json");
  std::ofstream(base + "/config.yaml") << kConfig;
  agent::AgentOptions o;
  o.config_path = base + "/config.yaml";
  o.cgroup_root = root;
  o.state_dir = base + "/state";
  o.sysfs_root = "/sys";
  o.proc_root = "/proc";
  o.pod_source = std::make_unique<agent::FilePodSource>(base + "/pods.json", std::chrono::seconds(10));
  o.handle_signals = false;
  o.watch = false;
  agent::Agent a(std::move(o));
  if (auto e = a.init()) {
    std::fprintf(stderr, "init: %s\n", e->c_str());
    return 1;
  }
  if (!a.sync_pods_now()) return 1;
  for (int i = 0; i < 5; ++i) a.tick(true, true);  // warm: files opened, knobs read, first writes done

  std::vector<double> tick_us;
  uint64_t preads0 = a.stat_preads();
  for (int i = 0; i < ticks; ++i) {
    auto t0 = Clock::now();
    a.tick(true, true);
    tick_us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  }
  uint64_t preads_per_tick = (a.stat_preads() - preads0) / static_cast<uint64_t>(ticks);

  // Floor: the same number of preads on kept-open cpu.stat files of the same tree.
  std::vector<int> fds;
  for (const auto& p : a.snapshot().pods)
    for (const auto& c : p.containers) {
      std::string f = v2 ? root + "/" + c.cgroup + "/cpu.stat" : root + "/cpu/" + c.cgroup + "/cpu.stat";
      int fd = ::open(f.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd >= 0) fds.push_back(fd);
    }
  std::vector<double> floor_us;
  char buf[4096];
  for (int i = 0; i < ticks; ++i) {
    auto t0 = Clock::now();
    for (uint64_t k = 0; k < preads_per_tick; ++k) {
      ssize_t n = ::pread(fds[k % fds.size()], buf, sizeof buf, 0);
      if (n < 0) return 1;
    }
    floor_us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  }
  for (int fd : fds) ::close(fd);

  // A fast (non-slow) tick: hot cgroups only, controllers due by their own period.
  std::vector<double> fast_us;
  for (int i = 0; i < ticks; ++i) {
    auto t0 = Clock::now();
    a.tick(false, false);
    fast_us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  }
  double t = median(tick_us), f = median(floor_us);
  // Per-controller share of the last published tick (to see which decide() dominates).
  std::string per;
  for (const auto& c : a.queries()->status()["controllers"])
    if (c["enabled"].get<bool>())
      per += " " + c["name"].get<std::string>() + "=" + std::to_string(static_cast<int>(c["last_tick_seconds"].get<double>() * 1e6)) + "us";
  std::printf("%-3s %4d pods %4d ctrs | full tick %9.1f us  %6.2f us/pod | floor %8.1f us (%5llu preads) | "
              "ratio %5.2f | fast tick %8.1f us | controllers %zu | RSS %6.1f MB\n",
              v2 ? "v2" : "v1", pods, pods * 2, t, t / pods, f, static_cast<unsigned long long>(preads_per_tick),
              f > 0 ? t / f : 0.0, median(fast_us), a.enabled_controllers(), static_cast<double>(rss_kb()) / 1024.0);
  std::printf("    decide per controller:%s\n", per.c_str());
  return 0;
}

std::vector<int> split_ints(const std::string& s) {
  std::vector<int> out;
  std::stringstream ss(s);
  std::string x;
  while (std::getline(ss, x, ',')) out.push_back(std::atoi(x.c_str()));
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  log::set_level(log::Level::error);
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() >= 3 && args[0] == "--make-tree") {
    test::FakeNode node(args[1] + "/cg", args.size() > 3 && args[3] == "v2");
    node.populate(std::atoi(args[2].c_str()));
    node.write_pod_list(args[1] + "/pods.json");
    return 0;
  }
  int ticks = 200;
  std::vector<int> pods = {50, 200, 500};
  std::vector<std::string> layouts = {"v1", "v2"};
  for (size_t i = 0; i + 1 < args.size(); i += 2) {
    if (args[i] == "--ticks") ticks = std::atoi(args[i + 1].c_str());
    if (args[i] == "--pods") pods = split_ints(args[i + 1]);
    if (args[i] == "--layouts") layouts = {args[i + 1] == "v1" || args[i + 1] == "v2" ? args[i + 1] : "v1"};
  }
  // Not /dev/shm: a tmpfs root is taken for a real cgroup mount point (fstatfs magic) and must hold cgroup mounts.
  const char* env = std::getenv("SLO_BENCH_DIR");
  std::string shm = env && *env ? env : "/tmp";
  for (const auto& l : layouts)
    for (int n : pods) {
      std::string tmpl = shm + "/slo-bench-XXXXXX";
      if (!::mkdtemp(tmpl.data())) return 1;
      std::fflush(stdout);
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
