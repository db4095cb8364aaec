// Batch cgroups (order 45): BE pods that request kubernetes.io/batch-cpu (millicores) and batch-memory (bytes) get
// what kubelet cannot give them, since kubelet knows nothing of extended resources: cpu shares/weight from the
// batch-cpu request, CFS quota from the batch-cpu limit, memory limit from the batch-memory limit — on each
// container and (as sums) on the pod, so the ordered writer can keep the pod ≥ its containers.
#pragma once

#include "agent/runtime/controller.h"

namespace slo::colocation {

class BatchResourcesController : public agent::Controller {
 public:
  std::string_view name() const override { return "BatchResources"; }
  agent::Capability probe(const agent::HostInfo&) override { return {}; }
  std::optional<std::string> configure(const nlohmann::json& policy) override;
  std::chrono::milliseconds period() const override { return std::chrono::seconds(1); }
  void decide(const agent::Snapshot& snap, agent::Blackboard& board, agent::IntentSink& out) override;

  static int64_t shares_for_millis(int64_t millis);  // kubelet's formula: millis × 1024 / 1000, min 2

 private:
  bool enable_ = true;
};

}  // namespace slo::colocation
