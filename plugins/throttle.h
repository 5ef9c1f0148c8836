/*
 * throttle.h: request throttling over a shared-memory table.
 *
 * A policy says "limit requests per period" and names an algorithm.  A
 * request is checked against one or more levels (a key such as
 * "api:petstore:app:mobile" plus a policy); throttle_hit() decides all of
 * them under one acquisition of the zone lock and consumes quota only if
 * every level admits.
 *
 * The table lives in a named zone that the master creates with
 * shm_zone_add(name, size, THROTTLE_LAYOUT, ...) and formats with
 * throttle_table_init().  Its layout (struct throttle_root, struct
 * throttle_entry) is below; everything in it is linked by offsets from the
 * zone header, never by pointers, so a zone kept across a reload stays
 * valid.
 *
 * Time.  The caller reads CLOCK_REALTIME (throttle_now_ms()) before it
 * calls in, so windows are aligned to the wall clock and gateways and
 * their Retry-After headers agree.  Each key keeps its own clock, the
 * latest now it has seen (te_hwm): a step of the wall clock backwards
 * freezes the key's clock instead of rewinding it, so it never admits a
 * request that it would not have admitted at that latest time; every
 * guarantee below holds on the key's clock.  A step forwards simply ages
 * the key (a window or bucket far in the past is empty).
 *
 * Guarantees, per key and policy, with N = limit and P = period:
 *   fixed_window    windows [kP, (k+1)P) of epoch milliseconds; exactly N
 *                   admitted in each window while demand lasts.
 *   sliding_log     at most N admitted in any interval [t, t + P); a ring
 *                   of N timestamps per key, so N <= THROTTLE_LOG_MAX.
 *   sliding_window  two aligned buckets cur and prev; with f the elapsed
 *                   fraction of the current window the estimate is
 *                   prev * (1 - f) + cur, and a request is admitted iff
 *                   cur < N and estimate < N.  So at most N per aligned
 *                   window, and after a full window the next opens
 *                   gradually: by fraction f at most ceil(N * f).  The
 *                   test is done exactly, in integers:
 *                   prev * (P - e) + cur * P < N * P, e = elapsed ms.
 *   token_bucket    GCRA with rate N per P and burst B (0 means N): in
 *                   any interval of length t at most B + N * t / P.  The
 *                   theoretical arrival time is kept in microseconds and
 *                   the emission interval is ceil(P * 1000 / N) us,
 *                   rounded up so the bound holds (the rate is at most one
 *                   request per microsecond).
 *
 * Every retry_after is exact and rounded up: with no other traffic on the
 * keys, a request at now + retry_after - 1 is still refused and one at
 * now + retry_after is admitted.
 *
 * Crashes.  A worker killed while holding the lock is handled by the
 * master breaking the lock (shm_lock_break_all()).  Counter updates are
 * single stores whose partial application errs on the strict side (at
 * most one request over-counted).  Structural updates (allocation,
 * linking, eviction) are bracketed by tr_dirty: an entry is written
 * completely before a single store publishes it in its hash chain, and
 * the next lock holder that finds tr_dirty set repairs the table: after
 * a torn link it rebuilds the LRU list from the hash chains and frees the
 * entry that was being inserted or evicted if the chains no longer reach
 * it; after a death inside the slab allocator, whose free list may be
 * torn, it reformats the table (counts restart; tr_reformats says so).
 *
 * Redis sync (not implemented here) layers on without touching the hot
 * path.  For the window algorithms an entry counts its own admissions in
 * te_cur and te_delta, and the counts of other gateways in te_gcur and
 * te_gprev, which the hot path adds in.  A sync thread takes the lock,
 * swaps te_delta to 0, unlocks and INCRBYs the window's Redis key by it;
 * with the reply (the global total G for window te_sync_win) it takes the
 * lock again and, if te_win still equals te_sync_win, stores
 * te_gcur = G - te_cur.  Without Redis the global fields stay 0 and local
 * counts are what decide.
 */
#ifndef MGW_THROTTLE_H
#define MGW_THROTTLE_H

