/*
 * test-token-cache.c: the shared token cache (plugins/authn-cache.c) and the
 * revocation list (plugins/authn-revoke.c).
 *
 * Time is passed in explicitly where the contract takes it (a get's now,
 * a check's now), so expiry is tested at its very millisecond without
 * sleeping; deadlines are set an hour or more past the real clock, since
 * a put drops what is already expired by it.  Keys that share their first
 * eight bytes land in one set whatever the zone's geometry, which is how
 * the eviction cases fill a single set.
 *
 * Cross-process cases fork() real children that synchronise through
 * pipes and waitpid(), never by sleeping.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "lib.h"
#include "authn-conf.h"
#include "shm.h"
#include "authn.h"
#include "tests.h"

#define TEST_VALLEN	1200		/* about an authn_identity */
#define TEST_WAYS	8		/* TC_WAYS */
#define TEST_HOUR	UINT64_C(3600000)	/* ms */
#define TEST_CYCLE	100000		/* distinct keys in the cycle case */

struct test_val {
	uint64_t	 v_n;
	char		 v_pad[TEST_VALLEN - sizeof(uint64_t)];
};

static uint64_t	 test_now(void);
static void	 test_key(uint8_t *, uint64_t, uint64_t);
static void	 test_cache(uint64_t);
static void	 test_put(uint64_t, uint64_t, uint64_t, uint64_t);
static int	 test_get(uint64_t, uint64_t, uint64_t, uint64_t);
static void	 test_revoke_conf(struct conf_security *, uint32_t,
		    const char *);
static void	 test_revoke_zone(uint32_t, const char *);
static char	*test_tmpfile(const char *, const char *);
static void	 test_teardown(void);
static void	 test_hex(const uint8_t *, char *);

static void	 test_roundtrip(void);
static void	 test_epoch(void);
static void	 test_expiry(void);
static void	 test_replace(void);
static void	 test_evict_oldest(void);
static void	 test_lru_touch(void);
static void	 test_cycle(void);
static void	 test_fork_share(void);
static void	 test_reload_keeps(void);
static void	 test_disabled(void);
static void	 test_too_small(void);
static void	 test_revoke_hash_jti(void);
static void	 test_revoke_until(void);
static void	 test_revoke_bad(void);
static void	 test_revoke_full(void);
static void	 test_revoke_file(void);
static void	 test_revoke_malformed(void);
static void	 test_revoke_reload(void);
static void	 test_revoke_fork(void);

static char	 test_dir[] = "/tmp/mgw-test-tc.XXXXXX";
static int	 test_dir_made;

/* Wall clock in ms, as the dispatcher passes it. */
static uint64_t
test_now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
}

/* A key whose first 8 bytes are set (the set) and the rest from n. */
static void
test_key(uint8_t *key, uint64_t set, uint64_t n)
{
	memset(key, 0, TOKEN_CACHE_KEYLEN);
	memcpy(key, &set, sizeof(set));
	memcpy(key + 8, &n, sizeof(n));
	key[31] = 0x5a;
}

/* A fresh round with a cache zone of size bytes, committed. */
static void
test_cache(uint64_t size)
{
	struct conf_token_cache	 c;
	char			*cause = NULL;

	memset(&c, 0, sizeof(c));
	c.tc_size = size;
	shm_zone_begin();
	if (token_cache_init(&c, sizeof(struct test_val), &cause) == -1) {
		printf("\ntoken_cache_init: %s\n", cause);
		free(cause);
		CU_FAIL_FATAL("token_cache_init");
	}
	shm_zone_reconcile();
}

static void
test_put(uint64_t set, uint64_t n, uint64_t epoch, uint64_t expires)
{
	struct test_val	 v;
	uint8_t		 key[TOKEN_CACHE_KEYLEN];

	memset(&v, 0xab, sizeof(v));
	v.v_n = n;
	test_key(key, set, n);
	token_cache_put(key, epoch, expires, &v, sizeof(v));
}

