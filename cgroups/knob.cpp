#include "cgroups/knob.h"

#include <algorithm>
#include <array>
#include <charconv>

#include "cgroups/text_util.h"

namespace slo::cg {
namespace {

struct KnobInfo {
  Knob knob;
  std::string_view name;
  Controller controller;
  std::string_view v1_file;  // "" when v1 has no such knob
  std::string_view v2_file;  // "" when v2 has no such knob
};

// One table so names, controllers and file spellings cannot drift apart.
constexpr std::array<KnobInfo, 14> kKnobs{{
    {Knob::cpu_quota, "cpu_quota", Controller::cpu, "cpu.cfs_quota_us", "cpu.max"},
    {Knob::cpu_period, "cpu_period", Controller::cpu, "cpu.cfs_period_us", "cpu.max"},
    {Knob::cpu_burst, "cpu_burst", Controller::cpu, "cpu.cfs_burst_us", "cpu.max.burst"},
    {Knob::cpu_shares, "cpu_shares", Controller::cpu, "cpu.shares", "cpu.weight"},
    {Knob::cpuset_cpus, "cpuset_cpus", Controller::cpuset, "cpuset.cpus", "cpuset.cpus"},
    {Knob::cpuset_mems, "cpuset_mems", Controller::cpuset, "cpuset.mems", "cpuset.mems"},
    {Knob::memory_limit, "memory_limit", Controller::memory, "memory.limit_in_bytes", "memory.max"},
    {Knob::memory_high, "memory_high", Controller::memory, "", "memory.high"},
    {Knob::memory_min, "memory_min", Controller::memory, "", "memory.min"},
    {Knob::memory_low, "memory_low", Controller::memory, "", "memory.low"},
    {Knob::io_read_bps, "io_read_bps", Controller::blkio, "blkio.throttle.read_bps_device", "io.max"},
    {Knob::io_write_bps, "io_write_bps", Controller::blkio, "blkio.throttle.write_bps_device", "io.max"},
    {Knob::io_read_iops, "io_read_iops", Controller::blkio, "blkio.throttle.read_iops_device", "io.max"},
    {Knob::io_write_iops, "io_write_iops", Controller::blkio, "blkio.throttle.write_iops_device", "io.max"},
}};

const KnobInfo& info(Knob k) { return kKnobs[static_cast<size_t>(k)]; }

}  // namespace

std::string_view to_string(Knob k) { return info(k).name; }

std::optional<Knob> knob_from_name(std::string_view name) {
  for (const auto& i : kKnobs)
    if (i.name == name) return i.knob;
  return std::nullopt;
}

Controller controller_of(Knob k) { return info(k).controller; }
bool is_cpuset_knob(Knob k) { return k == Knob::cpuset_cpus || k == Knob::cpuset_mems; }
bool is_io_knob(Knob k) {
  return k == Knob::io_read_bps || k == Knob::io_write_bps || k == Knob::io_read_iops || k == Knob::io_write_iops;
}

std::string_view knob_file(Knob k, Mode m) { return m == Mode::v2 ? info(k).v2_file : info(k).v1_file; }

std::string_view io_max_key(Knob k) {
  switch (k) {
    case Knob::io_read_bps: return "rbps";
    case Knob::io_write_bps: return "wbps";
    case Knob::io_read_iops: return "riops";
    case Knob::io_write_iops: return "wiops";
    default: return "";
  }
}

std::string value_to_string(const KnobValue& v) {
  if (const auto* s = std::get_if<CpuSet>(&v)) return s->to_string();
  return std::to_string(std::get<int64_t>(v));
}

std::optional<KnobValue> value_from_string(Knob k, std::string_view text) {
  // Built in place: GCC 12 with -fsanitize reports a false -Wmaybe-uninitialized when a temporary
  // variant<int64_t, CpuSet> is moved into an optional.
  text = trim(text);
  std::optional<KnobValue> out;
  if (is_cpuset_knob(k)) {
    auto s = CpuSet::parse(text);
    if (s) out.emplace(std::in_place_type<CpuSet>, std::move(*s));
    return out;
  }
  if (auto n = parse_i64(text, /*allow_max=*/true)) out.emplace(std::in_place_type<int64_t>, *n);
  return out;
}

int64_t as_int(const KnobValue& v) {
  if (const auto* i = std::get_if<int64_t>(&v)) return *i;
  return 0;
}

bool values_equal(const KnobValue& a, const KnobValue& b) {
  if (a.index() != b.index()) return false;
  if (const auto* s = std::get_if<CpuSet>(&a)) return *s == std::get<CpuSet>(b);
  return std::get<int64_t>(a) == std::get<int64_t>(b);
}

// The kernel's own mapping (kernel/sched/core.c, runc): shares 2..262144 onto weight 1..10000, integer arithmetic.
int64_t shares_to_weight(int64_t shares) {
  shares = std::clamp<int64_t>(shares, 2, 262144);
  return 1 + (shares - 2) * 9999 / 262142;
}

// Rounded up so that shares_to_weight(weight_to_shares(w)) == w for every weight (floor would lose one step).
int64_t weight_to_shares(int64_t weight) {
  weight = std::clamp<int64_t>(weight, 1, 10000);
  return 2 + ((weight - 1) * 262142 + 9998) / 9999;
}

bool KnobRef::operator<(const KnobRef& o) const {
  // One compare of the (long, prefix-sharing) paths: maps keyed by KnobRef are on every tick's path.
  if (!cgroup.shares(o.cgroup))
    if (int c = cgroup.str().compare(o.cgroup.str()); c != 0) return c < 0;
  if (knob != o.knob) return knob < o.knob;
  return device < o.device;
}

std::string KnobRef::to_string() const {
  std::string out = cgroup + ":" + std::string(slo::cg::to_string(knob));
  if (!device.empty()) out += "[" + device + "]";
  return out;
}

// ---- file spellings --------------------------------------------------------------------------------------------

std::optional<CpuMax> parse_cpu_max(std::string_view text) {
  auto fields = split_ws(trim(text));
  if (fields.empty() || fields.size() > 2) return std::nullopt;
  CpuMax m;
  auto q = parse_i64(fields[0], /*allow_max=*/true);
  if (!q || (*q < 0 && *q != -1)) return std::nullopt;
  m.quota_us = *q;
  if (fields.size() == 2) {
    auto p = parse_i64(fields[1], false);
    if (!p || *p <= 0) return std::nullopt;
    m.period_us = *p;
  }
  return m;
}

std::string format_cpu_max_quota(int64_t quota_us) { return quota_us < 0 ? "max" : std::to_string(quota_us); }

std::string format_cpu_max(int64_t quota_us, int64_t period_us) {
  return format_cpu_max_quota(quota_us) + " " + std::to_string(period_us);
}

bool valid_device(std::string_view dev) {
  size_t colon = dev.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == dev.size()) return false;
  for (size_t i = 0; i < dev.size(); ++i)
    if (i != colon && (dev[i] < '0' || dev[i] > '9')) return false;
  return colon <= 10 && dev.size() - colon - 1 <= 10;
}

std::string format_io_max_line(std::string_view device, Knob k, int64_t value) {
  return std::string(device) + " " + std::string(io_max_key(k)) + "=" + (value < 0 ? "max" : std::to_string(value));
}

std::string format_io_max_entry(const IoMaxEntry& e) {
  auto f = [](int64_t v) { return v < 0 ? std::string("max") : std::to_string(v); };
  return e.device + " rbps=" + f(e.rbps) + " wbps=" + f(e.wbps) + " riops=" + f(e.riops) + " wiops=" + f(e.wiops);
}

// v1 has no "max" for blkio throttles: writing 0 removes the device's rule.
std::string format_blkio_line(std::string_view device, int64_t value) {
  return std::string(device) + " " + std::to_string(value < 0 ? 0 : value);
}

int64_t io_max_field(const IoMaxEntry& e, Knob k) {
  switch (k) {
    case Knob::io_read_bps: return e.rbps;
    case Knob::io_write_bps: return e.wbps;
    case Knob::io_read_iops: return e.riops;
    case Knob::io_write_iops: return e.wiops;
    default: return -1;
  }
}

}  // namespace slo::cg
