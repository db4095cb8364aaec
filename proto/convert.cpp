#include "proto/convert.h"

#include <cstdint>
#include <limits>

namespace slo::api {
namespace v1 = sloagent::v1;
using nlohmann::json;

namespace {

const json* field(const json& j, const char* key) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(key);
  return it == j.end() || it->is_null() ? nullptr : &*it;
}

std::string get_string(const json& j, const char* key) {
  const json* f = field(j, key);
  if (!f) return {};
  if (f->is_string()) return f->get<std::string>();
  return f->dump();  // numbers, booleans, objects: their JSON text
}

int64_t get_int(const json& j, const char* key) {
  const json* f = field(j, key);
  if (!f) return 0;
  // is_number_integer() is also true for unsigned values: test unsigned first so 2^64-1 is not read as -1.
  if (f->is_number_unsigned()) {
    auto u = f->get<uint64_t>();
    return u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ? std::numeric_limits<int64_t>::max()
                                                                         : static_cast<int64_t>(u);
  }
  if (f->is_number_integer()) return f->get<int64_t>();
  if (f->is_number_float()) return static_cast<int64_t>(f->get<double>());
  return 0;
}

double get_double(const json& j, const char* key) {
  const json* f = field(j, key);
  return f && f->is_number() ? f->get<double>() : 0.0;
}

bool get_bool(const json& j, const char* key) {
  const json* f = field(j, key);
  return f && f->is_boolean() && f->get<bool>();
}

// The members of `j` the schema does not name, as JSON text ("" when none).
std::string extras(const json& j, std::initializer_list<const char*> known) {
  if (!j.is_object()) return {};
  json rest = json::object();
  for (const auto& [k, v] : j.items()) {
    bool named = false;
    for (const char* n : known) named = named || k == n;
    if (!named) rest[k] = v;
  }
  return rest.empty() ? std::string() : rest.dump(-1, ' ', false, json::error_handler_t::replace);
}

// Adds the extra members back; a named field wins over an extra of the same name.
void merge_extras(json& out, const std::string& extra) {
  if (extra.empty()) return;
  json e = json::parse(extra, nullptr, false);
  if (!e.is_object()) return;
  for (const auto& [k, v] : e.items())
    if (!out.contains(k)) out[k] = v;
}

void knobs_from_json(const json* knobs, google::protobuf::RepeatedPtrField<v1::Knob>* out) {
  if (!knobs || !knobs->is_object()) return;
  for (const auto& [name, k] : knobs->items()) {
    auto* kb = out->Add();
    kb->set_name(name);
    if (const json* cur = field(k, "current")) *kb->mutable_current() = knob_value_from_json(*cur);
    if (const json* orig = field(k, "original")) *kb->mutable_original() = knob_value_from_json(*orig);
    kb->set_owner(get_string(k, "owner"));
    kb->set_reason(get_string(k, "reason"));
    kb->set_extra_json(extras(k, {"current", "original", "owner", "reason"}));
  }
}

json knobs_to_json(const google::protobuf::RepeatedPtrField<v1::Knob>& knobs) {
  json out = json::object();
  for (const auto& k : knobs) {
    json kj = {{"current", knob_value_to_json(k.current())},
               {"original", knob_value_to_json(k.original())},
               {"owner", k.owner()},
               {"reason", k.reason()}};
    merge_extras(kj, k.extra_json());
    out[k.name()] = std::move(kj);
  }
  return out;
}

}  // namespace

