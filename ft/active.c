/*
 * active.c - ACTIVE replication (include/phx/ft.h, docs/ft.md): requests
 * carrying FT_REQUEST are multicast in total order through the GCS and
 * executed by every replica in delivery order; each replica keeps every
 * reply in its reply cache, so the replica a client reaches answers once
 * it has executed the request itself, and a retry on any replica is
 * answered from its cache instead of running twice.
 *
 * Threads: ORB workers run the interceptor (look the cache up, queue the
 * request for multicast, wait for its execution); one dispatch thread
 * owns the GCS handle (join, multicast, dispatch), and its deliver
 * callback executes the requests and wakes the waiting workers.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <phx/ft.h>
#include <phx/ft_nd.h>
#include <phx/gcs.h>
#include <phx/interceptor.h>

#include "ft/ft_int.h"

/* The reply cache owner of the executions done by the deliver callback. */
#define OWNER_DELIVER ((uintptr_t)1)
/* The owner of the look-ups done by workers (begun and abandoned at once
 * under the lock, never left in progress). */
#define OWNER_LOOKUP ((uintptr_t)2)

/* A worker waiting for the execution of one request. */
typedef struct waiter {
    struct waiter *next;
    const char *client_id;      /* borrowed from the worker's request */
    size_t client_id_len;
    int32_t retention_id;
    bool done;
    bool failed;
    uint32_t status;
    uint8_t *body;
    size_t len;
} waiter_t;

/* A request waiting for the dispatch thread to multicast it. */
typedef struct outmsg {
    struct outmsg *next;
    uint8_t *data;
    size_t len;
} outmsg_t;

struct phx_ft_active {
    phx_orb_t *orb;
    uint8_t *key;
    size_t key_len;
    phx_ft_active_config_t cfg;
    char *group;
    phx_gcs_t *gcs;
    phx_ft_reply_cache_t *cache;
    phx_server_interceptor_t si;

    pthread_mutex_t lock;       /* everything below, and the cache */
    pthread_cond_t cond;        /* a waiter was served, or shut down */
    waiter_t *waiters;
    outmsg_t *out_head, *out_tail;
    bool stopping;
    bool stopped;
    bool thread_started;
    pthread_t thread;
    int wake_fd;
    phx_ft_active_stats_t stats;
    /* The group time of the last delivered request (ft_nd.h): part of
     * the replicated state. */
    uint64_t last_ns;

    /* The state transfer being received (dispatch thread only). */
    phx__ft_state_rx_t st;
};

/* ------------------------------------------------------------------ */
/* The multicast record                                                 */
/* ------------------------------------------------------------------ */
/*
 * A CDR encapsulation: byte-order octet, sequence<octet> client id, long
 * retention id, unsigned long long expiration time, octet request byte
 * order, sequence<octet> operation, sequence<octet> body, unsigned long
 * long proposed time (the multicasting replica's clock, ns since the Unix
 * epoch), unsigned long long random seed.  At delivery every replica
 * executes with group time max(proposed, last + 1 us) and that seed
 * (<phx/ft_nd.h>).
 */
typedef struct record {
    const char *client_id;
    size_t client_id_len;
    int32_t retention_id;
    uint64_t expiration;
    int byte_order;
    const char *op;
    size_t op_len;
    const uint8_t *body;
    size_t body_len;
    uint64_t time_ns;
    uint64_t seed;
} record_t;

static uint8_t *record_encode(const record_t *r, size_t *len)
{
    phx_cdr_writer_t w;
    phx_cdr_writer_init(&w, 64 + r->client_id_len + r->op_len + r->body_len);
    phx_cdr_put_octet(&w, PHX_CDR_NATIVE);
    phx_cdr_put_octet_seq(&w, r->client_id, r->client_id_len);
    phx_cdr_put_long(&w, r->retention_id);
    phx_cdr_put_ulonglong(&w, r->expiration);
    phx_cdr_put_octet(&w, (uint8_t)r->byte_order);
    phx_cdr_put_octet_seq(&w, r->op, r->op_len);
    phx_cdr_put_octet_seq(&w, r->body, r->body_len);
    phx_cdr_put_ulonglong(&w, r->time_ns);
    phx_cdr_put_ulonglong(&w, r->seed);
    uint8_t *buf = phx_cdr_writer_status(&w) == PHX_OK
                       ? phx_cdr_writer_steal(&w, len)
                       : NULL;
    phx_cdr_writer_fini(&w);
    return buf;
}

