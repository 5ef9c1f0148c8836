/*
 * lib.h: code shared by mgwd, mgwctl and the tests: logging, allocation,
 * request arenas, the control-message framing and small parsers.
 */
#ifndef MGW_LIB_H
#define MGW_LIB_H

#include <sys/types.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define MGW_VERSION	PACKAGE_VERSION

/* log.c */
#define LOG_TO_STDERR	0	/* foreground (-d) */
#define LOG_TO_SYSLOG	1
#define LOG_TO_FILE	2
void	log_init(int, int);		/* debug, verbose */
int	log_open_file(const char *, char **);	/* "stderr", "syslog", path */
int	log_reopen(void);		/* USR1: reopen the error log file */
void	log_setverbose(int);
int	log_getverbose(void);
void	log_procinit(const char *);
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	vlog(int, const char *, va_list) __attribute__((format(printf, 2, 0)));
void	fatal(const char *, ...) __attribute__((format(printf, 1, 2)))
	    __attribute__((noreturn));
void	fatalx(const char *, ...) __attribute__((format(printf, 1, 2)))
	    __attribute__((noreturn));

/* xmalloc.c: die on OOM (master, config and ctl code only). */
void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
int	 xasprintf(char **, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
int	 xvasprintf(char **, const char *, va_list)
	    __attribute__((format(printf, 2, 0)));
/* Add line (malloc'd, taken over; NULL: nothing) to *all as a new line. */
void	 xlines_append(char **, char *);

/* pool.c: per-request arena, freed in one shot (nginx ngx_pool_t). */
struct pool;
struct pool	*pool_new(size_t);		/* first block size in bytes */
void		 pool_free(struct pool *);
void		 pool_reset(struct pool *);	/* keep the first block */
void		*pool_alloc(struct pool *, size_t);	/* NULL on OOM */
char		*pool_strndup(struct pool *, const char *, size_t);

/* buf.c: struct mgw_buf of mgw/plugin.h, and the core's side of it. */
struct mgw_buf {
	char	*b_data;	/* NUL-terminated; NULL while empty */
	size_t	 b_len;		/* bytes, without the NUL */
	size_t	 b_size;	/* bytes allocated */
	int	 b_form;	/* status/: how mgw_status_add() writes */
	int	 b_failed;	/* an append ran out of memory */
};
void	 buf_init(struct mgw_buf *);
void	 buf_free(struct mgw_buf *);
const char *buf_text(const struct mgw_buf *);
/* As declared in mgw/plugin.h: 0, or -1 on OOM. */
int	 mgw_buf_add(struct mgw_buf *, const void *, size_t);
int	 mgw_buf_printf(struct mgw_buf *, const char *, ...)
	    __attribute__((__format__(__printf__, 2, 3)));

/* tls-reason.c */
/*
 * OpenSSL's reason for the last failure, the error queue emptied: the
 * first error queued (the root cause).  Any process; buf holds the text
 * when the result is not a static string.
 */
const char *tls_reason(char *, size_t);

/* util.c */
/*
 * Check "sha256:<64 hex, colons allowed>" and rewrite it in place as
 * "sha256:" and lowercase hex.  0 or -1.
 */
int	 util_sha256_normalise(char *);
/*
 * Parse "30s", "100ms", "2m", "1h", "1d" into milliseconds.  A bare number
 * is refused so nobody confuses seconds and milliseconds.  0 or -1.
 */
int	 util_parse_duration(const char *, uint64_t *);
/* Parse "16k", "10m", "1g" or a bare byte count into bytes.  0 or -1. */
int	 util_parse_size(const char *, uint64_t *);
uint64_t util_now_ms(void);		/* CLOCK_MONOTONIC in ms */
int	 util_set_nonblock(int);
int	 util_set_cloexec(int);
/* Write a JSON string literal (with quotes) of s into buf; returns length. */
size_t	 util_json_escape(char *, size_t, const char *, size_t);
int	 util_hexval(int);	/* a hex digit's value, or -1 */

/* method.c: HTTP methods, the indexes of the methods bit sets. */
enum method {
	METHOD_GET = 0,
	METHOD_HEAD,
	METHOD_POST,
	METHOD_PUT,
	METHOD_DELETE,
	METHOD_PATCH,
	METHOD_OPTIONS,
	METHOD_MAX
};
#define METHOD_ALL	((1u << METHOD_MAX) - 1)
const char *method_name(int);		/* "GET"; NULL out of range */
int	 method_parse(const char *, size_t);	/* exact; -1 if unknown */

/* cidr.c: a network, "addr" or "addr/bits". */
struct sockaddr;
struct cidr {
	int		 c_family;	/* AF_INET, AF_INET6 */
	uint8_t		 c_addr[16];
	int		 c_bits;
};
int	 cidr_parse(const char *, struct cidr *);
/*
 * 1 if sa (IPv4-mapped IPv6 counting as IPv4) lies in one of the n
 * networks of list, else 0.  Any process; per request in workers.
 */
int	 cidr_match(const struct cidr *, size_t, const struct sockaddr *);

#endif /* MGW_LIB_H */
