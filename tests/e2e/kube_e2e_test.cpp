// The real sloagent binary in "cluster" mode: `sloagent run --kubeconfig` against the fake API server
// (tests/fakes, HTTPS, real wire protocol) running in this test process, pods from --pods-file, cgroups in a
// synthetic kubelet tree (tests/runtime/fake_node.h) under a TempDir.
//
//   - a Cgroups CR created → the container's cgroup files change and the CR's status says Applied for this node
//     (server-side apply by field manager sloagent-node-1); CR deleted → the original values are back;
//   - the Cgroups watch survives a dropped connection, a 410 Gone (HTTP status) and a 410 ERROR event, with the
//     change made while the watch was down still applied (the fake compacts it out of its history first, so only
//     a relist can find it);
//   - the node status gets kubernetes.io/batch-cpu and batch-memory; the Node's labels (not the config) select
//     ColocationPolicy objects, and a relabel takes effect; a settled agent sends no API requests but its watches;
//   - every request the agent made is allowed by the ClusterRole of deploy/daemonset.yaml, and that role grants
//     nothing beyond the calls the agent's code makes (least privilege).
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <set>
#include <sstream>
#include <tuple>

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "tests/common/support.h"
#include "tests/e2e/agent_process.h"
#include "tests/fakes/fake_apiserver.h"
#include "tests/runtime/fake_node.h"

using namespace slo;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

constexpr const char* kCgroups = "/apis/resources.alibabacloud.com/v1alpha1/cgroups";
constexpr const char* kPolicies = "/apis/slo-agent.io/v1alpha1/colocationpolicies";
constexpr const char* kNoLimit = "9223372036854771712";

json node_object(const std::map<std::string, std::string>& labels) {
  json l = {{"kubernetes.io/hostname", "node-1"}};
  for (const auto& [k, v] : labels) l[k] = v;
  return {{"apiVersion", "v1"},
          {"kind", "Node"},
          {"metadata", {{"name", "node-1"}, {"labels", l}}},
          {"status", {{"capacity", {{"cpu", "4"}, {"memory", "8Gi"}}}, {"allocatable", {{"cpu", "4"}, {"memory", "8Gi"}}}}}};
}

json cgroups_cr(const std::string& name, const std::string& pod, const std::string& container, const std::string& cpu,
                const std::string& memory = "") {
  json c = {{"name", container}, {"cpu", cpu}};
  if (!memory.empty()) c["memory"] = memory;
  return {{"apiVersion", "resources.alibabacloud.com/v1alpha1"},
          {"kind", "Cgroups"},
          {"metadata", {{"name", name}}},
          {"spec", {{"pod", {{"name", pod}, {"namespace", "default"}, {"containers", json::array({c})}}}}}};
}

// status.nodes[node=node-1].containers[container].state, "" when absent.
std::string cr_state(const fakes::FakeApiServer& api, const std::string& cr, const std::string& container) {
  auto obj = api.get(kCgroups, "", cr);
  if (!obj || !obj->contains("status")) return "";
  for (const auto& n : (*obj)["status"].value("nodes", json::array())) {
    if (n.value("node", "") != "node-1") continue;
    for (const auto& c : n.value("containers", json::array()))
      if (c.value("container", "") == container) return c.value("state", "");
  }
  return "";
}

// Requests other than watches (the steady-state budget counts these).
size_t non_watch_requests(const fakes::FakeApiServer& api) {
  size_t n = 0;
  for (const auto& r : api.requests()) {
    auto w = r.params.find("watch");
    if (w == r.params.end() || (w->second != "true" && w->second != "1")) ++n;
  }
  return n;
}

// The last line in which the agent said which policy it runs after a cluster input changed.
std::string last_policy_line(const std::string& log) {
  std::istringstream in(log);
  std::string line, last;
  while (std::getline(in, line))
    if (line.find("ColocationPolicy objects from the API server applied") != std::string::npos ||
        line.find("node labels from the API server") != std::string::npos)
      last = line;
  return last;
}

// ---- RBAC: what a request needs (the API server's request-info rules) and what the ClusterRole grants ----------

struct Access {
  std::string group, resource, verb;  // resource with "/subresource"
  bool operator<(const Access& o) const {
    return std::tie(group, resource, verb) < std::tie(o.group, o.resource, o.verb);
  }
};

