// Real load-and-attach tests of the scheduler BPF programs (suite 'bpf', root): attribution in this machine's v1 cpu
// hierarchy, and by cgroup2 id when the same executable runs on a pure cgroup2 kernel (suite kernel-v2, in a VM).
#include <sys/epoll.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include <prometheus/registry.h>

#include "agent/decide/runq/runq_latency_controller.h"
#include "bpf/cgroup_id.h"
#include "bpf/sched_probe.h"
#include "tests/bpf/cpu_test_cgroups.h"

using slo::bpf::AttachKind;
using slo::bpf::Hierarchy;
using slo::bpf::RunqHistogram;
using slo::bpf::SchedProbe;
using slo::bpf::SchedProbeOptions;
using slo::test::CpuTestCgroups;

namespace {

uint64_t id_of(const std::string& dir) {
  auto id = slo::bpf::cgroup_id_of(dir);
  REQUIRE(id.has_value());
  return *id;
}

// Set by scripts/vm/run-in-vm.sh in its guest (suite kernel-v2): a TCG VM whose two vCPUs are threads on a shared
// host. The guest clock keeps running while a vCPU waits for a host CPU, so the guest runs several times slower than
// real time (~220 wakeups/s of the 1 ms sleeper instead of ~1000) and its short waits are inflated by the host's
// scheduling of the vCPUs. There the tests measure longer, and the median contrast (a ratio of two sub-ms values, the
// one most exposed to that noise) is checked on the host only; counts and mean contrast are checked everywhere.
bool in_tcg_vm() {
  const char* v = std::getenv("SLO_TEST_VM");
  return v && *v;
}

std::chrono::milliseconds measure_window() {
  return in_tcg_vm() ? std::chrono::milliseconds(4000) : std::chrono::milliseconds(1500);
}

// The probe attributes in the hierarchy the test cgroups live in.
SchedProbeOptions options_for(const CpuTestCgroups& cg) {
  SchedProbeOptions o;
  o.hierarchy = cg.mode() == slo::cg::Mode::v2 ? Hierarchy::v2 : Hierarchy::v1_cpu;
  return o;
}

void print(const char* what, const RunqHistogram& h) {
  std::printf("  %-8s samples=%llu mean=%.1fus p50=%.1fus p99=%.1fus\n", what,
              static_cast<unsigned long long>(h.count()), h.mean_seconds().value_or(0) * 1e6,
              h.quantile_seconds(0.5).value_or(0) * 1e6, h.quantile_seconds(0.99).value_or(0) * 1e6);
}

// Share of the waits of at least 2^k µs (buckets k and up).
double share_from_bucket(const RunqHistogram& h, int k) {
  uint64_t n = 0;
  for (int i = k; i < slo::bpf::kRunqBuckets; ++i) n += h.buckets[static_cast<size_t>(i)];
  return h.count() ? static_cast<double>(n) / static_cast<double>(h.count()) : 0.0;
}

// Two pods: "busy" (its container spins and sleeps on CPU 0 next to an untracked hog pinned there) and "idle" (a
// sleeper that wakes every millisecond on CPU 1). A third tracked pod has no tasks.
void contention_scenario(AttachKind kind) {
  CpuTestCgroups cg;
  std::string error;
  SchedProbeOptions opts = options_for(cg);
  opts.first = kind;
  auto probe = SchedProbe::open(opts, &error);
  INFO(error);
  REQUIRE(probe);
  CHECK(probe->attach_kind() == kind);
  std::printf("attributing in %s\n", std::string(slo::cg::to_string(cg.mode())).c_str());
  std::string busy_pod = cg.make("busy");
  cg.make("busy/ctr");  // tasks sit one level below the tracked pod cgroup, as containers do
  std::string idle_pod = cg.make("idle");
  std::string empty_pod = cg.make("empty");
  cg.make("hog");  // untracked
  uint64_t busy = id_of(busy_pod), idle = id_of(idle_pod), empty = id_of(empty_pod);
  REQUIRE(probe->track(busy, &error));
  REQUIRE(probe->track(idle, &error));
  REQUIRE(probe->track(empty, &error));
  CHECK(probe->tracked_count() == 3);

  cg.spawn("hog", 0, slo::test::spin_forever);
  cg.spawn("busy/ctr", 0, [] { slo::test::spin_sleep_forever(2000, 500); });
  cg.spawn("idle", 1, [] { slo::test::spin_sleep_forever(20, 1000); });
  std::this_thread::sleep_for(measure_window());

  RunqHistogram hb, hi, he;
  REQUIRE(probe->read(busy, hb));
  REQUIRE(probe->read(idle, hi));
  REQUIRE(probe->read(empty, he));
  std::printf("run-queue latency via %s:\n", std::string(to_string(kind)).c_str());
  print("busy", hb);
  print("idle", hi);
  print("empty", he);

  CHECK(he.count() == 0);   // nothing runs there: no sample may leak into it
  REQUIRE(hb.count() > 50);  // the busy container wakes ~500×/s and is preempted by the hog
  REQUIRE(hi.count() > 200);  // the sleeper wakes ~1000×/s
  double busy_mean = *hb.mean_seconds(), idle_mean = *hi.mean_seconds();
  // Sharing a CPU with a spinning hog means waiting whole scheduler slices (ms); a lone sleeper waits µs.
  CHECK(busy_mean > 300e-6);
  // In a TCG VM the host deschedules the vCPU threads: on a loaded host a few waits of milliseconds land in the
  // idle pod too and dominate its mean (seen: idle mean 547 µs at a median of 84 µs), while its median stays µs.
  const double idle_ref = in_tcg_vm() ? *hi.quantile_seconds(0.5) : idle_mean;
  CHECK(busy_mean > 5 * idle_ref);
  // Waiting a whole slice (≥ 1 ms) is common for the busy pod and rare for the idle one. Not the medians: CFS lets a
  // task that slept preempt the hog at once, so on a machine with other load both medians sit at a few µs and the
  // idle pod's can be the larger (seen in CI while another build ran: busy p50 1.8 µs, idle p50 4.1 µs, means 1449
  // and 55 µs).
  const double busy_slices = share_from_bucket(hb, 10), idle_slices = share_from_bucket(hi, 10);
  std::printf("  waits >= 1 ms: busy %.1f %%, idle %.1f %%\n", 100 * busy_slices, 100 * idle_slices);
  CHECK(busy_slices > 0.05);
  CHECK(busy_slices > 3 * idle_slices);
  auto counters = probe->counters();
  CHECK(counters.samples >= hb.count() + hi.count());
  CHECK(counters.inflight_full == 0);
}

}  // namespace

