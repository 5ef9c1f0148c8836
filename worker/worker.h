/*
 * worker.h: a worker process: its event loop, connections, HTTP parsing,
 * routing and the upstream side.
 */
#ifndef MGW_WORKER_H
#define MGW_WORKER_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "conf-t.h"

/* path.c */
/*
 * Normalise the path part of a request target for routing: decode
 * percent-escapes, collapse "//", resolve "." and "..".  Returns the
 * length written to out (at most inlen + 1 bytes, always starting with
 * '/'), or -1 if the path is invalid: a bad escape, an encoded NUL or '/',
 * a control byte, or ".." above the root.
 */
ssize_t	path_normalize(const char *, size_t, char *);
/*
 * Re-encode a normalised path for the upstream request line: bytes
 * outside RFC 3986 pchar and '/' become %XX.  Returns the length written
 * to out (needs 3 * inlen bytes).
 */
size_t	path_encode(const char *, size_t, char *);

/* route.c */
enum route_result {
	ROUTE_OK = 0,
	ROUTE_NOT_FOUND,	/* 404 */
	ROUTE_BAD_METHOD	/* 405, allowed methods set */
};
struct route_match {
	const struct conf_api		*rm_api;
	const struct conf_resource	*rm_resource;	/* NULL: API has none */
	size_t				 rm_rest;	/* offset of the path after base_path */
	uint32_t			 rm_allowed;	/* for 405: method bits */
};
struct router;
/*
 * Build the routing trie for conf: APIs by base path (longest wins, at a
 * segment boundary), then resources by path template ("/pet/{id}", a
 * final "*" segment) and method.  Literal segments beat "{param}", which
 * beats "*".  NULL with *cause on a conflict (two APIs with one base path).
 */
struct router	*route_build(const struct mgw_conf *, char **);
void		 route_free(struct router *);
/* path: normalised; method: enum conf_method or -1 for an unknown one */
enum route_result route_match(const struct router *, const char *, size_t,
		    int, struct route_match *);

/*
 * The worker's private objects.  Everything below lives in one worker
 * process and is touched only from its event loop.
 */
#include <sys/queue.h>
#include <sys/socket.h>

#include <event2/event.h>
#include <event2/bufferevent.h>
#include <event2/buffer.h>

#include <llhttp.h>

#include "head-check.h"

#define HTTP_MAX_HEADERS	128	/* per request or response */
#define HTTP_BUF_HIGH		(64 * 1024)	/* back-pressure watermark */
#define HTTP_LINGER_MS		2000	/* lingering close */
#define REQUEST_ID_MAX		128

struct mgw_plugin;
struct stats_slot;
struct conn;
struct request;
struct upstream_conn;

/* A header as received: offsets into the owner's header arena. */
struct http_header {
	char			*name;
	size_t			 namelen;
	char			*value;
	size_t			 valuelen;
};

/* Growing storage for one message head, bounded by max (head.c). */
struct http_head {
	struct pool		*pool;
	char			*buf;		/* pool memory, may move */
	size_t			 len;
	size_t			 cap;
	size_t			 max;		/* bytes */
	struct http_header	*hdr;		/* pool memory */
	int			 nhdr;
	int			 hdrcap;
	int			 in_value;	/* last callback was a value */
	int			 overflow;	/* too big or too many */
	size_t			 url_off;	/* request target in buf */
	size_t			 url_len;
};

/* A plugin instance of the running generation. */
struct plugin_inst {
	const struct mgw_plugin	*pi_plugin;
	void			*pi_state;
};

struct plugin_set {
	struct plugin_inst	*ps_inst;
	size_t			 ps_n;
};

/* The worker process: one per slot, one event loop. */
struct worker_env {
	struct event_base		*we_base;
	const struct mgw_conf		*we_conf;
	const struct router		*we_router;
	struct plugin_set		*we_plugins;
	struct stats_slot		*we_stats;
	int				 we_gen;	/* generation */
	int				 we_slot;
	int				 we_channel;	/* to the master */
	struct bufferevent		*we_chan_bev;
	struct evconnlistener		**we_listeners;
	int				*we_listener_admin;
	size_t				 we_nlisteners;
	int				 we_draining;
	int				 we_debug_hooks;
	uint32_t			 we_nconns;
	TAILQ_HEAD(, conn)		 we_conns;
	struct upstream_pool		*we_pools;	/* per endpoint */
	size_t				 we_npools;
	uint64_t			 we_rid_seed[2];
	struct shm_zone			*we_zone;	/* "general" */
};

