/*
 * embedded.c - the built-in GCS backend ("embedded"): the protocol of
 * order.c, member.c and groups.c runs on an engine thread of its own over
 * the ZeroMQ links of net.c; the application talks to it through two
 * queues, like a Corosync client talks to the corosync daemon:
 *
 *   application --commands--> engine   multicast, join, leave, states;
 *                                       an eventfd wakes the engine
 *   engine --events--> application     deliveries, views, state requests;
 *                                       an eventfd is phx_gcs_fd()
 *
 * Both queues are lists swapped whole under one mutex, and a side only
 * writes the eventfd when it made a queue non-empty, so a burst costs one
 * wake-up.  The engine batches too: everything that arrived while it was
 * busy is handled before it sends, so frames carry many items under load.
 *
 * Flow control: multicast fails with PHX_EAGAIN while max_pending of this
 * process's messages are undelivered; while more than max_queue events
 * wait for dispatch the engine stops acknowledging, which stops delivery
 * at every member and so fills every sender's window (back-pressure, not
 * unbounded queues).
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <unistd.h>

#include <zmq.h>

#include <phx/error.h>
#include <phx/gcs.h>
#include <phx/log.h>
#include <phx/transport.h>

#include "ft/gcs/backend.h"
#include "ft/gcs/engine.h"

#define MOD "gcs"
/* Frames handled per loop iteration before the engine sends. */
#define RECV_BUDGET 4096
/* Frames at least this large are shared between peers, not copied. */
#define SHARE_MIN 4096

static const char *key_is_value(const void *val)
{
    return val;
}

typedef struct emb {
    gcs_engine_t e;
    /* application thread only */
    gcs_map_t joined;  /* group name -> malloc'd copy of it */
} emb_t;

/* ------------------------------------------------------------------ */
/* Items, events, strings                                               */
/* ------------------------------------------------------------------ */

gcs_item_t *phx__gcs_item_new(uint8_t kind, const char *group, size_t glen,
                              const void *data, size_t len)
{
    gcs_item_t *it = malloc(sizeof *it + glen + 1 + len);
    if (it == NULL)
        return NULL;
    memset(it, 0, sizeof *it);
    atomic_init(&it->refs, 1);
    it->kind = kind;
    it->glen = glen;
    it->len = len;
    it->group = it->buf;
    memcpy(it->group, group, glen);
    it->group[glen] = '\0';
    it->gh = phx__gcs_hash(group, glen);
    it->data = (uint8_t *)it->buf + glen + 1;
    if (len)
        memcpy(it->data, data, len);
    return it;
}

void phx__gcs_item_ref(gcs_item_t *it)
{
    atomic_fetch_add_explicit(&it->refs, 1, memory_order_relaxed);
}

void phx__gcs_item_unref(gcs_item_t *it)
{
    if (it && atomic_fetch_sub_explicit(&it->refs, 1,
                                        memory_order_acq_rel) == 1)
        free(it);
}

void phx__gcs_ev_free(gcs_ev_t *ev)
{
    if (ev == NULL)
        return;
    switch (ev->type) {
    case GCS_EV_DELIVER:
    case GCS_CMD_SUBMIT:
        phx__gcs_item_unref((gcs_item_t *)ev);
        break;
    case GCS_CMD_STATE:
        phx__gcs_xfer_free((gcs_xfer_t *)ev);
        break;
    default:
        free(ev);
        break;
    }
}

static void ev_list_free(gcs_ev_t *ev)
{
    while (ev) {
        gcs_ev_t *n = ev->next;
        phx__gcs_ev_free(ev);
        ev = n;
    }
}

const char *phx__gcs_intern(gcs_engine_t *e, const char *s, size_t len)
{
    uint64_t h = phx__gcs_hash(s, len);
    char *p = phx__gcs_map_gets(&e->strings, h, s, len);
    if (p)
        return p;
    p = malloc(len + 1);
    if (p == NULL)
        return NULL;
    memcpy(p, s, len);
    p[len] = '\0';
    if (phx__gcs_map_puts(&e->strings, h, p, len, p) != 0) {
        free(p);
        return NULL;
    }
    return p;
}

