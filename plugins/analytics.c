/*
 * analytics.c: usage events for metering.  One JSON line per request on
 * the API listeners, written by each worker to its own file in
 * analytics.directory, so no two processes ever share a file or a lock.
 *
 * A worker appends events to a private buffer and writes it with one
 * write(2) when it fills, on a flush_interval timer and at exit.  Its
 * current file is "events-PID.jsonl.tmp"; when it reaches rotate_size, when
 * rotate_interval has passed since its first event, or when the worker
 * exits, it is completed by an atomic rename(2) to
 * "events-STAMP-PID-SEQ.jsonl" (or, compressed by a grandchild process,
 * "....jsonl.gz").  A shipper that reads only *.jsonl and *.jsonl.gz thus
 * sees complete files only, each holding whole lines.
 *
 * The writer holds flock(2) on its .tmp for as long as it is open.  A
 * .tmp or .part that nobody holds belongs to a worker that died (SIGKILL,
 * a crash): the next worker that starts or completes a file finishes it
 * for the dead one, so flushed events always reach a completed file.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <zlib.h>

#include "lib.h"
#include "shm.h"
#include "throttle.h"
#include <mgw/plugin.h>

/*
 * The longest event line.  Every string field has its own cap (below) on
 * its escaped form, and together with the fixed text they stay well under
 * this, so formatting never needs a length check per character.
 */
#define ANALYTICS_LINE_MAX	8192
#define AN_CAP_ID		130
#define AN_CAP_NAME		130	/* api, tier, listener */
#define AN_CAP_SHORT		66	/* version, method, codes */
#define AN_CAP_RESOURCE		514
#define AN_CAP_PATH		2050
#define AN_CAP_CONSUMER		258
#define AN_CAP_IP		66
#define AN_CAP_UA		1026
#define AN_CAP_UPSTREAM		514

/* The longest strings plus the fixed text and five numbers. */
_Static_assert(AN_CAP_ID + 3 * AN_CAP_NAME + 5 * AN_CAP_SHORT +
    AN_CAP_RESOURCE + AN_CAP_PATH + AN_CAP_CONSUMER + AN_CAP_IP + AN_CAP_UA +
    AN_CAP_UPSTREAM + 1024 < ANALYTICS_LINE_MAX, "event line too short");

/*
 * The counts every worker hands over (analytics_report()), summed in the
 * plugin's own zone so that /metrics reads them from any process and they
 * survive reloads: shm_zone_add() keeps the zone, counts and all, while
 * its name, size and layout stay the same.  The workers add per flush,
 * not per event, so one shared line is enough.
 */
#define AN_ZONE		"analytics"
#define AN_ZONE_SIZE	4096	/* rounded up to the page size */
#define AN_ZONE_LAYOUT	1	/* bump on any change to an_counts */

struct an_counts {
	_Atomic uint64_t	 ac_events;	/* written to files */
	_Atomic uint64_t	 ac_dropped;	/* lost: disk full */
	_Atomic uint64_t	 ac_errors;	/* failed writes */
};

#define AN_SCAN_ORPHANS		0x1	/* the dead's files */
#define AN_SCAN_RETENTION	0x2	/* apply max_files and max_age */

/* What a directory entry is, by its name. */
enum analytics_kind {
	AN_K_OTHER = 0,
	AN_K_TMP,		/* events-PID.jsonl.tmp: being written */
	AN_K_PART,		/* events-STAMP-PID-SEQ.jsonl.part: to gzip */
	AN_K_GZTMP,		/* ....jsonl.gz.tmp: being gzipped */
	AN_K_DONE		/* ....jsonl or ....jsonl.gz: completed */
};

struct analytics {
	/* Built by the master at load; read-only in the workers. */
	char		 *an_dir;
	uint64_t	  an_flush_ms;
	size_t		  an_bufsize;	/* bytes: write when full */
	uint64_t	  an_rotate_size;	/* bytes per file at most */
	uint64_t	  an_rotate_ms;	/* 0: by size only */
	int		  an_compress;
	uint32_t	  an_max_files;	/* 0: keep all */
	uint64_t	  an_max_age_ms;	/* 0: keep forever */
	size_t		  an_nlisteners;
	char		**an_lnames;	/* JSON literals */
	int		 *an_ladmin;
	char		 *an_chdr;	/* throttling.consumer_header */
	char		**an_consumers;	/* names, sorted */
	size_t		  an_nconsumers;

	/* The worker's writer, set up in init_worker. */
	pid_t		  an_pid;
	char		 *an_buf;
	size_t		  an_buflen;	/* bytes waiting in an_buf */
	size_t		  an_bufcap;	/* bytes kept on failure */
	int		  an_fd;	/* the .tmp, locked; -1 none */
	char		  an_tmp[PATH_MAX];
	uint64_t	  an_fsize;	/* bytes in the .tmp */
	uint64_t	  an_first_ms;	/* monotonic ms, first event */
	uint32_t	  an_seq;	/* of the next completed file */
	struct event	 *an_timer;
	int		  an_errno;	/* failing condition; 0 none */
	uint64_t	  an_lost;	/* events dropped in this condition */
	/* Counts not yet added to the zone's an_counts. */
	struct an_counts *an_counts;
	uint64_t	  an_written;
	uint64_t	  an_dropped;
	uint64_t	  an_errors;
	/* The timestamp's second, formatted once per second. */
	time_t		  an_tsec;
	char		  an_tstamp[32];
};

static int	analytics_conf(const struct mgw_conf *, void **, char **);
/* Defined at the end; its settings are found by its address. */
const struct mgw_plugin plugin_analytics;

#define AN_MS_SEC	1000ULL
#define AN_MS_DAY	(86400ULL * AN_MS_SEC)
#define AN_KB		1024ULL
#define AN_MB		(1024ULL * AN_KB)
#define AN_GB		(1024ULL * AN_MB)

/* analytics: { ... }: usage events as JSON lines. */
struct analytics_conf {
	int		 an_enabled;
	char		*an_directory;
	uint64_t	 an_flush_interval;	/* ms */
	uint64_t	 an_buffer_size;	/* bytes per worker */
	uint64_t	 an_rotate_size;	/* bytes */
	uint64_t	 an_rotate_interval;	/* ms, 0 = size only */
	int		 an_compress;	/* gzip completed files */
	uint32_t	 an_max_files;	/* completed files kept, 0 = all */
	uint64_t	 an_max_age;	/* ms, 0 = forever */
};
struct analytics_top {
	struct analytics_conf	 at_analytics;
};

