/*
 * lease_client.c - clients of the replicated lease service.
 *
 *   lease-client run [--clients T] [--resources N] [--ttl MS] [--wait MS]
 *                    [--abandon K] [--audit-ms MS] [--tick-ms MS]
 *                    [--seconds S] [--cycles N] [--stall-ms MS] REF...
 *   lease-client summary REF
 *   lease-client list REF
 *
 * REF is a reference ("IOR:...", "corbaloc:...") or a file holding one.
 * Several REFs (the members' references) are made into one object group
 * reference (IOGR); one REF is used as it is.
 *
 * run starts T threads (owners "c<pid>-<t>"), each repeating a cycle on a
 * random resource res-0 .. res-(N-1) until it has made N cycles, S
 * seconds have passed, or SIGTERM/SIGINT:
 *   acquire(resource, owner, ttl, wait)  (Busy: counted, next cycle;
 *                                         5 ms later when not waiting)
 *   audit(resource, MS)                  (with --audit-ms MS > 0)
 *   renew(id, ttl)                       (every second cycle)
 *   release(id)                          (except every K-th cycle, whose
 *                                         lease is abandoned to expire)
 * A renew or release of a lease that expired meanwhile (NoSuchLease) is
 * counted as lost.  With --tick-ms MS (default 50; 0: none) one more
 * thread calls tick() through the group every MS, so that leases expire
 * even when nobody else calls.  A call longer than --stall-ms (default
 * 200) is reported as "STALL <ms> ms at <s> s"; every second
 * "PROGRESS <calls> max_ms=<longest call of that second>".  The last line:
 *
 *   DONE calls=C acquired=A busy=B renewed=R released=L lost=X
 *        abandoned=D audits=U ticks=K tick_expired=E errors=F
 *
 * F counts calls that failed with a system exception; exit status 0
 * when F is 0.  acquired, renewed, released and audits are the calls
 * that succeeded, so once the run is over every replica's summary must
 * show the same counters (each acknowledged request applied exactly once).
 * summary asks one member directly (not through the group):
 *   "count=N expired_total=E group_time_ms=G acquired=A renewed=R
 *    released=L audits=U digest=D pid=P"
 * list prints the leases one a line (through whatever REF names).
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <phx/ft.h>
#include <phx/phx.h>

#include "samples/lease/gen/lease.h"

static volatile sig_atomic_t stop_flag;
static atomic_ullong n_calls, n_acquired, n_busy, n_renewed, n_released,
    n_lost, n_abandoned, n_audits, n_ticks, n_tick_expired, n_errors;
static atomic_ullong max_us; /* longest call since the last PROGRESS */
static uint32_t n_resources = 8, ttl_ms = 200, wait_ms, audit_ms;
static uint32_t abandon_every = 4, tick_ms = 50;
static long max_cycles = -1;
static double max_seconds = -1, stall_ms = 200;
static struct timespec t0;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0.tv_sec) +
           (double)(t.tv_nsec - t0.tv_nsec) / 1e9;
}

static int usage(void)
{
    fprintf(stderr,
            "usage: lease-client run [--clients T] [--resources N] "
            "[--ttl MS] [--wait MS]\n"
            "                        [--abandon K] [--audit-ms MS] "
            "[--tick-ms MS] [--seconds S]\n"
            "                        [--cycles N] [--stall-ms MS] REF...\n"
            "       lease-client summary REF\n"
            "       lease-client list REF\n"
            "REF: a reference (IOR:..., corbaloc:...) or a file holding "
            "one\n");
    return 2;
}

static char *load_ref(const char *s)
{
    if (strncmp(s, "IOR:", 4) == 0 || strncmp(s, "corbaloc:", 9) == 0)
        return strdup(s);
    FILE *f = fopen(s, "r");
    if (f == NULL)
        return NULL;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = getline(&line, &cap, f);
    fclose(f);
    if (n <= 0) {
        free(line);
        return NULL;
    }
    line[strcspn(line, "\r\n")] = '\0';
    return line;
}

/* Time one call; count it. */
static void timed(double t)
{
    double ms = (now_s() - t) * 1000.0;
    unsigned long long us = (unsigned long long)(ms * 1000.0);
    unsigned long long cur = atomic_load(&max_us);
    while (us > cur && !atomic_compare_exchange_weak(&max_us, &cur, us))
        ;
    atomic_fetch_add(&n_calls, 1);
    if (ms >= stall_ms) {
        printf("STALL %.1f ms at %.3f s\n", ms, t);
        fflush(stdout);
    }
}

