/*
 * test-route.c: route_build() and route_match() over configurations built
 * by hand, so that these tests do not depend on the config loader.
 */
#include "config.h"

#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "lib.h"
#include "worker.h"
#include "tests.h"

#define M(x)		(1u << CONF_M_ ## x)
#define NITEMS(a)	(sizeof(a) / sizeof((a)[0]))
#define NAPIS		5000

static void	 api_set(struct conf_api *, int, const char *, const char *,
		    struct conf_resource *, size_t);
static void	 res_index(struct conf_resource *, size_t);
static struct router *build(struct conf_api *, size_t);
static char	*build_fail(struct conf_api *, size_t);
static enum route_result match(const struct router *, const char *, int,
		    struct route_match *);

static void	test_route_longest(void);
static void	test_route_boundary(void);
static void	test_route_root(void);
static void	test_route_precedence(void);
static void	test_route_backtrack(void);
static void	test_route_method(void);
static void	test_route_head(void);
static void	test_route_trailing(void);
static void	test_route_unknown_method(void);
static void	test_route_noresources(void);
static void	test_route_nofallback(void);
static void	test_route_many(void);
static void	test_route_dup_base(void);
static void	test_route_dup_resource(void);
static void	test_route_bad_conf(void);
static void	test_route_empty(void);

static void
api_set(struct conf_api *a, int index, const char *name, const char *base,
    struct conf_resource *res, size_t nres)
{
	memset(a, 0, sizeof(*a));
	a->a_name = (char *)(uintptr_t)name;
	a->a_base_path = (char *)(uintptr_t)base;
	a->a_resources = res;
	a->a_nresources = nres;
	a->a_index = index;
	res_index(res, nres);
}

static void
res_index(struct conf_resource *res, size_t nres)
{
	size_t	i;

	for (i = 0; i < nres; i++)
		res[i].r_index = (int)i;
}

static struct router *
build(struct conf_api *apis, size_t napis)
{
	struct mgw_conf	 conf;
	struct router	*rt;
	char		*cause = NULL;

	memset(&conf, 0, sizeof(conf));
	conf.c_apis = apis;
	conf.c_napis = napis;
	rt = route_build(&conf, &cause);
	if (rt == NULL)
		fprintf(stderr, "\nroute_build: %s\n", cause);
	CU_ASSERT_PTR_NOT_NULL(rt);
	free(cause);
	return (rt);
}

/* Expect route_build() to fail; return its cause for the caller to free. */
static char *
build_fail(struct conf_api *apis, size_t napis)
{
	struct mgw_conf	 conf;
	struct router	*rt;
	char		*cause = NULL;

	memset(&conf, 0, sizeof(conf));
	conf.c_apis = apis;
	conf.c_napis = napis;
	rt = route_build(&conf, &cause);
	CU_ASSERT_PTR_NULL(rt);
	CU_ASSERT_PTR_NOT_NULL(cause);
	route_free(rt);
	return (cause);
}

static enum route_result
match(const struct router *rt, const char *path, int method,
    struct route_match *m)
{
	return (route_match(rt, path, strlen(path), method, m));
}