/* 1 if (set, n) is there for epoch at now, with its value intact. */
static int
test_get(uint64_t set, uint64_t n, uint64_t epoch, uint64_t now)
{
	struct test_val	 v;
	uint8_t		 key[TOKEN_CACHE_KEYLEN];

	memset(&v, 0, sizeof(v));
	test_key(key, set, n);
	if (!token_cache_get(key, epoch, now, &v, sizeof(v)))
		return (0);
	CU_ASSERT(v.v_n == n);
	CU_ASSERT((unsigned char)v.v_pad[TEST_VALLEN - 9] == 0xab);
	return (1);
}

static void
test_teardown(void)
{
	shm_zone_freeall();
}

static void
test_roundtrip(void)
{
	struct token_cache_stats	 s;
	uint64_t			 now = test_now();

	test_cache(1024 * 1024);
	test_put(1, 1, 7, now + TEST_HOUR);
	CU_ASSERT(test_get(1, 1, 7, now));
	CU_ASSERT(!test_get(1, 2, 7, now));	/* same set, other key */
	CU_ASSERT(!test_get(2, 1, 7, now));
	token_cache_stats(&s);
	CU_ASSERT(s.tcs_hits == 1);
	CU_ASSERT(s.tcs_misses == 2);
	CU_ASSERT(s.tcs_entries == 1);
	CU_ASSERT(s.tcs_evictions == 0);
	CU_ASSERT(s.tcs_capacity >= TEST_WAYS);
	CU_ASSERT(s.tcs_capacity % TEST_WAYS == 0);
	/* 1 MiB of 1.2 kB entries: most of it is used. */
	CU_ASSERT(s.tcs_capacity * (TEST_VALLEN + 64) > 900 * 1024);
	test_teardown();
}

static void
test_epoch(void)
{
	uint64_t	 now = test_now();

	test_cache(256 * 1024);
	test_put(3, 1, 100, now + TEST_HOUR);
	CU_ASSERT(!test_get(3, 1, 101, now));
	CU_ASSERT(!test_get(3, 1, 99, now));
	CU_ASSERT(test_get(3, 1, 100, now));
	/* A put under the new epoch replaces the entry. */
	test_put(3, 1, 101, now + TEST_HOUR);
	CU_ASSERT(test_get(3, 1, 101, now));
	CU_ASSERT(!test_get(3, 1, 100, now));
	test_teardown();
}

static void
test_expiry(void)
{
	struct token_cache_stats	 s;
	uint64_t			 now = test_now();
	uint64_t			 exp = now + TEST_HOUR;

	test_cache(256 * 1024);
	test_put(4, 1, 1, exp);
	CU_ASSERT(test_get(4, 1, 1, exp - 1));
	CU_ASSERT(!test_get(4, 1, 1, exp));	/* expires_ms <= now: gone */
	CU_ASSERT(!test_get(4, 1, 1, exp - 1));	/* and freed */
	token_cache_stats(&s);
	CU_ASSERT(s.tcs_entries == 0);
	/* Already expired by the real clock: not stored at all. */
	test_put(4, 2, 1, now - 1);
	CU_ASSERT(!test_get(4, 2, 1, now - 1000));
	test_teardown();
}

static void
test_replace(void)
{
	struct token_cache_stats	 s;
	struct test_val			 v;
	uint8_t				 key[TOKEN_CACHE_KEYLEN];
	uint64_t			 now = test_now();
	int				 i;

	test_cache(256 * 1024);
	test_key(key, 5, 1);
	for (i = 0; i < 3 * TEST_WAYS; i++) {
		memset(&v, 0xab, sizeof(v));
		v.v_n = (uint64_t)i;
		token_cache_put(key, 1, now + TEST_HOUR + (uint64_t)i, &v,
		    sizeof(v));
	}
	memset(&v, 0, sizeof(v));
	CU_ASSERT(token_cache_get(key, 1, now, &v, sizeof(v)) == 1);
	CU_ASSERT(v.v_n == 3 * TEST_WAYS - 1);
	/* One entry, replaced in place: nothing evicted. */
	token_cache_stats(&s);
	CU_ASSERT(s.tcs_entries == 1);
	CU_ASSERT(s.tcs_evictions == 0);
	/* A wrong value size never hits. */
	CU_ASSERT(token_cache_get(key, 1, now, &v, sizeof(v) - 1) == 0);
	test_teardown();
}

