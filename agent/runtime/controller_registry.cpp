// The controller registry behind SLO_REGISTER_CONTROLLER. Registrations run before main(), in link order, so the
// list is kept sorted by decide order here rather than relying on static-initialisation order.
#include <algorithm>

#include "agent/runtime/controller.h"

namespace slo::agent {

std::vector<ControllerRegistration>& controller_registry() {
  static std::vector<ControllerRegistration> registry;
  return registry;
}

ControllerRegistrar::ControllerRegistrar(std::string name, int order, ControllerFactory make) {
  auto& reg = controller_registry();
  reg.push_back(ControllerRegistration{std::move(name), order, std::move(make)});
  std::stable_sort(reg.begin(), reg.end(), [](const auto& a, const auto& b) {
    return a.order != b.order ? a.order < b.order : a.name < b.name;
  });
}

}  // namespace slo::agent
