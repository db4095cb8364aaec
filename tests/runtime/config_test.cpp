// Config: JSON/YAML parsing, field-named errors, clusterStrategy + nodeStrategies resolution, ColocationPolicy CRs.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <iterator>

#include "agent/runtime/config.h"
#include "agent/runtime/document.h"
#include "tests/common/support.h"

using namespace slo;
using namespace slo::agent;
using nlohmann::json;

namespace {

json yaml(const std::string& text) {
  std::string err;
  auto d = parse_document(text, err);
  INFO(err);
  REQUIRE(d);
  return *d;
}

std::string error_of(const json& doc) {
  ConfigError err;
  auto c = parse_config(doc, {"TestQuota", "CpuBurst"}, err);
  REQUIRE(!c);
  return err.what();
}

}  // namespace

TEST_CASE("YAML scalars keep their types; quoted numbers stay strings") {
  auto d = yaml("a: 1\nb: '1'\nc: true\nd: 1.5\ne: ~\nf: [x, 2]\ng: 0-3\n");
  CHECK(d["a"].is_number_integer());
  CHECK(d["b"].is_string());
  CHECK(d["c"].is_boolean());
  CHECK(d["d"].is_number_float());
  CHECK(d["e"].is_null());
  CHECK(d["f"][1] == 2);
  CHECK(d["g"] == "0-3");
  std::string err;
  CHECK(!parse_document("a: [1, 2\n", err));
  CHECK(err.find("line") != std::string::npos);
}

TEST_CASE("agent settings parse with defaults and field-named errors") {
  ConfigError err;
  auto c = parse_config(yaml("agent:\n  nodeName: n1\n  tickMs: 50\n  statsIntervalMs: 500\n"
                             "  controllers: {enabled: [TestQuota]}\n"),
                        {"TestQuota"}, err);
  REQUIRE(c);
  CHECK(c->agent.node_name == "n1");
  CHECK(c->agent.tick.count() == 50);
  CHECK(c->agent.reassert.count() == 30);
  CHECK(c->agent.controller_enabled("TestQuota"));
  CHECK(!c->agent.controller_enabled("CpuBurst"));

  CHECK(error_of(yaml("agent: {tickMs: 0}")) == "agent.tickMs: must be between 10 and 60000");
  CHECK(error_of(yaml("agent: {tickMs: fast}")) == "agent.tickMs: must be an integer");
  CHECK(error_of(yaml("agent: {tickMz: 10}")) == "agent.tickMz: unknown field");
  CHECK(error_of(yaml("agent: {logLevel: loud}")).rfind("agent.logLevel:", 0) == 0);
  CHECK(error_of(yaml("agent: {kubepodsParent: ../x}")).rfind("agent.kubepodsParent:", 0) == 0);
  CHECK(error_of(yaml("agent: {controllers: {enabled: [Nope]}}")) ==
        "agent.controllers.enabled[0]: unknown controller 'Nope'");
  CHECK(error_of(yaml("agent: {tickMs: 200, statsIntervalMs: 100}")).rfind("agent.statsIntervalMs:", 0) == 0);
  CHECK(error_of(yaml("clusterStrategy: [1]")) == "clusterStrategy: must be a map of policy blocks");
  CHECK(error_of(yaml("nodeStrategies: [{cpuBurstStrategy: {}}]")) == "nodeStrategies[0].nodeSelector: is required");
  CHECK(error_of(yaml("nodeStrategies: [{nodeSelector: {matchExpressions: [{key: a, operator: Near}]}}]")) ==
        "nodeStrategies[0].nodeSelector.matchExpressions[0].operator: must be one of In, NotIn, Exists, DoesNotExist");
  CHECK(error_of(yaml("colour: blue")).rfind("colour:", 0) == 0);
}

TEST_CASE("the first matching node strategy is merged over the cluster strategy") {
  ConfigError err;
  auto c = parse_config(yaml(R"(
clusterStrategy:
  cpuBurstStrategy: {policy: auto, cpuBurstPercent: 1000, cfsQuotaBurstPercent: 300}
  resourceThresholdStrategy: {enable: false}
nodeStrategies:
  - name: gpu
    nodeSelector: {matchLabels: {pool: gpu}}
    cpuBurstStrategy: {cpuBurstPercent: 100}
  - name: batch
    nodeSelector:
      matchExpressions: [{key: pool, operator: In, values: [batch, mixed]}]
    cpuBurstStrategy: {policy: none}
    resourceThresholdStrategy: {enable: true}
  - name: also-batch
    nodeSelector: {matchLabels: {pool: batch}}
    cpuBurstStrategy: {cpuBurstPercent: 1}
)"),
                        {}, err);
  REQUIRE(c);
  auto r = resolve_policy(*c, {{"pool", "batch"}}, {}, err);
  REQUIRE(r);
  CHECK(r->policy["cpuBurstStrategy"]["policy"] == "none");
  CHECK(r->policy["cpuBurstStrategy"]["cpuBurstPercent"] == 1000);  // untouched fields come from the cluster
  CHECK(r->policy["resourceThresholdStrategy"]["enable"] == true);
  REQUIRE(r->applied.size() == 2);
  CHECK(r->applied[1] == "nodeStrategies[1] (batch)");

  auto g = resolve_policy(*c, {{"pool", "gpu"}}, {}, err);
  CHECK(g->policy["cpuBurstStrategy"]["cpuBurstPercent"] == 100);
  CHECK(g->policy["cpuBurstStrategy"]["policy"] == "auto");
  auto none = resolve_policy(*c, {{"pool", "web"}}, {}, err);
  CHECK(none->policy == c->cluster_strategy);
}

