/*
 * order.c - total order and uniform delivery within one process-level
 * view of the embedded GCS.
 *
 * Protocol: a fixed sequencer, as in Amoeba's group communication
 * (Kaashoek and Tanenbaum, ICDCS 1991) and the "fixed sequencer" class of
 * Defago, Schiper and Urban's survey of total order broadcast (ACM
 * Computing Surveys 36(4), 2004):
 *
 *   - a sender hands its items to the sequencer (SUBMIT), numbered with
 *     its own sequence number sseq; the sequencer accepts them strictly
 *     in sseq order per sender (FIFO, duplicates dropped);
 *   - the sequencer, the oldest member of the view, gives each item the
 *     next position g and multicasts it (DATA);
 *   - every member multicasts its cumulative acknowledgement, the highest
 *     g below which it has everything (ACK, also the heartbeat);
 *   - uniform delivery: a member delivers g once every member of the view
 *     has acknowledged g ("stable").  In agreed mode it delivers as soon
 *     as it has every position up to g.
 *   - repair: a member that sees a gap (a later g, or someone
 *     acknowledging more than it has) asks for the range (NAK); a sender
 *     whose items are not ordered within the repair interval submits them
 *     again.
 *
 * Deviations from Amoeba's sequencer protocol:
 *   - acknowledgements go to every member, not to the sequencer alone, so
 *     each member computes stability itself and there is no separate
 *     "accept" round: uniform delivery costs one message delay after
 *     ordering rather than two (Totem computes stability from the token's
 *     aru field instead; Corosync's "safe" delivery waits for two token
 *     rotations);
 *   - items are batched: one SUBMIT, DATA or ACK frame carries everything
 *     that accumulated while the engine was busy, so the per-item cost
 *     falls as the load rises;
 *   - the sequence restarts at 1 in every view; what was in flight at a
 *     view change is settled by the flush in member.c, not here.
 */
#include <stdlib.h>
#include <string.h>

#include <phx/cdr.h>
#include <phx/error.h>
#include <phx/log.h>

#include "ft/gcs/engine.h"

#define MOD "gcs.order"
/* Positions further than this above the log's low end are refused as
 * garbage, which bounds the log's table (8 MiB of pointers).  Application
 * messages in flight are bounded far below it by max_pending per sender;
 * group joins are not flow-controlled, and a process rejoining 10,000
 * groups puts 20,000 of them (GJOIN, STATE_OK) in flight at once. */
#define MAX_WINDOW ((uint64_t)1 << 20)

/* ------------------------------------------------------------------ */
/* The log: items by position                                          */
/* ------------------------------------------------------------------ */

static void pend_resync(gcs_engine_t *e);

static uint64_t log_top(const gcs_engine_t *e)
{
    return e->log_lo + e->log_cap;
}

static gcs_item_t *log_get(const gcs_engine_t *e, uint64_t g)
{
    if (g < e->log_lo || g >= log_top(e))
        return NULL;
    return e->log[g & (e->log_cap - 1)];
}

static int log_put(gcs_engine_t *e, uint64_t g, gcs_item_t *it)
{
    if (g < e->log_lo)
        return PHX_EINVAL;
    if (g >= log_top(e)) {
        size_t ncap = e->log_cap ? e->log_cap : 256;
        while (g - e->log_lo >= ncap)
            ncap *= 2;
        gcs_item_t **nl = calloc(ncap, sizeof *nl);
        if (nl == NULL)
            return PHX_ENOMEM;
        for (uint64_t x = e->log_lo; x < log_top(e); x++)
            nl[x & (ncap - 1)] = e->log[x & (e->log_cap - 1)];
        free(e->log);
        e->log = nl;
        e->log_cap = ncap;
    }
    e->log[g & (e->log_cap - 1)] = it;
    return 0;
}

/* Forget every position <= upto. */
static void log_release(gcs_engine_t *e, uint64_t upto)
{
    while (e->log_lo <= upto && e->log_cap > 0) {
        gcs_item_t **slot = &e->log[e->log_lo & (e->log_cap - 1)];
        if (*slot) {
            phx__gcs_item_unref(*slot);
            *slot = NULL;
        }
        e->log_lo++;
    }
    if (e->log_cap == 0 && e->log_lo <= upto)
        e->log_lo = upto + 1;
}

