/*
 * nd.c - consistent non-determinism (include/phx/ft_nd.h, docs/ft.md):
 * the thread-local replicated invocation context, group time, random
 * numbers, input, and mutexes / condition variables whose acquisition
 * order a SEMI_ACTIVE leader records and its followers replay.
 *
 * The log of a RECORD context is a sequence of events in native byte
 * order (every member of a group runs on the same architecture):
 *   'T' u64 ns                      phx_ft_now
 *   'I' i32 rc, u32 len, len bytes  phx_ft_input
 *   'L' u64 mutex id, u64 number    an acquisition of a phx_ft_mutex
 *   'W' i32 rc                      a condition wait's outcome
 *   'C' u32 len, len bytes          a nested call's outcome (phx_ft_call):
 *                                   a CDR encapsulation of octet kind
 *                                   (0 reply, 1 system exception, 2 user
 *                                   exception), then the results (result,
 *                                   inout and out values), or string repo
 *                                   id, ulong minor, ulong completion, or
 *                                   string repo id, boolean has value,
 *                                   the exception's members
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <phx/cdr.h>
#include <phx/ft_nd.h>
#include <phx/opdesc.h>

#include "ft_int.h"

#define US 1000ULL
#define NS_PER_S 1000000000ULL

static _Thread_local phx_ft_nd_ctx_t *cur;

/* ------------------------------------------------------------------ */
/* Helpers                                                              */
/* ------------------------------------------------------------------ */

