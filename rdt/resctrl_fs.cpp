#include "rdt/resctrl_fs.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <thread>

namespace slo::rdt {
namespace {

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  size_t i = 0;
  while (i < s.size() && s[i] == ' ') ++i;
  return s.substr(i);
}

}  // namespace

cg::Result<std::vector<std::string>> ResctrlFs::list_groups() const {
  auto l = root_.list(".", true);
  if (!l.ok()) return l;
  std::vector<std::string> out;
  for (auto& n : l.value)
    if (n != "info" && n != "mon_data" && n != "mon_groups") out.push_back(std::move(n));
  return cg::Result<std::vector<std::string>>::success(std::move(out));
}

std::string ResctrlFs::last_cmd_status() const {
  auto r = root_.read("info/last_cmd_status");
  return r.ok() ? trim(r.value) : std::string{};
}

cg::Status ResctrlFs::make_group(const std::string& name) { return root_.mkdir(name, 0755); }
cg::Status ResctrlFs::remove_group(const std::string& name) { return root_.rmdir(name); }

cg::Status ResctrlFs::write_file(const std::string& rel, std::string_view value) {
  std::string label = root_.label() + "/" + rel;
  int fd = root_.open_file(rel, O_WRONLY | O_TRUNC);
  if (fd < 0) return cg::Status::from_errno(-fd, label, std::string(value));
  int e = write_fd(fd, value);
  ::close(fd);
  if (e) return cg::Status::from_errno(e, label, std::string(value));
  return cg::Status{};
}

int ResctrlFs::open_append(const std::string& rel) { return root_.open_file(rel, O_WRONLY | O_APPEND); }

int ResctrlFs::write_fd(int fd, std::string_view data) {
  ssize_t n;
  do {
    n = ::write(fd, data.data(), data.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0) return errno;
  if (static_cast<size_t>(n) != data.size()) return EIO;
  return 0;
}

cg::Status FixtureResctrlFs::make_group(const std::string& name) {
  cg::Status s = ResctrlFs::make_group(name);
  if (!s.ok()) return s;
  // A new kernel group starts with every resource at its default (the root's maximum) and no tasks.
  auto root_sch = root_.read("schemata");
  for (const char* f : {"tasks", "cpus", "cpus_list", "schemata"}) {
    int fd = root_.open_file(name + "/" + f, O_WRONLY | O_CREAT | O_TRUNC);
    if (fd < 0) return cg::Status::from_errno(-fd, root_.label() + "/" + name + "/" + f);
    if (std::string_view(f) == "schemata" && root_sch.ok()) write_fd(fd, root_sch.value);
    ::close(fd);
  }
  return s;
}

cg::Status FixtureResctrlFs::remove_group(const std::string& name) {
  // The kernel hands the group's tasks back to the root group on rmdir.
  auto tasks = root_.read(name + "/tasks");
  if (tasks.ok() && !tasks.value.empty()) {
    int fd = root_.open_file("tasks", O_WRONLY | O_APPEND);
    if (fd >= 0) {
      write_fd(fd, tasks.value);
      ::close(fd);
    }
  }
  auto d = root_.open_dir(name);
  if (d.ok()) {
    auto files = d.value.list(".", false);
    if (files.ok())
      for (const auto& f : files.value) ::unlinkat(d.value.fd(), f.c_str(), 0);  // subdirs stay: rmdir reports
  }
  return ResctrlFs::remove_group(name);
}

cg::Result<std::unique_ptr<RootLock>> RootLock::acquire(const cg::DirFd& root, std::chrono::milliseconds timeout) {
  using R = cg::Result<std::unique_ptr<RootLock>>;
  // A fresh open file description: flock is per description, so a dup of the root fd would share (and not
  // contend with) another lock taken through the same root.
  int fd = root.open_file(".", O_RDONLY | O_DIRECTORY);
  if (fd < 0) return R::fail(cg::Status::from_errno(-fd, root.label()));
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int e = errno;
    if (e == EINTR) continue;
    if (e != EWOULDBLOCK || std::chrono::steady_clock::now() >= deadline) {
      ::close(fd);
      return R::fail(cg::Status::failure(root.label(),
                                         e == EWOULDBLOCK ? "resctrl root is locked by another process (flock)"
                                                          : "flock failed",
                                         e));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return R::success(std::unique_ptr<RootLock>(new RootLock(fd)));
}

RootLock::~RootLock() {
  if (fd_ >= 0) {
    ::flock(fd_, LOCK_UN);
    ::close(fd_);
  }
}

std::unique_ptr<ResctrlFs> make_resctrl_fs(cg::DirFd root, bool kernel_mount) {
  if (kernel_mount) return std::make_unique<ResctrlFs>(std::move(root));
  return std::make_unique<FixtureResctrlFs>(std::move(root));
}

}  // namespace slo::rdt
