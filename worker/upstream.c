/*
 * upstream.c: the upstream side of a proxied request: per-worker
 * keep-alive pools, round robin over an API's production endpoints,
 * failover on connect errors, timeouts, and the response streamed back to
 * the client with bounded buffers in both directions.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include <llhttp.h>

#include "lib.h"
#include "conf-t.h"
#include "metrics.h"
#include "shm.h"
#include "worker.h"

#define UPSTREAM_HEAD_MAX	(64 * 1024)	/* response head bytes */
#define UPSTREAM_IDLE_MS	60000		/* pooled connection idle */

struct upstream_conn;

struct upstream_pool {
	const struct conf_url		*up_url;
	TAILQ_HEAD(, upstream_conn)	 up_idle;
	uint32_t			 up_nidle;
	uint32_t			 up_max;	/* idle kept, from keepalive */
};

struct upstream_conn {
	TAILQ_ENTRY(upstream_conn)	 uc_entry;
	struct upstream_pool		*uc_pool;
	struct io		*uc_io;
	struct request			*uc_req;
	llhttp_t			 uc_parser;
	struct http_head		 uc_head;
	struct event			*uc_timer;	/* connect timeout */
	int				 uc_connected;
	int				 uc_reused;
	int				 uc_got_bytes;	/* response bytes seen */
	int				 uc_head_done;
	int				 uc_resp_done;
	int				 uc_skip;	/* 1xx being skipped */
	int				 uc_reading;
	int				 uc_idle;
};

static struct upstream_pool	*pools;
static size_t			 npools;
static size_t			*rr;		/* per conf_endpoints */
static size_t			 nrr;

static int	up_on_message_begin(llhttp_t *);
static int	up_on_header_field(llhttp_t *, const char *, size_t);
static int	up_on_header_value(llhttp_t *, const char *, size_t);
static int	up_on_headers_complete(llhttp_t *);
static int	up_on_body(llhttp_t *, const char *, size_t);
static int	up_on_message_complete(llhttp_t *);
static void	upstream_connect(struct request *, size_t);
static void	upstream_read_cb(struct io *, void *);
static void	upstream_write_cb(struct io *, void *);
static void	upstream_event_cb(struct io *, short, void *);
static void	upstream_timer_cb(evutil_socket_t, short, void *);
static void	upstream_idle_read_cb(struct io *, void *);
static void	upstream_idle_event_cb(struct io *, short, void *);
static void	upstream_conn_free(struct upstream_conn *);
static void	upstream_fail(struct request *, int, const char *, const char *);
static void	upstream_parse(struct upstream_conn *);
static void	upstream_attach(struct request *, struct upstream_conn *);
static void	upstream_count_error(struct request *, enum metrics_uperr);

static const llhttp_settings_t up_settings = {
	.on_message_begin = up_on_message_begin,
	.on_header_field = up_on_header_field,
	.on_header_value = up_on_header_value,
	.on_headers_complete = up_on_headers_complete,
	.on_body = up_on_body,
	.on_message_complete = up_on_message_complete,
};

static void
upstream_count_endpoints(const struct conf_endpoints *ep, size_t *maxpool,
    size_t *maxrr)
{
	size_t	 i;

	if (ep->ep_index + 1 > *maxrr)
		*maxrr = ep->ep_index + 1;
	for (i = 0; i < ep->ep_nproduction; i++)
		if (ep->ep_production[i].u_pool + 1 > *maxpool)
			*maxpool = ep->ep_production[i].u_pool + 1;
	for (i = 0; i < ep->ep_nsandbox; i++)
		if (ep->ep_sandbox[i].u_pool + 1 > *maxpool)
			*maxpool = ep->ep_sandbox[i].u_pool + 1;
}

static void
upstream_pool_fill(const struct conf_endpoints *ep)
{
	size_t	 i;

	for (i = 0; i < ep->ep_nproduction; i++) {
		pools[ep->ep_production[i].u_pool].up_url =
		    &ep->ep_production[i];
		pools[ep->ep_production[i].u_pool].up_max = ep->ep_keepalive;
	}
	for (i = 0; i < ep->ep_nsandbox; i++) {
		pools[ep->ep_sandbox[i].u_pool].up_url = &ep->ep_sandbox[i];
		pools[ep->ep_sandbox[i].u_pool].up_max = ep->ep_keepalive;
	}
}

