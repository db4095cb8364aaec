#include "agent/runtime/runtime_queries.h"

namespace slo::agent {

void RuntimeQueries::publish(std::shared_ptr<const PublishedState> s) {
  std::lock_guard lk(mu_);
  state_ = std::move(s);
}

std::shared_ptr<const PublishedState> RuntimeQueries::state() const {
  std::lock_guard lk(mu_);
  return state_;
}

void RuntimeQueries::record(const std::string& pod_key, DecisionRecord decision) {
  std::lock_guard lk(mu_);
  auto& q = history_[pod_key];
  if (q.size() >= kMaxPerPod) q.erase(q.begin(), q.begin() + static_cast<std::ptrdiff_t>(q.size() - kMaxPerPod + 1));
  q.push_back(std::move(decision));
}

void RuntimeQueries::forget_pods_except(const std::function<bool(const std::string&)>& keep) {
  std::lock_guard lk(mu_);
  for (auto it = history_.begin(); it != history_.end();)
    it = keep(it->first) ? std::next(it) : history_.erase(it);
}

void RuntimeQueries::set_known_pods(std::shared_ptr<const std::set<std::string>> keys) {
  std::lock_guard lk(mu_);
  known_ = std::move(keys);
}

nlohmann::json RuntimeQueries::status() const { return state()->status; }
nlohmann::json RuntimeQueries::pods() const { return pods_(); }
nlohmann::json RuntimeQueries::config() const { return state()->config; }
nlohmann::json RuntimeQueries::pools() const { return state()->pools; }
nlohmann::json RuntimeQueries::rdt() const { return state()->rdt; }
nlohmann::json RuntimeQueries::reclaimed() const { return state()->reclaimed; }
bool RuntimeQueries::ready() const { return state()->ready; }

std::optional<nlohmann::json> RuntimeQueries::explain(const std::string& pod_key) const {
  std::lock_guard lk(mu_);
  auto it = history_.find(pod_key);
  if (it == history_.end()) {
    if (!known_->count(pod_key)) return std::nullopt;
    return nlohmann::json::array();
  }
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& d : it->second)
    arr.push_back({{"time", d.time},
                   {"controller", d.controller},
                   {"knob", cg::to_string(d.knob)},
                   {"cgroup", d.cgroup.str()},
                   {"from", d.from},
                   {"to", d.to},
                   {"reason", d.reason},
                   {"result", d.result}});
  return arr;
}

nlohmann::json RuntimeQueries::restore() { return restore_(); }

}  // namespace slo::agent
