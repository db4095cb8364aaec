// The gRPC API end to end with the real sloctl binary: every RPC answers what the (fake) agent holds; modes of the
// socket and its directory; a peer that is neither root nor the agent's user is refused by the SO_PEERCRED check.
#include <catch2/catch.hpp>

#include <grp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <sstream>

#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include "agent/api/grpc_api_server.h"
#include "tests/api/fake_queries.h"
#include "tests/api/process.h"
#include "tests/common/support.h"

using nlohmann::json;
using slo::test::FakeQueries;
using slo::test::ProcessResult;

namespace {

constexpr uid_t kNobody = 65534;

mode_t mode_of(const std::string& p) {
  struct stat st;
  REQUIRE(::lstat(p.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

ProcessResult sloctl(const std::string& socket, std::vector<std::string> args, slo::test::RunOptions o = {},
                     const std::string& binary = slo::test::build_path("cli/sloctl")) {
  std::vector<std::string> argv = {binary, "--socket", socket};
  argv.insert(argv.end(), args.begin(), args.end());
  return slo::test::run_process(argv, o);
}

json sloctl_json(const std::string& socket, std::vector<std::string> args) {
  args.push_back("-o");
  args.push_back("json");
  auto r = sloctl(socket, args);
  INFO("sloctl " << args[0] << " stderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  REQUIRE(r.err.empty());
  return json::parse(r.out);
}

std::string scrape(prometheus::Registry& r) {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, r.Collect());
  return out.str();
}

}  // namespace

TEST_CASE("sloctl calls every RPC and prints what the agent holds", "[unit][grpc]") {
  slo::test::TempDir tmp;
  FakeQueries fake;
  auto registry = std::make_shared<prometheus::Registry>();
  std::string sock = tmp.sub("run/sloagent/sloagent.sock");
  slo::agent::GrpcApiServer server(sock, fake, registry);
  auto err = server.start();
  INFO(err.value_or(""));
  REQUIRE_FALSE(err);

  SECTION("socket 0600 in a 0700 directory") {
    CHECK(mode_of(tmp.sub("run/sloagent")) == 0700);
    CHECK(mode_of(sock) == 0600);
    struct stat st;
    REQUIRE(::lstat(sock.c_str(), &st) == 0);
    CHECK(S_ISSOCK(st.st_mode));
  }

  SECTION("-o json of every call matches the agent's documents") {
    CHECK(sloctl_json(sock, {"status"}) == FakeQueries::status_doc());
    CHECK(sloctl_json(sock, {"pods"}) == FakeQueries::pods_doc());
    CHECK(sloctl_json(sock, {"explain", "default/web-0"}) == FakeQueries::explain_doc());
    CHECK(sloctl_json(sock, {"explain", "batch/spark-7"}) == json::array());
    CHECK(sloctl_json(sock, {"config"}) == FakeQueries::config_doc());
    CHECK(sloctl_json(sock, {"pools"}) == FakeQueries::pools_doc());
    CHECK(sloctl_json(sock, {"rdt"}) == FakeQueries::rdt_doc());
    CHECK(sloctl_json(sock, {"reclaimed"}) == FakeQueries::reclaimed_doc());
    CHECK(fake.restores == 0);
    CHECK(sloctl_json(sock, {"restore"}) == json({{"restored", 3}, {"gone", 1}, {"failed", json::array()}}));
    CHECK(fake.restores == 1);
    std::string metrics = scrape(*registry);
    CHECK(metrics.find("sloagent_api_requests_total{code=\"OK\",method=\"Pods\"} 1") != std::string::npos);
    CHECK(metrics.find("sloagent_api_connections_total{result=\"accepted\"}") != std::string::npos);
  }

  SECTION("tables by default, wide on request") {
    auto r = sloctl(sock, {"pods"});
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.rfind("NAMESPACE   POD", 0) == 0);
    CHECK(r.out.find("cpu_quota 150000 (was 100000)") != std::string::npos);
    r = sloctl(sock, {"pods", "-o", "wide"});
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("kubepods/burstable/pod0d7c8e1a-1111-2222-3333-444455556666/abc123") != std::string::npos);
    r = sloctl(sock, {"-owide", "status"});  // options before the command, kubectl's -oFORMAT spelling
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("LAST TICK") != std::string::npos);
    r = sloctl(sock, {"rdt"});
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("L3:0=fff;1=fff") != std::string::npos);
    r = sloctl(sock, {"reclaimed"});
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("batch_memory_bytes:") != std::string::npos);
    CHECK(r.out.find("34359738368") != std::string::npos);
  }

  SECTION("errors: unknown pod, failed restore, usage") {
    auto r = sloctl(sock, {"explain", "default/nope"});
    CHECK(r.exit_code == 1);
    CHECK(r.out.empty());
    CHECK(r.err == "sloctl: pod default/nope is not known to the agent (see `sloctl pods`)\n");
    fake.fail_restore = true;
    r = sloctl(sock, {"restore"});
    CHECK(r.exit_code == 1);
    CHECK(r.out.find("2 knob(s), 0 gone, 1 failed") != std::string::npos);
    CHECK(r.err.find("could not be restored") != std::string::npos);
    r = sloctl(sock, {"explain"});
    CHECK(r.exit_code == 2);
    r = sloctl(sock, {"frobnicate"});
    CHECK(r.exit_code == 2);
    CHECK(r.err == "sloctl: unknown command 'frobnicate' (see sloctl --help)\n");
    r = sloctl(sock, {"status", "-o", "yaml"});
    CHECK(r.exit_code == 2);
    r = sloctl(sock, {"--help"});
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("explain NS/POD") != std::string::npos);
    r = sloctl(sock, {"--version"});
    CHECK(r.exit_code == 0);
    CHECK(r.out.rfind("sloctl ", 0) == 0);
  }

  SECTION("stop removes the socket; sloctl then says how to start the agent") {
    server.stop();
    CHECK(::access(sock.c_str(), F_OK) != 0);
    auto r = sloctl(sock, {"status"});
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("no agent socket at " + sock + ": is sloagent running? start it with `sloagent run`") !=
          std::string::npos);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);  // one line, gRPC's own log silenced
  }
}