static uint64_t splitmix64(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

uint64_t phx_ft_nd_wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

uint64_t phx_ft_nd_group_time(uint64_t proposed, uint64_t last)
{
    return proposed > last + US ? proposed : last + US;
}

uint64_t phx_ft_nd_fresh_seed(void)
{
    uint64_t v;
    if (getrandom(&v, sizeof v, GRND_NONBLOCK) == (ssize_t)sizeof v)
        return v;
    return splitmix64(phx_ft_nd_wall_ns() ^ (uint64_t)(uintptr_t)&v);
}

static void ns_to_ts(uint64_t ns, struct timespec *ts)
{
    ts->tv_sec = (time_t)(ns / NS_PER_S);
    ts->tv_nsec = (long)(ns % NS_PER_S);
}

/* ------------------------------------------------------------------ */
/* Group clock                                                          */
/* ------------------------------------------------------------------ */

void phx_ft_group_clock_init(phx_ft_group_clock_t *gc, uint64_t last_ns)
{
    pthread_mutex_init(&gc->lock, NULL);
    gc->last_ns = last_ns;
}

void phx_ft_group_clock_fini(phx_ft_group_clock_t *gc)
{
    pthread_mutex_destroy(&gc->lock);
}

void phx_ft_group_clock_advance(phx_ft_group_clock_t *gc, uint64_t t)
{
    pthread_mutex_lock(&gc->lock);
    if (t > gc->last_ns)
        gc->last_ns = t;
    pthread_mutex_unlock(&gc->lock);
}

uint64_t phx_ft_group_clock_last(phx_ft_group_clock_t *gc)
{
    pthread_mutex_lock(&gc->lock);
    uint64_t t = gc->last_ns;
    pthread_mutex_unlock(&gc->lock);
    return t;
}

uint64_t phx_ft_group_clock_next(phx_ft_group_clock_t *gc)
{
    uint64_t wall = phx_ft_nd_wall_ns();
    pthread_mutex_lock(&gc->lock);
    uint64_t t = phx_ft_nd_group_time(wall, gc->last_ns);
    gc->last_ns = t;
    pthread_mutex_unlock(&gc->lock);
    return t;
}

/* ------------------------------------------------------------------ */
/* Context and log                                                      */
/* ------------------------------------------------------------------ */

static void begin(phx_ft_nd_ctx_t *ctx, phx_ft_nd_mode_t mode, uint64_t seed)
{
    memset(ctx, 0, sizeof *ctx);
    ctx->mode = mode;
    ctx->seed = seed;
    ctx->max_g = UINT64_MAX;
    cur = ctx;
}

void phx_ft_nd_begin_fixed(phx_ft_nd_ctx_t *ctx, uint64_t t_ns,
                           uint64_t seed, bool allow_input)
{
    begin(ctx, PHX_FT_ND_FIXED, seed);
    ctx->t_ns = t_ns;
    ctx->allow_input = allow_input;
}

void phx_ft_nd_begin_record(phx_ft_nd_ctx_t *ctx,
                            phx_ft_group_clock_t *clock, uint64_t seed)
{
    begin(ctx, PHX_FT_ND_RECORD, seed);
    ctx->clock = clock;
}

void phx_ft_nd_begin_replay(phx_ft_nd_ctx_t *ctx, const uint8_t *log,
                            size_t len, uint64_t seed)
{
    begin(ctx, PHX_FT_ND_REPLAY, seed);
    ctx->log = (uint8_t *)log;
    ctx->log_len = len;
}

void phx_ft_nd_set_request(phx_ft_nd_ctx_t *ctx, const char *client_id,
                           size_t client_id_len, int32_t retention_id,
                           uint64_t expiration)
{
    ctx->req_client_id = client_id;
    ctx->req_client_id_len = client_id ? client_id_len : 0;
    ctx->req_retention_id = retention_id;
    ctx->req_expiration = expiration;
}

void phx_ft_nd_end(phx_ft_nd_ctx_t *ctx)
{
    if (cur == ctx)
        cur = NULL;
}

void phx_ft_nd_ctx_fini(phx_ft_nd_ctx_t *ctx)
{
    if (ctx->mode == PHX_FT_ND_RECORD)
        free(ctx->log);
    free(ctx->gs);
    ctx->log = NULL;
    ctx->gs = NULL;
    ctx->log_len = ctx->n_gs = 0;
}

uint64_t phx_ft_nd_last(const phx_ft_nd_ctx_t *ctx)
{
    return ctx->last_ns ? ctx->last_ns : ctx->t_ns;
}

static bool log_put(phx_ft_nd_ctx_t *ctx, const void *p, size_t n)
{
    if (ctx->log_len + n > ctx->log_cap) {
        size_t cap = ctx->log_cap ? 2 * ctx->log_cap : 64;
        while (cap < ctx->log_len + n)
            cap *= 2;
        uint8_t *b = realloc(ctx->log, cap);
        if (b == NULL) {
            ctx->failed = true;
            return false;
        }
        ctx->log = b;
        ctx->log_cap = cap;
    }
    memcpy(ctx->log + ctx->log_len, p, n);
    ctx->log_len += n;
    return true;
}

static bool log_get(phx_ft_nd_ctx_t *ctx, void *p, size_t n)
{
    if (ctx->log_pos + n > ctx->log_len)
        return false;
    memcpy(p, ctx->log + ctx->log_pos, n);
    ctx->log_pos += n;
    return true;
}

static void diverge(phx_ft_nd_ctx_t *ctx, const char *what, char want)
{
    if (ctx->diverged)
        return;
    ctx->diverged = true;
    char got = ctx->log_pos < ctx->log_len ? (char)ctx->log[ctx->log_pos]
                                           : '-';
    snprintf(ctx->why, sizeof ctx->why,
             "replay: servant asked for %s ('%c') at log offset %zu, the "
             "leader's log has '%c'",
             what, want, ctx->log_pos, got);
}

/* Read the next event of kind k; false (and diverged) when the log has
 * something else. */
static bool replay_event(phx_ft_nd_ctx_t *ctx, char k, const char *what)
{
    if (ctx->diverged)
        return false;
    if (ctx->log_pos >= ctx->log_len || ctx->log[ctx->log_pos] != (uint8_t)k) {
        diverge(ctx, what, k);
        return false;
    }
    ctx->log_pos++;
    return true;
}

uint64_t phx_ft_nd_log_max_time(const uint8_t *log, size_t len)
{
    uint64_t max = 0;
    size_t i = 0;
    while (i < len) {
        uint8_t k = log[i++];
        size_t skip;
        if (k == 'T') {
            uint64_t t;
            if (i + 8 > len)
                break;
            memcpy(&t, log + i, 8);
            if (t > max)
                max = t;
            skip = 8;
        } else if (k == 'I') {
            uint32_t l;
            if (i + 8 > len)
                break;
            memcpy(&l, log + i + 4, 4);
            skip = 8 + (size_t)l;
        } else if (k == 'L') {
            skip = 16;
        } else if (k == 'W') {
            skip = 4;
        } else if (k == 'C') {
            uint32_t l;
            if (i + 4 > len)
                break;
            memcpy(&l, log + i, 4);
            skip = 4 + (size_t)l;
        } else {
            break;
        }
        i += skip;
    }
    return max;
}

/* ------------------------------------------------------------------ */
/* Time and random                                                      */
/* ------------------------------------------------------------------ */

bool phx_ft_in_replicated(void)
{
    return cur != NULL;
}

int phx_ft_now(int clock, struct timespec *out)
{
    if (out == NULL ||
        (clock != PHX_FT_CLOCK_REALTIME && clock != PHX_FT_CLOCK_MONOTONIC))
        return PHX_EINVAL;
    phx_ft_nd_ctx_t *ctx = cur;
    if (ctx == NULL) {
        clock_gettime(clock == PHX_FT_CLOCK_REALTIME ? CLOCK_REALTIME
                                                     : CLOCK_MONOTONIC,
                      out);
        return PHX_OK;
    }
    uint64_t t = 0;
    switch (ctx->mode) {
    case PHX_FT_ND_FIXED:
        t = ctx->t_ns + (uint64_t)ctx->now_calls * US;
        break;
    case PHX_FT_ND_RECORD: {
        t = phx_ft_group_clock_next(ctx->clock);
        if (ctx->last_ns && t < ctx->last_ns + US)
            t = ctx->last_ns + US;
        uint8_t k = 'T';
        log_put(ctx, &k, 1);
        log_put(ctx, &t, 8);
        break;
    }
    case PHX_FT_ND_REPLAY:
        if (!replay_event(ctx, 'T', "the time") || !log_get(ctx, &t, 8)) {
            if (!ctx->diverged)
                diverge(ctx, "the time", 'T');
            t = ctx->last_ns + US;
        }
        break;
    }
    ctx->now_calls++;
    ctx->last_ns = t;
    ns_to_ts(t, out);
    return PHX_OK;
}

static _Thread_local uint64_t xs[4];
static _Thread_local bool xs_seeded;

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t local_random(void)
{
    if (!xs_seeded) {
        uint64_t s = phx_ft_nd_fresh_seed();
        for (int i = 0; i < 4; i++)
            xs[i] = s = splitmix64(s);
        xs_seeded = true;
    }
    uint64_t r = rotl(xs[1] * 5, 7) * 9;
    uint64_t t = xs[1] << 17;
    xs[2] ^= xs[0];
    xs[3] ^= xs[1];
    xs[1] ^= xs[2];
    xs[0] ^= xs[3];
    xs[2] ^= t;
    xs[3] = rotl(xs[3], 45);
    return r;
}

uint64_t phx_ft_random(void)
{
    phx_ft_nd_ctx_t *ctx = cur;
    if (ctx == NULL)
        return local_random();
    ctx->rnd_n++;
    return splitmix64(ctx->seed ^ splitmix64(ctx->rnd_n));
}

uint64_t phx_ft_random_seed(void)
{
    phx_ft_nd_ctx_t *ctx = cur;
    return ctx ? ctx->seed : local_random();
}

/* ------------------------------------------------------------------ */
/* Input                                                                */
/* ------------------------------------------------------------------ */

int phx_ft_input(int (*fn)(void *arg, uint8_t **data, size_t *len),
                 void *arg, uint8_t **data, size_t *len)
{
    if (fn == NULL || data == NULL || len == NULL)
        return PHX_EINVAL;
    phx_ft_nd_ctx_t *ctx = cur;
    if (ctx == NULL)
        return fn(arg, data, len);
    *data = NULL;
    *len = 0;
    switch (ctx->mode) {
    case PHX_FT_ND_FIXED:
        return ctx->allow_input ? fn(arg, data, len) : PHX_EUNSUPPORTED;
    case PHX_FT_ND_RECORD: {
        int32_t rc = fn(arg, data, len);
        if (rc != 0 || *len > UINT32_MAX) {
            if (rc == 0) {
                free(*data);
                rc = PHX_ELIMIT;
            }
            *data = NULL;
            *len = 0;
        }
        uint32_t l = (uint32_t)*len;
        uint8_t k = 'I';
        log_put(ctx, &k, 1);
        log_put(ctx, &rc, 4);
        log_put(ctx, &l, 4);
        if (l)
            log_put(ctx, *data, l);
        return rc;
    }
    case PHX_FT_ND_REPLAY: {
        int32_t rc;
        uint32_t l;
        if (!replay_event(ctx, 'I', "input") || !log_get(ctx, &rc, 4) ||
            !log_get(ctx, &l, 4) || ctx->log_pos + l > ctx->log_len) {
            if (!ctx->diverged)
                diverge(ctx, "input", 'I');
            return PHX_EIO;
        }
        if (rc == 0) {
            *data = malloc(l ? l : 1);
            if (*data == NULL)
                return PHX_ENOMEM;
            memcpy(*data, ctx->log + ctx->log_pos, l);
            *len = l;
        }
        ctx->log_pos += l;
        return rc;
    }
    }
    return PHX_EINVAL;
}

/* ------------------------------------------------------------------ */
/* Mutexes                                                              */
/* ------------------------------------------------------------------ */

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static phx_ft_mutex_t *table;
static uint64_t next_anon = 1;
/* Counts from a state transfer for mutexes not created yet. */
static uint64_t *pending;
static size_t n_pending;
static atomic_uint_fast64_t next_g;

uint64_t phx_ft_nd_next_g(void)
{
    return atomic_load(&next_g);
}

static uint64_t name_id(const char *name)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        h = (h ^ *p) * 0x100000001b3ULL;
    return h & ~(1ULL << 63);
}

