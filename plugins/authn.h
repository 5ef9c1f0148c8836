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
 * list in shared memory (shm/token-cache.c, shm/revoke.c), scopes,
 * consumers and subscriptions, what goes upstream, and the error
 * responses.  A mechanism only finds its credential and says who it
 * belongs to.
 */
#ifndef MGW_AUTHN_H
#define MGW_AUTHN_H

#include <stddef.h>
#include <stdint.h>

struct mgw_conf;
struct mgw_request;
struct authn_conf_consumer;

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

/* authn-util.c: helpers shared by the mechanisms. */
/* 64-bit FNV-1a, to build epochs; h is 0 or the previous value. */
uint64_t	authn_hash64(uint64_t, const void *, size_t);
/*
 * The whole file at path in a new buffer (NUL-terminated), at most max
 * bytes.  0, or -1 with *why (a literal or strerror).
 */
int		authn_read_file(const char *, size_t, char **, size_t *,
		    const char **);

#endif /* MGW_AUTHN_H */
