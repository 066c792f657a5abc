/*
 * orb.c - ORB life cycle, the event loop, the servant worker pool and the
 * per-thread client connection cache.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zmq.h>

#include <phx/log.h>

#include "../transport/iiop/iiop_transport.h"
#include "../transport/zmq/zmq_transport.h"
#include "orb_impl.h"

#define MOD "orb"

static int poll_setup(phx_orb_t *orb);

/* ------------------------------------------------------------------ */
/* A process-wide ZeroMQ context, so inproc:// works between ORBs.      */
/* ------------------------------------------------------------------ */

static pthread_mutex_t zctx_lock = PTHREAD_MUTEX_INITIALIZER;
static void *zctx_shared;
static unsigned zctx_users;

static void *zctx_acquire(void)
{
    pthread_mutex_lock(&zctx_lock);
    if (zctx_shared == NULL)
        zctx_shared = zmq_ctx_new();
    if (zctx_shared)
        zctx_users++;
    void *c = zctx_shared;
    pthread_mutex_unlock(&zctx_lock);
    return c;
}

static void zctx_release(void)
{
    pthread_mutex_lock(&zctx_lock);
    if (zctx_users > 0 && --zctx_users == 0) {
        zmq_ctx_term(zctx_shared);
        zctx_shared = NULL;
    }
    pthread_mutex_unlock(&zctx_lock);
}

/* ------------------------------------------------------------------ */
/* Configuration                                                        */
/* ------------------------------------------------------------------ */

void phx_orb_config_init(phx_orb_config_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->call_timeout_ms = 30000;
    cfg->connect_timeout_ms = 5000;
    cfg->max_message = (size_t)64 << 20;
    cfg->max_forwards = 8;
    cfg->linger_ms = 2000;
    cfg->idle_ms = 60000;
    cfg->server_idle_ms = 120000;
}

/* ------------------------------------------------------------------ */
/* Client connections: one per (thread, endpoint)                       */
/* ------------------------------------------------------------------ */

static void conn_free(phx__conn_t *c)
{
    phx__stashed_t *s = c->stash;
    while (s) {
        phx__stashed_t *n = s->next;
        phx_inmsg_release(&s->msg);
        free(s);
        s = n;
    }
    if (c->tconn)
        c->tp->ops->conn_close(c->tconn);
    free(c->outstanding);
    free(c->endpoint);
    free(c);
}

static void conn_unlink(phx_orb_t *orb, phx__conn_t *c)
{
    if (c->all_prev)
        c->all_prev->all_next = c->all_next;
    else
        orb->all_conns = c->all_next;
    if (c->all_next)
        c->all_next->all_prev = c->all_prev;
}

/* Thread exit: close this thread's connections. */
static void thread_state_free(void *p)
{
    phx__thread_t *t = p;
    phx_orb_t *orb = t->orb;
    pthread_mutex_lock(&orb->conns_lock);
    for (phx__conn_t *c = t->conns; c; c = c->next)
        conn_unlink(orb, c);
    if (t->prev)
        t->prev->next = t->next;
    else
        orb->threads = t->next;
    if (t->next)
        t->next->prev = t->prev;
    pthread_mutex_unlock(&orb->conns_lock);
    phx__conn_t *c = t->conns;
    while (c) {
        phx__conn_t *n = c->next;
        conn_free(c);
        c = n;
    }
    phx__request_free(t->spare);
    free(t);
}

