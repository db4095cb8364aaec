// A throw-away cgroup subtree in the REAL hierarchy for kernel tests. Deliberately written with plain POSIX calls,
// not with the cgroups library, so tests of that library do not verify it with itself.
//
// Root: $SLO_CGROUP_ROOT or /sys/fs/cgroup. v1 (controllers mounted separately or co-mounted): the subtree is made
// in every v1 hierarchy of cpu, cpuacct, cpuset, memory, blkio and pids, and new cpuset cgroups get their parent's
// cpus/mems. Pure cgroup2: +cpu +cpuset +memory +io (+pids) are enabled in the subtree_control of every parent this
// helper creates (and of the root when missing: adding a controller there changes no limit). Processes only go into
// leaves (v2's no-internal-process rule).
// On destruction every process in the subtree is killed and the directories are removed bottom-up (EBUSY retried
// for up to ~2 s). Subtrees left by a crashed earlier run (slo-test-<pid>-… of a dead pid) are removed on creation.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace slo::test {

class KernelCgroup {
 public:
  // Why kernel cgroup tests cannot run here (not root, no usable hierarchy), or nullopt when they can.
  static std::optional<std::string> unavailable_reason();

  // Creates <root>/slo-test-<pid>-<random>. Throws std::runtime_error when that fails.
  KernelCgroup();
  ~KernelCgroup();
  KernelCgroup(const KernelCgroup&) = delete;
  KernelCgroup& operator=(const KernelCgroup&) = delete;

  bool v2() const { return v2_; }
  const std::string& root() const { return root_; }  // hierarchy root given to the library
  const std::string& base() const { return base_; }  // "slo-test-123-abcd", relative to root()
  // base() + "/" + sub ("" → base()).
  std::string rel(std::string_view sub) const;
  // Absolute directory of rel(sub) in the hierarchy of a v1 controller name ("cpu", "cpuset" …) or the v2 tree.
  std::string dir(std::string_view controller, std::string_view sub) const;
  bool has_controller(std::string_view controller) const;

  // Creates sub (and missing parents) below base().
  void mkdir(std::string_view sub);
  // Forks a child that joins rel(sub) in every hierarchy and then sleeps (or spins when busy). Returns its pid
  // once it is inside the cgroup.
  pid_t spawn(std::string_view sub, bool busy = false);
  // Kills every process spawned or found in the subtree.
  void kill_all();

  // Raw file helpers on dir(controller, sub)/file: errno of the failing call, 0 on success.
  int write_file(std::string_view controller, std::string_view sub, std::string_view file, std::string_view value) const;
  std::string read_file(std::string_view controller, std::string_view sub, std::string_view file) const;

 private:
  void cleanup();
  std::vector<std::string> hierarchy_dirs() const;  // distinct absolute hierarchy dirs (one on v2)

  std::string root_;
  bool v2_ = false;
  std::vector<std::pair<std::string, std::string>> v1_;  // controller name → absolute hierarchy dir
  std::string base_;
  std::vector<pid_t> pids_;
};

}  // namespace slo::test
