// Read-side API of a running agent, served over gRPC (sloctl) and used by the HTTP endpoints. Implementations
// answer from an immutable snapshot published by the event loop (copy or shared_ptr), never from the live maps,
// so calls are safe from any thread. restore() is the one mutating call: it is posted to the event loop and waited
// for.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace slo::agent {

class AgentQueries {
 public:
  virtual ~AgentQueries() = default;
  // {version, uptime_seconds, node, mode, driver, capabilities{…}, controllers[{name, enabled, reason, period_ms,
  //  last_tick_seconds}], ready}
  virtual nlohmann::json status() const = 0;
  // [{namespace, name, uid, qos, kube_qos, cgroup, containers[{name, cgroup, knobs{name:{current, original, owner,
  //  reason}}}]}]
  virtual nlohmann::json pods() const = 0;
  // Every decision about one pod ("ns/name"), newest last: [{time, controller, knob, cgroup, from, to, reason,
  // result}]. nullopt when the pod is unknown.
  virtual std::optional<nlohmann::json> explain(const std::string& pod_key) const = 0;
  // {effective: {...}, source, loaded_at, last_error}
  virtual nlohmann::json config() const = 0;
  virtual nlohmann::json pools() const = 0;      // cpuset controller status()
  virtual nlohmann::json rdt() const = 0;        // rdt controller status()
  virtual nlohmann::json reclaimed() const = 0;  // reclaimed-resource controller status()
  // Puts every changed knob back to its original value and empties the journal: {restored, gone, failed[...]}.
  virtual nlohmann::json restore() = 0;
  // For /readyz: true after the first successful observe → decide → act tick.
  virtual bool ready() const = 0;
};

}  // namespace slo::agent
