// Signal-safe cleanup for the CPU burst benchmark: SIGINT/SIGTERM only set a flag (the handler does nothing else, so
// it is async-signal-safe); the benchmark's loops poll it, unwind, and the main path then kills every process left
// in the bench subtree and removes the subtree bottom-up. A second signal during cleanup is ignored by design (the
// flag is already set); a third one kills the process the default way.
#pragma once

#include <stdexcept>
#include <string>

#include "cgroups/cgroup_fs.h"

namespace slo::bench::cpu_burst {

struct Interrupted : std::runtime_error {
  Interrupted() : std::runtime_error("interrupted by a signal") {}
};

// Installs the SIGINT/SIGTERM handlers (no SA_RESTART: blocking calls return EINTR and the loops look at the flag).
void install_interrupt_handlers();
// Forked workloads call this first: they must die on the terminal's Ctrl-C like any process, not set our flag.
void reset_interrupt_handlers_in_child();
bool interrupted();
int interrupt_signal();  // the signal that set the flag (0 = none)
inline void throw_if_interrupted() {
  if (interrupted()) throw Interrupted();
}

// SIGKILLs every process in `base` and below (all mounted controllers), waits for them to leave, then removes the
// cgroups bottom-up. Returns a description of what could not be removed (empty = subtree gone).
std::string remove_subtree(const cg::CgroupFs& fs, const std::string& base);

}  // namespace slo::bench::cpu_burst
