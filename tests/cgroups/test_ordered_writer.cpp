// OrderedWriter on fake trees: the write sequence is recorded through the trace hook and, after every single
// write, the tree is checked against the kernel's v1 rules (child quota <= parent quota, burst <= quota, child
// cpuset within the parent's). A wrong order shows up as a violated intermediate state, not just a wrong list.
#include <catch2/catch.hpp>

#include <sstream>

#include "cgroups/ordered_writer.h"
#include "tests/cgroups/fake_tree.h"

using namespace slo::cg;
using slo::test::FakeKind;
using slo::test::FakeTree;
using slo::test::TempDir;

namespace {

const std::string kPod = "kp/pod1";
const std::string kC1 = "kp/pod1/c1";
const std::string kC2 = "kp/pod1/c2";

KnobWrite kw(const std::string& cg, Knob k, int64_t v) { return KnobWrite{KnobRef{cg, k, {}}, KnobValue{v}}; }
KnobWrite kc(const std::string& cg, const char* cpus) {
  return KnobWrite{KnobRef{cg, Knob::cpuset_cpus, {}}, KnobValue{*CpuSet::parse(cpus)}};
}

struct Harness {
  TempDir t;
  FakeTree tree{t, FakeKind::v1_comounted};
  std::optional<CgroupFs> fs;
  std::vector<std::string> seq;        // "cgroup:knob=value"
  std::vector<std::string> violations;

  Harness() {
    tree.add_cgroup(kC1);
    tree.add_cgroup(kC2);
    auto o = CgroupFs::open(tree.root());
    REQUIRE(o.ok());
    fs.emplace(std::move(o.value));
  }
  int64_t q(const std::string& cg) { return as_int(fs->read(KnobRef{cg, Knob::cpu_quota, {}}).value); }
  int64_t b(const std::string& cg) { return as_int(fs->read(KnobRef{cg, Knob::cpu_burst, {}}).value); }
  CpuSet cpus(const std::string& cg) { return std::get<CpuSet>(fs->read(KnobRef{cg, Knob::cpuset_cpus, {}}).value); }
  void set(const std::string& cg, Knob k, const std::string& v) {
    tree.write(k == Knob::cpuset_cpus ? "cpuset" : "cpu", cg, std::string(knob_file(k, Mode::v1)), v);
  }
  void check_rules(const std::string& after) {
    for (const auto& c : {kC1, kC2}) {
      int64_t pq = q(kPod), cq = q(c);
      // v1: an unlimited child is fine (it inherits the parent's limit); a finite one must not exceed the parent's.
      if (pq >= 0 && cq >= 0 && cq > pq) violations.push_back(after + ": quota " + c + " > pod");
      if (!cpus(c).is_subset_of(cpus(kPod))) violations.push_back(after + ": cpuset " + c + " outside pod");
    }
    for (const auto& c : {kPod, kC1, kC2})
      if (q(c) >= 0 && b(c) > q(c)) violations.push_back(after + ": burst > quota in " + c);
  }
  std::vector<WriteOutcome> run(const std::vector<KnobWrite>& batch) {
    OrderedWriter w(*fs, [&](const KnobRef& r, const KnobValue& v, const Status& s) {
      std::string e = r.cgroup + ":" + std::string(to_string(r.knob)) + "=" + value_to_string(v);
      seq.push_back(e);
      REQUIRE(s.ok());
      size_t n = violations.size();
      check_rules(e);
      for (size_t i = n; i < violations.size(); ++i) UNSCOPED_INFO("violation: " << violations[i]);
    });
    return w.apply(batch);
  }
};

std::string join(const std::vector<std::string>& v) {
  std::ostringstream o;
  for (const auto& s : v) o << s << "\n";
  return o.str();
}

}  // namespace

