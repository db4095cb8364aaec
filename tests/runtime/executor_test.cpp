// Executor: diff writes, one owner per knob, write-ahead journal, restore of released knobs, gone, reverts.
#include <catch2/catch.hpp>

#include <filesystem>

#include "agent/act/executor.h"
#include "agent/act/journal.h"
#include "cgroups/cgroup_fs.h"
#include "tests/common/support.h"
#include "tests/runtime/fake_node.h"

using namespace slo;
using agent::Executor;
using agent::IntentSet;
using agent::Journal;

namespace {

struct Fixture {
  test::TempDir tmp;
  test::FakeNode node{tmp.sub("cg"), false};
  test::FakeNode::Pod pod;
  std::unique_ptr<cg::CgroupFs> fs;
  std::unique_ptr<Journal> journal;
  std::unique_ptr<Executor> ex;

  Fixture() {
    pod = {"default", "web", "1111-2222", "Burstable", {{"app", "aaaa0001"}, {"side", "aaaa0002"}}};
    node.add_pod(pod);
    auto r = cg::CgroupFs::open(node.root());
    REQUIRE(r.ok());
    fs = std::make_unique<cg::CgroupFs>(std::move(r.value));
    reopen();
  }
  void reopen() {
    ex.reset();
    journal = std::make_unique<Journal>(tmp.sub("state"));
    REQUIRE(journal->load().ok);
    ex = std::make_unique<Executor>(*fs, *journal, nullptr);
  }
  std::string ctr(int i) const { return node.pod_cgroup(pod) + "/" + pod.containers[static_cast<size_t>(i)].id; }
  cg::KnobRef quota(int i) const { return {ctr(i), cg::Knob::cpu_quota, ""}; }
  std::string quota_file(int i) const { return node.read(ctr(i), "cpu.cfs_quota_us"); }
};

IntentSet one(const cg::KnobRef& r, int64_t v) { return {{r, {v, "test"}}}; }

}  // namespace

TEST_CASE("executor writes changed values once and journals the original before") {
  Fixture f;
  f.ex->submit("A", one(f.quota(0), 50000));
  auto d = f.ex->apply();
  REQUIRE(d.size() == 1);
  CHECK(d[0].result == "applied");
  CHECK(f.quota_file(0) == "50000");
  REQUIRE(f.journal->find(f.quota(0)));
  CHECK(cg::as_int(f.journal->find(f.quota(0))->original) == -1);
  // The journal on disk already has it (write-ahead: a fresh load sees the original).
  Journal again(f.tmp.sub("state"));
  REQUIRE(again.load().ok);
  CHECK(again.find(f.quota(0)));

  // Same intent again: nothing written.
  f.ex->submit("A", one(f.quota(0), 50000));
  CHECK(f.ex->apply().empty());
  CHECK(f.ex->stats().writes_ok == 1);
  CHECK(cg::as_int(*f.ex->current(f.quota(0))) == 50000);
  CHECK(cg::as_int(*f.ex->original(f.quota(0))) == -1);
}

TEST_CASE("a value that already holds is not written and not journaled") {
  Fixture f;
  f.ex->submit("A", one(f.quota(0), -1));
  CHECK(f.ex->apply().empty());
  CHECK(f.journal->empty());
}

TEST_CASE("one owner per knob: a second claim is rejected until the owner releases it") {
  Fixture f;
  f.ex->submit("A", one(f.quota(0), 50000));
  f.ex->submit("B", one(f.quota(0), 70000));
  auto d = f.ex->apply();
  CHECK(f.quota_file(0) == "50000");
  CHECK(f.ex->stats().rejected == 1);
  bool saw_reject = false;
  for (const auto& x : d) saw_reject = saw_reject || (x.controller == "B" && x.result == "rejected: owned by A");
  CHECK(saw_reject);
  // Rejected again next tick: counted once only.
  f.ex->submit("B", one(f.quota(0), 70000));
  f.ex->apply();
  CHECK(f.ex->stats().rejected == 1);
  CHECK(f.ex->held().at(f.quota(0)).owner == "A");

  SECTION("released in the same apply: B takes over with no restore in between") {
    f.ex->submit("A", {});
    f.ex->submit("B", one(f.quota(0), 70000));
    auto d2 = f.ex->apply();
    CHECK(f.quota_file(0) == "70000");
    CHECK(f.ex->held().at(f.quota(0)).owner == "B");
    for (const auto& x : d2) CHECK(x.result != "restored");
    CHECK(cg::as_int(f.journal->find(f.quota(0))->original) == -1);
  }
  SECTION("released while B is not deciding: B's standing claim takes over") {
    f.ex->submit("A", {});
    f.ex->apply();
    CHECK(f.quota_file(0) == "70000");
    CHECK(f.ex->held().at(f.quota(0)).owner == "B");
  }
}

