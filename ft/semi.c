/*
 * semi.c - SEMI_ACTIVE replication (include/phx/ft_semi.h, docs/ft.md
 * "Non-determinism and SEMI_ACTIVE"), structured on passive.c.
 *
 * The leader (oldest member of the primary view) executes requests
 * carrying FT_REQUEST on the ORB workers that receive them, concurrently,
 * each with a recording context (<phx/ft_nd.h>).  A finished request
 * becomes a record {request, seed, log of decisions, reply, last group
 * time}; records are multicast in batches, in an order that respects the
 * mutex acquisitions they depend on (see "Commit order" below), and the
 * client is answered once the leader delivered its record.  Followers
 * replay every delivered record in a thread of its own with a replaying
 * context, keep the leader's reply in the reply cache and compare theirs
 * with it.
 *
 * Threads: ORB workers execute (leader) and wait for the delivery; one
 * dispatch thread owns the GCS handle; followers start one detached
 * thread per delivered record.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <phx/ft.h>
#include <phx/ft_nd.h>
#include <phx/ft_semi.h>
#include <phx/gcs.h>
#include <phx/interceptor.h>
#include <phx/log.h>

#include "ft/ft_int.h"

#define OWNER_LOOKUP ((uintptr_t)5)

/* One request as it travels in a record (owned copies). */
typedef struct rec {
    char *client_id;
    size_t client_id_len;
    int32_t retention_id;
    uint64_t expiration;
    char *op;
    uint8_t byte_order;
    uint8_t *body;
    size_t body_len;
    uint64_t seed;
    uint8_t *log;
    size_t log_len;
    uint32_t status;
    uint8_t *reply;
    size_t reply_len;
    bool has_digest;
    uint64_t digest;
    uint64_t last_ns;
} rec_t;

/* A request executed by the leader, until its record is delivered. */
typedef struct pend {
    struct pend *next;
    rec_t r;
    uint64_t *gs;       /* global acquisition numbers it took */
    size_t n_gs;
    uint64_t max_g;     /* UINT64_MAX: none */
    uint64_t seq;       /* of the batch carrying it; 0: held */
} pend_t;

typedef struct outmsg {
    struct outmsg *next;
    uint8_t *data;
    size_t len;
    uint64_t seq;
} outmsg_t;

/* A record a state transfer already holds (joiner). */
typedef struct skip {
    struct skip *next;
    char *client_id;
    size_t client_id_len;
    int32_t retention_id;
} skip_t;

struct phx_ft_semi {
    phx_orb_t *orb;
    uint8_t *key;
    size_t key_len;
    phx_ft_semi_config_t cfg;
    char *group;
    char *self_name;
    phx_gcs_t *gcs;
    phx_ft_reply_cache_t *cache;
    phx_server_interceptor_t si;
    phx_ft_group_clock_t gclock;
    phx_ft_mutex_t servant_lock; /* the implicit one (!multithreaded) */
    bool servant_lock_init;

    pthread_mutex_t lock;       /* everything below, and the cache */
    pthread_cond_t cond;
    bool is_leader;
    bool tainted;               /* own record lost: leaving the group */
    bool left;
    uint64_t self_id;
    int running;                /* leader executions in progress */
    int replay_running;         /* follower replays not finished */
    bool gate_closed;           /* a state is being taken */
    pend_t *pends;              /* leader: executed, not delivered */
    uint64_t g_base;            /* commit order: first g not committed */
    uint8_t *g_done;            /* committed flags from g_base on */
    size_t g_len, g_cap;
    uint64_t next_seq, delivered_seq, failed_seq;
    outmsg_t *out_head, *out_tail;
    skip_t *skips;
    uint64_t delivered_count;   /* records delivered (or in the state) */
    bool stopping, stopped, thread_started;
    pthread_t thread;
    int wake_fd;
    phx_ft_semi_stats_t stats;
    phx__ft_state_rx_t st;
};

/* ------------------------------------------------------------------ */
/* Helpers                                                              */
/* ------------------------------------------------------------------ */

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ULL;
    return h;
}

static uint64_t reply_digest(uint32_t status, const uint8_t *body,
                             size_t len)
{
    uint64_t h = fnv(0xcbf29ce484222325ULL, &status, sizeof status);
    return fnv(h, body, len);
}

static void *dup_mem(const void *p, size_t n)
{
    void *d = malloc(n ? n + 1 : 1);
    if (d && n)
        memcpy(d, p, n);
    if (d)
        ((char *)d)[n] = '\0';
    return d;
}

