#!/usr/bin/env bash
# t10-veilctl-config: veilctl init, info, unlock errors and their exit statuses (wrong
# password, no password on an empty stdin, edited, truncated, newer-format configs), passwd, and
# passwd --recovery with the recovery code init printed. No mount.
. "$(dirname "$0")/lib.sh"
vl_setup
vl_init || bail "veilctl init failed: $(cat "$VL_TMP/init.out")"
P=(--passfile "$PASSFILE")

# run CMD...: runs it with stdin from /dev/null; sets $rc and $out (stdout+stderr).
run() {
	out=$("$@" </dev/null 2>&1)
	rc=$?
}
has() { grep -qF -- "$1" <<<"$out"; }

# ---- init and info ----
ok "init printed a recovery code of 14 groups" \
	grep -Eq '^    [0-9A-Z]{5}(-[0-9A-Z]{5}){6}$' "$VL_TMP/init.out"
is "init printed exactly two code lines" 2 "$(grep -Ec '^    [0-9A-Z]{5}(-[0-9A-Z]{5}){6}$' "$VL_TMP/init.out")"
CODE=$(grep -E '^    [0-9A-Z]{5}(-[0-9A-Z]{5}){6}$' "$VL_TMP/init.out" | tr -d ' ' | paste -sd-)
ok "init wrote veilfs.conf and the root veilfs.dirid" test -f "$CIPHER/veilfs.conf" -a -f "$CIPHER/veilfs.dirid"
run "$VEILCTL" info "$CIPHER"
is "info exits 0 without a password" 0 "$rc"
ok "info shows the format" has "format: 2"
ok "info shows the block size" has "block_size: 4096"
ok "info shows the scrypt cost" has "scrypt_log2_n: 16"
ok "info shows name_max" has "name_max: 220"
# the recovery code goes to stdout only, the rest to stderr
mkdir "$VL_TMP/c2"
"$VEILCTL" init "${P[@]}" --scrypt-log2n 16 --block-size 64K --name-max 100 "$VL_TMP/c2" </dev/null >"$VL_TMP/o" 2>"$VL_TMP/e"
is "init with options exits 0" 0 "$?"
ok "the recovery code is on stdout" grep -Eq '^    [0-9A-Z]{5}-' "$VL_TMP/o"
nok "the recovery code is not on stderr" grep -Eq '[0-9A-Z]{5}-[0-9A-Z]{5}-' "$VL_TMP/e"
run "$VEILCTL" info "$VL_TMP/c2"
ok "info shows --block-size 64K" has "block_size: 65536"
ok "info shows --name-max 100" has "name_max: 100"
run "$VEILCTL" init "${P[@]}" --scrypt-log2n 16 "$VL_TMP/c2"
ok "init refuses a non-empty directory (exit 1)" test "$rc" -eq 1
ok "and says it is not empty" has "not empty"
run "$VEILCTL" init "${P[@]}" --block-size 5000 "$VL_TMP/c3"
is "a bad --block-size is a usage error" 2 "$rc"
run "$VEILCTL" frobnicate
is "an unknown command is a usage error" 2 "$rc"
run "$VEILCTL" init --help
is "init --help exits 0" 0 "$rc"

# ---- unlock errors ----
run "$VEILCTL" ls "${P[@]}" "$CIPHER"
is "the right password unlocks" 0 "$rc"
printf 'not the password\n' >"$VL_TMP/wrong"
run "$VEILCTL" ls --passfile "$VL_TMP/wrong" "$CIPHER"
is "a wrong password exits 3" 3 "$rc"
ok "and says what to do" has "wrong password (or veilfs.conf was modified)"
run "$VEILCTL" ls "$CIPHER"
is "no password option and an empty stdin (not a terminal) exits 5" 5 "$rc"
ok "and says stdin is empty" has "standard input is not a terminal and is empty"
run "$VEILCTL" ls --passfile "$VL_TMP/missing" "$CIPHER"
is "an unreadable passfile exits 5" 5 "$rc"
run "$VEILCTL" ls --extpass "printf 'test password'" "$CIPHER"
is "--extpass gives the password" 0 "$rc"
run "$VEILCTL" --passfile "$PASSFILE" ls "$CIPHER"
is "common options work before the command too" 0 "$rc"

