/*
 * jwt.c: parsing and verification of compact JWS tokens (RFC 7515) as
 * JWTs (RFC 7519), under the rules of RFC 8725.  See jwt.h for the trust
 * model.
 *
 * Everything here may run in a worker for every request, so nothing dies
 * on a failed allocation: it becomes JWT_E_INTERNAL.  Cryptography is
 * OpenSSL's EVP and the JSON parser is jansson's, told to refuse
 * duplicate members so that a token cannot show one value to us and
 * another to an upstream that parses it again.  OpenSSL's error queue is
 * cleared after every failed operation, since a worker lives long and a
 * forged token must not leave state behind.
 */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rsa.h>

#include "jwt.h"

/* A parsed, not yet verified token. */
struct jwt_token {
	json_t		*t_header;
	json_t		*t_payload;
	enum jwt_alg	 t_alg;
	const char	*t_kid;		/* in t_header; NULL: none */
	const char	*t_iss;		/* in t_payload; NULL: none */
	char		*t_input;	/* the signing input, header.payload */
	size_t		 t_inputlen;
	unsigned char	*t_sig;
	size_t		 t_siglen;
};

struct jwt_alg_info {
	const char	*ai_name;
	enum jwt_alg	 ai_alg;
	int		 ai_hashbits;	/* SHA-2 width; 0 for EdDSA */
};

static const struct jwt_alg_info jwt_algs[] = {
	{ "HS256", JWT_ALG_HS256, 256 },
	{ "HS384", JWT_ALG_HS384, 384 },
	{ "HS512", JWT_ALG_HS512, 512 },
	{ "RS256", JWT_ALG_RS256, 256 },
	{ "RS384", JWT_ALG_RS384, 384 },
	{ "RS512", JWT_ALG_RS512, 512 },
	{ "PS256", JWT_ALG_PS256, 256 },
	{ "PS384", JWT_ALG_PS384, 384 },
	{ "PS512", JWT_ALG_PS512, 512 },
	{ "ES256", JWT_ALG_ES256, 256 },
	{ "ES384", JWT_ALG_ES384, 384 },
	{ "ES512", JWT_ALG_ES512, 512 },
	{ "EdDSA", JWT_ALG_EDDSA, 0 },
};
#define JWT_NALGS	(sizeof(jwt_algs) / sizeof(jwt_algs[0]))

static int	 jwt_b64url_value(unsigned char);
static enum jwt_error jwt_segment_json(const char *, size_t, json_t **,
		    const char **, const char *, const char *);
static enum jwt_error jwt_header_check(struct jwt_token *, const char **);
static enum jwt_error jwt_sig_hmac(const struct jwt_keyset *,
		    const struct jwt_key *, const struct jwt_token *,
		    const char **);
static enum jwt_error jwt_sig_pkey(const struct jwt_key *,
		    const struct jwt_token *, const char **);
static int	 jwt_sig_ecdsa_der(const unsigned char *, size_t,
		    unsigned char **, int *);
static enum jwt_error jwt_claims_check(const struct jwt_token *,
		    const struct jwt_policy *, int64_t, struct jwt_result *);
static enum jwt_error jwt_claim_time(json_t *, const char *, int, int *,
		    int64_t *, const char **);
static enum jwt_error jwt_claim_string(json_t *, const char *, char **,
		    const char **);
static int	 jwt_string_clean(const char *);
static enum jwt_error jwt_audience_check(json_t *, const struct jwt_policy *,
		    const char **);
static enum jwt_error jwt_scopes_collect(json_t *, struct jwt_result *,
		    const char **);
static int	 jwt_scope_char(unsigned char);
static enum jwt_error jwt_scopes_split(const char *, struct jwt_result *,
		    char **, const char **);

/* The 6-bit value of a base64url character, or -1. */
static int
jwt_b64url_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return (c - 'A');
	if (c >= 'a' && c <= 'z')
		return (c - 'a' + 26);
	if (c >= '0' && c <= '9')
		return (c - '0' + 52);
	if (c == '-')
		return (62);
	if (c == '_')
		return (63);
	return (-1);
}

/*
 * The most bytes srclen characters of base64url can decode to: a buffer
 * of this size is always large enough for jwt_b64url_decode().
 */
size_t
jwt_b64url_decoded_size(size_t srclen)
{
	return (srclen / 4 * 3 + (srclen % 4) * 3 / 4);
}

