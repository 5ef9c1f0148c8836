/*
 * throttle-policy.c: the throttling plugin's settings, as the loader's
 * tables (policies, throttling, and the keys it adds to APIs, resources
 * and consumers) with their checks, and the policies every configuration
 * has without declaring them.  The built-ins' names and limits are WSO2
 * API Manager's default tiers, so that an API definition exported from
 * there keeps its meaning here.  A policy of the same name in mgw.conf's
 * policies list takes precedence.
 */
#include "config.h"

#include <sys/types.h>

#include <ctype.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib.h"
#include <mgw/plugin.h>
#include "throttle.h"

#define MS_MIN		60000ULL
#define MS_DAY		(1440 * MS_MIN)
#define TH_NAME_MAX	64	/* as the core's names */

static int	th_check_name(void *, void *, char **);
static int	th_check_algo(void *, void *, char **);
static int	th_check_burst(void *, void *, char **);
static int	th_check_policy(void *, void *, char **);
static int	th_check_ref(void *, void *, char **);
static int	th_check_header(void *, void *, char **);

/* Unlimited has p_requests 0: see throttle_policy_builtin(). */
static const struct throttle_conf_policy th_builtins[] = {
	{ "10kPerMin", 10000, MS_MIN, NULL, THROTTLE_FIXED_WINDOW, 0, 0, 0 },
	{ "20kPerMin", 20000, MS_MIN, NULL, THROTTLE_FIXED_WINDOW, 0, 0, 0 },
	{ "50kPerMin", 50000, MS_MIN, NULL, THROTTLE_FIXED_WINDOW, 0, 0, 0 },
	{ "10PerMin", 10, MS_MIN, NULL, THROTTLE_FIXED_WINDOW, 0, 0, 0 },
	{ "20PerMin", 20, MS_MIN, NULL, THROTTLE_FIXED_WINDOW, 0, 0, 0 },
	{ "50PerMin", 50, MS_MIN, NULL, THROTTLE_FIXED_WINDOW, 0, 0, 0 },
	{ "Gold", 5000, MS_MIN, NULL, THROTTLE_FIXED_WINDOW, 0, 0, 0 },
	{ "Silver", 2000, MS_MIN, NULL, THROTTLE_FIXED_WINDOW, 0, 0, 0 },
	{ "Bronze", 1000, MS_MIN, NULL, THROTTLE_FIXED_WINDOW, 0, 0, 0 },
	{ "Unauthenticated", 500, MS_MIN, NULL, THROTTLE_FIXED_WINDOW, 0, 0,
	  0 },
	{ "Unlimited", 0, MS_MIN, NULL, THROTTLE_FIXED_WINDOW, 0, 0, 0 },
	{ NULL, 0, 0, NULL, 0, 0, 0, 0 }
};

/*
 * Throttling policies.  The checks of the item (th_check_policy) need
 * algorithm, requests and burst stored, so they run once it is walked.
 */
static const struct mgw_conf_opt th_table_policy[] = {
	{ "name", MGW_CONF_STRING, 0, 0, NULL,
	  "policy name; referenced by throttling and tier keys",
	  offsetof(struct throttle_conf_policy, p_name), 0, 0, NULL,
	  MGW_CONF_F_REQUIRED, th_check_name },
	{ "requests", MGW_CONF_U64, 1, UINT32_MAX, NULL,
	  "requests admitted per period",
	  offsetof(struct throttle_conf_policy, p_requests), 0, 0, NULL,
	  MGW_CONF_F_REQUIRED, NULL },
	{ "per", MGW_CONF_DURATION, 1, 366 * MS_DAY, NULL,
	  "the period",
	  offsetof(struct throttle_conf_policy, p_per), 0, 0, NULL,
	  MGW_CONF_F_REQUIRED, NULL },
	{ "algorithm", MGW_CONF_STRING, 0, 0, NULL,
	  "fixed_window, sliding_log, sliding_window or token_bucket",
	  offsetof(struct throttle_conf_policy, p_algorithm), 0, 0, NULL, 0,
	  th_check_algo },
	{ "burst", MGW_CONF_U64, 0, UINT32_MAX, NULL,
	  "token_bucket: requests that may come at once; 0 means requests",
	  offsetof(struct throttle_conf_policy, p_burst), 0, 0, NULL, 0,
	  th_check_burst },
	{ "dry_run", MGW_CONF_BOOL, 0, 1, "false",
	  "count and report, never refuse",
	  offsetof(struct throttle_conf_policy, p_dry_run), 0, 0, NULL, 0,
	  NULL },
	{ NULL, 0, 0, 0, NULL, NULL, 0, 0, 0, NULL, 0, NULL }
};

