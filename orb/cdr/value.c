/*
 * value.c - the type-table-driven marshaling engine: puts, gets, frees,
 * copies and compares values of any IDL type described by a TypeCode
 * (C mapping in include/phx/typecode.h).
 */
#include <stdlib.h>
#include <string.h>

#include <phx/typecode.h>

static phx_objref_hooks_t objref_hooks;
static bool have_hooks;

void phx_value_set_objref_hooks(const phx_objref_hooks_t *hooks)
{
    if (hooks) {
        objref_hooks = *hooks;
        have_hooks = hooks->put && hooks->get;
    } else {
        memset(&objref_hooks, 0, sizeof objref_hooks);
        have_hooks = false;
    }
}

/* Wire size of kinds whose C representation is the CDR one (so arrays of
 * them move with one memcpy); 0 for the others. */
size_t phx__tc_prim_size(phx_tckind_t k)
{
    switch (k) {
    case PHX_TK_OCTET:
    case PHX_TK_CHAR:
    case PHX_TK_BOOLEAN:
        return 1;
    case PHX_TK_SHORT:
    case PHX_TK_USHORT:
        return 2;
    case PHX_TK_LONG:
    case PHX_TK_ULONG:
    case PHX_TK_FLOAT:
    case PHX_TK_ENUM:
        return 4;
    case PHX_TK_LONGLONG:
    case PHX_TK_ULONGLONG:
    case PHX_TK_DOUBLE:
        return 8;
    default:
        return 0;
    }
}

/* Element type and element count of a (possibly multi-dimensional)
 * array; NULL when malformed. */
static const phx_typecode_t *flatten(const phx_typecode_t *tc, size_t *count)
{
    size_t n = 1;

    for (int i = 0; i <= PHX_VALUE_MAX_DEPTH; i++) {
        tc = phx_typecode_unalias(tc);
        if (tc == NULL)
            return NULL;
        if (tc->kind != PHX_TK_ARRAY) {
            *count = n;
            return tc;
        }
        if (tc->length == 0 ||
            __builtin_mul_overflow(n, (size_t)tc->length, &n))
            return NULL;
        tc = tc->content;
    }
    return NULL;
}

/* Discriminator value stored at the start of a union, normalized. */
static int64_t read_disc(phx_tckind_t k, const uint8_t *v)
{
    int16_t s;
    uint16_t us;
    int32_t l;
    uint32_t ul;
    int64_t ll;
    uint8_t o;

    switch (k) {
    case PHX_TK_SHORT:
        memcpy(&s, v, 2);
        return s;
    case PHX_TK_USHORT:
        memcpy(&us, v, 2);
        return us;
    case PHX_TK_LONG:
        memcpy(&l, v, 4);
        return l;
    case PHX_TK_ULONG:
    case PHX_TK_ENUM:
        memcpy(&ul, v, 4);
        return ul;
    case PHX_TK_LONGLONG:
    case PHX_TK_ULONGLONG:
        memcpy(&ll, v, 8);
        return ll;
    case PHX_TK_CHAR:
    case PHX_TK_BOOLEAN:
        memcpy(&o, v, 1);
        return k == PHX_TK_BOOLEAN ? o != 0 : o;
    default:
        return 0;
    }
}

static void write_disc(phx_tckind_t k, uint8_t *v, int64_t d)
{
    int16_t s = (int16_t)d;
    int32_t l = (int32_t)d;
    uint8_t o = (uint8_t)d;

    switch (k) {
    case PHX_TK_SHORT:
    case PHX_TK_USHORT:
        memcpy(v, &s, 2);
        break;
    case PHX_TK_LONG:
    case PHX_TK_ULONG:
    case PHX_TK_ENUM:
        memcpy(v, &l, 4);
        break;
    case PHX_TK_LONGLONG:
    case PHX_TK_ULONGLONG:
        memcpy(v, &d, 8);
        break;
    default:
        memcpy(v, &o, 1);
        break;
    }
}

/* Discriminator TypeCode of a union, unaliased; NULL if unusable. */
static const phx_typecode_t *union_disc(const phx_typecode_t *tc)
{
    const phx_typecode_t *d = phx_typecode_unalias(tc->discriminator);

    if (d == NULL || !phx__tc_is_disc_kind(d->kind) ||
        (tc->member_count && tc->members == NULL))
        return NULL;
    return d;
}

