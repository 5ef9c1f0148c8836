/*
 * authn-jwt.c: the "jwt" mechanism (authn.h).  It claims a bearer token
 * shaped like a compact JWS, picks the issuer by the token's (unverified)
 * iss, and verifies it with that issuer's keys and policy (jwt.c).  The
 * dispatcher (authn.c) does the rest: cache, revocation, scopes,
 * consumers.
 *
 * Keys are read by the master when the configuration is loaded (the conf
 * hook), so a bad key file refuses the configuration or the reload and
 * the old generation keeps its keys.  Token contents are never logged.
 */
#include "config.h"

#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "lib.h"
#include "authn-conf.h"
#include <mgw/plugin.h>
#include "jwt.h"
#include "authn.h"

#define AJ_FILE_MAX	(1024 * 1024)	/* bytes of a key file, at most */

/*
 * JWKS-URL: the keys of an issuer with a jwks_url, as one worker last
 * built them from the master's fetches (authn-jwks-fetch.c).  Private memory,
 * changed under a const issuer, hence kept apart.
 */
struct aj_jwks {
	const char		*url;
	enum jwt_alg		 alg;	/* pins keys without alg */
	struct jwks_ref		 ref;
	int			 found;	/* ref looked up in the zone */
	uint64_t		 gen;	/* of the document ks was built from */
	struct jwt_keyset	*ks;	/* NULL: none yet */
};

struct aj_issuer {
	const char		*iss;
	struct jwt_keyset	*ks;	/* NULL: none yet (jwks_url) */
	struct aj_jwks		*jw;	/* jwks_url issuers only */
	struct jwt_policy	 pol;
};

struct aj_state {
	struct aj_issuer	*iss;
	size_t			 niss;
	uint64_t		 epoch;	/* of every issuer's keys and policy */
	struct jwks_set		 jwks;	/* distinct jwks_urls, fetched */
};

static int	aj_conf(const struct mgw_conf *, void **, char **);
static int	aj_init_master(void *, struct event_base *, int, char **);
static void	aj_free(void *);
static const char *aj_credential(void *, struct mgw_request *, size_t *);
static int	aj_verify(void *, struct mgw_request *, const char *, size_t,
		    struct authn_identity *, authn_done_fn *, void *);
static int	aj_strip(void *, struct mgw_request *);
static uint64_t	aj_epoch(void *);
static const char *aj_challenge(void *);

const struct authn_mech authn_mech_jwt = {
	.am_name = "jwt",
	.am_conf = aj_conf,
	.am_init_master = aj_init_master,
	.am_free = aj_free,
	.am_credential = aj_credential,
	.am_verify = aj_verify,
	.am_strip = aj_strip,
	.am_epoch = aj_epoch,
	.am_challenge = aj_challenge,
};

/*
 * The keys of one issuer from its jwks_file or PEM keys, or its jwks_url
 * added to set.  0, or -1 with *cause naming the config item and the
 * file.  The issuer's settings are read here only.
 */
static int
aj_issuer_load(struct aj_issuer *is, const struct conf_jwt_issuer *ji,
    struct jwks_set *set, uint64_t *epoch, char **cause)
{
	struct jwks_url	*ju;
	enum jwt_alg	 alg = JWT_ALG_NONE;
	const char	*why;
	char		*buf, *err = NULL;
	size_t		 len, i;
	int		 rv;

