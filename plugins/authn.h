/*
 * authn.h: authentication.  One plugin (authn.c) runs the access phase
 * for every route with a security list; each mechanism named in such a
 * list ("jwt", "api_key", "basic", "oauth2") is a struct authn_mech in a
 * file of its own (authn-jwt.c, authn-apikey.c, authn-basic.c,
 * authn-oauth2.c).  The first mechanism in the route's list whose
 * credential the request carries decides; none carried is
 * 401 missing_credentials with every listed mechanism's challenge.
 *
 * The dispatcher owns what is common: the token cache and the revocation
 * list in shared memory (authn-cache.c, authn-revoke.c), scopes,
 * consumers and subscriptions, what goes upstream, and the error
 * responses.  A mechanism only finds its credential and says who it
 * belongs to.
 */
#ifndef MGW_AUTHN_H
#define MGW_AUTHN_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include <mgw/plugin.h>

struct mgw_conf;
struct mgw_request;
struct authn_conf_consumer;
struct event_base;

/* What a mechanism concluded about a credential. */
enum authn_verdict {
	AUTHN_OK = 0,
	AUTHN_INVALID,		/* 401 invalid_credentials */
	AUTHN_EXPIRED,		/* 401 expired */
	AUTHN_REVOKED,		/* 401 revoked */
	AUTHN_UNAVAILABLE,	/* 503 auth_unavailable: cannot tell now */
	AUTHN_INTERNAL		/* 500: our fault (OOM) */
};

#define AUTHN_PRINCIPAL_MAX	128	/* bytes of a subject, with NUL */
#define AUTHN_SCOPES_MAX	512	/* bytes of the scope list, with NUL */
#define AUTHN_WHY_MAX		96

/*
 * Who a credential belongs to.  Fixed-size so that it can be copied into
 * and out of the shared token cache as it is: no pointers, except
 * ai_consumer, which the dispatcher sets from ai_consumer_name after
 * every lookup (it points into this generation's configuration).
 */
struct authn_identity {
	enum authn_verdict	 ai_verdict;
	/* A literal from a small fixed set: a metrics label, never data. */
	const char		*ai_reason;
	char			 ai_why[AUTHN_WHY_MAX];	/* detail, no secrets */
	/*
	 * The names the consumer is looked up by: for a JWT, sub then
	 * client_id (or azp) in consumers' jwt_subjects; for introspection
	 * the same; for Basic, the user in basic_users.  "" when absent.
	 */
	char			 ai_subject[AUTHN_PRINCIPAL_MAX];
	char			 ai_client_id[AUTHN_PRINCIPAL_MAX];
	/*
	 * Set when the credential itself names the consumer (an API key):
	 * taken as is, no subject lookup.  "" otherwise.
	 */
	char			 ai_consumer_name[AUTHN_PRINCIPAL_MAX];
	char			 ai_scopes[AUTHN_SCOPES_MAX]; /* space-separated */
	char			 ai_jti[AUTHN_PRINCIPAL_MAX];	/* "" none */
	int64_t			 ai_exp;	/* Unix seconds; 0 none */
	int			 ai_sandbox;	/* key type SANDBOX */
	int			 ai_cacheable;	/* 0: never put in the cache */
	const struct authn_conf_consumer *ai_consumer;	/* set by authn.c */
};

void	authn_identity_init(struct authn_identity *);
/* printf into ai_why, truncated; the caller keeps secrets out. */
void	authn_identity_why(struct authn_identity *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));

/* A mechanism's verify may finish later: it calls this when it does. */
typedef void authn_done_fn(struct mgw_request *, void *);

