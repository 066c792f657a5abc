/*
 * test_ft_stateless.c - a STATELESS object group across processes: three
 * ft_member processes serve the same servant, the group's reference comes
 * from the group registry, and two client threads call through it while
 * the member serving them is killed with SIGKILL, then the next one.
 * Every call must return normally with the right result: the application
 * never sees a failure.
 *
 * The test waits for events only (lines from the members, counts of
 * completed calls); a deadline guards every wait.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <CUnit/Basic.h>

#include <phx/ft.h>
#include <phx/phx.h>

#include "tests/ft/gen/ft_test.h"
#include "tests/integration/harness.h"

#define MEMBERS 3
#define THREADS 2
#define CALLS_PER_PHASE 300
#define DEADLINE_MS 60000

static hproc_t procs[MEMBERS];
static bool alive[MEMBERS];
static phx_object_t *plain[MEMBERS];

/* What the client threads share. */
static phx_object_t *group;
static atomic_bool stop;
static atomic_long calls_done;
static atomic_long failures;
static atomic_llong next_value;
static atomic_llong worst_us;
static char first_failure[256];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t progress = PTHREAD_COND_INITIALIZER;

static long long now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void *caller(void *arg)
{
    (void)arg;
    phx_env_t env = PHX_ENV_INIT;
    while (!atomic_load(&stop)) {
        int64_t v = atomic_fetch_add(&next_value, 1), r = -1;
        long long t0 = now_us();
        int rc = phxtest_Member_echo(group, v, &r, &env);
        long long dt = now_us() - t0;
        if (rc != PHX_OK || r != v) {
            if (atomic_fetch_add(&failures, 1) == 0) {
                char buf[200];
                snprintf(first_failure, sizeof first_failure,
                         "echo(%lld) -> rc %d, r %lld: %s", (long long)v, rc,
                         (long long)r,
                         rc ? phx_env_describe(&env, buf, sizeof buf) : "");
            }
            phx_env_clear(&env);
        }
        long long w = atomic_load(&worst_us);
        while (dt > w && !atomic_compare_exchange_weak(&worst_us, &w, dt))
            ;
        pthread_mutex_lock(&lock);
        atomic_fetch_add(&calls_done, 1);
        pthread_cond_broadcast(&progress);
        pthread_mutex_unlock(&lock);
    }
    return NULL;
}

/* Wait until at least n calls have completed; false at the deadline. */
static bool wait_calls(long n, long long deadline_ms)
{
    bool ok = true;
    pthread_mutex_lock(&lock);
    while (atomic_load(&calls_done) < n) {
        long long left = deadline_ms - h_now_ms();
        if (left <= 0) {
            ok = false;
            break;
        }
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        long long add = left < 1000 ? left : 1000;
        ts.tv_sec += add / 1000;
        ts.tv_nsec += (add % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&progress, &lock, &ts);
    }
    pthread_mutex_unlock(&lock);
    return ok;
}

/* The live member that executed the most calls: the one serving. */
static int serving_member(void)
{
    int best = -1;
    int64_t most = -1;
    for (int i = 0; i < MEMBERS; i++) {
        if (!alive[i])
            continue;
        int64_t n = -1;
        phx_env_t env = PHX_ENV_INIT;
        if (phxtest_Member_executed(plain[i], &n, &env) != PHX_OK)
            phx_env_clear(&env);
        if (n > most) {
            most = n;
            best = i;
        }
    }
    return best;
}

static void kill_member(int i)
{
    printf("\n    killing member %d (pid %d) with SIGKILL after %ld calls",
           i, (int)procs[i].pid, atomic_load(&calls_done));
    fflush(stdout);
    h_kill(&procs[i], SIGKILL, 5000);
    alive[i] = false;
}

