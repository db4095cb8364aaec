#include "cgroups/text_util.h"

#include <charconv>
#include <cerrno>
#include <cstdlib>
#include <string>

namespace slo::cg {

std::string_view trim(std::string_view v) {
  while (!v.empty() && is_space(v.front())) v.remove_prefix(1);
  while (!v.empty() && is_space(v.back())) v.remove_suffix(1);
  return v;
}

std::vector<std::string_view> split_ws(std::string_view v) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < v.size()) {
    while (i < v.size() && is_space(v[i])) ++i;
    size_t start = i;
    while (i < v.size() && !is_space(v[i])) ++i;
    if (i > start) out.push_back(v.substr(start, i - start));
  }
  return out;
}

std::vector<std::string_view> split_lines(std::string_view v) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  while (pos < v.size()) {
    size_t nl = v.find('\n', pos);
    std::string_view line = v.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!trim(line).empty()) out.push_back(line);
    if (nl == std::string_view::npos) break;
    pos = nl + 1;
  }
  return out;
}

std::optional<int64_t> parse_i64(std::string_view v, bool allow_max) {
  v = trim(v);
  if (allow_max && v == "max") return -1;
  if (v.empty()) return std::nullopt;
  int64_t out = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc() || p != v.data() + v.size()) return std::nullopt;
  return out;
}

std::optional<uint64_t> parse_u64(std::string_view v) {
  v = trim(v);
  if (v.empty() || v.front() == '-' || v.front() == '+') return std::nullopt;
  uint64_t out = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc() || p != v.data() + v.size()) return std::nullopt;
  return out;
}

std::optional<double> parse_double(std::string_view v) {
  v = trim(v);
  if (v.empty() || v.size() > 64) return std::nullopt;
  // strtod needs a terminated buffer; PSI averages are short ("12.34").
  std::string buf(v);
  char* end = nullptr;
  errno = 0;
  double d = std::strtod(buf.c_str(), &end);
  if (end != buf.c_str() + buf.size() || errno == ERANGE) return std::nullopt;
  if (!(d >= 0.0 && d <= 1e12)) return std::nullopt;  // also rejects NaN
  return d;
}

}  // namespace slo::cg