/* Worker start: one pool per endpoint URL of the generation.  0 or -1. */
int
upstream_init(void)
{
	const struct mgw_conf	*conf = wenv->we_conf;
	size_t			 i, j, maxpool = 0, maxrr = 0;

	for (i = 0; i < conf->c_napis; i++) {
		upstream_count_endpoints(&conf->c_apis[i].a_endpoints,
		    &maxpool, &maxrr);
		for (j = 0; j < conf->c_apis[i].a_nresources; j++)
			if (conf->c_apis[i].a_resources[j].r_endpoints != NULL)
				upstream_count_endpoints(conf->c_apis[i].
				    a_resources[j].r_endpoints, &maxpool,
				    &maxrr);
	}
	npools = maxpool;
	nrr = maxrr;
	if ((pools = calloc(npools + 1, sizeof(*pools))) == NULL ||
	    (rr = calloc(nrr + 1, sizeof(*rr))) == NULL)
		return (-1);
	for (i = 0; i < npools; i++)
		TAILQ_INIT(&pools[i].up_idle);
	for (i = 0; i < conf->c_napis; i++) {
		upstream_pool_fill(&conf->c_apis[i].a_endpoints);
		for (j = 0; j < conf->c_apis[i].a_nresources; j++)
			if (conf->c_apis[i].a_resources[j].r_endpoints != NULL)
				upstream_pool_fill(conf->c_apis[i].
				    a_resources[j].r_endpoints);
	}
	/* Spread the first pick so workers do not all start on one. */
	for (i = 0; i < nrr; i++)
		rr[i] = (size_t)wenv->we_slot;
	return (0);
}

/* Bytes queued toward the upstream and not yet written. */
size_t
upstream_pending(struct request *r)
{
	size_t	 n = 0;

	if (r->r_up != NULL && r->r_up->uc_connected)
		n += evbuffer_get_length(io_get_output(
		    r->r_up->uc_io));
	if (r->r_upbuf != NULL)
		n += evbuffer_get_length(r->r_upbuf);
	return (n);
}

/* Lengths kept beside the names: this runs for every request header. */
#define HOP(s)	{ s, sizeof(s) - 1 }
static const struct {
	const char	*name;
	size_t		 len;
} upstream_hop[] = {
	HOP("connection"), HOP("keep-alive"), HOP("proxy-connection"),
	HOP("te"), HOP("trailer"), HOP("upgrade"), HOP("transfer-encoding"),
	HOP("content-length"), HOP("expect"), HOP("host"),
	HOP("x-forwarded-for"), HOP("x-forwarded-proto"),
	HOP("x-forwarded-host"), { NULL, 0 }
};

static int
upstream_hop_by_hop(const char *n, size_t len)
{
	int	 i;

	for (i = 0; upstream_hop[i].name != NULL; i++)
		if (upstream_hop[i].len == len &&
		    strncasecmp(upstream_hop[i].name, n, len) == 0)
			return (1);
	return (0);
}

/* Is name one of the tokens listed in the Connection header value? */
static int
upstream_conn_token(const char *conn, size_t clen, const char *n, size_t len)
{
	size_t	 i = 0, s, e;

	while (conn != NULL && i < clen) {
		while (i < clen && (conn[i] == ' ' || conn[i] == '\t' ||
		    conn[i] == ','))
			i++;
		s = i;
		while (i < clen && conn[i] != ',')
			i++;
		e = i;
		while (e > s && (conn[e - 1] == ' ' || conn[e - 1] == '\t'))
			e--;
		if (e - s == len && strncasecmp(conn + s, n, len) == 0)
			return (1);
	}
	return (0);
}

static int
upstream_plugin_set(struct request *r, const char *n, size_t len)
{
	int	 i;

	for (i = 0; i < r->r_nset; i++)
		if (r->r_set[i].namelen == len &&
		    strncasecmp(r->r_set[i].name, n, len) == 0)
			return (1);
	return (0);
}

/*
 * The request head as the upstream sees it: the endpoint's prefix and the
 * path after the base path, client headers less hop-by-hop ones, and the
 * forwarding headers, with a trusted proxy's values appended to.
 */
static int
upstream_build_head(struct request *r, const struct conf_url *u,
    struct evbuffer *b)
{
	struct conn		*c = r->r_conn;
	const struct http_head	*h = &r->r_head;
	const char		*rest, *cv, *v, *certhdr, *trhdr;
	size_t			 restlen, cvlen, vlen, cap;
	struct hbuf		 hb;
	char			*enc;
	int			 trusted, k, first, tls;