Access access_of(const fakes::RecordedRequest& r) {
  std::vector<std::string> seg;
  std::istringstream in(r.path);
  for (std::string s; std::getline(in, s, '/');)
    if (!s.empty()) seg.push_back(s);
  Access a;
  size_t i = 0;
  if (seg.size() >= 2 && seg[0] == "api") {
    i = 2;
  } else if (seg.size() >= 3 && seg[0] == "apis") {
    a.group = seg[1];
    i = 3;
  }
  if (i + 2 < seg.size() && seg[i] == "namespaces") i += 2;
  std::vector<std::string> rest(seg.begin() + static_cast<long>(i), seg.end());
  bool named = rest.size() >= 2;
  a.resource = rest.empty() ? "" : rest[0];
  if (rest.size() == 3) a.resource += "/" + rest[2];
  auto w = r.params.find("watch");
  bool watch = w != r.params.end() && (w->second == "true" || w->second == "1");
  if (r.method == "GET") a.verb = watch ? "watch" : named ? "get" : "list";
  else if (r.method == "POST") a.verb = "create";
  else if (r.method == "PATCH") a.verb = "patch";
  else if (r.method == "PUT") a.verb = "update";
  else if (r.method == "DELETE") a.verb = named ? "delete" : "deletecollection";
  return a;
}

// The ClusterRole "sloagent" of deploy/daemonset.yaml as (group, resource, verb) triples.
std::set<Access> cluster_role_grants() {
  std::set<Access> out;
  for (const auto& doc : YAML::LoadAllFromFile(std::string(std::getenv("SLO_SOURCE_ROOT")) + "/deploy/daemonset.yaml")) {
    if (!doc["kind"] || doc["kind"].as<std::string>() != "ClusterRole") continue;
    for (const auto& rule : doc["rules"])
      for (const auto& g : rule["apiGroups"])
        for (const auto& res : rule["resources"])
          for (const auto& v : rule["verbs"]) out.insert({g.as<std::string>(), res.as<std::string>(), v.as<std::string>()});
  }
  return out;
}

fakes::FakeApiServer::Options api_options() {
  fakes::FakeApiServer::Options o;
  o.bookmark_interval = 200ms;  // bookmarks flow, so a cut stream has delivered lines (re-watch at once)
  return o;
}

// One node: the fake API server with a Node object, a synthetic cgroup tree with two pods, and the agent.
struct ClusterNode {
  test::TempDir tmp;
  test::FakeNode node;
  fakes::FakeApiServer api;
  std::unique_ptr<test::AgentProcess> agent;

  explicit ClusterNode(const std::map<std::string, std::string>& labels = {})
      : node(tmp.sub("cg"), false), api(api_options()) {
    node.populate(2);  // pod-0 Burstable (LS), pod-1 BestEffort; containers c0, c1
    node.write_pod_list(tmp.sub("pods.json"));
    api.start();
    api.create("/api/v1/nodes", node_object(labels));
    tmp.write("kubeconfig", fakes::make_kubeconfig(api.port(), api.ca_pem(), api.token()));
    // Only the controllers under test: the others would write the same knobs (CPU burst, cpuset) or need the
    // kernel (BPF, resctrl). No nodeLabels: in a cluster they come from the Node object.
    tmp.write("config.yaml",
              "agent:\n  nodeName: node-1\n  tickMs: 50\n"
              "  controllers: {disabled: [CpuBurstController, CpusetController, RdtController, RunqLatencyController,\n"
              "    BeSuppressionController, BatchResourcesController]}\n");
  }
  ~ClusterNode() {
    if (agent) agent->terminate();
  }

  void start_agent() {
    agent = std::make_unique<test::AgentProcess>(
        std::vector<std::string>{"run", "--kubeconfig", tmp.sub("kubeconfig"), "--config", tmp.sub("config.yaml"),
                                 "--pods-file", tmp.sub("pods.json"), "--cgroup-root", node.root(), "--state-dir",
                                 tmp.sub("state"), "--socket=", "--metrics-addr="},
        tmp.sub("agent.out"), tmp.sub("agent.err"));
    bool up = test::eventually([&] { return agent->err().find("controllers on:") != std::string::npos; }, 15s);
    INFO(agent->err());
    REQUIRE(up);
    // Cgroups, ColocationPolicy and the Node: three informers listed and watching.
    REQUIRE(test::eventually([&] { return api.active_watches() >= 3; }, 15s));
  }

