/*
 * plugin-verb.c: the master's side of two plugin hooks that run in the
 * master's loop rather than per request: init_master, once a generation
 * is accepted and before its workers fork, and the control verbs a
 * plugin adds to mgwctl (struct mgw_ctl_verb).  The control socket
 * (control.c) hands a CTL_VERB's words here; the verb is looked up by
 * name among the plugins of the generation in force.
 */
#include "config.h"

#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib.h"
#include "master.h"
#include "worker.h"
#include <mgw/plugin.h>

/*
 * Run the init_master hook of every plugin of ps, in table order, with
 * the master's loop base.  Master only, for a generation whose load and
 * zones succeeded, before its workers fork (at start-up and on reload).
 * 0, or -1 with *cause when a plugin refused: the generation must then
 * not go into service, and generation_free() releases what the earlier
 * hooks started through each plugin's fini.
 */
int
plugin_host_init_master(struct plugin_set *ps, struct event_base *base,
    char **cause)
{
	const struct mgw_plugin	*p;
	char			*why;
	size_t			 i;

	for (i = 0; i < ps->ps_n; i++) {
		p = ps->ps_inst[i].pi_plugin;
		if (p->init_master == NULL)
			continue;
		why = NULL;
		if (p->init_master(ps->ps_inst[i].pi_state, base,
		    &why) != MGW_OK) {
			if (why != NULL)
				*cause = why;
			else
				xasprintf(cause, "plugin %s: init_master "
				    "failed", p->name);
			return (-1);
		}
	}
	return (0);
}

/* The verb called name among ps's plugins, with its plugin's state. */
static const struct mgw_ctl_verb *
plugin_host_verb_find(struct plugin_set *ps, const char *name, void **state)
{
	const struct mgw_ctl_verb	*v;
	size_t				 i;

	for (i = 0; i < ps->ps_n; i++) {
		v = ps->ps_inst[i].pi_plugin->ctl_verbs;
		for (; v != NULL && v->v_name != NULL; v++) {
			if (strcmp(v->v_name, name) == 0) {
				*state = ps->ps_inst[i].pi_state;
				return (v);
			}
		}
	}
	return (NULL);
}

/*
 * Run the control verb argv[0] with the words after it, appending its
 * answer to out.  A name two plugins register goes to the first in
 * table order.  Master only, in its loop (control.c).  0, or -1 with
 * *cause (malloc'd): an unknown verb, or the verb's own failure.
 */
int
plugin_host_verb(struct plugin_set *ps, int argc, char **argv,
    struct mgw_buf *out, char **cause)
{
	const struct mgw_ctl_verb	*v;
	void				*state = NULL;
	char				*why = NULL;

	if (argc < 1) {
		xasprintf(cause, "missing command");
		return (-1);
	}
	if ((v = plugin_host_verb_find(ps, argv[0], &state)) == NULL) {
		xasprintf(cause, "unknown command: %s", argv[0]);
		return (-1);
	}
	if (v->v_run(state, argc - 1, argv + 1, out, &why) != 0) {
		if (why != NULL)
			*cause = why;
		else
			xasprintf(cause, "%s failed", argv[0]);
		return (-1);
	}
	return (0);
}

/*
 * The verbs of ps for mgwctl's usage: one "name<TAB>usage" line per line
 * of each verb's usage, in table order; a name already listed by an
 * earlier plugin is skipped, since that plugin runs it.  Master only.
 */
void
plugin_host_verbs(struct plugin_set *ps, struct mgw_buf *out)
{
	const struct mgw_ctl_verb	*v;
	const char			*u, *nl;
	void				*state;
	size_t				 i;

	for (i = 0; i < ps->ps_n; i++) {
		v = ps->ps_inst[i].pi_plugin->ctl_verbs;
		for (; v != NULL && v->v_name != NULL; v++) {
			if (plugin_host_verb_find(ps, v->v_name, &state) != v)
				continue;
			u = v->v_usage != NULL ? v->v_usage : v->v_name;
			for (;;) {
				nl = strchr(u, '\n');
				(void)mgw_buf_printf(out, "%s\t%.*s\n",
				    v->v_name, nl != NULL ? (int)(nl - u) :
				    (int)strlen(u), u);
				if (nl == NULL)
					break;
				u = nl + 1;
			}
		}
	}
}
