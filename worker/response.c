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
#include "master.h"
#include "shm.h"
#include "worker.h"
#include "plugin.h"

static void	response_head(struct request *, int, const char *, size_t,
		    struct evbuffer *);
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

/*
 * Headers on every response: Date, Server, those plugins added (the
 * request id among them), and Connection.  The header filter phase has run before.
 */
void
response_common_headers(struct request *r, struct evbuffer *out)
{
	struct conn	*c = r->r_conn;
	int		 i;

	evbuffer_add_printf(out, "Date: %s\r\nServer: mgw\r\n",
	    response_date());
	for (i = 0; i < r->r_nadd; i++)
		evbuffer_add_printf(out, "%.*s: %.*s\r\n",
		    (int)r->r_add[i].namelen, r->r_add[i].name,
		    (int)r->r_add[i].valuelen, r->r_add[i].value);
	if (c->c_close || r->r_resp_close)
		evbuffer_add(out, "Connection: close\r\n", 19);
	else if (r->r_minor == 0)
		evbuffer_add(out, "Connection: keep-alive\r\n", 24);
}

static void
response_head(struct request *r, int status, const char *ctype,
    size_t len, struct evbuffer *out)
{
	r->r_status = status;
	plugin_run_header_filter(r);
	evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\n", status,
	    response_reason(status));
	if (ctype != NULL)
		evbuffer_add_printf(out, "Content-Type: %s\r\n", ctype);
	evbuffer_add_printf(out, "Content-Length: %zu\r\n", len);
	response_common_headers(r, out);
}

/* The whole response is queued: finish the request if it can be. */
static void
response_done(struct request *r)
{
	struct conn	*c = r->r_conn;

	r->r_head_sent = 1;
	r->r_resp_done = 1;
	/*
	 * Unread request body left on the wire would be taken for the next
	 * request: such a connection closes after the response.
	 */
	if (!r->r_body_done)
		c->c_close = 1;
	if (r->r_body_done || c->c_close)
		http_request_finish(r);
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
	struct evbuffer	*out = bufferevent_get_output(c->c_bev);
	char		 body[1024], emsg[512];
	int		 n, i;
	uint32_t	 allowed;

	if (r->r_head_sent) {
		conn_close(c);
		return;
	}
	r->r_err_code = code;
	if (r->r_id[0] == '\0')
		(void)plugin_run_post_read(r);	/* an id for the error body */
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
	if (status == 405) {
		allowed = r->r_route.rm_allowed;
		evbuffer_add_printf(out, "HTTP/1.1 405 %s\r\nAllow: ",
		    response_reason(405));
		r->r_status = 405;
		plugin_run_header_filter(r);
		for (i = 0; i < CONF_M_MAX; i++) {
			if (allowed & (1u << i)) {
				evbuffer_add_printf(out, "%s%s",
				    (allowed & ((1u << i) - 1)) ? ", " : "",
				    conf_method_name(i));
			}
		}
		evbuffer_add_printf(out, "\r\nContent-Type: application/json"
		    "\r\nContent-Length: %d\r\n", n);
		response_common_headers(r, out);
	} else
		response_head(r, status, "application/json", n, out);
	evbuffer_add(out, "\r\n", 2);
	if (r->r_method != CONF_M_HEAD)
		evbuffer_add(out, body, n);
	r->r_bytes_out += evbuffer_get_length(out);
	response_done(r);
}

/* A small complete response made by the gateway (/health, /status). */
void
response_simple(struct request *r, int status, const char *ctype,
    const char *body, size_t len)
{
	struct evbuffer	*out = bufferevent_get_output(r->r_conn->c_bev);
	size_t		 before = evbuffer_get_length(out);

	response_head(r, status, ctype, len, out);
	evbuffer_add(out, "\r\n", 2);
	if (r->r_method != CONF_M_HEAD)
		evbuffer_add(out, body, len);
	r->r_bytes_out += evbuffer_get_length(out) - before;
	response_done(r);
}

/* A mock endpoint: fixed status, headers and body from the config. */
void
response_mock(struct request *r, const struct conf_endpoints *ep)
{
	struct evbuffer	*out = bufferevent_get_output(r->r_conn->c_bev);
	size_t		 i, before = evbuffer_get_length(out);
	int		 nobody;

	r->r_status = ep->ep_mock_status;
	plugin_run_header_filter(r);
	evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\n", ep->ep_mock_status,
	    response_reason(ep->ep_mock_status));
	for (i = 0; i < ep->ep_nmock_headers; i++)
		evbuffer_add_printf(out, "%s: %s\r\n",
		    ep->ep_mock_headers[i].h_name,
		    ep->ep_mock_headers[i].h_value);
	nobody = ep->ep_mock_status == 204 || ep->ep_mock_status == 304 ||
	    ep->ep_mock_status < 200;
	if (!nobody)
		evbuffer_add_printf(out, "Content-Length: %zu\r\n",
		    ep->ep_mock_bodylen);
	response_common_headers(r, out);
	evbuffer_add(out, "\r\n", 2);
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
}