static void rec_fini(rec_t *r)
{
    free(r->client_id);
    free(r->op);
    free(r->body);
    free(r->log);
    free(r->reply);
    memset(r, 0, sizeof *r);
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

static void wake(phx_ft_semi_t *s)
{
    uint64_t one = 1;
    ssize_t n = write(s->wake_fd, &one, sizeof one);
    (void)n;
}

/* ------------------------------------------------------------------ */
/* Records                                                              */
/* ------------------------------------------------------------------ */

static void rec_put(phx_cdr_writer_t *w, const rec_t *r)
{
    phx_cdr_put_octet_seq(w, r->client_id, r->client_id_len);
    phx_cdr_put_long(w, r->retention_id);
    phx_cdr_put_ulonglong(w, r->expiration);
    phx_cdr_put_octet_seq(w, r->op, strlen(r->op));
    phx_cdr_put_octet(w, r->byte_order);
    phx_cdr_put_octet_seq(w, r->body, r->body_len);
    phx_cdr_put_ulonglong(w, r->seed);
    phx_cdr_put_octet_seq(w, r->log, r->log_len);
    phx_cdr_put_ulong(w, r->status);
    phx_cdr_put_octet_seq(w, r->reply, r->reply_len);
    phx_cdr_put_octet(w, r->has_digest);
    phx_cdr_put_ulonglong(w, r->digest);
    phx_cdr_put_ulonglong(w, r->last_ns);
}

/* Decode one record into owned copies. */
static bool rec_get(phx_cdr_reader_t *rd, rec_t *r)
{
    const uint8_t *id, *op, *body, *log, *reply;
    size_t op_len;
    uint8_t hd = 0;
    memset(r, 0, sizeof *r);
    phx_cdr_get_octet_seq(rd, &id, &r->client_id_len);
    phx_cdr_get_long(rd, &r->retention_id);
    phx_cdr_get_ulonglong(rd, &r->expiration);
    phx_cdr_get_octet_seq(rd, &op, &op_len);
    phx_cdr_get_octet(rd, &r->byte_order);
    phx_cdr_get_octet_seq(rd, &body, &r->body_len);
    phx_cdr_get_ulonglong(rd, &r->seed);
    phx_cdr_get_octet_seq(rd, &log, &r->log_len);
    phx_cdr_get_ulong(rd, &r->status);
    phx_cdr_get_octet_seq(rd, &reply, &r->reply_len);
    phx_cdr_get_octet(rd, &hd);
    phx_cdr_get_ulonglong(rd, &r->digest);
    phx_cdr_get_ulonglong(rd, &r->last_ns);
    if (phx_cdr_reader_status(rd) != PHX_OK || r->client_id_len == 0 ||
        op_len == 0 || memchr(op, '\0', op_len) != NULL)
        return false;
    r->has_digest = hd != 0;
    r->client_id = dup_mem(id, r->client_id_len);
    r->op = dup_mem(op, op_len);
    r->body = dup_mem(body, r->body_len);
    r->log = dup_mem(log, r->log_len);
    r->reply = dup_mem(reply, r->reply_len);
    if (!r->client_id || !r->op || !r->body || !r->log || !r->reply) {
        rec_fini(r);
        return false;
    }
    return true;
}

/* ------------------------------------------------------------------ */
/* Commit order (leader)                                                */
/* ------------------------------------------------------------------ */
/*
 * Every acquisition of a phx_ft_mutex by a recording context takes a
 * global number g (in acquisition order, consistent with each mutex's own
 * order).  A record may be multicast only together with, or after, the
 * records of every acquisition numbered below its own highest one: a
 * follower replaying it then has every acquisition it waits for, and a
 * record the client was answered for never depends on one that could be
 * lost with the leader.  The finished records that can go are sent as one
 * batch (records with cyclic dependencies go together).
 */

static bool g_mark(phx_ft_semi_t *s, uint8_t *done, size_t len, uint64_t g)
{
    if (g < s->g_base)
        return true;
    uint64_t i = g - s->g_base;
    if (i >= len)
        return false;
    done[i] = 1;
    return true;
}

/* The first g not covered by the committed ones and those of the
 * candidates (pends with seq 0 and cand set). */
static uint64_t g_prefix(phx_ft_semi_t *s, const bool *cand, size_t n,
                         uint8_t *tmp, size_t len)
{
    if (s->g_len)
        memcpy(tmp, s->g_done, s->g_len);
    memset(tmp + s->g_len, 0, len - s->g_len);
    size_t k = 0;
    for (pend_t *p = s->pends; p; p = p->next) {
        if (p->seq)
            continue;
        if (k < n && cand[k])
            for (size_t i = 0; i < p->n_gs; i++)
                g_mark(s, tmp, len, p->gs[i]);
        k++;
    }
    size_t i = 0;
    while (i < len && tmp[i])
        i++;
    return s->g_base + i;
}

/* Queue the batch of held records that can go.  Lock held. */
static void try_commit(phx_ft_semi_t *s)
{
    size_t n = 0;
    uint64_t hi = s->g_base;
    for (pend_t *p = s->pends; p; p = p->next)
        if (!p->seq) {
            n++;
            for (size_t i = 0; i < p->n_gs; i++)
                if (p->gs[i] + 1 > hi)
                    hi = p->gs[i] + 1;
        }
    if (n == 0)
        return;
    size_t len = (size_t)(hi - s->g_base);
    if (len < s->g_len)
        len = s->g_len;
    bool *cand = malloc(n * sizeof *cand);
    uint8_t *tmp = malloc(len + 1);
    if (cand == NULL || tmp == NULL) {
        free(cand);
        free(tmp);
        return;
    }
    for (size_t i = 0; i < n; i++)
        cand[i] = true;
    /* Drop the candidates that depend on an acquisition outside the set,
     * until none does. */
    for (bool changed = true; changed;) {
        changed = false;
        uint64_t pre = g_prefix(s, cand, n, tmp, len);
        size_t k = 0;
        for (pend_t *p = s->pends; p; p = p->next) {
            if (p->seq)
                continue;
            if (cand[k] && p->max_g != UINT64_MAX && p->max_g >= pre) {
                cand[k] = false;
                changed = true;
            }
            k++;
        }
    }
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        m += cand[i];
    if (m == 0) {
        free(cand);
        free(tmp);
        return;
    }
    uint64_t seq = ++s->next_seq;
    phx_cdr_writer_t w;
    phx_cdr_writer_init(&w, 256);
    phx_cdr_put_octet(&w, PHX_CDR_NATIVE);
    phx_cdr_put_ulonglong(&w, seq);
    phx_cdr_put_ulong(&w, (uint32_t)m);
    size_t k = 0;
    for (pend_t *p = s->pends; p; p = p->next) {
        if (p->seq)
            continue;
        if (cand[k]) {
            rec_put(&w, &p->r);
            p->seq = seq;
            /* Committed: its numbers are done for good. */
            for (size_t i = 0; i < p->n_gs; i++) {
                uint64_t g = p->gs[i];
                if (g < s->g_base)
                    continue;
                size_t idx = (size_t)(g - s->g_base);
                if (idx >= s->g_cap) {
                    size_t cap = s->g_cap ? 2 * s->g_cap : 64;
                    while (cap <= idx)
                        cap *= 2;
                    uint8_t *d = realloc(s->g_done, cap);
                    if (d == NULL)
                        continue;
                    memset(d + s->g_cap, 0, cap - s->g_cap);
                    s->g_done = d;
                    s->g_cap = cap;
                }
                s->g_done[idx] = 1;
                if (idx >= s->g_len)
                    s->g_len = idx + 1;
            }
        }
        k++;
    }
    free(cand);
    free(tmp);
    /* Advance the committed prefix. */
    size_t adv = 0;
    while (adv < s->g_len && s->g_done[adv])
        adv++;
    if (adv) {
        memmove(s->g_done, s->g_done + adv, s->g_len - adv);
        memset(s->g_done + s->g_len - adv, 0, adv);
        s->g_len -= adv;
        s->g_base += adv;
    }
    size_t mlen = 0;
    uint8_t *msg = phx_cdr_writer_status(&w) == PHX_OK
                       ? phx_cdr_writer_steal(&w, &mlen)
                       : NULL;
    phx_cdr_writer_fini(&w);
    outmsg_t *om = msg ? malloc(sizeof *om) : NULL;
    if (om == NULL) {
        free(msg);
        s->failed_seq = seq;
        pthread_cond_broadcast(&s->cond);
        return;
    }
    om->next = NULL;
    om->data = msg;
    om->len = mlen;
    om->seq = seq;
    if (s->out_tail)
        s->out_tail->next = om;
    else
        s->out_head = om;
    s->out_tail = om;
    s->stats.batches++;
}

/* The member's servant ran requests the group will not have: it leaves
 * the group (the dispatch thread calls phx_gcs_leave).  Lock held. */
static void taint(phx_ft_semi_t *s, const char *why)
{
    if (!s->tainted)
        phx_log(PHX_LOG_ERROR, "ft",
                "semi-active %s: %s: this member's servant has executed "
                "requests the group does not have; leaving the group",
                s->group, why);
    s->tainted = true;
    s->is_leader = false;
    pthread_cond_broadcast(&s->cond);
}

/* ------------------------------------------------------------------ */
/* Follower replay                                                      */
/* ------------------------------------------------------------------ */

typedef struct job {
    phx_ft_semi_t *s;
    rec_t r;
    uint64_t index;
} job_t;

static void report_divergence(phx_ft_semi_t *s, const rec_t *r,
                              uint64_t index, const char *kind,
                              uint64_t expected, uint64_t got,
                              const char *why)
{
    char detail[512];
    snprintf(detail, sizeof detail,
             "group=%s member=%s record=%llu request=%s/%d op=%s kind=%s "
             "expected=%016llx got=%016llx%s%s",
             s->group, s->self_name ? s->self_name : "?",
             (unsigned long long)index, r->client_id, (int)r->retention_id,
             r->op, kind, (unsigned long long)expected,
             (unsigned long long)got, why ? " " : "", why ? why : "");
    pthread_mutex_lock(&s->lock);
    bool first = s->stats.divergences++ == 0;
    pthread_mutex_unlock(&s->lock);
    phx_log(first ? PHX_LOG_ERROR : PHX_LOG_WARN, "ft",
            "semi-active: DIVERGED %s", detail);
    if (s->cfg.divergence) {
        phx_ft_semi_divergence_t d = {s->group, s->self_name, r->client_id,
                                      r->retention_id, r->op, kind,
                                      expected, got, index, detail};
        s->cfg.divergence(s->cfg.arg, &d);
    }
}

static uint64_t state_digest(phx_ft_semi_t *s, bool *ok)
{
    uint8_t *st = NULL;
    size_t len = 0;
    *ok = s->cfg.get_state(s->cfg.arg, &st, &len) == 0;
    uint64_t h = *ok ? fnv(0xcbf29ce484222325ULL, st, len) : 0;
    free(st);
    return h;
}

static void replay_one(phx_ft_semi_t *s, rec_t *r, uint64_t index)
{
    phx_ft_nd_ctx_t ctx;
    phx_ft_nd_begin_replay(&ctx, r->log, r->log_len, r->seed);
    phx_ft_nd_set_request(&ctx, r->client_id, r->client_id_len,
                          r->retention_id, r->expiration);
    if (!s->cfg.multithreaded)
        phx_ft_mutex_lock(&s->servant_lock);
    uint32_t status = 0;
    uint8_t *reply = NULL;
    size_t reply_len = 0;
    int rc = phx_orb_invoke_local(s->orb, s->key, s->key_len, r->op,
                                  r->body, r->body_len, r->byte_order,
                                  &status, &reply, &reply_len, NULL);
    bool st_ok = false, st_checked = false;
    uint64_t st_dg = 0;
    if (r->has_digest) {
        st_dg = state_digest(s, &st_ok);
        st_checked = st_ok;
    }
    if (!s->cfg.multithreaded)
        phx_ft_mutex_unlock(&s->servant_lock);
    phx_ft_nd_end(&ctx);
    uint64_t want = reply_digest(r->status, r->reply, r->reply_len);
    uint64_t got = rc == PHX_OK ? reply_digest(status, reply, reply_len) : 0;
    if (ctx.diverged)
        report_divergence(s, r, index, "replay", want, got, ctx.why);
    else if (got != want)
        report_divergence(s, r, index, "reply", want, got,
                          rc == PHX_OK ? NULL : "(not executed)");
    else if (st_checked && st_dg != r->digest)
        report_divergence(s, r, index, "state", r->digest, st_dg, NULL);
    phx_ft_nd_ctx_fini(&ctx);
    free(reply);
    if (st_checked) {
        pthread_mutex_lock(&s->lock);
        s->stats.state_checks++;
        pthread_mutex_unlock(&s->lock);
    }
}

static void *replay_main(void *arg)
{
    job_t *j = arg;
    phx_ft_semi_t *s = j->s;
    replay_one(s, &j->r, j->index);
    rec_fini(&j->r);
    free(j);
    pthread_mutex_lock(&s->lock);
    s->stats.replayed++;
    s->replay_running--;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

/* ------------------------------------------------------------------ */
/* GCS callbacks (dispatch thread)                                      */
/* ------------------------------------------------------------------ */

static bool take_skip(phx_ft_semi_t *s, const rec_t *r)
{
    for (skip_t **pp = &s->skips; *pp; pp = &(*pp)->next) {
        skip_t *k = *pp;
        if (k->retention_id == r->retention_id &&
            k->client_id_len == r->client_id_len &&
            memcmp(k->client_id, r->client_id, r->client_id_len) == 0) {
            *pp = k->next;
            free(k->client_id);
            free(k);
            return true;
        }
    }
    return false;
}

static void on_deliver(phx_gcs_t *gcs, const char *group,
                       const phx_gcs_member_t *sender, const void *msg,
                       size_t len, void *arg)
{
    (void)gcs;
    (void)group;
    phx_ft_semi_t *s = arg;
    phx_cdr_reader_t rd;
    uint64_t seq = 0;
    uint32_t n = 0;
    if (phx_cdr_reader_init_encap(&rd, msg, len) != PHX_OK ||
        phx_cdr_get_ulonglong(&rd, &seq) != PHX_OK ||
        phx_cdr_get_ulong(&rd, &n) != PHX_OK)
        return;
    pthread_mutex_lock(&s->lock);
    bool own = sender != NULL && sender->id == s->self_id;
    pthread_mutex_unlock(&s->lock);
    for (uint32_t i = 0; i < n; i++) {
        rec_t r;
        if (!rec_get(&rd, &r)) {
            phx_log(PHX_LOG_ERROR, "ft", "semi-active %s: malformed record",
                    s->group);
            break;
        }
        phx_ft_group_clock_advance(&s->gclock, r.last_ns);
        pthread_mutex_lock(&s->lock);
        phx_ft_reply_cache_put(s->cache, r.client_id, r.client_id_len,
                               r.retention_id, r.expiration, r.status,
                               r.reply, r.reply_len);
        uint64_t index = s->delivered_count++;
        bool replay = !own && !take_skip(s, &r);
        if (!own && !replay)
            s->stats.skipped++;
        job_t *j = replay ? malloc(sizeof *j) : NULL;
        if (j)
            s->replay_running++;
        pthread_mutex_unlock(&s->lock);
        if (!replay) {
            rec_fini(&r);
            continue;
        }
        if (j == NULL) {
            phx_log(PHX_LOG_ERROR, "ft", "semi-active %s: out of memory",
                    s->group);
            rec_fini(&r);
            continue;
        }
        j->s = s;
        j->r = r;
        j->index = index;
        pthread_t th;
        pthread_attr_t at;
        pthread_attr_init(&at);
        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&th, &at, replay_main, j) != 0)
            replay_main(j); /* inline: may wait for later records */
        pthread_attr_destroy(&at);
    }
    if (own) {
        pthread_mutex_lock(&s->lock);
        if (seq > s->delivered_seq)
            s->delivered_seq = seq;
        pthread_cond_broadcast(&s->cond);
        pthread_mutex_unlock(&s->lock);
    }
}