#include <stddef.h>
#include <stdint.h>

#include <mgw/plugin.h>

struct shm_zone;

#define THROTTLE_LAYOUT		1	/* zone layout; bump on any change */
#define THROTTLE_MAGIC		0x74687274U	/* "thrt" */
#define THROTTLE_ENTRY_MAGIC	0x74656e74U	/* "tent" */
#define THROTTLE_KEY_MAX	128	/* bytes; callers truncate or hash */
#define THROTTLE_LOG_MAX	10000	/* sliding_log limit, timestamps */
#define THROTTLE_LIMIT_MAX	UINT32_MAX	/* requests per period */
#define THROTTLE_PERIOD_MAX	(100ULL * 366 * 86400 * 1000)	/* ms */
#define THROTTLE_LEVELS_MAX	8	/* levels in one throttle_hit() */
#define THROTTLE_NOW_MAX	(UINT64_C(1) << 53)	/* ms, so us fit */

enum throttle_algo {
	THROTTLE_FIXED_WINDOW = 0,
	THROTTLE_SLIDING_LOG,
	THROTTLE_SLIDING_WINDOW,
	THROTTLE_TOKEN_BUCKET,
	THROTTLE_NALGOS
};

enum throttle_verdict {
	THROTTLE_ERROR = -1,	/* bad arguments, no room: caller decides */
	THROTTLE_PASS = 0,
	THROTTLE_DENY
};

/* A policy, built by the config loader and read-only afterwards. */
struct throttle_policy {
	uint32_t		 tp_id;		/* identity of the policy */
	uint64_t		 tp_limit;	/* requests per period */
	uint64_t		 tp_period;	/* ms */
	uint64_t		 tp_burst;	/* token_bucket, 0 = limit */
	enum throttle_algo	 tp_algo;
	int			 tp_dry_run;	/* report, never refuse */
};

/* One level of a request's decision; the caller fills the first three. */
struct throttle_level {
	const char		*tl_key;	/* bytes, not NUL-terminated */
	size_t			 tl_keylen;	/* 1 .. THROTTLE_KEY_MAX */
	const struct throttle_policy *tl_policy;
	/* Filled by throttle_hit(): */
	uint64_t		 tl_limit;	/* the policy's limit */
	uint64_t		 tl_remaining;	/* admissible now, after this */
	uint64_t		 tl_reset;	/* ms until the quota resets */
	uint64_t		 tl_retry;	/* ms until admitted, or 0 */
	uint64_t		 tl_time;	/* ms: the key's clock it used */
	int			 tl_admitted;	/* this level's own verdict */
	int			 tl_dry_hit;	/* dry run that would refuse */
};

/* What throttle_table_walk() reports for one entry. */
struct throttle_info {
	char			 ti_key[THROTTLE_KEY_MAX];
	size_t			 ti_keylen;
	uint32_t		 ti_policy;	/* policy id */
	enum throttle_algo	 ti_algo;
	uint64_t		 ti_limit;
	uint64_t		 ti_period;	/* ms */
	uint64_t		 ti_burst;
	uint64_t		 ti_count;	/* requests counted now */
	uint64_t		 ti_remaining;	/* admissible now */
	uint64_t		 ti_reset;	/* ms until the quota resets */
	uint64_t		 ti_dry_hits;	/* dry-run refusals */
};

/* Table-wide counters, from throttle_table_stats(). */
struct throttle_stats {
	uint64_t		 ts_entries;
	uint64_t		 ts_nbuckets;
	uint64_t		 ts_evictions;	/* LRU entries dropped */
	uint64_t		 ts_nomem;	/* hits failed: no room */
	uint64_t		 ts_dry_hits;	/* dry-run refusals, all keys */
	uint64_t		 ts_recoveries;	/* torn links repaired */
	uint64_t		 ts_reformats;	/* table wiped after a crash */
	uint64_t		 ts_bytes_used;	/* zone bytes handed out */
};

/* Return non-zero to stop the walk. */
typedef int throttle_walk_fn(const struct throttle_info *, void *);

