/*
 * test-conf.c: the configuration loader (master/conf*.c) and lib/util.c.
 * Valid configurations come from tests/conf/conf-*.conf under $top_srcdir;
 * broken ones are written into a mkdtemp directory so that each error's
 * file:line can be checked exactly.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "lib.h"
#include "master.h"
#include "throttle.h"
#include "authn-conf.h"
#include "tests.h"

/* Line 1 of most broken configurations: one valid listener. */
#define LISTENER \
	"listeners = ( { name = \"http\"; listen = \"127.0.0.1:9090\"; } );\n"
#define API_HEAD(name, bp) \
	"{ name = \"" name "\"; base_path = \"" bp "\";\n"
#define MOCK	"endpoints = { mock = { }; };\n"

/* The settings plugins own, as the tests reach them. */
#define TH(c)	throttle_conf(c)
#define TA(a)	((const struct throttle_conf_api *)mgw_api_settings(	\
		    (const struct mgw_api *)(a), &plugin_throttle))
#define TR(r)	((const struct throttle_conf_resource *)		\
		    mgw_resource_settings((const struct mgw_resource *)(r), \
		    &plugin_throttle))
#define TK(k)	((const struct throttle_conf_consumer *)		\
		    mgw_consumer_settings((const struct mgw_consumer *)(k), \
		    &plugin_throttle))

static char		 test_tmp[PATH_MAX - 64];
static char		*test_cause;
static unsigned int	 test_nfile;

static char	*test_write(const char *, ...)
		    __attribute__((format(printf, 1, 2)));
static struct mgw_conf *test_load(const char *, char **);
static struct mgw_conf *test_load_src(const char *, char **);
static int	 test_has(const char *, int, const char *);
static int	 test_has_env(const char *, const char *);
static size_t	 test_nlines(const char *);
static int	 test_port(const struct sockaddr_storage *);
static const char *test_addr(const struct sockaddr_storage *);
static void	 test_security(void);
static void	 test_sin(struct sockaddr_storage *, int, const char *);
static int	 test_init(void);
static int	 test_fini(void);

/* Write a configuration into the temporary directory; returns its path. */
static char *
test_write(const char *fmt, ...)
{
	static char	 path[PATH_MAX + 32];
	va_list		 ap;
	FILE		*f;

	snprintf(path, sizeof(path), "%s/conf-%u.conf", test_tmp,
	    ++test_nfile);
	if ((f = fopen(path, "w")) == NULL)
		fatal("%s", path);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fclose(f);
	return (path);
}

/* conf_load(); the cause of a failure stays in test_cause. */
static struct mgw_conf *
test_load(const char *path, char **envp)
{
	static char		*empty[] = { NULL };
	struct mgw_conf		*conf;

	free(test_cause);
	test_cause = NULL;
	if (conf_load(path, envp != NULL ? envp : empty, &conf,
	    &test_cause) == -1) {
		CU_ASSERT_PTR_NULL(conf);
		CU_ASSERT_PTR_NOT_NULL(test_cause);
		return (NULL);
	}
	CU_ASSERT_PTR_NULL(test_cause);
	return (conf);
}

/* Load tests/conf/name from the source tree. */
static struct mgw_conf *
test_load_src(const char *name, char **envp)
{
	const char	*top;
	char		 path[PATH_MAX];

	if ((top = getenv("top_srcdir")) == NULL)
		top = ".";
	snprintf(path, sizeof(path), "%s/tests/conf/%s", top, name);
	return (test_load(path, envp));
}

/* Does cause have a line "file:line: ...needle..."? */
static int
test_has(const char *file, int line, const char *needle)
{
	char		 prefix[PATH_MAX + 32];
	const char	*p, *eol;
	size_t		 plen;

	if (test_cause == NULL)
		return (0);
	snprintf(prefix, sizeof(prefix), "%s:%d: ", file, line);
	plen = strlen(prefix);
	for (p = test_cause; *p != '\0'; p = *eol == '\0' ? eol : eol + 1) {
		eol = p + strcspn(p, "\n");
		if ((size_t)(eol - p) >= plen &&
		    strncmp(p, prefix, plen) == 0 &&
		    memmem(p, eol - p, needle, strlen(needle)) != NULL)
			return (1);
	}
	fprintf(stderr, "\n  no \"%s...%s\" in:\n%s\n", prefix, needle,
	    test_cause);
	return (0);
}

/* Does cause have a line "environment VAR: ...needle..."? */
static int
test_has_env(const char *var, const char *needle)
{
	char		 prefix[256];
	const char	*p, *eol;
	size_t		 plen;

	if (test_cause == NULL)
		return (0);
	snprintf(prefix, sizeof(prefix), "environment %s: ", var);
	plen = strlen(prefix);
	for (p = test_cause; *p != '\0'; p = *eol == '\0' ? eol : eol + 1) {
		eol = p + strcspn(p, "\n");
		if ((size_t)(eol - p) >= plen &&
		    strncmp(p, prefix, plen) == 0 &&
		    memmem(p, eol - p, needle, strlen(needle)) != NULL)
			return (1);
	}
	fprintf(stderr, "\n  no \"%s...%s\" in:\n%s\n", prefix, needle,
	    test_cause);
	return (0);
}

static size_t
test_nlines(const char *s)
{
	size_t	 n = 1;

	if (s == NULL)
		return (0);
	for (; *s != '\0'; s++)
		n += *s == '\n';
	return (n);
}

static int
test_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return (ntohs(((const struct sockaddr_in *)ss)->sin_port));
	if (ss->ss_family == AF_INET6)
		return (ntohs(((const struct sockaddr_in6 *)ss)->sin6_port));
	return (-1);
}

static const char *
test_addr(const struct sockaddr_storage *ss)
{
	static char	 buf[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr,
		    buf, sizeof(buf));
	else if (ss->ss_family == AF_INET6)
		inet_ntop(AF_INET6,
		    &((const struct sockaddr_in6 *)ss)->sin6_addr, buf,
		    sizeof(buf));
	else
		snprintf(buf, sizeof(buf), "?");
	return (buf);
}

static void
test_sin(struct sockaddr_storage *ss, int family, const char *addr)
{
	memset(ss, 0, sizeof(*ss));
	ss->ss_family = family;
	if (family == AF_INET)
		inet_pton(AF_INET, addr,
		    &((struct sockaddr_in *)ss)->sin_addr);
	else
		inet_pton(AF_INET6, addr,
		    &((struct sockaddr_in6 *)ss)->sin6_addr);
}

static int
test_init(void)
{
	const char	*t;

	if ((t = getenv("TMPDIR")) == NULL)
		t = "/tmp";
	snprintf(test_tmp, sizeof(test_tmp), "%s/test-conf.XXXXXX", t);
	return (mkdtemp(test_tmp) == NULL ? -1 : 0);
}

static int
test_fini(void)
{
	char		 path[PATH_MAX + 32];
	unsigned int	 i;

	for (i = 1; i <= test_nfile; i++) {
		snprintf(path, sizeof(path), "%s/conf-%u.conf", test_tmp, i);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/inc.conf", test_tmp);
	unlink(path);
	rmdir(test_tmp);
	free(test_cause);
	test_cause = NULL;
	return (0);
}

/* Every key, with an @include: values and resolved addresses. */
static void
test_full(void)
{
	struct mgw_conf		*c;
	struct conf_listener	*l;
	struct conf_api		*a;
	struct conf_endpoints	*ep;
	struct conf_resource	*r;
	struct sockaddr_storage	 ss;

	if ((c = test_load_src("conf-full.conf", NULL)) == NULL) {
		CU_FAIL_FATAL("conf-full.conf did not load");
		return;
	}
	CU_ASSERT_EQUAL(c->c_gateway.workers, 3);
	CU_ASSERT_STRING_EQUAL(c->c_gateway.user, "mgw");
	CU_ASSERT_STRING_EQUAL(c->c_gateway.group, "mgwgrp");
	CU_ASSERT_STRING_EQUAL(c->c_gateway.pid_file, "/tmp/mgw-test/mgwd.pid");
	CU_ASSERT_STRING_EQUAL(c->c_gateway.control_socket,
	    "/tmp/mgw-test/mgwd.sock");
	CU_ASSERT_STRING_EQUAL(c->c_gateway.error_log, "stderr");
	CU_ASSERT_STRING_EQUAL(c->c_gateway.access_log, "off");
	CU_ASSERT_EQUAL(c->c_gateway.drain_timeout, 120000);
	CU_ASSERT_EQUAL_FATAL(c->c_gateway.ntrusted_proxies, 4);
	CU_ASSERT_STRING_EQUAL(c->c_gateway.trusted_proxies[1], "::1");
	CU_ASSERT_EQUAL(c->c_gateway.trusted[0].c_family, AF_INET);
	CU_ASSERT_EQUAL(c->c_gateway.trusted[0].c_bits, 32);
	CU_ASSERT_EQUAL(c->c_gateway.trusted[1].c_family, AF_INET6);
	CU_ASSERT_EQUAL(c->c_gateway.trusted[1].c_bits, 128);
	CU_ASSERT_EQUAL(c->c_gateway.trusted[2].c_bits, 8);
	/* ::ffff:192.168.0.0/112 is kept as 192.168.0.0/16. */
	CU_ASSERT_EQUAL(c->c_gateway.trusted[3].c_family, AF_INET);
	CU_ASSERT_EQUAL(c->c_gateway.trusted[3].c_bits, 16);

	test_sin(&ss, AF_INET, "127.0.0.1");
	CU_ASSERT_TRUE(cidr_match(c->c_gateway.trusted, 4,
	    (struct sockaddr *)&ss));
	test_sin(&ss, AF_INET, "127.0.0.2");
	CU_ASSERT_FALSE(cidr_match(c->c_gateway.trusted, 4,
	    (struct sockaddr *)&ss));
	test_sin(&ss, AF_INET, "10.200.3.4");
	CU_ASSERT_TRUE(cidr_match(c->c_gateway.trusted, 4,
	    (struct sockaddr *)&ss));
	test_sin(&ss, AF_INET, "11.0.0.1");
	CU_ASSERT_FALSE(cidr_match(c->c_gateway.trusted, 4,
	    (struct sockaddr *)&ss));
	test_sin(&ss, AF_INET, "192.168.77.1");
	CU_ASSERT_TRUE(cidr_match(c->c_gateway.trusted, 4,
	    (struct sockaddr *)&ss));
	test_sin(&ss, AF_INET6, "::1");
	CU_ASSERT_TRUE(cidr_match(c->c_gateway.trusted, 4,
	    (struct sockaddr *)&ss));
	test_sin(&ss, AF_INET6, "::2");
	CU_ASSERT_FALSE(cidr_match(c->c_gateway.trusted, 4,
	    (struct sockaddr *)&ss));
	test_sin(&ss, AF_INET6, "::ffff:10.1.2.3");
	CU_ASSERT_TRUE(cidr_match(c->c_gateway.trusted, 4,
	    (struct sockaddr *)&ss));
	test_sin(&ss, AF_INET6, "::ffff:11.1.2.3");
	CU_ASSERT_FALSE(cidr_match(c->c_gateway.trusted, 4,
	    (struct sockaddr *)&ss));
	CU_ASSERT_FALSE(cidr_match(c->c_gateway.trusted, 4, NULL));

	CU_ASSERT_EQUAL_FATAL(c->c_nlisteners, 3);
	l = c->c_listeners;
	CU_ASSERT_STRING_EQUAL(l[0].l_name, "http");
	CU_ASSERT_STRING_EQUAL(l[0].l_listen, "127.0.0.1:9090");
	CU_ASSERT_EQUAL(l[0].l_ss.ss_family, AF_INET);
	CU_ASSERT_EQUAL(l[0].l_sslen, sizeof(struct sockaddr_in));
	CU_ASSERT_STRING_EQUAL(test_addr(&l[0].l_ss), "127.0.0.1");
	CU_ASSERT_EQUAL(test_port(&l[0].l_ss), 9090);
	CU_ASSERT_EQUAL(l[0].l_admin, 0);
	CU_ASSERT_EQUAL(l[0].l_backlog, 511);
	CU_ASSERT_STRING_EQUAL(l[1].l_name, "admin-1");
	CU_ASSERT_EQUAL(l[1].l_ss.ss_family, AF_INET6);
	CU_ASSERT_EQUAL(l[1].l_sslen, sizeof(struct sockaddr_in6));
	CU_ASSERT_STRING_EQUAL(test_addr(&l[1].l_ss), "::1");
	CU_ASSERT_EQUAL(test_port(&l[1].l_ss), 9091);
	CU_ASSERT_EQUAL(l[1].l_admin, 1);
	CU_ASSERT_EQUAL(l[1].l_backlog, 128);
	CU_ASSERT_STRING_EQUAL(test_addr(&l[2].l_ss), "0.0.0.0");
	CU_ASSERT_EQUAL(test_port(&l[2].l_ss), 9092);

	CU_ASSERT_EQUAL(c->c_limits.max_header_size, 8192);
	CU_ASSERT_EQUAL(c->c_limits.max_body_size, 1048576);
	CU_ASSERT_EQUAL(c->c_limits.header_timeout, 500);
	CU_ASSERT_EQUAL(c->c_limits.body_timeout, 60000);
	CU_ASSERT_EQUAL(c->c_limits.keepalive_timeout, 0);
	CU_ASSERT_EQUAL(c->c_limits.send_timeout, 3600000);
	CU_ASSERT_EQUAL(c->c_limits.max_connections, 500);
	CU_ASSERT_EQUAL(c->c_shm.size, 1ULL << 30);

	CU_ASSERT_EQUAL_FATAL(c->c_napis, 2);
	a = &c->c_apis[0];
	CU_ASSERT_STRING_EQUAL(a->a_name, "petstore");
	CU_ASSERT_STRING_EQUAL(a->a_version, "v1");
	CU_ASSERT_STRING_EQUAL(a->a_base_path, "/petstore/v1");
	CU_ASSERT_EQUAL(a->a_index, 0);
	ep = &a->a_endpoints;
	CU_ASSERT_EQUAL(ep->ep_type, CONF_EP_HTTP);
	CU_ASSERT_EQUAL_FATAL(ep->ep_nproduction, 2);
	CU_ASSERT_STRING_EQUAL(ep->ep_production[0].u_url,
	    "http://127.0.0.1:8080/v2/");
	CU_ASSERT_STRING_EQUAL(ep->ep_production[0].u_host, "127.0.0.1:8080");
	CU_ASSERT_STRING_EQUAL(ep->ep_production[0].u_prefix, "/v2");
	CU_ASSERT_EQUAL(test_port(&ep->ep_production[0].u_ss), 8080);
	CU_ASSERT_STRING_EQUAL(test_addr(&ep->ep_production[0].u_ss),
	    "127.0.0.1");
	CU_ASSERT_STRING_EQUAL(ep->ep_production[1].u_host, "[::1]:8081");
	CU_ASSERT_STRING_EQUAL(ep->ep_production[1].u_prefix, "");
	CU_ASSERT_EQUAL(ep->ep_production[1].u_ss.ss_family, AF_INET6);
	CU_ASSERT_EQUAL(ep->ep_production[1].u_sslen,
	    sizeof(struct sockaddr_in6));
	CU_ASSERT_EQUAL_FATAL(ep->ep_nsandbox, 1);
	CU_ASSERT_STRING_EQUAL(ep->ep_sandbox[0].u_host, "127.0.0.1");
	CU_ASSERT_STRING_EQUAL(ep->ep_sandbox[0].u_prefix, "");
	CU_ASSERT_EQUAL(test_port(&ep->ep_sandbox[0].u_ss), 80);
	CU_ASSERT_EQUAL(ep->ep_connect_timeout, 2000);
	CU_ASSERT_EQUAL(ep->ep_timeout, 30000);
	CU_ASSERT_EQUAL(ep->ep_send_timeout, 45000);
	CU_ASSERT_EQUAL(ep->ep_keepalive, 8);
	CU_ASSERT_EQUAL(ep->ep_retries, 3);

	CU_ASSERT_EQUAL_FATAL(a->a_nresources, 3);
	r = a->a_resources;
	CU_ASSERT_STRING_EQUAL(r[0].r_path, "/pet/{petId}");
	CU_ASSERT_EQUAL(r[0].r_methods,
	    (1u << CONF_M_GET) | (1u << CONF_M_DELETE));
	CU_ASSERT_PTR_NULL(r[0].r_endpoints);
	CU_ASSERT_EQUAL(r[0].r_index, 0);
	CU_ASSERT_EQUAL(r[1].r_methods,
	    (1u << CONF_M_POST) | (1u << CONF_M_PUT));
	CU_ASSERT_EQUAL(r[1].r_index, 1);
	CU_ASSERT_STRING_EQUAL(r[2].r_path, "/public/*");
	CU_ASSERT_EQUAL(r[2].r_methods, CONF_M_ALL);
	CU_ASSERT_EQUAL(r[2].r_index, 2);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r[2].r_endpoints);
	CU_ASSERT_EQUAL(r[2].r_endpoints->ep_type, CONF_EP_MOCK);
	CU_ASSERT_EQUAL(r[2].r_endpoints->ep_mock_status, 204);
	CU_ASSERT_EQUAL_FATAL(r[2].r_endpoints->ep_nmock_headers, 1);
	CU_ASSERT_STRING_EQUAL(r[2].r_endpoints->ep_mock_headers[0].h_name,
	    "X-Mock");
	CU_ASSERT_STRING_EQUAL(r[2].r_endpoints->ep_mock_headers[0].h_value,
	    "yes");
	CU_ASSERT_STRING_EQUAL(r[2].r_endpoints->ep_mock_body, "");
	CU_ASSERT_EQUAL(r[2].r_endpoints->ep_mock_bodylen, 0);

	a = &c->c_apis[1];
	CU_ASSERT_STRING_EQUAL(a->a_name, "status.api");
	CU_ASSERT_PTR_NULL(a->a_version);
	CU_ASSERT_STRING_EQUAL(a->a_base_path, "/");
	CU_ASSERT_EQUAL(a->a_index, 1);
	CU_ASSERT_EQUAL(a->a_nresources, 0);
	CU_ASSERT_PTR_NULL(a->a_resources);
	CU_ASSERT_EQUAL(c->c_noverrides, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(c->c_file, "conf-full.conf"));
	conf_free(c);
}

