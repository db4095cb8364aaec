// `sloagent inspect topology` and `sloagent inspect cgroups`, run as the real binary on fixture trees.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/common/support.h"
#include "tests/model/run_binary.h"

using nlohmann::json;
using slo::test::build_path;
using slo::test::run_binary;
using slo::test::TempDir;

namespace {

const std::string kUidA = "0a1b2c3d-1111-2222-3333-444455556666";
const std::string kUidB = "9f8e7d6c-aaaa-bbbb-cccc-ddddeeeeffff";
const std::string kUidGone = "12345678-dead-beef-0000-000000000000";
const std::string kCid1 = "1111111111111111111111111111111111111111111111111111111111111111";
const std::string kCid2 = "2222222222222222222222222222222222222222222222222222222222222222";
const std::string kCidMissing = "3333333333333333333333333333333333333333333333333333333333333333";

json pod_list(const std::string& runtime) {
  auto container = [](const std::string& name, json res) { return json{{"name", name}, {"resources", res}}; };
  json a = {{"metadata", {{"name", "web"}, {"namespace", "prod"}, {"uid", kUidA}}},
            {"spec", {{"containers", json::array({container("app", {{"requests", {{"cpu", "500m"}}}}),
                                                  container("side", json::object())})}}},
            {"status",
             {{"phase", "Running"},
              {"qosClass", "Burstable"},
              {"containerStatuses", json::array({{{"name", "app"}, {"containerID", runtime + "://" + kCid1}},
                                                 {{"name", "side"}, {"containerID", runtime + "://" + kCidMissing}}})}}}};
  json b = {{"metadata", {{"name", "batch"}, {"namespace", "jobs"}, {"uid", kUidB}, {"labels", {{"koordinator.sh/qosClass", "BE"}}}}},
            {"spec", {{"containers", json::array({container("worker", json::object())})}}},
            {"status",
             {{"phase", "Running"},
              {"containerStatuses", json::array({{{"name", "worker"}, {"containerID", runtime + "://" + kCid2}}})}}}};
  json gone = {{"metadata", {{"name", "gone"}, {"namespace", "prod"}, {"uid", kUidGone}}},
               {"spec", {{"containers", json::array({container("x", json::object())})}}},
               {"status", {{"phase", "Running"}, {"qosClass", "Burstable"}}}};
  json bad = {{"metadata", {{"name", "evil"}, {"namespace", "prod"}, {"uid", "../../etc"}}}, {"spec", {{"containers", json::array()}}}};
  return json{{"kind", "PodList"}, {"items", json::array({a, b, gone, bad})}};
}

// cgroup v1 with separate controllers and the cgroupfs driver (as on this machine).
void build_v1(const TempDir& t) {
  const std::string a = "kubepods/burstable/pod" + kUidA;
  const std::string b = "kubepods/besteffort/pod" + kUidB;
  for (const std::string ctrl : {"cpu", "cpuacct", "cpuset", "memory"}) {
    for (const std::string& cg : {std::string("kubepods"), std::string("kubepods/burstable"),
                                  std::string("kubepods/besteffort"), a, a + "/" + kCid1, b, b + "/" + kCid2}) {
      const std::string d = "cg/" + ctrl + "/" + cg + "/";
      if (ctrl == "cpu") {
        t.write(d + "cpu.cfs_quota_us", "-1\n");
        t.write(d + "cpu.cfs_period_us", "100000\n");
        t.write(d + "cpu.shares", "1024\n");
        t.write(d + "cpu.stat", "nr_periods 0\nnr_throttled 0\nthrottled_time 0\n");
      } else if (ctrl == "cpuset") {
        t.write(d + "cpuset.cpus", "0-3\n");
        t.write(d + "cpuset.mems", "0\n");
      } else if (ctrl == "memory") {
        t.write(d + "memory.limit_in_bytes", "9223372036854771712\n");
      } else {
        t.write(d + "cpuacct.usage", "0\n");
      }
    }
  }
  const std::string c1 = "cg/cpu/" + a + "/" + kCid1 + "/";
  t.write(c1 + "cpu.cfs_quota_us", "50000\n");
  t.write(c1 + "cpu.shares", "512\n");
  t.write(c1 + "cpu.stat", "nr_periods 769021\nnr_throttled 1046\nthrottled_time 352597023453\n");
  t.write("cg/cpuset/" + a + "/" + kCid1 + "/cpuset.cpus", "2-3\n");
  t.write("cg/memory/" + a + "/" + kCid1 + "/memory.limit_in_bytes", "268435456\n");
}

// cgroup v2 with the systemd driver.
void build_v2(const TempDir& t) {
  t.write("cg/cgroup.controllers", "cpuset cpu io memory pids\n");
  t.write("cg/cgroup.subtree_control", "cpuset cpu io memory pids\n");
  auto esc = [](std::string u) {
    for (auto& ch : u)
      if (ch == '-') ch = '_';
    return u;
  };
  const std::string a = "kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + esc(kUidA) + ".slice";
  const std::string b = "kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + esc(kUidB) + ".slice";
  for (const std::string& cg : {std::string("kubepods.slice"), std::string("kubepods.slice/kubepods-burstable.slice"),
                                std::string("kubepods.slice/kubepods-besteffort.slice"), a,
                                a + "/cri-containerd-" + kCid1 + ".scope", b, b + "/cri-containerd-" + kCid2 + ".scope"}) {
    const std::string d = "cg/" + cg + "/";
    t.write(d + "cgroup.controllers", "cpuset cpu io memory pids\n");
    t.write(d + "cpu.max", "max 100000\n");
    t.write(d + "cpu.weight", "100\n");
    t.write(d + "cpuset.cpus", "\n");
    t.write(d + "cpuset.mems", "\n");
    t.write(d + "memory.max", "max\n");
    t.write(d + "cpu.stat", "usage_usec 10\nuser_usec 5\nsystem_usec 5\nnr_periods 0\nnr_throttled 0\nthrottled_usec 0\n");
  }
  const std::string c1 = "cg/" + a + "/cri-containerd-" + kCid1 + ".scope/";
  t.write(c1 + "cpu.max", "50000 100000\n");
  t.write(c1 + "cpu.weight", "39\n");
  t.write(c1 + "cpuset.cpus", "2-3\n");
  t.write(c1 + "memory.max", "268435456\n");
  t.write(c1 + "cpu.stat", "usage_usec 10\nuser_usec 5\nsystem_usec 5\nnr_periods 200\nnr_throttled 20\nthrottled_usec 1500000\n");
}

const json& pod_named(const json& out, const std::string& name) {
  for (const auto& p : out["pods"])
    if (p["name"] == name) return p;
  FAIL("pod " << name << " missing from output");
  throw 0;
}

}  // namespace

