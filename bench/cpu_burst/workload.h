// Workloads for the CPU burst benchmarks, each in a forked child that waits to be released so the caller can move
// it into a cgroup first (threads it starts afterwards inherit the cgroup).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <vector>

namespace slo::bench::cpu_burst {

// Burns `ms` of this thread's CPU time (not wall time: throttling and preemption stretch it, which is the point).
void spin_cpu_ms(double ms);

struct Child {
  pid_t pid = -1;
  int go_fd = -1;  // write one byte to release
  void release();
  void kill_and_wait();
};

// `threads` threads spinning forever.
Child fork_spinner(int threads);

// A request/response server: for each 8-byte request id read from its pipe it starts `threads` threads that spin
// `work_ms` of CPU each, joins them and writes the id back. Requests overlap freely.
struct Server {
  Child child;
  int req_fd = -1;   // parent writes ids
  int resp_fd = -1;  // parent reads ids
  void close_fds();
};
Server fork_server(double work_ms, int threads);

// Drives a server with Poisson arrivals (exponential gaps, mean `mean_gap`) for `duration`, then waits up to
// `drain` for outstanding replies. Returns the latencies (ms) in arrival order; a request still unanswered at the
// end counts with the time it waited so far (a lower bound) and is counted in `unanswered`.
std::vector<double> run_poisson(Server& s, std::chrono::milliseconds mean_gap, std::chrono::milliseconds duration,
                                std::chrono::milliseconds drain, uint64_t seed, size_t& unanswered);

}  // namespace slo::bench::cpu_burst
