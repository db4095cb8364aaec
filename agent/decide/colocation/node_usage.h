// Where the node's CPU and memory go, from one snapshot's cumulative counters: per-pod CPU rates (cores, from the
// pod cgroups' usage since the previous snapshot), LS and BE sums, and the system share (node busy time from
// /proc/stat minus every pod). BE suppression and the reclaimed-resource estimate both read it, so they cannot
// disagree on what "LS usage" or "system usage" means.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "agent/decide/colocation/usage_rates.h"
#include "agent/runtime/snapshot.h"

namespace slo::colocation {

class NodeUsage {
 public:
  // Feeds one snapshot. Pods without a cgroup are skipped; a pod's first sample (or a counter reset) has no rate.
  void update(const agent::Snapshot& snap);

  // CPU rate of a pod in the last update (nullopt: no rate yet, or no cgroup).
  std::optional<double> pod_cpu_cores(const agent::PodState& p) const;
  double ls_cpu_cores() const { return ls_cpu_; }      // non-BE pods, summed (pods without a rate count 0)
  double be_cpu_cores() const { return be_cpu_; }      // BE pods, summed
  // Node busy − pods, re-estimated whenever the /proc/stat counter moved (slow ticks); held in between.
  double system_cpu_cores() const { return system_cpu_; }
  int64_t pods_memory_bytes() const { return pods_mem_; }    // Σ pod working sets (0 when not read yet)
  int64_t system_memory_bytes() const { return system_mem_; }  // node used − pods, floored at 0
  bool any_pod_rate() const { return any_rate_; }     // at least one pod had a rate in the last update

 private:
  UsageRates rates_;
  std::map<std::string, std::optional<double>> pod_rates_;  // pod cgroup → rate in the last update
  double ls_cpu_ = 0, be_cpu_ = 0, system_cpu_ = 0;
  int64_t pods_mem_ = 0, system_mem_ = 0;
  bool any_rate_ = false;
  std::optional<uint64_t> last_busy_ns_;
  std::chrono::steady_clock::time_point last_busy_at_{};
};

}  // namespace slo::colocation
