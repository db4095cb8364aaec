// Outcome of one kernel-file access. "Gone" (ENOENT/ENODEV/ESRCH) is a normal result for cgroups that vanish
// while we look at them, so it is a value, not an exception, and callers can count it without logging per tick.
#pragma once

#include <string>
#include <utility>

namespace slo::cg {

enum class Outcome { ok, gone, error };

struct Status {
  Outcome outcome = Outcome::ok;
  int err = 0;            // errno for gone/error
  std::string path;       // file (relative to the root it was opened under, or absolute)
  std::string value;      // value written, for write failures
  std::string detail;     // extra context (e.g. resctrl last_cmd_status)

  static Status ok_status() { return {}; }
  static Status from_errno(int e, std::string path, std::string value = {});
  static Status failure(std::string path, std::string detail, int e = 0);

  bool ok() const { return outcome == Outcome::ok; }
  bool gone() const { return outcome == Outcome::gone; }
  // "write cpu.cfs_quota_us=50000 to kubepods/pod1: Invalid argument (EINVAL)"
  std::string describe() const;
};

// True for the errnos that mean "the cgroup / task is not there any more".
bool is_gone_errno(int e);
// "EINVAL", "ENOENT" ... (falls back to the number).
std::string errno_name(int e);

template <class T>
struct Result {
  Status status;
  T value{};

  bool ok() const { return status.ok(); }
  bool gone() const { return status.gone(); }
  static Result success(T v) { return Result{Status{}, std::move(v)}; }
  static Result fail(Status s) { return Result{std::move(s), T{}}; }
};

}  // namespace slo::cg
