#!/usr/bin/env bash
# Syncthing between two local instances, each syncing one ciphertext directory mounted by
# veilfs (--sharedstorage, syncing while mounted). Network: 127.0.0.1 only. Each device
# knows the other's explicit tcp://127.0.0.1 address; global discovery, local discovery,
# relays, NAT traversal, STUN, usage reporting, crash reporting and upgrade checks are off.
# Scenarios: a write on A shows on B; an edit on both sides while they do not sync
# (the folder paused on both) gives a .sync-conflict- copy, readable through both mounts.
# Every wait is a bounded poll. About 5 s.
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"
. "$TOP_SRCDIR/tests/sync-lib.sh"
vl_have syncthing || skip_all "syncthing is not installed"
vl_have curl || skip_all "curl is not installed"
sync_setup
ST_PIDS=()
st_stop() {
	local p
	for p in "${ST_PIDS[@]}"; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	ST_PIDS=()
}
trap 'st_stop; vl_cleanup' EXIT
export STNOUPGRADE=1 STNODEFAULTFOLDER=1 STNORESTART=1

# Free loopback ports: 2 GUI/API, 2 sync.
read -r GA GB PA PB < <(python3 -c '
import socket
ss = [socket.socket() for _ in range(4)]
for s in ss: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in ss])')
KEY=veilfs-test-$RANDOM$RANDOM
for d in A B; do
	syncthing generate --home="$VL_TMP/st$d" --no-default-folder --skip-port-probing \
		>"$VL_TMP/st$d.gen" 2>&1 || bail "syncthing generate $d: $(cat "$VL_TMP/st$d.gen")"
done
devid() { python3 -c 'import sys, xml.etree.ElementTree as E; print(E.parse(sys.argv[1]).getroot().find("device").get("id"))' "$VL_TMP/st$1/config.xml"; }
IDA=$(devid A) IDB=$(devid B)
[ -n "$IDA" ] && [ -n "$IDB" ] || bail "no device IDs"
mkdir -p "$CIPHER/.stfolder" "$B/.stfolder" # the folder markers (veilfs ignores them)
# config HOME GUIPORT SELFID SELFPORT PEERID PEERPORT FOLDER
st_config() {
	python3 - "$@" "$KEY" <<'PY'
import sys, xml.etree.ElementTree as E
home, gport, me, mport, peer, pport, folder, key = sys.argv[1:9]
path = home + "/config.xml"
t = E.parse(path); r = t.getroot()
for d in r.findall("device"):
    r.remove(d)
def device(parent, did, port):
    d = E.SubElement(parent, "device", id=did, name=did[:7], compression="metadata", introducer="false")
    E.SubElement(d, "address").text = "tcp://127.0.0.1:" + port
    return d
device(r, me, mport); device(r, peer, pport)
g = r.find("gui")
g.set("tls", "false")
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
f = E.SubElement(r, "folder", id="vault", label="vault", path=folder, type="sendreceive",
                 rescanIntervalS="3600", fsWatcherEnabled="false", ignorePerms="false")
E.SubElement(f, "filesystemType").text = "basic"
E.SubElement(f, "maxConflicts").text = "10"  # an element left out means 0: no copies at all
for did in (me, peer):
    E.SubElement(f, "device", id=did)
t.write(path)
PY
}
st_config "$VL_TMP/stA" "$GA" "$IDA" "$PA" "$IDB" "$PB" "$CIPHER" || bail "config A"
st_config "$VL_TMP/stB" "$GB" "$IDB" "$PB" "$IDA" "$PA" "$B" || bail "config B"
for d in A B; do
	syncthing serve --home="$VL_TMP/st$d" --no-browser --no-restart --no-upgrade \
		--logfile="$VL_TMP/st$d.log" >"$VL_TMP/st$d.out" 2>&1 &
	ST_PIDS+=($!)
done
# api A|B METHOD PATH: one REST call to that instance.
api() {
	local port=$GA
	[ "$1" = B ] && port=$GB
	curl -fsS --max-time 5 -X "$2" -H "X-API-Key: $KEY" "http://127.0.0.1:$port$3"
}
until_ok() { # CMD...: bounded poll, 0.2 s apart, at most 300 tries
	local i
	for i in $(seq 1 300); do
		"$@" 2>/dev/null && return 0
		sleep 0.2
	done
	return 1
}
connected() { api A GET /rest/system/connections | python3 -c 'import json, sys; sys.exit(0 if json.load(sys.stdin)["connections"][sys.argv[1]]["connected"] else 1)' "$IDB"; }
scan() { api A POST "/rest/db/scan?folder=vault" && api B POST "/rest/db/scan?folder=vault"; }
reads() { [ "$(cat "$1" 2>/dev/null)" = "$2" ]; }
ok "the two Syncthing instances connect over 127.0.0.1" until_ok connected
# socks: the sockets the two instances (and their children) listen on or bound, one
# "proto address:port" a line, from /proc (ss may not show owners in a container).
socks() {
	python3 - "${ST_PIDS[@]}" <<'PY'
import os, sys
pids = set(sys.argv[1:])
for p in os.listdir("/proc"):  # children too (a monitor process would fork one)
    try:
        if p.isdigit() and open("/proc/%s/stat" % p).read().rsplit(")", 1)[1].split()[1] in pids:
            pids.add(p)
    except OSError:
        pass
inodes = set()
for p in pids:
    try:
        for fd in os.listdir("/proc/%s/fd" % p):
            t = os.readlink("/proc/%s/fd/%s" % (p, fd))
            if t.startswith("socket:["):
                inodes.add(t[8:-1])
    except OSError:
        pass
def addr(h):
    ip, port = h.split(":")
    if len(ip) == 8:
        ip = ".".join(str(int(ip[i:i + 2], 16)) for i in (6, 4, 2, 0))
    return "%s:%d" % (ip, int(port, 16))
for proto in ("tcp", "tcp6", "udp", "udp6"):
    for line in open("/proc/net/" + proto).read().splitlines()[1:]:
        f = line.split()
        if f[9] in inodes and (proto.startswith("udp") or f[3] == "0A"):
            print(proto, addr(f[1]))
PY
}
diag "listening: $(socks | tr '\n' ' ')"
ok "both listen on 127.0.0.1 only (TCP sync and API ports, no UDP)" \
	sh -c '[ "$(printf "%s\n" "$1" | grep -c .)" -ge 4 ] && ! printf "%s\n" "$1" | grep -qv "^tcp 127\.0\.0\.1:"' - "$(socks)"

