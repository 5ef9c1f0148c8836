/*
 * authn.c: the authentication plugin.  For a route whose security lists
 * mechanisms, the first one whose credential the request carries
 * decides (authn.h).  This file owns what the mechanisms share: the
 * revocation list and the token cache in shared memory, scopes,
 * consumers and subscriptions, what goes upstream, and the answers.
 *
 * A credential is known by the SHA-256 of its bytes as sent.  The same
 * digest is the "token hash" an operator revokes with mgwctl, and (mixed
 * with the mechanism) the key of the token cache, which holds the
 * verdict and the identity so a repeat skips the signature check, the
 * bcrypt, or the introspection round trip.  Cached entries carry the
 * mechanism's epoch, so a reload that changes keys or users, or a JWKS
 * refresh, makes older verdicts misses.  Revocation is checked on every
 * request, cached or not.
 */
#include "config.h"

#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "lib.h"
#include "authn-conf.h"
#include "shm.h"
#include <mgw/plugin.h>
#include "authn.h"

#define AN_MECH_MAX	4
#define AN_SCOPE_REALM	"Bearer realm=\"mgw\""

static const struct authn_mech *const an_mechs[AN_MECH_MAX] = {
	&authn_mech_jwt, &authn_mech_apikey, &authn_mech_basic,
	&authn_mech_oauth2
};

/*
 * The reasons a mechanism may give (metrics and analytics labels), by
 * number, so that a cached identity holds no pointer.  Unknown ones are
 * stored as "invalid".
 */
static const char *const an_reasons[] = {
	"ok", "invalid", "malformed", "forbidden_header", "algorithm",
	"unknown_key", "signature", "bad_claim", "expired", "not_yet_valid",
	"issuer", "audience", "internal", "inactive", "unavailable",
	"revoked", "missing"
};
#define AN_NREASONS	(sizeof(an_reasons) / sizeof(an_reasons[0]))

struct an_mech {
	const struct authn_mech	*m;
	void			*state;		/* NULL: not configured */
	uint8_t			 id;		/* position in an_mechs */
};

/* What a route asks for: mechanisms in order, and scopes (any one). */
struct an_route {
	const struct an_mech	*mechs[AN_MECH_MAX];
	size_t			 nmechs;
	const char *const	*scopes;
	size_t			 nscopes;
	char			*scopehdr;	/* WWW-Authenticate on 403 */
};

struct an_api {
	const char		*name;
	struct an_route		 route;
	struct an_route		*res;		/* per resource */
	size_t			 nres;
};

/* A name (jwt subject, Basic user, consumer name) and its consumer. */
struct an_name {
	const char			*name;
	const struct authn_conf_consumer	*cs;
};

struct an_state {
	struct an_mech		 mechs[AN_MECH_MAX];
	struct an_api		*apis;
	size_t			 napis;
	struct an_name		*subs;		/* jwt_subjects, sorted */
	size_t			 nsubs;
	struct an_name		*users;		/* basic_users, sorted */
	size_t			 nusers;
	struct an_name		*names;		/* consumer names, sorted */
	size_t			 nnames;
	int			 forward;
	const char		*consumer_header;
	const char		*claims_header;
	uint64_t		 ttl;		/* ms */
	uint64_t		 negative_ttl;	/* ms */
	const char		*revocation_file;	/* NULL: none */
};

/* The cache's value: an identity without pointers. */
struct an_record {
	struct authn_identity	 rec_id;
	uint32_t		 rec_reason;	/* into an_reasons */
};

/* A request whose mechanism answers later. */
struct an_pending {
	struct an_state		*st;
	const struct an_mech	*mech;
	const struct an_route	*rt;
	const struct an_api	*api;
	const char		*cred;		/* the request's bytes */
	size_t			 credlen;
	uint8_t			 hash[SHA256_DIGEST_LENGTH];
	struct authn_identity	 id;
};

/*
 * Worker: SHA-256 fetched once and one context reused, so hashing a
 * credential on every request costs no algorithm lookup (a lock in
 * OpenSSL 3) and no allocation.
 */
static EVP_MD		*an_sha256;
static EVP_MD_CTX	*an_mdctx;

