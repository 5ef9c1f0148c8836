/*
 * jwt-key.c: the keys JWTs are verified with.  A struct jwt_keyset is
 * built in the master, at config load, from JWKS documents (RFC 7517,
 * RFC 7518 section 6, RFC 8037), PEM public keys or certificates, and
 * HMAC secrets, and is read-only afterwards, so workers share it through
 * fork.
 *
 * Every key is pinned to one algorithm when it is loaded: the JWK's alg,
 * or the one the configuration gives, or one inferred where only one is
 * possible (an EC key's curve fixes ES256, ES384 or ES512; Ed25519 means
 * EdDSA).  An RSA key or an HMAC secret fits several algorithms, so
 * without an alg it is refused rather than guessed.  Keys too weak for
 * their algorithm (RSA under 2048 bits, RFC 7518 section 3.3; an HMAC
 * secret shorter than the hash, section 3.2) are refused, and so is
 * private key material, which has no business in a verifier's files.
 *
 * Loading is all or nothing per call: a bad document leaves the set as it
 * was, and *cause names the source and the key at fault, never key bytes.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "lib.h"
#include "jwt.h"

#define JWT_RSA_MIN_BITS	2048

/* The JWK curves we verify with, and their OpenSSL and JOSE names. */
struct jwt_curve {
	const char	*cv_jwk;	/* crv */
	const char	*cv_group;	/* OpenSSL group name */
	size_t		 cv_size;	/* bytes of a coordinate */
	enum jwt_alg	 cv_alg;
};

static const struct jwt_curve jwt_curves[] = {
	{ "P-256", "prime256v1", 32, JWT_ALG_ES256 },
	{ "P-384", "secp384r1", 48, JWT_ALG_ES384 },
	{ "P-521", "secp521r1", 66, JWT_ALG_ES512 },
};
#define JWT_NCURVES	(sizeof(jwt_curves) / sizeof(jwt_curves[0]))

static int	 jwt_alg_is_rsa(enum jwt_alg);
static int	 jwt_alg_is_hmac(enum jwt_alg);
static int	 jwt_key_pin(EVP_PKEY *, enum jwt_alg, enum jwt_alg *,
		    const char **);
static int	 jwt_key_kid_ok(const char *);
static int	 jwt_keyset_append(struct jwt_keyset *, const char *,
		    enum jwt_alg, EVP_PKEY *, const unsigned char *, size_t,
		    const char **);
static void	 jwt_keyset_truncate(struct jwt_keyset *, size_t);
static int	 jwt_jwk_b64(json_t *, const char *, unsigned char **,
		    size_t *, const char **);
static EVP_PKEY	*jwt_jwk_rsa(json_t *, const char **);
static EVP_PKEY	*jwt_jwk_ec(json_t *, const char **);
static EVP_PKEY	*jwt_jwk_okp(json_t *, const char **);
static int	 jwt_jwk_load(struct jwt_keyset *, json_t *, enum jwt_alg,
		    const char **);

static int
jwt_alg_is_rsa(enum jwt_alg alg)
{
	return (alg >= JWT_ALG_RS256 && alg <= JWT_ALG_PS512);
}

static int
jwt_alg_is_hmac(enum jwt_alg alg)
{
	return (alg >= JWT_ALG_HS256 && alg <= JWT_ALG_HS512);
}

/*
 * Decide the algorithm a public key is pinned to: alg if given and fit
 * for the key, else the only algorithm the key allows.  0 or -1 (*why).
 */
