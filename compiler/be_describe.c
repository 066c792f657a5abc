/*
 * be_describe.c - the interface description back end of phx-idl
 * (phx-idl --describe): writes OUTDIR/BASENAME.phxif, a CDR encapsulation
 * that describes every named type and every interface of the tree (those
 * of #include'd files too, so that the file stands alone), in the format
 * include/phx/dii.h documents and phx_ifrepo_load() reads.
 *
 * TypeCodes are encoded as CORBA 3.0 15.3.5.1 lays them out, exactly as
 * the runtime's phx_cdr_put_typecode would encode the TC_ constants the C
 * back end generates (same members, labels, names and bounds).  The
 * format has no indirections: a recursive type (a struct holding a
 * sequence of itself) cannot be described; it is left out, and so is
 * every operation, attribute and type that uses it.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compiler/be_c_int.h"
#include "compiler/be_describe.h"

#define DESC_MAGIC "PHXI"
#define DESC_VERSION 1u
#define MAX_NEST 64

/* TCKind values (CORBA 3.0). */
enum {
    TK_VOID = 1, TK_SHORT = 2, TK_LONG = 3, TK_USHORT = 4, TK_ULONG = 5,
    TK_FLOAT = 6, TK_DOUBLE = 7, TK_BOOLEAN = 8, TK_CHAR = 9, TK_OCTET = 10,
    TK_ANY = 11, TK_TYPECODE = 12, TK_OBJREF = 14, TK_STRUCT = 15,
    TK_UNION = 16, TK_ENUM = 17, TK_STRING = 18, TK_SEQUENCE = 19,
    TK_ARRAY = 20, TK_ALIAS = 21, TK_EXCEPT = 22, TK_LONGLONG = 23,
    TK_ULONGLONG = 24
};

/* A growable CDR buffer in native byte order.  Alignment is measured
 * from base (the start of the innermost encapsulation). */
typedef struct dw {
    unsigned char *buf;
    size_t len, cap, base;
    bool oom;
} dw_t;

typedef struct collect {
    const ast_node_t **v;
    size_t n, cap;
} collect_t;

typedef struct desc {
    be_c_t g;               /* for be_c_own_ops and its arena */
    dw_t w;
    const ast_node_t *stack[MAX_NEST];  /* constructed types being written */
    size_t depth;
    bool recursive;         /* the TypeCode being written refers to itself */
    bool failed;            /* an error was reported */
    collect_t types;        /* named types and interfaces, source order */
} desc_t;

static void dw_raw(dw_t *w, const void *p, size_t n)
{
    if (w->oom)
        return;
    if (w->len + n > w->cap) {
        size_t nc = w->cap ? w->cap : 1024;
        while (nc < w->len + n)
            nc *= 2;
        unsigned char *b = realloc(w->buf, nc);
        if (b == NULL) {
            w->oom = true;
            return;
        }
        w->buf = b;
        w->cap = nc;
    }
    memcpy(w->buf + w->len, p, n);
    w->len += n;
}

static void dw_align(dw_t *w, size_t a)
{
    static const unsigned char zero[8] = {0};
    size_t off = (w->len - w->base) % a;
    if (off)
        dw_raw(w, zero, a - off);
}

static void dw_octet(dw_t *w, uint8_t v) { dw_raw(w, &v, 1); }

static void dw_short(dw_t *w, uint16_t v)
{
    dw_align(w, 2);
    dw_raw(w, &v, 2);
}

static void dw_ulong(dw_t *w, uint32_t v)
{
    dw_align(w, 4);
    dw_raw(w, &v, 4);
}

static void dw_ulonglong(dw_t *w, uint64_t v)
{
    dw_align(w, 8);
    dw_raw(w, &v, 8);
}

static void dw_string(dw_t *w, const char *s)
{
    size_t n = strlen(s);
    dw_ulong(w, (uint32_t)(n + 1));
    dw_raw(w, s, n + 1);
}

/* Start an encapsulation: returns where its length goes; *saved is the
 * outer base. */
static size_t dw_encap_begin(dw_t *w, size_t *saved)
{
    size_t at;

    dw_ulong(w, 0);
    at = w->len - 4;
    *saved = w->base;
    w->base = w->len;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    dw_octet(w, 1);
#else
    dw_octet(w, 0);
#endif
    return at;
}

static void dw_encap_end(dw_t *w, size_t at, size_t saved)
{
    uint32_t n = (uint32_t)(w->len - at - 4);
    if (!w->oom)
        memcpy(w->buf + at, &n, 4);
    w->base = saved;
}

