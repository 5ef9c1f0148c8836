/*
 * mgw/plugin.h: the public plugin API, and the only mgw header a plugin
 * includes.  Every policy (request id, authentication, throttling, access
 * log, analytics, and any external plugin) is a struct mgw_plugin: the
 * settings it owns and a table of hooks the core calls.  Built-ins are
 * listed in plugins/builtin.c; an external plugin is a shared object that
 * exports "mgw_plugin_entry", a struct mgw_plugin, and is loaded by the
 * master with dlopen() from the "plugins" list of mgw.conf.  mgw-plugin(3)
 * documents the phases, the accessors, ownership and the ABI rule.  This
 * header compiles alone.
 *
 * The ABI rule: MGW_PLUGIN_API changes whenever this file changes in a
 * way that a plugin compiled against the old one could notice (a struct
 * layout, a hook's signature, an accessor's meaning).  The master refuses
 * a plugin whose api differs.
 */
#ifndef MGW_PLUGIN_H
#define MGW_PLUGIN_H

#include <sys/types.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define MGW_PLUGIN_API	5	/* bump on any change to this file */

/* What a hook returns. */
enum mgw_status {
	MGW_ERROR = -1,		/* internal failure: 500, cause logged */
	MGW_OK = 0,		/* go on to the next plugin */
	MGW_DONE,		/* the plugin answered (mgw_respond_error) */
	MGW_AGAIN		/* suspended: call mgw_request_resume() later */
};

struct mgw_conf;		/* one generation's configuration, read-only */
struct mgw_api;			/* an API of that configuration */
struct mgw_resource;		/* a resource of an API */
struct mgw_consumer;		/* a consumer (application) */
struct mgw_buf;			/* a growing output buffer */
struct event_base;		/* libevent: the process's loop */
struct mgw_request;		/* opaque, lives for one request */
struct mgw_plugin;

/*
 * Settings.  A plugin owns its configuration: it declares its keys in
 * tables of struct mgw_conf_opt, in the style of the core's own option
 * table, and the loader parses and checks them in the same pass as the
 * core's keys, with the same types, ranges, defaults, MGW_* environment
 * overrides and file:line errors.  Each section says where its keys are
 * written in mgw.conf and how large the struct they fill is; the loader
 * allocates one zeroed struct per place (one for MGW_SCOPE_TOP and
 * MGW_SCOPE_ENTRY, one per API, resource or consumer for the others),
 * and the plugin reads it back with the mgw_*_settings() accessors.
 * What the loader fills belongs to the configuration: a plugin copies
 * what it needs past the generation's life and never frees it.
 */
enum mgw_conf_type {
	MGW_CONF_INT = 0,	/* int */
	MGW_CONF_UINT,		/* uint32_t */
	MGW_CONF_U64,		/* uint64_t, an integer */
	MGW_CONF_BOOL,		/* int, 0 or 1 */
	MGW_CONF_STRING,	/* char *, NUL-terminated */
	MGW_CONF_DURATION,	/* uint64_t, ms; written "30s", "250ms" */
	MGW_CONF_SIZE,		/* uint64_t, bytes; written "16k", "8m" */
	MGW_CONF_STRINGS,	/* char **, count (size_t) at o_off2 */
	MGW_CONF_GROUP,		/* o_sub at o_off (MGW_CONF_F_PTR: pointer) */
	MGW_CONF_LIST		/* o_sub items of o_size: array at o_off,
				   count (size_t) at o_off2 */
};
#define MGW_CONF_F_REQUIRED	0x1	/* error if absent */
#define MGW_CONF_F_NONEMPTY	0x2	/* list or strings: at least one */
#define MGW_CONF_F_PTR		0x4	/* group: allocated only if present */
#define MGW_CONF_F_ONE		0x8	/* strings: a lone string is a list */

/*
 * A plugin's check of one stored value (or of a whole group or list item,
 * obj pointing at it): 0, or -1 with *cause (malloc'd).  The loader puts
 * "file:line: key: " in front of the cause.  Master only, during load.
 * For a list item, field points at the list's first item (earlier items
 * are there to compare with).  Each line of the cause is one error; for a
 * group or item, a line "key: message" naming one of its keys is reported
 * at that key.  mgw_conf_loading() gives the plugin's top-level settings
 * stored so far (they are walked before apis and consumers).  A check
 * may rewrite the value (normalise it, free a string and store NULL).
 */
