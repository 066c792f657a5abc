/*
 * ifrepo.c - interface descriptions loaded from .phxif files (written by
 * phx-idl --describe; the format is in include/phx/dii.h).  Everything
 * read is bounds-checked: a malformed file gives an error, never a crash.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <phx/dii.h>

/* Largest .phxif accepted. */
#define IFREPO_MAX_FILE ((size_t)64 << 20)

struct phx_ifrepo {
    void **allocs;                 /* everything malloc'd */
    size_t n_allocs, cap_allocs;
    const phx_typecode_t **tcs;    /* references held */
    size_t n_tcs, cap_tcs;
    const phx_typecode_t **types;  /* named types, in file order */
    size_t n_types;
    phx_ifdesc_t **ifaces;
    size_t n_ifaces;
};

static int keep(phx_ifrepo_t *r, void *p)
{
    if (p == NULL)
        return PHX_ENOMEM;
    if (r->n_allocs == r->cap_allocs) {
        size_t nc = r->cap_allocs ? r->cap_allocs * 2 : 64;
        void **a = realloc(r->allocs, nc * sizeof *a);
        if (a == NULL) {
            free(p);
            return PHX_ENOMEM;
        }
        r->allocs = a;
        r->cap_allocs = nc;
    }
    r->allocs[r->n_allocs++] = p;
    return PHX_OK;
}

static void *zalloc(phx_ifrepo_t *r, size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    return keep(r, p) == PHX_OK ? p : NULL;
}

static int keep_tc(phx_ifrepo_t *r, const phx_typecode_t *tc)
{
    if (r->n_tcs == r->cap_tcs) {
        size_t nc = r->cap_tcs ? r->cap_tcs * 2 : 64;
        const phx_typecode_t **a = realloc(r->tcs, nc * sizeof *a);
        if (a == NULL) {
            phx_typecode_free(tc);
            return PHX_ENOMEM;
        }
        r->tcs = a;
        r->cap_tcs = nc;
    }
    r->tcs[r->n_tcs++] = tc;
    return PHX_OK;
}

void phx_ifrepo_free(phx_ifrepo_t *repo)
{
    if (repo == NULL)
        return;
    for (size_t i = 0; i < repo->n_tcs; i++)
        phx_typecode_free(repo->tcs[i]);
    for (size_t i = 0; i < repo->n_allocs; i++)
        free(repo->allocs[i]);
    free(repo->tcs);
    free(repo->allocs);
    free(repo);
}

/* ------------------------------------------------------------------ */
/* Reading                                                              */
/* ------------------------------------------------------------------ */

typedef struct ld {
    phx_ifrepo_t *repo;
    phx_cdr_reader_t r;
    phx_error_t *err;
    int rc;
    const char *what;       /* what is being read, for messages */
} ld_t;

static int bad(ld_t *l, int code, const char *fmt, const char *arg)
{
    char msg[160];

    if (l->rc)
        return l->rc;
    snprintf(msg, sizeof msg, fmt, arg ? arg : "");
    l->rc = code;
    phx_error_set(l->err, code, "malformed interface file at offset %zu "
                  "(%s): %s", l->r.pos, l->what ? l->what : "header", msg);
    return code;
}

static int check(ld_t *l)
{
    int rc = phx_cdr_reader_status(&l->r);

    if (rc == PHX_OK)
        return l->rc;
    return bad(l, rc == PHX_ENOMEM ? PHX_ENOMEM : PHX_EMARSHAL, "%s",
               l->r.errmsg[0] ? l->r.errmsg : phx_strerror(rc));
}

static const char *get_str(ld_t *l)
{
    char *s = NULL;

    if (l->rc || phx_cdr_get_string_dup(&l->r, &s) != PHX_OK) {
        check(l);
        return NULL;
    }
    if (keep(l->repo, s) != PHX_OK) {
        bad(l, PHX_ENOMEM, "out of memory%s", NULL);
        return NULL;
    }
    return s;
}

/* A count of items that take at least min bytes each. */
static int get_count(ld_t *l, size_t min, uint32_t *n)
{
    if (l->rc || phx_cdr_get_ulong(&l->r, n) != PHX_OK)
        return check(l);
    if ((size_t)*n > phx_cdr_reader_remaining(&l->r) / min)
        return bad(l, PHX_EMARSHAL, "count larger than the file%s", NULL);
    return PHX_OK;
}