/* A configuration with only a listener gets every default. */
static void
test_defaults(void)
{
	struct mgw_conf	*c;
	long		 ncpu;

	if ((c = test_load(test_write(LISTENER), NULL)) == NULL) {
		CU_FAIL("minimal configuration did not load");
		return;
	}
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	CU_ASSERT_EQUAL(c->c_gateway.workers, ncpu > 256 ? 256 : ncpu);
	CU_ASSERT_PTR_NULL(c->c_gateway.user);
	CU_ASSERT_PTR_NULL(c->c_gateway.group);
	CU_ASSERT_STRING_EQUAL(c->c_gateway.pid_file,
	    RUNSTATEDIR "/mgw/mgwd.pid");
	CU_ASSERT_STRING_EQUAL(c->c_gateway.control_socket,
	    RUNSTATEDIR "/mgw/mgwd.sock");
	CU_ASSERT_STRING_EQUAL(c->c_gateway.error_log,
	    LOCALSTATEDIR "/log/mgw/error.log");
	CU_ASSERT_STRING_EQUAL(c->c_gateway.access_log,
	    LOCALSTATEDIR "/log/mgw/access.log");
	CU_ASSERT_EQUAL(c->c_gateway.drain_timeout, 30000);
	CU_ASSERT_EQUAL(c->c_gateway.ntrusted_proxies, 0);
	CU_ASSERT_PTR_NULL(c->c_gateway.trusted);
	CU_ASSERT_EQUAL(c->c_listeners[0].l_backlog, 511);
	CU_ASSERT_EQUAL(c->c_listeners[0].l_admin, 0);
	CU_ASSERT_EQUAL(c->c_limits.max_header_size, 16384);
	CU_ASSERT_EQUAL(c->c_limits.max_body_size, 10 * 1024 * 1024);
	CU_ASSERT_EQUAL(c->c_limits.header_timeout, 10000);
	CU_ASSERT_EQUAL(c->c_limits.body_timeout, 30000);
	CU_ASSERT_EQUAL(c->c_limits.keepalive_timeout, 60000);
	CU_ASSERT_EQUAL(c->c_limits.send_timeout, 30000);
	CU_ASSERT_EQUAL(c->c_limits.max_connections, 10000);
	CU_ASSERT_EQUAL(c->c_shm.size, 64 * 1024 * 1024);
	CU_ASSERT_EQUAL(c->c_napis, 0);
	conf_free(c);

	/* An API's endpoint defaults. */
	c = test_load(test_write(LISTENER "apis = ( " API_HEAD("a", "/a")
	    "endpoints = { production = [ \"http://127.0.0.1\" ]; }; } );\n"),
	    NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->c_apis[0].a_endpoints.ep_connect_timeout, 5000);
	CU_ASSERT_EQUAL(c->c_apis[0].a_endpoints.ep_timeout, 60000);
	CU_ASSERT_EQUAL(c->c_apis[0].a_endpoints.ep_send_timeout, 60000);
	CU_ASSERT_EQUAL(c->c_apis[0].a_endpoints.ep_keepalive, 32);
	CU_ASSERT_EQUAL(c->c_apis[0].a_endpoints.ep_retries, 1);
	CU_ASSERT_EQUAL(c->c_apis[0].a_endpoints.ep_nsandbox, 0);
	CU_ASSERT_EQUAL(test_port(&c->c_apis[0].a_endpoints.ep_production[0].
	    u_ss), 80);
	conf_free(c);
	conf_free(NULL);
}

