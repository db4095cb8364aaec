// Parsers and value spellings: pure functions on text, incl. malformed input and the real fixture files.
#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "cgroups/cpu_set.h"
#include "cgroups/hierarchy.h"
#include "cgroups/knob.h"
#include "cgroups/stats.h"
#include "tests/common/support.h"

using namespace slo::cg;

namespace {
std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  REQUIRE(f.good());
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}
}  // namespace

TEST_CASE("cpu.stat v1 spelling (real fixture with throttling)", "[parse]") {
  auto s = parse_cpu_stat(slurp(slo::test::fixture(
      "cgroup/elastic-docker-v1-cgroupfs/sys/fs/cgroup/cpu/docker/"
      "b29faf21b7eff959f64b4192c34d5d67a707fe8561e9eaa608cb27693fba4242/cpu.stat")));
  REQUIRE(s);
  CHECK(s->nr_periods == 769021);
  CHECK(s->nr_throttled == 1046);
  CHECK(s->throttled_ns == 352597023453ULL);
  CHECK_FALSE(s->usage_ns);
}

TEST_CASE("cpu.stat v2 spelling (real fixture) converts µs to ns", "[parse]") {
  auto s = parse_cpu_stat(slurp(slo::test::fixture(
      "cgroup/elastic-docker2-v2-unified/sys/fs/cgroup/user.slice/user-1000.slice/session-520.scope/cpu.stat")));
  REQUIRE(s);
  REQUIRE(s->usage_ns);
  CHECK(*s->usage_ns == 3611347518ULL * 1000);
  CHECK(s->nr_periods == 0);
  CHECK(s->nr_bursts == 0);
  auto t = parse_cpu_stat("nr_periods 5\nnr_throttled 2\nthrottled_usec 7\nnr_bursts 3\nburst_usec 11\n");
  REQUIRE(t);
  CHECK(t->throttled_ns == 7000);
  CHECK(t->burst_ns == 11000);
  CHECK(t->nr_bursts == 3);
}

TEST_CASE("cpu.stat garbage", "[parse]") {
  CHECK_FALSE(parse_cpu_stat(""));
  CHECK_FALSE(parse_cpu_stat("hello world\n\n"));
  CHECK_FALSE(parse_cpu_stat("nr_periods -5\n"));
  auto s = parse_cpu_stat("nr_periods 1 2\nnr_throttled x\nthrottled_usec 18446744073709551615\n");
  REQUIRE(s);  // the saturating conversion must not wrap
  CHECK(s->throttled_ns == UINT64_MAX);
  CHECK(s->nr_throttled == 0);
}

TEST_CASE("flat keyed and int files", "[parse]") {
  auto m = parse_flat_keyed("cache 10\nrss 20\nbad\nneg -1\ntotal_rss 30 40\n\r\nx 5\r\n");
  CHECK(m.size() == 3);
  CHECK(m["cache"] == 10);
  CHECK(m["x"] == 5);
  CHECK(parse_int_file("12345\n") == 12345);
  CHECK(parse_int_file("max\n", true) == -1);
  CHECK_FALSE(parse_int_file("max\n", false));
  CHECK(parse_int_file("-1\n") == -1);
  CHECK_FALSE(parse_int_file("12a"));
  CHECK_FALSE(parse_int_file(""));
  CHECK_FALSE(parse_int_file("99999999999999999999999"));
}

TEST_CASE("PSI files", "[parse]") {
  auto base = slo::test::fixture("cgroup/elastic-docker2-v2-unified/sys/fs/cgroup/user.slice/user-1000.slice/session-520.scope/");
  auto cpu = parse_psi(slurp(base + "cpu.pressure"));
  REQUIRE(cpu);
  CHECK(cpu->some.total_us == 115056064);
  REQUIRE(cpu->full);
  CHECK(cpu->full->total_us == 29254180);
  auto only_some = parse_psi("some avg10=1.25 avg60=0.50 avg300=0.10 total=42\n");
  REQUIRE(only_some);
  CHECK(only_some->some.avg10 == Approx(1.25));
  CHECK_FALSE(only_some->full);
  CHECK_FALSE(parse_psi(""));
  CHECK_FALSE(parse_psi("full avg10=0.00 avg60=0.00 avg300=0.00 total=1\n"));  // no "some"
  CHECK_FALSE(parse_psi("some avg10=nan avg60=0.00 avg300=0.00 total=1\n"));
  CHECK_FALSE(parse_psi("some avg10=0.00 avg60=0.00 total=1 x=2\n"));
  CHECK_FALSE(parse_psi("some avg10=1 avg60=2 avg300=3 total=-4\n"));
}

