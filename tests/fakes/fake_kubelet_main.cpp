// Standalone fake kubelet for end-to-end tests of the real binary:
//   fake_kubelet --port-file F --state-dir D --pods-file P [--port N] [--token T]
// Serves GET /pods (the content of P, re-read per request) over HTTPS with bearer-token auth. Writes D/ca.crt and
// D/token, then the port to F (last: F appearing means "ready"). Stops on SIGTERM/SIGINT.
#include <signal.h>

#include <cstdio>
#include <filesystem>

#include "tests/fakes/fake_kubelet.h"
#include "tests/fakes/standalone.h"

int main(int argc, char** argv) {
  using namespace slo::fakes;
  auto flags = parse_flags(argc, argv, "--port-file F --state-dir D --pods-file P [--port N] [--token T]");
  if (!flags.count("port-file") || !flags.count("state-dir") || !flags.count("pods-file")) {
    std::fprintf(stderr, "fake_kubelet: --port-file, --state-dir and --pods-file are required\n");
    return 2;
  }
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  std::string dir = flags["state-dir"];
  std::filesystem::create_directories(dir);
  std::string token = flags.count("token") ? flags["token"] : "kubelet-test-token";
  FakeKubelet kubelet(token, flags.count("port") ? static_cast<uint16_t>(std::stoi(flags["port"])) : 0);
  kubelet.set_pods_file(flags["pods-file"]);
  kubelet.start();
  write_file_atomic(dir + "/ca.crt", kubelet.ca_pem());
  write_file_atomic(dir + "/token", token);
  write_file_atomic(flags["port-file"], std::to_string(kubelet.port()) + "\n");
  std::fprintf(stderr, "fake_kubelet: listening on 127.0.0.1:%u\n", kubelet.port());
  wait_for_termination();
  kubelet.stop();
  return 0;
}