static void
test_version(void)
{
	struct mgw_conf	*c;
	char		*f;

	c = test_load(test_write(LISTENER "apis = (\n"
	    "{ name = \"a\"; version = \"2.1\"; "
	    "base_path = \"/x/{version}/y/{version}\";\n" MOCK "},\n"
	    "{ name = \"b\"; version = \"v3\"; base_path = \"/{version}/\";\n"
	    MOCK "},\n"
	    API_HEAD("c", "/c///") MOCK "}\n);\n"), NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_STRING_EQUAL(c->c_apis[0].a_base_path, "/x/2.1/y/2.1");
	CU_ASSERT_STRING_EQUAL(c->c_apis[1].a_base_path, "/v3");
	CU_ASSERT_STRING_EQUAL(c->c_apis[2].a_base_path, "/c");
	conf_free(c);

	/* {version} without a version. */
	f = test_write(LISTENER "apis = (\n"
	    API_HEAD("a", "/a/{version}") MOCK "}\n);\n");
	CU_ASSERT_PTR_NULL(test_load(f, NULL));
	CU_ASSERT_TRUE(test_has(f, 3, "apis[0].base_path: '/a/{version}' "
	    "uses {version} but the API has no version"));
}

static void
test_mock(void)
{
	struct mgw_conf		*c;
	struct conf_endpoints	*ep;

	c = test_load(test_write(LISTENER "apis = ( " API_HEAD("m", "/m")
	    "endpoints = { mock = { status = 404; body = \"gone\";\n"
	    "headers = [ \"Content-Type: text/plain\", \"X-A:b\" ]; }; };\n"
	    "resources = ( { path = \"/r\"; methods = [ \"HEAD\", "
	    "\"OPTIONS\", \"PATCH\" ]; } ); } );\n"), NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	ep = &c->c_apis[0].a_endpoints;
	CU_ASSERT_EQUAL(ep->ep_type, CONF_EP_MOCK);
	CU_ASSERT_EQUAL(ep->ep_mock_status, 404);
	CU_ASSERT_STRING_EQUAL(ep->ep_mock_body, "gone");
	CU_ASSERT_EQUAL(ep->ep_mock_bodylen, 4);
	CU_ASSERT_EQUAL_FATAL(ep->ep_nmock_headers, 2);
	CU_ASSERT_STRING_EQUAL(ep->ep_mock_headers[0].h_name, "Content-Type");
	CU_ASSERT_STRING_EQUAL(ep->ep_mock_headers[0].h_value, "text/plain");
	CU_ASSERT_STRING_EQUAL(ep->ep_mock_headers[1].h_name, "X-A");
	CU_ASSERT_STRING_EQUAL(ep->ep_mock_headers[1].h_value, "b");
	CU_ASSERT_EQUAL(ep->ep_nproduction, 0);
	CU_ASSERT_EQUAL(c->c_apis[0].a_resources[0].r_methods,
	    (1u << CONF_M_HEAD) | (1u << CONF_M_OPTIONS) |
	    (1u << CONF_M_PATCH));
	conf_free(c);

	/* An empty mock group is a 200 with no body. */
	c = test_load(test_write(LISTENER "apis = ( " API_HEAD("m", "/m")
	    MOCK "} );\n"), NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->c_apis[0].a_endpoints.ep_type, CONF_EP_MOCK);
	CU_ASSERT_EQUAL(c->c_apis[0].a_endpoints.ep_mock_status, 200);
	CU_ASSERT_EQUAL(c->c_apis[0].a_endpoints.ep_mock_bodylen, 0);
	conf_free(c);
}

static void
test_err_syntax(void)
{
	char	*f;

	f = test_write(LISTENER "gateway: {\n  workers = ;\n};\n");
	CU_ASSERT_PTR_NULL(test_load(f, NULL));
	CU_ASSERT_TRUE(test_has(f, 3, "syntax error"));
	CU_ASSERT_EQUAL(test_nlines(test_cause), 1);

	/* An unreadable file. */
	CU_ASSERT_PTR_NULL(test_load("/nonexistent/mgw.conf", NULL));
	CU_ASSERT_PTR_NOT_NULL(test_cause);
	if (test_cause != NULL)
		CU_ASSERT_PTR_NOT_NULL(strstr(test_cause,
		    "/nonexistent/mgw.conf: "));
}

static void
test_err_include(void)
{
	char	*f, inc[PATH_MAX + 16];
	FILE	*fp;

	f = test_write(LISTENER "\n@include \"missing.conf\"\n");
	CU_ASSERT_PTR_NULL(test_load(f, NULL));
	CU_ASSERT_TRUE(test_has(f, 3, "cannot open include file "
	    "'missing.conf'"));

	/* An error inside an included file names that file and line. */
	snprintf(inc, sizeof(inc), "%s/inc.conf", test_tmp);
	fp = fopen(inc, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
	fprintf(fp, "# included\ngateway: {\n  workers = \"x\";\n};\n");
	fclose(fp);
	f = test_write(LISTENER "@include \"inc.conf\"\n");
	CU_ASSERT_PTR_NULL(test_load(f, NULL));
	CU_ASSERT_TRUE(test_has(inc, 3, "gateway.workers: expected an "
	    "integer"));
}

static void
test_err_unknown(void)
{
	char	*f;

	f = test_write(LISTENER "bogus = 1;\ngateway: {\n  wrokers = 2;\n};\n"
	    "listeners2 = ( { name = \"x\"; listen = \"127.0.0.1:1\";\n"
	    "adress = \"y\"; } );\n");
	CU_ASSERT_PTR_NULL(test_load(f, NULL));
	CU_ASSERT_TRUE(test_has(f, 2, "unknown top-level key 'bogus'"));
	CU_ASSERT_TRUE(test_has(f, 4, "unknown key 'wrokers' in gateway"));
	CU_ASSERT_TRUE(test_has(f, 6, "unknown top-level key 'listeners2'"));

	f = test_write("listeners = (\n"
	    "{ name = \"x\"; listen = \"127.0.0.1:1\"; },\n"
	    "{ name = \"y\"; listen = \"127.0.0.1:2\";\n"
	    "  adress = \"y\"; }\n);\n"
	    "apis = ( " API_HEAD("a", "/a")
	    "endpoints = { mock = { stauts = 200; }; };\n"
	    "resources = ( { path = \"/x\"; method = [ \"GET\" ]; } ); } );\n");
	CU_ASSERT_PTR_NULL(test_load(f, NULL));
	CU_ASSERT_TRUE(test_has(f, 4, "unknown key 'adress' in listeners[1]"));
	CU_ASSERT_TRUE(test_has(f, 7, "unknown key 'stauts' in "
	    "apis[0].endpoints.mock"));
	CU_ASSERT_TRUE(test_has(f, 8, "unknown key 'method' in "
	    "apis[0].resources[0]"));
	CU_ASSERT_EQUAL(test_nlines(test_cause), 3);
}

static void
test_err_type(void)
{
	char	*f;

	f = test_write(LISTENER "gateway: {\n"
	    "  workers = \"4\";\n"
	    "  user = 7;\n"
	    "  trusted_proxies = \"10.0.0.0/8\";\n"
	    "};\n"
	    "limits = 5;\n"
	    "listeners2 = 1;\n");
	CU_ASSERT_PTR_NULL(test_load(f, NULL));
	CU_ASSERT_TRUE(test_has(f, 3, "gateway.workers: expected an integer"));
	CU_ASSERT_TRUE(test_has(f, 4, "gateway.user: expected a string"));
	CU_ASSERT_TRUE(test_has(f, 5, "gateway.trusted_proxies: expected an "
	    "array of strings"));
	CU_ASSERT_TRUE(test_has(f, 7, "limits: expected a group"));

	f = test_write("listeners = { name = \"x\"; };\n");
	CU_ASSERT_PTR_NULL(test_load(f, NULL));
	CU_ASSERT_TRUE(test_has(f, 1, "listeners: expected a list of groups"));

	f = test_write("listeners = ( { name = \"x\"; listen = \"127.0.0.1:1\";"
	    "\n admin = 1; backlog = 1.5; } );\nshm: { size = true; };\n");
	CU_ASSERT_PTR_NULL(test_load(f, NULL));
	CU_ASSERT_TRUE(test_has(f, 2, "listeners[0].admin: expected true or "
	    "false"));
	CU_ASSERT_TRUE(test_has(f, 2, "listeners[0].backlog: expected an "
	    "integer"));
	CU_ASSERT_TRUE(test_has(f, 3, "shm.size: expected a size"));
}

static void
test_err_bare_number(void)
{
	struct mgw_conf	*c;
	char		*f;

	f = test_write(LISTENER "gateway: {\n  drain_timeout = 30;\n};\n"
	    "limits: {\n  header_timeout = \"10\";\n"
	    "  body_timeout = 1.5;\n};\n");
	CU_ASSERT_PTR_NULL(test_load(f, NULL));
	CU_ASSERT_TRUE(test_has(f, 3, "gateway.drain_timeout: a duration "
	    "needs a unit"));
	CU_ASSERT_TRUE(test_has(f, 6, "limits.header_timeout: '10' needs a "
	    "unit"));
	CU_ASSERT_TRUE(test_has(f, 7, "limits.body_timeout: a duration needs "
	    "a unit"));
	CU_ASSERT_EQUAL(test_nlines(test_cause), 3);

	/* A bare byte count is fine for a size. */
	f = test_write(LISTENER "limits: { max_header_size = 2048; "
	    "max_body_size = \"4096\"; };\n");
	c = test_load(f, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->c_limits.max_header_size, 2048);
	CU_ASSERT_EQUAL(c->c_limits.max_body_size, 4096);
	conf_free(c);
}

static void
test_err_unit(void)
{
	char	*f;

	f = test_write(LISTENER "limits: {\n"
	    "  header_timeout = \"10x\";\n"
	    "  body_timeout = \"1.5s\";\n"
	    "  max_body_size = \"10q\";\n"
	    "  max_header_size = \"16kb\";\n"
	    "};\n");
	CU_ASSERT_PTR_NULL(test_load(f, NULL));
	CU_ASSERT_TRUE(test_has(f, 3, "limits.header_timeout: bad duration "
	    "'10x'"));
	CU_ASSERT_TRUE(test_has(f, 4, "limits.body_timeout: bad duration "
	    "'1.5s'"));
	CU_ASSERT_TRUE(test_has(f, 5, "limits.max_body_size: bad size '10q'"));
	CU_ASSERT_TRUE(test_has(f, 6, "limits.max_header_size: bad size "
	    "'16kb'"));
}

static void
test_err_range(void)
{
	char	*f;

	f = test_write(LISTENER "gateway: {\n"
	    "  workers = 300;\n"
	    "  drain_timeout = \"2d\";\n"
	    "};\n"
	    "limits: {\n"
	    "  max_header_size = \"2m\";\n"
	    "  header_timeout = \"0ms\";\n"
	    "  max_connections = 0;\n"
	    "};\n"
	    "shm: { size = \"1k\"; };\n"
	    "apis = ( " API_HEAD("a", "/a") "endpoints = {\n"
	    "  production = [ \"http://127.0.0.1\" ]; retries = 11; };\n"
	    "} );\n"
	    "listeners2 = 0;\n");
	CU_ASSERT_PTR_NULL(test_load(f, NULL));
	CU_ASSERT_TRUE(test_has(f, 3, "gateway.workers: 300 is out of range "
	    "0..256"));
	CU_ASSERT_TRUE(test_has(f, 4, "gateway.drain_timeout: '2d' is out of "
	    "range 0..1d"));
	CU_ASSERT_TRUE(test_has(f, 7, "limits.max_header_size: '2m' is out "
	    "of range 1k..1m"));
	CU_ASSERT_TRUE(test_has(f, 8, "limits.header_timeout: '0ms' is out "
	    "of range 1ms..1d"));
	CU_ASSERT_TRUE(test_has(f, 9, "limits.max_connections: 0 is out of "
	    "range 1..1000000"));
	CU_ASSERT_TRUE(test_has(f, 11, "shm.size: '1k' is out of range "
	    "64k..64g"));
	CU_ASSERT_TRUE(test_has(f, 14, "apis[0].endpoints.retries: 11 is out "
	    "of range 0..10"));

	f = test_write("listeners = ( { name = \"x\"; listen = \"127.0.0.1:1\";"
	    " backlog = -1; },\n{ name = \"a\"; listen = \"127.0.0.1:0\"; },\n"
	    "{ name = \"b\"; listen = \"127.0.0.1:65536\"; } );\n"
	    "apis = ( " API_HEAD("a", "/a") "endpoints = {\n"
	    "mock = { status = 99; }; }; } );\n");
	CU_ASSERT_PTR_NULL(test_load(f, NULL));
	CU_ASSERT_TRUE(test_has(f, 1, "listeners[0].backlog: -1 is out of "
	    "range 1..65535"));
	CU_ASSERT_TRUE(test_has(f, 2, "listeners[1].listen: bad listen "
	    "address '127.0.0.1:0'"));
	CU_ASSERT_TRUE(test_has(f, 3, "listeners[2].listen: bad listen "
	    "address"));
	CU_ASSERT_TRUE(test_has(f, 6, "apis[0].endpoints.mock.status: 99 is "
	    "out of range 100..599"));
}

static void
test_err_dup_listener(void)
{
	char	*f;

	f = test_write("listeners = (\n"
	    "{ name = \"http\"; listen = \"127.0.0.1:9090\"; },\n"
	    "{ name = \"http\"; listen = \"127.0.0.1:9091\"; },\n"
	    "{ name = \"other\"; listen = \"127.0.0.1:9090\"; },\n"
	    "{ name = \"bad name\"; listen = \"[::1]:9092\"; },\n"
	    "{ listen = \"::1:9093\"; }\n"
	    ");\n");
	CU_ASSERT_PTR_NULL(test_load(f, NULL));
	CU_ASSERT_TRUE(test_has(f, 3, "listeners[1]: duplicate listener name "
	    "'http'"));
	CU_ASSERT_TRUE(test_has(f, 4, "listeners[2]: listen address "
	    "'127.0.0.1:9090' is already used by listener 'http'"));
	CU_ASSERT_TRUE(test_has(f, 5, "listeners[3].name: bad name "
	    "'bad name'"));
	CU_ASSERT_TRUE(test_has(f, 6, "listeners[4]: missing required key "
	    "'name'"));
	CU_ASSERT_TRUE(test_has(f, 6, "an IPv6 address needs brackets"));
	CU_ASSERT_EQUAL(test_nlines(test_cause), 5);
}

static void
test_err_dup_base_path(void)
{
	char	*f;

	f = test_write(LISTENER "apis = (\n"
	    API_HEAD("a", "/a") MOCK "},\n"
	    "{ name = \"b\"; version = \"v1\"; base_path = \"/a/\";\n"
	    MOCK "},\n"
	    "{ name = \"c\"; version = \"a\"; base_path = \"/{version}\";\n"
	    MOCK "},\n"
	    "{ name = \"d\"; base_path = \"d\";\n"
	    MOCK "},\n"
	    "{ base_path = \"/e\"; }\n"
	    ");\n");
	CU_ASSERT_PTR_NULL(test_load(f, NULL));
	CU_ASSERT_TRUE(test_has(f, 6, "apis[1]: duplicate base_path '/a' "
	    "(also used by API 'a')"));
	CU_ASSERT_TRUE(test_has(f, 9, "apis[2]: duplicate base_path '/a' "
	    "(also used by API 'a')"));
	CU_ASSERT_TRUE(test_has(f, 12, "apis[3].base_path: 'd' must start "
	    "with '/'"));
	CU_ASSERT_TRUE(test_has(f, 15, "apis[4]: missing required key "
	    "'name'"));
	CU_ASSERT_TRUE(test_has(f, 15, "apis[4]: missing required group "
	    "'endpoints'"));
	CU_ASSERT_EQUAL(test_nlines(test_cause), 5);
}

static void
test_err_template(void)
{
	char	*f;

	f = test_write(LISTENER "apis = ( " API_HEAD("a", "/a") MOCK
	    "resources = (\n"
	    "{ path = \"/a{b}\"; },\n"
	    "{ path = \"/*/x\"; },\n"
	    "{ path = \"/{}\"; },\n"
	    "{ path = \"x\"; },\n"
	    "{ path = \"/a//b\"; },\n"
	    "{ path = \"/{id}/{id}\"; },\n"
	    "{ path = \"/x*\"; },\n"
	    "{ path = \"/ok/{id}/*\"; },\n"
	    "{ methods = [ \"GET\" ]; }\n"
	    "); } );\n");
	CU_ASSERT_PTR_NULL(test_load(f, NULL));
	CU_ASSERT_TRUE(test_has(f, 5, "apis[0].resources[0].path: bad "
	    "resource path '/a{b}'"));
	CU_ASSERT_TRUE(test_has(f, 6, "apis[0].resources[1].path: bad "
	    "resource path '/*/x': '*' must be a whole, last segment"));
	CU_ASSERT_TRUE(test_has(f, 7, "resources[2].path: bad resource path "
	    "'/{}'"));
	CU_ASSERT_TRUE(test_has(f, 8, "resources[3].path: resource path 'x' "
	    "must start with '/'"));
	CU_ASSERT_TRUE(test_has(f, 9, "resources[4].path: bad resource path "
	    "'/a//b': empty segment"));
	CU_ASSERT_TRUE(test_has(f, 10, "resources[5].path: bad resource path "
	    "'/{id}/{id}': parameter {id} used twice"));
	CU_ASSERT_TRUE(test_has(f, 11, "resources[6].path: bad resource "
	    "path '/x*'"));
	CU_ASSERT_TRUE(test_has(f, 13, "apis[0].resources[8]: missing "
	    "required key 'path'"));
	CU_ASSERT_EQUAL(test_nlines(test_cause), 8);
}

static void
test_err_method(void)
{
	char	*f;

	f = test_write(LISTENER "apis = ( " API_HEAD("a", "/a") MOCK
	    "resources = (\n"
	    "{ path = \"/a\"; methods = [ \"GET\",\n"
	    "  \"FETCH\" ]; },\n"
	    "{ path = \"/b\"; methods = [ \"get\" ]; },\n"
	    "{ path = \"/c\"; methods = [ ]; },\n"
	    "{ path = \"/d\"; methods = [ 1 ]; }\n"
	    "); } );\n");
	CU_ASSERT_PTR_NULL(test_load(f, NULL));
	CU_ASSERT_TRUE(test_has(f, 6, "apis[0].resources[0].methods: unknown "
	    "method 'FETCH'"));
	CU_ASSERT_TRUE(test_has(f, 7, "apis[0].resources[1].methods: unknown "
	    "method 'get'"));
	CU_ASSERT_TRUE(test_has(f, 8, "apis[0].resources[2].methods: must "
	    "not be empty"));
	CU_ASSERT_TRUE(test_has(f, 9, "apis[0].resources[3].methods: "
	    "expected an array of strings"));
	CU_ASSERT_EQUAL(test_nlines(test_cause), 4);
}

static void
test_err_url(void)
{
	char	*f;

	f = test_write(LISTENER "apis = ( " API_HEAD("a", "/a")
	    "endpoints = { production = [\n"
	    "  \"ftp://127.0.0.1\",\n"
	    "  \"http://127.0.0.1:99999\",\n"
	    "  \"http://127.0.0.1/x?y=1\",\n"
	    "  \"http://127.0.0.1/x#f\",\n"
	    "  \"http:///x\",\n"
	    "  \"http://u@127.0.0.1\",\n"
	    "  \"http://127.0.0.1:80x/\" ]; }; },\n"
	    API_HEAD("b", "/b") "endpoints = { };\n},\n"
	    API_HEAD("c", "/c") "endpoints = { production = [ ]; };\n},\n"
	    API_HEAD("d", "/d") "endpoints = {\n"
	    "production = [ \"http://127.0.0.1\" ]; mock = { }; }; }\n"
	    ");\n");
	CU_ASSERT_PTR_NULL(test_load(f, NULL));
	CU_ASSERT_TRUE(test_has(f, 4, "apis[0].endpoints.production: bad URL "
	    "'ftp://127.0.0.1'"));
	CU_ASSERT_TRUE(test_has(f, 5, "bad URL 'http://127.0.0.1:99999': bad "
	    "port"));
	CU_ASSERT_TRUE(test_has(f, 6, "'http://127.0.0.1/x?y=1': an endpoint "
	    "cannot have a query or fragment"));
	CU_ASSERT_TRUE(test_has(f, 7, "cannot have a query or fragment"));
	CU_ASSERT_TRUE(test_has(f, 8, "bad URL 'http:///x': no host"));
	CU_ASSERT_TRUE(test_has(f, 9, "user information"));
	CU_ASSERT_TRUE(test_has(f, 10, "bad port"));
	CU_ASSERT_TRUE(test_has(f, 12, "apis[1].endpoints: production or mock "
	    "is required"));
	CU_ASSERT_TRUE(test_has(f, 15, "apis[2].endpoints: production needs "
	    "at least one URL"));
	CU_ASSERT_TRUE(test_has(f, 18, "apis[3].endpoints: set production or "
	    "mock, not both"));
	CU_ASSERT_EQUAL(test_nlines(test_cause), 10);
}

/* https:// endpoints are accepted, with port 443 by default. */
static void
test_https(void)
{
	struct mgw_conf		*c;
	const struct conf_url	*u;
	struct addrinfo		*ai;
	const char		*host;
	char			*f, url[64], hostport[64];

	/*
	 * A host name needs the resolver: a bare chroot (no /etc/hosts)
	 * cannot resolve even localhost, so the name case is checked only
	 * where it resolves, and an address stands in elsewhere.
	 */
	if (getaddrinfo("localhost", NULL, NULL, &ai) == 0) {
		freeaddrinfo(ai);
		host = "localhost";
	} else
		host = "127.0.0.2";
	snprintf(url, sizeof(url), "HTTPS://%s:8443", host);
	snprintf(hostport, sizeof(hostport), "%s:8443", host);
	f = test_write(LISTENER "apis = ( " API_HEAD("a", "/a")
	    "endpoints = {\n"
	    "  production = [ \"https://127.0.0.1/v1\",\n"
	    "    \"%s\" ];\n"
	    "  tls = { verify = false; server_name = \"api.test\"; }; }; } );\n",
	    url);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c = test_load(f, NULL));
	u = c->c_apis[0].a_endpoints.ep_production;
	CU_ASSERT_TRUE(u[0].u_tls && u[1].u_tls);
	CU_ASSERT_EQUAL(ntohs(((struct sockaddr_in *)&u[0].u_ss)->sin_port),
	    443);
	CU_ASSERT_STRING_EQUAL(u[0].u_tlsname, "127.0.0.1");
	CU_ASSERT_STRING_EQUAL(u[1].u_tlsname, host);
	CU_ASSERT_STRING_EQUAL(u[1].u_host, hostport);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c->c_apis[0].a_endpoints.ep_tls);
	CU_ASSERT_FALSE(c->c_apis[0].a_endpoints.ep_tls->ut_verify);
	conf_free(c);
}

/* A listener's tls group: defaults and the checks of conf.c. */
/* security: every mechanism's keys, defaults, and their errors. */
static void
test_security(void)
{
	struct mgw_conf			*c;
	const struct conf_security	*sec;
	char				*f;

	f = test_write("listeners = ( { name = \"h\"; listen = \"127.0.0.1:1\"; } );\n"
	    "security = {\n"
	    "  jwt = ( { issuer = \"i\"; jwks_url = \"https://idp/jwks\";\n"
	    "    jwks_refresh = \"1m\"; jwks_ca = \"ca.pem\"; } );\n"
	    "  api_key_query = \"key\"; htpasswd = \"users\";\n"
	    "  introspection = { url = \"http://127.0.0.1:9/i\";\n"
	    "    client_id = \"gw\"; client_secret = \"s\"; timeout = \"500ms\"; };\n"
	    "  token_cache = { size = \"1m\"; ttl = \"1m\"; negative_ttl = \"0s\"; };\n"
	    "  revocation_file = \"\"; revocation_max = 100; };\n"
	    "consumers = ( { name = \"x\"; basic_users = [ \"bob\" ];\n"
	    "  api_keys = [ \"SHA256:AB" "00000000000000000000000000000000000000000000000000000000000000\" ]; } );\n"
	    "apis = ( " API_HEAD("a", "/a") MOCK
	    "security = [ \"oauth2\", \"basic\", \"api_key\", \"jwt\" ]; } );\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c = test_load(f, NULL));
	sec = authn_security(c);
	CU_ASSERT_STRING_EQUAL(sec->s_jwt[0].ji_jwks_url, "https://idp/jwks");
	CU_ASSERT_EQUAL(sec->s_jwt[0].ji_jwks_refresh, 60 * 1000ULL);
	CU_ASSERT_EQUAL(sec->s_jwt[0].ji_jwks_timeout, 5 * 1000ULL);
	CU_ASSERT_STRING_EQUAL(sec->s_api_key_header, "apikey");
	CU_ASSERT_STRING_EQUAL(sec->s_api_key_query, "key");
	CU_ASSERT_STRING_EQUAL(sec->s_basic_realm, "mgw");
	CU_ASSERT_PTR_NOT_NULL_FATAL(sec->s_introspection);
	CU_ASSERT_EQUAL(sec->s_introspection->in_timeout, 500ULL);
	CU_ASSERT_TRUE(sec->s_introspection->in_verify);
	CU_ASSERT_EQUAL(sec->s_token_cache.tc_size, 1024 * 1024ULL);
	CU_ASSERT_EQUAL(sec->s_token_cache.tc_negative_ttl, 0ULL);
	CU_ASSERT_PTR_NULL(sec->s_revocation_file);
	CU_ASSERT_EQUAL(sec->s_revocation_max, 100U);
	CU_ASSERT_STRING_EQUAL(authn_consumer(c, 0)->cs_api_keys[0], "sha256:ab"
	    "00000000000000000000000000000000000000000000000000000000000000");
	CU_ASSERT_STRING_EQUAL(authn_consumer(c, 0)->cs_basic_users[0], "bob");
	CU_ASSERT_EQUAL(authn_api(c, 0)->a_nsecurity, 4);
	conf_free(c);

	/* Defaults: header apikey, cache on, revocations persisted. */
	f = test_write("listeners = ( { name = \"h\"; listen = \"127.0.0.1:1\"; } );\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c = test_load(f, NULL));
	sec = authn_security(c);
	CU_ASSERT_PTR_NULL(sec->s_introspection);
	CU_ASSERT_PTR_NULL(sec->s_htpasswd);
	CU_ASSERT_PTR_NULL(sec->s_api_key_query);
	CU_ASSERT_EQUAL(sec->s_token_cache.tc_size, 8 * 1024 * 1024ULL);
	CU_ASSERT_EQUAL(sec->s_token_cache.tc_ttl, 300 * 1000ULL);
	CU_ASSERT_EQUAL(sec->s_token_cache.tc_negative_ttl, 10 * 1000ULL);
	CU_ASSERT_PTR_NOT_NULL(sec->s_revocation_file);
	CU_ASSERT_EQUAL(sec->s_revocation_max, 10000U);
	conf_free(c);

	f = test_write("listeners = ( { name = \"h\"; listen = \"127.0.0.1:1\"; } );\n"
	    "security = {\n"
	    "  jwt = ( { issuer = \"i\"; jwks_url = \"ftp://idp/jwks\"; },\n"
	    "    { issuer = \"j\"; jwks_url = \"http://a/\"; jwks_file = \"f\"; } );\n"
	    "  api_key_header = \"\"; api_key_query = \"a b\";\n"
	    "  introspection = { client_id = \"gw\"; };\n"
	    "  token_cache = { ttl = \"10ms\"; }; };\n"
	    "consumers = ( { name = \"x\"; api_keys = [ \"secret\" ]; } );\n"
	    "apis = ( " API_HEAD("a", "/a") MOCK
	    "security = [ \"basic\", \"jwt\", \"jwt\", \"saml\" ]; } );\n");
	CU_ASSERT_PTR_NULL(test_load(f, NULL));
	CU_ASSERT_TRUE(test_has(f, 3, "security.jwt[0].jwks_url: 'ftp://idp/"
	    "jwks' is not an http:// or https:// URL"));
	CU_ASSERT_TRUE(test_has(f, 4, "security.jwt[1]: set one of jwks_file, "
	    "jwks_url or keys"));
	CU_ASSERT_TRUE(test_has(f, 5, "bad query parameter name 'a b'"));
	CU_ASSERT_TRUE(test_has(f, 6, "security.introspection: missing "
	    "required key 'url'"));
	CU_ASSERT_TRUE(test_has(f, 6, "client_id and client_secret go "
	    "together"));
	CU_ASSERT_TRUE(test_has(f, 7, "security.token_cache.ttl"));
	CU_ASSERT_TRUE(test_has(f, 8, "consumers[0].api_keys: bad API key "
	    "hash"));
	CU_ASSERT_TRUE(test_has(f, 11, "basic needs security.htpasswd"));
	CU_ASSERT_TRUE(test_has(f, 11, "security mechanism 'jwt' listed "
	    "twice"));
	CU_ASSERT_TRUE(test_has(f, 11, "unknown security mechanism 'saml'"));
	CU_ASSERT_EQUAL(test_nlines(test_cause), 10);
}

static void
test_tls_listener(void)
{
	struct mgw_conf		*c;
	const struct conf_tls	*t;
	char			*f;

	f = test_write("listeners = ( { name = \"s\"; listen = \"127.0.0.1:1\";\n"
	    "  tls = { certificate = \"c.pem\"; key = \"k.pem\"; }; } );\n"
	    "consumers = ( { name = \"x\";\n"
	    "  certificates = [ \"SHA256:AB:cd" "000000000000000000000000000000"
	    "000000000000000000000000000000\" ]; } );\n"
	    "apis = ( " API_HEAD("a", "/a") MOCK "mutual_tls = \"mandatory\"; } );\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c = test_load(f, NULL));
	t = c->c_listeners[0].l_tls;
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_EQUAL(t->t_nprotocols, 2);
	CU_ASSERT_STRING_EQUAL(t->t_protocols[0], "TLSv1.2");
	CU_ASSERT_EQUAL(t->t_verify, CONF_VERIFY_OFF);
	CU_ASSERT_FALSE(t->t_sni_refuse);
	CU_ASSERT_TRUE(t->t_tickets);
	CU_ASSERT_EQUAL(t->t_ticket_rotation, 12 * 3600 * 1000ULL);
	CU_ASSERT_EQUAL(t->t_session_timeout, 300 * 1000ULL);
	CU_ASSERT_PTR_NOT_NULL(strstr(t->t_ciphers, "ECDHE-ECDSA-AES128-GCM"));
	CU_ASSERT_EQUAL(c->c_apis[0].a_mutual_tls, CONF_MTLS_MANDATORY);
	CU_ASSERT_STRING_EQUAL(c->c_consumers[0].cs_certificates[0],
	    "sha256:abcd" "000000000000000000000000000000"
	    "000000000000000000000000000000");
	conf_free(c);

	f = test_write("listeners = ( { name = \"s\"; listen = \"127.0.0.1:1\";\n"
	    "  tls = { certificate = \"c.pem\"; key = \"k.pem\";\n"
	    "    protocols = [ \"SSLv3\" ];\n"
	    "    unknown_sni = \"maybe\";\n"
	    "    verify_client = \"sometimes\";\n"
	    "    crl = \"crl.pem\"; }; },\n"
	    "  { name = \"t\"; listen = \"127.0.0.1:2\";\n"
	    "    tls = { certificate = \"c.pem\"; verify_client = \"required\"; }; } );\n"
	    "consumers = ( { name = \"x\"; certificates = [ \"md5:00\" ]; } );\n"
	    "apis = ( " API_HEAD("a", "/a") MOCK "mutual_tls = \"always\"; },\n"
	    API_HEAD("b", "/b") "endpoints = { production = [ \"https://127.0.0.1\" ];\n"
	    "  tls = { certificate = \"c.pem\"; }; }; } );\n");
	CU_ASSERT_PTR_NULL(test_load(f, NULL));
	CU_ASSERT_TRUE(test_has(f, 3, "listeners[0].tls.protocols: unknown "
	    "protocol 'SSLv3'"));
	CU_ASSERT_TRUE(test_has(f, 4, "listeners[0].tls.unknown_sni: 'maybe'"));
	CU_ASSERT_TRUE(test_has(f, 5, "listeners[0].tls.verify_client: "
	    "'sometimes'"));
	CU_ASSERT_TRUE(test_has(f, 2, "listeners[0].tls: crl needs client_ca"));
	CU_ASSERT_TRUE(test_has(f, 8, "listeners[1].tls: missing required key "
	    "'key'"));
	CU_ASSERT_TRUE(test_has(f, 8, "listeners[1].tls: verify_client "
	    "required needs client_ca"));
	CU_ASSERT_TRUE(test_has(f, 9, "consumers[0].certificates: bad "
	    "certificate fingerprint 'md5:00'"));
	CU_ASSERT_TRUE(test_has(f, 12, "apis[0].mutual_tls: 'always'"));
	CU_ASSERT_TRUE(test_has(f, 15, "apis[1].endpoints.tls: certificate and "
	    "key go together"));
	CU_ASSERT_EQUAL(test_nlines(test_cause), 9);
}

static void
test_err_cidr(void)
{
	char	*f;

	f = test_write(LISTENER "gateway: {\n"
	    "  trusted_proxies = [\n"
	    "    \"10.0.0.0/33\",\n"
	    "    \"nonsense\",\n"
	    "    \"::1/129\",\n"
	    "    \"10.0.0.0/\",\n"
	    "    \"10.1.2.3/8\"\n"
	    "  ];\n"
	    "};\n");
	CU_ASSERT_PTR_NULL(test_load(f, NULL));
	CU_ASSERT_TRUE(test_has(f, 3, "gateway.trusted_proxies: bad CIDR "
	    "'10.0.0.0/33'"));
	CU_ASSERT_TRUE(test_has(f, 3, "bad CIDR 'nonsense'"));
	CU_ASSERT_TRUE(test_has(f, 3, "bad CIDR '::1/129'"));
	CU_ASSERT_TRUE(test_has(f, 3, "bad CIDR '10.0.0.0/'"));
	/* Host bits are cleared, not refused. */
	CU_ASSERT_EQUAL(test_nlines(test_cause), 4);
}

static void
test_err_no_listeners(void)
{
	char	*f;

	f = test_write("gateway: { workers = 1; };\n");
	CU_ASSERT_PTR_NULL(test_load(f, NULL));
	CU_ASSERT_TRUE(test_has(f, 1, "no listeners defined"));

	f = test_write("gateway: { workers = 1; };\nlisteners = ( );\n");
	CU_ASSERT_PTR_NULL(test_load(f, NULL));
	CU_ASSERT_TRUE(test_has(f, 2, "no listeners defined"));

	f = test_write("\n\nlisteners = [ ];\n");
	CU_ASSERT_PTR_NULL(test_load(f, NULL));
	CU_ASSERT_TRUE(test_has(f, 3, "no listeners defined"));
}

/* One run reports every problem, one per line. */
static void
test_err_multiple(void)
{
	char	*f;

	f = test_write("gateway: {\n"
	    "  workers = -1;\n"
	    "  drain_timeout = 5;\n"
	    "  colour = \"blue\";\n"
	    "};\n"
	    "listeners = (\n"
	    "  { name = \"a\"; listen = \"nowhere\"; },\n"
	    "  { name = \"a\"; listen = \"127.0.0.1:1\"; }\n"
	    ");\n"
	    "apis = ( " API_HEAD("x", "/x")
	    "endpoints = { production = [ \"ftp://127.0.0.1\" ]; };\n"
	    "resources = ( { path = \"/{\"; methods = [ \"GOT\" ]; } );\n"
	    "} );\n");
	CU_ASSERT_PTR_NULL(test_load(f, NULL));
	CU_ASSERT_TRUE(test_has(f, 4, "unknown key 'colour' in gateway"));
	CU_ASSERT_TRUE(test_has(f, 2, "gateway.workers: -1 is out of range"));
	CU_ASSERT_TRUE(test_has(f, 3, "gateway.drain_timeout: a duration needs "
	    "a unit"));
	CU_ASSERT_TRUE(test_has(f, 7, "listeners[0].listen: bad listen "
	    "address 'nowhere'"));
	CU_ASSERT_TRUE(test_has(f, 8, "listeners[1]: duplicate listener name "
	    "'a'"));
	CU_ASSERT_TRUE(test_has(f, 11, "bad URL 'ftp://127.0.0.1': expected "
	    "http[s]://"));
	CU_ASSERT_TRUE(test_has(f, 12, "apis[0].resources[0].path: bad "
	    "resource path '/{'"));
	CU_ASSERT_TRUE(test_has(f, 12, "unknown method 'GOT'"));
	CU_ASSERT_EQUAL(test_nlines(test_cause), 8);
}

/* policies, throttling and consumers: every key, and policy lookup. */
static void
test_throttle_full(void)
{
	struct mgw_conf			*c;
	const struct throttle_conf_policy	*p;
	struct conf_api			*a;

	c = test_load(test_write(LISTENER
	    "policies = (\n"
	    "  { name = \"Gold\"; requests = 7000; per = \"1m\"; },\n"
	    "  { name = \"10PerMin\"; requests = 10; per = \"1m\";\n"
	    "    algorithm = \"sliding_log\"; },\n"
	    "  { name = \"burst\"; requests = 100; per = \"1s\";\n"
	    "    algorithm = \"token_bucket\"; burst = 200; },\n"
	    "  { name = \"probe\"; requests = 10; per = \"1s\"; "
	    "dry_run = true; },\n"
	    "  { name = \"big.log\"; requests = 10000; per = \"366d\";\n"
	    "    algorithm = \"sliding_log\"; },\n"
	    "  { name = \"sw\"; requests = 4294967295L; per = \"1ms\";\n"
	    "    algorithm = \"sliding_window\"; },\n"
	    "  { name = \"fw\"; requests = 1; per = \"1h\";\n"
	    "    algorithm = \"fixed_window\"; }\n"
	    ");\n"
	    "throttling: {\n"
	    "  headers = false;\n"
	    "  consumer_header = \"X-Consumer\";\n"
	    "  unauthenticated_tier = \"probe\";\n"
	    "};\n"
	    "consumers = (\n"
	    "  { name = \"mobile-app\"; tier = \"10PerMin\"; "
	    "subscription_tier = \"Gold\"; },\n"
	    "  { name = \"web\"; }\n"
	    ");\n"
	    "apis = ( " API_HEAD("petstore", "/pets")
	    "throttling = \"10kPerMin\"; subscription_tier = \"Silver\";\n"
	    MOCK "resources = ( { path = \"/x\"; throttling = \"burst\"; },\n"
	    "{ path = \"/y\"; } ); },\n"
	    API_HEAD("free", "/free") MOCK "} );\n"), NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);

	CU_ASSERT_EQUAL_FATAL(TH(c)->tc_npolicies, 7);
	p = TH(c)->tc_policies;
	CU_ASSERT_STRING_EQUAL(p[0].p_name, "Gold");
	CU_ASSERT_EQUAL(p[0].p_requests, 7000);
	CU_ASSERT_EQUAL(p[0].p_per, 60000);
	CU_ASSERT_PTR_NULL(p[0].p_algorithm);
	CU_ASSERT_EQUAL(p[0].p_algo, THROTTLE_FIXED_WINDOW);
	CU_ASSERT_EQUAL(p[0].p_burst, 0);
	CU_ASSERT_EQUAL(p[0].p_dry_run, 0);
	CU_ASSERT_STRING_EQUAL(p[1].p_algorithm, "sliding_log");
	CU_ASSERT_EQUAL(p[1].p_algo, THROTTLE_SLIDING_LOG);
	CU_ASSERT_EQUAL(p[2].p_algo, THROTTLE_TOKEN_BUCKET);
	CU_ASSERT_EQUAL(p[2].p_requests, 100);
	CU_ASSERT_EQUAL(p[2].p_per, 1000);
	CU_ASSERT_EQUAL(p[2].p_burst, 200);
	CU_ASSERT_EQUAL(p[3].p_dry_run, 1);
	CU_ASSERT_EQUAL(p[3].p_algo, THROTTLE_FIXED_WINDOW);
	CU_ASSERT_EQUAL(p[4].p_requests, THROTTLE_LOG_MAX);
	CU_ASSERT_EQUAL(p[4].p_per, 366ULL * 86400 * 1000);
	CU_ASSERT_EQUAL(p[5].p_algo, THROTTLE_SLIDING_WINDOW);
	CU_ASSERT_EQUAL(p[5].p_requests, 4294967295ULL);
	CU_ASSERT_EQUAL(p[5].p_per, 1);
	CU_ASSERT_EQUAL(p[6].p_algo, THROTTLE_FIXED_WINDOW);
	CU_ASSERT_STRING_EQUAL(p[6].p_algorithm, "fixed_window");

	CU_ASSERT_EQUAL(TH(c)->tc_throttling.t_headers, 0);
	CU_ASSERT_STRING_EQUAL(TH(c)->tc_throttling.t_consumer_header,
	    "X-Consumer");
	CU_ASSERT_STRING_EQUAL(TH(c)->tc_throttling.t_unauthenticated_tier,
	    "probe");

	CU_ASSERT_EQUAL_FATAL(c->c_nconsumers, 2);
	CU_ASSERT_STRING_EQUAL(c->c_consumers[0].cs_name, "mobile-app");
	CU_ASSERT_STRING_EQUAL(TK(&c->c_consumers[0])->tk_tier, "10PerMin");
	CU_ASSERT_STRING_EQUAL(TK(&c->c_consumers[0])->tk_subscription_tier,
	    "Gold");
	CU_ASSERT_STRING_EQUAL(c->c_consumers[1].cs_name, "web");
	CU_ASSERT_PTR_NULL(TK(&c->c_consumers[1])->tk_tier);
	CU_ASSERT_PTR_NULL(TK(&c->c_consumers[1])->tk_subscription_tier);

	CU_ASSERT_EQUAL_FATAL(c->c_napis, 2);
	a = &c->c_apis[0];
	CU_ASSERT_STRING_EQUAL(TA(a)->ta_throttling, "10kPerMin");
	CU_ASSERT_STRING_EQUAL(TA(a)->ta_subscription_tier, "Silver");
	CU_ASSERT_EQUAL_FATAL(a->a_nresources, 2);
	CU_ASSERT_STRING_EQUAL(TR(&a->a_resources[0])->tr_throttling, "burst");
	CU_ASSERT_PTR_NULL(TR(&a->a_resources[1])->tr_throttling);
	CU_ASSERT_PTR_NULL(TA(&c->c_apis[1])->ta_throttling);
	CU_ASSERT_PTR_NULL(TA(&c->c_apis[1])->ta_subscription_tier);

	/* A configured policy overrides the built-in of the same name. */
	CU_ASSERT_PTR_EQUAL(throttle_policy_find(TH(c), "Gold"), &p[0]);
	CU_ASSERT_PTR_EQUAL(throttle_policy_find(TH(c), "10PerMin"), &p[1]);
	CU_ASSERT_PTR_EQUAL(throttle_policy_find(TH(c), "burst"), &p[2]);
	CU_ASSERT_PTR_EQUAL(throttle_policy_find(TH(c), "Silver"),
	    throttle_policy_builtin("Silver"));
	CU_ASSERT_PTR_NULL(throttle_policy_find(TH(c), "Platinum"));
	CU_ASSERT_PTR_NULL(throttle_policy_find(TH(c), "gold"));
	CU_ASSERT_PTR_NULL(throttle_policy_find(TH(c), NULL));
	conf_free(c);
}

/* The built-in table, and defaults without any throttling key. */
static void
test_throttle_builtin(void)
{
	static const struct {
		const char	*name;
		uint64_t	 requests;
	} want[] = {
		{ "10kPerMin", 10000 }, { "20kPerMin", 20000 },
		{ "50kPerMin", 50000 }, { "10PerMin", 10 },
		{ "20PerMin", 20 }, { "50PerMin", 50 }, { "Gold", 5000 },
		{ "Silver", 2000 }, { "Bronze", 1000 },
		{ "Unauthenticated", 500 }
	};
	const struct throttle_conf_policy	*p;
	struct mgw_conf			*c;
	size_t				 i;

	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		p = throttle_policy_builtin(want[i].name);
		CU_ASSERT_PTR_NOT_NULL_FATAL(p);
		CU_ASSERT_STRING_EQUAL(p->p_name, want[i].name);
		CU_ASSERT_EQUAL(p->p_requests, want[i].requests);
		CU_ASSERT_EQUAL(p->p_per, 60000);
		CU_ASSERT_EQUAL(p->p_algo, THROTTLE_FIXED_WINDOW);
		CU_ASSERT_EQUAL(p->p_burst, 0);
		CU_ASSERT_EQUAL(p->p_dry_run, 0);
		CU_ASSERT_PTR_EQUAL(throttle_policy_find(NULL, want[i].name), p);
	}
	p = throttle_policy_builtin("Unlimited");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(p->p_requests, 0);
	CU_ASSERT_PTR_NULL(throttle_policy_builtin("Platinum"));
	CU_ASSERT_PTR_NULL(throttle_policy_builtin("unlimited"));
	CU_ASSERT_PTR_NULL(throttle_policy_builtin(""));
	CU_ASSERT_PTR_NULL(throttle_policy_builtin(NULL));

	c = test_load(test_write(LISTENER "apis = ( " API_HEAD("a", "/a")
	    MOCK "throttling = \"Unlimited\"; } );\n"), NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(TH(c)->tc_npolicies, 0);
	CU_ASSERT_PTR_NULL(TH(c)->tc_policies);
	CU_ASSERT_EQUAL(c->c_nconsumers, 0);
	CU_ASSERT_PTR_NULL(c->c_consumers);
	CU_ASSERT_EQUAL(TH(c)->tc_throttling.t_headers, 1);
	CU_ASSERT_PTR_NULL(TH(c)->tc_throttling.t_consumer_header);
	CU_ASSERT_STRING_EQUAL(TH(c)->tc_throttling.t_unauthenticated_tier,
	    "Unlimited");
	CU_ASSERT_STRING_EQUAL(TA(&c->c_apis[0])->ta_throttling, "Unlimited");
	CU_ASSERT_PTR_EQUAL(throttle_policy_find(TH(c), "Unlimited"),
	    throttle_policy_builtin("Unlimited"));
	conf_free(c);

	/* Empty lists are allowed. */
	c = test_load(test_write(LISTENER "policies = ( );\n"
	    "consumers = ( );\n"), NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(TH(c)->tc_npolicies, 0);
	CU_ASSERT_EQUAL(c->c_nconsumers, 0);
	conf_free(c);
}

/* Each way a policy can be wrong, at the offending key's line. */
static void
test_err_policy(void)
{
	char	*f;

	f = test_write(LISTENER "policies = (\n"
	    "  { name = \"a\"; requests = 10; per = \"1m\";\n"
	    "    algorithm = \"leaky_bucket\"; },\n"
	    "  { name = \"b\"; per = \"1m\"; algorithm = \"sliding_log\";\n"
	    "    requests = 10001; },\n"
	    "  { name = \"c\"; requests = 10; per = \"1m\";\n"
	    "    burst = 20; },\n"
	    "  { name = \"d\"; requests = 0; per = \"1m\"; },\n"
	    "  { name = \"e\"; requests = 10; per = 60; },\n"
	    "  { name = \"f\"; requests = -5; per = \"1m\"; },\n"
	    "  { name = \"g\"; requests = 4294967296L; per = \"1m\"; },\n"
	    "  { name = \"h\"; requests = 1; per = \"367d\"; },\n"
	    "  { name = \"i\"; requests = 1; per = \"0s\"; },\n"
	    "  { name = \"a\"; requests = 1; per = \"1s\"; },\n"
	    "  { name = \"j\"; requests = 1; per = \"1s\";\n"
	    "    algorithm = \"sliding_window\"; burst = 0; },\n"
	    "  { name = \"k k\"; per = \"1s\"; },\n"
	    "  { name = \"l\"; requests = 1; per = \"366d\";\n"
	    "    algorithm = \"token_bucket\"; burst = 4294967295L; },\n"
	    "  { requests = \"10\"; per = \"1s\"; dry_run = 1; }\n"
	    ");\n");
	CU_ASSERT_PTR_NULL(test_load(f, NULL));
	CU_ASSERT_TRUE(test_has(f, 4, "policies[0].algorithm: unknown "
	    "algorithm 'leaky_bucket' (use fixed_window, sliding_log, "
	    "sliding_window or token_bucket)"));
	CU_ASSERT_TRUE(test_has(f, 6, "policies[1].requests: 10001 is over "
	    "10000: sliding_log keeps one timestamp per request; use "
	    "sliding_window above 10000"));
	CU_ASSERT_TRUE(test_has(f, 8, "policies[2].burst: burst applies to "
	    "token_bucket only, not fixed_window"));
	CU_ASSERT_TRUE(test_has(f, 9, "policies[3].requests: 0 is out of "
	    "range 1..4294967295"));
	CU_ASSERT_TRUE(test_has(f, 10, "policies[4].per: a duration needs a "
	    "unit"));
	CU_ASSERT_TRUE(test_has(f, 11, "policies[5].requests: -5 is out of "
	    "range 1..4294967295"));
	CU_ASSERT_TRUE(test_has(f, 12, "policies[6].requests: 4294967296 is "
	    "out of range 1..4294967295"));
	CU_ASSERT_TRUE(test_has(f, 13, "policies[7].per: '367d' is out of "
	    "range 1ms..366d"));
	CU_ASSERT_TRUE(test_has(f, 14, "policies[8].per: '0s' is out of "
	    "range 1ms..366d"));
	CU_ASSERT_TRUE(test_has(f, 15, "policies[9]: duplicate policy name "
	    "'a'"));
	CU_ASSERT_TRUE(test_has(f, 17, "policies[10].burst: burst applies "
	    "to token_bucket only, not sliding_window"));
	CU_ASSERT_TRUE(test_has(f, 18, "policies[11].name: bad name 'k k'"));
	CU_ASSERT_TRUE(test_has(f, 18, "policies[11]: missing required key "
	    "'requests'"));
	CU_ASSERT_TRUE(test_has(f, 20, "policies[12].burst: burst too large "
	    "for the period"));
	CU_ASSERT_TRUE(test_has(f, 21, "policies[13]: missing required key "
	    "'name'"));
	CU_ASSERT_TRUE(test_has(f, 21, "policies[13].requests: expected an "
	    "integer"));
	CU_ASSERT_TRUE(test_has(f, 21, "policies[13].dry_run: expected true "
	    "or false"));
	CU_ASSERT_EQUAL(test_nlines(test_cause), 17);
}

/* A reference to an unknown policy, in each of the six places. */
static void
test_err_policy_ref(void)
{
	char	*f;

	f = test_write(LISTENER
	    "policies = ( { name = \"Platinum2\"; requests = 1; "
	    "per = \"1s\"; } );\n"
	    "throttling: {\n"
	    "  unauthenticated_tier = \"Anonymous\";\n"
	    "};\n"
	    "consumers = (\n"
	    "  { name = \"a\"; tier = \"Platinum2\";\n"
	    "    subscription_tier = \"Diamond\"; },\n"
	    "  { name = \"b\";\n"
	    "    tier = \"Platinum\"; }\n"
	    ");\n"
	    "apis = ( " API_HEAD("a", "/a") MOCK
	    "  throttling = \"100kPerMin\";\n"
	    "  subscription_tier = \"silver\";\n"
	    "  resources = ( { path = \"/x\";\n"
	    "    throttling = \"Copper\"; } ); } );\n");
	CU_ASSERT_PTR_NULL(test_load(f, NULL));
	CU_ASSERT_TRUE(test_has(f, 4, "throttling.unauthenticated_tier: "
	    "unknown policy 'Anonymous'"));
	CU_ASSERT_TRUE(test_has(f, 8, "consumers[0].subscription_tier: "
	    "unknown policy 'Diamond'"));
	CU_ASSERT_TRUE(test_has(f, 10, "consumers[1].tier: unknown policy "
	    "'Platinum'"));
	CU_ASSERT_TRUE(test_has(f, 14, "apis[0].throttling: unknown policy "
	    "'100kPerMin'"));
	CU_ASSERT_TRUE(test_has(f, 15, "apis[0].subscription_tier: unknown "
	    "policy 'silver'"));
	CU_ASSERT_TRUE(test_has(f, 17, "apis[0].resources[0].throttling: "
	    "unknown policy 'Copper'"));
	CU_ASSERT_EQUAL(test_nlines(test_cause), 6);

	/*
	 * The order in the file does not matter: policies is walked before
	 * every key that references one.
	 */
	f = test_write(LISTENER
	    "apis = ( " API_HEAD("a", "/a") MOCK
	    "  throttling = \"late\"; } );\n"
	    "policies = ( { name = \"late\"; requests = 1; per = \"1s\"; } );\n"
	    "throttling: { consumer_header = \"X Consumer\"; };\n");
	CU_ASSERT_PTR_NULL(test_load(f, NULL));
	CU_ASSERT_TRUE(test_has(f, 6, "throttling.consumer_header: bad header "
	    "name 'X Consumer'"));
	CU_ASSERT_EQUAL(test_nlines(test_cause), 1);
}

static void
test_err_dup_consumer(void)
{
	char	*f;

	f = test_write(LISTENER "consumers = (\n"
	    "  { name = \"app\"; },\n"
	    "  { name = \"other\"; },\n"
	    "  { name = \"app\"; tier = \"Gold\"; },\n"
	    "  { tier = \"Gold\"; },\n"
	    "  { name = \"bad/name\"; }\n"
	    ");\n");
	CU_ASSERT_PTR_NULL(test_load(f, NULL));
	CU_ASSERT_TRUE(test_has(f, 5, "consumers[2]: duplicate consumer name "
	    "'app'"));
	CU_ASSERT_TRUE(test_has(f, 6, "consumers[3]: missing required key "
	    "'name'"));
	CU_ASSERT_TRUE(test_has(f, 7, "consumers[4].name: bad name "
	    "'bad/name'"));
	CU_ASSERT_EQUAL(test_nlines(test_cause), 3);
}

static const char *test_env_conf =
    "listeners = (\n"
    "  { name = \"http\"; listen = \"127.0.0.1:9090\"; },\n"
    "  { name = \"admin-1\"; listen = \"127.0.0.1:9091\"; }\n"
    ");\n"
    "apis = (\n"
    "  { name = \"petstore\"; base_path = \"/pets\";\n"
    "    endpoints = { production = [ \"http://127.0.0.1:8080\" ]; }; },\n"
    "  { name = \"my_api.v2\"; base_path = \"/my\";\n"
    "    endpoints = { mock = { status = 200; }; }; }\n"
    ");\n";

static void
test_env_scalar(void)
{
	struct mgw_conf	*c;
	char		*env[] = {
		"PATH=/bin",
		"MGW_GATEWAY_WORKERS=4",
		"MGW_GATEWAY_ERROR_LOG=stderr",
		"MGW_LIMITS_MAX_BODY_SIZE=1m",
		"MGW_SHM_SIZE=8m",
		"MGW_GATEWAY_DRAIN_TIMEOUT=5s",
		NULL
	};

	c = test_load(test_write("%s", test_env_conf), env);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->c_gateway.workers, 4);
	CU_ASSERT_STRING_EQUAL(c->c_gateway.error_log, "stderr");
	CU_ASSERT_EQUAL(c->c_limits.max_body_size, 1024 * 1024);
	CU_ASSERT_EQUAL(c->c_shm.size, 8 * 1024 * 1024);
	CU_ASSERT_EQUAL(c->c_gateway.drain_timeout, 5000);
	CU_ASSERT_EQUAL_FATAL(c->c_noverrides, 5);
	CU_ASSERT_STRING_EQUAL(c->c_overrides[0], "MGW_GATEWAY_WORKERS=4");
	CU_ASSERT_STRING_EQUAL(c->c_overrides[4],
	    "MGW_GATEWAY_DRAIN_TIMEOUT=5s");
	conf_free(c);

	/* The environment wins over the file. */
	c = test_load(test_write(LISTENER "gateway: { workers = 2; };\n"),
	    env);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->c_gateway.workers, 4);
	conf_free(c);
}

static void
test_env_item(void)
{
	struct mgw_conf	*c;
	char		*env[] = {
		"MGW_LISTENERS_HTTP_LISTEN=127.0.0.1:8080",
		"MGW_LISTENERS_ADMIN_1_ADMIN=yes",
		"MGW_LISTENERS_ADMIN_1_BACKLOG=64",
		"MGW_APIS_PETSTORE_BASE_PATH=/p",
		"MGW_APIS_PETSTORE_ENDPOINTS_TIMEOUT=5s",
		"MGW_APIS_MY_API_V2_ENDPOINTS_MOCK_STATUS=201",
		"MGW_APIS_MY_API_V2_ENDPOINTS_MOCK_BODY=hello",
		NULL
	};

	c = test_load(test_write("%s", test_env_conf), env);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_STRING_EQUAL(c->c_listeners[0].l_listen, "127.0.0.1:8080");
	CU_ASSERT_EQUAL(test_port(&c->c_listeners[0].l_ss), 8080);
	CU_ASSERT_EQUAL(c->c_listeners[1].l_admin, 1);
	CU_ASSERT_EQUAL(c->c_listeners[1].l_backlog, 64);
	CU_ASSERT_STRING_EQUAL(c->c_apis[0].a_base_path, "/p");
	CU_ASSERT_EQUAL(c->c_apis[0].a_endpoints.ep_timeout, 5000);
	CU_ASSERT_EQUAL(c->c_apis[1].a_endpoints.ep_mock_status, 201);
	CU_ASSERT_STRING_EQUAL(c->c_apis[1].a_endpoints.ep_mock_body, "hello");
	CU_ASSERT_EQUAL(c->c_apis[1].a_endpoints.ep_mock_bodylen, 5);
	CU_ASSERT_EQUAL(c->c_noverrides, 7);
	conf_free(c);
}

static void
test_env_array(void)
{
	struct mgw_conf		*c;
	struct conf_endpoints	*ep;
	char			*env[] = {
		"MGW_APIS_PETSTORE_ENDPOINTS_PRODUCTION="
		    "http://127.0.0.1:1, http://127.0.0.1:2/x",
		"MGW_GATEWAY_TRUSTED_PROXIES=10.0.0.0/8,::1",
		NULL
	};

	c = test_load(test_write("%s", test_env_conf), env);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	ep = &c->c_apis[0].a_endpoints;
	CU_ASSERT_EQUAL_FATAL(ep->ep_nproduction, 2);
	CU_ASSERT_STRING_EQUAL(ep->ep_production[0].u_url,
	    "http://127.0.0.1:1");
	CU_ASSERT_EQUAL(test_port(&ep->ep_production[0].u_ss), 1);
	CU_ASSERT_STRING_EQUAL(ep->ep_production[1].u_host, "127.0.0.1:2");
	CU_ASSERT_STRING_EQUAL(ep->ep_production[1].u_prefix, "/x");
	CU_ASSERT_EQUAL_FATAL(c->c_gateway.ntrusted_proxies, 2);
	CU_ASSERT_STRING_EQUAL(c->c_gateway.trusted_proxies[1], "::1");
	CU_ASSERT_EQUAL(c->c_gateway.trusted[0].c_bits, 8);
	CU_ASSERT_EQUAL(c->c_gateway.trusted[1].c_family, AF_INET6);
	conf_free(c);
}

/* Overrides reach groups the file leaves out. */
static void
test_env_absent_group(void)
{
	struct mgw_conf	*c;
	char		*env[] = {
		"MGW_LIMITS_HEADER_TIMEOUT=250ms",
		"MGW_GATEWAY_USER=nobody",
		"MGW_SHM_SIZE=128k",
		NULL
	};

	c = test_load(test_write(LISTENER), env);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->c_limits.header_timeout, 250);
	CU_ASSERT_EQUAL(c->c_limits.body_timeout, 30000);
	CU_ASSERT_STRING_EQUAL(c->c_gateway.user, "nobody");
	CU_ASSERT_EQUAL(c->c_shm.size, 128 * 1024);
	CU_ASSERT_EQUAL(c->c_noverrides, 3);
	conf_free(c);
}

static void
test_env_unknown(void)
{
	char	*env[] = {
		"MGW_GATEWAY_WORKRS=1",
		"MGW_LISTENERS_NOPE_LISTEN=127.0.0.1:1",
		"MGW_LIMITS=1",
		"MGW_APIS_PETSTORE_RESOURCES_X_PATH=/x",
		"MGW_APIS_PETSTORE=1",
		NULL
	};

	CU_ASSERT_PTR_NULL(test_load(test_write("%s", test_env_conf), env));
	CU_ASSERT_TRUE(test_has_env("MGW_GATEWAY_WORKRS", "names no "
	    "setting"));
	CU_ASSERT_TRUE(test_has_env("MGW_LISTENERS_NOPE_LISTEN", "no item "
	    "named 'nope' in listeners"));
	CU_ASSERT_TRUE(test_has_env("MGW_LIMITS", "names no setting"));
	CU_ASSERT_TRUE(test_has_env("MGW_APIS_PETSTORE_RESOURCES_X_PATH",
	    "names no setting that can be overridden"));
	CU_ASSERT_TRUE(test_has_env("MGW_APIS_PETSTORE", "names no setting"));
	CU_ASSERT_EQUAL(test_nlines(test_cause), 5);
}

static void
test_env_bad_value(void)
{
	char	*env[] = {
		"MGW_GATEWAY_WORKERS=four",
		"MGW_GATEWAY_DRAIN_TIMEOUT=30",
		"MGW_LISTENERS_HTTP_ADMIN=maybe",
		"MGW_LIMITS_MAX_BODY_SIZE=1x",
		"MGW_SHM_SIZE=1t",
		"MGW_LIMITS_MAX_CONNECTIONS=0",
		"MGW_APIS_PETSTORE_ENDPOINTS_PRODUCTION=http://127.0.0.1,"
		    "ftp://127.0.0.1",
		"MGW_GATEWAY_TRUSTED_PROXIES=1.2.3.4/40",
		"MGW_LISTENERS_HTTP_LISTEN=9090",
		NULL
	};

	CU_ASSERT_PTR_NULL(test_load(test_write("%s", test_env_conf), env));
	CU_ASSERT_TRUE(test_has_env("MGW_GATEWAY_WORKERS", "expected an "
	    "integer"));
	CU_ASSERT_TRUE(test_has_env("MGW_GATEWAY_DRAIN_TIMEOUT", "'30' needs "
	    "a unit"));
	CU_ASSERT_TRUE(test_has_env("MGW_LISTENERS_HTTP_ADMIN", "expected a "
	    "boolean"));
	CU_ASSERT_TRUE(test_has_env("MGW_LIMITS_MAX_BODY_SIZE", "bad size "
	    "'1x'"));
	CU_ASSERT_TRUE(test_has_env("MGW_SHM_SIZE", "bad size '1t'"));
	CU_ASSERT_TRUE(test_has_env("MGW_LIMITS_MAX_CONNECTIONS", "0 is out "
	    "of range"));
	CU_ASSERT_TRUE(test_has_env("MGW_APIS_PETSTORE_ENDPOINTS_PRODUCTION",
	    "bad URL 'ftp://127.0.0.1'"));
	CU_ASSERT_TRUE(test_has_env("MGW_GATEWAY_TRUSTED_PROXIES", "bad CIDR "
	    "'1.2.3.4/40'"));
	CU_ASSERT_TRUE(test_has_env("MGW_LISTENERS_HTTP_LISTEN", "bad listen "
	    "address '9090'"));
	CU_ASSERT_EQUAL(test_nlines(test_cause), 9);
}

static void
test_env_ignore(void)
{
	struct mgw_conf	*c;
	char		*env[] = {
		"MGW_DEBUG_HOOKS=1",
		"MGW_TEST_ANYTHING=x",
		"MGW_TEST_=y",
		"MGWX_GATEWAY_WORKERS=z",
		"NOT_MGW_GATEWAY_WORKERS=z",
		"MGW_NOEQUALS",
		NULL
	};

	c = test_load(test_write("%s", test_env_conf), env);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->c_noverrides, 0);
	conf_free(c);

	/* A NULL environment means the process's own. */
	setenv("MGW_GATEWAY_WORKERS", "7", 1);
	setenv("MGW_TEST_IGNORED", "1", 1);
	c = NULL;
	CU_ASSERT_EQUAL(conf_load(test_write("%s", test_env_conf), NULL, &c,
	    &test_cause), 0);
	unsetenv("MGW_GATEWAY_WORKERS");
	unsetenv("MGW_TEST_IGNORED");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->c_gateway.workers, 7);
	CU_ASSERT_EQUAL_FATAL(c->c_noverrides, 1);
	CU_ASSERT_STRING_EQUAL(c->c_overrides[0], "MGW_GATEWAY_WORKERS=7");
	conf_free(c);
}

