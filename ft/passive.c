/*
 * passive.c - WARM_PASSIVE replication (include/phx/ft.h, docs/ft.md):
 * the oldest member of the current primary-component GCS view is the
 * primary.  It executes each request carrying FT_REQUEST, multicasts an
 * update (the reply and the servant's state after the request) through
 * the GCS with uniform delivery, and answers the client only once it has
 * delivered that update itself, so every member of the view has it.
 * Backups install the state and keep the reply in their reply cache, so
 * after a fail-over the new primary answers a retried request from its
 * cache instead of running it twice.  A servant that is Updateable
 * (get_update/set_update) sends only the changes of each request, with a
 * whole state every checkpoint interval; every member then keeps the last
 * whole state plus the updates delivered since (the "tail"), which is
 * what a joiner receives and what the primary rolls back to.
 *
 * Threads: ORB workers run the interceptor; on the primary one request
 * at a time (exec_lock) executes, queues its update and waits for the
 * delivery.  One dispatch thread owns the GCS handle (join, multicast,
 * dispatch) and runs the view, deliver and state transfer callbacks.
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
#include <phx/log.h>

#include "ft/ft_int.h"

/* The owner of the look-ups done by workers (begun and abandoned at once
 * under the lock, never left in progress). */
#define OWNER_LOOKUP ((uintptr_t)3)

struct phx_ft_passive {
    phx_orb_t *orb;
    uint8_t *key;
    size_t key_len;
    phx_ft_passive_config_t cfg;
    char *group;
    phx_gcs_t *gcs;
    phx_ft_reply_cache_t *cache;
    phx_server_interceptor_t si;

    /* Held by a worker on the primary from the cache look-up through the
     * execution, the multicast of the update and its delivery: requests
     * execute one at a time, in the order of their updates. */
    pthread_mutex_t exec_lock;

    pthread_mutex_t lock;       /* everything below, and the cache */
    pthread_cond_t cond;        /* an update delivered or failed */
    bool is_primary;
    uint64_t self_id;
    uint64_t next_seq;          /* of this member's updates */
    uint64_t delivered_seq;     /* highest own update delivered */
    uint64_t failed_seq;        /* highest own update not multicast */
    uint64_t rolled_back_seq;   /* highest own update given up on */
    bool demoted;               /* primary no more since that, until the
                                 * update or a view arrives */
    uint8_t *out;               /* the update waiting for multicast */
    size_t out_len;
    uint64_t out_seq;
    bool stopping;
    bool stopped;
    bool thread_started;
    pthread_t thread;
    int wake_fd;
    /* The servant's state as of the last delivered record (or the state
     * transfer, or the start): the last whole state plus the updates
     * delivered since, in order.  What a joiner gets, never a state that
     * includes an execution whose record is not delivered yet. */
    uint8_t *snap;
    size_t snap_len;
    uint8_t **tail;
    size_t *tail_len;
    size_t n_tail, cap_tail;
    /* Primary: when the last whole state was taken, and the updates sent
     * since (worker holding exec_lock). */
    struct timespec last_full;
    uint32_t since_full;
    phx_ft_passive_stats_t stats;
    /* The last group time (ft_nd.h): of the last delivered update, or of
     * this primary's last execution. */
    uint64_t last_ns;

    /* The state transfer being received (dispatch thread only). */
    phx__ft_state_rx_t st;
};

/* ------------------------------------------------------------------ */
/* The update record                                                    */
/* ------------------------------------------------------------------ */
/*
 * A CDR encapsulation: byte-order octet, octet kind (REC_STATE: a whole
 * state, REC_UPDATE: the changes of one request), sequence<octet> client
 * id, long retention id, unsigned long long expiration time, unsigned
 * long long sequence number (per sender), unsigned long reply status,
 * sequence<octet> reply, sequence<octet> state or update, unsigned long
 * long group time (the last one the request used, ns since the Unix
 * epoch; <phx/ft_nd.h>): backups and a new primary continue from it.
 */
enum { REC_STATE = 0, REC_UPDATE = 1 };