static void
test_route_longest(void)
{
	struct conf_api		 apis[4];
	struct router		*rt;
	struct route_match	 m;

	api_set(&apis[0], 0, "pet", "/pet", NULL, 0);
	api_set(&apis[1], 1, "petv2", "/pet/v2", NULL, 0);
	api_set(&apis[2], 2, "root", "/", NULL, 0);
	api_set(&apis[3], 3, "deep", "/pet/v2/a/b", NULL, 0);
	if ((rt = build(apis, NITEMS(apis))) == NULL)
		return;

	CU_ASSERT(match(rt, "/pet", CONF_M_GET, &m) == ROUTE_OK);
	CU_ASSERT(m.rm_api == &apis[0] && m.rm_rest == 4);
	CU_ASSERT(match(rt, "/pet/x", CONF_M_GET, &m) == ROUTE_OK);
	CU_ASSERT(m.rm_api == &apis[0] && m.rm_rest == 4);
	CU_ASSERT(match(rt, "/pet/v2", CONF_M_GET, &m) == ROUTE_OK);
	CU_ASSERT(m.rm_api == &apis[1] && m.rm_rest == 7);
	CU_ASSERT(match(rt, "/pet/v2/", CONF_M_GET, &m) == ROUTE_OK);
	CU_ASSERT(m.rm_api == &apis[1] && m.rm_rest == 7);
	CU_ASSERT(match(rt, "/pet/v2/y/z", CONF_M_GET, &m) == ROUTE_OK);
	CU_ASSERT(m.rm_api == &apis[1] && m.rm_rest == 7);
	/* A deeper base path whose middle is no API falls back along it. */
	CU_ASSERT(match(rt, "/pet/v2/a", CONF_M_GET, &m) == ROUTE_OK);
	CU_ASSERT(m.rm_api == &apis[1] && m.rm_rest == 7);
	CU_ASSERT(match(rt, "/pet/v2/a/b/c", CONF_M_GET, &m) == ROUTE_OK);
	CU_ASSERT(m.rm_api == &apis[3] && m.rm_rest == 11);
	CU_ASSERT(match(rt, "/pet/v3", CONF_M_GET, &m) == ROUTE_OK);
	CU_ASSERT(m.rm_api == &apis[0] && m.rm_rest == 4);
	CU_ASSERT(match(rt, "/other", CONF_M_GET, &m) == ROUTE_OK);
	CU_ASSERT(m.rm_api == &apis[2] && m.rm_rest == 0);
	route_free(rt);
}

static void
test_route_boundary(void)
{
	struct conf_api		 apis[2];
	struct router		*rt;
	struct route_match	 m;

	api_set(&apis[0], 0, "pet", "/pet", NULL, 0);
	api_set(&apis[1], 1, "petstore", "/petstore", NULL, 0);
	if ((rt = build(apis, NITEMS(apis))) == NULL)
		return;

	CU_ASSERT(match(rt, "/petstore", CONF_M_GET, &m) == ROUTE_OK);
	CU_ASSERT(m.rm_api == &apis[1]);
	CU_ASSERT(match(rt, "/petstore/a", CONF_M_GET, &m) == ROUTE_OK);
	CU_ASSERT(m.rm_api == &apis[1] && m.rm_rest == 9);
	CU_ASSERT(match(rt, "/pets", CONF_M_GET, &m) == ROUTE_NOT_FOUND);
	CU_ASSERT_PTR_NULL(m.rm_api);
	CU_ASSERT(match(rt, "/pe", CONF_M_GET, &m) == ROUTE_NOT_FOUND);
	CU_ASSERT(match(rt, "/", CONF_M_GET, &m) == ROUTE_NOT_FOUND);
	CU_ASSERT(match(rt, "/x/pet", CONF_M_GET, &m) == ROUTE_NOT_FOUND);
	/* Not normalised paths are never routed. */
	CU_ASSERT(route_match(rt, "", 0, CONF_M_GET, &m) == ROUTE_NOT_FOUND);
	CU_ASSERT(match(rt, "pet", CONF_M_GET, &m) == ROUTE_NOT_FOUND);
	/* The length is honoured, not the NUL. */
	CU_ASSERT(route_match(rt, "/petstore", 4, CONF_M_GET, &m) ==
	    ROUTE_OK);
	CU_ASSERT(m.rm_api == &apis[0] && m.rm_rest == 4);
	route_free(rt);
}

static void
test_route_root(void)
{
	struct conf_resource	 res[] = {
		{ .r_path = "/", .r_methods = M(GET) },
		{ .r_path = "/health", .r_methods = M(GET) },
	};
	struct conf_api		 apis[2];
	struct router		*rt;
	struct route_match	 m;

	api_set(&apis[0], 0, "root", "/", res, NITEMS(res));
	api_set(&apis[1], 1, "a", "/a", NULL, 0);
	if ((rt = build(apis, NITEMS(apis))) == NULL)
		return;

	CU_ASSERT(match(rt, "/", CONF_M_GET, &m) == ROUTE_OK);
	CU_ASSERT(m.rm_api == &apis[0] && m.rm_resource == &res[0]);
	CU_ASSERT(m.rm_rest == 0);
	CU_ASSERT(match(rt, "/health", CONF_M_GET, &m) == ROUTE_OK);
	CU_ASSERT(m.rm_resource == &res[1] && m.rm_rest == 0);
	CU_ASSERT(match(rt, "/health/", CONF_M_GET, &m) == ROUTE_OK);
	CU_ASSERT(m.rm_resource == &res[1]);
	CU_ASSERT(match(rt, "/x", CONF_M_GET, &m) == ROUTE_NOT_FOUND);
	CU_ASSERT(m.rm_api == &apis[0] && m.rm_resource == NULL);
	CU_ASSERT(match(rt, "/a/health", CONF_M_GET, &m) == ROUTE_OK);
	CU_ASSERT(m.rm_api == &apis[1] && m.rm_resource == NULL);
	CU_ASSERT(m.rm_rest == 2);
	route_free(rt);
}

