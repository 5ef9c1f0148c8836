/*
 * authn-settings.c: the authentication plugin's settings as the loader's
 * tables: the "security" group (JWT issuers, introspection, the token
 * cache, revocation, what goes upstream), "security" on APIs, "security"
 * and "scopes" on resources, and the credentials of consumers; with the
 * checks the loader runs on them and the accessors the plugin reads them
 * with.
 */
#include "config.h"

#include <sys/types.h>

#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib.h"
#include <mgw/plugin.h>
#include "jwt.h"
#include "authn-conf.h"

#define MS_SEC		1000ULL
#define MS_DAY		(86400ULL * MS_SEC)
#define KB		1024ULL
#define MB		(1024ULL * KB)
#define GB		(1024ULL * MB)

static int	as_check_issuer(void *, void *, char **);
static int	as_check_introspection(void *, void *, char **);
static int	as_check_header(void *, void *, char **);
static int	as_check_header_opt(void *, void *, char **);
static int	as_check_query(void *, void *, char **);
static int	as_check_empty_null(void *, void *, char **);
static int	as_check_api_keys(void *, void *, char **);
static int	as_check_api_security(void *, void *, char **);
static int	as_check_res_security(void *, void *, char **);
static int	as_check_subscriptions(void *, void *, char **);
static int	as_mechanisms(char **, size_t, char **);
static int	as_token(const char *);

static const struct mgw_conf_opt as_table_jwt_issuer[] = {
	{ "issuer", MGW_CONF_STRING, 0, 0, NULL,
	  "the iss claim of its tokens, compared exactly",
	  offsetof(struct conf_jwt_issuer, ji_issuer), 0, 0, NULL,
	  MGW_CONF_F_REQUIRED, NULL },
	{ "audience", MGW_CONF_STRINGS, 0, 0, NULL,
	  "a string or a list: aud must hold one of them; absent: unchecked",
	  offsetof(struct conf_jwt_issuer, ji_audiences),
	  offsetof(struct conf_jwt_issuer, ji_naudiences), 0, NULL,
	  MGW_CONF_F_ONE, NULL },
	{ "jwks_file", MGW_CONF_STRING, 0, 0, NULL,
	  "JWKS document with the issuer's public keys",
	  offsetof(struct conf_jwt_issuer, ji_jwks_file), 0, 0, NULL, 0,
	  NULL },
	{ "keys", MGW_CONF_STRINGS, 0, 0, NULL,
	  "PEM public keys or certificates, instead of jwks_file",
	  offsetof(struct conf_jwt_issuer, ji_keys),
	  offsetof(struct conf_jwt_issuer, ji_nkeys), 0, NULL, 0, NULL },
	{ "algorithm", MGW_CONF_STRING, 0, 0, NULL,
	  "algorithm pinned to RSA keys (PEM, or JWKS keys without alg) and "
	  "JWKS oct keys",
	  offsetof(struct conf_jwt_issuer, ji_algorithm), 0, 0, NULL, 0,
	  NULL },
	{ "leeway", MGW_CONF_DURATION, 0, MS_DAY, "60s",
	  "clock skew allowed on exp, nbf and iat",
	  offsetof(struct conf_jwt_issuer, ji_leeway), 0, 0, NULL, 0, NULL },
	{ "allow_missing_exp", MGW_CONF_BOOL, 0, 1, "false",
	  "accept tokens without exp",
	  offsetof(struct conf_jwt_issuer, ji_allow_no_exp), 0, 0, NULL, 0,
	  NULL },
	{ "jwks_url", MGW_CONF_STRING, 0, 0, NULL,
	  "http(s) URL of the issuer's JWKS, fetched and refreshed by the "
	  "master",
	  offsetof(struct conf_jwt_issuer, ji_jwks_url), 0, 0, NULL, 0,
	  NULL },
	{ "jwks_refresh", MGW_CONF_DURATION, MS_SEC, MS_DAY, "10m",
	  "refetch interval when the response has no Cache-Control max-age",
	  offsetof(struct conf_jwt_issuer, ji_jwks_refresh), 0, 0, NULL, 0,
	  NULL },
	{ "jwks_timeout", MGW_CONF_DURATION, 100, 60 * MS_SEC, "5s",
	  "longest time one JWKS fetch may take",
	  offsetof(struct conf_jwt_issuer, ji_jwks_timeout), 0, 0, NULL, 0,
	  NULL },
	{ "jwks_ca", MGW_CONF_STRING, 0, 0, NULL,
	  "CA file verifying an https jwks_url; unset: the system store",
	  offsetof(struct conf_jwt_issuer, ji_jwks_ca), 0, 0, NULL, 0, NULL },
	{ NULL, 0, 0, 0, NULL, NULL, 0, 0, 0, NULL, 0, NULL }
};

