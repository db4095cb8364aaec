// Client-side token bucket (as client-go's QPS/Burst): a burst of `burst` requests, then `qps` per second. The
// clock is injectable so a test can run an hour of simulated time in milliseconds.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>

namespace slo::kube {

class TokenBucket {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;
  TokenBucket(double qps, double burst, Clock clock = nullptr);

  // Takes a token if one is available now.
  bool try_acquire();
  // Reserves a token (the bucket may go into debt) and returns how long the caller must wait before using it.
  std::chrono::nanoseconds reserve();
  double tokens();
  double qps() const { return qps_; }
  double burst() const { return burst_; }

 private:
  void refill_locked();
  std::mutex mu_;
  double qps_, burst_, tokens_;
  Clock clock_;
  std::chrono::steady_clock::time_point last_;
};

}  // namespace slo::kube
