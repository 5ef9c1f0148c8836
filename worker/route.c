/*
 * route.c: map a normalised request path and method to an API and one of
 * its resources.
 *
 * The router is two kinds of segment trie kept in one array of nodes.  The
 * API trie is keyed by the segments of each API's base path; below every
 * node that ends a base path hangs that API's resource trie, keyed by the
 * segments of its path templates.  Literal children of every node live in
 * one open-addressing hash table keyed by (parent, segment), so a lookup
 * costs one hash per request segment however many APIs are configured.  A
 * "{param}" child and a final "*" child are plain links on the node.
 *
 * The router is built once per generation, by the master for "mgwd -n" and
 * by each worker at start, and is immutable afterwards: route_match() only
 * reads it and never allocates.  It points into the struct mgw_conf it was
 * built from (segments, APIs, resources), so that conf must outlive it.
 */
#include "config.h"

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib.h"
#include "worker.h"

#define ROUTE_NONE	0	/* node index 0 is never used */
#define ROUTE_MAXNODES	(UINT32_MAX / 4)

struct route_node {
	const char		*n_seg;		/* literal, not NUL-ended */
	size_t			 n_seglen;
	uint32_t		 n_parent;
	uint32_t		 n_param;	/* "{name}" child */
	uint32_t		 n_wild;	/* final "*" child */
	uint32_t		 n_res;		/* API trie: resource root */
	const struct conf_api	*n_api;		/* base path ends here */
	uint32_t		 n_methods;	/* of resources ending here */
	/* the resource serving each method, NULL if none */
	const struct conf_resource *n_resource[CONF_M_MAX];
};

struct route_slot {
	uint32_t		 s_hash;
	uint32_t		 s_node;	/* ROUTE_NONE: empty */
};

struct router {
	struct route_node	*rt_nodes;
	uint32_t		 rt_nnodes;
	uint32_t		 rt_maxnodes;
	struct route_slot	*rt_slots;
	uint32_t		 rt_mask;	/* slots - 1, a power of 2 */
	uint32_t		 rt_root;	/* API trie root, "/" */
};

static const char *const route_method_names[CONF_M_MAX] = {
	[CONF_M_GET] = "GET",
	[CONF_M_HEAD] = "HEAD",
	[CONF_M_POST] = "POST",
	[CONF_M_PUT] = "PUT",
	[CONF_M_DELETE] = "DELETE",
	[CONF_M_PATCH] = "PATCH",
	[CONF_M_OPTIONS] = "OPTIONS"
};

static size_t	 route_count_segments(const char *);
static uint32_t	 route_hash(uint32_t, const char *, size_t);
static uint32_t	 route_node_new(struct router *, uint32_t, const char *,
		    size_t);
static uint32_t	 route_child_find(const struct router *, uint32_t,
		    const char *, size_t);
static uint32_t	 route_child_add(struct router *, uint32_t, const char *,
		    size_t);
static int	 route_add_api(struct router *, const struct conf_api *,
		    uint32_t *, char **);
static int	 route_add_resource(struct router *, uint32_t,
		    const struct conf_api *, const struct conf_resource *,
		    char **);
static uint32_t	 route_res_find(const struct router *, uint32_t,
		    const char *, size_t, size_t);
static uint32_t	 route_allowed(const struct route_node *);

/* An upper bound on the nodes a path adds: one per '/'. */
static size_t
route_count_segments(const char *path)
{
	size_t	n;

	for (n = 0; *path != '\0'; path++)
		if (*path == '/')
			n++;
	return (n);
}

/*
 * FNV-1a over the segment, seeded with the parent so that equal segments
 * under different parents spread over the table.  The keys are fixed by
 * the configuration, so a client cannot lengthen the probe chains; it can
 * only probe them.
 */
static uint32_t
route_hash(uint32_t parent, const char *seg, size_t len)
{
	uint32_t	h;
	size_t		i;

	h = 2166136261u ^ (parent * 2654435761u);
	for (i = 0; i < len; i++) {
		h ^= (unsigned char)seg[i];
		h *= 16777619u;
	}
	return (h);
}

static uint32_t
route_node_new(struct router *rt, uint32_t parent, const char *seg,
    size_t len)
{
	struct route_node	*n;
	uint32_t		 id;

	/* route_build() sized the array from the same segment count. */
	if (rt->rt_nnodes == rt->rt_maxnodes)
		fatalx("%s: node array overflow", __func__);
	id = rt->rt_nnodes++;
	n = &rt->rt_nodes[id];
	n->n_seg = seg;
	n->n_seglen = len;
	n->n_parent = parent;
	return (id);
}

