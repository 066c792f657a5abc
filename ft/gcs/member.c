/*
 * member.c - process-level membership of the embedded GCS: failure
 * detection, the membership state machine, view changes with a flush
 * (virtual synchrony), the primary component, and joining.
 *
 * Based on:
 *   - virtual synchrony as in Isis (Birman and Joseph, SOSP 1987) and
 *     Horus (van Renesse, Birman and Maffeis, CACM 39(4), 1996): members
 *     that install view V' after V delivered the same messages in V.  The
 *     flush follows Isis's: the coordinator collects what each survivor
 *     has, everyone obtains the union, and only then is the view
 *     installed;
 *   - the primary component rule of the Isis membership service
 *     (Ricciardi and Birman, PODC 1991): a new view must contain a strict
 *     majority of the previous one, so no two components both go on;
 *   - coordinator = the oldest surviving member, which is also the
 *     sequencer of order.c (Amoeba).
 *   For comparison, Totem (Amir, Moser, Melliar-Smith, Agarwal and
 *   Ciarfella, ACM TOCS 13(4), 1995) and Corosync run a
 *   gather/commit/recovery membership over a token ring and, under
 *   extended virtual synchrony, let every component go on; here only the
 *   primary component delivers.
 *
 * The flush (coordinator C, survivors S, proposed view V'):
 *   1. C -> S    FLUSH_REQ(V', members of V')   S stops submitting
 *   2. S -> C    FLUSH_ACK(received up to r_s)
 *   3. cut = max r_s.  If some r_s < cut:
 *      C -> S    FLUSH_CUT(cut, holder)        S fetches (r_s, cut] from
 *                                              the holder with NAKs
 *      S -> C    FLUSH_DONE
 *   4. C -> V'   INSTALL(V', cut)   every survivor delivers up to the cut
 *      (they all hold it), then installs V'; joiners get a snapshot of the
 *      group table.
 *   Everything a member delivered in V was stable, hence held by every
 *   survivor, hence <= cut: uniform delivery survives the view change.
 *   Items past the cut are dropped; their senders, if alive, submit them
 *   again in V' (FIFO is kept because the sequencer of V' accepts from
 *   each sender exactly the sseq after the last one delivered).
 *
 * Deviations and simplifications:
 *   - suspicions are gossiped and sticky: a member suspected by anyone in
 *     the view is excluded, and a process that learns it is suspected
 *     (or excluded) leaves and rejoins with a new incarnation id and a
 *     state transfer; there is no silent flapping back;
 *   - a closed connection (the ZeroMQ monitor's DISCONNECTED) is taken as
 *     proof of a crash, so a killed process is excluded in milliseconds;
 *     the heartbeat timeout covers hangs and partitions;
 *   - the minority side of a partition does not run a view change at
 *     all: each of its members notices it lost the majority, reports a
 *     non-primary view and tries to rejoin the primary component;
 *   - a survivor that misses an INSTALL (its coordinator died mid-way)
 *     does not try to catch up: it is excluded and rejoins.
 *
 * States (gcs_mstate_t); every transition is logged and kept in a short
 * history with the reason:
 *   JOINING --INSTALL--> OPERATIONAL --suspicion/joiner--> FLUSH
 *   FLUSH --INSTALL--> OPERATIONAL
 *   OPERATIONAL/FLUSH --lost majority/suspected/excluded--> BLOCKED
 *   BLOCKED --INSTALL (new incarnation)--> OPERATIONAL
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <phx/cdr.h>
#include <phx/error.h>
#include <phx/log.h>

#include "ft/gcs/engine.h"

#define MOD "gcs.member"

typedef struct entry {
    uint64_t id;
    const char *name;
    const char *endpoint;
    uint64_t last_sseq;
    bool joiner;
} entry_t;

static void go_blocked(gcs_engine_t *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

const char *phx__gcs_state_name(gcs_mstate_t s)
{
    switch (s) {
    case GCS_S_JOINING:
        return "JOINING";
    case GCS_S_OPERATIONAL:
        return "OPERATIONAL";
    case GCS_S_FLUSH:
        return "FLUSH";
    case GCS_S_BLOCKED:
        return "BLOCKED";
    case GCS_S_STOPPED:
        return "STOPPED";
    }
    return "?";
}

static void transition(gcs_engine_t *e, gcs_mstate_t to, const char *fmt,
                       ...) __attribute__((format(printf, 3, 4)));

static void transition(gcs_engine_t *e, gcs_mstate_t to, const char *fmt,
                       ...)
{
    gcs_transition_t *t = &e->hist[e->n_hist++ % GCS_HISTORY];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->why, sizeof t->why, fmt, ap);
    va_end(ap);
    t->at_us = e->now;
    t->from = (uint8_t)e->state;
    t->to = (uint8_t)to;
    PHX_INFO(MOD, "%s: %s -> %s: %s", e->name, phx__gcs_state_name(e->state),
             phx__gcs_state_name(to), t->why);
    e->state = to;
    pthread_mutex_lock(&e->lock);
    snprintf(e->st_state, sizeof e->st_state, "%s", phx__gcs_state_name(to));
    snprintf(e->st_why, sizeof e->st_why, "%s", t->why);
    pthread_mutex_unlock(&e->lock);
    if (to == GCS_S_FLUSH)
        e->flush_since_us = e->now;
}

gcs_node_t *phx__gcs_node(gcs_engine_t *e, uint64_t id)
{
    return phx__gcs_map_get64(&e->nodes, id);
}

static gcs_node_t *node_new(gcs_engine_t *e, uint64_t id, const char *name,
                            const char *endpoint)
{
    gcs_node_t *n = calloc(1, sizeof *n);
    if (n == NULL)
        return NULL;
    n->id = id;
    n->name = phx__gcs_intern(e, name, strlen(name));
    n->endpoint = phx__gcs_intern(e, endpoint, strlen(endpoint));
    n->heard_us = e->now;
    n->next_sseq = 1;
    if (n->name == NULL || n->endpoint == NULL ||
        phx__gcs_map_put64(&e->nodes, id, n) != 0) {
        free(n);
        return NULL;
    }
    if (id != e->self) {
        n->peer = phx__gcs_net_peer(&e->net, endpoint);
        if (n->peer) {
            n->peer->node = id;
            n->peer->name = n->name;
        }
    }
    return n;
}

static void node_free(gcs_engine_t *e, gcs_node_t *n)
{
    phx__gcs_map_del64(&e->nodes, n->id);
    free(n);
}

static bool is_member(gcs_engine_t *e, const gcs_node_t *n)
{
    for (size_t i = 0; i < e->n_members; i++)
        if (e->members[i] == n)
            return true;
    return false;
}

static gcs_node_t *coordinator(gcs_engine_t *e)
{
    for (size_t i = 0; i < e->n_members; i++)
        if (!e->members[i]->suspected)
            return e->members[i];
    return NULL;
}

static size_t alive_members(gcs_engine_t *e)
{
    size_t n = 0;
    for (size_t i = 0; i < e->n_members; i++)
        if (!e->members[i]->suspected)
            n++;
    return n;
}

/* Close the links nobody in the view (or waiting to join) uses. */
static void gc_peers(gcs_engine_t *e)
{
    size_t i = 0;
    while (i < e->net.n_peers) {
        gcs_peer_t *p = e->net.peers[i];
        gcs_node_t *n = phx__gcs_node(e, p->node);
        if (n != NULL && n->peer == p) {
            i++;
            continue;
        }
        phx__gcs_fault_forget(&e->fault, p);
        phx__gcs_net_close(&e->net, p); /* moves the last one to i */
    }
}

