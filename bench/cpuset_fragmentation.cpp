// Fragmentation of pinned-CPU allocations on every sysfs fixture: the topology-aware allocator (FullPCPUs) versus a
// first-fit baseline (lowest-numbered free CPUs), both fed the same churn of pods.
//
// A pod is "split" when its CPUs span more than one L3 domain although its request would fit in one, and
// "SMT-shared" when one of its physical cores also runs another pod's CPU. Figures are averaged over pod-steps
// (every live pod counted at every step), so long-lived fragmentation weighs more than a momentary one.
//
// Usage: cpuset_fragmentation [SYSFS_FIXTURES_DIR] [--steps N] [--seed S]
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "agent/decide/cpuset/cpu_allocator.h"
#include "agent/model/topology.h"

using slo::cg::CpuSet;
using slo::cpuset::BindPolicy;
using slo::cpuset::CpuAllocator;
using slo::model::Topology;

namespace {

struct Event {
  int arrive, depart, cpus;
};

// The same arrivals and lifetimes for both strategies: load around 85 % of the node on average.
std::vector<Event> workload(const Topology& t, int steps, unsigned seed) {
  std::mt19937 rng(seed);
  const int sizes[] = {1, 2, 2, 4, 4, 4, 6, 8};
  const double mean_size = 31.0 / 8.0;
  const int mean_life = 40;
  const double rate = 0.85 * static_cast<double>(t.cpus.size()) / (mean_size * mean_life);
  std::vector<Event> ev;
  double acc = 0;
  for (int s = 0; s < steps; ++s) {
    acc += rate;
    while (acc >= 1.0) {
      acc -= 1.0;
      int life = 1 + static_cast<int>(rng() % (2 * mean_life));
      int n = sizes[rng() % 8];
      if (static_cast<size_t>(n) > t.cpus.size() / 2) n = std::max<int>(1, static_cast<int>(t.cpus.size() / 4));
      ev.push_back({s, s + life, n});
    }
  }
  return ev;
}

struct Figures {
  double pod_steps = 0, split = 0, smt_shared = 0;
  int placed = 0, rejected = 0;
};

Figures simulate(const Topology& t, const std::vector<Event>& ev, int steps, bool topology_aware) {
  CpuAllocator alloc(t);
  size_t largest_domain = 0;
  std::map<int, size_t> dom_size;
  for (const auto& c : t.cpus) largest_domain = std::max(largest_domain, ++dom_size[alloc.cache_domain(c.id)]);
  Figures f;
  CpuSet free = t.all();
  std::map<size_t, CpuSet> live;  // event index → CPUs
  size_t next = 0;
  for (int s = 0; s < steps; ++s) {
    for (auto it = live.begin(); it != live.end();) {
      if (ev[it->first].depart == s) {
        free = free | it->second;
        it = live.erase(it);
      } else {
        ++it;
      }
    }
    for (; next < ev.size() && ev[next].arrive == s; ++next) {
      std::optional<CpuSet> got;
      if (topology_aware) {
        if (auto a = alloc.allocate(free, ev[next].cpus, BindPolicy::FullPCPUs)) got = a->cpus;
      } else {
        got = CpuAllocator::first_fit(free, ev[next].cpus);
      }
      if (!got) {
        ++f.rejected;
        continue;
      }
      ++f.placed;
      free = free - *got;
      live[next] = *got;
    }
    // Core → owners, for SMT sharing.
    std::map<int, std::set<size_t>> core_owners;
    for (const auto& [id, cpus] : live)
      for (int c : cpus.ids()) core_owners[t.cpu(c)->core_key].insert(id);
    for (const auto& [id, cpus] : live) {
      f.pod_steps += 1;
      std::set<int> doms;
      bool shared = false;
      for (int c : cpus.ids()) {
        doms.insert(alloc.cache_domain(c));
        shared = shared || core_owners[t.cpu(c)->core_key].size() > 1;
      }
      if (doms.size() > 1 && cpus.size() <= largest_domain) f.split += 1;
      if (shared) f.smt_shared += 1;
    }
  }
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir;
  int steps = 2000;
  unsigned seed = 42;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--steps" && i + 1 < argc) {
      steps = std::atoi(argv[++i]);
    } else if (a == "--seed" && i + 1 < argc) {
      seed = static_cast<unsigned>(std::strtoul(argv[++i], nullptr, 10));
    } else if (a.rfind("--", 0) == 0) {
      std::fprintf(stderr, "usage: cpuset_fragmentation [SYSFS_FIXTURES_DIR] [--steps N] [--seed S]\n");
      return 2;
    } else {
      dir = a;
    }
  }
  if (dir.empty()) {
    const char* env = std::getenv("SLO_FIXTURES");
    dir = std::string(env ? env : "../shared/fixtures") + "/sysfs";
  }
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec))
    if (e.is_directory()) names.push_back(e.path().filename().string());
  if (ec || names.empty()) {
    std::fprintf(stderr, "cpuset_fragmentation: no fixtures under %s\n", dir.c_str());
    return 1;
  }
  std::sort(names.begin(), names.end());
  std::printf("steps %d, seed %u, pods of 1/2/4/6/8 CPUs at ~85%% average load\n\n", steps, seed);
  std::printf("| fixture | CPUs | L3 | SMT | pods placed (ours / first-fit) | split across L3 %% (ours / first-fit) | "
              "SMT-shared %% (ours / first-fit) |\n|---|---|---|---|---|---|---|\n");
  double sum_split[2] = {0, 0}, sum_smt[2] = {0, 0}, sum_steps[2] = {0, 0};
  for (const auto& n : names) {
    auto t = Topology::read(dir + "/" + n);
    if (!t.ok()) {
      std::fprintf(stderr, "cpuset_fragmentation: %s: %s\n", n.c_str(), t.status.describe().c_str());
      return 1;
    }
    auto ev = workload(t.value, steps, seed);
    Figures ours = simulate(t.value, ev, steps, true);
    Figures ff = simulate(t.value, ev, steps, false);
    auto pct = [](double a, double b) { return b > 0 ? 100.0 * a / b : 0.0; };
    CpuAllocator a(t.value);
    std::set<int> doms;
    for (const auto& c : t.value.cpus) doms.insert(a.cache_domain(c.id));
    std::printf("| %s | %zu | %zu | %d | %d / %d | %.1f / %.1f | %.1f / %.1f |\n", n.c_str(), t.value.cpus.size(),
                doms.size(), t.value.threads_per_core(), ours.placed, ff.placed, pct(ours.split, ours.pod_steps),
                pct(ff.split, ff.pod_steps), pct(ours.smt_shared, ours.pod_steps), pct(ff.smt_shared, ff.pod_steps));
    sum_split[0] += ours.split, sum_split[1] += ff.split;
    sum_smt[0] += ours.smt_shared, sum_smt[1] += ff.smt_shared;
    sum_steps[0] += ours.pod_steps, sum_steps[1] += ff.pod_steps;
  }
  std::printf("| **all fixtures** | | | | | %.1f / %.1f | %.1f / %.1f |\n", 100.0 * sum_split[0] / sum_steps[0],
              100.0 * sum_split[1] / sum_steps[1], 100.0 * sum_smt[0] / sum_steps[0], 100.0 * sum_smt[1] / sum_steps[1]);
  return 0;
}
