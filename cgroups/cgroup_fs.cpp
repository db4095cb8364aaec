#include "cgroups/cgroup_fs.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "cgroups/text_util.h"

namespace slo::cg {
namespace {

// "/kubepods/pod1/" → "kubepods/pod1"; "" and "/" → "" (the root cgroup).
std::string normalize(const std::string& cgroup) {
  size_t b = 0, e = cgroup.size();
  while (b < e && cgroup[b] == '/') ++b;
  while (e > b && cgroup[e - 1] == '/') --e;
  return cgroup.substr(b, e - b);
}

std::string join(const std::string& rel, std::string_view file) {
  if (rel.empty()) return std::string(file);
  return rel + "/" + std::string(file);
}

Status unsafe(const std::string& cgroup) {
  return Status::failure(cgroup.empty() ? "<empty>" : cgroup, "unsafe cgroup path (absolute, '..', '.' or empty part)",
                         EINVAL);
}

Status refuse_root(std::string_view what) {
  return Status::failure("<root cgroup>", "refusing to " + std::string(what) + " the root cgroup", EPERM);
}

// v1 memory.limit_in_bytes prints "unlimited" as PAGE_COUNTER_MAX × page size (9223372036854771712 on 4 KiB pages).
constexpr int64_t kV1Unlimited = int64_t{1} << 62;

template <class T>
Result<T> fail(Status s) {
  return Result<T>::fail(std::move(s));
}

std::vector<int> parse_pids(std::string_view text) {
  std::vector<int> out;
  for (auto tok : split_ws(text))
    if (auto n = parse_i64(tok, false); n && *n > 0 && *n <= 0x7fffffff) out.push_back(static_cast<int>(*n));
  return out;
}

bool kernel_at_least(int major, int minor) {
  struct utsname u;
  if (::uname(&u) != 0) return false;
  int ma = 0, mi = 0;
  if (std::sscanf(u.release, "%d.%d", &ma, &mi) != 2) return false;
  return ma > major || (ma == major && mi >= minor);
}

}  // namespace

Result<CgroupFs> CgroupFs::open(const std::string& root) { return open(root, DetectOptions{}); }

Result<CgroupFs> CgroupFs::open(const std::string& root, const DetectOptions& opts) {
  auto h = Hierarchy::detect(root, opts);
  if (!h.ok()) return fail<CgroupFs>(h.status);
  CgroupFs fs;
  fs.hierarchy_ = std::move(h.value);
  std::map<std::string, std::shared_ptr<DirFd>> by_path;  // co-mounted controllers share one fd
  for (Controller c : {Controller::cpu, Controller::cpuacct, Controller::cpuset, Controller::memory, Controller::blkio,
                       Controller::pids}) {
    auto dir = fs.hierarchy_.controller_dir(c);
    if (!dir) continue;
    auto& slot = by_path[*dir];
    if (!slot) {
      auto d = DirFd::open_root(*dir);
      if (!d.ok()) return fail<CgroupFs>(d.status);
      slot = std::make_shared<DirFd>(std::move(d.value));
    }
    fs.dirs_[c] = slot;
  }
  return Result<CgroupFs>::success(std::move(fs));
}

const DirFd* CgroupFs::controller_dir(Controller c) const {
  auto it = dirs_.find(c);
  return it == dirs_.end() ? nullptr : it->second.get();
}

bool CgroupFs::supports(Knob k) const {
  std::string_view file = knob_file(k, mode());
  const DirFd* d = controller_dir(controller_of(k));
  if (file.empty() || !d) return false;
  if (mode() != Mode::v2) return d->exists(file);
  // The v2 root cgroup has no cpu.max / memory.max …: the enabled controller is the evidence, and for burst a child
  // that shows cpu.max, or failing that the kernel version (cpu.max.burst appeared in 5.14).
  if (k != Knob::cpu_burst) return true;
  auto kids = d->list(".", true);
  if (kids.ok())
    for (const auto& kid : kids.value)
      if (d->exists(kid + "/cpu.max")) return d->exists(kid + "/cpu.max.burst");
  return kernel_at_least(5, 14);
}

bool CgroupFs::exists(const std::string& cgroup, Controller c) const {
  const DirFd* d = controller_dir(c);
  std::string rel = normalize(cgroup);
  if (!d || (!rel.empty() && !is_safe_relative(rel))) return false;
  return d->exists(rel);
}

Result<std::vector<std::string>> CgroupFs::children(const std::string& cgroup, Controller c) const {
  const DirFd* d = controller_dir(c);
  std::string rel = normalize(cgroup);
  if (!d) return fail<std::vector<std::string>>(Status::failure(std::string(to_string(c)), "controller not mounted", ENOTSUP));
  if (!rel.empty() && !is_safe_relative(rel)) return fail<std::vector<std::string>>(unsafe(cgroup));
  return d->list(rel.empty() ? "." : rel, true);
}

std::string CgroupFs::file_of(const KnobRef& ref) const {
  std::string file = join(normalize(ref.cgroup), knob_file(ref.knob, mode()));
  if (mode() == Mode::v2) return file;
  auto dir = hierarchy_.controller_dir(controller_of(ref.knob));
  if (!dir) return std::string(to_string(controller_of(ref.knob))) + "/" + file;
  std::string prefix = hierarchy_.root + "/";
  std::string ctl = dir->compare(0, prefix.size(), prefix) == 0 ? dir->substr(prefix.size()) : *dir;
  return ctl + "/" + file;
}

Result<KnobValue> CgroupFs::read(const KnobRef& ref) const {
  std::string rel = normalize(ref.cgroup);
  if (!rel.empty() && !is_safe_relative(rel)) return fail<KnobValue>(unsafe(ref.cgroup));
  std::string_view file = knob_file(ref.knob, mode());
  const DirFd* d = controller_dir(controller_of(ref.knob));
  if (file.empty() || !d)
    return fail<KnobValue>(Status::failure(file_of(ref), "knob not available in this hierarchy", ENOTSUP));
  if (is_io_knob(ref.knob) && !valid_device(ref.device))
    return fail<KnobValue>(Status::failure(file_of(ref), "io knob needs a MAJ:MIN device, got '" + ref.device + "'", EINVAL));
  auto text = d->read(join(rel, file));
  if (!text.ok()) return fail<KnobValue>(text.status);
  const std::string& t = text.value;
  auto bad = [&] {
    return fail<KnobValue>(Status::failure(file_of(ref), "unparsable content '" + std::string(trim(t)) + "'", EINVAL));
  };
  const bool v2 = mode() == Mode::v2;
  auto ok = [](KnobValue v) { return Result<KnobValue>::success(std::move(v)); };

  if (is_cpuset_knob(ref.knob)) {
    auto s = CpuSet::parse(t);
    if (!s) return bad();
    return ok(*s);
  }
  if (is_io_knob(ref.knob)) {
    if (v2) {
      for (const auto& e : parse_io_max(t))
        if (e.device == ref.device) return ok(io_max_field(e, ref.knob));
      return ok(int64_t{-1});
    }
    auto m = parse_blkio_throttle(t);
    auto it = m.find(ref.device);
    return ok(it == m.end() ? int64_t{-1} : it->second);
  }
  if (v2 && (ref.knob == Knob::cpu_quota || ref.knob == Knob::cpu_period)) {
    auto m = parse_cpu_max(t);
    if (!m) return bad();
    if (ref.knob == Knob::cpu_quota) return ok(m->quota_us);
    return ok(m->period_us.value_or(100000));
  }
  auto n = parse_i64(t, /*allow_max=*/v2);
  if (!n) return bad();
  if (v2 && ref.knob == Knob::cpu_shares) return ok(weight_to_shares(*n));
  if (!v2 && ref.knob == Knob::memory_limit && *n >= kV1Unlimited) return ok(int64_t{-1});
  return ok(*n);
}

Status CgroupFs::write(const KnobRef& ref, const KnobValue& value) const {
  std::string rel = normalize(ref.cgroup);
  if (rel.empty()) return refuse_root("write " + std::string(to_string(ref.knob)) + " of");
  if (!is_safe_relative(rel)) return unsafe(ref.cgroup);
  std::string_view file = knob_file(ref.knob, mode());
  const DirFd* d = controller_dir(controller_of(ref.knob));
  if (file.empty() || !d) return Status::failure(file_of(ref), "knob not available in this hierarchy", ENOTSUP);
  if (is_cpuset_knob(ref.knob) != std::holds_alternative<CpuSet>(value))
    return Status::failure(file_of(ref), "value type does not match the knob", EINVAL);
  if (is_io_knob(ref.knob) && !valid_device(ref.device))
    return Status::failure(file_of(ref), "io knob needs a MAJ:MIN device, got '" + ref.device + "'", EINVAL);

  const bool v2 = mode() == Mode::v2;
  const int64_t n = as_int(value);
  std::string text;
  if (is_cpuset_knob(ref.knob)) {
    const auto& s = std::get<CpuSet>(value);
    text = s.empty() ? "\n" : s.to_string();  // a zero-length write never reaches the kernel's parser
  } else if (is_io_knob(ref.knob)) {
    text = v2 ? format_io_max_line(ref.device, ref.knob, n) : format_blkio_line(ref.device, n);
  } else if (v2) {
    switch (ref.knob) {
      case Knob::cpu_quota: text = format_cpu_max_quota(n); break;
      case Knob::cpu_period: {
        // cpu.max takes "$QUOTA $PERIOD": keep the current quota.
        auto cur = read(KnobRef{rel, Knob::cpu_quota, {}});
        if (!cur.ok()) return cur.status;
        text = format_cpu_max(as_int(cur.value), n);
        break;
      }
      case Knob::cpu_shares: text = std::to_string(shares_to_weight(n)); break;
      case Knob::memory_limit:
      case Knob::memory_high:
      case Knob::memory_min:
      case Knob::memory_low: text = n < 0 ? "max" : std::to_string(n); break;
      default: text = std::to_string(n); break;
    }
  } else {
    text = std::to_string(n);
  }
  return d->write(join(rel, file), text);
}

bool CgroupFs::same_value(const KnobRef& ref, const KnobValue& a, const KnobValue& b) const {
  if (a.index() != b.index()) return false;
  if (std::holds_alternative<CpuSet>(a)) return std::get<CpuSet>(a) == std::get<CpuSet>(b);
  int64_t x = as_int(a), y = as_int(b);
  switch (ref.knob) {
    case Knob::cpu_shares:
      return mode() == Mode::v2 ? shares_to_weight(x) == shares_to_weight(y) : x == y;
    case Knob::memory_limit:
    case Knob::memory_high:
    case Knob::memory_min:
    case Knob::memory_low: {
      if (x < 0 || y < 0) return x < 0 && y < 0;
      static const int64_t page = [] {
        long p = ::sysconf(_SC_PAGESIZE);
        return p > 0 ? static_cast<int64_t>(p) : int64_t{4096};
      }();
      return x / page == y / page;
    }
    default:
      if (x < 0 || y < 0) return x < 0 && y < 0;  // every negative value means "unlimited"
      return x == y;
  }
}

Result<CpuStat> CgroupFs::cpu_stat(const std::string& cgroup) const {
  std::string rel = normalize(cgroup);
  if (!rel.empty() && !is_safe_relative(rel)) return fail<CpuStat>(unsafe(cgroup));
  const DirFd* d = controller_dir(Controller::cpu);
  if (!d) return fail<CpuStat>(Status::failure("cpu", "controller not mounted", ENOTSUP));
  auto t = d->read(join(rel, "cpu.stat"));
  if (!t.ok()) return fail<CpuStat>(t.status);
  auto s = parse_cpu_stat(t.value);
  if (!s) return fail<CpuStat>(Status::failure(join(rel, "cpu.stat"), "unparsable cpu.stat", EINVAL));
  return Result<CpuStat>::success(*s);
}

Result<uint64_t> CgroupFs::cpu_usage_ns(const std::string& cgroup) const {
  std::string rel = normalize(cgroup);
  if (!rel.empty() && !is_safe_relative(rel)) return fail<uint64_t>(unsafe(cgroup));
  if (mode() == Mode::v2) {
    auto s = cpu_stat(rel);
    if (!s.ok()) return fail<uint64_t>(s.status);
    if (!s.value.usage_ns) return fail<uint64_t>(Status::failure(join(rel, "cpu.stat"), "no usage_usec", EINVAL));
    return Result<uint64_t>::success(*s.value.usage_ns);
  }
  const DirFd* d = controller_dir(Controller::cpuacct);
  if (!d) return fail<uint64_t>(Status::failure("cpuacct", "controller not mounted", ENOTSUP));
  auto t = d->read(join(rel, "cpuacct.usage"));
  if (!t.ok()) return fail<uint64_t>(t.status);
  auto n = parse_u64(t.value);
  if (!n) return fail<uint64_t>(Status::failure(join(rel, "cpuacct.usage"), "unparsable", EINVAL));
  return Result<uint64_t>::success(*n);
}

Result<MemoryUsage> CgroupFs::memory(const std::string& cgroup) const {
  std::string rel = normalize(cgroup);
  if (!rel.empty() && !is_safe_relative(rel)) return fail<MemoryUsage>(unsafe(cgroup));
  const DirFd* d = controller_dir(Controller::memory);
  if (!d) return fail<MemoryUsage>(Status::failure("memory", "controller not mounted", ENOTSUP));
  const bool v2 = mode() == Mode::v2;
  auto usage = d->read(join(rel, v2 ? "memory.current" : "memory.usage_in_bytes"));
  if (!usage.ok()) return fail<MemoryUsage>(usage.status);
  auto stat = d->read(join(rel, "memory.stat"));
  if (!stat.ok()) return fail<MemoryUsage>(stat.status);
  auto n = parse_i64(usage.value, false);
  if (!n) return fail<MemoryUsage>(Status::failure(join(rel, v2 ? "memory.current" : "memory.usage_in_bytes"),
                                                   "unparsable", EINVAL));
  MemoryUsage m;
  m.usage_bytes = *n;
  m.stat = parse_flat_keyed(stat.value);
  // kubelet's working set: usage minus inactive file pages (v1 uses the hierarchical total_ counter).
  uint64_t inactive = 0;
  if (auto it = m.stat.find(v2 ? "inactive_file" : "total_inactive_file"); it != m.stat.end())
    inactive = it->second;
  else if (auto it2 = m.stat.find("inactive_file"); it2 != m.stat.end())
    inactive = it2->second;
  m.working_set_bytes = static_cast<uint64_t>(m.usage_bytes) > inactive ? m.usage_bytes - static_cast<int64_t>(inactive) : 0;
  return Result<MemoryUsage>::success(std::move(m));
}

namespace {
struct StatLoc {
  std::vector<Controller> controllers;  // tried in order
  std::string_view file;
};
StatLoc stat_location(StatFile f, Mode m) {
  const bool v2 = m == Mode::v2;
  switch (f) {
    case StatFile::cpu_stat: return {{Controller::cpu}, "cpu.stat"};
    case StatFile::cpu_usage:
      return v2 ? StatLoc{{Controller::cpu}, "cpu.stat"} : StatLoc{{Controller::cpuacct}, "cpuacct.usage"};
    case StatFile::memory_usage: return {{Controller::memory}, v2 ? "memory.current" : "memory.usage_in_bytes"};
    case StatFile::memory_stat: return {{Controller::memory}, "memory.stat"};
    // v1 kernels booted with psi_cgroupv1 put cpu.pressure in the cpuacct hierarchy; try cpu as well.
    case StatFile::cpu_pressure: return {{Controller::cpuacct, Controller::cpu}, "cpu.pressure"};
    case StatFile::memory_pressure: return {{Controller::memory}, "memory.pressure"};
    case StatFile::io_pressure: return {{Controller::blkio}, "io.pressure"};
  }
  return {{}, ""};
}
}  // namespace

Result<Psi> CgroupFs::pressure(const std::string& cgroup, StatFile which) const {
  if (which != StatFile::cpu_pressure && which != StatFile::memory_pressure && which != StatFile::io_pressure)
    return fail<Psi>(Status::failure("pressure", "not a pressure file", EINVAL));
  std::string rel = normalize(cgroup);
  if (!rel.empty() && !is_safe_relative(rel)) return fail<Psi>(unsafe(cgroup));
  auto loc = stat_location(which, mode());
  Status last = Status::from_errno(ENOENT, join(rel, loc.file));
  for (Controller c : loc.controllers) {
    const DirFd* d = controller_dir(c);
    if (!d) continue;
    auto t = d->read(join(rel, loc.file));
    if (!t.ok()) {
      last = t.status;
      continue;
    }
    auto p = parse_psi(t.value);
    if (!p) return fail<Psi>(Status::failure(join(rel, loc.file), "unparsable PSI", EINVAL));
    return Result<Psi>::success(*p);
  }
  return fail<Psi>(last);
}

Result<KeptFile> CgroupFs::keep_open(const std::string& cgroup, StatFile f) const {
  std::string rel = normalize(cgroup);
  if (!rel.empty() && !is_safe_relative(rel)) return fail<KeptFile>(unsafe(cgroup));
  auto loc = stat_location(f, mode());
  Status last = Status::from_errno(ENOENT, join(rel, loc.file));
  for (Controller c : loc.controllers) {
    const DirFd* d = controller_dir(c);
    if (!d) continue;
    auto k = KeptFile::open(*d, join(rel, loc.file));
    if (k.ok()) return k;
    last = k.status;
  }
  return fail<KeptFile>(last);
}

Result<std::vector<int>> CgroupFs::procs(const std::string& cgroup, Controller c) const {
  std::string rel = normalize(cgroup);
  if (!rel.empty() && !is_safe_relative(rel)) return fail<std::vector<int>>(unsafe(cgroup));
  const DirFd* d = controller_dir(c);
  if (!d) return fail<std::vector<int>>(Status::failure(std::string(to_string(c)), "controller not mounted", ENOTSUP));
  auto t = d->read(join(rel, "cgroup.procs"));
  if (!t.ok()) return fail<std::vector<int>>(t.status);
  return Result<std::vector<int>>::success(parse_pids(t.value));
}

Result<std::vector<int>> CgroupFs::threads(const std::string& cgroup, Controller c) const {
  std::string rel = normalize(cgroup);
  if (!rel.empty() && !is_safe_relative(rel)) return fail<std::vector<int>>(unsafe(cgroup));
  const DirFd* d = controller_dir(c);
  if (!d) return fail<std::vector<int>>(Status::failure(std::string(to_string(c)), "controller not mounted", ENOTSUP));
  auto t = d->read(join(rel, mode() == Mode::v2 ? "cgroup.threads" : "tasks"));
  if (!t.ok()) return fail<std::vector<int>>(t.status);
  return Result<std::vector<int>>::success(parse_pids(t.value));
}

Result<std::set<Controller>> CgroupFs::enabled_controllers(const std::string& cgroup) const {
  std::string rel = normalize(cgroup);
  if (!rel.empty() && !is_safe_relative(rel)) return fail<std::set<Controller>>(unsafe(cgroup));
  std::set<Controller> out;
  if (mode() == Mode::v2) {
    const DirFd* d = controller_dir(Controller::cpuacct);  // always the unified dir on v2
    auto t = d->read(join(rel, "cgroup.controllers"));
    if (!t.ok()) return fail<std::set<Controller>>(t.status);
    for (auto tok : split_ws(t.value))
      if (auto c = controller_from_name(tok)) out.insert(*c);
    return Result<std::set<Controller>>::success(std::move(out));
  }
  for (const auto& [c, d] : dirs_)
    if (d->exists(rel.empty() ? "." : rel)) out.insert(c);
  return Result<std::set<Controller>>::success(std::move(out));
}

namespace {
// Distinct hierarchy dirs (co-mounted controllers once), cpuset last so its parent values exist when copied.
std::vector<std::pair<Controller, const DirFd*>> distinct_dirs(const std::map<Controller, std::shared_ptr<DirFd>>& m) {
  std::vector<std::pair<Controller, const DirFd*>> out;
  for (const auto& [c, d] : m) {
    bool seen = false;
    for (const auto& [c2, d2] : out) seen = seen || d2 == d.get();
    if (!seen) out.emplace_back(c, d.get());
  }
  return out;
}
}  // namespace

Status CgroupFs::create(const std::string& cgroup) const {
  std::string rel = normalize(cgroup);
  if (rel.empty()) return refuse_root("create");
  if (!is_safe_relative(rel)) return unsafe(cgroup);
  for (const auto& [c, d] : distinct_dirs(dirs_)) {
    size_t pos = 0;
    while (true) {
      size_t slash = rel.find('/', pos);
      std::string part = rel.substr(0, slash);
      if (!d->exists(part)) {
        Status s = d->mkdir(part);
        if (!s.ok() && s.err != EEXIST) return s;
        bool cpuset_here = mode() != Mode::v2 && (c == Controller::cpuset || controller_dir(Controller::cpuset) == d);
        if (cpuset_here && s.ok()) {
          size_t ps = part.rfind('/');
          std::string parent = ps == std::string::npos ? "" : part.substr(0, ps);
          for (std::string_view f : {"cpuset.cpus", "cpuset.mems"}) {
            if (!d->exists(join(part, f))) continue;  // a plain directory tree (fixture) has no kernel files
            auto pv = d->read(join(parent, f));
            if (!pv.ok()) return pv.status;
            std::string v(trim(pv.value));
            if (v.empty()) continue;
            Status w = d->write(join(part, f), v);
            if (!w.ok()) return w;
          }
        }
      }
      if (slash == std::string::npos) break;
      pos = slash + 1;
    }
  }
  return Status{};
}

Status CgroupFs::remove(const std::string& cgroup) const {
  std::string rel = normalize(cgroup);
  if (rel.empty()) return refuse_root("remove");
  if (!is_safe_relative(rel)) return unsafe(cgroup);
  Status first;
  for (const auto& [c, d] : distinct_dirs(dirs_)) {
    Status s = d->rmdir(rel);
    if (!s.ok() && !s.gone() && first.ok()) first = s;
  }
  return first;
}

Status CgroupFs::attach(const std::string& cgroup, int pid) const {
  std::string rel = normalize(cgroup);
  if (rel.empty()) return refuse_root("attach a task to");
  if (!is_safe_relative(rel)) return unsafe(cgroup);
  if (pid <= 0) return Status::failure(join(rel, "cgroup.procs"), "invalid pid", EINVAL);
  for (const auto& [c, d] : distinct_dirs(dirs_)) {
    Status s = d->write(join(rel, "cgroup.procs"), std::to_string(pid));
    if (!s.ok()) return s;
  }
  return Status{};
}

}  // namespace slo::cg