/* ------------------------------------------------------------------ */
/* put                                                                  */
/* ------------------------------------------------------------------ */

static int put_v(phx_cdr_writer_t *w, const phx_typecode_t *tc,
                 const uint8_t *v, int depth);

static int put_elems(phx_cdr_writer_t *w, const phx_typecode_t *elem,
                     const uint8_t *buf, size_t n, int depth)
{
    const phx_typecode_t *e = phx_typecode_unalias(elem);
    size_t ps, es;

    if (e == NULL)
        return phx_cdr_writer_fail(w, PHX_EINVAL);
    if (n == 0)
        return w->err;
    ps = phx__tc_prim_size(e->kind);
    if (ps) {
        if (e->kind == PHX_TK_ENUM) {
            for (size_t i = 0; i < n; i++) {
                uint32_t x;
                memcpy(&x, buf + 4 * i, 4);
                if (x >= e->member_count)
                    return phx_cdr_writer_fail(w, PHX_EINVAL);
            }
        }
        return phx_cdr_put_array(w, buf, n, ps);
    }
    es = phx_typecode_c_size(elem);
    if (es == 0)
        return phx_cdr_writer_fail(w, PHX_EINVAL);
    for (size_t i = 0; i < n && w->err == 0; i++)
        put_v(w, elem, buf + i * es, depth + 1);
    return w->err;
}

static int put_union(phx_cdr_writer_t *w, const phx_typecode_t *tc,
                     const uint8_t *v, int depth)
{
    const phx_typecode_t *d = union_disc(tc);
    const phx_tc_member_t *m;
    int64_t dv;

    if (d == NULL)
        return phx_cdr_writer_fail(w, PHX_EINVAL);
    dv = read_disc(d->kind, v);
    if (d->kind == PHX_TK_ENUM && (uint64_t)dv >= d->member_count)
        return phx_cdr_writer_fail(w, PHX_EINVAL);
    if (phx__tc_put_label(w, d, dv))
        return w->err;
    m = phx__tc_branch(tc, d->kind, dv);
    if (m)
        put_v(w, m->type, v + m->offset, depth + 1);
    return w->err;
}