static void add_contact(gcs_engine_t *e, const char *ep)
{
    if (ep == NULL || strcmp(ep, e->endpoint) == 0)
        return;
    for (size_t i = 0; i < e->n_contacts; i++)
        if (strcmp(e->contacts[i], ep) == 0)
            return;
    if (e->n_contacts == e->cap_contacts) {
        size_t ncap = e->cap_contacts ? e->cap_contacts * 2 : 8;
        char **nc = realloc(e->contacts, ncap * sizeof *nc);
        if (nc == NULL)
            return;
        e->contacts = nc;
        e->cap_contacts = ncap;
    }
    char *c = strdup(ep);
    if (c)
        e->contacts[e->n_contacts++] = c;
}

/* ------------------------------------------------------------------ */
/* Sending                                                              */
/* ------------------------------------------------------------------ */

static void put_entries(gcs_engine_t *e, const entry_t *v, size_t n)
{
    phx_cdr_put_ulong(&e->w, (uint32_t)n);
    for (size_t i = 0; i < n; i++) {
        phx_cdr_put_ulonglong(&e->w, v[i].id);
        phx_cdr_put_ulonglong(&e->w, v[i].last_sseq);
        phx_cdr_put_string(&e->w, v[i].name);
        phx_cdr_put_string(&e->w, v[i].endpoint);
        phx_cdr_put_boolean(&e->w, v[i].joiner);
    }
}

/* Read a list of processes; strings borrow from the frame.  Caller frees
 * *out. */
static int get_entries(phx_cdr_reader_t *r, entry_t **out, size_t *n_out)
{
    uint32_t n;
    *out = NULL;
    *n_out = 0;
    if (phx_cdr_get_seq_len(r, 26, &n))
        return phx_cdr_reader_status(r);
    if (n == 0)
        return phx_cdr_reader_fail(r, PHX_EPROTO, "empty member list");
    entry_t *v = calloc(n, sizeof *v);
    if (v == NULL)
        return phx_cdr_reader_fail(r, PHX_ENOMEM, "member list");
    for (uint32_t i = 0; i < n; i++) {
        size_t l1, l2;
        phx_cdr_get_ulonglong(r, &v[i].id);
        phx_cdr_get_ulonglong(r, &v[i].last_sseq);
        phx_cdr_get_string(r, &v[i].name, &l1);
        phx_cdr_get_string(r, &v[i].endpoint, &l2);
        phx_cdr_get_boolean(r, &v[i].joiner);
        if (phx_cdr_reader_status(r) == 0 &&
            (l1 == 0 || l2 == 0 || l1 > GCS_NAME_MAX ||
             l2 > GCS_ENDPOINT_MAX || v[i].id == 0))
            phx_cdr_reader_fail(r, PHX_EPROTO, "bad member entry");
    }
    if (phx_cdr_reader_status(r)) {
        free(v);
        return phx_cdr_reader_status(r);
    }
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t j = i + 1; j < n; j++)
            if (v[i].id == v[j].id) {
                free(v);
                return phx_cdr_reader_fail(r, PHX_EPROTO, "duplicate id");
            }
    *out = v;
    *n_out = n;
    return 0;
}

static void send_suspects(gcs_engine_t *e)
{
    phx__gcs_wire_begin(&e->w, GCS_M_SUSPECT, e->self, e->view_id);
    phx_cdr_put_ulong(&e->w, (uint32_t)e->n_suspected);
    for (size_t i = 0; i < e->n_members; i++)
        if (e->members[i]->suspected)
            phx_cdr_put_ulonglong(&e->w, e->members[i]->id);
    phx__gcs_bcast(e);
    e->gossip_us = e->now;
}

static void mark_suspected(gcs_engine_t *e, gcs_node_t *n, const char *why)
{
    if (n == e->me || n->suspected)
        return;
    n->suspected = true;
    e->n_suspected++;
    atomic_fetch_add(&e->st_susp, 1);
    PHX_INFO(MOD, "%s suspects %s (%016llx): %s", e->name, n->name,
             (unsigned long long)n->id, why);
}

