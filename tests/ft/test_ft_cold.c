/*
 * test_ft_cold.c - COLD_PASSIVE object groups across processes: every
 * test starts tests/ft/cold_member processes on a stable storage
 * directory of its own (mkdtemp under /tmp, removed at the end), builds
 * the group's reference with the registry from the members' references,
 * and calls through it with the FT client interceptor.
 *
 *   1. fail-over: SIGKILL of the primary during N sequential add(1):
 *      totals exactly 1..N, a survivor recovers and takes over, a
 *      restarted member joins as a cold backup;
 *   2. every member killed, one restarted on the same directory: it
 *      recovers checkpoint + log; a client re-issuing every request with
 *      the same client id and retention ids gets the same replies from
 *      the reply cache, nothing executes again;
 *   3. a torn log tail is dropped and the member serves; a corrupt record
 *      in the middle of the log or a corrupt checkpoint make the member
 *      refuse to serve (logged; clients get TRANSIENT quickly);
 *   4. a crash between the checkpoint's rename and the log's truncation
 *      (simulated by putting the old log back): nothing runs twice;
 *   5. a backup answers an FT request TRANSIENT, COMPLETED_NO;
 *   5b. the primary cannot write its log (RLIMIT_FSIZE, as a full disk):
 *      it gives the role up, the other member recovers and nothing is
 *      lost or run twice;
 *   6. figures: the round trip of a cold passive call against an
 *      unreplicated one, and the recovery of a 1 MB state + 1000 records
 *      (PHX_COLD_BENCH_DIR: where, default /tmp).
 *
 * Every wait is for an event (a line from a member, a reply), under a
 * deadline.
 */
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include <phx/ft.h>
#include <phx/phx.h>

#include "tests/ft/gen/ft_test.h"
#include "tests/integration/harness.h"

#define START_MS 20000
#define MAXP 4

/* ------------------------------------------------------------------ */
/* Members                                                              */
/* ------------------------------------------------------------------ */

typedef struct mproc {
    hproc_t h;
    bool alive;
    bool ready;
    char ior[8192];
    int primaries;          /* PRIMARY lines */
    int backups;            /* BACKUP lines */
    long long total;        /* from the last PRIMARY line */
    long long recovered;
    long long recovery_us;
    bool torn_logged, corrupt_logged, refuse_logged, write_error_logged;
    bool stats;
    unsigned long long executed, replayed, refused;
} mproc_t;

static mproc_t procs[MAXP];
static char dir[64];

/* Read the lines m printed within timeout_ms and note what they say. */
static void pump(mproc_t *m, int timeout_ms)
{
    char line[8192];
    while (m->alive && h_read_line(&m->h, line, sizeof line, timeout_ms) >= 0) {
        timeout_ms = 0;
        if (strncmp(line, "READY ", 6) == 0) {
            snprintf(m->ior, sizeof m->ior, "%s", line + 6);
            m->ready = true;
        } else if (strncmp(line, "PRIMARY ", 8) == 0) {
            m->primaries++;
            sscanf(line, "PRIMARY total=%lld recovered=%lld us=%lld",
                   &m->total, &m->recovered, &m->recovery_us);
        } else if (strcmp(line, "BACKUP") == 0) {
            m->backups++;
        } else if (strncmp(line, "STATS ", 6) == 0) {
            m->stats = sscanf(line, "STATS executed=%llu replayed=%llu "
                                    "refused=%llu",
                              &m->executed, &m->replayed, &m->refused) == 3;
        } else if (strncmp(line, "LOG ", 4) == 0) {
            if (strstr(line, "torn tail"))
                m->torn_logged = true;
            if (strstr(line, "corrupt"))
                m->corrupt_logged = true;
            if (strstr(line, "refusing to serve"))
                m->refuse_logged = true;
            if (strstr(line, "not made durable"))
                m->write_error_logged = true;
        }
    }
}

typedef bool (*pred_fn)(const mproc_t *m);
static bool is_ready(const mproc_t *m) { return m->ready; }
static bool is_primary(const mproc_t *m) { return m->primaries > 0; }
static bool has_stats(const mproc_t *m) { return m->stats; }
static bool refused_to_serve(const mproc_t *m)
{
    return m->corrupt_logged && m->refuse_logged;
}

