/*
 * test_phxctl.c - phxctl against a canned Phalanx::Daemon.
 *
 * The test process implements the daemon's control interface itself
 * (idl/phxd.idl: fixed groups, members and events, the IDL's exceptions
 * for unknown names, a kill_replica that records its arguments), serves
 * it under the key "phxd" on tcp://127.0.0.1:* from an ORB thread, and
 * runs the built $PHX_BUILDDIR/ft/phxd/phxctl on it, checking the output
 * of every command (human and --json), the exit statuses 0 to 3, --help
 * and watch.  Every child is waited for by PID under a deadline.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include <phx/phx.h>

#include "idl/phxd.h"

extern char **environ;

#define RUN_MS 20000 /* deadline of one phxctl run */

/* The string that needs every kind of JSON escaping: quotes, backslash,
 * tab, newline, another control character, and UTF-8 passed through. */
#define NASTY "say \"hi\"\\\tnow\nbell\x01 caf\xc3\xa9"
#define NASTY_JSON "\"say \\\"hi\\\"\\\\\\tnow\\nbell\\u0001 caf\xc3\xa9\""

/* ------------------------------------------------------------------ */
/* The canned daemon                                                    */
/* ------------------------------------------------------------------ */

typedef struct fake {
    pthread_mutex_t lock;
    char killed_group[64], killed_member[64];
    int kills;
    uint64_t last_since;
} fake_t;

static fake_t fake = {.lock = PTHREAD_MUTEX_INITIALIZER};

typedef struct canned_member {
    const char *id, *host;
    int32_t pid;
    const char *state, *role;
    uint32_t restarts;
} canned_member_t;

static const canned_member_t bank_members[] = {
    {"bank/1", "alpha", 1234, "running", "primary", 0},
    {"bank/2", "beta", 2345, "running", "backup", 1},
    {"bank/3", "gamma", 0, "failed", "", 2},
};

static char *xstrdup(const char *s)
{
    char *d = strdup(s);
    if (!d)
        abort();
    return d;
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p)
        abort();
    return p;
}

static void fill_group(Phalanx_GroupInfo *g, int which)
{
    memset(g, 0, sizeof *g);
    if (which == 0) {
        g->name = xstrdup("bank");
        g->type_id = xstrdup("IDL:Bank/Account:1.0");
        g->style = xstrdup("WARM_PASSIVE");
        g->target = 3;
        g->minimum = 2;
        g->running = 2;
        g->primary = xstrdup("bank/1");
        g->view_id = 7;
        g->version = 4;
        g->failovers = 1;
        g->restarts = 3;
        g->requests = 1500;
        size_t n = sizeof bank_members / sizeof bank_members[0];
        g->members._buffer = xcalloc(n, sizeof *g->members._buffer);
        g->members._length = g->members._maximum = (uint32_t)n;
        g->members._release = true;
        for (size_t i = 0; i < n; i++) {
            Phalanx_MemberInfo *m = &g->members._buffer[i];
            m->id = xstrdup(bank_members[i].id);
            m->host = xstrdup(bank_members[i].host);
            m->pid = bank_members[i].pid;
            m->state = xstrdup(bank_members[i].state);
            m->role = xstrdup(bank_members[i].role);
            m->ior = xstrdup(m->pid ? "IOR:00ff" : "");
            m->restarts = bank_members[i].restarts;
            m->requests = m->pid ? 1500 - 10 * i : 0;
        }
    } else {
        g->name = xstrdup("echo");
        g->type_id = xstrdup(NASTY);
        g->style = xstrdup("ACTIVE");
        g->target = 2;
        g->minimum = 1;
        g->running = 0;
        g->primary = xstrdup("");
        g->view_id = 1;
        g->version = 1;
        g->failovers = 0;
        g->restarts = 0;
        g->members._release = true;
    }
}

static int group_index(const char *name)
{
    if (strcmp(name, "bank") == 0)
        return 0;
    if (strcmp(name, "echo") == 0)
        return 1;
    return -1;
}

static int no_group(const char *name, phx_env_t *env)
{
    Phalanx_NoSuchGroup ex = {.name = (char *)name};
    return Phalanx_NoSuchGroup__raise(env, &ex);
}

static int refuse(const char *reason, phx_env_t *env)
{
    Phalanx_Refused ex = {.reason = (char *)reason};
    return Phalanx_Refused__raise(env, &ex);
}

static int f_domain(void *self, char **ret, phx_env_t *env)
{
    (void)self;
    (void)env;
    *ret = xstrdup("test-domain");
    return 0;
}

static int f_host(void *self, char **ret, phx_env_t *env)
{
    (void)self;
    (void)env;
    *ret = xstrdup("alpha");
    return 0;
}

static int f_daemons(void *self, Phalanx_NameSeq *ret, phx_env_t *env)
{
    (void)self;
    (void)env;
    ret->_buffer = xcalloc(2, sizeof *ret->_buffer);
    ret->_buffer[0] = xstrdup("alpha");
    ret->_buffer[1] = xstrdup("beta");
    ret->_length = ret->_maximum = 2;
    ret->_release = true;
    return 0;
}

