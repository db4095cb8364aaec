#include "tests/common/kernel_cgroup.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <climits>
#include <cstdio>
#include <cstring>
#include <random>
#include <stdexcept>
#include <thread>

namespace slo::test {
namespace {

constexpr const char* kV1Controllers[] = {"cpu", "cpuacct", "cpuset", "memory", "blkio", "pids"};
constexpr const char* kV2Controllers[] = {"cpu", "cpuset", "memory", "io", "pids"};

std::string cgroup_root() {
  const char* env = std::getenv("SLO_CGROUP_ROOT");
  std::string r = env && *env ? env : "/sys/fs/cgroup";
  while (r.size() > 1 && r.back() == '/') r.pop_back();
  return r;
}

long magic_of(const std::string& path) {
  struct statfs st;
  if (::statfs(path.c_str(), &st) != 0) return 0;
  return static_cast<long>(st.f_type);
}

int write_path(const std::string& path, std::string_view value) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  ssize_t n = ::write(fd, value.data(), value.size());
  int e = n < 0 ? errno : 0;
  ::close(fd);
  return e;
}

std::string read_path(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return out;
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

std::vector<std::string> subdirs(const std::string& path) {
  std::vector<std::string> out;
  DIR* d = ::opendir(path.c_str());
  if (!d) return out;
  while (auto* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n == "." || n == "..") continue;
    if (e->d_type == DT_DIR) out.push_back(n);
  }
  ::closedir(d);
  return out;
}

std::vector<pid_t> procs_in(const std::string& dir) {
  std::vector<pid_t> out;
  std::string text = read_path(dir + "/cgroup.procs");
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string line = text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    if (!line.empty()) out.push_back(static_cast<pid_t>(std::atoi(line.c_str())));
    if (nl == std::string::npos) break;
    pos = nl + 1;
  }
  return out;
}

