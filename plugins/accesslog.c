/*
 * accesslog.c: the access log, per listener, in nginx's combined format
 * or as one JSON object per line.  Each distinct file is opened once per
 * worker with O_APPEND and every line goes out in one write(2), so lines
 * from several workers and listeners never interleave.  All files are
 * reopened on SIGUSR1 so logrotate can move them away.
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
#include "throttle.h"
#include <mgw/plugin.h>

/*
 * Largest JSON value, quotes and escapes included, written for a field.
 * A longer value is cut (still valid JSON) rather than split the line;
 * the sum of these plus the keys stays below ACCESSLOG_LINE_MAX, so a
 * line is always complete.
 */
#define ACCESSLOG_URI_MAX	4096
#define ACCESSLOG_HDR_MAX	1024	/* Referer, User-Agent */
#define ACCESSLOG_FIELD_MAX	256	/* every other string */
#define ACCESSLOG_NAME_MAX	64	/* the core's names, with NUL */
#define ACCESSLOG_LINE_MAX	12288
#define ACCESSLOG_COMBINED_MAX	8192	/* a combined line, newline included */

/* One distinct file, shared by the listeners that log to it. */
struct accesslog_file {
	char			*f_path;
	int			 f_fd;		/* worker only; -1 in master */
	int			 f_json;	/* JSON lines, else combined */
	int			 f_failing;	/* last write failed, logged */
};

struct accesslog {
	const struct mgw_conf	*al_conf;	/* this generation's */
	struct accesslog_file	*al_files;
	size_t			 al_nfiles;
	int			*al_lfile;	/* per listener: file, -1 off */
};

/* A line being built; ln_len never exceeds sizeof(al_buf) - 1. */
struct accesslog_line {
	char			 ln_buf[ACCESSLOG_LINE_MAX];
	size_t			 ln_len;
};

static int	accesslog_open(const char *);
static int	accesslog_conf(const struct mgw_conf *, void **, char **);
static int	accesslog_init_worker(void *, char **);
static void	accesslog_reopen(void *);
static void	accesslog_fini(void *);
static void	accesslog_log(void *, struct mgw_request *);
static void	accesslog_write(struct accesslog_file *, const char *, size_t);
static size_t	accesslog_escape(char *, size_t, const char *, size_t);
static int	accesslog_combined(struct mgw_request *, char *, size_t);
static void	accesslog_cat(struct accesslog_line *, const char *, size_t);
static void	accesslog_str(struct accesslog_line *, const char *,
		    const char *, size_t, size_t);
static void	accesslog_cstr(struct accesslog_line *, const char *,
		    const char *);
static void	accesslog_raw(struct accesslog_line *, const char *,
		    const char *);
static void	accesslog_secs(struct accesslog_line *, const char *,
		    uint64_t);
static const char *accesslog_time(uint64_t);
static const char *accesslog_consumer(const struct mgw_conf *,
		    struct mgw_request *, char *, size_t);
static void	accesslog_json(const struct mgw_conf *, struct mgw_request *,
		    struct accesslog_line *);

static int
accesslog_open(const char *path)
{
	return (open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640));
}

/*
 * Master: resolve each listener's file and format, and refuse the config
 * now, with the reason, when a file cannot be opened or when two
 * listeners would write different formats into one file (a JSON shipper
 * would choke on the combined lines).  Files are compared by inode, so
 * two spellings of one path share it.
 */
static int
accesslog_conf(const struct mgw_conf *conf, void **state, char **cause)
{
	struct accesslog	*al;
	struct accesslog_file	*f;
	struct stat		*sts = NULL, st;
	const char		*path, *lname;
	size_t			 i, j, nl;
	uid_t			 uid;
	gid_t			 gid;
	int			 fd, chown_to, own, json;

	al = xcalloc(1, sizeof(*al));
	al->al_conf = conf;
	nl = mgw_conf_nlisteners(conf);
	al->al_lfile = xcalloc(nl + 1, sizeof(*al->al_lfile));
	al->al_files = xcalloc(nl + 1, sizeof(*al->al_files));
	sts = xcalloc(nl + 1, sizeof(*sts));
	chown_to = mgw_conf_worker_ids(conf, &uid, &gid) == 0;
	for (i = 0; i < nl; i++) {
		lname = mgw_listener_name(conf, i);
		al->al_lfile[i] = -1;
		path = mgw_listener_access_log(conf, i, &own, &json);
		if (path == NULL || strcmp(path, "off") == 0)
			continue;
		if ((fd = accesslog_open(path)) == -1 ||
		    fstat(fd, &st) == -1) {
			if (own)
				xasprintf(cause, "%s: listener '%s': "
				    "access_log %s: %s", mgw_conf_file(conf),
				    lname, path, strerror(errno));
			else
				xasprintf(cause, "%s: access_log %s: %s",
				    mgw_conf_file(conf), path,
				    strerror(errno));
			if (fd != -1)
				close(fd);
			goto fail;
		}
		/* The workers reopen it as themselves after a rotation. */
		if (chown_to && fchown(fd, uid, gid) == -1)
			log_warn("chown %s", path);
		close(fd);
		for (j = 0; j < al->al_nfiles; j++) {
			if (sts[j].st_dev == st.st_dev &&
			    sts[j].st_ino == st.st_ino)
				break;
		}
		if (j < al->al_nfiles) {
			f = &al->al_files[j];
			if (f->f_json != json) {
				xasprintf(cause, "%s: listener '%s': "
				    "access_log %s is already written in "
				    "another format by another listener",
				    mgw_conf_file(conf), lname, path);
				goto fail;
			}
			al->al_lfile[i] = (int)j;
			continue;
		}
		f = &al->al_files[al->al_nfiles];
		f->f_path = xstrdup(path);
		f->f_fd = -1;
		f->f_json = json;
		sts[al->al_nfiles] = st;
		al->al_lfile[i] = (int)al->al_nfiles++;
	}
	free(sts);
	*state = al;
	return (MGW_OK);

fail:
	free(sts);
	accesslog_fini(al);
	return (MGW_ERROR);
}

