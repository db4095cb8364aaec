// /proc parsers, pod → cgroup resolution and the pods file source.
#include <catch2/catch.hpp>

#include <fstream>

#include "agent/observe/file_pod_source.h"
#include "agent/observe/node_stats.h"
#include "agent/observe/pod_resolver.h"
#include "agent/observe/stats_collector.h"
#include "tests/common/support.h"
#include "tests/runtime/fake_node.h"

using namespace slo;
using namespace slo::agent;

TEST_CASE("/proc/stat and /proc/meminfo parse") {
  auto s = parse_proc_stat("cpu  100 5 50 1000 20 3 2 1 0 0\ncpu0 50 2 25 500 10 1 1 0 0 0\n"
                           "cpu1 50 3 25 500 10 2 1 1 0 0\nintr 1 2 3\n");
  REQUIRE(s);
  CHECK(s->cpus == 2);
  CHECK(s->busy_ns == (100 + 5 + 50 + 3 + 2 + 1) * 10'000'000ULL);
  CHECK(s->total_ns == (100 + 5 + 50 + 3 + 2 + 1 + 1000 + 20) * 10'000'000ULL);
  CHECK(!parse_proc_stat("intr 1\n"));
  auto m = parse_meminfo("MemTotal:       16000 kB\nMemFree:  100 kB\nMemAvailable:    4000 kB\n");
  REQUIRE(m);
  CHECK(m->total_bytes == 16000 * 1024);
  CHECK(m->available_bytes == 4000 * 1024);
  CHECK(!parse_meminfo("nothing\n"));
}

TEST_CASE("node stats from a proc root") {
  test::TempDir tmp;
  tmp.write("proc/stat", "cpu  1 0 1 10 0 0 0 0 0 0\ncpu0 1 0 1 10 0 0 0 0 0 0\n");
  tmp.write("proc/meminfo", "MemTotal: 2048 kB\nMemAvailable: 1024 kB\n");
  NodeStatsReader r(tmp.sub("proc"));
  REQUIRE(r.ok());
  NodeStats n;
  r.read(n);
  CHECK(n.cpu_capacity_cores == 1);
  CHECK(n.memory_used_bytes == 1024 * 1024);
  CHECK(*n.cpu_busy_ns == 2 * 10'000'000ULL);
}

