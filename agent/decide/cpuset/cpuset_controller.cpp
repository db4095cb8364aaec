#include "agent/decide/cpuset/cpuset_controller.h"

#include <sys/stat.h>

#include <algorithm>
#include <array>
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

// Gauges fetched once: Family::Add hashes a freshly built label map on every call.
class CpusetMetrics {
 public:
  explicit CpusetMetrics(prometheus::Registry& r) {
    auto& pool = prometheus::BuildGauge()
                     .Name("sloagent_cpuset_pool_cpus")
                     .Help("CPUs in each cpuset pool (reserved, kubelet_pinned, lse, lse_blocked, lsr, share, be)")
                     .Register(r);
    auto& pinned = prometheus::BuildGauge()
                       .Name("sloagent_cpuset_pinned_pods")
                       .Help("Pods pinned by the cpuset controller, by QoS class")
                       .Register(r);
    auto& refused = prometheus::BuildGauge()
                        .Name("sloagent_cpuset_refused_pods")
                        .Help("LSE/LSR pods the cpuset controller could not pin this tick (they run in the share pool)")
                        .Register(r);
    for (size_t i = 0; i < kPools.size(); ++i) pool_[i] = &pool.Add({{"pool", kPools[i]}});
    lse_ = &pinned.Add({{"qos", "LSE"}});
    lsr_ = &pinned.Add({{"qos", "LSR"}});
    refused_ = &refused.Add({});
  }
  void update(const Plan& p) {
    const cg::CpuSet* sets[] = {&p.reserved, &p.kubelet_pinned, &p.lse, &p.lse_blocked, &p.lsr, &p.share, &p.be};
    for (size_t i = 0; i < kPools.size(); ++i) pool_[i]->Set(static_cast<double>(sets[i]->size()));
    double lse = 0, lsr = 0;
    for (const auto& [k, pin] : p.pinned) (pin.qos == model::QosClass::LSE ? lse : lsr) += 1;
    lse_->Set(lse);
    lsr_->Set(lsr);
    refused_->Set(static_cast<double>(p.refused.size()));
  }

 private:
  static constexpr std::array<const char*, 7> kPools = {"reserved", "kubelet_pinned", "lse", "lse_blocked",
                                                        "lsr",      "share",          "be"};
  std::array<prometheus::Gauge*, kPools.size()> pool_{};
  prometheus::Gauge* lse_ = nullptr;
  prometheus::Gauge* lsr_ = nullptr;
  prometheus::Gauge* refused_ = nullptr;
};

namespace {

bool same_topology(const model::Topology& a, const model::Topology& b) {
  auto same_cpu = [](const model::CpuInfo& x, const model::CpuInfo& y) {
    return x.id == y.id && x.package == y.package && x.die == y.die && x.core == y.core && x.numa == y.numa &&
           x.l3 == y.l3 && x.core_key == y.core_key && x.online == y.online;
  };
  auto same_node = [](const model::NumaNode& x, const model::NumaNode& y) {
    return x.id == y.id && x.cpus == y.cpus && x.memory_bytes == y.memory_bytes;
  };
  return a.online == b.online && a.offline == b.offline && a.memory_bytes == b.memory_bytes &&
         std::equal(a.cpus.begin(), a.cpus.end(), b.cpus.begin(), b.cpus.end(), same_cpu) &&
         std::equal(a.numa_nodes.begin(), a.numa_nodes.end(), b.numa_nodes.begin(), b.numa_nodes.end(), same_node);
}

}  // namespace

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

void CpusetController::build_input(const agent::Snapshot& snap, const agent::HostInfo& host) {
  PlanInput& in = next_;
  in.topology = &host.topology;
  in.config = cfg_;
  in.kubelet_pinned_cpus = kubelet_ ? kubelet_->pinned_cpus() : cg::CpuSet{};
  pod_demand_.assign(snap.pods.size(), -1);
  size_t n = 0;
  for (size_t i = 0; i < snap.pods.size(); ++i) {
    const model::Pod& pod = snap.pods[i].pod;
    if (pod.terminal()) continue;
    if (n == in.pods.size()) in.pods.emplace_back();
    fill_demand(pod, kubelet_ && kubelet_->pod_pinned(pod.uid), in.pods[n]);
    pod_demand_[i] = static_cast<int>(n++);
  }
  in.pods.resize(n);
  // Earlier pins of pods still here (same UID); pods that left free their CPUs simply by not being carried over.
  in.previous.clear();
  if (!pins_.empty())
    for (const PodDemand& d : in.pods)
      if (auto it = pins_.find(d.key); it != pins_.end() && it->second.uid == d.uid) in.previous[d.key] = it->second.pin;
  in.be_budget_cores = last_budget_;
  in.previous_be_pool = prev_be_;
}

const cg::CpuSet* CpusetController::cpus_of(const PodDemand& d, const Pinned** pin) const {
  *pin = nullptr;
  if (d.kubelet_pinned) return nullptr;
  if (!plan_.pinned.empty())
    if (auto it = plan_.pinned.find(d.key); it != plan_.pinned.end()) {
      *pin = &it->second;
      return &it->second.cpus;
    }
  switch (d.qos) {
    case model::QosClass::BE: return &plan_.be;
    case model::QosClass::SYSTEM: return plan_.system_uses_reserved ? &system_cpus_ : &plan_.share;
    default: return &plan_.share;
  }
}