int phx__conn_get(phx_orb_t *orb, phx__transport_t *tp, const char *endpoint,
                  phx__conn_t **out, phx_error_t *err)
{
    phx__thread_t *t = pthread_getspecific(orb->tls_key);
    if (t) {
        for (phx__conn_t *c = t->conns; c; c = c->next) {
            if (c->tp == tp && strcmp(c->endpoint, endpoint) == 0) {
                *out = c;
                return PHX_OK;
            }
        }
    } else {
        t = calloc(1, sizeof *t);
        if (t == NULL)
            return phx_error_set(err, PHX_ENOMEM, "out of memory");
        t->orb = orb;
        if (pthread_setspecific(orb->tls_key, t) != 0) {
            free(t);
            return phx_error_set(err, PHX_ENOMEM, "pthread_setspecific");
        }
        pthread_mutex_lock(&orb->conns_lock);
        t->next = orb->threads;
        if (t->next)
            t->next->prev = t;
        orb->threads = t;
        pthread_mutex_unlock(&orb->conns_lock);
    }
    phx__conn_t *c = calloc(1, sizeof *c);
    if (c == NULL || (c->endpoint = strdup(endpoint)) == NULL) {
        free(c);
        return phx_error_set(err, PHX_ENOMEM, "out of memory");
    }
    c->tp = tp;
    c->next_id = 1;
    int rc = tp->ops->conn_open(tp->state, endpoint, &c->tconn, err);
    if (rc != PHX_OK) {
        c->tconn = NULL;
        conn_free(c);
        return rc;
    }
    c->next = t->conns;
    t->conns = c;
    pthread_mutex_lock(&orb->conns_lock);
    c->all_next = orb->all_conns;
    if (orb->all_conns)
        orb->all_conns->all_prev = c;
    orb->all_conns = c;
    pthread_mutex_unlock(&orb->conns_lock);
    *out = c;
    return PHX_OK;
}

void phx__conn_forget(phx__conn_t *c, uint32_t id)
{
    for (size_t i = 0; i < c->n_outstanding; i++) {
        if (c->outstanding[i] == id) {
            c->outstanding[i] = c->outstanding[--c->n_outstanding];
            break;
        }
    }
    for (phx__stashed_t **pp = &c->stash; *pp; pp = &(*pp)->next) {
        if ((*pp)->request_id == id) {
            phx__stashed_t *s = *pp;
            *pp = s->next;
            phx_inmsg_release(&s->msg);
            free(s);
            break;
        }
    }
}

/* ------------------------------------------------------------------ */
/* Worker pool                                                          */
/* ------------------------------------------------------------------ */

static void *worker_main(void *arg)
{
    phx_orb_t *orb = arg;
    for (;;) {
        pthread_mutex_lock(&orb->wq_lock);
        while (orb->wq_head == NULL && !orb->wq_stop)
            pthread_cond_wait(&orb->wq_cond, &orb->wq_lock);
        phx__work_t *w = orb->wq_head;
        if (w == NULL) {
            pthread_mutex_unlock(&orb->wq_lock);
            break;
        }
        orb->wq_head = w->next;
        if (orb->wq_head == NULL)
            orb->wq_tail = NULL;
        pthread_mutex_unlock(&orb->wq_lock);
        phx__server_handle(w->tp, &w->msg);
        free(w);
    }
    return NULL;
}

void phx__orb_deliver(void *arg, phx_inmsg_t *msg)
{
    phx__transport_t *tp = arg;
    phx_orb_t *orb = tp->orb;
    if (orb->worker_count == 0) {
        phx__server_handle(tp, msg);
        return;
    }
    phx__work_t *w = malloc(sizeof *w);
    if (w == NULL) {
        PHX_ERROR(MOD, "out of memory queueing a request; dropped");
        phx_inmsg_release(msg);
        return;
    }
    w->msg = *msg;
    w->tp = tp;
    w->next = NULL;
    pthread_mutex_lock(&orb->wq_lock);
    if (orb->wq_tail)
        orb->wq_tail->next = w;
    else
        orb->wq_head = w;
    orb->wq_tail = w;
    pthread_cond_signal(&orb->wq_cond);
    pthread_mutex_unlock(&orb->wq_lock);
}

static void workers_stop(phx_orb_t *orb)
{
    if (orb->workers == NULL)
        return;
    pthread_mutex_lock(&orb->wq_lock);
    orb->wq_stop = true;
    pthread_cond_broadcast(&orb->wq_cond);
    pthread_mutex_unlock(&orb->wq_lock);
    for (unsigned i = 0; i < orb->worker_count; i++)
        pthread_join(orb->workers[i], NULL);
    free(orb->workers);
    orb->workers = NULL;
    /* Work still queued was never started: drop it. */
    phx__work_t *w = orb->wq_head;
    while (w) {
        phx__work_t *n = w->next;
        phx_inmsg_release(&w->msg);
        free(w);
        w = n;
    }
    orb->wq_head = orb->wq_tail = NULL;
}

/* ------------------------------------------------------------------ */
/* Life cycle                                                           */
/* ------------------------------------------------------------------ */