uint64_t phx__gcs_new_id(void)
{
    uint64_t id = 0;
    static atomic_uint_least64_t salt;
    while (id == 0) {
        if (getrandom(&id, sizeof id, GRND_NONBLOCK) != sizeof id) {
            id = (uint64_t)phx_now_us() * 0x9e3779b97f4a7c15ull ^
                 ((uint64_t)getpid() << 32) ^
                 atomic_fetch_add(&salt, 0x2545f4914f6cdd1dull);
        }
    }
    return id;
}

void phx__gcs_emit(gcs_engine_t *e, gcs_ev_t *ev)
{
    ev->next = NULL;
    if (e->out_tail)
        e->out_tail->next = ev;
    else
        e->out_head = ev;
    e->out_tail = ev;
    e->out_n++;
}

static void wake(int fd)
{
    uint64_t one = 1;
    ssize_t n;
    do {
        n = write(fd, &one, sizeof one);
    } while (n < 0 && errno == EINTR);
}

static void drain(int fd)
{
    uint64_t v;
    ssize_t n;
    do {
        n = read(fd, &v, sizeof v);
    } while (n < 0 && errno == EINTR);
}

/* Hand this iteration's events to the application. */
static void publish(gcs_engine_t *e)
{
    if (e->out_head == NULL)
        return;
    pthread_mutex_lock(&e->lock);
    bool was_empty = e->evq_head == NULL;
    if (e->evq_tail)
        e->evq_tail->next = e->out_head;
    else
        e->evq_head = e->out_head;
    e->evq_tail = e->out_tail;
    atomic_fetch_add(&e->queued, e->out_n);
    pthread_mutex_unlock(&e->lock);
    e->out_head = e->out_tail = NULL;
    e->out_n = 0;
    if (was_empty)
        wake(e->app_fd);
}

static void command(gcs_engine_t *e, gcs_ev_t *ev)
{
    ev->next = NULL;
    pthread_mutex_lock(&e->lock);
    bool was_empty = e->cmd_head == NULL;
    if (e->cmd_tail)
        e->cmd_tail->next = ev;
    else
        e->cmd_head = ev;
    e->cmd_tail = ev;
    pthread_mutex_unlock(&e->lock);
    if (was_empty)
        wake(e->wake_fd);
}

/* ------------------------------------------------------------------ */
/* Sending                                                              */
/* ------------------------------------------------------------------ */

static void send_msg(gcs_engine_t *e, gcs_peer_t *p, zmq_msg_t *m)
{
    atomic_fetch_add_explicit(&e->st_out, 1, memory_order_relaxed);
    phx__gcs_fault_send(&e->fault, &e->net, p, m, e->now);
}

void phx__gcs_send_buf(gcs_engine_t *e, gcs_peer_t *p, const uint8_t *buf,
                       size_t len)
{
    zmq_msg_t m;
    if (p == NULL || zmq_msg_init_size(&m, len) != 0)
        return;
    memcpy(zmq_msg_data(&m), buf, len);
    send_msg(e, p, &m);
}

void phx__gcs_send_peer(gcs_engine_t *e, gcs_peer_t *p)
{
    if (phx_cdr_writer_status(&e->w) == 0)
        phx__gcs_send_buf(e, p, phx_cdr_writer_data(&e->w),
                          phx_cdr_writer_len(&e->w));
}

void phx__gcs_send(gcs_engine_t *e, gcs_node_t *to)
{
    if (to && to->peer)
        phx__gcs_send_peer(e, to->peer);
}

static void free_stolen(void *data, void *hint)
{
    (void)hint;
    free(data);
}

