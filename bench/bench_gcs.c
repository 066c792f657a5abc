/*
 * bench_gcs.c - benchmarks of the group communication service (embedded
 * backend), each member in a process of its own on loopback, as Corosync
 * runs one daemon per node.
 *
 *   bench_gcs [NAME...]     run the figures named (default: all)
 *   bench_gcs --list        list the figure names
 *
 * One line per figure on stdout:
 *
 *   NAME: median_us=M p99_us=P ops_s=T vs=BASELINE ratio=R [extra=...]
 *
 *   gcs_order_3       100-byte messages ordered per second with 3 members
 *                     and 3 concurrent senders, counted when every member
 *                     has delivered every message.  median_us/p99_us: time
 *                     per message (1e6/ops_s) of the median / slowest run.
 *                     vs: Corosync CPG's ~56,000/s on this machine (agreed
 *                     order, weaker than our uniform order); ratio = ops_s
 *                     / 56,000.
 *   gcs_order_3_one   the same with one sender.
 *   gcs_latency_3     multicast to self-delivery latency with 3 members,
 *                     one message in flight (light load); ratio = median /
 *                     the 300 us goal.
 *   gcs_view_change   kill -9 of a member (in turn the sequencer and the
 *                     others) to the new view installed at every survivor,
 *                     default settings; ratio = median / the 10 ms goal.
 *                     ops_s: kills measured per second of test.
 *   gcs_groups_10k    time per message with every member in 10,000
 *                     groups and messages spread over all of them, against
 *                     the same with one group; ratio = per-message cost
 *                     with 10,000 / with 1 (goal <= 1.2).  rss_kb: member
 *                     resident memory with 10,000 groups, against 1
 *                     (base_rss_kb), after malloc_trim.
 *   gcs_state_16m     state transfer: a process joins a group whose member
 *                     gives a 16 MiB state (written in 64 KiB chunks);
 *                     the time from the join to the last chunk received,
 *                     against the same join with an empty state
 *                     (vs=gcs_join_empty, base_us).  ratio = (time - empty)
 *                     in ms per MiB; median over BENCH_RUNS joins, both
 *                     handles in this process.
 *
 * Environment: BENCH_SCALE (message-count multiplier, default 1),
 * BENCH_RUNS (runs per throughput figure, default 5), BENCH_KILLS (default
 * 25), BENCH_VERBOSE=1 (per-run figures on stderr).
 */
#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <phx/error.h>
#include <phx/gcs.h>
#include <phx/transport.h>

#define MEMBERS 3
#define MAX_SAMPLES 200000
#define CPG_ORDER_OPS 56000.0
#define GOAL_LATENCY_US 300.0
#define GOAL_VIEW_US 10000.0

static double scale = 1.0;
static int runs = 5;
static int kills = 25;
static bool verbose;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2),
                                                     noreturn));

/* ------------------------------------------------------------------ */
/* Member processes                                                     */
/* ------------------------------------------------------------------ */

typedef struct child {
    pid_t pid;
    int cmd;          /* write end: commands */
    int res;          /* read end: results */
    char buf[65536];
    size_t len;
    char endpoint[256];
} child_t;

typedef struct cluster {
    child_t kids[MEMBERS];
    uint64_t total; /* messages every member has delivered */
} cluster_t;

/* The clusters alive (gcs_groups_10k runs two side by side) and the
 * one the helpers below work on. */
static cluster_t clusters[2];
static cluster_t *cur = &clusters[0];

static void kill_all(void)
{
    for (int c = 0; c < 2; c++) {
        for (int i = 0; i < MEMBERS; i++) {
            child_t *k = &clusters[c].kids[i];
            if (k->pid > 0) {
                kill(k->pid, SIGKILL);
                waitpid(k->pid, NULL, 0);
                k->pid = 0;
            }
        }
    }
}

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "bench_gcs: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    kill_all();
    exit(1);
}

/* --- inside a member process --- */

