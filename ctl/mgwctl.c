/*
 * mgwctl.c: the control tool.  It connects to the master's control
 * socket, says HELLO, sends one command and prints the one answer.  It is
 * a plain command line program, so it reports with fprintf and exits; the
 * daemon's log.c comes along only for xmalloc's fatalx() on OOM.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib.h"
#include "ctl-msg.h"
#include "ctl.h"

#define MGWCTL_SOCKET		RUNSTATEDIR "/mgw/mgwd.sock"
#define MGWCTL_TIMEOUT		60	/* seconds to wait for the answer */

static void	usage(void) __attribute__((noreturn));
static int	mgwctl_connect(const char *);
static void	mgwctl_print_fail(const char *, const char *);
static int	mgwctl_until(const char *, long long *);
static char	*mgwctl_revoke_payload(const struct ctl_parse_result *);

static void
usage(void)
{
	fprintf(stderr, "usage: mgwctl [-s socket] command [argument ...]\n");
	fprintf(stderr, "commands:\n");
	ctl_parse_commands(stderr);
	exit(1);
}

/* Connect to path or exit with the reason; returns the socket. */
static int
mgwctl_connect(const char *path)
{
	struct sockaddr_un	 sun;
	struct timeval		 tv = { MGWCTL_TIMEOUT, 0 };
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "mgwctl: socket path too long: %s\n", path);
		exit(1);
	}
	memcpy(sun.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		fprintf(stderr, "mgwctl: socket: %s\n", strerror(errno));
		exit(1);
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		fprintf(stderr, "mgwctl: cannot connect to %s: %s "
		    "(is mgwd running?)\n", path, strerror(errno));
		exit(1);
	}
	/*
	 * A reload answers only once the new workers are ready, so the wait
	 * is long, but a wedged master must not hang scripts for ever.
	 */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == -1) {
		fprintf(stderr, "mgwctl: setsockopt: %s\n", strerror(errno));
		exit(1);
	}
	return (fd);
}

/*
 * A one-line cause reads best as "mgwctl: cause"; the config loader's
 * list of errors gets a heading and is printed line by line as it came.
 */
static void
mgwctl_print_fail(const char *command, const char *cause)
{
	size_t	 len = strlen(cause);

	while (len > 0 && cause[len - 1] == '\n')
		len--;
	if (len == 0) {
		fprintf(stderr, "mgwctl: %s failed\n", command);
		return;
	}
	if (memchr(cause, '\n', len) == NULL) {
		fprintf(stderr, "mgwctl: %.*s\n", (int)len, cause);
		return;
	}
	if (strcmp(command, "reload") == 0)
		fprintf(stderr, "mgwctl: reload refused:\n");
	else
		fprintf(stderr, "mgwctl: %s failed:\n", command);
	fprintf(stderr, "%.*s\n", (int)len, cause);
}

/*
 * The until of mgwctl revoke as Unix seconds in *until: a duration from
 * now ("90m", "24h", "7d"), Unix seconds, or "YYYY-MM-DDTHH:MM:SSZ".
 * Whether it is in the past is for the master to say, by its clock.
 * 0, or -1 if s is none of those.
 */
static int
mgwctl_until(const char *s, long long *until)
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

/* "WHAT UNTIL" for CTL_REVOKE, or exit with usage on bad arguments. */
static char *
mgwctl_revoke_payload(const struct ctl_parse_result *res)
{
	const char	*what = res->args[0];
	char		*payload;
	long long	 until = 0;

	if (what == NULL || *what == '\0' ||
	    strpbrk(what, " \t\r\n") != NULL) {
		fprintf(stderr, "mgwctl: revoke: want a jti without spaces "
		    "or sha256:HASH\n");
		usage();
	}
	if (res->nargs > 1 && mgwctl_until(res->args[1], &until) == -1) {
		fprintf(stderr, "mgwctl: revoke: bad until \"%s\": want a "
		    "duration (90m, 24h, 7d), Unix seconds or "
		    "YYYY-MM-DDTHH:MM:SSZ\n", res->args[1]);
		usage();
	}
	xasprintf(&payload, "%s %lld", what, until);
	return (payload);
}

int
main(int argc, char *argv[])
{
	struct ctl_parse_result	 res;
	struct ctl_hdr		 hdr;
	const char		*path = NULL, *env;
	char			 version[16], *cause = NULL, *payload;
	char			*revoke = NULL;
	size_t			 len;
	int			 ch, fd;

	while ((ch = getopt(argc, argv, "s:")) != -1) {
		switch (ch) {
		case 's':
			path = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0)
		usage();
	if (ctl_parse(argc, argv, &res, &cause) == -1) {
		fprintf(stderr, "mgwctl: %s\n", cause);
		free(cause);
		usage();
	}
	if (res.msg == CTL_REVOKE)
		res.payload = revoke = mgwctl_revoke_payload(&res);
	if (path == NULL) {
		env = getenv("MGWCTL_SOCKET");
		path = (env != NULL && *env != '\0') ? env : MGWCTL_SOCKET;
	}

	fd = mgwctl_connect(path);
	snprintf(version, sizeof(version), "%d", CTL_PROTOCOL_VERSION);
	if (ctl_msg_write(fd, CTL_HELLO, version, strlen(version)) == -1 ||
	    ctl_msg_write(fd, res.msg, res.payload,
	    strlen(res.payload)) == -1) {
		fprintf(stderr, "mgwctl: write to %s: %s\n", path,
		    strerror(errno));
		exit(1);
	}
	if (ctl_msg_read(fd, &hdr, &payload) == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			fprintf(stderr, "mgwctl: no answer from mgwd within "
			    "%d s\n", MGWCTL_TIMEOUT);
		else if (errno == ECONNRESET)
			fprintf(stderr, "mgwctl: mgwd closed the connection "
			    "without an answer\n");
		else if (errno == EPROTO)
			fprintf(stderr, "mgwctl: malformed answer from "
			    "mgwd\n");
		else
			fprintf(stderr, "mgwctl: read from %s: %s\n", path,
			    strerror(errno));
		exit(1);
	}
	close(fd);
	free(revoke);

	switch (hdr.type) {
	case CTL_OK:
		len = strlen(payload);
		if (len > 0) {
			fputs(payload, stdout);
			if (payload[len - 1] != '\n')
				fputc('\n', stdout);
		}
		free(payload);
		if (fflush(stdout) == EOF || ferror(stdout)) {
			fprintf(stderr, "mgwctl: stdout: %s\n",
			    strerror(errno));
			exit(1);
		}
		exit(0);
	case CTL_FAIL:
		mgwctl_print_fail(res.command, payload);
		free(payload);
		exit(1);
	default:
		fprintf(stderr, "mgwctl: unexpected answer from mgwd: %s\n",
		    ctl_type_name(hdr.type));
		free(payload);
		exit(1);
	}
}
