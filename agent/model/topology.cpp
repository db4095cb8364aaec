#include "agent/model/topology.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <set>

#include <nlohmann/json.hpp>

namespace slo::model {
namespace {

// sysfs is read-only and owned by the kernel, so plain path reads are enough here (no write ever goes below it).
std::optional<std::string> read_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ' || out.back() == '\0')) out.pop_back();
  return out;
}

std::optional<int> read_int(const std::string& path) {
  auto text = read_file(path);
  if (!text) return std::nullopt;
  int v = 0;
  auto [p, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
  if (ec != std::errc()) return std::nullopt;
  return v;
}

std::optional<cg::CpuSet> read_list(const std::string& path) {
  auto text = read_file(path);
  if (!text) return std::nullopt;
  return cg::CpuSet::parse(*text);
}

bool is_dir(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// Numeric suffixes of entries named <prefix><N> in dir ("cpu12", "node33").
std::vector<int> numbered_entries(const std::string& dir, std::string_view prefix) {
  std::vector<int> ids;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return ids;
  while (auto* e = ::readdir(d)) {
    std::string_view name = e->d_name;
    if (name.size() <= prefix.size() || name.substr(0, prefix.size()) != prefix) continue;
    std::string_view num = name.substr(prefix.size());
    int v = 0;
    auto [p, ec] = std::from_chars(num.data(), num.data() + num.size(), v);
    if (ec == std::errc() && p == num.data() + num.size() && v >= 0) ids.push_back(v);
  }
  ::closedir(d);
  std::sort(ids.begin(), ids.end());
  return ids;
}

// MemTotal of "Node 1 MemTotal:       67108864 kB".
int64_t node_mem_total(const std::string& meminfo) {
  size_t pos = meminfo.find("MemTotal:");
  if (pos == std::string::npos) return 0;
  pos += 9;
  while (pos < meminfo.size() && meminfo[pos] == ' ') ++pos;
  int64_t kb = 0;
  auto [p, ec] = std::from_chars(meminfo.data() + pos, meminfo.data() + meminfo.size(), kb);
  if (ec != std::errc() || kb < 0) return 0;
  return kb * 1024;
}

// L3 domain of one CPU: the cache id when the kernel exposes it, else the first CPU sharing the cache (old kernels,
// Arm without ACPI cache ids). -1 when the CPU has no level-3 cache.
int l3_of(const std::string& cpu_dir) {
  for (int idx : numbered_entries(cpu_dir + "/cache", "index")) {
    std::string base = cpu_dir + "/cache/index" + std::to_string(idx);
    if (read_int(base + "/level") != 3) continue;
    auto type = read_file(base + "/type");
    if (type && *type == "Instruction") continue;
    if (auto id = read_int(base + "/id")) return *id;
    if (auto shared = read_list(base + "/shared_cpu_list"); shared && !shared->empty()) return shared->first();
  }
  return -1;
}

// Accepts either the sysfs mount itself (/sys) or a directory that contains it (a fixture: <tree>/sys).
std::string system_dir(const std::string& sysfs_root) {
  std::string root = sysfs_root.empty() ? "/sys" : sysfs_root;
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  if (is_dir(root + "/devices/system/cpu")) return root + "/devices/system";
  if (is_dir(root + "/sys/devices/system/cpu")) return root + "/sys/devices/system";
  return root + "/devices/system";
}

}  // namespace

cg::Result<Topology> Topology::read(const std::string& sysfs_root) {
  const std::string sys = system_dir(sysfs_root);
  const std::string cpu_root = sys + "/cpu";
  if (!is_dir(cpu_root)) return cg::Result<Topology>::fail(cg::Status::from_errno(ENOENT, cpu_root));

  Topology t;
  std::vector<int> dirs = numbered_entries(cpu_root, "cpu");
  // The global online list is authoritative; without it, per-CPU online files (cpu0 usually has none: online).
  if (auto online = read_list(cpu_root + "/online")) {
    t.online = *online;
  } else {
    for (int id : dirs)
      if (read_int(cpu_root + "/cpu" + std::to_string(id) + "/online").value_or(1) != 0) t.online.add(id);
  }
  cg::CpuSet known;
  for (int id : dirs) known.add(id);
  if (auto present = read_list(cpu_root + "/present")) known = known | *present;
  t.offline = known - t.online;

  // NUMA: nodeN/cpulist (the cpuN/nodeM symlinks are not reliable in captures and absent in our fixtures).
  const std::string node_root = sys + "/node";
  std::vector<int> node_ids = numbered_entries(node_root, "node");
  std::map<int, int> numa_of;
  for (int n : node_ids) {
    std::string base = node_root + "/node" + std::to_string(n);
    if (!is_dir(base)) continue;
    NumaNode node;
    node.id = n;
    node.cpus = read_list(base + "/cpulist").value_or(cg::CpuSet{}) & t.online;
    if (auto mi = read_file(base + "/meminfo")) node.memory_bytes = node_mem_total(*mi);
    for (int c : node.cpus.ids()) numa_of.emplace(c, n);
    t.memory_bytes += node.memory_bytes;
    t.numa_nodes.push_back(std::move(node));
  }
  const bool has_numa = !t.numa_nodes.empty();

  for (int id : t.online.ids()) {
    const std::string cdir = cpu_root + "/cpu" + std::to_string(id);
    const std::string topo = cdir + "/topology";
    CpuInfo c;
    c.id = id;
    c.package = read_int(topo + "/physical_package_id").value_or(0);
    c.die = std::max(0, read_int(topo + "/die_id").value_or(0));
    c.core = read_int(topo + "/core_id").value_or(id);
    if (auto it = numa_of.find(id); it != numa_of.end())
      c.numa = it->second;
    else
      c.numa = has_numa ? -1 : 0;  // a CPU of an offline node (seen on real hosts) belongs to no node
    c.l3 = l3_of(cdir);
    cg::CpuSet sib = read_list(topo + "/thread_siblings_list")
                         .value_or(read_list(topo + "/core_cpus_list").value_or(cg::CpuSet{}));
    sib = sib & t.online;
    sib.add(id);
    c.core_key = sib.first();
    c.online = true;
    t.cpus.push_back(c);
  }
  return cg::Result<Topology>::success(std::move(t));
}

const CpuInfo* Topology::cpu(int id) const {
  auto it = std::lower_bound(cpus.begin(), cpus.end(), id, [](const CpuInfo& c, int v) { return c.id < v; });
  return it != cpus.end() && it->id == id ? &*it : nullptr;
}

cg::CpuSet Topology::siblings_of(int id) const {
  cg::CpuSet s;
  const CpuInfo* me = cpu(id);
  if (!me) return s;
  for (const auto& c : cpus)
    if (c.core_key == me->core_key) s.add(c.id);
  return s;
}

cg::CpuSet Topology::l3_cpus(int l3) const {
  cg::CpuSet s;
  for (const auto& c : cpus)
    if (c.l3 == l3) s.add(c.id);
  return s;
}

cg::CpuSet Topology::numa_cpus(int node) const {
  cg::CpuSet s;
  for (const auto& c : cpus)
    if (c.numa == node) s.add(c.id);
  return s;
}

std::map<int, cg::CpuSet> Topology::cores() const {
  std::map<int, cg::CpuSet> m;
  for (const auto& c : cpus) m[c.core_key].add(c.id);
  return m;
}

std::map<int, cg::CpuSet> Topology::l3_domains() const {
  std::map<int, cg::CpuSet> m;
  for (const auto& c : cpus)
    if (c.l3 >= 0) m[c.l3].add(c.id);
  return m;
}

std::map<int, cg::CpuSet> Topology::packages() const {
  std::map<int, cg::CpuSet> m;
  for (const auto& c : cpus) m[c.package].add(c.id);
  return m;
}

int Topology::threads_per_core() const {
  size_t most = 0;
  for (const auto& [k, s] : cores()) most = std::max(most, s.size());
  return static_cast<int>(most);
}

cg::CpuSet Topology::all() const {
  cg::CpuSet s;
  for (const auto& c : cpus) s.add(c.id);
  return s;
}

void to_json(nlohmann::json& j, const Topology& t) {
  j = nlohmann::json::object();
  j["online"] = t.online.to_string();
  j["offline"] = t.offline.to_string();
  j["cpuCount"] = t.cpus.size();
  j["coreCount"] = t.cores().size();
  j["threadsPerCore"] = t.threads_per_core();
  j["memoryBytes"] = t.memory_bytes;
  auto& pk = j["packages"] = nlohmann::json::array();
  for (const auto& [id, cpus] : t.packages()) {
    std::set<int> dies;
    for (int c : cpus.ids()) dies.insert(t.cpu(c)->die);
    pk.push_back({{"id", id}, {"cpus", cpus.to_string()}, {"dies", dies}});
  }
  auto& nn = j["numaNodes"] = nlohmann::json::array();
  for (const auto& n : t.numa_nodes)
    nn.push_back({{"id", n.id}, {"cpus", n.cpus.to_string()}, {"memoryBytes", n.memory_bytes}});
  auto& l3 = j["l3Domains"] = nlohmann::json::array();
  for (const auto& [id, cpus] : t.l3_domains()) l3.push_back({{"id", id}, {"cpus", cpus.to_string()}});
  auto& cores = j["cores"] = nlohmann::json::array();
  for (const auto& [key, cpus] : t.cores()) cores.push_back(cpus.to_string());
  auto& cl = j["cpus"] = nlohmann::json::array();
  for (const auto& c : t.cpus)
    cl.push_back({{"id", c.id},
                  {"package", c.package},
                  {"die", c.die},
                  {"core", c.core},
                  {"coreKey", c.core_key},
                  {"numa", c.numa},
                  {"l3", c.l3}});
}

}  // namespace slo::model
