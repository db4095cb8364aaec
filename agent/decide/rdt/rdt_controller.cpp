#include "agent/decide/rdt/rdt_controller.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include "agent/decide/rdt/inspect.h"
#include "agent/runtime/log.h"
#include "cgroups/cgroup_fs.h"

namespace slo::agent::rdtctl {
namespace {
constexpr const char* kLog = "rdt";
}

struct RdtController::Metrics {
  prometheus::Family<prometheus::Gauge>& llc;
  prometheus::Family<prometheus::Counter>& mbm_total;
  prometheus::Family<prometheus::Counter>& mbm_local;
  prometheus::Family<prometheus::Counter>& unavailable;
  prometheus::Family<prometheus::Counter>& task_writes;
  prometheus::Family<prometheus::Gauge>& group_tasks;
  prometheus::Family<prometheus::Counter>& errors;
  prometheus::Gauge& sync_seconds;
  prometheus::Counter& schemata_writes;
};

RdtController::RdtController() : RdtController(Options{}) {}
RdtController::RdtController(Options opts) : opts_(std::move(opts)) {}
RdtController::~RdtController() = default;

Capability RdtController::probe(const HostInfo& host) {
  std::string path = host.resctrl_root.empty() ? rdt::kDefaultResctrlRoot : host.resctrl_root;
  auto root = rdt::open_resctrl_root(path, opts_.root_check);
  if (!root.ok()) return {false, root.status.detail.empty() ? root.status.describe() : root.status.detail};
  rdt::ReadInfoOptions ro;
  ro.proc_root = host.proc_root.empty() ? "/proc" : host.proc_root;
  ro.resctrl_path = path;
  auto info = rdt::read_info(root.value.dir, ro);
  if (!info.ok()) return {false, "cannot read resctrl info: " + info.status.describe()};
  if (!info.value.has_allocation()) return {false, "resctrl at " + path + " has no allocation resource (L3, L2, MB)"};
  if (info.value.usable_closids < 2)
    return {false, "resctrl offers " + std::to_string(info.value.usable_closids) + " CLOSID(s): none left for a group"};
  if (!opts_.threads) {
    auto cgfs = cg::CgroupFs::open(host.cgroup_root);
    if (!cgfs.ok()) return {false, "cannot open the cgroup root to list threads: " + cgfs.status.describe()};
    auto shared = std::make_shared<cg::CgroupFs>(std::move(cgfs.value));
    cgroup_fs_ = shared;
    opts_.threads = [shared](const std::string& cgroup) { return shared->threads(cgroup, cg::Controller::cpu); };
  }
  info_ = std::move(info.value);
  fs_ = opts_.make_fs ? opts_.make_fs(std::move(root.value.dir), root.value.kernel_mount)
                      : rdt::make_resctrl_fs(std::move(root.value.dir), root.value.kernel_mount);
  writer_ = std::make_unique<rdt::ResctrlWriter>(*fs_);

  std::string what;
  for (const auto& c : info_.caches) what += (what.empty() ? "" : ", ") + c.name;
  if (info_.mb) what += (what.empty() ? "MB(" : ", MB(") + std::string(rdt::to_string(info_.mb->unit)) + ")";
  if (info_.l3_mon) what += ", L3_MON";
  return {true, what + "; " + std::to_string(info_.usable_closids) + " CLOSIDs" +
                    (root.value.kernel_mount ? "" : "; fake tree accepted by contents")};
}

void RdtController::init(ControllerContext& ctx) {
  auto& reg = ctx.metrics;
  auto& sync = prometheus::BuildGauge()
                   .Name("sloagent_rdt_tasks_sync_seconds")
                   .Help("Duration of the last resctrl reconcile (thread listing, schemata diff, task writes)")
                   .Register(reg);
  auto& sch = prometheus::BuildCounter()
                  .Name("sloagent_rdt_schemata_writes_total")
                  .Help("Schemata files rewritten because a value differed")
                  .Register(reg);
  metrics_.reset(new Metrics{
      prometheus::BuildGauge()
          .Name("sloagent_rdt_llc_occupancy_bytes")
          .Help("L3 cache occupied by a resctrl group in one cache domain (llc_occupancy)")
          .Register(reg),
      prometheus::BuildCounter()
          .Name("sloagent_rdt_mbm_total_bytes_total")
          .Help("Memory bandwidth (total) used by a resctrl group in one domain, from mbm_total_bytes")
          .Register(reg),
      prometheus::BuildCounter()
          .Name("sloagent_rdt_mbm_local_bytes_total")
          .Help("Memory bandwidth to the local NUMA node used by a resctrl group, from mbm_local_bytes")
          .Register(reg),
      prometheus::BuildCounter()
          .Name("sloagent_rdt_monitor_unavailable_total")
          .Help("Monitoring values that read Unavailable or Error")
          .Register(reg),
      prometheus::BuildCounter()
          .Name("sloagent_rdt_task_writes_total")
          .Help("TIDs written to resctrl tasks files, by result (moved, gone, released, failed)")
          .Register(reg),
      prometheus::BuildGauge()
          .Name("sloagent_rdt_group_tasks")
          .Help("Threads the agent wants in each class group (last reconcile)")
          .Register(reg),
      prometheus::BuildCounter()
          .Name("sloagent_rdt_errors_total")
          .Help("resctrl operations that failed, by kind (closid_exhausted, write)")
          .Register(reg),
      sync.Add({}),
      sch.Add({}),
  });
}

std::optional<std::string> RdtController::configure(const nlohmann::json& policy) {
  auto parsed = parse_policy_document(policy);
  if (!parsed.policy) return parsed.error;
  policy_ = *parsed.policy;
  mon_limiter_.set_interval(policy_.monitor_interval);
  return std::nullopt;
}

void RdtController::report(const rdt::ApplyReport& rep) {
  for (const auto& g : rep.created) log::info(kLog, "created resctrl group " + g);
  for (const auto& g : rep.removed) log::info(kLog, "removed resctrl group " + g + " (its tasks return to the root group)");
  for (const auto& e : rep.errors) {
    // One line per distinct failure (file + errno), not per tick: a persistent condition must not flood the log.
    std::string key = "rdt:" + e.path + ":" + std::to_string(e.err);
    if (e.err == ENOSPC)
      log::once(log::Level::warn, kLog, key,
                "CLOSIDs exhausted, group not created; its pods stay in the root group: " + e.describe());
    else
      log::once(log::Level::warn, kLog, key, e.describe());
  }
  if (!metrics_) return;
  auto& m = *metrics_;
  m.task_writes.Add({{"result", "moved"}}).Increment(static_cast<double>(rep.tasks.written));
  m.task_writes.Add({{"result", "gone"}}).Increment(static_cast<double>(rep.tasks.gone));
  m.task_writes.Add({{"result", "released"}}).Increment(static_cast<double>(rep.tasks.released));
  m.task_writes.Add({{"result", "failed"}}).Increment(static_cast<double>(rep.tasks.failed));
  m.schemata_writes.Increment(static_cast<double>(rep.schemata_written.size()));
  for (const auto& e : rep.errors)
    m.errors.Add({{"kind", e.err == ENOSPC ? "closid_exhausted" : "write"}}).Increment();
  m.sync_seconds.Set(std::chrono::duration<double>(last_sync_cost_).count());
}

void RdtController::decide(const Snapshot& snap, Blackboard& /*board*/, IntentSink& /*out*/) {
  if (!writer_) return;
  ++ticks_;
  std::vector<PodInput> pods;
  pods.reserve(snap.pods.size());
  for (const auto& ps : snap.pods) {
    if (ps.pod.terminal()) continue;
    PodInput in;
    in.key = ps.pod.key();
    in.qos = ps.pod.qos;
    if (auto it = ps.pod.annotations.find(kClassAnnotation); it != ps.pod.annotations.end())
      in.class_annotation = it->second;
    for (const auto& c : ps.containers)
      if (!c.cgroup.empty()) in.container_cgroups.push_back(c.cgroup);
    pods.push_back(std::move(in));
  }
  Plan plan = make_plan(info_, policy_, pods, writer_->prefix());
  for (const auto& e : plan.errors) log::once(log::Level::warn, kLog, "plan:" + e, e);

  auto t0 = std::chrono::steady_clock::now();
  std::vector<rdt::GroupSpec> specs;
  for (const auto& g : plan.groups) {
    if (!g.enabled) continue;
    rdt::GroupSpec s{g.name, g.schemata, {}};
    for (const auto& cgroup : g.cgroups) {
      auto t = opts_.threads(cgroup);
      if (t.ok())
        s.tids.insert(s.tids.end(), t.value.begin(), t.value.end());
      else if (!t.gone())
        log::once(log::Level::warn, kLog, "threads:" + cgroup, "cannot list threads: " + t.status.describe());
    }
    if (metrics_)
      metrics_->group_tasks.Add({{"group", g.name}, {"class", std::string(to_string(g.cls))}})
          .Set(static_cast<double>(s.tids.size()));
    specs.push_back(std::move(s));
  }
  last_report_ = writer_->apply(specs, info_.usable_closids);
  last_sync_cost_ = std::chrono::steady_clock::now() - t0;
  report(last_report_);
  if (info_.l3_mon && mon_limiter_.due(snap.now)) sample_monitoring(plan);
  last_plan_ = std::move(plan);
}

void RdtController::sample_monitoring(const Plan& plan) {
  last_samples_.clear();
  std::vector<std::pair<std::string, std::string>> groups{{"", "root"}};
  for (const auto& g : plan.groups) {
    if (!g.enabled) continue;
    bool missing = false;
    for (const auto& x : last_report_.closid_exhausted) missing = missing || x == g.name;
    if (!missing) groups.emplace_back(g.name, std::string(to_string(g.cls)));
  }
  for (const auto& [group, cls] : groups) {
    auto s = rdt::read_group_monitoring(fs_->root(), group);
    if (!s.ok()) {
      if (!s.gone()) log::once(log::Level::warn, kLog, "mon:" + group, s.status.describe());
      continue;
    }
    if (metrics_) {
      std::string gname = group.empty() ? "root" : group;
      if (s.value.unavailable) metrics_->unavailable.Add({{"group", gname}}).Increment(s.value.unavailable);
      for (const auto& d : s.value.domains) {
        prometheus::Labels l{{"group", gname}, {"class", cls}, {"domain", std::to_string(d.domain)}};
        if (d.llc_occupancy) metrics_->llc.Add(l).Set(static_cast<double>(*d.llc_occupancy));
        auto bump = [&](prometheus::Family<prometheus::Counter>& fam, const char* file,
                        const std::optional<uint64_t>& v) {
          if (!v) return;
          std::string key = gname + "/" + std::to_string(d.domain) + "/" + file;
          auto it = mbm_last_.find(key);
          // The kernel counter is cumulative; export increments. A smaller value means the RMID was reset
          // (group re-created): count the new value from zero.
          if (it != mbm_last_.end()) fam.Add(l).Increment(static_cast<double>(*v >= it->second ? *v - it->second : *v));
          else fam.Add(l);
          mbm_last_[key] = *v;
        };
        bump(metrics_->mbm_total, "mbm_total_bytes", d.mbm_total_bytes);
        bump(metrics_->mbm_local, "mbm_local_bytes", d.mbm_local_bytes);
      }
    }
    last_samples_.push_back(std::move(s.value));
  }
}

nlohmann::json RdtController::status() const {
  nlohmann::json j;
  j["capabilities"] = info_to_json(info_);
  j["policy"] = to_json(policy_);
  j["ticks"] = ticks_;
  nlohmann::json groups = nlohmann::json::array();
  for (const auto& g : last_plan_.groups)
    groups.push_back({{"group", g.name},
                      {"class", std::string(to_string(g.cls))},
                      {"enabled", g.enabled},
                      {"schemata", rdt::render_schemata(g.schemata)},
                      {"pods", g.pods.size()},
                      {"cgroups", g.cgroups.size()}});
  j["groups"] = groups;
  nlohmann::json errors = nlohmann::json::array();
  for (const auto& e : last_report_.errors) errors.push_back(e.describe());
  const auto& t = last_report_.tasks;
  j["last_reconcile"] = {{"created", last_report_.created},
                         {"removed", last_report_.removed},
                         {"schemata_written", last_report_.schemata_written},
                         {"closid_exhausted", last_report_.closid_exhausted},
                         {"errors", errors},
                         {"tasks", {{"desired", t.desired}, {"already", t.already}, {"written", t.written},
                                    {"gone", t.gone}, {"released", t.released}, {"failed", t.failed}}},
                         {"seconds", std::chrono::duration<double>(last_sync_cost_).count()}};
  return j;
}

nlohmann::json RdtController::explain(const std::string& pod_key) const {
  nlohmann::json out = nlohmann::json::array();
  auto it = last_plan_.pod_reason.find(pod_key);
  if (it != last_plan_.pod_reason.end()) out.push_back({{"controller", "Rdt"}, {"decision", it->second}});
  return out;
}

SLO_REGISTER_CONTROLLER(RdtController, 50);

}  // namespace slo::agent::rdtctl