phx__transport_t *phx__orb_transport_for(phx_orb_t *orb, const char *endpoint)
{
    for (size_t i = 0; i < orb->transport_count; i++)
        if (orb->transports[i].ops->handles(endpoint))
            return &orb->transports[i];
    return NULL;
}

int phx_orb_create(const phx_orb_config_t *cfg, phx_orb_t **out,
                   phx_error_t *err)
{
    phx_orb_config_t defaults;
    if (cfg == NULL) {
        phx_orb_config_init(&defaults);
        cfg = &defaults;
    }
    if (out == NULL)
        return phx_error_set(err, PHX_EINVAL, "phx_orb_create: out is NULL");
    if (cfg->listen_count && cfg->listen == NULL)
        return phx_error_set(err, PHX_EINVAL,
                             "listen_count is %zu but listen is NULL",
                             cfg->listen_count);
    if (cfg->max_message < 64)
        return phx_error_set(err, PHX_EINVAL,
                             "max_message %zu is too small (minimum 64)",
                             cfg->max_message);
    if (cfg->heartbeat_ivl_ms && cfg->heartbeat_timeout_ms == 0)
        return phx_error_set(err, PHX_EINVAL,
                             "heartbeat_ivl_ms set without "
                             "heartbeat_timeout_ms");

    phx_orb_t *orb = calloc(1, sizeof *orb);
    if (orb == NULL)
        return phx_error_set(err, PHX_ENOMEM, "out of memory");
    orb->cfg = *cfg;
    orb->cfg.listen = NULL;
    orb->cfg.listen_count = 0;
    orb->wake_fd[0] = orb->wake_fd[1] = -1;
    pthread_mutex_init(&orb->wq_lock, NULL);
    pthread_cond_init(&orb->wq_cond, NULL);
    pthread_mutex_init(&orb->conns_lock, NULL);
    int rc;
    if (pthread_key_create(&orb->tls_key, thread_state_free) != 0) {
        pthread_mutex_destroy(&orb->wq_lock);
        pthread_cond_destroy(&orb->wq_cond);
        pthread_mutex_destroy(&orb->conns_lock);
        free(orb);
        return phx_error_set(err, PHX_ENOMEM, "no thread-local key left");
    }
    if ((rc = phx__adapter_init(&orb->adapter)) != PHX_OK) {
        phx_error_set(err, rc, "cannot initialise the object adapter");
        goto fail_key;
    }
    orb->zctx = zctx_acquire();
    if (orb->zctx == NULL) {
        rc = phx_error_set(err, PHX_EIO, "zmq_ctx_new: %s",
                           zmq_strerror(errno));
        goto fail_adapter;
    }
    if (pipe2(orb->wake_fd, O_NONBLOCK | O_CLOEXEC) != 0) {
        rc = phx_error_set(err, PHX_EIO, "pipe: %s", strerror(errno));
        goto fail_adapter;
    }

    orb->transports = calloc(2, sizeof *orb->transports);
    if (orb->transports == NULL) {
        rc = phx_error_set(err, PHX_ENOMEM, "out of memory");
        goto fail_adapter;
    }
    phx_transport_config_t tcfg = {
        .zmq_ctx = orb->zctx,
        .max_message = cfg->max_message,
        .connect_timeout_ms = cfg->connect_timeout_ms,
        .heartbeat_ivl_ms = cfg->heartbeat_ivl_ms,
        .heartbeat_timeout_ms = cfg->heartbeat_timeout_ms,
        .linger_ms = cfg->linger_ms,
        .idle_ms = cfg->idle_ms,
        .server_idle_ms = cfg->server_idle_ms,
    };
    orb->transports[0].ops = &phx__zmq_transport;
    orb->transports[0].orb = orb;
    rc = phx__zmq_transport.init(&tcfg, &orb->transports[0].state, err);
    if (rc != PHX_OK)
        goto fail_adapter;
    orb->transport_count = 1;
    orb->transports[1].ops = &phx__iiop_transport;
    orb->transports[1].orb = orb;
    rc = phx__iiop_transport.init(&tcfg, &orb->transports[1].state, err);
    if (rc != PHX_OK)
        goto fail_all;
    orb->transport_count = 2;

    if (cfg->listen_count) {
        orb->endpoints = calloc(cfg->listen_count, sizeof *orb->endpoints);
        orb->endpoint_tp =
            calloc(cfg->listen_count, sizeof *orb->endpoint_tp);
        if (!orb->endpoints || !orb->endpoint_tp) {
            rc = phx_error_set(err, PHX_ENOMEM, "out of memory");
            goto fail_all;
        }
    }
    for (size_t i = 0; i < cfg->listen_count; i++) {
        const char *ep = cfg->listen[i];
        phx__transport_t *tp = ep ? phx__orb_transport_for(orb, ep) : NULL;
        if (tp == NULL) {
            rc = phx_error_set(err, PHX_EINVAL,
                               "no transport handles endpoint '%s' (expected "
                               "tcp://, ipc://, inproc:// or iiop://)",
                               ep ? ep : "(null)");
            goto fail_all;
        }
        rc = tp->ops->listen(tp->state, ep, &orb->endpoints[i],
                             phx__orb_deliver, tp, err);
        if (rc != PHX_OK)
            goto fail_all;
        orb->endpoint_tp[i] = tp;
        orb->endpoint_count++;
        PHX_INFO(MOD, "serving on %s", orb->endpoints[i]);
    }

    if ((rc = poll_setup(orb)) != PHX_OK) {
        phx_error_set(err, rc, "out of memory");
        goto fail_all;
    }

    if (cfg->workers) {
        orb->workers = calloc(cfg->workers, sizeof *orb->workers);
        if (orb->workers == NULL) {
            rc = phx_error_set(err, PHX_ENOMEM, "out of memory");
            goto fail_all;
        }
        for (unsigned i = 0; i < cfg->workers; i++) {
            if (pthread_create(&orb->workers[i], NULL, worker_main, orb)) {
                rc = phx_error_set(err, PHX_ENOMEM,
                                   "cannot start worker thread %u", i);
                goto fail_all;
            }
            orb->worker_count++;
        }
    }
    *out = orb;
    return PHX_OK;

fail_all:
    phx_orb_destroy(orb);
    return rc;
fail_adapter:
    phx__adapter_fini(&orb->adapter);
    if (orb->zctx)
        zctx_release();
    for (int i = 0; i < 2; i++)
        if (orb->wake_fd[i] >= 0)
            close(orb->wake_fd[i]);
    free(orb->transports);
fail_key:
    pthread_key_delete(orb->tls_key);
    pthread_mutex_destroy(&orb->wq_lock);
    pthread_cond_destroy(&orb->wq_cond);
    pthread_mutex_destroy(&orb->conns_lock);
    free(orb);
    return rc;
}

