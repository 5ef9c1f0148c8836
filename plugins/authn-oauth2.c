/*
 * authn-oauth2.c: the "oauth2" mechanism.  An opaque bearer token is
 * asked about at the authorization server's RFC 7662 introspection
 * endpoint (security.introspection), from the worker, without blocking:
 * libevent's HTTP client on the worker's loop, with a few keep-alive
 * connections and, for https, OpenSSL bufferevents.
 *
 * The endpoint's answer decides: "active": true names the subject, the
 * client and the scopes; "active": false is an invalid token.  An
 * endpoint that cannot answer (down, slow, an error status, a body that
 * is not an introspection response) is not the client's fault: that is
 * AUTHN_UNAVAILABLE, a 503, and it is never cached.  The dispatcher
 * (authn.c) caches the other verdicts, so a token is introspected once
 * per cache lifetime, not once per request.
 *
 * Ownership.  A pending introspection is a struct ao_call owned by this
 * file.  It outlives its request when the client leaves (am_cancel) or
 * when our own deadline answers first: it is then an orphan whose answer
 * is dropped, freed when libevent reports the HTTP exchange finished.
 * libevent frees each evhttp_request itself after its callback, and an
 * evhttp_connection is never freed from inside one of its callbacks:
 * a deferred event (the "kick") does that, and sends queued calls.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/event_struct.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "lib.h"
#include "authn-conf.h"
#include <mgw/plugin.h>
#include "authn.h"

#define AO_TOKEN_MAX	8192	/* bytes of a bearer token, at most */
#define AO_CONN_MAX	4	/* keep-alive connections per worker */
#define AO_QUEUE_MAX	1024	/* introspections waiting, at most */
#define AO_BODY_MAX	(64 * 1024)	/* bytes of an answer, at most */
#define AO_HEADERS_MAX	(16 * 1024)	/* bytes of an answer's head */
#define AO_CHALLENGE	"Bearer realm=\"mgw\""
#define AO_EXP_MAX	253402300799LL	/* 9999-12-31T23:59:59Z */

/* What the last introspection showed about the endpoint, for the log. */
enum ao_cond {
	AO_COND_OK = 0,
	AO_COND_UNREACHABLE,	/* refused, reset, TLS failure, no answer */
	AO_COND_TIMEOUT,	/* no answer within the timeout */
	AO_COND_STATUS,		/* an HTTP status other than 200 */
	AO_COND_BODY		/* 200, but not an introspection response */
};

struct ao_state;

/* One keep-alive connection to the endpoint. */
struct ao_conn {
	struct evhttp_connection *cn_evcon;	/* NULL: not open */
	struct ao_call		*cn_call;	/* in flight, or NULL */
	int			 cn_dead;	/* closed: replace it */
};

/* One introspection, from am_verify until its answer or deadline. */
struct ao_call {
	TAILQ_ENTRY(ao_call)	 c_entry;	/* waitq or calls */
	int			 c_queued;	/* on waitq, unsent */
	int			 c_timedout;	/* deadline answered */
	struct ao_state		*c_st;
	struct mgw_request	*c_r;		/* NULL: orphan */
	struct authn_identity	*c_id;
	authn_done_fn		*c_done;
	void			*c_arg;
	struct ao_conn		*c_conn;	/* while in flight */
	struct event		 c_timer;	/* the deadline */
	char			*c_body;	/* the form: a secret */
	size_t			 c_bodylen;
};
TAILQ_HEAD(ao_callq, ao_call);

struct ao_state {
	/* Built by the master (am_conf), read-only afterwards. */
	char			*url;		/* for log messages */
	int			 https;
	char			*host;		/* no [] brackets */
	uint16_t		 port;
	int			 host_is_ip;
	char			*hosthdr;	/* Host: as in url */
	char			*uri;		/* path and query */
	char			*authz;		/* Basic, or NULL */
	struct timeval		 timeout;	/* one introspection */
	SSL_CTX			*ssl_ctx;	/* https only */
	uint64_t		 epoch;

	/* The worker's client (am_init_worker). */
	struct event_base	*base;
	struct evdns_base	*dns;		/* for a name */
	struct event		*kick;		/* send, reap */
	struct ao_conn		 conns[AO_CONN_MAX];
	struct ao_callq		 waitq;	/* for a connection */
	struct ao_callq		 calls;	/* sent, or orphans */
	size_t			 nwait;
	enum ao_cond		 cond;		/* last one logged */
	int			 cond_status;	/* its HTTP status */
};

static int	ao_conf(const struct mgw_conf *, void **, char **);
static void	ao_wipe_free(void *, size_t);
static void	ao_free(void *);
static int	ao_init_worker(void *, char **);
static const char *ao_credential(void *, struct mgw_request *, size_t *);
static int	ao_verify(void *, struct mgw_request *, const char *, size_t,
		    struct authn_identity *, authn_done_fn *, void *);
