/*
 * phxd.c - the Phalanx daemon: one per host of a fault-tolerance domain.
 *
 *   phxd --descriptor FILE --host NAME [--found] [--log-level LEVEL]
 *   phxd --check FILE
 *
 * It starts the replicas the deployment descriptor places on its host,
 * watches them (process exit, and an is_alive probe every
 * FaultMonitoringInterval for hung ones), and restores each group's
 * replica count after a fault.  The daemons of a domain share every
 * decision through the group communication service: they join the GCS
 * group "phxd/<domain>", and everything that changes the domain's state
 * (a replica placed, started, ready, its role, its exit, an operator's
 * command) is a message delivered in the same total order to every
 * daemon, which applies it to its copy of the state.  The oldest daemon
 * of the view (the leader) makes the placement decisions; when it dies
 * the next oldest carries on from the same state, and a daemon that joins
 * gets the state by state transfer, so losing any one daemon loses no
 * decision.  Each daemon serves the Phalanx::Daemon control interface
 * (idl/phxd.idl) on its host's endpoint for phxctl.
 *
 * Threads: the main thread owns the GCS handle, the children and the
 * state (under state_lock); the control ORB serves on its own threads and
 * reads the state under the lock; the probe thread calls each local
 * running replica.  Both queue what they want multicast (outq) and wake
 * the main thread.  Described in docs/phxd.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <phx/deploy.h>
#include <phx/ft.h>
#include <phx/gcs.h>
#include <phx/log.h>
#include <phx/phx.h>

#include "idl/phxd.h"

#define MAX_EVENTS 10000
#define MAX_FIELDS 10

/* ------------------------------------------------------------------ */
/* The replicated state                                                 */
/* ------------------------------------------------------------------ */

enum { M_PLACED, M_STARTING, M_RUNNING, M_STOPPING };
static const char *const state_names[] = {"placed", "starting", "running",
                                          "stopping"};

typedef struct member {
    char *id;        /* "GROUP/N" */
    size_t group;    /* index in the descriptor */
    char *host;
    int state;
    int pid;
    char *ior;
    char *gcs;
    int role;        /* -1 none, 0 backup, 1 primary */
    uint32_t restarts;
    uint64_t requests; /* replicated requests executed (its reports) */
    uint16_t orb_port, gcs_port; /* 0: the system picks */
} member_t;

typedef struct group_rt {
    uint32_t target;
    uint32_t next_no;
    uint32_t version;      /* object_group_ref_version */
    uint64_t view_id;
    uint64_t failovers, restarts;
    uint64_t divergences;
    char *primary;         /* member id or NULL */
    bool had_primary;      /* a primary existed before the current one */
    uint32_t inflight;     /* leader: PLACE sent, not yet delivered */
} group_rt_t;

typedef struct event {
    uint64_t seq, time_ms;
    char *kind, *group, *member, *text;
} event_t;

static struct {
    phx_deploy_t *d;
    const phx_deploy_host_t *me;
    char *gcs_group;
    pthread_mutex_t lock;        /* everything in this struct below */
    pthread_cond_t event_cond;
    group_rt_t *groups;
    member_t **members;
    size_t n_members, cap_members;
    event_t *events;             /* ring of MAX_EVENTS */
    uint64_t event_seq;
    uint16_t *port_cursor;       /* per host: where the next search for
                                  * free ports starts (host ports set) */
    char **daemons;              /* names in the view, oldest first */
    size_t n_daemons;
    bool leader;
    char *leader_name;           /* the oldest daemon of the view */
    bool shutting_down;
    /* outgoing messages (main thread multicasts them) */
    char **outq;
    size_t n_out, cap_out;
} S = {.lock = PTHREAD_MUTEX_INITIALIZER,
       .event_cond = PTHREAD_COND_INITIALIZER};

static phx_gcs_t *the_gcs;
/* Before the first placement in the domain, the leader waits until every
 * host's daemon is in the view or this much time has passed since it
 * started (so that the first replicas spread over the hosts instead of
 * all landing on the founder's). */
#define STARTUP_GRACE_MS 3000
static uint64_t started_ms;
static int wake_fd = -1;
static phx_log_level_t log_level = PHX_LOG_INFO;
static bool use_syslog;

/* ------------------------------------------------------------------ */
/* Logging                                                              */
/* ------------------------------------------------------------------ */

static void say(phx_log_level_t lvl, const char *fmt, ...)
{
    if (lvl > log_level)
        return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (use_syslog) {
        static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO,
                                   LOG_DEBUG, LOG_DEBUG};
        syslog(prio[lvl], "%s", line);
    } else {
        fprintf(stderr, "phxd[%s]: %s\n", S.me ? S.me->name : "-", line);
    }
}

static void log_sink(phx_log_level_t level, const char *module,
                     const char *line, void *arg)
{
    (void)arg;
    say(level, "%s: %s", module, line);
}

static uint64_t wall_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

static uint64_t mono_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

static char *xstrdup(const char *s)
{
    char *d = strdup(s ? s : "");
    if (d == NULL) {
        fprintf(stderr, "phxd: out of memory\n");
        abort();
    }
    return d;
}

/* Record an event (lock held). */
static void event_add(const char *kind, const char *group,
                      const char *member, const char *fmt, ...)
{
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    event_t *e = &S.events[S.event_seq % MAX_EVENTS];
    free(e->kind);
    free(e->group);
    free(e->member);
    free(e->text);
    e->seq = ++S.event_seq;
    e->time_ms = wall_ms();
    e->kind = xstrdup(kind);
    e->group = xstrdup(group);
    e->member = xstrdup(member);
    e->text = xstrdup(text);
    pthread_cond_broadcast(&S.event_cond);
    say(PHX_LOG_INFO, "%-8s %s%s%s%s%s", kind, group && *group ? group : "",
        member && *member ? " " : "", member ? member : "",
        (group && *group) || (member && *member) ? ": " : "", text);
}

/* ------------------------------------------------------------------ */
/* Messages between daemons                                             */
/* ------------------------------------------------------------------ */
/*
 * A message is one line of tab-separated fields, the first naming it:
 *   PLACE   group member host seeds restarts orb-port gcs-port  (leader)
 *   STARTED member pid                          (the member's host)
 *   READY   member ior gcs
 *   ROLE    member primary|backup
 *   VIEW    member view-id members
 *   STATS   member requests                     (about once a second)
 *   DIVERGED member details                     (divergence detector)
 *   EXIT    member why
 *   HUNG    member why
 *   KILL    member                              (an operator, any daemon)
 *   ADD     group host                          (an operator, any daemon)
 * Fields never hold tabs or newlines: names are checked by the
 * descriptor, references are hex, reasons are cleaned.
 */
