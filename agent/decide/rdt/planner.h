// The pure half of the RDT controller: from capabilities, policy and pods to the desired control groups (name,
// schemata, member container cgroups). No I/O; the ResctrlWriter (rdt/writer.h) acts on the result.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "agent/decide/rdt/policy.h"
#include "agent/model/pod.h"
#include "rdt/info.h"
#include "rdt/schemata.h"

namespace slo::agent::rdtctl {

struct PodInput {
  std::string key;                             // namespace/name
  model::QosClass qos = model::QosClass::BE;
  std::optional<std::string> class_annotation;  // value of kClassAnnotation, when present
  std::vector<std::string> container_cgroups;  // relative cgroup paths (empty ones skipped)
};

struct PlannedGroup {
  RdtClass cls = RdtClass::BE;
  std::string name;          // "slo-BE"
  bool enabled = false;      // policy enable; disabled groups are not created (and removed if present)
  rdt::Allocation alloc;
  rdt::Schemata schemata;
  std::vector<std::string> notes;     // widened ranges, MB rounding, MBps mode
  std::vector<std::string> pods;      // pod keys, sorted
  std::vector<std::string> cgroups;   // container cgroups whose threads belong here
};

struct Plan {
  std::vector<PlannedGroup> groups;             // one per class, LSR, LS, BE order
  std::map<std::string, std::string> pod_reason; // pod key → "group slo-BE (qos BE)" / "root: SYSTEM" ...
  std::vector<std::string> errors;              // classes whose schemata cannot be built here
  unsigned closids_needed = 1;                  // root + enabled groups

  const PlannedGroup* group(RdtClass c) const;
};

// Which class group a pod joins (nullopt = root group), and why.
std::optional<RdtClass> class_for_pod(const PodInput& pod, std::string* reason);

Plan make_plan(const rdt::Info& info, const RdtPolicy& policy, const std::vector<PodInput>& pods,
               const std::string& prefix);

}  // namespace slo::agent::rdtctl
