#include "agent/runtime/config.h"

#include <algorithm>
#include <filesystem>
#include <set>

#include "agent/policy/scheduled_policy.h"
#include "agent/runtime/controller.h"
#include "agent/runtime/document.h"
#include "cgroups/safe_dir.h"

namespace slo::agent {
namespace {

using nlohmann::json;

bool fail(ConfigError& err, std::string field, std::string message) {
  err = ConfigError{std::move(field), std::move(message)};
  return false;
}

bool get_int(const json& obj, const char* key, const std::string& prefix, int64_t lo, int64_t hi,
             std::optional<int64_t>& out, ConfigError& err) {
  auto it = obj.find(key);
  if (it == obj.end()) return true;
  std::string field = prefix + key;
  if (!it->is_number_integer()) return fail(err, field, "must be an integer");
  int64_t v = it->get<int64_t>();
  if (v < lo || v > hi)
    return fail(err, field, "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
  out = v;
  return true;
}

bool get_string(const json& obj, const char* key, const std::string& prefix, std::optional<std::string>& out,
                ConfigError& err) {
  auto it = obj.find(key);
  if (it == obj.end()) return true;
  if (!it->is_string()) return fail(err, prefix + key, "must be a string");
  out = it->get<std::string>();
  return true;
}

bool get_string_map(const json& v, const std::string& field, std::map<std::string, std::string>& out, ConfigError& err) {
  if (!v.is_object()) return fail(err, field, "must be a map of strings");
  for (auto it = v.begin(); it != v.end(); ++it) {
    if (!it.value().is_string()) return fail(err, field + "." + it.key(), "must be a string");
    out[it.key()] = it.value().get<std::string>();
  }
  return true;
}

bool get_string_list(const json& v, const std::string& field, std::vector<std::string>& out, ConfigError& err) {
  if (!v.is_array()) return fail(err, field, "must be a list of strings");
  for (size_t i = 0; i < v.size(); ++i) {
    if (!v[i].is_string()) return fail(err, field + "[" + std::to_string(i) + "]", "must be a string");
    out.push_back(v[i].get<std::string>());
  }
  return true;
}

bool parse_agent(const json& a, const std::vector<std::string>& known, AgentSettings& s, ConfigError& err) {
  const std::string p = "agent.";
  if (!a.is_object()) return fail(err, "agent", "must be a map");
  static const std::set<std::string> keys = {"nodeName",        "nodeLabels",     "tickMs",          "statsIntervalMs",
                                             "podsIntervalMs",  "reassertSeconds", "kubepodsParent", "logLevel",
                                             "restoreOnExit",   "controllers",     "zoneinfoDir"};
  for (auto it = a.begin(); it != a.end(); ++it)
    if (!keys.count(it.key())) return fail(err, p + it.key(), "unknown field");
  std::optional<std::string> str;
  if (!get_string(a, "nodeName", p, str, err)) return false;
  if (str) s.node_name = *str;
  if (a.contains("nodeLabels") && !get_string_map(a["nodeLabels"], p + "nodeLabels", s.node_labels, err)) return false;
  std::optional<int64_t> v;
  if (!get_int(a, "tickMs", p, 10, 60000, v, err)) return false;
  if (v) s.tick = std::chrono::milliseconds(*v);
  v.reset();
  if (!get_int(a, "statsIntervalMs", p, 10, 600000, v, err)) return false;
  if (v) s.stats_interval = std::chrono::milliseconds(*v);
  v.reset();
  if (!get_int(a, "podsIntervalMs", p, 100, 3600000, v, err)) return false;
  if (v) s.pods_interval = std::chrono::milliseconds(*v);
  v.reset();
  if (!get_int(a, "reassertSeconds", p, 1, 86400, v, err)) return false;
  if (v) s.reassert = std::chrono::seconds(*v);
  str.reset();
  if (!get_string(a, "kubepodsParent", p, str, err)) return false;
  if (str) s.kubepods_parent = *str;
  str.reset();
  if (!get_string(a, "logLevel", p, str, err)) return false;
  if (str) {
    auto l = log::level_from_string(*str);
    if (!l) return fail(err, p + "logLevel", "must be one of debug, info, warn, error");
    s.log_level = *l;
  }
  str.reset();
  if (!get_string(a, "zoneinfoDir", p, str, err)) return false;
  if (str) s.zoneinfo_dir = *str;
  if (a.contains("restoreOnExit")) {
    if (!a["restoreOnExit"].is_boolean()) return fail(err, p + "restoreOnExit", "must be true or false");
    s.restore_on_exit = a["restoreOnExit"].get<bool>();
  }
  if (a.contains("controllers")) {
    const auto& c = a["controllers"];
    if (!c.is_object()) return fail(err, p + "controllers", "must be a map with enabled/disabled lists");
    for (auto it = c.begin(); it != c.end(); ++it)
      if (it.key() != "enabled" && it.key() != "disabled") return fail(err, p + "controllers." + it.key(), "unknown field");
    auto check = [&](const std::vector<std::string>& names, const std::string& field) {
      for (size_t i = 0; i < names.size(); ++i)
        if (std::find(known.begin(), known.end(), names[i]) == known.end())
          return fail(err, field + "[" + std::to_string(i) + "]", "unknown controller '" + names[i] + "'");
      return true;
    };
    if (c.contains("enabled")) {
      std::vector<std::string> names;
      if (!get_string_list(c["enabled"], p + "controllers.enabled", names, err)) return false;
      if (!check(names, p + "controllers.enabled")) return false;
      s.enabled_controllers = names;
    }
    if (c.contains("disabled")) {
      if (!get_string_list(c["disabled"], p + "controllers.disabled", s.disabled_controllers, err)) return false;
      if (!check(s.disabled_controllers, p + "controllers.disabled")) return false;
    }
  }
  return true;
}

bool check_kubepods_parent(const AgentSettings& s, ConfigError& err) {
  if (!s.kubepods_parent.empty() && !cg::is_safe_relative(s.kubepods_parent))
    return fail(err, "agent.kubepodsParent", "must be a relative cgroup path without '.' or '..' components");
  if (s.stats_interval < s.tick) return fail(err, "agent.statsIntervalMs", "must be >= agent.tickMs");
  return true;
}

}  // namespace

bool AgentSettings::controller_enabled(const std::string& name) const {
  if (enabled_controllers &&
      std::find(enabled_controllers->begin(), enabled_controllers->end(), name) == enabled_controllers->end())
    return false;
  return std::find(disabled_controllers.begin(), disabled_controllers.end(), name) == disabled_controllers.end();
}

std::optional<ConfigDocument> parse_config(const json& doc, const std::vector<std::string>& known, ConfigError& err) {
  ConfigDocument cfg;
  if (doc.is_null()) return cfg;
  if (!doc.is_object()) {
    fail(err, "", "the config must be a map with agent, clusterStrategy and nodeStrategies");
    return std::nullopt;
  }
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    const auto& k = it.key();
    if (k == "agent") {
      if (!parse_agent(it.value(), known, cfg.agent, err)) return std::nullopt;
    } else if (k == "clusterStrategy") {
      if (!it.value().is_object()) {
        fail(err, "clusterStrategy", "must be a map of policy blocks");
        return std::nullopt;
      }
      cfg.cluster_strategy = it.value();
    } else if (k == "nodeStrategies") {
      if (!it.value().is_array()) {
        fail(err, "nodeStrategies", "must be a list");
        return std::nullopt;
      }
      cfg.node_strategies = it.value();
      for (size_t i = 0; i < cfg.node_strategies.size(); ++i) {
        const auto& ns = cfg.node_strategies[i];
        std::string f = "nodeStrategies[" + std::to_string(i) + "]";
        if (!ns.is_object()) {
          fail(err, f, "must be a map");
          return std::nullopt;
        }
        if (!ns.contains("nodeSelector")) {
          fail(err, f + ".nodeSelector", "is required");
          return std::nullopt;
        }
        if (ns.contains("name") && !ns["name"].is_string()) {
          fail(err, f + ".name", "must be a string");
          return std::nullopt;
        }
        if (!selector_matches(ns["nodeSelector"], {}, f + ".nodeSelector", err)) return std::nullopt;
      }
    } else {
      fail(err, k, "unknown top-level field (expected agent, clusterStrategy, nodeStrategies)");
      return std::nullopt;
    }
  }
  if (!check_kubepods_parent(cfg.agent, err)) return std::nullopt;
  return cfg;
}

std::optional<bool> selector_matches(const json& sel, const std::map<std::string, std::string>& labels,
                                     const std::string& field, ConfigError& err) {
  if (sel.is_null()) return true;
  if (!sel.is_object()) {
    fail(err, field, "must be a map with matchLabels / matchExpressions");
    return std::nullopt;
  }
  bool match = true;
  for (auto it = sel.begin(); it != sel.end(); ++it) {
    if (it.key() == "matchLabels") {
      std::map<std::string, std::string> want;
      if (!get_string_map(it.value(), field + ".matchLabels", want, err)) return std::nullopt;
      for (const auto& [k, v] : want) {
        auto l = labels.find(k);
        match = match && l != labels.end() && l->second == v;
      }
    } else if (it.key() == "matchExpressions") {
      const auto& exprs = it.value();
      if (!exprs.is_array()) {
        fail(err, field + ".matchExpressions", "must be a list");
        return std::nullopt;
      }
      for (size_t i = 0; i < exprs.size(); ++i) {
        std::string f = field + ".matchExpressions[" + std::to_string(i) + "]";
        const auto& e = exprs[i];
        if (!e.is_object() || !e.contains("key") || !e["key"].is_string()) {
          fail(err, f + ".key", "is required and must be a string");
          return std::nullopt;
        }
        if (!e.contains("operator") || !e["operator"].is_string()) {
          fail(err, f + ".operator", "is required (In, NotIn, Exists, DoesNotExist)");
          return std::nullopt;
        }
        std::string key = e["key"], op = e["operator"];
        std::vector<std::string> values;
        if (e.contains("values") && !get_string_list(e["values"], f + ".values", values, err)) return std::nullopt;
        auto l = labels.find(key);
        bool has = l != labels.end();
        if (op == "In" || op == "NotIn") {
          if (values.empty()) {
            fail(err, f + ".values", "must not be empty for " + op);
            return std::nullopt;
          }
          bool in = has && std::find(values.begin(), values.end(), l->second) != values.end();
          match = match && (op == "In" ? in : !in);
        } else if (op == "Exists") {
          match = match && has;
        } else if (op == "DoesNotExist") {
          match = match && !has;
        } else {
          fail(err, f + ".operator", "must be one of In, NotIn, Exists, DoesNotExist");
          return std::nullopt;
        }
      }
    } else {
      fail(err, field + "." + it.key(), "unknown field (expected matchLabels, matchExpressions)");
      return std::nullopt;
    }
  }
  return match;
}

std::optional<PolicyCr> parse_policy_cr(const json& doc, const std::string& source, ConfigError& err) {
  std::string where = source.empty() ? "ColocationPolicy" : source;
  if (!doc.is_object()) {
    fail(err, where, "a policy object must be a map");
    return std::nullopt;
  }
  if (doc.value("kind", "") != "ColocationPolicy") {
    fail(err, where + ": kind", "must be ColocationPolicy");
    return std::nullopt;
  }
  PolicyCr cr;
  cr.source = source;
  if (!doc.contains("metadata") || !doc["metadata"].is_object() || !doc["metadata"].contains("name") ||
      !doc["metadata"]["name"].is_string()) {
    fail(err, where + ": metadata.name", "is required");
    return std::nullopt;
  }
  cr.name = doc["metadata"]["name"];
  std::string p = "ColocationPolicy/" + cr.name + ": spec";
  if (!doc.contains("spec") || !doc["spec"].is_object()) {
    fail(err, p, "is required and must be a map");
    return std::nullopt;
  }
  for (auto it = doc["spec"].begin(); it != doc["spec"].end(); ++it) {
    if (it.key() == "nodeSelector") {
      cr.node_selector = it.value();
      if (!selector_matches(cr.node_selector, {}, p + ".nodeSelector", err)) return std::nullopt;
    } else if (it.key() == "priority") {
      if (!it.value().is_number_integer()) {
        fail(err, p + ".priority", "must be an integer");
        return std::nullopt;
      }
      cr.priority = it.value().get<int>();
    } else if (it.key() == "timeZone" || it.key() == "schedule") {
      cr.strategies[it.key()] = it.value();  // schedule windows: checked with the merged policy
    } else {
      if (!it.value().is_object()) {
        fail(err, p + "." + it.key(), "must be a map (a policy block)");
        return std::nullopt;
      }
      cr.strategies[it.key()] = it.value();
    }
  }
  return cr;
}

std::optional<std::vector<PolicyCr>> load_policy_dir(const std::string& dir, ConfigError& err,
                                                     std::vector<json>* cgroups_crs) {
  std::vector<PolicyCr> out;
  std::error_code ec;
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    auto name = e.path().filename().string();
    if (name.empty() || name[0] == '.') continue;  // ..data, ..2026_… of a mounted ConfigMap, editor swap files
    auto ext = e.path().extension().string();
    if (ext == ".yaml" || ext == ".yml" || ext == ".json") files.push_back(e.path().string());
  }
  if (ec) {
    fail(err, "--policy-dir", dir + ": " + ec.message());
    return std::nullopt;
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    std::string e;
    auto text = read_text_file(f, e);
    if (!text) {
      fail(err, f, e);
      return std::nullopt;
    }
    auto docs = parse_documents(*text, e);
    if (!docs) {
      fail(err, f, e);
      return std::nullopt;
    }
    for (const auto& d : *docs) {
      if (cgroups_crs && d.is_object() && d.value("kind", "") == "Cgroups") {
        const auto* name = d.contains("metadata") && d["metadata"].is_object() && d["metadata"].contains("name")
                               ? &d["metadata"]["name"]
                               : nullptr;
        if (!name || !name->is_string() || name->get<std::string>().empty()) {
          fail(err, f + ": Cgroups metadata.name", "is required");
          return std::nullopt;
        }
        cgroups_crs->push_back(d);
        continue;
      }
      auto cr = parse_policy_cr(d, f, err);
      if (!cr) return std::nullopt;
      out.push_back(std::move(*cr));
    }
  }
  return out;
}

