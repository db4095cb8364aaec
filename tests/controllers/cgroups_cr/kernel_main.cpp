// Catch2 main for the Cgroups CR kernel test: exit 77 (meson SKIP) with the reason when this machine cannot run it
// (not root, no usable cgroup hierarchy).
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cstdio>

#include "tests/common/kernel_cgroup.h"

int main(int argc, char** argv) {
  if (auto why = slo::test::KernelCgroup::unavailable_reason()) {
    std::fprintf(stderr, "SKIP: %s\n", why->c_str());
    return 77;
  }
  return Catch::Session().run(argc, argv);
}