static bool is_user(phx_env_t *env, const char *id)
{
    return env->repo_id && strcmp(env->repo_id, id) == 0;
}

/* A system exception (or an unexpected user one): report and count. */
static void failed(const char *what, phx_env_t *env)
{
    char buf[512];
    fprintf(stderr, "lease-client: %s: %s\n", what,
            phx_env_describe(env, buf, sizeof buf));
    phx_env_clear(env);
    atomic_fetch_add(&n_errors, 1);
}

typedef struct worker {
    Leasing_Leases obj;
    unsigned seed;
    char owner[48];
} worker_t;

static bool more(long k)
{
    return !stop_flag && (max_cycles < 0 || k < max_cycles) &&
           (max_seconds < 0 || now_s() < max_seconds);
}

static void *run_worker(void *arg)
{
    worker_t *w = arg;
    phx_env_t env = PHX_ENV_INIT;
    for (long k = 0; more(k); k++) {
        char res[32];
        snprintf(res, sizeof res, "res-%u",
                 (uint32_t)rand_r(&w->seed) % n_resources);
        uint64_t id = 0;
        double t = now_s();
        int rc = Leasing_Leases_acquire(w->obj, res, w->owner, ttl_ms,
                                        wait_ms, &id, &env);
        timed(t);
        if (rc != PHX_OK) {
            if (rc == PHX_EUSEREX && is_user(&env, ex_Leasing_Busy)) {
                atomic_fetch_add(&n_busy, 1);
                phx_env_clear(&env);
                if (wait_ms == 0) { /* back off a little */
                    struct timespec d = {0, 5 * 1000000L};
                    nanosleep(&d, NULL);
                }
            } else {
                failed("acquire", &env);
            }
            continue;
        }
        atomic_fetch_add(&n_acquired, 1);
        if (audit_ms > 0) {
            uint64_t seen = 0;
            t = now_s();
            rc = Leasing_Leases_audit(w->obj, res, audit_ms, &seen, &env);
            timed(t);
            if (rc == PHX_OK)
                atomic_fetch_add(&n_audits, 1);
            else
                failed("audit", &env);
        }
        if (k % 2 == 1) {
            uint64_t exp = 0;
            t = now_s();
            rc = Leasing_Leases_renew(w->obj, id, ttl_ms, &exp, &env);
            timed(t);
            if (rc == PHX_OK) {
                atomic_fetch_add(&n_renewed, 1);
            } else if (rc == PHX_EUSEREX &&
                       is_user(&env, ex_Leasing_NoSuchLease)) {
                atomic_fetch_add(&n_lost, 1);
                phx_env_clear(&env);
                continue;
            } else {
                failed("renew", &env);
            }
        }
        if (abandon_every > 0 && k % abandon_every == abandon_every - 1) {
            atomic_fetch_add(&n_abandoned, 1); /* left to expire */
            continue;
        }
        t = now_s();
        rc = Leasing_Leases_release(w->obj, id, &env);
        timed(t);
        if (rc == PHX_OK) {
            atomic_fetch_add(&n_released, 1);
        } else if (rc == PHX_EUSEREX &&
                   is_user(&env, ex_Leasing_NoSuchLease)) {
            atomic_fetch_add(&n_lost, 1);
            phx_env_clear(&env);
        } else {
            failed("release", &env);
        }
    }
    return NULL;
}

static volatile sig_atomic_t workers_done;

/* tick() through the group every tick_ms while the workers run. */
static void *run_ticker(void *arg)
{
    Leasing_Leases obj = arg;
    phx_env_t env = PHX_ENV_INIT;
    while (!workers_done) {
        struct timespec d = {(time_t)(tick_ms / 1000),
                             (long)(tick_ms % 1000) * 1000000L};
        nanosleep(&d, NULL);
        if (workers_done)
            break;
        uint32_t n = 0;
        double t = now_s();
        int rc = Leasing_Leases_tick(obj, &n, &env);
        timed(t);
        if (rc == PHX_OK) {
            atomic_fetch_add(&n_ticks, 1);
            atomic_fetch_add(&n_tick_expired, n);
        } else {
            failed("tick", &env);
        }
    }
    return NULL;
}