static int put_v(phx_cdr_writer_t *w, const phx_typecode_t *tc,
                 const uint8_t *v, int depth)
{
    if (w->err)
        return w->err;
    if (depth > PHX_VALUE_MAX_DEPTH)
        return phx_cdr_writer_fail(w, PHX_ELIMIT);
    if (tc == NULL || v == NULL)
        return phx_cdr_writer_fail(w, PHX_EINVAL);

    switch (tc->kind) {
    case PHX_TK_NULL:
    case PHX_TK_VOID:
        return 0;
    case PHX_TK_OCTET:
    case PHX_TK_CHAR:
    case PHX_TK_SHORT:
    case PHX_TK_USHORT:
    case PHX_TK_LONG:
    case PHX_TK_ULONG:
    case PHX_TK_FLOAT:
    case PHX_TK_LONGLONG:
    case PHX_TK_ULONGLONG:
    case PHX_TK_DOUBLE:
        return phx_cdr_put_array(w, v, 1, phx__tc_prim_size(tc->kind));
    case PHX_TK_BOOLEAN:
        return phx_cdr_put_octet(w, *v != 0);
    case PHX_TK_ENUM: {
        uint32_t e;
        memcpy(&e, v, 4);
        if (e >= tc->member_count)
            return phx_cdr_writer_fail(w, PHX_EINVAL);
        return phx_cdr_put_ulong(w, e);
    }
    case PHX_TK_STRING: {
        const char *s;
        size_t n;
        memcpy(&s, v, sizeof s);
        n = s ? strlen(s) : 0;
        if (tc->length && n > tc->length)
            return phx_cdr_writer_fail(w, PHX_EINVAL);
        return phx_cdr_put_string_n(w, s ? s : "", n);
    }
    case PHX_TK_SEQUENCE: {
        phx_sequence_t s;
        memcpy(&s, v, sizeof s);
        if ((tc->length && s._length > tc->length) ||
            (s._length && s._buffer == NULL))
            return phx_cdr_writer_fail(w, PHX_EINVAL);
        phx_cdr_put_ulong(w, s._length);
        return put_elems(w, tc->content, s._buffer, s._length, depth);
    }
    case PHX_TK_ARRAY: {
        size_t n;
        const phx_typecode_t *e = flatten(tc, &n);
        if (e == NULL)
            return phx_cdr_writer_fail(w, PHX_EINVAL);
        return put_elems(w, e, v, n, depth);
    }
    case PHX_TK_STRUCT:
    case PHX_TK_EXCEPT:
        if (tc->member_count && tc->members == NULL)
            return phx_cdr_writer_fail(w, PHX_EINVAL);
        for (uint32_t i = 0; i < tc->member_count && w->err == 0; i++)
            put_v(w, tc->members[i].type, v + tc->members[i].offset,
                  depth + 1);
        return w->err;
    case PHX_TK_UNION:
        return put_union(w, tc, v, depth);
    case PHX_TK_ALIAS:
        return put_v(w, tc->content, v, depth + 1);
    case PHX_TK_OBJREF: {
        void *ref;
        int rc;
        if (!have_hooks)
            return phx_cdr_writer_fail(w, PHX_EUNSUPPORTED);
        memcpy(&ref, v, sizeof ref);
        rc = objref_hooks.put(w, tc, ref, objref_hooks.arg);
        if (rc)
            return phx_cdr_writer_fail(w, rc < 0 ? rc : PHX_EINVAL);
        return w->err;
    }
    case PHX_TK_ANY: {
        phx_any_t a;
        const phx_typecode_t *t;
        memcpy(&a, v, sizeof a);
        if (phx__put_typecode(w, a._type, depth + 1))
            return w->err;
        t = phx_typecode_unalias(a._type);
        if (t == NULL || t->kind == PHX_TK_NULL || t->kind == PHX_TK_VOID)
            return w->err;
        if (a._value == NULL)
            return phx_cdr_writer_fail(w, PHX_EINVAL);
        return put_v(w, a._type, a._value, depth + 1);
    }
    case PHX_TK_TYPECODE: {
        const phx_typecode_t *t;
        memcpy(&t, v, sizeof t);
        return phx__put_typecode(w, t, depth + 1);
    }
    default:
        return phx_cdr_writer_fail(w, PHX_EUNSUPPORTED);
    }
}

int phx_cdr_put_value(phx_cdr_writer_t *w, const phx_typecode_t *tc,
                      const void *value)
{
    return put_v(w, tc, value, 0);
}

/* ------------------------------------------------------------------ */
/* free                                                                 */
/* ------------------------------------------------------------------ */

static void free_v(const phx_typecode_t *tc, uint8_t *v, int depth);

static void free_elems(const phx_typecode_t *elem, uint8_t *buf, size_t n,
                       int depth)
{
    const phx_typecode_t *e = phx_typecode_unalias(elem);
    size_t es;

    if (e == NULL || phx__tc_prim_size(e->kind))
        return;
    es = phx_typecode_c_size(elem);
    for (size_t i = 0; es && i < n; i++)
        free_v(elem, buf + i * es, depth + 1);
}

