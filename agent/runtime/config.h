// The agent's configuration: JSON/YAML document → plain structs → validation → the effective policy for this node.
//
// Document (see docs/config-runtime.md):
//   agent:            runtime settings (AgentSettings below)
//   clusterStrategy:  policy blocks for every node ({cpuBurstStrategy: {...}, ...}: owned by the controllers)
//   nodeStrategies:   [{name, nodeSelector: {matchLabels, matchExpressions}, <policy blocks>}]; the first whose
//                     selector matches this node is merged over clusterStrategy (JSON merge patch)
// Policy CRs (kind ColocationPolicy, --policy-dir) are merged on top, lowest spec.priority first.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/runtime/log.h"

namespace slo::agent {

struct AgentSettings {
  std::string node_name;                          // agent.nodeName (CLI --node-name wins)
  std::map<std::string, std::string> node_labels;  // agent.nodeLabels (standalone: the labels selectors match)
  std::chrono::milliseconds tick{100};            // agent.tickMs: fast tick (hot cpu.stat, due controllers)
  std::chrono::milliseconds stats_interval{1000};  // agent.statsIntervalMs: every other stat
  std::chrono::milliseconds pods_interval{10000};  // agent.podsIntervalMs: pod source poll interval
  std::chrono::seconds reassert{30};               // agent.reassertSeconds: re-read owned knobs
  std::string kubepods_parent;                     // agent.kubepodsParent: cgroup below which kubepods lives
  log::Level log_level = log::Level::info;         // agent.logLevel
  bool restore_on_exit = false;                    // agent.restoreOnExit
  std::optional<std::vector<std::string>> enabled_controllers;  // agent.controllers.enabled (absent = all)
  std::vector<std::string> disabled_controllers;                // agent.controllers.disabled
  std::string zoneinfo_dir;  // agent.zoneinfoDir: TZif files for schedule windows ("" = $TZDIR or /usr/share/zoneinfo)

  bool controller_enabled(const std::string& name) const;
};

struct ConfigDocument {
  AgentSettings agent;
  nlohmann::json cluster_strategy = nlohmann::json::object();
  nlohmann::json node_strategies = nlohmann::json::array();
};

// A ColocationPolicy object from --policy-dir.
struct PolicyCr {
  std::string name;
  std::string source;  // file it came from
  int priority = 0;
  nlohmann::json node_selector = nlohmann::json::object();
  nlohmann::json strategies = nlohmann::json::object();  // spec minus nodeSelector/priority
};

// Errors name the field: "agent.tickMs: must be between 10 and 60000".
struct ConfigError {
  std::string field;
  std::string message;
  std::string what() const { return field.empty() ? message : field + ": " + message; }
};

// Parses a loaded document. `known_controllers` validates agent.controllers names.
std::optional<ConfigDocument> parse_config(const nlohmann::json& doc, const std::vector<std::string>& known_controllers,
                                           ConfigError& err);

// Label-selector match (matchLabels + matchExpressions In/NotIn/Exists/DoesNotExist). An invalid selector is an
// error naming `field`.
std::optional<bool> selector_matches(const nlohmann::json& selector, const std::map<std::string, std::string>& labels,
                                     const std::string& field, ConfigError& err);

// ColocationPolicy documents from every *.yaml/*.yml/*.json file in dir (sorted by name). Documents of kind Cgroups
// go to `cgroups_crs` (only metadata.name is checked here; the Cgroups CR controller validates the rest and reports
// per container) or are an error when it is null.
std::optional<std::vector<PolicyCr>> load_policy_dir(const std::string& dir, ConfigError& err,
                                                     std::vector<nlohmann::json>* cgroups_crs = nullptr);
std::optional<PolicyCr> parse_policy_cr(const nlohmann::json& doc, const std::string& source, ConfigError& err);

struct EffectivePolicy {
  nlohmann::json policy = nlohmann::json::object();  // what every controller's configure() gets
  std::vector<std::string> applied;  // "clusterStrategy", "nodeStrategies[1] (name)", "ColocationPolicy/x"
};
std::optional<EffectivePolicy> resolve_policy(const ConfigDocument& cfg, const std::map<std::string, std::string>& labels,
                                              const std::vector<PolicyCr>& crs, ConfigError& err);

// Node labels the selectors see: agent.nodeLabels plus kubernetes.io/hostname = node name.
std::map<std::string, std::string> effective_node_labels(const AgentSettings& s);

// The names of all registered controllers.
std::vector<std::string> registered_controller_names();
// Runs configure() on a fresh instance of every enabled registered controller; the first error wins, prefixed with
// the controller's name.
std::optional<std::string> validate_policy_with_controllers(const nlohmann::json& policy, const AgentSettings& s);
// Schedule windows (agent/policy/scheduled_policy.h) of a merged policy must parse, and every enabled controller
// must accept the policy with no window, each window alone and all windows active. Errors name the field.
std::optional<std::string> validate_scheduled_policy(const nlohmann::json& policy, const AgentSettings& s);
// Where schedule windows' time zones are read: agent.zoneinfoDir, else $TZDIR, else /usr/share/zoneinfo.
std::string zoneinfo_dir_of(const AgentSettings& s);

// Everything a (re)load needs, from files to a validated result.
struct LoadedConfig {
  ConfigDocument doc;
  EffectivePolicy effective;
  std::vector<PolicyCr> crs;                 // from --policy-dir
  std::vector<nlohmann::json> cgroups_crs;   // Cgroups CRs from --policy-dir (standalone)
  std::string source;  // config file path or "(defaults)"
};
struct ConfigOverrides {  // command-line values that win over the file
  std::optional<std::string> node_name;
  std::optional<std::string> kubepods_parent;
  std::optional<std::chrono::milliseconds> tick;
  std::optional<log::Level> log_level;
  std::optional<bool> restore_on_exit;
  // In a cluster: the labels of the Node object (they replace agent.nodeLabels; kubernetes.io/hostname still added).
  std::optional<std::map<std::string, std::string>> node_labels;
};
// `cluster_crs`: ColocationPolicy objects from the API server, merged with those of --policy-dir.
std::optional<LoadedConfig> load_config(const std::string& config_path, const std::string& policy_dir,
                                        const ConfigOverrides& ov, std::string& error,
                                        const std::vector<PolicyCr>& cluster_crs = {});
// The effective policy for a parsed document and a set of policy CRs, validated by every enabled controller. Its
// top-level `schedule`/`timeZone` (agent/policy/scheduled_policy.h) must parse, and the controllers must accept the
// policy with no window, each window and all windows active.
std::optional<EffectivePolicy> effective_policy_for(const ConfigDocument& doc, const std::vector<PolicyCr>& crs,
                                                    std::string& error);

nlohmann::json settings_to_json(const AgentSettings& s);

}  // namespace slo::agent
