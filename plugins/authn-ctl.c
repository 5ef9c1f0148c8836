/*
 * authn-ctl.c: the authentication plugin's control verbs, run by the
 * master for mgwctl: "revoke JTI|sha256:HASH [until]" adds to the
 * revocation list in shared memory (and its file), "revocations" lists
 * it.  Workers see a revocation on their next request; nothing is sent
 * to them.
 */
#include "config.h"

#include <sys/types.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "lib.h"
#include "shm.h"
#include <mgw/plugin.h>
#include "authn.h"

static int	ac_until(const char *, long long *);
static int	ac_revoke(void *, int, char **, struct mgw_buf *, char **);
static int	ac_revocations(void *, int, char **, struct mgw_buf *,
		    char **);

const struct mgw_ctl_verb authn_ctl_verbs[] = {
	{ "revoke", "revoke JTI|sha256:HASH [until]", ac_revoke },
	{ "revocations", "revocations", ac_revocations },
	{ NULL, NULL, NULL }
};

/*
 * The until of mgwctl revoke as Unix seconds in *until: a duration from
 * now ("90m", "24h", "7d"), Unix seconds, or "YYYY-MM-DDTHH:MM:SSZ".
 * Whether it is in the past is for revoke_add() to say.  0, or -1 if s
 * is none of those.
 */
static int
ac_until(const char *s, long long *until)
{
	struct tm	 tm;
	const char	*p;
	char		*end;
	long long	 n, mult;
	time_t		 t;

	if (*s < '0' || *s > '9')
		return (-1);
	errno = 0;
	n = strtoll(s, &end, 10);
	if (errno != 0)
		return (-1);
	if (*end == '\0') {
		*until = n;
		return (0);
	}
	if (end[1] == '\0') {
		switch (*end) {
		case 's':
			mult = 1;
			break;
		case 'm':
			mult = 60;
			break;
		case 'h':
			mult = 3600;
			break;
		case 'd':
			mult = 86400;
			break;
		case 'w':
			mult = 7 * 86400;
			break;
		default:
			return (-1);
		}
		if (n > (LLONG_MAX - (long long)time(NULL)) / mult)
			return (-1);
		*until = (long long)time(NULL) + n * mult;
		return (0);
	}
	memset(&tm, 0, sizeof(tm));
	if ((p = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm)) == NULL ||
	    *p != '\0' || (t = timegm(&tm)) == (time_t)-1)
		return (-1);
	*until = (long long)t;
	return (0);
}

/*
 * mgwctl revoke WHAT [UNTIL]: answers "revoked WHAT until ISO-TIME" or
 * "... until forever".  A revocation that holds but could not be written
 * to the file fails too, so that scripts notice.  Master only.
 */
static int
ac_revoke(void *state, int argc, char **argv, struct mgw_buf *out,
    char **cause)
{
	struct tm	 tm;
	char		*what, when[32];
	long long	 until = 0;
	time_t		 t;
	size_t		 i;

	if (argc < 1) {
		xasprintf(cause, "missing argument after revoke");
		return (-1);
	}
	if (argc > 2) {
		xasprintf(cause, "unexpected argument: %s", argv[2]);
		return (-1);
	}
	if (*argv[0] == '\0' || strpbrk(argv[0], " \t\r\n") != NULL) {
		xasprintf(cause, "revoke: want a jti without spaces or "
		    "sha256:HASH");
		return (-1);
	}
	if (argc > 1 && ac_until(argv[1], &until) == -1) {
		xasprintf(cause, "revoke: bad until \"%s\": want a duration "
		    "(90m, 24h, 7d), Unix seconds or YYYY-MM-DDTHH:MM:SSZ",
		    argv[1]);
		return (-1);
	}
	if (revoke_add(argv[0], (int64_t)until, authn_revocation_file(state),
	    cause) == -1) {
		log_warnx("revoke: %s", *cause);
		return (-1);
	}
	/* The hash as stored and listed: lowercase. */
	what = xstrdup(argv[0]);
	if (strncasecmp(what, "sha256:", 7) == 0)
		for (i = 0; what[i] != '\0'; i++)
			what[i] = (char)tolower((unsigned char)what[i]);
	t = (time_t)until;
	if (until == 0)
		snprintf(when, sizeof(when), "forever");
	else if (gmtime_r(&t, &tm) == NULL || strftime(when, sizeof(when),
	    "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(when, sizeof(when), "%lld", until);
	log_info("revoked %s until %s (mgwctl)", what, when);
	(void)mgw_buf_printf(out, "revoked %s until %s", what, when);
	free(what);
	return (0);
}

/* mgwctl revocations: "what until" lines.  Master only. */
static int
ac_revocations(void *state, int argc, char **argv, struct mgw_buf *out,
    char **cause)
{
	char	*text;
	int	 rv;

	(void)state;
	if (argc > 0) {
		xasprintf(cause, "unexpected argument: %s", argv[0]);
		return (-1);
	}
	text = revoke_list();
	rv = mgw_buf_add(out, text, strlen(text));
	free(text);
	if (rv == -1)
		*cause = xstrdup("out of memory");
	return (rv);
}