/* Queue a message for the main thread to multicast (lock held). */
static void vqueue(const char *fmt, va_list ap)
{
    char buf[16384];
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    if (n < 0 || (size_t)n >= sizeof buf) {
        say(PHX_LOG_ERROR, "message too long, dropped");
        return;
    }
    for (char *p = buf; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    if (S.n_out == S.cap_out) {
        size_t cap = S.cap_out ? 2 * S.cap_out : 16;
        char **q = realloc(S.outq, cap * sizeof *q);
        if (q == NULL)
            return;
        S.outq = q;
        S.cap_out = cap;
    }
    S.outq[S.n_out++] = xstrdup(buf);
    uint64_t one = 1;
    ssize_t w = write(wake_fd, &one, sizeof one);
    (void)w;
}

/* The same, lock held. */
static void queue_msg_l(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vqueue(fmt, ap);
    va_end(ap);
}

/* The same, lock not held. */
static void queue_msg(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pthread_mutex_lock(&S.lock);
    vqueue(fmt, ap);
    pthread_mutex_unlock(&S.lock);
    va_end(ap);
}

/* Replace tabs in a reason so it stays one field. */
static void clean_field(char *s)
{
    for (; *s; s++)
        if (*s == '\t' || *s == '\n' || *s == '\r')
            *s = ' ';
}

static member_t *find_member(const char *id)
{
    for (size_t i = 0; i < S.n_members; i++)
        if (strcmp(S.members[i]->id, id) == 0)
            return S.members[i];
    return NULL;
}

static int find_group(const char *name)
{
    for (size_t i = 0; i < S.d->n_groups; i++)
        if (strcmp(S.d->groups[i].name, name) == 0)
            return (int)i;
    return -1;
}

static void member_free(member_t *m)
{
    if (m == NULL)
        return;
    free(m->id);
    free(m->host);
    free(m->ior);
    free(m->gcs);
    free(m);
}

static void remove_member(member_t *m)
{
    for (size_t i = 0; i < S.n_members; i++)
        if (S.members[i] == m) {
            memmove(&S.members[i], &S.members[i + 1],
                    (S.n_members - i - 1) * sizeof *S.members);
            S.n_members--;
            break;
        }
    member_free(m);
}

static uint32_t count_live(size_t g, bool running_only)
{
    uint32_t n = 0;
    for (size_t i = 0; i < S.n_members; i++)
        if (S.members[i]->group == g &&
            (running_only ? S.members[i]->state == M_RUNNING
                          : S.members[i]->state != M_STOPPING))
            n++;
    return n;
}

/* ------------------------------------------------------------------ */
/* Local replicas (main thread, and the probe thread under the lock)    */
/* ------------------------------------------------------------------ */

typedef struct proc {
    char *member;
    size_t group;
    pid_t pid;
    int fd;                  /* the replica's report lines */
    int ctl_fd;              /* to the replica: IOGR lines */
    char buf[16384];
    size_t len;
    char *gcs;
    bool ready;
    uint64_t view_id;
    uint64_t next_probe;     /* mono ms */
    bool killed;
    struct proc *next;
} proc_t;

static proc_t *procs;        /* under S.lock */

static const char *style_arg(phx_deploy_style_t s)
{
    switch (s) {
    case PHX_DEPLOY_STATELESS: return "stateless";
    case PHX_DEPLOY_COLD_PASSIVE: return "cold_passive";
    case PHX_DEPLOY_WARM_PASSIVE: return "warm_passive";
    case PHX_DEPLOY_SEMI_ACTIVE: return "semi_active";
    default: return "active";
    }
}

/* Start a replica of group g for member id; returns the pid or -1 with
 * why filled. */
static pid_t spawn(size_t g, const char *id, const char *seeds,
                   uint16_t orb_port, uint16_t gcs_port, int *fd_out,
                   int *ctl_out, char *why, size_t why_len)
{
    const phx_deploy_group_t *grp = &S.d->groups[g];
    const phx_deploy_factory_t *f =
        phx_deploy_factory_for(grp, S.me->name);
    if (f == NULL) {
        snprintf(why, why_len, "no factory for host %s", S.me->name);
        return -1;
    }
    int p[2], c[2];
    if (pipe2(p, O_CLOEXEC) != 0) {
        snprintf(why, why_len, "pipe: %s", strerror(errno));
        return -1;
    }
    if (pipe2(c, O_CLOEXEC) != 0) {
        snprintf(why, why_len, "pipe: %s", strerror(errno));
        close(p[0]);
        close(p[1]);
        return -1;
    }
    char listen[256], gcs[256], cpi[32], hb[32], to[32], store[8192];
    char op[8] = "*", gp[8] = "*";
    if (orb_port)
        snprintf(op, sizeof op, "%u", orb_port);
    if (gcs_port)
        snprintf(gp, sizeof gp, "%u", gcs_port);
    snprintf(listen, sizeof listen, "tcp://%s:%s", S.me->address, op);
    snprintf(gcs, sizeof gcs, "tcp://%s:%s", S.me->address, gp);
    snprintf(cpi, sizeof cpi, "%u", grp->checkpoint_interval_ms);
    snprintf(hb, sizeof hb, "%u", S.d->gcs_heartbeat_ms);
    snprintf(to, sizeof to, "%u", S.d->gcs_timeout_ms);
    char cwd[4096];
    const char *wd = f->workdir;
    if (wd == NULL)
        wd = getcwd(cwd, sizeof cwd) ? cwd : ".";
    snprintf(store, sizeof store, "%s/%s.store", wd, grp->name);
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(why, why_len, "fork: %s", strerror(errno));
        close(p[0]);
        close(p[1]);
        close(c[0]);
        close(c[1]);
        return -1;
    }
    if (pid == 0) {
        /* The child: the replica dies with its daemon unless the group
         * is to be left running. */
        if (grp->on_stop == PHX_DEPLOY_STOP_REPLICAS)
            prctl(PR_SET_PDEATHSIG, SIGKILL);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        setpgid(0, 0);
        /* dup2 clears close-on-exec on the copies. */
        if (dup2(p[1], 3) < 0 || dup2(c[0], 4) < 0)
            _exit(126);
        if (f->workdir && chdir(f->workdir) != 0) {
            fprintf(stderr, "phxd: replica %s: cannot enter %s: %s\n", id,
                    f->workdir, strerror(errno));
            _exit(126);
        }
        setenv("PHX_GROUP", grp->name, 1);
        setenv("PHX_STYLE", style_arg(grp->style), 1);
        setenv("PHX_LISTEN", listen, 1);
        setenv("PHX_GCS_ENDPOINT", gcs, 1);
        if (seeds && *seeds && strcmp(seeds, "-") != 0)
            setenv("PHX_GCS_SEEDS", seeds, 1);
        else
            unsetenv("PHX_GCS_SEEDS");
        setenv("PHX_MEMBER", id, 1);
        setenv("PHX_MEMBERS", "1", 1);
        setenv("PHX_REPORT_FD", "3", 1);
        setenv("PHX_CONTROL_FD", "4", 1);
        setenv("PHX_CHECKPOINT_INTERVAL_MS", cpi, 1);
        setenv("PHX_GCS_HEARTBEAT_MS", hb, 1);
        setenv("PHX_GCS_TIMEOUT_MS", to, 1);
        setenv("PHX_STORE_DIR", store, 0);
        setenv("PHX_DOMAIN", S.d->domain, 1);
        for (size_t i = 0; i < f->n_env; i++)
            setenv(f->env[i].name, f->env[i].value, 1);
        execvp(f->argv[0], f->argv);
        fprintf(stderr, "phxd: replica %s: cannot run %s: %s\n", id,
                f->argv[0], strerror(errno));
        _exit(127);
    }
    close(p[1]);
    close(c[0]);
    fcntl(p[0], F_SETFL, O_NONBLOCK);
    fcntl(c[1], F_SETFL, O_NONBLOCK);
    *fd_out = p[0];
    *ctl_out = c[1];
    return pid;
}

static void proc_free(proc_t *p)
{
    if (p->fd >= 0)
        close(p->fd);
    if (p->ctl_fd >= 0)
        close(p->ctl_fd);
    free(p->member);
    free(p->gcs);
    free(p);
}

/* A report line of a local replica (main thread, lock held). */
static void proc_line(proc_t *p, char *line)
{
    if (strncmp(line, "GCS ", 4) == 0) {
        free(p->gcs);
        p->gcs = xstrdup(line + 4);
    } else if (strncmp(line, "READY ", 6) == 0 && !p->ready) {
        p->ready = true;
        queue_msg_l("READY\t%s\t%s\t%s", p->member, line + 6,
                  p->gcs ? p->gcs : "-");
    } else if (strncmp(line, "ROLE ", 5) == 0) {
        queue_msg_l("ROLE\t%s\t%s", p->member, line + 5);
    } else if (strncmp(line, "DIVERGED ", 9) == 0) {
        clean_field(line + 9);
        queue_msg_l("DIVERGED\t%s\t%s", p->member, line + 9);
    } else if (strncmp(line, "STATS ", 6) == 0) {
        queue_msg_l("STATS\t%s\t%s", p->member, line + 6);
    } else if (strncmp(line, "VIEW ", 5) == 0) {
        unsigned long long id = 0;
        unsigned n = 0;
        if (sscanf(line + 5, "%llu %u", &id, &n) == 2 && id != p->view_id) {
            p->view_id = id;
            queue_msg_l("VIEW\t%s\t%llu\t%u", p->member, id, n);
        }
    }
}

static void proc_read(proc_t *p)
{
    for (;;) {
        ssize_t n = read(p->fd, p->buf + p->len, sizeof p->buf - 1 - p->len);
        if (n <= 0) {
            if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
                close(p->fd);
                p->fd = -1;
            }
            return;
        }
        p->len += (size_t)n;
        p->buf[p->len] = '\0';
        char *start = p->buf, *nl;
        while ((nl = strchr(start, '\n')) != NULL) {
            *nl = '\0';
            proc_line(p, start);
            start = nl + 1;
        }
        p->len -= (size_t)(start - p->buf);
        memmove(p->buf, start, p->len);
        if (p->len == sizeof p->buf - 1)
            p->len = 0; /* a line too long for a report: dropped */
    }
}

/* Reap exited children (main thread). */
static void reap(void)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        pthread_mutex_lock(&S.lock);
        proc_t **pp = &procs, *p = NULL;
        for (; *pp; pp = &(*pp)->next)
            if ((*pp)->pid == pid) {
                p = *pp;
                *pp = p->next;
                break;
            }
        pthread_mutex_unlock(&S.lock);
        if (p == NULL)
            continue;
        char why[128];
        if (WIFEXITED(status))
            snprintf(why, sizeof why, "exited with status %d",
                     WEXITSTATUS(status));
        else if (WIFSIGNALED(status))
            snprintf(why, sizeof why, "killed by signal %d (%s)",
                     WTERMSIG(status), strsignal(WTERMSIG(status)));
        else
            snprintf(why, sizeof why, "ended");
        clean_field(why);
        pthread_mutex_lock(&S.lock);
        if (p->fd >= 0)
            proc_read(p);
        queue_msg_l("EXIT\t%s\t%s", p->member, why);
        pthread_mutex_unlock(&S.lock);
        proc_free(p);
    }
}

/* ------------------------------------------------------------------ */
/* Applying messages (main thread, in delivery order, lock held)       */
/* ------------------------------------------------------------------ */