/*
 * The zone layout.  All offsets are from the zone header; 0 means none.
 * Fields are written only under the zone lock.
 */
enum throttle_dirty {
	THROTTLE_DIRTY_NONE = 0,
	THROTTLE_DIRTY_LINK,	/* hash chain or LRU links being changed */
	THROTTLE_DIRTY_SLAB	/* inside the slab allocator */
};

struct throttle_root {
	uint32_t		 tr_magic;	/* THROTTLE_MAGIC */
	uint32_t		 tr_layout;	/* THROTTLE_LAYOUT */
	uint32_t		 tr_nbuckets;	/* power of two */
	uint32_t		 tr_dirty;	/* enum throttle_dirty */
	uint64_t		 tr_dirty_off;	/* entry linked or evicted */
	uint64_t		 tr_buckets;	/* offset: uint64_t[nbuckets] */
	uint64_t		 tr_seed[2];	/* hash key, against flooding */
	uint64_t		 tr_lru_head;	/* most recently used */
	uint64_t		 tr_lru_tail;	/* evicted first */
	uint64_t		 tr_nentries;
	uint64_t		 tr_evictions;
	uint64_t		 tr_nomem;
	uint64_t		 tr_dry_hits;
	uint64_t		 tr_recoveries;
	uint64_t		 tr_reformats;
	uint64_t		 tr_reserved[6];	/* for the Redis sync */
};

struct throttle_entry {
	uint32_t		 te_magic;	/* THROTTLE_ENTRY_MAGIC */
	uint32_t		 te_keylen;
	uint64_t		 te_hnext;	/* next in the hash chain */
	uint64_t		 te_lprev;	/* LRU: towards the head */
	uint64_t		 te_lnext;	/* LRU: towards the tail */
	uint64_t		 te_hash;
	/* Snapshot of the policy the state was built for. */
	uint32_t		 te_policy;	/* policy id */
	uint32_t		 te_algo;	/* enum throttle_algo */
	uint64_t		 te_limit;	/* requests per period */
	uint64_t		 te_period;	/* ms */
	uint64_t		 te_burst;	/* token_bucket, 0 = limit */
	/* Algorithm state. */
	uint64_t		 te_hwm;	/* ms: the key's clock */
	uint64_t		 te_win;	/* ms: current window start */
	uint64_t		 te_cur;	/* local requests in te_win */
	uint64_t		 te_prev;	/* local, the window before */
	uint64_t		 te_tat;	/* us: theoretical arrival */
	uint64_t		 te_log;	/* offset: uint64_t[limit] */
	uint32_t		 te_log_head;	/* index of the oldest */
	uint32_t		 te_log_count;	/* timestamps held */
	uint64_t		 te_dry_hits;	/* dry-run refusals */
	/* Redis sync (see the top of this file); 0 without it. */
	uint64_t		 te_gcur;	/* other gateways, in te_win */
	uint64_t		 te_gprev;	/* others, the window before */
	uint64_t		 te_delta;	/* local, not yet pushed */
	uint64_t		 te_sync_win;	/* ms: window of te_gcur */
	uint64_t		 te_spare;	/* keeps the ring aligned */
	char			 te_key[THROTTLE_KEY_MAX];
};

/*
 * throttle-policy.c: the plugin's settings, declared to the loader
 * (throttle_settings), and the policies every configuration has.
 */
/* A throttling policy: N requests per period (policies = ( ... )). */
struct throttle_conf_policy {
	char			*p_name;
	uint64_t		 p_requests;	/* per p_per */
	uint64_t		 p_per;		/* ms */
	char			*p_algorithm;	/* as written; NULL: fixed_window */
	int			 p_algo;	/* enum throttle_algo */
	uint64_t		 p_burst;	/* token_bucket; 0: p_requests */
	int			 p_dry_run;
	int			 p_burst_set;	/* burst was written */
};

/* throttling: { ... } */
struct throttle_conf_throttling {
	int			 t_headers;	/* quota headers on accepted */
	char			*t_consumer_header;	/* until authentication */
	char			*t_unauthenticated_tier;	/* per client IP */
};

