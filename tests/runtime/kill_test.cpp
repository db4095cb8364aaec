// Kernel test: SIGKILL the agent at random points while it writes knobs on a real cgroup subtree (≥ 50 times), and
// show that after a restart (same policy) every knob is at its policy value or its original, and that after
// `restore` every knob is back at its original. Runs on this machine's cgroup v1 (v2 when unified).
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <random>
#include <thread>

#include "agent/act/executor.h"
#include "agent/act/journal.h"
#include "agent/observe/file_pod_source.h"
#include "agent/runtime/agent.h"
#include "cgroups/cgroup_fs.h"
#include "tests/common/kernel_cgroup.h"
#include "tests/common/support.h"

using namespace slo;
using namespace std::chrono_literals;

namespace {

constexpr int kPods = 6;
constexpr int kKills = 60;

struct Knob {
  std::string sub;   // below the test base
  std::string file;  // v1 file name
  bool pod = false;
  int pod_index = 0;
};

std::string uid_of(int i) { return "aaaa" + std::to_string(1000 + i) + "-bbbb-cccc"; }
std::string cid_of(int i, int k) { return "c0ffee" + std::to_string(1000 + i) + std::to_string(k) + "abcdef"; }
std::string pod_sub(int i) { return "kubepods/burstable/pod" + uid_of(i); }

std::string pod_list() {
  nlohmann::json items = nlohmann::json::array();
  for (int i = 0; i < kPods; ++i) {
    nlohmann::json ctrs = nlohmann::json::array(), st = nlohmann::json::array();
    for (int k = 0; k < 2; ++k) {
      std::string n = "c" + std::to_string(k);
      ctrs.push_back({{"name", n}, {"resources", {{"requests", {{"cpu", "100m"}}}, {"limits", {{"cpu", "1"}}}}}});
      st.push_back({{"name", n}, {"containerID", "containerd://" + cid_of(i, k)}});
    }
    items.push_back({{"metadata", {{"name", "p" + std::to_string(i)}, {"namespace", "kill"}, {"uid", uid_of(i)}}},
                     {"spec", {{"nodeName", "node-1"}, {"containers", ctrs}}},
                     {"status", {{"phase", "Running"}, {"qosClass", "Burstable"}, {"containerStatuses", st}}}});
  }
  return nlohmann::json{{"kind", "PodList"}, {"items", items}}.dump();
}

struct Policy {
  int64_t quota, burst;
  std::string claim;
  bool claims(int pod) const {
    return claim == "all" || (claim == "even" && pod % 2 == 0) || (claim == "odd" && pod % 2 == 1);
  }
};

std::string config_text(const std::string& parent, const Policy& p) {
  return "agent:\n  nodeName: node-1\n  tickMs: 10\n  logLevel: error\n  kubepodsParent: " + parent +
         "\n  controllers: {enabled: [TestQuota]}\nclusterStrategy:\n  testQuota: {quotaUs: " + std::to_string(p.quota) +
         ", burstUs: " + std::to_string(p.burst) + ", claim: " + p.claim + "}\n";
}

// The agent in a child process (so it can be SIGKILLed).
pid_t start_agent(const std::string& cfg, const std::string& pods, const std::string& state, const std::string& root) {
  pid_t pid = ::fork();
  if (pid != 0) return pid;
  int devnull = ::open("/dev/null", O_WRONLY);
  ::dup2(devnull, 2);
  agent::AgentOptions o;
  o.config_path = cfg;
  o.cgroup_root = root;
  o.state_dir = state;
  o.pod_source = std::make_unique<agent::FilePodSource>(pods, 1000ms);
  o.handle_signals = false;
  agent::Agent a(std::move(o));
  if (a.init()) ::_exit(3);
  a.run();
  ::_exit(0);
}

}  // namespace