std::map<std::string, std::string> effective_node_labels(const AgentSettings& s) {
  auto labels = s.node_labels;
  if (!s.node_name.empty()) labels.emplace("kubernetes.io/hostname", s.node_name);
  return labels;
}

std::optional<EffectivePolicy> resolve_policy(const ConfigDocument& cfg, const std::map<std::string, std::string>& labels,
                                              const std::vector<PolicyCr>& crs, ConfigError& err) {
  EffectivePolicy out;
  out.policy = cfg.cluster_strategy.is_object() ? cfg.cluster_strategy : json::object();
  out.applied.push_back("clusterStrategy");
  for (size_t i = 0; i < cfg.node_strategies.size(); ++i) {
    const auto& ns = cfg.node_strategies[i];
    std::string f = "nodeStrategies[" + std::to_string(i) + "]";
    auto m = selector_matches(ns["nodeSelector"], labels, f + ".nodeSelector", err);
    if (!m) return std::nullopt;
    if (!*m) continue;
    json patch = ns;
    patch.erase("nodeSelector");
    std::string name = ns.value("name", "");
    patch.erase("name");
    out.policy.merge_patch(patch);
    out.applied.push_back(f + (name.empty() ? "" : " (" + name + ")"));
    break;  // the first matching node strategy wins, as in koordinator
  }
  std::vector<const PolicyCr*> matching;
  for (const auto& cr : crs) {
    auto m = selector_matches(cr.node_selector, labels, "ColocationPolicy/" + cr.name + ": spec.nodeSelector", err);
    if (!m) return std::nullopt;
    if (*m) matching.push_back(&cr);
  }
  std::stable_sort(matching.begin(), matching.end(),
                   [](const PolicyCr* a, const PolicyCr* b) { return a->priority < b->priority; });
  for (const auto* cr : matching) {
    out.policy.merge_patch(cr->strategies);
    out.applied.push_back("ColocationPolicy/" + cr->name);
  }
  return out;
}