struct authn_mech {
	const char	*am_name;	/* as in security = [ ... ] */
	/*
	 * Not worth caching: verifying costs less than a cache lookup,
	 * so the dispatcher neither looks up nor stores its verdicts.
	 */
	int		 am_nocache;
	/*
	 * Master, at config load: build the mechanism's state from conf
	 * (read key files, htpasswd, ...).  0, or -1 with *cause (file
	 * name and line where there is one), which refuses the config.
	 * Called only when some route lists the mechanism.
	 */
	int		(*am_conf)(const struct mgw_conf *, void **, char **);
	void		(*am_free)(void *);
	/*
	 * Master, from the plugin's init_master, before the generation's
	 * workers fork; initial for the first generation of this mgwd.
	 * May be NULL.  0, or -1 with *cause, which refuses the config.
	 */
	int		(*am_init_master)(void *, struct event_base *, int,
			    char **);
	/* Worker, once after fork; may be NULL.  0 or -1 with *cause. */
	int		(*am_init_worker)(void *, char **);
	/*
	 * The credential the request carries for this mechanism, or NULL
	 * when it carries none (then the next mechanism is tried).  A
	 * credential present but malformed is still returned: verify
	 * refuses it.  The bytes are the request's.
	 */
	const char	*(*am_credential)(void *, struct mgw_request *,
			    size_t *);
	/*
	 * Verify a credential the cache did not know.  Fill *id and return
	 * 0; or start work that finishes later, return 1, and call
	 * done(r, arg) once *id is filled.  Never both, never blocks (a
	 * bounded CPU cost such as a signature check or one bcrypt is
	 * allowed).  *id stays valid until done is called.
	 */
	int		(*am_verify)(void *, struct mgw_request *, const char *,
			    size_t, struct authn_identity *, authn_done_fn *,
			    void *);
	/*
	 * The request went away while a verify was pending: forget it;
	 * done must not be called for it.  NULL if verify never returns 1.
	 */
	void		(*am_cancel)(void *, struct mgw_request *);
	/*
	 * Remove the credential from what goes upstream (it was consumed);
	 * not called when security.forward_credentials is set.  0 or -1.
	 */
	int		(*am_strip)(void *, struct mgw_request *);
	/*
	 * A number that changes whenever what the mechanism trusts
	 * changes (keys, htpasswd contents, endpoint): cached verdicts
	 * made under another epoch are ignored.  Worker; cheap.
	 */
	uint64_t	(*am_epoch)(void *);
	/* The WWW-Authenticate challenge for a 401 of this mechanism. */
	const char	*(*am_challenge)(void *);
};

extern const struct authn_mech authn_mech_jwt;
extern const struct authn_mech authn_mech_apikey;
extern const struct authn_mech authn_mech_basic;
extern const struct authn_mech authn_mech_oauth2;

/* authn.c */
/* The security.revocation_file of the plugin's state, or NULL. */
const char	*authn_revocation_file(const void *);

/* authn-ctl.c: mgwctl revoke and revocations. */
extern const struct mgw_ctl_verb authn_ctl_verbs[];

/* authn-jwks-fetch.c */
/*
 * JWK sets of issuers with a jwks_url: fetched and refreshed by the
 * master, published in the "jwks" zone, read by workers through a
 * struct jwks_ref.
 */
struct shm_zone;
struct jwks_slot;
/* One distinct jwks_url and the settings of its first issuer. */
struct jwks_url {
	const char		*ju_url;
	const char		*ju_ca;		/* NULL: the system store */
	int			 ju_alg;	/* enum jwt_alg, pins keys */
	uint64_t		 ju_refresh;	/* ms, without max-age */
	uint64_t		 ju_timeout;	/* ms, one whole fetch */
};
/* A generation's URLs, owned by the jwt mechanism's state. */
struct jwks_set {
	struct jwks_url		*jt_urls;
	size_t			 jt_n;
	pid_t			 jt_pid;	/* started in it; 0: not */
	struct jwks_set		*jt_next;	/* started sets */
};
struct jwks_ref {
	struct shm_zone		*jr_zone;
	struct jwks_slot	*jr_slot;
};
/* Check a jwks_url and jwks_ca; 0, or -1 with "where: ..." in *cause. */
int	jwks_fetch_check(const char *, const char *, const char *, char **);
/* Master, conf hook: declare the "jwks" zone for set.  0 or -1. */
int	jwks_fetch_conf(const struct jwks_set *, char **);
/* Master, init_master: fetch set's URLs (initial: first, before fork). */
void	jwks_fetch_start(struct jwks_set *, struct event_base *, int);
/* Master, fini: drop set's fetchers; a no-op if never started here. */
void	jwks_fetch_stop(struct jwks_set *);
/* Worker, after fork: close the sockets of the master's fetches. */
void	jwks_fetch_close_inherited(void);
/* Worker: ref to url's slot in the zone; 0, or -1 if there is none. */
int	jwks_fetch_find(struct jwks_ref *, const char *);
/* Worker: the generation of the document, 0 while none. */
uint64_t jwks_fetch_generation(const struct jwks_ref *);
/* Worker: a copy of the document and its generation; 0 or -1. */
int	jwks_fetch_copy(const struct jwks_ref *, char **, size_t *,
	    uint64_t *);

