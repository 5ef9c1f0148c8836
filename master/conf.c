/*
 * conf.c: mgw.conf -> struct mgw_conf.  libconfig parses the file; we walk
 * conf_table (conf-table.c) over the result, taking each value from the
 * environment, the file or the table's default, in that order, converting
 * and checking it.  Every problem is recorded with file:line and the walk
 * goes on, so one run of mgwd -n shows them all (HAProxy's ERR_*
 * accumulation).  Nothing from libconfig outlives conf_load().
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <netdb.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <libconfig.h>

#include "lib.h"
#include "master.h"

#define CONF_MAXENV	6	/* components of conf_override.o_path */

#define CONF_FIELD(obj, off, type)	((type *)((char *)(obj) + (off)))

struct conf_ctx {
	const char		*cx_path;	/* the file asked for */
	char			*cx_dir;	/* for @include */
	struct conf_override	*cx_ov;
	size_t			 cx_nov;
	char			**cx_errs;	/* "file:line: message" */
	size_t			 cx_nerrs;
	struct mgw_conf		*cx_conf;	/* being filled */
	void			**cx_top;	/* cp_settings, by position */
	int			*cx_entry;	/* "plugins" item: position */
	size_t			 cx_nentry;
};

/* A group or list item being walked, and how MGW_* variables reach it. */
struct conf_node {
	config_setting_t	*n_set;		/* NULL: not in file */
	char			*n_path;	/* "apis[0].endpoints" */
	const char		*n_file;	/* as libconfig names it */
	int			 n_line;
	const char		*n_env[CONF_MAXENV];
	size_t			 n_nenv;
	int			 n_envok;	/* 0: has no env name */
	uint32_t		 n_given;	/* bit i: entry i set */
	void			**n_settings;	/* plugins' structs, or NULL */
};

/* One value on its way into struct mgw_conf. */
struct conf_val {
	const struct conf_opt	*v_opt;
	config_setting_t	*v_set;		/* from the file */
	struct conf_override	*v_ov;		/* from the env */
	const char		*v_str;		/* env or default */
	const char		*v_path;	/* "gateway.workers" */
	const char		*v_file;
	int			 v_line;
};

/* An array value as strings, whatever its source. */
struct conf_strs {
	char			**s_str;
	int			*s_line;
	size_t			 s_n;
};

static void	conf_errorat(struct conf_ctx *, const char *, int,
		    const char *, ...) __attribute__((format(printf, 4, 5)));
static void	conf_verror(struct conf_ctx *, const struct conf_val *,
		    const char *, ...) __attribute__((format(printf, 3, 4)));
static void	conf_member_error(struct conf_ctx *, const struct conf_node *,
		    const char *, const char *, ...)
		    __attribute__((format(printf, 4, 5)));
static char	*conf_file_name(struct conf_ctx *, const char *);
static char	*conf_include_name(struct conf_ctx *, const char *, int);
static const char *conf_set_file(const config_setting_t *);
static uint32_t	conf_walk_group(struct conf_ctx *,
		    const struct conf_opt *, void *, struct conf_node *);
static int	conf_walk_value(struct conf_ctx *, const struct conf_opt *,
		    void *, struct conf_node *, config_setting_t *,
		    const char *);
static int	conf_walk_sub(struct conf_ctx *, const struct conf_opt *,
		    void *, struct conf_node *, config_setting_t *,
		    const char *);
static int	conf_walk_list(struct conf_ctx *, const struct conf_opt *,
		    void *, struct conf_node *, config_setting_t *,
		    const char *);
static void	conf_node_child(struct conf_node *, struct conf_node *,
		    config_setting_t *, char *, const char *);
static struct conf_override *conf_find_override(struct conf_ctx *,
		    const struct conf_node *, const char *, int);
static int	conf_given(const struct conf_node *, const struct conf_opt *,
		    const char *);
static int	conf_convert(struct conf_ctx *, struct conf_val *, void *);
static int	conf_get_int(struct conf_ctx *, struct conf_val *, int64_t *);
static int	conf_get_bool(struct conf_ctx *, struct conf_val *, int *);
static int	conf_get_string(struct conf_ctx *, struct conf_val *,
		    const char **);
static int	conf_get_duration(struct conf_ctx *, struct conf_val *,
		    uint64_t *);
static int	conf_get_size(struct conf_ctx *, struct conf_val *,
		    uint64_t *);
static int	conf_get_strs(struct conf_ctx *, struct conf_val *,
		    struct conf_strs *);
static void	conf_strs_free(struct conf_strs *);
static int	conf_range(struct conf_ctx *, struct conf_val *, uint64_t,
		    const char *);
static void	conf_fmt(const struct conf_opt *, uint64_t, char *, size_t);
static int	conf_log_format(const char *);
static int	conf_check_value(struct conf_ctx *, struct conf_val *,
		    void *);
static void	conf_check_group(struct conf_ctx *, const struct conf_opt *,
		    void *, size_t, struct conf_node *);
static int	conf_check_name(const char *, const char *);
static int	conf_check_token(const char *);
static int	conf_cert_fp(char *);
static char	*conf_where(struct conf_ctx *, const struct conf_node *);
static int	conf_listen_parse(const char *, struct sockaddr_storage *,
		    socklen_t *, char **);
static int	conf_resolve(const char *, const char *, int,
		    struct sockaddr_storage *, socklen_t *, char **);
static int	conf_url_parse(const char *, struct conf_url *, char **);
static int	conf_header_parse(const char *, struct conf_header *,
		    char **);
static int	conf_base_path(struct conf_api *, char **);
static int	conf_res_path(const char *, char **);
static void	conf_env_report(struct conf_ctx *, struct mgw_conf *);
static int	conf_env_item(const struct conf_opt *, void *, const char *);
static void	conf_env_name(const char *, char *, size_t);
static void	conf_free_group(const struct conf_opt *, void *, void **);
static void	*conf_target(const struct conf_opt *, void *,
		    const struct conf_node *);
static void	conf_where_add(struct conf_ctx *, const void *, const char *,
		    int, const char *);
static void	conf_check_fn(struct conf_ctx *, struct conf_val *,
		    const struct conf_node *, const struct conf_opt *, void *,
		    void *);
static void	**conf_settings_new(struct conf_ctx *, int, int);
static void	conf_plugins_open(struct conf_ctx *, config_setting_t *);
static void	conf_plugin_add(struct mgw_conf *, const struct mgw_plugin *,
		    void *, const char *, char *);
static const struct conf_opt *conf_table_merge(struct conf_ctx *,
		    const struct conf_opt *, int);
static struct conf_opt *conf_opt_convert(struct conf_ctx *,
		    const struct mgw_conf_opt *, int);
static struct conf_opt *conf_table_keep(struct conf_ctx *, size_t);
static int	conf_table_has(const struct conf_opt *, size_t, const char *);
static int	conf_check_pname(const char *);

/* The configuration conf_load() is filling, for mgw_conf_loading(). */
static struct conf_ctx	*conf_loading;
/* Plugins of the configuration conf_free() releases. */
static size_t		 conf_nplugins;

/*
 * Record one error at file:line.  file is what libconfig calls the file
 * (NULL for the main one).
 */
static void
conf_errorat(struct conf_ctx *cx, const char *file, int line,
    const char *fmt, ...)
{
	va_list	 ap;
	char	*msg, *name;

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	name = conf_file_name(cx, file);
	cx->cx_errs = xreallocarray(cx->cx_errs, cx->cx_nerrs + 1,
	    sizeof(*cx->cx_errs));
	xasprintf(&cx->cx_errs[cx->cx_nerrs++], "%s:%d: %s", name, line, msg);
	free(name);
	free(msg);
}

/*
 * Record an error about a value: the environment variable names it when
 * it came from there, else its file:line and key path do.
 */
static void
conf_verror(struct conf_ctx *cx, const struct conf_val *v, const char *fmt,
    ...)
{
	va_list	 ap;
	char	*msg;

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	if (v->v_ov != NULL) {
		cx->cx_errs = xreallocarray(cx->cx_errs, cx->cx_nerrs + 1,
		    sizeof(*cx->cx_errs));
		xasprintf(&cx->cx_errs[cx->cx_nerrs++], "environment %s: %s",
		    v->v_ov->o_name, msg);
	} else if (v->v_set != NULL)
		conf_errorat(cx, v->v_file, v->v_line, "%s: %s", v->v_path,
		    msg);
	else {
		/* A bad default in conf-table.c; the unit test catches it. */
		conf_errorat(cx, NULL, 0, "default of %s: %s", v->v_path, msg);
	}
	free(msg);
}

/*
 * Record an error about key of the group or item node once the whole of
 * it is stored: at the key's own file:line, or its environment variable,
 * or, if the key took its default, at the group.
 */
static void
conf_member_error(struct conf_ctx *cx, const struct conf_node *node,
    const char *key, const char *fmt, ...)
{
	struct conf_val	 v;
	va_list		 ap;
	char		*msg, *path;

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	memset(&v, 0, sizeof(v));
	xasprintf(&path, "%s.%s", node->n_path, key);
	v.v_path = path;
	/* Not marking: the walk already marked what it applied. */
	v.v_ov = conf_find_override(cx, node, key, 0);
	if (v.v_ov == NULL && node->n_set != NULL)
		v.v_set = config_setting_get_member(node->n_set, key);
	if (v.v_set != NULL) {
		v.v_file = conf_set_file(v.v_set);
		v.v_line = config_setting_source_line(v.v_set);
	}
	if (v.v_ov != NULL || v.v_set != NULL)
		conf_verror(cx, &v, "%s", msg);
	else
		conf_errorat(cx, node->n_file, node->n_line, "%s: %s",
		    node->n_path, msg);
	free(path);
	free(msg);
}

/*
 * libconfig 1.5 names an included file as written in @include, relative
 * to the include directory; give the user a path that opens.
 */
static char *
conf_file_name(struct conf_ctx *cx, const char *file)
{
	char	*name;

	if (file == NULL || strcmp(file, cx->cx_path) == 0 ||
	    file[0] == '/' || strcmp(cx->cx_dir, ".") == 0)
		return (xstrdup(file == NULL ? cx->cx_path : file));
	if (cx->cx_dir[strlen(cx->cx_dir) - 1] == '/')
		xasprintf(&name, "%s%s", cx->cx_dir, file);
	else
		xasprintf(&name, "%s/%s", cx->cx_dir, file);
	return (name);
}

/*
 * libconfig says only "cannot open include file"; read the offending line
 * back to say which.  NULL if it cannot be found.
 */
static char *
conf_include_name(struct conf_ctx *cx, const char *file, int line)
{
	FILE	*f;
	char	*name, buf[1024], *p, *q, *found = NULL;
	int	 n = 0;

	name = conf_file_name(cx, file);
	f = fopen(name, "r");
	free(name);
	if (f == NULL)
		return (NULL);
	while (fgets(buf, sizeof(buf), f) != NULL) {
		if (++n != line)
			continue;
		if ((p = strstr(buf, "@include")) != NULL &&
		    (p = strchr(p, '"')) != NULL &&
		    (q = strchr(p + 1, '"')) != NULL)
			found = xstrndup(p + 1, q - p - 1);
		break;
	}
	fclose(f);
	return (found);
}