static void on_view(phx_gcs_t *gcs, const char *group,
                    const phx_gcs_view_t *view, void *arg)
{
    (void)group;
    phx_ft_semi_t *s = arg;
    phx_gcs_member_t self;
    bool have_self = phx_gcs_self(gcs, &self) == PHX_OK;
    pthread_mutex_lock(&s->lock);
    if (have_self) {
        s->self_id = self.id;
        if (s->self_name == NULL && self.name)
            s->self_name = strdup(self.name);
    }
    bool was = s->is_leader;
    bool leader = have_self && !s->tainted && view->primary &&
                  view->n_members > 0 && view->members[0].id == self.id;
    if (leader && !was) {
        s->stats.promotions++;
        /* Acquisitions so far are all in delivered records. */
        s->g_base = phx_ft_nd_next_g();
        s->g_len = 0;
    }
    s->is_leader = leader;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
    if (s->cfg.view_change)
        s->cfg.view_change(s->cfg.arg, view, leader);
    if (s->cfg.state_ready && view->primary && view->n_members == 1 &&
        phx__ft_view_joined_self(gcs, view))
        s->cfg.state_ready(s->cfg.arg);
}

/*
 * The member's state, taken while no request executes (new ones wait at
 * the gate): a CDR encapsulation of sequence<octet> servant state,
 * sequence<octet> mutex counts, unsigned long long last group time,
 * unsigned long long records delivered, unsigned long n, then n
 * {sequence<octet> client id, long retention id}: the requests the
 * leader executed whose records are not delivered yet (the joiner keeps
 * their replies but does not execute them again).
 */
