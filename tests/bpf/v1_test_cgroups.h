// A uniquely named subtree in the real v1 cpu hierarchy for the BPF load-and-attach tests, removed on destruction
// together with the processes the test started in it. (Small on purpose: the BPF tests need only mkdir, a knob
// write and task placement.)
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

namespace slo::test {

class V1TestCgroups {
 public:
  // Creates <root>/<controller>/slo-test-<pid>-<random>. Throws when it cannot.
  explicit V1TestCgroups(std::string controller_root = "/sys/fs/cgroup/cpu");
  // Kills (SIGKILL) and reaps every process started with spawn(), then removes the subtree bottom-up.
  ~V1TestCgroups();
  V1TestCgroups(const V1TestCgroups&) = delete;
  V1TestCgroups& operator=(const V1TestCgroups&) = delete;

  const std::string& top() const { return top_; }
  // Creates top/rel (parents first) and returns its absolute path.
  std::string make(const std::string& rel);
  void write(const std::string& rel, const std::string& file, const std::string& value) const;
  // Forks a child pinned to `cpu` (-1 = no pinning) that joins top/rel before running `body` (which never
  // returns). Returns once the child is in its cgroup.
  pid_t spawn(const std::string& rel, int cpu, std::function<void()> body);

 private:
  std::string top_;
  std::vector<std::string> dirs_;  // created, in creation order
  std::vector<pid_t> children_;
};

// Bodies for spawn().
[[noreturn]] void spin_forever();
// Repeats: spin for spin_us, then sleep for sleep_us.
[[noreturn]] void spin_sleep_forever(int spin_us, int sleep_us);

}  // namespace slo::test
