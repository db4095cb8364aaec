#include "agent/decide/cpuset/pin_store.h"

#include "agent/runtime/state_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

namespace slo::cpuset {
namespace {

std::string checksum(const std::string& s) { return agent::fnv1a64_hex(s); }

nlohmann::json pins_json(const PinMap& pins) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [key, sp] : pins)
    j[key] = {{"uid", sp.uid},
              {"cpus", sp.pin.cpus.to_string()},
              {"qos", std::string(model::to_string(sp.pin.qos))},
              {"source", sp.pin.source},
              {"scope", sp.pin.scope}};
  return j;
}

std::string errno_text(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}

}  // namespace

std::string PinStore::encode(const PinMap& pins) {
  nlohmann::json p = pins_json(pins);
  return nlohmann::json{{"version", 1}, {"pins", p}, {"checksum", checksum(p.dump())}}.dump(2) + "\n";
}

std::optional<PinMap> PinStore::decode(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || j.value("version", 0) != 1) return std::nullopt;
  auto pins = j.find("pins");
  auto sum = j.find("checksum");
  if (pins == j.end() || !pins->is_object() || sum == j.end() || !sum->is_string()) return std::nullopt;
  if (checksum(pins->dump()) != sum->get<std::string>()) return std::nullopt;
  PinMap out;
  for (const auto& [key, v] : pins->items()) {
    if (!v.is_object()) return std::nullopt;
    auto cpus = cg::CpuSet::parse(v.value("cpus", ""));
    auto qos = model::qos_from_string(v.value("qos", ""));
    if (!cpus || cpus->empty() || !qos) return std::nullopt;
    out[key] = StoredPin{v.value("uid", ""), Pinned{*cpus, *qos, v.value("source", "local"), v.value("scope", "")}};
  }
  return out;
}

PinMap PinStore::load(std::string& warning) const {
  warning.clear();
  if (!enabled()) return {};
  std::ifstream f(path(), std::ios::binary);
  if (!f) return {};
  std::stringstream ss;
  ss << f.rdbuf();
  if (auto pins = decode(ss.str())) return *pins;
  std::string aside = path() + ".corrupt";
  if (::rename(path().c_str(), aside.c_str()) != 0)
    warning = errno_text("corrupt checkpoint, cannot move aside", path());
  else
    warning = "corrupt checkpoint " + path() + " moved to " + aside + "; pins rebuilt from scratch";
  return {};
}

std::string PinStore::save(const PinMap& pins) const {
  if (!enabled()) return {};
  auto st = agent::write_file_atomic(dir_, path(), encode(pins));
  return st.ok() ? std::string() : st.describe();
}

}  // namespace slo::cpuset