static int on_get_state(phx_gcs_t *gcs, const char *group,
                        phx_gcs_state_writer_t *w, void *arg)
{
    (void)gcs;
    (void)group;
    phx_ft_semi_t *s = arg;
    struct timespec dl;
    deadline_in(&dl, s->cfg.wait_ms);
    pthread_mutex_lock(&s->lock);
    s->gate_closed = true;
    int wrc = 0;
    while ((s->running > 0 || s->replay_running > 0) && wrc != ETIMEDOUT)
        wrc = pthread_cond_timedwait(&s->cond, &s->lock, &dl);
    int rc = -1;
    uint8_t *user = NULL, *cbuf = NULL, *counts = NULL;
    size_t ulen = 0, clen = 0, nlen = 0;
    if (s->running == 0 && s->replay_running == 0) {
        phx_cdr_writer_t cw;
        phx_cdr_writer_init(&cw, 0);
        if (phx_ft_reply_cache_serialize(s->cache, &cw) == PHX_OK)
            cbuf = phx_cdr_writer_steal(&cw, &clen);
        phx_cdr_writer_fini(&cw);
        uint8_t *st = NULL;
        size_t st_len = 0;
        if (cbuf && s->cfg.get_state(s->cfg.arg, &st, &st_len) == 0 &&
            phx_ft_nd_mutex_counts(&counts, &nlen) == PHX_OK) {
            phx_cdr_writer_t uw;
            phx_cdr_writer_init(&uw, 64 + st_len + nlen);
            phx_cdr_put_octet(&uw, PHX_CDR_NATIVE);
            phx_cdr_put_octet_seq(&uw, st, st_len);
            phx_cdr_put_octet_seq(&uw, counts, nlen);
            phx_cdr_put_ulonglong(&uw, phx_ft_group_clock_last(&s->gclock));
            phx_cdr_put_ulonglong(&uw, s->delivered_count);
            uint32_t k = 0;
            for (pend_t *p = s->pends; p; p = p->next)
                if (!(p->seq && p->seq <= s->delivered_seq))
                    k++;
            phx_cdr_put_ulong(&uw, k);
            for (pend_t *p = s->pends; p; p = p->next)
                if (!(p->seq && p->seq <= s->delivered_seq)) {
                    phx_cdr_put_octet_seq(&uw, p->r.client_id,
                                          p->r.client_id_len);
                    phx_cdr_put_long(&uw, p->r.retention_id);
                }
            if (phx_cdr_writer_status(&uw) == PHX_OK)
                user = phx_cdr_writer_steal(&uw, &ulen);
            phx_cdr_writer_fini(&uw);
        }
        free(st);
    }
    s->gate_closed = false;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
    if (user && cbuf && clen <= UINT32_MAX)
        rc = phx__ft_state_send(w, cbuf, clen, user, ulen);
    else
        phx_log(PHX_LOG_ERROR, "ft",
                "semi-active %s: no state for the joiner (executions did "
                "not finish within wait_ms, or out of memory)",
                s->group);
    free(cbuf);
    free(user);
    free(counts);
    return rc;
}

