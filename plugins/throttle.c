/*
 * throttle.c: the throttling plugin.  It maps a request to its levels
 * (API, resource, application, subscription, client IP), asks the shared
 * table (throttle-table.c) for one all-or-nothing decision, answers 429
 * with Retry-After and the IETF RateLimit fields when a level refuses,
 * and puts the same quota fields on accepted responses.
 */
#include "config.h"

#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib.h"
#include "shm.h"
#include <mgw/plugin.h>
#include "throttle.h"

#define TH_ZONE		"throttle"
#define TH_LEVELS	5

enum th_level {
	TH_API = 0,
	TH_RESOURCE,
	TH_APPLICATION,
	TH_SUBSCRIPTION,
	TH_IP
};

static const char *const th_level_name[] = {
	"api", "resource", "application", "subscription", "ip"
};

/* A policy some level uses, with its table form. */
struct th_pol {
	struct throttle_policy	 tp;
	const char		*name;		/* the config's string */
	/*
	 * The constant parts of the quota fields, made once: the
	 * RateLimit-Policy and X-RateLimit-Limit lines, and the start of
	 * the RateLimit line up to its remaining count.
	 */
	char			 h_fixed[160];
	size_t			 h_fixedlen;
	char			 h_rl[96];
	size_t			 h_rllen;
};

struct th_consumer {
	const char		*name;
	int			 tier;		/* th_pol index, -1 none */
	int			 sub;		/* -1: the API's */
};

struct th_state {
	struct shm_zone		*zone;
	struct th_pol		*pols;
	size_t			 npols;
	int			*api_pol;	/* per API index, -1 none */
	int			*api_sub;
	const char		**api_name;
	int			**res_pol;	/* per API, per resource */
	size_t			 napis;
	struct th_consumer	*cons;		/* sorted by name */
	size_t			 ncons;
	int			 unauth;	/* -1: no IP level */
	int			 headers;
	const char		*consumer_header;
	uint64_t		 last_error_log;	/* ms */
	const struct mgw_conf	*conf;		/* policy names, for show */
};

/* What the access phase decided, for the header filter. */
struct th_ctx {
	int			 denied;
	uint64_t		 now;		/* ms */
	uint64_t		 time;		/* ms: the decider key's clock */
	const struct th_pol	*pol;
	const char		*policy;
	uint64_t		 limit;
	uint64_t		 remaining;
	uint64_t		 reset;		/* ms */
	uint64_t		 period;	/* ms */
};

/* Stable across reloads, so counts stay with their policy. */
static uint32_t
th_policy_id(const char *name)
{
	uint32_t	 h = 2166136261u;

	for (; *name != '\0'; name++)
		h = (h ^ (unsigned char)*name) * 16777619u;
	return (h == 0 ? 1 : h);
}

/*
 * The index of policy name in the state, added on first use; -1 for none
 * or Unlimited (a level that never limits is not a level at all).
 */
static int
th_policy_ref(struct th_state *st, const struct mgw_conf *conf,
    const char *name, char **cause)
{
	const struct throttle_conf_policy *cp;
	struct th_pol			*p;
	size_t				 i;

	if (name == NULL)
		return (-1);
	for (i = 0; i < st->npols; i++)
		if (strcmp(st->pols[i].name, name) == 0)
			return ((int)i);
	if ((cp = throttle_policy_find(throttle_conf(conf), name)) == NULL) {
		xasprintf(cause, "%s: unknown policy '%s'", mgw_conf_file(conf),
		    name);
		return (-2);
	}
	if (cp->p_requests == 0)
		return (-1);
	st->pols = xreallocarray(st->pols, st->npols + 1, sizeof(*st->pols));
	p = &st->pols[st->npols];
	memset(p, 0, sizeof(*p));
	p->name = name;
	p->tp.tp_id = th_policy_id(name);
	p->tp.tp_limit = cp->p_requests;
	p->tp.tp_period = cp->p_per;
	p->tp.tp_burst = cp->p_burst;
	p->tp.tp_algo = cp->p_algo;
	p->tp.tp_dry_run = cp->p_dry_run;
	if (throttle_policy_check(&p->tp, cause) == -1)
		return (-2);
	p->h_fixedlen = snprintf(p->h_fixed, sizeof(p->h_fixed),
	    "RateLimit-Policy: \"%.63s\";q=%llu;w=%llu\r\n"
	    "X-RateLimit-Limit: %llu\r\n", name,
	    (unsigned long long)cp->p_requests,
	    (unsigned long long)((cp->p_per + 999) / 1000),
	    (unsigned long long)cp->p_requests);
	p->h_rllen = snprintf(p->h_rl, sizeof(p->h_rl),
	    "RateLimit: \"%.63s\";r=", name);
	return ((int)st->npols++);
}

