/*
 * authn-cache.c: the "token-cache" zone, verified credentials shared by
 * all workers so that a token seen by one worker skips the signature
 * check (or the bcrypt, or the introspection round trip) in every other.
 *
 * The zone is an array of fixed-size entries grouped in sets of
 * TC_WAYS (set-associative, like a CPU cache).  The key is a SHA-256, so
 * its first eight bytes already spread keys evenly and pick the set
 * directly.  A put replaces the key's own entry, else takes a free or
 * expired one, else evicts the least recently used entry of the set: a
 * lookup or an insertion touches TC_WAYS entries, never allocates and
 * never walks the zone, whatever the traffic.
 *
 * One zone lock guards the entries; it is held for the scan of one set
 * and one memcpy of the value.  The hit, miss and eviction counters are
 * relaxed atomics outside the lock: they are only ever added to and read
 * as totals.
 *
 * The zone's layout number carries the value size, so a build whose
 * struct authn_identity changed never reads entries of the old shape;
 * with the same size and layout the zone is kept across a reload and so
 * are its entries (their epochs decide whether they still count).
 */
#include "config.h"

#include <sys/types.h>

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "lib.h"
#include "authn-conf.h"
#include "shm.h"
#include "authn.h"

#define TC_ZONE		"token-cache"
#define TC_VERSION	1		/* bump when the structs below change */
#define TC_WAYS		8		/* entries per set */
#define TC_VALMAX	0xffffffU	/* most value bytes the layout holds */
#define TC_ALIGN(x)	(((x) + 63) & ~(size_t)63)

/* The zone's root, at the start of its data area. */
struct tc_root {
	uint32_t		 tr_vallen;	/* value bytes per entry */
	uint32_t		 tr_ways;
	uint64_t		 tr_nsets;
	uint64_t		 tr_entsize;	/* bytes, header and value */
	uint64_t		 tr_entries;	/* entry 0, bytes from root */
	uint64_t		 tr_clock;	/* LRU clock; under the lock */
	_Atomic uint64_t	 tr_hits __attribute__((aligned(64)));
	_Atomic uint64_t	 tr_misses;
	_Atomic uint64_t	 tr_evictions;
};

/* One entry; the value (tr_vallen bytes) follows it. */
struct tc_entry {
	uint8_t			 te_key[TOKEN_CACHE_KEYLEN];
	uint64_t		 te_epoch;
	_Atomic uint64_t	 te_expires;	/* ms, wall clock */
	uint64_t		 te_stamp;	/* tr_clock at last use */
	_Atomic uint32_t	 te_used;
	uint32_t		 te_pad;
};

_Static_assert(sizeof(struct tc_entry) == 64,
    "struct tc_entry is one cache line, the value starts on the next");

static struct shm_zone	*tc_zone(struct tc_root **);
static struct tc_entry	*tc_set(struct tc_root *, const uint8_t *);
static struct tc_entry	*tc_way(struct tc_root *, struct tc_entry *, uint32_t);
static uint64_t		 tc_now_ms(void);

/*
 * The zone of this process's generation, or NULL when the cache is
 * disabled.  shm_zone_find() rather than a saved pointer: in the master
 * the registry changes at every reload and a saved pointer could outlive
 * its mapping.
 */
static struct shm_zone *
tc_zone(struct tc_root **rootp)
{
	struct shm_zone	*z;
	struct tc_root	*root;

	if ((z = shm_zone_find(TC_ZONE)) == NULL)
		return (NULL);
	root = shm_zone_root(z);
	if (root->tr_nsets == 0)
		return (NULL);
	*rootp = root;
	return (z);
}

/* The first entry of key's set. */
static struct tc_entry *
tc_set(struct tc_root *root, const uint8_t *key)
{
	uint64_t	 h;

	memcpy(&h, key, sizeof(h));
	return ((struct tc_entry *)((char *)root + root->tr_entries +
	    (h % root->tr_nsets) * root->tr_ways * root->tr_entsize));
}