static const char *
conf_set_file(const config_setting_t *s)
{
	return (config_setting_source_file(s));
}

/*
 * Load path into a new *confp, with the MGW_* overrides of envp (NULL:
 * environ) applied.  Returns 0, or -1 with every error, one "file:line:
 * message" per line, in *cause (which the caller frees).  Master and mgwd
 * -n only: it resolves host names and may block doing so.
 */
int
conf_load(const char *path, char **envp, struct mgw_conf **confp,
    char **cause)
{
	struct conf_ctx		 cx;
	struct conf_node	 top;
	struct mgw_conf		*conf;
	config_t		 cf;
	const char		*efile;
	char			*p, *inc;
	size_t			 i, len, n;
	int			 error;

	*confp = NULL;
	if (cause != NULL)
		*cause = NULL;
	memset(&cx, 0, sizeof(cx));
	cx.cx_path = path;
	cx.cx_dir = xstrdup(path);
	if ((p = strrchr(cx.cx_dir, '/')) == NULL) {
		free(cx.cx_dir);
		cx.cx_dir = xstrdup(".");
	} else if (p == cx.cx_dir)
		p[1] = '\0';
	else
		*p = '\0';
	conf = xcalloc(1, sizeof(*conf));
	conf->c_file = xstrdup(path);
	cx.cx_conf = conf;
	conf_loading = &cx;

	config_init(&cf);
	config_set_include_dir(&cf, cx.cx_dir);
	errno = 0;
	if (config_read_file(&cf, path) != CONFIG_TRUE) {
		if (config_error_type(&cf) == CONFIG_ERR_FILE_IO) {
			cx.cx_errs = xcalloc(1, sizeof(*cx.cx_errs));
			xasprintf(&cx.cx_errs[cx.cx_nerrs++], "%s: %s", path,
			    errno != 0 ? strerror(errno) :
			    config_error_text(&cf));
		} else {
			efile = config_error_file(&cf);
			inc = NULL;
			if (strcmp(config_error_text(&cf),
			    "cannot open include file") == 0)
				inc = conf_include_name(&cx, efile,
				    config_error_line(&cf));
			/*
			 * libconfig 1.5 puts the include directory in front
			 * of every @include, absolute ones too.
			 */
			if (inc != NULL)
				conf_errorat(&cx, efile, config_error_line(&cf),
				    "cannot open include file '%s'%s", inc,
				    inc[0] == '/' ? " (@include paths are "
				    "relative to the including file)" : "");
			else
				conf_errorat(&cx, efile, config_error_line(&cf),
				    "%s", config_error_text(&cf));
			free(inc);
		}
	} else {
		/*
		 * External plugins are opened first: their keys join the
		 * tables the walk and the environment are matched against.
		 */
		conf_plugins_open(&cx, config_root_setting(&cf));
		conf->c_table = conf_table_merge(&cx, conf_table,
		    MGW_SCOPE_TOP);
		conf_env_collect(conf->c_table, envp, &cx.cx_ov, &cx.cx_nov);
		memset(&top, 0, sizeof(top));
		top.n_set = config_root_setting(&cf);
		top.n_path = xstrdup("");
		top.n_file = NULL;
		top.n_line = 1;
		top.n_envok = 1;
		top.n_settings = cx.cx_top;
		conf_walk_group(&cx, conf->c_table, conf, &top);
		free(top.n_path);
		conf_env_report(&cx, conf);
	}
	config_destroy(&cf);
	conf_loading = NULL;

	error = cx.cx_nerrs != 0;
	if (error) {
		if (cause != NULL) {
			len = 0;
			for (i = 0; i < cx.cx_nerrs; i++)
				len += strlen(cx.cx_errs[i]) + 1;
			*cause = p = xmalloc(len);
			for (i = 0; i < cx.cx_nerrs; i++) {
				if (i > 0)
					*p++ = '\n';
				n = strlen(cx.cx_errs[i]);
				memcpy(p, cx.cx_errs[i], n);
				p += n;
			}
			*p = '\0';
		}
		conf_free(conf);
	} else {
		for (i = 0; i < cx.cx_nov; i++) {
			if (!cx.cx_ov[i].o_used)
				continue;
			conf->c_overrides = xreallocarray(conf->c_overrides,
			    conf->c_noverrides + 1, sizeof(char *));
			conf->c_overrides[conf->c_noverrides++] =
			    xstrdup(cx.cx_ov[i].o_env);
		}
		*confp = conf;
	}

	for (i = 0; i < cx.cx_nerrs; i++)
		free(cx.cx_errs[i]);
	free(cx.cx_errs);
	conf_env_free(cx.cx_ov, cx.cx_nov);
	free(cx.cx_top);
	free(cx.cx_entry);
	free(cx.cx_dir);
	return (error ? -1 : 0);
}

/*
 * Walk tbl over the group node (whose setting may be absent), filling
 * obj.  Returns the set of entries given in the file or the environment.
 */
static uint32_t
conf_walk_group(struct conf_ctx *cx, const struct conf_opt *tbl, void *obj,
    struct conf_node *node)
{
	const struct conf_opt	*t;
	config_setting_t	*m;
	const char		*name;
	char			*path;
	void			*target;
	int			 i, n, given;

	if (node->n_set != NULL) {
		n = config_setting_length(node->n_set);
		for (i = 0; i < n; i++) {
			m = config_setting_get_elem(node->n_set, i);
			name = config_setting_name(m);
			for (t = tbl; t->t_name != NULL; t++) {
				if (strcmp(t->t_name, name) == 0 &&
				    conf_target(t, obj, node) != NULL)
					break;
			}
			if (t->t_name != NULL)
				continue;
			if (node->n_path[0] == '\0')
				conf_errorat(cx, conf_set_file(m),
				    config_setting_source_line(m),
				    "unknown top-level key '%s'", name);
			else
				conf_errorat(cx, conf_set_file(m),
				    config_setting_source_line(m),
				    "unknown key '%s' in %s", name,
				    node->n_path);
		}
	}

	node->n_given = 0;
	for (i = 0, t = tbl; t->t_name != NULL; i++, t++) {
		/* A plugin's key fills the plugin's struct, if it is here. */
		if ((target = conf_target(t, obj, node)) == NULL)
			continue;
		m = NULL;
		if (node->n_set != NULL)
			m = config_setting_get_member(node->n_set, t->t_name);
		if (node->n_path[0] == '\0')
			path = xstrdup(t->t_name);
		else
			xasprintf(&path, "%s.%s", node->n_path, t->t_name);
		switch (t->t_type) {
		case CONF_T_GROUP:
			given = conf_walk_sub(cx, t, target, node, m, path);
			break;
		case CONF_T_LIST:
			given = conf_walk_list(cx, t, target, node, m, path);
			break;
		default:
			given = conf_walk_value(cx, t, target, node, m, path);
			break;
		}
		if (given)
			node->n_given |= 1u << i;
		free(path);
	}
	return (node->n_given);
}

/* One scalar or array key.  Returns 1 if it was given. */
static int
conf_walk_value(struct conf_ctx *cx, const struct conf_opt *t, void *obj,
    struct conf_node *node, config_setting_t *m, const char *path)
{
	struct conf_val	 v;

	memset(&v, 0, sizeof(v));
	v.v_opt = t;
	v.v_path = path;
	v.v_file = node->n_file;
	v.v_line = node->n_line;
	if ((v.v_ov = conf_find_override(cx, node, t->t_name, 1)) != NULL)
		v.v_str = v.v_ov->o_value;
	else if (m != NULL) {
		v.v_set = m;
		v.v_file = conf_set_file(m);
		v.v_line = config_setting_source_line(m);
	} else if (t->t_flags & CONF_F_REQUIRED) {
		conf_errorat(cx, node->n_file, node->n_line,
		    "%s: missing required key '%s'", node->n_path, t->t_name);
		return (0);
	} else if ((v.v_str = t->t_default) == NULL)
		return (0);

	if (v.v_set != NULL)
		conf_where_add(cx, CONF_FIELD(obj, t->t_off, char), v.v_file,
		    v.v_line, path);
	if (conf_convert(cx, &v, obj) == 0 &&
	    conf_check_value(cx, &v, obj) == 0 && t->t_fn != NULL)
		conf_check_fn(cx, &v, NULL, t, obj,
		    CONF_FIELD(obj, t->t_off, char));
	return (v.v_ov != NULL || v.v_set != NULL);
}

/* A group: embedded in obj, or allocated when present (CONF_F_PTR). */
static int
conf_walk_sub(struct conf_ctx *cx, const struct conf_opt *t, void *obj,
    struct conf_node *node, config_setting_t *m, const char *path)
{
	struct conf_node	 cn;
	struct conf_val		 v;
	void			*child;
	int			 given, bad = 0;

	if (m != NULL && !config_setting_is_group(m)) {
		memset(&v, 0, sizeof(v));
		v.v_set = m;
		v.v_path = path;
		v.v_file = conf_set_file(m);
		v.v_line = config_setting_source_line(m);
		conf_verror(cx, &v, "expected a group { ... }");
		m = NULL;
		bad = 1;
	}
	if (t->t_flags & CONF_F_PTR) {
		if (m == NULL)
			return (bad);
		child = xcalloc(1, t->t_size);
		*CONF_FIELD(obj, t->t_off, void *) = child;
	} else
		child = CONF_FIELD(obj, t->t_off, char);

	conf_node_child(node, &cn, m, xstrdup(path), t->t_name);
	if (m != NULL)
		conf_where_add(cx, child, cn.n_file, cn.n_line, cn.n_path);
	conf_walk_group(cx, t->t_sub, child, &cn);
	given = bad || m != NULL || cn.n_given != 0;
	if (!given && (t->t_flags & CONF_F_REQUIRED))
		conf_errorat(cx, node->n_file, node->n_line,
		    "%s: missing required group '%s'", node->n_path,
		    t->t_name);
	else if (!bad) {
		conf_check_group(cx, t, child, 0, &cn);
		if (t->t_fn != NULL)
			conf_check_fn(cx, NULL, &cn, t, child, child);
	}
	free(cn.n_path);
	return (given);
}

/* A list of groups, each filling one item of an array. */
static int
conf_walk_list(struct conf_ctx *cx, const struct conf_opt *t, void *obj,
    struct conf_node *node, config_setting_t *m, const char *path)
{
	struct conf_node	 cn;
	struct conf_val		 v;
	config_setting_t	*e;
	const char		*name;
	char			*items, *item, *ipath, env[CONF_NAME_MAX];
	int			 n, i;

	memset(&v, 0, sizeof(v));
	v.v_set = m;
	v.v_path = path;
	if (m == NULL) {
		if (t->t_flags & CONF_F_REQUIRED)
			conf_errorat(cx, node->n_file, node->n_line,
			    "no %s defined", t->t_name);
		return (0);
	}
	v.v_file = conf_set_file(m);
	v.v_line = config_setting_source_line(m);
	if (!config_setting_is_list(m) && !(config_setting_is_array(m) &&
	    config_setting_length(m) == 0)) {
		conf_verror(cx, &v, "expected a list of groups ( { ... } )");
		return (1);
	}
	if ((n = config_setting_length(m)) == 0) {
		if (t->t_flags & CONF_F_NONEMPTY)
			conf_errorat(cx, v.v_file, v.v_line, "no %s defined",
			    t->t_name);
		return (1);
	}

