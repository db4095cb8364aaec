// The one writer of resctrl: makes the agent-owned control groups match a desired set (level-triggered), holding
// the root flock while it writes. Groups the agent owns carry a fixed name prefix; any prefixed group not in the
// desired set (a stale one from an earlier run, or a class switched off) is removed, which hands its tasks back to
// the root group.
#pragma once

#include <chrono>
#include <set>
#include <string>
#include <vector>

#include "cgroups/status.h"
#include "rdt/resctrl_fs.h"
#include "rdt/schemata.h"

namespace slo::rdt {

constexpr const char* kGroupPrefix = "slo-";

struct GroupSpec {
  std::string name;      // with the prefix ("slo-BE")
  Schemata schemata;     // lines to hold (only resources that exist)
  std::vector<int> tids; // threads that belong in the group (any order, duplicates allowed)
};

struct TaskSyncStats {
  size_t desired = 0;   // TIDs wanted in owned groups
  size_t already = 0;   // already in their group (no write)
  size_t written = 0;   // moved with one write(2) each
  size_t gone = 0;      // ESRCH: the thread exited between listing and writing (normal)
  size_t released = 0;  // moved back to the root group (no longer wanted in any owned group)
  size_t failed = 0;    // other write errors
};

struct ApplyReport {
  std::vector<std::string> created, removed, schemata_written;
  std::vector<std::string> closid_exhausted;  // groups that could not be created (mkdir ENOSPC)
  std::vector<cg::Status> errors;             // each names file, value, errno and info/last_cmd_status
  TaskSyncStats tasks;
};

// Parses a tasks file ("12\n345\n") into sorted, unique TIDs; malformed lines are skipped.
std::vector<int> parse_tasks(std::string_view text);

class ResctrlWriter {
 public:
  explicit ResctrlWriter(ResctrlFs& fs, std::string prefix = kGroupPrefix,
                         std::chrono::milliseconds lock_timeout = std::chrono::milliseconds(2000))
      : fs_(fs), prefix_(std::move(prefix)), lock_timeout_(lock_timeout) {}

  // Every spec name must start with the prefix. usable_closids only improves the ENOSPC message.
  ApplyReport apply(const std::vector<GroupSpec>& groups, unsigned usable_closids = 0);

  // The steps of apply(), each usable alone (callers must hold the lock; apply() does).
  cg::Status ensure_group(const std::string& name, unsigned usable_closids);
  // Reads the group's schemata and writes only when a value differs; *written tells whether it wrote.
  cg::Status write_schemata(const std::string& group, const Schemata& desired, bool* written);
  TaskSyncStats sync_tasks(const std::vector<GroupSpec>& groups, std::vector<cg::Status>* errors);
  // Removes prefixed groups not in keep; returns the removed names. Failures go to errors.
  std::vector<std::string> remove_owned(const std::set<std::string>& keep, std::vector<cg::Status>* errors);

  const std::string& prefix() const { return prefix_; }

 private:
  // Adds info/last_cmd_status to a failed write's status (the kernel's reason for EINVAL and friends).
  cg::Status with_last_cmd_status(cg::Status s) const;
  void write_tids(const std::string& tasks_rel, const std::vector<int>& tids, size_t* written, size_t* gone,
                  size_t* failed, std::vector<cg::Status>* errors);

  ResctrlFs& fs_;
  std::string prefix_;
  std::chrono::milliseconds lock_timeout_;
};

// For `sloagent restore` and shutdown: removes every group named with `prefix` below a real resctrl mount
// (checked by fs magic), returning their tasks to the root group. Returns the removed names.
cg::Result<std::vector<std::string>> remove_owned_groups(const std::string& resctrl_root,
                                                         const std::string& prefix = kGroupPrefix);
// The same on an already-opened ResctrlFs (tests, fake trees).
cg::Result<std::vector<std::string>> remove_owned_groups(ResctrlFs& fs, const std::string& prefix = kGroupPrefix);

}  // namespace slo::rdt
