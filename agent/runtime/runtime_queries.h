// AgentQueries answered from what the event loop publishes: an immutable state (shared_ptr<const>) swapped under
// a short lock after ticks, and a bounded per-pod decision history. Safe from any thread. restore() is posted to
// the loop and waited for.
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

namespace slo::agent {

// Pods and held knobs as plain rows: rendered to JSON only when a reader asks. A JSON tree of every pod and knob,
// rebuilt on each publish and alive twice during the swap, was a third of the agent's heap at 500 pods.
struct PublishedKnob {
  std::string name;  // knob file, with "[device]" for per-device knobs
  std::string current, original, owner, reason;
};
struct PublishedContainer {
  std::string name, cgroup;
  std::vector<PublishedKnob> knobs;
};
struct PublishedPod {
  std::string namespace_, name, uid, qos, kube_qos, cgroup;
  std::vector<PublishedKnob> knobs;
  std::vector<PublishedContainer> containers;
};
nlohmann::json to_json(const std::vector<PublishedPod>& pods);

// One decision about a pod, for explain(); kept as a row for the same reason.
struct DecisionRecord {
  double time = 0;  // seconds since the epoch
  std::string controller, knob, cgroup, from, to, reason, result;
};

struct PublishedState {
  nlohmann::json status = nlohmann::json::object();
  std::vector<PublishedPod> pods;
  nlohmann::json config = nlohmann::json::object();
  nlohmann::json pools = nlohmann::json::object();
  nlohmann::json rdt = nlohmann::json::object();
  nlohmann::json reclaimed = nlohmann::json::object();
  bool ready = false;
};

class RuntimeQueries final : public AgentQueries {
 public:
  // restore_on_loop runs the restore on the event loop and returns its result (blocks the caller).
  explicit RuntimeQueries(std::function<nlohmann::json()> restore_on_loop) : restore_(std::move(restore_on_loop)) {}

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

  static constexpr size_t kMaxPerPod = 200;

 private:
  std::function<nlohmann::json()> restore_;
  mutable std::mutex mu_;
  std::shared_ptr<const PublishedState> state_ = std::make_shared<PublishedState>();
  std::shared_ptr<const std::set<std::string>> known_ = std::make_shared<std::set<std::string>>();
  // A vector, not a deque: a deque allocates a 512-byte block for every pod even for one record (3000 knobs at 500
  // pods made that 0.8 MB); trimming the front moves at most kMaxPerPod records once the history is full.
  std::map<std::string, std::vector<DecisionRecord>> history_;
};

}  // namespace slo::agent
