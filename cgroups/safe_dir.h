// Kernel-file access through directory fds. Every path below a root is resolved with
// openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS) where the kernel has it (5.6+), otherwise component by component
// with O_NOFOLLOW, so a hostile pod UID or a symlink planted in a cgroup tree cannot redirect a root-owned write.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cgroups/status.h"

namespace slo::cg {

// A relative path is safe when it is non-empty, not absolute and has no "." / ".." / empty components.
bool is_safe_relative(std::string_view rel);

class DirFd {
 public:
  DirFd() = default;
  explicit DirFd(int fd, std::string label) : fd_(fd), label_(std::move(label)) {}
  DirFd(const DirFd&) = delete;
  DirFd& operator=(const DirFd&) = delete;
  DirFd(DirFd&& o) noexcept;
  DirFd& operator=(DirFd&& o) noexcept;
  ~DirFd();

  // Opens an absolute root directory (the injectable --cgroup-root etc.). Refuses "" and "/".
  static Result<DirFd> open_root(const std::string& abs_path);

  bool valid() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  const std::string& label() const { return label_; }  // path used in messages
  Result<DirFd> dup() const;

  // Opens a sub-directory strictly beneath this one. rel must satisfy is_safe_relative (or be "." for self).
  Result<DirFd> open_dir(std::string_view rel) const;
  // Whole-file read of a small kernel file beneath this dir (rel may contain '/').
  Result<std::string> read(std::string_view rel) const;
  // One write(2) of value (no trailing newline added); the kernel parses a write as one command.
  Status write(std::string_view rel, std::string_view value) const;
  // Lists entries (names only) of a sub-directory; dirs_only filters to directories.
  Result<std::vector<std::string>> list(std::string_view rel, bool dirs_only) const;
  bool exists(std::string_view rel) const;
  Status mkdir(std::string_view rel, unsigned mode = 0755) const;
  Status rmdir(std::string_view rel) const;

  // Raw fd of a file beneath this dir, opened with flags; caller owns it. Returns -errno on failure.
  int open_file(std::string_view rel, int flags) const;

 private:
  int fd_ = -1;
  std::string label_;
};

// A stat file kept open and re-read with pread(…, 0): the hot path of a tick costs one syscall per file.
class KeptFile {
 public:
  KeptFile() = default;
  KeptFile(const KeptFile&) = delete;
  KeptFile& operator=(const KeptFile&) = delete;
  KeptFile(KeptFile&& o) noexcept;
  KeptFile& operator=(KeptFile&& o) noexcept;
  ~KeptFile();

  // A failed open names the path. An open file keeps only its descriptor: the agent keeps thousands of them (four
  // per pod) and a path each was half a megabyte at 500 pods; the caller that reads knows which file it is.
  static Result<KeptFile> open(const DirFd& dir, std::string_view rel);
  bool valid() const { return fd_ >= 0; }
  // Reads the whole file from offset 0 into buf (reused across calls to avoid allocation). A failure carries the
  // errno, and the descriptor number instead of a path.
  Status read(std::string& buf) const;

 private:
  int fd_ = -1;
};

}  // namespace slo::cg
