// Client requests against the fake API server: node status and annotation patches (exact bodies), Events,
// Evictions, error lines for 401/403/TLS, the token bucket, and the steady-state request budget.
#include <catch2/catch.hpp>

#include <random>

#include "agent/kube/cluster_actions_kube.h"
#include "agent/kube/node_report.h"
#include "tests/common/support.h"
#include "tests/kube/api_fixture.h"

using namespace slo;
using namespace slo::test;
using nlohmann::json;
using namespace std::chrono_literals;

TEST_CASE("node status PATCH carries batch resources as a merge patch", "[client]") {
  ApiFixture f;
  f.server.create("/api/v1/nodes", node("node-a"));
  auto r = f.client->patch_node_batch_resources("node-a", 1500, 2147483648);
  REQUIRE(r.ok);
  auto reqs = f.server.requests("PATCH", "/api/v1/nodes/node-a/status");
  REQUIRE(reqs.size() == 1);
  CHECK(reqs[0].content_type == "application/merge-patch+json");
  json expected = {{"status",
                    {{"capacity", {{"kubernetes.io/batch-cpu", "1500"}, {"kubernetes.io/batch-memory", "2147483648"}}},
                     {"allocatable",
                      {{"kubernetes.io/batch-cpu", "1500"}, {"kubernetes.io/batch-memory", "2147483648"}}}}}};
  CHECK(json::parse(reqs[0].body) == expected);
  auto n = f.server.get("/api/v1/nodes", "", "node-a");
  REQUIRE(n);
  CHECK((*n)["status"]["capacity"]["kubernetes.io/batch-cpu"] == "1500");
  CHECK((*n)["status"]["capacity"]["cpu"] == "8");  // a merge patch keeps the rest
  CHECK((*n)["status"]["allocatable"]["kubernetes.io/batch-memory"] == "2147483648");
  CHECK(f.client->counters().get(kube::Verb::patch) == 1);
}

TEST_CASE("node annotations PATCH sets and removes keys", "[client]") {
  ApiFixture f;
  f.server.create("/api/v1/nodes", node("node-a"));
  REQUIRE(f.client->patch_node_annotations("node-a", {{"sloagent.io/cpu-topology", "{\"cpus\":8}"}}).ok);
  REQUIRE(f.client->patch_node_annotations("node-a", {{"sloagent.io/cpu-topology", std::nullopt}}).ok);
  auto reqs = f.server.requests("PATCH", "/api/v1/nodes/node-a");
  REQUIRE(reqs.size() == 2);
  CHECK(json::parse(reqs[0].body) ==
        json{{"metadata", {{"annotations", {{"sloagent.io/cpu-topology", "{\"cpus\":8}"}}}}}});
  CHECK(json::parse(reqs[1].body)["metadata"]["annotations"]["sloagent.io/cpu-topology"].is_null());
  auto n = f.server.get("/api/v1/nodes", "", "node-a");
  bool still_there =
      (*n)["metadata"].contains("annotations") && (*n)["metadata"]["annotations"].contains("sloagent.io/cpu-topology");
  CHECK_FALSE(still_there);
}

TEST_CASE("NodeReporter sends annotations only when they change", "[client]") {
  ApiFixture f;
  f.server.create("/api/v1/nodes", node("node-a"));
  kube::NodeReporter rep(*f.client, "node-a");
  CHECK(rep.report_annotations({{"a", "1"}, {"b", "2"}}));
  CHECK_FALSE(rep.report_annotations({{"a", "1"}, {"b", "2"}}));
  CHECK(rep.report_annotations({{"a", "1"}}));  // b removed with null
  auto reqs = f.server.requests("PATCH", "/api/v1/nodes/node-a");
  REQUIRE(reqs.size() == 2);
  CHECK(json::parse(reqs[1].body)["metadata"]["annotations"]["b"].is_null());
}

