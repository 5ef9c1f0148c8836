/*
 * master.h: the master process: configuration, listeners, workers, the
 * control socket and reload.
 */
#ifndef MGW_MASTER_H
#define MGW_MASTER_H

#include <sys/types.h>

#include <stdint.h>

#include "conf-t.h"
#include "builtin.h"
#include <mgw/plugin.h>

/* conf.c */
/*
 * Load and validate path into a new struct mgw_conf, applying MGW_*
 * environment overrides from envp (NULL: the process environment).  Every
 * error is collected with file:line; on failure *cause holds all of them,
 * one per line, and -1 is returned.  Master (and mgwd -n) only.
 */
int	conf_load(const char *, char **, struct mgw_conf **, char **);
void	conf_free(struct mgw_conf *);
/* The configuration conf_load() is filling now, or NULL. */
struct mgw_conf *conf_loading_conf(void);
int	conf_worker_ids(const struct mgw_conf *, uid_t *, gid_t *);

/* tls-keys.c */
/*
 * Session ticket keys shared by all workers.  tls_keys_init() declares
 * the zone in every declaration round (master, before fork) and makes
 * the first keys; tls_keys_rotate() makes a new current key, keeping the
 * old one for decryption (master timer).  Both return 0 or -1 (*cause).
 */
int	tls_keys_init(char **);
int	tls_keys_rotate(void);
struct ssl_st;
struct evp_cipher_ctx_st;
struct evp_mac_ctx_st;
/* OpenSSL's ticket key callback (SSL_CTX_set_tlsext_ticket_key_evp_cb). */
int	tls_keys_ticket_cb(struct ssl_st *, unsigned char *, unsigned char *,
	    struct evp_cipher_ctx_st *, struct evp_mac_ctx_st *, int);

/* tls-conf.c */
/*
 * Build the OpenSSL contexts of conf (listeners' certificates, https
 * endpoints).  Master only, at load; 0, or -1 with every failure in
 * *cause as "file:line: path: file: reason".
 */
int	tls_conf_build(struct mgw_conf *, char **);
void	tls_conf_free(struct mgw_conf *);
int	tls_conf_protocol(const char *);	/* TLS1_2_VERSION or -1 */

/* conf-table.c */
/*
 * The declarative option table conf_load() walks: one entry per key, with
 * its type, range, default (a string parsed like an environment value) and
 * a one-line doc.  Values land at t_off in the enclosing struct; arrays and
 * lists keep their count at t_off2.  t_check names a validation conf.c runs
 * once the value (or, for groups and list items, the whole item) is stored.
 */