static const struct mgw_conf_opt analytics_table[] = {
	{ "enabled", MGW_CONF_BOOL, 0, 1, "false",
	  "write one usage event per request",
	  offsetof(struct analytics_conf, an_enabled), 0, 0, NULL, 0, NULL },
	{ "directory", MGW_CONF_STRING, 0, 0,
	  LOCALSTATEDIR "/log/mgw/analytics",
	  "where event files are written and completed",
	  offsetof(struct analytics_conf, an_directory), 0, 0, NULL, 0,
	  NULL },
	{ "flush_interval", MGW_CONF_DURATION, 10, 60 * AN_MS_SEC, "1s",
	  "longest time an event waits in a worker's buffer",
	  offsetof(struct analytics_conf, an_flush_interval), 0, 0, NULL, 0,
	  NULL },
	{ "buffer_size", MGW_CONF_SIZE, 4 * AN_KB, 16 * AN_MB, "64k",
	  "events buffered per worker before a write",
	  offsetof(struct analytics_conf, an_buffer_size), 0, 0, NULL, 0,
	  NULL },
	{ "rotate_size", MGW_CONF_SIZE, 64 * AN_KB, 64 * AN_GB, "10m",
	  "a file is completed when it reaches this size",
	  offsetof(struct analytics_conf, an_rotate_size), 0, 0, NULL, 0,
	  NULL },
	{ "rotate_interval", MGW_CONF_DURATION, 0, AN_MS_DAY, "1h",
	  "a non-empty file is completed after this long; 0: by size only",
	  offsetof(struct analytics_conf, an_rotate_interval), 0, 0, NULL, 0,
	  NULL },
	{ "compress", MGW_CONF_BOOL, 0, 1, "false",
	  "gzip completed files",
	  offsetof(struct analytics_conf, an_compress), 0, 0, NULL, 0, NULL },
	{ "max_files", MGW_CONF_UINT, 0, 1000000, "0",
	  "completed files kept, oldest removed first; 0 keeps all",
	  offsetof(struct analytics_conf, an_max_files), 0, 0, NULL, 0,
	  NULL },
	{ "max_age", MGW_CONF_DURATION, 0, 3660 * AN_MS_DAY, "0s",
	  "completed files older than this are removed; 0 keeps them",
	  offsetof(struct analytics_conf, an_max_age), 0, 0, NULL, 0, NULL },
	{ NULL, 0, 0, 0, NULL, NULL, 0, 0, 0, NULL, 0, NULL }
};

static const struct mgw_conf_opt analytics_table_top[] = {
	{ "analytics", MGW_CONF_GROUP, 0, 0, NULL,
	  "usage events for metering",
	  offsetof(struct analytics_top, at_analytics), 0, 0, analytics_table,
	  0, NULL },
	{ NULL, 0, 0, 0, NULL, NULL, 0, 0, 0, NULL, 0, NULL }
};

static const struct mgw_conf_section analytics_settings[] = {
	{ MGW_SCOPE_TOP, analytics_table_top, sizeof(struct analytics_top) },
	{ 0, NULL, 0 }
};
static int	analytics_init_worker(void *, char **);
static void	analytics_log(void *, struct mgw_request *);
static void	analytics_reopen(void *);
static void	analytics_fini(void *);
static void	analytics_exit_worker(void *);
static void	analytics_metrics(void *, struct mgw_buf *);

static int	analytics_prepare_dir(const struct mgw_conf *, const char *,
		    char **);
static size_t	analytics_json_str(char *, size_t, const char *, size_t);
static const char *analytics_consumer(struct analytics *,
		    struct mgw_request *);
static size_t	analytics_format(struct analytics *, struct mgw_request *,
		    char *);
static void	analytics_append(struct analytics *, const char *, size_t);
static int	analytics_open(struct analytics *);
static void	analytics_flush(struct analytics *);
static void	analytics_fail(struct analytics *, int, const char *);
static void	analytics_recovered(struct analytics *);
static void	analytics_report(struct analytics *);
static void	analytics_complete(struct analytics *);
static int	analytics_finish(struct analytics *, int, const char *,
		    const char *);
static int	analytics_rename(const char *, const char *);
static void	analytics_gzip_spawn(struct analytics *, int, const char *,
		    const char *, const char *);
static void	analytics_gzip_child(struct analytics *, int, const char *,
		    const char *, const char *);
static int	analytics_gzip_file(const char *, const char *);
static off_t	analytics_trim(int);
static enum analytics_kind analytics_kind(const char *, long *);
static void	analytics_scan(struct analytics *, int);
static void	analytics_orphan(struct analytics *, const char *,
		    enum analytics_kind, long);
static void	analytics_retention(struct analytics *, char **, size_t);
static int	analytics_name_cmp(const void *, const void *);
static void	analytics_timer_cb(evutil_socket_t, short, void *);

/*
 * Write s as a JSON string literal of at most max bytes (max >= 2), quotes
 * included, with util_json_escape(): bytes that are not valid UTF-8
 * become U+FFFD, since request data (a User-Agent, a path) may hold
 * anything and one bad line would stop a shipper's JSON parser.  A string
 * too long is cut before a piece that does not fit whole.  The escaper's
 * NUL lands at out[max], inside the line's slack.  Returns the length.
 */
static size_t
analytics_json_str(char *out, size_t max, const char *s, size_t len)
{
	return (util_json_escape(out, max + 1, s, len));
}

#define AN_LIT(b, o, s) do {						\
	memcpy((b) + (o), (s), sizeof(s) - 1);				\
	(o) += sizeof(s) - 1;						\
} while (0)

/* A string field, or null. */
static size_t
analytics_put_str(char *b, size_t o, const char *s, size_t len, size_t cap)
{
	if (s == NULL) {
		AN_LIT(b, o, "null");
		return (o);
	}
	return (o + analytics_json_str(b + o, cap, s, len));
}

static size_t
analytics_put_cstr(char *b, size_t o, const char *s, size_t cap)
{
	return (analytics_put_str(b, o, s, s != NULL ? strlen(s) : 0, cap));
}

static size_t
analytics_put_u64(char *b, size_t o, uint64_t v)
{
	char	 tmp[20];
	size_t	 n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	while (n > 0)
		b[o++] = tmp[--n];
	return (o);
}

/* Microseconds as milliseconds with three decimals: 1234 is 1.234. */
static size_t
analytics_put_ms(char *b, size_t o, uint64_t us)
{
	o = analytics_put_u64(b, o, us / 1000);
	b[o++] = '.';
	b[o++] = (char)('0' + us % 1000 / 100);
	b[o++] = (char)('0' + us % 100 / 10);
	b[o++] = (char)('0' + us % 10);
	return (o);
}

/*
 * Who called: the consumer authentication set or, until it exists, the
 * configured consumer the throttling.consumer_header names, as the
 * throttle plugin takes it.  A header naming no configured consumer is
 * not reported, since it is not one the gateway knows.
 */