static int	an_conf(const struct mgw_conf *, void **, char **);
static void	an_free(void *);
static int	an_init_master(void *, struct event_base *, char **);
static int	an_init_worker(void *, char **);
static int	an_access(void *, struct mgw_request *);
static void	an_cancel(void *, struct mgw_request *);

const struct mgw_plugin plugin_authn = {
	.api = MGW_PLUGIN_API,
	.name = "authn",
	.settings = authn_settings,
	.conf = an_conf,
	.init_master = an_init_master,
	.init_worker = an_init_worker,
	.access = an_access,
	.fini = an_free,
	.cancel = an_cancel,
	.ctl_verbs = authn_ctl_verbs,
	.metrics = authn_metrics,
	.status = authn_status,
};

static int
an_name_cmp(const void *a, const void *b)
{
	return (strcmp(((const struct an_name *)a)->name,
	    ((const struct an_name *)b)->name));
}

static const struct authn_conf_consumer *
an_name_find(const struct an_name *v, size_t n, const char *name)
{
	struct an_name	 key, *e;

	if (name == NULL || name[0] == '\0' || n == 0)
		return (NULL);
	key.name = name;
	e = bsearch(&key, v, n, sizeof(*v), an_name_cmp);
	return (e != NULL ? e->cs : NULL);
}

static void
an_name_add(struct an_name **v, size_t *n, const char *name,
    const struct authn_conf_consumer *cs)
{
	*v = xreallocarray(*v, *n + 1, sizeof(**v));
	(*v)[*n].name = name;
	(*v)[(*n)++].cs = cs;
}

/*
 * Sort an index and refuse a name that points at two consumers.  0, or
 * -1 with *cause.
 */
static int
an_name_index(struct an_name *v, size_t n, const char *file,
    const char *what, char **cause)
{
	size_t	 i;

	if (n > 0)
		qsort(v, n, sizeof(*v), an_name_cmp);
	for (i = 1; i < n; i++) {
		if (strcmp(v[i - 1].name, v[i].name) != 0)
			continue;
		xasprintf(cause, "%s: %s '%s' names two consumers (%s and "
		    "%s)", file, what, v[i].name, v[i - 1].cs->cs_name,
		    v[i].cs->cs_name);
		return (-1);
	}
	return (0);
}

static int
an_mech_id(const char *name)
{
	int	 i;

	for (i = 0; i < AN_MECH_MAX; i++)
		if (strcmp(an_mechs[i]->am_name, name) == 0)
			return (i);
	return (-1);
}

/*
 * A route's mechanisms and scopes.  A scope goes into a WWW-Authenticate
 * quoted string, so it may hold no space, quote or backslash (RFC 6750
 * scope-token).  0, or -1 with *cause.
 */
static int
an_route_init(struct an_state *st, struct an_route *rt, char **sec,
    size_t nsec, char **scopes, size_t nscopes, const char *file,
    const char *where, char **cause)
{
	size_t	 i, len = 0;
	char	*p;
	int	 id;

	for (i = 0; i < nsec && rt->nmechs < AN_MECH_MAX; i++) {
		/* conf.c refused unknown and repeated names. */
		if ((id = an_mech_id(sec[i])) == -1)
			continue;
		rt->mechs[rt->nmechs++] = &st->mechs[id];
		st->mechs[id].m = an_mechs[id];
	}
	rt->scopes = (const char *const *)scopes;
	rt->nscopes = nscopes;
	for (i = 0; i < nscopes; i++) {
		if (scopes[i][0] == '\0' ||
		    strpbrk(scopes[i], " \"\\") != NULL) {
			xasprintf(cause, "%s: %s: bad scope '%s' (no spaces, "
			    "quotes or backslashes)", file, where, scopes[i]);
			return (-1);
		}
		len += strlen(scopes[i]) + 1;
	}
	if (nscopes == 0)
		return (0);
	len += sizeof(AN_SCOPE_REALM ", error=\"insufficient_scope\", "
	    "scope=\"\"");
	rt->scopehdr = p = xmalloc(len);
	p += snprintf(p, len, "%s, error=\"insufficient_scope\", scope=\"",
	    AN_SCOPE_REALM);
	for (i = 0; i < nscopes; i++)
		p += snprintf(p, len - (p - rt->scopehdr), "%s%s",
		    i > 0 ? " " : "", scopes[i]);
	snprintf(p, len - (p - rt->scopehdr), "\"");
	return (0);
}

