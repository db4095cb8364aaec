// The allocator's choices on every real sysfs topology: core, L3 and NUMA locality.
#include <filesystem>
#include <set>

#include <catch2/catch.hpp>

#include "agent/decide/cpuset/cpu_allocator.h"
#include "tests/common/support.h"

using slo::cg::CpuSet;
using slo::cpuset::BindPolicy;
using slo::cpuset::CpuAllocator;
using slo::model::Topology;

namespace {

Topology load(const std::string& name) {
  auto r = Topology::read(slo::test::fixture("sysfs/" + name));
  REQUIRE(r.ok());
  return r.value;
}

std::vector<std::string> all_fixtures() {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(slo::test::fixture("sysfs")))
    if (e.is_directory()) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

std::set<int> domains(const CpuAllocator& a, const CpuSet& s) {
  std::set<int> d;
  for (int c : s.ids()) d.insert(a.cache_domain(c));
  return d;
}
std::set<int> numas(const Topology& t, const CpuSet& s) {
  std::set<int> d;
  for (int c : s.ids()) d.insert(t.cpu(c)->numa);
  return d;
}
// Physical cores touched, and whether every touched core is taken whole.
bool whole_cores(const Topology& t, const CpuSet& s) {
  for (int c : s.ids())
    if (!t.siblings_of(c).is_subset_of(s)) return false;
  return true;
}
size_t cores_touched(const Topology& t, const CpuSet& s) {
  std::set<int> k;
  for (int c : s.ids()) k.insert(t.cpu(c)->core_key);
  return k.size();
}
// Smallest (cache domain ∩ NUMA node) on the host: a request up to this size must stay in one of each.
size_t smallest_scope(const Topology& t, const CpuAllocator& a) {
  std::map<std::pair<int, int>, size_t> n;
  for (const auto& c : t.cpus) n[{a.cache_domain(c.id), c.numa}]++;
  size_t m = SIZE_MAX;
  for (const auto& [k, v] : n) m = std::min(m, v);
  return m;
}

}  // namespace

TEST_CASE("allocations on an idle node stay in one L3 domain and NUMA node, on whole cores", "[allocator]") {
  for (const auto& name : all_fixtures()) {
    INFO("fixture " << name);
    Topology t = load(name);
    CpuAllocator a(t);
    const int tpc = t.threads_per_core();
    const size_t scope = smallest_scope(t, a);
    for (int n : {1, 2, 3, 4, 6, 8}) {
      if (static_cast<size_t>(n) > scope) continue;
      INFO("n=" << n);
      auto full = a.allocate(t.all(), n, BindPolicy::FullPCPUs);
      REQUIRE(full);
      CHECK(full->cpus.size() == static_cast<size_t>(n));
      CHECK(full->cpus.is_subset_of(t.online));
      CHECK(domains(a, full->cpus).size() == 1);
      CHECK(numas(t, full->cpus).size() == 1);
      CHECK(full->scope == "l3+numa");
      // FullPCPUs: the fewest physical cores (a hybrid part may serve an odd remainder from a 1-thread E-core).
      CHECK(cores_touched(t, full->cpus) == static_cast<size_t>((n + tpc - 1) / tpc));
      if (n % tpc == 0) CHECK(whole_cores(t, full->cpus));
      auto spread = a.allocate(t.all(), n, BindPolicy::SpreadByPCPUs);
      REQUIRE(spread);
      CHECK(spread->cpus.size() == static_cast<size_t>(n));
      CHECK(domains(a, spread->cpus).size() == 1);
      // SpreadByPCPUs: one thread per physical core, as far as the scope has cores.
      const int dom = a.cache_domain(spread->cpus.first()), node = t.cpu(spread->cpus.first())->numa;
      std::set<int> scope_cores;
      for (const auto& c : t.cpus)
        if (a.cache_domain(c.id) == dom && c.numa == node) scope_cores.insert(c.core_key);
      CHECK(cores_touched(t, spread->cpus) == std::min(static_cast<size_t>(n), scope_cores.size()));
    }
  }
}

TEST_CASE("filling a node pod by pod never splits a core or an L3 domain when requests fit", "[allocator]") {
  for (const auto& name : all_fixtures()) {
    INFO("fixture " << name);
    Topology t = load(name);
    CpuAllocator a(t);
    const int tpc = t.threads_per_core();
    CpuSet free = t.all();
    std::vector<CpuSet> pods;
    // Requests of one and two whole cores (mixed), until the node is full.
    for (int i = 0;; ++i) {
      int n = tpc * (i % 2 == 0 ? 2 : 1);
      auto r = a.allocate(free, n, BindPolicy::FullPCPUs);
      if (!r) break;
      CHECK((r->cpus & free) == r->cpus);
      free = free - r->cpus;
      pods.push_back(r->cpus);
    }
    CHECK(free.size() < static_cast<size_t>(2 * tpc));
    size_t split_l3 = 0, shared_core = 0;
    for (size_t i = 0; i < pods.size(); ++i) {
      if (domains(a, pods[i]).size() > 1) ++split_l3;
      for (size_t j = 0; j < pods.size(); ++j)
        if (i != j)
          for (int c : pods[i].ids())
            if (!(t.siblings_of(c) & pods[j]).empty()) ++shared_core;
    }
    // Hybrid parts have 1-thread E-cores: a 2-CPU request that finds only E-cores left takes two of them, which
    // shares nothing. A pod only spans two L3 domains when no single domain has room left.
    CHECK(shared_core == 0);
    CHECK(split_l3 <= 1);
  }
}

