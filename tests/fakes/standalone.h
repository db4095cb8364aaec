// Shared bits of the standalone fake executables: argument parsing, atomic file writes, waiting for a signal.
#pragma once

#include <map>
#include <string>

namespace slo::fakes {

// "--name value" pairs; exits with a usage line on anything else.
std::map<std::string, std::string> parse_flags(int argc, char** argv, const char* usage);
// temp + rename, so a test polling for the file never reads half of it.
void write_file_atomic(const std::string& path, const std::string& content);
// Blocks until SIGTERM or SIGINT.
void wait_for_termination();

}  // namespace slo::fakes
