#include "agent/decide/colocation/colocation_config.h"

#include "agent/model/quantity.h"

namespace slo::colocation {
namespace {

using nlohmann::json;

// Reads an optional number field within [lo, hi]; returns an error naming block.field.
std::optional<std::string> number(const json& block, const std::string& prefix, const char* field, double lo,
                                  double hi, double& out) {
  auto it = block.find(field);
  if (it == block.end() || it->is_null()) return std::nullopt;
  if (!it->is_number()) return prefix + field + ": must be a number";
  double v = it->get<double>();
  if (v < lo || v > hi)
    return prefix + field + ": " + it->dump() + " is out of range [" + json(lo).dump() + ", " + json(hi).dump() + "]";
  out = v;
  return std::nullopt;
}

std::optional<std::string> boolean(const json& block, const std::string& prefix, const char* field, bool& out) {
  auto it = block.find(field);
  if (it == block.end() || it->is_null()) return std::nullopt;
  if (!it->is_boolean()) return prefix + field + ": must be true or false";
  out = it->get<bool>();
  return std::nullopt;
}

const json* block_of(const json& policy, const char* name, std::string* error) {
  if (!policy.is_object()) return nullptr;
  auto it = policy.find(name);
  if (it == policy.end() || it->is_null()) return nullptr;
  if (!it->is_object()) {
    *error = std::string(name) + ": must be an object";
    return nullptr;
  }
  return &*it;
}

}  // namespace

std::optional<std::string> parse_threshold_config(const json& policy, ThresholdConfig& out) {
  ThresholdConfig c;
  std::string err;
  const json* b = block_of(policy, "resourceThresholdStrategy", &err);
  if (!err.empty()) return err;
  if (b) {
    const std::string p = "resourceThresholdStrategy.";
    double evict = -1, lower = -1, cooldown = c.evict_cooldown_seconds, period = c.period_ms;
    for (auto e : {boolean(*b, p, "enable", c.enable),
                   number(*b, p, "cpuSuppressThresholdPercent", 0, 100, c.cpu_suppress_threshold_percent),
                   number(*b, p, "beMinCPUCores", 0, 4096, c.be_min_cpu_cores),
                   number(*b, p, "beMaxGrowthCoresPerTick", 0.01, 4096, c.be_max_growth_cores_per_tick),
                   number(*b, p, "systemReservedCores", 0, 4096, c.system_reserved_cores),
                   number(*b, p, "memoryEvictThresholdPercent", 1, 100, evict),
                   number(*b, p, "memoryEvictLowerPercent", 0, 100, lower),
                   number(*b, p, "evictCooldownSeconds", 0, 86400, cooldown),
                   number(*b, p, "runqLatencySLOMillis", 0, 10000, c.runq_latency_slo_ms),
                   number(*b, p, "periodMillis", 10, 60000, period)})
      if (e) return e;
    if (auto it = b->find("cpuSuppressPolicy"); it != b->end() && !it->is_null()) {
      std::string v = it->is_string() ? it->get<std::string>() : "";
      if (v == "cpuset")
        c.cpu_suppress_policy = SuppressPolicy::cpuset;
      else if (v == "cfsQuota")
        c.cpu_suppress_policy = SuppressPolicy::cfsQuota;
      else
        return p + "cpuSuppressPolicy: " + it->dump() + " is not one of cpuset, cfsQuota";
    }
    if (evict >= 0) c.memory_evict_threshold_percent = evict;
    c.memory_evict_lower_percent = lower >= 0 ? lower : std::max(0.0, c.memory_evict_threshold_percent - 5);
    if (c.memory_evict_lower_percent >= c.memory_evict_threshold_percent)
      return p + "memoryEvictLowerPercent: must be below memoryEvictThresholdPercent";
    c.evict_cooldown_seconds = static_cast<int>(cooldown);
    c.period_ms = static_cast<int>(period);
  }
  out = c;
  return std::nullopt;
}

std::optional<std::string> parse_reclaim_config(const json& policy, ReclaimConfig& out) {
  ReclaimConfig c;
  std::string err;
  const json* b = block_of(policy, "colocationStrategy", &err);
  if (!err.empty()) return err;
  if (b) {
    const std::string p = "colocationStrategy.";
    auto& s = c.settings;
    double degrade = static_cast<double>(s.degrade_after.count());
    double cold = static_cast<double>(s.cold_start.count());
    for (auto e : {boolean(*b, p, "enable", c.enable),
                   number(*b, p, "cpuReclaimThresholdPercent", 0, 100, s.cpu_reclaim_threshold_percent),
                   number(*b, p, "memoryReclaimThresholdPercent", 0, 100, s.memory_reclaim_threshold_percent),
                   number(*b, p, "degradeTimeMinutes", 1, 10080, degrade),
                   number(*b, p, "coldStartSeconds", 0, 86400, cold),
                   number(*b, p, "usageMargin", 1, 10, s.margin)})
      if (e) return e;
    s.degrade_after = std::chrono::minutes(static_cast<int64_t>(degrade));
    s.cold_start = std::chrono::seconds(static_cast<int64_t>(cold));
    for (auto [field, dst] : {std::pair{"cpuCalculatePolicy", &s.cpu_policy},
                              std::pair{"memoryCalculatePolicy", &s.memory_policy}}) {
      auto it = b->find(field);
      if (it == b->end() || it->is_null()) continue;
      auto pol = it->is_string() ? reclaim_policy_from_string(it->get<std::string>()) : std::nullopt;
      if (!pol) return p + field + ": " + it->dump() + " is not one of usage, request, maxUsageRequest";
      *dst = *pol;
    }
    if (auto it = b->find("systemReservedMemory"); it != b->end() && !it->is_null()) {
      auto v = it->is_string() ? model::parse_bytes(it->get<std::string>())
               : it->is_number_integer() ? std::optional<int64_t>(it->get<int64_t>()) : std::nullopt;
      if (!v || *v < 0) return p + "systemReservedMemory: " + it->dump() + " is not a quantity";
      c.system_reserved_memory_bytes = *v;
    }
  }
  out = c;
  return std::nullopt;
}

}  // namespace slo::colocation