/* The plugin's top-level keys: policies and throttling. */
struct throttle_conf {
	struct throttle_conf_policy *tc_policies;
	size_t			 tc_npolicies;
	struct throttle_conf_throttling tc_throttling;
};

/* Keys of an API, a resource, a consumer. */
struct throttle_conf_api {
	char			*ta_throttling;	/* API policy, NULL none */
	char			*ta_subscription_tier;	/* NULL: Unlimited */
};
struct throttle_conf_resource {
	char			*tr_throttling;	/* resource policy, NULL none */
};
struct throttle_conf_consumer {
	char			*tk_tier;	/* application policy, NULL none */
	char			*tk_subscription_tier;	/* NULL: the API's */
};

extern const struct mgw_plugin plugin_throttle;
extern const struct mgw_conf_section throttle_settings[];
/*
 * The WSO2-compatible built-in policy called name (10kPerMin, Gold,
 * Unauthenticated, ...), or NULL if there is none.  "Unlimited" is a
 * policy with p_requests == 0: it never limits, and a caller must test
 * for that before handing the policy to the throttle.  Any process.
 */
const struct throttle_conf_policy *throttle_policy_builtin(const char *);
/*
 * The policy a reference such as an API's throttling names: the one in
 * tc's policies list (tc may be NULL), else the built-in one, else NULL.
 * A configured policy overrides a built-in of the same name.  Any
 * process; tc is only read.
 */
const struct throttle_conf_policy *throttle_policy_find(
		    const struct throttle_conf *, const char *);
/* The throttling settings of conf (never NULL once conf is loaded). */
struct mgw_conf;
const struct throttle_conf *throttle_conf(const struct mgw_conf *);

/* throttle-table.c */
/* Milliseconds of CLOCK_REALTIME since the epoch.  Any process. */
uint64_t	 throttle_now_ms(void);
/*
 * Format z's data area as a table of about nbuckets hash buckets (0
 * picks from the zone size), or, if z was kept across a reload, check the
 * table already there and keep it with its counts (it is reformatted only
 * if the check fails).  Master, before fork; takes the zone lock.  z must
 * have been declared with layout THROTTLE_LAYOUT.  0, or -1 with *cause.
 */
int		 throttle_table_init(struct shm_zone *, uint32_t, char **);
/*
 * Count one request at each of the n levels for the wall-clock time now
 * (ms, read before the call) and decide.  Workers; takes the zone lock
 * once and makes no system call under it.  If every level admits (dry-run
 * levels always do), each consumes one request and THROTTLE_PASS comes
 * back; if any refuses, nothing is consumed at any level and
 * THROTTLE_DENY comes back with *retry_after (ms, rounded up) the
 * earliest time at which all levels would admit.  Each level gets its
 * own verdict, remaining, reset and retry, and in tl_time the key's
 * clock it was decided at: later than now when a worker that read a
 * later clock took the lock first, so exact checks must use it.
 * *decider is the refusing level with the longest retry, or on a pass
 * the level with the fewest remaining (non-dry-run levels first).
 * THROTTLE_ERROR for bad arguments (n outside 1..THROTTLE_LEVELS_MAX,
 * a key empty or longer than THROTTLE_KEY_MAX, an invalid policy), an
 * unformatted zone, or no room for an entry even after eviction (counted
 * in ts_nomem), or now beyond THROTTLE_NOW_MAX; nothing is consumed then.
 * decider and retry_after may be NULL.
 */
enum throttle_verdict throttle_hit(struct shm_zone *, struct throttle_level *,
		    size_t, uint64_t, size_t *, uint64_t *);
/*
 * Call cb for every entry whose key starts with prefix (prefixlen bytes;
 * 0 matches all), computed for time now.  Any process.  The lock is held
 * only while a few entries are copied out, never while cb runs, so the
 * walk is not a snapshot of one instant.  0, or -1 if the zone is not
 * formatted.
 */
