#!/usr/bin/env bash
# bench/format-costs.sh [--only "SECTIONS"] [--runs N] VEILFS VEILCTL: what format 2 costs
# next to format 1 (docs/FORMAT.md §9, issue 10), on the same machine, one table per section:
#
#   sizes      ciphertext of an empty file (short and long name), and of 10,000 empty files
#   create     10,000 empty and 10,000 4 KiB files created through the mount (files/s)
#   rename     1,000 files of 1 MiB moved to another directory through the mount: time, and
#              bytes the daemon wrote (/proc/PID/io: wchar = bytes passed to write(2) and
#              pwrite(2), its few FUSE replies included; write_bytes = backing pages dirtied)
#   dirrename  1,000 directories (one file each) moved to another directory, and one
#              directory of 10,000 files renamed: time and bytes written, as above
#   upgrade    veilctl upgrade of a 10,000-file format-1 vault: time, peak RSS (/usr/bin/time
#              -v) and its system calls (strace -c -f)
#   engines    what each sync engine sends again when a 64 MiB file is moved to another
#              directory, and when it is moved back with 1 byte changed, for a plain folder,
#              a format-1 and a format-2 vault: rclone sync (bytes copied into the
#              destination: files with a new inode), the same with --track-renames, rclone
#              bisync (the same, both sides), unison over a socket (bytes through a counting
#              TCP proxy, both ways), Syncthing between two local instances (bytes the
#              receiver got: /rest/system/connections inBytesTotal)
#
# Times are medians of --runs (default 3) runs; the machine is shared, so times are noisy,
# sizes and byte counts are not. Needs root (FUSE, drop_caches), python3, /usr/bin/time,
# strace, rclone, unison, syncthing and curl (Debian: time strace rclone unison syncthing
# curl). BENCH_DIR (default /var/tmp) holds the vaults: a disk-backed filesystem, so that
# write_bytes means something. N_CREATE, N_RENAME, RENAME_MB, N_DIRS, N_UPGRADE and ENGINE_MB
# change the sizes. Not part of make check; about 10 minutes at the default sizes.
set -euo pipefail
SECTIONS="sizes create rename dirrename upgrade engines"
RUNS=3
while [ $# -gt 0 ]; do
	case $1 in
	--only) SECTIONS=$2; shift 2 ;;
	--runs) RUNS=$2; shift 2 ;;
	-h | --help) sed -n '2,32p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) echo "format-costs: unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
