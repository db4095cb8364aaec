#include "agent/decide/cpuset/pool_planner.h"

#include <algorithm>
#include <cmath>
#include <tuple>

#include <nlohmann/json.hpp>

namespace slo::cpuset {
namespace {

bool pinnable(model::QosClass q) { return q == model::QosClass::LSE || q == model::QosClass::LSR; }

cg::CpuSet with_siblings(const model::Topology& t, const cg::CpuSet& s) {
  cg::CpuSet out = s;
  for (int id : s.ids()) out = out | t.siblings_of(id);
  return out;
}

// CPUs of `free` whose whole physical core is in `free` (LSE never shares a core).
cg::CpuSet whole_cores(const model::Topology& t, const cg::CpuSet& free) {
  cg::CpuSet out;
  for (const auto& [key, cpus] : t.cores())
    if (cpus.is_subset_of(free)) out = out | cpus;
  return out;
}

struct Ledger {
  const model::Topology& topo;
  cg::CpuSet online, reserved, kubelet;
  cg::CpuSet used;     // pinned CPUs
  cg::CpuSet blocked;  // SMT siblings of LSE pins that are not pinned themselves

  std::optional<std::string> check(const cg::CpuSet& cpus, model::QosClass qos) const {
    if (cpus.empty()) return "empty cpuset";
    if (auto bad = cpus - online; !bad.empty()) return "CPUs " + bad.to_string() + " are not online on this node";
    if (auto bad = cpus & reserved; !bad.empty()) return "CPUs " + bad.to_string() + " are reserved";
    if (auto bad = cpus & kubelet; !bad.empty()) return "CPUs " + bad.to_string() + " are pinned by kubelet";
    if (auto bad = cpus & used; !bad.empty()) return "CPUs " + bad.to_string() + " are pinned to another pod";
    if (auto bad = cpus & blocked; !bad.empty())
      return "CPUs " + bad.to_string() + " are SMT siblings of an LSE pod's CPUs";
    if (qos == model::QosClass::LSE)
      if (auto bad = with_siblings(topo, cpus) & (used | kubelet); !bad.empty())
        return "SMT siblings " + bad.to_string() + " are used by another pod (LSE needs whole cores)";
    return std::nullopt;
  }
  cg::CpuSet share_after(const cg::CpuSet& extra, model::QosClass qos) const {
    cg::CpuSet more_blocked = qos == model::QosClass::LSE ? with_siblings(topo, extra) : extra;
    return online - reserved - kubelet - used - blocked - more_blocked;
  }
  void take(const cg::CpuSet& cpus, model::QosClass qos) {
    used = used | cpus;
    if (qos == model::QosClass::LSE) blocked = blocked | (with_siblings(topo, cpus) - cpus);
    blocked = blocked - used;
  }
};

// {"cpuset":"2-3"} → set; nullopt with reason when malformed; nullopt without reason when it carries no cpuset.
std::optional<cg::CpuSet> scheduler_cpuset(const std::string& raw, std::string& reason) {
  auto j = nlohmann::json::parse(raw, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    reason = "resource-status annotation is not a JSON object";
    return std::nullopt;
  }
  auto it = j.find("cpuset");
  if (it == j.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) {
    reason = "resource-status cpuset is not a string";
    return std::nullopt;
  }
  auto s = cg::CpuSet::parse(it->get<std::string>());
  if (!s) {
    reason = "resource-status cpuset '" + it->get<std::string>() + "' is not a CPU list";
    return std::nullopt;
  }
  if (s->empty()) return std::nullopt;
  return s;
}

// The BE pool under a budget: whole cores, compact in the highest NUMA nodes (away from CPU 0, where system
// daemons and interrupts tend to sit), avoiding LSR cores, keeping last tick's choice (stable), growing by at most
// `growth` CPUs per tick and shrinking at once (suppression must bite immediately).
cg::CpuSet narrow_be(const model::Topology& t, const cg::CpuSet& full, const cg::CpuSet& lsr, const cg::CpuSet& prev_in,
                     double budget, const CpusetConfig& cfg, std::string& reason) {
  if (full.empty()) {
    reason = "no CPU left for BE";
    return full;
  }
  size_t target = static_cast<size_t>(std::max(0.0, std::ceil(budget - 1e-9)));
  target = std::max(target, static_cast<size_t>(cfg.be_min_cpus));
  target = std::min(target, full.size());
  const cg::CpuSet prev = prev_in & full;
  size_t want = target;
  if (!prev.empty() && target > prev.size())
    want = std::min(target, prev.size() + static_cast<size_t>(cfg.be_max_growth_cpus_per_tick));
  reason = "budget " + std::to_string(budget) + " CPUs → " + std::to_string(want) + " of " +
           std::to_string(full.size()) + (want < target ? " (growth bounded)" : "");
  struct CoreRank {
    std::tuple<int, int, int, int> key;
    cg::CpuSet cpus;
  };
  std::vector<CoreRank> cores;
  for (const auto& [k, cpus_all] : t.cores()) {
    cg::CpuSet cpus = cpus_all & full;
    if (cpus.empty()) continue;
    const model::CpuInfo* c = t.cpu(cpus.first());
    int prev_rank = (cpus & prev).empty() ? 2 : ((cpus & prev) == cpus ? 0 : 1);
    int lsr_rank = (cpus_all & lsr).empty() ? 0 : 1;
    cores.push_back({{prev_rank, lsr_rank, -c->numa, -k}, cpus});
  }
  std::sort(cores.begin(), cores.end(), [](const CoreRank& a, const CoreRank& b) { return a.key < b.key; });
  cg::CpuSet out;
  for (const auto& c : cores) {
    for (int id : c.cpus.ids()) {
      if (out.size() >= want) break;
      out.add(id);
    }
    if (out.size() >= want) break;
  }
  return out;
}

}  // namespace

void fill_demand(const model::Pod& pod, bool kubelet_pinned, PodDemand& d) {
  // Static keys: a std::string temporary per lookup would allocate (both are longer than the SSO buffer).
  static const std::string status_key(model::kResourceStatusAnnotation), spec_key(kResourceSpecAnnotation);
  d.key.assign(pod.namespace_).append(1, '/').append(pod.name);
  d.uid.assign(pod.uid);
  d.qos = pod.qos;
  d.kubelet_pinned = kubelet_pinned;
  auto req = pod.total_requests().cpu_millis;
  auto lim = pod.total_limits().cpu_millis;
  d.cpu_millis = req.value_or(lim.value_or(0));
  auto assign = [](std::optional<std::string>& dst, const std::string* src) {
    if (!src)
      dst.reset();
    else if (dst)
      dst->assign(*src);
    else
      dst.emplace(*src);
  };
  auto find = [&](const std::string& k) -> const std::string* {
    auto it = pod.annotations.find(k);
    return it == pod.annotations.end() ? nullptr : &it->second;
  };
  assign(d.resource_status, find(status_key));
  const std::string* spec = find(spec_key);
  if (spec && d.resource_spec && *d.resource_spec == *spec) return;  // preferred_policy already parsed from it
  assign(d.resource_spec, spec);
  d.preferred_policy.reset();
  if (spec) {
    auto j = nlohmann::json::parse(*spec, nullptr, false);
    if (j.is_object()) {
      auto p = j.find("preferredCPUBindPolicy");
      if (p != j.end() && p->is_string()) d.preferred_policy = bind_policy_from_string(p->get<std::string>());
    }
  }
}

PodDemand demand_of(const model::Pod& pod, bool kubelet_pinned) {
  PodDemand d;
  fill_demand(pod, kubelet_pinned, d);
  return d;
}

std::optional<cg::CpuSet> Plan::cpus_for(const PodDemand& d) const {
  if (d.kubelet_pinned) return std::nullopt;
  if (auto it = pinned.find(d.key); it != pinned.end()) return it->second.cpus;
  switch (d.qos) {
    case model::QosClass::BE: return be;
    case model::QosClass::SYSTEM: return system_uses_reserved ? share | reserved : share;
    default: return share;
  }
}

Plan plan_pins(const PlanInput& in) {
  const model::Topology& topo = *in.topology;
  const CpusetConfig& cfg = in.config;
  Plan plan;
  plan.system_uses_reserved = cfg.system_pods_use_reserved;
  plan.online = topo.all();
  plan.reserved = cfg.reserved & plan.online;
  plan.kubelet_pinned = in.kubelet_pinned_cpus & plan.online;
  Ledger ledger{topo, plan.online, plan.reserved, plan.kubelet_pinned, {}, {}};
  CpuAllocator alloc(topo);

  std::vector<const PodDemand*> cands;
  for (const auto& d : in.pods)
    if (pinnable(d.qos) && !d.kubelet_pinned) cands.push_back(&d);
  std::sort(cands.begin(), cands.end(), [](const PodDemand* a, const PodDemand* b) { return a->key < b->key; });

  // Scheduler decisions, parsed once.
  std::map<std::string, std::optional<cg::CpuSet>> decided;
  for (const PodDemand* d : cands) {
    if (!cfg.respect_scheduler_decision || !d->resource_status) continue;
    std::string reason;
    auto s = scheduler_cpuset(*d->resource_status, reason);
    if (s)
      decided[d->key] = s;
    else if (!reason.empty())
      plan.refused[d->key] = reason;
  }
  auto requested = [](const PodDemand& d) -> std::optional<int> {
    if (d.cpu_millis <= 0 || d.cpu_millis % 1000 != 0) return std::nullopt;
    return static_cast<int>(d.cpu_millis / 1000);
  };

  // 1. Keep what was pinned before when it still holds: pinned pods are never moved for a newcomer.
  for (const PodDemand* d : cands) {
    auto prev = in.previous.find(d->key);
    if (prev == in.previous.end() || plan.refused.count(d->key)) continue;
    const Pinned& p = prev->second;
    if (p.qos != d->qos) continue;
    if (auto dec = decided.find(d->key); dec != decided.end()) {
      if (!(*dec->second == p.cpus)) continue;  // the scheduler changed its mind: re-check below
    } else if (p.source == "scheduler" || requested(*d) != static_cast<int>(p.cpus.size())) {
      continue;  // decision withdrawn or request resized: allocate afresh
    }
    if (ledger.check(p.cpus, d->qos)) continue;
    ledger.take(p.cpus, d->qos);
    plan.pinned[d->key] = Pinned{p.cpus, d->qos, p.source, p.scope};
  }
  // 2. Scheduler decisions: applied whole after checking, or refused whole.
  for (const PodDemand* d : cands) {
    if (plan.pinned.count(d->key)) continue;
    auto dec = decided.find(d->key);
    if (dec == decided.end()) continue;
    const cg::CpuSet& cpus = *dec->second;
    if (auto why = ledger.check(cpus, d->qos)) {
      plan.refused[d->key] = "scheduler cpuset " + cpus.to_string() + " refused: " + *why;
      continue;
    }
    if (ledger.share_after(cpus, d->qos).empty()) {
      plan.refused[d->key] = "scheduler cpuset " + cpus.to_string() + " refused: it would leave the share pool empty";
      continue;
    }
    ledger.take(cpus, d->qos);
    plan.pinned[d->key] = Pinned{cpus, d->qos, "scheduler", "scheduler"};
  }
  // 3. Local allocation by integer CPU request.
  for (const PodDemand* d : cands) {
    if (plan.pinned.count(d->key) || plan.refused.count(d->key) || decided.count(d->key)) continue;
    auto n = requested(*d);
    if (!n) {
      plan.refused[d->key] = "cpu request " + std::to_string(d->cpu_millis) + "m is not a whole number of CPUs";
      continue;
    }
    cg::CpuSet free = plan.online - ledger.reserved - ledger.kubelet - ledger.used - ledger.blocked;
    if (d->qos == model::QosClass::LSE) free = whole_cores(topo, free - with_siblings(topo, ledger.used | ledger.kubelet));
    auto a = alloc.allocate(free, *n, d->preferred_policy.value_or(cfg.bind_policy));
    if (!a) {
      plan.refused[d->key] = "not enough free CPUs: need " + std::to_string(*n) + ", " + std::to_string(free.size()) +
                             (d->qos == model::QosClass::LSE ? " free on whole cores" : " free");
      continue;
    }
    if (ledger.share_after(a->cpus, d->qos).empty()) {
      plan.refused[d->key] = "pinning " + std::to_string(*n) + " CPUs would leave the share pool empty";
      continue;
    }
    ledger.take(a->cpus, d->qos);
    plan.pinned[d->key] = Pinned{a->cpus, d->qos, "local", a->scope};
  }

  for (const auto& [key, p] : plan.pinned) {
    if (p.qos == model::QosClass::LSE)
      plan.lse = plan.lse | p.cpus;
    else
      plan.lsr = plan.lsr | p.cpus;
  }
  plan.lse_blocked = ledger.blocked;
  plan.be_full = plan.online - plan.reserved - plan.kubelet_pinned - plan.lse - plan.lse_blocked;
  plan.share = plan.be_full - plan.lsr;
  return plan;
}

void plan_be(const PlanInput& in, Plan& plan) {
  if (in.be_budget_cores) {
    plan.be = narrow_be(*in.topology, plan.be_full, plan.lsr, in.previous_be_pool, *in.be_budget_cores, in.config,
                        plan.be_reason);
  } else {
    plan.be = plan.be_full;
    plan.be_reason = "no BE budget: the whole BE pool";
  }
}

Plan plan_pools(const PlanInput& in) {
  Plan plan = plan_pins(in);
  plan_be(in, plan);
  return plan;
}

void to_json(nlohmann::json& j, const Plan& p) {
  j = nlohmann::json::object();
  j["online"] = p.online.to_string();
  j["reserved"] = p.reserved.to_string();
  j["kubeletPinned"] = p.kubelet_pinned.to_string();
  j["lse"] = p.lse.to_string();
  j["lseBlockedSiblings"] = p.lse_blocked.to_string();
  j["lsr"] = p.lsr.to_string();
  j["share"] = p.share.to_string();
  j["be"] = p.be.to_string();
  j["beUnbudgeted"] = p.be_full.to_string();
  j["beReason"] = p.be_reason;
  auto& pods = j["pinned"] = nlohmann::json::object();
  for (const auto& [key, pin] : p.pinned)
    pods[key] = {{"cpus", pin.cpus.to_string()},
                 {"qos", std::string(model::to_string(pin.qos))},
                 {"source", pin.source},
                 {"scope", pin.scope}};
  j["refused"] = p.refused;
}

}  // namespace slo::cpuset
