// `sloagent inspect rdt`: registered with the command registry; the work is inspect_rdt() (inspect.h).
#include <cstdio>
#include <iostream>

#include "agent/commands/command.h"
#include "agent/decide/rdt/inspect.h"

namespace slo::agent::rdtctl {
namespace {

int run_inspect_rdt(const std::vector<std::string>& args) {
  ArgParser p(args);
  if (!p.parse({"--resctrl-root", "--proc-root", "--config"}, {}) || !p.positional().empty()) {
    std::fprintf(stderr, "sloagent inspect rdt: %s\n",
                 p.error().empty() ? "unexpected argument" : p.error().c_str());
    return kExitUsage;
  }
  InspectOptions o;
  o.resctrl_root = p.get("--resctrl-root", o.resctrl_root);
  o.proc_root = p.get("--proc-root", o.proc_root);
  o.config_file = p.get("--config");
  auto r = inspect_rdt(o);
  if (!r.error.empty()) {
    std::fprintf(stderr, "sloagent inspect rdt: %s\n", r.error.c_str());
    return kExitError;
  }
  std::cout << r.report.dump(2) << "\n";
  return kExitOk;  // also when resctrl is absent: {"supported": false, ...} is a valid answer
}

CommandRegistrar registrar{Command{
    "inspect rdt",
    "resctrl capabilities and the schemata each class group would get (JSON)",
    "Usage: sloagent inspect rdt [--resctrl-root DIR] [--proc-root DIR] [--config FILE]\n\n"
    "  --resctrl-root DIR  resctrl mount (default /sys/fs/resctrl); a copied tree with info/ is accepted\n"
    "  --proc-root DIR     proc root for cpuinfo (vendor) and mounts (mba_MBps) (default /proc)\n"
    "  --config FILE       JSON with resctrlQOSStrategy at top level or under clusterStrategy\n\n"
    "Prints {\"supported\": false, \"reason\": ...} and exits 0 where resctrl is absent.",
    run_inspect_rdt}};

}  // namespace
}  // namespace slo::agent::rdtctl