static bool record_decode(const void *msg, size_t len, record_t *out)
{
    phx_cdr_reader_t r;
    const uint8_t *id, *op;
    uint8_t order = 0;
    if (phx_cdr_reader_init_encap(&r, msg, len) != PHX_OK)
        return false;
    phx_cdr_get_octet_seq(&r, &id, &out->client_id_len);
    phx_cdr_get_long(&r, &out->retention_id);
    phx_cdr_get_ulonglong(&r, &out->expiration);
    phx_cdr_get_octet(&r, &order);
    phx_cdr_get_octet_seq(&r, &op, &out->op_len);
    phx_cdr_get_octet_seq(&r, &out->body, &out->body_len);
    phx_cdr_get_ulonglong(&r, &out->time_ns);
    phx_cdr_get_ulonglong(&r, &out->seed);
    out->client_id = (const char *)id;
    out->op = (const char *)op;
    out->byte_order = order;
    return phx_cdr_reader_status(&r) == PHX_OK &&
           phx_cdr_reader_remaining(&r) == 0 && out->client_id_len > 0 &&
           out->op_len > 0 && memchr(out->op, '\0', out->op_len) == NULL;
}

/* ------------------------------------------------------------------ */
/* Execution (dispatch thread)                                          */
/* ------------------------------------------------------------------ */

/* Hand a reply to every worker waiting for this request.  Lock held. */
static void serve_waiters(phx_ft_active_t *a, const record_t *r,
                          bool failed, uint32_t status, const uint8_t *body,
                          size_t len)
{
    for (waiter_t *w = a->waiters; w; w = w->next) {
        if (w->done || w->retention_id != r->retention_id ||
            w->client_id_len != r->client_id_len ||
            memcmp(w->client_id, r->client_id, r->client_id_len) != 0)
            continue;
        w->done = true;
        w->failed = failed;
        w->status = status;
        if (!failed && len) {
            w->body = malloc(len);
            if (w->body == NULL)
                w->failed = true;
            else
                memcpy(w->body, body, len);
        }
        w->len = w->body ? len : 0;
    }
    pthread_cond_broadcast(&a->cond);
}

static void on_deliver(phx_gcs_t *gcs, const char *group,
                       const phx_gcs_member_t *sender, const void *msg,
                       size_t len, void *arg)
{
    (void)gcs;
    (void)group;
    (void)sender;
    phx_ft_active_t *a = arg;
    record_t r;
    if (!record_decode(msg, len, &r))
        return;

    pthread_mutex_lock(&a->lock);
    /* Every replica computes the same group time from the same delivered
     * sequence (duplicates included). */
    uint64_t gtime = phx_ft_nd_group_time(r.time_ns, a->last_ns);
    a->last_ns = gtime;
    phx_ft_cached_reply_t cached = {0, NULL, 0};
    int res = phx_ft_reply_cache_begin(a->cache, r.client_id,
                                       r.client_id_len, r.retention_id,
                                       r.expiration, OWNER_DELIVER, &cached);
    if (res == PHX_FT_CACHE_HIT) {
        a->stats.duplicates++;
        serve_waiters(a, &r, false, cached.reply_status, cached.body,
                      cached.len);
        pthread_mutex_unlock(&a->lock);
        phx_ft_cached_reply_fini(&cached);
        return;
    }
    pthread_mutex_unlock(&a->lock);

    /* Every replica executes the request, whether it could keep the reply
     * (MISS) or not (FULL, an error): the servants must stay identical. */
    char *op = malloc(r.op_len + 1);
    uint8_t *body = malloc(r.body_len ? r.body_len : 1);
    uint32_t status = 0;
    uint8_t *reply = NULL;
    size_t reply_len = 0;
    bool ok = false;
    if (op && body) {
        memcpy(op, r.op, r.op_len);
        op[r.op_len] = '\0';
        if (r.body_len)
            memcpy(body, r.body, r.body_len);
        /* phx_ft_input is not available under ACTIVE; requests run one at
         * a time here, so phx_ft_mutex needs no ordering. */
        phx_ft_nd_ctx_t nd;
        phx_ft_nd_begin_fixed(&nd, gtime, r.seed, false);
        phx_ft_nd_set_request(&nd, r.client_id, r.client_id_len,
                              r.retention_id, r.expiration);
        ok = phx_orb_invoke_local(a->orb, a->key, a->key_len, op, body,
                                  r.body_len, r.byte_order, &status, &reply,
                                  &reply_len, NULL) == PHX_OK;
        phx_ft_nd_end(&nd);
        pthread_mutex_lock(&a->lock);
        if (phx_ft_nd_last(&nd) > a->last_ns)
            a->last_ns = phx_ft_nd_last(&nd);
        pthread_mutex_unlock(&a->lock);
        phx_ft_nd_ctx_fini(&nd);
    }
    free(op);
    free(body);

    pthread_mutex_lock(&a->lock);
    a->stats.executed++;
    if (res == PHX_FT_CACHE_MISS) {
        if (ok)
            phx_ft_reply_cache_complete(a->cache, r.client_id,
                                        r.client_id_len, r.retention_id,
                                        OWNER_DELIVER, status, reply,
                                        reply_len);
        else
            phx_ft_reply_cache_abandon(a->cache, r.client_id,
                                       r.client_id_len, r.retention_id,
                                       OWNER_DELIVER);
    }
    serve_waiters(a, &r, !ok, status, reply, reply_len);
    pthread_mutex_unlock(&a->lock);
    free(reply);
}