/* authn-util.c: helpers shared by the mechanisms. */
/* 64-bit FNV-1a, to build epochs; h is 0 or the previous value. */
uint64_t	authn_hash64(uint64_t, const void *, size_t);
/*
 * The whole file at path in a new buffer (NUL-terminated), at most max
 * bytes.  0, or -1 with *why (a literal or strerror).
 */
int		authn_read_file(const char *, size_t, char **, size_t *,
		    const char **);

/* authn-metrics.c: the metrics and status hooks */
struct mgw_buf;
void	authn_metrics(void *, struct mgw_buf *);
void	authn_status(void *, struct mgw_buf *);

/* authn-cache.c */
/*
 * Verified credentials shared by all workers: fixed-size entries keyed by
 * the SHA-256 of the credential, each with the epoch of what its
 * mechanism trusted when it was verified and a deadline.  Bounded: a full
 * set evicts its oldest entry.  The zone keeps its contents across a
 * reload when its size is unchanged.
 */
#define TOKEN_CACHE_KEYLEN	32
struct conf_token_cache;
struct token_cache_stats {
	uint64_t	tcs_capacity;	/* entries the zone holds */
	uint64_t	tcs_entries;	/* live now */
	uint64_t	tcs_hits;
	uint64_t	tcs_misses;
	uint64_t	tcs_evictions;	/* live entries pushed out */
};
/*
 * Master, at config load: declare the zone for entries of vallen bytes.
 * tc_size 0 declares nothing and disables the cache.  0 or -1 (*cause).
 */
int	token_cache_init(const struct conf_token_cache *, size_t, char **);
/*
 * Worker: copy the value for key into val if an entry exists with this
 * epoch and a deadline after now (ms, wall clock).  1 hit, 0 miss (also
 * when the cache is disabled).  Counts the hit or miss.
 */
int	token_cache_get(const uint8_t *, uint64_t, uint64_t, void *, size_t);
/* Worker: store or replace key's value until expires (ms, wall clock). */
void	token_cache_put(const uint8_t *, uint64_t, uint64_t, const void *,
	    size_t);
/* Any process: the counters; all zero when disabled. */
void	token_cache_stats(struct token_cache_stats *);

/* authn-revoke.c */
/*
 * Revoked tokens, by jti or by the SHA-256 of the token, each until a
 * time (Unix seconds; 0: for ever).  Kept in a zone across reloads and
 * persisted to security.revocation_file, so a restart keeps them.
 */
struct conf_security;
/*
 * Master, at config load: declare the zone; a new zone is filled from the
 * file.  A file that cannot be parsed refuses the config (file:line).
 * 0 or -1 (*cause).
 */
int	revoke_init(const struct conf_security *, char **);
/*
 * Master (mgwctl revoke): what is "sha256:" and 64 hex digits (a token
 * hash) or a jti; until in Unix seconds, 0 for ever.  Adds or extends,
 * then rewrites file (the running configuration's revocation_file; NULL:
 * none).  0, or -1 with *cause (list full, file).
 */
int	revoke_add(const char *, int64_t, const char *, char **);
/*
 * Worker: 1 if the token whose SHA-256 is hash (may be NULL), or whose
 * jti is jti (may be NULL or ""), is revoked now (Unix seconds).  Cheap
 * when the list is empty.
 */
int	revoke_check(const uint8_t *, const char *, int64_t);
/* Master: the list as text lines "what until", for mgwctl; malloc'd. */
char	*revoke_list(void);
/* Any process: entries revoked now (approximate), for metrics. */
uint64_t revoke_count(void);

#endif /* MGW_AUTHN_H */
