#include <catch2/catch.hpp>

#include <prometheus/registry.h>

#include <cstdio>
#include <ctime>

#include "agent/decide/colocation/batch_resources_controller.h"
#include "agent/decide/colocation/be_suppression_controller.h"
#include "agent/decide/colocation/node_usage.h"
#include "agent/decide/colocation/reclaimed_controller.h"
#include "agent/runtime/cluster_actions.h"

using namespace slo;
using namespace slo::colocation;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

struct Sink : agent::IntentSink {
  std::map<std::string, std::pair<cg::KnobValue, std::string>> set_;
  void set(const cg::KnobRef& ref, const cg::KnobValue& v, const std::string& reason) override {
    set_[ref.to_string()] = {std::move(v), std::move(reason)};
  }
  std::optional<int64_t> get(const std::string& cgroup, cg::Knob k) const {
    auto it = set_.find(cg::KnobRef{cgroup, k, {}}.to_string());
    if (it == set_.end()) return std::nullopt;
    return cg::as_int(it->second.first);
  }
};

agent::PodState pod(const std::string& name, model::QosClass q, uint64_t usage_ns, Clock::time_point at,
                    int32_t prio = 0, int64_t mem = 0) {
  agent::PodState p;
  p.pod.name = name;
  p.pod.namespace_ = "ns";
  p.pod.uid = name + "-uid";
  p.pod.qos = q;
  p.pod.priority = prio;
  p.cgroup = "kubepods/pod" + name;
  p.stats.cpu_usage_ns = usage_ns;
  p.stats.cpu_stat_at = at;
  cg::MemoryUsage m;
  m.working_set_bytes = mem;
  p.stats.memory = m;
  return p;
}

struct Fixture {
  agent::HostInfo host;
  slo::agent::MetricsRegistry registry;
  agent::RecordingClusterActions cluster;
  Fixture() { host.layout = cg::KubeletLayout{cg::Driver::cgroupfs, "kubepods"}; }
  agent::Snapshot snap(Clock::time_point now, std::vector<agent::PodState> pods, double cores = 16) {
    agent::Snapshot s;
    s.now = now;
    s.wall = std::chrono::system_clock::now();
    s.host = &host;
    s.node.cpu_capacity_cores = cores;
    s.node.memory_total_bytes = 100ll << 30;
    s.node.memory_used_bytes = 40ll << 30;
    s.pods = std::move(pods);
    return s;
  }
};

}  // namespace

