// The writer on fake trees: group creation, schemata diff-writes, task moves (one TID per write, appended),
// stale-group cleanup, CLOSID exhaustion, a rejected write carrying info/last_cmd_status, restore, flock.
#include <catch2/catch.hpp>

#include <filesystem>

#include "rdt/allocation.h"
#include "rdt/info.h"
#include "rdt/writer.h"
#include "tests/rdt/rdt_fixtures.h"

using namespace slo::rdt;
using namespace slo::rdt::testing;
using slo::test::TempDir;
namespace fs = std::filesystem;

namespace {

Schemata schemata_of(const std::string& text) { return parse_schemata(text).schemata; }

std::vector<int> tids_in(const TempDir& tmp, const std::string& rel) { return parse_tasks(tmp.read(rel)); }

size_t count_lines(const std::string& s) { return static_cast<size_t>(std::count(s.begin(), s.end(), '\n')); }

}  // namespace

TEST_CASE("groups are created with their schemata and tasks on every tree", "[rdt][writer]") {
  for (const auto& tree : all_trees()) {
    SECTION(tree) {
      TempDir tmp;
      std::string root = copy_tree(tmp, tree);
      auto info = read_info(open_fake_root(root), {make_proc(tmp, "GenuineIntel"), ""});
      REQUIRE(info.ok());
      auto be = build_schemata(info.value, {0, 30, 50});
      REQUIRE(be.ok());
      FixtureResctrlFs fsys(open_fake_root(root));
      ResctrlWriter w(fsys);
      std::vector<GroupSpec> specs{{"slo-BE", be.value.schemata, {101, 102, 103, 102}}};
      auto rep = w.apply(specs, info.value.usable_closids);
      INFO(rep.errors.size() << " errors; first: " << (rep.errors.empty() ? "" : rep.errors[0].describe()));
      CHECK(rep.errors.empty());
      CHECK(rep.created == std::vector<std::string>{"slo-BE"});
      CHECK(fs::is_directory(tmp.sub("resctrl/slo-BE")));
      // Rendered schemata was written (for MBps/no-line trees the copied root default stays).
      auto got = parse_schemata(tmp.read("resctrl/slo-BE/schemata")).schemata;
      CHECK(schemata_satisfied(got, be.value.schemata));
      CHECK(tids_in(tmp, "resctrl/slo-BE/tasks") == std::vector<int>{101, 102, 103});
      // One TID per line: one write(2) each, appended.
      CHECK(tmp.read("resctrl/slo-BE/tasks") == "101\n102\n103\n");
      CHECK(rep.tasks.written == 3);
      CHECK(rep.tasks.desired == 3);
    }
  }
}

TEST_CASE("a second apply writes only what changed", "[rdt][writer]") {
  TempDir tmp;
  std::string root = copy_tree(tmp, "resctrl.full");
  FixtureResctrlFs fsys(open_fake_root(root));
  ResctrlWriter w(fsys);
  auto be = schemata_of("L3:0=3f;1=3f;2=3f;3=3f\nMB:0=50;1=50;2=50;3=50\n");
  auto ls = schemata_of("L3:0=fffff;1=fffff;2=fffff;3=fffff\nMB:0=100;1=100;2=100;3=100\n");
  std::vector<GroupSpec> specs{{"slo-LS", ls, {10, 11}}, {"slo-BE", be, {20, 21, 22}}};
  auto r1 = w.apply(specs);
  REQUIRE(r1.errors.empty());
  CHECK(r1.schemata_written.size() == 1);  // slo-LS starts with the root's fffff/100: nothing to write
  CHECK(r1.tasks.written == 5);

  auto r2 = w.apply(specs);
  CHECK(r2.created.empty());
  CHECK(r2.schemata_written.empty());
  CHECK(r2.tasks.written == 0);
  CHECK(r2.tasks.already == 5);

  // Thread churn: one exits (the kernel drops it), two are born.
  specs[1].tids = {20, 21, 23, 24};
  auto r3 = w.apply(specs);
  CHECK(r3.tasks.written == 2);
  CHECK(tmp.read("resctrl/slo-BE/tasks") == "20\n21\n22\n23\n24\n");

  // A policy change rewrites the schemata once.
  specs[1].schemata = schemata_of("L3:0=f;1=f;2=f;3=f\nMB:0=50;1=50;2=50;3=50\n");
  auto r4 = w.apply(specs);
  CHECK(r4.schemata_written == std::vector<std::string>{"slo-BE"});
  CHECK(parse_schemata(tmp.read("resctrl/slo-BE/schemata")).schemata.resources.at("L3").at(2) == "f");
}

