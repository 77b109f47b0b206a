#!/usr/bin/env bash
# tests/deb-test.sh: builds the Debian package from a copy of the source tree with
# `dpkg-buildpackage -us -uc -b`, runs lintian on it, installs it, mounts a vault through an
# /etc/fstab line and `mount -t fuse.veilfs`, purges it and checks that nothing is left.
# TAP on stdout (tests/run-all.sh runs it as its "deb" stage and counts the results).
# Needs root, dpkg-dev, debhelper, lintian and FUSE.
#
# The install happens in a private mount namespace whose /usr, /etc and /var are overlays
# of the real ones: dpkg and apt really install and purge, but the machine outside sees
# nothing (other test runs on the machine keep their own veilfs). VEILFS_DEB_SYSTEM=1
# installs into the real system instead (a fresh CI machine, or by hand).
#   tests/deb-test.sh [WORKDIR]    WORKDIR keeps the copy and the .deb (default: a temp dir)
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/tests/lib.sh"

# ---- inside the namespace: install, use, purge ----
if [ "${1:-}" = "--installed-part" ]; then
	deb=$2 work=$3 vl_n=$4 vl_failed=$5 # continue the outer part's count
	for d in usr etc var; do
		mkdir -p "$work/ovl/$d.upper" "$work/ovl/$d.work"
		mount -t overlay "veilfs-deb-$d" \
			-o "lowerdir=/$d,upperdir=$work/ovl/$d.upper,workdir=$work/ovl/$d.work" "/$d" ||
			bail "cannot overlay /$d"
	done