void phx__gcs_order_reset(gcs_engine_t *e)
{
    for (size_t i = 0; i < e->log_cap; i++) {
        if (e->log[i]) {
            phx__gcs_item_unref(e->log[i]);
            e->log[i] = NULL;
        }
    }
    e->log_lo = 1;
    e->ordered_hi = e->bcast_hi = e->recv_hi = e->seen_hi = 0;
    e->stable = e->delivered = e->adv_ack = e->sent_ack = 0;
    e->nak_us = 0;
    e->nak_from = 0;
    e->sent_sseq = e->own_ordered = e->me ? e->me->last_sseq : 0;
    e->submit_us = e->now;
    pend_resync(e);
}

void phx__gcs_order_fini(gcs_engine_t *e)
{
    phx__gcs_order_reset(e);
    free(e->log);
    e->log = NULL;
    e->log_cap = 0;
    phx__gcs_order_drop_pending(e);
}

gcs_node_t *phx__gcs_sequencer(gcs_engine_t *e)
{
    return e->n_members ? e->members[0] : NULL;
}

/* ------------------------------------------------------------------ */
/* Own pending items                                                    */
/* ------------------------------------------------------------------ */

/* Point pend_next at the first own item not submitted in this view. */
static void pend_resync(gcs_engine_t *e)
{
    gcs_item_t *it = e->pend_head;
    while (it && it->sseq <= e->sent_sseq)
        it = it->pnext;
    e->pend_next = it;
}

void phx__gcs_order_pend(gcs_engine_t *e, gcs_item_t *it)
{
    it->sender = e->self;
    it->sseq = ++e->next_sseq;
    it->pnext = NULL;
    if (e->pend_tail)
        e->pend_tail->pnext = it;
    else
        e->pend_head = it;
    e->pend_tail = it;
    if (e->pend_next == NULL && it->sseq > e->sent_sseq)
        e->pend_next = it;
}

static void pend_pop(gcs_engine_t *e)
{
    gcs_item_t *it = e->pend_head;
    e->pend_head = it->pnext;
    if (e->pend_head == NULL)
        e->pend_tail = NULL;
    if (e->pend_next == it)
        e->pend_next = it->pnext;
    if (it->kind == GCS_K_APP)
        atomic_fetch_sub(&e->pending, 1);
    phx__gcs_item_unref(it);
}

void phx__gcs_order_drop_pending(gcs_engine_t *e)
{
    while (e->pend_head)
        pend_pop(e);
}

void phx__gcs_order_requeue(gcs_engine_t *e, gcs_item_t *first)
{
    /* first: GJOIN items to go ahead of the application's messages, which
     * were queued before this incarnation was in any view. */
    gcs_item_t *old = e->pend_head;
    e->pend_head = e->pend_tail = e->pend_next = NULL;
    e->next_sseq = e->me ? e->me->last_sseq : 0;
    e->sent_sseq = e->own_ordered = e->next_sseq;
    while (first) {
        gcs_item_t *n = first->pnext;
        phx__gcs_order_pend(e, first);
        first = n;
    }
    while (old) {
        gcs_item_t *n = old->pnext;
        phx__gcs_order_pend(e, old);
        old = n;
    }
    pend_resync(e);
}

/* ------------------------------------------------------------------ */
/* Encoding items                                                       */
/* ------------------------------------------------------------------ */

static size_t item_wire_size(const gcs_item_t *it)
{
    return 48 + it->glen + it->len;
}

static void put_item(phx_cdr_writer_t *w, const gcs_item_t *it, bool ordered)
{
    if (ordered) {
        phx_cdr_put_ulonglong(w, it->g);
        phx_cdr_put_ulonglong(w, it->sender);
    }
    phx_cdr_put_ulonglong(w, it->sseq);
    phx_cdr_put_octet(w, it->kind);
    phx_cdr_put_string_n(w, it->group, it->glen);
    phx_cdr_put_octet_seq(w, it->data, it->len);
}

/* Read one item body (after g/sender).  Returns a new item when keep is
 * set and, if need_sseq is not 0, the item's sseq is need_sseq; NULL
 * otherwise (and on error or garbage, which sets the reader's error). */
static gcs_item_t *get_item(gcs_engine_t *e, phx_cdr_reader_t *r,
                            uint64_t *sseq, bool keep, uint64_t need_sseq)
{
    uint8_t kind;
    const char *group;
    size_t glen;
    const uint8_t *data;
    size_t len;
    phx_cdr_get_ulonglong(r, sseq);
    phx_cdr_get_octet(r, &kind);
    phx_cdr_get_string(r, &group, &glen);
    phx_cdr_get_octet_seq(r, &data, &len);
    if (phx_cdr_reader_status(r))
        return NULL;
    if (kind > GCS_K_LAST || glen == 0 || glen > PHX_GCS_GROUP_MAX ||
        len > e->max_message || *sseq == 0) {
        phx_cdr_reader_fail(r, PHX_EPROTO, "bad item");
        return NULL;
    }
    if (!keep || (need_sseq != 0 && *sseq != need_sseq))
        return NULL;
    gcs_item_t *it = phx__gcs_item_new(kind, group, glen, data, len);
    if (it)
        it->sseq = *sseq;
    return it;
}

