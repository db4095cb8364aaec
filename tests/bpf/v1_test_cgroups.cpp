#include "tests/bpf/v1_test_cgroups.h"

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

}  // namespace

V1TestCgroups::V1TestCgroups(std::string controller_root) {
  std::random_device rd;
  top_ = controller_root + "/slo-test-" + std::to_string(::getpid()) + "-" + std::to_string(rd() % 1000000);
  if (::mkdir(top_.c_str(), 0755) != 0)
    throw std::runtime_error("mkdir " + top_ + ": " + std::strerror(errno));
  dirs_.push_back(top_);
}

V1TestCgroups::~V1TestCgroups() {
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

std::string V1TestCgroups::make(const std::string& rel) {
  std::string path = top_;
  size_t pos = 0;
  while (pos <= rel.size()) {
    size_t slash = rel.find('/', pos);
    if (slash == std::string::npos) slash = rel.size();
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

void V1TestCgroups::write(const std::string& rel, const std::string& file, const std::string& value) const {
  write_file(top_ + "/" + rel + "/" + file, value);
}

pid_t V1TestCgroups::spawn(const std::string& rel, int cpu, std::function<void()> body) {
  int ready[2];
  if (::pipe(ready) != 0) throw std::runtime_error("pipe failed");
  std::string procs = top_ + "/" + rel + "/cgroup.procs";
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    ::close(ready[0]);
    if (cpu >= 0) {
      cpu_set_t set;
      CPU_ZERO(&set);
      CPU_SET(cpu, &set);
      if (::sched_setaffinity(0, sizeof set, &set) != 0) ::_exit(3);
    }
    std::string me = std::to_string(::getpid());
    int fd = ::open(procs.c_str(), O_WRONLY);
    if (fd < 0 || ::write(fd, me.data(), me.size()) != static_cast<ssize_t>(me.size())) ::_exit(4);
    ::close(fd);
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
