#include "bench/cpu_burst/cleanup.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <thread>
#include <vector>

namespace slo::bench::cpu_burst {
namespace {

// Lock-free atomics are async-signal-safe to store to.
std::atomic<int> g_signal{0};
std::atomic<int> g_count{0};
static_assert(std::atomic<int>::is_always_lock_free);

void on_signal(int sig) {
  int n = g_count.fetch_add(1) + 1;
  g_signal.store(sig);
  if (n >= 3) {  // the user insists: default action (cleanup already had its chance)
    ::signal(sig, SIG_DFL);
    ::raise(sig);
  }
}

// Every cgroup below base (base included), parents before children, in the first mounted controller.
void collect(const cg::CgroupFs& fs, cg::Controller c, const std::string& cgroup, std::vector<std::string>& out) {
  out.push_back(cgroup);
  auto kids = fs.children(cgroup, c);
  if (!kids.ok()) return;
  for (const auto& k : kids.value) collect(fs, c, cgroup + "/" + k, out);
}

}  // namespace

void install_interrupt_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
}

void reset_interrupt_handlers_in_child() {
  ::signal(SIGINT, SIG_DFL);
  ::signal(SIGTERM, SIG_DFL);
}

bool interrupted() { return g_signal.load() != 0; }
int interrupt_signal() { return g_signal.load(); }

std::string remove_subtree(const cg::CgroupFs& fs, const std::string& base) {
  const cg::Controller ctls[] = {cg::Controller::cpu, cg::Controller::cpuacct, cg::Controller::cpuset,
                                 cg::Controller::memory, cg::Controller::blkio, cg::Controller::pids};
  std::vector<std::string> all;
  for (auto c : ctls) {
    if (!fs.controller_dir(c) || !fs.exists(base, c)) continue;
    std::vector<std::string> mine;
    collect(fs, c, base, mine);
    for (auto& m : mine)
      if (std::find(all.begin(), all.end(), m) == all.end()) all.push_back(m);
  }
  if (all.empty()) return "";
  // Kill until empty: a process may be forking while we read cgroup.procs.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (true) {
    size_t left = 0;
    for (auto c : ctls) {
      if (!fs.controller_dir(c)) continue;
      for (const auto& cgroup : all) {
        auto procs = fs.procs(cgroup, c);
        if (!procs.ok()) continue;
        for (int pid : procs.value) {
          ++left;
          ::kill(pid, SIGKILL);
        }
      }
    }
    while (::waitpid(-1, nullptr, WNOHANG) > 0) {
    }  // reap our own children so they leave the cgroup
    if (left == 0 || std::chrono::steady_clock::now() > deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::string failed;
  for (auto it = all.rbegin(); it != all.rend(); ++it) {
    auto st = fs.remove(*it);
    if (!st.ok() && !st.gone()) failed += (failed.empty() ? "" : "; ") + st.describe();
  }
  return failed;
}

}  // namespace slo::bench::cpu_burst