static const char *
analytics_consumer(struct analytics *an, struct mgw_request *r)
{
	const char	*c, *v;
	size_t		 len, lo = 0, hi = an->an_nconsumers, mid;
	int		 cmp;

	if ((c = mgw_request_consumer(r)) != NULL || an->an_chdr == NULL)
		return (c);
	if ((v = mgw_request_header(r, an->an_chdr, &len)) == NULL || len == 0)
		return (NULL);
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = an->an_consumers[mid];
		if ((cmp = strncmp(c, v, len)) == 0 && c[len] != '\0')
			cmp = 1;
		if (cmp == 0)
			return (c);
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (NULL);
}

/*
 * The event of r as one JSON line in line (ANALYTICS_LINE_MAX bytes).
 * Every field is always present, null when unknown, so consumers need no
 * schema per kind of request.
 */
static size_t
analytics_format(struct analytics *an, struct mgw_request *r, char *line)
{
	const char	*s, *code, *api;
	size_t		 o = 0, len;
	uint64_t	 ms;
	time_t		 sec;
	struct tm	 tm;
	int		 status, li, throttled;

	ms = mgw_request_start_ms(r);
	sec = (time_t)(ms / 1000);
	if (sec != an->an_tsec || an->an_tstamp[0] == '\0') {
		gmtime_r(&sec, &tm);
		strftime(an->an_tstamp, sizeof(an->an_tstamp),
		    "%Y-%m-%dT%H:%M:%S", &tm);
		an->an_tsec = sec;
	}
	AN_LIT(line, o, "{\"timestamp\":\"");
	len = strlen(an->an_tstamp);
	memcpy(line + o, an->an_tstamp, len);
	o += len;
	line[o++] = '.';
	line[o++] = (char)('0' + ms % 1000 / 100);
	line[o++] = (char)('0' + ms % 100 / 10);
	line[o++] = (char)('0' + ms % 10);
	AN_LIT(line, o, "Z\",\"request_id\":");
	s = mgw_request_id(r);
	o = analytics_put_cstr(line, o, s != NULL && *s != '\0' ? s : NULL,
	    AN_CAP_ID);
	AN_LIT(line, o, ",\"api\":");
	api = mgw_request_api(r);
	o = analytics_put_cstr(line, o, api, AN_CAP_NAME);
	AN_LIT(line, o, ",\"api_version\":");
	o = analytics_put_cstr(line, o, mgw_request_api_version(r),
	    AN_CAP_SHORT);
	AN_LIT(line, o, ",\"resource\":");
	o = analytics_put_cstr(line, o, mgw_request_resource_path(r),
	    AN_CAP_RESOURCE);
	AN_LIT(line, o, ",\"method\":");
	s = mgw_request_method(r);
	o = analytics_put_cstr(line, o, strcmp(s, "-") != 0 ? s : NULL,
	    AN_CAP_SHORT);
	AN_LIT(line, o, ",\"path\":");
	s = mgw_request_path(r, &len);
	o = analytics_put_str(line, o, len > 0 ? s : NULL, len, AN_CAP_PATH);
	AN_LIT(line, o, ",\"consumer\":");
	o = analytics_put_cstr(line, o, api != NULL ?
	    analytics_consumer(an, r) : NULL, AN_CAP_CONSUMER);
	AN_LIT(line, o, ",\"tier\":");
	o = analytics_put_cstr(line, o, mgw_request_tier(r), AN_CAP_NAME);
	AN_LIT(line, o, ",\"key_type\":");
	o = analytics_put_cstr(line, o, api != NULL ?
	    mgw_request_key_type(r) : NULL, AN_CAP_SHORT);
	AN_LIT(line, o, ",\"client_ip\":");
	o = analytics_put_cstr(line, o, mgw_request_client_ip(r), AN_CAP_IP);
	AN_LIT(line, o, ",\"user_agent\":");
	s = mgw_request_user_agent(r, &len);
	o = analytics_put_str(line, o, s, len, AN_CAP_UA);
	AN_LIT(line, o, ",\"status\":");
	status = mgw_response_status(r);
	o = analytics_put_u64(line, o, status > 0 ? (uint64_t)status : 0);
	AN_LIT(line, o, ",\"bytes_in\":");
	o = analytics_put_u64(line, o, mgw_request_bytes_in(r));
	AN_LIT(line, o, ",\"bytes_out\":");
	o = analytics_put_u64(line, o, mgw_response_bytes_out(r));
	AN_LIT(line, o, ",\"latency_ms\":");
	o = analytics_put_ms(line, o, mgw_request_duration_us(r));
	AN_LIT(line, o, ",\"upstream_latency_ms\":");
	s = mgw_request_upstream(r);
	if (s != NULL)
		o = analytics_put_ms(line, o, mgw_request_upstream_us(r));
	else
		AN_LIT(line, o, "null");
	AN_LIT(line, o, ",\"upstream\":");
	o = analytics_put_cstr(line, o, s, AN_CAP_UPSTREAM);
	code = mgw_request_error_code(r);
	throttled = status == 429 && code != NULL &&
	    strcmp(code, "throttled") == 0;
	if (throttled)
		AN_LIT(line, o, ",\"throttled\":true,\"throttle_level\":");
	else
		AN_LIT(line, o, ",\"throttled\":false,\"throttle_level\":");
	o = analytics_put_cstr(line, o, throttled ? mgw_request_reason(r) :
	    NULL, AN_CAP_SHORT);
	AN_LIT(line, o, ",\"error_code\":");
	o = analytics_put_cstr(line, o, code, AN_CAP_SHORT);
	AN_LIT(line, o, ",\"listener\":");
	li = mgw_request_listener(r);
	if (li >= 0 && (size_t)li < an->an_nlisteners) {
		len = strlen(an->an_lnames[li]);
		memcpy(line + o, an->an_lnames[li], len);
		o += len;
	} else
		AN_LIT(line, o, "null");
	AN_LIT(line, o, ",\"worker\":");
	o = analytics_put_u64(line, o, (uint64_t)an->an_pid);
	AN_LIT(line, o, "}\n");
	return (o);
}

/* Can uid:gid write and search a directory with these attributes? */
static int
analytics_dir_ok(const struct stat *st, uid_t uid, gid_t gid, mode_t need)
{
	mode_t	 m = st->st_mode;

	if (st->st_uid == uid)
		return ((m & (need << 6)) == (need << 6));
	if (st->st_gid == gid)
		return ((m & (need << 3)) == (need << 3));
	return ((m & need) == need);
}

/*
 * Make sure dir exists (mkdir -p; parents 0755, the directory itself 0750)
 * and that the workers can write it.  A root master hands the directory
 * to the worker user when it made it or when that user could not write
 * it, as it does for the log files, and refuses a path the worker user
 * cannot reach.  0, or -1 with *why (malloc'd).
 */
