#include "cgroups/kubelet_layout.h"

#include <array>

namespace slo::cg {
namespace {

bool alnum(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

std::string systemd_escape_uid(std::string_view uid) {
  std::string out(uid);
  for (char& c : out)
    if (c == '-') c = '_';
  return out;
}

// kubelet's systemd names: "kubepods-burstable-pod<uid>.slice" below "kubepods-burstable.slice".
std::string_view tier_word(QosTier t) {
  switch (t) {
    case QosTier::burstable: return "burstable";
    case QosTier::besteffort: return "besteffort";
    case QosTier::guaranteed: return "";
  }
  return "";
}

std::string parent_join(const std::string& parent, std::string_view name) {
  if (parent.empty()) return std::string(name);
  return parent + "/" + std::string(name);
}

// Pod directories present below a kubepods candidate (any tier), to break a tie when both spellings exist.
bool has_pods(const CgroupFs& fs, Controller c, const std::string& dir) {
  auto kids = fs.children(dir, c);
  if (!kids.ok()) return false;
  for (const auto& k : kids.value) {
    if (k.rfind("pod", 0) == 0 || k.find("-pod") != std::string::npos) return true;
    if (k == "burstable" || k == "besteffort" || k.find("-burstable.slice") != std::string::npos ||
        k.find("-besteffort.slice") != std::string::npos) {
      auto grand = fs.children(dir + "/" + k, c);
      if (grand.ok() && !grand.value.empty()) return true;
    }
  }
  return false;
}

}  // namespace

std::string_view to_string(Driver d) { return d == Driver::systemd ? "systemd" : "cgroupfs"; }

std::string_view to_string(QosTier t) {
  switch (t) {
    case QosTier::guaranteed: return "guaranteed";
    case QosTier::burstable: return "burstable";
    case QosTier::besteffort: return "besteffort";
  }
  return "?";
}

std::string_view to_string(Runtime r) {
  switch (r) {
    case Runtime::containerd: return "containerd";
    case Runtime::crio: return "crio";
    case Runtime::docker: return "docker";
    case Runtime::unknown: return "unknown";
  }
  return "?";
}

bool valid_pod_uid(std::string_view uid) {
  if (uid.empty() || uid.size() > 64) return false;
  for (char c : uid)
    if (!alnum(c) && c != '-' && c != '_') return false;
  return true;
}

bool valid_container_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id)
    if (!alnum(c)) return false;
  return true;
}

std::optional<ContainerRef> parse_container_id(std::string_view status_id) {
  ContainerRef ref;
  std::string_view id = status_id;
  size_t sep = status_id.find("://");
  if (sep != std::string_view::npos) {
    std::string_view scheme = status_id.substr(0, sep);
    id = status_id.substr(sep + 3);
    if (scheme == "containerd") ref.runtime = Runtime::containerd;
    else if (scheme == "cri-o" || scheme == "crio") ref.runtime = Runtime::crio;
    else if (scheme == "docker") ref.runtime = Runtime::docker;
  }
  if (!valid_container_id(id)) return std::nullopt;
  ref.id = std::string(id);
  return ref;
}

std::optional<KubeletLayout> KubeletLayout::detect(const CgroupFs& fs, const std::string& parent) {
  if (!parent.empty() && !is_safe_relative(parent)) return std::nullopt;
  const Controller c = Controller::cpu;  // on v2 every controller maps to the unified tree
  const Controller probe = fs.controller_dir(c) ? c : Controller::cpuacct;
  std::string cgfs = parent_join(parent, "kubepods");
  std::string sysd = parent_join(parent, "kubepods.slice");
  bool have_cgfs = fs.exists(cgfs, probe);
  bool have_sysd = fs.exists(sysd, probe);
  if (!have_cgfs && !have_sysd) return std::nullopt;
  KubeletLayout l;
  if (have_cgfs && have_sysd) {
    // Both left behind (e.g. a driver switch): the one holding pods is the live one; systemd otherwise.
    bool use_cgfs = has_pods(fs, probe, cgfs) && !has_pods(fs, probe, sysd);
    l.driver = use_cgfs ? Driver::cgroupfs : Driver::systemd;
  } else {
    l.driver = have_sysd ? Driver::systemd : Driver::cgroupfs;
  }
  l.kubepods = l.driver == Driver::systemd ? sysd : cgfs;
  return l;
}

std::string KubeletLayout::tier_dir(QosTier t) const {
  if (t == QosTier::guaranteed) return kubepods;
  if (driver == Driver::cgroupfs) return kubepods + "/" + std::string(tier_word(t));
  return kubepods + "/kubepods-" + std::string(tier_word(t)) + ".slice";
}

std::optional<std::string> KubeletLayout::pod_dir(QosTier t, std::string_view uid) const {
  if (!valid_pod_uid(uid)) return std::nullopt;
  if (driver == Driver::cgroupfs) return tier_dir(t) + "/pod" + std::string(uid);
  std::string name = t == QosTier::guaranteed ? "kubepods-pod"
                                              : "kubepods-" + std::string(tier_word(t)) + "-pod";
  return tier_dir(t) + "/" + name + systemd_escape_uid(uid) + ".slice";
}

std::optional<std::string> KubeletLayout::container_dir_name(const ContainerRef& c) const {
  if (!valid_container_id(c.id)) return std::nullopt;
  if (driver == Driver::cgroupfs) return c.runtime == Runtime::crio ? "crio-" + c.id : c.id;
  switch (c.runtime) {
    case Runtime::crio: return "crio-" + c.id + ".scope";
    case Runtime::docker: return "docker-" + c.id + ".scope";
    case Runtime::containerd:
    case Runtime::unknown: return "cri-containerd-" + c.id + ".scope";
  }
  return std::nullopt;
}

std::optional<std::string> KubeletLayout::container_dir(std::string_view pod_dir, const ContainerRef& c) const {
  if (!is_safe_relative(pod_dir)) return std::nullopt;
  auto name = container_dir_name(c);
  if (!name) return std::nullopt;
  return std::string(pod_dir) + "/" + *name;
}

std::optional<std::string> KubeletLayout::find_container_dir(const CgroupFs& fs, std::string_view pod_dir,
                                                             const ContainerRef& c) const {
  if (!is_safe_relative(pod_dir) || !valid_container_id(c.id)) return std::nullopt;
  const Controller probe = fs.controller_dir(Controller::cpu) ? Controller::cpu : Controller::cpuacct;
  if (auto d = container_dir(pod_dir, c); d && fs.exists(*d, probe)) return d;
  // Runtime unknown or the kubelet/runtime pairing differs from what we assumed: try every spelling we know.
  const std::string& id = c.id;
  const std::array<std::string, 5> names{id, "crio-" + id, "cri-containerd-" + id + ".scope", "crio-" + id + ".scope",
                                         "docker-" + id + ".scope"};
  for (const auto& n : names) {
    std::string p = std::string(pod_dir) + "/" + n;
    if (fs.exists(p, probe)) return p;
  }
  return std::nullopt;
}

}  // namespace slo::cg