	if (ji->ji_algorithm != NULL)
		alg = jwt_alg_byname(ji->ji_algorithm);
	is->iss = ji->ji_issuer;
	is->ks = jwt_keyset_new();
	is->pol.jp_issuer = ji->ji_issuer;
	is->pol.jp_audiences = (const char *const *)ji->ji_audiences;
	is->pol.jp_naudiences = ji->ji_naudiences;
	is->pol.jp_leeway = (int64_t)(ji->ji_leeway / 1000);
	is->pol.jp_allow_no_exp = ji->ji_allow_no_exp;
	*epoch = authn_hash64(*epoch, ji->ji_issuer, strlen(ji->ji_issuer) + 1);
	for (i = 0; i < ji->ji_naudiences; i++)
		*epoch = authn_hash64(*epoch, ji->ji_audiences[i],
		    strlen(ji->ji_audiences[i]) + 1);
	*epoch = authn_hash64(*epoch, &is->pol.jp_leeway,
	    sizeof(is->pol.jp_leeway));
	*epoch = authn_hash64(*epoch, &is->pol.jp_allow_no_exp,
	    sizeof(is->pol.jp_allow_no_exp));
	/*
	 * JWKS-URL: an issuer with jwks_url gets its keys from the master's
	 * fetches (authn-jwks-fetch.c), not from here.  The first issuer
	 * of a URL gives the fetch its settings.
	 */
	if (ji->ji_jwks_url != NULL) {
		jwt_keyset_free(is->ks);
		is->ks = NULL;
		if (jwks_fetch_check(ji->ji_jwks_url, ji->ji_jwks_ca,
		    ji->ji_where, cause) == -1)
			return (-1);
		for (i = 0; i < set->jt_n; i++)
			if (strcmp(set->jt_urls[i].ju_url,
			    ji->ji_jwks_url) == 0)
				break;
		if (i == set->jt_n) {
			set->jt_urls = xreallocarray(set->jt_urls,
			    set->jt_n + 1, sizeof(*set->jt_urls));
			ju = &set->jt_urls[set->jt_n++];
			memset(ju, 0, sizeof(*ju));
			ju->ju_url = ji->ji_jwks_url;
			ju->ju_ca = ji->ji_jwks_ca;
			ju->ju_alg = alg;
			ju->ju_refresh = ji->ji_jwks_refresh;
			ju->ju_timeout = ji->ji_jwks_timeout;
		}
		*epoch = authn_hash64(*epoch, ji->ji_jwks_url,
		    strlen(ji->ji_jwks_url) + 1);
		is->jw = xcalloc(1, sizeof(*is->jw));
		is->jw->url = ji->ji_jwks_url;
		is->jw->alg = alg;
		return (0);
	}
	if (ji->ji_jwks_file != NULL) {
		if (authn_read_file(ji->ji_jwks_file, AJ_FILE_MAX, &buf, &len,
		    &why) == -1) {
			xasprintf(cause, "%s: jwks_file %s: %s", ji->ji_where,
			    ji->ji_jwks_file, why);
			return (-1);
		}
		*epoch = authn_hash64(*epoch, buf, len);
		rv = jwt_keyset_add_jwks(is->ks, buf, len, alg,
		    ji->ji_jwks_file, &err);
		free(buf);
		if (rv == -1) {
			xasprintf(cause, "%s: jwks_file %s", ji->ji_where, err);
			free(err);
			return (-1);
		}
	}
	for (i = 0; i < ji->ji_nkeys; i++) {
		if (authn_read_file(ji->ji_keys[i], AJ_FILE_MAX, &buf, &len,
		    &why) == -1) {
			xasprintf(cause, "%s: keys %s: %s", ji->ji_where,
			    ji->ji_keys[i], why);
			return (-1);
		}
		*epoch = authn_hash64(*epoch, buf, len);
		rv = jwt_keyset_add_pem(is->ks, buf, len, alg, NULL,
		    ji->ji_keys[i], &err);
		explicit_bzero(buf, len);
		free(buf);
		if (rv == -1) {
			xasprintf(cause, "%s: keys %s", ji->ji_where, err);
			free(err);
			return (-1);
		}
	}
	return (0);
}

static void
aj_free(void *arg)
{
	struct aj_state	*st = arg;
	size_t		 i;

	if (st == NULL)
		return;
	jwks_fetch_stop(&st->jwks);
	free(st->jwks.jt_urls);
	for (i = 0; i < st->niss; i++) {
		jwt_keyset_free(st->iss[i].ks);
		if (st->iss[i].jw != NULL) {
			jwt_keyset_free(st->iss[i].jw->ks);
			free(st->iss[i].jw);
		}
	}
	free(st->iss);
	free(st);
}

/*
 * Master, at every configuration load where a route lists "jwt": read
 * every issuer's keys.  A key file that cannot be read or parsed refuses
 * the configuration.
 */
static int
aj_conf(const struct mgw_conf *conf, void **state, char **cause)
{
	struct aj_state	*st;
	size_t		 i;

	*state = NULL;
	st = xcalloc(1, sizeof(*st));
	st->iss = xcalloc(authn_security(conf)->s_njwt + 1, sizeof(*st->iss));
	for (i = 0; i < authn_security(conf)->s_njwt; i++) {
		st->niss++;
		if (aj_issuer_load(&st->iss[i], &authn_security(conf)->s_jwt[i],
		    &st->jwks, &st->epoch, cause) == -1)
			goto fail;
	}
	if (jwks_fetch_conf(&st->jwks, cause) == -1)
		goto fail;
	*state = st;
	return (0);
fail:
	aj_free(st);
	return (-1);
}

