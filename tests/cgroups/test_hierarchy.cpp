// Hierarchy detection on synthetic trees (v1 separate / co-mounted with links / hybrid / v2) and on the real
// fixture trees copied to a TempDir.
#include <catch2/catch.hpp>

#include <filesystem>

#include "cgroups/cgroup_fs.h"
#include "cgroups/hierarchy.h"
#include "tests/cgroups/fake_tree.h"

using namespace slo::cg;
using slo::test::FakeKind;
using slo::test::FakeTree;
using slo::test::TempDir;
namespace fs = std::filesystem;

TEST_CASE("synthetic v1 with separate cpu and cpuacct", "[hierarchy]") {
  TempDir t;
  FakeTree tree(t, FakeKind::v1_separate);
  auto h = Hierarchy::detect(tree.root());
  REQUIRE(h.ok());
  CHECK(h.value.mode == Mode::v1);
  CHECK(h.value.source == "content");
  CHECK(h.value.v1_dirs.at(Controller::cpu) == tree.root() + "/cpu");
  CHECK(h.value.v1_dirs.at(Controller::cpuacct) == tree.root() + "/cpuacct");
  CHECK(h.value.v1_dirs.size() == 6);
  CHECK(h.value.unified_dir.empty());
  CHECK(h.value.controller_dir(Controller::memory) == tree.root() + "/memory");
}

TEST_CASE("synthetic v1 co-mounted cpu,cpuacct with links", "[hierarchy]") {
  TempDir t;
  FakeTree tree(t, FakeKind::v1_comounted);
  auto h = Hierarchy::detect(tree.root());
  REQUIRE(h.ok());
  CHECK(h.value.mode == Mode::v1);
  CHECK(h.value.v1_dirs.at(Controller::cpu) == tree.root() + "/cpu,cpuacct");
  CHECK(h.value.v1_dirs.at(Controller::cpuacct) == tree.root() + "/cpu,cpuacct");
  auto cfs = CgroupFs::open(tree.root());
  REQUIRE(cfs.ok());
  CHECK(cfs.value.controller_dir(Controller::cpu) == cfs.value.controller_dir(Controller::cpuacct));
  CHECK(cfs.value.file_of(KnobRef{"a/b", Knob::cpu_quota, {}}) == "cpu,cpuacct/a/b/cpu.cfs_quota_us");
}

TEST_CASE("links that leave the root are not followed", "[hierarchy]") {
  TempDir t;
  t.mkdirs("outside/cpu");
  t.mkdirs("cg/memory");
  fs::create_directory_symlink(t.sub("outside/cpu"), t.sub("cg/cpu"));
  fs::create_directory_symlink("../outside", t.sub("cg/cpuacct"));
  fs::create_directory_symlink("memory/../../outside", t.sub("cg/pids"));
  auto h = Hierarchy::detect(t.sub("cg"));
  REQUIRE(h.ok());
  CHECK(h.value.v1_dirs.count(Controller::cpu) == 0);
  CHECK(h.value.v1_dirs.count(Controller::cpuacct) == 0);
  CHECK(h.value.v1_dirs.count(Controller::pids) == 0);
  CHECK(h.value.v1_dirs.at(Controller::memory) == t.sub("cg/memory"));
  // An absolute link to a directory inside the root is fine.
  t.mkdirs("cg2/cpu,cpuacct");
  fs::create_directory_symlink(t.sub("cg2/cpu,cpuacct"), t.sub("cg2/cpu"));
  auto h2 = Hierarchy::detect(t.sub("cg2"));
  REQUIRE(h2.ok());
  CHECK(h2.value.v1_dirs.at(Controller::cpu) == t.sub("cg2/cpu,cpuacct"));
}

TEST_CASE("synthetic hybrid and v2", "[hierarchy]") {
  TempDir t;
  FakeTree hy(t, FakeKind::hybrid, "hy");
  auto h = Hierarchy::detect(hy.root());
  REQUIRE(h.ok());
  CHECK(h.value.mode == Mode::hybrid);
  CHECK(h.value.unified_dir == hy.root() + "/unified");
  CHECK(h.value.controller_dir(Controller::cpu) == hy.root() + "/cpu");

  FakeTree v2(t, FakeKind::v2, "v2");
  auto h2 = Hierarchy::detect(v2.root());
  REQUIRE(h2.ok());
  CHECK(h2.value.mode == Mode::v2);
  CHECK(h2.value.unified_dir == v2.root());
  CHECK(h2.value.v2_controllers == std::set<Controller>{Controller::cpu, Controller::cpuset, Controller::memory,
                                                         Controller::blkio, Controller::pids});
  CHECK(h2.value.controller_dir(Controller::cpuacct) == v2.root());
  t.write("v2only/cgroup.controllers", "memory\n");
  auto h3 = Hierarchy::detect(t.sub("v2only"));
  REQUIRE(h3.ok());
  CHECK_FALSE(h3.value.controller_dir(Controller::cpu));
  CHECK(h3.value.controller_dir(Controller::memory));
}

TEST_CASE("detect refuses empty, root, relative and non-cgroup roots", "[hierarchy]") {
  CHECK_FALSE(Hierarchy::detect("").ok());
  CHECK_FALSE(Hierarchy::detect("/").ok());
  CHECK_FALSE(Hierarchy::detect("relative/dir").ok());
  TempDir t;
  t.write("empty/readme", "x");
  auto h = Hierarchy::detect(t.sub("empty"));
  CHECK_FALSE(h.ok());
  CHECK(Hierarchy::detect(t.sub("missing")).gone());
}

