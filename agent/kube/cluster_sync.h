// What `sloagent run` reads from the API server in a cluster: the cluster-scoped Cgroups CRs
// (resources.alibabacloud.com/v1alpha1), our ColocationPolicy CRs (slo-agent.io/v1alpha1) and the labels of this
// node (the node selectors of policies match them). One informer each (list + watch, 410 relist, bookmarks,
// backoff: see informer.h), so a steady node costs one LIST and one WATCH per kind plus watch reconnects after
// server-side timeouts, whatever happens to the objects.
//
// Sinks get the complete current set, never a delta: a burst of events (a relist after 410 delivers one event per
// changed object) is coalesced into one call, and a change of only status or resourceVersion (our own CR status
// reports and node status PATCHes come back as MODIFIED events) calls nothing. Sinks run on the client's io
// thread; they must return quickly (Agent::set_cluster_objects only posts to the agent's loop).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/kube/informer.h"

namespace slo::kube {

constexpr const char* kCgroupsPath = "/apis/resources.alibabacloud.com/v1alpha1/cgroups";
constexpr const char* kColocationPolicyPath = "/apis/slo-agent.io/v1alpha1/colocationpolicies";
constexpr const char* kNodesPath = "/api/v1/nodes";

enum class ClusterObjectKind { cgroups, colocation_policy };

struct ClusterSyncOptions {
  std::string node;  // own node: the node informer selects metadata.name=<node>
  std::chrono::seconds watch_timeout_min{300};
  std::chrono::seconds watch_timeout_max{600};
  Backoff::Options backoff{};
  bool watch_cgroups = true, watch_policies = true, watch_node = true;
};

struct ClusterSyncSinks {
  std::function<void(ClusterObjectKind, std::vector<nlohmann::json>)> objects;
  std::function<void(std::map<std::string, std::string>)> node_labels;
};

class ClusterSync {
 public:
  ClusterSync(Client& client, ClusterSyncOptions opts, ClusterSyncSinks sinks);
  ~ClusterSync();  // stop()
  ClusterSync(const ClusterSync&) = delete;
  ClusterSync& operator=(const ClusterSync&) = delete;

  void start();
  // Safe from any thread; no sink runs after it returned (same contract as Informer::stop).
  void stop();

  // Waits until every informer finished its first LIST (tests; a log line at start-up).
  bool wait_synced(std::chrono::milliseconds timeout) const;
  std::vector<std::pair<std::string, InformerStats>> stats() const;

 private:
  struct State;
  std::shared_ptr<State> st_;
};

// The part of an object that matters to the agent: without status, resourceVersion and managedFields. Two objects
// with equal projections need no new delivery.
nlohmann::json significant_part(const nlohmann::json& obj);
// metadata.labels of a Node as a map (non-string values skipped).
std::map<std::string, std::string> node_labels_of(const nlohmann::json& node);

}  // namespace slo::kube
