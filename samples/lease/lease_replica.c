/*
 * lease_replica.c - one replica of the lease service (samples/lease/
 * lease.idl).
 *
 *   lease-replica --group leases --style semi_active [--workers N]
 *                 [--seed EP] ...
 *
 * The servant is written the way such servers are usually written: a
 * table of leases under one mutex, several ORB worker threads executing
 * requests at once (the servant is marked multithreaded), acquire calls
 * that wait on a condition variable until the resource frees, audit calls
 * that block for a moment before taking the mutex.  The only difference from a
 * plain server is that it uses <phx/ft_nd.h> instead of the OS:
 *
 *   phx_ft_mutex / phx_ft_cond  instead of pthread_mutex / pthread_cond
 *                               (under SEMI_ACTIVE the leader decides the
 *                               order in which requests take the mutex and
 *                               how each timed wait ends; the followers
 *                               replay it);
 *   phx_ft_now                  instead of clock_gettime: expiry is
 *                               decided by group time, identical on every
 *                               replica;
 *   phx_ft_random               instead of random(): lease ids.
 *
 * Expiry.  A server would normally run a reaper thread; threads the
 * servant starts itself are not replicated (they have no group time and
 * no acquisition order), so expiry is done inside replicated requests
 * instead: every request that touches the table first removes the leases
 * whose expiry is <= the request's group time (lazy expiry), and tick()
 * does only that, for a client (lease-client's tick thread) to call
 * through the group periodically.  Every replica executes the same
 * requests with the same group times in the same mutex order, so every
 * replica expires the same leases at the same point.  summary() and
 * pid() are read-only and never expire anything, so they may be asked
 * of one member directly.
 *
 * Styles: semi_active (everything) and active (requests run one at a
 * time: acquire's wait_ms must be 0, BAD_PARAM otherwise; a wait could
 * only time out, and how long it waited would differ between replicas).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <phx/cdr.h>
#include <phx/ft.h>
#include <phx/ft_nd.h>
#include <phx/ft_semi.h>
#include <phx/phx.h>
#include <phx/replica.h>

#include "samples/lease/gen/lease.h"

#define NS_PER_MS 1000000ULL
#define MAX_TTL_MS 600000u
#define MAX_WAIT_MS 2000u
#define MAX_WORK_MS 1000u

/* ---- the state: leases sorted by resource ---- */

typedef struct lease {
    uint64_t id;
    char *resource;
    char *owner;
    uint64_t expires_ns; /* group time */
} lease_t;

typedef struct table {
    phx_ft_mutex_t mx;
    phx_ft_cond_t freed; /* a lease went away */
    lease_t *l;
    size_t n, cap;
    uint64_t expired_total, acquired, renewed, released, audits;
    uint64_t last_ns; /* the last group time a request saw */
} table_t;

static table_t the_table;
static int the_style;

static size_t find(const table_t *t, const char *resource, bool *found)
{
    size_t lo = 0, hi = t->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(t->l[mid].resource, resource);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

static bool find_id(const table_t *t, uint64_t id, size_t *at)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->l[i].id == id) {
            *at = i;
            return true;
        }
    return false;
}

static void remove_at(table_t *t, size_t i)
{
    free(t->l[i].resource);
    free(t->l[i].owner);
    memmove(&t->l[i], &t->l[i + 1], (t->n - i - 1) * sizeof *t->l);
    t->n--;
}

/* Insert at i (from find).  0 or -1 (out of memory). */
static int insert_at(table_t *t, size_t i, uint64_t id, const char *res,
                     size_t res_len, const char *owner, size_t owner_len,
                     uint64_t expires_ns)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 32;
        lease_t *l = realloc(t->l, cap * sizeof *l);
        if (l == NULL)
            return -1;
        t->l = l;
        t->cap = cap;
    }
    char *r = strndup(res, res_len), *o = strndup(owner, owner_len);
    if (r == NULL || o == NULL) {
        free(r);
        free(o);
        return -1;
    }
    memmove(&t->l[i + 1], &t->l[i], (t->n - i) * sizeof *t->l);
    t->l[i] = (lease_t){id, r, o, expires_ns};
    t->n++;
    return 0;
}

