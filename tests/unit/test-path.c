/*
 * test-path.c: path_normalize() and path_encode(), the canonical form the
 * router and the upstream request line rely on.
 */
#include "config.h"

#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "worker.h"
#include "tests.h"

struct path_case {
	const char	*in;
	size_t		 inlen;		/* 0: strlen(in) */
	const char	*out;		/* NULL: must be refused */
};

static const struct path_case path_cases[] = {
	/* Plain paths and trailing slashes. */
	{ "/", 0, "/" },
	{ "/a/b", 0, "/a/b" },
	{ "/a/b/", 0, "/a/b/" },
	{ "/pet/42", 0, "/pet/42" },
	{ "/a.json", 0, "/a.json" },
	/* Not a path. */
	{ "", 0, NULL },
	{ "a/b", 0, NULL },
	{ "*", 0, NULL },
	/* Slashes and single dots. */
	{ "//", 0, "/" },
	{ "//a//b//", 0, "/a/b/" },
	{ "/./", 0, "/" },
	{ "/.", 0, "/" },
	{ "/a/./b", 0, "/a/b" },
	{ "/a/.", 0, "/a/" },
	{ "/a/b/%2e", 0, "/a/b/" },
	{ "/a/%2e/b", 0, "/a/b" },
	/* Traversal. */
	{ "/..", 0, NULL },
	{ "/../a", 0, NULL },
	{ "/a/..", 0, "/" },
	{ "/a/../..", 0, NULL },
	{ "/a/b/..", 0, "/a/" },
	{ "/a/b/../", 0, "/a/" },
	{ "/a/b/../c", 0, "/a/c" },
	{ "/a/b/../../c/", 0, "/c/" },
	{ "/a//../b", 0, "/b" },
	{ "/a/./../b/./c/.", 0, "/b/c/" },
	{ "///..//", 0, NULL },
	{ "/a/%2e%2e/b", 0, "/b" },
	{ "/a/%2E%2E/b", 0, "/b" },
	{ "/a/%2E./b", 0, "/b" },
	{ "/a/.%2e/b", 0, "/b" },
	{ "/%2e%2e", 0, NULL },
	{ "/a/%2e%2E/%2E%2e", 0, NULL },
	{ "/.../..", 0, "/" },
	/* Dots that are not dot segments. */
	{ "/a/..b", 0, "/a/..b" },
	{ "/a/...", 0, "/a/..." },
	{ "/a/.b/", 0, "/a/.b/" },
	{ "/a/b.", 0, "/a/b." },
	/* Escapes. */
	{ "/%41%42c", 0, "/ABc" },
	{ "/%7e%7E", 0, "/~~" },
	{ "/%25", 0, "/%" },
	{ "/a%20b", 0, "/a b" },
	{ "/a%3Fb", 0, "/a?b" },
	{ "/a%", 0, NULL },
	{ "/a%4", 0, NULL },
	{ "/a%2", 0, NULL },
	{ "/a%4g", 0, NULL },
	{ "/a%g4", 0, NULL },
	{ "/a%%41", 0, NULL },
	/* Encoded slash is ambiguous upstream and refused. */
	{ "/a%2Fb", 0, NULL },
	{ "/a%2fb", 0, NULL },
	{ "/%2e%2e%2f", 0, NULL },
	/* NUL and control bytes, raw or decoded. */
	{ "/a%00b", 0, NULL },
	{ "/a\0b", 4, NULL },
	{ "/a\tb", 0, NULL },
	{ "/a/b\r", 0, NULL },
	{ "/a%0Ab", 0, NULL },
	{ "/a%1F", 0, NULL },
	{ "/a%7fb", 0, NULL },
	{ "/a\x7f", 0, NULL },
	/* UTF-8 and other high bytes pass through. */
	{ "/caf\xc3\xa9", 0, "/caf\xc3\xa9" },
	{ "/caf%C3%A9/", 0, "/caf\xc3\xa9/" },
	{ "/x%80y", 0, "/x\x80y" },
	{ "/\xff", 0, "/\xff" },
};

