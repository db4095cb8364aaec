#include "agent/decide/cpu_burst/cpu_burst_controller.h"

#include <algorithm>
#include <cstdio>
#include <ctime>

#include "agent/runtime/log.h"

namespace slo::agent::cpu_burst {

namespace {

constexpr int64_t kDefaultPeriodUs = 100000;
constexpr std::string_view kLog = "cpu-burst";

std::string qos_name(model::QosClass q) {
  switch (q) {
    case model::QosClass::LSE: return "LSE";
    case model::QosClass::LSR: return "LSR";
    case model::QosClass::LS: return "LS";
    case model::QosClass::BE: return "BE";
    case model::QosClass::SYSTEM: return "SYSTEM";
  }
  return "LS";
}

std::string knob_name(cg::Knob k) {
  switch (k) {
    case cg::Knob::cpu_quota: return "cpu_quota";
    case cg::Knob::cpu_burst: return "cpu_burst";
    case cg::Knob::cpu_period: return "cpu_period";
    default: return "knob";
  }
}

std::string ref_key(const std::string& cgroup, cg::Knob k) { return cgroup + ":" + knob_name(k); }

std::string iso_time(std::chrono::system_clock::time_point t) {
  if (t == std::chrono::system_clock::time_point{}) return "";
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count() % 1000;
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, int(ms));
  return buf;
}

std::optional<int64_t> int_of(const std::optional<cg::KnobValue>& v) {
  if (!v) return std::nullopt;
  if (const auto* i = std::get_if<int64_t>(&*v)) return *i;
  return std::nullopt;
}

double pod_cpu_cores(const model::Pod& pod) {
  double m = 0;
  for (const auto& c : pod.containers) {
    if (c.requests.cpu_millis)
      m += double(*c.requests.cpu_millis);
    else if (c.limits.cpu_millis)
      m += double(*c.limits.cpu_millis);
  }
  return m / 1000.0;
}

}  // namespace

Capability CpuBurstController::probe(const HostInfo& host) {
  kernel_burst_ = host.kernel_burst;
  kernel_burst_known_ = true;
  if (!host.kernel_burst)
    return {true, "kernel CFS burst absent (no cpu.cfs_burst_us / cpu.max.burst, Linux < 5.14): quota scaling only"};
  return {true, "kernel CFS burst and dynamic quota available"};
}

void CpuBurstController::init(ControllerContext& ctx) { metrics_ = std::make_unique<BurstMetrics>(ctx.metrics); }

std::optional<std::string> CpuBurstController::configure(const nlohmann::json& policy) {
  auto parsed = parse_node_policy(policy);
  if (parsed.error) return parsed.error;
  if (!(parsed.policy == policy_))  // pod overrides apply onto the node policy: re-derive
    for (auto& [_, mem] : pods_) mem.annotation.reset();
  policy_ = parsed.policy;
  return std::nullopt;
}

std::chrono::milliseconds CpuBurstController::period() const {
  return std::chrono::milliseconds(policy_.tick_milliseconds);
}

std::optional<int64_t> CpuBurstController::original_of(const Snapshot& snap, CgroupSlot& slot, cg::Knob knob) const {
  if (!snap.knobs) return std::nullopt;
  slot.ref.knob = knob;
  if (auto v = int_of(snap.knobs->original(slot.ref))) return v;
  return int_of(snap.knobs->current(slot.ref));
}

void CpuBurstController::refresh_originals(const Snapshot& snap, CgroupSlot& slot) const {
  const uint64_t epoch = snap.knobs ? snap.knobs->epoch() : 0;
  if (epoch != 0 && slot.orig_epoch == epoch && snap.now >= slot.orig_at &&
      snap.now - slot.orig_at < KnobView::kRefreshAfter)
    return;
  slot.orig_period = original_of(snap, slot, cg::Knob::cpu_period);
  slot.orig_quota = original_of(snap, slot, cg::Knob::cpu_quota);
  slot.orig_epoch = snap.knobs ? snap.knobs->epoch() : 0;  // after the reads: a peek may have moved it
  slot.orig_at = snap.now;
}

