// Kernel tests of the memory and io knobs through OrderedWriter on the real hierarchy (root): v1 memory.limit_in_bytes
// and blkio.throttle.*_device here; v2 memory.max, memory.high and io.max in the cgroup2 VM (suite kernel-v2).
// Neither kernel orders these knobs between parent and child (a child may ask for more than its parent; the parent's
// limit still applies), so the cases check the translation to each kernel's files, idempotent re-application and the
// way back to "unlimited", reading the files directly, not through the library under test.
#include <catch2/catch.hpp>

#include <dirent.h>

#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "cgroups/cgroup_fs.h"
#include "cgroups/ordered_writer.h"
#include "tests/common/kernel_cgroup.h"

using namespace slo::cg;
using slo::test::KernelCgroup;

namespace {

constexpr int64_t kMiB = 1 << 20;

CgroupFs open_fs(const KernelCgroup& k) {
  auto o = CgroupFs::open(k.root());
  REQUIRE(o.ok());
  return std::move(o.value);
}

KnobWrite w(const std::string& cg, Knob kn, int64_t v, std::string device = {}) {
  return KnobWrite{KnobRef{cg, kn, std::move(device)}, KnobValue{v}};
}

void require_all_ok(const std::vector<WriteOutcome>& out) {
  for (const auto& o : out) {
    INFO(o.write.ref.to_string() << " -> " << o.status.describe());
    CHECK(o.status.ok());
  }
}

std::string read_text(const std::string& path) {
  std::ifstream f(path);
  std::string s, line;
  while (std::getline(f, line)) s += line + "\n";
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

// "MAJ:MIN" of a whole disk that accepts throttling rules: a real disk when there is one (vda here, the null_blk
// device the VM loads), else a loop device. nullopt when /sys/block lists none.
std::optional<std::string> block_device() {
  std::vector<std::string> preferred, fallback;
  if (DIR* d = ::opendir("/sys/block")) {
    while (auto* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n == "." || n == "..") continue;
      std::string dev = read_text("/sys/block/" + n + "/dev");
      if (dev.empty()) continue;
      bool virtual_dev = n.rfind("loop", 0) == 0 || n.rfind("zram", 0) == 0 || n.rfind("ram", 0) == 0;
      (virtual_dev ? fallback : preferred).push_back(dev);
    }
    ::closedir(d);
  }
  if (!preferred.empty()) return preferred.front();
  if (!fallback.empty()) return fallback.front();
  return std::nullopt;
}

// The line of io.max / blkio.throttle.*_device that names the device ("" when there is none).
std::string line_for(const std::string& text, const std::string& device) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string line = text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    if (line.rfind(device + " ", 0) == 0) return line;
    if (nl == std::string::npos) break;
    pos = nl + 1;
  }
  return "";
}

}  // namespace

TEST_CASE("memory limit (and v2 memory.high) through the ordered writer, child above parent, back to unlimited",
          "[kernel]") {
  KernelCgroup k;
  if (!k.has_controller("memory")) {
    WARN("SKIP: no memory controller in this hierarchy");
    return;
  }
  k.mkdir("pod/c");
  auto fs = open_fs(k);
  const std::string pod = k.rel("pod"), c = k.rel("pod/c");
  const char* limit_file = k.v2() ? "memory.max" : "memory.limit_in_bytes";

  std::vector<KnobWrite> batch{w(c, Knob::memory_limit, 64 * kMiB), w(pod, Knob::memory_limit, 128 * kMiB)};
  if (k.v2()) {
    batch.push_back(w(c, Knob::memory_high, 48 * kMiB));
    batch.push_back(w(pod, Knob::memory_high, 96 * kMiB));
  } else {
    CHECK_FALSE(fs.supports(Knob::memory_high));  // v2 only
  }
  OrderedWriter writer(fs);
  require_all_ok(writer.apply(batch));
  CHECK(k.read_file("memory", "pod/c", limit_file) == std::to_string(64 * kMiB));
  CHECK(k.read_file("memory", "pod", limit_file) == std::to_string(128 * kMiB));
  if (k.v2()) {
    CHECK(k.read_file("memory", "pod/c", "memory.high") == std::to_string(48 * kMiB));
    CHECK(k.read_file("memory", "pod", "memory.high") == std::to_string(96 * kMiB));
  }
  // Applied again: every value already holds, nothing is written.
  for (const auto& o : writer.apply(batch)) {
    INFO(o.write.ref.to_string());
    CHECK(o.status.ok());
    CHECK_FALSE(o.changed);
  }

  // Neither kernel refuses a child limit above its parent's (the parent's still applies to the whole subtree), and
  // v2 takes memory.high above memory.max (max wins): no write order is needed here, unlike cpu.max or cpusets.
  CHECK(k.write_file("memory", "pod/c", limit_file, std::to_string(256 * kMiB)) == 0);
  CHECK(k.read_file("memory", "pod/c", limit_file) == std::to_string(256 * kMiB));
  if (k.v2()) {
    CHECK(k.write_file("memory", "pod/c", "memory.high", std::to_string(512 * kMiB)) == 0);
    CHECK(k.read_file("memory", "pod/c", "memory.max") == std::to_string(256 * kMiB));
  }

  std::vector<KnobWrite> unlimited{w(pod, Knob::memory_limit, -1), w(c, Knob::memory_limit, -1)};
  if (k.v2()) unlimited.push_back(w(c, Knob::memory_high, -1));
  require_all_ok(writer.apply(unlimited));
  auto back = fs.read(KnobRef{c, Knob::memory_limit, {}});
  REQUIRE(back.ok());
  CHECK(as_int(back.value) == -1);
  if (k.v2()) {
    CHECK(k.read_file("memory", "pod/c", "memory.max") == "max");
    CHECK(k.read_file("memory", "pod/c", "memory.high") == "max");
  }
}

