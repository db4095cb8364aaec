// ClusterSync (what `sloagent run` watches in a cluster) and the Cgroups status report, against the in-process fake
// API server: full sets delivered once per burst, status-only changes ignored, node labels, 410 relists; server-side
// apply of status.nodes entries by two nodes' field managers.
#include <catch2/catch.hpp>

#include <algorithm>
#include <mutex>
#include <random>

#include "agent/kube/cluster_actions_kube.h"
#include "agent/kube/cluster_sync.h"
#include "tests/kube/api_fixture.h"

using namespace slo;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

json cgroups_cr(const std::string& name, const std::string& cpu) {
  return {{"apiVersion", "resources.alibabacloud.com/v1alpha1"},
          {"kind", "Cgroups"},
          {"metadata", {{"name", name}}},
          {"spec", {{"pod", {{"name", "p"}, {"namespace", "default"},
                             {"containers", json::array({{{"name", "c"}, {"cpu", cpu}}})}}}}}};
}

json labelled_node(const std::string& name, const std::string& pool) {
  json n = test::node(name);
  n["metadata"]["labels"] = {{"pool", pool}};
  return n;
}

// Thread-safe record of what the sinks received.
struct Received {
  mutable std::mutex mu;
  std::vector<std::vector<json>> cgroups, policies;
  std::vector<std::map<std::string, std::string>> labels;

  kube::ClusterSyncSinks sinks() {
    kube::ClusterSyncSinks s;
    s.objects = [this](kube::ClusterObjectKind k, std::vector<json> objs) {
      std::lock_guard lk(mu);
      (k == kube::ClusterObjectKind::cgroups ? cgroups : policies).push_back(std::move(objs));
    };
    s.node_labels = [this](std::map<std::string, std::string> l) {
      std::lock_guard lk(mu);
      labels.push_back(std::move(l));
    };
    return s;
  }
  size_t n_cgroups() const {
    std::lock_guard lk(mu);
    return cgroups.size();
  }
  std::vector<json> last_cgroups() const {
    std::lock_guard lk(mu);
    return cgroups.empty() ? std::vector<json>{} : cgroups.back();
  }
  size_t n_labels() const {
    std::lock_guard lk(mu);
    return labels.size();
  }
};

