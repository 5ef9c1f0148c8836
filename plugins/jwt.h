/*
 * jwt.h: JSON Web Token verification (RFC 7519, compact JWS of RFC 7515,
 * algorithms of RFC 7518 and RFC 8037) following the rules of RFC 8725.
 *
 * The trust model.  Keys come only from the gateway's configuration: a
 * struct jwt_keyset is built in the master from JWKS documents, PEM public
 * keys or certificates, and HMAC secrets (jwt-key.c), and every key in it
 * is pinned to exactly one algorithm.  A token names the key (kid) and the
 * algorithm (alg) it claims, and both must agree with the set: a token
 * whose alg differs from its key's pinned alg is refused before any
 * cryptography runs, which rules out algorithm substitution such as an
 * HS256 MAC keyed with an RSA public key.  Keys embedded in or referenced
 * by a token (jwk, jku, x5u, x5c) are refused, never fetched or used, and
 * so is every crit extension, since none is understood.
 *
 * Verification runs in workers (jwt.c): jwt_token_parse() checks the
 * structure, then jwt_token_verify() selects the key, checks the signature
 * with OpenSSL EVP and validates the claims against a struct jwt_policy.
 * Splitting the two lets a caller holding several issuers read the
 * unverified iss first (jwt_token_issuer()) to choose the policy and key
 * set; nothing read before jwt_token_verify() returns JWT_OK is trusted.
 *
 * Outcomes are a stable enum (enum jwt_error) with a short reason name,
 * fit for a metrics label, and a gateway error code; neither ever carries
 * token or key material.
 */
#ifndef MGW_JWT_H
#define MGW_JWT_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#define JWT_TOKEN_MAX	16384	/* bytes of a compact token, at most */
#define JWT_SCOPES_MAX	64	/* scopes a token may carry, at most */
#define JWT_KID_MAX	256	/* bytes of a key id, at most */

/* Signature algorithms (RFC 7518 section 3, RFC 8037 for EdDSA). */
enum jwt_alg {
	JWT_ALG_NONE = 0,	/* no algorithm: never accepted */
	JWT_ALG_HS256,
	JWT_ALG_HS384,
	JWT_ALG_HS512,
	JWT_ALG_RS256,
	JWT_ALG_RS384,
	JWT_ALG_RS512,
	JWT_ALG_PS256,
	JWT_ALG_PS384,
	JWT_ALG_PS512,
	JWT_ALG_ES256,
	JWT_ALG_ES384,
	JWT_ALG_ES512,
	JWT_ALG_EDDSA
};

/*
 * Why a token was refused.  The values are stable: callers map them to
 * HTTP answers and metrics labels with jwt_error_reason() and
 * jwt_error_code().
 */
enum jwt_error {
	JWT_OK = 0,
	JWT_E_MALFORMED,	/* not a compact JWS, bad base64url or JSON,
				   duplicate members, too large */
	JWT_E_HEADER,		/* jwk, jku, x5u, x5c or crit in the header */
	JWT_E_ALG,		/* alg missing, none, unknown, or not the
				   key's pinned algorithm */
	JWT_E_KEY,		/* no key for the kid (or, without a kid, not
				   exactly one for the alg) */
	JWT_E_SIGNATURE,	/* the signature does not verify */
	JWT_E_CLAIM,		/* a claim of the wrong type or form, exp
				   missing, too many scopes */
	JWT_E_EXPIRED,		/* exp has passed (beyond the leeway) */
	JWT_E_NOT_YET,		/* nbf or iat is in the future */
	JWT_E_ISSUER,		/* iss missing or not the expected one */
	JWT_E_AUDIENCE,		/* aud missing or none expected */
	JWT_E_INTERNAL		/* out of memory, OpenSSL failure */
};

/*
 * What a token must satisfy besides its signature.  Owned by the caller;
 * read only during jwt_token_verify().
 */
struct jwt_policy {
	const char		 *jp_issuer;	/* required iss; NULL: any */
	const char *const	 *jp_audiences;	/* any one must be in aud */
	size_t			  jp_naudiences; /* 0: aud not checked */
	int64_t			  jp_leeway;	/* seconds of clock skew */
	int			  jp_allow_no_exp; /* exp is optional */
};