static int
jwt_key_pin(EVP_PKEY *pkey, enum jwt_alg alg, enum jwt_alg *pinned,
    const char **why)
{
	char	 group[64];
	size_t	 i;

	if (EVP_PKEY_is_a(pkey, "RSA")) {
		if (EVP_PKEY_get_bits(pkey) < JWT_RSA_MIN_BITS) {
			*why = "RSA key shorter than 2048 bits";
			return (-1);
		}
		if (alg == JWT_ALG_NONE) {
			*why = "RSA key without alg and no algorithm "
			    "configured";
			return (-1);
		}
		if (!jwt_alg_is_rsa(alg)) {
			*why = "alg does not fit an RSA key";
			return (-1);
		}
		*pinned = alg;
		return (0);
	}
	if (EVP_PKEY_is_a(pkey, "EC")) {
		if (EVP_PKEY_get_group_name(pkey, group, sizeof(group),
		    NULL) != 1) {
			*why = "EC key without a named curve";
			return (-1);
		}
		for (i = 0; i < JWT_NCURVES; i++) {
			if (strcmp(group, jwt_curves[i].cv_group) == 0)
				break;
		}
		if (i == JWT_NCURVES) {
			*why = "unsupported EC curve";
			return (-1);
		}
		if (alg != JWT_ALG_NONE && alg != jwt_curves[i].cv_alg) {
			*why = "alg does not fit the key's curve";
			return (-1);
		}
		*pinned = jwt_curves[i].cv_alg;
		return (0);
	}
	if (EVP_PKEY_is_a(pkey, "ED25519")) {
		if (alg != JWT_ALG_NONE && alg != JWT_ALG_EDDSA) {
			*why = "alg does not fit an Ed25519 key";
			return (-1);
		}
		*pinned = JWT_ALG_EDDSA;
		return (0);
	}
	*why = "unsupported key type";
	return (-1);
}

/* A kid we can name in logs: bounded, no control characters. */
static int
jwt_key_kid_ok(const char *kid)
{
	const unsigned char	*p;

	if (strlen(kid) > JWT_KID_MAX)
		return (0);
	for (p = (const unsigned char *)kid; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f)
			return (0);
	}
	return (1);
}

/*
 * Add one key to ks, taking pkey (on success) or copying secret.  Two
 * keys with one kid would make selection ambiguous, so they are refused.
 */
