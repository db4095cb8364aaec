#include "tests/cgroups/fake_tree.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace fs = std::filesystem;

namespace slo::test {
namespace {

void put(const std::string& path, const std::string& content) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream f(path, std::ios::trunc | std::ios::binary);
  f << content;
}

const char* kV1[] = {"cpu", "cpuacct", "cpuset", "memory", "blkio", "pids"};

}  // namespace

FakeTree::FakeTree(const TempDir& tmp, FakeKind kind, std::string name) : tmp_(tmp), kind_(kind) {
  root_ = tmp.sub(name);
  fs::create_directories(root_);
  if (kind == FakeKind::v2) {
    put(root_ + "/cgroup.controllers", "cpuset cpu io memory pids\n");
    put(root_ + "/cgroup.subtree_control", "cpuset cpu io memory pids\n");
    put(root_ + "/cgroup.procs", "1\n");
    put(root_ + "/cpu.stat", "usage_usec 100\nuser_usec 60\nsystem_usec 40\n");
    return;
  }
  if (kind == FakeKind::v1_comounted) {
    fs::create_directories(root_ + "/cpu,cpuacct");
    fs::create_directory_symlink("cpu,cpuacct", root_ + "/cpu");
    fs::create_directory_symlink("cpu,cpuacct", root_ + "/cpuacct");
  }
  for (const char* c : kV1) {
    if (kind == FakeKind::v1_comounted && (std::string(c) == "cpu" || std::string(c) == "cpuacct")) continue;
    fs::create_directories(root_ + "/" + c);
  }
  fs::create_directories(root_ + "/systemd");  // name=systemd: not a resource controller, must be ignored
  if (kind == FakeKind::hybrid) put(root_ + "/unified/cgroup.procs", "1\n");
  for (const char* c : kV1) default_files(c, controller_dir(c), true);
}

std::string FakeTree::controller_dir(const std::string& controller) const {
  if (kind_ == FakeKind::v2) return root_;
  if (kind_ == FakeKind::v1_comounted && (controller == "cpu" || controller == "cpuacct")) return root_ + "/cpu,cpuacct";
  return root_ + "/" + controller;
}

void FakeTree::default_files(const std::string& c, const std::string& dir, bool top) const {
  if (kind_ == FakeKind::v2) {
    put(dir + "/cgroup.procs", "");
    put(dir + "/cgroup.threads", "");
    put(dir + "/cgroup.controllers", "cpuset cpu io memory pids\n");
    put(dir + "/cpu.max", "max 100000\n");
    put(dir + "/cpu.max.burst", "0\n");
    put(dir + "/cpu.weight", "100\n");
    put(dir + "/cpu.stat",
        "usage_usec 5000\nuser_usec 3000\nsystem_usec 2000\nnr_periods 10\nnr_throttled 2\nthrottled_usec 1500\n"
        "nr_bursts 1\nburst_usec 300\n");
    put(dir + "/cpuset.cpus", "\n");
    put(dir + "/cpuset.mems", "\n");
    put(dir + "/memory.max", "max\n");
    put(dir + "/memory.high", "max\n");
    put(dir + "/memory.min", "0\n");
    put(dir + "/memory.low", "0\n");
    put(dir + "/memory.current", "1048576\n");
    put(dir + "/memory.stat", "anon 524288\nfile 524288\ninactive_file 262144\nactive_file 262144\n");
    put(dir + "/cpu.pressure", "some avg10=1.50 avg60=0.20 avg300=0.00 total=12345\n"
                               "full avg10=0.00 avg60=0.00 avg300=0.00 total=100\n");
    put(dir + "/memory.pressure", "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"
                                  "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n");
    put(dir + "/io.max", "");
    return;
  }
  put(dir + "/cgroup.procs", "");
  put(dir + "/tasks", "");
  if (c == "cpu") {
    put(dir + "/cpu.cfs_quota_us", "-1\n");
    put(dir + "/cpu.cfs_period_us", "100000\n");
    put(dir + "/cpu.cfs_burst_us", "0\n");
    put(dir + "/cpu.shares", "1024\n");
    put(dir + "/cpu.stat", "nr_periods 7\nnr_throttled 3\nthrottled_time 4000000\nnr_bursts 0\nburst_time 0\n");
  } else if (c == "cpuacct") {
    put(dir + "/cpuacct.usage", "123456789\n");
  } else if (c == "cpuset") {
    put(dir + "/cpuset.cpus", "0-7\n");
    (void)top;
    put(dir + "/cpuset.mems", "0\n");
  } else if (c == "memory") {
    put(dir + "/memory.limit_in_bytes", "9223372036854771712\n");
    put(dir + "/memory.usage_in_bytes", "2097152\n");
    put(dir + "/memory.stat", "cache 1048576\nrss 1048576\ninactive_file 4096\ntotal_inactive_file 524288\n");
  } else if (c == "blkio") {
    for (const char* f : {"blkio.throttle.read_bps_device", "blkio.throttle.write_bps_device",
                          "blkio.throttle.read_iops_device", "blkio.throttle.write_iops_device"})
      put(dir + "/" + f, "");
  }
}

void FakeTree::add_cgroup(const std::string& rel) const {
  std::string acc;
  std::stringstream ss(rel);
  std::string part;
  while (std::getline(ss, part, '/')) {
    acc = acc.empty() ? part : acc + "/" + part;
    if (kind_ == FakeKind::v2) {
      if (!fs::exists(root_ + "/" + acc)) default_files("", root_ + "/" + acc, false);
      continue;
    }
    for (const char* c : kV1) {
      std::string d = controller_dir(c) + "/" + acc;
      if (!fs::exists(d + "/cgroup.procs") || (std::string(c) == "cpuacct" && !fs::exists(d + "/cpuacct.usage")))
        default_files(c, d, false);
    }
  }
}

void FakeTree::write(const std::string& controller, const std::string& rel, const std::string& file,
                     const std::string& content) const {
  put(controller_dir(controller) + (rel.empty() ? "" : "/" + rel) + "/" + file, content);
}

std::string FakeTree::read(const std::string& controller, const std::string& rel, const std::string& file) const {
  std::ifstream f(controller_dir(controller) + (rel.empty() ? "" : "/" + rel) + "/" + file, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// Spelled out literally (not via KubeletLayout) so the layout tests compare against an independent source.
std::string FakeTree::add_pod(cg::Driver d, cg::QosTier t, const std::string& uid, cg::Runtime r,
                              const std::string& id) const {
  std::string tier = t == cg::QosTier::burstable ? "burstable" : t == cg::QosTier::besteffort ? "besteffort" : "";
  std::string path;
  if (d == cg::Driver::cgroupfs) {
    path = "kubepods" + (tier.empty() ? "" : "/" + tier) + "/pod" + uid + "/" + (r == cg::Runtime::crio ? "crio-" : "") + id;
  } else {
    std::string u = uid;
    for (char& ch : u)
      if (ch == '-') ch = '_';
    std::string prefix = r == cg::Runtime::crio ? "crio-" : r == cg::Runtime::docker ? "docker-" : "cri-containerd-";
    path = "kubepods.slice" + (tier.empty() ? "" : "/kubepods-" + tier + ".slice") + "/kubepods" +
           (tier.empty() ? "" : "-" + tier) + "-pod" + u + ".slice/" + prefix + id + ".scope";
  }
  add_cgroup(path);
  return path;
}

}  // namespace slo::test
