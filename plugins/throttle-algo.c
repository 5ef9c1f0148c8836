/*
 * throttle-algo.c: the arithmetic of the four throttling algorithms on
 * one table entry.  The table (throttle-table.c) finds the entry and holds
 * the zone lock; nothing here makes a system call or allocates.
 *
 * Every function works in the key's clock t = max(now, te_hwm), which
 * throttle_algo_roll() establishes, so the state never sees time go
 * backwards.  Products of a count and a period can exceed 64 bits (a
 * limit of 2^32 per 100 years), so the sliding window compares them in
 * unsigned __int128, which gcc and clang provide on 64-bit targets.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lib.h"
#include "throttle.h"

static uint64_t	 algo_burst(const struct throttle_entry *);
static uint64_t	 algo_interval(const struct throttle_entry *);
static uint64_t	 algo_div_up(uint64_t, uint64_t);
static uint64_t	 algo_div_up128(unsigned __int128, unsigned __int128);
static uint64_t	 algo_sw_prev(const struct throttle_entry *);
static uint64_t	 algo_sw_cur(const struct throttle_entry *);
static uint64_t	 algo_elapsed(const struct throttle_entry *, uint64_t);

static const char *algo_names[THROTTLE_NALGOS] = {
	"fixed_window",
	"sliding_log",
	"sliding_window",
	"token_bucket"
};

static uint64_t
algo_div_up(uint64_t a, uint64_t b)
{
	return (a / b + (a % b != 0));
}

static uint64_t
algo_div_up128(unsigned __int128 a, unsigned __int128 b)
{
	return ((uint64_t)(a / b + (a % b != 0)));
}

static uint64_t
algo_burst(const struct throttle_entry *e)
{
	return (e->te_burst != 0 ? e->te_burst : e->te_limit);
}

/* Microseconds per token, rounded up so the rate is never exceeded. */
static uint64_t
algo_interval(const struct throttle_entry *e)
{
	return (algo_div_up(e->te_period * 1000, e->te_limit));
}

/* Window counts include other gateways' share (0 without Redis). */
static uint64_t
algo_sw_prev(const struct throttle_entry *e)
{
	return (e->te_prev + e->te_gprev);
}

static uint64_t
algo_sw_cur(const struct throttle_entry *e)
{
	return (e->te_cur + e->te_gcur);
}

/*
 * Milliseconds into the current window.  After a roll t lies in
 * [te_win, te_win + period); the clamps only guard a torn state.
 */
static uint64_t
algo_elapsed(const struct throttle_entry *e, uint64_t t)
{
	uint64_t	 el;

	el = t > e->te_win ? t - e->te_win : 0;
	if (el >= e->te_period)
		el = e->te_period - 1;
	return (el);
}

/* The configuration name of an algorithm.  Any process. */
const char *
throttle_algo_name(enum throttle_algo algo)
{
	if ((unsigned int)algo >= THROTTLE_NALGOS)
		return ("unknown");
	return (algo_names[algo]);
}

/* Parse an algorithm's configuration name.  Any process.  0 or -1. */
int
throttle_algo_parse(const char *s, enum throttle_algo *algop)
{
	unsigned int	 i;

	for (i = 0; i < THROTTLE_NALGOS; i++) {
		if (strcmp(s, algo_names[i]) == 0) {
			*algop = (enum throttle_algo)i;
			return (0);
		}
	}
	return (-1);
}

/*
 * Check a policy before use.  Any process (the config loader in the
 * master; throttle_hit() calls it with cause NULL).  The bounds keep every
 * product in throttle-algo.c inside its type.  0, or -1 with *cause.
 */
int
throttle_policy_check(const struct throttle_policy *p, char **cause)
{
	const char	*why = NULL;
	uint64_t	 burst, interval, total;

	if ((unsigned int)p->tp_algo >= THROTTLE_NALGOS)
		why = "unknown algorithm";
	else if (p->tp_limit == 0 || p->tp_limit > THROTTLE_LIMIT_MAX)
		why = "requests must be between 1 and 4294967295";
	else if (p->tp_period == 0 || p->tp_period > THROTTLE_PERIOD_MAX)
		why = "period must be between 1ms and 100 years";
	else if (p->tp_algo == THROTTLE_SLIDING_LOG &&
	    p->tp_limit > THROTTLE_LOG_MAX)
		why = "sliding_log allows at most 10000 requests per period";
	else if (p->tp_algo == THROTTLE_TOKEN_BUCKET) {
		burst = p->tp_burst != 0 ? p->tp_burst : p->tp_limit;
		interval = algo_div_up(p->tp_period * 1000, p->tp_limit);
		if (burst > THROTTLE_LIMIT_MAX ||
		    __builtin_mul_overflow(burst, interval, &total) ||
		    total > (UINT64_C(1) << 62))
			why = "burst too large for the period";
	}
	if (why == NULL)
		return (0);
	if (cause != NULL)
		xasprintf(cause, "policy %u: %s", p->tp_id, why);
	return (-1);
}

