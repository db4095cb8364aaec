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

#include "cgroup_attr.bpf.h"
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

static __always_inline void record_runnable(__u32 tid, __u32 slot) {
  struct wake_rec rec = {.ts_ns = bpf_ktime_get_ns(), .slot = slot};
  if (bpf_map_update_elem(&inflight, &tid, &rec, BPF_ANY) != 0) {
    struct slo_runq_counters *c = counters_here();
    if (c) c->inflight_full++;
  }
}

static __always_inline int on_wakeup(struct task_struct *p) {
  if (tracked_count == 0) return 0;
  __u32 tid = BPF_CORE_READ(p, pid);
  if (tid == 0) return 0;  // idle task
  __u64 tracked_id = 0;
  __u32 *slot = slo_tracked_ancestor(slo_task_cgroup(p), &tracked_id);
  if (slot) record_runnable(tid, *slot);
  return 0;
}

// Whether the task's group (or an ancestor group) is throttled right now.
static __always_inline bool task_group_throttled(struct task_struct *t) {
  if (!bpf_core_field_exists(t->se.cfs_rq)) return false;  // kernel without CONFIG_FAIR_GROUP_SCHED
  struct cfs_rq *cfs_rq = BPF_CORE_READ(t, se.cfs_rq);
  if (!cfs_rq) return false;
  return BPF_CORE_READ(cfs_rq, throttle_count) > 0;
}

static __always_inline void emit_throttle(struct task_struct *t, __u64 tracked_id) {
  __u64 now = bpf_ktime_get_ns();
  __u64 *last = bpf_map_lookup_elem(&throttle_last, &tracked_id);
  if (last && now - *last < throttle_min_gap_ns) return;
  bpf_map_update_elem(&throttle_last, &tracked_id, &now, BPF_ANY);

  struct slo_throttle_event *e = bpf_ringbuf_reserve(&throttle_events, sizeof(*e), 0);
  if (!e) {
    struct slo_runq_counters *c = counters_here();
    if (c) c->throttle_lost++;
    return;
  }
  struct cfs_rq *cfs_rq = BPF_CORE_READ(t, se.cfs_rq);
  struct cgroup *cg = BPF_CORE_READ(cfs_rq, tg, css.cgroup);
  e->ts_ns = now;
  e->cgroup_id = cg ? slo_cgroup_id(cg) : 0;
  e->tracked_id = tracked_id;
  e->cpu = bpf_get_smp_processor_id();
  e->pad = 0;
  // The ring buffer wakes its reader through irq_work, never directly under the rq lock we run under.
  bpf_ringbuf_submit(e, 0);
}

static __always_inline int on_switch(struct task_struct *prev, struct task_struct *next) {
  if (tracked_count == 0) return 0;
  __u32 prev_tid = BPF_CORE_READ(prev, pid);
  if (prev_tid != 0 && slo_task_state(prev) == TASK_RUNNING) {
    // Switched out while runnable: preempted (waits in the run queue again) or throttled (waits for quota).
    __u64 tracked_id = 0;
    __u32 *slot = slo_tracked_ancestor(slo_task_cgroup(prev), &tracked_id);
    if (slot) {
      if (task_group_throttled(prev))
        emit_throttle(prev, tracked_id);
      else
        record_runnable(prev_tid, *slot);
    }
  }

  __u32 tid = BPF_CORE_READ(next, pid);
  struct wake_rec *rec = bpf_map_lookup_elem(&inflight, &tid);
  if (!rec) return 0;
  __u64 now = bpf_ktime_get_ns();
  __u64 delta = now > rec->ts_ns ? now - rec->ts_ns : 0;
  __u32 slot = rec->slot;
  bpf_map_delete_elem(&inflight, &tid);

  struct slo_runq_hist *h = bpf_map_lookup_elem(&hists, &slot);
  if (!h) return 0;
  __u32 b = log2_u64(delta / 1000);
  if (b >= SLO_RUNQ_BUCKETS) b = SLO_RUNQ_BUCKETS - 1;
  h->buckets[b]++;
  h->sum_ns += delta;
  struct slo_runq_counters *c = counters_here();
  if (c) c->samples++;
  return 0;
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(btf_sched_wakeup, struct task_struct *p) { return on_wakeup(p); }

SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(btf_sched_wakeup_new, struct task_struct *p) { return on_wakeup(p); }

SEC("tp_btf/sched_switch")
int BPF_PROG(btf_sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next) {
  return on_switch(prev, next);
}

SEC("raw_tp/sched_wakeup")
int BPF_PROG(raw_sched_wakeup, struct task_struct *p) { return on_wakeup(p); }

SEC("raw_tp/sched_wakeup_new")
int BPF_PROG(raw_sched_wakeup_new, struct task_struct *p) { return on_wakeup(p); }

SEC("raw_tp/sched_switch")
int BPF_PROG(raw_sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next) {
  return on_switch(prev, next);
}
