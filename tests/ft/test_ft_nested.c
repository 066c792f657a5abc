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
#include "tests/integration/harness.h"

#define MAXP 4
#define START_MS 20000

typedef struct grp {
    hproc_t procs[MAXP];
    bool alive[MAXP];
    char gcs[MAXP][512];
    char ior[MAXP][8192];
    int diverged[MAXP];
    int primary_lines[MAXP];
    int n;
    phx_orb_t *orb;
    phx_ft_client_t *ft;
    phx_ft_registry_t *reg;
    phx_object_t *group;
    phx_object_t *plain[MAXP];
} grp_t;

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Count the interesting lines of one line. */
static void note(grp_t *g, int i, const char *line)
{
    if (strncmp(line, "DIVERGED", 8) == 0) {
        g->diverged[i]++;
        printf("\n    member %d: %s", i, line);
    } else if (strcmp(line, "PRIMARY") == 0) {
        g->primary_lines[i]++;
    }
}

/* Read p's lines until one starts with prefix (copying the rest). */
static bool wait_line(grp_t *g, int i, const char *prefix, char *rest,
                      size_t cap, long long deadline)
{
    char line[8192];
    for (;;) {
        long long left = deadline - h_now_ms();
        if (left <= 0 ||
            h_read_line(&g->procs[i], line, sizeof line, (int)left) < 0) {
            /* Say what was missing, and whether the member is gone. */
            printf("\n    member %d: no '%s' line (%s)", i, prefix,
                   left <= 0 ? "timed out" : "its output ended");
            return false;
        }
        note(g, i, line);
        size_t n = strlen(prefix);
        if (strncmp(line, prefix, n) == 0) {
            if (rest) {
                if (strlen(line + n) >= cap)
                    return false;
                strcpy(rest, line + n);
            }
            return true;
        }
    }
}

/* Read whatever lines the living members printed within ms. */
static void drain(grp_t *g, int ms)
{
    char line[8192];
    long long until = h_now_ms() + ms;
    do {
        for (int i = 0; i < g->n; i++)
            while (g->alive[i] &&
                   h_read_line(&g->procs[i], line, sizeof line, 5) >= 0)
                note(g, i, line);
    } while (h_now_ms() < until);
}

static int spawn(grp_t *g, int i, const char *style, const char *group,
                 int members, const char *seed, const char *workers,
                 bool mt)
{
    char mem[16];
    snprintf(mem, sizeof mem, "%d", members);
    char *argv[20];
    int k = 0;
    argv[k++] = (char *)h_prog("tests/ft/semi_member");
    argv[k++] = "--style";
    argv[k++] = (char *)style;
    argv[k++] = "--group";
    argv[k++] = (char *)group;
    argv[k++] = "--members";
    argv[k++] = mem;
    argv[k++] = "--workers";
    argv[k++] = (char *)workers;
    argv[k++] = "--every";
    argv[k++] = "5";
    if (mt)
        argv[k++] = "--mt";
    if (seed) {
        argv[k++] = "--seed";
        argv[k++] = (char *)seed;
    }
    argv[k] = NULL;
    if (h_spawn(&g->procs[i], argv) != 0)
        return -1;
    g->alive[i] = true;
    return 0;
}

/* Start n members of style (the first founds the group and is the
 * leader / primary), the registry's IOGR and an FT client. */
