/*
 * builtin.h: the plugins compiled into mgwd (builtin.c), for the core
 * that hosts them.  Each is an ordinary user of <mgw/plugin.h>: moved to
 * a shared object, it would export the same struct as mgw_plugin_entry.
 */
#ifndef MGW_BUILTIN_H
#define MGW_BUILTIN_H

struct mgw_plugin;

extern const struct mgw_plugin plugin_requestid;
extern const struct mgw_plugin plugin_authn;
extern const struct mgw_plugin plugin_throttle;
extern const struct mgw_plugin plugin_accesslog;
extern const struct mgw_plugin plugin_analytics;

/* The built-in plugins, in hook order, NULL-terminated. */
extern const struct mgw_plugin *const plugin_builtin[];

#endif /* MGW_BUILTIN_H */