static void
test_route_precedence(void)
{
	struct conf_resource	 res[] = {
		{ .r_path = "/a/*", .r_methods = M(GET) },
		{ .r_path = "/a/{x}", .r_methods = M(GET) },
		{ .r_path = "/a/b", .r_methods = M(GET) },
		{ .r_path = "/a/{x}/c", .r_methods = M(GET) },
		{ .r_path = "/public/*", .r_methods = M(GET) },
		{ .r_path = "/*", .r_methods = M(POST) },
	};
	struct conf_api		 api;
	struct router		*rt;
	struct route_match	 m;

	api_set(&api, 0, "p", "/p", res, NITEMS(res));
	if ((rt = build(&api, 1)) == NULL)
		return;

	CU_ASSERT(match(rt, "/p/a/b", CONF_M_GET, &m) == ROUTE_OK);
	CU_ASSERT(m.rm_resource == &res[2]);
	CU_ASSERT(match(rt, "/p/a/c", CONF_M_GET, &m) == ROUTE_OK);
	CU_ASSERT(m.rm_resource == &res[1]);
	CU_ASSERT(match(rt, "/p/a/c/", CONF_M_GET, &m) == ROUTE_OK);
	CU_ASSERT(m.rm_resource == &res[1]);
	CU_ASSERT(match(rt, "/p/a/c/d", CONF_M_GET, &m) == ROUTE_OK);
	CU_ASSERT(m.rm_resource == &res[0]);
	CU_ASSERT(match(rt, "/p/a/c/c", CONF_M_GET, &m) == ROUTE_OK);
	CU_ASSERT(m.rm_resource == &res[3]);
	/* The literal "b" has no child "c", so "{x}" takes over. */
	CU_ASSERT(match(rt, "/p/a/b/c", CONF_M_GET, &m) == ROUTE_OK);
	CU_ASSERT(m.rm_resource == &res[3]);
	CU_ASSERT(match(rt, "/p/a/b/d", CONF_M_GET, &m) == ROUTE_OK);
	CU_ASSERT(m.rm_resource == &res[0]);
	/* "*" matches zero or more segments. */
	CU_ASSERT(match(rt, "/p/a", CONF_M_GET, &m) == ROUTE_OK);
	CU_ASSERT(m.rm_resource == &res[0]);
	CU_ASSERT(match(rt, "/p/a/", CONF_M_GET, &m) == ROUTE_OK);
	CU_ASSERT(m.rm_resource == &res[0]);
	CU_ASSERT(match(rt, "/p/public", CONF_M_GET, &m) == ROUTE_OK);
	CU_ASSERT(m.rm_resource == &res[4]);
	CU_ASSERT(match(rt, "/p/public/", CONF_M_GET, &m) == ROUTE_OK);
	CU_ASSERT(m.rm_resource == &res[4]);
	CU_ASSERT(match(rt, "/p/public/a/b", CONF_M_GET, &m) == ROUTE_OK);
	CU_ASSERT(m.rm_resource == &res[4]);
	/* Everything else, even the API root, falls to the root "*". */
	CU_ASSERT(match(rt, "/p/publicity", CONF_M_POST, &m) == ROUTE_OK);
	CU_ASSERT(m.rm_resource == &res[5]);
	CU_ASSERT(match(rt, "/p", CONF_M_POST, &m) == ROUTE_OK);
	CU_ASSERT(m.rm_resource == &res[5]);
	CU_ASSERT(match(rt, "/p/", CONF_M_POST, &m) == ROUTE_OK);
	CU_ASSERT(m.rm_resource == &res[5]);
	/* The most specific template owns the path, whatever the method. */
	CU_ASSERT(match(rt, "/p/a/b", CONF_M_POST, &m) == ROUTE_BAD_METHOD);
	CU_ASSERT(m.rm_allowed == (M(GET) | M(HEAD)));
	route_free(rt);
}

