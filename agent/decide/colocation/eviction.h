// Which BE pods to evict when node memory passes memoryEvictThresholdPercent: lowest priority first, then the
// largest memory user, until the projected use is below the lower threshold. Never a non-BE pod.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace slo::colocation {

struct EvictionCandidate {
  std::string pod_key;  // ns/name
  bool best_effort = false;
  int32_t priority = 0;
  int64_t memory_bytes = 0;  // working set
};

struct EvictionDecision {
  bool triggered = false;           // used ≥ threshold
  std::vector<std::string> victims; // in eviction order
  int64_t bytes_to_free = 0;        // used − lower threshold
  int64_t bytes_freed = 0;          // sum of victims' memory
};

EvictionDecision select_evictions(std::vector<EvictionCandidate> pods, int64_t node_used_bytes,
                                  int64_t node_total_bytes, double evict_threshold_percent,
                                  double lower_threshold_percent);

}  // namespace slo::colocation