static const char *test_env_throttle_conf =
    "listeners = ( { name = \"http\"; listen = \"127.0.0.1:9090\"; } );\n"
    "policies = (\n"
    "  { name = \"Gold\"; requests = 5000; per = \"1m\"; },\n"
    "  { name = \"10PerMin\"; requests = 10; per = \"1m\";\n"
    "    algorithm = \"sliding_log\"; }\n"
    ");\n"
    "consumers = ( { name = \"mobile-app\"; tier = \"10PerMin\"; } );\n"
    "apis = (\n"
    "  { name = \"petstore\"; base_path = \"/pets\";\n"
    "    endpoints = { mock = { }; }; throttling = \"10kPerMin\"; }\n"
    ");\n";

static void
test_env_throttle(void)
{
	struct mgw_conf	*c;
	char		*env[] = {
		"MGW_THROTTLING_HEADERS=false",
		"MGW_THROTTLING_CONSUMER_HEADER=X-App",
		"MGW_THROTTLING_UNAUTHENTICATED_TIER=Bronze",
		"MGW_POLICIES_GOLD_REQUESTS=10",
		"MGW_POLICIES_GOLD_ALGORITHM=token_bucket",
		"MGW_POLICIES_GOLD_BURST=30",
		"MGW_POLICIES_GOLD_DRY_RUN=yes",
		"MGW_POLICIES_10PERMIN_PER=30s",
		"MGW_CONSUMERS_MOBILE_APP_TIER=Gold",
		"MGW_CONSUMERS_MOBILE_APP_SUBSCRIPTION_TIER=Unlimited",
		"MGW_APIS_PETSTORE_THROTTLING=Gold",
		"MGW_APIS_PETSTORE_SUBSCRIPTION_TIER=10PerMin",
		NULL
	};
	char		*bad[] = {
		"MGW_APIS_PETSTORE_THROTTLING=Platinum",
		"MGW_THROTTLING_UNAUTHENTICATED_TIER=gold",
		"MGW_CONSUMERS_MOBILE_APP_TIER=Nope",
		"MGW_POLICIES_GOLD_BURST=5",
		"MGW_POLICIES_GOLD_ALGORITHM=leaky",
		"MGW_POLICIES_10PERMIN_REQUESTS=10001",
		"MGW_POLICIES_SILVER_REQUESTS=1",
		"MGW_THROTTLING_CONSUMER_HEADER=X:App",
		NULL
	};
	char		*grp[] = {
		"MGW_THROTTLING_HEADERS=off",
		"MGW_THROTTLING_CONSUMER_HEADER=X-App",
		NULL
	};
	char		*burst[] = { "MGW_POLICIES_GOLD_BURST=5", NULL };
	const struct throttle_conf_policy *p;

	c = test_load(test_write("%s", test_env_throttle_conf), env);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(TH(c)->tc_throttling.t_headers, 0);
	CU_ASSERT_STRING_EQUAL(TH(c)->tc_throttling.t_consumer_header, "X-App");
	CU_ASSERT_STRING_EQUAL(TH(c)->tc_throttling.t_unauthenticated_tier,
	    "Bronze");
	p = throttle_policy_find(TH(c), "Gold");
	CU_ASSERT_PTR_EQUAL_FATAL(p, &TH(c)->tc_policies[0]);
	CU_ASSERT_EQUAL(p->p_requests, 10);
	CU_ASSERT_EQUAL(p->p_algo, THROTTLE_TOKEN_BUCKET);
	CU_ASSERT_EQUAL(p->p_burst, 30);
	CU_ASSERT_EQUAL(p->p_dry_run, 1);
	CU_ASSERT_EQUAL(TH(c)->tc_policies[1].p_per, 30000);
	CU_ASSERT_STRING_EQUAL(TK(&c->c_consumers[0])->tk_tier, "Gold");
	CU_ASSERT_STRING_EQUAL(TK(&c->c_consumers[0])->tk_subscription_tier,
	    "Unlimited");
	CU_ASSERT_STRING_EQUAL(TA(&c->c_apis[0])->ta_throttling, "Gold");
	CU_ASSERT_STRING_EQUAL(TA(&c->c_apis[0])->ta_subscription_tier, "10PerMin");
	CU_ASSERT_EQUAL(c->c_noverrides, 12);
	conf_free(c);

	/* The throttling group need not be in the file. */
	c = test_load(test_write(LISTENER), grp);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(TH(c)->tc_throttling.t_headers, 0);
	CU_ASSERT_STRING_EQUAL(TH(c)->tc_throttling.t_consumer_header, "X-App");
	CU_ASSERT_STRING_EQUAL(TH(c)->tc_throttling.t_unauthenticated_tier,
	    "Unlimited");
	conf_free(c);

	CU_ASSERT_PTR_NULL(test_load(test_write("%s",
	    test_env_throttle_conf), bad));
	CU_ASSERT_TRUE(test_has_env("MGW_APIS_PETSTORE_THROTTLING", "unknown "
	    "policy 'Platinum'"));
	CU_ASSERT_TRUE(test_has_env("MGW_THROTTLING_UNAUTHENTICATED_TIER",
	    "unknown policy 'gold'"));
	CU_ASSERT_TRUE(test_has_env("MGW_CONSUMERS_MOBILE_APP_TIER", "unknown "
	    "policy 'Nope'"));
	CU_ASSERT_TRUE(test_has_env("MGW_POLICIES_GOLD_ALGORITHM", "unknown "
	    "algorithm 'leaky'"));
	CU_ASSERT_TRUE(test_has_env("MGW_POLICIES_10PERMIN_REQUESTS",
	    "sliding_log keeps one timestamp per request"));
	CU_ASSERT_TRUE(test_has_env("MGW_POLICIES_SILVER_REQUESTS", "no item "
	    "named 'silver' in policies"));
	CU_ASSERT_TRUE(test_has_env("MGW_THROTTLING_CONSUMER_HEADER", "bad "
	    "header name 'X:App'"));
	CU_ASSERT_EQUAL(test_nlines(test_cause), 7);

	/* burst from the environment, fixed_window from the file. */
	CU_ASSERT_PTR_NULL(test_load(test_write("%s",
	    test_env_throttle_conf), burst));
	CU_ASSERT_TRUE(test_has_env("MGW_POLICIES_GOLD_BURST", "burst "
	    "applies to token_bucket only, not fixed_window"));
	CU_ASSERT_EQUAL(test_nlines(test_cause), 1);
}

