// The schedstat fallback (fake proc and cgroup trees), the log2 histogram math, and the controller in fallback mode
// publishing p99 and metrics (suite 'unit', no privileges).
#include <prometheus/registry.h>

#include <algorithm>
#include <catch2/catch.hpp>

#include "agent/decide/runq/runq_latency_controller.h"
#include "agent/decide/runq/runq_metrics.h"
#include "agent/decide/runq/schedstat_sampler.h"
#include "bpf/runq_histogram.h"
#include "tests/common/support.h"

using slo::agent::runq::parse_schedstat;
using slo::agent::runq::RunqLatencyController;
using slo::agent::runq::RunqOptions;
using slo::agent::runq::SchedstatSampler;
using slo::bpf::RunqHistogram;
using slo::test::TempDir;

namespace {

void schedstat(const TempDir& t, int pid, int tid, uint64_t run, uint64_t wait, uint64_t slices) {
  t.write("proc/" + std::to_string(pid) + "/task/" + std::to_string(tid) + "/schedstat",
          std::to_string(run) + " " + std::to_string(wait) + " " + std::to_string(slices) + "\n");
}

// kubepods/pod1 (pid 100 with threads 100, 101) with container ctr (pid 200); kubepods/pod2 (pid 300).
void make_tree(const TempDir& t) {
  t.write("cgroup/cpu/kubepods/pod1/cgroup.procs", "100\n");
  t.write("cgroup/cpu/kubepods/pod1/ctr/cgroup.procs", "200\n");
  t.write("cgroup/cpu/kubepods/pod2/cgroup.procs", "300\n");
  schedstat(t, 100, 100, 5'000'000, 1'000'000, 10);
  schedstat(t, 200, 200, 5'000'000, 2'000'000, 4);
  schedstat(t, 300, 300, 1'000'000, 0, 2);
}

struct Sink : slo::agent::IntentSink {
  int calls = 0;
  void set(const slo::cg::KnobRef&, const slo::cg::KnobValue&, const std::string&) override { calls++; }
};

slo::agent::PodState pod_state(const std::string& ns, const std::string& name, const std::string& cgroup,
                               slo::model::QosClass qos) {
  slo::agent::PodState ps;
  ps.pod.namespace_ = ns;
  ps.pod.name = name;
  ps.pod.uid = name + "-uid";
  ps.pod.phase = "Running";
  ps.pod.qos = qos;
  ps.cgroup = cgroup;
  return ps;
}

const prometheus::MetricFamily* family(const std::vector<prometheus::MetricFamily>& all, const std::string& name) {
  for (const auto& f : all)
    if (f.name == name) return &f;
  return nullptr;
}

}  // namespace

TEST_CASE("parse_schedstat reads run, wait and timeslices") {
  auto s = parse_schedstat("151466052 11682544 395\n");
  REQUIRE(s);
  CHECK(s->run_ns == 151466052);
  CHECK(s->wait_ns == 11682544);
  CHECK(s->timeslices == 395);
  CHECK_FALSE(parse_schedstat("1 2\n"));
  CHECK_FALSE(parse_schedstat("a b c\n"));
  CHECK_FALSE(parse_schedstat(""));
}