	trusted = cidr_match(wenv->we_conf->c_gateway.trusted,
	    wenv->we_conf->c_gateway.ntrusted_proxies,
	    (struct sockaddr *)&c->c_peer);
	rest = r->r_path + r->r_route.rm_rest;
	restlen = r->r_pathlen - r->r_route.rm_rest;
	if ((enc = pool_alloc(r->r_pool, restlen * 3 + 2)) == NULL)
		return (-1);
	restlen = path_encode(rest, restlen, enc);
	/* Everything we may write: the client's head, framing, our headers. */
	cap = h->len + 4 * h->nhdr + restlen + strlen(u->u_prefix) +
	    strlen(u->u_host) + r->r_querylen + 256 + sizeof(c->c_peer_text);
	for (k = 0; k < r->r_nset; k++)
		cap += r->r_set[k].namelen + r->r_set[k].valuelen + 4;
	tls = c->c_listener != NULL && c->c_listener->l_tls != NULL;
	certhdr = tls ? c->c_listener->l_tls->t_cert_header : NULL;
	trhdr = wenv->we_conf->c_gateway.trusted_cert_header;
	if (certhdr != NULL && r->r_cert != NULL)
		cap += strlen(certhdr) + strlen(r->r_cert->cc_pem_enc) + 4;
	if (hbuf_init(&hb, r->r_pool, cap) == -1)
		return (-1);
	hbuf_str(&hb, r->r_method_name);
	hbuf_add(&hb, " ", 1);
	hbuf_str(&hb, u->u_prefix);
	hbuf_add(&hb, enc, restlen);
	if (*u->u_prefix == '\0' && restlen == 0)
		hbuf_add(&hb, "/", 1);
	if (r->r_query != NULL) {
		hbuf_add(&hb, "?", 1);
		hbuf_add(&hb, r->r_query, r->r_querylen);
	}
	hbuf_add(&hb, " HTTP/1.1\r\nHost: ", 17);
	hbuf_str(&hb, u->u_host);
	hbuf_add(&hb, "\r\n", 2);

	cv = http_header_find(h, "connection", &cvlen);
	for (k = 0; k < h->nhdr; k++) {
		if (upstream_hop_by_hop(h->hdr[k].name, h->hdr[k].namelen) ||
		    upstream_conn_token(cv, cvlen, h->hdr[k].name,
		    h->hdr[k].namelen) ||
		    upstream_plugin_set(r, h->hdr[k].name, h->hdr[k].namelen))
			continue;
		/*
		 * A client cannot forge the certificate header: ours
		 * replaces it, and a proxy's passes only from a trusted one
		 * and only when it verified.
		 */
		if (certhdr != NULL && h->hdr[k].namelen == strlen(certhdr) &&
		    strncasecmp(h->hdr[k].name, certhdr,
		    h->hdr[k].namelen) == 0)
			continue;
		if (trhdr != NULL && (!trusted || c->c_hdr_cert == NULL) &&
		    h->hdr[k].namelen == strlen(trhdr) &&
		    strncasecmp(h->hdr[k].name, trhdr,
		    h->hdr[k].namelen) == 0)
			continue;
		hbuf_header(&hb, h->hdr[k].name, h->hdr[k].namelen,
		    h->hdr[k].value != NULL ? h->hdr[k].value : "",
		    h->hdr[k].valuelen);
	}
	/* A plugin's NULL value removed the client's header: none sent. */
	for (k = 0; k < r->r_nset; k++)
		if (r->r_set[k].value != NULL)
			hbuf_header(&hb, r->r_set[k].name,
			    r->r_set[k].namelen, r->r_set[k].value,
			    r->r_set[k].valuelen);
	if (certhdr != NULL && r->r_cert != NULL)
		hbuf_header(&hb, certhdr, strlen(certhdr),
		    r->r_cert->cc_pem_enc, strlen(r->r_cert->cc_pem_enc));

	/* X-Forwarded-For: a trusted proxy's list is extended, else reset. */
	hbuf_add(&hb, "X-Forwarded-For: ", 17);
	first = 1;
	if (trusted) {
		for (k = 0; k < h->nhdr; k++) {
			if (h->hdr[k].namelen != 15 || strncasecmp(
			    h->hdr[k].name, "x-forwarded-for", 15) != 0 ||
			    h->hdr[k].valuelen == 0)
				continue;
			if (!first)
				hbuf_add(&hb, ", ", 2);
			hbuf_add(&hb, h->hdr[k].value, h->hdr[k].valuelen);
			first = 0;
		}
	}
	if (!first)
		hbuf_add(&hb, ", ", 2);
	hbuf_str(&hb, c->c_peer_text);
	hbuf_add(&hb, "\r\n", 2);
	v = trusted ? http_header_find(h, "x-forwarded-proto", &vlen) : NULL;
	if (v != NULL && vlen > 0)
		hbuf_header(&hb, "X-Forwarded-Proto", 17, v, vlen);
	else if (tls)
		hbuf_add(&hb, "X-Forwarded-Proto: https\r\n", 26);
	else
		hbuf_add(&hb, "X-Forwarded-Proto: http\r\n", 25);
	v = trusted ? http_header_find(h, "x-forwarded-host", &vlen) : NULL;
	if (v == NULL || vlen == 0)
		v = http_header_find(h, "host", &vlen);
	if (v != NULL && vlen > 0)
		hbuf_header(&hb, "X-Forwarded-Host", 16, v, vlen);
	if (r->r_chunked)
		hbuf_add(&hb, "Transfer-Encoding: chunked\r\n", 28);
	else if (r->r_has_body) {
		hbuf_add(&hb, "Content-Length: ", 16);
		hbuf_u64(&hb, r->r_content_length);
		hbuf_add(&hb, "\r\n", 2);
	} else if (r->r_method == CONF_M_POST || r->r_method == CONF_M_PUT ||
	    r->r_method == CONF_M_PATCH)
		hbuf_add(&hb, "Content-Length: 0\r\n", 19);
	hbuf_add(&hb, "\r\n", 2);
	return (hbuf_flush(&hb, b));
}

