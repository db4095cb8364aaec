#include "bpf/tracked_map.h"

#include <bpf/bpf.h>

#include <cerrno>
#include <cstring>

namespace slo::bpf::detail {

bool TrackedMap::put(uint64_t cgroup_id, uint32_t value, std::string* error) {
  if (bpf_map_update_elem(fd_, &cgroup_id, &value, BPF_ANY) != 0) {
    int e = errno;
    if (error)
      *error = "tracked map update for cgroup id " + std::to_string(cgroup_id) + ": " + std::strerror(e) +
               (e == E2BIG ? " (map full)" : "");
    return false;
  }
  values_[cgroup_id] = value;
  *count_ = static_cast<uint32_t>(values_.size());
  return true;
}

void TrackedMap::erase(uint64_t cgroup_id) {
  if (values_.erase(cgroup_id) == 0) return;
  bpf_map_delete_elem(fd_, &cgroup_id);
  *count_ = static_cast<uint32_t>(values_.size());
}

const uint32_t* TrackedMap::find(uint64_t cgroup_id) const {
  auto it = values_.find(cgroup_id);
  return it == values_.end() ? nullptr : &it->second;
}

}  // namespace slo::bpf::detail
