// RdtController on fake resctrl trees (RootCheck::trust_contents, threads from an injected lister).
#include <catch2/catch.hpp>

#include <filesystem>
#include <algorithm>
#include <map>

#include <prometheus/registry.h>

#include "agent/decide/rdt/rdt_controller.h"
#include "tests/rdt/rdt_fixtures.h"

using namespace slo::agent;
using namespace slo::agent::rdtctl;
using namespace slo::rdt::testing;
using slo::test::TempDir;
namespace fs = std::filesystem;

namespace {

struct NullSink : IntentSink {
  int calls = 0;
  void set(const slo::cg::KnobRef&, const slo::cg::KnobValue&, const std::string&) override { ++calls; }
};

PodState pod(const std::string& name, slo::model::QosClass q, std::vector<std::string> cgroups,
             std::map<std::string, std::string> annotations = {}) {
  PodState ps;
  ps.pod.name = name;
  ps.pod.namespace_ = "ns";
  ps.pod.phase = "Running";
  ps.pod.qos = q;
  ps.pod.annotations = std::move(annotations);
  for (auto& c : cgroups) {
    ContainerState cs;
    cs.spec.name = "c";
    cs.cgroup = c;
    ps.containers.push_back(cs);
  }
  return ps;
}

double metric_value(prometheus::Registry& reg, const std::string& family,
                    const std::map<std::string, std::string>& labels) {
  for (const auto& f : reg.Collect()) {
    if (f.name != family) continue;
    for (const auto& m : f.metric) {
      bool match = true;
      for (const auto& [k, v] : labels) {
        bool found = false;
        for (const auto& l : m.label) found = found || (l.name == k && l.value == v);
        match = match && found;
      }
      if (!match) continue;
      if (f.type == prometheus::MetricType::Counter) return m.counter.value;
      return m.gauge.value;
    }
  }
  return -1;
}

struct Fixture {
  TempDir tmp;
  HostInfo host;
  std::map<std::string, std::vector<int>> threads;
  slo::agent::MetricsRegistry reg;

  explicit Fixture(const std::string& tree) {
    host.resctrl_root = copy_tree(tmp, tree);
    host.proc_root = make_proc(tmp, "GenuineIntel");
  }
  RdtController::Options options() {
    RdtController::Options o;
    o.root_check = slo::rdt::RootCheck::trust_contents;
    o.threads = [this](const std::string& cg) -> slo::cg::Result<std::vector<int>> {
      auto it = threads.find(cg);
      if (it == threads.end()) return slo::cg::Result<std::vector<int>>::fail(slo::cg::Status::from_errno(ENOENT, cg));
      return slo::cg::Result<std::vector<int>>::success(it->second);
    };
    return o;
  }
  Snapshot snapshot(std::vector<PodState> pods, int seconds) {
    Snapshot s;
    s.host = &host;
    s.now = std::chrono::steady_clock::time_point{} + std::chrono::hours(1) + std::chrono::seconds(seconds);
    s.pods = std::move(pods);
    return s;
  }
};

const char* kPolicy = R"({"resctrlQOSStrategy": {
  "lsrClass": {"resctrlQOS": {"enable": true}},
  "lsClass":  {"resctrlQOS": {"enable": true}},
  "beClass":  {"resctrlQOS": {"enable": true, "catRangeEndPercent": 30, "mbaPercent": 40}},
  "monitorIntervalSeconds": 5}})";

}  // namespace

TEST_CASE("probe: supported on a fake tree only when trusted; unsupported without resctrl", "[rdt][controller]") {
  Fixture fx("resctrl.full");
  RdtController trusted(fx.options());
  auto cap = trusted.probe(fx.host);
  CHECK(cap.supported);
  CHECK(cap.reason.find("L3, MB(percent), L3_MON; 8 CLOSIDs") == 0);

  RdtController strict;  // production default: fs magic required
  auto no = strict.probe(fx.host);
  CHECK_FALSE(no.supported);
  CHECK(no.reason.find("is not a resctrl mount") != std::string::npos);

  HostInfo absent;
  absent.resctrl_root = fx.tmp.sub("nothing-here");
  auto none = RdtController(fx.options()).probe(absent);
  CHECK_FALSE(none.supported);
  CHECK(none.reason.find("resctrl not mounted at") == 0);
}