static void	ao_cancel(void *, struct mgw_request *);
static int	ao_strip(void *, struct mgw_request *);
static uint64_t	ao_epoch(void *);
static const char *ao_challenge(void *);

static int	ao_url_parse(struct ao_state *, const char *, const char *,
		    char **);
static int	ao_tls_init(struct ao_state *,
		    const struct conf_introspection *, const char *, char **);
static size_t	ao_form_encode(char *, const char *, size_t);
static void	ao_kick_cb(evutil_socket_t, short, void *);
static void	ao_timeout_cb(evutil_socket_t, short, void *);
static void	ao_http_cb(struct evhttp_request *, void *);
static void	ao_close_cb(struct evhttp_connection *, void *);
static int	ao_conn_open(struct ao_state *, struct ao_conn *);
static void	ao_send(struct ao_state *, struct ao_conn *,
		    struct ao_call *);
static void	ao_finish(struct ao_call *, const struct authn_identity *);
static void	ao_call_free(struct ao_call *);
static void	ao_unavailable(struct authn_identity *, const char *);
static void	ao_answer(struct evhttp_request *, struct authn_identity *,
		    enum ao_cond *, int *);
static void	ao_log_cond(struct ao_state *, enum ao_cond, int);

const struct authn_mech authn_mech_oauth2 = {
	.am_name = "oauth2",
	.am_conf = ao_conf,
	.am_free = ao_free,
	.am_init_worker = ao_init_worker,
	.am_credential = ao_credential,
	.am_verify = ao_verify,
	.am_cancel = ao_cancel,
	.am_strip = ao_strip,
	.am_epoch = ao_epoch,
	.am_challenge = ao_challenge
};

/*
 * Master, at config load: the endpoint's parts, the client's Basic
 * credentials and, for https, the TLS context the workers inherit.
 */
static int
ao_conf(const struct mgw_conf *conf, void **statep, char **cause)
{
	const struct conf_introspection	*in;
	struct ao_state			*st;
	const char			*where;
	char				*cred = NULL, *b64 = NULL;
	size_t				 idlen, secretlen, n;

	*statep = NULL;
	in = authn_security(conf)->s_introspection;
	if (in == NULL || in->in_url == NULL) {
		*cause = xstrdup("oauth2 needs security.introspection");
		return (-1);
	}
	st = xcalloc(1, sizeof(*st));
	TAILQ_INIT(&st->waitq);
	TAILQ_INIT(&st->calls);
	st->url = xstrdup(in->in_url);
	where = in->in_where != NULL ? in->in_where :
	    "security.introspection";
	if (ao_url_parse(st, where, in->in_url, cause) == -1)
		goto fail;
	st->timeout.tv_sec = in->in_timeout / 1000;
	st->timeout.tv_usec = (in->in_timeout % 1000) * 1000;

	if (in->in_client_id != NULL) {
		if (in->in_client_secret == NULL) {
			xasprintf(cause, "%s: client_id needs client_secret",
			    where);
			goto fail;
		}
		/*
		 * RFC 6749 2.3.1: both are form-urlencoded before they are
		 * joined, so a ':' in the id survives the Basic encoding.
		 */
		idlen = strlen(in->in_client_id);
		secretlen = strlen(in->in_client_secret);
		cred = xmalloc(3 * (idlen + secretlen) + 2);
		n = ao_form_encode(cred, in->in_client_id, idlen);
		cred[n++] = ':';
		n += ao_form_encode(cred + n, in->in_client_secret, secretlen);
		b64 = xmalloc(4 * ((n + 2) / 3) + 1);
		EVP_EncodeBlock((unsigned char *)b64, (unsigned char *)cred,
		    (int)n);
		xasprintf(&st->authz, "Basic %s", b64);
		ao_wipe_free(cred, 3 * (idlen + secretlen) + 2);
		ao_wipe_free(b64, 4 * ((n + 2) / 3) + 1);
		cred = b64 = NULL;
	}
	if (st->https && ao_tls_init(st, in, where, cause) == -1)
		goto fail;

	/* What the endpoint is decides what its verdicts mean. */
	st->epoch = authn_hash64(0, in->in_url, strlen(in->in_url));
	if (in->in_client_id != NULL)
		st->epoch = authn_hash64(st->epoch, in->in_client_id,
		    strlen(in->in_client_id) + 1);
	*statep = st;
	return (0);

fail:
	ao_free(st);
	return (-1);
}

/* Secrets are wiped before their memory goes back to malloc. */
static void
ao_wipe_free(void *p, size_t len)
{
	if (p == NULL)
		return;
	explicit_bzero(p, len);
	free(p);
}

/*
 * Split an http(s) URL into what the client needs.  Anything we would
 * have to guess about (credentials in the URL, a fragment, another
 * scheme, no host) refuses the configuration.  0, or -1 with *cause.
 */
