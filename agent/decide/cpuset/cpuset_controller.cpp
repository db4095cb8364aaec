#include "agent/decide/cpuset/cpuset_controller.h"

#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include "agent/runtime/log.h"

namespace slo::cpuset {

constexpr std::string_view kLog = "cpuset";
// The colocation controller may not decide on every tick the cpuset controller does: a budget seen recently still
// holds, so the BE pool does not flap to full between two budget updates.
constexpr auto kBudgetHold = std::chrono::seconds(5);

class CpusetMetrics {
 public:
  explicit CpusetMetrics(prometheus::Registry& r)
      : pool_(prometheus::BuildGauge()
                  .Name("sloagent_cpuset_pool_cpus")
                  .Help("CPUs in each cpuset pool (reserved, kubelet_pinned, lse, lse_blocked, lsr, share, be)")
                  .Register(r)),
        pinned_(prometheus::BuildGauge()
                    .Name("sloagent_cpuset_pinned_pods")
                    .Help("Pods pinned by the cpuset controller, by QoS class")
                    .Register(r)),
        refused_(prometheus::BuildGauge()
                     .Name("sloagent_cpuset_refused_pods")
                     .Help("LSE/LSR pods the cpuset controller could not pin this tick (they run in the share pool)")
                     .Register(r)) {}
  void update(const Plan& p) {
    const std::pair<const char*, const cg::CpuSet*> pools[] = {
        {"reserved", &p.reserved}, {"kubelet_pinned", &p.kubelet_pinned}, {"lse", &p.lse},
        {"lse_blocked", &p.lse_blocked}, {"lsr", &p.lsr}, {"share", &p.share}, {"be", &p.be}};
    for (const auto& [name, set] : pools) pool_.Add({{"pool", name}}).Set(static_cast<double>(set->size()));
    double lse = 0, lsr = 0;
    for (const auto& [k, pin] : p.pinned) (pin.qos == model::QosClass::LSE ? lse : lsr) += 1;
    pinned_.Add({{"qos", "LSE"}}).Set(lse);
    pinned_.Add({{"qos", "LSR"}}).Set(lsr);
    refused_.Add({}).Set(static_cast<double>(p.refused.size()));
  }