static void
test_methods(void)
{
	int	 m;

	for (m = 0; m < CONF_M_MAX; m++) {
		CU_ASSERT_PTR_NOT_NULL_FATAL(method_name(m));
		CU_ASSERT_EQUAL(method_parse(method_name(m),
		    strlen(method_name(m))), m);
	}
	CU_ASSERT_STRING_EQUAL(method_name(CONF_M_OPTIONS), "OPTIONS");
	CU_ASSERT_PTR_NULL(method_name(CONF_M_MAX));
	CU_ASSERT_EQUAL(method_parse("GETX", 3), CONF_M_GET);
	CU_ASSERT_EQUAL(method_parse("GETX", 4), -1);
	CU_ASSERT_EQUAL(method_parse("get", 3), -1);
	CU_ASSERT_EQUAL(method_parse("", 0), -1);
	CU_ASSERT_EQUAL(method_parse("PO", 2), -1);
}

static void
test_util_parse(void)
{
	uint64_t	 v;

	CU_ASSERT_EQUAL(util_parse_duration("30s", &v), 0);
	CU_ASSERT_EQUAL(v, 30000);
	CU_ASSERT_EQUAL(util_parse_duration("100ms", &v), 0);
	CU_ASSERT_EQUAL(v, 100);
	CU_ASSERT_EQUAL(util_parse_duration("2m", &v), 0);
	CU_ASSERT_EQUAL(v, 120000);
	CU_ASSERT_EQUAL(util_parse_duration("1h", &v), 0);
	CU_ASSERT_EQUAL(v, 3600000);
	CU_ASSERT_EQUAL(util_parse_duration("1d", &v), 0);
	CU_ASSERT_EQUAL(v, 86400000);
	CU_ASSERT_EQUAL(util_parse_duration("0s", &v), 0);
	CU_ASSERT_EQUAL(v, 0);
	CU_ASSERT_EQUAL(util_parse_duration("30", &v), -1);
	CU_ASSERT_EQUAL(util_parse_duration("", &v), -1);
	CU_ASSERT_EQUAL(util_parse_duration("s", &v), -1);
	CU_ASSERT_EQUAL(util_parse_duration("30x", &v), -1);
	CU_ASSERT_EQUAL(util_parse_duration("1.5s", &v), -1);
	CU_ASSERT_EQUAL(util_parse_duration("-1s", &v), -1);
	CU_ASSERT_EQUAL(util_parse_duration(" 1s", &v), -1);
	CU_ASSERT_EQUAL(util_parse_duration("1s ", &v), -1);
	CU_ASSERT_EQUAL(util_parse_duration("1S", &v), -1);
	CU_ASSERT_EQUAL(util_parse_duration(NULL, &v), -1);
	CU_ASSERT_EQUAL(util_parse_duration("18446744073709551615ms", &v), 0);
	CU_ASSERT_EQUAL(v, UINT64_MAX);
	CU_ASSERT_EQUAL(util_parse_duration("18446744073709551616ms", &v), -1);
	CU_ASSERT_EQUAL(util_parse_duration("18446744073709551615s", &v), -1);
	CU_ASSERT_EQUAL(util_parse_duration("213503982334602d", &v), -1);

	CU_ASSERT_EQUAL(util_parse_size("16k", &v), 0);
	CU_ASSERT_EQUAL(v, 16384);
	CU_ASSERT_EQUAL(util_parse_size("10M", &v), 0);
	CU_ASSERT_EQUAL(v, 10485760);
	CU_ASSERT_EQUAL(util_parse_size("1g", &v), 0);
	CU_ASSERT_EQUAL(v, 1073741824);
	CU_ASSERT_EQUAL(util_parse_size("1024", &v), 0);
	CU_ASSERT_EQUAL(v, 1024);
	CU_ASSERT_EQUAL(util_parse_size("0", &v), 0);
	CU_ASSERT_EQUAL(v, 0);
	CU_ASSERT_EQUAL(util_parse_size("k", &v), -1);
	CU_ASSERT_EQUAL(util_parse_size("10kb", &v), -1);
	CU_ASSERT_EQUAL(util_parse_size("-1", &v), -1);
	CU_ASSERT_EQUAL(util_parse_size("1t", &v), -1);
	CU_ASSERT_EQUAL(util_parse_size("", &v), -1);
	CU_ASSERT_EQUAL(util_parse_size("17179869184g", &v), -1);
	CU_ASSERT_EQUAL(util_parse_size("99999999999999999999", &v), -1);
}

