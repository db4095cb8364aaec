// Turns "the call failed with UNAVAILABLE" into one line that says what to do: gRPC reports a missing socket, a
// refused connect, a permission error and a peer refused by the agent all the same way, so sloctl looks at the
// socket itself once the call has failed (never before: a working call costs nothing extra).
#pragma once

#include <string>

namespace slo::cli {

enum class SocketProblem {
  missing,            // no file at the path (or a missing directory)
  permission_denied,  // EACCES/EPERM on the path or its directory
  not_listening,      // stale socket file: connect → ECONNREFUSED
  not_a_socket,
  refused_by_agent,   // connected, and the agent said "permission denied" (SO_PEERCRED check)
  answers,            // connected and not refused: the agent itself failed the call
};

struct Diagnosis {
  SocketProblem problem;
  std::string message;  // one line, no "sloctl:" prefix, ends with what to do
};

Diagnosis diagnose_socket(const std::string& socket_path);

}  // namespace slo::cli
