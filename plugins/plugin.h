/*
 * plugin.h: the plugin ABI.  Every policy (access log, request id, and
 * later authentication, throttling, metering) is a plugin: a table of
 * phase hooks that the proxy core calls in order for each request.
 * Built-ins are listed in builtin.c; external .so plugins will export
 * "mgw_plugin_entry" with the same structure.  This header compiles alone.
 */
#ifndef MGW_PLUGIN_H
#define MGW_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#define MGW_PLUGIN_API	4	/* bump on any change to this file */

/* What a hook returns. */
enum mgw_status {
	MGW_ERROR = -1,		/* internal failure: 500, cause logged */
	MGW_OK = 0,		/* go on to the next plugin */
	MGW_DONE,		/* the plugin answered (mgw_respond_error) */
	MGW_AGAIN		/* suspended: call mgw_request_resume() later */
};

struct mgw_conf;		/* master/conf-t.h, read-only to plugins */
struct event_base;		/* libevent: the worker's loop */
struct mgw_request;		/* opaque, lives for one request */

struct mgw_plugin {
	uint32_t	 api;		/* MGW_PLUGIN_API */
	const char	*name;
	/*
	 * Master, at config load (and mgwd -n).  Validate what the plugin
	 * needs from conf and build its state for this generation; on error
	 * set *cause (malloc'd) and return MGW_ERROR, which refuses the config.
	 */
	int	(*conf)(const struct mgw_conf *conf, void **state, char **cause);
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
};

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
/* Index of the listener that accepted the request in conf->c_listeners. */
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
 * The request target as sent, with the value of every API key query
 * parameter (security.api_key_query) replaced by "REDACTED": what logs
 * may show.  Never NULL.
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
