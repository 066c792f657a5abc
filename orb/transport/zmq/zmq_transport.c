/*
 * zmq_transport.c - the built-in ZeroMQ transport: whole GIOP messages
 * carried as single ZeroMQ frames over ROUTER (server) and DEALER (client)
 * sockets, for tcp://, ipc:// and inproc:// endpoints.
 *
 * Socket layout
 *
 *   Listener side (event-loop thread)
 *     - one ROUTER per listen endpoint.  An incoming message is
 *       [peer identity][GIOP message]; anything shaped otherwise is
 *       discarded.  ZMQ_MAXMSGSIZE makes libzmq disconnect a peer that
 *       sends an oversized frame; ZMQ_ROUTER_MANDATORY makes a reply to a
 *       peer that has gone fail (EHOSTUNREACH) instead of vanishing.
 *       Replies are sent without blocking and their queue per peer is
 *       unbounded (ZMQ_SNDHWM 0): the event loop never waits for a peer,
 *       and a peer that reads its replies late (it pipelined many
 *       requests) still gets every one of them.
 *     - one PULL ("inproc://phx-zmq-<instance>-replies"), pollable 0.
 *       A thread other than the event loop cannot touch a ROUTER, so its
 *       send_reply pushes [listener index][identity][reply] through a
 *       PUSH socket of its own (one per thread and instance, created on
 *       first use, closed when the thread exits or at fini); the event
 *       loop forwards what arrives on the PULL to the right ROUTER.
 *     pollables() is [PULL, ROUTER 0, ROUTER 1, ...] once a listener
 *     exists, so indices stay stable as listeners are added.
 *     fini unbinds each listener and waits (up to ZT_UNBIND_WAIT_US) until
 *     libzmq has closed it: once fini returns nothing accepts connections
 *     at its endpoints any more, even when the context is shared.
 *
 *   Connection side (the calling thread)
 *     - one DEALER per connection, ZMQ_IMMEDIATE so that it is writable
 *       only while a peer has completed the ZMTP handshake (nothing is
 *       ever queued towards a peer that is not there).
 *     - a PAIR connected to the DEALER's monitor (tcp:// and ipc://).
 *       What libzmq 4.3.4 emits, in order:
 *         peer there:     HANDSHAKE_SUCCEEDED (after CONNECTED)
 *         nobody there:   CLOSED, CONNECT_RETRIED per failed attempt
 *                         (tcp adds CONNECT_DELAYED before them)
 *         name unresolvable: CONNECT_RETRIED alone per attempt
 *         peer lost:      DISCONNECTED, then CONNECT_RETRIED at once
 *                         (the reconnect is only scheduled; no attempt
 *                         has failed yet)
 *       inproc:// emits nothing and cannot fail after the connect, so an
 *       inproc connection has no monitor and is always up.
 *       Events are drained only when a call has to wait anyway, so a send
 *       on an established connection costs the send alone.
 *
 * Connection states (tcp://, ipc://)
 *
 *   down -- HANDSHAKE_SUCCEEDED (or a send that went through) --> up
 *   up   -- DISCONNECTED --> down: epoch + 1, and the loss is reported
 *           once by conn_recv as PHX_ECLOSED.
 *   While down, a failed attempt (CLOSED, a handshake failure, a
 *   DISCONNECTED before up, or a CONNECT_RETRIED other than the one that
 *   follows a loss) marks the connection refused; conn_send reports that
 *   once as PHX_ECONNREFUSED and otherwise waits for the next attempt.
 *   libzmq retries for as long as the connection is open: after
 *   ZT_RECONNECT_IVL_MS, doubling up to ZT_RECONNECT_MAX_MS, plus up to
 *   ZT_RECONNECT_IVL_MS of jitter.  The cap bounds both how late a
 *   returning server is noticed and how fast an idle connection to a dead
 *   one fills its monitor pipe (libzmq drops events beyond its 2000-event
 *   limit; the `up` flag is also set by any send that goes through, so a
 *   lost HANDSHAKE_SUCCEEDED costs at most one spurious refusal).
 *   A loss is reported by the monitor before the DEALER has dropped the
 *   dead peer's pipe (a message sent into it would vanish without a
 *   trace), so the first send after a loss replaces the DEALER and its
 *   monitor by new ones (resync): no reply of an earlier epoch can arrive
 *   after that, and a server that is back is reached at once.
 *
 * Waiting on ZMQ_FD: zmq_poll asks each socket for ZMQ_EVENTS, a system
 * call per socket and pass, which made a round trip ~15% slower than a bare
 * DEALER's.  So conn_recv poll()s the ZMQ_FDs of the DEALER and of the
 * monitor PAIR, and the event loop polls the reply PULL by its ZMQ_FD.
 * Such an fd only signals what arrives after the socket last found its
 * pipes empty, hence three rules: conn_recv tries a non-blocking receive
 * before every wait; the monitor PAIR is read only by mon_drain, always
 * until EAGAIN (once already in conn_open, before any event); the PULL is
 * always read until EAGAIN, with no batch limit.
 *
 * Buffers: messages below ZT_COPY_MAX bytes are copied into ZeroMQ (and
 * disposed of at once), larger ones are handed over with zmq_msg_init_data
 * (no copy; libzmq disposes of them once written, from its I/O thread).
 * A send that fails must leave the buffer with the caller, yet
 * zmq_msg_close of an unsent message calls the free function: so the free
 * function given to libzmq is ours (zt_free, or zt_dispose with a small
 * record holding the buffer's own free_fn/hint), and it skips the one
 * buffer the calling thread marked in tls_keep.
 *
 * Every phx_inmsg_t this transport hands out must be released before
 * fini, and fini must not run while a thread that replied through this
 * instance is exiting.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#include <phx/error.h>
#include <phx/ior.h>
#include <phx/log.h>
#include <phx/transport.h>

#include "zmq_transport.h"

#define MOD "zmq"

/* Messages read per on_readable call, so one busy socket cannot starve
 * the others. */
#define ZT_BATCH 256
/* Below this many bytes a message is copied rather than handed over. */
#define ZT_COPY_MAX 1024
/* Message nodes kept for reuse. */
#define ZT_POOL_MAX 1024
/* libzmq's reconnect interval for client connections, and its cap. */
#define ZT_RECONNECT_IVL_MS 100
#define ZT_RECONNECT_MAX_MS 1000
/* Longest fini waits for a listener's port or path to be released. */
#define ZT_UNBIND_WAIT_US (1000 * 1000)
/* connect_timeout_ms used when the configuration leaves it at 0. */
#define ZT_DEFAULT_CONNECT_MS 5000
/* Largest ZMQ_HEARTBEAT_TTL libzmq accepts. */
#define ZT_HEARTBEAT_TTL_MAX 6553599

