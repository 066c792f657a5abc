/*
 * test_ft_semi.c - consistent non-determinism and SEMI_ACTIVE across
 * processes (tests/ft/semi_member on loopback; every wait is for an event
 * under a deadline; processes are killed by PID):
 *
 *  1. SEMI_ACTIVE, 3 members: sequential calls of add, gnow, grand and
 *     ginput, then 4 concurrent clients of add(1) while the leader is
 *     SIGKILLed and a replacement joins (state transfer).  Every call
 *     returns, the totals returned are exactly the expected range (each
 *     acknowledged request applied once), group time keeps increasing
 *     across the fail-over, ginput's bytes come from the leader of the
 *     moment, the members end with identical digests, and the divergence
 *     detector (reply digests, state digests every 5 requests) stays
 *     silent.
 *  2. A multithreaded servant (work(): phx_ft_mutex, a condition variable
 *     with timed waits, random delays) on 3 members with 4 ORB workers:
 *     identical digests; and 4 workers give clearly more throughput than
 *     1 when requests sleep outside the mutex.
 *  3. gnow strictly increasing across a SIGKILL under ACTIVE and
 *     WARM_PASSIVE too, survivors identical.
 *  4. The divergence detector catches a planted non-determinism (bad():
 *     raw clock in the reply): both followers report DIVERGED.
 *  5. COLD_PASSIVE: the member that takes over replays the log of gnow
 *     and grand with the logged group time and seed: same replies.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <CUnit/Basic.h>

#include <phx/ft.h>
#include <phx/phx.h>

#include "tests/ft/gen/ft_test.h"

#include "tests/ft/semi_group.h"

static int64_t call_gnow(grp_t *g, int *fail)
{
    phx_env_t env = PHX_ENV_INIT;
    int64_t t = -1;
    if (phxtest_Member_gnow(g->group, &t, &env) != PHX_OK) {
        char d[256];
        phx_env_describe(&env, d, sizeof d);
        printf("\n    gnow failed: %s", d);
        phx_env_clear(&env);
        (*fail)++;
    }
    return t;
}

/* ------------------------------------------------------------------ */
/* 1. SEMI_ACTIVE: fail-over, concurrency, state transfer               */
/* ------------------------------------------------------------------ */

#define CLIENTS 4
#define PER_CLIENT 40

typedef struct shared {
    grp_t *g;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    long done;
    bool killed;
    bool spare_ready;
    int failures;
    int64_t got[CLIENTS * PER_CLIENT];
    int n_got;
} shared_t;

static void *client_main(void *arg)
{
    shared_t *s = arg;
    for (int i = 0; i < PER_CLIENT; i++) {
        phx_env_t env = PHX_ENV_INIT;
        int64_t v = -1;
        int rc = phxtest_Member_add(s->g->group, 1, &v, &env);
        if (rc != PHX_OK) {
            char d[256];
            phx_env_describe(&env, d, sizeof d);
            printf("\n    add failed: %s", d);
            phx_env_clear(&env);
        }
        pthread_mutex_lock(&s->lock);
        if (rc != PHX_OK)
            s->failures++;
        else
            s->got[s->n_got++] = v;
        s->done++;
        pthread_cond_broadcast(&s->cond);
        pthread_mutex_unlock(&s->lock);
    }
    return NULL;
}

static void *killer_main(void *arg)
{
    shared_t *s = arg;
    grp_t *g = s->g;
    pthread_mutex_lock(&s->lock);
    while (s->done < CLIENTS * PER_CLIENT / 3)
        pthread_cond_wait(&s->cond, &s->lock);
    pthread_mutex_unlock(&s->lock);
    printf("\n    killing the leader (pid %d) with SIGKILL",
           (int)g->procs[0].pid);
    h_kill(&g->procs[0], SIGKILL, 5000);
    g->alive[0] = false;
    s->killed = true;
    /* A replacement joins through a survivor. */
    if (spawn(g, 3, "semi", "semi", 3, g->gcs[1], "4", false) == 0) {
        long long dl = h_now_ms() + START_MS;
        char gcs[512];
        s->spare_ready = wait_line(g, 3, "GCS ", gcs, sizeof gcs, dl) &&
                         wait_line(g, 3, "READY ", g->ior[3],
                                   sizeof g->ior[3], dl);
    }
    return NULL;
}

