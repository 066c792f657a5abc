/*
 * campaign.c - a fault campaign against a replicated object group: three
 * replicas (tests/ft/active_member or tests/ft/passive_member) serve one
 * phxtest::Member group, C client threads call add(1) through the group
 * reference for S seconds, and a chaos thread kills one replica at a time
 * with SIGKILL at random moments and starts a replacement that joins
 * through a survivor.  At the end it checks that every acknowledged add
 * was applied exactly once and no unacknowledged add twice:
 *   - every surviving replica ends with the same total T;
 *   - acked <= T <= acked + unacked;
 *   - no total was returned twice (across all clients).
 *
 *   campaign [--style active|passive] [--seconds S] [--clients C]
 *            [--seed N] [--request-ms MS]
 *
 * MS is the FT request duration (default 30000): how long a request may be
 * re-invoked, and how long replicas keep its reply.
 *
 * Without options (make check): an active, then a passive campaign of 8
 * seconds, 2 clients, seed 1, each in a process of its own.
 *
 * The chaos (victims and intervals) comes from a PRNG seeded with N.
 * Never more than one replica is down: the GCS needs a majority of three.
 * Exit status: 0 when the invariant holds, 1 when it does not, 2 when the
 * campaign could not run.  Programs are found under $PHX_BUILDDIR.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <phx/ft.h>
#include <phx/phx.h>

#include "tests/ft/gen/ft_test.h"
#include "tests/integration/harness.h"

#define MEMBERS 3
#define MAX_REPLICAS 512 /* started in all; then the chaos stops */
#define MAX_CLIENTS 32
#define START_MS 30000
#define SETTLE_MS 30000
/* A replacement may print READY while the dead member is still in the
 * view (GCS suspicion timeout: 1 s); the next kill waits this long on top
 * of the random interval so that the view has dropped it by then and a
 * majority of it is always alive. */
#define REJOIN_GAP_MS 2500

typedef struct replica {
    hproc_t proc;
    bool alive;
    char loc[32];
    char gcs[512];
    char ior[8192];
} replica_t;

typedef struct call_rec {
    bool acked;
    int64_t total;
} call_rec_t;

typedef struct client {
    pthread_t th;
    int id;
    call_rec_t *calls;
    size_t n, cap;
    long acked, failed;
    char first_failure[256];
} client_t;

/* The defaults are the short campaign of "make check". */
static const char *style = "active";
static int seconds = 8;
static int n_clients = 2;
static uint64_t seed = 1;
static int request_ms = 30000; /* FT request duration (reply lifetime) */

static replica_t reps[MAX_REPLICAS];
static int n_reps;
static phx_orb_t *orb;
static phx_ft_registry_t *reg;
static uint64_t gid;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static char *iogr_str;     /* current group reference (under lock) */
static uint32_t iogr_version;
static bool stop;
static long long end_ms;
static long kills, replacements;
static bool chaos_failed;
static atomic_long acked_so_far; /* for the chaos log */

static uint64_t prng_state;

static uint64_t prng_next(void)
{
    uint64_t x = prng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    prng_state = x;
    return x;
}

static long prng_range(long lo, long hi)
{
    return lo + (long)((prng_next() >> 16) % (uint64_t)(hi - lo + 1));
}

static bool copy_str(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap)
        return false;
    memcpy(dst, src, n + 1);
    return true;
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

/* Read lines until one starts with prefix; copy its rest. */
static bool read_prefixed(hproc_t *p, const char *prefix, char *rest,
                          size_t cap, long long deadline)
{
    char line[8192];
    size_t n = strlen(prefix);
    for (;;) {
        long long left = deadline - h_now_ms();
        if (left <= 0 || h_read_line(p, line, sizeof line, (int)left) < 0)
            return false;
        if (strncmp(line, prefix, n) == 0)
            return copy_str(rest, cap, line + n);
    }
}

static const char *member_prog(void)
{
    return strcmp(style, "passive") == 0 ? "tests/ft/passive_member"
                                         : "tests/ft/active_member";
}