TEST_CASE("log2 histogram: buckets, bounds, deltas and quantiles") {
  CHECK(RunqHistogram::bucket_of_ns(0) == 0);
  CHECK(RunqHistogram::bucket_of_ns(1999) == 0);     // 1 µs
  CHECK(RunqHistogram::bucket_of_ns(2000) == 1);     // 2 µs
  CHECK(RunqHistogram::bucket_of_ns(100'000) == 6);  // 100 µs: 64..128
  CHECK(RunqHistogram::bucket_of_ns(1ULL << 62) == slo::bpf::kRunqBuckets - 1);
  CHECK(RunqHistogram::upper_bound_seconds(0) == Approx(2e-6));
  CHECK(RunqHistogram::upper_bound_seconds(6) == Approx(128e-6));
  CHECK(std::isinf(RunqHistogram::upper_bound_seconds(slo::bpf::kRunqBuckets - 1)));

  RunqHistogram h;
  CHECK_FALSE(h.quantile_seconds(0.99));
  CHECK_FALSE(h.mean_seconds());
  h.buckets[3] = 99;  // 8..16 µs
  h.buckets[13] = 1;  // 8192..16384 µs
  h.sum_ns = 99 * 10'000 + 10'000'000;
  CHECK(h.count() == 100);
  CHECK(*h.quantile_seconds(0.5) > 8e-6);
  CHECK(*h.quantile_seconds(0.5) < 16e-6);
  CHECK(*h.quantile_seconds(0.99) <= 16e-6);  // rank 99 is the last of bucket 3
  CHECK(*h.quantile_seconds(1.0) > 8e-3);
  CHECK(*h.mean_seconds() == Approx((99 * 10e-6 + 10e-3) / 100));

  RunqHistogram later = h;
  later.buckets[13] += 4;
  later.sum_ns += 40'000'000;
  RunqHistogram d = later.since(h);
  CHECK(d.count() == 4);
  CHECK(d.buckets[13] == 4);
  CHECK(d.sum_ns == 40'000'000);
  // A reset slot (counts went down) yields the whole current histogram.
  RunqHistogram reset;
  reset.buckets[0] = 2;
  CHECK(reset.since(h).count() == 2);
}

TEST_CASE("schedstat sampler: baseline first, then per-task mean wait weighted by timeslices") {
  TempDir t;
  make_tree(t);
  SchedstatSampler s(t.sub("proc"));
  std::string pod1 = t.sub("cgroup/cpu/kubepods/pod1");

  auto pids = SchedstatSampler::pids_below(pod1);
  REQUIRE(pids);
  CHECK(*pids == std::vector<pid_t>{100, 200});  // the container's process counts for the pod

  auto first = s.sample("ns/pod1", pod1);
  REQUIRE(first);
  CHECK(first->count() == 0);  // baseline only
  CHECK(s.tasks_seen("ns/pod1") == 2);

  // Interval: tid 100 ran 10 more slices and waited 1 ms more (100 µs mean); tid 200 ran 5 slices and waited
  // 50 ms (10 ms mean); a new thread 101 appears (baseline only).
  schedstat(t, 100, 100, 9'000'000, 2'000'000, 20);
  schedstat(t, 200, 200, 9'000'000, 52'000'000, 9);
  schedstat(t, 100, 101, 1'000'000, 7'000'000, 3);
  auto h = s.sample("ns/pod1", pod1);
  REQUIRE(h);
  CHECK(h->count() == 15);
  CHECK(h->buckets[6] == 10);  // 100 µs
  CHECK(h->buckets[13] == 5);  // 10 ms
  CHECK(h->sum_ns == 51'000'000);
  CHECK(*h->quantile_seconds(0.99) > 8e-3);
  CHECK(s.tasks_seen("ns/pod1") == 3);

  // Thread 101 then waits 2 ms over 2 slices (1 ms mean); 100 and 200 exit (their task dirs vanish).
  std::filesystem::remove_all(t.sub("proc/200"));
  std::filesystem::remove_all(t.sub("proc/100/task/100"));
  schedstat(t, 100, 101, 2'000'000, 9'000'000, 5);
  h = s.sample("ns/pod1", pod1);
  REQUIRE(h);
  CHECK(h->count() == 2);
  CHECK(h->buckets[9] == 2);  // 1000 µs: 512..1024
  CHECK(s.tasks_seen("ns/pod1") == 1);

  // A recycled tid with smaller totals is a new task, not a negative delta.
  schedstat(t, 100, 101, 10, 10, 1);
  h = s.sample("ns/pod1", pod1);
  REQUIRE(h);
  CHECK(h->count() == 0);

  // The pod cgroup disappears: gone, state dropped.
  std::filesystem::remove_all(pod1);
  CHECK_FALSE(s.sample("ns/pod1", pod1));
  CHECK(s.tasks_seen("ns/pod1") == 0);
}

TEST_CASE("controller in schedstat mode: probe names the fallback, p99 on the blackboard, series follow pods") {
  TempDir t;
  make_tree(t);
  slo::agent::HostInfo host;
  host.cgroup_root = t.sub("cgroup");
  host.proc_root = t.sub("proc");
  host.mode = slo::cg::Mode::hybrid;

  RunqOptions o;
  o.allow_bpf = false;
  RunqLatencyController c(o);
  auto cap = c.probe(host);
  CHECK(cap.supported);
  CHECK(cap.reason.find("schedstat fallback") != std::string::npos);
  CHECK(c.source_name() == "schedstat");
  CHECK(c.throttle_epoll_fd() == -1);
  slo::agent::MetricsRegistry reg;
  slo::agent::ControllerContext ctx{host, reg};
  c.init(ctx);
  CHECK_FALSE(c.configure(nlohmann::json::object()));
  CHECK(c.configure({{"runqLatencyStrategy", {{"enable", "yes"}}}}) ==
        std::optional<std::string>("runqLatencyStrategy.enable: must be true or false"));
  CHECK(c.configure({{"runqLatencyStrategy", {{"bogus", 1}}}})->find("runqLatencyStrategy.bogus") == 0);

  slo::agent::Snapshot snap;
  snap.host = &host;
  snap.pods.push_back(pod_state("ns", "pod1", "kubepods/pod1", slo::model::QosClass::LS));
  snap.pods.push_back(pod_state("ns", "pod2", "kubepods/pod2", slo::model::QosClass::BE));
  Sink sink;
  slo::agent::Blackboard board;
  c.decide(snap, board, sink);
  CHECK(board.runq_p99_seconds.empty());  // baseline interval

  schedstat(t, 200, 200, 9'000'000, 52'000'000, 9);  // pod1: 50 ms more wait over 5 slices (10 ms mean)
  schedstat(t, 100, 100, 9'000'000, 1'000'000, 20);  // pod1: no new wait over 10 slices
  slo::agent::Blackboard board2;
  c.decide(snap, board2, sink);
  REQUIRE(board2.runq_p99_seconds.count("ns/pod1"));
  CHECK(board2.runq_p99_seconds["ns/pod1"] > 8e-3);     // 50 ms over 5 slices = 10 ms mean
  CHECK(board2.runq_p99_seconds["ns/pod1"] < 16.4e-3);  // within its log2 bucket
  CHECK_FALSE(board2.runq_p99_seconds.count("ns/pod2"));  // no timeslices: nothing published
  CHECK(sink.calls == 0);  // never writes knobs

  auto fams = reg.Collect();
  const auto* hist = family(fams, "sloagent_pod_runq_latency_seconds");
  REQUIRE(hist);
  const prometheus::ClientMetric* pod1 = nullptr;
  for (const auto& m : hist->metric) {
    bool match = std::any_of(m.label.begin(), m.label.end(),
                             [](const prometheus::ClientMetric::Label& l) { return l.name == "pod" && l.value == "pod1"; });
    if (match) pod1 = &m;
  }
  REQUIRE(pod1);
  CHECK(pod1->histogram.sample_count == 15);
  CHECK(pod1->histogram.sample_sum == Approx(0.050));
  CHECK(pod1->histogram.bucket.size() == static_cast<size_t>(slo::bpf::kRunqBuckets));
  const auto* source = family(fams, "sloagent_runq_source");
  REQUIRE(source);
  REQUIRE(source->metric.size() == 1);
  CHECK(source->metric[0].label[0].value == "schedstat");
  auto st = c.status();
  CHECK(st["source"] == "schedstat");
  CHECK(st["pods"]["ns/pod1"]["interval_samples"] == 15);
  CHECK(c.explain("ns/pod1")[0]["published"] == true);

  // pod1's QoS class changes: its series move to the new qos label (none left under the old one).
  snap.pods[0].pod.qos = slo::model::QosClass::LSR;
  schedstat(t, 200, 200, 9'000'000, 62'000'000, 14);  // pod1: 10 ms more wait over 5 slices
  slo::agent::Blackboard board_qos;
  c.decide(snap, board_qos, sink);
  REQUIRE(board_qos.runq_p99_seconds.count("ns/pod1"));
  fams = reg.Collect();
  hist = family(fams, "sloagent_pod_runq_latency_seconds");
  REQUIRE(hist);
  std::vector<std::string> pod1_qos;
  for (const auto& m : hist->metric) {
    std::string pod, qos;
    for (const auto& l : m.label) {
      if (l.name == "pod") pod = l.value;
      if (l.name == "qos") qos = l.value;
    }
    if (pod == "pod1") pod1_qos.push_back(qos);
  }
  CHECK(pod1_qos == std::vector<std::string>{"LSR"});
  snap.pods[0].pod.qos = slo::model::QosClass::LS;

  // pod1 leaves: its series go, its key is no longer published.
  snap.pods.erase(snap.pods.begin());
  slo::agent::Blackboard board3;
  c.decide(snap, board3, sink);
  CHECK_FALSE(board3.runq_p99_seconds.count("ns/pod1"));
  fams = reg.Collect();
  if (const auto* f = family(fams, "sloagent_pod_runq_latency_seconds"))  // an empty family is not collected
    for (const auto& m : f->metric)
      for (const auto& l : m.label) CHECK_FALSE((l.name == "pod" && l.value == "pod1"));
  CHECK(c.status()["pods"].size() == 1);

  // Disabled by policy: stops tracking everything.
  CHECK_FALSE(c.configure({{"runqLatencyStrategy", {{"enable", false}}}}));
  slo::agent::Blackboard board4;
  c.decide(snap, board4, sink);
  CHECK(c.status()["pods"].empty());
}
