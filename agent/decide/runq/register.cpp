// Registration in its own object file: the agent links this library whole (so the registrar runs), while tests
// link the core library and construct the controller directly.
#include "agent/decide/runq/runq_latency_controller.h"

namespace slo::agent::runq {
SLO_REGISTER_CONTROLLER(RunqLatencyController, 15);
}