TEST_CASE("runq latency (tp_btf): contended pod waits far longer than idle pod, attributed by v1 cpu cgroup or v2 id") {
  contention_scenario(AttachKind::tp_btf);
}

TEST_CASE("runq latency (raw_tp fallback): same attribution and contrast") {
  contention_scenario(AttachKind::raw_tp);
}

TEST_CASE("runq latency: untrack stops counting, re-track starts from an empty histogram") {
  CpuTestCgroups cg;
  std::string error;
  auto probe = SchedProbe::open(options_for(cg), &error);
  INFO(error);
  REQUIRE(probe);
  uint64_t pod = id_of(cg.make("pod"));
  REQUIRE(probe->track(pod, &error));
  cg.spawn("pod", 1, [] { slo::test::spin_sleep_forever(20, 1000); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  RunqHistogram h;
  REQUIRE(probe->read(pod, h));
  CHECK(h.count() > 50);

  probe->untrack(pod);
  CHECK_FALSE(probe->tracked(pod));
  CHECK_FALSE(probe->read(pod, h));
  REQUIRE(probe->track(pod, &error));
  RunqHistogram fresh;
  REQUIRE(probe->read(pod, fresh));
  CHECK(fresh.count() < h.count());  // zeroed on track (a few wakeups may land right after)
}

TEST_CASE("cfs throttle events: a tracked pod over its quota is reported with its cgroup id, via an Asio wait") {
  CpuTestCgroups cg;
  std::string error;
  auto probe = SchedProbe::open(options_for(cg), &error);
  INFO(error);
  REQUIRE(probe);
  std::string pod_dir = cg.make("pod");
  std::string ctr_dir = cg.make("pod/ctr");
  cg.make("other");
  // 10 ms per 100 ms period: a spinner is throttled every period.
  cg.set_cpu_quota("pod", 10000);
  cg.set_cpu_quota("other", 10000);
  uint64_t pod = id_of(pod_dir), ctr = id_of(ctr_dir);
  uint64_t other = id_of(cg.top() + "/other");
  REQUIRE(probe->track(pod, &error));
  cg.spawn("pod/ctr", 0, slo::test::spin_forever);
  cg.spawn("other", 1, slo::test::spin_forever);  // throttled too, but not tracked

  boost::asio::io_context io;
  boost::asio::posix::stream_descriptor ready(io, ::dup(probe->throttle_epoll_fd()));
  boost::asio::steady_timer deadline(io, std::chrono::seconds(3));
  std::vector<slo::bpf::ThrottleEvent> events;
  std::function<void()> wait = [&] {
    ready.async_wait(boost::asio::posix::stream_descriptor::wait_read, [&](boost::system::error_code ec) {
      if (ec) return;
      probe->drain_throttle_events([&](const slo::bpf::ThrottleEvent& e) { events.push_back(e); });
      if (events.size() >= 8) {
        deadline.cancel();
        return;
      }
      wait();
    });
  };
  wait();
  deadline.async_wait([&](boost::system::error_code ec) {
    if (!ec) ready.cancel();
  });
  auto t0 = std::chrono::steady_clock::now();
  io.run();
  auto waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("throttle events: %zu in %.2fs, lost %llu\n", events.size(), waited,
              static_cast<unsigned long long>(probe->counters().throttle_lost));
  for (size_t i = 1; i < events.size(); i++)
    std::printf("  +%.1f ms cpu %u\n", static_cast<double>(events[i].ts_ns - events[i - 1].ts_ns) / 1e6, events[i].cpu);
  REQUIRE(events.size() >= 3);
  for (const auto& e : events) {
    CHECK(e.tracked_id == pod);
    CHECK(e.cgroup_id == ctr);  // the spinner's own group; the pod is its tracked ancestor
    CHECK(e.cgroup_id != other);
    CHECK(e.cpu == 0);
  }
  // Rate-limited per pod (5 ms), and bounded by the quota periods: this kernel (task-based throttling, 6.18) takes
  // the task off the CPU up to twice per 100 ms period (at the throttle and again when it returns to user mode).
  for (size_t i = 1; i < events.size(); i++) CHECK(events[i].ts_ns - events[i - 1].ts_ns >= 5'000'000ULL);
  double span_s = static_cast<double>(events.back().ts_ns - events.front().ts_ns) / 1e9;
  CHECK(static_cast<double>(events.size() - 1) / span_s < 30.0);
  CHECK(waited < 2.0);  // eight events within a few 100 ms periods, delivered as they happen

  // The throttled time is not counted as run-queue latency: the lone spinner only waits for its quota.
  RunqHistogram h;
  REQUIRE(probe->read(pod, h));
  std::printf("throttled pod run-queue samples=%llu mean=%.1fus\n", static_cast<unsigned long long>(h.count()),
              h.mean_seconds().value_or(0) * 1e6);
  // Counting the ~90 ms it spends throttled per period would push the mean far above 50 ms.
  CHECK(h.mean_seconds().value_or(0) < 50e-3);
}

namespace {

struct NoWrites : slo::agent::IntentSink {
  int calls = 0;
  void set(const slo::cg::KnobRef&, const slo::cg::KnobValue&, const std::string&) override { calls++; }
};

slo::agent::PodState test_pod(const std::string& name, const std::string& cgroup) {
  slo::agent::PodState ps;
  ps.pod.namespace_ = "test";
  ps.pod.name = name;
  ps.pod.uid = name + "-uid";
  ps.pod.phase = "Running";
  ps.pod.qos = slo::model::QosClass::LS;
  ps.cgroup = cgroup;
  return ps;
}

// A run-queue controller on the test cgroups with its BPF source probed and its metrics initialised.
struct BpfRunq {
  slo::agent::HostInfo host;
  slo::agent::MetricsRegistry reg;
  slo::agent::runq::RunqLatencyController c;
  explicit BpfRunq(const CpuTestCgroups& cg) {
    host.cgroup_root = cg.root();
    host.proc_root = "/proc";
    host.mode = cg.mode();
    auto cap = c.probe(host);
    INFO(cap.reason);
    REQUIRE(cap.supported);
    REQUIRE(c.source() == slo::agent::runq::RunqLatencyController::Source::bpf);
    slo::agent::ControllerContext ctx{host, reg};
    c.init(ctx);
  }
};

}  // namespace

TEST_CASE("controller with BPF: per-pod p99 on the blackboard, throttled pod marked hot, metrics per pod") {
  CpuTestCgroups cg;
  const std::string rel = cg.top_rel();
  cg.make("busy/ctr");
  cg.make("idle");
  cg.make("capped/ctr");
  cg.make("hog");
  cg.set_cpu_quota("capped", 2000);  // 2 ms per 100 ms: throttled every period even on a busy CPU

  BpfRunq r(cg);
  auto& c = r.c;
  CHECK(c.source_name() == "bpf_tp_btf");
  CHECK(c.throttle_epoll_fd() >= 0);

  slo::agent::Snapshot snap;
  snap.host = &r.host;
  snap.pods.push_back(test_pod("busy", rel + "/busy"));
  snap.pods.push_back(test_pod("idle", rel + "/idle"));
  snap.pods.push_back(test_pod("capped", rel + "/capped"));
  NoWrites sink;
  slo::agent::Blackboard first;
  c.decide(snap, first, sink);  // starts tracking: nothing measured yet
  CHECK(first.runq_p99_seconds.empty());

  cg.spawn("hog", 0, slo::test::spin_forever);
  cg.spawn("busy/ctr", 0, [] { slo::test::spin_sleep_forever(2000, 500); });
  cg.spawn("idle", 1, [] { slo::test::spin_sleep_forever(20, 1000); });
  cg.spawn("capped/ctr", 0, slo::test::spin_forever);
  std::this_thread::sleep_for(measure_window());

  slo::agent::Blackboard board;
  c.decide(snap, board, sink);
  auto st = c.status();
  std::printf("controller status: %s\n", st.dump().c_str());
  REQUIRE(board.runq_p99_seconds.count("test/busy"));
  REQUIRE(board.runq_p99_seconds.count("test/idle"));
  CHECK(board.runq_p99_seconds["test/busy"] > 2e-3);
  CHECK(st["pods"]["test/busy"]["interval_samples"].get<uint64_t>() > 50);
  CHECK(st["pods"]["test/idle"]["interval_samples"].get<uint64_t>() > 200);
  CHECK(st["pods"]["test/capped"]["throttle_events"].get<uint64_t>() >= 3);
  CHECK(board.hot_cgroups.count(rel + "/capped"));
  CHECK_FALSE(board.hot_cgroups.count(rel + "/busy"));
  CHECK(sink.calls == 0);

  auto fams = r.reg.Collect();
  std::set<std::string> pods_with_hist;
  for (const auto& f : fams)
    if (f.name == "sloagent_pod_runq_latency_seconds")
      for (const auto& m : f.metric)
        for (const auto& l : m.label)
          if (l.name == "pod") pods_with_hist.insert(l.value);
  CHECK(pods_with_hist.count("busy"));
  CHECK(pods_with_hist.count("idle"));
}

TEST_CASE("on_tick: a capped pod's throttle events reach the blackboard within a few periods, an unlimited one's never") {
  CpuTestCgroups cg;
  const std::string rel = cg.top_rel();
  cg.make("capped/ctr");
  cg.make("free/ctr");
  cg.set_cpu_quota("capped", 2000);  // 2 ms per 100 ms period

  BpfRunq r(cg);
  auto& c = r.c;
  slo::agent::Snapshot snap;
  snap.host = &r.host;
  snap.pods.push_back(test_pod("capped", rel + "/capped"));
  snap.pods.push_back(test_pod("free", rel + "/free"));
  NoWrites sink;
  slo::agent::Blackboard first;
  c.on_tick(snap, first);
  CHECK_FALSE(first.throttle_events.watches(rel + "/capped"));  // not tracked before its first decide
  c.decide(snap, first, sink);

  cg.spawn("capped/ctr", 0, slo::test::spin_forever);
  cg.spawn("free/ctr", 1, slo::test::spin_forever);
  const auto start = std::chrono::steady_clock::now();
  std::optional<std::chrono::milliseconds> seen_after;
  bool free_seen = false;
  for (int i = 0; i < 30 && !seen_after; ++i) {  // ticks 100 ms apart, as the runtime runs them
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    slo::agent::Blackboard b;
    c.on_tick(snap, b);
    REQUIRE(b.throttle_events.watched);
    CHECK(b.throttle_events.watches(rel + "/capped"));
    CHECK(b.throttle_events.watches(rel + "/free"));
    free_seen = free_seen || b.throttle_events.pod_cgroups.count(rel + "/free") > 0;
    if (b.throttle_events.pod_cgroups.count(rel + "/capped"))
      seen_after = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  }
  REQUIRE(seen_after);
  std::printf("first throttle event of the capped pod on the board after %lld ms\n",
              static_cast<long long>(seen_after->count()));
  // Throttled in its first period; the tick that follows picks it up (a loaded TCG VM may be slower).
  CHECK(*seen_after <= (in_tcg_vm() ? std::chrono::milliseconds(2000) : std::chrono::milliseconds(400)));
  CHECK_FALSE(free_seen);

  // Events drained by a decide() in between are handed to the next on_tick, not lost. The pod's event counter
  // (status) shows whether this decide drained any: wait for a decide that did (the TCG guest runs the spinner slowly).
  auto events_of_capped = [&] { return c.status()["pods"]["test/capped"]["throttle_events"].get<uint64_t>(); };
  bool drained_by_decide = false;
  for (int i = 0; i < 20 && !drained_by_decide; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const uint64_t before = events_of_capped();
    slo::agent::Blackboard mid;
    c.decide(snap, mid, sink);
    drained_by_decide = events_of_capped() > before;
    slo::agent::Blackboard after;
    c.on_tick(snap, after);
    if (drained_by_decide) CHECK(after.throttle_events.pod_cgroups.count(rel + "/capped"));
  }
  CHECK(drained_by_decide);
}

TEST_CASE("read_many: one batched read per run of nearby slots gives what read() gives, untracked ids fail") {
  CpuTestCgroups cg;
  std::string error;
  auto probe = SchedProbe::open(options_for(cg), &error);
  INFO(error);
  REQUIRE(probe);
  std::vector<uint64_t> ids;
  for (int i = 0; i < 20; i++) {
    ids.push_back(id_of(cg.make("p" + std::to_string(i))));
    REQUIRE(probe->track(ids.back(), &error));  // slots 0..19
  }
  // Free slots 1..12: the tracked slots form a lone slot (0) and a run (13..19) far from it.
  for (int i = 1; i <= 12; i++) probe->untrack(ids[static_cast<size_t>(i)]);
  cg.spawn("p0", 1, [] { slo::test::spin_sleep_forever(20, 1000); });
  cg.spawn("p15", 1, [] { slo::test::spin_sleep_forever(20, 1000); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));

  std::vector<RunqHistogram> before(ids.size()), after(ids.size()), many;
  std::vector<char> ok;
  for (size_t i = 0; i < ids.size(); i++) probe->read(ids[i], before[i]);
  probe->read_many(ids, many, ok);
  for (size_t i = 0; i < ids.size(); i++) probe->read(ids[i], after[i]);
  REQUIRE(many.size() == ids.size());
  REQUIRE(ok.size() == ids.size());
  for (size_t i = 0; i < ids.size(); i++) {
    INFO("pod p" << i);
    const bool tracked = i == 0 || i >= 13;
    CHECK(static_cast<bool>(ok[i]) == tracked);
    if (!tracked) continue;
    // Counters only grow: a read between two reads lies between them, bucket by bucket.
    for (size_t b = 0; b < many[i].buckets.size(); b++) {
      CHECK(before[i].buckets[b] <= many[i].buckets[b]);
      CHECK(many[i].buckets[b] <= after[i].buckets[b]);
    }
    CHECK(before[i].sum_ns <= many[i].sum_ns);
    CHECK(many[i].sum_ns <= after[i].sum_ns);
  }
  CHECK(many[0].count() > 50);
  CHECK(many[15].count() > 50);
  CHECK(many[14].count() == 0);
  // An empty request, and only untracked ids.
  probe->read_many({}, many, ok);
  CHECK(many.empty());
  probe->read_many({ids[1], ids[2]}, many, ok);
  CHECK(ok == std::vector<char>{0, 0});
}

TEST_CASE("controller with BPF: a recreated pod cgroup is tracked anew once its old id has no waits") {
  CpuTestCgroups cg;
  const std::string rel = cg.top_rel();
  const std::string dir = cg.make("pod");
  BpfRunq r(cg);
  auto& c = r.c;
  slo::agent::Snapshot snap;
  snap.host = &r.host;
  snap.now = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
  snap.pods.push_back(test_pod("pod", rel + "/pod"));
  NoWrites sink;
  auto decide = [&](std::chrono::seconds later) {
    snap.now += later;
    slo::agent::Blackboard board;
    c.decide(snap, board, sink);
    return board;
  };
  decide(std::chrono::seconds(0));
  const uint64_t old_id = c.status()["pods"]["test/pod"]["cgroup_id"].get<uint64_t>();
  CHECK(old_id == id_of(dir));

  // kubelet-style recreation: same path, new directory (new kernfs id). No task waits in the old one any more.
  REQUIRE(std::filesystem::remove(dir));
  cg.make("pod");
  const uint64_t new_id = id_of(dir);
  REQUIRE(new_id != old_id);
  // Within the re-check interval an idle pod's id is not re-read (no stat per pod per tick)...
  decide(std::chrono::seconds(1));
  CHECK(c.status()["pods"]["test/pod"]["cgroup_id"].get<uint64_t>() == old_id);
  // ...after it, the idle pod's directory is checked and the new cgroup tracked from an empty histogram.
  decide(std::chrono::seconds(5));
  CHECK(c.status()["pods"]["test/pod"]["cgroup_id"].get<uint64_t>() == new_id);
  cg.spawn("pod", 1, [] { slo::test::spin_sleep_forever(20, 1000); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto board = decide(std::chrono::seconds(1));
  CHECK(board.runq_p99_seconds.count("test/pod"));
  CHECK(c.status()["pods"]["test/pod"]["interval_samples"].get<uint64_t>() > 50);
}
