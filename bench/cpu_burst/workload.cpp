#include "bench/cpu_burst/workload.h"

#include "bench/cpu_burst/cleanup.h"

#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <random>
#include <stdexcept>
#include <thread>

namespace slo::bench::cpu_burst {

using Clock = std::chrono::steady_clock;

void spin_cpu_ms(double ms) {
  timespec t0{}, t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
  const double target_ns = ms * 1e6;
  volatile uint64_t sink = 0;
  while (true) {
    for (int i = 0; i < 2000; ++i) sink = sink + uint64_t(i);
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    double el = double(t.tv_sec - t0.tv_sec) * 1e9 + double(t.tv_nsec - t0.tv_nsec);
    if (el >= target_ns) break;
  }
}

void Child::release() {
  if (go_fd < 0) return;
  char c = 1;
  if (::write(go_fd, &c, 1) != 1) throw std::runtime_error("release child: write failed");
  ::close(go_fd);
  go_fd = -1;
}

void Child::kill_and_wait() {
  if (go_fd >= 0) ::close(go_fd), go_fd = -1;
  if (pid <= 0) return;
  ::kill(pid, SIGKILL);
  int st = 0;
  ::waitpid(pid, &st, 0);
  pid = -1;
}

namespace {

// Forks; the child blocks on the go pipe and then runs body() and _exit(0)s.
template <class F>
Child fork_waiting(F body, std::vector<int> close_in_child = {}) {
  int go[2];
  if (::pipe(go) != 0) throw std::runtime_error("pipe failed");
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    reset_interrupt_handlers_in_child();
    ::close(go[1]);
    for (int fd : close_in_child) ::close(fd);
    ::setpriority(PRIO_PROCESS, 0, 0);  // the workload runs at normal priority, whatever the driver's
    char c;
    if (::read(go[0], &c, 1) != 1) ::_exit(1);
    ::close(go[0]);
    body();
    ::_exit(0);
  }
  ::close(go[0]);
  return Child{pid, go[1]};
}

}  // namespace

Child fork_spinner(int threads) {
  return fork_waiting([threads] {
    std::vector<std::thread> ts;
    for (int i = 0; i < threads; ++i)
      ts.emplace_back([] {
        while (true) spin_cpu_ms(1000);
      });
    for (auto& t : ts) t.join();
  });
}

void Server::close_fds() {
  if (req_fd >= 0) ::close(req_fd), req_fd = -1;
  if (resp_fd >= 0) ::close(resp_fd), resp_fd = -1;
}

Server fork_server(double work_ms, int threads) {
  int req[2], resp[2];
  if (::pipe(req) != 0 || ::pipe(resp) != 0) throw std::runtime_error("pipe failed");
  Server s;
  s.child = fork_waiting(
      [=] {
        std::mutex out;
        while (true) {
          uint64_t id;
          if (::read(req[0], &id, sizeof id) != sizeof id) break;
          std::thread([=, &out] {
            std::vector<std::thread> ws;
            for (int i = 0; i < threads; ++i) ws.emplace_back([=] { spin_cpu_ms(work_ms); });
            for (auto& w : ws) w.join();
            std::lock_guard<std::mutex> g(out);
            if (::write(resp[1], &id, sizeof id) != sizeof id) ::_exit(2);
          }).detach();
        }
        ::_exit(0);
      },
      {req[1], resp[0]});
  ::close(req[0]);
  ::close(resp[1]);
  s.req_fd = req[1];
  s.resp_fd = resp[0];
  return s;
}

std::vector<double> run_poisson(Server& s, std::chrono::milliseconds mean_gap, std::chrono::milliseconds duration,
                                std::chrono::milliseconds drain, uint64_t seed, size_t& unanswered) {
  std::mt19937_64 rng(seed);
  std::exponential_distribution<double> gap(1.0 / double(mean_gap.count()));
  // Schedule first, so that the sender does no arithmetic between arrivals.
  std::vector<Clock::duration> offsets;
  double t = gap(rng);
  while (t < double(duration.count())) {
    offsets.push_back(std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double, std::milli>(t)));
    t += gap(rng);
  }
  const size_t n = offsets.size();
  std::vector<Clock::time_point> sent(n), done(n);
  std::vector<char> answered(n, 0);
  std::atomic<size_t> received{0};
  std::atomic<size_t> sent_count{0};
  std::atomic<bool> stop_rx{false};

  std::thread rx([&] {
    while (!stop_rx.load()) {
      pollfd p{s.resp_fd, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      uint64_t id;
      if (::read(s.resp_fd, &id, sizeof id) != sizeof id) break;
      if (id < n) {
        done[id] = Clock::now();
        answered[id] = 1;
        ++received;
      }
    }
  });
  const auto start = Clock::now();
  for (size_t i = 0; i < n && !interrupted(); ++i) {
    // In slices, so that SIGINT/SIGTERM (a flag, see cleanup.h) ends the run within 50 ms.
    while (!interrupted() && Clock::now() + std::chrono::milliseconds(50) < start + offsets[i])
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::this_thread::sleep_until(start + offsets[i]);
    sent[i] = Clock::now();
    uint64_t id = i;
    if (::write(s.req_fd, &id, sizeof id) != sizeof id) break;
    ++sent_count;
  }
  const auto deadline = Clock::now() + drain;
  while (received.load() < sent_count.load() && Clock::now() < deadline && !interrupted())
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  stop_rx = true;
  rx.join();
  const auto end = Clock::now();
  std::vector<double> lat;
  unanswered = 0;
  for (size_t i = 0; i < sent_count.load(); ++i) {
    if (!answered[i]) ++unanswered;
    lat.push_back(std::chrono::duration<double, std::milli>((answered[i] ? done[i] : end) - sent[i]).count());
  }
  return lat;
}

}  // namespace slo::bench::cpu_burst