static void test_semi_failover(void)
{
    static grp_t g;
    CU_ASSERT_FATAL(start_group(&g, "semi", "semi", 3, "4", false));
    phx_env_t env = PHX_ENV_INIT;
    int fail = 0;
    int64_t last_t = 0, expected_total = 0;
    int nonmono = 0;
    /* (pid() is not called through the group: it is non-deterministic,
     * the divergence detector would rightly report it.) */
    /* Sequential mix. */
    for (int i = 0; i < 40; i++) {
        int64_t v = -1;
        switch (i % 4) {
        case 0:
            if (phxtest_Member_add(g.group, 1, &v, &env) != PHX_OK) {
                fail++;
                phx_env_clear(&env);
            } else {
                expected_total++;
                CU_ASSERT_EQUAL(v, expected_total);
            }
            break;
        case 1: {
            int64_t t = call_gnow(&g, &fail);
            if (t <= last_t)
                nonmono++;
            last_t = t;
            break;
        }
        case 2:
            if (phxtest_Member_grand(g.group, &v, &env) != PHX_OK) {
                fail++;
                phx_env_clear(&env);
            }
            break;
        case 3:
            if (phxtest_Member_ginput(g.group, &v, &env) != PHX_OK) {
                fail++;
                phx_env_clear(&env);
            } else {
                CU_ASSERT_EQUAL((pid_t)(v >> 32), g.procs[0].pid);
            }
            break;
        }
    }
    CU_ASSERT_EQUAL(fail, 0);
    CU_ASSERT_EQUAL(nonmono, 0);
    /* Followers replayed the same times, seeds and inputs. */
    CU_ASSERT(settled_digest(&g, NULL) != -1);

    /* Concurrent clients, leader killed, replacement joins. */
    static shared_t s;
    memset(&s, 0, sizeof s);
    s.g = &g;
    pthread_mutex_init(&s.lock, NULL);
    pthread_cond_init(&s.cond, NULL);
    pthread_t th[CLIENTS], kth;
    pthread_create(&kth, NULL, killer_main, &s);
    for (int i = 0; i < CLIENTS; i++)
        pthread_create(&th[i], NULL, client_main, &s);
    for (int i = 0; i < CLIENTS; i++)
        pthread_join(th[i], NULL);
    pthread_join(kth, NULL);
    printf("\n    %d concurrent calls, %d failed", s.n_got + s.failures,
           s.failures);
    CU_ASSERT(s.killed);
    CU_ASSERT_EQUAL(s.failures, 0);
    /* Exactly the range expected_total+1 .. expected_total+N. */
    int n = CLIENTS * PER_CLIENT;
    static bool seen[CLIENTS * PER_CLIENT];
    memset(seen, 0, sizeof seen);
    int wrong = 0;
    for (int i = 0; i < s.n_got; i++) {
        int64_t k = s.got[i] - expected_total - 1;
        if (k < 0 || k >= n || seen[k])
            wrong++;
        else
            seen[k] = true;
    }
    CU_ASSERT_EQUAL(wrong, 0);
    expected_total += n;

    /* Group time and input after the fail-over. */
    int64_t t = call_gnow(&g, &fail);
    CU_ASSERT(t > last_t);
    last_t = t;
    int64_t v = -1;
    CU_ASSERT_EQUAL(phxtest_Member_ginput(g.group, &v, &env), PHX_OK);
    phx_env_clear(&env);
    CU_ASSERT((pid_t)(v >> 32) == g.procs[1].pid ||
              (pid_t)(v >> 32) == g.procs[2].pid);
    CU_ASSERT_EQUAL(phxtest_Member_add(g.group, 0, &v, &env), PHX_OK);
    CU_ASSERT_EQUAL(v, expected_total);
    for (int i = 0; i < 10; i++) {
        t = call_gnow(&g, &fail);
        CU_ASSERT(t > last_t);
        last_t = t;
    }
    CU_ASSERT_EQUAL(fail, 0);

    /* Survivors and the replacement identical. */
    CU_ASSERT(s.spare_ready);
    if (s.spare_ready) {
        phx_error_t err;
        CU_ASSERT_EQUAL(phx_object_from_string(g.orb, g.ior[3], &g.plain[3],
                                               &err),
                        PHX_OK);
        g.n = 4;
    }
    CU_ASSERT(settled_digest(&g, NULL) != -1);
    drain(&g, 300);
    for (int i = 0; i < g.n; i++)
        CU_ASSERT_EQUAL(g.diverged[i], 0);
    stop_group(&g);
    pthread_mutex_destroy(&s.lock);
    pthread_cond_destroy(&s.cond);
}

