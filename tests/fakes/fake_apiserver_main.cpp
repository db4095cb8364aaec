// Standalone fake API server for end-to-end tests of the real binary:
//   fake_apiserver --port-file F --state-dir D [--port P] [--token T] [--bookmark-ms N] [--max-watch-ms N]
// Writes D/ca.crt, D/token and D/kubeconfig (for --kubeconfig), appends every request to D/requests.jsonl, then
// writes the port to F (last, so F appearing means "ready"). Drive it with HTTPS: the Kubernetes API itself
// (bearer token) and the /fake/* control endpoints (see fake_apiserver.h). Stops on SIGTERM/SIGINT.
#include <signal.h>

#include <cstdio>
#include <filesystem>

#include "tests/fakes/fake_apiserver.h"
#include "tests/fakes/standalone.h"

int main(int argc, char** argv) {
  using namespace slo::fakes;
  auto flags = parse_flags(argc, argv,
                           "--port-file F --state-dir D [--port P] [--token T] [--bookmark-ms N] [--max-watch-ms N]");
  if (!flags.count("port-file") || !flags.count("state-dir")) {
    std::fprintf(stderr, "fake_apiserver: --port-file and --state-dir are required\n");
    return 2;
  }
  // Block the stop signals before any thread starts so that only sigwait sees them.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  FakeApiServer::Options o;
  o.state_dir = flags["state-dir"];
  std::filesystem::create_directories(o.state_dir);
  if (flags.count("port")) o.port = static_cast<uint16_t>(std::stoi(flags["port"]));
  if (flags.count("token")) o.token = flags["token"];
  if (flags.count("bookmark-ms")) o.bookmark_interval = std::chrono::milliseconds(std::stoll(flags["bookmark-ms"]));
  if (flags.count("max-watch-ms")) o.max_watch = std::chrono::milliseconds(std::stoll(flags["max-watch-ms"]));
  FakeApiServer server(o);
  server.start();
  write_file_atomic(o.state_dir + "/ca.crt", server.ca_pem());
  write_file_atomic(o.state_dir + "/token", server.token());
  write_file_atomic(o.state_dir + "/kubeconfig", make_kubeconfig(server.port(), server.ca_pem(), server.token()));
  write_file_atomic(flags["port-file"], std::to_string(server.port()) + "\n");
  std::fprintf(stderr, "fake_apiserver: listening on 127.0.0.1:%u\n", server.port());
  wait_for_termination();
  server.stop();
  return 0;
}