static void
test_evict_oldest(void)
{
	struct token_cache_stats	 s;
	uint64_t			 now = test_now(), n;

	test_cache(256 * 1024);
	for (n = 0; n < TEST_WAYS; n++)
		test_put(6, n, 1, now + TEST_HOUR);
	for (n = 0; n < TEST_WAYS; n++)
		CU_ASSERT(test_get(6, n, 1, now));
	token_cache_stats(&s);
	CU_ASSERT(s.tcs_evictions == 0);
	/* The gets touched 0..7 in order: 0 is the oldest now. */
	test_put(6, TEST_WAYS, 1, now + TEST_HOUR);
	CU_ASSERT(!test_get(6, 0, 1, now));
	for (n = 1; n <= TEST_WAYS; n++)
		CU_ASSERT(test_get(6, n, 1, now));
	token_cache_stats(&s);
	CU_ASSERT(s.tcs_evictions == 1);
	/* An expired way is taken before a live one is evicted. */
	test_teardown();
	test_cache(256 * 1024);
	for (n = 0; n < TEST_WAYS; n++)
		test_put(7, n, 1, n == 5 ? now + 2000 : now + TEST_HOUR);
	CU_ASSERT(!test_get(7, 5, 1, now + 2000));	/* frees way 5 */
	test_put(7, 100, 1, now + TEST_HOUR);
	for (n = 0; n < TEST_WAYS; n++)
		if (n != 5)
			CU_ASSERT(test_get(7, n, 1, now));
	CU_ASSERT(test_get(7, 100, 1, now));
	token_cache_stats(&s);
	CU_ASSERT(s.tcs_evictions == 0);
	test_teardown();
}

static void
test_lru_touch(void)
{
	uint64_t	 now = test_now(), n;

	test_cache(256 * 1024);
	for (n = 0; n < TEST_WAYS; n++)
		test_put(8, n, 1, now + TEST_HOUR);
	/* Using 0 makes 1 the least recently used. */
	CU_ASSERT(test_get(8, 0, 1, now));
	test_put(8, 50, 1, now + TEST_HOUR);
	CU_ASSERT(test_get(8, 0, 1, now));
	CU_ASSERT(!test_get(8, 1, 1, now));
	CU_ASSERT(test_get(8, 50, 1, now));
	test_teardown();
}

static void
test_cycle(void)
{
	struct token_cache_stats	 s;
	uint8_t				 key[TOKEN_CACHE_KEYLEN];
	struct test_val			 v;
	uint64_t			 now = test_now(), n, h;
	unsigned int			 hits = 0;

	test_cache(1024 * 1024);
	memset(&v, 0, sizeof(v));
	for (n = 0; n < TEST_CYCLE; n++) {
		/* A cheap mix so the keys spread over every set. */
		h = (n + 1) * UINT64_C(0x9e3779b97f4a7c15);
		test_key(key, h, n);
		v.v_n = n;
		token_cache_put(key, 1, now + TEST_HOUR, &v, sizeof(v));
		if (n % 1000 == 0) {
			token_cache_stats(&s);
			CU_ASSERT(s.tcs_entries <= s.tcs_capacity);
		}
	}
	token_cache_stats(&s);
	CU_ASSERT(s.tcs_entries <= s.tcs_capacity);
	CU_ASSERT(s.tcs_entries > s.tcs_capacity / 2);
	CU_ASSERT(s.tcs_evictions >= TEST_CYCLE - s.tcs_capacity);
	/* The most recent keys are still there. */
	for (n = TEST_CYCLE - 50; n < TEST_CYCLE; n++) {
		h = (n + 1) * UINT64_C(0x9e3779b97f4a7c15);
		test_key(key, h, n);
		hits += (unsigned int)token_cache_get(key, 1, now, &v,
		    sizeof(v));
	}
	CU_ASSERT(hits >= 45);
	test_teardown();
}

