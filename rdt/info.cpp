#include "rdt/info.h"

#include <algorithm>
#include <cerrno>
#include <charconv>

namespace slo::rdt {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n')) s.remove_suffix(1);
  return s;
}

// Optional info file: absent → nullopt (older kernels lack sparse_masks, thread_throttle_mode ...).
struct InfoReader {
  const cg::DirFd& root;
  std::string error;

  std::optional<std::string> text(const std::string& rel) {
    auto r = root.read(rel);
    if (!r.ok()) {
      if (!r.gone() && error.empty()) error = r.status.describe();
      return std::nullopt;
    }
    return std::string(trim(r.value));
  }
  std::optional<uint64_t> number(const std::string& rel) {
    auto t = text(rel);
    if (!t) return std::nullopt;
    uint64_t v = 0;
    auto res = std::from_chars(t->data(), t->data() + t->size(), v);
    if (res.ec != std::errc{} || res.ptr != t->data() + t->size()) {
      if (error.empty()) error = root.label() + "/" + rel + ": not a number: '" + *t + "'";
      return std::nullopt;
    }
    return v;
  }
  // Required file: absent is an error naming it.
  std::optional<uint64_t> required(const std::string& rel) {
    auto v = number(rel);
    if (!v && error.empty()) error = root.label() + "/" + rel + ": missing";
    return v;
  }
};

}  // namespace

std::string_view to_string(Vendor v) {
  switch (v) {
    case Vendor::intel: return "intel";
    case Vendor::amd: return "amd";
    default: return "unknown";
  }
}

std::string_view to_string(MbUnit u) {
  switch (u) {
    case MbUnit::percent: return "percent";
    case MbUnit::amd_units: return "amd_units";
    default: return "MBps";
  }
}

Vendor vendor_from_cpuinfo(std::string_view cpuinfo) {
  size_t pos = cpuinfo.find("vendor_id");
  if (pos == std::string_view::npos) return Vendor::unknown;
  size_t colon = cpuinfo.find(':', pos);
  size_t nl = cpuinfo.find('\n', pos);
  if (colon == std::string_view::npos || (nl != std::string_view::npos && colon > nl)) return Vendor::unknown;
  std::string_view v = trim(cpuinfo.substr(colon + 1, nl == std::string_view::npos ? std::string_view::npos : nl - colon - 1));
  if (v == "GenuineIntel") return Vendor::intel;
  if (v == "AuthenticAMD" || v == "HygonGenuine") return Vendor::amd;
  return Vendor::unknown;
}

const CacheResource* Info::cache(const std::string& name) const {
  for (const auto& c : caches)
    if (c.name == name) return &c;
  return nullptr;
}

MbUnit decide_mb_unit(const std::string& mounts_text, const std::string& resctrl_path, const Schemata& root_schemata,
                      Vendor vendor, std::string* source) {
  // /proc/mounts: "resctrl /sys/fs/resctrl resctrl rw,relatime,mba_MBps 0 0"
  size_t pos = 0;
  while (pos < mounts_text.size()) {
    size_t nl = mounts_text.find('\n', pos);
    std::string line = mounts_text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    pos = nl == std::string::npos ? mounts_text.size() : nl + 1;
    std::string f[4];
    size_t p = 0;
    for (auto& field : f) {
      while (p < line.size() && line[p] == ' ') ++p;
      size_t e = line.find(' ', p);
      field = line.substr(p, e == std::string::npos ? std::string::npos : e - p);
      p = e == std::string::npos ? line.size() : e;
    }
    if (f[2] != "resctrl" || f[1] != resctrl_path) continue;
    bool mbps = ("," + f[3] + ",").find(",mba_MBps,") != std::string::npos;
    if (source) *source = "mount options in mounts";
    if (mbps) return MbUnit::mbps;
    return vendor == Vendor::amd ? MbUnit::amd_units : MbUnit::percent;
  }
  auto it = root_schemata.resources.find("MB");
  if (it != root_schemata.resources.end())
    for (const auto& [id, v] : it->second)
      if (trim(v) == "4294967295") {
        if (source) *source = "root schemata MB default 4294967295 (no resctrl line in mounts)";
        return MbUnit::mbps;
      }
  if (source) *source = vendor == Vendor::amd ? "cpu vendor (no resctrl line in mounts)" : "default (percent)";
  return vendor == Vendor::amd ? MbUnit::amd_units : MbUnit::percent;
}

