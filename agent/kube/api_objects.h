// Request bodies the agent sends, as pure functions (tested without a server): node batch resources (merge patch
// of status.capacity/allocatable), node annotations (merge patch, null deletes), a core/v1 Event about a pod, and a
// policy/v1 Eviction.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace slo::kube {

// kubernetes.io/batch-cpu in millicores, kubernetes.io/batch-memory in bytes, in both capacity and allocatable.
nlohmann::json node_batch_resources_patch(int64_t batch_cpu_millis, int64_t batch_memory_bytes);
// std::nullopt removes the annotation.
nlohmann::json node_annotations_patch(const std::map<std::string, std::optional<std::string>>& annotations);

struct EventSpec {
  std::string namespace_;
  std::string pod_name;
  std::string pod_uid;
  std::string reason;   // CamelCase: "CpuBurstRaised", "EvictedForMemory"
  std::string message;  // human readable, one line
  std::string action;   // optional: what the agent did ("Throttle", "Evict")
  bool warning = false;
  std::string node;  // reportingInstance / source.host
  std::string component = "sloagent";
};
nlohmann::json pod_event(const EventSpec& e, std::chrono::system_clock::time_point now);

nlohmann::json pod_eviction(const std::string& ns, const std::string& name,
                            std::optional<int64_t> grace_period_seconds);

std::string rfc3339(std::chrono::system_clock::time_point t);
// Query-string escaping for selectors ("spec.nodeName=node-1" → "spec.nodeName%3Dnode-1").
std::string url_escape(const std::string& s);

}  // namespace slo::kube
