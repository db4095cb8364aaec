// Rates over the interval between two cpu.stat samples of one cgroup: the inputs of the quota scaler.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

namespace slo::agent::cpu_burst {

struct CpuSample {
  std::chrono::steady_clock::time_point at{};
  uint64_t nr_periods = 0;
  uint64_t nr_throttled = 0;
  uint64_t throttled_ns = 0;
  std::optional<uint64_t> usage_ns;  // cumulative CPU time (cpuacct.usage / usage_usec)
};

struct CpuWindow {
  double seconds = 0;
  uint64_t periods = 0;            // Δnr_periods
  uint64_t throttled_periods = 0;  // Δnr_throttled
  double throttled_ratio = 0;      // Δnr_throttled / Δnr_periods (0 when no period elapsed)
  // Throttled run-queue time per second: in v1 the kernel sums it over the per-CPU queues, so it approximates the
  // CPUs' worth of runnable threads that waited for quota (added to usage it estimates the demand).
  double throttled_cores = 0;
  std::optional<double> usage_cores;  // Δusage / Δt

  bool throttled() const { return throttled_periods > 0; }
};

// nullopt when the samples do not span time or a counter went backwards (cgroup recreated under the same path).
std::optional<CpuWindow> window_between(const CpuSample& prev, const CpuSample& cur);

}  // namespace slo::agent::cpu_burst
