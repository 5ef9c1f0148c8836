/*
 * authn-jwt.c: the JWT authentication plugin.  For an API or resource
 * whose security lists "jwt", it takes the bearer token, picks the issuer
 * by the token's (unverified) iss, verifies it with that issuer's keys
 * and policy (jwt.c), checks the resource's scopes, names the consumer
 * whose jwt_subjects hold the token's sub or client id, and checks that
 * consumer's subscriptions.  It runs before the throttle, so the consumer
 * it names feeds the application and subscription levels.
 *
 * Keys are read by the master when the configuration is loaded (the conf
 * hook), so a bad key file refuses the configuration or the reload and
 * the old generation keeps its keys.  Token contents are never logged.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "lib.h"
#include "master.h"
#include "plugin.h"
#include "jwt.h"

#define AJ_FILE_MAX	(1024 * 1024)	/* bytes of a key file, at most */
#define AJ_REALM	"Bearer realm=\"mgw\""

struct aj_issuer {
	const char		*iss;
	struct jwt_keyset	*ks;
	struct jwt_policy	 pol;
};

/* Whether a route needs a token, and the scopes it wants (any one). */
struct aj_route {
	int			 jwt;
	const char *const	*scopes;
	size_t			 nscopes;
	char			*scopehdr;	/* WWW-Authenticate value */
};

struct aj_api {
	const char		*name;
	struct aj_route		 route;
	struct aj_route		*res;		/* per resource */
	size_t			 nres;
};

/* A jwt_subjects entry and the consumer it names. */
struct aj_subject {
	const char			*subject;
	const struct conf_consumer	*cs;
};

struct aj_state {
	struct aj_issuer	*iss;
	size_t			 niss;
	struct aj_api		*apis;
	size_t			 napis;
	struct aj_subject	*subs;		/* sorted by subject */
	size_t			 nsubs;
	int			 forward;
	const char		*consumer_header;
	const char		*claims_header;
};

static void	aj_free(void *);
static int	aj_conf(const struct mgw_conf *, void **, char **);
static int	aj_access(void *, struct mgw_request *);

/* The whole file at path in a new buffer.  0, or -1 with *why. */
static int
aj_read_file(const char *path, char **bufp, size_t *lenp, const char **why)
{
	struct stat	 sb;
	char		*buf;
	ssize_t		 n;
	size_t		 off = 0;
	int		 fd;

	*bufp = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		*why = strerror(errno);
		return (-1);
	}
	if (fstat(fd, &sb) == -1) {
		*why = strerror(errno);
		close(fd);
		return (-1);
	}
	if (!S_ISREG(sb.st_mode) || sb.st_size > AJ_FILE_MAX) {
		*why = S_ISREG(sb.st_mode) ? "larger than 1 MB" :
		    "not a regular file";
		close(fd);
		return (-1);
	}
	buf = xmalloc((size_t)sb.st_size + 1);
	while (off < (size_t)sb.st_size) {
		if ((n = read(fd, buf + off, sb.st_size - off)) == -1) {
			if (errno == EINTR)
				continue;
			*why = strerror(errno);
			free(buf);
			close(fd);
			return (-1);
		}
		if (n == 0)
			break;
		off += n;
	}
	close(fd);
	buf[off] = '\0';
	*bufp = buf;
	*lenp = off;
	return (0);
}

/*
 * The keys of one issuer from its jwks_file or PEM keys.  0, or -1 with
 * *cause naming the config item and the file.
 */
