#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "agent/model/pod.h"
#include "tests/common/support.h"

using namespace slo::model;
using nlohmann::json;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

const Pod& find(const PodListParse& r, const std::string& key) {
  for (const auto& p : r.pods)
    if (p.key() == key) return p;
  FAIL("pod " << key << " not parsed");
  throw 0;
}

json pod(const std::string& name, json containers, json labels = json::object(), json extra_status = json::object()) {
  json p = {{"metadata", {{"name", name}, {"namespace", "t"}, {"uid", "uid-" + name}, {"labels", labels}}},
            {"spec", {{"containers", containers}}},
            {"status", {{"phase", "Running"}}}};
  for (auto& [k, v] : extra_status.items()) p["status"][k] = v;
  return p;
}

json container(const std::string& name, json requests, json limits) {
  json c = {{"name", name}, {"resources", json::object()}};
  if (!requests.is_null()) c["resources"]["requests"] = requests;
  if (!limits.is_null()) c["resources"]["limits"] = limits;
  return c;
}

}  // namespace

TEST_CASE("real GKE kubelet PodList (containerd)", "[pod]") {
  auto r = parse_pod_list(slurp(slo::test::fixture("kubelet/gke-k8s1.10-containerd-kubelet-pods.json")));
  CHECK(r.errors.empty());
  REQUIRE(r.pods.size() == 7);
  for (const auto& p : r.pods) {
    INFO(p.key());
    CHECK(p.kube_qos == KubeQos::Burstable);
    CHECK(p.qos == QosClass::LS);
    CHECK(p.phase == "Running");
    CHECK(p.node_name == "gke-xvello-containerd-default-pool-43a2b388-xkm6");
    for (const auto& c : p.containers) {
      REQUIRE(c.ref.has_value());
      CHECK(c.ref->runtime == slo::cg::Runtime::containerd);
      CHECK(c.ref->id.size() == 64);
    }
  }
  const Pod& agent = find(r, "default/datadog-agent-pbqt2");
  CHECK(agent.uid == "b66c40af-997d-11e8-96a3-42010a840157");
  REQUIRE(agent.containers.size() == 1);
  CHECK(agent.containers[0].ref->id == "51cba2ca229069039575750d44ed3a67e9b5ead651312ba7ff218dd9202fde64");
  CHECK(agent.containers[0].requests.cpu_millis == 100);
  CHECK(agent.containers[0].requests.memory_bytes == 256LL << 20);
  CHECK(agent.containers[0].limits.memory_bytes == 256LL << 20);
  CHECK_FALSE(agent.containers[0].limits.cpu_millis.has_value());
  CHECK(agent.owner_kinds_names == std::vector<std::string>{"DaemonSet/datadog-agent"});
  CHECK(agent.priority == 0);

  const Pod& heapster = find(r, "kube-system/heapster-v1.5.3-54c6d8ddb9-pxhpf");
  REQUIRE(heapster.containers.size() == 3);
  CHECK(heapster.containers[1].name == "prom-to-sd");
  CHECK_FALSE(heapster.containers[1].requests.cpu_millis.has_value());
  CHECK(heapster.containers[2].limits.memory_bytes == 92960LL * 1024);
  CHECK(heapster.total_requests().cpu_millis == 88 + 50);
  CHECK(heapster.total_limits().memory_bytes == (204LL << 20) + 92960LL * 1024);
  CHECK(heapster.priority == 2000000000);
  CHECK(heapster.priority_class == "system-cluster-critical");
  CHECK(heapster.owner_kinds_names == std::vector<std::string>{"ReplicaSet/heapster-v1.5.3-54c6d8ddb9"});

  const Pod& ms = find(r, "kube-system/metrics-server-v0.2.1-764867b745-2bt2x");
  CHECK(ms.containers[1].requests.cpu_millis == 5);
  CHECK(ms.containers[1].limits.cpu_millis == 100);
  // Without status.qosClass the same pod derives to Burstable too.
  CHECK(derive_kube_qos(ms) == KubeQos::Burstable);
}

TEST_CASE("Kubernetes QoS derived from requests and limits", "[pod]") {
  json g = pod("g", json::array({container("a", json{{"cpu", "2"}, {"memory", "1Gi"}}, json{{"cpu", "2000m"}, {"memory", "1Gi"}}),
                                  container("b", nullptr, json{{"cpu", "1"}, {"memory", "1Gi"}})}));
  json b1 = pod("b1", json::array({container("a", json{{"cpu", "1"}}, nullptr)}));
  json b2 = pod("b2", json::array({container("a", json{{"cpu", "1"}, {"memory", "1Gi"}}, json{{"cpu", "2"}, {"memory", "1Gi"}})}));
  json b3 = pod("b3", json::array({container("a", json{{"cpu", "1"}, {"memory", "1Gi"}}, json{{"cpu", "1"}, {"memory", "1Gi"}}),
                                   container("side", nullptr, nullptr)}));
  json be = pod("be", json::array({container("a", nullptr, nullptr)}));
  // Extended resources alone do not make a pod Burstable.
  json be2 = pod("be2", json::array({container("a", json{{"kubernetes.io/batch-cpu", "2000"}, {"kubernetes.io/batch-memory", "4Gi"}},
                                               json{{"kubernetes.io/batch-cpu", "2000"}, {"kubernetes.io/batch-memory", "4Gi"}})}));
  auto r = parse_pod_list(json{{"kind", "PodList"}, {"items", json::array({g, b1, b2, b3, be, be2})}});
  REQUIRE(r.errors.empty());
  REQUIRE(r.pods.size() == 6);
  CHECK(r.pods[0].kube_qos == KubeQos::Guaranteed);
  CHECK(r.pods[0].qos == QosClass::LS);
  CHECK(r.pods[1].kube_qos == KubeQos::Burstable);
  CHECK(r.pods[2].kube_qos == KubeQos::Burstable);
  CHECK(r.pods[3].kube_qos == KubeQos::Burstable);
  CHECK(r.pods[4].kube_qos == KubeQos::BestEffort);
  CHECK(r.pods[4].qos == QosClass::BE);
  CHECK(r.pods[5].kube_qos == KubeQos::BestEffort);
  CHECK(r.pods[5].containers[0].requests.batch_cpu_millis == 2000);
  CHECK(r.pods[5].containers[0].limits.batch_memory_bytes == 4LL << 30);
  CHECK(r.pods[5].total_requests().batch_cpu_millis == 2000);
  CHECK(tier_of(KubeQos::Guaranteed) == slo::cg::QosTier::guaranteed);
  CHECK(tier_of(KubeQos::BestEffort) == slo::cg::QosTier::besteffort);
}

