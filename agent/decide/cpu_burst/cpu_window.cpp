#include "agent/decide/cpu_burst/cpu_window.h"

namespace slo::agent::cpu_burst {

std::optional<CpuWindow> window_between(const CpuSample& prev, const CpuSample& cur) {
  if (cur.at <= prev.at) return std::nullopt;
  if (cur.nr_periods < prev.nr_periods || cur.nr_throttled < prev.nr_throttled ||
      cur.throttled_ns < prev.throttled_ns)
    return std::nullopt;
  CpuWindow w;
  w.seconds = std::chrono::duration<double>(cur.at - prev.at).count();
  w.periods = cur.nr_periods - prev.nr_periods;
  w.throttled_periods = cur.nr_throttled - prev.nr_throttled;
  w.throttled_ratio = w.periods ? double(w.throttled_periods) / double(w.periods) : 0.0;
  w.throttled_cores = double(cur.throttled_ns - prev.throttled_ns) / 1e9 / w.seconds;
  if (prev.usage_ns && cur.usage_ns && *cur.usage_ns >= *prev.usage_ns)
    w.usage_cores = double(*cur.usage_ns - *prev.usage_ns) / 1e9 / w.seconds;
  return w;
}

}  // namespace slo::agent::cpu_burst
