// From a share of the cache and of memory bandwidth (percentages, as in koordinator's resctrlQOS) to the schemata
// lines one control group gets on this machine.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cgroups/status.h"
#include "rdt/info.h"
#include "rdt/schemata.h"

namespace slo::rdt {

struct Allocation {
  unsigned cat_start_percent = 0;
  unsigned cat_end_percent = 100;
  unsigned mba_percent = 100;
};

// The MB value for `percent` in the resource's unit, or nullopt when percent cannot be expressed (MBps mode: the
// unit is an absolute rate that no percentage maps to; the group then keeps the kernel default, unlimited).
//   percent:   rounded UP to a multiple of bandwidth_gran (as the kernel does), at least min_bandwidth, at most 100.
//   amd_units: round(percent · 2048 / 100), 100 % → 2048 (= unlimited), at least max(min_bandwidth, 1).
std::optional<unsigned> mb_value(const MbResource& mb, unsigned percent);

struct BuiltSchemata {
  Schemata schemata;
  std::vector<std::string> notes;  // adjustments worth showing ("L3: 0%-0% widened to min_cbm_bits=2 ways")
};

// Every cache resource present (L3 or L3CODE+L3DATA, L2 or L2CODE+L2DATA) gets the CBM of the cat range on every
// cache id of the root schemata; MB gets mb_value() on every MB domain. Resources absent from info/ get no line.
// Fails naming the resource when the range is invalid for it.
cg::Result<BuiltSchemata> build_schemata(const Info& info, const Allocation& a);

}  // namespace slo::rdt
