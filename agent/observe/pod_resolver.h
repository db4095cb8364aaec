// Pod → cgroup resolution: where kubelet put each pod and container of the pod list (cg::KubeletLayout), keeping
// the statistics already gathered for pods and containers that were known before.
#pragma once

#include <vector>

#include "agent/runtime/snapshot.h"
#include "cgroups/cgroup_fs.h"
#include "cgroups/kubelet_layout.h"

namespace slo::agent {

struct ResolveCounts {
  size_t pods = 0, pods_found = 0, containers = 0, containers_found = 0, terminal_skipped = 0;
};

// layout == nullptr (no kubepods tree yet): every pod is listed with empty cgroups.
std::vector<PodState> resolve_pods(const cg::CgroupFs& fs, const cg::KubeletLayout* layout,
                                   const std::vector<model::Pod>& pods, const std::vector<PodState>& previous,
                                   ResolveCounts* counts = nullptr);

}  // namespace slo::agent
