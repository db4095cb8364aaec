// The CPU burst policy: koordinator's CPUBurstStrategy fields (same names, same meaning) plus a few slo-agent
// extensions for the fast path. Parsed from the node policy ("cpuBurstStrategy") and overridden per pod by the
// annotation koordinator.sh/cpuBurst. Pure: no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace slo::agent::cpu_burst {

enum class PolicyKind { none, cpu_burst_only, cfs_quota_burst_only, auto_ };

std::string_view to_string(PolicyKind p);  // "none", "cpuBurstOnly", "cfsQuotaBurstOnly", "auto"
std::optional<PolicyKind> policy_from_string(std::string_view s);

struct BurstPolicy {
  PolicyKind policy = PolicyKind::none;
  // cpu.cfs_burst_us = CPU limit × period × cpuBurstPercent / 100, clamped to the quota (the kernel rejects more).
  int64_t cpu_burst_percent = 1000;
  // Upper bound of the dynamic quota, in percent of the original limit.
  int64_t cfs_quota_burst_percent = 300;
  // Burst-time budget: seconds the container may run at the full raised quota before the bucket is empty; -1 =
  // unlimited (koordinator's default). Refilled by the unused part of the original limit.
  int64_t cfs_quota_burst_period_seconds = -1;
  // Node guard: share-pool usage (percent of the share pool's CPUs) at which raising stops and raised quotas are
  // scaled back; cooling starts at 90 % of it.
  int64_t share_pool_threshold_percent = 50;

  // slo-agent extensions (not in koordinator).
  int64_t tick_milliseconds = 100;        // decide period; cpu.stat of managed cgroups is read every tick
  int64_t scale_down_hold_milliseconds = 3000;  // no throttling and no pressure this long → step down
  int64_t demand_headroom_percent = 120;  // raised quota = measured demand × this / 100

  bool kernel_burst() const { return policy == PolicyKind::cpu_burst_only || policy == PolicyKind::auto_; }
  bool quota_scaling() const { return policy == PolicyKind::cfs_quota_burst_only || policy == PolicyKind::auto_; }
  bool operator==(const BurstPolicy&) const = default;
};

// Applies the fields present in `j` (an object) onto `policy`. With node_level, the extension and node-guard fields
// are accepted too; a pod annotation may set only the per-pod fields (others are ignored, as koordinator does).
// Returns an error that names the field ("cpuBurstStrategy.cpuBurstPercent: must be >= 0"); `policy` is then
// unspecified, so callers apply onto a copy.
std::optional<std::string> apply_fields(const nlohmann::json& j, BurstPolicy& policy, bool node_level,
                                        std::string_view prefix);

// Node policy from the merged policy document: {"cpuBurstStrategy": {...}} (absent key → defaults).
struct PolicyParse {
  BurstPolicy policy;
  std::optional<std::string> error;
};
PolicyParse parse_node_policy(const nlohmann::json& merged);

// The pod's effective policy: node policy overridden by the annotation's JSON text. A malformed annotation leaves
// the node policy in force and returns the reason.
PolicyParse apply_annotation(const BurstPolicy& node, std::string_view annotation_json);

nlohmann::json to_json(const BurstPolicy& p);

}  // namespace slo::agent::cpu_burst
