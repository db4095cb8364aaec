// The real daemon in standalone mode on a synthetic cgroup v1 tree built from the real kubelet PodList fixture:
// sloctl calls every RPC and the answers match the files (pods file, cgroup tree, knob files); restore puts the
// files back; the metrics endpoint is scraped (promtool-clean, every family documented, pod series present); a
// non-root peer is refused; SIGTERM removes the socket.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "slo_config.h"
#include "tests/api/http_client.h"
#include "tests/api/process.h"
#include "tests/cgroups/fake_tree.h"
#include "tests/common/support.h"

using nlohmann::json;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

struct Sloctl {
  std::string socket;
  slo::test::ProcessResult run(std::vector<std::string> args, slo::test::RunOptions o = {}) const {
    std::vector<std::string> argv = {slo::test::build_path("cli/sloctl"), "--socket", socket};
    argv.insert(argv.end(), args.begin(), args.end());
    return slo::test::run_process(argv, o);
  }
  json get(const std::string& cmd, const std::string& arg = "") const {
    std::vector<std::string> args = {cmd};
    if (!arg.empty()) args.push_back(arg);
    args.insert(args.end(), {"-o", "json"});
    auto r = run(args);
    INFO("sloctl " << cmd << " " << arg << ": exit " << r.exit_code << " stderr " << r.err);
    REQUIRE(r.exit_code == 0);
    return json::parse(r.out);
  }
};

// v1 file of a knob (the agent's knob names, v1 spelling) and its controller directory.
std::optional<std::pair<std::string, std::string>> knob_file(const std::string& knob) {
  static const std::map<std::string, std::pair<std::string, std::string>> files = {
      {"cpu_quota", {"cpu", "cpu.cfs_quota_us"}},     {"cpu_period", {"cpu", "cpu.cfs_period_us"}},
      {"cpu_burst", {"cpu", "cpu.cfs_burst_us"}},     {"cpu_shares", {"cpu", "cpu.shares"}},
      {"cpuset_cpus", {"cpuset", "cpuset.cpus"}},     {"cpuset_mems", {"cpuset", "cpuset.mems"}},
      {"memory_limit", {"memory", "memory.limit_in_bytes"}},
  };
  auto it = files.find(knob);
  if (it == files.end()) return std::nullopt;
  return it->second;
}

std::set<std::string> documented_metrics() {
  std::set<std::string> out;
  std::istringstream in(slurp(std::string(std::getenv("SLO_SOURCE_ROOT")) + "/docs/metrics.md"));
  static const std::regex row(R"(^\|\s*`(sloagent_[a-z0-9_]+)`)");
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_search(line, m, row)) out.insert(m[1]);
  }
  return out;
}

}  // namespace

