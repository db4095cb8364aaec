#include "agent/act/executor.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include "agent/runtime/log.h"
#include "cgroups/ordered_writer.h"

namespace slo::agent {
namespace {

constexpr std::string_view kLog = "executor";

std::string describe_value(const std::optional<cg::KnobValue>& v) { return v ? cg::value_to_string(*v) : "?"; }

}  // namespace

struct Executor::Metrics {
  prometheus::Family<prometheus::Counter>& writes;
  prometheus::Family<prometheus::Counter>& rejected;
  prometheus::Family<prometheus::Counter>& reverted;
  prometheus::Gauge& held;
  prometheus::Gauge& journal;

  explicit Metrics(prometheus::Registry& r)
      : writes(prometheus::BuildCounter()
                   .Name("sloagent_executor_writes_total")
                   .Help("Knob writes by result (ok, gone, error) and errno name (empty for ok)")
                   .Register(r)),
        rejected(prometheus::BuildCounter()
                     .Name("sloagent_executor_claims_rejected_total")
                     .Help("Claims refused because another controller owns the knob")
                     .Register(r)),
        reverted(prometheus::BuildCounter()
                     .Name("sloagent_executor_reverted_total")
                     .Help("Held knob values found changed by someone else at re-assert, by owning controller")
                     .Register(r)),
        held(prometheus::BuildGauge()
                 .Name("sloagent_executor_knobs_held")
                 .Help("Knobs currently owned by a controller")
                 .Register(r)
                 .Add({})),
        journal(prometheus::BuildGauge()
                    .Name("sloagent_journal_entries")
                    .Help("Knobs in the restore journal (changed by the agent, original value kept)")
                    .Register(r)
                    .Add({})) {}
};

Executor::Executor(const cg::CgroupFs& fs, Journal& journal, prometheus::Registry* metrics)
    : fs_(fs), journal_(journal) {
  if (metrics) metrics_ = std::make_unique<Metrics>(*metrics);
}

Executor::~Executor() = default;

void Executor::record_write(const std::string& result, int err) {
  if (!metrics_) return;
  metrics_->writes.Add({{"result", result}, {"errno", err ? cg::errno_name(err) : ""}}).Increment();
}

void Executor::log_failure(const cg::Status& st, const cg::KnobRef& ref) {
  log::once(log::Level::warn, kLog, "fail:" + ref.to_string() + ":" + std::to_string(st.err),
            st.describe() + " (logged once per knob and errno)");
}

void Executor::submit(const std::string& controller, IntentSet intents) {
  sequences_.erase(controller);
  pending_.emplace_back(controller, std::move(intents));
}

void Executor::submit_sequence(const std::string& controller, IntentSequence intents) {
  IntentSet set;
  for (const auto& [ref, intent] : intents) set.insert_or_assign(ref, intent);
  sequences_[controller] = std::move(intents);
  pending_.emplace_back(controller, std::move(set));
}

const IntentSequence& Executor::last_sequence(const std::string& controller) const {
  static const IntentSequence kNone;
  auto it = sequences_.find(controller);
  return it == sequences_.end() ? kNone : it->second;
}

void Executor::submit_unchanged(const std::string& controller) { pending_.emplace_back(controller, std::nullopt); }

void Executor::withdraw(const std::string& controller) { withdrawn_.insert(controller); }

std::optional<cg::KnobValue> Executor::current(const cg::KnobRef& ref) const {
  auto it = cache_.find(ref);
  if (it != cache_.end()) return it->second;
  auto [p, fresh] = peek_.try_emplace(ref);
  if (fresh || now_ - p->second.at >= kPeekTtl) {
    auto r = fs_.read(ref);
    ++stats_.peeks;
    p->second.at = now_;
    std::optional<cg::KnobValue> v;
    if (r.ok()) v = std::move(r.value);  // else gone or unreadable: asked again after the TTL, not every tick
    if (fresh || v.has_value() != p->second.value.has_value() || (v && !cg::values_equal(*v, *p->second.value)))
      ++epoch_;
    p->second.value = std::move(v);
  }
  return p->second.value;
}

void Executor::forget_held(const cg::KnobRef& ref, std::optional<cg::KnobValue> known) {
  ++epoch_;
  cache_.erase(ref);
  if (known)
    peek_[ref] = Peek{std::move(known), now_};
  else
    peek_.erase(ref);
}

std::optional<cg::KnobValue> Executor::original(const cg::KnobRef& ref) const {
  if (const auto* e = journal_.find(ref)) return e->original;
  return current(ref);  // never changed by us: the current value is the original
}

void Executor::for_each_held(
    const std::function<void(const cg::KnobRef&, const std::string&, const Intent&)>& f) const {
  for (const auto& [ref, owner] : owners_) {
    auto c = claims_.find(owner);
    if (c == claims_.end()) continue;
    auto i = c->second.find(ref);
    if (i == c->second.end()) continue;
    f(ref, owner, i->second);
  }
}

std::map<cg::KnobRef, Executor::Held> Executor::held() const {
  std::map<cg::KnobRef, Held> out;
  for_each_held([&](const cg::KnobRef& ref, const std::string& owner, const Intent& in) {
    out.emplace_hint(out.end(), ref, Held{owner, in.value, in.reason});
  });
  return out;
}

size_t Executor::held_count() const {
  size_t n = 0;
  for_each_held([&](const cg::KnobRef&, const std::string&, const Intent&) { ++n; });
  return n;
}

std::vector<Decision> Executor::apply() {
  std::vector<Decision> out;
  auto now = std::chrono::system_clock::now();
  now_ = std::chrono::steady_clock::now();
  if (now_ - last_prune_ >= kPeekTtl) {  // values nobody asked for within a TTL (pods gone): drop
    last_prune_ = now_;
    for (auto it = peek_.begin(); it != peek_.end();) it = now_ - it->second.at >= kPeekTtl ? peek_.erase(it) : std::next(it);
  }
  std::set<cg::KnobRef> to_release;
  std::set<cg::KnobRef> candidates;

  // 1. Controllers switched off release everything.
  for (const auto& c : withdrawn_) {
    auto it = claims_.find(c);
    if (it == claims_.end()) continue;
    for (const auto& [ref, _] : it->second) {
      auto o = owners_.find(ref);
      if (o != owners_.end() && o->second == c) {
        owners_.erase(o);
        to_release.insert(ref);
      }
      rejected_.erase({ref, c});
    }
    claims_.erase(it);
    sequences_.erase(c);
    settled_.erase(c);
  }
  // 2. New complete sets: whatever a controller no longer claims is released. A set equal (knobs and values) to the
  // controller's previous one, whose previous apply was realized in full (settled_), needs no claim and no compare:
  // the steady state of every controller, so a tick costs one linear walk per controller instead of map lookups.
  std::set<std::string> skip;
  for (auto& [c, submitted] : pending_) {
    auto& old = claims_[c];
    if (!submitted) {  // submit_unchanged: the previous set, reasons included
      if (settled_.count(c)) {
        skip.insert(c);
        continue;
      }
      submitted = old;
    }
    auto& set = *submitted;
    bool same = old.size() == set.size();
    for (auto a = old.begin(), b = set.begin(); same && a != old.end(); ++a, ++b)
      same = a->first == b->first && cg::values_equal(a->second.value, b->second.value);
    if (same && settled_.count(c)) {
      skip.insert(c);
    } else {
      settled_.erase(c);
      for (const auto& [ref, _] : old) {
        if (set.count(ref)) continue;
        auto o = owners_.find(ref);
        if (o != owners_.end() && o->second == c) {
          owners_.erase(o);
          to_release.insert(ref);
        }
        if (!rejected_.empty()) rejected_.erase({ref, c});
      }
    }
    old = std::move(set);  // also when same: the reasons are fresh
  }
  // 3. After a restart: journaled knobs nobody claims any more go back to their originals.
  if (!first_apply_done_ && reconcile_orphans_)
    for (const auto& [ref, _] : journal_.entries())
      if (!owners_.count(ref)) to_release.insert(ref);

  // 4. Claims, in decide order. A released knob can be taken over in the same apply (no restore in between).
  auto claim = [&](const std::string& c, const cg::KnobRef& ref, const Intent& intent) {
    auto o = owners_.find(ref);
    if (o != owners_.end() && o->second != c) {
      if (rejected_.insert({ref, c}).second) {
        ++stats_.rejected;
        if (metrics_) metrics_->rejected.Add({{"controller", c}}).Increment();
        log::once(log::Level::warn, kLog, "reject:" + ref.to_string() + ":" + c,
                  c + " claims " + ref.to_string() + " which " + o->second + " owns: claim rejected");
        out.push_back(Decision{now, c, ref, current(ref), intent.value, intent.reason, "rejected: owned by " + o->second});
      }
      return;
    }
    if (o == owners_.end())
      owners_.emplace(ref, c);
    if (!rejected_.empty()) rejected_.erase({ref, c});
    if (!to_release.empty()) to_release.erase(ref);
    candidates.insert(ref);
  };
  for (const auto& [c, _] : pending_)
    if (!skip.count(c))
      for (const auto& [ref, intent] : claims_[c]) claim(c, ref, intent);
  // A knob released this apply may be wanted by a controller that did not decide now (its claim was rejected).
  for (auto it = to_release.begin(); it != to_release.end();) {
    cg::KnobRef ref = *it++;
    for (const auto& [c, set] : claims_) {
      auto i = set.find(ref);
      if (i != set.end() && !owners_.count(ref)) claim(c, ref, i->second);
    }
  }
  for (const auto& ref : dirty_)
    if (owners_.count(ref)) candidates.insert(ref);
  dirty_.clear();
  std::vector<std::string> decided;  // controllers whose claims were evaluated now: settled unless one failed
  for (const auto& [c, _] : pending_)
    if (!skip.count(c)) decided.push_back(c);
  pending_.clear();
  withdrawn_.clear();
  first_apply_done_ = true;

  if (paused_) return out;
  std::set<std::string> failed;  // controllers with a knob not at its wanted value after this apply

  // 5. Plan: compare with the cache (reading a knob the first time we see it).
  struct Plan {
    cg::KnobRef ref;
    cg::KnobValue value;
    std::string controller, reason;
    bool restore = false;
    std::optional<cg::KnobValue> from;
  };
  std::vector<Plan> plans;
  std::vector<JournalEntry> new_entries;
  std::vector<cg::KnobRef> journal_drop;
  struct Cur {
    std::optional<cg::KnobValue> value;
    bool gone = false;
  };
  auto cached = [&](const cg::KnobRef& ref) -> Cur {
    if (auto it = cache_.find(ref); it != cache_.end()) return {it->second, false};
    // First claim: a fresh read (a peeked value may be up to kPeekTtl old, too old to skip a write on).
    peek_.erase(ref);
    auto r = fs_.read(ref);
    ++stats_.reads;
    ++epoch_;
    if (r.gone()) return {std::nullopt, true};
    if (!r.ok()) {
      log_failure(r.status, ref);
      return {};
    }
    cache_[ref] = r.value;
    return {r.value, false};
  };
  for (const auto& ref : candidates) {
    if (gone_.count(ref)) continue;
    const std::string& owner = owners_[ref];
    const Intent& intent = claims_[owner].at(ref);
    auto cur = cached(ref);
    if (cur.gone) {  // forget silently until the claim goes away
      gone_.insert(ref);
      if (journal_.find(ref)) journal_drop.push_back(ref);
      continue;
    }
    if (!cur.value) {  // read error, logged once; retried when claimed next
      failed.insert(owner);
      continue;
    }
    if (cg::values_equal(*cur.value, intent.value)) continue;
    if (!journal_.find(ref)) new_entries.push_back(JournalEntry{ref, *cur.value, fs_.file_of(ref)});
    plans.push_back(Plan{ref, intent.value, owner, intent.reason, false, cur.value});
  }
  for (const auto& ref : to_release) {
    gone_.erase(ref);
    const JournalEntry* je = journal_.find(ref);
    if (!je) {  // never changed by us: nothing to put back
      auto it = cache_.find(ref);
      forget_held(ref, it == cache_.end() ? std::nullopt : std::optional<cg::KnobValue>(it->second));
      continue;
    }
    auto cur = cached(ref);
    if (cur.gone) {
      journal_drop.push_back(ref);
      forget_held(ref, std::nullopt);
      continue;
    }
    if (!cur.value) {  // unreadable (logged): try the write anyway, the original is what we must put back
      plans.push_back(Plan{ref, je->original, "", "released: original value", true, std::nullopt});
      continue;
    }
    if (cg::values_equal(*cur.value, je->original)) {
      journal_drop.push_back(ref);
      forget_held(ref, cur.value);
      continue;
    }
    plans.push_back(Plan{ref, je->original, "", "released: original value", true, cur.value});
  }

  // 6. Write-ahead: originals reach the disk before the first change of a knob.
  if (!new_entries.empty()) {
    ++epoch_;  // original() answers from the journal now
    auto st = journal_.add(new_entries);
    if (!st.ok()) {
      log::once(log::Level::error, kLog, "journal:" + std::to_string(st.err),
                "cannot persist the journal (" + st.describe() + "): holding back first changes of knobs");
      std::vector<Plan> kept;
      for (auto& p : plans)
        if (journal_.find(p.ref))
          kept.push_back(std::move(p));
        else
          failed.insert(p.controller);
      plans.swap(kept);
    }
  }

  // 7. Ordered writes.
  if (!plans.empty()) {
    ++epoch_;
    std::vector<cg::KnobWrite> batch;
    batch.reserve(plans.size());
    for (const auto& p : plans) batch.push_back(cg::KnobWrite{p.ref, p.value});
    auto outcomes = cg::OrderedWriter(fs_).apply(batch);
    for (size_t i = 0; i < outcomes.size() && i < plans.size(); ++i) {
      const auto& o = outcomes[i];
      const auto& p = plans[i];
      Decision d{now, p.controller, p.ref, o.before ? o.before : p.from, o.write.value, p.reason, ""};
      if (o.status.ok()) {
        cache_[p.ref] = o.write.value;
        if (p.restore) {
          journal_drop.push_back(p.ref);
          forget_held(p.ref, o.write.value);
          ++stats_.restored;
        }
        if (o.changed) {
          ++stats_.writes_ok;
          ++stats_.writes_by_controller[p.controller];
          record_write("ok", 0);
        }
        d.result = p.restore ? "restored" : o.clamped ? "clamped" : "applied";
        if (o.changed || p.restore) out.push_back(std::move(d));
      } else if (o.status.gone()) {
        ++stats_.gone;
        record_write("gone", o.status.err);
        if (p.restore)
          forget_held(p.ref, std::nullopt);
        else
          cache_.erase(p.ref);
        if (!p.restore) gone_.insert(p.ref);
        journal_drop.push_back(p.ref);
      } else {
        ++stats_.writes_error;
        failed.insert(p.controller);
        record_write("error", o.status.err);
        log_failure(o.status, p.ref);
        if (o.before) cache_[p.ref] = *o.before;
        d.result = "error: " + cg::errno_name(o.status.err);
        out.push_back(std::move(d));
      }
    }
  }
  for (const auto& c : decided)
    if (!failed.count(c)) settled_.insert(c);
  for (const auto& c : failed) settled_.erase(c);
  if (!journal_drop.empty()) {
    ++epoch_;
    auto st = journal_.remove(journal_drop);
    if (!st.ok())
      log::once(log::Level::error, kLog, "journal-rm:" + std::to_string(st.err), "cannot persist the journal: " + st.describe());
  }
  if (metrics_) {
    metrics_->held.Set(static_cast<double>(owners_.size()));
    metrics_->journal.Set(static_cast<double>(journal_.entries().size()));
  }
  return out;
}

size_t Executor::reassert() {
  size_t reverted = 0;
  std::vector<cg::KnobRef> drop;
  for (const auto& [ref, owner] : owners_) {
    if (gone_.count(ref)) continue;
    auto r = fs_.read(ref);
    ++stats_.reads;
    if (r.gone()) {
      ++epoch_;
      gone_.insert(ref);
      cache_.erase(ref);
      if (journal_.find(ref)) drop.push_back(ref);
      continue;
    }
    if (!r.ok()) {
      log_failure(r.status, ref);
      continue;
    }
    auto it = cache_.find(ref);
    if (it != cache_.end() && !cg::values_equal(it->second, r.value)) {
      ++reverted;
      ++stats_.reverted;
      if (metrics_) metrics_->reverted.Add({{"controller", owner}}).Increment();
      log::info(kLog, ref.to_string() + " was changed to " + cg::value_to_string(r.value) + " by someone else (we hold " +
                          cg::value_to_string(it->second) + " for " + owner + "): re-asserting");
      dirty_.insert(ref);
      ++epoch_;
    }
    cache_[ref] = r.value;
  }
  if (!drop.empty()) journal_.remove(drop);
  return reverted;
}

nlohmann::json Executor::restore_all() {
  auto res = restore_journal(fs_, journal_);
  ++epoch_;
  owners_.clear();
  claims_.clear();
  sequences_.clear();
  settled_.clear();
  cache_.clear();
  peek_.clear();
  pending_.clear();
  withdrawn_.clear();
  gone_.clear();
  dirty_.clear();
  rejected_.clear();
  if (metrics_) {
    metrics_->held.Set(0);
    metrics_->journal.Set(static_cast<double>(journal_.entries().size()));
  }
  return res;
}

nlohmann::json restore_journal(const cg::CgroupFs& fs, Journal& journal) {
  nlohmann::json failed = nlohmann::json::array();
  int restored = 0, gone = 0;
  std::vector<cg::KnobWrite> batch;
  for (const auto& [ref, e] : journal.entries()) batch.push_back(cg::KnobWrite{ref, e.original});
  std::vector<cg::KnobRef> done;
  if (!batch.empty()) {
    auto outcomes = cg::OrderedWriter(fs).apply(batch);
    for (size_t i = 0; i < outcomes.size() && i < batch.size(); ++i) {
      const auto& o = outcomes[i];
      const auto& ref = batch[i].ref;
      if (o.status.ok()) {
        ++restored;
        done.push_back(ref);
        if (o.changed)
          log::info(kLog, "restored " + fs.file_of(ref) + " " + describe_value(o.before) + " -> " +
                              cg::value_to_string(batch[i].value));
      } else if (o.status.gone()) {
        ++gone;
        done.push_back(ref);
      } else {
        failed.push_back({{"knob", ref.to_string()}, {"file", fs.file_of(ref)}, {"error", o.status.describe()}});
        log::warn(kLog, "restore failed: " + o.status.describe());
      }
    }
  }
  auto st = journal.remove(done);
  if (!st.ok()) failed.push_back({{"knob", "journal"}, {"file", journal.path()}, {"error", st.describe()}});
  return {{"restored", restored}, {"gone", gone}, {"failed", failed}};
}

}  // namespace slo::agent
