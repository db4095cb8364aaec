// The agent end to end in-process on a synthetic node: pods file → resolution → TestQuota → executor → files;
// config reload (good, bad, ConfigMap ..data swap), pod removal, restore on exit, queries and metrics.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include "agent/observe/file_pod_source.h"
#include "agent/runtime/agent.h"
#include "tests/common/support.h"
#include "tests/runtime/fake_node.h"

using namespace slo;
using namespace std::chrono_literals;

namespace {

std::string config(int quota, const std::string& claim = "all") {
  return "agent:\n  nodeName: node-1\n  tickMs: 20\n  statsIntervalMs: 100\n  controllers: {enabled: [TestQuota]}\n"
         "clusterStrategy:\n  testQuota: {quotaUs: " +
         std::to_string(quota) + ", claim: " + claim + "}\n";
}

struct Node {
  test::TempDir tmp;
  test::FakeNode node;
  std::string cfg_path;

  explicit Node(bool v2 = false) : node(tmp.sub("cg"), v2) {
    node.populate(3);
    node.write_pod_list(tmp.sub("pods.json"));
    cfg_path = tmp.sub("config.yaml");
    std::ofstream(cfg_path) << config(30000);
  }
  agent::AgentOptions options() const {
    agent::AgentOptions o;
    o.config_path = cfg_path;
    o.cgroup_root = node.root();
    o.sysfs_root = tmp.sub("nosys");
    o.proc_root = "/proc";
    o.state_dir = tmp.sub("state");
    o.pod_source = std::make_unique<agent::FilePodSource>(tmp.sub("pods.json"), 1000ms);
    o.handle_signals = false;
    return o;
  }
  std::string quota(size_t pod, int ctr) const {
    const auto& p = node.pods()[pod];
    std::string cg = node.pod_cgroup(p) + (ctr < 0 ? "" : "/" + p.containers[static_cast<size_t>(ctr)].id);
    return node.read(cg, node.v2() ? "cpu.max" : "cpu.cfs_quota_us");
  }
};

bool wait_for(const std::function<bool()>& pred, std::chrono::milliseconds limit = 5000ms) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return pred();
}

std::string metrics_text(const prometheus::Registry& r) {
  return prometheus::TextSerializer().Serialize(r.Collect());
}

}  // namespace

TEST_CASE("agent: intents reach the files, reloads adopt good configs and reject bad ones") {
  Node n;
  agent::Agent a(n.options());
  auto err = a.init();
  INFO(err.value_or(""));
  REQUIRE(!err);
  REQUIRE(a.sync_pods_now());
  REQUIRE(a.snapshot().pods.size() == 3);
  for (const auto& p : a.snapshot().pods) {
    CHECK(!p.cgroup.empty());
    for (const auto& c : p.containers) CHECK(!c.cgroup.empty());
  }
  a.tick(true);
  CHECK(n.quota(0, 0) == "30000");
  CHECK(n.quota(0, 1) == "30000");
  CHECK(n.quota(0, -1) == "60000");
  CHECK(n.quota(2, 1) == "30000");

  // Good reload.
  std::ofstream(n.cfg_path, std::ios::trunc) << config(40000);
  REQUIRE(a.reload_config());
  a.tick(false);
  CHECK(n.quota(1, 0) == "40000");
  CHECK(n.quota(1, -1) == "80000");

  // Bad reload: field named, counted, last good config keeps running.
  std::ofstream(n.cfg_path, std::ios::trunc) << config(5);
  CHECK(!a.reload_config());
  CHECK(a.last_config_error() == "TestQuota: testQuota.quotaUs: must be an integer >= 1000");
  a.tick(true);
  CHECK(n.quota(1, 0) == "40000");
  auto text = metrics_text(*a.registry());
  CHECK(text.find("sloagent_config_reloads_total{result=\"failure\"} 1") != std::string::npos);
  CHECK(text.find("sloagent_config_reloads_total{result=\"success\"} 2") != std::string::npos);
  CHECK(text.find("sloagent_controller_tick_duration_seconds_count{controller=\"TestQuota\"}") != std::string::npos);
  CHECK(text.find("sloagent_build_info{version=") != std::string::npos);

  // Claim only even pods: pod 1 goes back to its original value.
  std::ofstream(n.cfg_path, std::ios::trunc) << config(40000, "even");
  REQUIRE(a.reload_config());
  a.tick(false);
  CHECK(n.quota(1, 0) == "-1");
  CHECK(n.quota(1, -1) == "-1");
  CHECK(n.quota(0, 0) == "40000");

  // A pod leaves: its cgroups vanish and the pod list drops it; nothing is logged as an error.
  n.node.remove_pod(n.node.pods()[0].uid);
  n.node.write_pod_list(n.tmp.sub("pods.json"));
  REQUIRE(a.sync_pods_now());
  a.tick(false);
  CHECK(a.snapshot().pods.size() == 2);
  CHECK(a.executor().stats().writes_error == 0);

  // Queries: status and pods from the published state.
  a.tick(true);
  auto q = a.queries();
  CHECK(q->ready());
  auto st = q->status();
  CHECK(st["node"] == "node-1");
  CHECK(st["pods"] == 2);
  bool found = false;
  for (const auto& p : q->pods())
    for (const auto& c : p["containers"])
      if (c["knobs"].contains("cpu_quota")) {
        found = true;
        CHECK(c["knobs"]["cpu_quota"]["owner"] == "TestQuota");
        CHECK(c["knobs"]["cpu_quota"]["original"] == "-1");
      }
  CHECK(found);
  auto ex = q->explain("default/pod-1");
  REQUIRE(ex);
  CHECK(!ex->empty());
  CHECK(!q->explain("default/nope"));
  CHECK(q->config()["effective"]["policy"]["testQuota"]["claim"] == "even");
}

