// The kernel operations on a resctrl root that the writer needs, in one small class so that a fake tree can
// emulate the kernel's side effects and tests can inject the errors a plain file cannot produce.
//
// ResctrlFs does exactly the syscalls a real mount needs. FixtureResctrlFs (for trees accepted with
// RootCheck::trust_contents) adds what the kernel would do on its own: mkdir creates the group's files, rmdir
// returns the group's tasks to the root group and removes the files. Writing tasks needs no emulation: the real
// file takes one TID per write(2), and opening with O_APPEND makes a plain file collect them the same way.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cgroups/safe_dir.h"
#include "cgroups/status.h"

namespace slo::rdt {

class ResctrlFs {
 public:
  explicit ResctrlFs(cg::DirFd root) : root_(std::move(root)) {}
  virtual ~ResctrlFs() = default;
  ResctrlFs(const ResctrlFs&) = delete;
  ResctrlFs& operator=(const ResctrlFs&) = delete;

  const cg::DirFd& root() const { return root_; }

  // Control groups at the top level (directories other than info, mon_data, mon_groups).
  cg::Result<std::vector<std::string>> list_groups() const;
  cg::Result<std::string> read(const std::string& rel) const { return root_.read(rel); }
  // info/last_cmd_status, trimmed; empty when unreadable.
  std::string last_cmd_status() const;

  virtual cg::Status make_group(const std::string& name);
  virtual cg::Status remove_group(const std::string& name);
  // One write(2) of the whole value to a truncated file (schemata: the kernel parses a write as one command).
  virtual cg::Status write_file(const std::string& rel, std::string_view value);
  // Opens `rel` for appending single TIDs; returns fd or -errno.
  virtual int open_append(const std::string& rel);
  // One write(2) of data to fd; 0 or errno.
  virtual int write_fd(int fd, std::string_view data);

 protected:
  cg::DirFd root_;
};

class FixtureResctrlFs : public ResctrlFs {
 public:
  using ResctrlFs::ResctrlFs;
  cg::Status make_group(const std::string& name) override;
  cg::Status remove_group(const std::string& name) override;
};

// Exclusive flock on the resctrl root for the duration of a batch of writes (pqos and other tools take the same
// lock). Waits up to `timeout`, polling, so a stuck tool costs one tick, not the agent.
class RootLock {
 public:
  static cg::Result<std::unique_ptr<RootLock>> acquire(const cg::DirFd& root, std::chrono::milliseconds timeout);
  ~RootLock();
  RootLock(const RootLock&) = delete;
  RootLock& operator=(const RootLock&) = delete;

 private:
  explicit RootLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

// The right ResctrlFs for an opened root: kernel mounts get the plain one, fake trees the emulating one.
std::unique_ptr<ResctrlFs> make_resctrl_fs(cg::DirFd root, bool kernel_mount);

}  // namespace slo::rdt