static const phx_typecode_t *get_tc(ld_t *l)
{
    const phx_typecode_t *tc = NULL;

    if (l->rc)
        return NULL;
    if (phx_cdr_get_typecode(&l->r, &tc) != PHX_OK || tc == NULL) {
        check(l);
        if (l->rc == PHX_OK)
            bad(l, PHX_EMARSHAL, "bad TypeCode%s", NULL);
        return NULL;
    }
    if (keep_tc(l->repo, tc) != PHX_OK) {
        bad(l, PHX_ENOMEM, "out of memory%s", NULL);
        return NULL;
    }
    if (phx_typecode_c_size(tc) == 0 && tc->kind != PHX_TK_VOID &&
        tc->kind != PHX_TK_NULL) {
        bad(l, PHX_EMARSHAL, "TypeCode of a type without a C layout%s",
            NULL);
        return NULL;
    }
    return tc;
}

static const phx_ifdesc_t *find_iface(const phx_ifrepo_t *repo, size_t n,
                                      const char *id)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(repo->ifaces[i]->repo_id, id) == 0)
            return repo->ifaces[i];
    return NULL;
}

static int load_op(ld_t *l, phx_opdesc_t *op)
{
    uint32_t n;
    bool oneway;

    op->name = get_str(l);
    l->what = op->name;
    if (l->rc || phx_cdr_get_boolean(&l->r, &oneway) != PHX_OK)
        return check(l);
    op->oneway = oneway;
    op->result = get_tc(l);
    if (get_count(l, 13, &n))   /* name (>= 5) + mode + kind */
        return l->rc;
    phx_paramdesc_t *p = zalloc(l->repo, n, sizeof *p);
    if (p == NULL)
        return bad(l, PHX_ENOMEM, "out of memory%s", NULL);
    op->params = p;
    op->param_count = n;
    for (uint32_t i = 0; i < n && l->rc == PHX_OK; i++) {
        uint32_t mode;
        p[i].name = get_str(l);
        if (l->rc || phx_cdr_get_ulong(&l->r, &mode) != PHX_OK)
            return check(l);
        if (mode > PHX_PARAM_INOUT)
            return bad(l, PHX_EMARSHAL, "bad parameter mode%s", NULL);
        p[i].mode = (phx_param_mode_t)mode;
        p[i].type = get_tc(l);
        if (l->rc == PHX_OK && (p[i].type->kind == PHX_TK_VOID ||
                                p[i].type->kind == PHX_TK_NULL))
            return bad(l, PHX_EMARSHAL, "parameter of type void%s", NULL);
    }
    if (get_count(l, 4, &n))
        return l->rc;
    const phx_typecode_t **rs = zalloc(l->repo, n, sizeof *rs);
    if (rs == NULL)
        return bad(l, PHX_ENOMEM, "out of memory%s", NULL);
    op->raises = rs;
    op->raise_count = n;
    for (uint32_t i = 0; i < n && l->rc == PHX_OK; i++) {
        rs[i] = get_tc(l);
        if (l->rc == PHX_OK && rs[i]->kind != PHX_TK_EXCEPT)
            return bad(l, PHX_EMARSHAL, "raises a type that is not an "
                       "exception%s", NULL);
    }
    if (l->rc == PHX_OK && op->oneway &&
        (op->result->kind != PHX_TK_VOID || op->raise_count))
        return bad(l, PHX_EMARSHAL, "oneway operation with results%s",
                   NULL);
    return l->rc;
}