/* ------------------------------------------------------------------ */
/* TypeCodes                                                            */
/* ------------------------------------------------------------------ */

static void put_tc(desc_t *ds, const ast_type_t *t);

static int basic_kind(ast_type_kind_t k)
{
    switch (k) {
    case AST_T_VOID: return TK_VOID;
    case AST_T_SHORT: return TK_SHORT;
    case AST_T_LONG: return TK_LONG;
    case AST_T_LONGLONG: return TK_LONGLONG;
    case AST_T_USHORT: return TK_USHORT;
    case AST_T_ULONG: return TK_ULONG;
    case AST_T_ULONGLONG: return TK_ULONGLONG;
    case AST_T_FLOAT: return TK_FLOAT;
    case AST_T_DOUBLE: return TK_DOUBLE;
    case AST_T_BOOLEAN: return TK_BOOLEAN;
    case AST_T_CHAR: return TK_CHAR;
    case AST_T_OCTET: return TK_OCTET;
    case AST_T_ANY: return TK_ANY;
    case AST_T_TYPECODE: return TK_TYPECODE;
    default: return 0;
    }
}

static void unsupported(desc_t *ds, const char *file, uint32_t line,
                        uint32_t col, const char *what)
{
    if (!ds->failed)
        diag_error(ds->g.d, file, line, col,
                   "--describe: %s cannot be described", what);
    ds->failed = true;
}

static void put_ids(desc_t *ds, const ast_node_t *n)
{
    dw_string(&ds->w, n->repo_id ? n->repo_id : "");
    dw_string(&ds->w, n->name);
}

/* The discriminator kind a union's labels are written in. */
static int disc_kind(const ast_type_t *t)
{
    const ast_type_t *u = ast_type_unalias(t);
    const ast_node_t *d = ast_type_decl(t);

    if (d && d->kind == AST_ENUM)
        return TK_ENUM;
    return basic_kind(u->kind);
}

static void put_label(desc_t *ds, int kind, const ast_label_t *l)
{
    uint64_t v = 0;

    if (!l->is_default) {
        switch (l->value.kind) {
        case AST_V_INT: v = (uint64_t)l->value.v.i; break;
        case AST_V_UINT: v = l->value.v.u; break;
        case AST_V_CHAR:
        case AST_V_WCHAR: v = l->value.v.ch; break;
        case AST_V_BOOL: v = l->value.v.b; break;
        case AST_V_ENUM:
            v = l->value.v.enumerator->u.enumerator.ordinal;
            break;
        default: break;
        }
    }
    switch (kind) {
    case TK_SHORT:
    case TK_USHORT: dw_short(&ds->w, (uint16_t)v); break;
    case TK_LONG:
    case TK_ULONG:
    case TK_ENUM: dw_ulong(&ds->w, (uint32_t)v); break;
    case TK_LONGLONG:
    case TK_ULONGLONG: dw_ulonglong(&ds->w, v); break;
    case TK_CHAR:
    case TK_OCTET:
    case TK_BOOLEAN: dw_octet(&ds->w, (uint8_t)v); break;
    default: break;
    }
}

