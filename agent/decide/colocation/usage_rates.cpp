#include "agent/decide/colocation/usage_rates.h"

namespace slo::colocation {

std::optional<double> UsageRates::update(const std::string& key, uint64_t usage_ns,
                                         std::chrono::steady_clock::time_point at) {
  auto [it, inserted] = entries_.try_emplace(key);
  Entry& e = it->second;
  if (!inserted && at > e.at && usage_ns >= e.usage_ns) {
    double dt = std::chrono::duration<double>(at - e.at).count();
    e.rate = static_cast<double>(usage_ns - e.usage_ns) / 1e9 / dt;
  } else if (!inserted && at == e.at) {
    return e.rate;  // same sample seen again (a tick that did not re-read this cgroup)
  } else {
    e.rate.reset();
  }
  e.usage_ns = usage_ns;
  e.at = at;
  return e.rate;
}

std::optional<double> UsageRates::last(const std::string& key) const {
  auto it = entries_.find(key);
  return it == entries_.end() ? std::nullopt : it->second.rate;
}

void UsageRates::forget_older_than(std::chrono::steady_clock::time_point before) {
  std::erase_if(entries_, [&](const auto& kv) { return kv.second.at < before; });
}

}  // namespace slo::colocation
