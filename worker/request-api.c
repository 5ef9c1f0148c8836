/*
 * request-api.c: the host side of the request accessors of mgw/plugin.h.
 * Plugins see an opaque struct mgw_request; here, in the worker, it is
 * our struct request, and the accessors read and change it for them.
 * Worker only, from its event loop.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "lib.h"
#include "conf-t.h"
#include "worker.h"
#include <mgw/plugin.h>


const char *
mgw_request_method(struct mgw_request *mr)
{
	struct request	*r = (struct request *)mr;

	return (r->r_method_name != NULL ? r->r_method_name : "-");
}

const char *
mgw_request_uri(struct mgw_request *mr, size_t *len)
{
	struct request	*r = (struct request *)mr;

	*len = r->r_urllen;
	return (r->r_url != NULL ? r->r_url : "");
}

const char *
mgw_request_log_uri(struct mgw_request *mr, size_t *len)
{
	struct request	*r = (struct request *)mr;
	const char	*name = wenv->we_conf->c_log_redact;
	const char	*u = r->r_url, *q, *p, *end, *amp, *eq;
	char		*out, *o;
	size_t		 nlen;

	*len = r->r_urllen;
	if (u == NULL)
		return ("");
	if (name == NULL || (q = memchr(u, '?', r->r_urllen)) == NULL)
		return (u);
	nlen = strlen(name);
	end = u + r->r_urllen;
	/* "REDACTED" may be longer than what it hides. */
	if ((out = pool_alloc(r->r_pool, r->r_urllen * 2 + 16)) == NULL)
		return (u);
	memcpy(out, u, q + 1 - u);
	o = out + (q + 1 - u);
	for (p = q + 1; p < end; p = amp + 1) {
		if ((amp = memchr(p, '&', end - p)) == NULL)
			amp = end;
		eq = memchr(p, '=', amp - p);
		if (eq != NULL && (size_t)(eq - p) == nlen &&
		    memcmp(p, name, nlen) == 0) {
			memcpy(o, p, nlen + 1);
			o += nlen + 1;
			memcpy(o, "REDACTED", 8);
			o += 8;
		} else {
			memcpy(o, p, amp - p);
			o += amp - p;
		}
		if (amp < end)
			*o++ = '&';
		if (amp == end)
			break;
	}
	*len = o - out;
	return (out);
}

const char *
mgw_request_query(struct mgw_request *mr, size_t *len)
{
	struct request	*r = (struct request *)mr;

	*len = r->r_query != NULL ? r->r_querylen : 0;
	return (r->r_query);
}

int
mgw_request_set_query(struct mgw_request *mr, const char *q, size_t len)
{
	struct request	*r = (struct request *)mr;
	char		*p;

	if (q == NULL || len == 0) {
		r->r_query = NULL;
		r->r_querylen = 0;
		return (0);
	}
	if ((p = pool_alloc(r->r_pool, len + 1)) == NULL)
		return (-1);
	memcpy(p, q, len);
	p[len] = '\0';
	r->r_query = p;
	r->r_querylen = len;
	return (0);
}

const char *
mgw_request_path(struct mgw_request *mr, size_t *len)
{
	struct request	*r = (struct request *)mr;

	*len = r->r_pathlen;
	return (r->r_path != NULL ? r->r_path : "");
}

int
mgw_request_http_minor(struct mgw_request *mr)
{
	return (((struct request *)mr)->r_minor);
}

const char *
mgw_request_header(struct mgw_request *mr, const char *name, size_t *len)
{
	return (http_header_find(&((struct request *)mr)->r_head, name, len));
}