/* Suspect a member of the view: it will be excluded. */
static void suspect(gcs_engine_t *e, gcs_node_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void suspect(gcs_engine_t *e, gcs_node_t *n, const char *fmt, ...)
{
    if (n == e->me || n->suspected || !is_member(e, n))
        return;
    char why[120];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    mark_suspected(e, n, why);
    if (alive_members(e) * 2 > e->n_members)
        send_suspects(e);
    phx__gcs_member_check_flush(e);
}

/* ------------------------------------------------------------------ */
/* Installing a view                                                    */
/* ------------------------------------------------------------------ */

static bool in_entries(const entry_t *v, size_t n, uint64_t id)
{
    for (size_t i = 0; i < n; i++)
        if (v[i].id == id)
            return true;
    return false;
}

static void free_inst(gcs_engine_t *e)
{
    free(e->inst_frame);
    free(e->inst_join_frame);
    e->inst_frame = e->inst_join_frame = NULL;
    e->inst_len = e->inst_join_len = 0;
}

static void flush_clear(gcs_engine_t *e)
{
    e->f_coordinating = false;
    e->f_phase = 0;
    e->f_done_sent = false;
    e->f_cut = e->f_holder = 0;
    e->f_n = 0;
}

/* Install view new_id made of v[0..n) (oldest first).  Every item up to
 * the cut has been delivered by the caller. */
static int install_view(gcs_engine_t *e, uint64_t new_id, const entry_t *v,
                        size_t n)
{
    if (e->cap_members < n) {
        gcs_node_t **nm = realloc(e->members, n * sizeof *nm);
        if (nm == NULL)
            return PHX_ENOMEM;
        e->members = nm;
        e->cap_members = n;
    }
    /* Who leaves: their group memberships end here, for everyone at the
     * same point of the stream. */
    uint64_t *gone = NULL;
    size_t n_gone = 0;
    if (e->n_members) {
        gone = malloc(e->n_members * sizeof *gone);
        if (gone == NULL)
            return PHX_ENOMEM;
        for (size_t i = 0; i < e->n_members; i++)
            if (!in_entries(v, n, e->members[i]->id))
                gone[n_gone++] = e->members[i]->id;
    }
    uint64_t old_view = e->view_id;
    e->view_id = new_id;
    if (new_id > e->max_view_seen)
        e->max_view_seen = new_id;
    if (n_gone)
        phx__gcs_groups_depart(e, gone, n_gone);

    /* Departed records go; their endpoints are remembered for one view so
     * that a straggler can be told it is out. */
    phx__gcs_map_fini(&e->departed);
    phx__gcs_map_init(&e->departed);
    for (size_t i = 0; i < n_gone; i++) {
        gcs_node_t *g = phx__gcs_node(e, gone[i]);
        if (g == NULL)
            continue;
        phx__gcs_map_put64(&e->departed, g->id, (void *)g->endpoint);
        node_free(e, g);
    }
    free(gone);

    for (size_t i = 0; i < n; i++) {
        gcs_node_t *m = phx__gcs_node(e, v[i].id);
        if (m == NULL) {
            m = node_new(e, v[i].id, v[i].name, v[i].endpoint);
            if (m == NULL)
                return PHX_ENOMEM;
        }
        m->last_sseq = v[i].last_sseq;
        m->next_sseq = m->last_sseq + 1;
        m->ack = 0;
        m->heard_us = e->now;
        m->suspected = false;
        m->joiner = false;
        m->f_acked = m->f_done = false;
        m->f_installed = (m == e->me);
        m->fresh = v[i].joiner;
        e->members[i] = m;
    }
    e->n_members = n;
    e->n_suspected = 0;
    phx__gcs_order_reset(e);
    flush_clear(e);
    atomic_store(&e->blocked, false);
    atomic_fetch_add(&e->st_views, 1);
    atomic_store(&e->st_members, (unsigned)n);
    transition(e, GCS_S_OPERATIONAL,
               "installed view %llu (after %llu) with %zu member(s), "
               "coordinator %s",
               (unsigned long long)new_id, (unsigned long long)old_view, n,
               e->members[0]->name);
    gc_peers(e);
    e->hb_next_us = e->now;
    return 0;
}

/* Coordinator: the flush is complete; deliver up to the cut, install,
 * tell everyone. */
static void install_new(gcs_engine_t *e)
{
    uint64_t cut = e->f_cut;
    phx__gcs_order_deliver_upto(e, cut);
    size_t n = e->f_n;
    entry_t *v = calloc(n, sizeof *v);
    gcs_node_t **prop = malloc(n * sizeof *prop);
    if (v == NULL || prop == NULL) {
        free(v);
        free(prop);
        go_blocked(e, "out of memory installing a view");
        return;
    }
    bool any_joiner = false;
    for (size_t i = 0; i < n; i++) {
        gcs_node_t *m = e->f_prop[i];
        prop[i] = m;
        v[i].id = m->id;
        v[i].name = m->name;
        v[i].endpoint = m->endpoint;
        v[i].last_sseq = m->joiner ? 0 : m->last_sseq;
        v[i].joiner = m->joiner;
        any_joiner |= m->joiner;
    }
    uint64_t old_view = e->view_id, new_id = e->f_new;

    free_inst(e);
    phx__gcs_wire_begin(&e->w, GCS_M_INSTALL, e->self, old_view);
    phx_cdr_put_ulonglong(&e->w, new_id);
    phx_cdr_put_ulonglong(&e->w, cut);
    put_entries(e, v, n);
    phx_cdr_put_boolean(&e->w, false);
    if (phx_cdr_writer_status(&e->w) == 0)
        e->inst_frame = phx_cdr_writer_steal(&e->w, &e->inst_len);

    if (install_view(e, new_id, v, n) != 0) {
        free(v);
        free(prop);
        go_blocked(e, "out of memory installing a view");
        return;
    }
    if (any_joiner) {
        phx__gcs_wire_begin(&e->w, GCS_M_INSTALL, e->self, old_view);
        phx_cdr_put_ulonglong(&e->w, new_id);
        phx_cdr_put_ulonglong(&e->w, cut);
        put_entries(e, v, n);
        phx_cdr_put_boolean(&e->w, true);
        phx__gcs_groups_snapshot(e, &e->w);
        if (phx_cdr_writer_status(&e->w) == 0)
            e->inst_join_frame =
                phx_cdr_writer_steal(&e->w, &e->inst_join_len);
        else
            PHX_ERROR(MOD, "cannot encode the group table for joiners: %s",
                      phx_strerror(phx_cdr_writer_status(&e->w)));
    }
    for (size_t i = 0; i < n; i++) {
        gcs_node_t *m = prop[i];
        if (m == e->me || m->peer == NULL)
            continue;
        if (v[i].joiner && e->inst_join_frame)
            phx__gcs_send_buf(e, m->peer, e->inst_join_frame,
                              e->inst_join_len);
        else if (!v[i].joiner && e->inst_frame)
            phx__gcs_send_buf(e, m->peer, e->inst_frame, e->inst_len);
    }
    e->inst_retry_us = e->now + e->rto_us;
    free(v);
    free(prop);
    phx__gcs_member_check_flush(e);
}

/* ------------------------------------------------------------------ */
/* The flush, coordinator side                                          */
/* ------------------------------------------------------------------ */

static void send_flush_req(gcs_engine_t *e, gcs_node_t *to)
{
    phx__gcs_wire_begin(&e->w, GCS_M_FLUSH_REQ, e->self, e->view_id);
    phx_cdr_put_ulonglong(&e->w, e->f_new);
    entry_t *v = calloc(e->f_n, sizeof *v);
    if (v == NULL)
        return;
    for (size_t i = 0; i < e->f_n; i++) {
        gcs_node_t *m = e->f_prop[i];
        v[i].id = m->id;
        v[i].name = m->name;
        v[i].endpoint = m->endpoint;
        v[i].last_sseq = m->last_sseq;
        v[i].joiner = m->joiner;
    }
    put_entries(e, v, e->f_n);
    free(v);
    phx__gcs_send(e, to);
}

static void send_flush_cut(gcs_engine_t *e, gcs_node_t *to)
{
    phx__gcs_wire_begin(&e->w, GCS_M_FLUSH_CUT, e->self, e->view_id);
    phx_cdr_put_ulonglong(&e->w, e->f_new);
    phx_cdr_put_ulonglong(&e->w, e->f_cut);
    phx_cdr_put_ulonglong(&e->w, e->f_holder);
    phx__gcs_send(e, to);
}

static void flush_progress(gcs_engine_t *e);

static void start_flush(gcs_engine_t *e, const char *why)
{
    uint64_t base = e->max_view_seen;
    if (e->f_new > base)
        base = e->f_new;
    if (e->view_id > base)
        base = e->view_id;
    e->f_new = base + 1;
    e->max_view_seen = e->f_new;
    size_t cap = e->n_members + e->nodes.n;
    if (e->f_cap < cap) {
        gcs_node_t **np = realloc(e->f_prop, cap * sizeof *np);
        if (np == NULL) {
            go_blocked(e, "out of memory starting a flush");
            return;
        }
        e->f_prop = np;
        e->f_cap = cap;
    }
    e->f_n = 0;
    for (size_t i = 0; i < e->n_members; i++)
        if (!e->members[i]->suspected)
            e->f_prop[e->f_n++] = e->members[i];
    GCS_MAP_FOREACH(&e->nodes, i)
    {
        gcs_node_t *j = e->nodes.slots[i].val;
        if (j->joiner && e->f_n < e->f_cap)
            e->f_prop[e->f_n++] = j;
    }
    for (size_t i = 0; i < e->f_n; i++) {
        gcs_node_t *m = e->f_prop[i];
        m->f_acked = m->f_done = false;
        m->f_recv = 0;
    }
    e->f_coordinating = true;
    e->f_coord = e->self;
    e->f_phase = 1;
    e->f_done_sent = false;
    e->f_cut = e->f_holder = 0;
    e->me->f_acked = true;
    e->me->f_recv = e->recv_hi;
    if (e->state != GCS_S_FLUSH)
        transition(e, GCS_S_FLUSH, "coordinating view %llu: %s",
                   (unsigned long long)e->f_new, why);
    else
        PHX_INFO(MOD, "%s: restarting the flush as view %llu: %s", e->name,
                 (unsigned long long)e->f_new, why);
    for (size_t i = 0; i < e->f_n; i++) {
        gcs_node_t *m = e->f_prop[i];
        if (m != e->me && !m->joiner)
            send_flush_req(e, m);
    }
    e->f_start_us = e->now;
    e->f_retry_us = e->now + e->rto_us;
    flush_progress(e);
}

static void flush_progress(gcs_engine_t *e)
{
    if (e->state != GCS_S_FLUSH || !e->f_coordinating)
        return;
    if (e->f_phase == 1) {
        uint64_t cut = 0, lo = UINT64_MAX;
        gcs_node_t *holder = e->me;
        for (size_t i = 0; i < e->f_n; i++) {
            gcs_node_t *m = e->f_prop[i];
            if (m->joiner)
                continue;
            if (!m->f_acked)
                return;
            if (m->f_recv > cut) {
                cut = m->f_recv;
                holder = m;
            }
            if (m->f_recv < lo)
                lo = m->f_recv;
        }
        e->f_cut = cut;
        e->f_holder = holder->id;
        if (lo == cut) {
            install_new(e);
            return;
        }
        e->f_phase = 2;
        PHX_INFO(MOD, "%s: flush of view %llu: survivors have %llu..%llu; "
                 "all fetch up to %llu from %s", e->name,
                 (unsigned long long)e->f_new, (unsigned long long)lo,
                 (unsigned long long)cut, (unsigned long long)cut,
                 holder->name);
        if (cut > e->seen_hi)
            e->seen_hi = cut;
        for (size_t i = 0; i < e->f_n; i++) {
            gcs_node_t *m = e->f_prop[i];
            if (m != e->me && !m->joiner)
                send_flush_cut(e, m);
        }
        e->f_start_us = e->now;
        e->f_retry_us = e->now + e->rto_us;
    }
    if (e->f_phase == 2) {
        if (e->recv_hi >= e->f_cut)
            e->me->f_done = true;
        for (size_t i = 0; i < e->f_n; i++) {
            gcs_node_t *m = e->f_prop[i];
            if (!m->joiner && !m->f_done)
                return;
        }
        install_new(e);
    }
}

void phx__gcs_member_check_flush(gcs_engine_t *e)
{
    if (e->state != GCS_S_OPERATIONAL && e->state != GCS_S_FLUSH)
        return;
    if (alive_members(e) * 2 <= e->n_members) {
        go_blocked(e, "only %zu of %zu members reachable: not a majority",
                   alive_members(e), e->n_members);
        return;
    }
    if (coordinator(e) != e->me)
        return;
    bool joiners = false;
    GCS_MAP_FOREACH(&e->nodes, i)
    {
        gcs_node_t *j = e->nodes.slots[i].val;
        if (j->joiner)
            joiners = true;
    }
    if (e->state == GCS_S_OPERATIONAL) {
        if (e->n_suspected > 0)
            start_flush(e, "members suspected");
        else if (joiners)
            start_flush(e, "processes asking to join");
        return;
    }
    if (e->f_coordinating) {
        for (size_t i = 0; i < e->f_n; i++) {
            if (e->f_prop[i]->suspected) {
                start_flush(e, "a proposed member is suspected");
                return;
            }
        }
        return;
    }
    /* A participant whose coordinator is gone takes over. */
    gcs_node_t *c = phx__gcs_node(e, e->f_coord);
    if (c == NULL || c->suspected)
        start_flush(e, "the flush coordinator is suspected");
}

/* ------------------------------------------------------------------ */
/* Leaving the primary component                                        */
/* ------------------------------------------------------------------ */

static void go_blocked(gcs_engine_t *e, const char *fmt, ...)
{
    char why[120];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);

    phx__gcs_groups_blocked(e);
    phx__gcs_order_drop_pending(e);
    for (size_t i = 0; i < e->n_members; i++)
        if (e->members[i] != e->me)
            add_contact(e, e->members[i]->endpoint);
    /* Forget every other process: to the primary component this one is
     * gone, and it comes back as a new incarnation. */
    gcs_node_t **all = malloc((e->nodes.n + 1) * sizeof *all);
    size_t n_all = 0;
    if (all) {
        GCS_MAP_FOREACH(&e->nodes, i)
        all[n_all++] = e->nodes.slots[i].val;
        for (size_t i = 0; i < n_all; i++)
            if (all[i] != e->me)
                node_free(e, all[i]);
        free(all);
    }
    phx__gcs_map_del64(&e->nodes, e->self);
    e->prev_self = e->self;
    e->self = phx__gcs_new_id();
    e->me->id = e->self;
    e->me->last_sseq = 0;
    e->me->suspected = false;
    phx__gcs_map_put64(&e->nodes, e->self, e->me);
    atomic_store(&e->self_pub, e->self);
    e->next_sseq = 0;
    e->n_members = 0;
    e->n_suspected = 0;
    e->view_id = 0;
    phx__gcs_order_reset(e);
    flush_clear(e);
    free_inst(e);
    atomic_store(&e->blocked, true);
    atomic_store(&e->st_members, 0);
    transition(e, GCS_S_BLOCKED, "%s; rejoining as %016llx", why,
               (unsigned long long)e->self);
    e->join_next_us = e->now + e->hb_us;
}