static bool wait_for(mproc_t *m, pred_fn pred, int ms)
{
    long long dl = h_now_ms() + ms;
    while (!pred(m) && h_now_ms() < dl)
        pump(m, 20);
    return pred(m);
}

/* The index of the first of procs[from..to) to satisfy pred, or -1. */
static int wait_any(int from, int to, pred_fn pred, int ms)
{
    long long dl = h_now_ms() + ms;
    do {
        for (int i = from; i < to; i++) {
            pump(&procs[i], 5);
            if (procs[i].alive && pred(&procs[i]))
                return i;
        }
    } while (h_now_ms() < dl);
    return -1;
}

static bool start(int i, const char *const *extra)
{
    char *argv[16] = {(char *)h_prog("tests/ft/cold_member"), "--dir", dir};
    int n = 3;
    for (; extra && *extra && n < 15; extra++)
        argv[n++] = (char *)*extra;
    argv[n] = NULL;
    memset(&procs[i], 0, sizeof procs[i]);
    if (h_spawn(&procs[i].h, argv) != 0)
        return false;
    procs[i].alive = true;
    return wait_for(&procs[i], is_ready, START_MS);
}

static void kill9(int i)
{
    h_kill(&procs[i].h, SIGKILL, 5000);
    procs[i].alive = false;
}

/* SIGTERM, then wait for the STATS line. */
static bool stop(int i)
{
    if (!procs[i].alive)
        return false;
    kill(procs[i].h.pid, SIGTERM);
    bool ok = wait_for(&procs[i], has_stats, 10000);
    h_kill(&procs[i].h, SIGKILL, 5000);
    procs[i].alive = false;
    return ok;
}

static void kill_all(void)
{
    for (int i = 0; i < MAXP; i++)
        if (procs[i].alive)
            kill9(i);
}

static void make_dir(void)
{
    snprintf(dir, sizeof dir, "/tmp/phx-cold-XXXXXX");
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
}

static void remove_dir(void)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char p[512];
    while (d && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    if (d)
        closedir(d);
    rmdir(dir);
}

static char *path(const char *name)
{
    static char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return p;
}

static long file_read(const char *name, uint8_t *buf, size_t cap)
{
    FILE *f = fopen(path(name), "rb");
    if (f == NULL)
        return -1;
    long n = (long)fread(buf, 1, cap, f);
    fclose(f);
    return n;
}

static bool file_write(const char *name, const uint8_t *buf, size_t n,
                       const char *mode)
{
    FILE *f = fopen(path(name), mode);
    if (f == NULL)
        return false;
    bool ok = fwrite(buf, 1, n, f) == n;
    return fclose(f) == 0 && ok;
}

/* ------------------------------------------------------------------ */
/* Clients                                                              */
/* ------------------------------------------------------------------ */

typedef struct client {
    phx_orb_t *orb;
    phx_ft_client_t *ft;
    phx_ft_registry_t *reg;
    phx_object_t *group;
} client_t;

/* A client ORB with the FT interceptor (client_id NULL: a fresh one) and
 * the reference of the group of procs listed in idx (n of them). */
