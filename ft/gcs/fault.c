/*
 * fault.c - the fault-injection wrapper around the GCS transport (see
 * fault.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <phx/error.h>
#include <phx/log.h>

#include "ft/gcs/fault.h"

#define MOD "gcs.fault"
/* Extra delay of a reordered frame, ms. */
#define REORDER_MIN_MS 1
#define REORDER_MAX_MS 8

void phx__gcs_fault_init(gcs_fault_t *f)
{
    memset(f, 0, sizeof *f);
    f->rng = 0x9e3779b97f4a7c15ull;
}

static void clear_cut(char **cut, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(cut[i]);
    free(cut);
}

void phx__gcs_fault_fini(gcs_fault_t *f)
{
    for (size_t i = 0; i < f->n_held; i++) {
        zmq_msg_close(&f->heap[i]->msg);
        free(f->heap[i]);
    }
    free(f->heap);
    clear_cut(f->cut, f->n_cut);
    memset(f, 0, sizeof *f);
}

static uint64_t rnd(gcs_fault_t *f)
{
    /* xorshift64* */
    uint64_t x = f->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    f->rng = x;
    return x * 0x2545f4914f6cdd1dull;
}

static double rnd01(gcs_fault_t *f)
{
    return (double)(rnd(f) >> 11) / (double)(1ull << 53);
}

static int parse_prob(const char *v, double *out)
{
    char *end;
    double d = strtod(v, &end);
    if (end == v || *end != '\0' || !(d >= 0.0 && d <= 1.0))
        return PHX_EINVAL;
    *out = d;
    return 0;
}

int phx__gcs_fault_set(gcs_fault_t *f, const char *spec, phx_error_t *err)
{
    double drop = 0, dup = 0, reorder = 0;
    unsigned long dmin = 0, dmax = 0;
    uint64_t seed = f->rng;
    char **cut = NULL;
    size_t n_cut = 0;
    char *copy = strdup(spec ? spec : "");
    if (copy == NULL)
        return phx_error_set(err, PHX_ENOMEM, "gcs: out of memory");
    int rc = 0;
    char *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok != NULL;
         tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ')
            tok++;
        if (*tok == '\0' || strcasecmp(tok, "heal") == 0)
            continue;
        char *eq = strchr(tok, '=');
        if (eq == NULL) {
            rc = phx_error_set(err, PHX_EINVAL,
                               "gcs faults: '%s' is not key=value", tok);
            break;
        }
        *eq = '\0';
        const char *v = eq + 1;
        if (strcmp(tok, "drop") == 0) {
            rc = parse_prob(v, &drop);
        } else if (strcmp(tok, "dup") == 0) {
            rc = parse_prob(v, &dup);
        } else if (strcmp(tok, "reorder") == 0) {
            rc = parse_prob(v, &reorder);
        } else if (strcmp(tok, "delay") == 0) {
            char *end;
            dmin = strtoul(v, &end, 10);
            if (end == v)
                rc = PHX_EINVAL;
            else if (*end == '-') {
                const char *v2 = end + 1;
                dmax = strtoul(v2, &end, 10);
                if (end == v2)
                    rc = PHX_EINVAL;
            } else {
                dmax = dmin;
            }
            if (rc == 0 && (*end != '\0' || dmax < dmin || dmax > 60000))
                rc = PHX_EINVAL;
        } else if (strcmp(tok, "seed") == 0) {
            char *end;
            seed = strtoull(v, &end, 10);
            if (end == v || *end != '\0')
                rc = PHX_EINVAL;
            if (seed == 0)
                seed = 1;
        } else if (strcmp(tok, "partition") == 0) {
            char *s2 = NULL;
            char *names = strdup(v);
            if (names == NULL) {
                rc = PHX_ENOMEM;
            } else {
                for (char *nm = strtok_r(names, "+ ", &s2); nm && rc == 0;
                     nm = strtok_r(NULL, "+ ", &s2)) {
                    char **nc = realloc(cut, (n_cut + 1) * sizeof *nc);
                    if (nc == NULL || (nc[n_cut] = strdup(nm)) == NULL) {
                        if (nc)
                            cut = nc;
                        rc = PHX_ENOMEM;
                        break;
                    }
                    cut = nc;
                    n_cut++;
                }
                free(names);
            }
        } else {
            rc = PHX_EINVAL;
        }
        if (rc) {
            rc = phx_error_set(err, rc, "gcs faults: bad setting '%s=%s'",
                               tok, v);
            break;
        }
    }
    free(copy);
    if (rc) {
        clear_cut(cut, n_cut);
        return rc;
    }
    clear_cut(f->cut, f->n_cut);
    f->cut = cut;
    f->n_cut = n_cut;
    f->drop = drop;
    f->dup = dup;
    f->reorder = reorder;
    f->delay_min_ms = (uint32_t)dmin;
    f->delay_max_ms = (uint32_t)dmax;
    f->rng = seed ? seed : 1;
    f->active = drop > 0 || dup > 0 || reorder > 0 || dmax > 0 || n_cut > 0;
    PHX_INFO(MOD, "faults: drop=%.3f dup=%.3f reorder=%.3f delay=%lu-%lu "
             "partition of %zu member(s)", drop, dup, reorder, dmin, dmax,
             n_cut);
    return 0;
}