#define ZT_MON_EVENTS                                                       \
    (ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED |               \
     ZMQ_EVENT_CONNECT_RETRIED | ZMQ_EVENT_CLOSED |                         \
     ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |                                 \
     ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)

typedef struct zt zt_t;

/* Storage behind one phx_inmsg_t (priv[0] points here). */
typedef struct zt_node {
    zmq_msg_t ident; /* peer identity (listener side only) */
    zmq_msg_t body;
    zt_t *t;
    struct zt_node *next; /* in the pool */
} zt_node_t;

typedef struct zt_listener {
    zt_t *t;
    void *sock; /* ROUTER */
    char *endpoint;
    phx_deliver_fn deliver;
    void *arg;
    uint32_t index;
} zt_listener_t;

/* A thread's PUSH socket towards the reply PULL. */
typedef struct zt_push {
    zt_t *t;
    void *sock;
    struct zt_push *next;
} zt_push_t;

typedef struct zt_conn {
    zt_t *t;
    void *sock; /* DEALER */
    void *mon;  /* PAIR with the DEALER's events; NULL for inproc */
    int fd;     /* ZMQ_FD of sock */
    int mon_fd; /* ZMQ_FD of mon, -1 without one */
    char *endpoint;
    uint64_t epoch;
    bool up;         /* a peer is attached */
    bool refused;    /* an attempt failed since the last report */
    bool lost;       /* a loss conn_recv has not reported yet */
    bool after_loss; /* the next CONNECT_RETRIED only schedules */
    bool resync;     /* a loss seen: renew the DEALER before sending */
    struct zt_conn *prev, *next;
} zt_conn_t;

struct zt {
    phx_transport_config_t cfg;
    void *ctx;
    bool own_ctx;
    uint64_t id;
    int64_t zmq_maxmsg; /* ZMQ_MAXMSGSIZE value: -1 = no limit */

    /* Event-loop side. */
    zt_listener_t **ls;
    size_t nls, cap_ls;
    void *pull;
    int pull_fd; /* ZMQ_FD of pull */
    char pull_ep[64];
    _Atomic(const char *) loop; /* tls_token of the event-loop thread */

    pthread_key_t push_key;
    pthread_mutex_t lock; /* pushes, conns, mon_seq */
    zt_push_t *pushes;
    zt_conn_t *conns;
    uint64_t mon_seq;

    pthread_mutex_t pool_lock;
    zt_node_t *pool;
    size_t npool;
};

/* Instance numbers, for unique inproc names. */
static atomic_uint_least64_t zt_instances;
/* Its address identifies the calling thread. */
static _Thread_local char tls_token;
/* The buffer a failed zero-copy send gives back to its caller. */
static _Thread_local const void *tls_keep;

/* ------------------------------------------------------------------ */
/* Helpers                                                              */
/* ------------------------------------------------------------------ */

/* How a zero-copy buffer with its own free function is disposed of. */
typedef struct zt_owner {
    void (*free_fn)(void *data, void *hint);
    void *hint;
} zt_owner_t;

static void zt_free(void *data, void *hint)
{
    (void)hint;
    if (data != tls_keep)
        free(data);
}

static void zt_dispose(void *data, void *owner)
{
    zt_owner_t *o = owner;
    if (data != tls_keep)
        o->free_fn(data, o->hint);
    free(o);
}

/* Wrap buf's bytes in a message without copying them. */
static int msg_wrap(zmq_msg_t *m, const phx_buf_t *buf)
{
    if (buf->free_fn == NULL)
        return zmq_msg_init_data(m, buf->data, buf->len, zt_free, NULL);
    zt_owner_t *o = malloc(sizeof *o);
    if (o == NULL) {
        errno = ENOMEM;
        return -1;
    }
    o->free_fn = buf->free_fn;
    o->hint = buf->hint;
    if (zmq_msg_init_data(m, buf->data, buf->len, zt_dispose, o) != 0) {
        free(o);
        return -1;
    }
    return 0;
}

/* Close an unsent zero-copy message without freeing the caller's buffer. */
static void give_back(zmq_msg_t *m, const void *data)
{
    tls_keep = data;
    zmq_msg_close(m);
    tls_keep = NULL;
}

static int setopt_int(void *sock, int opt, int val)
{
    return zmq_setsockopt(sock, opt, &val, sizeof val);
}

static int socket_fd(void *sock, int *fd)
{
    size_t len = sizeof *fd;
    return zmq_getsockopt(sock, ZMQ_FD, fd, &len);
}

/* Options every socket facing the network gets. */
static int common_opts(zt_t *t, void *sock)
{
    /* Closing waits up to linger_ms for what was already sent (oneways
     * before an exit, replies before a shutdown); with ZMQ_IMMEDIATE
     * nothing is ever queued for a peer that is not there. */
    uint32_t linger = t->cfg.linger_ms;
    int rc = setopt_int(sock, ZMQ_LINGER, linger > INT_MAX ? INT_MAX
                                                         : (int)linger);
    rc |= zmq_setsockopt(sock, ZMQ_MAXMSGSIZE, &t->zmq_maxmsg,
                         sizeof t->zmq_maxmsg);
    if (t->cfg.heartbeat_ivl_ms > 0) {
        uint32_t ivl = t->cfg.heartbeat_ivl_ms;
        uint32_t tmo = t->cfg.heartbeat_timeout_ms ? t->cfg.heartbeat_timeout_ms
                                                    : 3 * ivl;
        uint32_t ttl = tmo > ZT_HEARTBEAT_TTL_MAX ? ZT_HEARTBEAT_TTL_MAX : tmo;
        rc |= setopt_int(sock, ZMQ_HEARTBEAT_IVL,
                         ivl > INT_MAX ? INT_MAX : (int)ivl);
        rc |= setopt_int(sock, ZMQ_HEARTBEAT_TIMEOUT,
                         tmo > INT_MAX ? INT_MAX : (int)tmo);
        rc |= setopt_int(sock, ZMQ_HEARTBEAT_TTL, (int)ttl);
    }
    return rc;
}

/* Read and drop the remaining frames of a multipart message. */
static size_t skip_rest(void *sock)
{
    size_t n = 0;
    zmq_msg_t f;
    zmq_msg_init(&f);
    while (zmq_msg_recv(&f, sock, ZMQ_DONTWAIT) >= 0) {
        n++;
        if (!zmq_msg_more(&f))
            break;
    }
    zmq_msg_close(&f);
    return n;
}