static void client_open(client_t *c, const char *client_id,
                        uint32_t duration_ms, const int *idx, int n)
{
    memset(c, 0, sizeof *c);
    phx_error_t err;
    phx_orb_config_t cfg;
    phx_orb_config_init(&cfg);
    cfg.call_timeout_ms = 10000;
    cfg.connect_timeout_ms = 1000;
    cfg.max_forwards = 64;
    CU_ASSERT_EQUAL_FATAL(phx_orb_create(&cfg, &c->orb, &err), PHX_OK);
    phx_ft_client_config_t fcfg;
    phx_ft_client_config_init(&fcfg);
    fcfg.client_id = client_id;
    fcfg.request_duration_ms = duration_ms;
    CU_ASSERT_EQUAL_FATAL(phx_ft_client_install(c->orb, &fcfg, &c->ft, &err),
                          PHX_OK);
    CU_ASSERT_EQUAL_FATAL(phx_ft_registry_create("phalanx-test", &c->reg,
                                                 &err),
                          PHX_OK);
    uint64_t gid;
    CU_ASSERT_EQUAL_FATAL(phx_ft_registry_create_group(
                              c->reg, phxtest_Member__repo_id, &gid, &err),
                          PHX_OK);
    for (int i = 0; i < n; i++) {
        phx_ior_t ior;
        char loc[32];
        snprintf(loc, sizeof loc, "member-%d", idx[i]);
        CU_ASSERT_EQUAL_FATAL(phx_ior_from_string(procs[idx[i]].ior, &ior,
                                                  &err),
                              PHX_OK);
        CU_ASSERT_EQUAL_FATAL(phx_ft_registry_add_member(c->reg, gid, loc,
                                                         &ior, &err),
                              PHX_OK);
        phx_ior_fini(&ior);
    }
    phx_ior_t iogr;
    uint32_t version;
    CU_ASSERT_EQUAL_FATAL(phx_ft_registry_get_iogr(c->reg, gid, &iogr,
                                                   &version),
                          PHX_OK);
    CU_ASSERT_EQUAL_FATAL(phx_object_from_ior(c->orb, &iogr, &c->group,
                                              &err),
                          PHX_OK);
    phx_ior_fini(&iogr);
}

static void client_close(client_t *c)
{
    phx_object_release(c->group);
    phx_orb_destroy(c->orb);
    phx_ft_client_destroy(c->ft);
    phx_ft_registry_destroy(c->reg);
}

/* add(v) through the group; the total, or -1 (the exception in *env). */
static int64_t add(client_t *c, int64_t v, phx_env_t *env)
{
    int64_t t = -1;
    if (phxtest_Member_add(c->group, v, &t, env) != PHX_OK)
        return -1;
    return t;
}

/* add(v) unreplicated, on procs[i]'s own reference. */
static int64_t plain_add(client_t *c, int i, int64_t v)
{
    phx_object_t *o;
    phx_env_t env = PHX_ENV_INIT;
    int64_t t = -1;
    if (phx_object_from_string(c->orb, procs[i].ior, &o, NULL) != PHX_OK)
        return -1;
    if (phxtest_Member_add(o, v, &t, &env) != PHX_OK)
        t = -1;
    phx_env_clear(&env);
    phx_object_release(o);
    return t;
}

/* N calls of add(1) expecting totals first+1 .. first+N. */
static int adds(client_t *c, int n, long long first)
{
    int wrong = 0;
    phx_env_t env = PHX_ENV_INIT;
    for (int i = 0; i < n; i++) {
        int64_t t = add(c, 1, &env);
        if (t != first + i + 1 && wrong++ == 0) {
            char d[256] = "";
            phx_env_describe(&env, d, sizeof d);
            printf("\n    call %d returned %lld %s", i + 1, (long long)t, d);
        }
        phx_env_clear(&env);
    }
    return wrong;
}

/* ------------------------------------------------------------------ */
/* 1. fail-over                                                         */
/* ------------------------------------------------------------------ */

#define CALLS 200

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t progress = PTHREAD_COND_INITIALIZER;
static long calls_done;
static bool calls_over, killing, killed;

static void *killer(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&lock);
    while (calls_done < CALLS / 3 && !calls_over)
        pthread_cond_wait(&progress, &lock);
    bool go = !calls_over;
    killing = go;
    pthread_cond_broadcast(&progress);
    pthread_mutex_unlock(&lock);
    if (go) {
        kill(procs[0].h.pid, SIGKILL);
        killed = true;
    }
    return NULL;
}

