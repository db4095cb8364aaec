// Small text helpers shared by the cgroup parsers (internal to cgroups/). All bounds-checked: the parsers that use
// them are fuzzed.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace slo::cg {

inline bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

std::string_view trim(std::string_view v);
// Splits on runs of whitespace; no empty tokens.
std::vector<std::string_view> split_ws(std::string_view v);
// Splits into lines on '\n' (a trailing '\r' is dropped); empty lines kept out.
std::vector<std::string_view> split_lines(std::string_view v);
// Whole-token decimal integers. "max" → -1 when allow_max. No sign for u64.
std::optional<int64_t> parse_i64(std::string_view v, bool allow_max);
std::optional<uint64_t> parse_u64(std::string_view v);
std::optional<double> parse_double(std::string_view v);

// Calls f(key, value) for every "key value" line (exactly two tokens, the value a u64), in file order, without
// allocating: cpu.stat is parsed on every tick for every hot cgroup.
template <class F>
void for_each_flat_keyed(std::string_view text, F&& f) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    std::string_view tok[2];
    int n = 0;
    for (size_t i = 0; i < line.size() && n <= 2;) {
      while (i < line.size() && is_space(line[i])) ++i;
      size_t start = i;
      while (i < line.size() && !is_space(line[i])) ++i;
      if (i == start) continue;
      if (n < 2) tok[n] = line.substr(start, i - start);
      ++n;
    }
    if (n != 2) continue;
    if (auto v = parse_u64(tok[1])) f(tok[0], *v);
  }
}

}  // namespace slo::cg
