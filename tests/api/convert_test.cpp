// JSON <-> message mapping: what sloctl prints with -o json must be what the agent answered.
#include <catch2/catch.hpp>

#include "proto/convert.h"
#include "tests/api/fake_queries.h"

using nlohmann::json;
using slo::test::FakeQueries;

TEST_CASE("status survives JSON -> message -> bytes -> message -> JSON", "[unit][convert]") {
  auto m = slo::api::status_from_json(FakeQueries::status_doc());
  std::string wire;
  REQUIRE(m.SerializeToString(&wire));
  sloagent::v1::StatusReply back;
  REQUIRE(back.ParseFromString(wire));
  CHECK(slo::api::status_to_json(back) == FakeQueries::status_doc());
  CHECK(back.controllers_size() == 2);
  CHECK(back.controllers(1).reason() == "resctrl not mounted at /sys/fs/resctrl");
  CHECK(back.journal_entries() == 3);
  CHECK(back.extra_json() == R"({"future_field":{"a":1}})");
}

TEST_CASE("pods keep 64-bit values, CPU lists and unknown originals", "[unit][convert]") {
  auto m = slo::api::pods_from_json(FakeQueries::pods_doc());
  std::string wire;
  REQUIRE(m.SerializeToString(&wire));
  sloagent::v1::PodsReply back;
  REQUIRE(back.ParseFromString(wire));
  json j = slo::api::pods_to_json(back);
  CHECK(j == FakeQueries::pods_doc());
  CHECK(j[0]["containers"][0]["knobs"]["memory_limit"]["current"].get<int64_t>() == 9223372036854771712LL);
  CHECK(j[0]["containers"][0]["knobs"]["memory_limit"]["original"].is_null());
  CHECK(j[1]["containers"][0]["knobs"]["cpuset_cpus"]["current"] == "0-3,8");
  // Fields the proto does not name survive too.
  CHECK(j[0]["priority"] == 9500);
  CHECK(j[0]["containers"][0]["restarts"] == 2);
  CHECK(m.pods(0).extra_json() == R"({"priority":9500})");
  CHECK(m.pods(0).knobs_size() == 1);
}

TEST_CASE("knob values map by JSON type", "[unit][convert]") {
  using slo::api::knob_value_from_json;
  using slo::api::knob_value_to_json;
  CHECK(knob_value_from_json(json(-1)).int_value() == -1);
  CHECK(knob_value_from_json(json("max")).text() == "max");
  CHECK(knob_value_from_json(json(0.5)).real() == 0.5);
  CHECK(knob_value_from_json(json(nullptr)).value_case() == sloagent::v1::KnobValue::VALUE_NOT_SET);
  // Beyond int64: the digits are kept as text rather than clamped.
  auto big = knob_value_from_json(json(18446744073709551615ULL));
  CHECK(big.text() == "18446744073709551615");
  CHECK(knob_value_to_json(knob_value_from_json(json(42))) == json(42));
}

TEST_CASE("partial or mistyped runtime documents convert without throwing", "[unit][convert]") {
  json status = {{"version", 2}, {"controllers", {{{"name", "X"}, {"period_ms", 250.0}}}}, {"ready", "yes"}};
  auto m = slo::api::status_from_json(status);
  CHECK(m.version() == "2");  // a number where text was expected keeps its text
  CHECK(m.controllers(0).period_ms() == 250);
  CHECK_FALSE(m.ready());  // only a JSON true means ready
  CHECK(m.capabilities_json() == "{}");
  CHECK(slo::api::pods_from_json(json::object()).pods_size() == 0);
  auto pods = slo::api::pods_from_json(json::array({{{"name", "p"}, {"containers", {{{"knobs", 7}}}}}}));
  REQUIRE(pods.pods_size() == 1);
  CHECK(pods.pods(0).containers(0).knobs_size() == 0);
  CHECK(slo::api::parse_json_text("not json") == json("not json"));
}