done
[ $# -eq 2 ] || { echo "usage: $0 [--only \"SECTIONS\"] [--runs N] VEILFS VEILCTL" >&2; exit 2; }
abs() { case $1 in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
VEILFS=$(abs "$1") VEILCTL=$(abs "$2")
[ "$(id -u)" -eq 0 ] || { echo "format-costs: run as root" >&2; exit 2; }
N_CREATE=${N_CREATE:-10000} N_RENAME=${N_RENAME:-1000} RENAME_MB=${RENAME_MB:-1}
N_DIRS=${N_DIRS:-1000} N_UPGRADE=${N_UPGRADE:-10000} ENGINE_MB=${ENGINE_MB:-64}

W=$(mktemp -d "${BENCH_DIR:-/var/tmp}/veilfs-costs.XXXXXX")
M=$W/mnt
mkdir -p "$M"
printf 'bench\n' >"$W/pass"
DPID=
BG=()
cleanup() {
	local p
	cd /
	fusermount3 -u "$M" 2>/dev/null || true
	for p in "${BG[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$W"
}
trap cleanup EXIT
want() { [[ " $SECTIONS " == *" $1 "* ]]; }
now() { date +%s%N; }
ms() { echo $((($(now) - $1) / 1000000)); }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
drop() { sync; echo 3 >/proc/sys/vm/drop_caches; }
human() { # BYTES: exact bytes and a readable size
	awk -v b="$1" 'BEGIN { if (b >= 1048576) printf "%d (%.1f MiB)", b, b / 1048576;
		else if (b >= 1024) printf "%d (%.1f KiB)", b, b / 1024; else printf "%d", b }'
}
# vault FMT DIR: a new vault (FMT 1 or 2; "plain" makes an empty directory).
vault() {
	rm -rf "$2"
	mkdir -p "$2"
	[ "$1" = plain ] && return 0
	local f=()
	[ "$1" = 1 ] && f=(--format 1)
	"$VEILCTL" init --passfile "$W/pass" --scrypt-log2n 16 "${f[@]}" "$2" </dev/null >/dev/null 2>&1
}
# mnt DIR: mounts vault DIR on $M with veilfs -f in the background (its PID in DPID).
mnt() {
	"$VEILFS" -f --passfile "$W/pass" "$1" "$M" </dev/null >>"$W/veilfs.log" 2>&1 &
	DPID=$!
	local i
	for i in $(seq 1 300); do
		mountpoint -q "$M" && return 0
		kill -0 "$DPID" 2>/dev/null || { echo "veilfs failed: $(tail -3 "$W/veilfs.log")" >&2; return 1; }
		sleep 0.1
	done
	return 1
}
umnt() {
	cd /
	fusermount3 -u "$M"
	wait "$DPID" 2>/dev/null || true
	DPID=
}
# io FIELD: the daemon's /proc/PID/io counter.
io() { awk -v f="$1:" '$1 == f { print $2 }' "/proc/$DPID/io"; }
# at FMT DIR: sets D to where the plaintext of DIR is: DIR itself for a plain folder, the
# mount for a vault (mounted here; unat unmounts it).
D=
at() { if [ "$1" = plain ]; then D=$2; else mnt "$2" && D=$M; fi; }
unat() { [ "$1" = plain ] || umnt; }
fmtname() { case $1 in plain) echo "plain folder" ;; *) echo "format $1" ;; esac; }

echo "# bench/format-costs.sh on $(uname -srm), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%Y-%m-%dT%H:%MZ)"
echo "# backing: $(df -T "$W" | awk 'NR == 2 { print $2 }') at $W; veilfs: $VEILFS"

# ---------------------------------------------------------------- sizes
if want sizes; then
	echo
	echo "## Ciphertext of empty files"
	printf '%-10s %12s %12s %24s\n' format short-name long-name "${N_CREATE} empty: bytes / du -B1"
	for f in 1 2; do
		V=$W/size$f
		vault "$f" "$V"
		mnt "$V"
		: >"$M/empty"
		: >"$M/$(printf 'L%.0s' $(seq 1 200))"
		mkdir "$M/many"
		python3 -c 'import sys
