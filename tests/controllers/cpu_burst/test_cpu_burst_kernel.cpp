// The CPU burst controller against the real cpu hierarchy: a CPU-hungry container under a low quota, the controller
// driven every 100 ms by the stand-in runtime (bench/cpu_burst/local_runtime.h) that reads cpu.stat and applies the
// intents with the ordered writer.
#include <catch2/catch.hpp>

#include <sys/resource.h>

#include <chrono>
#include <cstdlib>
#include <thread>

#include "agent/decide/cpu_burst/cpu_burst_controller.h"
#include "bench/cpu_burst/local_runtime.h"
#include "tests/common/kernel_cgroup.h"

using namespace slo;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int64_t kQuota = 20000;

// Set by scripts/vm/run-in-vm.sh in its guest (suite kernel-v2): a TCG VM on a shared host, where one controller tick
// (read cpu.stat, decide, write) takes ~100-150 ms of wall time instead of ~1 ms. There the quota must still rise on
// the controller's second tick, but the wall-time bound is relaxed.
bool in_tcg_vm() {
  const char* v = std::getenv("SLO_TEST_VM");
  return v && *v;
}

int64_t read_int(const cg::CgroupFs& fs, const std::string& cgroup, cg::Knob k) {
  auto r = fs.read({cgroup, k, {}});
  REQUIRE(r.ok());
  return cg::as_int(r.value);
}

cg::CpuStat stat_of(const cg::CgroupFs& fs, const std::string& cgroup) {
  auto r = fs.cpu_stat(cgroup);
  REQUIRE(r.ok());
  return r.value;
}

double throttled_ratio(const cg::CpuStat& a, const cg::CpuStat& b) {
  uint64_t periods = b.nr_periods - a.nr_periods;
  return periods ? double(b.nr_throttled - a.nr_throttled) / double(periods) : 0.0;
}

struct Setup {
  test::KernelCgroup kc;
  cg::CgroupFs fs;
  std::string pod, ctr;
  agent::HostInfo host;

  Setup() : fs(open_fs(kc.root())) {
    kc.mkdir("pod/c0");
    pod = kc.rel("pod");
    ctr = kc.rel("pod/c0");
    // What the kubelet would have written for a 0.2 CPU limit.
    REQUIRE(fs.write({pod, cg::Knob::cpu_quota, {}}, int64_t(kQuota)).ok());
    REQUIRE(fs.write({ctr, cg::Knob::cpu_quota, {}}, int64_t(kQuota)).ok());
    // This machine is shared with parallel builds (load ~15 on 2 CPUs): a high weight for the test subtree lets
    // the spinning load actually reach its quota, so the test measures the controller, not the neighbours.
    REQUIRE(fs.write({kc.base(), cg::Knob::cpu_shares, {}}, int64_t(262144)).ok());
    host.cgroup_root = kc.root();
    host.mode = fs.mode();
    host.kernel_burst = fs.supports(cg::Knob::cpu_burst);
  }
  static cg::CgroupFs open_fs(const std::string& root) {
    auto r = cg::CgroupFs::open(root);
    if (!r.ok()) FAIL("CgroupFs::open(" << root << "): " << r.status.describe());
    return std::move(r.value);
  }
};

}  // namespace

