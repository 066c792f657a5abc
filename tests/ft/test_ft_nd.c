/*
 * test_ft_nd.c - unit tests of the non-determinism primitives
 * (<phx/ft_nd.h>, ft/nd.c): the fall-through outside a replicated
 * invocation, FIXED contexts (ACTIVE, WARM_PASSIVE), and RECORD/REPLAY
 * (SEMI_ACTIVE): a follower replaying a leader's log sees the same times,
 * random numbers, inputs and timed-wait outcomes, takes mutexes in the
 * leader's order even when its threads start in another order, and a
 * replay that asks for something the log does not have is flagged.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include <phx/ft_nd.h>

static uint64_t ts_ns(const struct timespec *ts)
{
    return (uint64_t)ts->tv_sec * 1000000000ULL + (uint64_t)ts->tv_nsec;
}

static int calls;

static int input_fn(void *arg, uint8_t **data, size_t *len)
{
    (void)arg;
    calls++;
    *data = malloc(5);
    if (*data == NULL)
        return -1;
    memcpy(*data, "hello", 5);
    *len = 5;
    return 0;
}

static void test_outside(void)
{
    CU_ASSERT_FALSE(phx_ft_in_replicated());
    struct timespec a, b;
    CU_ASSERT_EQUAL(phx_ft_now(PHX_FT_CLOCK_REALTIME, &a), PHX_OK);
    clock_gettime(CLOCK_REALTIME, &b);
    CU_ASSERT(ts_ns(&b) >= ts_ns(&a));
    CU_ASSERT(ts_ns(&b) - ts_ns(&a) < 1000000000ULL);
    CU_ASSERT_EQUAL(phx_ft_now(PHX_FT_CLOCK_MONOTONIC, &a), PHX_OK);
    CU_ASSERT_EQUAL(phx_ft_now(7, &a), PHX_EINVAL);
    CU_ASSERT_NOT_EQUAL(phx_ft_random(), phx_ft_random());
    uint8_t *d;
    size_t n;
    calls = 0;
    CU_ASSERT_EQUAL(phx_ft_input(input_fn, NULL, &d, &n), 0);
    CU_ASSERT_EQUAL(calls, 1);
    CU_ASSERT_EQUAL(n, 5);
    free(d);
    phx_ft_mutex_t m;
    phx_ft_mutex_init(&m, NULL);
    CU_ASSERT_EQUAL(phx_ft_mutex_lock(&m), PHX_OK);
    CU_ASSERT_EQUAL(phx_ft_mutex_unlock(&m), PHX_OK);
    CU_ASSERT_EQUAL(m.acq, 0); /* nothing counted */
    phx_ft_mutex_destroy(&m);
}

static void test_group_time(void)
{
    CU_ASSERT_EQUAL(phx_ft_nd_group_time(5000, 1000), 5000);
    CU_ASSERT_EQUAL(phx_ft_nd_group_time(1000, 5000), 6000);
    CU_ASSERT_EQUAL(phx_ft_nd_group_time(5500, 5000), 6000);
    phx_ft_group_clock_t gc;
    uint64_t future = phx_ft_nd_wall_ns() + 3600ULL * 1000000000ULL;
    phx_ft_group_clock_init(&gc, future);
    uint64_t t1 = phx_ft_group_clock_next(&gc);
    uint64_t t2 = phx_ft_group_clock_next(&gc);
    CU_ASSERT_EQUAL(t1, future + 1000);
    CU_ASSERT_EQUAL(t2, future + 2000);
    phx_ft_group_clock_advance(&gc, 5); /* never back */
    CU_ASSERT_EQUAL(phx_ft_group_clock_last(&gc), t2);
    phx_ft_group_clock_fini(&gc);
}