extern struct worker_env *wenv;

/*
 * Where a request is in its life (phase.c).  From REQ_POST_READ to
 * REQ_CONTENT the phase loop advances it, one phase after the other;
 * REQ_BODY waits on I/O; only request_finalize() sets REQ_DONE.
 */
enum request_state {
	REQ_HEADER = 0,		/* reading the request head */
	REQ_POST_READ,		/* plugins: the head as it came */
	REQ_CHECK,		/* core: is the head one we serve */
	REQ_ROUTE,		/* core: /health, admin, or an API */
	REQ_ACCESS,		/* plugins: may answer or suspend */
	REQ_CONTENT,		/* core: proxy, mock, admin, health */
	REQ_BODY,		/* content under way, body streaming */
	REQ_DONE,		/* finalized: counted and logged */
	REQ_SUSPENDED		/* an access hook said MGW_AGAIN */
};

/* How far the response to the client got. */
enum response_state {
	RESP_NONE = 0,		/* nothing queued: an error may answer */
	RESP_HEAD,		/* head queued (header filter has run) */
	RESP_DONE		/* the whole response is queued */
};

/* What the content phase serves, as the route phase found. */
enum request_content {
	CONTENT_NONE = 0,
	CONTENT_HEALTH,		/* GET /health */
	CONTENT_ADMIN,		/* a request on an admin listener */
	CONTENT_API		/* r_endpoints: proxy or mock */
};

struct request {
	struct conn		*r_conn;
	struct pool		*r_pool;
	enum request_state	 r_state;
	struct http_head	 r_head;
	char			*r_url;		/* raw target, pool */
	size_t			 r_urllen;
	char			*r_path;	/* normalised, NUL-terminated */
	size_t			 r_pathlen;
	const char		*r_query;	/* after '?' in r_url, or NULL */
	size_t			 r_querylen;
	int			 r_method;	/* enum conf_method, -1 other */
	const char		*r_method_name;
	int			 r_minor;	/* HTTP/1.r_minor */
	int			 r_keepalive;	/* client wants keep-alive */
	int			 r_chunked;	/* request body is chunked */
	int			 r_has_body;
	uint64_t		 r_content_length;
	int			 r_expect_continue;
	int			 r_body_done;	/* whole request body parsed */
	uint64_t		 r_body_bytes;	/* body bytes received */
	uint64_t		 r_bytes_in;	/* head + body bytes */
	uint64_t		 r_bytes_out;	/* bytes queued to the client */
	char			 r_id[REQUEST_ID_MAX + 1];
	struct route_match	 r_route;
	const struct conf_endpoints *r_endpoints;
	int			 r_status;	/* sent to the client, 0 none */
	/*
	 * The error a plugin answered a suspended request with: sent when
	 * it resumes the request, so that the request outlives the call.
	 */
	int			 r_pend_status;	/* 0: none */
	char			*r_pend_code;	/* pool */
	char			*r_pend_msg;	/* pool */
	enum response_state	 r_resp;
	enum request_content	 r_content;
	int			 r_resp_chunked;	/* we chunk toward the client */
	int			 r_resp_close;	/* close after the response */
	int			 r_access_idx;	/* next plugin in access */
	struct http_header	*r_set;		/* headers set by plugins */
	int			 r_nset;
	struct http_header	*r_add;		/* response headers added */
	int			 r_nadd;
	char			*r_lines;	/* header lines added, CRLF each */
	size_t			 r_lineslen;
	struct upstream_conn	*r_up;
	struct evbuffer		*r_upbuf;	/* body staged until connected */
	int			 r_up_queued;	/* whole request queued upstream */
	int			 r_up_moved;	/* body bytes went to a socket */
	size_t			 r_up_idx;	/* production endpoint in use */
	char			*r_upstream_name;
	int			 r_tries;
	uint64_t		 r_start_us;	/* monotonic */
	uint64_t		 r_start_wall_ms;
	uint64_t		 r_end_us;
	const char		*r_err_code;	/* gateway error code */
	const char		*r_reason;	/* refines r_err_code, literal */
	const char		*r_tier;	/* consumer's tier, NULL none */
	const char		*r_key_type;	/* NULL: PRODUCTION */
	uint64_t		 r_up_start_us;	/* monotonic, first connect */
	uint64_t		 r_up_end_us;	/* monotonic, response done */
	const char		*r_consumer;	/* pool copy, NULL none */
	const struct conn_cert	*r_cert;	/* client certificate, NULL none */
	char			*r_client_ip;	/* pool, made on demand */
	void			**r_ctx;	/* per plugin, pool */
	struct event		*r_timer;	/* body or upstream timeouts */
};

