#include "cgroups/safe_dir.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

namespace slo::cg {
namespace {

std::string join(const std::string& base, std::string_view rel) {
  if (rel.empty() || rel == ".") return base;
  if (base.empty()) return std::string(rel);
  if (base.back() == '/') return base + std::string(rel);
  return base + "/" + std::string(rel);
}

// openat2 availability is probed once per process: ENOSYS (old kernel) or EPERM (seccomp) switch to the fallback.
std::atomic<int> g_openat2_state{0};  // 0 unknown, 1 works, -1 unavailable

int openat2_beneath(int dirfd, const std::string& rel, int flags, mode_t mode) {
  if (g_openat2_state.load(std::memory_order_relaxed) >= 0) {
    struct open_how how;
    std::memset(&how, 0, sizeof how);
    how.flags = static_cast<uint64_t>(flags) | O_CLOEXEC;
    how.mode = (flags & O_CREAT) ? mode : 0;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    long fd = syscall(SYS_openat2, dirfd, rel.c_str(), &how, sizeof how);
    if (fd >= 0) {
      g_openat2_state.store(1, std::memory_order_relaxed);
      return static_cast<int>(fd);
    }
    if (errno != ENOSYS && errno != EPERM) return -errno;
    g_openat2_state.store(-1, std::memory_order_relaxed);
  }
  // Fallback: walk component by component refusing symlinks. rel is already validated (no "..").
  int cur = dirfd;
  bool owned = false;
  size_t pos = 0;
  while (true) {
    size_t slash = rel.find('/', pos);
    std::string comp = rel.substr(pos, slash == std::string::npos ? std::string::npos : slash - pos);
    bool last = slash == std::string::npos;
    int f = last ? (flags | O_NOFOLLOW | O_CLOEXEC) : (O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    int next = ::openat(cur, comp.c_str(), f, mode);
    int saved = errno;
    if (owned) ::close(cur);
    if (next < 0) return -saved;
    if (last) return next;
    cur = next;
    owned = true;
    pos = slash + 1;
  }
}

int open_beneath(int dirfd, std::string_view rel, int flags, mode_t mode = 0) {
  if (rel.empty() || rel == ".") {
    int fd = ::openat(dirfd, ".", flags | O_CLOEXEC);
    return fd >= 0 ? fd : -errno;
  }
  if (!is_safe_relative(rel)) return -EINVAL;
  return openat2_beneath(dirfd, std::string(rel), flags, mode);
}

}  // namespace

bool is_safe_relative(std::string_view rel) {
  if (rel.empty() || rel.front() == '/') return false;
  size_t pos = 0;
  while (pos <= rel.size()) {
    size_t slash = rel.find('/', pos);
    std::string_view comp = rel.substr(pos, slash == std::string_view::npos ? std::string_view::npos : slash - pos);
    if (comp.empty() || comp == "." || comp == "..") return false;
    for (char c : comp)
      if (c == '\0') return false;
    if (slash == std::string_view::npos) break;
    pos = slash + 1;
  }
  return true;
}

DirFd::DirFd(DirFd&& o) noexcept : fd_(o.fd_), label_(std::move(o.label_)) { o.fd_ = -1; }
DirFd& DirFd::operator=(DirFd&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.fd_;
    o.fd_ = -1;
  }
  return *this;
}
DirFd::~DirFd() {
  if (fd_ >= 0) ::close(fd_);
}

Result<DirFd> DirFd::open_root(const std::string& abs_path) {
  if (abs_path.empty() || abs_path == "/" || abs_path.front() != '/')
    return Result<DirFd>::fail(Status::failure(abs_path.empty() ? "<empty>" : abs_path,
                                               "refusing empty, root or relative path as a kernel root", EINVAL));
  int fd = ::open(abs_path.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Result<DirFd>::fail(Status::from_errno(errno, abs_path));
  return Result<DirFd>::success(DirFd(fd, abs_path));
}

Result<DirFd> DirFd::dup() const {
  int fd = ::fcntl(fd_, F_DUPFD_CLOEXEC, 0);
  if (fd < 0) return Result<DirFd>::fail(Status::from_errno(errno, label_));
  return Result<DirFd>::success(DirFd(fd, label_));
}

Result<DirFd> DirFd::open_dir(std::string_view rel) const {
  std::string label = join(label_, rel);
  if (rel != "." && !rel.empty() && !is_safe_relative(rel))
    return Result<DirFd>::fail(Status::failure(label, "unsafe relative path", EINVAL));
  int fd = open_beneath(fd_, rel, O_DIRECTORY | O_RDONLY);
  if (fd < 0) return Result<DirFd>::fail(Status::from_errno(-fd, label));
  return Result<DirFd>::success(DirFd(fd, label));
}

int DirFd::open_file(std::string_view rel, int flags) const { return open_beneath(fd_, rel, flags, 0644); }

Result<std::string> DirFd::read(std::string_view rel) const {
  std::string label = join(label_, rel);
  int fd = open_beneath(fd_, rel, O_RDONLY);
  if (fd < 0) return Result<std::string>::fail(Status::from_errno(-fd, label));
  std::string out;
  char buf[4096];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      return Result<std::string>::fail(Status::from_errno(e, label));
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return Result<std::string>::success(std::move(out));
}

Status DirFd::write(std::string_view rel, std::string_view value) const {
  std::string label = join(label_, rel);
  // O_TRUNC: kernfs ignores it, but on fixture trees (regular files) a shorter value must not leave the tail of the
  // previous one behind ("-1" over "50000" read back as "-1000").
  int fd = open_beneath(fd_, rel, O_WRONLY | O_TRUNC);
  if (fd < 0) return Status::from_errno(-fd, label, std::string(value));
  ssize_t n;
  do {
    n = ::write(fd, value.data(), value.size());
  } while (n < 0 && errno == EINTR);
  int e = errno;
  ::close(fd);
  if (n < 0) return Status::from_errno(e, label, std::string(value));
  if (static_cast<size_t>(n) != value.size())
    return Status::failure(label, "short write of '" + std::string(value) + "'", EIO);
  return Status{};
}

Result<std::vector<std::string>> DirFd::list(std::string_view rel, bool dirs_only) const {
  auto d = open_dir(rel.empty() ? "." : rel);
  if (!d.ok()) return Result<std::vector<std::string>>::fail(d.status);
  int fd = ::fcntl(d.value.fd(), F_DUPFD_CLOEXEC, 0);
  DIR* dir = fd >= 0 ? ::fdopendir(fd) : nullptr;
  if (!dir) {
    int e = errno;
    if (fd >= 0) ::close(fd);
    return Result<std::vector<std::string>>::fail(Status::from_errno(e, d.value.label()));
  }
  std::vector<std::string> names;
  while (struct dirent* ent = ::readdir(dir)) {
    std::string_view n = ent->d_name;
    if (n == "." || n == "..") continue;
    if (dirs_only) {
      bool is_dir = ent->d_type == DT_DIR;
      if (ent->d_type == DT_UNKNOWN) {
        struct stat st;
        is_dir = ::fstatat(d.value.fd(), ent->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
      }
      if (!is_dir) continue;
    }
    names.emplace_back(n);
  }
  ::closedir(dir);
  return Result<std::vector<std::string>>::success(std::move(names));
}

bool DirFd::exists(std::string_view rel) const {
  if (rel.empty() || rel == ".") return valid();
  int fd = open_beneath(fd_, rel, O_PATH);
  if (fd < 0) return false;
  ::close(fd);
  return true;
}

Status DirFd::mkdir(std::string_view rel, unsigned mode) const {
  std::string label = join(label_, rel);
  if (!is_safe_relative(rel)) return Status::failure(label, "unsafe relative path", EINVAL);
  std::string r(rel);
  size_t slash = r.rfind('/');
  if (slash == std::string::npos) {
    if (::mkdirat(fd_, r.c_str(), mode) != 0) return Status::from_errno(errno, label);
    return Status{};
  }
  auto parent = open_dir(std::string_view(r).substr(0, slash));
  if (!parent.ok()) return parent.status;
  if (::mkdirat(parent.value.fd(), r.c_str() + slash + 1, mode) != 0) return Status::from_errno(errno, label);
  return Status{};
}

Status DirFd::rmdir(std::string_view rel) const {
  std::string label = join(label_, rel);
  if (!is_safe_relative(rel)) return Status::failure(label, "unsafe relative path", EINVAL);
  std::string r(rel);
  size_t slash = r.rfind('/');
  if (slash == std::string::npos) {
    if (::unlinkat(fd_, r.c_str(), AT_REMOVEDIR) != 0) return Status::from_errno(errno, label);
    return Status{};
  }
  auto parent = open_dir(std::string_view(r).substr(0, slash));
  if (!parent.ok()) return parent.status;
  if (::unlinkat(parent.value.fd(), r.c_str() + slash + 1, AT_REMOVEDIR) != 0) return Status::from_errno(errno, label);
  return Status{};
}

KeptFile::KeptFile(KeptFile&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
KeptFile& KeptFile::operator=(KeptFile&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.fd_;
    o.fd_ = -1;
  }
  return *this;
}
KeptFile::~KeptFile() {
  if (fd_ >= 0) ::close(fd_);
}

Result<KeptFile> KeptFile::open(const DirFd& dir, std::string_view rel) {
  int fd = dir.open_file(rel, O_RDONLY);
  if (fd < 0) return Result<KeptFile>::fail(Status::from_errno(-fd, join(dir.label(), rel)));
  KeptFile k;
  k.fd_ = fd;
  return Result<KeptFile>::success(std::move(k));
}

Status KeptFile::read(std::string& buf) const {
  buf.resize(buf.capacity() < 512 ? 512 : buf.capacity());
  size_t used = 0;
  while (true) {
    if (used == buf.size()) buf.resize(buf.size() * 2);
    ssize_t n = ::pread(fd_, buf.data() + used, buf.size() - used, static_cast<off_t>(used));
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      buf.clear();
      return Status::from_errno(e, "kept file (fd " + std::to_string(fd_) + ")");
    }
    if (n == 0) break;
    used += static_cast<size_t>(n);
    // A short read is the end: kernfs/proc seq files hand out everything that fits in one call, so asking again
    // only to get 0 would double the syscalls of every hot-path stat read.
    if (used < buf.size()) break;
  }
  buf.resize(used);
  return Status{};
}

}  // namespace slo::cg
