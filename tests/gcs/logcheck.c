/*
 * logcheck.c - the delivery-log checker (see logcheck.h).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/gcs/logcheck.h"

#define MAX_REPORTS 20

typedef struct pos {
    int sender;     /* index into the sender names, -1 = unknown */
    uint64_t seq;
} pos_t;

typedef struct trans {
    uint64_t from, to;
    uint64_t count;
    int member;
} trans_t;

typedef struct vmax {
    uint64_t view;
    uint64_t count;
    int member;
} vmax_t;

typedef struct vmem {
    uint64_t view;
    char *members;
} vmem_t;

typedef struct group {
    char *name;
    pos_t *pos;          /* by count - 1 */
    size_t n_pos, cap_pos;
    trans_t *tr;
    size_t n_tr, cap_tr;
    vmax_t *vm;
    size_t n_vm, cap_vm;
    vmem_t *views;
    size_t n_views, cap_views;
} group_t;

typedef struct ctx {
    group_t *g;
    size_t n_g;
    char **senders;
    size_t n_senders;
    FILE *report;
    lc_result_t *res;
} ctx_t;

static void violation(ctx_t *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void violation(ctx_t *c, const char *fmt, ...)
{
    c->res->violations++;
    if (c->report == NULL || c->res->violations > MAX_REPORTS)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(c->report, "logcheck: ");
    vfprintf(c->report, fmt, ap);
    fprintf(c->report, "\n");
    va_end(ap);
}

static void *grow(void *p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return p;
    size_t nc = *cap ? *cap : 16;
    while (nc < need)
        nc *= 2;
    void *np = realloc(p, nc * elem);
    if (np == NULL) {
        fprintf(stderr, "logcheck: out of memory\n");
        exit(3);
    }
    memset((char *)np + *cap * elem, 0, (nc - *cap) * elem);
    *cap = nc;
    return np;
}

static group_t *group_of(ctx_t *c, const char *name)
{
    for (size_t i = 0; i < c->n_g; i++)
        if (strcmp(c->g[i].name, name) == 0)
            return &c->g[i];
    group_t *ng = realloc(c->g, (c->n_g + 1) * sizeof *ng);
    if (ng == NULL)
        exit(3);
    c->g = ng;
    group_t *g = &c->g[c->n_g++];
    memset(g, 0, sizeof *g);
    g->name = strdup(name);
    return g;
}

static int sender_of(ctx_t *c, const char *name)
{
    for (size_t i = 0; i < c->n_senders; i++)
        if (strcmp(c->senders[i], name) == 0)
            return (int)i;
    char **ns = realloc(c->senders, (c->n_senders + 1) * sizeof *ns);
    if (ns == NULL)
        exit(3);
    c->senders = ns;
    c->senders[c->n_senders] = strdup(name);
    return (int)c->n_senders++;
}

/* Per member and group, while reading one log. */
typedef struct mstate {
    char group[256];
    uint64_t view;
    bool primary;
    bool known;       /* count is meaningful */
    uint64_t count;
} mstate_t;

static mstate_t *mstate_of(mstate_t **ms, size_t *n, const char *group)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*ms)[i].group, group) == 0)
            return &(*ms)[i];
    mstate_t *nm = realloc(*ms, (*n + 1) * sizeof *nm);
    if (nm == NULL)
        exit(3);
    *ms = nm;
    mstate_t *m = &(*ms)[(*n)++];
    memset(m, 0, sizeof *m);
    snprintf(m->group, sizeof m->group, "%s", group);
    m->known = true;
    return m;
}

static void note_vmax(group_t *g, uint64_t view, uint64_t count, int member)
{
    for (size_t i = 0; i < g->n_vm; i++) {
        if (g->vm[i].view == view) {
            if (count > g->vm[i].count) {
                g->vm[i].count = count;
                g->vm[i].member = member;
            }
            return;
        }
    }
    g->vm = grow(g->vm, &g->cap_vm, g->n_vm + 1, sizeof *g->vm);
    g->vm[g->n_vm++] = (vmax_t){view, count, member};
}

