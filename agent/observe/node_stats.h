// Node-wide CPU and memory from --proc-root (/proc/stat, /proc/meminfo), read through kept-open files.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "agent/runtime/snapshot.h"
#include "cgroups/safe_dir.h"

namespace slo::agent {

struct ProcStatCpu {
  uint64_t busy_ns = 0;   // user+nice+system+irq+softirq+steal
  uint64_t total_ns = 0;  // busy + idle + iowait
  int cpus = 0;           // number of "cpuN" lines
};
// Parses /proc/stat (USER_HZ = 100 ticks/s, as every Linux ABI fixes it for /proc/stat).
std::optional<ProcStatCpu> parse_proc_stat(std::string_view text);
struct MemInfo {
  int64_t total_bytes = 0, available_bytes = 0;
};
std::optional<MemInfo> parse_meminfo(std::string_view text);

class NodeStatsReader {
 public:
  // Opens <proc_root>/stat and <proc_root>/meminfo; ok() false (with error) when they cannot be opened.
  explicit NodeStatsReader(const std::string& proc_root);
  bool ok() const { return stat_.valid() && meminfo_.valid(); }
  const std::string& error() const { return error_; }
  void read(NodeStats& out);

 private:
  cg::KeptFile stat_, meminfo_;
  std::string buf_, error_;
};

}  // namespace slo::agent
