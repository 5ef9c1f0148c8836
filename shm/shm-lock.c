/*
 * shm-lock.c: the zone lock, a word holding the owner's pid (nginx
 * ngx_shmtx).  Taking it is one compare-and-swap from 0 to our pid; a
 * waiter spins with a pause instruction, then yields the CPU.
 *
 * Because the word names its owner, a worker killed while holding the
 * lock can be cleared: the master calls shm_lock_break_all(pid) when it
 * reaps the worker.  As a second line of defence a waiter that has waited
 * for LOCK_HEAL_MS asks the kernel whether the owner still exists and
 * breaks the lock itself if not.  A dead but unreaped worker is a zombie
 * that still exists, so until the master reaps it only the master can
 * break its locks; once reaped, its pid cannot be confused with a live
 * process unless the pid is reused within that window.  The waiter's check
 * also covers zones the master has already unmapped at reconcile while
 * old-generation workers still share them.
 *
 * Data guarded by a broken lock may be half-updated; the zone's owner
 * keeps its structures valid after every store or tolerates that.
 */
#include "config.h"

#include <sys/types.h>

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include "lib.h"
#include "shm.h"

#define LOCK_SPINS	1024	/* pause loops between sched_yield() calls */
#define LOCK_HEAL_MS	100	/* wait before asking if the owner lives */

static uint32_t	 lock_self(void);
static void	 lock_self_init(void);
static void	 lock_atfork_child(void);
static void	 lock_pause(void);
static uint64_t	 lock_now_ms(void);
static void	 lock_heal(struct shm_lock *, uint32_t);

/*
 * getpid() is a real system call, too dear for every lock, so it is read
 * once per process.  fork() gives the child a new pid but a copy of this
 * cache, so an atfork handler clears it in the child; the handler is
 * registered before the first value is cached.
 */
static _Atomic uint32_t	 lock_pid;	/* this process, 0 = not read yet */
static pthread_once_t	 lock_once = PTHREAD_ONCE_INIT;

static void
lock_atfork_child(void)
{
	atomic_store_explicit(&lock_pid, 0, memory_order_relaxed);
}

static void
lock_self_init(void)
{
	if (pthread_atfork(NULL, NULL, lock_atfork_child) != 0)
		fatalx("%s: pthread_atfork failed", __func__);
}

static uint32_t
lock_self(void)
{
	uint32_t	 pid;

	pid = atomic_load_explicit(&lock_pid, memory_order_relaxed);
	if (pid == 0) {
		(void)pthread_once(&lock_once, lock_self_init);
		pid = (uint32_t)getpid();
		atomic_store_explicit(&lock_pid, pid, memory_order_relaxed);
	}
	return (pid);
}

/* Tell the CPU we are spinning, so a sibling hyperthread gets the core. */
static void
lock_pause(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

static uint64_t
lock_now_ms(void)
{
	struct timespec	 ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		return (0);
	return ((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
}

/*
 * Called by a waiter that has waited a long time.  kill(pid, 0) fails
 * with ESRCH only for a pid that no longer exists (EPERM means it lives
 * under another uid), and shm_lock_break() clears the word only if it
 * still names that pid, so a lock that changed hands meanwhile is safe.
 */
static void
lock_heal(struct shm_lock *lk, uint32_t self)
{
	uint32_t	 owner;

	owner = atomic_load_explicit(&lk->lk_pid, memory_order_relaxed);
	if (owner == 0)
		return;
	if (owner == self)
		fatalx("%s: lock already held by this process", __func__);
	if (kill((pid_t)owner, 0) == -1 && errno == ESRCH)
		(void)shm_lock_break(lk, (pid_t)owner);
}

/*
 * Take the lock, waiting as long as it takes.  Any process.  The lock is
 * not recursive: taking it twice is a fatal bug, caught once the wait
 * exceeds LOCK_HEAL_MS.
 */
void
shm_lock(struct shm_lock *lk)
{
	uint32_t	 self, expect;
	uint64_t	 start = 0, now;
	unsigned int	 i;
	int		 waited = 0;

	self = lock_self();
	for (;;) {
		for (i = 0; i < LOCK_SPINS; i++) {
			/* Read first, so waiters do not bounce the line. */
			if (atomic_load_explicit(&lk->lk_pid,
			    memory_order_relaxed) == 0) {
				expect = 0;
				if (atomic_compare_exchange_weak_explicit(
				    &lk->lk_pid, &expect, self,
				    memory_order_acquire,
				    memory_order_relaxed))
					return;
			}
			lock_pause();
		}
		(void)sched_yield();

		now = lock_now_ms();
		if (!waited) {
			start = now;
			waited = 1;
		} else if (now - start >= LOCK_HEAL_MS) {
			lock_heal(lk, self);
			start = now;
		}
	}
}

/* Take the lock if it is free.  Any process.  1 if taken, 0 if busy. */
int
shm_trylock(struct shm_lock *lk)
{
	uint32_t	 expect = 0;

	if (atomic_load_explicit(&lk->lk_pid, memory_order_relaxed) != 0)
		return (0);
	return (atomic_compare_exchange_strong_explicit(&lk->lk_pid, &expect,
	    lock_self(), memory_order_acquire, memory_order_relaxed) ? 1 : 0);
}

/* Release a lock this process holds.  Any process. */
void
shm_unlock(struct shm_lock *lk)
{
	atomic_store_explicit(&lk->lk_pid, 0, memory_order_release);
}

/*
 * Clear the lock if pid holds it, counting the break in lk_broken.
 * Master, for a reaped worker, or a waiter whose owner is gone.  Returns
 * 1 if it broke the lock, 0 if pid did not hold it.
 */
int
shm_lock_break(struct shm_lock *lk, pid_t pid)
{
	uint32_t	 expect;

	if (pid <= 0)
		return (0);
	expect = (uint32_t)pid;
	if (!atomic_compare_exchange_strong_explicit(&lk->lk_pid, &expect, 0,
	    memory_order_acq_rel, memory_order_relaxed))
		return (0);
	atomic_fetch_add_explicit(&lk->lk_broken, 1, memory_order_relaxed);
	return (1);
}

/*
 * Break every lock that pid holds, in every registered zone of any
 * generation.  Master, when it reaps a worker that may have died holding
 * a lock (nginx ngx_unlock_mutexes).
 */
void
shm_lock_break_all(pid_t pid)
{
	struct shm_zone	*z;
	size_t		 i;

	for (i = 0; (z = shm_zone_at(i)) != NULL; i++)
		(void)shm_lock_break(&z->z_hdr->h_lock, pid);
}