int phx_ft_mutex_init(phx_ft_mutex_t *m, const char *name)
{
    if (m == NULL)
        return PHX_EINVAL;
    memset(m, 0, sizeof *m);
    pthread_mutex_init(&m->m, NULL);
    pthread_mutex_init(&m->tlock, NULL);
    pthread_cond_init(&m->turn, NULL);
    pthread_mutex_lock(&table_lock);
    m->id = name ? name_id(name) : (1ULL << 63) | next_anon++;
    for (size_t i = 0; i < n_pending; i++)
        if (pending[2 * i] == m->id) {
            m->acq = pending[2 * i + 1];
            pending[2 * i] = pending[2 * (n_pending - 1)];
            pending[2 * i + 1] = pending[2 * (n_pending - 1) + 1];
            n_pending--;
            break;
        }
    m->next = table;
    table = m;
    pthread_mutex_unlock(&table_lock);
    return PHX_OK;
}

int phx_ft_mutex_destroy(phx_ft_mutex_t *m)
{
    if (m == NULL)
        return PHX_EINVAL;
    pthread_mutex_lock(&table_lock);
    for (phx_ft_mutex_t **pp = &table; *pp; pp = &(*pp)->next)
        if (*pp == m) {
            *pp = m->next;
            break;
        }
    if (table == NULL) {
        free(pending);
        pending = NULL;
        n_pending = 0;
    }
    pthread_mutex_unlock(&table_lock);
    pthread_mutex_destroy(&m->m);
    pthread_mutex_destroy(&m->tlock);
    pthread_cond_destroy(&m->turn);
    return PHX_OK;
}

