#include <catch2/catch.hpp>

#include "agent/decide/rdt/inspect.h"
#include "tests/rdt/rdt_fixtures.h"

using namespace slo::agent::rdtctl;
using namespace slo::rdt::testing;
using slo::test::TempDir;

TEST_CASE("inspect reports capabilities and class schemata on every tree", "[rdt][inspect]") {
  for (const auto& tree : all_trees()) {
    SECTION(tree) {
      TempDir tmp;
      InspectOptions o;
      o.resctrl_root = copy_tree(tmp, tree);
      o.proc_root = make_proc(tmp, "GenuineIntel");
      auto r = inspect_rdt(o);
      REQUIRE(r.error.empty());
      INFO(r.report.dump(2));
      CHECK(r.report["supported"] == true);
      CHECK(r.report["detected_by"].get<std::string>().rfind("contents", 0) == 0);
      CHECK(r.report["policy_source"] == "defaults");
      REQUIRE(r.report["groups"].size() == 3);
      CHECK(r.report["groups"][2]["group"] == "slo-BE");
      CHECK(r.report["groups"][2]["enabled"] == false);
      CHECK(r.report["capabilities"]["usable_closids"].get<unsigned>() >= 4);
    }
  }
}

TEST_CASE("inspect on resctrl.full with a config file under clusterStrategy", "[rdt][inspect]") {
  TempDir tmp;
  InspectOptions o;
  o.resctrl_root = copy_tree(tmp, "resctrl.full");
  o.proc_root = make_proc(tmp, "GenuineIntel");
  tmp.write("config.json", R"({"clusterStrategy": {"resctrlQOSStrategy": {
      "beClass": {"resctrlQOS": {"enable": true, "catRangeStartPercent": 0, "catRangeEndPercent": 0, "mbaPercent": 35}}}}})");
  o.config_file = tmp.sub("config.json");
  auto r = inspect_rdt(o);
  REQUIRE(r.error.empty());
  const auto& be = r.report["groups"][2];
  CHECK(be["enabled"] == true);
  CHECK(be["schemata"] == nlohmann::json::array({"L3:0=1;1=1;2=1;3=1", "MB:0=40;1=40;2=40;3=40"}));
  CHECK(be["notes"].size() == 2);
  CHECK(r.report["closids_needed"] == 2);
  CHECK(r.report["closids_fit"] == true);
  CHECK(r.report["capabilities"]["resources"]["L3"]["cbm_mask"] == "fffff");
  CHECK(r.report["capabilities"]["resources"]["MB"]["unit"] == "percent");
  CHECK(r.report["capabilities"]["monitoring"]["num_rmids"] == 192);
}

TEST_CASE("inspect without resctrl says so", "[rdt][inspect]") {
  TempDir tmp;
  InspectOptions o;
  o.resctrl_root = tmp.sub("absent");
  auto r = inspect_rdt(o);
  REQUIRE(r.error.empty());
  CHECK(r.report["supported"] == false);
  CHECK(r.report["reason"].get<std::string>().find("resctrl not mounted at") == 0);
}

TEST_CASE("inspect rejects a bad config file naming the field", "[rdt][inspect]") {
  TempDir tmp;
  tmp.write("bad.json", R"({"resctrlQOSStrategy": {"lsClass": {"resctrlQOS": {"catRangeEndPercent": 150}}}})");
  InspectOptions o;
  o.resctrl_root = copy_tree(tmp, "resctrl.l2");
  o.config_file = tmp.sub("bad.json");
  auto r = inspect_rdt(o);
  CHECK(r.error.find("lsClass.resctrlQOS.catRangeEndPercent") != std::string::npos);
  tmp.write("notjson.json", "{");
  o.config_file = tmp.sub("notjson.json");
  CHECK(inspect_rdt(o).error.find("not valid JSON") != std::string::npos);
}
