/*
 * tests.h: what every CUnit program here shares: run the suites of a
 * CU_SuiteInfo table with the basic interface and turn the outcome into
 * an exit status (0 all passed, 1 otherwise, as automake expects), and
 * fork a child with a watchdog and reap it, for the cross-process tests.
 */
#ifndef MGW_TESTS_H
#define MGW_TESTS_H

#include <stdio.h>

#include <CUnit/Basic.h>

#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <unistd.h>

#ifndef TEST_WATCHDOG
#define TEST_WATCHDOG	60	/* seconds a forked child may run */
#endif

/* Children get a watchdog; stdout is flushed so nothing prints twice. */
static pid_t __attribute__((unused))
test_fork(void)
{
	pid_t	 pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	CU_ASSERT_FATAL(pid != -1);
	if (pid == 0)
		alarm(TEST_WATCHDOG);
	return (pid);
}

/* Reap pid: its exit status, or 128 + signal if a signal killed it. */
static int __attribute__((unused))
test_wait(pid_t pid)
{
	int	 status;

	while (waitpid(pid, &status, 0) == -1) {
		if (errno != EINTR)
			return (-1);
	}
	if (WIFEXITED(status))
		return (WEXITSTATUS(status));
	if (WIFSIGNALED(status))
		return (128 + WTERMSIG(status));
	return (-1);
}

static int
test_run(CU_SuiteInfo *suites)
{
	unsigned int	 failures;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return (1);
	if (CU_register_suites(suites) != CUE_SUCCESS) {
		fprintf(stderr, "%s\n", CU_get_error_msg());
		CU_cleanup_registry();
		return (1);
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failures = CU_get_number_of_failures() +
	    CU_get_number_of_suites_failed();
	CU_cleanup_registry();
	return (failures == 0 ? 0 : 1);
}

#endif /* MGW_TESTS_H */
