/*
 * authn-jwks-fetch.c: JWK sets fetched from an issuer's jwks_url by the
 * master and handed to the workers through shared memory.  The "jwt"
 * mechanism (authn-jwt.c) declares the zone from its conf hook, starts
 * the fetchers from the authentication plugin's init_master hook and
 * stops them from its fini; its workers read the zone.
 *
 * Workers never fetch: a worker answering requests must not wait on an
 * identity provider, and n workers refreshing the same document would
 * multiply its load by n.  The master fetches each distinct URL with
 * libevent's HTTP client on its own event base (https through
 * bufferevent_openssl, verified against jwks_ca or the system store and
 * the URL's host name), checks that jwt_keyset_add_jwks() accepts the
 * document, and only then publishes it in the "jwks" zone: one slot per
 * URL holding the raw document and a generation number.  A worker loads
 * the generation with one atomic read per verification and rebuilds its
 * key set only when it changed (authn-jwt.c), so a refresh needs neither
 * a reload nor any message to the workers.
 *
 * Refresh follows the response's Cache-Control max-age, clamped to
 * [1 s, 1 day], else the issuer's jwks_refresh.  A failed fetch
 * (unreachable, not 200, too big, not a JWK set) never replaces a good
 * document: the old keys stay in force, one warning is logged per streak
 * of failures, and the fetch is retried after 1 s, doubling up to the
 * refresh interval.
 *
 * The zone is declared with a layout number derived from the set of URLs,
 * so a reload with the same URLs keeps the zone and its documents (no
 * refetch), while a reload that changes them gets a fresh zone, seeded
 * from the old one for the URLs they share: a draining worker's slot
 * never changes meaning under it.
 *
 * Each generation brings its set of URLs (struct jwks_set).  A fetcher
 * lives while some started set has its URL, so it keeps its timer across
 * reloads; it takes its settings from the newest such set, so a reload
 * that is abandoned gives the running generation its settings back.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "lib.h"
#include "shm.h"
#include "authn-conf.h"
#include "authn.h"
#include "jwt.h"

#define JWKS_ZONE		"jwks"
#define JWKS_LAYOUT		1	/* bump when the slot layout changes */
#define JWKS_ROOT_SIZE		128	/* bytes before the first slot */
#define JWKS_SLOT_SIZE		(256 * 1024)	/* bytes, header included */
#define JWKS_SLOT_HDR		64	/* bytes before the document */
#define JWKS_DOC_MAX		(JWKS_SLOT_SIZE - JWKS_SLOT_HDR)
#define JWKS_BACKOFF_MIN	1000	/* ms, first retry after a failure */
#define JWKS_MAXAGE_MIN		1	/* s, shortest refresh by max-age */
#define JWKS_MAXAGE_MAX		86400	/* s, longest refresh by max-age */

/* The zone's root: how many slots follow it. */
struct jwks_root {
	uint32_t		 jz_nslots;
};

/*
 * One URL's document.  The master writes it under the zone lock; workers
 * read js_gen without the lock and copy the document under it.
 */
struct jwks_slot {
	uint64_t		 js_url;	/* authn_hash64 of the URL */
	_Atomic uint64_t	 js_gen;	/* 0: no document yet */
	int64_t			 js_fetched;	/* Unix ms, last good fetch */
	uint32_t		 js_len;	/* bytes of document */
};
_Static_assert(sizeof(struct jwks_slot) <= JWKS_SLOT_HDR,
    "struct jwks_slot outgrew its header");
_Static_assert(sizeof(struct jwks_root) <= JWKS_ROOT_SIZE,
    "struct jwks_root outgrew its area");

/* One distinct jwks_url, master only. */
struct jwks_fetcher {
	char			*jf_url;
	uint64_t		 jf_hash;	/* authn_hash64 of jf_url */
	char			*jf_host;	/* no brackets */
	char			*jf_hosthdr;	/* Host: header value */
	char			*jf_path;	/* path and query */
	int			 jf_port;
	int			 jf_https;
	char			*jf_ca;		/* NULL: the system store */
	enum jwt_alg		 jf_alg;	/* pins JWKS keys without alg */
	uint64_t		 jf_refresh;	/* ms, without max-age */
	uint64_t		 jf_timeout;	/* ms, one whole fetch */
	SSL_CTX			*jf_ctx;	/* https only */
	struct event		*jf_timer;	/* next fetch, master base */
	/* The fetch in flight or last done, on the base it ran on. */
	struct evhttp_connection *jf_conn;
	struct event		*jf_deadline;
	int			 jf_busy;	/* a fetch is in flight */
	char			 jf_why[160];	/* this fetch's failure */
	uint64_t		 jf_backoff;	/* ms; 0: not failing */
	int			 jf_have;	/* a document is published */
	int			 jf_mark;
	const struct jwks_set	*jf_set;	/* whose settings it has */
	struct jwks_fetcher	*jf_next;
};