/* Start replica i, joining through seed_ep (NULL: founds the group). */
static int spawn_replica(int i, const char *seed_ep)
{
    replica_t *r = &reps[i];
    char *argv[] = {(char *)h_prog(member_prog()), "--members", "3",
                    seed_ep ? "--seed" : NULL, (char *)seed_ep, NULL};
    snprintf(r->loc, sizeof r->loc, "replica-%d", i);
    if (h_spawn(&r->proc, argv) != 0)
        return -1;
    r->alive = true;
    return 0;
}

/* Add replica i to the group in the registry. */
static int register_replica(int i)
{
    phx_ior_t ior;
    phx_error_t err;
    if (phx_ior_from_string(reps[i].ior, &ior, &err) != PHX_OK)
        return -1;
    int rc = phx_ft_registry_add_member(reg, gid, reps[i].loc, &ior, &err);
    phx_ior_fini(&ior);
    return rc == PHX_OK ? 0 : -1;
}

/* Make the registry's current IOGR the one the clients pick up. */
static int publish_iogr(void)
{
    phx_ior_t iogr;
    uint32_t version;
    char *s = NULL;
    if (phx_ft_registry_get_iogr(reg, gid, &iogr, &version) != PHX_OK)
        return -1;
    int rc = phx_ior_to_string(&iogr, &s);
    phx_ior_fini(&iogr);
    if (rc != PHX_OK)
        return -1;
    pthread_mutex_lock(&lock);
    free(iogr_str);
    iogr_str = s;
    iogr_version = version;
    pthread_mutex_unlock(&lock);
    return 0;
}

/* Sleep up to ms, waking early when the campaign stops; true if stopped. */
static bool nap(long ms)
{
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += ms / 1000;
    dl.tv_nsec += (ms % 1000) * 1000000L;
    if (dl.tv_nsec >= 1000000000L) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&lock);
    while (!stop)
        if (pthread_cond_timedwait(&wake, &lock, &dl) != 0)
            break;
    bool s = stop;
    pthread_mutex_unlock(&lock);
    return s;
}

static void *chaos(void *arg)
{
    (void)arg;
    while (n_reps < MAX_REPLICAS) {
        if (nap(prng_range(500, 2000)))
            break;
        int alive_idx[MAX_REPLICAS], n_alive = 0;
        for (int i = 0; i < n_reps; i++)
            if (reps[i].alive)
                alive_idx[n_alive++] = i;
        if (n_alive < MEMBERS)
            break;
        /* Every other kill (the first one included) hits the oldest
         * replica: the first profile of the IOGR, where the clients
         * start, and the WARM_PASSIVE primary. */
        long k = kills % 2 == 0 ? 0 : prng_range(0, n_alive - 1);
        int v = alive_idx[k];
        int via = alive_idx[(k + prng_range(1, n_alive - 1)) % n_alive];
        h_kill(&reps[v].proc, SIGKILL, 5000);
        reps[v].alive = false;
        phx_ft_registry_remove_member(reg, gid, reps[v].loc);
        pthread_mutex_lock(&lock);
        kills++;
        pthread_mutex_unlock(&lock);
        printf("campaign: %lld ms: killed %s (pid %d), %ld calls acked\n",
               h_now_ms() - (end_ms - seconds * 1000LL), reps[v].loc,
               (int)reps[v].proc.pid, atomic_load(&acked_so_far));
        fflush(stdout);
        if (publish_iogr() != 0) {
            chaos_failed = true;
            break;
        }
        int n = n_reps;
        if (spawn_replica(n, reps[via].gcs) != 0) {
            chaos_failed = true;
            break;
        }
        n_reps++;
        if (!read_member(&reps[n].proc, reps[n].gcs, sizeof reps[n].gcs,
                         reps[n].ior, sizeof reps[n].ior,
                         h_now_ms() + START_MS) ||
            register_replica(n) != 0 || publish_iogr() != 0) {
            fprintf(stderr, "campaign: replacement %s not ready\n",
                    reps[n].loc);
            chaos_failed = true;
            break;
        }
        pthread_mutex_lock(&lock);
        replacements++;
        pthread_mutex_unlock(&lock);
        printf("campaign: %lld ms: %s ready (joined via %s)\n",
               h_now_ms() - (end_ms - seconds * 1000LL), reps[n].loc,
               reps[via].loc);
        fflush(stdout);
        if (nap(REJOIN_GAP_MS))
            break;
    }
    return NULL;
}

