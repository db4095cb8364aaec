#include "agent/decide/cgroups_cr/cr_spec.h"

#include <filesystem>
#include <fstream>

#include "agent/model/quantity.h"

namespace slo::agent::cgroups_cr {
namespace {

using json = nlohmann::json;

// A quantity field may be a JSON number or a string (x-kubernetes-int-or-string).
std::optional<std::string> quantity_text(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  if (v.is_number_float()) {
    auto s = v.dump();  // "1.5"
    return s;
  }
  return std::nullopt;
}

struct Invalid {
  std::string reason, message;
};

std::string str_of(const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

constexpr std::pair<const char*, cg::Knob> kIoFields[] = {
    {"device_read_bps", cg::Knob::io_read_bps},
    {"device_write_bps", cg::Knob::io_write_bps},
    {"device_read_iops", cg::Knob::io_read_iops},
    {"device_write_iops", cg::Knob::io_write_iops},
};

// Fills `o` from one container entry; returns the first problem (then `o`'s values are discarded by the caller).
std::optional<Invalid> parse_container(const json& c, const NodeFacts& node, ContainerOverride& o) {
  for (const auto& [key, _] : c.items()) {
    if (key != "name" && key != "cpu" && key != "memory" && key != "cpuset-cpus" && key != "blkio")
      return Invalid{kInvalidSpec, "unknown field '" + key + "'"};
  }
  if (auto it = c.find("cpu"); it != c.end() && !it->is_null()) {
    auto text = quantity_text(*it);
    auto millis = text ? model::parse_cpu_millis(*text) : std::nullopt;
    if (!millis) return Invalid{kInvalidQuantity, "cpu '" + str_of(*it) + "' is not a Kubernetes CPU quantity"};
    if (*millis <= 0) return Invalid{kInvalidQuantity, "cpu '" + str_of(*it) + "' must be greater than 0"};
    o.cpu_millis = millis;
  }
  if (auto it = c.find("memory"); it != c.end() && !it->is_null()) {
    auto text = quantity_text(*it);
    auto bytes = text ? model::parse_bytes(*text) : std::nullopt;
    if (!bytes) return Invalid{kInvalidQuantity, "memory '" + str_of(*it) + "' is not a Kubernetes memory quantity"};
    if (*bytes <= 0) return Invalid{kInvalidQuantity, "memory '" + str_of(*it) + "' must be greater than 0"};
    o.memory_bytes = bytes;
  }
  if (auto it = c.find("cpuset-cpus"); it != c.end() && !it->is_null()) {
    if (!it->is_string()) return Invalid{kInvalidCpuset, "cpuset-cpus must be a CPU list string such as \"0-3,8\""};
    auto text = it->get<std::string>();
    auto set = cg::CpuSet::parse(text);
    if (!set || set->empty()) return Invalid{kInvalidCpuset, "cpuset-cpus '" + text + "' is not a non-empty CPU list"};
    if (node.online_cpus.empty())
      return Invalid{kCpusNotOnNode, "cpuset-cpus '" + text + "': this node's online CPUs are unknown (sysfs unreadable)"};
    if (!set->is_subset_of(node.online_cpus))
      return Invalid{kCpusNotOnNode, "cpuset-cpus '" + text + "': CPUs " + (*set - node.online_cpus).to_string() +
                                         " are not online on this node (online: " + node.online_cpus.to_string() + ")"};
    o.cpus = set;
  }
  if (auto it = c.find("blkio"); it != c.end() && !it->is_null()) {
    if (!it->is_object()) return Invalid{kInvalidSpec, "blkio must be an object"};
    for (const auto& [key, _] : it->items()) {
      bool known = false;
      for (const auto& [f, k] : kIoFields) known = known || key == f;
      if (!known) return Invalid{kInvalidSpec, "unknown field 'blkio." + key + "'"};
    }
    for (const auto& [field, knob] : kIoFields) {
      auto f = it->find(field);
      if (f == it->end() || f->is_null()) continue;
      if (!f->is_array()) return Invalid{kInvalidSpec, std::string("blkio.") + field + " must be a list"};
      for (const auto& e : *f) {
        if (!e.is_object() || !e.contains("device") || !e["device"].is_string() || !e.contains("value"))
          return Invalid{kInvalidSpec, std::string("blkio.") + field + ": each entry needs device and value"};
        auto dev_text = e["device"].get<std::string>();
        auto dev = node.resolve_device ? node.resolve_device(dev_text) : std::nullopt;
        if (!dev) return Invalid{kUnknownDevice, std::string("blkio.") + field + ": device '" + dev_text +
                                                     "' is not a whole block device on this node"};
        auto text = quantity_text(e["value"]);
        auto v = text ? model::parse_bytes(*text) : std::nullopt;
        if (!v || *v < 0)
          return Invalid{kInvalidQuantity, std::string("blkio.") + field + ": value '" + str_of(e["value"]) +
                                               "' for " + dev_text + " is not a non-negative quantity"};
        for (const auto& prev : o.io)
          if (prev.knob == knob && prev.device == *dev)
            return Invalid{kInvalidSpec, std::string("blkio.") + field + ": device " + dev_text + " (" + *dev +
                                             ") is listed twice"};
        o.io.push_back(IoLimit{knob, *dev, *v == 0 ? int64_t{-1} : *v});
      }
    }
  }
  return std::nullopt;
}

std::optional<std::string> read_line(const std::filesystem::path& p) {
  std::ifstream in(p);
  if (!in) return std::nullopt;
  std::string s;
  std::getline(in, s);
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
  return s;
}

}  // namespace

std::optional<std::string> resolve_block_device(const std::string& sysfs_root, const std::string& device) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path sys = sysfs_root;
  if (!fs::exists(sys / "block", ec) && !fs::exists(sys / "dev" / "block", ec) && fs::exists(sys / "sys", ec))
    sys /= "sys";
  if (cg::valid_device(device)) {
    fs::path d = sys / "dev" / "block" / device;
    if (!fs::exists(d, ec)) return std::nullopt;
    // blkio/io throttles apply to whole disks; the kernel refuses partitions.
    if (fs::exists(d / "partition", ec)) return std::nullopt;
    return device;
  }
  std::string name = device;
  if (name.rfind("/dev/", 0) == 0) name = name.substr(5);
  if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..") return std::nullopt;
  auto dev = read_line(sys / "block" / name / "dev");  // sys/block lists whole disks only
  if (!dev || !cg::valid_device(*dev)) return std::nullopt;
  return dev;
}

CrSpec parse_cr(const json& obj, const NodeFacts& node) {
  CrSpec out;
  if (!obj.is_object()) {
    out.error = "not an object";
    return out;
  }
  if (auto m = obj.find("metadata"); m != obj.end() && m->is_object()) {
    if (auto n = m->find("name"); n != m->end() && n->is_string()) out.name = n->get<std::string>();
    if (auto g = m->find("generation"); g != m->end() && g->is_number_integer()) out.generation = g->get<int64_t>();
  }
  if (out.name.empty()) {
    out.error = "metadata.name is missing";
    return out;
  }
  auto spec = obj.find("spec");
  if (spec == obj.end() || !spec->is_object()) {
    out.error = "spec is missing";
    return out;
  }
  bool has_pod = spec->contains("pod") && !(*spec)["pod"].is_null();
  bool has_dep = spec->contains("deployment") && !(*spec)["deployment"].is_null();
  if (has_pod == has_dep) {
    out.error = "spec must hold exactly one of pod and deployment";
    return out;
  }
  out.deployment = has_dep;
  const json& target = (*spec)[has_dep ? "deployment" : "pod"];
  const std::string where = std::string("spec.") + (has_dep ? "deployment" : "pod");
  if (!target.is_object()) {
    out.error = where + " must be an object";
    return out;
  }
  auto str = [&](const char* k) {
    auto it = target.find(k);
    return it != target.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  out.target_name = str("name");
  out.target_namespace = str("namespace");
  if (out.target_name.empty() || out.target_namespace.empty()) {
    out.error = where + ".name and " + where + ".namespace are required";
    return out;
  }
  auto ctrs = target.find("containers");
  if (ctrs == target.end() || !ctrs->is_array() || ctrs->empty()) {
    out.error = where + ".containers must be a non-empty list";
    return out;
  }
  for (size_t i = 0; i < ctrs->size(); ++i) {
    const json& c = (*ctrs)[i];
    ContainerOverride o;
    if (c.is_object() && c.contains("name") && c["name"].is_string()) o.name = c["name"].get<std::string>();
    std::optional<Invalid> bad;
    if (o.name.empty())
      bad = Invalid{kInvalidSpec, where + ".containers[" + std::to_string(i) + "].name is required"};
    else
      for (const auto& prev : out.containers)
        if (prev.name == o.name) bad = Invalid{kInvalidSpec, "container '" + o.name + "' is listed twice"};
    if (!bad) bad = parse_container(c, node, o);
    if (bad) {
      ContainerOverride rejected;  // nothing of an invalid container applies
      rejected.name = o.name.empty() ? "#" + std::to_string(i) : o.name;
      rejected.invalid_reason = bad->reason;
      rejected.invalid_message = bad->message;
      out.containers.push_back(std::move(rejected));
      continue;
    }
    out.containers.push_back(std::move(o));
  }
  return out;
}

}  // namespace slo::agent::cgroups_cr
