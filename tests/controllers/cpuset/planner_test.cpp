// Pools and pins from pod demands (pure planner), on real topologies.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "agent/decide/cpuset/cpu_manager_state.h"
#include "agent/decide/cpuset/pool_planner.h"
#include "tests/common/support.h"

using namespace slo::cpuset;
using slo::cg::CpuSet;
using slo::model::QosClass;
using slo::model::Topology;

namespace {

Topology load(const std::string& name) {
  auto r = Topology::read(slo::test::fixture("sysfs/" + name));
  REQUIRE(r.ok());
  return r.value;
}

PodDemand pod(const std::string& key, QosClass q, int64_t millis, std::optional<std::string> status = std::nullopt) {
  PodDemand d;
  d.key = key;
  d.uid = "uid-" + key;
  d.qos = q;
  d.cpu_millis = millis;
  d.resource_status = std::move(status);
  return d;
}

// Desktop: 10 cores × 2 threads, siblings N and N+10, one L3, one node.
struct Desktop {
  Topology topo = load("nri-desktop-20cpu");
  PlanInput in() const {
    PlanInput i;
    i.topology = &topo;
    return i;
  }
};

}  // namespace

TEST_CASE("LSE gets whole cores nobody else touches; LSR is shared with BE only", "[planner]") {
  Desktop d;
  PlanInput in = d.in();
  in.pods = {pod("a/lse", QosClass::LSE, 4000), pod("a/lsr", QosClass::LSR, 2000), pod("a/ls", QosClass::LS, 500),
             pod("a/be", QosClass::BE, 0)};
  Plan p = plan_pools(in);
  REQUIRE(p.pinned.count("a/lse"));
  REQUIRE(p.pinned.count("a/lsr"));
  const CpuSet lse = p.pinned["a/lse"].cpus, lsr = p.pinned["a/lsr"].cpus;
  CHECK(lse == *CpuSet::parse("0-1,10-11"));
  CHECK(lsr == *CpuSet::parse("2,12"));
  CHECK((lse & lsr).empty());
  CHECK((p.share & (lse | lsr)).empty());
  CHECK((p.be & lse).empty());
  CHECK(lsr.is_subset_of(p.be));  // BE may share LSR CPUs
  CHECK(p.share == *CpuSet::parse("3-9,13-19"));
  CHECK(p.be == *CpuSet::parse("2-9,12-19"));
  CHECK(*p.cpus_for(in.pods[2]) == p.share);
  CHECK(*p.cpus_for(in.pods[3]) == p.be);
  CHECK(*p.cpus_for(in.pods[0]) == lse);
  CHECK(p.refused.empty());
}

TEST_CASE("an odd LSE request blocks the unused sibling for everyone", "[planner]") {
  Desktop d;
  PlanInput in = d.in();
  in.pods = {pod("a/lse", QosClass::LSE, 3000), pod("a/lsr", QosClass::LSR, 1000)};
  Plan p = plan_pools(in);
  CHECK(p.pinned["a/lse"].cpus == *CpuSet::parse("0-1,10"));
  CHECK(p.lse_blocked == CpuSet::of({11}));
  CHECK_FALSE(p.share.contains(11));
  CHECK_FALSE(p.be.contains(11));
  CHECK_FALSE(p.pinned["a/lsr"].cpus.contains(11));
}

TEST_CASE("scheduler decisions are applied whole or refused whole", "[planner]") {
  Desktop d;
  PlanInput in = d.in();
  in.config.reserved = CpuSet::of({9, 19});
  in.pods = {pod("a/0-one", QosClass::LSR, 2000, R"({"cpuset":"4-5"})"),
             pod("a/clash", QosClass::LSR, 2000, R"({"cpuset":"5-6"})"),      // 5 taken by a/0-one (decided first: pods are taken in key order)
             pod("a/unknown", QosClass::LSR, 2000, R"({"cpuset":"7,40"})"),   // 40 does not exist
             pod("a/reserved", QosClass::LSR, 2000, R"({"cpuset":"8-9"})"),   // 9 reserved
             pod("a/garbage", QosClass::LSR, 2000, R"(not json)"),
             pod("a/lse-sib", QosClass::LSE, 2000, R"({"cpuset":"14,15"})"),  // 14's sibling 4 is a/0-one's
             pod("a/other-fields", QosClass::LSR, 1000, R"({"numaNodeResources":[]})")};
  Plan p = plan_pools(in);
  CHECK(p.pinned["a/0-one"].cpus == CpuSet::of({4, 5}));
  CHECK(p.pinned["a/0-one"].source == "scheduler");
  REQUIRE(p.refused.count("a/clash"));
  CHECK(p.refused["a/clash"].find("pinned to another pod") != std::string::npos);
  CHECK(p.refused["a/unknown"].find("40") != std::string::npos);
  CHECK(p.refused["a/unknown"].find("not online") != std::string::npos);
  CHECK(p.refused["a/reserved"].find("reserved") != std::string::npos);
  CHECK(p.refused["a/garbage"].find("not a JSON object") != std::string::npos);
  CHECK(p.refused["a/lse-sib"].find("SMT siblings") != std::string::npos);
  // Refused pods are not half-applied: none of their CPUs is pinned, they run in the share pool.
  for (const char* k : {"a/clash", "a/unknown", "a/reserved", "a/garbage", "a/lse-sib"}) CHECK_FALSE(p.pinned.count(k));
  CHECK(p.lsr == (CpuSet::of({4, 5}) | p.pinned["a/other-fields"].cpus));
  // A resource-status without a cpuset is no decision: the local allocator serves the pod.
  CHECK(p.pinned["a/other-fields"].source == "local");
  CHECK_FALSE(p.share.contains(9));
  CHECK_FALSE(p.be.contains(19));
}