TEST_CASE("a stale socket file: sloctl says nothing listens", "[unit][grpc]") {
  slo::test::TempDir tmp;
  std::string sock = tmp.sub("stale.sock");
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::memcpy(a.sun_path, sock.data(), sock.size());
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  ::close(fd);  // bound, never listened: connect gives ECONNREFUSED
  auto r = sloctl(sock, {"pods"});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("nothing accepts connections on " + sock) != std::string::npos);
}

TEST_CASE("peers other than root and the agent's user are refused", "[unit][grpc][peer]") {
  if (!slo::test::is_root()) {
    WARN("SKIP: needs root to switch a child process to uid 65534 (nobody)");
    return;
  }
  slo::test::TempDir tmp;
  FakeQueries fake;
  auto registry = std::make_shared<prometheus::Registry>();
  std::string dir = tmp.sub("run");
  std::string sock = dir + "/sloagent.sock";
  slo::agent::GrpcApiServer server(sock, fake, registry);
  REQUIRE_FALSE(server.start());
  // nobody needs to reach and run a copy of sloctl: the build tree may be private.
  std::string bin = tmp.sub("sloctl");
  std::filesystem::copy_file(slo::test::build_path("cli/sloctl"), bin);
  REQUIRE(::chmod(bin.c_str(), 0755) == 0);
  REQUIRE(::chmod(tmp.path().c_str(), 0711) == 0);
  slo::test::RunOptions as_nobody;
  as_nobody.uid = kNobody;

  SECTION("the file modes alone keep nobody out: sloctl says to run as root") {
    auto r = sloctl(sock, {"status"}, as_nobody, bin);
    CHECK(r.exit_code == 1);
    CHECK(r.err == "sloctl: permission denied on " + sock + ": run as root (sudo sloctl ...) or as the agent's user\n");
    CHECK(fake.restores == 0);
  }

  SECTION("with the modes loosened, SO_PEERCRED still refuses nobody") {
    // An administrator (or a bug) opens the socket to everyone: the peer check is the second line of defence.
    REQUIRE(::chmod(dir.c_str(), 0755) == 0);
    REQUIRE(::chmod(sock.c_str(), 0666) == 0);

    // Raw connect as nobody in a forked child: connect succeeds, the agent writes its notice and closes.
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::memcpy(a.sun_path, sock.data(), sock.size());
    int pipefd[2];
    REQUIRE(::pipe(pipefd) == 0);
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      ::close(pipefd[0]);
      if (::setgroups(0, nullptr) != 0 || ::setgid(kNobody) != 0 || ::setuid(kNobody) != 0) ::_exit(10);
      int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
      if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) ::_exit(11);
      char buf[512];
      size_t got = 0;
      for (;;) {  // until the agent closes (EOF): an accepted peer would hang here until the test's timeout
        ssize_t n = ::read(fd, buf + got, sizeof buf - got);
        if (n <= 0) break;
        got += static_cast<size_t>(n);
        if (got == sizeof buf) break;
      }
      (void)!::write(pipefd[1], buf, got);
      ::_exit(0);
    }
    ::close(pipefd[1]);
    std::string notice;
    char buf[512];
    for (ssize_t n; (n = ::read(pipefd[0], buf, sizeof buf)) > 0;) notice.append(buf, static_cast<size_t>(n));
    ::close(pipefd[0]);
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    CHECK(notice == "sloagent: permission denied: peer uid 65534 is neither root nor the agent's uid 0\n");

    // The real client as nobody: refused, and told what to do.
    auto r = sloctl(sock, {"restore"}, as_nobody, bin);
    CHECK(r.exit_code == 1);
    CHECK(r.err ==
          "sloctl: the agent refused the connection (permission denied: peer uid 65534 is neither root nor the "
          "agent's uid 0): run as root\n");
    CHECK(fake.restores == 0);  // the mutating call never reached the agent

    // Root still gets through the same socket.
    auto ok = sloctl(sock, {"status", "-o", "json"});
    CHECK(ok.exit_code == 0);
    std::string metrics = scrape(*registry);
    CHECK(metrics.find("sloagent_api_connections_total{result=\"refused\"}") != std::string::npos);
  }
}
