#include "rdt/root.h"

#include <sys/vfs.h>

#include <cerrno>
#include <cstdio>

namespace slo::rdt {

cg::Result<OpenedRoot> open_resctrl_root(const std::string& path, RootCheck check) {
  using R = cg::Result<OpenedRoot>;
  auto dir = cg::DirFd::open_root(path);
  if (!dir.ok()) {
    std::string why = dir.status.err ? cg::errno_name(dir.status.err) : dir.status.detail;
    return R::fail(cg::Status::failure(path, "resctrl not mounted at " + path + " (" + why + ")", dir.status.err));
  }
  struct statfs st{};
  if (::fstatfs(dir.value.fd(), &st) != 0) return R::fail(cg::Status::from_errno(errno, path));
  OpenedRoot out;
  out.kernel_mount = static_cast<unsigned long>(st.f_type) == kRdtGroupSuperMagic;
  if (!out.kernel_mount) {
    char magic[32];
    std::snprintf(magic, sizeof magic, "0x%lx", static_cast<unsigned long>(st.f_type));
    if (check == RootCheck::mount_magic)
      return R::fail(cg::Status::failure(
          path, path + " is not a resctrl mount (filesystem magic " + std::string(magic) + ", want 0x7655821)"));
    if (!dir.value.exists("info"))
      return R::fail(cg::Status::failure(path, path + " has no info/ directory (not a resctrl tree)", ENOENT));
  }
  out.dir = std::move(dir.value);
  return R::success(std::move(out));
}

}  // namespace slo::rdt
