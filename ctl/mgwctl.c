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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib.h"
#include "ctl-msg.h"
#include "ctl.h"

#define MGWCTL_SOCKET		RUNSTATEDIR "/mgw/mgwd.sock"
#define MGWCTL_TIMEOUT		60	/* seconds to wait for the answer */

static void	usage(void) __attribute__((noreturn));
static int	mgwctl_connect(const char *, char **);
static int	mgwctl_ask(const char *, uint32_t, const void *, size_t,
		    struct ctl_hdr *, char **, char **);
static void	mgwctl_verbs(const char *);
static void	mgwctl_print_fail(const char *, const char *);

/*
 * The plugins' commands, as mgwd listed them, or the built-in plugins'
 * when it could not be asked; NULL: not asked yet.
 */
static const struct ctl_verb *verbs;
static size_t		 nverbs;
static const char	*mgwctl_path;	/* the control socket */

static void
usage(void)
{
	/*
	 * Quietly: a usage message names the running mgwd's plugins'
	 * commands if it can, else the built-in plugins' (a bad option
	 * comes before the socket is known).
	 */
	if (verbs == NULL && mgwctl_path != NULL)
		mgwctl_verbs(mgwctl_path);
	else if (verbs == NULL)
		verbs = ctl_parse_builtin_verbs(&nverbs);
	fprintf(stderr, "usage: mgwctl [-s socket] command [argument ...]\n");
	fprintf(stderr, "commands:\n");
	ctl_parse_commands(stderr, verbs, nverbs);
	exit(1);
}

/* Connect to path: the socket, or -1 with *why (malloc'd). */
static int
mgwctl_connect(const char *path, char **why)
{
	struct sockaddr_un	 sun;
	struct timeval		 tv = { MGWCTL_TIMEOUT, 0 };
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		xasprintf(why, "socket path too long: %s", path);
		return (-1);
	}
	memcpy(sun.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		xasprintf(why, "socket: %s", strerror(errno));
		return (-1);
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		xasprintf(why, "cannot connect to %s: %s (is mgwd running?)",
		    path, strerror(errno));
		close(fd);
		return (-1);
	}
	/*
	 * A reload answers only once the new workers are ready, so the wait
	 * is long, but a wedged master must not hang scripts for ever.
	 */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == -1) {
		xasprintf(why, "setsockopt: %s", strerror(errno));
		close(fd);
		return (-1);
	}
	return (fd);
}

/*
 * One exchange on a connection of its own: HELLO, one message of type,
 * and the one answer in *hdr and *answer (malloc'd).  0, or -1 with *why
 * (malloc'd) saying what went wrong.
 */
static int
mgwctl_ask(const char *path, uint32_t type, const void *payload, size_t len,
    struct ctl_hdr *hdr, char **answer, char **why)
{
	char	 version[16];
	int	 fd;

	if ((fd = mgwctl_connect(path, why)) == -1)
		return (-1);
	snprintf(version, sizeof(version), "%d", CTL_PROTOCOL_VERSION);
	if (ctl_msg_write(fd, CTL_HELLO, version, strlen(version)) == -1 ||
	    ctl_msg_write(fd, type, payload, len) == -1) {
		xasprintf(why, "write to %s: %s", path, strerror(errno));
		close(fd);
		return (-1);
	}
	if (ctl_msg_read(fd, hdr, answer) == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			xasprintf(why, "no answer from mgwd within %d s",
			    MGWCTL_TIMEOUT);
		else if (errno == ECONNRESET)
			xasprintf(why, "mgwd closed the connection without "
			    "an answer");
		else if (errno == EPROTO)
			xasprintf(why, "malformed answer from mgwd");
		else
			xasprintf(why, "read from %s: %s", path,
			    strerror(errno));
		close(fd);
		return (-1);
	}
	close(fd);
	return (0);
}

/*
 * Ask mgwd for its plugins' commands ("name<TAB>usage" lines) into
 * verbs.  When it cannot be asked, the built-in plugins' commands stand
 * in, so that a plugin's command goes on to report the connection
 * failure and a typo is still an unknown command.
 */
static void
mgwctl_verbs(const char *path)
{
	struct ctl_hdr	 hdr;
	struct ctl_verb	*v;
	char		*answer, *line, *next, *tab, *why = NULL;

	if (mgwctl_ask(path, CTL_VERBS, "", 0, &hdr, &answer, &why) == -1) {
		free(why);
		verbs = ctl_parse_builtin_verbs(&nverbs);
		return;
	}
	if (hdr.type != CTL_OK) {
		free(answer);
		verbs = ctl_parse_builtin_verbs(&nverbs);
		return;
	}
	v = xcalloc(1, sizeof(*v));
	for (line = answer; *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		else
			next = line + strlen(line);
		if ((tab = strchr(line, '\t')) == NULL)
			continue;
		*tab = '\0';
		v = xreallocarray(v, nverbs + 1, sizeof(*v));
		v[nverbs].cv_name = xstrdup(line);
		v[nverbs].cv_usage = xstrdup(tab + 1);
		nverbs++;
	}
	verbs = v;
	free(answer);
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

int
main(int argc, char *argv[])
{
	struct ctl_parse_result	 res;
	struct ctl_hdr		 hdr;
	const char		*path = NULL, *env, *payload;
	char			*cause = NULL, *answer, *why = NULL;
	char			*words = NULL;
	size_t			 len, n;
	int			 ch, i;

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
	if (path == NULL) {
		env = getenv("MGWCTL_SOCKET");
		path = (env != NULL && *env != '\0') ? env : MGWCTL_SOCKET;
	}
	mgwctl_path = path;
	if (argc == 0)
		usage();
	/* Only a word that is not ours needs the plugins' commands. */
	if (!ctl_parse_core(argv[0]))
		mgwctl_verbs(path);
	if (ctl_parse(argc, argv, verbs, nverbs, &res, &cause) == -1) {
		fprintf(stderr, "mgwctl: %s\n", cause);
		free(cause);
		usage();
	}

	payload = res.payload;
	len = strlen(res.payload);
	if (res.msg == CTL_VERB) {
		/* The verb and its words, each ended by a NUL. */
		len = strlen(res.command) + 1;
		for (i = 0; i < res.vargc; i++)
			len += strlen(res.vargv[i]) + 1;
		words = xmalloc(len);
		n = strlen(res.command) + 1;
		memcpy(words, res.command, n);
		for (i = 0; i < res.vargc; i++) {
			memcpy(words + n, res.vargv[i],
			    strlen(res.vargv[i]) + 1);
			n += strlen(res.vargv[i]) + 1;
		}
		payload = words;
	}
	if (mgwctl_ask(path, res.msg, payload, len, &hdr, &answer,
	    &why) == -1) {
		fprintf(stderr, "mgwctl: %s\n", why);
		exit(1);
	}
	free(words);

	switch (hdr.type) {
	case CTL_OK:
		len = strlen(answer);
		if (len > 0) {
			fputs(answer, stdout);
			if (answer[len - 1] != '\n')
				fputc('\n', stdout);
		}
		free(answer);
		if (fflush(stdout) == EOF || ferror(stdout)) {
			fprintf(stderr, "mgwctl: stdout: %s\n",
			    strerror(errno));
			exit(1);
		}
		exit(0);
	case CTL_FAIL:
		mgwctl_print_fail(res.command, answer);
		free(answer);
		exit(1);
	default:
		fprintf(stderr, "mgwctl: unexpected answer from mgwd: %s\n",
		    ctl_type_name(hdr.type));
		free(answer);
		exit(1);
	}
}