/* ------------------------------------------------------------------ */
/* 2. Multithreaded servant                                             */
/* ------------------------------------------------------------------ */

#define MT_CLIENTS 4
#define MT_CALLS 12
#define MT_SLEEP 20

typedef struct mtarg {
    grp_t *g;
    int failures;
} mtarg_t;

static void *mt_client(void *arg)
{
    mtarg_t *a = arg;
    for (int i = 0; i < MT_CALLS; i++) {
        phx_env_t env = PHX_ENV_INIT;
        int64_t v;
        if (phxtest_Member_work(a->g->group, MT_SLEEP, &v, &env) != PHX_OK) {
            char d[256];
            phx_env_describe(&env, d, sizeof d);
            printf("\n    work failed: %s", d);
            phx_env_clear(&env);
            a->failures++;
        }
    }
    return NULL;
}

static long long run_load(grp_t *g, int *failures)
{
    pthread_t th[MT_CLIENTS];
    mtarg_t a[MT_CLIENTS];
    long long t0 = h_now_ms();
    for (int i = 0; i < MT_CLIENTS; i++) {
        a[i] = (mtarg_t){g, 0};
        pthread_create(&th[i], NULL, mt_client, &a[i]);
    }
    for (int i = 0; i < MT_CLIENTS; i++) {
        pthread_join(th[i], NULL);
        *failures += a[i].failures;
    }
    return h_now_ms() - t0;
}

static void test_semi_multithreaded(void)
{
    static grp_t g4, g1;
    CU_ASSERT_FATAL(start_group(&g4, "semi", "mt4", 3, "4", true));
    int failures = 0;
    /* Warm up the connections. */
    phx_env_t env = PHX_ENV_INIT;
    int64_t v;
    CU_ASSERT_EQUAL(phxtest_Member_work(g4.group, 0, &v, &env), PHX_OK);
    long long t4 = run_load(&g4, &failures);
    CU_ASSERT_EQUAL(failures, 0);
    int64_t d = settled_digest(&g4, NULL);
    CU_ASSERT(d != -1);
    CU_ASSERT_EQUAL(phxtest_Member_work(g4.group, 0, &v, &env), PHX_OK);
    CU_ASSERT_EQUAL(v, MT_CLIENTS * MT_CALLS + 2);
    drain(&g4, 300);
    for (int i = 0; i < g4.n; i++)
        CU_ASSERT_EQUAL(g4.diverged[i], 0);
    stop_group(&g4);

    CU_ASSERT_FATAL(start_group(&g1, "semi", "mt1", 1, "1", true));
    CU_ASSERT_EQUAL(phxtest_Member_work(g1.group, 0, &v, &env), PHX_OK);
    long long t1 = run_load(&g1, &failures);
    CU_ASSERT_EQUAL(failures, 0);
    stop_group(&g1);
    printf("\n    %d x %d work(%d ms): 4 workers %lld ms, 1 worker %lld ms",
           MT_CLIENTS, MT_CALLS, MT_SLEEP, t4, t1);
    CU_ASSERT(t1 * 10 > t4 * 18); /* at least 1.8x the throughput */
}

/* ------------------------------------------------------------------ */
/* 3. Group time across fail-over under ACTIVE and WARM_PASSIVE         */
/* ------------------------------------------------------------------ */

