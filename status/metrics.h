/*
 * metrics.h: per-API and per-endpoint counters in the "metrics" zone, for
 * Prometheus (/metrics), the status page (/status, /status.html) and
 * mgwctl stats.
 *
 * Memory is fixed when the configuration loads: metrics.max_apis API
 * series and metrics.max_endpoints endpoint series, each repeated in
 * METRICS_SLOTS per-worker slots so a worker bumps its own cache lines.
 * Labels come only from the configuration (API name and version, method,
 * status class, endpoint URL, a fixed set of reasons), never from a
 * request, so no traffic can grow the memory.
 *
 * Series are allocated by name ("name/version", endpoint URL) in a table
 * inside the zone, by the master at load time, so an API keeps its
 * counters across reloads as long as the zone is kept (same max_apis and
 * max_endpoints).  Series 0 of each kind is "other": what does not fit.
 */
#ifndef MGW_METRICS_H
#define MGW_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "shm-t.h"

struct mgw_conf;

#define METRICS_ZONE		"metrics"
#define METRICS_LAYOUT		1	/* bump when a struct below changes */
#define METRICS_SLOTS		8	/* worker slot i uses i % METRICS_SLOTS */
#define METRICS_KEYSIZE		192	/* series name, NUL included */

/*
 * Latency histogram bounds, in microseconds: Prometheus' le labels are
 * these in seconds, plus +Inf.
 */
#define METRICS_NBUCKETS	15	/* 14 bounds + +Inf */
extern const uint64_t metrics_bucket_us[METRICS_NBUCKETS - 1];

/* Methods as enum conf_method, and one more for the others. */
#define METRICS_NMETHODS	8

/* Why the throttle refused: the plugin's level names. */
enum metrics_throttle {
	METRICS_TH_API = 0,
	METRICS_TH_RESOURCE,
	METRICS_TH_APPLICATION,
	METRICS_TH_SUBSCRIPTION,
	METRICS_TH_IP,
	METRICS_TH_OTHER,
	METRICS_NTHROTTLE
};

/* Authentication failures by error code (401/403 codes of the gateway). */
enum metrics_auth {
	METRICS_AU_MISSING = 0,		/* missing_credentials */
	METRICS_AU_INVALID,		/* invalid_credentials */
	METRICS_AU_EXPIRED,		/* expired */
	METRICS_AU_REVOKED,		/* revoked */
	METRICS_AU_SCOPE,		/* insufficient_scope */
	METRICS_AU_SUBSCRIBED,		/* not_subscribed */
	METRICS_AU_UNAVAILABLE,		/* auth_unavailable */
	METRICS_AU_CLIENT_CERT,		/* client_certificate_required */
	METRICS_NAUTH
};

/* Upstream failures by kind. */
enum metrics_uperr {
	METRICS_UE_CONNECT = 0,		/* refused, unreachable */
	METRICS_UE_TIMEOUT,		/* connect, send or read timeout */
	METRICS_UE_RESET,		/* closed or reset mid-response */
	METRICS_UE_INVALID,		/* unparsable response */
	METRICS_UE_TLS,			/* handshake or verification */
	METRICS_NUPERR
};

struct metrics_hist {
	_Atomic uint64_t	 h_bucket[METRICS_NBUCKETS];	/* not cumulative */
	_Atomic uint64_t	 h_sum_us;
};

/* One API series in one slot. */
struct metrics_api {
	_Atomic uint64_t	 ma_requests[METRICS_NMETHODS][STATS_NSTATUS];
	struct metrics_hist	 ma_latency;	/* whole request at the gateway */
	struct metrics_hist	 ma_upstream;	/* requests that went upstream */
	_Atomic uint64_t	 ma_throttled[METRICS_NTHROTTLE];
	_Atomic uint64_t	 ma_auth_failed[METRICS_NAUTH];
	_Atomic uint64_t	 ma_bytes_in;
	_Atomic uint64_t	 ma_bytes_out;
};

/* One endpoint series in one slot. */
struct metrics_endpoint {
	_Atomic uint64_t	 me_requests;	/* responses received */
	_Atomic uint64_t	 me_errors[METRICS_NUPERR];
};

/* Process-wide counters in one slot (workers) or the root (master). */
struct metrics_global {
	_Atomic uint64_t	 mg_analytics_events;	/* written to files */
	_Atomic uint64_t	 mg_analytics_dropped;	/* lost: disk full */
	_Atomic uint64_t	 mg_analytics_errors;	/* failed writes */
	_Atomic uint64_t	 mg_no_route;	/* requests matching no API */
};

/* A series name in the zone's table; m_used set last (release). */
struct metrics_key {
	_Atomic uint32_t	 mk_used;
	char			 mk_name[METRICS_KEYSIZE];
};

