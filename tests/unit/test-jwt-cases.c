/*
 * test-jwt-cases.c: check mgw's JWT verifier against tokens minted by an
 * independent library.  tests/jwt-mint.py (PyJWT, openssl CLI keys)
 * writes a cases file; this program loads the key set it describes (a
 * JWKS and PEM files) and verifies every token, which must give the
 * expected outcome: "ok" (and then the expected subject, client id and
 * scopes) or the jwt_error_reason() of the refusal.
 *
 * Usage: test-jwt-cases CASES.json.  Prints "ok - name" or "FAIL - ..."
 * per case, and exits 0 only if every case passed and the file held at
 * least 20 attack tokens.  Run by tests/blackbox/jwt-cases.sh; it needs
 * no CUnit, so it exists in every build.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "lib.h"
#include "jwt.h"
#include "authn.h"

#define CASES_MIN_ATTACKS	20
#define CASES_MAX_AUD		8

static char	*cases_read(const char *, size_t *);
static struct jwt_keyset *cases_keyset(json_t *);
static int	 cases_policy(json_t *, json_t *, struct jwt_policy *,
		    const char **);
static int	 cases_check(const char *, const struct jwt_result *, json_t *);

/* The whole file at path; dies on error. */
static char *
cases_read(const char *path, size_t *lenp)
{
	char		*buf;
	const char	*why;

	if (authn_read_file(path, 64 * 1024 * 1024, &buf, lenp, &why) == -1)
		fatalx("%s: %s", path, why);
	return (buf);
}

/* The key set: doc.jwks, then each of doc.pem. */
static struct jwt_keyset *
cases_keyset(json_t *doc)
{
	struct jwt_keyset	*ks;
	json_t			*pem, *v, *alg, *kid;
	const char		*path;
	char			*buf, *cause = NULL;
	size_t			 len, i;

	ks = jwt_keyset_new();
	path = json_string_value(json_object_get(doc, "jwks"));
	if (path == NULL)
		fatalx("cases: no jwks");
	buf = cases_read(path, &len);
	if (jwt_keyset_add_jwks(ks, buf, len, JWT_ALG_NONE, path, &cause) ==
	    -1)
		fatalx("%s", cause);
	free(buf);
	pem = json_object_get(doc, "pem");
	json_array_foreach(pem, i, v) {
		path = json_string_value(json_object_get(v, "file"));
		alg = json_object_get(v, "alg");
		kid = json_object_get(v, "kid");
		if (path == NULL)
			fatalx("cases: pem[%zu] without file", i);
		buf = cases_read(path, &len);
		if (jwt_keyset_add_pem(ks, buf, len, alg == NULL ?
		    JWT_ALG_NONE : jwt_alg_byname(json_string_value(alg)),
		    json_string_value(kid), path, &cause) == -1)
			fatalx("%s", cause);
		free(buf);
	}
	return (ks);
}

/*
 * The policy of a case: doc.policy with the case's own "policy" members
 * on top.  auds must hold CASES_MAX_AUD pointers.
 */
static int
cases_policy(json_t *base, json_t *over, struct jwt_policy *p,
    const char **auds)
{
	json_t	*layers[2] = { base, over }, *v, *a;
	size_t	 i, j;

	memset(p, 0, sizeof(*p));
	p->jp_audiences = auds;
	for (i = 0; i < 2; i++) {
		if (layers[i] == NULL)
			continue;
		if ((v = json_object_get(layers[i], "iss")) != NULL)
			p->jp_issuer = json_string_value(v);
		if ((v = json_object_get(layers[i], "leeway")) != NULL)
			p->jp_leeway = json_integer_value(v);
		if ((v = json_object_get(layers[i], "allow_no_exp")) != NULL)
			p->jp_allow_no_exp = json_is_true(v);
		if ((v = json_object_get(layers[i], "aud")) != NULL) {
			if (json_array_size(v) > CASES_MAX_AUD)
				return (-1);
			p->jp_naudiences = 0;
			json_array_foreach(v, j, a)
				auds[p->jp_naudiences++] = json_string_value(a);
		}
	}
	return (0);
}