typedef struct update {
    uint8_t kind;
    const char *client_id;
    size_t client_id_len;
    int32_t retention_id;
    uint64_t expiration;
    uint64_t seq;
    uint32_t status;
    const uint8_t *reply;
    size_t reply_len;
    const uint8_t *state;
    size_t state_len;
    uint64_t time_ns;
} update_t;

static uint8_t *update_encode(const update_t *u, size_t *len)
{
    phx_cdr_writer_t w;
    phx_cdr_writer_init(&w, 64 + u->client_id_len + u->reply_len +
                                u->state_len);
    phx_cdr_put_octet(&w, PHX_CDR_NATIVE);
    phx_cdr_put_octet(&w, u->kind);
    phx_cdr_put_octet_seq(&w, u->client_id, u->client_id_len);
    phx_cdr_put_long(&w, u->retention_id);
    phx_cdr_put_ulonglong(&w, u->expiration);
    phx_cdr_put_ulonglong(&w, u->seq);
    phx_cdr_put_ulong(&w, u->status);
    phx_cdr_put_octet_seq(&w, u->reply, u->reply_len);
    phx_cdr_put_octet_seq(&w, u->state, u->state_len);
    phx_cdr_put_ulonglong(&w, u->time_ns);
    uint8_t *buf = phx_cdr_writer_status(&w) == PHX_OK
                       ? phx_cdr_writer_steal(&w, len)
                       : NULL;
    phx_cdr_writer_fini(&w);
    return buf;
}

static bool update_decode(const void *msg, size_t len, update_t *u)
{
    phx_cdr_reader_t r;
    const uint8_t *id;
    if (phx_cdr_reader_init_encap(&r, msg, len) != PHX_OK)
        return false;
    phx_cdr_get_octet(&r, &u->kind);
    phx_cdr_get_octet_seq(&r, &id, &u->client_id_len);
    phx_cdr_get_long(&r, &u->retention_id);
    phx_cdr_get_ulonglong(&r, &u->expiration);
    phx_cdr_get_ulonglong(&r, &u->seq);
    phx_cdr_get_ulong(&r, &u->status);
    phx_cdr_get_octet_seq(&r, &u->reply, &u->reply_len);
    phx_cdr_get_octet_seq(&r, &u->state, &u->state_len);
    phx_cdr_get_ulonglong(&r, &u->time_ns);
    u->client_id = (const char *)id;
    return phx_cdr_reader_status(&r) == PHX_OK &&
           phx_cdr_reader_remaining(&r) == 0 && u->client_id_len > 0 &&
           u->kind <= REC_UPDATE;
}

static uint8_t *dup_bytes(const void *data, size_t len)
{
    uint8_t *s = malloc(len ? len : 1);
    if (s != NULL && len)
        memcpy(s, data, len);
    return s;
}

static void tail_clear(phx_ft_passive_t *p)
{
    for (size_t i = 0; i < p->n_tail; i++)
        free(p->tail[i]);
    p->n_tail = 0;
}

/* Replace the snapshot with a copy of a whole state.  Lock held. */
static void set_snapshot(phx_ft_passive_t *p, const void *data, size_t len)
{
    uint8_t *s = dup_bytes(data, len);
    if (s == NULL)
        return;
    free(p->snap);
    p->snap = s;
    p->snap_len = len;
    tail_clear(p);
}

/* Append a copy of a delivered update to the snapshot.  Lock held. */
static bool tail_add(phx_ft_passive_t *p, const void *data, size_t len)
{
    if (p->n_tail == p->cap_tail) {
        size_t cap = p->cap_tail ? 2 * p->cap_tail : 16;
        uint8_t **t = realloc(p->tail, cap * sizeof *t);
        if (t == NULL)
            return false;
        p->tail = t;
        size_t *tl = realloc(p->tail_len, cap * sizeof *tl);
        if (tl == NULL)
            return false;
        p->tail_len = tl;
        p->cap_tail = cap;
    }
    uint8_t *d = dup_bytes(data, len);
    if (d == NULL)
        return false;
    p->tail[p->n_tail] = d;
    p->tail_len[p->n_tail++] = len;
    return true;
}

/* Put the servant back to the snapshot: the whole state, then the
 * updates since.  Lock held. */
