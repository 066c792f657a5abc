/*
 * bridge.c - the libffi bridge (include/phx/ffi.h, docs/ffi.md).
 *
 * One "signature" per operation and convention: the libffi call
 * interface built from the operation description at registration time,
 * how each parameter is passed (its value, or a pointer to its storage),
 * how the result comes back, and the layout of the per-call frame the
 * server side decodes arguments into.  Everything that can be refused is
 * refused there; a call only follows the plan.
 */
#include <limits.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ffi.h>

#include <phx/ffi.h>

/* ------------------------------------------------------------------ */
/* Signatures                                                           */
/* ------------------------------------------------------------------ */

typedef enum {
    RK_VOID,     /* no result */
    RK_SCALAR,   /* number, boolean, char, octet, enum, pointer by value */
    RK_STRUCT,   /* struct-like by value (libffi struct type) */
    RK_OUTRET,   /* through a trailing T * */
    RK_RPCGEN    /* T *fn(A *argp, void *rqstp) */
} ret_kind_t;

enum { PC_VAL = 0, PC_PTR = 1 };

typedef struct sig {
    const phx_opdesc_t *op;
    phx_ffi_conv_t conv;
    unsigned flags;
    ffi_cif cif;
    ffi_type **atypes;       /* nargs */
    unsigned nargs;
    ffi_type *rtype;
    ret_kind_t rk;
    phx_tckind_t rkind;      /* unaliased result kind */
    size_t rsize;            /* C size of the result (0: void) */
    unsigned char *pclass;   /* per IDL parameter */
    size_t *off;             /* server frame: offset of each slot */
    size_t dummy_off, res_off, frame_size;
    ffi_type **owned;        /* struct types built for by-value results */
    size_t owned_n, owned_cap;
} sig_t;

typedef union rv {
    ffi_arg u;
    ffi_sarg s;
    int64_t i64;
    uint64_t u64;
    float f;
    double d;
    void *p;
    max_align_t _align;
} rv_t;

static const phx_typecode_t *unalias(const phx_typecode_t *tc)
{
    const phx_typecode_t *u = phx_typecode_unalias(tc);

    return u != NULL ? u : tc;
}

_Static_assert(sizeof(bool) == 1, "bool must be one byte");

/* libffi type of a value passed by value; NULL for other kinds. */
static ffi_type *scalar_type(phx_tckind_t k)
{
    switch (k) {
    case PHX_TK_SHORT: return &ffi_type_sint16;
    case PHX_TK_USHORT: return &ffi_type_uint16;
    case PHX_TK_LONG: return &ffi_type_sint32;
    case PHX_TK_ULONG: return &ffi_type_uint32;
    case PHX_TK_LONGLONG: return &ffi_type_sint64;
    case PHX_TK_ULONGLONG: return &ffi_type_uint64;
    case PHX_TK_FLOAT: return &ffi_type_float;
    case PHX_TK_DOUBLE: return &ffi_type_double;
    case PHX_TK_BOOLEAN: return &ffi_type_uint8;
    case PHX_TK_CHAR: return CHAR_MIN < 0 ? &ffi_type_sint8 : &ffi_type_uint8;
    case PHX_TK_OCTET: return &ffi_type_uint8;
    case PHX_TK_ENUM: return &ffi_type_uint32;
    case PHX_TK_OBJREF:
    case PHX_TK_TYPECODE: return &ffi_type_pointer;
    default: return NULL;
    }
}

/* Kinds the value engine stores and marshals. */
static bool engine_kind(phx_tckind_t k)
{
    switch (k) {
    case PHX_TK_SHORT: case PHX_TK_LONG: case PHX_TK_USHORT:
    case PHX_TK_ULONG: case PHX_TK_FLOAT: case PHX_TK_DOUBLE:
    case PHX_TK_BOOLEAN: case PHX_TK_CHAR: case PHX_TK_OCTET:
    case PHX_TK_ANY: case PHX_TK_TYPECODE: case PHX_TK_OBJREF:
    case PHX_TK_STRUCT: case PHX_TK_UNION: case PHX_TK_ENUM:
    case PHX_TK_STRING: case PHX_TK_SEQUENCE: case PHX_TK_ARRAY:
    case PHX_TK_EXCEPT: case PHX_TK_LONGLONG: case PHX_TK_ULONGLONG:
        return true;
    default:
        return false;
    }
}

static const char *kind_name(phx_tckind_t k)
{
    switch (k) {
    case PHX_TK_UNION: return "union";
    case PHX_TK_ARRAY: return "array";
    case PHX_TK_LONGDOUBLE: return "long double";
    case PHX_TK_WCHAR: return "wchar";
    case PHX_TK_WSTRING: return "wstring";
    case PHX_TK_FIXED: return "fixed";
    case PHX_TK_VOID: return "void";
    default: return "this kind";
    }
}

static void sig_free(sig_t *g)
{
    if (g == NULL)
        return;
    for (size_t i = 0; i < g->owned_n; i++)
        free(g->owned[i]);
    free(g->owned);
    free(g->atypes);
    free(g->pclass);
    free(g->off);
    free(g);
}