TEST_CASE("io.stat with bare device tokens (real fixtures)", "[parse]") {
  auto a = parse_io_stat(slurp(slo::test::fixture("cgroup/elastic-io-stat/ubuntu/io.stat")));
  auto b = parse_io_stat(slurp(slo::test::fixture("cgroup/elastic-io-stat/ubuntu2/io.stat")));
  REQUIRE(a.size() == 2);
  CHECK(a[0].device == "7:4");  // "7:7 7:6 7:5 7:4 rbytes=…": keys belong to the last device token
  CHECK(a[0].fields.at("rbytes") == 556032);
  CHECK(a[0].fields.at("rios") == 78);
  CHECK(a[1].device == "7:3");
  CHECK(a[1].fields.at("rbytes") == 21017600);
  REQUIRE(b.size() == 2);  // the trailing key-less "7:7 … 7:0" line (no newline) adds nothing
  CHECK(b[0].device == "253:0");
  CHECK(b[0].fields.at("wbytes") == 211814596608ULL);
  CHECK(b[1].device == "259:0");
  CHECK(b[1].fields.at("dios") == 24);
  CHECK(parse_io_stat("").empty());
  CHECK(parse_io_stat("rbytes=5 8:0\n").empty());
  auto c = parse_io_stat("8:0 rbytes=1 junk wbytes=x =3 rios=\n");
  REQUIRE(c.size() == 1);
  CHECK(c[0].fields.size() == 1);
}

TEST_CASE("io.max and blkio throttle lines", "[parse]") {
  auto m = parse_io_max("8:0 rbps=1048576 wbps=max riops=max wiops=120\n259:0 rbps=max wbps=max riops=max wiops=max\n");
  REQUIRE(m.size() == 2);
  CHECK(m[0].rbps == 1048576);
  CHECK(m[0].wbps == -1);
  CHECK(m[0].wiops == 120);
  CHECK(format_io_max_entry(m[0]) == "8:0 rbps=1048576 wbps=max riops=max wiops=120");
  CHECK(format_io_max_line("8:16", Knob::io_write_iops, 300) == "8:16 wiops=300");
  CHECK(format_io_max_line("8:16", Knob::io_read_bps, -1) == "8:16 rbps=max");
  auto b = parse_blkio_throttle("8:0 1048576\n8:16 0\nTotal 5\nx:y 3\n");
  CHECK(b.size() == 2);
  CHECK(b["8:0"] == 1048576);
  CHECK(format_blkio_line("8:0", 1048576) == "8:0 1048576");
  CHECK(format_blkio_line("8:0", -1) == "8:0 0");  // v1: 0 removes the rule
  CHECK(valid_device("259:12"));
  CHECK_FALSE(valid_device("8:"));
  CHECK_FALSE(valid_device(":0"));
  CHECK_FALSE(valid_device("8:0/../x"));
  CHECK_FALSE(valid_device("a:b"));
}

TEST_CASE("cpu.max spelling", "[parse]") {
  auto m = parse_cpu_max("max 100000\n");
  REQUIRE(m);
  CHECK(m->quota_us == -1);
  CHECK(m->period_us == 100000);
  auto q = parse_cpu_max("50000 20000");
  REQUIRE(q);
  CHECK(q->quota_us == 50000);
  CHECK(q->period_us == 20000);
  auto lone = parse_cpu_max("7000");
  REQUIRE(lone);
  CHECK_FALSE(lone->period_us);
  CHECK_FALSE(parse_cpu_max(""));
  CHECK_FALSE(parse_cpu_max("max 0"));
  CHECK_FALSE(parse_cpu_max("-5 100000"));
  CHECK_FALSE(parse_cpu_max("1 2 3"));
  CHECK(format_cpu_max_quota(-1) == "max");
  CHECK(format_cpu_max_quota(50000) == "50000");
  CHECK(format_cpu_max(-1, 100000) == "max 100000");
}

TEST_CASE("shares <-> weight", "[knob]") {
  CHECK(shares_to_weight(2) == 1);
  CHECK(shares_to_weight(262144) == 10000);
  CHECK(shares_to_weight(1024) == 1 + (1024 - 2) * 9999 / 262142);  // 39
  CHECK(shares_to_weight(1024) == 39);
  CHECK(shares_to_weight(0) == 1);  // clamped
  CHECK(weight_to_shares(1) == 2);
  CHECK(weight_to_shares(10000) == 262144);
  CHECK(weight_to_shares(100) == 2 + (99 * 262142 + 9998) / 9999);
  for (int64_t w = 1; w <= 10000; ++w) REQUIRE(shares_to_weight(weight_to_shares(w)) == w);
  for (int64_t w : {1, 39, 100, 5000, 10000}) CHECK(shares_to_weight(weight_to_shares(w)) == w);
}

