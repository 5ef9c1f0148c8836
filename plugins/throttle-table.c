/*
 * throttle-table.c: the shared-memory table of throttle entries and the
 * multi-level decision (nginx limit_req keeps its nodes the same way: a
 * lookup structure plus an LRU queue in a slab-backed zone).
 *
 * The zone's h_root holds the offset of a struct throttle_root, the first
 * block the slab hands out.  The root points to an array of hash bucket
 * heads; each bucket is a singly linked chain of entries, and all entries
 * also sit on one doubly linked LRU list whose tail is evicted when the
 * zone is full.  Every link is an offset from the zone header, checked
 * against the zone's bounds before it is followed, so a zone kept across
 * a reload means the same thing in every generation, and a damaged link
 * is found rather than followed.
 *
 * Everything runs under the zone lock and only does arithmetic: no system
 * calls, no logging, no allocation outside the zone.  The caller reads the
 * clock before it calls in.
 *
 * Crash safety.  The lock of a worker killed mid-update is broken by the
 * master, so the next holder may find a half-done update.  Plain counter
 * stores are ordered so that a torn one errs on the strict side
 * (throttle-algo.c).  Structural changes announce themselves in
 * tr_dirty (and tr_dirty_off, the entry concerned) before their first
 * store and clear it after their last; a compiler barrier keeps the
 * stores in program order, which is all a SIGKILL can observe since the
 * dying process's executed stores stay in the shared pages.  An entry is
 * written completely before a single store of its offset publishes it in
 * its chain, and an evicted entry leaves its chain with a single store, so
 * the chains are always well formed; only the LRU list and the slab can
 * be torn.  table_lock() therefore repairs: after THROTTLE_DIRTY_LINK it
 * rebuilds the LRU list from the chains (recency order is lost once) and
 * frees tr_dirty_off if the chains no longer reach it; after
 * THROTTLE_DIRTY_SLAB, where the allocator's free list may be half
 * rewritten, it reformats the table, keeping its counters.  A reformat
 * forgets every count, which admits more for at most one period; it is
 * counted in tr_reformats so it is never silent.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/random.h>

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib.h"
#include "shm.h"
#include "throttle.h"

#define TABLE_ALIGN		16	/* shm_alloc_locked() alignment */
#define TABLE_BUCKETS_MIN	16
#define TABLE_BUCKETS_MAX	(1U << 24)
#define TABLE_WALK_CHUNK	16	/* entries copied per lock in a walk */

/* A sliding_log ring follows its entry in the same block. */
_Static_assert(sizeof(struct throttle_entry) % TABLE_ALIGN == 0,
    "a ring after an entry must stay aligned");

/* Why table_get() found no entry. */
enum table_err {
	TABLE_OK = 0,
	TABLE_NOMEM,		/* no room even after eviction */
	TABLE_CORRUPT,		/* a bad link: the table was reformatted */
	TABLE_CONFLICT		/* one policy id, two shapes, in one call */
};

static void		 table_barrier(void);
static void		 table_dirty(struct throttle_root *, uint32_t,
			    uint64_t);
static uint64_t		 table_datastart(struct shm_zone *);
static void		*table_ptr(struct shm_zone *, uint64_t, size_t);
static uint64_t		 table_off(struct shm_zone *, const void *);
static struct throttle_entry *table_entry(struct shm_zone *, uint64_t);
static uint64_t		*table_buckets(struct shm_zone *,
			    struct throttle_root *);
static uint64_t		*table_ring(struct shm_zone *,
			    struct throttle_entry *);
static uint64_t		 table_hash(const struct throttle_root *,
			    const char *, size_t);
static uint32_t		 table_nbuckets(struct shm_zone *, uint32_t);
static uint64_t		 table_maxentries(struct shm_zone *);
static int		 table_format(struct shm_zone *, uint32_t,
			    const uint64_t *);
static struct throttle_root *table_wipe(struct shm_zone *, int);
static struct throttle_root *table_root(struct shm_zone *);
static int		 table_repair(struct shm_zone *,
			    struct throttle_root *);
static struct throttle_root *table_open(struct shm_zone *);
static struct throttle_root *table_lock(struct shm_zone *);
static void		 table_unlock(struct shm_zone *);
static void		 table_lru_unlink(struct shm_zone *,
			    struct throttle_root *, struct throttle_entry *);
static void		 table_lru_push(struct shm_zone *,
			    struct throttle_root *, struct throttle_entry *);
static int		 table_chain_unlink(struct shm_zone *,
			    struct throttle_root *, struct throttle_entry *);
static void		 table_remove(struct shm_zone *,
			    struct throttle_root *, struct throttle_entry *);
static int		 table_pinned(const uint64_t *, size_t, uint64_t);
static int		 table_evict(struct shm_zone *, struct throttle_root *,
			    const uint64_t *, size_t);
static void		*table_alloc(struct shm_zone *, struct throttle_root *,
			    size_t, const uint64_t *, size_t);
static struct throttle_entry *table_find(struct shm_zone *,
			    struct throttle_root *, const char *, size_t,
			    uint32_t, uint64_t, int *);
static int		 table_snapshot_same(const struct throttle_entry *,
			    const struct throttle_policy *);
static struct throttle_entry *table_insert(struct shm_zone *,
			    struct throttle_root *,
			    const struct throttle_level *, uint64_t,
			    const uint64_t *, size_t, enum table_err *);
static struct throttle_entry *table_get(struct shm_zone *,
			    struct throttle_root *,
			    const struct throttle_level *, const uint64_t *,
			    size_t, enum table_err *);
static void		 table_info(struct shm_zone *,
			    const struct throttle_entry *, uint64_t,
			    struct throttle_info *);
static int		 table_check_locked(struct shm_zone *,
			    struct throttle_root *, const char **);
static uint64_t		 sip_rotl(uint64_t, int);
static uint64_t		 sip_hash(const uint64_t *, const char *, size_t);