TEST_CASE("inspect topology prints the fixture's topology", "[command]") {
  auto r = run_binary(build_path("agent/sloagent"),
                      {"inspect", "topology", "--sysfs-root", slo::test::fixture("sysfs/nri-4socket-144cpu-nosnc/sys")});
  REQUIRE(r.exit_code == 0);
  json j = json::parse(r.out);
  CHECK(j["topology"]["cpuCount"] == 144);
  CHECK(j["topology"]["coreCount"] == 72);
  CHECK(j["topology"]["threadsPerCore"] == 2);
  CHECK(j["topology"]["numaNodes"].size() == 4);
  CHECK(j["topology"]["l3Domains"].size() == 4);
  CHECK(j["topology"]["packages"].size() == 4);
  CHECK(j["topology"]["numaNodes"][1]["cpus"] == "18-35,90-107");
}

TEST_CASE("inspect topology exit codes", "[command]") {
  auto bad = run_binary(build_path("agent/sloagent"), {"inspect", "topology", "--bogus"});
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("unknown option --bogus") != std::string::npos);
  CHECK(std::count(bad.err.begin(), bad.err.end(), '\n') == 1);
  auto missing = run_binary(build_path("agent/sloagent"), {"inspect", "topology", "--sysfs-root", "/nonexistent/sysfs"});
  CHECK(missing.exit_code == 1);
  CHECK(std::count(missing.err.begin(), missing.err.end(), '\n') == 1);
  CHECK(missing.out.empty());
}

