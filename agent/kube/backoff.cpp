#include "agent/kube/backoff.h"

#include <algorithm>
#include <cmath>

namespace slo::kube {

std::chrono::milliseconds Backoff::next() {
  double base = static_cast<double>(o_.initial.count()) * std::pow(o_.factor, std::min<uint32_t>(failures_, 64));
  base = std::min(base, static_cast<double>(o_.max.count()));
  if (failures_ < 64) ++failures_;
  std::uniform_real_distribution<double> u(1.0 - o_.jitter, 1.0 + o_.jitter);
  double d = std::clamp(base * u(rng_), static_cast<double>(o_.initial.count()), static_cast<double>(o_.max.count()));
  return std::chrono::milliseconds(static_cast<int64_t>(d));
}

std::chrono::seconds jittered_seconds(std::chrono::seconds lo, std::chrono::seconds hi) {
  if (hi <= lo) return lo;
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_int_distribution<int64_t> u(lo.count(), hi.count());
  return std::chrono::seconds(u(rng));
}

}  // namespace slo::kube