bool phx__gcs_fault_cut(const gcs_fault_t *f, const char *name)
{
    if (name == NULL)
        return false;
    for (size_t i = 0; i < f->n_cut; i++)
        if (strcmp(f->cut[i], name) == 0)
            return true;
    return false;
}

static bool before(const gcs_held_t *a, const gcs_held_t *b)
{
    return a->due_us < b->due_us ||
           (a->due_us == b->due_us && a->order < b->order);
}

static void heap_swap(gcs_fault_t *f, size_t i, size_t j)
{
    gcs_held_t *t = f->heap[i];
    f->heap[i] = f->heap[j];
    f->heap[j] = t;
}

static void sift_down(gcs_fault_t *f, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < f->n_held && before(f->heap[l], f->heap[m]))
            m = l;
        if (r < f->n_held && before(f->heap[r], f->heap[m]))
            m = r;
        if (m == i)
            return;
        heap_swap(f, i, m);
        i = m;
    }
}

static void hold(gcs_fault_t *f, gcs_peer_t *p, zmq_msg_t *m, int64_t due)
{
    if (f->n_held == f->cap_held) {
        size_t ncap = f->cap_held ? f->cap_held * 2 : 64;
        gcs_held_t **nh = realloc(f->heap, ncap * sizeof *nh);
        if (nh == NULL) {
            zmq_msg_close(m);
            f->dropped++;
            return;
        }
        f->heap = nh;
        f->cap_held = ncap;
    }
    gcs_held_t *h = malloc(sizeof *h);
    if (h == NULL) {
        zmq_msg_close(m);
        f->dropped++;
        return;
    }
    size_t i = f->n_held++;
    f->heap[i] = h;
    h->due_us = due;
    h->order = f->order++;
    h->peer = p;
    zmq_msg_init(&h->msg);
    zmq_msg_move(&h->msg, m);
    zmq_msg_close(m);
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!before(f->heap[i], f->heap[parent]))
            break;
        heap_swap(f, i, parent);
        i = parent;
    }
}

static void one(gcs_fault_t *f, gcs_net_t *n, gcs_peer_t *p, zmq_msg_t *m,
                int64_t now_us)
{
    int64_t delay_us = 0;
    if (f->delay_max_ms > 0) {
        uint32_t span = f->delay_max_ms - f->delay_min_ms;
        delay_us = (int64_t)(f->delay_min_ms * 1000ull +
                             (span ? rnd(f) % (span * 1000ull + 1) : 0));
    }
    if (f->reorder > 0 && rnd01(f) < f->reorder)
        delay_us += REORDER_MIN_MS * 1000 +
                    (int64_t)(rnd(f) % ((REORDER_MAX_MS - REORDER_MIN_MS) *
                                        1000ull));
    if (delay_us > 0)
        hold(f, p, m, now_us + delay_us);
    else
        phx__gcs_net_send(n, p, m);
}

void phx__gcs_fault_send(gcs_fault_t *f, gcs_net_t *n, gcs_peer_t *p,
                         zmq_msg_t *m, int64_t now_us)
{
    if (!f->active) {
        phx__gcs_net_send(n, p, m);
        return;
    }
    if (phx__gcs_fault_cut(f, p->name) ||
        (f->drop > 0 && rnd01(f) < f->drop)) {
        zmq_msg_close(m);
        f->dropped++;
        return;
    }
    if (f->dup > 0 && rnd01(f) < f->dup) {
        zmq_msg_t copy;
        zmq_msg_init(&copy);
        if (zmq_msg_copy(&copy, m) == 0)
            one(f, n, p, &copy, now_us);
        else
            zmq_msg_close(&copy);
    }
    one(f, n, p, m, now_us);
}

void phx__gcs_fault_run(gcs_fault_t *f, gcs_net_t *n, int64_t now_us)
{
    while (f->n_held > 0 && f->heap[0]->due_us <= now_us) {
        gcs_held_t *top = f->heap[0];
        f->n_held--;
        if (f->n_held > 0) {
            f->heap[0] = f->heap[f->n_held];
            sift_down(f, 0);
        }
        if (phx__gcs_fault_cut(f, top->peer->name)) {
            zmq_msg_close(&top->msg);
            f->dropped++;
        } else {
            phx__gcs_net_send(n, top->peer, &top->msg);
        }
        free(top);
    }
}

int64_t phx__gcs_fault_next(const gcs_fault_t *f)
{
    return f->n_held ? f->heap[0]->due_us : INT64_MAX;
}

void phx__gcs_fault_forget(gcs_fault_t *f, gcs_peer_t *p)
{
    size_t j = 0;
    for (size_t i = 0; i < f->n_held; i++) {
        if (f->heap[i]->peer == p) {
            zmq_msg_close(&f->heap[i]->msg);
            free(f->heap[i]);
        } else {
            f->heap[j++] = f->heap[i];
        }
    }
    f->n_held = j;
    for (size_t i = f->n_held / 2 + 1; i-- > 0;)
        sift_down(f, i);
}