static int
jwt_keyset_append(struct jwt_keyset *ks, const char *kid, enum jwt_alg alg,
    EVP_PKEY *pkey, const unsigned char *secret, size_t secretlen,
    const char **why)
{
	struct jwt_key	*k;
	size_t		 i;

	if (kid != NULL) {
		if (!jwt_key_kid_ok(kid)) {
			*why = "kid too long or with control characters";
			return (-1);
		}
		for (i = 0; i < ks->ks_nkeys; i++) {
			if (ks->ks_keys[i].k_kid != NULL &&
			    strcmp(ks->ks_keys[i].k_kid, kid) == 0) {
				*why = "duplicate kid";
				return (-1);
			}
		}
	}
	if (secret != NULL && ks->ks_hmac == NULL &&
	    (ks->ks_hmac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL) {
		ERR_clear_error();
		*why = "HMAC is not available in OpenSSL";
		return (-1);
	}
	ks->ks_keys = xreallocarray(ks->ks_keys, ks->ks_nkeys + 1,
	    sizeof(*ks->ks_keys));
	k = &ks->ks_keys[ks->ks_nkeys];
	memset(k, 0, sizeof(*k));
	k->k_kid = kid != NULL ? xstrdup(kid) : NULL;
	k->k_alg = alg;
	k->k_pkey = pkey;
	if (secret != NULL) {
		k->k_secret = xmalloc(secretlen);
		memcpy(k->k_secret, secret, secretlen);
		k->k_secretlen = secretlen;
	}
	ks->ks_nkeys++;
	return (0);
}

/* Drop the keys from position n on (undoing a failed load). */
static void
jwt_keyset_truncate(struct jwt_keyset *ks, size_t n)
{
	struct jwt_key	*k;

	while (ks->ks_nkeys > n) {
		k = &ks->ks_keys[--ks->ks_nkeys];
		free(k->k_kid);
		EVP_PKEY_free(k->k_pkey);
		if (k->k_secret != NULL) {
			OPENSSL_cleanse(k->k_secret, k->k_secretlen);
			free(k->k_secret);
		}
	}
}

/* An empty key set.  Master; dies on OOM. */
struct jwt_keyset *
jwt_keyset_new(void)
{
	return (xcalloc(1, sizeof(struct jwt_keyset)));
}

/* Release ks, wiping secrets; NULL is a no-op.  Master or worker. */
void
jwt_keyset_free(struct jwt_keyset *ks)
{
	if (ks == NULL)
		return;
	jwt_keyset_truncate(ks, 0);
	free(ks->ks_keys);
	EVP_MAC_free(ks->ks_hmac);
	free(ks);
}

/* The number of keys in ks. */
size_t
jwt_keyset_count(const struct jwt_keyset *ks)
{
	return (ks->ks_nkeys);
}

/*
 * The key a token with kid (NULL: none) and alg is to be verified with.
 * With a kid, the key with that kid, which must be pinned to alg; without
 * one, the set's only key pinned to alg.  NULL if none, with *errp set to
 * JWT_E_KEY (no such key, or an ambiguous choice) or JWT_E_ALG (the kid's
 * key is pinned to another algorithm).  Workers; no locks.
 */
const struct jwt_key *
jwt_keyset_find(const struct jwt_keyset *ks, const char *kid,
    enum jwt_alg alg, enum jwt_error *errp)
{
	const struct jwt_key	*k, *found = NULL;
	size_t			 i, n = 0;

	*errp = JWT_E_KEY;
	for (i = 0; i < ks->ks_nkeys; i++) {
		k = &ks->ks_keys[i];
		if (kid != NULL) {
			if (k->k_kid == NULL || strcmp(k->k_kid, kid) != 0)
				continue;
			if (k->k_alg != alg) {
				*errp = JWT_E_ALG;
				return (NULL);
			}
			*errp = JWT_OK;
			return (k);
		}
		if (k->k_alg == alg) {
			found = k;
			n++;
		}
	}
	if (n != 1)
		return (NULL);
	*errp = JWT_OK;
	return (found);
}

/*
 * Decode the base64url member name of a JWK into a new buffer.  0, or -1
 * with *why if it is missing or not strict base64url.
 */
static int
jwt_jwk_b64(json_t *jwk, const char *name, unsigned char **bufp,
    size_t *lenp, const char **why)
{
	json_t	*v;
	size_t	 len;

	*bufp = NULL;
	v = json_object_get(jwk, name);
	if (v == NULL || !json_is_string(v) || json_string_length(v) == 0) {
		*why = "a required member is missing or not a string";
		return (-1);
	}
	len = jwt_b64url_decoded_size(json_string_length(v));
	*bufp = xmalloc(len + 1);
	if (jwt_b64url_decode(json_string_value(v), json_string_length(v),
	    *bufp, len, lenp) == -1) {
		free(*bufp);
		*bufp = NULL;
		*why = "a member is not base64url";
		return (-1);
	}
	return (0);
}

/* An RSA public key from the JWK members n and e. */
static EVP_PKEY *
jwt_jwk_rsa(json_t *jwk, const char **why)
{
	OSSL_PARAM_BLD	*bld = NULL;
	OSSL_PARAM	*params = NULL;
	EVP_PKEY_CTX	*ctx = NULL;
	EVP_PKEY	*pkey = NULL;
	unsigned char	*n = NULL, *e = NULL;
	size_t		 nlen, elen;
	BIGNUM		*bn = NULL, *be = NULL;

	if (jwt_jwk_b64(jwk, "n", &n, &nlen, why) == -1 ||
	    jwt_jwk_b64(jwk, "e", &e, &elen, why) == -1)
		goto out;
	*why = "OpenSSL refused the RSA key";
	if ((bn = BN_bin2bn(n, (int)nlen, NULL)) == NULL ||
	    (be = BN_bin2bn(e, (int)elen, NULL)) == NULL ||
	    (bld = OSSL_PARAM_BLD_new()) == NULL ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) != 1 ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
		pkey = NULL;
out:
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn);
	BN_free(be);
	free(n);
	free(e);
	return (pkey);
}

/*
 * An EC public key from crv, x and y.  The coordinates may not be longer
 * than the curve's size (RFC 7518 section 6.2.1.2) and the point must lie
 * on the curve.
 */
