#include "agent/decide/cpuset/cpu_allocator.h"

#include <algorithm>
#include <map>
#include <tuple>
#include <vector>

namespace slo::cpuset {

std::string_view to_string(BindPolicy p) { return p == BindPolicy::FullPCPUs ? "FullPCPUs" : "SpreadByPCPUs"; }

std::optional<BindPolicy> bind_policy_from_string(std::string_view s) {
  // Koordinator spells the node-level option FullPCPUsOnly; accept both.
  if (s == "FullPCPUs" || s == "FullPCPUsOnly") return BindPolicy::FullPCPUs;
  if (s == "SpreadByPCPUs") return BindPolicy::SpreadByPCPUs;
  return std::nullopt;
}

int CpuAllocator::cache_domain(int cpu) const {
  const model::CpuInfo* c = topo_.cpu(cpu);
  if (!c) return -1;
  if (c->l3 >= 0) return c->l3;
  return -1000000 - c->package;  // never collides with a real L3 id
}

std::optional<cg::CpuSet> CpuAllocator::first_fit(const cg::CpuSet& free, int n) {
  if (n <= 0 || free.size() < static_cast<size_t>(n)) return std::nullopt;
  cg::CpuSet out;
  for (int id : free.ids()) {
    if (out.size() == static_cast<size_t>(n)) break;
    out.add(id);
  }
  return out;
}

cg::CpuSet CpuAllocator::pick_in_scope(const cg::CpuSet& scope_free, int n, BindPolicy policy) const {
  // Free threads of each physical core in scope, and whether the whole core is free.
  struct Core {
    int key;
    std::vector<int> free_threads;
    bool whole;
  };
  std::vector<Core> cores;
  std::map<int, size_t> index;
  for (int id : scope_free.ids()) {
    const model::CpuInfo* c = topo_.cpu(id);
    int key = c ? c->core_key : id;
    auto [it, fresh] = index.emplace(key, cores.size());
    if (fresh) cores.push_back(Core{key, {}, false});
    cores[it->second].free_threads.push_back(id);
  }
  for (auto& c : cores) c.whole = c.free_threads.size() == topo_.siblings_of(c.key).size();

  cg::CpuSet out;
  auto need = [&] { return static_cast<size_t>(n) - out.size(); };
  if (policy == BindPolicy::FullPCPUs) {
    // Whole cores that fit entirely, the biggest first (fewest cores: a 2-thread core before two 1-thread ones
    // where SMT siblings are offline), in CPU order otherwise (neighbouring cores share L2 clusters on hybrid/Arm).
    std::vector<Core*> by_size;
    for (auto& c : cores) by_size.push_back(&c);
    std::stable_sort(by_size.begin(), by_size.end(),
                     [](const Core* a, const Core* b) { return a->free_threads.size() > b->free_threads.size(); });
    for (Core* cp : by_size) {
      Core& c = *cp;
      if (need() == 0) break;
      if (c.whole && c.free_threads.size() <= need()) {
        for (int id : c.free_threads) out.add(id);
        c.free_threads.clear();
      }
    }
    // A remainder smaller than a core: fill a half-used core first (it is already shared), then split a whole one.
    for (int pass = 0; pass < 2 && need() > 0; ++pass) {
      for (auto& c : cores) {
        if (need() == 0) break;
        if (c.free_threads.empty() || (pass == 0 && c.whole)) continue;
        while (!c.free_threads.empty() && need() > 0) {
          out.add(c.free_threads.front());
          c.free_threads.erase(c.free_threads.begin());
        }
      }
    }
    return out;
  }
  // SpreadByPCPUs: round-robin over cores, whole cores first, one thread per core per round.
  std::stable_sort(cores.begin(), cores.end(), [](const Core& a, const Core& b) { return a.whole > b.whole; });
  for (size_t round = 0; need() > 0; ++round) {
    bool took = false;
    for (auto& c : cores) {
      if (need() == 0) break;
      if (round < c.free_threads.size()) {
        out.add(c.free_threads[round]);
        took = true;
      }
    }
    if (!took) break;
  }
  return out;
}

std::optional<Allocation> CpuAllocator::allocate(const cg::CpuSet& free_in, int n, BindPolicy policy) const {
  // Only CPUs the topology knows (online) can be handed out.
  const cg::CpuSet free = free_in & topo_.all();
  if (n <= 0 || free.size() < static_cast<size_t>(n)) return std::nullopt;

  // Free CPUs per scope at each level.
  std::map<std::pair<int, int>, cg::CpuSet> l3_numa;
  std::map<int, cg::CpuSet> l3, numa, package;
  for (int id : free.ids()) {
    const model::CpuInfo* c = topo_.cpu(id);
    int dom = cache_domain(id);
    l3_numa[{dom, c->numa}].add(id);
    l3[dom].add(id);
    numa[c->numa].add(id);
    package[c->package].add(id);
  }

  // Number of whole free cores' threads in a scope: a scope that can serve the request with whole cores is
  // preferred over one that would have to split cores (FullPCPUs), then the smallest scope wins (best fit).
  auto whole_threads = [&](const cg::CpuSet& s) {
    size_t t = 0;
    for (const auto& [key, cpus] : topo_.cores())
      if (cpus.is_subset_of(s)) t += cpus.size();
    return t;
  };
  auto best_fit = [&](const auto& scopes) -> std::optional<cg::CpuSet> {
    std::optional<std::tuple<int, size_t, int>> best_key;
    std::optional<cg::CpuSet> best;
    int order = 0;
    for (const auto& [k, s] : scopes) {
      ++order;
      if (s.size() < static_cast<size_t>(n)) continue;
      int split = (policy == BindPolicy::FullPCPUs && whole_threads(s) < static_cast<size_t>(n)) ? 1 : 0;
      auto key = std::make_tuple(split, s.size(), order);
      if (!best_key || key < *best_key) {
        best_key = key;
        best = s;
      }
    }
    return best;
  };
  const std::pair<const char*, std::optional<cg::CpuSet>> levels[] = {
      {"l3+numa", best_fit(l3_numa)}, {"l3", best_fit(l3)}, {"numa", best_fit(numa)}, {"package", best_fit(package)}};
  for (const auto& [name, scope] : levels)
    if (scope) return Allocation{pick_in_scope(*scope, n, policy), name};

  // Spread: the fewest cache domains, largest free first; each domain gives what it can.
  std::vector<std::pair<int, cg::CpuSet>> doms(l3.begin(), l3.end());
  std::stable_sort(doms.begin(), doms.end(),
                   [](const auto& a, const auto& b) { return a.second.size() > b.second.size(); });
  Allocation out{{}, "spread"};
  for (const auto& [dom, s] : doms) {
    size_t need = static_cast<size_t>(n) - out.cpus.size();
    if (need == 0) break;
    out.cpus = out.cpus | pick_in_scope(s, static_cast<int>(std::min(need, s.size())), policy);
  }
  return out;
}

}  // namespace slo::cpuset
