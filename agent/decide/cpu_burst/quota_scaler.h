// The dynamic CFS quota of one container: raise at once to the measured demand when throttled, hold while the
// container keeps using it, step back to the original when it stops. Pure state machine; the controller feeds it one
// CpuWindow per tick.
//
// Why one step: CFS throttling is decided per 100 ms period, so a request that needs more than the quota is delayed
// by a whole period each time it runs out. Koordinator's ×1.2-per-second steps need several seconds to reach a
// burst's demand, long after the burst is over. The kernel tells us the demand directly: in v1, throttled_time is
// summed over the per-CPU run queues, so (usage + throttled time) / Δt ≈ the CPUs' worth of threads that wanted to
// run.
//
// Budget: a token bucket of CPU-seconds above the original limit. Capacity = cfsQuotaBurstPeriodSeconds × (maximum
// − original) cores; it refills with the unused part of the original limit and drains with use above it, so over a
// long run the container's average stays within its limit plus the bucket. Empty bucket → original quota until it
// has refilled a tenth.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "agent/decide/cpu_burst/cpu_window.h"
#include "agent/decide/cpu_burst/node_guard.h"

namespace slo::agent::cpu_burst {

struct ScalerLimits {
  int64_t period_us = 100000;
  int64_t original_quota_us = 0;  // > 0
  int64_t max_quota_us = 0;       // original × cfsQuotaBurstPercent / 100
  double budget_seconds = -1;     // cfsQuotaBurstPeriodSeconds; < 0 = unlimited
  std::chrono::milliseconds hold{3000};
  double headroom = 1.2;
};

struct ScalerStep {
  int64_t quota_us = 0;
  bool changed = false;  // quota differs from the previous tick's
  bool raised = false;   // this step raised the quota
  // Why the quota has its value (the last change, or "original"): a view of the scaler's reason(), valid until its
  // next update (the scaler is called every tick for every managed container: no copy).
  std::string_view reason;
};

class QuotaScaler {
 public:
  // Usage at or above this fraction of the current quota counts as pressure (the container is using what it got).
  static constexpr double kPressureFraction = 0.9;
  // Usage at or above this fraction of the quota over a tick counts as throttled (not yet accounted by the kernel).
  static constexpr double kAtLimitFraction = 0.95;
  // Kernel minimum for cpu.cfs_quota_us.
  static constexpr int64_t kMinQuotaUs = 1000;

  ScalerStep update(const std::optional<CpuWindow>& w, const ScalerLimits& lim, GuardState guard,
                    std::chrono::steady_clock::time_point now);

  int64_t quota_us() const { return quota_us_; }
  // Remaining budget in CPU-seconds above the original limit (nullopt = unlimited).
  std::optional<double> budget_left() const { return tokens_; }
  const std::string& reason() const { return reason_; }

 private:
  void settle_budget(const CpuWindow& w, const ScalerLimits& lim);
  bool at_limit(const CpuWindow& w, const ScalerLimits& lim) const;
  std::string evidence(const CpuWindow& w) const;
  bool set(int64_t q, std::string why);

  int64_t quota_us_ = 0;  // 0 = not started (original)
  int64_t original_us_ = 0;
  std::chrono::steady_clock::time_point last_pressure_{};
  std::optional<double> tokens_;
  bool budget_exhausted_ = false;
  std::string reason_ = "original limit";
};

}  // namespace slo::agent::cpu_burst
