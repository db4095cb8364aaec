#!/usr/bin/env bash
# e2e: scripts/image.sh builds the DaemonSet's image from this build's binaries without any registry, and
# `podman run --rm IMAGE sloagent --version` (and sloctl --version) work in it. Skips (77) without buildah/podman.
set -euo pipefail
if ! command -v buildah >/dev/null || ! command -v podman >/dev/null; then
  echo "SKIP: buildah/podman not installed (scripts/install-deps.sh --with-image)"
  exit 77
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "SKIP: building images into the system store needs root"
  exit 77
fi
tag="localhost/slo-agent:e2e-$$"
trap 'podman rmi -f "$tag" >/dev/null 2>&1 || true' EXIT
out=$("$SLO_SOURCE_ROOT/scripts/image.sh" --build-dir "$SLO_BUILD_ROOT" --no-build --tag "$tag" --check 2>&1) || {
  echo "$out"
  exit 1
}
echo "$out"
want=$("$SLO_BUILD_ROOT/agent/sloagent" --version | head -1)
grep -q -- "sloagent --version → $want" <<<"$out" || { echo "FAIL: version in the image differs from $want"; exit 1; }
# Built from scratch: one layer, no distribution; the binaries' libraries only (well under 100 MB).
size=$(podman image inspect "$tag" --format '{{.Size}}')
echo "image size: $size bytes"
((size < 100 * 1024 * 1024)) || { echo "FAIL: image is $size bytes"; exit 1; }
# The DaemonSet's command must exist in the image.
grep -q 'command: \[/usr/bin/sloagent, run\]' "$SLO_SOURCE_ROOT/deploy/daemonset.yaml" || {
  echo "FAIL: deploy/daemonset.yaml no longer runs /usr/bin/sloagent"
  exit 1
}
echo "OK"