static char *group_iogr(size_t g);
static bool pick_ports(const char *h, uint16_t *taken, size_t *n_taken,
                       uint16_t *orb_port, uint16_t *gcs_port);

/* The group's reference changed: a new version, sent to the local
 * replicas of the group, which redirect clients holding an older one
 * (lock held). */
static void bump_version(size_t g)
{
    S.groups[g].version++;
    char *iogr = NULL;
    for (proc_t *p = procs; p; p = p->next) {
        if (p->group != g || p->ctl_fd < 0)
            continue;
        if (iogr == NULL && (iogr = group_iogr(g)) == NULL)
            return;
        /* Best effort: a replica that does not read its control pipe gets
         * the next version instead. */
        size_t n = strlen(iogr);
        struct iovec iov[3] = {{(char *)"IOGR ", 5}, {iogr, n}, {(char *)"\n", 1}};
        ssize_t w = writev(p->ctl_fd, iov, 3);
        if (w >= 0 && (size_t)w != n + 6)
            say(PHX_LOG_WARN, "%s: control pipe full", p->member);
    }
    free(iogr);
}

static void apply(char **f, size_t n)
{
    const char *k = f[0];
    if (strcmp(k, "PLACE") == 0 && n >= 6) {
        int g = find_group(f[1]);
        if (g < 0 || find_member(f[2]) != NULL)
            return;
        member_t *m = calloc(1, sizeof *m);
        if (m == NULL)
            return;
        m->id = xstrdup(f[2]);
        m->group = (size_t)g;
        m->host = xstrdup(f[3]);
        m->state = M_PLACED;
        m->role = -1;
        m->restarts = (uint32_t)strtoul(f[5], NULL, 10);
        m->orb_port = n >= 8 ? (uint16_t)strtoul(f[6], NULL, 10) : 0;
        m->gcs_port = n >= 8 ? (uint16_t)strtoul(f[7], NULL, 10) : 0;
        if (S.n_members == S.cap_members) {
            size_t cap = S.cap_members ? 2 * S.cap_members : 16;
            member_t **a = realloc(S.members, cap * sizeof *a);
            if (a == NULL) {
                member_free(m);
                return;
            }
            S.members = a;
            S.cap_members = cap;
        }
        S.members[S.n_members++] = m;
        const phx_deploy_host_t *dh = phx_deploy_find_host(S.d, m->host);
        if (dh && m->gcs_port) {
            /* The next search starts after the ports just taken. */
            size_t hi = (size_t)(dh - S.d->hosts);
            uint16_t next = (uint16_t)(m->gcs_port + 1);
            S.port_cursor[hi] = next > dh->port_max || next < dh->port_min
                                    ? dh->port_min
                                    : next;
        }
        const char *slash = strrchr(m->id, '/');
        uint32_t no = slash ? (uint32_t)strtoul(slash + 1, NULL, 10) : 0;
        group_rt_t *gr = &S.groups[g];
        if (no + 1 > gr->next_no)
            gr->next_no = no + 1;
        if (S.leader && gr->inflight > 0)
            gr->inflight--;
        char ports[48] = "";
        if (m->orb_port)
            snprintf(ports, sizeof ports, " (ports %u, %u)", m->orb_port,
                     m->gcs_port);
        event_add("placed", f[1], m->id, "placed on %s%s%s", m->host, ports,
                  strcmp(f[4], "-") == 0 ? " (founds the group)" : "");
        if (strcmp(m->host, S.me->name) == 0 && !S.shutting_down) {
            char why[256];
            int fd = -1, ctl = -1;
            pid_t pid = spawn((size_t)g, m->id, f[4], m->orb_port,
                              m->gcs_port, &fd, &ctl, why, sizeof why);
            if (pid < 0) {
                clean_field(why);
                queue_msg_l("EXIT\t%s\tcannot start: %s", m->id, why);
                return;
            }
            proc_t *p = calloc(1, sizeof *p);
            if (p == NULL) {
                kill(pid, SIGKILL);
                close(fd);
                close(ctl);
                return;
            }
            p->member = xstrdup(m->id);
            p->group = (size_t)g;
            p->pid = pid;
            p->fd = fd;
            p->ctl_fd = ctl;
            p->next_probe =
                mono_ms() + S.d->groups[g].fault_monitoring_interval_ms;
            p->next = procs;
            procs = p;
            queue_msg_l("STARTED\t%s\t%d", m->id, (int)pid);
        }
    } else if (strcmp(k, "STARTED") == 0 && n >= 3) {
        member_t *m = find_member(f[1]);
        if (m == NULL)
            return;
        m->pid = atoi(f[2]);
        if (m->state == M_PLACED)
            m->state = M_STARTING;
        event_add("started", S.d->groups[m->group].name, m->id,
                  "started on %s, pid %d", m->host, m->pid);
    } else if (strcmp(k, "READY") == 0 && n >= 4) {
        member_t *m = find_member(f[1]);
        if (m == NULL || m->state == M_RUNNING)
            return;
        free(m->ior);
        free(m->gcs);
        m->ior = xstrdup(f[2]);
        m->gcs = xstrdup(f[3]);
        m->state = M_RUNNING;
        bump_version(m->group);
        event_add("ready", S.d->groups[m->group].name, m->id,
                  "running on %s (pid %d); %u of %u running", m->host,
                  m->pid, count_live(m->group, true),
                  S.groups[m->group].target);
    } else if (strcmp(k, "ROLE") == 0 && n >= 3) {
        member_t *m = find_member(f[1]);
        if (m == NULL)
            return;
        group_rt_t *gr = &S.groups[m->group];
        bool primary = strcmp(f[2], "primary") == 0;
        m->role = primary ? 1 : 0;
        if (primary && (gr->primary == NULL ||
                        strcmp(gr->primary, m->id) != 0)) {
            bool failover = gr->had_primary;
            free(gr->primary);
            gr->primary = xstrdup(m->id);
            gr->had_primary = true;
            bump_version(m->group);
            if (failover) {
                gr->failovers++;
                event_add("failover", S.d->groups[m->group].name, m->id,
                          "%s on %s is the new primary", m->id, m->host);
            } else {
                event_add("primary", S.d->groups[m->group].name, m->id,
                          "%s on %s is the primary", m->id, m->host);
            }
        }
    } else if (strcmp(k, "DIVERGED") == 0 && n >= 3) {
        member_t *m = find_member(f[1]);
        if (m == NULL)
            return;
        S.groups[m->group].divergences++;
        event_add("diverged", S.d->groups[m->group].name, m->id,
                  "%s differs from the leader: %s", m->id, f[2]);
    } else if (strcmp(k, "STATS") == 0 && n >= 3) {
        member_t *m = find_member(f[1]);
        if (m != NULL)
            m->requests = strtoull(f[2], NULL, 10);
    } else if (strcmp(k, "VIEW") == 0 && n >= 4) {
        member_t *m = find_member(f[1]);
        if (m == NULL)
            return;
        uint64_t id = strtoull(f[2], NULL, 10);
        group_rt_t *gr = &S.groups[m->group];
        if (id > gr->view_id) {
            gr->view_id = id;
            event_add("view", S.d->groups[m->group].name, "",
                      "replica view %llu: %s members", (unsigned long long)id,
                      f[3]);
        }
    } else if ((strcmp(k, "EXIT") == 0 || strcmp(k, "HUNG") == 0) &&
               n >= 3) {
        member_t *m = find_member(f[1]);
        if (m == NULL)
            return;
        const char *gname = S.d->groups[m->group].name;
        if (k[0] == 'H') {
            event_add("fault", gname, m->id, "%s does not answer: %s",
                      m->id, f[2]);
            return;
        }
        group_rt_t *gr = &S.groups[m->group];
        bool was_running = m->state == M_RUNNING;
        bool stopping = m->state == M_STOPPING || S.shutting_down;
        if (gr->primary && strcmp(gr->primary, m->id) == 0) {
            free(gr->primary);
            gr->primary = NULL;
        }
        if (was_running)
            bump_version(m->group);
        if (!stopping)
            gr->restarts++;
        event_add(stopping ? "exit" : "fault", gname, m->id, "%s on %s %s",
                  m->id, m->host, f[2]);
        remove_member(m);
    } else if (strcmp(k, "KILL") == 0 && n >= 2) {
        member_t *m = find_member(f[1]);
        if (m == NULL)
            return;
        event_add("killed", S.d->groups[m->group].name, m->id,
                  "operator kill of %s (pid %d on %s)", m->id, m->pid,
                  m->host);
        if (strcmp(m->host, S.me->name) == 0)
            for (proc_t *p = procs; p; p = p->next)
                if (strcmp(p->member, m->id) == 0) {
                    kill(p->pid, SIGKILL);
                    p->killed = true;
                }
    } else if (strcmp(k, "ADD") == 0 && n >= 3) {
        int g = find_group(f[1]);
        if (g < 0)
            return;
        S.groups[g].target++;
        event_add("added", f[1], "", "operator added a replica on %s; "
                  "target %u", f[2], S.groups[g].target);
        if (S.leader) {
            uint32_t no = S.groups[g].next_no + S.groups[g].inflight;
            S.groups[g].inflight++;
            char seeds[8192] = "";
            size_t off = 0;
            for (size_t i = 0; i < S.n_members; i++) {
                member_t *m = S.members[i];
                if ((int)m->group == g && m->state == M_RUNNING && m->gcs &&
                    strcmp(m->gcs, "-") != 0 &&
                    off + strlen(m->gcs) + 2 < sizeof seeds)
                    off += (size_t)sprintf(seeds + off, "%s%s",
                                           off ? "," : "", m->gcs);
            }
            uint16_t taken[2], op = 0, gp = 0;
            size_t nt = 0;
            if (!pick_ports(f[2], taken, &nt, &op, &gp)) {
                say(PHX_LOG_WARN, "host %s: no two free ports left in its "
                    "range", f[2]);
                S.groups[g].inflight--;
                return;
            }
            queue_msg_l("PLACE\t%s\t%s/%u\t%s\t%s\t0\t%u\t%u", f[1], f[1],
                        no, f[2], off ? seeds : "-", op, gp);
        }
    }
}