static int
ao_url_parse(struct ao_state *st, const char *where, const char *url,
    char **cause)
{
	struct evhttp_uri	*u;
	struct in6_addr		 a6;
	struct in_addr		 a4;
	const char		*scheme, *host, *path, *query;
	size_t			 hlen;
	int			 port, rv = -1;

	if ((u = evhttp_uri_parse_with_flags(url, 0)) == NULL) {
		xasprintf(cause, "%s: url '%s' is not a valid URL", where,
		    url);
		return (-1);
	}
	scheme = evhttp_uri_get_scheme(u);
	host = evhttp_uri_get_host(u);
	if (scheme == NULL || (strcasecmp(scheme, "http") != 0 &&
	    strcasecmp(scheme, "https") != 0)) {
		xasprintf(cause, "%s: url '%s': the scheme must be http or "
		    "https", where, url);
		goto out;
	}
	st->https = strcasecmp(scheme, "https") == 0;
	if (host == NULL || *host == '\0') {
		xasprintf(cause, "%s: url '%s' has no host", where, url);
		goto out;
	}
	if (evhttp_uri_get_userinfo(u) != NULL) {
		xasprintf(cause, "%s: url '%s': no credentials in the URL, "
		    "use client_id and client_secret", where, url);
		goto out;
	}
	if (evhttp_uri_get_fragment(u) != NULL) {
		xasprintf(cause, "%s: url '%s': no fragment allowed", where,
		    url);
		goto out;
	}
	port = evhttp_uri_get_port(u);
	if (port == 0 || port > 65535) {
		xasprintf(cause, "%s: url '%s': bad port", where, url);
		goto out;
	}
	st->port = port == -1 ? (st->https ? 443 : 80) : (uint16_t)port;

	hlen = strlen(host);
	if (host[0] == '[' && hlen > 2 && host[hlen - 1] == ']') {
		st->host = xstrdup(host + 1);
		st->host[hlen - 2] = '\0';
	} else
		st->host = xstrdup(host);
	st->host_is_ip = inet_pton(AF_INET, st->host, &a4) == 1 ||
	    inet_pton(AF_INET6, st->host, &a6) == 1;
	if (port == -1)
		st->hosthdr = xstrdup(host);
	else
		xasprintf(&st->hosthdr, "%s:%d", host, port);

	path = evhttp_uri_get_path(u);
	query = evhttp_uri_get_query(u);
	if (path == NULL || *path == '\0')
		path = "/";
	if (query != NULL)
		xasprintf(&st->uri, "%s?%s", path, query);
	else
		st->uri = xstrdup(path);
	rv = 0;
out:
	evhttp_uri_free(u);
	return (rv);
}

/*
 * The TLS client context, made once in the master so that a bad CA file
 * refuses the configuration; workers inherit it and make one SSL per
 * connection.  0, or -1 with *cause.
 */
static int
ao_tls_init(struct ao_state *st, const struct conf_introspection *in,
    const char *where, char **cause)
{
	FILE		*f;
	unsigned long	 e;

	if ((st->ssl_ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		xasprintf(cause, "%s: SSL_CTX_new failed", where);
		return (-1);
	}
	SSL_CTX_set_min_proto_version(st->ssl_ctx, TLS1_2_VERSION);
	if (!in->in_verify) {
		SSL_CTX_set_verify(st->ssl_ctx, SSL_VERIFY_NONE, NULL);
		return (0);
	}
	SSL_CTX_set_verify(st->ssl_ctx, SSL_VERIFY_PEER, NULL);
	if (in->in_ca != NULL) {
		/* OpenSSL's reason for a missing file is vague; ask first. */
		if ((f = fopen(in->in_ca, "r")) == NULL) {
			xasprintf(cause, "%s: ca %s: %s", where, in->in_ca,
			    strerror(errno));
			return (-1);
		}
		fclose(f);
		if (SSL_CTX_load_verify_locations(st->ssl_ctx, in->in_ca,
		    NULL) != 1) {
			e = ERR_peek_last_error();
			xasprintf(cause, "%s: ca %s: %s", where, in->in_ca,
			    e != 0 && ERR_reason_error_string(e) != NULL ?
			    ERR_reason_error_string(e) : "no certificates");
			ERR_clear_error();
			return (-1);
		}
	} else if (SSL_CTX_set_default_verify_paths(st->ssl_ctx) != 1) {
		ERR_clear_error();
		xasprintf(cause, "%s: the system CA store cannot be loaded",
		    where);
		return (-1);
	}
	return (0);
}

/*
 * application/x-www-form-urlencoded: unreserved bytes as they are, space
 * as '+', the rest as %XX.  dst holds 3 * len bytes.  Returns the length
 * written (no NUL).
 */
static size_t
ao_form_encode(char *dst, const char *src, size_t len)
{
	static const char	 hex[] = "0123456789ABCDEF";
	unsigned char		 ch;
	size_t			 i, n = 0;

	for (i = 0; i < len; i++) {
		ch = (unsigned char)src[i];
		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' ||
		    ch == '_' || ch == '*')
			dst[n++] = (char)ch;
		else if (ch == ' ')
			dst[n++] = '+';
		else {
			dst[n++] = '%';
			dst[n++] = hex[ch >> 4];
			dst[n++] = hex[ch & 0x0f];
		}
	}
	return (n);
}