TEST_CASE("io throttles (v1 blkio.throttle.*, v2 io.max) through the ordered writer, per device", "[kernel]") {
  KernelCgroup k;
  if (!k.has_controller("blkio")) {
    WARN("SKIP: no blkio/io controller in this hierarchy");
    return;
  }
  auto dev = block_device();
  if (!dev) {
    WARN("SKIP: no block device in /sys/block to throttle");
    return;
  }
  INFO("device " << *dev);
  k.mkdir("pod/c");
  auto fs = open_fs(k);
  const std::string pod = k.rel("pod"), c = k.rel("pod/c");

  // The container asks for more read bandwidth than its pod: accepted by both kernels (the pod's rule still
  // applies to it).
  std::vector<KnobWrite> batch{w(pod, Knob::io_read_bps, 2 * kMiB, *dev), w(c, Knob::io_read_bps, 4 * kMiB, *dev),
                               w(c, Knob::io_write_iops, 100, *dev)};
  OrderedWriter writer(fs);
  require_all_ok(writer.apply(batch));
  if (k.v2()) {
    CHECK(line_for(k.read_file("blkio", "pod/c", "io.max"), *dev) ==
          *dev + " rbps=" + std::to_string(4 * kMiB) + " wbps=max riops=max wiops=100");
    CHECK(line_for(k.read_file("blkio", "pod", "io.max"), *dev) ==
          *dev + " rbps=" + std::to_string(2 * kMiB) + " wbps=max riops=max wiops=max");
  } else {
    CHECK(line_for(k.read_file("blkio", "pod/c", "blkio.throttle.read_bps_device"), *dev) ==
          *dev + " " + std::to_string(4 * kMiB));
    CHECK(line_for(k.read_file("blkio", "pod/c", "blkio.throttle.write_iops_device"), *dev) == *dev + " 100");
    CHECK(line_for(k.read_file("blkio", "pod", "blkio.throttle.read_bps_device"), *dev) ==
          *dev + " " + std::to_string(2 * kMiB));
  }
  for (const auto& o : writer.apply(batch)) {
    INFO(o.write.ref.to_string());
    CHECK(o.status.ok());
    CHECK_FALSE(o.changed);
  }

  // Unlimited again: v2 drops the device's line once every field is max, v1 drops the rule written as 0.
  require_all_ok(writer.apply({w(c, Knob::io_read_bps, -1, *dev), w(c, Knob::io_write_iops, -1, *dev),
                               w(pod, Knob::io_read_bps, -1, *dev)}));
  if (k.v2()) {
    CHECK(line_for(k.read_file("blkio", "pod/c", "io.max"), *dev).empty());
    CHECK(line_for(k.read_file("blkio", "pod", "io.max"), *dev).empty());
  } else {
    CHECK(line_for(k.read_file("blkio", "pod/c", "blkio.throttle.read_bps_device"), *dev).empty());
    CHECK(line_for(k.read_file("blkio", "pod/c", "blkio.throttle.write_iops_device"), *dev).empty());
  }
  auto back = fs.read(KnobRef{c, Knob::io_read_bps, *dev});
  REQUIRE(back.ok());
  CHECK(as_int(back.value) == -1);
}
