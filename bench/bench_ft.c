/*
 * bench_ft.c - benchmarks of replicated object groups (ft/): the cost of
 * a call through an ACTIVE or WARM_PASSIVE group against the same call
 * unreplicated, and the wait of a call across the crash of its replica.
 * The replicas are the test programs tests/ft/active_member and
 * tests/ft/passive_member (found under $PHX_BUILDDIR), each a process of
 * its own on loopback; the group reference (IOGR) comes from the FT group
 * registry and the client has the FT client interceptor installed.
 *
 *   bench_ft [NAME...]      run the figures named (default: all)
 *   bench_ft --list         list the figure names
 *
 * One line per figure on stdout:
 *
 *   NAME: median_us=M p99_us=P ops_s=T vs=BASELINE ratio=R [extra=...]
 *
 *   ft_active_3      round trip of phxtest::Member::add through a
 *                    3-replica ACTIVE group.  vs=ft_plain: the same call on
 *                    one replica's plain (unreplicated) reference, measured
 *                    in the same run, interleaved; ratio = median / plain
 *                    median (goal <= 2).  The plain figure is printed
 *                    first as ft_plain; every group figure gives its
 *                    own run's plain median as base_us.
 *   ft_active_5      the same with 5 replicas.
 *   ft_warm_3        the same with a 3-member WARM_PASSIVE group (the
 *                    primary executes, then multicasts its state).
 *   ft_cold_3        the same with a 3-member COLD_PASSIVE group
 *                    (tests/ft/cold_member on a store in /tmp: the
 *                    primary executes, appends the request to its log and
 *                    fdatasyncs it before replying).
 *   ft_groups_10k    round trip of add through a STATELESS group served
 *                    with the FT server interceptor (stale-reference check
 *                    and reply cache per group), with 10,000 groups in the
 *                    same server and client processes and the calls spread
 *                    over all of them, against the same with 1 group
 *                    (vs=ft_groups_1; the server runs in this process);
 *                    ratio = median with 10,000 / median with 1 (goal
 *                    <= 1.2).
 *   ft_failover      ACTIVE, 3 replicas: the replica the client talks to
 *                    is killed with SIGKILL and one call is made at once;
 *                    the wait is the time from the kill to that call's
 *                    reply, or the longest single call of those made
 *                    back to back in the 300 ms after the kill (while the
 *                    survivors change view) when that is longer.  After each kill a replacement joins through a
 *                    survivor and the group reference is rebuilt, so the
 *                    group stays at 3.  median and p99 over BENCH_KILLS
 *                    kills; vs=goal_50ms, ratio = p99 / 50 ms.
 *   ft_throughput_3  requests/s of 16 client threads calling add through
 *                    a 3-replica ACTIVE group; vs=ft_plain_16: the same
 *                    threads on one replica's plain reference, same run;
 *                    ratio = group ops_s / plain ops_s (base_ops_s).
 *                    median_us/p99_us: per-call latency seen by the
 *                    threads.
 *
 * Environment: BENCH_SCALE (call-count multiplier, default 1), BENCH_RUNS
 * (interleaved rounds per latency figure, default 5), BENCH_KILLS
 * (default 20), BENCH_VERBOSE=1 (progress on stderr).
 */
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <phx/ft.h>
#include <phx/phx.h>
#include <phx/transport.h>

#include "tests/ft/gen/ft_test.h"
#include "tests/ft/member.h"
#include "tests/integration/harness.h"

#define MAX_MEMBERS 5
#define START_MS 20000
#define GOAL_FAILOVER_US 50000.0
#define THREADS 16
#define WINDOW_US 300000

static double scale = 1.0;
static int runs = 5;
static int kills = 20;
static bool verbose;

typedef struct group {
    const char *prog; /* tests/ft/active_member, passive_ or cold_member */
    bool passive;
    char dir[64];     /* cold_member: the store */
    int n;
    hproc_t procs[MAX_MEMBERS];
    bool alive[MAX_MEMBERS];
    char gcs[MAX_MEMBERS][512];
    char loc[MAX_MEMBERS][32];
    phx_ior_t iors[MAX_MEMBERS];
    phx_ft_registry_t *reg;
    uint64_t gid;
    int serial; /* for unique locations of replacements */
} group_t;

