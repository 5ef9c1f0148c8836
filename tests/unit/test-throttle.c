/*
 * test-throttle.c: the throttle table and its four algorithms.
 *
 * Time is whatever the test passes as now, so every case is exact and
 * deterministic: boundaries are hit at their very millisecond, streams of
 * requests come from a fixed-seed generator, and each algorithm's
 * guarantee is checked against every span of the admitted stream.
 *
 * Cross-process cases fork() real children and synchronise through pipes
 * and waitpid(), never by sleeping; children arm alarm() as a watchdog and
 * leave with _exit().
 */
#include "config.h"

#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "lib.h"
#include "shm.h"
#include "throttle.h"
#include "tests.h"

#define TEST_NCHILD	4
#define TEST_BASE	UINT64_C(1700000000000)	/* ms, aligned to 1s */
#define TEST_ZONE	(1024 * 1024)	/* bytes */
#define TEST_STREAM	4000		/* requests in a random stream */

static struct shm_zone	*test_zone(const char *, size_t);
static struct throttle_policy test_pol(uint32_t, enum throttle_algo,
			    uint64_t, uint64_t, uint64_t, int);
static enum throttle_verdict test_hit(struct shm_zone *, const char *,
			    const struct throttle_policy *, uint64_t,
			    struct throttle_level *, uint64_t *);
static uint64_t		 test_rand(void);
static pid_t		 test_fork(void);
static int		 test_wait(pid_t);
static void		 test_pipe(int [2]);
static int		 test_read1(int);
static void		 test_write1(int);
static int		 test_count_cb(const struct throttle_info *, void *);
static uint64_t		 test_count(struct shm_zone *, const char *,
			    uint64_t);
static struct throttle_root *test_root(struct shm_zone *);
static void		 test_teardown(void);

static void		 test_fixed_boundary(void);
static void		 test_fixed_exact(void);
static void		 test_log_boundary(void);
static void		 test_log_spans(void);
static void		 test_sw_boundary(void);
static void		 test_sw_bounds(void);
static void		 test_tb_burst(void);
static void		 test_tb_bound(void);
static void		 test_retry_exact(void);
static void		 test_clock_steps(void);
static void		 test_multi_level(void);
static void		 test_dry_run(void);
static void		 test_arguments(void);
static void		 test_policy_change(void);
static void		 test_eviction(void);
static void		 test_eviction_rings(void);
static void		 test_reload(void);
static void		 test_walk_reset(void);
static void		 test_corrupt(void);
static void		 test_fork_exact(void);
static void		 test_killed_holder(void);

static uint64_t		 test_rng = UINT64_C(0x853c49e6748fea9b);

/* Declare and format a table zone; the test stops if that fails. */
static struct shm_zone *
test_zone(const char *name, size_t size)
{
	struct shm_zone	*z;
	char		*cause = NULL;

	z = shm_zone_add(name, size, THROTTLE_LAYOUT, &cause);
	CU_ASSERT_FATAL(z != NULL);
	CU_ASSERT_FATAL(throttle_table_init(z, 0, &cause) == 0);
	CU_ASSERT_PTR_NULL(cause);
	free(cause);
	return (z);
}

static struct throttle_policy
test_pol(uint32_t id, enum throttle_algo algo, uint64_t limit, uint64_t per,
    uint64_t burst, int dry)
{
	struct throttle_policy	 p;

	memset(&p, 0, sizeof(p));
	p.tp_id = id;
	p.tp_algo = algo;
	p.tp_limit = limit;
	p.tp_period = per;
	p.tp_burst = burst;
	p.tp_dry_run = dry;
	return (p);
}

/* One single-level request; lv and retry may be NULL. */
static enum throttle_verdict
test_hit(struct shm_zone *z, const char *key, const struct throttle_policy *p,
    uint64_t now, struct throttle_level *lvp, uint64_t *retry)
{
	struct throttle_level	 lv;
	enum throttle_verdict	 v;
	uint64_t		 ra;
	size_t			 d;

	memset(&lv, 0, sizeof(lv));
	lv.tl_key = key;
	lv.tl_keylen = strlen(key);
	lv.tl_policy = p;
	v = throttle_hit(z, &lv, 1, now, &d, &ra);
	if (v != THROTTLE_ERROR) {
		CU_ASSERT(d == 0);
		CU_ASSERT((v == THROTTLE_PASS) == (ra == 0));
		/* A dry run reports its retry but passes. */
		CU_ASSERT(v == THROTTLE_PASS || ra == lv.tl_retry);
		CU_ASSERT(v == THROTTLE_DENY || lv.tl_retry == 0 ||
		    lv.tl_dry_hit);
	}
	if (lvp != NULL)
		*lvp = lv;
	if (retry != NULL)
		*retry = ra;
	return (v);
}

/* xorshift64*: a fixed sequence, so every run sees the same stream. */
static uint64_t
test_rand(void)
{
	test_rng ^= test_rng >> 12;
	test_rng ^= test_rng << 25;
	test_rng ^= test_rng >> 27;
	return (test_rng * UINT64_C(2685821657736338717));
}

static void
test_pipe(int fd[2])
{
	CU_ASSERT_FATAL(pipe(fd) != -1);
}

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

struct test_walk {
	uint64_t	 tw_entries;
	uint64_t	 tw_count;	/* sum of ti_count */
};

static int
test_count_cb(const struct throttle_info *ti, void *arg)
{
	struct test_walk	*tw = arg;

	CU_ASSERT(ti->ti_keylen > 0 && ti->ti_keylen <= THROTTLE_KEY_MAX);
	tw->tw_entries++;
	tw->tw_count += ti->ti_count;
	return (0);
}

/* What the walk says is counted under key (and keys it prefixes). */
static uint64_t
test_count(struct shm_zone *z, const char *key, uint64_t now)
{
	struct test_walk	 tw;

	memset(&tw, 0, sizeof(tw));
	CU_ASSERT(throttle_table_walk(z, key, strlen(key), now, test_count_cb,
	    &tw) == 0);
	return (tw.tw_count);
}

static struct throttle_root *
test_root(struct shm_zone *z)
{
	return ((struct throttle_root *)((char *)z->z_hdr +
	    z->z_hdr->h_root));
}

static void
test_teardown(void)
{
	shm_zone_freeall();
}

/* Exactly at the window's end the next window opens; one ms before not. */
static void
test_fixed_boundary(void)
{
	struct shm_zone		*z;
	struct throttle_policy	 p;
	struct throttle_level	 lv;
	uint64_t		 t = TEST_BASE + 400, retry;

	z = test_zone("fixed-b", TEST_ZONE);
	p = test_pol(1, THROTTLE_FIXED_WINDOW, 3, 1000, 0, 0);
	CU_ASSERT(test_hit(z, "k", &p, t, &lv, NULL) == THROTTLE_PASS);
	CU_ASSERT(lv.tl_admitted == 1 && lv.tl_limit == 3);
	CU_ASSERT(lv.tl_remaining == 2);
	CU_ASSERT(lv.tl_reset == 600);
	CU_ASSERT(test_hit(z, "k", &p, t, &lv, NULL) == THROTTLE_PASS);
	CU_ASSERT(test_hit(z, "k", &p, t + 1, &lv, NULL) == THROTTLE_PASS);
	CU_ASSERT(lv.tl_remaining == 0);
	CU_ASSERT(test_hit(z, "k", &p, t + 1, &lv, &retry) == THROTTLE_DENY);
	CU_ASSERT(lv.tl_admitted == 0 && lv.tl_remaining == 0);
	CU_ASSERT(retry == 599);
	CU_ASSERT(test_hit(z, "k", &p, TEST_BASE + 999, NULL, &retry) ==
	    THROTTLE_DENY);
	CU_ASSERT(retry == 1);
	CU_ASSERT(test_hit(z, "k", &p, TEST_BASE + 1000, &lv, NULL) ==
	    THROTTLE_PASS);
	CU_ASSERT(lv.tl_remaining == 2 && lv.tl_reset == 1000);
	CU_ASSERT(throttle_table_check(z, NULL) == 0);
}