TEST_CASE("pods resolve to their kubelet cgroups; stats come through kept-open files") {
  test::TempDir tmp;
  test::FakeNode node(tmp.sub("cg"), false, "demo");
  node.populate(2);
  node.write_pod_list(tmp.sub("pods.json"));
  FilePodSource src(tmp.sub("pods.json"), std::chrono::milliseconds(1000));
  auto f = src.fetch();
  REQUIRE(f.ok);
  CHECK(!src.changed());
  auto fs = cg::CgroupFs::open(node.root());
  REQUIRE(fs.ok());
  auto layout = cg::KubeletLayout::detect(fs.value, "demo");
  REQUIRE(layout);
  CHECK(!cg::KubeletLayout::detect(fs.value, ""));  // kubepods lives under the parent only
  ResolveCounts counts;
  auto pods = resolve_pods(fs.value, &*layout, f.pods.pods, {}, &counts);
  REQUIRE(pods.size() == 2);
  CHECK(counts.containers_found == 4);
  CHECK(pods[0].cgroup == node.pod_cgroup(node.pods()[0]));
  CHECK(pods[0].containers[1].cgroup == node.pod_cgroup(node.pods()[0]) + "/" + node.pods()[0].containers[1].id);

  StatsCollector stats(fs.value);
  auto now = std::chrono::steady_clock::now();
  stats.read_cpu(pods[0].containers[0].cgroup, pods[0].containers[0].stats, now);
  REQUIRE(pods[0].containers[0].stats.cpu_stat);
  CHECK(pods[0].containers[0].stats.cpu_stat->nr_throttled == 2);
  CHECK(*pods[0].containers[0].stats.cpu_usage_ns == 1000000);
  node.write(pods[0].containers[0].cgroup, "cpu.stat", "nr_periods 20\nnr_throttled 5\nthrottled_time 1\n");
  stats.read_cpu(pods[0].containers[0].cgroup, pods[0].containers[0].stats, now);
  CHECK(pods[0].containers[0].stats.cpu_stat->nr_throttled == 5);  // same fd, re-read with pread
  {
    // Fast ticks skip v1's cpuacct.usage while nr_periods stands still (the quota'd cgroup used no CPU).
    auto& cs = pods[0].containers[0].stats;
    const auto& cg = pods[0].containers[0].cgroup;
    using U = StatsCollector::Usage;
    node.write(cg, "cpuacct.usage", "3000000\n");
    uint64_t p0 = stats.preads();
    stats.read_cpu(cg, cs, now, U::when_active);
    CHECK(stats.preads() - p0 == 1);
    CHECK(*cs.cpu_usage_ns == 1000000);  // not re-read: idle
    node.write(cg, "cpu.stat", "nr_periods 21\nnr_throttled 5\nthrottled_time 1\n");
    stats.read_cpu(cg, cs, now, U::when_active);
    CHECK(*cs.cpu_usage_ns == 3000000);  // a period went by: read
    node.write(cg, "cpuacct.usage", "4000000\n");
    stats.read_cpu(cg, cs, now);  // Usage::always (slow ticks)
    CHECK(*cs.cpu_usage_ns == 4000000);
    node.write(cg, "cpu.stat", "nr_periods 0\nnr_throttled 0\nthrottled_time 0\n");
    stats.read_cpu(cg, cs, now);
    node.write(cg, "cpuacct.usage", "5000000\n");
    stats.read_cpu(cg, cs, now, U::when_active);
    CHECK(*cs.cpu_usage_ns == 5000000);  // no quota (nr_periods 0): nothing tells idleness, always read
    node.write(cg, "cpu.stat", "nr_periods 20\nnr_throttled 5\nthrottled_time 1\n");
    node.write(cg, "cpuacct.usage", "1000000\n");
    stats.read_cpu(cg, cs, now);
  }
  stats.read_memory(pods[0].containers[0].cgroup, pods[0].containers[0].stats);
  REQUIRE(pods[0].containers[0].stats.memory);
  CHECK(pods[0].containers[0].stats.memory->usage_bytes == 10485760);
  CHECK(pods[0].containers[0].stats.memory->working_set_bytes == 10485760 - 2097152);  // − total_inactive_file
  node.write(pods[0].containers[0].cgroup, "memory.usage_in_bytes", "20971520");
  node.write(pods[0].containers[0].cgroup, "memory.stat", "cache 1\ninactive_file 9\ntotal_inactive_file 1048576\n");
  stats.read_memory(pods[0].containers[0].cgroup, pods[0].containers[0].stats);
  REQUIRE(pods[0].containers[0].stats.memory);
  CHECK(pods[0].containers[0].stats.memory->usage_bytes == 20971520);  // kept-open files, re-read
  CHECK(pods[0].containers[0].stats.memory->working_set_bytes == 20971520 - 1048576);
  stats.read_memory("kubepods/nope", pods[1].stats);
  CHECK(!pods[1].stats.memory);  // a missing cgroup: no value, no error

  // Re-resolve keeps stats of known containers; an updated pods file is seen as changed.
  auto again = resolve_pods(fs.value, &*layout, f.pods.pods, pods);
  CHECK(again[0].containers[0].stats.cpu_stat->nr_throttled == 5);
  // ... and their path handles: knob refs the executor holds keep sharing the pod model's text.
  CHECK(again[0].cgroup.shares(pods[0].cgroup));
  CHECK(again[0].containers[0].cgroup.shares(pods[0].containers[0].cgroup));
  std::ofstream(tmp.sub("pods.json"), std::ios::app) << " ";
  CHECK(src.changed());
  // A broken file keeps the last good list (fetch fails instead of returning no pods).
  std::ofstream(tmp.sub("pods.json"), std::ios::trunc) << "{\"items\": [";
  CHECK(!src.fetch().ok);
}

TEST_CASE("kept-open files return whole contents larger than one read, and shrunk ones, with one read each") {
  // KeptFile stops at a short read (seq files give all that fits): check it still returns everything.
  test::TempDir tmp;
  std::string big;
  for (int i = 0; i < 200; ++i) big += "key_" + std::to_string(i) + " " + std::to_string(i * 4096) + "\n";
  REQUIRE(big.size() > 2048);
  std::ofstream(tmp.sub("memory.stat")) << big;
  auto dir = cg::DirFd::open_root(tmp.path());
  REQUIRE(dir.ok());
  auto f = cg::KeptFile::open(dir.value, "memory.stat");
  REQUIRE(f.ok());
  std::string buf;
  REQUIRE(f.value.read(buf).ok());
  CHECK(buf == big);
  REQUIRE(f.value.read(buf).ok());  // the buffer kept its size: one pread now
  CHECK(buf == big);
  std::ofstream(tmp.sub("memory.stat"), std::ios::trunc) << "short 1\n";
  REQUIRE(f.value.read(buf).ok());
  CHECK(buf == "short 1\n");
}