static void
an_free(void *arg)
{
	struct an_state	*st = arg;
	size_t		 i, j;

	if (st == NULL)
		return;
	for (i = 0; i < AN_MECH_MAX; i++)
		if (st->mechs[i].state != NULL)
			st->mechs[i].m->am_free(st->mechs[i].state);
	for (i = 0; i < st->napis; i++) {
		free(st->apis[i].route.scopehdr);
		for (j = 0; j < st->apis[i].nres; j++)
			free(st->apis[i].res[j].scopehdr);
		free(st->apis[i].res);
	}
	free(st->apis);
	free(st->subs);
	free(st->users);
	free(st->names);
	free(st);
}

/*
 * The revocation file of the generation whose state this is, where
 * mgwctl revoke persists the list (authn-ctl.c).  Master only.
 */
const char *
authn_revocation_file(const void *arg)
{
	const struct an_state	*st = arg;

	return (st != NULL ? st->revocation_file : NULL);
}

/* Whether the configuration sets up mechanism i (keys, users, ...). */
static int
an_configured(const struct mgw_conf *conf, size_t i)
{
	const struct conf_security	*sec = authn_security(conf);
	size_t				 j;

	if (an_mechs[i] == &authn_mech_jwt)
		return (sec->s_njwt > 0);
	if (an_mechs[i] == &authn_mech_basic)
		return (sec->s_htpasswd != NULL);
	if (an_mechs[i] == &authn_mech_oauth2)
		return (sec->s_introspection != NULL);
	for (j = 0; j < mgw_conf_nconsumers(conf); j++)
		if (authn_consumer(conf, j)->cs_napi_keys > 0)
			return (1);
	return (0);
}

/*
 * Master, at every configuration load: work out which routes need which
 * mechanisms, let each mechanism used read what it trusts (key files,
 * htpasswd), index the consumers, and declare the token cache and the
 * revocation list.  Anything unreadable refuses the configuration.
 */