/* Exactly N admitted in each of many windows under heavy demand. */
static void
test_fixed_exact(void)
{
	struct shm_zone		*z;
	struct throttle_policy	 p;
	uint64_t		 w, t, n;
	int			 i;

	z = test_zone("fixed-e", TEST_ZONE);
	p = test_pol(2, THROTTLE_FIXED_WINDOW, 37, 60000, 0, 0);
	for (w = 0; w < 20; w++) {
		n = 0;
		for (i = 0; i < 200; i++) {
			t = TEST_BASE - TEST_BASE % 60000 + w * 60000 +
			    test_rand() % 60000;
			if (test_hit(z, "k", &p, t, NULL, NULL) ==
			    THROTTLE_PASS)
				n++;
		}
		CU_ASSERT(n == 37);
	}
}

/* A timestamp leaves the log exactly at ts + per. */
static void
test_log_boundary(void)
{
	struct shm_zone		*z;
	struct throttle_policy	 p;
	struct throttle_level	 lv;
	uint64_t		 t = TEST_BASE + 123, retry;

	z = test_zone("log-b", TEST_ZONE);
	p = test_pol(3, THROTTLE_SLIDING_LOG, 2, 1000, 0, 0);
	CU_ASSERT(test_hit(z, "k", &p, t, &lv, NULL) == THROTTLE_PASS);
	CU_ASSERT(lv.tl_remaining == 1 && lv.tl_reset == 1000);
	CU_ASSERT(test_hit(z, "k", &p, t + 500, &lv, NULL) == THROTTLE_PASS);
	CU_ASSERT(lv.tl_remaining == 0 && lv.tl_reset == 500);
	CU_ASSERT(test_hit(z, "k", &p, t + 999, NULL, &retry) ==
	    THROTTLE_DENY);
	CU_ASSERT(retry == 1);
	CU_ASSERT(test_hit(z, "k", &p, t + 1000, &lv, NULL) == THROTTLE_PASS);
	CU_ASSERT(lv.tl_remaining == 0 && lv.tl_reset == 500);
	CU_ASSERT(test_hit(z, "k", &p, t + 1499, NULL, &retry) ==
	    THROTTLE_DENY);
	CU_ASSERT(retry == 1);
	CU_ASSERT(throttle_table_check(z, NULL) == 0);
}

/*
 * Never more than N in any span of per, and never stricter than that:
 * each refusal happens with exactly N admitted in (t - per, t].
 */
static void
test_log_spans(void)
{
	struct shm_zone		*z;
	struct throttle_policy	 p;
	static uint64_t		 adm[TEST_STREAM];
	uint64_t		 t = TEST_BASE, per = 1000, lim = 25;
	size_t			 n = 0, i, j, inspan;
	int			 k;

	z = test_zone("log-s", TEST_ZONE);
	p = test_pol(4, THROTTLE_SLIDING_LOG, lim, per, 0, 0);
	for (k = 0; k < TEST_STREAM; k++) {
		/* Bursts and lulls: gaps of 0..79 ms, mostly short. */
		t += test_rand() % (test_rand() % 8 == 0 ? 80 : 20);
		if (test_hit(z, "k", &p, t, NULL, NULL) == THROTTLE_PASS) {
			adm[n++] = t;
			continue;
		}
		inspan = 0;
		for (j = n; j-- > 0 && adm[j] + per > t; )
			inspan++;
		CU_ASSERT(inspan == lim);
	}
	CU_ASSERT(n > lim * 10);
	for (i = 0; i + lim < n; i++)
		CU_ASSERT(adm[i + lim] - adm[i] >= per);
}

/* A full window keeps the next one shut at its first millisecond. */
static void
test_sw_boundary(void)
{
	struct shm_zone		*z;
	struct throttle_policy	 p;
	struct throttle_level	 lv;
	uint64_t		 w = TEST_BASE, retry;
	int			 i;

	z = test_zone("sw-b", TEST_ZONE);
	p = test_pol(5, THROTTLE_SLIDING_WINDOW, 10, 1000, 0, 0);
	for (i = 0; i < 10; i++)
		CU_ASSERT(test_hit(z, "k", &p, w + 900 + i, NULL, NULL) ==
		    THROTTLE_PASS);
	CU_ASSERT(test_hit(z, "k", &p, w + 999, &lv, &retry) ==
	    THROTTLE_DENY);
	CU_ASSERT(retry == 2);
	CU_ASSERT(lv.tl_reset == 1001);
	CU_ASSERT(test_hit(z, "k", &p, w + 1000, NULL, &retry) ==
	    THROTTLE_DENY);
	CU_ASSERT(retry == 1);
	CU_ASSERT(test_hit(z, "k", &p, w + 1001, &lv, NULL) == THROTTLE_PASS);
	/* 10 * 0.999 + 1 = 10.99: nothing more right now. */
	CU_ASSERT(lv.tl_remaining == 0);
	/* Half way: 10 * 0.5 + 1 = 6, so 4 more. */
	CU_ASSERT(test_hit(z, "k", &p, w + 1500, &lv, NULL) == THROTTLE_PASS);
	CU_ASSERT(lv.tl_remaining == 3);
	CU_ASSERT(lv.tl_reset == 1500);
}

/*
 * At most N per aligned window; after a full window at most
 * ceil(N * f) by fraction f of the next.
 */
static void
test_sw_bounds(void)
{
	struct shm_zone		*z;
	struct throttle_policy	 p;
	uint64_t		 per = 1000, lim = 7, w, t, win, n, el, bound;
	int			 k;

	z = test_zone("sw-s", TEST_ZONE);
	p = test_pol(6, THROTTLE_SLIDING_WINDOW, lim, per, 0, 0);
	t = TEST_BASE;
	win = t;
	n = 0;
	for (k = 0; k < TEST_STREAM; k++) {
		t += test_rand() % 60;
		if (t - t % per != win) {
			CU_ASSERT(n <= lim);
			win = t - t % per;
			n = 0;
		}
		if (test_hit(z, "k", &p, t, NULL, NULL) == THROTTLE_PASS)
			n++;
	}
	CU_ASSERT(n <= lim);

	/* Fill a window, then ask every millisecond of the next. */
	p = test_pol(7, THROTTLE_SLIDING_WINDOW, 100, per, 0, 0);
	w = TEST_BASE + 50 * per;
	for (k = 0; k < 100; k++)
		CU_ASSERT(test_hit(z, "o", &p, w + (uint64_t)k, NULL, NULL) ==
		    THROTTLE_PASS);
	n = 0;
	for (el = 0; el < per; el++) {
		if (test_hit(z, "o", &p, w + per + el, NULL, NULL) ==
		    THROTTLE_PASS)
			n++;
		bound = (100 * el + per - 1) / per;
		CU_ASSERT(n <= bound);
		/* The estimate is exact: it opens exactly that fast. */
		CU_ASSERT(n == bound);
	}
}

