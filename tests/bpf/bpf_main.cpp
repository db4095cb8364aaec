// main() of bpf_test: the whole executable is a meson SKIP (77) where the kernel or the build truly lacks what the
// tests need, with the reason printed; otherwise Catch2 runs every case.
#define CATCH_CONFIG_RUNNER
#include <sys/utsname.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "bpf/sched_probe.h"
#include "tests/bpf/cpu_test_cgroups.h"

namespace {

std::string kernel_release() {
  struct utsname u;
  return ::uname(&u) == 0 ? u.release : "?";
}

}  // namespace

int main(int argc, char** argv) {
  if (!slo::bpf::built_with_bpf()) {
    std::printf("SKIP: built without BPF support (-Dbpf=disabled or libbpf/clang/bpftool missing)\n");
    return 77;
  }
  if (::geteuid() != 0) {
    std::printf("SKIP: loading BPF programs and creating cgroups needs root\n");
    return 77;
  }
  if (::access("/sys/kernel/btf/vmlinux", R_OK) != 0) {
    const int err = errno;
    std::printf("SKIP: kernel %s without BTF (/sys/kernel/btf/vmlinux: %s): CO-RE programs cannot load\n",
                kernel_release().c_str(), std::strerror(err));
    return 77;
  }
  // v1/hybrid: the cpu controller's hierarchy; pure cgroup2: the unified tree with cpu delegated.
  if (auto why = slo::test::CpuTestCgroups::unavailable_reason()) {
    std::printf("SKIP: %s\n", why->c_str());
    return 77;
  }
  return Catch::Session().run(argc, argv);
}