TEST_CASE("threads no group wants any more go back to the root group", "[rdt][writer]") {
  TempDir tmp;
  std::string root = copy_tree(tmp, "resctrl.l2");
  FixtureResctrlFs fsys(open_fake_root(root));
  ResctrlWriter w(fsys);
  auto s = schemata_of("L2:0=7;1=7\n");
  REQUIRE(w.apply({{"slo-BE", s, {500, 501}}}).errors.empty());
  auto rep = w.apply({{"slo-BE", s, {500}}});
  CHECK(rep.tasks.released == 1);
  auto root_tids = tids_in(tmp, "resctrl/tasks");
  CHECK(std::find(root_tids.begin(), root_tids.end(), 501) != root_tids.end());
}

TEST_CASE("stale prefixed groups are removed at start; other groups are left alone", "[rdt][writer]") {
  TempDir tmp;
  std::string root = copy_tree(tmp, "resctrl.full", true);
  FixtureResctrlFs fsys(open_fake_root(root));
  // Left over from an earlier run: a group whose class no longer exists, holding a thread.
  REQUIRE(fsys.make_group("slo-LSX").ok());
  tmp.write("resctrl/slo-LSX/tasks", "777\n");
  ResctrlWriter w(fsys);
  auto rep = w.apply({{"slo-BE", schemata_of("L3:0=3f;1=3f;2=3f;3=3f\n"), {1}}});
  CHECK(rep.removed == std::vector<std::string>{"slo-LSX"});
  CHECK_FALSE(fs::exists(tmp.sub("resctrl/slo-LSX")));
  auto root_tids = tids_in(tmp, "resctrl/tasks");
  CHECK(std::find(root_tids.begin(), root_tids.end(), 777) != root_tids.end());
  for (const char* other : {"Guaranteed", "goresctrl.Guaranteed", "goresctrl.Stale", "non_goresctrl.Group"})
    CHECK(fs::is_directory(tmp.sub(std::string("resctrl/") + other)));
}

TEST_CASE("CLOSID exhaustion (mkdir ENOSPC) is reported and the other groups still work", "[rdt][writer]") {
  TempDir tmp;
  std::string root = copy_tree(tmp, "resctrl.l2");  // 4 closids: root + 3
  FaultFs fsys(open_fake_root(root));
  fsys.closid_budget = 2;  // the kernel would refuse the third group
  ResctrlWriter w(fsys);
  auto s = schemata_of("L2:0=ff;1=ff\n");
  std::vector<GroupSpec> specs{{"slo-LSR", s, {1}}, {"slo-LS", s, {2}}, {"slo-BE", schemata_of("L2:0=7;1=7\n"), {3}}};
  tmp.write("resctrl/info/last_cmd_status", "ok\n");
  auto rep = w.apply(specs, 4);
  CHECK(rep.created == std::vector<std::string>{"slo-LSR", "slo-LS"});
  CHECK(rep.closid_exhausted == std::vector<std::string>{"slo-BE"});
  REQUIRE(rep.errors.size() == 1);
  std::string msg = rep.errors[0].describe();
  INFO(msg);
  CHECK(msg.find("ENOSPC") != std::string::npos);
  CHECK(msg.find("no free CLOSID for resctrl group slo-BE") != std::string::npos);
  CHECK(msg.find("num_closids=4") != std::string::npos);
  CHECK(msg.find("last_cmd_status: ok") != std::string::npos);
  CHECK(rep.tasks.written == 2);  // LSR and LS threads moved; BE's stays in the root group
  CHECK_FALSE(fs::exists(tmp.sub("resctrl/slo-BE")));

  // Once a CLOSID frees up, the next reconcile creates the group.
  fsys.closid_budget = -1;
  auto again = w.apply(specs, 4);
  CHECK(again.created == std::vector<std::string>{"slo-BE"});
  CHECK(again.errors.empty());
}

TEST_CASE("a rejected schemata write carries info/last_cmd_status; no threads move into that group",
          "[rdt][writer]") {
  TempDir tmp;
  std::string root = copy_tree(tmp, "resctrl.full");
  FaultFs fsys(open_fake_root(root));
  fsys.fail_write_suffix = "slo-BE/schemata";
  fsys.fail_write_errno = EINVAL;
  tmp.write("resctrl/info/last_cmd_status", "MB value 5 out of range [10,100]\n");
  ResctrlWriter w(fsys);
  auto rep = w.apply({{"slo-BE", schemata_of("L3:0=3f;1=3f;2=3f;3=3f\nMB:0=5;1=5;2=5;3=5\n"), {42}}});
  REQUIRE(rep.errors.size() == 1);
  std::string msg = rep.errors[0].describe();
  INFO(msg);
  CHECK(msg.find("slo-BE/schemata") != std::string::npos);
  CHECK(msg.find("EINVAL") != std::string::npos);
  CHECK(msg.find("MB:0=5") != std::string::npos);  // the value written
  CHECK(msg.find("last_cmd_status: MB value 5 out of range [10,100]") != std::string::npos);
  CHECK(rep.tasks.written == 0);
  CHECK(tmp.read("resctrl/slo-BE/tasks").empty());
}