/* Bytes of a sliding_log ring for policy p, 0 for other algorithms. */
size_t
throttle_algo_ringsize(const struct throttle_policy *p)
{
	if (p->tp_algo != THROTTLE_SLIDING_LOG)
		return (0);
	return ((size_t)p->tp_limit * sizeof(uint64_t));
}

/* Forget everything counted; the policy snapshot and ring stay. */
void
throttle_algo_clear(struct throttle_entry *e)
{
	e->te_hwm = 0;
	e->te_win = 0;
	e->te_cur = 0;
	e->te_prev = 0;
	e->te_tat = 0;
	e->te_log_head = 0;
	e->te_log_count = 0;
	e->te_gcur = 0;
	e->te_gprev = 0;
	e->te_delta = 0;
	e->te_sync_win = 0;
}

/*
 * Bring the entry to the key's clock.  The window roll stores the new
 * window start last: a worker killed in between leaves the old start
 * with cleared counts, and the next roll then only forgets prev, which
 * the sliding window's per-window bound does not depend on.  The log is
 * pruned the same way, head before count; a torn prune keeps one stale
 * slot counted, which only refuses more.
 */
uint64_t
throttle_algo_roll(struct throttle_entry *e, const uint64_t *ring,
    uint64_t now)
{
	uint64_t	 t, win;
	uint32_t	 head, count;

	t = now > e->te_hwm ? now : e->te_hwm;
	e->te_hwm = t;

	switch (e->te_algo) {
	case THROTTLE_FIXED_WINDOW:
	case THROTTLE_SLIDING_WINDOW:
		win = t - t % e->te_period;
		if (win == e->te_win)
			break;
		if (win - e->te_win == e->te_period) {
			e->te_prev = e->te_cur;
			e->te_gprev = e->te_gcur;
		} else {
			e->te_prev = 0;
			e->te_gprev = 0;
		}
		e->te_cur = 0;
		e->te_gcur = 0;
		e->te_delta = 0;
		e->te_win = win;
		break;
	case THROTTLE_SLIDING_LOG:
		head = e->te_log_head;
		count = e->te_log_count;
		while (count > 0 && ring[head] + e->te_period <= t) {
			if (++head == e->te_limit)
				head = 0;
			count--;
		}
		e->te_log_head = head;
		e->te_log_count = count;
		break;
	default:
		break;
	}
	return (t);
}

/*
 * Would the next request be admitted at t?  On no, *retry is the least
 * number of ms after t at which it would be, assuming no other request
 * in between; every case below derives that bound from the admission
 * test itself, so it is exact, not estimated.
 */
int
throttle_algo_check(const struct throttle_entry *e, const uint64_t *ring,
    uint64_t t, uint64_t *retry)
{
	uint64_t	 n = e->te_limit, per = e->te_period;
	uint64_t	 c, p, el, need, tu, tat, slack, wait;
	unsigned __int128	 lhs, cap;

	*retry = 0;
	switch (e->te_algo) {
	case THROTTLE_FIXED_WINDOW:
		if (algo_sw_cur(e) < n)
			return (1);
		/* The next window starts empty and n >= 1. */
		*retry = e->te_win + per - t;
		return (0);
	case THROTTLE_SLIDING_WINDOW:
		c = algo_sw_cur(e);
		p = algo_sw_prev(e);
		el = algo_elapsed(e, t);
		cap = (unsigned __int128)n * per;
		lhs = (unsigned __int128)p * (per - el) +
		    (unsigned __int128)c * per;
		if (c < n && lhs < cap)
			return (1);
		if (c >= n) {
			/*
			 * Closed until the next window, where prev = c and
			 * cur = 0: admitted from the first e with
			 * c * (per - e) < n * per, that is
			 * e >= per + 1 - ceil(n * per / c).
			 */
			need = per + 1 - algo_div_up128(cap, c);
			*retry = e->te_win + per + need - t;
			return (0);
		}
		/*
		 * Here p > 0 and only the decaying prev is in the way:
		 * p * (per - e) < (n - c) * per from
		 * e >= per + 1 - ceil((n - c) * per / p), which is at
		 * most per, the next window, where the estimate is c < n.
		 */
		need = per + 1 -
		    algo_div_up128((unsigned __int128)(n - c) * per, p);
		*retry = e->te_win + need - t;
		return (0);
	case THROTTLE_TOKEN_BUCKET:
		/*
		 * GCRA: admitted iff max(tat, t) + T - t <= B * T, that is
		 * max(tat, t) - t <= (B - 1) * T.
		 */
		tu = t * 1000;
		tat = e->te_tat > tu ? e->te_tat : tu;
		slack = (algo_burst(e) - 1) * algo_interval(e);
		if (tat - tu <= slack)
			return (1);
		wait = tat - tu - slack;
		*retry = algo_div_up(wait, 1000);
		return (0);
	case THROTTLE_SLIDING_LOG:
		if (e->te_log_count < n)
			return (1);
		/* The oldest timestamp expires at ring[head] + per. */
		*retry = ring[e->te_log_head] + per - t;
		return (0);
	default:
		return (0);
	}
}

