// Registration in its own object file: the agent links this library whole (so the registrar runs), while unit
// tests link it normally and construct the controller directly without the runtime's registry.
#include "agent/decide/cpu_burst/cpu_burst_controller.h"

namespace slo::agent::cpu_burst {
SLO_REGISTER_CONTROLLER(CpuBurstController, 40);
}
