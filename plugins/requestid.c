/*
 * requestid.c: X-Request-Id.  A valid id from the client (1-128 of
 * [A-Za-z0-9._-]) is kept, anything else replaced by 32 hex digits; the
 * id goes upstream, into the response, into gateway error bodies and into
 * the error log's upstream messages.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/random.h>

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <mgw/plugin.h>

#define RID_MAX		128

static uint64_t	rid_state[2];

static int
requestid_valid(const char *v, size_t len)
{
	size_t	 i;

	if (len == 0 || len > RID_MAX)
		return (0);
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)v[i]) && v[i] != '-' &&
		    v[i] != '_' && v[i] != '.')
			return (0);
	return (1);
}

/* splitmix64: ids need uniqueness, not secrecy, and must be cheap. */
static uint64_t
requestid_next(uint64_t *s)
{
	uint64_t	 z;

	z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return (z ^ (z >> 31));
}

/* 16 lowercase hex digits of v, on the hot path: no printf. */
static void
requestid_hex(char *out, uint64_t v)
{
	static const char	 hex[] = "0123456789abcdef";
	int			 i;

	for (i = 15; i >= 0; i--) {
		out[i] = hex[v & 0xf];
		v >>= 4;
	}
}

static int
requestid_init_worker(void *state, char **cause)
{
	/* Seeded per worker so two workers never walk the same sequence. */
	if (getrandom(rid_state, sizeof(rid_state), 0) !=
	    (ssize_t)sizeof(rid_state)) {
		rid_state[0] = (uint64_t)getpid() << 32;
		rid_state[1] = (uint64_t)getpid();
	}
	return (MGW_OK);
}

static int
requestid_post_read(void *state, struct mgw_request *r)
{
	const char	*v;
	char		 id[33];
	size_t		 len;

	v = mgw_request_header(r, "X-Request-Id", &len);
	if (v == NULL || !requestid_valid(v, len)) {
		requestid_hex(id, requestid_next(&rid_state[0]));
		requestid_hex(id + 16, requestid_next(&rid_state[1]));
		id[32] = '\0';
		v = id;
		len = 32;
	}
	if (mgw_request_set_id(r, v, len) == -1 ||
	    mgw_request_set_header(r, "X-Request-Id", v, len) == -1)
		return (MGW_ERROR);
	return (MGW_OK);
}

static int
requestid_header_filter(void *state, struct mgw_request *r)
{
	const char	*id = mgw_request_id(r);

	if (id == NULL || *id == '\0')
		return (MGW_OK);
	return (mgw_response_add_header(r, "X-Request-Id", id) == -1 ?
	    MGW_ERROR : MGW_OK);
}

const struct mgw_plugin plugin_requestid = {
	.api = MGW_PLUGIN_API,
	.name = "request-id",
	.init_worker = requestid_init_worker,
	.post_read = requestid_post_read,
	.header_filter = requestid_header_filter,
};
