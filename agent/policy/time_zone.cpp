#include "agent/policy/time_zone.h"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>

namespace slo::policy {
namespace {

int64_t be(const std::string& b, size_t off, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | static_cast<unsigned char>(b[off + static_cast<size_t>(i)]);
  if (n == 4) return static_cast<int32_t>(static_cast<uint32_t>(v));
  return static_cast<int64_t>(v);
}

bool valid_name(const std::string& n) {
  if (n.empty() || n.front() == '/' || n.size() > 128) return false;
  if (n.find("..") != std::string::npos) return false;
  return std::all_of(n.begin(), n.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '_' || c == '-' || c == '+';
  });
}

std::optional<int32_t> fixed_offset(const std::string& n) {
  if (n.size() != 6 || (n[0] != '+' && n[0] != '-') || n[3] != ':') return std::nullopt;
  int h = 0, m = 0;
  if (std::from_chars(n.data() + 1, n.data() + 3, h).ec != std::errc() ||
      std::from_chars(n.data() + 4, n.data() + 6, m).ec != std::errc() || h > 14 || m > 59)
    return std::nullopt;
  int32_t s = h * 3600 + m * 60;
  return n[0] == '-' ? -s : s;
}

}  // namespace

TimeZone TimeZone::utc() {
  TimeZone z;
  z.name_ = "UTC";
  return z;
}

std::optional<TimeZone> TimeZone::load(const std::string& name, const std::string& zoneinfo_root,
                                       std::string* error) {
  if (name.empty() || name == "UTC" || name == "Etc/UTC") return utc();
  if (auto off = fixed_offset(name)) {
    TimeZone z;
    z.name_ = name;
    z.initial_offset_ = *off;
    return z;
  }
  if (!valid_name(name)) {
    if (error) *error = "invalid time zone name '" + name + "'";
    return std::nullopt;
  }
  std::ifstream f(zoneinfo_root + "/" + name, std::ios::binary);
  if (!f) {
    if (error) *error = "unknown time zone '" + name + "' (no " + zoneinfo_root + "/" + name + ")";
    return std::nullopt;
  }
  std::stringstream ss;
  ss << f.rdbuf();
  auto z = from_tzif(name, ss.str());
  if (!z && error) *error = "time zone file for '" + name + "' is not a TZif file";
  return z;
}

std::optional<TimeZone> TimeZone::from_tzif(const std::string& name, const std::string& b) {
  // Header: magic(4) version(1) reserved(15) then six 32-bit counts.
  auto header = [&](size_t off, int64_t c[6]) {
    if (b.size() < off + 44 || b.compare(off, 4, "TZif") != 0) return false;
    for (int i = 0; i < 6; ++i) c[i] = be(b, off + 20 + static_cast<size_t>(i) * 4, 4);
    for (int i = 0; i < 6; ++i)
      if (c[i] < 0 || c[i] > 100000) return false;
    return true;
  };
  int64_t c[6];  // isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
  if (!header(0, c)) return std::nullopt;
  char version = b[4];
  size_t off = 44;
  int tsize = 4;
  if (version >= '2') {
    // Skip the v1 block; the v2 block that follows has 64-bit times.
    size_t v1 = static_cast<size_t>(c[3] * 5 + c[4] * 6 + c[5] + c[2] * 8 + c[1] + c[0]);
    off = 44 + v1;
    if (!header(off, c)) return std::nullopt;
    off += 44;
    tsize = 8;
  }
  size_t timecnt = static_cast<size_t>(c[3]), typecnt = static_cast<size_t>(c[4]);
  size_t need = timecnt * static_cast<size_t>(tsize) + timecnt + typecnt * 6;
  if (typecnt == 0 || b.size() < off + need) return std::nullopt;
  std::vector<int64_t> times(timecnt);
  for (size_t i = 0; i < timecnt; ++i) times[i] = be(b, off + i * static_cast<size_t>(tsize), tsize);
  size_t idx_off = off + timecnt * static_cast<size_t>(tsize);
  size_t type_off = idx_off + timecnt;
  std::vector<int32_t> type_offsets(typecnt);
  std::vector<bool> type_dst(typecnt);
  for (size_t i = 0; i < typecnt; ++i) {
    type_offsets[i] = static_cast<int32_t>(be(b, type_off + i * 6, 4));
    type_dst[i] = b[type_off + i * 6 + 4] != 0;
  }
  TimeZone z;
  z.name_ = name;
  z.initial_offset_ = type_offsets[0];
  for (size_t i = 0; i < typecnt; ++i)
    if (!type_dst[i]) {
      z.initial_offset_ = type_offsets[i];
      break;
    }
  for (size_t i = 0; i < timecnt; ++i) {
    auto t = static_cast<unsigned char>(b[idx_off + i]);
    if (t >= typecnt) return std::nullopt;
    if (i > 0 && times[i] < times[i - 1]) return std::nullopt;
    z.transitions_.push_back(times[i]);
    z.offsets_.push_back(type_offsets[t]);
  }
  return z;
}

int32_t TimeZone::offset_at(int64_t utc_seconds) const {
  auto it = std::upper_bound(transitions_.begin(), transitions_.end(), utc_seconds);
  if (it == transitions_.begin()) return initial_offset_;
  return offsets_[static_cast<size_t>(it - transitions_.begin() - 1)];
}

}  // namespace slo::policy