/*
 * Count one request at t.  A dry-run request may be counted past the
 * limit: the windows simply go above n, the bucket into debt, and a full
 * log drops its oldest timestamp (still at least n in the last period, so
 * the next check refuses as it should).
 */
void
throttle_algo_take(struct throttle_entry *e, uint64_t *ring, uint64_t t,
    struct throttle_undo *u)
{
	uint64_t	 tu;
	uint32_t	 slot;

	u->tu_cur = e->te_cur;
	u->tu_delta = e->te_delta;
	u->tu_tat = e->te_tat;
	u->tu_head = e->te_log_head;
	u->tu_count = e->te_log_count;
	u->tu_wrote = 0;

	switch (e->te_algo) {
	case THROTTLE_FIXED_WINDOW:
	case THROTTLE_SLIDING_WINDOW:
		e->te_cur++;
		e->te_delta++;
		break;
	case THROTTLE_TOKEN_BUCKET:
		tu = t * 1000;
		e->te_tat = (e->te_tat > tu ? e->te_tat : tu) +
		    algo_interval(e);
		break;
	case THROTTLE_SLIDING_LOG:
		if (e->te_log_count < e->te_limit) {
			slot = (uint32_t)((e->te_log_head + e->te_log_count) %
			    e->te_limit);
		} else
			slot = e->te_log_head;
		u->tu_slot = slot;
		u->tu_slot_val = ring[slot];
		u->tu_wrote = 1;
		/* Write the slot before the count makes it visible. */
		ring[slot] = t;
		if (e->te_log_count < e->te_limit)
			e->te_log_count++;
		else if (++e->te_log_head == e->te_limit)
			e->te_log_head = 0;
		break;
	default:
		break;
	}
}

/* Undo a throttle_algo_take(); several are undone in reverse order. */
void
throttle_algo_undo(struct throttle_entry *e, uint64_t *ring,
    const struct throttle_undo *u)
{
	e->te_cur = u->tu_cur;
	e->te_delta = u->tu_delta;
	e->te_tat = u->tu_tat;
	e->te_log_head = u->tu_head;
	e->te_log_count = u->tu_count;
	if (u->tu_wrote)
		ring[u->tu_slot] = u->tu_slot_val;
}

/*
 * Count, remaining and reset at t.  Remaining is how many requests would
 * be admitted at t one after the other.  Reset is when the quota is
 * whole again: the end of the fixed window; when the oldest timestamp
 * leaves the log; for the sliding window, when the estimate has decayed
 * to nothing (the end of the next window if the current one has counts,
 * else of this one); for the bucket, when the next token is back.
 */
void
throttle_algo_state(const struct throttle_entry *e, const uint64_t *ring,
    uint64_t t, struct throttle_state *st)
{
	uint64_t	 n = e->te_limit, per = e->te_period;
	uint64_t	 c, p, el, lim, tu, tat, debt, cap, tokens, interval;
	unsigned __int128	 a, decay;

	memset(st, 0, sizeof(*st));
	switch (e->te_algo) {
	case THROTTLE_FIXED_WINDOW:
		c = algo_sw_cur(e);
		st->st_count = c;
		st->st_remaining = c < n ? n - c : 0;
		st->st_reset = e->te_win + per - t;
		break;
	case THROTTLE_SLIDING_WINDOW:
		c = algo_sw_cur(e);
		p = algo_sw_prev(e);
		el = algo_elapsed(e, t);
		st->st_count = c;
		/*
		 * k more are admitted while (c + k) * per <
		 * n * per - p * (per - el) = a, so c + k < ceil(a / per).
		 */
		a = (unsigned __int128)n * per;
		decay = (unsigned __int128)p * (per - el);
		if (a > decay) {
			a -= decay;
			lim = algo_div_up128(a, per);
			if (lim > n)
				lim = n;
			st->st_remaining = lim > c ? lim - c : 0;
		}
		if (c > 0)
			st->st_reset = e->te_win + 2 * per - t;
		else if (p > 0)
			st->st_reset = e->te_win + per - t;
		break;
	case THROTTLE_TOKEN_BUCKET:
		tu = t * 1000;
		tat = e->te_tat > tu ? e->te_tat : tu;
		debt = tat - tu;
		interval = algo_interval(e);
		cap = algo_burst(e) * interval;
		st->st_count = algo_div_up(debt, interval);
		tokens = debt < cap ? (cap - debt) / interval : 0;
		st->st_remaining = tokens;
		/* Token tokens + 1 is back when the debt falls that far. */
		if (debt > 0) {
			if (debt <= cap)
				st->st_reset = algo_div_up((tokens + 1) *
				    interval - (cap - debt), 1000);
			else
				st->st_reset = algo_div_up(debt - cap +
				    interval, 1000);
		}
		break;
	case THROTTLE_SLIDING_LOG:
		st->st_count = e->te_log_count;
		st->st_remaining = e->te_log_count < n ?
		    n - e->te_log_count : 0;
		if (e->te_log_count > 0)
			st->st_reset = ring[e->te_log_head] + per - t;
		break;
	default:
		break;
	}
}
