/*
 * response.c: responses the gateway makes itself: JSON errors with a
 * stable code, /health, mock endpoints, and the headers every response
 * carries.
 */
#include "config.h"

#include <sys/types.h>

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "lib.h"
#include "conf-t.h"
#include "metrics.h"
#include "shm.h"
#include "worker.h"
#include <mgw/plugin.h>

/* The fields of a response the gateway makes itself. */
struct response_own {
	const char	*ro_extra;	/* header lines, CRLF each, or NULL */
	const char	*ro_ctype;	/* or NULL */
	size_t		 ro_len;	/* body bytes */
	int		 ro_withlen;	/* send Content-Length */
};

static int	response_own_head(struct request *, int, const char *,
		    const char *, size_t, int);
static response_fields_fn response_own_fields;
static size_t	response_common_size(struct request *);
static void	response_common_headers(struct request *, struct hbuf *);
static void	strlcat_allow(char *, size_t, uint32_t);
static void	response_done(struct request *);

const char *
response_reason(int status)
{
	switch (status) {
	case 100: return ("Continue");
	case 200: return ("OK");
	case 201: return ("Created");
	case 202: return ("Accepted");
	case 204: return ("No Content");
	case 301: return ("Moved Permanently");
	case 302: return ("Found");
	case 304: return ("Not Modified");
	case 400: return ("Bad Request");
	case 401: return ("Unauthorized");
	case 403: return ("Forbidden");
	case 404: return ("Not Found");
	case 405: return ("Method Not Allowed");
	case 408: return ("Request Timeout");
	case 413: return ("Content Too Large");
	case 417: return ("Expectation Failed");
	case 429: return ("Too Many Requests");
	case 431: return ("Request Header Fields Too Large");
	case 500: return ("Internal Server Error");
	case 501: return ("Not Implemented");
	case 502: return ("Bad Gateway");
	case 503: return ("Service Unavailable");
	case 504: return ("Gateway Timeout");
	case 505: return ("HTTP Version Not Supported");
	default: return ("Unknown");
	}
}

/* "Date:" value, made once a second (RFC 9110 IMF-fixdate). */
static const char *
response_date(void)
{
	static char	 buf[40];
	static time_t	 last;
	time_t		 now;
	struct tm	 tm;

	now = time(NULL);
	if (now != last) {
		gmtime_r(&now, &tm);
		strftime(buf, sizeof(buf), "%a, %d %b %Y %H:%M:%S GMT", &tm);
		last = now;
	}
	return (buf);
}

/* An upper bound of what response_common_headers() adds, in bytes. */
static size_t
response_common_size(struct request *r)
{
	size_t	 n = 96;
	int	 i;

	for (i = 0; i < r->r_nadd; i++)
		n += r->r_add[i].namelen + r->r_add[i].valuelen + 4;
	return (n + r->r_lineslen);
}

/*
 * Headers on every response: Date, Server, those plugins added (the
 * request id among them), and Connection.  The header filter phase has
 * run before.
 */
static void
response_common_headers(struct request *r, struct hbuf *hb)
{
	struct conn	*c = r->r_conn;
	const char	*date = response_date();
	int		 i;

	hbuf_header(hb, "Date", 4, date, strlen(date));
	hbuf_add(hb, "Server: mgw\r\n", 13);
	for (i = 0; i < r->r_nadd; i++)
		hbuf_header(hb, r->r_add[i].name, r->r_add[i].namelen,
		    r->r_add[i].value, r->r_add[i].valuelen);
	if (r->r_lineslen > 0)
		hbuf_add(hb, r->r_lines, r->r_lineslen);
	if (c->c_close || r->r_resp_close)
		hbuf_add(hb, "Connection: close\r\n", 19);
	else if (r->r_minor == 0)
		hbuf_add(hb, "Connection: keep-alive\r\n", 24);
}

/*
 * Build and queue the head of the response to r, whoever made it (the
 * upstream, a mock, the admin pages, an error): the status line, what
 * fields() adds (at most hint bytes), the headers every response
 * carries, the blank line, in one piece.  The header filter phase runs
 * here, once, before the head is sized, so that what plugins add is
 * counted.  0, or -1 on OOM; the head's bytes count in r_bytes_out.
 */
