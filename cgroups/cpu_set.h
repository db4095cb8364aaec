// A set of CPU (or NUMA node) ids with the kernel's list syntax ("0-3,8,10-11"), used for cpuset.cpus/mems,
// sysfs cpulists and resctrl/topology code alike.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace slo::cg {

class CpuSet {
 public:
  CpuSet() = default;
  static CpuSet of(std::initializer_list<int> ids);
  static CpuSet range(int first, int last);  // inclusive
  // Parses "0-3,8" (whitespace/newline tolerant, "" = empty). nullopt on syntax errors or ids > max_id.
  static std::optional<CpuSet> parse(std::string_view text, int max_id = 8191);

  void add(int id);
  void remove(int id);
  bool contains(int id) const;
  size_t size() const;
  bool empty() const { return size() == 0; }
  std::vector<int> ids() const;
  int first() const;  // -1 when empty

  CpuSet operator|(const CpuSet& o) const;
  CpuSet operator&(const CpuSet& o) const;
  CpuSet operator-(const CpuSet& o) const;
  bool operator==(const CpuSet& o) const;
  bool is_subset_of(const CpuSet& o) const { return (*this - o).empty(); }

  std::string to_string() const;  // canonical "0-3,8"

 private:
  void normalize();
  std::vector<uint64_t> bits_;
};

}  // namespace slo::cg