static int
aj_issuer_load(struct aj_issuer *is, const struct conf_jwt_issuer *ji,
    char **cause)
{
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
	if (ji->ji_jwks_file != NULL) {
		if (aj_read_file(ji->ji_jwks_file, &buf, &len, &why) == -1) {
			xasprintf(cause, "%s: jwks_file %s: %s", ji->ji_where,
			    ji->ji_jwks_file, why);
			return (-1);
		}
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
		if (aj_read_file(ji->ji_keys[i], &buf, &len, &why) == -1) {
			xasprintf(cause, "%s: keys %s: %s", ji->ji_where,
			    ji->ji_keys[i], why);
			return (-1);
		}
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

/*
 * A route's needs from its security list and scopes.  A scope goes into
 * a WWW-Authenticate quoted string, so it may hold no space, quote or
 * backslash (RFC 6750 scope-token).  0, or -1 with *cause.
 */
static int
aj_route_init(struct aj_route *rt, char **sec, size_t nsec, char **scopes,
    size_t nscopes, const char *file, const char *where, char **cause)
{
	size_t	 i, len = 0;
	char	*p;

	for (i = 0; i < nsec; i++)
		if (strcmp(sec[i], "jwt") == 0)
			rt->jwt = 1;
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
	len += sizeof(AJ_REALM ", error=\"insufficient_scope\", scope=\"\"");
	rt->scopehdr = p = xmalloc(len);
	p += snprintf(p, len, "%s, error=\"insufficient_scope\", scope=\"",
	    AJ_REALM);
	for (i = 0; i < nscopes; i++)
		p += snprintf(p, len - (p - rt->scopehdr), "%s%s",
		    i > 0 ? " " : "", scopes[i]);
	snprintf(p, len - (p - rt->scopehdr), "\"");
	return (0);
}

static int
aj_subject_cmp(const void *a, const void *b)
{
	return (strcmp(((const struct aj_subject *)a)->subject,
	    ((const struct aj_subject *)b)->subject));
}

static void
aj_free(void *arg)
{
	struct aj_state	*st = arg;
	size_t		 i, j;

	if (st == NULL)
		return;
	for (i = 0; i < st->niss; i++)
		jwt_keyset_free(st->iss[i].ks);
	free(st->iss);
	for (i = 0; i < st->napis; i++) {
		free(st->apis[i].route.scopehdr);
		for (j = 0; j < st->apis[i].nres; j++)
			free(st->apis[i].res[j].scopehdr);
		free(st->apis[i].res);
	}
	free(st->apis);
	free(st->subs);
	free(st);
}

/*
 * Master, at every configuration load: read every issuer's keys, work out
 * which routes need a token, and index the consumers by JWT subject.  A
 * key file that cannot be read or parsed refuses the configuration.
 */
static int
aj_conf(const struct mgw_conf *conf, void **state, char **cause)
{
	struct aj_state			*st;
	const struct conf_api		*a;
	const struct conf_resource	*r;
	const struct conf_consumer	*cs;
	char				 where[128];
	size_t				 i, j, k;

	*state = NULL;
	st = xcalloc(1, sizeof(*st));
	st->forward = conf->c_security.s_forward_credentials;
	st->consumer_header = conf->c_security.s_consumer_header;
	st->claims_header = conf->c_security.s_claims_header;
	st->iss = xcalloc(conf->c_security.s_njwt + 1, sizeof(*st->iss));
	for (i = 0; i < conf->c_security.s_njwt; i++) {
		st->niss++;
		if (aj_issuer_load(&st->iss[i], &conf->c_security.s_jwt[i],
		    cause) == -1)
			goto fail;
	}
	st->apis = xcalloc(conf->c_napis + 1, sizeof(*st->apis));
	st->napis = conf->c_napis;
	for (i = 0; i < conf->c_napis; i++) {
		a = &conf->c_apis[i];
		st->apis[i].name = a->a_name;
		snprintf(where, sizeof(where), "apis[%zu]", i);
		if (aj_route_init(&st->apis[i].route, a->a_security,
		    a->a_nsecurity, NULL, 0, conf->c_file, where, cause) == -1)
			goto fail;
		st->apis[i].res = xcalloc(a->a_nresources + 1,
		    sizeof(*st->apis[i].res));
		st->apis[i].nres = a->a_nresources;
		for (j = 0; j < a->a_nresources; j++) {
			r = &a->a_resources[j];
			snprintf(where, sizeof(where), "apis[%zu].resources"
			    "[%zu].scopes", i, j);
			if (r->r_security_set ?
			    aj_route_init(&st->apis[i].res[j], r->r_security,
			    r->r_nsecurity, r->r_scopes, r->r_nscopes,
			    conf->c_file, where, cause) == -1 :
			    aj_route_init(&st->apis[i].res[j], a->a_security,
			    a->a_nsecurity, r->r_scopes, r->r_nscopes,
			    conf->c_file, where, cause) == -1)
				goto fail;
		}
	}
	for (i = 0; i < conf->c_nconsumers; i++) {
		cs = &conf->c_consumers[i];
		for (j = 0; j < cs->cs_nsubscriptions; j++) {
			for (k = 0; k < conf->c_napis; k++)
				if (strcmp(conf->c_apis[k].a_name,
				    cs->cs_subscriptions[j]) == 0)
					break;
			if (k == conf->c_napis) {
				xasprintf(cause, "%s: consumers[%zu] (%s): "
				    "subscription to unknown API '%s'",
				    conf->c_file, i, cs->cs_name,
				    cs->cs_subscriptions[j]);
				goto fail;
			}
		}
		for (j = 0; j < cs->cs_njwt_subjects; j++) {
			st->subs = xreallocarray(st->subs, st->nsubs + 1,
			    sizeof(*st->subs));
			st->subs[st->nsubs].subject = cs->cs_jwt_subjects[j];
			st->subs[st->nsubs++].cs = cs;
		}
	}
	if (st->nsubs > 0)
		qsort(st->subs, st->nsubs, sizeof(*st->subs), aj_subject_cmp);
	for (i = 1; i < st->nsubs; i++) {
		if (strcmp(st->subs[i - 1].subject, st->subs[i].subject) != 0)
			continue;
		xasprintf(cause, "%s: JWT subject '%s' names two consumers "
		    "(%s and %s)", conf->c_file, st->subs[i].subject,
		    st->subs[i - 1].cs->cs_name, st->subs[i].cs->cs_name);
		goto fail;
	}
	*state = st;
	return (MGW_OK);
fail:
	aj_free(st);
	return (MGW_ERROR);
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

static const struct conf_consumer *
aj_consumer_find(const struct aj_state *st, const char *subject)
{
	struct aj_subject	 key, *s;

	if (subject == NULL || st->nsubs == 0)
		return (NULL);
	key.subject = subject;
	s = bsearch(&key, st->subs, st->nsubs, sizeof(*st->subs),
	    aj_subject_cmp);
	return (s != NULL ? s->cs : NULL);
}

/*
 * The bearer token of Authorization (RFC 6750 section 2.1: the scheme is
 * case-insensitive); NULL if there is none.
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

/* 401 for a refused token, with RFC 6750's invalid_token challenge. */
static int
aj_refuse(struct mgw_request *r, const char *api, enum jwt_error e,
    const char *why)
{
	char		 hv[256], msg[160], desc[96];
	const char	*reason = jwt_error_reason(e);
	size_t		 i, n = 0;

	if (why == NULL)
		why = reason;
	/* A literal, but it lands in a quoted-string: keep it plain. */
	for (i = 0; why[i] != '\0' && n < sizeof(desc) - 1; i++)
		if (why[i] != '"' && why[i] != '\\')
			desc[n++] = why[i];
	desc[n] = '\0';
	log_debug("authn-jwt: %s: token refused: %s (%s)", api, reason, desc);
	mgw_request_set_reason(r, reason);
	if (e == JWT_E_INTERNAL)
		return (mgw_respond_error(r, 500, "internal_error",
		    "the token could not be verified"));
	snprintf(hv, sizeof(hv), "%s, error=\"invalid_token\", "
	    "error_description=\"%s\"", AJ_REALM, desc);
	if (mgw_response_add_header(r, "WWW-Authenticate", hv) == -1)
		return (MGW_ERROR);
	snprintf(msg, sizeof(msg), "%s: %s", e == JWT_E_EXPIRED ?
	    "expired token" : "invalid token", desc);
	return (mgw_respond_error(r, 401, jwt_error_code(e), msg));
}

/* The payload segment of a compact JWS: the claims, base64url. */
static const char *
aj_payload(const char *tok, size_t len, size_t *plen)
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

static int
aj_access(void *state, struct mgw_request *r)
{
	struct aj_state			*st = state;
	const struct aj_api		*ap;
	const struct aj_route		*rt;
	const struct aj_issuer		*is;
	const struct conf_consumer	*cs;
	struct jwt_token		*t = NULL;
	struct jwt_result		 res;
	enum jwt_error			 e;
	const char			*tok, *why = NULL, *missing, *pl;
	char				 msg[256];
	size_t				 len, plen, i;
	int				 ai, ri, rv;

	if (st == NULL)
		return (MGW_OK);
	ai = mgw_request_api_index(r);
	if (ai < 0 || (size_t)ai >= st->napis)
		return (MGW_OK);
	ap = &st->apis[ai];
	ri = mgw_request_resource_index(r);
	rt = ri >= 0 && (size_t)ri < ap->nres ? &ap->res[ri] : &ap->route;
	if (!rt->jwt) {
		/* An open route names no consumer: never the client's. */
		if (st->consumer_header != NULL &&
		    mgw_request_set_header(r, st->consumer_header, NULL,
		    0) == -1)
			return (MGW_ERROR);
		return (MGW_OK);
	}

	if ((tok = aj_bearer(r, &len)) == NULL) {
		log_debug("authn-jwt: %s: no bearer token", ap->name);
		mgw_request_set_reason(r, "missing");
		if (mgw_response_add_header(r, "WWW-Authenticate",
		    AJ_REALM) == -1)
			return (MGW_ERROR);
		return (mgw_respond_error(r, 401, "missing_credentials",
		    "a bearer token is required"));
	}
	if ((e = jwt_token_parse(tok, len, &t, &why)) != JWT_OK)
		return (aj_refuse(r, ap->name, e, why));
	if ((is = aj_issuer_find(st, jwt_token_issuer(t))) == NULL) {
		jwt_token_free(t);
		return (aj_refuse(r, ap->name, JWT_E_ISSUER,
		    "unknown issuer"));
	}
	jwt_result_init(&res);
	e = jwt_token_verify(t, is->ks, &is->pol, (int64_t)time(NULL), &res);
	jwt_token_free(t);
	if (e != JWT_OK) {
		why = res.jr_why;
		jwt_result_fini(&res);
		return (aj_refuse(r, ap->name, e, why));
	}

	if ((missing = jwt_scope_check(&res, rt->scopes, rt->nscopes)) !=
	    NULL) {
		log_debug("authn-jwt: %s: insufficient scope", ap->name);
		jwt_result_fini(&res);
		mgw_request_set_reason(r, "scope");
		if (mgw_response_add_header(r, "WWW-Authenticate",
		    rt->scopehdr) == -1)
			return (MGW_ERROR);
		if (rt->nscopes == 1)
			snprintf(msg, sizeof(msg), "insufficient scope: "
			    "'%s' is required", missing);
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

	if ((cs = aj_consumer_find(st, res.jr_subject)) == NULL)
		cs = aj_consumer_find(st, res.jr_client_id);
	jwt_result_fini(&res);
	if (cs != NULL && cs->cs_subscriptions_set) {
		for (i = 0; i < cs->cs_nsubscriptions; i++)
			if (strcmp(cs->cs_subscriptions[i], ap->name) == 0)
				break;
		if (i == cs->cs_nsubscriptions) {
			log_debug("authn-jwt: %s: consumer %s is not "
			    "subscribed", ap->name, cs->cs_name);
			mgw_request_set_reason(r, "not_subscribed");
			snprintf(msg, sizeof(msg), "consumer %s is not "
			    "subscribed to API %s", cs->cs_name, ap->name);
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
		mgw_request_set_key_type(r, "PRODUCTION");
	}

	rv = 0;
	if (!st->forward)
		rv |= mgw_request_set_header(r, "Authorization", NULL, 0);
	/* A client's own copy of these headers never goes upstream. */
	if (st->consumer_header != NULL)
		rv |= mgw_request_set_header(r, st->consumer_header,
		    cs != NULL ? cs->cs_name : NULL,
		    cs != NULL ? strlen(cs->cs_name) : 0);
	if (st->claims_header != NULL) {
		pl = aj_payload(tok, len, &plen);
		rv |= mgw_request_set_header(r, st->claims_header, pl,
		    pl != NULL ? plen : 0);
	}
	return (rv == 0 ? MGW_OK : MGW_ERROR);
}

const struct mgw_plugin plugin_authn_jwt = {
	.api = MGW_PLUGIN_API,
	.name = "authn-jwt",
	.conf = aj_conf,
	.access = aj_access,
	.fini = aj_free,
};
