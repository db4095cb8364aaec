#include "bpf/libbpf_messages.h"

#include <bpf/libbpf.h>

#include <cstdarg>
#include <cstdio>
#include <mutex>

namespace slo::bpf::detail {
namespace {

thread_local std::string t_messages;

int collect(enum libbpf_print_level level, const char* fmt, va_list args) {
  if (level == LIBBPF_DEBUG) return 0;
  char buf[1024];
  int n = std::vsnprintf(buf, sizeof buf, fmt, args);
  if (n > 0) t_messages.append(buf, std::min<size_t>(static_cast<size_t>(n), sizeof buf - 1));
  if (t_messages.size() > 64 * 1024) t_messages.erase(0, t_messages.size() - 32 * 1024);
  return n;
}

}  // namespace

void begin_capture() {
  static std::once_flag once;
  std::call_once(once, [] { libbpf_set_print(collect); });
  t_messages.clear();
}

std::string captured(size_t max_chars) {
  std::string s = t_messages;
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  if (s.size() > max_chars) s = "…" + s.substr(s.size() - max_chars);
  return s;
}

}  // namespace slo::bpf::detail