	items = xcalloc(n, t->t_size);
	*CONF_FIELD(obj, t->t_off, void *) = items;
	*CONF_FIELD(obj, t->t_off2, size_t) = n;
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(m, i);
		xasprintf(&ipath, "%s[%d]", path, i);
		if (!config_setting_is_group(e)) {
			conf_errorat(cx, conf_set_file(e),
			    config_setting_source_line(e),
			    "%s: expected a group { ... }", ipath);
			free(ipath);
			continue;
		}
		/* Items are addressed in the environment by their name. */
		conf_node_child(node, &cn, e, ipath, t->t_name);
		if (cn.n_envok && config_setting_lookup_string(e, "name",
		    &name) == CONFIG_TRUE && cn.n_nenv < CONF_MAXENV) {
			conf_env_name(name, env, sizeof(env));
			cn.n_env[cn.n_nenv++] = env;
		} else
			cn.n_envok = 0;
		item = items + i * t->t_size;
		conf_where_add(cx, item, cn.n_file, cn.n_line, cn.n_path);
		if (t->t_scope != 0) {
			cn.n_settings = conf_settings_new(cx, t->t_scope, i);
			*CONF_FIELD(item, t->t_soff, void **) = cn.n_settings;
		}
		conf_walk_group(cx, t->t_sub, item, &cn);
		conf_check_group(cx, t, items, i, &cn);
		if (t->t_fn != NULL)
			conf_check_fn(cx, NULL, &cn, t, item, items);
		free(cn.n_path);
	}
	return (1);
}

/* Set up cn as a child of node for key (path is handed over to cn). */
static void
conf_node_child(struct conf_node *node, struct conf_node *cn,
    config_setting_t *m, char *path, const char *key)
{
	memset(cn, 0, sizeof(*cn));
	cn->n_set = m;
	cn->n_path = path;
	if (m != NULL) {
		cn->n_file = conf_set_file(m);
		cn->n_line = config_setting_source_line(m);
	} else {
		cn->n_file = node->n_file;
		cn->n_line = node->n_line;
	}
	memcpy(cn->n_env, node->n_env, sizeof(cn->n_env));
	cn->n_nenv = node->n_nenv;
	cn->n_envok = node->n_envok && node->n_nenv < CONF_MAXENV;
	if (cn->n_envok)
		cn->n_env[cn->n_nenv++] = key;
}

/*
 * Where t's value goes: obj for the core's keys, else the struct of the
 * plugin that declared t, NULL when that plugin has none here (another
 * plugin's entry, a list item that failed).
 */
static void *
conf_target(const struct conf_opt *t, void *obj, const struct conf_node *node)
{
	if (t->t_plugin == 0)
		return (obj);
	if (node->n_settings == NULL)
		return (NULL);
	return (node->n_settings[t->t_plugin - 1]);
}

/* Remember that the value at field came from file:line, key path. */
static void
conf_where_add(struct conf_ctx *cx, const void *field, const char *file,
    int line, const char *path)
{
	struct mgw_conf	*conf = cx->cx_conf;
	char		*name;

	name = conf_file_name(cx, file);
	conf->c_wheres = xreallocarray(conf->c_wheres, conf->c_nwheres + 1,
	    sizeof(*conf->c_wheres));
	conf->c_wheres[conf->c_nwheres].w_field = field;
	xasprintf(&conf->c_wheres[conf->c_nwheres++].w_where, "%s:%d: %s",
	    name, line, path);
	free(name);
}

/*
 * Run a plugin's o_check of t: on a value v, or on a group or list item
 * (node).  Each line of the cause is one error.  For a group or item, a
 * line "key: message" naming one of its keys is reported where that key
 * was written, the others at the group.
 */
static void
conf_check_fn(struct conf_ctx *cx, struct conf_val *v,
    const struct conf_node *node, const struct conf_opt *t, void *obj,
    void *field)
{
	const struct conf_opt	*m;
	char			*cause = NULL, *line, *next, *colon;

	if (t->t_fn(obj, field, &cause) == 0) {
		free(cause);
		return;
	}
	if (cause == NULL)
		cause = xstrdup("refused by its plugin");
	for (line = cause; line != NULL; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (*line == '\0')
			continue;
		if (v != NULL) {
			conf_verror(cx, v, "%s", line);
			continue;
		}
		m = NULL;
		if ((colon = strstr(line, ": ")) != NULL) {
			*colon = '\0';
			for (m = t->t_sub; m->t_name != NULL; m++) {
				if (strcmp(m->t_name, line) == 0)
					break;
			}
			if (m->t_name == NULL) {
				m = NULL;
				*colon = ':';
			}
		}
		if (m != NULL)
			conf_member_error(cx, node, m->t_name, "%s", colon + 2);
		else
			conf_errorat(cx, node->n_file, node->n_line, "%s: %s",
			    node->n_path, line);
	}
	free(cause);
}

/*
 * The plugins' structs for item i of a list whose items are in scope: a
 * new zeroed one per plugin with a section there, or, for an entry of
 * "plugins", its plugin's own.
 */
static void **
conf_settings_new(struct conf_ctx *cx, int scope, int i)
{
	struct mgw_conf			*conf = cx->cx_conf;
	const struct mgw_conf_section	*sec;
	void				**set;
	size_t				 k;
	int				 pos;

	set = xcalloc(conf->c_nplugins + 1, sizeof(*set));
	if (scope == MGW_SCOPE_ENTRY) {
		pos = i < (int)cx->cx_nentry ? cx->cx_entry[i] : -1;
		if (pos >= 0)
			set[pos] = conf->c_plugins[pos].cp_settings;
		return (set);
	}
	for (k = 0; k < conf->c_nplugins; k++) {
		sec = conf->c_plugins[k].cp_plugin->settings;
		for (; sec != NULL && sec->s_opts != NULL; sec++) {
			if ((int)sec->s_scope == scope && set[k] == NULL)
				set[k] = xcalloc(1, sec->s_size > 0 ?
				    sec->s_size : 1);
		}
	}
	return (set);
}

static void
conf_plugin_add(struct mgw_conf *conf, const struct mgw_plugin *p, void *dl,
    const char *path, char *where)
{
	struct conf_plugin	*cp;

	conf->c_plugins = xreallocarray(conf->c_plugins, conf->c_nplugins + 1,
	    sizeof(*conf->c_plugins));
	cp = &conf->c_plugins[conf->c_nplugins++];
	memset(cp, 0, sizeof(*cp));
	cp->cp_plugin = p;
	cp->cp_dl = dl;
	cp->cp_path = path != NULL ? xstrdup(path) : NULL;
	cp->cp_where = where;
}

/*
 * The plugins of the configuration: the built-ins, then each entry of
 * "plugins" whose name and path can be read, opened now so that its keys
 * are known to the walk.  The walk checks the entries' keys again; here
 * only what opening needs is reported.  Then every plugin gets its struct
 * for MGW_SCOPE_TOP or MGW_SCOPE_ENTRY.
 */
static void
conf_plugins_open(struct conf_ctx *cx, config_setting_t *root)
{
	struct mgw_conf			*conf = cx->cx_conf;
	const struct mgw_plugin *const	*pp;
	const struct mgw_plugin		*p;
	const struct mgw_conf_section	*sec;
	config_setting_t		*list, *e, *ps;
	const char			*name, *path;
	char				*why, *where, *fname;
	void				*dl;
	size_t				 k, size;
	int				 i, n, dup;

	for (pp = plugin_builtin; *pp != NULL; pp++)
		conf_plugin_add(conf, *pp, NULL, NULL, NULL);
	list = config_setting_get_member(root, "plugins");
	if (list != NULL && config_setting_is_list(list) &&
	    (n = config_setting_length(list)) > 0) {
		cx->cx_entry = xcalloc(n, sizeof(*cx->cx_entry));
		cx->cx_nentry = n;
	} else
		n = 0;
	for (i = 0; i < n; i++) {
		cx->cx_entry[i] = -1;
		e = config_setting_get_elem(list, i);
		if (!config_setting_is_group(e) ||
		    config_setting_lookup_string(e, "name", &name) !=
		    CONFIG_TRUE ||
		    config_setting_lookup_string(e, "path", &path) !=
		    CONFIG_TRUE || conf_check_pname(name) == -1)
			continue;
		for (dup = 0, k = 0; k < conf->c_nplugins && !dup; k++)
			dup = strcmp(conf->c_plugins[k].cp_plugin->name,
			    name) == 0;
		if (dup) {
			conf_errorat(cx, conf_set_file(e),
			    config_setting_source_line(e), "plugins[%d]: "
			    "duplicate plugin name '%s'", i, name);
			continue;
		}
		ps = config_setting_get_member(e, "path");
		if ((p = plugin_host_open(path, name, &dl, &why)) == NULL) {
			conf_errorat(cx, conf_set_file(ps),
			    config_setting_source_line(ps),
			    "plugins[%d].path: %s", i, why);
			free(why);
			continue;
		}
		fname = conf_file_name(cx, conf_set_file(e));
		xasprintf(&where, "%s:%d", fname,
		    config_setting_source_line(e));
		free(fname);
		cx->cx_entry[i] = conf->c_nplugins;
		conf_plugin_add(conf, p, dl, path, where);
	}

	cx->cx_top = xcalloc(conf->c_nplugins + 1, sizeof(*cx->cx_top));
	for (k = 0; k < conf->c_nplugins; k++) {
		size = 0;
		sec = conf->c_plugins[k].cp_plugin->settings;
		for (; sec != NULL && sec->s_opts != NULL; sec++) {
			if ((sec->s_scope == MGW_SCOPE_TOP ||
			    sec->s_scope == MGW_SCOPE_ENTRY) &&
			    sec->s_size > size)
				size = sec->s_size;
		}
		if (size > 0)
			conf->c_plugins[k].cp_settings = xcalloc(1, size);
		cx->cx_top[k] = conf->c_plugins[k].cp_settings;
	}
}

/* A new table of n entries and the end, freed with the configuration. */
static struct conf_opt *
conf_table_keep(struct conf_ctx *cx, size_t n)
{
	struct mgw_conf	*conf = cx->cx_conf;
	struct conf_opt	*tbl;

	tbl = xcalloc(n + 1, sizeof(*tbl));
	conf->c_tables = xreallocarray(conf->c_tables, conf->c_ntables + 1,
	    sizeof(*conf->c_tables));
	conf->c_tables[conf->c_ntables++] = tbl;
	return (tbl);
}

/*
 * A plugin's table in the core's form (the same fields, the check a
 * function): plugin is the position + 1 for the top of a section's table
 * (the keys the walk redirects to the plugin's struct), 0 below it.
 */