static const struct mgw_conf_opt th_table_throttling[] = {
	{ "headers", MGW_CONF_BOOL, 0, 1, "true",
	  "quota headers on accepted responses too, not only on 429",
	  offsetof(struct throttle_conf_throttling, t_headers), 0, 0, NULL,
	  0, NULL },
	{ "consumer_header", MGW_CONF_STRING, 0, 0, NULL,
	  "request header naming the consumer; unset: none (testing only)",
	  offsetof(struct throttle_conf_throttling, t_consumer_header), 0, 0,
	  NULL, 0, th_check_header },
	{ "unauthenticated_tier", MGW_CONF_STRING, 0, 0, "Unlimited",
	  "policy per client address for requests without a consumer; "
	  "Unlimited (the default) turns the level off",
	  offsetof(struct throttle_conf_throttling, t_unauthenticated_tier),
	  0, 0, NULL, 0, th_check_ref },
	{ NULL, 0, 0, 0, NULL, NULL, 0, 0, 0, NULL, 0, NULL }
};

/*
 * policies must come before every key that references a policy
 * (throttling, consumers, apis): th_check_ref looks the name up in what
 * has been stored so far.
 */
static const struct mgw_conf_opt th_table_top[] = {
	{ "policies", MGW_CONF_LIST, 0, 0, NULL,
	  "throttling policies, beside the built-in ones",
	  offsetof(struct throttle_conf, tc_policies),
	  offsetof(struct throttle_conf, tc_npolicies),
	  sizeof(struct throttle_conf_policy), th_table_policy, 0,
	  th_check_policy },
	{ "throttling", MGW_CONF_GROUP, 0, 0, NULL,
	  "gateway-wide throttling settings",
	  offsetof(struct throttle_conf, tc_throttling), 0, 0,
	  th_table_throttling, 0, NULL },
	{ NULL, 0, 0, 0, NULL, NULL, 0, 0, 0, NULL, 0, NULL }
};

static const struct mgw_conf_opt th_table_api[] = {
	{ "throttling", MGW_CONF_STRING, 0, 0, NULL,
	  "policy limiting the whole API across all callers",
	  offsetof(struct throttle_conf_api, ta_throttling), 0, 0, NULL, 0,
	  th_check_ref },
	{ "subscription_tier", MGW_CONF_STRING, 0, 0, NULL,
	  "policy per consumer of this API, unless the consumer sets one",
	  offsetof(struct throttle_conf_api, ta_subscription_tier), 0, 0,
	  NULL, 0, th_check_ref },
	{ NULL, 0, 0, 0, NULL, NULL, 0, 0, 0, NULL, 0, NULL }
};

static const struct mgw_conf_opt th_table_resource[] = {
	{ "throttling", MGW_CONF_STRING, 0, 0, NULL,
	  "policy limiting this resource across all callers",
	  offsetof(struct throttle_conf_resource, tr_throttling), 0, 0, NULL,
	  0, th_check_ref },
	{ NULL, 0, 0, 0, NULL, NULL, 0, 0, 0, NULL, 0, NULL }
};