TEST_CASE("kubelet-pinned CPUs and pods are left to kubelet", "[planner]") {
  Desktop d;
  PlanInput in = d.in();
  auto st = parse_cpu_manager_state(
      R"({"policyName":"static","defaultCpuSet":"0,3-19","entries":{"uid-k/g":{"app":"1-2"}},"checksum":1})");
  REQUIRE(st.state);
  CHECK(st.state->pinned_cpus() == CpuSet::of({1, 2}));
  in.kubelet_pinned_cpus = st.state->pinned_cpus();
  PodDemand g = pod("k/g", QosClass::LSR, 2000);
  g.kubelet_pinned = st.state->pod_pinned("uid-k/g");
  in.pods = {g, pod("a/lse", QosClass::LSE, 2000), pod("a/ls", QosClass::LS, 100)};
  Plan p = plan_pools(in);
  CHECK_FALSE(p.pinned.count("k/g"));
  CHECK_FALSE(p.cpus_for(in.pods[0]).has_value());
  // LSE needs whole cores: cores (1,11) and (2,12) are half kubelet's, so it takes core (0,10).
  CHECK(p.pinned["a/lse"].cpus == CpuSet::of({0, 10}));
  CHECK((p.share & CpuSet::of({1, 2})).empty());
  CHECK((p.be & CpuSet::of({1, 2})).empty());
  CHECK(p.kubelet_pinned == CpuSet::of({1, 2}));
  CHECK_FALSE(parse_cpu_manager_state("{").state);
  CHECK_FALSE(parse_cpu_manager_state(R"({"entries":{"u":{"c":"x-y"}}})").state);
}

TEST_CASE("pins are stable: newcomers never move them, leavers give CPUs back", "[planner]") {
  Topology t = load("nri-4socket-144cpu-nosnc");
  PlanInput in;
  in.topology = &t;
  in.pods = {pod("a/x", QosClass::LSE, 8000), pod("a/y", QosClass::LSR, 4000)};
  Plan p1 = plan_pools(in);
  // Restart: a new pod whose name sorts first arrives, the old pins come from the checkpoint.
  in.previous = p1.pinned;
  in.pods.insert(in.pods.begin(), pod("a/a-first", QosClass::LSE, 8000));
  Plan p2 = plan_pools(in);
  CHECK(p2.pinned["a/x"].cpus == p1.pinned["a/x"].cpus);
  CHECK(p2.pinned["a/y"].cpus == p1.pinned["a/y"].cpus);
  CHECK(p2.pinned["a/x"].source == "local");
  CHECK((p2.pinned["a/a-first"].cpus & (p1.pinned["a/x"].cpus | p1.pinned["a/y"].cpus)).empty());
  // a/x leaves: its CPUs go back to the share pool.
  in.previous = p2.pinned;
  in.pods.erase(in.pods.begin() + 1);
  Plan p3 = plan_pools(in);
  CHECK_FALSE(p3.pinned.count("a/x"));
  CHECK(p1.pinned["a/x"].cpus.is_subset_of(p3.share));
  CHECK(p3.pinned["a/y"].cpus == p1.pinned["a/y"].cpus);
  // A resized request is re-allocated.
  in.previous = p3.pinned;
  in.pods[1].cpu_millis = 6000;
  Plan p4 = plan_pools(in);
  CHECK(p4.pinned["a/y"].cpus.size() == 6);
}

