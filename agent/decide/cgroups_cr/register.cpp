// Registration in its own object file: the agent links this library whole (so the registrar runs); tests that
// construct the controller directly can link the core library without it.
#include "agent/decide/cgroups_cr/cgroups_cr_controller.h"

namespace slo::agent::cgroups_cr {
SLO_REGISTER_CONTROLLER(CgroupsCrController, 10);
}
