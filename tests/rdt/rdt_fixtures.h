// Shared by the rdt tests: the fixture trees, a copy helper, and a ResctrlFs that injects the errors a plain file
// cannot produce (mkdir ENOSPC, a rejected schemata write, ESRCH on one TID).
#pragma once

#include <cerrno>
#include <filesystem>
#include <functional>
#include <map>
#include <stdexcept>
#include <set>
#include <string>
#include <vector>

#include "rdt/resctrl_fs.h"
#include "rdt/root.h"
#include "tests/common/support.h"

namespace slo::rdt::testing {

inline const std::vector<std::string>& all_trees() {
  static const std::vector<std::string> trees{"resctrl.full", "resctrl.nomb",      "resctrl.nomb.cdp",
                                              "resctrl.nol3", "resctrl.nol3.mbps", "resctrl.l2",
                                              "resctrl.l2cdp", "resctrl.l2l3mb"};
  return trees;
}

// Copies fixtures/resctrl/<tree> to <tmp>/resctrl and returns its path (tests write into the copy only).
// Without with_groups, the control/monitor group subtrees of the fixture (goresctrl.*, Guaranteed ...; most of
// resctrl.full's 212 files) are left out: copying them costs seconds on a loaded disk and only the tests about
// foreign groups need them.
inline std::string copy_tree(const slo::test::TempDir& tmp, const std::string& tree, bool with_groups = false) {
  if (with_groups) return tmp.copy_fixture("resctrl/" + tree, "resctrl");
  namespace fs = std::filesystem;
  fs::path src = slo::test::fixture("resctrl/" + tree);
  fs::path dst = tmp.sub("resctrl");
  fs::create_directories(dst);
  for (const auto& e : fs::directory_iterator(src)) {
    std::string name = e.path().filename().string();
    if (e.is_directory() && name != "info" && name != "mon_data") continue;
    fs::copy(e.path(), dst / name, fs::copy_options::recursive);
  }
  return dst.string();
}

// A proc root holding cpuinfo (vendor) and optionally mounts.
inline std::string make_proc(const slo::test::TempDir& tmp, const std::string& vendor_id,
                             const std::string& mounts = "") {
  tmp.write("proc/cpuinfo", "processor\t: 0\nvendor_id\t: " + vendor_id + "\ncpu family\t: 6\n");
  if (!mounts.empty()) tmp.write("proc/mounts", mounts);
  return tmp.sub("proc");
}

inline cg::DirFd open_fake_root(const std::string& path) {
  auto r = open_resctrl_root(path, RootCheck::trust_contents);
  if (!r.ok()) throw std::runtime_error(r.status.describe());
  return std::move(r.value.dir);
}

// FixtureResctrlFs plus narrow fault hooks.
class FaultFs : public FixtureResctrlFs {
 public:
  using FixtureResctrlFs::FixtureResctrlFs;
  // Groups allowed before mkdir returns ENOSPC (counting the groups already present that are not info/...).
  int closid_budget = -1;
  // write_file to a path ending in this suffix fails with this errno (0 = off).
  std::string fail_write_suffix;
  int fail_write_errno = 0;
  // TIDs whose write(2) returns the mapped errno.
  std::map<std::string, int> tid_errno;  // "4242\n" → ESRCH

  cg::Status make_group(const std::string& name) override {
    if (closid_budget >= 0) {
      auto g = list_groups();
      if (g.ok() && static_cast<int>(g.value.size()) >= closid_budget)
        return cg::Status::from_errno(ENOSPC, root().label() + "/" + name);
    }
    return FixtureResctrlFs::make_group(name);
  }
  cg::Status write_file(const std::string& rel, std::string_view value) override {
    if (fail_write_errno && rel.size() >= fail_write_suffix.size() &&
        rel.compare(rel.size() - fail_write_suffix.size(), fail_write_suffix.size(), fail_write_suffix) == 0)
      return cg::Status::from_errno(fail_write_errno, root().label() + "/" + rel, std::string(value));
    return FixtureResctrlFs::write_file(rel, value);
  }
  int write_fd(int fd, std::string_view data) override {
    if (auto it = tid_errno.find(std::string(data)); it != tid_errno.end()) return it->second;
    return FixtureResctrlFs::write_fd(fd, data);
  }
};

}  // namespace slo::rdt::testing