TEST_CASE("Events are posted as core/v1 Events on the pod", "[client]") {
  ApiFixture f;
  kube::EventSpec e;
  e.namespace_ = "default";
  e.pod_name = "web-1";
  e.pod_uid = "uid-1";
  e.reason = "CpuBurstRaised";
  e.message = "cfs quota raised to 2.0 CPUs for 30 s";
  e.node = "node-a";
  e.action = "Burst";
  auto r = f.client->create_event(e);
  REQUIRE(r.ok);
  CHECK(r.status == 201);
  auto reqs = f.server.requests("POST", "/api/v1/namespaces/default/events");
  REQUIRE(reqs.size() == 1);
  json b = json::parse(reqs[0].body);
  CHECK(b["apiVersion"] == "v1");
  CHECK(b["kind"] == "Event");
  CHECK(b["involvedObject"] == json{{"apiVersion", "v1"}, {"kind", "Pod"}, {"namespace", "default"},
                                     {"name", "web-1"}, {"uid", "uid-1"}});
  CHECK(b["reason"] == "CpuBurstRaised");
  CHECK(b["type"] == "Normal");
  CHECK(b["source"]["component"] == "sloagent");
  CHECK(b["source"]["host"] == "node-a");
  CHECK(b["reportingInstance"] == "node-a");
  CHECK(b["metadata"]["generateName"] == "web-1.");
  CHECK(f.client->counters().get(kube::Verb::create) == 1);
}

TEST_CASE("Eviction API: 201 evicts, 429 (PDB) is reported", "[client]") {
  ApiFixture f;
  f.server.create("/api/v1/pods", pod("default", "be-1", "node-a"));
  f.server.create("/api/v1/pods", pod("default", "be-2", "node-a"));
  auto r = f.client->evict_pod("default", "be-1", 30);
  REQUIRE(r.ok);
  auto reqs = f.server.requests("POST", "/api/v1/namespaces/default/pods/be-1/eviction");
  REQUIRE(reqs.size() == 1);
  json b = json::parse(reqs[0].body);
  CHECK(b["apiVersion"] == "policy/v1");
  CHECK(b["kind"] == "Eviction");
  CHECK(b["metadata"] == json{{"name", "be-1"}, {"namespace", "default"}});
  CHECK(b["deleteOptions"]["gracePeriodSeconds"] == 30);
  CHECK_FALSE(f.server.get("/api/v1/pods", "default", "be-1"));

  f.server.set_eviction_status(429);
  auto blocked = f.client->evict_pod("default", "be-2", std::nullopt);
  CHECK_FALSE(blocked.ok);
  CHECK(blocked.status == 429);
  CHECK(blocked.error.find("429 Too Many Requests") != std::string::npos);
  CHECK(blocked.error.find("disruption budget") != std::string::npos);
  CHECK(f.server.get("/api/v1/pods", "default", "be-2"));
}

TEST_CASE("401, 403 and TLS failures give one clear line", "[client]") {
  ApiFixture f;
  f.server.create("/api/v1/nodes", node("node-a"));
  f.server.set_auth(fakes::FakeApiServer::Auth::unauthorized);
  auto r = f.client->get("/api/v1/nodes/node-a");
  CHECK_FALSE(r.ok);
  CHECK(r.error.find("401 Unauthorized: token rejected") != std::string::npos);
  f.server.set_auth(fakes::FakeApiServer::Auth::forbidden);
  r = f.client->patch_node_batch_resources("node-a", 1, 1);
  CHECK(r.error.find("403 Forbidden: RBAC") != std::string::npos);
  CHECK(r.error.find("cannot PATCH /api/v1/nodes/node-a/status") != std::string::npos);
  CHECK(r.error.find('\n') == std::string::npos);
  f.server.set_auth(fakes::FakeApiServer::Auth::ok);

  // A client that trusts another CA.
  fakes::FakeApiServer other;
  other.start();
  auto cfg = f.config();
  cfg.tls.ca_pem = other.ca_pem();
  std::string err;
  auto wrong = kube::Client::create(f.thread->io(), cfg, {}, &err);
  REQUIRE(wrong);
  auto bad = wrong->get("/api/v1/nodes/node-a");
  CHECK_FALSE(bad.ok);
  CHECK(bad.status == 0);
  CHECK(bad.error.find("certificate verify failed") != std::string::npos);
  CHECK(bad.error.find("check the cluster CA") != std::string::npos);

  // insecure-skip-tls-verify accepts it.
  cfg.tls = {};
  cfg.tls.insecure = true;
  auto insecure = kube::Client::create(f.thread->io(), cfg, {}, &err);
  REQUIRE(insecure);
  CHECK(insecure->get("/api/v1/nodes/node-a").ok);

  // Garbage CA material is refused up front.
  cfg.tls = {};
  cfg.tls.ca_pem = "not a certificate";
  CHECK_FALSE(kube::Client::create(f.thread->io(), cfg, {}, &err));
  CHECK(err.find("not a PEM certificate") != std::string::npos);
}

