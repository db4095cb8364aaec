// UTC offsets for schedule windows from the system's TZif files (/usr/share/zoneinfo, injectable), or a fixed
// offset ("UTC", "+08:00", "-05:30"). libstdc++ 12 has no std::chrono::zoned_time and localtime_r() depends on
// the process-global TZ, so the few lines of TZif reading are ours.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace slo::policy {

class TimeZone {
 public:
  // name: IANA name ("Europe/Berlin"), "UTC"/"" or a fixed offset "+HH:MM". nullopt with `error` set when unknown.
  static std::optional<TimeZone> load(const std::string& name, const std::string& zoneinfo_root, std::string* error);
  static TimeZone utc();

  // Offset from UTC in seconds at the given UTC instant (Unix seconds).
  int32_t offset_at(int64_t utc_seconds) const;
  const std::string& name() const { return name_; }

  // Parses TZif bytes (v1 or the 64-bit v2+ block). Times after the last transition keep its offset (Debian ships
  // "fat" files with transitions until 2037).
  static std::optional<TimeZone> from_tzif(const std::string& name, const std::string& bytes);

 private:
  std::string name_;
  std::vector<int64_t> transitions_;  // UTC seconds, ascending
  std::vector<int32_t> offsets_;      // offset in force from transitions_[i]
  int32_t initial_offset_ = 0;        // before the first transition
};

}  // namespace slo::policy
