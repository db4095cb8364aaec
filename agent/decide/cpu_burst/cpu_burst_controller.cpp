#include "agent/decide/cpu_burst/cpu_burst_controller.h"

#include <algorithm>
#include <cstdio>
#include <ctime>

#include "agent/runtime/log.h"

namespace slo::agent::cpu_burst {

namespace {

constexpr size_t kDecisionsPerPod = 64;
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

std::string ref_key(const cg::KnobRef& r) { return r.cgroup + ":" + knob_name(r.knob); }

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
  if (!(parsed.policy == policy_)) annotations_.clear();  // pod overrides apply onto the node policy: re-derive
  policy_ = parsed.policy;
  return std::nullopt;
}

std::chrono::milliseconds CpuBurstController::period() const {
  return std::chrono::milliseconds(policy_.tick_milliseconds);
}

std::optional<int64_t> CpuBurstController::original_of(const Snapshot& snap, const cg::KnobRef& ref) const {
  if (!snap.knobs) return std::nullopt;
  if (auto v = int_of(snap.knobs->original(ref))) return v;
  return int_of(snap.knobs->current(ref));
}

void CpuBurstController::record(PodMemory& mem, const Snapshot& snap, nlohmann::json entry) {
  entry["tick"] = snap.tick;
  entry["time"] = iso_time(snap.wall);
  mem.decisions.push_back(std::move(entry));
  while (mem.decisions.size() > kDecisionsPerPod) mem.decisions.pop_front();
}

void CpuBurstController::emit(IntentSink& out, PodMemory& mem, const Snapshot& snap, const cg::KnobRef& ref,
                              int64_t value, const std::string& reason) {
  out.set(ref, cg::KnobValue{value}, reason);
  auto key = ref_key(ref);
  mem.held[key] = value;
  auto it = mem.prev.find(key);
  if (it == mem.prev.end() || it->second != value) {
    nlohmann::json e{{"cgroup", ref.cgroup}, {"knob", knob_name(ref.knob)}, {"value", value}, {"reason", reason}};
    if (it != mem.prev.end()) e["previous"] = it->second;
    record(mem, snap, std::move(e));
  }
}

std::optional<std::string> CpuBurstController::ineligible(const PodState& ps, const Blackboard& board) const {
  const auto& pod = ps.pod;
  if (pod.terminal()) return "pod finished (" + pod.phase + ")";
  if (pod.qos != model::QosClass::LS)
    return "QoS class " + qos_name(pod.qos) + ": CPU burst applies to LS pods only";
  if (ps.cgroup.empty()) return "pod cgroup not found";
  auto owned = [&](const std::set<std::string>& s) -> std::optional<std::string> {
    if (s.count(ps.cgroup)) return ps.cgroup;
    for (const auto& c : ps.containers)
      if (!c.cgroup.empty() && s.count(c.cgroup)) return c.cgroup;
    return std::nullopt;
  };
  // One owner per knob, and the pod quota is tied to its containers' quotas: step aside for the whole pod.
  if (auto c = owned(board.cr_owned_cgroups)) return "step aside: a Cgroups CR owns " + *c;
  if (auto c = owned(board.pinned_cgroups)) return "step aside: " + *c + " is pinned by the cpuset controller";
  return std::nullopt;
}

const BurstPolicy& CpuBurstController::effective_policy(const model::Pod& pod, PodMemory& mem) {
  auto it = pod.annotations.find(std::string(model::kCpuBurstAnnotation));
  if (it == pod.annotations.end()) {
    annotations_.erase(pod.key());
    return policy_;
  }
  auto& a = annotations_[pod.key()];
  if (!a.parsed || a.text != it->second) {
    a.text = it->second;
    a.parsed = apply_annotation(policy_, it->second);
    if (a.parsed->error) {
      // Once per pod and annotation value: the pod runs with the node policy until the annotation changes.
      log::once(log::Level::warn, kLog, "annotation:" + pod.key() + ":" + it->second,
                pod.key() + ": " + *a.parsed->error + " — ignored, node policy applies");
      if (metrics_) metrics_->count_annotation_error();
      mem.decisions.push_back({{"event", "annotation ignored"}, {"reason", *a.parsed->error}});
      while (mem.decisions.size() > kDecisionsPerPod) mem.decisions.pop_front();
    }
  }
  return a.parsed->policy;
}

void CpuBurstController::forget_pod(const std::string& key) {
  auto it = pods_.find(key);
  if (it == pods_.end()) return;
  if (metrics_) metrics_->remove_pod(it->second.ns, it->second.name);
  for (auto c = cgroups_.begin(); c != cgroups_.end();)
    c = it->second.held.count(ref_key({c->first, cg::Knob::cpu_quota, {}})) ? cgroups_.erase(c) : std::next(c);
  pods_.erase(it);
  annotations_.erase(key);
}

void CpuBurstController::update_guard(const Snapshot& snap, const Blackboard& board) {
  GuardInput in;
  in.now = snap.now;
  in.capacity_cores = snap.node.cpu_capacity_cores;
  in.node_busy_ns = snap.node.cpu_busy_ns;
  for (const auto& ps : snap.pods) {
    const auto q = ps.pod.qos;
    bool pinned = q == model::QosClass::LSE || q == model::QosClass::LSR || board.pinned_cgroups.count(ps.cgroup);
    bool be = q == model::QosClass::BE;
    if (pinned) in.pinned_cores += pod_cpu_cores(ps.pod);
    if ((pinned || be) && ps.stats.cpu_usage_ns) in.excluded_usage_ns[ps.pod.key()] = *ps.stats.cpu_usage_ns;
  }
  guard_.update(in, policy_.share_pool_threshold_percent);
  if (metrics_) metrics_->set_guard(guard_.state(), guard_.share_pool_ratio());
}

void CpuBurstController::decide(const Snapshot& snap, Blackboard& board, IntentSink& out) {
  ++ticks_;
  if (!kernel_burst_known_ && snap.host) kernel_burst_ = snap.host->kernel_burst;
  GuardState before = guard_.state();
  update_guard(snap, board);
  if (guard_.state() != before && before != GuardState::unknown)
    log::info(kLog, "node guard " + std::string(to_string(before)) + " → " + guard_.describe());

  std::set<std::string> seen;
  for (const auto& ps : snap.pods) {
    const auto key = ps.pod.key();
    seen.insert(key);
    auto& mem = pods_[key];
    mem.ns = ps.pod.namespace_;
    mem.name = ps.pod.name;
    decide_pod(snap, ps, board, out, mem);
  }
  for (auto it = pods_.begin(); it != pods_.end();) {
    if (seen.count(it->first)) {
      ++it;
      continue;
    }
    auto key = (it++)->first;
    forget_pod(key);
  }
}

void CpuBurstController::decide_pod(const Snapshot& snap, const PodState& ps, Blackboard& board, IntentSink& out,
                                    PodMemory& mem) {
  const BurstPolicy& pol = effective_policy(ps.pod, mem);
  const std::string qos = qos_name(ps.pod.qos);

  struct Managed {
    const ContainerState* cs;
    int64_t period_us, orig_us, quota_us;
  };
  std::vector<Managed> managed;
  std::optional<std::string> why_not = ineligible(ps, board);
  if (!why_not && pol.policy == PolicyKind::none) why_not = "policy none";
  bool all_limited = true;
  if (!why_not) {
    for (const auto& cs : ps.containers) {
      if (!cs.spec.limits.cpu_millis) {
        all_limited = false;
        continue;
      }
      if (cs.cgroup.empty()) continue;  // not started yet
      int64_t period = original_of(snap, {cs.cgroup, cg::Knob::cpu_period, {}}).value_or(kDefaultPeriodUs);
      if (period <= 0) period = kDefaultPeriodUs;
      auto orig = original_of(snap, {cs.cgroup, cg::Knob::cpu_quota, {}});
      if (!orig) orig = std::max<int64_t>(QuotaScaler::kMinQuotaUs, *cs.spec.limits.cpu_millis * period / 1000);
      if (*orig <= 0) continue;  // unlimited in the kernel although the spec has a limit: nothing to burst
      managed.push_back({&cs, period, *orig, *orig});
    }
    if (managed.empty()) why_not = "no running container with a CPU limit";
  }

  mem.prev = std::move(mem.held);
  mem.held.clear();
  const auto& held_before = mem.prev;
  auto finish = [&] {
    for (const auto& [k, v] : held_before)
      if (!mem.held.count(k)) {
        (void)v;
        auto colon = k.rfind(':');
        record(mem, snap,
               {{"cgroup", k.substr(0, colon)},
                {"knob", k.substr(colon + 1)},
                {"released", true},
                {"reason", "no longer claimed (" + (mem.status.empty() ? std::string("policy") : mem.status) +
                               "): the executor restores the original"}});
      }
  };

  if (why_not) {
    if (mem.status != *why_not) {
      if (!mem.status.empty() || !held_before.empty()) record(mem, snap, {{"event", "not managed"}, {"reason", *why_not}});
      mem.status = *why_not;
    }
    if (metrics_ && mem.has_series) metrics_->remove_pod(mem.ns, mem.name);  // once, not a scan per tick per pod
    mem.has_series = false;
    for (const auto& c : ps.containers) cgroups_.erase(c.cgroup);
    finish();
    return;
  }
  if (mem.status != "managed") {
    record(mem, snap, {{"event", "managed"}, {"policy", to_json(pol)}});
    mem.status = "managed";
  }
  if (metrics_) mem.has_series = true;

  const int64_t pod_period = original_of(snap, {ps.cgroup, cg::Knob::cpu_period, {}}).value_or(kDefaultPeriodUs);
  std::optional<int64_t> pod_orig = original_of(snap, {ps.cgroup, cg::Knob::cpu_quota, {}});
  if (!pod_orig && all_limited) {
    int64_t sum = 0;
    for (const auto& m : managed) sum += m.orig_us * pod_period / m.period_us;
    pod_orig = sum;
  }
  const bool pod_limited = pod_orig && *pod_orig > 0;

  // ---- dynamic quota ----
  if (pol.quota_scaling()) {
    board.hot_cgroups.insert(ps.cgroup);
    int64_t delta_sum = 0, max_child = 0;
    std::string pod_reason;
    for (auto& m : managed) {
      const auto& cs = *m.cs;
      board.hot_cgroups.insert(cs.cgroup);
      auto& st = cgroups_[cs.cgroup];
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
      delta_sum += (m.quota_us - m.orig_us) * pod_period / m.period_us;
      max_child = std::max(max_child, m.quota_us * pod_period / m.period_us);
      if (m.quota_us > m.orig_us) pod_reason += (pod_reason.empty() ? "" : ", ") + cs.spec.name;
      if (metrics_) {
        SeriesKey k{ps.pod.namespace_, ps.pod.name, cs.spec.name, qos};
        if (step.raised) metrics_->count_raise(k);
        if (st.window) metrics_->set_throttled_ratio(k, st.window->throttled_ratio);
      }
    }
    // Kernel order: a child's quota may not exceed its parent's. The executor writes the pod before its
    // containers when raising and after them when lowering; the values only have to be consistent.
    if (pod_limited) {
      int64_t pod_quota = std::max(*pod_orig + delta_sum, max_child);
      std::string reason = pod_quota == *pod_orig
                               ? std::string("original pod limit")
                               : "sum of raised container quotas (" + pod_reason + ") plus the pod's original";
      emit(out, mem, snap, {ps.cgroup, cg::Knob::cpu_quota, {}}, pod_quota, reason);
      if (metrics_)
        metrics_->set_quota({ps.pod.namespace_, ps.pod.name, "", qos}, double(pod_quota) / pod_period,
                            double(*pod_orig) / pod_period);
    }
    for (const auto& m : managed) {
      const auto& st = cgroups_[m.cs->cgroup];
      emit(out, mem, snap, {m.cs->cgroup, cg::Knob::cpu_quota, {}}, m.quota_us, st.scaler.reason());
      if (metrics_)
        metrics_->set_quota({ps.pod.namespace_, ps.pod.name, m.cs->spec.name, qos},
                            double(m.quota_us) / m.period_us, double(m.orig_us) / m.period_us);
    }
  } else {
    for (const auto& m : managed) cgroups_.erase(m.cs->cgroup);
  }

  // ---- kernel burst ----
  if (pol.kernel_burst()) {
    if (!kernel_burst_) {
      if (!mem.noted_no_kernel_burst)
        record(mem, snap, {{"event", "kernel burst unavailable"},
                           {"reason", "the kernel has no CFS burst: cpuBurstPercent has no effect here"}});
      mem.noted_no_kernel_burst = true;
    } else {
      auto burst_for = [&](const std::string& cgroup, int64_t quota_us, int64_t period_us, const std::string& container) {
        // Burst is sized on the original quota: it is the lowest quota this controller holds, so the value stays
        // valid (burst <= quota) whatever the dynamic quota does, and the executor never has to reorder it.
        int64_t want = quota_us * pol.cpu_burst_percent / 100;
        int64_t burst = std::min(want, quota_us);
        std::string reason = "cpuBurstPercent " + std::to_string(pol.cpu_burst_percent) + " % of the quota " +
                             std::to_string(quota_us) + " µs";
        if (want > burst) {
          reason += ": " + std::to_string(want) + " µs clamped to " + std::to_string(burst) +
                    " µs (the kernel requires burst <= quota)";
          // Reported once per cgroup and value; the clamped value is what we hold from now on, so nothing retries.
          if (clamp_reported_.insert(cgroup + "=" + std::to_string(want)).second) {
            log::warn(kLog, ps.pod.key() + " " + cgroup + ": " + reason);
            if (metrics_) metrics_->count_clamp();
          }
        }
        cg::KnobRef ref{cgroup, cg::Knob::cpu_burst, {}};
        emit(out, mem, snap, ref, burst, reason);
        if (metrics_)
          metrics_->set_burst({ps.pod.namespace_, ps.pod.name, container, qos}, double(burst) / 1e6);
        (void)period_us;
      };
      for (const auto& m : managed) burst_for(m.cs->cgroup, m.orig_us, m.period_us, m.cs->spec.name);
      if (pod_limited) burst_for(ps.cgroup, *pod_orig, pod_period, "");
    }
  }
  finish();
}

nlohmann::json CpuBurstController::status() const {
  nlohmann::json j;
  j["policy"] = to_json(policy_);
  j["kernelBurst"] = kernel_burst_;
  j["guard"] = {{"state", std::string(to_string(guard_.state()))}, {"detail", guard_.describe()}};
  if (auto r = guard_.share_pool_ratio()) j["guard"]["sharePoolUsageRatio"] = *r;
  nlohmann::json pods = nlohmann::json::object();
  for (const auto& [key, mem] : pods_) {
    nlohmann::json p{{"status", mem.status}};
    for (const auto& [ref, v] : mem.held) p["held"][ref] = v;
    pods[key] = std::move(p);
  }
  j["pods"] = std::move(pods);
  nlohmann::json cgs = nlohmann::json::object();
  for (const auto& [cg, st] : cgroups_) {
    nlohmann::json c{{"quotaUs", st.scaler.quota_us()}, {"reason", st.scaler.reason()}};
    if (auto b = st.scaler.budget_left()) c["budgetLeftCpuSeconds"] = *b;
    if (st.window) c["throttledRatio"] = st.window->throttled_ratio;
    cgs[cg] = std::move(c);
  }
  j["cgroups"] = std::move(cgs);
  return j;
}

nlohmann::json CpuBurstController::explain(const std::string& pod_key) const {
  nlohmann::json arr = nlohmann::json::array();
  auto it = pods_.find(pod_key);
  if (it == pods_.end()) return arr;
  for (const auto& d : it->second.decisions) arr.push_back(d);
  return arr;
}

}  // namespace slo::agent::cpu_burst