/*
 * Master, once the generation is accepted and before its workers fork:
 * start fetching the jwks_urls (authn-jwks-fetch.c); the first
 * generation waits for its first fetches.  Fetch failures are logged,
 * never refuse the configuration.
 */
static int
aj_init_master(void *arg, struct event_base *base, int initial,
    char **cause)
{
	struct aj_state	*st = arg;

	(void)cause;
	jwks_fetch_start(&st->jwks, base, initial);
	return (0);
}

static const struct aj_issuer *
aj_issuer_find(const struct aj_state *st, const char *iss)
{
	size_t	 i;

	if (iss == NULL)
		return (NULL);
	for (i = 0; i < st->niss; i++)
		if (strcmp(st->iss[i].iss, iss) == 0)
			return (&st->iss[i]);
	return (NULL);
}

/*
 * JWKS-URL: the generation of the master's latest document for jw's URL,
 * 0 while there is none.  The slot is looked up once per worker.
 */
static uint64_t
aj_jwks_generation(struct aj_jwks *jw)
{
	if (!jw->found) {
		if (jwks_fetch_find(&jw->ref, jw->url) == -1)
			return (0);
		jw->found = 1;
	}
	return (jwks_fetch_generation(&jw->ref));
}

/*
 * JWKS-URL: the keys an issuer verifies with now; NULL when it has none
 * yet (a jwks_url not fetched).  A jwks_url issuer's set is rebuilt from
 * the shared document when its generation moved: one atomic load per
 * verification otherwise.  The master validated the document before
 * publishing it, so a failure here is memory; the old keys then stay.
 */
static const struct jwt_keyset *
aj_issuer_keys(const struct aj_issuer *is)
{
	struct aj_jwks		*jw = is->jw;
	struct jwt_keyset	*ks;
	char			*doc, *err = NULL;
	size_t			 len;
	uint64_t		 gen;

	if (jw == NULL)
		return (is->ks);
	if ((gen = aj_jwks_generation(jw)) == 0 || gen == jw->gen)
		return (jw->ks);
	if (jwks_fetch_copy(&jw->ref, &doc, &len, &gen) == -1)
		return (jw->ks);
	jw->gen = gen;
	ks = jwt_keyset_new();
	if (jwt_keyset_add_jwks(ks, doc, len, jw->alg, jw->url, &err) == -1) {
		log_warnx("authn-jwt: %s: cannot use the fetched keys: %s",
		    jw->url, err);
		free(err);
		jwt_keyset_free(ks);
	} else {
		jwt_keyset_free(jw->ks);
		jw->ks = ks;
	}
	free(doc);
	return (jw->ks);
}

/*
 * JWKS-URL: changes whenever the keys of any issuer change: the
 * configuration's, and the generation of each jwks_url document.
 */
static uint64_t
aj_epoch(void *arg)
{
	const struct aj_state	*st = arg;
	uint64_t		 e = st->epoch, gen;
	size_t			 i;

	for (i = 0; i < st->niss; i++) {
		if (st->iss[i].jw == NULL)
			continue;
		gen = aj_jwks_generation(st->iss[i].jw);
		e = authn_hash64(e, &gen, sizeof(gen));
	}
	return (e);
}

static const char *
aj_challenge(void *arg)
{
	(void)arg;
	return ("Bearer realm=\"mgw\"");
}

/*
 * The bearer token of Authorization (RFC 6750 section 2.1: the scheme is
 * case-insensitive); NULL if there is none.  Shared with authn-oauth2.c
 * in spirit, kept local so each mechanism stands alone.
 */
static const char *
aj_bearer(struct mgw_request *r, size_t *lenp)
{
	const char	*v;
	size_t		 len;

	if ((v = mgw_request_header(r, "authorization", &len)) == NULL ||
	    len < 7 || strncasecmp(v, "Bearer ", 7) != 0)
		return (NULL);
	v += 7;
	len -= 7;
	while (len > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		len--;
	}
	while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t'))
		len--;
	if (len == 0)
		return (NULL);
	*lenp = len;
	return (v);
}

/*
 * A bearer token shaped like a compact JWS (two dots): ours.  Anything
 * else is left to a later mechanism (an opaque token for "oauth2"); when
 * none claims it, the client gets 401 missing_credentials.
 */