/* A literal branch that dead-ends several levels down gives way. */
static void
test_route_backtrack(void)
{
	struct conf_resource	 res[] = {
		{ .r_path = "/x/a/b/c", .r_methods = M(GET) },
		{ .r_path = "/x/{p}/b/d", .r_methods = M(GET) },
		{ .r_path = "/x/{p}/{q}/e", .r_methods = M(GET) },
		{ .r_path = "/x/a/*", .r_methods = M(PUT) },
	};
	struct conf_api		 api;
	struct router		*rt;
	struct route_match	 m;

	api_set(&api, 0, "bt", "/", res, NITEMS(res));
	if ((rt = build(&api, 1)) == NULL)
		return;

	CU_ASSERT(match(rt, "/x/a/b/c", CONF_M_GET, &m) == ROUTE_OK);
	CU_ASSERT(m.rm_resource == &res[0]);
	/*
	 * At "a" the literal beats "{p}", and inside the literal's subtree
	 * the final "*" of "/x/a" matches, so "/x/{p}/b/d" is never reached.
	 */
	CU_ASSERT(match(rt, "/x/a/b/d", CONF_M_PUT, &m) == ROUTE_OK);
	CU_ASSERT(m.rm_resource == &res[3]);
	CU_ASSERT(match(rt, "/x/a/b/d", CONF_M_GET, &m) == ROUTE_BAD_METHOD);
	CU_ASSERT(m.rm_allowed == M(PUT));
	CU_ASSERT(match(rt, "/x/z/b/d", CONF_M_GET, &m) == ROUTE_OK);
	CU_ASSERT(m.rm_resource == &res[1]);
	CU_ASSERT(match(rt, "/x/z/y/e", CONF_M_GET, &m) == ROUTE_OK);
	CU_ASSERT(m.rm_resource == &res[2]);
	CU_ASSERT(match(rt, "/x/z/y/f", CONF_M_GET, &m) == ROUTE_NOT_FOUND);
	CU_ASSERT(match(rt, "/x/z", CONF_M_GET, &m) == ROUTE_NOT_FOUND);
	route_free(rt);
}

static void
test_route_method(void)
{
	struct conf_resource	 res[] = {
		{ .r_path = "/pet", .r_methods = M(POST) },
		{ .r_path = "/pet", .r_methods = M(PUT) | M(PATCH) },
		{ .r_path = "/pet/{id}", .r_methods = M(GET) },
		{ .r_path = "/pet/{petId}", .r_methods = M(DELETE) },
		{ .r_path = "/pet/findByStatus", .r_methods = M(GET) },
	};
	struct conf_api		 api;
	struct router		*rt;
	struct route_match	 m;

	api_set(&api, 0, "petstore", "/petstore/v1", res, NITEMS(res));
	if ((rt = build(&api, 1)) == NULL)
		return;

	CU_ASSERT(match(rt, "/petstore/v1/pet", CONF_M_POST, &m) ==
	    ROUTE_OK);
	CU_ASSERT(m.rm_resource == &res[0] && m.rm_rest == 12);
	CU_ASSERT(match(rt, "/petstore/v1/pet", CONF_M_PUT, &m) == ROUTE_OK);
	CU_ASSERT(m.rm_resource == &res[1]);
	CU_ASSERT(match(rt, "/petstore/v1/pet", CONF_M_PATCH, &m) ==
	    ROUTE_OK);
	CU_ASSERT(m.rm_resource == &res[1]);
	CU_ASSERT(m.rm_allowed == (M(POST) | M(PUT) | M(PATCH)));
	CU_ASSERT(match(rt, "/petstore/v1/pet", CONF_M_GET, &m) ==
	    ROUTE_BAD_METHOD);
	CU_ASSERT(m.rm_allowed == (M(POST) | M(PUT) | M(PATCH)));
	CU_ASSERT(m.rm_api == &api && m.rm_resource == NULL);

	/* Parameter names do not matter: one template, methods unioned. */
	CU_ASSERT(match(rt, "/petstore/v1/pet/7", CONF_M_GET, &m) ==
	    ROUTE_OK);
	CU_ASSERT(m.rm_resource == &res[2]);
	CU_ASSERT(match(rt, "/petstore/v1/pet/7", CONF_M_DELETE, &m) ==
	    ROUTE_OK);
	CU_ASSERT(m.rm_resource == &res[3]);
	CU_ASSERT(match(rt, "/petstore/v1/pet/7", CONF_M_POST, &m) ==
	    ROUTE_BAD_METHOD);
	CU_ASSERT(m.rm_allowed == (M(GET) | M(HEAD) | M(DELETE)));

	/* The literal owns its path even for a method only "{id}" has. */
	CU_ASSERT(match(rt, "/petstore/v1/pet/findByStatus", CONF_M_GET,
	    &m) == ROUTE_OK);
	CU_ASSERT(m.rm_resource == &res[4]);
	CU_ASSERT(match(rt, "/petstore/v1/pet/findByStatus", CONF_M_DELETE,
	    &m) == ROUTE_BAD_METHOD);
	CU_ASSERT(m.rm_allowed == (M(GET) | M(HEAD)));

	CU_ASSERT(match(rt, "/petstore/v1/pet/7/x", CONF_M_GET, &m) ==
	    ROUTE_NOT_FOUND);
	CU_ASSERT(m.rm_api == &api && m.rm_resource == NULL);
	CU_ASSERT(match(rt, "/petstore/v1", CONF_M_GET, &m) ==
	    ROUTE_NOT_FOUND);
	route_free(rt);
}

