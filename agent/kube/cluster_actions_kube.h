// ClusterActions in a cluster: Eviction API, Events, node status and annotations through the Client. Every call
// returns at once (the request is spawned on the client's io_context), so the agent's tick never waits for the API
// server; results are logged and counted. Node resources go through NodeReportThrottle; identical Events for the
// same pod within 10 minutes are sent once (the API server would only bump a count).
// Lifetime: stop the client's io_context before destroying this object (pending completions refer to it).
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>

#include "agent/kube/client.h"
#include "agent/kube/node_report.h"
#include "agent/runtime/cluster_actions.h"

namespace slo::kube {

class KubeClusterActions final : public agent::ClusterActions {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;
  KubeClusterActions(Client& client, std::string node, NodeReportPolicy policy = {}, Clock clock = nullptr);

  bool evict(const agent::PodRef& pod, const std::string& reason) override;
  void event(const agent::PodRef& pod, const std::string& type, const std::string& reason,
             const std::string& message) override;
  void publish_node_resources(const std::map<std::string, int64_t>& resources) override;
  void annotate_node(const std::string& key, const std::string& value) override;
  void report_cgroups_status(const std::string& cr_name, const nlohmann::json& node_entry) override;
  bool standalone() const override { return false; }

  struct Counts {
    uint64_t evictions_sent = 0, evictions_failed = 0;
    uint64_t events_sent = 0, events_deduplicated = 0, events_failed = 0;
    uint64_t node_patches_sent = 0, node_patches_skipped = 0, node_patches_failed = 0;
    uint64_t node_patches_completed = 0;  // answered (success or failure)
    uint64_t annotation_patches_sent = 0, annotation_patches_failed = 0;
    uint64_t cr_status_sent = 0, cr_status_failed = 0;
  };
  Counts counts() const;

 private:
  void spawn_patch(std::string path, nlohmann::json patch, bool node_status, NodeReportThrottle::Values values,
                   std::chrono::steady_clock::time_point now);

  Client& client_;
  std::string node_;
  Clock clock_;
  mutable std::mutex mu_;
  NodeReportThrottle throttle_;
  std::map<std::string, std::string> annotations_sent_;
  std::map<std::string, nlohmann::json> cr_status_sent_;  // Cgroups CR name → entry last applied
  std::map<std::string, std::chrono::steady_clock::time_point> recent_events_;
  Counts counts_;
};

}  // namespace slo::kube