static const struct mgw_conf_opt as_table_introspection[] = {
	{ "url", MGW_CONF_STRING, 0, 0, NULL,
	  "the RFC 7662 introspection endpoint, http(s)://host:port/path",
	  offsetof(struct conf_introspection, in_url), 0, 0, NULL,
	  MGW_CONF_F_REQUIRED, NULL },
	{ "client_id", MGW_CONF_STRING, 0, 0, NULL,
	  "the gateway's client id at the endpoint (HTTP Basic)",
	  offsetof(struct conf_introspection, in_client_id), 0, 0, NULL, 0,
	  NULL },
	{ "client_secret", MGW_CONF_STRING, 0, 0, NULL,
	  "the gateway's client secret at the endpoint",
	  offsetof(struct conf_introspection, in_client_secret), 0, 0, NULL,
	  0, NULL },
	{ "timeout", MGW_CONF_DURATION, 10, 60 * MS_SEC, "2s",
	  "longest wait for one introspection; then 503 auth_unavailable",
	  offsetof(struct conf_introspection, in_timeout), 0, 0, NULL, 0,
	  NULL },
	{ "ca", MGW_CONF_STRING, 0, 0, NULL,
	  "CA file verifying an https endpoint; unset: the system store",
	  offsetof(struct conf_introspection, in_ca), 0, 0, NULL, 0, NULL },
	{ "verify", MGW_CONF_BOOL, 0, 1, "true",
	  "verify an https endpoint's certificate and name",
	  offsetof(struct conf_introspection, in_verify), 0, 0, NULL, 0,
	  NULL },
	{ NULL, 0, 0, 0, NULL, NULL, 0, 0, 0, NULL, 0, NULL }
};

static const struct mgw_conf_opt as_table_token_cache[] = {
	{ "size", MGW_CONF_SIZE, 0, 4 * GB, "8m",
	  "shared memory for verified credentials; 0 disables the cache",
	  offsetof(struct conf_token_cache, tc_size), 0, 0, NULL, 0, NULL },
	{ "ttl", MGW_CONF_DURATION, MS_SEC, MS_DAY, "5m",
	  "longest life of an accepted credential's entry (never past exp)",
	  offsetof(struct conf_token_cache, tc_ttl), 0, 0, NULL, 0, NULL },
	{ "negative_ttl", MGW_CONF_DURATION, 0, MS_DAY, "10s",
	  "life of a refused credential's entry; 0: not cached",
	  offsetof(struct conf_token_cache, tc_negative_ttl), 0, 0, NULL, 0,
	  NULL },
	{ NULL, 0, 0, 0, NULL, NULL, 0, 0, 0, NULL, 0, NULL }
};

