// A uniquely named subtree where the cpu controller is active, for the BPF load-and-attach tests: in the v1 cpu
// hierarchy (v1 and hybrid hosts) or in the unified tree of a pure cgroup2 host (with +cpu enabled in the
// subtree_control of every parent it creates). Removed on destruction together with the processes the test started
// in it. Small on purpose: the BPF tests need only mkdir, a quota write and task placement.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "cgroups/hierarchy.h"

namespace slo::test {

class CpuTestCgroups {
 public:
  // Why no such subtree can be made below cgroup_root (no cpu controller in any hierarchy), nullopt when it can.
  static std::optional<std::string> unavailable_reason(const std::string& cgroup_root = "/sys/fs/cgroup");

  // Creates slo-test-<pid>-<random> in the hierarchy holding the cpu controller. Throws when it cannot.
  explicit CpuTestCgroups(const std::string& cgroup_root = "/sys/fs/cgroup");
  // Kills (SIGKILL) and reaps every process started with spawn(), then removes the subtree bottom-up.
  ~CpuTestCgroups();
  CpuTestCgroups(const CpuTestCgroups&) = delete;
  CpuTestCgroups& operator=(const CpuTestCgroups&) = delete;

  cg::Mode mode() const { return hierarchy_.mode; }
  const std::string& root() const { return hierarchy_.root; }  // what HostInfo::cgroup_root gets
  const std::string& top() const { return top_; }              // absolute
  // top() relative to the directory of the cpu hierarchy (the form pod cgroups have in a Snapshot).
  const std::string& top_rel() const { return top_rel_; }
  // Creates top/rel (parents first) and returns its absolute path.
  std::string make(const std::string& rel);
  // CFS quota of top/rel in µs per 100 ms period: cpu.cfs_quota_us on v1, cpu.max on v2.
  void set_cpu_quota(const std::string& rel, int64_t quota_us) const;
  // Forks a child pinned to `cpu` (-1 = no pinning) that joins top/rel before running `body` (which never
  // returns). Returns once the child is in its cgroup. On v2 only leaves may hold processes.
  pid_t spawn(const std::string& rel, int cpu, std::function<void()> body);

 private:
  cg::Hierarchy hierarchy_;
  std::string top_, top_rel_;
  std::vector<std::string> dirs_;  // created, in creation order
  std::vector<pid_t> children_;
};

// Bodies for spawn().
[[noreturn]] void spin_forever();
// Repeats: spin for spin_us, then sleep for sleep_us.
[[noreturn]] void spin_sleep_forever(int spin_us, int sleep_us);

}  // namespace slo::test
