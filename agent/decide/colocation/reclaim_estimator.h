// Reclaimed ("batch") resources: what high-priority pods leave idle, published as kubernetes.io/batch-cpu
// (millicores) and kubernetes.io/batch-memory (bytes).
//
//   batch = capacity × reclaimThreshold% − max(system usage, reserved) − Σ high-priority pods' share
//
// where a pod's share depends on the policy: `usage` (its peak estimate: p95 CPU / p98 memory from a decaying
// histogram × margin; a pod still in its cold-start window counts at its request), `request`, or
// `maxUsageRequest` (the larger of the two).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "agent/decide/colocation/decaying_histogram.h"

namespace slo::colocation {

enum class ReclaimPolicy { usage, request, maxUsageRequest };
std::optional<ReclaimPolicy> reclaim_policy_from_string(const std::string& s);

struct ReclaimSettings {
  double cpu_reclaim_threshold_percent = 60;
  double memory_reclaim_threshold_percent = 65;
  ReclaimPolicy cpu_policy = ReclaimPolicy::usage;
  ReclaimPolicy memory_policy = ReclaimPolicy::usage;
  double cpu_percentile = 0.95;
  double memory_percentile = 0.98;
  double margin = 1.1;                          // × the percentile
  std::chrono::seconds cold_start{600};         // a new pod counts at its request this long
  std::chrono::seconds half_life{12 * 3600};
  std::chrono::minutes degrade_after{15};       // degradeTimeMinutes: stale metrics → publish 0
};

struct PodSample {
  std::string key;
  double cpu_cores = 0;
  int64_t memory_bytes = 0;
  double cpu_request_cores = 0;
  int64_t memory_request_bytes = 0;
};

struct ReclaimResult {
  int64_t batch_cpu_millis = 0;
  int64_t batch_memory_bytes = 0;
  bool degraded = false;  // metrics too old: published as zero
  double hp_cpu_cores = 0;         // Σ high-priority shares used
  int64_t hp_memory_bytes = 0;
};

class ReclaimEstimator {
 public:
  explicit ReclaimEstimator(ReclaimSettings s) : s_(s) {}
  void set_settings(const ReclaimSettings& s) { s_ = s; }
  const ReclaimSettings& settings() const { return s_; }

  // Feeds one observation of the node's high-priority pods; pods not listed are forgotten (bounded memory).
  void observe(const std::vector<PodSample>& hp_pods, double now_s);
  // Computes batch resources from the latest observation. `metrics_at_s` is when the usage data was taken.
  ReclaimResult compute(double capacity_cores, int64_t capacity_bytes, double system_cpu_cores,
                        int64_t system_memory_bytes, double reserved_cores, int64_t reserved_bytes, double now_s,
                        double metrics_at_s) const;
  size_t tracked_pods() const { return pods_.size(); }
  // Peak estimate of one pod (cores, bytes) as the `usage` policy sees it, for tests and sloctl.
  std::optional<std::pair<double, int64_t>> peak(const std::string& key, double now_s) const;

 private:
  struct PodHistory {
    double first_seen_s;
    DecayingHistogram cpu;
    DecayingHistogram mem;
    PodSample last;
    bool seen = true;  // listed in the latest observation
  };
  std::pair<double, int64_t> share(const PodHistory& h, double now_s) const;

  ReclaimSettings s_;
  std::unordered_map<std::string, PodHistory> pods_;  // pod key → history
};

}  // namespace slo::colocation
