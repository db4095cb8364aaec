// The exposition as real Prometheus tooling sees it: `promtool check metrics` on a live scrape must be clean, and a
// real Prometheus server scraping the endpoint answers a query for one of its series. Bounded to ~30 s.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "agent/api/metrics_server.h"
#include "slo_config.h"
#include "tests/api/fake_queries.h"
#include "tests/api/http_client.h"
#include "tests/api/process.h"
#include "tests/common/support.h"

using nlohmann::json;

namespace {

std::string which(const std::string& prog) {
  for (const char* dir : {"/usr/bin", "/usr/local/bin", "/bin"}) {
    std::string p = std::string(dir) + "/" + prog;
    if (::access(p.c_str(), X_OK) == 0) return p;
  }
  FAIL(prog << " not found: install the Debian package (scripts/install-deps.sh --with-tests installs it)");
  return {};
}

// Series shaped like the agent's: pod labels, a histogram, base units.
void fill(prometheus::Registry& r) {
  prometheus::BuildCounter()
      .Name("sloagent_container_cpu_throttled_periods_total")
      .Help("CFS periods in which the container was throttled")
      .Register(r)
      .Add({{"namespace", "default"}, {"pod", "web-0"}, {"container", "nginx"}, {"qos", "LS"}})
      .Increment(7);
  prometheus::BuildGauge()
      .Name("sloagent_pod_memory_working_set_bytes")
      .Help("Working set of the pod")
      .Register(r)
      .Add({{"namespace", "default"}, {"pod", "web-0"}, {"qos", "LS"}})
      .Set(123456789);
  auto& h = prometheus::BuildHistogram()
                .Name("sloagent_controller_tick_duration_seconds")
                .Help("Time one controller's decide() took")
                .Register(r)
                .Add({{"controller", "CpuBurst"}}, prometheus::Histogram::BucketBoundaries{0.0001, 0.001, 0.01});
  h.Observe(0.0004);
  h.Observe(0.02);
}

json query(const std::string& curl, uint16_t port, const std::string& promql) {
  slo::test::RunOptions opts;
  opts.timeout_ms = 5000;
  auto r = slo::test::run_process({curl, "-sf", "--max-time", "2", "-G",
                                   "http://127.0.0.1:" + std::to_string(port) + "/api/v1/query", "--data-urlencode",
                                   "query=" + promql},
                                  opts);
  if (r.exit_code != 0) return nullptr;
  json j = json::parse(r.out, nullptr, false);
  return j.is_discarded() ? json(nullptr) : j;
}

}  // namespace

TEST_CASE("promtool accepts a live scrape", "[prometheus]") {
  std::string promtool = which("promtool");
  slo::test::TempDir tmp;
  slo::test::FakeQueries fake;
  auto registry = std::make_shared<prometheus::Registry>();
  fill(*registry);
  slo::agent::MetricsServer server("127.0.0.1:0", registry, fake);
  REQUIRE_FALSE(server.start());
  (void)slo::test::http_get(server.port(), "/healthz");  // so the HTTP counter has a series too
  auto scrape = slo::test::http_get(server.port(), "/metrics");
  REQUIRE(scrape.status == 200);
  tmp.write("scrape.txt", scrape.body);
  auto r = slo::test::run_process({"/bin/sh", "-c", promtool + " check metrics < " + tmp.sub("scrape.txt")});
  INFO("scrape:\n" << scrape.body << "\npromtool stdout: " << r.out << "\npromtool stderr: " << r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out.empty());
  CHECK(r.err.empty());
}

TEST_CASE("a real Prometheus server scrapes the endpoint and answers a query", "[prometheus]") {
  std::string prometheus_bin = which("prometheus");
  std::string curl = which("curl");
  slo::test::TempDir tmp;
  slo::test::FakeQueries fake;
  auto registry = std::make_shared<prometheus::Registry>();
  fill(*registry);
  slo::agent::MetricsServer server("127.0.0.1:0", registry, fake);
  REQUIRE_FALSE(server.start());

  uint16_t prom_port = slo::test::free_port();
  tmp.write("prometheus.yml",
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
            "scrape_configs:\n  - job_name: sloagent\n    static_configs:\n      - targets: ['127.0.0.1:" +
                std::to_string(server.port()) + "']\n");
  slo::test::Background prom({prometheus_bin, "--config.file=" + tmp.sub("prometheus.yml"),
                              "--storage.tsdb.path=" + tmp.sub("data"),
                              "--web.listen-address=127.0.0.1:" + std::to_string(prom_port), "--log.level=warn"},
                             tmp.sub("prometheus.log"));

  json build, throttled;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(25);
  while (std::chrono::steady_clock::now() < deadline && prom.running()) {
    build = query(curl, prom_port, "sloagent_build_info");
    if (build.is_object() && build["status"] == "success" && !build["data"]["result"].empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  INFO("prometheus log:\n" << tmp.read("prometheus.log"));
  REQUIRE(prom.running());
  REQUIRE(build.is_object());
  REQUIRE(build["data"]["result"].size() == 1);
  const json& series = build["data"]["result"][0];
  CHECK(series["metric"]["version"] == SLO_VERSION);
  CHECK(series["metric"]["job"] == "sloagent");
  CHECK(series["value"][1] == "1");

  throttled = query(curl, prom_port, "sloagent_container_cpu_throttled_periods_total{namespace=\"default\",pod=\"web-0\"}");
  REQUIRE(throttled.is_object());
  REQUIRE(throttled["data"]["result"].size() == 1);
  CHECK(throttled["data"]["result"][0]["metric"]["qos"] == "LS");
  CHECK(throttled["data"]["result"][0]["value"][1] == "7");
  json up = query(curl, prom_port, "up{job=\"sloagent\"}");
  REQUIRE(up.is_object());
  CHECK(up["data"]["result"][0]["value"][1] == "1");
}
