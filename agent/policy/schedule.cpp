#include "agent/policy/schedule.h"

#include <algorithm>
#include <array>
#include <charconv>

namespace slo::policy {
namespace {

using Clock = std::chrono::system_clock;

std::optional<int> parse_hhmm(const std::string& s) {
  if (s.size() != 5 || s[2] != ':') return std::nullopt;
  int h = 0, m = 0;
  if (std::from_chars(s.data(), s.data() + 2, h).ec != std::errc() ||
      std::from_chars(s.data() + 3, s.data() + 5, m).ec != std::errc())
    return std::nullopt;
  if (h < 0 || h > 23 || m < 0 || m > 59) return std::nullopt;
  return h * 60 + m;
}

constexpr std::array<const char*, 7> kDays = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};

int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

struct Local {
  int64_t day;    // days since 1970-01-01 (local)
  int minute;     // minute of the local day
  int weekday;    // 0 = Monday
};

Local to_local(const TimeZone& z, int64_t utc) {
  int64_t local = utc + z.offset_at(utc);
  Local l;
  l.day = floor_div(local, 86400);
  l.minute = static_cast<int>((local - l.day * 86400) / 60);
  l.weekday = static_cast<int>(((l.day % 7) + 7 + 3) % 7);  // 1970-01-01 was a Thursday
  return l;
}

bool window_active(const ScheduleWindow& w, const Local& l) {
  auto day_on = [&](int weekday) { return (w.days >> weekday) & 1u; };
  if (w.start_minute == w.end_minute) return day_on(l.weekday);  // whole day
  if (w.start_minute < w.end_minute)
    return day_on(l.weekday) && l.minute >= w.start_minute && l.minute < w.end_minute;
  // Wraps past midnight: the part after midnight belongs to the window that started the day before.
  if (l.minute >= w.start_minute) return day_on(l.weekday);
  if (l.minute < w.end_minute) return day_on((l.weekday + 6) % 7);
  return false;
}

}  // namespace

void merge_patch(nlohmann::json& target, const nlohmann::json& patch) {
  if (!patch.is_object()) {
    target = patch;
    return;
  }
  if (!target.is_object()) target = nlohmann::json::object();
  for (auto it = patch.begin(); it != patch.end(); ++it) {
    if (it.value().is_null())
      target.erase(it.key());
    else
      merge_patch(target[it.key()], it.value());
  }
}

std::optional<Schedule> Schedule::parse(const nlohmann::json& policy, const std::string& zoneinfo_root,
                                        std::string* error) {
  Schedule s;
  auto fail = [&](const std::string& m) {
    if (error) *error = m;
    return std::nullopt;
  };
  if (!policy.is_object()) return s;
  if (auto tz = policy.find("timeZone"); tz != policy.end()) {
    if (!tz->is_string()) return fail("timeZone: must be a string");
    std::string err;
    auto z = TimeZone::load(tz->get<std::string>(), zoneinfo_root, &err);
    if (!z) return fail("timeZone: " + err);
    s.zone = *z;
  }
  auto sched = policy.find("schedule");
  if (sched == policy.end() || sched->is_null()) return s;
  if (!sched->is_array()) return fail("schedule: must be a list of windows");
  for (size_t i = 0; i < sched->size(); ++i) {
    const auto& w = (*sched)[i];
    std::string at = "schedule[" + std::to_string(i) + "]";
    if (!w.is_object()) return fail(at + ": must be an object");
    ScheduleWindow win;
    win.name = w.value("name", at);
    for (auto [key, dst] : {std::pair{"start", &win.start_minute}, std::pair{"end", &win.end_minute}}) {
      auto f = w.find(key);
      if (f == w.end() || !f->is_string()) return fail(at + "." + key + ": required, \"HH:MM\"");
      auto m = parse_hhmm(f->get<std::string>());
      if (!m) return fail(at + "." + key + ": '" + f->get<std::string>() + "' is not a time HH:MM (00:00–23:59)");
      *dst = *m;
    }
    if (auto d = w.find("days"); d != w.end()) {
      if (!d->is_array() || d->empty()) return fail(at + ".days: must be a non-empty list of Mon…Sun");
      win.days = 0;
      for (const auto& day : *d) {
        auto it = day.is_string() ? std::find(kDays.begin(), kDays.end(), day.get<std::string>()) : kDays.end();
        if (it == kDays.end()) return fail(at + ".days: '" + day.dump() + "' is not one of Mon…Sun");
        win.days |= 1u << (it - kDays.begin());
      }
    }
    if (auto o = w.find("overrides"); o != w.end()) {
      if (!o->is_object()) return fail(at + ".overrides: must be an object of strategy fields");
      if (o->contains("schedule") || o->contains("timeZone"))
        return fail(at + ".overrides: may not contain schedule or timeZone");
      win.overrides = *o;
    }
    s.windows.push_back(std::move(win));
  }
  return s;
}

std::vector<std::string> Schedule::active(Clock::time_point now) const {
  int64_t t = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  Local l = to_local(zone, t);
  std::vector<std::string> out;
  for (const auto& w : windows)
    if (window_active(w, l)) out.push_back(w.name);
  return out;
}

nlohmann::json Schedule::effective(const nlohmann::json& policy, Clock::time_point now) const {
  nlohmann::json out = policy.is_object() ? policy : nlohmann::json::object();
  out.erase("schedule");
  out.erase("timeZone");
  int64_t t = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  Local l = to_local(zone, t);
  for (const auto& w : windows)
    if (window_active(w, l)) merge_patch(out, w.overrides);
  return out;
}

std::optional<Clock::time_point> Schedule::next_boundary(Clock::time_point now) const {
  if (windows.empty()) return std::nullopt;
  // Step minute by minute over the next 8 days in local time; cheap (≤ 11520 steps) and exact for any mix of
  // windows, weekdays and DST shifts, which a closed form would get wrong around transitions.
  int64_t t = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  auto state = [&](int64_t at) {
    Local l = to_local(zone, at);
    uint64_t bits = 0;
    for (size_t i = 0; i < windows.size() && i < 64; ++i)
      if (window_active(windows[i], l)) bits |= uint64_t{1} << i;
    return bits;
  };
  uint64_t cur = state(t);
  int64_t step = (t / 60 + 1) * 60;  // next whole UTC minute
  for (int i = 0; i < 8 * 24 * 60; ++i, step += 60)
    if (state(step) != cur) return Clock::time_point(std::chrono::seconds(step));
  return std::nullopt;
}

}  // namespace slo::policy
