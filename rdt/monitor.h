// Reads of resctrl monitoring (mon_data/mon_L3_XX/{llc_occupancy, mbm_total_bytes, mbm_local_bytes}). Each read
// makes the kernel send an IPI to a CPU of that cache domain, so callers batch them per group and rate-limit them
// (MonitorRateLimiter). A value the hardware cannot give right now reads "Unavailable" (and "Error" on some
// kernels); both become nullopt and are counted, never an error.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cgroups/safe_dir.h"
#include "cgroups/status.h"

namespace slo::rdt {

struct DomainSample {
  int domain = 0;                          // the XX of mon_L3_XX
  std::optional<uint64_t> llc_occupancy;   // bytes
  std::optional<uint64_t> mbm_total_bytes; // cumulative bytes
  std::optional<uint64_t> mbm_local_bytes; // cumulative bytes
};

struct GroupSample {
  std::string group;                   // "" = root group
  std::vector<DomainSample> domains;   // ascending domain
  unsigned unavailable = 0;            // values that read "Unavailable" / "Error"
};

// Parses one monitoring file's content: a decimal number, or nullopt for "Unavailable"/"Error"/garbage
// (*unavailable is set for the first two).
std::optional<uint64_t> parse_mon_value(std::string_view text, bool* unavailable);

// Reads every mon_L3_* domain of `group` ("" = root). Gone when the group or its mon_data has vanished; a missing
// feature file (the CPU lacks MBM, say) is just nullopt.
cg::Result<GroupSample> read_group_monitoring(const cg::DirFd& root, const std::string& group);

// Allows one batch every `interval`; the first call is always due.
class MonitorRateLimiter {
 public:
  explicit MonitorRateLimiter(std::chrono::milliseconds interval) : interval_(interval) {}
  void set_interval(std::chrono::milliseconds i) { interval_ = i; }
  std::chrono::milliseconds interval() const { return interval_; }
  bool due(std::chrono::steady_clock::time_point now) {
    if (started_ && now - last_ < interval_) return false;
    started_ = true;
    last_ = now;
    return true;
  }

 private:
  std::chrono::milliseconds interval_;
  std::chrono::steady_clock::time_point last_{};
  bool started_ = false;
};

}  // namespace slo::rdt