/* A new libffi struct type with room for n elements (NULL-terminated). */
static ffi_type *new_struct_type(sig_t *g, size_t n)
{
    ffi_type *t;

    if (g->owned_n == g->owned_cap) {
        size_t cap = g->owned_cap ? 2 * g->owned_cap : 8;
        ffi_type **o = realloc(g->owned, cap * sizeof *o);

        if (o == NULL)
            return NULL;
        g->owned = o;
        g->owned_cap = cap;
    }
    t = calloc(1, sizeof *t + (n + 1) * sizeof(ffi_type *));
    if (t == NULL)
        return NULL;
    t->type = FFI_TYPE_STRUCT;
    t->elements = (ffi_type **)(t + 1);
    g->owned[g->owned_n++] = t;
    return t;
}

static int build_type(sig_t *g, const phx_typecode_t *tc, ffi_type **out,
                      int depth, phx_error_t *err, const char *where);

/* Number of libffi elements a member of type tc becomes (arrays are
 * flattened into their elements). */
static size_t flat_count(const phx_typecode_t *tc)
{
    size_t n = 1;

    tc = unalias(tc);
    while (tc->kind == PHX_TK_ARRAY) {
        if (tc->length == 0 || n > SIZE_MAX / tc->length)
            return 0;
        n *= tc->length;
        tc = unalias(tc->content);
    }
    return n;
}

static const phx_typecode_t *array_elem(const phx_typecode_t *tc)
{
    tc = unalias(tc);
    while (tc->kind == PHX_TK_ARRAY)
        tc = unalias(tc->content);
    return tc;
}

#define FLAT_MAX 4096

/* A libffi type for a value of tc stored by value (a struct member or a
 * by-value result), checked against the TypeCode's C layout. */
static int build_type(sig_t *g, const phx_typecode_t *tc, ffi_type **out,
                      int depth, phx_error_t *err, const char *where)
{
    ffi_type *t, *e;
    size_t n = 0, k;

    if (depth > PHX_VALUE_MAX_DEPTH)
        return phx_error_set(err, PHX_EUNSUPPORTED,
                             "%s: type nested too deeply", where);
    tc = unalias(tc);
    if ((t = scalar_type(tc->kind)) != NULL) {
        *out = t;
        return PHX_OK;
    }
    switch (tc->kind) {
    case PHX_TK_STRING:
        *out = &ffi_type_pointer;
        return PHX_OK;
    case PHX_TK_SEQUENCE:       /* phx_sequence_t */
        if ((t = new_struct_type(g, 4)) == NULL)
            goto nomem;
        t->elements[0] = &ffi_type_uint32;
        t->elements[1] = &ffi_type_uint32;
        t->elements[2] = &ffi_type_pointer;
        t->elements[3] = &ffi_type_uint8;
        break;
    case PHX_TK_ANY:            /* phx_any_t */
        if ((t = new_struct_type(g, 3)) == NULL)
            goto nomem;
        t->elements[0] = &ffi_type_pointer;
        t->elements[1] = &ffi_type_pointer;
        t->elements[2] = &ffi_type_uint8;
        break;
    case PHX_TK_STRUCT:
    case PHX_TK_EXCEPT:
        for (uint32_t i = 0; i < tc->member_count; i++) {
            size_t c = flat_count(tc->members[i].type);

            if (c == 0 || c > FLAT_MAX || n + c > FLAT_MAX)
                return phx_error_set(err, PHX_EUNSUPPORTED,
                                     "%s: member '%s' of %s is an array too "
                                     "large to pass by value", where,
                                     tc->members[i].name, tc->name);
            n += c;
        }
        if ((t = new_struct_type(g, n ? n : 1)) == NULL)
            goto nomem;
        if (n == 0) {           /* an exception without members */
            t->elements[0] = &ffi_type_sint8;
            break;
        }
        k = 0;
        for (uint32_t i = 0; i < tc->member_count; i++) {
            const phx_typecode_t *mt = tc->members[i].type;
            size_t c = flat_count(mt);
            int rc = build_type(g, array_elem(mt), &e, depth + 1, err, where);

            if (rc != PHX_OK)
                return rc;
            for (size_t j = 0; j < c; j++)
                t->elements[k++] = e;
        }
        break;
    default:
        return phx_error_set(err, PHX_EUNSUPPORTED,
                             "%s: a %s (%s) cannot be passed by value "
                             "through libffi", where,
                             kind_name(tc->kind),
                             tc->name ? tc->name : "anonymous");
    }

    /* Let libffi lay the struct out and compare with the C layout the
     * TypeCode describes. */
    {
        size_t ne = 0;
        size_t *offs;
        int bad = 0;

        while (t->elements[ne] != NULL)
            ne++;
        offs = calloc(ne, sizeof *offs);
        if (offs == NULL)
            goto nomem;
        if (ffi_get_struct_offsets(FFI_DEFAULT_ABI, t, offs) != FFI_OK)
            bad = 1;
        else if (t->size != phx_typecode_c_size(tc) ||
                 t->alignment != phx_typecode_c_align(tc))
            bad = 1;
        else if (tc->kind == PHX_TK_STRUCT || tc->kind == PHX_TK_EXCEPT) {
            k = 0;
            for (uint32_t i = 0; i < tc->member_count && !bad; i++) {
                if (offs[k] != tc->members[i].offset)
                    bad = 1;
                k += flat_count(tc->members[i].type);
            }
        }
        free(offs);
        if (bad)
            return phx_error_set(err, PHX_EUNSUPPORTED,
                                 "%s: the C layout of %s (size %zu, align "
                                 "%zu) is not one libffi can reproduce",
                                 where, tc->name ? tc->name : "a value",
                                 phx_typecode_c_size(tc),
                                 phx_typecode_c_align(tc));
    }
    *out = t;
    return PHX_OK;
nomem:
    return phx_error_set(err, PHX_ENOMEM, "%s: out of memory", where);
}

