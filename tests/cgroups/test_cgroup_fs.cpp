// CgroupFs on synthetic trees: v1/v2 spellings on the way in and out, root and path refusal, gone results.
#include <catch2/catch.hpp>

#include <filesystem>

#include "cgroups/cgroup_fs.h"
#include "tests/cgroups/fake_tree.h"

using namespace slo::cg;
using slo::test::FakeKind;
using slo::test::FakeTree;
using slo::test::TempDir;
namespace fs = std::filesystem;

namespace {
KnobRef ref(const std::string& cg, Knob k, std::string dev = {}) { return KnobRef{cg, k, std::move(dev)}; }
std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}
}  // namespace

TEST_CASE("v1 knobs: files written in v1 spelling", "[cgroupfs]") {
  TempDir t;
  FakeTree tree(t, FakeKind::v1_comounted);
  tree.add_cgroup("kp/pod1");
  auto o = CgroupFs::open(tree.root());
  REQUIRE(o.ok());
  const auto& fs = o.value;
  CHECK(fs.mode() == Mode::v1);
  REQUIRE(fs.write(ref("kp/pod1", Knob::cpu_quota), KnobValue{int64_t{50000}}).ok());
  CHECK(trimmed(tree.read("cpu", "kp/pod1", "cpu.cfs_quota_us")) == "50000");
  REQUIRE(fs.write(ref("/kp/pod1/", Knob::cpu_quota), KnobValue{int64_t{-1}}).ok());
  CHECK(trimmed(tree.read("cpu", "kp/pod1", "cpu.cfs_quota_us")) == "-1");
  REQUIRE(fs.write(ref("kp/pod1", Knob::cpu_shares), KnobValue{int64_t{512}}).ok());
  CHECK(trimmed(tree.read("cpu", "kp/pod1", "cpu.shares")) == "512");
  REQUIRE(fs.write(ref("kp/pod1", Knob::cpuset_cpus), KnobValue{CpuSet::of({0, 1, 2, 5})}).ok());
  CHECK(trimmed(tree.read("cpuset", "kp/pod1", "cpuset.cpus")) == "0-2,5");
  REQUIRE(fs.write(ref("kp/pod1", Knob::io_read_bps, "8:0"), KnobValue{int64_t{1048576}}).ok());
  CHECK(tree.read("blkio", "kp/pod1", "blkio.throttle.read_bps_device") == "8:0 1048576");
  REQUIRE(fs.write(ref("kp/pod1", Knob::io_read_bps, "8:0"), KnobValue{int64_t{-1}}).ok());
  CHECK(tree.read("blkio", "kp/pod1", "blkio.throttle.read_bps_device") == "8:0 0");
  // Reading: v1 "unlimited" memory, a device rule, a missing device.
  auto mem = fs.read(ref("kp/pod1", Knob::memory_limit));
  REQUIRE(mem.ok());
  CHECK(as_int(mem.value) == -1);
  tree.write("blkio", "kp/pod1", "blkio.throttle.write_iops_device", "8:0 100\n8:16 200\n");
  CHECK(as_int(fs.read(ref("kp/pod1", Knob::io_write_iops, "8:16")).value) == 200);
  CHECK(as_int(fs.read(ref("kp/pod1", Knob::io_write_iops, "9:0")).value) == -1);
  CHECK(fs.file_of(ref("kp/pod1", Knob::cpu_burst)) == "cpu,cpuacct/kp/pod1/cpu.cfs_burst_us");
  CHECK(fs.supports(Knob::cpu_burst));
  CHECK_FALSE(fs.supports(Knob::memory_high));
  CHECK(fs.write(ref("kp/pod1", Knob::memory_high), KnobValue{int64_t{1}}).err == ENOTSUP);
  // Stats.
  auto st = fs.cpu_stat("kp/pod1");
  REQUIRE(st.ok());
  CHECK(st.value.throttled_ns == 4000000);
  CHECK(fs.cpu_usage_ns("kp/pod1").value == 123456789);
  auto m = fs.memory("kp/pod1");
  REQUIRE(m.ok());
  CHECK(m.value.usage_bytes == 2097152);
  CHECK(m.value.working_set_bytes == 2097152 - 524288);  // hierarchical total_inactive_file
  CHECK(fs.pressure("kp/pod1", StatFile::cpu_pressure).gone());  // v1 without psi
  tree.write("cpu", "kp/pod1", "cgroup.procs", "12\n34\n");
  CHECK(fs.procs("kp/pod1", Controller::cpu).value == std::vector<int>{12, 34});
  auto kids = fs.children("kp", Controller::cpuset);
  REQUIRE(kids.ok());
  CHECK(kids.value == std::vector<std::string>{"pod1"});
}

