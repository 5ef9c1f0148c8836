/*
 * authn-util.c: small helpers the authentication mechanisms share.
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
#include <unistd.h>

#include "lib.h"
#include "authn.h"

void
authn_identity_init(struct authn_identity *id)
{
	memset(id, 0, sizeof(*id));
	id->ai_verdict = AUTHN_INTERNAL;
	id->ai_cacheable = 1;
}

void
authn_identity_why(struct authn_identity *id, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(id->ai_why, sizeof(id->ai_why), fmt, ap);
	va_end(ap);
}

uint64_t
authn_hash64(uint64_t h, const void *buf, size_t len)
{
	const unsigned char	*p = buf;
	size_t			 i;

	if (h == 0)
		h = 0xcbf29ce484222325ULL;
	for (i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return (h);
}

int
authn_read_file(const char *path, size_t max, char **bufp, size_t *lenp,
    const char **why)
{
	struct stat	 sb;
	char		*buf;
	ssize_t		 n;
	size_t		 off = 0;
	int		 fd;

	*bufp = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		*why = strerror(errno);
		return (-1);
	}
	if (fstat(fd, &sb) == -1) {
		*why = strerror(errno);
		close(fd);
		return (-1);
	}
	if (!S_ISREG(sb.st_mode) || (size_t)sb.st_size > max) {
		*why = S_ISREG(sb.st_mode) ? "file too large" :
		    "not a regular file";
		close(fd);
		return (-1);
	}
	buf = xmalloc((size_t)sb.st_size + 1);
	while (off < (size_t)sb.st_size) {
		if ((n = read(fd, buf + off, sb.st_size - off)) == -1) {
			if (errno == EINTR)
				continue;
			*why = strerror(errno);
			explicit_bzero(buf, (size_t)sb.st_size + 1);
			free(buf);
			close(fd);
			return (-1);
		}
		if (n == 0)
			break;
		off += n;
	}
	close(fd);
	buf[off] = '\0';
	*bufp = buf;
	*lenp = off;
	return (0);
}
