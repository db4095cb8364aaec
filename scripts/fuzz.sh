#!/usr/bin/env bash
# Coverage-guided fuzzing of the parsers with libFuzzer (clang). Every regular build already replays the seeds and
# deterministic mutations (suite 'unit', tests/fuzz); this runs the real fuzzer for longer.
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET…]     default 60 s, every target
# Findings land in build-fuzz/findings/<target>/ (crash-*, leak-*); the grown corpus in build-fuzz/corpus/<target>/.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
shift || true
bash scripts/install-deps.sh --with-tests >/dev/null
if [[ ! -f build-fuzz/build.ninja ]]; then
  CC=clang CXX=clang++ meson setup build-fuzz -Dfuzz=enabled -Dbench=disabled -Dwerror=false \
    -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debugoptimized \
    -Dcpp_args=-fsanitize=fuzzer-no-link >/dev/null
fi
targets=("$@")
if ((${#targets[@]} == 0)); then targets=(cgroup_files cpuset schemata pod_list quantity config); fi
ninja -C build-fuzz "${targets[@]/%/_fuzzer}" >/dev/null
rc=0
for t in "${targets[@]}"; do
  corpus=build-fuzz/corpus/$t findings=build-fuzz/findings/$t
  mkdir -p "$corpus" "$findings"
  cp -n tests/fuzz/seeds/"$t"/* "$corpus"/ 2>/dev/null || true
  echo "== $t: ${secs} s"
  if ! build-fuzz/tests/fuzz/"$t"_fuzzer -max_total_time="$secs" -max_len=65536 -artifact_prefix="$findings/" \
      "$corpus" 2>&1 | tail -3; then
    rc=1
  fi
done
exit $rc
