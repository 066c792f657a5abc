/*
 * test_ft_nested.c - nested invocations from replicated servants
 * (phx_ft_call, <phx/ft_nd.h>) across processes (tests/ft/semi_member on
 * loopback; every wait is for an event under a deadline; processes are
 * killed by PID).  A callee group (2 ACTIVE members of phxtest::Member)
 * counts its executions of add(); a caller group of 3 calls it through
 * relay(iogr, v) -> phx_ft_call(add(v)):
 *
 *  1. SEMI_ACTIVE caller: only the leader calls, the followers replay the
 *     recorded reply: the callee executed exactly N times, the replies
 *     are 1..N, then 5 nested calls raising a user exception (followers
 *     replay the recorded exception), the caller replicas have identical digests (the replies
 *     are folded in) and no divergence is reported.
 *  2. ACTIVE caller: every replica calls with the same deterministic
 *     identity; the callee's reply cache answers the duplicates: the
 *     callee executed exactly N times, replicas identical.
 *  3. SEMI_ACTIVE caller, leader SIGKILLed during concurrent relays: every
 *     call is acknowledged, the replies are exactly 1..N (nothing twice),
 *     the callee executed exactly N times.
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

/* ------------------------------------------------------------------ */
/* Nested calls                                                         */
/* ------------------------------------------------------------------ */

/* executed() of every callee member equals n. */
static bool callee_executed(grp_t *callee, int64_t n)
{
    long long until = h_now_ms() + 10000;
    bool ok;
    do {
        ok = true;
        for (int i = 0; i < callee->n; i++) {
            if (!callee->alive[i])
                continue;
            phx_env_t env = PHX_ENV_INIT;
            int64_t e = -1;
            if (phxtest_Member_executed(callee->plain[i], &e, &env) !=
                PHX_OK) {
                phx_env_clear(&env);
                ok = false;
            } else if (e != n) {
                ok = false;
            }
        }
        if (ok)
            return true;
        sleep_ms(20);
    } while (h_now_ms() < until);
    for (int i = 0; i < callee->n; i++) {
        phx_env_t env = PHX_ENV_INIT;
        int64_t e = -1;
        phxtest_Member_executed(callee->plain[i], &e, &env);
        phx_env_clear(&env);
        printf("\n    callee member %d executed %lld (want %lld)", i,
               (long long)e, (long long)n);
    }
    return false;
}

static int64_t relay(grp_t *caller, const char *iogr, int64_t v)
{
    phx_env_t env = PHX_ENV_INIT;
    int64_t r = -1;
    if (phxtest_Member_relay(caller->group, iogr, v, &r, &env) != PHX_OK) {
        char d[256];
        phx_env_describe(&env, d, sizeof d);
        printf("\n    relay failed: %s", d);
        phx_env_clear(&env);
        return -1;
    }
    return r;
}

#define N_SEQ 30
#define N_REF 5

static void sequential(const char *style, const char *name)
{
    static grp_t callee, caller;
    char cname[64], kname[64];
    snprintf(cname, sizeof cname, "%s-callee", name);
    snprintf(kname, sizeof kname, "%s-caller", name);
    CU_ASSERT_FATAL(start_group(&callee, "active", cname, 2, "4", false));
    CU_ASSERT_FATAL(start_group(&caller, style, kname, 3, "4", false));
    char *iogr = NULL;
    CU_ASSERT_FATAL(phx_object_to_string(callee.group, &iogr) == PHX_OK);
    int wrong = 0;
    for (int i = 1; i <= N_SEQ; i++) {
        int64_t r = relay(&caller, iogr, 1);
        if (r != i) {
            printf("\n    relay %d returned %lld", i, (long long)r);
            wrong++;
        }
    }
    /* User exceptions through the nested call (refuse(-k) raises
     * Refused{-k}): relay returns 1000000 - k. */
    for (int k = 1; k <= N_REF; k++) {
        int64_t r = relay(&caller, iogr, -k);
        if (r != 1000000 - k) {
            printf("\n    refusing relay %d returned %lld", k,
                   (long long)r);
            wrong++;
        }
    }
    CU_ASSERT_EQUAL(wrong, 0);
    /* The callee executed each nested call once, whatever the number of
     * caller replicas that made it. */
    CU_ASSERT(callee_executed(&callee, N_SEQ + N_REF));
    /* Every caller replica got the same replies. */
    CU_ASSERT(settled_digest(&caller, NULL) != -1);
    drain(&caller, 300);
    for (int i = 0; i < caller.n; i++)
        CU_ASSERT_EQUAL(caller.diverged[i], 0);
    free(iogr);
    stop_group(&caller);
    stop_group(&callee);
}

