// Collects libbpf's warnings (verifier logs, attach errors) so that a failed load can say why, instead of libbpf
// printing to stderr. libbpf has one process-wide print callback; we install ours once and keep the text per thread.
#pragma once

#include <string>

namespace slo::bpf::detail {

// Clears the messages collected on this thread (call before an attempt).
void begin_capture();
// Messages collected since begin_capture(), trimmed to the last `max_chars` characters.
std::string captured(size_t max_chars = 2000);

}  // namespace slo::bpf::detail