static int load_iface(ld_t *l, size_t index)
{
    phx_ifrepo_t *repo = l->repo;
    phx_ifdesc_t *d = zalloc(repo, 1, sizeof *d);
    uint32_t n;

    if (d == NULL)
        return bad(l, PHX_ENOMEM, "out of memory%s", NULL);
    repo->ifaces[index] = d;
    d->repo_id = get_str(l);
    d->name = get_str(l);
    l->what = d->repo_id;
    if (l->rc)
        return l->rc;
    if (find_iface(repo, index, d->repo_id))
        return bad(l, PHX_EMARSHAL, "interface %s described twice",
                   d->repo_id);
    if (get_count(l, 5, &n))
        return l->rc;
    const phx_ifdesc_t **bases = zalloc(repo, n, sizeof *bases);
    if (bases == NULL)
        return bad(l, PHX_ENOMEM, "out of memory%s", NULL);
    d->bases = bases;
    d->base_count = n;
    for (uint32_t i = 0; i < n && l->rc == PHX_OK; i++) {
        const char *id = get_str(l);
        if (id && (bases[i] = find_iface(repo, index, id)) == NULL)
            return bad(l, PHX_EMARSHAL, "unknown base interface %s", id);
    }
    if (get_count(l, 21, &n))
        return l->rc;
    const phx_opdesc_t **ops = zalloc(repo, n, sizeof *ops);
    phx_opdesc_t *opv = zalloc(repo, n, sizeof *opv);
    if (ops == NULL || opv == NULL)
        return bad(l, PHX_ENOMEM, "out of memory%s", NULL);
    d->ops = ops;
    d->op_count = n;
    for (uint32_t i = 0; i < n && l->rc == PHX_OK; i++) {
        ops[i] = &opv[i];
        if (load_op(l, &opv[i]))
            return l->rc;
        for (uint32_t j = 0; j < i; j++)
            if (strcmp(opv[j].name, opv[i].name) == 0)
                return bad(l, PHX_EMARSHAL, "operation %s described twice",
                           opv[i].name);
    }
    l->what = d->repo_id;
    if (get_count(l, 10, &n))
        return l->rc;
    phx_attrdesc_t *at = zalloc(repo, n, sizeof *at);
    if (at == NULL)
        return bad(l, PHX_ENOMEM, "out of memory%s", NULL);
    d->attrs = at;
    d->attr_count = n;
    for (uint32_t i = 0; i < n && l->rc == PHX_OK; i++) {
        bool ro;
        char acc[300];
        at[i].name = get_str(l);
        if (l->rc || phx_cdr_get_boolean(&l->r, &ro) != PHX_OK)
            return check(l);
        at[i].readonly = ro;
        at[i].type = get_tc(l);
        if (l->rc)
            return l->rc;
        snprintf(acc, sizeof acc, "_get_%s", at[i].name);
        for (uint32_t j = 0; j < d->op_count; j++)
            if (strcmp(opv[j].name, acc) == 0)
                at[i].get = &opv[j];
        snprintf(acc, sizeof acc, "_set_%s", at[i].name);
        for (uint32_t j = 0; j < d->op_count && !ro; j++)
            if (strcmp(opv[j].name, acc) == 0)
                at[i].set = &opv[j];
        if (at[i].get == NULL || (!ro && at[i].set == NULL))
            return bad(l, PHX_EMARSHAL, "attribute %s without its "
                       "operations", at[i].name);
    }
    return l->rc;
}

int phx_ifrepo_load_buffer(const void *buf, size_t len, phx_ifrepo_t **out,
                           phx_error_t *err)
{
    ld_t l;
    const uint8_t *magic;
    uint32_t version, n;

    *out = NULL;
    if (buf == NULL || len < 9)
        return phx_error_set(err, PHX_EMARSHAL,
                             "not an interface file (too short)");
    memset(&l, 0, sizeof l);
    l.err = err;
    l.repo = calloc(1, sizeof *l.repo);
    if (l.repo == NULL)
        return phx_error_set(err, PHX_ENOMEM, "out of memory");
    if (phx_cdr_reader_init_encap(&l.r, buf, len) != PHX_OK) {
        phx_ifrepo_free(l.repo);
        return phx_error_set(err, PHX_EMARSHAL,
                             "not an interface file (bad byte order)");
    }
    magic = phx_cdr_get_raw(&l.r, 4);
    if (magic == NULL || memcmp(magic, PHX_IFREPO_MAGIC, 4) != 0) {
        phx_ifrepo_free(l.repo);
        return phx_error_set(err, PHX_EMARSHAL,
                             "not an interface file (bad magic)");
    }
    if (phx_cdr_get_ulong(&l.r, &version) != PHX_OK) {
        check(&l);
    } else if (version != PHX_IFREPO_VERSION) {
        phx_ifrepo_free(l.repo);
        return phx_error_set(err, PHX_EUNSUPPORTED,
                             "interface file version %u (this library "
                             "reads version %u)", (unsigned)version,
                             PHX_IFREPO_VERSION);
    }
    l.what = "types";
    if (get_count(&l, 9, &n) == PHX_OK) {
        l.repo->types = zalloc(l.repo, n, sizeof *l.repo->types);
        if (l.repo->types == NULL)
            bad(&l, PHX_ENOMEM, "out of memory%s", NULL);
        for (uint32_t i = 0; i < n && l.rc == PHX_OK; i++) {
            const char *id = get_str(&l);
            const phx_typecode_t *tc = get_tc(&l);
            if (l.rc)
                break;
            if (tc->repo_id == NULL || strcmp(tc->repo_id, id) != 0) {
                bad(&l, PHX_EMARSHAL, "type %s does not match its "
                    "TypeCode", id);
                break;
            }
            l.repo->types[l.repo->n_types++] = tc;
        }
    }
    l.what = "interfaces";
    if (l.rc == PHX_OK && get_count(&l, 25, &n) == PHX_OK) {
        l.repo->ifaces = zalloc(l.repo, n, sizeof *l.repo->ifaces);
        if (l.repo->ifaces == NULL)
            bad(&l, PHX_ENOMEM, "out of memory%s", NULL);
        for (uint32_t i = 0; i < n && l.rc == PHX_OK; i++) {
            if (load_iface(&l, i) == PHX_OK)
                l.repo->n_ifaces = i + 1;
        }
    }
    l.what = "end";
    if (l.rc == PHX_OK && check(&l) == PHX_OK &&
        phx_cdr_reader_remaining(&l.r) != 0)
        bad(&l, PHX_EMARSHAL, "trailing data%s", NULL);
    if (l.rc != PHX_OK) {
        phx_ifrepo_free(l.repo);
        return l.rc;
    }
    phx_error_clear(err);
    *out = l.repo;
    return PHX_OK;
}