static int cmd_run(Leasing_Leases obj, long clients)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    worker_t *w = calloc((size_t)clients, sizeof *w);
    pthread_t *th = calloc((size_t)clients, sizeof *th);
    long started = 0;
    for (; w && th && started < clients; started++) {
        w[started].obj = obj;
        w[started].seed = (unsigned)(started * 7919 + 17 + getpid());
        snprintf(w[started].owner, sizeof w[started].owner, "c%d-%ld",
                 (int)getpid(), started);
        if (pthread_create(&th[started], NULL, run_worker, &w[started]))
            break;
    }
    pthread_t ticker;
    bool ticking = tick_ms > 0 &&
                   pthread_create(&ticker, NULL, run_ticker, obj) == 0;
    printf("RUNNING clients=%ld ttl_ms=%u wait_ms=%u tick_ms=%u\n", started,
           ttl_ms, wait_ms, ticking ? tick_ms : 0);
    fflush(stdout);
    for (double next = 1.0;;) {
        if (stop_flag || (max_seconds >= 0 && now_s() >= max_seconds + 0.5))
            break;
        if (max_cycles >= 0 &&
            atomic_load(&n_acquired) + atomic_load(&n_busy) +
                    atomic_load(&n_errors) >=
                (unsigned long long)(max_cycles * started))
            break;
        struct timespec ts = {0, 20 * 1000000L};
        nanosleep(&ts, NULL);
        if (now_s() >= next) {
            printf("PROGRESS %llu max_ms=%.1f\n",
                   (unsigned long long)atomic_load(&n_calls),
                   (double)atomic_exchange(&max_us, 0) / 1000.0);
            fflush(stdout);
            next += 1.0;
        }
    }
    for (long k = 0; k < started; k++)
        pthread_join(th[k], NULL);
    workers_done = 1;
    if (ticking)
        pthread_join(ticker, NULL);
    free(w);
    free(th);
    printf("DONE calls=%llu acquired=%llu busy=%llu renewed=%llu "
           "released=%llu lost=%llu abandoned=%llu audits=%llu ticks=%llu "
           "tick_expired=%llu errors=%llu\n",
           (unsigned long long)atomic_load(&n_calls),
           (unsigned long long)atomic_load(&n_acquired),
           (unsigned long long)atomic_load(&n_busy),
           (unsigned long long)atomic_load(&n_renewed),
           (unsigned long long)atomic_load(&n_released),
           (unsigned long long)atomic_load(&n_lost),
           (unsigned long long)atomic_load(&n_abandoned),
           (unsigned long long)atomic_load(&n_audits),
           (unsigned long long)atomic_load(&n_ticks),
           (unsigned long long)atomic_load(&n_tick_expired),
           (unsigned long long)atomic_load(&n_errors));
    fflush(stdout);
    return atomic_load(&n_errors) || started < clients ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return usage();
    const char *cmd = argv[1];
    if (strcmp(cmd, "run") && strcmp(cmd, "summary") && strcmp(cmd, "list"))
        return usage();
    long clients = 4;
    int i = 2;
    for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
        char *end;
        double v = strtod(argv[i + 1], &end);
        if (*end || v < 0 || v > 1e9) {
            fprintf(stderr, "lease-client: %s: '%s' is not a number in "
                            "0..1e9\n", argv[i], argv[i + 1]);
            return 2;
        }
        if (strcmp(argv[i], "--clients") == 0 && v >= 1 && v <= 256)
            clients = (long)v;
        else if (strcmp(argv[i], "--resources") == 0 && v >= 1 &&
                 v <= 100000)
            n_resources = (uint32_t)v;
        else if (strcmp(argv[i], "--ttl") == 0 && v >= 1 && v <= 600000)
            ttl_ms = (uint32_t)v;
        else if (strcmp(argv[i], "--wait") == 0 && v <= 2000)
            wait_ms = (uint32_t)v;
        else if (strcmp(argv[i], "--abandon") == 0)
            abandon_every = (uint32_t)v;
        else if (strcmp(argv[i], "--audit-ms") == 0 && v <= 1000)
            audit_ms = (uint32_t)v;
        else if (strcmp(argv[i], "--tick-ms") == 0 && v <= 60000)
            tick_ms = (uint32_t)v;
        else if (strcmp(argv[i], "--seconds") == 0)
            max_seconds = v;
        else if (strcmp(argv[i], "--cycles") == 0)
            max_cycles = (long)v;
        else if (strcmp(argv[i], "--stall-ms") == 0)
            stall_ms = v;
        else
            return usage();
    }
    size_t nrefs = (size_t)(argc - i);
    if (nrefs == 0 || (strcmp(cmd, "run") != 0 && nrefs != 1))
        return usage();

    phx_orb_config_t cfg;
    phx_orb_config_init(&cfg);
    cfg.connect_timeout_ms = 2000;
    phx_orb_t *orb;
    phx_error_t err;
    if (phx_orb_create(&cfg, &orb, &err) != PHX_OK) {
        fprintf(stderr, "lease-client: %s\n", err.msg);
        return 1;
    }
    phx_ft_client_t *ft = NULL;
    phx_ft_client_config_t fcfg;
    phx_ft_client_config_init(&fcfg);
    if (phx_ft_client_install(orb, &fcfg, &ft, &err) != PHX_OK) {
        fprintf(stderr, "lease-client: %s\n", err.msg);
        phx_orb_destroy(orb);
        return 1;
    }

    int status = 0;
    err.msg[0] = '\0';
    phx_ior_t *members = calloc(nrefs, sizeof *members);
    size_t loaded = 0;
    for (; members && loaded < nrefs; loaded++) {
        const char *arg = argv[i + (int)loaded];
        char *s = load_ref(arg);
        if (s == NULL || phx_ior_from_string(s, &members[loaded], &err)) {
            fprintf(stderr, "lease-client: %s: %s\n", arg,
                    s ? err.msg : "not a reference nor a readable file");
            free(s);
            status = 2;
            break;
        }
        free(s);
    }
    phx_object_t *obj = NULL;
    if (status == 0 && nrefs == 1) {
        if (phx_object_from_ior(orb, &members[0], &obj, &err) != PHX_OK)
            status = 2;
    } else if (status == 0) {
        phx_ft_iogr_spec_t spec = {
            .ft_domain_id = "leases",
            .object_group_id = 1,
            .object_group_ref_version = 1,
            .members = members,
            .member_count = nrefs,
            .primary = PHX_FT_NO_PRIMARY,
        };
        phx_ior_t iogr;
        if (phx_ft_iogr_build(&spec, &iogr, &err) != PHX_OK) {
            status = 2;
        } else {
            if (phx_object_from_ior(orb, &iogr, &obj, &err) != PHX_OK)
                status = 2;
            phx_ior_fini(&iogr);
        }
    }
    if (status != 0 && obj == NULL && err.msg[0])
        fprintf(stderr, "lease-client: %s\n", err.msg);

    phx_env_t env = PHX_ENV_INIT;
    char buf[512];
    if (status == 0 && strcmp(cmd, "summary") == 0) {
        Leasing_Summary s;
        int32_t pid = 0;
        if (Leasing_Leases_summary(obj, &s, &env) != PHX_OK ||
            Leasing_Leases_pid(obj, &pid, &env) != PHX_OK) {
            fprintf(stderr, "lease-client: summary: %s\n",
                    phx_env_describe(&env, buf, sizeof buf));
            phx_env_clear(&env);
            status = 1;
        } else {
            printf("count=%u expired_total=%llu group_time_ms=%llu "
                   "acquired=%llu renewed=%llu released=%llu audits=%llu "
                   "digest=%016llx pid=%d\n",
                   s.count, (unsigned long long)s.expired_total,
                   (unsigned long long)s.group_time_ms,
                   (unsigned long long)s.acquired,
                   (unsigned long long)s.renewed,
                   (unsigned long long)s.released,
                   (unsigned long long)s.audits,
                   (unsigned long long)s.digest, pid);
        }
    } else if (status == 0 && strcmp(cmd, "list") == 0) {
        Leasing_LeaseList l;
        if (Leasing_Leases_list(obj, &l, &env) != PHX_OK) {
            fprintf(stderr, "lease-client: list: %s\n",
                    phx_env_describe(&env, buf, sizeof buf));
            phx_env_clear(&env);
            status = 1;
        } else {
            for (uint32_t k = 0; k < l._length; k++)
                printf("%s %s id=%016llx expires_ms=%llu\n",
                       l._buffer[k].resource, l._buffer[k].owner,
                       (unsigned long long)l._buffer[k].id,
                       (unsigned long long)l._buffer[k].expires_ms);
            printf("LEASES %u\n", l._length);
            Leasing_LeaseList__free(&l);
        }
    } else if (status == 0) {
        status = cmd_run(obj, clients);
    }
    phx_object_release(obj);
    for (size_t k = 0; k < loaded; k++)
        phx_ior_fini(&members[k]);
    free(members);
    phx_orb_destroy(orb);
    phx_ft_client_destroy(ft);
    return status;
}
