// Scheduler probe of tracked pod cgroups, from three scheduler tracepoints only:
//  - run-queue latency: time from a task becoming runnable (wakeup, new task, or preemption while runnable) until
//    it is switched onto a CPU, as a log2 histogram (µs) per tracked pod;
//  - CFS throttle events: a task of a tracked pod switched out while runnable because its group ran out of quota
//    (its cfs_rq's throttle_count > 0), pushed through a ring buffer so a controller can react at once.
//
// Why throttling is seen from sched_switch and not from throttle_cfs_rq: see docs/bpf.md (fentry/fexit are refused
// with EPERM on the target kernels and kprobes are compiled out; there is no throttle tracepoint). Time a task
// spends throttled is deliberately NOT counted as run-queue latency: that signal is meant to show interference
// from other pods, while throttling is the pod's own quota (reported separately).
//
// Two program sets with the same logic: tp_btf (typed BTF tracepoints, cheapest) and raw_tp (for kernels where
// tp_btf cannot load or attach). The loader enables exactly one set before load.
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "sched_types.h"

char LICENSE[] SEC("license") = "GPL";

#define TASK_RUNNING 0

// Minimum gap between two throttle events of the same pod (all CPUs of a group throttle within one period).
const volatile __u64 throttle_min_gap_ns = 5000000;

struct wake_rec {
  __u64 ts_ns;
  __u32 slot;
  __u32 pad;
};

// Whether the tp_btf programs keep the pending wakeup in task-local storage (the loader enables it on kernels whose
// local storage allocates with bpf_mem_alloc, safe under the rq lock: 6.4+). Otherwise, and always for raw_tp, the
// `inflight` hash map below holds it (an update and a delete per sample, about twice the cost).
const volatile bool use_task_storage = false;

struct {
  __uint(type, BPF_MAP_TYPE_TASK_STORAGE);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, int);
  __type(value, struct wake_rec);
} wake_task SEC(".maps");

// Whether the tp_btf sched_switch program reads the scheduler's own queue stamp (task->sched_info.last_queued,
// CONFIG_SCHED_INFO) against this CPU's rq clock. Then the wakeup programs are not loaded at all. Chosen by the
// loader when the kernel's BTF has the field and cfs_rq->rq (CONFIG_FAIR_GROUP_SCHED).
const volatile bool use_sched_info = false;

// Tracked tasks taken off a CPU by a throttle (sched_info mode): their next sample would include the throttled time.
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 4096);
  __type(key, __u32);
  __type(value, __u8);
} throttled_tids SEC(".maps");

// tid → when it became runnable and which pod slot it counts for.
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, SLO_RUNQ_MAX_INFLIGHT);
  __type(key, __u32);
  __type(value, struct wake_rec);
} inflight SEC(".maps");

// Per-CPU histograms: no atomics on the hot path; user space sums the CPUs.
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, SLO_RUNQ_MAX_SLOTS);
  __type(key, __u32);
  __type(value, struct slo_runq_hist);
} hists SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct slo_runq_counters);
} counters SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 64 * 1024);
} throttle_events SEC(".maps");

// Tracked pod id → time of its last throttle event (rate limit).
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, SLO_MAX_TRACKED_CGROUPS);
  __type(key, __u64);
  __type(value, __u64);
} throttle_last SEC(".maps");

// Settings written by the loader before load (rodata: the verifier sees constants, dead branches are pruned).
const volatile __u32 hierarchy_mode = SLO_HIER_V1;

// Cgroups of known pods: kernfs id → histogram slot.
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, SLO_MAX_TRACKED_CGROUPS);
  __type(key, __u64);
  __type(value, __u32);
} tracked SEC(".maps");

// Number of entries in `tracked`, kept by the loader: lets every probe return at once while nothing is tracked.
volatile __u32 tracked_count = 0;

// Kernels before 5.14 call the task state field `state`.
struct task_struct___pre514 {
  volatile long state;
} __attribute__((preserve_access_index));

static __always_inline struct slo_runq_counters *counters_here(void) {
  __u32 zero = 0;
  return bpf_map_lookup_elem(&counters, &zero);
}

static __always_inline __u32 log2_u64(__u64 v) {
  __u32 r = 0;
  // Binary search over the bit width: 6 steps, no loop for the verifier to bound.
  if (v >> 32) { v >>= 32; r += 32; }
  if (v >> 16) { v >>= 16; r += 16; }
  if (v >> 8) { v >>= 8; r += 8; }
  if (v >> 4) { v >>= 4; r += 4; }
  if (v >> 2) { v >>= 2; r += 2; }
  if (v >> 1) { r += 1; }
  return r;
}

// tp_btf: typed arguments, direct loads.
#define SLO_ATTR_VARIANT btf
#define SLO_RD(p, f) ((p)->f)
#define SLO_TASK_STORAGE 1
#define SLO_SCHED_INFO 1
#include "sched_probe_handlers.bpf.h"
#undef SLO_ATTR_VARIANT
#undef SLO_RD
#undef SLO_TASK_STORAGE
#undef SLO_SCHED_INFO

// raw_tp: untyped arguments, probe reads.
#define SLO_ATTR_VARIANT raw
#define SLO_RD(p, f) BPF_CORE_READ(p, f)
#define SLO_TASK_STORAGE 0  // task storage needs a typed task pointer
#define SLO_SCHED_INFO 0    // the rq clock needs a typed per-CPU pointer
#include "sched_probe_handlers.bpf.h"
#undef SLO_ATTR_VARIANT
#undef SLO_RD
#undef SLO_TASK_STORAGE
#undef SLO_SCHED_INFO

SEC("tp_btf/sched_wakeup")
int BPF_PROG(btf_sched_wakeup, struct task_struct *p) { return on_wakeup_btf(p); }

SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(btf_sched_wakeup_new, struct task_struct *p) { return on_wakeup_btf(p); }

SEC("tp_btf/sched_switch")
int BPF_PROG(btf_sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next) {
  return on_switch_btf(prev, next);
}

SEC("raw_tp/sched_wakeup")
int BPF_PROG(raw_sched_wakeup, struct task_struct *p) { return on_wakeup_raw(p); }

SEC("raw_tp/sched_wakeup_new")
int BPF_PROG(raw_sched_wakeup_new, struct task_struct *p) { return on_wakeup_raw(p); }

SEC("raw_tp/sched_switch")
int BPF_PROG(raw_sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next) {
  return on_switch_raw(prev, next);
}