TEST_CASE("a slow API server hits the client's request timeout", "[client]") {
  kube::ClientOptions co;
  co.timeouts.request = 300ms;
  ApiFixture f(fast_server(), co);
  f.server.create("/api/v1/nodes", node("node-a"));
  f.server.set_delay(2000ms);
  auto t0 = std::chrono::steady_clock::now();
  auto r = f.client->get("/api/v1/nodes/node-a");
  CHECK(std::chrono::steady_clock::now() - t0 < 1500ms);
  CHECK_FALSE(r.ok);
  CHECK(r.error.find("timed out after 0.3 s") != std::string::npos);
  f.server.set_delay(0ms);
}

TEST_CASE("token bucket: burst, then qps, on a simulated clock", "[rate]") {
  auto now = std::chrono::steady_clock::time_point{};
  kube::TokenBucket b(5, 10, [&] { return now; });
  for (int i = 0; i < 10; ++i) CHECK(b.try_acquire());
  CHECK_FALSE(b.try_acquire());
  CHECK(b.reserve() == 200ms);  // one token in debt at 5/s
  now += 1s;
  CHECK(b.tokens() == Approx(4.0));
  now += 1h;
  CHECK(b.tokens() == Approx(10.0));  // capped at burst
}

TEST_CASE("backoff: 0.8 s doubling to 30 s, jittered, reset on success", "[rate]") {
  kube::Backoff b(kube::Backoff::Options{}, 42);
  auto first = b.next();
  CHECK(first >= 800ms);
  CHECK(first <= 960ms);
  auto second = b.next();
  CHECK(second >= 1280ms);
  CHECK(second <= 1920ms);
  std::chrono::milliseconds last{};
  for (int i = 0; i < 20; ++i) last = b.next();
  CHECK(last >= 24000ms);
  CHECK(last <= 30000ms);
  b.reset();
  CHECK(b.next() <= 960ms);
  // Jitter: two agents with different seeds do not retry in lock step.
  kube::Backoff c(kube::Backoff::Options{}, 7);
  for (int i = 0; i < 5; ++i) c.next();
  kube::Backoff d(kube::Backoff::Options{}, 8);
  for (int i = 0; i < 5; ++i) d.next();
  CHECK(c.next() != d.next());
}

TEST_CASE("node report throttle: diff threshold, refresh and minimum interval", "[rate]") {
  using D = kube::NodeReportThrottle::Decision;
  kube::NodeReportThrottle t;  // 0.1, 300 s, 60 s
  auto t0 = std::chrono::steady_clock::time_point{};
  kube::NodeReportThrottle::Values v{{"cpu", 1000}, {"mem", 1 << 30}};
  CHECK(t.decide(t0, v) == D::first);
  t.updated(t0, v);
  CHECK(t.decide(t0 + 10s, {{"cpu", 1090}, {"mem", 1 << 30}}) == D::skip_small_change);
  CHECK(t.decide(t0 + 10s, {{"cpu", 1100}, {"mem", 1 << 30}}) == D::skip_too_soon);
  CHECK(t.decide(t0 + 60s, {{"cpu", 1100}, {"mem", 1 << 30}}) == D::changed);
  CHECK(t.decide(t0 + 299s, v) == D::skip_small_change);
  CHECK(t.decide(t0 + 300s, v) == D::refresh);
  CHECK(t.decide(t0 + 300s, {{"cpu", 1000}}) == D::refresh);
  CHECK(t.decide(t0 + 100s, {{"cpu", 1000}}) == D::changed);  // a key disappeared
  t.attempted(t0 + 100s);                                        // failed attempt: no retry for 60 s
  CHECK(t.decide(t0 + 120s, {{"cpu", 1000}}) == D::skip_too_soon);
}

