#include "agent/decide/cgroups_cr/cgroups_cr_controller.h"

#include <algorithm>
#include <functional>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include "agent/decide/cgroups_cr/pod_match.h"
#include "agent/runtime/log.h"

namespace slo::agent::cgroups_cr {
namespace {

constexpr std::string_view kLog = "cgroups-cr";
// Re-validate unchanged objects now and then: a device or CPU that was missing may have appeared (hotplug).
constexpr auto kRevalidate = std::chrono::seconds(30);

std::optional<int64_t> int_of(const std::optional<cg::KnobValue>& v) {
  if (!v || !std::holds_alternative<int64_t>(*v)) return std::nullopt;
  return std::get<int64_t>(*v);
}

std::string describe(const cg::KnobRef& ref, const cg::KnobValue& v) {
  std::string s(cg::to_string(ref.knob));
  if (!ref.device.empty()) s += "[" + ref.device + "]";
  return s + "=" + cg::value_to_string(v);
}

}  // namespace

class CrMetrics {
 public:
  explicit CrMetrics(prometheus::Registry& r)
      : objects_(prometheus::BuildGauge()
                     .Name("sloagent_cgroups_cr_objects")
                     .Help("Cgroups CRs known to this node, by validity of the object as a whole")
                     .Register(r)),
        containers_(prometheus::BuildGauge()
                        .Name("sloagent_cgroups_cr_containers")
                        .Help("Local containers targeted by a Cgroups CR, by status state (Applied, Pending, Failed)")
                        .Register(r)),
        intents_(prometheus::BuildGauge()
                     .Name("sloagent_cgroups_cr_intents")
                     .Help("Knob values the Cgroups CR controller claimed in its last tick, by knob")
                     .Register(r)),
        rejections_(prometheus::BuildCounter()
                        .Name("sloagent_cgroups_cr_rejections_total")
                        .Help("Container overrides rejected (nothing of the container applied), by reason; counted "
                              "once per CR generation, pod and container")
                        .Register(r)) {
    for (const char* s : {kApplied, kPending, kFailed}) containers_.Add({{"state", s}}).Set(0);
  }
  void objects(size_t valid, size_t invalid) {
    objects_.Add({{"valid", "true"}}).Set(static_cast<double>(valid));
    objects_.Add({{"valid", "false"}}).Set(static_cast<double>(invalid));
  }
  void containers(const std::map<std::string, int>& by_state) {
    for (const char* s : {kApplied, kPending, kFailed}) {
      auto it = by_state.find(s);
      containers_.Add({{"state", s}}).Set(it == by_state.end() ? 0 : it->second);
    }
  }
  void intents(const std::map<std::string, int>& by_knob) {
    for (auto& [k, g] : intent_series_) g->Set(0);
    for (const auto& [k, n] : by_knob) {
      auto& g = intent_series_[k];
      if (!g) g = &intents_.Add({{"knob", k}});
      g->Set(n);
    }
  }
  void rejected(const std::string& reason) { rejections_.Add({{"reason", reason}}).Increment(); }

