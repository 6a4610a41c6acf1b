/*
 * Unit test runner: registers every suite of suites.h and runs them with CUnit's basic interface.
 *
 * CU_basic_run_tests returns 0 even when assertions fail, so the exit code is the number of
 * failures read before CU_cleanup_registry. An optional argument runs only the suite of that name.
 */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <string.h>

#include "suites.h"

typedef struct {
    const char *name;
    int (*add)(void);
} suite_entry;

#define MS_SUITE_ENTRY(name) {#name, ms_suite_##name},
static const suite_entry suites[] = {MS_SUITE_LIST(MS_SUITE_ENTRY)};

int main(int argc, char **argv)
{
    const char *only = argc > 1 ? argv[1] : NULL;
    int missing = 0;
    if (CU_initialize_registry() != CUE_SUCCESS) return 2;
    for (size_t i = 0; i < sizeof suites / sizeof suites[0]; i++) {
        if (only && strcmp(only, suites[i].name) != 0) continue;
        if (!suites[i].add) {
            fprintf(stderr, "suite %s is declared but not linked\n", suites[i].name);
            missing++;
            continue;
        }
        if (suites[i].add() != CUE_SUCCESS) {
            fprintf(stderr, "suite %s: %s\n", suites[i].name, CU_get_error_msg());
            CU_cleanup_registry();
            return 2;
        }
    }
    CU_basic_set_mode(CU_BRM_NORMAL);
    CU_basic_run_tests();
    unsigned failures = CU_get_number_of_failures() + CU_get_number_of_suites_failed();
    unsigned run = CU_get_number_of_tests_run();
    unsigned failed_tests = CU_get_number_of_tests_failed();
    CU_cleanup_registry();
    printf("\n%u passed, %u failed\n", run - failed_tests, failed_tests);
    if (run == 0) return 3; /* a run that tested nothing is a failure */
    return (failures > 0 || missing > 0) ? 1 : 0;
}