void phx__gcs_bcast(gcs_engine_t *e)
{
    if (phx_cdr_writer_status(&e->w) != 0)
        return;
    size_t targets = 0;
    for (size_t i = 0; i < e->n_members; i++) {
        gcs_node_t *m = e->members[i];
        if (m != e->me && m->peer && !m->suspected)
            targets++;
    }
    if (targets == 0)
        return;
    if (phx_cdr_writer_len(&e->w) < SHARE_MIN || targets == 1) {
        for (size_t i = 0; i < e->n_members; i++) {
            gcs_node_t *m = e->members[i];
            if (m != e->me && m->peer && !m->suspected)
                phx__gcs_send_peer(e, m->peer);
        }
        return;
    }
    size_t len;
    uint8_t *buf = phx_cdr_writer_steal(&e->w, &len);
    zmq_msg_t shared;
    if (buf == NULL)
        return;
    if (zmq_msg_init_data(&shared, buf, len, free_stolen, NULL) != 0) {
        free(buf);
        return;
    }
    for (size_t i = 0; i < e->n_members; i++) {
        gcs_node_t *m = e->members[i];
        if (m == e->me || m->peer == NULL || m->suspected)
            continue;
        zmq_msg_t c;
        zmq_msg_init(&c);
        if (zmq_msg_copy(&c, &shared) == 0)
            send_msg(e, m->peer, &c);
        else
            zmq_msg_close(&c);
    }
    zmq_msg_close(&shared);
}

/* ------------------------------------------------------------------ */
/* The engine thread                                                    */
/* ------------------------------------------------------------------ */

static void handle_frame(gcs_engine_t *e, zmq_msg_t *m)
{
    atomic_fetch_add_explicit(&e->st_in, 1, memory_order_relaxed);
    phx_cdr_reader_t r;
    gcs_hdr_t h;
    int rc = phx__gcs_wire_open(&r, zmq_msg_data(m), zmq_msg_size(m),
                                e->max_frame, &h);
    if (rc) {
        uint64_t bad = atomic_fetch_add(&e->st_bad, 1) + 1;
        if (bad <= 5 || bad % 1000 == 0)
            PHX_WARN(MOD, "%s: dropped a malformed frame of %zu byte(s) "
                     "(%s; %llu so far)", e->name, zmq_msg_size(m),
                     phx_strerror(rc), (unsigned long long)bad);
        return;
    }
    phx__gcs_member_frame(e, &h, &r);
}

static bool run_commands(gcs_engine_t *e)
{
    drain(e->wake_fd);
    pthread_mutex_lock(&e->lock);
    gcs_ev_t *list = e->cmd_head;
    e->cmd_head = e->cmd_tail = NULL;
    pthread_mutex_unlock(&e->lock);
    bool stop = false;
    while (list) {
        gcs_ev_t *ev = list;
        list = list->next;
        ev->next = NULL;
        switch (ev->type) {
        case GCS_CMD_SUBMIT: {
            gcs_item_t *it = (gcs_item_t *)ev;
            if (e->state == GCS_S_BLOCKED || stop) {
                atomic_fetch_sub(&e->pending, 1);
                phx__gcs_item_unref(it);
            } else {
                phx__gcs_order_pend(e, it);
            }
            break;
        }
        case GCS_CMD_JOIN:
        case GCS_CMD_LEAVE:
            phx__gcs_groups_want(e, ((gcs_gcmd_t *)ev)->name,
                                 ev->type == GCS_CMD_JOIN);
            free(ev);
            break;
        case GCS_CMD_STATE:
            phx__gcs_groups_xfer(e, (gcs_xfer_t *)ev);
            break;
        case GCS_CMD_INJECT: {
            phx_error_t err;
            if (phx__gcs_fault_set(&e->fault, ((gcs_gcmd_t *)ev)->name,
                                   &err) != 0)
                PHX_WARN(MOD, "%s: %s", e->name, err.msg);
            free(ev);
            break;
        }
        case GCS_CMD_STOP:
            stop = true;
            free(ev);
            break;
        default:
            phx__gcs_ev_free(ev);
            break;
        }
    }
    return stop;
}