static int
analytics_prepare_dir(const struct mgw_conf *conf, const char *dir,
    char **why)
{
	struct stat	 st;
	char		*p, *q;
	const char	*user = mgw_conf_user(conf) != NULL ?
			    mgw_conf_user(conf) : "nobody";
	uid_t		 uid = 0;
	gid_t		 gid = 0;
	int		 created = 0, drop = 0;

	if (dir[0] != '/') {
		*why = xstrdup("not an absolute path");
		return (-1);
	}
	if (strlen(dir) > PATH_MAX - 64) {
		*why = xstrdup("path too long");
		return (-1);
	}
	p = xstrdup(dir);
	for (q = p + 1; *q != '\0'; q++) {
		if (*q != '/')
			continue;
		*q = '\0';
		if (mkdir(p, 0755) == -1 && errno != EEXIST) {
			xasprintf(why, "mkdir %s: %s", p, strerror(errno));
			free(p);
			return (-1);
		}
		*q = '/';
	}
	free(p);
	if (mkdir(dir, 0750) == 0)
		created = 1;
	else if (errno != EEXIST) {
		*why = xstrdup(strerror(errno));
		return (-1);
	}
	if (stat(dir, &st) == -1) {
		*why = xstrdup(strerror(errno));
		return (-1);
	}
	if (!S_ISDIR(st.st_mode)) {
		*why = xstrdup(strerror(ENOTDIR));
		return (-1);
	}

	/* Whom the workers run as: worker_drop_privileges()'s rule. */
	drop = mgw_conf_worker_ids(conf, &uid, &gid) == 0;
	if (drop && (created || !analytics_dir_ok(&st, uid, gid, 03))) {
		if (chown(dir, uid, gid) == -1) {
			xasprintf(why, "chown to %s: %s", user,
			    strerror(errno));
			return (-1);
		}
	}
	if (drop) {
		/* Every parent must let the worker user through. */
		p = xstrdup(dir);
		for (q = p + strlen(p); q > p; q--) {
			if (*q != '/')
				continue;
			*q = '\0';
			if (stat(q == p ? "/" : p, &st) == 0 &&
			    !analytics_dir_ok(&st, uid, gid, 01)) {
				xasprintf(why, "%s is not searchable by %s",
				    q == p ? "/" : p, user);
				free(p);
				return (-1);
			}
		}
		free(p);
	}
	/* Catches a read-only file system, and a plain user's rights. */
	if (access(dir, W_OK | X_OK) == -1) {
		*why = xstrdup(strerror(errno));
		return (-1);
	}
	return (0);
}

/* Master: validate the directory and copy what the workers need. */
static int
analytics_conf(const struct mgw_conf *conf, void **state, char **cause)
{
	const struct analytics_top	*top =
					    mgw_conf_settings(conf,
					    &plugin_analytics);
	const struct analytics_conf	*ca = &top->at_analytics;
	struct analytics		*an;
	struct shm_zone			*z;
	char				*why = NULL, buf[AN_CAP_NAME];
	const char			*dir = ca->an_directory, *chdr;
	size_t				 i, len;

	if (!ca->an_enabled)
		return (MGW_OK);
	if (dir == NULL || analytics_prepare_dir(conf, dir, &why) == -1) {
		xasprintf(cause, "%s: analytics.directory %s: %s",
		    mgw_conf_file(conf),
		    dir != NULL ? dir : "(none)", why != NULL ? why : "unset");
		free(why);
		return (MGW_ERROR);
	}
	if ((z = shm_zone_add(AN_ZONE, AN_ZONE_SIZE, AN_ZONE_LAYOUT,
	    cause)) == NULL)
		return (MGW_ERROR);
	if (shm_zone_datasize(z) < sizeof(struct an_counts)) {
		xasprintf(cause, "zone %s: too small for its counters",
		    AN_ZONE);
		return (MGW_ERROR);
	}
	an = xcalloc(1, sizeof(*an));
	an->an_counts = shm_zone_root(z);
	an->an_dir = xstrdup(dir);
	len = strlen(an->an_dir);
	while (len > 1 && an->an_dir[len - 1] == '/')
		an->an_dir[--len] = '\0';
	an->an_flush_ms = ca->an_flush_interval;
	an->an_bufsize = ca->an_buffer_size;
	an->an_rotate_size = ca->an_rotate_size;
	an->an_rotate_ms = ca->an_rotate_interval;
	an->an_compress = ca->an_compress;
	an->an_max_files = ca->an_max_files;
	an->an_max_age_ms = ca->an_max_age;
	an->an_nlisteners = mgw_conf_nlisteners(conf);
	an->an_lnames = xcalloc(an->an_nlisteners + 1, sizeof(char *));
	an->an_ladmin = xcalloc(an->an_nlisteners + 1, sizeof(int));
	for (i = 0; i < an->an_nlisteners; i++) {
		len = analytics_json_str(buf, sizeof(buf) - 1,
		    mgw_listener_name(conf, i),
		    strlen(mgw_listener_name(conf, i)));
		an->an_lnames[i] = xstrndup(buf, len);
		an->an_ladmin[i] = mgw_listener_admin(conf, i);
	}
	chdr = throttle_conf(conf)->tc_throttling.t_consumer_header;
	if (chdr != NULL) {
		an->an_chdr = xstrdup(chdr);
		an->an_nconsumers = mgw_conf_nconsumers(conf);
		an->an_consumers = xcalloc(an->an_nconsumers + 1,
		    sizeof(char *));
		for (i = 0; i < an->an_nconsumers; i++)
			an->an_consumers[i] = xstrdup(mgw_consumer_name(
			    mgw_conf_consumer(conf, i)));
		qsort(an->an_consumers, an->an_nconsumers, sizeof(char *),
		    analytics_name_cmp);
	}
	an->an_fd = -1;
	*state = an;
	return (MGW_OK);
}

/*
 * Worker, before dropping privileges: the buffer, the flush timer, and
 * the files dead workers left behind.
 */
static int
analytics_init_worker(void *state, char **cause)
{
	struct analytics	*an = state;
	struct timeval		 tv;

	if (an == NULL)
		return (MGW_OK);
	an->an_pid = getpid();
	snprintf(an->an_tmp, sizeof(an->an_tmp), "%s/events-%ld.jsonl.tmp",
	    an->an_dir, (long)an->an_pid);
	an->an_bufcap = 4 * an->an_bufsize;
	if ((an->an_buf = malloc(an->an_bufcap)) == NULL) {
		xasprintf(cause, "analytics: buffer: %s", strerror(errno));
		return (MGW_ERROR);
	}
	an->an_buflen = 0;
	an->an_fd = -1;
	an->an_seq = 1;
	an->an_timer = event_new(mgw_event_base(), -1, EV_PERSIST,
	    analytics_timer_cb, an);
	tv.tv_sec = an->an_flush_ms / 1000;
	tv.tv_usec = (an->an_flush_ms % 1000) * 1000;
	if (an->an_timer == NULL || event_add(an->an_timer, &tv) == -1) {
		xasprintf(cause, "analytics: cannot add the flush timer");
		return (MGW_ERROR);
	}
	analytics_scan(an, AN_SCAN_ORPHANS);
	return (MGW_OK);
}