static int
accesslog_init_worker(void *state, char **cause)
{
	struct accesslog	*al = state;
	struct accesslog_file	*f;
	size_t			 i;

	if (al == NULL)
		return (MGW_OK);
	for (i = 0; i < al->al_nfiles; i++) {
		f = &al->al_files[i];
		if ((f->f_fd = accesslog_open(f->f_path)) == -1) {
			xasprintf(cause, "access_log %s: %s", f->f_path,
			    strerror(errno));
			return (MGW_ERROR);
		}
	}
	return (MGW_OK);
}

/*
 * Worker, on SIGUSR1.  A file that cannot be reopened keeps its old
 * descriptor: lines keep going to the moved file rather than nowhere.
 */
static void
accesslog_reopen(void *state)
{
	struct accesslog	*al = state;
	struct accesslog_file	*f;
	size_t			 i;
	int			 fd;

	if (al == NULL)
		return;
	for (i = 0; i < al->al_nfiles; i++) {
		f = &al->al_files[i];
		if ((fd = accesslog_open(f->f_path)) == -1) {
			log_warn("access_log %s: reopen", f->f_path);
			continue;
		}
		if (f->f_fd != -1)
			close(f->f_fd);
		f->f_fd = fd;
		f->f_failing = 0;
	}
}

static void
accesslog_fini(void *state)
{
	struct accesslog	*al = state;
	size_t			 i;

	if (al == NULL)
		return;
	for (i = 0; i < al->al_nfiles; i++) {
		if (al->al_files[i].f_fd != -1)
			close(al->al_files[i].f_fd);
		free(al->al_files[i].f_path);
	}
	free(al->al_files);
	free(al->al_lfile);
	free(al);
}

/*
 * One write(2) per line: O_APPEND makes each one land whole at the end.
 * A failing file (disk full) is logged when it starts failing and when it
 * recovers, not once per request.
 */
