/*
 * bench_nd.c - benchmarks of consistent non-determinism (<phx/ft_nd.h>,
 * ft/nd.c) and of SEMI_ACTIVE with the lease sample (samples/lease).
 *
 *   bench_nd [NAME...]      run the figures named (default: all)
 *   bench_nd --list         list the figure names
 *
 * One line per figure on stdout:
 *
 *   NAME: median_us=M p99_us=P ops_s=T vs=BASELINE ratio=R [extra=...]
 *
 *   nd_now         in process: one phx_ft_now inside a replicated
 *                  invocation as the SEMI_ACTIVE leader has it (a RECORD
 *                  context on a group clock: the clock's lock, the wall
 *                  clock, an entry appended to the request's log), per
 *                  call, against a plain clock_gettime(CLOCK_REALTIME)
 *                  (vs=clock_gettime, ratio = median / plain median).
 *                  Blocks of 1000 calls, one context per block (a
 *                  request that reads the clock 1000 times); median and
 *                  p99 over the blocks.  Extras: base_us (clock_gettime),
 *                  fixed_us (ACTIVE / passive: FIXED context), replay_us
 *                  (a SEMI_ACTIVE follower replaying the log), outside_us
 *                  (phx_ft_now outside any context: the fall-through).
 *   nd_threads     requests/s of the lease sample in a 3-replica
 *                  SEMI_ACTIVE group (samples/lease/lease-replica, one
 *                  process each on loopback, multithreaded servant) with
 *                  4 ORB workers per replica, 8 client threads each
 *                  repeating acquire (own resource) / audit (5 ms of
 *                  blocking work outside the table's phx_ft_mutex) /
 *                  release.  vs=nd_threads_1: the same with 1 worker per
 *                  replica (printed first); ratio = ops_s with 4 / ops_s
 *                  with 1.  median_us/p99_us: per-call latency.
 *   nd_divergence  round trip of tick() through a 3-replica SEMI_ACTIVE
 *                  lease group holding 100 leases, served one request at
 *                  a time with the divergence detector's state digest
 *                  after every request (LEASE_CHECK_EVERY=1: get_state
 *                  and a digest on the leader and on each follower),
 *                  against the same group with replies only compared
 *                  (LEASE_CHECK_EVERY=0); both groups run at once and are
 *                  called in interleaved blocks.  vs=nd_divergence_off,
 *                  ratio = median with / median without.
 *
 * The replicas are found under $PHX_BUILDDIR (bench/run sets it).
 * Environment: BENCH_SCALE (call-count multiplier, default 1), BENCH_RUNS
 * (interleaved rounds, default 5), BENCH_VERBOSE=1.
 */
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <phx/ft.h>
#include <phx/ft_nd.h>
#include <phx/phx.h>
#include <phx/transport.h>

#include "samples/lease/gen/lease.h"
#include "tests/integration/harness.h"

#define MEMBERS 3
#define START_MS 20000
#define CLIENTS 8
#define AUDIT_MS 5
#define BLOCK 1000

static double scale = 1.0;
static int runs = 5;
static bool verbose;
static phx_orb_t *orb;
static phx_ft_client_t *ftc;

typedef struct group {
    hproc_t procs[MEMBERS];
    bool alive[MEMBERS];
    phx_ior_t iors[MEMBERS];
    phx_object_t *ref; /* the IOGR */
} group_t;

static group_t *live[2];

static void kill_all(void)
{
    for (int k = 0; k < 2; k++)
        for (int i = 0; live[k] && i < MEMBERS; i++)
            if (live[k]->alive[i]) {
                h_kill(&live[k]->procs[i], SIGKILL, 5000);
                live[k]->alive[i] = false;
            }
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2),
                                                     noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "bench_nd: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    kill_all();
    exit(1);
}

/* ------------------------------------------------------------------ */
/* Figures printing                                                     */
/* ------------------------------------------------------------------ */

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef struct stats {
    double med, p99, ops;
} stats_t;