/* A child puts, the parent reads; then the parent puts, a child reads. */
static void
test_fork_share(void)
{
	uint64_t	 now = test_now();
	pid_t		 pid;

	test_cache(256 * 1024);
	if ((pid = test_fork()) == 0) {
		test_put(9, 1, 3, now + TEST_HOUR);
		_exit(0);
	}
	CU_ASSERT(test_wait(pid) == 0);
	CU_ASSERT(test_get(9, 1, 3, now));

	test_put(9, 2, 3, now + TEST_HOUR);
	if ((pid = test_fork()) == 0)
		_exit(test_get(9, 2, 3, now) && test_get(9, 1, 3, now) ?
		    0 : 1);
	CU_ASSERT(test_wait(pid) == 0);
	test_teardown();
}

/* Same size and value size: kept with its entries; else a new zone. */
static void
test_reload_keeps(void)
{
	struct conf_token_cache	 c;
	struct shm_zone		*z1;
	uint64_t		 now = test_now();
	char			*cause = NULL;

	test_cache(512 * 1024);
	z1 = shm_zone_find("token-cache");
	test_put(10, 1, 1, now + TEST_HOUR);
	/* Old workers still have the zone while the new round runs. */
	test_cache(512 * 1024);
	CU_ASSERT(shm_zone_find("token-cache") == z1);
	CU_ASSERT(z1->z_reused);
	CU_ASSERT(test_get(10, 1, 1, now));

	/* Another value size: another layout, a fresh zone. */
	memset(&c, 0, sizeof(c));
	c.tc_size = 512 * 1024;
	shm_zone_begin();
	CU_ASSERT(token_cache_init(&c, sizeof(struct test_val) + 8,
	    &cause) == 0);
	shm_zone_reconcile();
	CU_ASSERT(!shm_zone_find("token-cache")->z_reused);
	test_teardown();

	/* Another size: fresh and empty. */
	test_cache(512 * 1024);
	test_put(10, 1, 1, now + TEST_HOUR);
	test_cache(1024 * 1024);
	CU_ASSERT(!test_get(10, 1, 1, now));
	test_teardown();
}

static void
test_disabled(void)
{
	struct token_cache_stats	 s;
	uint64_t			 now = test_now();

	test_cache(0);
	CU_ASSERT_PTR_NULL(shm_zone_find("token-cache"));
	test_put(11, 1, 1, now + TEST_HOUR);
	CU_ASSERT(!test_get(11, 1, 1, now));
	token_cache_stats(&s);
	CU_ASSERT(s.tcs_hits == 0 && s.tcs_misses == 0 &&
	    s.tcs_capacity == 0 && s.tcs_entries == 0);
	/* Enabled, then disabled by a reload: the zone goes away. */
	test_cache(256 * 1024);
	CU_ASSERT_PTR_NOT_NULL(shm_zone_find("token-cache"));
	test_cache(0);
	CU_ASSERT_PTR_NULL(shm_zone_find("token-cache"));
	test_teardown();
}

static void
test_too_small(void)
{
	struct conf_token_cache	 c;
	char			*cause = NULL;

	memset(&c, 0, sizeof(c));
	c.tc_size = 4096;
	shm_zone_begin();
	CU_ASSERT(token_cache_init(&c, sizeof(struct test_val),
	    &cause) == -1);
	CU_ASSERT(cause != NULL && strstr(cause, "too small") != NULL);
	free(cause);
	test_teardown();
}

/* Revocation. */

/* The file revoke_add persists to: the last configured one. */
static const char	*test_rfile;

static void
test_revoke_conf(struct conf_security *sec, uint32_t max, const char *file)
{
	memset(sec, 0, sizeof(*sec));
	sec->s_revocation_max = max;
	sec->s_revocation_file = (char *)(uintptr_t)file;
	test_rfile = file;
}

/* A committed round with a revocation zone; the test stops on error. */
static void
test_revoke_zone(uint32_t max, const char *file)
{
	struct conf_security	 sec;
	char			*cause = NULL;

	test_revoke_conf(&sec, max, file);
	shm_zone_begin();
	if (revoke_init(&sec, &cause) == -1) {
		printf("\nrevoke_init: %s\n", cause);
		free(cause);
		CU_FAIL_FATAL("revoke_init");
	}
	shm_zone_reconcile();
}