/* The mutex is held: count the acquisition (RECORD: log it). */
static void record_acquired(phx_ft_nd_ctx_t *ctx, phx_ft_mutex_t *m)
{
    pthread_mutex_lock(&m->tlock);
    uint64_t n = m->acq++;
    pthread_mutex_unlock(&m->tlock);
    uint64_t g = atomic_fetch_add(&next_g, 1);
    if (ctx->max_g == UINT64_MAX || g > ctx->max_g)
        ctx->max_g = g;
    if (ctx->n_gs == ctx->cap_gs) {
        size_t cap = ctx->cap_gs ? 2 * ctx->cap_gs : 8;
        uint64_t *gs = realloc(ctx->gs, cap * sizeof *gs);
        if (gs == NULL)
            ctx->failed = true;
        else {
            ctx->gs = gs;
            ctx->cap_gs = cap;
        }
    }
    if (ctx->n_gs < ctx->cap_gs)
        ctx->gs[ctx->n_gs++] = g;
    uint8_t k = 'L';
    log_put(ctx, &k, 1);
    log_put(ctx, &m->id, 8);
    log_put(ctx, &n, 8);
}

/* REPLAY: take m at the acquisition number the log gives. */
static void replay_acquire(phx_ft_nd_ctx_t *ctx, phx_ft_mutex_t *m)
{
    uint64_t id, n;
    if (!replay_event(ctx, 'L', "a mutex") || !log_get(ctx, &id, 8) ||
        !log_get(ctx, &n, 8) || id != m->id) {
        if (!ctx->diverged) {
            ctx->diverged = true;
            snprintf(ctx->why, sizeof ctx->why,
                     "replay: servant locked mutex %llx, the leader's log "
                     "has another mutex or event",
                     (unsigned long long)m->id);
        }
        pthread_mutex_lock(&m->m);
        return;
    }
    pthread_mutex_lock(&m->tlock);
    while (m->acq != n) {
        if (m->acq > n) {
            /* Already past: the log cannot be followed. */
            if (!ctx->diverged) {
                ctx->diverged = true;
                snprintf(ctx->why, sizeof ctx->why,
                         "replay: mutex %llx acquisition %llu is past "
                         "(at %llu)",
                         (unsigned long long)m->id, (unsigned long long)n,
                         (unsigned long long)m->acq);
            }
            break;
        }
        pthread_cond_wait(&m->turn, &m->tlock);
    }
    pthread_mutex_unlock(&m->tlock);
    pthread_mutex_lock(&m->m);
    pthread_mutex_lock(&m->tlock);
    if (m->acq == n)
        m->acq++;
    pthread_cond_broadcast(&m->turn);
    pthread_mutex_unlock(&m->tlock);
}

