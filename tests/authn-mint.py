#!/usr/bin/env python3
"""tests/authn-mint.py OUTDIR: keys and tokens for tests/blackbox/auth-jwt.sh.

Keys come from the openssl CLI, tokens from PyJWT (python3-jwt), with the
real clock, since mgwd checks exp and nbf against its own.  Writes:

  OUTDIR/a.jwks       issuer A: one kid per algorithm (RS, PS, ES, EdDSA, HS)
  OUTDIR/a-rot.jwks   issuer A after rotation: "rot2" only
  OUTDIR/b.jwks       issuer B: one RSA key
  OUTDIR/bad.jwks     not a JWKS
  OUTDIR/b.pub.pem    issuer B's key as PEM (for keys = [ ... ])
  OUTDIR/tokens       NAME TOKEN lines
"""
import base64
import json
import os
import subprocess
import sys
import time

import jwt
from cryptography.hazmat.primitives import serialization
from jwt.algorithms import get_default_algorithms

ISS_A = "https://a.idp.test"
ISS_B = "https://b.idp.test"
AUD = "api://mgw"
ALGS = get_default_algorithms()
NOW = int(time.time())


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def openssl(*args):
    subprocess.run(("openssl",) + args, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


def main(out):
    path = lambda n: os.path.join(out, n)
    os.makedirs(out, exist_ok=True)
    for name in ("rsa", "rot1", "rot2", "b", "other"):
        openssl("genpkey", "-algorithm", "RSA", "-pkeyopt",
                "rsa_keygen_bits:2048", "-out", path(name + ".key"))
    for crv in ("P-256", "P-384", "P-521"):
        openssl("genpkey", "-algorithm", "EC", "-pkeyopt",
                "ec_paramgen_curve:" + crv, "-out", path(crv + ".key"))
    openssl("genpkey", "-algorithm", "ED25519", "-out", path("ed.key"))
    openssl("rand", "-out", path("hmac.bin"), "64")
    openssl("pkey", "-in", path("b.key"), "-pubout", "-out",
            path("b.pub.pem"))

    def load(n):
        with open(path(n + ".key"), "rb") as f:
            return serialization.load_pem_private_key(f.read(), None)

    with open(path("hmac.bin"), "rb") as f:
        secret = f.read()
    signing = {}
    for alg in ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512"):
        signing[alg.lower()] = (alg, load("rsa"))
    for alg, crv in (("ES256", "P-256"), ("ES384", "P-384"),
                     ("ES512", "P-521")):
        signing[alg.lower()] = (alg, load(crv))
    signing["eddsa"] = ("EdDSA", load("ed"))
    for alg in ("HS256", "HS384", "HS512"):
        signing[alg.lower()] = (alg, secret)
    signing["rot1"] = ("RS256", load("rot1"))
    signing["rot2"] = ("RS256", load("rot2"))
    signing["b"] = ("RS256", load("b"))
    signing["other"] = ("RS256", load("other"))

    def jwks(name, kids):
        keys = []
        for kid in kids:
            alg, key = signing[kid]
            k = key if alg.startswith("HS") else key.public_key()
            jwk = json.loads(ALGS[alg].to_jwk(k))
            jwk.update({"kid": kid, "alg": alg, "use": "sig"})
            keys.append(jwk)
        with open(path(name), "w") as f:
            json.dump({"keys": keys}, f, indent=1)

    family = [k for k in signing if k not in ("rot1", "rot2", "b", "other")]
    jwks("a.jwks", family + ["rot1"])
    jwks("a-rot.jwks", family + ["rot2"])
    jwks("b.jwks", ["b"])
    with open(path("bad.jwks"), "w") as f:
        f.write('{"keys": [ {"kty": "RSA", "kid": "x"')

    def claims(**extra):
        c = {"iss": ISS_A, "aud": AUD, "sub": "alice", "iat": NOW - 10,
             "exp": NOW + 3600, "scope": "read"}
        c.update(extra)
        return {k: v for k, v in c.items() if v is not None}

    def mint(kid, payload=None, headers=None, send_kid=True):
        alg, key = signing[kid]
        h = {"kid": kid} if send_kid else {}
        h.update(headers or {})
        return jwt.encode(payload if payload is not None else claims(),
                          key, algorithm=alg, headers=h)

    tok = {}
    for kid in family:
        tok["alg-" + kid] = mint(kid)
    tok["expired"] = mint("rs256", claims(exp=NOW - 3600, iat=NOW - 7200))
    tok["nbf"] = mint("rs256", claims(nbf=NOW + 3600))
    tok["no-exp"] = mint("rs256", claims(exp=None))
    tok["wrong-iss"] = mint("rs256", claims(iss="https://evil.test"))
    tok["wrong-aud"] = mint("rs256", claims(aud="api://other"))
    tok["unknown-kid"] = mint("rs256", headers={"kid": "nope"})
    t = mint("rs256")
    h, p, s = t.split(".")
    sig = bytearray(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)))
    sig[10] ^= 1
    tok["bad-sig"] = h + "." + p + "." + b64(bytes(sig))
    tok["other-key"] = jwt.encode(claims(), signing["other"][1],
                                  algorithm="RS256", headers={"kid": "rs256"})
    tok["alg-none"] = (b64(json.dumps({"alg": "none", "kid": "rs256"})
                           .encode()) + "." +
                       b64(json.dumps(claims()).encode()) + ".")
    tok["garbage"] = "not.a.token"
    tok["scope-write"] = mint("rs256", claims(scope="write"))
    tok["scope-admin"] = mint("rs256", claims(scp=["admin", "x"],
                                              scope=None))
    tok["scope-none"] = mint("rs256", claims(scope=None))
    tok["rot1"] = mint("rot1")
    tok["rot2"] = mint("rot2")
    tok["issuer-b"] = mint("b", claims(iss=ISS_B, aud="api://b",
                                       sub="bob"), send_kid=False)
    tok["issuer-c"] = mint("b", claims(iss="https://c.idp.test",
                                       aud="api://c"), send_kid=False)
    tok["issuer-b-as-a"] = mint("b", claims(sub="bob"), send_kid=False)
    tok["client-app"] = mint("rs256", claims(sub="someone",
                                             client_id="app-42"))
    tok["unsubscribed"] = mint("rs256", claims(sub="carol"))
    tok["stranger"] = mint("rs256", claims(sub="nobody"))
    tok["gold"] = mint("rs256", claims(sub="dave"))
    with open(path("tokens"), "w") as f:
        for k, v in tok.items():
            f.write("%s %s\n" % (k, v))


if __name__ == "__main__":
    main(sys.argv[1])
