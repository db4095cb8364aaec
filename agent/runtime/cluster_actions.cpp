#include "agent/runtime/cluster_actions.h"

#include "agent/runtime/log.h"

namespace slo::agent {

bool RecordingClusterActions::evict(const PodRef& pod, const std::string& reason) {
  evictions.push_back({pod, reason});
  log::info("cluster", "standalone: would evict " + pod.namespace_ + "/" + pod.name + " (" + reason +
                           "); report only, no API server");
  return false;
}

void RecordingClusterActions::event(const PodRef& pod, const std::string& type, const std::string& reason,
                                    const std::string& message) {
  events.push_back(pod.namespace_ + "/" + pod.name + " " + type + " " + reason + ": " + message);
  log::info("cluster", "event " + events.back());
}

void RecordingClusterActions::publish_node_resources(const std::map<std::string, int64_t>& resources) {
  for (const auto& [k, v] : resources) node_resources[k] = v;
}

void RecordingClusterActions::annotate_node(const std::string& key, const std::string& value) {
  node_annotations[key] = value;
}

}  // namespace slo::agent