typedef struct member {
    phx_gcs_t *g;
    int res;
    uint64_t delivered, target;
    int64_t last_us;
    bool report_done;
    size_t size;
    uint64_t ngroups;      /* groups besides "bench" to join */
    uint64_t full_groups;  /* of them, with MEMBERS members */
    bool report_joined;
    /* latency */
    bool lat_wait;
    int64_t lat_sent;
    uint64_t lat_seq;
    size_t nviews;
} member_t;

static void say(member_t *m, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void say(member_t *m, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (write(m->res, line, (size_t)n) != n)
        _exit(3);
}

/* Resident size in steady state: what joining left behind (the freed
 * events and state transfers of 10,000 joins) is given back first. */
static long rss_kb(void)
{
    malloc_trim(0);
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, res = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &res) != 2)
            res = 0;
        fclose(f);
    }
    return res * (sysconf(_SC_PAGESIZE) / 1024);
}

static void m_deliver(phx_gcs_t *g, const char *group,
                      const phx_gcs_member_t *s, const void *msg, size_t len,
                      void *arg)
{
    (void)g;
    (void)group;
    (void)s;
    (void)msg;
    (void)len;
    member_t *m = arg;
    m->delivered++;
    m->last_us = phx_now_us();
    if (m->lat_wait) {
        phx_gcs_member_t self;
        phx_gcs_self(m->g, &self);
        uint64_t seq = 0;
        if (len >= sizeof seq)
            memcpy(&seq, msg, sizeof seq);
        if (s->id == self.id && seq == m->lat_seq) {
            say(m, "LAT %" PRId64 "\n", phx_now_us() - m->lat_sent);
            m->lat_wait = false;
        }
    }
    if (m->report_done && m->delivered >= m->target) {
        say(m, "DONE %" PRId64 "\n", m->last_us);
        m->report_done = false;
    }
}

static void m_view(phx_gcs_t *g, const char *group, const phx_gcs_view_t *v,
                   void *arg)
{
    (void)g;
    member_t *m = arg;
    if (strcmp(group, "bench") == 0) {
        say(m, "VIEW %zu %" PRId64 "\n", v->n_members, phx_now_us());
        return;
    }
    if (v->n_members == MEMBERS && v->n_joined) {
        m->full_groups++;
        if (m->report_joined && m->full_groups >= m->ngroups) {
            m->report_joined = false;
            say(m, "JOINED %ld\n", rss_kb());
        }
    }
}

static void m_send(member_t *m, const char *group, uint64_t seq)
{
    char buf[4096];
    size_t n = m->size < sizeof buf ? m->size : sizeof buf;
    memset(buf, 'x', n);
    memcpy(buf, &seq, sizeof seq < n ? sizeof seq : n);
    for (;;) {
        int rc = phx_gcs_multicast(m->g, group, buf, n, NULL);
        if (rc == 0)
            return;
        if (rc != PHX_EAGAIN)
            _exit(4);
        phx_gcs_dispatch(m->g, 1, NULL);
    }
}

