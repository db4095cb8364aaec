// Where the node's CPU and memory go, from one snapshot's cumulative counters: LS and BE CPU (cores, since the
// previous snapshot), per-pod CPU rates when asked for, and the system share (node busy time from /proc/stat minus
// the pods). BE suppression and the reclaimed-resource estimate both read it, so they cannot disagree on what
// "LS usage" or "system usage" means.
//
// LS and BE usage come from the QoS tier cgroups when the snapshot has them (Snapshot::tiers: LS = kubepods −
// besteffort, which counts guaranteed and burstable pods, and pods the pod list does not know yet), otherwise from
// the pods' own cgroups summed by QoS class (fake trees without tier stats, runtimes that do not read them).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "agent/decide/colocation/usage_rates.h"
#include "agent/runtime/snapshot.h"

namespace slo::colocation {

class NodeUsage {
 public:
  // totals: LS/BE/system only, no per-pod rate when the tiers give the sums (BE suppression, every period);
  // per_pod: every pod's rate as well (the reclaimed estimate needs each high-priority pod's usage).
  enum class Detail { totals, per_pod };

  // True when the snapshot carries usage of kubepods and of the besteffort tier, so the sums need no pod.
  static bool tiers_available(const agent::Snapshot& snap);

  // Feeds one snapshot. Pods without a cgroup are skipped; a first sample (or a counter reset) has no rate.
  void update(const agent::Snapshot& snap, Detail detail = Detail::per_pod);
  // Tier usage was seen within kTierGrace before `now`: a snapshot without it (the runtime re-resolving the pod set)
  // is a gap, not a reason to switch to the pods' sums, whose rates are not kept up to date meanwhile.
  bool tiers_recent(std::chrono::steady_clock::time_point now) const;
  static constexpr std::chrono::seconds kTierGrace{5};

  // CPU rate of a pod in the last per_pod update (nullopt: no rate yet, no cgroup, or a totals update).
  std::optional<double> pod_cpu_cores(const agent::PodState& p) const;
  double ls_cpu_cores() const { return ls_cpu_; }      // non-BE pods (pods without a rate count 0)
  double be_cpu_cores() const { return be_cpu_; }      // BE pods
  bool from_tiers() const { return from_tiers_; }      // the last update took LS/BE from the tier cgroups
  // Node busy − pods, re-estimated whenever the /proc/stat counter moved (slow ticks); held in between.
  double system_cpu_cores() const { return system_cpu_; }
  // Pods' working set: kubepods' when read, else Σ pod working sets (0 when not read yet).
  int64_t pods_memory_bytes() const { return pods_mem_; }
  int64_t system_memory_bytes() const { return system_mem_; }  // node used − pods, floored at 0
  bool any_pod_rate() const { return any_rate_; }     // at least one pod (or tier) had a rate in the last update

 private:
  UsageRates rates_;       // pod cgroup → rate
  UsageRates tier_rates_;  // "kubepods", "besteffort" → rate
  bool per_pod_ = false;
  double ls_cpu_ = 0, be_cpu_ = 0, system_cpu_ = 0;
  bool from_tiers_ = false;
  int64_t pods_mem_ = 0, system_mem_ = 0;
  bool any_rate_ = false;
  std::optional<uint64_t> last_busy_ns_;
  std::optional<uint64_t> last_busy_kubepods_ns_;  // kubepods usage read with last_busy_ns_ (tiers only)
  std::chrono::steady_clock::time_point last_busy_at_{};
  std::chrono::steady_clock::time_point last_forget_{};
  std::optional<std::chrono::steady_clock::time_point> tiers_seen_at_;
};

}  // namespace slo::colocation