/* Samples in us. */
static stats_t summarize(double *s, int n)
{
    qsort(s, (size_t)n, sizeof s[0], cmp_dbl);
    double sum = 0;
    for (int i = 0; i < n; i++)
        sum += s[i];
    stats_t st = {s[n / 2], s[(n * 99) / 100],
                  sum > 0 ? (double)n * 1e6 / sum : 0};
    return st;
}

static void print_fig(const char *name, int prec, stats_t st,
                      const char *vs, double ratio, const char *extra)
{
    printf("%s: median_us=%.*f p99_us=%.*f ops_s=%.0f vs=%s ratio=%.2f%s%s\n",
           name, prec, st.med, prec, st.p99, st.ops, vs, ratio,
           extra ? " " : "", extra ? extra : "");
    fflush(stdout);
}

/* ------------------------------------------------------------------ */
/* nd_now                                                               */
/* ------------------------------------------------------------------ */

static double mono_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static volatile uint64_t sink;

enum { K_PLAIN, K_OUTSIDE, K_FIXED, K_RECORD, K_REPLAY };

/* One block of BLOCK calls of kind k; us per call. */
static double now_block(int k, phx_ft_group_clock_t *gc)
{
    struct timespec ts;
    phx_ft_nd_ctx_t ctx, rec;
    if (k == K_FIXED)
        phx_ft_nd_begin_fixed(&ctx, phx_ft_nd_wall_ns(), 1, false);
    else if (k == K_RECORD)
        phx_ft_nd_begin_record(&ctx, gc, 1);
    if (k == K_REPLAY) {
        /* record a block first (not timed), then replay it */
        phx_ft_nd_begin_record(&rec, gc, 1);
        for (int i = 0; i < BLOCK; i++)
            phx_ft_now(PHX_FT_CLOCK_REALTIME, &ts);
        phx_ft_nd_end(&rec);
        phx_ft_nd_begin_replay(&ctx, rec.log, rec.log_len, 1);
    }
    double t0 = mono_ns();
    for (int i = 0; i < BLOCK; i++) {
        if (k == K_PLAIN)
            clock_gettime(CLOCK_REALTIME, &ts);
        else
            phx_ft_now(PHX_FT_CLOCK_REALTIME, &ts);
        sink += (uint64_t)ts.tv_nsec;
    }
    double us = (mono_ns() - t0) / 1000.0 / BLOCK;
    if (k == K_FIXED || k == K_RECORD || k == K_REPLAY) {
        if (k == K_REPLAY && ctx.diverged)
            die("nd_now: the replay diverged: %s", ctx.why);
        phx_ft_nd_end(&ctx);
        phx_ft_nd_ctx_fini(&ctx);
    }
    if (k == K_REPLAY)
        phx_ft_nd_ctx_fini(&rec);
    return us;
}

static void fig_now(void)
{
    int blocks = (int)(400 * scale);
    if (blocks < 20)
        blocks = 20;
    int n = blocks * runs;
    double *s[5];
    for (int k = 0; k < 5; k++)
        if ((s[k] = malloc(sizeof *s[k] * (size_t)n)) == NULL)
            die("out of memory");
    phx_ft_group_clock_t gc;
    phx_ft_group_clock_init(&gc, 0);
    for (int k = 0; k < 5; k++) /* warm-up */
        now_block(k, &gc);
    int ns = 0;
    for (int r = 0; r < runs; r++)
        for (int b = 0; b < blocks; b++, ns++)
            for (int k = 0; k < 5; k++)
                s[k][ns] = now_block(k, &gc);
    stats_t st[5];
    for (int k = 0; k < 5; k++)
        st[k] = summarize(s[k], ns);
    char extra[160];
    snprintf(extra, sizeof extra,
             "base_us=%.4f outside_us=%.4f fixed_us=%.4f replay_us=%.4f",
             st[K_PLAIN].med, st[K_OUTSIDE].med, st[K_FIXED].med,
             st[K_REPLAY].med);
    print_fig("nd_now", 4, st[K_RECORD], "clock_gettime",
              st[K_RECORD].med / st[K_PLAIN].med, extra);
    phx_ft_group_clock_fini(&gc);
    for (int k = 0; k < 5; k++)
        free(s[k]);
}

