#!/usr/bin/env bash
# time-first-report.sh - measures what the README promises a newcomer: on a fresh Debian 12 machine,
# `scripts/run.sh` (install, build, quick run) to a first report. A fresh machine is not at hand in a
# session, so this makes one: a minimal Debian 12 tree (debootstrap --variant=minbase bookworm, made
# once and kept as a pristine copy), into which it clones the commit, then runs scripts/run.sh in a
# chroot (same kernel, CPUs and network as this machine; /proc, /sys and /dev bound in) and times it.
# Nothing the host has installed is visible inside: no compiler, no libraries, no OpenCL or Vulkan ICD,
# no CUDA; apt-get fetches from deb.debian.org as a fresh machine would.
# Usage (as root): scripts/time-first-report.sh [REV]   (default HEAD; the commit must exist in this repo)
# Environment: CMETER_FRESH_DIR (default /var/tmp/cmeter-fresh): holds base/ (the pristine tree) and
# root/ (the tree of the last measurement, kept for inspection); the log is root/run.log.
# Prints run.sh's own lines and a last line "time-first-report: REV <sha> run.sh <N> s, exit <rc>".
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "time-first-report: needs root (debootstrap, chroot, mount)" >&2; exit 2; }
rev=$(git rev-parse --verify "${1:-HEAD}^{commit}")
dir=${CMETER_FRESH_DIR:-/var/tmp/cmeter-fresh}
base=$dir/base
root=$dir/root
mkdir -p "$dir"

if [ ! -x "$base/bin/bash" ]; then
  command -v debootstrap >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
  echo "time-first-report: making a minimal Debian 12 tree in $base (once)"
  rm -rf "$base.tmp"
  debootstrap --variant=minbase bookworm "$base.tmp" http://deb.debian.org/debian >"$dir/debootstrap.log" 2>&1 ||
    { echo "time-first-report: debootstrap failed ($dir/debootstrap.log)" >&2; exit 1; }
  mv "$base.tmp" "$base"
fi

unmount_all() {
  for m in dev/pts dev sys proc; do umount -l "$root/$m" 2>/dev/null || true; done
}
unmount_all
rm -rf "$root"
cp -a "$base" "$root"
trap unmount_all EXIT
git clone -q "$(pwd)" "$root/root/cmeter"
git -C "$root/root/cmeter" checkout -q "$rev"
cp /etc/resolv.conf "$root/etc/resolv.conf"
mount -t proc proc "$root/proc"
mount --rbind /sys "$root/sys"
mount --rbind /dev "$root/dev"

start_s=$SECONDS
rc=0
chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb \
  /bin/bash -c 'cd /root/cmeter && scripts/run.sh' 2>&1 | tee "$root/run.log" || rc=$?
echo "time-first-report: REV $rev run.sh $((SECONDS - start_s)) s, exit $rc"
exit "$rc"
