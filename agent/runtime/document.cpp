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
  try {
    std::vector<nlohmann::json> docs;
    for (const auto& n : YAML::LoadAll(std::string(text)))
      if (n.Type() != YAML::NodeType::Null) docs.push_back(yaml_to_json(n));
    error.clear();
    return docs;
  } catch (const YAML::Exception& e) {
    error = "line " + std::to_string(e.mark.line + 1) + ", column " + std::to_string(e.mark.column + 1) + ": " +
            e.msg;
    return std::nullopt;
  }
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