static void on_view(phx_gcs_t *gcs, const char *group,
                    const phx_gcs_view_t *view, void *arg)
{
    (void)gcs;
    (void)group;
    phx_ft_active_t *a = arg;
    if (a->cfg.view_change)
        a->cfg.view_change(a->cfg.arg, view);
    /* A founder has the state at once; a joiner once the transfer that
     * follows its join view is in. */
    if (a->cfg.state_ready && view->primary && view->n_members == 1 &&
        phx__ft_view_joined_self(gcs, view))
        a->cfg.state_ready(a->cfg.arg);
}

/*
 * The state of a replica: u32 length of the reply cache serialization,
 * that serialization, then the servant's state (the rest).
 */
static int on_get_state(phx_gcs_t *gcs, const char *group,
                        phx_gcs_state_writer_t *w, void *arg)
{
    (void)gcs;
    (void)group;
    phx_ft_active_t *a = arg;
    phx_cdr_writer_t cw;
    phx_cdr_writer_init(&cw, 0);
    pthread_mutex_lock(&a->lock);
    int rc = phx_ft_reply_cache_serialize(a->cache, &cw);
    pthread_mutex_unlock(&a->lock);
    size_t clen = 0;
    uint8_t *cbuf = rc == PHX_OK ? phx_cdr_writer_steal(&cw, &clen) : NULL;
    phx_cdr_writer_fini(&cw);
    if (cbuf == NULL || clen > UINT32_MAX) {
        free(cbuf);
        return -1;
    }
    uint8_t *user = NULL;
    size_t ulen = 0;
    if (a->cfg.get_state && a->cfg.get_state(a->cfg.arg, &user, &ulen)) {
        free(cbuf);
        return -1;
    }
    /* The group time goes first (8 bytes, native order). */
    uint8_t *full = malloc(8 + ulen);
    if (full == NULL) {
        free(cbuf);
        free(user);
        return -1;
    }
    pthread_mutex_lock(&a->lock);
    memcpy(full, &a->last_ns, 8);
    pthread_mutex_unlock(&a->lock);
    if (ulen)
        memcpy(full + 8, user, ulen);
    rc = phx__ft_state_send(w, cbuf, clen, full, 8 + ulen);
    free(cbuf);
    free(user);
    free(full);
    return rc;
}

static void on_set_state(phx_gcs_t *gcs, const char *group,
                         const void *chunk, size_t len, unsigned flags,
                         void *arg)
{
    (void)gcs;
    (void)group;
    phx_ft_active_t *a = arg;
    const uint8_t *cbuf, *user;
    size_t clen, ulen;
    if (!phx__ft_state_rx_add(&a->st, chunk, len, flags)) {
        /* An empty or unusable transfer still ends the wait: the replica
         * keeps the state it started with. */
        if ((flags & PHX_GCS_STATE_LAST) && a->cfg.state_ready)
            a->cfg.state_ready(a->cfg.arg);
        return;
    }
    if (phx__ft_state_split(a->st.buf, a->st.len, &cbuf, &clen, &user,
                            &ulen) &&
        ulen >= 8) {
        uint64_t last;
        memcpy(&last, user, 8);
        pthread_mutex_lock(&a->lock);
        phx_ft_reply_cache_deserialize(a->cache, cbuf, clen, NULL);
        if (last > a->last_ns)
            a->last_ns = last;
        pthread_mutex_unlock(&a->lock);
        if (a->cfg.set_state)
            a->cfg.set_state(a->cfg.arg, user + 8, ulen - 8);
    }
    if (a->cfg.state_ready)
        a->cfg.state_ready(a->cfg.arg);
}