typedef int mgw_conf_check_fn(void *obj, void *field, char **cause);

struct mgw_conf_opt {
	const char		*o_name;	/* NULL ends a table */
	enum mgw_conf_type	 o_type;
	uint64_t		 o_min;		/* in the type's unit */
	uint64_t		 o_max;		/* 0: no maximum */
	const char		*o_default;	/* as written; NULL: zero */
	const char		*o_doc;		/* one line */
	size_t			 o_off;		/* in the enclosing struct */
	size_t			 o_off2;	/* count, for arrays */
	size_t			 o_size;	/* list item or F_PTR group */
	const struct mgw_conf_opt *o_sub;	/* GROUP and LIST */
	int			 o_flags;	/* MGW_CONF_F_* */
	mgw_conf_check_fn	*o_check;	/* NULL: none */
};

/* Where a section's keys are written. */
enum mgw_conf_scope {
	MGW_SCOPE_TOP = 0,	/* top-level keys ("security", "policies") */
	MGW_SCOPE_ENTRY,	/* keys of the plugin's own "plugins" entry */
	MGW_SCOPE_API,		/* keys added to every item of "apis" */
	MGW_SCOPE_RESOURCE,	/* keys added to every API's "resources" */
	MGW_SCOPE_CONSUMER	/* keys added to every item of "consumers" */
};

struct mgw_conf_section {
	enum mgw_conf_scope	 s_scope;	/* NULL s_opts ends a table */
	const struct mgw_conf_opt *s_opts;
	size_t			 s_size;	/* of the struct s_opts fill */
};

/*
 * A control verb a plugin adds to mgwctl (mgwctl VERB [ARG ...]).  The
 * master runs it, in its loop, with the words after the verb; it appends
 * the text for the user to out and returns 0, or returns -1 with *cause
 * (mgwctl then prints the cause and exits 1).  Never blocks.
 */
struct mgw_ctl_verb {
	const char		*v_name;	/* NULL ends a table */
	const char		*v_usage;	/* "revoke JTI|sha256:HASH [until]" */
	int	(*v_run)(void *state, int argc, char **argv,
		    struct mgw_buf *out, char **cause);
};

struct mgw_plugin {
	uint32_t	 api;		/* MGW_PLUGIN_API */
	const char	*name;		/* [a-z0-9_-]; unique */
	/* The settings this plugin owns; NULL: none. */
	const struct mgw_conf_section *settings;
	/*
	 * Master, at config load (and mgwd -n), once every setting is
	 * parsed.  Validate what the plugin needs (cross references, files)
	 * and build its state for this generation; on error set *cause
	 * (malloc'd, one line per problem, each "file:line: ..." where
	 * mgw_conf_where() knows it) and return MGW_ERROR, which refuses the
	 * config.  May add shm zones.
	 */
	int	(*conf)(const struct mgw_conf *conf, void **state, char **cause);
	/*
	 * Master, once the generation is accepted and before its workers
	 * fork, with the master's loop: background work of the master
	 * (fetching keys).  On reload it runs for the new generation; the old
	 * one's state is released with fini.  MGW_ERROR refuses the config.
	 */
	int	(*init_master)(void *state, struct event_base *base,
		    char **cause);
	/* Worker, once after fork, before accepting. */
	int	(*init_worker)(void *state, char **cause);
	/*
	 * Worker, as soon as a request head is parsed, before routing and
	 * before any error the gateway may answer (nginx POST_READ).
	 */
	int	(*post_read)(void *state, struct mgw_request *r);
	/*
	 * Worker, after routing and before the request goes upstream.  May
	 * answer (MGW_DONE), or suspend (MGW_AGAIN) and resume later.
	 * Never blocks.
	 */
	int	(*access)(void *state, struct mgw_request *r);
	/* Worker, before the response header is sent to the client. */
	int	(*header_filter)(void *state, struct mgw_request *r);
	/* Worker, when the request is finished (also for errors). */
	void	(*log)(void *state, struct mgw_request *r);
	/* Worker, on SIGUSR1: reopen files. */
	void	(*reopen)(void *state);
	/* Master or worker: release the state of a generation. */
	void	(*fini)(void *state);
	/*
	 * Worker, once, just before it exits: after draining (reload,
	 * graceful stop, lost master) and on a fast stop.  Flush what is
	 * buffered; the loop no longer runs.
	 */
	void	(*exit_worker)(void *state);
	/*
	 * Worker: the request this plugin suspended (access returned
	 * MGW_AGAIN) is going away before it was resumed: the client left
	 * or the worker stops.  Drop every reference to it and never call
	 * mgw_request_resume() for it.  May be NULL if access never
	 * suspends.
	 */
	void	(*cancel)(void *state, struct mgw_request *r);
	/*
	 * Any process (a worker for /metrics, the master for mgwctl stats):
	 * append this plugin's Prometheus families to out with
	 * mgw_metrics_family() and mgw_metrics_sample().  Reads shm only;
	 * never blocks, never takes a lock for long.  NULL: none.
	 */
	void	(*metrics)(void *state, struct mgw_buf *out);
	/*
	 * Any process: add this plugin's fields to the status report
	 * (/status, mgwctl stats) with mgw_status_add().  NULL: none.
	 */
	void	(*status)(void *state, struct mgw_buf *out);
	/* Control verbs run by the master; NULL: none. */
	const struct mgw_ctl_verb *ctl_verbs;
};