template <class F>
bool eventually(F f, std::chrono::milliseconds d = 10s) {
  auto until = std::chrono::steady_clock::now() + d;
  while (!f()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

std::vector<std::string> names(const std::vector<json>& objs) {
  std::vector<std::string> out;
  for (const auto& o : objs) out.push_back(o["metadata"]["name"]);
  return out;
}

kube::ClusterSyncOptions fast_sync(const std::string& node) {
  kube::ClusterSyncOptions o;
  o.node = node;
  o.watch_timeout_min = 20s;
  o.watch_timeout_max = 30s;
  o.backoff.initial = 50ms;
  o.backoff.max = 400ms;
  return o;
}

}  // namespace

TEST_CASE("cluster sync: complete sets, one call per burst, status-only changes ignored, 410 relist") {
  test::ApiFixture f;
  f.server.create(kube::kCgroupsPath, cgroups_cr("a", "1"));
  f.server.create(kube::kCgroupsPath, cgroups_cr("b", "2"));
  f.server.create(kube::kNodesPath, labelled_node("node-1", "web"));
  f.server.create(kube::kNodesPath, labelled_node("node-2", "db"));
  Received got;
  kube::ClusterSync sync(*f.client, fast_sync("node-1"), got.sinks());
  sync.start();
  REQUIRE(sync.wait_synced(10s));
  REQUIRE(eventually([&] { return got.n_cgroups() == 1; }));
  CHECK(names(got.last_cgroups()) == std::vector<std::string>{"a", "b"});
  REQUIRE(eventually([&] { return got.n_labels() == 1; }));
  {
    std::lock_guard lk(got.mu);
    CHECK(got.labels[0] == std::map<std::string, std::string>{{"pool", "web"}});  // node-1's, not node-2's
    CHECK(got.policies.empty());  // nothing listed, nothing to say
  }
  // The node informer reads only its own node.
  for (const auto& r : f.server.requests("GET", kube::kNodesPath))
    CHECK(r.params.at("fieldSelector") == "metadata.name=node-1");

  // A status write (our own report coming back) changes nothing the agent uses: no call.
  json a = *f.server.get(kube::kCgroupsPath, "", "a");
  a["status"] = {{"nodes", json::array({{{"node", "node-1"}}})}};
  f.server.update(kube::kCgroupsPath, a);
  json n1 = *f.server.get(kube::kNodesPath, "", "node-1");
  n1["status"]["allocatable"]["kubernetes.io/batch-cpu"] = "1000";
  f.server.update(kube::kNodesPath, n1);
  std::this_thread::sleep_for(500ms);
  CHECK(got.n_cgroups() == 1);
  CHECK(got.n_labels() == 1);

  // A spec change: the whole set again.
  f.server.update(kube::kCgroupsPath, cgroups_cr("a", "3"));
  REQUIRE(eventually([&] { return got.n_cgroups() == 2; }));
  CHECK(got.last_cgroups()[0]["spec"]["pod"]["containers"][0]["cpu"] == "3");

  // Three creations and a deletion missed by a watch that then gets 410: one relist, one call with the result.
  f.server.pause_watches(true);
  f.server.create(kube::kCgroupsPath, cgroups_cr("c", "1"));
  f.server.create(kube::kCgroupsPath, cgroups_cr("d", "1"));
  f.server.create(kube::kCgroupsPath, cgroups_cr("e", "1"));
  f.server.remove(kube::kCgroupsPath, "", "b");
  f.server.compact();
  f.server.drop_watches();
  f.server.pause_watches(false);
  REQUIRE(eventually([&] { return got.n_cgroups() == 3; }));
  CHECK(names(got.last_cgroups()) == std::vector<std::string>{"a", "c", "d", "e"});
  std::this_thread::sleep_for(300ms);
  CHECK(got.n_cgroups() == 3);

  // A relabel reaches the labels sink.
  f.server.update(kube::kNodesPath, labelled_node("node-1", "batch"));
  REQUIRE(eventually([&] { return got.n_labels() == 2; }));
  {
    std::lock_guard lk(got.mu);
    CHECK(got.labels[1].at("pool") == "batch");
  }
  sync.stop();
  size_t after_stop = got.n_cgroups();
  f.server.create(kube::kCgroupsPath, cgroups_cr("late", "1"));
  std::this_thread::sleep_for(300ms);
  CHECK(got.n_cgroups() == after_stop);  // no sink after stop()
}

TEST_CASE("Cgroups status: each node applies its own status.nodes entry; others' entries stay") {
  test::ApiFixture f;
  f.server.create(kube::kCgroupsPath, cgroups_cr("boost", "1"));
  kube::KubeClusterActions node_a(*f.client, "node-a"), node_b(*f.client, "node-b");
  auto entry = [](const std::string& node, const std::string& state) {
    return json{{"node", node},
                {"observedGeneration", 1},
                {"containers", json::array({{{"pod", "default/p"}, {"container", "c"}, {"state", state}}})}};
  };
  auto nodes = [&] {
    auto o = f.server.get(kube::kCgroupsPath, "", "boost");
    std::map<std::string, std::string> out;
    if (o && o->contains("status"))
      for (const auto& e : (*o)["status"]["nodes"]) out[e["node"]] = e["containers"][0]["state"];
    return out;
  };
  node_a.report_cgroups_status("boost", entry("node-a", "Applied"));
  node_b.report_cgroups_status("boost", entry("node-b", "Failed"));
  REQUIRE(eventually([&] { return nodes().size() == 2; }));
  CHECK(nodes() == std::map<std::string, std::string>{{"node-a", "Applied"}, {"node-b", "Failed"}});

  // Same entry again: nothing sent. A change: node-a's entry replaced, node-b's untouched.
  node_a.report_cgroups_status("boost", entry("node-a", "Applied"));
  node_a.report_cgroups_status("boost", entry("node-a", "Pending"));
  REQUIRE(eventually([&] { return nodes()["node-a"] == "Pending"; }));
  CHECK(nodes()["node-b"] == "Failed");
  // The fake records a request's status after its handler stored the object: wait for the responses, not only for
  // the stored state (an ASan build once saw the third PATCH with status 0 here).
  REQUIRE(eventually([&] {
    auto all = f.server.requests("PATCH", "/cgroups/boost/status");
    return std::all_of(all.begin(), all.end(), [](const auto& r) { return r.status != 0; });
  }));
  auto applies = f.server.requests("PATCH", "/cgroups/boost/status");
  CHECK(applies.size() == 3);
  for (const auto& r : applies) {
    CHECK(r.content_type == "application/apply-patch+yaml");
    CHECK(r.status == 200);
    CHECK(r.params.at("fieldManager").rfind("sloagent-node-", 0) == 0);
  }
  // The spec did not change: generation stays 1 across status writes.
  CHECK((*f.server.get(kube::kCgroupsPath, "", "boost"))["metadata"]["generation"] == 1);

  // A deleted CR: 404, counted as failed, no crash; a later report to a new CR of that name is sent again.
  f.server.remove(kube::kCgroupsPath, "", "boost");
  node_a.report_cgroups_status("boost", entry("node-a", "Applied"));
  REQUIRE(eventually([&] { return node_a.counts().cr_status_failed == 1; }));
  f.thread->stop();  // before the actions go: completions refer to them
}

TEST_CASE("steady node in a cluster (ClusterSync + KubeClusterActions) costs at most 60 requests an hour", "[rate]") {
  // What `sloagent run` sends in a cluster, over one simulated hour: the three informers live on the fake server
  // (watches time out every 200 ms: reconnects, outside the budget), and every 10 s the controllers publish batch
  // resources (±4 % noise, one real step), the topology annotation and one Cgroups status entry (both unchanged).
  auto o = test::fast_server();
  o.max_watch = 200ms;
  auto sim = std::chrono::steady_clock::time_point{} + 1000h;
  kube::ClientOptions co;
  co.clock = [&] { return sim; };
  test::ApiFixture f(o, co);
  f.server.create(kube::kNodesPath, labelled_node("node-1", "web"));
  f.server.create(kube::kCgroupsPath, cgroups_cr("boost", "1"));
  Received got;
  kube::ClusterSync sync(*f.client, fast_sync("node-1"), got.sinks());
  sync.start();
  REQUIRE(sync.wait_synced(10s));
  kube::KubeClusterActions actions(*f.client, "node-1", kube::NodeReportPolicy{}, [&] { return sim; });
  const json entry = {{"node", "node-1"},
                      {"containers", json::array({{{"pod", "default/p"}, {"container", "c"}, {"state", "Applied"}}})}};
  std::mt19937 rng(7);
  // ±4 %: two samples never differ by the 10 % threshold, so only refreshes and the step send (±5 % could, now and
  // then, depending on which value the asynchronous completion recorded last).
  std::uniform_real_distribution<double> noise(-0.04, 0.04);
  int ticks = 0;
  const auto start = sim;
  for (; sim < start + 1h; sim += 10s, ++ticks) {
    double base = sim < start + 1550s ? 4000 : 6000;
    actions.publish_node_resources({{"kubernetes.io/batch-cpu", static_cast<int64_t>(base * (1 + noise(rng)))},
                                    {"kubernetes.io/batch-memory", static_cast<int64_t>(8e9 * (1 + noise(rng)))}});
    actions.annotate_node("sloagent.io/cpu-topology", "{\"cpus\":8}");
    actions.report_cgroups_status("boost", entry);
    // Completions land in between, as they do over 10 s of real time. Wait for them rather than sleep a fixed time:
    // a slow build (sanitizers) would otherwise see a PATCH still in flight 60 simulated seconds later and send again.
    for (int i = 0; i < 2000; ++i) {
      auto k = actions.counts();
      if (k.node_patches_completed == k.node_patches_sent) break;
      std::this_thread::sleep_for(1ms);
    }
  }
  std::this_thread::sleep_for(500ms);
  auto& c = f.client->counters();
  auto k = actions.counts();
  INFO("lists " << c.get(kube::Verb::list) << ", watches " << c.get(kube::Verb::watch) << " (timeout reconnects "
                << c.watch_timeout_reconnects() << "), patches " << c.get(kube::Verb::patch) << " (node status "
                << k.node_patches_sent << ", annotations " << k.annotation_patches_sent << ", CR status "
                << k.cr_status_sent << ")");
  CHECK(ticks == 360);
  CHECK(c.watch_timeout_reconnects() >= 3);
  CHECK(c.get(kube::Verb::list) == 3);
  CHECK(k.annotation_patches_sent == 1);
  CHECK(k.cr_status_sent == 1);
  CHECK(k.node_patches_sent >= 13);
  CHECK(k.node_patches_sent <= 16);
  CHECK(c.budgeted_total() <= 60);
  // Our own writes came back as MODIFIED events; none reached the agent as a change.
  CHECK(got.n_labels() == 1);
  CHECK(got.n_cgroups() == 1);
  sync.stop();
  f.thread->stop();
}