/* ------------------------------------------------------------------ */
/* Dispatch thread                                                      */
/* ------------------------------------------------------------------ */

static void drain_fd(int fd)
{
    uint64_t v;
    while (read(fd, &v, sizeof v) == (ssize_t)sizeof v)
        ;
}

static void *dispatch_main(void *arg)
{
    phx_ft_active_t *a = arg;
    for (;;) {
        pthread_mutex_lock(&a->lock);
        bool stop = a->stopping;
        outmsg_t *out = a->out_head;
        a->out_head = a->out_tail = NULL;
        pthread_mutex_unlock(&a->lock);
        if (stop) {
            while (out) {
                outmsg_t *n = out->next;
                free(out->data);
                free(out);
                out = n;
            }
            break;
        }
        /* Multicast what the workers queued.  A message refused for flow
         * control goes back to the head of the queue for the next round;
         * one refused for good (outside the primary component, ...) is
         * dropped and its waiter told at once, so that its client retries
         * on another replica. */
        bool again = false;
        while (out) {
            int rc = phx_gcs_multicast(a->gcs, a->group, out->data,
                                       out->len, NULL);
            if (rc == PHX_EAGAIN) {
                outmsg_t *last = out;
                while (last->next)
                    last = last->next;
                pthread_mutex_lock(&a->lock);
                last->next = a->out_head;
                if (a->out_head == NULL)
                    a->out_tail = last;
                a->out_head = out;
                pthread_mutex_unlock(&a->lock);
                again = true;
                break;
            }
            record_t r;
            if (rc != PHX_OK && record_decode(out->data, out->len, &r)) {
                pthread_mutex_lock(&a->lock);
                serve_waiters(a, &r, true, 0, NULL, 0);
                pthread_mutex_unlock(&a->lock);
            }
            outmsg_t *n = out->next;
            free(out->data);
            free(out);
            out = n;
        }
        struct pollfd pf[2] = {{phx_gcs_fd(a->gcs), POLLIN, 0},
                               {a->wake_fd, POLLIN, 0}};
        if (poll(pf, 2, again ? 1 : 200) < 0 && errno != EINTR)
            break;
        if (pf[1].revents & POLLIN)
            drain_fd(a->wake_fd);
        if (phx_gcs_dispatch(a->gcs, 0, NULL) < 0)
            break;
    }
    pthread_mutex_lock(&a->lock);
    a->stopped = true;
    for (waiter_t *w = a->waiters; w; w = w->next)
        if (!w->done) {
            w->done = true;
            w->failed = true;
        }
    pthread_cond_broadcast(&a->cond);
    pthread_mutex_unlock(&a->lock);
    return NULL;
}

static void wake(phx_ft_active_t *a)
{
    uint64_t one = 1;
    ssize_t n = write(a->wake_fd, &one, sizeof one);
    (void)n;
}

/* ------------------------------------------------------------------ */
/* Server interceptor (ORB workers)                                     */
/* ------------------------------------------------------------------ */

static int transient(phx_env_t *env, const char *why)
{
    return phx_env_system(env, PHX_SYSEX_TRANSIENT, 0, PHX_COMPLETED_MAYBE,
                          "active replication: %s", why);
}