static size_t align_up(size_t v, size_t a)
{
    return (v + a - 1) / a * a;
}

static int sig_build(const phx_opdesc_t *op, phx_ffi_conv_t conv,
                     unsigned flags, sig_t **out, phx_error_t *err)
{
    sig_t *g;
    uint32_t n = op->param_count;
    const phx_typecode_t *rt;
    char where[160];
    int rc;
    size_t pos;

    *out = NULL;
    snprintf(where, sizeof where, "operation '%s'", op->name);
    if (conv != PHX_FFI_PLAIN && conv != PHX_FFI_PLAIN_OUTRET &&
        conv != PHX_FFI_RPCGEN)
        return phx_error_set(err, PHX_EINVAL, "%s: unknown convention %d",
                             where, (int)conv);
    if (flags & ~(unsigned)PHX_FFI_RESULT_BORROWED)
        return phx_error_set(err, PHX_EINVAL, "%s: unknown flags 0x%x",
                             where, flags);
    if (n > 1000)
        return phx_error_set(err, PHX_EUNSUPPORTED,
                             "%s: too many parameters", where);
    g = calloc(1, sizeof *g);
    if (g == NULL)
        return phx_error_set(err, PHX_ENOMEM, "out of memory");
    g->op = op;
    g->conv = conv;
    g->flags = flags;
    g->atypes = calloc(n + 2, sizeof *g->atypes);
    g->pclass = calloc(n + 1, 1);
    g->off = calloc(n + 1, sizeof *g->off);
    if (g->atypes == NULL || g->pclass == NULL || g->off == NULL) {
        rc = phx_error_set(err, PHX_ENOMEM, "out of memory");
        goto fail;
    }

    /* Parameters and their storage in the server frame. */
    pos = align_up((3 * (size_t)n + 6) * sizeof(void *), 16);
    g->dummy_off = pos;
    pos += 16;
    for (uint32_t i = 0; i < n; i++) {
        const phx_paramdesc_t *p = &op->params[i];
        const phx_typecode_t *pt = p->type ? unalias(p->type) : NULL;
        size_t sz, al;

        if (pt == NULL || !engine_kind(pt->kind)) {
            rc = phx_error_set(err, PHX_EUNSUPPORTED,
                               "%s: parameter '%s' has a type (%s) the "
                               "bridge cannot marshal", where, p->name,
                               pt ? kind_name(pt->kind) : "none");
            goto fail;
        }
        if (p->mode != PHX_PARAM_IN && p->mode != PHX_PARAM_OUT &&
            p->mode != PHX_PARAM_INOUT) {
            rc = phx_error_set(err, PHX_EINVAL, "%s: parameter '%s' has "
                               "a bad mode", where, p->name);
            goto fail;
        }
        sz = phx_typecode_c_size(pt);
        al = phx_typecode_c_align(pt);
        if (sz == 0 || al == 0 || al > 16) {
            rc = phx_error_set(err, PHX_EUNSUPPORTED,
                               "%s: parameter '%s': the C size of its type "
                               "is unknown", where, p->name);
            goto fail;
        }
        pos = align_up(pos, al);
        g->off[i] = pos;
        pos += sz;
        if (p->mode == PHX_PARAM_IN && scalar_type(pt->kind) != NULL) {
            g->atypes[i] = scalar_type(pt->kind);
            g->pclass[i] = PC_VAL;
        } else if (p->mode == PHX_PARAM_IN && pt->kind == PHX_TK_STRING) {
            g->atypes[i] = &ffi_type_pointer;  /* the slot holds char * */
            g->pclass[i] = PC_VAL;
        } else {
            g->atypes[i] = &ffi_type_pointer;  /* a pointer to the slot */
            g->pclass[i] = PC_PTR;
        }
    }

    /* The result. */
    rt = op->result ? unalias(op->result) : &phx_tc_void;
    g->rkind = rt->kind;
    if (rt->kind != PHX_TK_VOID) {
        if (!engine_kind(rt->kind)) {
            rc = phx_error_set(err, PHX_EUNSUPPORTED, "%s: the result type "
                               "(%s) cannot be marshaled", where,
                               kind_name(rt->kind));
            goto fail;
        }
        g->rsize = phx_typecode_c_size(rt);
        if (g->rsize == 0 || phx_typecode_c_align(rt) > 16) {
            rc = phx_error_set(err, PHX_EUNSUPPORTED, "%s: the C size of "
                               "the result type is unknown", where);
            goto fail;
        }
    }
    pos = align_up(pos, 16);
    g->res_off = pos;
    pos += align_up(g->rsize > 16 ? g->rsize : 16, 16);
    g->frame_size = pos;

    g->nargs = n;
    switch (conv) {
    case PHX_FFI_PLAIN:
        if (rt->kind == PHX_TK_VOID) {
            g->rk = RK_VOID;
            g->rtype = &ffi_type_void;
        } else if (scalar_type(rt->kind) != NULL) {
            g->rk = RK_SCALAR;
            g->rtype = scalar_type(rt->kind);
        } else if (rt->kind == PHX_TK_STRING) {
            g->rk = RK_SCALAR;
            g->rtype = &ffi_type_pointer;
        } else if (rt->kind == PHX_TK_UNION || rt->kind == PHX_TK_ARRAY) {
            rc = phx_error_set(err, PHX_EUNSUPPORTED,
                               "%s: a %s result cannot be returned by "
                               "value (PHX_FFI_PLAIN); use "
                               "PHX_FFI_PLAIN_OUTRET", where,
                               kind_name(rt->kind));
            goto fail;
        } else {
            char w2[200];

            snprintf(w2, sizeof w2, "%s, result", where);
            g->rk = RK_STRUCT;
            rc = build_type(g, rt, &g->rtype, 0, err, w2);
            if (rc != PHX_OK)
                goto fail;
        }
        break;
    case PHX_FFI_PLAIN_OUTRET:
        g->rtype = &ffi_type_void;
        if (rt->kind == PHX_TK_VOID) {
            g->rk = RK_VOID;
        } else {
            g->rk = RK_OUTRET;
            g->atypes[n] = &ffi_type_pointer;
            g->nargs = n + 1;
        }
        break;
    case PHX_FFI_RPCGEN:
        if (n > 1 || (n == 1 && op->params[0].mode != PHX_PARAM_IN)) {
            rc = phx_error_set(err, PHX_EUNSUPPORTED,
                               "%s: the rpcgen convention takes at most one "
                               "parameter, in mode (this operation has %u%s)",
                               where, (unsigned)n,
                               n == 1 ? ", not in" : "");
            goto fail;
        }
        g->rk = RK_RPCGEN;
        g->rtype = &ffi_type_pointer;
        g->atypes[0] = &ffi_type_pointer;
        g->atypes[1] = &ffi_type_pointer;
        g->nargs = 2;
        break;
    }

    if (ffi_prep_cif(&g->cif, FFI_DEFAULT_ABI, g->nargs, g->rtype,
                     g->atypes) != FFI_OK) {
        rc = phx_error_set(err, PHX_EUNSUPPORTED,
                           "%s: libffi cannot prepare this call interface",
                           where);
        goto fail;
    }
    *out = g;
    return PHX_OK;
fail:
    sig_free(g);
    return rc;
}