 private:
  prometheus::Family<prometheus::Gauge>& pool_;
  prometheus::Family<prometheus::Gauge>& pinned_;
  prometheus::Family<prometheus::Gauge>& refused_;
};

CpusetController::CpusetController() = default;
CpusetController::~CpusetController() = default;

agent::Capability CpusetController::probe(const agent::HostInfo& host) {
  if (host.topology.cpus.empty()) return {false, "no CPU topology (sysfs unreadable): cannot plan cpusets"};
  std::string mode = "topology: " + std::to_string(host.topology.cpus.size()) + " CPUs, " +
                     std::to_string(host.topology.l3_domains().size()) + " L3 domains";
  if (!host.layout) mode += "; no kubepods tree yet (pods without cgroups are skipped)";
  return {true, mode};
}

void CpusetController::init(agent::ControllerContext& ctx) { metrics_ = std::make_unique<CpusetMetrics>(ctx.metrics); }

std::optional<std::string> CpusetController::configure(const nlohmann::json& policy) {
  CpusetConfig c;
  if (auto err = parse_cpuset_config(policy, c)) return err;
  cfg_ = c;
  return std::nullopt;
}

void CpusetController::refresh_kubelet_state(const std::string& path) {
  if (path.empty()) {
    kubelet_.reset();
    return;
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    kubelet_.reset();  // no static CPU manager on this node (or kubelet not started): nothing pinned by kubelet
    kubelet_mtime_ns_ = -1;
    return;
  }
  int64_t mtime = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000LL + st.st_mtim.tv_nsec;
  if (path == kubelet_path_ && mtime == kubelet_mtime_ns_ && st.st_size == kubelet_size_) return;
  kubelet_path_ = path;
  kubelet_mtime_ns_ = mtime;
  kubelet_size_ = st.st_size;
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  auto parsed = parse_cpu_manager_state(ss.str());
  if (!parsed.state) {
    // Keep the last good state: kubelet rewrites the file atomically, so this is a corrupt checkpoint, not a race.
    log::once(log::Level::warn, kLog, "cpu_manager_state:" + parsed.error, path + ": " + parsed.error);
    return;
  }
  kubelet_ = std::move(parsed.state);
}

void CpusetController::load_pins(const agent::HostInfo& host) {
  pins_loaded_ = true;
  store_.emplace(host.state_dir);
  std::string warning;
  pins_ = store_->load(warning);
  if (!warning.empty()) log::warn(kLog, warning);
  if (!pins_.empty()) log::info(kLog, "restored " + std::to_string(pins_.size()) + " pinned pods from " + store_->path());
}

void CpusetController::decide(const agent::Snapshot& snap, agent::Blackboard& board, agent::IntentSink& out) {
  if (!snap.host) return;
  const agent::HostInfo& host = *snap.host;
  if (!pins_loaded_) load_pins(host);
  refresh_kubelet_state(host.kubelet_cpu_manager_state);

  PlanInput in;
  in.topology = &host.topology;
  in.config = cfg_;
  if (kubelet_) in.kubelet_pinned_cpus = kubelet_->pinned_cpus();
  std::map<std::string, const agent::PodState*> live;
  for (const auto& ps : snap.pods) {
    if (ps.pod.terminal()) continue;
    const bool by_kubelet = kubelet_ && kubelet_->pod_pinned(ps.pod.uid);
    in.pods.push_back(demand_of(ps.pod, by_kubelet));
    live[ps.pod.key()] = &ps;
  }
  // Earlier pins of pods still here (same UID); pods that left free their CPUs simply by not being carried over.
  for (const auto& [key, sp] : pins_) {
    auto it = live.find(key);
    if (it != live.end() && it->second->pod.uid == sp.uid) in.previous[key] = sp.pin;
  }
  if (board.be_cpu_budget_cores) {
    last_budget_ = board.be_cpu_budget_cores;
    last_budget_at_ = snap.now;
  } else if (last_budget_ && snap.now - last_budget_at_ > kBudgetHold) {
    last_budget_.reset();
  }
  in.be_budget_cores = last_budget_;
  in.previous_be_pool = prev_be_;

  plan_ = plan_pools(in);
  prev_be_ = plan_.be;

  PinMap next;
  for (const auto& [key, pin] : plan_.pinned) next[key] = StoredPin{live.at(key)->pod.uid, pin};
  auto same = [](const PinMap& a, const PinMap& b) {
    if (a.size() != b.size()) return false;
    for (const auto& [k, v] : a) {
      auto it = b.find(k);
      if (it == b.end() || it->second.uid != v.uid || !(it->second.pin.cpus == v.pin.cpus) ||
          it->second.pin.qos != v.pin.qos)
        return false;
    }
    return true;
  };
  if (!same(next, pins_) && store_) {
    if (auto err = store_->save(next); !err.empty()) log::once(log::Level::warn, kLog, "save:" + err, err);
  }
  pins_ = std::move(next);

  // Intents: every pod's and container's cgroup gets its pin or its pool.
  reasons_.clear();
  cg::CpuSet burstable_union = plan_.share, besteffort_union = plan_.be;
  for (size_t i = 0; i < snap.pods.size(); ++i) {
    const agent::PodState& ps = snap.pods[i];
    if (ps.pod.terminal()) continue;
    const PodDemand* d = nullptr;
    for (const auto& x : in.pods)
      if (x.key == ps.pod.key()) d = &x;
    if (!d) continue;
    if (d->kubelet_pinned) {
      reasons_[d->key] = "left alone: kubelet's static CPU manager pinned this pod";
      continue;
    }
    auto cpus = plan_.cpus_for(*d);
    if (!cpus || cpus->empty()) {
      reasons_[d->key] = "no CPUs in its pool: left alone";
      continue;
    }
    std::string reason;
    auto pin = plan_.pinned.find(d->key);
    if (pin != plan_.pinned.end()) {
      reason = std::string(model::to_string(d->qos)) + " pinned (" + pin->second.source + ", " + pin->second.scope + ")";
    } else if (d->qos == model::QosClass::BE) {
      reason = "BE pool: " + plan_.be_reason;
    } else {
      reason = std::string(model::to_string(d->qos)) + " share pool";
      if (auto r = plan_.refused.find(d->key); r != plan_.refused.end()) reason += " (not pinned: " + r->second + ")";
    }
    reasons_[d->key] = reason + " → " + cpus->to_string();
    const bool pinned = pin != plan_.pinned.end();
    auto claim = [&](const std::string& cgroup) {
      // A Cgroups CR (decided earlier in the tick) owns this cgroup: step aside so the executor hands it over.
      if (cgroup.empty() || board.cr_owned_cgroups.count(cgroup)) return;
      out.set(cg::KnobRef{cgroup, cg::Knob::cpuset_cpus, ""}, *cpus, reason);
      if (pinned) {
        board.pinned_cgroups.insert(cgroup);
        if (cfg_.unset_quota_for_pinned)
          out.set(cg::KnobRef{cgroup, cg::Knob::cpu_quota, ""}, int64_t{-1}, "pinned: CFS quota unset so throttling does not undo pinning");
      }
    };
    claim(ps.cgroup);
    for (const auto& c : ps.containers) claim(c.cgroup);
    if (ps.tier == cg::QosTier::burstable) burstable_union = burstable_union | *cpus;
    if (ps.tier == cg::QosTier::besteffort) besteffort_union = besteffort_union | *cpus;
  }
  // QoS tiers: a parent must hold the union of its children (v1 rejects a child wider than its parent), and new pods
  // inherit their tier's cpuset until the next tick, so each tier holds its default pool plus its pods' CPUs.
  // Guaranteed pods sit directly in kubepods, which keeps every online CPU (kubelet's pinned containers live there).
  if (host.layout && !snap.pods.empty()) {
    const auto& l = *host.layout;
    out.set(cg::KnobRef{l.tier_dir(cg::QosTier::guaranteed), cg::Knob::cpuset_cpus, ""}, plan_.online,
            "kubepods holds every online CPU");
    if (!burstable_union.empty())
      out.set(cg::KnobRef{l.tier_dir(cg::QosTier::burstable), cg::Knob::cpuset_cpus, ""}, burstable_union,
              "burstable tier: share pool + its pods' CPUs");
    if (!besteffort_union.empty())
      out.set(cg::KnobRef{l.tier_dir(cg::QosTier::besteffort), cg::Knob::cpuset_cpus, ""}, besteffort_union,
              "besteffort tier: BE pool + its pods' CPUs");
  }
  if (metrics_) metrics_->update(plan_);
}

nlohmann::json CpusetController::status() const {
  nlohmann::json j;
  j["pools"] = plan_;
  j["config"] = {{"reservedCpus", cfg_.reserved.to_string()},
                 {"cpuBindPolicy", std::string(to_string(cfg_.bind_policy))},
                 {"unsetQuotaForPinned", cfg_.unset_quota_for_pinned}};
  j["kubeletCpuManager"] = kubelet_ ? nlohmann::json{{"policy", kubelet_->policy},
                                                     {"pinnedCpus", kubelet_->pinned_cpus().to_string()},
                                                     {"pinnedPods", kubelet_->entries.size()}}
                                    : nlohmann::json();
  return j;
}

nlohmann::json CpusetController::explain(const std::string& pod_key) const {
  nlohmann::json a = nlohmann::json::array();
  if (auto it = reasons_.find(pod_key); it != reasons_.end()) a.push_back({{"controller", "cpuset"}, {"decision", it->second}});
  return a;
}

}  // namespace slo::cpuset
