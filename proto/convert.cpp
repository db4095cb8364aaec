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
  if (f->is_number_integer()) return f->get<int64_t>();
  if (f->is_number_unsigned()) {
    auto u = f->get<uint64_t>();
    return u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ? std::numeric_limits<int64_t>::max()
                                                                         : static_cast<int64_t>(u);
  }
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

}  // namespace

v1::KnobValue knob_value_from_json(const json& j) {
  v1::KnobValue v;
  if (j.is_number_integer()) {
    v.set_int_value(j.get<int64_t>());
  } else if (j.is_number_unsigned()) {
    auto u = j.get<uint64_t>();
    if (u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      v.set_int_value(static_cast<int64_t>(u));
    else
      v.set_text(std::to_string(u));  // beyond int64: keep the digits
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
    }
  }
  m.set_ready(get_bool(j, "ready"));
  return m;
}

json status_to_json(const v1::StatusReply& m) {
  json controllers = json::array();
  for (const auto& c : m.controllers())
    controllers.push_back({{"name", c.name()},
                           {"enabled", c.enabled()},
                           {"reason", c.reason()},
                           {"period_ms", c.period_ms()},
                           {"last_tick_seconds", c.last_tick_seconds()}});
  return {{"version", m.version()},
          {"uptime_seconds", m.uptime_seconds()},
          {"node", m.node()},
          {"mode", m.mode()},
          {"driver", m.driver()},
          {"capabilities", parse_json_text(m.capabilities_json().empty() ? "{}" : m.capabilities_json())},
          {"controllers", controllers},
          {"ready", m.ready()}};
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
    const json* cs = field(p, "containers");
    if (!cs || !cs->is_array()) continue;
    for (const auto& c : *cs) {
      auto* ct = pod->add_containers();
      ct->set_name(get_string(c, "name"));
      ct->set_cgroup(get_string(c, "cgroup"));
      const json* knobs = field(c, "knobs");
      if (!knobs || !knobs->is_object()) continue;
      for (const auto& [name, k] : knobs->items()) {
        auto* kb = ct->add_knobs();
        kb->set_name(name);
        if (const json* cur = field(k, "current")) *kb->mutable_current() = knob_value_from_json(*cur);
        if (const json* orig = field(k, "original")) *kb->mutable_original() = knob_value_from_json(*orig);
        kb->set_owner(get_string(k, "owner"));
        kb->set_reason(get_string(k, "reason"));
      }
    }
  }
  return m;
}

json pods_to_json(const v1::PodsReply& m) {
  json pods = json::array();
  for (const auto& p : m.pods()) {
    json containers = json::array();
    for (const auto& c : p.containers()) {
      json knobs = json::object();
      for (const auto& k : c.knobs())
        knobs[k.name()] = {{"current", knob_value_to_json(k.current())},
                           {"original", knob_value_to_json(k.original())},
                           {"owner", k.owner()},
                           {"reason", k.reason()}};
      containers.push_back({{"name", c.name()}, {"cgroup", c.cgroup()}, {"knobs", knobs}});
    }
    pods.push_back({{"namespace", p.namespace_()},
                    {"name", p.name()},
                    {"uid", p.uid()},
                    {"qos", p.qos()},
                    {"kube_qos", p.kube_qos()},
                    {"cgroup", p.cgroup()},
                    {"containers", containers}});
  }
  return pods;
}

}  // namespace slo::api