static void free_v(const phx_typecode_t *tc, uint8_t *v, int depth)
{
    if (tc == NULL || v == NULL || depth > PHX_VALUE_MAX_DEPTH + 1)
        return;
    switch (tc->kind) {
    case PHX_TK_STRING: {
        char *s;
        memcpy(&s, v, sizeof s);
        free(s);
        break;
    }
    case PHX_TK_SEQUENCE: {
        phx_sequence_t s;
        memcpy(&s, v, sizeof s);
        if (s._release && s._buffer) {
            free_elems(tc->content, s._buffer, s._length, depth);
            free(s._buffer);
        }
        break;
    }
    case PHX_TK_ARRAY: {
        size_t n;
        const phx_typecode_t *e = flatten(tc, &n);
        if (e)
            free_elems(e, v, n, depth);
        break;
    }
    case PHX_TK_STRUCT:
    case PHX_TK_EXCEPT:
        for (uint32_t i = 0; tc->members && i < tc->member_count; i++)
            free_v(tc->members[i].type, v + tc->members[i].offset,
                   depth + 1);
        break;
    case PHX_TK_UNION: {
        const phx_typecode_t *d = union_disc(tc);
        const phx_tc_member_t *m =
            d ? phx__tc_branch(tc, d->kind, read_disc(d->kind, v)) : NULL;
        if (m)
            free_v(m->type, v + m->offset, depth + 1);
        break;
    }
    case PHX_TK_ALIAS:
        free_v(tc->content, v, depth + 1);
        break;
    case PHX_TK_OBJREF: {
        void *ref;
        memcpy(&ref, v, sizeof ref);
        if (ref && objref_hooks.release)
            objref_hooks.release(ref, objref_hooks.arg);
        break;
    }
    case PHX_TK_ANY: {
        phx_any_t a;
        memcpy(&a, v, sizeof a);
        if (a._release) {
            if (a._value) {
                free_v(a._type, a._value, depth + 1);
                free(a._value);
            }
            phx_typecode_free(a._type);
        }
        break;
    }
    case PHX_TK_TYPECODE: {
        const phx_typecode_t *t;
        memcpy(&t, v, sizeof t);
        phx_typecode_free(t);
        break;
    }
    default:
        break;
    }
}

void phx_value_free(const phx_typecode_t *tc, void *value)
{
    size_t size = phx_typecode_c_size(tc);

    if (value == NULL)
        return;
    free_v(tc, value, 0);
    if (size)
        memset(value, 0, size);
}

/* ------------------------------------------------------------------ */
/* get                                                                  */
/* ------------------------------------------------------------------ */

static int get_v(phx_cdr_reader_t *r, const phx_typecode_t *tc, uint8_t *v,
                 int depth);

static int get_elems(phx_cdr_reader_t *r, const phx_typecode_t *elem,
                     uint8_t *buf, size_t n, int depth)
{
    const phx_typecode_t *e = phx_typecode_unalias(elem);
    size_t ps, es;

    if (e == NULL)
        return phx_cdr_reader_fail(r, PHX_EINVAL, "bad element type");
    if (n == 0)
        return r->err;
    ps = phx__tc_prim_size(e->kind);
    if (ps) {
        if (phx_cdr_get_array(r, buf, n, ps))
            return r->err;
        if (e->kind == PHX_TK_BOOLEAN) {
            for (size_t i = 0; i < n; i++)
                if (buf[i] > 1)
                    return phx_cdr_reader_fail(r, PHX_EMARSHAL,
                                               "boolean not 0 or 1");
        } else if (e->kind == PHX_TK_ENUM) {
            for (size_t i = 0; i < n; i++) {
                uint32_t x;
                memcpy(&x, buf + 4 * i, 4);
                if (x >= e->member_count)
                    return phx_cdr_reader_fail(r, PHX_EMARSHAL,
                                               "enum out of range");
            }
        }
        return 0;
    }
    es = phx_typecode_c_size(elem);
    if (es == 0)
        return phx_cdr_reader_fail(r, PHX_EINVAL, "element size unknown");
    for (size_t i = 0; i < n && r->err == 0; i++)
        get_v(r, elem, buf + i * es, depth + 1);
    return r->err;
}

static int get_seq(phx_cdr_reader_t *r, const phx_typecode_t *tc,
                   uint8_t *v, int depth)
{
    size_t es = phx_typecode_c_size(tc->content), min;
    phx_sequence_t s = {0, 0, NULL, false};
    uint32_t n;

    if (es == 0)
        return phx_cdr_reader_fail(r, PHX_EINVAL, "element size unknown");
    if (phx_cdr_get_seq_len(r, 1, &n))
        return r->err;
    if (tc->length && n > tc->length)
        return phx_cdr_reader_fail(r, PHX_EMARSHAL,
                                   "sequence exceeds its bound");
    if (n == 0)
        return 0;
    /* Only now, so that empty sequences cost nothing: walking the element
     * type costs no more than decoding one element. */
    min = phx__tc_min_wire_size(tc->content);
    if (min > 1 && n > phx_cdr_reader_remaining(r) / min)
        return phx_cdr_reader_fail(r, PHX_EMARSHAL,
                                   "sequence longer than the data");
    if (n > r->max_len / es)
        return phx_cdr_reader_fail(r, PHX_ELIMIT,
                                   "sequence larger than the reader's limit");
    s._buffer = calloc(n, es);
    if (s._buffer == NULL)
        return phx_cdr_reader_fail(r, PHX_ENOMEM, "sequence buffer");
    s._maximum = s._length = n;
    s._release = true;
    memcpy(v, &s, sizeof s);
    return get_elems(r, tc->content, s._buffer, n, depth);
}