enum conn_state {
	CONN_IDLE = 0,		/* waiting for a request (keep-alive) */
	CONN_ACTIVE,		/* a request is in progress */
	CONN_LINGER		/* response sent, draining input to close */
};

struct conn {
	TAILQ_ENTRY(conn)	 c_entry;
	struct io	*c_io;
	int			 c_fd;
	enum conn_state		 c_state;
	llhttp_t		 c_parser;
	struct request		*c_req;
	struct pool		*c_pool;	/* reset per request */
	struct sockaddr_storage	 c_peer;
	socklen_t		 c_peerlen;
	char			 c_peer_text[64];
	char			 c_local_port[8];
	int			 c_admin;	/* accepted on an admin listener */
	int			 c_lidx;	/* index in conf->c_listeners */
	int			 c_close;	/* close after this response */
	int			 c_paused;	/* parser paused by us */
	int			 c_reading;	/* EV_READ enabled */
	uint64_t		 c_head_bytes;	/* bytes of the current head */
	int			 c_head_timed;	/* header_timeout runs for it */
	struct head_check	 c_hc;		/* strict scan of the head */
	uint32_t		 c_nrequests;
	struct event		*c_timer;	/* header/keepalive/linger */
	struct event		*c_resume;	/* deferred http_read() */
	const struct conf_listener *c_listener;
	struct conn_cert	*c_cert;	/* verified TLS peer, lazily */
	int			 c_cert_done;	/* c_cert looked at */
	struct conn_cert	*c_hdr_cert;	/* trusted proxy's, this request */
};

/* io.c: buffered sockets that write before the loop sleeps */
struct io;
typedef void io_data_cb(struct io *, void *);
typedef void io_event_cb(struct io *, short, void *);
struct io	*io_new(struct event_base *, int);
void		 io_free(struct io *);
struct evbuffer	*io_get_input(struct io *);
struct evbuffer	*io_get_output(struct io *);
int		 io_getfd(struct io *);
void		 io_setcb(struct io *, io_data_cb *, io_data_cb *,
		    io_event_cb *, void *);
void		 io_setwatermark(struct io *, short, size_t, size_t);
void		 io_set_timeouts(struct io *, const struct timeval *,
		    const struct timeval *);
void		 io_enable(struct io *, short);
void		 io_disable(struct io *, short);
short		 io_get_enabled(struct io *);
int		 io_socket_connect(struct io *, const struct sockaddr *,
		    socklen_t);
/* Event flags beside libevent's BEV_EVENT_* (which stop at 0x80). */
#define IO_EVENT_TLS		0x100	/* with ERROR: TLS failed */
#define IO_EVENT_HANDSHAKE	0x200	/* server handshake complete */
#define IO_EVENT_NOT_TLS	0x400	/* with ERROR: plain bytes on TLS */
struct ssl_ctx_st;
struct ssl_st;
void		 io_tls_accept(struct io *, struct ssl_ctx_st *);
int		 io_tls_connect(struct io *, struct ssl_ctx_st *,
		    const char *);
struct ssl_st	*io_tls(struct io *);
const char	*io_tls_error(struct io *);
void		 io_shutdown(struct io *);

/* tls-peer.c: client certificates, in the forms requests use */
struct x509_st;
struct conn_cert *tls_peer_cert(struct x509_st *);
struct x509_store_st;
struct conn_cert *tls_peer_from_header(const char *, size_t,
	    struct x509_store_st *, int, const char **);
struct x509_store_st *tls_peer_store(const struct mgw_conf *,
	    const struct conf_listener *, int *);
void	tls_peer_free(struct conn_cert *);
size_t	tls_peer_urlencode(const char *, size_t, char *);

/* hbuf.c: a message head built in request memory, queued at once */
struct hbuf {
	char		*buf;
	size_t		 len;
	size_t		 cap;
	int		 oom;
};
int	hbuf_init(struct hbuf *, struct pool *, size_t);
void	hbuf_add(struct hbuf *, const char *, size_t);
void	hbuf_str(struct hbuf *, const char *);
void	hbuf_u64(struct hbuf *, uint64_t);
void	hbuf_header(struct hbuf *, const char *, size_t, const char *,
	    size_t);
