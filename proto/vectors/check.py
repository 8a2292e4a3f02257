#!/usr/bin/env python3
"""Checks proto/vectors/records.txt against proto/PROTOCOL.md, independently
of the C code: the keys, signatures (RFC 8032 Ed25519, written out below),
tally ids, fingerprints and safety codes, and for every record the canonical
bytes built from the spec's layout, the id, each signature and the signed
container.  Python 3 standard library only.

    python3 proto/vectors/check.py [proto/vectors/records.txt]

Exits 0 and prints one line per check when everything agrees.
"""
import hashlib
import os
import sys

# -- Ed25519, RFC 8032 section 6 (reference code, slow but plain) --------

P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, P - 2, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)


def _add(a, b):
    x1, y1, z1, t1 = a
    x2, y2, z2, t2 = b
    A = (y1 - x1) * (y2 - x2) % P
    B = (y1 + x1) * (y2 + x2) % P
    C = t1 * 2 * D * t2 % P
    Dd = z1 * 2 * z2 % P
    E, F, G, H = B - A, Dd - C, Dd + C, B + A
    return (E * F % P, G * H % P, F * G % P, E * H % P)


def _mul(s, pt):
    q = (0, 1, 1, 0)
    while s > 0:
        if s & 1:
            q = _add(q, pt)
        pt = _add(pt, pt)
        s >>= 1
    return q


def _eq(a, b):
    x1, y1, z1, _ = a
    x2, y2, z2, _ = b
    return (x1 * z2 - x2 * z1) % P == 0 and (y1 * z2 - y2 * z1) % P == 0


def _recover_x(y, sign):
    if y >= P:
        return None
    x2 = (y * y - 1) * pow(D * y * y + 1, P - 2, P)
    if x2 == 0:
        return None if sign else 0
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P != 0:
        x = x * SQRT_M1 % P
    if (x * x - x2) % P != 0:
        return None
    if (x & 1) != sign:
        x = P - x
    return x


GY = 4 * pow(5, P - 2, P) % P
GX = _recover_x(GY, 0)
G = (GX, GY, 1, GX * GY % P)


def _compress(pt):
    x, y, z, _ = pt
    zi = pow(z, P - 2, P)
    x, y = x * zi % P, y * zi % P
    return int.to_bytes(y | ((x & 1) << 255), 32, "little")


def _decompress(s):
    y = int.from_bytes(s, "little")
    sign = y >> 255
    y &= (1 << 255) - 1
    x = _recover_x(y, sign)
    return None if x is None else (x, y, 1, x * y % P)


def _sha512_int(b):
    return int.from_bytes(hashlib.sha512(b).digest(), "little")


def _expand(seed):
    h = hashlib.sha512(seed).digest()
    a = int.from_bytes(h[:32], "little")
    a &= (1 << 254) - 8
    a |= 1 << 254
    return a, h[32:]


def ed25519_public(seed):
    a, _ = _expand(seed)
    return _compress(_mul(a, G))


def ed25519_sign(seed, msg):
    a, prefix = _expand(seed)
    A = _compress(_mul(a, G))
    r = _sha512_int(prefix + msg) % L
    R = _compress(_mul(r, G))
    h = _sha512_int(R + A + msg) % L
    s = (r + h * a) % L
    return R + int.to_bytes(s, 32, "little")


def ed25519_verify(pub, msg, sig):
    A = _decompress(pub)
    R = _decompress(sig[:32])
    s = int.from_bytes(sig[32:], "little")
    if A is None or R is None or s >= L:
        return False
    h = _sha512_int(sig[:32] + pub + msg) % L
    return _eq(_mul(8 * s, G), _add(_mul(8, R), _mul(8 * h, A)))


# -- Tally id: "tly1", RFC 4648 base32 of the key, bech32m checksum -------

B32 = "abcdefghijklmnopqrstuvwxyz234567"
GEN = [0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3]
BECH32M_CONST = 0x2BC830A3


def polymod(values):
    chk = 1
    for v in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            chk ^= GEN[i] if (top >> i) & 1 else 0
    return chk


def tally_id(pk):
    bits = int.from_bytes(pk, "big") << 4  # 256 bits + 4 zero bits
    data = [(bits >> (5 * (51 - i))) & 31 for i in range(52)]
    hrp = [ord(c) >> 5 for c in "tly"] + [0] + [ord(c) & 31 for c in "tly"]
    pm = polymod(hrp + data + [0] * 6) ^ BECH32M_CONST
    check = [(pm >> (5 * (5 - i))) & 31 for i in range(6)]
    return "tly1" + "".join(B32[v] for v in data + check)


def fingerprint(pk):
    h = hashlib.blake2b(b"tally fingerprint v1\0" + pk, digest_size=32)
    return h.digest()[:8].hex()


