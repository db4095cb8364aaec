// The pools as the cpuset controller would plan them, for `sloagent inspect topology --pods-file` (and, in JSON
// form, for sloctl and a node annotation a scheduler extension can read).
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "agent/model/pod.h"
#include "agent/model/topology.h"

namespace slo::cpuset {

struct PoolsViewInput {
  const model::Topology* topology = nullptr;
  model::PodListParse pods;
  nlohmann::json config;          // the policy document ({"cpusetStrategy": {...}}) or null for defaults
  std::string cpu_manager_state;  // kubelet checkpoint path; "" = none
  std::string state_dir;          // the agent's state dir (reads the pins checkpoint); "" = plan afresh
};

struct PoolsView {
  nlohmann::json json;
  std::optional<std::string> error;  // bad config or unreadable kubelet checkpoint
};

PoolsView pools_view(const PoolsViewInput& in);

}  // namespace slo::cpuset