TEST_CASE("koordinator QoS label wins over the Kubernetes class", "[pod]") {
  json c = json::array({container("a", json{{"cpu", "4"}, {"memory", "1Gi"}}, json{{"cpu", "4"}, {"memory", "1Gi"}})});
  std::vector<std::pair<std::string, QosClass>> cases = {
      {"LSE", QosClass::LSE}, {"LSR", QosClass::LSR}, {"LS", QosClass::LS}, {"BE", QosClass::BE}, {"SYSTEM", QosClass::SYSTEM}};
  json items = json::array();
  for (const auto& [label, q] : cases) items.push_back(pod("p" + label, c, json{{"koordinator.sh/qosClass", label}}));
  items.push_back(pod("junk", c, json{{"koordinator.sh/qosClass", "gold"}}));  // unknown label: fall back
  items.push_back(pod("status", json::array({container("a", nullptr, nullptr)}), json::object(), json{{"qosClass", "Guaranteed"}}));
  auto r = parse_pod_list(json{{"items", items}});
  REQUIRE(r.pods.size() == 7);
  for (size_t i = 0; i < cases.size(); ++i) {
    CHECK(r.pods[i].qos == cases[i].second);
    CHECK(to_string(r.pods[i].qos) == cases[i].first);
    CHECK(qos_from_string(cases[i].first) == cases[i].second);
  }
  CHECK(r.pods[5].qos == QosClass::LS);
  CHECK(r.pods[6].kube_qos == KubeQos::Guaranteed);  // status.qosClass is taken as the kubelet's word
  CHECK_FALSE(qos_from_string("lse").has_value());
}

TEST_CASE("invalid pods are rejected one by one, the rest kept", "[pod]") {
  json ok = pod("ok", json::array({container("a", json{{"cpu", "100m"}}, nullptr)}));
  json bad_uid = pod("bad-uid", json::array());
  bad_uid["metadata"]["uid"] = "../../etc";
  json no_uid = pod("no-uid", json::array());
  no_uid["metadata"].erase("uid");
  json bad_qty = pod("bad-qty", json::array({container("a", json{{"cpu", "lots"}}, nullptr)}));
  json neg_qty = pod("neg-qty", json::array({container("a", nullptr, json{{"memory", "-1Gi"}})}));
  json bad_cid = pod("bad-cid", json::array({container("a", nullptr, nullptr)}));
  bad_cid["status"]["containerStatuses"] = json::array({{{"name", "a"}, {"containerID", "containerd://../x"}}});
  json no_name = pod("", json::array());
  json not_obj = "just a string";
  json pending = pod("pending", json::array({container("a", nullptr, nullptr)}));
  pending["status"]["containerStatuses"] = json::array({{{"name", "a"}, {"containerID", ""}}});
  auto r = parse_pod_list(json{{"items", json::array({ok, bad_uid, no_uid, bad_qty, neg_qty, bad_cid, no_name, not_obj, pending})}});
  REQUIRE(r.pods.size() == 2);
  CHECK(r.pods[0].name == "ok");
  CHECK(r.pods[1].name == "pending");
  CHECK_FALSE(r.pods[1].containers[0].ref.has_value());
  REQUIRE(r.errors.size() == 7);
  CHECK(r.errors[0].find("t/bad-uid") == 0);
  CHECK(r.errors[0].find("invalid uid") != std::string::npos);
  CHECK(r.errors[2].find("spec.containers[0].resources.requests.cpu") != std::string::npos);
  CHECK(r.errors[4].find("invalid containerID") != std::string::npos);
}

TEST_CASE("malformed documents yield an error and no pods", "[pod]") {
  auto r = parse_pod_list(std::string_view("{not json"));
  CHECK(r.pods.empty());
  CHECK(r.errors.size() == 1);
  r = parse_pod_list(std::string_view("[1,2]"));
  CHECK(r.errors.size() == 1);
  r = parse_pod_list(std::string_view(R"({"items": 5})"));
  CHECK(r.errors.size() == 1);
  r = parse_pod_list(std::string_view(R"({"kind":"PodList","items":null})"));
  CHECK(r.errors.empty());
  CHECK(r.pods.empty());
}