/*
 * The zone's root.  The arrays follow at the offsets given, so one zone
 * layout fits any max_apis/max_endpoints (which are part of its size).
 */
struct metrics_root {
	uint32_t		 mr_max_apis;
	uint32_t		 mr_max_endpoints;
	_Atomic uint64_t	 mr_reloads;	/* master: successful reloads */
	_Atomic uint64_t	 mr_restarts;	/* master: workers respawned */
	uint64_t		 mr_api_keys;	/* offset of max_apis keys */
	uint64_t		 mr_ep_keys;	/* offset of max_endpoints keys */
	uint64_t		 mr_slots;	/* offset of the slot array */
	uint64_t		 mr_slotsize;	/* bytes per slot */
	uint64_t		 mr_status;	/* offset of the status ring */
};

/*
 * One slot: struct metrics_global, then max_apis struct metrics_api, then
 * max_endpoints struct metrics_endpoint, each cache-line aligned.
 */

/* Sums over all slots of one API series, for exporters. */
struct metrics_api_sum {
	uint64_t		 requests[METRICS_NMETHODS][STATS_NSTATUS];
	uint64_t		 latency[METRICS_NBUCKETS];
	uint64_t		 latency_sum_us;
	uint64_t		 upstream[METRICS_NBUCKETS];
	uint64_t		 upstream_sum_us;
	uint64_t		 throttled[METRICS_NTHROTTLE];
	uint64_t		 auth_failed[METRICS_NAUTH];
	uint64_t		 bytes_in;
	uint64_t		 bytes_out;
};

struct metrics_endpoint_sum {
	uint64_t		 requests;
	uint64_t		 errors[METRICS_NUPERR];
};

struct metrics_global_sum {
	uint64_t		 analytics_events;
	uint64_t		 analytics_dropped;
	uint64_t		 analytics_errors;
	uint64_t		 no_route;
	uint64_t		 reloads;
	uint64_t		 restarts;
};

/* metrics.c */
/*
 * Declare the metrics zone for conf and give every API and endpoint URL
 * of conf its series (a_metrics, u_metrics).  Master, in each zone
 * declaration round, before fork.  A kept zone keeps its series and
 * counts.  0, or -1 with *cause.
 */
int		 metrics_conf(struct mgw_conf *, char **);
/* Worker, after fork: the slot this worker writes (stats slot index). */
void		 metrics_worker_init(int);
/*
 * A finished request as the worker's metering sees it (worker/metering.c
 * fills it from the request), in plain values so that counting needs
 * nothing of the worker.
 */
struct metrics_req {
	int		 mq_routed;	/* matched an API */
	uint32_t	 mq_api;	/* its series (a_metrics) */
	int		 mq_method;	/* enum conf_method, -1 other */
	int		 mq_status;	/* HTTP status sent */
	uint64_t	 mq_us;		/* whole request at the gateway */
	int		 mq_upstream;	/* went upstream */
	uint64_t	 mq_up_us;	/* time upstream, if it did */
	uint64_t	 mq_bytes_in;
	uint64_t	 mq_bytes_out;
	const char	*mq_err_code;	/* gateway error code, or NULL */
	const char	*mq_reason;	/* mgw_request_set_reason(), or NULL */
	uint32_t	 mq_endpoint;	/* series of the endpoint that answered
					   (u_metrics), UINT32_MAX: none */
};
/* Worker: count a finished request (called by the core at request end). */
void		 metrics_count(const struct metrics_req *);
/* Worker: an upstream failure of kind on the endpoint series. */
void		 metrics_upstream_error(uint32_t, enum metrics_uperr);
/* Worker: the analytics plugin's counters. */
void		 metrics_analytics(uint64_t, uint64_t, uint64_t);
/* Master: a reload took effect / a worker was respawned. */
void		 metrics_reload_done(void);
void		 metrics_restart_done(void);
/* Any process, no lock: sums over the slots; zero without the zone. */
void		 metrics_api_sum(uint32_t, struct metrics_api_sum *);
void		 metrics_endpoint_sum(uint32_t, struct metrics_endpoint_sum *);
void		 metrics_global_sum(struct metrics_global_sum *);
/*
 * The Prometheus text exposition (format 0.0.4) of everything, for the
 * APIs and endpoints of conf: a malloc'd string and its length in *len,
 * or NULL on OOM.  Any process.
 */
char		*metrics_render(const struct mgw_conf *, size_t *);
/* The reason string a plugin set, as an enum; *_OTHER if unknown. */
enum metrics_throttle metrics_throttle_parse(const char *);
int		 metrics_auth_parse(const char *);	/* -1: not auth */