/* ------------------------------------------------------------------ */
/* Leader: placement                                                    */
/* ------------------------------------------------------------------ */

/* Two free ports of host h for a new replica (0, 0 when the host has no
 * port range: the system picks).  A port is free when no member placed
 * on the host holds it and it is not in taken[] (ports chosen in the same
 * round); the search starts at the host's cursor, which moves past every
 * placement, so a port some other process holds is not tried again at
 * once.  Lock held. */
static bool pick_ports(const char *h, uint16_t *taken, size_t *n_taken,
                       uint16_t *orb_port, uint16_t *gcs_port)
{
    *orb_port = *gcs_port = 0;
    const phx_deploy_host_t *dh = phx_deploy_find_host(S.d, h);
    if (dh == NULL || dh->port_min == 0)
        return true;
    size_t hi = (size_t)(dh - S.d->hosts);
    uint32_t span = (uint32_t)dh->port_max - dh->port_min + 1;
    uint16_t start = S.port_cursor[hi] >= dh->port_min &&
                             S.port_cursor[hi] <= dh->port_max
                         ? S.port_cursor[hi]
                         : dh->port_min;
    uint16_t got[2];
    int n = 0;
    for (uint32_t k = 0; k < span && n < 2; k++) {
        uint16_t p = (uint16_t)(dh->port_min +
                                (start - dh->port_min + k) % span);
        bool used = false;
        for (size_t i = 0; i < S.n_members && !used; i++)
            used = strcmp(S.members[i]->host, h) == 0 &&
                   (S.members[i]->orb_port == p ||
                    S.members[i]->gcs_port == p);
        for (size_t i = 0; i < *n_taken && !used; i++)
            used = taken[i] == p;
        if (!used)
            got[n++] = p;
    }
    if (n < 2)
        return false;
    *orb_port = got[0];
    *gcs_port = got[1];
    taken[(*n_taken)++] = got[0];
    taken[(*n_taken)++] = got[1];
    return true;
}

static bool daemon_alive(const char *host)
{
    for (size_t i = 0; i < S.n_daemons; i++)
        if (strcmp(S.daemons[i], host) == 0)
            return true;
    return false;
}

/* The host for a new replica of g: a live host the group may use (and
 * with a factory) with the fewest of its replicas; ties go to the
 * placement order, then the descriptor's host order. */
static const char *choose_host(size_t g, const char *const *extra,
                               size_t n_extra)
{
    const phx_deploy_group_t *grp = &S.d->groups[g];
    const char *best = NULL;
    uint32_t best_n = UINT32_MAX;
    size_t nh = grp->n_hosts ? grp->n_hosts : S.d->n_hosts;
    for (size_t i = 0; i < nh; i++) {
        const char *h = grp->n_hosts ? grp->hosts[i] : S.d->hosts[i].name;
        if (!daemon_alive(h) || phx_deploy_factory_for(grp, h) == NULL)
            continue;
        uint32_t n = 0;
        for (size_t k = 0; k < S.n_members; k++)
            if (S.members[k]->group == g &&
                strcmp(S.members[k]->host, h) == 0)
                n++;
        for (size_t k = 0; k < n_extra; k++)
            n += strcmp(extra[k], h) == 0;
        if (n < best_n) {
            best = h;
            best_n = n;
        }
    }
    return best;
}

/* Restore every group to its target (lock held, leader only). */
static void reconcile(void)
{
    if (!S.leader || S.shutting_down)
        return;
    bool deployed = false;
    for (size_t g = 0; g < S.d->n_groups; g++)
        deployed = deployed || S.groups[g].next_no > 0;
    if (!deployed && S.n_daemons < S.d->n_hosts &&
        mono_ms() < started_ms + STARTUP_GRACE_MS)
        return;
    for (size_t g = 0; g < S.d->n_groups; g++) {
        group_rt_t *gr = &S.groups[g];
        uint32_t live = count_live(g, false) + gr->inflight;
        uint32_t running = count_live(g, true);
        if (live >= gr->target)
            continue;
        /* A group without replicas gets one founder first; the others
         * join through running members. */
        if (live > 0 && running == 0)
            continue;
        uint32_t want = live == 0 ? 1 : gr->target - live;
        /* Styles with a GCS group join through a running member's GCS
         * endpoint: never found a second group next to a running one. */
        bool needs_seeds = S.d->groups[g].style == PHX_DEPLOY_ACTIVE ||
                           S.d->groups[g].style == PHX_DEPLOY_WARM_PASSIVE ||
                           S.d->groups[g].style == PHX_DEPLOY_SEMI_ACTIVE;
        char seeds[8192] = "";
        size_t off = 0;
        for (size_t i = 0; i < S.n_members; i++) {
            member_t *m = S.members[i];
            if (m->group == g && m->state == M_RUNNING && m->gcs &&
                strcmp(m->gcs, "-") != 0 &&
                off + strlen(m->gcs) + 2 < sizeof seeds)
                off += (size_t)sprintf(seeds + off, "%s%s", off ? "," : "",
                                       m->gcs);
        }
        const char *chosen[64];
        size_t n_chosen = 0;
        uint16_t taken[128];
        size_t n_taken = 0;
        if (live > 0 && needs_seeds && off == 0) {
            say(PHX_LOG_DEBUG, "group %s: no running replica reported its "
                "GCS endpoint; waiting", S.d->groups[g].name);
            continue;
        }
        for (uint32_t k = 0; k < want && n_chosen < 64; k++) {
            const char *h = choose_host(g, chosen, n_chosen);
            if (h == NULL) {
                say(PHX_LOG_WARN, "group %s: no live host can run a "
                    "replica", S.d->groups[g].name);
                break;
            }
            uint16_t op, gp;
            if (!pick_ports(h, taken, &n_taken, &op, &gp)) {
                say(PHX_LOG_WARN, "group %s: host %s has no two free ports "
                    "left in its range", S.d->groups[g].name, h);
                break;
            }
            chosen[n_chosen++] = h;
            uint32_t no = gr->next_no + gr->inflight;
            gr->inflight++;
            /* A slot refilled after a fault counts the restarts so far. */
            queue_msg_l("PLACE\t%s\t%s/%u\t%s\t%s\t%llu\t%u\t%u",
                        S.d->groups[g].name, S.d->groups[g].name, no, h,
                        off ? seeds : "-", (unsigned long long)gr->restarts,
                        op, gp);
        }
    }
}

/* ------------------------------------------------------------------ */
/* GCS callbacks (main thread)                                          */
/* ------------------------------------------------------------------ */

static void on_deliver(phx_gcs_t *gcs, const char *group,
                       const phx_gcs_member_t *sender, const void *msg,
                       size_t len, void *arg)
{
    (void)gcs;
    (void)group;
    (void)sender;
    (void)arg;
    char *line = strndup(msg, len);
    if (line == NULL)
        return;
    char *f[MAX_FIELDS];
    size_t n = 0;
    for (char *p = line; n < MAX_FIELDS;) {
        f[n++] = p;
        char *t = strchr(p, '\t');
        if (t == NULL)
            break;
        *t = '\0';
        p = t + 1;
    }
    pthread_mutex_lock(&S.lock);
    apply(f, n);
    reconcile();
    pthread_mutex_unlock(&S.lock);
    free(line);
}