/*
 * Stores before the barrier are emitted before stores after it.  A
 * killed process can only be observed between instructions, so compiler
 * ordering is all the crash reasoning above needs; other processes see
 * the stores through the lock's acquire and release.
 */
static void
table_barrier(void)
{
	atomic_signal_fence(memory_order_seq_cst);
}

static void
table_dirty(struct throttle_root *r, uint32_t how, uint64_t off)
{
	table_barrier();
	if (how != THROTTLE_DIRTY_NONE)
		r->tr_dirty_off = off;
	table_barrier();
	r->tr_dirty = how;
	table_barrier();
	if (how == THROTTLE_DIRTY_NONE)
		r->tr_dirty_off = 0;
	table_barrier();
}

static uint64_t
table_datastart(struct shm_zone *z)
{
	return ((uint64_t)((char *)shm_zone_root(z) - (char *)z->z_hdr));
}

/* Offset off as a pointer to len bytes, or NULL if that leaves the zone. */
static void *
table_ptr(struct shm_zone *z, uint64_t off, size_t len)
{
	if (off < table_datastart(z) || off % TABLE_ALIGN != 0 ||
	    off > z->z_size || len > z->z_size - off)
		return (NULL);
	return ((char *)z->z_hdr + off);
}

static uint64_t
table_off(struct shm_zone *z, const void *p)
{
	return ((uint64_t)((const char *)p - (const char *)z->z_hdr));
}

/* The entry at off if it is in bounds and looks like one, else NULL. */
static struct throttle_entry *
table_entry(struct shm_zone *z, uint64_t off)
{
	struct throttle_entry	*e;

	if ((e = table_ptr(z, off, sizeof(*e))) == NULL)
		return (NULL);
	if (e->te_magic != THROTTLE_ENTRY_MAGIC || e->te_keylen == 0 ||
	    e->te_keylen > THROTTLE_KEY_MAX || e->te_algo >= THROTTLE_NALGOS ||
	    e->te_limit == 0 || e->te_period == 0)
		return (NULL);
	if (e->te_algo == THROTTLE_SLIDING_LOG) {
		if (e->te_limit > THROTTLE_LOG_MAX ||
		    e->te_log != off + sizeof(*e) ||
		    e->te_log_head >= e->te_limit ||
		    e->te_log_count > e->te_limit ||
		    table_ptr(z, e->te_log, e->te_limit *
		    sizeof(uint64_t)) == NULL)
			return (NULL);
	}
	return (e);
}

static uint64_t *
table_buckets(struct shm_zone *z, struct throttle_root *r)
{
	return (table_ptr(z, r->tr_buckets,
	    (size_t)r->tr_nbuckets * sizeof(uint64_t)));
}

/* A sliding_log entry's ring, allocated with it; NULL for others. */
static uint64_t *
table_ring(struct shm_zone *z, struct throttle_entry *e)
{
	if (e->te_algo != THROTTLE_SLIDING_LOG)
		return (NULL);
	return (table_ptr(z, e->te_log, e->te_limit * sizeof(uint64_t)));
}

/*
 * SipHash-2-4, keyed per zone, so clients choosing keys (addresses,
 * consumer names) cannot aim them all at one chain.
 */
static uint64_t
sip_rotl(uint64_t x, int b)
{
	return ((x << b) | (x >> (64 - b)));
}

#define SIP_ROUND(v0, v1, v2, v3) do {					\
	v0 += v1; v1 = sip_rotl(v1, 13); v1 ^= v0; v0 = sip_rotl(v0, 32); \
	v2 += v3; v3 = sip_rotl(v3, 16); v3 ^= v2;			\
	v0 += v3; v3 = sip_rotl(v3, 21); v3 ^= v0;			\
	v2 += v1; v1 = sip_rotl(v1, 17); v1 ^= v2; v2 = sip_rotl(v2, 32); \
} while (0)

static uint64_t
sip_hash(const uint64_t *k, const char *p, size_t len)
{
	uint64_t	 v0, v1, v2, v3, m, b;
	size_t		 i, j, left;

	v0 = k[0] ^ UINT64_C(0x736f6d6570736575);
	v1 = k[1] ^ UINT64_C(0x646f72616e646f6d);
	v2 = k[0] ^ UINT64_C(0x6c7967656e657261);
	v3 = k[1] ^ UINT64_C(0x7465646279746573);
	for (i = 0; i + 8 <= len; i += 8) {
		m = 0;
		for (j = 0; j < 8; j++)
			m |= (uint64_t)(unsigned char)p[i + j] << (8 * j);
		v3 ^= m;
		SIP_ROUND(v0, v1, v2, v3);
		SIP_ROUND(v0, v1, v2, v3);
		v0 ^= m;
	}
	b = (uint64_t)(len & 0xff) << 56;
	left = len - i;
	for (j = 0; j < left; j++)
		b |= (uint64_t)(unsigned char)p[i + j] << (8 * j);
	v3 ^= b;
	SIP_ROUND(v0, v1, v2, v3);
	SIP_ROUND(v0, v1, v2, v3);
	v0 ^= b;
	v2 ^= 0xff;
	for (j = 0; j < 4; j++)
		SIP_ROUND(v0, v1, v2, v3);
	return (v0 ^ v1 ^ v2 ^ v3);
}

/* Only the key is hashed, so reset finds a key under every policy. */
static uint64_t
table_hash(const struct throttle_root *r, const char *key, size_t len)
{
	return (sip_hash(r->tr_seed, key, len));
}

/*
 * A power of two: the hint rounded up, or about one bucket per two
 * entries the zone can hold; the array never takes over a quarter of it.
 */
static uint32_t
table_nbuckets(struct shm_zone *z, uint32_t hint)
{
	uint64_t	 want, cap;
	uint32_t	 nb;

	cap = shm_zone_datasize(z) / 4 / sizeof(uint64_t);
	want = hint != 0 ? hint : table_maxentries(z) / 2;
	if (want > cap)
		want = cap;
	if (want > TABLE_BUCKETS_MAX)
		want = TABLE_BUCKETS_MAX;
	nb = TABLE_BUCKETS_MIN;
	while (nb < want)
		nb <<= 1;
	while (nb > TABLE_BUCKETS_MIN && nb > cap)
		nb >>= 1;
	return (nb);
}