TEST_CASE("knob names, files and values", "[knob]") {
  CHECK(knob_file(Knob::cpu_quota, Mode::v1) == "cpu.cfs_quota_us");
  CHECK(knob_file(Knob::cpu_quota, Mode::hybrid) == "cpu.cfs_quota_us");
  CHECK(knob_file(Knob::cpu_quota, Mode::v2) == "cpu.max");
  CHECK(knob_file(Knob::cpu_burst, Mode::v2) == "cpu.max.burst");
  CHECK(knob_file(Knob::cpu_shares, Mode::v2) == "cpu.weight");
  CHECK(knob_file(Knob::memory_limit, Mode::v1) == "memory.limit_in_bytes");
  CHECK(knob_file(Knob::memory_high, Mode::v1).empty());
  CHECK(knob_file(Knob::io_write_iops, Mode::v1) == "blkio.throttle.write_iops_device");
  CHECK(knob_file(Knob::io_write_iops, Mode::v2) == "io.max");
  for (int i = 0; i <= static_cast<int>(Knob::io_write_iops); ++i) {
    auto k = static_cast<Knob>(i);
    CHECK(knob_from_name(to_string(k)) == k);
  }
  CHECK_FALSE(knob_from_name("cpu_nope"));
  CHECK(controller_of(Knob::io_read_bps) == Controller::blkio);
  CHECK(controller_from_name("io") == Controller::blkio);
  auto v = value_from_string(Knob::cpuset_cpus, "0-3,8\n");
  REQUIRE(v);
  CHECK(value_to_string(*v) == "0-3,8");
  CHECK(value_to_string(*value_from_string(Knob::cpu_quota, "max")) == "-1");
  CHECK_FALSE(value_from_string(Knob::cpu_quota, "12x"));
  CHECK_FALSE(value_from_string(Knob::cpuset_cpus, "3-1"));
  CHECK(values_equal(KnobValue{int64_t{5}}, KnobValue{int64_t{5}}));
  CHECK_FALSE(values_equal(KnobValue{int64_t{0}}, KnobValue{CpuSet{}}));
  KnobRef r{"kubepods/pod1", Knob::io_read_bps, "8:0"};
  CHECK(r.to_string() == "kubepods/pod1:io_read_bps[8:0]");
  CHECK(KnobRef{"a", Knob::cpu_quota, {}}.to_string() == "a:cpu_quota");
}

TEST_CASE("CpuSet parse/format", "[cpuset]") {
  auto s = CpuSet::parse("0-3,8,10-11\n");
  REQUIRE(s);
  CHECK(s->size() == 7);
  CHECK(s->to_string() == "0-3,8,10-11");
  CHECK(CpuSet::parse("")->empty());
  CHECK(CpuSet::parse("\n")->empty());
  CHECK(CpuSet::parse(" 5 , 1-2 ")->to_string() == "1-2,5");
  CHECK(CpuSet::parse("63-65")->to_string() == "63-65");
  CHECK_FALSE(CpuSet::parse("3-1"));
  CHECK_FALSE(CpuSet::parse("1,,2"));
  CHECK_FALSE(CpuSet::parse("-1"));
  CHECK_FALSE(CpuSet::parse("a"));
  CHECK_FALSE(CpuSet::parse("1-"));
  CHECK_FALSE(CpuSet::parse("9000"));
  CHECK_FALSE(CpuSet::parse("0-99999999"));
  auto a = CpuSet::of({0, 1, 2}), b = CpuSet::of({2, 3});
  CHECK((a | b).to_string() == "0-3");
  CHECK((a & b).to_string() == "2");
  CHECK((a - b).to_string() == "0-1");
  CHECK(CpuSet::of({2}).is_subset_of(a));
  CHECK(CpuSet::range(4, 4) == CpuSet::of({4}));
  CpuSet c = CpuSet::of({70});
  c.remove(70);
  CHECK(c == CpuSet{});
  CHECK(c.first() == -1);
}

