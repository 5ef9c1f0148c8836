#!/usr/bin/env python3
"""tests/jwt-mint.py OUTDIR: the independent side of the JWT tests.

Keys are made by the openssl CLI (RSA 2048, EC P-256/P-384/P-521, Ed25519,
a random HMAC secret); tokens are minted by PyJWT (python3-jwt from
Debian), and the attack tokens are built by hand from the same keys
(PyJWT's algorithm objects, the cryptography package and hmac).  Writes:

  OUTDIR/jwks.json    the public keys, as PyJWT exports them, with kid/alg
  OUTDIR/*.pem *.crt  a PEM public key and a certificate, loaded as PEM
  OUTDIR/cases.json   {"now", "jwks", "pem", "policy", "cases": [...]}

Every case has a name, a token, the outcome expected from mgw's verifier
("ok" or a jwt_error_reason() name) and, for attacks, "attack": true.
test-jwt-cases checks them all; tests/blackbox/jwt-cases.sh runs both.
"""
import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys

import jwt
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import get_default_algorithms

NOW = 1700000000
ISS = "https://idp.mgw.test"
AUD = "api://mgw"
ALGS = get_default_algorithms()


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def openssl(*args):
    subprocess.run(("openssl",) + args, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


def claims(**extra):
    c = {"iss": ISS, "aud": AUD, "sub": "alice", "iat": NOW - 60,
         "exp": NOW + 3600, "jti": "t-1", "scope": "read write"}
    c.update(extra)
    return {k: v for k, v in c.items() if v is not None}


def raw(header, payload, alg, key):
    """header.payload from raw JSON bytes, signed by PyJWT's alg object."""
    h = header if isinstance(header, bytes) else json.dumps(header).encode()
    p = payload if isinstance(payload, bytes) else \
        json.dumps(payload).encode()
    signing = (b64(h) + "." + b64(p)).encode()
    sig = b"" if alg is None else ALGS[alg].sign(signing, key)
    return signing.decode() + "." + b64(sig)


def main(out):
    os.makedirs(out, exist_ok=True)
    path = lambda name: os.path.join(out, name)
    openssl("genpkey", "-algorithm", "RSA", "-pkeyopt",
            "rsa_keygen_bits:2048", "-out", path("rsa.key"))
    openssl("genpkey", "-algorithm", "RSA", "-pkeyopt",
            "rsa_keygen_bits:2048", "-out", path("rsa-other.key"))
    for crv in ("P-256", "P-384", "P-521"):
        openssl("genpkey", "-algorithm", "EC", "-pkeyopt",
                "ec_paramgen_curve:" + crv, "-out", path(crv + ".key"))
    openssl("genpkey", "-algorithm", "ED25519", "-out", path("ed25519.key"))
    openssl("rand", "-out", path("hmac.bin"), "64")
    openssl("pkey", "-in", path("rsa.key"), "-pubout", "-out",
            path("rsa.pub.pem"))
    openssl("req", "-x509", "-new", "-key", path("P-256.key"), "-subj",
            "/CN=jwt-test", "-days", "2", "-out", path("P-256.crt"))

    def load(name):
        with open(path(name), "rb") as f:
            return serialization.load_pem_private_key(f.read(), None)

    rsa, rsa_other = load("rsa.key"), load("rsa-other.key")
    eck = {c: load(c + ".key") for c in ("P-256", "P-384", "P-521")}
    ed = load("ed25519.key")
    with open(path("hmac.bin"), "rb") as f:
        secret = f.read()
    with open(path("rsa.pub.pem"), "rb") as f:
        rsa_pem = f.read()

    # The JWKS: one kid per algorithm, each pinned by its "alg".
    signing = {}    # kid -> (alg, private key or secret)
    for alg in ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512"):
        signing[alg.lower()] = (alg, rsa)
    for alg, crv in (("ES256", "P-256"), ("ES384", "P-384"),
                     ("ES512", "P-521")):
        signing[alg.lower()] = (alg, eck[crv])
    signing["ed25519"] = ("EdDSA", ed)
    for alg in ("HS256", "HS384", "HS512"):
        signing[alg.lower()] = (alg, secret)
    keys = []
    for kid, (alg, key) in signing.items():
        if alg.startswith("HS"):
            jwk = json.loads(ALGS[alg].to_jwk(key))
        else:
            jwk = json.loads(ALGS[alg].to_jwk(key.public_key()))
        jwk.update({"kid": kid, "alg": alg, "use": "sig"})
        keys.append(jwk)
    # An encryption key in the set is skipped, not used.
    enc = json.loads(ALGS["RS256"].to_jwk(rsa_other.public_key()))
    enc.update({"kid": "enc", "use": "enc"})
    keys.append(enc)
    with open(path("jwks.json"), "w") as f:
        json.dump({"keys": keys}, f, indent=1)
    # PEM: the RSA public key (alg given) and an EC certificate (inferred).
    signing["pem-rsa"] = ("RS256", rsa)
    signing["pem-cert"] = ("ES256", eck["P-256"])

    cases = []

    def case(name, token, expect, attack=False, **extra):
        c = {"name": name, "token": token, "expect": expect}
        if attack:
            c["attack"] = True
        c.update(extra)
        cases.append(c)

    def mint(kid, payload=None, headers=None, alg=None):
        a, key = signing[kid]
        h = {"kid": kid}
        h.update(headers or {})
        h = {k: v for k, v in h.items() if v is not None}
        return jwt.encode(payload if payload is not None else claims(),
                          key, algorithm=alg or a, headers=h)

    # -- tokens that must verify, every algorithm family ----------------
    for kid, (alg, _) in signing.items():
        case("valid %s (kid %s)" % (alg, kid), mint(kid), "ok", sub="alice",
             scopes=["read", "write"])
    case("valid EdDSA without kid (the only EdDSA key)",
         mint("ed25519", headers={"kid": None}), "ok")
    case("valid with scp array and azp",
         mint("es384", claims(scope=None, scp=["orders:read", "admin"],
                              azp="web-app")), "ok",
         scopes=["orders:read", "admin"], client_id="web-app")
    case("valid with aud array and client_id",
         mint("ps256", claims(aud=["other", AUD], client_id="cli")), "ok",
         client_id="cli")
    case("valid, expired within the leeway",
         mint("rs256", claims(exp=NOW - 10)), "ok")
    case("valid without exp when the policy allows it",
         mint("hs256", claims(exp=None)), "ok", policy={"allow_no_exp": True})

    # -- RFC 8725 threats: every one must be refused --------------------
    good = mint("rs256")
    gh, gp, gs = good.split(".")
    rs_hdr = {"alg": "RS256", "typ": "JWT", "kid": "rs256"}

    for spelling in ("none", "None", "NONE", "nOnE"):
        case("alg %s, no signature" % spelling,
             raw({"alg": spelling, "typ": "JWT"}, claims(), None, None),
             "algorithm", True)
    case("alg none with the original signature kept",
         raw({"alg": "none", "kid": "rs256"}, claims(), None, None) + gs,
         "algorithm", True)
    case("alg missing", raw({"kid": "hs256"}, claims(), None, None) + gs,
         "algorithm", True)
    case("alg unknown (HS1)", raw({"alg": "HS1", "kid": "hs256"}, claims(),
                                  None, None) + gs, "algorithm", True)
    case("alg ES256K (secp256k1, unsupported)",
         raw({"alg": "ES256K"}, claims(), None, None) + gs, "algorithm",
         True)

    # Key confusion: HS256 keyed with the RSA public key's PEM.
    def hs_with(key, header):
        s = (b64(json.dumps(header).encode()) + "." +
             b64(json.dumps(claims()).encode())).encode()
        return s.decode() + "." + b64(hmac.new(key, s, hashlib.sha256)
                                      .digest())
    case("key confusion: HS256 with the RSA PEM as secret, kid of the RSA key",
         hs_with(rsa_pem, {"alg": "HS256", "kid": "rs256"}), "algorithm",
         True)
    case("key confusion: HS256 with the RSA PEM as secret, kid of the PEM key",
         hs_with(rsa_pem, {"alg": "HS256", "kid": "pem-rsa"}), "algorithm",
         True)
    case("key confusion: HS256 with the RSA PEM as secret, no kid",
         hs_with(rsa_pem, {"alg": "HS256"}), "signature", True)
    case("alg switched RS256 -> PS256 for an RS256 key",
         raw({"alg": "PS256", "kid": "rs256"}, claims(), "PS256", rsa),
         "algorithm", True)
    case("kid of an ES256 key on an RS256 token",
         raw({"alg": "RS256", "kid": "es256"}, claims(), "RS256", rsa),
         "algorithm", True)
    case("kid of an EdDSA key on an ES256 token",
         raw({"alg": "ES256", "kid": "ed25519"}, claims(), "ES256",
             eck["P-256"]), "algorithm", True)
    case("unknown kid", mint("rs256", headers={"kid": "rotated-away"}),
         "unknown_key", True)
    case("kid with path traversal",
         raw({"alg": "HS256", "kid": "../../../../dev/null"}, claims(),
             "HS256", b""), "unknown_key", True)
    case("kid of the skipped encryption key",
         raw({"alg": "RS256", "kid": "enc"}, claims(), "RS256", rsa_other),
         "unknown_key", True)
    case("no kid while two ES256 keys exist",
         mint("es256", headers={"kid": None}), "unknown_key", True)

    # Keys the token brings along.
    attacker = rsa_other
    ajwk = json.loads(ALGS["RS256"].to_jwk(attacker.public_key()))
    case("embedded jwk header (attacker's key)",
         raw(dict(rs_hdr, jwk=ajwk), claims(), "RS256", attacker),
         "forbidden_header", True)
    case("jku header", raw(dict(rs_hdr, jku="https://evil.test/jwks"),
                           claims(), "RS256", rsa), "forbidden_header", True)
    case("x5u header", raw(dict(rs_hdr, x5u="https://evil.test/cert"),
                           claims(), "RS256", rsa), "forbidden_header", True)
    with open(path("P-256.crt"), "rb") as f:
        der = b"".join(l.strip() for l in f if not l.startswith(b"-----"))
    case("x5c header", raw({"alg": "ES256", "x5c": [der.decode()]}, claims(),
                           "ES256", eck["P-256"]), "forbidden_header", True)
    case("crit header with an unknown extension",
         raw(dict(rs_hdr, crit=["urn:evil"], **{"urn:evil": 1}), claims(),
             "RS256", rsa), "forbidden_header", True)

    # Signatures.
    case("stripped signature", gh + "." + gp + ".", "signature", True)
    case("signature from another key",
         raw(rs_hdr, claims(), "RS256", rsa_other), "signature", True)
    case("truncated signature", good[:len(good) - 2 - 4], "signature", True)
    case("payload changed after signing",
         gh + "." + b64(json.dumps(claims(sub="admin")).encode()) + "." + gs,
         "signature", True)
    es_hdr = {"alg": "ES256", "kid": "es256"}
    es_in = (b64(json.dumps(es_hdr).encode()) + "." +
             b64(json.dumps(claims()).encode()))
    der_sig = eck["P-256"].sign(es_in.encode(), ec.ECDSA(hashes.SHA256()))
    case("ES256 signature in DER instead of r||s",
         es_in + "." + b64(der_sig), "signature", True)
    rs_sig = base64.urlsafe_b64decode(
        raw(es_hdr, claims(), "ES256", eck["P-256"]).split(".")[2] + "==")
    case("ES256 r||s with a byte too many",
         es_in + "." + b64(rs_sig + b"\0"), "signature", True)
    case("ES256 r||s one byte short", es_in + "." + b64(rs_sig[:63]),
         "signature", True)
    case("ES256 all-zero r and s (CVE-2022-21449)",
         es_in + "." + b64(b"\0" * 64), "signature", True)
    case("ES512 signature of ES256 length",
         raw({"alg": "ES512", "kid": "es512"}, claims(), None, None) +
         b64(rs_sig), "signature", True)

    # Encoding and structure.
    case("bad base64url: padding on the payload",
         gh + "." + gp + "=" * (-len(gp) % 4 or 4) + "." + gs, "malformed",
         True)
    std = base64.b64encode(base64.urlsafe_b64decode(gs + "==")).decode()
    case("bad base64url: standard alphabet '+/' and padding in the signature",
         gh + "." + gp + ".+/" + std[2:],
         "malformed", True)
    case("two segments", gh + "." + gp, "malformed", True)
    case("four segments", good + "." + gs, "malformed", True)
    case("five segments (a JWE)", "eyJhbGciOiJSU0EtT0FFUCJ9.." + gp + "." +
         gp + "." + gs, "malformed", True)
    case("non-JSON header", b64(b"alg=RS256") + "." + gp + "." + gs,
         "malformed", True)
    case("non-JSON payload",
         raw(rs_hdr, b"sub=admin;exp=9999999999", "RS256", rsa),
         "malformed", True)
    case("payload is a JSON array",
         raw(rs_hdr, b'["admin"]', "RS256", rsa), "malformed", True)
    case("duplicate claim",
         raw(rs_hdr, json.dumps(claims()).encode()[:-1] +
             b', "sub": "admin"}', "RS256", rsa), "malformed", True)
    case("duplicate header member",
         raw(b'{"alg":"RS256","kid":"rs256","alg":"none"}', claims(),
             "RS256", rsa), "malformed", True)
    case("non-UTF-8 bytes in the header",
         raw(b'{"alg":"RS256","kid":"rs256","x":"\xff\xfe"}', claims(),
             "RS256", rsa), "malformed", True)
    case("huge token over 16 kB",
         mint("hs256", claims(pad="x" * 13000)), "malformed", True)
    case("trailing newline", good + "\n", "malformed", True)

    # Claims.
    case("exp as a string", mint("rs256", claims(exp=str(NOW + 3600))),
         "bad_claim", True)
    case("exp as a boolean", mint("es256", claims(exp=True)), "bad_claim",
         True)
    case("exp missing", mint("ed25519", claims(exp=None)), "bad_claim", True)
    case("expired", mint("rs256", claims(exp=NOW - 31)), "expired", True)
    case("nbf in the future", mint("ps384", claims(nbf=NOW + 300)),
         "not_yet_valid", True)
    case("iat in the future", mint("hs512", claims(iat=NOW + 300)),
         "not_yet_valid", True)
    case("wrong issuer", mint("es512", claims(iss="https://evil.test")),
         "issuer", True)
    case("issuer missing", mint("es512", claims(iss=None)), "issuer", True)
    case("wrong audience", mint("rs384", claims(aud="api://other")),
         "audience", True)
    case("audience missing", mint("rs512", claims(aud=None)), "audience",
         True)
    case("sub with CR LF (header injection)",
         mint("hs384", claims(sub="a\r\nX-Admin: 1")), "bad_claim", True)

    doc = {
        "now": NOW,
        "jwks": path("jwks.json"),
        "pem": [{"file": path("rsa.pub.pem"), "alg": "RS256",
                 "kid": "pem-rsa"},
                {"file": path("P-256.crt"), "kid": "pem-cert"}],
        "policy": {"iss": ISS, "aud": [AUD, "api://second"], "leeway": 30},
        "cases": cases,
    }
    with open(path("cases.json"), "w") as f:
        json.dump(doc, f, indent=1)
    print("%d cases, %d attacks" % (len(cases),
                                     sum(1 for c in cases if c.get("attack"))))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: jwt-mint.py OUTDIR")
    main(sys.argv[1])
