// A minimal stand-in for the agent's runtime, for the CPU burst kernel tests and benchmarks: one controller, a
// fixed set of pods whose cgroups the caller made, ticks driven by the caller. Per tick it reads cpu.stat and
// cpuacct usage of every pod and container cgroup (all "hot" here), optionally node busy time from /proc/stat,
// builds the Snapshot, runs decide() and applies the intents with the ordered writer. Like the executor it journals
// the value of a knob before its first write and writes it back when the controller stops claiming it.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "agent/runtime/controller.h"
#include "cgroups/cgroup_fs.h"
#include "cgroups/ordered_writer.h"

namespace slo::bench::cpu_burst {

struct TickReport {
  std::chrono::steady_clock::time_point at{};
  size_t intents = 0;
  size_t writes = 0;  // write(2)s that changed a value
  std::vector<std::string> errors;  // Status::describe() of failed writes
};

class LocalRuntime {
 public:
  // proc_root: where /proc/stat is read for node busy time; empty = no node statistics (node guard "unknown").
  LocalRuntime(const cg::CgroupFs& fs, agent::Controller& controller, agent::HostInfo host,
               std::string proc_root = "/proc");

  void set_pods(std::vector<agent::PodState> pods) { pods_ = std::move(pods); }
  TickReport tick();
  // Writes every journaled original back (what the executor does on `restore` or shutdown).
  std::vector<std::string> restore_all();
  // The controller's claims of the last tick.
  const std::map<cg::KnobRef, int64_t>& claimed() const { return claimed_; }

 private:
  class Journal : public agent::KnobView {
   public:
    std::optional<cg::KnobValue> current(const cg::KnobRef& ref) const override;
    std::optional<cg::KnobValue> original(const cg::KnobRef& ref) const override;
    const cg::CgroupFs* fs = nullptr;
    std::map<cg::KnobRef, cg::KnobValue> originals;
  };
  class Sink : public agent::IntentSink {
   public:
    void set(const cg::KnobRef& ref, const cg::KnobValue& value, const std::string& reason) override;
    std::vector<cg::KnobWrite> writes;
  };
  std::optional<uint64_t> node_busy_ns() const;

  const cg::CgroupFs& fs_;
  agent::Controller& controller_;
  agent::HostInfo host_;
  std::string proc_root_;
  std::vector<agent::PodState> pods_;
  Journal journal_;
  std::map<cg::KnobRef, int64_t> claimed_;
  uint64_t tick_ = 0;
};

// A pod as the tests and benchmarks build it: LS, one container per CPU limit (millicores, 0 = none), cgroups
// <pod_cgroup> and <pod_cgroup>/c<i>.
agent::PodState make_pod(const std::string& name, const std::string& pod_cgroup, std::vector<int64_t> limits_millis,
                         model::QosClass qos = model::QosClass::LS);

}  // namespace slo::bench::cpu_burst
