#include "cgroups/stats.h"

#include <limits>

#include "cgroups/knob.h"
#include "cgroups/text_util.h"

namespace slo::cg {
namespace {

uint64_t usec_to_ns(uint64_t us) {
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  return us > kMax / 1000 ? kMax : us * 1000;  // saturate: a fuzzed or corrupt value must not wrap
}

// Splits "key=value"; false when there is no '=' or either side is empty.
bool split_kv(std::string_view tok, std::string_view& key, std::string_view& val) {
  size_t eq = tok.find('=');
  if (eq == std::string_view::npos || eq == 0 || eq + 1 == tok.size()) return false;
  key = tok.substr(0, eq);
  val = tok.substr(eq + 1);
  return true;
}

}  // namespace

std::map<std::string, uint64_t> parse_flat_keyed(std::string_view text) {
  std::map<std::string, uint64_t> out;
  for_each_flat_keyed(text, [&](std::string_view k, uint64_t v) { out[std::string(k)] = v; });
  return out;
}

std::optional<CpuStat> parse_cpu_stat(std::string_view text) {
  // The last occurrence of a key counts, as in parse_flat_keyed; v2's µs keys win over v1's ns keys when a file
  // has both (none does; the fuzzer writes such files).
  std::optional<uint64_t> periods, throttled, throttled_time, throttled_usec, bursts, burst_time, burst_usec, usage;
  for_each_flat_keyed(text, [&](std::string_view k, uint64_t v) {
    if (k == "nr_periods") periods = v;
    else if (k == "nr_throttled") throttled = v;
    else if (k == "throttled_time") throttled_time = v;
    else if (k == "throttled_usec") throttled_usec = v;
    else if (k == "nr_bursts") bursts = v;
    else if (k == "burst_time") burst_time = v;
    else if (k == "burst_usec") burst_usec = v;
    else if (k == "usage_usec") usage = v;
  });
  if (!periods && !throttled && !throttled_time && !throttled_usec && !bursts && !burst_time && !burst_usec && !usage)
    return std::nullopt;
  CpuStat s;
  s.nr_periods = periods.value_or(0);
  s.nr_throttled = throttled.value_or(0);
  if (throttled_time) s.throttled_ns = *throttled_time;
  if (throttled_usec) s.throttled_ns = usec_to_ns(*throttled_usec);
  s.nr_bursts = bursts.value_or(0);
  if (burst_time) s.burst_ns = *burst_time;
  if (burst_usec) s.burst_ns = usec_to_ns(*burst_usec);
  if (usage) s.usage_ns = usec_to_ns(*usage);
  return s;
}

std::optional<int64_t> parse_int_file(std::string_view text, bool allow_max) { return parse_i64(text, allow_max); }

std::optional<Psi> parse_psi(std::string_view text) {
  Psi psi;
  bool have_some = false;
  for (auto line : split_lines(text)) {
    auto f = split_ws(line);
    if (f.size() < 5 || (f[0] != "some" && f[0] != "full")) return std::nullopt;
    PsiLine pl;
    int seen = 0;
    for (size_t i = 1; i < f.size(); ++i) {
      std::string_view k, v;
      if (!split_kv(f[i], k, v)) return std::nullopt;
      if (k == "total") {
        auto t = parse_u64(v);
        if (!t) return std::nullopt;
        pl.total_us = *t;
        seen |= 8;
        continue;
      }
      auto d = parse_double(v);
      if (!d) return std::nullopt;
      if (k == "avg10") pl.avg10 = *d, seen |= 1;
      else if (k == "avg60") pl.avg60 = *d, seen |= 2;
      else if (k == "avg300") pl.avg300 = *d, seen |= 4;
    }
    if (seen != 15) return std::nullopt;
    if (f[0] == "some") {
      psi.some = pl;
      have_some = true;
    } else {
      psi.full = pl;
    }
  }
  if (!have_some) return std::nullopt;
  return psi;
}

// Kernels print devices without statistics as bare "MAJ:MIN" tokens, sometimes on the same line as the next device
// ("7:7 7:6 rbytes=…"): keys belong to the last device token before them, and key-less devices are dropped.
std::vector<IoStatEntry> parse_io_stat(std::string_view text) {
  std::vector<IoStatEntry> out;
  IoStatEntry cur;
  bool have = false;
  auto flush = [&] {
    if (have && !cur.fields.empty()) out.push_back(std::move(cur));
    cur = IoStatEntry{};
    have = false;
  };
  for (auto tok : split_ws(text)) {
    if (valid_device(tok)) {
      flush();
      cur.device = std::string(tok);
      have = true;
      continue;
    }
    std::string_view k, v;
    if (!have || !split_kv(tok, k, v)) continue;
    if (auto n = parse_u64(v)) cur.fields[std::string(k)] = *n;
  }
  flush();
  return out;
}

std::map<std::string, int64_t> parse_blkio_throttle(std::string_view text) {
  std::map<std::string, int64_t> out;
  for (auto line : split_lines(text)) {
    auto f = split_ws(line);
    if (f.size() != 2 || !valid_device(f[0])) continue;
    auto v = parse_i64(f[1], false);
    if (!v || *v < 0) continue;
    out[std::string(f[0])] = *v;
  }
  return out;
}

std::vector<IoMaxEntry> parse_io_max(std::string_view text) {
  std::vector<IoMaxEntry> out;
  for (auto line : split_lines(text)) {
    auto f = split_ws(line);
    if (f.empty() || !valid_device(f[0])) continue;
    IoMaxEntry e;
    e.device = std::string(f[0]);
    for (size_t i = 1; i < f.size(); ++i) {
      std::string_view k, v;
      if (!split_kv(f[i], k, v)) continue;
      auto n = parse_i64(v, /*allow_max=*/true);
      if (!n || *n < -1) continue;
      if (k == "rbps") e.rbps = *n;
      else if (k == "wbps") e.wbps = *n;
      else if (k == "riops") e.riops = *n;
      else if (k == "wiops") e.wiops = *n;
    }
    out.push_back(std::move(e));
  }
  return out;
}

std::vector<ProcCgroupLine> parse_proc_cgroup(std::string_view text) {
  std::vector<ProcCgroupLine> out;
  for (auto line : split_lines(text)) {
    size_t c1 = line.find(':');
    if (c1 == std::string_view::npos) continue;
    size_t c2 = line.find(':', c1 + 1);
    if (c2 == std::string_view::npos) continue;
    auto id = parse_i64(line.substr(0, c1), false);
    if (!id || *id < 0 || *id > std::numeric_limits<int>::max()) continue;
    std::string_view path = line.substr(c2 + 1);  // a path may itself contain ':'
    while (!path.empty() && (path.back() == '\r' || path.back() == ' ')) path.remove_suffix(1);
    if (path.empty() || path.front() != '/') continue;
    ProcCgroupLine p;
    p.hierarchy_id = static_cast<int>(*id);
    std::string_view ctrls = line.substr(c1 + 1, c2 - c1 - 1);
    size_t pos = 0;
    while (pos < ctrls.size()) {
      size_t comma = ctrls.find(',', pos);
      std::string_view c = ctrls.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
      if (!c.empty()) p.controllers.emplace_back(c);
      if (comma == std::string_view::npos) break;
      pos = comma + 1;
    }
    p.path = std::string(path);
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace slo::cg