TEST_CASE("inspect cgroups on a v1 cgroupfs tree", "[command]") {
  TempDir t;
  build_v1(t);
  t.write("pods.json", pod_list("containerd").dump());
  auto r = run_binary(build_path("agent/sloagent"),
                      {"inspect", "cgroups", "--cgroup-root", t.sub("cg"), "--pods-file", t.sub("pods.json")});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  json j = json::parse(r.out);
  CHECK(j["mode"] == "v1");
  CHECK(j["driver"] == "cgroupfs");
  CHECK(j["pods"].size() == 3);
  REQUIRE(j["errors"].size() == 1);
  CHECK(j["errors"][0].get<std::string>().find("prod/evil") == 0);

  const json& web = pod_named(j, "web");
  CHECK(web["found"] == true);
  CHECK(web["tier"] == "burstable");
  CHECK(web["cgroup"] == "kubepods/burstable/pod" + kUidA);
  CHECK(web["dirs"]["cpu"] == t.sub("cg") + "/cpu/kubepods/burstable/pod" + kUidA);
  CHECK(web["dirs"]["cpuset"] == t.sub("cg") + "/cpuset/kubepods/burstable/pod" + kUidA);
  CHECK(web["dirs"]["memory"] == t.sub("cg") + "/memory/kubepods/burstable/pod" + kUidA);
  CHECK(web["knobs"]["cpu_quota"] == -1);
  const json& app = web["containers"][0];
  CHECK(app["found"] == true);
  CHECK(app["containerID"] == kCid1);
  CHECK(app["runtime"] == "containerd");
  CHECK(app["cgroup"] == "kubepods/burstable/pod" + kUidA + "/" + kCid1);
  CHECK(app["knobs"]["cpu_quota"] == 50000);
  CHECK(app["knobs"]["cpu_period"] == 100000);
  CHECK(app["knobs"]["cpu_shares"] == 512);
  CHECK(app["knobs"]["cpuset_cpus"] == "2-3");
  CHECK(app["knobs"]["cpuset_mems"] == "0");
  CHECK(app["knobs"]["memory_limit"] == 268435456);
  CHECK(app["knobs"]["cpu_burst"].is_null());  // no cpu.cfs_burst_us in this tree
  CHECK(app["cpuStat"]["nrPeriods"] == 769021);
  CHECK(app["cpuStat"]["nrThrottled"] == 1046);
  CHECK(app["cpuStat"]["throttledSeconds"].get<double>() == Approx(352.597023453));
  const json& side = web["containers"][1];
  CHECK(side["found"] == false);  // its directory was never created: reported, not fatal
  CHECK(side["containerID"] == kCidMissing);

  const json& batch = pod_named(j, "batch");
  CHECK(batch["qosClass"] == "BE");
  CHECK(batch["kubeQos"] == "BestEffort");
  CHECK(batch["cgroup"] == "kubepods/besteffort/pod" + kUidB);
  CHECK(batch["found"] == true);
  CHECK(batch["containers"][0]["found"] == true);

  const json& gone = pod_named(j, "gone");
  CHECK(gone["found"] == false);
  CHECK(gone["containers"][0]["found"] == false);
}

TEST_CASE("inspect cgroups on a v2 systemd tree", "[command]") {
  TempDir t;
  build_v2(t);
  t.write("pods.json", pod_list("containerd").dump());
  auto r = run_binary(build_path("agent/sloagent"),
                      {"inspect", "cgroups", "--cgroup-root", t.sub("cg"), "--pods-file", t.sub("pods.json")});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  json j = json::parse(r.out);
  CHECK(j["mode"] == "v2");
  CHECK(j["driver"] == "systemd");
  CHECK(j["kubepods"] == "kubepods.slice");
  const json& web = pod_named(j, "web");
  CHECK(web["found"] == true);
  CHECK(web["cgroup"] == "kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod0a1b2c3d_1111_2222_3333_444455556666.slice");
  CHECK(web["dirs"]["unified"] == t.sub("cg") + "/" + web["cgroup"].get<std::string>());
  CHECK(web["knobs"]["cpu_quota"] == -1);
  const json& app = web["containers"][0];
  CHECK(app["found"] == true);
  CHECK(app["cgroup"].get<std::string>().find("/cri-containerd-" + kCid1 + ".scope") != std::string::npos);
  CHECK(app["knobs"]["cpu_quota"] == 50000);
  CHECK(app["knobs"]["cpu_period"] == 100000);
  CHECK(app["knobs"]["cpu_weight"] == 39);
  CHECK(app["knobs"]["cpuset_cpus"] == "2-3");
  CHECK(app["knobs"]["memory_limit"] == 268435456);
  CHECK(app["cpuStat"]["nrThrottled"] == 20);
  CHECK(app["cpuStat"]["throttledSeconds"].get<double>() == Approx(1.5));
  CHECK(web["containers"][1]["found"] == false);
  CHECK(pod_named(j, "gone")["found"] == false);
}

