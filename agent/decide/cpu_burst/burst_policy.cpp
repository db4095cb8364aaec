#include "agent/decide/cpu_burst/burst_policy.h"

namespace slo::agent::cpu_burst {

std::string_view to_string(PolicyKind p) {
  switch (p) {
    case PolicyKind::none: return "none";
    case PolicyKind::cpu_burst_only: return "cpuBurstOnly";
    case PolicyKind::cfs_quota_burst_only: return "cfsQuotaBurstOnly";
    case PolicyKind::auto_: return "auto";
  }
  return "none";
}

std::optional<PolicyKind> policy_from_string(std::string_view s) {
  for (auto p : {PolicyKind::none, PolicyKind::cpu_burst_only, PolicyKind::cfs_quota_burst_only, PolicyKind::auto_})
    if (to_string(p) == s) return p;
  return std::nullopt;
}

namespace {

struct IntField {
  const char* key;
  int64_t BurstPolicy::*member;
  int64_t min, max;
  bool node_only;
};

constexpr int64_t kMaxPercent = 100000;
const IntField kIntFields[] = {
    {"cpuBurstPercent", &BurstPolicy::cpu_burst_percent, 0, kMaxPercent, false},
    {"cfsQuotaBurstPercent", &BurstPolicy::cfs_quota_burst_percent, 100, kMaxPercent, false},
    {"cfsQuotaBurstPeriodSeconds", &BurstPolicy::cfs_quota_burst_period_seconds, -1, 86400 * 365, false},
    {"sharePoolThresholdPercent", &BurstPolicy::share_pool_threshold_percent, 1, 100, true},
    {"tickMilliseconds", &BurstPolicy::tick_milliseconds, 10, 10000, true},
    {"scaleDownHoldMilliseconds", &BurstPolicy::scale_down_hold_milliseconds, 0, 3600 * 1000, true},
    {"demandHeadroomPercent", &BurstPolicy::demand_headroom_percent, 100, 1000, true},
};

std::string field_name(std::string_view prefix, std::string_view key) {
  return prefix.empty() ? std::string(key) : std::string(prefix) + "." + std::string(key);
}

}  // namespace

std::optional<std::string> apply_fields(const nlohmann::json& j, BurstPolicy& policy, bool node_level,
                                        std::string_view prefix) {
  if (!j.is_object()) return std::string(prefix.empty() ? "policy" : prefix) + ": must be an object";
  if (auto it = j.find("policy"); it != j.end()) {
    if (!it->is_string()) return field_name(prefix, "policy") + ": must be a string";
    auto p = policy_from_string(it->get<std::string>());
    if (!p)
      return field_name(prefix, "policy") + ": unknown policy '" + it->get<std::string>() +
             "' (none, cpuBurstOnly, cfsQuotaBurstOnly, auto)";
    policy.policy = *p;
  }
  for (const auto& f : kIntFields) {
    auto it = j.find(f.key);
    if (it == j.end() || it->is_null()) continue;
    if (f.node_only && !node_level) continue;  // node-wide setting: a pod cannot change it
    if (!it->is_number_integer()) return field_name(prefix, f.key) + ": must be an integer";
    int64_t v = it->get<int64_t>();
    if (v < f.min) return field_name(prefix, f.key) + ": must be >= " + std::to_string(f.min);
    if (v > f.max) return field_name(prefix, f.key) + ": must be <= " + std::to_string(f.max);
    if (f.member == &BurstPolicy::cfs_quota_burst_period_seconds && v == 0)
      return field_name(prefix, f.key) + ": must be -1 (unlimited) or > 0";
    policy.*f.member = v;
  }
  return std::nullopt;
}

PolicyParse parse_node_policy(const nlohmann::json& merged) {
  PolicyParse out;
  if (merged.is_null()) return out;
  if (!merged.is_object()) {
    out.error = "policy: must be an object";
    return out;
  }
  auto it = merged.find("cpuBurstStrategy");
  if (it == merged.end() || it->is_null()) return out;
  BurstPolicy p;
  if (auto err = apply_fields(*it, p, true, "cpuBurstStrategy")) {
    out.error = err;
    return out;
  }
  out.policy = p;
  return out;
}

PolicyParse apply_annotation(const BurstPolicy& node, std::string_view annotation_json) {
  PolicyParse out{node, std::nullopt};
  auto j = nlohmann::json::parse(annotation_json, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    out.error = "annotation koordinator.sh/cpuBurst: not valid JSON";
    return out;
  }
  BurstPolicy p = node;
  if (auto err = apply_fields(j, p, false, "annotation koordinator.sh/cpuBurst")) {
    out.error = err;
    return out;
  }
  out.policy = p;
  return out;
}

nlohmann::json to_json(const BurstPolicy& p) {
  nlohmann::json j;
  j["policy"] = std::string(to_string(p.policy));
  for (const auto& f : kIntFields) j[f.key] = p.*f.member;
  return j;
}

}  // namespace slo::agent::cpu_burst