/*
 * Decode the base64url text src (srclen bytes, not NUL-terminated) into
 * dst (dstsize bytes) and set *dstlen.  Strict, as JWS wants (RFC 7515
 * section 2): only the 64 characters of the URL-safe alphabet, no padding,
 * no white space, no length that leaves a lone character, and the unused
 * low bits of the last character must be zero, so that every byte string
 * has exactly one encoding.  Any process; 0, or -1 if src is not such an
 * encoding or dst is too small.
 */
int
jwt_b64url_decode(const char *src, size_t srclen, unsigned char *dst,
    size_t dstsize, size_t *dstlen)
{
	uint32_t	 acc = 0;
	size_t		 i, n = 0;
	int		 v, bits = 0;

	*dstlen = 0;
	if (srclen % 4 == 1)
		return (-1);
	if (jwt_b64url_decoded_size(srclen) > dstsize)
		return (-1);
	for (i = 0; i < srclen; i++) {
		if ((v = jwt_b64url_value((unsigned char)src[i])) == -1)
			return (-1);
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			dst[n++] = (acc >> bits) & 0xff;
		}
	}
	/* The 2 or 4 bits left over must be zero (canonical encoding). */
	if (bits > 0 && (acc & ((1U << bits) - 1)) != 0)
		return (-1);
	*dstlen = n;
	return (0);
}

/*
 * The name of an algorithm as the alg header spells it; "none" for
 * JWT_ALG_NONE.  Any process.
 */
const char *
jwt_alg_name(enum jwt_alg alg)
{
	size_t	 i;

	for (i = 0; i < JWT_NALGS; i++) {
		if (jwt_algs[i].ai_alg == alg)
			return (jwt_algs[i].ai_name);
	}
	return ("none");
}

/*
 * The algorithm whose alg header value is exactly name (case matters:
 * "none", "None" and "hs256" are all JWT_ALG_NONE).  Any process.
 */
enum jwt_alg
jwt_alg_byname(const char *name)
{
	size_t	 i;

	for (i = 0; i < JWT_NALGS; i++) {
		if (strcmp(jwt_algs[i].ai_name, name) == 0)
			return (jwt_algs[i].ai_alg);
	}
	return (JWT_ALG_NONE);
}

/*
 * The SHA-2 digest an algorithm signs with; NULL for EdDSA (which hashes
 * internally) and for JWT_ALG_NONE.  Any process.
 */
const EVP_MD *
jwt_alg_md(enum jwt_alg alg)
{
	size_t	 i;

	for (i = 0; i < JWT_NALGS; i++) {
		if (jwt_algs[i].ai_alg != alg)
			continue;
		switch (jwt_algs[i].ai_hashbits) {
		case 256:
			return (EVP_sha256());
		case 384:
			return (EVP_sha384());
		case 512:
			return (EVP_sha512());
		default:
			return (NULL);
		}
	}
	return (NULL);
}

/* The stable short name of an outcome, fit for a metrics label. */
const char *
jwt_error_reason(enum jwt_error e)
{
	switch (e) {
	case JWT_OK:
		return ("ok");
	case JWT_E_MALFORMED:
		return ("malformed");
	case JWT_E_HEADER:
		return ("forbidden_header");
	case JWT_E_ALG:
		return ("algorithm");
	case JWT_E_KEY:
		return ("unknown_key");
	case JWT_E_SIGNATURE:
		return ("signature");
	case JWT_E_CLAIM:
		return ("bad_claim");
	case JWT_E_EXPIRED:
		return ("expired");
	case JWT_E_NOT_YET:
		return ("not_yet_valid");
	case JWT_E_ISSUER:
		return ("issuer");
	case JWT_E_AUDIENCE:
		return ("audience");
	case JWT_E_INTERNAL:
		return ("internal");
	}
	return ("internal");
}

/*
 * The gateway error code for an outcome (the "code" of the JSON error
 * body): an expired token is "expired", a failure on our side is
 * "internal_error" (a 500, not the client's fault), and everything else
 * is "invalid_credentials"; NULL for JWT_OK.
 */
const char *
jwt_error_code(enum jwt_error e)
{
	switch (e) {
	case JWT_OK:
		return (NULL);
	case JWT_E_EXPIRED:
		return ("expired");
	case JWT_E_INTERNAL:
		return ("internal_error");
	default:
		return ("invalid_credentials");
	}
}

/*
 * Decode one base64url segment and parse it as a JSON object, refusing
 * duplicate members.  On failure *why is whydup for a duplicate member
 * and whybad for anything else that is not a JSON object.
 */