 private:
  prometheus::Family<prometheus::Gauge>& objects_;
  prometheus::Family<prometheus::Gauge>& containers_;
  prometheus::Family<prometheus::Gauge>& intents_;
  prometheus::Family<prometheus::Counter>& rejections_;
  std::map<std::string, prometheus::Gauge*> intent_series_;
};

CgroupsCrController::CgroupsCrController() = default;
CgroupsCrController::~CgroupsCrController() = default;

Capability CgroupsCrController::probe(const HostInfo& host) {
  std::string why = "online CPUs " + (host.topology.online.empty() ? std::string("unknown (cpuset-cpus overrides are "
                                                                                  "rejected)")
                                                                   : host.topology.online.to_string());
  return {true, why};
}

void CgroupsCrController::init(ControllerContext& ctx) {
  cluster_ = ctx.cluster;
  node_name_ = ctx.host.node_name;
  metrics_ = std::make_unique<CrMetrics>(ctx.metrics);
  if (!facts_.resolve_device) {
    facts_.online_cpus = ctx.host.topology.online;
    std::string sysfs = ctx.host.sysfs_root;
    facts_.resolve_device = [sysfs](const std::string& d) { return resolve_block_device(sysfs, d); };
  }
}

std::optional<std::string> CgroupsCrController::configure(const nlohmann::json& /*policy*/) {
  // No policy of its own: the CRs are the policy. Switched off with agent.controllers.disabled: [CgroupsCrController].
  return std::nullopt;
}

const CrSpec& CgroupsCrController::spec_of(const nlohmann::json& obj, std::chrono::steady_clock::time_point now) {
  std::string key;
  if (obj.is_object() && obj.contains("metadata") && obj["metadata"].is_object() &&
      obj["metadata"].contains("name") && obj["metadata"]["name"].is_string())
    key = obj["metadata"]["name"].get<std::string>();
  auto& c = specs_[key];
  if (c.parsed_at == std::chrono::steady_clock::time_point{} || c.object != obj || now - c.parsed_at > kRevalidate) {
    c.object = obj;
    c.spec = parse_cr(obj, facts_);
    c.parsed_at = now;
  }
  return c.spec;
}

void CgroupsCrController::decide(const Snapshot& snap, Blackboard& board, IntentSink& out) {
  // No CR now and none before, and that state already reported: nothing to match, claim, report or count. The
  // controller decides every tick, so without this it walked every pod every 100 ms on nodes that use no CRs.
  if (snap.cgroups_crs.empty() && idle_reported_ && specs_.empty() && last_.empty() && wanted_before_.empty()) return;
  // 1. Parse (cached per object) and order by name: with two CRs on one container the first name wins.
  std::vector<const CrSpec*> crs;
  std::set<std::string> names;
  spec_errors_.clear();
  size_t invalid = 0;
  for (const auto& obj : snap.cgroups_crs) {
    const CrSpec& s = spec_of(obj, snap.now);
    if (!s.error.empty()) {
      ++invalid;
      std::string what = (s.name.empty() ? std::string("(unnamed)") : s.name) + ": " + s.error;
      spec_errors_.push_back(what);
      log::once(log::Level::warn, kLog, "spec:" + what, "Cgroups CR " + what + ": ignored");
      names.insert(s.name);
      continue;
    }
    if (!names.insert(s.name).second) {
      log::once(log::Level::warn, kLog, "dup:" + s.name, "Cgroups CR " + s.name + " given twice: the first is used");
      continue;
    }
    crs.push_back(&s);
  }
  for (auto it = specs_.begin(); it != specs_.end();) it = names.count(it->first) ? std::next(it) : specs_.erase(it);
  std::sort(crs.begin(), crs.end(), [](const CrSpec* a, const CrSpec* b) { return a->name < b->name; });

  // 2. Match local pods and claim.
  std::vector<Entry> entries;
  std::set<std::string> owned_before = board.cr_owned_cgroups;
  for (const auto& ps : snap.pods) {
    if (ps.pod.terminal()) continue;
    std::vector<const CrSpec*> mine;
    for (const auto* cr : crs)
      if (targets(*cr, ps.pod)) mine.push_back(cr);
    if (!mine.empty()) decide_pod(snap, ps, mine, board, out, entries);
  }
  owned_.clear();
  for (const auto& c : board.cr_owned_cgroups)
    if (!owned_before.count(c)) owned_.insert(c);

  // 3. Status, events, metrics.
  for (auto& e : entries) settle(snap, e);
  report(snap, entries);
  notify(snap, entries);
  std::map<std::string, std::string> wanted;
  std::map<std::string, int> by_state, by_knob;
  for (const auto& e : entries) {
    ++by_state[e.state];
    for (const auto& w : e.wants) {
      auto key = w.ref.to_string();
      if (!wanted.count(key)) ++by_knob[std::string(cg::to_string(w.ref.knob))];
      wanted[key] = cg::value_to_string(w.value);
    }
  }
  if (metrics_) {
    metrics_->objects(crs.size(), invalid);
    metrics_->containers(by_state);
    metrics_->intents(by_knob);
  }
  wanted_before_ = std::move(wanted);
  last_ = std::move(entries);
  idle_reported_ = snap.cgroups_crs.empty() && last_.empty() && spec_errors_.empty() && owned_.empty();
}

void CgroupsCrController::decide_pod(const Snapshot& snap, const PodState& ps, const std::vector<const CrSpec*>& crs,
                                     Blackboard& board, IntentSink& out, std::vector<Entry>& entries) {
  std::map<std::string, size_t> by_ctr;  // container name → index of the entry that holds its override
  for (const auto* cr : crs) {
    for (const auto& o : cr->containers) {
      Entry e{cr->name, ps.pod.key(), ps.pod.uid, o.name, "", "", "", {}};
      auto fail = [&](const char* state, std::string reason, std::string message) {
        e.state = state;
        e.reason = std::move(reason);
        e.message = std::move(message);
        entries.push_back(std::move(e));
      };
      if (!o.valid()) {
        fail(kFailed, o.invalid_reason, o.invalid_message);
        continue;
      }
      const ContainerState* cs = nullptr;
      for (const auto& c : ps.containers)
        if (c.spec.name == o.name) cs = &c;
      if (!cs) {
        fail(kFailed, "ContainerNotFound", "pod " + ps.pod.key() + " has no container '" + o.name + "'");
        continue;
      }
      if (auto h = by_ctr.find(o.name); h != by_ctr.end()) {
        fail(kFailed, "ConflictingCr",
             "container already overridden by Cgroups CR '" + entries[h->second].cr + "' (the first by name wins)");
        continue;
      }
      if (cs->cgroup.empty()) {
        by_ctr[o.name] = entries.size();
        fail(kPending, "ContainerNotStarted", "the container's cgroup does not exist yet");
        continue;
      }
      const std::string why = "Cgroups CR " + cr->name;
      if (o.cpu_millis) {
        auto period = snap.knobs ? int_of(snap.knobs->original({cs->cgroup, cg::Knob::cpu_period, {}})) : std::nullopt;
        int64_t p = period && *period > 0 ? *period : kDefaultPeriodUs;
        e.wants.push_back({{cs->cgroup, cg::Knob::cpu_quota, {}},
                           cg::KnobValue{std::max(kMinQuotaUs, *o.cpu_millis * p / 1000)}});
      }
      if (o.memory_bytes) e.wants.push_back({{cs->cgroup, cg::Knob::memory_limit, {}}, cg::KnobValue{*o.memory_bytes}});
      if (o.cpus) e.wants.push_back({{cs->cgroup, cg::Knob::cpuset_cpus, {}}, cg::KnobValue{*o.cpus}});
      for (const auto& io : o.io) e.wants.push_back({{cs->cgroup, io.knob, io.device}, cg::KnobValue{io.value}});
      for (const auto& w : e.wants) out.set(w.ref, w.value, why + ": " + describe(w.ref, w.value));
      board.cr_owned_cgroups.insert(cs->cgroup);
      // CPU burst, batch resources and cpuset tie pod-level knobs to their containers': the CR owns the pod too.
      if (!ps.cgroup.empty()) board.cr_owned_cgroups.insert(ps.cgroup);
      by_ctr[o.name] = entries.size();
      entries.push_back(std::move(e));
    }
  }
  claim_pod_limits(snap, ps, by_ctr, out, entries);
}

// The pod cgroup caps its containers (and on v1 the kernel refuses a child CFS quota above its parent's): when the
// overrides make the containers' sum exceed a limited pod's value, the pod's value is raised to the sum. A lower
// sum leaves the pod alone (raising only), and an unlimited pod stays unlimited.
void CgroupsCrController::claim_pod_limits(const Snapshot& snap, const PodState& ps,
                                           const std::map<std::string, size_t>& by_ctr, IntentSink& out,
                                           std::vector<Entry>& entries) {
  if (ps.cgroup.empty()) return;
  auto original = [&](const cg::KnobRef& r) { return snap.knobs ? int_of(snap.knobs->original(r)) : std::nullopt; };
  auto wanted_of = [&](const std::string& ctr, cg::Knob k) -> std::optional<int64_t> {
    auto it = by_ctr.find(ctr);
    if (it == by_ctr.end()) return std::nullopt;
    for (const auto& w : entries[it->second].wants)
      if (w.ref.knob == k && w.ref.cgroup != ps.cgroup) return std::get<int64_t>(w.value);
    return std::nullopt;
  };
  struct Limit {
    cg::Knob knob;
    std::function<std::optional<int64_t>(const model::Container&)> from_spec;  // kubelet's value for a container
  };
  auto period_of = [&](const std::string& cgroup) {
    auto p = original({cgroup, cg::Knob::cpu_period, {}});
    return p && *p > 0 ? *p : kDefaultPeriodUs;
  };
  const int64_t pod_period = period_of(ps.cgroup);
  const Limit limits[] = {
      {cg::Knob::cpu_quota,
       [&](const model::Container& c) -> std::optional<int64_t> {
         if (!c.limits.cpu_millis) return std::nullopt;
         return std::max(kMinQuotaUs, *c.limits.cpu_millis * pod_period / 1000);
       }},
      {cg::Knob::memory_limit, [](const model::Container& c) { return c.limits.memory_bytes; }},
  };
  for (const auto& l : limits) {
    bool any = false;
    for (const auto& cs : ps.containers) any = any || wanted_of(cs.spec.name, l.knob).has_value();
    if (!any) continue;
    const cg::KnobRef pod_ref{ps.cgroup, l.knob, {}};
    // The pod's value before the agent changed it; until the executor has read it, what kubelet sets: the sum of
    // the containers' limits when every container has one, else unlimited.
    std::optional<int64_t> pod_orig = original(pod_ref);
    int64_t sum = 0;
    bool unlimited = false;
    int64_t spec_sum = 0;
    bool spec_unlimited = false;
    for (const auto& cs : ps.containers) {
      auto spec = l.from_spec(cs.spec);
      if (spec) spec_sum += *spec; else spec_unlimited = true;
      std::optional<int64_t> v = wanted_of(cs.spec.name, l.knob);
      if (!v && !cs.cgroup.empty()) v = original({cs.cgroup, l.knob, {}});
      if (!v) v = spec;
      if (!v || *v < 0) unlimited = true; else sum += *v;
    }
    if (!pod_orig) pod_orig = spec_unlimited ? int64_t{-1} : spec_sum;
    if (*pod_orig < 0 || unlimited || sum <= *pod_orig) continue;
    Want w{pod_ref, cg::KnobValue{sum}};
    out.set(w.ref, w.value, "Cgroups CR: pod " + ps.pod.key() + " raised to the sum of its containers (" +
                                describe(w.ref, w.value) + ")");
    for (const auto& [name, idx] : by_ctr)
      if (wanted_of(name, l.knob)) entries[idx].wants.push_back(w);
  }
}

void CgroupsCrController::settle(const Snapshot& snap, Entry& e) const {
  if (!e.state.empty()) return;  // Failed or Pending already
  std::string missing;
  bool stuck = false;
  for (const auto& w : e.wants) {
    auto cur = snap.knobs ? snap.knobs->current(w.ref) : std::nullopt;
    if (cur && cg::values_equal(*cur, w.value)) continue;
    auto before = wanted_before_.find(w.ref.to_string());
    if (before != wanted_before_.end() && before->second == cg::value_to_string(w.value)) stuck = true;
    if (!missing.empty()) missing += ", ";
    missing += describe(w.ref, w.value) + " (now " + (cur ? cg::value_to_string(*cur) : std::string("unknown")) + ")";
  }
  if (missing.empty()) {
    e.state = kApplied;
    std::string what;
    for (const auto& w : e.wants) what += (what.empty() ? "" : ", ") + describe(w.ref, w.value);
    e.message = what.empty() ? "nothing to override" : what;
    return;
  }
  e.state = kPending;
  if (stuck) {
    e.reason = "NotApplied";
    e.message = "the node has not taken " + missing +
                ": the write failed or another controller holds the knob (see the agent's executor log)";
  } else {
    e.reason = "Applying";
    e.message = "claimed " + missing;
  }
}

void CgroupsCrController::report(const Snapshot& snap, const std::vector<Entry>& entries) {
  if (!cluster_) return;
  std::map<std::string, nlohmann::json> by_cr;
  for (const auto& e : entries) {
    auto& list = by_cr[e.cr];
    if (list.is_null()) list = nlohmann::json::array();
    auto slash = e.pod_key.find('/');
    nlohmann::json c{{"pod", e.pod_key.substr(slash + 1)}, {"container", e.container}, {"state", e.state}};
    if (!e.reason.empty()) c["reason"] = e.reason;
    if (!e.message.empty()) c["message"] = e.message;
    list.push_back(std::move(c));
  }
  std::set<std::string> live;
  for (const auto& [name, c] : specs_)
    if (c.spec.error.empty()) live.insert(name);
  for (const auto& name : live) {
    auto it = by_cr.find(name);
    // A CR that matches nothing here and never did is another node's business: no entry for this node.
    if (it == by_cr.end() && !reported_.count(name)) continue;
    nlohmann::json entry{{"node", node_name_},
                         {"observedGeneration", specs_.at(name).spec.generation},
                         {"containers", it == by_cr.end() ? nlohmann::json::array() : it->second}};
    auto& last = reported_[name];
    if (last == entry) continue;
    last = entry;
    cluster_->report_cgroups_status(name, entry);
  }
  for (auto it = reported_.begin(); it != reported_.end();) it = live.count(it->first) ? std::next(it) : reported_.erase(it);
  (void)snap;
}

void CgroupsCrController::notify(const Snapshot& snap, const std::vector<Entry>& entries) {
  std::set<std::string> seen;
  for (const auto& e : entries) {
    const std::string key = e.cr + "|" + e.pod_uid + "|" + e.container;
    seen.insert(key);
    auto gen = specs_.count(e.cr) ? specs_.at(e.cr).spec.generation : 0;
    std::string mark = e.state + "|" + e.reason + "|" + std::to_string(gen);
    auto& prev = noted_[key];
    if (prev == mark) continue;
    const bool was_applied = prev.rfind(kApplied, 0) == 0;
    prev = mark;
    const auto* ps = snap.find_pod(e.pod_key);
    PodRef pod{ps ? ps->pod.namespace_ : "", ps ? ps->pod.name : e.pod_key, e.pod_uid};
    const std::string who = "Cgroups CR " + e.cr + ", container " + e.container + ": ";
    if (e.state == kFailed) {
      if (metrics_) metrics_->rejected(e.reason);
      log::warn(kLog, e.pod_key + ": " + who + e.reason + ": " + e.message + " (nothing of this container applied)");
      if (cluster_) cluster_->event(pod, "Warning", "CgroupsOverrideRejected", who + e.reason + ": " + e.message);
    } else if (e.state == kApplied && !was_applied) {
      log::info(kLog, e.pod_key + ": " + who + "applied " + e.message);
      if (cluster_) cluster_->event(pod, "Normal", "CgroupsOverrideApplied", who + e.message);
    } else if (e.state == kPending && e.reason == "NotApplied") {
      log::warn(kLog, e.pod_key + ": " + who + e.message);
      if (cluster_) cluster_->event(pod, "Warning", "CgroupsOverrideNotApplied", who + e.message);
    }
  }
  for (auto it = noted_.begin(); it != noted_.end();) {
    if (seen.count(it->first)) {
      ++it;
      continue;
    }
    // No longer targeted (CR deleted or changed, pod relabelled): the executor restores the originals.
    if (it->second.rfind(kApplied, 0) == 0) {
      auto first = it->first.find('|'), second = it->first.find('|', first + 1);
      std::string cr = it->first.substr(0, first), uid = it->first.substr(first + 1, second - first - 1),
                  ctr = it->first.substr(second + 1);
      for (const auto& ps : snap.pods)
        if (ps.pod.uid == uid) {
          log::info(kLog, ps.pod.key() + ": Cgroups CR " + cr + " no longer applies to container " + ctr +
                              ": original values restored");
          if (cluster_)
            cluster_->event({ps.pod.namespace_, ps.pod.name, uid}, "Normal", "CgroupsOverrideReverted",
                            "Cgroups CR " + cr + " no longer applies to container " + ctr +
                                ": original values restored");
        }
    }
    it = noted_.erase(it);
  }
}

nlohmann::json CgroupsCrController::status() const {
  nlohmann::json crs = nlohmann::json::array();
  for (const auto& [name, c] : specs_) {
    nlohmann::json j{{"name", name},
                     {"generation", c.spec.generation},
                     {"target", (c.spec.deployment ? "deployment " : "pod ") + c.spec.target_namespace + "/" +
                                    c.spec.target_name}};
    if (!c.spec.error.empty()) j["error"] = c.spec.error;
    nlohmann::json ctrs = nlohmann::json::array();
    for (const auto& e : last_)
      if (e.cr == name)
        ctrs.push_back({{"pod", e.pod_key}, {"container", e.container}, {"state", e.state}, {"reason", e.reason},
                        {"message", e.message}});
    j["containers"] = ctrs;
    if (ctrs.empty() && c.spec.error.empty()) j["note"] = "no local pod matches";
    crs.push_back(std::move(j));
  }
  return {{"crs", crs}, {"owned_cgroups", owned_}};
}

nlohmann::json CgroupsCrController::explain(const std::string& pod_key) const {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& e : last_) {
    if (e.pod_key != pod_key) continue;
    nlohmann::json knobs = nlohmann::json::array();
    for (const auto& w : e.wants)
      knobs.push_back({{"cgroup", w.ref.cgroup}, {"knob", std::string(cg::to_string(w.ref.knob))},
                       {"device", w.ref.device}, {"value", cg::value_to_string(w.value)}});
    out.push_back({{"cr", e.cr}, {"container", e.container}, {"state", e.state}, {"reason", e.reason},
                   {"message", e.message}, {"knobs", knobs}});
  }
  return out;
}

}  // namespace slo::agent::cgroups_cr
