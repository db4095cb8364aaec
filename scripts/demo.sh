#!/usr/bin/env bash
# Standalone demo of slo-agent on this machine's real cgroups (v1 here; v2 when the host is unified).
#
#   bash scripts/demo.sh            (as root; DEMO_SECONDS=30 by default)
#
# Installs the dependencies, builds, creates a dedicated subtree in kubelet layout
#   /sys/fs/cgroup/<ctrl>/sloagent-demo-<pid>/kubepods/{burstable,besteffort}/pod<uid>/<container-id>
# starts a bursty latency-sensitive server (LS, Burstable, CPU limit 0.6), an idle LS "api" pod and a CPU hog (BE,
# BestEffort) in it, writes their PodList, runs `sloagent run` in standalone mode on that subtree and prints what
# it does as it happens. From SPIKE_AT seconds the api pod spikes (busy loops on every CPU for SPIKE_SECONDS): BE
# suppression shrinks the BE budget (agent line "BE budget … → … cores (LS usage …)") and the cpuset controller
# narrows the hog's cpuset; both recover after the spike. Everything is removed on exit, also on Ctrl-C; the agent restores every knob it changed first.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
DEMO_SECONDS=${DEMO_SECONDS:-30}
LS_LIMIT_US=${LS_LIMIT_US:-60000}   # the LS container's kubelet quota (0.6 CPU)
SPIKE_AT=${SPIKE_AT:-10}            # seconds after the agent starts
SPIKE_SECONDS=${SPIKE_SECONDS:-10}

if [[ $(id -u) -ne 0 ]]; then echo "demo: run as root (it creates cgroups)" >&2; exit 1; fi

builddir=${SLO_BUILD_DIR:-build}
if [[ ${SLO_DEMO_NO_BUILD:-0} != 1 ]]; then
  bash scripts/install-deps.sh
  if [[ ! -f $builddir/build.ninja ]]; then meson setup "$builddir" >/dev/null; fi
  meson compile -C "$builddir"
fi
agent_bin=$repo/$builddir/agent/sloagent

name=sloagent-demo-$$
work=$(mktemp -d /tmp/sloagent-demo.XXXXXX)
cgroot=/sys/fs/cgroup
if [[ $(stat -fc %T "$cgroot") == cgroup2fs ]]; then mode=v2; else mode=v1; fi
v1_ctrls=(cpu cpuacct cpuset memory)
pids=()
agent_pid=

say() { printf '\033[1m[demo]\033[0m %s\n' "$*"; }

ctrl_dirs() {  # every directory that holds cgroup $1 (relative to the demo root)
  if [[ $mode == v2 ]]; then echo "$cgroot/$name/$1"; else
    for c in "${v1_ctrls[@]}"; do echo "$cgroot/$c/$name/$1"; done
  fi
}

mkcg() {  # mkcg REL: creates the cgroup in every hierarchy (cpuset inherits the parent's cpus/mems on v1)
  local rel=$1 path="" part
  IFS=/ read -r -a parts <<<"$rel"
  for part in "${parts[@]}"; do
    path=${path:+$path/}$part
    if [[ $mode == v2 ]]; then
      local d=$cgroot/$name/$path
      [[ -d $d ]] && continue
      mkdir "$d"
    else
      for c in "${v1_ctrls[@]}"; do
        local d=$cgroot/$c/$name/$path
        [[ -d $d ]] && continue
        mkdir "$d"
        if [[ $c == cpuset ]]; then
          cat "$(dirname "$d")/cpuset.cpus" >"$d/cpuset.cpus"
          cat "$(dirname "$d")/cpuset.mems" >"$d/cpuset.mems"
        fi
      done
    fi
  done
}

knob() {  # knob REL v1-file value (translated for v2)
  local rel=$1 file=$2 value=$3
  if [[ $mode == v2 ]]; then
    case $file in
      cpu.cfs_quota_us) [[ $value == -1 ]] && value=max; echo "$value 100000" >"$cgroot/$name/$rel/cpu.max" ;;
      cpu.shares) echo $((1 + (value - 2) * 9999 / 262142)) >"$cgroot/$name/$rel/cpu.weight" ;;
    esac
  else
    echo "$value" >"$cgroot/cpu/$name/$rel/$file"
  fi
}

attach() {  # attach REL PID
  local d
  for d in $(ctrl_dirs "$1"); do echo "$2" >"$d/cgroup.procs"; done
}

