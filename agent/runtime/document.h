// Loads a config or policy document written as JSON or YAML into nlohmann::json (YAML is a superset of JSON, but
// yaml-cpp loses the distinction between "1" and 1 unless we keep the quoting tag, so both paths are explicit).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace YAML {
class Node;
}

namespace slo::agent {

nlohmann::json yaml_to_json(const YAML::Node& node);

// One document from text: JSON when it parses as JSON, YAML otherwise. On failure returns nullopt and sets error
// ("line 3, column 5: …").
std::optional<nlohmann::json> parse_document(std::string_view text, std::string& error);
// Every document of a multi-document YAML stream ("---" separated); JSON text yields one document.
std::optional<std::vector<nlohmann::json>> parse_documents(std::string_view text, std::string& error);

// Whole-file read; nullopt with error set ("open /x: No such file or directory").
std::optional<std::string> read_text_file(const std::string& path, std::string& error);

}  // namespace slo::agent
