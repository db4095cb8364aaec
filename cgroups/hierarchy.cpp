#include "cgroups/hierarchy.h"

#include <fcntl.h>
#include <libcgroup.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <deque>
#include <mutex>

#include "cgroups/safe_dir.h"
#include "cgroups/text_util.h"

namespace slo::cg {
namespace {

constexpr std::array<std::pair<Controller, std::string_view>, 6> kNames{{
    {Controller::cpu, "cpu"},
    {Controller::cpuacct, "cpuacct"},
    {Controller::cpuset, "cpuset"},
    {Controller::memory, "memory"},
    {Controller::blkio, "blkio"},
    {Controller::pids, "pids"},
}};

std::vector<std::string_view> split_commas(std::string_view s) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  while (pos <= s.size()) {
    size_t c = s.find(',', pos);
    auto part = s.substr(pos, c == std::string_view::npos ? std::string_view::npos : c - pos);
    if (!part.empty()) out.push_back(part);
    if (c == std::string_view::npos) break;
    pos = c + 1;
  }
  return out;
}

// Controllers named by a v1 mount directory ("cpu,cpuacct") or a mount's super options.
std::set<Controller> controllers_in(const std::vector<std::string_view>& names) {
  std::set<Controller> out;
  for (auto n : names)
    if (auto c = controller_from_name(n); c && n != "io") out.insert(*c);
  return out;
}

long fs_magic(int fd) {
  struct statfs st;
  if (::fstatfs(fd, &st) != 0) return 0;
  return static_cast<long>(st.f_type);
}

long fs_magic_beneath(const DirFd& root, std::string_view rel) {
  auto d = root.open_dir(rel);
  return d.ok() ? fs_magic(d.value.fd()) : 0;
}

bool is_dir_at(int dirfd, const std::string& name) {
  struct stat st;
  return ::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
}

bool is_link_at(int dirfd, const std::string& name) {
  struct stat st;
  return ::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);
}

// A "cpu" -> "cpu,cpuacct" link is followed only when it names a directory directly inside the root (relative
// single component, or the absolute path of one): a link must not move a controller outside the tree we were given.
std::optional<std::string> link_target_in_root(const DirFd& root, const std::string& root_path,
                                               const std::string& name) {
  char buf[4096];
  ssize_t n = ::readlinkat(root.fd(), name.c_str(), buf, sizeof buf - 1);
  if (n <= 0) return std::nullopt;
  std::string target(buf, static_cast<size_t>(n));
  if (!target.empty() && target.front() == '/') {
    std::string prefix = root_path + "/";
    if (target.compare(0, prefix.size(), prefix) != 0) return std::nullopt;
    target = target.substr(prefix.size());
  }
  while (!target.empty() && target.back() == '/') target.pop_back();
  if (target.empty() || target.find('/') != std::string::npos || target == "." || target == "..") return std::nullopt;
  if (!is_dir_at(root.fd(), target)) return std::nullopt;
  return target;
}

std::set<Controller> read_v2_controllers(const DirFd& unified, bool& known) {
  std::set<Controller> out;
  auto r = unified.read("cgroup.controllers");
  known = r.ok();
  if (!r.ok()) return out;
  for (auto tok : split_ws(r.value))
    if (auto c = controller_from_name(tok)) out.insert(*c);
  return out;
}

// v1 controller directories found by listing the root. `kernel` requires each to be a real v1 mount (fstatfs).
void scan_v1_dirs(const DirFd& root, const std::string& root_path, bool kernel, std::map<Controller, std::string>& out) {
  auto names = root.list(".", false);
  if (!names.ok()) return;
  std::map<Controller, std::string> from_links;
  for (const auto& name : names.value) {
    auto ctrls = controllers_in(split_commas(name));
    if (ctrls.empty()) continue;
    std::string target = name;
    bool via_link = false;
    if (is_link_at(root.fd(), name)) {
      auto t = link_target_in_root(root, root_path, name);
      if (!t) continue;
      target = *t;
      via_link = true;
    } else if (!is_dir_at(root.fd(), name)) {
      continue;
    }
    if (kernel && fs_magic_beneath(root, target) != CGROUP_SUPER_MAGIC) continue;
    for (auto c : ctrls) {
      auto& dst = via_link ? from_links : out;
      if (!dst.count(c)) dst[c] = root_path + "/" + target;
    }
  }
  // A real directory wins over a link of the same controller name.
  for (auto& [c, dir] : from_links)
    if (!out.count(c)) out[c] = dir;
}

