// Minimal structured logging to stderr ("2026-11-29T12:00:00.123Z level component: message"). One logger per
// process is fine here: it holds no kernel state, only a level, and tests can raise it.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace slo::log {

enum class Level { debug = 0, info = 1, warn = 2, error = 3 };

void set_level(Level l);
Level level();
std::optional<Level> level_from_string(std::string_view s);

void write(Level l, std::string_view component, std::string_view message);
inline void debug(std::string_view c, std::string_view m) { write(Level::debug, c, m); }
inline void info(std::string_view c, std::string_view m) { write(Level::info, c, m); }
inline void warn(std::string_view c, std::string_view m) { write(Level::warn, c, m); }
inline void error(std::string_view c, std::string_view m) { write(Level::error, c, m); }

// Logs `message` only the first time `key` is seen (per process), so a persistent condition costs one line.
void once(Level l, std::string_view component, const std::string& key, std::string_view message);

}  // namespace slo::log