static uint32_t
route_child_find(const struct router *rt, uint32_t parent, const char *seg,
    size_t len)
{
	const struct route_slot	*s;
	const struct route_node	*n;
	uint32_t		 h, i;

	h = route_hash(parent, seg, len);
	for (i = h & rt->rt_mask;; i = (i + 1) & rt->rt_mask) {
		s = &rt->rt_slots[i];
		if (s->s_node == ROUTE_NONE)
			return (ROUTE_NONE);
		if (s->s_hash != h)
			continue;
		n = &rt->rt_nodes[s->s_node];
		if (n->n_parent == parent && n->n_seglen == len &&
		    memcmp(n->n_seg, seg, len) == 0)
			return (s->s_node);
	}
}

/* Find or create the literal child seg of parent. */
static uint32_t
route_child_add(struct router *rt, uint32_t parent, const char *seg,
    size_t len)
{
	uint32_t	h, i, id;

	if ((id = route_child_find(rt, parent, seg, len)) != ROUTE_NONE)
		return (id);
	id = route_node_new(rt, parent, seg, len);
	/*
	 * The table has at least twice as many slots as nodes, so the probe
	 * ends at an empty slot.
	 */
	h = route_hash(parent, seg, len);
	for (i = h & rt->rt_mask; rt->rt_slots[i].s_node != ROUTE_NONE;
	    i = (i + 1) & rt->rt_mask)
		;
	rt->rt_slots[i].s_hash = h;
	rt->rt_slots[i].s_node = id;
	return (id);
}

/*
 * Add the base path of api to the API trie and give it an empty resource
 * trie, whose root goes to *resp.
 */
static int
route_add_api(struct router *rt, const struct conf_api *api, uint32_t *resp,
    char **cause)
{
	const char		*bp = api->a_base_path, *seg, *end;
	struct route_node	*n;
	char			*norm;
	ssize_t			 len;
	uint32_t		 id;
	size_t			 bplen;

	/*
	 * The loader promises a normalised base path without a trailing
	 * '/'.  Check it: one that cannot match a normalised request path
	 * would silently be dead.
	 */
	if (bp == NULL || (bplen = strlen(bp)) == 0)
		goto bad;
	norm = xmalloc(bplen + 1);
	len = path_normalize(bp, bplen, norm);
	if (len == -1 || (size_t)len != bplen || memcmp(norm, bp, bplen) != 0 ||
	    (bplen > 1 && bp[bplen - 1] == '/')) {
		free(norm);
		goto bad;
	}
	free(norm);

	id = rt->rt_root;
	for (seg = bp + 1; *seg != '\0'; seg = end + (*end == '/')) {
		end = strchr(seg, '/');
		if (end == NULL)
			end = seg + strlen(seg);
		id = route_child_add(rt, id, seg, (size_t)(end - seg));
	}
	n = &rt->rt_nodes[id];
	if (n->n_api != NULL) {
		xasprintf(cause, "duplicate base path %s (apis %s and %s)", bp,
		    n->n_api->a_name, api->a_name);
		return (-1);
	}
	n->n_api = api;
	n->n_res = route_node_new(rt, ROUTE_NONE, "", 0);
	*resp = n->n_res;
	return (0);

bad:
	xasprintf(cause, "api %s: base path %s is not normalised", api->a_name,
	    bp == NULL ? "(null)" : bp);
	return (-1);
}

/*
 * Add one resource template under the resource root res.  Parameter names
 * do not take part in matching, so "/pet/{id}" and "/pet/{petId}" are one
 * template and their methods are unioned; a method given twice for one
 * template is an error because only one resource could ever serve it.
 */