static enum jwt_error
jwt_segment_json(const char *seg, size_t seglen, json_t **objp,
    const char **why, const char *whydup, const char *whybad)
{
	unsigned char	*buf;
	json_error_t	 jerr;
	json_t		*obj;
	size_t		 len;

	*objp = NULL;
	if ((buf = malloc(jwt_b64url_decoded_size(seglen) + 1)) == NULL) {
		*why = "out of memory";
		return (JWT_E_INTERNAL);
	}
	if (jwt_b64url_decode(seg, seglen, buf, jwt_b64url_decoded_size(seglen),
	    &len) == -1) {
		free(buf);
		*why = "bad base64url";
		return (JWT_E_MALFORMED);
	}
	/* jansson checks UTF-8 and refuses \u0000 and trailing data. */
	obj = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, &jerr);
	free(buf);
	if (obj == NULL) {
		*why = json_error_code(&jerr) == json_error_duplicate_key ?
		    whydup : whybad;
		if (json_error_code(&jerr) == json_error_out_of_memory) {
			*why = "out of memory";
			return (JWT_E_INTERNAL);
		}
		return (JWT_E_MALFORMED);
	}
	if (!json_is_object(obj)) {
		json_decref(obj);
		*why = whybad;
		return (JWT_E_MALFORMED);
	}
	*objp = obj;
	return (JWT_OK);
}

/* The JOSE header rules: alg pinned later, no key sources, no crit. */
static enum jwt_error
jwt_header_check(struct jwt_token *t, const char **why)
{
	static const char *const forbidden[] = { "jwk", "jku", "x5u", "x5c" };
	json_t		*v;
	const char	*alg;
	size_t		 i;

	v = json_object_get(t->t_header, "alg");
	if (v == NULL || !json_is_string(v)) {
		*why = "alg missing or not a string";
		return (JWT_E_ALG);
	}
	alg = json_string_value(v);
	if ((t->t_alg = jwt_alg_byname(alg)) == JWT_ALG_NONE) {
		*why = strcasecmp(alg, "none") == 0 ? "alg none refused" :
		    "unsupported alg";
		return (JWT_E_ALG);
	}
	if ((v = json_object_get(t->t_header, "kid")) != NULL) {
		if (!json_is_string(v) ||
		    json_string_length(v) > JWT_KID_MAX) {
			*why = "kid not a string or too long";
			return (JWT_E_MALFORMED);
		}
		t->t_kid = json_string_value(v);
	}
	/* RFC 8725 section 3.10 and 2.x: the token never brings its key. */
	for (i = 0; i < sizeof(forbidden) / sizeof(forbidden[0]); i++) {
		if (json_object_get(t->t_header, forbidden[i]) != NULL) {
			*why = "key or key URL in the header";
			return (JWT_E_HEADER);
		}
	}
	/*
	 * RFC 7515 section 4.1.11: a recipient must refuse a crit naming an
	 * extension it does not understand, and we understand none; an
	 * empty or malformed crit is invalid in itself.
	 */
	if (json_object_get(t->t_header, "crit") != NULL) {
		*why = "crit extension not understood";
		return (JWT_E_HEADER);
	}
	if ((v = json_object_get(t->t_header, "typ")) != NULL &&
	    !json_is_string(v)) {
		*why = "typ not a string";
		return (JWT_E_MALFORMED);
	}
	return (JWT_OK);
}

/*
 * Parse token (len bytes, not NUL-terminated) as a compact JWS carrying
 * a JWT: exactly three base64url segments, at most JWT_TOKEN_MAX bytes,
 * a JSON object header with a supported alg and none of the forbidden
 * members, a JSON object payload, neither with duplicate members.  On
 * JWT_OK *tokp is set (jwt_token_free() it); otherwise *why is a literal
 * saying what is wrong.  Nothing in the token is trusted yet.  Workers;
 * no locks.
 */
