/*
 * conf-policy.c: the throttling policies every configuration has without
 * declaring them, and the lookup that resolves a policy reference.  The
 * names and limits are WSO2 API Manager's default tiers, so that an API
 * definition exported from there keeps its meaning here.  A policy of the
 * same name in mgw.conf's policies list takes precedence.
 */
#include "config.h"

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "master.h"
#include "throttle.h"

#define MS_MIN		60000ULL

/* Unlimited has p_requests 0: see conf_policy_builtin() in master.h. */
static const struct conf_policy conf_policy_builtins[] = {
	{ "10kPerMin", 10000, MS_MIN, NULL, THROTTLE_FIXED_WINDOW, 0, 0 },
	{ "20kPerMin", 20000, MS_MIN, NULL, THROTTLE_FIXED_WINDOW, 0, 0 },
	{ "50kPerMin", 50000, MS_MIN, NULL, THROTTLE_FIXED_WINDOW, 0, 0 },
	{ "10PerMin", 10, MS_MIN, NULL, THROTTLE_FIXED_WINDOW, 0, 0 },
	{ "20PerMin", 20, MS_MIN, NULL, THROTTLE_FIXED_WINDOW, 0, 0 },
	{ "50PerMin", 50, MS_MIN, NULL, THROTTLE_FIXED_WINDOW, 0, 0 },
	{ "Gold", 5000, MS_MIN, NULL, THROTTLE_FIXED_WINDOW, 0, 0 },
	{ "Silver", 2000, MS_MIN, NULL, THROTTLE_FIXED_WINDOW, 0, 0 },
	{ "Bronze", 1000, MS_MIN, NULL, THROTTLE_FIXED_WINDOW, 0, 0 },
	{ "Unauthenticated", 500, MS_MIN, NULL, THROTTLE_FIXED_WINDOW, 0, 0 },
	{ "Unlimited", 0, MS_MIN, NULL, THROTTLE_FIXED_WINDOW, 0, 0 },
	{ NULL, 0, 0, NULL, 0, 0, 0 }
};

/*
 * The built-in policy called name, matched exactly (policy names are
 * case-sensitive, as in WSO2), or NULL.  Unlimited comes back with
 * p_requests 0.  Any process.
 */
const struct conf_policy *
conf_policy_builtin(const char *name)
{
	const struct conf_policy	*p;

	if (name == NULL)
		return (NULL);
	for (p = conf_policy_builtins; p->p_name != NULL; p++) {
		if (strcmp(p->p_name, name) == 0)
			return (p);
	}
	return (NULL);
}

/*
 * Resolve a policy reference: conf's own policies first (conf may be
 * NULL, and items whose name failed to parse are skipped), then the
 * built-ins.  NULL if name is unknown.  Any process.
 */
const struct conf_policy *
conf_policy_find(const struct mgw_conf *conf, const char *name)
{
	size_t	 i;

	if (name == NULL)
		return (NULL);
	for (i = 0; conf != NULL && conf->c_policies != NULL &&
	    i < conf->c_npolicies; i++) {
		if (conf->c_policies[i].p_name != NULL &&
		    strcmp(conf->c_policies[i].p_name, name) == 0)
			return (&conf->c_policies[i]);
	}
	return (conf_policy_builtin(name));
}