static int
th_consumer_cmp(const void *a, const void *b)
{
	return (strcmp(((const struct th_consumer *)a)->name,
	    ((const struct th_consumer *)b)->name));
}

static void
th_free(void *arg)
{
	struct th_state	*st = arg;
	size_t		 i;

	if (st == NULL)
		return;
	for (i = 0; i < st->napis; i++)
		free(st->res_pol[i]);
	free(st->res_pol);
	free(st->api_pol);
	free(st->api_sub);
	free(st->api_name);
	free(st->cons);
	free(st->pols);
	free(st);
}

/*
 * Master: resolve every policy reference of the configuration and, if any
 * level can limit, declare the "throttle" zone (shm.size bytes) and
 * format or keep its table.  The zone is kept across reloads with its
 * counts while its size does not change.
 */
static int
th_conf(const struct mgw_conf *conf, void **state, char **cause)
{
	const struct throttle_conf		*tc = throttle_conf(conf);
	const struct throttle_conf_api		*ta;
	const struct throttle_conf_resource	*tr;
	const struct throttle_conf_consumer	*tk;
	const struct mgw_api			*a;
	const struct mgw_consumer		*c;
	struct th_state				*st;
	size_t					 i, j, nres;
	int					 rv = 0;

	st = xcalloc(1, sizeof(*st));
	st->napis = mgw_conf_napis(conf);
	st->api_pol = xcalloc(st->napis + 1, sizeof(int));
	st->api_sub = xcalloc(st->napis + 1, sizeof(int));
	st->api_name = xcalloc(st->napis + 1, sizeof(char *));
	st->res_pol = xcalloc(st->napis + 1, sizeof(int *));
	for (i = 0; i < st->napis && rv >= -1; i++) {
		a = mgw_conf_api(conf, i);
		ta = mgw_api_settings(a, &plugin_throttle);
		st->api_name[i] = mgw_api_name(a);
		st->api_pol[i] = rv = th_policy_ref(st, conf, ta->ta_throttling,
		    cause);
		if (rv < -1)
			break;
		st->api_sub[i] = rv = th_policy_ref(st, conf,
		    ta->ta_subscription_tier, cause);
		nres = mgw_api_nresources(a);
		st->res_pol[i] = xcalloc(nres + 1, sizeof(int));
		for (j = 0; j < nres && rv >= -1; j++) {
			tr = mgw_resource_settings(mgw_api_resource(a, j),
			    &plugin_throttle);
			st->res_pol[i][j] = rv = th_policy_ref(st, conf,
			    tr->tr_throttling, cause);
		}
	}
	st->ncons = mgw_conf_nconsumers(conf);
	st->cons = xcalloc(st->ncons + 1, sizeof(*st->cons));
	for (i = 0; i < st->ncons && rv >= -1; i++) {
		c = mgw_conf_consumer(conf, i);
		tk = mgw_consumer_settings(c, &plugin_throttle);
		st->cons[i].name = mgw_consumer_name(c);
		st->cons[i].tier = rv = th_policy_ref(st, conf, tk->tk_tier,
		    cause);
		if (rv < -1)
			break;
		st->cons[i].sub = rv = th_policy_ref(st, conf,
		    tk->tk_subscription_tier, cause);
	}
	if (rv >= -1)
		st->unauth = rv = th_policy_ref(st, conf,
		    tc->tc_throttling.t_unauthenticated_tier, cause);
	if (rv < -1) {
		th_free(st);
		return (MGW_ERROR);
	}
	qsort(st->cons, st->ncons, sizeof(*st->cons), th_consumer_cmp);
	st->conf = conf;
	st->headers = tc->tc_throttling.t_headers;
	st->consumer_header = tc->tc_throttling.t_consumer_header;
	if (st->npols > 0) {
		if ((st->zone = shm_zone_add(TH_ZONE, mgw_conf_shm_size(conf),
		    THROTTLE_LAYOUT, cause)) == NULL ||
		    throttle_table_init(st->zone, 0, cause) == -1) {
			th_free(st);
			return (MGW_ERROR);
		}
	}
	*state = st;
	return (MGW_OK);
}

