#include "agent/kube/node_report.h"

#include <cmath>

#include "agent/runtime/log.h"

namespace slo::kube {

std::string_view to_string(NodeReportThrottle::Decision d) {
  switch (d) {
    case NodeReportThrottle::Decision::first: return "first";
    case NodeReportThrottle::Decision::changed: return "changed";
    case NodeReportThrottle::Decision::refresh: return "refresh";
    case NodeReportThrottle::Decision::skip_small_change: return "skip_small_change";
    case NodeReportThrottle::Decision::skip_too_soon: return "skip_too_soon";
  }
  return "?";
}

NodeReportThrottle::Decision NodeReportThrottle::decide(TimePoint now, const Values& v) const {
  if (!last_ || !last_update_) {
    if (last_attempt_ && now - *last_attempt_ < p_.min_update_interval) return Decision::skip_too_soon;
    return Decision::first;
  }
  if (now - *last_update_ >= p_.update_time_threshold) {
    if (last_attempt_ && now - *last_attempt_ < p_.min_update_interval) return Decision::skip_too_soon;
    return Decision::refresh;
  }
  bool moved = v.size() != last_->size();
  for (const auto& [k, val] : v) {
    auto it = last_->find(k);
    if (it == last_->end()) {
      moved = true;
      break;
    }
    double base = std::max<double>(1.0, std::fabs(static_cast<double>(it->second)));
    if (std::fabs(static_cast<double>(val - it->second)) / base >= p_.resource_diff_threshold) {
      moved = true;
      break;
    }
  }
  if (!moved) return Decision::skip_small_change;
  if (last_attempt_ && now - *last_attempt_ < p_.min_update_interval) return Decision::skip_too_soon;
  return Decision::changed;
}

void NodeReportThrottle::attempted(TimePoint now) { last_attempt_ = now; }

void NodeReportThrottle::updated(TimePoint now, const Values& v) {
  last_ = v;
  last_update_ = now;
  last_attempt_ = now;
}

NodeReporter::NodeReporter(Client& client, std::string node, NodeReportPolicy policy, Clock clock)
    : client_(client), node_(std::move(node)), clock_(std::move(clock)), throttle_(policy) {
  if (!clock_) clock_ = [] { return std::chrono::steady_clock::now(); };
}

std::optional<ApiResult> NodeReporter::report_batch(int64_t cpu_millis, int64_t memory_bytes) {
  NodeReportThrottle::Values v{{"kubernetes.io/batch-cpu", cpu_millis}, {"kubernetes.io/batch-memory", memory_bytes}};
  auto now = clock_();
  auto d = throttle_.decide(now, v);
  if (!NodeReportThrottle::sends(d)) {
    ++skipped_;
    return std::nullopt;
  }
  ++sent_;
  throttle_.attempted(now);
  ApiResult r = client_.patch_node_batch_resources(node_, cpu_millis, memory_bytes);
  if (r.ok)
    throttle_.updated(now, v);
  else
    log::warn("kube", "node " + node_ + " batch resources: " + r.error);
  return r;
}

std::optional<ApiResult> NodeReporter::report_annotations(const std::map<std::string, std::string>& annotations) {
  if (last_annotations_ && *last_annotations_ == annotations) return std::nullopt;
  std::map<std::string, std::optional<std::string>> patch;
  for (const auto& [k, v] : annotations) patch[k] = v;
  // Keys we set before and no longer want are removed (null in a merge patch).
  if (last_annotations_)
    for (const auto& [k, v] : *last_annotations_)
      if (!annotations.count(k)) patch[k] = std::nullopt;
  ++sent_;
  ApiResult r = client_.patch_node_annotations(node_, patch);
  if (r.ok)
    last_annotations_ = annotations;
  else
    log::warn("kube", "node " + node_ + " annotations: " + r.error);
  return r;
}

}  // namespace slo::kube
