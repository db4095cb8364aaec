// CgroupPath: one shared immutable text per resolved path; copies share it, comparisons behave like std::string.
#include <catch2/catch.hpp>

#include <map>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include "cgroups/cgroup_path.h"
#include "cgroups/knob.h"

using slo::cg::CgroupPath;

TEST_CASE("cgroup path copies share one text; separately built equal paths compare equal") {
  CgroupPath a(std::string("kubepods/burstable/pod1/c1"));
  CgroupPath b = a;
  CgroupPath c("kubepods/burstable/pod1/c1");
  CHECK(a.shares(b));
  CHECK(!a.shares(c));
  CHECK(a == c);
  CHECK(a.c_str() == b.c_str());  // the same bytes, not a copy
  CHECK(a == "kubepods/burstable/pod1/c1");
  CHECK(a == std::string("kubepods/burstable/pod1/c1"));
  CHECK(a != "kubepods/burstable/pod1/c2");
  CHECK(CgroupPath("a/b") < CgroupPath("a/c"));
  CHECK(CgroupPath("a/b") < std::string_view("a/c"));
  CHECK((a + "/cpu.stat") == "kubepods/burstable/pod1/c1/cpu.stat");
  CHECK(("/sys/fs/cgroup/" + a) == "/sys/fs/cgroup/kubepods/burstable/pod1/c1");
  std::ostringstream os;
  os << a;
  CHECK(os.str() == "kubepods/burstable/pod1/c1");

  CgroupPath moved = std::move(b);
  CHECK(moved.shares(a));
  CHECK(b.empty());  // NOLINT(bugprone-use-after-move): a moved-from path is "" by contract
  b = moved;
  CHECK(b.shares(a));
  b = b;  // self-assignment keeps the text
  CHECK(b == a);
}

TEST_CASE("the empty cgroup path is the empty string and needs no allocation") {
  CgroupPath e, f(""), g(std::string{});
  CHECK(e.empty());
  CHECK(e.size() == 0);
  CHECK(e == f);
  CHECK(e.shares(f));  // all empty paths are the null handle
  CHECK(e.shares(g));
  CHECK(e.str().empty());
  CHECK(std::string_view(e).empty());
}

TEST_CASE("knob refs keyed by cgroup path order and find like strings") {
  using slo::cg::Knob;
  using slo::cg::KnobRef;
  std::map<KnobRef, int> m;
  m[{"kubepods/pod2", Knob::cpu_quota, {}}] = 2;
  m[{"kubepods/pod1", Knob::cpu_quota, {}}] = 1;
  m[{"kubepods/pod1", Knob::cpu_period, {}}] = 3;
  CHECK(m.begin()->first.cgroup == "kubepods/pod1");
  CHECK(m.at({"kubepods/pod1", Knob::cpu_period, {}}) == 3);
  CHECK(m.at({std::string("kubepods/pod2"), Knob::cpu_quota, {}}) == 2);
  std::set<std::string> owned{"kubepods/pod1"};
  CHECK(owned.count(m.begin()->first.cgroup) == 1);  // implicit view as the std::string it holds
}

TEST_CASE("cgroup path copies and releases from several threads keep the count right") {
  CgroupPath shared("kubepods/besteffort/pod9");
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t)
    ts.emplace_back([&] {
      for (int i = 0; i < 20000; ++i) {
        CgroupPath copy = shared;
        CgroupPath other = copy;
        if (!(other == shared)) std::abort();
      }
    });
  for (auto& t : ts) t.join();
  CHECK(shared == "kubepods/besteffort/pod9");  // still alive and intact (ASan would catch a premature free)
}