static struct conf_opt *
conf_opt_convert(struct conf_ctx *cx, const struct mgw_conf_opt *o,
    int plugin)
{
	static const enum conf_type	 types[] = {
		CONF_T_INT, CONF_T_UINT, CONF_T_U64, CONF_T_BOOL,
		CONF_T_STRING, CONF_T_DURATION, CONF_T_SIZE, CONF_T_STRINGS,
		CONF_T_GROUP, CONF_T_LIST
	};
	struct conf_opt			*tbl, *t;
	size_t				 n, i;

	for (n = 0; o[n].o_name != NULL; n++)
		;
	tbl = conf_table_keep(cx, n);
	for (i = 0; i < n; i++) {
		t = &tbl[i];
		t->t_name = o[i].o_name;
		t->t_type = (size_t)o[i].o_type < sizeof(types) /
		    sizeof(types[0]) ? types[o[i].o_type] : CONF_T_STRING;
		t->t_min = o[i].o_min;
		t->t_max = o[i].o_max != 0 ? o[i].o_max : UINT64_MAX;
		if (t->t_type == CONF_T_INT && o[i].o_max == 0)
			t->t_max = INT32_MAX;
		else if (t->t_type == CONF_T_UINT && o[i].o_max == 0)
			t->t_max = UINT32_MAX;
		t->t_default = o[i].o_default;
		t->t_doc = o[i].o_doc;
		t->t_off = o[i].o_off;
		t->t_off2 = o[i].o_off2;
		t->t_size = o[i].o_size;
		t->t_flags = o[i].o_flags;
		t->t_check = CONF_CHK_NONE;
		t->t_fn = o[i].o_check;
		t->t_plugin = plugin;
		if (o[i].o_sub != NULL)
			t->t_sub = conf_opt_convert(cx, o[i].o_sub, 0);
	}
	return (tbl);
}

/* Does tbl (n entries) have key? */
static int
conf_table_has(const struct conf_opt *tbl, size_t n, const char *key)
{
	size_t	 i;

	for (i = 0; i < n && tbl[i].t_name != NULL; i++) {
		if (strcmp(tbl[i].t_name, key) == 0)
			return (1);
	}
	return (0);
}

/*
 * base with the keys plugins add to scope.  Lists of scoped items get
 * their tables merged too.  The plugins' top-level keys come before the
 * first such list: their values (policies, security) are what the
 * checks of apis and consumers look at.
 */
static const struct conf_opt *
conf_table_merge(struct conf_ctx *cx, const struct conf_opt *base, int scope)
{
	struct mgw_conf			*conf = cx->cx_conf;
	const struct mgw_conf_section	*sec;
	struct conf_opt			*tbl, *conv;
	size_t				 n = 0, m = 0, k, j, at, o = 0;

	for (n = 0; base[n].t_name != NULL; n++)
		;
	for (k = 0; k < conf->c_nplugins; k++) {
		sec = conf->c_plugins[k].cp_plugin->settings;
		for (; sec != NULL && sec->s_opts != NULL; sec++) {
			if ((int)sec->s_scope != scope)
				continue;
			for (j = 0; sec->s_opts[j].o_name != NULL; j++)
				m++;
		}
	}
	tbl = conf_table_keep(cx, n + m);
	for (at = 0; at < n && (scope != MGW_SCOPE_TOP ||
	    base[at].t_scope == 0); at++)
		tbl[o++] = base[at];
	for (k = 0; k < conf->c_nplugins; k++) {
		sec = conf->c_plugins[k].cp_plugin->settings;
		for (; sec != NULL && sec->s_opts != NULL; sec++) {
			if ((int)sec->s_scope != scope)
				continue;
			conv = conf_opt_convert(cx, sec->s_opts, k + 1);
			for (j = 0; conv[j].t_name != NULL; j++) {
				/* The first to declare a key keeps it. */
				if (conf_table_has(base, n, conv[j].t_name) ||
				    conf_table_has(tbl, o, conv[j].t_name)) {
					conf_errorat(cx, NULL, 0, "plugin %s: "
					    "key '%s' is declared twice",
					    conf->c_plugins[k].cp_plugin->name,
					    conv[j].t_name);
					continue;
				}
				tbl[o++] = conv[j];
			}
		}
	}
	for (; at < n; at++)
		tbl[o++] = base[at];
	for (j = 0; j < o; j++) {
		if (tbl[j].t_plugin == 0 && tbl[j].t_scope != 0 &&
		    tbl[j].t_sub != NULL)
			tbl[j].t_sub = conf_table_merge(cx, tbl[j].t_sub,
			    tbl[j].t_scope);
	}
	return (tbl);
}

/* The item name as MGW_* variables spell it, lower-cased. */
static void
conf_env_name(const char *name, char *buf, size_t len)
{
	size_t	 i;

	for (i = 0; name[i] != '\0' && i < len - 1; i++) {
		if (name[i] == '-' || name[i] == '.')
			buf[i] = '_';
		else
			buf[i] = tolower((unsigned char)name[i]);
	}
	buf[i] = '\0';
}

/*
 * The override for key under node, marking it used if mark is set; NULL
 * if none.
 */
static struct conf_override *
conf_find_override(struct conf_ctx *cx, const struct conf_node *node,
    const char *key, int mark)
{
	struct conf_override	*o, *found = NULL;
	size_t			 i, j;

	if (!node->n_envok)
		return (NULL);
	for (i = 0; i < cx->cx_nov; i++) {
		o = &cx->cx_ov[i];
		if (o->o_npath != node->n_nenv + 1 ||
		    strcmp(o->o_path[node->n_nenv], key) != 0)
			continue;
		for (j = 0; j < node->n_nenv; j++) {
			if (strcmp(o->o_path[j], node->n_env[j]) != 0)
				break;
		}
		if (j != node->n_nenv)
			continue;
		/* The last one wins, as in a shell. */
		if (mark)
			o->o_used = 1;
		found = o;
	}
	return (found);
}

/* Was key of tbl given in node (file or environment)? */
static int
conf_given(const struct conf_node *node, const struct conf_opt *tbl,
    const char *key)
{
	int	 i;

	for (i = 0; tbl[i].t_name != NULL; i++) {
		if (strcmp(tbl[i].t_name, key) == 0)
			return ((node->n_given & (1u << i)) != 0);
	}
	return (0);
}

/* Convert and store v at its field of obj.  0, or -1 after an error. */
static int
conf_convert(struct conf_ctx *cx, struct conf_val *v, void *obj)
{
	const struct conf_opt	*t = v->v_opt;
	struct conf_strs	 ss;
	struct conf_url		*urls;
	struct conf_header	*hdrs;
	char			**strs, *why;
	const char		*s;
	int64_t			 i64;
	uint64_t		 u64;
	uint32_t		 bits;
	size_t			 i, n;
	int			 b, m, error = 0, line;

	switch (t->t_type) {
	case CONF_T_INT:
	case CONF_T_UINT:
	case CONF_T_U64:
		if (conf_get_int(cx, v, &i64) == -1)
			return (-1);
		if (i64 < 0 || (uint64_t)i64 < t->t_min ||
		    (uint64_t)i64 > t->t_max) {
			char	 lo[32], hi[32];

			conf_fmt(t, t->t_min, lo, sizeof(lo));
			conf_fmt(t, t->t_max, hi, sizeof(hi));
			conf_verror(cx, v, "%" PRId64 " is out of range %s..%s",
			    i64, lo, hi);
			return (-1);
		}
		if (t->t_type == CONF_T_INT)
			*CONF_FIELD(obj, t->t_off, int) = (int)i64;
		else if (t->t_type == CONF_T_UINT)
			*CONF_FIELD(obj, t->t_off, uint32_t) = (uint32_t)i64;
		else
			*CONF_FIELD(obj, t->t_off, uint64_t) = (uint64_t)i64;
		return (0);
	case CONF_T_BOOL:
		if (conf_get_bool(cx, v, &b) == -1)
			return (-1);
		*CONF_FIELD(obj, t->t_off, int) = b;
		return (0);
	case CONF_T_STRING:
		if (conf_get_string(cx, v, &s) == -1)
			return (-1);
		*CONF_FIELD(obj, t->t_off, char *) = xstrdup(s);
		return (0);
	case CONF_T_DURATION:
		if (conf_get_duration(cx, v, &u64) == -1)
			return (-1);
		*CONF_FIELD(obj, t->t_off, uint64_t) = u64;
		return (0);
	case CONF_T_SIZE:
		if (conf_get_size(cx, v, &u64) == -1)
			return (-1);
		*CONF_FIELD(obj, t->t_off, uint64_t) = u64;
		return (0);
	default:
		break;
	}

	/* Arrays of strings. */
	if (conf_get_strs(cx, v, &ss) == -1)
		return (-1);
	n = ss.s_n;
	if (n == 0 && (t->t_flags & CONF_F_NONEMPTY)) {
		conf_verror(cx, v, "must not be empty");
		conf_strs_free(&ss);
		return (-1);
	}
	line = v->v_line;
	switch (t->t_type) {
	case CONF_T_STRINGS:
		strs = NULL;
		if (n > 0) {
			strs = xcalloc(n, sizeof(*strs));
			for (i = 0; i < n; i++)
				strs[i] = xstrdup(ss.s_str[i]);
		}
		*CONF_FIELD(obj, t->t_off, char **) = strs;
		*CONF_FIELD(obj, t->t_off2, size_t) = n;
		break;
	case CONF_T_URLS:
		urls = n > 0 ? xcalloc(n, sizeof(*urls)) : NULL;
		*CONF_FIELD(obj, t->t_off, struct conf_url *) = urls;
		*CONF_FIELD(obj, t->t_off2, size_t) = n;
		for (i = 0; i < n; i++) {
			if (conf_url_parse(ss.s_str[i], &urls[i], &why) == 0)
				continue;
			v->v_line = ss.s_line[i];
			conf_verror(cx, v, "%s", why);
			free(why);
			error = -1;
		}
		break;
	case CONF_T_HEADERS:
		hdrs = n > 0 ? xcalloc(n, sizeof(*hdrs)) : NULL;
		*CONF_FIELD(obj, t->t_off, struct conf_header *) = hdrs;
		*CONF_FIELD(obj, t->t_off2, size_t) = n;
		for (i = 0; i < n; i++) {
			if (conf_header_parse(ss.s_str[i], &hdrs[i],
			    &why) == 0)
				continue;
			v->v_line = ss.s_line[i];
			conf_verror(cx, v, "%s", why);
			free(why);
			error = -1;
		}
		break;
	case CONF_T_METHODS:
		bits = 0;
		for (i = 0; i < n; i++) {
			m = method_parse(ss.s_str[i], strlen(ss.s_str[i]));
			if (m != -1) {
				bits |= 1u << m;
				continue;
			}
			v->v_line = ss.s_line[i];
			conf_verror(cx, v, "unknown method '%s' (use GET, "
			    "HEAD, POST, PUT, DELETE, PATCH or OPTIONS)",
			    ss.s_str[i]);
			error = -1;
		}
		*CONF_FIELD(obj, t->t_off, uint32_t) = bits;
		break;
	default:
		fatalx("%s: bad type %d for %s", __func__, t->t_type,
		    t->t_name);
	}
	v->v_line = line;
	conf_strs_free(&ss);
	return (error);
}

