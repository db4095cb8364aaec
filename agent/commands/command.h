// Subcommands of the sloagent binary. Each lives in its own file and registers itself, so adding one touches no
// shared dispatcher. Exit codes: 0 success, 1 runtime error, 2 bad usage.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace slo::agent {

struct Command {
  std::string name;     // "inspect cgroups", "run", "check-config"
  std::string summary;  // one line for `sloagent --help`
  std::string usage;    // full text for `sloagent <name> --help`
  std::function<int(const std::vector<std::string>& args)> run;  // args after the command words
};

std::vector<Command>& command_registry();
struct CommandRegistrar {
  explicit CommandRegistrar(Command c);
};

constexpr int kExitOk = 0;
constexpr int kExitError = 1;
constexpr int kExitUsage = 2;

// Small argument helper shared by commands: "--flag VALUE" / "--flag=VALUE" options and bare flags.
class ArgParser {
 public:
  ArgParser(std::vector<std::string> args) : args_(std::move(args)) {}
  // Declares an option taking a value; returns false (and sets error()) on unknown options or missing values.
  bool parse(const std::vector<std::string>& value_options, const std::vector<std::string>& flag_options);
  std::string get(const std::string& name, const std::string& def = "") const;
  bool has(const std::string& name) const;
  const std::vector<std::string>& positional() const { return positional_; }
  const std::string& error() const { return error_; }

 private:
  std::vector<std::string> args_;
  std::vector<std::pair<std::string, std::string>> values_;
  std::vector<std::string> positional_;
  std::string error_;
};

}  // namespace slo::agent
