#include "bpf/runq_histogram.h"

#include <cmath>
#include <limits>

namespace slo::bpf {

uint64_t RunqHistogram::count() const {
  uint64_t n = 0;
  for (uint64_t b : buckets) n += b;
  return n;
}

RunqHistogram RunqHistogram::since(const RunqHistogram& earlier) const {
  RunqHistogram d;
  bool reset = sum_ns < earlier.sum_ns;
  for (size_t k = 0; k < buckets.size(); k++) {
    if (buckets[k] < earlier.buckets[k]) reset = true;
  }
  if (reset) return *this;
  for (size_t k = 0; k < buckets.size(); k++) d.buckets[k] = buckets[k] - earlier.buckets[k];
  d.sum_ns = sum_ns - earlier.sum_ns;
  return d;
}

int RunqHistogram::bucket_of_ns(uint64_t ns) {
  uint64_t us = ns / 1000;
  int k = 0;
  while (us > 1) {
    us >>= 1;
    k++;
  }
  return k < kRunqBuckets ? k : kRunqBuckets - 1;
}

double RunqHistogram::upper_bound_seconds(int k) {
  if (k >= kRunqBuckets - 1) return std::numeric_limits<double>::infinity();
  return std::ldexp(1.0, k + 1) * 1e-6;
}

std::optional<double> RunqHistogram::quantile_seconds(double q) const {
  uint64_t n = count();
  if (n == 0 || !(q > 0) || q > 1) return std::nullopt;
  double rank = q * static_cast<double>(n);
  double below = 0;
  for (int k = 0; k < kRunqBuckets; k++) {
    auto c = static_cast<double>(buckets[static_cast<size_t>(k)]);
    if (c > 0 && below + c >= rank) {
      double lo_us = k == 0 ? 0.0 : std::ldexp(1.0, k);
      double hi_us = std::ldexp(1.0, k + 1);  // the last bucket is open-ended: assume one more doubling
      double frac = (rank - below) / c;
      return (lo_us + (hi_us - lo_us) * frac) * 1e-6;
    }
    below += c;
  }
  return std::ldexp(1.0, kRunqBuckets) * 1e-6;  // not reached: rank ≤ n
}

std::optional<double> RunqHistogram::mean_seconds() const {
  uint64_t n = count();
  if (n == 0) return std::nullopt;
  return static_cast<double>(sum_ns) * 1e-9 / static_cast<double>(n);
}

}  // namespace slo::bpf
