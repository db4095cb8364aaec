// Which local pods a Cgroups CR targets: spec.pod by namespace/name; spec.deployment by the pod's owner chain as the
// kubelet's pod list shows it (owner ReplicaSet "<deployment>-<pod-template-hash>").
#pragma once

#include "agent/decide/cgroups_cr/cr_spec.h"
#include "agent/model/pod.h"

namespace slo::agent::cgroups_cr {

// A ReplicaSet named "<deployment>-<hash>" belongs to the Deployment. The hash is the pod's pod-template-hash label
// when it has one; without the label the suffix must look like a hash (lower-case letters and digits, no '-'), so
// "web-canary-7d9f" is not taken for Deployment "web".
bool owned_by_deployment(const model::Pod& pod, const std::string& deployment);

bool targets(const CrSpec& cr, const model::Pod& pod);

}  // namespace slo::agent::cgroups_cr
