// Keeps node status PATCHes rare: the batch resources the agent computes move a little every tick, and a PATCH per
// tick would cost the API server hundreds of requests per node per hour. An update goes out when
//   - nothing was sent yet, or
//   - some value moved by at least resourceDiffThreshold (relative) and the last update is at least
//     minUpdateIntervalSeconds old, or
//   - the last update is older than updateTimeThresholdSeconds (a refresh, so a value overwritten by someone else
//     heals).
// With the defaults (0.1, 300 s, 60 s) a steady node sends 12 status PATCHes an hour and a restless one at most 60.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "agent/kube/client.h"

namespace slo::kube {

struct NodeReportPolicy {
  double resource_diff_threshold = 0.1;             // resourceDiffThreshold
  std::chrono::seconds update_time_threshold{300};  // updateTimeThresholdSeconds
  std::chrono::seconds min_update_interval{60};     // minUpdateIntervalSeconds
};

class NodeReportThrottle {
 public:
  using Values = std::map<std::string, int64_t>;
  using TimePoint = std::chrono::steady_clock::time_point;
  enum class Decision { first, changed, refresh, skip_small_change, skip_too_soon };

  explicit NodeReportThrottle(NodeReportPolicy p = {}) : p_(p) {}
  Decision decide(TimePoint now, const Values& v) const;
  static bool sends(Decision d) { return d == Decision::first || d == Decision::changed || d == Decision::refresh; }
  // After an attempt (successful or not: a failing API server is not retried every tick either).
  void attempted(TimePoint now);
  // After a successful update.
  void updated(TimePoint now, const Values& v);
  const NodeReportPolicy& policy() const { return p_; }

 private:
  NodeReportPolicy p_;
  std::optional<Values> last_;
  std::optional<TimePoint> last_update_;
  std::optional<TimePoint> last_attempt_;
};

std::string_view to_string(NodeReportThrottle::Decision d);

// PATCHes kubernetes.io/batch-cpu / batch-memory and node annotations through a throttle. Blocking (call from a
// worker, not from the client's io thread).
class NodeReporter {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;
  NodeReporter(Client& client, std::string node, NodeReportPolicy policy = {}, Clock clock = nullptr);

  // nullopt when throttled (nothing sent).
  std::optional<ApiResult> report_batch(int64_t batch_cpu_millis, int64_t batch_memory_bytes);
  // Sends only when the annotations differ from the last successful patch.
  std::optional<ApiResult> report_annotations(const std::map<std::string, std::string>& annotations);
  uint64_t sent() const { return sent_; }
  uint64_t skipped() const { return skipped_; }

 private:
  Client& client_;
  std::string node_;
  Clock clock_;
  NodeReportThrottle throttle_;
  std::optional<std::map<std::string, std::string>> last_annotations_;
  uint64_t sent_ = 0, skipped_ = 0;
};

}  // namespace slo::kube
