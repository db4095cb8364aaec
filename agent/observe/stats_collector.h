// Cgroup statistics through kept-open files: a stat read on the hot path is one pread(2) per file. Handles are
// opened lazily the first time a cgroup is read and closed when the cgroup leaves the pod set or reads as gone.
#pragma once

#include <chrono>
#include <set>
#include <string>
#include <unordered_map>

#include "agent/runtime/snapshot.h"
#include "cgroups/cgroup_fs.h"
#include "cgroups/safe_dir.h"

namespace slo::agent {

class StatsCollector {
  struct Files;

 public:
  explicit StatsCollector(const cg::CgroupFs& fs) : fs_(fs) {}

  // When v1's cpuacct.usage (a second pread) is read along with cpu.stat.
  enum class Usage : uint8_t {
    always,
    // Only when cpu.stat's nr_periods moved since the previous read, or the cgroup has no CFS quota (nr_periods 0).
    // A quota-limited cgroup that used no CPU lets its bandwidth timer go idle, so its nr_periods stands still: its
    // usage did not change either (usage spent right before the read, before a period boundary, shows at the next
    // read: the counter is cumulative). The fast tick reads this way: an idle LS container costs one pread, not two.
    when_active,
  };
  // The kept-open files of one cgroup, for a caller that reads the same cgroups every tick (the fast tick's hot
  // sets): saves hashing a ~100-char path per read. Valid until retain() drops the cgroup.
  using Handle = Files*;
  Handle handle(const std::string& cgroup) { return &files_[cgroup]; }

  // cpu.stat (and on v1 cpuacct.usage) of one cgroup into out; absent values when gone or unreadable.
  void read_cpu(const std::string& cgroup, ContainerStats& out, std::chrono::steady_clock::time_point now,
                Usage usage = Usage::always) {
    if (!cgroup.empty()) read_cpu(handle(cgroup), cgroup, out, now, usage);
  }
  void read_cpu(Handle h, const std::string& cgroup, ContainerStats& out, std::chrono::steady_clock::time_point now,
                Usage usage);
  // Memory usage and working set (slow tick only), through kept-open files too. memory.stat is scanned for the
  // inactive_file counter only: MemoryUsage::stat stays empty (no consumer; a per-key map for every cgroup each
  // slow tick was most of the slow tick's allocations).
  void read_memory(const std::string& cgroup, ContainerStats& out) {
    if (!cgroup.empty()) read_memory(handle(cgroup), cgroup, out);
  }
  void read_memory(Handle h, const std::string& cgroup, ContainerStats& out);
  // Closes the handles of cgroups not in live.
  void retain(const std::set<std::string>& live);

  uint64_t preads() const { return preads_; }
  size_t open_files() const;

 private:
  struct Files {
    cg::KeptFile cpu_stat, usage, mem_usage, mem_stat;
    bool cpu_stat_tried = false, usage_tried = false, mem_tried = false;
  };
  const cg::CgroupFs& fs_;
  std::unordered_map<std::string, Files> files_;
  std::string buf_;
  uint64_t preads_ = 0;
};

}  // namespace slo::agent
