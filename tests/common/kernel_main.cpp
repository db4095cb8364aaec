// Catch2 main for the kernel-suite executables: skip the whole executable (exit 77, meson SKIP) with the reason when
// this machine cannot run it (not root, no usable cgroup hierarchy), instead of failing or Catch2's exit 4 for
// "everything skipped".
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