static void	test_path_table(void);
static void	test_path_encode(void);
static void	test_path_roundtrip(void);
static void	test_path_random(void);
static ssize_t	normalize(const char *, size_t, char **);
static size_t	encode(const char *, size_t, char **);
static int	is_encoded(const char *, size_t);

/*
 * Run path_normalize() into a buffer of exactly the documented size, so
 * that ASan catches a write past it.
 */
static ssize_t
normalize(const char *in, size_t inlen, char **outp)
{
	ssize_t	 len;

	if ((*outp = malloc(inlen + 1)) == NULL)
		abort();
	len = path_normalize(in, inlen, *outp);
	if (len != -1) {
		CU_ASSERT(len >= 1 && (size_t)len <= inlen + 1);
		CU_ASSERT((*outp)[0] == '/');
	}
	return (len);
}

static size_t
encode(const char *in, size_t inlen, char **outp)
{
	size_t	 len;

	if ((*outp = malloc(3 * inlen + 1)) == NULL)
		abort();
	len = path_encode(in, inlen, *outp);
	CU_ASSERT(len <= 3 * inlen);
	return (len);
}

/* Only pchar, '/' and %XX with uppercase hex. */
static int
is_encoded(const char *s, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++) {
		/* strchr() finds the terminating NUL, so rule it out. */
		if (s[i] == '\0')
			return (0);
		if (s[i] == '%') {
			if (i + 2 >= len || s[i + 1] == '\0' ||
			    s[i + 2] == '\0' ||
			    strchr("0123456789ABCDEF", s[i + 1]) == NULL ||
			    strchr("0123456789ABCDEF", s[i + 2]) == NULL)
				return (0);
			i += 2;
			continue;
		}
		if (strchr("abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
		    "-._~!$&'()*+,;=:@/", s[i]) == NULL)
			return (0);
	}
	return (1);
}

static void
test_path_table(void)
{
	const struct path_case	*c;
	char			*out;
	size_t			 i, inlen;
	ssize_t			 len;

	CU_ASSERT(sizeof(path_cases) / sizeof(path_cases[0]) >= 40);
	for (i = 0; i < sizeof(path_cases) / sizeof(path_cases[0]); i++) {
		c = &path_cases[i];
		inlen = c->inlen != 0 ? c->inlen : strlen(c->in);
		len = normalize(c->in, inlen, &out);
		if (c->out == NULL) {
			if (len != -1)
				fprintf(stderr, "\ncase %zu: \"%s\" accepted "
				    "as \"%.*s\"\n", i, c->in, (int)len, out);
			CU_ASSERT(len == -1);
		} else {
			if (len == -1 || (size_t)len != strlen(c->out) ||
			    memcmp(out, c->out, (size_t)len) != 0)
				fprintf(stderr, "\ncase %zu: \"%s\" gave %zd "
				    "\"%.*s\", want \"%s\"\n", i, c->in, len,
				    len == -1 ? 0 : (int)len, out, c->out);
			CU_ASSERT_FATAL(len != -1);
			CU_ASSERT((size_t)len == strlen(c->out));
			CU_ASSERT(memcmp(out, c->out, (size_t)len) == 0);
		}
		free(out);
	}
}

static void
test_path_encode(void)
{
	static const struct {
		const char	*in;
		const char	*out;
	} cases[] = {
		{ "/", "/" },
		{ "/a/b/", "/a/b/" },
		{ "/a b", "/a%20b" },
		{ "/%", "/%25" },
		{ "/a?b#c", "/a%3Fb%23c" },
		{ "/caf\xc3\xa9", "/caf%C3%A9" },
		{ "/-._~!$&'()*+,;=:@", "/-._~!$&'()*+,;=:@" },
		{ "/\"<>\\^`{|}", "/%22%3C%3E%5C%5E%60%7B%7C%7D" },
		{ "/[v]", "/%5Bv%5D" },
		{ "/\xff\x80", "/%FF%80" },
	};
	char	*out;
	size_t	 i, len;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		len = encode(cases[i].in, strlen(cases[i].in), &out);
		CU_ASSERT(len == strlen(cases[i].out));
		CU_ASSERT(memcmp(out, cases[i].out, len) == 0);
		free(out);
	}
	/* The empty path encodes to nothing and touches nothing. */
	CU_ASSERT(path_encode("", 0, NULL) == 0);
}

