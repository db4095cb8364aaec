// The contract between the runtime and the controllers (observe → decide → act).
//
// A controller never reads or writes kernel files. Each time it is due, it gets the tick's Snapshot and states the
// *complete* set of knob values it wants held (level-triggered). The executor diff-writes them with the ordered
// writer, journals originals, and restores any knob a controller stops claiming (pod gone, policy off).
#pragma once

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/runtime/metrics_registry.h"
#include "agent/runtime/snapshot.h"
#include "cgroups/knob.h"

namespace slo::agent {

struct Capability {
  bool supported = true;
  std::string reason;  // why off (or which mode is active, e.g. "kernel burst absent: quota scaling only")
};

// What a controller wants. One owner per knob: the executor rejects (and counts) a claim on a knob that another
// controller holds, unless the other controller released it in this tick.
class IntentSink {
 public:
  virtual ~IntentSink() = default;
  virtual void set(const cg::KnobRef& ref, const cg::KnobValue& value, const std::string& reason) = 0;
};

// The cgroups one controller wants read in each fast tick where it is due (Blackboard::hot_cgroups). A controller
// states the same few hundred paths every 100 ms: they are kept in place (no set, no allocation once warm) and the
// runtime learns from changed() whether the list differs from the previous decide's, so it re-resolves the paths to
// their stats only then. Duplicates are allowed (the runtime reads a cgroup once per tick).
class HotCgroups {
 public:
  void insert(const std::string& cgroup) {
    if (n_ < items_.size()) {
      if (items_[n_] != cgroup) {
        items_[n_] = cgroup;
        changed_ = true;
      }
    } else {
      items_.push_back(cgroup);
      changed_ = true;
    }
    ++n_;
  }
  // Starts a new round; the previous round's strings stay for comparison and their capacity.
  void clear() {
    last_n_ = n_;
    n_ = 0;
    changed_ = false;
  }
  // The list differs from the previous round's (call after the round's inserts).
  bool changed() const { return changed_ || n_ != last_n_; }
  size_t size() const { return n_; }
  bool empty() const { return n_ == 0; }
  size_t count(std::string_view cgroup) const { return std::find(begin(), end(), cgroup) != end() ? 1 : 0; }
  const std::string* begin() const { return items_.data(); }
  const std::string* end() const { return items_.data() + n_; }

 private:
  std::vector<std::string> items_;
  size_t n_ = 0, last_n_ = 0;
  bool changed_ = true;
};

// Facts one controller publishes for those that decide after it in the same tick (fixed order, see registry).
struct Blackboard {
  // Colocation → cpuset: CPUs the BE pool may use this tick (nullopt = no suppression by cpuset).
  std::optional<double> be_cpu_budget_cores;
  // Cgroups CR → others: container/pod cgroups whose knobs a CR owns; CPU burst steps aside for them.
  std::set<std::string> cr_owned_cgroups;
  // Cpuset → others: cgroups of pinned (LSE/LSR) containers; CPU burst leaves them alone.
  std::set<std::string> pinned_cgroups;
  // BPF → colocation: per-pod run-queue latency p99 over the last interval, seconds (key = pod key ns/name).
  std::map<std::string, double> runq_p99_seconds;
  // RunqLatency → CPU burst, filled in on_tick() before any controller decides.
  struct ThrottleEvents {
    // Pod cgroups whose CFS throttles the event source reports (nullptr: no source). Only for these does "no
    // event" mean "not throttled".
    const std::set<std::string, std::less<>>* watched = nullptr;
    std::set<std::string, std::less<>> pod_cgroups;  // with a throttle event since the previous tick
    bool watches(std::string_view pod_cgroup) const { return watched && watched->count(pod_cgroup) > 0; }
  } throttle_events;
  // Any controller → observer: cgroups whose cpu.stat is read in each fast tick where this controller is due. The
  // runtime swaps in the deciding controller's own list (cleared), so a controller sees only its own marks.
  HotCgroups hot_cgroups;
};

class ClusterActions;

struct ControllerContext {
  const HostInfo& host;
  MetricsRegistry& metrics;  // prometheus-cpp families plus per-pod MetricTables
  // Evictions, events, node status (agent/runtime/cluster_actions.h); the runtime always provides one (a recording
  // implementation standalone).
  ClusterActions* cluster = nullptr;
};

class Controller {
 public:
  virtual ~Controller() = default;
  virtual std::string_view name() const = 0;
  // Called once at start. Unsupported → the runtime logs the reason once and never calls decide().
  virtual Capability probe(const HostInfo& host) = 0;
  // Called once after a supported probe, before the first decide(): register metric families here.
  virtual void init(ControllerContext& /*ctx*/) {}
  // Validates and adopts the effective policy (cluster strategy merged with the matching node strategy). On error
  // returns a message that names the field ("cpuBurstStrategy.cpuBurstPercent: must be >= 0") and keeps the
  // previous policy. Must not have side effects beyond this object.
  virtual std::optional<std::string> configure(const nlohmann::json& policy) = 0;
  virtual std::chrono::milliseconds period() const = 0;
  // Called on every tick before any controller decides, due or not: cheap intake of events (no file reads) that the
  // controllers deciding in this tick find on the board.
  virtual void on_tick(const Snapshot& /*snap*/, Blackboard& /*board*/) {}
  virtual void decide(const Snapshot& snap, Blackboard& board, IntentSink& out) = 0;
  // For sloctl: the controller's view (state machine, budgets) and its decisions about one pod.
  virtual nlohmann::json status() const { return nlohmann::json::object(); }
  virtual nlohmann::json explain(const std::string& /*pod_key*/) const { return nlohmann::json::array(); }
};

using ControllerFactory = std::function<std::unique_ptr<Controller>()>;

struct ControllerRegistration {
  std::string name;
  int order;  // decide order within a tick: lower first
  ControllerFactory make;
};

// Registrations collected before main() by SLO_REGISTER_CONTROLLER (the agent links controllers with link_whole so
// the linker keeps them).
std::vector<ControllerRegistration>& controller_registry();
struct ControllerRegistrar {
  ControllerRegistrar(std::string name, int order, ControllerFactory make);
};

// Decide order: CgroupsCr 10, Colocation 20, Cpuset 30, CpuBurst 40, BatchResources 45, Rdt 50, Reclaimed 60.
#define SLO_REGISTER_CONTROLLER(Class, Order)                                               \
  static ::slo::agent::ControllerRegistrar slo_controller_registrar_##Class(#Class, Order, \
                                                                            [] { return std::make_unique<Class>(); })

}  // namespace slo::agent
