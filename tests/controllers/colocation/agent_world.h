// A synthetic node for colocation tests of the real Agent: a fake v1 cgroup tree with an LS and a BE pod
// (tests/runtime/fake_node.h), a still fake --proc-root (24 CPUs, memory use settable) and an injectable wall clock.
#pragma once

#include <chrono>
#include <fstream>
#include <memory>
#include <string>

#include "agent/observe/file_pod_source.h"
#include "agent/runtime/agent.h"
#include "tests/common/support.h"
#include "tests/runtime/fake_node.h"

namespace slo::test {

using SysClock = std::chrono::system_clock;

// 2026-11-30 00:00 UTC (a Monday).
inline constexpr int64_t kMon = 1795996800;
inline SysClock::time_point utc(int64_t s) { return SysClock::time_point(std::chrono::seconds(s)); }

struct World {
  test::TempDir tmp;
  test::FakeNode node;
  std::string cfg_path;
  SysClock::time_point wall = utc(kMon + 6 * 3600 + 59 * 60 + 30);  // 07:59:30 at +01:00

  World() : node(tmp.sub("cg"), false) {
    node.populate(2);  // pod-0 Burstable (LS), pod-1 BestEffort
    node.write_pod_list(tmp.sub("pods.json"));
    cfg_path = tmp.sub("config.yaml");
    // A still node: /proc/stat does not move (no system usage), memory 20 % used.
    // 24 CPUs: the runtime takes the node's capacity from the cpuN lines of /proc/stat.
    std::string stat = "cpu  1000 0 1000 100000 0 0 0 0 0 0\n";
    for (int i = 0; i < 24; ++i) stat += "cpu" + std::to_string(i) + " 40 0 40 4000 0 0 0 0 0 0\n";
    tmp.write("proc/stat", stat);
    set_memory_used_percent(20);
  }
  void set_memory_used_percent(int pct) {
    const int64_t total_kb = 64ll << 20;  // 64 GiB
    tmp.write("proc/meminfo", "MemTotal: " + std::to_string(total_kb) + " kB\nMemAvailable: " +
                                  std::to_string(total_kb * (100 - pct) / 100) + " kB\n");
  }
  void config(const std::string& text) const { std::ofstream(cfg_path) << text; }
  agent::AgentOptions options() {
    agent::AgentOptions o;
    o.config_path = cfg_path;
    o.cgroup_root = node.root();
    o.sysfs_root = tmp.sub("nosys");
    o.proc_root = tmp.sub("proc");
    o.state_dir = tmp.sub("state");
    o.pod_source = std::make_unique<agent::FilePodSource>(tmp.sub("pods.json"), std::chrono::milliseconds(1000));
    o.handle_signals = false;
    o.watch = false;
    o.wall_clock = [this] { return wall; };
    return o;
  }
  int64_t be_tier_quota() const { return std::stoll(node.read("kubepods/besteffort", "cpu.cfs_quota_us")); }
};

}  // namespace slo::test