static struct jwks_fetcher	*jwks_fetchers;
static struct jwks_set		*jwks_sets;	/* started, oldest first */
static struct event_base	*jwks_base;	/* the master's, for timers */
static int			 jwks_pending;	/* start-up fetches running */
static struct event_base	*jwks_startbase;

static uint64_t	jwks_hash(const char *);
static int	jwks_url_parse(const char *, char **, int *, char **, int *,
		    char **);
static SSL_CTX	*jwks_ctx_new(const char *, char **);
static int	jwks_verify_cb(int, X509_STORE_CTX *);
static struct jwks_slot *jwks_slot_at(struct shm_zone *, uint32_t);
static struct jwks_slot *jwks_slot_find(struct shm_zone *, uint64_t);
static void	jwks_zone_seed(struct shm_zone *, struct shm_zone *);
static uint32_t	jwks_layout(const struct jwks_set *);
static int64_t	jwks_now_ms(void);
static int	jwks_publish(struct jwks_fetcher *, const char *, size_t);
static void	jwks_fetcher_release(struct jwks_fetcher *);
static void	jwks_fetcher_free(struct jwks_fetcher *);
static int	jwks_fetcher_set(struct jwks_fetcher *,
		    const struct jwks_url *, char **);
static const struct jwks_url *jwks_set_url(const struct jwks_set *,
		    const char *);
static struct jwks_fetcher *jwks_fetcher_new(const struct jwks_url *,
		    struct event_base *);
static void	jwks_fetch_begin(struct jwks_fetcher *, struct event_base *);
static void	jwks_fetch_done(struct jwks_fetcher *, const char *, size_t,
		    long);
static void	jwks_fetch_fail(struct jwks_fetcher *, const char *);
static void	jwks_fetch_end(struct jwks_fetcher *);
static void	jwks_schedule(struct jwks_fetcher *, uint64_t);
static long	jwks_max_age(struct evhttp_request *);
static void	jwks_request_cb(struct evhttp_request *, void *);
static void	jwks_error_cb(enum evhttp_request_error, void *);
static void	jwks_deadline_cb(evutil_socket_t, short, void *);
static void	jwks_timer_cb(evutil_socket_t, short, void *);

static uint64_t
jwks_hash(const char *url)
{
	return (authn_hash64(0, url, strlen(url)));
}

/*
 * Split an http(s) URL into host (brackets removed), port (the scheme's
 * default if absent), path with query, and whether it is https.  0, or -1
 * with *why a literal.
 */
static int
jwks_url_parse(const char *url, char **hostp, int *portp, char **pathp,
    int *httpsp, char **why)
{
	struct evhttp_uri	*u;
	const char		*scheme, *host, *path, *query;
	size_t			 len;
	int			 port;

	*why = NULL;
	if ((u = evhttp_uri_parse(url)) == NULL) {
		*why = "not a valid URL";
		return (-1);
	}
	scheme = evhttp_uri_get_scheme(u);
	host = evhttp_uri_get_host(u);
	if (scheme == NULL || (strcasecmp(scheme, "http") != 0 &&
	    strcasecmp(scheme, "https") != 0))
		*why = "not an http:// or https:// URL";
	else if (host == NULL || *host == '\0')
		*why = "no host";
	else if (evhttp_uri_get_userinfo(u) != NULL)
		*why = "credentials in the URL are not supported";
	if (*why != NULL) {
		evhttp_uri_free(u);
		return (-1);
	}
	*httpsp = strcasecmp(scheme, "https") == 0;
	if ((port = evhttp_uri_get_port(u)) == -1)
		port = *httpsp ? 443 : 80;
	*portp = port;
	len = strlen(host);
	if (len > 2 && host[0] == '[' && host[len - 1] == ']')
		*hostp = xstrndup(host + 1, len - 2);
	else
		*hostp = xstrdup(host);
	path = evhttp_uri_get_path(u);
	if (path == NULL || *path == '\0')
		path = "/";
	if ((query = evhttp_uri_get_query(u)) != NULL)
		xasprintf(pathp, "%s?%s", path, query);
	else
		*pathp = xstrdup(path);
	evhttp_uri_free(u);
	return (0);
}

/*
 * A certificate the chain check refused: remember OpenSSL's reason in
 * the fetcher, since libevent reports a failed handshake only as a
 * closed connection.
 */
static int
jwks_verify_cb(int ok, X509_STORE_CTX *xs)
{
	SSL			*ssl;
	struct jwks_fetcher	*jf;

	if (ok)
		return (ok);
	ssl = X509_STORE_CTX_get_ex_data(xs,
	    SSL_get_ex_data_X509_STORE_CTX_idx());
	if (ssl != NULL && (jf = SSL_get_app_data(ssl)) != NULL)
		snprintf(jf->jf_why, sizeof(jf->jf_why), "certificate "
		    "verify failed: %s", X509_verify_cert_error_string(
		    X509_STORE_CTX_get_error(xs)));
	return (ok);
}