  // Every request this agent sent is one its ClusterRole allows.
  void check_rbac() const {
    auto grants = cluster_role_grants();
    REQUIRE_FALSE(grants.empty());
    for (const auto& r : api.requests()) {
      auto a = access_of(r);
      INFO(r.method << " " << r.path << " needs " << a.verb << " on " << a.group << "/" << a.resource);
      CHECK(grants.count(a) == 1);
    }
  }

  std::string container(int pod, int ctr) const {
    const auto& p = node.pods()[static_cast<size_t>(pod)];
    return node.pod_cgroup(p) + "/" + p.containers[static_cast<size_t>(ctr)].id;
  }
  std::string quota(int pod, int ctr) const { return node.read(container(pod, ctr), "cpu.cfs_quota_us"); }
  std::string memory_limit(int pod, int ctr) const { return node.read(container(pod, ctr), "memory.limit_in_bytes"); }

  // The watch is down while `during` runs (events pile up unsent), then cut; optionally history is compacted
  // first so that the re-watch gets 410 Gone and only a relist can see what changed.
  template <class F>
  void with_watch_broken(bool compact, F during) {
    api.pause_watches(true);
    during();
    if (compact) api.compact();
    api.drop_watches();
    api.pause_watches(false);
  }
};

}  // namespace

TEST_CASE("Cgroups CR: applied to the pod's container with status Applied for this node; deleted: restored") {
  ClusterNode c;
  c.start_agent();
  REQUIRE(c.quota(0, 0) == "-1");
  REQUIRE(c.memory_limit(0, 0) == kNoLimit);

  c.api.create(kCgroups, cgroups_cr("pod-0-boost", "pod-0", "c0", "500m", "256Mi"));
  CHECK(test::eventually([&] { return c.quota(0, 0) == "50000"; }, 10s));
  CHECK(test::eventually([&] { return c.memory_limit(0, 0) == "268435456"; }, 10s));
  CHECK(test::eventually([&] { return cr_state(c.api, "pod-0-boost", "c0") == "Applied"; }, 10s));
  CHECK(c.quota(0, 1) == "-1");  // the other container is not in the CR
  // Reported as server-side apply of this node's entry, with its own field manager.
  auto applies = c.api.requests("PATCH", "/cgroups/pod-0-boost/status");
  REQUIRE_FALSE(applies.empty());
  CHECK(applies.back().content_type == "application/apply-patch+yaml");
  CHECK(applies.back().params["fieldManager"] == "sloagent-node-1");
  CHECK(applies.back().status == 200);

  // An invalid value: nothing of that container is written, status Failed with a reason, a Warning Event.
  c.api.create(kCgroups, cgroups_cr("pod-0-bad", "pod-0", "c1", "lots"));
  CHECK(test::eventually([&] { return cr_state(c.api, "pod-0-bad", "c1") == "Failed"; }, 10s));
  CHECK(test::eventually([&] { return !c.api.requests("POST", "/api/v1/namespaces/default/events").empty(); }, 10s));
  CHECK(c.quota(0, 1) == "-1");
  c.api.remove(kCgroups, "", "pod-0-bad");

  c.api.remove(kCgroups, "", "pod-0-boost");
  CHECK(test::eventually([&] { return c.quota(0, 0) == "-1"; }, 10s));
  // Unlimited again: the executor writes v1's "-1", which a kernel reads back as kNoLimit and a plain file as is.
  bool mem_back = test::eventually(
      [&] { return c.memory_limit(0, 0) == kNoLimit || c.memory_limit(0, 0) == "-1"; }, 10s);
  INFO("memory.limit_in_bytes after delete: " << c.memory_limit(0, 0));
  CHECK(mem_back);

  c.check_rbac();
  INFO(c.agent->err());
  CHECK(c.agent->terminate() == 0);
}