// libcgroup keeps a process-wide mount table; cgroup_init re-reads /proc/self/mounts and is not meant to run
// concurrently, hence the lock. Only v1 mounts beneath the root that fstatfs confirms are taken (libcgroup 2.0.2
// reports v2-only controllers such as hugetlb at the cgroup2 mount of a hybrid host, which is wrong for us).
void libcgroup_v1_dirs(const DirFd& root, const std::string& root_path, std::map<Controller, std::string>& out) {
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  if (cgroup_init() != 0) return;
  void* handle = nullptr;
  struct cgroup_mount_point mp;
  int ret = cgroup_get_controller_begin(&handle, &mp);
  while (ret == 0) {
    std::string path = mp.path;
    std::string prefix = root_path + "/";
    if (path.compare(0, prefix.size(), prefix) == 0) {
      std::string rel = path.substr(prefix.size());
      auto c = controller_from_name(mp.name);
      if (c && std::string_view(mp.name) != "io" && is_safe_relative(rel) &&
          fs_magic_beneath(root, rel) == CGROUP_SUPER_MAGIC && !out.count(*c))
        out[*c] = path;
    }
    ret = cgroup_get_controller_next(&handle, &mp);
  }
  cgroup_get_controller_end(&handle);
}

// Fixture trees may hold a v2 sub-tree without a top-level cgroup.controllers: look a few levels down.
bool has_v2_files_below(const DirFd& root) {
  std::deque<std::pair<std::string, int>> todo{{".", 0}};
  int visited = 0;
  while (!todo.empty() && visited < 256) {
    auto [rel, depth] = todo.front();
    todo.pop_front();
    ++visited;
    auto d = root.open_dir(rel);
    if (!d.ok()) continue;
    if (d.value.exists("cgroup.controllers")) return true;
    if (depth >= 4) continue;
    auto kids = d.value.list(".", true);
    if (!kids.ok()) continue;
    for (const auto& k : kids.value) todo.emplace_back(rel == "." ? k : rel + "/" + k, depth + 1);
  }
  return false;
}

