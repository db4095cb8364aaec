#include "rdt/monitor.h"

#include <algorithm>
#include <charconv>

namespace slo::rdt {

std::optional<uint64_t> parse_mon_value(std::string_view text, bool* unavailable) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  if (unavailable) *unavailable = text == "Unavailable" || text == "Error";
  uint64_t v = 0;
  auto r = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || r.ec != std::errc{} || r.ptr != text.data() + text.size()) return std::nullopt;
  return v;
}

cg::Result<GroupSample> read_group_monitoring(const cg::DirFd& root, const std::string& group) {
  using R = cg::Result<GroupSample>;
  std::string base = group.empty() ? "mon_data" : group + "/mon_data";
  auto dir = root.open_dir(base);
  if (!dir.ok()) return R::fail(dir.status);
  auto names = dir.value.list(".", true);
  if (!names.ok()) return R::fail(names.status);
  GroupSample out;
  out.group = group;
  for (const auto& n : names.value) {
    if (n.rfind("mon_L3_", 0) != 0) continue;
    int id = 0;
    auto r = std::from_chars(n.data() + 7, n.data() + n.size(), id);
    if (r.ec != std::errc{} || r.ptr != n.data() + n.size()) continue;
    DomainSample d;
    d.domain = id;
    auto read_one = [&](const char* file, std::optional<uint64_t>& into) {
      auto t = dir.value.read(n + "/" + file);
      if (!t.ok()) return;  // feature absent on this CPU
      bool unavailable = false;
      into = parse_mon_value(t.value, &unavailable);
      if (unavailable) ++out.unavailable;
    };
    read_one("llc_occupancy", d.llc_occupancy);
    read_one("mbm_total_bytes", d.mbm_total_bytes);
    read_one("mbm_local_bytes", d.mbm_local_bytes);
    out.domains.push_back(d);
  }
  std::sort(out.domains.begin(), out.domains.end(),
            [](const DomainSample& a, const DomainSample& b) { return a.domain < b.domain; });
  return R::success(std::move(out));
}

}  // namespace slo::rdt