static int
conf_get_int(struct conf_ctx *cx, struct conf_val *v, int64_t *vp)
{
	long long	 ll;
	char		*end;

	if (v->v_set != NULL) {
		switch (config_setting_type(v->v_set)) {
		case CONFIG_TYPE_INT:
		case CONFIG_TYPE_INT64:
			*vp = config_setting_get_int64(v->v_set);
			return (0);
		default:
			conf_verror(cx, v, "expected an integer");
			return (-1);
		}
	}
	errno = 0;
	ll = strtoll(v->v_str, &end, 10);
	if (v->v_str[0] == '\0' || *end != '\0' || errno == ERANGE ||
	    isspace((unsigned char)v->v_str[0])) {
		conf_verror(cx, v, "expected an integer");
		return (-1);
	}
	*vp = ll;
	return (0);
}

static int
conf_get_bool(struct conf_ctx *cx, struct conf_val *v, int *bp)
{
	static const char	*yes[] = { "true", "yes", "on", "1", NULL };
	static const char	*no[] = { "false", "no", "off", "0", NULL };
	size_t			 i;

	if (v->v_set != NULL) {
		if (config_setting_type(v->v_set) != CONFIG_TYPE_BOOL) {
			conf_verror(cx, v, "expected true or false");
			return (-1);
		}
		*bp = config_setting_get_bool(v->v_set) ? 1 : 0;
		return (0);
	}
	for (i = 0; yes[i] != NULL; i++) {
		if (strcasecmp(v->v_str, yes[i]) == 0) {
			*bp = 1;
			return (0);
		}
		if (strcasecmp(v->v_str, no[i]) == 0) {
			*bp = 0;
			return (0);
		}
	}
	conf_verror(cx, v, "expected a boolean (true, false, yes, no, on, "
	    "off, 1 or 0)");
	return (-1);
}

static int
conf_get_string(struct conf_ctx *cx, struct conf_val *v, const char **sp)
{
	if (v->v_set == NULL) {
		*sp = v->v_str;
		return (0);
	}
	if (config_setting_type(v->v_set) != CONFIG_TYPE_STRING) {
		conf_verror(cx, v, "expected a string");
		return (-1);
	}
	*sp = config_setting_get_string(v->v_set);
	return (0);
}

static int
conf_get_duration(struct conf_ctx *cx, struct conf_val *v, uint64_t *msp)
{
	const char	*s;

	if (v->v_set != NULL) {
		switch (config_setting_type(v->v_set)) {
		case CONFIG_TYPE_STRING:
			break;
		case CONFIG_TYPE_INT:
		case CONFIG_TYPE_INT64:
		case CONFIG_TYPE_FLOAT:
			conf_verror(cx, v, "a duration needs a unit (ms, s, m, "
			    "h or d), e.g. \"30s\"");
			return (-1);
		default:
			conf_verror(cx, v, "expected a duration such as "
			    "\"30s\"");
			return (-1);
		}
	}
	if (conf_get_string(cx, v, &s) == -1)
		return (-1);
	if (s[0] != '\0' && strspn(s, "0123456789") == strlen(s)) {
		conf_verror(cx, v, "'%s' needs a unit (ms, s, m, h or d), "
		    "e.g. \"%ss\"", s, s);
		return (-1);
	}
	if (util_parse_duration(s, msp) == -1) {
		conf_verror(cx, v, "bad duration '%s' (a number with a unit: "
		    "ms, s, m, h or d)", s);
		return (-1);
	}
	return (conf_range(cx, v, *msp, s));
}

static int
conf_get_size(struct conf_ctx *cx, struct conf_val *v, uint64_t *bytesp)
{
	const char	*s;
	long long	 ll;
	char		 buf[32];

	if (v->v_set != NULL) {
		switch (config_setting_type(v->v_set)) {
		case CONFIG_TYPE_STRING:
			break;
		case CONFIG_TYPE_INT:
		case CONFIG_TYPE_INT64:
			/* A bare byte count cannot be misread. */
			ll = config_setting_get_int64(v->v_set);
			if (ll < 0) {
				conf_verror(cx, v, "a size cannot be "
				    "negative");
				return (-1);
			}
			*bytesp = (uint64_t)ll;
			snprintf(buf, sizeof(buf), "%lld", ll);
			return (conf_range(cx, v, *bytesp, buf));
		default:
			conf_verror(cx, v, "expected a size such as \"16k\"");
			return (-1);
		}
	}
	if (conf_get_string(cx, v, &s) == -1)
		return (-1);
	if (util_parse_size(s, bytesp) == -1) {
		conf_verror(cx, v, "bad size '%s' (a byte count, or a number "
		    "with k, m or g)", s);
		return (-1);
	}
	return (conf_range(cx, v, *bytesp, s));
}

/* Check a duration or size against the table's range. */
static int
conf_range(struct conf_ctx *cx, struct conf_val *v, uint64_t val,
    const char *as)
{
	const struct conf_opt	*t = v->v_opt;
	char			 lo[32], hi[32];

	if (val >= t->t_min && val <= t->t_max)
		return (0);
	conf_fmt(t, t->t_min, lo, sizeof(lo));
	conf_fmt(t, t->t_max, hi, sizeof(hi));
	conf_verror(cx, v, "'%s' is out of range %s..%s", as, lo, hi);
	return (-1);
}

/* Format a range bound in the largest unit that divides it. */
static void
conf_fmt(const struct conf_opt *t, uint64_t val, char *buf, size_t len)
{
	static const struct {
		uint64_t	 mult;
		const char	*unit;
	} dur[] = {
		{ 86400000, "d" }, { 3600000, "h" }, { 60000, "m" },
		{ 1000, "s" }, { 1, "ms" }
	}, size[] = {
		{ 1024 * 1024 * 1024, "g" }, { 1024 * 1024, "m" },
		{ 1024, "k" }, { 1, "" }
	};
	size_t	 i;

	if (val != 0 && t->t_type == CONF_T_DURATION) {
		for (i = 0; val % dur[i].mult != 0; i++)
			;
		snprintf(buf, len, "%" PRIu64 "%s", val / dur[i].mult,
		    dur[i].unit);
	} else if (val != 0 && t->t_type == CONF_T_SIZE) {
		for (i = 0; val % size[i].mult != 0; i++)
			;
		snprintf(buf, len, "%" PRIu64 "%s", val / size[i].mult,
		    size[i].unit);
	} else
		snprintf(buf, len, "%" PRIu64, val);
}

/*
 * An array value as strings with their lines.  The environment gives a
 * comma-separated list; empty pieces are skipped.
 */
static int
conf_get_strs(struct conf_ctx *cx, struct conf_val *v, struct conf_strs *ss)
{
	config_setting_t	*e;
	const char		*p, *q, *end;
	int			 i, n;

	memset(ss, 0, sizeof(*ss));
	if (v->v_set != NULL && (v->v_opt->t_flags & CONF_F_ONE) &&
	    config_setting_type(v->v_set) == CONFIG_TYPE_STRING) {
		ss->s_str = xcalloc(1, sizeof(*ss->s_str));
		ss->s_line = xcalloc(1, sizeof(*ss->s_line));
		ss->s_str[0] = xstrdup(config_setting_get_string(v->v_set));
		ss->s_line[0] = v->v_line;
		ss->s_n = 1;
		return (0);
	}
	if (v->v_set != NULL) {
		if (!config_setting_is_array(v->v_set) &&
		    !config_setting_is_list(v->v_set)) {
			conf_verror(cx, v, "expected an array of strings "
			    "[ \"...\", ... ]");
			return (-1);
		}
		n = config_setting_length(v->v_set);
		for (i = 0; i < n; i++) {
			e = config_setting_get_elem(v->v_set, i);
			if (config_setting_type(e) != CONFIG_TYPE_STRING) {
				conf_verror(cx, v, "expected an array of "
				    "strings [ \"...\", ... ]");
				conf_strs_free(ss);
				return (-1);
			}
		}
		if (n == 0)
			return (0);
		ss->s_str = xcalloc(n, sizeof(*ss->s_str));
		ss->s_line = xcalloc(n, sizeof(*ss->s_line));
		for (i = 0; i < n; i++) {
			e = config_setting_get_elem(v->v_set, i);
			ss->s_str[i] = xstrdup(config_setting_get_string(e));
			ss->s_line[i] = config_setting_source_line(e);
			if (ss->s_line[i] == 0)
				ss->s_line[i] = v->v_line;
		}
		ss->s_n = n;
		return (0);
	}
	for (p = v->v_str; *p != '\0'; p = *q == ',' ? q + 1 : q) {
		q = p + strcspn(p, ",");
		end = q;
		while (p < end && isspace((unsigned char)*p))
			p++;
		while (end > p && isspace((unsigned char)end[-1]))
			end--;
		if (end == p)
			continue;
		ss->s_str = xreallocarray(ss->s_str, ss->s_n + 1,
		    sizeof(*ss->s_str));
		ss->s_line = xreallocarray(ss->s_line, ss->s_n + 1,
		    sizeof(*ss->s_line));
		ss->s_str[ss->s_n] = xstrndup(p, end - p);
		ss->s_line[ss->s_n++] = v->v_line;
	}
	return (0);
}

static void
conf_strs_free(struct conf_strs *ss)
{
	size_t	 i;

	for (i = 0; i < ss->s_n; i++)
		free(ss->s_str[i]);
	free(ss->s_str);
	free(ss->s_line);
	memset(ss, 0, sizeof(*ss));
}

/* "combined" or "json" to enum conf_log_format; -1 otherwise or NULL. */
static int
conf_log_format(const char *s)
{
	if (s == NULL)
		return (-1);
	if (strcmp(s, "combined") == 0)
		return (CONF_LOGF_COMBINED);
	if (strcmp(s, "json") == 0)
		return (CONF_LOGF_JSON);
	return (-1);
}

