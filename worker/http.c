/*
 * http.c: the client side of a request.  llhttp parses; its callbacks only
 * record what they see, and this file acts between llhttp_execute() calls
 * so no callback ever frees the connection under the parser.  The parser
 * is paused after each request head (to route and run the access phase
 * before any body byte moves) and after each request (so a pipelined
 * request waits until the previous response is queued).
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include <llhttp.h>

#include "lib.h"
#include "conf-t.h"
#include "shm.h"
#include "worker.h"
#include <mgw/plugin.h>

static int	http_on_message_begin(llhttp_t *);
static int	http_on_url(llhttp_t *, const char *, size_t);
static int	http_on_header_field(llhttp_t *, const char *, size_t);
static int	http_on_header_value(llhttp_t *, const char *, size_t);
static int	http_on_headers_complete(llhttp_t *);
static int	http_on_body(llhttp_t *, const char *, size_t);
static int	http_on_message_complete(llhttp_t *);
static void	http_head_done(struct request *);
static void	http_parse_error(struct conn *, llhttp_errno_t);
static void	http_head_refuse(struct conn *, const char *);
static int	http_te_chunked_only(const struct http_head *);
static int	http_client_cert(struct request *);

const llhttp_settings_t http_settings = {
	.on_message_begin = http_on_message_begin,
	.on_url = http_on_url,
	.on_header_field = http_on_header_field,
	.on_header_value = http_on_header_value,
	.on_headers_complete = http_on_headers_complete,
	.on_body = http_on_body,
	.on_message_complete = http_on_message_complete,
};

/* Why the parser paused, for the loop in http_read(). */
#define PAUSE_HEAD	1
#define PAUSE_DONE	2

/* CLOCK_MONOTONIC in microseconds, for request timing. */
uint64_t
http_now_us(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
}