static bool push_call(client_t *c, bool acked, int64_t total)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 1024;
        call_rec_t *p = realloc(c->calls, cap * sizeof *p);
        if (p == NULL)
            return false;
        c->calls = p;
        c->cap = cap;
    }
    c->calls[c->n].acked = acked;
    c->calls[c->n].total = total;
    c->n++;
    return true;
}

static void *client_main(void *arg)
{
    client_t *c = arg;
    phx_object_t *group = NULL;
    uint32_t have = 0;
    phx_env_t env = PHX_ENV_INIT;
    while (h_now_ms() < end_ms) {
        pthread_mutex_lock(&lock);
        if (group == NULL || have != iogr_version) {
            char *s = strdup(iogr_str);
            have = iogr_version;
            pthread_mutex_unlock(&lock);
            phx_object_t *g = NULL;
            phx_error_t err;
            if (s == NULL ||
                phx_object_from_string(orb, s, &g, &err) != PHX_OK) {
                free(s);
                fprintf(stderr, "campaign: client %d: bad reference\n",
                        c->id);
                break;
            }
            free(s);
            phx_object_release(group);
            group = g;
        } else {
            pthread_mutex_unlock(&lock);
        }
        int64_t total = -1;
        int rc = phxtest_Member_add(group, 1, &total, &env);
        if (rc == PHX_OK) {
            c->acked++;
            atomic_fetch_add(&acked_so_far, 1);
        } else {
            if (c->failed++ == 0)
                phx_env_describe(&env, c->first_failure,
                                 sizeof c->first_failure);
            phx_env_clear(&env);
        }
        if (!push_call(c, rc == PHX_OK, total))
            break;
    }
    phx_object_release(group);
    return NULL;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Read every survivor's total (unreplicated add(0)) until all agree and
 * stay so across two rounds, or the deadline passes.  Returns the common
 * total, or -1 (totals printed). */
static int64_t settled_total(void)
{
    phx_object_t *plain[MAX_REPLICAS] = {0};
    phx_error_t err;
    int64_t last = -2, result = -1;
    int stable = 0;
    for (int i = 0; i < n_reps; i++)
        if (reps[i].alive &&
            phx_object_from_string(orb, reps[i].ior, &plain[i], &err) !=
                PHX_OK)
            plain[i] = NULL;
    long long until = h_now_ms() + SETTLE_MS;
    for (;;) {
        phx_env_t env = PHX_ENV_INIT;
        int64_t common = -2;
        bool agree = true;
        for (int i = 0; i < n_reps; i++) {
            if (!reps[i].alive)
                continue;
            int64_t t = -1;
            if (plain[i] == NULL ||
                phxtest_Member_add(plain[i], 0, &t, &env) != PHX_OK) {
                phx_env_clear(&env);
                t = -1;
            }
            if (common == -2)
                common = t;
            else if (t != common)
                agree = false;
            if (h_now_ms() >= until)
                printf("campaign: %s total %lld\n", reps[i].loc,
                       (long long)t);
        }
        if (agree && common >= 0 && common == last) {
            if (++stable >= 2) {
                result = common;
                break;
            }
        } else {
            stable = 0;
        }
        last = agree ? common : -2;
        if (h_now_ms() >= until)
            break;
        struct timespec ts = {0, 200 * 1000000L};
        nanosleep(&ts, NULL);
    }
    for (int i = 0; i < n_reps; i++)
        phx_object_release(plain[i]);
    return result;
}

static void usage(const char *argv0)
{
    fprintf(stderr,
            "usage: %s [--style active|passive] [--seconds S] "
            "[--clients C] [--seed N] [--request-ms MS]\n",
            argv0);
}

/* Run this program with the options of one default campaign of style st;
 * its exit status. */
static int run_default(const char *st)
{
    char *args[] = {"campaign", "--style", (char *)st, NULL};
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0)
        return 2;
    if (pid == 0) {
        execv("/proc/self/exe", args);
        _exit(2);
    }
    int ws;
    if (waitpid(pid, &ws, 0) != pid)
        return 2;
    return WIFEXITED(ws) ? WEXITSTATUS(ws) : 2;
}

