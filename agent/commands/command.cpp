#include "agent/commands/command.h"

#include <algorithm>

namespace slo::agent {

std::vector<Command>& command_registry() {
  static std::vector<Command> reg;
  return reg;
}

CommandRegistrar::CommandRegistrar(Command c) { command_registry().push_back(std::move(c)); }

bool ArgParser::parse(const std::vector<std::string>& value_options, const std::vector<std::string>& flag_options) {
  auto is = [](const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
  };
  for (size_t i = 0; i < args_.size(); ++i) {
    const std::string& a = args_[i];
    if (a.rfind("--", 0) != 0 || a == "--") {
      positional_.push_back(a);
      continue;
    }
    std::string name = a, value;
    bool inline_value = false;
    if (auto eq = a.find('='); eq != std::string::npos) {
      name = a.substr(0, eq);
      value = a.substr(eq + 1);
      inline_value = true;
    }
    if (is(value_options, name)) {
      if (!inline_value) {
        if (i + 1 >= args_.size()) {
          error_ = "option " + name + " needs a value";
          return false;
        }
        value = args_[++i];
      }
      values_.emplace_back(name, value);
    } else if (is(flag_options, name) && !inline_value) {
      values_.emplace_back(name, "");
    } else {
      error_ = "unknown option " + name;
      return false;
    }
  }
  return true;
}

std::string ArgParser::get(const std::string& name, const std::string& def) const {
  for (auto it = values_.rbegin(); it != values_.rend(); ++it)
    if (it->first == name) return it->second;
  return def;
}

bool ArgParser::has(const std::string& name) const {
  return std::any_of(values_.begin(), values_.end(), [&](const auto& p) { return p.first == name; });
}

}  // namespace slo::agent