cg::Result<Info> read_info(const cg::DirFd& root, const ReadInfoOptions& opts) {
  using R = cg::Result<Info>;
  Info info;
  auto sch = root.read("schemata");
  if (!sch.ok()) return R::fail(sch.status);
  auto parsed = parse_schemata(sch.value);
  if (!parsed.errors.empty())
    return R::fail(cg::Status::failure(root.label() + "/schemata", parsed.errors.front()));
  info.root_schemata = parsed.schemata;

  auto names = root.list("info", true);
  if (!names.ok()) return R::fail(names.status);
  InfoReader rd{root, {}};
  static const char* cache_order[] = {"L3", "L3CODE", "L3DATA", "L2", "L2CODE", "L2DATA"};
  for (const char* n : cache_order) {
    std::string name = n;
    if (std::find(names.value.begin(), names.value.end(), name) == names.value.end()) continue;
    std::string dir = "info/" + name + "/";
    CacheResource c;
    c.name = name;
    auto mask_text = rd.text(dir + "cbm_mask");
    auto mask = mask_text ? parse_hex_mask(*mask_text) : std::nullopt;
    if (!mask || *mask == 0)
      return R::fail(cg::Status::failure(root.label() + "/" + dir + "cbm_mask",
                                         rd.error.empty() ? "missing or not a hex mask" : rd.error));
    c.rules.cbm_mask = *mask;
    auto minb = rd.required(dir + "min_cbm_bits");
    auto closids = rd.required(dir + "num_closids");
    auto sparse = rd.number(dir + "sparse_masks");
    auto share = rd.text(dir + "shareable_bits");
    if (!rd.error.empty()) return R::fail(cg::Status::failure(root.label(), rd.error));
    c.rules.min_cbm_bits = static_cast<unsigned>(*minb);
    c.rules.sparse_masks = sparse.value_or(0) == 1;
    c.num_closids = static_cast<unsigned>(*closids);
    if (share) c.shareable_bits = parse_hex_mask(*share).value_or(0);
    c.domains = info.root_schemata.domains(name);
    if (c.domains.empty())
      return R::fail(cg::Status::failure(root.label() + "/schemata", "no " + name + " line for info/" + name));
    info.caches.push_back(std::move(c));
  }
  info.l3_cdp = info.cache("L3CODE") && info.cache("L3DATA");
  info.l2_cdp = info.cache("L2CODE") && info.cache("L2DATA");

  // Vendor first: it decides the MB unit.
  if (!opts.proc_root.empty()) {
    auto proc = cg::DirFd::open_root(opts.proc_root);
    if (proc.ok()) {
      auto cpuinfo = proc.value.read("cpuinfo");
      if (cpuinfo.ok()) info.vendor = vendor_from_cpuinfo(cpuinfo.value);
    }
  }

  if (std::find(names.value.begin(), names.value.end(), "MB") != names.value.end()) {
    MbResource mb;
    auto gran = rd.required("info/MB/bandwidth_gran");
    auto minbw = rd.required("info/MB/min_bandwidth");
    auto closids = rd.required("info/MB/num_closids");
    auto linear = rd.number("info/MB/delay_linear");
    auto mode = rd.text("info/MB/thread_throttle_mode");
    if (!rd.error.empty()) return R::fail(cg::Status::failure(root.label(), rd.error));
    mb.bandwidth_gran = static_cast<unsigned>(*gran == 0 ? 1 : *gran);
    mb.min_bandwidth = static_cast<unsigned>(*minbw);
    mb.num_closids = static_cast<unsigned>(*closids);
    mb.delay_linear = linear.value_or(1) == 1;
    mb.thread_throttle_mode = mode.value_or("");
    mb.domains = info.root_schemata.domains("MB");
    if (mb.domains.empty())
      return R::fail(cg::Status::failure(root.label() + "/schemata", "no MB line for info/MB"));
    std::string mounts;
    if (!opts.proc_root.empty()) {
      if (auto proc = cg::DirFd::open_root(opts.proc_root); proc.ok()) {
        auto m = proc.value.read("mounts");
        if (m.ok()) mounts = m.value;
      }
    }
    std::string path = opts.resctrl_path.empty() ? root.label() : opts.resctrl_path;
    mb.unit = decide_mb_unit(mounts, path, info.root_schemata, info.vendor, &mb.unit_source);
    info.mb = std::move(mb);
  }

  if (std::find(names.value.begin(), names.value.end(), "L3_MON") != names.value.end()) {
    MonResource mon;
    mon.num_rmids = static_cast<unsigned>(rd.number("info/L3_MON/num_rmids").value_or(0));
    mon.max_threshold_occupancy = rd.number("info/L3_MON/max_threshold_occupancy").value_or(0);
    if (auto f = rd.text("info/L3_MON/mon_features")) {
      size_t p = 0;
      while (p < f->size()) {
        size_t nl = f->find('\n', p);
        std::string_view feat = trim(std::string_view(*f).substr(p, nl == std::string::npos ? std::string::npos : nl - p));
        if (!feat.empty()) mon.features.emplace_back(feat);
        p = nl == std::string::npos ? f->size() : nl + 1;
      }
    }
    if (!rd.error.empty()) return R::fail(cg::Status::failure(root.label(), rd.error));
    info.l3_mon = std::move(mon);
  }

  unsigned usable = 0;
  bool first = true;
  auto take = [&](unsigned n) {
    usable = first ? n : std::min(usable, n);
    first = false;
  };
  for (const auto& c : info.caches) take(c.num_closids);
  if (info.mb) take(info.mb->num_closids);
  info.usable_closids = usable;
  return R::success(std::move(info));
}

}  // namespace slo::rdt
