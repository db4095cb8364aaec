// A synthetic node for unit tests and benchmarks: a cgroup tree in kubelet (cgroupfs driver) layout written as
// plain files in a directory (v1: one directory per controller; v2: one unified tree), plus the matching PodList.
// CgroupFs classifies such a directory from its contents, so the agent runs on it unchanged.
#pragma once

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace slo::test {

class FakeNode {
 public:
  struct Container {
    std::string name, id;
  };
  struct Pod {
    std::string ns, name, uid, qos;  // qos: Guaranteed / Burstable / BestEffort
    std::vector<Container> containers;
    std::string cpu_request = "500m", cpu_limit = "1";
  };

  FakeNode(std::string root, bool v2, std::string parent = "")
      : root_(std::move(root)), v2_(v2), parent_(std::move(parent)) {
    std::filesystem::create_directories(root_);
    if (v2_) {
      put("", "cgroup.controllers", "cpuset cpu io memory pids\n");
      put("", "cgroup.subtree_control", "cpuset cpu io memory pids\n");
      cgroup_files("");
    } else {
      for (auto c : {"cpu", "cpuacct", "cpuset", "memory", "blkio", "pids"}) std::filesystem::create_directories(root_ + "/" + c);
      cgroup_files("");
    }
    mk(kubepods());
    mk(kubepods() + "/burstable");
    mk(kubepods() + "/besteffort");
  }

  const std::string& root() const { return root_; }
  bool v2() const { return v2_; }
  std::string kubepods() const { return parent_.empty() ? "kubepods" : parent_ + "/kubepods"; }

  std::string pod_cgroup(const Pod& p) const {
    std::string tier = p.qos == "Guaranteed" ? "" : p.qos == "Burstable" ? "/burstable" : "/besteffort";
    return kubepods() + tier + "/pod" + p.uid;
  }

  void add_pod(const Pod& p) {
    pods_.push_back(p);
    mk(pod_cgroup(p));
    for (const auto& c : p.containers) mk(pod_cgroup(p) + "/" + c.id);
  }
  void remove_pod(const std::string& uid) {
    for (auto it = pods_.begin(); it != pods_.end(); ++it)
      if (it->uid == uid) {
        for (const auto& d : dirs(pod_cgroup(*it))) std::filesystem::remove_all(d);
        pods_.erase(it);
        return;
      }
  }
  const std::vector<Pod>& pods() const { return pods_; }

  // Standard synthetic population: n pods × 2 containers, alternating Burstable (LS) and BestEffort (BE).
  void populate(int n) {
    for (int i = 0; i < n; ++i) {
      Pod p;
      p.ns = "default";
      p.name = "pod-" + std::to_string(i);
      char uid[64];
      std::snprintf(uid, sizeof uid, "0000%04x-aaaa-bbbb-cccc-%012d", i, i);
      p.uid = uid;
      p.qos = i % 2 ? "BestEffort" : "Burstable";
      for (int k = 0; k < 2; ++k) {
        char id[80];
        std::snprintf(id, sizeof id, "%056d%08d", i, k);
        p.containers.push_back({"c" + std::to_string(k), id});
      }
      add_pod(p);
    }
  }

  nlohmann::json pod_list() const {
    nlohmann::json items = nlohmann::json::array();
    for (const auto& p : pods_) {
      nlohmann::json ctrs = nlohmann::json::array(), statuses = nlohmann::json::array();
      for (const auto& c : p.containers) {
        nlohmann::json res = nlohmann::json::object();
        if (p.qos != "BestEffort") {
          res["requests"] = {{"cpu", p.cpu_request}, {"memory", "128Mi"}};
          if (p.qos == "Guaranteed")
            res["limits"] = {{"cpu", p.cpu_request}, {"memory", "128Mi"}};
          else
            res["limits"] = {{"cpu", p.cpu_limit}};
        }
        ctrs.push_back({{"name", c.name}, {"image", "demo"}, {"resources", res}});
        statuses.push_back({{"name", c.name}, {"containerID", "containerd://" + c.id}, {"ready", true}});
      }
      nlohmann::json labels = {{"app", p.name}};
      if (p.qos == "BestEffort") labels["koordinator.sh/qosClass"] = "BE";
      items.push_back({{"metadata", {{"name", p.name}, {"namespace", p.ns}, {"uid", p.uid}, {"labels", labels}}},
                       {"spec", {{"nodeName", "node-1"}, {"containers", ctrs}}},
                       {"status", {{"phase", "Running"}, {"qosClass", p.qos}, {"containerStatuses", statuses}}}});
    }
    return {{"kind", "PodList"}, {"apiVersion", "v1"}, {"items", items}};
  }

  void write_pod_list(const std::string& path) const {
    std::string tmp = path + ".tmp";
    std::ofstream(tmp) << pod_list().dump();
    std::filesystem::rename(tmp, path);
  }

  // The file holding a knob/stat of a cgroup ("cpu.cfs_quota_us" lives in cpu/ on v1).
  std::string file(const std::string& cgroup, const std::string& name) const { return file_in(root_, v2_, cgroup, name); }
  // The same path for a tree already on disk, without a FakeNode (whose constructor writes the root's files).
  static std::string file_in(const std::string& root, bool v2, const std::string& cgroup, const std::string& name) {
    if (v2) return root + "/" + cgroup + "/" + name;
    std::string ctrl = name.substr(0, name.find('.'));
    return root + "/" + ctrl + "/" + cgroup + "/" + name;
  }
  std::string read(const std::string& cgroup, const std::string& name) const {
    std::ifstream in(file(cgroup, name));
    std::string s;
    std::getline(in, s);
    return s;
  }
  void write(const std::string& cgroup, const std::string& name, const std::string& value) const {
    std::ofstream(file(cgroup, name)) << value << "\n";
  }

 private:
  std::vector<std::string> dirs(const std::string& cgroup) const {
    if (v2_) return {root_ + "/" + cgroup};
    std::vector<std::string> out;
    for (auto c : {"cpu", "cpuacct", "cpuset", "memory", "blkio", "pids"}) out.push_back(root_ + "/" + c + "/" + cgroup);
    return out;
  }
  void put(const std::string& dir, const std::string& name, const std::string& content) const {
    std::string d = dir.empty() ? root_ : dir;
    std::filesystem::create_directories(d);
    std::ofstream(d + "/" + name) << content;
  }
  void mk(const std::string& cgroup) const {
    if (v2_) std::filesystem::create_directories(root_ + "/" + cgroup);
    else
      for (const auto& d : dirs(cgroup)) std::filesystem::create_directories(d);
    cgroup_files(cgroup);
  }
  void cgroup_files(const std::string& cgroup) const {
    auto at = [&](const char* ctrl) {
      if (v2_) return cgroup.empty() ? root_ : root_ + "/" + cgroup;
      return root_ + "/" + ctrl + (cgroup.empty() ? "" : "/" + cgroup);
    };
    if (v2_) {
      put(at(""), "cgroup.controllers", "cpuset cpu io memory pids\n");
      put(at(""), "cpu.max", "max 100000\n");
      put(at(""), "cpu.max.burst", "0\n");
      put(at(""), "cpu.weight", "100\n");
      put(at(""), "cpu.stat",
          "usage_usec 1000\nuser_usec 600\nsystem_usec 400\nnr_periods 10\nnr_throttled 2\nthrottled_usec 300\n"
          "nr_bursts 0\nburst_usec 0\n");
      put(at(""), "memory.current", "10485760\n");
      put(at(""), "memory.max", "max\n");
      put(at(""), "memory.stat", "anon 4194304\nfile 6291456\ninactive_file 2097152\nactive_file 4194304\n");
      put(at(""), "cpuset.cpus", "\n");
      put(at(""), "cpuset.mems", "\n");
      put(at(""), "cpuset.cpus.effective", "0-3\n");
      put(at(""), "cgroup.procs", "");
    } else {
      put(at("cpu"), "cpu.cfs_quota_us", "-1\n");
      put(at("cpu"), "cpu.cfs_period_us", "100000\n");
      put(at("cpu"), "cpu.cfs_burst_us", "0\n");
      put(at("cpu"), "cpu.shares", "1024\n");
      put(at("cpu"), "cpu.stat", "nr_periods 10\nnr_throttled 2\nthrottled_time 300000\nnr_bursts 0\nburst_time 0\n");
      put(at("cpu"), "cgroup.procs", "");
      put(at("cpuacct"), "cpuacct.usage", "1000000\n");
      put(at("cpuacct"), "cgroup.procs", "");
      put(at("cpuset"), "cpuset.cpus", "0-3\n");
      put(at("cpuset"), "cpuset.mems", "0\n");
      put(at("cpuset"), "cgroup.procs", "");
      put(at("memory"), "memory.usage_in_bytes", "10485760\n");
      put(at("memory"), "memory.limit_in_bytes", "9223372036854771712\n");
      put(at("memory"), "memory.stat", "cache 6291456\nrss 4194304\ninactive_file 2097152\ntotal_inactive_file 2097152\n");
      put(at("memory"), "cgroup.procs", "");
      put(at("blkio"), "cgroup.procs", "");
      put(at("pids"), "cgroup.procs", "");
    }
  }

  std::string root_;
  bool v2_;
  std::string parent_;
  std::vector<Pod> pods_;
};

}  // namespace slo::test