static void restore_snapshot(phx_ft_passive_t *p)
{
    p->cfg.set_state(p->cfg.arg, p->snap, p->snap_len);
    for (size_t i = 0; i < p->n_tail; i++)
        p->cfg.set_update(p->cfg.arg, p->tail[i], p->tail_len[i]);
}

/*
 * The snapshot as one buffer (for state transfer): a CDR encapsulation
 * of sequence<octet> state, unsigned long n, then n sequence<octet>
 * updates.  Lock held.
 */
static uint8_t *snapshot_encode(phx_ft_passive_t *p, size_t *len)
{
    size_t need = 16 + p->snap_len;
    for (size_t i = 0; i < p->n_tail; i++)
        need += 8 + p->tail_len[i];
    phx_cdr_writer_t w;
    phx_cdr_writer_init(&w, need);
    phx_cdr_put_octet(&w, PHX_CDR_NATIVE);
    phx_cdr_put_octet_seq(&w, p->snap, p->snap_len);
    phx_cdr_put_ulong(&w, (uint32_t)p->n_tail);
    for (size_t i = 0; i < p->n_tail; i++)
        phx_cdr_put_octet_seq(&w, p->tail[i], p->tail_len[i]);
    uint8_t *buf = phx_cdr_writer_status(&w) == PHX_OK
                       ? phx_cdr_writer_steal(&w, len)
                       : NULL;
    phx_cdr_writer_fini(&w);
    return buf;
}

/* Install a snapshot received by state transfer (servant and copy).
 * false when malformed.  Lock held. */
static bool snapshot_install(phx_ft_passive_t *p, const void *data,
                             size_t len)
{
    phx_cdr_reader_t r;
    const uint8_t *st;
    size_t st_len;
    uint32_t n = 0;
    if (phx_cdr_reader_init_encap(&r, data, len) != PHX_OK)
        return false;
    phx_cdr_get_octet_seq(&r, &st, &st_len);
    phx_cdr_get_ulong(&r, &n);
    if (phx_cdr_reader_status(&r) != PHX_OK ||
        (n > 0 && p->cfg.set_update == NULL) ||
        n > phx_cdr_reader_remaining(&r) / 4)
        return false;
    set_snapshot(p, st, st_len);
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *u;
        size_t ul;
        if (phx_cdr_get_octet_seq(&r, &u, &ul) != PHX_OK || !tail_add(p, u, ul))
            return false;
    }
    if (phx_cdr_reader_remaining(&r) != 0)
        return false;
    restore_snapshot(p);
    return true;
}

/* Apply a delivered record to the servant.  Lock held. */
static void apply_record(phx_ft_passive_t *p, const update_t *u)
{
    if (u->kind == REC_STATE)
        p->cfg.set_state(p->cfg.arg, u->state, u->state_len);
    else
        p->cfg.set_update(p->cfg.arg, u->state, u->state_len);
}

/* ------------------------------------------------------------------ */
/* GCS callbacks (dispatch thread)                                      */
/* ------------------------------------------------------------------ */

static void on_deliver(phx_gcs_t *gcs, const char *group,
                       const phx_gcs_member_t *sender, const void *msg,
                       size_t len, void *arg)
{
    (void)gcs;
    (void)group;
    phx_ft_passive_t *p = arg;
    update_t u;
    if (!update_decode(msg, len, &u) ||
        (u.kind == REC_UPDATE && p->cfg.set_update == NULL))
        return;
    pthread_mutex_lock(&p->lock);
    bool own = sender != NULL && sender->id == p->self_id;
    if (u.time_ns > p->last_ns)
        p->last_ns = u.time_ns;
    if (u.kind == REC_STATE)
        set_snapshot(p, u.state, u.state_len);
    else
        tail_add(p, u.state, u.state_len);
    phx_ft_reply_cache_put(p->cache, u.client_id, u.client_id_len,
                           u.retention_id, u.expiration, u.status, u.reply,
                           u.reply_len);
    if (own) {
        if (u.seq > p->delivered_seq)
            p->delivered_seq = u.seq;
        p->stats.delivered_own++;
        pthread_cond_broadcast(&p->cond);
    } else {
        p->stats.applied++;
    }
    /* A backup (or a primary applying its predecessor's last updates,
     * which virtual synchrony delivers before the view that promotes it)
     * installs the state the primary had after the request; so does a
     * primary whose own update arrives after it rolled the servant back
     * for want of it.  Under the lock, in delivery order. */
    if (!own || u.seq <= p->rolled_back_seq)
        apply_record(p, &u);
    /* The update given up on arrived after all, in the same view: every
     * member has it and this one its state, so it serves again. */
    if (own && p->demoted && u.seq == p->rolled_back_seq) {
        p->demoted = false;
        p->is_primary = true;
    }
    pthread_mutex_unlock(&p->lock);
}

