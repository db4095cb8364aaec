#include "agent/decide/colocation/be_suppression_controller.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string_view>

#include "agent/decide/colocation/eviction.h"
#include "agent/runtime/log.h"

namespace slo::colocation {
namespace {

bool is_be(const agent::PodState& p) { return p.pod.qos == model::QosClass::BE; }

// pod.key() == key, without building the key.
bool has_key(const model::Pod& pod, std::string_view key) {
  const auto& ns = pod.namespace_;
  return key.size() == ns.size() + 1 + pod.name.size() && key.compare(0, ns.size(), ns) == 0 &&
         key[ns.size()] == '/' && key.substr(ns.size() + 1) == pod.name;
}

std::string iso_now(std::chrono::system_clock::time_point t) {
  auto s = std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
  return std::to_string(s);
}

}  // namespace

agent::Capability BeSuppressionController::probe(const agent::HostInfo& host) {
  if (!host.layout) return {true, "no kubepods tree yet: suppression starts when it appears"};
  return {};
}

void BeSuppressionController::init(agent::ControllerContext& ctx) {
  cluster_ = ctx.cluster;
  auto& budget = prometheus::BuildGauge()
                     .Name("sloagent_be_cpu_budget_cores")
                     .Help("CPU the best-effort tier may use now (BE suppression), in cores")
                     .Register(ctx.metrics);
  budget_gauge_ = &budget.Add({});
  auto& ls = prometheus::BuildGauge()
                 .Name("sloagent_ls_cpu_usage_cores")
                 .Help("CPU used by non-BE pods over the last suppression period, in cores")
                 .Register(ctx.metrics);
  ls_usage_gauge_ = &ls.Add({});
  auto& state = prometheus::BuildGauge()
                    .Name("sloagent_be_suppression_active")
                    .Help("1 for the suppression policy in force (cpuset or cfsQuota), 0 otherwise")
                    .Register(ctx.metrics);
  state_cpuset_ = &state.Add({{"policy", "cpuset"}});
  state_cfs_quota_ = &state.Add({{"policy", "cfsQuota"}});
  evictions_family_ = &prometheus::BuildCounter()
                           .Name("sloagent_evictions_total")
                           .Help("BE pods evicted (or, standalone, that would have been), by reason")
                           .Register(ctx.metrics);
}

std::optional<std::string> BeSuppressionController::configure(const nlohmann::json& policy) {
  ThresholdConfig c;
  if (auto err = parse_threshold_config(policy, c)) return err;
  cfg_ = c;
  smoother_ = BudgetSmoother(cfg_.be_max_growth_cores_per_tick);
  last_decided_.reset();  // a new policy (reload, schedule window) is applied on the next tick
  return std::nullopt;
}

void BeSuppressionController::decide(const agent::Snapshot& snap, agent::Blackboard& board, agent::IntentSink& out) {
  if (!cfg_.enable) {
    last_ = Decision{};
    if (budget_gauge_) budget_gauge_->Set(snap.node.cpu_capacity_cores);
    return;  // no claim: the executor restores the tier quota, cpuset sees no budget
  }
  // Between two decisions: hold the last one. The Blackboard lives for one tick, and the cpuset controller (its own
  // period) must find the budget whenever it decides; the tier quota claim must be restated (level-triggered).
  const auto period = std::chrono::milliseconds(cfg_.period_ms);
  if (last_decided_ && snap.now - *last_decided_ < period - period / 10) {
    if (cfg_.cpu_suppress_policy == SuppressPolicy::cpuset)
      board.be_cpu_budget_cores = last_.budget;
    else if (held_quota_)
      out.set(held_quota_->first, held_quota_->second, held_reason_);
    mark_hot(snap, board);
    return;
  }
  last_decided_ = snap.now;
  held_quota_.reset();
  usage_.update(snap, NodeUsage::Detail::totals);
  mark_hot(snap, board);
  const double ls = usage_.ls_cpu_cores(), be = usage_.be_cpu_cores();
  const double system_usage = usage_.system_cpu_cores();

  BeBudgetInput in;
  in.capacity_cores = snap.node.cpu_capacity_cores;
  in.threshold_percent = cfg_.cpu_suppress_threshold_percent;
  in.ls_usage_cores = ls;
  in.system_usage_cores = system_usage;
  in.reserved_cores = cfg_.system_reserved_cores;
  in.min_cores = cfg_.be_min_cpu_cores;
  double watermark = be_cpu_budget(in);

  const bool breach = breached(snap, board);
  double floor = std::min(cfg_.be_min_cpu_cores, in.capacity_cores);
  auto cap = interference_.update(breach, watermark, in.capacity_cores, floor);
  double target = cap ? std::min(watermark, *cap) : watermark;
  double budget = smoother_.update(target);

  const bool cpuset = cfg_.cpu_suppress_policy == SuppressPolicy::cpuset;
  last_ = Decision{ls, be, system_usage, watermark, cap, budget, breach, cpuset ? "cpuset" : "cfsQuota"};
  if (budget_gauge_) budget_gauge_->Set(budget);
  if (ls_usage_gauge_) ls_usage_gauge_->Set(ls);
  if (state_cpuset_) state_cpuset_->Set(cpuset ? 1 : 0);
  if (state_cfs_quota_) state_cfs_quota_->Set(cpuset ? 0 : 1);

  log_budget_change(snap.now, budget, ls);
  if (cpuset) {
    board.be_cpu_budget_cores = budget;
  } else if (snap.host && snap.host->layout) {
    std::string tier = snap.host->layout->tier_dir(cg::QosTier::besteffort);
    int64_t cfs_period = 100000;
    if (snap.knobs)
      if (auto p = snap.knobs->current({tier, cg::Knob::cpu_period, {}}); p && cg::as_int(*p) > 0)
        cfs_period = cg::as_int(*p);
    auto quota = static_cast<int64_t>(budget * static_cast<double>(cfs_period));
    held_quota_.emplace(cg::KnobRef{tier, cg::Knob::cpu_quota, {}}, cg::KnobValue{std::max<int64_t>(quota, 1000)});
    // The reason travels with the claim (journal, decisions): built only for the policy that claims a knob.
    held_reason_ = "BE budget " + std::to_string(budget).substr(0, 5) + " cores = " +
                   std::to_string(in.capacity_cores).substr(0, 5) + " x " +
                   std::to_string(cfg_.cpu_suppress_threshold_percent).substr(0, 4) + "% - LS " +
                   std::to_string(ls).substr(0, 5) + " - system " +
                   std::to_string(std::max(system_usage, cfg_.system_reserved_cores)).substr(0, 5) +
                   (cap ? " (capped by run-queue latency)" : "");
    out.set(held_quota_->first, held_quota_->second, held_reason_);
  }
  evict_if_needed(snap);
}

// The observer reads hot cgroups at the start of the NEXT tick, so they are marked only on the tick before a
// decision is due (with the default 100 ms tick and 200 ms period: every other tick); slow ticks read everything
// anyway. What is marked: the kubepods and besteffort tier cgroups, whose difference is the LS usage; every pod's
// cgroup only while there is no tier usage (a runtime or tree without it), for the per-pod sums.
void BeSuppressionController::mark_hot(const agent::Snapshot& snap, agent::Blackboard& board) {
  const auto gap = last_called_ ? snap.now - *last_called_ : std::chrono::steady_clock::duration::zero();
  last_called_ = snap.now;
  const auto period = std::chrono::milliseconds(cfg_.period_ms);
  if (last_decided_ && gap > gap.zero() && snap.now + gap - *last_decided_ < period - period / 10) return;
  if (snap.host && snap.host->layout) {
    if (snap.host->layout->kubepods != kubepods_) {
      kubepods_ = snap.host->layout->kubepods;
      besteffort_ = snap.host->layout->tier_dir(cg::QosTier::besteffort);
    }
    board.hot_cgroups.insert(kubepods_);
    board.hot_cgroups.insert(besteffort_);
  }
  if (NodeUsage::tiers_available(snap) || usage_.tiers_recent(snap.now)) return;
  for (const auto& p : snap.pods)
    if (!p.cgroup.empty()) board.hot_cgroups.insert(p.cgroup);
}

// An LS pod over its run-queue latency SLO. The board has entries only for the pods the BPF controller tracks; a
// pod is looked up (without building its key) only for an entry over the SLO.
bool BeSuppressionController::breached(const agent::Snapshot& snap, const agent::Blackboard& board) const {
  if (cfg_.runq_latency_slo_ms <= 0) return false;
  for (const auto& [key, p99] : board.runq_p99_seconds) {
    if (!(p99 * 1000.0 > cfg_.runq_latency_slo_ms)) continue;
    for (const auto& p : snap.pods)
      if (!is_be(p) && has_key(p.pod, key)) return true;
  }
  return false;
}

// One line per significant move (≥ 0.25 cores or 20 %), so operators (and the demo) see suppression act without a
// line per period: shrinks at most once a second, growth at most every 5 s.
void BeSuppressionController::log_budget_change(std::chrono::steady_clock::time_point now, double budget, double ls) {
  if (!logged_budget_) {
    logged_budget_ = budget;
    logged_at_ = now;
    return;
  }
  double from = *logged_budget_;
  double delta = budget - from;
  bool big = std::abs(delta) >= std::max(0.25, 0.2 * from);
  auto gap = delta < 0 ? std::chrono::seconds(1) : std::chrono::seconds(5);
  if (!big || now - logged_at_ < gap) return;
  char line[160];
  std::snprintf(line, sizeof line, "BE budget %.2f \u2192 %.2f cores (LS usage %.2f, system %.2f, %s)", from, budget, ls,
                last_.system_usage_cores, last_.policy.c_str());
  log::info("colocation", line);
  logged_budget_ = budget;
  logged_at_ = now;
}

void BeSuppressionController::evict_if_needed(const agent::Snapshot& snap) {
  const auto& n = snap.node;
  if (n.memory_total_bytes <= 0) return;
  // Below the threshold (nearly always) nothing else is looked at: candidates are built only when eviction triggers.
  const double used_pct = 100.0 * static_cast<double>(n.memory_used_bytes) / static_cast<double>(n.memory_total_bytes);
  if (used_pct < cfg_.memory_evict_threshold_percent) return;
  if (snap.now - last_eviction_ < std::chrono::seconds(cfg_.evict_cooldown_seconds) &&
      last_eviction_ != std::chrono::steady_clock::time_point{})
    return;
  std::vector<EvictionCandidate> cands;
  cands.reserve(snap.pods.size());
  for (const auto& p : snap.pods) {
    if (!is_be(p)) continue;  // never a victim
    int64_t mem = p.stats.memory ? p.stats.memory->working_set_bytes : 0;
    cands.push_back({p.pod.key(), true, p.pod.priority.value_or(0), mem});
  }
  auto d = select_evictions(std::move(cands), n.memory_used_bytes, n.memory_total_bytes,
                            cfg_.memory_evict_threshold_percent, cfg_.memory_evict_lower_percent);
  if (!d.triggered) return;
  if (d.victims.empty()) {
    log::once(log::Level::warn, "colocation", "evict-none",
              "node memory above memoryEvictThresholdPercent but no BE pod to evict");
    return;
  }
  last_eviction_ = snap.now;
  const std::string reason = "node memory " + std::to_string(100 * n.memory_used_bytes / n.memory_total_bytes) +
                             "% >= " + std::to_string(static_cast<int>(cfg_.memory_evict_threshold_percent)) +
                             "% (memoryEvictThresholdPercent); freeing toward " +
                             std::to_string(static_cast<int>(cfg_.memory_evict_lower_percent)) + "%";
  for (const auto& key : d.victims) {
    const agent::PodState* p = nullptr;
    for (const auto& q : snap.pods)
      if (has_key(q.pod, key)) {
        p = &q;
        break;
      }
    if (!p) continue;
    agent::PodRef ref{p->pod.namespace_, p->pod.name, p->pod.uid};
    if (cluster_) {
      cluster_->evict(ref, reason);
      cluster_->event(ref, "Warning", "EvictedByMemoryPressure", reason);
    }
    if (evictions_family_) evictions_family_->Add({{"reason", "memory"}}).Increment();
    auto& dq = decisions_[key];
    dq.push_back({{"time", iso_now(snap.wall)}, {"controller", "BeSuppression"}, {"action", "evict"},
                  {"reason", reason}, {"standalone", !cluster_ || cluster_->standalone()}});
    while (dq.size() > 20) dq.pop_front();
  }
  while (decisions_.size() > 1000) decisions_.erase(decisions_.begin());
}

nlohmann::json BeSuppressionController::status() const {
  nlohmann::json j{{"enabled", cfg_.enable},
                   {"policy", last_.policy},
                   {"be_cpu_budget_cores", last_.budget},
                   {"watermark_budget_cores", last_.watermark_budget},
                   {"ls_usage_cores", last_.ls_usage_cores},
                   {"be_usage_cores", last_.be_usage_cores},
                   {"system_usage_cores", last_.system_usage_cores},
                   {"interference_breached", last_.breached},
                   {"cpuSuppressThresholdPercent", cfg_.cpu_suppress_threshold_percent},
                   {"periodMillis", cfg_.period_ms},
                   {"memoryEvictThresholdPercent", cfg_.memory_evict_threshold_percent}};
  if (last_.interference_cap) j["interference_cap_cores"] = *last_.interference_cap;
  return j;
}

nlohmann::json BeSuppressionController::explain(const std::string& pod_key) const {
  auto it = decisions_.find(pod_key);
  nlohmann::json arr = nlohmann::json::array();
  if (it != decisions_.end())
    for (const auto& d : it->second) arr.push_back(d);
  return arr;
}

}  // namespace slo::colocation
