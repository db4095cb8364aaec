// A node for the Cgroups CR tests, built from the real fixture cgroup trees (copied into a TempDir):
//  - v1 cgroupfs: elastic-docker-v1-cgroupfs (separate cpu/cpuacct/cpuset/memory/blkio mounts); pod and container
//    cgroups are made in kubelet's cgroupfs layout with the fixture container's real file set;
//  - v1 systemd: elastic-amzn2-eks-v1-systemd-containerd as it is (kubepods.slice, cpu,cpuacct co-mount, the real
//    pod 7a96c459… with container 1d3d308a…), more pods added with that container's files;
//  - v2 (cgroupfs or systemd): elastic-docker2-v2-unified's session scope file set under a kubepods tree, plus the
//    files the fixture's controller set lacks (io.max, cpuset.cpus) as a kernel with io and cpuset enabled has them.
// Knob values of new cgroups are set as kubelet would (CFS quota = limit × period, memory limit); the CPU burst file
// is added everywhere (a 5.14+ kernel) so CPU burst has something to do in the ownership test.
// sysfs: sysfs/nri-desktop-20cpu (CPUs 0-19; linked, only read) plus two block devices: vda 253:0 (a disk) and vda1 253:1 (a
// partition).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/runtime/agent.h"
#include "cgroups/cgroup_fs.h"
#include "tests/common/support.h"

namespace slo::test {

enum class Tree { v1_cgroupfs, v1_systemd, v2_cgroupfs, v2_systemd };
std::string to_string(Tree t);

struct CrPod {
  struct Ctr {
    std::string name, id;
    std::optional<int64_t> cpu_millis;    // limit
    std::optional<int64_t> memory_bytes;  // limit
  };
  std::string ns = "shop", name, uid;
  std::map<std::string, std::string> labels;
  std::vector<std::string> owners;  // "ReplicaSet/web-5d8f"
  std::vector<Ctr> containers;
  bool started = true;  // false: no containerID and no container cgroups yet
};

class CrWorld {
 public:
  explicit CrWorld(Tree t);

  Tree tree() const { return tree_; }
  bool v2() const { return tree_ == Tree::v2_cgroupfs || tree_ == Tree::v2_systemd; }
  bool systemd() const { return tree_ == Tree::v1_systemd || tree_ == Tree::v2_systemd; }
  const std::string& root() const { return root_; }
  const TempDir& tmp() const { return tmp_; }

  // Adds the pod's cgroups (Burstable tier) and writes the pods file.
  void add_pod(const CrPod& p);
  void start_pod(const std::string& uid);  // gives a not-yet-started pod its containers
  const std::vector<CrPod>& pods() const { return pods_; }
  const CrPod& pod(const std::string& name) const;
  // A sysfs root below tmp/rel: the topology of sysfs/nri-desktop-20cpu (linked, read-only) and the two block
  // devices. Returns its path.
  static std::string make_sysfs(const TempDir& tmp, const std::string& rel);
  // The real pod and container of the amzn2 fixture (v1 systemd only; others get the same names and IDs).
  static CrPod fixture_pod();

  std::string pod_cgroup(const CrPod& p) const;
  std::string ctr_cgroup(const CrPod& p, const std::string& ctr) const;

  void put_cr(const std::string& name, const std::string& yaml) const;
  void remove_cr(const std::string& name) const;
  void write_config(const std::vector<std::string>& controllers, const std::string& strategy = "") const;
  agent::AgentOptions options() const;

  // Knob values as the cgroup library reads them (spelling-independent), nullopt when unreadable.
  std::optional<cg::KnobValue> knob(const std::string& cgroup, cg::Knob k, const std::string& dev = "") const;
  std::optional<int64_t> int_knob(const std::string& cgroup, cg::Knob k, const std::string& dev = "") const;
  std::string cpus(const std::string& cgroup) const;
  // Raw file text (first line) of a knob file, e.g. "cpu.cfs_quota_us" on v1 or "cpu.max" on v2.
  std::string raw(const std::string& cgroup, const std::string& file) const;

 private:
  std::string ctrl_dir(const std::string& file) const;  // hierarchy dir holding the file ("" on v2)
  void make_cgroup(const std::string& cgroup, std::optional<int64_t> quota_us, std::optional<int64_t> mem) const;
  void write_pods() const;

  Tree tree_;
  TempDir tmp_;
  std::string root_;
  std::map<std::string, std::string> templates_;  // hierarchy dir name ("" on v2) → template cgroup dir
  std::vector<CrPod> pods_;
};

}  // namespace slo::test