static void on_view(phx_gcs_t *gcs, const char *group,
                    const phx_gcs_view_t *view, void *arg)
{
    (void)group;
    phx_ft_passive_t *p = arg;
    phx_gcs_member_t self;
    bool have_self = phx_gcs_self(gcs, &self) == PHX_OK;
    pthread_mutex_lock(&p->lock);
    if (have_self)
        p->self_id = self.id;
    bool was = p->is_primary;
    bool primary = have_self && view->primary && view->n_members > 0 &&
                   view->members[0].id == self.id;
    p->is_primary = primary;
    p->demoted = false;
    if (primary && !was)
        p->stats.promotions++;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
    if (p->cfg.view_change)
        p->cfg.view_change(p->cfg.arg, view, primary);
    /* A founder has the state at once; a joiner once the transfer that
     * follows its join view is in. */
    if (p->cfg.state_ready && view->primary && view->n_members == 1 &&
        phx__ft_view_joined_self(gcs, view))
        p->cfg.state_ready(p->cfg.arg);
}

/*
 * The state of a member: u32 length of the reply cache serialization,
 * that serialization, then the servant's snapshot (the rest).
 */
static int on_get_state(phx_gcs_t *gcs, const char *group,
                        phx_gcs_state_writer_t *w, void *arg)
{
    (void)gcs;
    (void)group;
    phx_ft_passive_t *p = arg;
    phx_cdr_writer_t cw;
    phx_cdr_writer_init(&cw, 0);
    pthread_mutex_lock(&p->lock);
    int rc = phx_ft_reply_cache_serialize(p->cache, &cw);
    size_t ulen = 0;
    uint8_t *snap = snapshot_encode(p, &ulen);
    /* The group time goes first (8 bytes, native order). */
    uint8_t *user = snap ? malloc(8 + ulen) : NULL;
    if (user) {
        memcpy(user, &p->last_ns, 8);
        memcpy(user + 8, snap, ulen);
        ulen += 8;
    }
    free(snap);
    pthread_mutex_unlock(&p->lock);
    size_t clen = 0;
    uint8_t *cbuf = rc == PHX_OK ? phx_cdr_writer_steal(&cw, &clen) : NULL;
    phx_cdr_writer_fini(&cw);
    if (cbuf == NULL || user == NULL || clen > UINT32_MAX) {
        free(cbuf);
        free(user);
        return -1;
    }
    rc = phx__ft_state_send(w, cbuf, clen, user, ulen);
    free(cbuf);
    free(user);
    return rc;
}

