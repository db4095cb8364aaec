// C++ loader of sched_probe.bpf.c (static library slo_bpf): run-queue latency histograms and CFS throttle events
// for tracked pod cgroups.
//
// Tracked cgroups are given by id (kernfs id = directory inode, see cgroup_id.h); a task counts for the nearest
// tracked ancestor-or-self of its cgroup in the attributed hierarchy (v1 cpu controller, or cgroup2). In a build
// without BPF (-Dbpf=disabled) open() always fails with a message saying so.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "bpf/runq_histogram.h"

namespace slo::bpf {

enum class Hierarchy { v1_cpu, v2 };
enum class AttachKind { tp_btf, raw_tp };
std::string_view to_string(AttachKind k);

// Whether this build contains the BPF programs at all.
bool built_with_bpf();

struct SchedProbeOptions {
  Hierarchy hierarchy = Hierarchy::v1_cpu;
  // raw_tp skips the tp_btf attempt (tests and the benchmark use it to exercise the fallback).
  AttachKind first = AttachKind::tp_btf;
  // At most one throttle event per pod per gap (every CPU of a throttled group reports within one period).
  uint64_t throttle_min_gap_ns = 5'000'000;
};

struct SchedProbeCounters {
  uint64_t samples = 0;        // run-queue delays recorded
  uint64_t inflight_full = 0;  // wakeups lost because the in-flight map was full
  uint64_t throttle_lost = 0;  // throttle events lost because the ring buffer was full
};

struct ThrottleEvent {
  uint64_t ts_ns = 0;       // CLOCK_MONOTONIC
  uint64_t cgroup_id = 0;   // the task's own group (container or pod cgroup)
  uint64_t tracked_id = 0;  // its tracked ancestor-or-self (the pod)
  uint32_t cpu = 0;
};

// Kernel-side cost of one attached program (counted only while BPF run-time stats are enabled, see
// enable_run_time_stats()).
struct ProgramStats {
  std::string name;
  uint64_t run_count = 0;
  uint64_t run_time_ns = 0;
};

// Turns on the kernel's BPF run-time statistics for as long as the returned fd is open (BPF_ENABLE_STATS; the
// stats themselves cost two clock reads per run, so only benchmarks use this). -errno on failure.
int enable_run_time_stats();

class SchedProbe {
 public:
  // Loads and attaches. Tries the tp_btf programs first and falls back to raw_tp when they fail to load or attach.
  // nullptr on failure, with the reasons of every attempt in *error.
  static std::unique_ptr<SchedProbe> open(const SchedProbeOptions& options, std::string* error);
  ~SchedProbe();
  SchedProbe(const SchedProbe&) = delete;
  SchedProbe& operator=(const SchedProbe&) = delete;

  AttachKind attach_kind() const;
  // Whether pending wakeups live in task-local storage (tp_btf on Linux ≥ 6.4) rather than a hash map.
  bool uses_task_storage() const;
  // Whether delays come from the scheduler's own queue stamp (tp_btf with CONFIG_SCHED_INFO): then only
  // sched_switch is attached and no clock is read (the cheapest mode, docs/bpf.md).
  bool uses_sched_info() const;
  // Why tp_btf was not used (empty when it was).
  const std::string& tp_btf_failure() const;

  // Starts counting tasks of `cgroup_id` and its descendants into a fresh (zeroed) histogram. Tracking an id twice
  // keeps its histogram. False (and *error) when every slot is in use or the map update fails.
  bool track(uint64_t cgroup_id, std::string* error);
  void untrack(uint64_t cgroup_id);
  bool tracked(uint64_t cgroup_id) const;
  size_t tracked_count() const;
  // Cumulative run-queue histogram since track(), summed over CPUs. False when not tracked or the read fails.
  bool read(uint64_t cgroup_id, RunqHistogram& out) const;
  // read() of many ids with few syscalls: slots close to each other are read by one BPF_MAP_LOOKUP_BATCH (per-id
  // lookups where the kernel lacks batch ops for this map). out[i] and ok[i] answer ids[i] (ok 0: not tracked or
  // the read failed).
  void read_many(const std::vector<uint64_t>& ids, std::vector<RunqHistogram>& out, std::vector<char>& ok) const;
  SchedProbeCounters counters() const;
  // Run counts and times of the attached programs.
  std::vector<ProgramStats> program_stats() const;

  // Throttle events. An epoll fd that becomes readable when events are pending (owned by the probe): wrap a dup()
  // of it in a boost::asio::posix::stream_descriptor, async_wait(wait_read), then drain().
  int throttle_epoll_fd() const;
  // Hands every pending throttle event to on_event without blocking. Returns the number handled, or -errno.
  int drain_throttle_events(const std::function<void(const ThrottleEvent&)>& on_event);

 private:
  struct Impl;
  explicit SchedProbe(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace slo::bpf