static void member_main(int idx, int cmd_fd, int res_fd, char *const *seeds,
                        size_t n_seeds)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    member_t m;
    memset(&m, 0, sizeof m);
    m.res = res_fd;
    m.size = 100;
    phx_gcs_config_t cfg;
    phx_gcs_config_init(&cfg);
    char name[32];
    snprintf(name, sizeof name, "b%d-%d", idx, (int)getpid());
    cfg.name = name;
    cfg.seeds = (const char *const *)seeds;
    cfg.n_seeds = n_seeds;
    phx_gcs_callbacks_t cb = {.deliver = m_deliver, .view_change = m_view};
    phx_error_t err;
    if (phx_gcs_create(&cfg, &cb, &m, &m.g, &err) != 0) {
        fprintf(stderr, "bench_gcs member: %s\n", err.msg);
        _exit(2);
    }
    say(&m, "EP %s\n", phx_gcs_endpoint(m.g));
    phx_gcs_join(m.g, "bench", NULL);
    char cbuf[4096];
    size_t clen = 0;
    for (;;) {
        struct pollfd p[2] = {{.fd = phx_gcs_fd(m.g), .events = POLLIN},
                              {.fd = cmd_fd, .events = POLLIN}};
        if (poll(p, 2, -1) < 0 && errno != EINTR)
            _exit(5);
        phx_gcs_dispatch(m.g, 0, NULL);
        if (!(p[1].revents & (POLLIN | POLLHUP)))
            continue;
        ssize_t r = read(cmd_fd, cbuf + clen, sizeof cbuf - 1 - clen);
        if (r <= 0)
            _exit(0);
        clen += (size_t)r;
        char *nl;
        while ((nl = memchr(cbuf, '\n', clen)) != NULL) {
            *nl = '\0';
            uint64_t a = 0, b = 0, c = 0;
            if (sscanf(cbuf, "order %" SCNu64 " %" SCNu64 " %" SCNu64, &a,
                       &b, &c) == 3) {
                /* a: deliveries to reach (counted since the member
                 * started), b: to send, c: groups to spread them on */
                m.target = a;
                m.report_done = true;
                if (m.delivered >= m.target) {
                    /* all there before the command was read */
                    say(&m, "DONE %" PRId64 "\n", m.last_us);
                    m.report_done = false;
                }
                char group[32];
                for (uint64_t i = 0; i < b; i++) {
                    if (c > 0)
                        snprintf(group, sizeof group, "g%" PRIu64, i % c);
                    else
                        snprintf(group, sizeof group, "bench");
                    m_send(&m, group, i);
                }
            } else if (sscanf(cbuf, "lat %" SCNu64, &a) == 1) {
                for (uint64_t i = 0; i < a; i++) {
                    m.lat_seq = i + 1;
                    m.lat_wait = true;
                    m.lat_sent = phx_now_us();
                    m_send(&m, "bench", m.lat_seq);
                    while (m.lat_wait)
                        phx_gcs_dispatch(m.g, -1, NULL);
                    /* light load: a pause between messages */
                    int64_t until = phx_now_us() + 200;
                    while (phx_now_us() < until)
                        phx_gcs_dispatch(m.g, 0, NULL);
                }
                say(&m, "LATDONE\n");
            } else if (sscanf(cbuf, "groups %" SCNu64, &a) == 1) {
                m.ngroups = a;
                m.report_joined = true;
                char group[32];
                for (uint64_t i = 0; i < a; i++) {
                    snprintf(group, sizeof group, "g%" PRIu64, i);
                    phx_gcs_join(m.g, group, NULL);
                    if (i % 256 == 0)
                        phx_gcs_dispatch(m.g, 0, NULL);
                }
                if (a == 0)
                    say(&m, "JOINED %ld\n", rss_kb());
            } else if (strcmp(cbuf, "quit") == 0) {
                phx_gcs_destroy(m.g);
                _exit(0);
            }
            size_t used = (size_t)(nl - cbuf) + 1;
            memmove(cbuf, nl + 1, clen - used);
            clen -= used;
        }
    }
}

/* --- in the coordinator --- */

static void spawn(int i)
{
    int cmd[2], res[2];
    if (pipe(cmd) != 0 || pipe(res) != 0)
        die("pipe: %s", strerror(errno));
    char *seeds[MEMBERS];
    size_t n_seeds = 0;
    for (int k = 0; k < MEMBERS; k++)
        if (k != i && cur->kids[k].pid > 0 && cur->kids[k].endpoint[0])
            seeds[n_seeds++] = cur->kids[k].endpoint;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        die("fork: %s", strerror(errno));
    if (pid == 0) {
        close(cmd[1]);
        close(res[0]);
        for (int c = 0; c < 2; c++) {
            for (int k = 0; k < MEMBERS; k++) {
                child_t *o = &clusters[c].kids[k];
                if (o->pid > 0 && o != &cur->kids[i]) {
                    close(o->cmd);
                    close(o->res);
                }
            }
        }
        member_main(i, cmd[0], res[1], seeds, n_seeds);
        _exit(0);
    }
    close(cmd[0]);
    close(res[1]);
    cur->kids[i].pid = pid;
    cur->kids[i].cmd = cmd[1];
    cur->kids[i].res = res[0];
    cur->kids[i].len = 0;
    cur->kids[i].endpoint[0] = '\0';
}

