// Typed cgroup knobs with one meaning across v1 and v2. Values use the v1 units (µs, bytes, shares); CgroupFs
// translates to the v2 spelling on the way in and out.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "cgroups/cgroup_path.h"
#include "cgroups/cpu_set.h"
#include "cgroups/hierarchy.h"
#include "cgroups/stats.h"

namespace slo::cg {

enum class Knob : uint8_t {
  cpu_quota,      // µs, -1 = unlimited       v1 cpu.cfs_quota_us     v2 cpu.max (first field; "max" = -1)
  cpu_period,     // µs                        v1 cpu.cfs_period_us    v2 cpu.max (second field)
  cpu_burst,      // µs                        v1 cpu.cfs_burst_us     v2 cpu.max.burst
  cpu_shares,     // v1 shares (2..262144)     v1 cpu.shares           v2 cpu.weight (w = 1 + (s-2)*9999/262142)
  cpuset_cpus,    // CpuSet                    cpuset.cpus (both)
  cpuset_mems,    // CpuSet                    cpuset.mems (both)
  memory_limit,   // bytes, -1 = unlimited     v1 memory.limit_in_bytes v2 memory.max
  memory_high,    // bytes, -1 = max           v2 memory.high only
  memory_min,     // bytes                     v2 memory.min only
  memory_low,     // bytes                     v2 memory.low only
  io_read_bps,    // per device; -1 = max      v1 blkio.throttle.read_bps_device   v2 io.max rbps
  io_write_bps,   //                           v1 blkio.throttle.write_bps_device  v2 io.max wbps
  io_read_iops,   //                           v1 blkio.throttle.read_iops_device  v2 io.max riops
  io_write_iops,  //                           v1 blkio.throttle.write_iops_device v2 io.max wiops
};

using KnobValue = std::variant<int64_t, CpuSet>;

std::string_view to_string(Knob k);
std::optional<Knob> knob_from_name(std::string_view name);
Controller controller_of(Knob k);
bool is_cpuset_knob(Knob k);
bool is_io_knob(Knob k);
// The file that holds the knob in the given mode (v1 or v2; hybrid uses v1 files).
std::string_view knob_file(Knob k, Mode m);

std::string value_to_string(const KnobValue& v);  // "-1", "50000", "0-3"
std::optional<KnobValue> value_from_string(Knob k, std::string_view text);
int64_t as_int(const KnobValue& v);  // 0 for CpuSet
bool values_equal(const KnobValue& a, const KnobValue& b);

// v1 shares <-> v2 weight, as the kernel / runc convert.
int64_t shares_to_weight(int64_t shares);
int64_t weight_to_shares(int64_t weight);

// One knob of one cgroup. `cgroup` is relative to the hierarchy root and the same for every controller
// ("kubepods/burstable/pod<uid>/<id>"); `device` is "MAJ:MIN" for io knobs, empty otherwise.
struct KnobRef {
  CgroupPath cgroup;
  Knob knob = Knob::cpu_quota;
  std::string device;

  bool operator<(const KnobRef& o) const;
  bool operator==(const KnobRef& o) const = default;
  std::string to_string() const;  // "kubepods/pod1:cpu_quota" or "…:io_read_bps[8:0]"
};

struct KnobWrite {
  KnobRef ref;
  KnobValue value;
};

// ---- File spellings (used by CgroupFs; public so they can be tested and fuzzed) ----------------------------------

// v2 cpu.max: "max 100000" / "50000 100000"; a lone quota is accepted (the kernel keeps the period then).
struct CpuMax {
  int64_t quota_us = -1;  // -1 = max
  std::optional<int64_t> period_us;
};
std::optional<CpuMax> parse_cpu_max(std::string_view text);
// What to write to cpu.max to change only the quota: "max" or "50000" (the kernel accepts a single value).
std::string format_cpu_max_quota(int64_t quota_us);
std::string format_cpu_max(int64_t quota_us, int64_t period_us);  // "max 100000"

// "MAJ:MIN" with decimal numbers only: the device part of io.max / blkio lines.
bool valid_device(std::string_view dev);
// io.max key of an io knob ("rbps" …); "" for other knobs.
std::string_view io_max_key(Knob k);
// One io.max write changing one field: "8:0 rbps=1048576" / "8:0 wiops=max".
std::string format_io_max_line(std::string_view device, Knob k, int64_t value);
// A full io.max line: "8:0 rbps=max wbps=1048576 riops=max wiops=max".
std::string format_io_max_entry(const IoMaxEntry& e);
int64_t io_max_field(const IoMaxEntry& e, Knob k);
// v1 blkio.throttle.*_device line: "8:0 1048576"; -1 (unlimited) is written as 0, which removes the rule on v1.
std::string format_blkio_line(std::string_view device, int64_t value);

}  // namespace slo::cg
