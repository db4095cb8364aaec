// Kernel tests on the real hierarchy (root). Each case builds its own subtree with KernelCgroup, proves that the
// naive write order fails with the kernel's errno, and that OrderedWriter succeeds on the same transition.
// v1 here; on a pure cgroup2 kernel the cases assert the v2 behaviour where the kernel differs (clamping instead of
// EINVAL/EBUSY/EACCES).
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <thread>

#include "cgroups/cgroup_fs.h"
#include "cgroups/hierarchy.h"
#include "cgroups/ordered_writer.h"
#include "tests/common/kernel_cgroup.h"

using namespace slo::cg;
using slo::test::KernelCgroup;

namespace {

CgroupFs open_fs(const KernelCgroup& k) {
  auto o = CgroupFs::open(k.root());
  REQUIRE(o.ok());
  return std::move(o.value);
}

KnobRef r(const std::string& cg, Knob kn) { return KnobRef{cg, kn, {}}; }
KnobValue iv(int64_t v) { return KnobValue{v}; }
KnobValue cv(const char* s) { return KnobValue{*CpuSet::parse(s)}; }

int64_t rd(const CgroupFs& fs, const std::string& cg, Knob kn) {
  auto v = fs.read(r(cg, kn));
  REQUIRE(v.ok());
  return as_int(v.value);
}
std::string rds(const CgroupFs& fs, const std::string& cg, Knob kn) {
  auto v = fs.read(r(cg, kn));
  REQUIRE(v.ok());
  return value_to_string(v.value);
}

void require_all_ok(const std::vector<WriteOutcome>& out) {
  for (const auto& o : out) {
    INFO(o.write.ref.to_string() << " -> " << o.status.describe());
    CHECK(o.status.ok());
  }
}

}  // namespace

TEST_CASE("real hierarchy is detected by fstatfs; libcgroup and the scan agree", "[kernel]") {
  KernelCgroup k;
  auto h = Hierarchy::detect(k.root());
  REQUIRE(h.ok());
  auto scan = Hierarchy::detect(k.root(), DetectOptions{"", false});
  REQUIRE(scan.ok());
  if (k.v2()) {
    CHECK(h.value.mode == Mode::v2);
    CHECK(h.value.v2_controllers.count(Controller::cpu));
  } else {
    CHECK((h.value.mode == Mode::v1 || h.value.mode == Mode::hybrid));
    CHECK(h.value.source == "fstatfs+libcgroup");
    CHECK(scan.value.source == "fstatfs+scan");
    CHECK(h.value.v1_dirs == scan.value.v1_dirs);
    for (const char* c : {"cpu", "cpuacct", "cpuset", "memory"}) {
      char real[4096];
      REQUIRE(::realpath((k.root() + "/" + c).c_str(), real));
      CHECK(h.value.v1_dirs.at(*controller_from_name(c)) == std::string(real));
    }
  }
  std::printf("hierarchy: mode=%s source=%s\n", std::string(to_string(h.value.mode)).c_str(), h.value.source.c_str());
}

TEST_CASE("cfs quota: naive child-above-parent fails on v1, ordered writer succeeds", "[kernel]") {
  KernelCgroup k;
  k.mkdir("pod/c");
  auto fs = open_fs(k);
  std::string pod = k.rel("pod"), c = k.rel("pod/c");
  REQUIRE(fs.write(r(pod, Knob::cpu_quota), iv(50000)).ok());
  REQUIRE(fs.write(r(c, Knob::cpu_quota), iv(50000)).ok());

  Status raise_child_first = fs.write(r(c, Knob::cpu_quota), iv(150000));
  Status lower_parent_first = fs.write(r(pod, Knob::cpu_quota), iv(20000));
  if (k.v2()) {
    // cgroup2 clamps the child to its parent's bandwidth instead of refusing.
    CHECK(raise_child_first.ok());
    CHECK(lower_parent_first.ok());
    REQUIRE(fs.write(r(pod, Knob::cpu_quota), iv(50000)).ok());
    REQUIRE(fs.write(r(c, Knob::cpu_quota), iv(50000)).ok());
  } else {
    CHECK(raise_child_first.err == EINVAL);
    CHECK(lower_parent_first.err == EINVAL);
    CHECK_FALSE(raise_child_first.gone());
    CHECK(raise_child_first.describe().find("EINVAL") != std::string::npos);
    CHECK(rd(fs, c, Knob::cpu_quota) == 50000);
  }

  OrderedWriter w(fs);
  auto up = w.apply({KnobWrite{r(c, Knob::cpu_quota), iv(150000)}, KnobWrite{r(pod, Knob::cpu_quota), iv(200000)}});
  require_all_ok(up);
  CHECK(rd(fs, pod, Knob::cpu_quota) == 200000);
  CHECK(rd(fs, c, Knob::cpu_quota) == 150000);
  auto down = w.apply({KnobWrite{r(pod, Knob::cpu_quota), iv(30000)}, KnobWrite{r(c, Knob::cpu_quota), iv(20000)}});
  require_all_ok(down);
  CHECK(rd(fs, pod, Knob::cpu_quota) == 30000);
  CHECK(rd(fs, c, Knob::cpu_quota) == 20000);
  auto unlimited = w.apply({KnobWrite{r(c, Knob::cpu_quota), iv(-1)}, KnobWrite{r(pod, Knob::cpu_quota), iv(-1)}});
  require_all_ok(unlimited);
  CHECK(rd(fs, c, Knob::cpu_quota) == -1);
}