/* Checks that need more than the value's type and range. */
static int
conf_check_value(struct conf_ctx *cx, struct conf_val *v, void *obj)
{
	const struct conf_opt	*t = v->v_opt;
	struct conf_listener	*l;
	struct conf_gateway	*g;
	struct conf_api		*a;
	struct conf_tls		*tls;
	struct conf_consumer	*cs;
	char			*s, *why;
	size_t			 i;
	long			 ncpu;
	int			 error = 0;

	switch (t->t_check) {
	case CONF_CHK_WORKERS:
		if (*CONF_FIELD(obj, t->t_off, int) == 0) {
			ncpu = sysconf(_SC_NPROCESSORS_ONLN);
			*CONF_FIELD(obj, t->t_off, int) = ncpu < 1 ? 1 :
			    ncpu > (long)t->t_max ? (int)t->t_max : (int)ncpu;
		}
		break;
	case CONF_CHK_LNAME:
	case CONF_CHK_ANAME:
		s = *CONF_FIELD(obj, t->t_off, char *);
		if (conf_check_name(s, t->t_check == CONF_CHK_LNAME ? "_-" :
		    "_.-") == -1) {
			conf_verror(cx, v, "bad %s '%s' (1 to %d of A-Z a-z "
			    "0-9 %s)", t->t_name, s, CONF_NAME_MAX - 1,
			    t->t_check == CONF_CHK_LNAME ? "_ -" : "_ . -");
			error = -1;
		}
		break;
	case CONF_CHK_PNAME:
		s = *CONF_FIELD(obj, t->t_off, char *);
		if (conf_check_pname(s) == -1) {
			conf_verror(cx, v, "bad plugin name '%s' (1 to %d of "
			    "a-z 0-9 _ -)", s, CONF_NAME_MAX - 1);
			error = -1;
		}
		break;
	case CONF_CHK_LISTEN:
		l = obj;
		if (conf_listen_parse(l->l_listen, &l->l_ss, &l->l_sslen,
		    &why) == -1) {
			conf_verror(cx, v, "%s", why);
			free(why);
			error = -1;
		}
		break;
	case CONF_CHK_CIDRS:
		g = obj;
		if (g->ntrusted_proxies == 0)
			break;
		g->trusted = xcalloc(g->ntrusted_proxies, sizeof(*g->trusted));
		for (i = 0; i < g->ntrusted_proxies; i++) {
			if (cidr_parse(g->trusted_proxies[i],
			    &g->trusted[i]) == 0)
				continue;
			conf_verror(cx, v, "bad CIDR '%s' (address or "
			    "address/bits)", g->trusted_proxies[i]);
			error = -1;
		}
		break;
	case CONF_CHK_BASE_PATH:
		a = obj;
		if (conf_base_path(a, &why) == -1) {
			conf_verror(cx, v, "%s", why);
			free(why);
			error = -1;
		}
		break;
	case CONF_CHK_RES_PATH:
		s = *CONF_FIELD(obj, t->t_off, char *);
		if (conf_res_path(s, &why) == -1) {
			conf_verror(cx, v, "%s", why);
			free(why);
			error = -1;
		}
		break;
	case CONF_CHK_HEADER_NAME:
		s = *CONF_FIELD(obj, t->t_off, char *);
		if (conf_check_token(s) == -1) {
			conf_verror(cx, v, "bad header name '%s'", s);
			error = -1;
		}
		break;
	case CONF_CHK_LOG_FORMAT:
		s = *CONF_FIELD(obj, t->t_off, char *);
		if (conf_log_format(s) == -1) {
			conf_verror(cx, v, "unknown access log format '%s' "
			    "(combined or json)", s);
			error = -1;
		}
		break;
	case CONF_CHK_PROTOCOLS:
		tls = obj;
		for (i = 0; i < tls->t_nprotocols; i++) {
			if (tls_conf_protocol(tls->t_protocols[i]) != -1)
				continue;
			conf_verror(cx, v, "unknown protocol '%s' (use TLSv1.2 "
			    "or TLSv1.3)", tls->t_protocols[i]);
			error = -1;
		}
		break;
	case CONF_CHK_UNKNOWN_SNI:
		tls = obj;
		if (strcmp(tls->t_unknown_sni, "refuse") == 0)
			tls->t_sni_refuse = 1;
		else if (strcmp(tls->t_unknown_sni, "default") != 0) {
			conf_verror(cx, v, "'%s': use \"default\" or "
			    "\"refuse\"", tls->t_unknown_sni);
			error = -1;
		}
		break;
	case CONF_CHK_VERIFY_CLIENT:
		tls = obj;
		if (strcmp(tls->t_verify_client, "off") == 0)
			tls->t_verify = CONF_VERIFY_OFF;
		else if (strcmp(tls->t_verify_client, "optional") == 0)
			tls->t_verify = CONF_VERIFY_OPTIONAL;
		else if (strcmp(tls->t_verify_client, "required") == 0)
			tls->t_verify = CONF_VERIFY_REQUIRED;
		else {
			conf_verror(cx, v, "'%s': use off, optional or "
			    "required", tls->t_verify_client);
			error = -1;
		}
		break;
	case CONF_CHK_MUTUAL_TLS:
		a = obj;
		if (strcmp(a->a_mutual_tls_name, "mandatory") == 0)
			a->a_mutual_tls = CONF_MTLS_MANDATORY;
		else if (strcmp(a->a_mutual_tls_name, "optional") == 0)
			a->a_mutual_tls = CONF_MTLS_OPTIONAL;
		else {
			conf_verror(cx, v, "'%s': use mandatory or optional",
			    a->a_mutual_tls_name);
			error = -1;
		}
		break;
	case CONF_CHK_CERT_FP:
		cs = obj;
		for (i = 0; i < cs->cs_ncertificates; i++) {
			if (conf_cert_fp(cs->cs_certificates[i]) == 0)
				continue;
			conf_verror(cx, v, "bad certificate fingerprint '%s' "
			    "(\"sha256:\" and 64 hex digits, colons allowed)",
			    cs->cs_certificates[i]);
			error = -1;
		}
		break;
	default:
		break;
	}
	return (error);
}

/*
 * "sha256:AB:CD..." or "sha256:abcd...": check it and rewrite it in
 * place as "sha256:" and 64 lowercase hex digits, the form the worker
 * compares with.  0 or -1.
 */
static int
conf_cert_fp(char *s)
{
	char	*p, *q;
	size_t	 n = 0;

	if (strncasecmp(s, "sha256:", 7) != 0)
		return (-1);
	memcpy(s, "sha256:", 7);
	for (p = q = s + 7; *p != '\0'; p++) {
		if (*p == ':')
			continue;
		if (!isxdigit((unsigned char)*p))
			return (-1);
		*q++ = tolower((unsigned char)*p);
		n++;
	}
	*q = '\0';
	return (n == 64 ? 0 : -1);
}

/*
 * Checks over a whole group or list item, once its keys are stored: items
 * is the list's array and i the item, or the group itself and 0.
 */
static void
conf_check_group(struct conf_ctx *cx, const struct conf_opt *t, void *items,
    size_t i, struct conf_node *node)
{
	struct conf_listener	*l;
	struct conf_api		*a;
	struct conf_resource	*r;
	struct conf_endpoints	*ep;
	struct conf_consumer	*cs;
	const char		*fmt;
	struct conf_tls		*tls;
	struct conf_upstream_tls *ut;
	struct conf_gateway	*g;
	size_t			 j;
	int			 prod, mock;

	switch (t->t_check) {
	case CONF_CHK_LISTENER:
		l = items;
		/* The gateway group is walked before the listeners. */
		fmt = l[i].l_access_log_format != NULL ?
		    l[i].l_access_log_format :
		    cx->cx_conf->c_gateway.access_log_format;
		l[i].l_log_format = conf_log_format(fmt);
		if (l[i].l_log_format == -1)
			l[i].l_log_format = CONF_LOGF_COMBINED;
		for (j = 0; j < i && l[i].l_name != NULL; j++) {
			if (l[j].l_name == NULL ||
			    strcmp(l[i].l_name, l[j].l_name) != 0)
				continue;
			conf_errorat(cx, node->n_file, node->n_line,
			    "%s: duplicate listener name '%s'", node->n_path,
			    l[i].l_name);
			break;
		}
		for (j = 0; j < i && l[i].l_sslen != 0; j++) {
			if (l[i].l_sslen != l[j].l_sslen ||
			    memcmp(&l[i].l_ss, &l[j].l_ss, l[i].l_sslen) != 0)
				continue;
			conf_errorat(cx, node->n_file, node->n_line,
			    "%s: listen address '%s' is already used by "
			    "listener '%s'", node->n_path, l[i].l_listen,
			    l[j].l_name != NULL ? l[j].l_name : "?");
			break;
		}
		break;
	case CONF_CHK_API:
		a = items;
		a[i].a_index = i;
		a[i].a_conf = cx->cx_conf;
		for (j = 0; j < i; j++) {
			if (a[i].a_base_path == NULL ||
			    a[j].a_base_path == NULL ||
			    strcmp(a[i].a_base_path, a[j].a_base_path) != 0)
				continue;
			conf_errorat(cx, node->n_file, node->n_line,
			    "%s: duplicate base_path '%s' (also used by "
			    "API '%s')", node->n_path, a[i].a_base_path,
			    a[j].a_name != NULL ? a[j].a_name : "?");
			break;
		}
		/* name and version identify an API (logs, counters, env). */
		for (j = 0; j < i; j++) {
			if (a[i].a_name == NULL || a[j].a_name == NULL ||
			    strcmp(a[i].a_name, a[j].a_name) != 0)
				continue;
			if ((a[i].a_version == NULL) != (a[j].a_version ==
			    NULL) || (a[i].a_version != NULL &&
			    strcmp(a[i].a_version, a[j].a_version) != 0))
				continue;
			conf_errorat(cx, node->n_file, node->n_line,
			    "%s: duplicate API '%s'%s%s", node->n_path,
			    a[i].a_name, a[i].a_version != NULL ?
			    " version " : "", a[i].a_version != NULL ?
			    a[i].a_version : "");
			break;
		}
		break;
	case CONF_CHK_RESOURCE:
		r = items;
		r[i].r_index = i;
		r[i].r_conf = cx->cx_conf;
		if (r[i].r_methods == 0)
			r[i].r_methods = CONF_M_ALL;
		break;
	case CONF_CHK_ENDPOINTS:
		ep = items;
		prod = conf_given(node, t->t_sub, "production");
		mock = conf_given(node, t->t_sub, "mock");
		if (prod && mock)
			conf_errorat(cx, node->n_file, node->n_line,
			    "%s: set production or mock, not both",
			    node->n_path);
		else if (!prod && !mock)
			conf_errorat(cx, node->n_file, node->n_line,
			    "%s: production or mock is required",
			    node->n_path);
		else if (prod && ep->ep_nproduction == 0)
			conf_errorat(cx, node->n_file, node->n_line,
			    "%s: production needs at least one URL",
			    node->n_path);
		else if (mock && conf_given(node, t->t_sub, "sandbox"))
			conf_errorat(cx, node->n_file, node->n_line,
			    "%s: sandbox needs production endpoints, not a "
			    "mock", node->n_path);
		ep->ep_type = mock && !prod ? CONF_EP_MOCK : CONF_EP_HTTP;
		free(ep->ep_tls_where);
		ep->ep_tls_where = conf_where(cx, node);
		break;
	case CONF_CHK_TLS:
		tls = items;
		free(tls->t_where);
		tls->t_where = conf_where(cx, node);
		if (tls->t_verify != CONF_VERIFY_OFF &&
		    tls->t_client_ca == NULL)
			conf_errorat(cx, node->n_file, node->n_line,
			    "%s: verify_client %s needs client_ca",
			    node->n_path, tls->t_verify_client);
		if (tls->t_crl != NULL && tls->t_client_ca == NULL)
			conf_errorat(cx, node->n_file, node->n_line,
			    "%s: crl needs client_ca", node->n_path);
		break;
	case CONF_CHK_GATEWAY:
		g = items;
		free(g->trusted_where);
		g->trusted_where = conf_where(cx, node);
		if (g->trusted_cert_crl != NULL && g->trusted_cert_ca == NULL)
			conf_errorat(cx, node->n_file, node->n_line,
			    "%s: trusted_client_certificate_crl needs "
			    "trusted_client_certificate_ca", node->n_path);
		break;
	case CONF_CHK_UPSTREAM_TLS:
		ut = items;
		if ((ut->ut_certificate == NULL) != (ut->ut_key == NULL))
			conf_errorat(cx, node->n_file, node->n_line,
			    "%s: certificate and key go together",
			    node->n_path);
		break;
	case CONF_CHK_MOCK:
		ep = items;
		ep->ep_mock_bodylen = ep->ep_mock_body != NULL ?
		    strlen(ep->ep_mock_body) : 0;
		break;
	case CONF_CHK_CONSUMER:
		cs = items;
		cs[i].cs_conf = cx->cx_conf;
		for (j = 0; j < i && cs[i].cs_name != NULL; j++) {
			if (cs[j].cs_name == NULL ||
			    strcmp(cs[i].cs_name, cs[j].cs_name) != 0)
				continue;
			conf_errorat(cx, node->n_file, node->n_line,
			    "%s: duplicate consumer name '%s'", node->n_path,
			    cs[i].cs_name);
			break;
		}
		break;
	default:
		break;
	}
}