static void clear(table_t *t)
{
    while (t->n > 0)
        remove_at(t, t->n - 1);
    t->expired_total = t->acquired = t->renewed = t->released = 0;
    t->audits = t->last_ns = 0;
}

/* Group time (ns) inside a replicated request; mutex held, so the times
 * the requests see follow the order in which they take the mutex. */
static uint64_t group_now(table_t *t)
{
    struct timespec ts;
    phx_ft_now(PHX_FT_CLOCK_REALTIME, &ts);
    uint64_t now = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
    if (now > t->last_ns)
        t->last_ns = now;
    return now;
}

/* Lazy expiry: drop every lease whose expiry is <= now.  Mutex held. */
static uint32_t expire(table_t *t, uint64_t now)
{
    uint32_t n = 0;
    for (size_t i = 0; i < t->n;) {
        if (t->l[i].expires_ns <= now) {
            remove_at(t, i);
            n++;
        } else {
            i++;
        }
    }
    if (n > 0) {
        t->expired_total += n;
        phx_ft_cond_broadcast(&t->freed);
    }
    return n;
}

/* Lock, read group time, expire: how every request starts.  A request
 * that is not a replicated invocation (one member asked directly, with
 * its own reference) must not change this member's state alone: it reads
 * the table as it is (now is the last group time). */
static uint64_t enter(table_t *t)
{
    phx_ft_mutex_lock(&t->mx);
    if (!phx_ft_in_replicated())
        return t->last_ns;
    uint64_t now = group_now(t);
    expire(t, now);
    return now;
}

static int no_memory(phx_env_t *env)
{
    return phx_env_system(env, PHX_SYSEX_NO_MEMORY, 0, PHX_COMPLETED_NO,
                          "lease: out of memory");
}

/* Requests that change the state go through the group. */
static int direct(phx_env_t *env)
{
    return phx_env_system(env, PHX_SYSEX_NO_PERMISSION, 0, PHX_COMPLETED_NO,
                          "lease: this operation changes the state: call "
                          "it through the group's reference");
}

/*
 * State: one CDR encapsulation: unsigned long long expired_total,
 * acquired, renewed, released, audits, last_ns; unsigned long n; then n
 * (unsigned long long id, string resource, string owner, unsigned long
 * long expires_ns), sorted by resource.  Outside replicated requests the
 * phx_ft_mutex is a plain mutex.
 */
static int get_state(void *arg, uint8_t **data, size_t *len)
{
    table_t *t = arg;
    phx_ft_mutex_lock(&t->mx);
    phx_cdr_writer_t w;
    phx_cdr_writer_init(&w, 64 + t->n * 48);
    phx_cdr_put_octet(&w, PHX_CDR_NATIVE);
    phx_cdr_put_ulonglong(&w, t->expired_total);
    phx_cdr_put_ulonglong(&w, t->acquired);
    phx_cdr_put_ulonglong(&w, t->renewed);
    phx_cdr_put_ulonglong(&w, t->released);
    phx_cdr_put_ulonglong(&w, t->audits);
    phx_cdr_put_ulonglong(&w, t->last_ns);
    phx_cdr_put_ulong(&w, (uint32_t)t->n);
    for (size_t i = 0; i < t->n; i++) {
        phx_cdr_put_ulonglong(&w, t->l[i].id);
        phx_cdr_put_string(&w, t->l[i].resource);
        phx_cdr_put_string(&w, t->l[i].owner);
        phx_cdr_put_ulonglong(&w, t->l[i].expires_ns);
    }
    phx_ft_mutex_unlock(&t->mx);
    int rc = phx_cdr_writer_status(&w);
    *data = rc == PHX_OK ? phx_cdr_writer_steal(&w, len) : NULL;
    phx_cdr_writer_fini(&w);
    return *data ? 0 : -1;
}