static void *engine_main(void *arg)
{
    gcs_engine_t *e = arg;
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);

    zmq_pollitem_t *items = NULL;
    gcs_peer_t **item_peer = NULL;
    size_t n_items = 0, cap_items = 0;
    int64_t groups_tick_us = 0;
    bool stop = false;
    e->net.dirty = true;
    while (!stop) {
        if (e->net.dirty) {
            size_t need = 2 + e->net.n_peers;
            if (need > cap_items) {
                zmq_pollitem_t *ni = realloc(items, need * sizeof *ni);
                gcs_peer_t **np = realloc(item_peer, need * sizeof *np);
                if (ni)
                    items = ni;
                if (np)
                    item_peer = np;
                if (ni == NULL || np == NULL) {
                    PHX_ERROR(MOD, "%s: out of memory in the engine loop",
                              e->name);
                    break;
                }
                cap_items = need;
            }
            items[0] = (zmq_pollitem_t){e->net.pull, 0, ZMQ_POLLIN, 0};
            items[1] = (zmq_pollitem_t){NULL, e->wake_fd, ZMQ_POLLIN, 0};
            n_items = 2;
            for (size_t i = 0; i < e->net.n_peers; i++) {
                gcs_peer_t *p = e->net.peers[i];
                if (p->mon == NULL)
                    continue;
                items[n_items] = (zmq_pollitem_t){p->mon, 0, ZMQ_POLLIN, 0};
                item_peer[n_items++] = p;
            }
            e->net.dirty = false;
        }
        int64_t next = e->now + e->rto_us;
        if (e->state == GCS_S_OPERATIONAL || e->state == GCS_S_FLUSH) {
            if (e->hb_next_us < next)
                next = e->hb_next_us;
        } else if (e->join_next_us < next) {
            next = e->join_next_us;
        }
        int64_t fnext = phx__gcs_fault_next(&e->fault);
        if (fnext < next)
            next = fnext;
        long wait_ms = next <= e->now ? 0 : (long)((next - e->now + 999) /
                                                   1000);
        if (wait_ms > 1000)
            wait_ms = 1000;
        int rc = zmq_poll(items, (int)n_items, wait_ms);
        e->now = phx_now_us();
        if (rc < 0) {
            if (errno == ETERM)
                break;
            if (errno != EINTR)
                PHX_WARN(MOD, "%s: poll: %s", e->name, zmq_strerror(errno));
        }
        if (rc > 0 && (items[1].revents & ZMQ_POLLIN))
            stop = run_commands(e);
        for (int k = 0; k < RECV_BUDGET; k++) {
            zmq_msg_t m;
            zmq_msg_init(&m);
            if (!phx__gcs_net_recv(&e->net, &m)) {
                zmq_msg_close(&m);
                break;
            }
            handle_frame(e, &m);
            zmq_msg_close(&m);
        }
        /* Installing a view may close links: the poll set is then stale
         * and monitors wait for the next round (their events stay). */
        for (size_t i = 2; rc > 0 && !e->net.dirty && i < n_items; i++) {
            if (!(items[i].revents & ZMQ_POLLIN))
                continue;
            if (phx__gcs_net_monitor(&e->net, item_peer[i]) & GCS_NET_DOWN)
                phx__gcs_member_peer_down(e, item_peer[i]);
        }
        phx__gcs_fault_run(&e->fault, &e->net, e->now);
        phx__gcs_member_tick(e);
        phx__gcs_order_tick(e);
        if (e->now >= groups_tick_us) {
            phx__gcs_groups_tick(e);
            groups_tick_us = e->now + e->rto_us;
        }
        phx__gcs_order_pump(e);
        publish(e);
    }
    phx__gcs_member_goodbye(e);
    e->state = GCS_S_STOPPED;
    atomic_store(&e->stopped, true);
    free(items);
    free(item_peer);
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Backend operations                                                   */
/* ------------------------------------------------------------------ */