static void put_decl(desc_t *ds, const ast_node_t *n)
{
    size_t at, saved;
    uint32_t count = 0;

    n = ast_node_resolve(n);
    switch (n->kind) {
    case AST_INTERFACE:
        dw_ulong(&ds->w, TK_OBJREF);
        at = dw_encap_begin(&ds->w, &saved);
        put_ids(ds, n);
        dw_encap_end(&ds->w, at, saved);
        return;
    case AST_ENUM:
        dw_ulong(&ds->w, TK_ENUM);
        at = dw_encap_begin(&ds->w, &saved);
        put_ids(ds, n);
        dw_ulong(&ds->w, n->u.enm.count);
        AST_FOREACH(m, n) {
            if (m->kind == AST_ENUMERATOR)
                dw_string(&ds->w, m->name);
        }
        dw_encap_end(&ds->w, at, saved);
        return;
    case AST_TYPEDEF:
        dw_ulong(&ds->w, TK_ALIAS);
        at = dw_encap_begin(&ds->w, &saved);
        put_ids(ds, n);
        put_tc(ds, n->u.tdef.type);
        dw_encap_end(&ds->w, at, saved);
        return;
    case AST_STRUCT:
    case AST_EXCEPTION:
    case AST_UNION:
        break;
    default:
        unsupported(ds, n->file, n->line, n->column, ast_kind_name(n->kind));
        return;
    }
    for (size_t i = 0; i < ds->depth; i++) {
        if (ds->stack[i] == n) {
            ds->recursive = true;
            dw_ulong(&ds->w, 0);
            return;
        }
    }
    if (ds->depth == MAX_NEST) {
        unsupported(ds, n->file, n->line, n->column,
                    "a type nested this deeply");
        return;
    }
    ds->stack[ds->depth++] = n;
    dw_ulong(&ds->w, n->kind == AST_STRUCT ? TK_STRUCT
                   : n->kind == AST_EXCEPTION ? TK_EXCEPT : TK_UNION);
    at = dw_encap_begin(&ds->w, &saved);
    put_ids(ds, n);
    if (n->kind == AST_UNION) {
        int32_t def = -1, i = 0;
        int dk = disc_kind(n->u.uni.disc_type);
        AST_FOREACH(m, n) {
            if (m->kind != AST_UNION_CASE)
                continue;
            for (size_t j = 0; j < m->u.ucase.n_labels; j++, i++)
                if (m->u.ucase.labels[j].is_default)
                    def = i;
            count += (uint32_t)m->u.ucase.n_labels;
        }
        put_tc(ds, n->u.uni.disc_type);
        dw_ulong(&ds->w, (uint32_t)def);
        dw_ulong(&ds->w, count);
        AST_FOREACH(m, n) {
            if (m->kind != AST_UNION_CASE)
                continue;
            for (size_t j = 0; j < m->u.ucase.n_labels; j++) {
                put_label(ds, dk, &m->u.ucase.labels[j]);
                dw_string(&ds->w, m->name);
                put_tc(ds, m->u.ucase.type);
            }
        }
    } else {
        AST_FOREACH(m, n) {
            if (m->kind == AST_MEMBER)
                count++;
        }
        dw_ulong(&ds->w, count);
        AST_FOREACH(m, n) {
            if (m->kind != AST_MEMBER)
                continue;
            dw_string(&ds->w, m->name);
            put_tc(ds, m->u.member.type);
        }
    }
    dw_encap_end(&ds->w, at, saved);
    ds->depth--;
}

static void put_array(desc_t *ds, const ast_type_t *t, size_t dim)
{
    size_t at, saved;

    dw_ulong(&ds->w, TK_ARRAY);
    at = dw_encap_begin(&ds->w, &saved);
    if (dim + 1 < t->u.array.n_dims)
        put_array(ds, t, dim + 1);
    else
        put_tc(ds, t->u.array.elem);
    dw_ulong(&ds->w, t->u.array.dims[dim]);
    dw_encap_end(&ds->w, at, saved);
}

static void put_tc(desc_t *ds, const ast_type_t *t)
{
    size_t at, saved;
    int k = basic_kind(t->kind);

    if (k) {
        dw_ulong(&ds->w, (uint32_t)k);
        return;
    }
    switch (t->kind) {
    case AST_T_OBJECT:
        dw_ulong(&ds->w, TK_OBJREF);
        at = dw_encap_begin(&ds->w, &saved);
        dw_string(&ds->w, "IDL:omg.org/CORBA/Object:1.0");
        dw_string(&ds->w, "Object");
        dw_encap_end(&ds->w, at, saved);
        return;
    case AST_T_STRING:
        dw_ulong(&ds->w, TK_STRING);
        dw_ulong(&ds->w, t->u.string.bound);
        return;
    case AST_T_SEQUENCE:
        dw_ulong(&ds->w, TK_SEQUENCE);
        at = dw_encap_begin(&ds->w, &saved);
        put_tc(ds, t->u.seq.elem);
        dw_ulong(&ds->w, t->u.seq.bound);
        dw_encap_end(&ds->w, at, saved);
        return;
    case AST_T_ARRAY:
        put_array(ds, t, 0);
        return;
    case AST_T_NAMED:
        put_decl(ds, t->u.named.decl);
        return;
    default:
        unsupported(ds, t->file, t->line, t->column,
                    ast_type_kind_name(t->kind));
        return;
    }
}

/* Write t's TypeCode, or nothing if it is recursive (returns false). */
static bool try_tc(desc_t *ds, const ast_type_t *t)
{
    size_t len = ds->w.len;

    ds->recursive = false;
    put_tc(ds, t);
    if (ds->recursive) {
        ds->w.len = len;
        ds->recursive = false;
        return false;
    }
    return true;
}

static bool describable(desc_t *ds, const ast_type_t *t)
{
    size_t len = ds->w.len;
    bool ok = try_tc(ds, t);
    ds->w.len = len;
    return ok;
}

/* ------------------------------------------------------------------ */
/* Types and interfaces                                                 */
/* ------------------------------------------------------------------ */