/* A file name in the test directory, written with text if not NULL. */
static char *
test_tmpfile(const char *name, const char *text)
{
	FILE	*f;
	char	*path;

	if (!test_dir_made) {
		CU_ASSERT_FATAL(mkdtemp(test_dir) != NULL);
		test_dir_made = 1;
	}
	xasprintf(&path, "%s/%s", test_dir, name);
	(void)unlink(path);
	if (text != NULL) {
		f = fopen(path, "w");
		CU_ASSERT_FATAL(f != NULL);
		fputs(text, f);
		fclose(f);
	}
	return (path);
}

static void
test_hex(const uint8_t *d, char *out)
{
	int	 i;

	for (i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static void
test_revoke_hash_jti(void)
{
	uint8_t		 h[32], other[32];
	char		 what[80], *cause = NULL, *list, *p;
	int64_t		 now = (int64_t)time(NULL);

	test_revoke_zone(100, NULL);
	memset(h, 0x11, sizeof(h));
	memset(other, 0x22, sizeof(other));
	CU_ASSERT(revoke_check(h, "j1", now) == 0);
	CU_ASSERT(revoke_count() == 0);

	/* By hash, given in upper case: stored and listed in lower. */
	snprintf(what, sizeof(what), "SHA256:");
	test_hex(h, what + 7);
	for (p = what + 7; *p != '\0'; p++)
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 'a' + 'A');
	CU_ASSERT(revoke_add(what, 0, test_rfile, &cause) == 0);
	CU_ASSERT(revoke_check(h, NULL, now) == 1);
	CU_ASSERT(revoke_check(h, "", now) == 1);
	CU_ASSERT(revoke_check(other, NULL, now) == 0);
	CU_ASSERT(revoke_check(NULL, NULL, now) == 0);

	/* By jti. */
	CU_ASSERT(revoke_add("token-42", 0, test_rfile, &cause) == 0);
	CU_ASSERT(revoke_check(other, "token-42", now) == 1);
	CU_ASSERT(revoke_check(NULL, "token-42", now) == 1);
	CU_ASSERT(revoke_check(NULL, "token-43", now) == 0);
	CU_ASSERT(revoke_check(other, "token-4", now) == 0);
	/* A jti that reads like a hash is still only a jti check. */
	CU_ASSERT(revoke_check(NULL, what, now) == 0);
	CU_ASSERT(revoke_count() == 2);

	list = revoke_list();
	test_hex(h, what);
	CU_ASSERT(strstr(list, what) != NULL);
	CU_ASSERT(strstr(list, "jti:token-42 0\n") != NULL);
	CU_ASSERT(strncmp(strstr(list, what) - 7, "sha256:", 7) == 0);
	free(list);
	test_teardown();
}

static void
test_revoke_until(void)
{
	char		*cause = NULL, *list;
	int64_t		 now = (int64_t)time(NULL);

	test_revoke_zone(100, NULL);
	/* In the past, or now: refused. */
	CU_ASSERT(revoke_add("old", now - 10, test_rfile, &cause) == -1);
	CU_ASSERT(cause != NULL && strstr(cause, "past") != NULL);
	free(cause);
	cause = NULL;
	CU_ASSERT(revoke_add("old", -5, test_rfile, &cause) == -1);
	free(cause);
	cause = NULL;

	CU_ASSERT(revoke_add("soon", now + 100, test_rfile, &cause) == 0);
	CU_ASSERT(revoke_check(NULL, "soon", now) == 1);
	CU_ASSERT(revoke_check(NULL, "soon", now + 99) == 1);
	CU_ASSERT(revoke_check(NULL, "soon", now + 100) == 0);
	/* Re-adding replaces the until: longer, then for ever. */
	CU_ASSERT(revoke_add("soon", now + 1000, test_rfile, &cause) == 0);
	CU_ASSERT(revoke_check(NULL, "soon", now + 500) == 1);
	CU_ASSERT(revoke_add("soon", 0, test_rfile, &cause) == 0);
	CU_ASSERT(revoke_check(NULL, "soon", now + 100000000) == 1);
	list = revoke_list();
	CU_ASSERT_STRING_EQUAL(list, "jti:soon 0\n");
	free(list);
	test_teardown();
}

static void
test_revoke_bad(void)
{
	static const char *const bad[] = {
	    "", "sha256:", "sha256:abc", "sha256:zz00000000000000000000000000"
	    "00000000000000000000000000000000000",
	    "sha256:00000000000000000000000000000000000000000000000000000000"
	    "000000000",	/* 65 digits */
	    "has space", "tab\there", "\x01", "caf\xc3\xa9" };
	char		 longjti[300], *cause;
	size_t		 i;

	test_revoke_zone(100, NULL);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cause = NULL;
		CU_ASSERT(revoke_add(bad[i], 0, test_rfile, &cause) == -1);
		CU_ASSERT(cause != NULL);
		free(cause);
	}
	memset(longjti, 'x', sizeof(longjti));
	longjti[256] = '\0';
	cause = NULL;
	CU_ASSERT(revoke_add(longjti, 0, test_rfile, &cause) == -1);
	free(cause);
	longjti[255] = '\0';
	cause = NULL;
	CU_ASSERT(revoke_add(longjti, 0, test_rfile, &cause) == 0);
	CU_ASSERT(revoke_check(NULL, longjti, (int64_t)time(NULL)) == 1);
	CU_ASSERT(revoke_count() == 1);
	test_teardown();
}