static void
test_util_json(void)
{
	char	 buf[64];
	size_t	 n;

	n = util_json_escape(buf, sizeof(buf), "abc", 3);
	CU_ASSERT_STRING_EQUAL(buf, "\"abc\"");
	CU_ASSERT_EQUAL(n, 5);
	n = util_json_escape(buf, sizeof(buf), "a\"b\\c\n\x01\x7f", 8);
	CU_ASSERT_STRING_EQUAL(buf, "\"a\\\"b\\\\c\\u000a\\u0001\x7f\"");
	CU_ASSERT_EQUAL(n, strlen(buf));
	n = util_json_escape(buf, sizeof(buf), "caf\xc3\xa9", 5);
	CU_ASSERT_STRING_EQUAL(buf, "\"caf\xc3\xa9\"");
	/* An embedded NUL is data, not the end. */
	n = util_json_escape(buf, sizeof(buf), "a\0b", 3);
	CU_ASSERT_STRING_EQUAL(buf, "\"a\\u0000b\"");
	/* Bytes that are not well-formed UTF-8 become U+FFFD, one each. */
	n = util_json_escape(buf, sizeof(buf), "a\xff\x80" "b", 4);
	CU_ASSERT_STRING_EQUAL(buf, "\"a\\ufffd\\ufffdb\"");
	n = util_json_escape(buf, sizeof(buf), "\xc0\xaf", 2);	/* overlong */
	CU_ASSERT_STRING_EQUAL(buf, "\"\\ufffd\\ufffd\"");
	n = util_json_escape(buf, sizeof(buf), "\xed\xa0\x80", 3); /* surrogate */
	CU_ASSERT_STRING_EQUAL(buf, "\"\\ufffd\\ufffd\\ufffd\"");
	n = util_json_escape(buf, sizeof(buf), "\xe2\x82", 2);	/* cut short */
	CU_ASSERT_STRING_EQUAL(buf, "\"\\ufffd\\ufffd\"");
	n = util_json_escape(buf, sizeof(buf), "\xf0\x9f\x98\x80", 4);
	CU_ASSERT_STRING_EQUAL(buf, "\"\xf0\x9f\x98\x80\"");
	n = util_json_escape(buf, sizeof(buf), "\xf4\x90\x80\x80", 4);
	CU_ASSERT_EQUAL(n, 2 + 4 * 6);

	/* Truncation keeps a closed literal and whole escapes. */
	n = util_json_escape(buf, 6, "abcdef", 6);
	CU_ASSERT_STRING_EQUAL(buf, "\"abc\"");
	CU_ASSERT_EQUAL(n, 5);
	n = util_json_escape(buf, 5, "a\"b", 3);
	CU_ASSERT_STRING_EQUAL(buf, "\"a\"");
	CU_ASSERT_EQUAL(n, 3);
	n = util_json_escape(buf, 8, "a\nb", 3);
	CU_ASSERT_STRING_EQUAL(buf, "\"a\"");
	n = util_json_escape(buf, 4, "\xc3\xa9", 2);
	CU_ASSERT_STRING_EQUAL(buf, "\"\"");
	CU_ASSERT_EQUAL(n, 2);
	n = util_json_escape(buf, 5, "\xc3\xa9", 2);
	CU_ASSERT_STRING_EQUAL(buf, "\"\xc3\xa9\"");
	CU_ASSERT_EQUAL(n, 4);
	n = util_json_escape(buf, 2, "abc", 3);
	CU_ASSERT_STRING_EQUAL(buf, "");
	CU_ASSERT_EQUAL(n, 0);
	buf[0] = 'x';
	CU_ASSERT_EQUAL(util_json_escape(buf, 0, "abc", 3), 0);
	CU_ASSERT_EQUAL(buf[0], 'x');
	n = util_json_escape(buf, sizeof(buf), "", 0);
	CU_ASSERT_STRING_EQUAL(buf, "\"\"");
}

