#include <catch2/catch.hpp>

#include "rdt/bitmask.h"

using namespace slo::rdt;

TEST_CASE("hex masks parse the kernel's spellings", "[rdt][bitmask]") {
  CHECK(parse_hex_mask("fffff") == 0xfffffu);
  CHECK(parse_hex_mask("00fff") == 0xfffu);
  CHECK(parse_hex_mask("  0ffff\n") == 0xffffu);
  CHECK(parse_hex_mask("0x3F") == 0x3fu);
  CHECK_FALSE(parse_hex_mask("").has_value());
  CHECK_FALSE(parse_hex_mask("xyz").has_value());
  CHECK_FALSE(parse_hex_mask("1ffffffffffffffff").has_value());  // 65 bits
  CHECK(format_hex_mask(0xc0000) == "c0000");
  CHECK(format_hex_mask(0) == "0");
}

TEST_CASE("contiguity and validation follow the resource rules", "[rdt][bitmask]") {
  CHECK(is_contiguous(0xf0));
  CHECK_FALSE(is_contiguous(0x5));
  CbmRules r{0xfffff, 2, false};
  CHECK(validate_cbm(0x3, r).empty());
  CHECK(validate_cbm(0x1, r).find("min_cbm_bits=2") != std::string::npos);
  CHECK(validate_cbm(0x300000, r).find("outside cbm_mask") != std::string::npos);
  CHECK(validate_cbm(0xf0f, r).find("not contiguous") != std::string::npos);
  r.sparse_masks = true;
  CHECK(validate_cbm(0xf0f, r).empty());
  CHECK(validate_cbm(0, r).find("empty") != std::string::npos);
}

TEST_CASE("percentage ranges become contiguous masks of at least min_cbm_bits", "[rdt][bitmask]") {
  CbmRules l3{0xfffff, 1, false};  // 20 ways
  CHECK(cbm_for_range(l3, 0, 100) == 0xfffffu);
  CHECK(cbm_for_range(l3, 0, 30) == 0x3fu);          // ceil(6.0) = 6 ways
  CHECK(cbm_for_range(l3, 30, 100) == 0xfffc0u);     // ways 6..19
  CHECK(cbm_for_range(l3, 0, 0) == 0x1u);            // widened to 1 way
  CHECK(cbm_for_range(l3, 100, 100) == 0x80000u);    // widened downwards at the top
  CHECK(cbm_for_range(l3, 50, 52) == 0x400u);        // floor(10) .. ceil(10.4)=11 → 1 way (bit 10)

  CbmRules min2{0xfffff, 2, false};
  CHECK(cbm_for_range(min2, 0, 0) == 0x3u);
  CHECK(cbm_for_range(min2, 100, 100) == 0xc0000u);
  CHECK(cbm_for_range(min2, 50, 50) == 0xc00u);      // bits 10, 11
  CHECK(cbm_for_range(min2, 50, 52) == 0xc00u);      // 1 way requested, widened to 2

  CbmRules l2{0xff, 1, false};  // 8 ways
  CHECK(cbm_for_range(l2, 0, 30) == 0x7u);           // ceil(2.4) = 3

  CbmRules twelve{0xfff, 1, false};
  CHECK(cbm_for_range(twelve, 0, 30) == 0xfu);       // ceil(3.6) = 4

  // Every result is valid for its rules, for any range, with and without sparse masks.
  for (auto rules : {l3, min2, l2, twelve, CbmRules{0xffff, 3, true}}) {
    for (unsigned s = 0; s <= 100; s += 5)
      for (unsigned e = s; e <= 100; e += 5) {
        uint64_t m = cbm_for_range(rules, s, e);
        INFO("mask " << format_hex_mask(rules.cbm_mask) << " " << s << "-" << e << " → " << format_hex_mask(m));
        CHECK(validate_cbm(m, rules).empty());
        CHECK(is_contiguous(m));
      }
  }
}

TEST_CASE("impossible ranges are reported", "[rdt][bitmask]") {
  CbmRules r{0xf, 1, false};
  CHECK_FALSE(validate_range(r, 50, 40).empty());
  CHECK_FALSE(validate_range(r, 0, 101).empty());
  CHECK(validate_range(CbmRules{0x3, 4, false}, 0, 100).find("exceeds") != std::string::npos);
  CHECK(validate_range(r, 0, 100).empty());
}