void CpuBurstController::record(PodMemory& mem, const Snapshot& snap, Decision d) {
  d.tick = snap.tick;
  d.wall = snap.wall;
  if (mem.decisions.size() >= kDecisionsPerPod)
    mem.decisions.erase(mem.decisions.begin(), mem.decisions.begin() + long(mem.decisions.size() - kDecisionsPerPod + 1));
  mem.decisions.push_back(std::move(d));
}

nlohmann::json CpuBurstController::render(const Decision& d) {
  nlohmann::json e;
  using K = Decision::Kind;
  switch (d.kind) {
    case K::knob:
      e = {{"cgroup", d.cgroup.str()}, {"knob", knob_name(d.knob)}, {"value", d.value}, {"reason", d.reason}};
      if (d.has_previous) e["previous"] = d.previous;
      break;
    case K::released:
      e = {{"cgroup", d.cgroup.str()}, {"knob", knob_name(d.knob)}, {"released", true}, {"reason", d.reason}};
      break;
    case K::not_managed: e = {{"event", "not managed"}, {"reason", d.reason}}; break;
    case K::managed: e = {{"event", "managed"}, {"policy", d.policy ? to_json(*d.policy) : nlohmann::json()}}; break;
    case K::no_kernel_burst:
      e = {{"event", "kernel burst unavailable"},
           {"reason", "the kernel has no CFS burst: cpuBurstPercent has no effect here"}};
      break;
    case K::annotation_ignored: e = {{"event", "annotation ignored"}, {"reason", d.reason}}; break;
  }
  if (d.timed) {
    e["tick"] = d.tick;
    e["time"] = iso_time(d.wall);
  }
  return e;
}

void CpuBurstController::emit(IntentSink& out, PodMemory& mem, const Snapshot& snap, CgroupSlot& slot,
                              cg::Knob knob, int64_t value, const std::string& reason) {
  slot.ref.knob = knob;
  out.set(slot.ref, cg::KnobValue{value}, reason);
  mem.held.push_back({slot.path, knob, value});
  const Held* before = nullptr;
  for (const auto& h : mem.prev)
    if (h.knob == knob && h.path == slot.path) before = &h;
  if (!before || before->value != value) {
    Decision d;
    d.kind = Decision::Kind::knob;
    d.cgroup = slot.path;
    d.knob = knob;
    d.value = value;
    d.reason = reason;
    if (before) {
      d.has_previous = true;
      d.previous = before->value;
    }
    record(mem, snap, std::move(d));
  }
}

// Knobs claimed last tick and not this one: recorded in "cgroup:knob" order (as the history always listed them).
void CpuBurstController::record_releases(PodMemory& mem, const Snapshot& snap) {
  std::vector<std::pair<std::string, const Held*>> gone;
  for (const auto& h : mem.prev) {
    bool still = false;
    for (const auto& n : mem.held) still |= n.knob == h.knob && n.path == h.path;
    if (!still) gone.emplace_back(ref_key(h.path, h.knob), &h);
  }
  if (gone.empty()) return;
  std::sort(gone.begin(), gone.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [_, h] : gone) {
    Decision d;
    d.kind = Decision::Kind::released;
    d.cgroup = h->path;
    d.knob = h->knob;
    d.reason = "no longer claimed (" + (mem.status.empty() ? std::string("policy") : mem.status) +
               "): the executor restores the original";
    record(mem, snap, std::move(d));
  }
}

CpuBurstController::Verdict CpuBurstController::ineligible(const PodState& ps, const Blackboard& board) const {
  const auto& pod = ps.pod;
  if (pod.terminal()) return {Why::finished, pod.qos, &pod.phase};
  if (pod.qos != model::QosClass::LS) return {Why::qos, pod.qos, nullptr};
  if (ps.cgroup.empty()) return {Why::no_cgroup, pod.qos, nullptr};
  auto owned = [&](const std::set<std::string>& s) -> const std::string* {
    if (s.empty()) return nullptr;
    if (s.count(ps.cgroup)) return &ps.cgroup.str();
    for (const auto& c : ps.containers)
      if (!c.cgroup.empty() && s.count(c.cgroup)) return &c.cgroup.str();
    return nullptr;
  };
  // One owner per knob, and the pod quota is tied to its containers' quotas: step aside for the whole pod.
  if (auto c = owned(board.cr_owned_cgroups)) return {Why::cr_owned, pod.qos, c};
  if (auto c = owned(board.pinned_cgroups)) return {Why::pinned, pod.qos, c};
  return {};
}