enum jwt_error
jwt_token_parse(const char *token, size_t len, struct jwt_token **tokp,
    const char **why)
{
	struct jwt_token	*t;
	const char		*dot1, *dot2, *sig;
	enum jwt_error		 e;
	json_t			*v;
	size_t			 siglen;

	*tokp = NULL;
	*why = NULL;
	if (len > JWT_TOKEN_MAX) {
		*why = "token too large";
		return (JWT_E_MALFORMED);
	}
	if ((dot1 = memchr(token, '.', len)) == NULL ||
	    (dot2 = memchr(dot1 + 1, '.', len - (dot1 + 1 - token))) == NULL ||
	    memchr(dot2 + 1, '.', len - (dot2 + 1 - token)) != NULL) {
		*why = "not three segments";
		return (JWT_E_MALFORMED);
	}
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		*why = "out of memory";
		return (JWT_E_INTERNAL);
	}
	if ((e = jwt_segment_json(token, dot1 - token, &t->t_header, why,
	    "duplicate header member", "header is not a JSON object")) !=
	    JWT_OK)
		goto fail;
	if ((e = jwt_header_check(t, why)) != JWT_OK)
		goto fail;
	if ((e = jwt_segment_json(dot1 + 1, dot2 - dot1 - 1, &t->t_payload,
	    why, "duplicate claim", "payload is not a JSON object")) != JWT_OK)
		goto fail;
	if ((v = json_object_get(t->t_payload, "iss")) != NULL &&
	    json_is_string(v))
		t->t_iss = json_string_value(v);

	sig = dot2 + 1;
	siglen = len - (sig - token);
	if ((t->t_sig = malloc(jwt_b64url_decoded_size(siglen) + 1)) == NULL) {
		*why = "out of memory";
		e = JWT_E_INTERNAL;
		goto fail;
	}
	if (jwt_b64url_decode(sig, siglen, t->t_sig,
	    jwt_b64url_decoded_size(siglen), &t->t_siglen) == -1) {
		*why = "bad base64url";
		e = JWT_E_MALFORMED;
		goto fail;
	}
	t->t_inputlen = dot2 - token;
	if ((t->t_input = malloc(t->t_inputlen + 1)) == NULL) {
		*why = "out of memory";
		e = JWT_E_INTERNAL;
		goto fail;
	}
	memcpy(t->t_input, token, t->t_inputlen);
	t->t_input[t->t_inputlen] = '\0';
	*tokp = t;
	return (JWT_OK);

fail:
	jwt_token_free(t);
	return (e);
}

/* The unverified iss of a parsed token, or NULL; for choosing a policy. */
const char *
jwt_token_issuer(const struct jwt_token *t)
{
	return (t->t_iss);
}

/* The kid of a parsed token, or NULL. */
const char *
jwt_token_kid(const struct jwt_token *t)
{
	return (t->t_kid);
}

/* The alg of a parsed token (never JWT_ALG_NONE). */
enum jwt_alg
jwt_token_alg(const struct jwt_token *t)
{
	return (t->t_alg);
}

/* Release a parsed token; NULL is a no-op. */
void
jwt_token_free(struct jwt_token *t)
{
	if (t == NULL)
		return;
	json_decref(t->t_header);
	json_decref(t->t_payload);
	free(t->t_input);
	free(t->t_sig);
	free(t);
}

/* HS256/384/512: recompute the MAC and compare in constant time. */
static enum jwt_error
jwt_sig_hmac(const struct jwt_keyset *ks, const struct jwt_key *k,
    const struct jwt_token *t, const char **why)
{
	unsigned char	 mac[EVP_MAX_MD_SIZE];
	OSSL_PARAM	 params[2];
	EVP_MAC_CTX	*ctx;
	size_t		 maclen;
	int		 ok;

	if (ks->ks_hmac == NULL || (ctx = EVP_MAC_CTX_new(ks->ks_hmac)) ==
	    NULL) {
		*why = "HMAC unavailable";
		return (JWT_E_INTERNAL);
	}
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    (char *)EVP_MD_get0_name(jwt_alg_md(k->k_alg)), 0);
	params[1] = OSSL_PARAM_construct_end();
	ok = EVP_MAC_init(ctx, k->k_secret, k->k_secretlen, params) == 1 &&
	    EVP_MAC_update(ctx, (const unsigned char *)t->t_input,
	    t->t_inputlen) == 1 &&
	    EVP_MAC_final(ctx, mac, &maclen, sizeof(mac)) == 1;
	EVP_MAC_CTX_free(ctx);
	if (!ok) {
		ERR_clear_error();
		*why = "HMAC failed";
		return (JWT_E_INTERNAL);
	}
	/* The length is public (it follows from alg); the bytes are not. */
	ok = t->t_siglen == maclen &&
	    CRYPTO_memcmp(mac, t->t_sig, maclen) == 0;
	OPENSSL_cleanse(mac, sizeof(mac));
	if (!ok) {
		*why = "bad signature";
		return (JWT_E_SIGNATURE);
	}
	return (JWT_OK);
}