static int
an_conf(const struct mgw_conf *conf, void **state, char **cause)
{
	struct an_state			*st;
	const struct authn_conf_api	*a;
	const struct authn_conf_resource *r;
	const struct authn_conf_consumer	*cs;
	const struct mgw_api		*ma;
	char				 where[128];
	size_t				 i, j, k, napis, nres;
	int				 used = 0;

	*state = NULL;
	st = xcalloc(1, sizeof(*st));
	for (i = 0; i < AN_MECH_MAX; i++)
		st->mechs[i].id = (uint8_t)i;
	st->forward = authn_security(conf)->s_forward_credentials;
	st->consumer_header = authn_security(conf)->s_consumer_header;
	st->claims_header = authn_security(conf)->s_claims_header;
	st->ttl = authn_security(conf)->s_token_cache.tc_ttl;
	st->negative_ttl = authn_security(conf)->s_token_cache.tc_negative_ttl;
	st->revocation_file = authn_security(conf)->s_revocation_file;
	napis = mgw_conf_napis(conf);
	st->apis = xcalloc(napis + 1, sizeof(*st->apis));
	st->napis = napis;
	for (i = 0; i < napis; i++) {
		ma = mgw_conf_api(conf, i);
		a = authn_api(conf, i);
		st->apis[i].name = mgw_api_name(ma);
		snprintf(where, sizeof(where), "apis[%zu]", i);
		if (an_route_init(st, &st->apis[i].route, a->a_security,
		    a->a_nsecurity, NULL, 0, mgw_conf_file(conf), where,
		    cause) == -1)
			goto fail;
		nres = mgw_api_nresources(ma);
		st->apis[i].res = xcalloc(nres + 1, sizeof(*st->apis[i].res));
		st->apis[i].nres = nres;
		for (j = 0; j < nres; j++) {
			r = authn_resource(conf, i, j);
			snprintf(where, sizeof(where), "apis[%zu].resources"
			    "[%zu].scopes", i, j);
			if (r->r_security_set ?
			    an_route_init(st, &st->apis[i].res[j],
			    r->r_security, r->r_nsecurity, r->r_scopes,
			    r->r_nscopes, mgw_conf_file(conf), where,
			    cause) == -1 :
			    an_route_init(st, &st->apis[i].res[j],
			    a->a_security, a->a_nsecurity, r->r_scopes,
			    r->r_nscopes, mgw_conf_file(conf), where,
			    cause) == -1)
				goto fail;
		}
	}
	for (i = 0; i < AN_MECH_MAX; i++) {
		if (st->mechs[i].m != NULL)
			used = 1;
		/*
		 * What is configured is loaded even if no route uses it
		 * yet: a bad key file is an error now, not at the reload
		 * that starts using it.
		 */
		else if (an_configured(conf, i) && an_mechs[i]->am_conf != NULL)
			st->mechs[i].m = an_mechs[i];
		else
			continue;
		if (an_mechs[i]->am_conf == NULL) {
			xasprintf(cause, "%s: security mechanism %s is not "
			    "available in this build", mgw_conf_file(conf),
			    an_mechs[i]->am_name);
			st->mechs[i].m = NULL;
			goto fail;
		}
		if (an_mechs[i]->am_conf(conf, &st->mechs[i].state,
		    cause) == -1) {
			st->mechs[i].m = NULL;
			goto fail;
		}
	}
	for (i = 0; i < mgw_conf_nconsumers(conf); i++) {
		cs = authn_consumer(conf, i);
		for (j = 0; j < cs->cs_nsubscriptions; j++) {
			for (k = 0; k < napis; k++)
				if (strcmp(mgw_api_name(mgw_conf_api(conf, k)),
				    cs->cs_subscriptions[j]) == 0)
					break;
			if (k == napis) {
				xasprintf(cause, "%s: consumers[%zu] (%s): "
				    "subscription to unknown API '%s'",
				    mgw_conf_file(conf), i, cs->cs_name,
				    cs->cs_subscriptions[j]);
				goto fail;
			}
		}
		an_name_add(&st->names, &st->nnames, cs->cs_name, cs);
		for (j = 0; j < cs->cs_njwt_subjects; j++)
			an_name_add(&st->subs, &st->nsubs,
			    cs->cs_jwt_subjects[j], cs);
		for (j = 0; j < cs->cs_nbasic_users; j++)
			an_name_add(&st->users, &st->nusers,
			    cs->cs_basic_users[j], cs);
	}
	if (an_name_index(st->names, st->nnames, mgw_conf_file(conf), "name",
	    cause) == -1 ||
	    an_name_index(st->subs, st->nsubs, mgw_conf_file(conf),
	    "JWT subject", cause) == -1 ||
	    an_name_index(st->users, st->nusers, mgw_conf_file(conf),
	    "Basic user", cause) == -1)
		goto fail;
	if (used && token_cache_init(&authn_security(conf)->s_token_cache,
	    sizeof(struct an_record), cause) == -1)
		goto fail;
	if (revoke_init(authn_security(conf), cause) == -1)
		goto fail;
	*state = st;
	return (MGW_OK);
fail:
	an_free(st);
	return (MGW_ERROR);
}

/*
 * Master, once the generation is accepted and before its workers fork:
 * the mechanisms' background work (the jwt mechanism fetches its
 * jwks_urls).  The first generation of this mgwd is the one whose
 * workers must not start without keys.
 */
static int
an_init_master(void *arg, struct event_base *base, char **cause)
{
	static int	 started;
	struct an_state	*st = arg;
	size_t		 i;
	int		 initial = !started;

	started = 1;
	if (st == NULL)
		return (MGW_OK);
	for (i = 0; i < AN_MECH_MAX; i++) {
		if (st->mechs[i].m == NULL ||
		    st->mechs[i].m->am_init_master == NULL)
			continue;
		if (st->mechs[i].m->am_init_master(st->mechs[i].state, base,
		    initial, cause) == -1)
			return (MGW_ERROR);
	}
	return (MGW_OK);
}