TEST_CASE("quota raised parent-first, lowered children-first", "[writer]") {
  Harness h;
  h.set(kPod, Knob::cpu_quota, "50000");
  h.set(kC1, Knob::cpu_quota, "50000");
  h.set(kC2, Knob::cpu_quota, "20000");
  auto out = h.run({kw(kC1, Knob::cpu_quota, 150000), kw(kPod, Knob::cpu_quota, 200000)});
  INFO(join(h.seq));
  CHECK(h.violations.empty());
  REQUIRE(h.seq.size() == 2);
  CHECK(h.seq[0] == kPod + ":cpu_quota=200000");
  REQUIRE(out.size() == 2);
  CHECK(out[0].write.ref.cgroup == kC1);  // outcomes in input order
  CHECK(out[0].changed);
  CHECK(as_int(*out[0].before) == 50000);
  CHECK(h.q(kC1) == 150000);

  h.seq.clear();
  out = h.run({kw(kPod, Knob::cpu_quota, 30000), kw(kC1, Knob::cpu_quota, 30000), kw(kC2, Knob::cpu_quota, 10000)});
  INFO(join(h.seq));
  CHECK(h.violations.empty());
  REQUIRE(h.seq.size() == 3);
  CHECK(h.seq[2] == kPod + ":cpu_quota=30000");
  for (const auto& o : out) CHECK(o.status.ok());
  // Unlimited counts as infinite: -1 on the pod is a raise, so it goes before the children.
  h.seq.clear();
  h.run({kw(kC1, Knob::cpu_quota, 80000), kw(kPod, Knob::cpu_quota, -1)});
  CHECK(h.violations.empty());
  REQUIRE(h.seq.size() == 2);
  CHECK(h.seq[0] == kPod + ":cpu_quota=-1");
}

TEST_CASE("burst lowered before quota, raised after, clamped to the final quota", "[writer]") {
  Harness h;
  h.set(kPod, Knob::cpu_quota, "-1");
  h.set(kC1, Knob::cpu_quota, "100000");
  h.set(kC1, Knob::cpu_burst, "80000");
  auto out = h.run({kw(kC1, Knob::cpu_quota, 50000), kw(kC1, Knob::cpu_burst, 40000)});
  INFO(join(h.seq));
  CHECK(h.violations.empty());
  REQUIRE(h.seq.size() == 2);
  CHECK(h.seq[0] == kC1 + ":cpu_burst=40000");
  CHECK_FALSE(out[1].clamped);

  h.seq.clear();
  out = h.run({kw(kC1, Knob::cpu_burst, 90000), kw(kC1, Knob::cpu_quota, 120000)});
  INFO(join(h.seq));
  CHECK(h.violations.empty());
  REQUIRE(h.seq.size() == 2);
  CHECK(h.seq[0] == kC1 + ":cpu_quota=120000");
  CHECK(h.seq[1] == kC1 + ":cpu_burst=90000");

  // Koordlet-style 1000 % burst: clamped to the final quota and reported.
  h.seq.clear();
  out = h.run({kw(kC1, Knob::cpu_burst, 1200000)});
  REQUIRE(out.size() == 1);
  CHECK(out[0].clamped);
  CHECK(as_int(out[0].write.value) == 120000);
  CHECK(out[0].status.ok());
  CHECK(h.b(kC1) == 120000);
  // Against an unlimited quota nothing is clamped.
  out = h.run({kw(kPod, Knob::cpu_burst, 300000)});
  CHECK_FALSE(out[0].clamped);
  CHECK(h.b(kPod) == 300000);
}

TEST_CASE("cpuset widened top-down with the union, final values bottom-up", "[writer]") {
  Harness h;
  h.set(kPod, Knob::cpuset_cpus, "0-3");
  h.set(kC1, Knob::cpuset_cpus, "0-1");
  h.set(kC2, Knob::cpuset_cpus, "2-3");
  auto out = h.run({kc(kC1, "4-5"), kc(kPod, "4-7"), kc(kC2, "6-7")});
  INFO(join(h.seq));
  CHECK(h.violations.empty());
  CHECK(h.cpus(kPod).to_string() == "4-7");
  CHECK(h.cpus(kC1).to_string() == "4-5");
  CHECK(h.cpus(kC2).to_string() == "6-7");
  REQUIRE(h.seq.size() == 6);
  CHECK(h.seq[0] == kPod + ":cpuset_cpus=0-7");
  CHECK(h.seq[5] == kPod + ":cpuset_cpus=4-7");
  for (const auto& o : out) {
    CHECK(o.status.ok());
    CHECK(o.changed);
  }
  // Pure shrink: no union write, children first.
  h.seq.clear();
  h.run({kc(kPod, "4-6"), kc(kC2, "6")});
  INFO(join(h.seq));
  CHECK(h.violations.empty());
  REQUIRE(h.seq.size() == 2);
  CHECK(h.seq[0] == kC2 + ":cpuset_cpus=6");
}

