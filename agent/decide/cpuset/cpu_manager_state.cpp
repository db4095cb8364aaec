#include "agent/decide/cpuset/cpu_manager_state.h"

#include <nlohmann/json.hpp>

namespace slo::cpuset {

cg::CpuSet CpuManagerState::pinned_cpus() const {
  cg::CpuSet s;
  for (const auto& [uid, containers] : entries)
    for (const auto& [name, cpus] : containers) s = s | cpus;
  return s;
}

CpuManagerStateParse parse_cpu_manager_state(std::string_view text) {
  CpuManagerStateParse out;
  auto doc = nlohmann::json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    out.error = "cpu_manager_state: malformed JSON";
    return out;
  }
  CpuManagerState st;
  if (auto it = doc.find("policyName"); it != doc.end() && it->is_string()) st.policy = it->get<std::string>();
  if (auto it = doc.find("defaultCpuSet"); it != doc.end() && it->is_string()) {
    auto s = cg::CpuSet::parse(it->get<std::string>());
    if (!s) {
      out.error = "cpu_manager_state: invalid defaultCpuSet";
      return out;
    }
    st.default_cpu_set = *s;
  }
  if (auto it = doc.find("entries"); it != doc.end() && !it->is_null()) {
    if (!it->is_object()) {
      out.error = "cpu_manager_state: entries is not an object";
      return out;
    }
    for (const auto& [uid, containers] : it->items()) {
      if (!containers.is_object()) continue;
      for (const auto& [name, cpus] : containers.items()) {
        if (!cpus.is_string()) continue;
        auto s = cg::CpuSet::parse(cpus.get<std::string>());
        if (!s) {
          out.error = "cpu_manager_state: invalid cpuset for " + uid + "/" + name;
          return out;
        }
        if (!s->empty()) st.entries[uid][name] = *s;
      }
    }
  }
  out.state = std::move(st);
  return out;
}

}  // namespace slo::cpuset
