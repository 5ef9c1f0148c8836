/*
 * shm-slab.c: a first-fit allocator over a zone's data area.
 *
 * Every link is an offset from the zone's start, never a pointer, so the
 * allocator's state means the same thing wherever the zone is mapped
 * (memcached restart_fixup); only the pointers handed to callers are
 * absolute.  Each block starts with a struct slab_block; free blocks form
 * one list sorted by address, which makes merging with both neighbours
 * on free a single walk.  Blocks and payloads are 16-byte aligned.
 *
 * A fresh zone has h_free and h_used both 0.  Once any block exists
 * either the free list is non-empty or h_used is non-zero, so that state
 * means "never used" and the whole data area is made one free block on
 * the first allocation.
 *
 * The caller holds the zone lock, so nothing here may make a system call
 * or log, except fatalx() on a corrupt zone, where the worker is lost
 * anyway and the master will break the lock.
 */
#include "config.h"

#include <sys/types.h>

#include <stdint.h>

#include "lib.h"
#include "shm.h"

#define SLAB_ALIGN	16
#define SLAB_MINBLOCK	(sizeof(struct slab_block) + SLAB_ALIGN)
#define SLAB_USED	UINT64_MAX	/* b_next of a handed-out block */

struct slab_block {
	uint64_t	 b_size;	/* bytes, header included */
	uint64_t	 b_next;	/* free: next free offset, 0 end */
};

_Static_assert(sizeof(struct slab_block) % SLAB_ALIGN == 0,
    "slab block header must keep payloads aligned");

static struct slab_block	*slab_block(struct shm_hdr *, uint64_t);
static uint64_t			 slab_start(struct shm_zone *);
static void			 slab_init(struct shm_zone *);

static struct slab_block *
slab_block(struct shm_hdr *h, uint64_t off)
{
	return ((struct slab_block *)((char *)h + off));
}

/* Offset of the data area; shm.c owns that layout. */
static uint64_t
slab_start(struct shm_zone *z)
{
	return ((uint64_t)((char *)shm_zone_root(z) - (char *)z->z_hdr));
}

static void
slab_init(struct shm_zone *z)
{
	struct shm_hdr		*h = z->z_hdr;
	struct slab_block	*b;
	uint64_t		 off;

	off = slab_start(z);
	b = slab_block(h, off);
	b->b_size = shm_zone_datasize(z) & ~(uint64_t)(SLAB_ALIGN - 1);
	b->b_next = 0;
	h->h_free = off;
}

/*
 * Allocate size bytes, 16-byte aligned, from zone z.  Any process; the
 * caller holds the zone lock.  Returns NULL for size 0 or when no free
 * block is large enough.  h_used counts block headers too.
 */
void *
shm_alloc_locked(struct shm_zone *z, size_t size)
{
	struct shm_hdr		*h = z->z_hdr;
	struct slab_block	*b, *rest;
	uint64_t		 need, off, prev, next;

	if (size == 0 || size > shm_zone_datasize(z))
		return (NULL);
	need = ((uint64_t)size + SLAB_ALIGN - 1) & ~(uint64_t)(SLAB_ALIGN - 1);
	need += sizeof(struct slab_block);

	if (h->h_free == 0 && h->h_used == 0)
		slab_init(z);

	prev = 0;
	for (off = h->h_free; off != 0; prev = off, off = b->b_next) {
		b = slab_block(h, off);
		if (b->b_size < need)
			continue;
		/*
		 * Hand out the front and leave the tail where the block was
		 * in the list, which keeps the list sorted.  A tail too
		 * small to hold anything goes with the block.
		 */
		if (b->b_size - need >= SLAB_MINBLOCK) {
			next = off + need;
			rest = slab_block(h, next);
			rest->b_size = b->b_size - need;
			rest->b_next = b->b_next;
			b->b_size = need;
		} else
			next = b->b_next;
		if (prev == 0)
			h->h_free = next;
		else
			slab_block(h, prev)->b_next = next;
		b->b_next = SLAB_USED;
		h->h_used += b->b_size;
		return ((char *)b + sizeof(*b));
	}
	return (NULL);
}

/*
 * Return p, from shm_alloc_locked() on the same zone, to the free list
 * and merge it with free neighbours.  Any process; the caller holds the
 * zone lock.  NULL is a no-op; a pointer that is not a live block of this
 * zone means the zone is corrupt and is fatal.
 */
void
shm_free_locked(struct shm_zone *z, void *p)
{
	struct shm_hdr		*h = z->z_hdr;
	struct slab_block	*b, *nb, *pb;
	uint64_t		 off, prev, next;
	char			*cp = p;

	if (p == NULL)
		return;
	if (cp < (char *)h + slab_start(z) + sizeof(*b) ||
	    cp >= (char *)h + z->z_size)
		fatalx("%s: zone %s: pointer outside the zone", __func__,
		    z->z_name);
	off = (uint64_t)(cp - (char *)h) - sizeof(*b);
	b = slab_block(h, off);
	if (off % SLAB_ALIGN != 0 || b->b_next != SLAB_USED ||
	    b->b_size < SLAB_MINBLOCK || b->b_size > z->z_size - off ||
	    b->b_size > h->h_used)
		fatalx("%s: zone %s: bad or double free", __func__,
		    z->z_name);
	h->h_used -= b->b_size;

	prev = 0;
	for (next = h->h_free; next != 0 && next < off;
	    next = slab_block(h, next)->b_next)
		prev = next;

	b->b_next = next;
	if (next != 0 && off + b->b_size == next) {
		nb = slab_block(h, next);
		b->b_size += nb->b_size;
		b->b_next = nb->b_next;
	}
	if (prev == 0) {
		h->h_free = off;
		return;
	}
	pb = slab_block(h, prev);
	if (prev + pb->b_size == off) {
		pb->b_size += b->b_size;
		pb->b_next = b->b_next;
	} else
		pb->b_next = off;
}
