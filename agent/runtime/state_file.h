// The agent's own state files (journal, cpuset pins): one checksum and one crash-safe replace for all of them.
#pragma once

#include <string>
#include <string_view>

#include "cgroups/status.h"

namespace slo::agent {

// FNV-1a 64 as 16 hex digits: detects torn or hand-edited files; not a security boundary (state dirs are root-only).
std::string fnv1a64_hex(std::string_view data);

// Replaces `path` (inside `dir`) with `data` so that a crash leaves either the old or the new file: temp file
// (mode 0600), fsync, rename, fsync of the directory. Errors name the file and the step.
cg::Status write_file_atomic(const std::string& dir, const std::string& path, const std::string& data);

}  // namespace slo::agent
