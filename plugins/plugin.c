/*
 * plugin.c: the generation's plugin set.  The master runs the conf hooks
 * when it loads a configuration, a worker the init_worker hooks when it
 * starts; the phase engine (worker/phase.c) runs the rest.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "lib.h"
#include "master.h"
#include "worker.h"
#include <mgw/plugin.h>
#include "status.h"

extern const struct mgw_plugin *const plugin_builtin[];

/*
 * Master: build the generation's plugin set, running every conf hook.
 * All failures are reported together, one per line.
 */
struct plugin_set *
plugin_conf_all(const struct mgw_conf *conf, char **cause)
{
	struct plugin_set	*ps;
	char			*why, *all = NULL, *tmp;
	size_t			 n, i;

	for (n = 0; plugin_builtin[n] != NULL; n++)
		;
	ps = xcalloc(1, sizeof(*ps));
	ps->ps_inst = xcalloc(n + 1, sizeof(*ps->ps_inst));
	ps->ps_n = n;
	for (i = 0; i < n; i++) {
		ps->ps_inst[i].pi_plugin = plugin_builtin[i];
		if (plugin_builtin[i]->api != MGW_PLUGIN_API)
			fatalx("plugin %s: ABI %u, expected %u",
			    plugin_builtin[i]->name, plugin_builtin[i]->api,
			    MGW_PLUGIN_API);
		if (plugin_builtin[i]->conf == NULL)
			continue;
		why = NULL;
		if (plugin_builtin[i]->conf(conf, &ps->ps_inst[i].pi_state,
		    &why) != MGW_OK) {
			if (all == NULL)
				xasprintf(&all, "%s", why != NULL ? why :
				    plugin_builtin[i]->name);
			else {
				xasprintf(&tmp, "%s\n%s", all, why != NULL ?
				    why : plugin_builtin[i]->name);
				free(all);
				all = tmp;
			}
			free(why);
		}
	}
	if (all != NULL) {
		plugin_set_free(ps);
		*cause = all;
		return (NULL);
	}
	return (ps);
}

void
plugin_set_free(struct plugin_set *ps)
{
	size_t	 i;

	if (ps == NULL)
		return;
	for (i = 0; i < ps->ps_n; i++)
		if (ps->ps_inst[i].pi_plugin->fini != NULL &&
		    ps->ps_inst[i].pi_state != NULL)
			ps->ps_inst[i].pi_plugin->fini(ps->ps_inst[i].pi_state);
	free(ps->ps_inst);
	free(ps);
}

/*
 * Hand ps's plugins and states, in order, to the status documents.  A
 * worker after fork, the master before it renders; dies on OOM (both
 * are startup or master paths).
 */
void
plugin_set_status(const struct plugin_set *ps)
{
	struct status_plugin	*sp;
	size_t			 i;

	sp = xreallocarray(NULL, ps->ps_n + 1, sizeof(*sp));
	for (i = 0; i < ps->ps_n; i++) {
		sp[i].sp_plugin = ps->ps_inst[i].pi_plugin;
		sp[i].sp_state = ps->ps_inst[i].pi_state;
	}
	status_plugins_set(sp, ps->ps_n);
	free(sp);
}

/* Worker start: init_worker hooks.  0, or -1 with *cause. */
int
plugin_init_worker(struct plugin_set *ps, char **cause)
{
	size_t	 i;

	for (i = 0; i < ps->ps_n; i++) {
		if (ps->ps_inst[i].pi_plugin->init_worker == NULL)
			continue;
		if (ps->ps_inst[i].pi_plugin->init_worker(
		    ps->ps_inst[i].pi_state, cause) != MGW_OK)
			return (-1);
	}
	return (0);
}
