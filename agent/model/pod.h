// The agent's view of a pod, built from a kubelet PodList (GET /pods, or the standalone pods file).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "cgroups/kubelet_layout.h"

namespace slo::model {

// Koordinator's QoS classes (label koordinator.sh/qosClass); without the label: BestEffort → BE, others → LS.
enum class QosClass { LSE, LSR, LS, BE, SYSTEM };
enum class KubeQos { Guaranteed, Burstable, BestEffort };

std::string_view to_string(QosClass q);
std::optional<QosClass> qos_from_string(std::string_view s);
std::string_view to_string(KubeQos q);
cg::QosTier tier_of(KubeQos q);

constexpr std::string_view kBatchCpu = "kubernetes.io/batch-cpu";        // millicores
constexpr std::string_view kBatchMemory = "kubernetes.io/batch-memory";  // bytes
constexpr std::string_view kQosLabel = "koordinator.sh/qosClass";
constexpr std::string_view kCpuBurstAnnotation = "koordinator.sh/cpuBurst";
constexpr std::string_view kResourceStatusAnnotation = "scheduling.koordinator.sh/resource-status";

struct Resources {
  std::optional<int64_t> cpu_millis;
  std::optional<int64_t> memory_bytes;
  std::optional<int64_t> batch_cpu_millis;
  std::optional<int64_t> batch_memory_bytes;
};

struct Container {
  std::string name;
  std::optional<cg::ContainerRef> ref;  // from status.containerStatuses[].containerID; absent until started
  Resources requests;
  Resources limits;
};

struct Pod {
  std::string uid;
  std::string name;
  std::string namespace_;
  std::string node_name;
  std::string phase;  // Pending / Running / Succeeded / Failed
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
  std::optional<int32_t> priority;
  std::string priority_class;
  std::vector<std::string> owner_kinds_names;  // "ReplicaSet/web-5d8f" (for Deployment matching)
  KubeQos kube_qos = KubeQos::BestEffort;
  QosClass qos = QosClass::BE;
  std::vector<Container> containers;
  std::vector<Container> init_containers;

  std::string key() const { return namespace_ + "/" + name; }
  bool terminal() const { return phase == "Succeeded" || phase == "Failed"; }
  // Pod-level sums over containers (for pod cgroup knobs).
  Resources total_requests() const;
  Resources total_limits() const;
};

struct PodListParse {
  std::vector<Pod> pods;
  std::vector<std::string> errors;  // one per rejected pod ("ns/name: invalid uid '../x'"); others still parsed
};

// Parses a v1 PodList. Throws nothing; a malformed document yields an error and no pods.
PodListParse parse_pod_list(std::string_view json_text);
PodListParse parse_pod_list(const nlohmann::json& doc);
// Text overloads so a std::string or a literal does not silently convert to a JSON string value.
PodListParse parse_pod_list(const std::string& json_text);
PodListParse parse_pod_list(const char* json_text);

// Kubernetes QoS class from requests/limits (status.qosClass is used when present).
KubeQos derive_kube_qos(const Pod& pod);

}  // namespace slo::model