static bool state_install(phx_ft_semi_t *s, const uint8_t *data, size_t len)
{
    phx_cdr_reader_t r;
    const uint8_t *st, *counts;
    size_t st_len, nlen;
    uint64_t last = 0, count = 0;
    uint32_t k = 0;
    if (phx_cdr_reader_init_encap(&r, data, len) != PHX_OK)
        return false;
    phx_cdr_get_octet_seq(&r, &st, &st_len);
    phx_cdr_get_octet_seq(&r, &counts, &nlen);
    phx_cdr_get_ulonglong(&r, &last);
    phx_cdr_get_ulonglong(&r, &count);
    phx_cdr_get_ulong(&r, &k);
    if (phx_cdr_reader_status(&r) != PHX_OK ||
        k > phx_cdr_reader_remaining(&r) / 8)
        return false;
    if (s->cfg.set_state(s->cfg.arg, st, st_len) != 0 ||
        phx_ft_nd_set_mutex_counts(counts, nlen) != PHX_OK)
        return false;
    phx_ft_group_clock_advance(&s->gclock, last);
    s->delivered_count = count;
    for (uint32_t i = 0; i < k; i++) {
        const uint8_t *id;
        size_t idl;
        int32_t rid;
        phx_cdr_get_octet_seq(&r, &id, &idl);
        if (phx_cdr_get_long(&r, &rid) != PHX_OK)
            return false;
        skip_t *sk = malloc(sizeof *sk);
        if (sk == NULL)
            return false;
        sk->client_id = dup_mem(id, idl);
        sk->client_id_len = idl;
        sk->retention_id = rid;
        sk->next = s->skips;
        s->skips = sk;
    }
    return true;
}

