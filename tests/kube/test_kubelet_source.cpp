// KubeletPodSource against the fake kubelet: success, auth failures, slow and broken responses, dropped
// connections, TLS trust, token rotation, backoff, and the registration `sloagent run` uses.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "agent/model/pod.h"
#include "agent/observe/kubelet/kubelet_pod_source.h"
#include "agent/observe/pod_source_registry.h"
#include "tests/common/support.h"
#include "tests/fakes/fake_kubelet.h"

using namespace slo;
using namespace std::chrono_literals;
using Mode = fakes::FakeKubelet::Mode;

namespace {

std::string read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct KubeletEnv {
  test::TempDir dir;
  fakes::FakeKubelet kubelet{"tok-1"};
  std::string pods = read(test::fixture("kubelet/gke-k8s1.10-containerd-kubelet-pods.json"));

  KubeletEnv() {
    kubelet.set_pods_json(pods);
    kubelet.start();
    dir.write("sa/token", "tok-1\n");
    dir.write("kubelet-ca.crt", kubelet.ca_pem());
  }
  agent::KubeletSourceOptions options() const {
    agent::KubeletSourceOptions o;
    o.host = "127.0.0.1";
    o.port = kubelet.port();
    o.token_file = dir.sub("sa/token");
    o.ca_file = dir.sub("kubelet-ca.crt");
    o.connect_timeout = 2s;
    o.read_timeout = 2s;
    return o;
  }
};

}  // namespace

TEST_CASE("kubelet source fetches and parses /pods with the bearer token", "[kubelet]") {
  KubeletEnv env;
  agent::KubeletPodSource src(env.options());
  CHECK(src.name() == "kubelet");
  auto f = src.fetch();
  INFO(f.error);
  REQUIRE(f.ok);
  auto expected = model::parse_pod_list(env.pods);
  CHECK(f.pods.pods.size() == expected.pods.size());
  CHECK(f.pods.pods.size() > 0);
  CHECK(env.kubelet.last_authorization() == "Bearer tok-1");
  CHECK(src.next_delay(true) == 10s);
  CHECK(src.url() == "https://127.0.0.1:" + std::to_string(env.kubelet.port()) + "/pods");
}

TEST_CASE("kubelet source: 401 and 403 say what to fix, and back off", "[kubelet]") {
  KubeletEnv env;
  agent::KubeletPodSource src(env.options());
  env.kubelet.set_mode(Mode::unauthorized);
  auto f = src.fetch();
  CHECK_FALSE(f.ok);
  CHECK(f.error.find("401 Unauthorized: token rejected") != std::string::npos);
  CHECK(f.error.find(env.dir.sub("sa/token")) != std::string::npos);
  auto d1 = src.next_delay(false);
  auto d2 = src.next_delay(false);
  CHECK(d1 >= 800ms);
  CHECK(d1 <= 960ms);
  CHECK(d2 >= 1280ms);

  env.kubelet.set_mode(Mode::forbidden);
  f = src.fetch();
  CHECK_FALSE(f.ok);
  CHECK(f.error.find("403 Forbidden: RBAC missing nodes/proxy") != std::string::npos);
  CHECK(f.error.find('\n') == std::string::npos);

  env.kubelet.set_mode(Mode::ok);
  CHECK(src.fetch().ok);
  CHECK(src.next_delay(true) == 10s);
  CHECK(src.next_delay(false) <= 960ms);  // backoff starts over after a success
}

TEST_CASE("kubelet source: a slow kubelet hits the read timeout", "[kubelet]") {
  KubeletEnv env;
  auto o = env.options();
  o.read_timeout = 300ms;
  agent::KubeletPodSource src(o);
  env.kubelet.set_mode(Mode::slow);
  env.kubelet.set_delay(3000ms);
  auto t0 = std::chrono::steady_clock::now();
  auto f = src.fetch();
  CHECK(std::chrono::steady_clock::now() - t0 < 2000ms);
  CHECK_FALSE(f.ok);
  CHECK(f.error.find("timed out after 0.3 s") != std::string::npos);
}