static EVP_PKEY *
jwt_jwk_ec(json_t *jwk, const char **why)
{
	const struct jwt_curve	*cv = NULL;
	OSSL_PARAM_BLD		*bld = NULL;
	OSSL_PARAM		*params = NULL;
	EVP_PKEY_CTX		*ctx = NULL, *cctx = NULL;
	EVP_PKEY		*pkey = NULL;
	unsigned char		*x = NULL, *y = NULL, *pt = NULL;
	size_t			 xlen, ylen, i;
	json_t			*v;

	v = json_object_get(jwk, "crv");
	for (i = 0; v != NULL && json_is_string(v) && i < JWT_NCURVES; i++) {
		if (strcmp(json_string_value(v), jwt_curves[i].cv_jwk) == 0)
			cv = &jwt_curves[i];
	}
	if (cv == NULL) {
		*why = "crv missing or not P-256, P-384 or P-521";
		return (NULL);
	}
	if (jwt_jwk_b64(jwk, "x", &x, &xlen, why) == -1 ||
	    jwt_jwk_b64(jwk, "y", &y, &ylen, why) == -1)
		goto out;
	/*
	 * RFC 7518 wants the full size, but some producers (PyJWT before
	 * 2.8, for one) drop leading zero bytes; padding them back is
	 * harmless since the point is checked on the curve below.
	 */
	if (xlen > cv->cv_size || ylen > cv->cv_size) {
		*why = "x or y is longer than the curve's size";
		goto out;
	}
	/* SEC 1 uncompressed point: 0x04 || x || y. */
	pt = xcalloc(1, 1 + 2 * cv->cv_size);
	pt[0] = 0x04;
	memcpy(pt + 1 + cv->cv_size - xlen, x, xlen);
	memcpy(pt + 1 + 2 * cv->cv_size - ylen, y, ylen);
	*why = "the EC point is not on the curve";
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
	    cv->cv_group, 0) != 1 ||
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
	    pt, 1 + 2 * cv->cv_size) != 1 ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1) {
		pkey = NULL;
		goto out;
	}
	if ((cctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL)) == NULL ||
	    EVP_PKEY_public_check(cctx) != 1) {
		EVP_PKEY_free(pkey);
		pkey = NULL;
	}
out:
	EVP_PKEY_CTX_free(cctx);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	free(x);
	free(y);
	free(pt);
	return (pkey);
}

/* An Ed25519 public key from crv and x (RFC 8037 section 2). */
static EVP_PKEY *
jwt_jwk_okp(json_t *jwk, const char **why)
{
	EVP_PKEY	*pkey;
	unsigned char	*x;
	size_t		 xlen;
	json_t		*v;

	v = json_object_get(jwk, "crv");
	if (v == NULL || !json_is_string(v) ||
	    strcmp(json_string_value(v), "Ed25519") != 0) {
		*why = "crv missing or not Ed25519";
		return (NULL);
	}
	if (jwt_jwk_b64(jwk, "x", &x, &xlen, why) == -1)
		return (NULL);
	if (xlen != 32) {
		free(x);
		*why = "x is not 32 bytes";
		return (NULL);
	}
	if ((pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, x,
	    xlen)) == NULL)
		*why = "OpenSSL refused the Ed25519 key";
	free(x);
	return (pkey);
}

/*
 * Add the JWK object jwk to ks; defalg pins RSA and oct keys that carry
 * no alg.  1 if the key is not for signatures and was skipped, 0 if
 * added, -1 with *why.
 */
