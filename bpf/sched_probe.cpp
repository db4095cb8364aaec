// Loader of sched_probe.bpf.c: picks tp_btf or raw_tp at load time, manages histogram slots, reads the throttle
// ring buffer.
#include "bpf/sched_probe.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include <sys/utsname.h>
#include <unistd.h>

#include <cstdio>

#include <cerrno>
#include <algorithm>
#include <cstring>
#include <deque>
#include <utility>
#include <vector>

#include "bpf/libbpf_messages.h"
#include "bpf/sched_types.h"
#include "bpf/tracked_map.h"
#include "sched_probe.skel.h"

namespace slo::bpf {

static_assert(kRunqBuckets == SLO_RUNQ_BUCKETS, "runq_histogram.h and sched_types.h disagree on the bucket count");
static_assert(sizeof(RunqHistogram::buckets) == sizeof(slo_runq_hist::buckets));

bool built_with_bpf() { return true; }
std::string_view to_string(AttachKind k) { return k == AttachKind::tp_btf ? "tp_btf" : "raw_tp"; }

namespace {

// Task-local storage allocates on first use; before Linux 6.4 that was a GFP_ATOMIC kmalloc, which may wake kswapd
// and so take an rq lock we already hold in sched_wakeup/sched_switch. From 6.4 it uses bpf_mem_alloc (no locks).
bool task_storage_safe() {
  utsname u{};
  if (::uname(&u) != 0) return false;
  int major = 0, minor = 0;
  if (std::sscanf(u.release, "%d.%d", &major, &minor) != 2) return false;
  return major > 6 || (major == 6 && minor >= 4);
}

// The scheduler's queue stamp (CONFIG_SCHED_INFO) and the rq behind a task's cfs_rq (CONFIG_FAIR_GROUP_SCHED) are
// in the running kernel's BTF.
bool has_member(const btf* b, const char* type, const char* member) {
  int id = btf__find_by_name_kind(b, type, BTF_KIND_STRUCT);
  if (id <= 0) return false;
  const btf_type* t = btf__type_by_id(b, static_cast<uint32_t>(id));
  const btf_member* m = btf_members(t);
  for (uint16_t i = 0; i < btf_vlen(t); i++, m++)
    if (std::strcmp(btf__name_by_offset(b, m->name_off), member) == 0) return true;
  return false;
}

bool sched_info_usable() {
  btf* vmlinux = btf__load_vmlinux_btf();
  if (!vmlinux) return false;
  bool ok = has_member(vmlinux, "sched_info", "last_queued") && has_member(vmlinux, "sched_entity", "cfs_rq") &&
            has_member(vmlinux, "cfs_rq", "rq") && has_member(vmlinux, "rq", "clock");
  btf__free(vmlinux);
  return ok;
}

}  // namespace

struct SchedProbe::Impl {
  sched_probe* skel = nullptr;
  std::vector<bpf_link*> links;
  ring_buffer* rb = nullptr;
  AttachKind kind = AttachKind::tp_btf;
  bool task_storage = false;
  bool sched_info = false;
  std::string tp_btf_failure;
  detail::TrackedMap tracked;
  std::deque<uint32_t> free_slots;  // FIFO: a freed slot is reused last, so late samples of a gone pod fade out
  int ncpus = 0;
  mutable bool no_batch = false;  // the kernel refused BPF_MAP_LOOKUP_BATCH on the histogram array (< 5.7)
  // read_many()'s buffers, kept: allocating them per call cost more than the reads in a large heap.
  mutable std::vector<std::pair<uint32_t, size_t>> batch_slots;
  mutable std::vector<uint32_t> batch_keys;
  mutable std::vector<slo_runq_hist> batch_values;
  const std::function<void(const ThrottleEvent&)>* sink = nullptr;  // set only during drain

  ~Impl() { reset(); }

  void reset() {
    if (rb) ring_buffer__free(rb);
    rb = nullptr;
    for (bpf_link* l : links) bpf_link__destroy(l);
    links.clear();
    if (skel) sched_probe::destroy(skel);
    skel = nullptr;
  }