TEST_CASE("agent on a v2 layout writes cpu.max") {
  Node n(true);
  agent::Agent a(n.options());
  REQUIRE(!a.init());
  REQUIRE(a.sync_pods_now());
  a.tick(true);
  CHECK(n.quota(0, 0).rfind("30000", 0) == 0);
  CHECK(n.quota(0, -1).rfind("60000", 0) == 0);
  CHECK(a.host().mode == cg::Mode::v2);
}

TEST_CASE("event loop: ConfigMap ..data swap and pods file edits are picked up; restore on exit") {
  Node n;
  // ConfigMap volume layout: config.yaml -> ..data/config.yaml, ..data -> ..2026_01.
  auto dir = n.tmp.sub("cm");
  std::filesystem::create_directories(dir + "/..2026_01");
  std::ofstream(dir + "/..2026_01/config.yaml") << config(30000);
  std::filesystem::create_directory_symlink("..2026_01", dir + "/..data");
  std::filesystem::create_symlink("..data/config.yaml", dir + "/config.yaml");
  auto o = n.options();
  o.config_path = dir + "/config.yaml";
  agent::Agent a(std::move(o));
  REQUIRE(!a.init());
  std::thread loop([&] { a.run(); });
  CHECK(wait_for([&] { return n.quota(0, 0) == "30000"; }));

  // kubelet-style update: new timestamped dir, new ..data symlink renamed over the old one.
  std::filesystem::create_directories(dir + "/..2026_02");
  std::ofstream(dir + "/..2026_02/config.yaml") << config(45000);
  std::filesystem::create_directory_symlink("..2026_02", dir + "/..data_tmp");
  std::filesystem::rename(dir + "/..data_tmp", dir + "/..data");
  CHECK(wait_for([&] { return n.quota(0, 0) == "45000"; }));

  // A new pod appears in the pods file.
  test::FakeNode::Pod p{"default", "late", "9999-8888", "Burstable", {{"app", "bbbb0001"}}};
  n.node.add_pod(p);
  n.node.write_pod_list(n.tmp.sub("pods.json"));
  CHECK(wait_for([&] { return n.node.read(n.node.pod_cgroup(p) + "/bbbb0001", "cpu.cfs_quota_us") == "45000"; }));

  a.request_stop(true);
  loop.join();
  CHECK(n.quota(0, 0) == "-1");
  CHECK(n.quota(0, -1) == "-1");
  CHECK(n.node.read(n.node.pod_cgroup(p) + "/bbbb0001", "cpu.cfs_quota_us") == "-1");
  agent::Journal j(n.tmp.sub("state"));
  REQUIRE(j.load().ok);
  CHECK(j.empty());
}

