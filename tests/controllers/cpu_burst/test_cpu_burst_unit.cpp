// Unit tests of the CPU burst controller on hand-built snapshots (no kernel access).
#include <set>

#include <catch2/catch.hpp>

#include <prometheus/registry.h>

#include "agent/decide/cpu_burst/burst_policy.h"
#include "agent/decide/cpu_burst/cpu_burst_controller.h"
#include "agent/decide/cpu_burst/node_guard.h"
#include "agent/decide/cpu_burst/quota_scaler.h"
#include "tests/controllers/cpu_burst/burst_world.h"

using namespace slo;
using namespace slo::agent::cpu_burst;
using slo::test::burst::Load;
using slo::test::burst::RecordingSink;
using slo::test::burst::World;
using Q = slo::model::QosClass;
using J = nlohmann::json;

namespace {

nlohmann::json strategy(nlohmann::json fields) { return {{"cpuBurstStrategy", std::move(fields)}}; }

// A controller configured with `fields`, metrics registered in `reg`.
struct Rig {
  explicit Rig(nlohmann::json fields) {
    ctl.probe(world.host);
    agent::ControllerContext ctx{world.host, reg};
    ctl.init(ctx);
    auto err = ctl.configure(strategy(std::move(fields)));
    REQUIRE_FALSE(err);
  }
  slo::agent::MetricsRegistry reg;
  World world;
  CpuBurstController ctl;

  std::optional<double> metric(const std::string& name, const std::string& container = "-") {
    for (const auto& fam : reg.Collect()) {
      if (fam.name != name) continue;
      for (const auto& m : fam.metric) {
        bool match = container == "-";
        for (const auto& l : m.label)
          if (l.name == "container" && l.value == container) match = true;
        if (!match) continue;
        return fam.type == prometheus::MetricType::Counter ? m.counter.value : m.gauge.value;
      }
    }
    return std::nullopt;
  }
};

int64_t value(const RecordingSink& s, const std::string& cgroup, cg::Knob k) {
  auto* i = s.find(cgroup, k);
  REQUIRE(i != nullptr);
  return i->value;
}

// Every intent set must be one the kernel accepts once ordered: pod quota >= each container quota, burst <= quota.
void check_consistent(const RecordingSink& s, const World& w) {
  for (const auto& ps : w.snap.pods) {
    auto* pq = s.find(ps.cgroup, cg::Knob::cpu_quota);
    for (const auto& c : ps.containers) {
      auto* cq = s.find(c.cgroup, cg::Knob::cpu_quota);
      if (pq && cq) CHECK(pq->value >= cq->value);
      auto* cb = s.find(c.cgroup, cg::Knob::cpu_burst);
      if (cb) {
        int64_t q = cq ? cq->value : std::get<int64_t>(*w.knobs.original({c.cgroup, cg::Knob::cpu_quota, {}}));
        CHECK(cb->value <= q);
      }
    }
    if (auto* pb = s.find(ps.cgroup, cg::Knob::cpu_burst)) {
      int64_t q = pq ? pq->value : std::get<int64_t>(*w.knobs.original({ps.cgroup, cg::Knob::cpu_quota, {}}));
      CHECK(pb->value <= q);
    }
  }
  for (const auto& i : s.intents) CHECK_FALSE(i.reason.empty());
}

const Load kThrottled{0.6, 1.4, true};  // 0.6 CPU limit, 2 threads wanting 2 CPUs
const Load kIdle{0.0, 0.0, false};

}  // namespace

TEST_CASE("policy: defaults are koordinator's and every field parses", "[cpu_burst][policy]") {
  auto d = parse_node_policy(nlohmann::json::object());
  REQUIRE_FALSE(d.error);
  CHECK(d.policy.policy == PolicyKind::none);
  CHECK(d.policy.cpu_burst_percent == 1000);
  CHECK(d.policy.cfs_quota_burst_percent == 300);
  CHECK(d.policy.cfs_quota_burst_period_seconds == -1);
  CHECK(d.policy.share_pool_threshold_percent == 50);
  CHECK(d.policy.tick_milliseconds == 100);

  auto p = parse_node_policy(strategy({{"policy", "auto"}, {"cpuBurstPercent", 80}, {"cfsQuotaBurstPercent", 200},
                                       {"cfsQuotaBurstPeriodSeconds", 30}, {"sharePoolThresholdPercent", 70},
                                       {"tickMilliseconds", 50}, {"scaleDownHoldMilliseconds", 2000},
                                       {"demandHeadroomPercent", 110}}));
  REQUIRE_FALSE(p.error);
  CHECK(p.policy.policy == PolicyKind::auto_);
  CHECK(p.policy.kernel_burst());
  CHECK(p.policy.quota_scaling());
  CHECK(p.policy.cpu_burst_percent == 80);
  CHECK(p.policy.cfs_quota_burst_percent == 200);
  CHECK(p.policy.cfs_quota_burst_period_seconds == 30);
  CHECK(p.policy.share_pool_threshold_percent == 70);
  CHECK(p.policy.tick_milliseconds == 50);
  CHECK(p.policy.scale_down_hold_milliseconds == 2000);
  CHECK(p.policy.demand_headroom_percent == 110);
  CHECK(parse_node_policy(strategy({{"policy", "cpuBurstOnly"}})).policy.policy == PolicyKind::cpu_burst_only);
  CHECK(parse_node_policy(strategy({{"policy", "cfsQuotaBurstOnly"}})).policy.policy ==
        PolicyKind::cfs_quota_burst_only);
}

