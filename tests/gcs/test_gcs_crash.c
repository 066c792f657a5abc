/*
 * test_gcs_crash.c - multi-process crash tests of the GCS: kill -9 of the
 * sequencer (the oldest member) and of a follower in the middle of
 * traffic.  The survivors must install a new view without the victim,
 * agree on every message delivered before it (same count and digest at a
 * sync marker multicast afterwards), and the checker must find that
 * nothing the victim applied is missing at a survivor (uniform delivery)
 * and that the survivors left the old view together (virtual synchrony).
 * Also two members at once (the sequencer and a follower, 3 of 5 left),
 * and the sequencer with loss, duplication, delay and reordering injected
 * into every member's transport, flush included.
 */
#include <signal.h>
#include <stdint.h>
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

/* n members send per messages each at rate/s; member victim (and
 * victim2, unless it is SIZE_MAX) is killed once member watch has applied
 * kill_at messages. */
static void crash2(size_t n, size_t victim, size_t victim2, size_t watch,
                   unsigned per, const char *rate, const char *kill_at,
                   const char *faults)
{
    cluster_t c;
    CU_ASSERT_FATAL(cl_init(&c, "crash") == 0);
    char send[32];
    snprintf(send, sizeof send, "send %u", per);
    const char *extra[] = {"--group", "g1", "--rate", rate, "--progress",
                           kill_at, "--timeout", "3000",
                           faults ? "--faults" : NULL, faults, NULL};
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
    size_t gone = 1;
    if (victim2 != SIZE_MAX) {
        cl_kill(&c, victim2, SIGKILL);
        gone = 2;
    }
#define VICTIM(i) ((i) == victim || (i) == victim2)
    for (size_t i = 0; i < n; i++)
        if (!VICTIM(i))
            CU_ASSERT_FATAL(wait_view(&c, i, "g1", n - gone) == 0);
    /* The survivors finish sending; then one sync marker settles it. */
    for (size_t i = 0; i < n; i++)
        if (!VICTIM(i))
            CU_ASSERT_FATAL(cl_wait(&c, i, "SENT g1 ", NULL, NULL,
                                    WAIT_MS) == 0);
    size_t first = 0;
    while (VICTIM(first))
        first++;
    CU_ASSERT(cl_ctl(&c, first, "sync end") == 0);
    char ref[CL_LINE] = "", line[CL_LINE], f[64];
    for (size_t i = 0; i < n; i++) {
        if (VICTIM(i))
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
#undef VICTIM
}

static void crash(size_t n, size_t victim, size_t watch, unsigned per,
                  const char *rate, const char *kill_at, const char *faults)
{
    crash2(n, victim, SIZE_MAX, watch, per, rate, kill_at, faults);
}

static void test_kill_sequencer(void)
{
    crash(3, 0, 1, 1500, "800", "400", NULL);
}

static void test_kill_follower(void)
{
    crash(4, 2, 0, 1000, "600", "500", NULL);
}

/* Two at once, the sequencer among them: 3 of 5 remain, a majority. */
static void test_kill_two(void)
{
    crash2(5, 0, 3, 1, 500, "400", "300", NULL);
}

/* The flush itself under loss, duplication, delay and reordering. */
static void test_kill_sequencer_faults(void)
{
    crash(4, 0, 1, 800, "600", "400",
          "drop=0.03,dup=0.03,reorder=0.03,delay=0-2,seed=11");
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite_with_setup_and_teardown(
        "gcs_crash", NULL, NULL, NULL, cl_teardown);
    if (s == NULL ||
        !CU_add_test(s, "kill -9 of the sequencer mid-traffic",
                     test_kill_sequencer) ||
        !CU_add_test(s, "kill -9 of a follower mid-traffic",
                     test_kill_follower) ||
        !CU_add_test(s, "kill -9 of the sequencer and a follower at once",
                     test_kill_two) ||
        !CU_add_test(s, "kill -9 of the sequencer under injected faults",
                     test_kill_sequencer_faults)) {
        CU_cleanup_registry();
        return 1;
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
