// The only writer of cgroup knobs. Controllers hand in their complete intent sets (level-triggered); the executor
// keeps one owner per knob, diff-writes what changed through cg::OrderedWriter, journals originals before the first
// change (write-ahead, see journal.h) and puts a knob back when its owner stops claiming it.
//
// Rules:
//  - A claim on a knob another controller holds is rejected (logged once, counted) unless the holder released it
//    in the same apply; submissions are processed in decide order, so the earlier controller wins a tie.
//  - Values are compared with the cache (last value read or written): unchanged values are never written. The
//    cache is filled by reading a knob the first time it is claimed and refreshed by reassert(), which also counts
//    how often something else (kubelet, systemd, an operator) changed a value we hold.
//  - current() answers for any knob, held or not: an unheld knob is read on demand and its value kept for
//    kPeekTtl (re-read after). Controllers derive claims from it (CPU burst takes an unheld quota as the kubelet's
//    original), so the answer must not depend on whether the knob is held: when only held knobs had a value, a
//    controller claimed from the pod spec, saw the kernel's value once it held the knob, released it, and did it
//    all again every other tick (≈ 300 writes per tick on the 50-pod benchmark node).
//  - "Gone" (ENOENT/ENODEV) forgets the knob silently. Other failures are logged once per (knob, errno) with file,
//    value and errno, and counted.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/act/journal.h"
#include "agent/runtime/snapshot.h"
#include "cgroups/cgroup_fs.h"
#include "cgroups/knob.h"

namespace prometheus {
class Registry;
}

namespace slo::agent {

struct Intent {
  cg::KnobValue value;
  std::string reason;
};
using IntentSet = std::map<cg::KnobRef, Intent>;
// Intents in the order a controller stated them (a later duplicate wins).
using IntentSequence = std::vector<std::pair<cg::KnobRef, Intent>>;

// One action (or refusal) of the executor, for `sloctl explain` and the demo's log.
struct Decision {
  std::chrono::system_clock::time_point time;
  std::string controller;
  cg::KnobRef ref;
  std::optional<cg::KnobValue> from;
  cg::KnobValue to;
  std::string reason;
  std::string result;  // "applied", "restored", "rejected: owned by X", "error: EINVAL", "gone", "clamped"
};

struct ExecutorStats {
  uint64_t writes_ok = 0, writes_error = 0, gone = 0, rejected = 0, restored = 0, reverted = 0, reads = 0;
  uint64_t peeks = 0;  // reads of unheld knobs for current()
  // write(2)s that changed a value, by controller ("" = restores of released knobs): finds a flapping controller.
  std::map<std::string, uint64_t> writes_by_controller;
};

class Executor final : public KnobView {
 public:
  Executor(const cg::CgroupFs& fs, Journal& journal, prometheus::Registry* metrics);
  ~Executor() override;

  // The complete set of knobs `controller` wants held now (replaces its previous set). Applied by apply().
  void submit(const std::string& controller, IntentSet intents);
  // The same, in the controller's own order; the sequence is kept so that the next tick can be recognized as
  // unchanged without building a set (CollectingSink in agent.cpp compares against last_sequence()).
  void submit_sequence(const std::string& controller, IntentSequence intents);
  // Exactly the previous sequence again, values and reasons: the steady state of a controller. Same effect as
  // submitting a copy of it.
  void submit_unchanged(const std::string& controller);
  // The controller's last submitted sequence; empty after a submit(IntentSet), a withdraw or restore_all().
  const IntentSequence& last_sequence(const std::string& controller) const;
  // The controller is off (disabled by config, failed): everything it held is released at the next apply().
  void withdraw(const std::string& controller);

  // Journaled knobs that no controller claims at the first apply() are restored (reconcile after a restart).
  // Call with false to keep them (e.g. before every controller has decided once).
  void set_reconcile_orphans(bool on) { reconcile_orphans_ = on; }

