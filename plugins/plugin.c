/*
 * plugin.c: running the plugins' phases, and the accessors the core
 * exports to them.  The master runs the conf hooks when it loads a
 * configuration; a worker runs the rest for each request, in table order.
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

int
plugin_run_post_read(struct request *r)
{
	struct plugin_set	*ps = wenv->we_plugins;
	size_t			 i;
	int			 rv;

	for (i = 0; i < ps->ps_n; i++) {
		if (ps->ps_inst[i].pi_plugin->post_read == NULL)
			continue;
		rv = ps->ps_inst[i].pi_plugin->post_read(
		    ps->ps_inst[i].pi_state, (struct mgw_request *)r);
		if (rv != MGW_OK)
			return (rv);
	}
	return (MGW_OK);
}

/*
 * The access phase from plugin r_access_idx on.  MGW_OK when all passed;
 * MGW_AGAIN leaves r_access_idx on the suspended plugin.
 */
int
plugin_run_access(struct request *r)
{
	struct plugin_set	*ps = wenv->we_plugins;
	int			 rv;

	for (; (size_t)r->r_access_idx < ps->ps_n; r->r_access_idx++) {
		if (ps->ps_inst[r->r_access_idx].pi_plugin->access == NULL)
			continue;
		rv = ps->ps_inst[r->r_access_idx].pi_plugin->access(
		    ps->ps_inst[r->r_access_idx].pi_state,
		    (struct mgw_request *)r);
		if (rv != MGW_OK)
			return (rv);
	}
	return (MGW_OK);
}

/*
 * The request suspended in plugin r_access_idx goes away unresumed: tell
 * that plugin, so that it forgets the request.
 */
void
plugin_run_cancel(struct request *r)
{
	struct plugin_set	*ps = wenv->we_plugins;
	const struct mgw_plugin	*p;

	if (!r->r_suspended)
		return;
	r->r_suspended = 0;
	if ((size_t)r->r_access_idx >= ps->ps_n)
		return;
	p = ps->ps_inst[r->r_access_idx].pi_plugin;
	if (p->cancel != NULL)
		p->cancel(ps->ps_inst[r->r_access_idx].pi_state,
		    (struct mgw_request *)r);
}

void
plugin_run_header_filter(struct request *r)
{
	struct plugin_set	*ps = wenv->we_plugins;
	size_t			 i;

	for (i = 0; i < ps->ps_n; i++)
		if (ps->ps_inst[i].pi_plugin->header_filter != NULL)
			(void)ps->ps_inst[i].pi_plugin->header_filter(
			    ps->ps_inst[i].pi_state, (struct mgw_request *)r);
}

void
plugin_run_log(struct request *r)
{
	struct plugin_set	*ps = wenv->we_plugins;
	size_t			 i;

	for (i = 0; i < ps->ps_n; i++)
		if (ps->ps_inst[i].pi_plugin->log != NULL)
			ps->ps_inst[i].pi_plugin->log(ps->ps_inst[i].pi_state,
			    (struct mgw_request *)r);
}

void
plugin_run_reopen(void)
{
	struct plugin_set	*ps = wenv->we_plugins;
	size_t			 i;

	for (i = 0; i < ps->ps_n; i++)
		if (ps->ps_inst[i].pi_plugin->reopen != NULL)
			ps->ps_inst[i].pi_plugin->reopen(
			    ps->ps_inst[i].pi_state);
}

/*
 * The worker is about to exit: let plugins flush.  Runs once; a second
 * call (a fast stop during a drain) does nothing.
 */
void
plugin_run_exit(void)
{
	static int		 done;
	struct plugin_set	*ps = wenv->we_plugins;
	size_t			 i;

	if (done)
		return;
	done = 1;
	for (i = 0; i < ps->ps_n; i++)
		if (ps->ps_inst[i].pi_plugin->exit_worker != NULL)
			ps->ps_inst[i].pi_plugin->exit_worker(
			    ps->ps_inst[i].pi_state);
}
