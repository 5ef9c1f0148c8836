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

/* tls-keys.c */
/*
 * Session ticket keys shared by all workers.  tls_keys_init() declares
 * the zone in every declaration round (master, before fork) and makes
 * the first keys; tls_keys_rotate() makes a new current key, keeping the
 * old one for decryption (master timer).  Both return 0 or -1 (*cause).
 */
int	tls_keys_init(char **);
int	tls_keys_rotate(void);
struct ssl_st;
struct evp_cipher_ctx_st;
struct evp_mac_ctx_st;
/* OpenSSL's ticket key callback (SSL_CTX_set_tlsext_ticket_key_evp_cb). */
int	tls_keys_ticket_cb(struct ssl_st *, unsigned char *, unsigned char *,
	    struct evp_cipher_ctx_st *, struct evp_mac_ctx_st *, int);

/* token-cache.c */
/*
 * Verified credentials shared by all workers: fixed-size entries keyed by
 * the SHA-256 of the credential, each with the epoch of what its
 * mechanism trusted when it was verified and a deadline.  Bounded: a full
 * set evicts its oldest entry.  The zone keeps its contents across a
 * reload when its size is unchanged.
 */
#define TOKEN_CACHE_KEYLEN	32
struct conf_token_cache;
struct token_cache_stats {
	uint64_t	tcs_capacity;	/* entries the zone holds */
	uint64_t	tcs_entries;	/* live now */
	uint64_t	tcs_hits;
	uint64_t	tcs_misses;
	uint64_t	tcs_evictions;	/* live entries pushed out */
};
/*
 * Master, at config load: declare the zone for entries of vallen bytes.
 * tc_size 0 declares nothing and disables the cache.  0 or -1 (*cause).
 */
int	token_cache_init(const struct conf_token_cache *, size_t, char **);
/*
 * Worker: copy the value for key into val if an entry exists with this
 * epoch and a deadline after now (ms, wall clock).  1 hit, 0 miss (also
 * when the cache is disabled).  Counts the hit or miss.
 */
int	token_cache_get(const uint8_t *, uint64_t, uint64_t, void *, size_t);
/* Worker: store or replace key's value until expires (ms, wall clock). */
void	token_cache_put(const uint8_t *, uint64_t, uint64_t, const void *,
	    size_t);
/* Any process: the counters; all zero when disabled. */
void	token_cache_stats(struct token_cache_stats *);

/* revoke.c */
/*
 * Revoked tokens, by jti or by the SHA-256 of the token, each until a
 * time (Unix seconds; 0: for ever).  Kept in a zone across reloads and
 * persisted to security.revocation_file, so a restart keeps them.
 */
struct conf_security;
/*
 * Master, at config load: declare the zone; a new zone is filled from the
 * file.  A file that cannot be parsed refuses the config (file:line).
 * 0 or -1 (*cause).
 */
int	revoke_init(const struct conf_security *, char **);
/*
 * Master (mgwctl revoke): what is "sha256:" and 64 hex digits (a token
 * hash) or a jti; until in Unix seconds, 0 for ever.  Adds or extends,
 * then rewrites file (the running configuration's revocation_file; NULL:
 * none).  0, or -1 with *cause (list full, file).
 */
int	revoke_add(const char *, int64_t, const char *, char **);
/*
 * Worker: 1 if the token whose SHA-256 is hash (may be NULL), or whose
 * jti is jti (may be NULL or ""), is revoked now (Unix seconds).  Cheap
 * when the list is empty.
 */
int	revoke_check(const uint8_t *, const char *, int64_t);
/* Master: the list as text lines "what until", for mgwctl; malloc'd. */
char	*revoke_list(void);
/* Any process: entries revoked now (approximate), for metrics. */
uint64_t revoke_count(void);

#endif /* MGW_SHM_H */
