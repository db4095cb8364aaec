#include "agent/observe/pod_source_registry.h"

namespace slo::agent {

std::vector<PodSourceRegistration>& pod_source_registry() {
  static std::vector<PodSourceRegistration> registry;
  return registry;
}

PodSourceRegistrar::PodSourceRegistrar(PodSourceRegistration r) { pod_source_registry().push_back(std::move(r)); }

}  // namespace slo::agent
