/*
 * no-entry.c: a test plugin that is a shared object but exports no
 * mgw_plugin_entry (plugin.sh).
 */
#include <mgw/plugin.h>

int	noentry_version(void);

int
noentry_version(void)
{
	return (MGW_PLUGIN_API);
}
