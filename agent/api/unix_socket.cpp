#include "agent/api/unix_socket.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace slo::api {

namespace {

std::string errtext(int e) { return std::string(std::strerror(e)); }

std::string octal(mode_t m) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(m & 07777));
  return buf;
}

// mkdir -p for the parents (0755, the usual mode of /run subdirectories), the last component 0700.
std::optional<std::string> make_dirs(const std::string& dir) {
  for (size_t pos = 1; pos <= dir.size(); ++pos) {
    if (pos != dir.size() && dir[pos] != '/') continue;
    std::string part = dir.substr(0, pos);
    mode_t mode = pos == dir.size() ? 0700 : 0755;
    if (::mkdir(part.c_str(), mode) != 0 && errno != EEXIST)
      return "cannot create socket directory " + part + ": " + errtext(errno);
  }
  return std::nullopt;
}

bool fill_addr(const std::string& path, sockaddr_un& addr) {
  std::memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof addr.sun_path) return false;
  std::memcpy(addr.sun_path, path.data(), path.size());
  return true;
}

// Whether something accepts connections at `path` right now.
bool socket_is_live(const std::string& path) {
  sockaddr_un addr;
  if (!fill_addr(path, addr)) return false;
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  bool live = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return live;
}

// Whether `dir` contains no entry other than `name`.
bool holds_only(const std::string& dir, const std::string& name) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return false;
  bool only = true;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != ".." && n != name) {
      only = false;
      break;
    }
  }
  ::closedir(d);
  return only;
}

}  // namespace

std::optional<std::string> prepare_socket_dir(const std::string& dir_in, const std::string& socket_name) {
  std::string dir = dir_in.empty() ? "." : dir_in;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  struct stat st;
  if (::lstat(dir.c_str(), &st) != 0) {
    if (errno != ENOENT) return "cannot inspect socket directory " + dir + ": " + errtext(errno);
    if (auto err = make_dirs(dir)) return err;
    if (::lstat(dir.c_str(), &st) != 0) return "cannot inspect socket directory " + dir + ": " + errtext(errno);
  }
  if (S_ISLNK(st.st_mode)) return "socket directory " + dir + " is a symlink; use a real directory";
  if (!S_ISDIR(st.st_mode)) return "socket directory " + dir + " is not a directory";
  if (st.st_uid != ::geteuid())
    return "socket directory " + dir + " belongs to uid " + std::to_string(st.st_uid) +
           ", not to the agent's uid " + std::to_string(::geteuid()) + "; use a directory of the agent's own";
  if (st.st_mode & (S_IWGRP | S_IWOTH))
    return "socket directory " + dir + " is writable by others (mode " + octal(st.st_mode) +
           "); use a dedicated directory such as /run/sloagent";
  if ((st.st_mode & 07777) == 0700) return std::nullopt;
  // Tighten only a directory that is ours alone (empty, or holding nothing but the socket): chmod on a shared
  // directory such as /run would break the host.
  if (!holds_only(dir, socket_name))
    return "socket directory " + dir + " has mode " + octal(st.st_mode) +
           " and holds other files; use a dedicated directory such as /run/sloagent";
  if (::chmod(dir.c_str(), 0700) != 0)
    return "cannot set mode 0700 on socket directory " + dir + ": " + errtext(errno);
  return std::nullopt;
}

std::optional<std::string> listen_unix(const std::string& path, Listener& out) {
  sockaddr_un addr;
  if (!fill_addr(path, addr))
    return "socket path '" + path + "' is empty or longer than " + std::to_string(sizeof addr.sun_path - 1) +
           " bytes";
  struct stat st;
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) return "socket path " + path + " exists and is not a socket; remove it or pick another";
    if (socket_is_live(path)) return "another process (a running sloagent?) accepts connections on " + path;
    if (::unlink(path.c_str()) != 0) return "cannot remove stale socket " + path + ": " + errtext(errno);
  }
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return "socket(AF_UNIX): " + errtext(errno);
  // The directory is 0700 already, so the short window before chmod exposes nothing.
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    int e = errno;
    ::close(fd);
    return "cannot bind " + path + ": " + errtext(e);
  }
  if (::chmod(path.c_str(), 0600) != 0 || ::lstat(path.c_str(), &st) != 0) {
    int e = errno;
    ::close(fd);
    ::unlink(path.c_str());
    return "cannot set mode 0600 on " + path + ": " + errtext(e);
  }
  if (::listen(fd, 64) != 0) {
    int e = errno;
    ::close(fd);
    ::unlink(path.c_str());
    return "cannot listen on " + path + ": " + errtext(e);
  }
  out.fd = fd;
  out.dev = st.st_dev;
  out.ino = st.st_ino;
  out.ctime = st.st_ctim;
  return std::nullopt;
}

void unlink_if_ours(const std::string& path, const Listener& l) {
  struct stat st;
  if (::lstat(path.c_str(), &st) == 0 && st.st_dev == l.dev && st.st_ino == l.ino &&
      st.st_ctim.tv_sec == l.ctime.tv_sec && st.st_ctim.tv_nsec == l.ctime.tv_nsec)
    ::unlink(path.c_str());
}

std::optional<PeerCred> peer_cred(int fd) {
  ucred c{};
  socklen_t len = sizeof c;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &c, &len) != 0 || len != sizeof c) return std::nullopt;
  return PeerCred{c.pid, c.uid, c.gid};
}

bool peer_allowed(uid_t peer_uid, uid_t agent_uid) { return peer_uid == 0 || peer_uid == agent_uid; }

}  // namespace slo::api
