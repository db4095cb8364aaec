#include "agent/decide/colocation/reclaimed_controller.h"

#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include "agent/model/pod.h"

namespace slo::colocation {

void ReclaimedController::init(agent::ControllerContext& ctx) {
  cluster_ = ctx.cluster;
  cpu_gauge_ = &prometheus::BuildGauge()
                    .Name("sloagent_batch_allocatable_cpu_cores")
                    .Help("Reclaimed CPU offered to batch pods (kubernetes.io/batch-cpu), in cores")
                    .Register(ctx.metrics)
                    .Add({});
  mem_gauge_ = &prometheus::BuildGauge()
                    .Name("sloagent_batch_allocatable_memory_bytes")
                    .Help("Reclaimed memory offered to batch pods (kubernetes.io/batch-memory), in bytes")
                    .Register(ctx.metrics)
                    .Add({});
  degraded_gauge_ = &prometheus::BuildGauge()
                         .Name("sloagent_batch_allocatable_degraded")
                         .Help("1 when usage metrics are older than degradeTimeMinutes and batch resources are zero")
                         .Register(ctx.metrics)
                         .Add({});
}

std::optional<std::string> ReclaimedController::configure(const nlohmann::json& policy) {
  ReclaimConfig c;
  if (auto err = parse_reclaim_config(policy, c)) return err;
  cfg_ = c;
  estimator_.set_settings(cfg_.settings);
  return std::nullopt;
}

void ReclaimedController::decide(const agent::Snapshot& snap, agent::Blackboard&, agent::IntentSink&) {
  double now_s = std::chrono::duration<double>(snap.wall.time_since_epoch()).count();
  usage_.update(snap, NodeUsage::Detail::per_pod);
  // hp_ is reused from decide to decide: the samples' key strings keep their buffers, so a steady pod set allocates
  // nothing here.
  size_t n = 0;
  for (const auto& p : snap.pods) {
    if (p.cgroup.empty() || p.pod.qos == model::QosClass::BE) continue;
    if (n == hp_.size()) hp_.emplace_back();
    PodSample& s = hp_[n++];
    s.key.assign(p.pod.namespace_).append(1, '/').append(p.pod.name);
    auto req = p.pod.total_requests();
    s.cpu_cores = usage_.pod_cpu_cores(p).value_or(0);
    s.memory_bytes = p.stats.memory ? p.stats.memory->working_set_bytes : 0;
    s.cpu_request_cores = static_cast<double>(req.cpu_millis.value_or(0)) / 1000.0;
    s.memory_request_bytes = req.memory_bytes.value_or(0);
  }
  hp_.resize(n);
  if (usage_.any_pod_rate() || snap.pods.empty()) last_metrics_s_ = now_s;
  if (last_metrics_s_ < 0) last_metrics_s_ = now_s;
  estimator_.observe(hp_, now_s);
  if (!cfg_.enable) {
    last_ = ReclaimResult{};
  } else {
    int64_t mem_total = snap.node.memory_total_bytes > 0 ? snap.node.memory_total_bytes
                                                         : (snap.host ? snap.host->topology.memory_bytes : 0);
    last_ = estimator_.compute(snap.node.cpu_capacity_cores, mem_total, usage_.system_cpu_cores(),
                               usage_.system_memory_bytes(), 0,
                               cfg_.system_reserved_memory_bytes, now_s, last_metrics_s_);
  }
  if (cpu_gauge_) cpu_gauge_->Set(static_cast<double>(last_.batch_cpu_millis) / 1000.0);
  if (mem_gauge_) mem_gauge_->Set(static_cast<double>(last_.batch_memory_bytes));
  if (degraded_gauge_) degraded_gauge_->Set(last_.degraded ? 1 : 0);
  if (cluster_)
    cluster_->publish_node_resources({{std::string(model::kBatchCpu), last_.batch_cpu_millis},
                                      {std::string(model::kBatchMemory), last_.batch_memory_bytes}});
}

nlohmann::json ReclaimedController::status() const {
  return {{"enabled", cfg_.enable},
          {"batch_cpu_millicores", last_.batch_cpu_millis},
          {"batch_memory_bytes", last_.batch_memory_bytes},
          {"degraded", last_.degraded},
          {"high_priority_cpu_cores", last_.hp_cpu_cores},
          {"high_priority_memory_bytes", last_.hp_memory_bytes},
          {"system_cpu_cores", usage_.system_cpu_cores()},
          {"system_memory_bytes", usage_.system_memory_bytes()},
          {"tracked_pods", estimator_.tracked_pods()},
          {"cpuReclaimThresholdPercent", cfg_.settings.cpu_reclaim_threshold_percent},
          {"memoryReclaimThresholdPercent", cfg_.settings.memory_reclaim_threshold_percent}};
}

}  // namespace slo::colocation