static const struct th_consumer *
th_consumer_find(const struct th_state *st, const char *name)
{
	struct th_consumer	 key;

	key.name = name;
	return (bsearch(&key, st->cons, st->ncons, sizeof(*st->cons),
	    th_consumer_cmp));
}

/* Decimal digits of v at the end of buf[24]; returns the first one. */
static char *
th_u64(char *buf, uint64_t v)
{
	char	*p = buf + 23;

	*p = '\0';
	do {
		*--p = '0' + v % 10;
		v /= 10;
	} while (v != 0);
	return (p);
}

/*
 * "prefix:a" or "prefix:a:b" in request memory; long keys are hashed.
 * On the hot path, so built with memcpy rather than printf.
 */
static int
th_key(struct mgw_request *r, struct throttle_level *lv, const char *prefix,
    const char *a, const char *b)
{
	char		*k;
	size_t		 pl = strlen(prefix), al = strlen(a);
	size_t		 bl = b != NULL ? strlen(b) : 0, len, i;
	uint64_t	 h = 1469598103934665603ULL;

	len = pl + 1 + al + (b != NULL ? 1 + bl : 0);
	if ((k = mgw_request_pool_alloc(r, len + 1)) == NULL)
		return (-1);
	memcpy(k, prefix, pl);
	k[pl] = ':';
	memcpy(k + pl + 1, a, al);
	if (b != NULL) {
		k[pl + 1 + al] = ':';
		memcpy(k + pl + 2 + al, b, bl);
	}
	k[len] = '\0';
	if (len > THROTTLE_KEY_MAX) {
		/* Keep the level prefix readable, hash the rest. */
		for (i = 0; i < len; i++)
			h = (h ^ (unsigned char)k[i]) * 1099511628211ULL;
		len = snprintf(k, len + 1, "%s#%016llx", prefix,
		    (unsigned long long)h);
	}
	lv->tl_key = k;
	lv->tl_keylen = len;
	return (0);
}

static void
th_add_u64(struct mgw_request *r, const char *name, uint64_t v)
{
	char	 buf[24];

	mgw_response_add_header(r, name, th_u64(buf, v));
}

/*
 * The quota fields: draft-ietf-httpapi-ratelimit-headers' RateLimit-Policy
 * and RateLimit, and the X-RateLimit-* trio clients already know.  Reset
 * is in seconds, rounded up, so a client waiting that long finds quota.
 */
/* Append s to the block being built; it never overruns. */
static void
th_put(char *buf, size_t cap, size_t *o, const char *s)
{
	size_t	 l = strlen(s);

	if (*o + l >= cap)
		return;
	memcpy(buf + *o, s, l);
	*o += l;
}

static void
th_headers(struct mgw_request *r, const struct th_ctx *tc)
{
	char		 buf[512], n[24];
	size_t		 o = 0;
	uint64_t	 reset_s = (tc->reset + 999) / 1000;

	/*
	 * One block of lines and one call: these fields go on every
	 * accepted response, so they must cost little.
	 */
	memcpy(buf, tc->pol->h_fixed, tc->pol->h_fixedlen);
	o = tc->pol->h_fixedlen;
	memcpy(buf + o, tc->pol->h_rl, tc->pol->h_rllen);
	o += tc->pol->h_rllen;
	th_put(buf, sizeof(buf), &o, th_u64(n, tc->remaining));
	th_put(buf, sizeof(buf), &o, ";t=");
	th_put(buf, sizeof(buf), &o, th_u64(n, reset_s));
	th_put(buf, sizeof(buf), &o, "\r\nX-RateLimit-Remaining: ");
	th_put(buf, sizeof(buf), &o, th_u64(n, tc->remaining));
	/* The moment of reset as Unix time: the window's end when fixed. */
	th_put(buf, sizeof(buf), &o, "\r\nX-RateLimit-Reset: ");
	th_put(buf, sizeof(buf), &o, th_u64(n, (tc->now + tc->reset + 999) /
	    1000));
	th_put(buf, sizeof(buf), &o, "\r\n");
	/*
	 * The clock the decision was made at, not the one read before the
	 * lock: another worker may have moved the key's clock past it.
	 */
	if (mgw_debug_hooks()) {
		th_put(buf, sizeof(buf), &o, "X-Mgw-Throttle-Time: ");
		th_put(buf, sizeof(buf), &o, th_u64(n, tc->time));
		th_put(buf, sizeof(buf), &o, "\r\n");
	}
	mgw_response_add_lines(r, buf, o);
}

