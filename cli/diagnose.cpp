#include "cli/diagnose.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace slo::cli {

namespace {

constexpr const char* kStartHint = "is sloagent running? start it with `sloagent run` (or `systemctl start sloagent`)";

Diagnosis denied(const std::string& path) {
  return {SocketProblem::permission_denied,
          "permission denied on " + path + ": run as root (sudo sloctl ...) or as the agent's user"};
}

}  // namespace

Diagnosis diagnose_socket(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == EACCES || errno == EPERM) return denied(path);
    return {SocketProblem::missing, "no agent socket at " + path + ": " + kStartHint + ", or pass --socket PATH"};
  }
  if (!S_ISSOCK(st.st_mode)) return {SocketProblem::not_a_socket, path + " is not a socket: pass --socket PATH"};

  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path)
    return {SocketProblem::missing, "socket path " + path + " is too long for a Unix socket: use a shorter path"};
  std::memcpy(addr.sun_path, path.data(), path.size());
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return {SocketProblem::answers, std::string("socket(): ") + std::strerror(errno)};
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    int e = errno;
    ::close(fd);
    if (e == EACCES || e == EPERM) return denied(path);
    if (e == ECONNREFUSED)
      return {SocketProblem::not_listening, "nothing accepts connections on " + path + " (stale socket): " + kStartHint};
    return {SocketProblem::missing, "cannot connect to " + path + ": " + std::strerror(e) + ": " + kStartHint};
  }
  // The agent writes a one-line notice before closing a refused peer; an accepted peer gets HTTP/2 frames or
  // nothing (the server waits for our preface), so a short wait is enough.
  std::string got;
  pollfd p{fd, POLLIN, 0};
  char buf[256];
  while (got.size() < sizeof buf && ::poll(&p, 1, 1000) > 0) {
    ssize_t n = ::recv(fd, buf, sizeof buf - got.size(), 0);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
    if (got.find('\n') != std::string::npos) break;
  }
  ::close(fd);
  const std::string prefix = "sloagent: permission denied";
  if (got.rfind(prefix, 0) == 0) {
    std::string note = got.substr(std::string("sloagent: ").size());
    if (auto nl = note.find('\n'); nl != std::string::npos) note.resize(nl);
    return {SocketProblem::refused_by_agent, "the agent refused the connection (" + note + "): run as root"};
  }
  return {SocketProblem::answers, "the agent at " + path + " accepts connections but failed the call"};
}

}  // namespace slo::cli
