#!/usr/bin/env bash
# Builds the container image that deploy/daemonset.yaml names, without pulling anything from a registry:
# `buildah from scratch`, then sloagent + sloctl, exactly the shared libraries they load (ldd) and the dynamic
# loader, CA certificates (for the API server when its CA is not mounted), the zoneinfo database (schedule windows
# name IANA time zones) and a minimal /etc/passwd and /etc/group. The BPF programs are compiled into sloagent
# (libbpf skeletons), so there is no separate object to copy.
#
#   scripts/image.sh [--build-dir DIR] [--no-build] [--tag IMAGE] [--check]
#
#   --build-dir DIR  meson build directory to take the binaries from (default build-image, set up as a release
#                    build when absent)
#   --no-build       use the binaries already in --build-dir (no meson/ninja)
#   --tag IMAGE      image name (default: the image of the sloagent container in deploy/daemonset.yaml)
#   --check          afterwards `podman run --rm IMAGE sloagent --version` must print the binary's own version
#
# Needs buildah (and podman for --check): `apt-get install buildah podman`, or scripts/install-deps.sh with
# SLO_EXTRA_PKGS="buildah podman". Push it to your registry with
#   podman tag localhost/slo-agent:0.1.0 registry.example.com/slo-agent:0.1.0
#   podman push registry.example.com/slo-agent:0.1.0
# and set that name in deploy/daemonset.yaml (README "Install on a cluster").
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
build_dir=build-image
do_build=1
check=0
tag=""
while (($#)); do
  case "$1" in
    --build-dir) build_dir=$2; shift 2 ;;
    --no-build) do_build=0; shift ;;
    --tag) tag=$2; shift 2 ;;
    --check) check=1; shift ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "image.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[[ "$build_dir" = /* ]] || build_dir="$repo/$build_dir"

if [[ -z "$tag" ]]; then
  tag=$(awk '/- name: sloagent$/ {c=1} c && /image:/ {print $2; exit}' "$repo/deploy/daemonset.yaml")
  [[ -n "$tag" ]] || { echo "image.sh: no image name found in deploy/daemonset.yaml" >&2; exit 1; }
fi
command -v buildah >/dev/null || { echo "image.sh: buildah not installed (apt-get install buildah)" >&2; exit 1; }

if ((do_build)); then
  [[ -f "$build_dir/build.ninja" ]] || meson setup "$build_dir" "$repo" --buildtype=release >/dev/null
  ninja -C "$build_dir" agent/sloagent cli/sloctl
fi
bins=("$build_dir/agent/sloagent" "$build_dir/cli/sloctl")
for b in "${bins[@]}"; do [[ -x "$b" ]] || { echo "image.sh: $b missing (build it or drop --no-build)" >&2; exit 1; }; done

stage=$(mktemp -d)
ctr=""
cleanup() {
  rm -rf "$stage"
  [[ -z "$ctr" ]] || buildah rm "$ctr" >/dev/null 2>&1 || true
}
trap cleanup EXIT

# Copies a file to the same absolute path below the stage, following symlinks (the loader and sonames are
# symlinks on Debian; the image needs the name the binary asks for with the real content behind it).
stage_file() {
  local src=$1 dst="$stage$1"
  mkdir -p "$(dirname "$dst")"
  cp -L "$src" "$dst"
}

mkdir -p "$stage/usr/bin"
for b in "${bins[@]}"; do
  cp "$b" "$stage/usr/bin/"
  strip --strip-unneeded "$stage/usr/bin/$(basename "$b")" 2>/dev/null || true
  # "libx.so.1 => /lib/x86_64-linux-gnu/libx.so.1 (0x…)" and the loader line "/lib64/ld-linux-x86-64.so.2 (0x…)".
  while read -r lib; do
    stage_file "$lib"
  done < <(ldd "$b" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' | sort -u)
done
# Debian 12 is merged-/usr: /lib64 and /lib are symlinks there; keep them symlinks in the image too.
for d in lib lib64; do
  if [[ -d "$stage/$d" && -L "/$d" ]]; then
    mkdir -p "$stage/usr/$d"
    cp -a "$stage/$d/." "$stage/usr/$d/"
    rm -rf "${stage:?}/$d"
    ln -s "usr/$d" "$stage/$d"
  fi
done
mkdir -p "$stage/etc/ssl/certs" "$stage/usr/share" "$stage/tmp" "$stage/var/lib/sloagent" "$stage/run/sloagent"
chmod 1777 "$stage/tmp"
cp -L /etc/ssl/certs/ca-certificates.crt "$stage/etc/ssl/certs/"
[[ -d /usr/share/zoneinfo ]] && cp -a /usr/share/zoneinfo "$stage/usr/share/"
printf 'root:x:0:0:root:/root:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n' \
  >"$stage/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$stage/etc/group"

version=$("$build_dir/agent/sloagent" --version | head -1)
ctr=$(buildah from scratch)
buildah copy "$ctr" "$stage" / >/dev/null
buildah config \
  --env PATH=/usr/bin:/bin \
  --env SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
  --workingdir / \
  --cmd '["/usr/bin/sloagent", "run"]' \
  --label org.opencontainers.image.title=slo-agent \
  --label org.opencontainers.image.description="node-level SLO manager for Kubernetes colocation" \
  --label org.opencontainers.image.version="$version" \
  --os linux --arch amd64 \
  "$ctr"
buildah commit --quiet --rm "$ctr" "$tag" >/dev/null
ctr=""
echo "image.sh: built $tag ($version, $(du -sh "$stage" | cut -f1) staged)"

if ((check)); then
  command -v podman >/dev/null || { echo "image.sh: --check needs podman" >&2; exit 1; }
  run=(podman run --rm)
  run_err=$(mktemp)
  if ! got=$("${run[@]}" "$tag" sloagent --version 2>"$run_err" | head -1) || [[ -z "$got" ]]; then
    # Sandboxes without CAP_SYS_RESOURCE cannot apply podman's default rlimits, and crun refuses hybrid cgroup
    # v1+v2 hosts; runc with lowered rlimits runs there. A real host needs none of this.
    echo "image.sh: plain podman run failed ($(tail -1 "$run_err")); retrying with runc and lowered rlimits" >&2
    run=(podman --runtime runc run --rm --ulimit nofile=1024:1024 --ulimit nproc=1024:1024)
    got=$("${run[@]}" "$tag" sloagent --version | head -1)
  fi
  rm -f "$run_err"
  if [[ "$got" != "$version" ]]; then
    echo "image.sh: podman run $tag sloagent --version printed '$got', expected '$version'" >&2
    exit 1
  fi
  echo "image.sh: ${run[*]} $tag sloagent --version → $got"
  # sloctl loads its own libraries (gRPC, protobuf): it must start too.
  ctl=$("${run[@]}" "$tag" sloctl --version | head -1)
  [[ -n "$ctl" ]] || { echo "image.sh: sloctl --version printed nothing in the image" >&2; exit 1; }
  echo "image.sh: sloctl --version → $ctl"
fi