void phx_orb_destroy(phx_orb_t *orb)
{
    if (orb == NULL)
        return;
    atomic_store(&orb->shutdown, true);
    workers_stop(orb);

    /* Every thread's state goes now, connections included: no thread may
     * be inside a call, and destructors no longer run once the key is
     * deleted. */
    pthread_setspecific(orb->tls_key, NULL);
    pthread_mutex_lock(&orb->conns_lock);
    phx__conn_t *c = orb->all_conns;
    orb->all_conns = NULL;
    phx__thread_t *t = orb->threads;
    orb->threads = NULL;
    pthread_mutex_unlock(&orb->conns_lock);
    while (c) {
        phx__conn_t *n = c->all_next;
        conn_free(c);
        c = n;
    }
    while (t) {
        phx__thread_t *n = t->next;
        phx__request_free(t->spare);
        free(t);
        t = n;
    }
    pthread_key_delete(orb->tls_key);

    phx__adapter_fini(&orb->adapter);
    for (size_t i = 0; i < orb->transport_count; i++)
        orb->transports[i].ops->fini(orb->transports[i].state);
    free(orb->transports);
    for (size_t i = 0; i < orb->endpoint_count; i++)
        free(orb->endpoints[i]);
    free(orb->endpoints);
    free(orb->endpoint_tp);
    free(orb->cis);
    free(orb->sis);
    free(orb->poll_items);
    free(orb->poll_owner);
    for (int i = 0; i < 2; i++)
        if (orb->wake_fd[i] >= 0)
            close(orb->wake_fd[i]);
    pthread_mutex_destroy(&orb->wq_lock);
    pthread_cond_destroy(&orb->wq_cond);
    pthread_mutex_destroy(&orb->conns_lock);
    zctx_release();
    free(orb);
}