std::string CpuBurstController::describe(const Verdict& v) {
  switch (v.why) {
    case Why::managed: return "managed";
    case Why::finished: return "pod finished (" + *v.detail + ")";
    case Why::qos: return "QoS class " + qos_name(v.qos) + ": CPU burst applies to LS pods only";
    case Why::no_cgroup: return "pod cgroup not found";
    case Why::cr_owned: return "step aside: a Cgroups CR owns " + *v.detail;
    case Why::pinned: return "step aside: " + *v.detail + " is pinned by the cpuset controller";
    case Why::policy_none: return "policy none";
    case Why::no_limited: return "no running container with a CPU limit";
  }
  return "managed";
}

// The verdict's message, rendered only when the verdict differs from the one the cached message was made from.
const std::string& CpuBurstController::status_of(PodMemory& mem, const Verdict& v) {
  static const std::string kManaged = "managed";
  if (v.why == Why::managed) return kManaged;
  const std::string& detail = v.detail ? *v.detail : kManaged;  // any constant when there is no detail
  if (!(mem.verdict_valid && mem.verdict_why == v.why && mem.verdict_qos == v.qos && mem.verdict_detail == detail)) {
    mem.verdict_valid = true;
    mem.verdict_why = v.why;
    mem.verdict_qos = v.qos;
    mem.verdict_detail = detail;
    mem.status_text = describe(v);
  }
  return mem.status_text;
}

const BurstPolicy& CpuBurstController::effective_policy(const model::Pod& pod, PodMemory& mem) {
  static const std::string kAnnotation(model::kCpuBurstAnnotation);
  auto it = pod.annotations.find(kAnnotation);
  if (it == pod.annotations.end()) {
    mem.annotation.reset();
    return policy_;
  }
  if (!mem.annotation || mem.annotation->text != it->second) {
    auto& a = mem.annotation.emplace();
    a.text = it->second;
    a.parsed = apply_annotation(policy_, it->second);
    if (a.parsed.error) {
      // Once per pod and annotation value: the pod runs with the node policy until the annotation changes.
      log::once(log::Level::warn, kLog, "annotation:" + pod.key() + ":" + it->second,
                pod.key() + ": " + *a.parsed.error + " — ignored, node policy applies");
      if (metrics_) metrics_->count_annotation_error();
      Decision d;
      d.kind = Decision::Kind::annotation_ignored;
      d.timed = false;
      d.reason = *a.parsed.error;
      if (mem.decisions.size() >= kDecisionsPerPod) mem.decisions.erase(mem.decisions.begin());
      mem.decisions.push_back(std::move(d));
    }
  }
  return mem.annotation->parsed.policy;
}

// Matches the pod's cgroup slots to its cgroups by path: a slot (scaler state, cached refs and series) lives as long
// as its cgroup; a container whose cgroup changed (restarted, or started) gets a fresh one.
void CpuBurstController::sync_slots(const Snapshot& snap, const PodState& ps, PodMemory& mem) {
  // Same pod set as when last matched: same paths, nothing to compare (two ~100-char compares per container every
  // 100 ms otherwise).
  if (snap.pods_generation != 0 && mem.slots_generation == snap.pods_generation &&
      mem.containers.size() == ps.containers.size() && !mem.pod_slot.path.empty())
    return;
  mem.slots_generation = snap.pods_generation;
  auto fresh = [](CgroupSlot& s, const cg::CgroupPath& path, const std::string& container) {
    s = CgroupSlot{};
    s.path = path;
    s.ref.cgroup = path;
    s.container = container;
  };
  static const std::string kPodLevel;
  if (mem.pod_slot.path.empty() || mem.pod_slot.path != ps.cgroup) {
    auto* series = mem.pod_slot.series;  // the pod's series does not depend on its path
    fresh(mem.pod_slot, ps.cgroup, kPodLevel);
    mem.pod_slot.series = series;
  }
  auto& slots = mem.containers;
  for (size_t i = 0; i < ps.containers.size(); ++i) {
    const auto& cs = ps.containers[i];
    auto matches = [&](const CgroupSlot& s) { return s.path == cs.cgroup && s.container == cs.spec.name; };
    if (i < slots.size() && matches(slots[i])) continue;
    size_t j = i + 1;
    while (j < slots.size() && !matches(slots[j])) ++j;
    if (j < slots.size()) {
      std::swap(slots[i], slots[j]);
    } else if (i < slots.size()) {
      slots.emplace_back();  // keep the unmatched slot: a later container may still match it
      std::swap(slots[i], slots.back());
      fresh(slots[i], cs.cgroup, cs.spec.name);
    } else {
      fresh(slots.emplace_back(), cs.cgroup, cs.spec.name);
    }
  }
  slots.resize(ps.containers.size());
}

