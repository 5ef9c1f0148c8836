/*
 * test-shm.c: zones and their declaration rounds, the pid lock across
 * processes (including owners killed while holding it), the slab and the
 * statistics slots.
 *
 * Cross-process cases fork() real children, as the master does.  The
 * parent synchronises with them through pipes and waitpid(), never by
 * sleeping; each child arms alarm() only as a watchdog, so a bug makes it
 * fail rather than hang the suite.  Children leave with _exit() so they
 * never run CUnit's or the sanitizers' exit code twice.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "lib.h"
#include "shm.h"
#include "tests.h"

#define TEST_NCHILD	4
#define TEST_LOOPS	100000	/* lock increments per child */
#define TEST_SLAB_HDR	16	/* slab block header, shm-slab.c */

static struct shm_zone	*test_zone(const char *, size_t, uint32_t);
static pid_t		 test_fork(void);
static int		 test_wait(pid_t);
static int		 test_mapped(void *, size_t);
static void		 test_pipe(int [2]);
static int		 test_read1(int);
static void		 test_write1(int);
static void		 test_teardown(void);
static uint64_t		 test_off(struct shm_zone *, void *);

static void		 test_zone_create(void);
static void		 test_zone_args(void);
static void		 test_zone_reuse(void);
static void		 test_zone_failed_round(void);
static void		 test_zone_header(void);
static void		 test_lock_basic(void);
static void		 test_lock_fork_pid(void);
static void		 test_lock_mutex(void);
static void		 test_lock_break_master(void);
static void		 test_lock_self_heal(void);
static void		 test_slab_basic(void);
static void		 test_slab_exhaust(void);
static void		 test_slab_coalesce(void);
static void		 test_slab_offsets(void);
static void		 test_stats_slots(void);
static void		 test_stats_fork_sum(void);

static size_t		 test_pg;	/* page size in bytes, set by main() */

/* Declare a zone in the current round; the test fails if it cannot. */
static struct shm_zone *
test_zone(const char *name, size_t size, uint32_t layout)
{
	struct shm_zone	*z;
	char		*cause = NULL;

	z = shm_zone_add(name, size, layout, &cause);
	CU_ASSERT_PTR_NOT_NULL(z);
	CU_ASSERT_PTR_NULL(cause);
	free(cause);
	return (z);
}

/* msync() fails with ENOMEM on a range that is not mapped. */
static int
test_mapped(void *p, size_t len)
{
	return (msync(p, len, MS_ASYNC) != -1);
}

static void
test_pipe(int fd[2])
{
	CU_ASSERT_FATAL(pipe(fd) != -1);
}

/* One byte from fd: 1, or 0 at EOF (the writer died first). */
static int
test_read1(int fd)
{
	char	 c;
	ssize_t	 n;

	while ((n = read(fd, &c, 1)) == -1 && errno == EINTR)
		;
	return (n == 1);
}

static void
test_write1(int fd)
{
	while (write(fd, "x", 1) == -1 && errno == EINTR)
		;
}

static void
test_teardown(void)
{
	shm_zone_freeall();
}

static uint64_t
test_off(struct shm_zone *z, void *p)
{
	return ((uint64_t)((char *)p - (char *)z->z_hdr));
}

static void
test_zone_create(void)
{
	struct shm_zone	*z;
	struct shm_hdr	*h;
	char		*root;
	size_t		 pg = test_pg, ds, i;
	int		 zero = 1;

	shm_zone_begin();
	z = test_zone("create", pg + 1, 7);
	CU_ASSERT_PTR_NOT_NULL_FATAL(z);
	CU_ASSERT(z->z_size == 2 * pg);
	CU_ASSERT(z->z_layout == 7);
	CU_ASSERT(z->z_reused == 0);
	CU_ASSERT_STRING_EQUAL(z->z_name, "create");
	CU_ASSERT(shm_zone_find("create") == z);
	shm_zone_reconcile();
	CU_ASSERT(shm_zone_find("create") == z);
	CU_ASSERT_PTR_NULL(shm_zone_find("nosuch"));
	CU_ASSERT(shm_zone_at(0) == z);
	CU_ASSERT_PTR_NULL(shm_zone_at(1));

	h = z->z_hdr;
	CU_ASSERT((uintptr_t)h % pg == 0);
	CU_ASSERT(h->h_magic == SHM_MAGIC);
	CU_ASSERT(h->h_layout == 7);
	CU_ASSERT(h->h_size == 2 * pg);
	CU_ASSERT_STRING_EQUAL(h->h_name, "create");
	CU_ASSERT(atomic_load(&h->h_lock.lk_pid) == 0);
	CU_ASSERT(atomic_load(&h->h_lock.lk_broken) == 0);
	CU_ASSERT(h->h_root == 0 && h->h_used == 0 && h->h_free == 0);

	root = shm_zone_root(z);
	ds = shm_zone_datasize(z);
	CU_ASSERT((uintptr_t)root % 64 == 0);
	CU_ASSERT(root >= (char *)h + sizeof(*h));
	CU_ASSERT(root + ds == (char *)h + z->z_size);
	for (i = 0; i < ds; i++)
		if (root[i] != 0)
			zero = 0;
	CU_ASSERT(zero);
	memset(root, 0xa5, ds);
	CU_ASSERT(h->h_magic == SHM_MAGIC);
}

