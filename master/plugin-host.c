/*
 * plugin-host.c: the host side of the plugin API in the master: loading
 * external plugins with dlopen(), running every plugin's conf hook to
 * build a generation's plugin set, and releasing it.  init_worker runs in
 * each worker right after fork, on the set the worker inherited.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib.h"
#include "master.h"
#include "worker.h"
#include <mgw/plugin.h>

/*
 * Master: load the plugin called name from the shared object at path (an
 * absolute path) and return its entry, with *dl set to the handle that
 * plugin_host_close() takes.
 * The object must export "mgw_plugin_entry" built against this ABI
 * (MGW_PLUGIN_API), and the entry's name must be name: the config names a
 * plugin, and a file that turns out to be another plugin is an error, not
 * a rename.  NULL with *cause (malloc'd, one line, without file:line: the
 * caller knows where the entry was written) on failure.
 *
 * RTLD_NOW makes a plugin calling an accessor this mgwd lacks fail here,
 * at config load, rather than in a worker on the first request;
 * RTLD_LOCAL keeps one plugin's symbols (each has its own
 * mgw_plugin_entry) from resolving another's.
 */
const struct mgw_plugin *
plugin_host_open(const char *path, const char *name, void **dl, char **cause)
{
	const struct mgw_plugin	*p;
	struct stat		 sb;
	const char		*err;
	void			*h;

	*dl = NULL;
	/*
	 * A daemonized mgwd runs in /, so a relative path would name one file
	 * for mgwd -n and the first load and another on reload; dlopen()
	 * would even search the library path for a name without a slash.
	 */
	if (path[0] != '/') {
		xasprintf(cause, "plugin %s: %s: not an absolute path", name,
		    path);
		return (NULL);
	}
	/* dlopen()'s own message for a missing file is vague; stat first. */
	if (stat(path, &sb) == -1) {
		xasprintf(cause, "plugin %s: %s: %s", name, path,
		    strerror(errno));
		return (NULL);
	}
	if (!S_ISREG(sb.st_mode)) {
		xasprintf(cause, "plugin %s: %s: not a regular file", name,
		    path);
		return (NULL);
	}
	if ((h = dlopen(path, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		err = dlerror();
		xasprintf(cause, "plugin %s: not a loadable shared object: %s",
		    name, err != NULL ? err : path);
		return (NULL);
	}
	(void)dlerror();
	p = dlsym(h, "mgw_plugin_entry");
	if (p == NULL) {
		xasprintf(cause, "plugin %s: %s exports no mgw_plugin_entry",
		    name, path);
		dlclose(h);
		return (NULL);
	}
	/* api is the first field in every ABI: read it before anything else. */
	if (p->api != MGW_PLUGIN_API) {
		xasprintf(cause, "plugin %s: %s: ABI %u, expected %u (rebuild "
		    "it against this mgw's <mgw/plugin.h>)", name, path,
		    (unsigned)p->api, (unsigned)MGW_PLUGIN_API);
		dlclose(h);
		return (NULL);
	}
	if (p->name == NULL || strcmp(p->name, name) != 0) {
		xasprintf(cause, "plugin %s: %s is plugin \"%s\", not \"%s\"",
		    name, path, p->name != NULL ? p->name : "", name);
		dlclose(h);
		return (NULL);
	}
	*dl = h;
	return (p);
}

/*
 * Master: unload what plugin_host_open() loaded; NULL does nothing.  Only
 * once the plugin's fini ran for every generation that used it: its code
 * and the strings of its tables go away with it.
 */
void
plugin_host_close(void *dl)
{
	if (dl != NULL)
		dlclose(dl);
}

/*
 * Master: build the generation's plugin set from conf's plugins (the
 * built-ins, then the loaded ones in the order listed), running every
 * conf hook.  All failures are reported together, one per line; a
 * loaded plugin's are prefixed with its entry's place and name, since
 * the plugin may not know where it was configured.
 */
struct plugin_set *
plugin_conf_all(const struct mgw_conf *conf, char **cause)
{
	const struct conf_plugin *cp;
	struct plugin_set	*ps;
	char			*why, *line, *all = NULL;
	size_t			 i;

	ps = xcalloc(1, sizeof(*ps));
	ps->ps_inst = xcalloc(conf->c_nplugins + 1, sizeof(*ps->ps_inst));
	ps->ps_n = conf->c_nplugins;
	for (i = 0; i < conf->c_nplugins; i++) {
		cp = &conf->c_plugins[i];
		ps->ps_inst[i].pi_plugin = cp->cp_plugin;
		if (cp->cp_plugin->api != MGW_PLUGIN_API)
			fatalx("plugin %s: ABI %u, expected %u",
			    cp->cp_plugin->name, cp->cp_plugin->api,
			    MGW_PLUGIN_API);
		if (cp->cp_plugin->conf == NULL)
			continue;
		why = NULL;
		if (cp->cp_plugin->conf(conf, &ps->ps_inst[i].pi_state,
		    &why) == MGW_OK)
			continue;
		if (cp->cp_dl != NULL)
			xasprintf(&line, "%s: plugin %s: %s", cp->cp_where,
			    cp->cp_plugin->name, why != NULL ? why :
			    "configuration refused");
		else
			line = xstrdup(why != NULL ? why : cp->cp_plugin->name);
		free(why);
		xlines_append(&all, line);
	}
	if (all != NULL) {
		plugin_set_free(ps);
		*cause = all;
		return (NULL);
	}
	return (ps);
}

/*
 * Master: run every plugin's fini on its state and free the set; NULL
 * does nothing.
 */
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
