/*
 * groups.c - process groups of the embedded GCS, multiplexed over the one
 * totally ordered stream of the process-level view (the role Corosync's
 * cpg.c plays over totemsrp).
 *
 * Every process keeps the membership of every group, changed only by
 * items of the total order (GJOIN, GLEAVE) and by process-level view
 * changes (members that left the view leave all their groups at the
 * install point).  So every process computes the same group views at the
 * same points of the stream, with no extra protocol, and a message costs
 * one hash lookup whatever the number of groups.  Messages of a group
 * this process is not in are ordered and acknowledged like the others and
 * then dropped here.
 *
 * State transfer.  A GJOIN ordered at position p makes the joiner a
 * member at p.  The oldest member that has the group's state ("ready") is
 * its provider: its application is asked for the state (get_state) right
 * after delivering everything before p, and the chunks go straight to the
 * joiner (STATE frames, repaired with STATE_RETRY).  The joiner holds the
 * group's later events until the state is complete, then hands the
 * application its join view, the state, and exactly the events after it.
 * It then multicasts STATE_OK, which makes it ready for everyone.  If the
 * provider leaves first, the next ready member is asked at that point of
 * the stream (deterministically, at every process); if no ready member
 * is left, the group's state is lost and the waiting members start from
 * an empty state at that point.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <phx/cdr.h>
#include <phx/error.h>
#include <phx/log.h>

#include "ft/gcs/engine.h"

#define MOD "gcs.groups"

/* ------------------------------------------------------------------ */
/* Group records                                                        */
/* ------------------------------------------------------------------ */

static gcs_group_t *group_get(gcs_engine_t *e, const char *name, size_t len)
{
    return phx__gcs_map_gets(&e->groups, phx__gcs_hash(name, len), name,
                             len);
}

static void group_mem_free(gcs_group_t *g)
{
    if (g->name != g->inl)
        free(g->name);
    free(g);
}

static gcs_group_t *group_new(gcs_engine_t *e, const char *name, size_t len)
{
    size_t sz = (sizeof(gcs_group_t) + 63) & ~(size_t)63;
    gcs_group_t *g = aligned_alloc(64, sz);
    if (g == NULL)
        return NULL;
    memset(g, 0, sizeof *g);
    g->name = len < GCS_GROUP_INLINE ? g->inl : malloc(len + 1);
    if (g->name == NULL) {
        free(g);
        return NULL;
    }
    memcpy(g->name, name, len);
    g->name[len] = '\0';
    g->len = (uint32_t)len;
    g->h = phx__gcs_hash(name, len);
    if (phx__gcs_map_puts(&e->groups, g->h, g->name, len, g) != 0) {
        group_mem_free(g);
        return NULL;
    }
    atomic_store(&e->st_groups, e->groups.n);
    return g;
}

/* What a message's delivery needs to know about its group, kept in the
 * group's map slot so that delivery touches nothing else. */
#define TAG_LOCAL 1u
#define TAG_AWAITING 2u

static void sync_tag(gcs_engine_t *e, gcs_group_t *g)
{
    uint8_t tag = (uint8_t)((g->local ? TAG_LOCAL : 0) |
                            (g->awaiting ? TAG_AWAITING : 0));
    phx__gcs_map_set_tag(&e->groups, g->h, g->name, g->len, tag);
}

static void ev_list_free(gcs_ev_t *ev)
{
    while (ev) {
        gcs_ev_t *n = ev->next;
        phx__gcs_ev_free(ev);
        ev = n;
    }
}

static void stop_awaiting(gcs_engine_t *e, gcs_group_t *g)
{
    if (g->awaiting)
        phx__gcs_map_dels(&e->awaiting, g->h, g->name, g->len);
    g->awaiting = false;
    sync_tag(e, g);
    ev_list_free(g->held_head);
    ev_list_free(g->st_head);
    g->held_head = g->held_tail = NULL;
    g->st_head = g->st_tail = NULL;
    g->st_next = 0;
}

static void group_free(gcs_engine_t *e, gcs_group_t *g)
{
    stop_awaiting(e, g);
    phx__gcs_map_dels(&e->groups, g->h, g->name, g->len);
    atomic_store(&e->st_groups, e->groups.n);
    free(g->m);
    group_mem_free(g);
}

static gcs_gm_t *gm_find(gcs_group_t *g, uint64_t id)
{
    for (size_t i = 0; i < g->n; i++)
        if (g->m[i].id == id)
            return &g->m[i];
    return NULL;
}

