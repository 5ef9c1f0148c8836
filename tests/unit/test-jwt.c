/*
 * test-jwt.c: the JWT module without a network or a second library:
 * strict base64url (RFC 4648 section 10 vectors in the URL alphabet, and
 * the refusals JWS needs), the compact structure and header rules, key
 * selection and algorithm pinning, the claims table (exp, nbf and iat
 * with leeway, iss, aud as a string or an array, types), scopes and the
 * any-of check, and the errors of JWKS, PEM and secret loading.
 *
 * Tokens here are signed with HS256 through OpenSSL's HMAC and encoded
 * with OpenSSL's base64 (translated to the URL alphabet), so the module's
 * own decoder is not used to build its inputs.  tests/jwt-mint.py and
 * test-jwt-cases.c cover every algorithm against an independent minter.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include "lib.h"
#include "jwt.h"
#include "tests.h"

#define TEST_NOW	1700000000	/* the tests' clock, seconds */
#define TEST_ISS	"https://idp.test"
#define TEST_SECRET	"0123456789abcdef0123456789abcdef"	/* 32 bytes */
#define TEST_BASE	"{\"iss\":\"" TEST_ISS "\",\"aud\":\"api://mgw\","
#define TEST_SECRET384	"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijkl"


static char	*test_b64url(const unsigned char *, size_t);
static char	*test_token(const char *, const char *, const char *);
static enum jwt_error test_verify(const char *, const struct jwt_policy *,
		    struct jwt_result *);
static struct jwt_keyset *test_keyset(void);
static void	 test_policy(struct jwt_policy *);
static char	*test_rsa_jwk(int, const char *);
static char	*test_ec_xy(const char *, char **);
static void	 test_cat(char *, const char *, size_t);

static void	 test_b64url_vectors(void);
static void	 test_b64url_refusals(void);
static void	 test_structure(void);
static void	 test_header(void);
static void	 test_selection(void);
static void	 test_claims(void);
static void	 test_identity(void);
static void	 test_scopes(void);
static void	 test_scope_check(void);
static void	 test_jwks_errors(void);
static void	 test_jwks_good(void);
static void	 test_ec_short(void);
static void	 test_pem(void);
static void	 test_secret(void);
static void	 test_reasons(void);

static const char *const test_audiences[] = { "api://mgw", "api://other" };

/* Append s to the string in buf (size bytes), truncating (strlcat). */
static void
test_cat(char *buf, const char *s, size_t size)
{
	size_t	 len = strlen(buf);

	snprintf(buf + len, size - len, "%s", s);
}

/* base64url without padding, through OpenSSL's encoder. */
static char *
test_b64url(const unsigned char *buf, size_t len)
{
	char	*out, *p;
	int	 n;

	out = xmalloc(4 * (len / 3 + 1) + 1);
	n = EVP_EncodeBlock((unsigned char *)out, buf, (int)len);
	CU_ASSERT_FATAL(n >= 0);
	out[n] = '\0';
	for (p = out; *p != '\0'; p++) {
		if (*p == '+')
			*p = '-';
		else if (*p == '/')
			*p = '_';
		else if (*p == '=') {
			*p = '\0';
			break;
		}
	}
	return (out);
}

/*
 * header.payload, HS256-signed with secret (NULL: TEST_SECRET).  The JSON
 * texts are used as given, so they may be wrong on purpose.
 */
static char *
test_token(const char *header, const char *payload, const char *secret)
{
	unsigned char	 mac[EVP_MAX_MD_SIZE];
	unsigned int	 maclen;
	char		*h, *p, *s, *input, *tok;

	if (secret == NULL)
		secret = TEST_SECRET;
	h = test_b64url((const unsigned char *)header, strlen(header));
	p = test_b64url((const unsigned char *)payload, strlen(payload));
	xasprintf(&input, "%s.%s", h, p);
	CU_ASSERT_FATAL(HMAC(EVP_sha256(), secret, (int)strlen(secret),
	    (unsigned char *)input, strlen(input), mac, &maclen) != NULL);
	s = test_b64url(mac, maclen);
	xasprintf(&tok, "%s.%s", input, s);
	free(h);
	free(p);
	free(s);
	free(input);
	return (tok);
}

/* The default key set: the HS256 secret as "hs", and a second secret. */
static struct jwt_keyset *
test_keyset(void)
{
	struct jwt_keyset	*ks;
	char			*cause = NULL;

	ks = jwt_keyset_new();
	CU_ASSERT_FATAL(jwt_keyset_add_secret(ks,
	    (const unsigned char *)TEST_SECRET, strlen(TEST_SECRET),
	    JWT_ALG_HS256, "hs", "test", &cause) == 0);
	CU_ASSERT_FATAL(jwt_keyset_add_secret(ks,
	    (const unsigned char *)TEST_SECRET384, strlen(TEST_SECRET384),
	    JWT_ALG_HS384, "hs384", "test", &cause) == 0);
	CU_ASSERT_PTR_NULL(cause);
	return (ks);
}

static void
test_policy(struct jwt_policy *p)
{
	memset(p, 0, sizeof(*p));
	p->jp_issuer = TEST_ISS;
	p->jp_audiences = test_audiences;
	p->jp_naudiences = 2;
	p->jp_leeway = 30;
}

/* Verify tok with the default key set at TEST_NOW. */
static enum jwt_error
test_verify(const char *tok, const struct jwt_policy *p,
    struct jwt_result *r)
{
	struct jwt_keyset	*ks;
	struct jwt_policy	 dp;
	enum jwt_error		 e;

	if (p == NULL) {
		test_policy(&dp);
		p = &dp;
	}
	ks = test_keyset();
	jwt_result_init(r);
	e = jwt_verify(tok, strlen(tok), ks, p, TEST_NOW, r);
	CU_ASSERT_EQUAL(e, r->jr_error);
	jwt_keyset_free(ks);
	return (e);
}

static void
test_b64url_vectors(void)
{
	static const struct {
		const char	*plain;
		const char	*enc;
	} v[] = {
		{ "", "" }, { "f", "Zg" }, { "fo", "Zm8" }, { "foo", "Zm9v" },
		{ "foob", "Zm9vYg" }, { "fooba", "Zm9vYmE" },
		{ "foobar", "Zm9vYmFy" },
		{ "\xfb\xff", "-_8" }, { "\xfb\xef\xbe", "----" },
		{ "\xff\xff\xff", "____" },
	};
	unsigned char	 buf[16];
	size_t		 i, len;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		CU_ASSERT_EQUAL_FATAL(jwt_b64url_decode(v[i].enc,
		    strlen(v[i].enc), buf, sizeof(buf), &len), 0);
		CU_ASSERT_EQUAL(len, strlen(v[i].plain));
		CU_ASSERT(memcmp(buf, v[i].plain, len) == 0);
		CU_ASSERT(jwt_b64url_decoded_size(strlen(v[i].enc)) >= len);
	}
}

