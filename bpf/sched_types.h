// Types and limits shared by the scheduler BPF programs and their C++ loaders. Only fixed-width kernel UAPI types,
// so the same layout is seen by clang -target bpf (via vmlinux.h) and by g++ (via <linux/types.h>).
#pragma once

#ifndef __bpf__
#include <linux/types.h>
#endif

// Log2 buckets of run-queue delay in microseconds: bucket k counts delays d with floor(log2(d_us)) == k (0 and 1 µs
// land in bucket 0). 27 buckets reach 2^27 µs ≈ 134 s; longer delays are clamped into the last bucket.
#define SLO_RUNQ_BUCKETS 27

// Pods whose histograms can be kept at once (slots of the per-CPU histogram array).
#define SLO_RUNQ_MAX_SLOTS 1024
// Cgroup ids (kernfs node ids) tracked at once: pod cgroups (a pod's containers are found by walking up).
#define SLO_MAX_TRACKED_CGROUPS 4096
// Tasks woken and not yet on a CPU at once (bounded; an overflow only loses samples, counted).
#define SLO_RUNQ_MAX_INFLIGHT 16384
// How many cgroup levels are walked up from a task's cgroup to find a tracked (pod) ancestor. kubepods/<tier>/
// pod<uid>/<container> puts the container 1 level below the pod; extra levels cover nested runtimes and
// --cgroup-root parents.
#define SLO_MAX_ANCESTOR_WALK 8

// Which cgroup of a task is attributed (rodata hierarchy_mode).
#define SLO_HIER_V1 1  // the task's cgroup in the v1 cpu hierarchy (v1 and hybrid hosts)
#define SLO_HIER_V2 2  // the task's default (cgroup2) cgroup

struct slo_runq_hist {
  __u64 buckets[SLO_RUNQ_BUCKETS];
  __u64 sum_ns;  // total delay, for the Prometheus _sum
};

// Per-CPU counters of the run-queue program (index 0 of a per-CPU array).
struct slo_runq_counters {
  __u64 samples;        // delays recorded into a histogram
  __u64 inflight_full;  // wakeups not recorded because the in-flight map was full
  __u64 throttle_lost;  // throttle events dropped because the ring buffer was full
};

// A task of a tracked pod taken off a CPU because its group was CFS-throttled (ring buffer record; at most one
// per pod per throttle_min_gap_ns).
struct slo_throttle_event {
  __u64 ts_ns;           // bpf_ktime_get_ns() (CLOCK_MONOTONIC)
  __u64 cgroup_id;       // kernfs id of the task's group (its container, or the pod itself)
  __u64 tracked_id;      // kernfs id of the tracked ancestor-or-self (the pod cgroup)
  __u32 cpu;
  __u32 pad;
};