TEST_CASE("unpinnable requests are refused with a reason, the share pool never empties", "[planner]") {
  Desktop d;
  PlanInput in = d.in();
  in.pods = {pod("a/frac", QosClass::LSR, 1500), pod("a/zero", QosClass::LSE, 0), pod("a/last", QosClass::LSR, 2000),
             pod("a/big", QosClass::LSE, 18000), pod("a/ls", QosClass::LS, 100)};
  Plan p = plan_pools(in);
  CHECK(p.refused["a/frac"].find("1500m is not a whole number") != std::string::npos);
  CHECK(p.refused.count("a/zero"));
  CHECK(p.refused["a/last"].find("share pool empty") != std::string::npos);  // after a/big took 18 of 20
  CHECK(p.pinned.count("a/big"));
  CHECK(p.share.size() == 2);
  CHECK(*p.cpus_for(in.pods[0]) == p.share);  // a refused LSR pod runs in the share pool
}

TEST_CASE("BE pool under a budget: whole cores, stable, bounded growth, immediate shrink", "[planner]") {
  Topology t = load("nri-2socket-80cpu-snc2");
  PlanInput in;
  in.topology = &t;
  in.config.be_max_growth_cpus_per_tick = 2;
  in.pods = {pod("a/lsr", QosClass::LSR, 4000), pod("a/be", QosClass::BE, 0)};
  in.be_budget_cores = 6;
  Plan p1 = plan_pools(in);
  CHECK(p1.be.size() == 6);
  CHECK(p1.be.is_subset_of(p1.be_full));
  for (int c : p1.be.ids()) CHECK(t.siblings_of(c).is_subset_of(p1.be));  // whole cores
  CHECK((p1.be & p1.lsr).empty());  // LSR cores are the last choice for BE
  std::set<int> nodes;
  for (int c : p1.be.ids()) nodes.insert(t.cpu(c)->numa);
  CHECK(nodes.size() == 1);  // compact: one NUMA node
  // Budget up to 20: grows by at most 2 CPUs per tick and keeps what it had.
  in.previous_be_pool = p1.be;
  in.be_budget_cores = 20;
  Plan p2 = plan_pools(in);
  CHECK(p2.be.size() == 8);
  CHECK(p1.be.is_subset_of(p2.be));
  CHECK(p2.be_reason.find("growth bounded") != std::string::npos);
  // Budget down to 2.5: shrinks at once to 3 CPUs, within the previous pool.
  in.previous_be_pool = p2.be;
  in.be_budget_cores = 2.5;
  Plan p3 = plan_pools(in);
  CHECK(p3.be.size() == 3);
  CHECK(p3.be.is_subset_of(p2.be));
  // Zero budget still leaves beMinCpus.
  in.previous_be_pool = p3.be;
  in.be_budget_cores = 0;
  CHECK(plan_pools(in).be.size() == 1);
  // No budget: the whole BE pool.
  in.be_budget_cores.reset();
  CHECK(plan_pools(in).be == p1.be_full);
}

TEST_CASE("SYSTEM pods get the reserved CPUs as well", "[planner]") {
  Desktop d;
  PlanInput in = d.in();
  in.config.reserved = CpuSet::of({0, 10});
  in.pods = {pod("kube-system/sys", QosClass::SYSTEM, 100), pod("a/ls", QosClass::LS, 100)};
  Plan p = plan_pools(in);
  CHECK(*p.cpus_for(in.pods[0]) == CpuSet::range(0, 19));
  CHECK(*p.cpus_for(in.pods[1]) == (CpuSet::range(1, 9) | CpuSet::range(11, 19)));
  nlohmann::json j = p;
  CHECK(j["reserved"] == "0,10");
}

TEST_CASE("demand from the pod model: requests, limits, annotations", "[planner]") {
  slo::model::Pod p;
  p.name = "x";
  p.namespace_ = "ns";
  p.uid = "u1";
  p.qos = QosClass::LSR;
  slo::model::Container c;
  c.name = "a";
  c.limits.cpu_millis = 2000;
  p.containers.push_back(c);
  p.annotations[std::string(slo::model::kResourceStatusAnnotation)] = R"({"cpuset":"1-2"})";
  p.annotations[std::string(kResourceSpecAnnotation)] = R"({"preferredCPUBindPolicy":"SpreadByPCPUs"})";
  PodDemand d = demand_of(p, false);
  CHECK(d.key == "ns/x");
  CHECK(d.cpu_millis == 2000);  // limits when no request
  CHECK(d.resource_status == R"({"cpuset":"1-2"})");
  CHECK(d.preferred_policy == BindPolicy::SpreadByPCPUs);
}
