/*
 * test_gcs_order.c - multi-process ordering tests of the GCS: 3, 5 and 7
 * gcs_member processes on loopback multicast concurrently; every member
 * must apply the identical sequence (same count and digest), and the
 * delivery-log checker must find total order, FIFO, uniform delivery and
 * view synchrony intact.  The last case injects loss, duplication, delay
 * and reordering into every member's transport.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "tests/gcs/procs.h"

#define WAIT_MS 60000

/* Wait until member i reports a primary view of group with n members. */
static int wait_view(cluster_t *c, size_t i, const char *group, size_t n)
{
    char prefix[64], line[CL_LINE], f[32];
    snprintf(prefix, sizeof prefix, "VIEW %s ", group);
    for (;;) {
        if (cl_wait(c, i, prefix, NULL, line, WAIT_MS) != 0)
            return -1;
        if (strcmp(cl_field(line, 3, f, sizeof f), "1") == 0 &&
            (size_t)atol(cl_field(line, 4, f, sizeof f)) == n)
            return 0;
    }
}

static void traffic(size_t n, unsigned per, const char *faults)
{
    cluster_t c;
    CU_ASSERT_FATAL(cl_init(&c, "order") == 0);
    char expect[32], send[32];
    snprintf(expect, sizeof expect, "%u", (unsigned)(n * per));
    snprintf(send, sizeof send, "send %u", per);
    const char *extra[] = {"--group", "g1", "--expect", expect,
                           "--timeout", "3000",
                           faults ? "--faults" : NULL, faults, NULL};
    for (size_t i = 0; i < n; i++)
        CU_ASSERT_FATAL(cl_start(&c, i, extra) == 0);
    for (size_t i = 0; i < n; i++)
        CU_ASSERT_FATAL(wait_view(&c, i, "g1", n) == 0);
    /* Everyone starts sending at once: concurrent senders. */
    for (size_t i = 0; i < n; i++)
        CU_ASSERT(cl_ctl(&c, i, send) == 0);
    char first[64] = "", line[CL_LINE], f[64];
    for (size_t i = 0; i < n; i++) {
        CU_ASSERT_FATAL(cl_wait(&c, i, "DONE g1 ", NULL, line, WAIT_MS) ==
                        0);
        cl_field(line, 3, f, sizeof f);
        if (first[0] == '\0')
            snprintf(first, sizeof first, "%s", f);
        CU_ASSERT_STRING_EQUAL(f, first);
    }
    CU_ASSERT(cl_check(&c) == 0);
    cl_fini(&c);
}

static void test_three(void)
{
    traffic(3, 1000, NULL);
}

static void test_five(void)
{
    traffic(5, 400, NULL);
}

static void test_seven(void)
{
    traffic(7, 150, NULL);
}

static void test_faults(void)
{
    traffic(3, 400, "drop=0.05,dup=0.05,reorder=0.05,delay=0-3,seed=7");
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite_with_setup_and_teardown(
        "gcs_order", NULL, NULL, NULL, cl_teardown);
    if (s == NULL ||
        !CU_add_test(s, "3 members, concurrent senders", test_three) ||
        !CU_add_test(s, "5 members, concurrent senders", test_five) ||
        !CU_add_test(s, "7 members, concurrent senders", test_seven) ||
        !CU_add_test(s, "loss, duplication, delay, reordering",
                     test_faults)) {
        CU_cleanup_registry();
        return 1;
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