/* Next line from child i, waiting up to timeout_ms. */
static bool line_from(int i, char *out, size_t cap, int timeout_ms)
{
    child_t *c = &cur->kids[i];
    int64_t deadline = phx_now_us() + (int64_t)timeout_ms * 1000;
    for (;;) {
        char *nl = memchr(c->buf, '\n', c->len);
        if (nl) {
            size_t n = (size_t)(nl - c->buf);
            size_t k = n < cap - 1 ? n : cap - 1;
            memcpy(out, c->buf, k);
            out[k] = '\0';
            memmove(c->buf, nl + 1, c->len - n - 1);
            c->len -= n + 1;
            return true;
        }
        int64_t left = deadline - phx_now_us();
        if (left <= 0)
            return false;
        struct pollfd p = {.fd = c->res, .events = POLLIN};
        if (poll(&p, 1, (int)(left / 1000) + 1) <= 0)
            continue;
        ssize_t r = read(c->res, c->buf + c->len, sizeof c->buf - c->len);
        if (r <= 0)
            return false;
        c->len += (size_t)r;
    }
}

/* Wait for a line from child i starting with prefix. */
static void expect(int i, const char *prefix, char *out, size_t cap)
{
    char line[512];
    for (;;) {
        if (!line_from(i, line, sizeof line, 60000))
            die("member %d: no '%s' line", i, prefix);
        if (strncmp(line, prefix, strlen(prefix)) == 0) {
            if (out)
                snprintf(out, cap, "%s", line);
            return;
        }
    }
}