v1::KnobValue knob_value_from_json(const json& j) {
  v1::KnobValue v;
  if (j.is_number_unsigned()) {  // before is_number_integer(), which is true for unsigned values too
    auto u = j.get<uint64_t>();
    if (u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      v.set_int_value(static_cast<int64_t>(u));
    else
      v.set_text(std::to_string(u));  // beyond int64: keep the digits
  } else if (j.is_number_integer()) {
    v.set_int_value(j.get<int64_t>());
  } else if (j.is_number_float()) {
    v.set_real(j.get<double>());
  } else if (j.is_string()) {
    v.set_text(j.get<std::string>());
  } else if (!j.is_null()) {
    v.set_text(j.dump());
  }
  return v;
}

json knob_value_to_json(const v1::KnobValue& v) {
  switch (v.value_case()) {
    case v1::KnobValue::kIntValue: return v.int_value();
    case v1::KnobValue::kText: return v.text();
    case v1::KnobValue::kReal: return v.real();
    case v1::KnobValue::VALUE_NOT_SET: break;
  }
  return nullptr;
}

json parse_json_text(const std::string& text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  return j.is_discarded() ? json(text) : j;
}

v1::StatusReply status_from_json(const json& j) {
  v1::StatusReply m;
  m.set_version(get_string(j, "version"));
  m.set_uptime_seconds(get_double(j, "uptime_seconds"));
  m.set_node(get_string(j, "node"));
  m.set_mode(get_string(j, "mode"));
  m.set_driver(get_string(j, "driver"));
  const json* caps = field(j, "capabilities");
  m.set_capabilities_json(caps ? caps->dump() : "{}");
  if (const json* cs = field(j, "controllers"); cs && cs->is_array()) {
    for (const auto& c : *cs) {
      auto* out = m.add_controllers();
      out->set_name(get_string(c, "name"));
      out->set_enabled(get_bool(c, "enabled"));
      out->set_reason(get_string(c, "reason"));
      out->set_period_ms(get_int(c, "period_ms"));
      out->set_last_tick_seconds(get_double(c, "last_tick_seconds"));
      out->set_extra_json(extras(c, {"name", "enabled", "reason", "period_ms", "last_tick_seconds"}));
    }
  }
  m.set_ready(get_bool(j, "ready"));
  m.set_paused(get_bool(j, "paused"));
  m.set_kubepods(get_string(j, "kubepods"));
  m.set_pods(get_int(j, "pods"));
  m.set_knobs_held(get_int(j, "knobs_held"));
  m.set_journal_entries(get_int(j, "journal_entries"));
  m.set_extra_json(extras(j, {"version", "uptime_seconds", "node", "mode", "driver", "capabilities", "controllers",
                              "ready", "paused", "kubepods", "pods", "knobs_held", "journal_entries"}));
  return m;
}

json status_to_json(const v1::StatusReply& m) {
  json controllers = json::array();
  for (const auto& c : m.controllers()) {
    json cj = {{"name", c.name()},
               {"enabled", c.enabled()},
               {"reason", c.reason()},
               {"period_ms", c.period_ms()},
               {"last_tick_seconds", c.last_tick_seconds()}};
    merge_extras(cj, c.extra_json());
    controllers.push_back(std::move(cj));
  }
  json out = {{"version", m.version()},
              {"uptime_seconds", m.uptime_seconds()},
              {"node", m.node()},
              {"mode", m.mode()},
              {"driver", m.driver()},
              {"capabilities", parse_json_text(m.capabilities_json().empty() ? "{}" : m.capabilities_json())},
              {"controllers", controllers},
              {"ready", m.ready()},
              {"paused", m.paused()},
              {"kubepods", m.kubepods()},
              {"pods", m.pods()},
              {"knobs_held", m.knobs_held()},
              {"journal_entries", m.journal_entries()}};
  merge_extras(out, m.extra_json());
  return out;
}

v1::PodsReply pods_from_json(const json& j) {
  v1::PodsReply m;
  if (!j.is_array()) return m;
  for (const auto& p : j) {
    auto* pod = m.add_pods();
    pod->set_namespace_(get_string(p, "namespace"));
    pod->set_name(get_string(p, "name"));
    pod->set_uid(get_string(p, "uid"));
    pod->set_qos(get_string(p, "qos"));
    pod->set_kube_qos(get_string(p, "kube_qos"));
    pod->set_cgroup(get_string(p, "cgroup"));
    knobs_from_json(field(p, "knobs"), pod->mutable_knobs());
    pod->set_extra_json(extras(p, {"namespace", "name", "uid", "qos", "kube_qos", "cgroup", "containers", "knobs"}));
    const json* cs = field(p, "containers");
    if (!cs || !cs->is_array()) continue;
    for (const auto& c : *cs) {
      auto* ct = pod->add_containers();
      ct->set_name(get_string(c, "name"));
      ct->set_cgroup(get_string(c, "cgroup"));
      knobs_from_json(field(c, "knobs"), ct->mutable_knobs());
      ct->set_extra_json(extras(c, {"name", "cgroup", "knobs"}));
    }
  }
  return m;
}

json pods_to_json(const v1::PodsReply& m) {
  json pods = json::array();
  for (const auto& p : m.pods()) {
    json containers = json::array();
    for (const auto& c : p.containers()) {
      json cj = {{"name", c.name()}, {"cgroup", c.cgroup()}, {"knobs", knobs_to_json(c.knobs())}};
      merge_extras(cj, c.extra_json());
      containers.push_back(std::move(cj));
    }
    json pj = {{"namespace", p.namespace_()},
               {"name", p.name()},
               {"uid", p.uid()},
               {"qos", p.qos()},
               {"kube_qos", p.kube_qos()},
               {"cgroup", p.cgroup()},
               {"knobs", knobs_to_json(p.knobs())},
               {"containers", containers}};
    merge_extras(pj, p.extra_json());
    pods.push_back(std::move(pj));
  }
  return pods;
}

}  // namespace slo::api