static void
accesslog_write(struct accesslog_file *f, const char *line, size_t len)
{
	ssize_t	 n;

	if (f->f_fd == -1)
		return;
	n = write(f->f_fd, line, len);
	if (n == -1 || (size_t)n != len) {
		if (!f->f_failing) {
			if (n == -1)
				log_warn("access_log %s: write", f->f_path);
			else
				log_warnx("access_log %s: short write",
				    f->f_path);
			f->f_failing = 1;
		}
		return;
	}
	if (f->f_failing) {
		log_info("access_log %s: writing again", f->f_path);
		f->f_failing = 0;
	}
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

/* The combined line into line (size bytes); its length, or -1. */
static int
accesslog_combined(struct mgw_request *r, char *line, size_t size)
{
	char			 tbuf[64];
	char			 uri[2048], ref[1024], ua[1024];
	const char		*v;
	size_t			 len, ul, rl = 1, al2 = 1;
	time_t			 t;
	struct tm		 tm;
	int			 n;

	t = (time_t)(mgw_request_start_ms(r) / 1000);
	localtime_r(&t, &tm);
	strftime(tbuf, sizeof(tbuf), "%d/%b/%Y:%H:%M:%S %z", &tm);
	v = mgw_request_log_uri(r, &len);
	ul = accesslog_escape(uri, sizeof(uri), v, len);
	if ((v = mgw_request_header(r, "Referer", &len)) != NULL)
		rl = accesslog_escape(ref, sizeof(ref), v, len);
	else
		ref[0] = '-';
	if ((v = mgw_request_header(r, "User-Agent", &len)) != NULL)
		al2 = accesslog_escape(ua, sizeof(ua), v, len);
	else
		ua[0] = '-';
	n = snprintf(line, size,
	    "%s - - [%s] \"%s %.*s HTTP/1.%d\" %d %llu \"%.*s\" \"%.*s\"\n",
	    mgw_request_client_addr(r), tbuf, mgw_request_method(r),
	    (int)ul, uri, mgw_request_http_minor(r), mgw_response_status(r),
	    (unsigned long long)mgw_response_bytes_out(r), (int)rl, ref,
	    (int)al2, ua);
	if (n < 0)
		return (-1);
	if ((size_t)n >= size) {
		n = size - 1;
		line[n - 1] = '\n';
	}
	return (n);
}

static void
accesslog_cat(struct accesslog_line *ln, const char *s, size_t len)
{
	if (len > sizeof(ln->ln_buf) - 1 - ln->ln_len)
		len = sizeof(ln->ln_buf) - 1 - ln->ln_len;
	memcpy(ln->ln_buf + ln->ln_len, s, len);
	ln->ln_len += len;
}

/*
 * Append ,"key":value with value the JSON string of s (len bytes), at
 * most max bytes of it, or null when s is NULL.  key is trusted text.
 */
static void
accesslog_str(struct accesslog_line *ln, const char *key, const char *s,
    size_t len, size_t max)
{
	size_t	 room, out;

	accesslog_raw(ln, key, NULL);
	if (s == NULL) {
		accesslog_cat(ln, "null", 4);
		return;
	}
	/*
	 * At most max bytes of the field, escaped into at most max bytes:
	 * util_json_escape() turns bytes that are not UTF-8 into U+FFFD, so
	 * the line stays JSON whatever the client sent.
	 */
	if (len > max)
		len = max;
	room = sizeof(ln->ln_buf) - 1 - ln->ln_len;
	out = max + 1 < room ? max + 1 : room;
	ln->ln_len += util_json_escape(ln->ln_buf + ln->ln_len, out, s, len);
}

static void
accesslog_cstr(struct accesslog_line *ln, const char *key, const char *s)
{
	/* An empty string is as absent as a NULL one (no id, no name). */
	if (s != NULL && *s == '\0')
		s = NULL;
	accesslog_str(ln, key, s, s != NULL ? strlen(s) : 0,
	    ACCESSLOG_FIELD_MAX);
}

/* Append ,"key": and then v as is, unless v is NULL. */
static void
accesslog_raw(struct accesslog_line *ln, const char *key, const char *v)
{
	if (ln->ln_len > 1)
		accesslog_cat(ln, ",", 1);
	accesslog_cat(ln, "\"", 1);
	accesslog_cat(ln, key, strlen(key));
	accesslog_cat(ln, "\":", 2);
	if (v != NULL)
		accesslog_cat(ln, v, strlen(v));
}

/* Append ,"key":seconds with three decimals from microseconds. */
static void
accesslog_secs(struct accesslog_line *ln, const char *key, uint64_t us)
{
	char	 num[32];
	uint64_t ms = us / 1000;

	snprintf(num, sizeof(num), "%llu.%03llu",
	    (unsigned long long)(ms / 1000), (unsigned long long)(ms % 1000));
	accesslog_raw(ln, key, num);
}

/*
 * RFC 3339 local time with milliseconds and the UTC offset, as
 * "2024-05-01T14:03:07.123+02:00".  The date part changes once a second,
 * so it is formatted once a second (localtime_r is not free).
 */
static const char *
accesslog_time(uint64_t ms)
{
	static char	 date[40], zone[8], out[64];
	static time_t	 last = -1;
	struct tm	 tm;
	time_t		 t = (time_t)(ms / 1000);
	long		 off;

	if (t != last) {
		localtime_r(&t, &tm);
		strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
		off = tm.tm_gmtoff < 0 ? -tm.tm_gmtoff : tm.tm_gmtoff;
		snprintf(zone, sizeof(zone), "%c%02d:%02d",
		    tm.tm_gmtoff < 0 ? '-' : '+', (int)(off / 3600 % 100),
		    (int)(off % 3600 / 60));
		last = t;
	}
	snprintf(out, sizeof(out), "%s.%03u%s", date,
	    (unsigned int)(ms % 1000), zone);
	return (out);
}

/*
 * Who called: the authenticated consumer, else (as the throttle does
 * until authentication exists) the configured consumer header, but only
 * when it names a configured consumer, so the log shows no invented names.
 */
static const char *
accesslog_consumer(const struct mgw_conf *conf, struct mgw_request *r,
    char *buf, size_t size)
{
	const struct throttle_conf_throttling *tt;
	const char	*v, *name;
	size_t		 len, i;

	if ((v = mgw_request_consumer(r)) != NULL)
		return (v);
	tt = &throttle_conf(conf)->tc_throttling;
	if (tt->t_consumer_header == NULL ||
	    (v = mgw_request_header(r, tt->t_consumer_header,
	    &len)) == NULL || len == 0 || len >= size)
		return (NULL);
	for (i = 0; i < mgw_conf_nconsumers(conf); i++) {
		name = mgw_consumer_name(mgw_conf_consumer(conf, i));
		if (strlen(name) == len && memcmp(name, v, len) == 0) {
			memcpy(buf, v, len);
			buf[len] = '\0';
			return (buf);
		}
	}
	return (NULL);
}

/* The JSON object for r, without the newline. */
static void
accesslog_json(const struct mgw_conf *conf, struct mgw_request *r,
    struct accesslog_line *ln)
{
	char		 num[32], cbuf[ACCESSLOG_NAME_MAX * 2];
	const char	*v;
	size_t		 len;
	uint64_t	 up;
	int		 li;

	ln->ln_len = 0;
	accesslog_cat(ln, "{", 1);
	accesslog_cstr(ln, "time", accesslog_time(mgw_request_start_ms(r)));
	accesslog_cstr(ln, "remote_addr", mgw_request_client_addr(r));
	accesslog_cstr(ln, "client_ip", mgw_request_client_ip(r));
	accesslog_cstr(ln, "request_id", mgw_request_id(r));
	/* A request refused before its line was parsed has neither. */
	v = mgw_request_method(r);
	accesslog_cstr(ln, "method", v != NULL && strcmp(v, "-") != 0 ? v :
	    NULL);
	v = mgw_request_log_uri(r, &len);
	accesslog_str(ln, "uri", len > 0 ? v : NULL, len, ACCESSLOG_URI_MAX);
	snprintf(num, sizeof(num), "\"HTTP/1.%d\"", mgw_request_http_minor(r));
	accesslog_raw(ln, "protocol", num);
	snprintf(num, sizeof(num), "%d", mgw_response_status(r));
	accesslog_raw(ln, "status", num);
	snprintf(num, sizeof(num), "%llu",
	    (unsigned long long)mgw_request_bytes_in(r));
	accesslog_raw(ln, "bytes_in", num);
	snprintf(num, sizeof(num), "%llu",
	    (unsigned long long)mgw_response_bytes_out(r));
	accesslog_raw(ln, "bytes_out", num);
	v = mgw_request_header(r, "Referer", &len);
	accesslog_str(ln, "referer", v, len, ACCESSLOG_HDR_MAX);
	v = mgw_request_user_agent(r, &len);
	accesslog_str(ln, "user_agent", v, len, ACCESSLOG_HDR_MAX);
	accesslog_cstr(ln, "api", mgw_request_api(r));
	accesslog_cstr(ln, "api_version", mgw_request_api_version(r));
	accesslog_cstr(ln, "resource", mgw_request_resource_path(r));
	accesslog_cstr(ln, "consumer",
	    accesslog_consumer(conf, r, cbuf, sizeof(cbuf)));
	accesslog_cstr(ln, "upstream", mgw_request_upstream(r));
	if ((up = mgw_request_upstream_us(r)) != 0)
		accesslog_secs(ln, "upstream_time", up);
	else
		accesslog_raw(ln, "upstream_time", "null");
	accesslog_secs(ln, "request_time", mgw_request_duration_us(r));
	accesslog_cstr(ln, "error_code", mgw_request_error_code(r));
	li = mgw_request_listener(r);
	accesslog_cstr(ln, "listener", li >= 0 ?
	    mgw_listener_name(conf, (size_t)li) : NULL);
	accesslog_cat(ln, "}", 1);
}

static void
accesslog_log(void *state, struct mgw_request *r)
{
	struct accesslog	*al = state;
	struct accesslog_file	*f;
	static struct accesslog_line ln;	/* too big for the stack */
	int			 li, n;

	if (al == NULL)
		return;
	li = mgw_request_listener(r);
	if (li < 0 || (size_t)li >= mgw_conf_nlisteners(al->al_conf) ||
	    al->al_lfile[li] == -1)
		return;
	f = &al->al_files[al->al_lfile[li]];
	if (f->f_fd == -1)
		return;
	if (f->f_json) {
		accesslog_json(al->al_conf, r, &ln);
		/* ln_len < sizeof(ln_buf) always leaves room for it. */
		ln.ln_buf[ln.ln_len++] = '\n';
		accesslog_write(f, ln.ln_buf, ln.ln_len);
		return;
	}
	/* nginx's combined lines have always been cut at 8 KB. */
	if ((n = accesslog_combined(r, ln.ln_buf, ACCESSLOG_COMBINED_MAX)) > 0)
		accesslog_write(f, ln.ln_buf, (size_t)n);
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