TEST_CASE("restart reconciles from the journal without flapping claimed knobs") {
  Node n;
  {
    agent::Agent a(n.options());
    REQUIRE(!a.init());
    REQUIRE(a.sync_pods_now());
    a.tick(true);
    CHECK(n.quota(0, 0) == "30000");
  }  // "crash": no restore
  std::ofstream(n.cfg_path, std::ios::trunc) << config(30000, "odd");
  agent::Agent b(n.options());
  REQUIRE(!b.init());
  b.tick(true);  // no pod list yet: nothing decided, nothing restored
  CHECK(n.quota(0, 0) == "30000");
  REQUIRE(b.sync_pods_now());
  b.tick(false);
  CHECK(n.quota(0, 0) == "-1");     // no longer claimed: back to the kubelet's value
  CHECK(n.quota(1, 0) == "30000");  // still claimed: untouched
  CHECK(n.quota(2, -1) == "-1");
  CHECK(b.executor().stats().writes_ok == 6);  // pods 0 and 2: 2 containers + pod each restored; nothing rewritten
}

TEST_CASE("a controller deciding from the kernel's value does not flap: repeated ticks write nothing") {
  // The benchmark node's CPU burst pattern: containers with a spec limit but an unlimited kernel quota. When the
  // executor only knew held knobs, such a controller claimed from its spec, saw -1 once it held the knob, released
  // it, and claimed again: a write and a restore every other tick.
  Node n;
  std::ofstream(n.cfg_path, std::ios::trunc) << config(30000, "limited");
  n.node.write(n.node.pod_cgroup(n.node.pods()[1]) + "/" + n.node.pods()[1].containers[0].id, "cpu.cfs_quota_us",
               "80000");  // one container with a kubelet-set limit: held at 30000
  agent::Agent a(n.options());
  REQUIRE(!a.init());
  REQUIRE(a.sync_pods_now());
  a.tick(true);
  CHECK(n.quota(1, 0) == "30000");
  CHECK(n.quota(0, 0) == "-1");
  const auto writes = a.executor().stats().writes_ok;
  CHECK(writes == 2);  // that container and its pod
  for (int i = 0; i < 6; ++i) a.tick(true, true);
  CHECK(a.executor().stats().writes_ok == writes);
  CHECK(a.executor().stats().restored == 0);
  CHECK(n.quota(0, 0) == "-1");
  CHECK(n.quota(1, 0) == "30000");
}

TEST_CASE("cluster objects: ColocationPolicy merges over the config, a bad set is rejected, Cgroups reach the snapshot") {
  Node n;
  std::filesystem::create_directories(n.tmp.sub("policies"));
  std::ofstream(n.tmp.sub("policies/cg.yaml"))
      << "apiVersion: resources.alibabacloud.com/v1alpha1\nkind: Cgroups\nmetadata: {name: from-dir}\n"
         "spec: {pod: {name: pod-1, namespace: default, containers: [{name: c0, cpu: 500m}]}}\n";
  auto o = n.options();
  o.policy_dir = n.tmp.sub("policies");
  agent::Agent a(std::move(o));
  REQUIRE(!a.init());
  CHECK(a.cluster().standalone());
  REQUIRE(a.sync_pods_now());
  REQUIRE(a.snapshot().cgroups_crs.size() == 1);
  a.tick(true);
  CHECK(n.quota(0, 0) == "30000");

  auto policy = [](const std::string& name, nlohmann::json quota) {
    return nlohmann::json{{"apiVersion", "slo-agent.io/v1alpha1"},
                          {"kind", "ColocationPolicy"},
                          {"metadata", {{"name", name}}},
                          {"spec", {{"priority", 5}, {"testQuota", {{"quotaUs", quota}}}}}};
  };
  auto run_posted = [&] {
    a.io().restart();
    a.io().poll();
  };
  a.set_cluster_objects(agent::Agent::ClusterKind::colocation_policy, {policy("more", 50000)});
  run_posted();
  a.tick(false);
  CHECK(n.quota(0, 0) == "50000");
  CHECK(a.last_config_error().empty());

  // An invalid object: the whole update is refused with the controller's message; 50000 keeps running.
  a.set_cluster_objects(agent::Agent::ClusterKind::colocation_policy, {policy("bad", 5)});
  run_posted();
  a.tick(true);
  CHECK(n.quota(0, 0) == "50000");
  CHECK(a.last_config_error().find("testQuota.quotaUs") != std::string::npos);

  // A file reload keeps the cluster's objects merged in.
  std::ofstream(n.cfg_path, std::ios::trunc) << config(40000);
  REQUIRE(a.reload_config());
  a.tick(false);
  CHECK(n.quota(0, 0) == "50000");

  // Deleting the cluster object falls back to the file's value.
  a.set_cluster_objects(agent::Agent::ClusterKind::colocation_policy, {});
  run_posted();
  a.tick(false);
  CHECK(n.quota(0, 0) == "40000");

  nlohmann::json cr = {{"apiVersion", "resources.alibabacloud.com/v1alpha1"},
                       {"kind", "Cgroups"},
                       {"metadata", {{"name", "from-api"}}},
                       {"spec", {{"pod", {{"name", "pod-2"}, {"namespace", "default"}, {"containers", nlohmann::json::array()}}}}}};
  a.set_cluster_objects(agent::Agent::ClusterKind::cgroups, {cr});
  run_posted();
  REQUIRE(a.snapshot().cgroups_crs.size() == 2);
  CHECK(a.snapshot().cgroups_crs[1]["metadata"]["name"] == "from-api");
}