std::string unescape_mount(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      auto o = [](char c) { return c >= '0' && c <= '7'; };
      if (o(s[i + 1]) && o(s[i + 2]) && o(s[i + 3])) {
        out += static_cast<char>(((s[i + 1] - '0') << 6) | ((s[i + 2] - '0') << 3) | (s[i + 3] - '0'));
        i += 3;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

// The part of a mount point after ".../sys/fs/cgroup" ("cpu,cpuacct", "unified", "" for the mount itself);
// nullopt when the mount is elsewhere.
std::optional<std::string> rel_to_cgroup_mount(const std::string& mp) {
  static constexpr std::string_view kTail = "sys/fs/cgroup";
  size_t pos = mp.rfind(kTail);
  while (pos != std::string::npos) {
    bool starts_ok = pos == 0 || mp[pos - 1] == '/';
    size_t end = pos + kTail.size();
    bool ends_ok = end == mp.size() || mp[end] == '/';
    if (starts_ok && ends_ok) {
      std::string rel = end == mp.size() ? "" : mp.substr(end + 1);
      while (!rel.empty() && rel.back() == '/') rel.pop_back();
      return rel;
    }
    if (pos == 0) break;
    pos = mp.rfind(kTail, pos - 1);
  }
  return std::nullopt;
}

bool from_mountinfo(const DirFd& root, const std::string& root_path, const std::string& proc_root, Hierarchy& h) {
  auto pr = DirFd::open_root(proc_root);
  if (!pr.ok()) return false;
  auto text = pr.value.read("self/mountinfo");
  if (!text.ok()) return false;
  bool any = false;
  for (const auto& m : parse_mountinfo(text.value)) {
    if (m.fstype != "cgroup" && m.fstype != "cgroup2") continue;
    auto rel = rel_to_cgroup_mount(m.mount_point);
    if (!rel) continue;
    if (m.fstype == "cgroup2") {
      if (rel->empty()) {
        h.mode = Mode::v2;
        h.unified_dir = root_path;
        any = true;
      } else if (is_safe_relative(*rel) && root.exists(*rel) && h.unified_dir.empty()) {
        h.unified_dir = root_path + "/" + *rel;
        any = true;
      }
      continue;
    }
    if (rel->empty() || !is_safe_relative(*rel) || !root.exists(*rel)) continue;
    std::vector<std::string_view> opts(m.super_options.begin(), m.super_options.end());
    for (auto c : controllers_in(opts))
      if (!h.v1_dirs.count(c)) h.v1_dirs[c] = root_path + "/" + *rel;
    any = true;
  }
  if (!any) return false;
  if (h.mode != Mode::v2) h.mode = h.unified_dir.empty() ? Mode::v1 : Mode::hybrid;
  if (h.mode == Mode::v2) h.v1_dirs.clear();
  h.source = "mountinfo";
  return true;
}

}  // namespace

std::string_view to_string(Mode m) {
  switch (m) {
    case Mode::v1: return "v1";
    case Mode::hybrid: return "hybrid";
    case Mode::v2: return "v2";
  }
  return "?";
}

std::string_view to_string(Controller c) {
  for (const auto& [k, n] : kNames)
    if (k == c) return n;
  return "?";
}

std::optional<Controller> controller_from_name(std::string_view name) {
  if (name == "io") return Controller::blkio;  // the v2 name of the block I/O controller
  for (const auto& [k, n] : kNames)
    if (n == name) return k;
  return std::nullopt;
}

std::vector<MountInfoEntry> parse_mountinfo(std::string_view text) {
  std::vector<MountInfoEntry> out;
  for (auto line : split_lines(text)) {
    auto f = split_ws(line);
    // id parent maj:min root mount-point options [optional…] - fstype source super-options
    size_t sep = 0;
    for (size_t i = 6; i < f.size(); ++i)
      if (f[i] == "-") {
        sep = i;
        break;
      }
    if (sep == 0 || sep + 1 >= f.size()) continue;
    MountInfoEntry e;
    e.root = unescape_mount(f[3]);
    e.mount_point = unescape_mount(f[4]);
    e.fstype = std::string(f[sep + 1]);
    if (sep + 3 < f.size())
      for (auto o : split_commas(f[sep + 3])) e.super_options.emplace_back(o);
    out.push_back(std::move(e));
  }
  return out;
}

Result<Hierarchy> Hierarchy::detect(const std::string& root) { return detect(root, DetectOptions{}); }

Result<Hierarchy> Hierarchy::detect(const std::string& root_in, const DetectOptions& opts) {
  std::string root_path = root_in;
  while (root_path.size() > 1 && root_path.back() == '/') root_path.pop_back();
  auto rootfd = DirFd::open_root(root_path);
  if (!rootfd.ok()) return Result<Hierarchy>::fail(rootfd.status);
  const DirFd& root = rootfd.value;

  Hierarchy h;
  h.root = root_path;
  long magic = fs_magic(root.fd());

  if (!opts.proc_root.empty() && magic != CGROUP2_SUPER_MAGIC && magic != TMPFS_MAGIC &&
      from_mountinfo(root, root_path, opts.proc_root, h)) {
    // Mount table given explicitly (fixture or a foreign namespace); nothing else to probe.
  } else if (magic == CGROUP2_SUPER_MAGIC) {
    h.mode = Mode::v2;
    h.unified_dir = root_path;
    h.source = "fstatfs";
  } else if (magic == TMPFS_MAGIC) {
    if (opts.use_libcgroup) libcgroup_v1_dirs(root, root_path, h.v1_dirs);
    bool from_lib = !h.v1_dirs.empty();
    scan_v1_dirs(root, root_path, /*kernel=*/true, h.v1_dirs);
    h.source = from_lib ? "fstatfs+libcgroup" : "fstatfs+scan";
    if (fs_magic_beneath(root, "unified") == CGROUP2_SUPER_MAGIC) h.unified_dir = root_path + "/unified";
    if (h.v1_dirs.empty()) {
      if (h.unified_dir.empty())
        return Result<Hierarchy>::fail(
            Status::failure(root_path, "tmpfs without cgroup v1 or cgroup2 mounts below it", ENOENT));
      return Result<Hierarchy>::fail(
          Status::failure(root_path, "only a cgroup2 mount at unified/: pass it as the root instead", ENOENT));
    }
    h.mode = h.unified_dir.empty() ? Mode::v1 : Mode::hybrid;
  } else if (magic == CGROUP_SUPER_MAGIC) {
    return Result<Hierarchy>::fail(Status::failure(
        root_path, "this is one v1 controller mount; pass the directory holding all of them", EINVAL));
  } else {
    // A copy on an ordinary filesystem: classify by what is inside.
    h.source = "content";
    if (root.exists("cgroup.controllers")) {
      h.mode = Mode::v2;
      h.unified_dir = root_path;
    } else {
      scan_v1_dirs(root, root_path, /*kernel=*/false, h.v1_dirs);
      if (!h.v1_dirs.empty()) {
        if (is_dir_at(root.fd(), "unified")) h.unified_dir = root_path + "/unified";
        h.mode = h.unified_dir.empty() ? Mode::v1 : Mode::hybrid;
      } else if (has_v2_files_below(root)) {
        h.mode = Mode::v2;
        h.unified_dir = root_path;
      } else {
        return Result<Hierarchy>::fail(Status::failure(root_path, "no cgroup hierarchy found below", ENOENT));
      }
    }
  }

  if (h.mode == Mode::v2) {
    auto u = DirFd::open_root(h.unified_dir);
    if (!u.ok()) return Result<Hierarchy>::fail(u.status);
    h.v2_controllers = read_v2_controllers(u.value, h.v2_controllers_known);
  }
  return Result<Hierarchy>::success(std::move(h));
}

std::optional<std::string> Hierarchy::controller_dir(Controller c) const {
  if (mode == Mode::v2) {
    // cpu.stat (usage) is a core file on v2: cpuacct's role needs no controller.
    if (c == Controller::cpuacct || !v2_controllers_known || v2_controllers.count(c)) return unified_dir;
    return std::nullopt;
  }
  auto it = v1_dirs.find(c);
  if (it == v1_dirs.end()) return std::nullopt;
  return it->second;
}

}  // namespace slo::cg
