// Fallback run-queue latency source when the BPF probe cannot load (no BTF, no privilege, -Dbpf=disabled):
// per-task /proc/<pid>/task/<tid>/schedstat ("<run ns> <run-queue wait ns> <timeslices>") for every task of a pod,
// found through cgroup.procs of the pod cgroup and its descendants.
//
// Reduced accuracy, by construction: schedstat only has cumulative totals per task, so the sampler can know each
// task's MEAN wait per timeslice over an interval, not the distribution of individual waits. The histogram it
// builds puts all of a task's timeslices of the interval at that task's mean; a pod's "p99" is therefore the p99 of
// per-task means (spikes inside one task's interval are averaged away, so it underestimates the true p99).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "bpf/runq_histogram.h"

namespace slo::agent::runq {

struct TaskSchedstat {
  uint64_t run_ns = 0;
  uint64_t wait_ns = 0;  // time spent runnable on a run queue (field 2)
  uint64_t timeslices = 0;
};

// Parses one schedstat line; nullopt when malformed.
std::optional<TaskSchedstat> parse_schedstat(const std::string& text);

class SchedstatSampler {
 public:
  // proc_root: "/proc" or a fake tree. cgroup_dirs are absolute directories of the pod cgroup in the hierarchy
  // that holds cgroup.procs (v1 cpu, or the unified tree).
  explicit SchedstatSampler(std::string proc_root) : proc_root_(std::move(proc_root)) {}

  // Reads every task of the pod now and returns the approximate histogram of the interval since the previous call
  // for the same pod (empty on the first call: it only sets the baseline). Tasks first seen now only set their
  // baseline; tasks gone since are dropped. nullopt when the pod cgroup itself is gone.
  std::optional<bpf::RunqHistogram> sample(const std::string& pod_key, const std::string& cgroup_dir);
  void forget(const std::string& pod_key) { pods_.erase(pod_key); }
  size_t tasks_seen(const std::string& pod_key) const;

  // Pids listed in cgroup.procs of dir and all its descendant cgroups (sorted, unique). nullopt when dir is gone.
  static std::optional<std::vector<pid_t>> pids_below(const std::string& cgroup_dir);

 private:
  std::string proc_root_;
  std::map<std::string, std::map<pid_t, TaskSchedstat>> pods_;  // pod key → tid → last reading
};

}  // namespace slo::agent::runq
