// A node's merged policy as a function of time. The merged policy (clusterStrategy, the matching nodeStrategies
// entry and the ColocationPolicy specs, merged in that order) may carry two top-level fields besides its strategy
// blocks: `timeZone` and `schedule` (see schedule.h). They merge like any other field — a later source's
// `schedule` list replaces an earlier one whole, and a `timeZone` set once in clusterStrategy holds for windows
// defined elsewhere — and the windows are applied after the merge, so an active window wins over every source's
// base value. What the controllers' configure() gets is at(now): the policy without those two fields, with the
// overrides of the windows active now merged over it.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/policy/schedule.h"

namespace slo::policy {

class ScheduledPolicy {
 public:
  using TimePoint = std::chrono::system_clock::time_point;

  // Errors name the field ("schedule[1].start: '25:00' is not a time HH:MM (00:00–23:59)").
  static std::optional<ScheduledPolicy> parse(const nlohmann::json& merged, const std::string& zoneinfo_root,
                                              std::string* error);
  // $TZDIR when set (the variable glibc reads), else /usr/share/zoneinfo.
  static std::string default_zoneinfo_root();

  nlohmann::json at(TimePoint now) const { return schedule_.effective(merged_, now); }
  std::vector<std::string> active(TimePoint now) const { return schedule_.active(now); }
  std::optional<TimePoint> next_boundary(TimePoint now) const { return schedule_.next_boundary(now); }
  bool has_windows() const { return !schedule_.windows.empty(); }
  const std::string& time_zone() const { return schedule_.zone.name(); }

  // What a config check must accept besides at(now) for every now: the base policy (no window active), each
  // window alone, and all windows at once. Labels say which ("base", "window 'day'", "all windows").
  std::vector<std::pair<std::string, nlohmann::json>> variants() const;
  // For sloctl config: time zone, window names, the active ones and the next boundary (Unix seconds, or null).
  nlohmann::json describe(TimePoint now) const;

 private:
  nlohmann::json merged_;
  Schedule schedule_;
};

}  // namespace slo::policy