int phx_ifrepo_load(const char *path, phx_ifrepo_t **out, phx_error_t *err)
{
    FILE *f;
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    int rc;

    *out = NULL;
    if (path == NULL)
        return phx_error_set(err, PHX_EINVAL, "no file name");
    f = fopen(path, "rb");
    if (f == NULL)
        return phx_error_set(err, PHX_EIO, "%s: %s", path, strerror(errno));
    for (;;) {
        if (len == cap) {
            size_t nc = cap ? cap * 2 : 4096;
            uint8_t *p;
            if (cap >= IFREPO_MAX_FILE) {
                free(buf);
                fclose(f);
                return phx_error_set(err, PHX_ELIMIT, "%s: larger than "
                                     "%zu bytes", path, IFREPO_MAX_FILE);
            }
            p = realloc(buf, nc);
            if (p == NULL) {
                free(buf);
                fclose(f);
                return phx_error_set(err, PHX_ENOMEM, "out of memory");
            }
            buf = p;
            cap = nc;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        free(buf);
        fclose(f);
        return phx_error_set(err, PHX_EIO, "%s: read error", path);
    }
    fclose(f);
    rc = phx_ifrepo_load_buffer(buf, len, out, err);
    if (rc != PHX_OK && err) {
        char tmp[PHX_ERROR_MSG_MAX];
        snprintf(tmp, sizeof tmp, "%s", err->msg);
        phx_error_set(err, rc, "%s: %s", path, tmp);
    }
    free(buf);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Queries                                                              */
/* ------------------------------------------------------------------ */

size_t phx_ifrepo_interface_count(const phx_ifrepo_t *repo)
{
    return repo ? repo->n_ifaces : 0;
}

const phx_ifdesc_t *phx_ifrepo_interface(const phx_ifrepo_t *repo,
                                         size_t i)
{
    return repo && i < repo->n_ifaces ? repo->ifaces[i] : NULL;
}

/* name is "M::I" (or "::M::I"); simple is the last component. */
static bool name_matches(const char *scoped, const char *want)
{
    const char *last;

    if (scoped == NULL)
        return false;
    if (want[0] == ':' && want[1] == ':')
        want += 2;
    if (strcmp(scoped, want) == 0)
        return true;
    last = strrchr(scoped, ':');
    return last && strchr(want, ':') == NULL && strcmp(last + 1, want) == 0;
}

const phx_ifdesc_t *phx_ifrepo_find(const phx_ifrepo_t *repo,
                                    const char *id_or_name)
{
    if (repo == NULL || id_or_name == NULL)
        return NULL;
    for (size_t i = 0; i < repo->n_ifaces; i++)
        if (strcmp(repo->ifaces[i]->repo_id, id_or_name) == 0)
            return repo->ifaces[i];
    for (size_t i = 0; i < repo->n_ifaces; i++)
        if (name_matches(repo->ifaces[i]->name, id_or_name))
            return repo->ifaces[i];
    return NULL;
}

const phx_typecode_t *phx_ifrepo_find_type(const phx_ifrepo_t *repo,
                                           const char *id_or_name)
{
    if (repo == NULL || id_or_name == NULL)
        return NULL;
    for (size_t i = 0; i < repo->n_types; i++)
        if (strcmp(repo->types[i]->repo_id, id_or_name) == 0)
            return repo->types[i];
    for (size_t i = 0; i < repo->n_types; i++)
        if (repo->types[i]->name &&
            strcmp(repo->types[i]->name, id_or_name) == 0)
            return repo->types[i];
    return NULL;
}

size_t phx_ifrepo_type_count(const phx_ifrepo_t *repo)
{
    return repo ? repo->n_types : 0;
}

const phx_typecode_t *phx_ifrepo_type(const phx_ifrepo_t *repo, size_t i)
{
    return repo && i < repo->n_types ? repo->types[i] : NULL;
}