TEST_CASE("steady state costs at most 60 API requests per node per hour", "[rate]") {
  // One simulated hour: the informer (pods of this node) is live on the fake server, and every 10 s the agent
  // recomputes its batch resources (±5 % noise, one real step) and its topology annotation (unchanged).
  auto o = fast_server();
  o.max_watch = 200ms;  // several server-side watch timeouts happen meanwhile: excluded from the budget
  auto sim = std::chrono::steady_clock::time_point{} + 1000h;
  kube::ClientOptions co;
  co.clock = [&] { return sim; };
  ApiFixture f(o, co);
  f.server.create("/api/v1/nodes", node("node-a"));
  f.server.create("/api/v1/pods", pod("default", "p1", "node-a"));
  auto io = fast_informer("/api/v1/pods");
  io.field_selector = "spec.nodeName=node-a";
  kube::Informer inf(*f.client, io, nullptr);
  inf.start();
  REQUIRE(inf.wait_synced(10s));

  kube::NodeReporter rep(*f.client, "node-a", kube::NodeReportPolicy{}, [&] { return sim; });
  std::mt19937 rng(1);
  std::uniform_real_distribution<double> noise(-0.05, 0.05);
  int ticks = 0;
  const auto start = sim;
  for (; sim < start + 1h; sim += 10s, ++ticks) {
    double base = sim < start + 1550s ? 4000 : 6000;  // one real change, off the refresh grid
    rep.report_batch(static_cast<int64_t>(base * (1 + noise(rng))),
                     static_cast<int64_t>(8e9 * (1 + noise(rng))));
    rep.report_annotations({{"sloagent.io/cpu-topology", "{\"sockets\":1,\"cpus\":8}"}});
  }
  // Let a few more real watch timeouts happen so the exclusion is exercised.
  std::this_thread::sleep_for(500ms);
  auto& c = f.client->counters();
  INFO("ticks " << ticks << ", patches " << c.get(kube::Verb::patch) << ", lists " << c.get(kube::Verb::list)
                << ", watches " << c.get(kube::Verb::watch) << ", timeout reconnects "
                << c.watch_timeout_reconnects());
  CHECK(ticks == 360);  // a PATCH per tick would be 360 + 360
  CHECK(c.watch_timeout_reconnects() >= 1);
  CHECK(c.budgeted_total() <= 60);
  // What the budget consists of: 1 list, 1 watch, ~12 status refreshes + the step, 1 annotation patch.
  CHECK(c.get(kube::Verb::patch) >= 13);
  CHECK(c.get(kube::Verb::patch) <= 16);
  CHECK(f.server.requests("PATCH", "/status").size() == c.get(kube::Verb::patch) - 1);
  CHECK(inf.stats().errors == 0);
}

TEST_CASE("KubeClusterActions sends without blocking, throttles and deduplicates", "[client]") {
  ApiFixture f;
  f.server.create("/api/v1/nodes", node("node-a"));
  f.server.create("/api/v1/pods", pod("default", "be-1", "node-a"));
  auto sim = std::chrono::steady_clock::time_point{} + 1000h;
  kube::KubeClusterActions actions(*f.client, "node-a", kube::NodeReportPolicy{}, [&] { return sim; });
  CHECK_FALSE(actions.standalone());
  agent::PodRef be{"default", "be-1", "uid-be-1"};

  CHECK(actions.evict(be, "memory pressure"));
  actions.event(be, "Warning", "EvictedByColocation", "memory usage 93% > 90%");
  actions.event(be, "Warning", "EvictedByColocation", "memory usage 93% > 90%");  // duplicate within 10 min
  actions.publish_node_resources({{"kubernetes.io/batch-cpu", 2000}, {"kubernetes.io/batch-memory", 1 << 30}});
  sim += 10s;
  actions.publish_node_resources({{"kubernetes.io/batch-cpu", 2050}, {"kubernetes.io/batch-memory", 1 << 30}});
  actions.annotate_node("sloagent.io/cpu-topology", "{\"cpus\":8}");
  actions.annotate_node("sloagent.io/cpu-topology", "{\"cpus\":8}");

  EventLog waiter;
  REQUIRE(waiter.wait([&] {
    auto c = actions.counts();
    return c.evictions_sent + c.events_sent + c.node_patches_failed + c.annotation_patches_failed >= 2 &&
           f.server.requests("PATCH", "/api/v1/nodes/node-a").size() >= 2;
  }));
  auto c = actions.counts();
  CHECK(c.evictions_sent == 1);
  CHECK(c.events_sent == 1);
  CHECK(c.events_deduplicated == 1);
  CHECK(c.node_patches_sent == 1);
  CHECK(c.node_patches_skipped == 1);
  CHECK(c.annotation_patches_sent == 1);
  CHECK(f.server.requests("POST", "/eviction").size() == 1);
  CHECK(f.server.requests("POST", "/events").size() == 1);
  CHECK(f.server.requests("PATCH", "/api/v1/nodes/node-a/status").size() == 1);
  CHECK_FALSE(f.server.get("/api/v1/pods", "default", "be-1"));
  auto n = f.server.get("/api/v1/nodes", "", "node-a");
  CHECK((*n)["status"]["allocatable"]["kubernetes.io/batch-cpu"] == "2000");
  CHECK((*n)["metadata"]["annotations"]["sloagent.io/cpu-topology"] == "{\"cpus\":8}");
  f.thread->stop();  // pending completions refer to `actions`
}