/* More entries than this in the chains means a cycle. */
static uint64_t
table_maxentries(struct shm_zone *z)
{
	return (shm_zone_datasize(z) / sizeof(struct throttle_entry));
}

/*
 * Lay out a fresh table: the root, which is the first block of an empty
 * slab, then the bucket array.  Caller holds the lock; the slab is empty.
 * Counters already in the root's memory are kept by table_wipe(), which
 * is why the root is not cleared here.  0, or -1 if the zone is too
 * small.
 */
static int
table_format(struct shm_zone *z, uint32_t nbuckets, const uint64_t *seed)
{
	struct shm_hdr		*h = z->z_hdr;
	struct throttle_root	*r;
	uint64_t		*b;

	if ((r = shm_alloc_locked(z, sizeof(*r))) == NULL)
		return (-1);
	/* Dirty until the buckets exist, before the magic makes it valid. */
	r->tr_dirty = THROTTLE_DIRTY_SLAB;
	table_barrier();
	h->h_root = table_off(z, r);
	r->tr_magic = THROTTLE_MAGIC;
	r->tr_layout = THROTTLE_LAYOUT;
	table_barrier();
	r->tr_nbuckets = nbuckets;
	r->tr_seed[0] = seed[0];
	r->tr_seed[1] = seed[1];
	if ((b = shm_alloc_locked(z, (size_t)nbuckets * sizeof(*b))) ==
	    NULL)
		return (-1);
	memset(b, 0, (size_t)nbuckets * sizeof(*b));
	r->tr_buckets = table_off(z, b);
	r->tr_lru_head = 0;
	r->tr_lru_tail = 0;
	r->tr_nentries = 0;
	table_dirty(r, THROTTLE_DIRTY_NONE, 0);
	return (0);
}

/*
 * Empty the zone and format it again.  Caller holds the lock.  keep says
 * the root is sound enough to keep its seed, bucket count and counters;
 * otherwise they start over, with a seed mixed from what is at hand (no
 * system call under the lock).  A worker killed in here leaves tr_dirty
 * at THROTTLE_DIRTY_SLAB, or no valid root, so the next holder wipes
 * again.  Returns the root, or NULL if the zone cannot hold one.
 */
static struct throttle_root *
table_wipe(struct shm_zone *z, int keep)
{
	struct shm_hdr		*h = z->z_hdr;
	struct throttle_root	*r, save;
	uint64_t		 seed[2];
	uint32_t		 nb;

	r = table_ptr(z, h->h_root, sizeof(*r));
	memset(&save, 0, sizeof(save));
	if (keep && r != NULL) {
		save = *r;
		seed[0] = r->tr_seed[0];
		seed[1] = r->tr_seed[1];
		nb = r->tr_nbuckets;
	} else {
		seed[0] = (uint64_t)(uintptr_t)h ^ h->h_used ^
		    UINT64_C(0x9e3779b97f4a7c15);
		seed[1] = (r != NULL ? r->tr_seed[1] : 0) ^ h->h_free ^
		    ((uint64_t)h->h_lock.lk_broken << 32);
		nb = table_nbuckets(z, 0);
	}
	if (nb < TABLE_BUCKETS_MIN || (nb & (nb - 1)) != 0)
		nb = table_nbuckets(z, 0);

	/*
	 * Mark the old root dirty first, so a death from here on makes
	 * the next holder wipe again; then return the slab to its
	 * documented "never used" state (shm-slab.c).
	 */
	if (r != NULL) {
		r->tr_dirty = THROTTLE_DIRTY_SLAB;
		table_barrier();
	}
	h->h_free = 0;
	h->h_used = 0;
	if (table_format(z, nb, seed) == -1) {
		h->h_root = 0;
		return (NULL);
	}
	r = table_ptr(z, h->h_root, sizeof(*r));
	r->tr_evictions = save.tr_evictions;
	r->tr_nomem = save.tr_nomem;
	r->tr_dry_hits = save.tr_dry_hits;
	r->tr_recoveries = save.tr_recoveries;
	r->tr_reformats = save.tr_reformats + 1;
	return (r);
}

/*
 * The root, if h_root names a sound one; a damaged root is replaced by a
 * fresh table.  NULL if the zone was never formatted.  Caller holds the
 * lock.
 */
static struct throttle_root *
table_root(struct shm_zone *z)
{
	struct throttle_root	*r;
	uint32_t		 nb;

	if (z->z_hdr->h_root == 0)
		return (NULL);
	r = table_ptr(z, z->z_hdr->h_root, sizeof(*r));
	if (r == NULL || r->tr_magic != THROTTLE_MAGIC ||
	    r->tr_layout != THROTTLE_LAYOUT)
		return (table_wipe(z, 0));
	nb = r->tr_nbuckets;
	if (nb < TABLE_BUCKETS_MIN || (nb & (nb - 1)) != 0 ||
	    table_buckets(z, r) == NULL)
		return (table_wipe(z, 0));
	return (r);
}

/*
 * After a torn link: rebuild the LRU list and the entry count from the
 * hash chains, and free the entry that was being inserted or evicted if
 * no chain reaches it.  Caller holds the lock.  -1 if a chain itself is
 * damaged, which the caller answers with a reformat.
 */
