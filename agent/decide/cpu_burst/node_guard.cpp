#include "agent/decide/cpu_burst/node_guard.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace slo::agent::cpu_burst {

std::string_view to_string(GuardState s) {
  switch (s) {
    case GuardState::unknown: return "unknown";
    case GuardState::idle: return "idle";
    case GuardState::cooling: return "cooling";
    case GuardState::overload: return "overload";
  }
  return "unknown";
}

// Koordinator's cooling band: raising stops at 90 % of the threshold so that the node does not reach it.
constexpr double kCoolingFraction = 0.9;

void NodeGuard::advance(Counter& c, std::chrono::steady_clock::time_point now, uint64_t value,
                        std::chrono::milliseconds window) {
  if (c.at == std::chrono::steady_clock::time_point{} || value < c.value) {  // first sample or counter reset
    c.at = now;
    c.value = value;
    return;
  }
  if (now - c.at < window) return;
  double secs = std::chrono::duration<double>(now - c.at).count();
  c.rate = double(value - c.value) / 1e9 / secs;
  c.has_rate = true;
  c.at = now;
  c.value = value;
}

GuardState NodeGuard::update(const GuardInput& in, int64_t threshold_percent) {
  threshold_percent_ = threshold_percent;
  if (!in.node_busy_ns || in.capacity_cores <= 0) {
    state_ = GuardState::unknown;
    ratio_.reset();
    return state_;
  }
  advance(node_, in.now, *in.node_busy_ns, window_);
  // Pods that left stop counting at once; new ones count from their second window. Both maps are sorted by key:
  // one merge walk, no lookups (this runs every tick over every BE and pinned pod).
  double excluded = 0;
  auto c = excluded_.begin();
  for (const auto& [key, ns] : in.excluded_usage_ns) {
    while (c != excluded_.end() && c->first < key) c = excluded_.erase(c);
    if (c == excluded_.end() || c->first != key) c = excluded_.emplace_hint(c, key, Counter{});
    advance(c->second, in.now, ns, window_);
    if (c->second.has_rate) excluded += c->second.rate;
    ++c;
  }
  excluded_.erase(c, excluded_.end());
  if (!node_.has_rate) {
    state_ = GuardState::unknown;
    return state_;
  }
  pool_cores_ = std::max(0.0, in.capacity_cores - in.pinned_cores);
  double used = std::max(0.0, node_.rate - excluded);
  double ratio = pool_cores_ > 0 ? used / pool_cores_ : 1.0;
  ratio_ = ratio;
  double thr = double(threshold_percent) / 100.0;
  if (ratio >= thr)
    state_ = GuardState::overload;
  else if (ratio >= thr * kCoolingFraction)
    state_ = GuardState::cooling;
  else
    state_ = GuardState::idle;
  return state_;
}

std::string NodeGuard::describe() const {
  if (!ratio_) return "share pool usage unknown (no node CPU sample yet): guard " + std::string(to_string(state_));
  char buf[160];
  std::snprintf(buf, sizeof buf, "share pool %.0f %% of %.2f CPUs (threshold %lld %%): %s", *ratio_ * 100,
                pool_cores_, static_cast<long long>(threshold_percent_), std::string(to_string(state_)).c_str());
  return buf;
}

}  // namespace slo::agent::cpu_burst