int phx_ft_mutex_lock(phx_ft_mutex_t *m)
{
    if (m == NULL)
        return PHX_EINVAL;
    phx_ft_nd_ctx_t *ctx = cur;
    if (ctx == NULL || ctx->mode == PHX_FT_ND_FIXED)
        return pthread_mutex_lock(&m->m) == 0 ? PHX_OK : PHX_EINVAL;
    if (ctx->mode == PHX_FT_ND_REPLAY) {
        replay_acquire(ctx, m);
        return PHX_OK;
    }
    pthread_mutex_lock(&m->m);
    record_acquired(ctx, m);
    return PHX_OK;
}

int phx_ft_mutex_unlock(phx_ft_mutex_t *m)
{
    if (m == NULL)
        return PHX_EINVAL;
    return pthread_mutex_unlock(&m->m) == 0 ? PHX_OK : PHX_EINVAL;
}

int phx_ft_nd_mutex_counts(uint8_t **data, size_t *len)
{
    pthread_mutex_lock(&table_lock);
    size_t n = 0;
    for (phx_ft_mutex_t *m = table; m; m = m->next)
        n++;
    uint64_t *b = malloc((2 * n + 1) * sizeof *b);
    if (b == NULL) {
        pthread_mutex_unlock(&table_lock);
        return PHX_ENOMEM;
    }
    size_t i = 0;
    for (phx_ft_mutex_t *m = table; m; m = m->next) {
        pthread_mutex_lock(&m->tlock);
        b[i++] = m->id;
        b[i++] = m->acq;
        pthread_mutex_unlock(&m->tlock);
    }
    pthread_mutex_unlock(&table_lock);
    *data = (uint8_t *)b;
    *len = i * sizeof *b;
    return PHX_OK;
}

int phx_ft_nd_set_mutex_counts(const uint8_t *data, size_t len)
{
    if (len % 16)
        return PHX_EINVAL;
    size_t n = len / 16;
    pthread_mutex_lock(&table_lock);
    for (size_t i = 0; i < n; i++) {
        uint64_t id, acq;
        memcpy(&id, data + 16 * i, 8);
        memcpy(&acq, data + 16 * i + 8, 8);
        bool found = false;
        for (phx_ft_mutex_t *m = table; m; m = m->next)
            if (m->id == id) {
                pthread_mutex_lock(&m->tlock);
                m->acq = acq;
                pthread_cond_broadcast(&m->turn);
                pthread_mutex_unlock(&m->tlock);
                found = true;
            }
        if (found)
            continue;
        uint64_t *p = realloc(pending, (n_pending + 1) * 2 * sizeof *p);
        if (p == NULL) {
            pthread_mutex_unlock(&table_lock);
            return PHX_ENOMEM;
        }
        pending = p;
        pending[2 * n_pending] = id;
        pending[2 * n_pending + 1] = acq;
        n_pending++;
    }
    pthread_mutex_unlock(&table_lock);
    return PHX_OK;
}

/* ------------------------------------------------------------------ */
/* Condition variables                                                  */
/* ------------------------------------------------------------------ */