static const struct mgw_conf_opt as_table_security[] = {
	{ "jwt", MGW_CONF_LIST, 0, 0, NULL,
	  "trusted JWT issuers, their audiences and keys",
	  offsetof(struct conf_security, s_jwt),
	  offsetof(struct conf_security, s_njwt),
	  sizeof(struct conf_jwt_issuer), as_table_jwt_issuer, 0,
	  as_check_issuer },
	{ "forward_credentials", MGW_CONF_BOOL, 0, 1, "false",
	  "pass consumed credentials (Authorization, the API key) upstream; "
	  "by default they are removed",
	  offsetof(struct conf_security, s_forward_credentials), 0, 0, NULL,
	  0, NULL },
	{ "consumer_header", MGW_CONF_STRING, 0, 0, NULL,
	  "header naming the identified consumer upstream",
	  offsetof(struct conf_security, s_consumer_header), 0, 0, NULL, 0,
	  as_check_header },
	{ "claims_header", MGW_CONF_STRING, 0, 0, NULL,
	  "header carrying the validated claims upstream (base64url JSON)",
	  offsetof(struct conf_security, s_claims_header), 0, 0, NULL, 0,
	  as_check_header },
	{ "api_key_header", MGW_CONF_STRING, 0, 0, "apikey",
	  "request header carrying an API key; \"\": none",
	  offsetof(struct conf_security, s_api_key_header), 0, 0, NULL, 0,
	  as_check_header_opt },
	{ "api_key_query", MGW_CONF_STRING, 0, 0, NULL,
	  "query parameter carrying an API key; unset: none",
	  offsetof(struct conf_security, s_api_key_query), 0, 0, NULL, 0,
	  as_check_query },
	{ "htpasswd", MGW_CONF_STRING, 0, 0, NULL,
	  "Apache htpasswd file for HTTP Basic (bcrypt, sha512-crypt, "
	  "sha256-crypt)",
	  offsetof(struct conf_security, s_htpasswd), 0, 0, NULL, 0, NULL },
	{ "basic_realm", MGW_CONF_STRING, 0, 0, "mgw",
	  "realm named in the Basic challenge",
	  offsetof(struct conf_security, s_basic_realm), 0, 0, NULL, 0,
	  NULL },
	{ "introspection", MGW_CONF_GROUP, 0, 0, NULL,
	  "OAuth2 token introspection endpoint for opaque tokens",
	  offsetof(struct conf_security, s_introspection), 0,
	  sizeof(struct conf_introspection), as_table_introspection,
	  MGW_CONF_F_PTR, as_check_introspection },
	{ "token_cache", MGW_CONF_GROUP, 0, 0, NULL,
	  "shared cache of verified credentials",
	  offsetof(struct conf_security, s_token_cache), 0, 0,
	  as_table_token_cache, 0, NULL },
	{ "revocation_file", MGW_CONF_STRING, 0, 0,
	  LOCALSTATEDIR "/lib/mgw/revoked",
	  "where mgwctl revoke persists the revocation list; \"\": memory only",
	  offsetof(struct conf_security, s_revocation_file), 0, 0, NULL, 0,
	  as_check_empty_null },
	{ "revocation_max", MGW_CONF_UINT, 16, 10000000, "10000",
	  "revoked tokens kept in shared memory",
	  offsetof(struct conf_security, s_revocation_max), 0, 0, NULL, 0,
	  NULL },
	{ NULL, 0, 0, 0, NULL, NULL, 0, 0, 0, NULL, 0, NULL }
};

/* security comes before apis: as_check_*_security look at it. */
static const struct mgw_conf_opt as_table_top[] = {
	{ "security", MGW_CONF_GROUP, 0, 0, NULL,
	  "authentication: JWT issuers, what goes upstream",
	  offsetof(struct authn_conf, ac_security), 0, 0, as_table_security,
	  0, NULL },
	{ NULL, 0, 0, 0, NULL, NULL, 0, 0, 0, NULL, 0, NULL }
};

static const struct mgw_conf_opt as_table_api[] = {
	{ "security", MGW_CONF_STRINGS, 0, 0, NULL,
	  "authentication mechanisms accepted in order (jwt, api_key, basic, "
	  "oauth2); absent or []: open",
	  offsetof(struct authn_conf_api, a_security),
	  offsetof(struct authn_conf_api, a_nsecurity), 0, NULL, 0,
	  as_check_api_security },
	{ NULL, 0, 0, 0, NULL, NULL, 0, 0, 0, NULL, 0, NULL }
};