static void
test_b64url_refusals(void)
{
	static const char *const bad[] = {
		"Zg==", "Zg=", "Zm9v=", "Zm8=",	/* padding */
		"Zm+v", "Zm/v", "+/8",		/* the other alphabet */
		"Z", "Zm9vY",			/* a lone last character */
		"Zh", "Zm9", "Zm9vYh",		/* non-zero trailing bits */
		"Zm 9v", "Zm9v\n", " Zm9v", "Zm.v", "Zm\xc3\xa9v",
	};
	unsigned char	 buf[16];
	size_t		 i, len;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CU_ASSERT_EQUAL(jwt_b64url_decode(bad[i], strlen(bad[i]), buf,
		    sizeof(buf), &len), -1);
	/* A NUL inside the text, and a buffer too small. */
	CU_ASSERT_EQUAL(jwt_b64url_decode("Zm\0v", 4, buf, sizeof(buf), &len),
	    -1);
	CU_ASSERT_EQUAL(jwt_b64url_decode("Zm9vYmFy", 8, buf, 5, &len), -1);
	CU_ASSERT_EQUAL(jwt_b64url_decode("Zm9vYmFy", 8, buf, 6, &len), 0);
}

static void
test_structure(void)
{
	static const char *const bad[] = {
		"", ".", "..", "...", "a.b", "a.b.c.d", "a..c",
		"eyJhbGciOiJIUzI1NiJ9.e30", "eyJhbGciOiJIUzI1NiJ9.e30.x.y",
		"eyJhbGciOiJIUzI1NiJ9=.e30.", "eyJhbGciOiJIUzI1NiJ9.e30=.",
	};
	struct jwt_result	 r;
	char			*big, *tok;
	size_t			 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CU_ASSERT_EQUAL(test_verify(bad[i], NULL, &r),
		    JWT_E_MALFORMED);
		CU_ASSERT_PTR_NOT_NULL(r.jr_why);
	}

	/* Header and payload must be JSON objects, without duplicates. */
	tok = test_token("[\"alg\"]", "{}", NULL);
	CU_ASSERT_EQUAL(test_verify(tok, NULL, &r), JWT_E_MALFORMED);
	free(tok);
	tok = test_token("{\"alg\":\"HS256\"}", "\"sub\"", NULL);
	CU_ASSERT_EQUAL(test_verify(tok, NULL, &r), JWT_E_MALFORMED);
	free(tok);
	tok = test_token("{\"alg\":\"HS256\"}", "{\"exp\":1}x", NULL);
	CU_ASSERT_EQUAL(test_verify(tok, NULL, &r), JWT_E_MALFORMED);
	free(tok);
	tok = test_token("{\"alg\":\"HS256\",\"alg\":\"HS256\"}", "{}", NULL);
	CU_ASSERT_EQUAL(test_verify(tok, NULL, &r), JWT_E_MALFORMED);
	CU_ASSERT_STRING_EQUAL(r.jr_why, "duplicate header member");
	free(tok);
	tok = test_token("{\"alg\":\"HS256\"}",
	    "{\"exp\":1700000100,\"exp\":1800000000}", NULL);
	CU_ASSERT_EQUAL(test_verify(tok, NULL, &r), JWT_E_MALFORMED);
	CU_ASSERT_STRING_EQUAL(r.jr_why, "duplicate claim");
	free(tok);
	tok = test_token("{\"alg\":\"HS256\",\"x\":\"\xff\"}", "{}", NULL);
	CU_ASSERT_EQUAL(test_verify(tok, NULL, &r), JWT_E_MALFORMED);
	free(tok);
	tok = test_token("{\"alg\":\"HS256\",\"x\":\"a\\u0000b\"}", "{}",
	    NULL);
	CU_ASSERT_EQUAL(test_verify(tok, NULL, &r), JWT_E_MALFORMED);
	free(tok);

	/* One byte over the limit is refused before anything is decoded. */
	big = xmalloc(JWT_TOKEN_MAX + 2);
	memset(big, 'A', JWT_TOKEN_MAX + 1);
	big[10] = '.';
	big[20] = '.';
	big[JWT_TOKEN_MAX + 1] = '\0';
	CU_ASSERT_EQUAL(test_verify(big, NULL, &r), JWT_E_MALFORMED);
	CU_ASSERT_STRING_EQUAL(r.jr_why, "token too large");
	free(big);
}

static void
test_header(void)
{
	static const struct {
		const char	*header;
		enum jwt_error	 expect;
	} v[] = {
		{ "{}", JWT_E_ALG },
		{ "{\"alg\":null}", JWT_E_ALG },
		{ "{\"alg\":256}", JWT_E_ALG },
		{ "{\"alg\":\"none\"}", JWT_E_ALG },
		{ "{\"alg\":\"None\"}", JWT_E_ALG },
		{ "{\"alg\":\"NONE\"}", JWT_E_ALG },
		{ "{\"alg\":\"hs256\"}", JWT_E_ALG },
		{ "{\"alg\":\"HS1\"}", JWT_E_ALG },
		{ "{\"alg\":\"HS256\",\"kid\":7}", JWT_E_MALFORMED },
		{ "{\"alg\":\"HS256\",\"typ\":1}", JWT_E_MALFORMED },
		{ "{\"alg\":\"HS256\",\"jwk\":{\"kty\":\"oct\"}}",
		    JWT_E_HEADER },
		{ "{\"alg\":\"HS256\",\"jku\":\"https://x/\"}", JWT_E_HEADER },
		{ "{\"alg\":\"HS256\",\"x5u\":\"https://x/\"}", JWT_E_HEADER },
		{ "{\"alg\":\"HS256\",\"x5c\":[\"MIIB\"]}", JWT_E_HEADER },
		{ "{\"alg\":\"HS256\",\"crit\":[\"exp\"],\"exp\":1}",
		    JWT_E_HEADER },
		{ "{\"alg\":\"HS256\",\"crit\":[]}", JWT_E_HEADER },
		{ "{\"alg\":\"HS256\",\"kid\":\"hs\",\"typ\":\"JWT\"}",
		    JWT_OK },
	};
	struct jwt_result	 r;
	char			*tok;
	size_t			 i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		tok = test_token(v[i].header,
		    TEST_BASE ""
		    "\"exp\":1700000100}", NULL);
		if (test_verify(tok, NULL, &r) != v[i].expect)
			printf("\n  header %s: %s (%s)\n", v[i].header,
			    jwt_error_reason(r.jr_error), r.jr_why);
		CU_ASSERT_EQUAL(r.jr_error, v[i].expect);
		jwt_result_fini(&r);
		free(tok);
	}
}

