/*
 * gcs_member.c - a group member process for the GCS multi-process tests
 * and benchmarks.
 *
 *   gcs_member --name N [--bind EP] [--seed EP]... [--group G]...
 *              [--send N] [--rate R] [--size B] [--expect N]
 *              [--log FILE] [--control FIFO] [--hb MS] [--timeout MS]
 *              [--retransmit MS] [--mode uniform|agreed] [--faults SPEC]
 *              [--progress K]
 *
 * Its application state per group is a replicated counter: the number of
 * messages applied, a running digest of their identities, and the highest
 * sequence number applied per sender.  That state is what get_state sends
 * and set_state installs, so two members agree exactly when their
 * (count, digest) agree, and a joiner continues the same sequence.
 *
 * stdout, one line per event (for the test harness):
 *   READY <endpoint> <id>
 *   VIEW <group> <view id> <primary 0|1> <n> <name,name,...>
 *   STATE <group> <count>                 state installed
 *   SENT <group> <n>                      all own messages applied
 *   DONE <group> <count> <digest>         count reached --expect
 *   SYNC <group> <token> <count> <digest> a sync marker was delivered
 *   PROGRESS <group> <count>              every K messages (--progress K)
 *
 * --log FILE gets every event in the format tests/gcs/logcheck.h reads.
 *
 * --control FIFO takes commands, one per line:
 *   partition A,B   heal   faults SPEC   sync TOKEN   send N   quit
 * SIGTERM stops the member cleanly.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <phx/error.h>
#include <phx/gcs.h>
#include <phx/transport.h>

#define MAX_GROUPS 64
#define MAX_SENDERS 64

typedef struct sender_hi {
    char name[64];
    uint64_t seq;
} sender_hi_t;

typedef struct grp {
    char name[PHX_GCS_GROUP_MAX + 1];
    uint64_t count, digest;
    sender_hi_t hi[MAX_SENDERS];
    size_t n_hi;
    bool in_view;       /* in a primary view of the group */
    bool need_state;    /* waiting for set_state */
    bool done_printed, sent_printed;
    uint64_t next_seq;  /* next own sequence number to send */
    uint64_t to_send;   /* own messages to send in total */
    char *st_buf;       /* state being received */
    size_t st_len;
} grp_t;

static grp_t groups[MAX_GROUPS];
static size_t n_groups;
static const char *my_name;
static int log_fd = -1;
static uint64_t expect;
static uint64_t progress;
static size_t msg_size = 100;
static double rate;
static phx_gcs_t *gcs;
static volatile sig_atomic_t quit_flag;

static void out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void out(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    fflush(stdout);
}

static void logline(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logline(const char *fmt, ...)
{
    if (log_fd < 0)
        return;
    char buf[8192];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof buf)
        n = sizeof buf - 1;
    /* One write per line: what was logged survives a kill -9. */
    ssize_t w = write(log_fd, buf, (size_t)n);
    (void)w;
}