/* ------------------------------------------------------------------ */
/* Frames                                                               */
/* ------------------------------------------------------------------ */

static void send_join_req(gcs_engine_t *e, gcs_peer_t *p, uint64_t joiner,
                          const char *name, const char *ep, uint64_t prev)
{
    phx__gcs_wire_begin(&e->w, GCS_M_JOIN_REQ, e->self, e->view_id);
    phx_cdr_put_ulonglong(&e->w, joiner);
    phx_cdr_put_ulonglong(&e->w, prev);
    phx_cdr_put_string(&e->w, name);
    phx_cdr_put_string(&e->w, ep);
    phx__gcs_send_peer(e, p);
}

static void on_join_req(gcs_engine_t *e, const gcs_hdr_t *h,
                        phx_cdr_reader_t *r)
{
    (void)h;
    uint64_t joiner, prev;
    const char *name, *ep;
    size_t nl, el;
    phx_cdr_get_ulonglong(r, &joiner);
    phx_cdr_get_ulonglong(r, &prev);
    phx_cdr_get_string(r, &name, &nl);
    phx_cdr_get_string(r, &ep, &el);
    if (phx_cdr_reader_status(r) || nl == 0 || el == 0 || joiner == 0 ||
        nl > GCS_NAME_MAX || el > GCS_ENDPOINT_MAX) {
        atomic_fetch_add(&e->st_bad, 1);
        return;
    }
    if (phx__gcs_fault_cut(&e->fault, name)) {
        e->fault.dropped++;
        return;
    }
    if (e->state != GCS_S_OPERATIONAL && e->state != GCS_S_FLUSH)
        return;
    if (joiner == e->self)
        return;
    gcs_node_t *j = phx__gcs_node(e, joiner);
    if (j && !j->joiner) {
        /* Already in the view: its INSTALL was lost. */
        if (e->members[0] == e->me && e->inst_join_frame && j->peer &&
            !j->f_installed)
            phx__gcs_send_buf(e, j->peer, e->inst_join_frame,
                              e->inst_join_len);
        return;
    }
    gcs_node_t *old = prev ? phx__gcs_node(e, prev) : NULL;
    if (old && is_member(e, old))
        suspect(e, old, "it came back as a new incarnation");
    if (e->state != GCS_S_OPERATIONAL && e->state != GCS_S_FLUSH)
        return;
    gcs_node_t *c = coordinator(e);
    if (c == e->me) {
        if (j == NULL) {
            j = node_new(e, joiner, name, ep);
            if (j == NULL)
                return;
            j->joiner = true;
            PHX_INFO(MOD, "%s: %s (%016llx) at %s asks to join", e->name,
                     j->name, (unsigned long long)joiner, j->endpoint);
        }
        j->heard_us = e->now;
        phx__gcs_member_check_flush(e);
    } else if (c && c->peer) {
        send_join_req(e, c->peer, joiner, name, ep, prev);
    }
}

