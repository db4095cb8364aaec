// Registration in its own object file: the agent links this library whole (so the registrar runs), while unit
// tests link the core library and construct the controller directly.
#include "agent/decide/cpuset/cpuset_controller.h"

namespace slo::cpuset {
SLO_REGISTER_CONTROLLER(CpusetController, 30);
}