/*
 * Master or worker: release a generation's state.  In a worker this also
 * drops whatever is pending; done is never called for it.
 */
static void
ao_free(void *arg)
{
	struct ao_state	*st = arg;
	struct ao_call	*c;
	size_t		 i;

	if (st == NULL)
		return;
	while ((c = TAILQ_FIRST(&st->waitq)) != NULL)
		ao_call_free(c);
	for (i = 0; i < AO_CONN_MAX; i++) {
		/* Frees the requests on it without calling back. */
		if (st->conns[i].cn_evcon != NULL)
			evhttp_connection_free(st->conns[i].cn_evcon);
		st->conns[i].cn_evcon = NULL;
	}
	while ((c = TAILQ_FIRST(&st->calls)) != NULL)
		ao_call_free(c);
	if (st->kick != NULL)
		event_free(st->kick);
	if (st->dns != NULL)
		evdns_base_free(st->dns, 0);
	if (st->ssl_ctx != NULL)
		SSL_CTX_free(st->ssl_ctx);
	free(st->url);
	free(st->host);
	free(st->hosthdr);
	free(st->uri);
	if (st->authz != NULL)
		ao_wipe_free(st->authz, strlen(st->authz));
	free(st);
}

/*
 * Worker, once after fork: the client lives on the worker's loop.
 * Connections open lazily, on the first introspection.
 */
static int
ao_init_worker(void *arg, char **cause)
{
	struct ao_state	*st = arg;

	if ((st->base = mgw_event_base()) == NULL) {
		xasprintf(cause, "oauth2: no event loop");
		return (-1);
	}
	/*
	 * A name is resolved by evdns on the loop: with no DNS base evhttp
	 * would call getaddrinfo(3) and block the worker.  An address
	 * needs none.
	 */
	if (!st->host_is_ip && (st->dns = evdns_base_new(st->base,
	    EVDNS_BASE_INITIALIZE_NAMESERVERS |
	    EVDNS_BASE_DISABLE_WHEN_INACTIVE)) == NULL) {
		xasprintf(cause, "oauth2: cannot set up DNS for %s", st->host);
		return (-1);
	}
	if ((st->kick = event_new(st->base, -1, 0, ao_kick_cb, st)) == NULL) {
		xasprintf(cause, "oauth2: event_new failed");
		return (-1);
	}
	st->cond = AO_COND_OK;
	return (0);
}

/* "Authorization: Bearer <token>", scheme in any case (RFC 7235). */
static const char *
ao_credential(void *arg, struct mgw_request *r, size_t *lenp)
{
	const char	*v;
	size_t		 len, i;

	if ((v = mgw_request_header(r, "Authorization", &len)) == NULL)
		return (NULL);
	if (len < 6 || strncasecmp(v, "Bearer", 6) != 0)
		return (NULL);
	if (len > 6 && v[6] != ' ' && v[6] != '\t')
		return (NULL);
	for (i = 6; i < len && (v[i] == ' ' || v[i] == '\t'); i++)
		;
	while (len > i && (v[len - 1] == ' ' || v[len - 1] == '\t'))
		len--;
	*lenp = len - i;
	return (v + i);
}

/* RFC 6750 b64token: 1*( ALPHA / DIGIT / "-._~+/" ) *"=". */
static int
ao_token_ok(const char *tok, size_t len)
{
	size_t	 i;
	int	 eq = 0;

	if (len == 0)
		return (0);
	for (i = 0; i < len; i++) {
		if (tok[i] == '=') {
			if (i == 0)
				return (0);
			eq = 1;
			continue;
		}
		if (eq)
			return (0);
		if (!((tok[i] >= 'a' && tok[i] <= 'z') ||
		    (tok[i] >= 'A' && tok[i] <= 'Z') ||
		    (tok[i] >= '0' && tok[i] <= '9') || tok[i] == '-' ||
		    tok[i] == '.' || tok[i] == '_' || tok[i] == '~' ||
		    tok[i] == '+' || tok[i] == '/'))
			return (0);
	}
	return (1);
}

/*
 * Worker: start an introspection.  Malformed and over-long tokens are
 * refused here, without asking anyone.  Otherwise the call is queued and
 * sent from the kick event, so done is never called before we return 1.
 */
static int
ao_verify(void *arg, struct mgw_request *r, const char *tok, size_t len,
    struct authn_identity *id, authn_done_fn *done, void *darg)
{
	static const char	 hint[] = "&token_type_hint=access_token";
	struct ao_state		*st = arg;
	struct ao_call		*c;
	struct timeval		 tv;
	size_t			 n;