int
response_head(struct request *r, int status, size_t hint,
    response_fields_fn *fields, void *arg)
{
	struct hbuf	 hb;
	const char	*reason;

	r->r_status = status;
	if (r->r_resp == RESP_NONE)
		phase_header_filter(r);
	reason = response_reason(status);
	if (hbuf_init(&hb, r->r_pool, 128 + strlen(reason) + hint +
	    response_common_size(r)) == -1)
		return (-1);
	hbuf_add(&hb, "HTTP/1.1 ", 9);
	hbuf_u64(&hb, status);
	hbuf_add(&hb, " ", 1);
	hbuf_str(&hb, reason);
	hbuf_add(&hb, "\r\n", 2);
	fields(r, &hb, arg);
	response_common_headers(r, &hb);
	hbuf_add(&hb, "\r\n", 2);
	if (hbuf_flush(&hb, io_get_output(r->r_conn->c_io)) == -1)
		return (-1);
	r->r_resp = RESP_HEAD;
	r->r_bytes_out += hb.len;
	return (0);
}

static void
response_own_fields(struct request *r, struct hbuf *hb, void *arg)
{
	const struct response_own	*ro = arg;

	if (ro->ro_extra != NULL)
		hbuf_str(hb, ro->ro_extra);
	if (ro->ro_ctype != NULL)
		hbuf_header(hb, "Content-Type", 12, ro->ro_ctype,
		    strlen(ro->ro_ctype));
	if (ro->ro_withlen) {
		hbuf_add(hb, "Content-Length: ", 16);
		hbuf_u64(hb, ro->ro_len);
		hbuf_add(hb, "\r\n", 2);
	}
}

/*
 * The head of a response the gateway makes: the given extra header
 * lines (each ending in CRLF, may be NULL), Content-Type,
 * Content-Length.  -1 on OOM.
 */
static int
response_own_head(struct request *r, int status, const char *extra,
    const char *ctype, size_t len, int withlen)
{
	struct response_own	 ro;

	ro.ro_extra = extra;
	ro.ro_ctype = ctype;
	ro.ro_len = len;
	ro.ro_withlen = withlen;
	return (response_head(r, status, (extra != NULL ? strlen(extra) : 0) +
	    (ctype != NULL ? strlen(ctype) : 0), response_own_fields, &ro));
}

/* The whole response is queued: finish the request if it can be. */
static void
response_done(struct request *r)
{
	struct conn	*c = r->r_conn;

	r->r_resp = RESP_DONE;
	/*
	 * Unread request body left on the wire would be taken for the next
	 * request: such a connection closes after the response.
	 */
	if (!r->r_body_done)
		c->c_close = 1;
	if (r->r_body_done || c->c_close)
		request_finalize(r, 0);
}

/*
 * A gateway-made error: the JSON body with a stable code.  If a response
 * is already under way the only honest signal left is closing.
 */
void
response_error(struct request *r, int status, const char *code,
    const char *msg)
{
	struct conn	*c = r->r_conn;
	struct evbuffer	*out = io_get_output(c->c_io);
	char		 body[1024], emsg[512], allow[128];
	int		 n;
	uint32_t	 allowed;
	size_t		 before;

	if (r->r_resp != RESP_NONE) {
		conn_close(c);
		return;
	}
	r->r_err_code = code;
	/* After these the byte stream cannot be trusted for another request. */
	if (status == 400 || status == 408 || status == 413 ||
	    status == 431 || status == 501 || status == 505)
		c->c_close = 1;
	if (!r->r_body_done)
		c->c_close = 1;
	util_json_escape(emsg, sizeof(emsg), msg, strlen(msg));
	n = snprintf(body, sizeof(body),
	    "{\"error\":{\"status\":%d,\"code\":\"%s\",\"message\":%s,"
	    "\"request_id\":\"%s\"}}\n", status, code, emsg, r->r_id);
	if (n < 0 || (size_t)n >= sizeof(body))
		n = 0;
	allow[0] = '\0';
	if (status == 405) {
		/* Allow: lists what the matched resource takes. */
		allowed = r->r_route.rm_allowed;
		strlcat_allow(allow, sizeof(allow), allowed);
	}
	if (response_own_head(r, status, allow[0] != '\0' ? allow : NULL,
	    "application/json", n, 1) == -1) {
		conn_close(c);
		return;
	}
	before = evbuffer_get_length(out);
	if (r->r_method != CONF_M_HEAD)
		evbuffer_add(out, body, n);
	r->r_bytes_out += evbuffer_get_length(out) - before;
	response_done(r);
}