def safety_code(a, b):
    lo, hi = sorted([a, b])
    h = hashlib.blake2b(b"tally safety code v1\0" + lo + hi).digest()
    for _ in range(4095):
        h = hashlib.blake2b(h + lo + hi).digest()
    groups = []
    for g in range(6):
        v = int.from_bytes(h[5 * g : 5 * g + 5], "big") % 100000
        groups.append("%05d" % v)
    return " ".join(groups)


# -- Records, PROTOCOL.md "Canonical record encoding" -------------------

KINDS = {"favor": 1, "referral": 2, "reference": 3, "introduction": 4,
         "revocation": 5}
ROLES = {"giver": 1, "receiver": 2, "referrer": 3, "referred": 4,
         "referee": 5, "candidate": 6, "introducer": 7, "introduced": 8,
         "revoker": 9}
FAVOR_KINDS = {"introduction": 1, "reference": 2, "referral": 3,
               "advice": 4, "resume": 5, "info": 6, "other": 7}
ACTIONS = {"decline": 1, "revoke": 2}
DOMAIN = b"tally record v1\0"


def text(s):
    b = s.encode("utf-8")
    return len(b).to_bytes(2, "big") + b


def canonical(blk, keys):
    kind = KINDS[blk["kind"]]
    out = bytes([1, kind]) + bytes.fromhex(blk["nonce"])
    out += int(blk["created"]).to_bytes(8, "big")
    parties = [p.split() for p in blk["party"]]
    out += bytes([len(parties)])
    for role, who in parties:
        out += bytes([ROLES[role]]) + keys[who]
    if kind != 5:
        y, m, d = (int(x) for x in blk["date"].split("-"))
        out += y.to_bytes(2, "big") + bytes([m, d])
    if kind == 1:
        out += bytes([FAVOR_KINDS[blk["favor_kind"]]])
    if kind in (2, 3):
        out += text(blk["name"])
    if kind == 5:
        out += bytes.fromhex(blk["target"]) + bytes([ACTIONS[blk["action"]]])
    if "text_hex" in blk:
        out += text(bytes.fromhex(blk["text_hex"]).decode("utf-8"))
    else:
        out += text(blk["text"])
    return out, parties


def read_blocks(path):
    blocks, cur = [], {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line == "":
                if cur:
                    blocks.append(cur)
                cur = {}
                continue
            if line.startswith("#"):
                continue
            key, _, value = line.partition(" =")
            value = value[1:] if value.startswith(" ") else value
            if key == "party":
                cur.setdefault("party", []).append(value)
            else:
                cur[key] = value
    if cur:
        blocks.append(cur)
    return blocks


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        here, "records.txt")
    blocks = read_blocks(path)
    fails = 0

    def check(what, got, want):
        nonlocal fails
        ok = got == want
        fails += not ok
        print("%-34s %s" % (what, "ok" if ok else "MISMATCH"))
        if not ok:
            print("  file:     %s\n  computed: %s" % (want, got))

    head, keys = blocks[0], {}
    for w in "abc":
        seed = bytes.fromhex(head["seed." + w])
        check("seed." + w, seed, bytes([ord(w) - 96] * 32))
        keys[w] = ed25519_public(seed)
        check("pk." + w, keys[w].hex(), head["pk." + w])
        check("tallyid." + w, tally_id(keys[w]), head["tallyid." + w])
        check("fingerprint." + w, fingerprint(keys[w]),
              head["fingerprint." + w])
    for pair in ("ab", "ac", "bc"):
        check("safety." + pair, safety_code(keys[pair[0]], keys[pair[1]]),
              head["safety." + pair])
        check("safety.%s reversed" % pair,
              safety_code(keys[pair[1]], keys[pair[0]]),
              head["safety." + pair])

    for blk in blocks[1:]:
        name = blk["vector"]
        canon, parties = canonical(blk, keys)
        check(name + " canonical", canon.hex(), blk["canonical"])
        rid = hashlib.blake2b(DOMAIN + canon, digest_size=32).digest()
        check(name + " id", rid.hex(), blk["id"])
        msg = DOMAIN + canon
        entries = b""
        for role, who in parties:
            if who not in blk["signers"]:
                continue
            seed = bytes.fromhex(head["seed." + who])
            sig = ed25519_sign(seed, msg)
            check("%s sig.%s" % (name, who), sig.hex(), blk["sig." + who])
            check("%s sig.%s verifies" % (name, who),
                  ed25519_verify(keys[who], msg,
                                 bytes.fromhex(blk["sig." + who])), True)
            entries += keys[who] + sig
        nsig = len(entries) // 96
        container = (bytes([1]) + len(canon).to_bytes(2, "big") + canon +
                     bytes([nsig]) + entries)
        check(name + " signed", container.hex(), blk["signed"])
    print("%d mismatches" % fails)
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
