// Runs a program and collects its exit code, stdout and stderr (bounded by a timeout), optionally as another user:
// the API tests drive the real sloctl binary, as root and as nobody.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace slo::test {

struct ProcessResult {
  int exit_code = -1;  // -1 when killed by a signal or timed out
  bool timed_out = false;
  std::string out, err;
};

struct RunOptions {
  std::optional<uid_t> uid;  // setgroups({}) + setgid + setuid before exec (the caller must be root)
  std::optional<gid_t> gid;
  std::vector<std::string> env;  // extra NAME=VALUE entries
  int timeout_ms = 20000;
};

ProcessResult run_process(const std::vector<std::string>& argv, const RunOptions& opts = {});

// A started background process (prometheus): killed with SIGTERM (then SIGKILL) on destruction.
class Background {
 public:
  Background(const std::vector<std::string>& argv, const std::string& log_path);
  ~Background();
  Background(const Background&) = delete;
  Background& operator=(const Background&) = delete;
  pid_t pid() const { return pid_; }
  bool running();

 private:
  pid_t pid_ = -1;
};

// A TCP port that was free a moment ago on 127.0.0.1.
uint16_t free_port();

}  // namespace slo::test