show() {  # one status line for the LS container
  local rel=$1 stat q b
  if [[ $mode == v2 ]]; then
    q=$(cat "$cgroot/$name/$rel/cpu.max"); b=$(cat "$cgroot/$name/$rel/cpu.max.burst" 2>/dev/null || echo n/a)
    stat=$(grep -E 'nr_periods|nr_throttled' "$cgroot/$name/$rel/cpu.stat" | tr '\n' ' ')
  else
    q=$(cat "$cgroot/cpu/$name/$rel/cpu.cfs_quota_us"); b=$(cat "$cgroot/cpu/$name/$rel/cpu.cfs_burst_us" 2>/dev/null || echo n/a)
    stat=$(grep -E 'nr_periods|nr_throttled' "$cgroot/cpu/$name/$rel/cpu.stat" | tr '\n' ' ')
  fi
  say "web/server: quota $q burst $b | $stat"
}

show_be() {  # the BE hog's CPUs (cpuset policy narrows them while LS needs the CPUs)
  local cpus
  if [[ $mode == v2 ]]; then cpus=$(cat "$cgroot/$name/$hog_ctr/cpuset.cpus.effective" 2>/dev/null || echo ?)
  else cpus=$(cat "$cgroot/cpuset/$name/$hog_ctr/cpuset.cpus"); fi
  say "batch/hog (BE): cpuset $cpus"
}