static void time_failover(const char *style)
{
    static grp_t g;
    CU_ASSERT_FATAL(start_group(&g, style, style, 3, "4", false));
    int fail = 0, nonmono = 0;
    int64_t last = 0;
    for (int i = 0; i < 45; i++) {
        if (i == 15) {
            printf("\n    %s: killing member 0 (pid %d)", style,
                   (int)g.procs[0].pid);
            h_kill(&g.procs[0], SIGKILL, 5000);
            g.alive[0] = false;
        }
        int64_t t = call_gnow(&g, &fail);
        if (t <= last)
            nonmono++;
        last = t;
    }
    /* Random numbers too. */
    phx_env_t env = PHX_ENV_INIT;
    int64_t v;
    CU_ASSERT_EQUAL(phxtest_Member_grand(g.group, &v, &env), PHX_OK);
    CU_ASSERT_EQUAL(fail, 0);
    CU_ASSERT_EQUAL(nonmono, 0);
    CU_ASSERT(settled_digest(&g, NULL) != -1);
    /* phx_ft_input is not available under ACTIVE. */
    if (strcmp(style, "active") == 0) {
        CU_ASSERT_NOT_EQUAL(phxtest_Member_ginput(g.group, &v, &env),
                            PHX_OK);
        phx_env_clear(&env);
    }
    stop_group(&g);
}

static void test_active_time(void)
{
    time_failover("active");
}

static void test_passive_time(void)
{
    time_failover("passive");
}

/* ------------------------------------------------------------------ */
/* 5. COLD_PASSIVE: a recovery replays the logged time and seed         */
/* ------------------------------------------------------------------ */

static void test_cold_replay(void)
{
    static grp_t g;
    memset(&g, 0, sizeof g);
    char dir[] = "/tmp/phx-nd-cold-XXXXXX";
    CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
    g.n = 2;
    long long deadline = h_now_ms() + START_MS;
    for (int i = 0; i < 2; i++) {
        /* No checkpoint during the test: the recovery replays the log. */
        char *argv[] = {(char *)h_prog("tests/ft/cold_member"), "--dir", dir,
                        "--every", "100000", "--interval", "600000", NULL};
        CU_ASSERT_EQUAL_FATAL(h_spawn(&g.procs[i], argv), 0);
        g.alive[i] = true;
        CU_ASSERT_FATAL(wait_line(&g, i, "READY ", g.ior[i],
                                  sizeof g.ior[i], deadline));
        if (i == 0)
            CU_ASSERT_FATAL(wait_line(&g, 0, "PRIMARY", NULL, 0, deadline));
    }
    phx_error_t err;
    uint64_t gid;
    CU_ASSERT_FATAL(phx_ft_registry_create("phalanx-test", &g.reg, &err) ==
                    PHX_OK);
    CU_ASSERT_FATAL(phx_ft_registry_create_group(
                        g.reg, phxtest_Member__repo_id, &gid, &err) == PHX_OK);
    phx_orb_config_t cfg;
    phx_orb_config_init(&cfg);
    cfg.call_timeout_ms = 10000;
    cfg.connect_timeout_ms = 1000;
    CU_ASSERT_FATAL(phx_orb_create(&cfg, &g.orb, &err) == PHX_OK);
    phx_ft_client_config_t fcfg;
    phx_ft_client_config_init(&fcfg);
    fcfg.request_duration_ms = 30000;
    CU_ASSERT_FATAL(phx_ft_client_install(g.orb, &fcfg, &g.ft, &err) ==
                    PHX_OK);
    for (int i = 0; i < 2; i++) {
        phx_ior_t ior;
        char loc[32];
        snprintf(loc, sizeof loc, "cold-%d", i);
        CU_ASSERT_FATAL(phx_ior_from_string(g.ior[i], &ior, NULL) == PHX_OK);
        CU_ASSERT(phx_ft_registry_add_member(g.reg, gid, loc, &ior, &err) ==
                  PHX_OK);
        phx_ior_fini(&ior);
    }
    phx_ior_t iogr;
    uint32_t version;
    CU_ASSERT_FATAL(phx_ft_registry_get_iogr(g.reg, gid, &iogr, &version) ==
                    PHX_OK);
    CU_ASSERT_FATAL(phx_object_from_ior(g.orb, &iogr, &g.group, &err) ==
                    PHX_OK);
    phx_ior_fini(&iogr);
    int fail = 0, nonmono = 0;
    int64_t last = 0, v;
    phx_env_t env = PHX_ENV_INIT;
    for (int i = 0; i < 30; i++) {
        if (i == 20) {
            h_kill(&g.procs[0], SIGKILL, 5000);
            g.alive[0] = false;
        }
        if (i % 2 == 0) {
            int64_t t = call_gnow(&g, &fail);
            if (t <= last)
                nonmono++;
            last = t;
        } else if (phxtest_Member_grand(g.group, &v, &env) != PHX_OK) {
            fail++;
            phx_env_clear(&env);
        }
    }
    CU_ASSERT_EQUAL(fail, 0);
    CU_ASSERT_EQUAL(nonmono, 0);
    /* The survivor recovered by replaying the log: with the logged time
     * and seed every replayed reply equals the logged one (cold.c logs a
     * warning otherwise, which cold_member prints as a LOG line). */
    char line[8192];
    int replayed_other = 0;
    bool recovered = false;
    long long until = h_now_ms() + 500;
    while (h_now_ms() < until)
        while (h_read_line(&g.procs[1], line, sizeof line, 20) >= 0) {
            if (strstr(line, "another reply") != NULL)
                replayed_other++;
            if (strncmp(line, "PRIMARY", 7) == 0 &&
                strstr(line, "recovered=20") != NULL)
                recovered = true;
        }
    CU_ASSERT(recovered);
    CU_ASSERT_EQUAL(replayed_other, 0);
    stop_group(&g);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CU_ASSERT_EQUAL(system(cmd), 0);
}

