/*
 * test-plugin-host.c: plugin_host_open() on the test plugins make check
 * builds in tests/plugins/: the entry of a good one, and one clear cause
 * for each way a shared object can be wrong.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include <mgw/plugin.h>

#include "master.h"
#include "tests.h"

static char	 plugin_dir[4096];	/* the built test plugins */
static char	 text_file[4096];	/* a source file of them */

/* Open tests/plugins/file as name: the entry, or NULL with *cause. */
static const struct mgw_plugin *
open_test(const char *file, const char *name, void **dl, char **cause)
{
	char	 path[8192];

	/* Absolute paths, and "rel/X" for the relative path X, as they are. */
	if (*file == '/' || strncmp(file, "rel/", 4) == 0)
		snprintf(path, sizeof(path), "%s", *file == '/' ? file :
		    file + 4);
	else
		snprintf(path, sizeof(path), "%s/%s", plugin_dir, file);
	*cause = NULL;
	return (plugin_host_open(path, name, dl, cause));
}

/* The cause of a failed open of file as name contains want. */
static void
expect_cause(const char *file, const char *name, const char *want)
{
	const struct mgw_plugin	*p;
	void			*dl = (void *)1;
	char			*cause;

	p = open_test(file, name, &dl, &cause);
	CU_ASSERT(p == NULL);
	CU_ASSERT(dl == NULL);
	CU_ASSERT_FATAL(cause != NULL);
	if (strstr(cause, want) == NULL)
		fprintf(stderr, "\n%s as %s: cause \"%s\" lacks \"%s\"\n",
		    file, name, cause, want);
	CU_ASSERT(strstr(cause, want) != NULL);
	free(cause);
}

static void
test_host_good(void)
{
	const struct mgw_plugin	*p;
	void			*dl;
	char			*cause;

	p = open_test("init-fail.so", "initfail", &dl, &cause);
	CU_ASSERT_FATAL(p != NULL);
	CU_ASSERT(dl != NULL);
	CU_ASSERT(cause == NULL);
	CU_ASSERT(p->api == MGW_PLUGIN_API);
	CU_ASSERT_STRING_EQUAL(p->name, "initfail");
	CU_ASSERT(p->init_worker != NULL);
	plugin_host_close(dl);
	plugin_host_close(NULL);
}

static void
test_host_bad(void)
{
	expect_cause("nowhere.so", "hello",
	    "plugin hello: ");
	expect_cause("nowhere.so", "hello",
	    "nowhere.so: No such file or directory");
	expect_cause(".", "dot", "not a regular file");
	expect_cause("rel/./hello.so", "hello",
	    "plugin hello: ./hello.so: not an absolute path");
	expect_cause("rel/hello.so", "hello", "not an absolute path");
	/* A C file is no shared object. */
	expect_cause(text_file, "crash",
	    "plugin crash: not a loadable shared object: ");
	expect_cause("no-entry.so", "noentry",
	    "no-entry.so exports no mgw_plugin_entry");
	expect_cause("bad-abi.so", "badabi", "ABI 6, expected 5");
	expect_cause("init-fail.so", "other",
	    "is plugin \"initfail\", not \"other\"");
	/* RTLD_NOW: this program exports no mgw_request_header. */
	expect_cause("crash.so", "crash", "mgw_request_header");
}

static CU_TestInfo host_tests[] = {
	{ "open a plugin", test_host_good },
	{ "bad plugins", test_host_bad },
	CU_TEST_INFO_NULL
};

static CU_SuiteInfo host_suites[] = {
	{ .pName = "plugin-host", .pTests = host_tests },
	CU_SUITE_INFO_NULL
};

int
main(void)
{
	const char	*b = getenv("top_builddir"), *s = getenv("top_srcdir");
	char		 cwd[1024];

	/* Without the environment of make check: run from the build dir. */
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		return (99);
	snprintf(plugin_dir, sizeof(plugin_dir), "%s/tests/plugins",
	    b != NULL ? b : cwd);
	snprintf(text_file, sizeof(text_file), "%s/tests/plugins/crash.c",
	    s != NULL ? s : cwd);
	return (test_run(host_suites));
}