static int get_any(phx_cdr_reader_t *r, uint8_t *v, int depth)
{
    phx_any_t a = {NULL, NULL, true};
    const phx_typecode_t *t;
    size_t size;

    if (phx__get_typecode(r, &a._type, depth + 1))
        return r->err;
    memcpy(v, &a, sizeof a);
    t = phx_typecode_unalias(a._type);
    if (t == NULL)
        return phx_cdr_reader_fail(r, PHX_EMARSHAL, "bad any type");
    if (t->kind == PHX_TK_NULL || t->kind == PHX_TK_VOID)
        return 0;
    size = phx_typecode_c_size(a._type);
    if (size == 0)
        return phx_cdr_reader_fail(r, PHX_EUNSUPPORTED, "any type");
    if (phx__tc_min_wire_size(a._type) > phx_cdr_reader_remaining(r))
        return phx_cdr_reader_fail(r, PHX_EMARSHAL, "any value truncated");
    a._value = calloc(1, size);
    if (a._value == NULL)
        return phx_cdr_reader_fail(r, PHX_ENOMEM, "any value");
    memcpy(v, &a, sizeof a);
    return get_v(r, a._type, a._value, depth + 1);
}

static int get_union(phx_cdr_reader_t *r, const phx_typecode_t *tc,
                     uint8_t *v, int depth)
{
    const phx_typecode_t *d = union_disc(tc);
    const phx_tc_member_t *m;
    int64_t dv;

    if (d == NULL)
        return phx_cdr_reader_fail(r, PHX_EINVAL, "bad union TypeCode");
    if (phx__tc_get_label(r, d, &dv))
        return r->err;
    write_disc(d->kind, v, dv);
    m = phx__tc_branch(tc, d->kind, dv);
    if (m)
        get_v(r, m->type, v + m->offset, depth + 1);
    return r->err;
}

