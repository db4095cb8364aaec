#include <catch2/catch.hpp>

#include "rdt/monitor.h"
#include "tests/rdt/rdt_fixtures.h"

using namespace slo::rdt;
using namespace slo::rdt::testing;
using slo::test::TempDir;

TEST_CASE("monitoring values of the root group and a control group (resctrl.full)", "[rdt][monitor]") {
  TempDir tmp;
  auto dir = open_fake_root(copy_tree(tmp, "resctrl.full", true));
  auto root = read_group_monitoring(dir, "");
  REQUIRE(root.ok());
  REQUIRE(root.value.domains.size() == 4);
  CHECK(root.value.domains[0].domain == 0);
  CHECK(root.value.domains[0].llc_occupancy == 32440320u);
  CHECK(root.value.domains[0].mbm_total_bytes == 264830976u);
  CHECK(root.value.domains[0].mbm_local_bytes == 48365568u);
  CHECK(root.value.unavailable == 0);

  auto g = read_group_monitoring(dir, "goresctrl.Guaranteed");  // has an invented xxx_new_metric: ignored
  REQUIRE(g.ok());
  REQUIRE(g.value.domains.size() == 4);
  CHECK(g.value.domains[0].llc_occupancy == 100u);
  CHECK(g.value.domains[0].mbm_local_bytes == 101u);
  CHECK(g.value.domains[0].mbm_total_bytes == 102u);
}

TEST_CASE("monitoring on every tree: mon_data where L3_MON exists, gone otherwise", "[rdt][monitor]") {
  for (const auto& tree : all_trees()) {
    SECTION(tree) {
      TempDir tmp;
      std::string path = copy_tree(tmp, tree);
      auto dir = open_fake_root(path);
      bool has_mon = dir.exists("info/L3_MON");
      bool has_data = dir.exists("mon_data");
      auto s = read_group_monitoring(dir, "");
      if (has_data) {
        REQUIRE(s.ok());
        CHECK(has_mon);
        CHECK_FALSE(s.value.domains.empty());
        for (const auto& d : s.value.domains) CHECK(d.llc_occupancy.has_value());
      } else {
        CHECK(s.gone());  // l2, l2cdp, l2l3mb carry no mon_data in the fixture
      }
    }
  }
}

TEST_CASE("Unavailable and Error read as missing values and are counted", "[rdt][monitor]") {
  TempDir tmp;
  auto dir = open_fake_root(copy_tree(tmp, "resctrl.nomb"));
  tmp.write("resctrl/mon_data/mon_L3_01/mbm_total_bytes", "Unavailable\n");
  tmp.write("resctrl/mon_data/mon_L3_02/llc_occupancy", "Error\n");
  auto s = read_group_monitoring(dir, "");
  REQUIRE(s.ok());
  CHECK(s.value.unavailable == 2);
  CHECK_FALSE(s.value.domains[1].mbm_total_bytes.has_value());
  CHECK(s.value.domains[1].llc_occupancy.has_value());
  CHECK_FALSE(s.value.domains[2].llc_occupancy.has_value());
}

TEST_CASE("a vanished group is gone, not an error", "[rdt][monitor]") {
  TempDir tmp;
  auto dir = open_fake_root(copy_tree(tmp, "resctrl.full"));
  auto s = read_group_monitoring(dir, "slo-BE");
  CHECK(s.gone());
}

TEST_CASE("monitoring value parsing", "[rdt][monitor]") {
  bool u = false;
  CHECK(parse_mon_value("123\n", &u) == 123u);
  CHECK_FALSE(u);
  CHECK_FALSE(parse_mon_value("Unavailable\n", &u).has_value());
  CHECK(u);
  CHECK_FALSE(parse_mon_value("12x", &u).has_value());
  CHECK_FALSE(u);
}

TEST_CASE("the monitoring rate limiter allows one batch per interval", "[rdt][monitor]") {
  MonitorRateLimiter lim(std::chrono::milliseconds(1000));
  auto t0 = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
  CHECK(lim.due(t0));
  CHECK_FALSE(lim.due(t0 + std::chrono::milliseconds(999)));
  CHECK(lim.due(t0 + std::chrono::milliseconds(1000)));
  CHECK_FALSE(lim.due(t0 + std::chrono::milliseconds(1500)));
  lim.set_interval(std::chrono::milliseconds(100));
  CHECK(lim.due(t0 + std::chrono::milliseconds(1500)));
}
