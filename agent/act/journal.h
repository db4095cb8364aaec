// The write-ahead journal of every knob the agent changed, with the value it had before (normally the kubelet's).
// An entry is persisted BEFORE the knob's first write and removed only AFTER the original is back, so a crash at
// any point leaves enough on disk to put the node back (`sloagent restore`) or to reconcile on the next start.
//
// File: <state-dir>/journal.json, replaced atomically (temp file, fsync, rename, fsync dir) and checksummed. A file
// that fails to parse or to verify is moved aside (journal.json.corrupt-<unix time>) and the journal starts empty:
// the agent then rebuilds from live state instead of crash-looping.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cgroups/knob.h"
#include "cgroups/status.h"

namespace slo::agent {

struct JournalEntry {
  cg::KnobRef ref;
  cg::KnobValue original;
  std::string file;  // the file as CgroupFs names it, for humans reading the journal
};

class Journal {
 public:
  // dir is created (0700) on first persist. An empty dir keeps the journal in memory only (benchmarks).
  explicit Journal(std::string dir);
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  struct LoadResult {
    bool ok = true;            // false: I/O error other than "no journal yet" (message says which)
    bool quarantined = false;  // the file was corrupt and has been moved aside
    std::string message;       // one line for the log
  };
  LoadResult load();

  const std::map<cg::KnobRef, JournalEntry>& entries() const { return entries_; }
  const JournalEntry* find(const cg::KnobRef& ref) const;
  bool empty() const { return entries_.empty(); }

  // Each call persists once (nothing is written when the set does not change).
  cg::Status add(const std::vector<JournalEntry>& entries);  // existing entries keep their original
  cg::Status remove(const std::vector<cg::KnobRef>& refs);
  cg::Status clear();

  const std::string& path() const { return path_; }
  // Serialised form, exposed for tests (checksum corruption) and the restore command's listing.
  static std::string serialize(const std::map<cg::KnobRef, JournalEntry>& entries);
  static std::optional<std::map<cg::KnobRef, JournalEntry>> parse(const std::string& text, std::string& error);

  // Takes an exclusive flock on <dir>/lock so that two agents (or an agent and `restore`) do not share a journal.
  // Returns false with error set when another process holds it.
  bool lock(std::string& error);

 private:
  cg::Status persist();

  std::string dir_, path_;
  std::map<cg::KnobRef, JournalEntry> entries_;
  int lock_fd_ = -1;
};

}  // namespace slo::agent