static uint64_t fnv(uint64_t h, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= (uint8_t)s[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

static grp_t *find_group(const char *name)
{
    for (size_t i = 0; i < n_groups; i++)
        if (strcmp(groups[i].name, name) == 0)
            return &groups[i];
    return NULL;
}

static uint64_t *hi_of(grp_t *g, const char *name)
{
    for (size_t i = 0; i < g->n_hi; i++)
        if (strcmp(g->hi[i].name, name) == 0)
            return &g->hi[i].seq;
    if (g->n_hi == MAX_SENDERS)
        return NULL;
    snprintf(g->hi[g->n_hi].name, sizeof g->hi[0].name, "%s", name);
    g->hi[g->n_hi].seq = 0;
    return &g->hi[g->n_hi++].seq;
}

static void check_progress(grp_t *g)
{
    if (progress && g->count % progress == 0)
        out("PROGRESS %s %" PRIu64 "\n", g->name, g->count);
    if (expect && !g->done_printed && g->count >= expect) {
        g->done_printed = true;
        out("DONE %s %" PRIu64 " %016" PRIx64 "\n", g->name, g->count,
            g->digest);
    }
    if (g->to_send && !g->sent_printed) {
        uint64_t *mine = hi_of(g, my_name);
        if (mine && *mine >= g->to_send) {
            g->sent_printed = true;
            out("SENT %s %" PRIu64 "\n", g->name, g->to_send);
        }
    }
}

/* ------------------------------------------------------------------ */
/* Callbacks                                                            */
/* ------------------------------------------------------------------ */

static void on_deliver(phx_gcs_t *h, const char *group,
                       const phx_gcs_member_t *sender, const void *msg,
                       size_t len, void *arg)
{
    (void)h;
    (void)arg;
    grp_t *g = find_group(group);
    if (g == NULL)
        return;
    char text[256];
    size_t n = len < sizeof text - 1 ? len : sizeof text - 1;
    memcpy(text, msg, n);
    text[n] = '\0';
    char name[64];
    uint64_t seq;
    char token[64];
    if (sscanf(text, "M %63s %" SCNu64, name, &seq) == 2) {
        uint64_t *hi = hi_of(g, name);
        g->count++;
        char id[96];
        int il = snprintf(id, sizeof id, "%s:%" PRIu64 ";", name, seq);
        g->digest = fnv(g->digest, id, (size_t)il);
        if (hi && seq > *hi)
            *hi = seq;
        logline("D %s %" PRIu64 " %s %" PRIu64 " %016" PRIx64 "\n", group,
                g->count, name, seq, sender->id);
        check_progress(g);
    } else if (sscanf(text, "S %63s", token) == 1) {
        logline("Y %s %s\n", group, token);
        out("SYNC %s %s %" PRIu64 " %016" PRIx64 "\n", group, token,
            g->count, g->digest);
    }
}

static void ids(char *buf, size_t cap, const phx_gcs_member_t *m, size_t n,
                bool names)
{
    size_t off = 0;
    buf[0] = '\0';
    if (n == 0) {
        snprintf(buf, cap, "-");
        return;
    }
    for (size_t i = 0; i < n && off + 1 < cap; i++) {
        int w = names ? snprintf(buf + off, cap - off, "%s%s", i ? "," : "",
                                 m[i].name)
                      : snprintf(buf + off, cap - off, "%s%016" PRIx64,
                                 i ? "," : "", m[i].id);
        if (w < 0)
            break;
        off += (size_t)w;
    }
}

static void on_view(phx_gcs_t *h, const char *group, const phx_gcs_view_t *v,
                    void *arg)
{
    (void)arg;
    grp_t *g = find_group(group);
    if (g == NULL)
        return;
    phx_gcs_member_t self;
    phx_gcs_self(h, &self);
    static char mem[8192], j[4096], l[4096], names[4096];
    ids(mem, sizeof mem, v->members, v->n_members, false);
    ids(j, sizeof j, v->joined, v->n_joined, false);
    ids(l, sizeof l, v->left, v->n_left, false);
    ids(names, sizeof names, v->members, v->n_members, true);
    bool me_joined = false;
    for (size_t i = 0; i < v->n_joined; i++)
        if (v->joined[i].id == self.id)
            me_joined = true;
    if (me_joined)
        logline("I %s %016" PRIx64 "\n", my_name, self.id);
    logline("V %s %" PRIu64 " %d %s %s %s\n", group, v->id, v->primary ? 1 : 0,
            mem, j, l);
    out("VIEW %s %" PRIu64 " %d %zu %s\n", group, v->id, v->primary ? 1 : 0,
        v->n_members, names);
    if (!v->primary) {
        g->in_view = false;
        g->need_state = true;
        return;
    }
    if (me_joined) {
        g->in_view = true;
        g->need_state = v->n_members > 1;
        if (!g->need_state) {
            uint64_t *mine = hi_of(g, my_name);
            g->next_seq = (mine ? *mine : 0) + 1;
        }
    }
}

static int on_get_state(phx_gcs_t *h, const char *group,
                        phx_gcs_state_writer_t *w, void *arg)
{
    (void)h;
    (void)arg;
    grp_t *g = find_group(group);
    if (g == NULL)
        return PHX_ENOTFOUND;
    char buf[8192];
    int off = snprintf(buf, sizeof buf, "%" PRIu64 " %016" PRIx64 " %zu",
                       g->count, g->digest, g->n_hi);
    for (size_t i = 0; i < g->n_hi && off < (int)sizeof buf - 80; i++)
        off += snprintf(buf + off, sizeof buf - (size_t)off, " %s %" PRIu64,
                        g->hi[i].name, g->hi[i].seq);
    logline("G %s %" PRIu64 " %016" PRIx64 "\n", group, g->count, g->digest);
    /* Two chunks, to exercise chunked transfer. */
    int half = off / 2;
    int rc = phx_gcs_state_write(w, buf, (size_t)half);
    if (rc == 0)
        rc = phx_gcs_state_write(w, buf + half, (size_t)(off - half));
    return rc;
}

static void on_set_state(phx_gcs_t *h, const char *group, const void *chunk,
                         size_t len, unsigned flags, void *arg)
{
    (void)h;
    (void)arg;
    grp_t *g = find_group(group);
    if (g == NULL)
        return;
    if (flags & PHX_GCS_STATE_FIRST) {
        free(g->st_buf);
        g->st_buf = NULL;
        g->st_len = 0;
    }
    char *nb = realloc(g->st_buf, g->st_len + len + 1);
    if (nb == NULL)
        return;
    g->st_buf = nb;
    memcpy(g->st_buf + g->st_len, chunk, len);
    g->st_len += len;
    g->st_buf[g->st_len] = '\0';
    if (!(flags & PHX_GCS_STATE_LAST))
        return;
    uint64_t count = 0, digest = 0xcbf29ce484222325ull;
    size_t nh = 0;
    int used = 0;
    g->n_hi = 0;
    if (g->st_len > 0 &&
        sscanf(g->st_buf, "%" SCNu64 " %" SCNx64 " %zu%n", &count, &digest,
               &nh, &used) == 3) {
        const char *p = g->st_buf + used;
        for (size_t i = 0; i < nh && i < MAX_SENDERS; i++) {
            int u = 0;
            if (sscanf(p, " %63s %" SCNu64 "%n", g->hi[i].name, &g->hi[i].seq,
                       &u) != 2)
                break;
            p += u;
            g->n_hi++;
        }
    }
    g->count = count;
    g->digest = digest;
    g->need_state = false;
    uint64_t *mine = hi_of(g, my_name);
    g->next_seq = (mine ? *mine : 0) + 1;
    logline("S %s %" PRIu64 " %016" PRIx64 "\n", group, count, digest);
    out("STATE %s %" PRIu64 "\n", group, count);
    free(g->st_buf);
    g->st_buf = NULL;
    g->st_len = 0;
    check_progress(g);
}

/* ------------------------------------------------------------------ */
/* Sending and control                                                  */
/* ------------------------------------------------------------------ */

static int64_t next_send_us;

/* Send what is due; returns how long to wait (ms) before trying again. */
static int send_some(void)
{
    int64_t now = phx_now_us();
    int wait = 50;
    for (size_t i = 0; i < n_groups; i++) {
        grp_t *g = &groups[i];
        while (g->in_view && !g->need_state && g->next_seq <= g->to_send) {
            if (rate > 0 && now < next_send_us) {
                int w = (int)((next_send_us - now) / 1000) + 1;
                if (w < wait)
                    wait = w;
                break;
            }
            char buf[65536];
            size_t sz = msg_size < sizeof buf ? msg_size : sizeof buf;
            int n = snprintf(buf, sizeof buf, "M %s %" PRIu64 " ", my_name,
                             g->next_seq);
            if ((size_t)n < sz)
                memset(buf + n, '.', sz - (size_t)n);
            else
                sz = (size_t)n;
            phx_error_t err;
            int rc = phx_gcs_multicast(gcs, g->name, buf, sz, &err);
            if (rc == PHX_EAGAIN || rc == PHX_ESTATE)
                break;
            if (rc != 0) {
                fprintf(stderr, "gcs_member %s: multicast: %s\n", my_name,
                        err.msg);
                break;
            }
            g->next_seq++;
            if (rate > 0) {
                next_send_us += (int64_t)(1e6 / rate);
                if (next_send_us < now - 100000)
                    next_send_us = now;
            }
        }
    }
    return wait;
}

static void control(char *line)
{
    phx_error_t err;
    char arg[1024];
    if (sscanf(line, "partition %1023s", arg) == 1) {
        char spec[1100];
        for (char *p = arg; *p; p++)
            if (*p == ',')
                *p = '+';
        snprintf(spec, sizeof spec, "partition=%s", arg);
        if (phx_gcs_inject(gcs, spec, &err))
            fprintf(stderr, "gcs_member: %s\n", err.msg);
    } else if (strncmp(line, "heal", 4) == 0) {
        phx_gcs_inject(gcs, "", &err);
    } else if (sscanf(line, "faults %1023s", arg) == 1) {
        if (phx_gcs_inject(gcs, arg, &err))
            fprintf(stderr, "gcs_member: %s\n", err.msg);
    } else if (sscanf(line, "sync %63s", arg) == 1) {
        char msg[100];
        int n = snprintf(msg, sizeof msg, "S %s", arg);
        for (size_t i = 0; i < n_groups; i++)
            phx_gcs_multicast(gcs, groups[i].name, msg, (size_t)n, &err);
    } else if (sscanf(line, "send %1023s", arg) == 1) {
        uint64_t more = strtoull(arg, NULL, 10);
        for (size_t i = 0; i < n_groups; i++) {
            groups[i].to_send += more;
            groups[i].sent_printed = false;
        }
        next_send_us = phx_now_us();
    } else if (strncmp(line, "quit", 4) == 0) {
        quit_flag = 1;
    }
}

static void on_term(int sig)
{
    (void)sig;
    quit_flag = 1;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: gcs_member --name N [--bind EP] [--seed EP]... "
            "[--group G]... [--send N] [--rate R] [--size B] [--expect N] "
            "[--log FILE] [--control FIFO] [--hb MS] [--timeout MS] "
            "[--retransmit MS] [--mode uniform|agreed] [--faults SPEC] "
            "[--progress K]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    phx_gcs_config_t cfg;
    phx_gcs_config_init(&cfg);
    const char *seeds[32];
    size_t n_seeds = 0;
    uint64_t to_send = 0;
    const char *log_path = NULL, *ctl_path = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (v == NULL)
            usage();
        i++;
        if (strcmp(a, "--name") == 0)
            my_name = v;
        else if (strcmp(a, "--bind") == 0)
            cfg.endpoint = v;
        else if (strcmp(a, "--seed") == 0 && n_seeds < 32)
            seeds[n_seeds++] = v;
        else if (strcmp(a, "--group") == 0 && n_groups < MAX_GROUPS)
            snprintf(groups[n_groups++].name, sizeof groups[0].name, "%s", v);
        else if (strcmp(a, "--send") == 0)
            to_send = strtoull(v, NULL, 10);
        else if (strcmp(a, "--rate") == 0)
            rate = atof(v);
        else if (strcmp(a, "--size") == 0)
            msg_size = strtoul(v, NULL, 10);
        else if (strcmp(a, "--expect") == 0)
            expect = strtoull(v, NULL, 10);
        else if (strcmp(a, "--log") == 0)
            log_path = v;
        else if (strcmp(a, "--control") == 0)
            ctl_path = v;
        else if (strcmp(a, "--hb") == 0)
            cfg.heartbeat_ms = (uint32_t)strtoul(v, NULL, 10);
        else if (strcmp(a, "--timeout") == 0)
            cfg.timeout_ms = (uint32_t)strtoul(v, NULL, 10);
        else if (strcmp(a, "--retransmit") == 0)
            cfg.retransmit_ms = (uint32_t)strtoul(v, NULL, 10);
        else if (strcmp(a, "--mode") == 0)
            cfg.mode = strcmp(v, "agreed") == 0 ? PHX_GCS_AGREED
                                                 : PHX_GCS_UNIFORM;
        else if (strcmp(a, "--faults") == 0)
            cfg.faults = v;
        else if (strcmp(a, "--progress") == 0)
            progress = strtoull(v, NULL, 10);
        else
            usage();
    }
    if (my_name == NULL)
        usage();
    cfg.name = my_name;
    cfg.seeds = seeds;
    cfg.n_seeds = n_seeds;
    for (size_t i = 0; i < n_groups; i++) {
        groups[i].digest = 0xcbf29ce484222325ull;
        groups[i].to_send = to_send;
        groups[i].next_seq = 1;
    }
    if (log_path) {
        log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
                      0644);
        if (log_fd < 0) {
            fprintf(stderr, "gcs_member: %s: %s\n", log_path,
                    strerror(errno));
            return 1;
        }
    }
    int ctl_fd = -1;
    if (ctl_path) {
        /* Read-write so that the FIFO never reports end-of-file. */
        ctl_fd = open(ctl_path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
        if (ctl_fd < 0) {
            fprintf(stderr, "gcs_member: %s: %s\n", ctl_path,
                    strerror(errno));
            return 1;
        }
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_term;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    phx_gcs_callbacks_t cb = {.deliver = on_deliver,
                              .view_change = on_view,
                              .get_state = on_get_state,
                              .set_state = on_set_state};
    phx_error_t err;
    if (phx_gcs_create(&cfg, &cb, NULL, &gcs, &err) != 0) {
        fprintf(stderr, "gcs_member %s: %s\n", my_name, err.msg);
        return 1;
    }
    phx_gcs_member_t self;
    phx_gcs_self(gcs, &self);
    logline("I %s %016" PRIx64 "\n", my_name, self.id);
    out("READY %s %016" PRIx64 "\n", phx_gcs_endpoint(gcs), self.id);
    for (size_t i = 0; i < n_groups; i++)
        if (phx_gcs_join(gcs, groups[i].name, &err) != 0)
            fprintf(stderr, "gcs_member %s: join: %s\n", my_name, err.msg);
    next_send_us = phx_now_us();

    char ctl_buf[4096];
    size_t ctl_len = 0;
    while (!quit_flag) {
        int wait = send_some();
        struct pollfd p[2] = {{.fd = phx_gcs_fd(gcs), .events = POLLIN},
                              {.fd = ctl_fd, .events = POLLIN}};
        int rc = poll(p, ctl_fd >= 0 ? 2 : 1, wait);
        if (rc < 0 && errno != EINTR)
            break;
        if (phx_gcs_dispatch(gcs, 0, &err) < 0)
            break;
        if (ctl_fd >= 0 && rc > 0 && (p[1].revents & POLLIN)) {
            ssize_t n = read(ctl_fd, ctl_buf + ctl_len,
                             sizeof ctl_buf - 1 - ctl_len);
            if (n > 0)
                ctl_len += (size_t)n;
            char *nl;
            while ((nl = memchr(ctl_buf, '\n', ctl_len)) != NULL) {
                *nl = '\0';
                control(ctl_buf);
                size_t used = (size_t)(nl - ctl_buf) + 1;
                memmove(ctl_buf, nl + 1, ctl_len - used);
                ctl_len -= used;
            }
            if (ctl_len == sizeof ctl_buf - 1)
                ctl_len = 0;
        }
    }
    phx_gcs_destroy(gcs);
    for (size_t i = 0; i < n_groups; i++)
        free(groups[i].st_buf);
    if (log_fd >= 0)
        close(log_fd);
    if (ctl_fd >= 0)
        close(ctl_fd);
    return 0;
}
