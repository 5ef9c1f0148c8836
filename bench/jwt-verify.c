/*
 * jwt-verify.c: what a JWT costs to verify, per algorithm, with mgw's
 * module and no cache: the first verification with a freshly loaded key
 * (what a cache miss right after a reload pays) and the mean over n more.
 *
 * Usage: bench/jwt-verify CASES.json [n]
 * where CASES.json comes from tests/jwt-mint.py; the "valid ALG (kid K)"
 * tokens are timed.  Build with `make bench/jwt-verify`; results are kept
 * in bench/RESULTS.md.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "lib.h"
#include "jwt.h"
#include "authn.h"

static uint64_t	 bench_now_ns(void);
static char	*bench_read(const char *, size_t *);
static struct jwt_keyset *bench_keyset(json_t *);

static uint64_t
bench_now_ns(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec);
}

static char *
bench_read(const char *path, size_t *lenp)
{
	char		*buf;
	const char	*why;

	if (authn_read_file(path, 64 * 1024 * 1024, &buf, lenp, &why) == -1)
		fatalx("%s: %s", path, why);
	return (buf);
}

/* A fresh key set from the JWKS and PEM files the cases name. */
static struct jwt_keyset *
bench_keyset(json_t *doc)
{
	struct jwt_keyset	*ks;
	const char		*path;
	json_t			*v, *alg;
	char			*buf, *cause;
	size_t			 len, i;

	ks = jwt_keyset_new();
	path = json_string_value(json_object_get(doc, "jwks"));
	buf = bench_read(path, &len);
	if (jwt_keyset_add_jwks(ks, buf, len, JWT_ALG_NONE, path, &cause) ==
	    -1)
		fatalx("%s", cause);
	free(buf);
	json_array_foreach(json_object_get(doc, "pem"), i, v) {
		path = json_string_value(json_object_get(v, "file"));
		alg = json_object_get(v, "alg");
		buf = bench_read(path, &len);
		if (jwt_keyset_add_pem(ks, buf, len, alg == NULL ?
		    JWT_ALG_NONE : jwt_alg_byname(json_string_value(alg)),
		    json_string_value(json_object_get(v, "kid")), path,
		    &cause) == -1)
			fatalx("%s", cause);
		free(buf);
	}
	return (ks);
}

int
main(int argc, char *argv[])
{
	struct jwt_keyset	*ks;
	struct jwt_policy	 p;
	struct jwt_result	 r;
	json_error_t		 jerr;
	json_t			*doc, *c, *pol;
	const char		*name, *tok, *auds[1];
	uint64_t		 t0, first, total;
	int64_t			 now;
	size_t			 i, len;
	long			 n = 2000, k;
	char			*buf;

	log_init(1, 0);
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: jwt-verify CASES.json [n]\n");
		return (2);
	}
	if (argc == 3 && (n = strtol(argv[2], NULL, 10)) < 1)
		n = 1;
	buf = bench_read(argv[1], &len);
	if ((doc = json_loadb(buf, len, 0, &jerr)) == NULL)
		fatalx("%s: %s", argv[1], jerr.text);
	free(buf);
	now = json_integer_value(json_object_get(doc, "now"));
	pol = json_object_get(doc, "policy");
	memset(&p, 0, sizeof(p));
	p.jp_issuer = json_string_value(json_object_get(pol, "iss"));
	auds[0] = json_string_value(json_array_get(json_object_get(pol, "aud"),
	    0));
	p.jp_audiences = auds;
	p.jp_naudiences = 1;
	p.jp_leeway = 30;

	printf("%-28s %12s %12s %10s\n", "token", "first (us)", "mean (us)",
	    "per sec");
	json_array_foreach(json_object_get(doc, "cases"), i, c) {
		name = json_string_value(json_object_get(c, "name"));
		tok = json_string_value(json_object_get(c, "token"));
		if (strncmp(name, "valid ", 6) != 0 ||
		    strstr(name, "(kid ") == NULL)
			continue;
		/* A key set of its own, so the first use is a cold one. */
		ks = bench_keyset(doc);
		jwt_result_init(&r);
		t0 = bench_now_ns();
		if (jwt_verify(tok, strlen(tok), ks, &p, now, &r) != JWT_OK)
			fatalx("%s: %s", name, r.jr_why);
		first = bench_now_ns() - t0;
		jwt_result_fini(&r);
		t0 = bench_now_ns();
		for (k = 0; k < n; k++) {
			jwt_result_init(&r);
			jwt_verify(tok, strlen(tok), ks, &p, now, &r);
			jwt_result_fini(&r);
		}
		total = bench_now_ns() - t0;
		printf("%-28s %12.1f %12.1f %10.0f\n", name + 6,
		    first / 1e3, total / 1e3 / n, n * 1e9 / total);
		jwt_keyset_free(ks);
	}
	json_decref(doc);
	return (0);
}