static int
route_add_resource(struct router *rt, uint32_t res,
    const struct conf_api *api, const struct conf_resource *r, char **cause)
{
	const char		*t = r->r_path, *seg, *end;
	struct route_node	*n;
	uint32_t		 id, dup;
	size_t			 len;
	int			 m;

	if (t == NULL || t[0] != '/') {
		xasprintf(cause, "api %s: resource path %s must start with '/'",
		    api->a_name, t == NULL ? "(null)" : t);
		return (-1);
	}
	if ((r->r_methods & CONF_M_ALL) == 0) {
		xasprintf(cause, "api %s: resource %s has no methods",
		    api->a_name, t);
		return (-1);
	}

	id = res;
	for (seg = t + 1; *seg != '\0'; seg = end + (*end == '/')) {
		end = strchr(seg, '/');
		if (end == NULL)
			end = seg + strlen(seg);
		len = (size_t)(end - seg);
		n = &rt->rt_nodes[id];
		if (len == 0)
			continue;	/* "//" or a trailing '/' */
		if (len == 1 && seg[0] == '*') {
			if (end[strspn(end, "/")] != '\0') {
				xasprintf(cause, "api %s: resource %s: '*' "
				    "must be the last segment", api->a_name, t);
				return (-1);
			}
			if (n->n_wild == ROUTE_NONE) {
				/* Not in the hash: only n_wild reaches it. */
				n->n_wild = route_node_new(rt, id, seg, len);
			}
			id = rt->rt_nodes[id].n_wild;
			continue;
		}
		if (memchr(seg, '{', len) != NULL ||
		    memchr(seg, '}', len) != NULL) {
			if (len < 3 || seg[0] != '{' || seg[len - 1] != '}' ||
			    memchr(seg + 1, '{', len - 2) != NULL ||
			    memchr(seg + 1, '}', len - 2) != NULL) {
				xasprintf(cause, "api %s: resource %s: a "
				    "parameter must be a whole segment "
				    "\"{name}\"", api->a_name, t);
				return (-1);
			}
			if (n->n_param == ROUTE_NONE)
				n->n_param = route_node_new(rt, id, seg, len);
			id = rt->rt_nodes[id].n_param;
			continue;
		}
		id = route_child_add(rt, id, seg, len);
	}

	n = &rt->rt_nodes[id];
	if ((dup = n->n_methods & r->r_methods & CONF_M_ALL) != 0) {
		for (m = 0; (dup & (1u << m)) == 0; m++)
			;
		xasprintf(cause, "api %s: duplicate resource %s %s",
		    api->a_name, route_method_names[m], t);
		return (-1);
	}
	n->n_methods |= r->r_methods & CONF_M_ALL;
	for (m = 0; m < CONF_M_MAX; m++)
		if (r->r_methods & (1u << m))
			n->n_resource[m] = r;
	return (0);
}

/*
 * Build the router for conf->c_apis.  Called once per generation (master
 * for a config test, each worker at start); allocates with xmalloc and so
 * dies on OOM.  Returns NULL with *cause set if two APIs share a base
 * path, a method is given twice for one template, or a base path or
 * template is malformed.  The router points into conf, which must outlive
 * it.
 */
struct router *
route_build(const struct mgw_conf *conf, char **cause)
{
	struct router		*rt;
	const struct conf_api	*api;
	size_t			 i, j, nodes, slots;
	uint32_t		 res;

	/* Count first so that nodes and slots are allocated once. */
	nodes = 2;	/* ROUTE_NONE and the API root */
	for (i = 0; i < conf->c_napis; i++) {
		api = &conf->c_apis[i];
		if (api->a_base_path != NULL)
			nodes += route_count_segments(api->a_base_path);
		nodes++;	/* resource root */
		for (j = 0; j < api->a_nresources; j++)
			if (api->a_resources[j].r_path != NULL)
				nodes += route_count_segments(
				    api->a_resources[j].r_path);
		if (nodes > ROUTE_MAXNODES) {
			xasprintf(cause, "too many routes");
			return (NULL);
		}
	}
	for (slots = 16; slots < nodes * 2; slots *= 2)
		;

	rt = xcalloc(1, sizeof(*rt));
	rt->rt_nodes = xcalloc(nodes, sizeof(*rt->rt_nodes));
	rt->rt_maxnodes = (uint32_t)nodes;
	rt->rt_slots = xcalloc(slots, sizeof(*rt->rt_slots));
	rt->rt_mask = (uint32_t)(slots - 1);
	rt->rt_nnodes = 1;	/* skip ROUTE_NONE */
	rt->rt_root = route_node_new(rt, ROUTE_NONE, "", 0);

	for (i = 0; i < conf->c_napis; i++) {
		api = &conf->c_apis[i];
		if (route_add_api(rt, api, &res, cause) == -1)
			goto fail;
		for (j = 0; j < api->a_nresources; j++)
			if (route_add_resource(rt, res, api,
			    &api->a_resources[j], cause) == -1)
				goto fail;
	}
	return (rt);

fail:
	route_free(rt);
	return (NULL);
}

/* Free a router from route_build().  NULL is a no-op. */
void
route_free(struct router *rt)
{
	if (rt == NULL)
		return;
	free(rt->rt_nodes);
	free(rt->rt_slots);
	free(rt);
}

/*
 * Find the most specific template node under n that matches the rest of
 * path from off, which is either the end or a '/'.  Per segment a literal
 * child is tried before "{param}", which is tried before a final "*"; a
 * subtree that does not match gives way to the next kind, so
 * "/a/{x}/c" still serves "/a/b/c" when "/a/b" is a template without
 * children "c".  The recursion is bounded by the depth of the templates,
 * not by the request.  Only nodes where a resource ends count as a match.
 */