TEST_CASE("ESRCH on a task write is normal; other errors are reported once per file", "[rdt][writer]") {
  TempDir tmp;
  std::string root = copy_tree(tmp, "resctrl.nomb");
  FaultFs fsys(open_fake_root(root));
  fsys.tid_errno["4242\n"] = ESRCH;  // exited between listing and writing
  fsys.tid_errno["5000\n"] = EINVAL;
  fsys.tid_errno["5001\n"] = EINVAL;
  tmp.write("resctrl/info/last_cmd_status", "Task 5001 is already assigned\n");
  ResctrlWriter w(fsys);
  auto rep = w.apply({{"slo-BE", schemata_of("L3:0=3;1=3;2=3;3=3\n"), {7, 4242, 8, 5000, 5001}}});
  CHECK(rep.tasks.written == 2);
  CHECK(rep.tasks.gone == 1);
  CHECK(rep.tasks.failed == 2);
  REQUIRE(rep.errors.size() == 1);
  CHECK(rep.errors[0].describe().find("write '5000' to") != std::string::npos);
  CHECK(rep.errors[0].describe().find("last_cmd_status: Task 5001") != std::string::npos);
  CHECK(tmp.read("resctrl/slo-BE/tasks") == "7\n8\n");
}

TEST_CASE("group names without the prefix are refused", "[rdt][writer]") {
  TempDir tmp;
  std::string root = copy_tree(tmp, "resctrl.l2");
  FixtureResctrlFs fsys(open_fake_root(root));
  ResctrlWriter w(fsys);
  CHECK_FALSE(w.ensure_group("Guaranteed", 4).ok());
  CHECK_FALSE(w.ensure_group("slo-", 4).ok());
  CHECK_FALSE(w.ensure_group("slo-a/b", 4).ok());
  CHECK(w.ensure_group("slo-ok", 4).ok());
}

TEST_CASE("restore removes every owned group and returns its tasks to the root group", "[rdt][writer]") {
  TempDir tmp;
  std::string root = copy_tree(tmp, "resctrl.full", true);
  FixtureResctrlFs fsys(open_fake_root(root));
  ResctrlWriter w(fsys);
  auto s = schemata_of("L3:0=3f;1=3f;2=3f;3=3f\n");
  REQUIRE(w.apply({{"slo-LS", s, {901}}, {"slo-BE", s, {902, 903}}}).errors.empty());
  size_t root_before = count_lines(tmp.read("resctrl/tasks"));
  auto removed = remove_owned_groups(fsys);
  REQUIRE(removed.ok());
  std::sort(removed.value.begin(), removed.value.end());
  CHECK(removed.value == std::vector<std::string>{"slo-BE", "slo-LS"});
  CHECK(count_lines(tmp.read("resctrl/tasks")) == root_before + 3);
  CHECK(fs::is_directory(tmp.sub("resctrl/goresctrl.Guaranteed")));

  // The path overload is for real mounts only: a fake tree is refused, not modified.
  REQUIRE(w.apply({{"slo-BE", s, {1}}}).errors.empty());
  auto strict = remove_owned_groups(root);
  REQUIRE_FALSE(strict.ok());
  CHECK(strict.status.detail.find("not a resctrl mount") != std::string::npos);
  CHECK(fs::exists(tmp.sub("resctrl/slo-BE")));
}

TEST_CASE("the root flock excludes a second writer", "[rdt][writer]") {
  TempDir tmp;
  std::string root = copy_tree(tmp, "resctrl.l2");
  auto dir = open_fake_root(root);
  auto first = RootLock::acquire(dir, std::chrono::milliseconds(100));
  REQUIRE(first.ok());
  auto second = RootLock::acquire(dir, std::chrono::milliseconds(50));
  REQUIRE_FALSE(second.ok());
  CHECK(second.status.detail.find("locked by another process") != std::string::npos);
  // apply() gives up for this tick and says why.
  FixtureResctrlFs fsys(open_fake_root(root));
  ResctrlWriter w(fsys, kGroupPrefix, std::chrono::milliseconds(30));
  auto rep = w.apply({});
  REQUIRE(rep.errors.size() == 1);
  CHECK(rep.errors[0].describe().find("flock") != std::string::npos);
  first.value.reset();
  CHECK(RootLock::acquire(dir, std::chrono::milliseconds(50)).ok());
}

TEST_CASE("tasks files parse into sorted unique TIDs", "[rdt][writer]") {
  CHECK(parse_tasks("3\n1\n2\n3\n\nx\n") == std::vector<int>{1, 2, 3});
  CHECK(parse_tasks("").empty());
}
