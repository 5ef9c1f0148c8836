/*
 * builtin.c: the table of built-in plugins, in the order their hooks run
 * for each request (tmux's cmd_table).  A new policy is one line here and
 * one file beside this one; the proxy core does not change.
 */
#include "config.h"

#include <stddef.h>

#include <mgw/plugin.h>
#include "builtin.h"

/*
 * Order matters: the request id exists before a 429 needs it,
 * authentication names the consumer the throttle counts, and the usage
 * event is taken after the access log line.
 */
const struct mgw_plugin *const plugin_builtin[] = {
	&plugin_requestid,
	&plugin_authn,
	&plugin_throttle,
	&plugin_accesslog,
	&plugin_analytics,
	NULL
};
