// Parsers for cgroup statistics files, both spellings. Pure functions on text: no I/O, fuzzable.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace slo::cg {

struct CpuStat {
  uint64_t nr_periods = 0;
  uint64_t nr_throttled = 0;
  uint64_t throttled_ns = 0;  // v1 throttled_time (ns) or v2 throttled_usec × 1000
  uint64_t nr_bursts = 0;     // 0 where the kernel has no burst accounting
  uint64_t burst_ns = 0;      // v1 burst_time (ns) or v2 burst_usec × 1000
  std::optional<uint64_t> usage_ns;  // v2 usage_usec × 1000; v1 cpu.stat has no usage
};
std::optional<CpuStat> parse_cpu_stat(std::string_view text);

// "key value" files (memory.stat, cpu.stat, io lines). Unknown keys kept; malformed lines skipped.
std::map<std::string, uint64_t> parse_flat_keyed(std::string_view text);

// A single integer file ("12345\n"); "max" → -1 when allow_max.
std::optional<int64_t> parse_int_file(std::string_view text, bool allow_max = false);

struct PsiLine {
  double avg10 = 0, avg60 = 0, avg300 = 0;
  uint64_t total_us = 0;
};
struct Psi {
  PsiLine some;
  std::optional<PsiLine> full;  // absent for cpu on older kernels
};
std::optional<Psi> parse_psi(std::string_view text);

// v2 io.stat: "8:0 rbytes=… wbytes=… rios=… wios=…" per device; also tolerates the quirks in fixtures.
struct IoStatEntry {
  std::string device;  // "MAJ:MIN"
  std::map<std::string, uint64_t> fields;
};
std::vector<IoStatEntry> parse_io_stat(std::string_view text);

// v1 blkio.throttle.*_device: "8:0 1048576" per line. v2 io.max: "8:0 rbps=max wbps=1048576 riops=max wiops=max".
std::map<std::string, int64_t> parse_blkio_throttle(std::string_view text);
struct IoMaxEntry {
  std::string device;
  int64_t rbps = -1, wbps = -1, riops = -1, wiops = -1;  // -1 = max
};
std::vector<IoMaxEntry> parse_io_max(std::string_view text);

// /proc/<pid>/cgroup lines: "hierarchy-id:controllers:path".
struct ProcCgroupLine {
  int hierarchy_id = 0;
  std::vector<std::string> controllers;  // empty for the v2 line "0::/…"
  std::string path;
};
std::vector<ProcCgroupLine> parse_proc_cgroup(std::string_view text);

}  // namespace slo::cg
