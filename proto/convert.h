// JSON (the AgentQueries shape) <-> the typed API messages. The server converts what the runtime answers into
// messages; sloctl converts them back for `-o json`, so both sides of the socket share one mapping and a round trip
// keeps every field the proto defines. Conversions never throw: a field of an unexpected JSON type is read as well
// as it can be (a number where text was expected becomes its decimal text) or left at its default.
#pragma once

#include <nlohmann/json.hpp>

#include "proto/sloagent.pb.h"

namespace slo::api {

sloagent::v1::StatusReply status_from_json(const nlohmann::json& j);
nlohmann::json status_to_json(const sloagent::v1::StatusReply& m);

sloagent::v1::PodsReply pods_from_json(const nlohmann::json& j);
nlohmann::json pods_to_json(const sloagent::v1::PodsReply& m);

// A knob value: integer → int_value, string → text, other number → real, null/absent → unset.
sloagent::v1::KnobValue knob_value_from_json(const nlohmann::json& j);
nlohmann::json knob_value_to_json(const sloagent::v1::KnobValue& v);

// JSON text carried in JsonReply; an unparsable text (never produced by the agent) becomes a JSON string.
nlohmann::json parse_json_text(const std::string& text);

}  // namespace slo::api