	if (len > AO_TOKEN_MAX) {
		id->ai_verdict = AUTHN_INVALID;
		id->ai_reason = "malformed";
		authn_identity_why(id, "token longer than %d bytes",
		    AO_TOKEN_MAX);
		return (0);
	}
	if (!ao_token_ok(tok, len)) {
		id->ai_verdict = AUTHN_INVALID;
		id->ai_reason = "malformed";
		authn_identity_why(id, "malformed bearer token");
		return (0);
	}
	if (st->kick == NULL) {
		ao_unavailable(id, "introspection client not initialised");
		return (0);
	}
	if (st->nwait >= AO_QUEUE_MAX) {
		ao_unavailable(id, "too many introspections waiting");
		return (0);
	}
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->c_body = malloc(sizeof("token=") + 3 * len +
	    sizeof(hint))) == NULL) {
		free(c);
		id->ai_verdict = AUTHN_INTERNAL;
		id->ai_reason = "internal";
		id->ai_cacheable = 0;
		return (0);
	}
	memcpy(c->c_body, "token=", 6);
	n = 6;
	n += ao_form_encode(c->c_body + n, tok, len);
	memcpy(c->c_body + n, hint, sizeof(hint));
	c->c_bodylen = n + sizeof(hint) - 1;
	c->c_st = st;
	c->c_r = r;
	c->c_id = id;
	c->c_done = done;
	c->c_arg = darg;
	c->c_queued = 1;
	TAILQ_INSERT_TAIL(&st->waitq, c, c_entry);
	st->nwait++;
	/* The deadline covers the wait for a connection too. */
	evtimer_assign(&c->c_timer, st->base, ao_timeout_cb, c);
	tv = st->timeout;
	evtimer_add(&c->c_timer, &tv);
	event_active(st->kick, EV_TIMEOUT, 1);
	return (1);
}

/*
 * Worker: the request is gone.  A queued call is dropped at once; one in
 * flight becomes an orphan, freed when libevent reports the exchange
 * over (its evhttp_request is libevent's until then).
 */
static void
ao_cancel(void *arg, struct mgw_request *r)
{
	struct ao_state	*st = arg;
	struct ao_call	*c;

	TAILQ_FOREACH(c, &st->waitq, c_entry) {
		if (c->c_r == r) {
			ao_call_free(c);
			return;
		}
	}
	TAILQ_FOREACH(c, &st->calls, c_entry) {
		if (c->c_r == r) {
			c->c_r = NULL;
			c->c_id = NULL;
			return;
		}
	}
}

static int
ao_strip(void *arg, struct mgw_request *r)
{
	return (mgw_request_set_header(r, "Authorization", NULL, 0));
}

static uint64_t
ao_epoch(void *arg)
{
	struct ao_state	*st = arg;

	return (st->epoch);
}

static const char *
ao_challenge(void *arg)
{
	return (AO_CHALLENGE);
}

/*
 * Deferred work, outside every evhttp callback: replace connections that
 * closed, then give each idle one the oldest waiting call.
 */
static void
ao_kick_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct ao_state	*st = arg;
	struct ao_conn	*cn;
	struct ao_call	*c;
	size_t		 i;

	for (i = 0; i < AO_CONN_MAX; i++) {
		cn = &st->conns[i];
		if (cn->cn_call != NULL)
			continue;
		if (cn->cn_dead && cn->cn_evcon != NULL) {
			evhttp_connection_free(cn->cn_evcon);
			cn->cn_evcon = NULL;
		}
		cn->cn_dead = 0;
		if ((c = TAILQ_FIRST(&st->waitq)) == NULL)
			continue;
		if (cn->cn_evcon == NULL && ao_conn_open(st, cn) == -1) {
			/* Out of memory or descriptors: cannot tell now. */
			TAILQ_REMOVE(&st->waitq, c, c_entry);
			st->nwait--;
			c->c_queued = 0;
			TAILQ_INSERT_TAIL(&st->calls, c, c_entry);
			ao_log_cond(st, AO_COND_UNREACHABLE, 0);
			ao_finish(c, NULL);
			continue;
		}
		ao_send(st, cn, c);
	}
}

/*
 * A new connection.  For https each gets its own SSL: libevent 2.1
 * cannot reconnect an OpenSSL bufferevent, so a connection that closed
 * is replaced, never reused.  0 or -1.
 */