static int
an_init_worker(void *arg, char **cause)
{
	struct an_state	*st = arg;
	size_t		 i;

	jwks_fetch_close_inherited();
	if (st == NULL)
		return (MGW_OK);
	if (an_sha256 == NULL && (an_sha256 = EVP_MD_fetch(NULL, "SHA256",
	    NULL)) == NULL) {
		xasprintf(cause, "authn: SHA-256 is not available");
		return (MGW_ERROR);
	}
	if (an_mdctx == NULL && (an_mdctx = EVP_MD_CTX_new()) == NULL) {
		xasprintf(cause, "authn: out of memory");
		return (MGW_ERROR);
	}
	for (i = 0; i < AN_MECH_MAX; i++) {
		if (st->mechs[i].m == NULL ||
		    st->mechs[i].m->am_init_worker == NULL)
			continue;
		if (st->mechs[i].m->am_init_worker(st->mechs[i].state,
		    cause) == -1)
			return (MGW_ERROR);
	}
	return (MGW_OK);
}

static uint64_t
an_now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
}

static uint32_t
an_reason_num(const char *reason)
{
	uint32_t	 i;

	if (reason != NULL)
		for (i = 0; i < AN_NREASONS; i++)
			if (strcmp(an_reasons[i], reason) == 0)
				return (i);
	return (1);
}

/* The SHA-256 of a credential: the token hash.  0 or -1. */
static int
an_digest(const char *cred, size_t len, uint8_t *hash)
{
	if (an_mdctx == NULL) {
		SHA256((const unsigned char *)cred, len, hash);
		return (0);
	}
	if (EVP_DigestInit_ex2(an_mdctx, an_sha256, NULL) != 1 ||
	    EVP_DigestUpdate(an_mdctx, cred, len) != 1 ||
	    EVP_DigestFinal_ex(an_mdctx, hash, NULL) != 1)
		return (-1);
	return (0);
}

/* The cache key: the credential's digest, told apart per mechanism. */
static void
an_cache_key(const uint8_t *hash, const struct an_mech *mech, uint8_t *key)
{
	memcpy(key, hash, SHA256_DIGEST_LENGTH);
	key[0] ^= (uint8_t)(mech->id + 1);
}

static uint64_t
an_epoch(const struct an_mech *mech)
{
	uint64_t	 e = 0;

	if (mech->m->am_epoch != NULL)
		e = mech->m->am_epoch(mech->state);
	return (e ^ ((uint64_t)(mech->id + 1) << 56));
}

static int
an_cache_get(const struct an_mech *mech, const uint8_t *hash,
    struct authn_identity *id)
{
	struct an_record	 rec;
	uint8_t			 key[SHA256_DIGEST_LENGTH];

	an_cache_key(hash, mech, key);
	if (token_cache_get(key, an_epoch(mech), an_now_ms(), &rec,
	    sizeof(rec)) != 1)
		return (0);
	*id = rec.rec_id;
	id->ai_reason = an_reasons[rec.rec_reason < AN_NREASONS ?
	    rec.rec_reason : 1];
	id->ai_consumer = NULL;
	return (1);
}

/*
 * Keep a fresh verdict: an accepted credential until the cache's ttl but
 * never past its own exp; a refused one for negative_ttl.  "Cannot tell
 * now" is never kept.
 */
static void
an_cache_put(const struct an_state *st, const struct an_mech *mech,
    const uint8_t *hash, const struct authn_identity *id)
{
	struct an_record	 rec;
	uint8_t			 key[SHA256_DIGEST_LENGTH];
	uint64_t		 now, until;

	if (mech->m->am_nocache || !id->ai_cacheable ||
	    id->ai_verdict == AUTHN_UNAVAILABLE ||
	    id->ai_verdict == AUTHN_INTERNAL)
		return;
	now = an_now_ms();
	if (id->ai_verdict == AUTHN_OK) {
		until = now + st->ttl;
		if (id->ai_exp > 0 && (uint64_t)id->ai_exp * 1000 < until)
			until = (uint64_t)id->ai_exp * 1000;
	} else
		until = st->negative_ttl > 0 ? now + st->negative_ttl : 0;
	if (until <= now)
		return;
	memset(&rec, 0, sizeof(rec));
	rec.rec_id = *id;
	rec.rec_id.ai_reason = NULL;
	rec.rec_id.ai_consumer = NULL;
	rec.rec_reason = an_reason_num(id->ai_reason);
	an_cache_key(hash, mech, key);
	token_cache_put(key, an_epoch(mech), until, &rec, sizeof(rec));
}

