/*
 * conf.c: mgw.conf -> struct mgw_conf.  libconfig parses the file; we walk
 * conf_table (conf-table.c) over the result, taking each value from the
 * environment, the file or the table's default, in that order, converting
 * and checking it.  Every problem is recorded with file:line and the walk
 * goes on, so one run of mgwd -n shows them all (HAProxy's ERR_*
 * accumulation).  Nothing from libconfig outlives conf_load().  This file
 * is the walk and the errors; conf-value.c converts values, conf-check.c
 * checks them, conf-plugin.c adds the plugins' keys to the tables.
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
#include "conf-int.h"

static char	*conf_include_name(struct conf_ctx *, const char *, int);
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
static void	conf_env_report(struct conf_ctx *, struct mgw_conf *);
static int	conf_env_item(const struct conf_opt *, void *, const char *);
static void	conf_env_name(const char *, char *, size_t);
static void	conf_free_group(const struct conf_opt *, void *, void **,
		    size_t);

/* The configuration conf_load() is filling, for mgw_conf_loading(). */
static struct conf_ctx	*conf_loading;

/*
 * Record one error at file:line.  file is what libconfig calls the file
 * (NULL for the main one).
 */
void
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
void
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
void
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
char *
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

/* The file s was read from, as libconfig names it (NULL: the main one). */
const char *
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
			if (t->t_name != NULL || node->n_lax)
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
			/* A plugin that did not open has said why already. */
			cn.n_lax = t->t_scope == MGW_SCOPE_ENTRY &&
			    (i >= (int)cx->cx_nentry || cx->cx_entry[i] < 0);
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
int
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
 * its struct of settings (NULL: none here), one for each of the np
 * plugins.
 */
static void
conf_free_group(const struct conf_opt *tbl, void *top, void **settings,
    size_t np)
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
					conf_free_group(t->t_sub, child, NULL,
					    np);
				free(child);
			} else
				conf_free_group(t->t_sub,
				    CONF_FIELD(obj, t->t_off, char), NULL, np);
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
				    items + i * t->t_size, iset, np);
				/* An entry's struct is its plugin's. */
				for (j = 0; iset != NULL &&
				    t->t_scope != MGW_SCOPE_ENTRY &&
				    j < np; j++)
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
	conf_free_group(conf->c_table != NULL ? conf->c_table : conf_table,
	    conf, top, conf->c_nplugins);
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
