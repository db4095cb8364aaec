// The Cgroups CR controller driven through the real runtime (pods file → resolution → controllers → executor →
// files) on the fixture cgroup trees: v1 and v2, cgroupfs and systemd drivers, CRs in --policy-dir.
#include <catch2/catch.hpp>

#include <algorithm>

#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include "agent/runtime/agent.h"
#include "agent/runtime/cluster_actions.h"
#include "tests/controllers/cgroups_cr/cr_world.h"

using namespace slo;
using test::CrPod;
using test::CrWorld;
using test::Tree;
using json = nlohmann::json;

namespace {

constexpr int64_t Mi = int64_t{1} << 20;

struct Run {
  CrWorld& w;
  agent::Agent a;
  explicit Run(CrWorld& world) : w(world), a(world.options()) {
    auto err = a.init();
    INFO(err.value_or(""));
    REQUIRE(!err);
    REQUIRE(a.sync_pods_now());
  }
  void ticks(int n) {
    for (int i = 0; i < n; ++i) a.tick(true);
  }
  void reload() {
    REQUIRE(a.reload_config());
    INFO(a.last_config_error());
  }
  agent::RecordingClusterActions& rec() { return dynamic_cast<agent::RecordingClusterActions&>(a.cluster()); }
  // state/reason of one container in this node's status entry of a CR ("" when absent).
  std::pair<std::string, std::string> state(const std::string& cr, const std::string& pod, const std::string& ctr) {
    auto it = rec().cgroups_status.find(cr);
    if (it == rec().cgroups_status.end()) return {"", ""};
    for (const auto& c : it->second["containers"])
      if (c["pod"] == pod && c["container"] == ctr) return {c["state"], c.value("reason", "")};
    return {"", ""};
  }
  size_t events(const std::string& needle) {
    size_t n = 0;
    for (const auto& e : rec().events) n += e.find(needle) != std::string::npos;
    return n;
  }
  std::string metrics() { return prometheus::TextSerializer().Serialize(a.registry()->Collect()); }
  std::string owner(const std::string& cgroup, cg::Knob k, const std::string& dev = "") {
    auto held = a.executor().held();
    auto it = held.find(cg::KnobRef{cgroup, k, dev});
    return it == held.end() ? "" : it->second.owner;
  }
};

CrPod pod(const std::string& name, const std::string& uid, std::vector<std::string> ctrs, int64_t cpu_millis,
          std::optional<int64_t> mem = std::nullopt) {
  CrPod p;
  p.name = name;
  p.uid = uid;
  p.labels = {{"app", name}};
  int k = 0;
  for (const auto& c : ctrs) {
    char id[65];
    std::snprintf(id, sizeof id, "%.8s%056d", uid.c_str(), ++k);
    p.containers.push_back({c, id, cpu_millis, mem});
  }
  return p;
}

std::string pod_cr(const std::string& name, const std::string& pod, const std::string& containers) {
  return "apiVersion: resources.alibabacloud.com/v1alpha1\nkind: Cgroups\nmetadata:\n  name: " + name +
         "\n  generation: 1\nspec:\n  pod:\n    name: " + pod + "\n    namespace: shop\n    containers:\n" + containers;
}

std::string deployment_cr(const std::string& name, const std::string& dep, const std::string& containers) {
  return "apiVersion: resources.alibabacloud.com/v1alpha1\nkind: Cgroups\nmetadata:\n  name: " + name +
         "\nspec:\n  deployment:\n    name: " + dep + "\n    namespace: shop\n    containers:\n" + containers;
}

}  // namespace

