// Chooses CPUs for a pinned pod from a set of free CPUs, topology-aware. Pure: no I/O, no state, so it can be
// tested on every sysfs fixture and benchmarked against a first-fit baseline.
//
// Preference, first that fits wins (best fit = the smallest scope that holds the request, to keep big holes for
// big requests):
//   1. one L3 domain ∩ one NUMA node     (SNC: a sub-NUMA cluster of one L3)
//   2. one L3 domain
//   3. one NUMA node
//   4. one package
//   5. spread over the fewest L3 domains (largest free domains first)
// Within a scope, FullPCPUs takes whole free physical cores first (then fills a half-used core before splitting a
// whole one); SpreadByPCPUs takes one thread per physical core before any second thread.
// Hosts without L3 information (no cache/index3) use the package as the cache domain.
#pragma once

#include <optional>
#include <string>

#include "agent/model/topology.h"
#include "cgroups/cpu_set.h"

namespace slo::cpuset {

enum class BindPolicy { FullPCPUs, SpreadByPCPUs };
std::string_view to_string(BindPolicy p);
std::optional<BindPolicy> bind_policy_from_string(std::string_view s);

struct Allocation {
  cg::CpuSet cpus;
  std::string scope;  // "l3+numa", "l3", "numa", "package", "spread"
};

class CpuAllocator {
 public:
  explicit CpuAllocator(const model::Topology& topo) : topo_(topo) {}

  // nullopt when `free` holds fewer than n CPUs (or n <= 0).
  std::optional<Allocation> allocate(const cg::CpuSet& free, int n, BindPolicy policy) const;

  // Baseline for comparison: the n lowest-numbered free CPUs.
  static std::optional<cg::CpuSet> first_fit(const cg::CpuSet& free, int n);

  // Cache domain of a CPU: its L3 id, or (no L3 info) a key derived from its package.
  int cache_domain(int cpu) const;

 private:
  cg::CpuSet pick_in_scope(const cg::CpuSet& scope_free, int n, BindPolicy policy) const;
  const model::Topology& topo_;
};

}  // namespace slo::cpuset