/* metrics-status.c: the status page's rolling window */
#define STATUS_RING		11	/* one-second samples: a 10 s window */
/* One API's cumulative counts at one sample time (index max_apis: all). */
struct status_sample {
	uint64_t		 ss_requests;
	uint64_t		 ss_errors;	/* 5xx answers */
	uint64_t		 ss_throttled;
	uint64_t		 ss_latency[METRICS_NBUCKETS];
};
/*
 * Bytes the ring needs for max_apis series; metrics_conf() reserves them
 * at mr_status and zeroes them when it creates the zone.
 */
size_t		 metrics_status_size(uint32_t);
/*
 * Master, once a second (timer): sample every API series into the ring
 * in the zone, so /status, /status.html and mgwctl stats show the same
 * rates and percentiles over the last 10 seconds.
 */
void		 metrics_status_sample(const struct mgw_conf *);
/*
 * The status document: totals and a per-API table (requests, requests
 * per second, error rate, p50/p99 latency in ms, throttled), as JSON
 * (/status, with the serving worker's generation) or as aligned text
 * (mgwctl stats).  The JSON keeps the totals /status always had:
 * version, generation, requests, bytes_in, bytes_out, responses{1xx..5xx},
 * connections{accepted,active}, upstream_errors.  malloc'd, NULL on OOM.
 * Any process.
 */
char		*metrics_status_json(const struct mgw_conf *, int, size_t *);
char		*metrics_status_text(const struct mgw_conf *);
/*
 * metrics-status.c, internal to status/: the ring, its windows and the
 * document writers, external only so that tests/unit/test-status.c can
 * drive them on rings and documents it builds itself.  Nothing outside
 * status/ and that test uses these.
 */
#define STATUS_NOIDX	UINT32_MAX	/* no series: nothing to read */
#define STATUS_NCOLS	8		/* columns of the text table */

/* The ring's header at mr_status; the entries follow it. */
struct status_ring {
	_Atomic uint64_t	 sr_seq;	/* odd while being written */
	_Atomic uint32_t	 sr_head;	/* newest entry */
	_Atomic uint32_t	 sr_count;	/* entries, <= STATUS_RING */
	_Atomic uint64_t	 sr_time[STATUS_RING];	/* ms, monotonic */
};

/* What one series did over the window. */
struct status_window {
	int			 sw_valid;	/* two samples: rates known */
	double			 sw_seconds;	/* window length */
	double			 sw_rps;	/* requests per second */
	double			 sw_error_rate;	/* 5xx / requests, 0..1 */
	int			 sw_has_latency;	/* p50/p99 known */
	double			 sw_p50;	/* ms */
	double			 sw_p99;	/* ms */
};

/* Everything a status document shows, gathered once. */
struct status_doc {
	struct stats_totals	 sd_stats;
	struct metrics_global_sum sd_global;
	struct status_sample	 sd_total;	/* live, over the APIs */
	struct status_window	 sd_total_win;
	size_t			 sd_napis;
	struct status_sample	*sd_live;	/* per conf API, live */
	struct status_window	*sd_win;	/* per conf API */
};

/*
 * Master (the single writer): append one entry to ring r of nseries
 * series, the n samples s for the series in idx, every other series
 * unset.  Readers in other processes see it whole or not at all.
 */
void		 status_ring_write(struct status_ring *, uint32_t,
		    const uint32_t *, const struct status_sample *, size_t,
		    uint64_t);
/*
 * Any process: the window w[k] of each of the n series idx[k]
 * (STATUS_NOIDX: none), read under the ring's seqlock without blocking
 * the writer.  0, or -1 on OOM; a window that could not be read
 * consistently is left invalid.
 */
int		 status_ring_read(struct status_ring *, uint32_t,
		    const uint32_t *, size_t, struct status_window *);
/* Rates and percentiles between two samples dt ms apart.  Pure. */
void		 status_window_compute(const struct status_sample *,
		    const struct status_sample *, uint64_t,
		    struct status_window *);
/*
 * The q-quantile, in ms, of the per-bucket (not cumulative) counts b, as
 * Prometheus' histogram_quantile() computes it, into *ms.  0, or -1 when
 * there is no observation.  Pure.
 */
int		 status_quantile(double, const uint64_t *, double *);
/* Free what a status_doc holds (not the struct itself).  Any process. */
void		 status_doc_free(struct status_doc *);
/*
 * The JSON (/status, generation gen) and text (mgwctl stats) documents
 * of a gathered status_doc; see metrics_status_json() and
 * metrics_status_text().  malloc'd, NULL on OOM.  Any process.
 */
char		*status_json_doc(const struct mgw_conf *, int,
		    const struct status_doc *, size_t *);
char		*status_text_doc(const struct mgw_conf *,
		    const struct status_doc *);

/* status-page.c: the self-contained page (/status.html), static bytes. */
extern const char	 metrics_status_html[];
extern const size_t	 metrics_status_html_len;

#endif /* MGW_METRICS_H */
