// The resctrl `schemata` file: one line per resource, "NAME:ID=VALUE;ID=VALUE". Kernels right-align resource
// names and pad MB values ("    MB:0=  100;1=  100"), so parsing trims both; rendering is canonical.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace slo::rdt {

struct Schemata {
  // resource ("L3", "L3CODE", "MB" ...) → cache/domain id → value as text (hex CBM, or MB number)
  std::map<std::string, std::map<int, std::string>> resources;

  bool has(const std::string& res) const { return resources.count(res) != 0; }
  // Domain ids of one resource in ascending order (sparse ids such as 0-7,16-23 are kept as they are).
  std::vector<int> domains(const std::string& res) const;
};

struct SchemataParse {
  Schemata schemata;
  std::vector<std::string> errors;  // one per malformed line; the other lines are still parsed
};

SchemataParse parse_schemata(std::string_view text);

// Lines in the fixed resource order L3, L3CODE, L3DATA, L2, L2CODE, L2DATA, MB (then any other name, sorted),
// ids ascending, each line ending in '\n'.
std::string render_schemata(const Schemata& s);
// One line without the newline ("L3:0=ff;1=ff").
std::string render_line(const std::string& res, const std::map<int, std::string>& values);

// True when every resource/domain of `desired` has the same value in `current` (numerically: hex for caches,
// decimal for MB), so a rewrite would change nothing.
bool schemata_satisfied(const Schemata& current, const Schemata& desired);

bool is_mb_resource(std::string_view res);

}  // namespace slo::rdt
