#include "agent/decide/cgroups_cr/pod_match.h"

#include <algorithm>

namespace slo::agent::cgroups_cr {

bool owned_by_deployment(const model::Pod& pod, const std::string& deployment) {
  const std::string prefix = "ReplicaSet/" + deployment + "-";
  auto hash = pod.labels.find("pod-template-hash");
  for (const auto& o : pod.owner_kinds_names) {
    if (o.size() <= prefix.size() || o.compare(0, prefix.size(), prefix) != 0) continue;
    std::string suffix = o.substr(prefix.size());
    if (hash != pod.labels.end()) {
      if (suffix == hash->second) return true;
      continue;
    }
    if (std::all_of(suffix.begin(), suffix.end(), [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }))
      return true;
  }
  return false;
}

bool targets(const CrSpec& cr, const model::Pod& pod) {
  if (!cr.error.empty() || pod.namespace_ != cr.target_namespace) return false;
  return cr.deployment ? owned_by_deployment(pod, cr.target_name) : pod.name == cr.target_name;
}

}  // namespace slo::agent::cgroups_cr
