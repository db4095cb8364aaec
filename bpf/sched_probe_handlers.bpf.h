// The probe's handlers, written once over SLO_RD / SLO_FN (see cgroup_attr.bpf.h) and included by
// sched_probe.bpf.c for the tp_btf (direct loads) and raw_tp (probe reads) program sets.
#include "cgroup_attr.bpf.h"

static __always_inline void SLO_FN(record_runnable)(struct task_struct *p, __u32 tid, __u32 slot) {
  struct wake_rec rec = {.ts_ns = bpf_ktime_get_ns(), .slot = slot};
#if SLO_TASK_STORAGE
  if (use_task_storage) {
    struct wake_rec *r = bpf_task_storage_get(&wake_task, p, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
    if (r) {
      *r = rec;
      return;
    }
  } else
#endif
  if (bpf_map_update_elem(&inflight, &tid, &rec, BPF_ANY) == 0) {
    return;
  }
  struct slo_runq_counters *c = counters_here();
  if (c) c->inflight_full++;
}

// Takes (and clears) the task's pending runnable record. False when it has none.
static __always_inline bool SLO_FN(take_runnable)(struct task_struct *p, __u32 tid, struct wake_rec *out) {
#if SLO_TASK_STORAGE
  if (use_task_storage) {
    struct wake_rec *r = bpf_task_storage_get(&wake_task, p, 0, 0);
    if (!r || r->ts_ns == 0) return false;
    *out = *r;
    r->ts_ns = 0;
    return true;
  }
#endif
  struct wake_rec *r = bpf_map_lookup_elem(&inflight, &tid);
  if (!r) return false;
  *out = *r;
  bpf_map_delete_elem(&inflight, &tid);
  return true;
}

static __always_inline int SLO_FN(on_wakeup)(struct task_struct *p) {
  if (tracked_count == 0) return 0;
  __u32 tid = SLO_RD(p, pid);
  if (tid == 0) return 0;  // idle task
  __u64 tracked_id = 0;
  __u32 *slot = SLO_FN(slo_tracked_ancestor)(SLO_FN(slo_task_cgroup)(p), &tracked_id);
  if (slot) SLO_FN(record_runnable)(p, tid, *slot);
  return 0;
}

// Whether the task's group (or an ancestor group) is throttled right now.
static __always_inline bool SLO_FN(task_group_throttled)(struct task_struct *t) {
  struct cfs_rq *cfs_rq = SLO_FN(slo_task_cfs_rq)(t);
  if (!cfs_rq) return false;
  return SLO_RD(cfs_rq, throttle_count) > 0;
}

static __always_inline void SLO_FN(emit_throttle)(struct task_struct *t, __u64 tracked_id) {
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
  struct cfs_rq *cfs_rq = SLO_FN(slo_task_cfs_rq)(t);
  struct task_group *tg = cfs_rq ? SLO_RD(cfs_rq, tg) : 0;
  struct cgroup *cg = tg ? SLO_RD(tg, css.cgroup) : 0;
  e->ts_ns = now;
  e->cgroup_id = cg ? SLO_FN(slo_cgroup_id)(cg) : 0;
  e->tracked_id = tracked_id;
  e->cpu = bpf_get_smp_processor_id();
  e->pad = 0;
  // The ring buffer wakes its reader through irq_work, never directly under the rq lock we run under.
  bpf_ringbuf_submit(e, 0);
}

static __always_inline void SLO_FN(add_sample)(__u32 slot, __u64 delta) {
  struct slo_runq_hist *h = bpf_map_lookup_elem(&hists, &slot);
  if (!h) return;
  __u32 b = log2_u64(delta / 1000);
  if (b >= SLO_RUNQ_BUCKETS) b = SLO_RUNQ_BUCKETS - 1;
  h->buckets[b]++;
  h->sum_ns += delta;
  struct slo_runq_counters *c = counters_here();
  if (c) c->samples++;
}

static __always_inline int SLO_FN(on_switch)(struct task_struct *prev, struct task_struct *next) {
  if (tracked_count == 0) return 0;
  __u32 prev_tid = SLO_RD(prev, pid);
  if (prev_tid != 0 && SLO_FN(slo_task_state)(prev) == TASK_RUNNING) {
    // Switched out while runnable: preempted (waits in the run queue again) or throttled (waits for quota).
    __u64 tracked_id = 0;
    __u32 *slot = SLO_FN(slo_tracked_ancestor)(SLO_FN(slo_task_cgroup)(prev), &tracked_id);
    if (slot) {
      if (SLO_FN(task_group_throttled)(prev)) {
        SLO_FN(emit_throttle)(prev, tracked_id);
#if SLO_SCHED_INFO
        // The kernel's queue stamp keeps running through the throttle: drop the next sample of this task.
        if (use_sched_info) {
          __u8 one = 1;
          bpf_map_update_elem(&throttled_tids, &prev_tid, &one, BPF_ANY);
        }
#endif
      } else if (!SLO_SCHED_INFO || !use_sched_info) {
        SLO_FN(record_runnable)(prev, prev_tid, *slot);
      }
    }
  }

  __u32 tid = SLO_RD(next, pid);
#if SLO_SCHED_INFO
  if (use_sched_info) {
    // The scheduler already stamped when `next` was queued (sched_info.last_queued, rq clock; it also re-stamps
    // a preempted task) and has this CPU's rq clock fresh: no clock read and no per-wakeup work of our own.
    __u64 queued = next->sched_info.last_queued;
    if (queued == 0 || tid == 0) return 0;  // not stamped (kernel without sched_info accounting)
    __u64 tracked_id = 0;
    __u32 *slot = SLO_FN(slo_tracked_ancestor)(SLO_FN(slo_task_cgroup)(next), &tracked_id);
    if (!slot) return 0;
    if (bpf_map_lookup_elem(&throttled_tids, &tid)) {
      bpf_map_delete_elem(&throttled_tids, &tid);
      return 0;
    }
    // This CPU's rq, reached through the task's queue (cfs_rq->rq; the runqueues per-CPU symbol is not in kallsyms
    // without CONFIG_KALLSYMS_ALL). Its clock was updated by this very __schedule().
    struct cfs_rq *cfs_rq = next->se.cfs_rq;
    if (!cfs_rq) return 0;
    struct rq *rq = cfs_rq->rq;
    if (!rq) return 0;
    __u64 now = rq->clock;
    SLO_FN(add_sample)(*slot, now > queued ? now - queued : 0);
    return 0;
  }
#endif
  struct wake_rec rec;
  if (!SLO_FN(take_runnable)(next, tid, &rec)) return 0;
  __u64 now = bpf_ktime_get_ns();
  SLO_FN(add_sample)(rec.slot, now > rec.ts_ns ? now - rec.ts_ns : 0);
  return 0;
}