/*
 * Start proxying r: build the upstream head and connect to the next
 * production endpoint in round-robin order.  The body, if any, is staged
 * in r_upbuf until the connection is up.
 */
void
upstream_start(struct request *r)
{
	const struct conf_endpoints	*ep = r->r_endpoints;
	size_t				 i;

	if (ep->ep_nproduction == 0) {
		response_error(r, 502, "upstream_error",
		    "no production endpoint");
		return;
	}
	if ((r->r_upbuf = evbuffer_new()) == NULL) {
		response_error(r, 500, "internal_error", "out of memory");
		return;
	}
	i = rr[ep->ep_index]++ % ep->ep_nproduction;
	r->r_tries = 0;
	r->r_up_start_us = http_now_us();
	upstream_connect(r, i);
}

static struct upstream_conn *
upstream_pool_get(struct upstream_pool *up)
{
	struct upstream_conn	*uc;

	if ((uc = TAILQ_FIRST(&up->up_idle)) == NULL)
		return (NULL);
	TAILQ_REMOVE(&up->up_idle, uc, uc_entry);
	up->up_nidle--;
	uc->uc_idle = 0;
	return (uc);
}

static void
upstream_connect(struct request *r, size_t idx)
{
	const struct conf_endpoints	*ep = r->r_endpoints;
	const struct conf_url		*u = &ep->ep_production[idx];
	struct upstream_pool		*up = &pools[u->u_pool];
	struct upstream_conn		*uc;
	struct timeval			 tv;
	int				 fd, one = 1;

	r->r_upstream_name = u->u_url;
	r->r_up_idx = idx;
	r->r_tries++;
	if ((uc = upstream_pool_get(up)) != NULL) {
		uc->uc_reused = 1;
		upstream_attach(r, uc);
		return;
	}
	if ((uc = calloc(1, sizeof(*uc))) == NULL) {
		upstream_fail(r, 500, "internal_error", "out of memory");
		return;
	}
	uc->uc_pool = up;
	fd = socket(u->u_ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1) {
		free(uc);
		log_warn("upstream %s: socket", u->u_url);
		upstream_count_error(r, METRICS_UE_CONNECT);
		upstream_fail(r, 502, "upstream_error",
		    "cannot create a socket");
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	uc->uc_io = io_new(wenv->we_base, fd);
	uc->uc_timer = evtimer_new(wenv->we_base, upstream_timer_cb, uc);
	if (uc->uc_io == NULL || uc->uc_timer == NULL) {
		if (uc->uc_io == NULL)
			close(fd);
		upstream_conn_free(uc);
		upstream_fail(r, 500, "internal_error", "out of memory");
		return;
	}
	if (u->u_tls && (ep->ep_tls_ctx == NULL ||
	    io_tls_connect(uc->uc_io, ep->ep_tls_ctx, ep->ep_tls != NULL &&
	    ep->ep_tls->ut_server_name != NULL ? ep->ep_tls->ut_server_name :
	    u->u_tlsname) == -1)) {
		upstream_conn_free(uc);
		upstream_count_error(r, METRICS_UE_TLS);
		upstream_fail(r, 502, "upstream_tls_error",
		    "cannot set up TLS to the upstream");
		return;
	}
	uc->uc_req = r;
	r->r_up = uc;
	io_setcb(uc->uc_io, upstream_read_cb, upstream_write_cb,
	    upstream_event_cb, uc);
	io_setwatermark(uc->uc_io, EV_READ, 0, HTTP_BUF_HIGH);
	io_setwatermark(uc->uc_io, EV_WRITE, HTTP_BUF_HIGH / 4, 0);
	tv.tv_sec = ep->ep_connect_timeout / 1000;
	tv.tv_usec = (ep->ep_connect_timeout % 1000) * 1000;
	evtimer_add(uc->uc_timer, &tv);
	if (io_socket_connect(uc->uc_io,
	    (struct sockaddr *)&u->u_ss, u->u_sslen) == -1) {
		/* Immediate failure: handled like a refused connect. */
		upstream_event_cb(uc->uc_io, BEV_EVENT_ERROR, uc);
		return;
	}
}

/* A connection is up (new or from the pool): hand it the request. */
static void
upstream_attach(struct request *r, struct upstream_conn *uc)
{
	const struct conf_endpoints	*ep = r->r_endpoints;
	struct evbuffer			*out;
	struct timeval			 wtv;

	uc->uc_req = r;
	r->r_up = uc;
	uc->uc_connected = 1;
	uc->uc_got_bytes = uc->uc_head_done = uc->uc_resp_done = 0;
	uc->uc_skip = 0;
	if (uc->uc_timer != NULL)
		evtimer_del(uc->uc_timer);
	llhttp_init(&uc->uc_parser, HTTP_RESPONSE, &up_settings);
	uc->uc_parser.data = uc;
	io_setcb(uc->uc_io, upstream_read_cb, upstream_write_cb,
	    upstream_event_cb, uc);
	wtv.tv_sec = ep->ep_send_timeout / 1000;
	wtv.tv_usec = (ep->ep_send_timeout % 1000) * 1000;
	io_set_timeouts(uc->uc_io, NULL, &wtv);
	out = io_get_output(uc->uc_io);
	if (upstream_build_head(r, &ep->ep_production[r->r_up_idx], out) ==
	    -1) {
		upstream_fail(r, 500, "internal_error", "out of memory");
		return;
	}
	if (evbuffer_get_length(r->r_upbuf) > 0)
		r->r_up_moved = 1;
	evbuffer_add_buffer(out, r->r_upbuf);
	io_enable(uc->uc_io, EV_READ | EV_WRITE);
	uc->uc_reading = 1;
	if (r->r_body_done)
		upstream_body_done(r);
	else if (!r->r_conn->c_reading && r->r_state == REQ_BODY)
		http_request_continue(r);
}

/* Request body bytes from the client parser. */
void
upstream_body(struct request *r, const char *at, size_t len)
{
	struct evbuffer	*b;
	char		 hdr[24];
	int		 n;

	if (r->r_up != NULL && r->r_up->uc_connected) {
		b = io_get_output(r->r_up->uc_io);
		r->r_up_moved = 1;
	} else if (r->r_upbuf != NULL)
		b = r->r_upbuf;
	else
		return;
	if (r->r_chunked) {
		n = snprintf(hdr, sizeof(hdr), "%zx\r\n", len);
		evbuffer_add(b, hdr, n);
		evbuffer_add(b, at, len);
		evbuffer_add(b, "\r\n", 2);
	} else
		evbuffer_add(b, at, len);
}

/*
 * The whole request body was parsed: add the chunked terminator where the
 * body goes, and once the upstream has it all, start its read timeout.
 */
void
upstream_body_done(struct request *r)
{
	struct upstream_conn	*uc = r->r_up;
	struct evbuffer		*b;

	if (!r->r_up_queued) {
		if (uc != NULL && uc->uc_connected)
			b = io_get_output(uc->uc_io);
		else
			b = r->r_upbuf;
		if (r->r_chunked && b != NULL)
			evbuffer_add(b, "0\r\n\r\n", 5);
		r->r_up_queued = 1;
	}
	if (uc != NULL && uc->uc_connected &&
	    evbuffer_get_length(io_get_output(uc->uc_io)) == 0)
		upstream_write_cb(uc->uc_io, uc);
}

/* The client took our output: resume reading the upstream response. */
void
upstream_client_drained(struct request *r)
{
	struct upstream_conn	*uc = r->r_up;

	if (uc == NULL || uc->uc_reading || !uc->uc_connected)
		return;
	io_enable(uc->uc_io, EV_READ);
	uc->uc_reading = 1;
	upstream_parse(uc);
}

static void
upstream_write_cb(struct io *bev, void *arg)
{
	struct upstream_conn		*uc = arg;
	struct request			*r = uc->uc_req;
	const struct conf_endpoints	*ep;
	struct timeval			 tv, wtv;

	if (r == NULL)
		return;
	if (evbuffer_get_length(io_get_output(bev)) == 0 &&
	    r->r_up_queued) {
		/* Request sent whole: now the upstream's read timeout runs. */
		ep = r->r_endpoints;
		tv.tv_sec = ep->ep_timeout / 1000;
		tv.tv_usec = (ep->ep_timeout % 1000) * 1000;
		wtv.tv_sec = ep->ep_send_timeout / 1000;
		wtv.tv_usec = (ep->ep_send_timeout % 1000) * 1000;
		io_set_timeouts(bev, &tv, &wtv);
		return;
	}
	if (!r->r_conn->c_reading && r->r_state == REQ_BODY &&
	    !r->r_body_done)
		http_request_continue(r);
}

static void
upstream_conn_free(struct upstream_conn *uc)
{
	if (uc == NULL)
		return;
	if (uc->uc_idle) {
		TAILQ_REMOVE(&uc->uc_pool->up_idle, uc, uc_entry);
		uc->uc_pool->up_nidle--;
	}
	if (uc->uc_io != NULL)
		io_free(uc->uc_io);
	if (uc->uc_timer != NULL)
		event_free(uc->uc_timer);
	free(uc);
}

/* Detach and drop r's upstream connection (client went away, error). */
void
upstream_abort(struct request *r)
{
	struct upstream_conn	*uc = r->r_up;

	if (uc == NULL)
		return;
	r->r_up = NULL;
	upstream_conn_free(uc);
}

/* Put a finished connection back in its pool, or close it. */
static void
upstream_release(struct upstream_conn *uc, int reusable)
{
	struct upstream_pool	*up = uc->uc_pool;
	struct timeval		 tv = { UPSTREAM_IDLE_MS / 1000, 0 };

	uc->uc_req = NULL;
	if (!reusable || wenv->we_draining || up->up_nidle >= up->up_max) {
		upstream_conn_free(uc);
		return;
	}
	io_setcb(uc->uc_io, upstream_idle_read_cb, NULL,
	    upstream_idle_event_cb, uc);
	io_set_timeouts(uc->uc_io, &tv, NULL);
	io_enable(uc->uc_io, EV_READ);
	TAILQ_INSERT_HEAD(&up->up_idle, uc, uc_entry);
	up->up_nidle++;
	uc->uc_idle = 1;
}

static void
upstream_idle_read_cb(struct io *bev, void *arg)
{
	/* Bytes on an idle connection: the upstream is confused; drop it. */
	upstream_conn_free(arg);
}

static void
upstream_idle_event_cb(struct io *bev, short what, void *arg)
{
	upstream_conn_free(arg);
}

/* Close every idle pooled connection (draining). */
void
upstream_drain_idle(void)
{
	struct upstream_conn	*uc;
	size_t			 i;

	for (i = 0; i < npools; i++)
		while ((uc = TAILQ_FIRST(&pools[i].up_idle)) != NULL)
			upstream_conn_free(uc);
}

/*
 * One failure of kind on the endpoint r is talking to, for /metrics:
 * every failed attempt counts, a retried one included, since each says
 * something about that endpoint.
 */
static void
upstream_count_error(struct request *r, enum metrics_uperr kind)
{
	const struct conf_endpoints	*ep = r->r_endpoints;

	if (ep != NULL && r->r_up_idx < ep->ep_nproduction)
		metrics_upstream_error(ep->ep_production[r->r_up_idx].u_metrics,
		    kind);
}

/*
 * The upstream failed before answering: count it and answer the client,
 * or, once the response has started, close the client connection.
 */
static void
upstream_fail(struct request *r, int status, const char *code,
    const char *msg)
{
	if (wenv->we_stats != NULL)
		atomic_fetch_add_explicit(&wenv->we_stats->st_upstream_errors,
		    1, memory_order_relaxed);
	upstream_abort(r);
	r->r_up_end_us = http_now_us();
	if (r->r_upbuf != NULL) {
		evbuffer_free(r->r_upbuf);
		r->r_upbuf = NULL;
	}
	if (r->r_resp != RESP_NONE) {
		conn_close(r->r_conn);
		return;
	}
	response_error(r, status, code, msg);
}

/* Connect failed on idx: try the next endpoint if retries allow. */
static int
upstream_retry(struct request *r)
{
	const struct conf_endpoints	*ep = r->r_endpoints;
	size_t				 next;

	if ((uint32_t)r->r_tries > ep->ep_retries ||
	    (size_t)r->r_tries >= ep->ep_nproduction)
		return (0);
	/* Body bytes already moved into a failed socket cannot be redone. */
	if (r->r_up_moved || r->r_upbuf == NULL)
		return (0);
	next = rr[ep->ep_index]++ % ep->ep_nproduction;
	upstream_connect(r, next);
	return (1);
}

static void
upstream_timer_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct upstream_conn	*uc = arg;
	struct request		*r = uc->uc_req;

	log_warnx("upstream %s: connect timed out (request %s)",
	    r->r_upstream_name, r->r_id);
	r->r_up = NULL;
	upstream_conn_free(uc);
	upstream_count_error(r, METRICS_UE_TIMEOUT);
	if (upstream_retry(r))
		return;
	upstream_fail(r, 504, "upstream_timeout",
	    "upstream connect timed out");
}

