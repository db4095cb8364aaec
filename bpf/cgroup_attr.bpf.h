// CO-RE helpers to attribute a task (or a task group) to a tracked pod cgroup. Included twice by sched_probe.bpf.c
// through SLO_ATTR_VARIANT: once with direct loads (tp_btf programs get typed kernel pointers and may load through
// them; the JIT turns each field into one guarded load) and once with bpf_probe_read_kernel (raw_tp programs get
// untyped u64 arguments). The direct variant is several times cheaper per event (docs/benchmarks-bpf.md).
//
// Why not bpf_get_current_cgroup_id(): it is the *current* task's cgroup2 id. On v1/hybrid hosts the pod lives in
// the v1 cpu hierarchy, which that helper never sees, and in sched_switch/sched_wakeup the task of interest is not
// the current one anyway. So we read task->cgroups->subsys[cpu_cgrp_id]->cgroup (v1) or task->cgroups->dfl_cgrp
// (v2) and key by cgroup->kn->id, which equals the inode number of the cgroup directory.
//
// Before including: #define SLO_ATTR_VARIANT <suffix> and SLO_RD(ptr, field) (one field load).
#include "sched_types.h"

#define SLO_CAT2(a, b) a##_##b
#define SLO_CAT(a, b) SLO_CAT2(a, b)
#define SLO_FN(name) SLO_CAT(name, SLO_ATTR_VARIANT)

static __always_inline long SLO_FN(slo_task_state)(struct task_struct *t) {
  if (bpf_core_field_exists(t->__state)) return SLO_RD(t, __state);
  return SLO_RD((struct task_struct___pre514 *)t, state);
}

// The cgroup that holds the task in the attributed hierarchy.
static __always_inline struct cgroup *SLO_FN(slo_task_cgroup)(struct task_struct *t) {
  struct css_set *cset = SLO_RD(t, cgroups);
  if (!cset) return 0;
  if (hierarchy_mode == SLO_HIER_V2) return SLO_RD(cset, dfl_cgrp);
  // The subsystem index is an enum whose values depend on the kernel config: relocate it.
  if (!bpf_core_enum_value_exists(enum cgroup_subsys_id, cpu_cgrp_id)) return 0;
  int cpu_id = bpf_core_enum_value(enum cgroup_subsys_id, cpu_cgrp_id);
  if (cpu_id < 0 || cpu_id >= 64) return 0;  // keeps the verifier and a corrupt relocation in bounds
  struct cgroup_subsys_state *css = SLO_RD(cset, subsys[cpu_id]);
  if (!css) return 0;
  return SLO_RD(css, cgroup);
}

static __always_inline __u64 SLO_FN(slo_cgroup_id)(struct cgroup *cg) {
  struct kernfs_node *kn = SLO_RD(cg, kn);
  if (!kn) return 0;
  return SLO_RD(kn, id);
}

// Walks from `cg` up to SLO_MAX_ANCESTOR_WALK levels and returns the first tracked cgroup's map value (and its id).
static __always_inline __u32 *SLO_FN(slo_tracked_ancestor)(struct cgroup *cg, __u64 *tracked_id) {
  for (int i = 0; i < SLO_MAX_ANCESTOR_WALK; i++) {
    if (!cg) return 0;
    __u64 id = SLO_FN(slo_cgroup_id)(cg);
    __u32 *v = bpf_map_lookup_elem(&tracked, &id);
    if (v) {
      *tracked_id = id;
      return v;
    }
    struct cgroup_subsys_state *parent = SLO_RD(cg, self.parent);
    if (!parent) return 0;
    cg = SLO_RD(parent, cgroup);
  }
  return 0;
}

// The group (cfs_rq) the task is queued in; null without CONFIG_FAIR_GROUP_SCHED.
static __always_inline struct cfs_rq *SLO_FN(slo_task_cfs_rq)(struct task_struct *t) {
  if (!bpf_core_field_exists(t->se.cfs_rq)) return 0;
  return SLO_RD(t, se.cfs_rq);
}