TEST_CASE("cgroups cr: applied to the files, status Applied, originals back when the CR is deleted") {
  const Tree tree = GENERATE(Tree::v1_cgroupfs, Tree::v1_systemd, Tree::v2_cgroupfs, Tree::v2_systemd);
  CrWorld w(tree);
  INFO(test::to_string(tree));
  if (tree != Tree::v1_systemd) w.add_pod(CrWorld::fixture_pod());
  w.add_pod(pod("api-0", "11111111-2222-3333-4444-555555555555", {"app", "sidecar"}, 1000, 256 * Mi));
  const auto& web = w.pod("web-0");
  const auto& api = w.pod("api-0");
  const std::string server = w.ctr_cgroup(web, "server"), app = w.ctr_cgroup(api, "app"),
                    sidecar = w.ctr_cgroup(api, "sidecar"), api_pod = w.pod_cgroup(api);
  // What kubelet (or the fixture) left: compared again after the CR is gone.
  const std::vector<cg::KnobRef> refs = {
      {server, cg::Knob::cpu_quota, ""},        {server, cg::Knob::memory_limit, ""},
      {server, cg::Knob::cpuset_cpus, ""},      {server, cg::Knob::io_read_bps, "253:0"},
      {server, cg::Knob::io_write_iops, "253:0"}, {w.pod_cgroup(web), cg::Knob::cpu_quota, ""},
      {app, cg::Knob::cpu_quota, ""},           {sidecar, cg::Knob::cpu_quota, ""},
      {api_pod, cg::Knob::cpu_quota, ""},       {api_pod, cg::Knob::memory_limit, ""}};
  std::map<std::string, cg::KnobValue> before;
  for (const auto& r : refs) {
    auto v = w.knob(r.cgroup, r.knob, r.device);
    INFO(r.to_string());
    REQUIRE(v);
    before.emplace(r.to_string(), *v);
  }
  CHECK(w.int_knob(server, cg::Knob::cpu_quota) == -1);
  CHECK(w.int_knob(server, cg::Knob::memory_limit) == int64_t{2147483648});
  CHECK(w.int_knob(api_pod, cg::Knob::cpu_quota) == 200000);

  // v2 keeps every throttle of a device on one io.max line that the kernel merges field by field; a plain file
  // only keeps the last write, so the v2 trees check one io knob (the real io.max merge is the kernel test's).
  w.put_cr("web", pod_cr("web-0-override", "web-0",
                         "    - name: server\n      cpu: 1500m\n      memory: 512Mi\n      cpuset-cpus: \"2-3\"\n"
                         "      blkio:\n        device_read_bps:\n          - {device: /dev/vda, value: 100Mi}\n" +
                             std::string(w.v2() ? "" : "        device_write_iops:\n          - {device: \"253:0\", value: 2000}\n")));
  w.put_cr("api", pod_cr("api-0-more-cpu", "api-0", "    - name: app\n      cpu: \"2.5\"\n"));
  Run r(w);
  r.ticks(1);
  CHECK(w.int_knob(server, cg::Knob::cpu_quota) == 150000);
  CHECK(w.raw(server, w.v2() ? "cpu.max" : "cpu.cfs_quota_us").rfind("150000", 0) == 0);
  CHECK(w.int_knob(server, cg::Knob::memory_limit) == 512 * Mi);
  CHECK(w.cpus(server) == "2-3");
  CHECK(w.int_knob(server, cg::Knob::io_read_bps, "253:0") == 100 * Mi);
  if (!w.v2()) CHECK(w.int_knob(server, cg::Knob::io_write_iops, "253:0") == 2000);
  // web-0's pod has no CPU limit (kubelet leaves it unlimited) and a memory limit above 512Mi: left alone.
  CHECK(w.int_knob(w.pod_cgroup(web), cg::Knob::cpu_quota) == -1);
  // api-0: app raised to 2.5 CPUs; the pod's quota (2 × 1 CPU) is raised to the new sum so it does not cap app.
  CHECK(w.int_knob(app, cg::Knob::cpu_quota) == 250000);
  CHECK(w.int_knob(sidecar, cg::Knob::cpu_quota) == 100000);
  CHECK(w.int_knob(api_pod, cg::Knob::cpu_quota) == 350000);
  CHECK(w.int_knob(api_pod, cg::Knob::memory_limit) == 512 * Mi);
  CHECK(r.owner(server, cg::Knob::cpu_quota) == "CgroupsCrController");
  CHECK(r.owner(api_pod, cg::Knob::cpu_quota) == "CgroupsCrController");
  // Claimed this tick; "Applied" only once the executor's view holds the values.
  CHECK(r.state("web-0-override", "web-0", "server").first == "Pending");
  r.ticks(1);
  CHECK(r.state("web-0-override", "web-0", "server") == std::pair<std::string, std::string>{"Applied", ""});
  CHECK(r.state("api-0-more-cpu", "api-0", "app").first == "Applied");
  const json entry = r.rec().cgroups_status.at("web-0-override");
  CHECK(entry["node"] == "node-1");
  CHECK(entry["observedGeneration"] == 1);
  CHECK(entry["containers"].size() == 1);
  CHECK(r.events("shop/web-0 Normal CgroupsOverrideApplied") == 1);
  CHECK(r.a.executor().stats().writes_error == 0);
  CHECK(r.a.executor().stats().rejected == 0);
  auto m = r.metrics();
  CHECK(m.find("sloagent_cgroups_cr_containers{state=\"Applied\"} 2") != std::string::npos);
  CHECK(m.find("sloagent_cgroups_cr_intents{knob=\"cpu_quota\"} 3") != std::string::npos);  // server, app, pod
  CHECK(m.find("sloagent_cgroups_cr_intents{knob=\"io_read_bps\"} 1") != std::string::npos);
  r.ticks(3);
  CHECK(r.events("CgroupsOverrideApplied") == 2);  // once per container, not per tick

  // Delete the CRs: nothing claims those knobs any more, the executor writes the originals back.
  w.remove_cr("web");
  w.remove_cr("api");
  r.reload();
  r.ticks(1);
  for (const auto& ref : refs) {
    INFO(ref.to_string());
    auto v = w.knob(ref.cgroup, ref.knob, ref.device);
    REQUIRE(v);
    // v1 removes a throttle rule by writing 0 (the kernel then drops the line; a plain file keeps "253:0 0").
    if (cg::is_io_knob(ref.knob) && !w.v2() && cg::as_int(*v) == 0) v = cg::KnobValue{int64_t{-1}};
    CHECK(cg::values_equal(*v, before.at(ref.to_string())));
  }
  CHECK(w.int_knob(server, cg::Knob::cpu_quota) == -1);
  CHECK(w.int_knob(api_pod, cg::Knob::cpu_quota) == 200000);
  CHECK(r.owner(server, cg::Knob::cpu_quota).empty());
  CHECK(r.events("shop/web-0 Normal CgroupsOverrideReverted") == 1);
  CHECK(r.a.executor().stats().writes_error == 0);
}