static group_t *live; /* the group to kill on exit */
static phx_orb_t *orb;
static phx_ft_client_t *ftc;

static void kill_group(group_t *g)
{
    for (int i = 0; i < g->n; i++) {
        if (g->alive[i])
            h_kill(&g->procs[i], SIGKILL, 5000);
        g->alive[i] = false;
    }
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2),
                                                     noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "bench_ft: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    if (live)
        kill_group(live);
    exit(1);
}

/* ------------------------------------------------------------------ */
/* Replica processes and the group reference                           */
/* ------------------------------------------------------------------ */

/* Read lines of member i until it has given its GCS endpoint (when
 * want_gcs), its reference (when want_ior) and, when want_primary, said
 * PRIMARY. */
static void read_member(group_t *g, int i, bool want_gcs, bool want_ior,
                        bool want_primary)
{
    char line[8192];
    long long deadline = h_now_ms() + START_MS;
    while (want_gcs || want_ior || want_primary) {
        long long left = deadline - h_now_ms();
        if (left <= 0 ||
            h_read_line(&g->procs[i], line, sizeof line, (int)left) < 0)
            die("%s %d: not ready", g->prog, i);
        if (strncmp(line, "GCS ", 4) == 0) {
            size_t n = strlen(line + 4);
            if (n >= sizeof g->gcs[i])
                die("%s %d: endpoint too long", g->prog, i);
            memcpy(g->gcs[i], line + 4, n + 1);
            want_gcs = false;
        } else if (strncmp(line, "READY ", 6) == 0) {
            if (phx_ior_from_string(line + 6, &g->iors[i], NULL) != PHX_OK)
                die("%s %d: bad reference", g->prog, i);
            want_ior = false;
        } else if (strncmp(line, "PRIMARY", 7) == 0) {
            want_primary = false;
        }
    }
}

static void spawn_member(group_t *g, int i, const char *seed)
{
    char members[8];
    snprintf(members, sizeof members, "%d", g->n);
    char *argv[] = {(char *)h_prog(g->prog), "--members", members,
                    seed ? "--seed" : NULL, (char *)seed, NULL};
    char *cold_argv[] = {(char *)h_prog(g->prog), "--dir", g->dir, NULL};
    if (g->dir[0]) {
        if (h_spawn(&g->procs[i], cold_argv) != 0)
            die("cannot start %s", g->prog);
        g->alive[i] = true;
        return;
    }
    if (h_spawn(&g->procs[i], argv) != 0)
        die("cannot start %s", g->prog);
    g->alive[i] = true;
}

static void add_to_registry(group_t *g, int i)
{
    phx_error_t err;
    snprintf(g->loc[i], sizeof g->loc[i], "replica-%d", g->serial++);
    if (phx_ft_registry_add_member(g->reg, g->gid, g->loc[i], &g->iors[i],
                                   &err) != PHX_OK)
        die("registry: %s", err.msg);
}

static void start_group(group_t *g, const char *prog, bool passive, int n)
{
    memset(g, 0, sizeof *g);
    g->prog = prog;
    g->passive = passive;
    g->n = n;
    live = g;
    bool cold = strstr(prog, "cold_member") != NULL;
    if (cold) {
        snprintf(g->dir, sizeof g->dir, "/tmp/phx-bench-cold-XXXXXX");
        if (mkdtemp(g->dir) == NULL)
            die("mkdtemp: cannot make a store");
    }
    /* The first member is the oldest (the WARM_PASSIVE primary): the
     * others join through it once it is up.  COLD_PASSIVE members share
     * the store; the first takes its lock. */
    spawn_member(g, 0, NULL);
    read_member(g, 0, !cold, cold, passive || cold);
    for (int i = 1; i < n; i++)
        spawn_member(g, i, g->gcs[0]);
    for (int i = cold ? 1 : 0; i < n; i++)
        read_member(g, i, i > 0 && !cold, true, false);
    phx_error_t err;
    if (phx_ft_registry_create("phalanx-bench", &g->reg, &err) != PHX_OK ||
        phx_ft_registry_create_group(g->reg, phxtest_Member__repo_id,
                                     &g->gid, &err) != PHX_OK)
        die("registry: %s", err.msg);
    for (int i = 0; i < n; i++)
        add_to_registry(g, i);
}