TEST_CASE("knobs a controller stops claiming go back to their original value") {
  Fixture f;
  f.ex->submit("A", {{f.quota(0), {50000, "x"}}, {f.quota(1), {60000, "y"}}});
  f.ex->apply();
  CHECK(f.quota_file(1) == "60000");
  f.ex->submit("A", one(f.quota(0), 50000));
  auto d = f.ex->apply();
  REQUIRE(d.size() == 1);
  CHECK(d[0].result == "restored");
  CHECK(f.quota_file(1) == "-1");
  CHECK(!f.journal->find(f.quota(1)));
  CHECK(f.journal->find(f.quota(0)));

  SECTION("withdraw releases everything") {
    f.ex->withdraw("A");
    f.ex->apply();
    CHECK(f.quota_file(0) == "-1");
    CHECK(f.journal->empty());
  }
}

TEST_CASE("current() answers for knobs nobody holds, before a claim and after its release") {
  // Controllers derive claims from current()/original(); an answer that exists only while a knob is held made a
  // controller claim and release on alternate ticks (see executor.h).
  Fixture f;
  auto cur = f.ex->current(f.quota(0));
  REQUIRE(cur);
  CHECK(cg::as_int(*cur) == -1);
  REQUIRE(f.ex->original(f.quota(0)));
  CHECK(cg::as_int(*f.ex->original(f.quota(0))) == -1);
  uint64_t peeks = f.ex->stats().peeks;
  f.ex->current(f.quota(0));
  CHECK(f.ex->stats().peeks == peeks);  // kept: not a read per question

  f.ex->submit("A", one(f.quota(0), 50000));
  f.ex->apply();
  CHECK(cg::as_int(*f.ex->current(f.quota(0))) == 50000);
  f.ex->submit("A", {});
  REQUIRE(f.ex->apply().size() == 1);  // released: restored
  CHECK(f.quota_file(0) == "-1");
  cur = f.ex->current(f.quota(0));
  REQUIRE(cur);
  CHECK(cg::as_int(*cur) == -1);
  CHECK(cg::as_int(*f.ex->original(f.quota(0))) == -1);

  // A knob whose cgroup does not exist: no value, and not an error.
  CHECK(!f.ex->current({"kubepods/nope", cg::Knob::cpu_quota, ""}));
  CHECK(f.ex->stats().writes_error == 0);
}

TEST_CASE("epoch() moves whenever an answer of current()/original() may have changed, and only then") {
  // The CPU burst controller keeps originals across ticks while the epoch stays: a missed bump would leave it
  // sizing bursts on a stale original.
  Fixture f;
  f.ex->current(f.quota(0));  // first read of an unheld knob: a new answer
  const uint64_t e0 = f.ex->epoch();
  CHECK(e0 != 0);
  f.ex->current(f.quota(0));
  f.ex->original(f.quota(0));
  f.ex->apply();  // nothing submitted
  CHECK(f.ex->epoch() == e0);

  f.ex->submit("A", one(f.quota(0), 50000));
  f.ex->apply();  // claim read, journal, write
  const uint64_t e1 = f.ex->epoch();
  CHECK(e1 != e0);
  CHECK(cg::as_int(*f.ex->current(f.quota(0))) == 50000);
  CHECK(cg::as_int(*f.ex->original(f.quota(0))) == -1);
  f.ex->submit_unchanged("A");
  f.ex->apply();  // steady state: no write, no change
  CHECK(f.ex->epoch() == e1);

  f.node.write(f.ctr(0), "cpu.cfs_quota_us", "70000");
  f.ex->reassert();  // changed behind our back
  const uint64_t e2 = f.ex->epoch();
  CHECK(e2 != e1);
  f.ex->reassert();  // nothing new
  CHECK(f.ex->epoch() == e2);

  f.ex->submit("A", {});
  f.ex->apply();  // released: restored, journal entry dropped
  CHECK(f.ex->epoch() != e2);
  CHECK(cg::as_int(*f.ex->original(f.quota(0))) == -1);
}

TEST_CASE("a knob of a removed cgroup is forgotten silently") {
  Fixture f;
  f.ex->submit("A", one(f.quota(0), 50000));
  f.ex->apply();
  f.node.remove_pod(f.pod.uid);
  // Claimed again (pod list not updated yet): read is cached, the write finds the cgroup gone.
  f.ex->submit("A", one(f.quota(0), 40000));
  auto d = f.ex->apply();
  CHECK(d.empty());
  CHECK(f.ex->stats().gone == 1);
  CHECK(f.ex->stats().writes_error == 0);
  CHECK(!f.journal->find(f.quota(0)));
  // Next ticks: no retries, no errors.
  f.ex->submit("A", one(f.quota(0), 40000));
  CHECK(f.ex->apply().empty());
  CHECK(f.ex->stats().gone == 1);
}