static const struct mgw_conf_opt th_table_consumer[] = {
	{ "tier", MGW_CONF_STRING, 0, 0, NULL,
	  "application policy: the consumer's requests to all APIs",
	  offsetof(struct throttle_conf_consumer, tk_tier), 0, 0, NULL, 0,
	  th_check_ref },
	{ "subscription_tier", MGW_CONF_STRING, 0, 0, NULL,
	  "policy per API for this consumer, instead of the API's",
	  offsetof(struct throttle_conf_consumer, tk_subscription_tier), 0, 0,
	  NULL, 0, th_check_ref },
	{ NULL, 0, 0, 0, NULL, NULL, 0, 0, 0, NULL, 0, NULL }
};

const struct mgw_conf_section throttle_settings[] = {
	{ MGW_SCOPE_TOP, th_table_top, sizeof(struct throttle_conf) },
	{ MGW_SCOPE_API, th_table_api, sizeof(struct throttle_conf_api) },
	{ MGW_SCOPE_RESOURCE, th_table_resource,
	  sizeof(struct throttle_conf_resource) },
	{ MGW_SCOPE_CONSUMER, th_table_consumer,
	  sizeof(struct throttle_conf_consumer) },
	{ 0, NULL, 0 }
};

/* A policy name: 1 to 63 of A-Z a-z 0-9 _ . -, as the core's names. */
static int
th_check_name(void *obj, void *field, char **cause)
{
	const char	*s = *(char **)field;
	size_t		 i;

	(void)obj;
	for (i = 0; s[i] != '\0'; i++) {
		if (!isalnum((unsigned char)s[i]) &&
		    strchr("_.-", s[i]) == NULL)
			break;
	}
	if (s[i] == '\0' && i > 0 && i < TH_NAME_MAX)
		return (0);
	xasprintf(cause, "bad name '%s' (1 to %d of A-Z a-z 0-9 _ . -)", s,
	    TH_NAME_MAX - 1);
	return (-1);
}

static int
th_check_algo(void *obj, void *field, char **cause)
{
	struct throttle_conf_policy	*p = obj;
	enum throttle_algo		 algo;

	(void)field;
	if (throttle_algo_parse(p->p_algorithm, &algo) == -1) {
		xasprintf(cause, "unknown algorithm '%s' (use fixed_window, "
		    "sliding_log, sliding_window or token_bucket)",
		    p->p_algorithm);
		return (-1);
	}
	p->p_algo = algo;
	return (0);
}

/* burst applies to token_bucket only: remember it was written. */
static int
th_check_burst(void *obj, void *field, char **cause)
{
	(void)field;
	(void)cause;
	((struct throttle_conf_policy *)obj)->p_burst_set = 1;
	return (0);
}

/* An HTTP field name: an RFC 9110 token. */
static int
th_check_header(void *obj, void *field, char **cause)
{
	static const char	 tchar[] = "!#$%&'*+-.^_`|~";
	const char		*s = *(char **)field;
	size_t			 i;

	(void)obj;
	for (i = 0; s[i] != '\0'; i++) {
		if (!isalnum((unsigned char)s[i]) &&
		    strchr(tchar, s[i]) == NULL)
			break;
	}
	if (s[i] == '\0' && i > 0)
		return (0);
	xasprintf(cause, "bad header name '%s'", s);
	return (-1);
}

/* Names a policy of the configuration being loaded, or a built-in one. */
static int
th_check_ref(void *obj, void *field, char **cause)
{
	const char	*s = *(char **)field;

	(void)obj;
	if (throttle_policy_find(mgw_conf_loading(&plugin_throttle),
	    s) != NULL)
		return (0);
	xasprintf(cause, "unknown policy '%s' (define it in policies, or use "
	    "a built-in one)", s);
	return (-1);
}

/*
 * A policy item once all its keys are stored: a unique name, and the
 * combinations of algorithm, requests and burst the throttle accepts.
 * Checks that depend on the algorithm are skipped when it was refused.
 */
