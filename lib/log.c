/*
 * log.c: the error log, in relayd's API.  Messages go to stderr in the
 * foreground, else to a file opened O_APPEND (reopened on SIGUSR1) or to
 * syslog.  Each line carries a timestamp, the process name and pid.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "lib.h"

static int	 log_target = LOG_TO_STDERR;
static int	 log_verbose;
static int	 log_fd = -1;
static char	*log_path;
static char	 log_proc[32] = "mgwd";

/*
 * Start logging: in debug mode to stderr, otherwise to stderr until
 * log_open_file() names the real destination.
 */
void
log_init(int debug, int verbose)
{
	log_target = LOG_TO_STDERR;
	log_verbose = verbose;
	(void)debug;
	tzset();
}

/*
 * Direct the log to "stderr", "syslog" or a file path.  Returns 0, or -1
 * with *cause if the file cannot be opened (the old target stays).
 */
int
log_open_file(const char *where, char **cause)
{
	int	 fd;

	if (where == NULL || strcmp(where, "stderr") == 0) {
		log_target = LOG_TO_STDERR;
		return (0);
	}
	if (strcmp(where, "syslog") == 0) {
		openlog("mgwd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
		log_target = LOG_TO_SYSLOG;
		return (0);
	}
	fd = open(where, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd == -1) {
		if (cause != NULL)
			xasprintf(cause, "error_log %s: %s", where,
			    strerror(errno));
		return (-1);
	}
	if (log_fd != -1)
		close(log_fd);
	log_fd = fd;
	free(log_path);
	log_path = xstrdup(where);
	log_target = LOG_TO_FILE;
	return (0);
}

/* SIGUSR1: logrotate moved the file away; open the path again. */
int
log_reopen(void)
{
	int	 fd;

	if (log_target != LOG_TO_FILE || log_path == NULL)
		return (0);
	fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd == -1)
		return (-1);
	dup2(fd, log_fd);
	close(fd);
	return (0);
}

void
log_setverbose(int v)
{
	log_verbose = v;
}

int
log_getverbose(void)
{
	return (log_verbose);
}

void
log_procinit(const char *name)
{
	if (name != NULL)
		snprintf(log_proc, sizeof(log_proc), "%s", name);
}

void
vlog(int pri, const char *fmt, va_list ap)
{
	char		 msg[2048], line[2200];
	struct timespec	 ts;
	struct tm	 tm;
	int		 n, fd;
	const char	*lvl;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_target == LOG_TO_SYSLOG) {
		syslog(pri, "%s: %s", log_proc, msg);
		return;
	}
	switch (pri) {
	case LOG_CRIT:
		lvl = "crit";
		break;
	case LOG_ERR:
		lvl = "error";
		break;
	case LOG_WARNING:
		lvl = "warn";
		break;
	case LOG_INFO:
		lvl = "info";
		break;
	default:
		lvl = "debug";
		break;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	n = snprintf(line, sizeof(line),
	    "%04d-%02d-%02d %02d:%02d:%02d.%03ld [%s] %s[%ld]: %s\n",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, lvl, log_proc,
	    (long)getpid(), msg);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	fd = (log_target == LOG_TO_FILE && log_fd != -1) ? log_fd :
	    STDERR_FILENO;
	/* One write per line so workers sharing the file do not interleave. */
	(void)!write(fd, line, n);
}

void
log_warn(const char *emsg, ...)
{
	char	 msg[1536];
	va_list	 ap;
	int	 saved_errno = errno;

	va_start(ap, emsg);
	vsnprintf(msg, sizeof(msg), emsg, ap);
	va_end(ap);
	log_warnx("%s: %s", msg, strerror(saved_errno));
	errno = saved_errno;
}

void
log_warnx(const char *emsg, ...)
{
	va_list	 ap;

	va_start(ap, emsg);
	vlog(LOG_ERR, emsg, ap);
	va_end(ap);
}

void
log_info(const char *emsg, ...)
{
	va_list	 ap;

	va_start(ap, emsg);
	vlog(LOG_INFO, emsg, ap);
	va_end(ap);
}

void
log_debug(const char *emsg, ...)
{
	va_list	 ap;

	if (log_verbose > 0) {
		va_start(ap, emsg);
		vlog(LOG_DEBUG, emsg, ap);
		va_end(ap);
	}
}

static void __attribute__((noreturn)) __attribute__((format(printf, 2, 0)))
vfatalc(int code, const char *emsg, va_list ap)
{
	char	 s[1024];

	vsnprintf(s, sizeof(s), emsg, ap);
	if (code)
		log_warnx("fatal: %s: %s", s, strerror(code));
	else
		log_warnx("fatal: %s", s);
	exit(1);
}

void
fatal(const char *emsg, ...)
{
	va_list	 ap;

	va_start(ap, emsg);
	vfatalc(errno, emsg, ap);
}

void
fatalx(const char *emsg, ...)
{
	va_list	 ap;

	va_start(ap, emsg);
	vfatalc(0, emsg, ap);
}
