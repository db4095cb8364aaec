#include <catch2/catch.hpp>

#include "agent/model/quantity.h"

using slo::model::parse_bytes;
using slo::model::parse_cpu_millis;

TEST_CASE("CPU quantities in millicores, rounded up", "[quantity]") {
  CHECK(parse_cpu_millis("2000m") == 2000);
  CHECK(parse_cpu_millis("2") == 2000);
  CHECK(parse_cpu_millis("1.5") == 1500);
  CHECK(parse_cpu_millis("0.1") == 100);
  CHECK(parse_cpu_millis("48m") == 48);
  CHECK(parse_cpu_millis("0.0001") == 1);  // 0.1m rounds up, as kubelet does
  CHECK(parse_cpu_millis("100u") == 1);
  CHECK(parse_cpu_millis("1e3") == 1000000);
  CHECK(parse_cpu_millis("1E3") == 1000000);
  CHECK(parse_cpu_millis("1e-3") == 1);
  CHECK(parse_cpu_millis("+3") == 3000);
  CHECK(parse_cpu_millis("0") == 0);
  CHECK(parse_cpu_millis("0m") == 0);
  CHECK(parse_cpu_millis(".5") == 500);
  CHECK(parse_cpu_millis("1k") == 1000000);
  CHECK(parse_cpu_millis("1Ki") == 1024000);
}

TEST_CASE("memory quantities in bytes", "[quantity]") {
  CHECK(parse_bytes("128974848") == 128974848);
  CHECK(parse_bytes("129e6") == 129000000);
  CHECK(parse_bytes("129M") == 129000000);
  CHECK(parse_bytes("123Mi") == 123LL * 1024 * 1024);
  CHECK(parse_bytes("92960Ki") == 92960LL * 1024);
  CHECK(parse_bytes("5Gi") == 5LL << 30);
  CHECK(parse_bytes("1.5Gi") == 3LL << 29);
  CHECK(parse_bytes("1Ti") == 1LL << 40);
  CHECK(parse_bytes("2Pi") == 2LL << 50);
  CHECK(parse_bytes("1Ei") == 1LL << 60);
  CHECK(parse_bytes("7E") == 7000000000000000000LL);
  CHECK(parse_bytes("1k") == 1000);
  CHECK(parse_bytes("100m") == 1);  // 0.1 byte rounds up
  CHECK(parse_bytes("0.5") == 1);
  // 20 significant digits: the tail is dropped rounding up, so the request is never under-counted.
  CHECK(parse_bytes("1000000000000000000.1") == 1000000000000000001LL);
}

TEST_CASE("malformed, negative and overflowing quantities are rejected", "[quantity]") {
  for (const char* bad : {"", "-1", "-100m", "abc", "1.2.3", "1Zi", "1 Gi", " 1", "1ki", "1KiB", "e3", "1e", "1e+",
                          "m", ".", "1.5x", "1Mi1", "1e999"}) {
    INFO("input '" << bad << "'");
    CHECK_FALSE(parse_bytes(bad).has_value());
  }
  CHECK_FALSE(parse_bytes("8Ei").has_value());                   // 2^63 > int64 max
  CHECK_FALSE(parse_bytes("9223372036854775808").has_value());   // int64 max + 1
  CHECK(parse_bytes("9223372036854775807") == 9223372036854775807LL);
  CHECK_FALSE(parse_cpu_millis("9223372036854775807").has_value());  // ×1000 overflows
  CHECK_FALSE(parse_cpu_millis("-2").has_value());
}