/* A client context verifying servers against ca (NULL: system store). */
static SSL_CTX *
jwks_ctx_new(const char *ca, char **cause)
{
	SSL_CTX	*ctx;
	char	 buf[256];

	/* OpenSSL would only say "system lib". */
	if (ca != NULL && access(ca, R_OK) == -1) {
		xasprintf(cause, "jwks_ca %s: %s", ca, strerror(errno));
		return (NULL);
	}
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		xasprintf(cause, "SSL_CTX_new failed");
		return (NULL);
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, jwks_verify_cb);
	if (ca != NULL ? SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1 :
	    SSL_CTX_set_default_verify_paths(ctx) != 1) {
		snprintf(buf, sizeof(buf), "%s",
		    ERR_reason_error_string(ERR_peek_last_error()) != NULL ?
		    ERR_reason_error_string(ERR_peek_last_error()) :
		    "unknown error");
		ERR_clear_error();
		if (ca != NULL)
			xasprintf(cause, "jwks_ca %s: cannot load: %s", ca,
			    buf);
		else
			xasprintf(cause, "cannot load the system CA store: "
			    "%s", buf);
		SSL_CTX_free(ctx);
		return (NULL);
	}
	return (ctx);
}

/*
 * Check an issuer's jwks_url and jwks_ca (may be NULL): a URL libevent
 * can fetch and a CA file OpenSSL can load.  Master and mgwd -n, at
 * config load.  0, or -1 with *cause as "where: jwks_url ...: reason"
 * (where is the issuer's file:line and path).
 */
int
jwks_fetch_check(const char *url, const char *ca, const char *where,
    char **cause)
{
	SSL_CTX	*ctx;
	char	*host, *path, *why, *err = NULL;
	int	 port, https;

	if (url == NULL)
		return (0);
	if (jwks_url_parse(url, &host, &port, &path, &https, &why) == -1) {
		xasprintf(cause, "%s: jwks_url '%s': %s", where, url, why);
		return (-1);
	}
	free(host);
	free(path);
	if (!https || ca == NULL)
		return (0);
	if ((ctx = jwks_ctx_new(ca, &err)) == NULL) {
		xasprintf(cause, "%s: %s", where, err);
		free(err);
		return (-1);
	}
	SSL_CTX_free(ctx);
	return (0);
}

static struct jwks_slot *
jwks_slot_at(struct shm_zone *z, uint32_t i)
{
	return ((struct jwks_slot *)((char *)shm_zone_root(z) +
	    JWKS_ROOT_SIZE + (size_t)i * JWKS_SLOT_SIZE));
}

/* The slot of the URL whose hash is h in zone z, or NULL. */
static struct jwks_slot *
jwks_slot_find(struct shm_zone *z, uint64_t h)
{
	struct jwks_root	*root = shm_zone_root(z);
	uint32_t		 i;

	for (i = 0; i < root->jz_nslots; i++)
		if (jwks_slot_at(z, i)->js_url == h)
			return (jwks_slot_at(z, i));
	return (NULL);
}

/*
 * A new zone starts with the documents the old one holds for the same
 * URLs, so a reload that adds an issuer does not leave the others keyless
 * until their next fetch.  The new zone is not visible to any worker yet;
 * only the old one needs its lock.
 */
static void
jwks_zone_seed(struct shm_zone *nz, struct shm_zone *oz)
{
	struct jwks_root	*root = shm_zone_root(nz);
	struct jwks_slot	*ns, *os;
	uint32_t		 i;

	shm_lock(&oz->z_hdr->h_lock);
	for (i = 0; i < root->jz_nslots; i++) {
		ns = jwks_slot_at(nz, i);
		if ((os = jwks_slot_find(oz, ns->js_url)) == NULL ||
		    atomic_load(&os->js_gen) == 0)
			continue;
		memcpy((char *)ns + JWKS_SLOT_HDR, (char *)os + JWKS_SLOT_HDR,
		    os->js_len);
		ns->js_len = os->js_len;
		ns->js_fetched = os->js_fetched;
		atomic_store(&ns->js_gen, atomic_load(&os->js_gen));
	}
	shm_unlock(&oz->z_hdr->h_lock);
}

/*
 * The zone's layout number: its version mixed with the distinct URLs in
 * the order of the configuration.
 */
static uint32_t
jwks_layout(const struct jwks_set *set)
{
	uint64_t	 h;
	size_t		 i;

	h = authn_hash64(0, "jwks", 4);
	h = authn_hash64(h, &(uint32_t){ JWKS_LAYOUT }, sizeof(uint32_t));
	for (i = 0; i < set->jt_n; i++)
		h = authn_hash64(h, set->jt_urls[i].ju_url,
		    strlen(set->jt_urls[i].ju_url) + 1);
	return ((uint32_t)(h ^ (h >> 32)));
}

