// Informer against the fake API server: list + watch, selectors, bookmarks, 410 in both forms, dropped streams,
// server-side timeouts, auth failures. "Nothing lost" = every change made while the watch was down reaches the
// callback and the cache ends equal to the server's state.
#include <catch2/catch.hpp>

#include "tests/kube/api_fixture.h"

using namespace slo;
using namespace slo::test;
using kube::EventType;
using namespace std::chrono_literals;

namespace {

const std::string kPods = "/api/v1/pods";

kube::InformerOptions node_a_pods() {
  auto o = fast_informer(kPods);
  o.field_selector = "spec.nodeName=node-a";
  o.name = "pods";
  return o;
}

// The changes made while the watch is away, and the checks that each one was delivered.
void mutate_while_away(fakes::FakeApiServer& s) {
  s.create(kPods, pod("default", "p3", "node-a"));
  auto p1 = pod("default", "p1", "node-a");
  p1["status"]["phase"] = "Succeeded";
  s.update(kPods, p1);
  s.remove(kPods, "default", "p2");
}

void expect_nothing_lost(const EventLog& log, const kube::Informer& inf, const fakes::FakeApiServer& s) {
  REQUIRE(log.wait([&] {
    return log.has(EventType::added, "default/p3") && log.has(EventType::modified, "default/p1") &&
           log.has(EventType::deleted, "default/p2");
  }));
  auto snap = inf.snapshot();
  size_t on_server = 0;
  for (const char* name : {"p0", "p1", "p2", "p3"}) on_server += s.get(kPods, "default", name).has_value();
  CHECK(snap.size() == on_server);
  CHECK(snap.count("default/p1") == 1);
  CHECK(snap.count("default/p3") == 1);
  CHECK(snap.count("default/p2") == 0);
  CHECK(snap["default/p1"]["status"]["phase"] == "Succeeded");
  CHECK(snap["default/p1"]["metadata"]["resourceVersion"] == s.get(kPods, "default", "p1")->at("metadata").at("resourceVersion"));
}

}  // namespace

TEST_CASE("informer lists with selectors, then watches from the list's resourceVersion", "[informer]") {
  ApiFixture f;
  f.server.create(kPods, pod("default", "p1", "node-a"));
  f.server.create(kPods, pod("default", "p2", "node-a"));
  f.server.create(kPods, pod("default", "other", "node-b"));
  EventLog log;
  kube::Informer inf(*f.client, node_a_pods(), log.callback());
  inf.start();
  REQUIRE(inf.wait_synced(10s));
  CHECK(inf.snapshot().size() == 2);
  CHECK(log.count(EventType::added) == 2);
  CHECK_FALSE(log.has(EventType::added, "default/other"));

  REQUIRE(f.server.wait_for_watches(1, 5s));
  auto lists = f.server.requests("GET", kPods);
  REQUIRE(lists.size() >= 2);
  CHECK(lists[0].params.count("watch") == 0);
  CHECK(lists[0].params.at("fieldSelector") == "spec.nodeName=node-a");
  const auto& w = lists[1];
  CHECK(w.params.at("watch") == "true");
  CHECK(w.params.at("allowWatchBookmarks") == "true");
  CHECK(w.params.at("resourceVersion") == "1003");
  CHECK(w.params.at("fieldSelector") == "spec.nodeName=node-a");
  int timeout = std::stoi(w.params.at("timeoutSeconds"));
  CHECK(timeout >= 20);
  CHECK(timeout <= 30);

  // Live changes arrive through the watch.
  f.server.create(kPods, pod("default", "p4", "node-a"));
  auto p1 = pod("default", "p1", "node-a");
  p1["metadata"]["labels"]["x"] = "y";
  f.server.update(kPods, p1);
  f.server.remove(kPods, "default", "p2");
  f.server.create(kPods, pod("default", "ignored", "node-b"));
  REQUIRE(log.wait([&] {
    return log.has(EventType::added, "default/p4") && log.has(EventType::modified, "default/p1") &&
           log.has(EventType::deleted, "default/p2");
  }));
  CHECK_FALSE(log.has(EventType::added, "default/ignored"));
  CHECK(inf.get("default/p1")->at("metadata").at("labels").at("x") == "y");
  CHECK(inf.stats().lists == 1);
  CHECK(f.client->counters().get(kube::Verb::list) == 1);
}

