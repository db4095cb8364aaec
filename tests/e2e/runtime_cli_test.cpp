// The real sloagent binary: check-config exit codes and messages, restore from a journal (and refusal while the
// state dir is held), run on a synthetic node with SIGTERM + --restore-on-exit.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "agent/act/journal.h"
#include "tests/common/support.h"
#include "tests/runtime/fake_node.h"

using namespace slo;
using namespace std::chrono_literals;

namespace {

struct Proc {
  pid_t pid = -1;
  std::string out_path, err_path;
};

Proc spawn(const std::vector<std::string>& args, const test::TempDir& tmp, const std::string& tag) {
  Proc p;
  p.out_path = tmp.sub(tag + ".out");
  p.err_path = tmp.sub(tag + ".err");
  p.pid = ::fork();
  if (p.pid == 0) {
    int o = ::open(p.out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int e = ::open(p.err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::dup2(o, 1);
    ::dup2(e, 2);
    std::vector<char*> argv;
    std::string bin = test::build_path("agent/sloagent");
    argv.push_back(bin.data());
    std::vector<std::string> copy = args;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(bin.c_str(), argv.data());
    ::_exit(127);
  }
  return p;
}

int wait_exit(const Proc& p) {
  int st = 0;
  ::waitpid(p.pid, &st, 0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("check-config: exit 0 with the effective config, 1 with the field named") {
  test::TempDir tmp;
  tmp.write("good.yaml", "agent: {nodeName: n1, nodeLabels: {pool: web}}\n"
                         "clusterStrategy: {cpuBurstStrategy: {cpuBurstPercent: 300}}\n"
                         "nodeStrategies: [{nodeSelector: {matchLabels: {pool: web}}, cpuBurstStrategy: {cpuBurstPercent: 150}}]\n");
  auto p = spawn({"check-config", tmp.sub("good.yaml")}, tmp, "good");
  CHECK(wait_exit(p) == 0);
  auto out = nlohmann::json::parse(slurp(p.out_path));
  CHECK(out["policy"]["cpuBurstStrategy"]["cpuBurstPercent"] == 150);
  CHECK(out["agent"]["nodeName"] == "n1");

  tmp.write("bad.yaml", "agent: {tickMs: 1}\n");
  p = spawn({"check-config", tmp.sub("bad.yaml")}, tmp, "bad");
  CHECK(wait_exit(p) == 1);
  CHECK(slurp(p.err_path).find("agent.tickMs") != std::string::npos);

  p = spawn({"check-config"}, tmp, "usage");
  CHECK(wait_exit(p) == 2);
}

TEST_CASE("restore puts journaled knobs back and empties the journal") {
  test::TempDir tmp;
  test::FakeNode node(tmp.sub("cg"), false);
  node.populate(1);
  std::string ctr = node.pod_cgroup(node.pods()[0]) + "/" + node.pods()[0].containers[0].id;
  node.write(ctr, "cpu.cfs_quota_us", "50000");
  {
    agent::Journal j(tmp.sub("state"));
    REQUIRE(j.add({{{ctr, cg::Knob::cpu_quota, ""}, int64_t{-1}, "cpu/" + ctr + "/cpu.cfs_quota_us"}}).ok());
    std::string err;
    REQUIRE(j.lock(err));
    auto busy = spawn({"restore", "--state-dir", tmp.sub("state"), "--cgroup-root", node.root()}, tmp, "busy");
    CHECK(wait_exit(busy) == 1);
    CHECK(slurp(busy.err_path).find("in use") != std::string::npos);
    CHECK(node.read(ctr, "cpu.cfs_quota_us") == "50000");
  }
  auto p = spawn({"restore", "--state-dir", tmp.sub("state"), "--cgroup-root", node.root(), "--resctrl-root",
                  tmp.sub("no-resctrl")},
                 tmp, "restore");
  int rc = wait_exit(p);
  INFO(slurp(p.out_path) << slurp(p.err_path));
  CHECK(node.read(ctr, "cpu.cfs_quota_us") == "-1");
  auto out = nlohmann::json::parse(slurp(p.out_path));
  CHECK(out["cgroups"]["restored"] == 1);
  agent::Journal j(tmp.sub("state"));
  REQUIRE(j.load().ok);
  CHECK(j.empty());
  // A host without resctrl (the given root does not exist) is normal: everything is back, so exit 0.
  CHECK(rc == 0);
  if (out.contains("resctrl")) CHECK(out["resctrl"].contains("skipped"));
}

TEST_CASE("restore: a resctrl root that is absent or not a resctrl mount is skipped, not a failure") {
  test::TempDir tmp;
  std::filesystem::create_directories(tmp.sub("plain-dir"));
  for (std::string root : {tmp.sub("missing"), tmp.sub("plain-dir")}) {
    INFO("resctrl root " << root);
    auto p = spawn({"restore", "--state-dir", tmp.sub("state"), "--resctrl-root", root}, tmp, "restore");
    int rc = wait_exit(p);
    INFO(slurp(p.out_path) << slurp(p.err_path));
    CHECK(rc == 0);
    auto out = nlohmann::json::parse(slurp(p.out_path));
    CHECK(out["entries"] == 0);
    if (out.contains("resctrl")) CHECK(out["resctrl"].contains("skipped"));
  }
}

TEST_CASE("run: starts on a synthetic node, stops on SIGTERM, restores on exit") {
  test::TempDir tmp;
  test::FakeNode node(tmp.sub("cg"), false);
  node.populate(4);
  node.write_pod_list(tmp.sub("pods.json"));
  tmp.write("config.yaml", "agent: {nodeName: node-1, tickMs: 50}\n"
                           "clusterStrategy: {cpuBurstStrategy: {policy: auto, cpuBurstPercent: 100}}\n");
  auto p = spawn({"run", "--config", tmp.sub("config.yaml"), "--pods-file", tmp.sub("pods.json"), "--cgroup-root",
                  node.root(), "--state-dir", tmp.sub("state"), "--restore-on-exit", "--metrics-addr", "127.0.0.1:0"},
                 tmp, "run");
  bool up = false;
  for (int i = 0; i < 300 && !up; ++i) {
    std::this_thread::sleep_for(20ms);
    up = slurp(p.err_path).find("controllers on:") != std::string::npos;
  }
  CHECK(up);
  std::this_thread::sleep_for(500ms);
  ::kill(p.pid, SIGTERM);
  int rc = wait_exit(p);
  auto err = slurp(p.err_path);
  INFO(err);
  CHECK(rc == 0);
  CHECK(err.find("SIGTERM") != std::string::npos);
  agent::Journal j(tmp.sub("state"));
  REQUIRE(j.load().ok);
  CHECK(j.empty());  // whatever the controllers changed is back
}