TEST_CASE("cgroups cr: an invalid container change is rejected whole, the valid ones apply") {
  const Tree tree = GENERATE(Tree::v1_systemd, Tree::v2_cgroupfs);
  CrWorld w(tree);
  INFO(test::to_string(tree));
  w.add_pod(pod("db-0", "22222222-2222-3333-4444-555555555555", {"a", "b"}, 1000, 256 * Mi));
  w.add_pod(pod("db-1", "33333333-2222-3333-4444-555555555555", {"a", "b"}, 1000, 256 * Mi));
  const auto& db0 = w.pod("db-0");
  const auto& db1 = w.pod("db-1");
  w.put_cr("db0", pod_cr("db0", "db-0",
                         "    - name: a\n      cpu: 1500m\n      memory: bogus\n"
                         "    - name: b\n      cpu: 700m\n"
                         "    - name: c\n      cpu: 1\n"));
  w.put_cr("db1", pod_cr("db1", "db-1",
                         "    - name: a\n      cpu: \"1\"\n      cpuset-cpus: \"16-23\"\n"
                         "    - name: b\n      memory: 128Mi\n      blkio:\n        device_read_bps:\n"
                         "          - {device: /dev/sdz, value: 1000}\n"));
  const auto db0_cpus = w.cpus(w.ctr_cgroup(db1, "a"));
  Run r(w);
  r.ticks(2);
  // db-0/a: cpu was valid but memory was not: nothing of a is written.
  CHECK(w.int_knob(w.ctr_cgroup(db0, "a"), cg::Knob::cpu_quota) == 100000);
  CHECK(w.int_knob(w.ctr_cgroup(db0, "a"), cg::Knob::memory_limit) == 256 * Mi);
  CHECK(w.int_knob(w.ctr_cgroup(db0, "b"), cg::Knob::cpu_quota) == 70000);
  CHECK(w.int_knob(w.pod_cgroup(db0), cg::Knob::cpu_quota) == 200000);  // 1 + 0.7 CPUs < 2: not raised
  CHECK(w.int_knob(w.ctr_cgroup(db1, "a"), cg::Knob::cpu_quota) == 100000);
  CHECK(w.cpus(w.ctr_cgroup(db1, "a")) == db0_cpus);
  CHECK(w.int_knob(w.ctr_cgroup(db1, "b"), cg::Knob::memory_limit) == 256 * Mi);
  CHECK(r.owner(w.ctr_cgroup(db0, "a"), cg::Knob::cpu_quota).empty());

  CHECK(r.state("db0", "db-0", "a") == std::pair<std::string, std::string>{"Failed", "InvalidQuantity"});
  CHECK(r.state("db0", "db-0", "b") == std::pair<std::string, std::string>{"Applied", ""});
  CHECK(r.state("db0", "db-0", "c") == std::pair<std::string, std::string>{"Failed", "ContainerNotFound"});
  CHECK(r.state("db1", "db-1", "a") == std::pair<std::string, std::string>{"Failed", "CpusNotOnNode"});
  CHECK(r.state("db1", "db-1", "b") == std::pair<std::string, std::string>{"Failed", "UnknownDevice"});
  CHECK(r.events("shop/db-0 Warning CgroupsOverrideRejected: Cgroups CR db0, container a: InvalidQuantity") == 1);
  CHECK(r.events("shop/db-1 Warning CgroupsOverrideRejected: Cgroups CR db1, container a: CpusNotOnNode") == 1);
  CHECK(r.events("shop/db-1 Warning CgroupsOverrideRejected: Cgroups CR db1, container b: UnknownDevice") == 1);
  r.ticks(3);
  CHECK(r.events("Warning CgroupsOverrideRejected") == 4);  // once each, not per tick
  auto m = r.metrics();
  for (const char* reason : {"InvalidQuantity", "ContainerNotFound", "CpusNotOnNode", "UnknownDevice"})
    CHECK(m.find("sloagent_cgroups_cr_rejections_total{reason=\"" + std::string(reason) + "\"} 1") != std::string::npos);

  // The owner fixes the CR: a now applies, and the pod's limits are raised to the containers' sums.
  w.put_cr("db0", pod_cr("db0", "db-0", "    - name: a\n      cpu: 1500m\n      memory: 300Mi\n"
                                        "    - name: b\n      cpu: 700m\n"));
  r.reload();
  r.ticks(2);
  CHECK(w.int_knob(w.ctr_cgroup(db0, "a"), cg::Knob::cpu_quota) == 150000);
  CHECK(w.int_knob(w.ctr_cgroup(db0, "a"), cg::Knob::memory_limit) == 300 * Mi);
  CHECK(w.int_knob(w.pod_cgroup(db0), cg::Knob::cpu_quota) == 220000);
  CHECK(w.int_knob(w.pod_cgroup(db0), cg::Knob::memory_limit) == 556 * Mi);
  CHECK(r.state("db0", "db-0", "a").first == "Applied");
  CHECK(r.state("db0", "db-0", "c").first.empty());  // no longer in the CR
}