/* "file:line: path" of a group, for errors found after the load. */
static char *
conf_where(struct conf_ctx *cx, const struct conf_node *node)
{
	char	*name, *where;

	name = conf_file_name(cx, node->n_file);
	xasprintf(&where, "%s:%d: %s", name, node->n_line, node->n_path);
	free(name);
	return (where);
}

/* An HTTP field name: an RFC 9110 token. */
static int
conf_check_token(const char *s)
{
	static const char	 tchar[] = "!#$%&'*+-.^_`|~";
	size_t			 i;

	for (i = 0; s[i] != '\0'; i++) {
		if (!isalnum((unsigned char)s[i]) &&
		    strchr(tchar, s[i]) == NULL)
			return (-1);
	}
	return (i == 0 ? -1 : 0);
}

/* A plugin's name: 1 to CONF_NAME_MAX - 1 of a-z 0-9 _ -. */
static int
conf_check_pname(const char *s)
{
	size_t	 n;

	n = strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-");
	return (n == 0 || n != strlen(s) || n >= CONF_NAME_MAX ? -1 : 0);
}

/* 1 to CONF_NAME_MAX - 1 characters of A-Z a-z 0-9 and extra. */
static int
conf_check_name(const char *s, const char *extra)
{
	size_t	 i;

	for (i = 0; s[i] != '\0'; i++) {
		if (!isalnum((unsigned char)s[i]) &&
		    strchr(extra, s[i]) == NULL)
			return (-1);
	}
	return (i == 0 || i >= CONF_NAME_MAX ? -1 : 0);
}

/* Resolve host and a numeric port to the first address found. */
static int
conf_resolve(const char *host, const char *port, int passive,
    struct sockaddr_storage *ss, socklen_t *sslen, char **why)
{
	struct addrinfo	 hints, *res;
	int		 error;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
	if ((error = getaddrinfo(host, port, &hints, &res)) != 0) {
		xasprintf(why, "cannot resolve '%s': %s", host,
		    gai_strerror(error));
		return (-1);
	}
	if ((res->ai_family != AF_INET && res->ai_family != AF_INET6) ||
	    res->ai_addrlen > sizeof(*ss)) {
		freeaddrinfo(res);
		xasprintf(why, "'%s' is not an IPv4 or IPv6 address", host);
		return (-1);
	}
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*sslen = res->ai_addrlen;
	freeaddrinfo(res);
	return (0);
}

/*
 * Split "host:port", "[v6]:port" or "*:port" and resolve it.  The port
 * is in decimal, 1..65535, and an IPv6 address needs its brackets so that
 * the last colon is unambiguous.
 */
static int
conf_listen_parse(const char *s, struct sockaddr_storage *ss,
    socklen_t *sslen, char **why)
{
	char		*host, *port, *end;
	const char	*colon;
	unsigned long	 p;
	int		 error;

	if (s[0] == '[') {
		if ((end = strchr(s, ']')) == NULL || end[1] != ':') {
			xasprintf(why, "bad listen address '%s': expected "
			    "[address]:port", s);
			return (-1);
		}
		host = xstrndup(s + 1, end - s - 1);
		colon = end + 1;
	} else {
		if ((colon = strrchr(s, ':')) == NULL) {
			xasprintf(why, "bad listen address '%s': expected "
			    "host:port", s);
			return (-1);
		}
		host = xstrndup(s, colon - s);
		if (strchr(host, ':') != NULL) {
			free(host);
			xasprintf(why, "bad listen address '%s': an IPv6 "
			    "address needs brackets, [::1]:port", s);
			return (-1);
		}
	}
	port = xstrdup(colon + 1);
	errno = 0;
	p = strtoul(port, &end, 10);
	if (host[0] == '\0' || port[0] < '0' || port[0] > '9' || *end != '\0' ||
	    errno != 0 || p == 0 || p > 65535) {
		xasprintf(why, "bad listen address '%s': expected host:port "
		    "with a port from 1 to 65535", s);
		free(host);
		free(port);
		return (-1);
	}
	if (strcmp(host, "*") == 0)
		error = conf_resolve("0.0.0.0", port, 1, ss, sslen, why);
	else
		error = conf_resolve(host, port, 1, ss, sslen, why);
	free(host);
	free(port);
	return (error);
}

/* Parse and resolve "http://host[:port][/prefix]" into u. */
static int
conf_url_parse(const char *s, struct conf_url *u, char **why)
{
	const char	*p, *auth, *hend, *path;
	char		*host, *end = NULL, port[8];
	unsigned long	 pn = 80;
	size_t		 plen;
	int		 error;

	u->u_url = xstrdup(s);
	if (strncasecmp(s, "https://", 8) == 0) {
		u->u_tls = 1;
		pn = 443;
	} else if (strncasecmp(s, "http://", 7) != 0) {
		xasprintf(why, "bad URL '%s': expected "
		    "http[s]://host[:port][/path]", s);
		return (-1);
	}
	if (strpbrk(s, "?#") != NULL) {
		xasprintf(why, "bad URL '%s': an endpoint cannot have a query "
		    "or fragment", s);
		return (-1);
	}
	for (p = s; *p != '\0'; p++) {
		if ((unsigned char)*p <= ' ' || (unsigned char)*p == 0x7f) {
			xasprintf(why, "bad URL '%s': spaces and control "
			    "characters are not allowed", s);
			return (-1);
		}
	}
	auth = s + (u->u_tls ? 8 : 7);
	path = auth + strcspn(auth, "/");
	if (memchr(auth, '@', path - auth) != NULL) {
		xasprintf(why, "bad URL '%s': user information is not "
		    "supported", s);
		return (-1);
	}
	if (auth[0] == '[') {
		hend = memchr(auth, ']', path - auth);
		if (hend == NULL || hend == auth + 1) {
			xasprintf(why, "bad URL '%s': bad IPv6 address", s);
			return (-1);
		}
		host = xstrndup(auth + 1, hend - auth - 1);
		p = hend + 1;
	} else {
		hend = memchr(auth, ':', path - auth);
		if (hend == NULL)
			hend = path;
		host = xstrndup(auth, hend - auth);
		p = hend;
	}
	if (p != path) {
		errno = 0;
		pn = 0;
		if (*p == ':' && p[1] >= '0' && p[1] <= '9')
			pn = strtoul(p + 1, &end, 10);
		if (*p != ':' || pn == 0 || pn > 65535 || end != path) {
			free(host);
			xasprintf(why, "bad URL '%s': bad port", s);
			return (-1);
		}
	}
	if (host[0] == '\0') {
		free(host);
		xasprintf(why, "bad URL '%s': no host", s);
		return (-1);
	}
	snprintf(port, sizeof(port), "%lu", pn);
	error = conf_resolve(host, port, 0, &u->u_ss, &u->u_sslen, why);
	u->u_tlsname = host;
	if (error == -1)
		return (-1);
	u->u_host = xstrndup(auth, path - auth);
	plen = strlen(path);
	while (plen > 0 && path[plen - 1] == '/')
		plen--;
	u->u_prefix = xstrndup(path, plen);
	return (0);
}

/* "Name: value" with an RFC 9110 token for the name. */
static int
conf_header_parse(const char *s, struct conf_header *h, char **why)
{
	static const char	 tchar[] = "!#$%&'*+-.^_`|~";
	const char		*colon, *v, *end, *p;

	colon = strchr(s, ':');
	for (p = s; colon != NULL && p < colon; p++) {
		if (!isalnum((unsigned char)*p) && strchr(tchar, *p) == NULL)
			break;
	}
	if (colon == NULL || colon == s || p != colon) {
		xasprintf(why, "bad header '%s': expected \"Name: value\"", s);
		return (-1);
	}
	v = colon + 1;
	while (*v == ' ' || *v == '\t')
		v++;
	end = v + strlen(v);
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	for (p = v; p < end; p++) {
		if (((unsigned char)*p < ' ' && *p != '\t') ||
		    (unsigned char)*p == 0x7f) {
			xasprintf(why, "bad header '%s': control characters "
			    "in the value", s);
			return (-1);
		}
	}
	h->h_name = xstrndup(s, colon - s);
	h->h_value = xstrndup(v, end - v);
	return (0);
}

/*
 * Substitute {version} into a_base_path and normalise it: no trailing
 * '/', except for "/" itself.
 */
static int
conf_base_path(struct conf_api *a, char **why)
{
	static const char	 var[] = "{version}";
	char			*in = a->a_base_path, *out, *o, *p, *q;
	size_t			 len, nvar = 0, vlen;

	for (p = in; (p = strstr(p, var)) != NULL; p += sizeof(var) - 1)
		nvar++;
	if (nvar > 0 && a->a_version == NULL) {
		xasprintf(why, "'%s' uses {version} but the API has no "
		    "version", in);
		return (-1);
	}
	vlen = a->a_version != NULL ? strlen(a->a_version) : 0;
	out = xmalloc(strlen(in) + nvar * vlen + 1);
	o = out;
	for (p = in; (q = strstr(p, var)) != NULL; p = q + sizeof(var) - 1) {
		memcpy(o, p, q - p);
		o += q - p;
		memcpy(o, a->a_version, vlen);
		o += vlen;
	}
	memcpy(o, p, strlen(p) + 1);
	free(in);
	a->a_base_path = out;

	if (out[0] != '/') {
		xasprintf(why, "'%s' must start with '/'", out);
		return (-1);
	}
	len = strlen(out);
	while (len > 1 && out[len - 1] == '/')
		out[--len] = '\0';
	if (strstr(out, "//") != NULL || strpbrk(out, "{}*?#%") != NULL) {
		xasprintf(why, "bad base path '%s' (no empty segments, "
		    "templates other than {version}, '*', '?', '#' or '%%')",
		    out);
		return (-1);
	}
	for (p = out; *p != '\0'; p++) {
		if ((unsigned char)*p <= ' ' || (unsigned char)*p == 0x7f) {
			xasprintf(why, "bad base path '%s': spaces and "
			    "control characters are not allowed", out);
			return (-1);
		}
	}
	return (0);
}

/*
 * A resource template: '/' and segments that are literals, a whole
 * "{name}" or, last, "*".  A trailing '/' is kept: it is part of what
 * the client must send.
 */