static void on_set_state(phx_gcs_t *gcs, const char *group,
                         const void *chunk, size_t len, unsigned flags,
                         void *arg)
{
    (void)gcs;
    (void)group;
    phx_ft_passive_t *p = arg;
    const uint8_t *cbuf, *user;
    size_t clen, ulen;
    if (!phx__ft_state_rx_add(&p->st, chunk, len, flags)) {
        /* An empty or unusable transfer still ends the wait: the member
         * keeps the state it started with. */
        if ((flags & PHX_GCS_STATE_LAST) && p->cfg.state_ready)
            p->cfg.state_ready(p->cfg.arg);
        return;
    }
    pthread_mutex_lock(&p->lock);
    uint64_t last = 0;
    if (!phx__ft_state_split(p->st.buf, p->st.len, &cbuf, &clen, &user,
                             &ulen) ||
        ulen < 8 || (memcpy(&last, user, 8), false) ||
        (phx_ft_reply_cache_deserialize(p->cache, cbuf, clen, NULL),
         !snapshot_install(p, user + 8, ulen - 8)))
        phx_log(PHX_LOG_ERROR, "ft",
                "warm passive %s: malformed state transfer ignored",
                p->group);
    if (last > p->last_ns)
        p->last_ns = last;
    pthread_mutex_unlock(&p->lock);
    if (p->cfg.state_ready)
        p->cfg.state_ready(p->cfg.arg);
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
    phx_ft_passive_t *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->lock);
        bool stop = p->stopping;
        uint8_t *out = p->out;
        size_t out_len = p->out_len;
        uint64_t out_seq = p->out_seq;
        p->out = NULL;
        pthread_mutex_unlock(&p->lock);
        if (stop) {
            free(out);
            break;
        }
        /* Multicast the queued update.  Refused for flow control, it is
         * tried again next round; refused for good (outside the primary
         * component, ...), its worker is told at once. */
        bool again = false;
        if (out) {
            int rc = phx_gcs_multicast(p->gcs, p->group, out, out_len, NULL);
            pthread_mutex_lock(&p->lock);
            if (rc == PHX_EAGAIN && p->out == NULL) {
                p->out = out;
                out = NULL;
                again = true;
            } else if (rc != PHX_OK) {
                p->failed_seq = out_seq;
                pthread_cond_broadcast(&p->cond);
            }
            pthread_mutex_unlock(&p->lock);
            free(out);
        }
        struct pollfd pf[2] = {{phx_gcs_fd(p->gcs), POLLIN, 0},
                               {p->wake_fd, POLLIN, 0}};
        if (poll(pf, 2, again ? 1 : 200) < 0 && errno != EINTR)
            break;
        if (pf[1].revents & POLLIN)
            drain_fd(p->wake_fd);
        if (phx_gcs_dispatch(p->gcs, 0, NULL) < 0)
            break;
    }
    pthread_mutex_lock(&p->lock);
    p->stopped = true;
    p->is_primary = false;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

static void wake(phx_ft_passive_t *p)
{
    uint64_t one = 1;
    ssize_t n = write(p->wake_fd, &one, sizeof one);
    (void)n;
}

/* ------------------------------------------------------------------ */
/* Server interceptor (ORB workers)                                     */
/* ------------------------------------------------------------------ */

static uint64_t ms_since(const struct timespec *t)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    int64_t ms = (int64_t)(now.tv_sec - t->tv_sec) * 1000 +
                 (now.tv_nsec - t->tv_nsec) / 1000000;
    return ms < 0 ? 0 : (uint64_t)ms;
}

static void deadline_in(struct timespec *dl, uint32_t ms)
{
    clock_gettime(CLOCK_MONOTONIC, dl);
    dl->tv_sec += ms / 1000;
    dl->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (dl->tv_nsec >= 1000000000L) {
        dl->tv_sec++;
        dl->tv_nsec -= 1000000000L;
    }
}

/* Look the request up in the cache; true (and *cached filled) on a hit.
 * Lock held. */
static bool cache_lookup(phx_ft_passive_t *p, const phx_ft_request_ctx_t *c,
                         phx_ft_cached_reply_t *cached)
{
    int res = phx_ft_reply_cache_begin(p->cache, c->client_id,
                                       c->client_id_len, c->retention_id,
                                       c->expiration_time, OWNER_LOOKUP,
                                       cached);
    if (res == PHX_FT_CACHE_MISS)
        phx_ft_reply_cache_abandon(p->cache, c->client_id, c->client_id_len,
                                   c->retention_id, OWNER_LOOKUP);
    return res == PHX_FT_CACHE_HIT;
}