static void
test_revoke_full(void)
{
	char		 jti[32], *cause = NULL;
	int64_t		 now = (int64_t)time(NULL);
	int		 i;

	test_revoke_zone(16, NULL);
	for (i = 0; i < 14; i++) {
		snprintf(jti, sizeof(jti), "forever-%d", i);
		CU_ASSERT(revoke_add(jti, 0, test_rfile, &cause) == 0);
	}
	CU_ASSERT(revoke_add("short-1", now + 2, test_rfile, &cause) == 0);
	CU_ASSERT(revoke_add("short-2", now + 2, test_rfile, &cause) == 0);
	CU_ASSERT(revoke_count() == 16);
	CU_ASSERT(revoke_add("one-too-many", 0, test_rfile, &cause) == -1);
	CU_ASSERT(cause != NULL &&
	    strstr(cause, "revocation list full (revocation_max 16)") != NULL);
	free(cause);
	cause = NULL;
	/* Re-adding one that is there needs no room. */
	CU_ASSERT(revoke_add("forever-3", 0, test_rfile, &cause) == 0);
	for (i = 0; i < 14; i++) {
		snprintf(jti, sizeof(jti), "forever-%d", i);
		CU_ASSERT(revoke_check(NULL, jti, now) == 1);
	}
	test_teardown();
}