/* ------------------------------------------------------------------ */
/* Lease groups                                                         */
/* ------------------------------------------------------------------ */

/* Lines of member i until READY. */
static void read_member(group_t *g, int i)
{
    char line[8192];
    long long deadline = h_now_ms() + START_MS;
    for (;;) {
        long long left = deadline - h_now_ms();
        if (left <= 0 ||
            h_read_line(&g->procs[i], line, sizeof line, (int)left) < 0)
            die("lease-replica %d: not ready", i);
        if (strncmp(line, "READY ", 6) == 0) {
            if (phx_ior_from_string(line + 6, &g->iors[i], NULL) != PHX_OK)
                die("lease-replica %d: bad reference", i);
            return;
        }
    }
}

/* 3 replicas of samples/lease under group name, with workers ORB
 * workers, LEASE_CHECK_EVERY=check_every (NULL: unset, multithreaded). */
static void start_group(group_t *g, int slot, const char *name,
                        int workers, const char *check_every)
{
    memset(g, 0, sizeof *g);
    live[slot] = g;
    if (check_every)
        setenv("LEASE_CHECK_EVERY", check_every, 1);
    else
        unsetenv("LEASE_CHECK_EVERY");
    char w[16], gcs[512] = "";
    snprintf(w, sizeof w, "%d", workers);
    for (int i = 0; i < MEMBERS; i++) {
        char *argv[] = {(char *)h_prog("samples/lease/lease-replica"),
                        "--group", (char *)name, "--style", "semi_active",
                        "--members", "3", "--workers", w,
                        "--heartbeat-ms", "100", "--timeout-ms", "1000",
                        i ? "--seed" : NULL, gcs, NULL};
        if (h_spawn(&g->procs[i], argv) != 0)
            die("cannot start lease-replica");
        g->alive[i] = true;
        if (i == 0) {
            /* its GCS line first (READY waits for the others) */
            char line[8192];
            long long deadline = h_now_ms() + START_MS;
            while (gcs[0] == '\0') {
                long long left = deadline - h_now_ms();
                if (left <= 0 || h_read_line(&g->procs[0], line,
                                             sizeof line, (int)left) < 0)
                    die("lease-replica 0: no GCS line");
                if (strncmp(line, "GCS ", 4) == 0) {
                    size_t len = strlen(line + 4);
                    if (len >= sizeof gcs)
                        die("lease-replica 0: endpoint too long");
                    memcpy(gcs, line + 4, len + 1);
                }
            }
        }
    }
    unsetenv("LEASE_CHECK_EVERY");
    for (int i = 0; i < MEMBERS; i++)
        read_member(g, i);
    phx_ft_iogr_spec_t spec = {
        .ft_domain_id = "bench-nd",
        .object_group_id = (uint64_t)slot + 1,
        .object_group_ref_version = 1,
        .members = g->iors,
        .member_count = MEMBERS,
        .primary = PHX_FT_NO_PRIMARY,
    };
    phx_ior_t iogr;
    phx_error_t err;
    if (phx_ft_iogr_build(&spec, &iogr, &err) != PHX_OK ||
        phx_object_from_ior(orb, &iogr, &g->ref, &err) != PHX_OK)
        die("IOGR: %s", err.msg);
    phx_ior_fini(&iogr);
}

static void stop_group(group_t *g, int slot)
{
    phx_object_release(g->ref);
    for (int i = 0; i < MEMBERS; i++) {
        if (g->alive[i])
            h_kill(&g->procs[i], SIGTERM, 5000);
        g->alive[i] = false;
        phx_ior_fini(&g->iors[i]);
    }
    live[slot] = NULL;
}

static void check(int rc, phx_env_t *env, const char *what)
{
    if (rc == PHX_OK)
        return;
    char buf[256];
    phx_env_describe(env, buf, sizeof buf);
    die("%s: %s", what, buf);
}