std::vector<std::string> registered_controller_names() {
  std::vector<std::string> names;
  for (const auto& r : controller_registry()) names.push_back(r.name);
  return names;
}

std::optional<std::string> validate_policy_with_controllers(const json& policy, const AgentSettings& s) {
  for (const auto& r : controller_registry()) {
    if (!s.controller_enabled(r.name)) continue;
    auto c = r.make();
    if (auto e = c->configure(policy)) return r.name + ": " + *e;
  }
  return std::nullopt;
}

std::string zoneinfo_dir_of(const AgentSettings& s) {
  return s.zoneinfo_dir.empty() ? policy::ScheduledPolicy::default_zoneinfo_root() : s.zoneinfo_dir;
}

std::optional<std::string> validate_scheduled_policy(const json& policy, const AgentSettings& s) {
  std::string err;
  auto sched = policy::ScheduledPolicy::parse(policy, zoneinfo_dir_of(s), &err);
  if (!sched) return "policy " + err;
  for (const auto& [label, variant] : sched->variants())
    if (auto e = validate_policy_with_controllers(variant, s))
      return *e + (label == "base" ? "" : " (with schedule " + label + " active)");
  return std::nullopt;
}

std::optional<EffectivePolicy> effective_policy_for(const ConfigDocument& doc, const std::vector<PolicyCr>& crs,
                                                    std::string& error) {
  ConfigError err;
  auto eff = resolve_policy(doc, effective_node_labels(doc.agent), crs, err);
  if (!eff) {
    error = err.what();
    return std::nullopt;
  }
  if (auto e = validate_scheduled_policy(eff->policy, doc.agent)) {
    error = *e;
    return std::nullopt;
  }
  return eff;
}

