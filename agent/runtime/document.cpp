#include "agent/runtime/document.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <yaml-cpp/yaml.h>

namespace slo::agent {
namespace {

// Plain (unquoted) YAML scalars become numbers, booleans or null where YAML 1.2's core schema says so.
nlohmann::json plain_scalar(const std::string& s) {
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  // Integer (decimal, optional sign)?
  {
    size_t i = (s[0] == '-' || s[0] == '+') ? 1 : 0;
    bool digits = i < s.size();
    for (size_t k = i; k < s.size(); ++k) digits = digits && std::isdigit(static_cast<unsigned char>(s[k]));
    if (digits) {
      errno = 0;
      char* end = nullptr;
      long long v = std::strtoll(s.c_str(), &end, 10);
      if (errno == 0 && end && *end == '\0') return static_cast<int64_t>(v);
    }
  }
  // Float: digits with one '.', or an exponent.
  {
    bool has_digit = false, ok = true;
    for (char c : s) {
      if (std::isdigit(static_cast<unsigned char>(c))) has_digit = true;
      else if (c != '.' && c != 'e' && c != 'E' && c != '-' && c != '+') ok = false;
    }
    if (ok && has_digit) {
      char* end = nullptr;
      double d = std::strtod(s.c_str(), &end);
      if (end && *end == '\0') return d;
    }
  }
  return s;
}

}  // namespace

nlohmann::json yaml_to_json(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return nullptr;
    case YAML::NodeType::Scalar:
      // Quoted scalars carry the "!" tag: they are strings whatever they look like.
      if (node.Tag() == "!") return node.Scalar();
      return plain_scalar(node.Scalar());
    case YAML::NodeType::Sequence: {
      auto arr = nlohmann::json::array();
      for (const auto& item : node) arr.push_back(yaml_to_json(item));
      return arr;
    }
    case YAML::NodeType::Map: {
      auto obj = nlohmann::json::object();
      for (const auto& kv : node) obj[kv.first.as<std::string>()] = yaml_to_json(kv.second);
      return obj;
    }
  }
  return nullptr;
}

std::optional<std::vector<nlohmann::json>> parse_documents(std::string_view text, std::string& error) {
  size_t first = text.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && (text[first] == '{' || text[first] == '[')) {
    try {
      return std::vector<nlohmann::json>{nlohmann::json::parse(text)};
    } catch (const nlohmann::json::parse_error& e) {
      // Fall through to YAML (flow-style YAML also starts with '{'); report the JSON error if YAML fails too.
      error = std::string("JSON: ") + e.what();
    }
  }
  // Not YAML::LoadAll: yaml-cpp 0.7's LoadAll can loop forever on malformed input, producing empty documents until
  // memory runs out (found by tests/fuzz config target). Split at document markers ("---" / "..." at the start of a
  // line) ourselves and load each part with YAML::Load, which reads exactly one document.
  std::vector<nlohmann::json> docs;
  size_t line = 0, part_line = 0, pos = 0, part_start = 0;
  auto load_part = [&](std::string_view part) -> bool {
    try {
      auto n = YAML::Load(std::string(part));
      if (n.Type() != YAML::NodeType::Null) docs.push_back(yaml_to_json(n));
      return true;
    } catch (const YAML::Exception& e) {
      error = "line " + std::to_string(part_line + static_cast<size_t>(std::max(e.mark.line, 0)) + 1) + ", column " +
              std::to_string(e.mark.column + 1) + ": " + e.msg;
      return false;
    }
  };
  auto is_marker = [](std::string_view l, std::string_view m) {
    return l.substr(0, 3) == m && (l.size() == 3 || l[3] == ' ' || l[3] == '\t' || l[3] == '\r');
  };
  while (pos <= text.size()) {
    size_t end = text.find('\n', pos);
    std::string_view l = text.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
    bool start = is_marker(l, "---"), stop = is_marker(l, "...");
    if (start || stop) {
      if (!load_part(text.substr(part_start, pos - part_start))) return std::nullopt;
      // "--- value" carries content on the marker line: keep it (without the marker) in the next part.
      part_start = start ? pos + 3 : (end == std::string_view::npos ? text.size() : end + 1);
      part_line = line;
    }
    if (end == std::string_view::npos) break;
    pos = end + 1;
    ++line;
  }
  if (!load_part(text.substr(part_start))) return std::nullopt;
  error.clear();
  return docs;
}

std::optional<nlohmann::json> parse_document(std::string_view text, std::string& error) {
  auto docs = parse_documents(text, error);
  if (!docs) return std::nullopt;
  if (docs->empty()) return nlohmann::json::object();
  if (docs->size() > 1) {
    error = "expected one document, found " + std::to_string(docs->size());
    return std::nullopt;
  }
  return std::move((*docs)[0]);
}

std::optional<std::string> read_text_file(const std::string& path, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "open " + path + ": " + std::strerror(errno);
    return std::nullopt;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace slo::agent
