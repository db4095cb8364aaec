// Registration of the colocation controllers, in decide order (controller.h).
#include "agent/decide/colocation/batch_resources_controller.h"
#include "agent/decide/colocation/be_suppression_controller.h"
#include "agent/decide/colocation/reclaimed_controller.h"

namespace slo::colocation {
SLO_REGISTER_CONTROLLER(BeSuppressionController, 20);
SLO_REGISTER_CONTROLLER(BatchResourcesController, 45);
SLO_REGISTER_CONTROLLER(ReclaimedController, 60);
}  // namespace slo::colocation