static void stop_group(group_t *g)
{
    for (int i = 0; i < g->n; i++) {
        if (g->alive[i])
            h_kill(&g->procs[i], SIGTERM, 5000);
        g->alive[i] = false;
        phx_ior_fini(&g->iors[i]);
    }
    phx_ft_registry_destroy(g->reg);
    if (g->dir[0]) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", g->dir);
        if (system(cmd) != 0)
            fprintf(stderr, "bench_ft: cannot remove %s\n", g->dir);
    }
    live = NULL;
}

static phx_object_t *group_ref(group_t *g)
{
    phx_ior_t iogr;
    uint32_t version;
    phx_object_t *obj;
    phx_error_t err;
    if (phx_ft_registry_get_iogr(g->reg, g->gid, &iogr, &version) != PHX_OK)
        die("registry: no IOGR");
    if (phx_object_from_ior(orb, &iogr, &obj, &err) != PHX_OK)
        die("IOGR: %s", err.msg);
    phx_ior_fini(&iogr);
    return obj;
}

static phx_object_t *plain_ref(group_t *g, int i)
{
    phx_object_t *obj;
    phx_error_t err;
    if (phx_object_from_ior(orb, &g->iors[i], &obj, &err) != PHX_OK)
        die("reference: %s", err.msg);
    return obj;
}

