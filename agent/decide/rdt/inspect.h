// `sloagent inspect rdt`: what resctrl offers here and the schemata each class group would get under the
// effective policy. Reads only; a fake tree (a directory with info/) is accepted and reported as such.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "agent/decide/rdt/policy.h"
#include "rdt/info.h"

namespace slo::agent::rdtctl {

struct InspectOptions {
  std::string resctrl_root = "/sys/fs/resctrl";
  std::string proc_root = "/proc";
  std::string config_file;  // JSON with resctrlQOSStrategy at top level or under clusterStrategy; empty = defaults
};

struct InspectResult {
  nlohmann::json report;  // {"supported": false, "reason": ...} or the full report
  std::string error;      // set when the config file is unreadable or invalid (the command exits 1)
};

InspectResult inspect_rdt(const InspectOptions& opts);

// Capabilities as JSON (shared with the controller's status()).
nlohmann::json info_to_json(const rdt::Info& info);

}  // namespace slo::agent::rdtctl
