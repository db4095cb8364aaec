// In-cluster config and kubeconfig parsing, server URLs, base64, token rotation, request bodies.
#include <catch2/catch.hpp>

#include <openssl/evp.h>

#include <fstream>
#include <thread>

#include "agent/kube/api_objects.h"
#include "agent/kube/kube_config.h"
#include "tests/common/support.h"
#include "tests/kube/api_fixture.h"

using namespace slo;
using namespace std::chrono_literals;

namespace {
std::string b64(const std::string& in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}
}  // namespace

TEST_CASE("server URLs", "[config]") {
  kube::Endpoint ep;
  std::string err;
  REQUIRE(kube::parse_server_url("https://10.0.0.1:6443", &ep, &err));
  CHECK(ep.host == "10.0.0.1");
  CHECK(ep.port == 6443);
  REQUIRE(kube::parse_server_url("https://api.example.com/", &ep, &err));
  CHECK(ep.host == "api.example.com");
  CHECK(ep.port == 443);
  REQUIRE(kube::parse_server_url("https://[fd00::1]:6443", &ep, &err));
  CHECK(ep.host == "fd00::1");
  CHECK(ep.url() == "https://[fd00::1]:6443");
  CHECK_FALSE(kube::parse_server_url("http://10.0.0.1:8080", &ep, &err));
  CHECK(err.find("only https") != std::string::npos);
  CHECK_FALSE(kube::parse_server_url("https://host:99999", &ep, &err));
  CHECK_FALSE(kube::parse_server_url("https://host/prefix", &ep, &err));
}

TEST_CASE("base64 decoding", "[config]") {
  CHECK(kube::base64_decode(b64("hello, world")) == "hello, world");
  CHECK(kube::base64_decode("aGk=") == "hi");
  CHECK_FALSE(kube::base64_decode("a*b"));
}

TEST_CASE("in-cluster config from env and the service-account dir", "[config]") {
  test::TempDir d;
  auto r = kube::in_cluster_config("", "", d.path());
  CHECK_FALSE(r.config);
  CHECK(r.error.find("KUBERNETES_SERVICE_HOST") != std::string::npos);
  r = kube::in_cluster_config("10.96.0.1", "443", d.path());
  CHECK_FALSE(r.config);
  CHECK(r.error.find("token") != std::string::npos);
  d.write("token", "tok-1\n");
  d.write("ca.crt", "PEM");
  r = kube::in_cluster_config("10.96.0.1", "443", d.path());
  REQUIRE(r.config);
  CHECK(r.config->endpoint.host == "10.96.0.1");
  CHECK(r.config->endpoint.port == 443);
  CHECK(r.config->tls.ca_file == d.sub("ca.crt"));
  CHECK(r.config->token.token() == "tok-1");
  r = kube::in_cluster_config("fd00::10", "6443", d.path());
  REQUIRE(r.config);
  CHECK(r.config->endpoint.host == "fd00::10");
}

TEST_CASE("token file is re-read when it rotates", "[config]") {
  test::TempDir d;
  d.write("token", "first");
  auto t = kube::TokenSource::file(d.sub("token"));
  CHECK(t.token() == "first");
  CHECK(t.token() == "first");
  CHECK(t.reloads() == 1);  // unchanged file: stat only
  // The kubelet swaps projected tokens atomically (new inode).
  d.write("token.new", "second");
  REQUIRE(std::rename(d.sub("token.new").c_str(), d.sub("token").c_str()) == 0);
  CHECK(t.token() == "second");
  CHECK(t.reloads() == 2);
  std::remove(d.sub("token").c_str());
  std::string err;
  CHECK(t.token(&err) == "second");  // keeps the last good one
  CHECK(err.find("No such file") != std::string::npos);
}