static void on_view(phx_gcs_t *gcs, const char *group,
                    const phx_gcs_view_t *view, void *arg)
{
    (void)gcs;
    (void)group;
    (void)arg;
    phx_gcs_member_t self;
    bool have_self = phx_gcs_self(the_gcs, &self) == PHX_OK;
    pthread_mutex_lock(&S.lock);
    for (size_t i = 0; i < S.n_daemons; i++)
        free(S.daemons[i]);
    free(S.daemons);
    S.daemons = calloc(view->n_members ? view->n_members : 1,
                       sizeof *S.daemons);
    S.n_daemons = 0;
    for (size_t i = 0; S.daemons && i < view->n_members; i++)
        S.daemons[S.n_daemons++] = xstrdup(view->members[i].name);
    bool was_leader = S.leader;
    S.leader = have_self && view->primary && view->n_members > 0 &&
               view->members[0].id == self.id;
    if (S.leader && !was_leader)
        for (size_t g = 0; g < S.d->n_groups; g++)
            S.groups[g].inflight = 0;
    for (size_t i = 0; i < view->n_joined; i++)
        event_add("daemon", "", "", "daemon %s joined (%zu in the view)",
                  view->joined[i].name, view->n_members);
    /* A daemon that left took its replicas with it (they die with their
     * daemon): every daemon removes them at the same point of the order. */
    for (size_t i = 0; i < view->n_left; i++) {
        const char *h = view->left[i].name;
        event_add("daemon", "", "", "daemon %s left (%zu in the view)", h,
                  view->n_members);
        for (size_t k = S.n_members; k-- > 0;) {
            member_t *m = S.members[k];
            if (strcmp(m->host, h) != 0)
                continue;
            group_rt_t *gr = &S.groups[m->group];
            if (gr->primary && strcmp(gr->primary, m->id) == 0) {
                free(gr->primary);
                gr->primary = NULL;
            }
            if (m->state == M_RUNNING)
                bump_version(m->group);
            gr->restarts++;
            event_add("fault", S.d->groups[m->group].name, m->id,
                      "%s lost with the daemon of %s", m->id, h);
            remove_member(m);
        }
    }
    /* Every daemon records the change of leader at the same point. */
    if (view->primary && view->n_members > 0 &&
        (S.leader_name == NULL ||
         strcmp(S.leader_name, view->members[0].name) != 0)) {
        free(S.leader_name);
        S.leader_name = xstrdup(view->members[0].name);
        event_add("daemon", "", "", "%s leads the domain", S.leader_name);
    }
    reconcile();
    pthread_mutex_unlock(&S.lock);
}

/*
 * The state a joining daemon receives: text lines.
 *   E seq                        (the event counter)
 *   G index target next version view failovers restarts primary|- had
 *   M id group host state pid ior gcs role restarts
 */
static int on_get_state(phx_gcs_t *gcs, const char *group,
                        phx_gcs_state_writer_t *w, void *arg)
{
    (void)gcs;
    (void)group;
    (void)arg;
    pthread_mutex_lock(&S.lock);
    size_t cap = 256 + S.d->n_groups * 256 + S.d->n_hosts * 32, len = 0;
    for (size_t i = 0; i < S.n_members; i++)
        cap += 512 + strlen(S.members[i]->ior ? S.members[i]->ior : "") +
               strlen(S.members[i]->gcs ? S.members[i]->gcs : "");
    char *buf = malloc(cap);
    int rc = -1;
    if (buf) {
        len += (size_t)snprintf(buf + len, cap - len, "E\t%llu\n",
                                (unsigned long long)S.event_seq);
        for (size_t h = 0; h < S.d->n_hosts; h++)
            len += (size_t)snprintf(buf + len, cap - len, "H\t%zu\t%u\n", h,
                                    S.port_cursor[h]);
        for (size_t g = 0; g < S.d->n_groups; g++) {
            group_rt_t *gr = &S.groups[g];
            len += (size_t)snprintf(
                buf + len, cap - len, "G\t%zu\t%u\t%u\t%u\t%llu\t%llu\t%llu\t"
                "%s\t%d\t%llu\n", g, gr->target, gr->next_no, gr->version,
                (unsigned long long)gr->view_id,
                (unsigned long long)gr->failovers,
                (unsigned long long)gr->restarts,
                gr->primary ? gr->primary : "-", gr->had_primary,
                (unsigned long long)gr->divergences);
        }
        for (size_t i = 0; i < S.n_members; i++) {
            member_t *m = S.members[i];
            len += (size_t)snprintf(
                buf + len, cap - len,
                "M\t%s\t%zu\t%s\t%d\t%d\t%s\t%s\t%d\t%u\t%llu\t%u\t%u\n",
                m->id, m->group, m->host, m->state, m->pid,
                m->ior ? m->ior : "-", m->gcs ? m->gcs : "-", m->role,
                m->restarts, (unsigned long long)m->requests, m->orb_port,
                m->gcs_port);
        }
        rc = phx_gcs_state_write(w, buf, len) == PHX_OK ? 0 : -1;
        free(buf);
    }
    pthread_mutex_unlock(&S.lock);
    return rc;
}

static char *st_buf;
static size_t st_len;

static void install_state(char *text)
{
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        char *f[14];
        size_t n = 0;
        for (char *p = line; n < 14;) {
            f[n++] = p;
            char *t = strchr(p, '\t');
            if (t == NULL)
                break;
            *t = '\0';
            p = t + 1;
        }
        if (f[0][0] == 'E' && n >= 2) {
            S.event_seq = strtoull(f[1], NULL, 10);
        } else if (f[0][0] == 'H' && n >= 3) {
            size_t h = strtoul(f[1], NULL, 10);
            if (h < S.d->n_hosts)
                S.port_cursor[h] = (uint16_t)strtoul(f[2], NULL, 10);
        } else if (f[0][0] == 'G' && n >= 10) {
            size_t g = strtoul(f[1], NULL, 10);
            if (g >= S.d->n_groups)
                continue;
            group_rt_t *gr = &S.groups[g];
            gr->target = (uint32_t)strtoul(f[2], NULL, 10);
            gr->next_no = (uint32_t)strtoul(f[3], NULL, 10);
            gr->version = (uint32_t)strtoul(f[4], NULL, 10);
            gr->view_id = strtoull(f[5], NULL, 10);
            gr->failovers = strtoull(f[6], NULL, 10);
            gr->restarts = strtoull(f[7], NULL, 10);
            free(gr->primary);
            gr->primary = strcmp(f[8], "-") ? xstrdup(f[8]) : NULL;
            gr->had_primary = atoi(f[9]) != 0;
            gr->divergences = n > 10 ? strtoull(f[10], NULL, 10) : 0;
        } else if (f[0][0] == 'M' && n >= 10) {
            size_t g = strtoul(f[2], NULL, 10);
            if (g >= S.d->n_groups || find_member(f[1]))
                continue;
            member_t *m = calloc(1, sizeof *m);
            if (m == NULL)
                continue;
            m->id = xstrdup(f[1]);
            m->group = g;
            m->host = xstrdup(f[3]);
            m->state = atoi(f[4]);
            m->pid = atoi(f[5]);
            m->ior = strcmp(f[6], "-") ? xstrdup(f[6]) : NULL;
            m->gcs = xstrdup(f[7]);
            m->role = atoi(f[8]);
            m->restarts = (uint32_t)strtoul(f[9], NULL, 10);
            m->requests = n > 10 ? strtoull(f[10], NULL, 10) : 0;
            m->orb_port = n > 12 ? (uint16_t)strtoul(f[11], NULL, 10) : 0;
            m->gcs_port = n > 12 ? (uint16_t)strtoul(f[12], NULL, 10) : 0;
            if (S.n_members == S.cap_members) {
                size_t cap = S.cap_members ? 2 * S.cap_members : 16;
                member_t **a = realloc(S.members, cap * sizeof *a);
                if (a == NULL) {
                    member_free(m);
                    continue;
                }
                S.members = a;
                S.cap_members = cap;
            }
            S.members[S.n_members++] = m;
        }
    }
}

static void on_set_state(phx_gcs_t *gcs, const char *group,
                         const void *chunk, size_t len, unsigned flags,
                         void *arg)
{
    (void)gcs;
    (void)group;
    (void)arg;
    if (flags & PHX_GCS_STATE_FIRST) {
        free(st_buf);
        st_buf = NULL;
        st_len = 0;
    }
    char *b = realloc(st_buf, st_len + len + 1);
    if (b == NULL)
        return;
    st_buf = b;
    if (len)
        memcpy(st_buf + st_len, chunk, len);
    st_len += len;
    st_buf[st_len] = '\0';
    if (flags & PHX_GCS_STATE_LAST) {
        pthread_mutex_lock(&S.lock);
        install_state(st_buf);
        event_add("daemon", "", "", "%s received the domain's state "
                  "(%zu replicas)", S.me->name, S.n_members);
        pthread_mutex_unlock(&S.lock);
        free(st_buf);
        st_buf = NULL;
        st_len = 0;
    }
}

/* ------------------------------------------------------------------ */
/* Probes (probe thread)                                                */
/* ------------------------------------------------------------------ */

static volatile bool probes_stop;
static phx_orb_t *probe_orb;