/*
 * Turn a JOSE ECDSA signature, r || s with each half n bytes (RFC 7518
 * section 3.4), into the DER ECDSA-Sig-Value OpenSSL verifies.  *der is
 * OPENSSL_malloc'd.  0 or -1.
 */
static int
jwt_sig_ecdsa_der(const unsigned char *sig, size_t n, unsigned char **der,
    int *derlen)
{
	ECDSA_SIG	*es;
	BIGNUM		*r, *s;

	*der = NULL;
	r = BN_bin2bn(sig, (int)n, NULL);
	s = BN_bin2bn(sig + n, (int)n, NULL);
	if (r == NULL || s == NULL || (es = ECDSA_SIG_new()) == NULL) {
		BN_free(r);
		BN_free(s);
		return (-1);
	}
	if (ECDSA_SIG_set0(es, r, s) != 1) {
		BN_free(r);
		BN_free(s);
		ECDSA_SIG_free(es);
		return (-1);
	}
	*derlen = i2d_ECDSA_SIG(es, der);
	ECDSA_SIG_free(es);
	if (*derlen <= 0)
		return (-1);
	return (0);
}

/* RS*, PS*, ES* and EdDSA through EVP_DigestVerify. */
static enum jwt_error
jwt_sig_pkey(const struct jwt_key *k, const struct jwt_token *t,
    const char **why)
{
	EVP_MD_CTX		*mctx;
	EVP_PKEY_CTX		*pctx = NULL;
	const unsigned char	*sig = t->t_sig;
	unsigned char		*der = NULL;
	size_t			 siglen = t->t_siglen, half = 0;
	int			 derlen, rc;

	switch (k->k_alg) {
	case JWT_ALG_ES256:
		half = 32;
		break;
	case JWT_ALG_ES384:
		half = 48;
		break;
	case JWT_ALG_ES512:
		half = 66;
		break;
	case JWT_ALG_EDDSA:
		if (siglen != 64) {
			*why = "bad signature length";
			return (JWT_E_SIGNATURE);
		}
		break;
	default:
		/* RSA: the signature is exactly the modulus long. */
		if (siglen != (size_t)EVP_PKEY_get_size(k->k_pkey)) {
			*why = "bad signature length";
			return (JWT_E_SIGNATURE);
		}
		break;
	}
	if (half != 0) {
		/* A DER signature, or any other length, is not JOSE's. */
		if (siglen != 2 * half) {
			*why = "bad signature length";
			return (JWT_E_SIGNATURE);
		}
		if (jwt_sig_ecdsa_der(t->t_sig, half, &der, &derlen) == -1) {
			ERR_clear_error();
			*why = "out of memory";
			return (JWT_E_INTERNAL);
		}
		sig = der;
		siglen = (size_t)derlen;
	}
	if ((mctx = EVP_MD_CTX_new()) == NULL) {
		OPENSSL_free(der);
		*why = "out of memory";
		return (JWT_E_INTERNAL);
	}
	rc = EVP_DigestVerifyInit(mctx, &pctx, jwt_alg_md(k->k_alg), NULL,
	    k->k_pkey);
	if (rc == 1 && (k->k_alg == JWT_ALG_PS256 ||
	    k->k_alg == JWT_ALG_PS384 || k->k_alg == JWT_ALG_PS512)) {
		/* RFC 7518 section 3.5: MGF1 with the hash, salt = hash. */
		if (EVP_PKEY_CTX_set_rsa_padding(pctx,
		    RSA_PKCS1_PSS_PADDING) != 1 ||
		    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx,
		    RSA_PSS_SALTLEN_DIGEST) != 1)
			rc = -1;
	}
	if (rc != 1) {
		EVP_MD_CTX_free(mctx);
		OPENSSL_free(der);
		ERR_clear_error();
		*why = "verification setup failed";
		return (JWT_E_INTERNAL);
	}
	rc = EVP_DigestVerify(mctx, sig, siglen,
	    (const unsigned char *)t->t_input, t->t_inputlen);
	EVP_MD_CTX_free(mctx);
	OPENSSL_free(der);
	if (rc != 1) {
		ERR_clear_error();
		*why = "bad signature";
		return (JWT_E_SIGNATURE);
	}
	return (JWT_OK);
}

/*
 * A NumericDate claim (RFC 7519 section 2): a JSON number of seconds,
 * possibly fractional.  *present says whether it is there.  Fractions
 * round towards the strict side: down for exp, up (ceil_up) for nbf and
 * iat.  Values beyond int64 saturate.
 */