static void test_fixed(void)
{
    uint64_t r1[3], r2[3];
    struct timespec ts;
    for (int k = 0; k < 2; k++) {
        phx_ft_nd_ctx_t c;
        phx_ft_nd_begin_fixed(&c, 1000000000ULL, 42, false);
        CU_ASSERT(phx_ft_in_replicated());
        uint64_t prev = 0;
        for (int i = 0; i < 3; i++) {
            phx_ft_now(i % 2 ? PHX_FT_CLOCK_MONOTONIC : PHX_FT_CLOCK_REALTIME,
                       &ts);
            CU_ASSERT(ts_ns(&ts) > prev);
            prev = ts_ns(&ts);
            (k ? r2 : r1)[i] = phx_ft_random();
        }
        CU_ASSERT_EQUAL(phx_ft_random_seed(), 42);
        CU_ASSERT_EQUAL(phx_ft_nd_last(&c), 1000000000ULL + 2000);
        uint8_t *d;
        size_t n;
        CU_ASSERT_EQUAL(phx_ft_input(input_fn, NULL, &d, &n),
                        PHX_EUNSUPPORTED);
        phx_ft_nd_end(&c);
        phx_ft_nd_ctx_fini(&c);
    }
    CU_ASSERT_FALSE(phx_ft_in_replicated());
    CU_ASSERT_EQUAL(memcmp(r1, r2, sizeof r1), 0);
    CU_ASSERT_NOT_EQUAL(r1[0], r1[1]);
}

/* One request: times, random, input, a lock and a timed wait that times
 * out; fills out[] with what it saw. */
static phx_ft_mutex_t rm;
static phx_ft_cond_t rc_;

static void request(uint64_t out[8])
{
    struct timespec ts;
    phx_ft_now(PHX_FT_CLOCK_REALTIME, &ts);
    out[0] = ts_ns(&ts);
    phx_ft_now(PHX_FT_CLOCK_REALTIME, &ts);
    out[1] = ts_ns(&ts);
    out[2] = phx_ft_random();
    uint8_t *d = NULL;
    size_t n = 0;
    out[3] = (uint64_t)phx_ft_input(input_fn, NULL, &d, &n);
    out[4] = n == 5 && memcmp(d, "hello", 5) == 0;
    free(d);
    phx_ft_mutex_lock(&rm);
    phx_ft_now(PHX_FT_CLOCK_REALTIME, &ts);
    ts.tv_nsec += 1000000;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    out[5] = (uint64_t)phx_ft_cond_timedwait(&rc_, &rm, &ts);
    phx_ft_mutex_unlock(&rm);
    out[6] = phx_ft_random_seed();
    phx_ft_now(PHX_FT_CLOCK_MONOTONIC, &ts);
    out[7] = ts_ns(&ts);
}

static void test_record_replay(void)
{
    phx_ft_mutex_init(&rm, "unit.rm");
    phx_ft_cond_init(&rc_);
    phx_ft_group_clock_t gc;
    phx_ft_group_clock_init(&gc, 0);
    phx_ft_nd_ctx_t c;
    uint64_t lead[8], fol[8];
    calls = 0;
    phx_ft_nd_begin_record(&c, &gc, 7);
    request(lead);
    phx_ft_nd_end(&c);
    CU_ASSERT_EQUAL(calls, 1);
    CU_ASSERT(lead[1] > lead[0]);
    CU_ASSERT(lead[7] > lead[1]);
    CU_ASSERT_EQUAL(lead[3], 0);
    CU_ASSERT_EQUAL(lead[4], 1);
    CU_ASSERT_EQUAL(lead[5], ETIMEDOUT);
    CU_ASSERT_EQUAL(lead[6], 7);
    CU_ASSERT_EQUAL(rm.acq, 2); /* lock + reacquisition after the wait */
    CU_ASSERT_EQUAL(phx_ft_nd_log_max_time(c.log, c.log_len), lead[7]);

    /* The follower: another mutex with the same name, counts from the
     * start (as a replica that has delivered nothing yet). */
    uint8_t *log = c.log;
    size_t log_len = c.log_len;
    c.log = NULL;
    phx_ft_nd_ctx_fini(&c);
    phx_ft_mutex_destroy(&rm);
    phx_ft_mutex_init(&rm, "unit.rm");
    calls = 0;
    phx_ft_nd_begin_replay(&c, log, log_len, 7);
    request(fol);
    phx_ft_nd_end(&c);
    CU_ASSERT_EQUAL(calls, 0); /* the input came from the log */
    CU_ASSERT_FALSE(c.diverged);
    CU_ASSERT_EQUAL(memcmp(lead, fol, sizeof lead), 0);
    CU_ASSERT_EQUAL(rm.acq, 2);

    /* A replay that asks for something else is flagged. */
    phx_ft_nd_begin_replay(&c, log, log_len, 7);
    CU_ASSERT_EQUAL(phx_ft_mutex_lock(&rm), PHX_OK); /* log says 'T' */
    phx_ft_mutex_unlock(&rm);
    phx_ft_nd_end(&c);
    CU_ASSERT(c.diverged);
    CU_ASSERT(strstr(c.why, "mutex") != NULL);
    free(log);
    phx_ft_cond_destroy(&rc_);
    phx_ft_mutex_destroy(&rm);
    phx_ft_group_clock_fini(&gc);
}