static void
test_route_head(void)
{
	struct conf_resource	 res[] = {
		{ .r_path = "/a", .r_methods = M(GET) },
		{ .r_path = "/b", .r_methods = M(GET) },
		{ .r_path = "/b", .r_methods = M(HEAD) },
		{ .r_path = "/c", .r_methods = M(POST) },
	};
	struct conf_api		 api;
	struct router		*rt;
	struct route_match	 m;

	api_set(&api, 0, "h", "/h", res, NITEMS(res));
	if ((rt = build(&api, 1)) == NULL)
		return;

	CU_ASSERT(match(rt, "/h/a", CONF_M_HEAD, &m) == ROUTE_OK);
	CU_ASSERT(m.rm_resource == &res[0]);
	CU_ASSERT(m.rm_allowed == (M(GET) | M(HEAD)));
	/* An explicit HEAD resource wins over the GET one. */
	CU_ASSERT(match(rt, "/h/b", CONF_M_HEAD, &m) == ROUTE_OK);
	CU_ASSERT(m.rm_resource == &res[2]);
	CU_ASSERT(match(rt, "/h/b", CONF_M_GET, &m) == ROUTE_OK);
	CU_ASSERT(m.rm_resource == &res[1]);
	CU_ASSERT(match(rt, "/h/c", CONF_M_HEAD, &m) == ROUTE_BAD_METHOD);
	CU_ASSERT(m.rm_allowed == M(POST));
	route_free(rt);
}

static void
test_route_trailing(void)
{
	struct conf_resource	 res[] = {
		{ .r_path = "/pet", .r_methods = M(GET) },
		{ .r_path = "/pet/{id}", .r_methods = M(GET) },
		{ .r_path = "/store/{id}", .r_methods = M(GET) },
	};
	struct conf_api		 api;
	struct router		*rt;
	struct route_match	 m;

	api_set(&api, 0, "t", "/t", res, NITEMS(res));
	if ((rt = build(&api, 1)) == NULL)
		return;

	CU_ASSERT(match(rt, "/t/pet/", CONF_M_GET, &m) == ROUTE_OK);
	CU_ASSERT(m.rm_resource == &res[0]);
	CU_ASSERT(match(rt, "/t/pet/1/", CONF_M_GET, &m) == ROUTE_OK);
	CU_ASSERT(m.rm_resource == &res[1]);
	/* A parameter takes exactly one non-empty segment. */
	CU_ASSERT(match(rt, "/t/store/", CONF_M_GET, &m) == ROUTE_NOT_FOUND);
	CU_ASSERT(match(rt, "/t/store", CONF_M_GET, &m) == ROUTE_NOT_FOUND);
	CU_ASSERT(match(rt, "/t/", CONF_M_GET, &m) == ROUTE_NOT_FOUND);
	route_free(rt);
}

