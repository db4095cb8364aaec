#include "agent/model/pod.h"

#include <nlohmann/json.hpp>

#include "agent/model/quantity.h"

namespace slo::model {

std::string_view to_string(QosClass q) {
  switch (q) {
    case QosClass::LSE: return "LSE";
    case QosClass::LSR: return "LSR";
    case QosClass::LS: return "LS";
    case QosClass::BE: return "BE";
    case QosClass::SYSTEM: return "SYSTEM";
  }
  return "LS";
}

std::optional<QosClass> qos_from_string(std::string_view s) {
  if (s == "LSE") return QosClass::LSE;
  if (s == "LSR") return QosClass::LSR;
  if (s == "LS") return QosClass::LS;
  if (s == "BE") return QosClass::BE;
  if (s == "SYSTEM") return QosClass::SYSTEM;
  return std::nullopt;
}

std::string_view to_string(KubeQos q) {
  switch (q) {
    case KubeQos::Guaranteed: return "Guaranteed";
    case KubeQos::Burstable: return "Burstable";
    case KubeQos::BestEffort: return "BestEffort";
  }
  return "BestEffort";
}

cg::QosTier tier_of(KubeQos q) {
  switch (q) {
    case KubeQos::Guaranteed: return cg::QosTier::guaranteed;
    case KubeQos::Burstable: return cg::QosTier::burstable;
    case KubeQos::BestEffort: return cg::QosTier::besteffort;
  }
  return cg::QosTier::besteffort;
}

namespace {

void add(std::optional<int64_t>& sum, const std::optional<int64_t>& v) {
  if (v) sum = sum.value_or(0) + *v;
}

Resources sum(const std::vector<Container>& cs, bool limits) {
  Resources r;
  for (const auto& c : cs) {
    const Resources& x = limits ? c.limits : c.requests;
    add(r.cpu_millis, x.cpu_millis);
    add(r.memory_bytes, x.memory_bytes);
    add(r.batch_cpu_millis, x.batch_cpu_millis);
    add(r.batch_memory_bytes, x.batch_memory_bytes);
  }
  return r;
}

// Throws std::runtime_error with a message naming the field; caught per pod.
struct PodError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::string str_field(const nlohmann::json& obj, const char* key) {
  if (!obj.is_object()) return {};
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return {};
  if (!it->is_string()) throw PodError(std::string(key) + ": not a string");
  return it->get<std::string>();
}

std::string quantity_text(const nlohmann::json& v, const std::string& where) {
  if (v.is_string()) return v.get<std::string>();
  // PodLists written by hand sometimes carry plain numbers ("cpu": 2).
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  if (v.is_number_float()) {
    auto s = v.dump();
    return s;
  }
  throw PodError(where + ": not a quantity");
}

Resources parse_resources(const nlohmann::json& obj, const std::string& where) {
  Resources r;
  if (obj.is_null()) return r;
  if (!obj.is_object()) throw PodError(where + ": not an object");
  for (const auto& item : obj.items()) {
    // Not a structured binding: lambdas may not capture those before C++20 compilers caught up (clang 14, the fuzz
    // build).
    const std::string& key = item.key();
    const auto& val = item.value();
    std::string q = quantity_text(val, where + "." + key);
    auto bad = [&] { return PodError(where + "." + key + ": invalid quantity '" + q + "'"); };
    if (key == "cpu") {
      if (!(r.cpu_millis = parse_cpu_millis(q))) throw bad();
    } else if (key == "memory") {
      if (!(r.memory_bytes = parse_bytes(q))) throw bad();
    } else if (key == kBatchCpu) {
      // batch-cpu is counted in millicores as a plain integer ("2000" = 2 cores).
      if (!(r.batch_cpu_millis = parse_bytes(q))) throw bad();
    } else if (key == kBatchMemory) {
      if (!(r.batch_memory_bytes = parse_bytes(q))) throw bad();
    }
  }
  return r;
}

std::vector<Container> parse_containers(const nlohmann::json& spec_list, const nlohmann::json& status_list,
                                        const char* what) {
  std::vector<Container> out;
  if (spec_list.is_null()) return out;
  if (!spec_list.is_array()) throw PodError(std::string("spec.") + what + ": not an array");
  for (size_t i = 0; i < spec_list.size(); ++i) {
    const auto& c = spec_list[i];
    Container ct;
    ct.name = str_field(c, "name");
    std::string where = std::string("spec.") + what + "[" + std::to_string(i) + "]";
    if (ct.name.empty()) throw PodError(where + ": no name");
    if (c.contains("resources") && c["resources"].is_object()) {
      const auto& res = c["resources"];
      ct.requests = parse_resources(res.value("requests", nlohmann::json()), where + ".resources.requests");
      ct.limits = parse_resources(res.value("limits", nlohmann::json()), where + ".resources.limits");
    }
    out.push_back(std::move(ct));
  }
  if (status_list.is_array()) {
    for (const auto& st : status_list) {
      std::string name = str_field(st, "name");
      std::string id = str_field(st, "containerID");
      if (id.empty()) continue;  // not started yet
      auto ref = cg::parse_container_id(id);
      if (!ref) throw PodError(std::string("status.") + what + "Statuses[" + name + "]: invalid containerID '" + id + "'");
      for (auto& ct : out)
        if (ct.name == name) ct.ref = *ref;
    }
  }
  return out;
}

// Kubernetes' rule: a resource counts for Guaranteed when its limit is set and the request (defaulting to the
// limit) equals it, for cpu and memory in every container.
KubeQos compute_kube_qos(const Pod& pod) {
  bool any = false, all_guaranteed = true;
  auto visit = [&](const Container& c) {
    const auto& rq = c.requests;
    const auto& lm = c.limits;
    if (rq.cpu_millis || rq.memory_bytes || lm.cpu_millis || lm.memory_bytes) any = true;
    auto guaranteed = [](const std::optional<int64_t>& req, const std::optional<int64_t>& lim) {
      return lim.has_value() && (!req || *req == *lim);
    };
    if (!guaranteed(rq.cpu_millis, lm.cpu_millis) || !guaranteed(rq.memory_bytes, lm.memory_bytes))
      all_guaranteed = false;
  };
  for (const auto& c : pod.containers) visit(c);
  for (const auto& c : pod.init_containers) visit(c);
  if (!any) return KubeQos::BestEffort;
  return all_guaranteed ? KubeQos::Guaranteed : KubeQos::Burstable;
}

Pod parse_pod(const nlohmann::json& item) {
  if (!item.is_object()) throw PodError("item is not an object");
  Pod p;
  const auto meta = item.value("metadata", nlohmann::json::object());
  const auto spec = item.value("spec", nlohmann::json::object());
  const auto status = item.value("status", nlohmann::json::object());
  p.name = str_field(meta, "name");
  p.namespace_ = str_field(meta, "namespace");
  if (p.namespace_.empty()) p.namespace_ = "default";
  if (p.name.empty()) throw PodError("metadata.name: missing");
  p.uid = str_field(meta, "uid");
  if (!cg::valid_pod_uid(p.uid)) throw PodError("metadata.uid: invalid uid '" + p.uid + "'");
  for (const char* key : {"labels", "annotations"}) {
    auto it = meta.find(key);
    if (it == meta.end() || it->is_null()) continue;
    if (!it->is_object()) throw PodError(std::string("metadata.") + key + ": not an object");
    auto& dst = std::string(key) == "labels" ? p.labels : p.annotations;
    for (const auto& [k, v] : it->items())
      if (v.is_string()) dst[k] = v.get<std::string>();
  }
  if (auto it = meta.find("ownerReferences"); it != meta.end() && it->is_array())
    for (const auto& o : *it) p.owner_kinds_names.push_back(str_field(o, "kind") + "/" + str_field(o, "name"));
  p.node_name = str_field(spec, "nodeName");
  p.priority_class = str_field(spec, "priorityClassName");
  if (auto it = spec.find("priority"); it != spec.end() && !it->is_null()) {
    if (!it->is_number_integer()) throw PodError("spec.priority: not an integer");
    int64_t v = it->get<int64_t>();
    if (v < INT32_MIN || v > INT32_MAX) throw PodError("spec.priority: out of range");
    p.priority = static_cast<int32_t>(v);
  }
  p.phase = str_field(status, "phase");
  p.containers = parse_containers(spec.value("containers", nlohmann::json()),
                                  status.value("containerStatuses", nlohmann::json()), "containers");
  p.init_containers = parse_containers(spec.value("initContainers", nlohmann::json()),
                                       status.value("initContainerStatuses", nlohmann::json()), "initContainers");
  std::string kq = str_field(status, "qosClass");
  if (kq == "Guaranteed")
    p.kube_qos = KubeQos::Guaranteed;
  else if (kq == "Burstable")
    p.kube_qos = KubeQos::Burstable;
  else if (kq == "BestEffort")
    p.kube_qos = KubeQos::BestEffort;
  else
    p.kube_qos = compute_kube_qos(p);
  auto label = p.labels.find(std::string(kQosLabel));
  std::optional<QosClass> q = label != p.labels.end() ? qos_from_string(label->second) : std::nullopt;
  p.qos = q ? *q : (p.kube_qos == KubeQos::BestEffort ? QosClass::BE : QosClass::LS);
  return p;
}

}  // namespace

Resources Pod::total_requests() const { return sum(containers, false); }
Resources Pod::total_limits() const { return sum(containers, true); }

KubeQos derive_kube_qos(const Pod& pod) { return compute_kube_qos(pod); }

PodListParse parse_pod_list(const nlohmann::json& doc) {
  PodListParse out;
  if (!doc.is_object()) {
    out.errors.push_back("PodList: not a JSON object");
    return out;
  }
  auto it = doc.find("items");
  if (it == doc.end() || it->is_null()) return out;  // kubelet sends "items": null for no pods
  if (!it->is_array()) {
    out.errors.push_back("PodList.items: not an array");
    return out;
  }
  for (size_t i = 0; i < it->size(); ++i) {
    const auto& item = (*it)[i];
    std::string label = "items[" + std::to_string(i) + "]";
    try {
      const auto& m = item.at("metadata");
      std::string ns = m.value("namespace", ""), name = m.value("name", "");
      if (!name.empty()) label = (ns.empty() ? "default" : ns) + "/" + name;
    } catch (const std::exception&) {
      // keep the index label: the pod's own parse reports what is wrong
    }
    try {
      out.pods.push_back(parse_pod(item));
    } catch (const std::exception& e) {
      out.errors.push_back(label + ": " + e.what());
    }
  }
  return out;
}

PodListParse parse_pod_list(std::string_view json_text) {
  nlohmann::json doc = nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    PodListParse out;
    out.errors.push_back("PodList: malformed JSON");
    return out;
  }
  return parse_pod_list(doc);
}

PodListParse parse_pod_list(const std::string& json_text) { return parse_pod_list(std::string_view(json_text)); }
PodListParse parse_pod_list(const char* json_text) { return parse_pod_list(std::string_view(json_text)); }

}  // namespace slo::model
