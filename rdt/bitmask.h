// Cache bitmasks (CBMs) for CAT: parsing the kernel's hex spelling, validating a mask against one resource's rules,
// and turning a percentage range of the cache into a mask the hardware accepts.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace slo::rdt {

// The rules of one cache resource that a mask must satisfy (from info/<RES>/).
struct CbmRules {
  uint64_t cbm_mask = 0;       // all usable bits, e.g. 0xfffff
  unsigned min_cbm_bits = 1;   // fewest set bits the kernel accepts
  bool sparse_masks = false;   // true: non-contiguous masks allowed (info/<RES>/sparse_masks = 1)
};

// "fffff" / "0x00fff" / "  ff" → value; nullopt on anything that is not hex or is wider than 64 bits.
std::optional<uint64_t> parse_hex_mask(std::string_view text);
// Lower-case hex without leading zeros or 0x ("fffff"); "0" for 0.
std::string format_hex_mask(uint64_t mask);

unsigned popcount(uint64_t v);
// True when the set bits of v form one run (0 counts as contiguous).
bool is_contiguous(uint64_t v);

// Empty string when `mask` is acceptable under `rules`, else why not ("mask 0x5 is not contiguous ...").
std::string validate_cbm(uint64_t mask, const CbmRules& rules);

// The mask covering [start_percent, end_percent] of the cache ways in rules.cbm_mask.
// Ways are counted from the lowest usable bit: bit lo = floor(n·start/100), hi = ceil(n·end/100) (exclusive).
// Ranges narrower than min_cbm_bits (including 0 %–0 % and 100 %–100 %) are widened: first upwards, then
// downwards when the top is reached, so the result always satisfies the rules. The result is contiguous
// (contiguous masks are valid with or without sparse_masks). Preconditions are checked by the caller via
// validate_range(); on invalid input the full mask is returned.
uint64_t cbm_for_range(const CbmRules& rules, unsigned start_percent, unsigned end_percent);
// Empty when 0 <= start <= end <= 100 and the resource can hold min_cbm_bits at all.
std::string validate_range(const CbmRules& rules, unsigned start_percent, unsigned end_percent);

}  // namespace slo::rdt