static void on_suspect(gcs_engine_t *e, gcs_node_t *from,
                       phx_cdr_reader_t *r)
{
    uint32_t n;
    if (phx_cdr_get_seq_len(r, 8, &n))
        return;
    bool changed = false;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t id;
        if (phx_cdr_get_ulonglong(r, &id))
            return;
        if (id == e->self) {
            go_blocked(e, "suspected by %s", from->name);
            return;
        }
        gcs_node_t *m = phx__gcs_node(e, id);
        if (m && is_member(e, m) && !m->suspected) {
            char why[64];
            snprintf(why, sizeof why, "reported by %s", from->name);
            mark_suspected(e, m, why);
            changed = true;
        }
    }
    if (changed)
        phx__gcs_member_check_flush(e);
}

static void send_flush_ack(gcs_engine_t *e, gcs_node_t *to, uint64_t attempt,
                           bool ok)
{
    phx__gcs_wire_begin(&e->w, GCS_M_FLUSH_ACK, e->self, e->view_id);
    phx_cdr_put_ulonglong(&e->w, attempt);
    phx_cdr_put_boolean(&e->w, ok);
    phx_cdr_put_ulonglong(&e->w, ok ? e->recv_hi : e->f_new);
    phx__gcs_send(e, to);
}

static void on_flush_req(gcs_engine_t *e, gcs_node_t *c, phx_cdr_reader_t *r)
{
    uint64_t attempt;
    entry_t *v;
    size_t n;
    phx_cdr_get_ulonglong(r, &attempt);
    if (get_entries(r, &v, &n)) {
        atomic_fetch_add(&e->st_bad, 1);
        return;
    }
    if (c->suspected) {
        /* Tell a coordinator this process has given up on that it is
         * out, so that it steps down rather than compete. */
        phx__gcs_wire_begin(&e->w, GCS_M_SUSPECT, e->self, e->view_id);
        phx_cdr_put_ulong(&e->w, 1);
        phx_cdr_put_ulonglong(&e->w, c->id);
        phx__gcs_send(e, c);
        free(v);
        return;
    }
    if (!in_entries(v, n, e->self)) {
        free(v);
        go_blocked(e, "left out of view %llu proposed by %s",
                   (unsigned long long)attempt, c->name);
        return;
    }
    if (attempt < e->f_new ||
        (attempt == e->f_new && e->f_coord != c->id)) {
        send_flush_ack(e, c, attempt, false);
        free(v);
        return;
    }
    if (attempt > e->max_view_seen)
        e->max_view_seen = attempt;
    bool fresh = attempt != e->f_new;
    if (fresh) {
        /* Adopt the coordinator's suspicions: whoever it left out. */
        for (size_t i = 0; i < e->n_members; i++) {
            gcs_node_t *m = e->members[i];
            if (m != e->me && !in_entries(v, n, m->id)) {
                char why[64];
                snprintf(why, sizeof why, "left out by %s", c->name);
                mark_suspected(e, m, why);
            }
        }
        e->f_coordinating = false;
        e->f_new = attempt;
        e->f_coord = c->id;
        e->f_phase = 1;
        e->f_done_sent = false;
        e->f_cut = e->f_holder = 0;
        if (e->state != GCS_S_FLUSH)
            transition(e, GCS_S_FLUSH, "view %llu proposed by %s",
                       (unsigned long long)attempt, c->name);
        else
            PHX_INFO(MOD, "%s: flush now for view %llu proposed by %s",
                     e->name, (unsigned long long)attempt, c->name);
    }
    free(v);
    send_flush_ack(e, c, attempt, true);
}