static void
upstream_event_cb(struct io *bev, short what, void *arg)
{
	struct upstream_conn	*uc = arg;
	struct request		*r = uc->uc_req;
	int			 err = errno;

	if (what & BEV_EVENT_CONNECTED) {
		upstream_attach(r, uc);
		return;
	}
	if (!uc->uc_connected && (what & IO_EVENT_TLS)) {
		/*
		 * Verification or handshake failure: another endpoint of
		 * the group has the same settings, so no retry.
		 */
		log_warnx("upstream %s: TLS handshake failed: %s (request %s)",
		    r->r_upstream_name, io_tls_error(bev), r->r_id);
		upstream_count_error(r, METRICS_UE_TLS);
		r->r_up = NULL;
		upstream_conn_free(uc);
		upstream_fail(r, 502, "upstream_tls_error",
		    "TLS handshake with the upstream failed");
		return;
	}
	if (!uc->uc_connected) {
		log_warnx("upstream %s: connect: %s (request %s)",
		    r->r_upstream_name, strerror(err), r->r_id);
		r->r_up = NULL;
		upstream_conn_free(uc);
		upstream_count_error(r, METRICS_UE_CONNECT);
		if (upstream_retry(r))
			return;
		upstream_fail(r, 502, "upstream_error",
		    "upstream refused the connection");
		return;
	}
	if ((what & BEV_EVENT_EOF) && !uc->uc_resp_done &&
	    llhttp_message_needs_eof(&uc->uc_parser)) {
		/* A close-delimited body ends here. */
		if (llhttp_finish(&uc->uc_parser) == HPE_OK ||
		    uc->uc_resp_done) {
			upstream_parse(uc);
			return;
		}
	}
	if (uc->uc_reused && !uc->uc_got_bytes && !r->r_has_body &&
	    !(what & BEV_EVENT_TIMEOUT)) {
		/* The pooled connection died under us: replay once. */
		r->r_up = NULL;
		upstream_conn_free(uc);
		r->r_tries--;
		upstream_connect(r, r->r_up_idx);
		return;
	}
	if (what & BEV_EVENT_TIMEOUT) {
		log_warnx("upstream %s: %s timed out (request %s)",
		    r->r_upstream_name,
		    (what & BEV_EVENT_READING) ? "read" : "send", r->r_id);
		upstream_count_error(r, METRICS_UE_TIMEOUT);
		upstream_fail(r, 504, "upstream_timeout",
		    "upstream timed out");
		return;
	}
	log_warnx("upstream %s: %s before the response was complete "
	    "(request %s)", r->r_upstream_name, (what & BEV_EVENT_EOF) ?
	    "connection closed" : strerror(err), r->r_id);
	upstream_count_error(r, METRICS_UE_RESET);
	upstream_fail(r, 502, "upstream_error",
	    "upstream closed the connection");
}