static void client_start(void)
{
    phx_orb_config_t cfg;
    phx_orb_config_init(&cfg);
    cfg.call_timeout_ms = 10000;
    cfg.connect_timeout_ms = 1000;
    cfg.max_forwards = 64;
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
/* Measurements                                                         */
/* ------------------------------------------------------------------ */

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static void call_add(phx_object_t *obj)
{
    phx_env_t env = PHX_ENV_INIT;
    int64_t total;
    if (phxtest_Member_add(obj, 1, &total, &env) != PHX_OK) {
        char what[256];
        phx_env_describe(&env, what, sizeof what);
        die("add: %s", what);
    }
}

/* n timed sequential calls, appended to s[*ns]. */
static void timed_calls(phx_object_t *obj, int n, int64_t *s, int *ns)
{
    for (int i = 0; i < n; i++) {
        int64_t t0 = phx_now_us();
        call_add(obj);
        s[(*ns)++] = phx_now_us() - t0;
    }
}

static void print_fig(const char *name, double med, double p99, double ops,
                      const char *vs, double ratio, const char *extra)
{
    printf("%s: median_us=%.2f p99_us=%.2f ops_s=%.0f vs=%s ratio=%.2f%s%s\n",
           name, med, p99, ops, vs, ratio, extra ? " " : "",
           extra ? extra : "");
    fflush(stdout);
}

typedef struct stats {
    double med, p99, ops;
} stats_t;

static stats_t summarize(int64_t *s, int n)
{
    qsort(s, (size_t)n, sizeof s[0], cmp_i64);
    int64_t sum = 0;
    for (int i = 0; i < n; i++)
        sum += s[i];
    stats_t st = {(double)s[n / 2], (double)s[(n * 99) / 100],
                  sum > 0 ? (double)n * 1e6 / (double)sum : 0};
    return st;
}

/* Round trip through a group of n replicas against one replica's plain
 * reference, in interleaved blocks. */
static void latency_figure(const char *name, const char *prog, bool passive,
                           int n, bool print_plain)
{
    group_t g;
    start_group(&g, prog, passive, n);
    phx_object_t *grp = group_ref(&g), *plain = plain_ref(&g, 0);
    int per = (int)(2000 * scale);
    if (per < 20)
        per = 20;
    int cap = per * runs;
    int64_t *sg = malloc(sizeof *sg * (size_t)cap);
    int64_t *sp = malloc(sizeof *sp * (size_t)cap);
    if (!sg || !sp)
        die("out of memory");
    int ng = 0, np = 0;
    /* warm-up: connections, the FT client's group state */
    for (int i = 0; i < 200; i++) {
        call_add(grp);
        call_add(plain);
    }
    for (int r = 0; r < runs; r++) {
        timed_calls(plain, per, sp, &np);
        timed_calls(grp, per, sg, &ng);
    }
    stats_t p = summarize(sp, np), q = summarize(sg, ng);
    if (verbose)
        fprintf(stderr, "# %s: %d calls each\n", name, ng);
    char extra[64];
    snprintf(extra, sizeof extra, "base_us=%.2f", p.med);
    if (print_plain)
        print_fig("ft_plain", p.med, p.p99, p.ops, "none", 1.0, NULL);
    print_fig(name, q.med, q.p99, q.ops, "ft_plain", q.med / p.med, extra);
    free(sg);
    free(sp);
    phx_object_release(grp);
    phx_object_release(plain);
    stop_group(&g);
}

static void fig_active_3(void)
{
    latency_figure("ft_active_3", "tests/ft/active_member", false, 3, true);
}

static void fig_active_5(void)
{
    latency_figure("ft_active_5", "tests/ft/active_member", false, 5, false);
}

static void fig_cold_3(void)
{
    latency_figure("ft_cold_3", "tests/ft/cold_member", true, 3, false);
}

/* ---- many groups in one process ---- */

typedef struct many {
    phx_orb_t *orb;
    phx_ft_server_t *ft;
    member_t m;
    pthread_t thread;
    phx_object_t **grp; /* client references, one per group */
    size_t n;
} many_t;

static void *many_serve(void *arg)
{
    phx_orb_run(arg);
    return NULL;
}

/* A server with n groups, each a servant key "g<i>" in a one-member
 * STATELESS group, and client references to every group. */
static void many_start(many_t *mm, size_t n)
{
    memset(mm, 0, sizeof *mm);
    const char *ep = "tcp://127.0.0.1:*";
    phx_orb_config_t cfg;
    phx_orb_config_init(&cfg);
    cfg.listen = &ep;
    cfg.listen_count = 1;
    cfg.workers = 1;
    phx_error_t err;
    if (phx_orb_create(&cfg, &mm->orb, &err) != PHX_OK ||
        phx_ft_server_install(mm->orb, NULL, &mm->ft, &err) != PHX_OK)
        die("server: %s", err.msg);
    member_init(&mm->m, mm->orb, mm->ft, "g0");
    mm->grp = calloc(n, sizeof *mm->grp);
    if (mm->grp == NULL)
        die("out of memory");
    mm->n = n;
    for (size_t i = 0; i < n; i++) {
        char key[32];
        snprintf(key, sizeof key, "g%zu", i);
        phx_object_t *ref;
        phx_ior_t ior, iogr;
        if (phx_orb_activate(mm->orb, &mm->m.servant.base, key, strlen(key),
                             &ref, &err) != PHX_OK ||
            phx_object_get_ior(ref, &ior) != PHX_OK)
            die("activate %s: %s", key, err.msg);
        phx_ft_iogr_spec_t spec = {
            .ft_domain_id = "bench",
            .object_group_id = i + 1,
            .object_group_ref_version = 1,
            .members = &ior,
            .member_count = 1,
            .primary = PHX_FT_NO_PRIMARY,
        };
        if (phx_ft_iogr_build(&spec, &iogr, &err) != PHX_OK ||
            phx_ft_server_set_group(mm->ft, key, strlen(key), &iogr,
                                    &err) != PHX_OK ||
            phx_object_from_ior(orb, &iogr, &mm->grp[i], &err) != PHX_OK)
            die("group %zu: %s", i, err.msg);
        phx_ior_fini(&ior);
        phx_ior_fini(&iogr);
        phx_object_release(ref);
    }
    if (pthread_create(&mm->thread, NULL, many_serve, mm->orb) != 0)
        die("cannot start the server thread");
}

static void many_stop(many_t *mm)
{
    for (size_t i = 0; i < mm->n; i++)
        phx_object_release(mm->grp[i]);
    free(mm->grp);
    phx_orb_shutdown(mm->orb);
    pthread_join(mm->thread, NULL);
    phx_orb_destroy(mm->orb);
    phx_ft_server_destroy(mm->ft);
}

/* n calls spread round-robin over the groups of mm. */
static void many_calls(many_t *mm, int n, size_t *next, int64_t *s,
                       int *ns)
{
    for (int i = 0; i < n; i++) {
        phx_object_t *o = mm->grp[(*next)++ % mm->n];
        int64_t t0 = phx_now_us();
        call_add(o);
        s[(*ns)++] = phx_now_us() - t0;
    }
}

static void fig_groups_10k(void)
{
    many_t one, many;
    many_start(&one, 1);
    many_start(&many, 10000);
    int per = (int)(4000 * scale);
    if (per < 20)
        per = 20;
    int cap = per * runs;
    int64_t *s1 = malloc(sizeof *s1 * (size_t)cap);
    int64_t *sn = malloc(sizeof *sn * (size_t)cap);
    if (!s1 || !sn)
        die("out of memory");
    size_t n1 = 0, nn = 0;
    int c1 = 0, cn = 0;
    /* warm-up: every group called once (connections, client state) */
    for (int i = 0; i < 200; i++)
        call_add(one.grp[0]);
    for (size_t i = 0; i < many.n; i++)
        call_add(many.grp[i]);
    for (int r = 0; r < runs; r++) {
        many_calls(&one, per, &n1, s1, &c1);
        many_calls(&many, per, &nn, sn, &cn);
    }
    stats_t a = summarize(s1, c1), b = summarize(sn, cn);
    char extra[64];
    snprintf(extra, sizeof extra, "base_us=%.2f", a.med);
    print_fig("ft_groups_10k", b.med, b.p99, b.ops, "ft_groups_1",
              b.med / a.med, extra);
    free(s1);
    free(sn);
    many_stop(&many);
    many_stop(&one);
}

static void fig_warm_3(void)
{
    latency_figure("ft_warm_3", "tests/ft/passive_member", true, 3, false);
}

static int replica_of(group_t *g, phx_object_t *grp)
{
    phx_env_t env = PHX_ENV_INIT;
    int32_t pid = 0;
    if (phxtest_Member_pid(grp, &pid, &env) != PHX_OK)
        die("pid() through the group failed");
    for (int i = 0; i < g->n; i++)
        if (g->alive[i] && g->procs[i].pid == (pid_t)pid)
            return i;
    die("pid() answered by an unknown process %d", (int)pid);
}

static void fig_failover(void)
{
    group_t g;
    start_group(&g, "tests/ft/active_member", false, 3);
    phx_object_t *grp = group_ref(&g);
    int64_t *s = malloc(sizeof *s * (size_t)kills);
    if (!s)
        die("out of memory");
    int64_t t_start = phx_now_us();
    for (int k = 0; k < kills; k++) {
        for (int i = 0; i < 20; i++)
            call_add(grp);
        int v = replica_of(&g, grp);
        int64_t t0 = phx_now_us();
        kill(g.procs[v].pid, SIGKILL);
        call_add(grp);
        s[k] = phx_now_us() - t0;
        /* The survivors' view change follows: calls made meanwhile wait
         * too, and the longest of them counts when it is longer. */
        while (phx_now_us() - t0 < WINDOW_US) {
            int64_t t1 = phx_now_us();
            call_add(grp);
            if (phx_now_us() - t1 > s[k])
                s[k] = phx_now_us() - t1;
        }
        if (verbose)
            fprintf(stderr, "# ft_failover kill %d: %.1f ms\n", k + 1,
                    (double)s[k] / 1000);
        h_kill(&g.procs[v], SIGKILL, 5000);
        g.alive[v] = false;
        phx_ior_fini(&g.iors[v]);
        phx_ft_registry_remove_member(g.reg, g.gid, g.loc[v]);
        spawn_member(&g, v, g.gcs[(v + 1) % g.n]);
        read_member(&g, v, true, true, false);
        add_to_registry(&g, v);
        phx_object_release(grp);
        grp = group_ref(&g);
    }
    double secs = (double)(phx_now_us() - t_start) / 1e6;
    stats_t st = summarize(s, kills);
    print_fig("ft_failover", st.med, st.p99, kills / secs, "goal_50ms",
              st.p99 / GOAL_FAILOVER_US, NULL);
    free(s);
    phx_object_release(grp);
    stop_group(&g);
}

typedef struct worker {
    pthread_t th;
    phx_object_t *obj;
    int64_t until;
    int64_t *s;
    int cap, n;
} worker_t;

static void *worker_main(void *arg)
{
    worker_t *w = arg;
    while (phx_now_us() < w->until && w->n < w->cap) {
        int64_t t0 = phx_now_us();
        call_add(w->obj);
        w->s[w->n++] = phx_now_us() - t0;
    }
    return NULL;
}

/* THREADS threads calling obj for ms milliseconds; ops/s and latency. */
static stats_t concurrent(phx_object_t *obj, int ms)
{
    worker_t w[THREADS];
    int cap = 200000;
    int64_t t0 = phx_now_us();
    for (int i = 0; i < THREADS; i++) {
        w[i] = (worker_t){.obj = obj, .until = t0 + (int64_t)ms * 1000,
                          .cap = cap};
        w[i].s = malloc(sizeof *w[i].s * (size_t)cap);
        if (!w[i].s || pthread_create(&w[i].th, NULL, worker_main, &w[i]))
            die("cannot start a client thread");
    }
    int total = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(w[i].th, NULL);
        total += w[i].n;
    }
    double secs = (double)(phx_now_us() - t0) / 1e6;
    int64_t *all = malloc(sizeof *all * (size_t)(total ? total : 1));
    if (!all)
        die("out of memory");
    int n = 0;
    for (int i = 0; i < THREADS; i++) {
        memcpy(all + n, w[i].s, sizeof *all * (size_t)w[i].n);
        n += w[i].n;
        free(w[i].s);
    }
    stats_t st = {0, 0, 0};
    if (n > 0)
        st = summarize(all, n);
    st.ops = (double)n / secs;
    free(all);
    return st;
}

