// Runs a built binary with arguments and captures its exit code, stdout and stderr (for command-line tests).
#pragma once

#include <string>
#include <vector>

namespace slo::test {

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

RunResult run_binary(const std::string& path, const std::vector<std::string>& args);

}  // namespace slo::test