static int
request_header_push(struct request *r, struct http_header **arr, int *n,
    const char *name, const char *value, size_t vlen)
{
	struct http_header	*a;
	size_t			 nl = strlen(name);
	int			 i;

	for (i = 0; i < *n; i++) {
		if ((*arr)[i].namelen == nl &&
		    strncasecmp((*arr)[i].name, name, nl) == 0 &&
		    arr == &r->r_set)
			break;
	}
	if (i == *n) {
		if (*n % 8 == 0) {
			if ((a = pool_alloc(r->r_pool, (*n + 8) *
			    sizeof(*a))) == NULL)
				return (-1);
			if (*n > 0)
				memcpy(a, *arr, *n * sizeof(*a));
			*arr = a;
		}
		(*n)++;
		if (((*arr)[i].name = pool_strndup(r->r_pool, name, nl)) ==
		    NULL)
			return (-1);
		(*arr)[i].namelen = nl;
	}
	/* A NULL value removes the header (request headers only). */
	if (value == NULL && arr == &r->r_set) {
		(*arr)[i].value = NULL;
		(*arr)[i].valuelen = 0;
		return (0);
	}
	if (value == NULL)
		return (-1);
	if (((*arr)[i].value = pool_strndup(r->r_pool, value, vlen)) == NULL)
		return (-1);
	(*arr)[i].valuelen = vlen;
	return (0);
}

int
mgw_request_set_header(struct mgw_request *mr, const char *name,
    const char *value, size_t vlen)
{
	struct request	*r = (struct request *)mr;

	return (request_header_push(r, &r->r_set, &r->r_nset, name, value,
	    vlen));
}

int
mgw_response_add_header(struct mgw_request *mr, const char *name,
    const char *value)
{
	struct request	*r = (struct request *)mr;

	return (request_header_push(r, &r->r_add, &r->r_nadd, name, value,
	    strlen(value)));
}

int
mgw_response_add_lines(struct mgw_request *mr, const char *lines, size_t len)
{
	struct request	*r = (struct request *)mr;
	char		*n;

	if (len == 0)
		return (0);
	if ((n = pool_alloc(r->r_pool, r->r_lineslen + len)) == NULL)
		return (-1);
	if (r->r_lineslen > 0)
		memcpy(n, r->r_lines, r->r_lineslen);
	memcpy(n + r->r_lineslen, lines, len);
	r->r_lines = n;
	r->r_lineslen += len;
	return (0);
}

const char *
mgw_request_client_addr(struct mgw_request *mr)
{
	return (((struct request *)mr)->r_conn->c_peer_text);
}

const char *
mgw_request_id(struct mgw_request *mr)
{
	return (((struct request *)mr)->r_id);
}

int
mgw_request_set_id(struct mgw_request *mr, const char *id, size_t len)
{
	struct request	*r = (struct request *)mr;

	if (len > REQUEST_ID_MAX)
		return (-1);
	memcpy(r->r_id, id, len);
	r->r_id[len] = '\0';
	return (0);
}

const char *
mgw_request_api(struct mgw_request *mr)
{
	struct request	*r = (struct request *)mr;

	return (r->r_route.rm_api != NULL ? r->r_route.rm_api->a_name : NULL);
}

int
mgw_request_api_index(struct mgw_request *mr)
{
	struct request	*r = (struct request *)mr;

	return (r->r_route.rm_api != NULL ? r->r_route.rm_api->a_index : -1);
}

int
mgw_request_resource_index(struct mgw_request *mr)
{
	struct request	*r = (struct request *)mr;

	return (r->r_route.rm_resource != NULL ?
	    r->r_route.rm_resource->r_index : -1);
}

/*
 * Walk X-Forwarded-For from the right, skipping the addresses of trusted
 * proxies: the first other one is the client.  A client cannot forge its
 * way past a proxy it does not control.
 */