static int get_v(phx_cdr_reader_t *r, const phx_typecode_t *tc, uint8_t *v,
                 int depth)
{
    if (r->err)
        return r->err;
    if (depth > PHX_VALUE_MAX_DEPTH)
        return phx_cdr_reader_fail(r, PHX_ELIMIT, "value nested too deep");
    if (tc == NULL)
        return phx_cdr_reader_fail(r, PHX_EINVAL, "NULL TypeCode");

    switch (tc->kind) {
    case PHX_TK_NULL:
    case PHX_TK_VOID:
        return 0;
    case PHX_TK_OCTET:
    case PHX_TK_CHAR:
    case PHX_TK_SHORT:
    case PHX_TK_USHORT:
    case PHX_TK_LONG:
    case PHX_TK_ULONG:
    case PHX_TK_FLOAT:
    case PHX_TK_LONGLONG:
    case PHX_TK_ULONGLONG:
    case PHX_TK_DOUBLE:
        return phx_cdr_get_array(r, v, 1, phx__tc_prim_size(tc->kind));
    case PHX_TK_BOOLEAN: {
        bool b;
        phx_cdr_get_boolean(r, &b);
        memcpy(v, &b, sizeof b);
        return r->err;
    }
    case PHX_TK_ENUM: {
        uint32_t e;
        if (phx_cdr_get_ulong(r, &e))
            return r->err;
        if (e >= tc->member_count)
            return phx_cdr_reader_fail(r, PHX_EMARSHAL, "enum out of range");
        memcpy(v, &e, 4);
        return 0;
    }
    case PHX_TK_STRING: {
        const char *p;
        char *s;
        size_t n;
        if (phx_cdr_get_string(r, &p, &n))
            return r->err;
        if (tc->length && n > tc->length)
            return phx_cdr_reader_fail(r, PHX_EMARSHAL,
                                       "string exceeds its bound");
        s = malloc(n + 1);
        if (s == NULL)
            return phx_cdr_reader_fail(r, PHX_ENOMEM, "string");
        memcpy(s, p, n + 1);
        memcpy(v, &s, sizeof s);
        return 0;
    }
    case PHX_TK_SEQUENCE:
        return get_seq(r, tc, v, depth);
    case PHX_TK_ARRAY: {
        size_t n;
        const phx_typecode_t *e = flatten(tc, &n);
        if (e == NULL)
            return phx_cdr_reader_fail(r, PHX_EINVAL, "bad array TypeCode");
        return get_elems(r, e, v, n, depth);
    }
    case PHX_TK_STRUCT:
    case PHX_TK_EXCEPT:
        if (tc->member_count && tc->members == NULL)
            return phx_cdr_reader_fail(r, PHX_EINVAL, "bad struct TypeCode");
        for (uint32_t i = 0; i < tc->member_count && r->err == 0; i++)
            get_v(r, tc->members[i].type, v + tc->members[i].offset,
                  depth + 1);
        return r->err;
    case PHX_TK_UNION:
        return get_union(r, tc, v, depth);
    case PHX_TK_ALIAS:
        return get_v(r, tc->content, v, depth + 1);
    case PHX_TK_OBJREF: {
        void *ref = NULL;
        int rc;
        if (!have_hooks)
            return phx_cdr_reader_fail(r, PHX_EUNSUPPORTED,
                                       "object reference");
        rc = objref_hooks.get(r, tc, &ref, objref_hooks.arg);
        memcpy(v, &ref, sizeof ref);
        if (rc)
            return phx_cdr_reader_fail(r, rc < 0 ? rc : PHX_EMARSHAL,
                                       "object reference");
        return r->err;
    }
    case PHX_TK_ANY:
        return get_any(r, v, depth);
    case PHX_TK_TYPECODE: {
        const phx_typecode_t *t;
        phx__get_typecode(r, &t, depth + 1);
        memcpy(v, &t, sizeof t);
        return r->err;
    }
    default:
        return phx_cdr_reader_fail(r, PHX_EUNSUPPORTED, "TypeCode kind");
    }
}

int phx_cdr_get_value(phx_cdr_reader_t *r, const phx_typecode_t *tc,
                      void *value)
{
    size_t size = phx_typecode_c_size(tc);
    const phx_typecode_t *t = phx_typecode_unalias(tc);

    if (t && (t->kind == PHX_TK_NULL || t->kind == PHX_TK_VOID))
        return r->err;
    if (size == 0 || value == NULL)
        return phx_cdr_reader_fail(r, PHX_EINVAL, "value storage unknown");
    memset(value, 0, size);
    if (get_v(r, tc, value, 0)) {
        free_v(tc, value, 0);
        memset(value, 0, size);
    }
    return r->err;
}

/* ------------------------------------------------------------------ */
/* copy                                                                 */
/* ------------------------------------------------------------------ */

static int copy_v(const phx_typecode_t *tc, uint8_t *d, const uint8_t *s,
                  int depth);

static int copy_elems(const phx_typecode_t *elem, uint8_t *d,
                      const uint8_t *s, size_t n, int depth)
{
    const phx_typecode_t *e = phx_typecode_unalias(elem);
    size_t es = phx_typecode_c_size(elem);
    int rc = 0;

    if (e == NULL || es == 0)
        return PHX_EINVAL;
    if (phx__tc_prim_size(e->kind)) {
        if (n)
            memcpy(d, s, n * es);
        return 0;
    }
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = copy_v(elem, d + i * es, s + i * es, depth + 1);
    return rc;
}