static int
th_access(void *state, struct mgw_request *r)
{
	struct th_state			*st = state;
	struct throttle_level		 lv[TH_LEVELS];
	enum th_level			 kind[TH_LEVELS];
	const struct th_consumer	*cs = NULL;
	const char			*cname, *api;
	struct th_ctx			*tc;
	enum throttle_verdict		 v;
	void				**slot;
	uint64_t			 now, retry = 0;
	size_t				 n = 0, decider = 0, len;
	int				 ai, ri, pi;
	char				 msg[256], hv[160];

	if (st == NULL || st->zone == NULL)
		return (MGW_OK);
	ai = mgw_request_api_index(r);
	ri = mgw_request_resource_index(r);
	if (ai < 0 || (size_t)ai >= st->napis)
		return (MGW_OK);
	api = st->api_name[ai];
	memset(lv, 0, sizeof(lv));

	/*
	 * The consumer: from authentication when it ran, else (until it
	 * exists) from a configured header, and only if it names a
	 * configured consumer.
	 */
	cname = mgw_request_consumer(r);
	if (cname == NULL && st->consumer_header != NULL) {
		cname = mgw_request_header(r, st->consumer_header, &len);
		if (cname != NULL && len > 0 && len < sizeof(hv)) {
			memcpy(hv, cname, len);
			hv[len] = '\0';
			cname = hv;
		} else
			cname = NULL;
	}
	if (cname != NULL)
		cs = th_consumer_find(st, cname);
	/* Name the caller for the access log and analytics too. */
	if (cs != NULL && mgw_request_consumer(r) == NULL &&
	    mgw_request_set_consumer(r, cs->name) == -1)
		return (MGW_ERROR);

	if ((pi = st->api_pol[ai]) >= 0) {
		kind[n] = TH_API;
		lv[n].tl_policy = &st->pols[pi].tp;
		if (th_key(r, &lv[n++], "api", api, NULL) == -1)
			return (MGW_ERROR);
	}
	if (ri >= 0 && (pi = st->res_pol[ai][ri]) >= 0) {
		kind[n] = TH_RESOURCE;
		lv[n].tl_policy = &st->pols[pi].tp;
		if (th_key(r, &lv[n++], "res", api, th_u64(msg, ri)) == -1)
			return (MGW_ERROR);
	}
	if (cs != NULL) {
		if (cs->tier >= 0) {
			mgw_request_set_tier(r, st->pols[cs->tier].name);
			kind[n] = TH_APPLICATION;
			lv[n].tl_policy = &st->pols[cs->tier].tp;
			if (th_key(r, &lv[n++], "app", cs->name, NULL) == -1)
				return (MGW_ERROR);
		}
		pi = cs->sub >= 0 ? cs->sub : st->api_sub[ai];
		if (pi >= 0) {
			kind[n] = TH_SUBSCRIPTION;
			lv[n].tl_policy = &st->pols[pi].tp;
			if (th_key(r, &lv[n++], "sub", cs->name, api) == -1)
				return (MGW_ERROR);
		}
	} else if (st->unauth >= 0) {
		mgw_request_set_tier(r, st->pols[st->unauth].name);
		kind[n] = TH_IP;
		lv[n].tl_policy = &st->pols[st->unauth].tp;
		if (th_key(r, &lv[n++], "ip", mgw_request_client_ip(r),
		    NULL) == -1)
			return (MGW_ERROR);
	}
	if (n == 0)
		return (MGW_OK);

	now = throttle_now_ms();
	v = throttle_hit(st->zone, lv, n, now, &decider, &retry);
	if (v == THROTTLE_ERROR) {
		/* Fail open, but loudly: the table counts it too. */
		if (now - st->last_error_log >= 1000) {
			log_warnx("throttle: no decision for %s, request let "
			    "through (table full?)", api);
			st->last_error_log = now;
		}
		return (MGW_OK);
	}
	if ((slot = mgw_request_ctx(r, st)) == NULL ||
	    (tc = mgw_request_pool_alloc(r, sizeof(*tc))) == NULL)
		return (MGW_ERROR);
	*slot = tc;
	tc->now = now;
	tc->time = lv[decider].tl_time;
	tc->denied = v == THROTTLE_DENY;
	/* tp is the first member: the level's policy is its th_pol. */
	tc->pol = (const struct th_pol *)lv[decider].tl_policy;
	tc->policy = tc->pol->name;
	tc->limit = lv[decider].tl_limit;
	tc->remaining = lv[decider].tl_remaining;
	tc->reset = lv[decider].tl_reset;
	tc->period = lv[decider].tl_policy->tp_period;
	if (v == THROTTLE_PASS) {
		for (len = 0; len < n; len++)
			if (lv[len].tl_dry_hit)
				log_info("throttle: dry run: %.*s over policy "
				    "%s (%s level), let through",
				    (int)lv[len].tl_keylen, lv[len].tl_key,
				    tc->policy, th_level_name[kind[len]]);
		return (MGW_OK);
	}
	tc->remaining = 0;
	th_add_u64(r, "Retry-After", (retry + 999) / 1000);
	/* A refusal always says when to come back. */
	th_headers(r, tc);
	snprintf(msg, sizeof(msg), "rate limit exceeded: policy %s at the %s "
	    "level", tc->policy, th_level_name[kind[decider]]);
	mgw_request_set_reason(r, th_level_name[kind[decider]]);
	return (mgw_respond_error(r, 429, "throttled", msg));
}

