// Reads and writes typed knobs and statistics of cgroups below one hierarchy root, translating between the v1 and
// v2 spellings. All access goes through directory fds opened once per controller at open(); no global state.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "cgroups/hierarchy.h"
#include "cgroups/knob.h"
#include "cgroups/safe_dir.h"
#include "cgroups/stats.h"
#include "cgroups/status.h"

namespace slo::cg {

enum class StatFile { cpu_stat, cpu_usage, memory_usage, memory_stat, cpu_pressure, memory_pressure, io_pressure };

struct MemoryUsage {
  int64_t usage_bytes = 0;        // v1 memory.usage_in_bytes, v2 memory.current
  int64_t working_set_bytes = 0;  // usage − inactive_file, as kubelet computes it
  std::map<std::string, uint64_t> stat;  // memory.stat
};

class CgroupFs {
 public:
  // Detects the hierarchy under root (see Hierarchy::detect) and opens a dir fd per controller.
  static Result<CgroupFs> open(const std::string& root);
  static Result<CgroupFs> open(const std::string& root, const DetectOptions& opts);

  const Hierarchy& hierarchy() const { return hierarchy_; }
  Mode mode() const { return hierarchy_.mode; }
  // True when the knob's file exists at the top of its controller (e.g. cpu.cfs_burst_us needs Linux 5.14).
  bool supports(Knob k) const;
  // Dir fd of the controller's hierarchy; nullptr when the controller is not mounted / not enabled.
  const DirFd* controller_dir(Controller c) const;

  bool exists(const std::string& cgroup, Controller c) const;
  Result<std::vector<std::string>> children(const std::string& cgroup, Controller c) const;

  Result<KnobValue> read(const KnobRef& ref) const;
  // Writes the knob in this hierarchy's spelling. Refuses the root cgroup ("" or "/") and unsafe paths.
  Status write(const KnobRef& ref, const KnobValue& value) const;
  // True when a and b leave the same value in the file: shares compare as v2 weights on v2, memory sizes compare
  // in whole pages (the kernel rounds down), -1 and "max" are equal. Used to skip unchanged writes.
  bool same_value(const KnobRef& ref, const KnobValue& a, const KnobValue& b) const;
  // "cpu/kubepods/pod1/cpu.cfs_quota_us" (v1) or "kubepods/pod1/cpu.max" (v2): for messages and the journal.
  std::string file_of(const KnobRef& ref) const;

  Result<CpuStat> cpu_stat(const std::string& cgroup) const;
  Result<uint64_t> cpu_usage_ns(const std::string& cgroup) const;  // v1 cpuacct.usage, v2 cpu.stat usage_usec
  Result<MemoryUsage> memory(const std::string& cgroup) const;
  Result<Psi> pressure(const std::string& cgroup, StatFile which) const;  // cpu/memory/io_pressure; gone if absent
  // Opens a stat file to be re-read with KeptFile::read on the hot path.
  Result<KeptFile> keep_open(const std::string& cgroup, StatFile f) const;
  Result<std::vector<int>> procs(const std::string& cgroup, Controller c) const;  // cgroup.procs
  Result<std::vector<int>> threads(const std::string& cgroup, Controller c) const;  // tasks / cgroup.threads

  // v2: the controllers available in `cgroup` (its cgroup.controllers = the parent's subtree_control). v1: the
  // controllers whose hierarchy holds the cgroup.
  Result<std::set<Controller>> enabled_controllers(const std::string& cgroup) const;

  // Tree management for the demo and tests (the agent itself never creates pod cgroups).
  // In every mounted controller (v1) or once (v2), parents included; an existing cgroup is not an error. On v1 a new
  // cpuset cgroup gets its parent's cpus/mems (it starts empty, and an empty cpuset cannot hold tasks).
  Status create(const std::string& cgroup) const;
  Status remove(const std::string& cgroup) const;   // rmdir in every controller; gone is not an error
  Status attach(const std::string& cgroup, int pid) const;  // cgroup.procs in every controller

 private:
  Hierarchy hierarchy_;
  std::map<Controller, std::shared_ptr<DirFd>> dirs_;
};

}  // namespace slo::cg