int main(int argc, char **argv)
{
    if (argc == 1) {
        int a = run_default("active");
        int p = run_default("passive");
        return a > p ? a : p;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (i + 1 >= argc) {
            usage(argv[0]);
            return 2;
        }
        const char *v = argv[++i];
        if (strcmp(a, "--style") == 0)
            style = v;
        else if (strcmp(a, "--seconds") == 0)
            seconds = atoi(v);
        else if (strcmp(a, "--clients") == 0)
            n_clients = atoi(v);
        else if (strcmp(a, "--seed") == 0)
            seed = strtoull(v, NULL, 0);
        else if (strcmp(a, "--request-ms") == 0)
            request_ms = atoi(v);
        else {
            usage(argv[0]);
            return 2;
        }
    }
    if ((strcmp(style, "active") != 0 && strcmp(style, "passive") != 0) ||
        seconds < 1 || n_clients < 1 || n_clients > MAX_CLIENTS ||
        request_ms < 1000) {
        usage(argv[0]);
        return 2;
    }
    prng_state = seed * 0x9E3779B97F4A7C15ULL + 0x2545F4914F6CDD1DULL;
    if (prng_state == 0)
        prng_state = 1;
    signal(SIGPIPE, SIG_IGN);

    int status = 2;
    phx_error_t err;
    long long deadline = h_now_ms() + START_MS;
    for (int i = 0; i < MEMBERS; i++) {
        if (spawn_replica(i, i ? reps[0].gcs : NULL) != 0)
            goto out;
        n_reps++;
        if (i == 0 && !read_prefixed(&reps[0].proc, "GCS ", reps[0].gcs,
                                     sizeof reps[0].gcs, deadline))
            goto out;
    }
    for (int i = 0; i < MEMBERS; i++) {
        bool ok = i == 0 ? read_prefixed(&reps[0].proc, "READY ",
                                         reps[0].ior, sizeof reps[0].ior,
                                         deadline)
                         : read_member(&reps[i].proc, reps[i].gcs,
                                       sizeof reps[i].gcs, reps[i].ior,
                                       sizeof reps[i].ior, deadline);
        if (!ok) {
            fprintf(stderr, "campaign: replica %d not ready\n", i);
            goto out;
        }
    }
    if (phx_ft_registry_create("phalanx-campaign", &reg, &err) != PHX_OK ||
        phx_ft_registry_create_group(reg, phxtest_Member__repo_id, &gid,
                                     &err) != PHX_OK)
        goto out;
    for (int i = 0; i < MEMBERS; i++)
        if (register_replica(i) != 0)
            goto out;
    if (publish_iogr() != 0)
        goto out;

    phx_orb_config_t cfg;
    phx_orb_config_init(&cfg);
    cfg.call_timeout_ms = 10000;
    cfg.connect_timeout_ms = 1000;
    cfg.max_forwards = 64;
    if (phx_orb_create(&cfg, &orb, &err) != PHX_OK)
        goto out;
    phx_ft_client_config_t fcfg;
    phx_ft_client_config_init(&fcfg);
    fcfg.request_duration_ms = (uint32_t)request_ms;
    phx_ft_client_t *ft = NULL;
    if (phx_ft_client_install(orb, &fcfg, &ft, &err) != PHX_OK)
        goto out;

    static client_t clients[MAX_CLIENTS];
    end_ms = h_now_ms() + seconds * 1000LL;
    pthread_t cth;
    int started = 0;
    bool chaos_started = pthread_create(&cth, NULL, chaos, NULL) == 0;
    for (int i = 0; i < n_clients; i++) {
        clients[i].id = i;
        if (pthread_create(&clients[i].th, NULL, client_main, &clients[i]) !=
            0)
            break;
        started++;
    }
    for (int i = 0; i < started; i++)
        pthread_join(clients[i].th, NULL);
    pthread_mutex_lock(&lock);
    stop = true;
    pthread_cond_broadcast(&wake);
    pthread_mutex_unlock(&lock);
    if (chaos_started)
        pthread_join(cth, NULL);

    long calls = 0, acked = 0, failed = 0;
    size_t n_tot = 0;
    for (int i = 0; i < started; i++) {
        calls += (long)clients[i].n;
        acked += clients[i].acked;
        failed += clients[i].failed;
    }
    int64_t *totals = malloc(((size_t)acked + 1) * sizeof *totals);
    for (int i = 0; totals && i < started; i++)
        for (size_t k = 0; k < clients[i].n; k++)
            if (clients[i].calls[k].acked)
                totals[n_tot++] = clients[i].calls[k].total;
    long dups = 0;
    int64_t max_returned = 0;
    if (totals) {
        qsort(totals, n_tot, sizeof *totals, cmp_i64);
        for (size_t k = 1; k < n_tot; k++)
            if (totals[k] == totals[k - 1] && dups++ < 5)
                printf("campaign: total %lld returned twice\n",
                       (long long)totals[k]);
        if (n_tot)
            max_returned = totals[n_tot - 1];
    }
    int64_t final = settled_total();
    /* Totals no client was given: each is an execution whose reply was
     * lost (an unacknowledged call) or a second execution of a call. */
    long missing = 0;
    for (size_t k = 0, want = 1; totals && (int64_t)want <= final; want++) {
        while (k < n_tot && totals[k] < (int64_t)want)
            k++;
        if (k < n_tot && totals[k] == (int64_t)want)
            continue;
        if (missing++ < 10)
            printf("campaign: total %lld was returned to no call\n",
                   (long long)want);
    }
    phx_ft_client_stats_t st;
    phx_ft_client_get_stats(ft, &st);

    printf("campaign: style %s, %d s, %d clients, seed %llu\n", style,
           seconds, started, (unsigned long long)seed);
    printf("campaign: %ld calls, %ld acked, %ld failed, %llu "
           "re-invocations, %ld kills, %ld replacements, final total "
           "%lld (%ld totals returned to no call)\n",
           calls, acked, failed, (unsigned long long)st.reinvocations, kills,
           replacements, (long long)final, missing);
    for (int i = 0; i < started; i++)
        if (clients[i].failed)
            printf("campaign: client %d first failure: %s\n", i,
                   clients[i].first_failure);
    bool ok = true;
    if (totals == NULL || chaos_failed || started != n_clients) {
        printf("campaign: FAIL: the campaign did not run as planned\n");
        ok = false;
    }
    if (final < 0) {
        printf("campaign: FAIL: the survivors did not agree on a total\n");
        ok = false;
    } else if (final < acked || final > acked + failed) {
        printf("campaign: FAIL: final total %lld outside [%ld, %ld]\n",
               (long long)final, acked, acked + failed);
        ok = false;
    }
    if (dups) {
        printf("campaign: FAIL: %ld totals returned more than once\n", dups);
        ok = false;
    }
    if (final >= 0 && max_returned > final) {
        printf("campaign: FAIL: a client saw total %lld > final %lld\n",
               (long long)max_returned, (long long)final);
        ok = false;
    }
    if (acked == 0) {
        printf("campaign: FAIL: no call was acknowledged\n");
        ok = false;
    }
    printf("campaign: %s\n", ok ? "PASS" : "FAIL");
    status = ok ? 0 : 1;
    free(totals);
    for (int i = 0; i < started; i++)
        free(clients[i].calls);
    phx_orb_destroy(orb);
    orb = NULL;
    phx_ft_client_destroy(ft);

out:
    if (status == 2)
        fprintf(stderr, "campaign: setup failed\n");
    for (int i = 0; i < n_reps; i++)
        if (reps[i].alive) {
            h_kill(&reps[i].proc, SIGTERM, 5000);
            reps[i].alive = false;
        }
    phx_orb_destroy(orb);
    phx_ft_registry_destroy(reg);
    free(iogr_str);
    return status;
}
