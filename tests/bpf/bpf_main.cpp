// main() of bpf_test: the whole executable is a meson SKIP (77) where the kernel or the build truly lacks what the
// tests need, with the reason printed; otherwise Catch2 runs every case.
#define CATCH_CONFIG_RUNNER
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>

#include "bpf/sched_probe.h"

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
    std::printf("SKIP: kernel without BTF (/sys/kernel/btf/vmlinux): CO-RE programs cannot load\n");
    return 77;
  }
  if (::access("/sys/fs/cgroup/cpu/cgroup.procs", W_OK) != 0) {
    std::printf("SKIP: no v1 cpu hierarchy at /sys/fs/cgroup/cpu (these tests attribute in cgroup v1)\n");
    return 77;
  }
  return Catch::Session().run(argc, argv);
}