/*
 * Declare the "jwks" zone for the configuration being loaded: one slot of
 * 256 kB per distinct jwks_url of set, none when there is none.  Master,
 * from the conf hook (the zone declaration round), before fork.  0, or
 * -1 with *cause.
 */
int
jwks_fetch_conf(const struct jwks_set *set, char **cause)
{
	struct shm_zone		*z, *old;
	struct jwks_root	*root;
	struct jwks_slot	*js;
	uint64_t		 h;
	uint32_t		 layout;
	size_t			 i;

	if (set->jt_n == 0)
		return (0);
	layout = jwks_layout(set);
	old = shm_zone_find(JWKS_ZONE);
	z = shm_zone_add(JWKS_ZONE, 4096 + JWKS_ROOT_SIZE +
	    set->jt_n * JWKS_SLOT_SIZE, layout, cause);
	if (z == NULL)
		return (-1);
	root = shm_zone_root(z);
	if (z->z_reused || root->jz_nslots != 0)
		return (0);
	/* A fresh zone, zero-filled and not yet seen by any worker. */
	for (i = 0; i < set->jt_n; i++) {
		h = jwks_hash(set->jt_urls[i].ju_url);
		if (jwks_slot_find(z, h) != NULL)
			continue;
		js = jwks_slot_at(z, root->jz_nslots++);
		js->js_url = h;
	}
	if (old != NULL && old != z)
		jwks_zone_seed(z, old);
	return (0);
}

static int64_t
jwks_now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/*
 * Publish a validated document in every "jwks" zone with a slot for the
 * URL: the committed one, and during a reload the new generation's too.
 * The generation becomes the wall clock in ms (at least one more than
 * before), so it never repeats across zones and restarts of the
 * fetcher.  An unchanged document keeps its generation: cached verdicts
 * and the workers' key sets stay valid.  Returns 1 if the document
 * changed, 0 if not.
 */
static int
jwks_publish(struct jwks_fetcher *jf, const char *doc, size_t len)
{
	struct shm_zone		*z;
	struct jwks_slot	*js;
	int64_t			 now = jwks_now_ms();
	uint64_t		 gen;
	size_t			 i;
	int			 changed = 0;

	for (i = 0; (z = shm_zone_at(i)) != NULL; i++) {
		if (strcmp(z->z_name, JWKS_ZONE) != 0 ||
		    (js = jwks_slot_find(z, jf->jf_hash)) == NULL)
			continue;
		shm_lock(&z->z_hdr->h_lock);
		gen = atomic_load(&js->js_gen);
		js->js_fetched = now;
		if (gen == 0 || js->js_len != len ||
		    memcmp((char *)js + JWKS_SLOT_HDR, doc, len) != 0) {
			memcpy((char *)js + JWKS_SLOT_HDR, doc, len);
			js->js_len = len;
			atomic_store_explicit(&js->js_gen,
			    (uint64_t)now > gen ? (uint64_t)now : gen + 1,
			    memory_order_release);
			changed = 1;
		}
		shm_unlock(&z->z_hdr->h_lock);
	}
	return (changed);
}

/* Drop the connection of the last fetch; never from its own callback. */
static void
jwks_fetcher_release(struct jwks_fetcher *jf)
{
	if (jf->jf_deadline != NULL) {
		event_free(jf->jf_deadline);
		jf->jf_deadline = NULL;
	}
	if (jf->jf_conn != NULL) {
		evhttp_connection_free(jf->jf_conn);
		jf->jf_conn = NULL;
	}
	jf->jf_busy = 0;
}

static void
jwks_fetcher_free(struct jwks_fetcher *jf)
{
	if (jf == NULL)
		return;
	jwks_fetcher_release(jf);
	if (jf->jf_timer != NULL)
		event_free(jf->jf_timer);
	SSL_CTX_free(jf->jf_ctx);
	free(jf->jf_url);
	free(jf->jf_host);
	free(jf->jf_hosthdr);
	free(jf->jf_path);
	free(jf->jf_ca);
	free(jf);
}

/* Take a URL's settings; a changed jwks_ca gets a new context. */
static int
jwks_fetcher_set(struct jwks_fetcher *jf, const struct jwks_url *ju,
    char **cause)
{
	SSL_CTX	*ctx;

	jf->jf_alg = ju->ju_alg;
	jf->jf_refresh = ju->ju_refresh;
	jf->jf_timeout = ju->ju_timeout;
	if (!jf->jf_https)
		return (0);
	if (jf->jf_ctx != NULL && (jf->jf_ca == NULL ?
	    ju->ju_ca == NULL : ju->ju_ca != NULL &&
	    strcmp(jf->jf_ca, ju->ju_ca) == 0))
		return (0);
	if ((ctx = jwks_ctx_new(ju->ju_ca, cause)) == NULL)
		return (-1);
	SSL_CTX_free(jf->jf_ctx);
	jf->jf_ctx = ctx;
	free(jf->jf_ca);
	jf->jf_ca = ju->ju_ca != NULL ? xstrdup(ju->ju_ca) : NULL;
	return (0);
}

