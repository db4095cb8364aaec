#include "agent/model/quantity.h"

#include <charconv>
#include <limits>
#include <string>

namespace slo::model {
namespace {

using u128 = unsigned __int128;
constexpr u128 kMax = static_cast<u128>(std::numeric_limits<int64_t>::max());

// A quantity as mantissa × 10^exp10 × 2^exp2 (Kubernetes' "<sign><number><suffix>" grammar).
struct Decoded {
  uint64_t mantissa = 0;
  int exp10 = 0;
  int exp2 = 0;
};

std::optional<Decoded> decode(std::string_view q) {
  if (q.empty()) return std::nullopt;
  size_t i = 0;
  if (q[0] == '+') ++i;
  if (i < q.size() && q[i] == '-') return std::nullopt;  // negative requests are invalid for us
  Decoded d;
  int sig_digits = 0;
  bool any_digit = false, seen_point = false;
  for (; i < q.size(); ++i) {
    char c = q[i];
    if (c == '.') {
      if (seen_point) return std::nullopt;
      seen_point = true;
      continue;
    }
    if (c < '0' || c > '9') break;
    any_digit = true;
    if (d.mantissa == 0 && c == '0') {
      if (seen_point) --d.exp10;
      continue;
    }
    // Beyond 19 significant digits (what a uint64 holds) the precision is irrelevant for CPU and memory; drop
    // them rounding up once, so a request is never under-counted.
    if (sig_digits >= 19) {
      if (!seen_point) ++d.exp10;
      if (c != '0' && sig_digits == 19) {
        d.mantissa += 1;
        sig_digits = 20;
      }
      continue;
    }
    d.mantissa = d.mantissa * 10 + static_cast<uint64_t>(c - '0');
    ++sig_digits;
    if (seen_point) --d.exp10;
  }
  if (!any_digit) return std::nullopt;
  std::string_view suffix = q.substr(i);
  if (suffix.empty()) return d;
  if (suffix.size() == 2 && suffix[1] == 'i') {
    static constexpr std::string_view kBin = "KMGTPE";
    size_t k = kBin.find(suffix[0]);
    if (k == std::string_view::npos) return std::nullopt;
    d.exp2 = 10 * static_cast<int>(k + 1);
    return d;
  }
  if (suffix.size() == 1) {
    switch (suffix[0]) {
      case 'n': d.exp10 -= 9; return d;
      case 'u': d.exp10 -= 6; return d;
      case 'm': d.exp10 -= 3; return d;
      case 'k': d.exp10 += 3; return d;
      case 'M': d.exp10 += 6; return d;
      case 'G': d.exp10 += 9; return d;
      case 'T': d.exp10 += 12; return d;
      case 'P': d.exp10 += 15; return d;
      case 'E': d.exp10 += 18; return d;
      default: return std::nullopt;
    }
  }
  if (suffix[0] == 'e' || suffix[0] == 'E') {
    std::string_view num = suffix.substr(1);
    if (!num.empty() && num[0] == '+') num.remove_prefix(1);
    int e = 0;
    auto [p, ec] = std::from_chars(num.data(), num.data() + num.size(), e);
    if (num.empty() || ec != std::errc() || p != num.data() + num.size() || e > 400 || e < -400)
      return std::nullopt;
    d.exp10 += e;
    return d;
  }
  return std::nullopt;
}

// ceil(value × 10^scale10) as int64, nullopt on overflow.
std::optional<int64_t> to_int(const Decoded& d, int scale10) {
  if (d.mantissa == 0) return 0;
  u128 num = d.mantissa;
  for (int k = 0; k < d.exp2; ++k) {
    num <<= 1;
    if (num > (static_cast<u128>(1) << 126)) return std::nullopt;  // beyond int64 after any decimal division
  }
  int e = d.exp10 + scale10;
  if (e >= 0) {
    for (int k = 0; k < e; ++k) {
      num *= 10;
      if (num > kMax) return std::nullopt;
    }
    if (num > kMax) return std::nullopt;
    return static_cast<int64_t>(num);
  }
  if (-e > 38) return 1;  // a positive amount smaller than one unit rounds up to one
  u128 den = 1;
  for (int k = 0; k < -e; ++k) den *= 10;
  u128 r = num / den + (num % den != 0 ? 1 : 0);
  if (r > kMax) return std::nullopt;
  return static_cast<int64_t>(r);
}

}  // namespace

std::optional<int64_t> parse_cpu_millis(std::string_view q) {
  auto d = decode(q);
  if (!d) return std::nullopt;
  return to_int(*d, 3);
}

std::optional<int64_t> parse_bytes(std::string_view q) {
  auto d = decode(q);
  if (!d) return std::nullopt;
  return to_int(*d, 0);
}

}  // namespace slo::model
