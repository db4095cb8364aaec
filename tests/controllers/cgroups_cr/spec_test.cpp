// Cgroups CR parsing, validation and pod matching (no runtime): the CRD examples, every rejection reason, and the
// Deployment owner chain.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>

#include "agent/decide/cgroups_cr/cr_spec.h"
#include "agent/decide/cgroups_cr/pod_match.h"
#include "agent/runtime/config.h"
#include "tests/controllers/cgroups_cr/cr_world.h"

using namespace slo;
using namespace slo::agent::cgroups_cr;
using json = nlohmann::json;

namespace {

struct Facts {
  test::TempDir tmp;
  NodeFacts facts;
  Facts() {
    facts.online_cpus = cg::CpuSet::range(0, 19);
    std::string sysfs = test::CrWorld::make_sysfs(tmp, "sysfs");  // vda 253:0 (disk), vda1 253:1 (partition)
    facts.resolve_device = [sysfs](const std::string& d) { return resolve_block_device(sysfs, d); };
  }
};

json cr_with(const json& container) {
  return {{"apiVersion", "resources.alibabacloud.com/v1alpha1"},
          {"kind", "Cgroups"},
          {"metadata", {{"name", "t"}, {"generation", 3}}},
          {"spec", {{"pod", {{"name", "web-0"}, {"namespace", "shop"}, {"containers", json::array({container})}}}}}};
}

ContainerOverride one(const Facts& f, const json& container) {
  auto s = parse_cr(cr_with(container), f.facts);
  REQUIRE(s.error.empty());
  REQUIRE(s.containers.size() == 1);
  return s.containers[0];
}

std::vector<json> load_example(const std::string& file) {
  const char* src = std::getenv("SLO_SOURCE_ROOT");
  REQUIRE(src);
  test::TempDir d;
  std::filesystem::copy_file(std::string(src) + "/crd/examples/" + file, d.sub(file));
  agent::ConfigError err;
  std::vector<json> crs;
  auto r = agent::load_policy_dir(d.path(), err, &crs);
  INFO(err.what());
  REQUIRE(r);
  return crs;
}

}  // namespace

TEST_CASE("cgroups cr spec: the CRD's pod example parses into typed overrides") {
  Facts f;
  auto crs = load_example("cgroups-pod.yaml");
  REQUIRE(crs.size() == 1);
  auto s = parse_cr(crs[0], f.facts);
  REQUIRE(s.error.empty());
  CHECK(s.name == "web-0-emergency");
  CHECK_FALSE(s.deployment);
  CHECK(s.target_namespace == "shop");
  CHECK(s.target_name == "web-0");
  REQUIRE(s.containers.size() == 1);
  const auto& c = s.containers[0];
  CHECK(c.valid());
  CHECK(c.name == "server");
  CHECK(c.cpu_millis == 2000);
  CHECK(c.memory_bytes == int64_t{4} << 30);
  REQUIRE(c.cpus);
  CHECK(c.cpus->to_string() == "2-3");
  REQUIRE(c.io.size() == 2);
  CHECK(c.io[0].knob == cg::Knob::io_read_bps);
  CHECK(c.io[0].device == "253:0");  // /dev/vda through <sysfs>/block/vda/dev
  CHECK(c.io[0].value == 104857600);
  CHECK(c.io[1].knob == cg::Knob::io_write_iops);
  CHECK(c.io[1].device == "253:0");
  CHECK(c.io[1].value == 2000);
}

TEST_CASE("cgroups cr spec: the deployment example targets the Deployment") {
  Facts f;
  auto crs = load_example("cgroups-deployment.yaml");
  REQUIRE(crs.size() == 1);
  auto s = parse_cr(crs[0], f.facts);
  REQUIRE(s.error.empty());
  CHECK(s.deployment);
  CHECK(s.target_name == "batch-writer");
  CHECK(s.target_namespace == "analytics");
  REQUIRE(s.containers.size() == 1);
  CHECK(s.containers[0].cpu_millis == 1500);
  CHECK(s.containers[0].memory_bytes == int64_t{512} << 20);
}