/*
 * Worker, at the end of every request: one event, except on the admin
 * listener and for the gateway's own health check.
 */
static void
analytics_log(void *state, struct mgw_request *r)
{
	struct analytics	*an = state;
	char			 line[ANALYTICS_LINE_MAX];
	const char		*m, *path;
	size_t			 len;
	int			 li;

	if (an == NULL || an->an_buf == NULL)
		return;
	li = mgw_request_listener(r);
	if (li >= 0 && (size_t)li < an->an_nlisteners && an->an_ladmin[li])
		return;
	path = mgw_request_path(r, &len);
	if (len == 7 && memcmp(path, "/health", 7) == 0) {
		m = mgw_request_method(r);
		if (strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0)
			return;
	}
	len = analytics_format(an, r, line);
	analytics_append(an, line, len);
}

/*
 * Buffer one event.  A full buffer is written at once, unless writes are
 * failing: then only the timer retries, so a full disk costs no syscall
 * per request, and events beyond 4 x buffer_size are dropped and counted.
 */
static void
analytics_append(struct analytics *an, const char *line, size_t len)
{
	if (an->an_buflen + len > an->an_bufsize && an->an_errno == 0)
		analytics_flush(an);
	if (an->an_buflen + len > an->an_bufcap) {
		an->an_dropped++;
		an->an_lost++;
		return;
	}
	memcpy(an->an_buf + an->an_buflen, line, len);
	an->an_buflen += len;
	if (an->an_first_ms == 0)
		an->an_first_ms = util_now_ms();
}

/*
 * Cut a file back to its last whole line: a writer killed in a short
 * write (a full disk) may have left half an event.  Returns the size, or
 * -1 with errno.
 */
static off_t
analytics_trim(int fd)
{
	struct stat	 st;
	char		 buf[ANALYTICS_LINE_MAX];
	char		*nl;
	off_t		 end, off, keep = 0;
	ssize_t		 n;

	if (fstat(fd, &st) == -1)
		return (-1);
	end = st.st_size;
	while (end > 0) {
		off = end > (off_t)sizeof(buf) ? end - (off_t)sizeof(buf) : 0;
		if ((n = pread(fd, buf, (size_t)(end - off), off)) <= 0)
			return (-1);
		if ((nl = memrchr(buf, '\n', (size_t)n)) != NULL) {
			keep = off + (nl - buf) + 1;
			break;
		}
		end = off;
	}
	if (keep != st.st_size && ftruncate(fd, keep) == -1)
		return (-1);
	return (keep);
}

/*
 * Open (or adopt) this worker's .tmp and lock it.  The lock tells the
 * other workers the file is alive; if one of them holds it, it is
 * finishing a dead worker's file that had our pid, so try again.  0, or
 * -1 with errno.
 */
static int
analytics_open(struct analytics *an)
{
	struct stat	 st;
	off_t		 size;
	int		 fd, tries;

	for (tries = 0; tries < 3; tries++) {
		fd = open(an->an_tmp, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC |
		    O_NOFOLLOW, 0640);
		if (fd == -1)
			return (-1);
		if (flock(fd, LOCK_EX | LOCK_NB) == -1 &&
		    errno == EWOULDBLOCK) {
			close(fd);
			continue;
		}
		if (fstat(fd, &st) == -1 || st.st_nlink == 0) {
			close(fd);
			continue;
		}
		size = st.st_size;
		if (size > 0 && (size = analytics_trim(fd)) == -1) {
			close(fd);
			return (-1);
		}
		an->an_fd = fd;
		an->an_fsize = (uint64_t)size;
		return (0);
	}
	errno = EBUSY;
	return (-1);
}

/* Writes fail: count, and log once per condition (errno). */
static void
analytics_fail(struct analytics *an, int err, const char *what)
{
	an->an_errors++;
	if (an->an_errno == err)
		return;
	an->an_errno = err;
	log_warnx("analytics: %s %s: %s; keeping up to %zu bytes of events",
	    what, an->an_tmp, strerror(err), an->an_bufcap);
}

static void
analytics_recovered(struct analytics *an)
{
	if (an->an_errno == 0)
		return;
	log_info("analytics: writing %s again; %llu events were dropped",
	    an->an_tmp, (unsigned long long)an->an_lost);
	an->an_errno = 0;
	an->an_lost = 0;
}

/* Hand the counts to the zone as deltas. */
static void
analytics_report(struct analytics *an)
{
	struct an_counts	*ac = an->an_counts;

	if (an->an_written == 0 && an->an_dropped == 0 && an->an_errors == 0)
		return;
	atomic_fetch_add_explicit(&ac->ac_events, an->an_written,
	    memory_order_relaxed);
	atomic_fetch_add_explicit(&ac->ac_dropped, an->an_dropped,
	    memory_order_relaxed);
	atomic_fetch_add_explicit(&ac->ac_errors, an->an_errors,
	    memory_order_relaxed);
	an->an_written = an->an_dropped = an->an_errors = 0;
}

