// `sloagent check-config FILE`: the config compile step alone. Exit 0 and the effective config on stdout when
// valid, 1 with the offending field on stderr otherwise. Controllers validate their blocks on fresh instances.
#include <cstdio>

#include "agent/commands/command.h"
#include "agent/runtime/config.h"

namespace slo::agent {
namespace {

const char* kUsage =
    "Usage: sloagent check-config FILE [--node-name NAME] [--policy-dir DIR]\n\n"
    "Validates FILE (JSON or YAML) as `sloagent run --config FILE` would, resolves clusterStrategy and\n"
    "nodeStrategies for the node (labels from agent.nodeLabels; --node-name sets kubernetes.io/hostname) and\n"
    "merges ColocationPolicy objects from --policy-dir. Prints the effective config as JSON.\n"
    "Exit 0 valid, 1 invalid (the field is named on stderr), 2 bad usage.";

int check(const std::vector<std::string>& args) {
  ArgParser p(args);
  if (!p.parse({"--node-name", "--policy-dir"}, {}) || p.positional().size() != 1) {
    std::fprintf(stderr, "sloagent check-config: %s\n%s\n",
                 p.error().empty() ? "exactly one FILE is required" : p.error().c_str(), kUsage);
    return kExitUsage;
  }
  ConfigOverrides ov;
  if (p.has("--node-name")) ov.node_name = p.get("--node-name");
  std::string err;
  auto cfg = load_config(p.positional()[0], p.get("--policy-dir"), ov, err);
  if (!cfg) {
    std::fprintf(stderr, "invalid config: %s\n", err.c_str());
    return kExitError;
  }
  nlohmann::json out = {{"agent", settings_to_json(cfg->doc.agent)},
                        {"policy", cfg->effective.policy},
                        {"applied", cfg->effective.applied}};
  std::printf("%s\n", out.dump(2).c_str());
  return kExitOk;
}

CommandRegistrar reg{Command{"check-config", "validate a config file and print the effective config", kUsage, check}};

}  // namespace
}  // namespace slo::agent
