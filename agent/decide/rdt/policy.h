// The RDT policy: koordinator's resourceQOSStrategy shape, section "resctrlQOSStrategy":
//   {"lsrClass": {"resctrlQOS": {"enable": true, "catRangeStartPercent": 0, "catRangeEndPercent": 100,
//                                "mbaPercent": 100}},
//    "lsClass": {...}, "beClass": {...},
//    "monitorIntervalSeconds": 10, "reconcileIntervalSeconds": 1}     ← the last two are slo-agent additions
// Missing fields keep their defaults; wrong types and out-of-range values are rejected naming the field.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "rdt/allocation.h"

namespace slo::agent::rdtctl {

// The classes that get a control group. LSE pods share LSR's; SYSTEM pods stay in the root group.
enum class RdtClass { LSR, LS, BE };
constexpr RdtClass kAllClasses[] = {RdtClass::LSR, RdtClass::LS, RdtClass::BE};
std::string_view to_string(RdtClass c);
std::string_view config_key(RdtClass c);  // "lsrClass" ...

constexpr const char* kSectionKey = "resctrlQOSStrategy";
// Per-pod override of the class whose group the pod's threads join: "LSR", "LSE" (= LSR), "LS", "BE", or "none"
// (stay in the root group, like SYSTEM). Any other value is ignored (explain() says so).
constexpr const char* kClassAnnotation = "rdt.slo-agent.io/class";

struct ClassPolicy {
  bool enable = false;
  rdt::Allocation alloc;
};

struct RdtPolicy {
  ClassPolicy lsr{false, {0, 100, 100}};
  ClassPolicy ls{false, {0, 100, 100}};
  ClassPolicy be{false, {0, 30, 100}};
  std::chrono::milliseconds monitor_interval{10000};
  std::chrono::milliseconds reconcile_interval{1000};

  const ClassPolicy& of(RdtClass c) const { return c == RdtClass::LSR ? lsr : c == RdtClass::LS ? ls : be; }
  ClassPolicy& of(RdtClass c) { return c == RdtClass::LSR ? lsr : c == RdtClass::LS ? ls : be; }
};

struct PolicyParse {
  std::optional<RdtPolicy> policy;
  std::string error;  // "resctrlQOSStrategy.beClass.resctrlQOS.catRangeEndPercent: must be an integer in 0..100"
};

// Parses the section's value (the object under "resctrlQOSStrategy"); null → defaults.
PolicyParse parse_policy_section(const nlohmann::json& section);
// From an effective-policy document: the section at top level, or under "clusterStrategy"; absent → defaults.
PolicyParse parse_policy_document(const nlohmann::json& doc);

nlohmann::json to_json(const RdtPolicy& p);

}  // namespace slo::agent::rdtctl
