#include "rdt/bitmask.h"

#include <bit>

namespace slo::rdt {

std::optional<uint64_t> parse_hex_mask(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\n')) text.remove_suffix(1);
  if (text.size() >= 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) text.remove_prefix(2);
  if (text.empty()) return std::nullopt;
  // Leading zeros are common ("00fff"); only significant digits count towards the 64-bit limit.
  while (text.size() > 1 && text.front() == '0') text.remove_prefix(1);
  if (text.size() > 16) return std::nullopt;
  uint64_t v = 0;
  for (char c : text) {
    unsigned d;
    if (c >= '0' && c <= '9')
      d = static_cast<unsigned>(c - '0');
    else if (c >= 'a' && c <= 'f')
      d = static_cast<unsigned>(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F')
      d = static_cast<unsigned>(c - 'A' + 10);
    else
      return std::nullopt;
    v = (v << 4) | d;
  }
  return v;
}

std::string format_hex_mask(uint64_t mask) {
  static const char* digits = "0123456789abcdef";
  if (mask == 0) return "0";
  std::string out;
  while (mask) {
    out.insert(out.begin(), digits[mask & 0xf]);
    mask >>= 4;
  }
  return out;
}

unsigned popcount(uint64_t v) { return static_cast<unsigned>(std::popcount(v)); }

bool is_contiguous(uint64_t v) {
  if (v == 0) return true;
  uint64_t shifted = v >> std::countr_zero(v);
  return (shifted & (shifted + 1)) == 0;
}

std::string validate_cbm(uint64_t mask, const CbmRules& rules) {
  std::string m = "mask 0x" + format_hex_mask(mask);
  if (mask == 0) return m + " is empty";
  if ((mask & ~rules.cbm_mask) != 0)
    return m + " has bits outside cbm_mask 0x" + format_hex_mask(rules.cbm_mask);
  if (popcount(mask) < rules.min_cbm_bits)
    return m + " has fewer than min_cbm_bits=" + std::to_string(rules.min_cbm_bits) + " bits";
  if (!rules.sparse_masks && !is_contiguous(mask)) return m + " is not contiguous and sparse_masks is 0";
  return {};
}

std::string validate_range(const CbmRules& rules, unsigned start_percent, unsigned end_percent) {
  if (start_percent > 100 || end_percent > 100) return "percentages must be within 0..100";
  if (start_percent > end_percent) return "start percent is above end percent";
  if (rules.cbm_mask == 0) return "resource has an empty cbm_mask";
  unsigned ways = popcount(rules.cbm_mask);
  if (rules.min_cbm_bits > ways)
    return "min_cbm_bits=" + std::to_string(rules.min_cbm_bits) + " exceeds the " + std::to_string(ways) +
           " ways of cbm_mask";
  return {};
}

uint64_t cbm_for_range(const CbmRules& rules, unsigned start_percent, unsigned end_percent) {
  if (!validate_range(rules, start_percent, end_percent).empty()) return rules.cbm_mask;
  // Usable ways: the kernel's cbm_mask is one contiguous run starting at bit 0 on every CPU we know, but count from
  // its lowest bit and cap at its run length so that an odd mask still yields something inside it.
  unsigned base = static_cast<unsigned>(std::countr_zero(rules.cbm_mask));
  uint64_t run = rules.cbm_mask >> base;
  unsigned ways = static_cast<unsigned>(std::countr_one(run));
  unsigned min_bits = rules.min_cbm_bits == 0 ? 1 : rules.min_cbm_bits;
  if (min_bits > ways) return rules.cbm_mask;

  unsigned lo = ways * start_percent / 100;                 // floor
  unsigned hi = (ways * end_percent + 99) / 100;            // ceil
  if (hi > ways) hi = ways;
  if (lo > hi) lo = hi;
  if (hi - lo < min_bits) {
    hi = lo + min_bits;
    if (hi > ways) {
      hi = ways;
      lo = ways - min_bits;
    }
  }
  unsigned width = hi - lo;
  uint64_t bits = width >= 64 ? ~uint64_t{0} : ((uint64_t{1} << width) - 1);
  return bits << (lo + base);
}

}  // namespace slo::rdt