static void
upstream_read_cb(struct io *bev, void *arg)
{
	upstream_parse(arg);
}

/*
 * Feed the upstream response to its parser; stop when the client has
 * enough of our output queued, finish when the response is complete.
 */
static void
upstream_parse(struct upstream_conn *uc)
{
	struct request	*r = uc->uc_req;
	struct evbuffer	*in = io_get_input(uc->uc_io);
	struct evbuffer	*cout;
	llhttp_errno_t	 err;
	size_t		 n, used;
	const char	*p;
	int		 reusable;
	struct conn	*c;

	if (r == NULL)
		return;
	c = r->r_conn;
	cout = io_get_output(c->c_io);
	while (!uc->uc_resp_done &&
	    (n = evbuffer_get_contiguous_space(in)) > 0) {
		if (evbuffer_get_length(cout) > HTTP_BUF_HIGH) {
			io_disable(uc->uc_io, EV_READ);
			uc->uc_reading = 0;
			return;
		}
		uc->uc_got_bytes = 1;
		p = (const char *)evbuffer_pullup(in, n);
		err = llhttp_execute(&uc->uc_parser, p, n);
		used = (err == HPE_OK) ? n :
		    (size_t)(llhttp_get_error_pos(&uc->uc_parser) - p);
		evbuffer_drain(in, used);
		if (err == HPE_OK || (err == HPE_PAUSED && uc->uc_resp_done))
			continue;
		if (err == HPE_PAUSED)
			continue;
		log_warnx("upstream %s: invalid response: %s (request %s)",
		    r->r_upstream_name, llhttp_errno_name(err), r->r_id);
		upstream_count_error(r, METRICS_UE_INVALID);
		upstream_fail(r, 502, "upstream_error",
		    "upstream sent an invalid response");
		return;
	}
	if (!uc->uc_resp_done)
		return;
	/* The response is complete and queued to the client. */
	if (r->r_resp_chunked)
		evbuffer_add(cout, "0\r\n\r\n", 5);
	reusable = llhttp_should_keep_alive(&uc->uc_parser) &&
	    r->r_up_queued && r->r_body_done &&
	    evbuffer_get_length(in) == 0 &&
	    evbuffer_get_length(io_get_output(uc->uc_io)) == 0;
	r->r_up = NULL;
	upstream_release(uc, reusable);
	if (r->r_upbuf != NULL) {
		evbuffer_free(r->r_upbuf);
		r->r_upbuf = NULL;
	}
	r->r_resp = RESP_DONE;
	if (!r->r_body_done)
		c->c_close = 1;
	request_finalize(r, 0);
}