TEST_CASE("policy: invalid values are rejected with the field's name, previous policy kept", "[cpu_burst][policy]") {
  CHECK(*parse_node_policy(strategy({{"cpuBurstPercent", -1}})).error ==
        "cpuBurstStrategy.cpuBurstPercent: must be >= 0");
  CHECK(parse_node_policy(strategy({{"cfsQuotaBurstPercent", 50}})).error->find("cfsQuotaBurstPercent") !=
        std::string::npos);
  CHECK(parse_node_policy(strategy({{"policy", "always"}})).error->find("unknown policy 'always'") !=
        std::string::npos);
  CHECK(parse_node_policy(strategy({{"cpuBurstPercent", "100"}})).error->find("must be an integer") !=
        std::string::npos);
  CHECK(parse_node_policy(strategy({{"cfsQuotaBurstPeriodSeconds", 0}})).error.has_value());
  CHECK(parse_node_policy(strategy({{"sharePoolThresholdPercent", 101}})).error.has_value());
  CHECK(parse_node_policy(strategy(nlohmann::json::array())).error.has_value());

  CpuBurstController c;
  REQUIRE_FALSE(c.configure(strategy({{"policy", "auto"}})));
  auto err = c.configure(strategy({{"policy", "auto"}, {"tickMilliseconds", 1}}));
  REQUIRE(err);
  CHECK(err->find("tickMilliseconds") != std::string::npos);
  CHECK(c.policy().policy == PolicyKind::auto_);
  CHECK(c.period() == std::chrono::milliseconds(100));
}

TEST_CASE("annotation: overrides per-pod fields, ignores node-only ones, bad JSON keeps the node policy",
          "[cpu_burst][policy]") {
  BurstPolicy node;
  node.policy = PolicyKind::cpu_burst_only;
  auto a = apply_annotation(node, R"({"policy":"auto","cfsQuotaBurstPercent":150,"sharePoolThresholdPercent":90})");
  REQUIRE_FALSE(a.error);
  CHECK(a.policy.policy == PolicyKind::auto_);
  CHECK(a.policy.cfs_quota_burst_percent == 150);
  CHECK(a.policy.share_pool_threshold_percent == 50);  // node-wide: not per pod

  auto bad = apply_annotation(node, "{policy: auto");
  REQUIRE(bad.error);
  CHECK(bad.policy == node);
  auto wrong = apply_annotation(node, R"({"cpuBurstPercent":-5})");
  REQUIRE(wrong.error);
  CHECK(wrong.error->find("cpuBurstPercent") != std::string::npos);
  CHECK(wrong.policy == node);
}

TEST_CASE("policy none: nothing is claimed", "[cpu_burst]") {
  Rig r(J{{"policy", "none"}});
  r.world.add_pod("web", Q::LS, {600});
  for (int i = 0; i < 3; ++i) {
    r.world.advance({{{0, 0}, kThrottled}});
    auto s = r.world.decide(r.ctl);
    CHECK(s.intents.empty());
  }
}

TEST_CASE("cpuBurstOnly: burst = quota × cpuBurstPercent for pod and containers, no quota claims", "[cpu_burst]") {
  Rig r(J{{"policy", "cpuBurstOnly"}, {"cpuBurstPercent", 50}});
  auto p = r.world.add_pod("web", Q::LS, {600, 200});
  r.world.advance({});
  auto s = r.world.decide(r.ctl);
  CHECK(value(s, r.world.container_cgroup(p, 0), cg::Knob::cpu_burst) == 30000);
  CHECK(value(s, r.world.container_cgroup(p, 1), cg::Knob::cpu_burst) == 10000);
  CHECK(value(s, r.world.pod_cgroup(p), cg::Knob::cpu_burst) == 40000);
  CHECK(s.find(r.world.pod_cgroup(p), cg::Knob::cpu_quota) == nullptr);
  CHECK(s.find(r.world.container_cgroup(p, 0), cg::Knob::cpu_quota) == nullptr);
  CHECK(r.world.board.hot_cgroups.empty());  // no quota scaling: stats at the normal rate
  check_consistent(s, r.world);
  CHECK(r.metric("sloagent_cpu_burst_burst_seconds", "c0") == Approx(0.03));
  CHECK(r.metric("sloagent_cpu_burst_burst_seconds", "") == Approx(0.04));
  // No quota is held: no quota series (not a 0-CPU gauge).
  CHECK_FALSE(r.metric("sloagent_cpu_burst_quota_cores", "c0"));
  CHECK_FALSE(r.metric("sloagent_cpu_burst_original_quota_cores", "c0"));
}

TEST_CASE("clamping: burst above the quota is clamped to the quota and reported once", "[cpu_burst]") {
  Rig r(J{{"policy", "cpuBurstOnly"}});  // default 1000 %: the kernel would reject it
  auto p = r.world.add_pod("web", Q::LS, {600});
  for (int i = 0; i < 5; ++i) {
    r.world.advance({});
    auto s = r.world.decide(r.ctl);
    auto* b = s.find(r.world.container_cgroup(p, 0), cg::Knob::cpu_burst);
    REQUIRE(b);
    CHECK(b->value == 60000);
    CHECK(b->reason.find("clamped") != std::string::npos);
    check_consistent(s, r.world);
  }
  CHECK(r.metric("sloagent_cpu_burst_clamped_total") == Approx(2));  // container + pod, once each
  // The decision log records the clamped value once, not once per tick.
  int burst_entries = 0;
  for (const auto& d : r.ctl.explain(r.world.key(p)))
    if (d.value("knob", "") == "cpu_burst" && d.value("cgroup", "") == r.world.container_cgroup(p, 0))
      ++burst_entries;
  CHECK(burst_entries == 1);
}

