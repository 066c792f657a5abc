/*
 * test_ft_active.c - an ACTIVE object group across processes: three
 * active_member replicas form a GCS group, the group's reference comes
 * from the group registry, and one client makes N sequential add(1)
 * calls through it while the replica it talks to is killed with SIGKILL
 * after about N/3 calls.  Every call must return normally, the totals
 * returned must be exactly 1..N (nothing lost, nothing run twice), and
 * both survivors must end with the total N.  A replacement replica joins
 * the running group right after the kill; it gets the state (servant and
 * reply cache) through the GCS state transfer and must end with the
 * total N as well.
 *
 * Only one replica is killed: two of three survivors are a majority, so
 * the GCS goes on.  Every wait is for an event, under a deadline.
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

#define MEMBERS 3
#define CALLS 200
#define START_MS 20000

static hproc_t procs[MEMBERS + 1]; /* the last one: the replacement */
static bool alive[MEMBERS + 1];
static char gcs_ep[MEMBERS][512];
static char spare_ior[8192];
static bool spare_ready;

/* Shared by the calling thread and the killer thread. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t progress = PTHREAD_COND_INITIALIZER;
static long calls_done;
static bool calls_over;
static bool killing; /* the killer has taken its decision */
static int victim = -1;

/* Copy src into dst (cap bytes); false when it does not fit. */
static bool copy_str(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap)
        return false;
    memcpy(dst, src, n + 1);
    return true;
}

/* Read lines from p until one starts with prefix; copy its rest. */
static bool read_prefixed(hproc_t *p, const char *prefix, char *rest,
                          size_t cap, long long deadline)
{
    char line[8192];
    size_t n = strlen(prefix);
    for (;;) {
        long long left = deadline - h_now_ms();
        if (left <= 0)
            return false;
        if (h_read_line(p, line, sizeof line, (int)left) < 0)
            return false;
        if (strncmp(line, prefix, n) == 0)
            return copy_str(rest, cap, line + n);
    }
}

/* Read the GCS and READY lines of p, in either order. */
static bool read_member(hproc_t *p, char *gcs, size_t gcs_cap, char *ior,
                        size_t ior_cap, long long deadline)
{
    char line[8192];
    bool have_gcs = false, have_ior = false;
    while (!have_gcs || !have_ior) {
        long long left = deadline - h_now_ms();
        if (left <= 0 || h_read_line(p, line, sizeof line, (int)left) < 0)
            return false;
        if (strncmp(line, "GCS ", 4) == 0) {
            if (!copy_str(gcs, gcs_cap, line + 4))
                return false;
            have_gcs = true;
        } else if (strncmp(line, "READY ", 6) == 0) {
            if (!copy_str(ior, ior_cap, line + 6))
                return false;
            have_ior = true;
        }
    }
    return true;
}

/* Kill the victim once a third of the calls are done, while calls go on,
 * then start a replacement that joins through a survivor. */
static void *killer(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&lock);
    while (calls_done < CALLS / 3 && !calls_over)
        pthread_cond_wait(&progress, &lock);
    int v = calls_over ? -1 : victim;
    long at = calls_done;
    killing = true;
    pthread_cond_broadcast(&progress);
    pthread_mutex_unlock(&lock);
    if (v >= 0) {
        printf("\n    killing replica %d (pid %d) with SIGKILL after %ld "
               "calls",
               v, (int)procs[v].pid, at);
        fflush(stdout);
        h_kill(&procs[v], SIGKILL, 5000);
        alive[v] = false;
        int seed = (v + 1) % MEMBERS;
        char *argv[] = {(char *)h_prog("tests/ft/active_member"),
                        "--members", "3", "--seed", gcs_ep[seed], NULL};
        char gcs[512];
        if (h_spawn(&procs[MEMBERS], argv) == 0) {
            alive[MEMBERS] = true;
            spare_ready = read_member(&procs[MEMBERS], gcs, sizeof gcs,
                                      spare_ior, sizeof spare_ior,
                                      h_now_ms() + START_MS);
            pthread_mutex_lock(&lock);
            long now = calls_done;
            pthread_mutex_unlock(&lock);
            printf("\n    replacement %s after %ld calls",
                   spare_ready ? "ready" : "NOT ready", now);
            fflush(stdout);
        }
    }
    return NULL;
}