TEST_CASE("unchanged values are skipped, duplicates deduplicated, gone reported", "[writer]") {
  Harness h;
  h.set(kC1, Knob::cpu_quota, "50000");
  auto out = h.run({kw(kC1, Knob::cpu_quota, 50000), kw("kp/nope", Knob::cpu_quota, 1000),
                    kw(kC2, Knob::cpu_shares, 100), kw(kC2, Knob::cpu_shares, 200)});
  REQUIRE(out.size() == 4);
  CHECK(out[0].status.ok());
  CHECK_FALSE(out[0].changed);
  CHECK(out[1].status.gone());
  CHECK_FALSE(out[1].changed);
  CHECK(out[2].status.ok());
  CHECK_FALSE(out[2].changed);
  CHECK(out[2].status.detail.find("superseded") != std::string::npos);
  CHECK(out[3].changed);
  REQUIRE(h.seq.size() == 1);
  CHECK(h.seq[0] == kC2 + ":cpu_shares=200");
  // Memory compares in whole pages: a value the kernel would round to the same page is not rewritten.
  h.tree.write("memory", kC1, "memory.limit_in_bytes", "1048576\n");
  h.seq.clear();
  out = h.run({KnobWrite{KnobRef{kC1, Knob::memory_limit, {}}, KnobValue{int64_t{1048576 + 100}}}});
  CHECK_FALSE(out[0].changed);
  CHECK(h.seq.empty());
}

TEST_CASE("other knobs follow cpu and cpuset phases in depth order", "[writer]") {
  Harness h;
  h.set(kPod, Knob::cpu_quota, "50000");
  h.set(kC1, Knob::cpu_quota, "50000");
  auto out = h.run({KnobWrite{KnobRef{kC1, Knob::memory_limit, {}}, KnobValue{int64_t{1 << 30}}},
                    kw(kC1, Knob::cpu_shares, 512), kw(kPod, Knob::cpu_shares, 2048), kc(kC1, "1"),
                    kw(kPod, Knob::cpu_quota, 100000)});
  INFO(join(h.seq));
  CHECK(h.violations.empty());
  REQUIRE(h.seq.size() == 5);
  CHECK(h.seq[0] == kPod + ":cpu_quota=100000");
  CHECK(h.seq[1] == kC1 + ":cpuset_cpus=1");
  CHECK(h.seq[2] == kPod + ":cpu_shares=2048");
  for (const auto& o : out) CHECK(o.status.ok());
}

TEST_CASE("v2 batch uses the same order and v2 spellings", "[writer]") {
  TempDir t;
  FakeTree tree(t, FakeKind::v2);
  tree.add_cgroup(kC1);
  tree.write("cpu", kPod, "cpu.max", "50000 100000\n");
  tree.write("cpu", kC1, "cpu.max", "50000 100000\n");
  auto fs = CgroupFs::open(tree.root());
  REQUIRE(fs.ok());
  std::vector<std::string> seq;
  OrderedWriter w(fs.value, [&](const KnobRef& r, const KnobValue& v, const Status&) {
    seq.push_back(r.cgroup + ":" + std::string(to_string(r.knob)) + "=" + value_to_string(v));
  });
  auto out = w.apply({kw(kC1, Knob::cpu_burst, 500000), kw(kC1, Knob::cpu_quota, 100000),
                      kw(kPod, Knob::cpu_quota, 200000)});
  REQUIRE(seq.size() == 3);
  CHECK(seq[0] == kPod + ":cpu_quota=200000");
  CHECK(seq[2] == kC1 + ":cpu_burst=100000");
  CHECK(out[0].clamped);
  CHECK(tree.read("cpu", kC1, "cpu.max") == "100000");
  CHECK(tree.read("cpu", kC1, "cpu.max.burst") == "100000");
}
