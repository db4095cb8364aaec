#include <catch2/catch.hpp>

#include "agent/decide/rdt/policy.h"

using namespace slo::agent::rdtctl;
using nlohmann::json;

TEST_CASE("defaults follow koordinator: all classes off, BE 0-30 %", "[rdt][policy]") {
  auto p = parse_policy_document(json::object());
  REQUIRE(p.policy);
  CHECK_FALSE(p.policy->lsr.enable);
  CHECK_FALSE(p.policy->be.enable);
  CHECK(p.policy->be.alloc.cat_end_percent == 30);
  CHECK(p.policy->ls.alloc.cat_end_percent == 100);
  CHECK(p.policy->monitor_interval == std::chrono::seconds(10));
}

TEST_CASE("koordinator-shaped section, at top level or under clusterStrategy", "[rdt][policy]") {
  json section = json::parse(R"({
    "lsrClass": {"resctrlQOS": {"enable": true, "catRangeStartPercent": 0, "catRangeEndPercent": 100, "mbaPercent": 100}},
    "lsClass":  {"resctrlQOS": {"enable": true}},
    "beClass":  {"resctrlQOS": {"enable": true, "catRangeStartPercent": 10, "catRangeEndPercent": 40, "mbaPercent": 30}},
    "monitorIntervalSeconds": 2.5
  })");
  for (const json& doc : {json{{"resctrlQOSStrategy", section}}, json{{"clusterStrategy", {{"resctrlQOSStrategy", section}}}}}) {
    auto p = parse_policy_document(doc);
    REQUIRE(p.policy);
    CHECK(p.policy->lsr.enable);
    CHECK(p.policy->ls.enable);
    CHECK(p.policy->ls.alloc.cat_end_percent == 100);  // unspecified → default
    CHECK(p.policy->be.alloc.cat_start_percent == 10);
    CHECK(p.policy->be.alloc.cat_end_percent == 40);
    CHECK(p.policy->be.alloc.mba_percent == 30);
    CHECK(p.policy->monitor_interval == std::chrono::milliseconds(2500));
  }
}

TEST_CASE("bad values are rejected naming the field", "[rdt][policy]") {
  auto err = [](const char* text) {
    auto p = parse_policy_section(json::parse(text));
    CHECK_FALSE(p.policy);
    return p.error;
  };
  CHECK(err(R"({"beClass": {"resctrlQOS": {"catRangeEndPercent": 101}}})") ==
        "resctrlQOSStrategy.beClass.resctrlQOS.catRangeEndPercent: must be an integer in 0..100 (got 101)");
  CHECK(err(R"({"lsClass": {"resctrlQOS": {"mbaPercent": -1}}})").find("lsClass.resctrlQOS.mbaPercent") !=
        std::string::npos);
  CHECK(err(R"({"lsClass": {"resctrlQOS": {"mbaPercent": "50"}}})").find("mbaPercent: must be an integer") !=
        std::string::npos);
  CHECK(err(R"({"lsClass": {"resctrlQOS": {"mbaPercent": 50.5}}})").find("mbaPercent") != std::string::npos);
  CHECK(err(R"({"beClass": {"resctrlQOS": {"catRangeStartPercent": 60, "catRangeEndPercent": 40}}})")
            .find("beClass.resctrlQOS.catRangeStartPercent: must not exceed catRangeEndPercent") != std::string::npos);
  CHECK(err(R"({"lsrClass": {"resctrlQOS": {"enable": "yes"}}})") ==
        "resctrlQOSStrategy.lsrClass.resctrlQOS.enable: must be true or false");
  CHECK(err(R"({"lsrClass": 3})") == "resctrlQOSStrategy.lsrClass: must be an object");
  CHECK(err(R"({"monitorIntervalSeconds": 0})").find("resctrlQOSStrategy.monitorIntervalSeconds") == 0);
  CHECK(err(R"([1])") == "resctrlQOSStrategy: must be an object");
  auto nested = parse_policy_document(json::parse(R"({"clusterStrategy": {"resctrlQOSStrategy": {"beClass": {"resctrlQOS": {"mbaPercent": 200}}}}})"));
  CHECK(nested.error.find("clusterStrategy.resctrlQOSStrategy.beClass") == 0);
}

TEST_CASE("policy round-trips through to_json", "[rdt][policy]") {
  RdtPolicy p;
  p.be.enable = true;
  p.be.alloc = {5, 25, 40};
  auto back = parse_policy_section(to_json(p));
  REQUIRE(back.policy);
  CHECK(back.policy->be.enable);
  CHECK(back.policy->be.alloc.cat_start_percent == 5);
  CHECK(back.policy->be.alloc.mba_percent == 40);
}
