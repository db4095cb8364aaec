#!/usr/bin/env bash
# Installs every Debian 12 package slo-agent needs to build, test and run. Idempotent: when all packages are
# present it touches nothing (no apt-get update), so repeated runs cost a second.
set -euo pipefail

BUILD_PKGS=(
  meson ninja-build pkg-config g++ clang llvm
  libboost-dev libboost-system-dev libcgroup-dev
  libbpf-dev bpftool libelf-dev zlib1g-dev
  libprotobuf-dev protobuf-compiler libgrpc++-dev protobuf-compiler-grpc
  nlohmann-json3-dev prometheus-cpp-dev catch2 libyaml-cpp-dev libssl-dev
  libclang-rt-14-dev
  ccache   # meson uses it when present; a CI machine that builds main repeatedly reuses unchanged objects
)
# Used by tests and benchmarks only (load generators, metric linting, v2 kernel VM).
TEST_PKGS=(
  stress-ng procps util-linux python3 python3-yaml python3-jsonschema curl
  qemu-system-x86 busybox-static cpio   # cgroup v2 kernel tests in a VM (tests/vm)
  prometheus                            # promtool + a real server scraping /metrics (tests/api)
)

# Optional: building and checking the container image (scripts/image.sh). runc: crun refuses hybrid cgroup v1+v2
# hosts such as this one, runc does not.
IMAGE_PKGS=(buildah podman runc)

want=("${BUILD_PKGS[@]}")
for arg in "$@"; do
  case "$arg" in
    --with-tests) want+=("${TEST_PKGS[@]}") ;;
    --with-image) want+=("${IMAGE_PKGS[@]}") ;;
  esac
done
if [[ -n "${SLO_EXTRA_PKGS:-}" ]]; then read -r -a extra <<<"$SLO_EXTRA_PKGS"; want+=("${extra[@]}"); fi

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#want[@]} packages present"
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "install-deps: missing packages (${missing[*]}) and not root; run as root" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