/* A burst of B, then one token per interval. */
static void
test_tb_burst(void)
{
	struct shm_zone		*z;
	struct throttle_policy	 p;
	struct throttle_level	 lv;
	uint64_t		 t = TEST_BASE + 77, retry;
	int			 i;

	z = test_zone("tb-b", TEST_ZONE);
	p = test_pol(8, THROTTLE_TOKEN_BUCKET, 10, 1000, 5, 0);
	for (i = 0; i < 5; i++) {
		CU_ASSERT(test_hit(z, "k", &p, t, &lv, NULL) ==
		    THROTTLE_PASS);
		CU_ASSERT(lv.tl_remaining == (uint64_t)(4 - i));
		CU_ASSERT(lv.tl_reset == 100 * (uint64_t)(i + 1) - 100 * i);
	}
	CU_ASSERT(test_hit(z, "k", &p, t, &lv, &retry) == THROTTLE_DENY);
	CU_ASSERT(retry == 100 && lv.tl_reset == 100);
	CU_ASSERT(test_hit(z, "k", &p, t + 99, NULL, &retry) ==
	    THROTTLE_DENY);
	CU_ASSERT(retry == 1);
	CU_ASSERT(test_hit(z, "k", &p, t + 100, &lv, NULL) == THROTTLE_PASS);
	CU_ASSERT(lv.tl_remaining == 0);
	/* Idle long enough and the bucket is full again, no more. */
	CU_ASSERT(test_hit(z, "k", &p, t + 100000, &lv, NULL) ==
	    THROTTLE_PASS);
	CU_ASSERT(lv.tl_remaining == 4);

	/* Burst 0 means the limit; a rate of 3/s rounds its interval up. */
	p = test_pol(9, THROTTLE_TOKEN_BUCKET, 3, 1000, 0, 0);
	for (i = 0; i < 3; i++)
		CU_ASSERT(test_hit(z, "r", &p, t, NULL, NULL) ==
		    THROTTLE_PASS);
	CU_ASSERT(test_hit(z, "r", &p, t, NULL, &retry) == THROTTLE_DENY);
	CU_ASSERT(retry == 334);	/* 333334 us, rounded up */
}

/* In any span t at most B + N * t / per, over random streams. */
static void
test_tb_bound(void)
{
	struct shm_zone		*z;
	struct throttle_policy	 p;
	static uint64_t		 adm[TEST_STREAM];
	uint64_t		 t, span, cnt;
	size_t			 n, i, j;
	int			 k, round;
	static const uint64_t	 cfg[][3] = {	/* N, per, B */
		{ 10, 1000, 5 }, { 7, 3000, 1 }, { 100, 60000, 20 },
		{ 3, 1000, 0 }
	};

	z = test_zone("tb-s", TEST_ZONE);
	for (round = 0; round < 4; round++) {
		p = test_pol(10 + (uint32_t)round, THROTTLE_TOKEN_BUCKET,
		    cfg[round][0], cfg[round][1], cfg[round][2], 0);
		t = TEST_BASE;
		n = 0;
		for (k = 0; k < TEST_STREAM; k++) {
			t += test_rand() % (cfg[round][1] / cfg[round][0]);
			if (test_hit(z, "k", &p, t, NULL, NULL) ==
			    THROTTLE_PASS)
				adm[n++] = t;
		}
		CU_ASSERT(n > 0);
		for (i = 0; i < n; i++) {
			for (j = i; j < n && j < i + 400; j++) {
				span = adm[j] - adm[i];
				cnt = j - i + 1;
				CU_ASSERT(cnt * cfg[round][1] <=
				    (cfg[round][2] != 0 ? cfg[round][2] :
				    cfg[round][0]) * cfg[round][1] +
				    cfg[round][0] * span);
			}
		}
	}
}

/*
 * For every algorithm, on random streams: refused at now + retry - 1,
 * admitted at now + retry.
 */
static void
test_retry_exact(void)
{
	struct shm_zone		*z;
	struct throttle_policy	 p;
	uint64_t		 t, retry, r2;
	int			 algo, k, denied;
	static const uint64_t	 cfg[][3] = {	/* N, per, B */
		{ 5, 1000, 0 }, { 13, 7000, 0 }, { 9, 1000, 4 }
	};
	unsigned int		 c;
	char			 key[32];

	z = test_zone("retry", TEST_ZONE);
	for (algo = 0; algo < THROTTLE_NALGOS; algo++) {
		for (c = 0; c < 3; c++) {
			p = test_pol((uint32_t)(100 + algo * 10 + (int)c),
			    (enum throttle_algo)algo, cfg[c][0], cfg[c][1],
			    cfg[c][2], 0);
			snprintf(key, sizeof(key), "k%d.%u", algo, c);
			t = TEST_BASE + test_rand() % 100000;
			denied = 0;
			for (k = 0; k < 600; k++) {
				t += test_rand() % (cfg[c][1] / cfg[c][0] + 1);
				if (test_hit(z, key, &p, t, NULL, &retry) ==
				    THROTTLE_PASS)
					continue;
				denied++;
				CU_ASSERT(retry > 0);
				CU_ASSERT(test_hit(z, key, &p, t + retry - 1,
				    NULL, &r2) == THROTTLE_DENY);
				CU_ASSERT(r2 == 1);
				CU_ASSERT(test_hit(z, key, &p, t + retry,
				    NULL, NULL) == THROTTLE_PASS);
				t += retry;
			}
			CU_ASSERT(denied > 10);
		}
	}
	CU_ASSERT(throttle_table_check(z, NULL) == 0);
}

/*
 * Time going backwards admits nothing extra and crashes nothing; a big
 * jump forwards starts afresh.
 */
static void
test_clock_steps(void)
{
	struct shm_zone		*z;
	struct throttle_policy	 p;
	struct throttle_level	 lv;
	uint64_t		 t, retry, back;
	int			 algo, n;
	char			 key[16];

	z = test_zone("clock", TEST_ZONE);
	for (algo = 0; algo < THROTTLE_NALGOS; algo++) {
		p = test_pol(200 + (uint32_t)algo, (enum throttle_algo)algo, 4,
		    1000, 0, 0);
		snprintf(key, sizeof(key), "c%d", algo);
		t = TEST_BASE + 5500;
		for (n = 0; test_hit(z, key, &p, t, NULL, NULL) ==
		    THROTTLE_PASS; n++)
			CU_ASSERT_FATAL(n < 10);
		CU_ASSERT(n == 4);
		/* Steps back of 1ms, a window, an hour, to the epoch. */
		for (back = 1; back <= t; back = back < 3600000 ?
		    back * 10 : t) {
			CU_ASSERT(test_hit(z, key, &p, t - back, &lv, &retry) ==
			    THROTTLE_DENY);
			/* Retry counts from the real now, up to the key's. */
			CU_ASSERT(retry > back);
			if (back == t)
				break;
		}
		/* The key's clock stayed at t: the usual retry holds. */
		CU_ASSERT(test_hit(z, key, &p, t, NULL, &retry) ==
		    THROTTLE_DENY);
		CU_ASSERT(test_hit(z, key, &p, t + retry, NULL, NULL) ==
		    THROTTLE_PASS);
		/* A day later: a whole fresh quota. */
		CU_ASSERT(test_hit(z, key, &p, t + 86400000, &lv, NULL) ==
		    THROTTLE_PASS);
		CU_ASSERT(lv.tl_remaining == 3);
		/* Time 0 and the far future do not break the arithmetic. */
		CU_ASSERT(test_hit(z, "zero", &p, 0, NULL, NULL) ==
		    THROTTLE_PASS);
		CU_ASSERT(test_hit(z, key, &p, THROTTLE_NOW_MAX, NULL,
		    NULL) == THROTTLE_PASS);
		CU_ASSERT(test_hit(z, key, &p, UINT64_MAX, NULL, NULL) ==
		    THROTTLE_ERROR);
		CU_ASSERT(throttle_table_reset(z, "zero", 4) == 0);
	}
	CU_ASSERT(throttle_table_check(z, NULL) == 0);
}