/* normalize -> encode -> normalize gives the first normal form back. */
static void
test_path_roundtrip(void)
{
	const struct path_case	*c;
	char			*n1, *e, *n2;
	size_t			 i, elen;
	ssize_t			 len1, len2;

	for (i = 0; i < sizeof(path_cases) / sizeof(path_cases[0]); i++) {
		c = &path_cases[i];
		if (c->out == NULL)
			continue;
		len1 = normalize(c->in, strlen(c->in), &n1);
		CU_ASSERT_FATAL(len1 != -1);
		elen = encode(n1, (size_t)len1, &e);
		CU_ASSERT(is_encoded(e, elen));
		len2 = normalize(e, elen, &n2);
		CU_ASSERT(len2 == len1);
		CU_ASSERT(len2 != -1 && memcmp(n1, n2, (size_t)len1) == 0);
		free(n1);
		free(e);
		free(n2);
	}
}

/*
 * Random paths over an alphabet rich in '/', '.', '%' and hex digits,
 * from a fixed seed so that every run tests the same inputs.  Whatever
 * normalize accepts must be bounded, stable under a round trip, and free
 * of dot segments, empty segments and control bytes.
 */
static void
test_path_random(void)
{
	static const char	 alpha[] = "/./.%2e2E%fF0aA\x01\x7f\xc3/a/b";
	char			 in[64], *n1, *e, *n2;
	uint32_t		 seed = 12345;
	size_t			 i, j, inlen, elen;
	ssize_t			 len1, len2;
	int			 accepted = 0;

	for (i = 0; i < 20000; i++) {
		seed = seed * 1103515245u + 12345u;
		inlen = 1 + (seed >> 16) % (sizeof(in) - 1);
		in[0] = '/';
		for (j = 1; j < inlen; j++) {
			seed = seed * 1103515245u + 12345u;
			in[j] = alpha[(seed >> 16) % (sizeof(alpha) - 1)];
		}
		len1 = normalize(in, inlen, &n1);
		if (len1 == -1) {
			free(n1);
			continue;
		}
		accepted++;
		CU_ASSERT((size_t)len1 <= inlen);
		for (j = 0; j < (size_t)len1; j++) {
			CU_ASSERT((unsigned char)n1[j] >= 0x20 &&
			    n1[j] != 0x7f);
			if (n1[j] != '/')
				continue;
			CU_ASSERT(j + 1 == (size_t)len1 || n1[j + 1] != '/');
			CU_ASSERT(!(j + 2 <= (size_t)len1 &&
			    n1[j + 1] == '.' &&
			    (j + 2 == (size_t)len1 || n1[j + 2] == '/')));
			CU_ASSERT(!(j + 3 <= (size_t)len1 &&
			    n1[j + 1] == '.' && n1[j + 2] == '.' &&
			    (j + 3 == (size_t)len1 || n1[j + 3] == '/')));
		}
		elen = encode(n1, (size_t)len1, &e);
		CU_ASSERT(is_encoded(e, elen));
		len2 = normalize(e, elen, &n2);
		CU_ASSERT(len2 == len1);
		CU_ASSERT(len2 != -1 && memcmp(n1, n2, (size_t)len1) == 0);
		free(n1);
		free(e);
		free(n2);
	}
	/* The alphabet must let a fair share through or this tests little. */
	CU_ASSERT(accepted > 1000);
}

static CU_TestInfo path_tests[] = {
	{ "normalize table", test_path_table },
	{ "encode", test_path_encode },
	{ "normalize-encode-normalize", test_path_roundtrip },
	{ "random round trips", test_path_random },
	CU_TEST_INFO_NULL
};

static CU_SuiteInfo path_suites[] = {
	{ .pName = "path", .pTests = path_tests },
	CU_SUITE_INFO_NULL
};

int
main(void)
{
	return (test_run(path_suites));
}
