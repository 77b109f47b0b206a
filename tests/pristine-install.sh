#!/usr/bin/env bash
# tests/pristine-install.sh DEB: installs a built veilfs package on a pristine Debian 12 (a
# debootstrap minbase chroot: none of the build's dependencies present), with apt resolving
# its dependencies from deb.debian.org, then uses it as a user would: veilctl init with the
# password on stdin, a mount through an /etc/fstab line (`mount -t fuse.veilfs`), a file
# written and read back, the ciphertext checked for the plaintext, umount, the manual pages
# and bash completion present, and apt purge leaving nothing of the package behind.
#
# Not part of make check: it needs the network (about 30 MB from deb.debian.org) and a
# minute or two. Run as root after tests/run-all.sh (its deb stage leaves the package in
# build/deb-work/):
#
#   sudo apt-get install -y debootstrap
#   sudo bash tests/pristine-install.sh build/deb-work/veilfs_*_amd64.deb
#
# TAP on stdout; exit status 0 when every check passed.
set -u
deb=${1:-}
[ -f "$deb" ] || { echo "usage: $0 DEB (the .deb that tests/deb-test.sh built)" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "$0: run as root (debootstrap, chroot, mount)" >&2; exit 2; }
command -v debootstrap >/dev/null || { echo "$0: apt-get install -y debootstrap" >&2; exit 2; }
[ -e /dev/fuse ] || { echo "$0: no /dev/fuse" >&2; exit 2; }

root=$(mktemp -d "${TMPDIR:-/var/tmp}/veilfs-pristine.XXXXXX") || exit 2
n=0 failed=0
ok() { # DESCRIPTION COMMAND...
	local d=$1
	shift
	n=$((n + 1))
	if "$@" >>"$root.log" 2>&1; then
		echo "ok $n - $d"
	else
		echo "not ok $n - $d"
		failed=$((failed + 1))
		tail -5 "$root.log" | sed 's/^/#   /'
	fi
}
cleanup() {
	local m
	for m in /mnt/m /mnt/m2 /proc /dev/pts /dev /sys; do
		umount -l "$root$m" 2>/dev/null
	done
	rm -rf --one-file-system "$root" "$root.log"
}
trap cleanup EXIT
in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root "$@"; }

echo "# debootstrap bookworm into $root"
ok "debootstrap --variant=minbase bookworm" \
	debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian
mount -t proc proc "$root/proc" && mount --rbind /dev "$root/dev" && mount -t sysfs sys "$root/sys" ||
	{ echo "Bail out! cannot mount /proc, /dev, /sys in the chroot"; exit 1; }
cp /etc/resolv.conf "$root/etc/resolv.conf"
ok "the pristine system has neither veilfs nor fuse3" \
	in_root sh -c '! command -v veilfs && ! command -v fusermount3 && ! dpkg -s libfuse3-3'
cp "$deb" "$root/tmp/veilfs.deb"
ok "apt-get update" in_root apt-get update -q
ok "apt-get install ./veilfs.deb (its dependencies from the mirror)" \
	in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q /tmp/veilfs.deb
ok "veilfs and veilctl run" in_root sh -c 'veilfs --version && veilctl --help >/dev/null'
ok "the manual pages are installed" \
	in_root sh -c 'for p in veilfs.1 veilctl.1 veilfs.conf.5; do ls /usr/share/man/man*/$p.gz; done'
ok "bash completion is installed" in_root test -s /usr/share/bash-completion/completions/veilctl
ok "mount.fuse finds veilfs for fuse.veilfs" in_root sh -c 'command -v mount.fuse3 || command -v mount.fuse'

mkdir -p "$root/mnt/c" "$root/mnt/m"
ok "veilctl init with the password on stdin" \
	in_root sh -c 'printf "pristine pass\n" | veilctl init /mnt/c >/dev/null'
printf 'pristine pass\n' >"$root/root/pass"
chmod 600 "$root/root/pass"
printf '/mnt/c /mnt/m fuse.veilfs passfile=/root/pass,noauto 0 0\n' >>"$root/etc/fstab"
ok "mount /mnt/m through the fstab line" in_root mount /mnt/m
ok "the mount is fuse.veilfs" in_root sh -c 'grep -q " /mnt/m fuse.veilfs " /proc/self/mounts'
ok "a file round-trips" in_root sh -c 'echo "pristine plaintext" >/mnt/m/hello && [ "$(cat /mnt/m/hello)" = "pristine plaintext" ]'
ok "the ciphertext holds neither the name nor the contents" \
	in_root sh -c '! grep -r -q "pristine plaintext" /mnt/c && ! find /mnt/c -name hello | grep -q .'
ok "umount" in_root umount /mnt/m
ok "apt-get purge veilfs" in_root env DEBIAN_FRONTEND=noninteractive apt-get purge -y -q veilfs
ok "nothing of the package is left" \
	in_root sh -c '! command -v veilfs && ! command -v veilctl && ! ls /usr/share/doc/veilfs && ! dpkg -s veilfs'

echo "1..$n"
echo "# pristine-install: $((n - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