std::string CpusetController::reason_of(const PodDemand& d, const Pinned* pin) const {
  if (pin) return std::string(model::to_string(d.qos)) + " pinned (" + pin->source + ", " + pin->scope + ")";
  if (d.qos == model::QosClass::BE) return "BE pool: " + plan_.be_reason;
  std::string reason = std::string(model::to_string(d.qos)) + " share pool";
  if (auto r = plan_.refused.find(d.key); r != plan_.refused.end()) reason += " (not pinned: " + r->second + ")";
  return reason;
}

void CpusetController::decide(const agent::Snapshot& snap, agent::Blackboard& board, agent::IntentSink& out) {
  if (!snap.host) return;
  const agent::HostInfo& host = *snap.host;
  if (!pins_loaded_) load_pins(host);
  refresh_kubelet_state(host.kubelet_cpu_manager_state);

  if (board.be_cpu_budget_cores) {
    last_budget_ = board.be_cpu_budget_cores;
    last_budget_at_ = snap.now;
  } else if (last_budget_ && snap.now - last_budget_at_ > kBudgetHold) {
    last_budget_.reset();
  }
  build_input(snap, host);
  const PlanInput& in = next_;
  const bool pins_same = planned_ && planned_topology_ && same_topology(*planned_topology_, host.topology) &&
                         in.config == in_.config && in.kubelet_pinned_cpus == in_.kubelet_pinned_cpus &&
                         in.pods == in_.pods && in.previous == in_.previous;
  const bool be_same =
      pins_same && in.be_budget_cores == in_.be_budget_cores && in.previous_be_pool == in_.previous_be_pool;
  if (!pins_same) {
    plan_ = plan_pins(in);
    if (!planned_topology_ || !same_topology(*planned_topology_, host.topology)) planned_topology_ = host.topology;
  }
  if (!be_same) plan_be(in, plan_);
  planned_ = true;
  std::swap(in_, next_);  // in_ = the input of plan_ (explain() reads its demands)
  prev_be_ = plan_.be;

  if (!pins_same) {
    system_cpus_ = plan_.share | plan_.reserved;
    // The same pins as before (same pods, same UIDs) need no comparison with the checkpoint.
    PinMap next;
    if (!plan_.pinned.empty())
      for (const PodDemand& d : in_.pods)
        if (auto it = plan_.pinned.find(d.key); it != plan_.pinned.end()) next[d.key] = StoredPin{d.uid, it->second};
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
  }

  // Intents: every pod's and container's cgroup gets its pin or its pool. Pods of one QoS class in a pool share one
  // reason string, built once per tick.
  std::array<std::optional<std::string>, 5> pool_reason;
  cg::CpuSet burstable_union = plan_.share, besteffort_union = plan_.be;
  for (size_t i = 0; i < snap.pods.size(); ++i) {
    if (pod_demand_[i] < 0) continue;
    const agent::PodState& ps = snap.pods[i];
    const PodDemand& d = in_.pods[static_cast<size_t>(pod_demand_[i])];
    const Pinned* pin = nullptr;
    const cg::CpuSet* cpus = cpus_of(d, &pin);
    if (!cpus || cpus->empty()) continue;  // kubelet's pods, or a pool without CPUs: left alone (see explain())
    const std::string* reason;
    std::string own;
    if (!pin && !plan_.refused.count(d.key)) {
      auto& shared = pool_reason[static_cast<size_t>(d.qos)];
      if (!shared) shared = reason_of(d, nullptr);
      reason = &*shared;
    } else {
      own = reason_of(d, pin);
      reason = &own;
    }
    auto claim = [&](const cg::CgroupPath& cgroup) {
      // A Cgroups CR (decided earlier in the tick) owns this cgroup: step aside so the executor hands it over.
      if (cgroup.empty() || board.cr_owned_cgroups.count(cgroup)) return;
      out.set(cg::KnobRef{cgroup, cg::Knob::cpuset_cpus, ""}, *cpus, *reason);
      if (pin) {
        board.pinned_cgroups.insert(cgroup);
        if (cfg_.unset_quota_for_pinned)
          out.set(cg::KnobRef{cgroup, cg::Knob::cpu_quota, ""}, int64_t{-1}, "pinned: CFS quota unset so throttling does not undo pinning");
      }
    };
    claim(ps.cgroup);
    for (const auto& c : ps.containers) claim(c.cgroup);
    // Pods in their tier's default pool add nothing to the union.
    if (ps.tier == cg::QosTier::burstable && cpus != &plan_.share) burstable_union = burstable_union | *cpus;
    if (ps.tier == cg::QosTier::besteffort && cpus != &plan_.be) besteffort_union = besteffort_union | *cpus;
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
  if (metrics_ && !be_same) metrics_->update(plan_);
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
  // The last matching demand, as the per-tick map this replaces kept the last write for a key.
  const PodDemand* d = nullptr;
  for (const PodDemand& x : in_.pods)
    if (x.key == pod_key) d = &x;
  if (!d) return a;
  std::string decision;
  const Pinned* pin = nullptr;
  const cg::CpuSet* cpus = cpus_of(*d, &pin);
  if (d->kubelet_pinned)
    decision = "left alone: kubelet's static CPU manager pinned this pod";
  else if (!cpus || cpus->empty())
    decision = "no CPUs in its pool: left alone";
  else
    decision = reason_of(*d, pin) + " → " + cpus->to_string();
  a.push_back({{"controller", "cpuset"}, {"decision", decision}});
  return a;
}

}  // namespace slo::cpuset