/* Milliseconds for zmq_poll covering rem_us (rounded up). */
static long poll_ms(int64_t rem_us)
{
    if (rem_us <= 0)
        return 0;
    int64_t ms = (rem_us + 999) / 1000;
    return ms > LONG_MAX / 2 ? LONG_MAX / 2 : (long)ms;
}

static int zmq_status(int e)
{
    switch (e) {
    case ETERM:
        return PHX_ESHUTDOWN;
    case ENOMEM:
        return PHX_ENOMEM;
    default:
        return PHX_EIO;
    }
}

static bool too_big(const zt_t *t, size_t len)
{
    return t->cfg.max_message > 0 && len > t->cfg.max_message;
}

static void mark_loop_thread(zt_t *t)
{
    atomic_store_explicit(&t->loop, &tls_token, memory_order_relaxed);
}

/* ------------------------------------------------------------------ */
/* Message nodes                                                        */
/* ------------------------------------------------------------------ */

static zt_node_t *node_get(zt_t *t)
{
    pthread_mutex_lock(&t->pool_lock);
    zt_node_t *n = t->pool;
    if (n) {
        t->pool = n->next;
        t->npool--;
    }
    pthread_mutex_unlock(&t->pool_lock);
    if (n == NULL) {
        n = malloc(sizeof *n);
        if (n == NULL)
            return NULL;
        n->t = t;
    }
    zmq_msg_init(&n->ident);
    zmq_msg_init(&n->body);
    return n;
}

/* Return a node whose messages are closed (or were never filled). */
static void node_put(zt_node_t *n)
{
    zt_t *t = n->t;
    pthread_mutex_lock(&t->pool_lock);
    if (t->npool < ZT_POOL_MAX) {
        n->next = t->pool;
        t->pool = n;
        t->npool++;
        n = NULL;
    }
    pthread_mutex_unlock(&t->pool_lock);
    free(n);
}

static void node_discard(zt_node_t *n)
{
    zmq_msg_close(&n->ident);
    zmq_msg_close(&n->body);
    node_put(n);
}

static void zt_release(phx_inmsg_t *m)
{
    zt_node_t *n = m->priv[0];
    m->priv[0] = NULL;
    m->data = NULL;
    m->len = 0;
    if (n)
        node_discard(n);
}

static void node_to_inmsg(zt_node_t *n, phx_inmsg_t *m, void *route)
{
    memset(m, 0, sizeof *m);
    m->data = zmq_msg_data(&n->body);
    m->len = zmq_msg_size(&n->body);
    m->route = route;
    m->release = zt_release;
    m->priv[0] = n;
}

/* ------------------------------------------------------------------ */
/* Sending a payload frame                                              */
/* ------------------------------------------------------------------ */

/* Send buf as the last frame of a message.  On success buf's data now
 * belongs to ZeroMQ (or is disposed of) and buf is emptied; on failure
 * the caller still owns it and errno says why. */