TEST_CASE("kernel without CFS burst: auto scales quota only and says why", "[cpu_burst]") {
  Rig r(J{{"policy", "auto"}, {"cpuBurstPercent", 50}});
  r.world.host.kernel_burst = false;
  CpuBurstController c;
  auto cap = c.probe(r.world.host);
  CHECK(cap.supported);
  CHECK(cap.reason.find("quota scaling only") != std::string::npos);
  REQUIRE_FALSE(c.configure(strategy({{"policy", "auto"}, {"cpuBurstPercent", 50}})));
  auto p = r.world.add_pod("web", Q::LS, {600});
  r.world.advance({});
  auto s = r.world.decide(c);
  CHECK(s.find(r.world.container_cgroup(p, 0), cg::Knob::cpu_burst) == nullptr);
  CHECK(s.find(r.world.container_cgroup(p, 0), cg::Knob::cpu_quota) != nullptr);
  for (int i = 0; i < 3; ++i) {
    r.world.advance({});
    r.world.decide(c);
  }
  int said = 0, managed = 0;
  for (const auto& d : c.explain(r.world.key(p))) {
    said += d.value("event", "") == "kernel burst unavailable";
    managed += d.value("event", "") == "managed";
  }
  CHECK(said == 1);
  CHECK(managed == 1);
}

TEST_CASE("cfsQuotaBurstOnly: throttled container raised to its demand in one step, pod above its containers",
          "[cpu_burst]") {
  Rig r(J{{"policy", "cfsQuotaBurstOnly"}});
  auto p = r.world.add_pod("web", Q::LS, {600, 400});
  const auto c0 = r.world.container_cgroup(p, 0), c1 = r.world.container_cgroup(p, 1), pc = r.world.pod_cgroup(p);

  r.world.advance({});
  auto s = r.world.decide(r.ctl);
  CHECK(value(s, c0, cg::Knob::cpu_quota) == 60000);  // held at the original
  CHECK(value(s, c1, cg::Knob::cpu_quota) == 40000);
  CHECK(value(s, pc, cg::Knob::cpu_quota) == 100000);
  CHECK(s.find(c0, cg::Knob::cpu_burst) == nullptr);
  CHECK(r.world.board.hot_cgroups.count(c0));
  CHECK(r.world.board.hot_cgroups.count(c1));
  // The scaler decides per container: the pod-level cpu.stat is not needed every tick.
  CHECK_FALSE(r.world.board.hot_cgroups.count(pc));
  CHECK(r.world.board.hot_cgroups.size() == 2);

  // 0.6 used + 1.4 throttled = 2.0 CPUs of demand; × 1.2 headroom = 2.4, capped at 300 % = 1.8 CPU.
  r.world.advance({{{p, 0}, kThrottled}});
  s = r.world.decide(r.ctl);
  CHECK(value(s, c0, cg::Knob::cpu_quota) == 180000);
  CHECK(s.find(c0, cg::Knob::cpu_quota)->reason.find("demand 2.00 CPU") != std::string::npos);
  CHECK(value(s, c1, cg::Knob::cpu_quota) == 40000);
  CHECK(value(s, pc, cg::Knob::cpu_quota) == 100000 + 120000);
  check_consistent(s, r.world);
  CHECK(r.metric("sloagent_cpu_burst_quota_cores", "c0") == Approx(1.8));
  CHECK(r.metric("sloagent_cpu_burst_original_quota_cores", "c0") == Approx(0.6));
  CHECK(r.metric("sloagent_cpu_burst_throttled_ratio", "c0") == Approx(1.0));
  CHECK(r.metric("sloagent_cpu_burst_quota_raises_total", "c0") == Approx(1));

  // A smaller demand: one step to demand × headroom, not a ×1.2 ladder.
  Rig r2(J{{"policy", "cfsQuotaBurstOnly"}});
  auto q = r2.world.add_pod("api", Q::LS, {1000});
  r2.world.advance({});
  r2.world.decide(r2.ctl);
  r2.world.advance({{{q, 0}, Load{1.0, 0.5, true}}});
  s = r2.world.decide(r2.ctl);
  CHECK(value(s, r2.world.container_cgroup(q, 0), cg::Knob::cpu_quota) == 180000);  // 1.5 × 1.2
}