TEST_CASE("cgroups cr: a Deployment CR follows the Deployment's pods on this node") {
  const Tree tree = GENERATE(Tree::v1_cgroupfs, Tree::v2_systemd);
  CrWorld w(tree);
  INFO(test::to_string(tree));
  auto member = [&](const std::string& name, const std::string& uid, const std::string& rs, const std::string& hash) {
    auto p = pod(name, uid, {"server"}, 1000);
    p.owners = {"ReplicaSet/" + rs};
    p.labels["pod-template-hash"] = hash;
    return p;
  };
  w.add_pod(member("web-7d9f8c-aaaaa", "aaaaaaaa-0000-0000-0000-000000000001", "web-7d9f8c", "7d9f8c"));
  auto late = member("web-7d9f8c-bbbbb", "bbbbbbbb-0000-0000-0000-000000000002", "web-7d9f8c", "7d9f8c");
  late.started = false;
  w.add_pod(late);
  w.add_pod(member("web-canary-5f6b7-ccccc", "cccccccc-0000-0000-0000-000000000003", "web-canary-5f6b7", "5f6b7"));
  auto elsewhere = member("web-7d9f8c-ddddd", "dddddddd-0000-0000-0000-000000000004", "web-7d9f8c", "7d9f8c");
  elsewhere.ns = "staging";
  w.add_pod(elsewhere);
  auto quota = [&](const std::string& name) {
    return w.int_knob(w.ctr_cgroup(w.pod(name), "server"), cg::Knob::cpu_quota);
  };

  w.put_cr("dep", deployment_cr("web-more-cpu", "web", "    - name: server\n      cpu: 3\n"));
  Run r(w);
  r.ticks(2);
  CHECK(quota("web-7d9f8c-aaaaa") == 300000);
  CHECK(quota("web-canary-5f6b7-ccccc") == 100000);
  CHECK(quota("web-7d9f8c-ddddd") == 100000);
  CHECK(r.state("web-more-cpu", "web-7d9f8c-aaaaa", "server").first == "Applied");
  CHECK(r.state("web-more-cpu", "web-7d9f8c-bbbbb", "server") ==
        std::pair<std::string, std::string>{"Pending", "ContainerNotStarted"});
  CHECK(r.rec().cgroups_status.at("web-more-cpu")["containers"].size() == 2);

  // The late pod's container starts: it gets the override too.
  w.start_pod(late.uid);
  REQUIRE(r.a.sync_pods_now());
  r.ticks(2);
  CHECK(quota("web-7d9f8c-bbbbb") == 300000);
  CHECK(r.state("web-more-cpu", "web-7d9f8c-bbbbb", "server").first == "Applied");

  // Retargeted at the canary Deployment: the web pods stop matching and get their originals back.
  w.put_cr("dep", deployment_cr("web-more-cpu", "web-canary", "    - name: server\n      cpu: 3\n"));
  r.reload();
  r.ticks(2);
  CHECK(quota("web-7d9f8c-aaaaa") == 100000);
  CHECK(quota("web-7d9f8c-bbbbb") == 100000);
  CHECK(quota("web-canary-5f6b7-ccccc") == 300000);
  CHECK(r.state("web-more-cpu", "web-7d9f8c-aaaaa", "server").first.empty());
  CHECK(r.state("web-more-cpu", "web-canary-5f6b7-ccccc", "server").first == "Applied");
}