/* One refusal anywhere and nothing is consumed anywhere. */
static void
test_multi_level(void)
{
	struct shm_zone		*z;
	struct throttle_policy	 pa, pb, pc;
	struct throttle_level	 lv[3];
	uint64_t		 t = TEST_BASE + 10, retry;
	size_t			 d;
	int			 i;

	z = test_zone("multi", TEST_ZONE);
	pa = test_pol(300, THROTTLE_FIXED_WINDOW, 5, 1000, 0, 0);
	pb = test_pol(301, THROTTLE_SLIDING_LOG, 2, 1000, 0, 0);
	pc = test_pol(302, THROTTLE_TOKEN_BUCKET, 100, 1000, 0, 0);
	memset(lv, 0, sizeof(lv));
	lv[0].tl_key = "api";
	lv[0].tl_keylen = 3;
	lv[0].tl_policy = &pa;
	lv[1].tl_key = "app";
	lv[1].tl_keylen = 3;
	lv[1].tl_policy = &pb;
	lv[2].tl_key = "ip";
	lv[2].tl_keylen = 2;
	lv[2].tl_policy = &pc;

	CU_ASSERT(throttle_hit(z, lv, 3, t, &d, &retry) == THROTTLE_PASS);
	CU_ASSERT(d == 1 && retry == 0);	/* app has 1 left */
	CU_ASSERT(lv[0].tl_remaining == 4 && lv[1].tl_remaining == 1 &&
	    lv[2].tl_remaining == 99);
	CU_ASSERT(throttle_hit(z, lv, 3, t + 100, &d, &retry) ==
	    THROTTLE_PASS);
	for (i = 0; i < 5; i++) {
		CU_ASSERT(throttle_hit(z, lv, 3, t + 200, &d, &retry) ==
		    THROTTLE_DENY);
		CU_ASSERT(d == 1 && retry == 800);
		CU_ASSERT(lv[0].tl_admitted && !lv[1].tl_admitted &&
		    lv[2].tl_admitted);
		CU_ASSERT(lv[1].tl_retry == 800 && lv[0].tl_retry == 0);
		/* Reported as if this request had not been made. */
		CU_ASSERT(lv[0].tl_remaining == 3);
	}
	CU_ASSERT(test_count(z, "api", t + 200) == 2);
	CU_ASSERT(test_count(z, "app", t + 200) == 2);
	/* The bucket refilled by t + 200 and stays full. */
	CU_ASSERT(lv[2].tl_remaining == 100);
	CU_ASSERT(test_count(z, "ip", t + 200) == 0);

	/* Refused at the first level: nothing at the later ones. */
	pa = test_pol(306, THROTTLE_FIXED_WINDOW, 1, 1000, 0, 0);
	pb = test_pol(307, THROTTLE_FIXED_WINDOW, 5, 1000, 0, 0);
	lv[0].tl_key = "x";
	lv[0].tl_keylen = 1;
	lv[0].tl_policy = &pa;
	lv[1].tl_key = "y";
	lv[1].tl_keylen = 1;
	lv[1].tl_policy = &pb;
	CU_ASSERT(throttle_hit(z, lv, 2, t, &d, &retry) == THROTTLE_PASS);
	CU_ASSERT(d == 0);
	for (i = 0; i < 3; i++) {
		CU_ASSERT(throttle_hit(z, lv, 2, t, &d, &retry) ==
		    THROTTLE_DENY);
		CU_ASSERT(d == 0 && lv[1].tl_admitted &&
		    lv[1].tl_remaining == 4);
	}
	CU_ASSERT(test_count(z, "y", t) == 1);
	CU_ASSERT(test_count(z, "x", t) == 1);

	/* Two refusals: the later retry decides. */
	pa = test_pol(303, THROTTLE_FIXED_WINDOW, 1, 60000, 0, 0);
	pb = test_pol(304, THROTTLE_FIXED_WINDOW, 1, 1000, 0, 0);
	lv[0].tl_policy = &pa;
	lv[1].tl_policy = &pb;
	CU_ASSERT(throttle_hit(z, lv, 2, TEST_BASE, &d, &retry) ==
	    THROTTLE_PASS);
	CU_ASSERT(throttle_hit(z, lv, 2, TEST_BASE, &d, &retry) ==
	    THROTTLE_DENY);
	CU_ASSERT(d == 0 && retry == 60000 - TEST_BASE % 60000);
	CU_ASSERT(throttle_hit(z, lv, 2, TEST_BASE + retry - 1, &d, NULL) ==
	    THROTTLE_DENY);
	CU_ASSERT(throttle_hit(z, lv, 2, TEST_BASE + retry, &d, NULL) ==
	    THROTTLE_PASS);

	/* The same key and policy twice counts twice, or not at all. */
	lv[1].tl_key = lv[0].tl_key;
	lv[1].tl_keylen = lv[0].tl_keylen;
	pa = test_pol(305, THROTTLE_TOKEN_BUCKET, 3, 1000, 0, 0);
	lv[0].tl_policy = lv[1].tl_policy = &pa;
	CU_ASSERT(throttle_hit(z, lv, 2, t, &d, NULL) == THROTTLE_PASS);
	CU_ASSERT(lv[1].tl_remaining == 1);
	CU_ASSERT(throttle_hit(z, lv, 2, t, &d, NULL) == THROTTLE_DENY);
	CU_ASSERT(throttle_hit(z, lv, 1, t, &d, NULL) == THROTTLE_PASS);
	CU_ASSERT(throttle_table_check(z, NULL) == 0);
}

