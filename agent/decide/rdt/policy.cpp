#include "agent/decide/rdt/policy.h"

namespace slo::agent::rdtctl {
namespace {

bool read_percent(const nlohmann::json& obj, const char* key, const std::string& path, unsigned* out,
                  std::string* err) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return true;
  if (!it->is_number_integer() && !it->is_number_unsigned()) {
    *err = path + "." + key + ": must be an integer in 0..100";
    return false;
  }
  int64_t v = it->get<int64_t>();
  if (v < 0 || v > 100) {
    *err = path + "." + key + ": must be an integer in 0..100 (got " + std::to_string(v) + ")";
    return false;
  }
  *out = static_cast<unsigned>(v);
  return true;
}

bool read_seconds(const nlohmann::json& obj, const char* key, double min, double max,
                  std::chrono::milliseconds* out, std::string* err) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return true;
  if (!it->is_number()) {
    *err = std::string(kSectionKey) + "." + key + ": must be a number of seconds";
    return false;
  }
  double v = it->get<double>();
  if (!(v >= min && v <= max)) {
    *err = std::string(kSectionKey) + "." + key + ": must be within " + std::to_string(static_cast<int>(min)) +
           ".." + std::to_string(static_cast<int>(max)) + " seconds";
    return false;
  }
  *out = std::chrono::milliseconds(static_cast<int64_t>(v * 1000));
  return true;
}

}  // namespace

std::string_view to_string(RdtClass c) {
  switch (c) {
    case RdtClass::LSR: return "LSR";
    case RdtClass::LS: return "LS";
    default: return "BE";
  }
}

std::string_view config_key(RdtClass c) {
  switch (c) {
    case RdtClass::LSR: return "lsrClass";
    case RdtClass::LS: return "lsClass";
    default: return "beClass";
  }
}

PolicyParse parse_policy_section(const nlohmann::json& section) {
  PolicyParse out;
  RdtPolicy p;
  if (section.is_null()) {
    out.policy = p;
    return out;
  }
  if (!section.is_object()) {
    out.error = std::string(kSectionKey) + ": must be an object";
    return out;
  }
  for (RdtClass c : kAllClasses) {
    std::string path = std::string(kSectionKey) + "." + std::string(config_key(c));
    auto it = section.find(std::string(config_key(c)));
    if (it == section.end() || it->is_null()) continue;
    if (!it->is_object()) {
      out.error = path + ": must be an object";
      return out;
    }
    auto q = it->find("resctrlQOS");
    if (q == it->end() || q->is_null()) continue;
    path += ".resctrlQOS";
    if (!q->is_object()) {
      out.error = path + ": must be an object";
      return out;
    }
    ClassPolicy& cp = p.of(c);
    if (auto e = q->find("enable"); e != q->end() && !e->is_null()) {
      if (!e->is_boolean()) {
        out.error = path + ".enable: must be true or false";
        return out;
      }
      cp.enable = e->get<bool>();
    }
    if (!read_percent(*q, "catRangeStartPercent", path, &cp.alloc.cat_start_percent, &out.error) ||
        !read_percent(*q, "catRangeEndPercent", path, &cp.alloc.cat_end_percent, &out.error) ||
        !read_percent(*q, "mbaPercent", path, &cp.alloc.mba_percent, &out.error))
      return out;
    if (cp.alloc.cat_start_percent > cp.alloc.cat_end_percent) {
      out.error = path + ".catRangeStartPercent: must not exceed catRangeEndPercent (" +
                  std::to_string(cp.alloc.cat_start_percent) + " > " + std::to_string(cp.alloc.cat_end_percent) +
                  ")";
      return out;
    }
  }
  if (!read_seconds(section, "monitorIntervalSeconds", 1, 3600, &p.monitor_interval, &out.error) ||
      !read_seconds(section, "reconcileIntervalSeconds", 0.1, 600, &p.reconcile_interval, &out.error))
    return out;
  out.policy = p;
  return out;
}

PolicyParse parse_policy_document(const nlohmann::json& doc) {
  if (doc.is_object()) {
    if (auto it = doc.find(kSectionKey); it != doc.end()) return parse_policy_section(*it);
    if (auto cs = doc.find("clusterStrategy"); cs != doc.end() && cs->is_object()) {
      if (auto it = cs->find(kSectionKey); it != cs->end()) {
        auto r = parse_policy_section(*it);
        if (!r.error.empty()) r.error = "clusterStrategy." + r.error;
        return r;
      }
    }
  }
  return parse_policy_section(nullptr);
}

nlohmann::json to_json(const RdtPolicy& p) {
  nlohmann::json j = nlohmann::json::object();
  for (RdtClass c : kAllClasses) {
    const ClassPolicy& cp = p.of(c);
    j[std::string(config_key(c))]["resctrlQOS"] = {{"enable", cp.enable},
                                                   {"catRangeStartPercent", cp.alloc.cat_start_percent},
                                                   {"catRangeEndPercent", cp.alloc.cat_end_percent},
                                                   {"mbaPercent", cp.alloc.mba_percent}};
  }
  j["monitorIntervalSeconds"] = static_cast<double>(p.monitor_interval.count()) / 1000.0;
  j["reconcileIntervalSeconds"] = static_cast<double>(p.reconcile_interval.count()) / 1000.0;
  return j;
}

}  // namespace slo::agent::rdtctl