static void on_flush_ack(gcs_engine_t *e, gcs_node_t *from,
                         phx_cdr_reader_t *r)
{
    uint64_t attempt, value;
    bool ok;
    phx_cdr_get_ulonglong(r, &attempt);
    phx_cdr_get_boolean(r, &ok);
    phx_cdr_get_ulonglong(r, &value);
    if (phx_cdr_reader_status(r)) {
        atomic_fetch_add(&e->st_bad, 1);
        return;
    }
    if (e->state != GCS_S_FLUSH || !e->f_coordinating ||
        attempt != e->f_new || e->f_phase != 1)
        return;
    if (!ok) {
        if (value > e->max_view_seen)
            e->max_view_seen = value;
        start_flush(e, "a member had accepted a later attempt");
        return;
    }
    from->f_acked = true;
    from->f_recv = value;
    flush_progress(e);
}

static void send_flush_done(gcs_engine_t *e)
{
    gcs_node_t *c = phx__gcs_node(e, e->f_coord);
    if (c == NULL)
        return;
    phx__gcs_wire_begin(&e->w, GCS_M_FLUSH_DONE, e->self, e->view_id);
    phx_cdr_put_ulonglong(&e->w, e->f_new);
    phx__gcs_send(e, c);
    e->f_done_sent = true;
}

static void on_flush_cut(gcs_engine_t *e, gcs_node_t *c, phx_cdr_reader_t *r)
{
    uint64_t attempt, cut, holder;
    phx_cdr_get_ulonglong(r, &attempt);
    phx_cdr_get_ulonglong(r, &cut);
    phx_cdr_get_ulonglong(r, &holder);
    if (phx_cdr_reader_status(r)) {
        atomic_fetch_add(&e->st_bad, 1);
        return;
    }
    if (e->state != GCS_S_FLUSH || e->f_coordinating ||
        attempt != e->f_new || c->id != e->f_coord)
        return;
    e->f_phase = 2;
    e->f_cut = cut;
    e->f_holder = holder;
    if (cut > e->seen_hi)
        e->seen_hi = cut;
    if (e->recv_hi >= cut)
        send_flush_done(e);
}

static void on_flush_done(gcs_engine_t *e, gcs_node_t *from,
                          phx_cdr_reader_t *r)
{
    uint64_t attempt;
    if (phx_cdr_get_ulonglong(r, &attempt))
        return;
    if (e->state != GCS_S_FLUSH || !e->f_coordinating ||
        attempt != e->f_new || e->f_phase != 2)
        return;
    from->f_done = true;
    flush_progress(e);
}