/* An external plugin's shared object exports this symbol. */
extern const struct mgw_plugin mgw_plugin_entry;

/*
 * The configuration, for the conf, init_master and (through the
 * generation the worker inherited) request hooks.  Any process; read-only.
 */
const char	*mgw_conf_file(const struct mgw_conf *);	/* as loaded */
/* The struct of p's MGW_SCOPE_TOP or MGW_SCOPE_ENTRY section; NULL none. */
const void	*mgw_conf_settings(const struct mgw_conf *,
		    const struct mgw_plugin *);
/*
 * "file:line: path" of the value stored at field (a pointer into a struct
 * the loader filled, or a group or list item itself), e.g. "mgw.conf:12:
 * apis[0].throttling", for a plugin's own error messages; NULL if
 * unknown (a default, the environment).  The string lives as long as the
 * configuration.  conf NULL: the one being loaded, from an o_check.
 */
const char	*mgw_conf_where(const struct mgw_conf *, const void *);
/*
 * Master, in an o_check during load: the access log and every other log
 * shows the value of the query parameter param as "REDACTED" (see
 * mgw_request_log_uri()).  Copied; one parameter, the last call wins.
 */
void		 mgw_conf_log_redact(const char *);
/*
 * Master, in an o_check during load: p's MGW_SCOPE_TOP or ENTRY struct
 * of the configuration being loaded, as filled so far; NULL otherwise.
 */
const void	*mgw_conf_loading(const struct mgw_plugin *);
/* The user and group workers run as (-1: unchanged), for files. */
int		 mgw_conf_worker_ids(const struct mgw_conf *, uid_t *,
		    gid_t *);
/* shm.size: bytes of the general zone, by which a plugin may size its own. */
uint64_t	 mgw_conf_shm_size(const struct mgw_conf *);
size_t		 mgw_conf_napis(const struct mgw_conf *);
const struct mgw_api *mgw_conf_api(const struct mgw_conf *, size_t);
const char	*mgw_api_name(const struct mgw_api *);
const char	*mgw_api_version(const struct mgw_api *);	/* NULL none */
const char	*mgw_api_base_path(const struct mgw_api *);
const void	*mgw_api_settings(const struct mgw_api *,
		    const struct mgw_plugin *);
size_t		 mgw_api_nresources(const struct mgw_api *);
const struct mgw_resource *mgw_api_resource(const struct mgw_api *, size_t);
const char	*mgw_resource_path(const struct mgw_resource *);
const void	*mgw_resource_settings(const struct mgw_resource *,
		    const struct mgw_plugin *);