static void
test_route_unknown_method(void)
{
	struct conf_resource	 res[] = {
		{ .r_path = "/x", .r_methods = M(GET) | M(OPTIONS) },
	};
	struct conf_api		 apis[2];
	struct router		*rt;
	struct route_match	 m;

	api_set(&apis[0], 0, "r", "/r", res, NITEMS(res));
	api_set(&apis[1], 1, "open", "/open", NULL, 0);
	if ((rt = build(apis, NITEMS(apis))) == NULL)
		return;

	CU_ASSERT(match(rt, "/r/x", -1, &m) == ROUTE_BAD_METHOD);
	CU_ASSERT(m.rm_allowed == (M(GET) | M(HEAD) | M(OPTIONS)));
	CU_ASSERT(m.rm_resource == NULL);
	CU_ASSERT(match(rt, "/r/x", CONF_M_MAX, &m) == ROUTE_BAD_METHOD);
	CU_ASSERT(match(rt, "/r/x", -7, &m) == ROUTE_BAD_METHOD);
	/* A path that matches nothing is a 404 whatever the method. */
	CU_ASSERT(match(rt, "/r/y", -1, &m) == ROUTE_NOT_FOUND);
	/* Even an API that takes every method knows only the real ones. */
	CU_ASSERT(match(rt, "/open/y", -1, &m) == ROUTE_BAD_METHOD);
	CU_ASSERT(m.rm_api == &apis[1] && m.rm_allowed == CONF_M_ALL);
	CU_ASSERT(match(rt, "/nothing", -1, &m) == ROUTE_NOT_FOUND);
	route_free(rt);
}

static void
test_route_noresources(void)
{
	struct conf_api		 api;
	struct router		*rt;
	struct route_match	 m;
	int			 meth;

	api_set(&api, 0, "all", "/all/v1", NULL, 0);
	if ((rt = build(&api, 1)) == NULL)
		return;

	for (meth = 0; meth < CONF_M_MAX; meth++) {
		CU_ASSERT(match(rt, "/all/v1/any/thing/", meth, &m) ==
		    ROUTE_OK);
		CU_ASSERT(m.rm_api == &api && m.rm_resource == NULL);
		CU_ASSERT(m.rm_rest == 7);
	}
	CU_ASSERT(match(rt, "/all/v1", CONF_M_DELETE, &m) == ROUTE_OK);
	CU_ASSERT(m.rm_rest == 7);
	CU_ASSERT(match(rt, "/all", CONF_M_GET, &m) == ROUTE_NOT_FOUND);
	route_free(rt);
}

/* The longest base path owns its subtree: no retry with a shorter one. */
static void
test_route_nofallback(void)
{
	struct conf_resource	 res[] = {
		{ .r_path = "/x", .r_methods = M(GET) },
	};
	struct conf_api		 apis[2];
	struct router		*rt;
	struct route_match	 m;

	api_set(&apis[0], 0, "catchall", "/", NULL, 0);
	api_set(&apis[1], 1, "pet", "/pet", res, NITEMS(res));
	if ((rt = build(apis, NITEMS(apis))) == NULL)
		return;

	CU_ASSERT(match(rt, "/pet/x", CONF_M_GET, &m) == ROUTE_OK);
	CU_ASSERT(m.rm_api == &apis[1] && m.rm_resource == &res[0]);
	CU_ASSERT(match(rt, "/pet/y", CONF_M_GET, &m) == ROUTE_NOT_FOUND);
	CU_ASSERT(m.rm_api == &apis[1]);
	CU_ASSERT(match(rt, "/pet/x", CONF_M_PUT, &m) == ROUTE_BAD_METHOD);
	CU_ASSERT(match(rt, "/petx", CONF_M_PUT, &m) == ROUTE_OK);
	CU_ASSERT(m.rm_api == &apis[0]);
	route_free(rt);
}