static void on_install(gcs_engine_t *e, const gcs_hdr_t *h,
                       phx_cdr_reader_t *r)
{
    uint64_t new_id, cut;
    entry_t *v;
    size_t n;
    bool snap;
    phx_cdr_get_ulonglong(r, &new_id);
    phx_cdr_get_ulonglong(r, &cut);
    if (get_entries(r, &v, &n)) {
        atomic_fetch_add(&e->st_bad, 1);
        return;
    }
    phx_cdr_get_boolean(r, &snap);
    if (phx_cdr_reader_status(r) || !in_entries(v, n, e->self) ||
        v[0].id != h->sender) {
        free(v);
        return;
    }
    if (e->state == GCS_S_FLUSH && !e->f_coordinating &&
        new_id == e->f_new && h->sender == e->f_coord &&
        h->view == e->view_id && !snap) {
        if (e->recv_hi < cut) {
            free(v);
            go_blocked(e, "view %llu installed past what this member has",
                       (unsigned long long)new_id);
            return;
        }
        phx__gcs_order_deliver_upto(e, cut);
        if (install_view(e, new_id, v, n) != 0)
            go_blocked(e, "out of memory installing a view");
        free(v);
        phx__gcs_member_check_flush(e);
        return;
    }
    if ((e->state == GCS_S_JOINING || e->state == GCS_S_BLOCKED) && snap) {
        if (phx__gcs_groups_load(e, r) != 0) {
            PHX_WARN(MOD, "%s: bad group table in INSTALL from %016llx",
                     e->name, (unsigned long long)h->sender);
            atomic_fetch_add(&e->st_bad, 1);
            free(v);
            return;
        }
        if (install_view(e, new_id, v, n) != 0) {
            free(v);
            go_blocked(e, "out of memory installing a view");
            return;
        }
        free(v);
        phx__gcs_groups_rejoin(e);
        return;
    }
    free(v);
}

static void on_excluded(gcs_engine_t *e, const gcs_hdr_t *h)
{
    if (e->state != GCS_S_OPERATIONAL && e->state != GCS_S_FLUSH)
        return;
    gcs_node_t *n = phx__gcs_node(e, h->sender);
    if (n == NULL || !is_member(e, n) || h->view <= e->view_id)
        return;
    go_blocked(e, "%s is in view %llu without this process", n->name,
               (unsigned long long)h->view);
}

/* A frame from a process this one does not know: if it was just excluded,
 * tell it so (at most once per repair interval). */
static void reply_excluded(gcs_engine_t *e, const gcs_hdr_t *h)
{
    if (e->view_id == 0 || h->view > e->view_id)
        return;
    if (h->sender == e->excl_id && e->now - e->excl_us < e->rto_us)
        return;
    const char *ep = phx__gcs_map_get64(&e->departed, h->sender);
    if (ep == NULL)
        return;
    gcs_peer_t *p = phx__gcs_net_peer(&e->net, ep);
    if (p == NULL)
        return;
    e->excl_id = h->sender;
    e->excl_us = e->now;
    phx__gcs_wire_begin(&e->w, GCS_M_EXCLUDED, e->self, e->view_id);
    phx__gcs_send_peer(e, p);
}

void phx__gcs_member_frame(gcs_engine_t *e, const gcs_hdr_t *h,
                           phx_cdr_reader_t *r)
{
    if (h->sender == e->self || h->sender == 0)
        return;
    switch (h->type) {
    case GCS_M_JOIN_REQ:
        on_join_req(e, h, r);
        return;
    case GCS_M_INSTALL:
        on_install(e, h, r);
        return;
    default:
        break;
    }
    gcs_node_t *n = phx__gcs_node(e, h->sender);
    if (n == NULL) {
        if (h->type != GCS_M_EXCLUDED && h->type != GCS_M_BYE &&
            h->type != GCS_M_STATE && h->type != GCS_M_STATE_RETRY)
            reply_excluded(e, h);
        return;
    }
    if (phx__gcs_fault_cut(&e->fault, n->name)) {
        e->fault.dropped++;
        return;
    }
    /* A handler may drop n (the process blocks): keep what is logged. */
    const char *nname = n->name;
    n->heard_us = e->now;
    if (h->view == e->view_id && e->view_id != 0)
        n->f_installed = true;
    if (h->type == GCS_M_EXCLUDED) {
        on_excluded(e, h);
        return;
    }
    if (h->type == GCS_M_STATE) {
        phx__gcs_groups_on_state(e, n, r);
        return;
    }
    if (h->type == GCS_M_STATE_RETRY) {
        phx__gcs_groups_on_retry(e, n, r);
        return;
    }
    if (!is_member(e, n))
        return;
    if (h->type == GCS_M_BYE) {
        suspect(e, n, "it said goodbye");
        return;
    }
    if (h->view != e->view_id ||
        (e->state != GCS_S_OPERATIONAL && e->state != GCS_S_FLUSH))
        return;
    switch (h->type) {
    case GCS_M_SUBMIT:
        phx__gcs_order_on_submit(e, n, r);
        break;
    case GCS_M_DATA:
        phx__gcs_order_on_data(e, n, r);
        break;
    case GCS_M_ACK:
        phx__gcs_order_on_ack(e, n, r);
        break;
    case GCS_M_NAK:
        phx__gcs_order_on_nak(e, n, r);
        break;
    case GCS_M_SUSPECT:
        if (!n->suspected)
            on_suspect(e, n, r);
        break;
    case GCS_M_FLUSH_REQ:
        on_flush_req(e, n, r);
        break;
    case GCS_M_FLUSH_ACK:
        on_flush_ack(e, n, r);
        break;
    case GCS_M_FLUSH_CUT:
        on_flush_cut(e, n, r);
        break;
    case GCS_M_FLUSH_DONE:
        on_flush_done(e, n, r);
        break;
    default:
        break;
    }
    if (phx_cdr_reader_status(r) != 0) {
        atomic_fetch_add(&e->st_bad, 1);
        PHX_DEBUG(MOD, "%s: malformed %s from %s", e->name,
                  phx__gcs_msg_name(h->type), nname);
    }
}

/* ------------------------------------------------------------------ */
/* Time                                                                 */
/* ------------------------------------------------------------------ */