/* Whether the space-separated list holds scope. */
static int
an_scope_has(const char *list, const char *scope)
{
	size_t		 n = strlen(scope);
	const char	*p = list;

	while ((p = strstr(p, scope)) != NULL) {
		if ((p == list || p[-1] == ' ') &&
		    (p[n] == '\0' || p[n] == ' '))
			return (1);
		p += n;
	}
	return (0);
}

/* A quoted-string-safe copy of a detail for error_description. */
static void
an_plain(char *dst, size_t size, const char *src)
{
	size_t	 i, n = 0;

	for (i = 0; src[i] != '\0' && n < size - 1; i++)
		if (src[i] != '"' && src[i] != '\\' &&
		    (unsigned char)src[i] >= 0x20 && src[i] != 0x7f)
			dst[n++] = src[i];
	dst[n] = '\0';
}

/* Every listed mechanism's challenge, for missing credentials. */
static int
an_challenges(struct mgw_request *r, const struct an_route *rt)
{
	const char	*ch[AN_MECH_MAX];
	size_t		 i, j;

	for (i = 0; i < rt->nmechs; i++) {
		ch[i] = rt->mechs[i]->m->am_challenge(rt->mechs[i]->state);
		/* jwt and oauth2 both challenge for a bearer token. */
		for (j = 0; j < i; j++)
			if (strcmp(ch[i], ch[j]) == 0)
				break;
		if (j == i && mgw_response_add_header(r, "WWW-Authenticate",
		    ch[i]) == -1)
			return (-1);
	}
	return (0);
}

/* 401, 503 or 500 for a credential that did not pass. */
static int
an_refuse(struct mgw_request *r, const struct an_api *api,
    const struct an_mech *mech, const struct authn_identity *id)
{
	char		 hv[384], msg[192], desc[AUTHN_WHY_MAX];
	const char	*ch, *code, *what;

	an_plain(desc, sizeof(desc), id->ai_why[0] != '\0' ? id->ai_why :
	    id->ai_reason);
	log_debug("authn: %s: %s credentials refused: %s (%s)", api->name,
	    mech->m->am_name, id->ai_reason, desc);
	mgw_request_set_reason(r, id->ai_reason);
	switch (id->ai_verdict) {
	case AUTHN_UNAVAILABLE:
		snprintf(msg, sizeof(msg), "credentials cannot be verified "
		    "now: %s", desc);
		return (mgw_respond_error(r, 503, "auth_unavailable", msg));
	case AUTHN_EXPIRED:
		code = "expired";
		what = "expired credentials";
		break;
	case AUTHN_REVOKED:
		code = "revoked";
		what = "revoked credentials";
		break;
	case AUTHN_INVALID:
		code = "invalid_credentials";
		what = "invalid credentials";
		break;
	default:
		return (mgw_respond_error(r, 500, "internal_error",
		    "the credentials could not be verified"));
	}
	ch = mech->m->am_challenge(mech->state);
	/* RFC 6750 3.1: a refused bearer token is invalid_token. */
	if (strncasecmp(ch, "Bearer", 6) == 0) {
		snprintf(hv, sizeof(hv), "%s, error=\"invalid_token\", "
		    "error_description=\"%s\"", ch, desc);
		ch = hv;
	}
	if (mgw_response_add_header(r, "WWW-Authenticate", ch) == -1)
		return (MGW_ERROR);
	snprintf(msg, sizeof(msg), "%s: %s", what, desc);
	return (mgw_respond_error(r, 401, code, msg));
}

/* The payload segment of a compact JWS: the claims, base64url. */
static const char *
an_payload(const char *tok, size_t len, size_t *plen)
{
	const char	*p, *q;

	if ((p = memchr(tok, '.', len)) == NULL)
		return (NULL);
	p++;
	if ((q = memchr(p, '.', len - (p - tok))) == NULL)
		return (NULL);
	*plen = q - p;
	return (p);
}

/*
 * The credential passed its mechanism (or the cache): revocation by jti,
 * scopes, the consumer and its subscriptions, then what goes upstream.
 */