/* A dry run reports the refusal but admits and counts the request. */
static void
test_dry_run(void)
{
	struct shm_zone		*z;
	struct throttle_policy	 pd, pr;
	struct throttle_level	 lv[2];
	struct throttle_stats	 ts;
	uint64_t		 t = TEST_BASE + 10, retry;
	size_t			 d;

	z = test_zone("dry", TEST_ZONE);
	pd = test_pol(400, THROTTLE_SLIDING_LOG, 1, 1000, 0, 1);
	pr = test_pol(401, THROTTLE_FIXED_WINDOW, 3, 1000, 0, 0);
	memset(lv, 0, sizeof(lv));
	lv[0].tl_key = "d";
	lv[0].tl_keylen = 1;
	lv[0].tl_policy = &pd;
	lv[1].tl_key = "r";
	lv[1].tl_keylen = 1;
	lv[1].tl_policy = &pr;

	CU_ASSERT(throttle_hit(z, lv, 2, t, &d, &retry) == THROTTLE_PASS);
	CU_ASSERT(lv[0].tl_admitted && !lv[0].tl_dry_hit);
	/* The dry level has fewer left, but the real one decides. */
	CU_ASSERT(d == 1);
	CU_ASSERT(throttle_hit(z, lv, 2, t + 1, &d, &retry) == THROTTLE_PASS);
	CU_ASSERT(!lv[0].tl_admitted && lv[0].tl_dry_hit);
	CU_ASSERT(lv[0].tl_retry == 999 && lv[0].tl_remaining == 0);
	CU_ASSERT(retry == 0 && d == 1);
	CU_ASSERT(throttle_hit(z, lv, 2, t + 2, &d, &retry) == THROTTLE_PASS);
	CU_ASSERT(lv[0].tl_dry_hit);
	/* The real level refuses: the dry one consumes nothing. */
	CU_ASSERT(throttle_hit(z, lv, 2, t + 3, &d, &retry) == THROTTLE_DENY);
	CU_ASSERT(d == 1 && lv[0].tl_dry_hit);
	CU_ASSERT(throttle_table_stats(z, &ts) == 0);
	CU_ASSERT(ts.ts_dry_hits == 2);
	CU_ASSERT(test_count(z, "r", t + 3) == 3);
	/* The log holds its limit: the most recent request. */
	CU_ASSERT(test_count(z, "d", t + 3) == 1);

	/* Dry-run windows and buckets count past the limit. */
	pd = test_pol(402, THROTTLE_FIXED_WINDOW, 2, 1000, 0, 1);
	CU_ASSERT(test_hit(z, "f", &pd, t, NULL, NULL) == THROTTLE_PASS);
	CU_ASSERT(test_hit(z, "f", &pd, t, NULL, NULL) == THROTTLE_PASS);
	CU_ASSERT(test_hit(z, "f", &pd, t, lv, NULL) == THROTTLE_PASS);
	CU_ASSERT(lv[0].tl_dry_hit && lv[0].tl_remaining == 0);
	CU_ASSERT(test_count(z, "f", t) == 3);
	pd = test_pol(403, THROTTLE_TOKEN_BUCKET, 2, 1000, 0, 1);
	CU_ASSERT(test_hit(z, "b", &pd, t, NULL, NULL) == THROTTLE_PASS);
	CU_ASSERT(test_hit(z, "b", &pd, t, NULL, NULL) == THROTTLE_PASS);
	CU_ASSERT(test_hit(z, "b", &pd, t, lv, NULL) == THROTTLE_PASS);
	CU_ASSERT(lv[0].tl_dry_hit && lv[0].tl_retry == 500);
	CU_ASSERT(throttle_table_check(z, NULL) == 0);
}

/* Bad arguments are refused without touching the table. */
static void
test_arguments(void)
{
	struct shm_zone		*z;
	struct throttle_policy	 p;
	struct throttle_level	 lv[THROTTLE_LEVELS_MAX + 1];
	struct throttle_stats	 ts;
	enum throttle_algo	 a;
	char			 key[THROTTLE_KEY_MAX + 1], *cause = NULL;
	size_t			 i;

	z = test_zone("args", TEST_ZONE);
	p = test_pol(500, THROTTLE_FIXED_WINDOW, 5, 1000, 0, 0);
	memset(key, 'a', sizeof(key));
	memset(lv, 0, sizeof(lv));
	for (i = 0; i <= THROTTLE_LEVELS_MAX; i++) {
		lv[i].tl_key = key;
		lv[i].tl_keylen = THROTTLE_KEY_MAX;
		lv[i].tl_policy = &p;
	}
	CU_ASSERT(throttle_hit(z, lv, 0, TEST_BASE, NULL, NULL) ==
	    THROTTLE_ERROR);
	CU_ASSERT(throttle_hit(z, lv, THROTTLE_LEVELS_MAX + 1, TEST_BASE,
	    NULL, NULL) == THROTTLE_ERROR);
	CU_ASSERT(throttle_hit(z, lv, 1, TEST_BASE, NULL, NULL) ==
	    THROTTLE_PASS);
	lv[0].tl_keylen = THROTTLE_KEY_MAX + 1;
	CU_ASSERT(throttle_hit(z, lv, 1, TEST_BASE, NULL, NULL) ==
	    THROTTLE_ERROR);
	lv[0].tl_keylen = 0;
	CU_ASSERT(throttle_hit(z, lv, 1, TEST_BASE, NULL, NULL) ==
	    THROTTLE_ERROR);
	CU_ASSERT(throttle_table_reset(z, key, THROTTLE_KEY_MAX + 1) == -1);

	p.tp_limit = 0;
	CU_ASSERT(throttle_policy_check(&p, NULL) == -1);
	lv[0].tl_keylen = 1;
	CU_ASSERT(throttle_hit(z, lv, 1, TEST_BASE, NULL, NULL) ==
	    THROTTLE_ERROR);
	p = test_pol(501, THROTTLE_SLIDING_LOG, THROTTLE_LOG_MAX, 1000, 0, 0);
	CU_ASSERT(throttle_policy_check(&p, NULL) == 0);
	p.tp_limit = THROTTLE_LOG_MAX + 1;
	CU_ASSERT(throttle_policy_check(&p, &cause) == -1);
	CU_ASSERT(cause != NULL && strstr(cause, "10000") != NULL);
	free(cause);
	p = test_pol(502, THROTTLE_FIXED_WINDOW, 1, 0, 0, 0);
	CU_ASSERT(throttle_policy_check(&p, NULL) == -1);
	p = test_pol(503, THROTTLE_TOKEN_BUCKET, 1, THROTTLE_PERIOD_MAX,
	    1000000, 0);
	CU_ASSERT(throttle_policy_check(&p, NULL) == -1);
	p = test_pol(504, THROTTLE_NALGOS, 1, 1000, 0, 0);
	CU_ASSERT(throttle_policy_check(&p, NULL) == -1);

	CU_ASSERT(throttle_algo_parse("sliding_window", &a) == 0);
	CU_ASSERT(a == THROTTLE_SLIDING_WINDOW);
	CU_ASSERT(throttle_algo_parse("leaky", &a) == -1);
	CU_ASSERT(strcmp(throttle_algo_name(THROTTLE_TOKEN_BUCKET),
	    "token_bucket") == 0);
	CU_ASSERT(throttle_table_stats(z, &ts) == 0);
	CU_ASSERT(ts.ts_entries == 1);
}

