// What the resctrl filesystem offers, read from info/ and the root group's schemata, plus the CPU vendor (which
// fixes the MB unit). Pure data once read; everything below takes an already-opened root.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cgroups/safe_dir.h"
#include "cgroups/status.h"
#include "rdt/bitmask.h"
#include "rdt/schemata.h"

namespace slo::rdt {

enum class Vendor { unknown, intel, amd };
std::string_view to_string(Vendor v);
// vendor_id of the first processor in a /proc/cpuinfo text (AuthenticAMD and HygonGenuine → amd).
Vendor vendor_from_cpuinfo(std::string_view cpuinfo);

// MB unit: percent of peak bandwidth (Intel), AMD's absolute units (2048 = unlimited), or MBps when resctrl is
// mounted with -o mba_MBps (the kernel's software controller; root default 4294967295).
enum class MbUnit { percent, amd_units, mbps };
std::string_view to_string(MbUnit u);

struct CacheResource {
  std::string name;             // L3, L3CODE, L3DATA, L2, L2CODE, L2DATA
  CbmRules rules;               // cbm_mask, min_cbm_bits, sparse_masks (absent file → false)
  uint64_t shareable_bits = 0;  // ways shared with other agents (I/O, GPU): usable but not exclusive
  unsigned num_closids = 0;
  std::vector<int> domains;     // cache ids from the root schemata, ascending
};

struct MbResource {
  unsigned bandwidth_gran = 10;
  unsigned min_bandwidth = 10;
  bool delay_linear = true;
  unsigned num_closids = 0;
  std::string thread_throttle_mode;  // "max" / "per-thread"; empty when the kernel does not say
  MbUnit unit = MbUnit::percent;
  std::string unit_source;           // how the unit was decided (for inspect / logs)
  std::vector<int> domains;
};

struct MonResource {
  unsigned num_rmids = 0;
  std::vector<std::string> features;  // llc_occupancy, mbm_total_bytes, mbm_local_bytes ...
  uint64_t max_threshold_occupancy = 0;
};

struct Info {
  std::vector<CacheResource> caches;  // in schemata order: L3 / L3CODE / L3DATA / L2 / L2CODE / L2DATA
  std::optional<MbResource> mb;
  std::optional<MonResource> l3_mon;
  Vendor vendor = Vendor::unknown;
  unsigned usable_closids = 0;  // minimum num_closids over the allocation resources (root group included)
  bool l3_cdp = false, l2_cdp = false;
  Schemata root_schemata;

  const CacheResource* cache(const std::string& name) const;
  bool has_allocation() const { return !caches.empty() || mb.has_value(); }
};

struct ReadInfoOptions {
  std::string proc_root = "/proc";   // cpuinfo (vendor) and mounts (mba_MBps)
  std::string resctrl_path;          // mount point to look for in <proc_root>/mounts; empty → root.label()
};

// Reads info/ and the root schemata below `root`. Fails (naming the file) when info/ or schemata is unreadable
// or a present resource has malformed values; a missing optional file uses the kernel default.
cg::Result<Info> read_info(const cg::DirFd& root, const ReadInfoOptions& opts);

// Decides the MB unit. Order: a resctrl line for resctrl_path in <proc_root>/mounts (option mba_MBps → mbps);
// otherwise, when mounts has no such line (a fixture copy), the root schemata: an MB value of 4294967295 is the
// MBps-mode default → mbps; otherwise AMD vendor → amd_units, else percent.
MbUnit decide_mb_unit(const std::string& mounts_text, const std::string& resctrl_path, const Schemata& root_schemata,
                      Vendor vendor, std::string* source);

}  // namespace slo::rdt