static int
an_accept(struct an_state *st, struct mgw_request *r, const struct an_api *api,
    const struct an_route *rt, const struct an_mech *mech, const char *cred,
    size_t credlen, struct authn_identity *id)
{
	const struct authn_conf_consumer	*cs = NULL;
	const char			*pl;
	char				 msg[256];
	size_t				 i, len, plen;
	int				 rv = 0;

	if (id->ai_jti[0] != '\0' &&
	    revoke_check(NULL, id->ai_jti, (int64_t)time(NULL)) == 1) {
		id->ai_verdict = AUTHN_REVOKED;
		id->ai_reason = "revoked";
		authn_identity_why(id, "the token has been revoked");
		return (an_refuse(r, api, mech, id));
	}
	for (i = 0; i < rt->nscopes; i++)
		if (an_scope_has(id->ai_scopes, rt->scopes[i]))
			break;
	if (rt->nscopes > 0 && i == rt->nscopes) {
		log_debug("authn: %s: insufficient scope", api->name);
		mgw_request_set_reason(r, "scope");
		if (mgw_response_add_header(r, "WWW-Authenticate",
		    rt->scopehdr) == -1)
			return (MGW_ERROR);
		if (rt->nscopes == 1)
			snprintf(msg, sizeof(msg), "insufficient scope: "
			    "'%s' is required", rt->scopes[0]);
		else {
			len = snprintf(msg, sizeof(msg), "insufficient scope: "
			    "one of");
			for (i = 0; i < rt->nscopes && len < sizeof(msg); i++)
				len += snprintf(msg + len, sizeof(msg) - len,
				    " '%s'", rt->scopes[i]);
			if (len < sizeof(msg))
				snprintf(msg + len, sizeof(msg) - len,
				    " is required");
		}
		return (mgw_respond_error(r, 403, "insufficient_scope", msg));
	}

	if (id->ai_consumer_name[0] != '\0')
		cs = an_name_find(st->names, st->nnames, id->ai_consumer_name);
	else if (strcmp(mech->m->am_name, "basic") == 0)
		cs = an_name_find(st->users, st->nusers, id->ai_subject);
	else if ((cs = an_name_find(st->subs, st->nsubs,
	    id->ai_subject)) == NULL)
		cs = an_name_find(st->subs, st->nsubs, id->ai_client_id);
	if (cs != NULL && cs->cs_subscriptions_set) {
		for (i = 0; i < cs->cs_nsubscriptions; i++)
			if (strcmp(cs->cs_subscriptions[i], api->name) == 0)
				break;
		if (i == cs->cs_nsubscriptions) {
			log_debug("authn: %s: consumer %s is not subscribed",
			    api->name, cs->cs_name);
			mgw_request_set_reason(r, "not_subscribed");
			snprintf(msg, sizeof(msg), "consumer %s is not "
			    "subscribed to API %s", cs->cs_name, api->name);
			return (mgw_respond_error(r, 403, "not_subscribed",
			    msg));
		}
	}
	/*
	 * The consumer is named only when configured: a token's subject is
	 * not an application, and throttling keys on applications.
	 */
	if (cs != NULL) {
		if (mgw_request_set_consumer(r, cs->cs_name) == -1)
			return (MGW_ERROR);
		mgw_request_set_key_type(r, id->ai_sandbox ? "SANDBOX" :
		    "PRODUCTION");
	}
	if (!st->forward && mech->m->am_strip != NULL)
		rv |= mech->m->am_strip(mech->state, r);
	/* A client's own copy of these headers never goes upstream. */
	if (st->consumer_header != NULL)
		rv |= mgw_request_set_header(r, st->consumer_header,
		    cs != NULL ? cs->cs_name : NULL,
		    cs != NULL ? strlen(cs->cs_name) : 0);
	if (st->claims_header != NULL) {
		pl = strcmp(mech->m->am_name, "jwt") == 0 ?
		    an_payload(cred, credlen, &plen) : NULL;
		rv |= mgw_request_set_header(r, st->claims_header, pl,
		    pl != NULL ? plen : 0);
	}
	return (rv == 0 ? MGW_OK : MGW_ERROR);
}

