#include "agent/observe/pod_resolver.h"

#include <unordered_map>

namespace slo::agent {

std::vector<PodState> resolve_pods(const cg::CgroupFs& fs, const cg::KubeletLayout* layout,
                                   const std::vector<model::Pod>& pods, const std::vector<PodState>& previous,
                                   ResolveCounts* counts) {
  std::unordered_map<std::string, const PodState*> prev;
  for (const auto& p : previous) prev.emplace(p.pod.uid, &p);
  const cg::Controller probe = fs.controller_dir(cg::Controller::cpu) ? cg::Controller::cpu : cg::Controller::cpuacct;
  ResolveCounts c;
  std::vector<PodState> out;
  out.reserve(pods.size());
  for (const auto& pod : pods) {
    if (pod.terminal()) {
      ++c.terminal_skipped;
      continue;
    }
    ++c.pods;
    PodState ps;
    ps.pod = pod;
    ps.tier = model::tier_of(pod.kube_qos);
    const PodState* old = nullptr;
    if (auto it = prev.find(pod.uid); it != prev.end()) old = it->second;
    if (layout) {
      if (auto dir = layout->pod_dir(ps.tier, pod.uid); dir && fs.exists(*dir, probe)) ps.cgroup = *dir;
    }
    if (!ps.cgroup.empty()) ++c.pods_found;
    if (old && old->cgroup == ps.cgroup) {
      ps.cgroup = old->cgroup;  // the same text: keep the handle the executor's knob refs already share
      ps.stats = old->stats;
    }
    for (const auto& ctr : pod.containers) {
      ++c.containers;
      ContainerState cs;
      cs.spec = ctr;
      if (layout && !ps.cgroup.empty() && ctr.ref) {
        if (auto d = layout->find_container_dir(fs, ps.cgroup, *ctr.ref)) cs.cgroup = *d;
      }
      if (!cs.cgroup.empty()) ++c.containers_found;
      if (old)
        for (const auto& oc : old->containers)
          if (oc.spec.name == ctr.name && oc.cgroup == cs.cgroup) {
            cs.cgroup = oc.cgroup;
            cs.stats = oc.stats;
          }
      ps.containers.push_back(std::move(cs));
    }
    out.push_back(std::move(ps));
  }
  if (counts) *counts = c;
  return out;
}

}  // namespace slo::agent