static uint64_t
analytics_count_lines(const char *p, size_t len)
{
	const char	*end = p + len;
	uint64_t	 n = 0;

	while (p < end && (p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		n++;
		p++;
	}
	return (n);
}

/*
 * Write the buffer, whole lines at a time, completing the file when the
 * next lines would take it past rotate_size.  What cannot be written
 * stays buffered for the next try.
 */
static void
analytics_flush(struct analytics *an)
{
	struct stat	 st;
	const char	*nl;
	size_t		 chunk, room, keep;
	ssize_t		 n;
	int		 cut;

	if (an->an_buflen == 0)
		return;
	if (an->an_fd != -1 && fstat(an->an_fd, &st) == 0 &&
	    st.st_nlink == 0) {
		log_warnx("analytics: %s was removed; the events in it are "
		    "lost, starting a new file", an->an_tmp);
		close(an->an_fd);
		an->an_fd = -1;
		an->an_fsize = 0;
	}
	while (an->an_buflen > 0) {
		if (an->an_fd == -1 && analytics_open(an) == -1) {
			analytics_fail(an, errno, "open");
			break;
		}
		cut = 0;
		chunk = an->an_buflen;
		if (an->an_fsize + an->an_buflen > an->an_rotate_size) {
			/* Whole lines up to rotate_size, the rest later. */
			room = an->an_fsize < an->an_rotate_size ?
			    an->an_rotate_size - an->an_fsize : 0;
			if (room > an->an_buflen)
				room = an->an_buflen;
			nl = room > 0 ? memrchr(an->an_buf, '\n', room) : NULL;
			if (nl != NULL) {
				chunk = (size_t)(nl - an->an_buf) + 1;
				cut = 1;
			} else if (an->an_fsize > 0) {
				analytics_complete(an);
				continue;
			}
		}
		n = write(an->an_fd, an->an_buf, chunk);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			analytics_fail(an, errno, "write");
			break;
		}
		if ((size_t)n < chunk) {
			/*
			 * A short write (the disk filled) may end inside an
			 * event: cut the file back to its last whole line so
			 * it only ever holds complete events.  If that fails,
			 * the next write simply goes on from where this one
			 * stopped.
			 */
			nl = memrchr(an->an_buf, '\n', (size_t)n);
			keep = nl != NULL ? (size_t)(nl - an->an_buf) + 1 : 0;
			if (keep < (size_t)n && ftruncate(an->an_fd,
			    (off_t)(an->an_fsize + keep)) == 0)
				n = (ssize_t)keep;
			cut = 0;
		}
		an->an_written += analytics_count_lines(an->an_buf, (size_t)n);
		an->an_fsize += (uint64_t)n;
		an->an_buflen -= (size_t)n;
		memmove(an->an_buf, an->an_buf + n, an->an_buflen);
		if (n == 0) {
			analytics_fail(an, ENOSPC, "write");
			break;
		}
		analytics_recovered(an);
		if (cut || an->an_fsize >= an->an_rotate_size)
			analytics_complete(an);
	}
	analytics_report(an);
}

/*
 * rename(2) that never replaces a file: RENAME_NOREPLACE where the file
 * system has it, else a check first (only this worker makes names with
 * its pid, so the race it leaves is only against a dead worker's).
 */
static int
analytics_rename(const char *from, const char *to)
{
	struct stat	 st;

#ifdef RENAME_NOREPLACE
	if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
		return (0);
	if (errno != EINVAL && errno != ENOSYS)
		return (-1);
#endif
	if (lstat(to, &st) == 0) {
		errno = EEXIST;
		return (-1);
	}
	return (rename(from, to));
}

/*
 * Complete path (a .tmp, locked through fd) written by worker pid:
 * rename it to its final name, or to a .part that a grandchild gzips.
 * The caller closes fd afterwards, so no other worker can mistake the
 * file for an orphan before its new name exists.  0, or -1 with errno.
 */
static int
analytics_finish(struct analytics *an, int fd, const char *path,
    const char *pid)
{
	char		 base[PATH_MAX], to[PATH_MAX + 8], gz[PATH_MAX + 8];
	char		 stamp[32];
	struct timespec	 ts;
	struct tm	 tm;
	int		 tries;

	/* Fixed width, so that name order is completion order. */
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%S", &tm);
	for (tries = 0; tries < 100; tries++) {
		snprintf(base, sizeof(base),
		    "%s/events-%s.%03ldZ-%s-%06u.jsonl", an->an_dir, stamp,
		    ts.tv_nsec / 1000000, pid, an->an_seq++);
		if (an->an_compress)
			snprintf(to, sizeof(to), "%s.part", base);
		else
			snprintf(to, sizeof(to), "%s", base);
		if (analytics_rename(path, to) == 0)
			break;
		if (errno != EEXIST)
			return (-1);
	}
	if (tries == 100) {
		errno = EEXIST;
		return (-1);
	}
	if (an->an_compress) {
		snprintf(gz, sizeof(gz), "%s.gz", base);
		analytics_gzip_spawn(an, fd, to, gz, base);
	}
	return (0);
}

/*
 * Complete this worker's current file: reload, stop, rotation.  An empty
 * file is removed rather than completed.
 */
static void
analytics_complete(struct analytics *an)
{
	char	 pid[24];

	if (an->an_fd == -1)
		return;
	if (an->an_fsize == 0) {
		if (unlink(an->an_tmp) == -1 && errno != ENOENT)
			log_warn("analytics: unlink %s", an->an_tmp);
	} else {
		snprintf(pid, sizeof(pid), "%ld", (long)an->an_pid);
		if (analytics_finish(an, an->an_fd, an->an_tmp, pid) == -1)
			log_warn("analytics: cannot complete %s", an->an_tmp);
	}
	close(an->an_fd);
	an->an_fd = -1;
	an->an_fsize = 0;
	an->an_first_ms = an->an_buflen > 0 ? util_now_ms() : 0;
	analytics_scan(an, AN_SCAN_ORPHANS |
	    (an->an_compress ? 0 : AN_SCAN_RETENTION));
}

/*
 * gzip part into gz in a grandchild, so the worker's loop never waits on
 * compression and never has a child to reap later: the middle child
 * exits at once and is reaped here.  fd holds part's lock; the grandchild
 * keeps it until done, so nobody takes the .part for an orphan.  If no
 * process can be made, the file is completed uncompressed instead, since
 * an event a shipper never sees is worse than one not gzipped.
 */
static void
analytics_gzip_spawn(struct analytics *an, int fd, const char *part,
    const char *gz, const char *plain)
{
	pid_t	 pid, gpid;
	int	 status;

	pid = fork();
	if (pid == 0) {
		gpid = fork();
		if (gpid == 0) {
			analytics_gzip_child(an, fd, part, gz, plain);
			_exit(0);
		}
		_exit(gpid == -1 ? 1 : 0);
	}
	if (pid != -1) {
		while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
			;
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
			return;
	}
	log_warn("analytics: cannot start gzip for %s; completing it "
	    "uncompressed", part);
	if (analytics_rename(part, plain) == -1)
		log_warn("analytics: rename %s", part);
}

/* The grandchild: no sockets, default signals, gzip, retention, exit. */
static void
analytics_gzip_child(struct analytics *an, int lockfd, const char *part,
    const char *gz, const char *plain)
{
	static const int	 sigs[] = { SIGTERM, SIGINT, SIGQUIT, SIGHUP,
				    SIGUSR1, SIGPIPE, 0 };
	DIR			*d;
	struct dirent		*de;
	struct stat		 st;
	int			 i, fd;

	log_procinit("analytics-gzip");
	for (i = 0; sigs[i] != 0; i++)
		signal(sigs[i], sigs[i] == SIGTERM || sigs[i] == SIGINT ?
		    SIG_DFL : SIG_IGN);
	/*
	 * Sockets are the worker's clients, listeners and master channel:
	 * holding them would delay a client's close until gzip is done.
	 * The current .tmp would look alive after the worker died.
	 */
	if (an->an_fd != -1 && an->an_fd != lockfd)
		close(an->an_fd);
	if ((d = opendir("/proc/self/fd")) != NULL) {
		while ((de = readdir(d)) != NULL) {
			fd = atoi(de->d_name);
			if (de->d_name[0] == '.' || fd == dirfd(d) || fd < 3)
				continue;
			if (fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode))
				close(fd);
		}
		closedir(d);
	}
	if (analytics_gzip_file(part, gz) == 0) {
		if (unlink(part) == -1 && errno != ENOENT)
			log_warn("analytics: unlink %s", part);
	} else if (analytics_rename(part, plain) == -1)
		log_warn("analytics: rename %s", part);
	analytics_scan(an, AN_SCAN_RETENTION);
}

