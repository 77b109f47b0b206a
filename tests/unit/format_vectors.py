#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Independent reference of docs/FORMAT.md (Python 'cryptography'), written from the spec
alone, that prints the golden vectors hard-coded in tests/unit/test_format.c. Not run by
make check; rerun by hand when reviewing the format."""
import base64, hashlib, hmac
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, AESSIV


def hkdf(ikm, info, n, salt=b""):
    prk = hmac.new(salt, ikm, hashlib.sha256).digest()
    out, t, i = b"", b"", 1
    while len(out) < n:
        t = hmac.new(prk, t + info + bytes([i]), hashlib.sha256).digest()
        out += t
        i += 1
    return out[:n]


def b32(b):
    return base64.b32encode(b).decode().rstrip("=").lower()


def siv(key, ad, pt):
    return AESSIV(key).encrypt(pt, ad)  # cryptography returns V || C


def pad16(n):
    return n + b"\0" * ((-len(n)) % 16)


master = bytes(range(32))
K = {l: hkdf(master, ("veilfs/v1/" + l).encode(), n) for l, n in
     [("content", 32), ("object", 32), ("names", 64), ("dirid", 32), ("xattr-names", 64),
      ("xattr-values", 32)]}
for l, v in K.items():
    print(f"K_{l} = {v.hex()}")
root = hmac.new(K["dirid"], b"veilfs/v1/root", hashlib.sha256).digest()[:16]
print("ID_root =", root.hex())


def encname(name, dirid, obj=False):
    return ("1" if obj else "") + b32(siv(K["names"], [dirid], pad16(name)))


for n, obj in [(b"hello.txt", False), (b"link", True), (b"0123456789abcdef", False),
               ("Grüße, 世界.txt".encode(), False)]:
    print(f"name {n!r} obj={obj} -> {encname(n, root, obj)}")
docs = encname(b"docs", root)
child = hmac.new(K["dirid"], root + docs.encode(), hashlib.sha256).digest()[:16]
print("docs enc", docs, "ID_docs =", child.hex())
print("dirid file =", (b"\0\1" + child).hex())
h = hashlib.sha256(docs.encode()).digest()
print("long", "8" + b32(h), "sidecar", "9" + b32(h))

fid = bytes(range(0xa0, 0xb0))
nonce = bytes(range(12))
header = b"VEIL" + b"\0\1" + b"\0\0" + fid
for stream, idx, last, pt in [("content", 0, 1, b"veilfs golden block"),
                              ("object", 1, 0, b"l/tmp/target")]:
    kf = hkdf(K[stream], b"veilfs/v1/file" + fid, 32)
    aad = fid + idx.to_bytes(8, "big") + bytes([last])
    blk = nonce + AESGCM(kf).encrypt(nonce, pt, aad)
    print(f"{stream} K_file = {kf.hex()}")
    print(f"{stream} header+block{idx} last={last} = {(header + blk).hex()}")

print("xattr name user.comment ->",
      "user.veilfs." + b32(siv(K["xattr-names"], [], pad16(b"user.comment"))))
xv = AESGCM(K["xattr-values"]).encrypt(nonce, b"value", fid + b"user.veilfs.x")
print("xattr value (nonce 000102..0b, binding fid, encname 'user.veilfs.x') =", (nonce + xv).hex())

# Config with fixed salt and nonce, password "golden", N = 2^16.
salt, wn = b"\x11" * 32, b"\x22" * 12
text = ("# veilfs vault configuration; see veilfs.conf(5). Do not edit: wrapped_key authenticates every line.\n"
        "format = 1\nfeatures =\nblock_size = 4096\nname_max = 220\nkdf = scrypt\n"
        "scrypt_log2_n = 16\nscrypt_r = 8\nscrypt_p = 1\n"
        f"salt = {salt.hex()}\nwrap_nonce = {wn.hex()}\n")
kek = hashlib.scrypt(b"golden", salt=salt, n=1 << 16, r=8, p=1, dklen=32, maxmem=1 << 28)
wk = AESGCM(kek).encrypt(wn, master, text.encode())
print("config wrapped_key =", wk.hex())