int phx_ft_cond_init(phx_ft_cond_t *c)
{
    if (c == NULL)
        return PHX_EINVAL;
    return pthread_cond_init(&c->c, NULL) == 0 ? PHX_OK : PHX_ENOMEM;
}

int phx_ft_cond_destroy(phx_ft_cond_t *c)
{
    if (c == NULL)
        return PHX_EINVAL;
    pthread_cond_destroy(&c->c);
    return PHX_OK;
}

int phx_ft_cond_signal(phx_ft_cond_t *c)
{
    return c && pthread_cond_signal(&c->c) == 0 ? PHX_OK : PHX_EINVAL;
}

int phx_ft_cond_broadcast(phx_ft_cond_t *c)
{
    return c && pthread_cond_broadcast(&c->c) == 0 ? PHX_OK : PHX_EINVAL;
}

static int cond_wait(phx_ft_cond_t *c, phx_ft_mutex_t *m,
                     const struct timespec *abstime)
{
    if (c == NULL || m == NULL)
        return EINVAL;
    phx_ft_nd_ctx_t *ctx = cur;
    if (ctx == NULL || ctx->mode == PHX_FT_ND_FIXED)
        return abstime ? pthread_cond_timedwait(&c->c, &m->m, abstime)
                       : pthread_cond_wait(&c->c, &m->m);
    if (ctx->mode == PHX_FT_ND_REPLAY) {
        /* Release, then take the mutex back at the acquisition number the
         * leader's waiter had, and return the leader's outcome: the state
         * seen under the mutex is then the leader's. */
        pthread_mutex_unlock(&m->m);
        replay_acquire(ctx, m);
        int32_t rc = 0;
        if (!replay_event(ctx, 'W', "a wait outcome") ||
            !log_get(ctx, &rc, 4))
            rc = abstime ? ETIMEDOUT : 0;
        return rc;
    }
    int rc;
    if (abstime) {
        /* Group time to the wall clock. */
        uint64_t want = (uint64_t)abstime->tv_sec * NS_PER_S +
                        (uint64_t)abstime->tv_nsec;
        uint64_t now = phx_ft_nd_wall_ns();
        uint64_t g = phx_ft_group_clock_last(ctx->clock);
        if (g > now)
            now = g;
        uint64_t left = want > now ? want - now : 0;
        struct timespec dl;
        ns_to_ts(phx_ft_nd_wall_ns() + left, &dl);
        rc = pthread_cond_timedwait(&c->c, &m->m, &dl);
    } else {
        rc = pthread_cond_wait(&c->c, &m->m);
    }
    record_acquired(ctx, m);
    int32_t r32 = rc;
    uint8_t k = 'W';
    log_put(ctx, &k, 1);
    log_put(ctx, &r32, 4);
    return rc;
}

int phx_ft_cond_wait(phx_ft_cond_t *c, phx_ft_mutex_t *m)
{
    return cond_wait(c, m, NULL);
}

int phx_ft_cond_timedwait(phx_ft_cond_t *c, phx_ft_mutex_t *m,
                          const struct timespec *abstime)
{
    if (abstime == NULL)
        return EINVAL;
    return cond_wait(c, m, abstime);
}

/* ------------------------------------------------------------------ */
/* Nested invocations                                                   */
/* ------------------------------------------------------------------ */

/* The identity of the nested call the thread is making (phx_ft_call). */
static _Thread_local const phx_ft_request_ctx_t *nested;

bool phx__ft_nested_identity(phx_ft_request_ctx_t *out)
{
    if (nested == NULL)
        return false;
    *out = *nested;
    return true;
}

enum { OUT_REPLY = 0, OUT_SYSTEM = 1, OUT_USER = 2 };

/* The outcome of a call as a CDR encapsulation (malloc'd), NULL when it
 * cannot be encoded. */
