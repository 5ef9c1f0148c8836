/*
 * init-fail.c: a test plugin whose init_worker fails, so that no worker
 * of a generation that lists it can start (plugin.sh).
 */
#include <string.h>

#include <mgw/plugin.h>

static int
initfail_init_worker(void *state, char **cause)
{
	*cause = strdup("initfail: init_worker failed on purpose");
	return (MGW_ERROR);
}

const struct mgw_plugin mgw_plugin_entry = {
	.api = MGW_PLUGIN_API,
	.name = "initfail",
	.init_worker = initfail_init_worker
};