size_t		 mgw_conf_nconsumers(const struct mgw_conf *);
const struct mgw_consumer *mgw_conf_consumer(const struct mgw_conf *,
		    size_t);
const char	*mgw_consumer_name(const struct mgw_consumer *);
const void	*mgw_consumer_settings(const struct mgw_consumer *,
		    const struct mgw_plugin *);
size_t		 mgw_conf_nlisteners(const struct mgw_conf *);
const char	*mgw_listener_name(const struct mgw_conf *, size_t);
/* Listener i serves /health and /status only (admin = true). */
int		 mgw_listener_admin(const struct mgw_conf *, size_t);
/*
 * The access log listener i writes: its own access_log (*own set to 1)
 * or the gateway's (0), "off" for none; *json set to 1 for JSON lines,
 * 0 for the combined format.
 */
const char	*mgw_listener_access_log(const struct mgw_conf *, size_t,
		    int *, int *);
/* gateway.user as written; NULL when unset (workers run as "nobody"). */
const char	*mgw_conf_user(const struct mgw_conf *);

/*
 * Output buffers (metrics, status, control verbs).  The core owns them;
 * appending copies.  0 or -1 (out of memory).
 */
int		 mgw_buf_add(struct mgw_buf *, const void *, size_t);
int		 mgw_buf_printf(struct mgw_buf *, const char *, ...)
		    __attribute__((__format__(__printf__, 2, 3)));
/*
 * Prometheus text: a family's "# HELP" and "# TYPE" lines (type "counter"
 * or "gauge"), then one sample per call; labels is the text between the
 * braces ("api=\"x\"", values escaped by the caller) or NULL.
 */
int		 mgw_metrics_family(struct mgw_buf *, const char *name,
		    const char *type, const char *help);
int		 mgw_metrics_sample(struct mgw_buf *, const char *name,
		    const char *labels, uint64_t);
/* A status field: key (a JSON name) and an unsigned value. */
int		 mgw_status_add(struct mgw_buf *, const char *, uint64_t);
/* A status field whose value is a ratio (0 to 1), shown with 4 decimals. */
int		 mgw_status_add_ratio(struct mgw_buf *, const char *, double);
/*
 * Non-zero when out is the text of mgwctl stats, which stays short: a
 * plugin leaves out the fields of a feature that is off there, while
 * /status always has every field.
 */
int		 mgw_status_terse(const struct mgw_buf *);

/*
 * Accessors the core exports to plugins.  Strings are not NUL-terminated
 * unless said; lengths travel with them.  Valid for the request's life.
 */
const char	*mgw_request_method(struct mgw_request *);
const char	*mgw_request_uri(struct mgw_request *, size_t *);  /* as sent */
const char	*mgw_request_path(struct mgw_request *, size_t *); /* normalised */
int		 mgw_request_http_minor(struct mgw_request *);
const char	*mgw_request_header(struct mgw_request *, const char *,
		    size_t *);
/*
 * Set (replace) a header sent upstream; value copied.  A NULL value
 * removes it: neither the client's field nor a plugin's goes upstream.
 * 0 or -1.
 */
int		 mgw_request_set_header(struct mgw_request *, const char *,
		    const char *, size_t);
/* Add a header to the response sent to the client; copied. 0 or -1. */
int		 mgw_response_add_header(struct mgw_request *, const char *,
		    const char *);
/*
 * Add complete header lines, each ending in CRLF, to the response: one
 * copy for many fields, for plugins that add several on every response.
 * 0 or -1.
 */
int		 mgw_response_add_lines(struct mgw_request *, const char *,
		    size_t);
const char	*mgw_request_client_addr(struct mgw_request *);	/* text */
const char	*mgw_request_id(struct mgw_request *);
int		 mgw_request_set_id(struct mgw_request *, const char *, size_t);
const char	*mgw_request_api(struct mgw_request *);	/* NULL if none */
/* Position of the matched API in the config, and of its resource; -1 none. */
int		 mgw_request_api_index(struct mgw_request *);
int		 mgw_request_resource_index(struct mgw_request *);
/*
 * The client's address for policies: the peer, or, when the peer is a
 * trusted proxy, the last address in X-Forwarded-For it did not add
 * itself.  NUL-terminated.
 */