/* ------------------------------------------------------------------ */
/* 4. Divergence detector                                               */
/* ------------------------------------------------------------------ */

static void test_divergence(void)
{
    static grp_t g;
    CU_ASSERT_FATAL(start_group(&g, "semi", "div", 3, "4", false));
    phx_env_t env = PHX_ENV_INIT;
    int64_t v;
    int fail = 0;
    for (int i = 0; i < 12; i++) {
        if (phxtest_Member_add(g.group, 1, &v, &env) != PHX_OK)
            fail++;
        call_gnow(&g, &fail);
        if (phxtest_Member_grand(g.group, &v, &env) != PHX_OK)
            fail++;
    }
    CU_ASSERT_EQUAL(fail, 0);
    CU_ASSERT(settled_digest(&g, NULL) != -1);
    drain(&g, 500);
    for (int i = 0; i < 3; i++)
        CU_ASSERT_EQUAL(g.diverged[i], 0); /* silent on a correct servant */
    for (int i = 0; i < 3; i++)
        CU_ASSERT_EQUAL(phxtest_Member_bad(g.group, &v, &env), PHX_OK);
    /* Both followers report it. */
    long long until = h_now_ms() + 5000;
    while (h_now_ms() < until && (g.diverged[1] == 0 || g.diverged[2] == 0))
        drain(&g, 50);
    CU_ASSERT(g.diverged[1] > 0);
    CU_ASSERT(g.diverged[2] > 0);
    CU_ASSERT_EQUAL(g.diverged[0], 0); /* the leader compares nothing */
    stop_group(&g);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("ft-semi", NULL, NULL);
    if (s == NULL ||
        !CU_add_test(s, "semi-active: exactly once, identical replicas, "
                        "group time across SIGKILL of the leader",
                     test_semi_failover) ||
        !CU_add_test(s, "semi-active: multithreaded servant",
                     test_semi_multithreaded) ||
        !CU_add_test(s, "active: group time across SIGKILL",
                     test_active_time) ||
        !CU_add_test(s, "warm passive: group time across SIGKILL",
                     test_passive_time) ||
        !CU_add_test(s, "semi-active: divergence detector",
                     test_divergence) ||
        !CU_add_test(s, "cold passive: recovery replays time and seed",
                     test_cold_replay)) {
        CU_cleanup_registry();
        return 1;
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
