#include <catch2/catch.hpp>

#include "rdt/schemata.h"

using namespace slo::rdt;

TEST_CASE("schemata parse right-aligned names and padded MB values", "[rdt][schemata]") {
  auto p = parse_schemata("    MB:0=  100;1=  100\n    L2:0=0ffff;1=0ffff\n    L3:0=fffff;1=fffff\n");
  REQUIRE(p.errors.empty());
  CHECK(p.schemata.resources.at("MB").at(1) == "100");
  CHECK(p.schemata.resources.at("L2").at(0) == "0ffff");
  CHECK(p.schemata.domains("L3") == std::vector<int>{0, 1});
  // Canonical order: L3 before L2 before MB, whatever the kernel printed.
  CHECK(render_schemata(p.schemata) == "L3:0=fffff;1=fffff\nL2:0=0ffff;1=0ffff\nMB:0=100;1=100\n");
}

TEST_CASE("schemata keep sparse cache ids in ascending order", "[rdt][schemata]") {
  auto p = parse_schemata("L3:16=ff;0=ff;23=ff;7=ff\n");
  REQUIRE(p.errors.empty());
  CHECK(p.schemata.domains("L3") == std::vector<int>{0, 7, 16, 23});
  CHECK(render_schemata(p.schemata) == "L3:0=ff;7=ff;16=ff;23=ff\n");
}

TEST_CASE("CDP lines render code before data", "[rdt][schemata]") {
  auto p = parse_schemata("L3DATA:0=001ff\nL3CODE:0=001ff\n");
  CHECK(render_schemata(p.schemata) == "L3CODE:0=001ff\nL3DATA:0=001ff\n");
}

TEST_CASE("malformed schemata lines are reported and skipped", "[rdt][schemata]") {
  auto p = parse_schemata("L3:0=ff;1\nMB:0=100\nnonsense\n");
  CHECK(p.errors.size() == 2);
  CHECK(p.schemata.has("MB"));
  CHECK_FALSE(p.schemata.has("L3"));
}

TEST_CASE("schemata comparison is numeric per resource", "[rdt][schemata]") {
  auto cur = parse_schemata("    L3:0=00fff;1=fffff\n    MB:0=  100;1=   50\n").schemata;
  auto want = parse_schemata("L3:0=fff;1=fffff\nMB:0=100;1=50\n").schemata;
  CHECK(schemata_satisfied(cur, want));
  want.resources["MB"][1] = "60";
  CHECK_FALSE(schemata_satisfied(cur, want));
  auto l2 = parse_schemata("L2:0=ff\n").schemata;
  CHECK_FALSE(schemata_satisfied(cur, l2));  // resource missing in current
}
