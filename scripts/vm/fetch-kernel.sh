#!/usr/bin/env bash
# Prints the path of a Debian 12 kernel image (vmlinuz) for the cgroup v2 test VM, downloading the package into a
# cache on first use. The package is only unpacked (dpkg -x), never installed: the host's boot setup is untouched.
# Next to it, modules-<version>/ keeps the few modules the guest loads: null_blk (a block device to throttle with
# io.max; Debian builds every disk driver as a module) and configfs, which null_blk needs.
set -euo pipefail
cache=${SLO_VM_CACHE:-/var/cache/slo-agent/vm}
mkdir -p "$cache"
modules=(kernel/fs/configfs/configfs.ko kernel/drivers/block/null_blk/null_blk.ko)  # in load order
existing=$(ls "$cache"/vmlinuz-* 2>/dev/null | head -1 || true)
if [[ -n "$existing" && -f "$cache/modules-${existing##*/vmlinuz-}/null_blk.ko" ]]; then echo "$existing"; exit 0; fi

pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
if [[ -z "$pkg" ]]; then
  apt-get update -qq >/dev/null
  pkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
fi
[[ -n "$pkg" ]] || { echo "fetch-kernel: cannot resolve linux-image-amd64" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && apt-get download "$pkg" >/dev/null 2>&1) || { echo "fetch-kernel: apt-get download $pkg failed" >&2; exit 1; }
dpkg -x "$tmp"/*.deb "$tmp/x"
cp "$tmp"/x/boot/vmlinuz-* "$cache"/
cp "$tmp"/x/boot/config-* "$cache"/ 2>/dev/null || true
for ver_dir in "$tmp"/x/lib/modules/*; do
  mkdir -p "$cache/modules-${ver_dir##*/}"
  for m in "${modules[@]}"; do
    # Debian 12 ships plain .ko files; later releases compress them.
    if [[ -f "$ver_dir/$m" ]]; then cp "$ver_dir/$m" "$cache/modules-${ver_dir##*/}/"
    elif [[ -f "$ver_dir/$m.xz" ]]; then xz -dc "$ver_dir/$m.xz" > "$cache/modules-${ver_dir##*/}/$(basename "$m")"
    fi
  done
done
ls "$cache"/vmlinuz-* | head -1