TEST_CASE("/proc/<pid>/cgroup forms (real fixtures)", "[parse]") {
  auto lines = parse_proc_cgroup(slurp(slo::test::fixture("cgroup/container-info-proc-cgroup/cgroup")));
  REQUIRE(lines.size() == 14);
  CHECK(lines[0].hierarchy_id == 14);
  CHECK(lines[0].controllers == std::vector<std::string>{"pids"});
  CHECK(lines[0].path.rfind("/kubepods/kubepods/besteffort/pod0e886e9a", 0) == 0);
  CHECK(lines[2].path.find("docker-b15a5bdedd2e") != std::string::npos);
  CHECK(lines[10].controllers == std::vector<std::string>{"cpu", "cpuacct"});
  CHECK(lines[13].controllers == std::vector<std::string>{"name=systemd"});
  auto v2 = parse_proc_cgroup(slurp(slo::test::fixture("cgroup/elastic-docker2-v2-unified/proc/2233801/cgroup")));
  REQUIRE(v2.size() == 1);
  CHECK(v2[0].hierarchy_id == 0);
  CHECK(v2[0].controllers.empty());
  CHECK(v2[0].path == "/../../user-1000.slice/session-520.scope");
  auto amzn = parse_proc_cgroup(slurp(slo::test::fixture("cgroup/elastic-amzn2-eks-v1-systemd-containerd/proc/493239/cgroup")));
  CHECK(amzn.size() == 12);
  CHECK(parse_proc_cgroup("x:cpu:/a\n1:cpu\n2:cpu:relative\n3:cpu:/a:b\n").size() == 1);
}

TEST_CASE("mountinfo (real fixtures)", "[parse]") {
  auto m = parse_mountinfo(slurp(slo::test::fixture("cgroup/elastic-ubuntu1804-v1-hybrid/proc/self/mountinfo")));
  int cgroup2 = 0;
  bool cpu_cpuacct = false;
  for (const auto& e : m) {
    if (e.fstype == "cgroup2") {
      ++cgroup2;
      CHECK(e.mount_point == "/sys/fs/cgroup/unified");
    }
    if (e.mount_point == "/sys/fs/cgroup/cpu,cpuacct") {
      cpu_cpuacct = std::find(e.super_options.begin(), e.super_options.end(), "cpuacct") != e.super_options.end();
    }
  }
  CHECK(cgroup2 == 1);
  CHECK(cpu_cpuacct);
  auto esc = parse_mountinfo("1 2 0:1 / /mnt/a\\040b rw - tmpfs tmpfs rw\n junk \n");
  REQUIRE(esc.size() == 1);
  CHECK(esc[0].mount_point == "/mnt/a b");
}

// Not a fuzzer (that lives with the fuzz targets), but every parser must survive every prefix of the real files and
// random bytes without crashing or reading out of bounds (run under ASan/UBSan in CI).
TEST_CASE("parsers survive truncated and random input", "[parse][robust]") {
  std::vector<std::string> inputs;
  for (const char* f : {"cgroup/elastic-io-stat/ubuntu/io.stat", "cgroup/elastic-io-stat/ubuntu2/io.stat",
                        "cgroup/container-info-proc-cgroup/cgroup",
                        "cgroup/elastic-ubuntu1804-v1-hybrid/proc/self/mountinfo",
                        "cgroup/elastic-docker2-v2-unified/sys/fs/cgroup/user.slice/user-1000.slice/session-520.scope/cpu.stat",
                        "cgroup/elastic-docker2-v2-unified/sys/fs/cgroup/user.slice/user-1000.slice/session-520.scope/memory.pressure"}) {
    std::string text = slurp(slo::test::fixture(f));
    for (size_t n = 0; n <= text.size(); n += 1 + n / 64) inputs.push_back(text.substr(0, n));
  }
  uint64_t x = 0x9e3779b97f4a7c15ULL;
  const std::string alphabet = "0123456789:=-, \n\tmaxsomefull/avg.rbps";
  for (int i = 0; i < 400; ++i) {
    std::string s;
    size_t len = (x >> 7) % 80;
    for (size_t j = 0; j < len; ++j) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      s += (x & 3) ? alphabet[x % alphabet.size()] : static_cast<char>(x >> 24);
    }
    inputs.push_back(s);
  }
  size_t parsed = 0;
  for (const auto& in : inputs) {
    parsed += parse_cpu_stat(in).has_value();
    parsed += parse_flat_keyed(in).size();
    parsed += parse_int_file(in, true).has_value();
    parsed += parse_psi(in).has_value();
    parsed += parse_io_stat(in).size();
    parsed += parse_blkio_throttle(in).size();
    parsed += parse_io_max(in).size();
    parsed += parse_proc_cgroup(in).size();
    parsed += parse_mountinfo(in).size();
    parsed += parse_cpu_max(in).has_value();
    parsed += CpuSet::parse(in).has_value();
  }
  CHECK(parsed > 0);  // the real prefixes do parse
}