static void client_start(void)
{
    phx_orb_config_t cfg;
    phx_orb_config_init(&cfg);
    cfg.call_timeout_ms = 10000;
    cfg.connect_timeout_ms = 1000;
    phx_error_t err;
    if (phx_orb_create(&cfg, &orb, &err) != PHX_OK)
        die("orb: %s", err.msg);
    phx_ft_client_config_t fcfg;
    phx_ft_client_config_init(&fcfg);
    fcfg.request_duration_ms = 30000;
    if (phx_ft_client_install(orb, &fcfg, &ftc, &err) != PHX_OK)
        die("ft client: %s", err.msg);
}

/* ------------------------------------------------------------------ */
/* nd_threads                                                           */
/* ------------------------------------------------------------------ */

typedef struct worker {
    pthread_t th;
    phx_object_t *obj;
    int id;
    int64_t until;
    double *s;
    int cap, n;
} worker_t;

static void timed_call(worker_t *w, int64_t t0)
{
    if (w->n < w->cap)
        w->s[w->n++] = (double)(phx_now_us() - t0);
}

static void *worker_main(void *arg)
{
    worker_t *w = arg;
    phx_env_t env = PHX_ENV_INIT;
    char res[32], owner[32];
    snprintf(res, sizeof res, "bench-%d", w->id);
    snprintf(owner, sizeof owner, "w%d", w->id);
    while (phx_now_us() < w->until) {
        uint64_t id = 0, seen = 0;
        int64_t t0 = phx_now_us();
        check(Leasing_Leases_acquire(w->obj, res, owner, 60000, 0, &id, &env),
              &env, "acquire");
        timed_call(w, t0);
        t0 = phx_now_us();
        check(Leasing_Leases_audit(w->obj, res, AUDIT_MS, &seen, &env), &env,
              "audit");
        timed_call(w, t0);
        t0 = phx_now_us();
        check(Leasing_Leases_release(w->obj, id, &env), &env, "release");
        timed_call(w, t0);
    }
    return NULL;
}

static stats_t threads_run(int workers)
{
    group_t g;
    char name[64];
    snprintf(name, sizeof name, "bench-nd-threads-%d-%d", workers,
             (int)getpid());
    start_group(&g, 0, name, workers, NULL);
    phx_env_t env = PHX_ENV_INIT;
    uint32_t n;
    check(Leasing_Leases_tick(g.ref, &n, &env), &env, "tick");
    int ms = (int)(3000 * scale);
    if (ms < 500)
        ms = 500;
    worker_t w[CLIENTS];
    int64_t t0 = phx_now_us();
    for (int i = 0; i < CLIENTS; i++) {
        w[i] = (worker_t){.obj = g.ref, .id = i,
                          .until = t0 + (int64_t)ms * 1000, .cap = 200000};
        w[i].s = malloc(sizeof *w[i].s * (size_t)w[i].cap);
        if (!w[i].s || pthread_create(&w[i].th, NULL, worker_main, &w[i]))
            die("cannot start a client thread");
    }
    int total = 0;
    for (int i = 0; i < CLIENTS; i++) {
        pthread_join(w[i].th, NULL);
        total += w[i].n;
    }
    double secs = (double)(phx_now_us() - t0) / 1e6;
    double *all = malloc(sizeof *all * (size_t)(total ? total : 1));
    if (!all)
        die("out of memory");
    int k = 0;
    for (int i = 0; i < CLIENTS; i++) {
        memcpy(all + k, w[i].s, sizeof *all * (size_t)w[i].n);
        k += w[i].n;
        free(w[i].s);
    }
    stats_t st = {0, 0, 0};
    if (k > 0)
        st = summarize(all, k);
    st.ops = (double)k / secs;
    free(all);
    if (verbose)
        fprintf(stderr, "# nd_threads: %d workers: %d calls in %.2f s\n",
                workers, k, secs);
    stop_group(&g, 0);
    return st;
}

static void fig_threads(void)
{
    stats_t one = threads_run(1);
    stats_t four = threads_run(4);
    print_fig("nd_threads_1", 2, one, "none", 1.0, NULL);
    char extra[64];
    snprintf(extra, sizeof extra, "base_ops_s=%.0f", one.ops);
    print_fig("nd_threads", 2, four, "nd_threads_1",
              one.ops > 0 ? four.ops / one.ops : 0, extra);
}