static uint8_t *outcome_encode(const phx_opdesc_t *op, void *const *args,
                               const void *result, int rc,
                               const phx_env_t *env, size_t *len)
{
    phx_cdr_writer_t w;
    phx_cdr_writer_init(&w, 64);
    phx_cdr_put_octet(&w, PHX_CDR_NATIVE);
    if (rc == PHX_OK) {
        phx_cdr_put_octet(&w, OUT_REPLY);
        phx_op_put_results(&w, op, args, result);
    } else if (env->major == PHX_USER_EXCEPTION) {
        phx_cdr_put_octet(&w, OUT_USER);
        phx_cdr_put_string(&w, env->repo_id ? env->repo_id : "");
        bool has = env->user_tc != NULL;
        phx_cdr_put_octet(&w, has ? 1 : 0);
        if (has) {
            if (env->user_value)
                phx_cdr_put_value(&w, env->user_tc, env->user_value);
            else {
                /* A zeroed value of the exception's type. */
                size_t sz = phx_typecode_c_size(env->user_tc);
                void *z = calloc(1, sz ? sz : 1);
                if (z == NULL) {
                    phx_cdr_writer_fini(&w);
                    return NULL;
                }
                phx_cdr_put_value(&w, env->user_tc, z);
                free(z);
            }
        }
    } else {
        phx_cdr_put_octet(&w, OUT_SYSTEM);
        phx_cdr_put_string(&w, env->repo_id ? env->repo_id
                                            : phx_sysex_repo_id(env->sysex));
        phx_cdr_put_ulong(&w, env->minor);
        phx_cdr_put_ulong(&w, (uint32_t)env->completed);
    }
    uint8_t *buf = phx_cdr_writer_status(&w) == PHX_OK
                       ? phx_cdr_writer_steal(&w, len)
                       : NULL;
    phx_cdr_writer_fini(&w);
    return buf;
}

/* The user exception listed in op->raises with this repository id. */
static const phx_typecode_t *find_raise(const phx_opdesc_t *op,
                                        const char *id)
{
    for (uint32_t i = 0; i < op->raise_count; i++) {
        const char *rid = op->raises[i]->repo_id;
        if (rid && strcmp(rid, id) == 0)
            return op->raises[i];
    }
    return NULL;
}

/* Give the caller the recorded outcome (REPLAY). */
static int outcome_decode(const uint8_t *p, size_t len,
                          const phx_opdesc_t *op, void *const *args,
                          void *result, phx_env_t *env)
{
    phx_cdr_reader_t r;
    uint8_t kind = 0xff;
    if (phx_cdr_reader_init_encap(&r, p, len) != PHX_OK ||
        phx_cdr_get_octet(&r, &kind) != PHX_OK)
        goto bad;
    if (kind == OUT_REPLY) {
        /* inout values are replaced: free the old ones as the engine
         * does on success. */
        void *tmp[op->param_count ? op->param_count : 1];
        for (uint32_t i = 0; i < op->param_count; i++)
            tmp[i] = NULL;
        /* Decode into fresh storage first, so that a malformed record
         * leaves the inout values as they were. */
        bool ok = true;
        for (uint32_t i = 0; i < op->param_count && ok; i++) {
            if (op->params[i].mode == PHX_PARAM_IN || args[i] == NULL)
                continue;
            size_t sz = phx_typecode_c_size(op->params[i].type);
            tmp[i] = calloc(1, sz ? sz : 1);
            ok = tmp[i] != NULL;
        }
        size_t rsz = phx_typecode_c_size(op->result);
        void *res = result ? calloc(1, rsz ? rsz : 1) : NULL;
        if (ok && (result == NULL || res != NULL))
            ok = phx_op_get_results(&r, op, tmp, res) == PHX_OK;
        else
            ok = false;
        if (!ok) {
            for (uint32_t i = 0; i < op->param_count; i++)
                free(tmp[i]);
            free(res);
            goto bad;
        }
        for (uint32_t i = 0; i < op->param_count; i++) {
            if (tmp[i] == NULL)
                continue;
            size_t sz = phx_typecode_c_size(op->params[i].type);
            if (op->params[i].mode == PHX_PARAM_INOUT)
                phx_value_free(op->params[i].type, args[i]);
            memcpy(args[i], tmp[i], sz);
            free(tmp[i]);
        }
        if (result)
            memcpy(result, res, rsz);
        free(res);
        return PHX_OK;
    }
    const char *id = NULL;
    size_t idn = 0;
    if (phx_cdr_get_string(&r, &id, &idn) != PHX_OK)
        goto bad;
    char *rid = strndup(id, idn);
    if (rid == NULL)
        return phx_env_system(env, PHX_SYSEX_NO_MEMORY, 0, PHX_COMPLETED_NO,
                              "replayed nested call: out of memory");
    if (kind == OUT_SYSTEM) {
        uint32_t minor = 0, completed = 0;
        phx_cdr_get_ulong(&r, &minor);
        phx_cdr_get_ulong(&r, &completed);
        if (phx_cdr_reader_status(&r) != PHX_OK) {
            free(rid);
            goto bad;
        }
        int rc = phx_env_system_id(env, rid, minor,
                                   (phx_completion_t)completed);
        free(rid);
        return rc;
    }
    if (kind == OUT_USER) {
        uint8_t has = 0;
        phx_cdr_get_octet(&r, &has);
        const phx_typecode_t *tc = find_raise(op, rid);
        if (phx_cdr_reader_status(&r) != PHX_OK || (has && tc == NULL)) {
            free(rid);
            goto bad;
        }
        void *v = NULL;
        if (has) {
            size_t sz = phx_typecode_c_size(tc);
            v = calloc(1, sz ? sz : 1);
            if (v == NULL || phx_cdr_get_value(&r, tc, v) != PHX_OK) {
                free(v);
                free(rid);
                goto bad;
            }
        }
        free(rid);
        if (tc != NULL)
            return phx_env_user(env, tc, v);
        /* Not listed in op->raises: known by its id only. */
        return phx_env_system(env, PHX_SYSEX_UNKNOWN, 0,
                              PHX_COMPLETED_YES,
                              "replayed nested call: user exception %.*s",
                              (int)idn, id);
    }
    free(rid);
bad:
    return phx_env_system(env, PHX_SYSEX_INTERNAL, 0, PHX_COMPLETED_MAYBE,
                          "replayed nested call: the leader's record of "
                          "'%s' is malformed",
                          op->name);
}