/* Fetch jf's URL now, on base (the master's, or the start-up one). */
static void
jwks_fetch_begin(struct jwks_fetcher *jf, struct event_base *base)
{
	struct bufferevent	*bev;
	struct evhttp_request	*req;
	struct evkeyvalq	*hdrs;
	struct timeval		 tv;
	SSL			*ssl = NULL;

	jwks_fetcher_release(jf);
	jf->jf_why[0] = '\0';
	if (jf->jf_https) {
		if (jf->jf_ctx == NULL || (ssl = SSL_new(jf->jf_ctx)) ==
		    NULL) {
			jwks_fetch_fail(jf, "no TLS context");
			return;
		}
		SSL_set_app_data(ssl, jf);
		if (inet_pton(AF_INET, jf->jf_host, &(struct in_addr){ 0 }) ==
		    1 || strchr(jf->jf_host, ':') != NULL)
			X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl),
			    jf->jf_host);
		else {
			SSL_set_tlsext_host_name(ssl, jf->jf_host);
			SSL_set1_host(ssl, jf->jf_host);
		}
		bev = bufferevent_openssl_socket_new(base, -1, ssl,
		    BUFFEREVENT_SSL_CONNECTING,
		    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
		if (bev != NULL)
			bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	} else
		bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		SSL_free(ssl);
		jwks_fetch_fail(jf, "cannot create a bufferevent");
		return;
	}
	jf->jf_conn = evhttp_connection_base_bufferevent_new(base, NULL, bev,
	    jf->jf_host, (unsigned short)jf->jf_port);
	if (jf->jf_conn == NULL) {
		bufferevent_free(bev);
		jwks_fetch_fail(jf, "cannot create an HTTP connection");
		return;
	}
	tv.tv_sec = jf->jf_timeout / 1000;
	tv.tv_usec = (jf->jf_timeout % 1000) * 1000;
	evhttp_connection_set_timeout_tv(jf->jf_conn, &tv);
	evhttp_connection_set_max_body_size(jf->jf_conn, JWKS_DOC_MAX);
	/* Each phase is bounded above; this bounds the whole fetch. */
	jf->jf_deadline = evtimer_new(base, jwks_deadline_cb, jf);
	if (jf->jf_deadline == NULL ||
	    (req = evhttp_request_new(jwks_request_cb, jf)) == NULL) {
		jwks_fetch_fail(jf, "out of memory");
		return;
	}
	evhttp_request_set_error_cb(req, jwks_error_cb);
	hdrs = evhttp_request_get_output_headers(req);
	evhttp_add_header(hdrs, "Host", jf->jf_hosthdr);
	evhttp_add_header(hdrs, "Accept", "application/jwk-set+json, "
	    "application/json");
	evhttp_add_header(hdrs, "User-Agent", "mgwd/" MGW_VERSION);
	evhttp_add_header(hdrs, "Connection", "close");
	evtimer_add(jf->jf_deadline, &tv);
	jf->jf_busy = 1;
	if (evhttp_make_request(jf->jf_conn, req, EVHTTP_REQ_GET,
	    jf->jf_path) == -1 && jf->jf_busy)
		jwks_fetch_fail(jf, "cannot send the request");
}

/* Why libevent gave up on a request, for the warning. */
static void
jwks_error_cb(enum evhttp_request_error err, void *arg)
{
	struct jwks_fetcher	*jf = arg;
	const char		*why;

	if (!jf->jf_busy || jf->jf_why[0] != '\0')
		return;
	switch (err) {
	case EVREQ_HTTP_TIMEOUT:
		why = "timed out";
		break;
	case EVREQ_HTTP_EOF:
		why = "connection refused or closed";
		break;
	case EVREQ_HTTP_INVALID_HEADER:
		why = "invalid HTTP response";
		break;
	case EVREQ_HTTP_DATA_TOO_LONG:
		why = "document larger than 256 kB";
		break;
	default:
		why = "request failed";
		break;
	}
	snprintf(jf->jf_why, sizeof(jf->jf_why), "%s", why);
}

/* Cache-Control max-age in seconds, or -1 if the response has none. */
static long
jwks_max_age(struct evhttp_request *req)
{
	const char	*v, *p;
	long		 n = 0;

	v = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Cache-Control");
	for (p = v; p != NULL && *p != '\0'; p++) {
		if (strncasecmp(p, "max-age", 7) != 0 ||
		    (p != v && p[-1] != ' ' && p[-1] != ',' && p[-1] != '\t'))
			continue;
		p += 7;
		while (*p == ' ')
			p++;
		if (*p != '=')
			return (-1);
		p++;
		if (*p == '"')
			p++;
		if (*p < '0' || *p > '9')
			return (-1);
		for (; *p >= '0' && *p <= '9'; p++)
			if ((n = n * 10 + (*p - '0')) > JWKS_MAXAGE_MAX)
				n = JWKS_MAXAGE_MAX;
		return (n);
	}
	return (-1);
}

