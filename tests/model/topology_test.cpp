// Topology from every real sysfs capture in fixtures/sysfs. Expected figures were read from the fixture files
// (online list, thread_siblings_list, nodeN/cpulist, cache/index3) and cross-checked with fixtures/sysfs/SOURCE.md.
#include <filesystem>
#include <map>
#include <set>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "agent/model/topology.h"
#include "tests/common/support.h"

using slo::cg::CpuSet;
using slo::model::Topology;

namespace {

struct Expect {
  size_t cpus;        // online CPUs with topology
  size_t cores;       // physical cores (thread_siblings groups among online CPUs)
  int threads;        // most threads per core
  size_t packages;
  std::vector<int> numa_ids;    // present NUMA nodes
  size_t l3;          // L3 domains
};

const std::map<std::string, Expect>& expectations() {
  static const std::map<std::string, Expect> m = {
      {"nri-4socket-144cpu-nosnc", {144, 72, 2, 4, {0, 1, 2, 3}, 4}},
      {"nri-2socket-112cpu-snc2-pmem-8node", {112, 56, 2, 2, {0, 1, 2, 3, 4, 5, 6, 7}, 2}},
      {"nri-2socket-80cpu-snc2", {80, 40, 2, 2, {0, 1, 2, 3}, 2}},
      {"nri-desktop-20cpu", {20, 10, 2, 1, {0}, 1}},
      {"nri-hybrid-16cpu", {16, 12, 2, 1, {0}, 1}},
      {"hwloc-intel-i7-1370p-hybrid-20cpu", {20, 14, 2, 1, {0}, 1}},
      {"hwloc-amd-opteron6276-4socket-64cpu-8node", {64, 32, 2, 4, {0, 1, 2, 3, 4, 5, 6, 7}, 8}},
      {"hwloc-amd-4socket-48cpu-sparse-nodeids", {48, 48, 1, 4, {0, 1, 2, 33, 34, 45, 72, 73}, 8}},
      {"hwloc-xeon-e5-2680v3-offline-cpu0-node0", {17, 17, 1, 2, {1}, 2}},
      {"hwloc-nvidia-gb10-arm-20cpu", {20, 20, 1, 1, {0}, 2}},
      {"cadvisor-amd-epyc7402-48cpu", {42, 24, 2, 1, {}, 0}},
      {"cadvisor-amd-epyc7402-24cpu-nosmt", {17, 17, 1, 1, {}, 0}},
      {"cadvisor-xeon4214-2socket-48cpu", {48, 24, 2, 2, {}, 0}},
  };
  return m;
}

Topology load(const std::string& name) {
  auto r = Topology::read(slo::test::fixture("sysfs/" + name) + "/sys");
  REQUIRE(r.ok());
  return r.value;
}

}  // namespace

TEST_CASE("every sysfs fixture has expectations and matches them", "[topology]") {
  std::set<std::string> seen;
  for (const auto& e : std::filesystem::directory_iterator(slo::test::fixture("sysfs"))) {
    if (!e.is_directory()) continue;
    const std::string name = e.path().filename().string();
    seen.insert(name);
    INFO("fixture " << name);
    auto it = expectations().find(name);
    REQUIRE(it != expectations().end());  // a new fixture must get its facts checked here
    const Expect& x = it->second;
    Topology t = load(name);
    CHECK(t.cpus.size() == x.cpus);
    CHECK(t.online.size() == x.cpus);
    CHECK(t.cores().size() == x.cores);
    CHECK(t.threads_per_core() == x.threads);
    CHECK(t.packages().size() == x.packages);
    std::vector<int> ids;
    for (const auto& n : t.numa_nodes) ids.push_back(n.id);
    CHECK(ids == x.numa_ids);
    CHECK(t.l3_domains().size() == x.l3);
    // Structural invariants: cores partition the CPUs; siblings share core, package and L3.
    CpuSet uni;
    size_t total = 0;
    for (const auto& [key, cpus] : t.cores()) {
      uni = uni | cpus;
      total += cpus.size();
      CHECK(cpus.first() == key);
      for (int c : cpus.ids()) {
        CHECK(t.cpu(c)->package == t.cpu(key)->package);
        CHECK(t.cpu(c)->l3 == t.cpu(key)->l3);
        CHECK(t.siblings_of(c) == cpus);
      }
    }
    CHECK(total == t.cpus.size());
    CHECK(uni == t.online);
    // JSON form round-trips the counts.
    nlohmann::json j = t;
    CHECK(j["cpuCount"] == x.cpus);
    CHECK(j["coreCount"] == x.cores);
    CHECK(j["numaNodes"].size() == x.numa_ids.size());
  }
  CHECK(seen.size() == expectations().size());
}

TEST_CASE("4-socket Skylake: SMT siblings N and N+72, node = L3 = package", "[topology]") {
  Topology t = load("nri-4socket-144cpu-nosnc");
  CHECK(t.siblings_of(0) == CpuSet::of({0, 72}));
  CHECK(t.siblings_of(89) == CpuSet::of({17, 89}));
  CHECK(t.numa_cpus(1) == *CpuSet::parse("18-35,90-107"));
  CHECK(t.l3_cpus(t.cpu(18)->l3) == t.numa_cpus(1));
  CHECK(t.cpu(18)->package == 1);
  CHECK(t.numa_nodes[0].memory_bytes == 196726504LL * 1024);
}