/* gzip part into gz.tmp, then rename it to gz.  0, or -1 (logged). */
static int
analytics_gzip_file(const char *part, const char *gz)
{
	char		 tmp[PATH_MAX + 16], buf[65536];
	gzFile		 g;
	ssize_t		 n;
	int		 in, out, rv = -1;

	snprintf(tmp, sizeof(tmp), "%s.tmp", gz);
	if ((in = open(part, O_RDONLY | O_CLOEXEC)) == -1) {
		log_warn("analytics: open %s", part);
		return (-1);
	}
	out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (out == -1) {
		log_warn("analytics: open %s", tmp);
		close(in);
		return (-1);
	}
	if ((g = gzdopen(out, "wb6")) == NULL) {
		log_warnx("analytics: gzdopen %s failed", tmp);
		close(out);
		goto fail;
	}
	for (;;) {
		n = read(in, buf, sizeof(buf));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			log_warn("analytics: read %s", part);
			break;
		}
		if (n == 0) {
			rv = 0;
			break;
		}
		if (gzwrite(g, buf, (unsigned)n) != (int)n) {
			log_warnx("analytics: gzwrite %s failed", tmp);
			break;
		}
	}
	if (gzclose(g) != Z_OK && rv == 0) {
		log_warnx("analytics: gzclose %s failed", tmp);
		rv = -1;
	}
	if (rv == 0 && analytics_rename(tmp, gz) == -1) {
		log_warn("analytics: rename %s", tmp);
		rv = -1;
	}
fail:
	if (rv == -1)
		(void)unlink(tmp);
	close(in);
	return (rv);
}

/*
 * What name is: our files only.  *pid gets the writer's pid of a .tmp.
 */
static enum analytics_kind
analytics_kind(const char *name, long *pid)
{
	size_t		 len = strlen(name);
	const char	*p;
	char		*end;

#define AN_ENDS(s) (len > sizeof(s) - 1 + 7 &&				\
	    strcmp(name + len - (sizeof(s) - 1), (s)) == 0)
	if (strncmp(name, "events-", 7) != 0)
		return (AN_K_OTHER);
	if (AN_ENDS(".jsonl.tmp")) {
		p = name + 7;
		*pid = strtol(p, &end, 10);
		if (end == p || strcmp(end, ".jsonl.tmp") != 0)
			return (AN_K_OTHER);
		return (AN_K_TMP);
	}
	if (AN_ENDS(".jsonl.part"))
		return (AN_K_PART);
	if (AN_ENDS(".jsonl.gz.tmp"))
		return (AN_K_GZTMP);
	if (AN_ENDS(".jsonl") || AN_ENDS(".jsonl.gz"))
		return (AN_K_DONE);
#undef AN_ENDS
	return (AN_K_OTHER);
}

/*
 * Finish what dead workers left (flags & AN_SCAN_ORPHANS) and apply the
 * retention limits (AN_SCAN_RETENTION).  The directory holds a few files,
 * so a readdir is cheap next to completing a file.  Names are read first
 * and acted on after, since renaming during readdir may show a name twice.
 */
static void
analytics_scan(struct analytics *an, int flags)
{
	DIR			*d;
	struct dirent		*de;
	char			**names = NULL, **done = NULL, **tmp;
	size_t			 n = 0, cap = 0, ndone = 0, i;
	enum analytics_kind	 k;
	long			 pid;

	if (!(flags & AN_SCAN_RETENTION) ||
	    (an->an_max_files == 0 && an->an_max_age_ms == 0)) {
		flags &= ~AN_SCAN_RETENTION;
		if (flags == 0)
			return;
	}
	if ((d = opendir(an->an_dir)) == NULL)
		return;		/* the writer logs the condition */
	while ((de = readdir(d)) != NULL) {
		k = analytics_kind(de->d_name, &pid);
		if (k == AN_K_OTHER || (k == AN_K_DONE &&
		    !(flags & AN_SCAN_RETENTION)) || (k != AN_K_DONE &&
		    !(flags & AN_SCAN_ORPHANS)))
			continue;
		if (k == AN_K_TMP && pid == (long)an->an_pid)
			continue;
		if (n == cap) {
			cap = cap == 0 ? 64 : cap * 2;
			if ((tmp = reallocarray(names, cap,
			    sizeof(*names))) == NULL)
				break;
			names = tmp;
		}
		if ((names[n] = strdup(de->d_name)) == NULL)
			break;
		n++;
	}
	closedir(d);
	if (names == NULL)
		return;
	for (i = 0; i < n; i++) {
		k = analytics_kind(names[i], &pid);
		if (k == AN_K_DONE)
			names[ndone++] = names[i];
		else {
			analytics_orphan(an, names[i], k, pid);
			free(names[i]);
		}
	}
	done = names;
	if (flags & AN_SCAN_RETENTION)
		analytics_retention(an, done, ndone);
	for (i = 0; i < ndone; i++)
		free(done[i]);
	free(names);
}

/*
 * One file a worker may have left: kind AN_K_TMP (pid wrote it),
 * AN_K_PART or AN_K_GZTMP.  If its lock is free, its writer is gone:
 * complete it, cut back to its last whole line.
 */
static void
analytics_orphan(struct analytics *an, const char *name,
    enum analytics_kind k, long pid)
{
	char		 path[PATH_MAX], spid[24];
	char		 base[PATH_MAX + 8], gz[PATH_MAX + 8];
	struct stat	 st;
	off_t		 size;
	int		 fd;

