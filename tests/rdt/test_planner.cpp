#include <catch2/catch.hpp>

#include "agent/decide/rdt/planner.h"
#include "tests/rdt/rdt_fixtures.h"

using namespace slo::agent::rdtctl;
using namespace slo::rdt::testing;
using slo::model::QosClass;
using slo::test::TempDir;

namespace {

slo::rdt::Info full_info(const TempDir& tmp) {
  auto info = slo::rdt::read_info(open_fake_root(copy_tree(tmp, "resctrl.full")), {make_proc(tmp, "GenuineIntel"), ""});
  if (!info.ok()) FAIL(info.status.describe());
  return info.value;
}

RdtPolicy all_on() {
  RdtPolicy p;
  p.lsr.enable = p.ls.enable = p.be.enable = true;
  return p;
}

}  // namespace

TEST_CASE("pods map to class groups: LSE→LSR, SYSTEM→root, annotation overrides", "[rdt][planner]") {
  TempDir tmp;
  auto info = full_info(tmp);
  std::vector<PodInput> pods{
      {"ns/lse", QosClass::LSE, std::nullopt, {"kubepods/pod1/c1"}},
      {"ns/lsr", QosClass::LSR, std::nullopt, {"kubepods/pod2/c1", "kubepods/pod2/c2"}},
      {"ns/ls", QosClass::LS, std::nullopt, {"kubepods/burstable/pod3/c1"}},
      {"ns/be", QosClass::BE, std::nullopt, {"kubepods/besteffort/pod4/c1", ""}},
      {"kube-system/sys", QosClass::SYSTEM, std::nullopt, {"kubepods/pod5/c1"}},
      {"ns/ls-as-be", QosClass::LS, std::string("BE"), {"kubepods/burstable/pod6/c1"}},
      {"ns/be-opt-out", QosClass::BE, std::string("none"), {"kubepods/besteffort/pod7/c1"}},
      {"ns/typo", QosClass::BE, std::string("bestest"), {"kubepods/besteffort/pod8/c1"}},
  };
  Plan plan = make_plan(info, all_on(), pods, "slo-");
  REQUIRE(plan.groups.size() == 3);
  CHECK(plan.group(RdtClass::LSR)->pods == std::vector<std::string>{"ns/lse", "ns/lsr"});
  CHECK(plan.group(RdtClass::LSR)->cgroups.size() == 3);
  CHECK(plan.group(RdtClass::LS)->pods == std::vector<std::string>{"ns/ls"});
  CHECK(plan.group(RdtClass::BE)->pods == std::vector<std::string>{"ns/be", "ns/ls-as-be", "ns/typo"});
  CHECK(plan.group(RdtClass::BE)->cgroups.size() == 3);  // the empty cgroup is skipped
  CHECK(plan.pod_reason["kube-system/sys"].find("root group (qos SYSTEM)") == 0);
  CHECK(plan.pod_reason["ns/be-opt-out"].find("root group (annotation rdt.slo-agent.io/class=none)") == 0);
  CHECK(plan.pod_reason["ns/typo"].find("not understood") != std::string::npos);
  CHECK(plan.pod_reason["ns/ls-as-be"] == "group slo-BE (annotation rdt.slo-agent.io/class=BE)");
  CHECK(plan.closids_needed == 4);
  CHECK(slo::rdt::render_schemata(plan.group(RdtClass::BE)->schemata) ==
        "L3:0=3f;1=3f;2=3f;3=3f\nMB:0=100;1=100;2=100;3=100\n");
}

TEST_CASE("a disabled class keeps its pods in the root group", "[rdt][planner]") {
  TempDir tmp;
  auto info = full_info(tmp);
  RdtPolicy p;
  p.be.enable = true;
  Plan plan = make_plan(info, p, {{"ns/ls", QosClass::LS, std::nullopt, {"a"}}, {"ns/be", QosClass::BE, std::nullopt, {"b"}}},
                        "slo-");
  CHECK_FALSE(plan.group(RdtClass::LS)->enabled);
  CHECK(plan.group(RdtClass::LS)->pods.empty());
  CHECK(plan.pod_reason["ns/ls"].find("resctrlQOS disabled") != std::string::npos);
  CHECK(plan.group(RdtClass::BE)->cgroups == std::vector<std::string>{"b"});
  CHECK(plan.closids_needed == 2);
}

TEST_CASE("a class whose range cannot be expressed is disabled with an error", "[rdt][planner]") {
  TempDir tmp;
  auto info = full_info(tmp);
  info.caches[0].rules.min_cbm_bits = 30;  // more than the 20 ways
  Plan plan = make_plan(info, all_on(), {}, "slo-");
  CHECK(plan.errors.size() == 3);
  CHECK(plan.errors[0].find("lsrClass: L3:") == 0);
  CHECK_FALSE(plan.group(RdtClass::BE)->enabled);
}
