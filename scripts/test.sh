#!/usr/bin/env bash
# Installs what the tests need, builds, and runs every test suite. The README's test command.
#   scripts/test.sh                 regular build in build/
#   SLO_SANITIZE=1 scripts/test.sh  ASan+UBSan build in build-asan/
#   SLO_SUITES="unit kernel"        restrict suites (default: all)
# Prints "N passed, N failed[, N skipped]" last; exits non-zero when any test failed.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

bash scripts/install-deps.sh --with-tests || exit 1

builddir=build
setup_args=()
if [[ "${SLO_SANITIZE:-0}" == 1 ]]; then
  builddir=build-asan
  # -g1 (line tables) is enough for symbolized reports and compiles much faster than -g; benchmarks are not built.
  setup_args+=(-Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug -Dbench=disabled -Dcpp_args=-g1)
fi
if [[ -n "${SLO_EXTRA_SETUP:-}" ]]; then read -r -a extra_setup <<<"$SLO_EXTRA_SETUP"; setup_args+=("${extra_setup[@]}"); fi
if [[ ! -f "$builddir/build.ninja" ]]; then
  meson setup "$builddir" "${setup_args[@]}" >/dev/null || { echo "meson setup failed"; echo "0 passed, 1 failed"; exit 1; }
fi
if ! meson compile -C "$builddir"; then
  echo "build failed"
  echo "0 passed, 1 failed"
  exit 1
fi

suite_args=()
for s in ${SLO_SUITES:-}; do suite_args+=(--suite "$s"); done
meson test -C "$builddir" --print-errorlogs --num-processes 1 "${suite_args[@]}"
rc=$?

# Count from Meson's JSON log: one line per test executable.
python3 - "$builddir/meson-logs/testlog.json" <<'PY'
import json, sys
passed = failed = skipped = 0
try:
    for line in open(sys.argv[1]):
        r = json.loads(line).get("result")
        if r in ("OK", "EXPECTEDFAIL"): passed += 1
        elif r == "SKIP": skipped += 1
        else: failed += 1
except FileNotFoundError:
    failed += 1
print(f"{passed} passed, {failed} failed, {skipped} skipped")
PY
exit $rc
