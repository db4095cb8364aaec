// Identity of a cgroup as the BPF programs see it: the kernfs node id, which is the inode number of the cgroup's
// directory. Registering a pod therefore needs only a stat() of its cgroup directory, no BPF.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace slo::bpf {

// Inode of `dir` (follows symlinks such as /sys/fs/cgroup/cpu → cpu,cpuacct). nullopt when it does not exist or is
// not a directory; *err gets errno (ENOENT = gone) when given.
std::optional<uint64_t> cgroup_id_of(const std::string& dir, int* err = nullptr);

}  // namespace slo::bpf