static int
th_header_filter(void *state, struct mgw_request *r)
{
	struct th_state	*st = state;
	struct th_ctx	*tc;
	void		**slot;

	if (st == NULL || !st->headers || st->zone == NULL)
		return (MGW_OK);
	if ((slot = mgw_request_ctx(r, st)) == NULL || *slot == NULL)
		return (MGW_OK);
	tc = *slot;
	if (!tc->denied)
		th_headers(r, tc);
	return (MGW_OK);
}

#define TH_SHOW_MAX	2000	/* lines; a prefix narrows the rest */

struct th_show {
	const struct mgw_conf	*conf;
	struct mgw_buf		*out;
	size_t			 n;
	size_t			 more;		/* past TH_SHOW_MAX */
	int			 oom;
};

static const char *
th_policy_name(const struct mgw_conf *conf, uint32_t id)
{
	static const char *const builtin[] = {
		"10kPerMin", "20kPerMin", "50kPerMin", "10PerMin", "20PerMin",
		"50PerMin", "Gold", "Silver", "Bronze", "Unauthenticated", NULL
	};
	const struct throttle_conf	*tc = throttle_conf(conf);
	size_t				 i;

	for (i = 0; tc != NULL && i < tc->tc_npolicies; i++)
		if (th_policy_id(tc->tc_policies[i].p_name) == id)
			return (tc->tc_policies[i].p_name);
	for (i = 0; builtin[i] != NULL; i++)
		if (th_policy_id(builtin[i]) == id)
			return (builtin[i]);
	return ("?");
}

static int
th_show_cb(const struct throttle_info *ti, void *arg)
{
	struct th_show	*sh = arg;

	if (sh->n >= TH_SHOW_MAX) {
		sh->more++;
		return (0);
	}
	if (mgw_buf_printf(sh->out, "%.*s policy=%s algorithm=%s limit=%llu "
	    "count=%llu remaining=%llu reset_ms=%llu%s\n", (int)ti->ti_keylen,
	    ti->ti_key, th_policy_name(sh->conf, ti->ti_policy),
	    throttle_algo_name(ti->ti_algo),
	    (unsigned long long)ti->ti_limit,
	    (unsigned long long)ti->ti_count,
	    (unsigned long long)ti->ti_remaining,
	    (unsigned long long)ti->ti_reset,
	    ti->ti_dry_hits > 0 ? " dry_run_hits" : "") == -1)
		sh->oom = 1;
	sh->n++;
	return (0);
}

/*
 * mgwctl throttle show [prefix]: one line per live counter whose key
 * starts with prefix, then the table's totals.  0, or -1 with *cause.
 */