/* Thousands of APIs: every one is found, and near misses are not. */
static void
test_route_many(void)
{
	struct conf_api		*apis;
	struct conf_resource	*res;
	struct router		*rt;
	struct route_match	 m;
	char			 path[128];
	size_t			 i, n;

	apis = xcalloc(NAPIS, sizeof(*apis));
	res = xcalloc(NAPIS * 2, sizeof(*res));
	for (i = 0; i < NAPIS; i++) {
		res[2 * i].r_path = "/items";
		res[2 * i].r_methods = M(GET) | M(POST);
		res[2 * i + 1].r_path = "/items/{id}";
		res[2 * i + 1].r_methods = M(GET) | M(PUT) | M(DELETE);
		apis[i].a_index = (int)i;
		xasprintf(&apis[i].a_name, "api%04zu", i);
		xasprintf(&apis[i].a_base_path, "/api%04zu/v1", i);
		apis[i].a_resources = &res[2 * i];
		apis[i].a_nresources = 2;
		res_index(apis[i].a_resources, 2);
	}
	rt = build(apis, NAPIS);
	if (rt == NULL)
		goto out;

	for (i = 0; i < NAPIS; i++) {
		/* Walk them in a scattered order. */
		n = (i * 7919) % NAPIS;
		snprintf(path, sizeof(path), "/api%04zu/v1/items", n);
		CU_ASSERT(match(rt, path, CONF_M_POST, &m) == ROUTE_OK);
		CU_ASSERT(m.rm_api == &apis[n] && m.rm_resource == &res[2 * n]);
		CU_ASSERT(m.rm_rest == 11);

		snprintf(path, sizeof(path), "/api%04zu/v1/items/%zu", n, i);
		CU_ASSERT(match(rt, path, CONF_M_DELETE, &m) == ROUTE_OK);
		CU_ASSERT(m.rm_api == &apis[n] &&
		    m.rm_resource == &res[2 * n + 1]);
		CU_ASSERT(match(rt, path, CONF_M_POST, &m) ==
		    ROUTE_BAD_METHOD);
		CU_ASSERT(m.rm_allowed ==
		    (M(GET) | M(HEAD) | M(PUT) | M(DELETE)));

		snprintf(path, sizeof(path), "/api%04zu/v1/other", n);
		CU_ASSERT(match(rt, path, CONF_M_GET, &m) ==
		    ROUTE_NOT_FOUND);
		CU_ASSERT(m.rm_api == &apis[n]);
		snprintf(path, sizeof(path), "/api%04zu/v2/items", n);
		CU_ASSERT(match(rt, path, CONF_M_GET, &m) ==
		    ROUTE_NOT_FOUND);
		CU_ASSERT_PTR_NULL(m.rm_api);
		snprintf(path, sizeof(path), "/api%04zu", n);
		CU_ASSERT(match(rt, path, CONF_M_GET, &m) ==
		    ROUTE_NOT_FOUND);
		snprintf(path, sizeof(path), "/api%04zux/v1/items", n);
		CU_ASSERT(match(rt, path, CONF_M_GET, &m) ==
		    ROUTE_NOT_FOUND);
	}
	CU_ASSERT(match(rt, "/api5000/v1/items", CONF_M_GET, &m) ==
	    ROUTE_NOT_FOUND);
	CU_ASSERT(match(rt, "/v1/items", CONF_M_GET, &m) == ROUTE_NOT_FOUND);
	route_free(rt);

out:
	for (i = 0; i < NAPIS; i++) {
		free(apis[i].a_name);
		free(apis[i].a_base_path);
	}
	free(apis);
	free(res);
}

static void
test_route_dup_base(void)
{
	struct conf_api		 apis[3];
	char			*cause;

	api_set(&apis[0], 0, "a", "/x", NULL, 0);
	api_set(&apis[1], 1, "c", "/y", NULL, 0);
	api_set(&apis[2], 2, "b", "/x", NULL, 0);
	cause = build_fail(apis, NITEMS(apis));
	CU_ASSERT_STRING_EQUAL(cause, "duplicate base path /x (apis a and b)");
	free(cause);

	api_set(&apis[0], 0, "r1", "/", NULL, 0);
	api_set(&apis[1], 1, "r2", "/", NULL, 0);
	cause = build_fail(apis, 2);
	CU_ASSERT_STRING_EQUAL(cause, "duplicate base path / (apis r1 and r2)");
	free(cause);
}

