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
  for (auto line : split_lines(text)) {
    auto f = split_ws(line);
    if (f.size() != 2) continue;
    auto v = parse_u64(f[1]);
    if (!v) continue;
    out[std::string(f[0])] = *v;
  }
  return out;
}

std::optional<CpuStat> parse_cpu_stat(std::string_view text) {
  auto kv = parse_flat_keyed(text);
  CpuStat s;
  bool any = false;
  auto take = [&](const char* key, uint64_t& dst, bool usec) {
    auto it = kv.find(key);
    if (it == kv.end()) return;
    dst = usec ? usec_to_ns(it->second) : it->second;
    any = true;
  };
  take("nr_periods", s.nr_periods, false);
  take("nr_throttled", s.nr_throttled, false);
  take("throttled_time", s.throttled_ns, false);  // v1: ns
  take("throttled_usec", s.throttled_ns, true);   // v2: µs
  take("nr_bursts", s.nr_bursts, false);
  take("burst_time", s.burst_ns, false);
  take("burst_usec", s.burst_ns, true);
  if (auto it = kv.find("usage_usec"); it != kv.end()) {
    s.usage_ns = usec_to_ns(it->second);
    any = true;
  }
  if (!any) return std::nullopt;
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