/* A verdict is in, fresh from a mechanism: keep it, then act on it. */
static int
an_decide(struct an_pending *p, struct mgw_request *r)
{
	an_cache_put(p->st, p->mech, p->hash, &p->id);
	if (p->id.ai_verdict != AUTHN_OK)
		return (an_refuse(r, p->api, p->mech, &p->id));
	return (an_accept(p->st, r, p->api, p->rt, p->mech, p->cred,
	    p->credlen, &p->id));
}

/* A mechanism that answered later calls this: resume the request. */
static void
an_done(struct mgw_request *r, void *arg)
{
	struct an_pending	*p = arg;
	void			**ctx;

	if ((ctx = mgw_request_ctx(r, p->st)) != NULL)
		*ctx = NULL;
	mgw_request_resume(r, an_decide(p, r));
}

static int
an_access(void *state, struct mgw_request *r)
{
	struct an_state			*st = state;
	const struct an_api		*api;
	const struct an_route		*rt;
	const struct an_mech		*mech = NULL;
	struct an_pending		*p;
	struct authn_identity		 cached;
	const char			*cred = NULL;
	void				**ctx;
	size_t				 len = 0, i;
	int				 ai, ri, rv;

	if (st == NULL)
		return (MGW_OK);
	ai = mgw_request_api_index(r);
	if (ai < 0 || (size_t)ai >= st->napis)
		return (MGW_OK);
	api = &st->apis[ai];
	ri = mgw_request_resource_index(r);
	rt = ri >= 0 && (size_t)ri < api->nres ? &api->res[ri] : &api->route;
	if (rt->nmechs == 0) {
		/* An open route names no consumer: never the client's. */
		if (st->consumer_header != NULL &&
		    mgw_request_set_header(r, st->consumer_header, NULL,
		    0) == -1)
			return (MGW_ERROR);
		return (MGW_OK);
	}

	for (i = 0; i < rt->nmechs && cred == NULL; i++) {
		mech = rt->mechs[i];
		cred = mech->m->am_credential(mech->state, r, &len);
	}
	if (cred == NULL) {
		log_debug("authn: %s: no credentials", api->name);
		mgw_request_set_reason(r, "missing");
		if (an_challenges(r, rt) == -1)
			return (MGW_ERROR);
		return (mgw_respond_error(r, 401, "missing_credentials",
		    "credentials are required"));
	}

	if ((p = mgw_request_pool_alloc(r, sizeof(*p))) == NULL)
		return (MGW_ERROR);
	memset(p, 0, sizeof(*p));
	p->st = st;
	p->mech = mech;
	p->rt = rt;
	p->api = api;
	p->cred = cred;
	p->credlen = len;
	if (an_digest(cred, len, p->hash) == -1)
		return (MGW_ERROR);
	authn_identity_init(&p->id);
	if (revoke_check(p->hash, NULL, (int64_t)time(NULL)) == 1) {
		p->id.ai_verdict = AUTHN_REVOKED;
		p->id.ai_reason = "revoked";
		authn_identity_why(&p->id, "the token has been revoked");
		return (an_refuse(r, api, mech, &p->id));
	}
	if (!mech->m->am_nocache && an_cache_get(mech, p->hash, &cached)) {
		if (cached.ai_verdict != AUTHN_OK)
			return (an_refuse(r, api, mech, &cached));
		return (an_accept(st, r, api, rt, mech, cred, len, &cached));
	}
	rv = mech->m->am_verify(mech->state, r, cred, len, &p->id, an_done,
	    p);
	if (rv == 1) {
		if ((ctx = mgw_request_ctx(r, st)) == NULL)
			return (MGW_ERROR);
		*ctx = p;
		return (MGW_AGAIN);
	}
	return (an_decide(p, r));
}

/* The request left while its mechanism was still working. */
static void
an_cancel(void *state, struct mgw_request *r)
{
	struct an_state		*st = state;
	struct an_pending	*p;
	void			**ctx;

	if (st == NULL || (ctx = mgw_request_ctx(r, st)) == NULL ||
	    (p = *ctx) == NULL)
		return;
	*ctx = NULL;
	if (p->mech->m->am_cancel != NULL)
		p->mech->m->am_cancel(p->mech->state, r);
}