const char *
mgw_request_client_ip(struct mgw_request *mr)
{
	struct request		*r = (struct request *)mr;
	const struct mgw_conf	*conf = wenv->we_conf;
	struct http_head	*h = &r->r_head;
	struct sockaddr_storage	 ss;
	char			 addr[64];
	const char		*v, *s, *e;
	size_t			 len, n;
	int			 k;

	if (r->r_client_ip != NULL)
		return (r->r_client_ip);
	r->r_client_ip = r->r_conn->c_peer_text;
	if (conf->c_gateway.ntrusted_proxies == 0 ||
	    !cidr_match(conf->c_gateway.trusted,
	    conf->c_gateway.ntrusted_proxies,
	    (struct sockaddr *)&r->r_conn->c_peer))
		return (r->r_client_ip);
	for (k = h->nhdr - 1; k >= 0; k--) {
		if (h->hdr[k].namelen != 15 || strncasecmp(h->hdr[k].name,
		    "x-forwarded-for", 15) != 0 || h->hdr[k].value == NULL)
			continue;
		v = h->hdr[k].value;
		len = h->hdr[k].valuelen;
		e = v + len;
		for (;;) {
			/* The element [s, e), right to left. */
			s = e;
			while (s > v && s[-1] != ',')
				s--;
			n = e - s;
			while (n > 0 && (*s == ' ' || *s == '\t')) {
				s++;
				n--;
			}
			while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
				n--;
			if (e == v || (s == v && n == 0))
				break;
			e = s;
			while (e > v && e[-1] != ',')
				e--;
			e = e > v ? e - 1 : v;
			if (n == 0 || n >= sizeof(addr)) {
				if (e == v)
					break;
				continue;
			}
			memcpy(addr, s, n);
			addr[n] = '\0';
			memset(&ss, 0, sizeof(ss));
			if (inet_pton(AF_INET, addr,
			    &((struct sockaddr_in *)&ss)->sin_addr) == 1)
				ss.ss_family = AF_INET;
			else if (inet_pton(AF_INET6, addr,
			    &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1)
				ss.ss_family = AF_INET6;
			else
				return (r->r_client_ip);	/* garbage: stop */
			if (cidr_match(conf->c_gateway.trusted,
			    conf->c_gateway.ntrusted_proxies,
			    (struct sockaddr *)&ss)) {
				if (e == v)
					break;
				continue;
			}
			if ((r->r_client_ip = pool_strndup(r->r_pool, addr,
			    n)) == NULL)
				r->r_client_ip = r->r_conn->c_peer_text;
			return (r->r_client_ip);
		}
	}
	return (r->r_client_ip);
}

const char *
mgw_request_consumer(struct mgw_request *mr)
{
	return (((struct request *)mr)->r_consumer);
}

int
mgw_request_set_consumer(struct mgw_request *mr, const char *name)
{
	struct request	*r = (struct request *)mr;
	char		*c;

	if ((c = pool_strndup(r->r_pool, name, strlen(name))) == NULL)
		return (-1);
	r->r_consumer = c;
	return (0);
}

void **
mgw_request_ctx(struct mgw_request *mr, const void *key)
{
	struct request		*r = (struct request *)mr;
	struct plugin_set	*ps = wenv->we_plugins;
	size_t			 i;

	if (r->r_ctx == NULL) {
		if ((r->r_ctx = pool_alloc(r->r_pool, (ps->ps_n + 1) *
		    sizeof(void *))) == NULL)
			return (NULL);
		memset(r->r_ctx, 0, (ps->ps_n + 1) * sizeof(void *));
	}
	for (i = 0; i < ps->ps_n; i++)
		if (ps->ps_inst[i].pi_state == key)
			return (&r->r_ctx[i]);
	return (&r->r_ctx[ps->ps_n]);
}

int
mgw_debug_hooks(void)
{
	return (wenv->we_debug_hooks);
}

int
mgw_response_status(struct mgw_request *mr)
{
	return (((struct request *)mr)->r_status);
}

uint64_t
mgw_request_bytes_in(struct mgw_request *mr)
{
	return (((struct request *)mr)->r_bytes_in);
}

uint64_t
mgw_response_bytes_out(struct mgw_request *mr)
{
	return (((struct request *)mr)->r_bytes_out);
}

uint64_t
mgw_request_start_ms(struct mgw_request *mr)
{
	return (((struct request *)mr)->r_start_wall_ms);
}

uint64_t
mgw_request_duration_us(struct mgw_request *mr)
{
	struct request	*r = (struct request *)mr;
	struct timespec	 ts;
	uint64_t	 end = r->r_end_us;

	if (end == 0) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		end = (uint64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
	}
	return (end > r->r_start_us ? end - r->r_start_us : 0);
}

const char *
mgw_request_upstream(struct mgw_request *mr)
{
	return (((struct request *)mr)->r_upstream_name);
}

void *
mgw_request_pool_alloc(struct mgw_request *mr, size_t size)
{
	return (pool_alloc(((struct request *)mr)->r_pool, size));
}

int
mgw_respond_error(struct mgw_request *mr, int status, const char *code,
    const char *msg)
{
	struct request	*r = (struct request *)mr;

	/*
	 * A plugin that suspended the request answers it before it calls
	 * mgw_request_resume(MGW_DONE).  Answering now could finish the
	 * request, and free it with its connection, while the plugin still
	 * holds it; the answer is sent by the resume instead.
	 */
	if (r->r_state == REQ_SUSPENDED) {
		if (r->r_pend_status == 0) {
			r->r_pend_status = status;
			r->r_pend_code = pool_strndup(r->r_pool, code,
			    strlen(code));
			r->r_pend_msg = pool_strndup(r->r_pool, msg,
			    strlen(msg));
		}
		return (MGW_DONE);
	}
	response_error(r, status, code, msg);
	return (MGW_DONE);
}

struct event_base *
mgw_event_base(void)
{
	return (wenv != NULL ? wenv->we_base : NULL);
}

const char *
mgw_request_api_version(struct mgw_request *mr)
{
	struct request	*r = (struct request *)mr;

	return (r->r_route.rm_api != NULL ? r->r_route.rm_api->a_version :
	    NULL);
}

const char *
mgw_request_resource_path(struct mgw_request *mr)
{
	struct request	*r = (struct request *)mr;

	return (r->r_route.rm_resource != NULL ?
	    r->r_route.rm_resource->r_path : NULL);
}

int
mgw_request_listener(struct mgw_request *mr)
{
	return (((struct request *)mr)->r_conn->c_lidx);
}

const char *
mgw_request_user_agent(struct mgw_request *mr, size_t *len)
{
	return (mgw_request_header(mr, "User-Agent", len));
}

uint64_t
mgw_request_upstream_us(struct mgw_request *mr)
{
	struct request	*r = (struct request *)mr;
	uint64_t	 end;

	if (r->r_up_start_us == 0)
		return (0);
	end = r->r_up_end_us != 0 ? r->r_up_end_us :
	    r->r_end_us != 0 ? r->r_end_us : http_now_us();
	return (end > r->r_up_start_us ? end - r->r_up_start_us : 0);
}

const char *
mgw_request_error_code(struct mgw_request *mr)
{
	return (((struct request *)mr)->r_err_code);
}

void
mgw_request_set_reason(struct mgw_request *mr, const char *reason)
{
	((struct request *)mr)->r_reason = reason;
}

const char *
mgw_request_reason(struct mgw_request *mr)
{
	return (((struct request *)mr)->r_reason);
}

void
mgw_request_set_tier(struct mgw_request *mr, const char *tier)
{
	((struct request *)mr)->r_tier = tier;
}

const char *
mgw_request_tier(struct mgw_request *mr)
{
	return (((struct request *)mr)->r_tier);
}

void
mgw_request_set_key_type(struct mgw_request *mr, const char *type)
{
	((struct request *)mr)->r_key_type = type;
}

const char *
mgw_request_key_type(struct mgw_request *mr)
{
	struct request	*r = (struct request *)mr;

	return (r->r_key_type != NULL ? r->r_key_type : "PRODUCTION");
}