/* Lock ordering: three "requests" recorded in the order 0, 1, 2 append
 * their number to a list under the mutex; replayed in threads started in
 * the order 2, 1, 0 (with delays), the list comes out 0, 1, 2. */
static phx_ft_mutex_t om;
static int order[3], n_order;
static uint8_t *logs[3];
static size_t log_lens[3];

static void *replayer(void *arg)
{
    int i = (int)(intptr_t)arg;
    phx_ft_nd_ctx_t c;
    phx_ft_nd_begin_replay(&c, logs[i], log_lens[i], 0);
    phx_ft_mutex_lock(&om);
    order[n_order++] = i;
    phx_ft_mutex_unlock(&om);
    phx_ft_nd_end(&c);
    return NULL;
}

static void test_lock_order(void)
{
    phx_ft_mutex_init(&om, NULL);
    phx_ft_group_clock_t gc;
    phx_ft_group_clock_init(&gc, 0);
    for (int i = 0; i < 3; i++) {
        phx_ft_nd_ctx_t c;
        phx_ft_nd_begin_record(&c, &gc, 0);
        phx_ft_mutex_lock(&om);
        phx_ft_mutex_unlock(&om);
        phx_ft_nd_end(&c);
        CU_ASSERT_EQUAL(c.n_gs, 1);
        logs[i] = c.log;
        log_lens[i] = c.log_len;
        c.log = NULL;
        phx_ft_nd_ctx_fini(&c);
    }
    /* Back to a follower's counts. */
    uint8_t *counts;
    size_t n;
    CU_ASSERT_EQUAL(phx_ft_nd_mutex_counts(&counts, &n), PHX_OK);
    CU_ASSERT(n >= 16);
    free(counts);
    om.acq = 0;
    pthread_t th[3];
    for (int i = 2; i >= 0; i--) {
        pthread_create(&th[i], NULL, replayer, (void *)(intptr_t)i);
        usleep(20000);
    }
    for (int i = 0; i < 3; i++)
        pthread_join(th[i], NULL);
    CU_ASSERT_EQUAL(n_order, 3);
    CU_ASSERT(order[0] == 0 && order[1] == 1 && order[2] == 2);
    for (int i = 0; i < 3; i++)
        free(logs[i]);
    phx_ft_mutex_destroy(&om);
    phx_ft_group_clock_fini(&gc);
}

static void test_mutex_counts(void)
{
    phx_ft_mutex_t a;
    phx_ft_mutex_init(&a, "unit.counts");
    a.acq = 9;
    uint8_t *buf;
    size_t n;
    CU_ASSERT_EQUAL(phx_ft_nd_mutex_counts(&buf, &n), PHX_OK);
    a.acq = 0;
    CU_ASSERT_EQUAL(phx_ft_nd_set_mutex_counts(buf, n), PHX_OK);
    CU_ASSERT_EQUAL(a.acq, 9);
    phx_ft_mutex_destroy(&a);
    /* A count for a mutex created later is applied at its creation. */
    CU_ASSERT_EQUAL(phx_ft_nd_set_mutex_counts(buf, n), PHX_OK);
    phx_ft_mutex_init(&a, "unit.counts");
    CU_ASSERT_EQUAL(a.acq, 9);
    phx_ft_mutex_destroy(&a);
    free(buf);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("ft-nd", NULL, NULL);
    if (s == NULL ||
        !CU_add_test(s, "outside a replicated invocation", test_outside) ||
        !CU_add_test(s, "group time", test_group_time) ||
        !CU_add_test(s, "fixed context (ACTIVE, WARM_PASSIVE)", test_fixed) ||
        !CU_add_test(s, "record and replay", test_record_replay) ||
        !CU_add_test(s, "replayed lock order", test_lock_order) ||
        !CU_add_test(s, "mutex counts for state transfer",
                     test_mutex_counts)) {
        CU_cleanup_registry();
        return 1;
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
