/*
 * worker.h: a worker process: its event loop, connections, HTTP parsing,
 * routing and the upstream side.
 */
#ifndef MGW_WORKER_H
#define MGW_WORKER_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "conf-t.h"

/* path.c */
/*
 * Normalise the path part of a request target for routing: decode
 * percent-escapes, collapse "//", resolve "." and "..".  Returns the
 * length written to out (at most inlen + 1 bytes, always starting with
 * '/'), or -1 if the path is invalid: a bad escape, an encoded NUL or '/',
 * a control byte, or ".." above the root.
 */
ssize_t	path_normalize(const char *, size_t, char *);
/*
 * Re-encode a normalised path for the upstream request line: bytes
 * outside RFC 3986 pchar and '/' become %XX.  Returns the length written
 * to out (needs 3 * inlen bytes).
 */
size_t	path_encode(const char *, size_t, char *);

/* route.c */
enum route_result {
	ROUTE_OK = 0,
	ROUTE_NOT_FOUND,	/* 404 */
	ROUTE_BAD_METHOD	/* 405, allowed methods set */
};
struct route_match {
	const struct conf_api		*rm_api;
	const struct conf_resource	*rm_resource;	/* NULL: API has none */
	size_t				 rm_rest;	/* offset of the path after base_path */
	uint32_t			 rm_allowed;	/* for 405: method bits */
};
struct router;
/*
 * Build the routing trie for conf: APIs by base path (longest wins, at a
 * segment boundary), then resources by path template ("/pet/{id}",
 * trailing "/*") and method.  Literal segments beat "{param}", which beats
 * "*".  NULL with *cause on a conflict (two APIs with one base path).
 */
struct router	*route_build(const struct mgw_conf *, char **);
void		 route_free(struct router *);
/* path: normalised; method: enum conf_method or -1 for an unknown one */
enum route_result route_match(const struct router *, const char *, size_t,
		    int, struct route_match *);

#endif /* MGW_WORKER_H */