TEST_CASE("v2 knobs: cpu.max, weight, io.max, memory max", "[cgroupfs]") {
  TempDir t;
  FakeTree tree(t, FakeKind::v2);
  tree.add_cgroup("kp/pod1");
  auto o = CgroupFs::open(tree.root());
  REQUIRE(o.ok());
  const auto& fs = o.value;
  CHECK(fs.mode() == Mode::v2);
  REQUIRE(fs.write(ref("kp/pod1", Knob::cpu_quota), KnobValue{int64_t{50000}}).ok());
  CHECK(tree.read("cpu", "kp/pod1", "cpu.max") == "50000");  // the quota field alone
  tree.write("cpu", "kp/pod1", "cpu.max", "50000 100000\n");
  CHECK(as_int(fs.read(ref("kp/pod1", Knob::cpu_quota)).value) == 50000);
  REQUIRE(fs.write(ref("kp/pod1", Knob::cpu_quota), KnobValue{int64_t{-1}}).ok());
  CHECK(tree.read("cpu", "kp/pod1", "cpu.max") == "max");
  tree.write("cpu", "kp/pod1", "cpu.max", "max 100000\n");
  REQUIRE(fs.write(ref("kp/pod1", Knob::cpu_period), KnobValue{int64_t{20000}}).ok());
  CHECK(tree.read("cpu", "kp/pod1", "cpu.max") == "max 20000");
  REQUIRE(fs.write(ref("kp/pod1", Knob::cpu_shares), KnobValue{int64_t{1024}}).ok());
  CHECK(tree.read("cpu", "kp/pod1", "cpu.weight") == "39");
  auto w = fs.read(ref("kp/pod1", Knob::cpu_shares));
  REQUIRE(w.ok());
  CHECK(as_int(w.value) == weight_to_shares(39));
  CHECK(fs.same_value(ref("kp/pod1", Knob::cpu_shares), w.value, KnobValue{int64_t{1024}}));
  REQUIRE(fs.write(ref("kp/pod1", Knob::cpu_burst), KnobValue{int64_t{20000}}).ok());
  CHECK(tree.read("cpu", "kp/pod1", "cpu.max.burst") == "20000");
  REQUIRE(fs.write(ref("kp/pod1", Knob::memory_limit), KnobValue{int64_t{-1}}).ok());
  CHECK(tree.read("memory", "kp/pod1", "memory.max") == "max");
  REQUIRE(fs.write(ref("kp/pod1", Knob::memory_high), KnobValue{int64_t{1 << 20}}).ok());
  CHECK(tree.read("memory", "kp/pod1", "memory.high") == "1048576");
  REQUIRE(fs.write(ref("kp/pod1", Knob::io_write_bps, "259:0"), KnobValue{int64_t{4096}}).ok());
  CHECK(tree.read("io", "kp/pod1", "io.max") == "259:0 wbps=4096");
  tree.write("io", "kp/pod1", "io.max", "259:0 rbps=max wbps=4096 riops=max wiops=10\n");
  CHECK(as_int(fs.read(ref("kp/pod1", Knob::io_write_iops, "259:0")).value) == 10);
  CHECK(as_int(fs.read(ref("kp/pod1", Knob::io_read_bps, "259:0")).value) == -1);
  CHECK(fs.file_of(ref("kp/pod1", Knob::cpu_quota)) == "kp/pod1/cpu.max");
  auto st = fs.cpu_stat("kp/pod1");
  REQUIRE(st.ok());
  CHECK(st.value.throttled_ns == 1500000);
  CHECK(st.value.burst_ns == 300000);
  CHECK(fs.cpu_usage_ns("kp/pod1").value == 5000000);
  auto m = fs.memory("kp/pod1");
  REQUIRE(m.ok());
  CHECK(m.value.working_set_bytes == 1048576 - 262144);
  auto p = fs.pressure("kp/pod1", StatFile::cpu_pressure);
  REQUIRE(p.ok());
  CHECK(p.value.some.avg10 == Approx(1.5));
  CHECK(fs.pressure("kp/pod1", StatFile::io_pressure).gone());
  CHECK(fs.supports(Knob::memory_high));
  CHECK(fs.supports(Knob::cpu_burst));  // a child shows cpu.max.burst
}