static void teardown(emb_t *b)
{
    gcs_engine_t *e = &b->e;
    phx__gcs_groups_fini(e);
    phx__gcs_order_fini(e);
    phx__gcs_member_fini(e);
    ev_list_free(e->out_head);
    ev_list_free(e->evq_head);
    ev_list_free(e->cmd_head);
    phx__gcs_fault_fini(&e->fault);
    phx__gcs_net_fini(&e->net);
    if (e->zctx)
        zmq_ctx_term(e->zctx);
    phx_cdr_writer_fini(&e->w);
    GCS_MAP_FOREACH(&e->strings, i)
    free(e->strings.slots[i].val);
    phx__gcs_map_fini(&e->strings);
    GCS_MAP_FOREACH(&b->joined, i)
    free(b->joined.slots[i].val);
    phx__gcs_map_fini(&b->joined);
    if (e->wake_fd >= 0)
        close(e->wake_fd);
    if (e->app_fd >= 0)
        close(e->app_fd);
    pthread_mutex_destroy(&e->lock);
    free(b);
}

static int emb_create(phx_gcs_t *gcs, const phx_gcs_config_t *cfg,
                      const phx_gcs_callbacks_t *cb, void *arg, void **state,
                      phx_error_t *err)
{
    emb_t *b = calloc(1, sizeof *b);
    if (b == NULL)
        return phx_error_set(err, PHX_ENOMEM, "gcs: out of memory");
    gcs_engine_t *e = &b->e;
    e->wake_fd = e->app_fd = -1;
    pthread_mutex_init(&e->lock, NULL);
    phx__gcs_map_init_str(&e->strings, key_is_value);
    phx__gcs_map_init(&e->nodes);
    phx__gcs_map_init_str(&b->joined, key_is_value);
    phx__gcs_groups_init(e);
    phx__gcs_fault_init(&e->fault);
    phx_cdr_writer_init(&e->w, 4096);
    e->outer = gcs;
    e->cb = *cb;
    e->cb_arg = arg;
    e->hb_us = (int64_t)cfg->heartbeat_ms * 1000;
    e->timeout_us = (int64_t)cfg->timeout_ms * 1000;
    e->rto_us = (int64_t)cfg->retransmit_ms * 1000;
    e->join_us = 2 * e->hb_us;
    e->max_message = cfg->max_message;
    e->max_pending = cfg->max_pending;
    e->max_queue = cfg->max_queue;
    e->max_state = cfg->max_state;
    e->max_frame = (size_t)64 << 20;
    if (e->max_frame < 2 * e->max_message + ((size_t)1 << 20))
        e->max_frame = 2 * e->max_message + ((size_t)1 << 20);
    e->agreed = cfg->mode == PHX_GCS_AGREED;
    e->now = phx_now_us();
    e->log_lo = 1;
    e->self = phx__gcs_new_id();

    char defname[128];
    const char *name = cfg->name;
    if (name == NULL || *name == '\0') {
        char host[64] = "host";
        gethostname(host, sizeof host - 1);
        host[sizeof host - 1] = '\0';
        snprintf(defname, sizeof defname, "%s-%d", host, (int)getpid());
        name = defname;
    }
    int rc;
    e->name = phx__gcs_intern(e, name, strlen(name));
    e->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    e->app_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    e->zctx = zmq_ctx_new();
    if (e->name == NULL || e->wake_fd < 0 || e->app_fd < 0 ||
        e->zctx == NULL) {
        rc = phx_error_set(err, PHX_ENOMEM, "gcs: cannot allocate the "
                           "engine's resources");
        goto fail;
    }
    zmq_ctx_set(e->zctx, ZMQ_BLOCKY, 0);
    const char *faults = cfg->faults ? cfg->faults : getenv("PHX_GCS_FAULTS");
    if (faults && (rc = phx__gcs_fault_set(&e->fault, faults, err)) != 0)
        goto fail;
    rc = phx__gcs_net_init(&e->net, e->zctx,
                           cfg->endpoint ? cfg->endpoint
                                         : "tcp://127.0.0.1:*",
                           e->max_frame, err);
    if (rc)
        goto fail;
    e->endpoint = phx__gcs_intern(e, e->net.bound, strlen(e->net.bound));
    if (e->endpoint == NULL) {
        rc = phx_error_set(err, PHX_ENOMEM, "gcs: out of memory");
        goto fail;
    }
    phx__gcs_member_start(e, cfg->seeds, cfg->n_seeds);
    if (pthread_create(&e->thread, NULL, engine_main, e) != 0) {
        rc = phx_error_set(err, PHX_ENOMEM, "gcs: cannot start a thread");
        goto fail;
    }
    e->thread_started = true;
    PHX_INFO(MOD, "%s: listening on %s (%s delivery)", e->name, e->endpoint,
             e->agreed ? "agreed" : "uniform");
    *state = b;
    return 0;
fail:
    teardown(b);
    return rc;
}

