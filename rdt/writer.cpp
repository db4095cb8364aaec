#include "rdt/writer.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>

#include "rdt/root.h"

namespace slo::rdt {
namespace {

bool owned_name(const std::string& name, const std::string& prefix) {
  return name.size() > prefix.size() && name.compare(0, prefix.size(), prefix) == 0 &&
         name.find('/') == std::string::npos;
}

std::vector<int> sorted_unique(std::vector<int> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

std::vector<int> minus(const std::vector<int>& a, const std::vector<int>& b) {
  std::vector<int> out;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

}  // namespace

std::vector<int> parse_tasks(std::string_view text) {
  std::vector<int> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    while (!line.empty() && line.back() == ' ') line.remove_suffix(1);
    int v = 0;
    auto r = std::from_chars(line.data(), line.data() + line.size(), v);
    if (r.ec == std::errc{} && r.ptr == line.data() + line.size() && v > 0) out.push_back(v);
  }
  return sorted_unique(std::move(out));
}

cg::Status ResctrlWriter::with_last_cmd_status(cg::Status s) const {
  std::string lcs = fs_.last_cmd_status();
  if (!lcs.empty()) s.detail = (s.detail.empty() ? "" : s.detail + "; ") + "last_cmd_status: " + lcs;
  return s;
}

cg::Status ResctrlWriter::ensure_group(const std::string& name, unsigned usable_closids) {
  if (!owned_name(name, prefix_))
    return cg::Status::failure(name, "refusing a group name without the prefix '" + prefix_ + "'", EINVAL);
  if (fs_.root().exists(name)) return cg::Status{};
  cg::Status s = fs_.make_group(name);
  if (s.ok() || s.err == EEXIST) return cg::Status{};
  if (s.err == ENOSPC) {
    std::string in_use;
    if (auto groups = fs_.list_groups(); groups.ok()) {
      for (const auto& g : groups.value) in_use += (in_use.empty() ? "" : ", ") + g;
    }
    s.detail = "no free CLOSID for resctrl group " + name +
               (usable_closids ? " (usable num_closids=" + std::to_string(usable_closids) + ", root included" : " (") +
               "; groups present: " + (in_use.empty() ? "none" : in_use) + ")";
  }
  return with_last_cmd_status(std::move(s));
}

cg::Status ResctrlWriter::write_schemata(const std::string& group, const Schemata& desired, bool* written) {
  if (written) *written = false;
  if (desired.resources.empty()) return cg::Status{};
  auto cur = fs_.read(group + "/schemata");
  if (cur.ok() && schemata_satisfied(parse_schemata(cur.value).schemata, desired)) return cg::Status{};
  if (!cur.ok() && cur.gone()) return cur.status;
  cg::Status s = fs_.write_file(group + "/schemata", render_schemata(desired));
  if (!s.ok()) return s.gone() ? s : with_last_cmd_status(std::move(s));
  if (written) *written = true;
  return s;
}

void ResctrlWriter::write_tids(const std::string& tasks_rel, const std::vector<int>& tids, size_t* written,
                               size_t* gone, size_t* failed, std::vector<cg::Status>* errors) {
  if (tids.empty()) return;
  int fd = fs_.open_append(tasks_rel);
  if (fd < 0) {
    *failed += tids.size();
    if (errors) errors->push_back(cg::Status::from_errno(-fd, fs_.root().label() + "/" + tasks_rel));
    return;
  }
  bool reported = false;
  char buf[16];
  for (int tid : tids) {
    // One TID per write(2): the kernel moves one task per write and fails the whole write on the first bad TID.
    auto r = std::to_chars(buf, buf + sizeof buf - 1, tid);
    *r.ptr = '\n';
    int e = fs_.write_fd(fd, std::string_view(buf, static_cast<size_t>(r.ptr - buf) + 1));
    if (e == 0) {
      ++*written;
    } else if (e == ESRCH) {
      ++*gone;
    } else {
      ++*failed;
      if (!reported && errors) {
        errors->push_back(with_last_cmd_status(
            cg::Status::from_errno(e, fs_.root().label() + "/" + tasks_rel, std::to_string(tid))));
        reported = true;  // one status per file and tick, not one per thread
      }
    }
  }
  ::close(fd);
}

TaskSyncStats ResctrlWriter::sync_tasks(const std::vector<GroupSpec>& groups, std::vector<cg::Status>* errors) {
  TaskSyncStats st;
  std::vector<std::vector<int>> desired(groups.size());
  std::vector<int> all;
  for (size_t i = 0; i < groups.size(); ++i) {
    desired[i] = sorted_unique(groups[i].tids);
    st.desired += desired[i].size();
    all.insert(all.end(), desired[i].begin(), desired[i].end());
  }
  all = sorted_unique(std::move(all));
  std::vector<int> release;
  for (size_t i = 0; i < groups.size(); ++i) {
    const std::string rel = groups[i].name + "/tasks";
    auto cur = fs_.read(rel);
    if (!cur.ok()) {
      if (errors && !cur.gone()) errors->push_back(cur.status);
      continue;
    }
    std::vector<int> current = parse_tasks(cur.value);
    std::vector<int> missing = minus(desired[i], current);
    st.already += desired[i].size() - missing.size();
    write_tids(rel, missing, &st.written, &st.gone, &st.failed, errors);
    // Threads in an owned group that no owned group wants any more go back to the root group. Those wanted by
    // another owned group are moved by the write to that group above.
    std::vector<int> extra = minus(minus(current, desired[i]), all);
    release.insert(release.end(), extra.begin(), extra.end());
  }
  release = sorted_unique(std::move(release));
  size_t released_gone = 0;
  write_tids("tasks", release, &st.released, &released_gone, &st.failed, errors);
  st.gone += released_gone;
  return st;
}

std::vector<std::string> ResctrlWriter::remove_owned(const std::set<std::string>& keep,
                                                     std::vector<cg::Status>* errors) {
  std::vector<std::string> removed;
  auto groups = fs_.list_groups();
  if (!groups.ok()) {
    if (errors) errors->push_back(groups.status);
    return removed;
  }
  for (const auto& g : groups.value) {
    if (!owned_name(g, prefix_) || keep.count(g)) continue;
    cg::Status s = fs_.remove_group(g);
    if (s.ok() || s.gone())
      removed.push_back(g);
    else if (errors)
      errors->push_back(with_last_cmd_status(std::move(s)));
  }
  return removed;
}

ApplyReport ResctrlWriter::apply(const std::vector<GroupSpec>& groups, unsigned usable_closids) {
  ApplyReport rep;
  auto lock = RootLock::acquire(fs_.root(), lock_timeout_);
  if (!lock.ok()) {
    rep.errors.push_back(lock.status);
    return rep;
  }
  std::set<std::string> keep;
  for (const auto& g : groups) keep.insert(g.name);
  // Remove first: a stale or disabled group frees its CLOSID for a group created below.
  rep.removed = remove_owned(keep, &rep.errors);

  std::vector<GroupSpec> live;
  for (const auto& g : groups) {
    bool existed = fs_.root().exists(g.name);
    cg::Status s = ensure_group(g.name, usable_closids);
    if (!s.ok()) {
      if (s.err == ENOSPC) rep.closid_exhausted.push_back(g.name);
      rep.errors.push_back(std::move(s));
      continue;  // its threads stay in the root group; retried next tick
    }
    if (!existed) rep.created.push_back(g.name);
    bool written = false;
    s = write_schemata(g.name, g.schemata, &written);
    if (!s.ok()) {
      rep.errors.push_back(std::move(s));
      continue;  // do not move threads into a group whose limits are not what we want
    }
    if (written) rep.schemata_written.push_back(g.name);
    live.push_back(g);
  }
  rep.tasks = sync_tasks(live, &rep.errors);
  return rep;
}

cg::Result<std::vector<std::string>> remove_owned_groups(ResctrlFs& fs, const std::string& prefix) {
  using R = cg::Result<std::vector<std::string>>;
  ResctrlWriter w(fs, prefix);
  auto lock = RootLock::acquire(fs.root(), std::chrono::milliseconds(5000));
  if (!lock.ok()) return R::fail(lock.status);
  std::vector<cg::Status> errors;
  auto removed = w.remove_owned({}, &errors);
  if (!errors.empty()) return R{errors.front(), removed};
  return R::success(std::move(removed));
}

cg::Result<std::vector<std::string>> remove_owned_groups(const std::string& resctrl_root, const std::string& prefix) {
  using R = cg::Result<std::vector<std::string>>;
  auto root = open_resctrl_root(resctrl_root, RootCheck::mount_magic);
  if (!root.ok()) return R::fail(root.status);
  ResctrlFs fs(std::move(root.value.dir));
  return remove_owned_groups(fs, prefix);
}

}  // namespace slo::rdt
