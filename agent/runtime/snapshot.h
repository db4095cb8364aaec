// What one tick observed: immutable for the controllers that decide on it.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/model/pod.h"
#include "agent/model/topology.h"
#include "cgroups/cgroup_fs.h"
#include "cgroups/kubelet_layout.h"

namespace slo::agent {

// Facts about the host, probed once at start (and on config reload for policy-dependent parts).
struct HostInfo {
  std::string node_name;
  std::map<std::string, std::string> node_labels;
  std::string cgroup_root, resctrl_root, sysfs_root, proc_root, state_dir;
  cg::Mode mode = cg::Mode::v1;
  std::optional<cg::KubeletLayout> layout;  // nullopt: no kubepods tree yet
  bool kernel_burst = false;                // cpu.cfs_burst_us / cpu.max.burst exist
  model::Topology topology;
  bool bpf_available = false;
  std::string kubelet_cpu_manager_state;  // path of cpu_manager_state (may not exist)
};

struct ContainerStats {
  std::optional<cg::CpuStat> cpu_stat;      // absent when not read this tick or the cgroup is gone
  std::chrono::steady_clock::time_point cpu_stat_at{};
  std::optional<uint64_t> cpu_usage_ns;     // cumulative
  std::optional<cg::MemoryUsage> memory;    // every slow tick, pod and tier cgroups only (containers: no consumer)
};

struct ContainerState {
  model::Container spec;
  cg::CgroupPath cgroup;  // relative cgroup path; empty when the container's cgroup was not found
  ContainerStats stats;
};

struct PodState {
  model::Pod pod;
  cg::CgroupPath cgroup;  // pod-level cgroup; empty when not found
  cg::QosTier tier = cg::QosTier::besteffort;
  ContainerStats stats;  // pod-level cgroup stats
  std::vector<ContainerState> containers;
};

// The QoS tier cgroups of HostInfo.layout, read like pod cgroups: cpu (cpu.stat, and cpuacct.usage on v1) and memory
// on every slow tick, cpu on fast ticks while a controller marks the cgroup hot (board.hot_cgroups: the path is
// layout->kubepods or layout->tier_dir(t)). `kubepods` is every pod's total (guaranteed pods sit directly in it, so
// non-BE usage = kubepods − besteffort). Values stay absent without a layout, when a cgroup does not exist (fake
// trees) or before its first read: consumers then fall back to summing pods.
struct TierStats {
  ContainerStats kubepods, burstable, besteffort;
};

struct NodeStats {
  double cpu_capacity_cores = 0;  // online CPUs
  std::optional<uint64_t> cpu_busy_ns;  // cumulative busy time of all CPUs (/proc/stat), for deltas
  int64_t memory_total_bytes = 0;
  int64_t memory_available_bytes = 0;  // MemAvailable
  int64_t memory_used_bytes = 0;       // total − available
};

// Knob values as the executor knows them: last read or written, and the value before the agent first changed it.
class KnobView {
 public:
  virtual ~KnobView() = default;
  virtual std::optional<cg::KnobValue> current(const cg::KnobRef& ref) const = 0;
  virtual std::optional<cg::KnobValue> original(const cg::KnobRef& ref) const = 0;
  // Changes whenever an answer of current() or original() may have changed through the view itself (a write, a
  // restore, a journal change, a fresh read that differs). 0 = not tracked: do not cache answers. A knob nobody
  // holds can also change from outside (kubelet), which no epoch sees: a caller keeping answers across ticks asks
  // again after kRefreshAfter, as the executor re-reads such knobs after that long anyway. Lets a controller that
  // asks for the same knobs every 100 ms skip the lookups in maps keyed by long paths.
  virtual uint64_t epoch() const { return 0; }
  static constexpr std::chrono::seconds kRefreshAfter{10};
};

struct Snapshot {
  uint64_t tick = 0;
  std::chrono::steady_clock::time_point now{};
  std::chrono::system_clock::time_point wall{};
  const HostInfo* host = nullptr;
  NodeStats node;
  std::vector<PodState> pods;
  // Changes whenever `pods` is rebuilt (pod set or cgroups changed); 0 = not tracked. Between changes the pods,
  // their cgroups and containers stay the same, so a controller may keep what it derived from them.
  uint64_t pods_generation = 0;
  TierStats tiers;
  const KnobView* knobs = nullptr;
  // Cgroups CRs (resources.alibabacloud.com/v1alpha1, whole objects as the API server or --policy-dir gives them)
  // that this node may have to apply; the Cgroups CR controller validates them and matches them to local pods.
  std::vector<nlohmann::json> cgroups_crs;

  const PodState* find_pod(const std::string& key) const {
    for (const auto& p : pods)
      if (p.pod.key() == key) return &p;
    return nullptr;
  }
};

}  // namespace slo::agent