	snprintf(path, sizeof(path), "%s/%s", an->an_dir, name);
	if (k == AN_K_GZTMP) {
		/* Garbage once its .part is gone (done, or redone). */
		snprintf(base, sizeof(base), "%s", path);
		base[strlen(base) - 7] = '\0';		/* ".gz.tmp" */
		snprintf(base + strlen(base), sizeof(base) - strlen(base),
		    ".part");
		if (lstat(base, &st) == -1 && errno == ENOENT)
			(void)unlink(path);
		return;
	}
	if ((fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return;
	if (flock(fd, LOCK_EX | LOCK_NB) == -1 || fstat(fd, &st) == -1 ||
	    st.st_nlink == 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return;
	}
	if ((size = analytics_trim(fd)) == -1) {
		log_warn("analytics: %s", path);
		close(fd);
		return;
	}
	if (size == 0) {
		(void)unlink(path);
		close(fd);
		return;
	}
	log_info("analytics: completing %s, left by a worker that died", name);
	if (k == AN_K_TMP) {
		snprintf(spid, sizeof(spid), "%ld", pid);
		if (analytics_finish(an, fd, path, spid) == -1)
			log_warn("analytics: cannot complete %s", path);
	} else {
		/* A .part: its gzip never finished. */
		snprintf(base, sizeof(base), "%s", path);
		base[strlen(base) - 5] = '\0';		/* ".part" */
		snprintf(gz, sizeof(gz), "%s.gz", base);
		if (lstat(gz, &st) == 0)
			(void)unlink(path);	/* done but for the unlink */
		else if (an->an_compress)
			analytics_gzip_spawn(an, fd, path, gz, base);
		else if (analytics_rename(path, base) == -1)
			log_warn("analytics: rename %s", path);
	}
	close(fd);
}

static int
analytics_name_cmp(const void *a, const void *b)
{
	return (strcmp(*(char *const *)a, *(char *const *)b));
}

/*
 * Remove completed files older than max_age, then the oldest beyond
 * max_files.  Names start with the completion time (UTC, in ms, fixed
 * width), so name order is age order.  Other workers may be doing the same:
 * removing a file twice is harmless.
 */
static void
analytics_retention(struct analytics *an, char **names, size_t n)
{
	char		 path[PATH_MAX];
	struct stat	 st;
	time_t		 limit = 0;
	size_t		 i, left = n;

	qsort(names, n, sizeof(*names), analytics_name_cmp);
	if (an->an_max_age_ms != 0)
		limit = time(NULL) - (time_t)(an->an_max_age_ms / 1000);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", an->an_dir, names[i]);
		if ((an->an_max_files != 0 && left > an->an_max_files) ||
		    (limit != 0 && lstat(path, &st) == 0 &&
		    st.st_mtime < limit)) {
			if (unlink(path) == -1 && errno != ENOENT)
				log_warn("analytics: unlink %s", path);
			else
				log_debug("analytics: removed %s", names[i]);
			left--;
		}
	}
}

/*
 * Every flush_interval: write what waits (the retry path while writes
 * fail), and complete a file older than rotate_interval.
 */
static void
analytics_timer_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct analytics	*an = arg;

	analytics_flush(an);
	if (an->an_rotate_ms != 0 && an->an_fd != -1 && an->an_fsize > 0 &&
	    an->an_first_ms != 0 &&
	    util_now_ms() - an->an_first_ms >= an->an_rotate_ms)
		analytics_complete(an);
	analytics_report(an);
}

/*
 * SIGUSR1: if the .tmp was removed or moved away, the next write goes to
 * a new one (the events already in the old one went with it).
 */
static void
analytics_reopen(void *state)
{
	struct analytics	*an = state;
	struct stat		 fst, pst;

	if (an == NULL || an->an_fd == -1)
		return;
	if (fstat(an->an_fd, &fst) == -1)
		return;
	if (fst.st_nlink > 0 && stat(an->an_tmp, &pst) == 0 &&
	    pst.st_dev == fst.st_dev && pst.st_ino == fst.st_ino)
		return;
	log_info("analytics: %s was moved or removed, starting a new file",
	    an->an_tmp);
	close(an->an_fd);
	an->an_fd = -1;
	an->an_fsize = 0;
}

/*
 * Worker, just before exit (drain done, graceful or fast stop): write the
 * buffer and complete the file, so a reload or stop loses no event.
 */
static void
analytics_exit_worker(void *state)
{
	struct analytics	*an = state;
	uint64_t		 lost;

	if (an == NULL || an->an_buf == NULL)
		return;
	analytics_flush(an);
	if (an->an_buflen > 0) {
		lost = analytics_count_lines(an->an_buf, an->an_buflen);
		an->an_dropped += lost;
		log_warnx("analytics: %llu events lost at exit: %s",
		    (unsigned long long)lost, strerror(an->an_errno));
		an->an_buflen = 0;
	}
	analytics_complete(an);
	analytics_report(an);
	if (an->an_timer != NULL) {
		event_free(an->an_timer);
		an->an_timer = NULL;
	}
}

static void
analytics_fini(void *state)
{
	struct analytics	*an = state;
	size_t			 i;

	if (an == NULL)
		return;
	if (an->an_timer != NULL)
		event_free(an->an_timer);
	for (i = 0; i < an->an_nlisteners; i++)
		free(an->an_lnames[i]);
	free(an->an_lnames);
	free(an->an_ladmin);
	for (i = 0; i < an->an_nconsumers; i++)
		free(an->an_consumers[i]);
	free(an->an_consumers);
	free(an->an_chdr);
	free(an->an_buf);
	free(an->an_dir);
	free(an);
}

/*
 * The metrics hook: the events every worker handed to the zone
 * (analytics_report()), 0 while no configuration has enabled analytics.
 * Any process, no lock.
 */
static void
analytics_metrics(void *arg, struct mgw_buf *out)
{
	struct shm_zone		*z = shm_zone_find(AN_ZONE);
	struct an_counts	*ac = NULL;
	uint64_t		 events = 0, dropped = 0, errors = 0;

	(void)arg;
	if (z != NULL && shm_zone_datasize(z) >= sizeof(*ac) &&
	    z->z_layout == AN_ZONE_LAYOUT)
		ac = shm_zone_root(z);
	if (ac != NULL) {
		events = atomic_load_explicit(&ac->ac_events,
		    memory_order_relaxed);
		dropped = atomic_load_explicit(&ac->ac_dropped,
		    memory_order_relaxed);
		errors = atomic_load_explicit(&ac->ac_errors,
		    memory_order_relaxed);
	}
	mgw_metrics_family(out, "mgw_analytics_events_total", "counter",
	    "Usage events written to analytics files.");
	mgw_metrics_sample(out, "mgw_analytics_events_total", NULL, events);
	mgw_metrics_family(out, "mgw_analytics_dropped_total", "counter",
	    "Usage events lost (disk full or unwritable directory).");
	mgw_metrics_sample(out, "mgw_analytics_dropped_total", NULL, dropped);
	mgw_metrics_family(out, "mgw_analytics_write_errors_total",
	    "counter", "Failed writes of analytics files.");
	mgw_metrics_sample(out, "mgw_analytics_write_errors_total", NULL,
	    errors);
}

const struct mgw_plugin plugin_analytics = {
	.api = MGW_PLUGIN_API,
	.name = "analytics",
	.settings = analytics_settings,
	.conf = analytics_conf,
	.init_worker = analytics_init_worker,
	.log = analytics_log,
	.reopen = analytics_reopen,
	.fini = analytics_fini,
	.exit_worker = analytics_exit_worker,
	.metrics = analytics_metrics,
};