static void
test_selection(void)
{
	static const char *const pl =
	    TEST_BASE "\"exp\":1700000100}";
	struct jwt_keyset	*ks;
	struct jwt_policy	 p;
	struct jwt_result	 r;
	char			*tok, *cause = NULL;

	/* kid names a key pinned to another algorithm. */
	tok = test_token("{\"alg\":\"HS256\",\"kid\":\"hs384\"}", pl, NULL);
	CU_ASSERT_EQUAL(test_verify(tok, NULL, &r), JWT_E_ALG);
	free(tok);
	tok = test_token("{\"alg\":\"HS256\",\"kid\":\"nope\"}", pl, NULL);
	CU_ASSERT_EQUAL(test_verify(tok, NULL, &r), JWT_E_KEY);
	free(tok);
	/* No kid: the only HS256 key is taken. */
	tok = test_token("{\"alg\":\"HS256\"}", pl, NULL);
	CU_ASSERT_EQUAL(test_verify(tok, NULL, &r), JWT_OK);
	CU_ASSERT_STRING_EQUAL(r.jr_kid, "hs");
	CU_ASSERT_EQUAL(r.jr_alg, JWT_ALG_HS256);
	jwt_result_fini(&r);
	free(tok);
	/* A wrong secret, and a stripped or truncated signature. */
	tok = test_token("{\"alg\":\"HS256\",\"kid\":\"hs\"}", pl,
	    "another secret, long enough to be one!!");
	CU_ASSERT_EQUAL(test_verify(tok, NULL, &r), JWT_E_SIGNATURE);
	tok[strlen(tok) - 3] = '\0';	/* 43 characters to 40 */
	CU_ASSERT_EQUAL(test_verify(tok, NULL, &r), JWT_E_SIGNATURE);
	strrchr(tok, '.')[1] = '\0';
	CU_ASSERT_EQUAL(test_verify(tok, NULL, &r), JWT_E_SIGNATURE);
	free(tok);

	/* Two HS256 keys and no kid: ambiguous, refused. */
	ks = test_keyset();
	CU_ASSERT_FATAL(jwt_keyset_add_secret(ks, (const unsigned char *)
	    "zyxwvutsrqponmlkjihgfedcba9876543210", 36, JWT_ALG_HS256, NULL,
	    "test", &cause) == 0);
	tok = test_token("{\"alg\":\"HS256\"}", pl, NULL);
	test_policy(&p);
	jwt_result_init(&r);
	CU_ASSERT_EQUAL(jwt_verify(tok, strlen(tok), ks, &p, TEST_NOW, &r),
	    JWT_E_KEY);
	free(tok);
	/* With its kid the same token is fine. */
	tok = test_token("{\"alg\":\"HS256\",\"kid\":\"hs\"}", pl, NULL);
	jwt_result_init(&r);
	CU_ASSERT_EQUAL(jwt_verify(tok, strlen(tok), ks, &p, TEST_NOW, &r),
	    JWT_OK);
	jwt_result_fini(&r);
	free(tok);
	jwt_keyset_free(ks);
}

static void
test_claims(void)
{
	static const struct {
		const char	*payload;
		int64_t		 leeway;
		int		 allow_no_exp;
		enum jwt_error	 expect;
	} v[] = {
#define C(x)	TEST_BASE "" x "}"
		{ C("\"exp\":1700000001"), 0, 0, JWT_OK },
		{ C("\"exp\":1700000000"), 0, 0, JWT_E_EXPIRED },
		{ C("\"exp\":1699999990"), 0, 0, JWT_E_EXPIRED },
		{ C("\"exp\":1699999990"), 30, 0, JWT_OK },
		{ C("\"exp\":1699999970"), 30, 0, JWT_E_EXPIRED },
		{ C("\"exp\":1700000000.5"), 0, 0, JWT_E_EXPIRED },
		{ C("\"exp\":1700000001.5"), 0, 0, JWT_OK },
		{ C("\"exp\":1e300"), 0, 0, JWT_OK },
		{ C("\"exp\":-1e300"), 30, 0, JWT_E_EXPIRED },
		{ C("\"exp\":9223372036854775807"), 30, 0, JWT_OK },
		{ C("\"exp\":-9223372036854775807"), 30, 0, JWT_E_EXPIRED },
		{ C("\"exp\":\"1800000000\""), 0, 0, JWT_E_CLAIM },
		{ C("\"exp\":true"), 0, 0, JWT_E_CLAIM },
		{ C("\"exp\":null"), 0, 0, JWT_E_CLAIM },
		{ C("\"exp\":[1800000000]"), 0, 0, JWT_E_CLAIM },
		{ C("\"sub\":\"x\""), 0, 0, JWT_E_CLAIM },
		{ C("\"sub\":\"x\""), 0, 1, JWT_OK },
		{ C("\"exp\":\"x\""), 0, 1, JWT_E_CLAIM },
		{ C("\"exp\":1800000000,\"nbf\":1700000000"), 0, 0, JWT_OK },
		{ C("\"exp\":1800000000,\"nbf\":1700000001"), 0, 0,
		    JWT_E_NOT_YET },
		{ C("\"exp\":1800000000,\"nbf\":1700000030"), 30, 0, JWT_OK },
		{ C("\"exp\":1800000000,\"nbf\":1700000031"), 30, 0,
		    JWT_E_NOT_YET },
		{ C("\"exp\":1800000000,\"nbf\":1700000000.2"), 0, 0,
		    JWT_E_NOT_YET },
		{ C("\"exp\":1800000000,\"nbf\":\"0\""), 0, 0, JWT_E_CLAIM },
		{ C("\"exp\":1800000000,\"iat\":1700000000"), 0, 0, JWT_OK },
		{ C("\"exp\":1800000000,\"iat\":1700000030"), 30, 0, JWT_OK },
		{ C("\"exp\":1800000000,\"iat\":1700000031"), 30, 0,
		    JWT_E_NOT_YET },
		{ C("\"exp\":1800000000,\"iat\":{}"), 30, 0, JWT_E_CLAIM },
#undef C
		{ "{\"aud\":\"api://mgw\",\"exp\":1800000000}", 0, 0,
		    JWT_E_ISSUER },
		{ "{\"iss\":\"https://evil.test\",\"aud\":\"api://mgw\","
		    "\"exp\":1800000000}", 0, 0, JWT_E_ISSUER },
		{ "{\"iss\":\"https://idp.test/\",\"aud\":\"api://mgw\","
		    "\"exp\":1800000000}", 0, 0, JWT_E_ISSUER },
		{ "{\"iss\":[\"" TEST_ISS "\"],\"aud\":\"api://mgw\","
		    "\"exp\":1800000000}", 0, 0, JWT_E_CLAIM },
		{ "{\"iss\":\"" TEST_ISS "\",\"exp\":1800000000}", 0, 0,
		    JWT_E_AUDIENCE },
		{ "{\"iss\":\"" TEST_ISS "\",\"aud\":\"api://x\","
		    "\"exp\":1800000000}", 0, 0, JWT_E_AUDIENCE },
		{ "{\"iss\":\"" TEST_ISS "\",\"aud\":[],"
		    "\"exp\":1800000000}", 0, 0, JWT_E_AUDIENCE },
		{ "{\"iss\":\"" TEST_ISS "\",\"aud\":[\"a\",\"api://other\"],"
		    "\"exp\":1800000000}", 0, 0, JWT_OK },
		{ "{\"iss\":\"" TEST_ISS "\",\"aud\":[\"a\",\"b\"],"
		    "\"exp\":1800000000}", 0, 0, JWT_E_AUDIENCE },
		{ "{\"iss\":\"" TEST_ISS "\",\"aud\":[\"api://mgw\",7],"
		    "\"exp\":1800000000}", 0, 0, JWT_E_CLAIM },
		{ "{\"iss\":\"" TEST_ISS "\",\"aud\":{\"a\":1},"
		    "\"exp\":1800000000}", 0, 0, JWT_E_CLAIM },
	};
	struct jwt_policy	 p;
	struct jwt_result	 r;
	char			*tok;
	size_t			 i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		test_policy(&p);
		p.jp_leeway = v[i].leeway;
		p.jp_allow_no_exp = v[i].allow_no_exp;
		tok = test_token("{\"alg\":\"HS256\",\"kid\":\"hs\"}",
		    v[i].payload, NULL);
		if (test_verify(tok, &p, &r) != v[i].expect)
			printf("\n  claims[%zu] %s: %s (%s)\n", i,
			    v[i].payload, jwt_error_reason(r.jr_error),
			    r.jr_why);
		CU_ASSERT_EQUAL(r.jr_error, v[i].expect);
		jwt_result_fini(&r);
		free(tok);
	}

	/* Without expectations, iss and aud are not checked. */
	memset(&p, 0, sizeof(p));
	tok = test_token("{\"alg\":\"HS256\",\"kid\":\"hs\"}",
	    "{\"exp\":1800000000}", NULL);
	CU_ASSERT_EQUAL(test_verify(tok, &p, &r), JWT_OK);
	CU_ASSERT_EQUAL(r.jr_exp, 1800000000);
	jwt_result_fini(&r);
	free(tok);
}

