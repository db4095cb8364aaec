// A hand-built node for the CPU burst unit tests: pods, their cgroups, cumulative cpu.stat counters advanced tick by
// tick, a KnobView with originals, and a recording IntentSink.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "agent/runtime/controller.h"

namespace slo::test::burst {

struct Intent {
  cg::KnobRef ref;
  int64_t value = 0;
  std::string reason;
};

class RecordingSink : public agent::IntentSink {
 public:
  void set(const cg::KnobRef& ref, const cg::KnobValue& value, const std::string& reason) override {
    intents.push_back({ref, std::get<int64_t>(value), std::move(reason)});
  }
  std::vector<Intent> intents;
  const Intent* find(const std::string& cgroup, cg::Knob k) const {
    for (const auto& i : intents)
      if (i.ref.cgroup == cgroup && i.ref.knob == k) return &i;
    return nullptr;
  }
};

class MapKnobs : public agent::KnobView {
 public:
  std::optional<cg::KnobValue> current(const cg::KnobRef& ref) const override { return lookup(cur, ref); }
  std::optional<cg::KnobValue> original(const cg::KnobRef& ref) const override { return lookup(orig, ref); }
  void set_original(const std::string& cgroup, cg::Knob k, int64_t v) {
    orig[key(cgroup, k)] = v;
    cur[key(cgroup, k)] = v;
  }

 private:
  static std::string key(const std::string& cgroup, cg::Knob k) { return cgroup + "#" + std::to_string(int(k)); }
  std::optional<cg::KnobValue> lookup(const std::map<std::string, int64_t>& m, const cg::KnobRef& ref) const {
    auto it = m.find(key(ref.cgroup, ref.knob));
    if (it == m.end()) return std::nullopt;
    return cg::KnobValue{it->second};
  }
  std::map<std::string, int64_t> cur, orig;
};

// Per-container load for the next tick: CPUs used and CPUs' worth of throttled run-queue time.
struct Load {
  double usage_cores = 0;
  double throttled_cores = 0;
  bool throttled = false;
};

class World {
 public:
  static constexpr auto kTick = std::chrono::milliseconds(100);

  World();
  // Adds a pod "default/<name>" with one container per limit (millicores; 0 = no limit). Returns the pod index.
  size_t add_pod(const std::string& name, model::QosClass qos, std::vector<int64_t> limits_millis,
                 std::map<std::string, std::string> annotations = {});
  std::string pod_cgroup(size_t pod) const { return snap.pods[pod].cgroup; }
  std::string container_cgroup(size_t pod, size_t c) const { return snap.pods[pod].containers[c].cgroup; }
  const std::string& key(size_t pod) const { return keys_[pod]; }
  void remove_pod(size_t pod);

  // Advances time by one tick with the given load on container (pod, c) (others idle), node busy `node_cores`.
  void advance(std::map<std::pair<size_t, size_t>, Load> loads, double node_cores = 0.2);
  // Runs one decide and returns the sink.
  RecordingSink decide(agent::Controller& c);

  agent::HostInfo host;
  agent::Snapshot snap;
  agent::Blackboard board;
  MapKnobs knobs;
  std::chrono::steady_clock::time_point now;
  uint64_t node_busy_ns = 0;

 private:
  std::vector<std::string> keys_;
};

}  // namespace slo::test::burst