TEST_CASE("bookmarks advance the resourceVersion without events", "[informer]") {
  ApiFixture f;
  f.server.create(kPods, pod("default", "p1", "node-a"));
  EventLog log;
  kube::Informer inf(*f.client, node_a_pods(), log.callback());
  inf.start();
  REQUIRE(inf.wait_synced(10s));
  std::string listed = inf.resource_version();
  // Changes the selector filters out still move the global resourceVersion; bookmarks carry it to us.
  for (int i = 0; i < 3; ++i) f.server.create(kPods, pod("default", "b" + std::to_string(i), "node-b"));
  const std::string target = std::to_string(f.server.resource_version());
  REQUIRE(log.wait([&] { return inf.resource_version() == target; }));
  CHECK(std::stoull(inf.resource_version()) > std::stoull(listed));
  CHECK(inf.stats().bookmarks >= 1);
  CHECK(log.count(EventType::bookmark) >= 1);
  CHECK(log.count(EventType::added) == 1);  // only p1, from the list

  // After a drop, the re-watch starts from the bookmarked resourceVersion, not the listed one.
  f.server.drop_watches();
  REQUIRE(log.wait([&] {
    for (const auto& r : f.server.requests("GET", kPods))
      if (r.params.count("watch") && r.params.at("resourceVersion") == target) return true;
    return false;
  }));
}

TEST_CASE("informer relists after 410 Gone as an HTTP status and loses nothing", "[informer]") {
  ApiFixture f;
  f.server.create(kPods, pod("default", "p1", "node-a"));
  f.server.create(kPods, pod("default", "p2", "node-a"));
  EventLog log;
  kube::Informer inf(*f.client, node_a_pods(), log.callback());
  inf.start();
  REQUIRE(inf.wait_synced(10s));
  REQUIRE(f.server.wait_for_watches(1, 5s));

  f.server.pause_watches(true);  // the open stream sees nothing of what follows
  mutate_while_away(f.server);
  f.server.compact();  // …and the watch's resourceVersion is now too old
  f.server.drop_watches();
  f.server.pause_watches(false);

  expect_nothing_lost(log, inf, f.server);
  CHECK(inf.stats().relists_after_gone >= 1);
  CHECK(inf.stats().lists >= 2);
  bool saw_410 = false;
  for (const auto& r : f.server.requests("GET", kPods)) saw_410 |= r.status == 410;
  CHECK(saw_410);
}

TEST_CASE("informer relists after 410 Gone as an ERROR watch event and loses nothing", "[informer]") {
  ApiFixture f;
  f.server.set_gone_as_error_event(true);
  f.server.create(kPods, pod("default", "p1", "node-a"));
  f.server.create(kPods, pod("default", "p2", "node-a"));
  EventLog log;
  kube::Informer inf(*f.client, node_a_pods(), log.callback());
  inf.start();
  REQUIRE(inf.wait_synced(10s));
  REQUIRE(f.server.wait_for_watches(1, 5s));

  f.server.pause_watches(true);
  mutate_while_away(f.server);
  f.server.compact();
  f.server.drop_watches();
  f.server.pause_watches(false);

  expect_nothing_lost(log, inf, f.server);
  CHECK(inf.stats().relists_after_gone >= 1);
  for (const auto& r : f.server.requests("GET", kPods)) CHECK(r.status != 410);  // 200 + ERROR event only
}