static void *probe_main(void *arg)
{
    (void)arg;
    while (!probes_stop) {
        struct timespec ts = {0, 20 * 1000000L};
        nanosleep(&ts, NULL);
        /* Pick one due probe at a time (the list may change meanwhile). */
        char *member = NULL, *ior = NULL;
        uint32_t timeout = 0;
        pid_t pid = 0;
        pthread_mutex_lock(&S.lock);
        uint64_t now = mono_ms();
        for (proc_t *p = procs; p && !member; p = p->next) {
            if (p->killed || now < p->next_probe)
                continue;
            member_t *m = find_member(p->member);
            if (m == NULL || m->state != M_RUNNING || m->ior == NULL)
                continue;
            const phx_deploy_group_t *g = &S.d->groups[p->group];
            p->next_probe = now + g->fault_monitoring_interval_ms;
            member = xstrdup(p->member);
            ior = xstrdup(m->ior);
            timeout = g->fault_monitoring_timeout_ms;
            pid = p->pid;
        }
        pthread_mutex_unlock(&S.lock);
        if (member == NULL)
            continue;
        phx_object_t *obj = NULL;
        phx_error_t err;
        phx_env_t env = PHX_ENV_INIT;
        char why[400] = "";
        if (phx_object_from_string(probe_orb, ior, &obj, &err) != PHX_OK) {
            snprintf(why, sizeof why, "bad reference: %s", err.msg);
        } else {
            phx_request_t *req = NULL;
            if (phx_request_create(obj, "_non_existent", 0, &req) ==
                PHX_OK) {
                phx_request_set_timeout(req, timeout);
                if (phx_request_invoke(req, &env) != PHX_OK) {
                    char buf[200];
                    snprintf(why, sizeof why, "is_alive probe: %s",
                             phx_env_describe(&env, buf, sizeof buf));
                    phx_env_clear(&env);
                }
                phx_request_destroy(req);
            }
            phx_object_release(obj);
        }
        if (why[0]) {
            clean_field(why);
            /* The hung replica is killed; its exit follows as a fault. */
            queue_msg("HUNG\t%s\t%s", member, why);
            pthread_mutex_lock(&S.lock);
            for (proc_t *p = procs; p; p = p->next)
                if (p->pid == pid) {
                    kill(pid, SIGKILL);
                    p->killed = true;
                }
            pthread_mutex_unlock(&S.lock);
        }
        free(member);
        free(ior);
    }
    return NULL;
}

/* ------------------------------------------------------------------ */
/* The control interface (ORB threads)                                  */
/* ------------------------------------------------------------------ */

static const char *style_name(phx_deploy_style_t s)
{
    return phx_deploy_style_name(s);
}

/* The current IOGR of group g (lock held); NULL without running
 * members. */
static char *group_iogr(size_t g)
{
    size_t n = 0;
    for (size_t i = 0; i < S.n_members; i++)
        if (S.members[i]->group == g && S.members[i]->state == M_RUNNING &&
            S.members[i]->ior)
            n++;
    if (n == 0)
        return NULL;
    phx_ior_t *iors = calloc(n, sizeof *iors);
    if (iors == NULL)
        return NULL;
    size_t k = 0, primary = PHX_FT_NO_PRIMARY;
    bool ok = true;
    for (size_t i = 0; i < S.n_members && ok; i++) {
        member_t *m = S.members[i];
        if (m->group != g || m->state != M_RUNNING || m->ior == NULL)
            continue;
        if (phx_ior_from_string(m->ior, &iors[k], NULL) != PHX_OK) {
            ok = false;
            break;
        }
        if (S.groups[g].primary && strcmp(S.groups[g].primary, m->id) == 0)
            primary = k;
        k++;
    }
    char *out = NULL;
    if (ok) {
        phx_ft_iogr_spec_t spec = {
            .type_id = S.d->groups[g].type_id,
            .ft_domain_id = S.d->domain,
            .object_group_id = g + 1,
            .object_group_ref_version = S.groups[g].version,
            .members = iors,
            .member_count = k,
            .primary = primary,
        };
        phx_ior_t iogr;
        if (phx_ft_iogr_build(&spec, &iogr, NULL) == PHX_OK) {
            if (phx_ior_to_string(&iogr, &out) != PHX_OK)
                out = NULL;
            phx_ior_fini(&iogr);
        }
    }
    for (size_t i = 0; i < k; i++)
        phx_ior_fini(&iors[i]);
    free(iors);
    return out;
}

static void fill_group(size_t g, Phalanx_GroupInfo *gi)
{
    const phx_deploy_group_t *dg = &S.d->groups[g];
    group_rt_t *gr = &S.groups[g];
    memset(gi, 0, sizeof *gi);
    gi->name = xstrdup(dg->name);
    gi->type_id = xstrdup(dg->type_id);
    gi->style = xstrdup(style_name(dg->style));
    gi->target = gr->target;
    gi->minimum = dg->minimum_replicas;
    gi->running = count_live(g, true);
    gi->primary = xstrdup(gr->primary ? gr->primary : "");
    gi->view_id = gr->view_id;
    gi->version = gr->version;
    gi->failovers = gr->failovers;
    gi->restarts = gr->restarts;
    gi->divergences = gr->divergences;
    size_t n = 0;
    for (size_t i = 0; i < S.n_members; i++)
        n += S.members[i]->group == g;
    gi->members._buffer = calloc(n ? n : 1, sizeof *gi->members._buffer);
    gi->members._release = true;
    for (size_t i = 0; gi->members._buffer && i < S.n_members; i++) {
        member_t *m = S.members[i];
        if (m->group != g)
            continue;
        Phalanx_MemberInfo *mi = &gi->members._buffer[gi->members._length++];
        mi->id = xstrdup(m->id);
        mi->host = xstrdup(m->host);
        mi->pid = m->pid;
        mi->state = xstrdup(state_names[m->state]);
        mi->role = xstrdup(m->role == 1 ? "primary"
                           : m->role == 0 ? "backup" : "");
        mi->ior = xstrdup(m->ior ? m->ior : "");
        mi->restarts = m->restarts;
        mi->requests = m->requests;
        if (m->state == M_RUNNING && m->requests > gi->requests)
            gi->requests = m->requests;
    }
    gi->members._maximum = gi->members._length;
}

static int d_domain(void *self, char **ret, phx_env_t *env)
{
    (void)self;
    (void)env;
    *ret = xstrdup(S.d->domain);
    return PHX_OK;
}

static int d_host(void *self, char **ret, phx_env_t *env)
{
    (void)self;
    (void)env;
    *ret = xstrdup(S.me->name);
    return PHX_OK;
}

static int d_daemons(void *self, Phalanx_NameSeq *ret, phx_env_t *env)
{
    (void)self;
    (void)env;
    pthread_mutex_lock(&S.lock);
    memset(ret, 0, sizeof *ret);
    ret->_buffer = calloc(S.n_daemons ? S.n_daemons : 1, sizeof(char *));
    ret->_release = true;
    for (size_t i = 0; ret->_buffer && i < S.n_daemons; i++)
        ret->_buffer[ret->_length++] = xstrdup(S.daemons[i]);
    ret->_maximum = ret->_length;
    pthread_mutex_unlock(&S.lock);
    return PHX_OK;
}

static int d_groups(void *self, Phalanx_GroupSeq *ret, phx_env_t *env)
{
    (void)self;
    (void)env;
    pthread_mutex_lock(&S.lock);
    memset(ret, 0, sizeof *ret);
    ret->_buffer = calloc(S.d->n_groups ? S.d->n_groups : 1,
                          sizeof *ret->_buffer);
    ret->_release = true;
    for (size_t g = 0; ret->_buffer && g < S.d->n_groups; g++)
        fill_group(g, &ret->_buffer[ret->_length++]);
    ret->_maximum = ret->_length;
    pthread_mutex_unlock(&S.lock);
    return PHX_OK;
}

static int no_group(phx_env_t *env, const char *name)
{
    Phalanx_NoSuchGroup ex = {(char *)name};
    return Phalanx_NoSuchGroup__raise(env, &ex);
}

static int d_group(void *self, const char *name, Phalanx_GroupInfo *ret,
                   phx_env_t *env)
{
    (void)self;
    pthread_mutex_lock(&S.lock);
    int g = find_group(name);
    if (g >= 0)
        fill_group((size_t)g, ret);
    pthread_mutex_unlock(&S.lock);
    return g >= 0 ? PHX_OK : no_group(env, name);
}

static int d_ior(void *self, const char *name, char **ret, phx_env_t *env)
{
    (void)self;
    pthread_mutex_lock(&S.lock);
    int g = find_group(name);
    char *s = g >= 0 ? group_iogr((size_t)g) : NULL;
    pthread_mutex_unlock(&S.lock);
    if (g < 0)
        return no_group(env, name);
    if (s == NULL) {
        Phalanx_Refused ex = {(char *)"the group has no running replica"};
        return Phalanx_Refused__raise(env, &ex);
    }
    *ret = s;
    return PHX_OK;
}

static int d_kill_replica(void *self, const char *group, const char *member,
                          phx_env_t *env)
{
    (void)self;
    pthread_mutex_lock(&S.lock);
    int g = find_group(group);
    member_t *m = g >= 0 ? find_member(member) : NULL;
    bool ok = m && (int)m->group == g;
    bool started = ok && m->pid > 0;
    pthread_mutex_unlock(&S.lock);
    if (g < 0)
        return no_group(env, group);
    if (!ok) {
        Phalanx_NoSuchMember ex = {(char *)member};
        return Phalanx_NoSuchMember__raise(env, &ex);
    }
    if (!started) {
        Phalanx_Refused ex = {(char *)"the replica has not started yet"};
        return Phalanx_Refused__raise(env, &ex);
    }
    queue_msg("KILL\t%s", member);
    return PHX_OK;
}