static void
test_identity(void)
{
	struct jwt_result	 r;
	char			*tok;

	tok = test_token("{\"alg\":\"HS256\",\"kid\":\"hs\"}",
	    TEST_BASE "\"exp\":1800000000,"
	    "\"iat\":1699999999,\"sub\":\"alice\",\"azp\":\"web\","
	    "\"client_id\":\"mobile\",\"jti\":\"j-1\"}", NULL);
	CU_ASSERT_EQUAL_FATAL(test_verify(tok, NULL, &r), JWT_OK);
	CU_ASSERT_STRING_EQUAL(r.jr_subject, "alice");
	CU_ASSERT_STRING_EQUAL(r.jr_client_id, "mobile");
	CU_ASSERT_STRING_EQUAL(r.jr_jti, "j-1");
	CU_ASSERT_STRING_EQUAL(r.jr_issuer, TEST_ISS);
	CU_ASSERT_EQUAL(r.jr_exp, 1800000000);
	CU_ASSERT_EQUAL(r.jr_iat, 1699999999);
	CU_ASSERT_EQUAL(r.jr_nscopes, 0);
	jwt_result_fini(&r);
	CU_ASSERT_PTR_NULL(r.jr_subject);
	free(tok);

	tok = test_token("{\"alg\":\"HS256\",\"kid\":\"hs\"}",
	    TEST_BASE "\"exp\":1800000000,"
	    "\"azp\":\"web\"}", NULL);
	CU_ASSERT_EQUAL_FATAL(test_verify(tok, NULL, &r), JWT_OK);
	CU_ASSERT_STRING_EQUAL(r.jr_client_id, "web");
	CU_ASSERT_PTR_NULL(r.jr_subject);
	jwt_result_fini(&r);
	free(tok);

	/* A control character could split a forwarded header: refused. */
	tok = test_token("{\"alg\":\"HS256\",\"kid\":\"hs\"}",
	    TEST_BASE "\"exp\":1800000000,"
	    "\"sub\":\"a\\r\\nX-Admin: 1\"}", NULL);
	CU_ASSERT_EQUAL(test_verify(tok, NULL, &r), JWT_E_CLAIM);
	CU_ASSERT_PTR_NULL(r.jr_subject);
	free(tok);
	tok = test_token("{\"alg\":\"HS256\",\"kid\":\"hs\"}",
	    TEST_BASE "\"exp\":1800000000,"
	    "\"jti\":42}", NULL);
	CU_ASSERT_EQUAL(test_verify(tok, NULL, &r), JWT_E_CLAIM);
	free(tok);
}

