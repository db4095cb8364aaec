// Policy blocks owned by the colocation controllers, parsed and validated from the merged policy document:
// `resourceThresholdStrategy` (BE suppression, eviction, interference) and `colocationStrategy` (reclaimed
// resources). Field names follow koordinator's slo-controller-config where the meaning is the same.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "agent/decide/colocation/reclaim_estimator.h"

namespace slo::colocation {

enum class SuppressPolicy { cpuset, cfsQuota };

struct ThresholdConfig {
  bool enable = true;
  double cpu_suppress_threshold_percent = 65;
  SuppressPolicy cpu_suppress_policy = SuppressPolicy::cpuset;
  double be_min_cpu_cores = 0.5;          // beMinCPUCores: BE is slowed, never frozen
  double be_max_growth_cores_per_tick = 1.0;  // beMaxGrowthCoresPerTick
  double system_reserved_cores = 0;       // systemReservedCores
  double memory_evict_threshold_percent = 70;
  double memory_evict_lower_percent = 65; // memoryEvictLowerPercent (default threshold − 5)
  int evict_cooldown_seconds = 60;        // evictCooldownSeconds
  double runq_latency_slo_ms = 0;         // runqLatencySLOMillis: 0 = interference signal off
  int period_ms = 200;                    // periodMillis: how often suppression decides (2 CFS periods)
};

struct ReclaimConfig {
  bool enable = true;
  ReclaimSettings settings;
  int64_t system_reserved_memory_bytes = 0;  // systemReservedMemory (quantity)
};

// Parse errors name the field ("resourceThresholdStrategy.cpuSuppressThresholdPercent: must be 0..100").
std::optional<std::string> parse_threshold_config(const nlohmann::json& policy, ThresholdConfig& out);
std::optional<std::string> parse_reclaim_config(const nlohmann::json& policy, ReclaimConfig& out);

}  // namespace slo::colocation