TEST_CASE("selectors: matchLabels and matchExpressions") {
  ConfigError err;
  std::map<std::string, std::string> l = {{"a", "1"}, {"b", "2"}};
  CHECK(*selector_matches(json::parse(R"({"matchLabels":{"a":"1"}})"), l, "s", err));
  CHECK(!*selector_matches(json::parse(R"({"matchLabels":{"a":"2"}})"), l, "s", err));
  CHECK(*selector_matches(json::parse(R"({"matchExpressions":[{"key":"c","operator":"DoesNotExist"}]})"), l, "s", err));
  CHECK(!*selector_matches(json::parse(R"({"matchExpressions":[{"key":"a","operator":"NotIn","values":["1"]}]})"), l,
                           "s", err));
  CHECK(*selector_matches(json::parse(R"({"matchExpressions":[{"key":"b","operator":"Exists"}]})"), l, "s", err));
  CHECK(*selector_matches(json::object(), l, "s", err));  // empty selector matches every node
  CHECK(!selector_matches(json::parse(R"({"matchExpressions":[{"key":"a","operator":"In"}]})"), l, "s", err));
  CHECK(err.what() == "s.matchExpressions[0].values: must not be empty for In");
}

TEST_CASE("ColocationPolicy objects from a directory merge by priority over the config") {
  test::TempDir tmp;
  tmp.write("p/10-base.yaml", R"(
apiVersion: slo-agent.io/v1alpha1
kind: ColocationPolicy
metadata: {name: base}
spec:
  priority: 10
  cpuBurstStrategy: {cpuBurstPercent: 200}
---
apiVersion: slo-agent.io/v1alpha1
kind: ColocationPolicy
metadata: {name: other-node}
spec:
  nodeSelector: {matchLabels: {kubernetes.io/hostname: elsewhere}}
  cpuBurstStrategy: {cpuBurstPercent: 1}
)");
  tmp.write("p/20-urgent.json",
            R"({"kind":"ColocationPolicy","metadata":{"name":"urgent"},"spec":{"priority":100,
               "cpuBurstStrategy":{"cpuBurstPercent":500}}})");
  tmp.write("p/README.txt", "ignored");
  ConfigError err;
  auto crs = load_policy_dir(tmp.sub("p"), err);
  INFO(err.what());
  REQUIRE(crs);
  REQUIRE(crs->size() == 3);
  ConfigDocument cfg;
  cfg.cluster_strategy = {{"cpuBurstStrategy", {{"cpuBurstPercent", 100}, {"policy", "auto"}}}};
  auto r = resolve_policy(cfg, {{"kubernetes.io/hostname", "n1"}}, *crs, err);
  REQUIRE(r);
  CHECK(r->policy["cpuBurstStrategy"]["cpuBurstPercent"] == 500);  // highest priority last
  CHECK(r->policy["cpuBurstStrategy"]["policy"] == "auto");
  CHECK(r->applied == std::vector<std::string>{"clusterStrategy", "ColocationPolicy/base", "ColocationPolicy/urgent"});

  tmp.write("p/30-bad.yaml", "kind: ColocationPolicy\nmetadata: {name: bad}\nspec: {priority: high}\n");
  CHECK(!load_policy_dir(tmp.sub("p"), err));
  CHECK(err.what() == "ColocationPolicy/bad: spec.priority: must be an integer");
}

TEST_CASE("load_config: controllers validate their blocks, command-line overrides win") {
  test::TempDir tmp;
  tmp.write("c.yaml", "agent: {nodeName: from-file, controllers: {enabled: [TestQuota]}}\n"
                      "clusterStrategy: {testQuota: {quotaUs: 20000}}\n");
  std::string err;
  ConfigOverrides ov;
  ov.node_name = "from-cli";
  auto c = load_config(tmp.sub("c.yaml"), "", ov, err);
  INFO(err);
  REQUIRE(c);
  CHECK(c->doc.agent.node_name == "from-cli");
  CHECK(c->effective.policy["testQuota"]["quotaUs"] == 20000);

  tmp.write("bad.yaml", "agent: {controllers: {enabled: [TestQuota]}}\nclusterStrategy: {testQuota: {quotaUs: 5}}\n");
  CHECK(!load_config(tmp.sub("bad.yaml"), "", {}, err));
  CHECK(err == "TestQuota: testQuota.quotaUs: must be an integer >= 1000");
  CHECK(!load_config(tmp.sub("missing.yaml"), "", {}, err));
  CHECK(err.find("missing.yaml") != std::string::npos);
}

TEST_CASE("multi-document YAML: markers split documents, errors keep file line numbers, malformed input terminates") {
  std::string err;
  auto docs = agent::parse_documents("a: 1\n---\nb: 2\n...\n--- {c: 3}\n---\n# only a comment\n", err);
  REQUIRE(docs);
  REQUIRE(docs->size() == 3);
  CHECK((*docs)[0]["a"] == 1);
  CHECK((*docs)[1]["b"] == 2);
  CHECK((*docs)[2]["c"] == 3);

  // The error names the line in the file, not in the document (yaml-cpp marks an unclosed flow at the end of input:
  // line 5 of the file, line 3 of the second document).
  CHECK(!agent::parse_documents("a: 1\n---\nb: 2\nc: [unclosed\n", err));
  CHECK(err.rfind("line 5,", 0) == 0);

  // yaml-cpp's LoadAll looped forever on this (a fuzz find); it must end, one way or the other, at once.
  const char* src = std::getenv("SLO_SOURCE_ROOT");
  REQUIRE(src);
  std::ifstream in(std::string(src) + "/tests/fuzz/seeds/config/yaml-cpp-loadall-loop.yaml");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  REQUIRE(!text.empty());
  (void)agent::parse_documents(text, err);
}