static void emb_destroy(void *state)
{
    emb_t *b = state;
    gcs_ev_t *stop = calloc(1, sizeof *stop);
    if (stop) {
        stop->type = GCS_CMD_STOP;
        command(&b->e, stop);
    }
    if (b->e.thread_started)
        pthread_join(b->e.thread, NULL);
    teardown(b);
}

static int emb_fd(void *state)
{
    return ((emb_t *)state)->e.app_fd;
}

static gcs_ev_t *take_events(gcs_engine_t *e)
{
    drain(e->app_fd);
    pthread_mutex_lock(&e->lock);
    gcs_ev_t *list = e->evq_head;
    e->evq_head = e->evq_tail = NULL;
    pthread_mutex_unlock(&e->lock);
    return list;
}

typedef struct state_sink {
    gcs_xfer_t *x;
} state_sink_t;

static int sink_write(void *ctx, const void *data, size_t len)
{
    gcs_xfer_t *x = ((state_sink_t *)ctx)->x;
    if (x->err)
        return x->err;
    if (x->total + len > x->max_total)
        return x->err = PHX_ELIMIT;
    const uint8_t *p = data;
    while (len > 0) {
        size_t n = len < GCS_STATE_CHUNK ? len : GCS_STATE_CHUNK;
        if (x->n_chunks == x->cap_chunks) {
            size_t nc = x->cap_chunks ? x->cap_chunks * 2 : 8;
            uint8_t **ncs = realloc(x->chunks, nc * sizeof *ncs);
            if (ncs == NULL)
                return x->err = PHX_ENOMEM;
            x->chunks = ncs;
            size_t *nl = realloc(x->lens, nc * sizeof *nl);
            if (nl == NULL)
                return x->err = PHX_ENOMEM;
            x->lens = nl;
            x->cap_chunks = nc;
        }
        uint8_t *c = malloc(n);
        if (c == NULL)
            return x->err = PHX_ENOMEM;
        memcpy(c, p, n);
        x->chunks[x->n_chunks] = c;
        x->lens[x->n_chunks] = n;
        x->n_chunks++;
        x->total += n;
        p += n;
        len -= n;
    }
    return 0;
}

static void give_state(emb_t *b, gcs_gsev_t *gs)
{
    gcs_engine_t *e = &b->e;
    gcs_xfer_t *x = calloc(1, sizeof *x);
    if (x == NULL || (x->group = strdup(gs->group)) == NULL) {
        free(x);
        PHX_ERROR(MOD, "%s: out of memory taking the state of '%s'",
                  e->name, gs->group);
        return;
    }
    x->ev.type = GCS_CMD_STATE;
    x->joiner = gs->joiner;
    x->pview = gs->ev.pview;
    x->pseq = gs->ev.pseq;
    x->max_total = e->max_state;
    if (e->cb.get_state) {
        state_sink_t sink = {x};
        phx_gcs_state_writer_t w = {sink_write, &sink};
        int rc = e->cb.get_state(e->outer, x->group, &w, e->cb_arg);
        if (rc != 0 || x->err != 0) {
            PHX_WARN(MOD, "%s: get_state of '%s' failed (%s): sending an "
                     "empty state", e->name, x->group,
                     phx_strerror(rc ? rc : x->err));
            for (size_t i = 0; i < x->n_chunks; i++)
                free(x->chunks[i]);
            x->n_chunks = 0;
            x->total = 0;
            x->err = 0;
        }
    }
    command(e, &x->ev);
}

