/*
 * head.c: storage for one message head as llhttp hands it over in pieces.
 * The buffer starts small and doubles up to the configured limit, so a
 * typical request costs a kilobyte, not max_header_size; header entries
 * point into the buffer and are moved with it.
 */
#include "config.h"

#include <sys/types.h>

#include <string.h>

#include "lib.h"
#include "worker.h"

#define HEAD_INIT_BUF	1024
#define HEAD_INIT_HDR	16

/* An empty head in pool, at most max bytes.  0, or -1 on OOM. */
int
http_head_init(struct http_head *h, struct pool *pool, size_t max)
{
	h->pool = pool;
	h->len = 0;
	h->max = max;
	h->cap = max < HEAD_INIT_BUF ? max : HEAD_INIT_BUF;
	h->nhdr = 0;
	h->hdrcap = HEAD_INIT_HDR;
	h->in_value = 0;
	h->overflow = 0;
	h->url_off = 0;
	h->url_len = 0;
	h->buf = pool_alloc(pool, h->cap);
	h->hdr = pool_alloc(pool, h->hdrcap * sizeof(*h->hdr));
	return (h->buf == NULL || h->hdr == NULL ? -1 : 0);
}

static int
http_head_grow(struct http_head *h, size_t need)
{
	size_t	 cap = h->cap;
	char	*nb;
	int	 i;

	if (need > h->max - h->len) {
		h->overflow = 1;
		return (-1);
	}
	while (cap - h->len < need)
		cap = cap * 2 > h->max ? h->max : cap * 2;
	if ((nb = pool_alloc(h->pool, cap)) == NULL) {
		h->overflow = 1;
		return (-1);
	}
	memcpy(nb, h->buf, h->len);
	for (i = 0; i < h->nhdr; i++) {
		h->hdr[i].name = nb + (h->hdr[i].name - h->buf);
		if (h->hdr[i].value != NULL)
			h->hdr[i].value = nb + (h->hdr[i].value - h->buf);
	}
	h->buf = nb;
	h->cap = cap;
	return (0);
}

static int
http_head_append(struct http_head *h, const char *at, size_t len)
{
	if (len > h->cap - h->len && http_head_grow(h, len) == -1)
		return (-1);
	memcpy(h->buf + h->len, at, len);
	h->len += len;
	return (0);
}

/* A piece of the request target. */
int
http_head_url(struct http_head *h, const char *at, size_t len)
{
	if (h->url_len == 0)
		h->url_off = h->len;
	if (http_head_append(h, at, len) == -1)
		return (-1);
	h->url_len += len;
	return (0);
}

/* A piece of a header name; a new header starts after a value. */
int
http_head_field(struct http_head *h, const char *at, size_t len)
{
	struct http_header	*hd, *nh;

	if (h->nhdr == 0 || h->in_value) {
		if (h->nhdr == HTTP_MAX_HEADERS) {
			h->overflow = 1;
			return (-1);
		}
		if (h->nhdr == h->hdrcap) {
			if ((nh = pool_alloc(h->pool, 2 * h->hdrcap *
			    sizeof(*nh))) == NULL) {
				h->overflow = 1;
				return (-1);
			}
			memcpy(nh, h->hdr, h->nhdr * sizeof(*nh));
			h->hdr = nh;
			h->hdrcap *= 2;
		}
		hd = &h->hdr[h->nhdr++];
		hd->name = h->buf + h->len;
		hd->namelen = 0;
		hd->value = NULL;
		hd->valuelen = 0;
		h->in_value = 0;
	}
	hd = &h->hdr[h->nhdr - 1];
	if (hd->namelen == 0)
		hd->name = h->buf + h->len;
	if (http_head_append(h, at, len) == -1)
		return (-1);
	/* The buffer may have moved: name was rebased by the grow. */
	hd = &h->hdr[h->nhdr - 1];
	if (hd->namelen == 0)
		hd->name = h->buf + h->len - len;
	hd->namelen += len;
	return (0);
}

/* A piece of the current header's value. */
int
http_head_value(struct http_head *h, const char *at, size_t len)
{
	struct http_header	*hd;

	if (h->nhdr == 0)
		return (-1);
	hd = &h->hdr[h->nhdr - 1];
	h->in_value = 1;
	if (http_head_append(h, at, len) == -1)
		return (-1);
	hd = &h->hdr[h->nhdr - 1];
	if (hd->value == NULL)
		hd->value = h->buf + h->len - len;
	hd->valuelen += len;
	return (0);
}