  // One attempt: open, enable one program set, load, attach. Leaves this Impl clean on failure.
  bool try_load(const SchedProbeOptions& o, AttachKind k, std::string* error) {
    detail::begin_capture();
    skel = sched_probe::open();
    if (!skel) return fail(error, "open", errno);
    skel->rodata->hierarchy_mode = o.hierarchy == Hierarchy::v2 ? SLO_HIER_V2 : SLO_HIER_V1;
    skel->rodata->throttle_min_gap_ns = o.throttle_min_gap_ns;
    bool btf = k == AttachKind::tp_btf;
    skel->rodata->use_task_storage = btf && task_storage_safe();
    skel->rodata->use_sched_info = btf && sched_info_usable();
    // raw_tp programs never touch the task storage map: do not require the kernel to have that map type.
    if (!btf) bpf_map__set_autocreate(skel->maps.wake_task, false);
    bpf_program* btf_progs[] = {skel->progs.btf_sched_wakeup, skel->progs.btf_sched_wakeup_new,
                                skel->progs.btf_sched_switch};
    bpf_program* raw_progs[] = {skel->progs.raw_sched_wakeup, skel->progs.raw_sched_wakeup_new,
                                skel->progs.raw_sched_switch};
    for (bpf_program* p : btf_progs) bpf_program__set_autoload(p, btf);
    for (bpf_program* p : raw_progs) bpf_program__set_autoload(p, !btf);
    // With the scheduler's queue stamp only sched_switch is needed.
    if (skel->rodata->use_sched_info) {
      bpf_program__set_autoload(skel->progs.btf_sched_wakeup, false);
      bpf_program__set_autoload(skel->progs.btf_sched_wakeup_new, false);
    }
    if (int rc = sched_probe::load(skel); rc != 0) return fail(error, "load", -rc);
    for (bpf_program* p : btf ? btf_progs : raw_progs) {
      if (!bpf_program__autoload(p)) continue;
      bpf_link* l = bpf_program__attach(p);
      if (!l) return fail(error, std::string("attach ") + bpf_program__name(p), errno);
      links.push_back(l);
    }
    rb = ring_buffer__new(bpf_map__fd(skel->maps.throttle_events), &Impl::on_sample, this, nullptr);
    if (!rb) return fail(error, "throttle ring buffer", errno);
    kind = k;
    task_storage = skel->rodata->use_task_storage;
    sched_info = skel->rodata->use_sched_info;
    tracked = detail::TrackedMap(bpf_map__fd(skel->maps.tracked), &skel->bss->tracked_count);
    return true;
  }

  bool fail(std::string* error, const std::string& step, int err) {
    if (error) {
      *error = step + ": " + std::strerror(err);
      std::string msgs = detail::captured(600);
      if (!msgs.empty()) *error += " [libbpf: " + msgs + "]";
    }
    reset();
    return false;
  }

  bool zero_slot(uint32_t slot, std::string* error) {
    std::vector<slo_runq_hist> zeros(static_cast<size_t>(ncpus));
    if (bpf_map_update_elem(bpf_map__fd(skel->maps.hists), &slot, zeros.data(), BPF_ANY) != 0) {
      if (error) *error = std::string("clear histogram slot: ") + std::strerror(errno);
      return false;
    }
    return true;
  }