static int gm_add(gcs_group_t *g, uint64_t id, bool ready, uint64_t provider)
{
    if (g->n == g->cap) {
        size_t ncap = g->cap ? g->cap * 2 : 4;
        gcs_gm_t *nm = realloc(g->m, ncap * sizeof *nm);
        if (nm == NULL)
            return PHX_ENOMEM;
        g->m = nm;
        g->cap = ncap;
    }
    g->m[g->n].id = id;
    g->m[g->n].ready = ready;
    g->m[g->n].provider = provider;
    g->n++;
    return 0;
}

static bool gm_remove(gcs_group_t *g, uint64_t id)
{
    for (size_t i = 0; i < g->n; i++) {
        if (g->m[i].id == id) {
            memmove(&g->m[i], &g->m[i + 1], (g->n - i - 1) * sizeof g->m[0]);
            g->n--;
            return true;
        }
    }
    return false;
}

static uint64_t oldest_ready(const gcs_group_t *g)
{
    for (size_t i = 0; i < g->n; i++)
        if (g->m[i].ready)
            return g->m[i].id;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Events                                                               */
/* ------------------------------------------------------------------ */

/* To the application, or held while this process waits for the state. */
static void emit(gcs_engine_t *e, gcs_group_t *g, gcs_ev_t *ev)
{
    if (g->awaiting) {
        ev->next = NULL;
        if (g->held_tail)
            g->held_tail->next = ev;
        else
            g->held_head = ev;
        g->held_tail = ev;
        return;
    }
    phx__gcs_emit(e, ev);
}

static const char *name_of(gcs_engine_t *e, uint64_t id)
{
    gcs_node_t *n = phx__gcs_node(e, id);
    return n ? n->name : phx__gcs_intern(e, "?", 1);
}

typedef struct change {
    uint64_t id;
    phx_gcs_reason_t reason;
} change_t;

static gcs_vev_t *make_view(gcs_engine_t *e, gcs_group_t *g, uint64_t vid,
                            bool primary, const gcs_gm_t *mem, size_t n_mem,
                            const change_t *joined, size_t n_joined,
                            const change_t *left, size_t n_left)
{
    size_t n = n_mem + n_joined + n_left;
    gcs_vev_t *v = malloc(sizeof *v + n * sizeof v->arr[0] + g->len + 1);
    if (v == NULL)
        return NULL;
    memset(&v->ev, 0, sizeof v->ev);
    v->ev.type = GCS_EV_VIEW;
    v->ev.pview = e->view_id;
    char *name = (char *)&v->arr[n];
    memcpy(name, g->name, g->len + 1);
    v->group = name;
    phx_gcs_member_t *a = v->arr;
    for (size_t i = 0; i < n_mem; i++)
        a[i] = (phx_gcs_member_t){mem[i].id, name_of(e, mem[i].id),
                                  PHX_GCS_REASON_NONE};
    for (size_t i = 0; i < n_joined; i++)
        a[n_mem + i] = (phx_gcs_member_t){joined[i].id,
                                          name_of(e, joined[i].id),
                                          joined[i].reason};
    for (size_t i = 0; i < n_left; i++)
        a[n_mem + n_joined + i] = (phx_gcs_member_t){
            left[i].id, name_of(e, left[i].id), left[i].reason};
    v->view.id = vid;
    v->view.primary = primary;
    v->view.members = a;
    v->view.n_members = n_mem;
    v->view.joined = n_joined ? a + n_mem : NULL;
    v->view.n_joined = n_joined;
    v->view.left = n_left ? a + n_mem + n_joined : NULL;
    v->view.n_left = n_left;
    return v;
}

static void emit_view(gcs_engine_t *e, gcs_group_t *g, uint64_t pview,
                      uint64_t pseq, const change_t *joined, size_t n_joined,
                      const change_t *left, size_t n_left, bool direct)
{
    gcs_vev_t *v = make_view(e, g, g->view_id, true, g->m, g->n, joined,
                             n_joined, left, n_left);
    if (v == NULL) {
        PHX_ERROR(MOD, "out of memory: view change of '%s' lost", g->name);
        return;
    }
    v->ev.pview = pview;
    v->ev.pseq = pseq;
    if (direct)
        phx__gcs_emit(e, &v->ev);
    else
        emit(e, g, &v->ev);
}

static void emit_get_state(gcs_engine_t *e, gcs_group_t *g, uint64_t joiner,
                           uint64_t pview, uint64_t pseq)
{
    gcs_gsev_t *ev = malloc(sizeof *ev + g->len + 1);
    if (ev == NULL)
        return;
    memset(&ev->ev, 0, sizeof ev->ev);
    ev->ev.type = GCS_EV_GET_STATE;
    ev->ev.pview = pview;
    ev->ev.pseq = pseq;
    ev->joiner = joiner;
    memcpy(ev->group, g->name, g->len + 1);
    emit(e, g, &ev->ev);
}

static gcs_ssev_t *make_chunk(gcs_group_t *g, const void *data, size_t len,
                              unsigned flags)
{
    gcs_ssev_t *c = malloc(sizeof *c + g->len + 1 + len);
    if (c == NULL)
        return NULL;
    memset(&c->ev, 0, sizeof c->ev);
    c->ev.type = GCS_EV_SET_STATE;
    c->flags = flags;
    memcpy(c->buf, g->name, g->len + 1);
    c->group = c->buf;
    c->data = (uint8_t *)c->buf + g->len + 1;
    c->len = len;
    if (len)
        memcpy(c->data, data, len);
    return c;
}

static bool pos_le(uint64_t av, uint64_t as, uint64_t bv, uint64_t bs)
{
    return av < bv || (av == bv && as <= bs);
}

/* The state has arrived (or is empty by necessity): hand the application
 * the held view changes up to the state's position, the state, then the
 * held events after it. */
static void complete(gcs_engine_t *e, gcs_group_t *g)
{
    uint64_t sv = g->st_view, ss = g->st_seq;
    gcs_ev_t *held = g->held_head;
    g->held_head = g->held_tail = NULL;
    gcs_ev_t *later_head = NULL, *later_tail = NULL;
    while (held) {
        gcs_ev_t *n = held->next;
        held->next = NULL;
        if (pos_le(held->pview, held->pseq, sv, ss)) {
            if (held->type == GCS_EV_VIEW)
                phx__gcs_emit(e, held);
            else
                phx__gcs_ev_free(held); /* included in the state */
        } else {
            if (later_tail)
                later_tail->next = held;
            else
                later_head = held;
            later_tail = held;
        }
        held = n;
    }
    gcs_ev_t *c = g->st_head;
    g->st_head = g->st_tail = NULL;
    while (c) {
        gcs_ev_t *n = c->next;
        c->next = NULL;
        phx__gcs_emit(e, c);
        c = n;
    }
    while (later_head) {
        gcs_ev_t *n = later_head->next;
        later_head->next = NULL;
        phx__gcs_emit(e, later_head);
        later_head = n;
    }
    phx__gcs_map_dels(&e->awaiting, g->h, g->name, g->len);
    g->awaiting = false;
    sync_tag(e, g);
    g->st_next = 0;
    PHX_DEBUG(MOD, "%s: state of '%s' installed (at %llu.%llu)", e->name,
              g->name, (unsigned long long)sv, (unsigned long long)ss);
    gcs_item_t *ok = phx__gcs_item_new(GCS_K_STATE_OK, g->name, g->len, NULL,
                                       0);
    if (ok)
        phx__gcs_order_pend(e, ok);
}

static void complete_empty(gcs_engine_t *e, gcs_group_t *g, uint64_t pview,
                           uint64_t pseq)
{
    ev_list_free(g->st_head);
    g->st_head = g->st_tail = NULL;
    gcs_ssev_t *c = make_chunk(g, NULL, 0,
                               PHX_GCS_STATE_FIRST | PHX_GCS_STATE_LAST);
    if (c) {
        g->st_head = g->st_tail = &c->ev;
    }
    g->st_view = pview;
    g->st_seq = pseq;
    PHX_WARN(MOD, "%s: no member of '%s' has its state any more: starting "
             "from an empty state", e->name, g->name);
    complete(e, g);
}

/* ------------------------------------------------------------------ */
/* State transfers this process sends                                   */
/* ------------------------------------------------------------------ */

void phx__gcs_xfer_free(gcs_xfer_t *x)
{
    if (x == NULL)
        return;
    for (size_t i = 0; i < x->n_chunks; i++)
        free(x->chunks[i]);
    free(x->chunks);
    free(x->lens);
    free(x->key);
    free(x->group);
    free(x);
}

static int xfer_key(char *buf, size_t cap, const char *group, size_t glen,
                    uint64_t joiner)
{
    if (glen + 18 > cap)
        return -1;
    memcpy(buf, group, glen);
    return (int)glen +
           snprintf(buf + glen, cap - glen, "\1%016llx",
                    (unsigned long long)joiner);
}

static void xfer_drop(gcs_engine_t *e, const char *group, size_t glen,
                      uint64_t joiner)
{
    char key[PHX_GCS_GROUP_MAX + 24];
    int kl = xfer_key(key, sizeof key, group, glen, joiner);
    if (kl < 0)
        return;
    gcs_xfer_t *x = phx__gcs_map_dels(&e->xfers,
                                      phx__gcs_hash(key, (size_t)kl), key,
                                      (size_t)kl);
    phx__gcs_xfer_free(x);
}

static void xfer_send(gcs_engine_t *e, gcs_xfer_t *x, size_t from)
{
    gcs_node_t *to = phx__gcs_node(e, x->joiner);
    if (to == NULL || to->peer == NULL)
        return;
    size_t n = x->n_chunks ? x->n_chunks : 1;
    for (size_t i = from; i < n; i++) {
        phx__gcs_wire_begin(&e->w, GCS_M_STATE, e->self, e->view_id);
        phx_cdr_put_string(&e->w, x->group);
        phx_cdr_put_ulonglong(&e->w, x->pview);
        phx_cdr_put_ulonglong(&e->w, x->pseq);
        phx_cdr_put_ulong(&e->w, (uint32_t)i);
        phx_cdr_put_boolean(&e->w, i + 1 == n);
        if (x->n_chunks)
            phx_cdr_put_octet_seq(&e->w, x->chunks[i], x->lens[i]);
        else
            phx_cdr_put_octet_seq(&e->w, NULL, 0);
        if (phx_cdr_writer_status(&e->w))
            return;
        phx__gcs_send(e, to);
    }
}

void phx__gcs_groups_xfer(gcs_engine_t *e, gcs_xfer_t *x)
{
    size_t glen = strlen(x->group);
    gcs_group_t *g = group_get(e, x->group, glen);
    gcs_gm_t *m = g ? gm_find(g, x->joiner) : NULL;
    if (g == NULL || !g->local || m == NULL || m->ready ||
        m->provider != e->self || e->state == GCS_S_BLOCKED) {
        phx__gcs_xfer_free(x);
        return;
    }
    char key[PHX_GCS_GROUP_MAX + 24];
    int kl = xfer_key(key, sizeof key, x->group, glen, x->joiner);
    if (kl < 0 || (x->key = malloc((size_t)kl)) == NULL) {
        phx__gcs_xfer_free(x);
        return;
    }
    memcpy(x->key, key, (size_t)kl);
    x->klen = (size_t)kl;
    uint64_t h = phx__gcs_hash(x->key, x->klen);
    phx__gcs_xfer_free(phx__gcs_map_dels(&e->xfers, h, x->key, x->klen));
    if (phx__gcs_map_puts(&e->xfers, h, x->key, x->klen, x) != 0) {
        phx__gcs_xfer_free(x);
        return;
    }
    PHX_DEBUG(MOD, "%s: sending %zu byte(s) of '%s' state to %s", e->name,
              x->total, x->group, name_of(e, x->joiner));
    xfer_send(e, x, 0);
}

void phx__gcs_groups_on_retry(gcs_engine_t *e, gcs_node_t *from,
                              phx_cdr_reader_t *r)
{
    const char *group;
    size_t glen;
    uint64_t pv, ps;
    uint32_t idx;
    phx_cdr_get_string(r, &group, &glen);
    phx_cdr_get_ulonglong(r, &pv);
    phx_cdr_get_ulonglong(r, &ps);
    phx_cdr_get_ulong(r, &idx);
    if (phx_cdr_reader_status(r) || glen == 0 || glen > PHX_GCS_GROUP_MAX)
        return;
    char key[PHX_GCS_GROUP_MAX + 24];
    int kl = xfer_key(key, sizeof key, group, glen, from->id);
    if (kl < 0)
        return;
    gcs_xfer_t *x = phx__gcs_map_gets(&e->xfers,
                                      phx__gcs_hash(key, (size_t)kl), key,
                                      (size_t)kl);
    /* Before its first chunk the joiner does not know the position. */
    if (x == NULL || (idx > 0 && (x->pview != pv || x->pseq != ps)))
        return;
    atomic_fetch_add(&e->st_retrans, 1);
    xfer_send(e, x, idx);
}

/* ------------------------------------------------------------------ */
/* State this process receives                                          */
/* ------------------------------------------------------------------ */

static void send_retry(gcs_engine_t *e, gcs_group_t *g)
{
    gcs_node_t *p = phx__gcs_node(e, g->provider);
    if (p == NULL || p == e->me)
        return;
    phx__gcs_wire_begin(&e->w, GCS_M_STATE_RETRY, e->self, e->view_id);
    phx_cdr_put_string_n(&e->w, g->name, g->len);
    phx_cdr_put_ulonglong(&e->w, g->st_next ? g->st_view : 0);
    phx_cdr_put_ulonglong(&e->w, g->st_next ? g->st_seq : 0);
    phx_cdr_put_ulong(&e->w, g->st_next);
    phx__gcs_send(e, p);
    g->st_us = e->now;
}

void phx__gcs_groups_on_state(gcs_engine_t *e, gcs_node_t *from,
                              phx_cdr_reader_t *r)
{
    const char *group;
    size_t glen;
    uint64_t pv, ps;
    uint32_t idx;
    bool last;
    const uint8_t *data;
    size_t len;
    phx_cdr_get_string(r, &group, &glen);
    phx_cdr_get_ulonglong(r, &pv);
    phx_cdr_get_ulonglong(r, &ps);
    phx_cdr_get_ulong(r, &idx);
    phx_cdr_get_boolean(r, &last);
    phx_cdr_get_octet_seq(r, &data, &len);
    if (phx_cdr_reader_status(r) || glen == 0 || glen > PHX_GCS_GROUP_MAX ||
        len > GCS_STATE_CHUNK) {
        atomic_fetch_add(&e->st_bad, 1);
        return;
    }
    gcs_group_t *g = group_get(e, group, glen);
    if (g == NULL || !g->awaiting || from->id != g->provider)
        return;
    if (!pos_le(g->aw_view, g->aw_seq, pv, ps))
        return;
    if (idx != g->st_next) {
        if (idx > g->st_next && e->now - g->st_us >= e->rto_us)
            send_retry(e, g);
        return;
    }
    if (idx == 0) {
        g->st_view = pv;
        g->st_seq = ps;
    } else if (pv != g->st_view || ps != g->st_seq) {
        return;
    }
    if ((uint64_t)idx * GCS_STATE_CHUNK + len > e->max_state) {
        PHX_WARN(MOD, "%s: state of '%s' exceeds max_state: ignored",
                 e->name, g->name);
        return;
    }
    unsigned flags = (idx == 0 ? PHX_GCS_STATE_FIRST : 0) |
                     (last ? PHX_GCS_STATE_LAST : 0);
    gcs_ssev_t *c = make_chunk(g, data, len, flags);
    if (c == NULL)
        return;
    if (g->st_tail)
        g->st_tail->next = &c->ev;
    else
        g->st_head = &c->ev;
    g->st_tail = &c->ev;
    g->st_next++;
    g->st_us = e->now;
    if (last)
        complete(e, g);
}

void phx__gcs_groups_tick(gcs_engine_t *e)
{
    if (e->state != GCS_S_OPERATIONAL || e->awaiting.n == 0)
        return;
    int64_t wait = 5 * e->rto_us;
    if (wait < 100000)
        wait = 100000;
    GCS_MAP_FOREACH(&e->awaiting, i)
    {
        gcs_group_t *g = e->awaiting.slots[i].val;
        if (e->now - g->st_us >= wait)
            send_retry(e, g);
    }
}

/* ------------------------------------------------------------------ */
/* Membership changes from the total order                              */
/* ------------------------------------------------------------------ */

/* Give every member still waiting for the state a provider that has it;
 * if nobody has it any more, everyone waiting starts empty. */
static void fix_providers(gcs_engine_t *e, gcs_group_t *g, uint64_t pv,
                          uint64_t ps)
{
    if (g->n == 0)
        return;
    uint64_t prov = oldest_ready(g);
    if (prov == 0) {
        for (size_t i = 0; i < g->n; i++)
            g->m[i].ready = true;
        if (g->local && g->awaiting)
            complete_empty(e, g, pv, ps);
        return;
    }
    for (size_t i = 0; i < g->n; i++) {
        gcs_gm_t *m = &g->m[i];
        if (m->ready)
            continue;
        gcs_gm_t *p = gm_find(g, m->provider);
        if (p != NULL && p->ready)
            continue;
        m->provider = prov;
        if (m->id == e->self && g->awaiting) {
            g->provider = prov;
            ev_list_free(g->st_head);
            g->st_head = g->st_tail = NULL;
            g->st_next = 0;
            g->aw_view = pv;
            g->aw_seq = ps;
            g->st_us = e->now;
        } else if (prov == e->self && g->local) {
            emit_get_state(e, g, m->id, pv, ps);
        }
    }
}

static void on_gjoin(gcs_engine_t *e, gcs_item_t *it)
{
    gcs_group_t *g = group_get(e, it->group, it->glen);
    if (g == NULL && (g = group_new(e, it->group, it->glen)) == NULL) {
        PHX_ERROR(MOD, "out of memory: group '%s' lost", it->group);
        return;
    }
    if (gm_find(g, it->sender))
        return;
    bool ready = g->n == 0;
    uint64_t prov = ready ? 0 : oldest_ready(g);
    if (gm_add(g, it->sender, ready, prov) != 0) {
        PHX_ERROR(MOD, "out of memory: join of '%s' lost", g->name);
        return;
    }
    g->view_id++;
    change_t j = {it->sender, PHX_GCS_REASON_JOIN};
    uint64_t pv = it->ev.pview, ps = it->ev.pseq;
    if (it->sender == e->self) {
        g->local = true;
        emit_view(e, g, pv, ps, &j, 1, NULL, 0, true);
        if (!ready) {
            g->awaiting = true;
            g->aw_view = pv;
            g->aw_seq = ps;
            g->provider = prov;
            g->st_next = 0;
            g->st_us = e->now;
            phx__gcs_map_puts(&e->awaiting, g->h, g->name, g->len, g);
        }
        sync_tag(e, g);
    } else if (g->local) {
        emit_view(e, g, pv, ps, &j, 1, NULL, 0, false);
        if (prov == e->self)
            emit_get_state(e, g, it->sender, pv, ps);
    }
}

static void on_gleave(gcs_engine_t *e, gcs_item_t *it)
{
    gcs_group_t *g = group_get(e, it->group, it->glen);
    if (g == NULL || !gm_remove(g, it->sender))
        return;
    g->view_id++;
    change_t l = {it->sender, PHX_GCS_REASON_LEAVE};
    uint64_t pv = it->ev.pview, ps = it->ev.pseq;
    if (it->sender == e->self) {
        stop_awaiting(e, g);
        emit_view(e, g, pv, ps, NULL, 0, &l, 1, true);
        g->local = false;
        sync_tag(e, g);
        /* Transfers this process was giving are now someone else's. */
        for (size_t i = 0; i < g->n; i++)
            xfer_drop(e, g->name, g->len, g->m[i].id);
    } else if (g->local) {
        emit_view(e, g, pv, ps, NULL, 0, &l, 1, false);
    }
    xfer_drop(e, g->name, g->len, it->sender);
    fix_providers(e, g, pv, ps);
    if (g->n == 0)
        group_free(e, g);
}

void phx__gcs_groups_deliver(gcs_engine_t *e, gcs_item_t *it)
{
    switch (it->kind) {
    case GCS_K_APP: {
        /* The common case reads the group's map slot and nothing else. */
        uint8_t tag;
        gcs_group_t *g = phx__gcs_map_gets_tag(&e->groups, it->gh, it->group,
                                               it->glen, &tag);
        if (g && (tag & TAG_LOCAL)) {
            phx__gcs_item_ref(it);
            it->ev.type = GCS_EV_DELIVER;
            it->ev.next = NULL;
            if (tag & TAG_AWAITING)
                emit(e, g, &it->ev);
            else
                phx__gcs_emit(e, &it->ev);
        }
        break;
    }
    case GCS_K_GJOIN:
        on_gjoin(e, it);
        break;
    case GCS_K_GLEAVE:
        on_gleave(e, it);
        break;
    case GCS_K_STATE_OK: {
        gcs_group_t *g = group_get(e, it->group, it->glen);
        gcs_gm_t *m = g ? gm_find(g, it->sender) : NULL;
        if (m)
            m->ready = true;
        if (g)
            xfer_drop(e, g->name, g->len, it->sender);
        break;
    }
    default:
        break;
    }
}

void phx__gcs_groups_depart(gcs_engine_t *e, const uint64_t *ids, size_t n)
{
    uint64_t pv = e->view_id, ps = 0;
    change_t *left = malloc(n * sizeof *left);
    gcs_group_t **empty = NULL;
    size_t n_empty = 0, cap_empty = 0;
    if (left == NULL) {
        PHX_ERROR(MOD, "out of memory processing a view change");
        return;
    }
    GCS_MAP_FOREACH(&e->groups, i)
    {
        gcs_group_t *g = e->groups.slots[i].val;
        size_t n_left = 0;
        for (size_t k = 0; k < n; k++) {
            if (gm_remove(g, ids[k])) {
                left[n_left].id = ids[k];
                left[n_left].reason = PHX_GCS_REASON_FAILED;
                n_left++;
                xfer_drop(e, g->name, g->len, ids[k]);
            }
        }
        if (n_left == 0)
            continue;
        g->view_id++;
        if (g->local)
            emit_view(e, g, pv, ps, NULL, 0, left, n_left, false);
        fix_providers(e, g, pv, ps);
        if (g->n == 0) {
            if (n_empty == cap_empty) {
                size_t nc = cap_empty ? cap_empty * 2 : 16;
                gcs_group_t **ne = realloc(empty, nc * sizeof *ne);
                if (ne == NULL)
                    continue;
                empty = ne;
                cap_empty = nc;
            }
            empty[n_empty++] = g;
        }
    }
    for (size_t i = 0; i < n_empty; i++)
        group_free(e, empty[i]);
    free(empty);
    free(left);
}

/* ------------------------------------------------------------------ */
/* Leaving the primary component, rejoining                             */
/* ------------------------------------------------------------------ */

void phx__gcs_groups_blocked(gcs_engine_t *e)
{
    GCS_MAP_FOREACH(&e->groups, i)
    {
        gcs_group_t *g = e->groups.slots[i].val;
        if (!g->local)
            continue;
        stop_awaiting(e, g);
        gcs_gm_t *reach = malloc((g->n + 1) * sizeof *reach);
        change_t *gone = malloc((g->n + 1) * sizeof *gone);
        size_t nr = 0, ng = 0;
        if (reach == NULL || gone == NULL) {
            free(reach);
            free(gone);
            continue;
        }
        for (size_t k = 0; k < g->n; k++) {
            gcs_node_t *nd = phx__gcs_node(e, g->m[k].id);
            if (g->m[k].id == e->self || (nd && !nd->suspected))
                reach[nr++] = g->m[k];
            else
                gone[ng++] = (change_t){g->m[k].id,
                                        PHX_GCS_REASON_UNREACHABLE};
        }
        gcs_vev_t *v = make_view(e, g, g->view_id + 1, false, reach, nr,
                                 NULL, 0, gone, ng);
        free(reach);
        free(gone);
        if (v)
            phx__gcs_emit(e, &v->ev);
    }
    /* Everything is relearned from the primary component on rejoining. */
    gcs_group_t **all = malloc((e->groups.n + 1) * sizeof *all);
    size_t n_all = 0;
    if (all) {
        GCS_MAP_FOREACH(&e->groups, i)
        all[n_all++] = e->groups.slots[i].val;
        for (size_t i = 0; i < n_all; i++)
            group_free(e, all[i]);
        free(all);
    }
    GCS_MAP_FOREACH(&e->xfers, i)
    phx__gcs_xfer_free(e->xfers.slots[i].val);
    phx__gcs_map_fini(&e->xfers);
}

static int want_cmp(const void *a, const void *b)
{
    const gcs_want_t *x = *(gcs_want_t *const *)a;
    const gcs_want_t *y = *(gcs_want_t *const *)b;
    return x->order < y->order ? -1 : x->order > y->order;
}

void phx__gcs_groups_rejoin(gcs_engine_t *e)
{
    gcs_want_t **v = malloc((e->wants.n + 1) * sizeof *v);
    if (v == NULL)
        return;
    size_t n = 0;
    GCS_MAP_FOREACH(&e->wants, i)
    v[n++] = e->wants.slots[i].val;
    qsort(v, n, sizeof *v, want_cmp);
    gcs_item_t *head = NULL, *tail = NULL;
    for (size_t i = 0; i < n; i++) {
        gcs_item_t *it =
            phx__gcs_item_new(GCS_K_GJOIN, v[i]->name, v[i]->len, NULL, 0);
        if (it == NULL)
            continue;
        it->pnext = NULL;
        if (tail)
            tail->pnext = it;
        else
            head = it;
        tail = it;
    }
    free(v);
    phx__gcs_order_requeue(e, head);
}

void phx__gcs_groups_want(gcs_engine_t *e, const char *name, bool join)
{
    size_t len = strlen(name);
    uint64_t h = phx__gcs_hash(name, len);
    gcs_want_t *w = phx__gcs_map_gets(&e->wants, h, name, len);
    if (join) {
        if (w)
            return;
        w = calloc(1, sizeof *w);
        if (w == NULL || (w->name = strdup(name)) == NULL) {
            free(w);
            return;
        }
        w->len = len;
        w->order = ++e->want_order;
        if (phx__gcs_map_puts(&e->wants, h, w->name, len, w) != 0) {
            free(w->name);
            free(w);
            return;
        }
    } else {
        if (w == NULL)
            return;
        phx__gcs_map_dels(&e->wants, h, name, len);
        free(w->name);
        free(w);
    }
    /* In a view the change goes into the total order now; otherwise the
     * wanted set is joined when this process gets into a view. */
    if (e->state == GCS_S_OPERATIONAL || e->state == GCS_S_FLUSH) {
        gcs_item_t *it = phx__gcs_item_new(join ? GCS_K_GJOIN : GCS_K_GLEAVE,
                                           name, len, NULL, 0);
        if (it)
            phx__gcs_order_pend(e, it);
    }
}

/* ------------------------------------------------------------------ */
/* The group table handed to a process joining the view                 */
/* ------------------------------------------------------------------ */

void phx__gcs_groups_snapshot(gcs_engine_t *e, phx_cdr_writer_t *w)
{
    phx_cdr_put_ulong(w, (uint32_t)e->groups.n);
    GCS_MAP_FOREACH(&e->groups, i)
    {
        gcs_group_t *g = e->groups.slots[i].val;
        phx_cdr_put_string_n(w, g->name, g->len);
        phx_cdr_put_ulonglong(w, g->view_id);
        phx_cdr_put_ulong(w, (uint32_t)g->n);
        for (size_t k = 0; k < g->n; k++) {
            phx_cdr_put_ulonglong(w, g->m[k].id);
            phx_cdr_put_ulonglong(w, g->m[k].provider);
            phx_cdr_put_boolean(w, g->m[k].ready);
        }
    }
}

int phx__gcs_groups_load(gcs_engine_t *e, phx_cdr_reader_t *r)
{
    uint32_t n;
    if (phx_cdr_get_seq_len(r, 16, &n))
        return phx_cdr_reader_status(r);
    for (uint32_t i = 0; i < n; i++) {
        const char *name;
        size_t len;
        uint64_t vid;
        uint32_t nm;
        phx_cdr_get_string(r, &name, &len);
        phx_cdr_get_ulonglong(r, &vid);
        if (phx_cdr_get_seq_len(r, 17, &nm))
            break;
        if (len == 0 || len > PHX_GCS_GROUP_MAX || nm == 0 ||
            group_get(e, name, len) != NULL) {
            phx_cdr_reader_fail(r, PHX_EPROTO, "bad group table");
            break;
        }
        gcs_group_t *g = group_new(e, name, len);
        if (g == NULL) {
            phx_cdr_reader_fail(r, PHX_ENOMEM, "group table");
            break;
        }
        g->view_id = vid;
        for (uint32_t k = 0; k < nm; k++) {
            uint64_t id, prov;
            bool ready;
            phx_cdr_get_ulonglong(r, &id);
            phx_cdr_get_ulonglong(r, &prov);
            phx_cdr_get_boolean(r, &ready);
            if (phx_cdr_reader_status(r))
                break;
            if (gm_find(g, id) || gm_add(g, id, ready, prov) != 0) {
                phx_cdr_reader_fail(r, PHX_EPROTO, "bad group member");
                break;
            }
        }
        if (phx_cdr_reader_status(r))
            break;
    }
    int rc = phx_cdr_reader_status(r);
    if (rc) {
        gcs_group_t **all = malloc((e->groups.n + 1) * sizeof *all);
        size_t n_all = 0;
        if (all) {
            GCS_MAP_FOREACH(&e->groups, i)
            all[n_all++] = e->groups.slots[i].val;
            for (size_t i = 0; i < n_all; i++)
                group_free(e, all[i]);
            free(all);
        }
    }
    return rc;
}

static const char *group_key(const void *val)
{
    return ((const gcs_group_t *)val)->name;
}

static const char *xfer_key_of(const void *val)
{
    return ((const gcs_xfer_t *)val)->key;
}

static const char *want_key(const void *val)
{
    return ((const gcs_want_t *)val)->name;
}

void phx__gcs_groups_init(gcs_engine_t *e)
{
    phx__gcs_map_init_str(&e->groups, group_key);
    phx__gcs_map_init_str(&e->awaiting, group_key);
    phx__gcs_map_init_str(&e->xfers, xfer_key_of);
    phx__gcs_map_init_str(&e->wants, want_key);
}

void phx__gcs_groups_fini(gcs_engine_t *e)
{
    gcs_group_t **all = malloc((e->groups.n + 1) * sizeof *all);
    size_t n_all = 0;
    if (all) {
        GCS_MAP_FOREACH(&e->groups, i)
        all[n_all++] = e->groups.slots[i].val;
        for (size_t i = 0; i < n_all; i++)
            group_free(e, all[i]);
        free(all);
    }
    GCS_MAP_FOREACH(&e->xfers, i)
    phx__gcs_xfer_free(e->xfers.slots[i].val);
    GCS_MAP_FOREACH(&e->wants, i)
    {
        gcs_want_t *w = e->wants.slots[i].val;
        free(w->name);
        free(w);
    }
    phx__gcs_map_fini(&e->groups);
    phx__gcs_map_fini(&e->awaiting);
    phx__gcs_map_fini(&e->xfers);
    phx__gcs_map_fini(&e->wants);
}
