/*
 * bad-abi.c: a test plugin built for another ABI; the master must refuse
 * it with "ABI 6, expected 5" (plugin.sh).
 */
#include <mgw/plugin.h>

const struct mgw_plugin mgw_plugin_entry = {
	.api = MGW_PLUGIN_API + 1,
	.name = "badabi"
};
