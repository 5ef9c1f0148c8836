/*
 * conf-plugin.c: the plugins' settings in the loader.  The built-ins and
 * the external plugins of "plugins = ( ... )" are gathered (the latter
 * opened) before the walk; their sections are converted to the core's
 * option form and merged into this load's tables, so that the walk, the
 * MGW_* overrides and conf_free() treat their keys as the core's, with
 * each value redirected into the plugin's own struct.
 */
#include "config.h"

#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libconfig.h>

#include "lib.h"
#include "master.h"
#include "conf-int.h"

static void	conf_plugin_add(struct mgw_conf *, const struct mgw_plugin *,
		    void *, const char *, char *);
static struct conf_opt *conf_opt_convert(struct conf_ctx *,
		    const struct mgw_conf_opt *, int);
static struct conf_opt *conf_table_keep(struct conf_ctx *, size_t);
static int	conf_table_has(const struct conf_opt *, size_t, const char *);

/*
 * Where t's value goes: obj for the core's keys, else the struct of the
 * plugin that declared t, NULL when that plugin has none here (another
 * plugin's entry, a list item that failed).
 */
void *
conf_target(const struct conf_opt *t, void *obj, const struct conf_node *node)
{
	if (t->t_plugin == 0)
		return (obj);
	if (node->n_settings == NULL)
		return (NULL);
	return (node->n_settings[t->t_plugin - 1]);
}

/* Remember that the value at field came from file:line, key path. */
void
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
void
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
void **
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
void
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
const struct conf_opt *
conf_table_merge(struct conf_ctx *cx, const struct conf_opt *base, int scope)
{
	struct mgw_conf			*conf = cx->cx_conf;
	const struct mgw_conf_section	*sec;
	struct conf_opt			*tbl, *conv;
	size_t				 n = 0, m = 0, k, j, at, o = 0;
	size_t				 from;

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
			from = scope == MGW_SCOPE_ENTRY ? o : 0;
			for (j = 0; conv[j].t_name != NULL; j++) {
				/*
				 * The first to declare a key keeps it; an
				 * entry's keys are its plugin's alone.
				 */
				if (conf_table_has(base, n, conv[j].t_name) ||
				    conf_table_has(tbl + from, o - from,
				    conv[j].t_name)) {
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