static const struct mgw_conf_opt as_table_resource[] = {
	{ "security", MGW_CONF_STRINGS, 0, 0, NULL,
	  "mechanisms accepted here instead of the API's; [] makes the "
	  "resource open",
	  offsetof(struct authn_conf_resource, r_security),
	  offsetof(struct authn_conf_resource, r_nsecurity), 0, NULL, 0,
	  as_check_res_security },
	{ "scopes", MGW_CONF_STRINGS, 0, 0, NULL,
	  "scopes a token must carry, any one of them; 403 otherwise",
	  offsetof(struct authn_conf_resource, r_scopes),
	  offsetof(struct authn_conf_resource, r_nscopes), 0, NULL, 0,
	  NULL },
	{ NULL, 0, 0, 0, NULL, NULL, 0, 0, 0, NULL, 0, NULL }
};

static const struct mgw_conf_opt as_table_consumer[] = {
	{ "jwt_subjects", MGW_CONF_STRINGS, 0, 0, NULL,
	  "JWT sub, client_id or azp values that identify it",
	  offsetof(struct authn_conf_consumer, cs_jwt_subjects),
	  offsetof(struct authn_conf_consumer, cs_njwt_subjects), 0, NULL, 0,
	  NULL },
	{ "subscriptions", MGW_CONF_STRINGS, 0, 0, NULL,
	  "API names it may call; absent: every API",
	  offsetof(struct authn_conf_consumer, cs_subscriptions),
	  offsetof(struct authn_conf_consumer, cs_nsubscriptions), 0, NULL, 0,
	  as_check_subscriptions },
	{ "api_keys", MGW_CONF_STRINGS, 0, 0, NULL,
	  "the consumer's API keys as \"sha256:\" and 64 hex digits",
	  offsetof(struct authn_conf_consumer, cs_api_keys),
	  offsetof(struct authn_conf_consumer, cs_napi_keys), 0, NULL, 0,
	  as_check_api_keys },
	{ "basic_users", MGW_CONF_STRINGS, 0, 0, NULL,
	  "htpasswd user names that identify this consumer",
	  offsetof(struct authn_conf_consumer, cs_basic_users),
	  offsetof(struct authn_conf_consumer, cs_nbasic_users), 0, NULL, 0,
	  NULL },
	{ NULL, 0, 0, 0, NULL, NULL, 0, 0, 0, NULL, 0, NULL }
};

const struct mgw_conf_section authn_settings[] = {
	{ MGW_SCOPE_TOP, as_table_top, sizeof(struct authn_conf) },
	{ MGW_SCOPE_API, as_table_api, sizeof(struct authn_conf_api) },
	{ MGW_SCOPE_RESOURCE, as_table_resource,
	  sizeof(struct authn_conf_resource) },
	{ MGW_SCOPE_CONSUMER, as_table_consumer,
	  sizeof(struct authn_conf_consumer) },
	{ 0, NULL, 0 }
};

/* An issuer once all its keys are stored: unique, keys from one source. */
static int
as_check_issuer(void *obj, void *field, char **cause)
{
	struct conf_jwt_issuer	*ji = obj, *items = field, *q;
	char			*out = NULL, *line;

	ji->ji_where = mgw_conf_where(NULL, ji);
	for (q = items; q < ji && ji->ji_issuer != NULL; q++) {
		if (q->ji_issuer == NULL ||
		    strcmp(ji->ji_issuer, q->ji_issuer) != 0)
			continue;
		xasprintf(&out, "duplicate issuer '%s'", ji->ji_issuer);
		break;
	}
	line = NULL;
	if ((ji->ji_jwks_file != NULL) + (ji->ji_nkeys > 0) +
	    (ji->ji_jwks_url != NULL) != 1)
		line = xstrdup("set one of jwks_file, jwks_url or keys");
	xlines_append(&out, line);
	line = NULL;
	if (ji->ji_jwks_url != NULL &&
	    strncmp(ji->ji_jwks_url, "http://", 7) != 0 &&
	    strncmp(ji->ji_jwks_url, "https://", 8) != 0)
		xasprintf(&line, "jwks_url: '%s' is not an http:// or "
		    "https:// URL", ji->ji_jwks_url);
	xlines_append(&out, line);
	line = NULL;
	if (ji->ji_algorithm != NULL &&
	    jwt_alg_byname(ji->ji_algorithm) == JWT_ALG_NONE)
		xasprintf(&line, "algorithm: unknown algorithm '%s' (RS256, "
		    "PS256, ES256, EdDSA, HS256, ...)", ji->ji_algorithm);
	xlines_append(&out, line);
	*cause = out;
	return (out != NULL ? -1 : 0);
}