/* A reload may change a policy's shape under the same id. */
static void
test_policy_change(void)
{
	struct shm_zone		*z;
	struct throttle_policy	 p;
	struct throttle_level	 lv;
	uint64_t		 t = TEST_BASE;

	z = test_zone("change", TEST_ZONE);
	p = test_pol(600, THROTTLE_FIXED_WINDOW, 5, 1000, 0, 0);
	CU_ASSERT(test_hit(z, "k", &p, t, NULL, NULL) == THROTTLE_PASS);
	CU_ASSERT(test_hit(z, "k", &p, t, NULL, NULL) == THROTTLE_PASS);
	/* A new limit keeps the count. */
	p.tp_limit = 10;
	CU_ASSERT(test_hit(z, "k", &p, t, &lv, NULL) == THROTTLE_PASS);
	CU_ASSERT(lv.tl_remaining == 7);
	/* A new algorithm starts over, with a ring now. */
	p = test_pol(600, THROTTLE_SLIDING_LOG, 3, 1000, 0, 0);
	CU_ASSERT(test_hit(z, "k", &p, t, &lv, NULL) == THROTTLE_PASS);
	CU_ASSERT(lv.tl_remaining == 2);
	p.tp_limit = 4;
	CU_ASSERT(test_hit(z, "k", &p, t, &lv, NULL) == THROTTLE_PASS);
	CU_ASSERT(lv.tl_remaining == 3);
	p = test_pol(600, THROTTLE_TOKEN_BUCKET, 4, 1000, 0, 0);
	CU_ASSERT(test_hit(z, "k", &p, t, &lv, NULL) == THROTTLE_PASS);
	CU_ASSERT(lv.tl_remaining == 3);
	CU_ASSERT(throttle_table_check(z, NULL) == 0);
}

/* A full zone evicts the least recently used key, and says so. */
static void
test_eviction(void)
{
	struct shm_zone		*z;
	struct throttle_policy	 p;
	struct throttle_stats	 ts, ts2;
	struct test_walk	 tw;
	uint64_t		 t = TEST_BASE, cap;
	char			 key[32], *cause = NULL;
	int			 i;

	z = test_zone("evict", 16 * 4096);
	p = test_pol(700, THROTTLE_FIXED_WINDOW, 1000000, 3600000, 0, 0);
	for (i = 0; i < 1000; i++) {
		snprintf(key, sizeof(key), "key-%d", i);
		CU_ASSERT(test_hit(z, key, &p, t, NULL, NULL) ==
		    THROTTLE_PASS);
		/* The hot key is touched after every other. */
		CU_ASSERT(test_hit(z, "hot", &p, t, NULL, NULL) ==
		    THROTTLE_PASS);
		if (i % 97 == 0) {
			CU_ASSERT(throttle_table_check(z, &cause) == 0);
			if (cause != NULL)
				printf("\n%s\n", cause);
			free(cause);
			cause = NULL;
		}
	}
	CU_ASSERT(throttle_table_stats(z, &ts) == 0);
	cap = ts.ts_entries;
	CU_ASSERT(cap > 50 && cap < 1000);
	CU_ASSERT(ts.ts_evictions == 1001 - cap);
	CU_ASSERT(ts.ts_nomem == 0);
	/* The hot key was never evicted, so its count is whole. */
	CU_ASSERT(test_count(z, "hot", t) == 1000);
	/* The survivors are exactly the most recent keys. */
	for (i = 0; i < 1000; i++) {
		snprintf(key, sizeof(key), "key-%d", i);
		memset(&tw, 0, sizeof(tw));
		CU_ASSERT(throttle_table_walk(z, key, strlen(key), t,
		    test_count_cb, &tw) == 0);
		/* "key-1" prefixes others; count exact names only. */
		CU_ASSERT(tw.tw_count >= (i >= 1000 - (int)cap + 1 ? 1 : 0));
	}
	snprintf(key, sizeof(key), "key-%d", 1000 - (int)cap);
	CU_ASSERT(test_count(z, key, t) == 0);
	snprintf(key, sizeof(key), "key-%d", 1000 - (int)cap + 1);
	CU_ASSERT(test_count(z, key, t) == 1);
	CU_ASSERT(throttle_table_check(z, NULL) == 0);

	/* Touching a key saves it from the next eviction. */
	snprintf(key, sizeof(key), "key-%d", 1000 - (int)cap + 1);
	CU_ASSERT(test_hit(z, key, &p, t, NULL, NULL) == THROTTLE_PASS);
	CU_ASSERT(test_hit(z, "new", &p, t, NULL, NULL) == THROTTLE_PASS);
	CU_ASSERT(test_count(z, key, t) == 2);
	snprintf(key, sizeof(key), "key-%d", 1000 - (int)cap + 2);
	CU_ASSERT(test_count(z, key, t) == 0);
	CU_ASSERT(throttle_table_stats(z, &ts2) == 0);
	CU_ASSERT(ts2.ts_evictions == ts.ts_evictions + 1);
}

/* Rings of varying size in a small zone: evict, never crash. */
static void
test_eviction_rings(void)
{
	struct shm_zone		*z;
	struct throttle_policy	 p;
	struct throttle_stats	 ts;
	uint64_t		 t = TEST_BASE;
	char			 key[32], *cause = NULL;
	int			 i;

	z = test_zone("rings", 16 * 4096);
	for (i = 0; i < 300; i++) {
		p = test_pol(800 + (uint32_t)(i % 5), THROTTLE_SLIDING_LOG,
		    1 + test_rand() % 2000, 1000, 0, 0);
		snprintf(key, sizeof(key), "r%d", i % 40);
		CU_ASSERT(test_hit(z, key, &p, t + (uint64_t)i, NULL, NULL) ==
		    THROTTLE_PASS);
	}
	CU_ASSERT(throttle_table_check(z, &cause) == 0);
	free(cause);
	CU_ASSERT(throttle_table_stats(z, &ts) == 0);
	CU_ASSERT(ts.ts_evictions > 0 && ts.ts_nomem == 0);

	/* A ring bigger than the zone: refused and counted, not crashed. */
	p = test_pol(900, THROTTLE_SLIDING_LOG, THROTTLE_LOG_MAX, 1000, 0, 0);
	CU_ASSERT(test_hit(z, "huge", &p, t, NULL, NULL) == THROTTLE_ERROR);
	CU_ASSERT(throttle_table_stats(z, &ts) == 0);
	CU_ASSERT(ts.ts_nomem == 1);
	CU_ASSERT(throttle_table_check(z, NULL) == 0);
	p = test_pol(901, THROTTLE_FIXED_WINDOW, 3, 1000, 0, 0);
	CU_ASSERT(test_hit(z, "small", &p, t, NULL, NULL) == THROTTLE_PASS);
}

/* A zone kept across a reload keeps its counts; a new layout does not. */
static void
test_reload(void)
{
	struct shm_zone		*z, *z2;
	struct throttle_policy	 p;
	struct throttle_level	 lv;
	char			*cause = NULL;
	int			 i;

	shm_zone_begin();
	z = test_zone("reload", TEST_ZONE);
	shm_zone_reconcile();
	p = test_pol(1000, THROTTLE_FIXED_WINDOW, 10, 60000, 0, 0);
	for (i = 0; i < 3; i++)
		CU_ASSERT(test_hit(z, "k", &p, TEST_BASE, NULL, NULL) ==
		    THROTTLE_PASS);

	shm_zone_begin();
	z2 = shm_zone_add("reload", TEST_ZONE, THROTTLE_LAYOUT, &cause);
	CU_ASSERT_FATAL(z2 == z);
	CU_ASSERT(z2->z_reused == 1);
	CU_ASSERT(throttle_table_init(z2, 4096, &cause) == 0);
	shm_zone_reconcile();
	CU_ASSERT(test_hit(z2, "k", &p, TEST_BASE, &lv, NULL) ==
	    THROTTLE_PASS);
	CU_ASSERT(lv.tl_remaining == 6);
	CU_ASSERT(throttle_table_check(z2, NULL) == 0);

	/* A zone of another layout is not ours to format. */
	shm_zone_begin();
	z = shm_zone_add("other", TEST_ZONE, THROTTLE_LAYOUT + 1, &cause);
	CU_ASSERT_FATAL(z != NULL);
	CU_ASSERT(throttle_table_init(z, 0, &cause) == -1);
	CU_ASSERT(cause != NULL);
	free(cause);
	cause = NULL;
	/* An unformatted zone is an error, not a crash. */
	CU_ASSERT(test_hit(z, "k", &p, TEST_BASE, NULL, NULL) ==
	    THROTTLE_ERROR);
	CU_ASSERT(throttle_table_check(z, &cause) == -1);
	free(cause);
}