static int f_groups(void *self, Phalanx_GroupSeq *ret, phx_env_t *env)
{
    (void)self;
    (void)env;
    ret->_buffer = xcalloc(2, sizeof *ret->_buffer);
    fill_group(&ret->_buffer[0], 0);
    fill_group(&ret->_buffer[1], 1);
    ret->_length = ret->_maximum = 2;
    ret->_release = true;
    return 0;
}

static int f_group(void *self, const char *name, Phalanx_GroupInfo *ret,
                   phx_env_t *env)
{
    (void)self;
    int i = group_index(name);
    if (strcmp(name, "crash") == 0)
        return phx_env_system(env, PHX_SYSEX_INTERNAL, 0, PHX_COMPLETED_NO,
                              "the canned daemon fails on purpose");
    if (i < 0)
        return no_group(name, env);
    fill_group(ret, i);
    return 0;
}

static int f_ior(void *self, const char *name, char **ret, phx_env_t *env)
{
    (void)self;
    int i = group_index(name);
    if (i < 0)
        return no_group(name, env);
    if (i == 1)
        return refuse("group 'echo' has no running member", env);
    *ret = xstrdup("IOR:0123456789abcdef");
    return 0;
}

static int f_kill(void *self, const char *group, const char *member,
                  phx_env_t *env)
{
    (void)self;
    if (group_index(group) < 0)
        return no_group(group, env);
    if (strcmp(member, "bank/slow") == 0) {
        /* Longer than the client's --timeout. */
        struct timespec ts = {1, 500000000L};
        nanosleep(&ts, NULL);
        return 0;
    }
    if (strcmp(member, "bank/3") == 0)
        return refuse("member bank/3 is not running", env);
    if (strcmp(group, "bank") != 0 ||
        (strcmp(member, "bank/1") != 0 && strcmp(member, "bank/2") != 0)) {
        Phalanx_NoSuchMember ex = {.name = (char *)member};
        return Phalanx_NoSuchMember__raise(env, &ex);
    }
    pthread_mutex_lock(&fake.lock);
    snprintf(fake.killed_group, sizeof fake.killed_group, "%s", group);
    snprintf(fake.killed_member, sizeof fake.killed_member, "%s", member);
    fake.kills++;
    pthread_mutex_unlock(&fake.lock);
    return 0;
}

static int f_add(void *self, const char *group, const char *host, char **ret,
                 phx_env_t *env)
{
    (void)self;
    if (group_index(group) < 0)
        return no_group(group, env);
    if (strcmp(host, "alpha") && strcmp(host, "beta") &&
        strcmp(host, "gamma")) {
        Phalanx_NoSuchHost ex = {.name = (char *)host};
        return Phalanx_NoSuchHost__raise(env, &ex);
    }
    *ret = xstrdup(strcmp(group, "bank") == 0 ? "bank/4" : "echo/1");
    return 0;
}

/* Events 1..4, at most two per call, so the client must pass since. */
#define N_EVENTS 4
#define EVENT_T0 1700000000123ull /* 2023-11-14 22:13:20.123 UTC */

/* self: the number of events this daemon knows (a uint64_t). */
static uint64_t all_events = N_EVENTS, first_two = 2;

static int f_events(void *self, uint64_t since, uint32_t wait_ms,
                    Phalanx_EventSeq *ret, phx_env_t *env)
{
    (void)env;
    uint64_t known = *(const uint64_t *)self;
    static const char *const kinds[N_EVENTS] = {"placed", "started",
                                                "fault", "restart"};
    static const char *const members[N_EVENTS] = {"bank/1", "bank/1",
                                                  "bank/2", ""};
    static const char *const texts[N_EVENTS] = {
        "placed on alpha", "started as pid 1234", NASTY,
        "restoring 3 replicas"};
    if (known == N_EVENTS) {
        pthread_mutex_lock(&fake.lock);
        fake.last_since = since;
        pthread_mutex_unlock(&fake.lock);
    }
    ret->_release = true;
    if (since >= known) {
        /* Nothing new: wait a little, as the daemon would. */
        struct timespec ts = {0, (long)(wait_ms < 100 ? wait_ms : 100) *
                                     1000000L};
        nanosleep(&ts, NULL);
        return 0;
    }
    uint32_t n = (uint32_t)(known - since);
    if (n > 2)
        n = 2;
    ret->_buffer = xcalloc(n, sizeof *ret->_buffer);
    ret->_length = ret->_maximum = n;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t k = (uint32_t)since + i; /* 0-based */
        Phalanx_Event *e = &ret->_buffer[i];
        e->seq = k + 1;
        e->time_ms = EVENT_T0 + 1000ull * k;
        e->kind = xstrdup(kinds[k]);
        e->group = xstrdup("bank");
        e->member = xstrdup(members[k]);
        e->text = xstrdup(texts[k]);
    }
    return 0;
}