const char	*mgw_request_client_ip(struct mgw_request *);
/* Who is calling: set by authentication, read by throttling.  NULL none. */
const char	*mgw_request_consumer(struct mgw_request *);
int		 mgw_request_set_consumer(struct mgw_request *, const char *);
/*
 * A per-request slot for the plugin whose state is key (one per plugin),
 * NULL-initialised, valid for the request's life.  NULL on OOM.
 */
void		**mgw_request_ctx(struct mgw_request *, const void *);
/* Non-zero when mgwd runs with MGW_DEBUG_HOOKS=1 (tests only). */
int		 mgw_debug_hooks(void);
int		 mgw_response_status(struct mgw_request *);
uint64_t	 mgw_request_bytes_in(struct mgw_request *);
uint64_t	 mgw_response_bytes_out(struct mgw_request *);
uint64_t	 mgw_request_start_ms(struct mgw_request *);	/* wall clock */
uint64_t	 mgw_request_duration_us(struct mgw_request *);
const char	*mgw_request_upstream(struct mgw_request *);	/* NULL if none */
void		*mgw_request_pool_alloc(struct mgw_request *, size_t);
/*
 * Answer the request with a gateway error: the JSON body
 * {"error":{"status":S,"code":C,"message":M,"request_id":...}}.
 * Then return MGW_DONE from the hook.
 */
int		 mgw_respond_error(struct mgw_request *, int, const char *,
		    const char *);
/*
 * The worker's event loop, for plugins that need timers (init_worker and
 * later).  NULL in the master.
 */
struct event_base *mgw_event_base(void);
/* The matched API's version and resource template; NULL if none. */
const char	*mgw_request_api_version(struct mgw_request *);
const char	*mgw_request_resource_path(struct mgw_request *);
/*
 * Index of the listener that accepted the request, as mgw_listener_name()
 * and the other listener accessors number them.
 */
int		 mgw_request_listener(struct mgw_request *);
const char	*mgw_request_user_agent(struct mgw_request *, size_t *);
/*
 * Time spent on the upstream, from the first connect attempt to the end
 * of its response, in microseconds; 0 when none was contacted.
 */
uint64_t	 mgw_request_upstream_us(struct mgw_request *);
/* The gateway error code the request was answered with, or NULL. */
const char	*mgw_request_error_code(struct mgw_request *);
/*
 * A short reason refining the error code, from a small fixed set (the
 * throttling level that refused, an authentication failure cause): it
 * becomes a metrics label, so never put request data in it.  The string
 * must outlive the request (a literal).  NULL if none.
 */
void		 mgw_request_set_reason(struct mgw_request *, const char *);
const char	*mgw_request_reason(struct mgw_request *);
/* The consumer's throttling tier, set by the throttle plugin; NULL none. */
void		 mgw_request_set_tier(struct mgw_request *, const char *);
const char	*mgw_request_tier(struct mgw_request *);
/* "PRODUCTION" (default) or "SANDBOX", set by authentication. */
void		 mgw_request_set_key_type(struct mgw_request *, const char *);
const char	*mgw_request_key_type(struct mgw_request *);
/*
 * The request target as sent, with the value of the query parameter a
 * plugin named with mgw_conf_log_redact() (authentication's
 * security.api_key_query) replaced by "REDACTED": what logs may show.
 * Never NULL.
 */
const char	*mgw_request_log_uri(struct mgw_request *, size_t *);
/* The query string as sent, without the '?'; NULL if there is none. */
const char	*mgw_request_query(struct mgw_request *, size_t *);
/*
 * Replace the query string sent upstream (copied, without '?'); NULL or
 * an empty one sends none.  0 or -1.
 */
int		 mgw_request_set_query(struct mgw_request *, const char *,
		    size_t);
/* Resume a request suspended by MGW_AGAIN, with that hook's verdict. */
void		 mgw_request_resume(struct mgw_request *, int);

#endif /* MGW_PLUGIN_H */
