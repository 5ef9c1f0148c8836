/*
 * shm.h: named shared-memory zones created by the master before fork, the
 * pid lock that guards each, and the per-worker statistics slots.
 */
#ifndef MGW_SHM_H
#define MGW_SHM_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "shm-t.h"

struct shm_zone {
	char			*z_name;
	size_t			 z_size;	/* bytes, including header */
	uint32_t		 z_layout;	/* caller's layout version */
	struct shm_hdr		*z_hdr;		/* the mapping */
	int			 z_mark;	/* reconcile scratch */
	int			 z_reused;	/* kept from previous config */
};

/* shm.c */
/*
 * Declare a zone for the configuration being loaded.  Master only, before
 * fork.  Zones are matched on name, size and layout at reconcile; a kept
 * zone keeps its contents.  Returns the zone or NULL with *cause.
 */
struct shm_zone	*shm_zone_add(const char *, size_t, uint32_t, char **);
struct shm_zone	*shm_zone_find(const char *);
/*
 * After a new config declared its zones: unmap the ones it no longer
 * declares (old workers keep their own mappings until they exit).
 */
void		 shm_zone_reconcile(void);
void		 shm_zone_begin(void);	/* start declaring for a new config */
void		*shm_zone_root(struct shm_zone *);	/* data area after header */
size_t		 shm_zone_datasize(struct shm_zone *);
void		 shm_zone_freeall(void);
/* Registry walk for shm-lock.c: the i-th zone of any generation, or NULL. */
struct shm_zone	*shm_zone_at(size_t);

/* shm-lock.c */
/*
 * The zone lock: a word holding the owner's pid, set by CAS.  Waiters spin,
 * then yield.  No syscalls, logging or allocation outside the zone while
 * held.  shm_lock_break() is called by the master when it reaps pid, so a
 * worker killed while holding the lock cannot wedge the others.
 */
void		 shm_lock(struct shm_lock *);
int		 shm_trylock(struct shm_lock *);	/* 1 taken, 0 busy */
void		 shm_unlock(struct shm_lock *);
int		 shm_lock_break(struct shm_lock *, pid_t);	/* 1 if broken */
void		 shm_lock_break_all(pid_t);	/* every zone's lock */

/* shm-slab.c: allocation inside a zone; caller holds the zone lock. */
void		*shm_alloc_locked(struct shm_zone *, size_t);
void		 shm_free_locked(struct shm_zone *, void *);

/* stats.c */
/*
 * Per-worker statistics: one cache-line-padded slot per running worker
 * with a single writer.  Readers sum without a lock.
 */
#define STATS_SLOTS	256
struct stats_slot;
int		 stats_init(char **);		/* master, once */
int		 stats_slot_get(void);		/* master: free slot or -1 */
void		 stats_slot_release(int);	/* master: worker reaped */
struct stats_slot *stats_slot(int);
void		 stats_sum(struct stats_totals *);
uint32_t	 stats_slot_hook(int);		/* master: STATS_HOOK() or 0 */
const char	*stats_hook_name(uint32_t);

#endif /* MGW_SHM_H */