static void
test_scopes(void)
{
	static const struct {
		const char	*claims;
		enum jwt_error	 expect;
		const char	*joined;	/* the scopes, "|"-joined */
	} v[] = {
		{ "\"scope\":\"read write\"", JWT_OK, "read|write" },
		{ "\"scope\":\"  read   write \"", JWT_OK, "read|write" },
		{ "\"scope\":\"\"", JWT_OK, "" },
		{ "\"scope\":\"api:read https://x/y.z\"", JWT_OK,
		    "api:read|https://x/y.z" },
		{ "\"scp\":[\"read\",\"admin\"]", JWT_OK, "read|admin" },
		{ "\"scp\":\"read admin\"", JWT_OK, "read|admin" },
		{ "\"scope\":\"a\",\"scp\":[\"b\"]", JWT_OK, "a|b" },
		{ "\"scp\":[]", JWT_OK, "" },
		{ "\"scope\":[\"read\"]", JWT_E_CLAIM, NULL },
		{ "\"scope\":\"read \\\"x\\\"\"", JWT_E_CLAIM, NULL },
		{ "\"scope\":\"a\\tb\"", JWT_E_CLAIM, NULL },
		{ "\"scope\":\"caf\xc3\xa9\"", JWT_E_CLAIM, NULL },
		{ "\"scp\":[\"read\",1]", JWT_E_CLAIM, NULL },
		{ "\"scp\":[\"\"]", JWT_E_CLAIM, NULL },
		{ "\"scp\":[\"a b\"]", JWT_E_CLAIM, NULL },
		{ "\"scp\":{}", JWT_E_CLAIM, NULL },
	};
	struct jwt_result	 r;
	char			*pl, *tok, joined[256], many[1024];
	size_t			 i, j;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		xasprintf(&pl, TEST_BASE ""
		    "\"exp\":1800000000,%s}", v[i].claims);
		tok = test_token("{\"alg\":\"HS256\"}", pl, NULL);
		CU_ASSERT_EQUAL(test_verify(tok, NULL, &r), v[i].expect);
		if (v[i].joined != NULL && r.jr_error == JWT_OK) {
			joined[0] = '\0';
			for (j = 0; j < r.jr_nscopes; j++) {
				if (j > 0)
					test_cat(joined, "|", sizeof(joined));
				test_cat(joined, r.jr_scopes[j],
				    sizeof(joined));
			}
			CU_ASSERT_STRING_EQUAL(joined, v[i].joined);
		}
		jwt_result_fini(&r);
		free(tok);
		free(pl);
	}

	/* JWT_SCOPES_MAX scopes are fine, one more is refused. */
	for (i = 0; i <= JWT_SCOPES_MAX; i++) {
		many[0] = '\0';
		for (j = 0; j < i + (i == JWT_SCOPES_MAX ? 1 : 0); j++) {
			snprintf(joined, sizeof(joined), "%ss%zu",
			    j > 0 ? " " : "", j);
			test_cat(many, joined, sizeof(many));
		}
		if (i != 0 && i != JWT_SCOPES_MAX - 1 && i != JWT_SCOPES_MAX)
			continue;
		xasprintf(&pl, TEST_BASE ""
		    "\"exp\":1800000000,\"scope\":\"%s\"}", many);
		tok = test_token("{\"alg\":\"HS256\"}", pl, NULL);
		test_verify(tok, NULL, &r);
		if (i == JWT_SCOPES_MAX) {
			CU_ASSERT_EQUAL(r.jr_error, JWT_E_CLAIM);
		} else {
			CU_ASSERT_EQUAL(r.jr_error, JWT_OK);
			CU_ASSERT_EQUAL(r.jr_nscopes, i);
		}
		jwt_result_fini(&r);
		free(tok);
		free(pl);
	}
}

static void
test_scope_check(void)
{
	static const char *const req_rw[] = { "write", "admin" };
	static const char *const req_r[] = { "read" };
	struct jwt_result	 r;

	memset(&r, 0, sizeof(r));
	r.jr_scopes[0] = "read";
	r.jr_scopes[1] = "admin";
	r.jr_nscopes = 2;
	CU_ASSERT_PTR_NULL(jwt_scope_check(&r, req_rw, 2));
	CU_ASSERT_PTR_NULL(jwt_scope_check(&r, req_r, 1));
	CU_ASSERT_PTR_NULL(jwt_scope_check(&r, NULL, 0));
	r.jr_nscopes = 1;
	CU_ASSERT_STRING_EQUAL(jwt_scope_check(&r, req_rw, 2), "write");
	r.jr_nscopes = 0;
	CU_ASSERT_STRING_EQUAL(jwt_scope_check(&r, req_r, 1), "read");
	CU_ASSERT_PTR_NULL(jwt_scope_check(&r, req_r, 0));
	/* Scopes match exactly: no prefix, no case folding. */
	r.jr_scopes[0] = "readx";
	r.jr_scopes[1] = "READ";
	r.jr_nscopes = 2;
	CU_ASSERT_STRING_EQUAL(jwt_scope_check(&r, req_r, 1), "read");
}

/* A JWK of a fresh RSA key of bits bits; extra is spliced in. */
static char *
test_rsa_jwk(int bits, const char *extra)
{
	EVP_PKEY	*pkey;
	BIGNUM		*n = NULL, *e = NULL;
	unsigned char	 nb[1024], eb[8];
	char		*ns, *es, *jwk;
	int		 nlen, elen;

	pkey = EVP_RSA_gen((unsigned int)bits);
	CU_ASSERT_FATAL(pkey != NULL);
	CU_ASSERT_FATAL(EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N,
	    &n) == 1);
	CU_ASSERT_FATAL(EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E,
	    &e) == 1);
	nlen = BN_bn2bin(n, nb);
	elen = BN_bn2bin(e, eb);
	ns = test_b64url(nb, (size_t)nlen);
	es = test_b64url(eb, (size_t)elen);
	xasprintf(&jwk, "{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"%s\"%s}", ns, es,
	    extra);
	free(ns);
	free(es);
	BN_free(n);
	BN_free(e);
	EVP_PKEY_free(pkey);
	return (jwk);
}

/* x (returned) and y (*yp) of a fresh key on curve, base64url. */
static char *
test_ec_xy(const char *curve, char **yp)
{
	EVP_PKEY	*pkey;
	unsigned char	 pt[256];
	size_t		 len, half;
	char		*x;

	pkey = EVP_EC_gen(curve);
	CU_ASSERT_FATAL(pkey != NULL);
	CU_ASSERT_FATAL(EVP_PKEY_get_octet_string_param(pkey,
	    OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof(pt), &len) == 1);
	half = (len - 1) / 2;
	x = test_b64url(pt + 1, half);
	*yp = test_b64url(pt + 1 + half, half);
	EVP_PKEY_free(pkey);
	return (x);
}