static int
jwt_jwk_load(struct jwt_keyset *ks, json_t *jwk, enum jwt_alg defalg,
    const char **why)
{
	static const char *const private[] = { "d", "p", "q", "dp", "dq",
	    "qi", "oth" };
	EVP_PKEY	*pkey = NULL;
	unsigned char	*k;
	const char	*kty, *kid = NULL;
	enum jwt_alg	 alg = JWT_ALG_NONE, pinned;
	json_t		*v, *op;
	size_t		 klen, i;
	int		 verify, rc;

	if (!json_is_object(jwk)) {
		*why = "not a JSON object";
		return (-1);
	}
	v = json_object_get(jwk, "kty");
	if (v == NULL || !json_is_string(v)) {
		*why = "kty missing or not a string";
		return (-1);
	}
	kty = json_string_value(v);
	if ((v = json_object_get(jwk, "use")) != NULL) {
		if (!json_is_string(v)) {
			*why = "use not a string";
			return (-1);
		}
		if (strcmp(json_string_value(v), "sig") != 0)
			return (1);
	}
	if ((v = json_object_get(jwk, "key_ops")) != NULL) {
		if (!json_is_array(v)) {
			*why = "key_ops not an array";
			return (-1);
		}
		verify = 0;
		json_array_foreach(v, i, op) {
			if (json_is_string(op) &&
			    strcmp(json_string_value(op), "verify") == 0)
				verify = 1;
		}
		if (!verify)
			return (1);
	}
	if ((v = json_object_get(jwk, "kid")) != NULL) {
		if (!json_is_string(v)) {
			*why = "kid not a string";
			return (-1);
		}
		kid = json_string_value(v);
	}
	if ((v = json_object_get(jwk, "alg")) != NULL) {
		if (!json_is_string(v) ||
		    (alg = jwt_alg_byname(json_string_value(v))) ==
		    JWT_ALG_NONE) {
			*why = "alg not a supported signature algorithm";
			return (-1);
		}
	}

	if (strcmp(kty, "oct") == 0) {
		if (alg == JWT_ALG_NONE && jwt_alg_is_hmac(defalg))
			alg = defalg;
		if (alg == JWT_ALG_NONE) {
			*why = "oct key without alg and no algorithm "
			    "configured";
			return (-1);
		}
		if (!jwt_alg_is_hmac(alg)) {
			*why = "alg does not fit an oct key";
			return (-1);
		}
		if (jwt_jwk_b64(jwk, "k", &k, &klen, why) == -1)
			return (-1);
		if (klen < (size_t)EVP_MD_get_size(jwt_alg_md(alg))) {
			OPENSSL_cleanse(k, klen);
			free(k);
			*why = "HMAC secret shorter than the hash";
			return (-1);
		}
		rc = jwt_keyset_append(ks, kid, alg, NULL, k, klen, why);
		OPENSSL_cleanse(k, klen);
		free(k);
		return (rc);
	}

	for (i = 0; i < sizeof(private) / sizeof(private[0]); i++) {
		if (json_object_get(jwk, private[i]) != NULL) {
			*why = "holds private key material";
			return (-1);
		}
	}
	if (strcmp(kty, "RSA") == 0) {
		pkey = jwt_jwk_rsa(jwk, why);
		if (alg == JWT_ALG_NONE && jwt_alg_is_rsa(defalg))
			alg = defalg;
	} else if (strcmp(kty, "EC") == 0)
		pkey = jwt_jwk_ec(jwk, why);
	else if (strcmp(kty, "OKP") == 0)
		pkey = jwt_jwk_okp(jwk, why);
	else {
		*why = "unsupported kty";
		return (-1);
	}
	if (pkey == NULL) {
		ERR_clear_error();
		return (-1);
	}
	if (jwt_key_pin(pkey, alg, &pinned, why) == -1 ||
	    jwt_keyset_append(ks, kid, pinned, pkey, NULL, 0, why) == -1) {
		EVP_PKEY_free(pkey);
		return (-1);
	}
	return (0);
}

/*
 * Add the keys of the JWKS document doc (len bytes) to ks.  defalg pins
 * RSA and oct keys that have no alg member (JWT_ALG_NONE: such keys are
 * refused); keys whose use or key_ops exclude verification are skipped.
 * source names the document in *cause.  All or nothing: on -1 ks is
 * unchanged and *cause says which key is wrong and why.  Master; dies on
 * OOM.
 */
int
jwt_keyset_add_jwks(struct jwt_keyset *ks, const char *doc, size_t len,
    enum jwt_alg defalg, const char *source, char **cause)
{
	json_error_t	 jerr;
	json_t		*root, *keys, *jwk, *v;
	const char	*why = NULL;
	size_t		 n0 = ks->ks_nkeys, i, added = 0;
	int		 rc;