static int collect_types(const ast_node_t *n, bool leaving, void *ctx)
{
    collect_t *c = ctx;

    if (leaving)
        return 0;
    switch (n->kind) {
    case AST_STRUCT:
    case AST_UNION:
    case AST_ENUM:
    case AST_EXCEPTION:
    case AST_TYPEDEF:
    case AST_INTERFACE:
        break;
    default:
        return 0;
    }
    if (n->kind == AST_TYPEDEF && ast_type_decl(n->u.tdef.type) &&
        ast_type_decl(n->u.tdef.type)->kind == AST_NATIVE)
        return 0;
    if (n->kind == AST_INTERFACE &&
        (n->u.iface.is_local || n->u.iface.is_abstract))
        return 0;
    if (c->n == c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 64;
        const ast_node_t **v = realloc(c->v, nc * sizeof *v);
        if (v == NULL)
            return 1;
        c->v = v;
        c->cap = nc;
    }
    c->v[c->n++] = n;
    return 0;
}

static bool op_describable(desc_t *ds, const be_c_op_t *op)
{
    if (op->ret && !describable(ds, op->ret))
        return false;
    for (size_t i = 0; i < op->n_params; i++)
        if (!describable(ds, op->params[i].type))
            return false;
    for (size_t i = 0; op->raises && i < op->raises->count; i++) {
        ast_type_t t;
        memset(&t, 0, sizeof t);
        t.kind = AST_T_NAMED;
        t.u.named.decl = op->raises->items[i];
        if (!describable(ds, &t))
            return false;
    }
    return true;
}

static void put_iface(desc_t *ds, const ast_node_t *n)
{
    be_c_op_t *ops;
    size_t n_ops = be_c_own_ops(&ds->g, n, &ops);
    uint32_t count = 0;

    dw_string(&ds->w, n->repo_id);
    dw_string(&ds->w, be_c_scoped(n));
    dw_ulong(&ds->w, (uint32_t)n->u.iface.bases.count);
    for (size_t i = 0; i < n->u.iface.bases.count; i++)
        dw_string(&ds->w, ast_node_resolve(n->u.iface.bases.items[i])
                              ->repo_id);
    for (size_t i = 0; i < n_ops; i++)
        if (op_describable(ds, &ops[i]))
            count++;
    dw_ulong(&ds->w, count);
    for (size_t i = 0; i < n_ops; i++) {
        const be_c_op_t *op = &ops[i];
        ast_type_t vt;
        if (!op_describable(ds, op))
            continue;
        dw_string(&ds->w, op->wire);
        dw_octet(&ds->w, op->oneway);
        memset(&vt, 0, sizeof vt);
        vt.kind = AST_T_VOID;
        put_tc(ds, op->ret ? op->ret : &vt);
        dw_ulong(&ds->w, (uint32_t)op->n_params);
        for (size_t j = 0; j < op->n_params; j++) {
            dw_string(&ds->w, op->params[j].idl_name);
            dw_ulong(&ds->w, (uint32_t)op->params[j].mode);
            put_tc(ds, op->params[j].type);
        }
        dw_ulong(&ds->w, op->raises ? (uint32_t)op->raises->count : 0);
        for (size_t j = 0; op->raises && j < op->raises->count; j++)
            put_decl(ds, op->raises->items[j]);
    }
    count = 0;
    AST_FOREACH(m, n) {
        if (m->kind == AST_ATTRIBUTE && describable(ds, m->u.attr.type))
            count++;
    }
    dw_ulong(&ds->w, count);
    AST_FOREACH(m, n) {
        if (m->kind != AST_ATTRIBUTE || !describable(ds, m->u.attr.type))
            continue;
        dw_string(&ds->w, m->name);
        dw_octet(&ds->w, m->u.attr.readonly);
        put_tc(ds, m->u.attr.type);
    }
}

static int write_file(desc_t *ds, const char *outdir, const char *basename)
{
    char path[4096], tmp[4200];
    FILE *f;

    snprintf(path, sizeof path, "%s/%s.phxif", outdir, basename);
    snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid());
    f = fopen(tmp, "wb");
    if (f == NULL) {
        diag_error(ds->g.d, NULL, 0, 0, "cannot write '%s': %s", tmp,
                   strerror(errno));
        return 1;
    }
    if (fwrite(ds->w.buf, 1, ds->w.len, f) != ds->w.len || fclose(f) != 0) {
        diag_error(ds->g.d, NULL, 0, 0, "cannot write '%s'", tmp);
        remove(tmp);
        return 1;
    }
    if (rename(tmp, path) != 0) {
        diag_error(ds->g.d, NULL, 0, 0, "cannot rename '%s' to '%s': %s",
                   tmp, path, strerror(errno));
        remove(tmp);
        return 1;
    }
    return 0;
}

