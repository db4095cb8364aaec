#include <catch2/catch.hpp>

#include <chrono>

#include "agent/policy/schedule.h"
#include "agent/policy/scheduled_policy.h"
#include "agent/policy/time_zone.h"

using namespace slo::policy;
using nlohmann::json;
using Clock = std::chrono::system_clock;

namespace {
Clock::time_point utc(int64_t unix_seconds) { return Clock::time_point(std::chrono::seconds(unix_seconds)); }
// 2026-11-30 is a Monday. 00:00 UTC = 1795996800.
constexpr int64_t kMon20261130 = 1795996800;
const char* kZoneinfo = "/usr/share/zoneinfo";
}  // namespace

TEST_CASE("time zones: fixed offsets, UTC and TZif files with DST", "[unit][schedule]") {
  std::string err;
  CHECK(TimeZone::load("+08:00", kZoneinfo, &err)->offset_at(0) == 8 * 3600);
  CHECK(TimeZone::load("-05:30", kZoneinfo, &err)->offset_at(0) == -(5 * 3600 + 1800));
  CHECK(TimeZone::load("UTC", kZoneinfo, &err)->offset_at(12345) == 0);
  auto berlin = TimeZone::load("Europe/Berlin", kZoneinfo, &err);
  REQUIRE(berlin);
  CHECK(berlin->offset_at(kMon20261130) == 3600);           // CET in November
  CHECK(berlin->offset_at(kMon20261130 - 150 * 86400) == 7200);  // CEST in July
  CHECK_FALSE(TimeZone::load("../../etc/passwd", kZoneinfo, &err));
  CHECK(err.find("invalid") != std::string::npos);
  CHECK_FALSE(TimeZone::load("Mars/Olympus_Mons", kZoneinfo, &err));
  CHECK(err.find("unknown time zone") != std::string::npos);
  CHECK_FALSE(TimeZone::from_tzif("x", "not a tzif file at all, definitely not"));
  CHECK_FALSE(TimeZone::from_tzif("x", std::string("TZif2") + std::string(50, '\xff')));
}

TEST_CASE("schedule windows override the base policy inside the window only", "[unit][schedule]") {
  json policy = json::parse(R"({
    "timeZone": "Europe/Berlin",
    "schedule": [{"name": "day", "start": "08:00", "end": "20:00",
                  "overrides": {"resourceThresholdStrategy": {"cpuSuppressThresholdPercent": 25}}}],
    "resourceThresholdStrategy": {"enable": true, "cpuSuppressThresholdPercent": 60}
  })");
  std::string err;
  auto s = Schedule::parse(policy, kZoneinfo, &err);
  REQUIRE(s);
  // 07:59 Berlin = 06:59 UTC: outside; 08:00 Berlin = 07:00 UTC: inside; 19:59 inside; 20:00 outside.
  auto pct = [&](int64_t t) {
    return s->effective(policy, utc(t))["resourceThresholdStrategy"]["cpuSuppressThresholdPercent"].get<int>();
  };
  CHECK(pct(kMon20261130 + 6 * 3600 + 59 * 60) == 60);
  CHECK(pct(kMon20261130 + 7 * 3600) == 25);
  CHECK(pct(kMon20261130 + 18 * 3600 + 59 * 60) == 25);
  CHECK(pct(kMon20261130 + 19 * 3600) == 60);
  // Fields the window does not name are kept; schedule/timeZone are not passed on.
  auto eff = s->effective(policy, utc(kMon20261130 + 12 * 3600));
  CHECK(eff["resourceThresholdStrategy"]["enable"] == true);
  CHECK_FALSE(eff.contains("schedule"));
  CHECK_FALSE(eff.contains("timeZone"));
  // The next boundary from 07:30 Berlin is exactly 08:00 Berlin.
  auto nb = s->next_boundary(utc(kMon20261130 + 6 * 3600 + 30 * 60));
  REQUIRE(nb);
  CHECK(std::chrono::duration_cast<std::chrono::seconds>(nb->time_since_epoch()).count() == kMon20261130 + 7 * 3600);
}

TEST_CASE("windows that wrap past midnight and weekday filters", "[unit][schedule]") {
  json policy = json::parse(R"({
    "schedule": [{"name": "night", "start": "22:00", "end": "06:00", "days": ["Fri"],
                  "overrides": {"x": 1}}]
  })");
  std::string err;
  auto s = Schedule::parse(policy, kZoneinfo, &err);
  REQUIRE(s);
  int64_t fri = kMon20261130 + 4 * 86400;
  CHECK(s->active(utc(fri + 23 * 3600)) == std::vector<std::string>{"night"});  // Fri 23:00
  CHECK(s->active(utc(fri + 86400 + 5 * 3600)) == std::vector<std::string>{"night"});  // Sat 05:00: Friday's night
  CHECK(s->active(utc(fri + 86400 + 23 * 3600)).empty());  // Sat 23:00: not a Friday window
  CHECK(s->active(utc(fri + 12 * 3600)).empty());  // Fri noon
}