/* The value of a scalar result returned by ffi_call into C storage. */
static void store_scalar(phx_tckind_t k, void *dst, const rv_t *rv)
{
    switch (k) {
    case PHX_TK_SHORT: *(int16_t *)dst = (int16_t)rv->s; break;
    case PHX_TK_USHORT: *(uint16_t *)dst = (uint16_t)rv->u; break;
    case PHX_TK_LONG: *(int32_t *)dst = (int32_t)rv->s; break;
    case PHX_TK_ULONG:
    case PHX_TK_ENUM: *(uint32_t *)dst = (uint32_t)rv->u; break;
    case PHX_TK_LONGLONG: *(int64_t *)dst = rv->i64; break;
    case PHX_TK_ULONGLONG: *(uint64_t *)dst = rv->u64; break;
    case PHX_TK_FLOAT: *(float *)dst = rv->f; break;
    case PHX_TK_DOUBLE: *(double *)dst = rv->d; break;
    case PHX_TK_BOOLEAN: *(bool *)dst = (uint8_t)rv->u != 0; break;
    case PHX_TK_CHAR: *(char *)dst = (char)rv->s; break;
    case PHX_TK_OCTET: *(uint8_t *)dst = (uint8_t)rv->u; break;
    default: *(void **)dst = rv->p; break;   /* string, objref, TypeCode */
    }
}

/* A scalar C value as a libffi closure returns it (integers narrower
 * than ffi_arg widened to it). */
static void load_scalar(phx_tckind_t k, void *ret, const void *src)
{
    switch (k) {
    case PHX_TK_SHORT: *(ffi_sarg *)ret = *(const int16_t *)src; break;
    case PHX_TK_USHORT: *(ffi_arg *)ret = *(const uint16_t *)src; break;
    case PHX_TK_LONG: *(ffi_sarg *)ret = *(const int32_t *)src; break;
    case PHX_TK_ULONG:
    case PHX_TK_ENUM: *(ffi_arg *)ret = *(const uint32_t *)src; break;
    case PHX_TK_LONGLONG: *(int64_t *)ret = *(const int64_t *)src; break;
    case PHX_TK_ULONGLONG: *(uint64_t *)ret = *(const uint64_t *)src; break;
    case PHX_TK_FLOAT: *(float *)ret = *(const float *)src; break;
    case PHX_TK_DOUBLE: *(double *)ret = *(const double *)src; break;
    case PHX_TK_BOOLEAN: *(ffi_arg *)ret = *(const bool *)src ? 1 : 0; break;
    case PHX_TK_CHAR:
        if (CHAR_MIN < 0)
            *(ffi_sarg *)ret = *(const signed char *)src;
        else
            *(ffi_arg *)ret = *(const unsigned char *)src;
        break;
    case PHX_TK_OCTET: *(ffi_arg *)ret = *(const uint8_t *)src; break;
    default: *(void **)ret = *(void *const *)src; break;
    }
}

