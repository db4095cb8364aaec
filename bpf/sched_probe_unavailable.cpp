// sched_probe.h for a build without BPF support (-Dbpf=disabled, or libbpf/clang/bpftool/BTF missing at build
// time): open() always fails and says why, so callers take their fallback. The other members are unreachable (no
// instance can exist) and only satisfy the linker.
#include "bpf/sched_probe.h"

namespace slo::bpf {

namespace {
constexpr const char* kNotBuilt =
    "built without BPF support (meson -Dbpf=disabled, or libbpf/clang/bpftool/kernel BTF missing at build time)";
}

bool built_with_bpf() { return false; }
std::string_view to_string(AttachKind k) { return k == AttachKind::tp_btf ? "tp_btf" : "raw_tp"; }

struct SchedProbe::Impl {};
SchedProbe::SchedProbe(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SchedProbe::~SchedProbe() = default;
std::unique_ptr<SchedProbe> SchedProbe::open(const SchedProbeOptions&, std::string* error) {
  if (error) *error = kNotBuilt;
  return nullptr;
}
AttachKind SchedProbe::attach_kind() const { return AttachKind::raw_tp; }
bool SchedProbe::uses_task_storage() const { return false; }
bool SchedProbe::uses_sched_info() const { return false; }
const std::string& SchedProbe::tp_btf_failure() const {
  static const std::string reason = kNotBuilt;
  return reason;
}
bool SchedProbe::track(uint64_t, std::string* error) {
  if (error) *error = kNotBuilt;
  return false;
}
void SchedProbe::untrack(uint64_t) {}
bool SchedProbe::tracked(uint64_t) const { return false; }
size_t SchedProbe::tracked_count() const { return 0; }
bool SchedProbe::read(uint64_t, RunqHistogram&) const { return false; }
void SchedProbe::read_many(const std::vector<uint64_t>& ids, std::vector<RunqHistogram>& out,
                           std::vector<char>& ok) const {
  out.assign(ids.size(), RunqHistogram{});
  ok.assign(ids.size(), 0);
}
SchedProbeCounters SchedProbe::counters() const { return {}; }
std::vector<ProgramStats> SchedProbe::program_stats() const { return {}; }
int enable_run_time_stats() { return -95; }  // -EOPNOTSUPP
int SchedProbe::throttle_epoll_fd() const { return -1; }
int SchedProbe::drain_throttle_events(const std::function<void(const ThrottleEvent&)>&) { return 0; }

}  // namespace slo::bpf
