#include "agent/policy/scheduled_policy.h"

#include <cstdlib>

namespace slo::policy {

std::optional<ScheduledPolicy> ScheduledPolicy::parse(const nlohmann::json& merged, const std::string& zoneinfo_root,
                                                      std::string* error) {
  auto s = Schedule::parse(merged, zoneinfo_root, error);
  if (!s) return std::nullopt;
  ScheduledPolicy p;
  p.merged_ = merged.is_object() ? merged : nlohmann::json::object();
  p.schedule_ = std::move(*s);
  return p;
}

std::string ScheduledPolicy::default_zoneinfo_root() {
  const char* dir = std::getenv("TZDIR");
  return dir && *dir ? dir : "/usr/share/zoneinfo";
}

std::vector<std::pair<std::string, nlohmann::json>> ScheduledPolicy::variants() const {
  nlohmann::json base = merged_;
  base.erase("schedule");
  base.erase("timeZone");
  std::vector<std::pair<std::string, nlohmann::json>> out;
  out.emplace_back("base", base);
  nlohmann::json all = base;
  for (const auto& w : schedule_.windows) {
    nlohmann::json one = base;
    merge_patch(one, w.overrides);
    merge_patch(all, w.overrides);
    out.emplace_back("window '" + w.name + "'", std::move(one));
  }
  if (schedule_.windows.size() > 1) out.emplace_back("all windows", std::move(all));
  return out;
}

nlohmann::json ScheduledPolicy::describe(TimePoint now) const {
  nlohmann::json names = nlohmann::json::array();
  for (const auto& w : schedule_.windows) names.push_back(w.name);
  auto next = next_boundary(now);
  return {{"timeZone", time_zone()},
          {"windows", names},
          {"active", active(now)},
          {"nextBoundary", next ? nlohmann::json(std::chrono::duration_cast<std::chrono::seconds>(
                                                     next->time_since_epoch())
                                                     .count())
                                : nlohmann::json(nullptr)}};
}

}  // namespace slo::policy
