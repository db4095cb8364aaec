// Opening the resctrl root. A real mount is recognised by its filesystem magic (RDTGROUP_SUPER_MAGIC). A copy of
// a resctrl tree in an ordinary directory (tests, `inspect rdt` on a fixture) is only accepted when the caller asks
// for it explicitly with RootCheck::trust_contents, and then only if it has an info/ directory.
#pragma once

#include <string>

#include "cgroups/safe_dir.h"
#include "cgroups/status.h"

namespace slo::rdt {

constexpr unsigned long kRdtGroupSuperMagic = 0x7655821;  // linux/magic.h RDTGROUP_SUPER_MAGIC
constexpr const char* kDefaultResctrlRoot = "/sys/fs/resctrl";

enum class RootCheck {
  mount_magic,     // fstatfs must report RDTGROUP_SUPER_MAGIC (production)
  trust_contents,  // accept a real mount, or any directory holding info/ (a fake tree)
};

struct OpenedRoot {
  cg::DirFd dir;
  bool kernel_mount = false;  // fs magic matched; false = accepted by contents (a fake tree)
};

// Fails with a reason fit for Capability::reason: "resctrl not mounted at /sys/fs/resctrl (ENOENT)",
// "/x is not a resctrl mount (filesystem magic 0x..., want 0x7655821)", "/x has no info/ directory".
cg::Result<OpenedRoot> open_resctrl_root(const std::string& path, RootCheck check);

}  // namespace slo::rdt