static int
up_on_message_begin(llhttp_t *p)
{
	struct upstream_conn	*uc = p->data;

	return (http_head_init(&uc->uc_head, uc->uc_req->r_pool,
	    UPSTREAM_HEAD_MAX) == -1 ? -1 : 0);
}

static int
up_on_header_field(llhttp_t *p, const char *at, size_t len)
{
	struct upstream_conn	*uc = p->data;

	return (http_head_field(&uc->uc_head, at, len) == -1 ? HPE_USER : 0);
}

static int
up_on_header_value(llhttp_t *p, const char *at, size_t len)
{
	struct upstream_conn	*uc = p->data;

	return (http_head_value(&uc->uc_head, at, len) == -1 ? HPE_USER : 0);
}

static int
up_skip_header(const char *n, size_t len)
{
	static const char *const skip[] = {
		"connection", "keep-alive", "proxy-connection", "te",
		"trailer", "upgrade", "transfer-encoding", "content-length",
		"date", "server", "x-request-id", NULL
	};
	int	 i;

	for (i = 0; skip[i] != NULL; i++)
		if (strlen(skip[i]) == len && strncasecmp(skip[i], n, len) == 0)
			return (1);
	return (0);
}

/* What up_fields() needs of the upstream's head. */
struct up_head {
	const struct http_head	*uh_head;
	const char		*uh_conn;	/* its Connection, or NULL */
	size_t			 uh_connlen;
	const llhttp_t		*uh_parser;
};

