#include "rdt/allocation.h"

#include "rdt/bitmask.h"

namespace slo::rdt {

std::optional<unsigned> mb_value(const MbResource& mb, unsigned percent) {
  if (percent > 100) percent = 100;
  switch (mb.unit) {
    case MbUnit::percent: {
      unsigned gran = mb.bandwidth_gran ? mb.bandwidth_gran : 1;
      unsigned v = (percent + gran - 1) / gran * gran;
      if (v < mb.min_bandwidth) v = mb.min_bandwidth;
      if (v > 100) v = 100;
      return v;
    }
    case MbUnit::amd_units: {
      unsigned v = (percent * 2048 + 50) / 100;
      unsigned floor = mb.min_bandwidth > 1 ? mb.min_bandwidth : 1;
      if (v < floor) v = floor;
      return v;
    }
    case MbUnit::mbps:
      return std::nullopt;
  }
  return std::nullopt;
}

cg::Result<BuiltSchemata> build_schemata(const Info& info, const Allocation& a) {
  using R = cg::Result<BuiltSchemata>;
  BuiltSchemata out;
  for (const auto& c : info.caches) {
    std::string bad = validate_range(c.rules, a.cat_start_percent, a.cat_end_percent);
    if (!bad.empty()) return R::fail(cg::Status::failure(c.name, c.name + ": " + bad, EINVAL));
    uint64_t mask = cbm_for_range(c.rules, a.cat_start_percent, a.cat_end_percent);
    std::string why = validate_cbm(mask, c.rules);
    if (!why.empty()) return R::fail(cg::Status::failure(c.name, c.name + ": computed " + why, EINVAL));
    unsigned ways = popcount(c.rules.cbm_mask);
    unsigned requested = (ways * a.cat_end_percent + 99) / 100 - ways * a.cat_start_percent / 100;
    if (popcount(mask) > requested)
      out.notes.push_back(c.name + ": " + std::to_string(a.cat_start_percent) + "%-" +
                          std::to_string(a.cat_end_percent) + "% widened to " + std::to_string(popcount(mask)) +
                          " ways (min_cbm_bits=" + std::to_string(c.rules.min_cbm_bits) + ")");
    auto& line = out.schemata.resources[c.name];
    for (int id : c.domains) line[id] = format_hex_mask(mask);
  }
  if (info.mb) {
    auto v = mb_value(*info.mb, a.mba_percent);
    if (!v) {
      out.notes.push_back("MB: resctrl is in MBps mode; mbaPercent is not applied (group keeps unlimited)");
    } else {
      if (info.mb->unit == MbUnit::percent && *v != a.mba_percent)
        out.notes.push_back("MB: " + std::to_string(a.mba_percent) + "% rounded to " + std::to_string(*v) +
                            " (bandwidth_gran=" + std::to_string(info.mb->bandwidth_gran) +
                            ", min_bandwidth=" + std::to_string(info.mb->min_bandwidth) + ")");
      auto& line = out.schemata.resources["MB"];
      for (int id : info.mb->domains) line[id] = std::to_string(*v);
    }
  }
  return R::success(std::move(out));
}

}  // namespace slo::rdt