static enum jwt_error
jwt_claim_time(json_t *payload, const char *name, int ceil_up, int *present,
    int64_t *val, const char **why)
{
	json_t	*v;
	double	 d;

	*present = 0;
	*val = 0;
	if ((v = json_object_get(payload, name)) == NULL)
		return (JWT_OK);
	if (json_is_integer(v))
		*val = (int64_t)json_integer_value(v);
	else if (json_is_real(v)) {
		d = json_real_value(v);
		if (!isfinite(d)) {
			*why = "time claim not finite";
			return (JWT_E_CLAIM);
		}
		d = ceil_up ? ceil(d) : floor(d);
		if (d >= 9.0e18)
			*val = INT64_MAX;
		else if (d <= -9.0e18)
			*val = INT64_MIN;
		else
			*val = (int64_t)d;
	} else {
		*why = "time claim not a number";
		return (JWT_E_CLAIM);
	}
	*present = 1;
	return (JWT_OK);
}

/* Non-zero if s holds no control characters (C0 or DEL). */
static int
jwt_string_clean(const char *s)
{
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			return (0);
	}
	return (1);
}

/* Copy an optional string claim into *out; a non-string is refused. */
static enum jwt_error
jwt_claim_string(json_t *payload, const char *name, char **out,
    const char **why)
{
	json_t	*v;

	if ((v = json_object_get(payload, name)) == NULL)
		return (JWT_OK);
	if (!json_is_string(v) || !jwt_string_clean(json_string_value(v))) {
		*why = "string claim of the wrong type or form";
		return (JWT_E_CLAIM);
	}
	if ((*out = strdup(json_string_value(v))) == NULL) {
		*why = "out of memory";
		return (JWT_E_INTERNAL);
	}
	return (JWT_OK);
}

/* aud (a string or an array of strings) must hold an expected audience. */
static enum jwt_error
jwt_audience_check(json_t *payload, const struct jwt_policy *p,
    const char **why)
{
	json_t		*aud, *v;
	size_t		 i, j, n;

	if ((aud = json_object_get(payload, "aud")) == NULL) {
		if (p->jp_naudiences == 0)
			return (JWT_OK);
		*why = "aud missing";
		return (JWT_E_AUDIENCE);
	}
	if (json_is_string(aud))
		n = 1;
	else if (json_is_array(aud))
		n = json_array_size(aud);
	else {
		*why = "aud not a string or array";
		return (JWT_E_CLAIM);
	}
	for (i = 0; i < n; i++) {
		v = json_is_array(aud) ? json_array_get(aud, i) : aud;
		if (!json_is_string(v)) {
			*why = "aud member not a string";
			return (JWT_E_CLAIM);
		}
	}
	if (p->jp_naudiences == 0)
		return (JWT_OK);
	for (i = 0; i < n; i++) {
		v = json_is_array(aud) ? json_array_get(aud, i) : aud;
		for (j = 0; j < p->jp_naudiences; j++) {
			if (strcmp(json_string_value(v),
			    p->jp_audiences[j]) == 0)
				return (JWT_OK);
		}
	}
	*why = "no expected audience in aud";
	return (JWT_E_AUDIENCE);
}

/* RFC 6749 section 3.3 scope-token characters. */
static int
jwt_scope_char(unsigned char c)
{
	return (c == 0x21 || (c >= 0x23 && c <= 0x5b) ||
	    (c >= 0x5d && c <= 0x7e));
}

/*
 * Split a space-separated scope string into r, copying each token to *bp
 * (which advances past the copy and its NUL).
 */
static enum jwt_error
jwt_scopes_split(const char *s, struct jwt_result *r, char **bp,
    const char **why)
{
	const char	*start;

	for (;;) {
		while (*s == ' ')
			s++;
		if (*s == '\0')
			return (JWT_OK);
		start = s;
		while (*s != '\0' && *s != ' ') {
			if (!jwt_scope_char((unsigned char)*s)) {
				*why = "bad character in a scope";
				return (JWT_E_CLAIM);
			}
			s++;
		}
		if (r->jr_nscopes == JWT_SCOPES_MAX) {
			*why = "too many scopes";
			return (JWT_E_CLAIM);
		}
		memcpy(*bp, start, s - start);
		(*bp)[s - start] = '\0';
		r->jr_scopes[r->jr_nscopes++] = *bp;
		*bp += s - start + 1;
	}
}

/*
 * Scopes from scope (a space-separated string, RFC 8693 and RFC 9068)
 * and scp (an array of strings or a string, as Okta and Azure AD issue);
 * a token carrying both gets the union.
 */