size_t phx_orb_endpoint_count(const phx_orb_t *orb)
{
    return orb->endpoint_count;
}

const char *phx_orb_endpoint(const phx_orb_t *orb, size_t i)
{
    return i < orb->endpoint_count ? orb->endpoints[i] : NULL;
}

/* ------------------------------------------------------------------ */
/* Event loop                                                           */
/* ------------------------------------------------------------------ */

void phx_orb_shutdown(phx_orb_t *orb)
{
    atomic_store(&orb->shutdown, true);
    char b = 1;
    ssize_t n = write(orb->wake_fd[1], &b, 1);
    (void)n;
}

/* Gather what the loop polls: the wake-up pipe, then every transport's
 * pollables.  Done once the listeners exist; they do not change after. */
static int poll_setup(phx_orb_t *orb)
{
    size_t total = 1;
    for (size_t t = 0; t < orb->transport_count; t++)
        total += orb->transports[t].ops->pollables(orb->transports[t].state,
                                                   NULL, 0);
    zmq_pollitem_t *items = calloc(total, sizeof *items);
    size_t *owner = calloc(total, sizeof *owner);
    phx_pollable_t *pl = calloc(total, sizeof *pl);
    if (!items || !owner || !pl) {
        free(items);
        free(owner);
        free(pl);
        return PHX_ENOMEM;
    }
    items[0] = (zmq_pollitem_t){.socket = NULL, .fd = orb->wake_fd[0],
                                .events = ZMQ_POLLIN};
    owner[0] = SIZE_MAX;
    size_t n = 1;
    for (size_t t = 0; t < orb->transport_count; t++) {
        phx__transport_t *tp = &orb->transports[t];
        size_t k = tp->ops->pollables(tp->state, pl, total - n);
        for (size_t j = 0; j < k && n < total; j++, n++) {
            items[n] = (zmq_pollitem_t){.socket = pl[j].zsock,
                                        .fd = pl[j].fd,
                                        .events = ZMQ_POLLIN};
            owner[n] = t << 16 | j;
        }
    }
    free(pl);
    orb->poll_items = items;
    orb->poll_owner = owner;
    orb->poll_count = n;
    return PHX_OK;
}

int phx_orb_run_once(phx_orb_t *orb, int timeout_ms)
{
    if (atomic_load(&orb->shutdown))
        return PHX_ESHUTDOWN;
    zmq_pollitem_t *items = orb->poll_items;
    const size_t *owner = orb->poll_owner;
    size_t n = orb->poll_count;

    int handled = 0;
    int rc = zmq_poll(items, (int)n, timeout_ms);
    if (rc < 0 && errno == ETERM) {
        handled = PHX_ESHUTDOWN;
    } else if (rc < 0 && errno != EINTR) {
        PHX_ERROR(MOD, "zmq_poll: %s", zmq_strerror(errno));
        handled = PHX_EIO;
    } else if (rc > 0) {
        if (items[0].revents & ZMQ_POLLIN) {
            char b[64];
            while (read(orb->wake_fd[0], b, sizeof b) > 0)
                ;
        }
        for (size_t i = 1; i < n; i++) {
            if (items[i].revents & ZMQ_POLLIN) {
                phx__transport_t *tp = &orb->transports[owner[i] >> 16];
                tp->ops->on_readable(tp->state, owner[i] & 0xffff);
                handled++;
            }
        }
    } else if (rc == 0) {
        for (size_t t = 0; t < orb->transport_count; t++)
            orb->transports[t].ops->on_readable(orb->transports[t].state,
                                                SIZE_MAX);
    }
    if (handled >= 0 && atomic_load(&orb->shutdown))
        return PHX_ESHUTDOWN;
    return handled;
}

int phx_orb_run(phx_orb_t *orb)
{
    bool expected = false;
    if (!atomic_compare_exchange_strong(&orb->running, &expected, true))
        return PHX_ESTATE;
    int rc;
    while ((rc = phx_orb_run_once(orb, 1000)) >= 0)
        ;
    atomic_store(&orb->running, false);
    return rc == PHX_ESHUTDOWN ? PHX_OK : rc;
}
