#include "cgroups/status.h"

#include <cerrno>
#include <cstring>

namespace slo::cg {

bool is_gone_errno(int e) { return e == ENOENT || e == ENODEV || e == ESRCH; }

std::string errno_name(int e) {
  switch (e) {
    case EINVAL: return "EINVAL";
    case ENOENT: return "ENOENT";
    case ENODEV: return "ENODEV";
    case ESRCH: return "ESRCH";
    case EBUSY: return "EBUSY";
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case ENOSPC: return "ENOSPC";
    case EEXIST: return "EEXIST";
    case ENOTDIR: return "ENOTDIR";
    case EXDEV: return "EXDEV";
    case ELOOP: return "ELOOP";
    case EIO: return "EIO";
    case ERANGE: return "ERANGE";
    case EROFS: return "EROFS";
    case ENOTSUP: return "ENOTSUP";
    case EAGAIN: return "EAGAIN";
    case ENOMEM: return "ENOMEM";
    case E2BIG: return "E2BIG";
    case EFAULT: return "EFAULT";
    default: return "errno " + std::to_string(e);
  }
}

Status Status::from_errno(int e, std::string path, std::string value) {
  Status s;
  s.outcome = is_gone_errno(e) ? Outcome::gone : Outcome::error;
  s.err = e;
  s.path = std::move(path);
  s.value = std::move(value);
  return s;
}

Status Status::failure(std::string path, std::string detail, int e) {
  Status s;
  s.outcome = Outcome::error;
  s.err = e;
  s.path = std::move(path);
  s.detail = std::move(detail);
  return s;
}

std::string Status::describe() const {
  if (ok()) return "ok";
  std::string out;
  if (!value.empty())
    out = "write '" + value + "' to " + path;
  else
    out = path;
  if (err != 0) out += ": " + std::string(std::strerror(err)) + " (" + errno_name(err) + ")";
  if (gone()) out += " [gone]";
  if (!detail.empty()) out += ": " + detail;
  return out;
}

}  // namespace slo::cg
