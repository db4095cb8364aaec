// The `tracked` hash map (cgroup id → value) and the `tracked_count` bss counter that both scheduler programs share
// by layout (cgroup_attr.bpf.h). Keeps the counter equal to the number of entries so the programs can return early
// while nothing is tracked.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace slo::bpf::detail {

class TrackedMap {
 public:
  TrackedMap() = default;
  // map_fd: the loaded `tracked` map; count: the mmapped bss tracked_count of the same object.
  TrackedMap(int map_fd, volatile uint32_t* count) : fd_(map_fd), count_(count) {}

  bool put(uint64_t cgroup_id, uint32_t value, std::string* error);
  void erase(uint64_t cgroup_id);
  bool contains(uint64_t cgroup_id) const { return values_.count(cgroup_id) != 0; }
  const uint32_t* find(uint64_t cgroup_id) const;
  size_t size() const { return values_.size(); }

 private:
  int fd_ = -1;
  volatile uint32_t* count_ = nullptr;
  std::map<uint64_t, uint32_t> values_;
};

}  // namespace slo::bpf::detail