/*
 * The upstream's fields that go on to the client, and our framing: the
 * hop-by-hop ones and those we set ourselves stay behind.
 */
static void
up_fields(struct request *r, struct hbuf *hb, void *arg)
{
	const struct up_head	*uh = arg;
	const struct http_head	*h = uh->uh_head;
	int			 k;

	for (k = 0; k < h->nhdr; k++) {
		if (up_skip_header(h->hdr[k].name, h->hdr[k].namelen) ||
		    upstream_conn_token(uh->uh_conn, uh->uh_connlen,
		    h->hdr[k].name, h->hdr[k].namelen))
			continue;
		hbuf_header(hb, h->hdr[k].name, h->hdr[k].namelen,
		    h->hdr[k].value != NULL ? h->hdr[k].value : "",
		    h->hdr[k].valuelen);
	}
	if (uh->uh_parser->flags & F_CONTENT_LENGTH) {
		hbuf_add(hb, "Content-Length: ", 16);
		hbuf_u64(hb, uh->uh_parser->content_length);
		hbuf_add(hb, "\r\n", 2);
	} else if (r->r_resp_chunked)
		hbuf_add(hb, "Transfer-Encoding: chunked\r\n", 28);
}

/*
 * The upstream's head: queue ours to the client, with our framing.  Runs
 * inside llhttp_execute() and only appends to buffers.
 */
static int
up_on_headers_complete(llhttp_t *p)
{
	struct upstream_conn	*uc = p->data;
	struct request		*r = uc->uc_req;
	const struct http_head	*h = &uc->uc_head;
	struct up_head		 uh;
	int			 status = llhttp_get_status_code(p), nobody;

	if (status >= 100 && status < 200) {
		/* Interim responses stay between us and the upstream. */
		uc->uc_skip = 1;
		return (0);
	}
	nobody = r->r_method == CONF_M_HEAD || status == 204 || status == 304;
	uh.uh_head = h;
	uh.uh_conn = http_header_find(h, "connection", &uh.uh_connlen);
	uh.uh_parser = p;
	if (!nobody && !(p->flags & F_CONTENT_LENGTH)) {
		if (r->r_minor >= 1)
			r->r_resp_chunked = 1;
		else
			r->r_resp_close = 1;
	}
	if (response_head(r, status, h->len + 4 * h->nhdr, up_fields,
	    &uh) == -1)
		return (HPE_USER);
	uc->uc_head_done = 1;
	/* A response to HEAD has no body whatever its head says. */
	return (r->r_method == CONF_M_HEAD ? 1 : 0);
}

static int
up_on_body(llhttp_t *p, const char *at, size_t len)
{
	struct upstream_conn	*uc = p->data;
	struct request		*r = uc->uc_req;
	struct evbuffer		*out = io_get_output(
				    r->r_conn->c_io);
	char			 hdr[24];
	int			 n;

	if (r->r_resp_chunked) {
		n = snprintf(hdr, sizeof(hdr), "%zx\r\n", len);
		evbuffer_add(out, hdr, n);
		evbuffer_add(out, at, len);
		evbuffer_add(out, "\r\n", 2);
		r->r_bytes_out += n + len + 2;
	} else {
		evbuffer_add(out, at, len);
		r->r_bytes_out += len;
	}
	return (0);
}

static int
up_on_message_complete(llhttp_t *p)
{
	struct upstream_conn	*uc = p->data;

	if (uc->uc_skip) {
		uc->uc_skip = 0;
		return (0);
	}
	uc->uc_resp_done = 1;
	if (uc->uc_req != NULL)
		uc->uc_req->r_up_end_us = http_now_us();
	return (HPE_PAUSED);
}