static int
th_show(const struct th_state *st, const char *prefix, struct mgw_buf *out,
    char **cause)
{
	struct shm_zone		*z = shm_zone_find(TH_ZONE);
	struct throttle_stats	 ts;
	struct th_show		 sh;

	if (z == NULL) {
		*cause = xstrdup("no throttling policy is in use");
		return (-1);
	}
	memset(&sh, 0, sizeof(sh));
	sh.conf = st->conf;
	sh.out = out;
	if (throttle_table_walk(z, prefix, strlen(prefix), throttle_now_ms(),
	    th_show_cb, &sh) == -1 || throttle_table_stats(z, &ts) == -1) {
		*cause = xstrdup("the throttle table is not formatted");
		return (-1);
	}
	if (sh.more > 0 && mgw_buf_printf(out, "(%zu more; give a key "
	    "prefix)\n", sh.more) == -1)
		sh.oom = 1;
	if (mgw_buf_printf(out, "entries: %llu\nevictions: %llu\n"
	    "no_room: %llu\ndry_run_hits: %llu\nrepairs: %llu\n"
	    "reformats: %llu\n", (unsigned long long)ts.ts_entries,
	    (unsigned long long)ts.ts_evictions,
	    (unsigned long long)ts.ts_nomem,
	    (unsigned long long)ts.ts_dry_hits,
	    (unsigned long long)ts.ts_recoveries,
	    (unsigned long long)ts.ts_reformats) == -1 || sh.oom) {
		*cause = xstrdup("out of memory");
		return (-1);
	}
	return (0);
}

/* mgwctl throttle reset KEY.  0, or -1 with *cause. */
static int
th_reset(const char *key, struct mgw_buf *out, char **cause)
{
	struct shm_zone	*z = shm_zone_find(TH_ZONE);

	if (z == NULL) {
		*cause = xstrdup("no throttling policy is in use");
		return (-1);
	}
	if (*key == '\0' || throttle_table_reset(z, key, strlen(key)) == -1) {
		xasprintf(cause, "no counter with key '%s'", key);
		return (-1);
	}
	log_info("throttle: counter %s reset by mgwctl", key);
	(void)mgw_buf_printf(out, "reset %s", key);
	return (0);
}

/*
 * The control verb "throttle": show [prefix] or reset KEY, the
 * subcommand by unique prefix as mgwctl matches its own words.  Master,
 * in its loop; reads and writes the "throttle" zone under its lock.
 */
static int
th_ctl_throttle(void *state, int argc, char **argv, struct mgw_buf *out,
    char **cause)
{
	static const char *const sub[] = { "show", "reset" };
	const struct th_state	*st = state;
	size_t			 len, i;
	int			 found = -1, n = 0;

	if (argc < 1) {
		xasprintf(cause, "missing argument after throttle");
		return (-1);
	}
	len = strlen(argv[0]);
	for (i = 0; i < 2; i++) {
		if (strcmp(sub[i], argv[0]) == 0) {
			found = (int)i;
			n = 1;
			break;
		}
		if (len > 0 && strncmp(sub[i], argv[0], len) == 0) {
			found = (int)i;
			n++;
		}
	}
	if (n != 1) {
		xasprintf(cause, "%s argument: %s", n > 1 ? "ambiguous" :
		    "unknown", argv[0]);
		return (-1);
	}
	if (argc > 2) {
		xasprintf(cause, "unexpected argument: %s", argv[2]);
		return (-1);
	}
	if (found == 0)
		return (th_show(st, argc > 1 ? argv[1] : "", out, cause));
	if (argc < 2) {
		xasprintf(cause, "missing argument after reset");
		return (-1);
	}
	return (th_reset(argv[1], out, cause));
}

static const struct mgw_ctl_verb th_ctl_verbs[] = {
	{ "throttle", "throttle show [prefix]\nthrottle reset key",
	    th_ctl_throttle },
	{ NULL, NULL, NULL }
};

/*
 * The metrics hook: the table's evictions, when there is a throttle
 * zone.  Any process; takes the zone lock briefly for the count.
 */
static void
th_metrics(void *arg, struct mgw_buf *out)
{
	struct throttle_stats	 ts;
	struct shm_zone		*z;

	if ((z = shm_zone_find(TH_ZONE)) == NULL ||
	    throttle_table_stats(z, &ts) != 0)
		return;
	mgw_metrics_family(out, "mgw_throttle_evictions_total", "counter",
	    "Throttle keys evicted, least recently used first, to make "
	    "room.");
	mgw_metrics_sample(out, "mgw_throttle_evictions_total", NULL,
	    ts.ts_evictions);
}

const struct mgw_plugin plugin_throttle = {
	.api = MGW_PLUGIN_API,
	.name = "throttle",
	.settings = throttle_settings,
	.conf = th_conf,
	.access = th_access,
	.header_filter = th_header_filter,
	.fini = th_free,
	.ctl_verbs = th_ctl_verbs,
	.metrics = th_metrics,
};