  // Processes submissions: ownership, releases, diff, journal, ordered writes. Returns what was done.
  std::vector<Decision> apply();
  // Re-reads every held knob; values changed behind our back are counted and rewritten by the next apply().
  size_t reassert();
  // Puts every journaled knob back, drops all claims and empties the journal (entries that failed stay).
  // {restored, gone, failed[{knob, file, error}]}
  nlohmann::json restore_all();
  // While paused (after restore_all from the API), submissions are accepted but nothing is written.
  void set_paused(bool p) { paused_ = p; }
  bool paused() const { return paused_; }

  // How long the value of an unheld knob read by current() is trusted before it is read again.
  static constexpr std::chrono::seconds kPeekTtl = KnobView::kRefreshAfter;

  // KnobView: held knobs from the cache; any other knob read on demand (see kPeekTtl). nullopt = gone/unreadable.
  std::optional<cg::KnobValue> current(const cg::KnobRef& ref) const override;
  std::optional<cg::KnobValue> original(const cg::KnobRef& ref) const override;
  uint64_t epoch() const override { return epoch_; }

  struct Held {
    std::string owner;
    cg::KnobValue value;
    std::string reason;
  };
  // Knobs currently owned, with the owner's wanted value and reason.
  std::map<cg::KnobRef, Held> held() const;
  // The same without copying: f(ref, owner, intent) in knob order.
  void for_each_held(const std::function<void(const cg::KnobRef&, const std::string&, const Intent&)>& f) const;
  size_t held_count() const;
  const ExecutorStats& stats() const { return stats_; }

 private:
  struct Metrics;
  void record_write(const std::string& result, int err);
  void log_failure(const cg::Status& st, const cg::KnobRef& ref);
  // A knob leaves the held set with a known value (or none): current() keeps answering from it.
  void forget_held(const cg::KnobRef& ref, std::optional<cg::KnobValue> known);

  const cg::CgroupFs& fs_;
  Journal& journal_;
  std::unique_ptr<Metrics> metrics_;

  std::map<std::string, IntentSet> claims_;                 // controller → its current complete set
  std::map<std::string, IntentSequence> sequences_;         // controller → claims_ in its own order (when known)
  std::set<std::string> settled_;  // controllers whose set was fully realized at their last evaluated apply
  // Submitted since the last apply (decide order); nullopt = unchanged since the previous submit.
  std::vector<std::pair<std::string, std::optional<IntentSet>>> pending_;
  std::set<std::string> withdrawn_;
  std::map<cg::KnobRef, std::string> owners_;
  std::map<cg::KnobRef, cg::KnobValue> cache_;
  struct Peek {
    std::optional<cg::KnobValue> value;  // nullopt: gone or unreadable when read
    std::chrono::steady_clock::time_point at;
  };
  mutable std::map<cg::KnobRef, Peek> peek_;  // unheld knobs read by current()
  std::chrono::steady_clock::time_point now_ = std::chrono::steady_clock::now(), last_prune_{};
  std::set<cg::KnobRef> gone_;                                // claimed but the cgroup is gone
  std::set<cg::KnobRef> dirty_;                               // reverted by someone else: rewrite
  std::set<std::pair<cg::KnobRef, std::string>> rejected_;    // (knob, controller) refused, counted once
  bool reconcile_orphans_ = true;
  bool first_apply_done_ = false;
  bool paused_ = false;
  mutable ExecutorStats stats_;  // mutable: current() counts its peeks
  mutable uint64_t epoch_ = 1;   // see KnobView::epoch(); mutable: a peek in current() can change an answer
};

// Writes every journal entry's original value back (ordered) and removes what is back or gone from the journal.
// Used by `sloagent restore` and Executor::restore_all. {restored, gone, failed[…]}
nlohmann::json restore_journal(const cg::CgroupFs& fs, Journal& journal);

}  // namespace slo::agent