else
	[ "$(id -u)" -eq 0 ] || skip_all "needs root (dpkg -i, mount)"
	for prog in dpkg-buildpackage dh lintian apt-get; do
		command -v "$prog" >/dev/null || skip_all "$prog is not installed (.ci/deps installs dpkg-dev, debhelper, lintian)"
	done
	[ -e /dev/fuse ] || skip_all "no /dev/fuse"
	work=${1:-}
	if [ -z "$work" ]; then
		work=$(mktemp -d "${TMPDIR:-/tmp}/veilfs-deb.XXXXXX") || bail "mktemp failed"
		trap 'rm -rf -- "$work"' EXIT
	fi
	mkdir -p "$work"
	version=$(sed -n '1s/^veilfs (\([^)]*\)).*/\1/p' "$top/debian/changelog")
	src=$work/veilfs-$version
	rm -rf "$src" "$work"/*.deb "$work"/*.changes "$work"/*.buildinfo
	mkdir -p "$src"
	# A copy of the tree as git sees it (committed or not, never ignored build outputs).
	if git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
		(cd "$top" && git ls-files -z -co --exclude-standard | tar --null -T - -cf -) | tar -xf - -C "$src"
	else
		(cd "$top" && tar --exclude=./build --exclude=./demo -cf - .) | tar -xf - -C "$src"
	fi
	ok "the source tree is copied" test -f "$src/debian/rules"
	tree_state() { (cd "$top" && git status --porcelain --ignored 2>/dev/null; find . -newer "$work/stamp" -not -path './.git/*' -not -path './build/*' -print 2>/dev/null); }
	touch "$work/stamp"
	tree_state >"$work/tree.before"
	(cd "$src" && dpkg-buildpackage -us -uc -b) >"$work/build.log" 2>&1
	rc=$?
	is "dpkg-buildpackage -us -uc -b succeeds" 0 "$rc"
	[ "$rc" -eq 0 ] || { tail -40 "$work/build.log" | sed 's/^/#   /'; done_testing; }
	deb=$(ls "$work"/veilfs_"$version"_*.deb 2>/dev/null | head -n 1)
	ok "it made veilfs_${version}_ARCH.deb" test -f "$deb"
	tree_state >"$work/tree.after"
	ok "the build wrote nothing into the source tree" cmp -s "$work/tree.before" "$work/tree.after"
	lintian --fail-on error "$work"/veilfs_"$version"_*.changes >"$work/lintian.log" 2>&1
	is "lintian reports no errors" 0 $?
	sed 's/^/# lintian: /' "$work/lintian.log"
	nok "no lintian error tag" grep -q '^E: ' "$work/lintian.log"
	ok "dpkg-deb lists the files" sh -c 'dpkg-deb -c "$1" >"$2/contents"' _ "$deb" "$work"
	for f in /usr/bin/veilfs /usr/bin/veilctl /usr/share/man/man1/veilfs.1.gz \
		/usr/share/man/man1/veilctl.1.gz /usr/share/man/man5/veilfs.conf.5.gz \
		/usr/share/bash-completion/completions/veilctl /usr/share/bash-completion/completions/veilfs \
		/usr/lib/systemd/user/veilfs@.service /usr/share/doc/veilfs/examples/pam_mount.conf.xml \
		/usr/share/doc/veilfs/examples/credential.conf /usr/share/doc/veilfs/copyright; do
		ok "the package holds $f" grep -q " \.$f\$" "$work/contents"
	done
	if [ -z "${VEILFS_DEB_SYSTEM:-}" ]; then
		command -v unshare >/dev/null || bail "unshare is missing (util-linux)"
		unshare -m --propagation private bash "$0" --installed-part "$deb" "$work" "$vl_n" "$vl_failed"
		exit $?
	fi
fi

# ---- install, use, purge (here the system is the real one or the overlay) ----
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
VL_TMP=$(mktemp -d "${TMPDIR:-/tmp}/veilfs-debtest.XXXXXX") || bail "mktemp failed"
cp -p /etc/fstab "$VL_TMP/fstab.orig"
deb_cleanup() {
	local m
	cd / || true
	for m in "${vl_mounts[@]}"; do vl_umount_dir "$m" 2>/dev/null; done
	cp -p "$VL_TMP/fstab.orig" /etc/fstab
	dpkg-query -W -f='${Status}' veilfs 2>/dev/null | grep -q installed &&
		apt-get purge -y -qq veilfs >/dev/null 2>&1
	rm -rf -- "$VL_TMP"
}
trap deb_cleanup EXIT
trap 'exit 130' INT TERM

nok "veilfs is not installed before the test" sh -c 'dpkg-query -W -f="\${Status}" veilfs 2>/dev/null | grep -q "ok installed"'
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$deb" >"$VL_TMP/install.log" 2>&1
rc=$?
is "apt-get install ./veilfs_*.deb" 0 "$rc"
[ "$rc" -eq 0 ] || sed 's/^/#   /' "$VL_TMP/install.log"
dpkg -L veilfs >"$VL_TMP/files" 2>/dev/null
is "veilfs on the PATH is the packaged one" /usr/bin/veilfs "$(command -v veilfs)"
ok "veilfs --version runs" sh -c 'veilfs --version | grep -q "^veilfs "'
ok "veilctl --version runs" sh -c 'veilctl --version | grep -q "^veilctl "'
ok "man finds veilfs(1), veilctl(1) and veilfs.conf(5)" \
	sh -c '{ man -w 1 veilfs && man -w 1 veilctl && man -w 5 veilfs.conf; } >/dev/null'
ok "the bash completion loads and completes veilctl's commands" \
	bash -c '. /usr/share/bash-completion/completions/veilctl && COMP_WORDS=(veilctl pas) &&
		COMP_CWORD=1 && _veilctl && [ "${COMPREPLY[*]}" = passwd ]'
ok "and veilfs's options, from the veilfs file" \
	bash -c '. /usr/share/bash-completion/completions/veilfs && COMP_WORDS=(veilfs --pass) &&
		COMP_CWORD=1 && _veilfs && [ "${COMPREPLY[*]}" = --passfile ]'
if command -v systemd-analyze >/dev/null; then
	mkdir -m 0700 "$VL_TMP/rt"
	out=$(cd "$VL_TMP" && cp /usr/lib/systemd/user/veilfs@.service ./veilfs@pkg.service &&
		XDG_RUNTIME_DIR=$VL_TMP/rt systemd-analyze verify --user ./veilfs@pkg.service 2>&1)
	is "systemd-analyze verify on the installed unit (its man pages now installed)" "0:" "$?:$out"
else
	skip_test "systemd-analyze verify on the installed unit" "systemd-analyze is not installed"
fi

# A vault, and mounts the ways an administrator does.
CIPHER=$VL_TMP/cipher MNT=$VL_TMP/mnt MNT2=$VL_TMP/mnt2
mkdir -p "$CIPHER" "$MNT" "$MNT2"
printf 'deb test password\n' >"$VL_TMP/pass"
chmod 0600 "$VL_TMP/pass"
veilctl init --passfile "$VL_TMP/pass" --scrypt-log2n 16 "$CIPHER" >/dev/null 2>&1
is "veilctl init with the packaged veilctl" 0 $?
roundtrip() { # MNT TEXT: a file written through the mount reads back, and is encrypted below
	mountpoint -q "$1" && printf '%s\n' "$2" >"$1/f" && [ "$(cat "$1/f")" = "$2" ] &&
		! grep -rqF "$2" "$CIPHER"
}
type_of() { awk -v m="$1" '$2 == m {print $3}' /proc/mounts; }

printf '%s %s fuse.veilfs passfile=%s,noauto 0 0\n' "$CIPHER" "$MNT" "$VL_TMP/pass" >>/etc/fstab
printf '%s %s fuse.veilfs noauto 0 0\n' "$CIPHER" "$MNT2" >>/etc/fstab
vl_mounts+=("$MNT" "$MNT2")
mount "$MNT" </dev/null
is "mount MNT with an fstab line of type fuse.veilfs" 0 $?
is "/proc/mounts shows fuse.veilfs" fuse.veilfs "$(type_of "$MNT")"
ok "a file round-trips through it" roundtrip "$MNT" "through fstab"
umount "$MNT"
is "umount MNT" 0 $?
nok "and it is gone" mountpoint -q "$MNT"
printf 'deb test password\n' | mount "$MNT2"
is "an fstab line without passfile: mount reads the password from stdin" 0 $?
ok "the file is there" sh -c '[ "$(cat "$1/f")" = "through fstab" ]' _ "$MNT2"
umount "$MNT2"
printf 'wrong\n' | mount "$MNT2" 2>/dev/null
ok "a wrong password on stdin: mount fails" test $? -ne 0
nok "and nothing is mounted" mountpoint -q "$MNT2"
mount -t fuse.veilfs "$CIPHER" "$MNT" -o "passfile=$VL_TMP/pass" </dev/null
is "mount -t fuse.veilfs CIPHERDIR MNT -o passfile=FILE" 0 $?
ok "round-trips" roundtrip "$MNT" "through mount -t"
umount "$MNT"
cp -p "$VL_TMP/fstab.orig" /etc/fstab

# Purge: nothing of the package is left.
DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq veilfs >"$VL_TMP/purge.log" 2>&1
is "apt-get purge veilfs" 0 $?
is "dpkg no longer knows veilfs" "" "$(dpkg-query -W -f='${Status}' veilfs 2>/dev/null | grep installed)"
left=
while IFS= read -r f; do
	[ "$f" = /. ] && continue
	# A directory that another package owns too stays, rightly.
	if [ -e "$f" ] || [ -L "$f" ]; then
		[ -d "$f" ] && dpkg-query -S "$f" >/dev/null 2>&1 || left="$left $f"
	fi
done <"$VL_TMP/files"
is "no file of the package is left, nor a directory only it owned" "" "$left"
ok "the package had listed its files" test "$(wc -l <"$VL_TMP/files")" -gt 10
is "veilfs is no longer on the PATH" "" "$(command -v veilfs)"
done_testing