static void run_group(bool spread)
{
    long long deadline = h_now_ms() + DEADLINE_MS;
    atomic_store(&stop, false);
    atomic_store(&calls_done, 0);
    atomic_store(&failures, 0);
    atomic_store(&worst_us, 0);
    char line[8192];
    phx_ior_t iors[MEMBERS];
    for (int i = 0; i < MEMBERS; i++) {
        char *argv[] = {(char *)h_prog("tests/ft/ft_member"), NULL};
        CU_ASSERT_EQUAL_FATAL(h_spawn(&procs[i], argv), 0);
        alive[i] = true;
        CU_ASSERT_FATAL(h_read_line(&procs[i], line, sizeof line, 10000) >
                        0);
        CU_ASSERT_FATAL(strncmp(line, "IOR ", 4) == 0);
        CU_ASSERT_EQUAL_FATAL(phx_ior_from_string(line + 4, &iors[i], NULL),
                              PHX_OK);
    }

    /* The group, as a replica manager would make it. */
    phx_ft_registry_t *reg;
    phx_error_t err;
    CU_ASSERT_EQUAL_FATAL(phx_ft_registry_create("phalanx-test", &reg, &err),
                          PHX_OK);
    uint64_t gid;
    CU_ASSERT_EQUAL_FATAL(phx_ft_registry_create_group(
                              reg, phxtest_Member__repo_id, &gid, &err),
                          PHX_OK);
    for (int i = 0; i < MEMBERS; i++) {
        char loc[32];
        snprintf(loc, sizeof loc, "member-%d", i);
        CU_ASSERT_EQUAL_FATAL(phx_ft_registry_add_member(reg, gid, loc,
                                                         &iors[i], &err),
                              PHX_OK);
    }
    phx_ior_t iogr;
    uint32_t version;
    CU_ASSERT_EQUAL_FATAL(phx_ft_registry_get_iogr(reg, gid, &iogr,
                                                   &version),
                          PHX_OK);
    CU_ASSERT_EQUAL(version, 1 + MEMBERS);
    char *iogr_str;
    CU_ASSERT_EQUAL_FATAL(phx_ior_to_string(&iogr, &iogr_str), PHX_OK);

    phx_orb_config_t cfg;
    phx_orb_config_init(&cfg);
    cfg.call_timeout_ms = 10000;
    cfg.connect_timeout_ms = 1000;
    cfg.max_forwards = 64;
    phx_orb_t *orb;
    CU_ASSERT_EQUAL_FATAL(phx_orb_create(&cfg, &orb, &err), PHX_OK);
    phx_ft_client_config_t fcfg;
    phx_ft_client_config_init(&fcfg);
    fcfg.spread = spread;
    phx_ft_client_t *ft;
    CU_ASSERT_EQUAL_FATAL(phx_ft_client_install(orb, &fcfg, &ft, &err),
                          PHX_OK);

    /* Tell every member its group (plain calls, no FT contexts). */
    for (int i = 0; i < MEMBERS; i++) {
        phx_env_t env = PHX_ENV_INIT;
        CU_ASSERT_EQUAL_FATAL(phx_object_from_ior(orb, &iors[i], &plain[i],
                                                  &err),
                              PHX_OK);
        CU_ASSERT_EQUAL(phxtest_Member_set_group(plain[i], iogr_str, &env),
                        PHX_OK);
        int32_t pid = 0;
        CU_ASSERT_EQUAL(phxtest_Member_pid(plain[i], &pid, &env), PHX_OK);
        CU_ASSERT_EQUAL(pid, (int32_t)procs[i].pid);
    }
    CU_ASSERT_EQUAL_FATAL(phx_object_from_ior(orb, &iogr, &group, &err),
                          PHX_OK);

    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++)
        CU_ASSERT_EQUAL_FATAL(pthread_create(&th[i], NULL, caller, NULL), 0);

    /* Kill the member serving the calls, then the next one, each after a
     * phase of calls; the last phase runs on the last member. */
    long target = CALLS_PER_PHASE;
    bool on_time = true;
    for (int k = 0; k < MEMBERS - 1 && on_time; k++) {
        on_time = wait_calls(target, deadline);
        if (!on_time)
            break;
        if (spread && k == 0) {
            /* Every member has had its share. */
            for (int i = 0; i < MEMBERS; i++) {
                int64_t n = 0;
                phx_env_t env = PHX_ENV_INIT;
                CU_ASSERT_EQUAL(phxtest_Member_executed(plain[i], &n, &env),
                                PHX_OK);
                CU_ASSERT(n >= CALLS_PER_PHASE / MEMBERS / 2);
            }
        }
        int victim = serving_member();
        CU_ASSERT_FATAL(victim >= 0);
        kill_member(victim);
        target = atomic_load(&calls_done) + CALLS_PER_PHASE;
    }
    if (on_time)
        on_time = wait_calls(target, deadline);
    atomic_store(&stop, true);
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    printf("\n    %ld calls, %ld failed, slowest %.1f ms", 
           atomic_load(&calls_done), atomic_load(&failures),
           atomic_load(&worst_us) / 1000.0);

    CU_ASSERT(on_time);
    CU_ASSERT_EQUAL(atomic_load(&failures), 0);
    if (atomic_load(&failures))
        printf("\n    first failure: %s", first_failure);
    CU_ASSERT(atomic_load(&calls_done) >= MEMBERS * CALLS_PER_PHASE);
    int last = serving_member();
    CU_ASSERT(last >= 0);
    if (last >= 0) {
        int64_t n = 0;
        phx_env_t env = PHX_ENV_INIT;
        CU_ASSERT_EQUAL(phxtest_Member_executed(plain[last], &n, &env),
                        PHX_OK);
        CU_ASSERT(n >= CALLS_PER_PHASE);
    }
    phx_ft_client_stats_t st;
    phx_ft_client_get_stats(ft, &st);
    printf(", %llu re-invocations\n", (unsigned long long)st.reinvocations);
    CU_ASSERT(st.reinvocations >= MEMBERS - 1);
    CU_ASSERT_EQUAL(st.expired, 0);

    phx_object_release(group);
    for (int i = 0; i < MEMBERS; i++)
        phx_object_release(plain[i]);
    phx_orb_destroy(orb);
    phx_ft_client_destroy(ft);
    for (int i = 0; i < MEMBERS; i++) {
        if (alive[i])
            CU_ASSERT_EQUAL(h_kill(&procs[i], SIGTERM, 5000), 0);
        phx_ior_fini(&iors[i]);
    }
    free(iogr_str);
    phx_ior_fini(&iogr);
    phx_ft_registry_destroy(reg);
}

/* Calls stay on the member that answered last until it dies. */
static void test_stateless_group(void)
{
    run_group(false);
}

/* Calls are spread over the members, so every kill hits calls in flight
 * and new calls keep trying the dead member's profile first. */
static void test_stateless_group_spread(void)
{
    run_group(true);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("ft-stateless", NULL, NULL);
    if (s == NULL ||
        !CU_add_test(s, "stateless group survives SIGKILL of members",
                     test_stateless_group) ||
        !CU_add_test(s, "same, with calls spread over the members",
                     test_stateless_group_spread)) {
        CU_cleanup_registry();
        return 1;
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures();
    CU_cleanup_registry();
    /* Whatever happened, no member outlives the test. */
    for (int i = 0; i < MEMBERS; i++)
        if (alive[i] && procs[i].pid > 0)
            h_kill(&procs[i], SIGKILL, 5000);
    return failed ? 1 : 0;
}
