// The RDT controller: decides class groups (planner.h) and writes them itself through rdt::ResctrlWriter: resctrl
// has exactly one writer, this controller, so it emits no cgroup intents. Each tick: plan → list the threads of
// each group's containers → apply (groups, schemata diff-write, new TIDs only) → monitoring when due.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/decide/rdt/planner.h"
#include "agent/decide/rdt/policy.h"
#include "agent/runtime/controller.h"
#include "rdt/info.h"
#include "rdt/monitor.h"
#include "rdt/resctrl_fs.h"
#include "rdt/root.h"
#include "rdt/writer.h"

namespace prometheus {
class Gauge;
class Counter;
template <typename T>
class Family;
}  // namespace prometheus

namespace slo::agent::rdtctl {

// Threads (TIDs) of one container cgroup; gone when the cgroup vanished.
using ThreadLister = std::function<cg::Result<std::vector<int>>(const std::string& cgroup)>;

class RdtController : public Controller {
 public:
  struct Options {
    rdt::RootCheck root_check = rdt::RootCheck::mount_magic;  // trust_contents: accept a fake tree (tests)
    ThreadLister threads;  // empty → cg::CgroupFs::threads() under HostInfo::cgroup_root
    // Builds the ResctrlFs for the opened root; empty → rdt::make_resctrl_fs. Tests wrap it to inject errors.
    std::function<std::unique_ptr<rdt::ResctrlFs>(cg::DirFd, bool kernel_mount)> make_fs;
  };

  RdtController();
  explicit RdtController(Options opts);
  ~RdtController() override;

  std::string_view name() const override { return "Rdt"; }
  Capability probe(const HostInfo& host) override;
  void init(ControllerContext& ctx) override;
  std::optional<std::string> configure(const nlohmann::json& policy) override;
  std::chrono::milliseconds period() const override { return policy_.reconcile_interval; }
  void decide(const Snapshot& snap, Blackboard& board, IntentSink& out) override;
  nlohmann::json status() const override;
  nlohmann::json explain(const std::string& pod_key) const override;

  // For tests and status: what the last decide() did.
  const rdt::ApplyReport& last_report() const { return last_report_; }
  const Plan& last_plan() const { return last_plan_; }
  const std::vector<rdt::GroupSample>& last_samples() const { return last_samples_; }
  const rdt::Info& info() const { return info_; }

 private:
  struct Metrics;
  void sample_monitoring(const Plan& plan);
  void report(const rdt::ApplyReport& rep);

  Options opts_;
  RdtPolicy policy_;
  rdt::Info info_;
  std::unique_ptr<rdt::ResctrlFs> fs_;
  std::unique_ptr<rdt::ResctrlWriter> writer_;
  std::shared_ptr<void> cgroup_fs_;  // keeps the default lister's CgroupFs alive
  rdt::MonitorRateLimiter mon_limiter_{std::chrono::milliseconds(10000)};
  std::unique_ptr<Metrics> metrics_;
  // Last raw mbm counters per (group, domain, file), to export deltas as Prometheus counters.
  std::map<std::string, uint64_t> mbm_last_;

  Plan last_plan_;
  rdt::ApplyReport last_report_;
  std::vector<rdt::GroupSample> last_samples_;
  std::chrono::nanoseconds last_sync_cost_{0};
  uint64_t ticks_ = 0;
};

}  // namespace slo::agent::rdtctl