/* ------------------------------------------------------------------ */
/* Server                                                               */
/* ------------------------------------------------------------------ */

static _Thread_local phx_env_t *tls_cur_env;

phx_env_t *phx_ffi_env(void)
{
    return tls_cur_env;
}

typedef struct entry {
    const char *name;
    const phx_opdesc_t *op;
    phx_ffi_fn fn;
    void *rqstp;
    sig_t *sig;
} entry_t;

struct phx_ffi_servant {
    phx_servant_t base;          /* first: the adapter hands us this */
    phx_interface_t iface;
    char *repo_id;
    const char **bases;
    size_t base_count;
    phx_operation_t *ops;
    entry_t *entries;            /* sorted by name */
    size_t count;
    void (*release)(phx_ffi_servant_t *s, void *arg);
    void *release_arg;
};

static int entry_cmp(const void *a, const void *b)
{
    return strcmp(((const entry_t *)a)->name, ((const entry_t *)b)->name);
}

#define FRAME_STACK 1024

static int call_bridged(const entry_t *e, phx_server_request_t *sr,
                        phx_env_t *env)
{
    const sig_t *g = e->sig;
    const phx_opdesc_t *op = g->op;
    uint32_t n = op->param_count;
    alignas(max_align_t) unsigned char stackbuf[FRAME_STACK];
    unsigned char *frame = stackbuf;
    void **args, **ptrs, **avalue;
    void *result;
    rv_t rv;
    void *rvp;
    phx_env_t *saved;
    int rc;

    if (g->frame_size > sizeof stackbuf) {
        frame = malloc(g->frame_size);
        if (frame == NULL)
            return phx_env_system(env, PHX_SYSEX_NO_MEMORY, 0,
                                  PHX_COMPLETED_NO, "ffi bridge: '%s'",
                                  op->name);
    }
    memset(frame, 0, g->frame_size);
    args = (void **)frame;
    ptrs = args + n + 1;
    avalue = ptrs + n + 2;
    for (uint32_t i = 0; i < n; i++)
        args[i] = frame + g->off[i];
    result = g->rkind == PHX_TK_VOID ? NULL : frame + g->res_off;

    rc = phx_op_decode_args(sr, op, args, result, env);
    if (rc != PHX_OK)
        goto out;

    if (g->rk == RK_RPCGEN) {
        ptrs[0] = n ? args[0] : frame + g->dummy_off;
        ptrs[1] = e->rqstp;
        avalue[0] = &ptrs[0];
        avalue[1] = &ptrs[1];
    } else {
        for (uint32_t i = 0; i < n; i++) {
            if (g->pclass[i] == PC_VAL) {
                avalue[i] = args[i];
            } else {
                ptrs[i] = args[i];
                avalue[i] = &ptrs[i];
            }
        }
        if (g->rk == RK_OUTRET) {
            ptrs[n] = result;
            avalue[n] = &ptrs[n];
        }
    }

    memset(&rv, 0, sizeof rv);
    rvp = g->rk == RK_STRUCT ? result : (void *)&rv;
    saved = tls_cur_env;
    tls_cur_env = env;
    ffi_call((ffi_cif *)&g->cif, e->fn, rvp, avalue);
    tls_cur_env = saved;

    if (g->rk == RK_SCALAR)
        store_scalar(g->rkind, result, &rv);

    if (env->major != PHX_NO_EXCEPTION) {
        rc = env->major == PHX_USER_EXCEPTION ? PHX_EUSEREX : PHX_ESYSEX;
    } else if (g->rk == RK_RPCGEN) {
        if (rv.p == NULL)
            rc = phx_env_system(env, PHX_SYSEX_UNKNOWN,
                                PHX_VMCID | PHX_MINOR_SERVANT_FAILED,
                                PHX_COMPLETED_MAYBE, "'%s' (rpcgen) "
                                "returned a NULL result", op->name);
        else
            rc = phx_op_encode_results(sr, op, args,
                                       result ? rv.p : NULL, env);
    } else {
        rc = phx_op_encode_results(sr, op, args, result, env);
    }
    if (result != NULL && (g->flags & PHX_FFI_RESULT_BORROWED))
        memset(result, 0, g->rsize);
out:
    phx_op_free_args(op, args, result);
    if (frame != stackbuf)
        free(frame);
    return rc;
}

static int ffi_skel(phx_servant_t *sv, phx_server_request_t *sr,
                    phx_env_t *env)
{
    phx_ffi_servant_t *s = (phx_ffi_servant_t *)sv;
    entry_t key = {.name = phx_server_request_operation(sr)};
    const entry_t *e;

    e = key.name ? bsearch(&key, s->entries, s->count, sizeof *s->entries,
                           entry_cmp)
                 : NULL;
    if (e == NULL)
        return phx_env_system(env, PHX_SYSEX_BAD_OPERATION,
                              PHX_VMCID | PHX_MINOR_UNKNOWN_OP,
                              PHX_COMPLETED_NO, "no operation '%s'",
                              key.name ? key.name : "");
    if (e->fn == NULL)
        return phx_op_not_implemented(e->op, env);
    return call_bridged(e, sr, env);
}