for i in range(int(sys.argv[2])): open("%s/e%d" % (sys.argv[1], i), "w").close()' "$M/many" "$N_CREATE"
		umnt
		s=$(stat -c %s "$V/$("$VEILCTL" encrypt-path --passfile "$W/pass" "$V" empty </dev/null)")
		lp=$("$VEILCTL" encrypt-path --passfile "$W/pass" "$V" "$(printf 'L%.0s' $(seq 1 200))" </dev/null | head -n1)
		l=$(stat -c %s "$V/$lp")
		[ "$f" = 1 ] && l="$l + sidecar $(stat -c %s "$V/9${lp#8}")"
		md=$V/$("$VEILCTL" encrypt-path --passfile "$W/pass" "$V" many </dev/null)
		# the files' bytes (the directory's own size left out), and the disk space of all
		printf '%-10s %12s %12s %24s\n' "$f" "$s" "$l" \
			"$(find "$md" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }') / $(du -s -B1 "$md" | cut -f1)"
		rm -rf "$V"
	done
fi

# ---------------------------------------------------------------- create
if want create; then
	echo
	echo "## Creating files through the mount (files/s, median of $RUNS)"
	printf '%-14s %14s %14s\n' "" "${N_CREATE} empty" "${N_CREATE} x 4 KiB"
	for f in plain 1 2; do
		e=() k=()
		for r in $(seq 1 "$RUNS"); do
			for kind in 0 4096; do
				V=$W/create
				vault "$f" "$V"
				at "$f" "$V"
				d=$D
				mkdir "$d/c"
				drop
				t=$(now)
				python3 -c 'import os, sys
data = os.urandom(int(sys.argv[3]))
for i in range(int(sys.argv[2])):
    with open("%s/f%d" % (sys.argv[1], i), "wb") as f:
        if data: f.write(data)' "$d/c" "$N_CREATE" "$kind"
				sync
				el=$(ms "$t")
				unat "$f"
				rate=$((N_CREATE * 1000 / (el > 0 ? el : 1)))
				if [ "$kind" = 0 ]; then e+=("$rate"); else k+=("$rate"); fi
			done
		done
		printf '%-14s %14s %14s\n' "$(fmtname "$f")" "$(printf '%s\n' "${e[@]}" | median)" \
			"$(printf '%s\n' "${k[@]}" | median)"
	done
	rm -rf "$W/create"
fi

# ---------------------------------------------------------------- rename
if want rename; then
	echo
	echo "## Moving ${N_RENAME} files of ${RENAME_MB} MiB to another directory (median of $RUNS)"
	printf '%-10s %10s %26s %26s\n' format "time ms" "daemon wchar" "daemon write_bytes"
	for f in 1 2; do
		tt=() wc=() wb=()
		for r in $(seq 1 "$RUNS"); do
			V=$W/rename
			vault "$f" "$V"
			mnt "$V"
			mkdir "$M/d1" "$M/d2"
			python3 -c 'import os, sys
data = os.urandom(int(sys.argv[3]) << 20)
for i in range(int(sys.argv[2])):
    with open("%s/f%d" % (sys.argv[1], i), "wb") as f: f.write(data)' "$M/d1" "$N_RENAME" "$RENAME_MB"
			drop
			w0=$(io wchar) b0=$(io write_bytes)
			t=$(now)
			python3 -c 'import os, sys
for i in range(int(sys.argv[3])): os.rename("%s/f%d" % (sys.argv[1], i), "%s/f%d" % (sys.argv[2], i))' \
				"$M/d1" "$M/d2" "$N_RENAME"
			sync
			tt+=("$(ms "$t")")
			wc+=($(($(io wchar) - w0)))
			wb+=($(($(io write_bytes) - b0)))
			umnt
			rm -rf "$V"
		done
		printf '%-10s %10s %26s %26s\n' "$f" "$(printf '%s\n' "${tt[@]}" | median)" \
			"$(human "$(printf '%s\n' "${wc[@]}" | median)")" "$(human "$(printf '%s\n' "${wb[@]}" | median)")"
	done
fi

# ---------------------------------------------------------------- dirrename
if want dirrename; then
	echo
	echo "## Moving ${N_DIRS} directories (1 file each) to another directory, and renaming one directory of ${N_CREATE} files (median of $RUNS)"
	printf '%-10s %10s %22s %22s %16s\n' format "time ms" "daemon wchar" "write_bytes" "big dir ms"
	for f in 1 2; do
		tt=() wc=() wb=() bt=()
		for r in $(seq 1 "$RUNS"); do
			V=$W/dirrename
			vault "$f" "$V"
			mnt "$V"
			mkdir "$M/p1" "$M/p2" "$M/big"
			python3 -c 'import os, sys
for i in range(int(sys.argv[3])):
    os.mkdir("%s/d%d" % (sys.argv[1], i))
    open("%s/d%d/f" % (sys.argv[1], i), "w").write("x")
for i in range(int(sys.argv[4])): open("%s/f%d" % (sys.argv[2], i), "w").close()' "$M/p1" "$M/big" "$N_DIRS" "$N_CREATE"
			drop
			w0=$(io wchar) b0=$(io write_bytes)
			t=$(now)
			python3 -c 'import os, sys
for i in range(int(sys.argv[3])): os.rename("%s/d%d" % (sys.argv[1], i), "%s/d%d" % (sys.argv[2], i))' \
				"$M/p1" "$M/p2" "$N_DIRS"
			sync
			tt+=("$(ms "$t")")
			wc+=($(($(io wchar) - w0)))
			wb+=($(($(io write_bytes) - b0)))
			t=$(now)
			mv "$M/big" "$M/big-renamed"
			sync
			bt+=("$(ms "$t")")
			umnt
			rm -rf "$V"
		done
		printf '%-10s %10s %22s %22s %16s\n' "$f" "$(printf '%s\n' "${tt[@]}" | median)" \
			"$(human "$(printf '%s\n' "${wc[@]}" | median)")" "$(human "$(printf '%s\n' "${wb[@]}" | median)")" \
			"$(printf '%s\n' "${bt[@]}" | median)"
	done
fi

# ---------------------------------------------------------------- upgrade
if want upgrade; then
	echo
	echo "## veilctl upgrade of a ${N_UPGRADE}-file format-1 vault (4 KiB files, 100 directories, 1 in 10 long-named)"
	V=$W/up
	vault 1 "$V"
	mnt "$V"
	python3 -c 'import os, sys
n, data = int(sys.argv[2]), os.urandom(4096)
for i in range(n):
    d = "%s/d%d" % (sys.argv[1], i % 100)
    os.makedirs(d, exist_ok=True)
    name = ("L" * 200 + "%d" % i) if i % 10 == 0 else "f%d" % i
    with open("%s/%s" % (d, name), "wb") as f: f.write(data)' "$M" "$N_UPGRADE"
	umnt
	cp -a "$V" "$V.strace"
	printf '%-6s %10s %14s %14s\n' run "time s" "peak RSS KiB" "ciphertext"
	for r in $(seq 1 "$RUNS"); do
		cp -a "$V" "$V.run"
		drop
		/usr/bin/time -v "$VEILCTL" upgrade --passfile "$W/pass" "$V.run" </dev/null >/dev/null 2>"$W/up.time"
		printf '%-6s %10s %14s %14s\n' "$r" \
			"$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, a, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + a[i]; print s }' "$W/up.time")" \
			"$(awk -F': ' '/Maximum resident/ { print $2 }' "$W/up.time")" \
			"$(du -s --apparent-size -B1 "$V" | cut -f1) -> $(du -s --apparent-size -B1 "$V.run" | cut -f1)"
		rm -rf "$V.run"
	done
	strace -c -f -o "$W/upgrade.syscalls" "$VEILCTL" upgrade --passfile "$W/pass" "$V.strace" </dev/null >/dev/null 2>&1
	echo "system calls of one upgrade (strace -c -f), the most frequent:"
	awk 'NR > 2 && $1 !~ /^-/ && $NF != "total" && NF >= 5 { print }' "$W/upgrade.syscalls" | sort -k4,4nr |
		awk 'NR <= 12 { printf "  %-18s %8s calls\n", $NF, $4 }'
	rm -rf "$V" "$V.strace"
fi

# ---------------------------------------------------------------- engines
if want engines; then
	echo
	echo "## What sync engines send again: a ${ENGINE_MB} MiB file moved to another directory (moved), then moved back with 1 byte changed (moved+1)"
	R=$W/engine-results
	: >"$R"
	export RCLONE_CONFIG=/dev/null
	# newbytes DIR STAMP: bytes of regular files under DIR whose inode was not in STAMP (a
	# file an engine copied in, rather than renamed); STAMP made by `stamp DIR STAMP`.
	stamp() { find "$1" -type f -printf '%i\n' | sort -u >"$2"; }
	newbytes() {
		find "$1" -type f -printf '%i %s\n' | sort -k1,1 |
			awk 'NR == FNR { old[$1] = 1; next } !($1 in old) { s += $2 } END { print s + 0 }' "$2" -
	}
	# change FMT A STEP: the move (STEP 1: s1/big -> s2/big) or the move back with one byte
	# changed (STEP 2), through the mount for a vault.
	change() {
		local d
		at "$1" "$2"
		d=$D
		if [ "$3" = 1 ]; then
			mv "$d/s1/big" "$d/s2/big"
		else
			mv "$d/s2/big" "$d/s1/big"
			printf 'X' | dd of="$d/s1/big" bs=1 seek=$((ENGINE_MB * 524288 + 5)) conv=notrunc status=none
		fi
		unat "$1"
	}
	# prepare FMT A: a folder or vault A holding s1/big (random) and an empty s2.
	prepare() {
		local d
		vault "$1" "$2"
		at "$1" "$2"
		d=$D
		mkdir -p "$d/s1" "$d/s2"
		cp "$W/big.src" "$d/s1/big"
		unat "$1"
	}
	head -c $((ENGINE_MB << 20)) /dev/urandom >"$W/big.src"
	enc() { "$VEILCTL" encrypt-path --passfile "$W/pass" "$1" "$2" </dev/null | head -n 1; }
	result() { printf '%s|%s|%s|%s\n' "$1" "$2" "$3" "$4" >>"$R"; } # engine step fmt bytes

	# rclone sync A -> B (a one-way upload; B a local "remote"), with and without --track-renames
	for tr in "" --track-renames; do
		name="rclone sync${tr:+ $tr}"
		for f in plain 1 2; do
			A=$W/eA.$f B=$W/eB.$f
			prepare "$f" "$A"
			rm -rf "$B" && mkdir -p "$B"
			rclone sync "$A" "$B" $tr -q
			for step in 1 2; do
				change "$f" "$A" "$step"
				stamp "$B" "$W/stamp"
				rclone sync "$A" "$B" $tr -q
				result "$name" "$step" "$f" "$(newbytes "$B" "$W/stamp")"
			done
		done
	done

	# rclone bisync A <-> B
	for f in plain 1 2; do
		A=$W/eA.$f B=$W/eB.$f
		prepare "$f" "$A"
		rm -rf "$B" "$W/bisync" && mkdir -p "$B"
		rclone bisync "$A" "$B" --workdir "$W/bisync" --resync --force -q
		for step in 1 2; do
			change "$f" "$A" "$step"
			stamp "$B" "$W/stampB"
			stamp "$A" "$W/stampA"
			rclone bisync "$A" "$B" --workdir "$W/bisync" --force -q
			result "rclone bisync" "$step" "$f" $(($(newbytes "$B" "$W/stampB") + $(newbytes "$A" "$W/stampA")))
		done
	done

	# unison: client A, server B over TCP through a counting proxy
	if command -v unison >/dev/null; then
		cat >"$W/proxy.py" <<'PY'
import socket, sys, threading
lport, tport, log = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", lport)); srv.listen(4)
def pump(a, b, n, i):
    while True:
        d = a.recv(1 << 16)
        if not d:
            break
        n[i] += len(d)
        b.sendall(d)
    try: b.shutdown(socket.SHUT_WR)
    except OSError: pass
while True:
    c, _ = srv.accept()
    s = socket.create_connection(("127.0.0.1", tport))
    n = [0, 0]
    t = [threading.Thread(target=pump, args=(c, s, n, 0)), threading.Thread(target=pump, args=(s, c, n, 1))]
    for x in t: x.start()
    def done(t=t, n=n, c=c, s=s):
        for x in t: x.join()
        c.close(); s.close()
        with open(log, "a") as f: f.write("%d %d\n" % (n[0], n[1]))
    threading.Thread(target=done).start()
PY
		read -r UP PP < <(python3 -c 'import socket
ss = [socket.socket() for _ in range(2)]
for s in ss: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in ss])')
		export UNISON=$W/unison-home
		mkdir -p "$UNISON"
		: >"$W/proxy.log"
		(cd / && exec unison -socket "$UP" -listen 127.0.0.1 >"$W/unison-server.log" 2>&1) &
		BG+=($!)
		python3 "$W/proxy.py" "$PP" "$UP" "$W/proxy.log" &
		BG+=($!)
		sleep 1
		uni() { # A B: one unison run through the proxy; prints the bytes (both ways) it moved
			local n0 n1
			n0=$(wc -l <"$W/proxy.log" 2>/dev/null || echo 0)
			unison "$1" "socket://127.0.0.1:$PP/$2" -batch -auto -silent -times -confirmbigdel=false \
				>>"$W/unison.log" 2>&1
			for i in $(seq 1 100); do
				n1=$(wc -l <"$W/proxy.log" 2>/dev/null || echo 0)
				[ "$n1" -gt "$n0" ] && break
				sleep 0.1
			done
			tail -n 1 "$W/proxy.log" | awk '{ print $1 + $2 }'
		}
		for f in plain 1 2; do
			A=$W/eA.$f B=$W/eB.$f
			prepare "$f" "$A"
			rm -rf "$B" && mkdir -p "$B"
			uni "$A" "$B" >/dev/null
			for step in 1 2; do
				change "$f" "$A" "$step"
				result "unison (socket)" "$step" "$f" "$(uni "$A" "$B")"
			done
		done
	fi

	# Syncthing: two local instances on 127.0.0.1, folder A -> B
	if command -v syncthing >/dev/null && command -v curl >/dev/null; then
		export STNOUPGRADE=1 STNODEFAULTFOLDER=1 STNORESTART=1
		KEY=bench-$RANDOM$RANDOM
		st_config() { # HOME GUIPORT SELFID SELFPORT PEERID PEERPORT FOLDER
			python3 - "$@" "$KEY" <<'PY'
import sys, xml.etree.ElementTree as E
home, gport, me, mport, peer, pport, folder, key = sys.argv[1:9]
path = home + "/config.xml"
t = E.parse(path); r = t.getroot()
for d in r.findall("device"):
    r.remove(d)
for did, port in ((me, mport), (peer, pport)):
    d = E.SubElement(r, "device", id=did, name=did[:7], compression="metadata", introducer="false")
    E.SubElement(d, "address").text = "tcp://127.0.0.1:" + port
g = r.find("gui"); g.set("tls", "false")
g.find("address").text = "127.0.0.1:" + gport
g.find("apikey").text = key
o = r.find("options")
for la in o.findall("listenAddress"):
    o.remove(la)
E.SubElement(o, "listenAddress").text = "tcp://127.0.0.1:" + mport
for k, v in {"globalAnnounceEnabled": "false", "localAnnounceEnabled": "false",
             "relaysEnabled": "false", "natEnabled": "false", "startBrowser": "false",
             "urAccepted": "-1", "autoUpgradeIntervalH": "0", "crashReportingEnabled": "false",
             "stunKeepaliveStartS": "0", "stunServer": "", "announceLANAddresses": "false",
             "reconnectionIntervalS": "1", "setLowPriority": "false"}.items():
    e = o.find(k)
    if e is None:
        e = E.SubElement(o, k)
    e.text = v
for gs in o.findall("globalAnnounceServer"):
    o.remove(gs)
f = E.SubElement(r, "folder", id="bench", label="bench", path=folder, type="sendreceive",
                 rescanIntervalS="3600", fsWatcherEnabled="false", ignorePerms="false")
E.SubElement(f, "filesystemType").text = "basic"
for did in (me, peer):
    E.SubElement(f, "device", id=did)
t.write(path)
PY
		}
		api() { # A|B METHOD PATH
			local port=$GA
			[ "$1" = B ] && port=$GB
			curl -fsS --max-time 5 -X "$2" -H "X-API-Key: $KEY" "http://127.0.0.1:$port$3"
		}
		jget() { python3 -c 'import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1:]: v = v[k]
print(v)' "$@"; }
		until_ok() { local i; for i in $(seq 1 600); do "$@" 2>/dev/null && return 0; sleep 0.2; done; return 1; }
		# B has what A has: both idle, nothing needed, and A's view of B complete
		# and B's copy of the moved file is A's, under its new name only (WANT, GONE).
		in_sync() {
			cmp -s "$A/$WANT" "$B/$WANT" && [ ! -e "$B/$GONE" ] &&
				[ "$(api B GET '/rest/db/status?folder=bench' | jget state)" = idle ] &&
				[ "$(api B GET '/rest/db/status?folder=bench' | jget needTotalItems)" = 0 ] &&
				[ "$(api A GET '/rest/db/status?folder=bench' | jget state)" = idle ] &&
				[ "$(api A GET "/rest/db/completion?folder=bench&device=$IDB" | jget completion)" = 100 ] &&
				[ "$(api B GET "/rest/db/status?folder=bench" | jget globalFiles)" = "$(api A GET "/rest/db/status?folder=bench" | jget localFiles)" ]
		}
		received() { api B GET /rest/system/connections | jget connections "$IDA" inBytesTotal; }
		for f in plain 1 2; do
			A=$W/eA.$f B=$W/eB.$f
			prepare "$f" "$A"
			rm -rf "$B" "$W/stA" "$W/stB" && mkdir -p "$B" "$A/.stfolder" "$B/.stfolder"
			read -r GA GB PA PB < <(python3 -c 'import socket
ss = [socket.socket() for _ in range(4)]
for s in ss: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in ss])')
			for d in A B; do
				syncthing generate --home="$W/st$d" --no-default-folder --skip-port-probing >/dev/null 2>&1
			done
			IDA=$(python3 -c 'import sys, xml.etree.ElementTree as E; print(E.parse(sys.argv[1]).getroot().find("device").get("id"))' "$W/stA/config.xml")
			IDB=$(python3 -c 'import sys, xml.etree.ElementTree as E; print(E.parse(sys.argv[1]).getroot().find("device").get("id"))' "$W/stB/config.xml")
			st_config "$W/stA" "$GA" "$IDA" "$PA" "$IDB" "$PB" "$A"
			st_config "$W/stB" "$GB" "$IDB" "$PB" "$IDA" "$PA" "$B"
			STP=()
			for d in A B; do
				syncthing serve --home="$W/st$d" --no-browser --no-restart --no-upgrade \
					--logfile="$W/st$d.log" >/dev/null 2>&1 &
				STP+=($!)
				BG+=($!)
			done
			WANT=s1/big GONE=s2/big
			[ "$f" = plain ] || { WANT=$(enc "$A" s1/big) GONE=$(enc "$A" s2/big); }
			until_ok in_sync || echo "syncthing: not in sync at start ($(fmtname "$f"))" >&2
			for step in 1 2; do
				t=$WANT WANT=$GONE GONE=$t # each step moves the file to the other directory
				r0=$(received)
				change "$f" "$A" "$step"
				api A POST '/rest/db/scan?folder=bench' >/dev/null
				sleep 2
				until_ok in_sync || echo "syncthing: not in sync after step $step ($(fmtname "$f"))" >&2
				result "Syncthing" "$step" "$f" $(($(received) - r0))
			done
			for p in "${STP[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
			rm -rf "$W/stA" "$W/stB"
		done
	fi

	printf '%-28s %-8s %24s %24s %24s\n' engine change "plain folder" "format 1" "format 2"
	for e in "rclone sync" "rclone sync --track-renames" "rclone bisync" "unison (socket)" Syncthing; do
		for step in 1 2; do
			grep -q "^$e|$step|" "$R" || continue
			printf '%-28s %-8s' "$e" "$([ "$step" = 1 ] && echo moved || echo moved+1)"
			for f in plain 1 2; do
				printf ' %24s' "$(human "$(awk -F'|' -v e="$e" -v s="$step" -v f="$f" '$1 == e && $2 == s && $3 == f { print $4 }' "$R")")"
			done
			echo
		done
	done
fi
