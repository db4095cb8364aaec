// The node guard: raising quotas is only safe while the share pool (the CPUs that LS and BE pods share, i.e. not
// pinned to LSE/LSR pods) has room. Koordinator's three states, computed from share-pool usage over a short window:
//   idle     usage <  90 % of sharePoolThresholdPercent   → raising allowed
//   cooling  usage >= 90 % of the threshold               → no new raises, raised quotas held
//   overload usage >= the threshold                       → raised quotas scaled back toward the original
// Share-pool usage = node busy CPU − CPU used by pinned (LSE/LSR) pods − CPU used by BE pods, over the share pool's
// CPUs (online CPUs − CPUs requested by pinned pods). BE usage is excluded because BE suppression, not us, owns it.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace slo::agent::cpu_burst {

enum class GuardState { unknown, idle, cooling, overload };
std::string_view to_string(GuardState s);

struct GuardInput {
  std::chrono::steady_clock::time_point now{};
  double capacity_cores = 0;             // online CPUs
  std::optional<uint64_t> node_busy_ns;  // cumulative busy time of all CPUs
  double pinned_cores = 0;               // CPUs reserved by pinned pods
  // Cumulative CPU time of every pod excluded from the share pool (pinned and BE), by pod key.
  std::map<std::string, uint64_t, std::less<>> excluded_usage_ns;
};

class NodeGuard {
 public:
  // Rates are computed over at least `window` (a shorter span is too noisy for a node-wide decision).
  explicit NodeGuard(std::chrono::milliseconds window = std::chrono::milliseconds(500)) : window_(window) {}

  GuardState update(const GuardInput& in, int64_t threshold_percent);
  GuardState state() const { return state_; }
  std::optional<double> share_pool_ratio() const { return ratio_; }
  std::string describe() const;  // "share pool 63 % of 1.5 CPUs (threshold 50 %): overload"

 private:
  struct Counter {
    std::chrono::steady_clock::time_point at{};
    uint64_t value = 0;
    double rate = 0;  // cores, last complete window
    bool has_rate = false;
  };
  static void advance(Counter& c, std::chrono::steady_clock::time_point now, uint64_t value,
                      std::chrono::milliseconds window);

  std::chrono::milliseconds window_;
  Counter node_;
  std::map<std::string, Counter, std::less<>> excluded_;  // same keys and order as GuardInput::excluded_usage_ns
  GuardState state_ = GuardState::unknown;
  std::optional<double> ratio_;
  double pool_cores_ = 0;
  int64_t threshold_percent_ = 0;
};

}  // namespace slo::agent::cpu_burst