static int set_state(void *arg, const void *data, size_t len)
{
    table_t *t = arg;
    phx_cdr_reader_t r;
    uint64_t c[6] = {0};
    uint32_t n = 0;
    if (phx_cdr_reader_init_encap(&r, data, len) != PHX_OK)
        return -1;
    for (int k = 0; k < 6; k++)
        phx_cdr_get_ulonglong(&r, &c[k]);
    phx_cdr_get_ulong(&r, &n);
    if (phx_cdr_reader_status(&r) != PHX_OK ||
        n > phx_cdr_reader_remaining(&r) / 24)
        return -1;
    phx_ft_mutex_lock(&t->mx);
    clear(t);
    int rc = 0;
    for (uint32_t i = 0; i < n && rc == 0; i++) {
        uint64_t id = 0, exp = 0;
        const char *res = NULL, *owner = NULL;
        size_t rl = 0, ol = 0;
        phx_cdr_get_ulonglong(&r, &id);
        phx_cdr_get_string(&r, &res, &rl);
        phx_cdr_get_string(&r, &owner, &ol);
        phx_cdr_get_ulonglong(&r, &exp);
        if (phx_cdr_reader_status(&r) != PHX_OK)
            rc = -1;
        /* sorted by resource: each goes at the end */
        else if (insert_at(t, t->n, id, res, rl, owner, ol, exp) != 0)
            rc = -1;
    }
    if (rc == 0 && phx_cdr_reader_remaining(&r) != 0)
        rc = -1;
    if (rc == 0) {
        t->expired_total = c[0];
        t->acquired = c[1];
        t->renewed = c[2];
        t->released = c[3];
        t->audits = c[4];
        t->last_ns = c[5];
    } else {
        clear(t);
    }
    phx_ft_mutex_unlock(&t->mx);
    return rc;
}

/* ---- the operations ---- */

static int l_acquire(void *self, const char *resource, const char *owner,
                     uint32_t ttl_ms, uint32_t wait_ms, uint64_t *ret,
                     phx_env_t *env)
{
    table_t *t = self;
    if (!phx_ft_in_replicated())
        return direct(env);
    if (ttl_ms == 0 || ttl_ms > MAX_TTL_MS || wait_ms > MAX_WAIT_MS ||
        resource[0] == '\0')
        return phx_env_system(env, PHX_SYSEX_BAD_PARAM, 0, PHX_COMPLETED_NO,
                              "lease: ttl_ms 1..%u, wait_ms 0..%u and a "
                              "resource name, please",
                              MAX_TTL_MS, MAX_WAIT_MS);
    if (wait_ms > 0 && the_style != PHX_FT_SEMI_ACTIVE)
        return phx_env_system(env, PHX_SYSEX_BAD_PARAM, 0, PHX_COMPLETED_NO,
                              "lease: waiting (wait_ms > 0) needs the "
                              "semi_active style");
    uint64_t now = enter(t);
    uint64_t deadline = now + (uint64_t)wait_ms * NS_PER_MS;
    int rc = PHX_OK;
    for (;;) {
        bool found;
        size_t i = find(t, resource, &found);
        if (!found) {
            uint64_t id;
            size_t at;
            do /* ids from the request's deterministic sequence */
                id = phx_ft_random();
            while (id == 0 || find_id(t, id, &at));
            if (insert_at(t, i, id, resource, strlen(resource), owner,
                          strlen(owner),
                          now + (uint64_t)ttl_ms * NS_PER_MS) != 0) {
                rc = no_memory(env);
            } else {
                t->acquired++;
                *ret = id;
            }
            break;
        }
        if (now >= deadline) {
            Leasing_Busy ex = {t->l[i].owner, t->l[i].expires_ns / NS_PER_MS};
            rc = Leasing_Busy__raise(env, &ex);
            break;
        }
        /* Wait for a release or an expiry (the holder's expiry is a
         * deadline too: whoever is first after it expires the lease). */
        uint64_t until = t->l[i].expires_ns < deadline ? t->l[i].expires_ns
                                                       : deadline;
        struct timespec abs = {(time_t)(until / 1000000000ULL),
                               (long)(until % 1000000000ULL)};
        phx_ft_cond_timedwait(&t->freed, &t->mx, &abs);
        now = group_now(t);
        expire(t, now);
    }
    phx_ft_mutex_unlock(&t->mx);
    return rc;
}