/* ------------------------------------------------------------------ */
/* nd_divergence                                                        */
/* ------------------------------------------------------------------ */

static void populate(phx_object_t *ref)
{
    phx_env_t env = PHX_ENV_INIT;
    for (int i = 0; i < 100; i++) {
        char res[32];
        uint64_t id;
        snprintf(res, sizeof res, "held-%03d", i);
        check(Leasing_Leases_acquire(ref, res, "bench", 600000, 0, &id, &env),
              &env, "acquire");
    }
}

static void tick_calls(phx_object_t *ref, int n, double *s, int *ns)
{
    phx_env_t env = PHX_ENV_INIT;
    for (int i = 0; i < n; i++) {
        uint32_t x;
        int64_t t0 = phx_now_us();
        check(Leasing_Leases_tick(ref, &x, &env), &env, "tick");
        s[(*ns)++] = (double)(phx_now_us() - t0);
    }
}

static void fig_divergence(void)
{
    group_t on, off;
    char n1[64], n2[64];
    snprintf(n1, sizeof n1, "bench-nd-check-%d", (int)getpid());
    snprintf(n2, sizeof n2, "bench-nd-nocheck-%d", (int)getpid());
    start_group(&on, 0, n1, 4, "1");
    start_group(&off, 1, n2, 4, "0");
    populate(on.ref);
    populate(off.ref);
    int per = (int)(1000 * scale);
    if (per < 20)
        per = 20;
    int cap = per * runs;
    double *son = malloc(sizeof *son * (size_t)cap);
    double *soff = malloc(sizeof *soff * (size_t)cap);
    if (!son || !soff)
        die("out of memory");
    int non = 0, noff = 0;
    double warm[200];
    int nw = 0;
    tick_calls(on.ref, 100, warm, &nw);
    nw = 0;
    tick_calls(off.ref, 100, warm, &nw);
    for (int r = 0; r < runs; r++) {
        tick_calls(off.ref, per, soff, &noff);
        tick_calls(on.ref, per, son, &non);
    }
    stats_t a = summarize(soff, noff), b = summarize(son, non);
    char extra[64];
    snprintf(extra, sizeof extra, "base_us=%.2f", a.med);
    print_fig("nd_divergence_off", 2, a, "none", 1.0, NULL);
    print_fig("nd_divergence", 2, b, "nd_divergence_off", b.med / a.med,
              extra);
    free(son);
    free(soff);
    stop_group(&off, 1);
    stop_group(&on, 0);
}

typedef struct figure {
    const char *name;
    void (*run)(void);
} figure_t;

static const figure_t figures[] = {
    {"nd_now", fig_now},
    {"nd_threads", fig_threads},
    {"nd_divergence", fig_divergence},
};

int main(int argc, char **argv)
{
    const char *e;
    if ((e = getenv("BENCH_SCALE")) && atof(e) > 0)
        scale = atof(e);
    if ((e = getenv("BENCH_RUNS")) && atoi(e) > 0)
        runs = atoi(e);
    verbose = (e = getenv("BENCH_VERBOSE")) && *e == '1';
    signal(SIGPIPE, SIG_IGN);
    size_t nf = sizeof figures / sizeof figures[0];
    if (argc > 1 && strcmp(argv[1], "--list") == 0) {
        for (size_t i = 0; i < nf; i++)
            printf("%s\n", figures[i].name);
        return 0;
    }
    for (int a = 1; a < argc; a++) {
        bool found = false;
        for (size_t i = 0; i < nf; i++)
            found |= strcmp(argv[a], figures[i].name) == 0;
        if (!found) {
            fprintf(stderr, "bench_nd: unknown figure '%s' (--list)\n",
                    argv[a]);
            return 2;
        }
    }
    client_start();
    for (size_t i = 0; i < nf; i++) {
        bool want = argc == 1;
        for (int a = 1; a < argc; a++)
            want |= strcmp(argv[a], figures[i].name) == 0;
        if (want)
            figures[i].run();
    }
    phx_orb_destroy(orb);
    phx_ft_client_destroy(ftc);
    return 0;
}