TEST_CASE("with a throttle event source, quiet containers are read at the slow tick until their pod's next event",
          "[cpu_burst]") {
  Rig r(J{{"policy", "cfsQuotaBurstOnly"}});
  auto p = r.world.add_pod("web", Q::LS, {600, 400});
  auto other = r.world.add_pod("api", Q::LS, {500});  // not watched by the source: read every tick as before
  const auto c0 = r.world.container_cgroup(p, 0), c1 = r.world.container_cgroup(p, 1);
  const auto o0 = r.world.container_cgroup(other, 0);
  std::set<std::string, std::less<>> watched{r.world.pod_cgroup(p)};
  auto& events = r.world.board.throttle_events;
  events.watched = &watched;
  auto hot = [&](const std::string& cg) { return r.world.board.hot_cgroups.count(cg) > 0; };

  r.world.advance({});
  r.world.decide(r.ctl);
  CHECK_FALSE(hot(c0));
  CHECK_FALSE(hot(c1));
  CHECK(hot(o0));

  // A throttle event of the pod: both its containers are read every tick for kHotAfterEvent.
  events.pod_cgroups = {r.world.pod_cgroup(p)};
  r.world.advance({});
  r.world.decide(r.ctl);
  events.pod_cgroups.clear();
  CHECK(hot(c0));
  CHECK(hot(c1));
  const int hold_ticks = int(CpuBurstController::kHotAfterEvent / World::kTick);
  for (int i = 1; i < hold_ticks; ++i) {
    r.world.advance({});
    r.world.decide(r.ctl);
  }
  CHECK(hot(c0));
  r.world.advance({});
  r.world.decide(r.ctl);
  CHECK_FALSE(hot(c0));
  CHECK_FALSE(hot(c1));

  // Throttled in a window (seen at a slow-tick read) with no event: raised, and read every tick while raised.
  r.world.advance({{{p, 0}, kThrottled}});
  auto s = r.world.decide(r.ctl);
  CHECK(value(s, c0, cg::Knob::cpu_quota) > 60000);
  CHECK(hot(c0));
  CHECK_FALSE(hot(c1));
  for (int i = 0; i < 2 * hold_ticks; ++i) {
    r.world.advance({{{p, 0}, Load{1.0, 0, false}}});  // keeps using the raised quota
    r.world.decide(r.ctl);
  }
  CHECK(hot(c0));

  // Usage at 90 % of the quota (pressure, throttling likely next): read every tick.
  r.world.advance({{{p, 1}, Load{0.38, 0, false}}});
  r.world.decide(r.ctl);
  CHECK(hot(c1));

  // The source stops (probe gone): every container is read every tick again.
  events.watched = nullptr;
  r.world.advance({});
  r.world.decide(r.ctl);
  CHECK(hot(c0));
  CHECK(hot(c1));
  CHECK(hot(o0));
}

TEST_CASE("fresh throttling whose demand is not yet accounted goes halfway to the cap", "[cpu_burst]") {
  QuotaScaler sc;
  ScalerLimits lim{100000, 60000, 180000, -1, std::chrono::milliseconds(1000), 1.2};
  auto t = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
  sc.update(std::nullopt, lim, GuardState::idle, t);
  CpuWindow w;
  w.seconds = 0.1;
  w.periods = 1;
  w.throttled_periods = 1;
  w.usage_cores = 0.6;
  w.throttled_cores = 0;  // throttled time not accounted yet
  auto st = sc.update(w, lim, GuardState::idle, t + std::chrono::milliseconds(100));
  CHECK(st.raised);
  CHECK(st.quota_us == 120000);
  CHECK(st.reason.find("not yet measurable") != std::string::npos);
}

TEST_CASE("step down: held while used, back to the exact original after the hold", "[cpu_burst]") {
  Rig r(J{{"policy", "cfsQuotaBurstOnly"}, {"scaleDownHoldMilliseconds", 500}});
  auto p = r.world.add_pod("web", Q::LS, {600});
  const auto c0 = r.world.container_cgroup(p, 0), pc = r.world.pod_cgroup(p);
  r.world.advance({});
  r.world.decide(r.ctl);
  r.world.advance({{{p, 0}, kThrottled}});
  CHECK(value(r.world.decide(r.ctl), c0, cg::Knob::cpu_quota) == 180000);
  // Using most of the raised quota: pressure, held however long it lasts.
  for (int i = 0; i < 10; ++i) {
    r.world.advance({{{p, 0}, Load{1.7, 0, false}}});
    CHECK(value(r.world.decide(r.ctl), c0, cg::Knob::cpu_quota) == 180000);
  }
  // Idle: held for the hold time (5 ticks), then one step to the original.
  std::vector<int64_t> seen;
  for (int i = 0; i < 8; ++i) {
    r.world.advance({{{p, 0}, kIdle}});
    auto s = r.world.decide(r.ctl);
    seen.push_back(value(s, c0, cg::Knob::cpu_quota));
    check_consistent(s, r.world);
    if (i == 7) {
      CHECK(value(s, pc, cg::Knob::cpu_quota) == 60000);
      CHECK(s.find(c0, cg::Knob::cpu_quota)->reason.find("(original)") != std::string::npos);
    }
  }
  CHECK(seen.front() == 180000);
  CHECK(seen.back() == 60000);
  // Moderate use after a burst: steps down toward demand × headroom, not below the original.
  r.world.advance({{{p, 0}, kThrottled}});
  CHECK(value(r.world.decide(r.ctl), c0, cg::Knob::cpu_quota) == 180000);
  int64_t last = 0;
  for (int i = 0; i < 8; ++i) {
    r.world.advance({{{p, 0}, Load{1.0, 0, false}}});
    last = value(r.world.decide(r.ctl), c0, cg::Knob::cpu_quota);
  }
  CHECK(last == 120000);  // 1.0 × 1.2
}

TEST_CASE("node guard states from share-pool usage", "[cpu_burst][guard]") {
  NodeGuard g(std::chrono::milliseconds(500));
  auto t = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
  GuardInput in;
  in.capacity_cores = 4;
  in.pinned_cores = 2;  // share pool = 2 CPUs
  in.now = t;
  in.node_busy_ns = 0;
  in.excluded_usage_ns = {{"be/batch", 0}, {"lse/db", 0}};
  CHECK(g.update(in, 50) == GuardState::unknown);
  auto step = [&](double node_cores, double be_cores, double lse_cores) {
    in.now += std::chrono::seconds(1);
    *in.node_busy_ns += uint64_t(node_cores * 1e9);
    in.excluded_usage_ns["be/batch"] += uint64_t(be_cores * 1e9);
    in.excluded_usage_ns["lse/db"] += uint64_t(lse_cores * 1e9);
    return g.update(in, 50);
  };
  CHECK(step(3.0, 1.0, 1.5) == GuardState::idle);      // 0.5 / 2 = 25 %
  CHECK(step(3.45, 0.5, 2.0) == GuardState::cooling);  // 0.95 / 2 = 47.5 % ≥ 90 % of 50 %
  CHECK(step(3.5, 0.5, 1.5) == GuardState::overload);  // 1.5 / 2 = 75 %
  CHECK(g.share_pool_ratio() == Approx(0.75));
  CHECK(g.describe().find("overload") != std::string::npos);
  // A window shorter than 500 ms keeps the last verdict (no noisy flips).
  in.now += std::chrono::milliseconds(100);
  CHECK(g.update(in, 50) == GuardState::overload);
  CHECK(step(0.2, 0, 0) == GuardState::idle);
}

