/*
 * test_gcs_join.c - multi-process membership tests of the GCS:
 *   - a member joining during traffic receives the state and then exactly
 *     the messages ordered after it (same final count and digest as the
 *     others, and the checker sees its counter continue from the state
 *     without gap or duplicate);
 *   - a partition of 2 out of 5 (fault injection cuts the links): the 3
 *     go on in a primary view, the 2 report a non-primary view and stop;
 *     after healing, the 2 rejoin with a state transfer and all five
 *     converge on the same sequence, with no split brain in the logs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "tests/gcs/procs.h"

#define WAIT_MS 60000

/* Wait for a view of group at member i with n members and the given
 * primary flag (n == 0: any size). */
static int wait_view(cluster_t *c, size_t i, const char *group, size_t n,
                     int primary)
{
    char prefix[64], line[CL_LINE], f[32];
    snprintf(prefix, sizeof prefix, "VIEW %s ", group);
    for (;;) {
        if (cl_wait(c, i, prefix, NULL, line, WAIT_MS) != 0)
            return -1;
        if (atoi(cl_field(line, 3, f, sizeof f)) == primary &&
            (n == 0 || (size_t)atol(cl_field(line, 4, f, sizeof f)) == n))
            return 0;
    }
}

static void expect_same_done(cluster_t *c, size_t n)
{
    char first[64] = "", line[CL_LINE], f[64];
    for (size_t i = 0; i < n; i++) {
        CU_ASSERT_FATAL(cl_wait(c, i, "DONE g1 ", NULL, line, WAIT_MS) == 0);
        cl_field(line, 3, f, sizeof f);
        if (first[0] == '\0')
            snprintf(first, sizeof first, "%s", f);
        CU_ASSERT_STRING_EQUAL(f, first);
    }
}

static void test_join_during_traffic(void)
{
    cluster_t c;
    CU_ASSERT_FATAL(cl_init(&c, "join") == 0);
    const char *extra[] = {"--group", "g1", "--rate", "500", "--expect",
                           "2400", "--progress", "300", "--timeout", "3000",
                           NULL};
    for (size_t i = 0; i < 3; i++)
        CU_ASSERT_FATAL(cl_start(&c, i, extra) == 0);
    for (size_t i = 0; i < 3; i++)
        CU_ASSERT_FATAL(wait_view(&c, i, "g1", 3, 1) == 0);
    for (size_t i = 0; i < 3; i++)
        CU_ASSERT(cl_ctl(&c, i, "send 800") == 0);
    CU_ASSERT_FATAL(cl_wait(&c, 0, "PROGRESS g1 ", NULL, NULL, WAIT_MS) ==
                    0);
    /* The joiner sends nothing; it must end with everyone's sequence. */
    const char *joiner[] = {"--group", "g1", "--expect", "2400", "--timeout",
                            "3000", NULL};
    CU_ASSERT_FATAL(cl_start(&c, 3, joiner) == 0);
    char line[CL_LINE], f[32];
    CU_ASSERT_FATAL(cl_wait(&c, 3, "STATE g1 ", NULL, line, WAIT_MS) == 0);
    /* It really joined mid-traffic: the state was not empty. */
    CU_ASSERT(atol(cl_field(line, 2, f, sizeof f)) > 0);
    CU_ASSERT(atol(cl_field(line, 2, f, sizeof f)) < 2400);
    expect_same_done(&c, 4);
    CU_ASSERT(cl_check(&c) == 0);
    cl_fini(&c);
}

static void test_partition_two_of_five(void)
{
    cluster_t c;
    CU_ASSERT_FATAL(cl_init(&c, "part") == 0);
    const char *extra[] = {"--group", "g1", "--rate", "150", "--expect",
                           "2000", "--progress", "100", "--timeout", "2000",
                           NULL};
    for (size_t i = 0; i < 5; i++)
        CU_ASSERT_FATAL(cl_start(&c, i, extra) == 0);
    for (size_t i = 0; i < 5; i++)
        CU_ASSERT_FATAL(wait_view(&c, i, "g1", 5, 1) == 0);
    for (size_t i = 0; i < 5; i++)
        CU_ASSERT(cl_ctl(&c, i, "send 400") == 0);
    CU_ASSERT_FATAL(cl_wait(&c, 0, "PROGRESS g1 ", NULL, NULL, WAIT_MS) ==
                    0);
    cl_mark(&c);
    for (size_t i = 0; i < 3; i++)
        CU_ASSERT(cl_ctl(&c, i, "partition n4,n5") == 0);
    for (size_t i = 3; i < 5; i++)
        CU_ASSERT(cl_ctl(&c, i, "partition n1,n2,n3") == 0);
    /* The 2 block and say so; the 3 go on as the primary component. */
    for (size_t i = 3; i < 5; i++)
        CU_ASSERT_FATAL(wait_view(&c, i, "g1", 0, 0) == 0);
    for (size_t i = 0; i < 3; i++)
        CU_ASSERT_FATAL(wait_view(&c, i, "g1", 3, 1) == 0);
    /* The majority still delivers. */
    cl_mark(&c);
    CU_ASSERT_FATAL(cl_wait(&c, 0, "PROGRESS g1 ", NULL, NULL, WAIT_MS) ==
                    0);
    cl_mark(&c);
    for (size_t i = 0; i < 5; i++)
        CU_ASSERT(cl_ctl(&c, i, "heal") == 0);
    /* The 2 rejoin (new incarnations, new primary views) with a state
     * transfer; the majority sees all five again. */
    for (size_t i = 0; i < 3; i++)
        CU_ASSERT_FATAL(wait_view(&c, i, "g1", 5, 1) == 0);
    for (size_t i = 3; i < 5; i++)
        CU_ASSERT_FATAL(cl_wait(&c, i, "STATE g1 ", NULL, NULL, WAIT_MS) ==
                        0);
    expect_same_done(&c, 5);
    CU_ASSERT(cl_check(&c) == 0);
    cl_fini(&c);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite_with_setup_and_teardown(
        "gcs_join", NULL, NULL, NULL, cl_teardown);
    if (s == NULL ||
        !CU_add_test(s, "joiner during traffic gets state + exact suffix",
                     test_join_during_traffic) ||
        !CU_add_test(s, "partition 2 of 5, heal, rejoin, converge",
                     test_partition_two_of_five)) {
        CU_cleanup_registry();
        return 1;
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