static enum jwt_error
jwt_scopes_collect(json_t *payload, struct jwt_result *r, const char **why)
{
	json_t		*scope, *scp, *v;
	enum jwt_error	 e;
	size_t		 total = 1, i;
	char		*bp;

	scope = json_object_get(payload, "scope");
	scp = json_object_get(payload, "scp");
	if (scope == NULL && scp == NULL)
		return (JWT_OK);
	if (scope != NULL) {
		if (!json_is_string(scope)) {
			*why = "scope not a string";
			return (JWT_E_CLAIM);
		}
		total += json_string_length(scope) + 1;
	}
	if (scp != NULL) {
		if (json_is_string(scp))
			total += json_string_length(scp) + 1;
		else if (json_is_array(scp)) {
			json_array_foreach(scp, i, v) {
				if (!json_is_string(v) ||
				    json_string_length(v) == 0 ||
				    strchr(json_string_value(v), ' ') != NULL) {
					*why = "scp member not a scope";
					return (JWT_E_CLAIM);
				}
				total += json_string_length(v) + 1;
			}
		} else {
			*why = "scp not a string or array";
			return (JWT_E_CLAIM);
		}
	}
	if ((r->jr_scopebuf = malloc(total)) == NULL) {
		*why = "out of memory";
		return (JWT_E_INTERNAL);
	}
	bp = r->jr_scopebuf;
	if (scope != NULL && (e = jwt_scopes_split(json_string_value(scope),
	    r, &bp, why)) != JWT_OK)
		return (e);
	if (scp != NULL && json_is_string(scp))
		return (jwt_scopes_split(json_string_value(scp), r, &bp, why));
	if (scp != NULL) {
		json_array_foreach(scp, i, v) {
			if ((e = jwt_scopes_split(json_string_value(v), r, &bp,
			    why)) != JWT_OK)
				return (e);
		}
	}
	return (JWT_OK);
}

/* The registered claims against the policy at time now (seconds). */
static enum jwt_error
jwt_claims_check(const struct jwt_token *t, const struct jwt_policy *p,
    int64_t now, struct jwt_result *r)
{
	json_t		*pl = t->t_payload, *v;
	enum jwt_error	 e;
	int64_t		 leeway, exp, nbf, iat;
	int		 has_exp, has_nbf, has_iat;

	leeway = p->jp_leeway > 0 ? p->jp_leeway : 0;
	if ((e = jwt_claim_time(pl, "exp", 0, &has_exp, &exp, &r->jr_why)) !=
	    JWT_OK ||
	    (e = jwt_claim_time(pl, "nbf", 1, &has_nbf, &nbf, &r->jr_why)) !=
	    JWT_OK ||
	    (e = jwt_claim_time(pl, "iat", 1, &has_iat, &iat, &r->jr_why)) !=
	    JWT_OK)
		return (e);
	if (!has_exp && !p->jp_allow_no_exp) {
		r->jr_why = "exp missing";
		return (JWT_E_CLAIM);
	}
	/* Written so that no sum can overflow for any claim value. */
	if (has_exp && now - leeway >= exp) {
		r->jr_why = "token expired";
		return (JWT_E_EXPIRED);
	}
	if (has_nbf && nbf > now + leeway) {
		r->jr_why = "token not valid yet (nbf)";
		return (JWT_E_NOT_YET);
	}
	if (has_iat && iat > now + leeway) {
		r->jr_why = "token issued in the future (iat)";
		return (JWT_E_NOT_YET);
	}
	r->jr_exp = has_exp ? exp : 0;
	r->jr_iat = has_iat ? iat : 0;

	if ((v = json_object_get(pl, "iss")) != NULL && !json_is_string(v)) {
		r->jr_why = "iss not a string";
		return (JWT_E_CLAIM);
	}
	if (p->jp_issuer != NULL && (v == NULL ||
	    strcmp(json_string_value(v), p->jp_issuer) != 0)) {
		r->jr_why = v == NULL ? "iss missing" : "unexpected issuer";
		return (JWT_E_ISSUER);
	}
	if ((e = jwt_audience_check(pl, p, &r->jr_why)) != JWT_OK)
		return (e);

	if ((e = jwt_claim_string(pl, "iss", &r->jr_issuer, &r->jr_why)) !=
	    JWT_OK ||
	    (e = jwt_claim_string(pl, "sub", &r->jr_subject, &r->jr_why)) !=
	    JWT_OK ||
	    (e = jwt_claim_string(pl, "jti", &r->jr_jti, &r->jr_why)) !=
	    JWT_OK)
		return (e);
	if (json_object_get(pl, "client_id") != NULL)
		e = jwt_claim_string(pl, "client_id", &r->jr_client_id,
		    &r->jr_why);
	else
		e = jwt_claim_string(pl, "azp", &r->jr_client_id, &r->jr_why);
	if (e != JWT_OK)
		return (e);
	return (jwt_scopes_collect(pl, r, &r->jr_why));
}

