#include "agent/decide/rdt/planner.h"

#include <algorithm>

namespace slo::agent::rdtctl {
namespace {

std::optional<RdtClass> from_qos(model::QosClass q) {
  switch (q) {
    case model::QosClass::LSE:
    case model::QosClass::LSR: return RdtClass::LSR;
    case model::QosClass::LS: return RdtClass::LS;
    case model::QosClass::BE: return RdtClass::BE;
    case model::QosClass::SYSTEM: return std::nullopt;
  }
  return std::nullopt;
}

std::string_view qos_name(model::QosClass q) {
  switch (q) {
    case model::QosClass::LSE: return "LSE";
    case model::QosClass::LSR: return "LSR";
    case model::QosClass::LS: return "LS";
    case model::QosClass::BE: return "BE";
    case model::QosClass::SYSTEM: return "SYSTEM";
  }
  return "?";
}

}  // namespace

const PlannedGroup* Plan::group(RdtClass c) const {
  for (const auto& g : groups)
    if (g.cls == c) return &g;
  return nullptr;
}

std::optional<RdtClass> class_for_pod(const PodInput& pod, std::string* reason) {
  if (pod.class_annotation) {
    const std::string& v = *pod.class_annotation;
    std::optional<std::optional<RdtClass>> o;
    if (v == "LSR" || v == "LSE") o = RdtClass::LSR;
    else if (v == "LS") o = RdtClass::LS;
    else if (v == "BE") o = RdtClass::BE;
    else if (v == "none" || v == "SYSTEM") o = std::optional<RdtClass>{};
    if (o) {
      if (reason) *reason = std::string("annotation ") + kClassAnnotation + "=" + v;
      return *o;
    }
    if (reason) *reason = std::string("annotation ") + kClassAnnotation + "='" + v + "' not understood; qos " +
                          std::string(qos_name(pod.qos));
    return from_qos(pod.qos);
  }
  if (reason) *reason = "qos " + std::string(qos_name(pod.qos));
  return from_qos(pod.qos);
}

Plan make_plan(const rdt::Info& info, const RdtPolicy& policy, const std::vector<PodInput>& pods,
               const std::string& prefix) {
  Plan plan;
  for (RdtClass c : kAllClasses) {
    PlannedGroup g;
    g.cls = c;
    g.name = prefix + std::string(to_string(c));
    g.enabled = policy.of(c).enable;
    g.alloc = policy.of(c).alloc;
    auto built = rdt::build_schemata(info, g.alloc);
    if (built.ok()) {
      g.schemata = std::move(built.value.schemata);
      g.notes = std::move(built.value.notes);
    } else {
      plan.errors.push_back(std::string(config_key(c)) + ": " + built.status.detail);
      g.enabled = false;  // never create a group whose limits we cannot express
    }
    if (g.enabled) ++plan.closids_needed;
    plan.groups.push_back(std::move(g));
  }
  for (const auto& pod : pods) {
    std::string reason;
    auto cls = class_for_pod(pod, &reason);
    if (!cls) {
      plan.pod_reason[pod.key] = "root group (" + reason + ")";
      continue;
    }
    PlannedGroup& g = plan.groups[static_cast<size_t>(*cls)];
    if (!g.enabled) {
      plan.pod_reason[pod.key] = "root group (" + reason + "; class " + std::string(to_string(*cls)) +
                                 " has resctrlQOS disabled)";
      continue;
    }
    plan.pod_reason[pod.key] = "group " + g.name + " (" + reason + ")";
    g.pods.push_back(pod.key);
    for (const auto& cg : pod.container_cgroups)
      if (!cg.empty()) g.cgroups.push_back(cg);
  }
  for (auto& g : plan.groups) {
    std::sort(g.pods.begin(), g.pods.end());
    std::sort(g.cgroups.begin(), g.cgroups.end());
    g.cgroups.erase(std::unique(g.cgroups.begin(), g.cgroups.end()), g.cgroups.end());
  }
  return plan;
}

}  // namespace slo::agent::rdtctl