TEST_CASE("root cgroup and unsafe paths are refused", "[cgroupfs][security]") {
  for (auto kind : {FakeKind::v1_separate, FakeKind::v2}) {
    TempDir t;
    FakeTree tree(t, kind);
    tree.add_cgroup("kp");
    auto o = CgroupFs::open(tree.root());
    REQUIRE(o.ok());
    const auto& fs = o.value;
    std::string before = tree.read("memory", "", kind == FakeKind::v2 ? "cgroup.procs" : "memory.limit_in_bytes");
    for (std::string root : {"", "/", "//"}) {
      Status s = fs.write(ref(root, Knob::memory_limit), KnobValue{int64_t{1 << 20}});
      CHECK_FALSE(s.ok());
      CHECK(s.err == EPERM);
      CHECK(fs.create(root).err == EPERM);
      CHECK(fs.remove(root).err == EPERM);
      CHECK(fs.attach(root, 1).err == EPERM);
    }
    CHECK(tree.read("memory", "", kind == FakeKind::v2 ? "cgroup.procs" : "memory.limit_in_bytes") == before);
    for (std::string bad : {"../x", "kp/../..", "kp/./x", "a//b", "kp/..", ".."}) {
      INFO(bad);
      Status s = fs.write(ref(bad, Knob::cpu_quota), KnobValue{int64_t{1000}});
      CHECK(s.err == EINVAL);
      CHECK_FALSE(s.gone());
      CHECK(fs.read(ref(bad, Knob::cpu_quota)).status.err == EINVAL);
      CHECK_FALSE(fs.cpu_stat(bad).ok());
      CHECK_FALSE(fs.keep_open(bad, StatFile::cpu_stat).ok());
      CHECK(fs.create(bad).err == EINVAL);
    }
    CHECK(fs.write(ref("kp", Knob::io_read_bps, "../8:0"), KnobValue{int64_t{1}}).err == EINVAL);
    CHECK(fs.write(ref("kp", Knob::cpu_quota), KnobValue{CpuSet::of({1})}).err == EINVAL);
    // Reading the root is allowed (stats of the whole node).
    CHECK(fs.cpu_usage_ns("").ok());
  }
}

TEST_CASE("symlinks planted in a cgroup tree are not followed", "[cgroupfs][security]") {
  TempDir t;
  FakeTree tree(t, FakeKind::v1_separate);
  tree.add_cgroup("kp");
  t.write("victim/cpu.cfs_quota_us", "untouched");
  fs::create_directory_symlink(t.sub("victim"), tree.controller_dir("cpu") + "/kp/evil");
  auto o = CgroupFs::open(tree.root());
  REQUIRE(o.ok());
  Status s = o.value.write(ref("kp/evil", Knob::cpu_quota), KnobValue{int64_t{1000}});
  CHECK_FALSE(s.ok());
  CHECK(t.read("victim/cpu.cfs_quota_us") == "untouched");
}

TEST_CASE("missing cgroups are gone, not errors", "[cgroupfs]") {
  TempDir t;
  FakeTree tree(t, FakeKind::v1_separate);
  tree.add_cgroup("kp/pod1");
  auto o = CgroupFs::open(tree.root());
  REQUIRE(o.ok());
  const auto& fs = o.value;
  CHECK(fs.read(ref("kp/nope", Knob::cpu_quota)).gone());
  CHECK(fs.write(ref("kp/nope", Knob::cpu_quota), KnobValue{int64_t{1000}}).gone());
  CHECK(fs.cpu_stat("kp/nope").gone());
  CHECK(fs.memory("kp/nope").gone());
  CHECK(fs.keep_open("kp/nope", StatFile::cpu_stat).gone());
  CHECK(fs.remove("kp/nope").ok());
  auto k = fs.keep_open("kp/pod1", StatFile::cpu_stat);
  REQUIRE(k.ok());
  std::string buf;
  REQUIRE(k.value.read(buf).ok());
  CHECK(parse_cpu_stat(buf)->nr_periods == 7);
  tree.write("cpu", "kp/pod1", "cpu.stat", "nr_periods 9\nnr_throttled 3\nthrottled_time 1\n");
  REQUIRE(k.value.read(buf).ok());
  CHECK(parse_cpu_stat(buf)->nr_periods == 9);
  tree.write("cpu", "kp/pod1", "cpu.cfs_quota_us", "garbage");
  auto bad = fs.read(ref("kp/pod1", Knob::cpu_quota));
  CHECK_FALSE(bad.ok());
  CHECK_FALSE(bad.gone());
  CHECK(bad.status.describe().find("garbage") != std::string::npos);
}

// (Copying the parent's cpuset into the new cgroup needs the kernel to create the files: see the kernel suite.)
TEST_CASE("create makes the cgroup in every hierarchy and is idempotent", "[cgroupfs]") {
  TempDir t;
  FakeTree tree(t, FakeKind::v1_separate);
  tree.write("cpuset", "", "cpuset.cpus", "0-3\n");
  auto o = CgroupFs::open(tree.root());
  REQUIRE(o.ok());
  REQUIRE(o.value.create("demo/pod").ok());
  CHECK(fs::is_directory(tree.controller_dir("cpu") + "/demo/pod"));
  CHECK(fs::is_directory(tree.controller_dir("pids") + "/demo/pod"));
  CHECK(fs::is_directory(tree.controller_dir("cpuset") + "/demo/pod"));
  CHECK(o.value.create("demo/pod").ok());
  REQUIRE(o.value.remove("demo/pod").ok());
  CHECK_FALSE(fs::exists(tree.controller_dir("cpu") + "/demo/pod"));
}
