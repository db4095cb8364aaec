#include "agent/decide/colocation/eviction.h"

#include <algorithm>

namespace slo::colocation {

EvictionDecision select_evictions(std::vector<EvictionCandidate> pods, int64_t node_used_bytes,
                                  int64_t node_total_bytes, double evict_threshold_percent,
                                  double lower_threshold_percent) {
  EvictionDecision d;
  if (node_total_bytes <= 0) return d;
  double used_pct = 100.0 * static_cast<double>(node_used_bytes) / static_cast<double>(node_total_bytes);
  if (used_pct < evict_threshold_percent) return d;
  d.triggered = true;
  auto lower = static_cast<int64_t>(static_cast<double>(node_total_bytes) * lower_threshold_percent / 100.0);
  d.bytes_to_free = std::max<int64_t>(0, node_used_bytes - lower);
  pods.erase(std::remove_if(pods.begin(), pods.end(), [](const auto& p) { return !p.best_effort; }), pods.end());
  std::sort(pods.begin(), pods.end(), [](const auto& a, const auto& b) {
    if (a.priority != b.priority) return a.priority < b.priority;
    if (a.memory_bytes != b.memory_bytes) return a.memory_bytes > b.memory_bytes;
    return a.pod_key < b.pod_key;  // deterministic
  });
  for (const auto& p : pods) {
    if (d.bytes_freed >= d.bytes_to_free) break;
    d.victims.push_back(p.pod_key);
    d.bytes_freed += p.memory_bytes;
  }
  return d;
}

}  // namespace slo::colocation