TEST_CASE("cgroups cr spec: quantities as numbers or strings; blkio value 0 removes the limit") {
  Facts f;
  auto c = one(f, {{"name", "a"}, {"cpu", 2}, {"memory", 1073741824},
                   {"blkio", {{"device_write_bps", {{{"device", "vda"}, {"value", 0}}}},
                              {"device_read_iops", {{{"device", "253:0"}, {"value", "2k"}}}}}}});
  REQUIRE(c.valid());
  CHECK(c.cpu_millis == 2000);
  CHECK(c.memory_bytes == 1073741824);
  REQUIRE(c.io.size() == 2);
  CHECK(c.io[0].knob == cg::Knob::io_write_bps);
  CHECK(c.io[0].value == -1);
  CHECK(c.io[1].value == 2000);
  CHECK(one(f, {{"name", "a"}, {"cpu", "0.25"}}).cpu_millis == 250);
  CHECK(one(f, {{"name", "a"}, {"cpu", "1m"}}).cpu_millis == 1);
}

TEST_CASE("cgroups cr spec: invalid entries are rejected whole with a reason") {
  Facts f;
  struct Case {
    json container;
    const char* reason;
    const char* in_message;
  };
  const Case cases[] = {
      {{{"name", "a"}, {"cpu", "lots"}, {"memory", "1Gi"}}, kInvalidQuantity, "cpu 'lots'"},
      {{{"name", "a"}, {"cpu", "-1"}}, kInvalidQuantity, "cpu '-1'"},
      {{{"name", "a"}, {"cpu", "0"}}, kInvalidQuantity, "greater than 0"},
      {{{"name", "a"}, {"cpu", "1"}, {"memory", "12XB"}}, kInvalidQuantity, "memory '12XB'"},
      {{{"name", "a"}, {"memory", true}}, kInvalidQuantity, "memory"},
      {{{"name", "a"}, {"cpuset-cpus", "16-23"}, {"cpu", "1"}}, kCpusNotOnNode, "CPUs 20-23 are not online"},
      {{{"name", "a"}, {"cpuset-cpus", "3-1"}}, kInvalidCpuset, "3-1"},
      {{{"name", "a"}, {"cpuset-cpus", ""}}, kInvalidCpuset, "non-empty"},
      {{{"name", "a"}, {"blkio", {{"device_read_bps", {{{"device", "/dev/sdz"}, {"value", 1}}}}}}}, kUnknownDevice,
       "/dev/sdz"},
      {{{"name", "a"}, {"blkio", {{"device_read_bps", {{{"device", "/dev/vda1"}, {"value", 1}}}}}}}, kUnknownDevice,
       "whole block device"},
      {{{"name", "a"}, {"blkio", {{"device_read_bps", {{{"device", "253:1"}, {"value", 1}}}}}}}, kUnknownDevice,
       "253:1"},
      {{{"name", "a"}, {"blkio", {{"device_read_bps", {{{"device", "7:99"}, {"value", 1}}}}}}}, kUnknownDevice, "7:99"},
      {{{"name", "a"}, {"blkio", {{"device_read_bps", {{{"device", "../../etc"}, {"value", 1}}}}}}}, kUnknownDevice,
       "../../etc"},
      {{{"name", "a"}, {"blkio", {{"device_read_bps", {{{"device", "vda"}, {"value", "-5"}}}}}}}, kInvalidQuantity,
       "-5"},
      {{{"name", "a"}, {"blkio", {{"device_read_bps", {{{"device", "vda"}, {"value", 1}}, {{"device", "253:0"}, {"value", 2}}}}}}},
       kInvalidSpec, "listed twice"},
      {{{"name", "a"}, {"blkio", {{"weight", 5}}}}, kInvalidSpec, "blkio.weight"},
      {{{"name", "a"}, {"cpus", "1"}}, kInvalidSpec, "'cpus'"},
  };
  for (const auto& c : cases) {
    INFO(c.container.dump());
    auto o = one(f, c.container);
    CHECK_FALSE(o.valid());
    CHECK(o.invalid_reason == c.reason);
    CHECK_THAT(o.invalid_message, Catch::Contains(c.in_message));
    // Nothing of a rejected container survives, not even its valid fields.
    CHECK(o.empty());
  }
  // Without a known topology no cpuset can be checked: rejected rather than written blind.
  NodeFacts blind = f.facts;
  blind.online_cpus = cg::CpuSet();
  auto s = parse_cr(cr_with({{"name", "a"}, {"cpuset-cpus", "0"}}), blind);
  CHECK(s.containers.at(0).invalid_reason == kCpusNotOnNode);
}