/* A replica's total (unreplicated add(0)) once it has stopped growing
 * towards CALLS, or the last value read after 10 s. */
static int64_t settled_total(phx_object_t *member)
{
    phx_env_t env = PHX_ENV_INIT;
    int64_t total = -1;
    long long until = h_now_ms() + 10000;
    do {
        if (phxtest_Member_add(member, 0, &total, &env) != PHX_OK)
            total = -1;
        phx_env_clear(&env);
        if (total >= CALLS)
            break;
        struct timespec ts = {0, 5 * 1000000L};
        nanosleep(&ts, NULL);
    } while (h_now_ms() < until);
    return total;
}

static void test_active_group(void)
{
    long long deadline = h_now_ms() + START_MS;
    char rest[8192];
    phx_ior_t iors[MEMBERS];
    for (int i = 0; i < MEMBERS; i++) {
        char *argv[] = {(char *)h_prog("tests/ft/active_member"),
                        "--members", "3", i ? "--seed" : NULL, gcs_ep[0],
                        NULL};
        CU_ASSERT_EQUAL_FATAL(h_spawn(&procs[i], argv), 0);
        alive[i] = true;
        if (i == 0)
            CU_ASSERT_FATAL(read_prefixed(&procs[0], "GCS ", gcs_ep[0],
                                          sizeof gcs_ep[0], deadline));
    }
    for (int i = 0; i < MEMBERS; i++) {
        if (i == 0)
            CU_ASSERT_FATAL(read_prefixed(&procs[0], "READY ", rest,
                                          sizeof rest, deadline));
        if (i > 0)
            CU_ASSERT_FATAL(read_member(&procs[i], gcs_ep[i],
                                        sizeof gcs_ep[i], rest, sizeof rest,
                                        deadline));
        CU_ASSERT_EQUAL_FATAL(phx_ior_from_string(rest, &iors[i], NULL),
                              PHX_OK);
    }

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
        snprintf(loc, sizeof loc, "replica-%d", i);
        CU_ASSERT_EQUAL_FATAL(phx_ft_registry_add_member(reg, gid, loc,
                                                         &iors[i], &err),
                              PHX_OK);
    }
    phx_ior_t iogr;
    uint32_t version;
    CU_ASSERT_EQUAL_FATAL(phx_ft_registry_get_iogr(reg, gid, &iogr,
                                                   &version),
                          PHX_OK);

    phx_orb_config_t cfg;
    phx_orb_config_init(&cfg);
    cfg.call_timeout_ms = 10000;
    cfg.connect_timeout_ms = 1000;
    cfg.max_forwards = 64;
    phx_orb_t *orb;
    CU_ASSERT_EQUAL_FATAL(phx_orb_create(&cfg, &orb, &err), PHX_OK);
    phx_ft_client_config_t fcfg;
    phx_ft_client_config_init(&fcfg);
    fcfg.request_duration_ms = 30000;
    phx_ft_client_t *ft;
    CU_ASSERT_EQUAL_FATAL(phx_ft_client_install(orb, &fcfg, &ft, &err),
                          PHX_OK);
    phx_object_t *plain[MEMBERS], *group;
    for (int i = 0; i < MEMBERS; i++)
        CU_ASSERT_EQUAL_FATAL(phx_object_from_ior(orb, &iors[i], &plain[i],
                                                  &err),
                              PHX_OK);
    CU_ASSERT_EQUAL_FATAL(phx_object_from_ior(orb, &iogr, &group, &err),
                          PHX_OK);

    /* pid() through the group is replicated too; the reply comes from the
     * replica the client talks to, which it keeps while it answers. */
    phx_env_t env = PHX_ENV_INIT;
    int32_t pid = 0;
    CU_ASSERT_EQUAL_FATAL(phxtest_Member_pid(group, &pid, &env), PHX_OK);
    for (int i = 0; i < MEMBERS; i++)
        if (procs[i].pid == (pid_t)pid)
            victim = i;
    CU_ASSERT_FATAL(victim >= 0);

    pthread_t kth;
    CU_ASSERT_EQUAL_FATAL(pthread_create(&kth, NULL, killer, NULL), 0);
    static int64_t got[CALLS];
    long failures = 0;
    char first[256] = "";
    for (int i = 0; i < CALLS; i++) {
        got[i] = -1;
        int rc = phxtest_Member_add(group, 1, &got[i], &env);
        if (rc != PHX_OK) {
            if (failures++ == 0)
                phx_env_describe(&env, first, sizeof first);
            phx_env_clear(&env);
        }
        pthread_mutex_lock(&lock);
        calls_done++;
        pthread_cond_broadcast(&progress);
        /* Calls are fast: let the killer get going, so that the kill
         * races with the next calls rather than missing them all. */
        if (calls_done == CALLS / 3) {
            struct timespec dl;
            clock_gettime(CLOCK_REALTIME, &dl);
            dl.tv_sec += 5;
            while (!killing)
                if (pthread_cond_timedwait(&progress, &lock, &dl) != 0)
                    break;
        }
        pthread_mutex_unlock(&lock);
    }
    pthread_mutex_lock(&lock);
    calls_over = true;
    pthread_cond_broadcast(&progress);
    pthread_mutex_unlock(&lock);
    pthread_join(kth, NULL);

    phx_ft_client_stats_t st;
    phx_ft_client_get_stats(ft, &st);
    printf("\n    %d calls, %ld failed, %llu re-invocations\n", CALLS,
           failures, (unsigned long long)st.reinvocations);
    if (failures)
        printf("    first failure: %s\n", first);
    CU_ASSERT_EQUAL(failures, 0);
    CU_ASSERT(!alive[victim]);
    CU_ASSERT(st.reinvocations >= 1);
    int wrong = 0;
    for (int i = 0; i < CALLS; i++)
        if (got[i] != i + 1 && wrong++ == 0)
            printf("    call %d returned %lld\n", i + 1, (long long)got[i]);
    CU_ASSERT_EQUAL(wrong, 0);

    /* Unreplicated add(0) on each survivor reads its total.  A replica
     * other than the one that answered may deliver the last requests a
     * moment later: wait (with a deadline) for it to get there, and check
     * that it never goes past. */
    for (int i = 0; i < MEMBERS; i++) {
        if (!alive[i])
            continue;
        CU_ASSERT_EQUAL(settled_total(plain[i]), CALLS);
    }

    /* The replacement caught up through the state transfer and then
     * executed every later request. */
    CU_ASSERT(spare_ready);
    if (spare_ready) {
        phx_object_t *spare;
        CU_ASSERT_EQUAL_FATAL(phx_object_from_string(orb, spare_ior, &spare,
                                                     &err),
                              PHX_OK);
        CU_ASSERT_EQUAL(settled_total(spare), CALLS);
        phx_object_release(spare);
    }

    phx_object_release(group);
    for (int i = 0; i < MEMBERS; i++)
        phx_object_release(plain[i]);
    phx_orb_destroy(orb);
    phx_ft_client_destroy(ft);
    for (int i = 0; i <= MEMBERS; i++) {
        if (alive[i])
            CU_ASSERT_EQUAL(h_kill(&procs[i], SIGTERM, 5000), 0);
        alive[i] = false;
        if (i < MEMBERS)
            phx_ior_fini(&iors[i]);
    }
    phx_ior_fini(&iogr);
    phx_ft_registry_destroy(reg);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("ft-active", NULL, NULL);
    if (s == NULL ||
        !CU_add_test(s, "active group: exactly once across SIGKILL",
                     test_active_group)) {
        CU_cleanup_registry();
        return 1;
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures();
    CU_cleanup_registry();
    for (int i = 0; i <= MEMBERS; i++)
        if (alive[i] && procs[i].pid > 0)
            h_kill(&procs[i], SIGKILL, 5000);
    return failed ? 1 : 0;
}
