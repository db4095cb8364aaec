#include "agent/kube/rate_limiter.h"

#include <algorithm>

namespace slo::kube {

TokenBucket::TokenBucket(double qps, double burst, Clock clock)
    : qps_(qps), burst_(std::max(1.0, burst)), tokens_(std::max(1.0, burst)), clock_(std::move(clock)) {
  if (!clock_) clock_ = [] { return std::chrono::steady_clock::now(); };
  last_ = clock_();
}

void TokenBucket::refill_locked() {
  auto now = clock_();
  double dt = std::chrono::duration<double>(now - last_).count();
  if (dt > 0) {
    tokens_ = std::min(burst_, tokens_ + dt * qps_);
    last_ = now;
  }
}

bool TokenBucket::try_acquire() {
  std::lock_guard lk(mu_);
  refill_locked();
  if (tokens_ < 1.0) return false;
  tokens_ -= 1.0;
  return true;
}

std::chrono::nanoseconds TokenBucket::reserve() {
  std::lock_guard lk(mu_);
  refill_locked();
  tokens_ -= 1.0;
  if (tokens_ >= 0 || qps_ <= 0) return std::chrono::nanoseconds(0);
  return std::chrono::nanoseconds(static_cast<int64_t>(-tokens_ / qps_ * 1e9));
}

double TokenBucket::tokens() {
  std::lock_guard lk(mu_);
  refill_locked();
  return tokens_;
}

}  // namespace slo::kube
