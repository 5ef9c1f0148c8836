/*
 * accesslog.c: the access log in the combined format, as nginx writes it.
 * Every worker appends to one file opened O_APPEND, one write(2) per
 * line, so lines from several workers never interleave.  Reopened on
 * SIGUSR1 so logrotate can move the file away.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib.h"
#include "conf-t.h"
#include "plugin.h"

struct accesslog {
	char	*al_path;
	int	 al_fd;
};

static int
accesslog_open(const char *path)
{
	return (open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640));
}

static int
accesslog_conf(const struct mgw_conf *conf, void **state, char **cause)
{
	struct accesslog	*al;
	const char		*path = conf->c_gateway.access_log;
	int			 fd;

	if (path == NULL || strcmp(path, "off") == 0)
		return (MGW_OK);
	/* Refuse the config now rather than lose the log in the workers. */
	if ((fd = accesslog_open(path)) == -1) {
		xasprintf(cause, "%s: access_log %s: %s", conf->c_file, path,
		    strerror(errno));
		return (MGW_ERROR);
	}
	close(fd);
	al = xcalloc(1, sizeof(*al));
	al->al_path = xstrdup(path);
	al->al_fd = -1;
	*state = al;
	return (MGW_OK);
}

static int
accesslog_init_worker(void *state, char **cause)
{
	struct accesslog	*al = state;

	if (al == NULL)
		return (MGW_OK);
	if ((al->al_fd = accesslog_open(al->al_path)) == -1) {
		xasprintf(cause, "access_log %s: %s", al->al_path,
		    strerror(errno));
		return (MGW_ERROR);
	}
	return (MGW_OK);
}

static void
accesslog_reopen(void *state)
{
	struct accesslog	*al = state;
	int			 fd;

	if (al == NULL)
		return;
	if ((fd = accesslog_open(al->al_path)) == -1) {
		log_warn("access_log %s: reopen", al->al_path);
		return;
	}
	if (al->al_fd != -1)
		close(al->al_fd);
	al->al_fd = fd;
}

/* Copy s as nginx escapes log fields: '"', '\\' and non-printables \xHH. */
static size_t
accesslog_escape(char *out, size_t cap, const char *s, size_t len)
{
	static const char	 hex[] = "0123456789ABCDEF";
	size_t			 i, o = 0;
	unsigned char		 ch;

	for (i = 0; i < len && o + 4 < cap; i++) {
		ch = (unsigned char)s[i];
		if (ch == '"' || ch == '\\' || ch < 0x20 || ch > 0x7e) {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[ch >> 4];
			out[o++] = hex[ch & 0xf];
		} else
			out[o++] = ch;
	}
	return (o);
}

static void
accesslog_log(void *state, struct mgw_request *r)
{
	struct accesslog	*al = state;
	char			 line[8192], tbuf[64];
	char			 uri[2048], ref[1024], ua[1024];
	const char		*v;
	size_t			 len, ul, rl = 1, al2 = 1;
	time_t			 t;
	struct tm		 tm;
	int			 n;

	if (al == NULL || al->al_fd == -1)
		return;
	t = (time_t)(mgw_request_start_ms(r) / 1000);
	localtime_r(&t, &tm);
	strftime(tbuf, sizeof(tbuf), "%d/%b/%Y:%H:%M:%S %z", &tm);
	v = mgw_request_uri(r, &len);
	ul = accesslog_escape(uri, sizeof(uri), v, len);
	if ((v = mgw_request_header(r, "Referer", &len)) != NULL)
		rl = accesslog_escape(ref, sizeof(ref), v, len);
	else
		ref[0] = '-';
	if ((v = mgw_request_header(r, "User-Agent", &len)) != NULL)
		al2 = accesslog_escape(ua, sizeof(ua), v, len);
	else
		ua[0] = '-';
	n = snprintf(line, sizeof(line),
	    "%s - - [%s] \"%s %.*s HTTP/1.%d\" %d %llu \"%.*s\" \"%.*s\"\n",
	    mgw_request_client_addr(r), tbuf, mgw_request_method(r),
	    (int)ul, uri, mgw_request_http_minor(r), mgw_response_status(r),
	    (unsigned long long)mgw_response_bytes_out(r), (int)rl, ref,
	    (int)al2, ua);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line)) {
		n = sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	(void)!write(al->al_fd, line, n);
}

static void
accesslog_fini(void *state)
{
	struct accesslog	*al = state;

	if (al == NULL)
		return;
	if (al->al_fd != -1)
		close(al->al_fd);
	free(al->al_path);
	free(al);
}

const struct mgw_plugin plugin_accesslog = {
	.api = MGW_PLUGIN_API,
	.name = "access-log",
	.conf = accesslog_conf,
	.init_worker = accesslog_init_worker,
	.log = accesslog_log,
	.reopen = accesslog_reopen,
	.fini = accesslog_fini,
};