BurstMetrics::Series& CpuBurstController::series_of(const PodState& ps, CgroupSlot& slot) {
  if (!slot.series)
    slot.series = &metrics_->series({ps.pod.namespace_, ps.pod.name, slot.container, qos_name(ps.pod.qos)});
  return *slot.series;
}

void CpuBurstController::drop_series(PodMemory& mem) {
  if (metrics_ && mem.has_series) metrics_->remove_pod(mem.ns, mem.name);
  mem.has_series = false;
  mem.pod_slot.series = nullptr;
  for (auto& s : mem.containers) s.series = nullptr;
}

void CpuBurstController::forget_pod(std::map<std::string, PodMemory, std::less<>>::iterator it) {
  drop_series(it->second);
  if (it->second.guard_entry) guard_in_.excluded_usage_ns.erase(*it->second.guard_entry);
  pods_.erase(it);
}

void CpuBurstController::update_guard_input(const PodState& ps, const Blackboard& board, PodMemory& mem) {
  const auto q = ps.pod.qos;
  bool pinned = q == model::QosClass::LSE || q == model::QosClass::LSR ||
                (!board.pinned_cgroups.empty() && board.pinned_cgroups.count(ps.cgroup));
  bool be = q == model::QosClass::BE;
  if (pinned) guard_in_.pinned_cores += pod_cpu_cores(ps.pod);
  if ((pinned || be) && ps.stats.cpu_usage_ns) {
    if (!mem.guard_entry) mem.guard_entry = guard_in_.excluded_usage_ns.try_emplace(key_buf_, 0).first;
    (*mem.guard_entry)->second = *ps.stats.cpu_usage_ns;
  } else if (mem.guard_entry) {
    guard_in_.excluded_usage_ns.erase(*mem.guard_entry);
    mem.guard_entry.reset();
  }
}

CpuBurstController::PodMemory& CpuBurstController::memory_for(const PodState& ps, size_t index) {
  key_buf_.assign(ps.pod.namespace_).append("/").append(ps.pod.name);
  if (index < by_index_.size()) {
    PodMemory* m = by_index_[index];
    if (m && m->ns == ps.pod.namespace_ && m->name == ps.pod.name) return *m;
  }
  auto [it, fresh] = pods_.try_emplace(key_buf_);
  if (fresh) {
    it->second.ns = ps.pod.namespace_;
    it->second.name = ps.pod.name;
  }
  return it->second;
}

namespace {

// The scaler's pressure test: usage near the quota over the window (throttling is likely in the next periods).
bool at_pressure(const CpuWindow& w, int64_t quota_us, int64_t period_us) {
  return w.usage_cores && period_us > 0 &&
         *w.usage_cores >= QuotaScaler::kPressureFraction * double(quota_us) / double(period_us);
}

}  // namespace

void CpuBurstController::decide(const Snapshot& snap, Blackboard& board, IntentSink& out) {
  ++ticks_;
  if (!kernel_burst_known_ && snap.host) kernel_burst_ = snap.host->kernel_burst;

  // Pass 1: find each pod's memory, forget pods that left, feed the node guard (its state applies to every pod).
  mems_.assign(snap.pods.size(), nullptr);
  guard_in_.now = snap.now;
  guard_in_.capacity_cores = snap.node.cpu_capacity_cores;
  guard_in_.node_busy_ns = snap.node.cpu_busy_ns;
  guard_in_.pinned_cores = 0;
  size_t seen = 0;
  for (size_t i = 0; i < snap.pods.size(); ++i) {
    const auto& ps = snap.pods[i];
    auto& mem = memory_for(ps, i);  // sets key_buf_ to the pod key
    mems_[i] = &mem;
    if (mem.seen_tick == ticks_) continue;  // the same pod listed twice: its usage counts once
    mem.seen_tick = ticks_;
    ++seen;
    update_guard_input(ps, board, mem);
  }
  if (seen != pods_.size())
    for (auto it = pods_.begin(); it != pods_.end();) {
      auto cur = it++;
      if (cur->second.seen_tick != ticks_) forget_pod(cur);
    }
  GuardState before = guard_.state();
  guard_.update(guard_in_, policy_.share_pool_threshold_percent);
  if (metrics_) metrics_->set_guard(guard_.state(), guard_.share_pool_ratio());
  if (guard_.state() != before && before != GuardState::unknown)
    log::info(kLog, "node guard " + std::string(to_string(before)) + " → " + guard_.describe());

  // Pass 2: decide.
  for (size_t i = 0; i < snap.pods.size(); ++i) decide_pod(snap, snap.pods[i], board, out, *mems_[i]);
  by_index_.swap(mems_);  // only pods seen this tick: never a forgotten one
}