TEST_CASE("SNC-2 with PMEM: interleaved node cpulists and CPU-less memory nodes", "[topology]") {
  Topology t = load("nri-2socket-112cpu-snc2-pmem-8node");
  CHECK(t.numa_cpus(0) == *CpuSet::parse("0,4,8,12,16,20,24,28,32,36,40,44,48,52,56,60,64,68,72,76,80,84,88,92,"
                                          "96,100,104,108"));
  for (int n = 4; n < 8; ++n) {
    INFO("node " << n);
    CHECK(t.numa_nodes[static_cast<size_t>(n)].cpus.empty());
    CHECK(t.numa_nodes[static_cast<size_t>(n)].memory_bytes == 130023424LL * 1024);
  }
  CHECK(t.siblings_of(0) == CpuSet::of({0, 56}));
  CHECK(t.cpu(0)->l3 == 0);
  CHECK(t.cpu(1)->l3 == 1);
  CHECK(t.cpu(1)->package == 1);
}

TEST_CASE("SNC-2 without PMEM: non-contiguous node cpulists", "[topology]") {
  Topology t = load("nri-2socket-80cpu-snc2");
  CHECK(t.numa_cpus(0) == *CpuSet::parse("0-2,5-6,10-12,15-16,40-42,45-46,50-52,55-56"));
  CHECK(t.l3_domains().begin()->second.size() == 40);
}

TEST_CASE("hybrid P/E cores: P-cores have two threads, E-cores one", "[topology]") {
  Topology t = load("nri-hybrid-16cpu");
  CHECK(t.siblings_of(0) == CpuSet::of({0, 1}));
  CHECK(t.siblings_of(8) == CpuSet::of({8}));
  Topology r = load("hwloc-intel-i7-1370p-hybrid-20cpu");
  size_t two = 0, one = 0;
  for (const auto& [k, c] : r.cores()) (c.size() == 2 ? two : one)++;
  CHECK(two == 6);
  CHECK(one == 8);
  CHECK(r.cpu(0)->l3 == 0);
}

TEST_CASE("Opteron 6276: one L3 per NUMA node, module pairs as siblings, no die_id", "[topology]") {
  Topology t = load("hwloc-amd-opteron6276-4socket-64cpu-8node");
  // No cache id files: the L3 domain is named by the first CPU of shared_cpu_list.
  CHECK(t.cpu(9)->l3 == 8);
  for (const auto& n : t.numa_nodes) {
    INFO("node " << n.id);
    CHECK(n.cpus.size() == 8);
    CHECK(t.l3_cpus(t.cpu(n.cpus.first())->l3) == n.cpus);
  }
  CHECK(t.siblings_of(0) == CpuSet::of({0, 1}));
  CHECK(t.cpu(5)->die == 0);
}

TEST_CASE("sparse NUMA node ids are kept as they are", "[topology]") {
  Topology t = load("hwloc-amd-4socket-48cpu-sparse-nodeids");
  CHECK(t.numa_cpus(33) == CpuSet::range(18, 23));
  CHECK(t.cpu(20)->numa == 33);
  CHECK(t.l3_cpus(0) == CpuSet::range(0, 5));
}

TEST_CASE("offline CPU 0 and an offline NUMA node", "[topology]") {
  Topology t = load("hwloc-xeon-e5-2680v3-offline-cpu0-node0");
  CHECK(t.online == CpuSet::range(4, 20));
  CHECK(t.offline == *CpuSet::parse("0-3,21-23"));
  CHECK(t.cpu(0) == nullptr);
  CHECK(t.cpu(4)->numa == -1);  // node0 (even CPUs) is not present
  CHECK(t.cpu(5)->numa == 1);
  CHECK(t.numa_nodes.size() == 1);
  CHECK(t.numa_nodes[0].cpus == *CpuSet::parse("5,7,9,11,13,15,17,19"));
  CHECK(t.memory_bytes == 67108864LL * 1024);
  CHECK(t.cpu(4)->l3 == 0);
  CHECK(t.cpu(5)->l3 == 1);
  CHECK(t.cpu(5)->package == 1);
}

TEST_CASE("Arm GB10: two L3 domains without cache ids, package id 36", "[topology]") {
  Topology t = load("hwloc-nvidia-gb10-arm-20cpu");
  auto l3 = t.l3_domains();
  REQUIRE(l3.size() == 2);
  CHECK(l3.at(0) == CpuSet::range(0, 9));
  CHECK(l3.at(10) == CpuSet::range(10, 19));
  CHECK(t.cpu(0)->package == 36);
}

TEST_CASE("cadvisor trees: no cache or node data, offline CPUs from the online list", "[topology]") {
  Topology t = load("cadvisor-amd-epyc7402-48cpu");
  CHECK(t.online == *CpuSet::parse("0-23,27-40,42,44,46-47"));
  CHECK(t.cpu(0)->l3 == -1);
  CHECK(t.cpu(0)->numa == 0);
  CHECK(t.siblings_of(0) == CpuSet::of({0}));  // thread_siblings_list "0,24", but CPU 24 is offline
  CHECK(t.siblings_of(3) == CpuSet::of({3, 27}));
  Topology x = load("cadvisor-xeon4214-2socket-48cpu");
  CHECK(x.siblings_of(0) == CpuSet::of({0, 24}));
  CHECK(x.memory_bytes == 0);
}

TEST_CASE("the tree's parent directory is accepted as sysfs root", "[topology]") {
  auto r = Topology::read(slo::test::fixture("sysfs/nri-desktop-20cpu"));
  REQUIRE(r.ok());
  CHECK(r.value.cpus.size() == 20);
  CHECK(r.value.siblings_of(0) == CpuSet::of({0, 10}));
  auto missing = Topology::read("/nonexistent-sysfs-root");
  CHECK_FALSE(missing.ok());
}
