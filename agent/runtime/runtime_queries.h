// AgentQueries answered from what the event loop publishes: an immutable state (shared_ptr<const>) swapped under
// a short lock after ticks, and a bounded per-pod decision history. Safe from any thread. pods() and restore() are
// posted to the loop and waited for: a published copy of every pod and held knob was ~1 MB at 500 pods, kept for
// a query that sloctl makes now and then.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "agent/runtime/agent_queries.h"
#include "cgroups/cgroup_path.h"
#include "cgroups/knob.h"

namespace slo::agent {

// One decision about a pod, for explain(): a plain row, rendered to JSON only when a reader asks.
// Knob and cgroup are the executor's (the path handle is shared, not copied): with up to kMaxPerPod rows per pod
// the history is the agent's largest table after a while of churn.
struct DecisionRecord {
  double time = 0;  // seconds since the epoch
  std::string controller;
  cg::Knob knob{};
  cg::CgroupPath cgroup;
  std::string from, to, reason, result;
};

struct PublishedState {
  nlohmann::json status = nlohmann::json::object();
  nlohmann::json config = nlohmann::json::object();
  nlohmann::json pools = nlohmann::json::object();
  nlohmann::json rdt = nlohmann::json::object();
  nlohmann::json reclaimed = nlohmann::json::object();
  bool ready = false;
};

class RuntimeQueries final : public AgentQueries {
 public:
  // Both run on the event loop and return its result (they block the caller).
  RuntimeQueries(std::function<nlohmann::json()> pods_on_loop, std::function<nlohmann::json()> restore_on_loop)
      : pods_(std::move(pods_on_loop)), restore_(std::move(restore_on_loop)) {}

  void publish(std::shared_ptr<const PublishedState> s);
  std::shared_ptr<const PublishedState> state() const;
  // Appends decisions about a pod (newest last); keeps the last kMaxPerPod per pod.
  void record(const std::string& pod_key, DecisionRecord decision);
  void forget_pods_except(const std::function<bool(const std::string&)>& keep);
  // Pods known to the loop: explain() of an unknown pod is nullopt, of a known pod without decisions [].
  void set_known_pods(std::shared_ptr<const std::set<std::string>> keys);

  nlohmann::json status() const override;
  nlohmann::json pods() const override;
  std::optional<nlohmann::json> explain(const std::string& pod_key) const override;
  nlohmann::json config() const override;
  nlohmann::json pools() const override;
  nlohmann::json rdt() const override;
  nlohmann::json reclaimed() const override;
  nlohmann::json restore() override;
  bool ready() const override;

  // Enough for a pod's recent story (a burst raise and its decay is 2-6 rows); 500 pods × 64 rows stay a few MB.
  static constexpr size_t kMaxPerPod = 64;

 private:
  std::function<nlohmann::json()> pods_, restore_;
  mutable std::mutex mu_;
  std::shared_ptr<const PublishedState> state_ = std::make_shared<PublishedState>();
  std::shared_ptr<const std::set<std::string>> known_ = std::make_shared<std::set<std::string>>();
  // A vector, not a deque: a deque allocates a 512-byte block for every pod even for one record (3000 knobs at 500
  // pods made that 0.8 MB); trimming the front moves at most kMaxPerPod records once the history is full.
  std::map<std::string, std::vector<DecisionRecord>> history_;
};

}  // namespace slo::agent