static int
table_repair(struct shm_zone *z, struct throttle_root *r)
{
	struct throttle_entry	*e, *tail = NULL;
	uint64_t		*b, off, max, n = 0, orphan;
	uint32_t		 i;
	int			 reached = 0;

	b = table_buckets(z, r);
	max = table_maxentries(z);
	orphan = r->tr_dirty_off;
	r->tr_lru_head = 0;
	r->tr_lru_tail = 0;
	for (i = 0; i < r->tr_nbuckets; i++) {
		for (off = b[i]; off != 0; off = e->te_hnext) {
			if ((e = table_entry(z, off)) == NULL || ++n > max ||
			    (e->te_hash & (r->tr_nbuckets - 1)) != i)
				return (-1);
			if (off == orphan)
				reached = 1;
			e->te_lprev = tail != NULL ? table_off(z, tail) : 0;
			e->te_lnext = 0;
			if (tail != NULL)
				tail->te_lnext = off;
			else
				r->tr_lru_head = off;
			r->tr_lru_tail = off;
			tail = e;
		}
	}
	r->tr_nentries = n;
	if (orphan != 0 && !reached) {
		if (table_entry(z, orphan) == NULL)
			return (-1);
		table_dirty(r, THROTTLE_DIRTY_SLAB, orphan);
		shm_free_locked(z, (char *)z->z_hdr + orphan);
	}
	r->tr_recoveries++;
	table_dirty(r, THROTTLE_DIRTY_NONE, 0);
	return (0);
}

/*
 * The table's root, repaired if the lock's last holder died mid-update.
 * Caller holds the lock.  NULL if the zone was never formatted or cannot
 * hold a table.
 */
static struct throttle_root *
table_open(struct shm_zone *z)
{
	struct throttle_root	*r;

	if ((r = table_root(z)) == NULL)
		return (NULL);
	switch (r->tr_dirty) {
	case THROTTLE_DIRTY_NONE:
		break;
	case THROTTLE_DIRTY_LINK:
		if (table_repair(z, r) == 0)
			break;
		/* FALLTHROUGH */
	default:
		r = table_wipe(z, 1);
		break;
	}
	return (r);
}

/* Take the zone lock and open the table; the lock is held even on NULL. */
static struct throttle_root *
table_lock(struct shm_zone *z)
{
	shm_lock(&z->z_hdr->h_lock);
	return (table_open(z));
}

static void
table_unlock(struct shm_zone *z)
{
	shm_unlock(&z->z_hdr->h_lock);
}

/* LRU list surgery; the caller has marked the root dirty. */
static void
table_lru_unlink(struct shm_zone *z, struct throttle_root *r,
    struct throttle_entry *e)
{
	struct throttle_entry	*p, *n;

	p = e->te_lprev != 0 ? table_entry(z, e->te_lprev) : NULL;
	n = e->te_lnext != 0 ? table_entry(z, e->te_lnext) : NULL;
	if (p != NULL)
		p->te_lnext = e->te_lnext;
	else
		r->tr_lru_head = e->te_lnext;
	if (n != NULL)
		n->te_lprev = e->te_lprev;
	else
		r->tr_lru_tail = e->te_lprev;
	e->te_lprev = 0;
	e->te_lnext = 0;
}

static void
table_lru_push(struct shm_zone *z, struct throttle_root *r,
    struct throttle_entry *e)
{
	struct throttle_entry	*h;
	uint64_t		 off;

	off = table_off(z, e);
	e->te_lprev = 0;
	e->te_lnext = r->tr_lru_head;
	h = r->tr_lru_head != 0 ? table_entry(z, r->tr_lru_head) : NULL;
	if (h != NULL)
		h->te_lprev = off;
	else
		r->tr_lru_tail = off;
	r->tr_lru_head = off;
}

/* Take e out of its chain with one store.  0, or -1 if not found. */
static int
table_chain_unlink(struct shm_zone *z, struct throttle_root *r,
    struct throttle_entry *e)
{
	struct throttle_entry	*p;
	uint64_t		*b, *linkp, off, target, max, n = 0;

	b = table_buckets(z, r);
	target = table_off(z, e);
	max = table_maxentries(z);
	linkp = &b[e->te_hash & (r->tr_nbuckets - 1)];
	while ((off = *linkp) != 0) {
		if (off == target) {
			*linkp = e->te_hnext;
			return (0);
		}
		if ((p = table_entry(z, off)) == NULL || ++n > max)
			return (-1);
		linkp = &p->te_hnext;
	}
	return (-1);
}

/*
 * Unlink e from its chain and the LRU list, then free it (and its ring,
 * which shares its block).  Caller holds the lock.
 */
static void
table_remove(struct shm_zone *z, struct throttle_root *r,
    struct throttle_entry *e)
{
	table_dirty(r, THROTTLE_DIRTY_LINK, table_off(z, e));
	(void)table_chain_unlink(z, r, e);
	table_lru_unlink(z, r, e);
	r->tr_nentries--;
	table_dirty(r, THROTTLE_DIRTY_SLAB, table_off(z, e));
	e->te_magic = 0;
	shm_free_locked(z, e);
	table_dirty(r, THROTTLE_DIRTY_NONE, 0);
}

static int
table_pinned(const uint64_t *pins, size_t npins, uint64_t off)
{
	size_t	 i;

	for (i = 0; i < npins; i++)
		if (pins[i] == off)
			return (1);
	return (0);
}

/*
 * Evict the least recently used entry that this call is not using.
 * Caller holds the lock.  0, or -1 if there is none.
 */
static int
table_evict(struct shm_zone *z, struct throttle_root *r,
    const uint64_t *pins, size_t npins)
{
	struct throttle_entry	*e;
	uint64_t		 off;

	for (off = r->tr_lru_tail; off != 0; off = e->te_lprev) {
		if ((e = table_entry(z, off)) == NULL)
			return (-1);
		if (table_pinned(pins, npins, off))
			continue;
		table_remove(z, r, e);
		r->tr_evictions++;
		return (0);
	}
	return (-1);
}

/*
 * size bytes from the zone, evicting LRU entries until they fit.  Caller
 * holds the lock.  On success tr_dirty is left at THROTTLE_DIRTY_SLAB, so
 * a death before the caller links the block reformats rather than leaks;
 * NULL if nothing is left to evict.
 */