static const char *
aj_credential(void *arg, struct mgw_request *r, size_t *lenp)
{
	const char	*tok, *p;
	size_t		 len;

	(void)arg;
	if ((tok = aj_bearer(r, &len)) == NULL)
		return (NULL);
	if ((p = memchr(tok, '.', len)) == NULL ||
	    memchr(p + 1, '.', len - (p + 1 - tok)) == NULL)
		return (NULL);
	*lenp = len;
	return (tok);
}

static void
aj_copy(char *dst, size_t size, const char *src)
{
	if (src == NULL)
		dst[0] = '\0';
	else
		snprintf(dst, size, "%s", src);
}

static enum authn_verdict
aj_verdict(enum jwt_error e)
{
	switch (e) {
	case JWT_OK:
		return (AUTHN_OK);
	case JWT_E_EXPIRED:
		return (AUTHN_EXPIRED);
	case JWT_E_INTERNAL:
		return (AUTHN_INTERNAL);
	default:
		return (AUTHN_INVALID);
	}
}

/* Verify a token: always at once (a signature check is bounded work). */
static int
aj_verify(void *arg, struct mgw_request *r, const char *tok, size_t len,
    struct authn_identity *id, authn_done_fn *done, void *darg)
{
	struct aj_state			*st = arg;
	const struct aj_issuer		*is;
	const struct jwt_keyset		*ks;
	struct jwt_token		*t = NULL;
	struct jwt_result		 res;
	enum jwt_error			 e;
	const char			*why = NULL;
	size_t				 i, n;

	(void)r;
	(void)done;
	(void)darg;
	if ((e = jwt_token_parse(tok, len, &t, &why)) != JWT_OK) {
		id->ai_verdict = aj_verdict(e);
		id->ai_reason = jwt_error_reason(e);
		authn_identity_why(id, "%s", why != NULL ? why :
		    id->ai_reason);
		return (0);
	}
	if ((is = aj_issuer_find(st, jwt_token_issuer(t))) == NULL) {
		jwt_token_free(t);
		id->ai_verdict = AUTHN_INVALID;
		id->ai_reason = jwt_error_reason(JWT_E_ISSUER);
		authn_identity_why(id, "unknown issuer");
		return (0);
	}
	if ((ks = aj_issuer_keys(is)) == NULL) {
		jwt_token_free(t);
		id->ai_verdict = AUTHN_UNAVAILABLE;
		id->ai_reason = "unavailable";
		id->ai_cacheable = 0;
		authn_identity_why(id, "keys of issuer %s not fetched yet",
		    is->iss);
		return (0);
	}
	jwt_result_init(&res);
	e = jwt_token_verify(t, ks, &is->pol, (int64_t)time(NULL), &res);
	jwt_token_free(t);
	id->ai_verdict = aj_verdict(e);
	id->ai_reason = jwt_error_reason(e);
	if (e != JWT_OK) {
		authn_identity_why(id, "%s", res.jr_why != NULL ?
		    res.jr_why : id->ai_reason);
		jwt_result_fini(&res);
		return (0);
	}
	aj_copy(id->ai_subject, sizeof(id->ai_subject), res.jr_subject);
	aj_copy(id->ai_client_id, sizeof(id->ai_client_id),
	    res.jr_client_id);
	aj_copy(id->ai_jti, sizeof(id->ai_jti), res.jr_jti);
	id->ai_exp = res.jr_exp;
	/*
	 * Names or scopes too long for the fixed-size identity would be cut:
	 * such a token is verified on every use instead of cached wrong.
	 */
	if ((res.jr_subject != NULL &&
	    strlen(res.jr_subject) >= sizeof(id->ai_subject)) ||
	    (res.jr_client_id != NULL &&
	    strlen(res.jr_client_id) >= sizeof(id->ai_client_id)) ||
	    (res.jr_jti != NULL && strlen(res.jr_jti) >= sizeof(id->ai_jti)))
		id->ai_cacheable = 0;
	n = 0;
	for (i = 0; i < res.jr_nscopes; i++) {
		if (n + strlen(res.jr_scopes[i]) + 2 > sizeof(id->ai_scopes)) {
			id->ai_cacheable = 0;
			/* Fail closed: a scope that does not fit is lost. */
			break;
		}
		n += snprintf(id->ai_scopes + n, sizeof(id->ai_scopes) - n,
		    "%s%s", n > 0 ? " " : "", res.jr_scopes[i]);
	}
	jwt_result_fini(&res);
	return (0);
}

static int
aj_strip(void *arg, struct mgw_request *r)
{
	(void)arg;
	return (mgw_request_set_header(r, "Authorization", NULL, 0));
}