static void on_set_state(phx_gcs_t *gcs, const char *group,
                         const void *chunk, size_t len, unsigned flags,
                         void *arg)
{
    (void)gcs;
    (void)group;
    phx_ft_semi_t *s = arg;
    const uint8_t *cbuf, *user;
    size_t clen, ulen;
    if (!phx__ft_state_rx_add(&s->st, chunk, len, flags)) {
        if ((flags & PHX_GCS_STATE_LAST) && s->cfg.state_ready)
            s->cfg.state_ready(s->cfg.arg);
        return;
    }
    pthread_mutex_lock(&s->lock);
    if (!phx__ft_state_split(s->st.buf, s->st.len, &cbuf, &clen, &user,
                             &ulen) ||
        (phx_ft_reply_cache_deserialize(s->cache, cbuf, clen, NULL),
         !state_install(s, user, ulen)))
        phx_log(PHX_LOG_ERROR, "ft",
                "semi-active %s: malformed state transfer ignored",
                s->group);
    pthread_mutex_unlock(&s->lock);
    if (s->cfg.state_ready)
        s->cfg.state_ready(s->cfg.arg);
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
    phx_ft_semi_t *s = arg;
    for (;;) {
        pthread_mutex_lock(&s->lock);
        bool stop = s->stopping;
        bool leave = s->tainted && !s->left;
        if (leave)
            s->left = true;
        outmsg_t *out = s->out_head;
        s->out_head = s->out_tail = NULL;
        pthread_mutex_unlock(&s->lock);
        if (leave)
            phx_gcs_leave(s->gcs, s->group, NULL);
        if (stop) {
            while (out) {
                outmsg_t *nx = out->next;
                free(out->data);
                free(out);
                out = nx;
            }
            break;
        }
        bool again = false;
        while (out) {
            int rc = phx_gcs_multicast(s->gcs, s->group, out->data, out->len,
                                       NULL);
            if (rc == PHX_EAGAIN) {
                outmsg_t *last = out;
                while (last->next)
                    last = last->next;
                pthread_mutex_lock(&s->lock);
                last->next = s->out_head;
                if (s->out_head == NULL)
                    s->out_tail = last;
                s->out_head = out;
                pthread_mutex_unlock(&s->lock);
                again = true;
                break;
            }
            if (rc != PHX_OK) {
                pthread_mutex_lock(&s->lock);
                if (out->seq > s->failed_seq)
                    s->failed_seq = out->seq;
                pthread_cond_broadcast(&s->cond);
                pthread_mutex_unlock(&s->lock);
            }
            outmsg_t *nx = out->next;
            free(out->data);
            free(out);
            out = nx;
        }
        struct pollfd pf[2] = {{phx_gcs_fd(s->gcs), POLLIN, 0},
                               {s->wake_fd, POLLIN, 0}};
        if (poll(pf, 2, again ? 1 : 200) < 0 && errno != EINTR)
            break;
        if (pf[1].revents & POLLIN)
            drain_fd(s->wake_fd);
        if (phx_gcs_dispatch(s->gcs, 0, NULL) < 0)
            break;
    }
    pthread_mutex_lock(&s->lock);
    s->stopped = true;
    s->is_leader = false;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Server interceptor (ORB workers)                                     */
/* ------------------------------------------------------------------ */

static int refuse(phx_env_t *env, phx_completion_t c, const char *why)
{
    return phx_env_system(env, PHX_SYSEX_TRANSIENT, 0, c,
                          "semi-active: %s", why);
}

static int semi_receive(void *arg, phx_server_ri_t *ri, phx_env_t *env)
{
    phx_ft_semi_t *s = arg;
    const phx_service_context_t *sc =
        phx_server_ri_request_context(ri, PHX_SC_FT_REQUEST);
    if (sc == NULL)
        return PHX_OK;
    size_t klen;
    const uint8_t *key = phx_server_ri_object_key(ri, &klen);
    if (klen != s->key_len || memcmp(key, s->key, klen) != 0)
        return PHX_OK;
    phx_ft_request_ctx_t c;
    phx_error_t err;
    if (phx_ft_request_ctx_decode(sc->data, sc->len, &c, &err) != PHX_OK ||
        c.client_id_len == 0)
        return phx_env_system(env, PHX_SYSEX_BAD_PARAM,
                              PHX_VMCID | PHX_FT_MINOR_BAD_CONTEXT,
                              PHX_COMPLETED_NO, "FT_REQUEST: %s",
                              c.client_id_len ? err.msg : "no client id");

    pend_t *p = calloc(1, sizeof *p);
    if (p == NULL)
        return phx_env_system(env, PHX_SYSEX_NO_MEMORY, 0, PHX_COMPLETED_NO,
                              "semi-active: out of memory");
    uintptr_t owner = (uintptr_t)p;
    struct timespec dl;
    deadline_in(&dl, s->cfg.wait_ms);
    pthread_mutex_lock(&s->lock);
    phx_ft_cached_reply_t cached = {0, NULL, 0};
    int res = phx_ft_reply_cache_begin(s->cache, c.client_id,
                                       c.client_id_len, c.retention_id,
                                       c.expiration_time, owner, &cached);
    if (res == PHX_FT_CACHE_HIT) {
        s->stats.cached++;
        pthread_mutex_unlock(&s->lock);
        free(p);
        int rc = phx_server_ri_set_reply(ri, cached.reply_status,
                                         cached.body, cached.len);
        phx_ft_cached_reply_fini(&cached);
        return rc;
    }
    if (res != PHX_FT_CACHE_MISS) {
        pthread_mutex_unlock(&s->lock);
        free(p);
        return phx_env_system(env, PHX_SYSEX_TRANSIENT,
                              PHX_VMCID | (res == PHX_FT_CACHE_BUSY
                                               ? PHX_FT_MINOR_IN_PROGRESS
                                               : PHX_FT_MINOR_CACHE_FULL),
                              PHX_COMPLETED_NO, "semi-active: busy");
    }
    /* A new leader first finishes every delivered record; a state being
     * taken holds new executions back. */
    int wrc = 0;
    while (s->is_leader && !s->stopping &&
           (s->replay_running > 0 || s->gate_closed) && wrc != ETIMEDOUT)
        wrc = pthread_cond_timedwait(&s->cond, &s->lock, &dl);
    if (!s->is_leader || s->stopping || s->stopped || s->replay_running > 0 ||
        s->gate_closed) {
        s->stats.refused++;
        phx_ft_reply_cache_abandon(s->cache, c.client_id, c.client_id_len,
                                   c.retention_id, owner);
        pthread_mutex_unlock(&s->lock);
        free(p);
        return refuse(env, PHX_COMPLETED_NO, "not the leader");
    }
    s->running++;
    pthread_mutex_unlock(&s->lock);

    /* Execute with a recording context. */
    size_t blen;
    const uint8_t *body = phx_server_ri_request_body(ri, &blen);
    const char *op = phx_server_ri_operation(ri);
    phx_ft_nd_ctx_t ctx;
    phx_ft_nd_begin_record(&ctx, &s->gclock, phx_ft_nd_fresh_seed());
    phx_ft_nd_set_request(&ctx, c.client_id, c.client_id_len,
                          c.retention_id, c.expiration_time);
    if (!s->cfg.multithreaded)
        phx_ft_mutex_lock(&s->servant_lock);
    rec_t *r = &p->r;
    int rc = phx_orb_invoke_local(s->orb, s->key, s->key_len, op, body,
                                  body ? blen : 0,
                                  phx_server_ri_request_byte_order(ri),
                                  &r->status, &r->reply, &r->reply_len,
                                  NULL);
    if (!s->cfg.multithreaded) {
        if (rc == PHX_OK && s->cfg.every_n) {
            pthread_mutex_lock(&s->servant_lock.tlock);
            uint64_t acq = s->servant_lock.acq;
            pthread_mutex_unlock(&s->servant_lock.tlock);
            if (acq % s->cfg.every_n == 0) {
                bool ok;
                r->digest = state_digest(s, &ok);
                r->has_digest = ok;
            }
        }
        phx_ft_mutex_unlock(&s->servant_lock);
    }
    phx_ft_nd_end(&ctx);
    r->client_id = dup_mem(c.client_id, c.client_id_len);
    r->client_id_len = c.client_id_len;
    r->retention_id = c.retention_id;
    r->expiration = c.expiration_time;
    r->op = strdup(op);
    r->byte_order = (uint8_t)phx_server_ri_request_byte_order(ri);
    r->body = dup_mem(body, body ? blen : 0);
    r->body_len = body ? blen : 0;
    r->seed = ctx.seed;
    r->log = ctx.log;
    r->log_len = ctx.log_len;
    ctx.log = NULL;
    r->last_ns = phx_ft_nd_last(&ctx);
    p->gs = ctx.gs;
    p->n_gs = ctx.n_gs;
    p->max_g = ctx.max_g;
    ctx.gs = NULL;
    bool ok = rc == PHX_OK && !ctx.failed && r->client_id && r->op &&
              r->body;
    phx_ft_nd_ctx_fini(&ctx);

    pthread_mutex_lock(&s->lock);
    s->running--;
    pthread_cond_broadcast(&s->cond);
    s->stats.executed++;
    if (!ok) {
        taint(s, "a request could not be recorded");
    } else {
        p->next = s->pends;
        s->pends = p;
        try_commit(s);
    }
    pthread_mutex_unlock(&s->lock);
    wake(s);

    pthread_mutex_lock(&s->lock);
    wrc = 0;
    while (ok && !(p->seq && s->delivered_seq >= p->seq) &&
           !(p->seq && s->failed_seq >= p->seq) && !s->stopped &&
           s->is_leader && wrc != ETIMEDOUT)
        wrc = pthread_cond_timedwait(&s->cond, &s->lock, &dl);
    bool delivered = ok && p->seq && s->delivered_seq >= p->seq;
    if (ok) {
        for (pend_t **pp = &s->pends; *pp; pp = &(*pp)->next)
            if (*pp == p) {
                *pp = p->next;
                break;
            }
        /* Others held back behind this one may go now (they never will
         * if it was lost: the member leaves). */
        if (!delivered) {
            s->stats.undelivered++;
            taint(s, "own record not delivered");
        }
    }
    if (!delivered)
        phx_ft_reply_cache_abandon(s->cache, c.client_id, c.client_id_len,
                                   c.retention_id, owner);
    pthread_mutex_unlock(&s->lock);
    if (!delivered)
        wake(s);
    int out;
    if (!delivered)
        out = refuse(env, PHX_COMPLETED_MAYBE, "record not delivered");
    else
        out = phx_server_ri_set_reply(ri, r->status, r->reply, r->reply_len);
    rec_fini(r);
    free(p->gs);
    free(p);
    return out;
}

/* ------------------------------------------------------------------ */
/* Life cycle                                                           */
/* ------------------------------------------------------------------ */

void phx_ft_semi_config_init(phx_ft_semi_config_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->wait_ms = 10000;
}

void phx_ft_semi_shutdown(phx_ft_semi_t *s)
{
    if (s == NULL)
        return;
    pthread_mutex_lock(&s->lock);
    bool join = s->thread_started;
    s->thread_started = false;
    s->stopping = true;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
    if (join) {
        wake(s);
        pthread_join(s->thread, NULL);
    }
    /* Replays in progress finish (bounded: one waiting for a record that
     * never comes would hang). */
    struct timespec dl;
    deadline_in(&dl, 10000);
    pthread_mutex_lock(&s->lock);
    int wrc = 0;
    while (s->replay_running > 0 && wrc != ETIMEDOUT)
        wrc = pthread_cond_timedwait(&s->cond, &s->lock, &dl);
    pthread_mutex_unlock(&s->lock);
}

void phx_ft_semi_destroy(phx_ft_semi_t *s)
{
    if (s == NULL)
        return;
    phx_ft_semi_shutdown(s);
    pthread_mutex_lock(&s->lock);
    int left = s->replay_running;
    pthread_mutex_unlock(&s->lock);
    if (left > 0) {
        /* A replay thread still uses s: leak it rather than crash. */
        phx_log(PHX_LOG_ERROR, "ft",
                "semi-active %s: %d replays still blocked at destroy",
                s->group, left);
        return;
    }
    phx_gcs_destroy(s->gcs);
    phx_ft_reply_cache_destroy(s->cache);
    if (s->wake_fd >= 0)
        close(s->wake_fd);
    while (s->out_head) {
        outmsg_t *n = s->out_head->next;
        free(s->out_head->data);
        free(s->out_head);
        s->out_head = n;
    }
    while (s->skips) {
        skip_t *n = s->skips->next;
        free(s->skips->client_id);
        free(s->skips);
        s->skips = n;
    }
    if (s->servant_lock_init)
        phx_ft_mutex_destroy(&s->servant_lock);
    phx_ft_group_clock_fini(&s->gclock);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->cond);
    phx__ft_state_rx_fini(&s->st);
    free(s->g_done);
    free(s->self_name);
    free(s->group);
    free(s->key);
    free(s);
}

