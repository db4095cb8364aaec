#include "agent/runtime/cluster_actions.h"

#include "agent/runtime/log.h"

namespace slo::agent {

namespace {
template <typename T>
void keep_recent(std::vector<T>& v) {
  if (v.size() > RecordingClusterActions::kKeep) v.erase(v.begin(), v.begin() + (v.size() - RecordingClusterActions::kKeep));
}
}  // namespace

bool RecordingClusterActions::evict(const PodRef& pod, const std::string& reason) {
  evictions.push_back({pod, reason});
  keep_recent(evictions);
  log::info("cluster", "standalone: would evict " + pod.namespace_ + "/" + pod.name + " (" + reason +
                           "); report only, no API server");
  return false;
}

void RecordingClusterActions::event(const PodRef& pod, const std::string& type, const std::string& reason,
                                    const std::string& message) {
  events.push_back(pod.namespace_ + "/" + pod.name + " " + type + " " + reason + ": " + message);
  log::info("cluster", "event " + events.back());
  keep_recent(events);
}

void RecordingClusterActions::publish_node_resources(const std::map<std::string, int64_t>& resources) {
  for (const auto& [k, v] : resources) node_resources[k] = v;
}

void RecordingClusterActions::annotate_node(const std::string& key, const std::string& value) {
  node_annotations[key] = value;
}

void RecordingClusterActions::report_cgroups_status(const std::string& cr_name, const nlohmann::json& node_entry) {
  auto& slot = cgroups_status[cr_name];
  if (slot == node_entry) return;
  slot = node_entry;
  log::info("cluster", "standalone: Cgroups/" + cr_name + " status on this node: " + node_entry.dump());
}

}  // namespace slo::agent