static void
test_jwks_errors(void)
{
	struct {
		char		*doc;
		enum jwt_alg	 defalg;
		const char	*cause;	/* expected in *cause */
	} v[32];
	struct jwt_keyset	*ks;
	char			*x, *y, *x2, *y2, *rsa, *rsa1k, *cause, *doc;
	size_t			 i, n = 0;

	x = test_ec_xy("P-256", &y);
	x2 = test_ec_xy("P-384", &y2);
	rsa = test_rsa_jwk(2048, "");
	rsa1k = test_rsa_jwk(1024, ",\"alg\":\"RS256\"");
#define V(d, a, c) do {							\
	v[n].doc = (d); v[n].defalg = (a); v[n].cause = (c); n++;	\
} while (0)
	V(xstrdup("{\"keys\":["), JWT_ALG_NONE, "jwks.json: line 1: ");
	V(xstrdup("[]"), JWT_ALG_NONE, "not a JWK set");
	V(xstrdup("{\"keys\":{}}"), JWT_ALG_NONE, "not a JWK set");
	V(xstrdup("{\"keys\":[],\"keys\":[]}"), JWT_ALG_NONE,
	    "duplicate object key");
	V(xstrdup("{\"keys\":[]}"), JWT_ALG_NONE, "no signature verification");
	V(xstrdup("{\"keys\":[1]}"), JWT_ALG_NONE,
	    "keys[0]: not a JSON object");
	V(xstrdup("{\"keys\":[{\"n\":\"AQAB\"}]}"), JWT_ALG_NONE,
	    "keys[0]: kty missing");
	V(xstrdup("{\"keys\":[{\"kty\":\"DSA\",\"kid\":\"d\"}]}"),
	    JWT_ALG_NONE, "keys[0] (kid \"d\"): unsupported kty");
	xasprintf(&doc, "{\"keys\":[%s]}", rsa);
	V(doc, JWT_ALG_HS256, "keys[0]: RSA key without alg");
	xasprintf(&doc, "{\"keys\":[%s]}", rsa);
	V(doc, JWT_ALG_ES256, "keys[0]: RSA key without alg");
	V(xstrdup(rsa), JWT_ALG_RS256, "not a JWK set");
	xasprintf(&doc, "{\"keys\":[%s]}", rsa);
	V(doc, JWT_ALG_NONE, "keys[0]: RSA key without alg");
	xasprintf(&doc, "{\"keys\":[%s]}", rsa1k);
	V(doc, JWT_ALG_NONE, "keys[0]: RSA key shorter than 2048 bits");
	V(xstrdup("{\"keys\":[{\"kty\":\"RSA\",\"alg\":\"RS256\","
	    "\"n\":\"AQAB\"}]}"), JWT_ALG_NONE, "missing");
	V(xstrdup("{\"keys\":[{\"kty\":\"RSA\",\"alg\":\"RS256\","
	    "\"n\":\"AQ+B\",\"e\":\"AQAB\"}]}"), JWT_ALG_NONE,
	    "not base64url");
	V(xstrdup("{\"keys\":[{\"kty\":\"RSA\",\"alg\":\"RS256\","
	    "\"n\":\"AQAB\",\"e\":\"AQAB\",\"d\":\"AQAB\"}]}"), JWT_ALG_NONE,
	    "private key material");
	V(xstrdup("{\"keys\":[{\"kty\":\"oct\",\"k\":\"AQAB\"}]}"),
	    JWT_ALG_NONE, "oct key without alg");
	V(xstrdup("{\"keys\":[{\"kty\":\"oct\",\"alg\":\"HS256\","
	    "\"k\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}]}"),
	    JWT_ALG_NONE, "HMAC secret shorter than the hash");
	V(xstrdup("{\"keys\":[{\"kty\":\"oct\",\"alg\":\"RS256\","
	    "\"k\":\"AQAB\"}]}"), JWT_ALG_NONE, "alg does not fit an oct key");
	V(xstrdup("{\"keys\":[{\"kty\":\"oct\",\"alg\":\"none\","
	    "\"k\":\"AQAB\"}]}"), JWT_ALG_NONE, "alg not a supported");
	xasprintf(&doc, "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\","
	    "\"x\":\"%s\",\"y\":\"%s\",\"alg\":\"ES384\"}]}", x, y);
	V(doc, JWT_ALG_NONE, "alg does not fit the key's curve");
	xasprintf(&doc, "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\","
	    "\"x\":\"%s\",\"y\":\"%s\"}]}", x2, y2);
	V(doc, JWT_ALG_NONE, "x or y is longer than the curve's size");
	xasprintf(&doc, "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\","
	    "\"x\":\"%s\",\"y\":\"%s\"}]}", x, x);
	V(doc, JWT_ALG_NONE, "not on the curve");
	V(xstrdup("{\"keys\":[{\"kty\":\"EC\",\"crv\":\"secp256k1\","
	    "\"x\":\"AA\",\"y\":\"AA\"}]}"), JWT_ALG_NONE,
	    "crv missing or not");
	xasprintf(&doc, "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\","
	    "\"x\":\"%s\",\"y\":\"%s\",\"d\":\"AA\"}]}", x, y);
	V(doc, JWT_ALG_NONE, "private key material");
	V(xstrdup("{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed448\","
	    "\"x\":\"AA\"}]}"), JWT_ALG_NONE, "not Ed25519");
	V(xstrdup("{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
	    "\"x\":\"AAAA\"}]}"), JWT_ALG_NONE, "x is not 32 bytes");
	xasprintf(&doc, "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\","
	    "\"kid\":\"a\",\"x\":\"%s\",\"y\":\"%s\"},{\"kty\":\"EC\","
	    "\"crv\":\"P-256\",\"kid\":\"a\",\"x\":\"%s\",\"y\":\"%s\"}]}",
	    x, y, x, y);
	V(doc, JWT_ALG_NONE, "keys[1] (kid \"a\"): duplicate kid");
	V(xstrdup("{\"keys\":[{\"kty\":\"oct\",\"use\":\"enc\","
	    "\"k\":\"AQAB\"}]}"), JWT_ALG_NONE, "no signature verification");
	V(xstrdup("{\"keys\":[{\"kty\":\"oct\",\"alg\":\"HS256\","
	    "\"kid\":\"a\\nb\",\"k\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	    "AAAAAAA\"}]}"),
	    JWT_ALG_NONE, "keys[0]: kid too long or with control characters");
#undef V
	CU_ASSERT_FATAL(n <= sizeof(v) / sizeof(v[0]));

	for (i = 0; i < n; i++) {
		ks = test_keyset();
		cause = NULL;
		CU_ASSERT_EQUAL(jwt_keyset_add_jwks(ks, v[i].doc,
		    strlen(v[i].doc), v[i].defalg, "jwks.json", &cause), -1);
		CU_ASSERT_PTR_NOT_NULL_FATAL(cause);
		if (strstr(cause, v[i].cause) == NULL ||
		    strncmp(cause, "jwks.json: ", 11) != 0)
			printf("\n  jwks[%zu]: \"%s\" lacks \"%s\"\n", i, cause,
			    v[i].cause);
		CU_ASSERT_PTR_NOT_NULL(strstr(cause, v[i].cause));
		/* All or nothing: the two keys from before are all. */
		CU_ASSERT_EQUAL(jwt_keyset_count(ks), 2);
		free(cause);
		free(v[i].doc);
		jwt_keyset_free(ks);
	}
	free(x);
	free(y);
	free(x2);
	free(y2);
	free(rsa);
	free(rsa1k);
}

