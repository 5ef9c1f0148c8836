/*
 * pool.c: a request arena.  Allocations are bump-pointer from a chain of
 * blocks and are all released at once when the request ends, so request
 * code never frees piecemeal and cannot leak (nginx ngx_pool_t).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib.h"

#define POOL_ALIGN	16

struct pool_block {
	struct pool_block	*next;
	size_t			 size;	/* usable bytes after the header */
	size_t			 used;
	/* data follows, aligned */
};

struct pool {
	struct pool_block	*first;
	struct pool_block	*cur;
	size_t			 blocksize;	/* bytes in a normal block */
};

#define BLOCK_DATA(b)	((char *)(b) + \
	((sizeof(struct pool_block) + POOL_ALIGN - 1) & ~(size_t)(POOL_ALIGN - 1)))
#define BLOCK_HDR	((sizeof(struct pool_block) + POOL_ALIGN - 1) & \
	~(size_t)(POOL_ALIGN - 1))

static struct pool_block *
pool_block_new(size_t size)
{
	struct pool_block	*b;

	if ((b = malloc(BLOCK_HDR + size)) == NULL)
		return (NULL);
	b->next = NULL;
	b->size = size;
	b->used = 0;
	return (b);
}

/* A new arena whose first block holds size bytes.  NULL on OOM. */
struct pool *
pool_new(size_t size)
{
	struct pool	*p;

	if ((p = malloc(sizeof(*p))) == NULL)
		return (NULL);
	if (size < 256)
		size = 256;
	if ((p->first = pool_block_new(size)) == NULL) {
		free(p);
		return (NULL);
	}
	p->cur = p->first;
	p->blocksize = size;
	return (p);
}

void
pool_free(struct pool *p)
{
	struct pool_block	*b, *next;

	if (p == NULL)
		return;
	for (b = p->first; b != NULL; b = next) {
		next = b->next;
		free(b);
	}
	free(p);
}

/* Release everything but the first block, for the next request. */
void
pool_reset(struct pool *p)
{
	struct pool_block	*b, *next;

	for (b = p->first->next; b != NULL; b = next) {
		next = b->next;
		free(b);
	}
	p->first->next = NULL;
	p->first->used = 0;
	p->cur = p->first;
}

/* size bytes, 16-aligned, valid until pool_reset/pool_free; NULL on OOM. */
void *
pool_alloc(struct pool *p, size_t size)
{
	struct pool_block	*b;
	void			*v;
	size_t			 want;

	size = (size + POOL_ALIGN - 1) & ~(size_t)(POOL_ALIGN - 1);
	b = p->cur;
	if (b->size - b->used < size) {
		want = size > p->blocksize ? size : p->blocksize;
		if ((b = pool_block_new(want)) == NULL)
			return (NULL);
		b->next = NULL;
		p->cur->next = b;
		p->cur = b;
	}
	v = BLOCK_DATA(b) + b->used;
	b->used += size;
	return (v);
}

char *
pool_strndup(struct pool *p, const char *s, size_t len)
{
	char	*d;

	if ((d = pool_alloc(p, len + 1)) == NULL)
		return (NULL);
	memcpy(d, s, len);
	d[len] = '\0';
	return (d);
}