TEST_CASE("a fast tick reads only the hot cgroups of controllers due in it; slow ticks read the QoS tiers too") {
  Node n;
  // No slow tick in the test's time frame; TestQuota decides every 1 s and marks its 6 containers hot.
  std::ofstream(n.cfg_path, std::ios::trunc)
      << "agent:\n  nodeName: node-1\n  tickMs: 20\n  statsIntervalMs: 600000\n  controllers: {enabled: [TestQuota]}\n"
         "clusterStrategy:\n  testQuota: {quotaUs: 30000, periodMs: 1000}\n";
  agent::Agent a(n.options());
  REQUIRE(!a.init());
  REQUIRE(a.sync_pods_now());
  a.tick(true, true);  // slow: every pod, container and tier cgroup
  const auto& tiers = a.snapshot().tiers;
  REQUIRE(tiers.kubepods.cpu_usage_ns);
  CHECK(*tiers.kubepods.cpu_usage_ns == 1000000);  // the fake tree's cpuacct.usage
  CHECK(tiers.besteffort.cpu_usage_ns);
  CHECK(tiers.burstable.memory);
  const auto after_slow = a.stat_preads();
  for (int i = 0; i < 5; ++i) a.tick(false);  // TestQuota not due: its hot set is not read
  CHECK(a.stat_preads() == after_slow);
  // Due: its 6 hot containers' cpu.stat; cpuacct.usage too only where nr_periods moved since the last read, which
  // in the fake tree it does not (StatsCollector::Usage::when_active; the slow tick reads both).
  a.tick(true);
  CHECK(a.stat_preads() == after_slow + 6);
}

TEST_CASE("HotCgroups tells the runtime when a controller's hot list differs from its previous decide's") {
  // The runtime re-resolves hot paths to their stats only when changed() says so: a missed change would leave a
  // newly marked cgroup unread (or read a stale one).
  agent::HotCgroups h;
  h.clear();
  h.insert("kubepods/poda/c1");
  h.insert("kubepods/poda/c2");
  CHECK(h.changed());
  CHECK(h.size() == 2);
  CHECK(h.count("kubepods/poda/c2"));
  h.clear();
  h.insert("kubepods/poda/c1");
  h.insert("kubepods/poda/c2");
  CHECK_FALSE(h.changed());  // same list
  h.clear();
  h.insert("kubepods/poda/c1");
  CHECK(h.changed());  // shorter
  CHECK_FALSE(h.count("kubepods/poda/c2"));
  h.clear();
  h.insert("kubepods/poda/c1");
  CHECK_FALSE(h.changed());
  h.clear();
  h.insert("kubepods/poda/c3");
  CHECK(h.changed());  // same length, other path
  h.clear();
  CHECK(h.changed());  // emptied
  CHECK(h.empty());
  h.clear();
  CHECK_FALSE(h.changed());
}
