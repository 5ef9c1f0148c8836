#!/usr/bin/env python3
"""bench/auth-mint.py OUTDIR NCOLD NDISTINCT: keys and tokens for bench/auth.sh.

Keys come from the openssl CLI, tokens from PyJWT (python3-jwt).  Writes:

  OUTDIR/bench.jwks        one kid per algorithm: rs256 es256 eddsa hs256
  OUTDIR/warm.<kid>        one token per algorithm (the cache-warm runs)
  OUTDIR/cold.<kid>        NCOLD distinct tokens per algorithm, one per line
  OUTDIR/distinct          NDISTINCT distinct HS256 tokens, one per line
"""
import json
import os
import subprocess
import sys
import time

import jwt
from cryptography.hazmat.primitives import serialization
from jwt.algorithms import get_default_algorithms

ALGS = get_default_algorithms()
NOW = int(time.time())


def openssl(*args):
    subprocess.run(("openssl",) + args, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


def main(out, ncold, ndistinct):
    path = lambda n: os.path.join(out, n)
    os.makedirs(out, exist_ok=True)
    openssl("genpkey", "-algorithm", "RSA", "-pkeyopt",
            "rsa_keygen_bits:2048", "-out", path("rsa.key"))
    openssl("genpkey", "-algorithm", "EC", "-pkeyopt",
            "ec_paramgen_curve:P-256", "-out", path("ec.key"))
    openssl("genpkey", "-algorithm", "ED25519", "-out", path("ed.key"))
    openssl("rand", "-out", path("hmac.bin"), "32")

    def load(n):
        with open(path(n), "rb") as f:
            return serialization.load_pem_private_key(f.read(), None)

    with open(path("hmac.bin"), "rb") as f:
        secret = f.read()
    signing = {"rs256": ("RS256", load("rsa.key")),
               "es256": ("ES256", load("ec.key")),
               "eddsa": ("EdDSA", load("ed.key")),
               "hs256": ("HS256", secret)}
    keys = []
    for kid, (alg, key) in signing.items():
        k = key if alg.startswith("HS") else key.public_key()
        jwk = json.loads(ALGS[alg].to_jwk(k))
        jwk.update({"kid": kid, "alg": alg, "use": "sig"})
        keys.append(jwk)
    with open(path("bench.jwks"), "w") as f:
        json.dump({"keys": keys}, f)

    def mint(kid, n):
        alg, key = signing[kid]
        return jwt.encode({"iss": "https://bench.idp", "aud": "api://bench",
                           "sub": "bench-%d" % n, "iat": NOW - 10,
                           "exp": NOW + 86400, "scope": "read",
                           "jti": "%s-%d" % (kid, n)},
                          key, algorithm=alg, headers={"kid": kid})

    for kid in signing:
        with open(path("warm." + kid), "w") as f:
            f.write(mint(kid, 0) + "\n")
        with open(path("cold." + kid), "w") as f:
            for n in range(1, ncold + 1):
                f.write(mint(kid, n) + "\n")
    with open(path("distinct"), "w") as f:
        for n in range(1, ndistinct + 1):
            f.write(mint("hs256", 1000000 + n) + "\n")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