static int d_add_replica(void *self, const char *group, const char *host,
                         char **ret, phx_env_t *env)
{
    (void)self;
    pthread_mutex_lock(&S.lock);
    int g = find_group(group);
    const phx_deploy_host_t *h = phx_deploy_find_host(S.d, host);
    bool alive = h && daemon_alive(host);
    bool can = g >= 0 && h && phx_deploy_factory_for(&S.d->groups[g], host);
    uint32_t no = g >= 0 ? S.groups[g].next_no : 0;
    pthread_mutex_unlock(&S.lock);
    if (g < 0)
        return no_group(env, group);
    if (h == NULL) {
        Phalanx_NoSuchHost ex = {(char *)host};
        return Phalanx_NoSuchHost__raise(env, &ex);
    }
    if (!alive || !can) {
        Phalanx_Refused ex = {
            (char *)(!alive ? "the host's daemon is not in the domain"
                            : "the group has no factory for that host")};
        return Phalanx_Refused__raise(env, &ex);
    }
    queue_msg("ADD\t%s\t%s", group, host);
    char id[256];
    snprintf(id, sizeof id, "%s/%u", group, no);
    *ret = xstrdup(id);
    return PHX_OK;
}

static int d_events(void *self, uint64_t since, uint32_t wait_ms,
                    Phalanx_EventSeq *ret, phx_env_t *env)
{
    (void)self;
    (void)env;
    if (wait_ms > 60000)
        wait_ms = 60000;
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += wait_ms / 1000;
    dl.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
    if (dl.tv_nsec >= 1000000000L) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&S.lock);
    while (S.event_seq <= since && !S.shutting_down &&
           pthread_cond_timedwait(&S.event_cond, &S.lock, &dl) == 0)
        ;
    uint64_t first = since + 1;
    if (S.event_seq >= MAX_EVENTS && first <= S.event_seq - MAX_EVENTS)
        first = S.event_seq - MAX_EVENTS + 1;
    uint64_t n = S.event_seq >= first ? S.event_seq - first + 1 : 0;
    if (n > 1000)
        n = 1000;
    memset(ret, 0, sizeof *ret);
    ret->_buffer = calloc(n ? n : 1, sizeof *ret->_buffer);
    ret->_release = true;
    for (uint64_t s = first; ret->_buffer && s < first + n; s++) {
        event_t *e = &S.events[(s - 1) % MAX_EVENTS];
        if (e->seq != s)
            continue; /* from before this daemon joined */
        Phalanx_Event *o = &ret->_buffer[ret->_length++];
        o->seq = e->seq;
        o->time_ms = e->time_ms;
        o->kind = xstrdup(e->kind);
        o->group = xstrdup(e->group);
        o->member = xstrdup(e->member);
        o->text = xstrdup(e->text);
    }
    ret->_maximum = ret->_length;
    pthread_mutex_unlock(&S.lock);
    return PHX_OK;
}

static const Phalanx_Daemon__epv daemon_epv = {
    .domain = d_domain,
    .host = d_host,
    .daemons = d_daemons,
    .groups = d_groups,
    .group = d_group,
    .ior = d_ior,
    .kill_replica = d_kill_replica,
    .add_replica = d_add_replica,
    .events = d_events,
};

static void *orb_main(void *arg)
{
    phx_orb_run(arg);
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Start-up                                                             */
/* ------------------------------------------------------------------ */

static void report_problem(void *arg, const char *msg)
{
    (void)arg;
    fprintf(stderr, "%s\n", msg);
}

static int usage(FILE *out, int code)
{
    fprintf(out,
            "usage: phxd --descriptor FILE --host NAME [--found] "
            "[--log-level LEVEL]\n"
            "       phxd --check FILE\n"
            "\n"
            "Start, watch and restore the replicas the deployment "
            "descriptor FILE\n"
            "places on host NAME, together with the daemons of the other "
            "hosts.\n"
            "\n"
            "  --descriptor FILE  the deployment descriptor "
            "(phalanx-deploy(5))\n"
            "  --host NAME        this daemon's <host> in FILE\n"
            "  --found            found the domain even when this is not "
            "its first\n"
            "                     host (no other daemon is running)\n"
            "  --log-level LEVEL  error, warn, info or debug (default: the "
            "descriptor's)\n"
            "  --check FILE       validate FILE, print every problem, exit\n"
            "  --help             this text\n"
            "\n"
            "Exit status: 0 after SIGTERM/SIGINT or a valid --check, 1 on "
            "a failure\n"
            "to start, 2 on bad usage or an invalid descriptor.\n");
    return code;
}

static bool parse_level(const char *s, phx_log_level_t *l)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    for (int i = 0; i < 4; i++)
        if (strcmp(s, names[i]) == 0) {
            *l = (phx_log_level_t)i;
            return true;
        }
    return false;
}

/* Is the daemon of host h answering on its control endpoint? */
static bool daemon_answers(phx_orb_t *orb, const phx_deploy_host_t *h)
{
    char loc[512];
    const char *ep = h->endpoint;
    if (strncmp(ep, "tcp://", 6) == 0)
        snprintf(loc, sizeof loc, "corbaloc:phx:tcp:%s/phxd", ep + 6);
    else
        return false;
    phx_object_t *obj = NULL;
    if (phx_object_from_string(orb, loc, &obj, NULL) != PHX_OK)
        return false;
    phx_request_t *req = NULL;
    bool ok = false;
    phx_env_t env = PHX_ENV_INIT;
    if (phx_request_create(obj, "_non_existent", 0, &req) == PHX_OK) {
        phx_request_set_timeout(req, 300);
        ok = phx_request_invoke(req, &env) == PHX_OK;
        phx_env_clear(&env);
        phx_request_destroy(req);
    }
    phx_object_release(obj);
    return ok;
}