static const Phalanx_Daemon__epv fake_epv = {
    .domain = f_domain,
    .host = f_host,
    .daemons = f_daemons,
    .groups = f_groups,
    .group = f_group,
    .ior = f_ior,
    .kill_replica = f_kill,
    .add_replica = f_add,
    .events = f_events,
};

/* ------------------------------------------------------------------ */
/* Serving it                                                           */
/* ------------------------------------------------------------------ */

static phx_orb_t *orb;
static pthread_t orb_thread;
static bool orb_running;
static Phalanx_Daemon__servant servant;
static char endpoint[256];
static char phxctl[4096];

static void *orb_main(void *arg)
{
    (void)arg;
    phx_orb_run(orb);
    return NULL;
}

static int suite_init(void)
{
    const char *bd = getenv("PHX_BUILDDIR");
    snprintf(phxctl, sizeof phxctl, "%s/ft/phxd/phxctl", bd ? bd : ".");
    /* Event times are shown in local time: make that UTC. */
    setenv("TZ", "UTC", 1);
    unsetenv("PHX_DAEMON");

    static const char *const listen[] = {"tcp://127.0.0.1:*"};
    phx_orb_config_t cfg;
    phx_orb_config_init(&cfg);
    cfg.listen = listen;
    cfg.listen_count = 1;
    cfg.workers = 2;
    phx_error_t err;
    if (phx_orb_create(&cfg, &orb, &err) != 0) {
        fprintf(stderr, "orb: %s\n", err.msg);
        return -1;
    }
    Phalanx_Daemon__servant_init(&servant, &fake_epv, &all_events);
    if (phx_orb_activate(orb, &servant.base, "phxd", 4, NULL, &err) != 0) {
        fprintf(stderr, "activate: %s\n", err.msg);
        return -1;
    }
    snprintf(endpoint, sizeof endpoint, "%s", phx_orb_endpoint(orb, 0));
    if (pthread_create(&orb_thread, NULL, orb_main, NULL) != 0)
        return -1;
    orb_running = true;
    return 0;
}