/*
 * A verified token's identity, filled by jwt_token_verify().  Strings are
 * NUL-terminated, heap-allocated and released by jwt_result_fini(); NULL
 * when the claim is absent.  Every string here has been checked to hold
 * no control characters, so it may be copied into a header or a log line.
 */
struct jwt_result {
	enum jwt_error	 jr_error;
	const char	*jr_why;	/* a literal refining jr_error */
	enum jwt_alg	 jr_alg;
	int64_t		 jr_exp;	/* seconds since the epoch; 0: none */
	int64_t		 jr_iat;	/* seconds since the epoch; 0: none */
	char		*jr_issuer;
	char		*jr_subject;	/* sub */
	char		*jr_client_id;	/* client_id, else azp */
	char		*jr_jti;
	char		*jr_kid;	/* the key that verified the token */
	char		*jr_scopebuf;	/* the scopes, each NUL-terminated */
	const char	*jr_scopes[JWT_SCOPES_MAX]; /* into jr_scopebuf */
	size_t		 jr_nscopes;
};

struct jwt_token;

/*
 * One key of a set: its id, its pinned algorithm, and either an OpenSSL
 * public key or an HMAC secret.  Private to jwt.c and jwt-key.c.
 */
struct jwt_key {
	char		*k_kid;		/* NULL: the key has none */
	enum jwt_alg	 k_alg;
	EVP_PKEY	*k_pkey;	/* RSA, EC, Ed25519; else NULL */
	unsigned char	*k_secret;	/* HMAC; wiped when freed */
	size_t		 k_secretlen;	/* bytes */
};

/* The keys of one issuer, built in the master and read-only after. */
struct jwt_keyset {
	struct jwt_key	*ks_keys;
	size_t		 ks_nkeys;
	EVP_MAC		*ks_hmac;	/* fetched with the first secret */
};

/* jwt.c */
int		 jwt_b64url_decode(const char *, size_t, unsigned char *,
		    size_t, size_t *);
size_t		 jwt_b64url_decoded_size(size_t);
enum jwt_error	 jwt_token_parse(const char *, size_t, struct jwt_token **,
		    const char **);
const char	*jwt_token_issuer(const struct jwt_token *);
const char	*jwt_token_kid(const struct jwt_token *);
enum jwt_alg	 jwt_token_alg(const struct jwt_token *);
void		 jwt_token_free(struct jwt_token *);
enum jwt_error	 jwt_token_verify(const struct jwt_token *,
		    const struct jwt_keyset *, const struct jwt_policy *,
		    int64_t, struct jwt_result *);
enum jwt_error	 jwt_verify(const char *, size_t, const struct jwt_keyset *,
		    const struct jwt_policy *, int64_t, struct jwt_result *);
void		 jwt_result_init(struct jwt_result *);
void		 jwt_result_fini(struct jwt_result *);
const char	*jwt_scope_check(const struct jwt_result *,
		    const char *const *, size_t);
const char	*jwt_error_reason(enum jwt_error);
const char	*jwt_error_code(enum jwt_error);
const char	*jwt_alg_name(enum jwt_alg);
enum jwt_alg	 jwt_alg_byname(const char *);
const EVP_MD	*jwt_alg_md(enum jwt_alg);

/* jwt-key.c */
struct jwt_keyset *jwt_keyset_new(void);
void		 jwt_keyset_free(struct jwt_keyset *);
int		 jwt_keyset_add_jwks(struct jwt_keyset *, const char *,
		    size_t, enum jwt_alg, const char *, char **);
int		 jwt_keyset_add_pem(struct jwt_keyset *, const char *, size_t,
		    enum jwt_alg, const char *, const char *, char **);
int		 jwt_keyset_add_secret(struct jwt_keyset *,
		    const unsigned char *, size_t, enum jwt_alg, const char *,
		    const char *, char **);
size_t		 jwt_keyset_count(const struct jwt_keyset *);
const struct jwt_key *jwt_keyset_find(const struct jwt_keyset *,
		    const char *, enum jwt_alg, enum jwt_error *);

#endif /* MGW_JWT_H */
