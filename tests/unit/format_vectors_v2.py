#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Independent reference of docs/FORMAT.md, format 2 (Python 'cryptography' and hashlib),
written from the spec alone, without reading the C implementation. It prints the vectors
hard-coded in tests/unit/test_format_v2.c. Not run by make check; rerun by hand when
reviewing the format (python3 tests/unit/format_vectors_v2.py).

Every input is fixed: master key bytes 0..31, file ID a0..af, block nonces 00..0b and
10..1b, config salt 11*32 and wrap nonce 22*12, password "golden", scrypt N = 2^16.
Section numbers (§) are those of docs/FORMAT.md."""
import base64, hashlib, hmac
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, AESSIV


def hkdf(ikm, info, n, salt=b""):
    """HKDF-SHA256, RFC 5869 (extract with an empty salt, then expand)."""
    prk = hmac.new(salt, ikm, hashlib.sha256).digest()
    out, t, i = b"", b"", 1
    while len(out) < n:
        t = hmac.new(prk, t + info + bytes([i]), hashlib.sha256).digest()
        out += t
        i += 1
    return out[:n]


def b32(b):
    """§4.2: RFC 4648 base32, lowercase, no padding."""
    return base64.b32encode(b).decode().rstrip("=").lower()


def pad16(n):
    """§4.1: NUL padding to the next multiple of 16 (none when already a multiple)."""
    return n + b"\0" * ((-len(n)) % 16)


def u16be(v):
    return v.to_bytes(2, "big")


def u64be(v):
    return v.to_bytes(8, "big")


def hmac16(key, msg):
    return hmac.new(key, msg, hashlib.sha256).digest()[:16]


def out(label, value):
    print(f"{label} = {value.hex() if isinstance(value, bytes) else value}")


# §1 keys
master = bytes(range(32))
LABELS = [("content", "veilfs/v1/content", 32), ("object", "veilfs/v1/object", 32),
          ("names", "veilfs/v1/names", 64), ("dirid", "veilfs/v1/dirid", 32),
          ("xattr-names", "veilfs/v1/xattr-names", 64),
          ("xattr-values", "veilfs/v1/xattr-values", 32), ("meta", "veilfs/v2/meta", 32)]
K = {k: hkdf(master, label.encode(), n) for k, label, n in LABELS}
print("# §1 subkeys (master = 00 01 .. 1f)")
for k, _, _ in LABELS:
    out(f"K_{k}", K[k])

NAME_MAX = 220
ZERO16 = bytes(16)


def siv_name(name, dirid):
    """§4.1: AES-256-SIV under K_names, one AD component (the parent ID); returns V || C."""
    return AESSIV(K["names"]).encrypt(pad16(name), [dirid])


def full_name(name, dirid, obj=False):
    """§4.3: F = marker || b32(V || C)."""
    return ("1" if obj else "") + b32(siv_name(name, dirid))


def ondisk(F):
    """§4.4: the on-disk name N of a full encoded name F."""
    if len(F) > NAME_MAX:
        return "8" + b32(hashlib.sha256(F.encode()).digest())
    return F


def derived_id(P, F):
    """§5.1: ID = HMAC-SHA256(K_dirid, P || F)[0..16]."""
    return hmac16(K["dirid"], P + F.encode())


def token(X, P, N):
    """§5.3: T(X, P, N) = HMAC-SHA256(K_meta, "veilfs/v2/place" || X || P || u16be(len N) || N)[0..16]."""
    n = N.encode()
    return hmac16(K["meta"], b"veilfs/v2/place" + X + P + u16be(len(n)) + n)


def place(P, F):
    """§5.1: parent ID (16) || u16be m || F (m bytes)."""
    f = F.encode()
    return P + u16be(len(f)) + f


def idfile(X, ptoken, places):
    """§5.1: the ID file veilfs.dirid, with one or (TWO_PLACES) two places."""
    flags = 1 if len(places) == 2 else 0
    body = u16be(2) + bytes([flags, 0]) + X + ptoken + b"".join(places)
    return body + hmac16(K["meta"], b"veilfs/v2/dirid" + body)


F_LONG, F_MOVING, F_OBJECT = 1, 2, 4


def header(fid, parent, tok, flags=0, sivout=None):
    """§3.1: short header (72 bytes) or, with sivout, long header (346 bytes)."""
    h = b"VEIL" + u16be(2) + bytes([flags, 0]) + fid + parent + tok
    if sivout is not None:
        assert flags & F_LONG and 32 <= len(sivout) <= 272 and len(sivout) % 16 == 0
        h += u16be(len(sivout)) + sivout + bytes(272 - len(sivout))
    h += hmac16(K["meta"], b"veilfs/v2/header" + h)
    assert len(h) == (346 if sivout is not None else 72)
    return h


def kfile(fid, obj=False):
    """§1: K_file = HKDF-SHA256(K_content or K_object, info = "veilfs/v1/file" || id, 32)."""
    return hkdf(K["object" if obj else "content"], b"veilfs/v1/file" + fid, 32)


def blocks(fid, pt, nonces, obj=False, bs=4096):
    """§3.2: nonce || GCM ciphertext || tag per block, AAD = id || u64be(i) || u8(last).
    An empty plaintext is one empty final block."""
    chunks = [pt[i:i + bs] for i in range(0, len(pt), bs)] or [b""]
    kf = AESGCM(kfile(fid, obj))
    res = b""
    for i, c in enumerate(chunks):
        last = 1 if i == len(chunks) - 1 else 0
        res += nonces[i] + kf.encrypt(nonces[i], c, fid + u64be(i) + bytes([last]))
    return res


def plain_size(C, H, bs=4096):
    """§3.2 Size: plaintext size from the ciphertext size, or None when invalid."""
    S = bs + 28
    if C < H + 28:
        return None
    q, r = divmod(C - H, S)
    if r == 0:
        return q * bs
    if q == 0 and r == 28:
        return 0
    if r <= 28:
        return None
    return q * bs + r - 28


# §5.1 root
ID_root = hmac16(K["dirid"], b"veilfs/v1/root")
print("\n# §5.1, §5.3 directories")
out("ID_root", ID_root)
T_root = token(ID_root, ZERO16, "")
out("T_root (place token of the root: X = ID_root, P = 0^16, N empty)", T_root)
out("idfile_root", idfile(ID_root, ZERO16, [place(ZERO16, "")]))

# a child directory "docs" of the root
F_docs = full_name(b"docs", ID_root)
ID_docs = derived_id(ID_root, F_docs)
T_docs = token(ID_docs, ID_root, F_docs)
out("F_docs (full encoded name of 'docs' in the root)", F_docs)
out("ID_docs (derived: HMAC(K_dirid, ID_root || F_docs))", ID_docs)
out("T_docs (place token of docs: X = ID_docs, P = ID_root, N = F_docs)", T_docs)
out("idfile_docs (ptoken = T_root, place (ID_root, F_docs))",
    idfile(ID_docs, T_root, [place(ID_root, F_docs)]))

# §5.2: "docs" renamed to "documents" in the root; step 1 writes place 1 = B, place 2 = A.
F_documents = full_name(b"documents", ID_root)
out("F_documents (full encoded name of 'documents' in the root)", F_documents)
out("idfile_docs_renaming (TWO_PLACES, ptoken = T_root, place 1 = (ID_root, F_documents),"
    " place 2 = (ID_root, F_docs))",
    idfile(ID_docs, T_root, [place(ID_root, F_documents), place(ID_root, F_docs)]))

# a second child of the root, and "docs" moved into it as "old" (across parents).
F_work = full_name(b"work", ID_root)
ID_work = derived_id(ID_root, F_work)
T_work = token(ID_work, ID_root, F_work)
F_old = full_name(b"old", ID_work)
out("F_work", F_work)
out("ID_work", ID_work)
out("T_work", T_work)
out("F_old (full encoded name of 'old' in work)", F_old)
# FORMAT.md does not say which parent's token a two-place ID file carries when the parents
# differ; this takes the destination's (the parent of place 1). See the notes at the end.
out("idfile_docs_moving (TWO_PLACES, ptoken = T_work (destination parent), place 1 ="
    " (ID_work, F_old), place 2 = (ID_root, F_docs))",
    idfile(ID_docs, T_work, [place(ID_work, F_old), place(ID_root, F_docs)]))
out("T_docs_at_old (place token of docs at (ID_work, F_old))", token(ID_docs, ID_work, F_old))

# a long-named directory in the root (name of 200 bytes: F has 359 characters > 220)
dname = b"D" * 200
F_ldir = full_name(dname, ID_root)
N_ldir = ondisk(F_ldir)
ID_ldir = derived_id(ID_root, F_ldir)
print(f"# long directory name: 'D' * 200, len(F) = {len(F_ldir)}")
out("F_ldir", F_ldir)
out("N_ldir (on-disk name, 8 || b32(SHA-256(F)))", N_ldir)
out("ID_ldir (derived from F)", ID_ldir)
out("ID_ldir_name_lost (derived from N, §5.4 step 2)", derived_id(ID_root, N_ldir))
out("T_ldir (place token: X = ID_ldir, P = ID_root, N = N_ldir)", token(ID_ldir, ID_root, N_ldir))
idf_ldir = idfile(ID_ldir, T_root, [place(ID_root, F_ldir)])
print(f"# idfile_ldir is {len(idf_ldir)} bytes")
out("idfile_ldir (ptoken = T_root, place (ID_root, F_ldir))", idf_ldir)

# §3 file contents
fid = bytes(range(0xa0, 0xb0))
n0, n1 = bytes(range(12)), bytes(range(0x10, 0x1c))
print("\n# §3 files (file ID a0..af, nonce of block 0 = 00..0b, of block 1 = 10..1b)")
out("K_file (content, id a0..af)", kfile(fid))
out("K_file (object, id a0..af)", kfile(fid, True))

F_hello = full_name(b"hello.txt", ID_docs)
out("F_hello ('hello.txt' in docs)", F_hello)
hdr_short = header(fid, ID_docs, T_docs)
out("header_short (docs/hello.txt: parent = ID_docs, token = T_docs, flags 0)", hdr_short)
empty = hdr_short + blocks(fid, b"", [n0])
assert len(empty) == 100 and plain_size(len(empty), 72) == 0
out("file_empty (header_short || empty final block, 100 bytes)", empty)
one_pt = b"veilfs golden block"
one = hdr_short + blocks(fid, one_pt, [n0])
assert plain_size(len(one), 72) == len(one_pt)
out("file_one_block (plaintext 'veilfs golden block')", one)
two_pt = bytes((i * 7 + 3) & 0xff for i in range(4096 + 100))
two = hdr_short + blocks(fid, two_pt, [n0, n1])
assert len(two) == 72 + 4124 + 128 and plain_size(len(two), 72) == len(two_pt)
print("# file_two_blocks: plaintext byte i = (7 * i + 3) mod 256, 4196 bytes;"
      f" ciphertext {len(two)} bytes")
out("file_two_blocks sha256", hashlib.sha256(two).digest())
out("file_two_blocks tag of block 0 ([72 + 4108, 72 + 4124))", two[72 + 4108:72 + 4124])
out("file_two_blocks block 1 (from offset 72 + 4124)", two[72 + 4124:])

# §3.5 moving header: hello.txt moved from docs into the root
hdr_moving = header(fid, ID_root, ID_docs, F_MOVING)
out("header_moving (docs/hello.txt -> /hello.txt: parent = ID_root, token = ID_docs, flags 2)",
    hdr_moving)

# §3.1 long header: a file with a 210-byte name in docs
lname = b"L" * 200 + b"-long.txt"
lname = lname + b"x" * (210 - len(lname))
sv = siv_name(lname, ID_docs)
F_lfile = b32(sv)
N_lfile = ondisk(F_lfile)
assert len(F_lfile) > NAME_MAX and len(N_lfile) == 53
print(f"# long file name: 'L' * 200 || '-long.txt' || 'x' (210 bytes); SIV output {len(sv)} bytes,"
      f" len(F) = {len(F_lfile)}")
out("siv_lfile (V || C under ID_docs)", sv)
out("N_lfile (on-disk long name)", N_lfile)
hdr_long = header(fid, ID_docs, T_docs, F_LONG, sv)
out("header_long (parent = ID_docs, token = T_docs, flags 1, n = %d)" % len(sv), hdr_long)
out("file_long_empty (header_long || empty final block, 374 bytes)", hdr_long + blocks(fid, b"", [n0]))

# §6 object file: a symlink "link" -> "/tmp/target" in the root
F_link = full_name(b"link", ID_root, obj=True)
out("F_link (object marker 1)", F_link)
hdr_obj = header(fid, ID_root, T_root, F_OBJECT)
out("file_symlink (header flags 4, parent = ID_root, token = T_root, block 'l/tmp/target' under K_object)",
    hdr_obj + blocks(fid, b"l/tmp/target", [n0], obj=True))

# §3.1 a long object: a symlink with a 200-byte name in the root (flags LONG | OBJECT = 5);
# F = "1" || b32(V || C): the marker comes from the OBJECT flag, not from the SIV output.
oname = b"S" * 200
sv_obj = siv_name(oname, ID_root)
F_lobj = "1" + b32(sv_obj)
N_lobj = ondisk(F_lobj)
print(f"# long symlink name: 'S' * 200; len(F) = {len(F_lobj)}")
out("N_lobj (on-disk name of the long symlink: 8 || b32(SHA-256('1' || b32(V || C))))", N_lobj)
hdr_lobj = header(fid, ID_root, T_root, F_LONG | F_OBJECT, sv_obj)
out("header_long_object (flags 5, parent = ID_root, token = T_root, n = %d)" % len(sv_obj), hdr_lobj)

# §2 config
print("\n# §2 config (salt 11*32, wrap_nonce 22*12, password 'golden', N = 2^16)")
salt, wn = b"\x11" * 32, b"\x22" * 12
kek = hashlib.scrypt(b"golden", salt=salt, n=1 << 16, r=8, p=1, dklen=32, maxmem=1 << 28)
out("KEK", kek)


def config(features):
    feat = "features =" + (" " + features if features else "")
    a = ("# veilfs vault configuration; see veilfs.conf(5). Do not edit: wrapped_key authenticates every line.\n"
         f"format = 2\n{feat}\nblock_size = 4096\nname_max = 220\nkdf = scrypt\n"
         "scrypt_log2_n = 16\nscrypt_r = 8\nscrypt_p = 1\n"
         f"salt = {salt.hex()}\nwrap_nonce = {wn.hex()}\n")
    wk = AESGCM(kek).encrypt(wn, master, a.encode())
    return a + f"wrapped_key = {wk.hex()}\n", wk


conf, wk = config("")
out("config wrapped_key", wk)
out("config sha256", hashlib.sha256(conf.encode()).digest())
confu, wku = config("upgrading")
out("config_upgrading wrapped_key", wku)
out("config_upgrading sha256", hashlib.sha256(confu.encode()).digest())


# §2 recovery code
def gf32_mul(a, b):
    r = 0
    for _ in range(5):
        if b & 1:
            r ^= a
        b >>= 1
        a <<= 1
        if a & 0x20:
            a ^= 0x25  # t^5 = t^2 + 1
    return r


def recovery(mk):
    alpha = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    payload = mk + hashlib.sha256(mk).digest()[:2] + b"\0"
    bits = int.from_bytes(payload, "big")
    syms = [(bits >> (5 * (55 - k))) & 31 for k in range(56)]
    groups = []
    for i in range(14):
        x = syms[4 * i:4 * i + 4]
        c, gp = i + 1, 1
        for xs in x:
            gp = gf32_mul(gp, 2)  # g = t
            c ^= gf32_mul(gp, xs)
        groups.append("".join(alpha[s] for s in x) + alpha[c])
    return "-".join(groups)


print("\n# §2 recovery code of master 00..1f ((i + 1) read as the integer i + 1 as a GF(32) element)")
out("recovery", recovery(master))


# §4.5 fallback form hash
def fnv1a64(b):
    h = 0xcbf29ce484222325
    for c in b:
        h = ((h ^ c) * 0x100000001b3) & 0xffffffffffffffff
    return h


cc = F_hello + " (conflicted copy 2025-02-10)"
out("fnv1a64(F_hello || ' (conflicted copy 2025-02-10)')", f"{fnv1a64(cc.encode()):016x}")

# Notes on docs/FORMAT.md found while writing this file from it alone (all ten answered in
# FORMAT.md since, as this file assumed; reported to the lead;
# after the comparison with the C code, tests/unit/test_format_v2.c):
# 1. §5.1/§5.2: a TWO_PLACES ID file written for a move across parents has one `ptoken`; the
#    text does not say whether it is the token of place 1's parent (destination) or place 2's
#    (origin). This file takes the destination's (idfile_docs_moving); so does fs/entry.c.
# 2. §2 recovery code: "c = (i + 1) + g*x0 + ..." right after "`+` is XOR": is (i + 1) the
#    integer i + 1 taken as a GF(32) element, or i XOR 1? This file takes the integer i + 1
#    (the C code agrees). The check symbol's place (after x3) and the reading of a symbol as
#    a polynomial (bit k = coefficient of t^k) are only implied.
# 3. §5.1: "N(F)" is used but not defined: F when len(F) <= name_max, else 8 || b32(SHA-256(F)).
# 4. §1/§3.1/§5.1/§5.3: the HMAC prefixes ("veilfs/v2/header" ...) are their ASCII bytes, no NUL
#    and no length (as for the HKDF labels); the text implies it. The C code agrees.
# 5. §8 says the vectors are checked by tests/unit/test_format.c; they are in test_format_v2.c.
# 6. §5.1: places hold "1 to 437 ASCII bytes"; the C parser accepts only 0x21..0x7e.
# 7. §3.3 says emptying writes a header with the "same ... token"; §5.3 says writers refresh
#    the token whenever they write a header, emptying included. The C code refreshes.
# 8. §5.1: "m ... 0 outside the root": a parser cannot know it is reading the root's file; the
#    rule the C code applies is "m = 0 only with a zero parent ID (the root place)".
# 9. §3.5: the moving header's `token` is "the origin directory's ID"; with several IDs (§5.4)
#    it is the one the entry's name was encrypted under there (its old `parent`).
# 10. §5.1: the root's `ptoken` is "zeros", but the rules for the root's ID file do not say
#    whether a nonzero one makes it invalid.