TEST_CASE("cgroups cr: CPU burst steps aside for a CR-owned pod and takes it back after") {
  CrWorld w(Tree::v1_cgroupfs);
  w.write_config({"CgroupsCrController", "CpuBurstController"}, "  cpuBurstStrategy: {policy: auto, cpuBurstPercent: 500}\n");
  w.add_pod(pod("ls-a", "44444444-0000-0000-0000-000000000001", {"app"}, 1000));
  w.add_pod(pod("ls-b", "55555555-0000-0000-0000-000000000002", {"app"}, 1000));
  const std::string a = w.ctr_cgroup(w.pod("ls-a"), "app"), b = w.ctr_cgroup(w.pod("ls-b"), "app");
  w.put_cr("a", pod_cr("ls-a-override", "ls-a", "    - name: app\n      cpu: 2\n"));
  Run r(w);
  r.ticks(3);
  // The control pod shows CPU burst is active here: it holds ls-b's burst.
  CHECK(r.owner(b, cg::Knob::cpu_burst) == "CpuBurstController");
  CHECK(w.int_knob(b, cg::Knob::cpu_burst) > 0);
  // ls-a belongs to the CR: CPU burst claims none of its knobs (pod or container), no claim was refused.
  for (const auto& [ref, held] : r.a.executor().held())
    if (ref.cgroup.str().rfind(w.pod_cgroup(w.pod("ls-a")), 0) == 0) CHECK(held.owner == "CgroupsCrController");
  CHECK(r.owner(a, cg::Knob::cpu_quota) == "CgroupsCrController");
  CHECK(w.int_knob(a, cg::Knob::cpu_quota) == 200000);
  CHECK(w.int_knob(a, cg::Knob::cpu_burst) == 0);
  CHECK(r.a.executor().stats().rejected == 0);

  // CR deleted: CPU burst manages ls-a like any LS pod (quota back at the original 1 CPU, burst set).
  w.remove_cr("a");
  r.reload();
  r.ticks(3);
  CHECK(r.owner(a, cg::Knob::cpu_burst) == "CpuBurstController");
  CHECK(w.int_knob(a, cg::Knob::cpu_burst) > 0);
  CHECK(w.int_knob(a, cg::Knob::cpu_quota) == 100000);
  CHECK(r.a.executor().stats().rejected == 0);
}

TEST_CASE("cgroups cr: the cpuset controller hands a CR's container over without a refused claim") {
  CrWorld w(Tree::v1_cgroupfs);
  w.write_config({"CgroupsCrController", "CpusetController"});
  w.add_pod(pod("web-1", "66666666-0000-0000-0000-000000000001", {"server", "log"}, 1000));
  const auto& p = w.pod("web-1");
  const std::string server = w.ctr_cgroup(p, "server"), log = w.ctr_cgroup(p, "log");
  Run r(w);
  r.ticks(2);
  REQUIRE(r.owner(server, cg::Knob::cpuset_cpus) == "CpusetController");
  // A CR appears while the cpuset controller holds the container's cpuset: taken over in one tick.
  w.put_cr("c", pod_cr("web-1-cpus", "web-1", "    - name: server\n      cpuset-cpus: \"4-5\"\n"));
  r.reload();
  r.ticks(1);
  CHECK(r.owner(server, cg::Knob::cpuset_cpus) == "CgroupsCrController");
  CHECK(w.cpus(server) == "4-5");
  CHECK(r.owner(log, cg::Knob::cpuset_cpus) == "CpusetController");  // the pod's other container stays with cpuset
  CHECK(r.a.executor().stats().rejected == 0);
  r.ticks(1);
  CHECK(r.state("web-1-cpus", "web-1", "server").first == "Applied");
  // CR deleted: the cpuset controller takes the container back.
  w.remove_cr("c");
  r.reload();
  r.ticks(2);
  CHECK(r.owner(server, cg::Knob::cpuset_cpus) == "CpusetController");
  CHECK(w.cpus(server) != "4-5");
  CHECK(r.a.executor().stats().rejected == 0);
}
