#include "tests/bpf/cpu_test_cgroups.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace slo::test {
namespace {

void write_file(const std::string& path, const std::string& value) {
  std::ofstream f(path);
  f << value;
  f.flush();
  if (!f) throw std::runtime_error("write " + value + " to " + path + " failed");
}

std::string read_file(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

bool lists_cpu(const std::string& controllers_file) {
  std::istringstream in(read_file(controllers_file));
  std::string word;
  while (in >> word)
    if (word == "cpu") return true;
  return false;
}

// The directory that holds the cpu controller's files for this hierarchy, or the reason there is none.
std::string cpu_dir_or_reason(const cg::Hierarchy& h, std::string* reason) {
  auto dir = h.controller_dir(cg::Controller::cpu);
  if (!dir) {
    *reason = h.mode == cg::Mode::v2 ? "cgroup2 at " + h.root + " lists no cpu controller in cgroup.controllers"
                                     : "no v1 cpu hierarchy below " + h.root;
    return {};
  }
  return *dir;
}

}  // namespace

std::optional<std::string> CpuTestCgroups::unavailable_reason(const std::string& cgroup_root) {
  auto h = cg::Hierarchy::detect(cgroup_root);
  if (!h.ok()) return "no cgroup hierarchy at " + cgroup_root + ": " + h.status.describe();
  std::string reason;
  std::string dir = cpu_dir_or_reason(h.value, &reason);
  if (dir.empty()) return reason;
  if (::access((dir + "/cgroup.procs").c_str(), W_OK) != 0)
    return dir + "/cgroup.procs is not writable: " + std::strerror(errno);
  return std::nullopt;
}

CpuTestCgroups::CpuTestCgroups(const std::string& cgroup_root) {
  auto h = cg::Hierarchy::detect(cgroup_root);
  if (!h.ok()) throw std::runtime_error("detect " + cgroup_root + ": " + h.status.describe());
  hierarchy_ = h.value;
  std::string reason;
  std::string cpu_dir = cpu_dir_or_reason(hierarchy_, &reason);
  if (cpu_dir.empty()) throw std::runtime_error(reason);
  // v2: the cpu files of the new top exist only when its parent (the root) delegates cpu; enabling it on the root
  // changes no limit.
  if (hierarchy_.mode == cg::Mode::v2 && !lists_cpu(cpu_dir + "/cgroup.subtree_control"))
    write_file(cpu_dir + "/cgroup.subtree_control", "+cpu");
  std::random_device rd;
  top_rel_ = "slo-test-" + std::to_string(::getpid()) + "-" + std::to_string(rd() % 1000000);
  top_ = cpu_dir + "/" + top_rel_;
  if (::mkdir(top_.c_str(), 0755) != 0) throw std::runtime_error("mkdir " + top_ + ": " + std::strerror(errno));
  dirs_.push_back(top_);
}

CpuTestCgroups::~CpuTestCgroups() {
  for (pid_t p : children_) ::kill(p, SIGKILL);
  for (pid_t p : children_) ::waitpid(p, nullptr, 0);
  // A killed task leaves its cgroup asynchronously: retry rmdir (EBUSY) for a short while.
  for (auto it = dirs_.rbegin(); it != dirs_.rend(); ++it) {
    for (int attempt = 0; attempt < 200; attempt++) {
      if (::rmdir(it->c_str()) == 0 || errno == ENOENT) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
}

std::string CpuTestCgroups::make(const std::string& rel) {
  std::string path = top_;
  size_t pos = 0;
  while (pos <= rel.size()) {
    size_t slash = rel.find('/', pos);
    if (slash == std::string::npos) slash = rel.size();
    // v2: a child has cpu files only when its parent delegates cpu (parents here never hold processes).
    if (hierarchy_.mode == cg::Mode::v2 && !lists_cpu(path + "/cgroup.subtree_control"))
      write_file(path + "/cgroup.subtree_control", "+cpu");
    path += "/" + rel.substr(pos, slash - pos);
    if (::mkdir(path.c_str(), 0755) == 0) {
      dirs_.push_back(path);
    } else if (errno != EEXIST) {
      throw std::runtime_error("mkdir " + path + ": " + std::strerror(errno));
    }
    pos = slash + 1;
  }
  return path;
}

void CpuTestCgroups::set_cpu_quota(const std::string& rel, int64_t quota_us) const {
  if (hierarchy_.mode == cg::Mode::v2)
    write_file(top_ + "/" + rel + "/cpu.max", std::to_string(quota_us) + " 100000");
  else
    write_file(top_ + "/" + rel + "/cpu.cfs_quota_us", std::to_string(quota_us));
}

pid_t CpuTestCgroups::spawn(const std::string& rel, int cpu, std::function<void()> body) {
  int ready[2];
  if (::pipe(ready) != 0) throw std::runtime_error("pipe failed");
  std::string procs = top_ + "/" + rel + "/cgroup.procs";
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    ::close(ready[0]);
    std::string me = std::to_string(::getpid());
    int fd = ::open(procs.c_str(), O_WRONLY);
    if (fd < 0 || ::write(fd, me.data(), me.size()) != static_cast<ssize_t>(me.size())) ::_exit(4);
    ::close(fd);
    // Pinned only after joining: on cgroup2 with cpuset enabled, moving a task into another cpuset cgroup resets its
    // affinity to that cgroup's effective CPUs (Linux < 6.2), which silently undid a pin made before the move.
    if (cpu >= 0) {
      cpu_set_t set;
      CPU_ZERO(&set);
      CPU_SET(cpu, &set);
      if (::sched_setaffinity(0, sizeof set, &set) != 0) ::_exit(3);
    }
    char ok = 1;
    if (::write(ready[1], &ok, 1) != 1) ::_exit(5);
    ::close(ready[1]);
    body();
    ::_exit(0);
  }
  ::close(ready[1]);
  children_.push_back(pid);
  char ok = 0;
  ssize_t n = ::read(ready[0], &ok, 1);
  ::close(ready[0]);
  if (n != 1) throw std::runtime_error("child could not join " + procs);
  return pid;
}

void spin_forever() {
  for (;;) asm volatile("" ::: "memory");
}

void spin_sleep_forever(int spin_us, int sleep_us) {
  using clock = std::chrono::steady_clock;
  for (;;) {
    auto until = clock::now() + std::chrono::microseconds(spin_us);
    while (clock::now() < until) asm volatile("" ::: "memory");
    ::usleep(static_cast<useconds_t>(sleep_us));
  }
}

}  // namespace slo::test
