#include "tests/fakes/standalone.h"

#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>

namespace slo::fakes {

std::map<std::string, std::string> parse_flags(int argc, char** argv, const char* usage) {
  std::map<std::string, std::string> out;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--", 0) != 0 || i + 1 >= argc) {
      std::fprintf(stderr, "usage: %s %s\n", argv[0], usage);
      std::exit(2);
    }
    out[a.substr(2)] = argv[++i];
  }
  return out;
}

void write_file_atomic(const std::string& path, const std::string& content) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << content;
  }
  std::rename(tmp.c_str(), path.c_str());
}

void wait_for_termination() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  int sig = 0;
  sigwait(&set, &sig);
}

}  // namespace slo::fakes
