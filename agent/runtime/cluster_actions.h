// What controllers may ask of the cluster (as opposed to the node's kernel files). In a cluster the Kubernetes
// client implements it (Eviction API, Events, node status PATCH, node annotations); standalone, a recording
// implementation logs and keeps the last values so metrics and sloctl can show them.
//
// Calls must not block the event loop: implementations queue and send from their own thread, rate-limited.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace slo::agent {

struct PodRef {
  std::string namespace_;
  std::string name;
  std::string uid;
};

class ClusterActions {
 public:
  virtual ~ClusterActions() = default;
  // Evicts a pod through the Eviction API (policy/v1), honouring PodDisruptionBudgets. Returns false when the
  // request could not even be queued (standalone: always "report only", returns false and records).
  virtual bool evict(const PodRef& pod, const std::string& reason) = 0;
  // A core/v1 Event on the pod (type Normal/Warning, reason CamelCase, human message).
  virtual void event(const PodRef& pod, const std::string& type, const std::string& reason,
                     const std::string& message) = 0;
  // Extended resources in status.capacity/allocatable of this node (name → integer value: millicores or bytes).
  // Implementations skip PATCHes for small moves (resourceDiffThreshold) unless updateTimeThresholdSeconds passed.
  virtual void publish_node_resources(const std::map<std::string, int64_t>& resources) = 0;
  // metadata.annotations of this node (e.g. the CPU topology and pools as JSON for a scheduler extension).
  virtual void annotate_node(const std::string& key, const std::string& value) = 0;
  // This node's entry in status.nodes of a cluster-scoped Cgroups CR (resources.alibabacloud.com/v1alpha1):
  // {"node": <this node>, "observedGeneration": N, "containers": [{"pod","container","state","reason","message"}]}.
  // Each node owns only its own entry (server-side apply with a per-node field manager), so agents never overwrite
  // each other. Implementations send only when the entry changed since the last successful send.
  virtual void report_cgroups_status(const std::string& cr_name, const nlohmann::json& node_entry) = 0;
  virtual bool standalone() const = 0;
};

// Standalone implementation: logs each action once and keeps what was asked (for metrics, sloctl, tests).
class RecordingClusterActions : public ClusterActions {
 public:
  struct Eviction {
    PodRef pod;
    std::string reason;
  };
  bool evict(const PodRef& pod, const std::string& reason) override;
  void event(const PodRef& pod, const std::string& type, const std::string& reason,
             const std::string& message) override;
  void publish_node_resources(const std::map<std::string, int64_t>& resources) override;
  void annotate_node(const std::string& key, const std::string& value) override;
  void report_cgroups_status(const std::string& cr_name, const nlohmann::json& node_entry) override;
  bool standalone() const override { return true; }

  // Bounded: a standalone agent runs for months; only the most recent entries are kept.
  static constexpr size_t kKeep = 256;
  std::vector<Eviction> evictions;
  std::vector<std::string> events;  // "ns/name Warning Reason: message"
  std::map<std::string, int64_t> node_resources;
  std::map<std::string, std::string> node_annotations;
  std::map<std::string, nlohmann::json> cgroups_status;  // CR name → this node's status entry
};

}  // namespace slo::agent