struct test_seen {
	int		 ts_n;
	char		 ts_keys[8][THROTTLE_KEY_MAX + 1];
	uint64_t	 ts_remaining[8];
	uint64_t	 ts_reset[8];
};

static int
test_seen_cb(const struct throttle_info *ti, void *arg)
{
	struct test_seen	*s = arg;

	if (s->ts_n >= 8)
		return (1);
	memcpy(s->ts_keys[s->ts_n], ti->ti_key, ti->ti_keylen);
	s->ts_keys[s->ts_n][ti->ti_keylen] = '\0';
	s->ts_remaining[s->ts_n] = ti->ti_remaining;
	s->ts_reset[s->ts_n] = ti->ti_reset;
	s->ts_n++;
	return (0);
}

/* Walk by prefix and reset one key. */
static void
test_walk_reset(void)
{
	struct shm_zone		*z;
	struct throttle_policy	 p, q;
	struct test_seen	 s;
	struct test_walk	 tw;
	struct throttle_level	 lv;
	uint64_t		 t = TEST_BASE + 250;
	char			 key[32];
	int			 i;

	z = test_zone("walk", TEST_ZONE);
	p = test_pol(1100, THROTTLE_FIXED_WINDOW, 10, 1000, 0, 0);
	q = test_pol(1101, THROTTLE_TOKEN_BUCKET, 10, 1000, 0, 0);
	CU_ASSERT(test_hit(z, "api:a:1", &p, t, NULL, NULL) == THROTTLE_PASS);
	CU_ASSERT(test_hit(z, "api:a:1", &q, t, NULL, NULL) == THROTTLE_PASS);
	CU_ASSERT(test_hit(z, "api:a:2", &p, t, NULL, NULL) == THROTTLE_PASS);
	CU_ASSERT(test_hit(z, "api:b:1", &p, t, NULL, NULL) == THROTTLE_PASS);

	memset(&s, 0, sizeof(s));
	CU_ASSERT(throttle_table_walk(z, "api:a:", 6, t, test_seen_cb, &s) ==
	    0);
	CU_ASSERT(s.ts_n == 3);
	for (i = 0; i < s.ts_n; i++) {
		CU_ASSERT(strncmp(s.ts_keys[i], "api:a:", 6) == 0);
		CU_ASSERT(s.ts_remaining[i] == 9);
	}
	memset(&s, 0, sizeof(s));
	CU_ASSERT(throttle_table_walk(z, NULL, 0, t + 500, test_seen_cb,
	    &s) == 0);
	CU_ASSERT(s.ts_n == 4);

	CU_ASSERT(throttle_table_reset(z, "api:a:1", 7) == 0);
	CU_ASSERT(throttle_table_reset(z, "api:a:3", 7) == -1);
	CU_ASSERT(test_count(z, "api:a:1", t) == 0);
	CU_ASSERT(test_count(z, "api:a:2", t) == 1);
	CU_ASSERT(test_hit(z, "api:a:1", &p, t, &lv, NULL) == THROTTLE_PASS);
	CU_ASSERT(lv.tl_remaining == 9);

	/* More entries than one chunk, and a callback that stops early. */
	for (i = 0; i < 100; i++) {
		snprintf(key, sizeof(key), "bulk:%03d", i);
		CU_ASSERT(test_hit(z, key, &p, t, NULL, NULL) ==
		    THROTTLE_PASS);
	}
	memset(&tw, 0, sizeof(tw));
	CU_ASSERT(throttle_table_walk(z, "bulk:", 5, t, test_count_cb,
	    &tw) == 0);
	CU_ASSERT(tw.tw_entries == 100 && tw.tw_count == 100);
	memset(&s, 0, sizeof(s));
	CU_ASSERT(throttle_table_walk(z, "bulk:", 5, t, test_seen_cb,
	    &s) == 0);
	CU_ASSERT(s.ts_n == 8);
}

/* A damaged link is found by the check and healed by the next hit. */
static void
test_corrupt(void)
{
	struct shm_zone		*z;
	struct throttle_policy	 p;
	struct throttle_root	*r;
	struct throttle_stats	 ts;
	struct throttle_entry	*e;
	uint64_t		*b;
	uint32_t		 i;
	char			*cause = NULL;

	z = test_zone("corrupt", TEST_ZONE);
	p = test_pol(1200, THROTTLE_FIXED_WINDOW, 10, 1000, 0, 0);
	CU_ASSERT(test_hit(z, "k", &p, TEST_BASE, NULL, NULL) ==
	    THROTTLE_PASS);
	CU_ASSERT(test_hit(z, "l", &p, TEST_BASE, NULL, NULL) ==
	    THROTTLE_PASS);
	r = test_root(z);
	e = (struct throttle_entry *)((char *)z->z_hdr + r->tr_lru_head);
	e->te_hnext = z->z_size + 16;	/* out of the zone */
	CU_ASSERT(throttle_table_check(z, &cause) == -1);
	CU_ASSERT(cause != NULL);
	free(cause);
	/* Every bucket head out of the zone: the next lookup trips. */
	b = (uint64_t *)((char *)z->z_hdr + r->tr_buckets);
	for (i = 0; i < r->tr_nbuckets; i++)
		if (b[i] != 0)
			b[i] = z->z_size + 16;
	CU_ASSERT(test_hit(z, "k", &p, TEST_BASE, NULL, NULL) ==
	    THROTTLE_PASS);
	CU_ASSERT(throttle_table_stats(z, &ts) == 0);
	CU_ASSERT(ts.ts_reformats == 1 && ts.ts_entries == 1);
	CU_ASSERT(throttle_table_check(z, NULL) == 0);

	/* A root beyond repair is replaced by a fresh one. */
	r = test_root(z);
	r->tr_magic = 0;
	CU_ASSERT(test_hit(z, "k", &p, TEST_BASE, NULL, NULL) ==
	    THROTTLE_PASS);
	CU_ASSERT(throttle_table_check(z, NULL) == 0);
}

/*
 * TEST_NCHILD workers hammer one key at one instant: exactly the limit
 * is admitted in total, for every algorithm.
 */