static void
test_route_dup_resource(void)
{
	struct conf_resource	 res1[] = {
		{ .r_path = "/pet/{id}", .r_methods = M(GET) | M(PUT) },
		{ .r_path = "/pet/{petId}", .r_methods = M(DELETE) | M(PUT) },
	};
	struct conf_resource	 res2[] = {
		{ .r_path = "/pet", .r_methods = M(GET) },
		{ .r_path = "/pet/", .r_methods = M(GET) },
	};
	struct conf_resource	 res3[] = {
		{ .r_path = "/pet", .r_methods = M(GET) },
		{ .r_path = "/pet", .r_methods = M(HEAD) },
		{ .r_path = "/pet/*", .r_methods = M(GET) },
	};
	struct conf_api		 api;
	struct router		*rt;
	char			*cause;

	api_set(&api, 0, "petstore", "/petstore", res1, NITEMS(res1));
	cause = build_fail(&api, 1);
	CU_ASSERT_STRING_EQUAL(cause,
	    "api petstore: duplicate resource PUT /pet/{petId}");
	free(cause);

	api_set(&api, 0, "petstore", "/petstore", res2, NITEMS(res2));
	cause = build_fail(&api, 1);
	CU_ASSERT_STRING_EQUAL(cause,
	    "api petstore: duplicate resource GET /pet/");
	free(cause);

	/* Distinct methods and a wildcard beside a literal are fine. */
	api_set(&api, 0, "petstore", "/petstore", res3, NITEMS(res3));
	rt = build(&api, 1);
	route_free(rt);
}

static void
test_route_bad_conf(void)
{
	static const char *const bad_templates[] = {
		"/a/*/b", "/a/{x", "/a/{}", "/a/x{y}", "/a/{x}y", "/{a{b}",
		"pet", "",
	};
	static const char *const bad_bases[] = {
		"/a/", "a", "", "//a", "/a/../b", "/a/./b", "/a%20b",
	};
	struct conf_resource	 res;
	struct conf_api		 api;
	char			*cause;
	size_t			 i;

	for (i = 0; i < NITEMS(bad_templates); i++) {
		memset(&res, 0, sizeof(res));
		res.r_path = (char *)(uintptr_t)bad_templates[i];
		res.r_methods = M(GET);
		api_set(&api, 0, "bad", "/bad", &res, 1);
		cause = build_fail(&api, 1);
		CU_ASSERT(cause != NULL && strncmp(cause, "api bad: ", 9) == 0);
		free(cause);
	}
	for (i = 0; i < NITEMS(bad_bases); i++) {
		api_set(&api, 0, "bad", bad_bases[i], NULL, 0);
		cause = build_fail(&api, 1);
		CU_ASSERT(cause != NULL && strstr(cause, "not normalised") !=
		    NULL);
		free(cause);
	}
	api_set(&api, 0, "bad", NULL, NULL, 0);
	cause = build_fail(&api, 1);
	free(cause);

	memset(&res, 0, sizeof(res));
	res.r_path = "/x";
	api_set(&api, 0, "bad", "/bad", &res, 1);
	cause = build_fail(&api, 1);
	CU_ASSERT_STRING_EQUAL(cause, "api bad: resource /x has no methods");
	free(cause);

	route_free(NULL);
}

static void
test_route_empty(void)
{
	struct router		*rt;
	struct route_match	 m;

	if ((rt = build(NULL, 0)) == NULL)
		return;
	CU_ASSERT(match(rt, "/", CONF_M_GET, &m) == ROUTE_NOT_FOUND);
	CU_ASSERT(match(rt, "/a/b", CONF_M_GET, &m) == ROUTE_NOT_FOUND);
	CU_ASSERT_PTR_NULL(m.rm_api);
	route_free(rt);
}

static CU_TestInfo route_tests[] = {
	{ "longest base path wins", test_route_longest },
	{ "segment boundary", test_route_boundary },
	{ "root API", test_route_root },
	{ "literal beats param beats wildcard", test_route_precedence },
	{ "backtracking", test_route_backtrack },
	{ "methods and 405", test_route_method },
	{ "HEAD via GET", test_route_head },
	{ "trailing slash", test_route_trailing },
	{ "unknown method", test_route_unknown_method },
	{ "API without resources", test_route_noresources },
	{ "no fallback to a shorter base path", test_route_nofallback },
	{ "5000 APIs", test_route_many },
	{ "duplicate base path", test_route_dup_base },
	{ "duplicate resource", test_route_dup_resource },
	{ "malformed config", test_route_bad_conf },
	{ "no APIs", test_route_empty },
	CU_TEST_INFO_NULL
};

static CU_SuiteInfo route_suites[] = {
	{ .pName = "route", .pTests = route_tests },
	CU_SUITE_INFO_NULL
};

int
main(void)
{
	log_init(1, 0);
	return (test_run(route_suites));
}
