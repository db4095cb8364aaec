// A scripted AgentQueries for the API tests: fixed documents shaped like the runtime's, with the awkward values a
// real node produces (memory limits near 2^63, CPU lists, unknown originals, non-ASCII text).
#pragma once

#include <atomic>
#include <mutex>

#include "agent/runtime/agent_queries.h"

namespace slo::test {

class FakeQueries final : public agent::AgentQueries {
 public:
  static nlohmann::json status_doc() {
    return {{"version", "9.9.9-fake"},
            {"uptime_seconds", 3725.5},
            {"node", "node-a"},
            {"mode", "hybrid"},
            {"driver", "cgroupfs"},
            {"capabilities", {{"kernel_burst", true}, {"resctrl", false}, {"cpus", 20}, {"bpf", {{"runqlat", true}}}}},
            {"controllers",
             {{{"name", "CpuBurst"},
               {"enabled", true},
               {"reason", "kernel burst + quota scaling"},
               {"period_ms", 1000},
               {"last_tick_seconds", 0.00042}},
              {{"name", "Rdt"},
               {"enabled", false},
               {"reason", "resctrl not mounted at /sys/fs/resctrl"},
               {"period_ms", 5000},
               {"last_tick_seconds", 0.0}}}},
            {"ready", true},
            {"paused", false},
            {"kubepods", "kubepods"},
            {"pods", 2},
            {"knobs_held", 4},
            {"journal_entries", 3},
            {"future_field", {{"a", 1}}}};  // not in the proto: must survive through extra_json
  }
  static nlohmann::json pods_doc() {
    using nlohmann::json;
    json web_knobs = {
        {"cpu_quota", {{"current", 150000}, {"original", 100000}, {"owner", "CpuBurst"}, {"reason", "p99 throttled 31%"}}},
        {"cpu_burst", {{"current", 100000}, {"original", 0}, {"owner", "CpuBurst"}, {"reason", "burst = quota"}}},
        {"memory_limit",
         {{"current", 9223372036854771712LL}, {"original", nullptr}, {"owner", ""}, {"reason", "über-limit: unchanged"}}},
    };
    json be_knobs = {
        {"cpuset_cpus", {{"current", "0-3,8"}, {"original", "0-19"}, {"owner", "Cpuset"}, {"reason", "BE pool"}}},
    };
    return json::array(
        {{{"namespace", "default"},
          {"name", "web-0"},
          {"uid", "0d7c8e1a-1111-2222-3333-444455556666"},
          {"qos", "LS"},
          {"kube_qos", "Burstable"},
          {"cgroup", "kubepods/burstable/pod0d7c8e1a-1111-2222-3333-444455556666"},
          {"knobs", {{"cpu_quota", {{"current", "250000"}, {"original", ""}, {"owner", "CpuBurst"}, {"reason", "pod sum"}}}}},
          {"priority", 9500},
          {"containers",
           {{{"name", "nginx"},
             {"cgroup", "kubepods/burstable/pod0d7c8e1a-1111-2222-3333-444455556666/abc123"},
             {"knobs", web_knobs},
             {"restarts", 2}}}}},
         {{"namespace", "batch"},
          {"name", "spark-7"},
          {"uid", "99999999-aaaa-bbbb-cccc-dddddddddddd"},
          {"qos", "BE"},
          {"kube_qos", "BestEffort"},
          {"cgroup", "kubepods/besteffort/pod99999999-aaaa-bbbb-cccc-dddddddddddd"},
          {"knobs", json::object()},
          {"containers",
           {{{"name", "executor"},
             {"cgroup", "kubepods/besteffort/pod99999999-aaaa-bbbb-cccc-dddddddddddd/def456"},
             {"knobs", be_knobs}},
            {{"name", "sidecar"}, {"cgroup", ""}, {"knobs", json::object()}}}}}});
  }
  static nlohmann::json explain_doc() {
    return nlohmann::json::array({{{"time", 1764417600.25},
                                   {"controller", "CpuBurst"},
                                   {"knob", "cpu_quota"},
                                   {"cgroup", "kubepods/burstable/pod0d7c8e1a-1111-2222-3333-444455556666/abc123"},
                                   {"from", 100000},
                                   {"to", 150000},
                                   {"reason", "throttled 31% of periods over 5 s"},
                                   {"result", "ok"}},
                                  {{"time", "2026-11-29T12:00:01.500Z"},
                                   {"controller", "CpuBurst"},
                                   {"knob", "cpu_burst"},
                                   {"cgroup", "kubepods/burstable/pod0d7c8e1a-1111-2222-3333-444455556666/abc123"},
                                   {"from", 0},
                                   {"to", 100000},
                                   {"reason", "burst = quota"},
                                   {"result", "EINVAL"}}});
  }
  static nlohmann::json config_doc() {
    return {{"effective", {{"cpuBurstStrategy", {{"policy", "auto"}, {"cpuBurstPercent", 1000}}}}},
            {"source", "/etc/sloagent/config.yaml"},
            {"loaded_at", "2026-11-29T12:00:00Z"},
            {"last_error", "cpuBurstStrategy.cpuBurstPercent: must be >= 0"}};
  }
  static nlohmann::json pools_doc() {
    return {{"be_budget_cores", 4.5},
            {"pools",
             {{{"name", "LSE"}, {"cpus", "2-3"}, {"pods", 1}}, {{"name", "BE"}, {"cpus", "0-1,4-19"}, {"pods", 7}}}}};
  }
  static nlohmann::json rdt_doc() {
    return {{"enabled", true},
            {"classes",
             {{{"name", "slo-LS"}, {"schemata", "L3:0=fff;1=fff"}, {"llc_occupancy_bytes", 7340032}},
              {{"name", "slo-BE"}, {"schemata", "L3:0=00f;1=00f"}, {"llc_occupancy_bytes", 1048576}}}}};
  }
  static nlohmann::json reclaimed_doc() {
    return {{"batch_cpu_millis", 12000}, {"batch_memory_bytes", 34359738368LL}, {"updated", "2026-11-29T12:00:00Z"}};
  }

  nlohmann::json status() const override { return status_doc(); }
  nlohmann::json pods() const override { return pods_doc(); }
  std::optional<nlohmann::json> explain(const std::string& key) const override {
    if (key == "default/web-0") return explain_doc();
    if (key == "batch/spark-7") return nlohmann::json::array();
    return std::nullopt;
  }
  nlohmann::json config() const override { return config_doc(); }
  nlohmann::json pools() const override { return pools_doc(); }
  nlohmann::json rdt() const override { return rdt_doc(); }
  nlohmann::json reclaimed() const override { return reclaimed_doc(); }
  nlohmann::json restore() override {
    ++restores;
    if (fail_restore) return {{"restored", 2}, {"gone", 0}, {"failed", {"kubepods/x:cpu_quota: EINVAL"}}};
    return {{"restored", 3}, {"gone", 1}, {"failed", nlohmann::json::array()}};
  }
  bool ready() const override { return is_ready.load(); }

  std::atomic<bool> is_ready{true};
  std::atomic<bool> fail_restore{false};
  std::atomic<int> restores{0};
};

}  // namespace slo::test