static void test_semi_nested(void)
{
    sequential("semi", "nest-semi");
}

static void test_active_nested(void)
{
    sequential("active", "nest-active");
}

#define K_CLIENTS 3
#define K_PER 20

typedef struct kshared {
    grp_t *caller;
    const char *iogr;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int done, failures, n_got;
    bool killed;
    int64_t got[K_CLIENTS * K_PER];
} kshared_t;

static void *kclient(void *arg)
{
    kshared_t *s = arg;
    for (int i = 0; i < K_PER; i++) {
        int64_t r = relay(s->caller, s->iogr, 1);
        pthread_mutex_lock(&s->lock);
        if (r < 0)
            s->failures++;
        else
            s->got[s->n_got++] = r;
        s->done++;
        pthread_cond_broadcast(&s->cond);
        pthread_mutex_unlock(&s->lock);
    }
    return NULL;
}

static void *kkiller(void *arg)
{
    kshared_t *s = arg;
    pthread_mutex_lock(&s->lock);
    while (s->done < K_CLIENTS * K_PER / 3)
        pthread_cond_wait(&s->cond, &s->lock);
    pthread_mutex_unlock(&s->lock);
    printf("\n    killing the caller's leader (pid %d) with SIGKILL",
           (int)s->caller->procs[0].pid);
    h_kill(&s->caller->procs[0], SIGKILL, 5000);
    s->caller->alive[0] = false;
    s->killed = true;
    return NULL;
}

static void test_semi_nested_failover(void)
{
    static grp_t callee, caller;
    CU_ASSERT_FATAL(start_group(&callee, "active", "nest-fo-callee", 2, "4",
                                false));
    CU_ASSERT_FATAL(start_group(&caller, "semi", "nest-fo-caller", 3, "4",
                                false));
    char *iogr = NULL;
    CU_ASSERT_FATAL(phx_object_to_string(callee.group, &iogr) == PHX_OK);
    static kshared_t s;
    memset(&s, 0, sizeof s);
    s.caller = &caller;
    s.iogr = iogr;
    pthread_mutex_init(&s.lock, NULL);
    pthread_cond_init(&s.cond, NULL);
    pthread_t th[K_CLIENTS], kth;
    pthread_create(&kth, NULL, kkiller, &s);
    for (int i = 0; i < K_CLIENTS; i++)
        pthread_create(&th[i], NULL, kclient, &s);
    for (int i = 0; i < K_CLIENTS; i++)
        pthread_join(th[i], NULL);
    pthread_join(kth, NULL);
    printf("\n    %d relays, %d failed", s.n_got + s.failures, s.failures);
    CU_ASSERT(s.killed);
    CU_ASSERT_EQUAL(s.failures, 0);
    /* The replies are exactly 1..N: no nested call ran twice, none was
     * lost. */
    int n = K_CLIENTS * K_PER;
    static bool seen[K_CLIENTS * K_PER];
    memset(seen, 0, sizeof seen);
    int wrong = 0;
    for (int i = 0; i < s.n_got; i++) {
        int64_t k = s.got[i] - 1;
        if (k < 0 || k >= n || seen[k])
            wrong++;
        else
            seen[k] = true;
    }
    CU_ASSERT_EQUAL(wrong, 0);
    /* Callee executions == acknowledged calls. */
    CU_ASSERT(callee_executed(&callee, s.n_got));
    CU_ASSERT(settled_digest(&caller, NULL) != -1);
    drain(&caller, 300);
    for (int i = 0; i < caller.n; i++)
        CU_ASSERT_EQUAL(caller.diverged[i], 0);
    free(iogr);
    stop_group(&caller);
    stop_group(&callee);
    pthread_mutex_destroy(&s.lock);
    pthread_cond_destroy(&s.cond);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("ft-nested", NULL, NULL);
    if (s == NULL ||
        !CU_add_test(s, "semi-active caller: callee executed once, "
                        "followers replay the reply",
                     test_semi_nested) ||
        !CU_add_test(s, "active caller: identical nested calls executed "
                        "once (reply cache)",
                     test_active_nested) ||
        !CU_add_test(s, "semi-active caller: SIGKILL of the leader during "
                        "nested calls",
                     test_semi_nested_failover)) {
        CU_cleanup_registry();
        return 1;
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
