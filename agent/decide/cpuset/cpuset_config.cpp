#include "agent/decide/cpuset/cpuset_config.h"

#include <cmath>

#include <nlohmann/json.hpp>

namespace slo::cpuset {

std::optional<std::string> parse_cpuset_config(const nlohmann::json& policy, CpusetConfig& out) {
  CpusetConfig c;
  if (!policy.is_object()) {
    if (!policy.is_null()) return "policy: not an object";
    out = c;
    return std::nullopt;
  }
  auto it = policy.find("cpusetStrategy");
  if (it == policy.end() || it->is_null()) {
    out = c;
    return std::nullopt;
  }
  const nlohmann::json& s = *it;
  if (!s.is_object()) return "cpusetStrategy: not an object";
  const std::string p = "cpusetStrategy.";
  for (const auto& [key, v] : s.items()) {
    auto need_bool = [&](bool& dst) -> std::optional<std::string> {
      if (!v.is_boolean()) return p + key + ": must be true or false";
      dst = v.get<bool>();
      return std::nullopt;
    };
    auto need_int = [&](int& dst, int lo, int hi) -> std::optional<std::string> {
      if (!v.is_number_integer() || v.get<int64_t>() < lo || v.get<int64_t>() > hi)
        return p + key + ": must be an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
      dst = static_cast<int>(v.get<int64_t>());
      return std::nullopt;
    };
    std::optional<std::string> err;
    if (key == "enable") {
      err = need_bool(c.enable);
    } else if (key == "reservedCpus") {
      if (!v.is_string()) return p + key + ": must be a CPU list string like \"0-1\"";
      auto set = cg::CpuSet::parse(v.get<std::string>());
      if (!set) return p + key + ": invalid CPU list '" + v.get<std::string>() + "'";
      c.reserved = *set;
    } else if (key == "cpuBindPolicy") {
      auto b = v.is_string() ? bind_policy_from_string(v.get<std::string>()) : std::nullopt;
      if (!b) return p + key + ": must be \"FullPCPUs\" or \"SpreadByPCPUs\"";
      c.bind_policy = *b;
    } else if (key == "unsetQuotaForPinned") {
      err = need_bool(c.unset_quota_for_pinned);
    } else if (key == "respectSchedulerDecision") {
      err = need_bool(c.respect_scheduler_decision);
    } else if (key == "systemPodsUseReserved") {
      err = need_bool(c.system_pods_use_reserved);
    } else if (key == "beMinCpus") {
      err = need_int(c.be_min_cpus, 1, 8192);
    } else if (key == "beMaxGrowthCpusPerTick") {
      err = need_int(c.be_max_growth_cpus_per_tick, 1, 8192);
    } else if (key == "periodSeconds") {
      if (!v.is_number() || v.get<double>() < 0.1 || v.get<double>() > 3600)
        return p + key + ": must be a number in [0.1, 3600]";
      c.period_ms = static_cast<int>(std::lround(v.get<double>() * 1000));
    } else {
      return p + key + ": unknown field";
    }
    if (err) return err;
  }
  out = c;
  return std::nullopt;
}

}  // namespace slo::cpuset