void CpuBurstController::decide_pod(const Snapshot& snap, const PodState& ps, Blackboard& board, IntentSink& out,
                                    PodMemory& mem) {
  const BurstPolicy& pol = effective_policy(ps.pod, mem);

  auto& managed = managed_;
  managed.clear();
  Verdict verdict = ineligible(ps, board);
  if (verdict.why == Why::managed && pol.policy == PolicyKind::none) verdict = {Why::policy_none, ps.pod.qos, nullptr};
  bool all_limited = true;
  if (verdict.why == Why::managed) {
    sync_slots(snap, ps, mem);  // only eligible pods have slots (BE pods and the like cost no memory)
    for (size_t i = 0; i < ps.containers.size(); ++i) {
      const auto& cs = ps.containers[i];
      auto& slot = mem.containers[i];
      if (!cs.spec.limits.cpu_millis) {
        all_limited = false;
        continue;
      }
      if (cs.cgroup.empty()) continue;  // not started yet
      refresh_originals(snap, slot);
      int64_t period = slot.orig_period.value_or(kDefaultPeriodUs);
      if (period <= 0) period = kDefaultPeriodUs;
      auto orig = slot.orig_quota;
      if (!orig) orig = std::max<int64_t>(QuotaScaler::kMinQuotaUs, *cs.spec.limits.cpu_millis * period / 1000);
      if (*orig <= 0) continue;  // unlimited in the kernel although the spec has a limit: nothing to burst
      managed.push_back({&cs, &slot, period, *orig, *orig});
    }
    if (managed.empty()) verdict = {Why::no_limited, ps.pod.qos, nullptr};
  }

  mem.prev.swap(mem.held);
  mem.held.clear();

  if (verdict.why != Why::managed) {
    const std::string& why_not = status_of(mem, verdict);
    if (mem.status != why_not) {
      if (!mem.status.empty() || !mem.prev.empty()) {
        Decision d;
        d.kind = Decision::Kind::not_managed;
        d.reason = why_not;
        record(mem, snap, std::move(d));
      }
      mem.status = why_not;
    }
    if (mem.has_series) drop_series(mem);  // once, not a scan per tick per pod
    for (auto& s : mem.containers) s.state.reset();
    if (!mem.prev.empty()) record_releases(mem, snap);
    return;
  }
  if (mem.status != "managed") {
    Decision d;
    d.kind = Decision::Kind::managed;
    d.policy = std::make_unique<BurstPolicy>(pol);
    record(mem, snap, std::move(d));
    mem.status = "managed";
  }
  if (metrics_) mem.has_series = true;

  auto& pod_slot = mem.pod_slot;
  refresh_originals(snap, pod_slot);
  const int64_t pod_period = pod_slot.orig_period.value_or(kDefaultPeriodUs);
  std::optional<int64_t> pod_orig = pod_slot.orig_quota;
  if (!pod_orig && all_limited) {
    int64_t sum = 0;
    for (const auto& m : managed) sum += m.orig_us * pod_period / m.period_us;
    pod_orig = sum;
  }
  const bool pod_limited = pod_orig && *pod_orig > 0;

  // ---- dynamic quota ----
  if (pol.quota_scaling()) {
    // Only the containers' cpu.stat is read every tick: the scaler works per container, and the pod-level cgroup's
    // stats are not used for an LS pod (the node guard reads pinned and BE pods' usage, at the slow-tick rate).
    //
    // Which containers are read every tick (hot): all of them without a throttle event source. With one (the BPF
    // probe watches this pod), a container whose quota is at its original and whose last window showed neither
    // throttling nor pressure cannot need a raise before the kernel throttles it, and the throttle is an event: it
    // is read at the slow tick only, and every tick again from its pod's next event on.
    const auto& events = board.throttle_events;
    const bool event_gated = events.watches(ps.cgroup.str());
    const bool pod_throttled = event_gated && events.pod_cgroups.count(ps.cgroup.str()) > 0;
    int64_t delta_sum = 0, max_child = 0;
    auto& pod_reason = pod_reason_;
    pod_reason.clear();
    for (auto& m : managed) {
      const auto& cs = *m.cs;
      auto& st = m.slot->state ? *m.slot->state : m.slot->state.emplace();
      std::optional<CpuSample> sample;
      if (cs.stats.cpu_stat) {
        const auto& s = *cs.stats.cpu_stat;
        sample = CpuSample{cs.stats.cpu_stat_at, s.nr_periods, s.nr_throttled, s.throttled_ns,
                           cs.stats.cpu_usage_ns ? cs.stats.cpu_usage_ns : s.usage_ns};
      }
      st.window.reset();
      if (sample && st.last && sample->at > st.last->at) st.window = window_between(*st.last, *sample);
      if (sample && (!st.last || sample->at > st.last->at)) st.last = sample;

      ScalerLimits lim;
      lim.period_us = m.period_us;
      lim.original_quota_us = m.orig_us;
      lim.max_quota_us = m.orig_us * pol.cfs_quota_burst_percent / 100;
      lim.budget_seconds = double(pol.cfs_quota_burst_period_seconds);
      lim.hold = std::chrono::milliseconds(pol.scale_down_hold_milliseconds);
      lim.headroom = double(pol.demand_headroom_percent) / 100.0;
      auto step = st.scaler.update(st.window, lim, guard_.state(), snap.now);
      m.quota_us = step.quota_us;
      if (pod_throttled || (st.window && (st.window->throttled() || at_pressure(*st.window, m.quota_us, m.period_us))))
        st.hot_until = snap.now + kHotAfterEvent;
      if (!event_gated || !st.last || m.quota_us > m.orig_us || snap.now < st.hot_until)
        board.hot_cgroups.insert(cs.cgroup);
      delta_sum += (m.quota_us - m.orig_us) * pod_period / m.period_us;
      max_child = std::max(max_child, m.quota_us * pod_period / m.period_us);
      if (m.quota_us > m.orig_us) {
        if (!pod_reason.empty()) pod_reason += ", ";
        pod_reason += cs.spec.name;
      }
      if (metrics_) {
        auto& ser = series_of(ps, *m.slot);
        if (step.raised) metrics_->count_raise(ser);
        if (st.window) metrics_->set_throttled_ratio(ser, st.window->throttled_ratio);
      }
    }
    // Kernel order: a child's quota may not exceed its parent's. The executor writes the pod before its
    // containers when raising and after them when lowering; the values only have to be consistent.
    if (pod_limited) {
      int64_t pod_quota = std::max(*pod_orig + delta_sum, max_child);
      const bool original = pod_quota == *pod_orig;
      if (!(pod_slot.quota_reason_valid && pod_slot.quota_reason_value == pod_quota &&
            pod_slot.quota_reason_names == (original ? std::string_view() : std::string_view(pod_reason)))) {
        pod_slot.quota_reason_valid = true;
        pod_slot.quota_reason_value = pod_quota;
        pod_slot.quota_reason_names = original ? std::string() : pod_reason;
        pod_slot.quota_reason = original ? std::string("original pod limit")
                                         : "sum of raised container quotas (" + pod_reason +
                                               ") plus the pod's original";
      }
      emit(out, mem, snap, pod_slot, cg::Knob::cpu_quota, pod_quota, pod_slot.quota_reason);
      if (metrics_)
        metrics_->set_quota(series_of(ps, pod_slot), double(pod_quota) / pod_period, double(*pod_orig) / pod_period);
    }
    for (const auto& m : managed) {
      const auto& st = *m.slot->state;
      // The scaler keeps its reason as a string: the sink takes a copy.
      emit(out, mem, snap, *m.slot, cg::Knob::cpu_quota, m.quota_us, st.scaler.reason());
      if (metrics_)
        metrics_->set_quota(series_of(ps, *m.slot), double(m.quota_us) / m.period_us,
                            double(m.orig_us) / m.period_us);
    }
  } else {
    for (const auto& m : managed) m.slot->state.reset();
  }

  // ---- kernel burst ----
  if (pol.kernel_burst()) {
    if (!kernel_burst_) {
      if (!mem.noted_no_kernel_burst) {
        Decision d;
        d.kind = Decision::Kind::no_kernel_burst;
        record(mem, snap, std::move(d));
      }
      mem.noted_no_kernel_burst = true;
    } else {
      auto burst_for = [&](CgroupSlot& slot, int64_t quota_us) {
        // Burst is sized on the original quota: it is the lowest quota this controller holds, so the value stays
        // valid (burst <= quota) whatever the dynamic quota does, and the executor never has to reorder it.
        int64_t want = quota_us * pol.cpu_burst_percent / 100;
        int64_t burst = std::min(want, quota_us);
        if (slot.burst_reason_percent != pol.cpu_burst_percent || slot.burst_reason_quota != quota_us) {
          slot.burst_reason_percent = pol.cpu_burst_percent;
          slot.burst_reason_quota = quota_us;
          slot.burst_reason = "cpuBurstPercent " + std::to_string(pol.cpu_burst_percent) + " % of the quota " +
                              std::to_string(quota_us) + " µs";
          if (want > burst)
            slot.burst_reason += ": " + std::to_string(want) + " µs clamped to " + std::to_string(burst) +
                                 " µs (the kernel requires burst <= quota)";
        }
        // Reported once per cgroup and value; the clamped value is what we hold from now on, so nothing retries.
        if (want > burst && slot.clamp_checked_want != want) {
          slot.clamp_checked_want = want;
          if (clamp_reported_.insert(slot.path + "=" + std::to_string(want)).second) {
            log::warn(kLog, ps.pod.key() + " " + slot.path + ": " + slot.burst_reason);
            if (metrics_) metrics_->count_clamp();
          }
        }
        emit(out, mem, snap, slot, cg::Knob::cpu_burst, burst, slot.burst_reason);
        if (metrics_) metrics_->set_burst(series_of(ps, slot), double(burst) / 1e6);
      };
      for (const auto& m : managed) burst_for(*m.slot, m.orig_us);
      if (pod_limited) burst_for(pod_slot, *pod_orig);
    }
  }
  if (!mem.prev.empty()) record_releases(mem, snap);
}