TEST_CASE("kubeconfig: token, CA data, relative files, client certs, errors", "[config]") {
  test::TempDir d;
  d.write("ca.pem", "CA");
  d.write("kc", R"(apiVersion: v1
kind: Config
current-context: prod
clusters:
- name: c1
  cluster:
    server: https://10.1.2.3:6443
    certificate-authority-data: )" + b64("CA-PEM") + R"(
- name: c2
  cluster:
    server: https://kube.local
    certificate-authority: ca.pem
- name: c3
  cluster:
    server: https://kube.insecure:8443
    insecure-skip-tls-verify: true
users:
- name: u-token
  user:
    token: abc
- name: u-cert
  user:
    client-certificate-data: )" + b64("CERT") + R"(
    client-key-data: )" + b64("KEY") + R"(
- name: u-file
  user:
    tokenFile: tok
- name: u-exec
  user:
    exec:
      command: aws
contexts:
- name: prod
  context: {cluster: c1, user: u-token}
- name: files
  context: {cluster: c2, user: u-file}
- name: cert
  context: {cluster: c3, user: u-cert}
- name: exec
  context: {cluster: c1, user: u-exec}
)");
  d.write("tok", "from-file");
  auto r = kube::load_kubeconfig(d.sub("kc"));
  REQUIRE(r.config);
  CHECK(r.config->endpoint.host == "10.1.2.3");
  CHECK(r.config->endpoint.port == 6443);
  CHECK(r.config->tls.ca_pem == "CA-PEM");
  CHECK(r.config->token.token() == "abc");
  CHECK(r.config->source.find("context prod") != std::string::npos);

  r = kube::load_kubeconfig(d.sub("kc"), "files");
  REQUIRE(r.config);
  CHECK(r.config->tls.ca_file == d.sub("ca.pem"));
  CHECK(r.config->token.token() == "from-file");
  CHECK(r.config->endpoint.port == 443);

  r = kube::load_kubeconfig(d.sub("kc"), "cert");
  REQUIRE(r.config);
  CHECK(r.config->tls.insecure);
  CHECK(r.config->tls.client_cert_pem == "CERT");
  CHECK(r.config->tls.client_key_pem == "KEY");
  CHECK(r.config->token.empty());

  r = kube::load_kubeconfig(d.sub("kc"), "exec");
  CHECK_FALSE(r.config);
  CHECK(r.error.find("exec/auth-provider") != std::string::npos);
  r = kube::load_kubeconfig(d.sub("kc"), "nope");
  CHECK(r.error.find("context 'nope' not found") != std::string::npos);
  r = kube::load_kubeconfig(d.sub("missing"));
  CHECK(r.error.find("missing") != std::string::npos);
}

TEST_CASE("a kubeconfig written for the fake server works end to end", "[config]") {
  test::ApiFixture f;
  f.server.create("/api/v1/nodes", test::node("node-a"));
  test::TempDir d;
  d.write("kubeconfig", fakes::make_kubeconfig(f.server.port(), f.server.ca_pem(), f.server.token()));
  auto r = kube::load_client_config(d.sub("kubeconfig"));
  REQUIRE(r.config);
  std::string err;
  auto c = kube::Client::create(f.thread->io(), *r.config, {}, &err);
  REQUIRE(c);
  auto got = c->get("/api/v1/nodes/node-a");
  REQUIRE(got.ok);
  CHECK(got.json()["metadata"]["name"] == "node-a");
}

TEST_CASE("request bodies are well-formed without a server", "[config]") {
  auto p = kube::node_batch_resources_patch(250, 1024);
  CHECK(p["status"]["capacity"]["kubernetes.io/batch-cpu"] == "250");
  CHECK(p["status"]["allocatable"]["kubernetes.io/batch-memory"] == "1024");
  auto e = kube::pod_eviction("ns", "p", std::nullopt);
  CHECK_FALSE(e.contains("deleteOptions"));
  kube::EventSpec s;
  s.namespace_ = "ns";
  s.pod_name = "p";
  s.reason = "Evicted";
  s.message = "memory pressure";
  s.warning = true;
  auto ev = kube::pod_event(s, std::chrono::system_clock::time_point{});
  CHECK(ev["type"] == "Warning");
  CHECK(ev["firstTimestamp"] == "1970-01-01T00:00:00Z");
  CHECK_FALSE(ev["involvedObject"].contains("uid"));
  CHECK(kube::url_escape("spec.nodeName=node a,x!=y") == "spec.nodeName%3Dnode%20a%2Cx%21%3Dy");
}