TEST_CASE("configure rejects bad values and keeps the previous policy", "[rdt][controller]") {
  RdtController c;
  CHECK_FALSE(c.configure(nlohmann::json::parse(kPolicy)).has_value());
  auto err = c.configure(nlohmann::json::parse(R"({"resctrlQOSStrategy": {"beClass": {"resctrlQOS": {"mbaPercent": 101}}}})"));
  REQUIRE(err);
  CHECK(err->find("resctrlQOSStrategy.beClass.resctrlQOS.mbaPercent") == 0);
  CHECK(c.status()["policy"]["beClass"]["resctrlQOS"]["mbaPercent"] == 40);
}

TEST_CASE("decide creates class groups, moves threads, cleans stale groups and exports metrics", "[rdt][controller]") {
  Fixture fx("resctrl.full");
  // A stale group from an earlier run.
  fs::create_directory(fx.tmp.sub("resctrl/slo-old"));
  fx.tmp.write("resctrl/slo-old/tasks", "");
  RdtController c(fx.options());
  REQUIRE(c.probe(fx.host).supported);
  ControllerContext ctx{fx.host, fx.reg};
  c.init(ctx);
  REQUIRE_FALSE(c.configure(nlohmann::json::parse(kPolicy)).has_value());

  fx.threads["kp/lsr/c"] = {1011, 1012};
  fx.threads["kp/ls/c"] = {1021};
  fx.threads["kp/be/c"] = {1031, 1032, 1033};
  fx.threads["kp/sys/c"] = {1041};
  std::vector<PodState> pods{pod("lsr", slo::model::QosClass::LSE, {"kp/lsr/c"}),
                             pod("ls", slo::model::QosClass::LS, {"kp/ls/c"}),
                             pod("be", slo::model::QosClass::BE, {"kp/be/c", "kp/gone/c"}),
                             pod("sys", slo::model::QosClass::SYSTEM, {"kp/sys/c"})};
  Blackboard board;
  NullSink sink;
  c.decide(fx.snapshot(pods, 0), board, sink);
  CHECK(sink.calls == 0);  // resctrl is written by the controller itself, never through cgroup intents
  const auto& rep = c.last_report();
  INFO(c.status().dump(2));
  CHECK(rep.errors.empty());
  CHECK(rep.removed == std::vector<std::string>{"slo-old"});
  CHECK(rep.created.size() == 3);
  CHECK(fx.tmp.read("resctrl/slo-LSR/tasks") == "1011\n1012\n");
  CHECK(fx.tmp.read("resctrl/slo-LS/tasks") == "1021\n");
  CHECK(fx.tmp.read("resctrl/slo-BE/tasks") == "1031\n1032\n1033\n");
  CHECK(fx.tmp.read("resctrl/slo-BE/schemata") == "L3:0=3f;1=3f;2=3f;3=3f\nMB:0=40;1=40;2=40;3=40\n");
  CHECK(c.explain("ns/sys")[0]["decision"].get<std::string>().find("root group") == 0);
  CHECK(c.explain("ns/be")[0]["decision"] == "group slo-BE (qos BE)");

  // Monitoring: root + 3 groups sampled; fake groups have no mon_data (gone, skipped), the root's is exported.
  CHECK(metric_value(fx.reg, "sloagent_rdt_llc_occupancy_bytes", {{"group", "root"}, {"domain", "0"}}) == 32440320);
  CHECK(metric_value(fx.reg, "sloagent_rdt_task_writes_total", {{"result", "moved"}}) == 6);
  CHECK(metric_value(fx.reg, "sloagent_rdt_group_tasks", {{"group", "slo-BE"}}) == 3);

  // Tick 2, 1 s later: churn of one thread; monitoring not due (interval 5 s).
  fx.threads["kp/be/c"] = {1031, 1032, 1033, 1034};
  fx.tmp.write("resctrl/mon_data/mon_L3_00/mbm_total_bytes", "264831976\n");
  c.decide(fx.snapshot(pods, 1), board, sink);
  CHECK(c.last_report().tasks.written == 1);
  CHECK(c.last_report().tasks.already == 6);
  CHECK(metric_value(fx.reg, "sloagent_rdt_mbm_total_bytes_total", {{"group", "root"}, {"domain", "0"}}) == 0);

  // Tick 3, 6 s after the first: monitoring due again; the counter grows by the kernel's delta.
  c.decide(fx.snapshot(pods, 6), board, sink);
  CHECK(metric_value(fx.reg, "sloagent_rdt_mbm_total_bytes_total", {{"group", "root"}, {"domain", "0"}}) == 1000);

  // Policy: BE off → its group is removed and its threads return to the root group.
  REQUIRE_FALSE(c.configure(nlohmann::json::parse(R"({"resctrlQOSStrategy": {
      "lsrClass": {"resctrlQOS": {"enable": true}}, "lsClass": {"resctrlQOS": {"enable": true}}}})")).has_value());
  c.decide(fx.snapshot(pods, 7), board, sink);
  CHECK(c.last_report().removed == std::vector<std::string>{"slo-BE"});
  CHECK_FALSE(fs::exists(fx.tmp.sub("resctrl/slo-BE")));
  auto root_tids = slo::rdt::parse_tasks(fx.tmp.read("resctrl/tasks"));
  CHECK(std::count(root_tids.begin(), root_tids.end(), 1034) == 1);
  CHECK(std::count(root_tids.begin(), root_tids.end(), 1041) == 0);  // SYSTEM pod: never moved
}