static int send_payload(void *sock, phx_buf_t *buf, int flags)
{
    if (buf->len < ZT_COPY_MAX) {
        if (zmq_send(sock, buf->data, buf->len, flags) < 0)
            return -1;
        phx_buf_dispose(buf);
    } else {
        zmq_msg_t m;
        if (msg_wrap(&m, buf) != 0)
            return -1;
        if (zmq_msg_send(&m, sock, flags) < 0) {
            int e = errno;
            give_back(&m, buf->data);
            errno = e;
            return -1;
        }
    }
    buf->data = NULL;
    buf->len = 0;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Instance                                                             */
/* ------------------------------------------------------------------ */

static bool zt_handles(const char *endpoint)
{
    return endpoint != NULL && (strncmp(endpoint, "tcp://", 6) == 0 ||
                                strncmp(endpoint, "ipc://", 6) == 0 ||
                                strncmp(endpoint, "inproc://", 9) == 0);
}

static void push_thread_exit(void *p_)
{
    zt_push_t *p = p_;
    zt_t *t = p->t;
    pthread_mutex_lock(&t->lock);
    for (zt_push_t **pp = &t->pushes; *pp; pp = &(*pp)->next) {
        if (*pp == p) {
            *pp = p->next;
            break;
        }
    }
    pthread_mutex_unlock(&t->lock);
    zmq_close(p->sock);
    free(p);
}

static int zt_init(const phx_transport_config_t *cfg, void **state,
                   phx_error_t *err)
{
    if (cfg == NULL || state == NULL)
        return phx_error_set(err, PHX_EINVAL,
                             "zmq transport init: NULL argument");
    zt_t *t = calloc(1, sizeof *t);
    if (t == NULL)
        return phx_error_set(err, PHX_ENOMEM, "zmq transport: out of memory");
    t->cfg = *cfg;
    t->id = atomic_fetch_add(&zt_instances, 1) + 1;
    t->zmq_maxmsg = cfg->max_message == 0 || cfg->max_message > INT64_MAX
                        ? -1
                        : (int64_t)cfg->max_message;
    if (t->cfg.connect_timeout_ms == 0)
        t->cfg.connect_timeout_ms = ZT_DEFAULT_CONNECT_MS;

    int rc;
    if (cfg->zmq_ctx) {
        t->ctx = cfg->zmq_ctx;
    } else {
        t->ctx = zmq_ctx_new();
        if (t->ctx == NULL) {
            rc = phx_error_set(err, PHX_EIO, "zmq_ctx_new: %s",
                               zmq_strerror(errno));
            free(t);
            return rc;
        }
        t->own_ctx = true;
    }
    t->cfg.zmq_ctx = t->ctx;

    if (pthread_key_create(&t->push_key, push_thread_exit) != 0) {
        rc = phx_error_set(err, PHX_EIO,
                           "zmq transport: no thread-specific key left");
        goto fail_ctx;
    }
    pthread_mutex_init(&t->lock, NULL);
    pthread_mutex_init(&t->pool_lock, NULL);

    snprintf(t->pull_ep, sizeof t->pull_ep, "inproc://phx-zmq-%llu-replies",
             (unsigned long long)t->id);
    t->pull = zmq_socket(t->ctx, ZMQ_PULL);
    if (t->pull == NULL || setopt_int(t->pull, ZMQ_LINGER, 0) != 0 ||
        setopt_int(t->pull, ZMQ_RCVHWM, 0) != 0 ||
        zmq_bind(t->pull, t->pull_ep) != 0 ||
        socket_fd(t->pull, &t->pull_fd) != 0) {
        rc = phx_error_set(err, zmq_status(errno),
                           "zmq transport: cannot set up %s: %s", t->pull_ep,
                           zmq_strerror(errno));
        if (t->pull)
            zmq_close(t->pull);
        pthread_mutex_destroy(&t->lock);
        pthread_mutex_destroy(&t->pool_lock);
        pthread_key_delete(t->push_key);
        goto fail_ctx;
    }
    *state = t;
    PHX_DEBUG(MOD, "instance %llu up (max_message %zu, connect %u ms, "
                   "heartbeat %u/%u ms)",
              (unsigned long long)t->id, cfg->max_message,
              t->cfg.connect_timeout_ms, cfg->heartbeat_ivl_ms,
              cfg->heartbeat_timeout_ms);
    return PHX_OK;

fail_ctx:
    if (t->own_ctx)
        zmq_ctx_term(t->ctx);
    free(t);
    return rc;
}

/* Close a connection's DEALER and monitor; the connection itself stays. */
static void conn_teardown(zt_conn_t *c)
{
    if (c->mon) {
        zmq_socket_monitor(c->sock, NULL, 0);
        zmq_close(c->mon);
        c->mon = NULL;
        c->mon_fd = -1;
    }
    if (c->sock) {
        zmq_close(c->sock);
        c->sock = NULL;
    }
    c->up = c->refused = c->after_loss = c->resync = false;
}

static void conn_destroy(zt_conn_t *c)
{
    conn_teardown(c);
    free(c->endpoint);
    free(c);
}

/* Wait until mon (a PAIR on a socket's monitor) reports that the socket
 * stopped listening on endpoint, or until the deadline. */
static bool wait_closed(void *mon, const char *endpoint, int64_t deadline)
{
    for (;;) {
        int64_t rem = deadline - phx_now_us();
        if (rem <= 0)
            return false;
        zmq_pollitem_t it = {mon, 0, ZMQ_POLLIN, 0};
        int n = zmq_poll(&it, 1, poll_ms(rem));
        if (n < 0 && errno != EINTR)
            return false;
        if (n <= 0)
            continue;
        zmq_msg_t f;
        zmq_msg_init(&f);
        uint16_t ev = 0;
        if (zmq_msg_recv(&f, mon, ZMQ_DONTWAIT) >= 0 &&
            zmq_msg_size(&f) >= 6)
            memcpy(&ev, zmq_msg_data(&f), sizeof ev);
        bool match = false;
        if (zmq_msg_more(&f) && zmq_msg_recv(&f, mon, ZMQ_DONTWAIT) >= 0)
            match = zmq_msg_size(&f) == strlen(endpoint) &&
                    memcmp(zmq_msg_data(&f), endpoint, zmq_msg_size(&f)) == 0;
        if (zmq_msg_more(&f))
            skip_rest(mon);
        zmq_msg_close(&f);
        if (ev == ZMQ_EVENT_CLOSED && match)
            return true;
    }
}

/* Close a listener.  zmq_close only asks libzmq's threads to do it, and
 * with a context shared with others it is not done when the context is
 * terminated either: until then the port (or path) would still accept
 * connections.  So unbind first and wait for the listening socket to be
 * closed, as the monitor reports. */
static void listener_close(zt_t *t, zt_listener_t *l)
{
    void *mon = NULL;
    if (strncmp(l->endpoint, "inproc://", 9) != 0) {
        char mon_ep[96];
        snprintf(mon_ep, sizeof mon_ep, "inproc://phx-zmq-%llu-lmon-%u",
                 (unsigned long long)t->id, l->index);
        if (zmq_socket_monitor(l->sock, mon_ep, ZMQ_EVENT_CLOSED) == 0) {
            mon = zmq_socket(t->ctx, ZMQ_PAIR);
            if (mon && (setopt_int(mon, ZMQ_LINGER, 0) != 0 ||
                        zmq_connect(mon, mon_ep) != 0)) {
                zmq_close(mon);
                mon = NULL;
            }
        }
    }
    if (zmq_unbind(l->sock, l->endpoint) != 0)
        PHX_DEBUG(MOD, "unbinding %s: %s", l->endpoint, zmq_strerror(errno));
    else if (mon && !wait_closed(mon, l->endpoint,
                                 phx_now_us() + ZT_UNBIND_WAIT_US))
        PHX_WARN(MOD, "%s: the listening socket was not closed within "
                      "%d ms",
                 l->endpoint, ZT_UNBIND_WAIT_US / 1000);
    if (mon) {
        zmq_socket_monitor(l->sock, NULL, 0);
        zmq_close(mon);
    }
    zmq_close(l->sock);
    PHX_DEBUG(MOD, "closed listener %s", l->endpoint);
}

static void zt_fini(void *state)
{
    zt_t *t = state;
    if (t == NULL)
        return;
    pthread_mutex_lock(&t->lock);
    zt_conn_t *c = t->conns;
    t->conns = NULL;
    pthread_key_delete(t->push_key);
    zt_push_t *p = t->pushes;
    t->pushes = NULL;
    pthread_mutex_unlock(&t->lock);

    while (c) {
        zt_conn_t *next = c->next;
        PHX_DEBUG(MOD, "closing the connection to %s left open",
                  c->endpoint);
        conn_destroy(c);
        c = next;
    }
    while (p) {
        zt_push_t *next = p->next;
        zmq_close(p->sock);
        free(p);
        p = next;
    }
    for (size_t i = 0; i < t->nls; i++) {
        listener_close(t, t->ls[i]);
        free(t->ls[i]->endpoint);
        free(t->ls[i]);
    }
    free(t->ls);
    zmq_close(t->pull);
    while (t->pool) {
        zt_node_t *n = t->pool;
        t->pool = n->next;
        free(n);
    }
    if (t->own_ctx)
        zmq_ctx_term(t->ctx);
    pthread_mutex_destroy(&t->lock);
    pthread_mutex_destroy(&t->pool_lock);
    free(t);
}

/* ------------------------------------------------------------------ */
/* Listener side                                                        */
/* ------------------------------------------------------------------ */

static int bind_status(int e)
{
    switch (e) {
    case EADDRINUSE:
        return PHX_EEXIST;
    case EINVAL:
    case EPROTONOSUPPORT:
    case ENOCOMPATPROTO:
    case EADDRNOTAVAIL:
    case ENODEV:
        return PHX_EINVAL;
    default:
        return zmq_status(e);
    }
}

static int zt_listen(void *state, const char *endpoint, char **bound,
                     phx_deliver_fn deliver, void *arg, phx_error_t *err)
{
    zt_t *t = state;
    if (t == NULL || deliver == NULL || !zt_handles(endpoint))
        return phx_error_set(err, PHX_EINVAL,
                             "zmq listen: bad endpoint '%s' (expected "
                             "tcp://, ipc:// or inproc://)",
                             endpoint ? endpoint : "(null)");
    mark_loop_thread(t);
    if (t->nls > UINT16_MAX - 2)
        return phx_error_set(err, PHX_ELIMIT, "zmq listen: too many "
                                              "listeners");
    if (t->nls == t->cap_ls) {
        size_t nc = t->cap_ls ? 2 * t->cap_ls : 4;
        zt_listener_t **n = realloc(t->ls, nc * sizeof *n);
        if (n == NULL)
            return phx_error_set(err, PHX_ENOMEM, "out of memory");
        t->ls = n;
        t->cap_ls = nc;
    }
    zt_listener_t *l = calloc(1, sizeof *l);
    if (l == NULL)
        return phx_error_set(err, PHX_ENOMEM, "out of memory");
    int rc;
    l->sock = zmq_socket(t->ctx, ZMQ_ROUTER);
    if (l->sock == NULL) {
        rc = phx_error_set(err, zmq_status(errno), "zmq_socket: %s",
                           zmq_strerror(errno));
        free(l);
        return rc;
    }
    if (common_opts(t, l->sock) != 0 ||
        setopt_int(l->sock, ZMQ_ROUTER_MANDATORY, 1) != 0 ||
        setopt_int(l->sock, ZMQ_SNDHWM, 0) != 0) {
        rc = phx_error_set(err, PHX_EIO, "cannot configure listener %s: %s",
                           endpoint, zmq_strerror(errno));
        goto fail;
    }
    if (zmq_bind(l->sock, endpoint) != 0) {
        int e = errno;
        rc = phx_error_set(err, bind_status(e), "cannot listen on %s: %s",
                           endpoint, zmq_strerror(e));
        goto fail;
    }
    char last[1024];
    size_t last_len = sizeof last;
    if (zmq_getsockopt(l->sock, ZMQ_LAST_ENDPOINT, last, &last_len) != 0 ||
        last_len == 0) {
        rc = phx_error_set(err, PHX_EIO, "cannot read the endpoint bound "
                                         "for %s: %s",
                           endpoint, zmq_strerror(errno));
        goto fail;
    }
    last[sizeof last - 1] = '\0';
    l->endpoint = strdup(last);
    char *copy = bound ? strdup(last) : NULL;
    if (l->endpoint == NULL || (bound && copy == NULL)) {
        free(copy);
        free(l->endpoint);
        rc = phx_error_set(err, PHX_ENOMEM, "out of memory");
        goto fail;
    }
    if (bound)
        *bound = copy;
    l->t = t;
    l->deliver = deliver;
    l->arg = arg;
    l->index = (uint32_t)t->nls;
    t->ls[t->nls++] = l;
    PHX_DEBUG(MOD, "listening on %s", l->endpoint);
    return PHX_OK;

fail:
    zmq_close(l->sock);
    free(l);
    return rc;
}

static size_t zt_pollables(void *state, phx_pollable_t *items, size_t max)
{
    zt_t *t = state;
    if (t == NULL || t->nls == 0)
        return 0;
    size_t total = t->nls + 1;
    for (size_t i = 0; items && i < max && i < total; i++) {
        items[i].zsock = i == 0 ? NULL : t->ls[i - 1]->sock;
        items[i].fd = i == 0 ? t->pull_fd : -1;
    }
    return total;
}

/* Read up to ZT_BATCH requests from a ROUTER and deliver them. */
static void drain_listener(zt_listener_t *l)
{
    for (int k = 0; k < ZT_BATCH; k++) {
        zt_node_t *n = node_get(l->t);
        if (n == NULL) {
            PHX_ERROR(MOD, "out of memory reading from %s", l->endpoint);
            return;
        }
        if (zmq_msg_recv(&n->ident, l->sock, ZMQ_DONTWAIT) < 0) {
            int e = errno;
            node_discard(n);
            if (e == EINTR)
                continue;
            if (e != EAGAIN)
                PHX_ERROR(MOD, "receiving on %s: %s", l->endpoint,
                          zmq_strerror(e));
            return;
        }
        if (!zmq_msg_more(&n->ident)) {
            PHX_WARN(MOD, "%s: discarding a message without payload frame",
                     l->endpoint);
            node_discard(n);
            continue;
        }
        if (zmq_msg_recv(&n->body, l->sock, ZMQ_DONTWAIT) < 0) {
            PHX_WARN(MOD, "%s: payload frame missing: %s", l->endpoint,
                     zmq_strerror(errno));
            node_discard(n);
            continue;
        }
        if (zmq_msg_more(&n->body)) {
            size_t extra = skip_rest(l->sock);
            PHX_WARN(MOD, "%s: discarding a message of %zu frames (a "
                          "GIOP message is one frame)",
                     l->endpoint, extra + 2);
            node_discard(n);
            continue;
        }
        phx_inmsg_t m;
        node_to_inmsg(n, &m, l);
        l->deliver(l->arg, &m);
    }
}

/* Send [identity][payload] on a listener's ROUTER (event-loop thread).
 * payload is consumed either way. */
static void forward_reply(zt_listener_t *l, zmq_msg_t *ident,
                          zmq_msg_t *payload)
{
    if (zmq_msg_send(ident, l->sock, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) {
        int e = errno;
        if (e == EHOSTUNREACH)
            PHX_DEBUG(MOD, "%s: reply for a peer that has gone; dropped",
                      l->endpoint);
        else
            PHX_WARN(MOD, "%s: reply dropped: %s", l->endpoint,
                     e == EAGAIN ? "the peer is not reading"
                                 : zmq_strerror(e));
        return;
    }
    if (zmq_msg_send(payload, l->sock, ZMQ_DONTWAIT) < 0)
        PHX_WARN(MOD, "%s: reply dropped: %s", l->endpoint,
                 zmq_strerror(errno));
}

/* Pass replies queued by other threads on to their ROUTERs.  The PULL is
 * polled through its ZMQ_FD, which only signals new activity: it must be
 * read until EAGAIN every time. */
static void forward_replies(zt_t *t)
{
    for (;;) {
        zmq_msg_t f[3];
        for (int i = 0; i < 3; i++)
            zmq_msg_init(&f[i]);
        int got = 0;
        bool more = true;
        while (got < 3 && more) {
            if (zmq_msg_recv(&f[got], t->pull, ZMQ_DONTWAIT) < 0)
                break;
            more = zmq_msg_more(&f[got]);
            got++;
        }
        if (got == 0) {
            int e = errno;
            for (int i = 0; i < 3; i++)
                zmq_msg_close(&f[i]);
            if (e == EINTR)
                continue;
            if (e != EAGAIN)
                PHX_ERROR(MOD, "reading queued replies: %s", zmq_strerror(e));
            return;
        }
        if (more)
            skip_rest(t->pull);
        uint32_t idx = UINT32_MAX;
        if (got == 3 && !more && zmq_msg_size(&f[0]) == sizeof idx)
            memcpy(&idx, zmq_msg_data(&f[0]), sizeof idx);
        if (idx < t->nls)
            forward_reply(t->ls[idx], &f[1], &f[2]);
        else
            PHX_ERROR(MOD, "malformed internal reply message dropped");
        for (int i = 0; i < 3; i++)
            zmq_msg_close(&f[i]);
    }
}

static void zt_on_readable(void *state, size_t i)
{
    zt_t *t = state;
    if (t == NULL)
        return;
    mark_loop_thread(t);
    if (i == 0 || i == SIZE_MAX)
        forward_replies(t);
    else if (i <= t->nls)
        drain_listener(t->ls[i - 1]);
}

static zt_push_t *push_get(zt_t *t)
{
    zt_push_t *p = pthread_getspecific(t->push_key);
    if (p)
        return p;
    p = calloc(1, sizeof *p);
    if (p == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    p->t = t;
    p->sock = zmq_socket(t->ctx, ZMQ_PUSH);
    if (p->sock == NULL || setopt_int(p->sock, ZMQ_LINGER, 0) != 0 ||
        setopt_int(p->sock, ZMQ_SNDHWM, 0) != 0 ||
        zmq_connect(p->sock, t->pull_ep) != 0) {
        int e = errno;
        if (p->sock)
            zmq_close(p->sock);
        free(p);
        errno = e;
        return NULL;
    }
    pthread_mutex_lock(&t->lock);
    p->next = t->pushes;
    t->pushes = p;
    pthread_mutex_unlock(&t->lock);
    if (pthread_setspecific(t->push_key, p) != 0) {
        push_thread_exit(p);
        errno = ENOMEM;
        return NULL;
    }
    return p;
}

static int zt_send_reply(void *state, const phx_inmsg_t *msg,
                         phx_buf_t *reply, phx_error_t *err)
{
    zt_t *t = state;
    if (t == NULL || msg == NULL || msg->route == NULL ||
        msg->priv[0] == NULL || reply == NULL ||
        (reply->data == NULL && reply->len > 0))
        return phx_error_set(err, PHX_EINVAL,
                             "zmq send_reply: not a request of a listener");
    zt_listener_t *l = msg->route;
    zt_node_t *n = msg->priv[0];
    if (too_big(t, reply->len))
        return phx_error_set(err, PHX_ELIMIT,
                             "reply of %zu bytes exceeds max_message %zu",
                             reply->len, t->cfg.max_message);
    const void *id = zmq_msg_data(&n->ident);
    size_t id_len = zmq_msg_size(&n->ident);

    if (atomic_load_explicit(&t->loop, memory_order_relaxed) == &tls_token) {
        if (zmq_send(l->sock, id, id_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) {
            int e = errno;
            if (e == EHOSTUNREACH) {
                PHX_DEBUG(MOD, "%s: reply for a peer that has gone; dropped",
                          l->endpoint);
                return phx_error_set(err, PHX_ECLOSED,
                                     "%s: the peer of this request has gone",
                                     l->endpoint);
            }
            if (e == EAGAIN)
                return phx_error_set(err, PHX_EAGAIN,
                                     "%s: the peer is not reading its "
                                     "replies",
                                     l->endpoint);
            return phx_error_set(err, zmq_status(e), "%s: sending a reply: %s",
                                 l->endpoint, zmq_strerror(e));
        }
        if (send_payload(l->sock, reply, ZMQ_DONTWAIT) < 0)
            return phx_error_set(err, zmq_status(errno),
                                 "%s: sending a reply: %s", l->endpoint,
                                 zmq_strerror(errno));
        return PHX_OK;
    }

    zt_push_t *p = push_get(t);
    if (p == NULL)
        return phx_error_set(err, zmq_status(errno),
                             "cannot create this thread's reply socket: %s",
                             zmq_strerror(errno));
    uint32_t idx = l->index;
    if (zmq_send(p->sock, &idx, sizeof idx, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 ||
        zmq_send(p->sock, id, id_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 ||
        send_payload(p->sock, reply, ZMQ_DONTWAIT) < 0)
        return phx_error_set(err, zmq_status(errno),
                             "%s: queueing a reply: %s", l->endpoint,
                             zmq_strerror(errno));
    return PHX_OK;
}

static void zt_drop_peer(void *state, const phx_inmsg_t *msg)
{
    (void)state;
    const zt_listener_t *l = msg ? msg->route : NULL;
    PHX_DEBUG(MOD, "%s: ZeroMQ cannot disconnect a single peer of a ROUTER; "
                   "peer kept",
              l ? l->endpoint : "?");
}

/* ------------------------------------------------------------------ */
/* Connection side                                                      */
/* ------------------------------------------------------------------ */

static void mon_apply(zt_conn_t *c, uint16_t ev, uint32_t value)
{
    PHX_TRACE(MOD, "%s: monitor event 0x%x (%u)", c->endpoint, ev, value);
    switch (ev) {
    case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
        if (!c->up)
            PHX_DEBUG(MOD, "connected to %s", c->endpoint);
        c->up = true;
        c->refused = false;
        c->after_loss = false;
        break;
    case ZMQ_EVENT_DISCONNECTED:
        if (c->up) {
            c->up = false;
            c->epoch++;
            c->lost = true;
            c->resync = true;
            PHX_INFO(MOD, "connection to %s lost (epoch %llu)", c->endpoint,
                     (unsigned long long)c->epoch);
        } else {
            c->refused = true;
        }
        c->after_loss = true;
        break;
    case ZMQ_EVENT_CONNECT_RETRIED:
        if (c->after_loss)
            c->after_loss = false;
        else if (!c->up)
            c->refused = true;
        break;
    case ZMQ_EVENT_CLOSED:
    case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
    case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
    case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
        if (!c->up)
            c->refused = true;
        break;
    default:
        break;
    }
}

/* Apply every monitor event already queued (does not wait). */
static void mon_drain(zt_conn_t *c)
{
    zmq_msg_t f;
    zmq_msg_init(&f);
    while (zmq_msg_recv(&f, c->mon, ZMQ_DONTWAIT) >= 0) {
        bool more = zmq_msg_more(&f);
        bool ok = more && zmq_msg_size(&f) >= 6;
        uint16_t ev = 0;
        uint32_t value = 0;
        if (ok) {
            const uint8_t *d = zmq_msg_data(&f);
            memcpy(&ev, d, sizeof ev);
            memcpy(&value, d + 2, sizeof value);
        }
        if (more)
            skip_rest(c->mon);
        if (ok)
            mon_apply(c, ev, value);
    }
    zmq_msg_close(&f);
}

/* Create the DEALER (and its monitor) and start connecting. */
static int conn_setup(zt_conn_t *c, phx_error_t *err)
{
    zt_t *t = c->t;
    const char *endpoint = c->endpoint;
    int rc;
    c->sock = zmq_socket(t->ctx, ZMQ_DEALER);
    if (c->sock == NULL)
        return phx_error_set(err, zmq_status(errno), "zmq_socket: %s",
                             zmq_strerror(errno));
    int ctmo = t->cfg.connect_timeout_ms > INT_MAX
                   ? INT_MAX
                   : (int)t->cfg.connect_timeout_ms;
    if (common_opts(t, c->sock) != 0 ||
        setopt_int(c->sock, ZMQ_IMMEDIATE, 1) != 0 ||
        setopt_int(c->sock, ZMQ_RECONNECT_IVL, ZT_RECONNECT_IVL_MS) != 0 ||
        setopt_int(c->sock, ZMQ_RECONNECT_IVL_MAX, ZT_RECONNECT_MAX_MS) !=
            0 ||
        setopt_int(c->sock, ZMQ_CONNECT_TIMEOUT, ctmo) != 0 ||
        socket_fd(c->sock, &c->fd) != 0) {
        rc = phx_error_set(err, PHX_EIO, "cannot configure a connection to "
                                         "%s: %s",
                           endpoint, zmq_strerror(errno));
        goto fail;
    }
    if (strncmp(endpoint, "inproc://", 9) == 0) {
        c->up = true;
    } else {
        char mon_ep[96];
        pthread_mutex_lock(&t->lock);
        uint64_t seq = ++t->mon_seq;
        pthread_mutex_unlock(&t->lock);
        snprintf(mon_ep, sizeof mon_ep, "inproc://phx-zmq-%llu-mon-%llu",
                 (unsigned long long)t->id, (unsigned long long)seq);
        if (zmq_socket_monitor(c->sock, mon_ep, ZT_MON_EVENTS) != 0) {
            rc = phx_error_set(err, zmq_status(errno), "cannot monitor a "
                                                       "connection to %s: %s",
                               endpoint, zmq_strerror(errno));
            goto fail;
        }
        c->mon = zmq_socket(t->ctx, ZMQ_PAIR);
        if (c->mon == NULL || setopt_int(c->mon, ZMQ_LINGER, 0) != 0 ||
            zmq_connect(c->mon, mon_ep) != 0 ||
            socket_fd(c->mon, &c->mon_fd) != 0) {
            rc = phx_error_set(err, zmq_status(errno), "cannot monitor a "
                                                       "connection to %s: %s",
                               endpoint, zmq_strerror(errno));
            goto fail;
        }
        /* A pipe nobody has found empty yet does not signal new
         * messages: read it once so that mon_fd reports every event. */
        mon_drain(c);
    }
    if (zmq_connect(c->sock, endpoint) != 0) {
        int e = errno;
        rc = phx_error_set(err, e == ENOMEM ? PHX_ENOMEM : PHX_EINVAL,
                           "cannot connect to %s: %s", endpoint,
                           zmq_strerror(e));
        goto fail;
    }
    return PHX_OK;

fail:
    conn_teardown(c);
    return rc;
}

static int zt_conn_open(void *state, const char *endpoint, void **conn,
                        phx_error_t *err)
{
    zt_t *t = state;
    if (t == NULL || conn == NULL || !zt_handles(endpoint))
        return phx_error_set(err, PHX_EINVAL,
                             "zmq connect: bad endpoint '%s' (expected "
                             "tcp://, ipc:// or inproc://)",
                             endpoint ? endpoint : "(null)");
    zt_conn_t *c = calloc(1, sizeof *c);
    if (c == NULL || (c->endpoint = strdup(endpoint)) == NULL) {
        free(c);
        return phx_error_set(err, PHX_ENOMEM, "out of memory");
    }
    c->t = t;
    c->mon_fd = -1;
    int rc = conn_setup(c, err);
    if (rc != PHX_OK) {
        conn_destroy(c);
        return rc;
    }
    pthread_mutex_lock(&t->lock);
    c->next = t->conns;
    if (t->conns)
        t->conns->prev = c;
    t->conns = c;
    pthread_mutex_unlock(&t->lock);
    *conn = c;
    PHX_DEBUG(MOD, "connection to %s opened", endpoint);
    return PHX_OK;
}

static void zt_conn_close(void *conn)
{
    zt_conn_t *c = conn;
    if (c == NULL)
        return;
    zt_t *t = c->t;
    pthread_mutex_lock(&t->lock);
    if (c->prev)
        c->prev->next = c->next;
    else
        t->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    pthread_mutex_unlock(&t->lock);
    PHX_DEBUG(MOD, "connection to %s closed", c->endpoint);
    conn_destroy(c);
}

/* One non-blocking send attempt of a prepared message. */
static int try_send(zt_conn_t *c, zmq_msg_t *zm, const phx_buf_t *buf)
{
    if (zm)
        return zmq_msg_send(zm, c->sock, ZMQ_DONTWAIT) < 0 ? -1 : 0;
    return zmq_send(c->sock, buf->data, buf->len, ZMQ_DONTWAIT) < 0 ? -1 : 0;
}

static int zt_conn_send(void *conn, phx_buf_t *buf, int64_t deadline_us,
                        phx_error_t *err)
{
    zt_conn_t *c = conn;
    if (c == NULL || buf == NULL || (buf->data == NULL && buf->len > 0))
        return phx_error_set(err, PHX_EINVAL, "zmq conn_send: NULL argument");
    zt_t *t = c->t;
    if (too_big(t, buf->len))
        return phx_error_set(err, PHX_ELIMIT,
                             "message of %zu bytes exceeds max_message %zu",
                             buf->len, t->cfg.max_message);

    zmq_msg_t msg, *zm = NULL;
    if (buf->len >= ZT_COPY_MAX) {
        if (msg_wrap(&msg, buf) != 0)
            return phx_error_set(err, PHX_ENOMEM, "out of memory");
        zm = &msg;
    }
    int rc = PHX_OK;
    if (!c->resync && c->sock) {
        if (try_send(c, zm, buf) == 0)
            goto sent;
        if (errno != EAGAIN) {
            rc = phx_error_set(err, zmq_status(errno), "sending to %s: %s",
                               c->endpoint, zmq_strerror(errno));
            goto failed;
        }
    }

    /* Not writable: no peer yet, or the send queue is full; or a loss was
     * seen (resync). */
    int64_t deadline =
        deadline_us > 0 ? deadline_us
                        : phx_now_us() +
                              (int64_t)t->cfg.connect_timeout_ms * 1000;
    if (c->mon)
        mon_drain(c);
    for (;;) {
        if (c->resync || c->sock == NULL) {
            /* libzmq reports a loss before the DEALER has let go of the
             * dead peer's pipe, and a message sent into that pipe would
             * vanish: start afresh with a new DEALER, which also makes
             * sure no reply of an earlier epoch can still arrive. */
            conn_teardown(c);
            rc = conn_setup(c, err);
            if (rc != PHX_OK)
                goto failed;
            PHX_DEBUG(MOD, "connection to %s renewed after a loss",
                      c->endpoint);
        }
        if (!c->up && c->refused) {
            /* The next send starts afresh: libzmq keeps retrying in the
             * background and queues an event per failed attempt, so what
             * the monitor holds by then may be refusals from before a
             * server came (back); a new DEALER makes one attempt now. */
            c->refused = false;
            c->resync = true;
            rc = phx_error_set(err, PHX_ECONNREFUSED,
                               "nothing accepts connections at %s",
                               c->endpoint);
            goto failed;
        }
        int64_t rem = deadline - phx_now_us();
        if (rem <= 0) {
            rc = phx_error_set(err, PHX_ETIMEDOUT,
                               c->up ? "the send queue to %s stayed full "
                                       "until the deadline"
                                     : "no connection to %s could be "
                                       "established before the deadline",
                               c->endpoint);
            goto failed;
        }
        zmq_pollitem_t it[2] = {{c->sock, 0, ZMQ_POLLOUT, 0},
                                {NULL, c->mon_fd, ZMQ_POLLIN, 0}};
        int n = zmq_poll(it, c->mon ? 2 : 1, poll_ms(rem));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            rc = phx_error_set(err, zmq_status(errno), "waiting for %s: %s",
                               c->endpoint, zmq_strerror(errno));
            goto failed;
        }
        if (it[0].revents & ZMQ_POLLOUT) {
            if (try_send(c, zm, buf) == 0)
                goto sent;
            if (errno != EAGAIN) {
                rc = phx_error_set(err, zmq_status(errno), "sending to %s: %s",
                                   c->endpoint, zmq_strerror(errno));
                goto failed;
            }
        }
        if (c->mon && (it[1].revents & ZMQ_POLLIN))
            mon_drain(c);
    }

sent:
    if (zm == NULL)
        phx_buf_dispose(buf);
    buf->data = NULL;
    buf->len = 0;
    c->up = true;
    return PHX_OK;

failed:
    if (zm)
        give_back(zm, buf->data);
    return rc;
}

static int zt_conn_recv(void *conn, phx_inmsg_t *msg, int64_t deadline_us,
                        phx_error_t *err)
{
    zt_conn_t *c = conn;
    if (c == NULL || msg == NULL)
        return phx_error_set(err, PHX_EINVAL, "zmq conn_recv: NULL argument");
    if (c->sock == NULL) {
        if (c->lost) {
            c->lost = false;
            return phx_error_set(err, PHX_ECLOSED,
                                 "connection to %s lost (epoch %llu)",
                                 c->endpoint, (unsigned long long)c->epoch);
        }
        return phx_error_set(err, PHX_EIO,
                             "connection to %s could not be renewed",
                             c->endpoint);
    }
    zt_node_t *n = node_get(c->t);
    if (n == NULL)
        return phx_error_set(err, PHX_ENOMEM, "out of memory");
    int rc;
    bool last = false;
    for (;;) {
        if (zmq_msg_recv(&n->body, c->sock, ZMQ_DONTWAIT) >= 0) {
            if (!zmq_msg_more(&n->body)) {
                node_to_inmsg(n, msg, NULL);
                return PHX_OK;
            }
            size_t extra = skip_rest(c->sock);
            PHX_WARN(MOD, "%s: discarding a reply of %zu frames (a GIOP "
                          "message is one frame)",
                     c->endpoint, extra + 1);
            continue;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN) {
            rc = phx_error_set(err, zmq_status(errno), "receiving from %s: %s",
                               c->endpoint, zmq_strerror(errno));
            break;
        }
        if (c->lost) {
            c->lost = false;
            rc = phx_error_set(err, PHX_ECLOSED,
                               "connection to %s lost (epoch %llu)",
                               c->endpoint, (unsigned long long)c->epoch);
            break;
        }
        if (last) {
            rc = phx_error_set(err, PHX_ETIMEDOUT,
                               "no message from %s before the deadline",
                               c->endpoint);
            break;
        }
        long tmo = -1;
        if (deadline_us >= 0) {
            int64_t rem = deadline_us == 0 ? 0 : deadline_us - phx_now_us();
            if (rem <= 0)
                last = true;
            tmo = poll_ms(rem);
        }
        /* The failed receive above has consumed the DEALER's pending
         * commands, so its ZMQ_FD signals whatever arrives next. */
        struct pollfd pf[2] = {{c->fd, POLLIN, 0}, {c->mon_fd, POLLIN, 0}};
        int r = poll(pf, c->mon ? 2 : 1, tmo > INT_MAX ? INT_MAX : (int)tmo);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            rc = phx_error_set(err, PHX_EIO, "waiting for %s: %s",
                               c->endpoint, strerror(errno));
            break;
        }
        if (c->mon && pf[1].revents)
            mon_drain(c);
    }
    node_discard(n);
    return rc;
}

static uint64_t zt_conn_epoch(void *conn)
{
    const zt_conn_t *c = conn;
    return c ? c->epoch : 0;
}

const phx_transport_ops_t phx__zmq_transport = {
    .name = "zmq",
    .profile_tag = PHX_TAG_ZMQ_IOP,
    .handles = zt_handles,
    .init = zt_init,
    .fini = zt_fini,
    .listen = zt_listen,
    .pollables = zt_pollables,
    .on_readable = zt_on_readable,
    .send_reply = zt_send_reply,
    .drop_peer = zt_drop_peer,
    .conn_open = zt_conn_open,
    .conn_close = zt_conn_close,
    .conn_send = zt_conn_send,
    .conn_recv = zt_conn_recv,
    .conn_epoch = zt_conn_epoch,
};