int		 throttle_table_walk(struct shm_zone *, const char *, size_t,
		    uint64_t, throttle_walk_fn *, void *);
/*
 * Clear the state of key under every policy, as if it had never been
 * seen.  Any process; takes the lock.  0 if the key was found, else -1.
 */
int		 throttle_table_reset(struct shm_zone *, const char *, size_t);
/* Table-wide counters.  Any process; takes the lock briefly.  0 or -1. */
int		 throttle_table_stats(struct shm_zone *,
		    struct throttle_stats *);
/*
 * Walk every link of the table and check it: offsets inside the zone,
 * chains and LRU list agree, counts, policy snapshots.  Any process; takes
 * the lock (repairing a torn update first, as any lock holder does).  0,
 * or -1 with *cause.  Used by tests and after a reload.
 */
int		 throttle_table_check(struct shm_zone *, char **);
/*
 * Tests only: take the zone lock and, depending on how, leave a
 * structural update half done, as a worker killed at that point would.
 * Never releases the lock; the caller is expected to die.
 */
enum throttle_tear {
	THROTTLE_TEAR_HOLD = 0,	/* just hold the lock */
	THROTTLE_TEAR_INSERT,	/* an entry in its chain but not the LRU */
	THROTTLE_TEAR_EVICT,	/* the LRU tail out of its chain, not freed */
	THROTTLE_TEAR_SLAB	/* inside the slab allocator */
};
void		 throttle_test_tear(struct shm_zone *, enum throttle_tear);

/* throttle-algo.c: per-entry arithmetic; callers hold the zone lock. */
/* Undo record of one throttle_algo_take(). */
struct throttle_undo {
	uint64_t		 tu_cur;
	uint64_t		 tu_delta;
	uint64_t		 tu_tat;
	uint64_t		 tu_slot_val;
	uint32_t		 tu_slot;	/* ring slot overwritten */
	uint32_t		 tu_head;
	uint32_t		 tu_count;
	int			 tu_wrote;	/* tu_slot holds a value */
};

/* What throttle_algo_state() reports, in the key's clock. */
struct throttle_state {
	uint64_t		 st_count;	/* requests counted now */
	uint64_t		 st_remaining;	/* admissible now */
	uint64_t		 st_reset;	/* ms until the quota resets */
};

const char	*throttle_algo_name(enum throttle_algo);
/* "fixed_window" etc. into *algo.  0 or -1. */
int		 throttle_algo_parse(const char *, enum throttle_algo *);
/*
 * Check a policy as the config loader must before using it: limit,
 * period, burst and algorithm in range.  0, or -1 with *cause (which may
 * be NULL).  Any process.
 */
int		 throttle_policy_check(const struct throttle_policy *, char **);
/* How many bytes a key's sliding_log ring takes; 0 for other algos. */
size_t		 throttle_algo_ringsize(const struct throttle_policy *);
/* Forget all state, keeping the policy snapshot. */
void		 throttle_algo_clear(struct throttle_entry *);
/*
 * Advance the key's clock to max(now, te_hwm), roll windows and expire
 * log timestamps.  Never counts a request.  Returns the key's clock (ms).
 */
uint64_t	 throttle_algo_roll(struct throttle_entry *, const uint64_t *,
		    uint64_t);
/*
 * Would one more request be admitted at key time t (after a roll)?  1
 * yes; 0 no, with *retry the ms from t until it would be.
 */
int		 throttle_algo_check(const struct throttle_entry *,
		    const uint64_t *, uint64_t, uint64_t *);
/* Count one request at key time t, recording how to undo it. */
void		 throttle_algo_take(struct throttle_entry *, uint64_t *,
		    uint64_t, struct throttle_undo *);
void		 throttle_algo_undo(struct throttle_entry *, uint64_t *,
		    const struct throttle_undo *);
/* Count, remaining and reset at key time t (after a roll). */
void		 throttle_algo_state(const struct throttle_entry *,
		    const uint64_t *, uint64_t, struct throttle_state *);

#endif /* MGW_THROTTLE_H */