int	hbuf_flush(struct hbuf *, struct evbuffer *);

/* head.c */
int	http_head_init(struct http_head *, struct pool *, size_t);
int	http_head_url(struct http_head *, const char *, size_t);
int	http_head_field(struct http_head *, const char *, size_t);
int	http_head_value(struct http_head *, const char *, size_t);

/* worker.c */
void	worker_main(const struct mgw_conf *, const struct router *,
	    struct plugin_set *, const int *, const int *, size_t, int, int,
	    int);
void	worker_conn_closed(void);

/* conn.c */
void	conn_accept(int, struct sockaddr *, int, int);	/* listener index */
/*
 * The client certificate the request may rely on: the one the TLS peer
 * presented and we verified or, from a trusted proxy, the one in
 * trusted_client_certificate_header.  NULL if none.  The connection
 * keeps the derived forms (fingerprint, subject, encoded PEM).
 */
struct conn_cert {
	char		*cc_fp;		/* "sha256:<64 lowercase hex>" */
	char		*cc_subject;	/* RFC 2253 */
	char		*cc_pem_enc;	/* URL-encoded PEM */
};
const struct conn_cert *conn_client_cert(struct conn *);
void	conn_close(struct conn *);
void	conn_linger(struct conn *);
void	conn_keepalive(struct conn *);
void	conn_read_enable(struct conn *, int);
void	conn_drain_idle(void);
void	conn_timer_set(struct conn *, uint64_t);

/* admin.c */
void	admin_serve(struct request *);

/* http.c */
/* The request parser's callbacks, shared by every connection. */
extern const llhttp_settings_t http_settings;
void	http_read(struct conn *);
uint64_t http_now_us(void);
void	http_request_continue(struct request *);
int	http_client_writable(struct request *);
const char *http_header_find(const struct http_head *, const char *,
	    size_t *);
/* The core phases (see phase.c): return an enum phase_rc. */
int	http_check(struct request *);
int	http_route(struct request *);
void	http_dispatch(struct request *);

/* response.c */
/*
 * Queue a gateway error: status, a stable code and a message in the JSON
 * body.  Marks the connection for closing when the request body was not
 * read whole.  Never fails: on OOM the connection is closed.
 */
void	response_error(struct request *, int, const char *, const char *);
void	response_simple(struct request *, int, const char *, const char *,
	    size_t);
void	response_mock(struct request *, const struct conf_endpoints *);
/*
 * What a response head carries between its status line and the headers
 * every response has: the upstream's fields, or a gateway response's
 * Content-Type and length.
 */
typedef void response_fields_fn(struct request *, struct hbuf *, void *);
int	response_head(struct request *, int, size_t, response_fields_fn *,
	    void *);
const char *response_reason(int);
void	response_count(struct request *);

/* upstream.c */
int	upstream_init(void);
void	upstream_start(struct request *);
void	upstream_body(struct request *, const char *, size_t);
void	upstream_body_done(struct request *);
void	upstream_abort(struct request *);
void	upstream_client_drained(struct request *);
void	upstream_drain_idle(void);
size_t	upstream_pending(struct request *);

/* phase.c: the phase engine, the only caller of the plugins' hooks */
/* What a phase handler tells the loop. */
enum phase_rc {
	PHASE_NEXT = 0,		/* go on with the next phase */
	PHASE_AGAIN,		/* suspended: mgw_request_resume() goes on */
	PHASE_DONE		/* answered or handed to I/O: r may be gone */
};
void	phase_run(struct request *);
void	phase_error(struct request *, int, const char *, const char *);
void	phase_refuse(struct request *, int, const char *, const char *);
void	phase_header_filter(struct request *);
void	request_finalize(struct request *, int);
void	phase_reopen(void);
void	phase_exit(void);
/*
 * The host side a worker runs (phase.c): the init_worker hooks after
 * fork, 0 or -1 with *cause; and naming the generation whose metrics
 * and status hooks the documents call (also used by the master before
 * it renders mgwctl stats).
 */
int	plugin_init_worker(struct plugin_set *, char **);
void	plugin_set_status(const struct plugin_set *);

/* metering.c */
/* Count a finished request in the metrics zone; called at request end. */
void	metrics_request(struct request *);

#endif /* MGW_WORKER_H */
