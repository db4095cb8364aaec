#include "agent/decide/cpuset/pin_store.h"

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

// FNV-1a 64: detects torn or hand-edited files; not a security measure.
std::string checksum(const std::string& s) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

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
  const std::string final_path = path();
  const std::string tmp = final_path + ".tmp";
  const std::string data = encode(pins);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return errno_text("open", tmp);
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      std::string e = errno_text("write", tmp);
      ::close(fd);
      return e;
    }
    off += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    std::string e = errno_text("fsync", tmp);
    ::close(fd);
    return e;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), final_path.c_str()) != 0) return errno_text("rename to", final_path);
  int dfd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return {};
}

}  // namespace slo::cpuset
