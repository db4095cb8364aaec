#include "agent/decide/colocation/batch_resources_controller.h"

#include <algorithm>

namespace slo::colocation {

int64_t BatchResourcesController::shares_for_millis(int64_t millis) {
  return std::clamp<int64_t>(millis * 1024 / 1000, 2, 262144);
}

std::optional<std::string> BatchResourcesController::configure(const nlohmann::json& policy) {
  bool enable = true;
  if (policy.is_object())
    if (auto b = policy.find("batchResourceStrategy"); b != policy.end() && b->is_object())
      if (auto e = b->find("enable"); e != b->end()) {
        if (!e->is_boolean()) return std::string("batchResourceStrategy.enable: must be true or false");
        enable = e->get<bool>();
      }
  enable_ = enable;
  return std::nullopt;
}

void BatchResourcesController::decide(const agent::Snapshot& snap, agent::Blackboard& board,
                                      agent::IntentSink& out) {
  if (!enable_) return;
  for (const auto& p : snap.pods) {
    if (p.pod.qos != model::QosClass::BE || p.cgroup.empty()) continue;
    if (board.cr_owned_cgroups.count(p.cgroup)) continue;
    int64_t pod_req = 0, pod_lim = 0, pod_mem = 0;
    bool all_cpu_limited = true, all_mem_limited = true, any = false;
    std::string why;  // built once per pod, and only for a pod with batch resources
    for (const auto& c : p.containers) {
      const auto& rq = c.spec.requests;
      const auto& lm = c.spec.limits;
      if (!rq.batch_cpu_millis && !lm.batch_cpu_millis && !lm.batch_memory_bytes) {
        all_cpu_limited = all_mem_limited = false;
        continue;
      }
      any = true;
      pod_req += rq.batch_cpu_millis.value_or(0);
      if (lm.batch_cpu_millis) pod_lim += *lm.batch_cpu_millis; else all_cpu_limited = false;
      if (lm.batch_memory_bytes) pod_mem += *lm.batch_memory_bytes; else all_mem_limited = false;
      if (c.cgroup.empty() || board.cr_owned_cgroups.count(c.cgroup)) continue;
      if (why.empty()) why = "batch resources of BE pod " + p.pod.key();
      if (rq.batch_cpu_millis)
        out.set({c.cgroup, cg::Knob::cpu_shares, {}}, cg::KnobValue{shares_for_millis(*rq.batch_cpu_millis)},
                why + ": shares from kubernetes.io/batch-cpu request " + std::to_string(*rq.batch_cpu_millis) + "m");
      if (lm.batch_cpu_millis)
        out.set({c.cgroup, cg::Knob::cpu_quota, {}},
                cg::KnobValue{std::max<int64_t>(1000, *lm.batch_cpu_millis * 100)},  // period 100 ms
                why + ": quota from kubernetes.io/batch-cpu limit " + std::to_string(*lm.batch_cpu_millis) + "m");
      if (lm.batch_memory_bytes)
        out.set({c.cgroup, cg::Knob::memory_limit, {}}, cg::KnobValue{*lm.batch_memory_bytes},
                why + ": memory limit from kubernetes.io/batch-memory limit");
    }
    if (!any) continue;
    // The pod cgroup bounds its containers: only when every container is limited is the pod limited.
    if (why.empty()) why = "batch resources of BE pod " + p.pod.key();
    why += " (sum over containers)";
    if (pod_req > 0) out.set({p.cgroup, cg::Knob::cpu_shares, {}}, cg::KnobValue{shares_for_millis(pod_req)}, why);
    if (all_cpu_limited && pod_lim > 0)
      out.set({p.cgroup, cg::Knob::cpu_quota, {}}, cg::KnobValue{std::max<int64_t>(1000, pod_lim * 100)}, why);
    if (all_mem_limited && pod_mem > 0) out.set({p.cgroup, cg::Knob::memory_limit, {}}, cg::KnobValue{pod_mem}, why);
  }
}

}  // namespace slo::colocation