static void ffi_release(phx_servant_t *sv)
{
    phx_ffi_servant_t *s = (phx_ffi_servant_t *)sv;

    if (s->release != NULL)
        s->release(s, s->release_arg);
}

void phx_ffi_servant_free(phx_ffi_servant_t *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->count; i++)
        sig_free(s->entries[i].sig);
    free(s->entries);
    free(s->ops);
    free(s->bases);
    free(s->repo_id);
    free(s);
}

phx_servant_t *phx_ffi_servant_base(phx_ffi_servant_t *s)
{
    return s ? &s->base : NULL;
}

void phx_ffi_servant_set_release(phx_ffi_servant_t *s,
                                 void (*release)(phx_ffi_servant_t *s,
                                                 void *arg),
                                 void *arg)
{
    s->release = release;
    s->release_arg = arg;
}

/* Growable list of pointers. */
typedef struct plist {
    const void **v;
    size_t n, cap;
} plist_t;

static int plist_push(plist_t *l, const void *p)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        const void **v = realloc(l->v, cap * sizeof *v);

        if (v == NULL)
            return PHX_ENOMEM;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = p;
    return PHX_OK;
}

/* Every operation of ifd (own first, then the bases' depth first, each
 * name once, as phx_ifdesc_find_op finds them) and every ancestor's
 * repository id. */
static int gather(const phx_ifdesc_t *ifd, plist_t *ops, plist_t *bases,
                  int depth)
{
    if (depth > PHX_VALUE_MAX_DEPTH)
        return PHX_ELIMIT;
    for (uint32_t i = 0; i < ifd->op_count; i++) {
        bool dup = false;

        for (size_t j = 0; j < ops->n && !dup; j++)
            dup = strcmp(((const phx_opdesc_t *)ops->v[j])->name,
                         ifd->ops[i]->name) == 0;
        if (!dup && plist_push(ops, ifd->ops[i]) != PHX_OK)
            return PHX_ENOMEM;
    }
    for (uint32_t i = 0; i < ifd->base_count; i++) {
        const phx_ifdesc_t *b = ifd->bases[i];
        bool dup = false;
        int rc;

        for (size_t j = 0; j < bases->n && !dup; j++)
            dup = strcmp(bases->v[j], b->repo_id) == 0;
        if (dup)
            continue;
        if (plist_push(bases, b->repo_id) != PHX_OK)
            return PHX_ENOMEM;
        rc = gather(b, ops, bases, depth + 1);
        if (rc != PHX_OK)
            return rc;
    }
    return PHX_OK;
}

static int servant_build(const char *repo_id, plist_t *ops, plist_t *bases,
                         const phx_ffi_binding_t *bindings, size_t count,
                         phx_ffi_servant_t **out, phx_error_t *err)
{
    phx_ffi_servant_t *s;
    int rc;

    s = calloc(1, sizeof *s);
    if (s == NULL)
        return phx_error_set(err, PHX_ENOMEM, "out of memory");
    s->repo_id = strdup(repo_id);
    s->entries = calloc(ops->n ? ops->n : 1, sizeof *s->entries);
    s->ops = calloc(ops->n ? ops->n : 1, sizeof *s->ops);
    if (s->repo_id == NULL || s->entries == NULL || s->ops == NULL) {
        rc = phx_error_set(err, PHX_ENOMEM, "out of memory");
        goto fail;
    }
    s->count = ops->n;
    for (size_t i = 0; i < ops->n; i++) {
        s->entries[i].op = ops->v[i];
        s->entries[i].name = s->entries[i].op->name;
    }
    qsort(s->entries, s->count, sizeof *s->entries, entry_cmp);

    for (size_t b = 0; b < count; b++) {
        const phx_ffi_binding_t *bd = &bindings[b];
        entry_t key = {.name = bd->operation}, *e;

        if (bd->operation == NULL) {
            rc = phx_error_set(err, PHX_EINVAL, "binding %zu has no "
                               "operation name", b);
            goto fail;
        }
        e = bsearch(&key, s->entries, s->count, sizeof *s->entries,
                    entry_cmp);
        if (e == NULL) {
            rc = phx_error_set(err, PHX_ENOTFOUND, "%s has no operation "
                               "'%s'", repo_id, bd->operation);
            goto fail;
        }
        if (e->sig != NULL || e->fn != NULL) {
            rc = phx_error_set(err, PHX_EEXIST, "operation '%s' is bound "
                               "twice", bd->operation);
            goto fail;
        }
        if (bd->fn == NULL)
            continue;
        rc = sig_build(e->op, bd->conv, bd->flags, &e->sig, err);
        if (rc != PHX_OK)
            goto fail;
        e->fn = bd->fn;
        e->rqstp = bd->rqstp;
    }

    for (size_t i = 0; i < s->count; i++) {
        s->ops[i].name = s->entries[i].name;
        s->ops[i].skel = ffi_skel;
    }
    s->bases = (const char **)bases->v;
    s->base_count = bases->n;
    bases->v = NULL;
    s->iface.repo_id = s->repo_id;
    s->iface.bases = s->bases;
    s->iface.base_count = s->base_count;
    s->iface.ops = s->ops;
    s->iface.op_count = s->count;
    s->base.iface = &s->iface;
    s->base.release = ffi_release;
    s->base.impl = s;
    *out = s;
    return PHX_OK;
fail:
    phx_ffi_servant_free(s);
    return rc;
}