static void
test_fork_exact(void)
{
	struct shm_zone		*z;
	struct throttle_policy	 p;
	pid_t			 pids[TEST_NCHILD];
	uint64_t		 got, total;
	int			 fd[2], go[2], algo, i, k;

	z = test_zone("fork", TEST_ZONE);
	for (algo = 0; algo < THROTTLE_NALGOS; algo++) {
		p = test_pol(1300 + (uint32_t)algo, (enum throttle_algo)algo,
		    1000, 3600000, 0, 0);
		test_pipe(fd);
		test_pipe(go);
		for (i = 0; i < TEST_NCHILD; i++) {
			if ((pids[i] = test_fork()) != 0)
				continue;
			close(fd[0]);
			close(go[1]);
			/* All start together when the parent closes go. */
			(void)test_read1(go[0]);
			got = 0;
			for (k = 0; k < 20000; k++)
				if (test_hit(z, "shared", &p, TEST_BASE +
				    (uint64_t)(k % 3), NULL, NULL) ==
				    THROTTLE_PASS)
					got++;
			if (write(fd[1], &got, sizeof(got)) != sizeof(got))
				_exit(2);
			_exit(0);
		}
		close(fd[1]);
		close(go[0]);
		close(go[1]);
		total = 0;
		for (i = 0; i < TEST_NCHILD; i++) {
			CU_ASSERT(read(fd[0], &got, sizeof(got)) ==
			    sizeof(got));
			total += got;
		}
		for (i = 0; i < TEST_NCHILD; i++)
			CU_ASSERT(test_wait(pids[i]) == 0);
		close(fd[0]);
		CU_ASSERT(total == 1000);
	}
	CU_ASSERT(throttle_table_check(z, NULL) == 0);
}

/*
 * A worker killed while it holds the lock, at each point of a structural
 * update: the master breaks the lock, a waiting worker carries on, the
 * table checks clean and, but for a death inside the allocator, keeps
 * its counts.
 */
static void
test_killed_holder(void)
{
	struct shm_zone		*z;
	struct throttle_policy	 p;
	struct throttle_stats	 ts, before;
	pid_t			 a, b;
	uint64_t		 used;
	char			 name[32], *cause = NULL;
	int			 fd[2], how, i;

	p = test_pol(1400, THROTTLE_FIXED_WINDOW, 10, 3600000, 0, 0);
	for (how = THROTTLE_TEAR_HOLD; how <= THROTTLE_TEAR_SLAB; how++) {
		snprintf(name, sizeof(name), "killed-%d", how);
		z = test_zone(name, TEST_ZONE);
		CU_ASSERT(test_hit(z, "victim", &p, TEST_BASE, NULL, NULL) ==
		    THROTTLE_PASS);
		for (i = 0; i < 3; i++)
			CU_ASSERT(test_hit(z, "keep", &p, TEST_BASE, NULL,
			    NULL) == THROTTLE_PASS);
		CU_ASSERT(throttle_table_stats(z, &before) == 0);

		test_pipe(fd);
		if ((a = test_fork()) == 0) {
			close(fd[0]);
			throttle_test_tear(z, (enum throttle_tear)how);
			test_write1(fd[1]);
			for (;;)
				pause();
		}
		close(fd[1]);
		CU_ASSERT_FATAL(test_read1(fd[0]) == 1);
		close(fd[0]);
		CU_ASSERT(z->z_hdr->h_lock.lk_pid == (uint32_t)a);
		used = z->z_hdr->h_used;

		/* Another worker queues for the lock. */
		if ((b = test_fork()) == 0) {
			_exit(test_hit(z, "keep", &p, TEST_BASE, NULL,
			    NULL) == THROTTLE_PASS ? 0 : 1);
		}
		CU_ASSERT(kill(a, SIGKILL) == 0);
		CU_ASSERT(test_wait(a) == 128 + SIGKILL);
		shm_lock_break_all(a);
		CU_ASSERT(test_wait(b) == 0);

		CU_ASSERT(throttle_table_check(z, &cause) == 0);
		if (cause != NULL)
			printf("\n%s\n", cause);
		free(cause);
		cause = NULL;
		CU_ASSERT(throttle_table_stats(z, &ts) == 0);
		switch (how) {
		case THROTTLE_TEAR_HOLD:
			CU_ASSERT(test_count(z, "keep", TEST_BASE) == 4);
			CU_ASSERT(ts.ts_entries == 2);
			CU_ASSERT(ts.ts_recoveries == 0);
			break;
		case THROTTLE_TEAR_INSERT:
			/* The published entry is kept and relinked. */
			CU_ASSERT(test_count(z, "keep", TEST_BASE) == 4);
			CU_ASSERT(ts.ts_entries == 3);
			CU_ASSERT(ts.ts_recoveries == 1);
			break;
		case THROTTLE_TEAR_EVICT:
			/* The unpublished victim is freed, not leaked. */
			CU_ASSERT(test_count(z, "keep", TEST_BASE) == 4);
			CU_ASSERT(test_count(z, "victim", TEST_BASE) == 0);
			CU_ASSERT(ts.ts_entries == 1);
			CU_ASSERT(ts.ts_recoveries == 1);
			CU_ASSERT(ts.ts_bytes_used < used);
			break;
		case THROTTLE_TEAR_SLAB:
			/* The allocator may be torn: start over, counted. */
			CU_ASSERT(test_count(z, "keep", TEST_BASE) == 1);
			CU_ASSERT(ts.ts_reformats == 1);
			CU_ASSERT(ts.ts_entries == 1);
			break;
		}
		CU_ASSERT(z->z_hdr->h_lock.lk_broken == 1);
		CU_ASSERT(test_hit(z, "after", &p, TEST_BASE, NULL, NULL) ==
		    THROTTLE_PASS);
		CU_ASSERT(throttle_table_check(z, NULL) == 0);
	}
}

static CU_TestInfo algo_tests[] = {
	{ "fixed_window at the boundary", test_fixed_boundary },
	{ "fixed_window exactly N per window", test_fixed_exact },
	{ "sliding_log at the boundary", test_log_boundary },
	{ "sliding_log: N in any span, no fewer", test_log_spans },
	{ "sliding_window at the boundary", test_sw_boundary },
	{ "sliding_window bounds", test_sw_bounds },
	{ "token_bucket burst and interval", test_tb_burst },
	{ "token_bucket B + N*t/per", test_tb_bound },
	{ "retry_after exact for every algorithm", test_retry_exact },
	{ "clock steps back and forth", test_clock_steps },
	CU_TEST_INFO_NULL
};

static CU_TestInfo decision_tests[] = {
	{ "multi-level all or nothing", test_multi_level },
	{ "dry run", test_dry_run },
	{ "bad arguments", test_arguments },
	{ "policy changed by a reload", test_policy_change },
	CU_TEST_INFO_NULL
};

static CU_TestInfo table_tests[] = {
	{ "LRU eviction when full", test_eviction },
	{ "eviction with rings", test_eviction_rings },
	{ "reuse across a reload", test_reload },
	{ "walk and reset", test_walk_reset },
	{ "damage found and healed", test_corrupt },
	CU_TEST_INFO_NULL
};

static CU_TestInfo process_tests[] = {
	{ "4 workers, one key: exactly N", test_fork_exact },
	{ "holder killed mid-update", test_killed_holder },
	CU_TEST_INFO_NULL
};

static CU_SuiteInfo throttle_suites[] = {
	{ "throttle algorithms", NULL, NULL, NULL, test_teardown,
	    algo_tests },
	{ "throttle decision", NULL, NULL, NULL, test_teardown,
	    decision_tests },
	{ "throttle table", NULL, NULL, NULL, test_teardown, table_tests },
	{ "throttle processes", NULL, NULL, NULL, test_teardown,
	    process_tests },
	CU_SUITE_INFO_NULL
};

int
main(void)
{
	log_init(1, 0);
	return (test_run(throttle_suites));
}
