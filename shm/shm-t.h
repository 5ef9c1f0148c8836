/*
 * shm-t.h: the layout of shared memory.  Types only.  A pointer stored in
 * a zone may point only into that same zone: every process inherits the
 * master's mapping at one address.
 */
#ifndef MGW_SHM_T_H
#define MGW_SHM_T_H

#include <stdatomic.h>
#include <stdint.h>

#define SHM_MAGIC		0x6d67777aU	/* "mgwz" */
#define SHM_CACHELINE		128

struct shm_lock {
	_Atomic uint32_t	 lk_pid;	/* owner pid, 0 = free */
	_Atomic uint32_t	 lk_broken;	/* times broken by the master */
};

struct shm_hdr {
	uint32_t		 h_magic;
	uint32_t		 h_layout;	/* owner's layout version */
	uint64_t		 h_size;	/* bytes, whole zone */
	struct shm_lock		 h_lock;
	uint64_t		 h_root;	/* offset of the owner's root, 0 none */
	uint64_t		 h_used;	/* bytes handed out by the slab */
	uint64_t		 h_free;	/* offset of the first free block */
	char			 h_name[64];
};

enum stats_status {
	STATS_1XX = 0,
	STATS_2XX,
	STATS_3XX,
	STATS_4XX,
	STATS_5XX,
	STATS_NSTATUS
};

/* One worker's counters; single writer, relaxed atomics. */
struct stats_slot {
	_Atomic uint64_t	 st_requests;
	_Atomic uint64_t	 st_bytes_in;	/* request bytes read */
	_Atomic uint64_t	 st_bytes_out;	/* response bytes written */
	_Atomic uint64_t	 st_status[STATS_NSTATUS];
	_Atomic uint64_t	 st_accepted;	/* connections */
	_Atomic int64_t		 st_active;	/* connections open now */
	_Atomic uint64_t	 st_upstream_errors;
	_Atomic uint64_t	 st_tls_handshakes;	/* completed, server side */
	_Atomic uint64_t	 st_tls_resumed;	/* of which resumed */
	_Atomic uint64_t	 st_tls_failures;	/* refused or failed */
	_Atomic uint32_t	 st_pid;	/* owner, 0 = free */
	_Atomic uint32_t	 st_hook;	/* STATS_HOOK() running, 0 none */
} __attribute__((aligned(SHM_CACHELINE)));

/*
 * The plugin hook a worker is running, kept in its slot so that the
 * master can name the plugin when the worker dies of a signal: the
 * plugin's index in the generation's set plus one, shifted by 8, or'd
 * with the hook.
 */
enum stats_hook {
	STATS_HOOK_NONE = 0,
	STATS_HOOK_POST_READ,
	STATS_HOOK_ACCESS,
	STATS_HOOK_HEADER_FILTER,
	STATS_HOOK_LOG,
	STATS_HOOK_CANCEL,
	STATS_HOOK_REOPEN,
	STATS_HOOK_EXIT_WORKER,
	STATS_HOOK_INIT_WORKER
};
#define STATS_HOOK(i, h)	((((uint32_t)(i) + 1) << 8) | (uint32_t)(h))

struct stats_totals {
	uint64_t		 requests;
	uint64_t		 bytes_in;
	uint64_t		 bytes_out;
	uint64_t		 status[STATS_NSTATUS];
	uint64_t		 accepted;
	int64_t			 active;
	uint64_t		 upstream_errors;
	uint64_t		 tls_handshakes;
	uint64_t		 tls_resumed;
	uint64_t		 tls_failures;
};

#endif /* MGW_SHM_T_H */