static void *
table_alloc(struct shm_zone *z, struct throttle_root *r, size_t size,
    const uint64_t *pins, size_t npins)
{
	void	*p;

	for (;;) {
		table_dirty(r, THROTTLE_DIRTY_SLAB, 0);
		if ((p = shm_alloc_locked(z, size)) != NULL)
			return (p);
		table_dirty(r, THROTTLE_DIRTY_NONE, 0);
		if (table_evict(z, r, pins, npins) == -1)
			return (NULL);
	}
}

/*
 * Look (key, policy) up in its chain.  Caller holds the lock.  NULL if
 * absent; *bad is set if the chain is damaged.
 */
static struct throttle_entry *
table_find(struct shm_zone *z, struct throttle_root *r, const char *key,
    size_t keylen, uint32_t policy, uint64_t hash, int *bad)
{
	struct throttle_entry	*e;
	uint64_t		*b, off, max, n = 0;

	*bad = 0;
	b = table_buckets(z, r);
	max = table_maxentries(z);
	for (off = b[hash & (r->tr_nbuckets - 1)]; off != 0;
	    off = e->te_hnext) {
		if ((e = table_entry(z, off)) == NULL || ++n > max) {
			*bad = 1;
			return (NULL);
		}
		if (e->te_hash == hash && e->te_policy == policy &&
		    e->te_keylen == keylen &&
		    memcmp(e->te_key, key, keylen) == 0)
			return (e);
	}
	return (NULL);
}

static int
table_snapshot_same(const struct throttle_entry *e,
    const struct throttle_policy *p)
{
	return (e->te_algo == (uint32_t)p->tp_algo &&
	    e->te_limit == p->tp_limit && e->te_period == p->tp_period &&
	    e->te_burst == p->tp_burst);
}

/*
 * Make an entry for a level: allocate entry and ring as one block, write
 * all of it, then publish it in its chain with one store and put it at
 * the head of the LRU list.  Caller holds the lock.
 */
static struct throttle_entry *
table_insert(struct shm_zone *z, struct throttle_root *r,
    const struct throttle_level *lv, uint64_t hash, const uint64_t *pins,
    size_t npins, enum table_err *err)
{
	const struct throttle_policy	*p = lv->tl_policy;
	struct throttle_entry		*e;
	uint64_t			*b, off;
	size_t				 ringsize;

	ringsize = throttle_algo_ringsize(p);
	e = table_alloc(z, r, sizeof(*e) + ringsize, pins, npins);
	if (e == NULL) {
		*err = TABLE_NOMEM;
		return (NULL);
	}
	off = table_off(z, e);
	memset(e, 0, sizeof(*e));
	e->te_keylen = (uint32_t)lv->tl_keylen;
	e->te_hash = hash;
	e->te_policy = p->tp_id;
	e->te_algo = (uint32_t)p->tp_algo;
	e->te_limit = p->tp_limit;
	e->te_period = p->tp_period;
	e->te_burst = p->tp_burst;
	e->te_log = ringsize != 0 ? off + sizeof(*e) : 0;
	memcpy(e->te_key, lv->tl_key, lv->tl_keylen);
	e->te_magic = THROTTLE_ENTRY_MAGIC;

	b = table_buckets(z, r);
	table_dirty(r, THROTTLE_DIRTY_LINK, off);
	e->te_hnext = b[hash & (r->tr_nbuckets - 1)];
	table_barrier();
	b[hash & (r->tr_nbuckets - 1)] = off;
	table_barrier();
	table_lru_push(z, r, e);
	r->tr_nentries++;
	table_dirty(r, THROTTLE_DIRTY_NONE, 0);
	return (e);
}

/*
 * The entry of one level, found or made, at the head of the LRU list.
 * A policy whose shape changed (a reload) restarts the key's state; a
 * sliding_log whose ring no longer fits gets a new entry.  Caller holds
 * the lock.  NULL with *err.
 */
static struct throttle_entry *
table_get(struct shm_zone *z, struct throttle_root *r,
    const struct throttle_level *lv, const uint64_t *pins, size_t npins,
    enum table_err *err)
{
	const struct throttle_policy	*p = lv->tl_policy;
	struct throttle_entry		*e;
	uint64_t			 hash;
	int				 bad;

	*err = TABLE_OK;
	hash = table_hash(r, lv->tl_key, lv->tl_keylen);
	e = table_find(z, r, lv->tl_key, lv->tl_keylen, p->tp_id, hash, &bad);
	if (bad) {
		*err = TABLE_CORRUPT;
		return (NULL);
	}
	if (e != NULL && !table_snapshot_same(e, p)) {
		if (table_pinned(pins, npins, table_off(z, e))) {
			*err = TABLE_CONFLICT;
			return (NULL);
		}
		if (e->te_algo == THROTTLE_SLIDING_LOG ||
		    p->tp_algo == THROTTLE_SLIDING_LOG) {
			if (e->te_algo != (uint32_t)p->tp_algo ||
			    e->te_limit != p->tp_limit) {
				table_remove(z, r, e);
				e = NULL;
			}
		}
		if (e != NULL) {
			/*
			 * A new limit or burst applies to the counts so far;
			 * a new algorithm or period makes them meaningless.
			 * The shape is compared in full on every call, so a
			 * torn update here is simply done again.
			 */
			if (e->te_algo != (uint32_t)p->tp_algo ||
			    e->te_period != p->tp_period) {
				e->te_algo = (uint32_t)p->tp_algo;
				e->te_period = p->tp_period;
				throttle_algo_clear(e);
			}
			e->te_limit = p->tp_limit;
			e->te_burst = p->tp_burst;
		}
	}
	if (e == NULL)
		return (table_insert(z, r, lv, hash, pins, npins, err));
	if (r->tr_lru_head != table_off(z, e)) {
		table_dirty(r, THROTTLE_DIRTY_LINK, 0);
		table_lru_unlink(z, r, e);
		table_lru_push(z, r, e);
		table_dirty(r, THROTTLE_DIRTY_NONE, 0);
	}
	return (e);
}