TEST_CASE("bad schedules are rejected naming the field", "[unit][schedule]") {
  std::string err;
  CHECK_FALSE(Schedule::parse(json::parse(R"({"schedule":[{"start":"25:00","end":"20:00"}]})"), kZoneinfo, &err));
  CHECK(err.find("schedule[0].start") != std::string::npos);
  CHECK_FALSE(Schedule::parse(json::parse(R"({"schedule":[{"start":"08:00"}]})"), kZoneinfo, &err));
  CHECK(err.find("schedule[0].end") != std::string::npos);
  CHECK_FALSE(Schedule::parse(json::parse(R"({"schedule":[{"start":"08:00","end":"09:00","days":["Funday"]}]})"),
                              kZoneinfo, &err));
  CHECK(err.find("schedule[0].days") != std::string::npos);
  CHECK_FALSE(Schedule::parse(json::parse(R"({"timeZone":"Nowhere/Atlantis"})"), kZoneinfo, &err));
  CHECK(err.find("timeZone") != std::string::npos);
  CHECK_FALSE(Schedule::parse(json::parse(R"({"schedule":{"start":"08:00"}})"), kZoneinfo, &err));
}

TEST_CASE("merge_patch deep-merges objects and deletes with null", "[unit][schedule]") {
  json t = json::parse(R"({"a":{"b":1,"c":2},"d":[1,2]})");
  merge_patch(t, json::parse(R"({"a":{"b":5,"c":null},"d":[3]})"));
  CHECK(t == json::parse(R"({"a":{"b":5},"d":[3]})"));
}

TEST_CASE("scheduled policy: what configure() gets at each instant, variants to validate, describe", "[unit][schedule]") {
  json merged = json::parse(R"({
    "timeZone": "+01:00",
    "schedule": [{"name": "day", "start": "08:00", "end": "20:00",
                  "overrides": {"resourceThresholdStrategy": {"cpuSuppressThresholdPercent": 25}}},
                 {"name": "evening", "start": "18:00", "end": "22:00",
                  "overrides": {"colocationStrategy": {"enable": false}}}],
    "resourceThresholdStrategy": {"cpuSuppressThresholdPercent": 60, "cpuSuppressPolicy": "cpuset"}})");
  std::string err;
  auto sp = slo::policy::ScheduledPolicy::parse(merged, kZoneinfo, &err);
  REQUIRE(sp);
  CHECK(sp->has_windows());
  // 06:59 UTC = 07:59 local: no window. One minute later "day" starts: that instant is the next boundary.
  auto before = utc(kMon20261130 + 6 * 3600 + 59 * 60);
  auto p = sp->at(before);
  CHECK(p["resourceThresholdStrategy"]["cpuSuppressThresholdPercent"] == 60);
  CHECK_FALSE(p.contains("schedule"));
  CHECK_FALSE(p.contains("timeZone"));
  REQUIRE(sp->next_boundary(before));
  CHECK(*sp->next_boundary(before) == utc(kMon20261130 + 7 * 3600));
  auto day = sp->at(utc(kMon20261130 + 7 * 3600));
  CHECK(day["resourceThresholdStrategy"]["cpuSuppressThresholdPercent"] == 25);
  CHECK(day["resourceThresholdStrategy"]["cpuSuppressPolicy"] == "cpuset");  // deep merge keeps the rest
  // 18:30 local: both windows.
  auto both = utc(kMon20261130 + 17 * 3600 + 30 * 60);
  CHECK(sp->active(both) == std::vector<std::string>{"day", "evening"});
  CHECK(sp->at(both)["colocationStrategy"]["enable"] == false);
  auto d = sp->describe(both);
  CHECK(d["timeZone"] == "+01:00");
  CHECK(d["active"] == json::array({"day", "evening"}));
  CHECK(d["nextBoundary"] == kMon20261130 + 19 * 3600);  // 20:00 local, "day" ends
  auto v = sp->variants();
  REQUIRE(v.size() == 4);
  CHECK(v[0].first == "base");
  CHECK(v[1].first == "window 'day'");
  CHECK(v[1].second["resourceThresholdStrategy"]["cpuSuppressThresholdPercent"] == 25);
  CHECK_FALSE(v[1].second.contains("colocationStrategy"));
  CHECK(v[3].first == "all windows");
  CHECK(v[3].second["colocationStrategy"]["enable"] == false);
  // Without windows: the policy minus the two fields, never a boundary.
  auto plain = slo::policy::ScheduledPolicy::parse(json::parse(R"({"timeZone": "UTC", "a": {"b": 1}})"), kZoneinfo, &err);
  REQUIRE(plain);
  CHECK(plain->at(before) == json::parse(R"({"a": {"b": 1}})"));
  CHECK_FALSE(plain->next_boundary(before));
  // Errors name the field.
  CHECK_FALSE(slo::policy::ScheduledPolicy::parse(json::parse(R"({"schedule": [{"start": "25:00", "end": "20:00"}]})"),
                                                  kZoneinfo, &err));
  CHECK(err.rfind("schedule[0].start:", 0) == 0);
  CHECK_FALSE(slo::policy::ScheduledPolicy::parse(json::parse(R"({"timeZone": "Nowhere/Atlantis"})"), kZoneinfo, &err));
  CHECK(err.rfind("timeZone:", 0) == 0);
}