static void
test_revoke_file(void)
{
	uint8_t		 h[32];
	char		*path, *cause = NULL, what[80], *list;
	char		 buf[4096], upper[65];
	int64_t		 now = (int64_t)time(NULL);
	FILE		*f;
	size_t		 n;

	path = test_tmpfile("revoked", NULL);
	test_revoke_zone(100, path);	/* absent file: empty list */
	CU_ASSERT(revoke_count() == 0);
	memset(h, 0xc3, sizeof(h));
	snprintf(what, sizeof(what), "sha256:");
	test_hex(h, what + 7);
	CU_ASSERT(revoke_add(what, 0, test_rfile, &cause) == 0);
	CU_ASSERT(revoke_add("abc.def", now + 3600, test_rfile, &cause) == 0);
	CU_ASSERT(revoke_add("gone-soon", now + 3600, test_rfile, &cause) == 0);

	f = fopen(path, "r");
	CU_ASSERT_FATAL(f != NULL);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	CU_ASSERT(buf[0] == '#');
	CU_ASSERT(strstr(buf, what) != NULL);
	snprintf(what, sizeof(what), "jti:abc.def %lld\n",
	    (long long)(now + 3600));
	CU_ASSERT(strstr(buf, what) != NULL);
	test_teardown();

	/* A restart: a fresh zone filled from the file. */
	test_revoke_zone(100, path);
	CU_ASSERT(revoke_check(h, NULL, now) == 1);
	CU_ASSERT(revoke_check(NULL, "abc.def", now) == 1);
	CU_ASSERT(revoke_check(NULL, "abc.def", now + 3600) == 0);
	CU_ASSERT(revoke_count() == 3);
	list = revoke_list();
	CU_ASSERT(strstr(list, "jti:gone-soon") != NULL);
	free(list);
	test_teardown();

	/* Hand-written, with comments, blanks, CRLF and an expired line. */
	for (n = 0; n < 32; n++)
		memcpy(upper + 2 * n, "C3", 2);
	upper[64] = '\0';
	snprintf(buf, sizeof(buf), "# comment\n\n  \t\njti:a1 0\r\n"
	    "  jti:a2\t%lld  \njti:old %lld\n"
	    "sha256:%s 0\n", (long long)(now + 60), (long long)(now - 60),
	    upper);
	free(test_tmpfile("revoked", buf));
	test_revoke_zone(100, path);
	CU_ASSERT(revoke_check(NULL, "a1", now) == 1);
	CU_ASSERT(revoke_check(NULL, "a2", now) == 1);
	CU_ASSERT(revoke_check(NULL, "old", now - 120) == 0);
	CU_ASSERT(revoke_check(h, NULL, now) == 1);
	CU_ASSERT(revoke_count() == 3);

	/* Unwritable: still revoked, and said so. */
	free(path);
	path = test_tmpfile("nosuchdir/sub/revoked", NULL);
	test_revoke_zone(100, path);
	CU_ASSERT(revoke_add("unsaved", 0, test_rfile, &cause) == -1);
	CU_ASSERT(cause != NULL &&
	    strncmp(cause, "revoked, but not persisted: ", 28) == 0);
	free(cause);
	CU_ASSERT(revoke_check(NULL, "unsaved", now) == 1);
	free(path);
	test_teardown();
}

static void
test_revoke_malformed(void)
{
	static const struct {
		const char	*text;
		const char	*want;	/* in the cause */
	} cases[] = {
		{ "jti:ok 0\njti:nountil\n", ":2: " },
		{ "jti:a 0 extra\n", ":1: extra" },
		{ "# c\nfoo:bar 0\n", ":2: " },
		{ "sha256:abcd 0\n", ":1: bad token hash" },
		{ "jti:a -1\n", ":1: bad time" },
		{ "jti:a 12x\n", ":1: bad time" },
		{ "jti: 0\n", ":1: " },
		{ "\n\n\njti:a 99999999999999999999999\n", ":4: bad time" },
	};
	struct conf_security	 sec;
	char			*path, *cause;
	size_t			 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		path = test_tmpfile("bad", cases[i].text);
		test_revoke_conf(&sec, 100, path);
		shm_zone_begin();
		cause = NULL;
		CU_ASSERT(revoke_init(&sec, &cause) == -1);
		CU_ASSERT(cause != NULL && strncmp(cause, path,
		    strlen(path)) == 0 && strstr(cause, cases[i].want) != NULL);
		if (cause == NULL || strstr(cause, cases[i].want) == NULL)
			printf("\ncase %zu: %s\n", i, cause);
		free(cause);
		free(path);
		test_teardown();
	}
	/* Two bad lines: both reported. */
	path = test_tmpfile("bad", "x 0\njti:ok 0\ny 0\n");
	test_revoke_conf(&sec, 100, path);
	shm_zone_begin();
	cause = NULL;
	CU_ASSERT(revoke_init(&sec, &cause) == -1);
	CU_ASSERT(cause != NULL && strstr(cause, ":1: ") != NULL &&
	    strstr(cause, ":3: ") != NULL);
	free(cause);
	free(path);
	/* More lines than revocation_max. */
	path = test_tmpfile("bad", "jti:1 0\njti:2 0\njti:3 0\njti:4 0\n"
	    "jti:5 0\njti:6 0\njti:7 0\njti:8 0\njti:9 0\njti:10 0\n"
	    "jti:11 0\njti:12 0\njti:13 0\njti:14 0\njti:15 0\njti:16 0\n"
	    "jti:17 0\n");
	test_revoke_conf(&sec, 16, path);
	shm_zone_begin();
	cause = NULL;
	CU_ASSERT(revoke_init(&sec, &cause) == -1);
	CU_ASSERT(cause != NULL && strstr(cause, ":17: revocation list "
	    "full (revocation_max 16)") != NULL);
	free(cause);
	free(path);
	test_teardown();
}