/* ------------------------------------------------------------------ */
/* Sequencer                                                            */
/* ------------------------------------------------------------------ */

static bool am_sequencer(gcs_engine_t *e)
{
    return e->state == GCS_S_OPERATIONAL && e->n_members > 0 &&
           e->members[0] == e->me;
}

static void order_item(gcs_engine_t *e, gcs_node_t *from, gcs_item_t *it)
{
    uint64_t g = e->ordered_hi + 1;
    it->sender = from->id;
    it->g = g;
    if (log_put(e, g, it) != 0) {
        phx__gcs_item_unref(it);
        return;
    }
    e->ordered_hi = g;
    e->recv_hi = g;
    if (g > e->seen_hi)
        e->seen_hi = g;
    from->next_sseq = it->sseq + 1;
    if (from == e->me) {
        e->own_ordered = it->sseq;
        e->submit_us = e->now;
    }
}

void phx__gcs_order_on_submit(gcs_engine_t *e, gcs_node_t *from,
                              phx_cdr_reader_t *r)
{
    uint32_t n;
    phx_cdr_get_ulong(r, &n);
    bool mine = am_sequencer(e);
    for (uint32_t i = 0; i < n && phx_cdr_reader_status(r) == 0; i++) {
        uint64_t sseq;
        /* Only the sender's next sseq is taken: FIFO, no duplicates. */
        gcs_item_t *it = get_item(e, r, &sseq, mine, from->next_sseq);
        if (it != NULL)
            order_item(e, from, it);
    }
}

/* Send positions [lo, hi] that the log still holds, in DATA frames, to one
 * node (to != NULL) or every other member. */
static void send_range(gcs_engine_t *e, gcs_node_t *to, uint64_t lo,
                       uint64_t hi)
{
    uint64_t g = lo;
    while (g <= hi) {
        phx__gcs_wire_begin(&e->w, GCS_M_DATA, e->self, e->view_id);
        phx_cdr_put_ulonglong(&e->w, e->adv_ack);
        size_t count_pos = phx_cdr_writer_len(&e->w);
        phx_cdr_put_ulong(&e->w, 0);
        uint32_t count = 0;
        size_t bytes = 0;
        for (; g <= hi; g++) {
            gcs_item_t *it = log_get(e, g);
            if (it == NULL)
                continue;
            size_t sz = item_wire_size(it);
            if (count > 0 && bytes + sz > GCS_BATCH_BYTES)
                break;
            put_item(&e->w, it, true);
            bytes += sz;
            count++;
        }
        if (count == 0)
            break;
        phx_cdr_patch_ulong(&e->w, count_pos, count);
        if (phx_cdr_writer_status(&e->w))
            return;
        if (to)
            phx__gcs_send(e, to);
        else
            phx__gcs_bcast(e);
    }
}

/* ------------------------------------------------------------------ */
/* Receiving                                                            */
/* ------------------------------------------------------------------ */

static void advance_recv(gcs_engine_t *e)
{
    while (log_get(e, e->recv_hi + 1) != NULL) {
        e->recv_hi++;
        gcs_item_t *it = log_get(e, e->recv_hi);
        if (it->sender == e->self && it->sseq > e->own_ordered) {
            e->own_ordered = it->sseq;
            e->submit_us = e->now;
        }
    }
    if (e->recv_hi > e->seen_hi)
        e->seen_hi = e->recv_hi;
}

void phx__gcs_order_on_data(gcs_engine_t *e, gcs_node_t *from,
                            phx_cdr_reader_t *r)
{
    uint64_t ack;
    uint32_t n;
    phx_cdr_get_ulonglong(r, &ack);
    phx_cdr_get_ulong(r, &n);
    if (phx_cdr_reader_status(r))
        return;
    if (ack > from->ack)
        from->ack = ack;
    if (ack > e->seen_hi)
        e->seen_hi = ack;
    bool progress = false;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t g, sender, sseq;
        phx_cdr_get_ulonglong(r, &g);
        phx_cdr_get_ulonglong(r, &sender);
        bool keep = g > e->recv_hi && g >= e->log_lo &&
                    g - e->log_lo < MAX_WINDOW && log_get(e, g) == NULL;
        gcs_item_t *it = get_item(e, r, &sseq, keep, 0);
        if (phx_cdr_reader_status(r))
            break;
        if (g > e->seen_hi && g - e->recv_hi < MAX_WINDOW)
            e->seen_hi = g;
        if (it == NULL)
            continue;
        it->g = g;
        it->sender = sender;
        if (log_put(e, g, it) != 0) {
            phx__gcs_item_unref(it);
            continue;
        }
        progress = true;
    }
    if (progress)
        advance_recv(e);
}