void phx__gcs_member_tick(gcs_engine_t *e)
{
    if (e->state == GCS_S_JOINING || e->state == GCS_S_BLOCKED) {
        if (e->now >= e->join_next_us) {
            for (size_t i = 0; i < e->n_contacts; i++) {
                gcs_peer_t *p = phx__gcs_net_peer(&e->net, e->contacts[i]);
                if (p)
                    send_join_req(e, p, e->self, e->name, e->endpoint,
                                  e->prev_self);
            }
            e->join_next_us = e->now + e->join_us;
        }
        return;
    }
    if (e->state != GCS_S_OPERATIONAL && e->state != GCS_S_FLUSH)
        return;
    /* Failure detector: silence beyond the timeout. */
    for (size_t i = 0; i < e->n_members; i++) {
        gcs_node_t *m = e->members[i];
        if (m == e->me || m->suspected)
            continue;
        int64_t quiet = e->now - m->heard_us;
        if (quiet > e->timeout_us) {
            suspect(e, m, "silent for %lld ms", (long long)(quiet / 1000));
            if (e->state != GCS_S_OPERATIONAL && e->state != GCS_S_FLUSH)
                return;
        }
    }
    /* Joiners that went quiet are forgotten. */
    GCS_MAP_FOREACH(&e->nodes, i)
    {
        gcs_node_t *j = e->nodes.slots[i].val;
        if (j->joiner && e->now - j->heard_us > 4 * e->timeout_us &&
            !(e->state == GCS_S_FLUSH && e->f_coordinating)) {
            PHX_INFO(MOD, "%s: joiner %s went quiet", e->name, j->name);
            node_free(e, j);
            break; /* the map changed; the next tick goes on */
        }
    }
    if (e->n_suspected > 0 && e->now - e->gossip_us >= e->hb_us &&
        alive_members(e) * 2 > e->n_members)
        send_suspects(e);
    if (e->state == GCS_S_FLUSH && e->f_coordinating) {
        if (e->now >= e->f_retry_us) {
            for (size_t i = 0; i < e->f_n; i++) {
                gcs_node_t *m = e->f_prop[i];
                if (m == e->me || m->joiner)
                    continue;
                if (e->f_phase == 1 && !m->f_acked)
                    send_flush_req(e, m);
                else if (e->f_phase == 2 && !m->f_done)
                    send_flush_cut(e, m);
            }
            e->f_retry_us = e->now + e->rto_us;
        }
        if (e->now - e->f_start_us > e->timeout_us) {
            for (size_t i = 0; i < e->f_n; i++) {
                gcs_node_t *m = e->f_prop[i];
                if (m == e->me || m->joiner)
                    continue;
                if ((e->f_phase == 1 && !m->f_acked) ||
                    (e->f_phase == 2 && !m->f_done)) {
                    suspect(e, m, "no answer to the flush of view %llu",
                            (unsigned long long)e->f_new);
                    return;
                }
            }
        }
        flush_progress(e);
    } else if (e->state == GCS_S_FLUSH && e->f_phase == 2 &&
               !e->f_done_sent && e->recv_hi >= e->f_cut) {
        send_flush_done(e);
    } else if (e->state == GCS_S_FLUSH && !e->f_coordinating &&
               e->now - e->flush_since_us > 4 * e->timeout_us) {
        gcs_node_t *c = phx__gcs_node(e, e->f_coord);
        if (c)
            suspect(e, c, "the flush of view %llu does not end",
                    (unsigned long long)e->f_new);
    }
    /* INSTALL again to members not heard in the new view yet. */
    if (e->state == GCS_S_OPERATIONAL && (e->inst_frame || e->inst_join_frame)
        && e->now >= e->inst_retry_us) {
        bool all = true;
        for (size_t i = 0; i < e->n_members; i++) {
            gcs_node_t *m = e->members[i];
            if (m->f_installed || m->peer == NULL)
                continue;
            all = false;
            if (m->fresh && e->inst_join_frame)
                phx__gcs_send_buf(e, m->peer, e->inst_join_frame,
                                  e->inst_join_len);
            else if (!m->fresh && e->inst_frame)
                phx__gcs_send_buf(e, m->peer, e->inst_frame, e->inst_len);
        }
        if (all)
            free_inst(e);
        e->inst_retry_us = e->now + e->rto_us;
    }
}

void phx__gcs_member_peer_down(gcs_engine_t *e, gcs_peer_t *p)
{
    gcs_node_t *n = phx__gcs_node(e, p->node);
    if (n == NULL || n->peer != p)
        return;
    if (n->joiner) {
        PHX_INFO(MOD, "%s: joiner %s closed its connection", e->name,
                 n->name);
        node_free(e, n);
        return;
    }
    suspect(e, n, "its connection closed");
}

void phx__gcs_member_goodbye(gcs_engine_t *e)
{
    if (e->state == GCS_S_OPERATIONAL || e->state == GCS_S_FLUSH) {
        phx__gcs_wire_begin(&e->w, GCS_M_BYE, e->self, e->view_id);
        phx__gcs_bcast(e);
    }
}

void phx__gcs_member_start(gcs_engine_t *e, const char *const *seeds,
                           size_t n_seeds)
{
    phx__gcs_map_init(&e->departed);
    e->me = node_new(e, e->self, e->name, e->endpoint);
    atomic_store(&e->self_pub, e->self);
    for (size_t i = 0; i < n_seeds; i++)
        if (seeds[i] && *seeds[i])
            add_contact(e, seeds[i]);
    if (e->n_contacts == 0) {
        entry_t self = {.id = e->self, .name = e->name,
                        .endpoint = e->endpoint};
        if (e->me == NULL || install_view(e, 1, &self, 1) != 0)
            go_blocked(e, "out of memory founding a view");
        else
            PHX_INFO(MOD, "%s founded a new primary component", e->name);
        phx__gcs_groups_rejoin(e);
    } else {
        atomic_store(&e->blocked, false);
        transition(e, GCS_S_JOINING, "asking %zu seed(s) to be let in",
                   e->n_contacts);
        e->join_next_us = e->now;
    }
}

void phx__gcs_member_fini(gcs_engine_t *e)
{
    gcs_node_t **all = malloc((e->nodes.n + 1) * sizeof *all);
    size_t n_all = 0;
    if (all) {
        GCS_MAP_FOREACH(&e->nodes, i)
        all[n_all++] = e->nodes.slots[i].val;
        for (size_t i = 0; i < n_all; i++)
            node_free(e, all[i]);
        free(all);
    }
    phx__gcs_map_fini(&e->nodes);
    phx__gcs_map_fini(&e->departed);
    free(e->members);
    free(e->f_prop);
    for (size_t i = 0; i < e->n_contacts; i++)
        free(e->contacts[i]);
    free(e->contacts);
    free_inst(e);
    e->members = NULL;
    e->n_members = 0;
    e->me = NULL;
}