TEST_CASE("kubelet source: broken JSON, dropped connection, refused connection", "[kubelet]") {
  KubeletEnv env;
  agent::KubeletPodSource src(env.options());
  env.kubelet.set_mode(Mode::broken_json);
  auto f = src.fetch();
  CHECK_FALSE(f.ok);
  CHECK(f.error.find("bad JSON in /pods response") != std::string::npos);

  env.kubelet.set_mode(Mode::drop);
  f = src.fetch();
  CHECK_FALSE(f.ok);
  CHECK(f.error.find("kubelet https://127.0.0.1:") != std::string::npos);
  CHECK(f.error.find('\n') == std::string::npos);

  env.kubelet.set_mode(Mode::ok);
  env.kubelet.set_pods_json(R"({"kind":"Status"})");
  f = src.fetch();
  CHECK_FALSE(f.ok);
  CHECK(f.error.find("not a PodList") != std::string::npos);

  auto o = env.options();
  env.kubelet.stop();
  agent::KubeletPodSource gone(o);
  f = gone.fetch();
  CHECK_FALSE(f.ok);
  CHECK(f.error.find("is the kubelet listening") != std::string::npos);
}

TEST_CASE("kubelet source picks up a rotated token on the next fetch", "[kubelet]") {
  KubeletEnv env;
  agent::KubeletPodSource src(env.options());
  REQUIRE(src.fetch().ok);
  env.kubelet.set_token("tok-2");  // the old token is now rejected
  CHECK_FALSE(src.fetch().ok);
  env.dir.write("sa/token.tmp", "tok-2\n");
  REQUIRE(std::rename(env.dir.sub("sa/token.tmp").c_str(), env.dir.sub("sa/token").c_str()) == 0);
  auto f = src.fetch();
  INFO(f.error);
  CHECK(f.ok);
  CHECK(env.kubelet.last_authorization() == "Bearer tok-2");
  CHECK(src.token_reloads() == 2);
}

TEST_CASE("kubelet source TLS: untrusted certificate, insecure mode, service-account CA default", "[kubelet]") {
  KubeletEnv env;
  auto o = env.options();
  o.ca_file = env.dir.sub("no-such-ca.crt");
  auto f = agent::KubeletPodSource(o).fetch();
  CHECK_FALSE(f.ok);
  CHECK(f.error.find("CA file") != std::string::npos);

  // Another CA: verification fails and the message names the knobs.
  fakes::FakeKubelet other;
  env.dir.write("other-ca.crt", other.ca_pem());
  o.ca_file = env.dir.sub("other-ca.crt");
  f = agent::KubeletPodSource(o).fetch();
  CHECK_FALSE(f.ok);
  CHECK(f.error.find("certificate verify failed") != std::string::npos);
  CHECK(f.error.find("--kubelet-ca-file") != std::string::npos);

  o.ca_file.clear();
  o.insecure_tls = true;
  f = agent::KubeletPodSource(o).fetch();
  INFO(f.error);
  CHECK(f.ok);

  // Without --kubelet-ca-file the service-account ca.crt next to the token is used.
  env.dir.write("sa/ca.crt", env.kubelet.ca_pem());
  o.insecure_tls = false;
  agent::KubeletPodSource sa(o);
  CHECK(sa.options().ca_file == env.dir.sub("sa/ca.crt"));
  CHECK(sa.fetch().ok);
}

TEST_CASE("the kubelet source registers its command-line options", "[kubelet]") {
  const agent::PodSourceRegistration* reg = nullptr;
  for (const auto& r : agent::pod_source_registry())
    if (r.name == "kubelet") reg = &r;
  REQUIRE(reg);
  for (const char* opt : {"--kubelet-host", "--kubelet-port", "--kubelet-token-file", "--kubelet-ca-file"})
    CHECK(std::find(reg->value_options.begin(), reg->value_options.end(), opt) != reg->value_options.end());
  CHECK(reg->flag_options == std::vector<std::string>{"--kubelet-insecure-tls"});

  agent::PodSourceOptions so;
  so.values["--kubelet-host"] = "10.0.0.5";
  so.values["--kubelet-port"] = "10255";
  so.values["--kubelet-interval-ms"] = "5000";
  std::string err;
  auto src = reg->make(so, err);
  REQUIRE(src);
  auto* k = dynamic_cast<agent::KubeletPodSource*>(src.get());
  REQUIRE(k);
  CHECK(k->options().host == "10.0.0.5");
  CHECK(k->options().port == 10255);
  CHECK(k->options().interval == 5000ms);

  so.values["--kubelet-port"] = "0";
  CHECK_FALSE(reg->make(so, err));
  CHECK(err.find("--kubelet-port") != std::string::npos);
  so.values["--kubelet-port"] = "10250";
  so.values["--kubelet-ca-file"] = "/x";
  so.flags.push_back("--kubelet-insecure-tls");
  CHECK_FALSE(reg->make(so, err));
  CHECK(err.find("exclude each other") != std::string::npos);
}