/*
 * Verify a parsed token against the key set ks and the policy p at time
 * now (seconds since the epoch): select the key (by kid, or without a kid
 * the set's only key for the token's alg), insist that the token's alg is
 * the key's pinned one, check the signature, then the claims.  Fills r
 * (jwt_result_init() it first, jwt_result_fini() it after) and returns
 * r->jr_error.  On failure r->jr_why says why and no identity is kept.
 * Workers; no locks; never logs.
 */
enum jwt_error
jwt_token_verify(const struct jwt_token *t, const struct jwt_keyset *ks,
    const struct jwt_policy *p, int64_t now, struct jwt_result *r)
{
	const struct jwt_key	*k;
	enum jwt_error		 e;

	r->jr_alg = t->t_alg;
	if ((k = jwt_keyset_find(ks, t->t_kid, t->t_alg, &e)) == NULL) {
		r->jr_why = e == JWT_E_ALG ? "alg is not the key's" :
		    "no key for the token";
		goto fail;
	}
	if (k->k_alg == JWT_ALG_HS256 || k->k_alg == JWT_ALG_HS384 ||
	    k->k_alg == JWT_ALG_HS512)
		e = jwt_sig_hmac(ks, k, t, &r->jr_why);
	else
		e = jwt_sig_pkey(k, t, &r->jr_why);
	if (e != JWT_OK)
		goto fail;
	if ((e = jwt_claims_check(t, p, now, r)) != JWT_OK)
		goto fail;
	if (k->k_kid != NULL && (r->jr_kid = strdup(k->k_kid)) == NULL) {
		r->jr_why = "out of memory";
		e = JWT_E_INTERNAL;
		goto fail;
	}
	r->jr_error = JWT_OK;
	return (JWT_OK);

fail:
	jwt_result_fini(r);
	r->jr_alg = t->t_alg;
	r->jr_error = e;
	return (e);
}

/*
 * Parse and verify token (len bytes) in one call; see jwt_token_parse()
 * and jwt_token_verify().  r must have been through jwt_result_init().
 * Workers.
 */
enum jwt_error
jwt_verify(const char *token, size_t len, const struct jwt_keyset *ks,
    const struct jwt_policy *p, int64_t now, struct jwt_result *r)
{
	struct jwt_token	*t;
	enum jwt_error		 e;

	if ((e = jwt_token_parse(token, len, &t, &r->jr_why)) != JWT_OK) {
		r->jr_error = e;
		return (e);
	}
	e = jwt_token_verify(t, ks, p, now, r);
	jwt_token_free(t);
	return (e);
}

/* Make r empty (JWT_E_INTERNAL until verified). */
void
jwt_result_init(struct jwt_result *r)
{
	memset(r, 0, sizeof(*r));
	r->jr_error = JWT_E_INTERNAL;
}

/* Release what r holds and make it empty again, keeping jr_why. */
void
jwt_result_fini(struct jwt_result *r)
{
	const char	*why = r->jr_why;
	enum jwt_error	 e = r->jr_error;

	free(r->jr_issuer);
	free(r->jr_subject);
	free(r->jr_client_id);
	free(r->jr_jti);
	free(r->jr_kid);
	free(r->jr_scopebuf);
	memset(r, 0, sizeof(*r));
	r->jr_why = why;
	r->jr_error = e;
}

/*
 * Any-of scope check, as WSO2 does for a resource: NULL if n is 0 or the
 * token carries at least one of the n required scopes, otherwise the
 * first required scope, to name in the 403 message.  Any process.
 */
const char *
jwt_scope_check(const struct jwt_result *r, const char *const *required,
    size_t n)
{
	size_t	 i, j;

	if (n == 0)
		return (NULL);
	for (i = 0; i < n; i++) {
		for (j = 0; j < r->jr_nscopes; j++) {
			if (strcmp(required[i], r->jr_scopes[j]) == 0)
				return (NULL);
		}
	}
	return (required[0]);
}