static int
as_check_introspection(void *obj, void *field, char **cause)
{
	struct conf_introspection	*in = obj;
	char				*url = NULL, *pair = NULL;

	(void)field;
	in->in_where = mgw_conf_where(NULL, in);
	if (in->in_url != NULL && strncmp(in->in_url, "http://", 7) != 0 &&
	    strncmp(in->in_url, "https://", 8) != 0)
		xasprintf(&url, "url: '%s' is not an http:// or https:// URL",
		    in->in_url);
	if ((in->in_client_id == NULL) != (in->in_client_secret == NULL))
		pair = xstrdup("client_id and client_secret go together");
	if (url != NULL && pair != NULL) {
		xasprintf(cause, "%s\n%s", url, pair);
		free(url);
		free(pair);
	} else if (url != NULL || pair != NULL)
		*cause = url != NULL ? url : pair;
	else
		return (0);
	return (-1);
}

/* An HTTP field name: an RFC 9110 token. */
static int
as_token(const char *s)
{
	static const char	 tchar[] = "!#$%&'*+-.^_`|~";
	size_t			 i;

	for (i = 0; s[i] != '\0'; i++) {
		if (!isalnum((unsigned char)s[i]) &&
		    strchr(tchar, s[i]) == NULL)
			return (-1);
	}
	return (i == 0 ? -1 : 0);
}

static int
as_check_header(void *obj, void *field, char **cause)
{
	const char	*s = *(char **)field;

	(void)obj;
	if (as_token(s) == 0)
		return (0);
	xasprintf(cause, "bad header name '%s'", s);
	return (-1);
}

/* A header name, or "": none (stored as NULL). */
static int
as_check_header_opt(void *obj, void *field, char **cause)
{
	char	**sp = field;

	if (*sp != NULL && **sp == '\0') {
		free(*sp);
		*sp = NULL;
		return (0);
	}
	return (as_check_header(obj, field, cause));
}

/* "" becomes NULL. */
static int
as_check_empty_null(void *obj, void *field, char **cause)
{
	char	**sp = field;

	(void)obj;
	(void)cause;
	if (*sp != NULL && **sp == '\0') {
		free(*sp);
		*sp = NULL;
	}
	return (0);
}

/* A query parameter name; logs hide its value. */
static int
as_check_query(void *obj, void *field, char **cause)
{
	const char	*s = *(char **)field;

	(void)obj;
	if (*s == '\0' || strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-._~") != strlen(s)) {
		xasprintf(cause, "bad query parameter name '%s' (letters, "
		    "digits, -._~)", s);
		return (-1);
	}
	mgw_conf_log_redact(s);
	return (0);
}

static int
as_check_api_keys(void *obj, void *field, char **cause)
{
	struct authn_conf_consumer	*cs = obj;
	char				*out = NULL, *tmp;
	size_t				 i;

	(void)field;
	for (i = 0; i < cs->cs_napi_keys; i++) {
		if (util_sha256_normalise(cs->cs_api_keys[i]) == 0)
			continue;
		xasprintf(&tmp, "%s%sbad API key hash (\"sha256:\" and 64 hex "
		    "digits, as printed by printf %%s KEY | sha256sum); keys "
		    "are never stored in clear", out != NULL ? out : "",
		    out != NULL ? "\n" : "");
		free(out);
		out = tmp;
	}
	*cause = out;
	return (out != NULL ? -1 : 0);
}