enum conf_type {
	CONF_T_INT = 0,		/* int */
	CONF_T_UINT,		/* uint32_t */
	CONF_T_U64,		/* uint64_t, an integer */
	CONF_T_BOOL,		/* int, 0 or 1 */
	CONF_T_STRING,		/* char * */
	CONF_T_DURATION,	/* uint64_t, ms; "30s" */
	CONF_T_SIZE,		/* uint64_t, bytes; "16k" or a byte count */
	CONF_T_STRINGS,		/* char **, count (size_t) at t_off2 */
	CONF_T_URLS,		/* struct conf_url *, count at t_off2 */
	CONF_T_HEADERS,		/* struct conf_header *, count at off2 */
	CONF_T_METHODS,		/* uint32_t, 1 << enum conf_method */
	CONF_T_GROUP,		/* t_sub at t_off (CONF_F_PTR: pointer) */
	CONF_T_LIST		/* t_sub items of t_size: array at t_off */
};
enum conf_check {
	CONF_CHK_NONE = 0,
	CONF_CHK_WORKERS,	/* 0 becomes the number of CPUs */
	CONF_CHK_LNAME,		/* [A-Za-z0-9_-], 1..63 chars */
	CONF_CHK_ANAME,		/* [A-Za-z0-9_.-], 1..63 chars */
	CONF_CHK_LISTEN,	/* "host:port", resolved into l_ss */
	CONF_CHK_CIDRS,		/* trusted_proxies -> trusted */
	CONF_CHK_BASE_PATH,	/* {version}, normalised */
	CONF_CHK_RES_PATH,	/* path template */
	CONF_CHK_LISTENER,	/* item: unique name and address */
	CONF_CHK_API,		/* item: unique base path, index */
	CONF_CHK_RESOURCE,	/* item: methods, index */
	CONF_CHK_ENDPOINTS,	/* group: production xor mock */
	CONF_CHK_MOCK,		/* group: body length */
	CONF_CHK_HEADER_NAME,	/* an HTTP header name (RFC 9110 token) */
	CONF_CHK_CONSUMER,	/* item: unique name */
	CONF_CHK_LOG_FORMAT,	/* "combined" or "json" */
	CONF_CHK_TLS,		/* group: listener tls, where, client_ca */
	CONF_CHK_GATEWAY,	/* group: where, trusted certificate CA */
	CONF_CHK_UPSTREAM_TLS,	/* group: certificate and key together */
	CONF_CHK_PROTOCOLS,	/* TLSv1.2, TLSv1.3, ... */
	CONF_CHK_UNKNOWN_SNI,	/* default or refuse */
	CONF_CHK_VERIFY_CLIENT,	/* off, optional, required */
	CONF_CHK_MUTUAL_TLS,	/* mandatory or optional */
	CONF_CHK_CERT_FP,	/* "sha256:<64 hex>" each */
	CONF_CHK_PNAME		/* a plugin name: [a-z0-9_-], unique */
};
#define CONF_F_REQUIRED	0x1	/* error if absent */
#define CONF_F_NONEMPTY	0x2	/* list or array: at least one item */
#define CONF_F_PTR	0x4	/* group: allocated only when present */
#define CONF_F_ONE	0x8	/* strings: a lone string is a list of one */
struct conf_opt {
	const char		*t_name;	/* NULL ends a table */
	enum conf_type		 t_type;
	uint64_t		 t_min;		/* in the type's unit */
	uint64_t		 t_max;
	const char		*t_default;	/* NULL: zero */
	const char		*t_doc;
	size_t			 t_off;
	size_t			 t_off2;
	size_t			 t_size;	/* item or CONF_F_PTR group */
	const struct conf_opt	*t_sub;
	int			 t_flags;
	enum conf_check		 t_check;
	mgw_conf_check_fn	*t_fn;		/* a plugin's o_check */
	int			 t_plugin;	/* 0: core; else position + 1 */
	/* A list of apis, resources, consumers or plugins: its items' scope. */
	int			 t_scope;	/* enum mgw_conf_scope; 0: none */
	size_t			 t_soff;	/* the items' void ** settings */
};
extern const struct conf_opt conf_table[];

/* conf-env.c */
/*
 * Turn MGW_SECTION_KEY=value strings into overrides applied on top of the
 * parsed file.  List items are addressed by their name:
 * MGW_LISTENERS_HTTP_LISTEN=0.0.0.0:8080.  Components are matched against
 * the load's tables (conf_table with the plugins' keys); a variable
 * naming no setting gets o_npath 0 and conf_load() reports it.
 * MGW_DEBUG_HOOKS and MGW_TEST_* are not ours and are skipped.
 */
struct conf_override {
	char	*o_env;		/* "MGW_GATEWAY_WORKERS=4" as found */
	char	*o_name;	/* "MGW_GATEWAY_WORKERS" */
	char	*o_path[6];	/* lowercase components */
	size_t	 o_npath;
	char	*o_value;
	int	 o_used;
};
int	conf_env_collect(const struct conf_opt *, char **,
	    struct conf_override **, size_t *);
void	conf_env_free(struct conf_override *, size_t);

/* plugin-host.c */
struct plugin_set;
struct mgw_plugin;
/*
 * Load the external plugin name from the shared object path: its entry,
 * with *dl for plugin_host_close(), or NULL with *cause.
 */
const struct mgw_plugin *plugin_host_open(const char *, const char *,
	    void **, char **);
void	plugin_host_close(void *);
/*
 * Run every built-in plugin's conf hook on conf.  Returns the generation's
 * plugin set, or NULL with *cause (every failing plugin, one per line).
 */
struct plugin_set *plugin_conf_all(const struct mgw_conf *, char **);
void	plugin_set_free(struct plugin_set *);

/* listener.c */
/*
 * A bound listening socket, owned by the master and inherited by workers.
 * Kept across reloads while its address is unchanged.
 */
struct listener {
	int			 ls_fd;
	char			*ls_name;
	char			*ls_addr;	/* "host:port" as configured */
	int			 ls_admin;
	int			 ls_mark;	/* reconcile scratch */
};
struct listeners {
	struct listener		*ls;
	size_t			 n;
};
int	listener_reconcile(struct listeners *, const struct mgw_conf *,
	    char **);