int phx_ft_semi_install(phx_orb_t *orb, const struct phx_gcs_config *gcs_cfg,
                        const void *key, size_t key_len,
                        const phx_ft_semi_config_t *cfg,
                        phx_ft_semi_t **out, phx_error_t *err)
{
    if (orb == NULL || key == NULL || key_len == 0 || cfg == NULL ||
        cfg->group == NULL || cfg->get_state == NULL ||
        cfg->set_state == NULL || out == NULL)
        return phx_error_set(err, PHX_EINVAL, "semi-active: bad argument");
    phx_ft_semi_t *s = calloc(1, sizeof *s);
    if (s == NULL)
        return phx_error_set(err, PHX_ENOMEM, "semi-active: out of memory");
    s->wake_fd = -1;
    pthread_mutex_init(&s->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cond, &ca);
    pthread_condattr_destroy(&ca);
    phx_ft_group_clock_init(&s->gclock, 0);
    s->orb = orb;
    s->cfg = *cfg;
    if (s->cfg.wait_ms == 0)
        s->cfg.wait_ms = 10000;
    if (s->cfg.multithreaded)
        s->cfg.every_n = 0;
    s->key = malloc(key_len);
    s->key_len = key_len;
    s->group = strdup(cfg->group);
    s->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (s->key == NULL || s->group == NULL || s->wake_fd < 0) {
        phx_ft_semi_destroy(s);
        return phx_error_set(err, PHX_ENOMEM, "semi-active: out of resources");
    }
    memcpy(s->key, key, key_len);
    char name[256];
    snprintf(name, sizeof name, "phx.semi.servant:%s", cfg->group);
    phx_ft_mutex_init(&s->servant_lock, name);
    s->servant_lock_init = true;

    phx_ft_reply_cache_config_t cc;
    phx_ft_reply_cache_config_init(&cc);
    cc.evict_when_full = true; /* as ACTIVE and WARM_PASSIVE */
    if (cfg->cache_max_entries)
        cc.max_entries = cfg->cache_max_entries;
    if (cfg->cache_max_bytes)
        cc.max_bytes = cfg->cache_max_bytes;
    int rc = phx_ft_reply_cache_create(&cc, &s->cache);
    if (rc != PHX_OK) {
        phx_ft_semi_destroy(s);
        return phx_error_set(err, rc, "semi-active: cannot create reply cache");
    }

    phx_gcs_config_t gc;
    if (gcs_cfg)
        gc = *gcs_cfg;
    else
        phx_gcs_config_init(&gc);
    gc.mode = PHX_GCS_UNIFORM;
    phx_gcs_callbacks_t cb = {on_deliver, on_view, on_get_state,
                              on_set_state};
    rc = phx_gcs_create(&gc, &cb, s, &s->gcs, err);
    if (rc == PHX_OK)
        rc = phx_gcs_join(s->gcs, s->group, err);
    if (rc != PHX_OK) {
        phx_ft_semi_destroy(s);
        return rc;
    }
    if (pthread_create(&s->thread, NULL, dispatch_main, s) != 0) {
        phx_ft_semi_destroy(s);
        return phx_error_set(err, PHX_ENOMEM,
                             "semi-active: cannot start the dispatch thread");
    }
    s->thread_started = true;
    s->si = (phx_server_interceptor_t){
        .name = "phx-ft-semi",
        .arg = s,
        .receive_request_service_contexts = semi_receive,
    };
    rc = phx_orb_add_server_interceptor(orb, &s->si);
    if (rc != PHX_OK) {
        phx_ft_semi_destroy(s);
        return phx_error_set(err, rc, "semi-active: cannot add interceptor");
    }
    *out = s;
    return PHX_OK;
}

const char *phx_ft_semi_gcs_endpoint(phx_ft_semi_t *s)
{
    return s ? phx_gcs_endpoint(s->gcs) : NULL;
}

bool phx_ft_semi_is_leader(phx_ft_semi_t *s)
{
    if (s == NULL)
        return false;
    pthread_mutex_lock(&s->lock);
    bool r = s->is_leader;
    pthread_mutex_unlock(&s->lock);
    return r;
}

void phx_ft_semi_get_stats(phx_ft_semi_t *s, phx_ft_semi_stats_t *st)
{
    if (s == NULL) {
        memset(st, 0, sizeof *st);
        return;
    }
    pthread_mutex_lock(&s->lock);
    *st = s->stats;
    pthread_mutex_unlock(&s->lock);
}