TEST_CASE("guard: overload scales raised quotas back, cooling raises nothing, idle raises", "[cpu_burst][guard]") {
  Rig r(J{{"policy", "cfsQuotaBurstOnly"}, {"sharePoolThresholdPercent", 50}});
  auto p = r.world.add_pod("web", Q::LS, {600});
  const auto c0 = r.world.container_cgroup(p, 0);
  // 4 CPUs, no pinned pods: idle below 1.8 CPUs busy, cooling from 1.8, overload from 2.0.
  for (int i = 0; i < 6; ++i) {
    r.world.advance({}, 3.0);
    r.world.decide(r.ctl);
  }
  CHECK(r.ctl.guard_state() == GuardState::overload);
  CHECK(r.metric("sloagent_cpu_burst_node_guard_state") == Approx(0));  // first series = unknown
  r.world.advance({{{p, 0}, kThrottled}}, 3.0);
  CHECK(value(r.world.decide(r.ctl), c0, cg::Knob::cpu_quota) == 60000);  // overload: no raise

  for (int i = 0; i < 12; ++i) {
    r.world.advance({{{p, 0}, kThrottled}}, 1.9);
    r.world.decide(r.ctl);
  }
  CHECK(r.ctl.guard_state() == GuardState::cooling);
  r.world.advance({{{p, 0}, kThrottled}}, 1.9);
  CHECK(value(r.world.decide(r.ctl), c0, cg::Knob::cpu_quota) == 60000);  // cooling: no raise

  for (int i = 0; i < 12; ++i) {
    r.world.advance({}, 0.5);
    r.world.decide(r.ctl);
  }
  CHECK(r.ctl.guard_state() == GuardState::idle);
  r.world.advance({{{p, 0}, kThrottled}}, 0.5);
  CHECK(value(r.world.decide(r.ctl), c0, cg::Knob::cpu_quota) == 180000);  // idle: raise
  CHECK(r.ctl.status()["guard"]["state"] == "idle");

  // Overload while raised: the excess halves every tick down to the original.
  std::vector<int64_t> q;
  for (int i = 0; i < 15; ++i) {
    r.world.advance({{{p, 0}, Load{1.7, 0, false}}}, 3.5);
    q.push_back(value(r.world.decide(r.ctl), c0, cg::Knob::cpu_quota));
  }
  CHECK(r.ctl.guard_state() == GuardState::overload);
  CHECK(q.back() == 60000);
  for (size_t i = 1; i < q.size(); ++i) CHECK(q[i] <= q[i - 1]);
}

TEST_CASE("burst budget (cfsQuotaBurstPeriodSeconds): spent → original, refilled by unused limit", "[cpu_burst]") {
  Rig r(J{{"policy", "cfsQuotaBurstOnly"}, {"cfsQuotaBurstPeriodSeconds", 1}});
  auto p = r.world.add_pod("web", Q::LS, {600});
  const auto c0 = r.world.container_cgroup(p, 0);
  r.world.advance({});
  r.world.decide(r.ctl);
  r.world.advance({{{p, 0}, kThrottled}});
  CHECK(value(r.world.decide(r.ctl), c0, cg::Knob::cpu_quota) == 180000);
  // Capacity 1 s × 1.2 CPU = 1.2 CPU-s; using 1.8 CPUs drains 1.2 CPU-s per second.
  int64_t q = 0;
  int ticks = 0;
  for (; ticks < 30; ++ticks) {
    r.world.advance({{{p, 0}, Load{1.8, 0, false}}});
    auto s = r.world.decide(r.ctl);
    q = value(s, c0, cg::Knob::cpu_quota);
    if (q == 60000) {
      CHECK(s.find(c0, cg::Knob::cpu_quota)->reason.find("budget") != std::string::npos);
      break;
    }
  }
  CHECK(q == 60000);
  CHECK(ticks >= 8);
  CHECK(ticks <= 11);
  // Still throttled but the bucket is empty: stays at the original.
  r.world.advance({{{p, 0}, kThrottled}});
  CHECK(value(r.world.decide(r.ctl), c0, cg::Knob::cpu_quota) == 60000);
  // Idle refills 0.6 CPU-s per second; a tenth of the capacity (0.12 CPU-s) re-arms it.
  for (int i = 0; i < 3; ++i) {
    r.world.advance({{{p, 0}, kIdle}});
    r.world.decide(r.ctl);
  }
  r.world.advance({{{p, 0}, kThrottled}});
  CHECK(value(r.world.decide(r.ctl), c0, cg::Knob::cpu_quota) == 180000);
}

