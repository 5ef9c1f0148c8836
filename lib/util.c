/*
 * util.c: small parsers and descriptor helpers shared by mgwd, mgwctl and
 * the tests.  Nothing here allocates, so workers may call all of it.
 */
#include "config.h"

#include <sys/types.h>

#include <ctype.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "lib.h"

static int	util_parse_number(const char **, uint64_t *);
static int	util_mul(uint64_t, uint64_t, uint64_t *);
static size_t	util_utf8_valid(const unsigned char *, size_t);

/* Read the decimal digits at *sp, advancing it; -1 on none or overflow. */
static int
util_parse_number(const char **sp, uint64_t *vp)
{
	const char	*s = *sp;
	uint64_t	 v = 0;

	if (*s < '0' || *s > '9')
		return (-1);
	for (; *s >= '0' && *s <= '9'; s++) {
		if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return (-1);
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*sp = s;
	*vp = v;
	return (0);
}

static int
util_mul(uint64_t a, uint64_t b, uint64_t *rp)
{
	if (b != 0 && a > UINT64_MAX / b)
		return (-1);
	*rp = a * b;
	return (0);
}

/*
 * Parse "<digits><unit>" with unit ms, s, m, h or d into milliseconds in
 * *msp.  A bare number is refused so nobody confuses seconds and
 * milliseconds.  Returns 0, or -1 (also on overflow).
 */
int
util_parse_duration(const char *s, uint64_t *msp)
{
	uint64_t	 v, mult;

	if (s == NULL || util_parse_number(&s, &v) == -1)
		return (-1);
	if (strcmp(s, "ms") == 0)
		mult = 1;
	else if (strcmp(s, "s") == 0)
		mult = 1000;
	else if (strcmp(s, "m") == 0)
		mult = 60 * 1000;
	else if (strcmp(s, "h") == 0)
		mult = 3600 * 1000;
	else if (strcmp(s, "d") == 0)
		mult = 86400 * 1000;
	else
		return (-1);
	return (util_mul(v, mult, msp));
}

/*
 * Parse "<digits>" (bytes) or "<digits>k", "m", "g" (either case, powers
 * of 1024) into bytes in *bytesp.  Returns 0, or -1 (also on overflow).
 */
int
util_parse_size(const char *s, uint64_t *bytesp)
{
	uint64_t	 v, mult;

	if (s == NULL || util_parse_number(&s, &v) == -1)
		return (-1);
	switch (*s) {
	case '\0':
		*bytesp = v;
		return (0);
	case 'k':
	case 'K':
		mult = 1024;
		break;
	case 'm':
	case 'M':
		mult = 1024 * 1024;
		break;
	case 'g':
	case 'G':
		mult = 1024 * 1024 * 1024;
		break;
	default:
		return (-1);
	}
	if (s[1] != '\0')
		return (-1);
	return (util_mul(v, mult, bytesp));
}

/*
 * Milliseconds of CLOCK_MONOTONIC: for timeouts and rate windows, which
 * must not jump when the wall clock is set.  Any process.
 */
uint64_t
util_now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
}

/* Add O_NONBLOCK to fd.  Returns 0, or -1 with errno. */
int
util_set_nonblock(int fd)
{
	int	 flags;

	if ((flags = fcntl(fd, F_GETFL)) == -1)
		return (-1);
	if (flags & O_NONBLOCK)
		return (0);
	return (fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1 ? -1 : 0);
}

/* Add FD_CLOEXEC to fd.  Returns 0, or -1 with errno. */
int
util_set_cloexec(int fd)
{
	int	 flags;

	if ((flags = fcntl(fd, F_GETFD)) == -1)
		return (-1);
	if (flags & FD_CLOEXEC)
		return (0);
	return (fcntl(fd, F_SETFD, flags | FD_CLOEXEC) == -1 ? -1 : 0);
}