nlohmann::json CpuBurstController::status() const {
  nlohmann::json j;
  j["policy"] = to_json(policy_);
  j["kernelBurst"] = kernel_burst_;
  j["guard"] = {{"state", std::string(to_string(guard_.state()))}, {"detail", guard_.describe()}};
  if (auto r = guard_.share_pool_ratio()) j["guard"]["sharePoolUsageRatio"] = *r;
  nlohmann::json pods = nlohmann::json::object();
  nlohmann::json cgs = nlohmann::json::object();
  for (const auto& [key, mem] : pods_) {
    nlohmann::json p{{"status", mem.status}};
    for (const auto& h : mem.held) p["held"][ref_key(h.path, h.knob)] = h.value;
    pods[key] = std::move(p);
    for (const auto& slot : mem.containers) {
      if (!slot.state) continue;
      const auto& st = *slot.state;
      nlohmann::json c{{"quotaUs", st.scaler.quota_us()}, {"reason", st.scaler.reason()}};
      if (auto b = st.scaler.budget_left()) c["budgetLeftCpuSeconds"] = *b;
      if (st.window) c["throttledRatio"] = st.window->throttled_ratio;
      cgs[slot.path.str()] = std::move(c);
    }
  }
  j["pods"] = std::move(pods);
  j["cgroups"] = std::move(cgs);
  return j;
}

nlohmann::json CpuBurstController::explain(const std::string& pod_key) const {
  nlohmann::json arr = nlohmann::json::array();
  auto it = pods_.find(pod_key);
  if (it == pods_.end()) return arr;
  for (const auto& d : it->second.decisions) arr.push_back(render(d));
  return arr;
}

}  // namespace slo::agent::cpu_burst