  static int on_sample(void* ctx, void* data, size_t size) {
    auto* self = static_cast<Impl*>(ctx);
    if (size < sizeof(slo_throttle_event) || !self->sink) return 0;
    slo_throttle_event raw;
    std::memcpy(&raw, data, sizeof raw);
    ThrottleEvent e;
    e.ts_ns = raw.ts_ns;
    e.cgroup_id = raw.cgroup_id;
    e.tracked_id = raw.tracked_id;
    e.cpu = raw.cpu;
    (*self->sink)(e);
    return 0;
  }
};

SchedProbe::SchedProbe(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SchedProbe::~SchedProbe() = default;

std::unique_ptr<SchedProbe> SchedProbe::open(const SchedProbeOptions& options, std::string* error) {
  auto impl = std::make_unique<Impl>();
  impl->ncpus = libbpf_num_possible_cpus();
  if (impl->ncpus <= 0) {
    if (error) *error = "cannot count possible CPUs: " + std::string(std::strerror(-impl->ncpus));
    return nullptr;
  }
  std::string btf_error = "not tried (raw_tp requested)";
  if (options.first == AttachKind::raw_tp || !impl->try_load(options, AttachKind::tp_btf, &btf_error)) {
    std::string raw_error;
    if (!impl->try_load(options, AttachKind::raw_tp, &raw_error)) {
      if (error) *error = "tp_btf: " + btf_error + "; raw_tp: " + raw_error;
      return nullptr;
    }
    impl->tp_btf_failure = btf_error;
  }
  for (uint32_t s = 0; s < SLO_RUNQ_MAX_SLOTS; s++) impl->free_slots.push_back(s);
  return std::unique_ptr<SchedProbe>(new SchedProbe(std::move(impl)));
}

AttachKind SchedProbe::attach_kind() const { return impl_->kind; }
bool SchedProbe::uses_task_storage() const { return impl_->task_storage && !impl_->sched_info; }
bool SchedProbe::uses_sched_info() const { return impl_->sched_info; }
const std::string& SchedProbe::tp_btf_failure() const { return impl_->tp_btf_failure; }

bool SchedProbe::track(uint64_t cgroup_id, std::string* error) {
  if (impl_->tracked.contains(cgroup_id)) return true;
  if (impl_->free_slots.empty()) {
    if (error) *error = "all " + std::to_string(SLO_RUNQ_MAX_SLOTS) + " histogram slots in use";
    return false;
  }
  uint32_t slot = impl_->free_slots.front();
  // Zero before the id becomes visible to the programs, so the new pod starts from an empty histogram.
  if (!impl_->zero_slot(slot, error)) return false;
  if (!impl_->tracked.put(cgroup_id, slot, error)) return false;
  impl_->free_slots.pop_front();
  return true;
}

void SchedProbe::untrack(uint64_t cgroup_id) {
  const uint32_t* slot = impl_->tracked.find(cgroup_id);
  if (!slot) return;
  uint32_t s = *slot;
  impl_->tracked.erase(cgroup_id);
  bpf_map_delete_elem(bpf_map__fd(impl_->skel->maps.throttle_last), &cgroup_id);
  impl_->free_slots.push_back(s);
}

bool SchedProbe::tracked(uint64_t cgroup_id) const { return impl_->tracked.contains(cgroup_id); }
size_t SchedProbe::tracked_count() const { return impl_->tracked.size(); }

bool SchedProbe::read(uint64_t cgroup_id, RunqHistogram& out) const {
  const uint32_t* slot = impl_->tracked.find(cgroup_id);
  if (!slot) return false;
  std::vector<slo_runq_hist> per_cpu(static_cast<size_t>(impl_->ncpus));
  uint32_t key = *slot;
  if (bpf_map_lookup_elem(bpf_map__fd(impl_->skel->maps.hists), &key, per_cpu.data()) != 0) return false;
  out = RunqHistogram{};
  for (const auto& h : per_cpu) {
    for (int b = 0; b < kRunqBuckets; b++) out.buckets[static_cast<size_t>(b)] += h.buckets[b];
    out.sum_ns += h.sum_ns;
  }
  return true;
}

void SchedProbe::read_many(const std::vector<uint64_t>& ids, std::vector<RunqHistogram>& out,
                           std::vector<char>& ok) const {
  out.assign(ids.size(), RunqHistogram{});
  ok.assign(ids.size(), 0);
  auto& slots = impl_->batch_slots;  // slot → index in ids, sorted by slot
  slots.clear();
  for (size_t i = 0; i < ids.size(); i++)
    if (const uint32_t* slot = impl_->tracked.find(ids[i])) slots.emplace_back(*slot, i);
  std::sort(slots.begin(), slots.end());
  const int fd = bpf_map__fd(impl_->skel->maps.hists);
  const size_t ncpus = static_cast<size_t>(impl_->ncpus);
  auto add_up = [&](const slo_runq_hist* per_cpu, size_t i) {
    RunqHistogram& h = out[i];
    for (size_t c = 0; c < ncpus; c++) {
      for (int b = 0; b < kRunqBuckets; b++) h.buckets[static_cast<size_t>(b)] += per_cpu[c].buckets[b];
      h.sum_ns += per_cpu[c].sum_ns;
    }
    ok[i] = 1;
  };
  constexpr int kKernelENOTSUPP = 524;  // the kernel's "no batch op for this map type" (not in the uapi headers)
  // Slots a few apart are read together (the unused ones in between are cheap to copy); far apart, separately.
  constexpr uint32_t kMaxGap = 8;
  auto& keys = impl_->batch_keys;
  auto& values = impl_->batch_values;
  for (size_t first = 0; first < slots.size();) {
    size_t last = first;
    while (last + 1 < slots.size() && slots[last + 1].first - slots[last].first <= kMaxGap) last++;
    const uint32_t lo = slots[first].first, hi = slots[last].first;
    bool done = false;
    if (!impl_->no_batch && last > first) {
      uint32_t count = hi - lo + 1, prev = lo - 1, next = 0;
      if (keys.size() < count) keys.resize(count);
      if (values.size() < static_cast<size_t>(count) * ncpus) values.resize(static_cast<size_t>(count) * ncpus);
      LIBBPF_OPTS(bpf_map_batch_opts, opts);
      // in_batch is the key before the first one returned.
      int rc = bpf_map_lookup_batch(fd, lo ? &prev : nullptr, &next, keys.data(), values.data(), &count, &opts);
      if (rc == 0 || (rc < 0 && errno == ENOENT)) {
        for (size_t k = first, j = 0; k <= last; k++) {
          while (j < count && keys[j] < slots[k].first) j++;
          if (j < count && keys[j] == slots[k].first) add_up(&values[j * ncpus], slots[k].second);
        }
        done = true;
      } else if (errno == EINVAL || errno == kKernelENOTSUPP || errno == EOPNOTSUPP) {
        impl_->no_batch = true;
      }
    }
    if (!done)
      for (size_t k = first; k <= last; k++) {
        if (values.size() < ncpus) values.resize(ncpus);
        uint32_t key = slots[k].first;
        if (bpf_map_lookup_elem(fd, &key, values.data()) == 0) add_up(values.data(), slots[k].second);
      }
    first = last + 1;
  }
}

SchedProbeCounters SchedProbe::counters() const {
  std::vector<slo_runq_counters> per_cpu(static_cast<size_t>(impl_->ncpus));
  uint32_t key = 0;
  SchedProbeCounters out;
  if (bpf_map_lookup_elem(bpf_map__fd(impl_->skel->maps.counters), &key, per_cpu.data()) != 0) return out;
  for (const auto& c : per_cpu) {
    out.samples += c.samples;
    out.inflight_full += c.inflight_full;
    out.throttle_lost += c.throttle_lost;
  }
  return out;
}

int enable_run_time_stats() {
  int fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
  return fd >= 0 ? fd : -errno;
}

std::vector<ProgramStats> SchedProbe::program_stats() const {
  std::vector<ProgramStats> out;
  for (bpf_link* l : impl_->links) {
    bpf_link_info link_info{};
    uint32_t len = sizeof link_info;
    if (bpf_obj_get_info_by_fd(bpf_link__fd(l), &link_info, &len) != 0) continue;
    int prog_fd = bpf_prog_get_fd_by_id(link_info.prog_id);
    if (prog_fd < 0) continue;
    bpf_prog_info info{};
    len = sizeof info;
    if (bpf_obj_get_info_by_fd(prog_fd, &info, &len) == 0)
      out.push_back(ProgramStats{info.name, info.run_cnt, info.run_time_ns});
    ::close(prog_fd);
  }
  return out;
}

int SchedProbe::throttle_epoll_fd() const { return ring_buffer__epoll_fd(impl_->rb); }

int SchedProbe::drain_throttle_events(const std::function<void(const ThrottleEvent&)>& on_event) {
  impl_->sink = &on_event;
  int n = ring_buffer__consume(impl_->rb);
  impl_->sink = nullptr;
  return n;
}

}  // namespace slo::bpf