static int active_receive(void *arg, phx_server_ri_t *ri, phx_env_t *env)
{
    phx_ft_active_t *a = arg;
    const phx_service_context_t *sc =
        phx_server_ri_request_context(ri, PHX_SC_FT_REQUEST);
    if (sc == NULL)
        return PHX_OK;
    size_t klen;
    const uint8_t *key = phx_server_ri_object_key(ri, &klen);
    if (klen != a->key_len || memcmp(key, a->key, klen) != 0)
        return PHX_OK;
    phx_ft_request_ctx_t c;
    phx_error_t err;
    if (phx_ft_request_ctx_decode(sc->data, sc->len, &c, &err) != PHX_OK ||
        c.client_id_len == 0)
        return phx_env_system(env, PHX_SYSEX_BAD_PARAM,
                              PHX_VMCID | PHX_FT_MINOR_BAD_CONTEXT,
                              PHX_COMPLETED_NO, "FT_REQUEST: %s",
                              c.client_id_len ? err.msg : "no client id");

    /* Executed here before: answer from the cache. */
    pthread_mutex_lock(&a->lock);
    phx_ft_cached_reply_t cached = {0, NULL, 0};
    int res = phx_ft_reply_cache_begin(a->cache, c.client_id,
                                       c.client_id_len, c.retention_id,
                                       c.expiration_time, OWNER_LOOKUP,
                                       &cached);
    if (res == PHX_FT_CACHE_MISS)
        phx_ft_reply_cache_abandon(a->cache, c.client_id, c.client_id_len,
                                   c.retention_id, OWNER_LOOKUP);
    if (res == PHX_FT_CACHE_HIT) {
        a->stats.replayed++;
        pthread_mutex_unlock(&a->lock);
        int rc = phx_server_ri_set_reply(ri, cached.reply_status,
                                         cached.body, cached.len);
        phx_ft_cached_reply_fini(&cached);
        return rc;
    }
    pthread_mutex_unlock(&a->lock);

    /* Order it through the GCS. */
    size_t blen;
    const uint8_t *body = phx_server_ri_request_body(ri, &blen);
    const char *op = phx_server_ri_operation(ri);
    record_t r = {c.client_id, c.client_id_len, c.retention_id,
                  c.expiration_time, phx_server_ri_request_byte_order(ri),
                  op, strlen(op), body, body ? blen : 0,
                  phx_ft_nd_wall_ns(), phx_ft_nd_fresh_seed()};
    size_t mlen;
    uint8_t *msg = record_encode(&r, &mlen);
    outmsg_t *om = msg ? malloc(sizeof *om) : NULL;
    if (om == NULL) {
        free(msg);
        return phx_env_system(env, PHX_SYSEX_NO_MEMORY, 0, PHX_COMPLETED_NO,
                              "active replication: out of memory");
    }
    om->next = NULL;
    om->data = msg;
    om->len = mlen;

    waiter_t w = {NULL, c.client_id, c.client_id_len, c.retention_id,
                  false, false, 0, NULL, 0};
    struct timespec dl;
    clock_gettime(CLOCK_MONOTONIC, &dl);
    dl.tv_sec += a->cfg.wait_ms / 1000;
    dl.tv_nsec += (long)(a->cfg.wait_ms % 1000) * 1000000L;
    if (dl.tv_nsec >= 1000000000L) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000L;
    }

    pthread_mutex_lock(&a->lock);
    if (a->stopping || a->stopped) {
        pthread_mutex_unlock(&a->lock);
        free(msg);
        free(om);
        return transient(env, "shutting down");
    }
    w.next = a->waiters;
    a->waiters = &w;
    if (a->out_tail)
        a->out_tail->next = om;
    else
        a->out_head = om;
    a->out_tail = om;
    a->stats.multicast++;
    pthread_mutex_unlock(&a->lock);
    wake(a);

    pthread_mutex_lock(&a->lock);
    int wrc = 0;
    while (!w.done && wrc != ETIMEDOUT)
        wrc = pthread_cond_timedwait(&a->cond, &a->lock, &dl);
    for (waiter_t **pp = &a->waiters; *pp; pp = &(*pp)->next)
        if (*pp == &w) {
            *pp = w.next;
            break;
        }
    if (!w.done)
        a->stats.timeouts++;
    pthread_mutex_unlock(&a->lock);

    int rc;
    if (!w.done)
        rc = transient(env, "not delivered in time");
    else if (w.failed)
        rc = transient(env, "not executed here");
    else
        rc = phx_server_ri_set_reply(ri, w.status, w.body, w.len);
    free(w.body);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Life cycle                                                           */
/* ------------------------------------------------------------------ */

void phx_ft_active_config_init(phx_ft_active_config_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->wait_ms = 10000;
}

void phx_ft_active_destroy(phx_ft_active_t *a)
{
    if (a == NULL)
        return;
    phx_ft_active_shutdown(a);
    phx_gcs_destroy(a->gcs);
    phx_ft_reply_cache_destroy(a->cache);
    if (a->wake_fd >= 0)
        close(a->wake_fd);
    pthread_mutex_destroy(&a->lock);
    pthread_cond_destroy(&a->cond);
    phx__ft_state_rx_fini(&a->st);
    free(a->group);
    free(a->key);
    free(a);
}