int phx_ft_call(struct phx_object *obj, const struct phx_opdesc *op,
                void *const *args, void *result, struct phx_env *env)
{
    phx_ft_nd_ctx_t *ctx = cur;
    if (ctx == NULL)
        return phx_op_invoke(obj, op, args, result, env);
    uint32_t index = ctx->calls++;

    if (ctx->mode == PHX_FT_ND_REPLAY) {
        uint32_t l;
        if (!replay_event(ctx, 'C', "a nested call") ||
            !log_get(ctx, &l, 4) || ctx->log_pos + l > ctx->log_len) {
            if (!ctx->diverged)
                diverge(ctx, "a nested call", 'C');
            return phx_env_system(env, PHX_SYSEX_INTERNAL, 0,
                                  PHX_COMPLETED_NO,
                                  "replay: no nested call '%s' in the "
                                  "leader's log",
                                  op->name);
        }
        const uint8_t *p = ctx->log + ctx->log_pos;
        ctx->log_pos += l;
        return outcome_decode(p, l, op, args, result, env);
    }

    /* The deterministic identity: "<client id>/<retention id>", the
     * call's index, the request's expiration. */
    char stack[256];
    char *id = NULL;
    phx_ft_request_ctx_t rq;
    const phx_ft_request_ctx_t *saved = nested;
    if (ctx->req_client_id != NULL) {
        size_t cap = ctx->req_client_id_len + 16;
        id = cap <= sizeof stack ? stack : malloc(cap);
        if (id == NULL)
            return phx_env_system(env, PHX_SYSEX_NO_MEMORY, 0,
                                  PHX_COMPLETED_NO,
                                  "nested call: out of memory");
        int n = snprintf(id, cap, "%.*s/%d", (int)ctx->req_client_id_len,
                         ctx->req_client_id, (int)ctx->req_retention_id);
        rq.client_id = id;
        rq.client_id_len = (size_t)n;
        rq.retention_id = (int32_t)index;
        rq.expiration_time = ctx->req_expiration;
        nested = &rq;
    }
    /* The callee does not run in this request's context (a collocated
     * callee executes on this thread). */
    cur = NULL;
    int rc = phx_op_invoke(obj, op, args, result, env);
    cur = ctx;
    nested = saved;
    if (id != stack)
        free(id);

    if (ctx->mode == PHX_FT_ND_RECORD) {
        size_t l = 0;
        uint8_t *o = outcome_encode(op, args, result, rc, env, &l);
        if (o == NULL || l > UINT32_MAX) {
            ctx->failed = true;
        } else {
            uint32_t l32 = (uint32_t)l;
            uint8_t k = 'C';
            log_put(ctx, &k, 1);
            log_put(ctx, &l32, 4);
            log_put(ctx, o, l);
        }
        free(o);
    }
    return rc;
}