TEST_CASE("SIGKILL during writes never leaves a knob off its policy or original value") {
  if (auto why = test::KernelCgroup::unavailable_reason()) {
    std::printf("SKIP: %s\n", why->c_str());
    std::fflush(stdout);
    std::_Exit(77);
  }
  test::KernelCgroup kc;
  const bool v2 = kc.v2();
  std::vector<Knob> knobs;
  for (int i = 0; i < kPods; ++i) {
    knobs.push_back({pod_sub(i), "cpu.cfs_quota_us", true, i});
    for (int k = 0; k < 2; ++k) {
      std::string s = pod_sub(i) + "/" + cid_of(i, k);
      kc.mkdir(s);
      knobs.push_back({s, "cpu.cfs_quota_us", false, i});
      knobs.push_back({s, "cpu.cfs_burst_us", false, i});
    }
  }
  // Originals as kubelet would leave them: pods unlimited, containers with a mix of limits.
  for (auto& k : knobs)
    if (!k.pod && k.file == "cpu.cfs_quota_us" && k.pod_index % 3 == 0)
      REQUIRE(kc.write_file("cpu", k.sub, v2 ? "cpu.max" : k.file, "150000") == 0);
  auto read = [&](const Knob& k) -> std::string {
    if (!v2) return kc.read_file("cpu", k.sub, k.file);
    std::string f = k.file == "cpu.cfs_quota_us" ? "cpu.max" : "cpu.max.burst";
    std::string v = kc.read_file("cpu", k.sub, f);
    if (f == "cpu.max") v = v.substr(0, v.find(' '));
    if (v == "max") v = "-1";
    return v;
  };
  auto trim = [](std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
  };
  std::map<std::string, std::string> original;
  for (const auto& k : knobs) original[k.sub + "/" + k.file] = trim(read(k));
  auto burst_supported = !trim(read(knobs[1])).empty();
  INFO("kernel burst file present: " << burst_supported);

  test::TempDir tmp;
  std::ofstream(tmp.sub("pods.json")) << pod_list();
  const std::string cfg = tmp.sub("config.yaml"), state = tmp.sub("state");

  auto expected = [&](const Knob& k, const Policy& p) -> std::string {
    if (!p.claims(k.pod_index)) return original[k.sub + "/" + k.file];
    if (k.pod) return std::to_string(p.quota * 2);
    if (k.file == "cpu.cfs_quota_us") return std::to_string(p.quota);
    if (p.burst <= 0) return original[k.sub + "/" + k.file];
    return std::to_string(std::min(p.burst, p.quota));
  };
  auto mismatches = [&](const std::function<std::string(const Knob&)>& want) {
    std::vector<std::string> bad;
    for (const auto& k : knobs) {
      if (k.file == "cpu.cfs_burst_us" && !burst_supported) continue;
      auto got = trim(read(k));
      auto w = want(k);
      if (got != w) bad.push_back(k.sub + "/" + k.file + "=" + got + " want " + w);
    }
    return bad;
  };
  auto restore = [&] {
    auto fs = cg::CgroupFs::open(kc.root());
    REQUIRE(fs.ok());
    agent::Journal j(state);
    REQUIRE(j.load().ok);
    auto r = agent::restore_journal(fs.value, j);
    INFO(r.dump());
    CHECK(r["failed"].empty());
    CHECK(j.empty());
  };

  std::mt19937 rng(static_cast<unsigned>(::getpid()) ^ static_cast<unsigned>(::time(nullptr)));
  const char* claims[] = {"all", "even", "odd"};
  int kills = 0, restarts = 0, restores = 0;
  for (int it = 0; it < kKills; ++it) {
    Policy p{20000 + 10000 * static_cast<int64_t>(rng() % 8), static_cast<int64_t>(rng() % 3) * 15000,
             claims[rng() % 3]};
    std::ofstream(cfg, std::ios::trunc) << config_text(kc.base(), p);
    pid_t pid = start_agent(cfg, tmp.sub("pods.json"), state, kc.root());
    std::this_thread::sleep_for(std::chrono::microseconds(rng() % 40000));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (WIFSIGNALED(status)) ++kills;

    if (rng() % 2) {
      // Restart with the same policy and wait for it to converge; then kill it again (steady state).
      ++restarts;
      pid = start_agent(cfg, tmp.sub("pods.json"), state, kc.root());
      std::vector<std::string> bad;
      for (int w = 0; w < 300; ++w) {
        bad = mismatches([&](const Knob& k) { return expected(k, p); });
        if (bad.empty()) break;
        std::this_thread::sleep_for(10ms);
      }
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      INFO("iteration " << it << " after restart, policy quota " << p.quota << " burst " << p.burst << " claim "
                        << p.claim);
      REQUIRE(bad.empty());
    } else {
      ++restores;
      restore();
      INFO("iteration " << it << " after restore");
      auto bad = mismatches([&](const Knob& k) { return original[k.sub + "/" + k.file]; });
      REQUIRE(bad.empty());
    }
  }
  restore();
  CHECK(mismatches([&](const Knob& k) { return original[k.sub + "/" + k.file]; }).empty());
  std::printf("kill test: %d SIGKILLs during writes, %d restarts verified, %d restores verified\n", kills, restarts,
              restores);
  CHECK(kills >= 50);
}