TEST_CASE("cfs burst: burst above quota and quota below burst fail, ordered writer succeeds", "[kernel]") {
  KernelCgroup k;
  k.mkdir("b");
  auto fs = open_fs(k);
  if (!fs.supports(Knob::cpu_burst)) {
    WARN("SKIP: this kernel has no CFS burst (cpu.cfs_burst_us / cpu.max.burst, Linux >= 5.14)");
    return;
  }
  std::string b = k.rel("b");
  REQUIRE(fs.write(r(b, Knob::cpu_quota), iv(100000)).ok());
  CHECK(fs.write(r(b, Knob::cpu_burst), iv(150000)).err == EINVAL);  // burst > quota
  REQUIRE(fs.write(r(b, Knob::cpu_burst), iv(80000)).ok());
  CHECK(fs.write(r(b, Knob::cpu_quota), iv(50000)).err == EINVAL);  // quota below the current burst
  CHECK(fs.write(r(b, Knob::cpu_quota), iv(500)).err == EINVAL);    // quota < 1 ms
  CHECK(rd(fs, b, Knob::cpu_quota) == 100000);

  OrderedWriter w(fs);
  auto lower = w.apply({KnobWrite{r(b, Knob::cpu_quota), iv(50000)}, KnobWrite{r(b, Knob::cpu_burst), iv(40000)}});
  require_all_ok(lower);
  CHECK(rd(fs, b, Knob::cpu_quota) == 50000);
  CHECK(rd(fs, b, Knob::cpu_burst) == 40000);
  auto raise = w.apply({KnobWrite{r(b, Knob::cpu_burst), iv(120000)}, KnobWrite{r(b, Knob::cpu_quota), iv(120000)}});
  require_all_ok(raise);
  CHECK(rd(fs, b, Knob::cpu_burst) == 120000);
  // koordlet's 1000 % default: the kernel would refuse it; we clamp to the quota and say so.
  auto huge = w.apply({KnobWrite{r(b, Knob::cpu_burst), iv(1200000)}});
  require_all_ok(huge);
  CHECK(huge[0].clamped);
  CHECK(rd(fs, b, Knob::cpu_burst) == 120000);
  // Lowering quota without mentioning burst still fails (the writer never changes a knob it was not asked to).
  auto bad = w.apply({KnobWrite{r(b, Knob::cpu_quota), iv(60000)}});
  CHECK(bad[0].status.err == EINVAL);
  CHECK_FALSE(bad[0].status.detail.empty());
}

