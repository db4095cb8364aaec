#include "agent/decide/cpu_burst/quota_scaler.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace slo::agent::cpu_burst {

namespace {

std::string cores(int64_t quota_us, int64_t period_us) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", double(quota_us) / double(period_us));
  return buf;
}

std::string fmt(const char* f, double a) {
  char buf[48];
  std::snprintf(buf, sizeof buf, f, a);
  return buf;
}

}  // namespace

bool QuotaScaler::at_limit(const CpuWindow& w, const ScalerLimits& lim) const {
  // Usage that fills the quota over the whole window is throttling the kernel has not accounted yet: nr_throttled
  // only moves at the end of a period, so this signal is up to a period earlier.
  return w.usage_cores && *w.usage_cores >= kAtLimitFraction * double(quota_us_) / double(lim.period_us);
}

std::string QuotaScaler::evidence(const CpuWindow& w) const {
  if (w.throttled())
    return "throttled in " + std::to_string(w.throttled_periods) + "/" + std::to_string(w.periods) + " periods";
  return "at its limit (used " + fmt("%.2f", w.usage_cores.value_or(0)) + " CPU)";
}

bool QuotaScaler::set(int64_t q, std::string why) {
  if (q == quota_us_) return false;
  quota_us_ = q;
  reason_ = std::move(why);
  return true;
}

void QuotaScaler::settle_budget(const CpuWindow& w, const ScalerLimits& lim) {
  if (lim.budget_seconds < 0) {
    tokens_.reset();
    return;
  }
  double orig = double(lim.original_quota_us) / double(lim.period_us);
  double capacity = lim.budget_seconds * (double(lim.max_quota_us - lim.original_quota_us) / double(lim.period_us));
  if (!tokens_) tokens_ = capacity;  // start full: a fresh container may burst at once
  if (w.usage_cores) *tokens_ += (orig - *w.usage_cores) * w.seconds;
  *tokens_ = std::clamp(*tokens_, 0.0, capacity);
  if (*tokens_ <= 0)
    budget_exhausted_ = true;
  else if (budget_exhausted_ && *tokens_ >= capacity / 10)
    budget_exhausted_ = false;
}

ScalerStep QuotaScaler::update(const std::optional<CpuWindow>& w, const ScalerLimits& lim, GuardState guard,
                               std::chrono::steady_clock::time_point now) {
  ScalerStep step;
  const int64_t orig = std::max(lim.original_quota_us, kMinQuotaUs);
  const int64_t top = std::max(orig, lim.max_quota_us);
  if (quota_us_ == 0 || original_us_ != orig) {  // first tick, or the limit itself changed (pod resized)
    quota_us_ = orig;
    original_us_ = orig;
    reason_ = "original limit " + cores(orig, lim.period_us) + " CPU";
  }
  quota_us_ = std::clamp(quota_us_, orig, top);  // cfsQuotaBurstPercent may have been lowered
  const int64_t before = quota_us_;
  const auto P = [&](int64_t q) { return cores(q, lim.period_us); };

  if (w) settle_budget(*w, lim);

  if (budget_exhausted_ && quota_us_ > orig) {
    set(orig, "burst budget (cfsQuotaBurstPeriodSeconds) spent: back to the original " + P(orig) + " CPU");
  } else if (guard == GuardState::overload && quota_us_ > orig) {
    // Halve the excess each tick: back at the original within a few ticks without a cliff for the pod.
    int64_t q = orig + (quota_us_ - orig) / 2;
    if (q - orig < std::max(kMinQuotaUs, orig / 10)) q = orig;
    set(q, "node overload: scaling quota back " + P(quota_us_) + " → " + P(q) + " CPU");
  } else if (w && (w->throttled() || at_limit(*w, lim))) {
    last_pressure_ = now;
    if (guard == GuardState::idle || guard == GuardState::unknown) {
      if (!budget_exhausted_ && quota_us_ < top) {
        double usage = w->usage_cores.value_or(double(quota_us_) / double(lim.period_us));
        double demand = usage + w->throttled_cores;
        int64_t target = int64_t(std::ceil(demand * lim.headroom * double(lim.period_us)));
        std::string why;
        if (demand * double(lim.period_us) <= 1.05 * double(quota_us_)) {
          // The throttled time of the current period is only accounted when it ends, so a fresh burst can look
          // like no demand beyond the quota: go halfway to the cap, the next tick measures the rest.
          target = quota_us_ + (top - quota_us_ + 1) / 2;
          why = evidence(*w) + ", demand not yet measurable: raise quota " + P(quota_us_) + " → ";
        } else {
          why = evidence(*w) + ", demand " + fmt("%.2f", demand) + " CPU: raise quota " + P(quota_us_) + " → ";
        }
        target = std::clamp(target, orig, top);
        if (target > quota_us_) {
          why += P(target) + " CPU" + (target == top ? " (cfsQuotaBurstPercent cap)" : "");
          step.raised = set(target, std::move(why));
        }
      }
    }
    // cooling: hold what the container has, raise nothing.
  } else if (w && quota_us_ > orig) {  // no fresh sample = no evidence: hold
    bool pressure = w->usage_cores && *w->usage_cores >= kPressureFraction * double(quota_us_) / lim.period_us;
    if (pressure) {
      last_pressure_ = now;
    } else if (now - last_pressure_ >= lim.hold) {
      double usage = w->usage_cores.value_or(0.0);
      int64_t target = std::max(orig, int64_t(std::ceil(usage * lim.headroom * double(lim.period_us))));
      if (target - orig < kMinQuotaUs) target = orig;
      if (target < quota_us_)
        set(target, "not throttled for " + std::to_string(lim.hold.count()) + " ms: step quota down " +
                        P(quota_us_) + " → " + P(target) + " CPU" + (target == orig ? " (original)" : ""));
    }
  }
  step.quota_us = quota_us_;
  step.changed = quota_us_ != before;
  step.reason = reason_;
  return step;
}

}  // namespace slo::agent::cpu_burst
