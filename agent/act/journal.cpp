#include "agent/act/journal.h"

#include "agent/runtime/state_file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "agent/runtime/document.h"
#include "cgroups/safe_dir.h"

namespace slo::agent {
namespace {

constexpr const char* kFormat = "sloagent-journal";
constexpr int kVersion = 1;

std::string checksum(const std::string& s) { return "fnv1a64:" + fnv1a64_hex(s); }

}  // namespace

Journal::Journal(std::string dir) : dir_(std::move(dir)) {
  if (!dir_.empty()) path_ = dir_ + "/journal.json";
}

Journal::~Journal() {
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

const JournalEntry* Journal::find(const cg::KnobRef& ref) const {
  auto it = entries_.find(ref);
  return it == entries_.end() ? nullptr : &it->second;
}

// Written entry by entry, without a JSON tree: at 3000 knobs the tree (built twice, for the checksum and the
// document) was a 6 MB allocation peak on the first apply, which set the agent's resident size for good. The checksum
// covers the compact dump of the entries array exactly as parse() re-dumps it (keys in nlohmann's sorted order,
// strings escaped by nlohmann), so journals written before and after this change verify the same way.
std::string Journal::serialize(const std::map<cg::KnobRef, JournalEntry>& entries) {
  auto quoted = [](const std::string& v) { return nlohmann::json(v).dump(); };
  std::string body = "[";
  std::string lines;  // the same entries, one per line, for humans reading the file
  for (const auto& [ref, e] : entries) {
    std::string one = "{\"cgroup\":" + quoted(ref.cgroup) + ",\"device\":" + quoted(ref.device) +
                      ",\"file\":" + quoted(e.file) + ",\"knob\":" + quoted(std::string(cg::to_string(ref.knob))) +
                      ",\"original\":" + quoted(cg::value_to_string(e.original)) + "}";
    if (body.size() > 1) {
      body += ',';
      lines += ",\n";
    }
    body += one;
    lines += "  " + one;
  }
  body += ']';
  return std::string("{\n \"format\": \"") + kFormat + "\",\n \"version\": " + std::to_string(kVersion) +
         ",\n \"checksum\": \"" + checksum(body) + "\",\n \"entries\": [" + (lines.empty() ? "" : "\n" + lines + "\n ") +
         "]\n}\n";
}

std::optional<std::map<cg::KnobRef, JournalEntry>> Journal::parse(const std::string& text, std::string& error) {
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    error = std::string("not JSON: ") + e.what();
    return std::nullopt;
  }
  if (!doc.is_object() || doc.value("format", "") != kFormat) {
    error = "not a sloagent journal (format field)";
    return std::nullopt;
  }
  if (!doc.contains("version") || !doc["version"].is_number_integer() || doc["version"].get<int>() != kVersion) {
    error = "unsupported journal version";
    return std::nullopt;
  }
  if (!doc.contains("entries") || !doc["entries"].is_array() || !doc.contains("checksum") ||
      !doc["checksum"].is_string()) {
    error = "entries or checksum missing";
    return std::nullopt;
  }
  if (checksum(doc["entries"].dump()) != doc["checksum"].get<std::string>()) {
    error = "checksum mismatch";
    return std::nullopt;
  }
  std::map<cg::KnobRef, JournalEntry> out;
  try {
    for (const auto& e : doc["entries"]) {
      JournalEntry je;
      je.ref.cgroup = e.at("cgroup").get<std::string>();
      auto k = cg::knob_from_name(e.at("knob").get<std::string>());
      if (!k || !cg::is_safe_relative(je.ref.cgroup)) {
        error = "bad entry " + e.dump();
        return std::nullopt;
      }
      je.ref.knob = *k;
      je.ref.device = e.value("device", "");
      auto v = cg::value_from_string(*k, e.at("original").get<std::string>());
      if (!v) {
        error = "bad original value in " + e.dump();
        return std::nullopt;
      }
      je.original = *v;
      je.file = e.value("file", "");
      out[je.ref] = std::move(je);
    }
  } catch (const nlohmann::json::exception& ex) {
    error = std::string("bad entry: ") + ex.what();
    return std::nullopt;
  }
  return out;
}

Journal::LoadResult Journal::load() {
  LoadResult r;
  entries_.clear();
  if (path_.empty()) return r;
  std::string err;
  std::error_code ec;
  if (!std::filesystem::exists(path_, ec)) {
    r.message = "no journal at " + path_ + " (nothing to reconcile)";
    return r;
  }
  auto text = read_text_file(path_, err);
  if (!text) {
    r.ok = false;
    r.message = err;
    return r;
  }
  auto parsed = parse(*text, err);
  if (parsed) {
    entries_ = std::move(*parsed);
    r.message = "journal " + path_ + ": " + std::to_string(entries_.size()) + " changed knob(s) to reconcile";
    return r;
  }
  std::string aside = path_ + ".corrupt-" + std::to_string(std::time(nullptr));
  if (::rename(path_.c_str(), aside.c_str()) != 0) {
    r.ok = false;
    r.message = "journal " + path_ + " is corrupt (" + err + ") and could not be moved aside: " + std::strerror(errno);
    return r;
  }
  r.quarantined = true;
  r.message = "journal " + path_ + " is corrupt (" + err + "); moved to " + aside +
              " and rebuilding from live state (originals of knobs changed before this start are unknown)";
  return r;
}

cg::Status Journal::persist() {
  if (path_.empty()) return {};
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) return cg::Status::failure(dir_, "create state dir: " + ec.message(), ec.value());
  ::chmod(dir_.c_str(), 0700);
  return write_file_atomic(dir_, path_, serialize(entries_));
}

cg::Status Journal::add(const std::vector<JournalEntry>& entries) {
  bool changed = false;
  for (const auto& e : entries) changed = entries_.emplace(e.ref, e).second || changed;
  return changed ? persist() : cg::Status{};
}

cg::Status Journal::remove(const std::vector<cg::KnobRef>& refs) {
  bool changed = false;
  for (const auto& r : refs) changed = entries_.erase(r) > 0 || changed;
  return changed ? persist() : cg::Status{};
}

cg::Status Journal::clear() {
  entries_.clear();
  return persist();
}

bool Journal::lock(std::string& error) {
  if (dir_.empty()) return true;
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  std::string p = dir_ + "/lock";
  int fd = ::open(p.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    error = "open " + p + ": " + std::strerror(errno);
    return false;
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    error = "state dir " + dir_ + " is in use by another sloagent (flock " + p + ")";
    ::close(fd);
    return false;
  }
  lock_fd_ = fd;
  return true;
}

}  // namespace slo::agent