int main(int argc, char **argv)
{
    const char *path = NULL, *host = NULL, *check = NULL, *level = NULL;
    bool found = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
            return usage(stdout, 0);
        if (strcmp(a, "--found") == 0) {
            found = true;
            continue;
        }
        const char **dst = strcmp(a, "--descriptor") == 0 ? &path
                           : strcmp(a, "--host") == 0     ? &host
                           : strcmp(a, "--check") == 0    ? &check
                           : strcmp(a, "--log-level") == 0 ? &level
                                                          : NULL;
        if (dst == NULL) {
            fprintf(stderr, "phxd: unknown option '%s'\n", a);
            return usage(stderr, 2);
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "phxd: option '%s' needs a value\n", a);
            return usage(stderr, 2);
        }
        *dst = argv[++i];
    }
    phx_error_t err;
    if (check) {
        phx_deploy_t *d = NULL;
        int rc = phx_deploy_check(check, report_problem, NULL, &d, &err);
        phx_deploy_free(d);
        if (rc == PHX_OK)
            printf("%s: valid\n", check);
        return rc == PHX_OK ? 0 : 2;
    }
    if (path == NULL || host == NULL) {
        fprintf(stderr, "phxd: --descriptor and --host are required\n");
        return usage(stderr, 2);
    }
    if (phx_deploy_check(path, report_problem, NULL, &S.d, &err) != PHX_OK)
        return 2;
    S.me = phx_deploy_find_host(S.d, host);
    if (S.me == NULL) {
        fprintf(stderr, "phxd: %s has no <host name=\"%s\">; its hosts:",
                path, host);
        for (size_t i = 0; i < S.d->n_hosts; i++)
            fprintf(stderr, " %s", S.d->hosts[i].name);
        fprintf(stderr, "\n");
        phx_deploy_free(S.d);
        return 2;
    }
    if (!parse_level(level ? level : S.d->log_level, &log_level)) {
        fprintf(stderr, "phxd: --log-level wants error, warn, info or "
                        "debug\n");
        phx_deploy_free(S.d);
        return 2;
    }
    if (S.d->log_target == PHX_DEPLOY_LOG_SYSLOG) {
        use_syslog = true;
        openlog(S.d->log_ident, LOG_PID, LOG_DAEMON);
    }
    phx_log_set_level(log_level > PHX_LOG_WARN ? PHX_LOG_WARN : log_level);
    phx_log_set_sink(log_sink, NULL);

    /* Signals go to the main loop through a signalfd; every thread
     * started from here on has them blocked. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGCHLD);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
    int sig_fd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC);
    wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    S.events = calloc(MAX_EVENTS, sizeof *S.events);
    S.groups = calloc(S.d->n_groups ? S.d->n_groups : 1, sizeof *S.groups);
    S.port_cursor = calloc(S.d->n_hosts, sizeof *S.port_cursor);
    if (sig_fd < 0 || wake_fd < 0 || S.events == NULL || S.groups == NULL ||
        S.port_cursor == NULL) {
        say(PHX_LOG_ERROR, "out of resources");
        return 1;
    }
    for (size_t g = 0; g < S.d->n_groups; g++) {
        S.groups[g].target = S.d->groups[g].initial_replicas;
        S.groups[g].version = 1;
    }

    /* A client ORB for probes and for finding the other daemons. */
    phx_orb_config_t pc;
    phx_orb_config_init(&pc);
    pc.connect_timeout_ms = 500;
    if (phx_orb_create(&pc, &probe_orb, &err) != PHX_OK) {
        say(PHX_LOG_ERROR, "%s", err.msg);
        return 1;
    }

    /* Join through the daemons that answer; found the domain when none
     * does and this is its first host (or --found). */
    bool first = S.me == &S.d->hosts[0] || found;
    const char **seeds = calloc(S.d->n_hosts, sizeof *seeds);
    size_t n_seeds = 0;
    for (int round = 0;; round++) {
        n_seeds = 0;
        bool any = false;
        for (size_t i = 0; i < S.d->n_hosts; i++) {
            if (&S.d->hosts[i] == S.me)
                continue;
            seeds[n_seeds++] = S.d->hosts[i].gcs_endpoint;
            any = any || daemon_answers(probe_orb, &S.d->hosts[i]);
        }
        if (any) {
            break;
        }
        if (first) {
            n_seeds = 0;
            break;
        }
        if (round == 0)
            say(PHX_LOG_INFO, "waiting for a daemon of domain %s to "
                "answer (the first host, %s, founds it)", S.d->domain,
                S.d->hosts[0].name);
        struct signalfd_siginfo si;
        if (read(sig_fd, &si, sizeof si) == (ssize_t)sizeof si &&
            (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT))
            return 0;
        struct timespec ts = {0, 200 * 1000000L};
        nanosleep(&ts, NULL);
    }

    if (asprintf(&S.gcs_group, "phxd/%s", S.d->domain) < 0)
        return 1;
    phx_gcs_config_t gc;
    phx_gcs_config_init(&gc);
    gc.backend = S.d->gcs_backend;
    gc.name = S.me->name;
    gc.endpoint = S.me->gcs_endpoint;
    gc.seeds = n_seeds ? seeds : NULL;
    gc.n_seeds = n_seeds;
    gc.heartbeat_ms = S.d->gcs_heartbeat_ms;
    gc.timeout_ms = S.d->gcs_timeout_ms;
    gc.mode = PHX_GCS_UNIFORM;
    phx_gcs_callbacks_t cb = {on_deliver, on_view, on_get_state,
                              on_set_state};
    if (phx_gcs_create(&gc, &cb, NULL, &the_gcs, &err) != PHX_OK ||
        phx_gcs_join(the_gcs, S.gcs_group, &err) != PHX_OK) {
        say(PHX_LOG_ERROR, "group communication: %s", err.msg);
        return 1;
    }
    free(seeds);

    /* The control interface. */
    const char *ep = S.me->endpoint;
    phx_orb_config_t oc;
    phx_orb_config_init(&oc);
    oc.listen = &ep;
    oc.listen_count = 1;
    oc.workers = 4; /* events() waits; the others must still answer */
    phx_orb_t *orb;
    if (phx_orb_create(&oc, &orb, &err) != PHX_OK) {
        say(PHX_LOG_ERROR, "control endpoint %s: %s", ep, err.msg);
        phx_gcs_destroy(the_gcs);
        return 1;
    }
    Phalanx_Daemon__servant servant;
    Phalanx_Daemon__servant_init(&servant, &daemon_epv, NULL);
    phx_object_t *self_ref = NULL;
    if (phx_orb_activate(orb, &servant.base, "phxd", 4, &self_ref, &err) !=
        PHX_OK) {
        say(PHX_LOG_ERROR, "%s", err.msg);
        return 1;
    }
    phx_object_release(self_ref);
    pthread_t orb_thread, probe_thread;
    pthread_create(&orb_thread, NULL, orb_main, orb);
    pthread_create(&probe_thread, NULL, probe_main, NULL);
    say(PHX_LOG_INFO, "domain %s, control %s, gcs %s%s", S.d->domain,
        S.me->endpoint, phx_gcs_endpoint(the_gcs),
        n_seeds ? "" : " (founding the domain)");

    started_ms = mono_ms();
    /* The main loop. */
    bool stop = false;
    uint64_t stop_deadline = 0;
    while (true) {
        struct pollfd pf[64];
        size_t np = 0;
        pf[np++] = (struct pollfd){phx_gcs_fd(the_gcs), POLLIN, 0};
        pf[np++] = (struct pollfd){sig_fd, POLLIN, 0};
        pf[np++] = (struct pollfd){wake_fd, POLLIN, 0};
        pthread_mutex_lock(&S.lock);
        for (proc_t *p = procs; p && np < 64; p = p->next)
            if (p->fd >= 0)
                pf[np++] = (struct pollfd){p->fd, POLLIN, 0};
        pthread_mutex_unlock(&S.lock);
        poll(pf, np, 50);
        struct signalfd_siginfo si;
        while (read(sig_fd, &si, sizeof si) == (ssize_t)sizeof si) {
            if (si.ssi_signo == SIGCHLD)
                continue;
            if (si.ssi_signo == SIGHUP)
                continue;
            if (!stop)
                say(PHX_LOG_INFO, "%s: stopping",
                    strsignal((int)si.ssi_signo));
            stop = true;
        }
        uint64_t v;
        while (read(wake_fd, &v, sizeof v) == (ssize_t)sizeof v)
            ;
        /* Report lines of the local replicas. */
        pthread_mutex_lock(&S.lock);
        for (proc_t *p = procs; p; p = p->next)
            if (p->fd >= 0)
                proc_read(p);
        pthread_mutex_unlock(&S.lock);
        reap();
        phx_gcs_dispatch(the_gcs, 0, NULL);
        /* Send what is queued; refused for flow control, kept. */
        pthread_mutex_lock(&S.lock);
        size_t sent = 0;
        while (sent < S.n_out) {
            int rc = phx_gcs_multicast(the_gcs, S.gcs_group, S.outq[sent],
                                       strlen(S.outq[sent]), NULL);
            if (rc == PHX_EAGAIN)
                break;
            if (rc != PHX_OK)
                say(S.shutting_down ? PHX_LOG_DEBUG : PHX_LOG_WARN,
                    "multicast refused (%s): %s", phx_strerror(rc),
                    S.outq[sent]);
            free(S.outq[sent]);
            sent++;
        }
        if (sent > 0) {
            memmove(S.outq, S.outq + sent,
                    (S.n_out - sent) * sizeof *S.outq);
            S.n_out -= sent;
        }
        reconcile();
        pthread_mutex_unlock(&S.lock);

        if (stop && !S.shutting_down) {
            /* Leave the domain first (so no decision is made about our
             * replicas' exits), then stop them. */
            pthread_mutex_lock(&S.lock);
            S.shutting_down = true;
            pthread_cond_broadcast(&S.event_cond);
            for (proc_t *p = procs; p; p = p->next) {
                const phx_deploy_group_t *g = &S.d->groups[p->group];
                if (g->on_stop == PHX_DEPLOY_STOP_REPLICAS)
                    kill(p->pid, SIGTERM);
            }
            pthread_mutex_unlock(&S.lock);
            phx_gcs_leave(the_gcs, S.gcs_group, NULL);
            stop_deadline = mono_ms() + 3000;
        }
        if (S.shutting_down) {
            pthread_mutex_lock(&S.lock);
            bool left = false;
            for (proc_t *p = procs; p; p = p->next)
                if (S.d->groups[p->group].on_stop ==
                    PHX_DEPLOY_STOP_REPLICAS) {
                    left = true;
                    if (mono_ms() > stop_deadline)
                        kill(p->pid, SIGKILL);
                }
            pthread_mutex_unlock(&S.lock);
            if (!left)
                break;
        }
    }

    probes_stop = true;
    pthread_join(probe_thread, NULL);
    phx_orb_shutdown(orb);
    pthread_join(orb_thread, NULL);
    phx_orb_destroy(orb);
    phx_orb_destroy(probe_orb);
    phx_gcs_destroy(the_gcs);
    pthread_mutex_lock(&S.lock);
    while (procs) {
        proc_t *p = procs;
        procs = p->next;
        proc_free(p);
    }
    for (size_t i = 0; i < S.n_members; i++)
        member_free(S.members[i]);
    free(S.members);
    for (size_t g = 0; g < S.d->n_groups; g++)
        free(S.groups[g].primary);
    free(S.groups);
    free(S.port_cursor);
    for (size_t i = 0; i < MAX_EVENTS; i++) {
        free(S.events[i].kind);
        free(S.events[i].group);
        free(S.events[i].member);
        free(S.events[i].text);
    }
    free(S.events);
    for (size_t i = 0; i < S.n_daemons; i++)
        free(S.daemons[i]);
    free(S.daemons);
    free(S.leader_name);
    for (size_t i = 0; i < S.n_out; i++)
        free(S.outq[i]);
    free(S.outq);
    pthread_mutex_unlock(&S.lock);
    free(S.gcs_group);
    say(PHX_LOG_INFO, "stopped");
    phx_deploy_free(S.d);
    close(sig_fd);
    close(wake_fd);
    return 0;
}
