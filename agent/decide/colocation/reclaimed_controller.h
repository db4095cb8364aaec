// Reclaimed resources (order 60): estimates what high-priority (non-BE) pods leave idle and publishes it as
// kubernetes.io/batch-cpu / batch-memory through ClusterActions (node status in a cluster; metrics and sloctl
// standalone). See reclaim_estimator.h for the formula.
#pragma once

#include <memory>
#include <vector>

#include "agent/decide/colocation/colocation_config.h"
#include "agent/decide/colocation/reclaim_estimator.h"
#include "agent/decide/colocation/node_usage.h"
#include "agent/runtime/cluster_actions.h"
#include "agent/runtime/controller.h"

namespace prometheus {
class Gauge;
}

namespace slo::colocation {

class ReclaimedController : public agent::Controller {
 public:
  std::string_view name() const override { return "Reclaimed"; }
  agent::Capability probe(const agent::HostInfo&) override { return {}; }
  void init(agent::ControllerContext& ctx) override;
  std::optional<std::string> configure(const nlohmann::json& policy) override;
  std::chrono::milliseconds period() const override { return std::chrono::seconds(1); }
  void decide(const agent::Snapshot& snap, agent::Blackboard& board, agent::IntentSink& out) override;
  nlohmann::json status() const override;

  const ReclaimResult& last() const { return last_; }
  void set_cluster(agent::ClusterActions* c) { cluster_ = c; }

 private:
  ReclaimConfig cfg_;
  ReclaimEstimator estimator_{ReclaimSettings{}};
  NodeUsage usage_;
  std::vector<PodSample> hp_;  // high-priority pods of the last decide
  ReclaimResult last_;
  double last_metrics_s_ = -1;
  agent::ClusterActions* cluster_ = nullptr;
  prometheus::Gauge* cpu_gauge_ = nullptr;
  prometheus::Gauge* mem_gauge_ = nullptr;
  prometheus::Gauge* degraded_gauge_ = nullptr;
};

}  // namespace slo::colocation