TEST_CASE("cpuset: v1 EBUSY/EACCES on the naive order, ordered writer succeeds", "[kernel]") {
  KernelCgroup k;
  if (!k.has_controller("cpuset")) {
    WARN("SKIP: cpuset controller not available");
    return;
  }
  k.mkdir("pod/c");
  auto fs = open_fs(k);
  std::string pod = k.rel("pod"), c = k.rel("pod/c");
  auto all = fs.read(r(k.rel(""), Knob::cpuset_cpus));
  REQUIRE(all.ok());
  CpuSet cpus = std::get<CpuSet>(all.value);
  if (k.v2() && cpus.empty()) cpus = *CpuSet::parse(k.read_file("cpuset", "", "cpuset.cpus.effective"));
  if (cpus.size() < 2) {
    WARN("SKIP: needs 2 CPUs in the cpuset, have " << cpus.to_string());
    return;
  }
  int a = cpus.ids()[0], b = cpus.ids()[1];
  std::string both = CpuSet::of({a, b}).to_string(), first = std::to_string(a), second = std::to_string(b);
  REQUIRE(fs.write(r(pod, Knob::cpuset_cpus), cv(both.c_str())).ok());
  REQUIRE(fs.write(r(c, Knob::cpuset_cpus), cv(both.c_str())).ok());
  if (!k.v2()) REQUIRE(fs.write(r(c, Knob::cpuset_mems), KnobValue{*CpuSet::parse(k.read_file("cpuset", "pod", "cpuset.mems"))}).ok());

  Status shrink_parent_first = fs.write(r(pod, Knob::cpuset_cpus), cv(first.c_str()));
  if (k.v2()) {
    CHECK(shrink_parent_first.ok());  // v2: the child's effective set is clamped
    CHECK(k.read_file("cpuset", "pod/c", "cpuset.cpus.effective") == first);
    REQUIRE(fs.write(r(pod, Knob::cpuset_cpus), cv(both.c_str())).ok());
  } else {
    CHECK(shrink_parent_first.err == EBUSY);
    CHECK(rds(fs, pod, Knob::cpuset_cpus) == both);
  }
  OrderedWriter w(fs);
  auto shrink = w.apply({KnobWrite{r(pod, Knob::cpuset_cpus), cv(first.c_str())},
                         KnobWrite{r(c, Knob::cpuset_cpus), cv(first.c_str())}});
  require_all_ok(shrink);
  CHECK(rds(fs, pod, Knob::cpuset_cpus) == first);
  CHECK(rds(fs, c, Knob::cpuset_cpus) == first);

  Status widen_child_first = fs.write(r(c, Knob::cpuset_cpus), cv(both.c_str()));
  if (k.v2()) {
    CHECK(widen_child_first.ok());
    CHECK(k.read_file("cpuset", "pod/c", "cpuset.cpus.effective") == first);
    REQUIRE(fs.write(r(c, Knob::cpuset_cpus), cv(first.c_str())).ok());
  } else {
    CHECK(widen_child_first.err == EACCES);
  }
  // Move the child to the other CPU while the pod widens: needs the union on the pod first.
  auto move = w.apply({KnobWrite{r(c, Knob::cpuset_cpus), cv(second.c_str())},
                       KnobWrite{r(pod, Knob::cpuset_cpus), cv(both.c_str())}});
  require_all_ok(move);
  CHECK(rds(fs, pod, Knob::cpuset_cpus) == both);
  CHECK(rds(fs, c, Knob::cpuset_cpus) == second);

  // Emptying the cpuset of a cgroup that has tasks (and had CPUs set): ENOSPC on v1 and on v2 alike.
  k.spawn("pod/c");
  Status empty = fs.write(r(c, Knob::cpuset_cpus), KnobValue{CpuSet{}});
  INFO(empty.describe());
  CHECK(empty.err == ENOSPC);
}

TEST_CASE("a cgroup removed between open and write is gone (ENODEV via kept fd, ENOENT fresh)", "[kernel]") {
  KernelCgroup k;
  k.mkdir("gone");
  auto fs = open_fs(k);
  std::string g = k.rel("gone");
  const DirFd* cpu = fs.controller_dir(Controller::cpu);
  REQUIRE(cpu);
  std::string quota_file = g + "/" + std::string(knob_file(Knob::cpu_quota, fs.mode()));
  int fd = cpu->open_file(quota_file, O_WRONLY);
  REQUIRE(fd >= 0);
  auto kept = fs.keep_open(g, StatFile::cpu_stat);
  REQUIRE(kept.ok());
  REQUIRE(fs.remove(g).ok());

  ssize_t n = ::write(fd, "50000", 5);
  int e = errno;
  ::close(fd);
  CHECK(n < 0);
  CHECK(e == ENODEV);
  Status via_fd = Status::from_errno(e, quota_file, "50000");
  CHECK(via_fd.gone());

  Status fresh = fs.write(r(g, Knob::cpu_quota), iv(50000));
  CHECK(fresh.gone());
  CHECK(fresh.err == ENOENT);
  CHECK(fs.read(r(g, Knob::cpu_quota)).gone());
  CHECK(fs.cpu_stat(g).gone());
  std::string buf;
  Status reread = kept.value.read(buf);
  INFO(reread.describe());
  CHECK(reread.gone());  // kernfs answers ENODEV on a removed cgroup's open file
  OrderedWriter w(fs);
  auto out = w.apply({KnobWrite{r(g, Knob::cpu_quota), iv(50000)}});
  CHECK(out[0].status.gone());
  CHECK(fs.remove(g).ok());  // removing again is not an error
}