/* "Allow: GET, HEAD\r\n" from a method bit set. */
static void
strlcat_allow(char *buf, size_t len, uint32_t allowed)
{
	size_t	 o;
	int	 i, first = 1;

	o = snprintf(buf, len, "Allow: ");
	for (i = 0; i < CONF_M_MAX && o < len; i++) {
		if (!(allowed & (1u << i)))
			continue;
		o += snprintf(buf + o, len - o, "%s%s", first ? "" : ", ",
		    method_name(i));
		first = 0;
	}
	if (o < len)
		snprintf(buf + o, len - o, "\r\n");
}

/* A small complete response made by the gateway (/health, /status). */
void
response_simple(struct request *r, int status, const char *ctype,
    const char *body, size_t len)
{
	struct evbuffer	*out = io_get_output(r->r_conn->c_io);
	size_t		 before;

	if (response_own_head(r, status, NULL, ctype, len, 1) == -1) {
		conn_close(r->r_conn);
		return;
	}
	before = evbuffer_get_length(out);
	if (r->r_method != CONF_M_HEAD)
		evbuffer_add(out, body, len);
	r->r_bytes_out += evbuffer_get_length(out) - before;
	response_done(r);
}

/* A mock endpoint: fixed status, headers and body from the config. */
void
response_mock(struct request *r, const struct conf_endpoints *ep)
{
	struct evbuffer	*out = io_get_output(r->r_conn->c_io);
	size_t		 before, i, n, o;
	char		*extra;
	int		 nobody;

	nobody = ep->ep_mock_status == 204 || ep->ep_mock_status == 304 ||
	    ep->ep_mock_status < 200;
	for (i = 0, n = 1; i < ep->ep_nmock_headers; i++)
		n += strlen(ep->ep_mock_headers[i].h_name) +
		    strlen(ep->ep_mock_headers[i].h_value) + 4;
	if ((extra = pool_alloc(r->r_pool, n)) == NULL) {
		conn_close(r->r_conn);
		return;
	}
	for (i = 0, o = 0; i < ep->ep_nmock_headers; i++)
		o += snprintf(extra + o, n - o, "%s: %s\r\n",
		    ep->ep_mock_headers[i].h_name,
		    ep->ep_mock_headers[i].h_value);
	extra[o] = '\0';
	if (response_own_head(r, ep->ep_mock_status, extra, NULL,
	    ep->ep_mock_bodylen, !nobody) == -1) {
		conn_close(r->r_conn);
		return;
	}
	before = evbuffer_get_length(out);
	if (!nobody && r->r_method != CONF_M_HEAD)
		evbuffer_add(out, ep->ep_mock_body, ep->ep_mock_bodylen);
	r->r_bytes_out += evbuffer_get_length(out) - before;
	response_done(r);
}

/* Count a finished request in this worker's statistics slot. */
void
response_count(struct request *r)
{
	struct stats_slot	*st = wenv->we_stats;
	int			 cls;

	if (st == NULL)
		return;
	atomic_fetch_add_explicit(&st->st_requests, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&st->st_bytes_in, r->r_bytes_in,
	    memory_order_relaxed);
	atomic_fetch_add_explicit(&st->st_bytes_out, r->r_bytes_out,
	    memory_order_relaxed);
	cls = r->r_status / 100 - 1;
	if (cls >= 0 && cls < STATS_NSTATUS)
		atomic_fetch_add_explicit(&st->st_status[cls], 1,
		    memory_order_relaxed);
	metrics_request(r);
}