static void fig_throughput_3(void)
{
    group_t g;
    start_group(&g, "tests/ft/active_member", false, 3);
    phx_object_t *grp = group_ref(&g), *plain = plain_ref(&g, 0);
    call_add(grp);
    call_add(plain);
    int ms = (int)(2000 * scale);
    if (ms < 200)
        ms = 200;
    stats_t p = concurrent(plain, ms);
    stats_t q = concurrent(grp, ms);
    char extra[64];
    snprintf(extra, sizeof extra, "base_ops_s=%.0f base_us=%.2f", p.ops,
             p.med);
    print_fig("ft_throughput_3", q.med, q.p99, q.ops, "ft_plain_16",
              p.ops > 0 ? q.ops / p.ops : 0, extra);
    phx_object_release(grp);
    phx_object_release(plain);
    stop_group(&g);
}

typedef struct figure {
    const char *name;
    void (*run)(void);
} figure_t;

static const figure_t figures[] = {
    {"ft_active_3", fig_active_3},
    {"ft_active_5", fig_active_5},
    {"ft_warm_3", fig_warm_3},
    {"ft_failover", fig_failover},
    {"ft_throughput_3", fig_throughput_3},
    {"ft_cold_3", fig_cold_3},
    {"ft_groups_10k", fig_groups_10k},
};

int main(int argc, char **argv)
{
    const char *e;
    if ((e = getenv("BENCH_SCALE")) && atof(e) > 0)
        scale = atof(e);
    if ((e = getenv("BENCH_RUNS")) && atoi(e) > 0)
        runs = atoi(e);
    if ((e = getenv("BENCH_KILLS")) && atoi(e) > 0)
        kills = atoi(e);
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
            fprintf(stderr, "bench_ft: unknown figure '%s' (--list)\n",
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