static void
test_jwks_good(void)
{
	struct jwt_keyset	*ks;
	const struct jwt_key	*k;
	enum jwt_error		 e;
	char			*x, *y, *rsa, *doc, *cause = NULL;

	x = test_ec_xy("P-256", &y);
	rsa = test_rsa_jwk(2048, ",\"kid\":\"r\"");
	xasprintf(&doc, "{\"keys\":[%s,{\"kty\":\"EC\",\"crv\":\"P-256\","
	    "\"kid\":\"e\",\"x\":\"%s\",\"y\":\"%s\",\"use\":\"sig\"},"
	    "{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"enc\","
	    "\"x\":\"%s\",\"y\":\"%s\",\"use\":\"enc\"},"
	    "{\"kty\":\"oct\",\"kid\":\"o\",\"k\":\"%s\"}]}", rsa, x, y, x, y,
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	    "AAAAAAAAAAAAAAAAAAAA");
	ks = jwt_keyset_new();
	/* PS256 pins the RSA key; the oct key lacks alg and stays refused. */
	CU_ASSERT_EQUAL(jwt_keyset_add_jwks(ks, doc, strlen(doc),
	    JWT_ALG_PS256, "jwks.json", &cause), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(cause, "keys[3] (kid \"o\"): oct key"));
	free(cause);
	cause = NULL;
	free(doc);
	xasprintf(&doc, "{\"keys\":[%s,{\"kty\":\"EC\",\"crv\":\"P-256\","
	    "\"kid\":\"e\",\"x\":\"%s\",\"y\":\"%s\",\"use\":\"sig\"},"
	    "{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"enc\","
	    "\"x\":\"%s\",\"y\":\"%s\",\"key_ops\":[\"encrypt\"]}]}", rsa, x,
	    y, x, y);
	CU_ASSERT_EQUAL(jwt_keyset_add_jwks(ks, doc, strlen(doc),
	    JWT_ALG_PS256, "jwks.json", &cause), 0);
	CU_ASSERT_PTR_NULL(cause);
	CU_ASSERT_EQUAL(jwt_keyset_count(ks), 2);
	k = jwt_keyset_find(ks, "r", JWT_ALG_PS256, &e);
	CU_ASSERT(k != NULL && e == JWT_OK);
	CU_ASSERT_PTR_NULL(jwt_keyset_find(ks, "r", JWT_ALG_RS256, &e));
	CU_ASSERT_EQUAL(e, JWT_E_ALG);
	k = jwt_keyset_find(ks, NULL, JWT_ALG_ES256, &e);
	CU_ASSERT(k != NULL && k->k_kid != NULL &&
	    strcmp(k->k_kid, "e") == 0);
	CU_ASSERT_PTR_NULL(jwt_keyset_find(ks, "enc", JWT_ALG_ES256, &e));
	CU_ASSERT_EQUAL(e, JWT_E_KEY);
	CU_ASSERT_PTR_NULL(jwt_keyset_find(ks, NULL, JWT_ALG_ES384, &e));
	CU_ASSERT_EQUAL(e, JWT_E_KEY);
	jwt_keyset_free(ks);
	free(doc);
	free(x);
	free(y);
	free(rsa);
	jwt_keyset_free(NULL);
}

/*
 * A P-521 x coordinate with its leading zero byte dropped (as PyJWT 2.6
 * writes it; half of all P-521 keys have one) still loads, as the same
 * key.
 */
static void
test_ec_short(void)
{
	struct jwt_keyset	*ks;
	EVP_PKEY		*pkey = NULL;
	unsigned char		 pt[256];
	size_t			 len;
	char			*x, *y, *doc, *cause = NULL;
	int			 i;

	for (i = 0; i < 64; i++) {
		pkey = EVP_EC_gen("P-521");
		CU_ASSERT_FATAL(pkey != NULL);
		CU_ASSERT_FATAL(EVP_PKEY_get_octet_string_param(pkey,
		    OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof(pt), &len) == 1);
		CU_ASSERT_FATAL(len == 133);
		if (pt[1] == 0)
			break;
		EVP_PKEY_free(pkey);
		pkey = NULL;
	}
	CU_ASSERT_FATAL(pkey != NULL);
	x = test_b64url(pt + 2, 65);
	y = test_b64url(pt + 67, 66);
	xasprintf(&doc, "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-521\","
	    "\"x\":\"%s\",\"y\":\"%s\"}]}", x, y);
	ks = jwt_keyset_new();
	CU_ASSERT_EQUAL(jwt_keyset_add_jwks(ks, doc, strlen(doc), JWT_ALG_NONE,
	    "jwks.json", &cause), 0);
	CU_ASSERT_PTR_NULL(cause);
	CU_ASSERT_FATAL(jwt_keyset_count(ks) == 1);
	CU_ASSERT_EQUAL(ks->ks_keys[0].k_alg, JWT_ALG_ES512);
	CU_ASSERT_EQUAL(EVP_PKEY_eq(ks->ks_keys[0].k_pkey, pkey), 1);
	jwt_keyset_free(ks);
	EVP_PKEY_free(pkey);
	free(doc);
	free(x);
	free(y);
}

