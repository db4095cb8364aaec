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

}  // namespace slo::cg