TEST_CASE("eligibility: only LS pods with a CPU limit; never LSE/LSR, BE, SYSTEM, pinned or CR-owned",
          "[cpu_burst]") {
  Rig r(J{{"policy", "auto"}, {"cpuBurstPercent", 100}});
  auto ls = r.world.add_pod("ls", Q::LS, {600});
  auto nolimit = r.world.add_pod("nolimit", Q::LS, {0});
  auto mixed = r.world.add_pod("mixed", Q::LS, {600, 0});
  auto lse = r.world.add_pod("lse", Q::LSE, {2000});
  auto lsr = r.world.add_pod("lsr", Q::LSR, {2000});
  auto be = r.world.add_pod("be", Q::BE, {600});
  auto sys = r.world.add_pod("sys", Q::SYSTEM, {600});
  r.world.advance({});
  auto s = r.world.decide(r.ctl);
  CHECK(s.find(r.world.container_cgroup(ls, 0), cg::Knob::cpu_quota));
  CHECK(s.find(r.world.container_cgroup(ls, 0), cg::Knob::cpu_burst));
  CHECK(s.find(r.world.pod_cgroup(ls), cg::Knob::cpu_burst));
  // A pod with an unlimited container has no pod quota: only the limited container is managed.
  CHECK(s.find(r.world.container_cgroup(mixed, 0), cg::Knob::cpu_quota));
  CHECK(s.find(r.world.pod_cgroup(mixed), cg::Knob::cpu_quota) == nullptr);
  CHECK(s.find(r.world.pod_cgroup(mixed), cg::Knob::cpu_burst) == nullptr);
  for (auto p : {nolimit, lse, lsr, be, sys})
    for (const auto& i : s.intents) CHECK(i.ref.cgroup.str().rfind(r.world.pod_cgroup(p), 0) != 0);
  CHECK(r.ctl.explain(r.world.key(be)).empty());
  CHECK(r.ctl.status()["pods"][r.world.key(lse)]["status"].get<std::string>().find("LS pods only") !=
        std::string::npos);

  // Another owner takes the pod: step aside (no claims → the executor restores), and say so.
  r.world.board.pinned_cgroups.insert(r.world.container_cgroup(ls, 0));
  r.world.advance({});
  s = r.world.decide(r.ctl);
  for (const auto& i : s.intents) CHECK(i.ref.cgroup.str().rfind(r.world.pod_cgroup(ls), 0) != 0);
  auto ex = r.ctl.explain(r.world.key(ls));
  REQUIRE(ex.size() >= 2);
  CHECK(ex.back()["released"] == true);
  bool said = false;
  for (const auto& d : ex) said |= d.value("reason", "").find("pinned by the cpuset controller") != std::string::npos;
  CHECK(said);

  r.world.board.pinned_cgroups.clear();
  r.world.board.cr_owned_cgroups.insert(r.world.pod_cgroup(ls));
  r.world.advance({});
  s = r.world.decide(r.ctl);
  for (const auto& i : s.intents) CHECK(i.ref.cgroup.str().rfind(r.world.pod_cgroup(ls), 0) != 0);
  CHECK(r.ctl.status()["pods"][r.world.key(ls)]["status"].get<std::string>().find("Cgroups CR") !=
        std::string::npos);
}

TEST_CASE("annotation koordinator.sh/cpuBurst turns a pod on; invalid JSON is ignored once with a reason",
          "[cpu_burst]") {
  Rig r(J{{"policy", "none"}});
  auto on = r.world.add_pod("on", Q::LS, {600}, {{"koordinator.sh/cpuBurst", R"({"policy":"cfsQuotaBurstOnly"})"}});
  auto bad = r.world.add_pod("bad", Q::LS, {600}, {{"koordinator.sh/cpuBurst", R"({"policy":)"}});
  auto off = r.world.add_pod("off", Q::LS, {600});
  for (int i = 0; i < 3; ++i) {
    r.world.advance({{{on, 0}, kThrottled}, {{bad, 0}, kThrottled}, {{off, 0}, kThrottled}});
    auto s = r.world.decide(r.ctl);
    CHECK(s.find(r.world.container_cgroup(on, 0), cg::Knob::cpu_quota));
    CHECK(s.find(r.world.container_cgroup(bad, 0), cg::Knob::cpu_quota) == nullptr);
    CHECK(s.find(r.world.container_cgroup(off, 0), cg::Knob::cpu_quota) == nullptr);
  }
  CHECK(r.metric("sloagent_cpu_burst_annotation_errors_total") == Approx(1));
  auto ex = r.ctl.explain(r.world.key(bad));
  REQUIRE_FALSE(ex.empty());
  CHECK(ex.front()["event"] == "annotation ignored");
  CHECK(ex.front()["reason"].get<std::string>().find("not valid JSON") != std::string::npos);

  // The annotation can also switch a pod off under an enabled node policy.
  Rig r2(J{{"policy", "auto"}});
  auto o = r2.world.add_pod("o", Q::LS, {600}, {{"koordinator.sh/cpuBurst", R"({"policy":"none"})"}});
  r2.world.advance({});
  CHECK(r2.world.decide(r2.ctl).intents.empty());
  (void)o;
}