/* Known mechanisms, each listed once and configured in security. */
static int
as_mechanisms(char **ss, size_t n, char **cause)
{
	const struct authn_conf		*ac;
	const struct conf_security	*sec;
	static const struct conf_security none;
	char				*out = NULL, *line;
	size_t				 i, j;

	ac = mgw_conf_loading(&plugin_authn);
	sec = ac != NULL ? &ac->ac_security : &none;
	for (i = 0; i < n; i++) {
		line = NULL;
		for (j = 0; j < i; j++)
			if (strcmp(ss[i], ss[j]) == 0)
				break;
		if (j < i)
			xasprintf(&line, "security mechanism '%s' listed "
			    "twice", ss[i]);
		else if (strcmp(ss[i], "jwt") == 0) {
			if (sec->s_njwt == 0)
				line = xstrdup("jwt needs at least one issuer "
				    "in security.jwt");
		} else if (strcmp(ss[i], "api_key") == 0) {
			if (sec->s_api_key_header == NULL &&
			    sec->s_api_key_query == NULL)
				line = xstrdup("api_key needs "
				    "security.api_key_header or "
				    "api_key_query");
		} else if (strcmp(ss[i], "basic") == 0) {
			if (sec->s_htpasswd == NULL)
				line = xstrdup("basic needs security.htpasswd");
		} else if (strcmp(ss[i], "oauth2") == 0) {
			if (sec->s_introspection == NULL)
				line = xstrdup("oauth2 needs "
				    "security.introspection");
		} else
			xasprintf(&line, "unknown security mechanism '%s' "
			    "(jwt, api_key, basic or oauth2)", ss[i]);
		xlines_append(&out, line);
	}
	*cause = out;
	return (out != NULL ? -1 : 0);
}

static int
as_check_api_security(void *obj, void *field, char **cause)
{
	struct authn_conf_api	*a = obj;

	(void)field;
	return (as_mechanisms(a->a_security, a->a_nsecurity, cause));
}

/* Written, even as []: the resource's list instead of the API's. */
static int
as_check_res_security(void *obj, void *field, char **cause)
{
	struct authn_conf_resource	*r = obj;

	(void)field;
	r->r_security_set = 1;
	return (as_mechanisms(r->r_security, r->r_nsecurity, cause));
}

/* Written, even as []: only those APIs. */
static int
as_check_subscriptions(void *obj, void *field, char **cause)
{
	(void)field;
	(void)cause;
	((struct authn_conf_consumer *)obj)->cs_subscriptions_set = 1;
	return (0);
}

/* conf's security group. */
const struct conf_security *
authn_security(const struct mgw_conf *conf)
{
	const struct authn_conf	*ac;

	ac = mgw_conf_settings(conf, &plugin_authn);
	return (&ac->ac_security);
}

/* API i's keys. */
const struct authn_conf_api *
authn_api(const struct mgw_conf *conf, size_t i)
{
	return (mgw_api_settings(mgw_conf_api(conf, i), &plugin_authn));
}

/* Resource j of API i's keys. */
const struct authn_conf_resource *
authn_resource(const struct mgw_conf *conf, size_t i, size_t j)
{
	return (mgw_resource_settings(mgw_api_resource(mgw_conf_api(conf, i),
	    j), &plugin_authn));
}

/*
 * Consumer i's keys.  The plugin's own struct carries the consumer's
 * name so that what points at it (an identity, an index entry) needs
 * nothing else; it is set here, in the master, before workers fork.
 */
const struct authn_conf_consumer *
authn_consumer(const struct mgw_conf *conf, size_t i)
{
	const struct mgw_consumer	*c = mgw_conf_consumer(conf, i);
	struct authn_conf_consumer	*cs;

	cs = (struct authn_conf_consumer *)(uintptr_t)
	    mgw_consumer_settings(c, &plugin_authn);
	cs->cs_name = mgw_consumer_name(c);
	return (cs);
}