static int
th_check_policy(void *obj, void *field, char **cause)
{
	struct throttle_conf_policy	*p = obj, *items = field, *q;
	struct throttle_policy		 tp;
	enum throttle_algo		 algo = THROTTLE_FIXED_WINDOW;
	char				*why, *dup = NULL, *more = NULL;
	const char			*msg;

	for (q = items; q < p && p->p_name != NULL; q++) {
		if (q->p_name == NULL || strcmp(p->p_name, q->p_name) != 0)
			continue;
		xasprintf(&dup, "duplicate policy name '%s'", p->p_name);
		break;
	}
	if (p->p_algorithm != NULL &&
	    throttle_algo_parse(p->p_algorithm, &algo) == -1)
		goto out;
	if (p->p_burst_set && algo != THROTTLE_TOKEN_BUCKET) {
		xasprintf(&more, "burst: burst applies to token_bucket only, "
		    "not %s", throttle_algo_name(algo));
		goto out;
	}
	if (algo == THROTTLE_SLIDING_LOG && p->p_requests > THROTTLE_LOG_MAX) {
		xasprintf(&more, "requests: %" PRIu64 " is over %d: "
		    "sliding_log keeps one timestamp per request; use "
		    "sliding_window above %d", p->p_requests, THROTTLE_LOG_MAX,
		    THROTTLE_LOG_MAX);
		goto out;
	}
	/* requests or per refused already: nothing more to say. */
	if (p->p_requests == 0 || p->p_per == 0)
		goto out;

	/* What is left is the throttle's own arithmetic bound on burst. */
	memset(&tp, 0, sizeof(tp));
	tp.tp_id = p - items;
	tp.tp_limit = p->p_requests;
	tp.tp_period = p->p_per;
	tp.tp_burst = p->p_burst;
	tp.tp_algo = algo;
	tp.tp_dry_run = p->p_dry_run;
	if (throttle_policy_check(&tp, &why) == -1) {
		/* Drop the throttle's "policy N: ", which names no item. */
		msg = strstr(why, ": ");
		msg = msg != NULL ? msg + 2 : why;
		xasprintf(&more, "%s%s", algo == THROTTLE_TOKEN_BUCKET ?
		    "burst: " : "", msg);
		free(why);
	}
out:
	if (dup == NULL && more == NULL)
		return (0);
	if (dup != NULL && more != NULL) {
		xasprintf(cause, "%s\n%s", dup, more);
		free(dup);
		free(more);
	} else
		*cause = dup != NULL ? dup : more;
	return (-1);
}

/*
 * The built-in policy called name, matched exactly (policy names are
 * case-sensitive, as in WSO2), or NULL.  Unlimited comes back with
 * p_requests 0.  Any process.
 */
const struct throttle_conf_policy *
throttle_policy_builtin(const char *name)
{
	const struct throttle_conf_policy	*p;

	if (name == NULL)
		return (NULL);
	for (p = th_builtins; p->p_name != NULL; p++) {
		if (strcmp(p->p_name, name) == 0)
			return (p);
	}
	return (NULL);
}

/*
 * Resolve a policy reference: tc's own policies first (tc may be NULL,
 * and items whose name failed to parse are skipped), then the built-ins.
 * NULL if name is unknown.  Any process.
 */
const struct throttle_conf_policy *
throttle_policy_find(const struct throttle_conf *tc, const char *name)
{
	size_t	 i;

	if (name == NULL)
		return (NULL);
	for (i = 0; tc != NULL && tc->tc_policies != NULL &&
	    i < tc->tc_npolicies; i++) {
		if (tc->tc_policies[i].p_name != NULL &&
		    strcmp(tc->tc_policies[i].p_name, name) == 0)
			return (&tc->tc_policies[i]);
	}
	return (throttle_policy_builtin(name));
}

/* The plugin's top-level settings in conf. */
const struct throttle_conf *
throttle_conf(const struct mgw_conf *conf)
{
	return (mgw_conf_settings(conf, &plugin_throttle));
}
