/*
 * authn-conf.h: the authentication plugin's settings: the "security"
 * group, and the keys it adds to APIs, resources and consumers.  The
 * loader fills them from the tables of authn-settings.c; the plugin reads
 * them with the accessors below.
 */
#ifndef MGW_AUTHN_CONF_H
#define MGW_AUTHN_CONF_H

#include <stddef.h>
#include <stdint.h>

#include <mgw/plugin.h>

/* One trusted JWT issuer (security.jwt = ( ... )). */
struct conf_jwt_issuer {
	char			*ji_issuer;	/* the iss claim, exactly */
	char			**ji_audiences;	/* any one in aud; none: unchecked */
	size_t			 ji_naudiences;
	char			*ji_jwks_file;	/* JWKS document path */
	char			**ji_keys;	/* PEM public keys or certificates */
	size_t			 ji_nkeys;
	char			*ji_algorithm;	/* pins PEM RSA and JWKS RSA/oct keys */
	uint64_t		 ji_leeway;	/* ms of clock skew allowed */
	int			 ji_allow_no_exp;	/* exp optional */
	char			*ji_jwks_url;	/* fetched by the master */
	uint64_t		 ji_jwks_refresh;	/* ms; without max-age */
	uint64_t		 ji_jwks_timeout;	/* ms, one fetch */
	char			*ji_jwks_ca;	/* https: CA file; NULL system */
	const char		*ji_where;	/* "file:line: path", key errors */
};

/* security.introspection: { ... }: OAuth2 opaque tokens (RFC 7662). */
struct conf_introspection {
	char			*in_url;	/* NULL: not configured */
	char			*in_client_id;	/* Basic credentials, or none */
	char			*in_client_secret;
	uint64_t		 in_timeout;	/* ms, one introspection */
	char			*in_ca;		/* https: CA file; NULL system */
	int			 in_verify;	/* https: verify the server */
	const char		*in_where;	/* "file:line: path", errors */
};

/* security.token_cache: { ... }: verified credentials in shm. */
struct conf_token_cache {
	uint64_t		 tc_size;	/* bytes; 0 disables */
	uint64_t		 tc_ttl;	/* ms, longest positive entry */
	uint64_t		 tc_negative_ttl;	/* ms, refused credential */
};

/* security: { ... }: authentication (plugins/authn*.c). */
struct conf_security {
	struct conf_jwt_issuer	*s_jwt;
	size_t			 s_njwt;
	int			 s_forward_credentials;	/* keep credentials */
	char			*s_consumer_header;	/* upstream, NULL none */
	char			*s_claims_header;	/* upstream, NULL none */
	char			*s_api_key_header;	/* NULL: not in a header */
	char			*s_api_key_query;	/* NULL: not in the query */
	char			*s_htpasswd;	/* path, NULL: no Basic */
	char			*s_basic_realm;
	struct conf_introspection *s_introspection;	/* NULL: none */
	struct conf_token_cache	 s_token_cache;
	char			*s_revocation_file;	/* NULL: not persisted */
	uint32_t		 s_revocation_max;	/* entries in shm */
};

/* The plugin's top-level keys. */
struct authn_conf {
	struct conf_security	 ac_security;
};

/* Keys of an API, a resource, a consumer. */
struct authn_conf_api {
	char			**a_security;	/* mechanisms; none: open */
	size_t			 a_nsecurity;
};
struct authn_conf_resource {
	char			**r_security;	/* mechanisms: "jwt" */
	size_t			 r_nsecurity;
	int			 r_security_set;	/* 0: the API's */
	char			**r_scopes;	/* any one is enough */
	size_t			 r_nscopes;
};
struct authn_conf_consumer {
	const char		*cs_name;	/* the consumer's, set at conf */
	char			**cs_jwt_subjects;	/* sub, client_id, azp */
	size_t			 cs_njwt_subjects;
	char			**cs_api_keys;	/* "sha256:<64 lowercase hex>" */
	size_t			 cs_napi_keys;
	char			**cs_basic_users;	/* htpasswd user names */
	size_t			 cs_nbasic_users;
	char			**cs_subscriptions;	/* API names */
	size_t			 cs_nsubscriptions;
	int			 cs_subscriptions_set;	/* 0: every API */
};

extern const struct mgw_plugin plugin_authn;
extern const struct mgw_conf_section authn_settings[];
/* conf's security group (never NULL once conf is loaded). */
const struct conf_security *authn_security(const struct mgw_conf *);
const struct authn_conf_api *authn_api(const struct mgw_conf *, size_t);
const struct authn_conf_resource *authn_resource(const struct mgw_conf *,
		    size_t, size_t);
/*
 * Consumer i's keys, with its name.  Master, in the conf hook (it sets
 * cs_name); the struct lives as long as conf.
 */
const struct authn_conf_consumer *authn_consumer(const struct mgw_conf *,
		    size_t);

#endif /* MGW_AUTHN_CONF_H */
