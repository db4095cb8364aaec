// Cgroups CR controller (issue 8): applies ACK-style Cgroups overrides (cpu → CFS quota, memory → limit, cpuset,
// blkio/io throttles per device) to the matching local containers without a restart, and owns those cgroups while
// the CR matches (others step aside via Blackboard::cr_owned_cgroups). Level-triggered like every controller: each
// tick it states the full set of values; when a CR is deleted or stops matching, it simply stops claiming and the
// executor puts the originals back. Invalid container entries are rejected whole (nothing of that container is
// written) with a Failed status, a reason and a Warning event. See docs/cgroups-cr.md.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "agent/decide/cgroups_cr/cr_spec.h"
#include "agent/runtime/cluster_actions.h"
#include "agent/runtime/controller.h"

namespace slo::agent::cgroups_cr {

class CrMetrics;

// Status states of one container (the CRD's enum).
inline constexpr const char* kApplied = "Applied";
inline constexpr const char* kFailed = "Failed";
inline constexpr const char* kPending = "Pending";

class CgroupsCrController : public Controller {
 public:
  CgroupsCrController();
  ~CgroupsCrController() override;

  std::string_view name() const override { return "CgroupsCr"; }
  Capability probe(const HostInfo& host) override;
  void init(ControllerContext& ctx) override;
  std::optional<std::string> configure(const nlohmann::json& policy) override;
  // Every tick: the Blackboard is rebuilt each tick, and the controllers after this one (CPU burst, cpuset, batch
  // resources) must see the CR-owned cgroups on every tick they decide.
  std::chrono::milliseconds period() const override { return std::chrono::milliseconds(1); }
  void decide(const Snapshot& snap, Blackboard& board, IntentSink& out) override;
  nlohmann::json status() const override;
  nlohmann::json explain(const std::string& pod_key) const override;

  // For tests: how the controller validates (online CPUs, devices) — normally from HostInfo at init().
  void set_node_facts(NodeFacts facts) { facts_ = std::move(facts); }

  static constexpr int64_t kDefaultPeriodUs = 100000;
  static constexpr int64_t kMinQuotaUs = 1000;  // the kernel's minimum CFS quota

 private:
  struct Want {
    cg::KnobRef ref;
    cg::KnobValue value;
  };
  // One container of one CR on this node, this tick.
  struct Entry {
    std::string cr, pod_key, pod_uid, container;
    std::string state, reason, message;
    std::vector<Want> wants;
  };
  struct Cached {
    nlohmann::json object;
    CrSpec spec;
    std::chrono::steady_clock::time_point parsed_at{};
  };

  const CrSpec& spec_of(const nlohmann::json& obj, std::chrono::steady_clock::time_point now);
  void decide_pod(const Snapshot& snap, const PodState& ps, const std::vector<const CrSpec*>& crs, Blackboard& board,
                  IntentSink& out, std::vector<Entry>& entries);
  void claim_pod_limits(const Snapshot& snap, const PodState& ps, const std::map<std::string, size_t>& by_ctr,
                        IntentSink& out, std::vector<Entry>& entries);
  void settle(const Snapshot& snap, Entry& e) const;
  void report(const Snapshot& snap, const std::vector<Entry>& entries);
  void notify(const Snapshot& snap, const std::vector<Entry>& entries);

  NodeFacts facts_;
  std::string node_name_;
  ClusterActions* cluster_ = nullptr;
  std::unique_ptr<CrMetrics> metrics_;
  std::map<std::string, Cached> specs_;  // by CR name
  std::map<std::string, nlohmann::json> reported_;  // CR name → node entry last handed to report_cgroups_status
  std::map<std::string, std::string> noted_;   // "cr|uid|container" → "state|reason|generation" already evented
  std::map<std::string, std::string> wanted_before_;  // knob ref → value claimed last tick (Applying vs NotApplied)
  std::vector<Entry> last_;  // this tick's entries, for status()/explain()
  bool idle_reported_ = false;  // the last decide saw no CR and left nothing to report: decide() returns at once
  std::vector<std::string> spec_errors_;
  std::set<std::string> owned_;
};

}  // namespace slo::agent::cgroups_cr
