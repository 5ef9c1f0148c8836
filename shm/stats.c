/*
 * stats.c: per-worker statistics slots in the "stats" zone.
 *
 * Every request bumps counters, so they must cost no lock: each worker
 * owns one slot, padded to a cache line, and is its only writer, using
 * relaxed atomic adds (nginx event stats).  Readers such as mgwctl status
 * sum all slots with relaxed loads; a total may be a few requests stale,
 * which is fine for statistics.
 *
 * A slot's counters outlive its worker: releasing a slot frees it for the
 * next worker but keeps its cumulative counts, and the zone is declared
 * with a fixed size and layout in every round so it is kept across
 * reloads.  The totals therefore cover the master's whole lifetime.
 *
 * The zone does not use the slab: the data area is the slot array.
 */
#include "config.h"

#include <sys/types.h>

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "lib.h"
#include "shm.h"

#define STATS_ZONE	"stats"
#define STATS_LAYOUT	3	/* bump when struct stats_slot changes */

static struct stats_slot	*stats_slots(void);

/*
 * Looked up on each call rather than cached, so no stale pointer survives
 * shm_zone_freeall() or a round that replaced the zone.  The callers are
 * the master, a worker starting up and status requests, none of them hot:
 * a worker bumps counters through the slot pointer it keeps.
 */
static struct stats_slot *
stats_slots(void)
{
	struct shm_zone	*z;

	if ((z = shm_zone_find(STATS_ZONE)) == NULL)
		return (NULL);
	return (shm_zone_root(z));
}

/*
 * Declare the stats zone for the configuration being loaded.  Master,
 * before fork, in every declaration round (between shm_zone_begin() and
 * shm_zone_reconcile()) so the zone and its totals are kept.  Returns 0,
 * or -1 with *cause.
 */
int
stats_init(char **cause)
{
	struct shm_zone	*z;
	size_t		 need;

	need = STATS_SLOTS * sizeof(struct stats_slot);
	/* The header plus its cache-line padding fit in this much more. */
	z = shm_zone_add(STATS_ZONE, need + sizeof(struct shm_hdr) +
	    SHM_CACHELINE, STATS_LAYOUT, cause);
	if (z == NULL)
		return (-1);
	if (shm_zone_datasize(z) < need ||
	    (uintptr_t)shm_zone_root(z) % SHM_CACHELINE != 0) {
		if (cause != NULL)
			xasprintf(cause, "zone %s: data area too small or "
			    "misaligned", STATS_ZONE);
		return (-1);
	}
	return (0);
}

/*
 * Claim a free slot (st_pid 0) for a worker about to be forked.  Master
 * only.  The slot is reserved by storing the master's own pid, so a second
 * call before the fork cannot hand it out again; after fork() the master
 * stores the worker's pid in st_pid, or calls stats_slot_release() if the
 * fork failed.  Returns the slot index, or -1 if all are taken or
 * stats_init() was never called.
 */
int
stats_slot_get(void)
{
	struct stats_slot	*s;
	uint32_t		 expect;
	int			 i;

	if ((s = stats_slots()) == NULL)
		return (-1);
	for (i = 0; i < STATS_SLOTS; i++) {
		expect = 0;
		if (atomic_compare_exchange_strong_explicit(&s[i].st_pid,
		    &expect, (uint32_t)getpid(), memory_order_relaxed,
		    memory_order_relaxed))
			return (i);
	}
	return (-1);
}

/*
 * Free slot i once its worker has been reaped.  Master only.  The
 * worker's open connections died with it, so st_active goes to 0; all
 * cumulative counters are kept for the totals.  Out-of-range i is
 * ignored.
 */
void
stats_slot_release(int i)
{
	struct stats_slot	*s;

	if (i < 0 || i >= STATS_SLOTS || (s = stats_slots()) == NULL)
		return;
	atomic_store_explicit(&s[i].st_active, 0, memory_order_relaxed);
	atomic_store_explicit(&s[i].st_hook, 0, memory_order_relaxed);
	atomic_store_explicit(&s[i].st_pid, 0, memory_order_release);
}

/*
 * Slot i, for its worker to bump with relaxed atomic adds, or NULL if i
 * is out of range or there is no stats zone.  Any process.
 */
struct stats_slot *
stats_slot(int i)
{
	struct stats_slot	*s;

	if (i < 0 || i >= STATS_SLOTS || (s = stats_slots()) == NULL)
		return (NULL);
	return (&s[i]);
}

/*
 * Sum every slot, free ones included since they keep the counts of
 * workers gone, into *t.  Any process, no lock.  All zero without a
 * stats zone.
 */
void
stats_sum(struct stats_totals *t)
{
	struct stats_slot	*s, *sl;
	int			 i, j;

	memset(t, 0, sizeof(*t));
	if ((s = stats_slots()) == NULL)
		return;
	for (i = 0; i < STATS_SLOTS; i++) {
		sl = &s[i];
		t->requests += atomic_load_explicit(&sl->st_requests,
		    memory_order_relaxed);
		t->bytes_in += atomic_load_explicit(&sl->st_bytes_in,
		    memory_order_relaxed);
		t->bytes_out += atomic_load_explicit(&sl->st_bytes_out,
		    memory_order_relaxed);
		for (j = 0; j < STATS_NSTATUS; j++)
			t->status[j] += atomic_load_explicit(
			    &sl->st_status[j], memory_order_relaxed);
		t->accepted += atomic_load_explicit(&sl->st_accepted,
		    memory_order_relaxed);
		t->active += atomic_load_explicit(&sl->st_active,
		    memory_order_relaxed);
		t->upstream_errors += atomic_load_explicit(
		    &sl->st_upstream_errors, memory_order_relaxed);
		t->tls_handshakes += atomic_load_explicit(
		    &sl->st_tls_handshakes, memory_order_relaxed);
		t->tls_resumed += atomic_load_explicit(&sl->st_tls_resumed,
		    memory_order_relaxed);
		t->tls_failures += atomic_load_explicit(&sl->st_tls_failures,
		    memory_order_relaxed);
	}
}

/*
 * The plugin hook slot i's worker was running (a STATS_HOOK() value), or
 * 0: read by the master when it reaps a worker killed by a signal, before
 * stats_slot_release().  Best effort: a hook that does not return leaves
 * its mark, one that crashed the worker outside the engine's view does
 * not.
 */
uint32_t
stats_slot_hook(int i)
{
	struct stats_slot	*s;

	if (i < 0 || i >= STATS_SLOTS || (s = stats_slots()) == NULL)
		return (0);
	return (atomic_load_explicit(&s[i].st_hook, memory_order_relaxed));
}

/* The name of the hook in a STATS_HOOK() value.  Any process. */
const char *
stats_hook_name(uint32_t v)
{
	static const char *const names[] = {
		"none", "post_read", "access", "header_filter", "log",
		"cancel", "reopen", "exit_worker", "init_worker"
	};

	v &= 0xff;
	return (v < sizeof(names) / sizeof(names[0]) ? names[v] : "unknown");
}
