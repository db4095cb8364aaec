#!/usr/bin/env bash
# Daemon steady state: `sloagent run` on a synthetic node (kubelet-like quotas, frozen /proc, see
# runtime_tick_bench --make-tree) with the default tick periods and both API servers on (gRPC socket, /metrics);
# CPU time and memory measured from outside the process (/proc/PID/stat utime+stime, /proc/PID/status VmRSS,
# VmHWM, RssAnon, RssFile) over SECONDS after a 5 s warm-up, plus the agent's own knob-write counter.
# Usage: bench/runtime_daemon.sh [BUILD_DIR] [PODS] [SECONDS] [v1|v2]
set -euo pipefail
build=${1:-build}; pods=${2:-200}; secs=${3:-60}; layout=${4:-v1}
dir=$(mktemp -d /tmp/slo-daemon-XXXXXX)  # not tmpfs: a tmpfs root is taken for a real cgroup mount
agent_pid=
cleanup() {
  if [[ -n $agent_pid ]]; then kill "$agent_pid" 2>/dev/null || true; wait "$agent_pid" 2>/dev/null || true; fi
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
"$build/bench/runtime_tick_bench" --make-tree "$dir" "$pods" "$layout"
sed -i 's/logLevel: error/logLevel: info/' "$dir/config.yaml"  # info: the metrics port and the first writes
"$build/agent/sloagent" run --config "$dir/config.yaml" --pods-file "$dir/pods.json" --cgroup-root "$dir/cg" \
  --proc-root "$dir/proc" --state-dir "$dir/state" --node-name node-1 --socket "$dir/sloagent.sock" \
  --metrics-addr 127.0.0.1:0 2>"$dir/agent.log" &
agent_pid=$!
sleep 5
kill -0 "$agent_pid" || { echo "agent exited:"; cat "$dir/agent.log"; exit 1; }
port=$(grep -o '127.0.0.1:[0-9]*' "$dir/agent.log" | grep -v ':0$' | head -1 | cut -d: -f2 || true)
writes() { [[ -n $port ]] && curl -s "http://127.0.0.1:$port/metrics" |
  awk '/^sloagent_executor_writes_total\{/ && /result="ok"/ {s += $NF} END {print s + 0}' || echo "?"; }
tck=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' "/proc/$agent_pid/stat"; }
w0=$(writes); c0=$(cpu); t0=$(date +%s.%N); load0=$(cut -d' ' -f1-3 /proc/loadavg); lines0=$(grep -c . "$dir/agent.log" || true)
[[ -n ${SLO_DAEMON_HOOK:-} ]] && eval "$SLO_DAEMON_HOOK"
sleep "$secs"
c1=$(cpu); t1=$(date +%s.%N); w1=$(writes); load1=$(cut -d' ' -f1-3 /proc/loadavg)
mem() { awk -v k="$1:" '$1 == k {print $2}' "/proc/$agent_pid/status"; }
awk -v c0="$c0" -v c1="$c1" -v t0="$t0" -v t1="$t1" -v tck="$tck" -v rss="$(mem VmRSS)" -v hwm="$(mem VmHWM)" \
  -v anon="$(mem RssAnon)" -v file="$(mem RssFile)" -v pods="$pods" -v l="$layout" 'BEGIN {
  cpu = (c1 - c0) / tck; wall = t1 - t0;
  printf "daemon %s %d pods: %.2f s CPU in %.1f s wall = %.3f %% of one core; RSS %.1f MB (VmHWM %.1f; anon %.1f, file %.1f)\n",
    l, pods, cpu, wall, 100 * cpu / wall, rss / 1024, hwm / 1024, anon / 1024, file / 1024 }'
echo "knob writes during the window: $w0 -> $w1 (metrics port ${port:-none}); loadavg $load0 -> $load1"
echo "agent log lines: $lines0 during the warm-up, $(( $(grep -c . "$dir/agent.log" || true) - lines0 )) during the window"
tail -n +$((lines0 + 1)) "$dir/agent.log" | tail -5