TEST_CASE("inspect cgroups exit codes", "[command]") {
  TempDir t;
  build_v1(t);
  t.write("pods.json", pod_list("containerd").dump());
  t.write("broken.json", "{\"items\": [");
  const std::string bin = build_path("agent/sloagent");
  auto no_pods = run_binary(bin, {"inspect", "cgroups", "--cgroup-root", t.sub("cg")});
  CHECK(no_pods.exit_code == 2);
  CHECK(no_pods.err.find("--pods-file") != std::string::npos);
  auto stray = run_binary(bin, {"inspect", "cgroups", "extra", "--pods-file", t.sub("pods.json")});
  CHECK(stray.exit_code == 2);
  auto no_file = run_binary(bin, {"inspect", "cgroups", "--cgroup-root", t.sub("cg"), "--pods-file", t.sub("nope.json")});
  CHECK(no_file.exit_code == 1);
  auto broken = run_binary(bin, {"inspect", "cgroups", "--cgroup-root", t.sub("cg"), "--pods-file", t.sub("broken.json")});
  CHECK(broken.exit_code == 1);
  CHECK(std::count(broken.err.begin(), broken.err.end(), '\n') == 1);
  auto no_root = run_binary(bin, {"inspect", "cgroups", "--cgroup-root", t.sub("absent"), "--pods-file", t.sub("pods.json")});
  CHECK(no_root.exit_code == 1);
  CHECK(no_root.out.empty());
  // An empty hierarchy (no kubepods yet): every pod is reported missing, the command succeeds.
  t.mkdirs("empty/cpu");
  t.mkdirs("empty/memory");
  auto empty = run_binary(bin, {"inspect", "cgroups", "--cgroup-root", t.sub("empty"), "--pods-file", t.sub("pods.json")});
  INFO(empty.err);
  REQUIRE(empty.exit_code == 0);
  json j = json::parse(empty.out);
  CHECK(j["driver"].is_null());
  for (const auto& p : j["pods"]) CHECK(p["found"] == false);
}

TEST_CASE("inspect topology with a pods file shows the cpuset pools", "[command]") {
  TempDir t;
  auto c = [](const std::string& cpu) {
    return json{{"name", "app"}, {"resources", {{"requests", {{"cpu", cpu}}}, {"limits", {{"cpu", cpu}}}}}};
  };
  auto p = [&](const std::string& name, const std::string& qos, const std::string& cpu) {
    return json{{"metadata", {{"name", name}, {"namespace", "ns"}, {"uid", "uid-" + name}, {"labels", {{"koordinator.sh/qosClass", qos}}}}},
                {"spec", {{"containers", json::array({c(cpu)})}}},
                {"status", {{"phase", "Running"}}}};
  };
  t.write("pods.json", json{{"items", json::array({p("lse", "LSE", "4"), p("ls", "LS", "500m"), p("be", "BE", "1")})}}.dump());
  t.write("policy.json", R"({"cpusetStrategy": {"reservedCpus": "9,19"}})");
  auto r = run_binary(build_path("agent/sloagent"),
                      {"inspect", "topology", "--sysfs-root", slo::test::fixture("sysfs/nri-desktop-20cpu"), "--pods-file",
                       t.sub("pods.json"), "--cpuset-config", t.sub("policy.json")});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  json j = json::parse(r.out);
  CHECK(j["topology"]["cpuCount"] == 20);
  CHECK(j["pools"]["lse"] == "0-1,10-11");
  CHECK(j["pools"]["reserved"] == "9,19");
  CHECK(j["pools"]["share"] == "2-8,12-18");
  CHECK(j["pools"]["pinned"]["ns/lse"]["cpus"] == "0-1,10-11");
  REQUIRE(j["pods"].size() == 3);
  CHECK(j["pods"][1]["pool"] == "share");
  CHECK(j["pods"][2]["pool"] == "be");
  t.write("bad.json", R"({"cpusetStrategy": {"reservedCpus": 5}})");
  auto bad = run_binary(build_path("agent/sloagent"),
                        {"inspect", "topology", "--sysfs-root", slo::test::fixture("sysfs/nri-desktop-20cpu"), "--pods-file",
                         t.sub("pods.json"), "--cpuset-config", t.sub("bad.json")});
  CHECK(bad.exit_code == 1);
  CHECK(bad.err.find("cpusetStrategy.reservedCpus") != std::string::npos);
}