static int emb_dispatch(void *state, int timeout_ms, phx_error_t *err)
{
    emb_t *b = state;
    gcs_engine_t *e = &b->e;
    gcs_ev_t *list = take_events(e);
    if (list == NULL && timeout_ms != 0) {
        if (atomic_load(&e->stopped))
            return phx_error_set(err, PHX_ESHUTDOWN, "gcs: stopped");
        struct pollfd p = {.fd = e->app_fd, .events = POLLIN};
        int rc = poll(&p, 1, timeout_ms < 0 ? -1 : timeout_ms);
        if (rc < 0 && errno != EINTR)
            return phx_error_set(err, PHX_EIO, "gcs: poll: %s",
                                 strerror(errno));
        list = take_events(e);
    }
    int n = 0;
    while (list) {
        gcs_ev_t *ev = list;
        list = list->next;
        switch (ev->type) {
        case GCS_EV_DELIVER: {
            gcs_item_t *it = (gcs_item_t *)ev;
            if (e->cb.deliver) {
                phx_gcs_member_t from = {it->sender, it->sender_name,
                                         PHX_GCS_REASON_NONE};
                e->cb.deliver(e->outer, it->group, &from, it->data, it->len,
                              e->cb_arg);
            }
            break;
        }
        case GCS_EV_VIEW: {
            gcs_vev_t *v = (gcs_vev_t *)ev;
            if (e->cb.view_change)
                e->cb.view_change(e->outer, v->group, &v->view, e->cb_arg);
            break;
        }
        case GCS_EV_GET_STATE:
            give_state(b, (gcs_gsev_t *)ev);
            break;
        case GCS_EV_SET_STATE: {
            gcs_ssev_t *c = (gcs_ssev_t *)ev;
            if (e->cb.set_state)
                e->cb.set_state(e->outer, c->group, c->data, c->len,
                                c->flags, e->cb_arg);
            break;
        }
        default:
            break;
        }
        phx__gcs_ev_free(ev);
        n++;
    }
    if (n)
        atomic_fetch_sub(&e->queued, (size_t)n);
    return n;
}

static gcs_gcmd_t *gcmd(uint8_t type, const char *s)
{
    size_t len = strlen(s);
    gcs_gcmd_t *c = malloc(sizeof *c + len + 1);
    if (c == NULL)
        return NULL;
    memset(&c->ev, 0, sizeof c->ev);
    c->ev.type = type;
    memcpy(c->name, s, len + 1);
    return c;
}

static int emb_join(void *state, const char *group, phx_error_t *err)
{
    emb_t *b = state;
    size_t len = strlen(group);
    uint64_t h = phx__gcs_hash(group, len);
    if (atomic_load(&b->e.stopped))
        return phx_error_set(err, PHX_ESHUTDOWN, "gcs: stopped");
    if (phx__gcs_map_gets(&b->joined, h, group, len))
        return phx_error_set(err, PHX_EEXIST, "gcs: already in group '%s'",
                             group);
    char *copy = strdup(group);
    gcs_gcmd_t *c = gcmd(GCS_CMD_JOIN, group);
    if (copy == NULL || c == NULL ||
        phx__gcs_map_puts(&b->joined, h, copy, len, copy) != 0) {
        free(copy);
        free(c);
        return phx_error_set(err, PHX_ENOMEM, "gcs: out of memory");
    }
    command(&b->e, &c->ev);
    return 0;
}

static int emb_leave(void *state, const char *group, phx_error_t *err)
{
    emb_t *b = state;
    size_t len = strlen(group);
    uint64_t h = phx__gcs_hash(group, len);
    if (atomic_load(&b->e.stopped))
        return phx_error_set(err, PHX_ESHUTDOWN, "gcs: stopped");
    if (phx__gcs_map_gets(&b->joined, h, group, len) == NULL)
        return phx_error_set(err, PHX_ENOTFOUND, "gcs: not in group '%s'",
                             group);
    gcs_gcmd_t *c = gcmd(GCS_CMD_LEAVE, group);
    if (c == NULL)
        return phx_error_set(err, PHX_ENOMEM, "gcs: out of memory");
    free(phx__gcs_map_dels(&b->joined, h, group, len));
    command(&b->e, &c->ev);
    return 0;
}