TEST_CASE("restore: policy off or pod gone → nothing claimed, series removed", "[cpu_burst]") {
  Rig r(J{{"policy", "auto"}, {"cpuBurstPercent", 100}});
  auto p = r.world.add_pod("web", Q::LS, {600});
  auto keep = r.world.add_pod("keep", Q::LS, {400});
  r.world.advance({});
  r.world.decide(r.ctl);
  r.world.advance({{{p, 0}, kThrottled}});
  auto s = r.world.decide(r.ctl);
  CHECK(value(s, r.world.container_cgroup(p, 0), cg::Knob::cpu_quota) == 180000);

  // Policy off: no claims at all (the executor writes the journaled originals back).
  REQUIRE_FALSE(r.ctl.configure(strategy({{"policy", "none"}})));
  r.world.advance({{{p, 0}, kThrottled}});
  s = r.world.decide(r.ctl);
  CHECK(s.intents.empty());
  auto ex = r.ctl.explain(r.world.key(p));
  int released = 0;
  for (const auto& d : ex) released += d.value("released", false) ? 1 : 0;
  CHECK(released == 4);  // pod + container, quota + burst
  CHECK_FALSE(r.metric("sloagent_cpu_burst_quota_cores", "c0"));

  // On again: starts from the original, not from the old raised value.
  REQUIRE_FALSE(r.ctl.configure(strategy({{"policy", "auto"}, {"cpuBurstPercent", 100}})));
  r.world.advance({});
  s = r.world.decide(r.ctl);
  CHECK(value(s, r.world.container_cgroup(p, 0), cg::Knob::cpu_quota) == 60000);

  // Pod leaves: its claims and series disappear, the other pod's stay.
  r.world.remove_pod(p);
  r.world.advance({});
  s = r.world.decide(r.ctl);
  for (const auto& i : s.intents) CHECK(i.ref.cgroup.str().find("uid-web") == std::string::npos);
  CHECK(s.find(r.world.container_cgroup(0, 0), cg::Knob::cpu_quota));
  CHECK(r.ctl.explain("default/web").empty());
  bool web_series = false;
  for (const auto& fam : r.reg.Collect())
    for (const auto& m : fam.metric)
      for (const auto& l : m.label) web_series |= l.name == "pod" && l.value == "web";
  CHECK_FALSE(web_series);
  (void)keep;
}

TEST_CASE("intent sets stay kernel-consistent across a burst episode with several containers", "[cpu_burst]") {
  Rig r(J{{"policy", "auto"}, {"cpuBurstPercent", 300}, {"scaleDownHoldMilliseconds", 200}});
  auto p = r.world.add_pod("web", Q::LS, {300, 500, 200});
  std::vector<std::map<std::pair<size_t, size_t>, Load>> script = {
      {}, {{{p, 0}, Load{0.3, 0.9, true}}}, {{{p, 1}, Load{0.5, 2.0, true}}, {{p, 0}, Load{0.9, 0, false}}},
      {{{p, 2}, Load{0.2, 0.1, true}}}, {}, {}, {}, {}, {}, {}};
  for (const auto& loads : script) {
    r.world.advance(loads);
    auto s = r.world.decide(r.ctl);
    check_consistent(s, r.world);
    CHECK(s.intents.size() == 8);  // pod + 3 containers, quota + burst
  }
}

TEST_CASE("usage filling the quota counts as throttling before the kernel accounts it", "[cpu_burst]") {
  QuotaScaler sc;
  ScalerLimits lim{100000, 60000, 180000, -1, std::chrono::milliseconds(1000), 1.2};
  auto t = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
  sc.update(std::nullopt, lim, GuardState::idle, t);
  CpuWindow w;
  w.seconds = 0.1;
  w.periods = 1;
  w.usage_cores = 0.55;  // 92 % of the quota: not at the limit
  auto st = sc.update(w, lim, GuardState::idle, t + std::chrono::milliseconds(100));
  CHECK_FALSE(st.raised);
  CHECK(st.quota_us == 60000);
  w.usage_cores = 1.2;  // burst spent on top of the quota: the period is full
  st = sc.update(w, lim, GuardState::idle, t + std::chrono::milliseconds(200));
  CHECK(st.raised);
  CHECK(st.quota_us == 144000);  // 1.2 × 1.2
  CHECK(st.reason.find("at its limit") != std::string::npos);
  // Cooling: the same evidence raises nothing.
  QuotaScaler cool;
  cool.update(std::nullopt, lim, GuardState::cooling, t);
  CHECK(cool.update(w, lim, GuardState::cooling, t + std::chrono::milliseconds(100)).quota_us == 60000);
}

TEST_CASE("reasons follow their inputs across ticks (texts are cached per cgroup)", "[cpu_burst]") {
  Rig r(J{{"policy", "auto"}, {"cpuBurstPercent", 50}});
  auto p = r.world.add_pod("web", Q::LS, {600, 400});
  const auto c0 = r.world.container_cgroup(p, 0), pc = r.world.pod_cgroup(p);
  r.world.advance({});
  auto s = r.world.decide(r.ctl);
  CHECK(s.find(c0, cg::Knob::cpu_burst)->reason == "cpuBurstPercent 50 % of the quota 60000 µs");
  CHECK(s.find(pc, cg::Knob::cpu_quota)->reason == "original pod limit");
  r.world.advance({{{p, 0}, kThrottled}});
  s = r.world.decide(r.ctl);
  CHECK(s.find(pc, cg::Knob::cpu_quota)->reason ==
        "sum of raised container quotas (c0) plus the pod's original");
  CHECK(s.find(c0, cg::Knob::cpu_quota)->reason.find("raise quota 0.60 → 1.80 CPU") != std::string::npos);
  // Both containers raised: the pod's reason names both.
  r.world.advance({{{p, 0}, Load{1.7, 0, false}}, {{p, 1}, kThrottled}});
  s = r.world.decide(r.ctl);
  CHECK(s.find(pc, cg::Knob::cpu_quota)->reason ==
        "sum of raised container quotas (c0, c1) plus the pod's original");
  // Same values next tick: the same texts.
  r.world.advance({{{p, 0}, Load{1.7, 0, false}}, {{p, 1}, Load{1.1, 0, false}}});
  auto s2 = r.world.decide(r.ctl);
  CHECK(s2.find(pc, cg::Knob::cpu_quota)->reason == s.find(pc, cg::Knob::cpu_quota)->reason);
  CHECK(s2.find(c0, cg::Knob::cpu_burst)->reason == s.find(c0, cg::Knob::cpu_burst)->reason);
  // A new policy: the burst reason follows it; clamping appears in the text when it applies.
  REQUIRE_FALSE(r.ctl.configure(strategy({{"policy", "cpuBurstOnly"}, {"cpuBurstPercent", 200}})));
  r.world.advance({});
  s = r.world.decide(r.ctl);
  CHECK(s.find(c0, cg::Knob::cpu_burst)->reason ==
        "cpuBurstPercent 200 % of the quota 60000 µs: 120000 µs clamped to 60000 µs (the kernel requires burst <= "
        "quota)");
  CHECK(s.find(c0, cg::Knob::cpu_burst)->value == 60000);
  CHECK(s.find(c0, cg::Knob::cpu_quota) == nullptr);
}

