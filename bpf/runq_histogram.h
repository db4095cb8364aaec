// Log2 run-queue delay histogram as the BPF program keeps it, and the math on it (interval deltas, quantiles).
// No libbpf here: the schedstat fallback and the tests use it in builds without BPF too.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

namespace slo::bpf {

constexpr int kRunqBuckets = 27;  // = SLO_RUNQ_BUCKETS (static_assert in the loader)

// Cumulative log2 histogram of run-queue delay: buckets[k] counts delays d with floor(log2(d in µs)) == k
// (bucket 0 also holds delays below 1 µs; the last bucket also holds everything longer).
struct RunqHistogram {
  std::array<uint64_t, kRunqBuckets> buckets{};
  uint64_t sum_ns = 0;

  uint64_t count() const;
  // What was added since `earlier` (a previous read of the same cumulative histogram). When any bucket went down
  // (the slot was reset in between) the whole current histogram is the delta.
  RunqHistogram since(const RunqHistogram& earlier) const;
  // Bucket of a delay in nanoseconds (same rule as the BPF program).
  static int bucket_of_ns(uint64_t ns);
  // Upper bound of bucket k in seconds: 2^(k+1) µs (+inf for the last bucket, which also holds clamped delays).
  static double upper_bound_seconds(int k);
  // q-quantile (0 < q ≤ 1) in seconds, interpolated linearly inside its log2 bucket; nullopt when empty. Accurate
  // to the bucket width (a factor of 2).
  std::optional<double> quantile_seconds(double q) const;
  std::optional<double> mean_seconds() const;
};

}  // namespace slo::bpf
