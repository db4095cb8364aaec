// The metrics/health HTTP endpoint: exposition of the runtime's registry, probes, errors, address handling.
#include <catch2/catch.hpp>

#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include "agent/api/listen_addr.h"
#include "agent/api/metrics_server.h"
#include "slo_config.h"
#include "tests/api/fake_queries.h"
#include "tests/api/http_client.h"

using slo::test::http_get;

TEST_CASE("listen addresses", "[unit][metrics]") {
  using slo::api::parse_listen_addr;
  auto a = parse_listen_addr("127.0.0.1:9464");
  REQUIRE(a);
  CHECK(a->host == "127.0.0.1");
  CHECK(a->port == 9464);
  a = parse_listen_addr("[::1]:0");
  REQUIRE(a);
  CHECK(a->host == "::1");
  CHECK(a->port == 0);
  a = parse_listen_addr(":9464");
  REQUIRE(a);
  CHECK(a->host == "0.0.0.0");
  std::string err;
  CHECK_FALSE(parse_listen_addr("9464", &err));
  CHECK(err.find("expected HOST:PORT") != std::string::npos);
  CHECK_FALSE(parse_listen_addr("::1:9464"));
  CHECK_FALSE(parse_listen_addr("host:70000"));
  CHECK_FALSE(parse_listen_addr("host:"));
  CHECK_FALSE(parse_listen_addr("host:9x"));
}

TEST_CASE("metrics server: /metrics, /healthz, /readyz", "[unit][metrics]") {
  slo::test::FakeQueries fake;
  auto registry = std::make_shared<prometheus::Registry>();
  auto& c = prometheus::BuildCounter().Name("sloagent_test_events_total").Help("test").Register(*registry).Add({});
  c.Increment(3);
  slo::agent::MetricsServer server("127.0.0.1:0", registry, fake);
  auto err = server.start();
  INFO(err.value_or(""));
  REQUIRE_FALSE(err);
  REQUIRE(server.port() != 0);

  auto m = http_get(server.port(), "/metrics");
  CHECK(m.status == 200);
  CHECK(m.headers.find("Content-Type: text/plain; version=0.0.4; charset=utf-8") != std::string::npos);
  CHECK(m.body.find("sloagent_build_info{version=\"" SLO_VERSION "\"} 1") != std::string::npos);
  CHECK(m.body.find("sloagent_test_events_total 3") != std::string::npos);
  CHECK(m.body.find("# TYPE sloagent_start_time_seconds gauge") != std::string::npos);

  CHECK(http_get(server.port(), "/healthz").status == 200);
  CHECK(http_get(server.port(), "/healthz").body == "ok\n");
  CHECK(http_get(server.port(), "/readyz").status == 200);
  fake.is_ready = false;
  auto not_ready = http_get(server.port(), "/readyz");
  CHECK(not_ready.status == 503);
  CHECK(not_ready.body.find("not ready") != std::string::npos);
  fake.is_ready = true;
  CHECK(http_get(server.port(), "/readyz?verbose=1").status == 200);

  CHECK(http_get(server.port(), "/nope").status == 404);
  auto post = http_get(server.port(), "/metrics", "POST");
  CHECK(post.status == 405);
  CHECK(post.headers.find("Allow: GET") != std::string::npos);

  // Keep-alive: several requests on one connection (Prometheus reuses its connection).
  auto many = slo::test::http_exchange(server.port(), {"/healthz", "/metrics", "/readyz"});
  REQUIRE(many.size() == 3);
  CHECK(many[0].status == 200);
  CHECK(many[1].body.find("sloagent_build_info") != std::string::npos);
  CHECK(many[2].status == 200);

  // The endpoint counts itself (seen on the next scrape).
  auto again = http_get(server.port(), "/metrics");
  CHECK(again.body.find("sloagent_http_requests_total{code=\"503\",path=\"/readyz\"} 1") != std::string::npos);
  CHECK(again.body.find("sloagent_http_requests_total{code=\"404\",path=\"other\"} 1") != std::string::npos);

  server.stop();
  CHECK_THROWS(http_get(server.port(), "/healthz"));
}

TEST_CASE("metrics server: bad or busy addresses are reported", "[unit][metrics]") {
  slo::test::FakeQueries fake;
  auto registry = std::make_shared<prometheus::Registry>();
  slo::agent::MetricsServer bad("localhost", registry, fake);
  auto err = bad.start();
  REQUIRE(err);
  CHECK(err->find("expected HOST:PORT") != std::string::npos);

  slo::agent::MetricsServer first("127.0.0.1:0", registry, fake);
  REQUIRE_FALSE(first.start());
  slo::agent::MetricsServer second("127.0.0.1:" + std::to_string(first.port()), registry, fake);
  err = second.start();
  REQUIRE(err);
  CHECK(err->find("cannot bind metrics address 127.0.0.1:" + std::to_string(first.port())) != std::string::npos);

  // Two servers on one registry share the build-info series.
  auto m = http_get(first.port(), "/metrics");
  auto pos = m.body.find("sloagent_build_info{");
  REQUIRE(pos != std::string::npos);
  CHECK(m.body.find("sloagent_build_info{", pos + 1) == std::string::npos);
}