static int copy_v(const phx_typecode_t *tc, uint8_t *d, const uint8_t *s,
                  int depth)
{
    size_t size;

    if (depth > PHX_VALUE_MAX_DEPTH)
        return PHX_ELIMIT;
    if (tc == NULL)
        return PHX_EINVAL;
    switch (tc->kind) {
    case PHX_TK_NULL:
    case PHX_TK_VOID:
        return 0;
    case PHX_TK_STRING: {
        const char *src;
        char *dup = NULL;
        memcpy(&src, s, sizeof src);
        if (src && (dup = strdup(src)) == NULL)
            return PHX_ENOMEM;
        memcpy(d, &dup, sizeof dup);
        return 0;
    }
    case PHX_TK_SEQUENCE: {
        phx_sequence_t src, dst = {0, 0, NULL, false};
        size_t es = phx_typecode_c_size(tc->content);
        memcpy(&src, s, sizeof src);
        if (src._length == 0)
            return 0;
        if (src._buffer == NULL || es == 0)
            return PHX_EINVAL;
        dst._buffer = calloc(src._length, es);
        if (dst._buffer == NULL)
            return PHX_ENOMEM;
        dst._maximum = dst._length = src._length;
        dst._release = true;
        memcpy(d, &dst, sizeof dst);
        return copy_elems(tc->content, dst._buffer, src._buffer,
                          src._length, depth);
    }
    case PHX_TK_ARRAY: {
        size_t n;
        const phx_typecode_t *e = flatten(tc, &n);
        return e ? copy_elems(e, d, s, n, depth) : PHX_EINVAL;
    }
    case PHX_TK_STRUCT:
    case PHX_TK_EXCEPT:
        if (tc->member_count && tc->members == NULL)
            return PHX_EINVAL;
        for (uint32_t i = 0; i < tc->member_count; i++) {
            size_t off = tc->members[i].offset;
            int rc = copy_v(tc->members[i].type, d + off, s + off, depth + 1);
            if (rc)
                return rc;
        }
        return 0;
    case PHX_TK_UNION: {
        const phx_typecode_t *dt = union_disc(tc);
        const phx_tc_member_t *m;
        int64_t dv;
        if (dt == NULL)
            return PHX_EINVAL;
        dv = read_disc(dt->kind, s);
        write_disc(dt->kind, d, dv);
        m = phx__tc_branch(tc, dt->kind, dv);
        return m ? copy_v(m->type, d + m->offset, s + m->offset, depth + 1)
                 : 0;
    }
    case PHX_TK_ALIAS:
        return copy_v(tc->content, d, s, depth + 1);
    case PHX_TK_OBJREF: {
        void *ref, *out = NULL;
        memcpy(&ref, s, sizeof ref);
        if (ref) {
            int rc;
            if (objref_hooks.copy == NULL)
                return PHX_EUNSUPPORTED;
            rc = objref_hooks.copy(ref, &out, objref_hooks.arg);
            if (rc)
                return rc;
        }
        memcpy(d, &out, sizeof out);
        return 0;
    }
    case PHX_TK_ANY: {
        phx_any_t src, dst = {NULL, NULL, true};
        const phx_typecode_t *t;
        memcpy(&src, s, sizeof src);
        dst._type = phx_typecode_ref(src._type);
        memcpy(d, &dst, sizeof dst);
        t = phx_typecode_unalias(src._type);
        if (t == NULL || t->kind == PHX_TK_NULL || t->kind == PHX_TK_VOID ||
            src._value == NULL)
            return 0;
        size = phx_typecode_c_size(src._type);
        if (size == 0)
            return PHX_EINVAL;
        dst._value = calloc(1, size);
        if (dst._value == NULL)
            return PHX_ENOMEM;
        memcpy(d, &dst, sizeof dst);
        return copy_v(src._type, dst._value, src._value, depth + 1);
    }
    case PHX_TK_TYPECODE: {
        const phx_typecode_t *t;
        memcpy(&t, s, sizeof t);
        t = phx_typecode_ref(t);
        memcpy(d, &t, sizeof t);
        return 0;
    }
    default:
        size = phx__tc_prim_size(tc->kind);
        if (size == 0)
            return PHX_EUNSUPPORTED;
        memcpy(d, s, size);
        return 0;
    }
}

int phx_value_copy(const phx_typecode_t *tc, void *dst, const void *src)
{
    size_t size = phx_typecode_c_size(tc);
    int rc;

    if (size == 0 || dst == NULL || src == NULL)
        return PHX_EINVAL;
    memset(dst, 0, size);
    rc = copy_v(tc, dst, src, 0);
    if (rc) {
        free_v(tc, dst, 0);
        memset(dst, 0, size);
    }
    return rc;
}

/* ------------------------------------------------------------------ */
/* equal                                                                */
/* ------------------------------------------------------------------ */