static void
test_util_fd(void)
{
	int		 p[2];
	uint64_t	 t0, t1;

	CU_ASSERT_EQUAL_FATAL(pipe(p), 0);
	CU_ASSERT_EQUAL(fcntl(p[0], F_GETFL) & O_NONBLOCK, 0);
	CU_ASSERT_EQUAL(util_set_nonblock(p[0]), 0);
	CU_ASSERT_NOT_EQUAL(fcntl(p[0], F_GETFL) & O_NONBLOCK, 0);
	CU_ASSERT_EQUAL(util_set_nonblock(p[0]), 0);
	CU_ASSERT_EQUAL(util_set_cloexec(p[1]), 0);
	CU_ASSERT_NOT_EQUAL(fcntl(p[1], F_GETFD) & FD_CLOEXEC, 0);
	close(p[0]);
	close(p[1]);
	CU_ASSERT_EQUAL(util_set_nonblock(p[0]), -1);
	CU_ASSERT_EQUAL(util_set_cloexec(p[0]), -1);

	t0 = util_now_ms();
	t1 = util_now_ms();
	CU_ASSERT_TRUE(t1 >= t0);
	CU_ASSERT_TRUE(t0 > 0);
}

static CU_TestInfo test_conf_cases[] = {
	{ "full configuration", test_full },
	{ "defaults", test_defaults },
	{ "{version} in base_path", test_version },
	{ "mock endpoints", test_mock },
	{ "error: syntax", test_err_syntax },
	{ "error: missing @include", test_err_include },
	{ "error: unknown keys", test_err_unknown },
	{ "error: wrong types", test_err_type },
	{ "error: bare number for a duration", test_err_bare_number },
	{ "error: bad units", test_err_unit },
	{ "error: out of range", test_err_range },
	{ "error: duplicate listeners", test_err_dup_listener },
	{ "error: duplicate base paths", test_err_dup_base_path },
	{ "error: resource templates", test_err_template },
	{ "error: methods", test_err_method },
	{ "error: URLs and endpoints", test_err_url },
	{ "https endpoints", test_https },
	{ "tls: listener, consumers, mutual_tls", test_tls_listener },
	{ "security: mechanisms, cache, revocation", test_security },
	{ "error: CIDRs", test_err_cidr },
	{ "error: no listeners", test_err_no_listeners },
	{ "error: all reported at once", test_err_multiple },
	{ "throttling: every key", test_throttle_full },
	{ "throttling: built-in policies", test_throttle_builtin },
	{ "error: policies", test_err_policy },
	{ "error: unknown policy references", test_err_policy_ref },
	{ "error: duplicate consumers", test_err_dup_consumer },
	{ "env: scalars", test_env_scalar },
	{ "env: list items by name", test_env_item },
	{ "env: arrays", test_env_array },
	{ "env: absent groups", test_env_absent_group },
	{ "env: unknown variables", test_env_unknown },
	{ "env: bad values", test_env_bad_value },
	{ "env: ignore list", test_env_ignore },
	{ "env: throttling keys", test_env_throttle },
	CU_TEST_INFO_NULL
};

static CU_TestInfo test_util_cases[] = {
	{ "methods", test_methods },
	{ "durations and sizes", test_util_parse },
	{ "JSON strings", test_util_json },
	{ "descriptors and clock", test_util_fd },
	CU_TEST_INFO_NULL
};

static CU_SuiteInfo test_suites[] = {
	{ "conf", test_init, test_fini, NULL, NULL, test_conf_cases },
	{ "util", NULL, NULL, NULL, NULL, test_util_cases },
	CU_SUITE_INFO_NULL
};

int
main(void)
{
	char		**ep, name[256];
	size_t		 n;

	/* Overrides from the caller's environment would change results. */
	for (ep = environ; *ep != NULL;) {
		if (strncmp(*ep, "MGW_", 4) != 0) {
			ep++;
			continue;
		}
		n = strcspn(*ep, "=");
		snprintf(name, sizeof(name), "%.*s", (int)n, *ep);
		unsetenv(name);
		ep = environ;
	}

	log_init(1, 0);
	return (test_run(test_suites));
}