static int
ao_conn_open(struct ao_state *st, struct ao_conn *cn)
{
	struct bufferevent	*bev = NULL;
	struct timeval		 tv;
	SSL			*ssl;

	if (st->ssl_ctx != NULL) {
		if ((ssl = SSL_new(st->ssl_ctx)) == NULL)
			return (-1);
		if (st->host_is_ip) {
			if (SSL_get_verify_mode(ssl) != SSL_VERIFY_NONE &&
			    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl),
			    st->host) != 1) {
				SSL_free(ssl);
				return (-1);
			}
		} else if (SSL_set_tlsext_host_name(ssl, st->host) != 1 ||
		    (SSL_get_verify_mode(ssl) != SSL_VERIFY_NONE &&
		    SSL_set1_host(ssl, st->host) != 1)) {
			SSL_free(ssl);
			return (-1);
		}
		bev = bufferevent_openssl_socket_new(st->base, -1, ssl,
		    BUFFEREVENT_SSL_CONNECTING,
		    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
		if (bev == NULL) {
			SSL_free(ssl);
			return (-1);
		}
		/* Many servers close without close_notify. */
		bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	}
	cn->cn_evcon = evhttp_connection_base_bufferevent_new(st->base,
	    st->dns, bev, st->host, st->port);
	if (cn->cn_evcon == NULL) {
		if (bev != NULL)
			bufferevent_free(bev);
		return (-1);
	}
	/*
	 * Our own deadline (ao_timeout_cb) answers the client; evhttp's,
	 * half as long again and started later, only ends an exchange
	 * nobody waits for any more, so a silent endpoint is always logged
	 * as a timeout.
	 */
	tv.tv_sec = st->timeout.tv_sec * 3 / 2;
	tv.tv_usec = (st->timeout.tv_sec % 2) * 500000 +
	    st->timeout.tv_usec * 3 / 2;
	tv.tv_sec += tv.tv_usec / 1000000;
	tv.tv_usec %= 1000000;
	evhttp_connection_set_timeout_tv(cn->cn_evcon, &tv);
	evhttp_connection_set_retries(cn->cn_evcon, 0);
	evhttp_connection_set_max_body_size(cn->cn_evcon, AO_BODY_MAX);
	evhttp_connection_set_max_headers_size(cn->cn_evcon, AO_HEADERS_MAX);
	evhttp_connection_set_closecb(cn->cn_evcon, ao_close_cb, cn);
	cn->cn_dead = 0;
	return (0);
}

/* The connection closed (also when it is freed): never reuse it. */
static void
ao_close_cb(struct evhttp_connection *evcon, void *arg)
{
	struct ao_conn	*cn = arg;

	cn->cn_dead = 1;
}

/* POST the form on an idle connection. */
static void
ao_send(struct ao_state *st, struct ao_conn *cn, struct ao_call *c)
{
	struct evhttp_request	*req;
	struct evkeyvalq	*h;

	TAILQ_REMOVE(&st->waitq, c, c_entry);
	st->nwait--;
	c->c_queued = 0;
	TAILQ_INSERT_TAIL(&st->calls, c, c_entry);

	if ((req = evhttp_request_new(ao_http_cb, c)) == NULL)
		goto fail;
	h = evhttp_request_get_output_headers(req);
	if (evhttp_add_header(h, "Host", st->hosthdr) == -1 ||
	    evhttp_add_header(h, "Content-Type",
	    "application/x-www-form-urlencoded") == -1 ||
	    evhttp_add_header(h, "Accept", "application/json") == -1 ||
	    (st->authz != NULL &&
	    evhttp_add_header(h, "Authorization", st->authz) == -1) ||
	    evbuffer_add(evhttp_request_get_output_buffer(req), c->c_body,
	    c->c_bodylen) == -1) {
		evhttp_request_free(req);
		goto fail;
	}
	explicit_bzero(c->c_body, c->c_bodylen);
	cn->cn_call = c;
	c->c_conn = cn;
	/*
	 * libevent may call ao_http_cb before this returns (a connect that
	 * fails at once): c must not be touched after a 0.  On -1 the
	 * request was not queued and its callback will not run; libevent
	 * 2.1 frees it on some of those paths and not on others, so it is
	 * left alone (a rare, bounded leak beats a double free).
	 */
	if (evhttp_make_request(cn->cn_evcon, req, EVHTTP_REQ_POST,
	    st->uri) == 0)
		return;
	cn->cn_call = NULL;
	c->c_conn = NULL;
	cn->cn_dead = 1;
	event_active(st->kick, EV_TIMEOUT, 1);
fail:
	ao_log_cond(st, AO_COND_UNREACHABLE, 0);
	ao_finish(c, NULL);
}

/*
 * Our deadline: answer "unavailable" now.  A call still waiting goes
 * away; one in flight stays an orphan until evhttp's own, longer timeout
 * ends the exchange and frees its connection.
 */
