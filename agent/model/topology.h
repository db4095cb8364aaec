// CPU topology and memory of the node from sysfs (--sysfs-root injectable).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "cgroups/cpu_set.h"
#include "cgroups/status.h"

namespace slo::model {

struct CpuInfo {
  int id = 0;
  int package = 0;   // physical_package_id
  int die = 0;       // die_id (0 where absent)
  int core = 0;      // core_id (unique only within a package)
  int numa = 0;      // from nodeN/cpulist; 0 when the host has no NUMA info, -1 when no present node lists it
  int l3 = -1;       // L3 domain id: cache/index*/level==3 id, or the first CPU of shared_cpu_list; -1 if none
  int core_key = 0;  // unique physical-core id across the node (first CPU of thread_siblings_list)
  bool online = true;
};

struct NumaNode {
  int id = 0;
  cg::CpuSet cpus;
  int64_t memory_bytes = 0;  // MemTotal from nodeN/meminfo
};

struct Topology {
  std::vector<CpuInfo> cpus;  // online CPUs with full info, sorted by id
  cg::CpuSet online;
  cg::CpuSet offline;
  std::vector<NumaNode> numa_nodes;
  int64_t memory_bytes = 0;  // sum of NUMA memory, or 0 when unknown (callers fall back to /proc/meminfo)

  // sysfs_root is the sysfs mount ("/sys"); a directory that contains sys/ (a fixture tree) is accepted too.
  static cg::Result<Topology> read(const std::string& sysfs_root);

  const CpuInfo* cpu(int id) const;
  cg::CpuSet siblings_of(int cpu) const;  // SMT siblings including cpu
  cg::CpuSet l3_cpus(int l3) const;
  cg::CpuSet numa_cpus(int node) const;
  std::map<int, cg::CpuSet> cores() const;    // core_key → CPUs
  std::map<int, cg::CpuSet> l3_domains() const;
  int threads_per_core() const;  // the most threads any core has (2 on a hybrid P+E host)
  std::map<int, cg::CpuSet> packages() const;  // physical_package_id → CPUs
  cg::CpuSet all() const;                      // every CPU in `cpus`
};

void to_json(nlohmann::json& j, const Topology& t);

}  // namespace slo::model