static int emb_multicast(void *state, const char *group, const void *msg,
                         size_t len, phx_error_t *err)
{
    emb_t *b = state;
    gcs_engine_t *e = &b->e;
    size_t glen = strlen(group);
    if (len > e->max_message)
        return phx_error_set(err, PHX_ELIMIT,
                             "gcs: message of %zu bytes exceeds max_message "
                             "(%zu)", len, e->max_message);
    if (atomic_load(&e->stopped))
        return phx_error_set(err, PHX_ESHUTDOWN, "gcs: stopped");
    if (phx__gcs_map_gets(&b->joined, phx__gcs_hash(group, glen), group,
                          glen) == NULL)
        return phx_error_set(err, PHX_ESTATE, "gcs: not in group '%s'",
                             group);
    if (atomic_load(&e->blocked))
        return phx_error_set(err, PHX_ESTATE,
                             "gcs: outside the primary component");
    if (atomic_load(&e->pending) >= e->max_pending)
        return phx_error_set(err, PHX_EAGAIN,
                             "gcs: %zu messages not yet delivered",
                             e->max_pending);
    gcs_item_t *it = phx__gcs_item_new(GCS_K_APP, group, glen, msg, len);
    if (it == NULL)
        return phx_error_set(err, PHX_ENOMEM, "gcs: out of memory");
    it->ev.type = GCS_CMD_SUBMIT;
    atomic_fetch_add(&e->pending, 1);
    command(e, &it->ev);
    return 0;
}

static int emb_self(void *state, phx_gcs_member_t *self)
{
    emb_t *b = state;
    self->id = atomic_load(&b->e.self_pub);
    self->name = b->e.name;
    self->reason = PHX_GCS_REASON_NONE;
    return 0;
}

static const char *emb_endpoint(void *state)
{
    return ((emb_t *)state)->e.endpoint;
}

static int emb_inject(void *state, const char *spec, phx_error_t *err)
{
    emb_t *b = state;
    gcs_fault_t probe;
    phx__gcs_fault_init(&probe);
    int rc = phx__gcs_fault_set(&probe, spec, err);
    phx__gcs_fault_fini(&probe);
    if (rc)
        return rc;
    gcs_gcmd_t *c = gcmd(GCS_CMD_INJECT, spec ? spec : "");
    if (c == NULL)
        return phx_error_set(err, PHX_ENOMEM, "gcs: out of memory");
    command(&b->e, &c->ev);
    return 0;
}

static void emb_stats(void *state, phx_gcs_stats_t *st)
{
    gcs_engine_t *e = &((emb_t *)state)->e;
    st->views = atomic_load(&e->st_views);
    st->delivered = atomic_load(&e->st_delivered);
    st->frames_in = atomic_load(&e->st_in);
    st->frames_out = atomic_load(&e->st_out);
    st->bad_frames = atomic_load(&e->st_bad);
    st->retransmits = atomic_load(&e->st_retrans);
    st->suspicions = atomic_load(&e->st_susp);
    st->groups = atomic_load(&e->st_groups);
    st->members = atomic_load(&e->st_members);
    st->primary = !atomic_load(&e->blocked) && st->members > 0;
    st->fault_dropped = atomic_load(&e->fault.dropped);
    pthread_mutex_lock(&e->lock);
    memcpy(st->state, e->st_state, sizeof st->state);
    memcpy(st->why, e->st_why, sizeof st->why);
    pthread_mutex_unlock(&e->lock);
}

const phx__gcs_backend_t phx__gcs_embedded = {
    .name = "embedded",
    .create = emb_create,
    .destroy = emb_destroy,
    .fd = emb_fd,
    .dispatch = emb_dispatch,
    .join = emb_join,
    .leave = emb_leave,
    .multicast = emb_multicast,
    .self = emb_self,
    .endpoint = emb_endpoint,
    .inject = emb_inject,
    .stats = emb_stats,
};
