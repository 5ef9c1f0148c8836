/*
 * status-plugins.c: the plugins' part of the status documents.  The
 * renderers know no plugin: at the place where a document has room for
 * them they ask every plugin of the generation, in order, for its metric
 * families or its status fields through the metrics and status hooks.
 *
 * Which plugins those are is process state rather than an argument: the
 * documents are rendered for "the generation this process serves" (a
 * worker's own, the master's current), and the built-in table, whose
 * hooks need no state, stands in until a process says.
 */
#include "config.h"

#include <sys/types.h>

#include <stdint.h>
#include <stdlib.h>

#include "lib.h"
#include <mgw/plugin.h>
#include "status.h"

static struct status_plugin	*status_plugins;
static size_t			 status_nplugins;
static int			 status_plugins_named;

static int	status_plugin_at(size_t, const struct mgw_plugin **,
		    void **);

/*
 * Name the generation's plugins, copied.  A worker once after fork, the
 * master before it renders; either may die on OOM here (startup, master).
 */
void
status_plugins_set(const struct status_plugin *sp, size_t n)
{
	size_t	 i;

	free(status_plugins);
	status_plugins = NULL;
	if (n > 0) {
		status_plugins = xreallocarray(NULL, n,
		    sizeof(*status_plugins));
		for (i = 0; i < n; i++)
			status_plugins[i] = sp[i];
	}
	status_nplugins = n;
	status_plugins_named = 1;
}

/* The i-th plugin and its state; 0 past the last one. */
static int
status_plugin_at(size_t i, const struct mgw_plugin **p, void **state)
{
	if (!status_plugins_named) {
		if ((*p = plugin_builtin[i]) == NULL)
			return (0);
		*state = NULL;
		return (1);
	}
	if (i >= status_nplugins)
		return (0);
	*p = status_plugins[i].sp_plugin;
	*state = status_plugins[i].sp_state;
	return (1);
}

/* Every plugin's metric families, in order.  Any process.  0 or -1. */
int
status_plugins_metrics(struct mgw_buf *out)
{
	const struct mgw_plugin	*p;
	void			*state;
	size_t			 i;

	for (i = 0; status_plugin_at(i, &p, &state); i++)
		if (p->metrics != NULL)
			p->metrics(state, out);
	return (out->b_failed ? -1 : 0);
}

/* Every plugin's status fields, in order, in out's form.  0 or -1. */
int
status_plugins_status(struct mgw_buf *out)
{
	const struct mgw_plugin	*p;
	void			*state;
	size_t			 i;

	for (i = 0; status_plugin_at(i, &p, &state); i++)
		if (p->status != NULL)
			p->status(state, out);
	return (out->b_failed ? -1 : 0);
}