static void
ao_timeout_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct ao_call		*c = arg;
	struct ao_state		*st = c->c_st;
	struct mgw_request	*r;
	struct authn_identity	*id;

	ao_log_cond(st, AO_COND_TIMEOUT, 0);
	c->c_timedout = 1;
	if (c->c_queued) {
		TAILQ_REMOVE(&st->waitq, c, c_entry);
		st->nwait--;
		c->c_queued = 0;
		TAILQ_INSERT_TAIL(&st->calls, c, c_entry);
		ao_finish(c, NULL);
		return;
	}
	if ((r = c->c_r) == NULL)
		return;
	id = c->c_id;
	c->c_r = NULL;
	c->c_id = NULL;
	authn_identity_init(id);
	ao_unavailable(id, "introspection endpoint timed out");
	/* c stays on st->calls: ao_http_cb frees it. */
	(*c->c_done)(r, c->c_arg);
}

/*
 * libevent is done with the exchange: req is the answer, or NULL (or
 * has no status) when the connection failed.  libevent frees req after
 * we return.
 */
static void
ao_http_cb(struct evhttp_request *req, void *arg)
{
	struct ao_call		*c = arg;
	struct ao_state		*st = c->c_st;
	struct authn_identity	 id;
	enum ao_cond		 cond;
	int			 status;

	if (c->c_conn != NULL) {
		c->c_conn->cn_call = NULL;
		if (req == NULL || evhttp_request_get_response_code(req) == 0)
			c->c_conn->cn_dead = 1;
		c->c_conn = NULL;
	}
	/* The connection is free again, or must be replaced. */
	event_active(st->kick, EV_TIMEOUT, 1);
	authn_identity_init(&id);
	ao_answer(req, &id, &cond, &status);
	/* A timed-out call's late failure was logged as the timeout. */
	if (!c->c_timedout)
		ao_log_cond(st, cond, status);
	ao_finish(c, &id);
}

/*
 * A call on st->calls ends: hand res (NULL: unreachable) to its request,
 * unless it is an orphan, and free it.  done comes last: it may run the
 * rest of the request, and start another introspection.
 */
static void
ao_finish(struct ao_call *c, const struct authn_identity *res)
{
	struct mgw_request	*r = c->c_r;
	struct authn_identity	*id = c->c_id;
	authn_done_fn		*done = c->c_done;
	void			*darg = c->c_arg;

	ao_call_free(c);
	if (r == NULL)
		return;
	if (res != NULL)
		*id = *res;
	else {
		authn_identity_init(id);
		ao_unavailable(id, "introspection endpoint unreachable");
	}
	(*done)(r, darg);
}

/* Unlink a call from its list, stop its deadline, wipe and free it. */
static void
ao_call_free(struct ao_call *c)
{
	struct ao_state	*st = c->c_st;

	evtimer_del(&c->c_timer);
	if (c->c_queued) {
		TAILQ_REMOVE(&st->waitq, c, c_entry);
		st->nwait--;
	} else
		TAILQ_REMOVE(&st->calls, c, c_entry);
	if (c->c_conn != NULL)
		c->c_conn->cn_call = NULL;
	ao_wipe_free(c->c_body, c->c_bodylen);
	free(c);
}

/* "Cannot tell now": a 503, never cached. */
static void
ao_unavailable(struct authn_identity *id, const char *why)
{
	id->ai_verdict = AUTHN_UNAVAILABLE;
	id->ai_reason = "unavailable";
	id->ai_cacheable = 0;
	authn_identity_why(id, "%s", why);
}

/*
 * A member of the answer that is a string, copied into dst.  0 when
 * copied or absent; -1 when it is not a string (the endpoint's fault);
 * -2 when it cannot be used (too long, control bytes, which could
 * otherwise travel into headers).
 */
static int
ao_member(const json_t *root, const char *key, char *dst, size_t size)
{
	const json_t	*v;
	const char	*s;
	size_t		 len, i;

	dst[0] = '\0';
	if ((v = json_object_get(root, key)) == NULL || json_is_null(v))
		return (0);
	if (!json_is_string(v))
		return (-1);
	s = json_string_value(v);
	len = json_string_length(v);
	if (len >= size)
		return (-2);
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return (-2);
	memcpy(dst, s, len + 1);
	return (0);
}

/*
 * Read the endpoint's answer into id: RFC 7662 section 2.2.  *cond says
 * what it shows about the endpoint, *status its HTTP status when that
 * was the problem.
 */
static void
ao_answer(struct evhttp_request *req, struct authn_identity *id,
    enum ao_cond *cond, int *status)
{
	static const struct {
		const char	*key;
		size_t		 off;
		size_t		 size;
	} members[] = {
		{ "sub", offsetof(struct authn_identity, ai_subject),
		  AUTHN_PRINCIPAL_MAX },
		{ "client_id", offsetof(struct authn_identity, ai_client_id),
		  AUTHN_PRINCIPAL_MAX },
		{ "scope", offsetof(struct authn_identity, ai_scopes),
		  AUTHN_SCOPES_MAX },
		{ "jti", offsetof(struct authn_identity, ai_jti),
		  AUTHN_PRINCIPAL_MAX }
	};
	struct evbuffer	*buf;
	json_error_t	 err;
	json_t		*root = NULL, *active, *v;
	const char	*p;
	size_t		 len, i;
	int64_t		 exp = 0;
	double		 d;
	int		 code, rv;

