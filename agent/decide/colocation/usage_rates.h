// CPU usage rates (cores) from cumulative usage counters in successive snapshots, per cgroup.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>

namespace slo::colocation {

class UsageRates {
 public:
  // Feeds the cumulative usage of `key` at `at`; returns the rate since the previous sample (cores), or nullopt on
  // the first sample, a counter reset or a zero interval.
  std::optional<double> update(const std::string& key, uint64_t usage_ns, std::chrono::steady_clock::time_point at);
  std::optional<double> last(const std::string& key) const;
  // Forgets keys not updated since `before` (pods that left).
  void forget_older_than(std::chrono::steady_clock::time_point before);

 private:
  struct Entry {
    uint64_t usage_ns = 0;
    std::chrono::steady_clock::time_point at{};
    std::optional<double> rate;
  };
  // Hashed: cgroup paths share long prefixes ("kubepods/burstable/pod…"), which a tree compares again and again.
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace slo::colocation
