// The colocation controllers inside the real Agent on a synthetic node (agent_world.h): schedule windows applied
// at their boundary (time driven through the injectable wall clock), hot reload, config errors naming the schedule
// field, the ColocationPolicy examples.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <thread>

#include "agent/runtime/config.h"
#include "tests/controllers/colocation/agent_world.h"

using namespace slo;
using namespace std::chrono_literals;
using test::kMon;
using test::utc;

namespace {

std::string schedule_config(int day_percent) {
  return "agent:\n  nodeName: node-1\n  tickMs: 20\n  statsIntervalMs: 100\n"
         "  controllers: {enabled: [BeSuppressionController]}\n"
         "clusterStrategy:\n"
         "  timeZone: \"+01:00\"\n"
         "  schedule:\n"
         "    - {name: day, start: \"08:00\", end: \"20:00\",\n"
         "       overrides: {resourceThresholdStrategy: {cpuSuppressThresholdPercent: " +
         std::to_string(day_percent) +
         "}}}\n"
         "  resourceThresholdStrategy: {cpuSuppressThresholdPercent: 60, cpuSuppressPolicy: cfsQuota,\n"
         "                              beMinCPUCores: 0.1, beMaxGrowthCoresPerTick: 100}\n";
}

}  // namespace

TEST_CASE("agent: schedule windows reconfigure the controllers at the boundary; reload applies at once",
          "[unit][colocation][schedule]") {
  test::World w;
  w.config(schedule_config(25));
  agent::Agent a(w.options());
  auto err = a.init();
  INFO(err.value_or(""));
  REQUIRE_FALSE(err);
  REQUIRE(a.sync_pods_now());
  // 07:59:30 local: no window. Budget 24 × 60 % = 14.4 cores → tier quota 1 440 000 µs per 100 ms period.
  a.tick(true, true);
  CHECK(a.active_windows().empty());
  CHECK(a.applied_policy()["resourceThresholdStrategy"]["cpuSuppressThresholdPercent"] == 60);
  CHECK_FALSE(a.applied_policy().contains("schedule"));
  CHECK(w.be_tier_quota() == 1440000);
  // Still before the boundary: nothing changes.
  w.wall = utc(kMon + 6 * 3600 + 59 * 60 + 59);
  a.tick(true);
  CHECK(w.be_tier_quota() == 1440000);
  // 08:00:00 local: the "day" window starts. The next tick reconfigures and the budget follows: 24 × 25 % = 6.
  w.wall = utc(kMon + 7 * 3600);
  a.tick(false);
  CHECK(a.active_windows() == std::vector<std::string>{"day"});
  CHECK(a.applied_policy()["resourceThresholdStrategy"]["cpuSuppressThresholdPercent"] == 25);
  a.tick(false);
  CHECK(w.be_tier_quota() == 600000);
  auto cfg = a.queries()->config();
  CHECK(cfg["effective"]["schedule"]["active"] == nlohmann::json::array({"day"}));
  CHECK(cfg["effective"]["schedule"]["timeZone"] == "+01:00");
  CHECK(cfg["effective"]["schedule"]["nextBoundary"] == kMon + 19 * 3600);  // 20:00 local
  CHECK(cfg["effective"]["policy"]["resourceThresholdStrategy"]["cpuSuppressThresholdPercent"] == 25);
  // Hot reload inside the window: the new window value holds at once, no boundary needed.
  w.config(schedule_config(40));
  REQUIRE(a.reload_config());
  a.tick(true);
  CHECK(w.be_tier_quota() == 960000);  // 24 × 40 %
  // 20:00 local: the window ends, back to the base.
  w.wall = utc(kMon + 19 * 3600);
  a.tick(false);
  a.tick(false);
  CHECK(a.active_windows().empty());
  CHECK(w.be_tier_quota() == 1440000);
  // A broken window is rejected with the field named; the last good config keeps running.
  w.config("agent:\n  nodeName: node-1\n  controllers: {enabled: [BeSuppressionController]}\nclusterStrategy:\n"
           "  schedule: [{name: x, start: \"25:00\", end: \"20:00\"}]\n");
  CHECK_FALSE(a.reload_config());
  CHECK(a.last_config_error().find("schedule[0].start") != std::string::npos);
  a.tick(true);
  CHECK(w.be_tier_quota() == 1440000);
}

TEST_CASE("config check: schedule errors name the field, windows are validated by the controllers, CR windows load",
          "[unit][colocation][schedule]") {
  test::TempDir tmp;
  auto load = [&](const std::string& text, const std::string& policy_dir = "") {
    tmp.write("c.yaml", text);
    std::string err;
    auto c = agent::load_config(tmp.sub("c.yaml"), policy_dir, {}, err);
    return std::make_pair(c.has_value(), err);
  };
  auto [ok1, e1] = load("clusterStrategy:\n  timeZone: Nowhere/Atlantis\n  schedule: []\n");
  CHECK_FALSE(ok1);
  CHECK(e1.find("timeZone") != std::string::npos);
  auto [ok2, e2] = load("clusterStrategy:\n  schedule:\n    - {name: day, start: \"08:00\", end: \"20:00\",\n"
                        "       overrides: {resourceThresholdStrategy: {cpuSuppressThresholdPercent: 140}}}\n");
  CHECK_FALSE(ok2);
  CHECK(e2.find("resourceThresholdStrategy.cpuSuppressThresholdPercent") != std::string::npos);
  CHECK(e2.find("window 'day'") != std::string::npos);
  auto [ok3, e3] = load("agent: {zoneinfoDir: /nonexistent}\nclusterStrategy: {timeZone: Europe/Berlin}\n");
  CHECK_FALSE(ok3);
  CHECK(e3.find("/nonexistent/Europe/Berlin") != std::string::npos);
  // The ColocationPolicy example carries timeZone and schedule in its spec: accepted.
  std::string src = std::getenv("SLO_SOURCE_ROOT") ? std::getenv("SLO_SOURCE_ROOT") : ".";
  tmp.mkdirs("good");
  std::filesystem::copy_file(src + "/crd/examples/colocationpolicy-daytime.yaml", tmp.sub("good/p.yaml"));
  auto [ok4, e4] = load("agent: {nodeLabels: {node-pool: web}}\n", tmp.sub("good"));
  INFO(e4);
  CHECK(ok4);
  tmp.mkdirs("bad");
  std::filesystem::copy_file(src + "/crd/examples/invalid/colocationpolicy-bad-window.yaml", tmp.sub("bad/p.yaml"));
  auto [ok5, e5] = load("agent: {}\n", tmp.sub("bad"));
  CHECK_FALSE(ok5);
  CHECK(e5.find("schedule[0].start") != std::string::npos);
}