	*status = 0;
	*cond = AO_COND_UNREACHABLE;
	if (req == NULL || (code = evhttp_request_get_response_code(req)) ==
	    0) {
		ao_unavailable(id, "introspection endpoint unreachable");
		return;
	}
	if (code != 200) {
		*cond = AO_COND_STATUS;
		*status = code;
		ao_unavailable(id, "introspection endpoint failed");
		return;
	}
	*cond = AO_COND_BODY;
	buf = evhttp_request_get_input_buffer(req);
	len = evbuffer_get_length(buf);
	if (len == 0 || (p = (const char *)evbuffer_pullup(buf, -1)) == NULL ||
	    (root = json_loadb(p, len, JSON_REJECT_DUPLICATES, &err)) ==
	    NULL || !json_is_object(root)) {
		ao_unavailable(id, "introspection answer is not a JSON "
		    "object");
		goto out;
	}
	active = json_object_get(root, "active");
	if (!json_is_boolean(active)) {
		ao_unavailable(id, "introspection answer has no boolean "
		    "active");
		goto out;
	}
	*cond = AO_COND_OK;
	if (json_is_false(active)) {
		id->ai_verdict = AUTHN_INVALID;
		id->ai_reason = "inactive";
		authn_identity_why(id, "token is not active");
		goto out;
	}

	for (i = 0; i < sizeof(members) / sizeof(members[0]); i++) {
		rv = ao_member(root, members[i].key,
		    (char *)id + members[i].off, members[i].size);
		if (rv == -1) {
			*cond = AO_COND_BODY;
			ao_unavailable(id, "introspection answer is "
			    "malformed");
			goto out;
		}
		if (rv == -2) {
			id->ai_verdict = AUTHN_INVALID;
			id->ai_reason = "bad_claim";
			authn_identity_why(id, "%s is too long or not "
			    "printable", members[i].key);
			goto out;
		}
	}
	if (id->ai_subject[0] == '\0') {
		rv = ao_member(root, "username", id->ai_subject,
		    sizeof(id->ai_subject));
		if (rv != 0) {
			id->ai_subject[0] = '\0';
			id->ai_verdict = AUTHN_INVALID;
			id->ai_reason = "bad_claim";
			authn_identity_why(id, "username is unusable");
			goto out;
		}
	}

	v = json_object_get(root, "exp");
	if (json_is_integer(v))
		exp = json_integer_value(v);
	else if (json_is_real(v)) {
		d = json_real_value(v);
		exp = d <= 0 ? -1 : d >= (double)AO_EXP_MAX ? AO_EXP_MAX :
		    (int64_t)d;
	} else if (v != NULL && !json_is_null(v)) {
		*cond = AO_COND_BODY;
		ao_unavailable(id, "introspection answer has a non-numeric "
		    "exp");
		goto out;
	}
	if (v != NULL && !json_is_null(v) && exp <= (int64_t)time(NULL)) {
		id->ai_verdict = AUTHN_EXPIRED;
		id->ai_reason = "expired";
		authn_identity_why(id, "token has expired");
		goto out;
	}
	/* Far-future values would overflow the cache's milliseconds. */
	id->ai_exp = exp > AO_EXP_MAX ? AO_EXP_MAX : exp > 0 ? exp : 0;
	id->ai_verdict = AUTHN_OK;
	id->ai_reason = "ok";
out:
	json_decref(root);
}

/*
 * Log what the endpoint does once per change, not per request: a down
 * endpoint under load would otherwise flood the log.  Never the token.
 */
static void
ao_log_cond(struct ao_state *st, enum ao_cond cond, int status)
{
	if (cond == st->cond && status == st->cond_status)
		return;
	switch (cond) {
	case AO_COND_OK:
		log_info("oauth2: introspection endpoint %s answers again",
		    st->url);
		break;
	case AO_COND_UNREACHABLE:
		log_warnx("oauth2: introspection endpoint %s unreachable",
		    st->url);
		break;
	case AO_COND_TIMEOUT:
		log_warnx("oauth2: introspection endpoint %s did not answer "
		    "within %lld ms", st->url,
		    (long long)st->timeout.tv_sec * 1000 +
		    st->timeout.tv_usec / 1000);
		break;
	case AO_COND_STATUS:
		log_warnx("oauth2: introspection endpoint %s answered HTTP "
		    "%d%s", st->url, status, status == 401 || status == 403 ?
		    " (check client_id and client_secret)" : "");
		break;
	case AO_COND_BODY:
		log_warnx("oauth2: introspection endpoint %s answered with "
		    "no valid introspection response", st->url);
		break;
	}
	st->cond = cond;
	st->cond_status = status;
}