static int l_renew(void *self, uint64_t id, uint32_t ttl_ms, uint64_t *ret,
                   phx_env_t *env)
{
    table_t *t = self;
    if (!phx_ft_in_replicated())
        return direct(env);
    if (ttl_ms == 0 || ttl_ms > MAX_TTL_MS)
        return phx_env_system(env, PHX_SYSEX_BAD_PARAM, 0, PHX_COMPLETED_NO,
                              "lease: ttl_ms 1..%u, please", MAX_TTL_MS);
    uint64_t now = enter(t);
    size_t i;
    int rc = PHX_OK;
    if (find_id(t, id, &i)) {
        t->l[i].expires_ns = now + (uint64_t)ttl_ms * NS_PER_MS;
        t->renewed++;
        *ret = t->l[i].expires_ns / NS_PER_MS;
    } else {
        Leasing_NoSuchLease ex = {id};
        rc = Leasing_NoSuchLease__raise(env, &ex);
    }
    phx_ft_mutex_unlock(&t->mx);
    return rc;
}

static int l_release(void *self, uint64_t id, phx_env_t *env)
{
    table_t *t = self;
    if (!phx_ft_in_replicated())
        return direct(env);
    enter(t);
    size_t i;
    int rc = PHX_OK;
    if (find_id(t, id, &i)) {
        remove_at(t, i);
        t->released++;
        phx_ft_cond_broadcast(&t->freed);
    } else {
        Leasing_NoSuchLease ex = {id};
        rc = Leasing_NoSuchLease__raise(env, &ex);
    }
    phx_ft_mutex_unlock(&t->mx);
    return rc;
}

static int l_holder(void *self, const char *resource, char **ret,
                    phx_env_t *env)
{
    table_t *t = self;
    enter(t);
    bool found;
    size_t i = find(t, resource, &found);
    *ret = strdup(found ? t->l[i].owner : "");
    phx_ft_mutex_unlock(&t->mx);
    return *ret ? PHX_OK : no_memory(env);
}

static int l_list(void *self, Leasing_LeaseList *ret, phx_env_t *env)
{
    table_t *t = self;
    enter(t);
    int rc = PHX_OK;
    memset(ret, 0, sizeof *ret);
    if (t->n > 0) {
        ret->_buffer = calloc(t->n, sizeof *ret->_buffer);
        if (ret->_buffer == NULL)
            rc = no_memory(env);
    }
    for (size_t i = 0; rc == PHX_OK && i < t->n; i++) {
        Leasing_Lease *l = &ret->_buffer[i];
        l->id = t->l[i].id;
        l->resource = strdup(t->l[i].resource);
        l->owner = strdup(t->l[i].owner);
        l->expires_ms = t->l[i].expires_ns / NS_PER_MS;
        ret->_length = ret->_maximum = (uint32_t)(i + 1);
        if (l->resource == NULL || l->owner == NULL)
            rc = no_memory(env);
    }
    ret->_release = true;
    phx_ft_mutex_unlock(&t->mx);
    if (rc != PHX_OK) {
        if (ret->_buffer && ret->_length == 0) {
            free(ret->_buffer);
            ret->_buffer = NULL;
        }
        Leasing_LeaseList__free(ret);
        memset(ret, 0, sizeof *ret);
    }
    return rc;
}

static int l_tick(void *self, uint32_t *ret, phx_env_t *env)
{
    table_t *t = self;
    if (!phx_ft_in_replicated())
        return direct(env);
    phx_ft_mutex_lock(&t->mx);
    *ret = expire(t, group_now(t));
    phx_ft_mutex_unlock(&t->mx);
    return PHX_OK;
}

static int l_audit(void *self, const char *resource, uint32_t work_ms,
                   uint64_t *ret, phx_env_t *env)
{
    table_t *t = self;
    if (!phx_ft_in_replicated())
        return direct(env);
    if (work_ms > MAX_WORK_MS)
        return phx_env_system(env, PHX_SYSEX_BAD_PARAM, 0, PHX_COMPLETED_NO,
                              "lease: work_ms 0..%u, please", MAX_WORK_MS);
    /* The slow part (an external check, a disk...), before the mutex:
     * other requests go on meanwhile, and how long it takes does not
     * matter to the state.  Before and not between two critical
     * sections: under SEMI_ACTIVE the leader multicasts a request's
     * record only after those of every mutex acquisition numbered below
     * its own, so a request sleeping between two acquisitions would hold
     * back the replies of every request that took the mutex meanwhile
     * (docs/ft.md, "Commit order"). */
    struct timespec d = {(time_t)(work_ms / 1000),
                         (long)(work_ms % 1000) * 1000000L};
    while (nanosleep(&d, &d) != 0 && errno == EINTR)
        ;
    enter(t);
    bool found;
    size_t i = find(t, resource, &found);
    *ret = found ? t->l[i].id : 0;
    t->audits++;
    phx_ft_mutex_unlock(&t->mx);
    return PHX_OK;
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ULL;
    return h;
}

