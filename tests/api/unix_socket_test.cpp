// The socket's directory and file modes, stale-socket handling and the refusal of shared directories.
#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "agent/api/unix_socket.h"
#include "tests/common/support.h"

namespace {

mode_t mode_of(const std::string& p) {
  struct stat st;
  REQUIRE(::lstat(p.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

}  // namespace

TEST_CASE("socket directory: created 0700, tightened when ours alone, refused when shared", "[unit][socket]") {
  slo::test::TempDir tmp;
  // Created with its parents.
  std::string dir = tmp.sub("run/sloagent");
  REQUIRE_FALSE(slo::api::prepare_socket_dir(dir, "s.sock"));
  CHECK(mode_of(dir) == 0700);

  // An empty directory made 0755 by someone else (a hostPath mount) is tightened.
  std::string host_path = tmp.sub("hostpath");
  REQUIRE(::mkdir(host_path.c_str(), 0755) == 0);
  REQUIRE(::chmod(host_path.c_str(), 0755) == 0);
  REQUIRE_FALSE(slo::api::prepare_socket_dir(host_path, "s.sock"));
  CHECK(mode_of(host_path) == 0700);

  // A directory with other files (like /run) is never chmod-ed.
  std::string shared = tmp.sub("shared");
  tmp.write("shared/other.pid", "1");
  REQUIRE(::chmod(shared.c_str(), 0755) == 0);
  auto err = slo::api::prepare_socket_dir(shared, "s.sock");
  REQUIRE(err);
  CHECK(err->find("holds other files") != std::string::npos);
  CHECK(mode_of(shared) == 0755);

  // World-writable (like /tmp): refused.
  std::string world = tmp.sub("world");
  REQUIRE(::mkdir(world.c_str(), 0700) == 0);
  REQUIRE(::chmod(world.c_str(), 01777) == 0);
  err = slo::api::prepare_socket_dir(world, "s.sock");
  REQUIRE(err);
  CHECK(err->find("writable by others") != std::string::npos);
  CHECK(mode_of(world) == 01777);

  // A symlink: refused.
  REQUIRE(::symlink(dir.c_str(), tmp.sub("link").c_str()) == 0);
  err = slo::api::prepare_socket_dir(tmp.sub("link"), "s.sock");
  REQUIRE(err);
  CHECK(err->find("symlink") != std::string::npos);

  // Owned by another user: refused (root can create the case).
  if (slo::test::is_root()) {
    std::string foreign = tmp.sub("foreign");
    REQUIRE(::mkdir(foreign.c_str(), 0700) == 0);
    REQUIRE(::chown(foreign.c_str(), 65534, 65534) == 0);
    err = slo::api::prepare_socket_dir(foreign, "s.sock");
    REQUIRE(err);
    CHECK(err->find("belongs to uid 65534") != std::string::npos);
  }
}

TEST_CASE("listen_unix: mode 0600, stale socket replaced, live one and plain files refused", "[unit][socket]") {
  slo::test::TempDir tmp;
  std::string path = tmp.sub("a.sock");
  slo::api::Listener l;
  REQUIRE_FALSE(slo::api::listen_unix(path, l));
  CHECK(mode_of(path) == 0600);

  // A second agent on the same path is refused while the first listens.
  slo::api::Listener l2;
  auto err = slo::api::listen_unix(path, l2);
  REQUIRE(err);
  CHECK(err->find("another process") != std::string::npos);

  // After the first one dies without cleanup the stale file is replaced.
  ::close(l.fd);
  REQUIRE_FALSE(slo::api::listen_unix(path, l2));
  CHECK(mode_of(path) == 0600);

  // unlink_if_ours: only the inode we bound.
  slo::api::unlink_if_ours(path, l);  // stale identity: must keep l2's socket
  CHECK(::access(path.c_str(), F_OK) == 0);
  slo::api::unlink_if_ours(path, l2);
  CHECK(::access(path.c_str(), F_OK) != 0);
  ::close(l2.fd);

  tmp.write("plain", "x");
  err = slo::api::listen_unix(tmp.sub("plain"), l2);
  REQUIRE(err);
  CHECK(err->find("not a socket") != std::string::npos);

  err = slo::api::listen_unix(tmp.sub(std::string(120, 'x')), l2);
  REQUIRE(err);
  CHECK(err->find("longer than") != std::string::npos);
}

TEST_CASE("peer credentials of a connected socket pair", "[unit][socket]") {
  int sv[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
  auto c = slo::api::peer_cred(sv[0]);
  REQUIRE(c);
  CHECK(c->uid == ::geteuid());
  CHECK(c->pid == ::getpid());
  ::close(sv[0]);
  ::close(sv[1]);
  CHECK(slo::api::peer_allowed(0, 1000));
  CHECK(slo::api::peer_allowed(1000, 1000));
  CHECK_FALSE(slo::api::peer_allowed(65534, 0));
  CHECK_FALSE(slo::api::peer_allowed(1001, 1000));
}