TEST_CASE("Cgroups watch: a dropped connection, a 410 status and a 410 ERROR event lose no change") {
  ClusterNode c;
  c.start_agent();

  // 1. Cut mid-stream: the re-watch from the last resourceVersion replays what was created meanwhile.
  c.with_watch_broken(false, [&] { c.api.create(kCgroups, cgroups_cr("during-drop", "pod-0", "c0", "300m")); });
  CHECK(test::eventually([&] { return c.quota(0, 0) == "30000"; }, 10s));

  // 2. The creation is compacted out of history before the agent re-watches: 410 Gone (HTTP), relist, found.
  c.with_watch_broken(true, [&] { c.api.create(kCgroups, cgroups_cr("during-gone", "pod-0", "c1", "200m")); });
  CHECK(test::eventually([&] { return c.quota(0, 1) == "20000"; }, 10s));
  bool saw_410 = false;
  for (const auto& r : c.api.requests("GET", kCgroups))
    if (r.params.count("watch") && r.status == 410) saw_410 = true;
  CHECK(saw_410);

  // 3. The same as a 410 ERROR event on a 200 stream, and the missed change is a deletion.
  c.api.set_gone_as_error_event(true);
  c.with_watch_broken(true, [&] { c.api.remove(kCgroups, "", "during-drop"); });
  CHECK(test::eventually([&] { return c.quota(0, 0) == "-1"; }, 10s));
  CHECK(c.quota(0, 1) == "20000");

  size_t lists = 0;
  for (const auto& r : c.api.requests("GET", kCgroups))
    if (!r.params.count("watch")) ++lists;
  CHECK(lists == 3);  // the first list and one relist per 410, none for the plain drop
  // What the agent received, independent of what the CR controller made of it.
  auto err = c.agent->err();
  INFO(err);
  CHECK(err.find("Cgroups objects: 1") != std::string::npos);
  CHECK(err.find("Cgroups objects: 2") != std::string::npos);
  c.check_rbac();
  CHECK(c.agent->terminate() == 0);
}

TEST_CASE("Node: batch resources in its status; its labels select ColocationPolicy objects; settled = no requests") {
  ClusterNode c(std::map<std::string, std::string>{{"pool", "web"}});
  c.api.create(kPolicies, json{{"apiVersion", "slo-agent.io/v1alpha1"},
                               {"kind", "ColocationPolicy"},
                               {"metadata", {{"name", "web-only"}}},
                               {"spec",
                                {{"nodeSelector", {{"matchLabels", {{"pool", "web"}}}}},
                                 {"priority", 5},
                                 {"colocationStrategy", {{"cpuReclaimThresholdPercent", 50}}}}}});
  c.start_agent();

  auto has_batch = [&] {
    auto n = c.api.get("/api/v1/nodes", "", "node-1");
    const auto& a = (*n)["status"]["allocatable"];
    return a.contains("kubernetes.io/batch-cpu") && a.contains("kubernetes.io/batch-memory") &&
           (*n)["status"]["capacity"].contains("kubernetes.io/batch-cpu");
  };
  CHECK(test::eventually(has_batch, 10s));
  auto patches = c.api.requests("PATCH", "/api/v1/nodes/node-1/status");
  REQUIRE_FALSE(patches.empty());
  CHECK(patches[0].content_type == "application/merge-patch+json");
  CHECK(patches[0].status == 200);

  // The policy selects pool=web, a label the Node has and the config does not.
  CHECK(test::eventually(
      [&] { return last_policy_line(c.agent->err()).find("ColocationPolicy/web-only") != std::string::npos; }, 10s));
  // Relabelled: the policy stops applying.
  c.api.update("/api/v1/nodes", node_object({{"pool", "db"}}));
  CHECK(test::eventually(
      [&] {
        auto l = last_policy_line(c.agent->err());
        return l.find("node labels from the API server") != std::string::npos &&
               l.find("web-only") == std::string::npos;
      },
      10s));

  // Settled: no request but the open watches for a while (the budget is 60 an hour, one a minute; node status
  // refreshes come every 5 minutes, a changed value at most once a minute).
  std::this_thread::sleep_for(1s);
  size_t before = non_watch_requests(c.api);
  std::this_thread::sleep_for(10s);
  size_t after = non_watch_requests(c.api);
  std::string seen;
  for (const auto& r : c.api.requests()) seen += r.method + " " + r.path + "\n";
  INFO(seen);
  CHECK(after - before <= 1);
  c.check_rbac();
  INFO(c.agent->err());
  CHECK(c.agent->terminate() == 0);
}