TEST_CASE("KeptFile re-reads cpu.stat of a throttled cgroup", "[kernel]") {
  KernelCgroup k;
  k.mkdir("spin");
  auto fs = open_fs(k);
  std::string s = k.rel("spin");
  REQUIRE(fs.write(r(s, Knob::cpu_quota), iv(10000)).ok());  // 10 % of one CPU
  auto stat = fs.keep_open(s, StatFile::cpu_stat);
  REQUIRE(stat.ok());
  auto usage = fs.keep_open(s, StatFile::cpu_usage);
  REQUIRE(usage.ok());
  std::string buf;
  REQUIRE(stat.value.read(buf).ok());
  auto s0 = parse_cpu_stat(buf);
  REQUIRE(s0);
  pid_t pid = k.spawn("spin", /*busy=*/true);
  std::this_thread::sleep_for(std::chrono::milliseconds(450));
  REQUIRE(stat.value.read(buf).ok());
  auto s1 = parse_cpu_stat(buf);
  REQUIRE(s1);
  CHECK(s1->nr_periods >= s0->nr_periods + 2);
  CHECK(s1->nr_throttled >= s0->nr_throttled + 1);
  CHECK(s1->throttled_ns > s0->throttled_ns);
  REQUIRE(usage.value.read(buf).ok());
  uint64_t used = k.v2() ? parse_cpu_stat(buf)->usage_ns.value_or(0) : std::stoull(buf);
  CHECK(used > 10'000'000);  // > 10 ms of CPU in 450 ms at 10 %
  CHECK(used < 200'000'000);  // and the quota held it well below one CPU
  auto procs = fs.procs(s, Controller::cpu);
  REQUIRE(procs.ok());
  CHECK(procs.value == std::vector<int>{pid});
  auto threads = fs.threads(s, Controller::cpu);
  REQUIRE(threads.ok());
  CHECK(threads.value == std::vector<int>{pid});
  std::printf("throttled cgroup after 450 ms: nr_periods=%llu nr_throttled=%llu throttled=%.1f ms usage=%.1f ms\n",
              static_cast<unsigned long long>(s1->nr_periods), static_cast<unsigned long long>(s1->nr_throttled),
              s1->throttled_ns / 1e6, used / 1e6);
}

TEST_CASE("create, attach, procs, remove through CgroupFs; the root is never written", "[kernel]") {
  KernelCgroup k;
  k.mkdir("from");
  auto fs = open_fs(k);
  std::string to = k.rel("to");
  REQUIRE(fs.create(to).ok());
  CHECK(fs.create(to).ok());
  for (Controller c : {Controller::cpu, Controller::cpuacct, Controller::memory})
    if (fs.controller_dir(c)) CHECK(fs.exists(to, c));
  if (!k.v2()) CHECK_FALSE(rds(fs, to, Knob::cpuset_cpus).empty());  // copied from the parent
  pid_t pid = k.spawn("from");
  REQUIRE(fs.attach(to, pid).ok());
  auto procs = fs.procs(to, Controller::cpu);
  REQUIRE(procs.ok());
  CHECK(procs.value == std::vector<int>{pid});
  Status busy = fs.remove(to);
  CHECK(busy.err == EBUSY);
  CHECK(fs.attach(to, 999999999).err != 0);

  std::string root_limit_before = k.v2() ? "" : k.read_file("memory", "", "../memory.limit_in_bytes");
  for (const char* root : {"", "/"}) {
    Status s = fs.write(r(root, Knob::memory_limit), iv(1 << 20));
    CHECK(s.err == EPERM);
  }
  if (!k.v2()) CHECK(k.read_file("memory", "", "../memory.limit_in_bytes") == root_limit_before);
}