TEST_CASE("cgroups cr spec: one bad container does not spoil the others; object errors") {
  Facts f;
  json cr = cr_with({{"name", "a"}, {"cpu", "x"}});
  cr["spec"]["pod"]["containers"].push_back({{"name", "b"}, {"cpu", "500m"}});
  cr["spec"]["pod"]["containers"].push_back({{"name", "b"}, {"cpu", "700m"}});
  auto s = parse_cr(cr, f.facts);
  REQUIRE(s.error.empty());
  CHECK(s.generation == 3);
  REQUIRE(s.containers.size() == 3);
  CHECK_FALSE(s.containers[0].valid());
  CHECK(s.containers[1].valid());
  CHECK(s.containers[1].cpu_millis == 500);
  CHECK(s.containers[2].invalid_reason == kInvalidSpec);  // listed twice

  json both = cr;
  both["spec"]["deployment"] = both["spec"]["pod"];
  CHECK_THAT(parse_cr(both, f.facts).error, Catch::Contains("exactly one"));
  json none = cr;
  none["spec"].erase("pod");
  CHECK_THAT(parse_cr(none, f.facts).error, Catch::Contains("exactly one"));
  json noname = cr;
  noname["metadata"].erase("name");
  CHECK_THAT(parse_cr(noname, f.facts).error, Catch::Contains("metadata.name"));
  json nons = cr;
  nons["spec"]["pod"].erase("namespace");
  CHECK_THAT(parse_cr(nons, f.facts).error, Catch::Contains("namespace"));
  json empty = cr;
  empty["spec"]["pod"]["containers"] = json::array();
  CHECK_THAT(parse_cr(empty, f.facts).error, Catch::Contains("non-empty"));
}

TEST_CASE("cgroups cr match: pods by name, Deployments through their ReplicaSet") {
  model::Pod p;
  p.namespace_ = "shop";
  p.name = "web-7d9f8c-x2k4q";
  p.owner_kinds_names = {"ReplicaSet/web-7d9f8c"};
  p.labels = {{"pod-template-hash", "7d9f8c"}};
  CHECK(owned_by_deployment(p, "web"));
  CHECK_FALSE(owned_by_deployment(p, "we"));
  CHECK_FALSE(owned_by_deployment(p, "web-7d9f8c"));

  model::Pod canary = p;  // Deployment "web-canary": its ReplicaSet also starts with "web-"
  canary.owner_kinds_names = {"ReplicaSet/web-canary-5f6b7"};
  canary.labels = {{"pod-template-hash", "5f6b7"}};
  CHECK_FALSE(owned_by_deployment(canary, "web"));
  CHECK(owned_by_deployment(canary, "web-canary"));
  canary.labels.clear();  // without the label the suffix must look like a hash: "canary-5f6b7" does not
  CHECK_FALSE(owned_by_deployment(canary, "web"));
  CHECK(owned_by_deployment(canary, "web-canary"));

  model::Pod sts = p;
  sts.owner_kinds_names = {"StatefulSet/web"};
  CHECK_FALSE(owned_by_deployment(sts, "web"));

  CrSpec dep;
  dep.name = "d";
  dep.deployment = true;
  dep.target_namespace = "shop";
  dep.target_name = "web";
  CHECK(targets(dep, p));
  dep.target_namespace = "other";
  CHECK_FALSE(targets(dep, p));

  CrSpec byname;
  byname.name = "n";
  byname.target_namespace = "shop";
  byname.target_name = "web-7d9f8c-x2k4q";
  CHECK(targets(byname, p));
  byname.target_name = "web";
  CHECK_FALSE(targets(byname, p));
  byname.target_name = p.name;
  byname.error = "broken";
  CHECK_FALSE(targets(byname, p));
}