void phx__gcs_order_on_ack(gcs_engine_t *e, gcs_node_t *from,
                           phx_cdr_reader_t *r)
{
    uint64_t ack, hi;
    phx_cdr_get_ulonglong(r, &ack);
    phx_cdr_get_ulonglong(r, &hi);
    if (phx_cdr_reader_status(r))
        return;
    if (ack > from->ack)
        from->ack = ack;
    if (hi > e->seen_hi && hi - e->recv_hi < MAX_WINDOW)
        e->seen_hi = hi;
    if (ack > e->seen_hi && ack - e->recv_hi < MAX_WINDOW)
        e->seen_hi = ack;
}

void phx__gcs_order_on_nak(gcs_engine_t *e, gcs_node_t *from,
                           phx_cdr_reader_t *r)
{
    uint64_t lo, hi;
    phx_cdr_get_ulonglong(r, &lo);
    phx_cdr_get_ulonglong(r, &hi);
    if (phx_cdr_reader_status(r) || lo == 0 || hi < lo)
        return;
    if (hi - lo >= GCS_NAK_SPAN)
        hi = lo + GCS_NAK_SPAN - 1;
    if (hi > e->recv_hi)
        hi = e->recv_hi;
    if (lo > hi)
        return;
    atomic_fetch_add(&e->st_retrans, 1);
    send_range(e, from, lo, hi);
}

void phx__gcs_order_nak(gcs_engine_t *e, gcs_node_t *to, uint64_t upto)
{
    if (to == NULL || to == e->me || upto <= e->recv_hi)
        return;
    uint64_t lo = e->recv_hi + 1;
    /* Ask the same member again for the same range only after the repair
     * interval (another member, e.g. the flush holder, is asked now). */
    if (lo == e->nak_from && to->id == e->nak_to &&
        e->now - e->nak_us < e->rto_us)
        return;
    uint64_t hi = upto;
    if (hi - lo >= GCS_NAK_SPAN)
        hi = lo + GCS_NAK_SPAN - 1;
    phx__gcs_wire_begin(&e->w, GCS_M_NAK, e->self, e->view_id);
    phx_cdr_put_ulonglong(&e->w, lo);
    phx_cdr_put_ulonglong(&e->w, hi);
    phx__gcs_send(e, to);
    e->nak_from = lo;
    e->nak_to = to->id;
    e->nak_us = e->now;
}

/* ------------------------------------------------------------------ */
/* Delivery                                                             */
/* ------------------------------------------------------------------ */

static void deliver_one(gcs_engine_t *e, gcs_item_t *it)
{
    gcs_node_t *n = phx__gcs_node(e, it->sender);
    if (n) {
        if (it->sseq > n->last_sseq)
            n->last_sseq = it->sseq;
        it->sender_name = n->name;
    } else {
        it->sender_name = phx__gcs_intern(e, "?", 1);
    }
    if (it->sender == e->self) {
        while (e->pend_head && e->pend_head->sseq <= it->sseq)
            pend_pop(e);
    }
    it->ev.pview = e->view_id;
    it->ev.pseq = it->g;
    atomic_fetch_add(&e->st_delivered, 1);
    phx__gcs_groups_deliver(e, it);
}

void phx__gcs_order_deliver_upto(gcs_engine_t *e, uint64_t upto)
{
    while (e->delivered < upto) {
        gcs_item_t *it = log_get(e, e->delivered + 1);
        if (it == NULL)
            break;
        e->delivered++;
        deliver_one(e, it);
    }
    uint64_t rel = e->delivered < e->stable ? e->delivered : e->stable;
    log_release(e, rel);
}

static uint64_t compute_stable(gcs_engine_t *e)
{
    uint64_t s = e->adv_ack;
    for (size_t i = 0; i < e->n_members; i++) {
        gcs_node_t *m = e->members[i];
        if (m != e->me && m->ack < s)
            s = m->ack;
    }
    return s;
}