TEST_CASE("CLOSID exhaustion is reported and the agent keeps going", "[rdt][controller]") {
  Fixture fx("resctrl.l2");  // 4 CLOSIDs
  auto opts = fx.options();
  FaultFs* fault = nullptr;
  opts.make_fs = [&fault](slo::cg::DirFd dir, bool) {
    auto f = std::make_unique<FaultFs>(std::move(dir));
    f->closid_budget = 1;
    fault = f.get();
    return std::unique_ptr<slo::rdt::ResctrlFs>(std::move(f));
  };
  RdtController c(opts);
  REQUIRE(c.probe(fx.host).supported);
  ControllerContext ctx{fx.host, fx.reg};
  c.init(ctx);
  REQUIRE_FALSE(c.configure(nlohmann::json::parse(kPolicy)).has_value());
  fx.threads["a"] = {1};
  fx.threads["b"] = {2};
  std::vector<PodState> pods{pod("ls", slo::model::QosClass::LS, {"a"}), pod("be", slo::model::QosClass::BE, {"b"})};
  Blackboard board;
  NullSink sink;
  c.decide(fx.snapshot(pods, 0), board, sink);
  CHECK(c.last_report().created == std::vector<std::string>{"slo-LSR"});
  CHECK(c.last_report().closid_exhausted == std::vector<std::string>{"slo-LS", "slo-BE"});
  CHECK(metric_value(fx.reg, "sloagent_rdt_errors_total", {{"kind", "closid_exhausted"}}) == 2);
  CHECK(c.status()["last_reconcile"]["errors"][0].get<std::string>().find("no free CLOSID") != std::string::npos);
  REQUIRE(fault);
  fault->closid_budget = -1;
  c.decide(fx.snapshot(pods, 1), board, sink);
  CHECK(c.last_report().errors.empty());
  CHECK(fx.tmp.read("resctrl/slo-BE/tasks") == "2\n");
}