static void
test_pem(void)
{
	struct jwt_keyset	*ks;
	EVP_PKEY		*rsa, *ec;
	BIO			*bio;
	char			*pub, *priv, *ecpub, *cause = NULL;
	long			 len;

	rsa = EVP_RSA_gen(2048);
	ec = EVP_EC_gen("P-384");
	CU_ASSERT_FATAL(rsa != NULL && ec != NULL);
	bio = BIO_new(BIO_s_mem());
	CU_ASSERT_FATAL(PEM_write_bio_PUBKEY(bio, rsa) == 1);
	len = BIO_get_mem_data(bio, &pub);
	pub = xstrndup(pub, (size_t)len);
	BIO_free(bio);
	bio = BIO_new(BIO_s_mem());
	CU_ASSERT_FATAL(PEM_write_bio_PrivateKey(bio, rsa, NULL, NULL, 0, NULL,
	    NULL) == 1);
	len = BIO_get_mem_data(bio, &priv);
	priv = xstrndup(priv, (size_t)len);
	BIO_free(bio);
	bio = BIO_new(BIO_s_mem());
	CU_ASSERT_FATAL(PEM_write_bio_PUBKEY(bio, ec) == 1);
	len = BIO_get_mem_data(bio, &ecpub);
	ecpub = xstrndup(ecpub, (size_t)len);
	BIO_free(bio);

	ks = jwt_keyset_new();
	CU_ASSERT_EQUAL(jwt_keyset_add_pem(ks, pub, strlen(pub), JWT_ALG_NONE,
	    "r", "rsa.pem", &cause), -1);
	CU_ASSERT_STRING_EQUAL(cause, "rsa.pem: RSA key without alg and no "
	    "algorithm configured");
	free(cause);
	CU_ASSERT_EQUAL(jwt_keyset_add_pem(ks, pub, strlen(pub), JWT_ALG_HS256,
	    "r", "rsa.pem", &cause), -1);
	CU_ASSERT_STRING_EQUAL(cause, "rsa.pem: alg does not fit an RSA key");
	free(cause);
	CU_ASSERT_EQUAL(jwt_keyset_add_pem(ks, priv, strlen(priv),
	    JWT_ALG_RS256, "r", "rsa.key", &cause), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(cause, "a private key"));
	free(cause);
	CU_ASSERT_EQUAL(jwt_keyset_add_pem(ks, "hello", 5, JWT_ALG_RS256,
	    "r", "junk.pem", &cause), -1);
	CU_ASSERT_STRING_EQUAL(cause,
	    "junk.pem: no PEM public key or certificate");
	free(cause);
	CU_ASSERT_EQUAL(jwt_keyset_add_pem(ks, ecpub, strlen(ecpub),
	    JWT_ALG_ES256, "e", "ec.pem", &cause), -1);
	CU_ASSERT_STRING_EQUAL(cause,
	    "ec.pem: alg does not fit the key's curve");
	free(cause);
	CU_ASSERT_EQUAL(jwt_keyset_count(ks), 0);

	cause = NULL;
	CU_ASSERT_EQUAL(jwt_keyset_add_pem(ks, pub, strlen(pub), JWT_ALG_RS512,
	    "r", "rsa.pem", &cause), 0);
	CU_ASSERT_EQUAL(jwt_keyset_add_pem(ks, ecpub, strlen(ecpub),
	    JWT_ALG_NONE, NULL, "ec.pem", &cause), 0);
	CU_ASSERT_PTR_NULL(cause);
	CU_ASSERT_EQUAL(jwt_keyset_count(ks), 2);
	CU_ASSERT_EQUAL(ks->ks_keys[1].k_alg, JWT_ALG_ES384);
	CU_ASSERT_EQUAL(jwt_keyset_add_pem(ks, pub, strlen(pub), JWT_ALG_RS256,
	    "r", "again.pem", &cause), -1);
	CU_ASSERT_STRING_EQUAL(cause, "again.pem: duplicate kid");
	free(cause);
	jwt_keyset_free(ks);
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(ec);
	free(pub);
	free(priv);
	free(ecpub);
}

static void
test_secret(void)
{
	struct jwt_keyset	*ks;
	char			*cause = NULL;

	ks = jwt_keyset_new();
	CU_ASSERT_EQUAL(jwt_keyset_add_secret(ks, (const unsigned char *)
	    TEST_SECRET, 32, JWT_ALG_HS512, NULL, "conf", &cause), -1);
	CU_ASSERT_STRING_EQUAL(cause,
	    "conf: HMAC secret shorter than the hash (64 bytes)");
	free(cause);
	CU_ASSERT_EQUAL(jwt_keyset_add_secret(ks, (const unsigned char *)
	    TEST_SECRET, 32, JWT_ALG_RS256, NULL, "conf", &cause), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(cause, "needs HS256"));
	free(cause);
	/* The message never carries the secret. */
	CU_ASSERT_EQUAL(jwt_keyset_add_secret(ks, (const unsigned char *)
	    "tiny", 4, JWT_ALG_HS256, NULL, "conf", &cause), -1);
	CU_ASSERT_PTR_NULL(strstr(cause, "tiny"));
	free(cause);
	CU_ASSERT_EQUAL(jwt_keyset_count(ks), 0);
	jwt_keyset_free(ks);
}

static void
test_reasons(void)
{
	enum jwt_error	 e;

	for (e = JWT_OK; e <= JWT_E_INTERNAL; e++)
		CU_ASSERT_PTR_NOT_NULL(jwt_error_reason(e));
	CU_ASSERT_PTR_NULL(jwt_error_code(JWT_OK));
	CU_ASSERT_STRING_EQUAL(jwt_error_code(JWT_E_EXPIRED), "expired");
	CU_ASSERT_STRING_EQUAL(jwt_error_code(JWT_E_SIGNATURE),
	    "invalid_credentials");
	CU_ASSERT_STRING_EQUAL(jwt_error_code(JWT_E_INTERNAL),
	    "internal_error");
	CU_ASSERT_STRING_EQUAL(jwt_error_reason(JWT_E_KEY), "unknown_key");
	CU_ASSERT_EQUAL(jwt_alg_byname("EdDSA"), JWT_ALG_EDDSA);
	CU_ASSERT_EQUAL(jwt_alg_byname("none"), JWT_ALG_NONE);
	CU_ASSERT_STRING_EQUAL(jwt_alg_name(JWT_ALG_PS384), "PS384");
}

static CU_TestInfo test_b64url_cases[] = {
	{ "RFC 4648 vectors, URL alphabet", test_b64url_vectors },
	{ "padding, alphabet, trailing bits", test_b64url_refusals },
	CU_TEST_INFO_NULL
};

static CU_TestInfo test_token_cases[] = {
	{ "segments, JSON, duplicates, size", test_structure },
	{ "alg, kid, forbidden members, crit", test_header },
	{ "key selection and pinning", test_selection },
	CU_TEST_INFO_NULL
};

static CU_TestInfo test_claim_cases[] = {
	{ "exp, nbf, iat, iss, aud table", test_claims },
	{ "sub, client_id, azp, jti", test_identity },
	{ "scope and scp parsing", test_scopes },
	{ "any-of scope check", test_scope_check },
	CU_TEST_INFO_NULL
};

static CU_TestInfo test_key_cases[] = {
	{ "JWKS errors name the key", test_jwks_errors },
	{ "JWKS pinning and selection", test_jwks_good },
	{ "EC coordinates without leading zeros", test_ec_short },
	{ "PEM keys", test_pem },
	{ "HMAC secrets", test_secret },
	{ "reasons and codes", test_reasons },
	CU_TEST_INFO_NULL
};

static CU_SuiteInfo test_suites[] = {
	{ "base64url", NULL, NULL, NULL, NULL, test_b64url_cases },
	{ "token", NULL, NULL, NULL, NULL, test_token_cases },
	{ "claims", NULL, NULL, NULL, NULL, test_claim_cases },
	{ "keys", NULL, NULL, NULL, NULL, test_key_cases },
	CU_SUITE_INFO_NULL
};

int
main(void)
{
	log_init(1, 0);
	return (test_run(test_suites));
}
