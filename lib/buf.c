/*
 * buf.c: struct mgw_buf, the growing output buffer of the plugin API
 * (mgw/plugin.h): metrics, status fields and control verb answers.  The
 * core owns the buffer; a plugin only appends.  Workers fill these too,
 * so running out of memory is an answer (-1), never an exit.
 */
#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib.h"

#define BUF_MIN		256	/* bytes of the first allocation */

static int	buf_grow(struct mgw_buf *, size_t);

/* Make room for len more bytes and a NUL.  0, or -1 on OOM. */
static int
buf_grow(struct mgw_buf *b, size_t len)
{
	size_t	 size;
	char	*p;

	if (b->b_failed)
		return (-1);
	if (len > SIZE_MAX - b->b_len - 1) {
		b->b_failed = 1;
		return (-1);
	}
	if (b->b_len + len + 1 <= b->b_size)
		return (0);
	size = b->b_size == 0 ? BUF_MIN : b->b_size;
	while (size < b->b_len + len + 1) {
		if (size > SIZE_MAX / 2) {
			size = b->b_len + len + 1;
			break;
		}
		size *= 2;
	}
	if ((p = realloc(b->b_data, size)) == NULL) {
		b->b_failed = 1;
		return (-1);
	}
	b->b_data = p;
	b->b_size = size;
	return (0);
}

/* An empty buffer; nothing is allocated until the first append. */
void
buf_init(struct mgw_buf *b)
{
	memset(b, 0, sizeof(*b));
}

/* Release b's memory and leave it empty.  Any process. */
void
buf_free(struct mgw_buf *b)
{
	free(b->b_data);
	buf_init(b);
}

/*
 * The text so far, NUL-terminated ("" when empty); valid until the next
 * append or buf_free().
 */
const char *
buf_text(const struct mgw_buf *b)
{
	return (b->b_data != NULL ? b->b_data : "");
}

/*
 * Append len bytes of data to b (copied; kept NUL-terminated).  Any
 * process.  0, or -1 on OOM: b keeps what it had and is marked failed
 * (b_failed), so that later appends fail too and the caller checks once.
 */
int
mgw_buf_add(struct mgw_buf *b, const void *data, size_t len)
{
	if (buf_grow(b, len) == -1)
		return (-1);
	if (len > 0)
		memcpy(b->b_data + b->b_len, data, len);
	b->b_len += len;
	b->b_data[b->b_len] = '\0';
	return (0);
}

/*
 * Append printf-formatted text to b.  Any process.  0, or -1 on OOM or
 * a bad format: b keeps what it had and is marked failed.
 */
int
mgw_buf_printf(struct mgw_buf *b, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->b_failed = 1;
		return (-1);
	}
	if (buf_grow(b, (size_t)n) == -1)
		return (-1);
	va_start(ap, fmt);
	n = vsnprintf(b->b_data + b->b_len, b->b_size - b->b_len, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->b_data[b->b_len] = '\0';
		b->b_failed = 1;
		return (-1);
	}
	b->b_len += (size_t)n;
	return (0);
}