TEST_CASE("informer re-watches from the last resourceVersion after a dropped connection", "[informer]") {
  ApiFixture f;
  f.server.create(kPods, pod("default", "p1", "node-a"));
  f.server.create(kPods, pod("default", "p2", "node-a"));
  EventLog log;
  kube::Informer inf(*f.client, node_a_pods(), log.callback());
  inf.start();
  REQUIRE(inf.wait_synced(10s));
  REQUIRE(f.server.wait_for_watches(1, 5s));
  f.server.create(kPods, pod("default", "p0", "node-a"));  // delivered live: the stream has carried a line
  REQUIRE(log.wait([&] { return log.has(EventType::added, "default/p0"); }));
  const std::string before = inf.resource_version();

  f.server.pause_watches(true);
  mutate_while_away(f.server);
  f.server.drop_watches();  // cut mid-stream: no terminating chunk
  f.server.pause_watches(false);

  expect_nothing_lost(log, inf, f.server);
  CHECK(inf.stats().lists == 1);  // no relist needed: history was still there
  CHECK(inf.stats().watch_drops >= 1);
  bool rewatched_from_before = false;
  for (const auto& r : f.server.requests("GET", kPods))
    if (r.params.count("watch") && r.params.at("resourceVersion") == before) rewatched_from_before = true;
  CHECK(rewatched_from_before);
}

TEST_CASE("server-side watch timeouts re-watch at once and stay out of the request budget", "[informer]") {
  auto o = fast_server();
  o.max_watch = 300ms;
  ApiFixture f(o);
  f.server.create(kPods, pod("default", "p1", "node-a"));
  EventLog log;
  kube::Informer inf(*f.client, node_a_pods(), log.callback());
  inf.start();
  REQUIRE(inf.wait_synced(10s));
  REQUIRE(log.wait([&] { return inf.stats().watch_timeouts >= 3; }));
  f.server.create(kPods, pod("default", "late", "node-a"));
  REQUIRE(log.wait([&] { return log.has(EventType::added, "default/late"); }));
  auto st = inf.stats();
  CHECK(st.lists == 1);
  CHECK(st.errors == 0);
  auto& c = f.client->counters();
  CHECK(c.watch_timeout_reconnects() >= 3);
  CHECK(c.budgeted_total() == c.total() - c.watch_timeout_reconnects());
  CHECK(c.budgeted_total() <= 2);  // one list + the first watch
}

TEST_CASE("informer reports 401/403 clearly, backs off and recovers", "[informer]") {
  ApiFixture f;
  f.server.create(kPods, pod("default", "p1", "node-a"));
  f.server.set_auth(fakes::FakeApiServer::Auth::forbidden);
  EventLog log;
  kube::Informer inf(*f.client, node_a_pods(), log.callback());
  inf.start();
  REQUIRE(log.wait([&] { return inf.stats().errors >= 2; }));
  auto st = inf.stats();
  CHECK(st.last_error.find("403 Forbidden") != std::string::npos);
  CHECK(st.last_error.find("RBAC") != std::string::npos);
  CHECK_FALSE(inf.synced());

  f.server.set_auth(fakes::FakeApiServer::Auth::unauthorized);
  const auto errors = inf.stats().errors;
  REQUIRE(log.wait([&] { return inf.stats().errors > errors + 1; }));
  CHECK(inf.stats().last_error.find("401 Unauthorized: token rejected") != std::string::npos);

  // Backoff: far fewer attempts than a tight loop would make in the same time.
  CHECK(f.server.requests("GET", kPods).size() < 30);

  f.server.set_auth(fakes::FakeApiServer::Auth::ok);
  REQUIRE(inf.wait_synced(10s));
  CHECK(log.has(EventType::added, "default/p1"));
}

TEST_CASE("informer stop() ends the stream and no callback runs afterwards", "[informer]") {
  ApiFixture f;
  f.server.create(kPods, pod("default", "p1", "node-a"));
  EventLog log;
  auto inf = std::make_unique<kube::Informer>(*f.client, node_a_pods(), log.callback());
  inf->start();
  REQUIRE(inf->wait_synced(10s));
  REQUIRE(f.server.wait_for_watches(1, 5s));
  inf->stop();
  const size_t n = log.events().size();
  f.server.create(kPods, pod("default", "after", "node-a"));
  std::this_thread::sleep_for(300ms);
  CHECK(log.events().size() == n);
  inf.reset();
  CHECK(log.wait([&] { return f.server.active_watches() == 0; }));
}