vl_mount --sharedstorage || bail "mount A"
vl_mount_at "$B" "$MB" --sharedstorage || bail "mount B"
printf 'from A\n' >"$MNT/hello.txt"
mkdir -p "$MNT/docs" && printf 'nested\n' >"$MNT/docs/n.txt"
ok "scan A" api A POST "/rest/db/scan?folder=vault"
ok "B's mount shows A's file" until_ok reads "$MB/hello.txt" "from A"
ok "B's mount shows A's nested file" until_ok reads "$MB/docs/n.txt" nested

# the same file edited on both sides while the folder is paused on both (the connection
# stays up: no reconnection delay)
folder_paused() { # A|B true|false
	curl -fsS --max-time 5 -X PATCH -H "X-API-Key: $KEY" -d "{\"paused\": $2}" \
		"http://127.0.0.1:$([ "$1" = A ] && echo "$GA" || echo "$GB")/rest/config/folders/vault" >/dev/null
}
is_paused() { api "$1" GET /rest/config/folders/vault | python3 -c 'import json, sys; sys.exit(0 if json.load(sys.stdin)["paused"] else 1)'; }
both_paused() { is_paused A && is_paused B; }
ok "pause the folder on A" folder_paused A true
ok "pause the folder on B" folder_paused B true
ok "the folder is paused on both" until_ok both_paused
printf 'edit A, longer\n' >"$MNT/hello.txt"
printf 'edit B, much longer text\n' >"$MB/hello.txt"
ok "resume the folder on A" folder_paused A false
ok "resume the folder on B" folder_paused B false
both() { # DIR: both versions readable and a .sync-conflict- copy listed
	ls "$1" | grep -q '^hello\.sync-conflict-[0-9]\{8\}-[0-9]\{6\}-[A-Z0-9]\{7\}\.txt$' &&
		[ "$(cat "$1"/hello*.txt 2>/dev/null | sort | paste -sd'|')" = "edit A, longer|edit B, much longer text" ]
}
settled() { scan >/dev/null; both "$MNT" && both "$MB"; }
ok "after the conflict, both mounts list a .sync-conflict- copy and read both versions" until_ok settled
diag "A: $(ls "$MNT" | tr '\n' ' ')"
diag "B: $(ls "$MB" | tr '\n' ' ')"
[ -n "${ST_DEBUG:-}" ] && { cat "$MNT"/hello* "$MB"/hello*; tail -n 30 "$VL_TMP"/st?.log; }
is "A and B show the same names" "$(names "$MNT")" "$(names "$MB")"
ok "the copy's on-disk name is the encrypted name plus Syncthing's marker" \
	sh -c 'ls "$1" | grep -q "^[a-z2-7]*\.sync-conflict-[0-9]\{8\}-[0-9]\{6\}-[A-Z0-9]\{7\}$"' - "$CIPHER"
cd / && vl_umount_dir "$MB"
vl_umount

# Both mounted with the default options (writeback cache, 1 s caches), issue 11: Syncthing
# replaces a file by rename; B reads the new version whole through a path it looked up
# before, and an append on B right after keeps A's version.
vl_mount || bail "mount A (default)"
vl_mount_at "$B" "$MB" || bail "mount B (default)"
printf 'v1\n' >"$MNT/st.txt"
scan >/dev/null
ok "default mounts: B's mount shows A's file" until_ok reads "$MB/st.txt" v1
stat "$MB/st.txt" >/dev/null
long='the second version from A, much longer than the first one'
printf '%s\n' "$long" >"$MNT/st.txt"
scan >/dev/null
ok "default mounts: B reads the replaced file whole (polled until it arrives)" until_ok reads "$MB/st.txt" "$long"
is "default mounts: and B's stat shows its size at once" $((${#long} + 1)) "$(stat -c %s "$MB/st.txt")"
printf 'appended on B\n' >>"$MB/st.txt"
scan >/dev/null
ok "default mounts: A gets A's version with B's append" until_ok reads "$MNT/st.txt" "$(printf '%s\nappended on B' "$long")"
cd / && vl_umount_dir "$MB"
vl_umount
st_stop
done_testing