static void
jwks_request_cb(struct evhttp_request *req, void *arg)
{
	struct jwks_fetcher	*jf = arg;
	struct evbuffer		*in;
	char			*doc, why[64];
	size_t			 len;
	int			 code;

	if (!jf->jf_busy)
		return;
	code = req != NULL ? evhttp_request_get_response_code(req) : 0;
	if (code == 0) {
		jwks_fetch_fail(jf, jf->jf_why[0] != '\0' ? jf->jf_why :
		    "no response (connection refused or closed)");
		return;
	}
	if (code != 200) {
		snprintf(why, sizeof(why), "HTTP status %d", code);
		jwks_fetch_fail(jf, why);
		return;
	}
	in = evhttp_request_get_input_buffer(req);
	if ((len = evbuffer_get_length(in)) > JWKS_DOC_MAX) {
		jwks_fetch_fail(jf, "document larger than 256 kB");
		return;
	}
	doc = xmalloc(len + 1);
	evbuffer_copyout(in, doc, len);
	doc[len] = '\0';
	jwks_fetch_done(jf, doc, len, jwks_max_age(req));
	free(doc);
}

static void
jwks_deadline_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct jwks_fetcher	*jf = arg;
	char			 why[64];

	if (!jf->jf_busy)
		return;
	snprintf(why, sizeof(why), "no answer within %llu ms",
	    (unsigned long long)jf->jf_timeout);
	jwks_fetch_fail(jf, why);
	/* A timer, not libevent's HTTP code: the connection may go. */
	jwks_fetcher_release(jf);
}

/* One fetch ended: the start-up loop stops once the last one has. */
static void
jwks_fetch_end(struct jwks_fetcher *jf)
{
	jf->jf_busy = 0;
	if (jf->jf_deadline != NULL)
		evtimer_del(jf->jf_deadline);
	if (jwks_startbase != NULL && --jwks_pending == 0)
		event_base_loopexit(jwks_startbase, NULL);
}

static void
jwks_fetch_fail(struct jwks_fetcher *jf, const char *why)
{
	jwks_fetch_end(jf);
	if (jf->jf_backoff == 0) {
		log_warnx("jwks: %s: fetch failed: %s; %s", jf->jf_url, why,
		    jf->jf_have ? "keeping the previous keys" :
		    "no keys for its issuers yet");
		jf->jf_backoff = JWKS_BACKOFF_MIN;
	} else {
		log_debug("jwks: %s: fetch failed again: %s", jf->jf_url, why);
		jf->jf_backoff *= 2;
	}
	if (jf->jf_backoff > jf->jf_refresh)
		jf->jf_backoff = jf->jf_refresh;
	jwks_schedule(jf, jf->jf_backoff);
}

/* A 200 answer: validate, publish, and plan the next fetch. */
static void
jwks_fetch_done(struct jwks_fetcher *jf, const char *doc, size_t len,
    long maxage)
{
	struct jwt_keyset	*ks;
	char			*err = NULL;
	size_t			 nkeys;
	uint64_t		 next;

	ks = jwt_keyset_new();
	if (jwt_keyset_add_jwks(ks, doc, len, jf->jf_alg, "not a usable JWKS",
	    &err) == -1) {
		jwt_keyset_free(ks);
		snprintf(jf->jf_why, sizeof(jf->jf_why), "%s", err);
		free(err);
		jwks_fetch_fail(jf, jf->jf_why);
		return;
	}
	nkeys = jwt_keyset_count(ks);
	jwt_keyset_free(ks);
	jwks_fetch_end(jf);
	if (jwks_publish(jf, doc, len))
		log_info("jwks: %s: new keys in force (%zu)", jf->jf_url,
		    nkeys);
	else if (jf->jf_backoff != 0)
		log_info("jwks: %s: fetched again, keys unchanged",
		    jf->jf_url);
	else
		log_debug("jwks: %s: keys unchanged", jf->jf_url);
	jf->jf_have = 1;
	jf->jf_backoff = 0;
	if (maxage >= 0) {
		if (maxage < JWKS_MAXAGE_MIN)
			maxage = JWKS_MAXAGE_MIN;
		next = (uint64_t)maxage * 1000;
	} else
		next = jf->jf_refresh;
	jwks_schedule(jf, next);
}

static void
jwks_schedule(struct jwks_fetcher *jf, uint64_t ms)
{
	struct timeval	 tv;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(jf->jf_timer, &tv);
}

static void
jwks_timer_cb(evutil_socket_t fd, short ev, void *arg)
{
	jwks_fetch_begin(arg, jwks_base);
}