static void send_ack(gcs_engine_t *e)
{
    phx__gcs_wire_begin(&e->w, GCS_M_ACK, e->self, e->view_id);
    phx_cdr_put_ulonglong(&e->w, e->adv_ack);
    phx_cdr_put_ulonglong(&e->w, e->seen_hi);
    phx__gcs_bcast(e);
    e->sent_ack = e->adv_ack;
    e->hb_next_us = e->now + e->hb_us;
}

static void submit_pending(gcs_engine_t *e)
{
    gcs_node_t *seq = phx__gcs_sequencer(e);
    gcs_item_t *it = e->pend_next;
    if (it == NULL || seq == NULL)
        return;
    if (e->own_ordered >= e->sent_sseq)
        e->submit_us = e->now;
    while (it) {
        phx__gcs_wire_begin(&e->w, GCS_M_SUBMIT, e->self, e->view_id);
        size_t count_pos = phx_cdr_writer_len(&e->w);
        phx_cdr_put_ulong(&e->w, 0);
        uint32_t count = 0;
        size_t bytes = 0;
        for (; it; it = it->pnext) {
            size_t sz = item_wire_size(it);
            if (count > 0 && bytes + sz > GCS_BATCH_BYTES)
                break;
            put_item(&e->w, it, false);
            bytes += sz;
            count++;
            e->sent_sseq = it->sseq;
        }
        e->pend_next = it;
        phx_cdr_patch_ulong(&e->w, count_pos, count);
        if (phx_cdr_writer_status(&e->w))
            return;
        phx__gcs_send(e, seq);
    }
}

void phx__gcs_order_pump(gcs_engine_t *e)
{
    if (e->state != GCS_S_OPERATIONAL && e->state != GCS_S_FLUSH)
        return;
    if (e->state == GCS_S_OPERATIONAL) {
        if (am_sequencer(e)) {
            for (gcs_item_t *it = e->pend_next; it; it = it->pnext) {
                phx__gcs_item_ref(it);
                order_item(e, e->me, it);
                e->sent_sseq = it->sseq;
            }
            e->pend_next = NULL;
        } else {
            submit_pending(e);
        }
    }
    /* Withhold acknowledgements while the application lags: stability
     * then stops, and every sender's window fills (back-pressure).  During
     * a flush the acknowledgement stays where it was when this member
     * reported what it has (FLUSH_ACK): nothing past that report can
     * become stable, so nothing past the cut is ever delivered. */
    if (e->state == GCS_S_OPERATIONAL &&
        atomic_load(&e->queued) <= e->max_queue)
        e->adv_ack = e->recv_hi;
    e->me->ack = e->adv_ack;
    if (am_sequencer(e) && e->ordered_hi > e->bcast_hi) {
        send_range(e, NULL, e->bcast_hi + 1, e->ordered_hi);
        e->bcast_hi = e->ordered_hi;
        e->sent_ack = e->adv_ack;
        e->hb_next_us = e->now + e->hb_us;
    } else if (e->adv_ack > e->sent_ack && e->n_members > 1) {
        send_ack(e);
    }
    if (e->seen_hi > e->recv_hi) {
        gcs_node_t *src = NULL;
        if (e->state == GCS_S_FLUSH && e->f_phase == 2 && e->f_holder)
            src = phx__gcs_node(e, e->f_holder);
        else if (e->state == GCS_S_OPERATIONAL)
            src = phx__gcs_sequencer(e);
        else if (e->n_members && !e->members[0]->suspected)
            src = e->members[0];
        phx__gcs_order_nak(e, src, e->seen_hi);
    }
    e->stable = compute_stable(e);
    uint64_t bound = e->agreed ? e->recv_hi : e->stable;
    if (bound > e->recv_hi)
        bound = e->recv_hi;
    if (bound > e->delivered)
        phx__gcs_order_deliver_upto(e, bound);
    else
        log_release(e, e->delivered < e->stable ? e->delivered : e->stable);
}

void phx__gcs_order_tick(gcs_engine_t *e)
{
    if (e->state != GCS_S_OPERATIONAL && e->state != GCS_S_FLUSH)
        return;
    if (e->now >= e->hb_next_us && e->n_members > 1)
        send_ack(e);
    if (e->state == GCS_S_OPERATIONAL && !am_sequencer(e) &&
        e->sent_sseq > e->own_ordered &&
        e->now - e->submit_us >= e->rto_us) {
        /* Not ordered within the repair interval: submit again. */
        e->sent_sseq = e->own_ordered;
        e->submit_us = e->now;
        pend_resync(e);
        atomic_fetch_add(&e->st_retrans, 1);
    }
}