TEST_CASE("reassert counts values changed behind our back and the next apply rewrites them") {
  Fixture f;
  f.ex->submit("A", one(f.quota(0), 50000));
  f.ex->apply();
  CHECK(f.ex->reassert() == 0);
  f.node.write(f.ctr(0), "cpu.cfs_quota_us", "-1");  // kubelet resets it
  CHECK(f.ex->reassert() == 1);
  CHECK(f.ex->stats().reverted == 1);
  f.ex->apply();  // no new submission needed: the knob is dirty
  CHECK(f.quota_file(0) == "50000");
  // The original stays the kubelet's value from before our first change.
  CHECK(cg::as_int(f.journal->find(f.quota(0))->original) == -1);
}

TEST_CASE("after a restart, journaled knobs nobody claims are restored; claimed ones are kept") {
  Fixture f;
  f.ex->submit("A", {{f.quota(0), {50000, "x"}}, {f.quota(1), {60000, "y"}}});
  f.ex->apply();
  f.reopen();  // a new agent process on the same state dir
  REQUIRE(f.journal->entries().size() == 2);
  f.ex->submit("A", one(f.quota(0), 50000));
  f.ex->apply();
  CHECK(f.quota_file(0) == "50000");
  CHECK(f.quota_file(1) == "-1");
  CHECK(f.journal->entries().size() == 1);
  CHECK(cg::as_int(f.journal->find(f.quota(0))->original) == -1);
}

TEST_CASE("restore_journal puts everything back and empties the journal") {
  Fixture f;
  f.ex->submit("A", {{f.quota(0), {50000, "x"}}, {f.quota(1), {60000, "y"}}});
  f.ex->apply();
  f.ex.reset();
  auto r = agent::restore_journal(*f.fs, *f.journal);
  CHECK(r["restored"] == 2);
  CHECK(r["failed"].empty());
  CHECK(f.quota_file(0) == "-1");
  CHECK(f.quota_file(1) == "-1");
  CHECK(f.journal->empty());
}

TEST_CASE("write failures are counted with errno and retried when claimed again") {
  Fixture f;
  // A directory where the knob file should be: the kernel-side write fails (EISDIR), not "gone".
  std::string file = f.node.file(f.ctr(0), "cpu.shares");
  std::filesystem::remove(file);
  std::filesystem::create_directories(file);
  cg::KnobRef shares{f.ctr(0), cg::Knob::cpu_shares, ""};
  f.ex->submit("A", one(shares, 512));
  f.ex->apply();
  CHECK(f.ex->stats().writes_ok == 0);
  CHECK(f.ex->stats().gone == 0);
  CHECK(f.ex->stats().writes_error + f.ex->stats().reads >= 1);
}

TEST_CASE("paused executor accepts claims but writes nothing") {
  Fixture f;
  f.ex->set_paused(true);
  f.ex->submit("A", one(f.quota(0), 50000));
  f.ex->apply();
  CHECK(f.quota_file(0) == "-1");
}

TEST_CASE("an unchanged sequence keeps the claims; withdraw and restore forget the sequence") {
  Fixture f;
  agent::IntentSequence seq{{f.quota(0), {50000, "x"}}, {f.quota(1), {60000, "y"}}, {f.quota(0), {55000, "x2"}}};
  f.ex->submit_sequence("A", seq);
  auto d = f.ex->apply();
  CHECK(d.size() == 2);
  CHECK(f.quota_file(0) == "55000");  // a later duplicate wins, as in a set
  REQUIRE(f.ex->last_sequence("A").size() == 3);
  CHECK(f.ex->last_sequence("A")[1].second.reason == "y");

  // Steady state: nothing written, the knobs stay held with their reasons.
  f.ex->submit_unchanged("A");
  CHECK(f.ex->apply().empty());
  auto held = f.ex->held();
  REQUIRE(held.size() == 2);
  CHECK(held.at(f.quota(1)).reason == "y");

  // Someone reverts a knob: an unchanged submission still rewrites it (the set is not "settled" any more).
  f.node.write(f.ctr(1), "cpu.cfs_quota_us", "-1");
  CHECK(f.ex->reassert() == 1);
  f.ex->submit_unchanged("A");
  auto d2 = f.ex->apply();
  REQUIRE(d2.size() == 1);
  CHECK(f.quota_file(1) == "60000");

  f.ex->withdraw("A");
  f.ex->apply();
  CHECK(f.ex->last_sequence("A").empty());
  CHECK(f.quota_file(0) == "-1");
  // A plain set submission has no known order.
  f.ex->submit_sequence("B", seq);
  f.ex->apply();
  CHECK(f.ex->last_sequence("B").size() == 3);
  f.ex->submit("B", one(f.quota(0), 50000));
  f.ex->apply();
  CHECK(f.ex->last_sequence("B").empty());
  f.ex->restore_all();
  CHECK(f.ex->last_sequence("B").empty());
}