static int
conf_res_path(const char *s, char **why)
{
	const char	*seg, *end, *p, *q;
	size_t		 len;

	if (s[0] != '/') {
		xasprintf(why, "resource path '%s' must start with '/'", s);
		return (-1);
	}
	for (seg = s + 1; *seg != '\0'; seg = *end == '/' ? end + 1 : end) {
		end = seg + strcspn(seg, "/");
		len = end - seg;
		if (len == 0) {
			xasprintf(why, "bad resource path '%s': empty "
			    "segment", s);
			return (-1);
		}
		if (memchr(seg, '*', len) != NULL) {
			if (len != 1 || *end != '\0') {
				xasprintf(why, "bad resource path '%s': '*' "
				    "must be a whole, last segment", s);
				return (-1);
			}
			continue;
		}
		if (memchr(seg, '{', len) != NULL ||
		    memchr(seg, '}', len) != NULL) {
			if (len < 3 || seg[0] != '{' || end[-1] != '}') {
				xasprintf(why, "bad resource path '%s': "
				    "'{name}' must be a whole segment", s);
				return (-1);
			}
			for (p = seg + 1; p < end - 1; p++) {
				if (!isalnum((unsigned char)*p) &&
				    strchr("_.-", *p) == NULL) {
					xasprintf(why, "bad resource path "
					    "'%s': bad parameter name", s);
					return (-1);
				}
			}
			/* A name used twice could not be told apart. */
			for (q = s; (q = strstr(q, "{")) != NULL &&
			    q < seg; q++) {
				if (strncmp(q, seg, len) == 0 && q[len - 1] ==
				    '}' && (q[len] == '/' || q[len] == '\0')) {
					xasprintf(why, "bad resource path "
					    "'%s': parameter %.*s used twice",
					    s, (int)len, seg);
					return (-1);
				}
			}
			continue;
		}
		for (p = seg; p < end; p++) {
			if ((unsigned char)*p <= ' ' || *p == '?' ||
			    *p == '#' || (unsigned char)*p == 0x7f) {
				xasprintf(why, "bad resource path '%s': "
				    "spaces, controls, '?' and '#' are not "
				    "allowed", s);
				return (-1);
			}
		}
	}
	return (0);
}

/*
 * Report the overrides that did not apply: those naming no setting, and
 * those naming a list item the file does not have.
 */
static void
conf_env_report(struct conf_ctx *cx, struct mgw_conf *conf)
{
	struct conf_override	*o;
	const struct conf_opt	*t;
	char			*why;
	size_t			 i;

	for (i = 0; i < cx->cx_nov; i++) {
		o = &cx->cx_ov[i];
		if (o->o_used)
			continue;
		if (o->o_npath == 0)
			why = xstrdup("names no setting");
		else {
			for (t = conf->c_table; t->t_name != NULL; t++) {
				if (strcmp(t->t_name, o->o_path[0]) == 0)
					break;
			}
			/* A plugin's list is in the plugin's struct. */
			if (t->t_type == CONF_T_LIST && !conf_env_item(t,
			    t->t_plugin != 0 ? cx->cx_top[t->t_plugin - 1] :
			    conf, o->o_path[1]))
				xasprintf(&why, "no item named '%s' in %s",
				    o->o_path[1], o->o_path[0]);
			else
				why = xstrdup("names no setting that can be "
				    "overridden");
		}
		cx->cx_errs = xreallocarray(cx->cx_errs, cx->cx_nerrs + 1,
		    sizeof(*cx->cx_errs));
		xasprintf(&cx->cx_errs[cx->cx_nerrs++], "environment %s: %s",
		    o->o_name, why);
		free(why);
	}
}

/* Does list t of obj have an item whose name the environment spells so? */
static int
conf_env_item(const struct conf_opt *t, void *obj, const char *env)
{
	const struct conf_opt	*name;
	char			*items, *s, buf[CONF_NAME_MAX];
	size_t			 i, n;

	for (name = t->t_sub; name->t_name != NULL; name++) {
		if (strcmp(name->t_name, "name") == 0)
			break;
	}
	if (name->t_name == NULL)
		return (0);
	items = *CONF_FIELD(obj, t->t_off, char *);
	n = *CONF_FIELD(obj, t->t_off2, size_t);
	for (i = 0; items != NULL && i < n; i++) {
		s = *CONF_FIELD(items + i * t->t_size, name->t_off, char *);
		if (s == NULL)
			continue;
		conf_env_name(s, buf, sizeof(buf));
		if (strcmp(buf, env) == 0)
			return (1);
	}
	return (0);
}

/*
 * Free what tbl describes in obj, not obj itself; a plugin's keys are in
 * its struct of settings (NULL: none here).
 */
static void
conf_free_group(const struct conf_opt *tbl, void *top, void **settings)
{
	const struct conf_opt	*t;
	struct conf_url		*u;
	struct conf_header	*h;
	char			**sv, *items;
	void			*child, *obj, **iset;
	size_t			 i, j, n;

	for (t = tbl; t->t_name != NULL; t++) {
		obj = top;
		if (t->t_plugin != 0 && (settings == NULL ||
		    (obj = settings[t->t_plugin - 1]) == NULL))
			continue;
		switch (t->t_type) {
		case CONF_T_STRING:
			free(*CONF_FIELD(obj, t->t_off, char *));
			break;
		case CONF_T_STRINGS:
			sv = *CONF_FIELD(obj, t->t_off, char **);
			n = *CONF_FIELD(obj, t->t_off2, size_t);
			for (i = 0; sv != NULL && i < n; i++)
				free(sv[i]);
			free(sv);
			break;
		case CONF_T_URLS:
			u = *CONF_FIELD(obj, t->t_off, struct conf_url *);
			n = *CONF_FIELD(obj, t->t_off2, size_t);
			for (i = 0; u != NULL && i < n; i++) {
				free(u[i].u_url);
				free(u[i].u_tlsname);
				free(u[i].u_host);
				free(u[i].u_prefix);
			}
			free(u);
			break;
		case CONF_T_HEADERS:
			h = *CONF_FIELD(obj, t->t_off, struct conf_header *);
			n = *CONF_FIELD(obj, t->t_off2, size_t);
			for (i = 0; h != NULL && i < n; i++) {
				free(h[i].h_name);
				free(h[i].h_value);
			}
			free(h);
			break;
		case CONF_T_GROUP:
			if (t->t_flags & CONF_F_PTR) {
				child = *CONF_FIELD(obj, t->t_off, void *);
				if (child != NULL)
					conf_free_group(t->t_sub, child, NULL);
				free(child);
			} else
				conf_free_group(t->t_sub,
				    CONF_FIELD(obj, t->t_off, char), NULL);
			break;
		case CONF_T_LIST:
			items = *CONF_FIELD(obj, t->t_off, char *);
			n = *CONF_FIELD(obj, t->t_off2, size_t);
			for (i = 0; items != NULL && i < n; i++) {
				iset = NULL;
				if (t->t_scope != 0)
					iset = *CONF_FIELD(items +
					    i * t->t_size, t->t_soff, void **);
				conf_free_group(t->t_sub,
				    items + i * t->t_size, iset);
				/* An entry's struct is its plugin's. */
				for (j = 0; iset != NULL &&
				    t->t_scope != MGW_SCOPE_ENTRY &&
				    j < conf_nplugins; j++)
					free(iset[j]);
				free(iset);
			}
			free(items);
			break;
		default:
			break;
		}
	}
}

/* Free a conf_load() result entirely; NULL is fine.  Master only. */
void
conf_free(struct mgw_conf *conf)
{
	void	**top;
	size_t	 i;

	if (conf == NULL)
		return;
	tls_conf_free(conf);
	/* The walk that filled the plugins' structs frees them too. */
	top = xcalloc(conf->c_nplugins + 1, sizeof(*top));
	for (i = 0; i < conf->c_nplugins; i++)
		top[i] = conf->c_plugins[i].cp_settings;
	conf_nplugins = conf->c_nplugins;
	conf_free_group(conf->c_table != NULL ? conf->c_table : conf_table,
	    conf, top);
	free(top);
	for (i = 0; i < conf->c_nplugins; i++) {
		free(conf->c_plugins[i].cp_settings);
		free(conf->c_plugins[i].cp_path);
		free(conf->c_plugins[i].cp_where);
		/* After its settings: o_check may have put its data there. */
		if (conf->c_plugins[i].cp_dl != NULL)
			plugin_host_close(conf->c_plugins[i].cp_dl);
	}
	free(conf->c_plugins);
	for (i = 0; i < conf->c_ntables; i++)
		free(conf->c_tables[i]);
	free(conf->c_tables);
	for (i = 0; i < conf->c_nwheres; i++)
		free(conf->c_wheres[i].w_where);
	free(conf->c_wheres);
	free(conf->c_log_redact);
	free(conf->c_gateway.trusted);
	for (i = 0; i < conf->c_noverrides; i++)
		free(conf->c_overrides[i]);
	free(conf->c_overrides);
	free(conf->c_file);
	free(conf);
}

/* The configuration conf_load() is filling, or NULL.  Master only. */
struct mgw_conf *
conf_loading_conf(void)
{
	return (conf_loading != NULL ? conf_loading->cx_conf : NULL);
}

/*
 * Master, inside a plugin's o_check while conf_load() runs: logs hide
 * the value of the query parameter param.
 */
void
mgw_conf_log_redact(const char *param)
{
	struct mgw_conf	*conf;

	if ((conf = conf_loading_conf()) == NULL)
		return;
	free(conf->c_log_redact);
	conf->c_log_redact = xstrdup(param);
}

/*
 * Master, inside a plugin's o_check while conf_load() runs: p's struct of
 * MGW_SCOPE_TOP (or ENTRY) settings, as far as the walk has filled it
 * (the plugins' top-level keys are walked before apis and consumers).
 * NULL outside a load or for a plugin without one.
 */
const void *
mgw_conf_loading(const struct mgw_plugin *p)
{
	struct mgw_conf	*conf;
	size_t		 k;

	if (conf_loading == NULL)
		return (NULL);
	conf = conf_loading->cx_conf;
	for (k = 0; k < conf->c_nplugins; k++) {
		if (conf->c_plugins[k].cp_plugin == p)
			return (conf->c_plugins[k].cp_settings);
	}
	return (NULL);
}

/*
 * Who the workers run as once they drop privileges (the rule of
 * worker_drop_privileges()): gateway.user, else "nobody", and
 * gateway.group if set.  For the master and plugins' conf hooks, which
 * hand files and directories to them.  -1 when nothing is handed over:
 * not root, workers kept as root, or an unknown user.
 */
int
conf_worker_ids(const struct mgw_conf *conf, uid_t *uid, gid_t *gid)
{
	struct passwd	*pw;
	struct group	*gr;
	const char	*user = conf->c_gateway.user;

	if (geteuid() != 0)
		return (-1);
	if (user == NULL)
		user = "nobody";
	if (strcmp(user, "root") == 0 || (pw = getpwnam(user)) == NULL)
		return (-1);
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	if (conf->c_gateway.group != NULL &&
	    (gr = getgrnam(conf->c_gateway.group)) != NULL)
		*gid = gr->gr_gid;
	return (0);
}
