// `sloagent restore`: puts every knob the agent journaled back to its original value and empties the journal;
// with a resctrl root, also removes the resctrl groups the agent created (their tasks return to the root group).
#include <cstdio>

#include "agent/act/executor.h"
#include "agent/act/journal.h"
#include "agent/commands/command.h"
#include "agent/runtime/log.h"
#include "cgroups/cgroup_fs.h"
#include "rdt/root.h"
#include "rdt/writer.h"
#include "slo_config.h"

namespace slo::agent {
namespace {

const char* kUsage =
    "Usage: sloagent restore --state-dir DIR [--cgroup-root DIR] [--resctrl-root DIR]\n\n"
    "Writes back the original value of every knob in DIR/journal.json (cgroups below --cgroup-root, default\n"
    "/sys/fs/cgroup), removes what is back or gone from the journal, and removes the agent's resctrl groups below\n"
    "--resctrl-root (default /sys/fs/resctrl; skipped when absent or not a resctrl mount). Prints a JSON summary.\n"
    "Exit 0 when everything is back, 1 otherwise. Refuses to run while an agent holds the state dir.";

int restore(const std::vector<std::string>& args) {
  ArgParser p(args);
  if (!p.parse({"--state-dir", "--cgroup-root", "--resctrl-root"}, {}) || !p.positional().empty() ||
      !p.has("--state-dir")) {
    std::fprintf(stderr, "sloagent restore: %s\n%s\n",
                 p.error().empty() ? "--state-dir is required" : p.error().c_str(), kUsage);
    return kExitUsage;
  }
  Journal journal(p.get("--state-dir"));
  std::string err;
  if (!journal.lock(err)) {
    std::fprintf(stderr, "sloagent restore: %s (stop it first, or use `sloctl restore` against it)\n", err.c_str());
    return kExitError;
  }
  auto lr = journal.load();
  if (!lr.ok) {
    std::fprintf(stderr, "sloagent restore: %s\n", lr.message.c_str());
    return kExitError;
  }
  if (lr.quarantined) std::fprintf(stderr, "sloagent restore: %s\n", lr.message.c_str());
  nlohmann::json out = {{"journal", journal.path()}, {"entries", journal.entries().size()}};
  bool ok = !lr.quarantined;
  if (!journal.empty()) {
    auto fs = cg::CgroupFs::open(p.get("--cgroup-root", "/sys/fs/cgroup"));
    if (!fs.ok()) {
      std::fprintf(stderr, "sloagent restore: cgroup root: %s\n", fs.status.describe().c_str());
      return kExitError;
    }
    auto r = restore_journal(fs.value, journal);
    ok = ok && r["failed"].empty();
    out["cgroups"] = r;
  } else {
    out["cgroups"] = {{"restored", 0}, {"gone", 0}, {"failed", nlohmann::json::array()}};
  }
#if SLO_HAVE_RDT
  {
    std::string root = p.get("--resctrl-root", "/sys/fs/resctrl");
    // No resctrl mount at the root (directory missing because the kernel lacks resctrl, or an unmounted mount
    // point) is the normal case on most hosts: nothing of ours can exist there, so it is not a failure, whether the
    // root is the default or given explicitly. Failures inside a real mount (lock, rmdir) still count.
    if (auto mounted = rdt::open_resctrl_root(root, rdt::RootCheck::mount_magic); !mounted.ok()) {
      out["resctrl"] = {{"skipped", mounted.status.describe()}};
    } else if (auto r = rdt::remove_owned_groups(root); r.ok()) {
      out["resctrl"] = {{"removed", r.value}};
    } else if (r.gone()) {
      out["resctrl"] = {{"skipped", r.status.describe()}};
    } else {
      out["resctrl"] = {{"error", r.status.describe()}};
      ok = false;
    }
  }
#endif
  std::printf("%s\n", out.dump(2).c_str());
  return ok ? kExitOk : kExitError;
}

CommandRegistrar reg{Command{"restore", "put every knob the agent changed back and empty the journal", kUsage, restore}};

}  // namespace
}  // namespace slo::agent