// Kills every process below dir (all levels) until the cgroups are empty or ~2 s passed.
void kill_tree(const std::string& dir) {
  for (int round = 0; round < 100; ++round) {
    bool any = false;
    std::vector<std::string> todo{dir};
    while (!todo.empty()) {
      std::string d = todo.back();
      todo.pop_back();
      for (pid_t p : procs_in(d)) {
        if (p > 0 && p != ::getpid()) {
          ::kill(p, SIGKILL);
          any = true;
        }
      }
      for (const auto& s : subdirs(d)) todo.push_back(d + "/" + s);
    }
    if (!any) return;
    while (::waitpid(-1, nullptr, WNOHANG) > 0) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

// rmdir bottom-up; a cgroup whose last task just exited can report EBUSY for a moment.
void remove_tree(const std::string& dir) {
  for (const auto& s : subdirs(dir)) remove_tree(dir + "/" + s);
  for (int i = 0; i < 100; ++i) {
    if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return;
    if (errno != EBUSY) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

void enable_v2_controllers(const std::string& dir) {
  std::string avail = " " + read_path(dir + "/cgroup.controllers") + " ";
  std::string enabled = " " + read_path(dir + "/cgroup.subtree_control") + " ";
  for (const char* c : kV2Controllers) {
    std::string token = std::string(c);
    auto has = [&](const std::string& list) {
      size_t p = list.find(token);
      while (p != std::string::npos) {
        bool l = p == 0 || list[p - 1] == ' ' || list[p - 1] == '\n';
        size_t e = p + token.size();
        bool r = e >= list.size() || list[e] == ' ' || list[e] == '\n';
        if (l && r) return true;
        p = list.find(token, p + 1);
      }
      return false;
    };
    if (has(avail) && !has(enabled)) write_path(dir + "/cgroup.subtree_control", "+" + token);
  }
}

}  // namespace

std::optional<std::string> KernelCgroup::unavailable_reason() {
  if (::geteuid() != 0) return "kernel cgroup tests need root";
  std::string root = cgroup_root();
  long m = magic_of(root);
  if (m == CGROUP2_SUPER_MAGIC) {
    // A cgroup2 mount whose controllers are all bound to v1 (this host's /sys/fs/cgroup/unified) cannot run them.
    std::string avail = " " + trimmed(read_path(root + "/cgroup.controllers")) + " ";
    if (avail.find(" cpu ") == std::string::npos) return root + " is cgroup2 without the cpu controller";
    return std::nullopt;
  }
  if (m != TMPFS_MAGIC) return root + " is neither a cgroup2 mount nor a tmpfs of v1 mounts";
  std::string cpu = root + "/cpu";
  if (magic_of(cpu) != CGROUP_SUPER_MAGIC) return root + "/cpu is not a cgroup v1 mount";
  return std::nullopt;
}

KernelCgroup::KernelCgroup() : root_(cgroup_root()) {
  if (auto why = unavailable_reason()) throw std::runtime_error(*why);
  v2_ = magic_of(root_) == CGROUP2_SUPER_MAGIC;
  if (!v2_) {
    for (const char* c : kV1Controllers) {
      std::string p = root_ + "/" + c;
      char real[PATH_MAX];
      if (magic_of(p) != CGROUP_SUPER_MAGIC || !::realpath(p.c_str(), real)) continue;
      v1_.emplace_back(c, real);
    }
  }
  // Remove leftovers of crashed runs: slo-test-<pid>-… whose pid is gone.
  for (const auto& h : hierarchy_dirs()) {
    for (const auto& name : subdirs(h)) {
      if (name.rfind("slo-test-", 0) != 0) continue;
      pid_t owner = static_cast<pid_t>(std::atoi(name.c_str() + 9));
      if (owner == ::getpid()) continue;
      if (owner <= 0 || (::kill(owner, 0) != 0 && errno == ESRCH)) {
        kill_tree(h + "/" + name);
        remove_tree(h + "/" + name);
      }
    }
  }
  std::random_device rd;
  char suffix[16];
  std::snprintf(suffix, sizeof suffix, "%08x", rd());
  base_ = "slo-test-" + std::to_string(::getpid()) + "-" + suffix;
  if (v2_) enable_v2_controllers(root_);
  for (const auto& h : hierarchy_dirs()) {
    std::string d = h + "/" + base_;
    if (::mkdir(d.c_str(), 0755) != 0) {
      int e = errno;
      cleanup();
      throw std::runtime_error("mkdir " + d + ": " + std::strerror(e));
    }
    if (!v2_ && magic_of(h) == CGROUP_SUPER_MAGIC && ::access((h + "/cpuset.cpus").c_str(), F_OK) == 0) {
      write_path(d + "/cpuset.cpus", trimmed(read_path(h + "/cpuset.cpus")));
      write_path(d + "/cpuset.mems", trimmed(read_path(h + "/cpuset.mems")));
    }
  }
  if (v2_) enable_v2_controllers(root_ + "/" + base_);
}

KernelCgroup::~KernelCgroup() { cleanup(); }

std::vector<std::string> KernelCgroup::hierarchy_dirs() const {
  if (v2_) return {root_};
  std::vector<std::string> out;
  for (const auto& [c, d] : v1_) {
    bool seen = false;
    for (const auto& o : out) seen = seen || o == d;
    if (!seen) out.push_back(d);
  }
  return out;
}

std::string KernelCgroup::rel(std::string_view sub) const {
  return sub.empty() ? base_ : base_ + "/" + std::string(sub);
}

bool KernelCgroup::has_controller(std::string_view controller) const {
  if (v2_) {
    std::string avail = " " + trimmed(read_path(root_ + "/" + base_ + "/cgroup.controllers")) + " ";
    std::string want = controller == "blkio" ? "io" : std::string(controller);
    return controller == "cpuacct" || avail.find(" " + want + " ") != std::string::npos;
  }
  for (const auto& [c, d] : v1_)
    if (c == controller) return true;
  return false;
}

std::string KernelCgroup::dir(std::string_view controller, std::string_view sub) const {
  if (v2_) return root_ + "/" + rel(sub);
  for (const auto& [c, d] : v1_)
    if (c == controller) return d + "/" + rel(sub);
  throw std::runtime_error("controller not mounted: " + std::string(controller));
}

void KernelCgroup::mkdir(std::string_view sub) {
  std::string s(sub);
  size_t pos = 0;
  while (true) {
    size_t slash = s.find('/', pos);
    std::string part = s.substr(0, slash);
    std::string parent = pos == 0 ? "" : s.substr(0, pos - 1);
    for (const auto& h : hierarchy_dirs()) {
      std::string pdir = h + "/" + rel(parent);
      std::string d = h + "/" + rel(part);
      if (v2_) enable_v2_controllers(pdir);
      if (::mkdir(d.c_str(), 0755) != 0) {
        if (errno == EEXIST) continue;
        throw std::runtime_error("mkdir " + d + ": " + std::strerror(errno));
      }
      if (!v2_ && ::access((d + "/cpuset.cpus").c_str(), F_OK) == 0) {
        write_path(d + "/cpuset.cpus", trimmed(read_path(pdir + "/cpuset.cpus")));
        write_path(d + "/cpuset.mems", trimmed(read_path(pdir + "/cpuset.mems")));
      }
    }
    if (slash == std::string::npos) break;
    pos = slash + 1;
  }
}

pid_t KernelCgroup::spawn(std::string_view sub, bool busy) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  std::vector<std::string> targets;
  for (const auto& h : hierarchy_dirs()) targets.push_back(h + "/" + rel(sub) + "/cgroup.procs");
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    ::close(fds[0]);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(2);
    std::string me = std::to_string(::getpid());
    for (const auto& t : targets) {
      int e = write_path(t, me);
      if (e != 0) {
        char code = static_cast<char>(e);
        (void)!::write(fds[1], &code, 1);
        ::_exit(1);
      }
    }
    char ok = 0;
    (void)!::write(fds[1], &ok, 1);
    ::close(fds[1]);
    if (busy) {
      volatile unsigned long x = 0;
      while (true) x = x + 1;
    }
    while (true) ::pause();
  }
  ::close(fds[1]);
  char code = 1;
  ssize_t n = ::read(fds[0], &code, 1);
  ::close(fds[0]);
  if (n != 1 || code != 0) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    throw std::runtime_error("child could not join " + rel(sub) + ": " + std::strerror(n == 1 ? code : EIO));
  }
  pids_.push_back(pid);
  return pid;
}

void KernelCgroup::kill_all() {
  for (pid_t p : pids_) ::kill(p, SIGKILL);
  for (pid_t p : pids_) ::waitpid(p, nullptr, 0);
  pids_.clear();
  if (base_.empty()) return;
  for (const auto& h : hierarchy_dirs()) kill_tree(h + "/" + base_);
}

void KernelCgroup::cleanup() {
  kill_all();
  if (base_.empty()) return;
  for (const auto& h : hierarchy_dirs()) remove_tree(h + "/" + base_);
}

int KernelCgroup::write_file(std::string_view controller, std::string_view sub, std::string_view file,
                             std::string_view value) const {
  return write_path(dir(controller, sub) + "/" + std::string(file), value);
}

std::string KernelCgroup::read_file(std::string_view controller, std::string_view sub, std::string_view file) const {
  return trimmed(read_path(dir(controller, sub) + "/" + std::string(file)));
}

}  // namespace slo::test