TEST_CASE("kernel: a throttled LS container gets its quota within 200 ms, and the original back when idle",
          "[cpu_burst][kernel]") {
  Setup s;
  // Two spinning processes want 2 CPUs; the limit is 0.2.
  s.kc.spawn("pod/c0", true);
  s.kc.spawn("pod/c0", true);
  auto before0 = stat_of(s.fs, s.ctr);
  std::this_thread::sleep_for(600ms);
  auto before1 = stat_of(s.fs, s.ctr);
  double ratio_unmanaged = throttled_ratio(before0, before1);
  INFO("throttled ratio without the controller: " << ratio_unmanaged);
  REQUIRE(before1.nr_throttled > before0.nr_throttled);
  CHECK(ratio_unmanaged > 0.5);

  // The agent runs with a guaranteed CPU share; on this shared build machine (load ~15 on 2 CPUs) a nice-0 loop waits
  // tens of ms for a CPU, which would measure the neighbours rather than the controller.
  ::setpriority(PRIO_PROCESS, 0, -10);
  agent::cpu_burst::CpuBurstController ctl;
  ctl.probe(s.host);
  REQUIRE_FALSE(ctl.configure({{"cpuBurstStrategy", {{"policy", "auto"}, {"cfsQuotaBurstPercent", 1500}}}}));
  // No node statistics: the node guard is unit-tested; here the machine is shared with other builds.
  bench::cpu_burst::LocalRuntime rt(s.fs, ctl, s.host, "");
  rt.set_pods({bench::cpu_burst::make_pod("hungry", s.pod, {200})});

  const auto start = Clock::now();
  auto next = start;
  std::optional<Clock::duration> raised_after;
  std::vector<long> ticks_at;  // ms after start at which each tick finished (shows scheduling delays on failure)
  for (int i = 0; i < 10 && !raised_after; ++i) {
    std::this_thread::sleep_until(next);
    auto rep = rt.tick();
    for (const auto& e : rep.errors) FAIL_CHECK(e);
    if (read_int(s.fs, s.ctr, cg::Knob::cpu_quota) > kQuota) raised_after = Clock::now() - start;
    ticks_at.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count());
    next += ctl.period();
  }
  INFO("ticks finished at (ms): " << [&] {
    std::string t;
    for (auto v : ticks_at) t += std::to_string(v) + " ";
    return t;
  }());
  INFO("controller decisions: " << ctl.explain("bench/hungry").dump() << " status " << ctl.status().dump());
  REQUIRE(raised_after);
  INFO("quota raised " << std::chrono::duration_cast<std::chrono::milliseconds>(*raised_after).count()
                       << " ms after the controller started");
  if (in_tcg_vm()) {
    CHECK(ticks_at.size() <= 2);  // tick 1 takes the baseline, tick 2 sees the throttling and raises
    CHECK(*raised_after <= 1000ms);
  } else {
    CHECK(*raised_after <= 200ms);
  }
  const int64_t raised = read_int(s.fs, s.ctr, cg::Knob::cpu_quota);
  CHECK(raised > kQuota);
  CHECK(raised <= 15 * kQuota);  // cfsQuotaBurstPercent 1500
  CHECK(read_int(s.fs, s.pod, cg::Knob::cpu_quota) >= raised);
  if (s.host.kernel_burst) {
    // cpuBurstPercent 1000 % would be rejected by the kernel: clamped to the quota.
    CHECK(read_int(s.fs, s.ctr, cg::Knob::cpu_burst) == kQuota);
    CHECK(read_int(s.fs, s.pod, cg::Knob::cpu_burst) == kQuota);
  } else {
    WARN("SKIP part: this kernel has no cpu.cfs_burst_us (Linux < 5.14): burst not checked");
  }

  // Throttling falls while the controller holds the raised quota.
  auto managed0 = stat_of(s.fs, s.ctr);
  for (int i = 0; i < 10; ++i) {
    std::this_thread::sleep_until(next);
    rt.tick();
    next += ctl.period();
  }
  auto managed1 = stat_of(s.fs, s.ctr);
  double ratio_managed = throttled_ratio(managed0, managed1);
  INFO("throttled ratio unmanaged " << ratio_unmanaged << ", managed " << ratio_managed << ", quota "
                                    << read_int(s.fs, s.ctr, cg::Knob::cpu_quota));
  CHECK(ratio_managed < ratio_unmanaged / 2);

  // Load stops: at most the hold (3 s by default, counted from the last throttled tick) later, the quota steps back
  // to the original.
  s.kc.kill_all();
  std::optional<Clock::duration> back_after;
  const auto stop = Clock::now();
  for (int i = 0; i < 50 && !back_after; ++i) {
    std::this_thread::sleep_until(next);
    rt.tick();
    if (read_int(s.fs, s.ctr, cg::Knob::cpu_quota) == kQuota) back_after = Clock::now() - stop;
    next += ctl.period();
  }
  REQUIRE(back_after);
  CHECK(*back_after <= 4000ms);
  CHECK(read_int(s.fs, s.pod, cg::Knob::cpu_quota) == kQuota);

  // Policy off: the controller claims nothing and the runtime writes the originals back (burst 0 again).
  REQUIRE_FALSE(ctl.configure({{"cpuBurstStrategy", {{"policy", "none"}}}}));
  auto rep = rt.tick();
  CHECK(rep.intents == 0);
  CHECK(read_int(s.fs, s.ctr, cg::Knob::cpu_quota) == kQuota);
  CHECK(read_int(s.fs, s.pod, cg::Knob::cpu_quota) == kQuota);
  if (s.host.kernel_burst) {
    CHECK(read_int(s.fs, s.ctr, cg::Knob::cpu_burst) == 0);
    CHECK(read_int(s.fs, s.pod, cg::Knob::cpu_burst) == 0);
  }
}

TEST_CASE("kernel: cpuBurstOnly sets the clamped burst once and never fights the kernel", "[cpu_burst][kernel]") {
  Setup s;
  if (!s.host.kernel_burst) {
    WARN("SKIP: this kernel has no cpu.cfs_burst_us (Linux < 5.14)");
    return;
  }
  agent::cpu_burst::CpuBurstController ctl;
  ctl.probe(s.host);
  REQUIRE_FALSE(ctl.configure({{"cpuBurstStrategy", {{"policy", "cpuBurstOnly"}, {"cpuBurstPercent", 400}}}}));
  bench::cpu_burst::LocalRuntime rt(s.fs, ctl, s.host, "");
  rt.set_pods({bench::cpu_burst::make_pod("web", s.pod, {200})});
  auto first = rt.tick();
  CHECK(first.errors.empty());
  CHECK(first.writes == 2);  // pod and container burst
  CHECK(read_int(s.fs, s.ctr, cg::Knob::cpu_burst) == kQuota);
  for (int i = 0; i < 5; ++i) {
    auto rep = rt.tick();
    CHECK(rep.errors.empty());
    CHECK(rep.writes == 0);  // the clamped value holds: nothing is retried
  }
  CHECK(read_int(s.fs, s.ctr, cg::Knob::cpu_quota) == kQuota);  // quota untouched under cpuBurstOnly
  auto errs = rt.restore_all();
  CHECK(errs.empty());
  CHECK(read_int(s.fs, s.ctr, cg::Knob::cpu_burst) == 0);
}