static void test_failover(void)
{
    make_dir();
    const char *ck[] = {"--every", "50", NULL};
    CU_ASSERT_FATAL(start(0, ck));
    CU_ASSERT_FATAL(wait_for(&procs[0], is_primary, START_MS));
    CU_ASSERT_FATAL(start(1, ck));
    CU_ASSERT_FATAL(start(2, ck));
    client_t c;
    int idx[] = {0, 1, 2};
    client_open(&c, NULL, 30000, idx, 3);

    pthread_t kth;
    CU_ASSERT_EQUAL_FATAL(pthread_create(&kth, NULL, killer, NULL), 0);
    static int64_t got[CALLS];
    phx_env_t env = PHX_ENV_INIT;
    long failures = 0;
    for (int i = 0; i < CALLS; i++) {
        got[i] = add(&c, 1, &env);
        if (got[i] < 0)
            failures++;
        phx_env_clear(&env);
        pthread_mutex_lock(&lock);
        calls_done++;
        pthread_cond_broadcast(&progress);
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
    h_kill(&procs[0].h, SIGKILL, 5000);
    procs[0].alive = false;
    CU_ASSERT(killed);
    CU_ASSERT_EQUAL(failures, 0);
    int wrong = 0;
    for (int i = 0; i < CALLS; i++)
        if (got[i] != i + 1 && wrong++ == 0)
            printf("\n    call %d returned %lld", i + 1, (long long)got[i]);
    CU_ASSERT_EQUAL(wrong, 0);

    /* A survivor recovered and took over. */
    int p = wait_any(1, 3, is_primary, 5000);
    CU_ASSERT_FATAL(p > 0);
    printf("\n    member %d took over: total %lld after recovery (%lld "
           "records replayed, %lld us)",
           p, procs[p].total, procs[p].recovered, procs[p].recovery_us);
    CU_ASSERT(procs[p].total >= CALLS / 3 && procs[p].total <= CALLS);
    CU_ASSERT_EQUAL(plain_add(&c, p, 0), CALLS);

    /* A restarted member joins as a cold backup: it refuses FT requests
     * (test 5 checks the exception) and becomes primary only when the
     * primary dies. */
    CU_ASSERT_FATAL(start(3, ck));
    client_t one;
    int only[] = {3};
    client_open(&one, NULL, 300, only, 1);
    CU_ASSERT_EQUAL(add(&one, 1, &env), -1);
    CU_ASSERT_EQUAL(env.sysex, PHX_SYSEX_TRANSIENT);
    phx_env_clear(&env);
    client_close(&one);
    CU_ASSERT_EQUAL(procs[3].primaries, 0);
    client_close(&c);

    /* The primary dies: one of the other two recovers and serves. */
    kill9(p);
    int rest[] = {p == 1 ? 2 : 1, 3};
    client_open(&c, NULL, 30000, rest, 2);
    CU_ASSERT_EQUAL(add(&c, 1, &env), CALLS + 1);
    phx_env_clear(&env);
    int q = wait_any(1, 4, is_primary, 5000);
    CU_ASSERT(q > 0 && q != p);
    client_close(&c);
    kill_all();
    remove_dir();
}

/* ------------------------------------------------------------------ */
/* 2. every member dies                                                 */
/* ------------------------------------------------------------------ */

static void test_all_die(void)
{
    make_dir();
    const char *ck[] = {"--every", "7", NULL};
    CU_ASSERT_FATAL(start(0, ck));
    CU_ASSERT_FATAL(wait_for(&procs[0], is_primary, START_MS));
    CU_ASSERT_FATAL(start(1, ck));
    client_t c;
    int idx[] = {0, 1};
    client_open(&c, "cold-test-all-die", 60000, idx, 2);
    CU_ASSERT_EQUAL(adds(&c, 50, 0), 0);
    client_close(&c);
    kill9(0);
    kill9(1);

    CU_ASSERT_FATAL(start(2, ck));
    CU_ASSERT_FATAL(wait_for(&procs[2], is_primary, START_MS));
    printf("\n    recovered total %lld (%lld log records replayed)",
           procs[2].total, procs[2].recovered);
    CU_ASSERT_EQUAL(procs[2].total, 50);

    /* The same client id and retention ids: every request is answered
     * from the reply cache (checkpoint and log), with its first reply. */
    int idx2[] = {2};
    client_open(&c, "cold-test-all-die", 60000, idx2, 1);
    CU_ASSERT_EQUAL(adds(&c, 50, 0), 0);
    CU_ASSERT_EQUAL(adds(&c, 1, 50), 0); /* a new one runs */
    client_close(&c);
    CU_ASSERT_FATAL(stop(2));
    printf("; retries: %llu replayed, %llu executed", procs[2].replayed,
           procs[2].executed);
    CU_ASSERT_EQUAL(procs[2].replayed, 50);
    CU_ASSERT_EQUAL(procs[2].executed, 1);
    kill_all();
    remove_dir();
}

/* ------------------------------------------------------------------ */
/* 3. damaged storage                                                   */
/* ------------------------------------------------------------------ */

static uint8_t fbuf[1 << 20];

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

/* 20 adds on a fresh group, then SIGKILL; no checkpoint but the first
 * one unless every is set. */
static void run_twenty(const char *every)
{
    make_dir();
    const char *ck[] = {"--every", every, "--interval", "600000", NULL};
    CU_ASSERT_FATAL(start(0, ck));
    CU_ASSERT_FATAL(wait_for(&procs[0], is_primary, START_MS));
    client_t c;
    int idx[] = {0};
    client_open(&c, NULL, 30000, idx, 1);
    CU_ASSERT_EQUAL(adds(&c, 20, 0), 0);
    client_close(&c);
    kill9(0);
}

/* Start a member on the damaged storage and check it refuses to serve. */
static void expect_refusal(void)
{
    CU_ASSERT_FATAL(start(1, NULL));
    CU_ASSERT(wait_for(&procs[1], refused_to_serve, 10000));
    client_t c;
    int idx[] = {1};
    client_open(&c, NULL, 500, idx, 1);
    phx_env_t env = PHX_ENV_INIT;
    long long t0 = h_now_ms();
    CU_ASSERT_EQUAL(add(&c, 1, &env), -1);
    CU_ASSERT_EQUAL(env.sysex, PHX_SYSEX_TRANSIENT);
    CU_ASSERT(h_now_ms() - t0 < 5000);
    phx_env_clear(&env);
    client_close(&c);
    pump(&procs[1], 0);
    CU_ASSERT_EQUAL(procs[1].primaries, 0);
    kill_all();
    remove_dir();
}

static void test_torn_tail(void)
{
    run_twenty("1000000");
    long n = file_read("log", fbuf, sizeof fbuf);
    CU_ASSERT_FATAL(n > 8);
    /* Half of the first record, as a write cut short would leave it. */
    uint32_t len = le32(fbuf);
    CU_ASSERT_FATAL(file_write("log", fbuf, (8 + len) / 2, "ab"));
    CU_ASSERT_FATAL(start(1, NULL));
    CU_ASSERT_FATAL(wait_for(&procs[1], is_primary, START_MS));
    CU_ASSERT(procs[1].torn_logged);
    CU_ASSERT_EQUAL(procs[1].total, 20);
    CU_ASSERT_EQUAL(procs[1].recovered, 20);
    client_t c;
    int idx[] = {1};
    client_open(&c, NULL, 30000, idx, 1);
    CU_ASSERT_EQUAL(adds(&c, 1, 20), 0);
    client_close(&c);
    /* The log was folded into a checkpoint: only the new record. */
    n = file_read("log", fbuf, sizeof fbuf);
    CU_ASSERT(n > 8 && (long)le32(fbuf) + 8 == n);
    kill_all();
    remove_dir();
}

static void test_corrupt_middle(void)
{
    run_twenty("1000000");
    long n = file_read("log", fbuf, sizeof fbuf);
    CU_ASSERT_FATAL(n > 8);
    uint32_t len = le32(fbuf);
    size_t at = 8 + len + 8 + 20; /* inside the second record's payload */
    CU_ASSERT_FATAL((long)at < n);
    fbuf[at] ^= 0x5A;
    CU_ASSERT_FATAL(file_write("log", fbuf, (size_t)n, "wb"));
    expect_refusal();
}

static void test_corrupt_checkpoint(void)
{
    run_twenty("5");
    long n = file_read("checkpoint", fbuf, sizeof fbuf);
    CU_ASSERT_FATAL(n > 20);
    fbuf[n / 2] ^= 0x01;
    CU_ASSERT_FATAL(file_write("checkpoint", fbuf, (size_t)n, "wb"));
    expect_refusal();
}

/* ------------------------------------------------------------------ */
/* 4. crash between the checkpoint's rename and the log's truncation    */
/* ------------------------------------------------------------------ */

static void test_checkpoint_crash(void)
{
    run_twenty("1000000"); /* checkpoint covers 0, log 1..20 */
    static uint8_t saved[1 << 16];
    long sn = file_read("log", saved, sizeof saved);
    CU_ASSERT_FATAL(sn > 0);
    /* Recovery folds 1..20 into a checkpoint and empties the log. */
    const char *ck[] = {"--every", "1000000", "--interval", "600000", NULL};
    CU_ASSERT_FATAL(start(1, ck));
    CU_ASSERT_FATAL(wait_for(&procs[1], is_primary, START_MS));
    CU_ASSERT_EQUAL(procs[1].total, 20);
    client_t c;
    int idx[] = {1};
    client_open(&c, NULL, 30000, idx, 1);
    CU_ASSERT_EQUAL(adds(&c, 5, 20), 0); /* log: 21..25 */
    client_close(&c);
    kill9(1);
    /* As if the truncation after that checkpoint had not happened: the
     * old records 1..20 come before 21..25. */
    long n = file_read("log", fbuf, sizeof fbuf);
    CU_ASSERT_FATAL(n > 0 && n + sn <= (long)sizeof fbuf);
    memmove(fbuf + sn, fbuf, (size_t)n);
    memcpy(fbuf, saved, (size_t)sn);
    CU_ASSERT_FATAL(file_write("log", fbuf, (size_t)(n + sn), "wb"));
    CU_ASSERT_FATAL(start(2, ck));
    CU_ASSERT_FATAL(wait_for(&procs[2], is_primary, START_MS));
    CU_ASSERT_EQUAL(procs[2].total, 25);
    CU_ASSERT_EQUAL(procs[2].recovered, 5);
    kill9(2);

    /* Only the old log after the new checkpoint: nothing replays. */
    CU_ASSERT_FATAL(file_write("log", saved, (size_t)sn, "wb"));
    CU_ASSERT_FATAL(start(3, ck));
    CU_ASSERT_FATAL(wait_for(&procs[3], is_primary, START_MS));
    CU_ASSERT_EQUAL(procs[3].total, 25);
    CU_ASSERT_EQUAL(procs[3].recovered, 0);
    int idx3[] = {3};
    client_open(&c, NULL, 30000, idx3, 1);
    CU_ASSERT_EQUAL(adds(&c, 1, 25), 0);
    client_close(&c);
    kill_all();
    remove_dir();
}

/* ------------------------------------------------------------------ */
/* 5. a backup refuses                                                  */
/* ------------------------------------------------------------------ */

static void test_backup_refuses(void)
{
    make_dir();
    CU_ASSERT_FATAL(start(0, NULL));
    CU_ASSERT_FATAL(wait_for(&procs[0], is_primary, START_MS));
    CU_ASSERT_FATAL(start(1, NULL));
    client_t c;
    int idx[] = {1};
    client_open(&c, NULL, 300, idx, 1);
    phx_env_t env = PHX_ENV_INIT;
    long long t0 = h_now_ms();
    CU_ASSERT_EQUAL(add(&c, 1, &env), -1);
    CU_ASSERT_EQUAL(env.sysex, PHX_SYSEX_TRANSIENT);
    CU_ASSERT_EQUAL(env.completed, PHX_COMPLETED_NO);
    CU_ASSERT(h_now_ms() - t0 < 5000);
    phx_env_clear(&env);
    CU_ASSERT_EQUAL(plain_add(&c, 0, 0), 0); /* nothing ran on the primary */
    client_close(&c);
    CU_ASSERT_FATAL(stop(1));
    CU_ASSERT(procs[1].refused >= 1);
    CU_ASSERT_EQUAL(procs[1].executed, 0);
    kill_all();
    remove_dir();
}

/* ------------------------------------------------------------------ */
/* 5b. write errors                                                     */
/* ------------------------------------------------------------------ */

static bool wrote_error(const mproc_t *m) { return m->write_error_logged; }

static void test_write_error(void)
{
    make_dir();
    const char *small[] = {"--every", "1000000", "--fsize", "4096", NULL};
    CU_ASSERT_FATAL(start(0, small));
    CU_ASSERT_FATAL(wait_for(&procs[0], is_primary, START_MS));
    CU_ASSERT_FATAL(start(1, NULL));
    client_t c;
    int idx[] = {0, 1};
    client_open(&c, NULL, 30000, idx, 2);
    CU_ASSERT_EQUAL(adds(&c, 100, 0), 0);
    client_close(&c);
    CU_ASSERT(wait_for(&procs[0], wrote_error, 5000));
    CU_ASSERT(procs[0].backups >= 1);
    CU_ASSERT(wait_for(&procs[1], is_primary, 5000));
    printf("\n    member 1 took over at total %lld", procs[1].total);
    kill_all();
    remove_dir();
}

/* ------------------------------------------------------------------ */
/* 6. figures                                                           */
/* ------------------------------------------------------------------ */

static void test_figures(void)
{
    const char *base = getenv("PHX_COLD_BENCH_DIR");
    snprintf(dir, sizeof dir, "%s/phx-cold-XXXXXX", base ? base : "/tmp");
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
    const char *ck[] = {"--every",       "100000", "--interval", "600000",
                        "--state-bytes", "1048576", NULL};
    CU_ASSERT_FATAL(start(0, ck));
    CU_ASSERT_FATAL(wait_for(&procs[0], is_primary, START_MS));
    client_t c;
    int idx[] = {0};
    client_open(&c, NULL, 60000, idx, 1);
    CU_ASSERT_EQUAL(adds(&c, 10, 0), 0); /* warm up */
    long long t0 = h_now_ms();
    CU_ASSERT_EQUAL(adds(&c, 990, 10), 0);
    long long cold = h_now_ms() - t0;
    phx_object_t *o;
    CU_ASSERT_EQUAL_FATAL(phx_object_from_string(c.orb, procs[0].ior, &o,
                                                 NULL),
                          PHX_OK);
    phx_env_t env = PHX_ENV_INIT;
    int64_t t;
    t0 = h_now_ms();
    for (int i = 0; i < 990; i++)
        phxtest_Member_echo(o, i, &t, &env);
    long long plain = h_now_ms() - t0;
    phx_object_release(o);
    client_close(&c);
    printf("\n    round trip: cold passive %.1f us, unreplicated %.1f us "
           "(990 calls each)",
           cold * 1000.0 / 990, plain * 1000.0 / 990);
    kill9(0);
    CU_ASSERT_FATAL(start(1, ck));
    CU_ASSERT_FATAL(wait_for(&procs[1], is_primary, START_MS));
    CU_ASSERT_EQUAL(procs[1].total, 1000);
    CU_ASSERT_EQUAL(procs[1].recovered, 1000);
    printf("\n    recovery of a 1 MB state + %lld log records: %lld us",
           procs[1].recovered, procs[1].recovery_us);
    /* Again with an empty log: no replay, no new checkpoint. */
    kill9(1);
    CU_ASSERT_FATAL(start(2, ck));
    CU_ASSERT_FATAL(wait_for(&procs[2], is_primary, START_MS));
    CU_ASSERT_EQUAL(procs[2].total, 1000);
    printf("\n    recovery of a 1 MB state alone: %lld us",
           procs[2].recovery_us);
    kill_all();
    remove_dir();
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("ft-cold", NULL, NULL);
    if (s == NULL ||
        !CU_add_test(s, "fail-over: exactly once across SIGKILL",
                     test_failover) ||
        !CU_add_test(s, "every member killed: recovery and cached replies",
                     test_all_die) ||
        !CU_add_test(s, "torn log tail dropped", test_torn_tail) ||
        !CU_add_test(s, "corrupt log record: refuses to serve",
                     test_corrupt_middle) ||
        !CU_add_test(s, "corrupt checkpoint: refuses to serve",
                     test_corrupt_checkpoint) ||
        !CU_add_test(s, "crash between checkpoint and log truncation",
                     test_checkpoint_crash) ||
        !CU_add_test(s, "a backup answers TRANSIENT, COMPLETED_NO",
                     test_backup_refuses) ||
        !CU_add_test(s, "log write error: the primary steps down",
                     test_write_error) ||
        !CU_add_test(s, "figures", test_figures)) {
        CU_cleanup_registry();
        return 1;
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures();
    CU_cleanup_registry();
    kill_all();
    if (dir[0])
        remove_dir();
    return failed ? 1 : 0;
}