/* set's entry for url, or NULL. */
static const struct jwks_url *
jwks_set_url(const struct jwks_set *set, const char *url)
{
	size_t	 i;

	for (i = 0; i < set->jt_n; i++)
		if (strcmp(set->jt_urls[i].ju_url, url) == 0)
			return (&set->jt_urls[i]);
	return (NULL);
}

/* A fetcher for ju, with its timer on base; NULL for a URL refused. */
static struct jwks_fetcher *
jwks_fetcher_new(const struct jwks_url *ju, struct event_base *base)
{
	struct jwks_fetcher	*jf;
	struct shm_zone		*z;
	struct jwks_slot	*js;
	char			*cause = NULL, *why;

	jf = xcalloc(1, sizeof(*jf));
	jf->jf_url = xstrdup(ju->ju_url);
	jf->jf_hash = jwks_hash(jf->jf_url);
	if (jwks_url_parse(jf->jf_url, &jf->jf_host, &jf->jf_port,
	    &jf->jf_path, &jf->jf_https, &why) == -1) {
		/* jwks_fetch_check() refused such a URL already. */
		log_warnx("jwks: %s: %s", jf->jf_url, why);
		free(jf->jf_url);
		free(jf);
		return (NULL);
	}
	if (strchr(jf->jf_host, ':') != NULL)
		xasprintf(&jf->jf_hosthdr, "[%s]:%d", jf->jf_host,
		    jf->jf_port);
	else
		xasprintf(&jf->jf_hosthdr, "%s:%d", jf->jf_host,
		    jf->jf_port);
	if (jwks_fetcher_set(jf, ju, &cause) == -1) {
		log_warnx("jwks: %s: %s", jf->jf_url, cause);
		free(cause);
	}
	if ((jf->jf_timer = evtimer_new(base, jwks_timer_cb, jf)) == NULL)
		fatalx("%s: evtimer_new", __func__);
	/* A zone seeded from the previous one has keys already. */
	if ((z = shm_zone_find(JWKS_ZONE)) != NULL &&
	    (js = jwks_slot_find(z, jf->jf_hash)) != NULL &&
	    atomic_load(&js->js_gen) != 0)
		jf->jf_have = 1;
	return (jf);
}

/*
 * Start set, the URLs of a generation about to serve: fetchers of URLs
 * an earlier set has are kept with their timers and take set's
 * settings; new ones are fetched now.  Master only, on base, from the
 * init_master hook before the generation's workers fork.  initial (the
 * first generation of this mgwd): the new URLs are fetched synchronously
 * first, each bounded by its jwks_timeout, so workers forked next have
 * keys from the first request; later, they are fetched in the
 * background.  Failures are logged; they never stop the gateway.
 */
void
jwks_fetch_start(struct jwks_set *set, struct event_base *base, int initial)
{
	const struct jwks_url	*ju;
	struct jwks_fetcher	*jf;
	struct jwks_set		**sp;
	char			*cause = NULL;
	size_t			 i;

	if (set->jt_pid != 0)
		return;
	set->jt_pid = getpid();
	for (sp = &jwks_sets; *sp != NULL; sp = &(*sp)->jt_next)
		;
	*sp = set;
	jwks_base = base;
	for (jf = jwks_fetchers; jf != NULL; jf = jf->jf_next)
		jf->jf_mark = 0;
	for (i = 0; i < set->jt_n; i++) {
		ju = &set->jt_urls[i];
		for (jf = jwks_fetchers; jf != NULL; jf = jf->jf_next)
			if (strcmp(jf->jf_url, ju->ju_url) == 0)
				break;
		if (jf != NULL) {
			if (jwks_fetcher_set(jf, ju, &cause) == -1) {
				log_warnx("jwks: %s: %s", jf->jf_url, cause);
				free(cause);
				cause = NULL;
			}
			jf->jf_set = set;
			jf->jf_mark = 1;
			continue;
		}
		if ((jf = jwks_fetcher_new(ju, base)) == NULL)
			continue;
		jf->jf_set = set;
		jf->jf_mark = 2;
		jf->jf_next = jwks_fetchers;
		jwks_fetchers = jf;
	}

	if (!initial) {
		for (jf = jwks_fetchers; jf != NULL; jf = jf->jf_next)
			if (jf->jf_mark == 2)
				jwks_fetch_begin(jf, base);
		return;
	}
	if ((jwks_startbase = event_base_new()) == NULL)
		fatalx("%s: event_base_new", __func__);
	jwks_pending = 0;
	for (jf = jwks_fetchers; jf != NULL; jf = jf->jf_next)
		if (jf->jf_mark == 2)
			jwks_pending++;
	for (jf = jwks_fetchers; jf != NULL; jf = jf->jf_next)
		if (jf->jf_mark == 2)
			jwks_fetch_begin(jf, jwks_startbase);
	if (jwks_pending > 0)
		event_base_dispatch(jwks_startbase);
	/* The connections live on the start-up base: drop them with it. */
	for (jf = jwks_fetchers; jf != NULL; jf = jf->jf_next)
		jwks_fetcher_release(jf);
	event_base_free(jwks_startbase);
	jwks_startbase = NULL;
}

