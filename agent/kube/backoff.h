// Jittered exponential backoff for everything that talks to the kubelet or the API server: 0.8 s doubling to a 30 s
// cap, each delay jittered ±20 % so that a fleet of agents that lost the API server together does not come back
// in lock step.
#pragma once

#include <chrono>
#include <cstdint>
#include <random>

namespace slo::kube {

class Backoff {
 public:
  struct Options {
    std::chrono::milliseconds initial{800};
    std::chrono::milliseconds max{30000};
    double factor = 2.0;
    double jitter = 0.2;  // each delay is drawn from [d·(1−j), d·(1+j)], then clamped to [initial, max]
  };
  Backoff() : Backoff(Options{}) {}
  explicit Backoff(Options o, uint64_t seed = std::random_device{}()) : o_(o), rng_(seed) {}

  // The delay before the next attempt; each call without a reset() grows the base.
  std::chrono::milliseconds next();
  void reset() { failures_ = 0; }
  uint32_t failures() const { return failures_; }
  const Options& options() const { return o_; }

 private:
  Options o_;
  std::mt19937_64 rng_;
  uint32_t failures_ = 0;
};

// A duration drawn uniformly from [lo, hi] (watch timeouts 5–10 min, so reconnects spread out).
std::chrono::seconds jittered_seconds(std::chrono::seconds lo, std::chrono::seconds hi);

}  // namespace slo::kube