/* Milliseconds of CLOCK_REALTIME since the epoch.  Any process. */
uint64_t
throttle_now_ms(void)
{
	struct timespec	 ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) == -1)
		return (0);
	return ((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
}

/*
 * Format or keep the table in z.  Master, before fork (a kept zone may
 * still be used by the old generation, hence the lock).  The seed is read
 * before the lock is taken.  0, or -1 with *cause.
 */
int
throttle_table_init(struct shm_zone *z, uint32_t nbuckets, char **cause)
{
	struct throttle_root	*r;
	uint64_t		 seed[2];
	const char		*why = NULL;

	if (z->z_layout != THROTTLE_LAYOUT) {
		if (cause != NULL)
			xasprintf(cause, "zone %s: layout %u is not the "
			    "throttle table's %u", z->z_name, z->z_layout,
			    THROTTLE_LAYOUT);
		return (-1);
	}
	if (getentropy(seed, sizeof(seed)) == -1) {
		seed[0] = throttle_now_ms() ^ (uint64_t)getpid();
		seed[1] = (uint64_t)(uintptr_t)&seed ^ seed[0] << 17;
	}

	shm_lock(&z->z_hdr->h_lock);
	if (z->z_hdr->h_root == 0) {
		/* Fresh: the slab has never handed anything out. */
		if (z->z_hdr->h_used != 0 ||
		    table_format(z, table_nbuckets(z, nbuckets), seed) == -1)
			why = "too small for a throttle table";
	} else if ((r = table_open(z)) == NULL)
		why = "too small for a throttle table";
	else if (table_check_locked(z, r, &why) == -1) {
		/* A damaged table is not worth keeping; start over. */
		if (table_wipe(z, 0) == NULL)
			why = "too small for a throttle table";
		else
			why = NULL;
	}
	table_unlock(z);
	explicit_bzero(seed, sizeof(seed));
	if (why == NULL)
		return (0);
	if (cause != NULL)
		xasprintf(cause, "zone %s: %s", z->z_name, why);
	return (-1);
}

/*
 * Decide one request at every level; see throttle.h for the contract.
 * Each level is rolled to its key's clock, checked, and, if it admits or
 * is a dry run, counted at once with an undo record, so a key named at
 * two levels sees its own first count.  If any level refused, the counts
 * are undone in reverse order, which restores every entry exactly.
 */
enum throttle_verdict
throttle_hit(struct shm_zone *z, struct throttle_level *lv, size_t n,
    uint64_t now, size_t *decider, uint64_t *retry_after)
{
	struct throttle_root	*r;
	struct throttle_entry	*e[THROTTLE_LEVELS_MAX];
	uint64_t		*ring[THROTTLE_LEVELS_MAX];
	uint64_t		 pins[THROTTLE_LEVELS_MAX];
	uint64_t		 t[THROTTLE_LEVELS_MAX];
	struct throttle_undo	 undo[THROTTLE_LEVELS_MAX];
	int			 taken[THROTTLE_LEVELS_MAX];
	const struct throttle_policy *p;
	struct throttle_state	 st;
	enum table_err		 err;
	uint64_t		 retry, worst = 0, least = 0;
	size_t			 i, best = 0;
	int			 deny = 0, tries = 0, ok, strict = 0;

	if (decider != NULL)
		*decider = 0;
	if (retry_after != NULL)
		*retry_after = 0;
	if (n == 0 || n > THROTTLE_LEVELS_MAX || now > THROTTLE_NOW_MAX)
		return (THROTTLE_ERROR);
	for (i = 0; i < n; i++) {
		p = lv[i].tl_policy;
		if (lv[i].tl_key == NULL || lv[i].tl_keylen == 0 ||
		    lv[i].tl_keylen > THROTTLE_KEY_MAX || p == NULL ||
		    throttle_policy_check(p, NULL) == -1)
			return (THROTTLE_ERROR);
	}

	if ((r = table_lock(z)) == NULL)
		goto fail;
again:
	for (i = 0; i < n; i++) {
		e[i] = table_get(z, r, &lv[i], pins, i, &err);
		if (e[i] != NULL) {
			pins[i] = table_off(z, e[i]);
			continue;
		}
		/* A reformat invalidates the entries found so far. */
		if (err == TABLE_CORRUPT && tries++ == 0 &&
		    (r = table_wipe(z, 1)) != NULL)
			goto again;
		if (err == TABLE_NOMEM)
			r->tr_nomem++;
		goto fail;
	}
	for (i = 0; i < n; i++) {
		ring[i] = table_ring(z, e[i]);
		t[i] = throttle_algo_roll(e[i], ring[i], now);
	}

	for (i = 0; i < n; i++) {
		p = lv[i].tl_policy;
		ok = throttle_algo_check(e[i], ring[i], t[i], &retry);
		lv[i].tl_limit = e[i]->te_limit;
		lv[i].tl_admitted = ok;
		lv[i].tl_dry_hit = !ok && p->tp_dry_run;
		/* The key's clock may be ahead of now after a step back. */
		lv[i].tl_retry = ok ? 0 : retry + (t[i] - now);
		taken[i] = 0;
		if (ok || p->tp_dry_run) {
			throttle_algo_take(e[i], ring[i], t[i], &undo[i]);
			taken[i] = 1;
		} else if (!deny || lv[i].tl_retry > worst) {
			deny = 1;
			worst = lv[i].tl_retry;
			best = i;
		}
	}
	if (deny) {
		for (i = n; i-- > 0; )
			if (taken[i])
				throttle_algo_undo(e[i], ring[i], &undo[i]);
	} else {
		for (i = 0; i < n; i++) {
			if (lv[i].tl_dry_hit) {
				e[i]->te_dry_hits++;
				r->tr_dry_hits++;
			}
		}
	}
	for (i = 0; i < n; i++) {
		throttle_algo_state(e[i], ring[i], t[i], &st);
		lv[i].tl_remaining = st.st_remaining;
		lv[i].tl_reset = st.st_reset + (t[i] - now);
		lv[i].tl_time = t[i];
	}
	table_unlock(z);

	if (!deny) {
		/* The tightest level, preferring those that can refuse. */
		for (i = 0; i < n; i++) {
			ok = !lv[i].tl_policy->tp_dry_run;
			if (i == 0 || (ok && !strict) || (ok == strict &&
			    lv[i].tl_remaining < least)) {
				best = i;
				least = lv[i].tl_remaining;
				strict = ok;
			}
		}
	}
	if (decider != NULL)
		*decider = best;
	if (retry_after != NULL)
		*retry_after = worst;
	return (deny ? THROTTLE_DENY : THROTTLE_PASS);

fail:
	table_unlock(z);
	return (THROTTLE_ERROR);
}

/* Fill info from e as seen at now, without changing e.  Lock held. */
static void
table_info(struct shm_zone *z, const struct throttle_entry *e, uint64_t now,
    struct throttle_info *info)
{
	struct throttle_entry	 copy;
	struct throttle_state	 st;
	const uint64_t		*ring;
	uint64_t		 t;

	copy = *e;
	ring = table_ring(z, &copy);
	t = throttle_algo_roll(&copy, ring, now);
	throttle_algo_state(&copy, ring, t, &st);

	memset(info, 0, sizeof(*info));
	memcpy(info->ti_key, e->te_key, e->te_keylen);
	info->ti_keylen = e->te_keylen;
	info->ti_policy = e->te_policy;
	info->ti_algo = (enum throttle_algo)e->te_algo;
	info->ti_limit = e->te_limit;
	info->ti_period = e->te_period;
	info->ti_burst = e->te_burst;
	info->ti_count = st.st_count;
	info->ti_remaining = st.st_remaining;
	info->ti_reset = st.st_reset + (t - now);
	info->ti_dry_hits = e->te_dry_hits;
}

/*
 * Walk every entry from a resume point (bucket, position in its chain),
 * copying up to TABLE_WALK_CHUNK matches.  Lock held.  A damaged chain is
 * cut short here; the next throttle_hit() on it reformats.
 */
static size_t
table_collect(struct shm_zone *z, struct throttle_root *r, const char *prefix,
    size_t prefixlen, uint64_t now, struct throttle_info *info,
    uint32_t *bucket, size_t *skip)
{
	struct throttle_entry	*e;
	uint64_t		*b, off, max;
	size_t			 n = 0, pos;

	b = table_buckets(z, r);
	max = table_maxentries(z);
	for (; *bucket < r->tr_nbuckets; (*bucket)++, *skip = 0) {
		pos = 0;
		for (off = b[*bucket]; off != 0; off = e->te_hnext, pos++) {
			if ((e = table_entry(z, off)) == NULL || pos >= max)
				break;
			if (pos < *skip || e->te_keylen < prefixlen ||
			    (prefixlen != 0 &&
			    memcmp(e->te_key, prefix, prefixlen) != 0))
				continue;
			if (n == TABLE_WALK_CHUNK) {
				*skip = pos;
				return (n);
			}
			table_info(z, e, now, &info[n++]);
		}
	}
	return (n);
}

/* See throttle.h.  Any process; the callback runs without the lock. */
int
throttle_table_walk(struct shm_zone *z, const char *prefix, size_t prefixlen,
    uint64_t now, throttle_walk_fn *cb, void *arg)
{
	struct throttle_info	 info[TABLE_WALK_CHUNK];
	struct throttle_root	*r;
	uint32_t		 bucket = 0;
	size_t			 skip = 0, n, i;
	int			 fin, started = 0;

	if (prefix == NULL)
		prefixlen = 0;
	for (;;) {
		if ((r = table_lock(z)) == NULL) {
			table_unlock(z);
			return (started ? 0 : -1);
		}
		started = 1;
		n = table_collect(z, r, prefix, prefixlen, now, info, &bucket,
		    &skip);
		fin = bucket >= r->tr_nbuckets;
		table_unlock(z);
		for (i = 0; i < n; i++)
			if (cb(&info[i], arg) != 0)
				return (0);
		if (fin)
			return (0);
	}
}

/*
 * Clear key under every policy.  Any process; takes the lock.  Only
 * counters change, so this needs no dirty marking.  0 found, -1 not.
 */
int
throttle_table_reset(struct shm_zone *z, const char *key, size_t keylen)
{
	struct throttle_root	*r;
	struct throttle_entry	*e;
	uint64_t		*b, off, hash, max, n = 0;
	int			 found = 0;

	if (key == NULL || keylen == 0 || keylen > THROTTLE_KEY_MAX)
		return (-1);
	if ((r = table_lock(z)) == NULL) {
		table_unlock(z);
		return (-1);
	}
	hash = table_hash(r, key, keylen);
	b = table_buckets(z, r);
	max = table_maxentries(z);
	for (off = b[hash & (r->tr_nbuckets - 1)]; off != 0;
	    off = e->te_hnext) {
		if ((e = table_entry(z, off)) == NULL || ++n > max)
			break;
		if (e->te_hash == hash && e->te_keylen == keylen &&
		    memcmp(e->te_key, key, keylen) == 0) {
			throttle_algo_clear(e);
			e->te_dry_hits = 0;
			found = 1;
		}
	}
	table_unlock(z);
	return (found ? 0 : -1);
}

/* Table-wide counters.  Any process; takes the lock.  0 or -1. */
int
throttle_table_stats(struct shm_zone *z, struct throttle_stats *ts)
{
	struct throttle_root	*r;

	memset(ts, 0, sizeof(*ts));
	if ((r = table_lock(z)) == NULL) {
		table_unlock(z);
		return (-1);
	}
	ts->ts_entries = r->tr_nentries;
	ts->ts_nbuckets = r->tr_nbuckets;
	ts->ts_evictions = r->tr_evictions;
	ts->ts_nomem = r->tr_nomem;
	ts->ts_dry_hits = r->tr_dry_hits;
	ts->ts_recoveries = r->tr_recoveries;
	ts->ts_reformats = r->tr_reformats;
	ts->ts_bytes_used = z->z_hdr->h_used;
	table_unlock(z);
	return (0);
}

/*
 * The consistency walk behind throttle_table_check().  Lock held.  0, or
 * -1 with *why, a static string (nothing is allocated under the lock).
 */
static int
table_check_locked(struct shm_zone *z, struct throttle_root *r,
    const char **why)
{
	struct throttle_entry	*e, *f, *prev;
	uint64_t		*b, off, off2, max, nchain = 0, nlru = 0;
	uint32_t		 i;
	int			 bad;

	if (r->tr_dirty != THROTTLE_DIRTY_NONE) {
		*why = "an update was left half done";
		return (-1);
	}
	if ((b = table_buckets(z, r)) == NULL) {
		*why = "bucket array outside the zone";
		return (-1);
	}
	max = table_maxentries(z);
	for (i = 0; i < r->tr_nbuckets; i++) {
		for (off = b[i]; off != 0; off = e->te_hnext) {
			if ((e = table_entry(z, off)) == NULL ||
			    ++nchain > max) {
				*why = "bad entry or cycle in a hash chain";
				return (-1);
			}
			if (e->te_hash != table_hash(r, e->te_key,
			    e->te_keylen) ||
			    (e->te_hash & (r->tr_nbuckets - 1)) != i) {
				*why = "entry in the wrong hash chain";
				return (-1);
			}
			for (off2 = e->te_hnext; off2 != 0;
			    off2 = f->te_hnext) {
				if ((f = table_entry(z, off2)) == NULL) {
					*why = "bad entry in a hash chain";
					return (-1);
				}
				if (f->te_policy == e->te_policy &&
				    f->te_keylen == e->te_keylen &&
				    memcmp(f->te_key, e->te_key,
				    e->te_keylen) == 0) {
					*why = "key and policy twice";
					return (-1);
				}
			}
		}
	}
	if (nchain != r->tr_nentries) {
		*why = "entry count does not match the hash chains";
		return (-1);
	}
	prev = NULL;
	for (off = r->tr_lru_head; off != 0; off = e->te_lnext) {
		if ((e = table_entry(z, off)) == NULL || ++nlru > max) {
			*why = "bad entry or cycle in the LRU list";
			return (-1);
		}
		if (e->te_lprev != (prev != NULL ? table_off(z, prev) : 0)) {
			*why = "LRU back link does not match";
			return (-1);
		}
		if (table_find(z, r, e->te_key, e->te_keylen, e->te_policy,
		    e->te_hash, &bad) != e) {
			*why = "LRU entry not in its hash chain";
			return (-1);
		}
		prev = e;
	}
	if (r->tr_lru_tail != (prev != NULL ? table_off(z, prev) : 0)) {
		*why = "LRU tail does not match";
		return (-1);
	}
	if (nlru != nchain) {
		*why = "LRU list and hash chains differ";
		return (-1);
	}
	return (0);
}

/* See throttle.h.  Any process; takes the lock.  0, or -1 with *cause. */
int
throttle_table_check(struct shm_zone *z, char **cause)
{
	struct throttle_root	*r;
	const char		*why = NULL;
	int			 rc;

	if ((r = table_lock(z)) == NULL) {
		why = "not formatted";
		rc = -1;
	} else
		rc = table_check_locked(z, r, &why);
	table_unlock(z);
	if (rc == -1 && cause != NULL)
		xasprintf(cause, "zone %s: %s", z->z_name, why);
	return (rc);
}

/*
 * Tests only.  Leave the table as a worker killed at the chosen point
 * would: the lock held and, but for THROTTLE_TEAR_HOLD, a structural
 * update half done.
 */
void
throttle_test_tear(struct shm_zone *z, enum throttle_tear how)
{
	static const struct throttle_policy pol = {
		.tp_id = 0xdead, .tp_limit = 1, .tp_period = 1000,
		.tp_algo = THROTTLE_FIXED_WINDOW
	};
	struct throttle_level	 lv;
	struct throttle_root	*r;
	struct throttle_entry	*e;
	uint64_t		*b, hash, off;

	if ((r = table_lock(z)) == NULL)
		return;
	switch (how) {
	case THROTTLE_TEAR_HOLD:
		break;
	case THROTTLE_TEAR_INSERT:
		memset(&lv, 0, sizeof(lv));
		lv.tl_key = "torn";
		lv.tl_keylen = 4;
		lv.tl_policy = &pol;
		if ((e = table_alloc(z, r, sizeof(*e), NULL, 0)) == NULL)
			break;
		hash = table_hash(r, lv.tl_key, lv.tl_keylen);
		off = table_off(z, e);
		memset(e, 0, sizeof(*e));
		e->te_keylen = 4;
		memcpy(e->te_key, "torn", 4);
		e->te_hash = hash;
		e->te_policy = pol.tp_id;
		e->te_limit = pol.tp_limit;
		e->te_period = pol.tp_period;
		e->te_magic = THROTTLE_ENTRY_MAGIC;
		b = table_buckets(z, r);
		table_dirty(r, THROTTLE_DIRTY_LINK, off);
		e->te_hnext = b[hash & (r->tr_nbuckets - 1)];
		b[hash & (r->tr_nbuckets - 1)] = off;
		/* Dies before table_lru_push(). */
		break;
	case THROTTLE_TEAR_EVICT:
		if ((e = table_entry(z, r->tr_lru_tail)) == NULL)
			break;
		table_dirty(r, THROTTLE_DIRTY_LINK, table_off(z, e));
		(void)table_chain_unlink(z, r, e);
		/* Dies before table_lru_unlink() and the free. */
		break;
	case THROTTLE_TEAR_SLAB:
		table_dirty(r, THROTTLE_DIRTY_SLAB, 0);
		break;
	}
}