/*
 * Length of the well-formed UTF-8 sequence at p (at most n bytes): 1 to
 * 4, or 0 when it is not one (a stray continuation byte, an overlong
 * form, a surrogate, beyond U+10FFFF, or cut short), per RFC 3629.
 */
static size_t
util_utf8_valid(const unsigned char *p, size_t n)
{
	unsigned char	 lo = 0x80, hi = 0xbf;
	size_t		 need, k;

	if (p[0] < 0x80)
		return (1);
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		need = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		need = 3;
		if (p[0] == 0xe0)
			lo = 0xa0;	/* overlong */
		else if (p[0] == 0xed)
			hi = 0x9f;	/* surrogates */
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		need = 4;
		if (p[0] == 0xf0)
			lo = 0x90;	/* overlong */
		else if (p[0] == 0xf4)
			hi = 0x8f;	/* above U+10FFFF */
	} else
		return (0);
	if (n < need || p[1] < lo || p[1] > hi)
		return (0);
	for (k = 2; k < need; k++)
		if (p[k] < 0x80 || p[k] > 0xbf)
			return (0);
	return (need);
}

/*
 * Write s (len bytes) into buf (size bytes) as a JSON string literal,
 * quotes included: '"' and '\\' are escaped, control bytes become \uXXXX,
 * well-formed UTF-8 passes through and every byte that is not part of a
 * well-formed sequence becomes \ufffd, so the literal is valid JSON (and
 * UTF-8) whatever bytes a client sent.  When it does not fit,
 * the string is cut before an escape or a multibyte sequence that would
 * not fit whole, so the result is still a closed, valid literal.  buf is
 * always NUL-terminated when size > 0; returns the length written
 * (without the NUL), 0 when not even "" fits.  Any process.
 */
size_t
util_json_escape(char *buf, size_t size, const char *s, size_t len)
{
	static const char	 hex[] = "0123456789abcdef";
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 o = 0, i, in, out, k;

	if (size == 0)
		return (0);
	if (size < 3) {
		buf[0] = '\0';
		return (0);
	}
	buf[o++] = '"';
	for (i = 0; i < len; i += in) {
		/* in bytes of s become out bytes of buf. */
		in = 1;
		if (p[i] == '"' || p[i] == '\\')
			out = 2;
		else if (p[i] < 0x20)
			out = 6;
		else if (p[i] >= 0x80) {
			in = util_utf8_valid(p + i, len - i);
			out = in == 0 ? 6 : in;
			if (in == 0)
				in = 1;
		} else
			out = 1;
		/* Room for this piece, the closing quote and the NUL. */
		if (o + out + 2 > size)
			break;
		if (p[i] == '"' || p[i] == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)p[i];
		} else if (out == 6 && p[i] >= 0x80) {
			memcpy(buf + o, "\\ufffd", 6);
			o += 6;
		} else if (p[i] < 0x20) {
			buf[o++] = '\\';
			buf[o++] = 'u';
			buf[o++] = '0';
			buf[o++] = '0';
			buf[o++] = hex[p[i] >> 4];
			buf[o++] = hex[p[i] & 0xf];
		} else {
			for (k = 0; k < in; k++)
				buf[o++] = (char)p[i + k];
		}
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return (o);
}

int
util_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	return (-1);
}

/*
 * "sha256:AB:CD..." or "sha256:abcd...": check it and rewrite it in
 * place as "sha256:" and 64 lowercase hex digits, the form workers
 * compare with (certificate fingerprints, API key hashes).  0 or -1.
 * Master, at load.
 */
int
util_sha256_normalise(char *s)
{
	char	*p, *q;
	size_t	 n = 0;

	if (strncasecmp(s, "sha256:", 7) != 0)
		return (-1);
	memcpy(s, "sha256:", 7);
	for (p = q = s + 7; *p != '\0'; p++) {
		if (*p == ':')
			continue;
		if (!isxdigit((unsigned char)*p))
			return (-1);
		*q++ = tolower((unsigned char)*p);
		n++;
	}
	*q = '\0';
	return (n == 64 ? 0 : -1);
}