static bool contains(const char *list, const char *id)
{
    size_t n = strlen(id);
    for (const char *p = list; (p = strstr(p, id)) != NULL; p += n)
        if ((p == list || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
            return true;
    return false;
}

static void read_log(ctx_t *c, const char *path, int member)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        violation(c, "%s: cannot open", path);
        return;
    }
    mstate_t *ms = NULL;
    size_t n_ms = 0;
    char self[32] = "";
    char line[16384];
    size_t lineno = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        size_t ll = strlen(line);
        if (ll == 0 || line[ll - 1] != '\n')
            break; /* a line cut short by a kill -9 */
        char a[256], b[256], d[256];
        static char mem[16384], jn[8192], lf[8192];
        uint64_t x, y;
        int prim;
        if (sscanf(line, "I %255s %31s", a, self) == 2)
            continue;
        if (sscanf(line, "V %255s %" SCNu64 " %d %16383s %8191s %8191s", a, &x,
                   &prim, mem, jn, lf) == 6) {
            group_t *g = group_of(c, a);
            mstate_t *m = mstate_of(&ms, &n_ms, a);
            if (prim) {
                bool found = false;
                for (size_t i = 0; i < g->n_views; i++) {
                    if (g->views[i].view != x)
                        continue;
                    found = true;
                    if (strcmp(g->views[i].members, mem) != 0)
                        violation(c, "%s:%zu: view %" PRIu64 " of '%s' has "
                                  "members %s here, %s elsewhere", path,
                                  lineno, x, a, mem, g->views[i].members);
                }
                if (!found) {
                    g->views = grow(g->views, &g->cap_views, g->n_views + 1,
                                    sizeof *g->views);
                    g->views[g->n_views].view = x;
                    g->views[g->n_views++].members = strdup(mem);
                }
            }
            if (m->view && m->primary && prim && m->known) {
                g->tr = grow(g->tr, &g->cap_tr, g->n_tr + 1, sizeof *g->tr);
                g->tr[g->n_tr++] = (trans_t){m->view, x, m->count, member};
            }
            bool joined_now = self[0] && contains(jn, self);
            if (joined_now && prim) {
                /* A joiner's counter is meaningless until its state comes
                 * (unless it is alone: then nothing is transferred). */
                bool alone = strchr(mem, ',') == NULL;
                m->known = alone;
            }
            m->view = x;
            m->primary = prim != 0;
            continue;
        }
        if (sscanf(line, "D %255s %" SCNu64 " %255s %" SCNu64 " %255s", a,
                   &x, b, &y, d) == 5) {
            c->res->deliveries++;
            group_t *g = group_of(c, a);
            mstate_t *m = mstate_of(&ms, &n_ms, a);
            if (!m->primary)
                violation(c, "%s:%zu: message %s:%" PRIu64 " applied in a "
                          "non-primary view of '%s'", path, lineno, b, y, a);
            if (!m->known)
                violation(c, "%s:%zu: message applied in '%s' before the "
                          "state arrived", path, lineno, a);
            else if (x != m->count + 1)
                violation(c, "%s:%zu: counter of '%s' jumps from %" PRIu64
                          " to %" PRIu64 " (gap or duplicate)", path, lineno,
                          a, m->count, x);
            m->count = x;
            m->known = true;
            if (x == 0)
                continue;
            int s = sender_of(c, b);
            g->pos = grow(g->pos, &g->cap_pos, x, sizeof *g->pos);
            if (x > g->n_pos) {
                for (size_t i = g->n_pos; i < x; i++)
                    g->pos[i].sender = -1;
                g->n_pos = x;
            }
            pos_t *p = &g->pos[x - 1];
            if (p->sender < 0) {
                p->sender = s;
                p->seq = y;
                c->res->positions++;
            } else if (p->sender != s || p->seq != y) {
                violation(c, "%s:%zu: total order: message %" PRIu64 " of '%s'"
                          " is %s:%" PRIu64 " here but %s:%" PRIu64
                          " elsewhere", path, lineno, x, a, b, y,
                          c->senders[p->sender], p->seq);
            }
            if (m->view)
                note_vmax(g, m->view, x, member);
            continue;
        }
        if (sscanf(line, "S %255s %" SCNu64, a, &x) == 2) {
            mstate_t *m = mstate_of(&ms, &n_ms, a);
            m->count = x;
            m->known = true;
            continue;
        }
        if (line[0] == 'Y' || line[0] == 'G')
            continue;
        violation(c, "%s:%zu: unreadable line", path, lineno);
    }
    free(ms);
    fclose(f);
}

int lc_check(const char *const *paths, size_t n, FILE *report,
             lc_result_t *res)
{
    lc_result_t local;
    if (res == NULL)
        res = &local;
    memset(res, 0, sizeof *res);
    ctx_t c = {.report = report, .res = res};
    for (size_t i = 0; i < n; i++)
        read_log(&c, paths[i], (int)i);

    for (size_t gi = 0; gi < c.n_g; gi++) {
        group_t *g = &c.g[gi];
        /* FIFO: each sender's numbers consecutive in the agreed order. */
        uint64_t *last = calloc(c.n_senders + 1, sizeof *last);
        if (last == NULL)
            exit(3);
        for (size_t k = 0; k < g->n_pos; k++) {
            pos_t *p = &g->pos[k];
            if (p->sender < 0) {
                memset(last, 0, (c.n_senders + 1) * sizeof *last);
                continue; /* unknown position: restart the chains */
            }
            uint64_t *l = &last[p->sender];
            if (*l != 0 && p->seq != *l + 1)
                violation(&c, "FIFO: in '%s', %s:%" PRIu64 " follows %s:%"
                          PRIu64 " (position %zu)", g->name,
                          c.senders[p->sender], p->seq, c.senders[p->sender],
                          *l, k + 1);
            *l = p->seq;
        }
        free(last);
        /* Virtual synchrony and uniform delivery at view changes. */
        for (size_t i = 0; i < g->n_tr; i++) {
            trans_t *t = &g->tr[i];
            res->transitions++;
            for (size_t j = 0; j < i; j++) {
                trans_t *u = &g->tr[j];
                if (u->from == t->from && u->to == t->to &&
                    u->count != t->count)
                    violation(&c, "virtual synchrony: in '%s', members %d "
                              "and %d leave view %" PRIu64 " for %" PRIu64
                              " after %" PRIu64 " and %" PRIu64
                              " messages", g->name, u->member, t->member,
                              t->from, t->to, u->count, t->count);
            }
            for (size_t j = 0; j < g->n_vm; j++) {
                vmax_t *v = &g->vm[j];
                if (v->view == t->from && v->count > t->count)
                    violation(&c, "uniform delivery: in '%s', member %d "
                              "applied message %" PRIu64 " in view %" PRIu64
                              " but member %d left that view after %" PRIu64,
                              g->name, v->member, v->count, v->view,
                              t->member, t->count);
            }
        }
    }
    for (size_t gi = 0; gi < c.n_g; gi++) {
        group_t *g = &c.g[gi];
        for (size_t i = 0; i < g->n_views; i++)
            free(g->views[i].members);
        free(g->views);
        free(g->pos);
        free(g->tr);
        free(g->vm);
        free(g->name);
    }
    free(c.g);
    for (size_t i = 0; i < c.n_senders; i++)
        free(c.senders[i]);
    free(c.senders);
    return res->violations;
}