	if ((root = json_loadb(doc, len, JSON_REJECT_DUPLICATES, &jerr)) ==
	    NULL) {
		xasprintf(cause, "%s: line %d: %s", source, jerr.line,
		    jerr.text);
		return (-1);
	}
	keys = json_object_get(root, "keys");
	if (!json_is_object(root) || keys == NULL || !json_is_array(keys)) {
		json_decref(root);
		xasprintf(cause, "%s: not a JWK set (no \"keys\" array)",
		    source);
		return (-1);
	}
	json_array_foreach(keys, i, jwk) {
		if ((rc = jwt_jwk_load(ks, jwk, defalg, &why)) == -1) {
			v = json_is_object(jwk) ?
			    json_object_get(jwk, "kid") : NULL;
			if (v != NULL && json_is_string(v) &&
			    jwt_key_kid_ok(json_string_value(v)))
				xasprintf(cause, "%s: keys[%zu] (kid \"%s\"): "
				    "%s", source, i, json_string_value(v),
				    why);
			else
				xasprintf(cause, "%s: keys[%zu]: %s", source,
				    i, why);
			jwt_keyset_truncate(ks, n0);
			json_decref(root);
			return (-1);
		}
		if (rc == 0)
			added++;
	}
	json_decref(root);
	if (added == 0) {
		xasprintf(cause, "%s: no signature verification keys", source);
		return (-1);
	}
	return (0);
}

/*
 * Add the PEM public key or certificate in buf (len bytes) to ks under
 * kid (NULL: none), pinned to alg, which may be JWT_ALG_NONE only for EC
 * and Ed25519 keys.  source names the file in *cause.  0 or -1 (ks
 * unchanged).  Master; dies on OOM.
 */
int
jwt_keyset_add_pem(struct jwt_keyset *ks, const char *buf, size_t len,
    enum jwt_alg alg, const char *kid, const char *source, char **cause)
{
	EVP_PKEY	*pkey = NULL;
	X509		*x509;
	BIO		*bio;
	const char	*why;
	enum jwt_alg	 pinned;

	if (len > INT32_MAX) {
		xasprintf(cause, "%s: too large", source);
		return (-1);
	}
	if ((bio = BIO_new_mem_buf(buf, (int)len)) == NULL)
		fatalx("%s: BIO_new_mem_buf", __func__);
	pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (pkey == NULL) {
		if ((bio = BIO_new_mem_buf(buf, (int)len)) == NULL)
			fatalx("%s: BIO_new_mem_buf", __func__);
		if ((x509 = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
			pkey = X509_get_pubkey(x509);
			X509_free(x509);
		}
		BIO_free(bio);
	}
	ERR_clear_error();
	if (pkey == NULL) {
		if (memmem(buf, len, "PRIVATE KEY-----", 16) != NULL)
			xasprintf(cause, "%s: a private key; give the public "
			    "key or the certificate", source);
		else
			xasprintf(cause, "%s: no PEM public key or "
			    "certificate", source);
		return (-1);
	}
	if (jwt_key_pin(pkey, alg, &pinned, &why) == -1 ||
	    jwt_keyset_append(ks, kid, pinned, pkey, NULL, 0, &why) == -1) {
		EVP_PKEY_free(pkey);
		xasprintf(cause, "%s: %s", source, why);
		return (-1);
	}
	return (0);
}

/*
 * Add an HMAC secret (len bytes, copied) to ks under kid (NULL: none),
 * pinned to alg, which must be HS256, HS384 or HS512; the secret must be
 * at least as long as the hash.  source names it in *cause.  0 or -1.
 * Master; dies on OOM.
 */
int
jwt_keyset_add_secret(struct jwt_keyset *ks, const unsigned char *secret,
    size_t len, enum jwt_alg alg, const char *kid, const char *source,
    char **cause)
{
	const char	*why;

	if (!jwt_alg_is_hmac(alg)) {
		xasprintf(cause, "%s: a secret needs HS256, HS384 or HS512",
		    source);
		return (-1);
	}
	if (len < (size_t)EVP_MD_get_size(jwt_alg_md(alg))) {
		xasprintf(cause, "%s: HMAC secret shorter than the hash (%d "
		    "bytes)", source, EVP_MD_get_size(jwt_alg_md(alg)));
		return (-1);
	}
	if (jwt_keyset_append(ks, kid, alg, NULL, secret, len, &why) == -1) {
		xasprintf(cause, "%s: %s", source, why);
		return (-1);
	}
	return (0);
}