static int passive_receive(void *arg, phx_server_ri_t *ri, phx_env_t *env)
{
    phx_ft_passive_t *p = arg;
    const phx_service_context_t *sc =
        phx_server_ri_request_context(ri, PHX_SC_FT_REQUEST);
    if (sc == NULL)
        return PHX_OK;
    size_t klen;
    const uint8_t *key = phx_server_ri_object_key(ri, &klen);
    if (klen != p->key_len || memcmp(key, p->key, klen) != 0)
        return PHX_OK;
    phx_ft_request_ctx_t c;
    phx_error_t err;
    if (phx_ft_request_ctx_decode(sc->data, sc->len, &c, &err) != PHX_OK ||
        c.client_id_len == 0)
        return phx_env_system(env, PHX_SYSEX_BAD_PARAM,
                              PHX_VMCID | PHX_FT_MINOR_BAD_CONTEXT,
                              PHX_COMPLETED_NO, "FT_REQUEST: %s",
                              c.client_id_len ? err.msg : "no client id");

    pthread_mutex_lock(&p->exec_lock);
    /* Executed before (here, or on the primary whose update reached this
     * member): answer from the cache, on the primary and backups alike. */
    pthread_mutex_lock(&p->lock);
    phx_ft_cached_reply_t cached = {0, NULL, 0};
    if (cache_lookup(p, &c, &cached)) {
        p->stats.replayed++;
        pthread_mutex_unlock(&p->lock);
        pthread_mutex_unlock(&p->exec_lock);
        int rc = phx_server_ri_set_reply(ri, cached.reply_status,
                                         cached.body, cached.len);
        phx_ft_cached_reply_fini(&cached);
        return rc;
    }
    bool primary = p->is_primary && !p->stopping && !p->stopped;
    if (!primary)
        p->stats.refused++;
    pthread_mutex_unlock(&p->lock);
    if (!primary) {
        pthread_mutex_unlock(&p->exec_lock);
        return phx_env_system(env, PHX_SYSEX_TRANSIENT, 0, PHX_COMPLETED_NO,
                              "warm passive: not the primary");
    }

    /* The primary: execute, then send the update and wait for it. */
    size_t blen;
    const uint8_t *body = phx_server_ri_request_body(ri, &blen);
    const char *op = phx_server_ri_operation(ri);
    uint32_t status = 0;
    uint8_t *reply = NULL, *state = NULL;
    size_t reply_len = 0, state_len = 0;
    /* Group time max(own clock, last + 1 us); only the primary executes,
     * so phx_ft_input may read its input directly. */
    pthread_mutex_lock(&p->lock);
    uint64_t gtime = phx_ft_nd_group_time(phx_ft_nd_wall_ns(), p->last_ns);
    pthread_mutex_unlock(&p->lock);
    phx_ft_nd_ctx_t nd;
    phx_ft_nd_begin_fixed(&nd, gtime, phx_ft_nd_fresh_seed(), true);
    phx_ft_nd_set_request(&nd, c.client_id, c.client_id_len, c.retention_id,
                          c.expiration_time);
    int rc = phx_orb_invoke_local(p->orb, p->key, p->key_len, op, body,
                                  body ? blen : 0,
                                  phx_server_ri_request_byte_order(ri),
                                  &status, &reply, &reply_len, NULL);
    phx_ft_nd_end(&nd);
    uint64_t used = phx_ft_nd_last(&nd);
    phx_ft_nd_ctx_fini(&nd);
    pthread_mutex_lock(&p->lock);
    if (used > p->last_ns)
        p->last_ns = used;
    pthread_mutex_unlock(&p->lock);
    bool ran = rc == PHX_OK;
    /* A whole state when the servant is not Updateable or a checkpoint is
     * due, else the changes of this request. */
    uint8_t kind = REC_STATE;
    if (rc == PHX_OK && p->cfg.get_update != NULL &&
        p->since_full < p->cfg.checkpoint_every &&
        ms_since(&p->last_full) < p->cfg.checkpoint_interval_ms)
        kind = REC_UPDATE;
    if (rc == PHX_OK &&
        (kind == REC_STATE ? p->cfg.get_state : p->cfg.get_update)(
            p->cfg.arg, &state, &state_len))
        rc = PHX_ENOMEM;
    uint8_t *msg = NULL;
    size_t mlen = 0;
    uint64_t seq = 0;
    if (rc == PHX_OK) {
        pthread_mutex_lock(&p->lock);
        seq = ++p->next_seq;
        pthread_mutex_unlock(&p->lock);
        update_t u = {kind, c.client_id, c.client_id_len, c.retention_id,
                      c.expiration_time, seq, status, reply, reply_len,
                      state, state_len, used};
        msg = update_encode(&u, &mlen);
    }
    free(state);
    if (msg == NULL) {
        /* Not replicated: the servant goes back to the last delivered
         * state. */
        pthread_mutex_lock(&p->lock);
        if (ran)
            restore_snapshot(p);
        pthread_mutex_unlock(&p->lock);
        pthread_mutex_unlock(&p->exec_lock);
        free(reply);
        return phx_env_system(env, PHX_SYSEX_TRANSIENT, 0,
                              PHX_COMPLETED_MAYBE,
                              "warm passive: cannot build the update");
    }

    struct timespec dl;
    deadline_in(&dl, p->cfg.wait_ms);
    pthread_mutex_lock(&p->lock);
    free(p->out);
    p->out = msg;
    p->out_len = mlen;
    p->out_seq = seq;
    p->stats.executed++;
    if (kind == REC_STATE) {
        p->stats.checkpoints++;
        p->since_full = 0;
        clock_gettime(CLOCK_MONOTONIC, &p->last_full);
    } else {
        p->stats.updates++;
        p->since_full++;
    }
    pthread_mutex_unlock(&p->lock);
    wake(p);

    pthread_mutex_lock(&p->lock);
    int wrc = 0;
    /* Also given up when a view makes this member a backup (or leaves the
     * primary component): an update not delivered before that view is
     * not delivered here at all. */
    while (p->delivered_seq < seq && p->failed_seq < seq && !p->stopped &&
           p->is_primary && wrc != ETIMEDOUT)
        wrc = pthread_cond_timedwait(&p->cond, &p->lock, &dl);
    bool delivered = p->delivered_seq >= seq;
    if (!delivered) {
        p->stats.undelivered++;
        /* Executed here but unknown to the others: the servant goes back
         * to the state of the last delivered update (the update, should
         * it still be delivered, installs its state), and this member
         * stops serving as primary until that delivery or the next view. */
        p->demoted = p->is_primary;
        p->is_primary = false;
        p->rolled_back_seq = seq;
        restore_snapshot(p);
        /* The servant's changes since its last get_state or get_update
         * were just replaced: the next record must be a whole state. */
        p->since_full = UINT32_MAX;
    }
    pthread_mutex_unlock(&p->lock);
    pthread_mutex_unlock(&p->exec_lock);

    if (!delivered) {
        free(reply);
        return phx_env_system(env, PHX_SYSEX_TRANSIENT, 0,
                              PHX_COMPLETED_MAYBE,
                              "warm passive: update not delivered");
    }
    rc = phx_server_ri_set_reply(ri, status, reply, reply_len);
    free(reply);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Life cycle                                                           */
/* ------------------------------------------------------------------ */

void phx_ft_passive_config_init(phx_ft_passive_config_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->wait_ms = 10000;
    cfg->checkpoint_interval_ms = 1000;
    cfg->checkpoint_every = 100;
}

void phx_ft_passive_shutdown(phx_ft_passive_t *p)
{
    if (p == NULL)
        return;
    pthread_mutex_lock(&p->lock);
    bool join = p->thread_started;
    p->thread_started = false;
    p->stopping = true;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
    if (join) {
        wake(p);
        pthread_join(p->thread, NULL);
    }
}

void phx_ft_passive_destroy(phx_ft_passive_t *p)
{
    if (p == NULL)
        return;
    phx_ft_passive_shutdown(p);
    phx_gcs_destroy(p->gcs);
    phx_ft_reply_cache_destroy(p->cache);
    if (p->wake_fd >= 0)
        close(p->wake_fd);
    pthread_mutex_destroy(&p->exec_lock);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->cond);
    free(p->out);
    free(p->snap);
    tail_clear(p);
    free(p->tail);
    free(p->tail_len);
    phx__ft_state_rx_fini(&p->st);
    free(p->group);
    free(p->key);
    free(p);
}