static int
http_on_message_begin(llhttp_t *p)
{
	struct conn	*c = p->data;
	struct request	*r;
	struct timespec	 ts;

	pool_reset(c->c_pool);
	if ((r = pool_alloc(c->c_pool, sizeof(*r))) == NULL)
		return (-1);
	memset(r, 0, sizeof(*r));
	r->r_conn = c;
	r->r_pool = c->c_pool;
	r->r_method = -1;
	if (http_head_init(&r->r_head, c->c_pool,
	    wenv->we_conf->c_limits.max_header_size) == -1)
		return (-1);
	r->r_start_us = http_now_us();
	clock_gettime(CLOCK_REALTIME, &ts);
	r->r_start_wall_ms = (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	c->c_req = r;
	c->c_state = CONN_ACTIVE;
	c->c_head_bytes = 0;
	c->c_nrequests++;
	/* Pipelined heads start here; a read may have started the clock. */
	if (!c->c_head_timed) {
		conn_timer_set(c, wenv->we_conf->c_limits.header_timeout);
		c->c_head_timed = 1;
	}
	return (0);
}

static int
http_on_url(llhttp_t *p, const char *at, size_t len)
{
	struct conn	*c = p->data;

	return (http_head_url(&c->c_req->r_head, at, len) == -1 ? HPE_USER :
	    0);
}

static int
http_on_header_field(llhttp_t *p, const char *at, size_t len)
{
	struct conn	*c = p->data;

	return (http_head_field(&c->c_req->r_head, at, len) == -1 ?
	    HPE_USER : 0);
}

static int
http_on_header_value(llhttp_t *p, const char *at, size_t len)
{
	struct conn	*c = p->data;

	return (http_head_value(&c->c_req->r_head, at, len) == -1 ?
	    HPE_USER : 0);
}

/*
 * Pause after a head that announces a body, so the request is routed and
 * admitted before a body byte moves.  A request without a body runs on to
 * message complete and is handled there, whole.
 */
static int
http_on_headers_complete(llhttp_t *p)
{
	struct conn	*c = p->data;

	if ((p->flags & F_CHUNKED) ||
	    ((p->flags & F_CONTENT_LENGTH) && p->content_length > 0)) {
		c->c_paused = PAUSE_HEAD;
		return (HPE_PAUSED);
	}
	return (0);
}

static int
http_on_body(llhttp_t *p, const char *at, size_t len)
{
	struct conn	*c = p->data;
	struct request	*r = c->c_req;
	uint64_t	 max = wenv->we_conf->c_limits.max_body_size;

	r->r_body_bytes += len;
	if (max != 0 && r->r_body_bytes > max) {
		/* Only chunked bodies get here: a Content-Length was checked. */
		r->r_err_code = "payload_too_large";
		return (HPE_USER);
	}
	if (r->r_up != NULL || r->r_upbuf != NULL)
		upstream_body(r, at, len);
	return (0);
}

static int
http_on_message_complete(llhttp_t *p)
{
	struct conn	*c = p->data;

	c->c_req->r_body_done = 1;
	c->c_paused = PAUSE_DONE;
	head_check_init(&c->c_hc);
	return (HPE_PAUSED);
}

/*
 * Find a header by name, case-insensitively.  Returns the value and its
 * length, or NULL.
 */
const char *
http_header_find(const struct http_head *h, const char *name, size_t *len)
{
	size_t	 nl = strlen(name);
	int	 i;

	for (i = 0; i < h->nhdr; i++) {
		if (h->hdr[i].namelen == nl &&
		    strncasecmp(h->hdr[i].name, name, nl) == 0) {
			if (len != NULL)
				*len = h->hdr[i].valuelen;
			return (h->hdr[i].value != NULL ? h->hdr[i].value : "");
		}
	}
	return (NULL);
}

/*
 * Feed buffered client bytes to the parser until it pauses, errs or the
 * input is exhausted, acting on each pause.  Called from the read
 * callback and whenever a paused request may continue.
 */
void
http_read(struct conn *c)
{
	struct evbuffer	*in = io_get_input(c->c_io);
	struct request	*r;
	llhttp_errno_t	 err;
	size_t		 n, used;
	const char	*p, *bad;
	int		 why;

	for (;;) {
		if (c->c_state == CONN_LINGER || c->c_paused)
			return;
		r = c->c_req;
		/*
		 * Back-pressure: the upstream has not taken what we gave it.
		 * Reading must be switched off, not just skipped: upstream.c
		 * resumes us only when it sees c_reading clear, and a read
		 * callback left armed would see the input stop at its high
		 * watermark and never fire again.
		 */
		if (r != NULL && r->r_state == REQ_BODY &&
		    !http_client_writable(r)) {
			conn_read_enable(c, 0);
			return;
		}
		if ((n = evbuffer_get_contiguous_space(in)) == 0)
			return;
		p = (const char *)evbuffer_pullup(in, n);
		/* llhttp sees only head bytes the strict scan passed. */
		bad = NULL;
		if (c->c_hc.hc_state != HC_BODY)
			bad = head_check_scan(&c->c_hc, p, n, &n);
		err = n > 0 ? llhttp_execute(&c->c_parser, p, n) : HPE_OK;
		used = (err == HPE_OK) ? n :
		    (size_t)(llhttp_get_error_pos(&c->c_parser) - p);
		r = c->c_req;
		if (r != NULL)
			r->r_bytes_in += used;
		if (r != NULL && r->r_state == REQ_HEADER) {
			c->c_head_bytes += used;
			if (c->c_head_bytes >
			    wenv->we_conf->c_limits.max_header_size ||
			    r->r_head.overflow) {
				evbuffer_drain(in, used);
				c->c_close = 1;
				phase_error(r, 431, "header_too_large",
				    "request header is too large");
				return;
			}
		}
		evbuffer_drain(in, used);
		if (bad != NULL && err == HPE_OK) {
			http_head_refuse(c, bad);
			return;
		}
		if (err == HPE_OK)
			continue;
		if (err != HPE_PAUSED) {
			http_parse_error(c, err);
			return;
		}
		why = c->c_paused;
		if (r->r_state == REQ_HEADER) {
			/* The head is complete; stop its timer. */
			conn_timer_set(c, 0);
			if (why == PAUSE_DONE)
				r->r_body_done = 1;
			http_head_done(r);
			/* c may be lingering or closed now: return. */
			return;
		}
		if (why == PAUSE_DONE) {
			io_set_timeouts(c->c_io, NULL,
			    NULL);
			if (r->r_resp == RESP_DONE)
				request_finalize(r, 0);
			else if (r->r_up != NULL || r->r_upbuf != NULL)
				upstream_body_done(r);
			else if (r->r_endpoints != NULL &&
			    r->r_endpoints->ep_type == CONF_EP_MOCK)
				response_mock(r, r->r_endpoints);
			return;
		}
	}
}

/*
 * Answer a head the strict scan refused: 400 and close.  Bytes before a
 * request line are garbage between requests, closed without an answer.
 */
static void
http_head_refuse(struct conn *c, const char *why)
{
	struct request	*r = c->c_req;

	c->c_close = 1;
	if (r == NULL || r->r_state != REQ_HEADER) {
		log_info("conn %s: %s before a request: closed",
		    c->c_peer_text, why);
		conn_close(c);
		return;
	}
	phase_refuse(r, 400, "bad_request", why);
}

/* Map a parser error to a response; the connection always closes. */
static void
http_parse_error(struct conn *c, llhttp_errno_t err)
{
	struct request	*r = c->c_req;
	int		 status = 400;
	const char	*code = "bad_request", *msg;

	c->c_close = 1;
	msg = llhttp_get_error_reason(&c->c_parser);
	if (r == NULL) {
		/* Garbage between requests: no request to answer. */
		conn_close(c);
		return;
	}
	if (r->r_head.overflow) {
		phase_error(r, 431, "header_too_large",
		    "request header is too large");
		return;
	}
	if (r->r_err_code != NULL &&
	    strcmp(r->r_err_code, "payload_too_large") == 0) {
		if (r->r_resp != RESP_NONE) {
			conn_close(c);
			return;
		}
		phase_error(r, 413, "payload_too_large",
		    "request body is too large");
		return;
	}
	if (r->r_resp != RESP_NONE) {
		/* Mid-body garbage after the response started: just close. */
		upstream_abort(r);
		conn_close(c);
		return;
	}
	switch (err) {
	case HPE_INVALID_VERSION:
		if (llhttp_get_http_major(&c->c_parser) > 1) {
			status = 505;
			code = "version_not_supported";
		}
		break;
	case HPE_INVALID_TRANSFER_ENCODING:
		/*
		 * llhttp says this of a request whose Transfer-Encoding does
		 * not end with chunked: its length cannot be known, and a
		 * server must answer 400 and close (RFC 9112 section 6.3).
		 * Left as it is, it is the stuff of request smuggling.
		 */
		msg = "Transfer-Encoding must end with chunked";
		break;
	default:
		break;
	}
	if (msg == NULL || *msg == '\0')
		msg = llhttp_errno_name(err);
	if (r->r_up != NULL)
		upstream_abort(r);
	phase_error(r, status, code, msg);
}

/*
 * Is there room toward the upstream for more request body?  When not,
 * reading from the client stops until upstream.c calls
 * http_request_continue().
 */
int
http_client_writable(struct request *r)
{
	if (r->r_upbuf != NULL &&
	    evbuffer_get_length(r->r_upbuf) > HTTP_BUF_HIGH)
		return (0);
	if (r->r_up != NULL && upstream_pending(r) > HTTP_BUF_HIGH)
		return (0);
	return (1);
}

/* A stalled or suspended request may go on: resume reading. */
void
http_request_continue(struct request *r)
{
	struct conn	*c = r->r_conn;

	if (c->c_state == CONN_LINGER)
		return;
	conn_read_enable(c, 1);
	http_read(c);
}

/*
 * Do the Transfer-Encoding fields, all of them together, name the one
 * coding "chunked" and nothing else?
 */
static int
http_te_chunked_only(const struct http_head *h)
{
	const char	*v;
	size_t		 i, e, s, t, vlen;
	int		 k, ntok = 0;

	for (k = 0; k < h->nhdr; k++) {
		if (h->hdr[k].namelen != 17 || strncasecmp(h->hdr[k].name,
		    "transfer-encoding", 17) != 0)
			continue;
		v = h->hdr[k].value;
		vlen = v != NULL ? h->hdr[k].valuelen : 0;
		for (i = 0; i <= vlen; i = e + 1) {
			for (e = i; e < vlen && v[e] != ','; e++)
				;
			/* The element is v[s, t), trimmed of OWS. */
			for (s = i; s < e && (v[s] == ' ' || v[s] == '\t'); s++)
				;
			for (t = e; t > s && (v[t - 1] == ' ' ||
			    v[t - 1] == '\t'); t--)
				;
			if (t == s)
				continue;	/* empty elements are allowed */
			if (t - s != 7 || strncasecmp(v + s, "chunked", 7) != 0)
				return (0);
			ntok++;
		}
	}
	return (ntok == 1);
}

/*
 * The head is parsed: note what the phases need from the parser, then
 * walk them (phase.c).
 */
static void
http_head_done(struct request *r)
{
	llhttp_t	*p = &r->r_conn->c_parser;

	r->r_url = r->r_head.buf + r->r_head.url_off;
	r->r_urllen = r->r_head.url_len;
	r->r_minor = llhttp_get_http_minor(p);
	r->r_keepalive = llhttp_should_keep_alive(p);
	r->r_method_name = llhttp_method_name(llhttp_get_method(p));
	r->r_method = method_parse(r->r_method_name,
	    strlen(r->r_method_name));
	r->r_chunked = (p->flags & F_CHUNKED) != 0;
	if (p->flags & F_CONTENT_LENGTH)
		r->r_content_length = p->content_length;
	r->r_has_body = r->r_chunked || r->r_content_length > 0;
	r->r_state = REQ_POST_READ;
	phase_run(r);
}

/*
 * The check phase: refuse a head the gateway does not serve (version,
 * Host, framing, target, size, Expect) and normalise the path.  Returns
 * PHASE_NEXT, or PHASE_DONE when it answered.
 */
int
http_check(struct request *r)
{
	struct conn		*c = r->r_conn;
	llhttp_t		*p = &c->c_parser;
	const struct mgw_conf	*conf = wenv->we_conf;
	const char		*q, *v;
	char			*path;
	size_t			 plen, vlen;
	ssize_t			 n;

	if (!r->r_keepalive || wenv->we_draining ||
	    conf->c_limits.keepalive_timeout == 0)
		c->c_close = 1;

	if (llhttp_get_http_major(p) != 1) {
		response_error(r, 505, "version_not_supported",
		    "only HTTP/1.0 and HTTP/1.1 are supported");
		return (PHASE_DONE);
	}
	if (r->r_minor == 1 && http_header_find(&r->r_head, "host",
	    NULL) == NULL) {
		response_error(r, 400, "bad_request",
		    "HTTP/1.1 request without Host");
		return (PHASE_DONE);
	}
	if (p->flags & F_TRANSFER_ENCODING) {
		/*
		 * HTTP/1.0 has no transfer codings: the framing is faulty
		 * (RFC 9112 section 6.1).  Under 1.1 only chunked alone is
		 * understood; forwarding "gzip, chunked" as plain chunked
		 * would hand the upstream a body coded in a way it is not
		 * told of.
		 */
		if (r->r_minor == 0) {
			response_error(r, 400, "bad_request",
			    "Transfer-Encoding in an HTTP/1.0 request");
			return (PHASE_DONE);
		}
		if (!http_te_chunked_only(&r->r_head)) {
			response_error(r, 501, "not_implemented",
			    "unsupported Transfer-Encoding");
			return (PHASE_DONE);
		}
	}
	if (llhttp_get_upgrade(p) || llhttp_get_method(p) == HTTP_CONNECT) {
		response_error(r, 501, "not_implemented",
		    "CONNECT and Upgrade are not supported");
		return (PHASE_DONE);
	}
	if (r->r_urllen == 0 || r->r_url[0] != '/') {
		response_error(r, 400, "bad_request",
		    "request target must be an absolute path");
		return (PHASE_DONE);
	}
	q = memchr(r->r_url, '?', r->r_urllen);
	plen = q != NULL ? (size_t)(q - r->r_url) : r->r_urllen;
	if (q != NULL) {
		r->r_query = q + 1;
		r->r_querylen = r->r_urllen - plen - 1;
	}
	if ((path = pool_alloc(r->r_pool, plen + 2)) == NULL) {
		response_error(r, 500, "internal_error", "out of memory");
		return (PHASE_DONE);
	}
	if ((n = path_normalize(r->r_url, plen, path)) == -1) {
		response_error(r, 400, "bad_request", "invalid request path");
		return (PHASE_DONE);
	}
	path[n] = '\0';
	r->r_path = path;
	r->r_pathlen = n;

	if (conf->c_limits.max_body_size != 0 &&
	    r->r_content_length > conf->c_limits.max_body_size) {
		c->c_close = 1;
		response_error(r, 413, "payload_too_large",
		    "request body is too large");
		return (PHASE_DONE);
	}
	v = http_header_find(&r->r_head, "expect", &vlen);
	if (v != NULL) {
		if (vlen == 12 && strncasecmp(v, "100-continue", 12) == 0) {
			if (r->r_minor == 1 && r->r_has_body)
				r->r_expect_continue = 1;
		} else {
			response_error(r, 417, "expectation_failed",
			    "unsupported expectation");
			return (PHASE_DONE);
		}
	}

	return (PHASE_NEXT);
}

/*
 * The route phase: what the content phase serves (/health, the admin
 * listener's pages, or an API's resource), and for an API the client
 * certificate.  Returns PHASE_NEXT, or PHASE_DONE when it answered.
 */
int
http_route(struct request *r)
{
	struct conn		*c = r->r_conn;
	enum route_result	 rr;

	if ((r->r_method == CONF_M_GET || r->r_method == CONF_M_HEAD) &&
	    r->r_pathlen == 7 && memcmp(r->r_path, "/health", 7) == 0) {
		r->r_content = CONTENT_HEALTH;
		return (PHASE_NEXT);
	}
	if (c->c_admin) {
		r->r_content = CONTENT_ADMIN;
		return (PHASE_NEXT);
	}

	rr = route_match(wenv->we_router, r->r_path, r->r_pathlen,
	    r->r_method, &r->r_route);
	if (rr == ROUTE_NOT_FOUND) {
		response_error(r, 404, "not_found", "no API matches the path");
		return (PHASE_DONE);
	}
	if (rr == ROUTE_BAD_METHOD) {
		response_error(r, 405, "method_not_allowed",
		    "method not allowed for this resource");
		return (PHASE_DONE);
	}
	r->r_endpoints = (r->r_route.rm_resource != NULL &&
	    r->r_route.rm_resource->r_endpoints != NULL) ?
	    r->r_route.rm_resource->r_endpoints :
	    &r->r_route.rm_api->a_endpoints;
	if (http_client_cert(r) == -1)
		return (PHASE_DONE);
	r->r_content = CONTENT_API;
	return (PHASE_NEXT);
}

/*
 * Mutual TLS for the routed request: find the client certificate (ours
 * or a trusted proxy's), refuse an API that mandates one when there is
 * none, and let a matching certificate name the consumer before the
 * access phase runs.  0, or -1 when the request was answered.
 */
static int
http_client_cert(struct request *r)
{
	struct conn			*c = r->r_conn;
	const struct mgw_conf		*conf = wenv->we_conf;
	const struct conf_consumer	*cs;
	const char			*hname, *v, *why;
	size_t				 i, j, vlen;
	int				 depth;

	/*
	 * The header's certificate is this request's alone: one verified
	 * for an earlier request on the connection must not linger (the
	 * upstream header is passed only while it is set).  One that does
	 * not verify is as good as absent.
	 */
	tls_peer_free(c->c_hdr_cert);
	c->c_hdr_cert = NULL;
	hname = conf->c_gateway.trusted_cert_header;
	if (hname != NULL && (v = http_header_find(&r->r_head, hname,
	    &vlen)) != NULL && vlen > 0 &&
	    cidr_match(conf->c_gateway.trusted,
	    conf->c_gateway.ntrusted_proxies, (struct sockaddr *)&c->c_peer)) {
		c->c_hdr_cert = tls_peer_from_header(v, vlen,
		    tls_peer_store(conf, c->c_listener, &depth), depth, &why);
		if (c->c_hdr_cert == NULL)
			log_info("request %s: %s from %s ignored: %s", r->r_id,
			    hname, c->c_peer_text, why);
		r->r_cert = c->c_hdr_cert;
	}
	if (r->r_cert == NULL)
		r->r_cert = conn_client_cert(c);
	if (r->r_cert == NULL) {
		if (r->r_route.rm_api->a_mutual_tls != CONF_MTLS_MANDATORY)
			return (0);
		/*
		 * RFC 9110 wants a challenge on every 401, and no scheme is
		 * registered for TLS client certificates: "TLS" names what
		 * is missing, and a browser that knows no such scheme shows
		 * no password prompt.
		 */
		if (mgw_response_add_header((struct mgw_request *)r,
		    "WWW-Authenticate", "TLS") == -1) {
			response_error(r, 500, "internal_error",
			    "out of memory");
			return (-1);
		}
		response_error(r, 401, "client_certificate_required",
		    "this API requires a valid client certificate (mutual "
		    "TLS)");
		return (-1);
	}
	for (i = 0; i < conf->c_nconsumers && r->r_consumer == NULL; i++) {
		cs = &conf->c_consumers[i];
		for (j = 0; j < cs->cs_ncertificates; j++)
			if (strcmp(cs->cs_certificates[j],
			    r->r_cert->cc_fp) == 0)
				break;
		if (j == cs->cs_ncertificates) {
			for (j = 0; j < cs->cs_ncertificate_subjects; j++)
				if (strcmp(cs->cs_certificate_subjects[j],
				    r->r_cert->cc_subject) == 0)
					break;
			if (j == cs->cs_ncertificate_subjects)
				continue;
		}
		if (mgw_request_set_consumer((struct mgw_request *)r,
		    cs->cs_name) == -1) {
			response_error(r, 500, "internal_error",
			    "out of memory");
			return (-1);
		}
	}
	return (0);
}

/*
 * The content phase of an API request: the access phase let it through,
 * so send it upstream or answer from its mock, and let the body flow.
 * r may be gone on return.
 */
void
http_dispatch(struct request *r)
{
	struct conn		*c = r->r_conn;
	const struct conf_limits *lim = &wenv->we_conf->c_limits;
	struct timeval		 tv, stv;

	r->r_state = REQ_BODY;
	if (r->r_endpoints->ep_type == CONF_EP_MOCK) {
		if (r->r_body_done) {
			response_mock(r, r->r_endpoints);
			return;
		}
	} else {
		upstream_start(r);
		if (r->r_resp == RESP_DONE)
			return;		/* failed at once: answered */
		if (r->r_body_done) {
			upstream_body_done(r);
			return;
		}
	}
	if (r->r_expect_continue)
		evbuffer_add(io_get_output(c->c_io),
		    "HTTP/1.1 100 Continue\r\n\r\n", 25);
	/* Go on parsing the body; a stalled client is timed out. */
	tv.tv_sec = lim->body_timeout / 1000;
	tv.tv_usec = (lim->body_timeout % 1000) * 1000;
	stv.tv_sec = lim->send_timeout / 1000;
	stv.tv_usec = (lim->send_timeout % 1000) * 1000;
	io_set_timeouts(c->c_io, &tv, &stv);
	c->c_paused = 0;
	llhttp_resume(&c->c_parser);
	conn_read_enable(c, 1);
	http_read(c);
}
