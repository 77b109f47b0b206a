#!/usr/bin/env bash
# t80-install: `make install` puts veilfs, veilctl, the manual pages, the bash completions,
# the systemd user unit and the examples where the README says, with the unit naming the
# installed veilfs; `make uninstall` removes every file again. Into a DESTDIR: nothing
# outside the test's directory changes.
. "$(dirname "$0")/lib.sh"
vl_setup
dest=$VL_TMP/dest
# The configured directories (paths in the unit are fixed when it is built, as bindir is).
prefix=$(sed -n 's/^prefix = //p' "$TOP_BUILDDIR/Makefile")
unitdir=$(make -s -C "$TOP_BUILDDIR" -f Makefile -f - print-unitdir <<<'print-unitdir: ; @echo $(systemduserunitdir)' 2>/dev/null)
[ -n "$prefix" ] && [ -n "$unitdir" ] || bail "cannot read prefix and systemduserunitdir from $TOP_BUILDDIR/Makefile"
make -s -C "$TOP_BUILDDIR" install DESTDIR="$dest" >"$VL_TMP/install.log" 2>&1
rc=$?
is "make install DESTDIR=..." 0 "$rc"
[ "$rc" -eq 0 ] || sed 's/^/#   /' "$VL_TMP/install.log"
for f in bin/veilfs bin/veilctl share/man/man1/veilfs.1 share/man/man1/veilctl.1 \
	share/man/man5/veilfs.conf.5 share/bash-completion/completions/veilctl \
	share/bash-completion/completions/veilfs \
	share/doc/veilfs/LOGIN.md share/doc/veilfs/examples/pam_mount.conf.xml \
	share/doc/veilfs/examples/credential.conf; do
	ok "installs PREFIX/$f" test -f "$dest$prefix/$f"
done
ok "installs veilfs@.service in $unitdir" test -f "$dest$unitdir/veilfs@.service"
ok "the installed veilfs runs" sh -c '"$1" --version | grep -q "^veilfs "' _ "$dest$prefix/bin/veilfs"
ok "the unit's ExecStart names the installed veilfs" \
	grep -q "^ExecStart=$prefix/bin/veilfs " "$dest$unitdir/veilfs@.service"
ok "so does the credential drop-in's" \
	grep -q "^ExecStart=$prefix/bin/veilfs " "$dest$prefix/share/doc/veilfs/examples/credential.conf"
nok "no @bindir@ is left unsubstituted" grep -rq "@bindir@" "$dest$unitdir" "$dest$prefix/share/doc"
# The bash completion as installed, against the programs under test.
comp() { # FUNC WORD...: what the completion offers for the last word
	PATH=$(dirname "$VEILCTL"):$(dirname "$VEILFS"):$PATH bash -c \
		'. "$1" && f=$2 && shift 2 && COMP_WORDS=("$@") && COMP_CWORD=$(($# - 1)) && { "$f"; } ;
		printf "%s\n" "${COMPREPLY[@]}" | sort | paste -sd" "' _ \
		"$dest$prefix/share/bash-completion/completions/veilctl" "$@" 2>&1
}
is "completion: veilctl's commands, from veilctl --help" \
	"$("$VEILCTL" --help | sed -n '/^Commands:/,/^$/s/^  \([a-z-]*\) .*/\1/p' | sort | paste -sd' ')" \
	"$(comp _veilctl veilctl '')"
is "completion: veilctl passwd --" "--config --extpass --help --new-passfile --passfile --recovery" \
	"$(comp _veilctl veilctl passwd --)"
is "completion: a file after --passfile" "$VL_TMP/pass" "$(comp _veilctl veilctl --passfile "$VL_TMP/pas")"
is "completion: --block-size values" "16K" "$(comp _veilctl veilctl init --block-size 16)"
is "completion: veilfs's long options" "--idle" "$(comp _veilfs veilfs --id)"
is "completion: veilfs -o options after a comma" "ro,allow_other" "$(comp _veilfs veilfs -o ro,allow_)"
ok "the veilfs file holds the same completions" \
	cmp "$dest$prefix/share/bash-completion/completions/veilctl" "$dest$prefix/share/bash-completion/completions/veilfs"
make -s -C "$TOP_BUILDDIR" uninstall DESTDIR="$dest" >"$VL_TMP/uninstall.log" 2>&1
is "make uninstall" 0 $?
is "make uninstall leaves no file behind" "" "$(find "$dest" ! -type d | sed "s|^$dest||")"
done_testing