int phx_ffi_servant_new(const phx_ifdesc_t *ifd,
                        const phx_ffi_binding_t *bindings, size_t count,
                        phx_ffi_servant_t **out, phx_error_t *err)
{
    plist_t ops = {0}, bases = {0};
    int rc;

    if (out == NULL)
        return phx_error_set(err, PHX_EINVAL, "no output pointer");
    *out = NULL;
    if (ifd == NULL || ifd->repo_id == NULL || (count && bindings == NULL))
        return phx_error_set(err, PHX_EINVAL, "no interface description");
    rc = gather(ifd, &ops, &bases, 0);
    if (rc != PHX_OK)
        rc = phx_error_set(err, rc, "%s: cannot list its operations",
                           ifd->repo_id);
    else
        rc = servant_build(ifd->repo_id, &ops, &bases, bindings, count, out,
                           err);
    free(ops.v);
    free(bases.v);
    return rc;
}

int phx_ffi_servant_new_ops(const char *repo_id,
                            const phx_opdesc_t *const *opv, size_t op_count,
                            const phx_ffi_binding_t *bindings, size_t count,
                            phx_ffi_servant_t **out, phx_error_t *err)
{
    plist_t ops = {0}, bases = {0};
    int rc = PHX_OK;

    if (out == NULL)
        return phx_error_set(err, PHX_EINVAL, "no output pointer");
    *out = NULL;
    if (repo_id == NULL || (op_count && opv == NULL) ||
        (count && bindings == NULL))
        return phx_error_set(err, PHX_EINVAL, "missing repository id, "
                             "operations or bindings");
    for (size_t i = 0; i < op_count && rc == PHX_OK; i++) {
        if (opv[i] == NULL || opv[i]->name == NULL) {
            rc = phx_error_set(err, PHX_EINVAL, "operation %zu is NULL", i);
            break;
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp(opv[j]->name, opv[i]->name) == 0)
                rc = phx_error_set(err, PHX_EEXIST, "operation '%s' is "
                                   "listed twice", opv[i]->name);
        if (rc == PHX_OK && plist_push(&ops, opv[i]) != PHX_OK)
            rc = phx_error_set(err, PHX_ENOMEM, "out of memory");
    }
    if (rc == PHX_OK)
        rc = servant_build(repo_id, &ops, &bases, bindings, count, out, err);
    free(ops.v);
    free(bases.v);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Client closures                                                      */
/* ------------------------------------------------------------------ */

struct phx_ffi_closure {
    ffi_closure *closure;        /* writable side */
    void *code;                  /* executable side: the function */
    phx_object_t *obj;
    sig_t *sig;
    void *rpc_res;               /* PHX_FFI_RPCGEN result storage */
};

static pthread_key_t env_key;
static pthread_once_t env_once = PTHREAD_ONCE_INIT;
static bool env_key_ok;
static _Thread_local phx_env_t *tls_last;
static const phx_env_t no_exception = PHX_ENV_INIT;

static void env_destroy(void *p)
{
    phx_env_clear(p);
    free(p);
}

static void env_key_init(void)
{
    env_key_ok = pthread_key_create(&env_key, env_destroy) == 0;
}

static phx_env_t *last_env(void)
{
    if (tls_last == NULL) {
        pthread_once(&env_once, env_key_init);
        if (!env_key_ok)
            return NULL;
        tls_last = malloc(sizeof *tls_last);
        if (tls_last == NULL)
            return NULL;
        phx_env_init(tls_last);
        if (pthread_setspecific(env_key, tls_last) != 0) {
            free(tls_last);
            tls_last = NULL;
        }
    }
    return tls_last;
}

const phx_env_t *phx_ffi_last_error(void)
{
    return tls_last != NULL ? tls_last : &no_exception;
}

void phx_ffi_clear_last_error(void)
{
    if (tls_last == NULL)
        return;
    (void)pthread_setspecific(env_key, NULL);
    env_destroy(tls_last);
    tls_last = NULL;
}

static char rpc_void_result;

#define ARGS_STACK 16

static void closure_call(ffi_cif *cif, void *ret, void **avalue, void *user)
{
    phx_ffi_closure_t *c = user;
    const sig_t *g = c->sig;
    const phx_opdesc_t *op = g->op;
    uint32_t n = op->param_count;
    phx_env_t *env = last_env();
    phx_env_t fallback = PHX_ENV_INIT;
    void *argsbuf[ARGS_STACK];
    void **args = argsbuf;
    rv_t tmp;
    void *result = NULL;
    bool bad = false;
    const char *bad_what = "";
    int rc;

    (void)cif;
    if (env == NULL)
        env = &fallback;        /* cannot report; the result is zero */
    phx_env_clear(env);
    memset(&tmp, 0, sizeof tmp);

    if (n > ARGS_STACK) {
        args = calloc(n, sizeof *args);
        if (args == NULL) {
            phx_env_system(env, PHX_SYSEX_NO_MEMORY, 0, PHX_COMPLETED_NO,
                           "ffi closure for '%s'", op->name);
            args = argsbuf;
            n = 0;
            bad = true;
            bad_what = NULL;
        }
    }

    if (g->rk == RK_RPCGEN) {
        if (n == 1) {
            args[0] = *(void **)avalue[0];
            if (args[0] == NULL) {
                bad = true;
                bad_what = op->params[0].name;
            }
        }
    } else {
        for (uint32_t i = 0; i < n; i++) {
            if (g->pclass[i] == PC_VAL) {
                args[i] = avalue[i];
            } else {
                args[i] = *(void **)avalue[i];
                if (args[i] == NULL && !bad) {
                    bad = true;
                    bad_what = op->params[i].name;
                }
            }
        }
    }

    switch (g->rk) {
    case RK_VOID:
        break;
    case RK_SCALAR:
        result = &tmp;
        break;
    case RK_STRUCT:
        result = ret;
        memset(ret, 0, g->rsize);
        break;
    case RK_OUTRET:
        result = *(void **)avalue[n];
        if (result == NULL && !bad) {
            bad = true;
            bad_what = "_ret";
        }
        break;
    case RK_RPCGEN:
        if (g->rkind != PHX_TK_VOID) {
            result = c->rpc_res;
            phx_value_free(op->result, result);
        }
        break;
    }

    if (bad) {
        if (bad_what != NULL)
            phx_env_system(env, PHX_SYSEX_BAD_PARAM, 0, PHX_COMPLETED_NO,
                           "ffi closure for '%s': NULL pointer for '%s'",
                           op->name, bad_what);
        /* out values zeroed, inout values left alone */
        for (uint32_t i = 0; i < n; i++)
            if (op->params[i].mode == PHX_PARAM_OUT && args[i] != NULL &&
                g->rk != RK_RPCGEN)
                memset(args[i], 0, phx_typecode_c_size(op->params[i].type));
        if (g->rk == RK_OUTRET && result != NULL)
            memset(result, 0, g->rsize);
        rc = PHX_ESYSEX;
    } else {
        rc = phx_op_invoke(c->obj, op, args, result, env);
    }

    switch (g->rk) {
    case RK_SCALAR:
        load_scalar(g->rkind, ret, &tmp);
        break;
    case RK_RPCGEN:
        *(void **)ret = rc != PHX_OK ? NULL
                        : result != NULL ? result : (void *)&rpc_void_result;
        break;
    default:
        break;
    }
    if (args != argsbuf)
        free(args);
    if (env == &fallback)
        phx_env_clear(&fallback);
}

phx_ffi_closure_t *phx_ffi_closure_new(phx_object_t *obj,
                                       const phx_opdesc_t *op,
                                       phx_ffi_conv_t conv,
                                       phx_ffi_fn *fnptr, phx_error_t *err)
{
    phx_ffi_closure_t *c;

    if (obj == NULL || op == NULL || op->name == NULL || fnptr == NULL) {
        phx_error_set(err, PHX_EINVAL, "ffi closure: missing object, "
                      "operation or function pointer");
        return NULL;
    }
    *fnptr = NULL;
    c = calloc(1, sizeof *c);
    if (c == NULL) {
        phx_error_set(err, PHX_ENOMEM, "out of memory");
        return NULL;
    }
    if (sig_build(op, conv, 0, &c->sig, err) != PHX_OK)
        goto fail;
    if (conv == PHX_FFI_RPCGEN && c->sig->rkind != PHX_TK_VOID) {
        c->rpc_res = calloc(1, c->sig->rsize);
        if (c->rpc_res == NULL) {
            phx_error_set(err, PHX_ENOMEM, "out of memory");
            goto fail;
        }
    }
    c->closure = ffi_closure_alloc(sizeof(ffi_closure), &c->code);
    if (c->closure == NULL) {
        phx_error_set(err, PHX_ENOMEM, "ffi_closure_alloc failed");
        goto fail;
    }
    if (ffi_prep_closure_loc(c->closure, &c->sig->cif, closure_call, c,
                             c->code) != FFI_OK) {
        phx_error_set(err, PHX_EUNSUPPORTED, "operation '%s': libffi "
                      "cannot make a closure for it", op->name);
        goto fail;
    }
    c->obj = phx_object_ref(obj);
    *fnptr = (phx_ffi_fn)c->code;
    return c;
fail:
    phx_ffi_closure_free(c);
    return NULL;
}

void phx_ffi_closure_free(phx_ffi_closure_t *c)
{
    if (c == NULL)
        return;
    if (c->closure != NULL)
        ffi_closure_free(c->closure);
    if (c->rpc_res != NULL) {
        phx_value_free(c->sig->op->result, c->rpc_res);
        free(c->rpc_res);
    }
    phx_object_release(c->obj);
    sig_free(c->sig);
    free(c);
}