# edit: vault copies with one change each
conf_variant() { # NAME SED-EXPR
	rm -rf "${VL_TMP:?}/$1"
	cp -a "$CIPHER" "$VL_TMP/$1"
	chmod u+w "$VL_TMP/$1/veilfs.conf"
	sed -i "$2" "$VL_TMP/$1/veilfs.conf"
}
wk=$(sed -n 's/^wrapped_key = //p' "$CIPHER/veilfs.conf")
c=${wk:10:1}
[ "$c" = 0 ] && n=1 || n=0
conf_variant flip "s/^wrapped_key = \(.\{10\}\)./wrapped_key = \1$n/"
ok "the flip changed the file" sh -c "! cmp -s '$CIPHER/veilfs.conf' '$VL_TMP/flip/veilfs.conf'"
run "$VEILCTL" ls "${P[@]}" "$VL_TMP/flip"
is "a flipped hex digit of wrapped_key exits 3" 3 "$rc"
conf_variant bs 's/^block_size = 4096$/block_size = 8192/'
run "$VEILCTL" ls "${P[@]}" "$VL_TMP/bs"
is "a changed block_size exits 3 (authenticated)" 3 "$rc"
rm -rf "$VL_TMP/trunc" && cp -a "$CIPHER" "$VL_TMP/trunc" && chmod u+w "$VL_TMP/trunc/veilfs.conf"
truncate -s 200 "$VL_TMP/trunc/veilfs.conf"
run "$VEILCTL" ls "${P[@]}" "$VL_TMP/trunc"
is "a truncated config exits 4" 4 "$rc"
run "$VEILCTL" info "$VL_TMP/trunc"
is "info on a truncated config exits 4" 4 "$rc"
conf_variant v2 's/^format = 2$/format = 3/'
run "$VEILCTL" ls "${P[@]}" "$VL_TMP/v2"
is "format = 3 exits 4" 4 "$rc"
ok "and the message names version 3" has "format 3"
conf_variant feat 's/^features =$/features = sparkles/'
run "$VEILCTL" ls "${P[@]}" "$VL_TMP/feat"
is "an unknown feature exits 4" 4 "$rc"
ok "and the message names the feature" has "sparkles"
rm -f "$VL_TMP/v2/veilfs.conf"
run "$VEILCTL" ls "${P[@]}" "$VL_TMP/v2"
is "a missing config exits 4" 4 "$rc"

# ---- passwd ----
printf 'second password\n' >"$VL_TMP/new"
run "$VEILCTL" passwd "${P[@]}" --new-passfile "$VL_TMP/new" "$CIPHER"
is "passwd exits 0" 0 "$rc"
run "$VEILCTL" ls "${P[@]}" "$CIPHER"
is "the old password fails after passwd" 3 "$rc"
run "$VEILCTL" ls --passfile "$VL_TMP/new" "$CIPHER"
is "the new password works" 0 "$rc"
nok "the old wrapped_key is gone from the file" grep -qF "$wk" "$CIPHER/veilfs.conf"
run "$VEILCTL" passwd --passfile "$VL_TMP/wrong" --new-passfile "$PASSFILE" "$CIPHER"
is "passwd with a wrong old password exits 3" 3 "$rc"
run "$VEILCTL" passwd --passfile "$VL_TMP/new" "$CIPHER"
is "passwd without a new password source exits 5" 5 "$rc"

# ---- passwd --recovery ----
printf 'third password\n' >"$VL_TMP/third"
out=$(printf '%s\n' "$CODE" | "$VEILCTL" passwd --recovery --new-passfile "$VL_TMP/third" "$CIPHER" 2>&1)
is "passwd --recovery with the printed code exits 0" 0 "$?"
run "$VEILCTL" ls --passfile "$VL_TMP/third" "$CIPHER"
is "the password set with the recovery code works" 0 "$rc"
run "$VEILCTL" ls --passfile "$VL_TMP/new" "$CIPHER"
is "the previous password no longer works" 3 "$rc"
# the code as printed: two lines, lower case
out=$(grep -E '^    [0-9A-Z]{5}-' "$VL_TMP/init.out" | tr 'A-Z' 'a-z' |
	"$VEILCTL" passwd --recovery --new-passfile "$PASSFILE" "$CIPHER" 2>&1)
is "the code in two lines and lower case is accepted" 0 "$?"
# a mistyped group: change one character of group 4
g4=${CODE:18:5}
c=${g4:2:1}
[ "$c" = Z ] && n=Y || n=Z
bad="${CODE:0:20}$n${CODE:21}"
out=$(printf '%s\n' "$bad" | "$VEILCTL" passwd --recovery --new-passfile "$VL_TMP/third" "$CIPHER" 2>&1)
is "a mistyped recovery code exits 3" 3 "$?"
ok "the mistyped group is named" has "group 4 is mistyped"
run "$VEILCTL" ls "${P[@]}" "$CIPHER"
is "a failed recovery leaves the password alone" 0 "$rc"
# the code of another vault
CODE2=$(grep -E '^    [0-9A-Z]{5}-' "$VL_TMP/o" | tr -d ' ' | paste -sd-)
out=$(printf '%s\n' "$CODE2" | "$VEILCTL" passwd --recovery --new-passfile "$VL_TMP/third" "$CIPHER" 2>&1)
is "another vault's recovery code exits 3" 3 "$?"
ok "and says it does not belong" has "does not belong"

done_testing
