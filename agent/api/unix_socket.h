// The private Unix socket of the API: a directory only the agent's user can enter (0700), a socket only it can
// open (0600), and a peer check on every accepted connection (SO_PEERCRED), because the file modes alone do not
// stop a process that was handed a connected fd or a socket whose directory an administrator loosened.
#pragma once

#include <sys/types.h>
#include <time.h>

#include <optional>
#include <string>

namespace slo::api {

// Creates the socket's parent directory with mode 0700 (parents as needed, 0755), or tightens an existing one the
// agent owns to 0700 when it holds nothing but `socket_name` (e.g. an empty hostPath directory created 0755).
// Refuses (returns an error text) a directory owned by another user, one writable by group or others (such as
// /tmp), a shared one with other files (such as /run: never chmod those), or a symlink.
std::optional<std::string> prepare_socket_dir(const std::string& dir, const std::string& socket_name);

struct Listener {
  int fd = -1;  // listening, non-blocking, close-on-exec
  // Identity of the socket file we bound, so stop() unlinks only our own. The change time is part of it because a
  // file created right after ours was unlinked may get the same inode number.
  dev_t dev = 0;
  ino_t ino = 0;
  struct timespec ctime {};
};

// Binds and listens on `path` with mode 0600. A stale socket file (nobody accepts on it) is replaced; a live one
// (another agent answers) or a non-socket file at the path is an error. Error texts name the path and errno.
std::optional<std::string> listen_unix(const std::string& path, Listener& out);

// Removes the socket file if it is still the one `l` bound (a newer agent may have replaced it).
void unlink_if_ours(const std::string& path, const Listener& l);

struct PeerCred {
  pid_t pid = 0;
  uid_t uid = 0;
  gid_t gid = 0;
};
std::optional<PeerCred> peer_cred(int fd);

// Root or the agent's own effective uid may talk to the agent.
bool peer_allowed(uid_t peer_uid, uid_t agent_uid);

}  // namespace slo::api