/* The identity an "ok" case expects; 0 if r has it, else -1 (printed). */
static int
cases_check(const char *name, const struct jwt_result *r, json_t *c)
{
	json_t		*v, *s;
	const char	*want;
	size_t		 i;

	if ((v = json_object_get(c, "sub")) != NULL) {
		want = json_string_value(v);
		if (r->jr_subject == NULL || strcmp(r->jr_subject, want) != 0) {
			printf("FAIL - %s: sub %s, want %s\n", name,
			    r->jr_subject != NULL ? r->jr_subject : "(none)",
			    want);
			return (-1);
		}
	}
	if ((v = json_object_get(c, "client_id")) != NULL) {
		want = json_string_value(v);
		if (r->jr_client_id == NULL ||
		    strcmp(r->jr_client_id, want) != 0) {
			printf("FAIL - %s: client id %s, want %s\n", name,
			    r->jr_client_id != NULL ? r->jr_client_id :
			    "(none)", want);
			return (-1);
		}
	}
	if ((v = json_object_get(c, "scopes")) != NULL) {
		if (json_array_size(v) != r->jr_nscopes) {
			printf("FAIL - %s: %zu scopes, want %zu\n", name,
			    r->jr_nscopes, json_array_size(v));
			return (-1);
		}
		json_array_foreach(v, i, s) {
			if (strcmp(json_string_value(s),
			    r->jr_scopes[i]) != 0) {
				printf("FAIL - %s: scope %s, want %s\n", name,
				    r->jr_scopes[i], json_string_value(s));
				return (-1);
			}
		}
	}
	return (0);
}

int
main(int argc, char *argv[])
{
	struct jwt_keyset	*ks;
	struct jwt_policy	 p;
	struct jwt_result	 r;
	const char		*auds[CASES_MAX_AUD], *name, *tok, *want;
	json_error_t		 jerr;
	json_t			*doc, *cases, *c;
	size_t			 i, len, failed = 0, attacks = 0;
	int64_t			 now;
	char			*buf;

	log_init(1, 0);
	if (argc != 2) {
		fprintf(stderr, "usage: test-jwt-cases CASES.json\n");
		return (2);
	}
	buf = cases_read(argv[1], &len);
	if ((doc = json_loadb(buf, len, 0, &jerr)) == NULL)
		fatalx("%s: line %d: %s", argv[1], jerr.line, jerr.text);
	free(buf);
	now = json_integer_value(json_object_get(doc, "now"));
	ks = cases_keyset(doc);
	cases = json_object_get(doc, "cases");
	printf("# %zu keys, %zu cases\n", jwt_keyset_count(ks),
	    json_array_size(cases));

	json_array_foreach(cases, i, c) {
		name = json_string_value(json_object_get(c, "name"));
		tok = json_string_value(json_object_get(c, "token"));
		want = json_string_value(json_object_get(c, "expect"));
		if (name == NULL || tok == NULL || want == NULL)
			fatalx("cases[%zu]: name, token or expect missing", i);
		if (json_is_true(json_object_get(c, "attack"))) {
			attacks++;
			if (strcmp(want, "ok") == 0)
				fatalx("cases[%zu]: an attack expected ok", i);
		}
		if (cases_policy(json_object_get(doc, "policy"),
		    json_object_get(c, "policy"), &p, auds) == -1)
			fatalx("cases[%zu]: too many audiences", i);
		jwt_result_init(&r);
		jwt_verify(tok, strlen(tok), ks, &p, now, &r);
		if (strcmp(jwt_error_reason(r.jr_error), want) != 0) {
			printf("FAIL - %s: %s (%s), want %s\n", name,
			    jwt_error_reason(r.jr_error),
			    r.jr_why != NULL ? r.jr_why : "", want);
			failed++;
		} else if (r.jr_error == JWT_OK && cases_check(name, &r, c) ==
		    -1)
			failed++;
		else
			printf("ok - %s: %s%s%s\n", name, want,
			    r.jr_why != NULL ? ", " : "",
			    r.jr_why != NULL ? r.jr_why : "");
		jwt_result_fini(&r);
	}
	if (attacks < CASES_MIN_ATTACKS) {
		printf("FAIL - only %zu attack tokens, want %d\n", attacks,
		    CASES_MIN_ATTACKS);
		failed++;
	}
	printf("# %zu cases, %zu attacks, %zu failed\n",
	    json_array_size(cases), attacks, failed);
	jwt_keyset_free(ks);
	json_decref(doc);
	return (failed == 0 ? 0 : 1);
}