static void command(int i, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void command(int i, const char *fmt, ...)
{
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (write(cur->kids[i].cmd, line, (size_t)n) != n)
        die("member %d: command failed", i);
}

/* Wait until child i reports a view of "bench" with n members; returns
 * the time it reported. */
static int64_t wait_view(int i, size_t n)
{
    char line[512];
    for (;;) {
        expect(i, "VIEW ", line, sizeof line);
        size_t got;
        int64_t t;
        if (sscanf(line, "VIEW %zu %" SCNd64, &got, &t) == 2 && got == n)
            return t;
    }
}

static void take_endpoint(int i)
{
    char line[512];
    expect(i, "EP ", line, sizeof line);
    size_t n = strlen(line + 3);
    if (n >= sizeof cur->kids[i].endpoint)
        die("member %d: endpoint too long", i);
    memcpy(cur->kids[i].endpoint, line + 3, n + 1);
}

static void start_cluster(void)
{
    cur->total = 0;
    for (int i = 0; i < MEMBERS; i++) {
        spawn(i);
        take_endpoint(i);
    }
    for (int i = 0; i < MEMBERS; i++)
        wait_view(i, MEMBERS);
}

static void stop_cluster(void)
{
    for (int i = 0; i < MEMBERS; i++) {
        if (cur->kids[i].pid <= 0)
            continue;
        command(i, "quit\n");
        close(cur->kids[i].cmd);
        waitpid(cur->kids[i].pid, NULL, 0);
        close(cur->kids[i].res);
        cur->kids[i].pid = 0;
    }
}

/* ------------------------------------------------------------------ */
/* Figures                                                              */
/* ------------------------------------------------------------------ */

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* One throughput run: senders 0..ns-1 send per messages each, spread
 * over ngroups groups (0 = the "bench" group). */
static double order_run(int ns, uint64_t per, uint64_t ngroups)
{
    uint64_t total = (uint64_t)ns * per;
    cur->total += total;
    int64_t t0 = phx_now_us();
    for (int i = 0; i < MEMBERS; i++)
        command(i, "order %" PRIu64 " %" PRIu64 " %" PRIu64 "\n",
                cur->total, i < ns ? per : 0, ngroups);
    int64_t last = t0;
    for (int i = 0; i < MEMBERS; i++) {
        char line[512];
        expect(i, "DONE ", line, sizeof line);
        int64_t t = strtoll(line + 5, NULL, 10);
        if (t > last)
            last = t;
    }
    return (double)total * 1e6 / (double)(last - t0);
}

static void print_fig(const char *name, double med, double p99, double ops,
                      const char *vs, double ratio, const char *extra)
{
    printf("%s: median_us=%.2f p99_us=%.2f ops_s=%.0f vs=%s ratio=%.2f%s%s\n",
           name, med, p99, ops, vs, ratio, extra ? " " : "",
           extra ? extra : "");
    fflush(stdout);
}

static void throughput(const char *name, int ns, uint64_t per,
                       uint64_t ngroups)
{
    double ops[64];
    int n = runs < 64 ? runs : 64;
    /* one warm-up run */
    order_run(ns, per / 4 + 1, ngroups);
    for (int r = 0; r < n; r++) {
        ops[r] = order_run(ns, per, ngroups);
        if (verbose)
            fprintf(stderr, "# %s run %d: %.0f msg/s\n", name, r + 1, ops[r]);
    }
    qsort(ops, (size_t)n, sizeof ops[0], cmp_d);
    double med = ops[n / 2], worst = ops[0];
    print_fig(name, 1e6 / med, 1e6 / worst, med, "cpg_agreed_56000",
              med / CPG_ORDER_OPS, NULL);
}

static void fig_order_3(void)
{
    start_cluster();
    throughput("gcs_order_3", 3, (uint64_t)(20000 * scale) + 1, 0);
    stop_cluster();
}

static void fig_order_3_one(void)
{
    start_cluster();
    throughput("gcs_order_3_one", 1, (uint64_t)(60000 * scale) + 1, 0);
    stop_cluster();
}

static void fig_latency_3(void)
{
    start_cluster();
    uint64_t n = (uint64_t)(5000 * scale) + 10;
    if (n > MAX_SAMPLES)
        n = MAX_SAMPLES;
    int64_t *s = malloc(n * sizeof *s);
    if (s == NULL)
        die("out of memory");
    command(0, "lat 200\n"); /* warm-up */
    for (uint64_t i = 0; i < 200; i++)
        expect(0, "LAT ", NULL, 0);
    expect(0, "LATDONE", NULL, 0);
    int64_t t0 = phx_now_us();
    command(0, "lat %" PRIu64 "\n", n);
    for (uint64_t i = 0; i < n; i++) {
        char line[512];
        expect(0, "LAT ", line, sizeof line);
        s[i] = strtoll(line + 4, NULL, 10);
    }
    expect(0, "LATDONE", NULL, 0);
    int64_t t1 = phx_now_us();
    qsort(s, n, sizeof *s, cmp_i64);
    double med = (double)s[n / 2], p99 = (double)s[n * 99 / 100];
    print_fig("gcs_latency_3", med, p99, (double)n * 1e6 / (double)(t1 - t0),
              "goal_300us", med / GOAL_LATENCY_US, NULL);
    free(s);
    stop_cluster();
}

static void fig_view_change(void)
{
    start_cluster();
    int n = kills;
    int64_t *s = malloc((size_t)n * sizeof *s);
    if (s == NULL)
        die("out of memory");
    int64_t t0 = phx_now_us();
    for (int k = 0; k < n; k++) {
        int victim = k % MEMBERS;
        int64_t t_kill = phx_now_us();
        kill(cur->kids[victim].pid, SIGKILL);
        int64_t worst = 0;
        for (int i = 0; i < MEMBERS; i++) {
            if (i == victim)
                continue;
            int64_t t = wait_view(i, MEMBERS - 1) - t_kill;
            if (t > worst)
                worst = t;
        }
        s[k] = worst;
        if (verbose)
            fprintf(stderr, "# kill %d (member %d): new view after %.2f ms\n",
                    k + 1, victim, (double)worst / 1000.0);
        waitpid(cur->kids[victim].pid, NULL, 0);
        close(cur->kids[victim].cmd);
        close(cur->kids[victim].res);
        cur->kids[victim].pid = 0;
        spawn(victim);
        take_endpoint(victim);
        for (int i = 0; i < MEMBERS; i++)
            wait_view(i, MEMBERS);
    }
    int64_t t1 = phx_now_us();
    qsort(s, (size_t)n, sizeof *s, cmp_i64);
    double med = (double)s[n / 2];
    double p99 = (double)s[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1];
    print_fig("gcs_view_change", med, p99, (double)n * 1e6 / (double)(t1 - t0),
              "goal_10ms", med / GOAL_VIEW_US, NULL);
    free(s);
    stop_cluster();
}

/* Every member of the current cluster joins ngroups groups; returns the
 * largest resident size reported. */
static long join_groups(uint64_t ngroups)
{
    long rss = 0;
    for (int i = 0; i < MEMBERS; i++)
        command(i, "groups %" PRIu64 "\n", ngroups);
    for (int i = 0; i < MEMBERS; i++) {
        char line[512];
        expect(i, "JOINED ", line, sizeof line);
        long r = strtol(line + 7, NULL, 10);
        if (r > rss)
            rss = r;
    }
    return rss;
}

/* Two clusters side by side, one whose members are in 1 group and one
 * whose members are in 10,000, measured in alternation (A B B A ...) so
 * that both see the same machine. */
static void fig_groups_10k(void)
{
    const uint64_t ng[2] = {1, 10000};
    long rss[2];
    for (int c = 0; c < 2; c++) {
        cur = &clusters[c];
        start_cluster();
        rss[c] = join_groups(ng[c]);
    }
    uint64_t per = (uint64_t)(60000 * scale) + 1;
    int n = runs < 64 ? runs : 64;
    double ops[2][64];
    for (int c = 0; c < 2; c++) {
        cur = &clusters[c];
        order_run(1, per / 4 + 1, ng[c]); /* warm-up */
    }
    for (int r = 0; r < n; r++) {
        for (int k = 0; k < 2; k++) {
            int c = r % 2 == 0 ? k : 1 - k;
            cur = &clusters[c];
            ops[c][r] = order_run(1, per, ng[c]);
            if (verbose)
                fprintf(stderr, "# gcs_groups run %d, %" PRIu64
                        " group(s): %.0f msg/s\n", r + 1, ng[c], ops[c][r]);
        }
    }
    for (int c = 0; c < 2; c++) {
        cur = &clusters[c];
        stop_cluster();
        qsort(ops[c], (size_t)n, sizeof ops[c][0], cmp_d);
    }
    cur = &clusters[0];
    double one = ops[0][n / 2], many = ops[1][n / 2];
    char extra[128];
    snprintf(extra, sizeof extra, "rss_kb=%ld base_rss_kb=%ld base_us=%.2f",
             rss[1], rss[0], 1e6 / one);
    print_fig("gcs_groups_10k", 1e6 / many, 1e6 / ops[1][0], many,
              "gcs_groups_1", (1e6 / many) / (1e6 / one), extra);
}

/* ---- state transfer ---- */

typedef struct st_side {
    size_t state_len;      /* what the giver writes */
    size_t got;            /* what the joiner received */
    bool done;
} st_side_t;

static int st_get(phx_gcs_t *gcs, const char *group,
                  phx_gcs_state_writer_t *w, void *arg)
{
    (void)gcs;
    (void)group;
    st_side_t *s = arg;
    static uint8_t chunk[65536];
    for (size_t off = 0; off < s->state_len; off += sizeof chunk) {
        size_t n = s->state_len - off < sizeof chunk ? s->state_len - off
                                                     : sizeof chunk;
        chunk[0] = (uint8_t)off;
        if (phx_gcs_state_write(w, chunk, n) != PHX_OK)
            return -1;
    }
    return 0;
}

static void st_set(phx_gcs_t *gcs, const char *group, const void *chunk,
                   size_t len, unsigned flags, void *arg)
{
    (void)gcs;
    (void)group;
    (void)chunk;
    st_side_t *s = arg;
    if (flags & PHX_GCS_STATE_FIRST)
        s->got = 0;
    s->got += len;
    if (flags & PHX_GCS_STATE_LAST)
        s->done = true;
}

static void st_deliver(phx_gcs_t *gcs, const char *group,
                       const phx_gcs_member_t *sender, const void *msg,
                       size_t len, void *arg)
{
    (void)gcs, (void)group, (void)sender, (void)msg, (void)len, (void)arg;
}

/* One join of a fresh process to a group whose member gives state_len
 * bytes; returns the microseconds from join to the last chunk. */
static double state_join(size_t state_len)
{
    st_side_t giver = {state_len, 0, false}, joiner = {0, 0, false};
    phx_gcs_callbacks_t cb = {st_deliver, NULL, st_get, st_set};
    phx_gcs_config_t cfg;
    phx_gcs_config_init(&cfg);
    cfg.max_state = 64u << 20;
    phx_gcs_t *a = NULL, *b = NULL;
    phx_error_t err;
    if (phx_gcs_create(&cfg, &cb, &giver, &a, &err) != PHX_OK ||
        phx_gcs_join(a, "state", &err) != PHX_OK)
        die("gcs: %s", err.msg);
    /* The founder is in its group once it has delivered its view. */
    int64_t until = phx_now_us() + 5000000;
    while (phx_now_us() < until) {
        phx_gcs_dispatch(a, 10, NULL);
        phx_gcs_member_t self;
        if (phx_gcs_self(a, &self) == PHX_OK)
            break;
    }
    for (int i = 0; i < 20; i++)
        phx_gcs_dispatch(a, 5, NULL);
    const char *seed = phx_gcs_endpoint(a);
    cfg.seeds = &seed;
    cfg.n_seeds = 1;
    if (phx_gcs_create(&cfg, &cb, &joiner, &b, &err) != PHX_OK)
        die("gcs: %s", err.msg);
    int64_t t0 = phx_now_us();
    if (phx_gcs_join(b, "state", &err) != PHX_OK)
        die("gcs: %s", err.msg);
    until = t0 + 30000000;
    while (!joiner.done && phx_now_us() < until) {
        struct pollfd pf[2] = {{phx_gcs_fd(a), POLLIN, 0},
                               {phx_gcs_fd(b), POLLIN, 0}};
        poll(pf, 2, 5);
        phx_gcs_dispatch(a, 0, NULL);
        phx_gcs_dispatch(b, 0, NULL);
    }
    int64_t t = phx_now_us() - t0;
    if (!joiner.done || joiner.got != state_len)
        die("state transfer: got %zu of %zu bytes", joiner.got, state_len);
    phx_gcs_destroy(b);
    phx_gcs_destroy(a);
    return (double)t;
}

static void fig_state_16m(void)
{
    const size_t mib = 16;
    int n = runs < 64 ? runs : 64;
    double full[64], empty[64];
    state_join(0); /* warm-up */
    for (int r = 0; r < n; r++) {
        empty[r] = state_join(0);
        full[r] = state_join(mib << 20);
        if (verbose)
            fprintf(stderr, "# gcs_state run %d: %.0f us, empty %.0f us\n",
                    r + 1, full[r], empty[r]);
    }
    qsort(full, (size_t)n, sizeof full[0], cmp_d);
    qsort(empty, (size_t)n, sizeof empty[0], cmp_d);
    double med = full[n / 2], base = empty[n / 2];
    char extra[96];
    snprintf(extra, sizeof extra, "base_us=%.0f mb_s=%.0f", base,
             (double)mib / ((med - base) / 1e6));
    print_fig("gcs_state_16m", med, full[n - 1], 1e6 / med, "gcs_join_empty",
              (med - base) / 1000.0 / (double)mib, extra);
}

typedef struct figure {
    const char *name;
    void (*run)(void);
} figure_t;

static const figure_t figures[] = {
    {"gcs_order_3", fig_order_3},
    {"gcs_order_3_one", fig_order_3_one},
    {"gcs_latency_3", fig_latency_3},
    {"gcs_view_change", fig_view_change},
    {"gcs_groups_10k", fig_groups_10k},
    {"gcs_state_16m", fig_state_16m},
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
            fprintf(stderr, "bench_gcs: unknown figure '%s' (--list)\n",
                    argv[a]);
            return 2;
        }
    }
    for (size_t i = 0; i < nf; i++) {
        bool want = argc == 1;
        for (int a = 1; a < argc; a++)
            want |= strcmp(argv[a], figures[i].name) == 0;
        if (want)
            figures[i].run();
    }
    return 0;
}