static struct tc_entry *
tc_way(struct tc_root *root, struct tc_entry *set, uint32_t i)
{
	return ((struct tc_entry *)((char *)set + i * root->tr_entsize));
}

static uint64_t
tc_now_ms(void)
{
	struct timespec	 ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) == -1)
		return (0);
	return ((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
}

/*
 * Declare the zone of c->tc_size bytes for values of vallen bytes and lay
 * it out if it is new.  Master only, at every config load, before fork.
 * tc_size 0 declares nothing: the cache is then disabled.  0, or -1 with
 * *cause.
 */
int
token_cache_init(const struct conf_token_cache *c, size_t vallen,
    char **cause)
{
	struct shm_zone	*z;
	struct tc_root	*root;
	size_t		 entsize, data, nsets;
	uint32_t	 layout;

	if (c->tc_size == 0)
		return (0);
	if (vallen == 0 || vallen > TC_VALMAX) {
		xasprintf(cause, "token cache: value of %zu bytes", vallen);
		return (-1);
	}
	layout = ((uint32_t)TC_VERSION << 24) | (uint32_t)vallen;
	z = shm_zone_add(TC_ZONE, c->tc_size, layout, cause);
	if (z == NULL)
		return (-1);
	entsize = TC_ALIGN(sizeof(struct tc_entry) + vallen);
	data = shm_zone_datasize(z);
	if (data < TC_ALIGN(sizeof(*root)))
		nsets = 0;
	else
		nsets = (data - TC_ALIGN(sizeof(*root))) / (entsize * TC_WAYS);
	if (nsets == 0) {
		xasprintf(cause, "security.token_cache.size %llu is too "
		    "small: one set of %d entries needs %zu bytes; use 0 to "
		    "disable the cache", (unsigned long long)c->tc_size,
		    TC_WAYS, TC_ALIGN(sizeof(*root)) + entsize * TC_WAYS +
		    (z->z_size - data));
		return (-1);
	}
	root = shm_zone_root(z);
	if (z->z_reused && root->tr_vallen == vallen &&
	    root->tr_nsets == nsets && root->tr_entsize == entsize)
		return (0);
	/*
	 * A new zone (zero-filled: every entry unused) that no worker
	 * maps yet, so no lock is needed to lay it out.
	 */
	memset(root, 0, data);
	root->tr_vallen = (uint32_t)vallen;
	root->tr_ways = TC_WAYS;
	root->tr_nsets = nsets;
	root->tr_entsize = entsize;
	root->tr_entries = TC_ALIGN(sizeof(*root));
	return (0);
}

/*
 * Copy key's value into val (vallen bytes, the size given at init) if
 * its entry has this epoch and expires after now (ms, wall clock).
 * Returns 1 on a hit, 0 on a miss or when the cache is disabled.  Worker;
 * takes the zone lock for one set.
 */
int
token_cache_get(const uint8_t *key, uint64_t epoch, uint64_t now, void *val,
    size_t vallen)
{
	struct shm_zone	*z;
	struct tc_root	*root;
	struct tc_entry	*set, *e;
	uint32_t	 i;
	int		 hit = 0;

	if ((z = tc_zone(&root)) == NULL)
		return (0);
	if (vallen != root->tr_vallen) {
		atomic_fetch_add_explicit(&root->tr_misses, 1,
		    memory_order_relaxed);
		return (0);
	}
	set = tc_set(root, key);
	shm_lock(&z->z_hdr->h_lock);
	for (i = 0; i < root->tr_ways; i++) {
		e = tc_way(root, set, i);
		if (!atomic_load_explicit(&e->te_used, memory_order_relaxed) ||
		    memcmp(e->te_key, key, TOKEN_CACHE_KEYLEN) != 0)
			continue;
		if (atomic_load_explicit(&e->te_expires,
		    memory_order_relaxed) <= now) {
			/* Dead for everyone: free the way now. */
			atomic_store_explicit(&e->te_used, 0,
			    memory_order_relaxed);
			break;
		}
		/*
		 * Another epoch may be a newer generation's (or an older
		 * one's still draining): leave the entry for its owner.
		 */
		if (e->te_epoch != epoch)
			break;
		memcpy(val, e + 1, vallen);
		e->te_stamp = ++root->tr_clock;
		hit = 1;
		break;
	}
	shm_unlock(&z->z_hdr->h_lock);
	atomic_fetch_add_explicit(hit ? &root->tr_hits : &root->tr_misses, 1,
	    memory_order_relaxed);
	return (hit);
}

/*
 * Store val (vallen bytes) as key's value for epoch until expires (ms,
 * wall clock), replacing key's entry, else taking a free or expired way
 * of its set, else evicting the set's least recently used entry.  Does
 * nothing when the cache is disabled.  Worker; takes the zone lock for
 * one set.
 */
void
token_cache_put(const uint8_t *key, uint64_t epoch, uint64_t expires,
    const void *val, size_t vallen)
{
	struct shm_zone	*z;
	struct tc_root	*root;
	struct tc_entry	*set, *e, *victim = NULL, *lru = NULL;
	uint64_t	 now;
	uint32_t	 i;
	int		 evicted = 0;

	if ((z = tc_zone(&root)) == NULL || vallen != root->tr_vallen)
		return;
	now = tc_now_ms();	/* a system call at worst: not under the lock */
	if (expires <= now)
		return;
	set = tc_set(root, key);
	shm_lock(&z->z_hdr->h_lock);
	for (i = 0; i < root->tr_ways; i++) {
		e = tc_way(root, set, i);
		if (!atomic_load_explicit(&e->te_used, memory_order_relaxed)) {
			if (victim == NULL)
				victim = e;
			continue;
		}
		if (memcmp(e->te_key, key, TOKEN_CACHE_KEYLEN) == 0) {
			victim = e;
			break;
		}
		if (atomic_load_explicit(&e->te_expires,
		    memory_order_relaxed) <= now) {
			if (victim == NULL)
				victim = e;
			continue;
		}
		if (lru == NULL || e->te_stamp < lru->te_stamp)
			lru = e;
	}
	if (victim == NULL) {
		victim = lru;
		evicted = 1;
	}
	memcpy(victim->te_key, key, TOKEN_CACHE_KEYLEN);
	victim->te_epoch = epoch;
	atomic_store_explicit(&victim->te_expires, expires,
	    memory_order_relaxed);
	victim->te_stamp = ++root->tr_clock;
	memcpy(victim + 1, val, vallen);
	atomic_store_explicit(&victim->te_used, 1, memory_order_relaxed);
	shm_unlock(&z->z_hdr->h_lock);
	if (evicted)
		atomic_fetch_add_explicit(&root->tr_evictions, 1,
		    memory_order_relaxed);
}

/*
 * The counters and the number of entries alive now (counted without the
 * lock, so approximate under traffic).  All zero when the cache is
 * disabled.  Any process; O(capacity).
 */
void
token_cache_stats(struct token_cache_stats *s)
{
	struct tc_root	*root;
	struct tc_entry	*e;
	uint64_t	 i, n, now;

	memset(s, 0, sizeof(*s));
	if (tc_zone(&root) == NULL)
		return;
	n = root->tr_nsets * root->tr_ways;
	now = tc_now_ms();
	s->tcs_capacity = n;
	s->tcs_hits = atomic_load_explicit(&root->tr_hits,
	    memory_order_relaxed);
	s->tcs_misses = atomic_load_explicit(&root->tr_misses,
	    memory_order_relaxed);
	s->tcs_evictions = atomic_load_explicit(&root->tr_evictions,
	    memory_order_relaxed);
	e = (struct tc_entry *)((char *)root + root->tr_entries);
	for (i = 0; i < n; i++) {
		if (atomic_load_explicit(&e->te_used, memory_order_relaxed) &&
		    atomic_load_explicit(&e->te_expires,
		    memory_order_relaxed) > now)
			s->tcs_entries++;
		e = (struct tc_entry *)((char *)e + root->tr_entsize);
	}
}