int	listener_prepare(const struct listeners *, const struct mgw_conf *,
	    struct listeners *, char **);
void	listener_commit(struct listeners *, struct listeners *);
void	listener_abort(const struct listeners *, struct listeners *);
void	listener_closeall(struct listeners *);

/* A generation: one loaded configuration and what was built from it. */
struct generation {
	int			 g_num;
	struct mgw_conf		*g_conf;
	struct router		*g_router;
	struct plugin_set	*g_plugins;
};

/* plugin-verb.c */
struct event_base;
struct mgw_buf;
/*
 * Every plugin's init_master for a generation about to serve, before its
 * workers fork.  Master only.  0, or -1 with *cause (refuse the config).
 */
int	plugin_host_init_master(struct plugin_set *, struct event_base *,
	    char **);
/*
 * Run the plugin control verb argv[0] (argv[1..] its words) into out.
 * Master only.  0, or -1 with *cause (unknown verb, or its failure).
 */
int	plugin_host_verb(struct plugin_set *, int, char **, struct mgw_buf *,
	    char **);
/* "name<TAB>usage" lines of every plugin's verbs, for mgwctl. */
void	plugin_host_verbs(struct plugin_set *, struct mgw_buf *);

/* master.c */
/* The master's event loop (signals, control socket, timers). */
struct event_base;
extern struct event_base *master_base;
/*
 * Load, validate and prepare a configuration: conf_load(), endpoint
 * indices, the router and the plugins' conf hooks.  The same path serves
 * mgwd -n, startup and reload.  NULL with *cause on any error.
 */
struct generation *master_load(const char *, char **);
void	generation_free(struct generation *);
int	master_run(const char *, int, int);	/* file, debug, verbose */
/*
 * The one reload path: SIGHUP, mgwctl reload and init scripts end here.
 * Returns -1 with *cause if the new config was refused or a reload is in
 * flight; 0 when the new generation was started.  The verdict of a
 * control client is sent once the new workers report ready.
 */
int	master_reload(char **);
void	master_stop(int);			/* 1 graceful, 0 fast */
char	*master_status(void);			/* malloc'd "key: value\n" lines */
char	*master_stats(void);			/* malloc'd "key: value\n" lines */
/* The generation in force (not a reload in flight).  Master only. */
struct generation *master_generation(void);
void	master_set_verbose(int);		/* master and workers */
void	master_child_listeners(const struct listeners *);	/* after fork */

/* proc.c: worker processes, master side */
struct bufferevent;
struct worker {
	pid_t			 w_pid;
	int			 w_gen;
	int			 w_index;	/* 0..workers-1 in its generation */
	int			 w_slot;	/* stats slot */
	int			 w_fd;		/* channel, master end */
	struct bufferevent	*w_bev;
	int			 w_ready;
	int			 w_draining;
	uint64_t		 w_started;	/* ms, monotonic */
	uint32_t		 w_hook;	/* STATS_HOOK() it died in, 0 */
	struct worker		*w_next;
};
/*
 * Fork one worker of generation gen serving the given listeners.  Master
 * only.  Returns the worker (linked in proc_workers()) or NULL with
 * *cause.
 */
struct worker	*worker_spawn(struct generation *, int,
		    const struct listeners *, char **);
void		 worker_reap(void);	/* SIGCHLD: waitpid loop */
struct worker	*proc_workers(void);
void		 worker_signal_gen(int, int, int);	/* gen, op, sig */
void		 worker_send(struct worker *, uint32_t, const char *);
int		 proc_count(int, int);	/* workers of gen (-1 all), ready only? */

/* callbacks proc.c makes into master.c */
void	master_worker_ready(struct worker *);
void	master_worker_exited(struct worker *, int);	/* wait status */

/* control.c */
struct event_base;
/*
 * Listen on the control socket path: unlink a stale socket, bind under a
 * tight umask, then mode 0660 and group (NULL: keep root's).  Registers
 * its events on base.  Master only.  0, or -1 with *cause.
 */
int	control_init(struct event_base *, const char *, const char *,
	    char **);
void	control_fini(void);		/* close and unlink */
void	control_close_inherited(void);	/* in a worker after fork */
/*
 * The verdict of an accepted reload, once the new generation is ready
 * (ok = 1) or failed to start (ok = 0, cause says why).  Sent to the
 * control client that asked for it, if any.
 */
void	control_reload_done(int, const char *);

#endif /* MGW_MASTER_H */