static void
test_zone_args(void)
{
	struct shm_zone	*z;
	char		*cause, name[80];
	size_t		 pg = test_pg;

	shm_zone_begin();

	cause = NULL;
	CU_ASSERT_PTR_NULL(shm_zone_add("small", 0, 1, &cause));
	CU_ASSERT_PTR_NOT_NULL(cause);
	free(cause);
	cause = NULL;
	CU_ASSERT_PTR_NULL(shm_zone_add("small", sizeof(struct shm_hdr), 1,
	    &cause));
	CU_ASSERT_PTR_NOT_NULL(cause);
	free(cause);
	cause = NULL;
	CU_ASSERT_PTR_NULL(shm_zone_add("huge", SIZE_MAX, 1, &cause));
	CU_ASSERT_PTR_NOT_NULL(cause);
	free(cause);
	cause = NULL;
	CU_ASSERT_PTR_NULL(shm_zone_add("", pg, 1, &cause));
	CU_ASSERT_PTR_NOT_NULL(cause);
	free(cause);

	memset(name, 'n', sizeof(name));
	name[64] = '\0';
	cause = NULL;
	CU_ASSERT_PTR_NULL(shm_zone_add(name, pg, 1, &cause));
	CU_ASSERT_PTR_NOT_NULL(cause);
	free(cause);
	name[63] = '\0';
	z = test_zone(name, pg, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(z);
	CU_ASSERT_STRING_EQUAL(z->z_hdr->h_name, name);

	/* Twice in one round: the same zone, or a refusal if it differs. */
	z = test_zone("dup", pg, 1);
	CU_ASSERT(test_zone("dup", pg - 1, 1) == z);
	cause = NULL;
	CU_ASSERT_PTR_NULL(shm_zone_add("dup", 2 * pg, 1, &cause));
	CU_ASSERT_PTR_NOT_NULL(cause);
	free(cause);
	cause = NULL;
	CU_ASSERT_PTR_NULL(shm_zone_add("dup", pg, 2, &cause));
	CU_ASSERT_PTR_NOT_NULL(cause);
	free(cause);

	shm_zone_reconcile();
	CU_ASSERT_PTR_NOT_NULL(shm_zone_at(1));
	CU_ASSERT_PTR_NULL(shm_zone_at(2));
}

static void
test_zone_reuse(void)
{
	struct shm_zone	*a, *b, *c, *z;
	struct shm_hdr	*ha, *hb, *hc;
	size_t		 pg = test_pg;

	shm_zone_begin();
	a = test_zone("a", 2 * pg, 1);
	b = test_zone("b", 2 * pg, 1);
	c = test_zone("c", pg, 1);
	CU_ASSERT_FATAL(a != NULL && b != NULL && c != NULL);
	shm_zone_reconcile();
	strcpy(shm_zone_root(a), "data a");
	strcpy(shm_zone_root(b), "data b");
	strcpy(shm_zone_root(c), "data c");
	ha = a->z_hdr;
	hb = b->z_hdr;
	hc = c->z_hdr;

	/* Next config: keep a, grow b, drop c. */
	shm_zone_begin();
	z = test_zone("a", 2 * pg, 1);
	CU_ASSERT(z == a);
	CU_ASSERT(z->z_hdr == ha);
	CU_ASSERT(z->z_reused == 1);
	CU_ASSERT_STRING_EQUAL(shm_zone_root(z), "data a");

	z = test_zone("b", 3 * pg, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(z);
	CU_ASSERT(z != b);
	CU_ASSERT(z->z_hdr != hb);
	CU_ASSERT(z->z_reused == 0);
	CU_ASSERT(z->z_size == 3 * pg);
	CU_ASSERT(*(char *)shm_zone_root(z) == '\0');
	CU_ASSERT(shm_zone_find("b") == z);
	b = z;

	/* Until reconcile the old generation is whole. */
	CU_ASSERT(test_mapped(hb, 2 * pg));
	CU_ASSERT_STRING_EQUAL((char *)hb + ((char *)shm_zone_root(a) -
	    (char *)ha), "data b");
	CU_ASSERT(shm_zone_find("c") == c);
	CU_ASSERT_STRING_EQUAL(shm_zone_root(c), "data c");

	shm_zone_reconcile();
	CU_ASSERT_PTR_NULL(shm_zone_find("c"));
	CU_ASSERT(!test_mapped(hc, pg));
	CU_ASSERT(!test_mapped(hb, 2 * pg));
	CU_ASSERT(shm_zone_find("b") == b);
	CU_ASSERT(shm_zone_find("a") == a);
	CU_ASSERT_STRING_EQUAL(shm_zone_root(a), "data a");
	CU_ASSERT(a->z_reused == 1);
	CU_ASSERT_PTR_NOT_NULL(shm_zone_at(1));
	CU_ASSERT_PTR_NULL(shm_zone_at(2));

	/* A round that keeps everything leaves the mappings alone. */
	shm_zone_begin();
	CU_ASSERT(test_zone("a", 2 * pg, 1) == a);
	CU_ASSERT(test_zone("b", 3 * pg, 1) == b);
	shm_zone_reconcile();
	CU_ASSERT(a->z_hdr == ha);
	CU_ASSERT_STRING_EQUAL(shm_zone_root(a), "data a");
}

static void
test_zone_failed_round(void)
{
	struct shm_zone	*a, *b, *na, *nd;
	struct shm_hdr	*hna, *hnd;
	size_t		 pg = test_pg;

	shm_zone_begin();
	a = test_zone("a", pg, 1);
	b = test_zone("b", pg, 1);
	CU_ASSERT_FATAL(a != NULL && b != NULL);
	shm_zone_reconcile();
	strcpy(shm_zone_root(a), "data a");
	strcpy(shm_zone_root(b), "data b");

	/* A config that would replace a, add d and keep b, then fails. */
	shm_zone_begin();
	na = test_zone("a", 2 * pg, 1);
	nd = test_zone("d", pg, 1);
	CU_ASSERT(test_zone("b", pg, 1) == b);
	CU_ASSERT_FATAL(na != NULL && nd != NULL);
	CU_ASSERT(na != a);
	hna = na->z_hdr;
	hnd = nd->z_hdr;
	strcpy(shm_zone_root(na), "new a");
	CU_ASSERT_STRING_EQUAL(shm_zone_root(a), "data a");

	/* No reconcile.  The next round drops what the failed one made. */
	shm_zone_begin();
	CU_ASSERT(!test_mapped(hna, 2 * pg));
	CU_ASSERT(!test_mapped(hnd, pg));
	CU_ASSERT(shm_zone_find("a") == a);
	CU_ASSERT_PTR_NULL(shm_zone_find("d"));
	CU_ASSERT(shm_zone_find("b") == b);
	CU_ASSERT(a->z_reused == 0 && b->z_reused == 0);
	CU_ASSERT_STRING_EQUAL(shm_zone_root(a), "data a");
	CU_ASSERT_STRING_EQUAL(shm_zone_root(b), "data b");
	CU_ASSERT_PTR_NULL(shm_zone_at(2));

	CU_ASSERT(test_zone("a", pg, 1) == a);
	CU_ASSERT(test_zone("b", pg, 1) == b);
	CU_ASSERT(a->z_reused == 1);
	shm_zone_reconcile();
	CU_ASSERT_STRING_EQUAL(shm_zone_root(a), "data a");
	CU_ASSERT_STRING_EQUAL(shm_zone_root(b), "data b");
}

static void
test_zone_header(void)
{
	struct shm_zone	*a, *b, *z;
	size_t		 pg = test_pg;

	shm_zone_begin();
	a = test_zone("magic", pg, 1);
	b = test_zone("layout", pg, 1);
	CU_ASSERT_FATAL(a != NULL && b != NULL);
	shm_zone_reconcile();
	strcpy(shm_zone_root(a), "old");
	strcpy(shm_zone_root(b), "old");

	/* A damaged header is never inherited. */
	a->z_hdr->h_magic = 0;
	shm_zone_begin();
	z = test_zone("magic", pg, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(z);
	CU_ASSERT(z != a && z->z_reused == 0);
	CU_ASSERT(z->z_hdr->h_magic == SHM_MAGIC);
	CU_ASSERT(*(char *)shm_zone_root(z) == '\0');

	/* Same name and size but a new layout version: a fresh zone. */
	z = test_zone("layout", pg, 2);
	CU_ASSERT_PTR_NOT_NULL_FATAL(z);
	CU_ASSERT(z != b && z->z_reused == 0);
	CU_ASSERT(z->z_hdr->h_layout == 2);
	CU_ASSERT(*(char *)shm_zone_root(z) == '\0');
	shm_zone_reconcile();
	CU_ASSERT(shm_zone_find("layout") == z);
	CU_ASSERT_PTR_NULL(shm_zone_at(2));
}

static void
test_lock_basic(void)
{
	struct shm_zone	*z;
	struct shm_lock	*lk;

	z = test_zone("lock", test_pg, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(z);
	lk = &z->z_hdr->h_lock;

	CU_ASSERT(shm_trylock(lk) == 1);
	CU_ASSERT(atomic_load(&lk->lk_pid) == (uint32_t)getpid());
	CU_ASSERT(shm_trylock(lk) == 0);
	CU_ASSERT(shm_lock_break(lk, getpid() + 1) == 0);
	CU_ASSERT(shm_lock_break(lk, 0) == 0);
	CU_ASSERT(atomic_load(&lk->lk_pid) == (uint32_t)getpid());
	shm_unlock(lk);
	CU_ASSERT(atomic_load(&lk->lk_pid) == 0);

	shm_lock(lk);
	CU_ASSERT(atomic_load(&lk->lk_pid) == (uint32_t)getpid());
	CU_ASSERT(shm_lock_break(lk, getpid()) == 1);
	CU_ASSERT(atomic_load(&lk->lk_pid) == 0);
	CU_ASSERT(atomic_load(&lk->lk_broken) == 1);
	CU_ASSERT(shm_lock_break(lk, getpid()) == 0);
	CU_ASSERT(atomic_load(&lk->lk_broken) == 1);
	shm_lock(lk);
	shm_unlock(lk);
	CU_ASSERT(atomic_load(&lk->lk_pid) == 0);
}

/* The cached pid must not leak into a child through fork(). */
static void
test_lock_fork_pid(void)
{
	struct shm_zone	*z;
	struct shm_lock	*lk;
	pid_t		 pid;
	int		 rc;

	z = test_zone("forkpid", test_pg, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(z);
	lk = &z->z_hdr->h_lock;
	shm_lock(lk);
	shm_unlock(lk);

	if ((pid = test_fork()) == 0) {
		rc = 0;
		shm_lock(lk);
		if (atomic_load(&lk->lk_pid) != (uint32_t)getpid())
			rc = 1;
		shm_unlock(lk);
		if (shm_trylock(lk) != 1 ||
		    atomic_load(&lk->lk_pid) != (uint32_t)getpid())
			rc |= 2;
		shm_unlock(lk);
		_exit(rc);
	}
	CU_ASSERT(test_wait(pid) == 0);
	CU_ASSERT(atomic_load(&lk->lk_pid) == 0);
}

static void
test_lock_mutex(void)
{
	struct shm_zone	*z;
	struct shm_lock	*lk;
	uint64_t	*counter;
	pid_t		 pids[TEST_NCHILD];
	int		 i, j;

	z = test_zone("mutex", test_pg, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(z);
	lk = &z->z_hdr->h_lock;
	counter = shm_zone_root(z);
	*counter = 0;

	for (i = 0; i < TEST_NCHILD; i++) {
		if ((pids[i] = test_fork()) == 0) {
			for (j = 0; j < TEST_LOOPS; j++) {
				shm_lock(lk);
				(*counter)++;
				shm_unlock(lk);
			}
			_exit(0);
		}
	}
	for (i = 0; i < TEST_NCHILD; i++)
		CU_ASSERT(test_wait(pids[i]) == 0);
	CU_ASSERT(*counter == (uint64_t)TEST_NCHILD * TEST_LOOPS);
	CU_ASSERT(atomic_load(&lk->lk_pid) == 0);
	CU_ASSERT(atomic_load(&lk->lk_broken) == 0);
}

/*
 * A holds both zones' locks and is SIGKILLed.  It stays a zombie (waitid
 * with WNOWAIT) while B waits, so B cannot heal the lock itself: only the
 * master's shm_lock_break_all() can let B through.
 */
static void
test_lock_break_master(void)
{
	struct shm_zone	*z1, *z2;
	struct shm_lock	*lk1, *lk2;
	siginfo_t	 si;
	pid_t		 a, b;
	int		 pa[2], pb[2], rc;

	z1 = test_zone("brk1", test_pg, 1);
	z2 = test_zone("brk2", test_pg, 1);
	CU_ASSERT_FATAL(z1 != NULL && z2 != NULL);
	shm_zone_reconcile();
	lk1 = &z1->z_hdr->h_lock;
	lk2 = &z2->z_hdr->h_lock;

	test_pipe(pa);
	if ((a = test_fork()) == 0) {
		close(pa[0]);
		shm_lock(lk1);
		shm_lock(lk2);
		test_write1(pa[1]);
		for (;;)
			pause();
	}
	close(pa[1]);
	CU_ASSERT_FATAL(test_read1(pa[0]));
	close(pa[0]);
	CU_ASSERT(atomic_load(&lk1->lk_pid) == (uint32_t)a);
	CU_ASSERT(atomic_load(&lk2->lk_pid) == (uint32_t)a);

	CU_ASSERT(kill(a, SIGKILL) != -1);
	memset(&si, 0, sizeof(si));
	CU_ASSERT(waitid(P_PID, (id_t)a, &si, WEXITED|WNOWAIT) != -1);
	CU_ASSERT(si.si_pid == a && si.si_code == CLD_KILLED);

	test_pipe(pb);
	if ((b = test_fork()) == 0) {
		close(pb[0]);
		rc = 0;
		if (shm_trylock(lk1) != 0)
			rc |= 1;
		test_write1(pb[1]);
		shm_lock(lk1);
		if (atomic_load(&lk1->lk_pid) != (uint32_t)getpid())
			rc |= 2;
		shm_unlock(lk1);
		_exit(rc);
	}
	close(pb[1]);
	CU_ASSERT(test_read1(pb[0]));
	close(pb[0]);

	/* The master reaps a and breaks its locks. */
	CU_ASSERT(atomic_load(&lk1->lk_broken) == 0);
	shm_lock_break_all(a);
	CU_ASSERT(atomic_load(&lk1->lk_broken) == 1);
	CU_ASSERT(atomic_load(&lk2->lk_broken) == 1);
	CU_ASSERT(atomic_load(&lk2->lk_pid) == 0);

	CU_ASSERT(test_wait(b) == 0);
	CU_ASSERT(test_wait(a) == 128 + SIGKILL);
	CU_ASSERT(atomic_load(&lk1->lk_pid) == 0);
	CU_ASSERT(atomic_load(&lk1->lk_broken) == 1);
}

/*
 * Nobody calls shm_lock_break*(): once the dead owner is reaped, a waiter
 * finds it gone and breaks the lock on its own.
 */
static void
test_lock_self_heal(void)
{
	struct shm_zone	*z;
	struct shm_lock	*lk;
	pid_t		 a, b;
	int		 pa[2], rc;

	z = test_zone("heal", test_pg, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(z);
	lk = &z->z_hdr->h_lock;

	test_pipe(pa);
	if ((a = test_fork()) == 0) {
		close(pa[0]);
		shm_lock(lk);
		test_write1(pa[1]);
		for (;;)
			pause();
	}
	close(pa[1]);
	CU_ASSERT_FATAL(test_read1(pa[0]));
	close(pa[0]);
	CU_ASSERT(kill(a, SIGKILL) != -1);
	CU_ASSERT(test_wait(a) == 128 + SIGKILL);
	CU_ASSERT(atomic_load(&lk->lk_pid) == (uint32_t)a);

	if ((b = test_fork()) == 0) {
		rc = 0;
		shm_lock(lk);
		if (atomic_load(&lk->lk_pid) != (uint32_t)getpid())
			rc = 1;
		shm_unlock(lk);
		_exit(rc);
	}
	CU_ASSERT(test_wait(b) == 0);
	CU_ASSERT(atomic_load(&lk->lk_pid) == 0);
	CU_ASSERT(atomic_load(&lk->lk_broken) == 1);
}

static void
test_slab_basic(void)
{
	struct shm_zone	*z;
	struct shm_hdr	*h;
	char		*root, *p1, *p2, *p3, *q;
	size_t		 ds, i;
	int		 ok = 1;

	z = test_zone("slab", 4 * test_pg, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(z);
	h = z->z_hdr;
	root = shm_zone_root(z);
	ds = shm_zone_datasize(z);

	p1 = shm_alloc_locked(z, 1);
	p2 = shm_alloc_locked(z, 100);
	p3 = shm_alloc_locked(z, 1000);
	CU_ASSERT_FATAL(p1 != NULL && p2 != NULL && p3 != NULL);
	CU_ASSERT((uintptr_t)p1 % 16 == 0);
	CU_ASSERT((uintptr_t)p2 % 16 == 0);
	CU_ASSERT((uintptr_t)p3 % 16 == 0);
	CU_ASSERT(p1 >= root && p3 + 1000 <= root + ds);
	CU_ASSERT(p2 >= p1 + 1 && p3 >= p2 + 100);
	memset(p1, 1, 1);
	memset(p2, 2, 100);
	memset(p3, 3, 1000);
	for (i = 0; i < 100; i++)
		if (p2[i] != 2)
			ok = 0;
	for (i = 0; i < 1000; i++)
		if (p3[i] != 3)
			ok = 0;
	CU_ASSERT(ok && p1[0] == 1);
	CU_ASSERT(h->h_used == (16 + TEST_SLAB_HDR) + (112 + TEST_SLAB_HDR) +
	    (1008 + TEST_SLAB_HDR));
	CU_ASSERT(h->h_free > 0 && h->h_free < z->z_size);
	CU_ASSERT(h->h_free % 16 == 0);

	/* First fit refills the hole. */
	shm_free_locked(z, p2);
	CU_ASSERT(h->h_used == (16 + TEST_SLAB_HDR) + (1008 + TEST_SLAB_HDR));
	q = shm_alloc_locked(z, 100);
	CU_ASSERT(q == p2);
	CU_ASSERT(p1[0] == 1 && p3[0] == 3);

	shm_free_locked(z, NULL);
	shm_free_locked(z, p1);
	shm_free_locked(z, p3);
	shm_free_locked(z, q);
	CU_ASSERT(h->h_used == 0);
	CU_ASSERT(h->h_free == test_off(z, root));
	q = shm_alloc_locked(z, ds - TEST_SLAB_HDR);
	CU_ASSERT(q == root + TEST_SLAB_HDR);
	shm_free_locked(z, q);
	CU_ASSERT(h->h_used == 0);
}

static void
test_slab_exhaust(void)
{
	struct shm_zone	*z;
	struct shm_hdr	*h;
	void		*p, *ptrs[256];
	size_t		 ds, n = 0;

	z = test_zone("exhaust", test_pg, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(z);
	h = z->z_hdr;
	ds = shm_zone_datasize(z);

	CU_ASSERT_PTR_NULL(shm_alloc_locked(z, 0));
	CU_ASSERT_PTR_NULL(shm_alloc_locked(z, ds));
	CU_ASSERT_PTR_NULL(shm_alloc_locked(z, ds + 1));
	CU_ASSERT_PTR_NULL(shm_alloc_locked(z, SIZE_MAX));

	while (n < 256 && (p = shm_alloc_locked(z, 48)) != NULL)
		ptrs[n++] = p;
	CU_ASSERT(n == ds / (48 + TEST_SLAB_HDR));
	CU_ASSERT_PTR_NULL(shm_alloc_locked(z, 1));
	CU_ASSERT(h->h_free == 0);
	CU_ASSERT(h->h_used == ds);

	CU_ASSERT_FATAL(n > 3);
	shm_free_locked(z, ptrs[3]);
	CU_ASSERT(shm_alloc_locked(z, 48) == ptrs[3]);
	CU_ASSERT_PTR_NULL(shm_alloc_locked(z, 1));
	while (n > 0)
		shm_free_locked(z, ptrs[--n]);
	CU_ASSERT(h->h_used == 0);
}

static void
test_slab_coalesce(void)
{
	struct shm_zone	*z;
	struct shm_hdr	*h;
	char		*root, *p, *ptrs[512];
	size_t		 ds, n, i, j, k, tmp[512];
	uint32_t	 seed;
	int		 pass;

	z = test_zone("coalesce", 4 * test_pg, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(z);
	h = z->z_hdr;
	root = shm_zone_root(z);
	ds = shm_zone_datasize(z);

	for (pass = 0; pass < 3; pass++) {
		n = 0;
		while (n < 512 && (p = shm_alloc_locked(z, 32)) != NULL)
			ptrs[n++] = p;
		CU_ASSERT_FATAL(n > 4 && n < 512);
		CU_ASSERT_PTR_NULL(shm_alloc_locked(z, 32));

		switch (pass) {
		case 0:
			/* Every other block: holes that cannot merge. */
			for (i = 0; i < n; i += 2)
				shm_free_locked(z, ptrs[i]);
			CU_ASSERT_PTR_NULL(shm_alloc_locked(z, 64));
			CU_ASSERT_PTR_NULL(shm_alloc_locked(z, ds / 2));
			/* Each of these merges with both neighbours. */
			for (i = 1; i < n; i += 2)
				shm_free_locked(z, ptrs[i]);
			break;
		case 1:
			for (i = n; i > 0; i--)
				shm_free_locked(z, ptrs[i - 1]);
			break;
		default:
			/* A fixed pseudo-random order. */
			for (i = 0; i < n; i++)
				tmp[i] = i;
			seed = 12345;
			for (i = n - 1; i > 0; i--) {
				seed = seed * 1103515245 + 12345;
				j = (seed >> 8) % (i + 1);
				k = tmp[i];
				tmp[i] = tmp[j];
				tmp[j] = k;
			}
			for (i = 0; i < n; i++)
				shm_free_locked(z, ptrs[tmp[i]]);
			break;
		}

		CU_ASSERT(h->h_used == 0);
		CU_ASSERT(h->h_free == test_off(z, root));
		p = shm_alloc_locked(z, ds - TEST_SLAB_HDR);
		CU_ASSERT(p == root + TEST_SLAB_HDR);
		shm_free_locked(z, p);
	}
}

/*
 * The allocator's links are offsets: a byte copy of the zone at another
 * address is a working heap there, and a child's allocation is found by
 * the parent through h_root.
 */
static void
test_slab_offsets(void)
{
	struct shm_zone	*za, *zb;
	struct shm_hdr	*ha, *hb;
	char		*p1, *p2, *p3, *q;
	uint64_t	 off, used;
	pid_t		 pid;
	char		*s;

	za = test_zone("offa", 2 * test_pg, 1);
	zb = test_zone("offb", 2 * test_pg, 1);
	CU_ASSERT_FATAL(za != NULL && zb != NULL);
	ha = za->z_hdr;
	hb = zb->z_hdr;

	p1 = shm_alloc_locked(za, 40);
	p2 = shm_alloc_locked(za, 200);
	p3 = shm_alloc_locked(za, 40);
	CU_ASSERT_FATAL(p1 != NULL && p2 != NULL && p3 != NULL);
	shm_free_locked(za, p2);

	/* Every link in the free list is a small offset, not an address. */
	off = ha->h_free;
	CU_ASSERT(off == test_off(za, p2) - TEST_SLAB_HDR);
	memcpy(&off, (char *)ha + off + 8, sizeof(off));
	CU_ASSERT(off > test_off(za, p3) && off < za->z_size);

	memcpy(hb, ha, za->z_size);
	memcpy(hb->h_name, "offb", sizeof("offb"));
	used = ha->h_used;
	q = shm_alloc_locked(zb, 200);
	CU_ASSERT(q == (char *)hb + test_off(za, p2));
	shm_free_locked(zb, (char *)hb + test_off(za, p1));
	shm_free_locked(zb, q);
	shm_free_locked(zb, (char *)hb + test_off(za, p3));
	CU_ASSERT(hb->h_used == 0);
	CU_ASSERT(ha->h_used == used);
	CU_ASSERT(ha->h_free == test_off(za, p2) - TEST_SLAB_HDR);

	if ((pid = test_fork()) == 0) {
		shm_lock(&ha->h_lock);
		s = shm_alloc_locked(za, 32);
		if (s != NULL) {
			strcpy(s, "from child");
			ha->h_root = test_off(za, s);
		}
		shm_unlock(&ha->h_lock);
		_exit(s == NULL);
	}
	CU_ASSERT_FATAL(test_wait(pid) == 0);
	CU_ASSERT_FATAL(ha->h_root != 0 && ha->h_root < za->z_size);
	s = (char *)ha + ha->h_root;
	CU_ASSERT_STRING_EQUAL(s, "from child");
	shm_lock(&ha->h_lock);
	shm_free_locked(za, s);
	shm_free_locked(za, p1);
	shm_free_locked(za, p3);
	shm_unlock(&ha->h_lock);
	CU_ASSERT(ha->h_used == 0);
}

static void
test_stats_slots(void)
{
	struct stats_slot	*s0, *s1;
	struct stats_totals	 t;
	char			*cause = NULL;
	int			 i, n;

	CU_ASSERT(stats_slot_get() == -1);
	CU_ASSERT_PTR_NULL(stats_slot(0));

	shm_zone_begin();
	CU_ASSERT_FATAL(stats_init(&cause) == 0);
	CU_ASSERT_PTR_NULL(cause);
	shm_zone_reconcile();

	CU_ASSERT_PTR_NULL(stats_slot(-1));
	CU_ASSERT_PTR_NULL(stats_slot(STATS_SLOTS));
	s0 = stats_slot(0);
	s1 = stats_slot(1);
	CU_ASSERT_FATAL(s0 != NULL && s1 != NULL);
	CU_ASSERT((uintptr_t)s0 % SHM_CACHELINE == 0);
	CU_ASSERT((char *)s1 - (char *)s0 >= SHM_CACHELINE);
	CU_ASSERT(stats_slot(STATS_SLOTS - 1) + 1 <= (struct stats_slot *)
	    ((char *)shm_zone_root(shm_zone_find("stats")) +
	    shm_zone_datasize(shm_zone_find("stats"))));

	/* A slot is reserved until the master stores the worker's pid. */
	CU_ASSERT(stats_slot_get() == 0);
	CU_ASSERT(atomic_load(&s0->st_pid) == (uint32_t)getpid());
	CU_ASSERT(stats_slot_get() == 1);
	atomic_store(&s0->st_pid, 4242);
	atomic_fetch_add(&s0->st_requests, 5);
	atomic_fetch_add(&s0->st_active, 2);
	stats_slot_release(0);
	CU_ASSERT(atomic_load(&s0->st_pid) == 0);
	CU_ASSERT(atomic_load(&s0->st_active) == 0);
	CU_ASSERT(atomic_load(&s0->st_requests) == 5);
	CU_ASSERT(stats_slot_get() == 0);
	stats_slot_release(STATS_SLOTS);
	stats_slot_release(-1);

	n = 2;
	while (stats_slot_get() != -1)
		n++;
	CU_ASSERT(n == STATS_SLOTS);
	for (i = 0; i < STATS_SLOTS; i++)
		stats_slot_release(i);
	CU_ASSERT(stats_slot_get() == 0);

	stats_sum(&t);
	CU_ASSERT(t.requests == 5);
	CU_ASSERT(t.active == 0);
}

static void
test_stats_fork_sum(void)
{
	struct stats_slot	*s;
	struct stats_totals	 t;
	pid_t			 pids[TEST_NCHILD];
	int			 slots[TEST_NCHILD], i, j;
	const uint64_t		 n = 10000, nc = TEST_NCHILD;

	shm_zone_begin();
	CU_ASSERT_FATAL(stats_init(NULL) == 0);
	shm_zone_reconcile();

	for (i = 0; i < TEST_NCHILD; i++) {
		slots[i] = stats_slot_get();
		CU_ASSERT_FATAL(slots[i] != -1);
		if ((pids[i] = test_fork()) == 0) {
			s = stats_slot(slots[i]);
			if (s == NULL)
				_exit(1);
			atomic_fetch_add_explicit(&s->st_active, 1,
			    memory_order_relaxed);
			for (j = 0; j < (int)n; j++) {
				atomic_fetch_add_explicit(&s->st_requests, 1,
				    memory_order_relaxed);
				atomic_fetch_add_explicit(&s->st_bytes_in, 100,
				    memory_order_relaxed);
				atomic_fetch_add_explicit(&s->st_bytes_out,
				    200, memory_order_relaxed);
				atomic_fetch_add_explicit(
				    &s->st_status[STATS_2XX], 1,
				    memory_order_relaxed);
				if (j % 10 == 0)
					atomic_fetch_add_explicit(
					    &s->st_upstream_errors, 1,
					    memory_order_relaxed);
			}
			atomic_fetch_add_explicit(&s->st_accepted, 1,
			    memory_order_relaxed);
			_exit(0);
		}
		atomic_store(&stats_slot(slots[i])->st_pid, (uint32_t)pids[i]);
	}
	for (i = 0; i < TEST_NCHILD; i++) {
		CU_ASSERT(test_wait(pids[i]) == 0);
		CU_ASSERT(atomic_load(&stats_slot(slots[i])->st_pid) ==
		    (uint32_t)pids[i]);
	}

	stats_sum(&t);
	CU_ASSERT(t.requests == nc * n);
	CU_ASSERT(t.bytes_in == nc * n * 100);
	CU_ASSERT(t.bytes_out == nc * n * 200);
	CU_ASSERT(t.status[STATS_2XX] == nc * n);
	CU_ASSERT(t.status[STATS_5XX] == 0);
	CU_ASSERT(t.accepted == nc);
	CU_ASSERT(t.active == (int64_t)nc);
	CU_ASSERT(t.upstream_errors == nc * (n / 10));

	/* Reaped workers give their slots back but not their counts. */
	for (i = 0; i < TEST_NCHILD; i++)
		stats_slot_release(slots[i]);
	stats_sum(&t);
	CU_ASSERT(t.requests == nc * n);
	CU_ASSERT(t.active == 0);
	CU_ASSERT(stats_slot_get() == slots[0]);
	stats_slot_release(slots[0]);

	/* A reload keeps the zone and so the totals. */
	shm_zone_begin();
	CU_ASSERT_FATAL(stats_init(NULL) == 0);
	CU_ASSERT(shm_zone_find("stats")->z_reused == 1);
	shm_zone_reconcile();
	stats_sum(&t);
	CU_ASSERT(t.requests == nc * n);
	CU_ASSERT(t.bytes_out == nc * n * 200);

	shm_zone_freeall();
	stats_sum(&t);
	CU_ASSERT(t.requests == 0);
}

static CU_TestInfo zone_tests[] = {
	{ "create, find, root, datasize", test_zone_create },
	{ "bad arguments and duplicates", test_zone_args },
	{ "reuse across a declaration round", test_zone_reuse },
	{ "failed round keeps the old zones", test_zone_failed_round },
	{ "header magic and layout", test_zone_header },
	CU_TEST_INFO_NULL
};

static CU_TestInfo lock_tests[] = {
	{ "trylock, unlock, break", test_lock_basic },
	{ "owner pid after fork", test_lock_fork_pid },
	{ "mutual exclusion across 4 children", test_lock_mutex },
	{ "master breaks a killed owner's locks", test_lock_break_master },
	{ "waiter breaks a dead owner's lock", test_lock_self_heal },
	CU_TEST_INFO_NULL
};

static CU_TestInfo slab_tests[] = {
	{ "alloc and free", test_slab_basic },
	{ "exhaustion returns NULL", test_slab_exhaust },
	{ "coalescing", test_slab_coalesce },
	{ "offsets, not pointers", test_slab_offsets },
	CU_TEST_INFO_NULL
};

static CU_TestInfo stats_tests[] = {
	{ "slot get and release", test_stats_slots },
	{ "sum across forked workers", test_stats_fork_sum },
	CU_TEST_INFO_NULL
};

static CU_SuiteInfo shm_suites[] = {
	{ "shm zone", NULL, NULL, NULL, test_teardown, zone_tests },
	{ "shm lock", NULL, NULL, NULL, test_teardown, lock_tests },
	{ "shm slab", NULL, NULL, NULL, test_teardown, slab_tests },
	{ "stats", NULL, NULL, NULL, test_teardown, stats_tests },
	CU_SUITE_INFO_NULL
};

int
main(void)
{
	log_init(1, 0);
	test_pg = (size_t)sysconf(_SC_PAGESIZE);
	return (test_run(shm_suites));
}