int phx_ft_passive_install(phx_orb_t *orb,
                           const struct phx_gcs_config *gcs_cfg,
                           const void *key, size_t key_len,
                           const phx_ft_passive_config_t *cfg,
                           phx_ft_passive_t **out, phx_error_t *err)
{
    if (orb == NULL || key == NULL || key_len == 0 || cfg == NULL ||
        cfg->group == NULL || cfg->get_state == NULL ||
        cfg->set_state == NULL || out == NULL ||
        (cfg->get_update == NULL) != (cfg->set_update == NULL))
        return phx_error_set(err, PHX_EINVAL, "passive: bad argument");
    phx_ft_passive_t *p = calloc(1, sizeof *p);
    if (p == NULL)
        return phx_error_set(err, PHX_ENOMEM, "passive: out of memory");
    p->wake_fd = -1;
    pthread_mutex_init(&p->exec_lock, NULL);
    pthread_mutex_init(&p->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&p->cond, &ca);
    pthread_condattr_destroy(&ca);
    p->orb = orb;
    p->cfg = *cfg;
    if (p->cfg.wait_ms == 0)
        p->cfg.wait_ms = 10000;
    if (p->cfg.checkpoint_interval_ms == 0)
        p->cfg.checkpoint_interval_ms = 1000;
    if (p->cfg.checkpoint_every == 0)
        p->cfg.checkpoint_every = 100;
    /* The first record after a promotion is a whole state. */
    p->since_full = UINT32_MAX;
    p->key = malloc(key_len);
    p->key_len = key_len;
    p->group = strdup(cfg->group);
    p->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (p->key == NULL || p->group == NULL || p->wake_fd < 0) {
        phx_ft_passive_destroy(p);
        return phx_error_set(err, PHX_ENOMEM, "passive: out of resources");
    }
    memcpy(p->key, key, key_len);
    uint8_t *s = NULL;
    size_t n = 0;
    if (cfg->get_state(cfg->arg, &s, &n) != 0) {
        phx_ft_passive_destroy(p);
        return phx_error_set(err, PHX_EINVAL, "passive: get_state failed");
    }
    set_snapshot(p, s, n);
    free(s);

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
    int rc = phx_ft_reply_cache_create(&cc, &p->cache);
    if (rc != PHX_OK) {
        phx_ft_passive_destroy(p);
        return phx_error_set(err, rc, "passive: cannot create reply cache");
    }

    phx_gcs_config_t gc;
    if (gcs_cfg)
        gc = *gcs_cfg;
    else
        phx_gcs_config_init(&gc);
    gc.mode = PHX_GCS_UNIFORM;
    phx_gcs_callbacks_t cb = {on_deliver, on_view, on_get_state,
                              on_set_state};
    rc = phx_gcs_create(&gc, &cb, p, &p->gcs, err);
    if (rc == PHX_OK)
        rc = phx_gcs_join(p->gcs, p->group, err);
    if (rc != PHX_OK) {
        phx_ft_passive_destroy(p);
        return rc;
    }

    if (pthread_create(&p->thread, NULL, dispatch_main, p) != 0) {
        phx_ft_passive_destroy(p);
        return phx_error_set(err, PHX_ENOMEM,
                             "passive: cannot start the dispatch thread");
    }
    p->thread_started = true;
    p->si = (phx_server_interceptor_t){
        .name = "phx-ft-passive",
        .arg = p,
        .receive_request_service_contexts = passive_receive,
    };
    rc = phx_orb_add_server_interceptor(orb, &p->si);
    if (rc != PHX_OK) {
        phx_ft_passive_destroy(p);
        return phx_error_set(err, rc, "passive: cannot add interceptor");
    }
    *out = p;
    return PHX_OK;
}

const char *phx_ft_passive_gcs_endpoint(phx_ft_passive_t *p)
{
    return p ? phx_gcs_endpoint(p->gcs) : NULL;
}

bool phx_ft_passive_is_primary(phx_ft_passive_t *p)
{
    if (p == NULL)
        return false;
    pthread_mutex_lock(&p->lock);
    bool r = p->is_primary;
    pthread_mutex_unlock(&p->lock);
    return r;
}

void phx_ft_passive_get_stats(phx_ft_passive_t *p,
                              phx_ft_passive_stats_t *st)
{
    if (p == NULL) {
        memset(st, 0, sizeof *st);
        return;
    }
    pthread_mutex_lock(&p->lock);
    *st = p->stats;
    pthread_mutex_unlock(&p->lock);
}
