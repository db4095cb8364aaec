#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <random>
#include <utility>
#include <vector>

#include "agent/decide/colocation/be_budget.h"
#include "agent/decide/colocation/decaying_histogram.h"
#include "agent/decide/colocation/eviction.h"
#include "agent/decide/colocation/reclaim_estimator.h"

using namespace slo::colocation;

TEST_CASE("BE budget = capacity x threshold - LS usage - max(system, reserved), floored", "[unit][colocation]") {
  BeBudgetInput in;
  in.capacity_cores = 16;
  in.threshold_percent = 65;  // 10.4 cores for LS + system + BE
  in.ls_usage_cores = 4;
  in.system_usage_cores = 0.5;
  in.reserved_cores = 1;
  CHECK(be_cpu_budget(in) == Approx(10.4 - 4 - 1));
  in.system_usage_cores = 2;  // system above its reservation counts at its usage
  CHECK(be_cpu_budget(in) == Approx(10.4 - 4 - 2));
  in.ls_usage_cores = 15;  // LS spike: floor, never zero
  CHECK(be_cpu_budget(in) == Approx(0.5));
  in.min_cores = 0;
  CHECK(be_cpu_budget(in) == Approx(0));
  in.capacity_cores = 2;
  in.threshold_percent = 100;
  in.ls_usage_cores = 0;
  in.system_usage_cores = 0;
  in.reserved_cores = 0;
  CHECK(be_cpu_budget(in) == Approx(2));
}

TEST_CASE("budget smoother shrinks at once and grows by a bounded step", "[unit][colocation]") {
  BudgetSmoother s(1.0);
  CHECK(s.update(8) == Approx(8));
  CHECK(s.update(2) == Approx(2));  // LS spike
  CHECK(s.update(8) == Approx(3));
  CHECK(s.update(8) == Approx(4));
  CHECK(s.update(3.5) == Approx(3.5));
}

TEST_CASE("interference cap halves on breach and recovers when clean", "[unit][colocation]") {
  InterferenceCap cap(0.25);
  CHECK_FALSE(cap.update(false, 8, 16, 0.5));
  CHECK(*cap.update(true, 8, 16, 0.5) == Approx(4));
  CHECK(*cap.update(true, 8, 16, 0.5) == Approx(2));
  CHECK(*cap.update(false, 8, 16, 0.5) == Approx(6));
  CHECK(*cap.update(false, 8, 16, 0.5) == Approx(10));
  CHECK(*cap.update(false, 8, 16, 0.5) == Approx(14));
  CHECK_FALSE(cap.update(false, 8, 16, 0.5));  // no longer binding
  for (int i = 0; i < 20; ++i) cap.update(true, 8, 16, 0.5);
  CHECK(*cap.update(true, 8, 16, 0.5) == Approx(0.5));  // floor
}

TEST_CASE("eviction: BE only, lowest priority first, then largest, until below the lower mark", "[unit][colocation]") {
  const int64_t GiB = 1ll << 30;
  std::vector<EvictionCandidate> pods = {
      {"prod/web", false, 9000, 20 * GiB},   // never evicted
      {"batch/a", true, 5000, 2 * GiB},
      {"batch/b", true, 3000, 1 * GiB},      // koord-free: first
      {"batch/c", true, 5000, 6 * GiB},      // same priority as a, larger: before a
      {"batch/d", true, 5000, 1 * GiB},
  };
  // 100 GiB node, 75 GiB used, evict at 70 %, stop below 65 %: free 10 GiB.
  auto d = select_evictions(pods, 75 * GiB, 100 * GiB, 70, 65);
  REQUIRE(d.triggered);
  CHECK(d.bytes_to_free == 10 * GiB);
  CHECK(d.victims == std::vector<std::string>{"batch/b", "batch/c", "batch/a", "batch/d"});
  auto d2 = select_evictions(pods, 72 * GiB, 100 * GiB, 70, 65);  // 7 GiB: b (1) + c (6)
  CHECK(d2.victims == std::vector<std::string>{"batch/b", "batch/c"});
  auto none = select_evictions(pods, 69 * GiB, 100 * GiB, 70, 65);
  CHECK_FALSE(none.triggered);
  CHECK(none.victims.empty());
  // Nothing BE to evict: triggered, but no victim is ever an LS pod.
  auto only_ls = select_evictions({pods[0]}, 95 * GiB, 100 * GiB, 70, 65);
  CHECK(only_ls.triggered);
  CHECK(only_ls.victims.empty());
}

TEST_CASE("decaying histogram: percentiles and decay toward recent samples", "[unit][colocation]") {
  DecayingHistogram h(0.01, 1.1, std::chrono::seconds(3600));  // top bucket 0.01 × 1.1^127 ≈ 1800
  CHECK(h.percentile(0.95) == 0);
  for (int i = 1; i <= 100; ++i) h.add(i / 10.0, 0);  // 0.1 .. 10
  // Bucket upper bounds: never below the true percentile, at most one bucket (10 %) above.
  CHECK(h.percentile(0.5) >= 5.0);
  CHECK(h.percentile(0.5) <= 5.0 * 1.1 + 1e-9);
  CHECK(h.percentile(0.95) >= 9.5);
  CHECK(h.percentile(0.95) <= 9.5 * 1.1 + 1e-9);
  // Ten half-lives later, a new regime at 1.0 dominates (old weight ≈ 1/1024 each).
  for (int i = 0; i < 100; ++i) h.add(1.0, 36000);
  CHECK(h.percentile(0.95) == Approx(1.0).epsilon(0.12));
  // Renormalisation over very long spans keeps results finite.
  for (int i = 0; i < 10; ++i) h.add(2.0, 3600.0 * 24 * 365 * (i + 1));
  CHECK(std::isfinite(h.percentile(0.5)));
  CHECK(h.percentile(0.5) == Approx(2.0).epsilon(0.12));
}