TEST_CASE("a container under a new cgroup (restarted) starts from its original quota", "[cpu_burst]") {
  Rig r(J{{"policy", "cfsQuotaBurstOnly"}});
  auto p = r.world.add_pod("web", Q::LS, {600});
  r.world.advance({});
  r.world.decide(r.ctl);
  r.world.advance({{{p, 0}, kThrottled}});
  CHECK(value(r.world.decide(r.ctl), r.world.container_cgroup(p, 0), cg::Knob::cpu_quota) == 180000);
  // The runtime finds the container under a new cgroup: the old one is released, the new one starts fresh.
  auto& cs = r.world.snap.pods[p].containers[0];
  const std::string old_cg = cs.cgroup;
  cs.cgroup = r.world.pod_cgroup(p) + "/ctr0-restarted";
  r.world.knobs.set_original(cs.cgroup, cg::Knob::cpu_quota, 60000);
  r.world.knobs.set_original(cs.cgroup, cg::Knob::cpu_period, 100000);
  r.world.advance({});
  auto s = r.world.decide(r.ctl);
  CHECK(value(s, cs.cgroup, cg::Knob::cpu_quota) == 60000);
  CHECK(s.find(old_cg, cg::Knob::cpu_quota) == nullptr);
  CHECK(value(s, r.world.pod_cgroup(p), cg::Knob::cpu_quota) == 60000);
  bool released = false;
  for (const auto& d : r.ctl.explain(r.world.key(p)))
    released |= d.value("released", false) && d.value("cgroup", "") == old_cg;
  CHECK(released);
  CHECK(r.ctl.status()["cgroups"].contains(cs.cgroup));
  CHECK_FALSE(r.ctl.status()["cgroups"].contains(old_cg));
}

TEST_CASE("decision history: bounded per pod, rendered with tick and time", "[cpu_burst]") {
  Rig r(J{{"policy", "cfsQuotaBurstOnly"}, {"scaleDownHoldMilliseconds", 0}});
  auto p = r.world.add_pod("web", Q::LS, {600});
  // Alternate throttled and idle ticks: the quota changes (and is recorded) nearly every tick.
  for (int i = 0; i < 200; ++i) {
    r.world.advance({{{p, 0}, i % 2 ? kIdle : kThrottled}});
    r.world.decide(r.ctl);
  }
  auto ex = r.ctl.explain(r.world.key(p));
  CHECK(ex.size() == CpuBurstController::kDecisionsPerPod);
  for (const auto& d : ex) {
    CHECK(d.contains("tick"));
    CHECK(d["time"].get<std::string>().size() == 24);  // 2026-01-01T00:00:00.000Z
  }
  CHECK(ex.back()["tick"] == r.world.snap.tick);
  CHECK(ex.back().contains("previous"));
}

TEST_CASE("node guard: pods joining and leaving the excluded set in any key order", "[cpu_burst][guard]") {
  NodeGuard g(std::chrono::milliseconds(500));
  GuardInput in;
  in.now = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
  in.capacity_cores = 2;
  in.node_busy_ns = 0;
  in.excluded_usage_ns = {{"m/be", 0}};
  g.update(in, 50);
  auto step = [&](double node, std::map<std::string, double> pods) {
    in.now += std::chrono::seconds(1);
    *in.node_busy_ns += uint64_t(node * 1e9);
    for (auto it = in.excluded_usage_ns.begin(); it != in.excluded_usage_ns.end();)
      it = pods.count(it->first) ? std::next(it) : in.excluded_usage_ns.erase(it);
    for (const auto& [k, c] : pods) in.excluded_usage_ns[k] += uint64_t(c * 1e9);
    g.update(in, 50);
    return *g.share_pool_ratio();
  };
  CHECK(step(1.0, {{"m/be", 0.8}}) == Approx(0.1));  // (1.0 − 0.8) / 2
  // New pods before and after the existing key count from their second window.
  CHECK(step(1.0, {{"a/be", 0.4}, {"m/be", 0.4}, {"z/be", 0.1}}) == Approx(0.3));
  CHECK(step(1.0, {{"a/be", 0.4}, {"m/be", 0.4}, {"z/be", 0.1}}) == Approx(0.05));
  // The middle one leaves: it stops counting at once; a returning pod starts over.
  CHECK(step(1.0, {{"a/be", 0.4}, {"z/be", 0.1}}) == Approx(0.25));
  CHECK(step(1.0, {{"a/be", 0.4}, {"m/be", 0.4}, {"z/be", 0.1}}) == Approx(0.25));
  CHECK(step(1.0, {{"a/be", 0.4}, {"m/be", 0.4}, {"z/be", 0.1}}) == Approx(0.05));
}
