/*
 * test_gcs_crash.c - multi-process crash tests of the GCS: kill -9 of the
 * sequencer (the oldest member) and of a follower in the middle of
 * traffic.  The survivors must install a new view without the victim,
 * agree on every message delivered before it (same count and digest at a
 * sync marker multicast afterwards), and the checker must find that
 * nothing the victim applied is missing at a survivor (uniform delivery)
 * and that the survivors left the old view together (virtual synchrony).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "tests/gcs/procs.h"

#define WAIT_MS 60000

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

/* n members send per messages each at rate/s; member victim is killed
 * once member watch has applied kill_at messages. */
static void crash(size_t n, size_t victim, size_t watch, unsigned per,
                  const char *rate, const char *kill_at)
{
    cluster_t c;
    CU_ASSERT_FATAL(cl_init(&c, "crash") == 0);
    char send[32];
    snprintf(send, sizeof send, "send %u", per);
    const char *extra[] = {"--group", "g1", "--rate", rate, "--progress",
                           kill_at, "--timeout", "3000", NULL};
    for (size_t i = 0; i < n; i++)
        CU_ASSERT_FATAL(cl_start(&c, i, extra) == 0);
    for (size_t i = 0; i < n; i++)
        CU_ASSERT_FATAL(wait_view(&c, i, "g1", n) == 0);
    cl_mark(&c);
    for (size_t i = 0; i < n; i++)
        CU_ASSERT(cl_ctl(&c, i, send) == 0);
    /* Mid-traffic: the first progress mark. */
    CU_ASSERT_FATAL(cl_wait(&c, watch, "PROGRESS g1 ", NULL, NULL,
                            WAIT_MS) == 0);
    cl_kill(&c, victim, SIGKILL);
    for (size_t i = 0; i < n; i++)
        if (i != victim)
            CU_ASSERT_FATAL(wait_view(&c, i, "g1", n - 1) == 0);
    /* The survivors finish sending; then one sync marker settles it. */
    for (size_t i = 0; i < n; i++)
        if (i != victim)
            CU_ASSERT_FATAL(cl_wait(&c, i, "SENT g1 ", NULL, NULL,
                                    WAIT_MS) == 0);
    size_t first = victim == 0 ? 1 : 0;
    CU_ASSERT(cl_ctl(&c, first, "sync end") == 0);
    char ref[CL_LINE] = "", line[CL_LINE], f[64];
    for (size_t i = 0; i < n; i++) {
        if (i == victim)
            continue;
        CU_ASSERT_FATAL(cl_wait(&c, i, "SYNC g1 end ", NULL, line,
                                WAIT_MS) == 0);
        /* count and digest */
        char cd[128];
        snprintf(cd, sizeof cd, "%s ", cl_field(line, 3, f, sizeof f));
        strncat(cd, cl_field(line, 4, f, sizeof f), sizeof cd - strlen(cd) - 1);
        if (ref[0] == '\0')
            snprintf(ref, sizeof ref, "%s", cd);
        CU_ASSERT_STRING_EQUAL(cd, ref);
    }
    CU_ASSERT(cl_check(&c) == 0);
    cl_fini(&c);
}

static void test_kill_sequencer(void)
{
    crash(3, 0, 1, 1500, "800", "400");
}

static void test_kill_follower(void)
{
    crash(4, 2, 0, 1000, "600", "500");
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite_with_setup_and_teardown("gcs_crash", NULL, NULL, NULL, cl_teardown);
    if (s == NULL ||
        !CU_add_test(s, "kill -9 of the sequencer mid-traffic",
                     test_kill_sequencer) ||
        !CU_add_test(s, "kill -9 of a follower mid-traffic",
                     test_kill_follower)) {
        CU_cleanup_registry();
        return 1;
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
