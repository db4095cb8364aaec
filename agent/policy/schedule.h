// Schedule windows in the policy itself ("08:00–20:00 → 25 %, otherwise 60 %"), so that no CronJob has to rewrite
// a ConfigMap twice a day. A window carries any strategy fields as `overrides`; while it is active they are deep-
// merged over the base policy. Windows are evaluated in the policy's time zone; end < start wraps past midnight.
//
//   { "timeZone": "Europe/Berlin",
//     "schedule": [ { "name": "day", "start": "08:00", "end": "20:00", "days": ["Mon", …],
//                     "overrides": { "resourceThresholdStrategy": { "cpuSuppressThresholdPercent": 25 } } } ],
//     "resourceThresholdStrategy": { "cpuSuppressThresholdPercent": 60 } }
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/policy/time_zone.h"

namespace slo::policy {

struct ScheduleWindow {
  std::string name;
  int start_minute = 0;  // minutes after local midnight
  int end_minute = 0;
  unsigned days = 0x7f;  // bit 0 = Monday … bit 6 = Sunday (the day the window starts)
  nlohmann::json overrides = nlohmann::json::object();
};

struct Schedule {
  TimeZone zone = TimeZone::utc();
  std::vector<ScheduleWindow> windows;

  // Reads "timeZone" and "schedule" from a policy document. Errors name the field ("schedule[1].start: …").
  static std::optional<Schedule> parse(const nlohmann::json& policy, const std::string& zoneinfo_root,
                                       std::string* error);

  // Names of the windows active at `now`, in declaration order.
  std::vector<std::string> active(std::chrono::system_clock::time_point now) const;
  // The base policy (without timeZone/schedule) with the overrides of the active windows merged over it, later
  // windows winning.
  nlohmann::json effective(const nlohmann::json& policy, std::chrono::system_clock::time_point now) const;
  // The next instant after `now` at which the set of active windows may change (a window edge or a UTC offset
  // change); nullopt without windows.
  std::optional<std::chrono::system_clock::time_point> next_boundary(std::chrono::system_clock::time_point now) const;
};

// RFC 7386-style deep merge: objects merge key by key, anything else replaces; null deletes.
void merge_patch(nlohmann::json& target, const nlohmann::json& patch);

}  // namespace slo::policy