int be_describe_generate(const ast_root_t *root, const char *outdir,
                         const char *basename, diag_t *d)
{
    jmp_buf oom;
    desc_t *volatile ds;
    collect_t *types;
    uint32_t count;
    size_t count_at;
    volatile int rc = 1;

    ds = calloc(1, sizeof *ds);
    if (ds == NULL) {
        diag_error(d, NULL, 0, 0, "out of memory describing interfaces");
        return 1;
    }
    types = &ds->types;
    ds->g.root = root;
    ds->g.d = d;
    ds->g.basename = basename;
    mem_arena_init(&ds->g.arena);
    ds->g.arena.on_oom = &oom;
    if (setjmp(oom) != 0) {
        diag_error(d, NULL, 0, 0, "out of memory describing interfaces");
        goto done;
    }
    if (ast_walk(root->node, collect_types, types) != 0) {
        diag_error(d, NULL, 0, 0, "out of memory describing interfaces");
        goto done;
    }

    /* header: byte order, magic, version */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    dw_octet(&ds->w, 1);
#else
    dw_octet(&ds->w, 0);
#endif
    dw_raw(&ds->w, DESC_MAGIC, 4);
    dw_ulong(&ds->w, DESC_VERSION);

    /* named types */
    dw_ulong(&ds->w, 0);
    count_at = ds->w.len - 4;
    count = 0;
    for (size_t i = 0; i < types->n && !ds->failed; i++) {
        const ast_node_t *n = types->v[i];
        ast_type_t t;
        size_t len = ds->w.len;
        memset(&t, 0, sizeof t);
        t.kind = AST_T_NAMED;
        t.u.named.decl = (ast_node_t *)n;
        dw_string(&ds->w, n->repo_id);
        if (try_tc(ds, &t))
            count++;
        else
            ds->w.len = len;
    }
    /* ONC RPC numbers (.x input): per RPC version, one more named type,
     * an enum with repository id "phx-rpc:" + the interface's id, name
     * "PROG.VERS" and enumerators "OPERATION=PROC" (what phx-rpcgw reads;
     * the format is unchanged). */
    for (size_t i = 0; i < types->n && !ds->failed; i++) {
        const ast_node_t *n = types->v[i];
        be_c_op_t *ops;
        size_t n_ops, at, saved;
        char buf[512];
        if (n->kind != AST_INTERFACE || !n->u.iface.rpc)
            continue;
        n_ops = be_c_own_ops(&ds->g, n, &ops);
        if (n_ops == 0)
            continue;   /* an enum needs an enumerator */
        snprintf(buf, sizeof buf, "phx-rpc:%s", n->repo_id);
        dw_string(&ds->w, buf);
        dw_ulong(&ds->w, TK_ENUM);
        at = dw_encap_begin(&ds->w, &saved);
        dw_string(&ds->w, buf);
        snprintf(buf, sizeof buf, "%lu.%lu",
                 (unsigned long)n->u.iface.rpc_prog,
                 (unsigned long)n->u.iface.rpc_vers);
        dw_string(&ds->w, buf);
        dw_ulong(&ds->w, (uint32_t)n_ops);
        for (size_t j = 0; j < n_ops; j++) {
            snprintf(buf, sizeof buf, "%s=%lu", ops[j].wire,
                     (unsigned long)(ops[j].node->kind == AST_OPERATION
                                         ? ops[j].node->u.op.rpc_proc
                                         : 0));
            dw_string(&ds->w, buf);
        }
        dw_encap_end(&ds->w, at, saved);
        count++;
    }
    if (!ds->w.oom)
        memcpy(ds->w.buf + count_at, &count, 4);

    /* interfaces */
    count = 0;
    for (size_t i = 0; i < types->n; i++)
        if (types->v[i]->kind == AST_INTERFACE)
            count++;
    dw_ulong(&ds->w, count);
    for (size_t i = 0; i < types->n && !ds->failed; i++)
        if (types->v[i]->kind == AST_INTERFACE)
            put_iface(ds, types->v[i]);

    if (ds->failed)
        goto done;
    if (ds->w.oom) {
        diag_error(d, NULL, 0, 0, "out of memory describing interfaces");
        goto done;
    }
    rc = write_file(ds, outdir, basename);
done:
    free(ds->types.v);
    free(ds->w.buf);
    mem_arena_free(&ds->g.arena);
    free(ds);
    return rc;
}