TEST_CASE("the real daemon answers sloctl with what the files say", "[daemon]") {
  std::string agent_bin = slo::test::build_path("agent/sloagent");
  REQUIRE(::access(agent_bin.c_str(), X_OK) == 0);
  slo::test::TempDir tmp;

  // The tree: every pod and container of the fixture PodList under kubepods/burstable (cgroupfs driver).
  std::string pods_file = slo::test::fixture("kubelet/gke-k8s1.10-containerd-kubelet-pods.json");
  json podlist = json::parse(slurp(pods_file));
  slo::test::FakeTree tree(tmp, slo::test::FakeKind::v1_separate, "cg");
  std::map<std::string, json> expected;  // ns/name -> pod
  std::string node;
  for (const auto& p : podlist["items"]) {
    node = p["spec"]["nodeName"];
    std::string uid = p["metadata"]["uid"];
    for (const auto& cs : p["status"]["containerStatuses"]) {
      std::string id = cs["containerID"].get<std::string>().substr(std::string("containerd://").size());
      tree.add_pod(slo::cg::Driver::cgroupfs, slo::cg::QosTier::burstable, uid, slo::cg::Runtime::containerd, id);
    }
    expected[p["metadata"]["namespace"].get<std::string>() + "/" + p["metadata"]["name"].get<std::string>()] = p;
  }
  REQUIRE(expected.size() == 7);

  std::string sock = tmp.sub("run/sloagent.sock");
  uint16_t metrics_port = slo::test::free_port();
  slo::test::Background agent(
      {agent_bin, "run", "--node-name", node, "--pods-file", pods_file, "--cgroup-root", tree.root(),
       "--sysfs-root", slo::test::fixture("sysfs/nri-desktop-20cpu/sys"), "--proc-root", "/proc",
       "--resctrl-root", tmp.sub("no-resctrl"), "--state-dir", tmp.sub("state"), "--socket", sock,
       "--metrics-addr", "127.0.0.1:" + std::to_string(metrics_port), "--tick-ms", "100"},
      tmp.sub("agent.log"));
  // Catch2 captures INFO text when it runs; the log is only useful at the end, so print it then.
  struct DumpLog {
    std::string path;
    ~DumpLog() { std::fprintf(stderr, "---- sloagent log ----\n%s---- end ----\n", slurp(path).c_str()); }
  } dump{tmp.sub("agent.log")};

  Sloctl ctl{sock};
  json status;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline && agent.running()) {
    auto r = ctl.run({"status", "-o", "json"});
    if (r.exit_code == 0) {
      status = json::parse(r.out);
      if (status["ready"] == true && status["pods"] == expected.size()) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  REQUIRE(agent.running());
  REQUIRE(status.is_object());

  // status: what we started it with.
  CHECK(status["ready"] == true);
  CHECK(status["version"] == SLO_VERSION);
  CHECK(status["node"] == node);
  CHECK(status["mode"] == "v1");
  CHECK(status["driver"] == "cgroupfs");
  CHECK(status["kubepods"] == "kubepods");
  CHECK(status["paused"] == false);
  REQUIRE(status["controllers"].is_array());
  CHECK(!status["controllers"].empty());
  std::map<std::string, bool> enabled;
  for (const auto& c : status["controllers"]) {
    enabled[c["name"]] = c["enabled"];
    if (c["enabled"] == false) CHECK(!c["reason"].get<std::string>().empty());  // off always says why
  }
  for (const auto& [name, on] : enabled)
    if (name.find("Rdt") != std::string::npos) CHECK_FALSE(on);  // --resctrl-root does not exist

  // socket: 0600 in a 0700 directory.
  struct stat st;
  REQUIRE(::stat(sock.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0600);
  REQUIRE(::stat(tmp.sub("run").c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0700);

  // pods: the pods file's pods, in the cgroups of the tree, knob values as in the files.
  json pods = ctl.get("pods");
  REQUIRE(pods.is_array());
  CHECK(pods.size() == expected.size());
  std::vector<std::tuple<std::string, std::string, std::string>> changed;  // cgroup, knob, original
  for (const auto& p : pods) {
    std::string key = p["namespace"].get<std::string>() + "/" + p["name"].get<std::string>();
    INFO("pod " << key);
    REQUIRE(expected.count(key) == 1);
    const json& want = expected[key];
    CHECK(p["uid"] == want["metadata"]["uid"]);
    CHECK(p["kube_qos"] == "Burstable");
    CHECK(p["cgroup"] == "kubepods/burstable/pod" + want["metadata"]["uid"].get<std::string>());
    CHECK(::access((tree.controller_dir("cpu") + "/" + p["cgroup"].get<std::string>()).c_str(), F_OK) == 0);
    REQUIRE(p["containers"].size() == want["status"]["containerStatuses"].size());
    std::vector<std::pair<std::string, json>> knob_sets = {{p["cgroup"], p["knobs"]}};
    for (const auto& c : p["containers"]) {
      bool found = false;
      for (const auto& cs : want["status"]["containerStatuses"])
        if (cs["name"] == c["name"]) {
          found = true;
          std::string id = cs["containerID"].get<std::string>().substr(13);
          CHECK(c["cgroup"] == p["cgroup"].get<std::string>() + "/" + id);
        }
      CHECK(found);
      knob_sets.emplace_back(c["cgroup"], c["knobs"]);
    }
    for (const auto& [cgroup, knobs] : knob_sets)
      for (const auto& [name, k] : knobs.items()) {
        auto file = knob_file(name);
        if (!file) continue;
        INFO("knob " << cgroup << ":" << name);
        CHECK(trim(tree.read(file->first, cgroup, file->second)) == k["current"].get<std::string>());
        if (!k["original"].get<std::string>().empty() && k["original"] != k["current"])
          changed.emplace_back(cgroup, name, k["original"]);
      }
  }

  // explain: every known pod answers (decisions only about its own cgroups); an unknown one is an error.
  for (const auto& [key, want] : expected) {
    json decisions = ctl.get("explain", key);
    REQUIRE(decisions.is_array());
    std::string pod_cgroup = "kubepods/burstable/pod" + want["metadata"]["uid"].get<std::string>();
    for (const auto& d : decisions) CHECK(d["cgroup"].get<std::string>().rfind(pod_cgroup, 0) == 0);
  }
  auto unknown = ctl.run({"explain", "default/not-there"});
  CHECK(unknown.exit_code == 1);
  CHECK(unknown.err.find("not known to the agent") != std::string::npos);

  // config, pools, rdt, reclaimed: valid documents, empty exactly when their controller is off.
  json config = ctl.get("config");
  CHECK(config["effective"].is_object());
  CHECK(config["last_error"] == "");
  for (const auto& [cmd, ctl_part] : std::vector<std::pair<std::string, std::string>>{
           {"pools", "cpuset"}, {"rdt", "rdt"}, {"reclaimed", "reclaim"}}) {
    json doc = ctl.get(cmd);
    CHECK(doc.is_object());
    bool on = false;
    for (const auto& [name, e] : enabled) {
      std::string lower = name;
      for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      if (lower.find(ctl_part) != std::string::npos) on = on || e;
    }
    if (!on) CHECK(doc.empty());
  }

  // The tables work on the real answers too.
  for (const char* cmd : {"status", "pods", "config", "pools", "rdt", "reclaimed"}) {
    auto r = ctl.run({cmd, "-o", "wide"});
    INFO(cmd << ": " << r.err);
    CHECK(r.exit_code == 0);
    CHECK(!r.out.empty());
  }

  // metrics: /readyz, a promtool-clean scrape, every family documented, one pod series per pod.
  CHECK(slo::test::http_get(metrics_port, "/readyz").status == 200);
  auto scrape = slo::test::http_get(metrics_port, "/metrics");
  REQUIRE(scrape.status == 200);
  tmp.write("scrape.txt", scrape.body);
  auto lint = slo::test::run_process({"/bin/sh", "-c", "promtool check metrics < " + tmp.sub("scrape.txt")});
  INFO("promtool: " << lint.out << lint.err);
  CHECK(lint.exit_code == 0);
  auto docs = documented_metrics();
  std::istringstream lines(scrape.body);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("# TYPE ", 0) != 0) continue;
    std::string fam = line.substr(7, line.find(' ', 7) - 7);
    INFO("metric family " << fam << " is missing from docs/metrics.md");
    CHECK(docs.count(fam) == 1);
  }
  for (const auto& [key, want] : expected) {
    std::string series = "sloagent_pod_memory_working_set_bytes{namespace=\"" +
                         want["metadata"]["namespace"].get<std::string>() + "\",pod=\"" +
                         want["metadata"]["name"].get<std::string>() + "\",qos=\"";
    INFO(series);
    CHECK(scrape.body.find(series) != std::string::npos);
  }

  // A non-root peer is refused (the socket's modes; the SO_PEERCRED path is covered by the unit test).
  if (slo::test::is_root()) {
    REQUIRE(::chmod(tmp.path().c_str(), 0711) == 0);
    slo::test::RunOptions nobody;
    nobody.uid = 65534;
    std::string bin = tmp.sub("sloctl");
    REQUIRE(slo::test::run_process({"/bin/cp", slo::test::build_path("cli/sloctl"), bin}).exit_code == 0);
    auto r = slo::test::run_process({bin, "--socket", sock, "restore"}, nobody);
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("run as root") != std::string::npos);
    CHECK(ctl.get("status")["paused"] == false);  // the refused restore did nothing
  }

  // restore: every changed knob goes back to its original in the files; actuation pauses.
  json restored = ctl.get("restore");
  INFO("restore: " << restored.dump());
  CHECK(restored.is_object());
  CHECK(!restored.contains("error"));
  for (const auto& [cgroup, name, original] : changed) {
    auto file = knob_file(name);
    INFO("restored " << cgroup << ":" << name);
    CHECK(trim(tree.read(file->first, cgroup, file->second)) == original);
  }
  CHECK(ctl.get("status")["paused"] == true);

  // SIGTERM: clean exit, socket gone.
  ::kill(agent.pid(), SIGTERM);
  for (int i = 0; i < 100 && agent.running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK_FALSE(agent.running());
  CHECK(::access(sock.c_str(), F_OK) != 0);
  auto down = ctl.run({"status"});
  CHECK(down.exit_code == 1);
  CHECK(down.err.find("is sloagent running?") != std::string::npos);
}
