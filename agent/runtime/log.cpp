#include "agent/runtime/log.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <set>

namespace slo::log {
namespace {
std::atomic<int> g_level{static_cast<int>(Level::info)};
std::mutex g_mu;
std::set<std::string> g_once;

const char* name(Level l) {
  switch (l) {
    case Level::debug: return "debug";
    case Level::info: return "info";
    case Level::warn: return "warn";
    case Level::error: return "error";
  }
  return "?";
}
}  // namespace

void set_level(Level l) { g_level.store(static_cast<int>(l)); }
Level level() { return static_cast<Level>(g_level.load()); }

std::optional<Level> level_from_string(std::string_view s) {
  if (s == "debug") return Level::debug;
  if (s == "info") return Level::info;
  if (s == "warn" || s == "warning") return Level::warn;
  if (s == "error") return Level::error;
  return std::nullopt;
}

void write(Level l, std::string_view component, std::string_view message) {
  if (static_cast<int>(l) < g_level.load(std::memory_order_relaxed)) return;
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  struct tm tm;
  gmtime_r(&t, &tm);
  char ts[32];
  std::strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
  std::lock_guard lk(g_mu);
  std::fprintf(stderr, "%s.%03lldZ %-5s %.*s: %.*s\n", ts, static_cast<long long>(ms), name(l),
               static_cast<int>(component.size()), component.data(), static_cast<int>(message.size()), message.data());
}

void once(Level l, std::string_view component, const std::string& key, std::string_view message) {
  {
    std::lock_guard lk(g_mu);
    if (!g_once.insert(key).second) return;
  }
  write(l, component, message);
}

}  // namespace slo::log