cleanup() {
  trap - EXIT INT TERM
  set +e
  if [[ -n $agent_pid ]] && kill -0 "$agent_pid" 2>/dev/null; then
    say "stopping the agent (it restores every knob it changed)"
    kill -TERM "$agent_pid"; wait "$agent_pid" 2>/dev/null
  fi
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
  wait 2>/dev/null
  # Anything still inside (children of the workloads): kill by cgroup membership, then remove bottom-up.
  local top
  for top in $( [[ $mode == v2 ]] && echo "$cgroot/$name" || for c in "${v1_ctrls[@]}"; do echo "$cgroot/$c/$name"; done ); do
    [[ -d $top ]] || continue
    find "$top" -name cgroup.procs -exec cat {} + 2>/dev/null | xargs -r kill -KILL 2>/dev/null
  done
  sleep 0.2
  for top in $( [[ $mode == v2 ]] && echo "$cgroot/$name" || for c in "${v1_ctrls[@]}"; do echo "$cgroot/$c/$name"; done ); do
    [[ -d $top ]] && find "$top" -depth -type d -exec rmdir {} + 2>/dev/null
  done
  rm -rf "$work"
  say "cleaned up ($name removed)"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "cgroup $mode at $cgroot; demo subtree $name; running ${DEMO_SECONDS}s"
if [[ $mode == v1 ]]; then
  for c in "${v1_ctrls[@]}"; do
    mkdir "$cgroot/$c/$name"
    if [[ $c == cpuset ]]; then
      cat "$cgroot/cpuset/cpuset.cpus" >"$cgroot/cpuset/$name/cpuset.cpus"
      cat "$cgroot/cpuset/cpuset.mems" >"$cgroot/cpuset/$name/cpuset.mems"
    fi
  done
fi
if [[ $mode == v2 ]]; then
  mkdir -p "$cgroot/$name"
  for c in cpu cpuset memory; do echo "+$c" >"$cgroot/cgroup.subtree_control" 2>/dev/null || true; done
fi

web_uid=d3m0a111-0000-4000-8000-000000000001; web_cid=aaaa1111bbbb2222cccc3333dddd4444eeee5555ffff6666aaaa1111bbbb2222
hog_uid=d3m0b222-0000-4000-8000-000000000002; hog_cid=bbbb1111cccc2222dddd3333eeee4444ffff5555aaaa6666bbbb1111cccc2222
web_pod=kubepods/burstable/pod$web_uid; web_ctr=$web_pod/$web_cid
hog_pod=kubepods/besteffort/pod$hog_uid; hog_ctr=$hog_pod/$hog_cid
api_uid=d3m0c333-0000-4000-8000-000000000003; api_cid=cccc1111dddd2222eeee3333ffff4444aaaa5555bbbb6666cccc1111dddd2222
api_pod=kubepods/burstable/pod$api_uid; api_ctr=$api_pod/$api_cid
mkcg "$web_ctr"; mkcg "$hog_ctr"; mkcg "$api_ctr"
if [[ $mode == v2 ]]; then  # controllers must be enabled down to the leaves' parents
  for d in "" kubepods kubepods/burstable kubepods/besteffort "$web_pod" "$hog_pod" "$api_pod"; do
    for c in cpu cpuset memory; do echo "+$c" >"$cgroot/$name/${d:+$d/}cgroup.subtree_control" 2>/dev/null || true; done
  done
fi
# What kubelet would have written: the LS pod and container limited to 0.6 CPU, BE at minimum shares.
knob "$web_pod" cpu.cfs_quota_us "$LS_LIMIT_US"; knob "$web_ctr" cpu.cfs_quota_us "$LS_LIMIT_US"
knob kubepods/besteffort cpu.shares 2; knob "$hog_pod" cpu.shares 2; knob "$hog_ctr" cpu.shares 2
knob "$api_pod" cpu.shares 2048; knob "$api_ctr" cpu.shares 2048  # api requests 2 CPUs, no limit

run_in() {  # run_in REL CMD...: the process joins the cgroup before it execs, so its children start inside
  local rel=$1; shift
  local dirs; dirs=$(ctrl_dirs "$rel" | tr '\n' ' ')
  bash -c 'for d in '"$dirs"'; do echo $$ >"$d/cgroup.procs"; done; exec "$@"' _ "$@" &
  pids+=($!)
}
run_in "$web_ctr" python3 "$repo/scripts/demo/bursty_server.py"
ncpu=$(nproc)
for _ in $(seq 1 "$ncpu"); do run_in "$hog_ctr" bash -c 'while :; do :; done'; done
run_in "$api_ctr" sleep infinity
say "started: web (bursty LS server, limit $((LS_LIMIT_US / 1000))% CPU), api (LS, idle until ${SPIKE_AT}s) and batch (BE hog, $ncpu spinning shells)"

cat >"$work/pods.json" <<JSON
{"kind":"PodList","apiVersion":"v1","items":[
 {"metadata":{"name":"web","namespace":"demo","uid":"$web_uid","labels":{"app":"web","koordinator.sh/qosClass":"LS"}},
  "spec":{"nodeName":"demo-node","priority":9500,"containers":[{"name":"server","resources":{"requests":{"cpu":"300m","memory":"64Mi"},"limits":{"cpu":"600m"}}}]},
  "status":{"phase":"Running","qosClass":"Burstable","containerStatuses":[{"name":"server","containerID":"containerd://$web_cid","ready":true}]}},
 {"metadata":{"name":"api","namespace":"demo","uid":"$api_uid","labels":{"app":"api","koordinator.sh/qosClass":"LS"}},
  "spec":{"nodeName":"demo-node","priority":9500,"containers":[{"name":"api","resources":{"requests":{"cpu":"2","memory":"64Mi"}}}]},
  "status":{"phase":"Running","qosClass":"Burstable","containerStatuses":[{"name":"api","containerID":"containerd://$api_cid","ready":true}]}},
 {"metadata":{"name":"batch","namespace":"demo","uid":"$hog_uid","labels":{"app":"batch","koordinator.sh/qosClass":"BE"}},
  "spec":{"nodeName":"demo-node","priority":5500,"containers":[{"name":"hog","resources":{}}]},
  "status":{"phase":"Running","qosClass":"BestEffort","containerStatuses":[{"name":"hog","containerID":"containerd://$hog_cid","ready":true}]}}
]}
JSON

say "starting: sloagent run --pods-file … --kubepods-parent $name (executor changes are printed as they happen)"
"$agent_bin" run --config "$repo/scripts/demo/config.yaml" --pods-file "$work/pods.json" --kubepods-parent "$name" \
  --state-dir "$work/state" --sysfs-root /sys --proc-root /proc --metrics-addr 127.0.0.1:0 --restore-on-exit \
  > >(sed -u 's/^/  agent| /') 2>&1 &
agent_pid=$!

start=$SECONDS
end=$((start + DEMO_SECONDS))
spiked=0
while ((SECONDS < end)); do
  sleep 1
  elapsed=$((SECONDS - start))
  if ((spiked == 0 && elapsed >= SPIKE_AT)); then
    spiked=1
    say "LS spike: api runs $ncpu busy loops for ${SPIKE_SECONDS}s (watch the agent's 'BE budget' line and the hog's cpuset)"
    for _ in $(seq 1 "$ncpu"); do run_in "$api_ctr" timeout "$SPIKE_SECONDS" bash -c 'while :; do :; done'; done
  fi
  if ((spiked == 1 && elapsed >= SPIKE_AT + SPIKE_SECONDS)); then spiked=2; say "LS spike over"; fi
  if ((elapsed % 5 == 0)); then show "$web_ctr"; show_be; fi
done
say "time is up (DEMO_SECONDS=$DEMO_SECONDS)"
