#include "rdt/schemata.h"

#include <algorithm>
#include <charconv>
#include <optional>

#include "rdt/bitmask.h"

namespace slo::rdt {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::optional<int> parse_int(std::string_view s) {
  int v = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc{} || r.ptr != s.data() + s.size() || v < 0) return std::nullopt;
  return v;
}

std::optional<uint64_t> parse_u64(std::string_view s) {
  uint64_t v = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc{} || r.ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

int resource_rank(const std::string& r) {
  static const char* order[] = {"L3", "L3CODE", "L3DATA", "L2", "L2CODE", "L2DATA", "MB"};
  for (int i = 0; i < 7; ++i)
    if (r == order[i]) return i;
  return 100;
}

bool same_value(const std::string& res, const std::string& a, const std::string& b) {
  if (is_mb_resource(res)) {
    auto x = parse_u64(trim(a)), y = parse_u64(trim(b));
    return x && y && *x == *y;
  }
  auto x = parse_hex_mask(a), y = parse_hex_mask(b);
  return x && y && *x == *y;
}

}  // namespace

bool is_mb_resource(std::string_view res) { return res == "MB" || res == "SMBA"; }

std::vector<int> Schemata::domains(const std::string& res) const {
  std::vector<int> out;
  auto it = resources.find(res);
  if (it == resources.end()) return out;
  for (const auto& [id, v] : it->second) out.push_back(id);
  return out;
}

SchemataParse parse_schemata(std::string_view text) {
  SchemataParse out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view line = trim(text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos));
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    if (line.empty()) continue;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      out.errors.push_back("no resource name in line '" + std::string(line) + "'");
      continue;
    }
    std::string res(trim(line.substr(0, colon)));
    std::map<int, std::string> values;
    std::string_view rest = line.substr(colon + 1);
    bool bad = false;
    size_t p = 0;
    while (p <= rest.size()) {
      size_t semi = rest.find(';', p);
      std::string_view item = trim(rest.substr(p, semi == std::string_view::npos ? std::string_view::npos : semi - p));
      p = semi == std::string_view::npos ? rest.size() + 1 : semi + 1;
      if (item.empty()) continue;
      size_t eq = item.find('=');
      std::optional<int> id = eq == std::string_view::npos ? std::nullopt : parse_int(trim(item.substr(0, eq)));
      std::string_view val = eq == std::string_view::npos ? std::string_view{} : trim(item.substr(eq + 1));
      if (!id || val.empty()) {
        out.errors.push_back(res + ": malformed entry '" + std::string(item) + "'");
        bad = true;
        break;
      }
      values[*id] = std::string(val);
    }
    if (!bad) out.schemata.resources[res] = std::move(values);
  }
  return out;
}

std::string render_line(const std::string& res, const std::map<int, std::string>& values) {
  std::string line = res + ":";
  bool first = true;
  for (const auto& [id, v] : values) {
    if (!first) line += ";";
    first = false;
    line += std::to_string(id) + "=" + v;
  }
  return line;
}

std::string render_schemata(const Schemata& s) {
  std::vector<const std::string*> names;
  for (const auto& [name, v] : s.resources) names.push_back(&name);
  std::stable_sort(names.begin(), names.end(),
                   [](const std::string* a, const std::string* b) { return resource_rank(*a) < resource_rank(*b); });
  std::string out;
  for (const auto* n : names) out += render_line(*n, s.resources.at(*n)) + "\n";
  return out;
}

bool schemata_satisfied(const Schemata& current, const Schemata& desired) {
  for (const auto& [res, values] : desired.resources) {
    auto it = current.resources.find(res);
    if (it == current.resources.end()) return false;
    for (const auto& [id, v] : values) {
      auto jt = it->second.find(id);
      if (jt == it->second.end() || !same_value(res, jt->second, v)) return false;
    }
  }
  return true;
}

}  // namespace slo::rdt