std::optional<LoadedConfig> load_config(const std::string& config_path, const std::string& policy_dir,
                                        const ConfigOverrides& ov, std::string& error,
                                        const std::vector<PolicyCr>& cluster_crs) {
  LoadedConfig out;
  json doc = json::object();
  out.source = config_path.empty() ? "(defaults)" : config_path;
  if (!config_path.empty()) {
    auto text = read_text_file(config_path, error);
    if (!text) return std::nullopt;
    auto d = parse_document(*text, error);
    if (!d) {
      error = config_path + ": " + error;
      return std::nullopt;
    }
    doc = std::move(*d);
  }
  ConfigError err;
  auto cfg = parse_config(doc, registered_controller_names(), err);
  if (!cfg) {
    error = err.what();
    return std::nullopt;
  }
  out.doc = std::move(*cfg);
  auto& a = out.doc.agent;
  if (ov.node_name) a.node_name = *ov.node_name;
  if (ov.kubepods_parent) a.kubepods_parent = *ov.kubepods_parent;
  if (ov.tick) a.tick = *ov.tick;
  if (ov.log_level) a.log_level = *ov.log_level;
  if (ov.restore_on_exit) a.restore_on_exit = *ov.restore_on_exit;
  if (ov.node_labels) a.node_labels = *ov.node_labels;
  if (a.stats_interval < a.tick) a.stats_interval = a.tick;
  if (!check_kubepods_parent(a, err)) {
    error = err.what();
    return std::nullopt;
  }
  if (!policy_dir.empty()) {
    auto crs = load_policy_dir(policy_dir, err, &out.cgroups_crs);
    if (!crs) {
      error = err.what();
      return std::nullopt;
    }
    out.crs = std::move(*crs);
  }
  auto all = out.crs;
  all.insert(all.end(), cluster_crs.begin(), cluster_crs.end());
  auto eff = effective_policy_for(out.doc, all, error);
  if (!eff) return std::nullopt;
  out.effective = std::move(*eff);
  return out;
}

json settings_to_json(const AgentSettings& s) {
  json j = {{"nodeName", s.node_name},
            {"nodeLabels", s.node_labels},
            {"tickMs", s.tick.count()},
            {"statsIntervalMs", s.stats_interval.count()},
            {"podsIntervalMs", s.pods_interval.count()},
            {"reassertSeconds", s.reassert.count()},
            {"kubepodsParent", s.kubepods_parent},
            {"logLevel", s.log_level == log::Level::debug  ? "debug"
                         : s.log_level == log::Level::info ? "info"
                         : s.log_level == log::Level::warn ? "warn"
                                                           : "error"},
            {"restoreOnExit", s.restore_on_exit},
            {"zoneinfoDir", zoneinfo_dir_of(s)}};
  json c = json::object();
  if (s.enabled_controllers) c["enabled"] = *s.enabled_controllers;
  c["disabled"] = s.disabled_controllers;
  j["controllers"] = c;
  return j;
}

}  // namespace slo::agent