TEST_CASE("BE suppression: LS spike shrinks the budget at once, it grows back stepwise", "[unit][colocation]") {
  Fixture f;
  BeSuppressionController c;
  agent::ControllerContext ctx{f.host, f.registry, &f.cluster};
  c.init(ctx);
  REQUIRE_FALSE(c.configure(json::parse(R"({"resourceThresholdStrategy":
      {"cpuSuppressThresholdPercent": 50, "cpuSuppressPolicy": "cpuset", "beMaxGrowthCoresPerTick": 2}})")));
  auto t0 = Clock::now();
  const uint64_t sec = 1'000'000'000;
  auto step = std::chrono::milliseconds(200);
  // LS uses 2 cores: budget 16 × 50 % − 2 = 6.
  uint64_t ls = 0, be = 0;
  for (int i = 0; i < 3; ++i) {
    auto t = t0 + i * step;
    agent::Blackboard b;
    Sink s;
    c.decide(f.snap(t, {pod("web", model::QosClass::LS, ls, t), pod("batch", model::QosClass::BE, be, t)}), b, s);
    ls += 2 * sec / 5;
    be += 4 * sec / 5;
    if (i > 0) {
      REQUIRE(b.be_cpu_budget_cores);
      CHECK(*b.be_cpu_budget_cores == Approx(6).margin(0.01));
      CHECK(b.hot_cgroups.count("kubepods/podweb"));
      CHECK(s.set_.empty());  // cpuset policy: no knob of its own
    }
  }
  // LS spikes to 7 cores in the next period: budget 1 at once.
  auto t = t0 + 3 * step;
  ls += 7 * sec / 5 - 2 * sec / 5;
  agent::Blackboard b;
  Sink s;
  c.decide(f.snap(t, {pod("web", model::QosClass::LS, ls, t), pod("batch", model::QosClass::BE, be, t)}), b, s);
  CHECK(c.last().ls_usage_cores == Approx(7).margin(0.05));
  CHECK(*b.be_cpu_budget_cores == Approx(1).margin(0.05));
  // Spike over (LS back to 2 cores/period): budget grows by at most 2 cores per period: 3, 5, 6.
  std::vector<double> seen;
  for (int i = 4; i < 7; ++i) {
    auto ti = t0 + i * step;
    ls += 2 * sec / 5;
    agent::Blackboard bi;
    Sink si;
    c.decide(f.snap(ti, {pod("web", model::QosClass::LS, ls, ti), pod("batch", model::QosClass::BE, be, ti)}), bi, si);
    seen.push_back(*bi.be_cpu_budget_cores);
  }
  CHECK(seen[0] == Approx(3).margin(0.05));
  CHECK(seen[1] == Approx(5).margin(0.05));
  CHECK(seen[2] == Approx(6).margin(0.05));
}

TEST_CASE("BE suppression: cfsQuota policy claims the besteffort tier quota; disable stops the claim",
          "[unit][colocation]") {
  Fixture f;
  BeSuppressionController c;
  agent::ControllerContext ctx{f.host, f.registry, &f.cluster};
  c.init(ctx);
  REQUIRE_FALSE(c.configure(json::parse(R"({"resourceThresholdStrategy":
      {"cpuSuppressThresholdPercent": 50, "cpuSuppressPolicy": "cfsQuota"}})")));
  auto t0 = Clock::now();
  agent::Blackboard b0;
  Sink s0;
  c.decide(f.snap(t0, {pod("web", model::QosClass::LS, 0, t0)}), b0, s0);
  auto t1 = t0 + std::chrono::seconds(1);
  agent::Blackboard b;
  Sink s;
  c.decide(f.snap(t1, {pod("web", model::QosClass::LS, 4'000'000'000, t1)}), b, s);  // 4 cores
  CHECK_FALSE(b.be_cpu_budget_cores);
  auto q = s.get("kubepods/besteffort", cg::Knob::cpu_quota);
  REQUIRE(q);
  CHECK(*q == Approx(400000).margin(2000));  // (16 × 0.5 − 4) cores × 100 ms
  REQUIRE_FALSE(c.configure(json::parse(R"({"resourceThresholdStrategy": {"enable": false}})")));
  Sink s2;
  agent::Blackboard b2;
  c.decide(f.snap(t1 + std::chrono::seconds(1), {pod("web", model::QosClass::LS, 5'000'000'000, t1)}), b2, s2);
  CHECK(s2.set_.empty());
  CHECK_FALSE(b2.be_cpu_budget_cores);
}

TEST_CASE("BE suppression: run-queue latency breach caps the budget below the watermark", "[unit][colocation]") {
  Fixture f;
  BeSuppressionController c;
  REQUIRE_FALSE(c.configure(json::parse(R"({"resourceThresholdStrategy":
      {"cpuSuppressThresholdPercent": 100, "runqLatencySLOMillis": 5}})")));
  auto t0 = Clock::now();
  for (int i = 0; i < 2; ++i) {
    auto t = t0 + i * std::chrono::seconds(1);
    agent::Blackboard b;
    b.runq_p99_seconds["ns/web"] = 0.020;  // 20 ms > 5 ms SLO
    Sink s;
    c.decide(f.snap(t, {pod("web", model::QosClass::LS, static_cast<uint64_t>(i) * 2'000'000'000, t)}), b, s);
    if (i == 1) {
      CHECK(c.last().breached);
      CHECK(c.last().watermark_budget == Approx(14).margin(0.05));
      // Two breaching ticks: the cap halved twice from the first watermark (16 → 8 → 4), below this tick's 14.
      CHECK(*c.last().interference_cap == Approx(4).margin(0.05));
      CHECK(*b.be_cpu_budget_cores == Approx(4).margin(0.05));
    }
  }
}

TEST_CASE("BE eviction: memory pressure evicts BE pods only, with reasons and a cooldown", "[unit][colocation]") {
  Fixture f;
  BeSuppressionController c;
  agent::ControllerContext ctx{f.host, f.registry, &f.cluster};
  c.init(ctx);
  REQUIRE_FALSE(c.configure(json::parse(R"({"resourceThresholdStrategy":
      {"memoryEvictThresholdPercent": 70, "memoryEvictLowerPercent": 60, "evictCooldownSeconds": 30}})")));
  auto t = Clock::now();
  const int64_t GiB = 1ll << 30;
  auto snap = f.snap(t, {pod("web", model::QosClass::LS, 0, t, 9000, 50 * GiB),
                         pod("big", model::QosClass::BE, 0, t, 5000, 8 * GiB),
                         pod("free", model::QosClass::BE, 0, t, 3000, 1 * GiB),
                         pod("small", model::QosClass::BE, 0, t, 5000, 2 * GiB)});
  snap.node.memory_used_bytes = 72 * GiB;  // 12 GiB to free to reach 60 %
  agent::Blackboard b;
  Sink s;
  c.decide(snap, b, s);
  REQUIRE(f.cluster.evictions.size() == 3);
  CHECK(f.cluster.evictions[0].pod.name == "free");
  CHECK(f.cluster.evictions[1].pod.name == "big");
  CHECK(f.cluster.evictions[2].pod.name == "small");
  CHECK(f.cluster.evictions[0].reason.find("memoryEvictThresholdPercent") != std::string::npos);
  CHECK(f.cluster.events.size() == 3);
  CHECK(c.explain("ns/big").size() == 1);
  CHECK(c.explain("ns/web").empty());
  // Within the cooldown nothing more is evicted.
  snap.now = t + std::chrono::seconds(10);
  c.decide(snap, b, s);
  CHECK(f.cluster.evictions.size() == 3);
}

TEST_CASE("colocation config errors name the field", "[unit][colocation]") {
  BeSuppressionController c;
  auto e = c.configure(json::parse(R"({"resourceThresholdStrategy": {"cpuSuppressThresholdPercent": 140}})"));
  REQUIRE(e);
  CHECK(e->find("resourceThresholdStrategy.cpuSuppressThresholdPercent") == 0);
  e = c.configure(json::parse(R"({"resourceThresholdStrategy": {"cpuSuppressPolicy": "freeze"}})"));
  REQUIRE(e);
  CHECK(e->find("cpuSuppressPolicy") != std::string::npos);
  e = c.configure(json::parse(R"({"resourceThresholdStrategy": {"memoryEvictThresholdPercent": 60,
                                   "memoryEvictLowerPercent": 65}})"));
  REQUIRE(e);
  ReclaimedController r;
  e = r.configure(json::parse(R"({"colocationStrategy": {"cpuCalculatePolicy": "guess"}})"));
  REQUIRE(e);
  CHECK(e->find("colocationStrategy.cpuCalculatePolicy") == 0);
  CHECK_FALSE(r.configure(json::parse(R"({"colocationStrategy": {"systemReservedMemory": "2Gi"}})")));
}

TEST_CASE("batch resources: shares, quota and memory limit from kubernetes.io/batch-*", "[unit][colocation]") {
  Fixture f;
  BatchResourcesController c;
  REQUIRE_FALSE(c.configure(json::object()));
  auto t = Clock::now();
  auto p = pod("job", model::QosClass::BE, 0, t);
  agent::ContainerState a, b2;
  a.cgroup = p.cgroup + "/a";
  a.spec.requests.batch_cpu_millis = 500;
  a.spec.limits.batch_cpu_millis = 2000;
  a.spec.limits.batch_memory_bytes = 1ll << 30;
  b2.cgroup = p.cgroup + "/b";
  b2.spec.requests.batch_cpu_millis = 250;
  b2.spec.limits.batch_cpu_millis = 1000;
  b2.spec.limits.batch_memory_bytes = 512ll << 20;
  p.containers = {a, b2};
  auto ls = pod("web", model::QosClass::LS, 0, t);
  agent::ContainerState lc;
  lc.cgroup = ls.cgroup + "/c";
  lc.spec.requests.batch_cpu_millis = 1000;  // not BE: ignored
  ls.containers = {lc};
  agent::Blackboard bb;
  Sink s;
  c.decide(f.snap(t, {p, ls}), bb, s);
  CHECK(s.get("kubepods/podjob/a", cg::Knob::cpu_shares) == 512);
  CHECK(s.get("kubepods/podjob/a", cg::Knob::cpu_quota) == 200000);
  CHECK(s.get("kubepods/podjob/a", cg::Knob::memory_limit) == (1ll << 30));
  CHECK(s.get("kubepods/podjob/b", cg::Knob::cpu_shares) == 256);
  CHECK(s.get("kubepods/podjob", cg::Knob::cpu_quota) == 300000);
  CHECK(s.get("kubepods/podjob", cg::Knob::cpu_shares) == 768);
  CHECK(s.get("kubepods/podjob", cg::Knob::memory_limit) == (1ll << 30) + (512ll << 20));
  CHECK_FALSE(s.get("kubepods/podweb/c", cg::Knob::cpu_shares));
  // A Cgroups CR owning the container wins: batch steps aside for it.
  agent::Blackboard owned;
  owned.cr_owned_cgroups.insert("kubepods/podjob/a");
  Sink s2;
  c.decide(f.snap(t, {p}), owned, s2);
  CHECK_FALSE(s2.get("kubepods/podjob/a", cg::Knob::cpu_quota));
  CHECK(s2.get("kubepods/podjob/b", cg::Knob::cpu_quota) == 100000);
}

TEST_CASE("reclaimed controller publishes batch-cpu and batch-memory", "[unit][colocation]") {
  Fixture f;
  ReclaimedController c;
  agent::ControllerContext ctx{f.host, f.registry, &f.cluster};
  c.init(ctx);
  REQUIRE_FALSE(c.configure(json::parse(R"({"colocationStrategy": {"cpuReclaimThresholdPercent": 50,
      "memoryReclaimThresholdPercent": 50, "coldStartSeconds": 0, "usageMargin": 1}})")));
  auto t0 = Clock::now();
  for (int i = 0; i < 5; ++i) {
    auto t = t0 + i * std::chrono::seconds(1);
    auto s = f.snap(t, {pod("web", model::QosClass::LS, static_cast<uint64_t>(i) * 3'000'000'000, t, 0, 10ll << 30)});
    s.node.memory_used_bytes = 10ll << 30;
    agent::Blackboard b;
    Sink sink;
    c.decide(s, b, sink);
    CHECK(sink.set_.empty());
  }
  // 16 × 50 % − ~3.3 (3 cores, bucket ≤ 10 % over) ≈ 4.7–5 cores; memory 50 GiB − 10..11 GiB.
  CHECK(c.last().batch_cpu_millis >= 4600);
  CHECK(c.last().batch_cpu_millis <= 5000);
  auto mem = f.cluster.node_resources.at("kubernetes.io/batch-memory");
  CHECK(mem <= (40ll << 30));
  CHECK(mem >= (39ll << 30));
  CHECK(f.cluster.node_resources.at("kubernetes.io/batch-cpu") == c.last().batch_cpu_millis);
  CHECK(c.status()["tracked_pods"] == 1);
}

TEST_CASE("node usage: per-pod rates, LS/BE sums and the system share from one snapshot", "[unit][colocation]") {
  Fixture f;
  NodeUsage u;
  const uint64_t sec = 1'000'000'000;
  const int64_t GiB = 1ll << 30;
  auto t0 = Clock::now();
  auto make = [&](Clock::time_point t, uint64_t ls_ns, uint64_t be_ns, std::optional<uint64_t> busy) {
    auto s = f.snap(t, {pod("web", model::QosClass::LS, ls_ns, t, 0, 1 * GiB),
                        pod("batch", model::QosClass::BE, be_ns, t, 0, 2 * GiB),
                        pod("pending", model::QosClass::LS, 0, t)});
    s.pods[2].cgroup = {};  // no cgroup yet: skipped
    s.node.cpu_busy_ns = busy;
    return s;
  };
  u.update(make(t0, 10 * sec, 5 * sec, 100 * sec));
  CHECK_FALSE(u.any_pod_rate());  // first sample: no rate
  CHECK(u.ls_cpu_cores() == 0);
  CHECK(u.system_memory_bytes() == 37 * GiB);  // 40 GiB used − 3 GiB of pods
  // One second later: LS used 1.5 cores, BE 0.5, the node 3 → system 1.
  auto s1 = make(t0 + std::chrono::seconds(1), 10 * sec + 3 * sec / 2, 5 * sec + sec / 2, 103 * sec);
  u.update(s1);
  CHECK(u.any_pod_rate());
  CHECK(u.ls_cpu_cores() == Approx(1.5));
  CHECK(u.be_cpu_cores() == Approx(0.5));
  CHECK(u.system_cpu_cores() == Approx(1.0));
  CHECK(*u.pod_cpu_cores(s1.pods[0]) == Approx(1.5));
  CHECK_FALSE(u.pod_cpu_cores(s1.pods[2]));
  CHECK(u.pods_memory_bytes() == 3 * GiB);
  // A fast tick (no /proc/stat read: same counter): pods move, the system share is held.
  u.update(make(t0 + std::chrono::milliseconds(1200), 10 * sec + 17 * sec / 10, 5 * sec + sec / 2, 103 * sec));
  CHECK(u.ls_cpu_cores() == Approx(1.0));
  CHECK(u.be_cpu_cores() == Approx(0.0));
  CHECK(u.system_cpu_cores() == Approx(1.0));
  // A counter reset (container restarted) gives no rate, never a negative one.
  u.update(make(t0 + std::chrono::milliseconds(1400), 1 * sec, 5 * sec + sec / 2, 103 * sec));
  CHECK(u.ls_cpu_cores() == 0);
  // Busy below pods (counters read at different instants): system floored at 0.
  u.update(make(t0 + std::chrono::milliseconds(2400), 1 * sec + 2 * sec, 5 * sec + sec / 2, 104 * sec));
  CHECK(u.system_cpu_cores() == 0);
}

TEST_CASE("BE suppression and reclaimed controllers agree on LS and system usage", "[unit][colocation]") {
  Fixture f;
  BeSuppressionController s;
  ReclaimedController r;
  REQUIRE_FALSE(s.configure(json::object()));
  REQUIRE_FALSE(r.configure(json::object()));
  const uint64_t sec = 1'000'000'000;
  auto t0 = Clock::now();
  for (int i = 0; i < 2; ++i) {
    auto t = t0 + i * std::chrono::seconds(1);
    auto snap = f.snap(t, {pod("web", model::QosClass::LS, static_cast<uint64_t>(i) * 2 * sec, t),
                           pod("batch", model::QosClass::BE, static_cast<uint64_t>(i) * sec, t)});
    snap.node.cpu_busy_ns = 50 * sec + static_cast<uint64_t>(i) * 4 * sec;  // node 4 cores → system 1
    agent::Blackboard b;
    Sink sink;
    s.decide(snap, b, sink);
    r.decide(snap, b, sink);
  }
  CHECK(s.last().ls_usage_cores == Approx(2.0));
  CHECK(s.last().system_usage_cores == Approx(1.0));
  CHECK(r.status()["system_cpu_cores"].get<double>() == Approx(1.0));
}

TEST_CASE("BE suppression: decides every periodMillis, holds the budget and the quota claim in between",
          "[unit][colocation]") {
  Fixture f;
  BeSuppressionController c;
  REQUIRE_FALSE(c.configure(json::parse(R"({"resourceThresholdStrategy":
      {"cpuSuppressThresholdPercent": 50, "cpuSuppressPolicy": "cfsQuota", "periodMillis": 200}})")));
  auto t0 = Clock::now();
  const uint64_t sec = 1'000'000'000;
  auto run = [&](Clock::time_point t, uint64_t ls_ns, agent::Blackboard& b) {
    Sink s;
    c.decide(f.snap(t, {pod("web", model::QosClass::LS, ls_ns, t)}), b, s);
    return s.get("kubepods/besteffort", cg::Knob::cpu_quota);
  };
  agent::Blackboard b0, b1, b2, b3;
  run(t0, 0, b0);
  auto q1 = run(t0 + std::chrono::milliseconds(200), 2 * sec / 5, b1);  // 2 cores → 6 cores budget
  REQUIRE(q1);
  CHECK(*q1 == 600000);
  // 50 ms later, LS jumped to 10 cores: not a decision yet; the claim is restated unchanged. Nothing is hot: the
  // next tick (≈ 50 ms on) is not a decision either.
  auto q2 = run(t0 + std::chrono::milliseconds(250), 2 * sec / 5 + sec / 2, b2);
  REQUIRE(q2);
  CHECK(*q2 == 600000);
  CHECK(b2.hot_cgroups.empty());
  // The tick before the decision marks the pods (no tier stats in this snapshot) for the observer.
  agent::Blackboard b2b;
  run(t0 + std::chrono::milliseconds(350), 2 * sec / 5 + sec / 2, b2b);
  CHECK(b2b.hot_cgroups.count("kubepods/podweb"));
  // At the next period the usage since the last decision counts (0.5 s of CPU in 0.2 s = 2.5 cores → 5.5).
  auto q3 = run(t0 + std::chrono::milliseconds(400), 2 * sec / 5 + sec / 2, b3);
  REQUIRE(q3);
  CHECK(*q3 == Approx(550000).margin(1000));
  CHECK(c.status()["periodMillis"] == 200);
  // cpuset policy: the held budget is on every tick's Blackboard for the cpuset controller.
  REQUIRE_FALSE(c.configure(json::parse(R"({"resourceThresholdStrategy": {"cpuSuppressThresholdPercent": 50}})")));
  agent::Blackboard b4, b5;
  run(t0 + std::chrono::milliseconds(600), 2 * sec / 5 + sec / 2 + 2 * sec / 5, b4);
  REQUIRE(b4.be_cpu_budget_cores);
  run(t0 + std::chrono::milliseconds(620), 2 * sec / 5 + sec / 2 + 2 * sec / 5, b5);
  REQUIRE(b5.be_cpu_budget_cores);
  CHECK(*b5.be_cpu_budget_cores == *b4.be_cpu_budget_cores);
}

namespace {

// Tier usage as the runtime reads it from kubepods and kubepods/besteffort (cumulative ns at `at`).
void set_tiers(agent::Snapshot& s, uint64_t kubepods_ns, uint64_t besteffort_ns, Clock::time_point at) {
  s.tiers.kubepods.cpu_usage_ns = kubepods_ns;
  s.tiers.kubepods.cpu_stat_at = at;
  s.tiers.besteffort.cpu_usage_ns = besteffort_ns;
  s.tiers.besteffort.cpu_stat_at = at;
}

}  // namespace

TEST_CASE("BE suppression: LS usage from the tier cgroups (kubepods - besteffort), no pod is marked hot",
          "[unit][colocation]") {
  Fixture f;
  BeSuppressionController c;
  REQUIRE_FALSE(c.configure(json::parse(R"({"resourceThresholdStrategy":
      {"cpuSuppressThresholdPercent": 50, "cpuSuppressPolicy": "cpuset", "periodMillis": 200}})")));
  const uint64_t sec = 1'000'000'000;
  auto t0 = Clock::now();
  // The pods' own counters say 1 LS core; the tiers say kubepods 4 cores, besteffort 1 → LS 3 (e.g. a guaranteed
  // pod the pod list does not know yet). The tiers win: suppression must see every non-BE pod.
  auto snap = [&](int i) {
    auto t = t0 + i * std::chrono::milliseconds(200);
    auto n = static_cast<uint64_t>(i);
    auto s = f.snap(t, {pod("web", model::QosClass::LS, n * sec / 5, t), pod("batch", model::QosClass::BE, 0, t)});
    set_tiers(s, n * 4 * sec / 5, n * sec / 5, t);
    s.node.cpu_busy_ns = 100 * sec + n * 6 * sec / 5;  // node 6 cores busy → system 6 − 4 = 2
    return s;
  };
  for (int i = 0; i < 3; ++i) {
    agent::Blackboard b;
    Sink s;
    c.decide(snap(i), b, s);
    CHECK_FALSE(b.hot_cgroups.count("kubepods/podweb"));
    CHECK_FALSE(b.hot_cgroups.count("kubepods/podbatch"));
    if (i == 0) {  // first decision: the next one may fall on the next tick
      CHECK(b.hot_cgroups.count("kubepods"));
      CHECK(b.hot_cgroups.count("kubepods/besteffort"));
    }
  }
  CHECK(c.last().ls_usage_cores == Approx(3.0));
  CHECK(c.last().be_usage_cores == Approx(1.0));
  CHECK(c.last().system_usage_cores == Approx(2.0));
  // 16 × 50 % − 3 − 2 = 3
  CHECK(c.last().budget == Approx(3.0).margin(0.01));
  // A snapshot without tier stats right after (the runtime re-resolved the pod set and has not re-read the tiers):
  // a gap, held — not a switch to the pods' sums, whose rates were not kept meanwhile.
  {
    auto s = snap(3);
    s.tiers = {};
    agent::Blackboard b;
    Sink k;
    c.decide(s, b, k);
    CHECK(c.last().ls_usage_cores == Approx(3.0));
    CHECK_FALSE(b.hot_cgroups.count("kubepods/podweb"));
  }
  // Tier stats gone for longer than the grace: the pods' sums (and their cgroups hot).
  {
    auto late = [&](int i) {
      auto s = snap(i);
      s.tiers = {};
      s.now = t0 + std::chrono::seconds(10) + i * std::chrono::milliseconds(200);
      for (auto& p : s.pods) p.stats.cpu_stat_at = s.now;
      return s;
    };
    for (int i = 4; i < 6; ++i) {
      agent::Blackboard b;
      Sink k;
      c.decide(late(i), b, k);
      if (i == 5) CHECK(b.hot_cgroups.count("kubepods/podweb"));
    }
    CHECK(c.last().ls_usage_cores == Approx(1.0));
  }

  // Tier stats missing (a tree without tier cgroups): back to the pods' sums, and the pods are marked.
  BeSuppressionController p;
  REQUIRE_FALSE(p.configure(json::parse(R"({"resourceThresholdStrategy": {"periodMillis": 200}})")));
  for (int i = 0; i < 2; ++i) {
    auto s = snap(i);
    s.tiers.besteffort.cpu_usage_ns.reset();
    agent::Blackboard b;
    Sink k;
    p.decide(s, b, k);
    if (i == 0) CHECK(b.hot_cgroups.count("kubepods/podweb"));
  }
  CHECK(p.last().ls_usage_cores == Approx(1.0));
}

TEST_CASE("BE suppression: hot cgroups only on the tick before a decision (100 ms ticks, 200 ms period)",
          "[unit][colocation]") {
  Fixture f;
  BeSuppressionController c;
  REQUIRE_FALSE(c.configure(json::parse(R"({"resourceThresholdStrategy": {"periodMillis": 200}})")));
  const uint64_t sec = 1'000'000'000;
  auto t0 = Clock::now();
  std::string hot_ticks;
  Clock::time_point read_at;
  bool marked = true;
  for (int i = 0; i < 8; ++i) {
    auto t = t0 + i * std::chrono::milliseconds(100);
    // LS at 2 cores; the observer re-reads the tiers only on ticks after a marking tick (else the sample is old).
    if (marked) read_at = t;
    auto n = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(read_at - t0).count());
    auto s = f.snap(t, {pod("web", model::QosClass::LS, 0, t0)});
    set_tiers(s, n * 2 * sec / 1000, 0, read_at);
    agent::Blackboard b;
    Sink k;
    c.decide(s, b, k);
    marked = b.hot_cgroups.count("kubepods") > 0;
    hot_ticks += marked ? '1' : '0';
    if (i >= 2 && i % 2 == 0) CHECK(c.last().ls_usage_cores == Approx(2.0));  // a fresh sample at each decision
    CHECK(b.hot_cgroups.size() == (marked ? 2u : 0u));  // kubepods and besteffort, never a pod
  }
  // Decisions at 0, 200, 400, 600 ms; marked at 0 (first), then at 100, 300, 500, 700 (the tick before each).
  CHECK(hot_ticks == "11010101");
}

// Not run by default (hidden tag): per-decide CPU cost of the colocation controllers on an N-pod snapshot, as the
// daemon calls them (100 ms ticks; BE suppression every tick, deciding every 200 ms; Reclaimed and BatchResources
// every second). `test_colocation_controllers "[.perf]"` prints the figures; docs/benchmarks-colocation.md.
TEST_CASE("perf: colocation decide cost at 200 and 500 pods", "[.perf]") {
  auto cpu_now = [] {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
  };
  for (int run = 0; run < 4; ++run) {
    const int npods = run % 2 ? 500 : 200;
    const bool tiers = run < 2;  // then without tier stats: the per-pod fallback
    Fixture f;
    BeSuppressionController be;
    ReclaimedController rc;
    BatchResourcesController br;
    agent::ControllerContext ctx{f.host, f.registry, &f.cluster};
    be.init(ctx);
    rc.init(ctx);
    REQUIRE_FALSE(be.configure(json::object()));
    REQUIRE_FALSE(rc.configure(json::object()));
    REQUIRE_FALSE(br.configure(json::object()));
    auto t0 = Clock::now();
    std::vector<agent::PodState> pods;
    for (int i = 0; i < npods; ++i) {
      bool ls = i % 2 == 0;
      char uid[40];
      std::snprintf(uid, sizeof uid, "%08x-1111-2222-3333-%012x", i, i);
      auto p = pod("pod-" + std::to_string(i), ls ? model::QosClass::LS : model::QosClass::BE, 0, t0, 0, 1 << 28);
      p.pod.namespace_ = "team-" + std::to_string(i % 7);
      p.cgroup = std::string("kubepods/") + (ls ? "burstable" : "besteffort") + "/pod" + uid;
      for (int c = 0; c < 2; ++c) {
        agent::ContainerState cs;
        cs.spec.name = "c" + std::to_string(c);
        if (ls) cs.spec.requests.cpu_millis = 500;
        cs.cgroup = p.cgroup + "/" + std::string(64, static_cast<char>('a' + c));
        p.containers.push_back(cs);
      }
      pods.push_back(std::move(p));
    }
    auto snap = f.snap(t0, pods);
    agent::Blackboard runq;  // RunqLatency's output: every LS pod, under any SLO
    for (const auto& p : snap.pods)
      if (p.pod.qos != model::QosClass::BE) runq.runq_p99_seconds[p.pod.key()] = 0.001;
    const int ticks = 300;  // 30 s of 100 ms ticks
    double be_us = 0, rc_us = 0, br_us = 0;
    int be_decisions = 0, rc_calls = 0;
    for (int i = 0; i < ticks; ++i) {
      snap.now = t0 + i * std::chrono::milliseconds(100);
      for (auto& p : snap.pods) {
        *p.stats.cpu_usage_ns += 50'000'000;
        p.stats.cpu_stat_at = snap.now;
      }
      if (tiers)
        set_tiers(snap, static_cast<uint64_t>(i) * 5'000'000'000ull, static_cast<uint64_t>(i) * 2'000'000'000ull,
                  snap.now);
      if (i % 10 == 0) snap.node.cpu_busy_ns = static_cast<uint64_t>(i) * 8'000'000'000ull;
      agent::Blackboard b = runq;
      Sink s;
      double a = cpu_now();
      be.decide(snap, b, s);
      be_us += cpu_now() - a;
      if (i % 2 == 0) ++be_decisions;
      if (i % 10 == 0) {
        a = cpu_now();
        rc.decide(snap, b, s);
        rc_us += cpu_now() - a;
        a = cpu_now();
        br.decide(snap, b, s);
        br_us += cpu_now() - a;
        ++rc_calls;
      }
    }
    std::printf("%d pods, %s: BeSuppression %.1f us per tick (%d ticks, %d decisions); Reclaimed %.1f us per decide; "
                "BatchResources %.1f us per decide (CPU time)\n",
                npods, tiers ? "tier stats" : "no tier stats", be_us / ticks, ticks, be_decisions, rc_us / rc_calls, br_us / rc_calls);
    CHECK(be.last().ls_usage_cores > 0);
  }
}