static int suite_clean(void)
{
    if (orb_running) {
        phx_orb_shutdown(orb);
        pthread_join(orb_thread, NULL);
        orb_running = false;
    }
    phx_orb_destroy(orb);
    orb = NULL;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Running phxctl                                                       */
/* ------------------------------------------------------------------ */

typedef struct buf {
    char *data;
    size_t len, cap;
} buf_t;

static void buf_add(buf_t *b, const char *p, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 1024;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *d = realloc(b->data, cap);
        if (!d)
            abort();
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

typedef struct child {
    pid_t pid;
    int out, err; /* read ends, -1 once at EOF */
    buf_t o, e;
    int status;   /* exit status, or -1 (killed, timed out) */
} child_t;

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Start phxctl with args (NULL-terminated vector after the program). */
static bool start(child_t *c, const char *const *args)
{
    memset(c, 0, sizeof *c);
    c->status = -1;
    char *argv[64];
    size_t n = 0;
    argv[n++] = phxctl;
    for (; args[n - 1] && n < 63; n++)
        argv[n] = (char *)args[n - 1];
    argv[n] = NULL;
    int po[2], pe[2];
    if (pipe2(po, O_CLOEXEC) || pipe2(pe, O_CLOEXEC))
        return false;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, po[1], 1);
    posix_spawn_file_actions_adddup2(&fa, pe[1], 2);
    int rc = posix_spawn(&c->pid, phxctl, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(po[1]);
    close(pe[1]);
    c->out = po[0];
    c->err = pe[0];
    if (rc != 0) {
        close(po[0]);
        close(pe[0]);
        c->out = c->err = -1;
        c->pid = 0;
        return false;
    }
    return true;
}

/* Read what is there (waiting at most ms); false at EOF on both. */
static bool pump(child_t *c, int ms)
{
    struct pollfd p[2] = {{c->out, POLLIN, 0}, {c->err, POLLIN, 0}};
    if (c->out < 0 && c->err < 0)
        return false;
    if (poll(p, 2, ms) <= 0)
        return true;
    for (int i = 0; i < 2; i++) {
        if (p[i].fd < 0 || !p[i].revents)
            continue;
        char tmp[4096];
        ssize_t r = read(p[i].fd, tmp, sizeof tmp);
        if (r > 0) {
            buf_add(i ? &c->e : &c->o, tmp, (size_t)r);
        } else if (r == 0 || errno != EINTR) {
            close(p[i].fd);
            if (i)
                c->err = -1;
            else
                c->out = -1;
        }
    }
    return true;
}

/* Wait until stdout holds want (true) or the deadline passes. */
static bool wait_output(child_t *c, const char *want, int ms)
{
    long long deadline = now_ms() + ms;
    while (!(c->o.data && strstr(c->o.data, want))) {
        long long left = deadline - now_ms();
        if (left <= 0 || !pump(c, (int)left))
            return c->o.data && strstr(c->o.data, want);
    }
    return true;
}

/* Collect the output and the exit status, by PID, under a deadline
 * (SIGKILL after it). */
static void finish(child_t *c)
{
    long long deadline = now_ms() + RUN_MS;
    while (now_ms() < deadline && pump(c, 50))
        ;
    int st;
    for (;;) {
        pid_t r = waitpid(c->pid, &st, WNOHANG);
        if (r == c->pid)
            break;
        if (r < 0 && errno != EINTR) {
            st = -1;
            break;
        }
        if (now_ms() >= deadline) {
            kill(c->pid, SIGKILL);
            waitpid(c->pid, &st, 0);
            st = -1;
            break;
        }
        struct timespec ts = {0, 10000000L};
        nanosleep(&ts, NULL);
    }
    c->status = st >= 0 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    if (c->out >= 0)
        close(c->out);
    if (c->err >= 0)
        close(c->err);
    c->out = c->err = -1;
    if (!c->o.data)
        buf_add(&c->o, "", 0);
    if (!c->e.data)
        buf_add(&c->e, "", 0);
}

static void release(child_t *c)
{
    free(c->o.data);
    free(c->e.data);
    memset(c, 0, sizeof *c);
}

/* Run phxctl to the end; the vector is NULL-terminated. */
static void run(child_t *c, const char *const *args)
{
    if (!start(c, args)) {
        CU_FAIL("cannot start phxctl");
        buf_add(&c->o, "", 0);
        buf_add(&c->e, "", 0);
        return;
    }
    finish(c);
}

#define RUN(c, ...)                                                         \
    do {                                                                    \
        const char *const args_[] = {__VA_ARGS__, NULL};                    \
        run((c), args_);                                                    \
    } while (0)

/* Show the output when an expectation fails. */
static void dump(const char *what, const child_t *c)
{
    fprintf(stderr, "\n--- %s: status %d\n--- stdout:\n%s--- stderr:\n%s",
            what, c->status, c->o.data ? c->o.data : "",
            c->e.data ? c->e.data : "");
}

#define EXPECT_STATUS(c, want)                                              \
    do {                                                                    \
        CU_ASSERT_EQUAL((c)->status, (want));                               \
        if ((c)->status != (want))                                          \
            dump(#want, (c));                                               \
    } while (0)

#define EXPECT_OUT(c, s)                                                    \
    do {                                                                    \
        bool ok_ = strstr((c)->o.data, (s)) != NULL;                        \
        CU_ASSERT(ok_);                                                     \
        if (!ok_) {                                                         \
            fprintf(stderr, "\nmissing on stdout: [%s]", (s));              \
            dump("stdout", (c));                                            \
        }                                                                   \
    } while (0)

#define EXPECT_ERR(c, s)                                                    \
    do {                                                                    \
        bool ok_ = strstr((c)->e.data, (s)) != NULL;                        \
        CU_ASSERT(ok_);                                                     \
        if (!ok_) {                                                         \
            fprintf(stderr, "\nmissing on stderr: [%s]", (s));              \
            dump("stderr", (c));                                            \
        }                                                                   \
    } while (0)

static void *orb2_main(void *arg)
{
    phx_orb_run(arg);
    return NULL;
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* A descriptor with two hosts. */
static bool write_descriptor(const char *path, const char *h1,
                             const char *ep1, const char *h2,
                             const char *ep2)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return false;
    fprintf(f,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<phalanx xmlns=\"urn:phalanx:deployment:1\" domain=\"t\">\n"
            "  <host name=\"%s\" endpoint=\"%s\"\n"
            "        gcs-endpoint=\"tcp://127.0.0.1:2\"/>\n"
            "  <host name=\"%s\" endpoint=\"%s\"\n"
            "        gcs-endpoint=\"tcp://127.0.0.1:3\"/>\n"
            "  <group name=\"bank\" type-id=\"IDL:Bank:1.0\" "
            "style=\"ACTIVE\">\n"
            "    <factory><command>/bin/true</command></factory>\n"
            "  </group>\n"
            "</phalanx>\n",
            h1, ep1, h2, ep2);
    return fclose(f) == 0;
}

/* ------------------------------------------------------------------ */
/* Tests                                                                */
/* ------------------------------------------------------------------ */

static void test_groups(void)
{
    child_t c;
    RUN(&c, "--endpoint", endpoint, "groups");
    EXPECT_STATUS(&c, 0);
    EXPECT_OUT(&c, "NAME  STYLE         RUNNING/TARGET  PRIMARY  VERSION  "
                   "FAILOVERS\n");
    EXPECT_OUT(&c, "bank  WARM_PASSIVE  2/3             bank/1   4        "
                   "1\n");
    EXPECT_OUT(&c, "echo  ACTIVE        0/2             -        1        "
                   "0\n");
    CU_ASSERT_STRING_EQUAL(c.e.data, "");
    release(&c);

    RUN(&c, "--json", "--endpoint", endpoint, "groups");
    EXPECT_STATUS(&c, 0);
    CU_ASSERT(c.o.data[0] == '[');
    CU_ASSERT(c.o.len > 2 && strcmp(c.o.data + c.o.len - 2, "]\n") == 0);
    EXPECT_OUT(&c, "{\"name\":\"bank\",\"type_id\":\"IDL:Bank/Account:1.0\","
                   "\"style\":\"WARM_PASSIVE\",\"target\":3,\"minimum\":2,"
                   "\"running\":2,\"primary\":\"bank/1\",\"view_id\":7,"
                   "\"version\":4,\"failovers\":1,\"restarts\":3,"
                   "\"requests\":1500,\"divergences\":0,"
                   "\"members\":[{\"id\":\"bank/1\",\"host\":\"alpha\","
                   "\"pid\":1234,\"state\":\"running\",\"role\":\"primary\","
                   "\"ior\":\"IOR:00ff\",\"restarts\":0,\"requests\":1500},");
    EXPECT_OUT(&c, "\"type_id\":" NASTY_JSON ",");
    /* One document on one line. */
    CU_ASSERT(strchr(c.o.data, '\n') == c.o.data + c.o.len - 1);
    release(&c);
}

static void test_group(void)
{
    child_t c;
    RUN(&c, "--endpoint", endpoint, "group", "bank");
    EXPECT_STATUS(&c, 0);
    EXPECT_OUT(&c, "name:       bank\n");
    EXPECT_OUT(&c, "type id:    IDL:Bank/Account:1.0\n");
    EXPECT_OUT(&c, "style:      WARM_PASSIVE\n");
    EXPECT_OUT(&c, "primary:    bank/1\n");
    EXPECT_OUT(&c, "view:       7\n");
    EXPECT_OUT(&c, "failovers:  1\n");
    EXPECT_OUT(&c, "restarts:   3\n");
    EXPECT_OUT(&c, "requests:   1500\n");
    EXPECT_OUT(&c, "diverged:   0\n");
    EXPECT_OUT(&c, "ID      HOST   PID   STATE    ROLE     RESTARTS  REQUESTS\n"
                   "bank/1  alpha  1234  running  primary  0         1500\n"
                   "bank/2  beta   2345  running  backup   1         1490\n"
                   "bank/3  gamma  -     failed   -        2         0\n");
    release(&c);

    /* Control characters are not sent to the terminal as they are. */
    RUN(&c, "--endpoint", endpoint, "group", "echo");
    EXPECT_STATUS(&c, 0);
    EXPECT_OUT(&c, "type id:    say \"hi\"\\\\tnow\\nbell\\x01 caf\xc3\xa9\n");
    release(&c);

    RUN(&c, "--endpoint", endpoint, "--json", "group", "echo");
    EXPECT_STATUS(&c, 0);
    CU_ASSERT_STRING_EQUAL(
        c.o.data,
        "{\"name\":\"echo\",\"type_id\":" NASTY_JSON ",\"style\":\"ACTIVE\","
        "\"target\":2,\"minimum\":1,\"running\":0,\"primary\":\"\","
        "\"view_id\":1,\"version\":1,\"failovers\":0,\"restarts\":0,"
        "\"requests\":0,\"divergences\":0,\"members\":[]}\n");
    release(&c);

    RUN(&c, "--endpoint", endpoint, "group", "nope");
    EXPECT_STATUS(&c, 1);
    EXPECT_ERR(&c, "phxctl: no group named 'nope'\n");
    CU_ASSERT_STRING_EQUAL(c.o.data, "");
    release(&c);
}

static void test_ior(void)
{
    child_t c;
    RUN(&c, "--endpoint", endpoint, "ior", "bank");
    EXPECT_STATUS(&c, 0);
    CU_ASSERT_STRING_EQUAL(c.o.data, "IOR:0123456789abcdef\n");
    release(&c);

    RUN(&c, "--endpoint", endpoint, "--json", "ior", "bank");
    EXPECT_STATUS(&c, 0);
    CU_ASSERT_STRING_EQUAL(
        c.o.data, "{\"group\":\"bank\",\"ior\":\"IOR:0123456789abcdef\"}\n");
    release(&c);

    RUN(&c, "--endpoint", endpoint, "ior", "echo");
    EXPECT_STATUS(&c, 1);
    EXPECT_ERR(&c, "phxctl: refused: group 'echo' has no running member\n");
    release(&c);
}

static void test_kill_add(void)
{
    child_t c;
    RUN(&c, "--endpoint", endpoint, "kill-replica", "bank", "bank/2");
    EXPECT_STATUS(&c, 0);
    pthread_mutex_lock(&fake.lock);
    CU_ASSERT_EQUAL(fake.kills, 1);
    CU_ASSERT_STRING_EQUAL(fake.killed_group, "bank");
    CU_ASSERT_STRING_EQUAL(fake.killed_member, "bank/2");
    pthread_mutex_unlock(&fake.lock);
    release(&c);

    RUN(&c, "--endpoint", endpoint, "--json", "kill-replica", "bank",
        "bank/1");
    EXPECT_STATUS(&c, 0);
    CU_ASSERT_STRING_EQUAL(
        c.o.data,
        "{\"group\":\"bank\",\"member\":\"bank/1\",\"killed\":true}\n");
    release(&c);

    RUN(&c, "--endpoint", endpoint, "kill-replica", "bank", "bank/9");
    EXPECT_STATUS(&c, 1);
    EXPECT_ERR(&c, "phxctl: no member named 'bank/9'\n");
    release(&c);

    RUN(&c, "--endpoint", endpoint, "kill-replica", "bank", "bank/3");
    EXPECT_STATUS(&c, 1);
    EXPECT_ERR(&c, "phxctl: refused: member bank/3 is not running\n");
    release(&c);

    RUN(&c, "--endpoint", endpoint, "kill-replica", "x", "x/1");
    EXPECT_STATUS(&c, 1);
    EXPECT_ERR(&c, "phxctl: no group named 'x'\n");
    release(&c);
    pthread_mutex_lock(&fake.lock);
    CU_ASSERT_EQUAL(fake.kills, 2);
    pthread_mutex_unlock(&fake.lock);

    RUN(&c, "--endpoint", endpoint, "add-replica", "bank", "gamma");
    EXPECT_STATUS(&c, 0);
    CU_ASSERT_STRING_EQUAL(c.o.data, "bank/4\n");
    release(&c);

    RUN(&c, "--endpoint", endpoint, "--json", "add-replica", "bank", "beta");
    EXPECT_STATUS(&c, 0);
    CU_ASSERT_STRING_EQUAL(
        c.o.data,
        "{\"group\":\"bank\",\"host\":\"beta\",\"member\":\"bank/4\"}\n");
    release(&c);

    RUN(&c, "--endpoint", endpoint, "add-replica", "bank", "delta");
    EXPECT_STATUS(&c, 1);
    EXPECT_ERR(&c, "phxctl: no host named 'delta'\n");
    release(&c);
}

static void test_daemons(void)
{
    child_t c;
    RUN(&c, "--endpoint", endpoint, "daemons");
    EXPECT_STATUS(&c, 0);
    CU_ASSERT_STRING_EQUAL(c.o.data,
                           "domain test-domain (answered by alpha)\n"
                           "alpha  (leader)\n"
                           "beta\n");
    release(&c);

    /* The endpoint from the environment. */
    setenv("PHX_DAEMON", endpoint, 1);
    RUN(&c, "--json", "daemons");
    unsetenv("PHX_DAEMON");
    EXPECT_STATUS(&c, 0);
    CU_ASSERT_STRING_EQUAL(c.o.data,
                           "{\"domain\":\"test-domain\",\"host\":\"alpha\","
                           "\"leader\":\"alpha\","
                           "\"daemons\":[\"alpha\",\"beta\"]}\n");
    release(&c);
}

static void test_watch(void)
{
    child_t c;
    RUN(&c, "--endpoint", endpoint, "watch", "--count", "3");
    EXPECT_STATUS(&c, 0);
    CU_ASSERT_STRING_EQUAL(
        c.o.data,
        "22:13:20.123  placed    bank        bank/1        placed on alpha\n"
        "22:13:21.123  started   bank        bank/1        started as pid "
        "1234\n"
        "22:13:22.123  fault     bank        bank/2        say \"hi\"\\\\tnow"
        "\\nbell\\x01 caf\xc3\xa9\n");
    release(&c);

    RUN(&c, "--endpoint", endpoint, "--json", "watch", "--since", "2",
        "--count", "2");
    EXPECT_STATUS(&c, 0);
    CU_ASSERT_STRING_EQUAL(
        c.o.data,
        "{\"seq\":3,\"time_ms\":1700000002123,\"kind\":\"fault\","
        "\"group\":\"bank\",\"member\":\"bank/2\",\"text\":" NASTY_JSON "}\n"
        "{\"seq\":4,\"time_ms\":1700000003123,\"kind\":\"restart\","
        "\"group\":\"bank\",\"member\":\"\","
        "\"text\":\"restoring 3 replicas\"}\n");
    release(&c);

    /* Without --count: every event, then it waits until SIGINT. */
    const char *const args[] = {"--endpoint", endpoint, "watch", NULL};
    CU_ASSERT_FATAL(start(&c, args));
    bool seen = wait_output(&c, "restoring 3 replicas\n", RUN_MS);
    CU_ASSERT(seen);
    /* It goes on asking for what follows event 4. */
    long long deadline = now_ms() + RUN_MS;
    for (;;) {
        pthread_mutex_lock(&fake.lock);
        uint64_t since = fake.last_since;
        pthread_mutex_unlock(&fake.lock);
        if (since == N_EVENTS || now_ms() > deadline)
            break;
        pump(&c, 20);
    }
    kill(c.pid, SIGINT);
    finish(&c);
    EXPECT_STATUS(&c, 0);
    CU_ASSERT_STRING_EQUAL(c.e.data, "");
    CU_ASSERT_EQUAL(fake.last_since, N_EVENTS);
    release(&c);
}

static void test_unreachable(void)
{
    child_t c;
    long long t0 = now_ms();
    RUN(&c, "--endpoint", "tcp://127.0.0.1:1", "--timeout", "300", "groups");
    EXPECT_STATUS(&c, 3);
    EXPECT_ERR(&c, "no daemon reachable");
    EXPECT_ERR(&c, "tcp://127.0.0.1:1");
    CU_ASSERT(now_ms() - t0 < 10000);
    CU_ASSERT_STRING_EQUAL(c.o.data, "");
    release(&c);

    /* A request that changes something is not retried after a timeout:
     * it may have been carried out. */
    RUN(&c, "--endpoint", endpoint, "--timeout", "300", "kill-replica",
        "bank", "bank/slow");
    EXPECT_STATUS(&c, 3);
    EXPECT_ERR(&c, "may have been carried out");
    release(&c);

    /* An unexpected system exception is 4. */
    RUN(&c, "--endpoint", endpoint, "group", "crash");
    EXPECT_STATUS(&c, 4);
    EXPECT_ERR(&c, "INTERNAL");
    release(&c);

    /* watch on a daemon that is not there either. */
    RUN(&c, "--endpoint", "tcp://127.0.0.1:1", "--timeout", "300", "watch");
    EXPECT_STATUS(&c, 3);
    release(&c);
}

/* A descriptor whose first host has no daemon: the second answers. */
static void test_descriptor(void)
{
    char dir[] = "/tmp/test_phxctl.XXXXXX";
    CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
    char path[512];
    snprintf(path, sizeof path, "%s/domain.xml", dir);
    CU_ASSERT_FATAL(write_descriptor(path, "dead", "tcp://127.0.0.1:1",
                                     "live", endpoint));

    child_t c;
    RUN(&c, "--descriptor", path, "--timeout", "500", "ior", "bank");
    EXPECT_STATUS(&c, 0);
    CU_ASSERT_STRING_EQUAL(c.o.data, "IOR:0123456789abcdef\n");
    release(&c);

    RUN(&c, "--descriptor", path, "--timeout", "500", "watch", "--count",
        "1");
    EXPECT_STATUS(&c, 0);
    EXPECT_OUT(&c, "placed on alpha\n");
    release(&c);

    /* --host picks one; the dead one gives 3 naming it. */
    RUN(&c, "--descriptor", path, "--host", "dead", "--timeout", "300",
        "groups");
    EXPECT_STATUS(&c, 3);
    EXPECT_ERR(&c, "tcp://127.0.0.1:1");
    release(&c);

    RUN(&c, "--descriptor", path, "--host", "nowhere", "groups");
    EXPECT_STATUS(&c, 2);
    EXPECT_ERR(&c, "no host named 'nowhere'");
    release(&c);

    snprintf(path + strlen(dir), sizeof path - strlen(dir), "/missing.xml");
    RUN(&c, "--descriptor", path, "groups");
    EXPECT_STATUS(&c, 4);
    EXPECT_ERR(&c, "missing.xml");
    release(&c);

    snprintf(path, sizeof path, "%s/domain.xml", dir);
    unlink(path);
    rmdir(dir);
}

/* watch with a descriptor: the first daemon knows two events and then
 * goes away; watch goes on with the second from event 3. */
static void test_watch_failover(void)
{
    static const char *const listen[] = {"tcp://127.0.0.1:*"};
    phx_orb_config_t cfg;
    phx_orb_config_init(&cfg);
    cfg.listen = listen;
    cfg.listen_count = 1;
    cfg.workers = 1;
    cfg.linger_ms = 0;
    phx_orb_t *orb2 = NULL;
    phx_error_t err;
    CU_ASSERT_FATAL(phx_orb_create(&cfg, &orb2, &err) == 0);
    Phalanx_Daemon__servant sv2;
    Phalanx_Daemon__servant_init(&sv2, &fake_epv, &first_two);
    CU_ASSERT_FATAL(phx_orb_activate(orb2, &sv2.base, "phxd", 4, NULL,
                                     &err) == 0);
    pthread_t t2;
    CU_ASSERT_FATAL(pthread_create(&t2, NULL, orb2_main, orb2) == 0);

    char dir[] = "/tmp/test_phxctl.XXXXXX", path[512];
    CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/domain.xml", dir);
    CU_ASSERT_FATAL(write_descriptor(path, "first", phx_orb_endpoint(orb2, 0),
                                     "second", endpoint));

    child_t c;
    const char *const args[] = {"--descriptor", path, "--timeout", "500",
                                "watch", "--count", "4", NULL};
    CU_ASSERT_FATAL(start(&c, args));
    CU_ASSERT(wait_output(&c, "started as pid 1234\n", RUN_MS));
    phx_orb_shutdown(orb2);
    pthread_join(t2, NULL);
    phx_orb_destroy(orb2);
    finish(&c);
    EXPECT_STATUS(&c, 0);
    EXPECT_OUT(&c, "placed on alpha\n");
    CU_ASSERT(strstr(c.o.data, "placed on alpha") <
              strstr(c.o.data, "restoring 3 replicas"));
    /* Each event once. */
    const char *p = strstr(c.o.data, "started as pid");
    CU_ASSERT(p && !strstr(p + 1, "started as pid"));
    CU_ASSERT_EQUAL(count_lines(c.o.data), 4);
    EXPECT_ERR(&c, "now watching");
    if (getenv("PHXCTL_TEST_VERBOSE"))
        dump("failover", &c);
    release(&c);
    unlink(path);
    rmdir(dir);
}

static void test_usage(void)
{
    child_t c;
    RUN(&c, "--endpoint", endpoint, "frobnicate");
    EXPECT_STATUS(&c, 2);
    EXPECT_ERR(&c, "unknown command 'frobnicate'");
    EXPECT_ERR(&c, "Usage: phxctl");
    release(&c);

    RUN(&c, "--bogus", "groups");
    EXPECT_STATUS(&c, 2);
    EXPECT_ERR(&c, "unknown option '--bogus'");
    release(&c);

    RUN(&c, "--endpoint", endpoint, "group");
    EXPECT_STATUS(&c, 2);
    EXPECT_ERR(&c, "group: missing NAME");
    release(&c);

    RUN(&c, "--endpoint", endpoint, "kill-replica", "bank");
    EXPECT_STATUS(&c, 2);
    EXPECT_ERR(&c, "missing MEMBER");
    release(&c);

    RUN(&c, "--endpoint", endpoint, "groups", "extra");
    EXPECT_STATUS(&c, 2);
    EXPECT_ERR(&c, "unexpected argument 'extra'");
    release(&c);

    RUN(&c, "--endpoint", endpoint, "watch", "--count", "x");
    EXPECT_STATUS(&c, 2);
    EXPECT_ERR(&c, "--count");
    release(&c);

    RUN(&c, "--endpoint", "127.0.0.1:7101", "groups");
    EXPECT_STATUS(&c, 2);
    EXPECT_ERR(&c, "is not an endpoint");
    release(&c);

    RUN(&c, "--endpoint", endpoint, "--descriptor", "x.xml", "groups");
    EXPECT_STATUS(&c, 2);
    release(&c);

    RUN(&c, "--timeout", "soon", "groups");
    EXPECT_STATUS(&c, 2);
    release(&c);

    RUN(&c, "groups"); /* no daemon named anywhere */
    EXPECT_STATUS(&c, 2);
    EXPECT_ERR(&c, "PHX_DAEMON");
    release(&c);

    RUN(&c, NULL);
    EXPECT_STATUS(&c, 2);
    release(&c);
}

static void test_help(void)
{
    static const char *const cmds[] = {"groups", "group", "ior",
                                       "kill-replica", "add-replica",
                                       "daemons", "watch"};
    child_t c;
    RUN(&c, "--help");
    EXPECT_STATUS(&c, 0);
    EXPECT_OUT(&c, "Usage: phxctl");
    EXPECT_OUT(&c, "Exit status:");
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        EXPECT_OUT(&c, cmds[i]);
    release(&c);
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        /* No daemon needed for help. */
        RUN(&c, cmds[i], "--help");
        EXPECT_STATUS(&c, 0);
        char want[64];
        snprintf(want, sizeof want, "Usage: phxctl [OPTIONS] %s", cmds[i]);
        EXPECT_OUT(&c, want);
        EXPECT_OUT(&c, "Exit status");
        CU_ASSERT_STRING_EQUAL(c.e.data, "");
        release(&c);
    }
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("phxctl", suite_init, suite_clean);
    if (!s || !CU_add_test(s, "groups", test_groups) ||
        !CU_add_test(s, "group", test_group) ||
        !CU_add_test(s, "ior", test_ior) ||
        !CU_add_test(s, "kill-replica and add-replica", test_kill_add) ||
        !CU_add_test(s, "daemons and PHX_DAEMON", test_daemons) ||
        !CU_add_test(s, "watch", test_watch) ||
        !CU_add_test(s, "no daemon: 3, failure: 4", test_unreachable) ||
        !CU_add_test(s, "descriptor", test_descriptor) ||
        !CU_add_test(s, "watch moves to another daemon",
                     test_watch_failover) ||
        !CU_add_test(s, "usage errors: exit 2", test_usage) ||
        !CU_add_test(s, "--help", test_help)) {
        CU_cleanup_registry();
        return 1;
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures();
    unsigned run_failed = CU_get_number_of_suites_failed();
    CU_cleanup_registry();
    return failed || run_failed ? 1 : 0;
}