void phx_ft_active_shutdown(phx_ft_active_t *a)
{
    if (a == NULL)
        return;
    pthread_mutex_lock(&a->lock);
    bool join = a->thread_started;
    a->thread_started = false;
    a->stopping = true;
    pthread_mutex_unlock(&a->lock);
    if (join) {
        wake(a);
        pthread_join(a->thread, NULL);
    }
}

int phx_ft_active_install(phx_orb_t *orb,
                          const struct phx_gcs_config *gcs_cfg,
                          const void *key, size_t key_len,
                          const phx_ft_active_config_t *cfg,
                          phx_ft_active_t **out, phx_error_t *err)
{
    if (orb == NULL || key == NULL || key_len == 0 || cfg == NULL ||
        cfg->group == NULL || out == NULL)
        return phx_error_set(err, PHX_EINVAL, "active: bad argument");
    phx_ft_active_t *a = calloc(1, sizeof *a);
    if (a == NULL)
        return phx_error_set(err, PHX_ENOMEM, "active: out of memory");
    a->wake_fd = -1;
    pthread_mutex_init(&a->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&a->cond, &ca);
    pthread_condattr_destroy(&ca);
    a->orb = orb;
    a->cfg = *cfg;
    if (a->cfg.wait_ms == 0)
        a->cfg.wait_ms = 10000;
    a->key = malloc(key_len);
    a->key_len = key_len;
    a->group = strdup(cfg->group);
    a->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (a->key == NULL || a->group == NULL || a->wake_fd < 0) {
        phx_ft_active_destroy(a);
        return phx_error_set(err, PHX_ENOMEM, "active: out of resources");
    }
    memcpy(a->key, key, key_len);

    phx_ft_reply_cache_config_t cc;
    phx_ft_reply_cache_config_init(&cc);
    /* Every delivered request runs on every replica, so its reply must be
     * kept even when the cache is full: the oldest completed entries make
     * room (a retry arrives within milliseconds of a fail-over, long after
     * which only a client re-invoking a request older than max_entries
     * others could see it run again). */
    cc.evict_when_full = true;
    if (cfg->cache_max_entries)
        cc.max_entries = cfg->cache_max_entries;
    if (cfg->cache_max_bytes)
        cc.max_bytes = cfg->cache_max_bytes;
    int rc = phx_ft_reply_cache_create(&cc, &a->cache);
    if (rc != PHX_OK) {
        phx_ft_active_destroy(a);
        return phx_error_set(err, rc, "active: cannot create reply cache");
    }

    phx_gcs_config_t gc;
    if (gcs_cfg)
        gc = *gcs_cfg;
    else
        phx_gcs_config_init(&gc);
    phx_gcs_callbacks_t cb = {on_deliver, on_view, on_get_state,
                              on_set_state};
    rc = phx_gcs_create(&gc, &cb, a, &a->gcs, err);
    if (rc == PHX_OK)
        rc = phx_gcs_join(a->gcs, a->group, err);
    if (rc != PHX_OK) {
        phx_ft_active_destroy(a);
        return rc;
    }

    if (pthread_create(&a->thread, NULL, dispatch_main, a) != 0) {
        phx_ft_active_destroy(a);
        return phx_error_set(err, PHX_ENOMEM,
                             "active: cannot start the dispatch thread");
    }
    a->thread_started = true;
    a->si = (phx_server_interceptor_t){
        .name = "phx-ft-active",
        .arg = a,
        .receive_request_service_contexts = active_receive,
    };
    rc = phx_orb_add_server_interceptor(orb, &a->si);
    if (rc != PHX_OK) {
        phx_ft_active_destroy(a);
        return phx_error_set(err, rc, "active: cannot add interceptor");
    }
    *out = a;
    return PHX_OK;
}

const char *phx_ft_active_gcs_endpoint(phx_ft_active_t *a)
{
    return a ? phx_gcs_endpoint(a->gcs) : NULL;
}

void phx_ft_active_get_stats(phx_ft_active_t *a, phx_ft_active_stats_t *st)
{
    if (a == NULL) {
        memset(st, 0, sizeof *st);
        return;
    }
    pthread_mutex_lock(&a->lock);
    *st = a->stats;
    pthread_mutex_unlock(&a->lock);
}
