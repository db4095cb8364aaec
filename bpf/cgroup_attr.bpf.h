// CO-RE helpers to attribute a task (or a task group) to a tracked pod cgroup. Shared by the scheduler programs.
//
// Why not bpf_get_current_cgroup_id(): it is the *current* task's cgroup2 id. On v1/hybrid hosts (like ours) the
// pod lives in the v1 cpu hierarchy, which that helper never sees, and in sched_switch/sched_wakeup the task of
// interest is not the current one anyway. So we read task->cgroups->subsys[cpu_cgrp_id]->cgroup (v1) or
// task->cgroups->dfl_cgrp (v2) and key by cgroup->kn->id, which equals the inode number of the cgroup directory.
#pragma once

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "sched_types.h"

// Settings written by the loader before load (rodata: the verifier sees constants, dead branches are pruned).
const volatile __u32 hierarchy_mode = SLO_HIER_V1;

// Cgroups of known pods: kernfs id → value (histogram slot for the run-queue program; unused otherwise).
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

static __always_inline long slo_task_state(struct task_struct *t) {
  if (bpf_core_field_exists(t->__state)) return BPF_CORE_READ(t, __state);
  return BPF_CORE_READ((struct task_struct___pre514 *)t, state);
}

// The cgroup that holds the task in the attributed hierarchy.
static __always_inline struct cgroup *slo_task_cgroup(struct task_struct *t) {
  struct css_set *cset = BPF_CORE_READ(t, cgroups);
  if (!cset) return 0;
  if (hierarchy_mode == SLO_HIER_V2) return BPF_CORE_READ(cset, dfl_cgrp);
  // The subsystem index is an enum whose values depend on the kernel config: relocate it.
  if (!bpf_core_enum_value_exists(enum cgroup_subsys_id, cpu_cgrp_id)) return 0;
  int cpu_id = bpf_core_enum_value(enum cgroup_subsys_id, cpu_cgrp_id);
  struct cgroup_subsys_state *css = 0;
  if (cpu_id < 0 || cpu_id >= 64) return 0;  // keeps the verifier and a corrupt relocation in bounds
  bpf_core_read(&css, sizeof(css), &cset->subsys[cpu_id]);
  if (!css) return 0;
  return BPF_CORE_READ(css, cgroup);
}

static __always_inline __u64 slo_cgroup_id(struct cgroup *cg) { return BPF_CORE_READ(cg, kn, id); }

// Walks from `cg` up to SLO_MAX_ANCESTOR_WALK levels and returns the first tracked cgroup's map value (and its id).
static __always_inline __u32 *slo_tracked_ancestor(struct cgroup *cg, __u64 *tracked_id) {
  for (int i = 0; i < SLO_MAX_ANCESTOR_WALK; i++) {
    if (!cg) return 0;
    __u64 id = slo_cgroup_id(cg);
    __u32 *v = bpf_map_lookup_elem(&tracked, &id);
    if (v) {
      *tracked_id = id;
      return v;
    }
    cg = BPF_CORE_READ(cg, self.parent, cgroup);
  }
  return 0;
}
