#!/usr/bin/env bash
# Daemon steady state: `sloagent run` on a synthetic 200-pod node in tmpfs with the default tick periods; CPU time
# and RSS measured from outside the process (/proc/PID/stat utime+stime, /proc/PID/status VmRSS) over 60 s after a
# 5 s warm-up. Usage: bench/runtime_daemon.sh [BUILD_DIR] [PODS] [SECONDS] [v1|v2]
set -euo pipefail
build=${1:-build}; pods=${2:-200}; secs=${3:-60}; layout=${4:-v1}
dir=$(mktemp -d /tmp/slo-daemon-XXXXXX)  # not tmpfs: a tmpfs root is taken for a real cgroup mount
agent_pid=
cleanup() { [[ -n $agent_pid ]] && kill "$agent_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT
"$build/bench/runtime_tick_bench" --make-tree "$dir" "$pods" "$layout"
cat >"$dir/config.yaml" <<'YAML'
agent: {nodeName: node-1, logLevel: warn}
clusterStrategy:
  cpuBurstStrategy: {policy: auto, cpuBurstPercent: 100, cfsQuotaBurstPercent: 300}
YAML
"$build/agent/sloagent" run --config "$dir/config.yaml" --pods-file "$dir/pods.json" --cgroup-root "$dir/cg" \
  --state-dir "$dir/state" --node-name node-1 2>"$dir/agent.log" &
agent_pid=$!
sleep 5
tck=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' "/proc/$agent_pid/stat"; }
c0=$(cpu); t0=$(date +%s.%N)
sleep "$secs"
c1=$(cpu); t1=$(date +%s.%N)
rss=$(awk '/VmRSS/ {print $2}' "/proc/$agent_pid/status")
awk -v c0="$c0" -v c1="$c1" -v t0="$t0" -v t1="$t1" -v tck="$tck" -v rss="$rss" -v pods="$pods" -v l="$layout" 'BEGIN {
  cpu = (c1 - c0) / tck; wall = t1 - t0;
  printf "daemon %s %d pods: %.2f s CPU in %.1f s wall = %.3f %% of one core; RSS %.1f MB\n", l, pods, cpu, wall, 100 * cpu / wall, rss / 1024 }'
grep -c . "$dir/agent.log" | xargs -I{} echo "agent log lines: {}"
