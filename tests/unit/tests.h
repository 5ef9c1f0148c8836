/*
 * tests.h: what every CUnit program here shares: run the suites of a
 * CU_SuiteInfo table with the basic interface and turn the outcome into
 * an exit status (0 all passed, 1 otherwise, as automake expects).
 */
#ifndef MGW_TESTS_H
#define MGW_TESTS_H

#include <stdio.h>

#include <CUnit/Basic.h>

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