static int l_summary(void *self, Leasing_Summary *ret, phx_env_t *env)
{
    (void)env;
    table_t *t = self;
    phx_ft_mutex_lock(&t->mx); /* read-only: no group time, no expiry */
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < t->n; i++) {
        h = fnv(h, &t->l[i].id, 8);
        h = fnv(h, t->l[i].resource, strlen(t->l[i].resource) + 1);
        h = fnv(h, t->l[i].owner, strlen(t->l[i].owner) + 1);
        h = fnv(h, &t->l[i].expires_ns, 8);
    }
    uint64_t c[6] = {t->expired_total, t->acquired, t->renewed,
                     t->released, t->audits, t->last_ns};
    ret->digest = fnv(h, c, sizeof c);
    ret->count = (uint32_t)t->n;
    ret->expired_total = t->expired_total;
    ret->group_time_ms = t->last_ns / NS_PER_MS;
    ret->acquired = t->acquired;
    ret->renewed = t->renewed;
    ret->released = t->released;
    ret->audits = t->audits;
    phx_ft_mutex_unlock(&t->mx);
    return PHX_OK;
}

static int l_pid(void *self, int32_t *ret, phx_env_t *env)
{
    (void)self;
    (void)env;
    *ret = (int32_t)getpid();
    return PHX_OK;
}

static const Leasing_Leases__epv lease_epv = {
    .acquire = l_acquire,
    .renew = l_renew,
    .release = l_release,
    .holder = l_holder,
    .list = l_list,
    .tick = l_tick,
    .audit = l_audit,
    .summary = l_summary,
    .pid = l_pid,
};

int main(int argc, char **argv)
{
    phx_replica_config_t cfg;
    phx_error_t err;
    int rc = phx_replica_parse(&cfg, "lease-replica", argc, argv, &err);
    if (rc != PHX_OK) {
        phx_replica_config_fini(&cfg);
        if (rc == PHX_EEXIST)
            return 0;
        fprintf(stderr, "%s\n", err.msg);
        return 2;
    }
    the_style = cfg.style;
    /* Named, so that its identity is the same on every replica. */
    phx_ft_mutex_init(&the_table.mx, "lease-table");
    phx_ft_cond_init(&the_table.freed);
    Leasing_Leases__servant servant;
    Leasing_Leases__servant_init(&servant, &lease_epv, &the_table);
    phx_replica_servant_t s = {
        .servant = &servant.base,
        .key = "leases",
        .arg = &the_table,
        .get_state = get_state,
        .set_state = set_state,
        .multithreaded = true,
    };
    /* LEASE_CHECK_EVERY=N (bench/bench_nd's nd_divergence): serve one
     * request at a time (not multithreaded) so that the divergence
     * detector can compare a digest of the state every N requests (0:
     * replies only). */
    const char *ce = getenv("LEASE_CHECK_EVERY");
    if (ce && *ce) {
        s.multithreaded = false;
        s.check_every_n = (uint32_t)strtoul(ce, NULL, 10);
    }
    rc = phx_replica_run(&cfg, &s, &err);
    if (rc != PHX_OK)
        fprintf(stderr, "%s\n", err.msg);
    phx_replica_config_fini(&cfg);
    phx_ft_mutex_lock(&the_table.mx);
    clear(&the_table);
    free(the_table.l);
    phx_ft_mutex_unlock(&the_table.mx);
    phx_ft_cond_destroy(&the_table.freed);
    phx_ft_mutex_destroy(&the_table.mx);
    return rc == PHX_OK ? 0 : 1;
}
