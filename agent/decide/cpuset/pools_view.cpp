#include "agent/decide/cpuset/pools_view.h"

#include <fstream>
#include <sstream>

#include "agent/decide/cpuset/cpu_manager_state.h"
#include "agent/decide/cpuset/pin_store.h"
#include "agent/decide/cpuset/pool_planner.h"

namespace slo::cpuset {

PoolsView pools_view(const PoolsViewInput& in) {
  PoolsView v;
  PlanInput pi;
  pi.topology = in.topology;
  if (auto err = parse_cpuset_config(in.config, pi.config)) {
    v.error = *err;
    return v;
  }
  std::optional<CpuManagerState> kubelet;
  if (!in.cpu_manager_state.empty()) {
    std::ifstream f(in.cpu_manager_state, std::ios::binary);
    if (!f) {
      v.error = "cannot read " + in.cpu_manager_state;
      return v;
    }
    std::stringstream ss;
    ss << f.rdbuf();
    auto parsed = parse_cpu_manager_state(ss.str());
    if (!parsed.state) {
      v.error = in.cpu_manager_state + ": " + parsed.error;
      return v;
    }
    kubelet = parsed.state;
    pi.kubelet_pinned_cpus = kubelet->pinned_cpus();
  }
  std::map<std::string, std::string> uid_of;
  for (const auto& p : in.pods.pods) {
    if (p.terminal()) continue;
    pi.pods.push_back(demand_of(p, kubelet && kubelet->pod_pinned(p.uid)));
    uid_of[p.key()] = p.uid;
  }
  if (!in.state_dir.empty()) {
    std::string warning;
    // Read-only look: a corrupt file is reported, not moved (that is the running agent's job).
    std::ifstream f(PinStore(in.state_dir).path(), std::ios::binary);
    if (f) {
      std::stringstream ss;
      ss << f.rdbuf();
      if (auto pins = PinStore::decode(ss.str())) {
        for (const auto& [key, sp] : *pins)
          if (uid_of.count(key) && uid_of[key] == sp.uid) pi.previous[key] = sp.pin;
      } else {
        v.json["warnings"].push_back(PinStore(in.state_dir).path() + ": corrupt checkpoint ignored");
      }
    }
  }
  Plan plan = plan_pools(pi);
  v.json["pools"] = plan;
  auto& pods = v.json["pods"] = nlohmann::json::array();
  for (const auto& d : pi.pods) {
    auto cpus = plan.cpus_for(d);
    std::string pool = d.kubelet_pinned ? "kubelet" : plan.pinned.count(d.key) ? "pinned"
                                                  : d.qos == model::QosClass::BE ? "be"
                                                                                  : "share";
    pods.push_back({{"pod", d.key},
                    {"qos", std::string(model::to_string(d.qos))},
                    {"pool", pool},
                    {"cpus", cpus ? nlohmann::json(cpus->to_string()) : nlohmann::json()}});
  }
  v.json["podErrors"] = in.pods.errors;
  return v;
}

}  // namespace slo::cpuset
