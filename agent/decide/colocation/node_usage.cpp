#include "agent/decide/colocation/node_usage.h"

#include <algorithm>

namespace slo::colocation {
namespace {

const std::string kKubepods = "kubepods";
const std::string kBesteffort = "besteffort";

}  // namespace

bool NodeUsage::tiers_available(const agent::Snapshot& snap) {
  return snap.tiers.kubepods.cpu_usage_ns.has_value() && snap.tiers.besteffort.cpu_usage_ns.has_value();
}

bool NodeUsage::tiers_recent(std::chrono::steady_clock::time_point now) const {
  return tiers_seen_at_ && now - *tiers_seen_at_ <= kTierGrace;
}

void NodeUsage::update(const agent::Snapshot& snap, Detail detail) {
  if (detail == Detail::totals && !tiers_available(snap) && tiers_recent(snap.now)) return;  // a gap: hold
  ls_cpu_ = be_cpu_ = 0;
  pods_mem_ = 0;
  any_rate_ = false;
  from_tiers_ = tiers_available(snap);
  per_pod_ = detail == Detail::per_pod || !from_tiers_;
  const auto& kube = snap.tiers.kubepods;
  if (from_tiers_) {
    tiers_seen_at_ = snap.now;
    const auto& be = snap.tiers.besteffort;
    auto k = tier_rates_.update(kKubepods, *kube.cpu_usage_ns, kube.cpu_stat_at);
    auto b = tier_rates_.update(kBesteffort, *be.cpu_usage_ns, be.cpu_stat_at);
    if (k && b) {
      any_rate_ = true;
      be_cpu_ = *b;
      ls_cpu_ = std::max(0.0, *k - *b);  // read in the same tick; a tiny negative is read skew
    }
  }
  const bool kube_mem = kube.memory.has_value();
  if (kube_mem) pods_mem_ = kube.memory->working_set_bytes;
  if (per_pod_ || !kube_mem) {
    for (const auto& p : snap.pods) {
      if (p.cgroup.empty()) continue;
      if (!kube_mem && p.stats.memory) pods_mem_ += p.stats.memory->working_set_bytes;
      if (!per_pod_ || !p.stats.cpu_usage_ns) continue;
      auto r = rates_.update(p.cgroup, *p.stats.cpu_usage_ns, p.stats.cpu_stat_at);
      if (!r) continue;
      any_rate_ = true;
      if (!from_tiers_) (p.pod.qos == model::QosClass::BE ? be_cpu_ : ls_cpu_) += *r;
    }
    // Pods that left: a scan of every entry, so not on every update.
    if (per_pod_ && snap.now - last_forget_ >= std::chrono::seconds(10)) {
      rates_.forget_older_than(snap.now - std::chrono::minutes(5));
      last_forget_ = snap.now;
    }
  }
  // /proc/stat is read on slow ticks only: estimate when it moved. With the tiers, kubepods' usage over exactly the
  // same interval (both are read in the slow tick); without, the pods' rates of this update.
  const auto& busy = snap.node.cpu_busy_ns;
  if (busy && (!last_busy_ns_ || *busy != *last_busy_ns_)) {
    const std::optional<uint64_t> kube_ns = from_tiers_ ? kube.cpu_usage_ns : std::nullopt;
    if (last_busy_ns_ && snap.now > last_busy_at_ && *busy > *last_busy_ns_) {
      double dt = std::chrono::duration<double>(snap.now - last_busy_at_).count();
      double node = static_cast<double>(*busy - *last_busy_ns_) / 1e9 / dt;
      if (kube_ns && last_busy_kubepods_ns_ && *kube_ns >= *last_busy_kubepods_ns_)
        system_cpu_ = std::max(0.0, node - static_cast<double>(*kube_ns - *last_busy_kubepods_ns_) / 1e9 / dt);
      else
        system_cpu_ = std::max(0.0, node - ls_cpu_ - be_cpu_);
    }
    last_busy_ns_ = busy;
    last_busy_kubepods_ns_ = kube_ns;
    last_busy_at_ = snap.now;
  }
  if (snap.node.memory_used_bytes > 0) system_mem_ = std::max<int64_t>(0, snap.node.memory_used_bytes - pods_mem_);
}

std::optional<double> NodeUsage::pod_cpu_cores(const agent::PodState& p) const {
  // The rate of the pod's latest sample, which the last update fed (a sample seen again keeps its rate).
  if (!per_pod_ || p.cgroup.empty() || !p.stats.cpu_usage_ns) return std::nullopt;
  return rates_.last(p.cgroup);
}

}  // namespace slo::colocation