/*
 * A reload keeps the zone and its entries (even when the file is gone);
 * another revocation_max gets a new zone that still has them.
 */
static void
test_revoke_reload(void)
{
	struct shm_zone	*z;
	char		*cause = NULL;
	int64_t		 now = (int64_t)time(NULL);

	test_revoke_zone(100, NULL);
	z = shm_zone_find("revoked");
	CU_ASSERT(revoke_add("kept", 0, test_rfile, &cause) == 0);
	test_revoke_zone(100, NULL);
	CU_ASSERT(shm_zone_find("revoked") == z && z->z_reused);
	CU_ASSERT(revoke_check(NULL, "kept", now) == 1);
	test_revoke_zone(1000, NULL);
	CU_ASSERT(!shm_zone_find("revoked")->z_reused);
	CU_ASSERT(revoke_check(NULL, "kept", now) == 1);
	CU_ASSERT(revoke_count() == 1);
	test_teardown();
}

/* The master adds; a forked worker sees it at once, and vice versa. */
static void
test_revoke_fork(void)
{
	char		*cause = NULL;
	int64_t		 now = (int64_t)time(NULL);
	int		 p2c[2], c2p[2];
	char		 c = 0;
	pid_t		 pid;

	test_revoke_zone(100, NULL);
	CU_ASSERT_FATAL(pipe(p2c) == 0 && pipe(c2p) == 0);
	if ((pid = test_fork()) == 0) {
		/* Worker: nothing yet; then, once told, the jti. */
		if (revoke_check(NULL, "late", now) != 0)
			_exit(1);
		if (write(c2p[1], "r", 1) != 1 || read(p2c[0], &c, 1) != 1)
			_exit(2);
		_exit(revoke_check(NULL, "late", now) == 1 ? 0 : 3);
	}
	CU_ASSERT(read(c2p[0], &c, 1) == 1);
	CU_ASSERT(revoke_add("late", 0, test_rfile, &cause) == 0);
	CU_ASSERT(write(p2c[1], "g", 1) == 1);
	CU_ASSERT(test_wait(pid) == 0);
	close(p2c[0]);
	close(p2c[1]);
	close(c2p[0]);
	close(c2p[1]);
	test_teardown();
}

static CU_TestInfo test_cache_cases[] = {
	{ "put/get round trip", test_roundtrip },
	{ "another epoch misses", test_epoch },
	{ "expiry at the millisecond", test_expiry },
	{ "replacement in place", test_replace },
	{ "full set evicts exactly the oldest", test_evict_oldest },
	{ "a hit makes an entry recent", test_lru_touch },
	{ "100k distinct keys stay bounded", test_cycle },
	{ "forked writer and reader", test_fork_share },
	{ "kept across a reload", test_reload_keeps },
	{ "size 0 disables", test_disabled },
	{ "too small a size is refused", test_too_small },
	CU_TEST_INFO_NULL
};

static CU_TestInfo test_revoke_cases[] = {
	{ "by hash and by jti", test_revoke_hash_jti },
	{ "until in the past and future", test_revoke_until },
	{ "bad hashes and jtis", test_revoke_bad },
	{ "list full", test_revoke_full },
	{ "file round trip", test_revoke_file },
	{ "malformed file: file:line", test_revoke_malformed },
	{ "kept across a reload", test_revoke_reload },
	{ "seen by a forked worker", test_revoke_fork },
	CU_TEST_INFO_NULL
};

static CU_SuiteInfo test_suites[] = {
	{ "token-cache", NULL, NULL, NULL, NULL, test_cache_cases },
	{ "revoke", NULL, NULL, NULL, NULL, test_revoke_cases },
	CU_SUITE_INFO_NULL
};

int
main(void)
{
	char	 cmd[64];
	int	 rv;

	log_init(1, 0);
	rv = test_run(test_suites);
	if (test_dir_made) {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", test_dir);
		(void)system(cmd);
	}
	return (rv);
}