TEST_CASE("decaying histogram: sparse buckets answer like the exact weighted percentile", "[unit][colocation]") {
  // Samples in random order of value over a wide range (incl. 0 and the open top bucket), with decay: the answer must
  // be the bucket bound of the exact weighted percentile, computed here from the raw samples.
  DecayingHistogram h(0.01, 1.1, std::chrono::seconds(600));
  std::mt19937 rng(11);
  std::uniform_real_distribution<double> val(0, 3000), weight(0.5, 2);
  std::vector<std::pair<double, double>> samples;  // value, weight at t = 0 scale
  for (int i = 0; i < 400; ++i) {
    double v = i % 50 == 0 ? 0.0 : val(rng), w = weight(rng), t = i * 5.0;
    h.add(v, t, w);
    samples.emplace_back(v, w * std::exp2(t / 600.0));
  }
  auto bound_of = [](double v) {
    if (v <= 0.01) return 0.01;
    double b = std::ceil(std::log(v / 0.01) / std::log(1.1));
    return 0.01 * std::pow(1.1, std::min(b, 127.0));
  };
  std::sort(samples.begin(), samples.end());
  double total = 0;
  for (const auto& s : samples) total += s.second;
  for (double q : {0.05, 0.5, 0.9, 0.99, 1.0}) {
    double acc = 0, want = 0;
    for (const auto& s : samples) {
      acc += s.second;
      if (acc >= q * total * (1 - 1e-12)) {
        want = bound_of(s.first);
        break;
      }
    }
    CHECK(h.percentile(q) == Approx(want).epsilon(1e-9));
  }
}

TEST_CASE("reclaim estimator: formula, policies, cold start, degrade, bounded memory", "[unit][colocation]") {
  ReclaimSettings s;
  s.cpu_reclaim_threshold_percent = 60;
  s.memory_reclaim_threshold_percent = 65;
  s.margin = 1.0;
  s.cold_start = std::chrono::seconds(600);
  ReclaimEstimator e(s);
  const int64_t GiB = 1ll << 30;
  // One LS pod using ~2 cores / 4 GiB with requests of 4 cores / 8 GiB, observed for an hour.
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> jitter(-0.1, 0.1);
  for (int t = 0; t <= 3600; t += 10)
    e.observe({{"prod/web", 2.0 + jitter(rng), 4 * GiB, 4.0, 8 * GiB}}, t);
  // usage: 16 cores × 60 % − max(1, 0.5) − ~2.1 (p95 of 1.9..2.1) ≈ 6.5 cores
  auto r = e.compute(16, 64 * GiB, 1.0, 2 * GiB, 0.5, 1 * GiB, 3600, 3600);
  CHECK_FALSE(r.degraded);
  CHECK(r.batch_cpu_millis == Approx(6500).margin(300));
  // Memory peak is estimated conservatively (bucket upper bound ≤ 10 % above 4 GiB): batch is at most the exact
  // figure and at most 0.4 GiB below it.
  double exact_mem = 0.65 * 64 * GiB - 2 * GiB - 4 * GiB;
  CHECK(r.batch_memory_bytes <= exact_mem);
  CHECK(r.batch_memory_bytes >= exact_mem - 0.4 * GiB);
  // request: 16 × 0.6 − 1 − 4 = 4.6 cores
  s.cpu_policy = ReclaimPolicy::request;
  e.set_settings(s);
  CHECK(e.compute(16, 64 * GiB, 1.0, 2 * GiB, 0.5, 1 * GiB, 3600, 3600).batch_cpu_millis == 4600);
  s.cpu_policy = ReclaimPolicy::maxUsageRequest;
  e.set_settings(s);
  CHECK(e.compute(16, 64 * GiB, 1.0, 2 * GiB, 0.5, 1 * GiB, 3600, 3600).batch_cpu_millis == 4600);
  // Metrics older than degradeTimeMinutes → zero, flagged.
  auto stale = e.compute(16, 64 * GiB, 1.0, 2 * GiB, 0.5, 1 * GiB, 3600 + 16 * 60, 3600);
  CHECK(stale.degraded);
  CHECK(stale.batch_cpu_millis == 0);
  CHECK(stale.batch_memory_bytes == 0);
  // A new pod in its cold-start window counts at its request even if idle.
  s.cpu_policy = ReclaimPolicy::usage;
  e.set_settings(s);
  e.observe({{"prod/web", 2.0, 4 * GiB, 4.0, 8 * GiB}, {"prod/new", 0.0, 0, 3.0, 2 * GiB}}, 3610);
  auto peak = e.peak("prod/new", 3610);
  REQUIRE(peak);
  CHECK(peak->first == Approx(3.0));
  CHECK(peak->second == 2 * GiB);
  // Pods that leave are forgotten: memory per pod is bounded and the set follows the node.
  e.observe({{"prod/new", 0.0, 0, 3.0, 2 * GiB}}, 3620);
  CHECK(e.tracked_pods() == 1);
  CHECK_FALSE(e.peak("prod/web", 3620));
  // Never negative.
  auto tiny = e.compute(2, 1 * GiB, 1.5, 1 * GiB, 0, 0, 3620, 3620);
  CHECK(tiny.batch_cpu_millis == 0);
  CHECK(tiny.batch_memory_bytes == 0);
}