static bool equal_v(const phx_typecode_t *tc, const uint8_t *a,
                    const uint8_t *b, int depth);

static bool equal_elems(const phx_typecode_t *elem, const uint8_t *a,
                        const uint8_t *b, size_t n, int depth)
{
    const phx_typecode_t *e = phx_typecode_unalias(elem);
    size_t es = phx_typecode_c_size(elem);

    if (e == NULL || es == 0)
        return false;
    if (phx__tc_prim_size(e->kind))
        return n == 0 || memcmp(a, b, n * es) == 0;
    for (size_t i = 0; i < n; i++)
        if (!equal_v(elem, a + i * es, b + i * es, depth + 1))
            return false;
    return true;
}

static bool equal_v(const phx_typecode_t *tc, const uint8_t *a,
                    const uint8_t *b, int depth)
{
    if (tc == NULL || depth > PHX_VALUE_MAX_DEPTH)
        return false;
    switch (tc->kind) {
    case PHX_TK_NULL:
    case PHX_TK_VOID:
        return true;
    case PHX_TK_BOOLEAN:
        return (*a != 0) == (*b != 0);
    case PHX_TK_STRING: {
        const char *x, *y;
        memcpy(&x, a, sizeof x);
        memcpy(&y, b, sizeof y);
        return strcmp(x ? x : "", y ? y : "") == 0;
    }
    case PHX_TK_SEQUENCE: {
        phx_sequence_t x, y;
        memcpy(&x, a, sizeof x);
        memcpy(&y, b, sizeof y);
        if (x._length != y._length)
            return false;
        if (x._length == 0)
            return true;
        if (x._buffer == NULL || y._buffer == NULL)
            return false;
        return equal_elems(tc->content, x._buffer, y._buffer, x._length,
                           depth);
    }
    case PHX_TK_ARRAY: {
        size_t n;
        const phx_typecode_t *e = flatten(tc, &n);
        return e && equal_elems(e, a, b, n, depth);
    }
    case PHX_TK_STRUCT:
    case PHX_TK_EXCEPT:
        if (tc->member_count && tc->members == NULL)
            return false;
        for (uint32_t i = 0; i < tc->member_count; i++) {
            size_t off = tc->members[i].offset;
            if (!equal_v(tc->members[i].type, a + off, b + off, depth + 1))
                return false;
        }
        return true;
    case PHX_TK_UNION: {
        const phx_typecode_t *d = union_disc(tc);
        const phx_tc_member_t *m;
        int64_t dv;
        if (d == NULL)
            return false;
        dv = read_disc(d->kind, a);
        if (dv != read_disc(d->kind, b))
            return false;
        m = phx__tc_branch(tc, d->kind, dv);
        return m == NULL || equal_v(m->type, a + m->offset, b + m->offset,
                                    depth + 1);
    }
    case PHX_TK_ALIAS:
        return equal_v(tc->content, a, b, depth + 1);
    case PHX_TK_OBJREF: {
        void *x, *y;
        memcpy(&x, a, sizeof x);
        memcpy(&y, b, sizeof y);
        if (objref_hooks.equal && x && y)
            return objref_hooks.equal(x, y, objref_hooks.arg);
        return x == y;
    }
    case PHX_TK_ANY: {
        phx_any_t x, y;
        const phx_typecode_t *t;
        memcpy(&x, a, sizeof x);
        memcpy(&y, b, sizeof y);
        if (!phx_typecode_equal(x._type, y._type))
            return false;
        t = phx_typecode_unalias(x._type);
        if (t == NULL || t->kind == PHX_TK_NULL || t->kind == PHX_TK_VOID)
            return true;
        if (x._value == NULL || y._value == NULL)
            return x._value == y._value;
        return equal_v(x._type, x._value, y._value, depth + 1);
    }
    case PHX_TK_TYPECODE: {
        const phx_typecode_t *x, *y;
        memcpy(&x, a, sizeof x);
        memcpy(&y, b, sizeof y);
        return phx_typecode_equal(x, y);
    }
    default: {
        size_t n = phx__tc_prim_size(tc->kind);
        return n && memcmp(a, b, n) == 0;
    }
    }
}

bool phx_value_equal(const phx_typecode_t *tc, const void *a, const void *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    return equal_v(tc, a, b, 0);
}
