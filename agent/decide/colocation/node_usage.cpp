#include "agent/decide/colocation/node_usage.h"

#include <algorithm>

namespace slo::colocation {

void NodeUsage::update(const agent::Snapshot& snap) {
  pod_rates_.clear();
  ls_cpu_ = be_cpu_ = 0;
  pods_mem_ = 0;
  any_rate_ = false;
  for (const auto& p : snap.pods) {
    if (p.cgroup.empty()) continue;
    std::optional<double> r;
    if (p.stats.cpu_usage_ns) r = rates_.update(p.cgroup, *p.stats.cpu_usage_ns, p.stats.cpu_stat_at);
    pod_rates_[p.cgroup] = r;
    if (p.stats.memory) pods_mem_ += p.stats.memory->working_set_bytes;
    if (!r) continue;
    any_rate_ = true;
    (p.pod.qos == model::QosClass::BE ? be_cpu_ : ls_cpu_) += *r;
  }
  rates_.forget_older_than(snap.now - std::chrono::minutes(5));
  // /proc/stat is read on slow ticks only: estimate when it moved, against the pods' rates of this update.
  const auto& busy = snap.node.cpu_busy_ns;
  if (busy && (!last_busy_ns_ || *busy != *last_busy_ns_)) {
    if (last_busy_ns_ && snap.now > last_busy_at_ && *busy > *last_busy_ns_) {
      double node = static_cast<double>(*busy - *last_busy_ns_) / 1e9 /
                    std::chrono::duration<double>(snap.now - last_busy_at_).count();
      system_cpu_ = std::max(0.0, node - ls_cpu_ - be_cpu_);
    }
    last_busy_ns_ = busy;
    last_busy_at_ = snap.now;
  }
  if (snap.node.memory_used_bytes > 0) system_mem_ = std::max<int64_t>(0, snap.node.memory_used_bytes - pods_mem_);
}

std::optional<double> NodeUsage::pod_cpu_cores(const agent::PodState& p) const {
  auto it = pod_rates_.find(p.cgroup);
  return it == pod_rates_.end() ? std::nullopt : it->second;
}

}  // namespace slo::colocation