/*
 * Stop set, whose generation is released (retired after a reload,
 * abandoned, or at exit): a fetcher no started set needs any more is
 * freed, mid-fetch or not; one that had set's settings takes those of
 * the newest set still started.  Master only; a no-op for a set never
 * started in this process (mgwd -n, a worker's copy).
 */
void
jwks_fetch_stop(struct jwks_set *set)
{
	const struct jwks_url	*ju, *found;
	struct jwks_fetcher	*jf, **jfp;
	struct jwks_set		**sp, *s, *newest;
	char			*cause = NULL;

	if (set->jt_pid == 0 || set->jt_pid != getpid())
		return;
	for (sp = &jwks_sets; *sp != NULL && *sp != set; sp = &(*sp)->jt_next)
		;
	if (*sp == set)
		*sp = set->jt_next;
	set->jt_next = NULL;
	set->jt_pid = 0;
	for (jfp = &jwks_fetchers; (jf = *jfp) != NULL; ) {
		found = NULL;
		newest = NULL;
		for (s = jwks_sets; s != NULL; s = s->jt_next) {
			if ((ju = jwks_set_url(s, jf->jf_url)) != NULL) {
				found = ju;
				newest = s;
			}
		}
		if (found == NULL) {
			*jfp = jf->jf_next;
			jwks_fetcher_free(jf);
			continue;
		}
		if (jf->jf_set == set) {
			if (jwks_fetcher_set(jf, found, &cause) == -1) {
				log_warnx("jwks: %s: %s", jf->jf_url, cause);
				free(cause);
				cause = NULL;
			}
			jf->jf_set = newest;
		}
		jfp = &jf->jf_next;
	}
}

/*
 * Worker, once after fork: close this process's copies of the sockets of
 * the master's fetches in flight, so that a fetch the master ends (or a
 * black hole it gives up on) does not stay open in every worker.  The
 * structures stay as they are: they are the master's, and the worker
 * never runs their events.
 */
void
jwks_fetch_close_inherited(void)
{
	struct jwks_fetcher	*jf;
	struct bufferevent	*bev;
	evutil_socket_t		 fd;

	for (jf = jwks_fetchers; jf != NULL; jf = jf->jf_next) {
		/* Only a fetch in flight surely holds its socket still. */
		if (!jf->jf_busy || jf->jf_conn == NULL ||
		    (bev = evhttp_connection_get_bufferevent(jf->jf_conn)) ==
		    NULL || (fd = bufferevent_getfd(bev)) == -1)
			continue;
		close(fd);
	}
}

/*
 * Worker: find the slot of url in this generation's zone.  0, or -1 if
 * there is none (no zone, or the URL is not configured).
 */
int
jwks_fetch_find(struct jwks_ref *ref, const char *url)
{
	memset(ref, 0, sizeof(*ref));
	if ((ref->jr_zone = shm_zone_find(JWKS_ZONE)) == NULL ||
	    (ref->jr_slot = jwks_slot_find(ref->jr_zone,
	    jwks_hash(url))) == NULL) {
		ref->jr_zone = NULL;
		return (-1);
	}
	return (0);
}

/*
 * Worker: the generation of ref's document, 0 while none was fetched.
 * One atomic load, no lock: cheap enough for every verification.
 */
uint64_t
jwks_fetch_generation(const struct jwks_ref *ref)
{
	if (ref->jr_slot == NULL)
		return (0);
	return (atomic_load_explicit(&ref->jr_slot->js_gen,
	    memory_order_acquire));
}

/*
 * Worker: a copy of ref's document (NUL-terminated, malloc'd into *docp,
 * length *lenp) and its generation.  The copy is taken under the zone
 * lock, so it is never torn; parse it after.  0, or -1 when there is no
 * document yet or no memory.
 */
int
jwks_fetch_copy(const struct jwks_ref *ref, char **docp, size_t *lenp,
    uint64_t *genp)
{
	struct jwks_slot	*js = ref->jr_slot;
	char			*doc;
	size_t			 len;
	uint64_t		 gen;

	*docp = NULL;
	if (js == NULL || (doc = malloc(JWKS_DOC_MAX + 1)) == NULL)
		return (-1);
	shm_lock(&ref->jr_zone->z_hdr->h_lock);
	gen = atomic_load(&js->js_gen);
	len = js->js_len;
	if (gen != 0)
		memcpy(doc, (char *)js + JWKS_SLOT_HDR, len);
	shm_unlock(&ref->jr_zone->z_hdr->h_lock);
	if (gen == 0) {
		free(doc);
		return (-1);
	}
	doc[len] = '\0';
	*docp = doc;
	*lenp = len;
	*genp = gen;
	return (0);
}