static bool start_group(grp_t *g, const char *style, const char *group,
                        int n, const char *workers, bool mt)
{
    memset(g, 0, sizeof *g);
    g->n = n;
    long long deadline = h_now_ms() + START_MS;
    for (int i = 0; i < n; i++) {
        if (spawn(g, i, style, group, n, i ? g->gcs[0] : NULL, workers,
                  mt) != 0)
            return false;
        if (!wait_line(g, i, "GCS ", g->gcs[i], sizeof g->gcs[i],
                       deadline))
            return false;
        /* The others join once the first is in its own view. */
        if (i == 0 && strcmp(style, "active") != 0 &&
            !wait_line(g, 0, "PRIMARY", NULL, 0, deadline))
            return false;
    }
    for (int i = 0; i < n; i++)
        if (!wait_line(g, i, "READY ", g->ior[i], sizeof g->ior[i],
                       deadline))
            return false;
    phx_error_t err;
    if (phx_ft_registry_create("phalanx-test", &g->reg, &err) != PHX_OK)
        return false;
    uint64_t gid;
    if (phx_ft_registry_create_group(g->reg, phxtest_Member__repo_id, &gid,
                                     &err) != PHX_OK)
        return false;
    phx_orb_config_t cfg;
    phx_orb_config_init(&cfg);
    cfg.call_timeout_ms = 10000;
    cfg.connect_timeout_ms = 1000;
    cfg.max_forwards = 64;
    if (phx_orb_create(&cfg, &g->orb, &err) != PHX_OK)
        return false;
    phx_ft_client_config_t fcfg;
    phx_ft_client_config_init(&fcfg);
    fcfg.request_duration_ms = 30000;
    if (phx_ft_client_install(g->orb, &fcfg, &g->ft, &err) != PHX_OK)
        return false;
    for (int i = 0; i < n; i++) {
        phx_ior_t ior;
        char loc[32];
        snprintf(loc, sizeof loc, "member-%d", i);
        if (phx_ior_from_string(g->ior[i], &ior, NULL) != PHX_OK)
            return false;
        int rc = phx_ft_registry_add_member(g->reg, gid, loc, &ior, &err);
        phx_ior_fini(&ior);
        if (rc != PHX_OK ||
            phx_object_from_string(g->orb, g->ior[i], &g->plain[i], &err) !=
                PHX_OK)
            return false;
    }
    phx_ior_t iogr;
    uint32_t version;
    if (phx_ft_registry_get_iogr(g->reg, gid, &iogr, &version) != PHX_OK)
        return false;
    int rc = phx_object_from_ior(g->orb, &iogr, &g->group, &err);
    phx_ior_fini(&iogr);
    return rc == PHX_OK;
}

static void stop_group(grp_t *g)
{
    if (g->group)
        phx_object_release(g->group);
    for (int i = 0; i < MAXP; i++)
        if (g->plain[i])
            phx_object_release(g->plain[i]);
    if (g->orb)
        phx_orb_destroy(g->orb);
    phx_ft_client_destroy(g->ft);
    phx_ft_registry_destroy(g->reg);
    for (int i = 0; i < MAXP; i++)
        if (g->alive[i]) {
            h_kill(&g->procs[i], SIGTERM, 5000);
            g->alive[i] = false;
        }
}

/* digest() of member i, or -1. */
static int64_t digest_of(grp_t *g, phx_object_t *o)
{
    phx_env_t env = PHX_ENV_INIT;
    int64_t d = -1;
    if (phxtest_Member_digest(o, &d, &env) != PHX_OK) {
        phx_env_clear(&env);
        return -1;
    }
    (void)g;
    return d;
}

/* Wait until every living member (and extra, when not NULL) has the same
 * digest; returns it or -1. */
static int64_t settled_digest(grp_t *g, phx_object_t *extra)
{
    long long until = h_now_ms() + 15000;
    int64_t d0 = -1;
    do {
        bool same = true;
        d0 = -1;
        for (int i = 0; i < g->n && same; i++) {
            if (!g->alive[i])
                continue;
            int64_t d = digest_of(g, g->plain[i]);
            if (d0 == -1)
                d0 = d;
            else if (d != d0)
                same = false;
        }
        if (same && extra && digest_of(g, extra) != d0)
            same = false;
        if (same && d0 != -1)
            return d0;
        sleep_ms(20);
    } while (h_now_ms() < until);
    for (int i = 0; i < g->n; i++)
        if (g->alive[i])
            printf("\n    member %d digest %lld", i,
                   (long long)digest_of(g, g->plain[i]));
    return -1;
}

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
