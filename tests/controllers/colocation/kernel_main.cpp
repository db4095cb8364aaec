// Catch2 main for the colocation kernel suite: exit 77 (meson SKIP) with a reason when there is no usable cgroup
// hierarchy or we are not root, rather than Catch2's exit 4 for "everything skipped".
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