TEST_CASE("real fixture: amzn2 EKS v1 with cpu,cpuacct directory", "[hierarchy][fixture]") {
  TempDir t;
  std::string base = t.copy_fixture("cgroup/elastic-amzn2-eks-v1-systemd-containerd", "amzn2");
  std::string root = base + "/sys/fs/cgroup";
  auto h = Hierarchy::detect(root);
  REQUIRE(h.ok());
  CHECK(h.value.mode == Mode::v1);
  CHECK(h.value.v1_dirs.at(Controller::cpu) == root + "/cpu,cpuacct");
  CHECK(h.value.v1_dirs.at(Controller::cpuacct) == root + "/cpu,cpuacct");
  CHECK(h.value.v1_dirs.at(Controller::pids) == root + "/pids");
  // The same answer from the fixture's own mount table (mount points rewritten to testdata/amzn2/…).
  auto m = Hierarchy::detect(root, DetectOptions{base + "/proc", false});
  REQUIRE(m.ok());
  CHECK(m.value.source == "mountinfo");
  CHECK(m.value.mode == Mode::v1);
  CHECK(m.value.v1_dirs == h.value.v1_dirs);
}

TEST_CASE("real fixture: docker v1 with separate cpu and cpuacct", "[hierarchy][fixture]") {
  TempDir t;
  std::string base = t.copy_fixture("cgroup/elastic-docker-v1-cgroupfs", "d");
  std::string root = base + "/sys/fs/cgroup";
  auto h = Hierarchy::detect(root);
  REQUIRE(h.ok());
  CHECK(h.value.mode == Mode::v1);
  CHECK(h.value.v1_dirs.at(Controller::cpu) == root + "/cpu");
  CHECK(h.value.v1_dirs.at(Controller::cpuacct) == root + "/cpuacct");
  CHECK(h.value.v1_dirs.count(Controller::pids) == 0);
  auto m = Hierarchy::detect(root, DetectOptions{base + "/proc", false});
  REQUIRE(m.ok());
  CHECK(m.value.v1_dirs == h.value.v1_dirs);
}

TEST_CASE("real fixture: ubuntu 18.04 hybrid", "[hierarchy][fixture]") {
  TempDir t;
  std::string base = t.copy_fixture("cgroup/elastic-ubuntu1804-v1-hybrid", "u");
  std::string root = base + "/sys/fs/cgroup";
  auto h = Hierarchy::detect(root);
  REQUIRE(h.ok());
  CHECK(h.value.mode == Mode::hybrid);
  CHECK(h.value.unified_dir == root + "/unified");
  CHECK(h.value.v1_dirs.at(Controller::memory) == root + "/memory");
  CHECK(h.value.v1_dirs.at(Controller::blkio) == root + "/blkio");
  auto m = Hierarchy::detect(root, DetectOptions{base + "/proc", false});
  REQUIRE(m.ok());
  CHECK(m.value.mode == Mode::hybrid);
  CHECK(m.value.unified_dir == root + "/unified");
}

TEST_CASE("real fixture: docker2 pure v2 without a top-level cgroup.controllers", "[hierarchy][fixture]") {
  TempDir t;
  std::string base = t.copy_fixture("cgroup/elastic-docker2-v2-unified", "d2");
  std::string root = base + "/sys/fs/cgroup";
  auto h = Hierarchy::detect(root);
  REQUIRE(h.ok());
  CHECK(h.value.mode == Mode::v2);
  CHECK_FALSE(h.value.v2_controllers_known);
  auto m = Hierarchy::detect(root, DetectOptions{base + "/proc", false});
  REQUIRE(m.ok());
  CHECK(m.value.mode == Mode::v2);
  CHECK(m.value.source == "mountinfo");

  auto cfs = CgroupFs::open(root);
  REQUIRE(cfs.ok());
  std::string scope = "user.slice/user-1000.slice/session-520.scope";
  auto q = cfs.value.read(KnobRef{scope, Knob::cpu_quota, {}});
  REQUIRE(q.ok());
  CHECK(as_int(q.value) == -1);
  auto p = cfs.value.read(KnobRef{scope, Knob::cpu_period, {}});
  REQUIRE(p.ok());
  CHECK(as_int(p.value) == 100000);
  auto st = cfs.value.cpu_stat(scope);
  REQUIRE(st.ok());
  CHECK(st.value.usage_ns == 3611347518ULL * 1000);
  auto usage = cfs.value.cpu_usage_ns(scope);
  REQUIRE(usage.ok());
  CHECK(usage.value == 3611347518ULL * 1000);
  auto mem = cfs.value.memory(scope);
  REQUIRE(mem.ok());
  CHECK(mem.value.usage_bytes > 0);
  CHECK(mem.value.working_set_bytes <= mem.value.usage_bytes);
  auto psi = cfs.value.pressure(scope, StatFile::cpu_pressure);
  REQUIRE(psi.ok());
  CHECK(psi.value.some.total_us == 115056064);
  auto enabled = cfs.value.enabled_controllers(scope);
  REQUIRE(enabled.ok());
  CHECK(enabled.value == std::set<Controller>{Controller::cpu, Controller::memory, Controller::pids});
  // The scope has no cpuset files: that reads as gone, not as a crash.
  CHECK(cfs.value.read(KnobRef{scope, Knob::cpuset_cpus, {}}).gone());
}
