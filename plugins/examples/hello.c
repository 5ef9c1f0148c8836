/*
 * hello.c: a sample external plugin, written against <mgw/plugin.h> only.
 * It adds a response header whose name and value come from its own
 * settings, and refuses (403) a request that carries a header named by
 * another setting:
 *
 *	plugins = (
 *		{ name = "hello"; path = "/usr/local/lib/mgw/plugins/hello.so";
 *		  header = "X-Hello"; value = "world";
 *		  deny_header = "X-No-Hello"; }
 *	);
 *
 * Build it out of the tree with
 *
 *	cc -shared -fPIC $(pkg-config --cflags mgw-plugin) -o hello.so hello.c
 *
 * See mgw-plugin(3).
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mgw/plugin.h>

/* What the loader fills from the keys of our "plugins" entry. */
struct hello_settings {
	char		*header;	/* response header name */
	char		*value;		/* its value */
	char		*deny_header;	/* refuse requests carrying it */
};

/* One generation's state: the settings, checked and measured. */
struct hello {
	const char	*header;	/* the generation's strings */
	const char	*value;
	const char	*deny_header;	/* NULL: refuse nothing */
};

static int	hello_check_name(void *, void *, char **);
static int	hello_check_value(void *, void *, char **);
static int	hello_conf(const struct mgw_conf *, void **, char **);
static int	hello_access(void *, struct mgw_request *);
static int	hello_header_filter(void *, struct mgw_request *);
static void	hello_fini(void *);

static const struct mgw_conf_opt hello_opts[] = {
	{ .o_name = "header", .o_type = MGW_CONF_STRING,
	  .o_default = "X-Hello", .o_doc = "response header to add",
	  .o_off = offsetof(struct hello_settings, header),
	  .o_check = hello_check_name },
	{ .o_name = "value", .o_type = MGW_CONF_STRING,
	  .o_doc = "value of the response header",
	  .o_off = offsetof(struct hello_settings, value),
	  .o_flags = MGW_CONF_F_REQUIRED, .o_check = hello_check_value },
	{ .o_name = "deny_header", .o_type = MGW_CONF_STRING,
	  .o_doc = "refuse requests carrying this header (403)",
	  .o_off = offsetof(struct hello_settings, deny_header),
	  .o_check = hello_check_name },
	{ .o_name = NULL }
};

static const struct mgw_conf_section hello_sections[] = {
	{ MGW_SCOPE_ENTRY, hello_opts, sizeof(struct hello_settings) },
	{ MGW_SCOPE_TOP, NULL, 0 }
};

const struct mgw_plugin mgw_plugin_entry = {
	.api = MGW_PLUGIN_API,
	.name = "hello",
	.settings = hello_sections,
	.conf = hello_conf,
	.access = hello_access,
	.header_filter = hello_header_filter,
	.fini = hello_fini
};

/* A header name is an RFC 9110 token; the loader adds file:line. */
static int
hello_check_name(void *obj, void *field, char **cause)
{
	const char	*s = *(char **)field, *p;
	size_t		 len;

	if (s == NULL)
		return (0);
	if (*s == '\0') {
		*cause = strdup("empty header name");
		return (-1);
	}
	for (p = s; *p != '\0'; p++) {
		if (strchr("!#$%&'*+-.^_`|~", *p) != NULL ||
		    (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= 'A' && *p <= 'Z'))
			continue;
		len = strlen(s) + sizeof("\"\" is not a header name");
		if ((*cause = malloc(len)) != NULL)
			snprintf(*cause, len, "\"%s\" is not a header name", s);
		return (-1);
	}
	return (0);
}

/* A value must not split the response head. */
static int
hello_check_value(void *obj, void *field, char **cause)
{
	const char	*s = *(char **)field;

	if (s != NULL && strpbrk(s, "\r\n") != NULL) {
		*cause = strdup("a header value cannot hold CR or LF");
		return (-1);
	}
	return (0);
}

/*
 * Master, at load: the loader parsed and checked our keys already; keep
 * pointers to them, which live as long as the generation (our state).
 */
static int
hello_conf(const struct mgw_conf *conf, void **state, char **cause)
{
	const struct hello_settings	*hs;
	struct hello			*h;

	if ((hs = mgw_conf_settings(conf, &mgw_plugin_entry)) == NULL) {
		*cause = strdup("hello: no settings");
		return (MGW_ERROR);
	}
	if ((h = calloc(1, sizeof(*h))) == NULL) {
		*cause = strdup("hello: out of memory");
		return (MGW_ERROR);
	}
	h->header = hs->header != NULL ? hs->header : "X-Hello";
	h->value = hs->value;
	h->deny_header = hs->deny_header;
	*state = h;
	return (MGW_OK);
}

/* Worker, after routing: refuse a request that carries deny_header. */
static int
hello_access(void *state, struct mgw_request *r)
{
	struct hello	*h = state;
	size_t		 len;

	if (h->deny_header == NULL ||
	    mgw_request_header(r, h->deny_header, &len) == NULL)
		return (MGW_OK);
	return (mgw_respond_error(r, 403, "denied_by_hello",
	    "refused by the hello plugin"));
}

/* Worker, before the response head goes out. */
static int
hello_header_filter(void *state, struct mgw_request *r)
{
	struct hello	*h = state;

	if (mgw_response_add_header(r, h->header, h->value) == -1)
		return (MGW_ERROR);
	return (MGW_OK);
}

static void
hello_fini(void *state)
{
	free(state);
}
