/*
 * hbuf.c: a message head assembled in one piece of request memory and
 * handed to the output buffer with a single evbuffer_add(), instead of a
 * printf and a buffer callback per header line.
 */
#include "config.h"

#include <sys/types.h>

#include <stdint.h>
#include <string.h>

#include <event2/buffer.h>

#include "lib.h"
#include "worker.h"

/* Room for cap bytes from the request's pool.  0, or -1 on OOM. */
int
hbuf_init(struct hbuf *hb, struct pool *pool, size_t cap)
{
	hb->len = 0;
	hb->cap = cap;
	hb->oom = 0;
	if ((hb->buf = pool_alloc(pool, cap)) == NULL) {
		hb->cap = 0;
		hb->oom = 1;
		return (-1);
	}
	return (0);
}

/* Append; past the capacity the head is marked broken, never overrun. */
void
hbuf_add(struct hbuf *hb, const char *s, size_t len)
{
	if (len > hb->cap - hb->len) {
		hb->oom = 1;
		return;
	}
	memcpy(hb->buf + hb->len, s, len);
	hb->len += len;
}

void
hbuf_str(struct hbuf *hb, const char *s)
{
	hbuf_add(hb, s, strlen(s));
}

void
hbuf_u64(struct hbuf *hb, uint64_t v)
{
	char	 tmp[24];
	size_t	 i = sizeof(tmp);

	do {
		tmp[--i] = '0' + v % 10;
		v /= 10;
	} while (v != 0);
	hbuf_add(hb, tmp + i, sizeof(tmp) - i);
}

/* "Name: value\r\n" */
void
hbuf_header(struct hbuf *hb, const char *n, size_t nl, const char *v,
    size_t vl)
{
	if (nl + vl + 4 > hb->cap - hb->len) {
		hb->oom = 1;
		return;
	}
	memcpy(hb->buf + hb->len, n, nl);
	hb->len += nl;
	hb->buf[hb->len++] = ':';
	hb->buf[hb->len++] = ' ';
	memcpy(hb->buf + hb->len, v, vl);
	hb->len += vl;
	hb->buf[hb->len++] = '\r';
	hb->buf[hb->len++] = '\n';
}

/* Queue the head; -1 if it did not fit or memory ran out. */
int
hbuf_flush(struct hbuf *hb, struct evbuffer *out)
{
	if (hb->oom)
		return (-1);
	return (evbuffer_add(out, hb->buf, hb->len));
}
