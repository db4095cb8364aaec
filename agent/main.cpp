// sloagent: dispatches to the registered subcommands (agent/commands/*). `run` is the default command.
#include <cstdio>
#include <string>
#include <vector>

#include "agent/commands/command.h"
#include "slo_config.h"

namespace {

void print_help() {
  std::printf(
      "sloagent %s - node-level SLO manager for Kubernetes colocation\n\n"
      "Usage: sloagent [COMMAND] [OPTIONS]\n\nCommands:\n",
      SLO_VERSION);
  for (const auto& c : slo::agent::command_registry()) std::printf("  %-18s %s\n", c.name.c_str(), c.summary.c_str());
  std::printf(
      "\nGlobal options:\n  --help       this text (or `sloagent COMMAND --help`)\n"
      "  --version    print the version\n\nWithout a command, `run` is assumed.\n");
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  auto& reg = slo::agent::command_registry();
  if (!args.empty() && (args[0] == "--version" || args[0] == "version")) {
    std::printf("sloagent %s\n", SLO_VERSION);
    return 0;
  }
  if (!args.empty() && (args[0] == "--help" || args[0] == "-h" || args[0] == "help")) {
    print_help();
    return 0;
  }
  // Longest match of command words ("inspect cgroups" before "inspect").
  const slo::agent::Command* best = nullptr;
  size_t best_words = 0;
  for (const auto& c : reg) {
    std::vector<std::string> words;
    size_t pos = 0;
    while (pos <= c.name.size()) {
      size_t sp = c.name.find(' ', pos);
      words.push_back(c.name.substr(pos, sp == std::string::npos ? std::string::npos : sp - pos));
      if (sp == std::string::npos) break;
      pos = sp + 1;
    }
    if (words.size() > args.size() || words.size() <= best_words) continue;
    bool match = true;
    for (size_t i = 0; i < words.size(); ++i) match = match && args[i] == words[i];
    if (match) {
      best = &c;
      best_words = words.size();
    }
  }
  if (!best) {
    bool starts_with_option = args.empty() || args[0].rfind("--", 0) == 0;
    if (starts_with_option) {
      for (const auto& c : reg)
        if (c.name == "run") {
          best = &c;
          break;
        }
    }
    if (!best) {
      std::fprintf(stderr, "sloagent: unknown command '%s' (see sloagent --help)\n",
                   args.empty() ? "" : args[0].c_str());
      return slo::agent::kExitUsage;
    }
  }
  std::vector<std::string> rest(args.begin() + static_cast<long>(best_words), args.end());
  for (const auto& a : rest)
    if (a == "--help" || a == "-h") {
      std::printf("%s\n", best->usage.c_str());
      return 0;
    }
  return best->run(rest);
}