TEST_CASE("a busy L3 domain is skipped rather than split", "[allocator]") {
  Topology t = load("nri-4socket-144cpu-nosnc");
  CpuAllocator a(t);
  // Socket 0 (L3 0, node 0: CPUs 0-17,72-89) has only 2 free cores left.
  CpuSet free = t.all() - *CpuSet::parse("0-15,72-87");
  auto r = a.allocate(free, 8, BindPolicy::FullPCPUs);
  REQUIRE(r);
  CHECK(domains(a, r->cpus).size() == 1);
  CHECK(t.cpu(r->cpus.first())->numa == 1);  // best fit: the first of the equally free domains
  CHECK(whole_cores(t, r->cpus));
  CHECK(r->cpus == *CpuSet::parse("18-21,90-93"));
  // A 4-CPU request fits in the nearly full socket 0 exactly: best fit keeps the empty sockets whole.
  auto small = a.allocate(free, 4, BindPolicy::FullPCPUs);
  REQUIRE(small);
  CHECK(small->cpus == *CpuSet::parse("16-17,88-89"));
}

TEST_CASE("SNC: a request stays inside one sub-NUMA node of the shared L3", "[allocator]") {
  Topology t = load("nri-2socket-80cpu-snc2");
  CpuAllocator a(t);
  auto r = a.allocate(t.all(), 8, BindPolicy::FullPCPUs);
  REQUIRE(r);
  CHECK(r->scope == "l3+numa");
  CHECK(numas(t, r->cpus).size() == 1);
  CHECK(whole_cores(t, r->cpus));
  // 30 CPUs: more than a sub-NUMA node (20) but within one L3 (40): one L3, two nodes.
  auto big = a.allocate(t.all(), 30, BindPolicy::FullPCPUs);
  REQUIRE(big);
  CHECK(big->scope == "l3");
  CHECK(domains(a, big->cpus).size() == 1);
}

TEST_CASE("requests larger than an L3 domain use the fewest domains", "[allocator]") {
  Topology t = load("hwloc-amd-opteron6276-4socket-64cpu-8node");
  CpuAllocator a(t);
  // 8 CPUs per L3/node, 16 per package: 12 CPUs → one package (2 domains), 20 → spread over 3 domains.
  auto r12 = a.allocate(t.all(), 12, BindPolicy::FullPCPUs);
  REQUIRE(r12);
  CHECK(r12->scope == "package");
  CHECK(domains(a, r12->cpus).size() == 2);
  auto r20 = a.allocate(t.all(), 20, BindPolicy::FullPCPUs);
  REQUIRE(r20);
  CHECK(r20->scope == "spread");
  CHECK(domains(a, r20->cpus).size() == 3);
  CHECK_FALSE(a.allocate(t.all(), 65, BindPolicy::FullPCPUs));
  CHECK_FALSE(a.allocate(t.all(), 0, BindPolicy::FullPCPUs));
}

TEST_CASE("hybrid: a one-CPU request takes an E-core instead of breaking a P-core", "[allocator]") {
  Topology t = load("nri-hybrid-16cpu");
  CpuAllocator a(t);
  auto one = a.allocate(t.all(), 1, BindPolicy::FullPCPUs);
  REQUIRE(one);
  CHECK(one->cpus == CpuSet::of({8}));
  auto two = a.allocate(t.all(), 2, BindPolicy::FullPCPUs);
  REQUIRE(two);
  CHECK(two->cpus == CpuSet::of({0, 1}));
  // An odd remainder fills a half-used core before splitting a whole one.
  CpuSet free = t.all() - CpuSet::range(8, 15) - CpuSet::of({0});  // CPU 1's sibling 0 is taken
  auto three = a.allocate(free, 3, BindPolicy::FullPCPUs);
  REQUIRE(three);
  CHECK(three->cpus == CpuSet::of({1, 2, 3}));
}

TEST_CASE("first fit is the lowest-numbered free CPUs", "[allocator]") {
  CHECK(*CpuAllocator::first_fit(*CpuSet::parse("1,3-6"), 3) == CpuSet::of({1, 3, 4}));
  CHECK_FALSE(CpuAllocator::first_fit(CpuSet::of({1}), 2));
  CHECK(slo::cpuset::bind_policy_from_string("FullPCPUsOnly") == BindPolicy::FullPCPUs);
  CHECK_FALSE(slo::cpuset::bind_policy_from_string("full"));
}