TEST_CASE("RBAC: the ClusterRole grants exactly the calls the agent makes") {
  // Every API call in agent/kube (ClusterSync informers, KubeClusterActions) and the kubelet's authorization of
  // GET :10250/pods (nodes/proxy, or nodes/pods with fine-grained kubelet authorization). docs/kube-cluster.md lists
  // the same. A new call needs a line here and a rule in the role; a rule nobody needs fails here.
  const std::set<Access> calls = {
      {"", "nodes/proxy", "get"},          {"", "nodes/pods", "get"},
      {"", "nodes", "list"},               {"", "nodes", "watch"},
      {"", "nodes", "patch"},              {"", "nodes/status", "patch"},
      {"resources.alibabacloud.com", "cgroups", "list"},
      {"resources.alibabacloud.com", "cgroups", "watch"},
      {"resources.alibabacloud.com", "cgroups/status", "patch"},
      {"slo-agent.io", "colocationpolicies", "list"},
      {"slo-agent.io", "colocationpolicies", "watch"},
      {"", "events", "create"},            {"", "pods/eviction", "create"},
  };
  auto grants = cluster_role_grants();
  for (const auto& g : grants) {
    INFO("granted but never called: " << g.verb << " " << g.group << "/" << g.resource);
    CHECK(calls.count(g) == 1);
  }
  for (const auto& c : calls) {
    INFO("called but not granted: " << c.verb << " " << c.group << "/" << c.resource);
    CHECK(grants.count(c) == 1);
  }
  // The request-info mapping itself, on the shapes the agent sends.
  auto req = [](std::string m, std::string p, std::map<std::string, std::string> q = {}) {
    fakes::RecordedRequest r;
    r.method = std::move(m);
    r.path = std::move(p);
    r.params = std::move(q);
    return access_of(r);
  };
  CHECK(calls.count(req("GET", "/apis/resources.alibabacloud.com/v1alpha1/cgroups", {{"watch", "true"}})) == 1);
  CHECK(calls.count(req("PATCH", "/apis/resources.alibabacloud.com/v1alpha1/cgroups/x/status")) == 1);
  CHECK(calls.count(req("POST", "/api/v1/namespaces/ns/pods/p/eviction")) == 1);
  CHECK(calls.count(req("POST", "/api/v1/namespaces/ns/events")) == 1);
  CHECK(calls.count(req("GET", "/api/v1/nodes/node-1")) == 0);  // get: not needed, the node comes from a watch
}

TEST_CASE("mode: $KUBERNETES_SERVICE_HOST selects in-cluster config; --standalone and --kubeconfig exclude each other") {
  test::TempDir tmp;
  test::FakeNode node(tmp.sub("cg"), false);
  node.populate(1);
  node.write_pod_list(tmp.sub("pods.json"));
  std::vector<std::string> base = {"run",           "--node-name", "node-1",       "--pods-file", tmp.sub("pods.json"),
                                   "--cgroup-root", node.root(),   "--state-dir",  tmp.sub("state"), "--socket=",
                                   "--metrics-addr="};
  // In a "pod" whose service-account files are missing (the default path does not exist here): a clear error.
  ::setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1", 1);
  ::setenv("KUBERNETES_SERVICE_PORT", "1", 1);
  if (std::filesystem::exists("/var/run/secrets/kubernetes.io/serviceaccount/token")) {
    WARN("this test runs in a pod with a service account: the missing-token case is not checked");
  } else {
    test::AgentProcess p(base, tmp.sub("incluster.out"), tmp.sub("incluster.err"));
    CHECK(test::eventually([&] { return !p.running(); }, 10s));
    CHECK(p.terminate() == 1);
    INFO(p.err());
    CHECK(p.err().find("API server: ") != std::string::npos);
    CHECK(p.err().find("serviceaccount") != std::string::npos);
  }
  // --standalone: the environment is ignored, the agent runs as without a cluster.
  {
    auto args = base;
    args.push_back("--standalone");
    test::AgentProcess p(args, tmp.sub("standalone.out"), tmp.sub("standalone.err"));
    CHECK(test::eventually([&] { return p.err().find("controllers on:") != std::string::npos; }, 15s));
    CHECK(p.err().find("API server") == std::string::npos);
    CHECK(p.terminate() == 0);
  }
  ::unsetenv("KUBERNETES_SERVICE_HOST");
  ::unsetenv("KUBERNETES_SERVICE_PORT");
  auto args = base;
  args.insert(args.end(), {"--standalone", "--kubeconfig", tmp.sub("kubeconfig")});
  test::AgentProcess p(args, tmp.sub("both.out"), tmp.sub("both.err"));
  CHECK(test::eventually([&] { return !p.running(); }, 10s));
  CHECK(p.terminate() == 2);
  CHECK(p.err().find("exclude each other") != std::string::npos);
}