static uint32_t
route_res_find(const struct router *rt, uint32_t id, const char *path,
    size_t len, size_t off)
{
	const struct route_node	*n = &rt->rt_nodes[id];
	const char		*seg, *end;
	uint32_t		 found, child;
	size_t			 seglen;

	/* "" and "/" end the path: "/pet/" is served by "/pet". */
	if (off == len || (off + 1 == len && path[off] == '/')) {
		if (n->n_methods != 0)
			return (id);
		/* A final "*" also matches zero segments. */
		if (n->n_wild != ROUTE_NONE &&
		    rt->rt_nodes[n->n_wild].n_methods != 0)
			return (n->n_wild);
		return (ROUTE_NONE);
	}

	seg = path + off + 1;
	end = memchr(seg, '/', len - off - 1);
	if (end == NULL)
		end = path + len;
	seglen = (size_t)(end - seg);

	child = route_child_find(rt, id, seg, seglen);
	if (child != ROUTE_NONE &&
	    (found = route_res_find(rt, child, path, len,
	    (size_t)(end - path))) != ROUTE_NONE)
		return (found);
	if (n->n_param != ROUTE_NONE && seglen > 0 &&
	    (found = route_res_find(rt, n->n_param, path, len,
	    (size_t)(end - path))) != ROUTE_NONE)
		return (found);
	if (n->n_wild != ROUTE_NONE &&
	    rt->rt_nodes[n->n_wild].n_methods != 0)
		return (n->n_wild);
	return (ROUTE_NONE);
}

/* The Allow set of a template node: HEAD goes wherever GET does. */
static uint32_t
route_allowed(const struct route_node *n)
{
	uint32_t	allowed = n->n_methods;

	if (allowed & (1u << CONF_M_GET))
		allowed |= 1u << CONF_M_HEAD;
	return (allowed);
}

/*
 * Route a normalised path (from path_normalize()) and a method, an enum
 * conf_method or -1 for one the gateway does not know.  Workers call it per
 * request; it reads only the immutable router and does not allocate.
 *
 * The API is the one with the longest base path that is a prefix of path
 * at a segment boundary.  That API owns its whole subtree: if none of its
 * resources matches, the answer is ROUTE_NOT_FOUND even when an API with a
 * shorter base path would have matched, so that adding an API never
 * changes which backend sees a path it does not serve.
 *
 * On ROUTE_OK, *m has the API, the resource (NULL when the API has none
 * and so takes every path and method), rm_rest, the offset in path where
 * the part after the base path starts ("" or "/..."), and rm_allowed.  On
 * ROUTE_BAD_METHOD (405) rm_allowed is the Allow set of the matched
 * template.  On ROUTE_NOT_FOUND rm_api is the owning API, if any.  An
 * unknown method is ROUTE_BAD_METHOD even for an API without resources:
 * "every method" means the methods mgw knows, and passing TRACE or CONNECT
 * through unchecked is not what an operator who listed none expects.
 */
enum route_result
route_match(const struct router *rt, const char *path, size_t len,
    int method, struct route_match *m)
{
	const struct route_node	*n, *best;
	const char		*seg, *end;
	uint32_t		 id, found;
	size_t			 off, rest;

	memset(m, 0, sizeof(*m));
	if (len == 0 || path[0] != '/')
		return (ROUTE_NOT_FOUND);
	if (method < -1 || method >= CONF_M_MAX)
		method = -1;

	/* Walk the API trie as far as the path goes; remember the last API. */
	id = rt->rt_root;
	n = &rt->rt_nodes[id];
	best = n->n_api != NULL ? n : NULL;
	rest = 0;
	off = 0;	/* at a '/' */
	while (off < len) {
		seg = path + off + 1;
		end = memchr(seg, '/', len - off - 1);
		if (end == NULL)
			end = path + len;
		if (end == seg)
			break;
		id = route_child_find(rt, id, seg, (size_t)(end - seg));
		if (id == ROUTE_NONE)
			break;
		n = &rt->rt_nodes[id];
		off = (size_t)(end - path);
		if (n->n_api != NULL) {
			best = n;
			rest = off;
		}
	}
	if (best == NULL)
		return (ROUTE_NOT_FOUND);
	/* The root API's remainder is the whole path. */
	m->rm_api = best->n_api;
	m->rm_rest = rest;

	if (best->n_api->a_nresources == 0) {
		m->rm_allowed = CONF_M_ALL;
		return (method == -1 ? ROUTE_BAD_METHOD : ROUTE_OK);
	}

	found = route_res_find(rt, best->n_res, path, len, rest);
	if (found == ROUTE_NONE)
		return (ROUTE_NOT_FOUND);
	n = &rt->rt_nodes[found];
	m->rm_allowed = route_allowed(n);
	if (method == -1)
		return (ROUTE_BAD_METHOD);
	if ((m->rm_resource = n->n_resource[method]) == NULL &&
	    method == CONF_M_HEAD)
		m->rm_resource = n->n_resource[CONF_M_GET];
	if (m->rm_resource == NULL)
		return (ROUTE_BAD_METHOD);
	return (ROUTE_OK);
}
