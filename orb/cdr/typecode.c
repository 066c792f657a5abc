/*
 * typecode.c - TypeCode constants, run-time construction, C layout,
 * comparison and the CDR encoding of TypeCodes (CORBA 3.0 15.3.5.1).
 */
#include <stdlib.h>
#include <string.h>

#include <phx/typecode.h>

/* ------------------------------------------------------------------ */
/* Constants                                                            */
/* ------------------------------------------------------------------ */

#define PHX__TC_BASIC(nm, k, T)                                             \
    const phx_typecode_t phx_tc_##nm = {                                    \
        .kind = k, .c_size = sizeof(T), .c_align = _Alignof(T)}

const phx_typecode_t phx_tc_null = {.kind = PHX_TK_NULL};
const phx_typecode_t phx_tc_void = {.kind = PHX_TK_VOID};
PHX__TC_BASIC(short, PHX_TK_SHORT, int16_t);
PHX__TC_BASIC(long, PHX_TK_LONG, int32_t);
PHX__TC_BASIC(ushort, PHX_TK_USHORT, uint16_t);
PHX__TC_BASIC(ulong, PHX_TK_ULONG, uint32_t);
PHX__TC_BASIC(float, PHX_TK_FLOAT, float);
PHX__TC_BASIC(double, PHX_TK_DOUBLE, double);
PHX__TC_BASIC(boolean, PHX_TK_BOOLEAN, bool);
PHX__TC_BASIC(char, PHX_TK_CHAR, char);
PHX__TC_BASIC(octet, PHX_TK_OCTET, uint8_t);
PHX__TC_BASIC(any, PHX_TK_ANY, phx_any_t);
PHX__TC_BASIC(TypeCode, PHX_TK_TYPECODE, const phx_typecode_t *);
const phx_typecode_t phx_tc_Principal = {.kind = PHX_TK_PRINCIPAL};
PHX__TC_BASIC(longlong, PHX_TK_LONGLONG, int64_t);
PHX__TC_BASIC(ulonglong, PHX_TK_ULONGLONG, uint64_t);
PHX__TC_BASIC(longdouble, PHX_TK_LONGDOUBLE, long double);
PHX__TC_BASIC(wchar, PHX_TK_WCHAR, uint16_t);
PHX__TC_BASIC(string, PHX_TK_STRING, char *);
const phx_typecode_t phx_tc_Object = {
    .kind = PHX_TK_OBJREF,
    .repo_id = "IDL:omg.org/CORBA/Object:1.0",
    .name = "Object",
    .c_size = sizeof(void *),
    .c_align = _Alignof(void *)};

const phx_typecode_t *phx_tc_basic(phx_tckind_t kind)
{
    static const phx_typecode_t *const basic[] = {
        [PHX_TK_NULL] = &phx_tc_null,
        [PHX_TK_VOID] = &phx_tc_void,
        [PHX_TK_SHORT] = &phx_tc_short,
        [PHX_TK_LONG] = &phx_tc_long,
        [PHX_TK_USHORT] = &phx_tc_ushort,
        [PHX_TK_ULONG] = &phx_tc_ulong,
        [PHX_TK_FLOAT] = &phx_tc_float,
        [PHX_TK_DOUBLE] = &phx_tc_double,
        [PHX_TK_BOOLEAN] = &phx_tc_boolean,
        [PHX_TK_CHAR] = &phx_tc_char,
        [PHX_TK_OCTET] = &phx_tc_octet,
        [PHX_TK_ANY] = &phx_tc_any,
        [PHX_TK_TYPECODE] = &phx_tc_TypeCode,
        [PHX_TK_PRINCIPAL] = &phx_tc_Principal,
        [PHX_TK_LONGLONG] = &phx_tc_longlong,
        [PHX_TK_ULONGLONG] = &phx_tc_ulonglong,
        [PHX_TK_LONGDOUBLE] = &phx_tc_longdouble,
        [PHX_TK_WCHAR] = &phx_tc_wchar,
    };
    if ((unsigned)kind < sizeof basic / sizeof basic[0])
        return basic[kind];
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Sizes                                                                */
/* ------------------------------------------------------------------ */

const phx_typecode_t *phx_typecode_unalias(const phx_typecode_t *tc)
{
    for (int i = 0; tc && i <= PHX_VALUE_MAX_DEPTH; i++) {
        if (tc->kind != PHX_TK_ALIAS)
            return tc;
        tc = tc->content;
    }
    return NULL;
}

/* Size and alignment the C mapping gives a kind on its own; 0 when the
 * TypeCode must say (struct, union, except) or the kind has no value. */
static size_t kind_size(phx_tckind_t k, bool align)
{
    switch (k) {
    case PHX_TK_SHORT:
    case PHX_TK_USHORT:
        return 2;
    case PHX_TK_LONG:
    case PHX_TK_ULONG:
    case PHX_TK_ENUM:
        return 4;
    case PHX_TK_FLOAT:
        return align ? _Alignof(float) : sizeof(float);
    case PHX_TK_DOUBLE:
        return align ? _Alignof(double) : sizeof(double);
    case PHX_TK_LONGLONG:
    case PHX_TK_ULONGLONG:
        return align ? _Alignof(int64_t) : sizeof(int64_t);
    case PHX_TK_BOOLEAN:
        return sizeof(bool);
    case PHX_TK_CHAR:
    case PHX_TK_OCTET:
        return 1;
    case PHX_TK_STRING:
    case PHX_TK_OBJREF:
    case PHX_TK_TYPECODE:
        return align ? _Alignof(void *) : sizeof(void *);
    case PHX_TK_SEQUENCE:
        return align ? _Alignof(phx_sequence_t) : sizeof(phx_sequence_t);
    case PHX_TK_ANY:
        return align ? _Alignof(phx_any_t) : sizeof(phx_any_t);
    default:
        return 0;
    }
}

size_t phx_typecode_c_size(const phx_typecode_t *tc)
{
    size_t mult = 1, s;

    for (int i = 0; tc && i <= PHX_VALUE_MAX_DEPTH; i++) {
        if (tc->c_size)
            return __builtin_mul_overflow(mult, tc->c_size, &s) ? 0 : s;
        switch (tc->kind) {
        case PHX_TK_ALIAS:
            tc = tc->content;
            break;
        case PHX_TK_ARRAY:
            if (tc->length == 0 ||
                __builtin_mul_overflow(mult, (size_t)tc->length, &mult))
                return 0;
            tc = tc->content;
            break;
        default:
            s = kind_size(tc->kind, false);
            return __builtin_mul_overflow(mult, s, &s) ? 0 : s;
        }
    }
    return 0;
}

size_t phx_typecode_c_align(const phx_typecode_t *tc)
{
    for (int i = 0; tc && i <= PHX_VALUE_MAX_DEPTH; i++) {
        if (tc->c_align)
            return tc->c_align;
        if (tc->kind != PHX_TK_ALIAS && tc->kind != PHX_TK_ARRAY)
            return kind_size(tc->kind, true);
        tc = tc->content;
    }
    return 0;
}

static size_t add_sat(size_t a, size_t b)
{
    size_t r;
    return __builtin_add_overflow(a, b, &r) ? SIZE_MAX : r;
}

static size_t min_wire(const phx_typecode_t *tc, int depth)
{
    size_t sum, r;

    if (tc == NULL || depth > PHX_VALUE_MAX_DEPTH)
        return 0;
    switch (tc->kind) {
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
    case PHX_TK_SEQUENCE:
    case PHX_TK_ANY:
    case PHX_TK_TYPECODE:
    case PHX_TK_OBJREF:
        return 4;
    case PHX_TK_LONGLONG:
    case PHX_TK_ULONGLONG:
    case PHX_TK_DOUBLE:
        return 8;
    case PHX_TK_LONGDOUBLE:
        return 16;
    case PHX_TK_WCHAR:
        return 1;
    case PHX_TK_WSTRING:
        return 4;
    case PHX_TK_STRING:
        return 5;
    case PHX_TK_STRUCT:
    case PHX_TK_EXCEPT:
        sum = 0;
        for (uint32_t i = 0; i < tc->member_count; i++)
            sum = add_sat(sum, min_wire(tc->members[i].type, depth + 1));
        return sum;
    case PHX_TK_UNION:
        return min_wire(tc->discriminator, depth + 1);
    case PHX_TK_ARRAY:
        return __builtin_mul_overflow((size_t)tc->length,
                                      min_wire(tc->content, depth + 1), &r)
                   ? SIZE_MAX
                   : r;
    case PHX_TK_ALIAS:
        return min_wire(tc->content, depth + 1);
    default:
        return 0;
    }
}

size_t phx__tc_min_wire_size(const phx_typecode_t *tc)
{
    return min_wire(tc, 0);
}

/* ------------------------------------------------------------------ */
/* Union labels                                                         */
/* ------------------------------------------------------------------ */

bool phx__tc_is_disc_kind(phx_tckind_t kind)
{
    switch (kind) {
    case PHX_TK_SHORT:
    case PHX_TK_LONG:
    case PHX_TK_USHORT:
    case PHX_TK_ULONG:
    case PHX_TK_LONGLONG:
    case PHX_TK_ULONGLONG:
    case PHX_TK_CHAR:
    case PHX_TK_BOOLEAN:
    case PHX_TK_ENUM:
        return true;
    default:
        return false;
    }
}

int64_t phx__tc_norm_label(phx_tckind_t k, int64_t v)
{
    switch (k) {
    case PHX_TK_SHORT:
        return (int16_t)v;
    case PHX_TK_USHORT:
        return (uint16_t)v;
    case PHX_TK_LONG:
        return (int32_t)v;
    case PHX_TK_ULONG:
    case PHX_TK_ENUM:
        return (uint32_t)v;
    case PHX_TK_CHAR:
        return (uint8_t)v;
    case PHX_TK_BOOLEAN:
        return v != 0;
    default:
        return v;
    }
}

int phx__tc_put_label(phx_cdr_writer_t *w, const phx_typecode_t *disc,
                      int64_t v)
{
    const phx_typecode_t *d = phx_typecode_unalias(disc);

    switch (d ? d->kind : PHX_TK_NULL) {
    case PHX_TK_SHORT:
        return phx_cdr_put_short(w, (int16_t)v);
    case PHX_TK_USHORT:
        return phx_cdr_put_ushort(w, (uint16_t)v);
    case PHX_TK_LONG:
        return phx_cdr_put_long(w, (int32_t)v);
    case PHX_TK_ULONG:
    case PHX_TK_ENUM:
        return phx_cdr_put_ulong(w, (uint32_t)v);
    case PHX_TK_LONGLONG:
    case PHX_TK_ULONGLONG:
        return phx_cdr_put_ulonglong(w, (uint64_t)v);
    case PHX_TK_CHAR:
        return phx_cdr_put_octet(w, (uint8_t)v);
    case PHX_TK_BOOLEAN:
        return phx_cdr_put_boolean(w, v != 0);
    default:
        return phx_cdr_writer_fail(w, PHX_EINVAL);
    }
}

int phx__tc_get_label(phx_cdr_reader_t *r, const phx_typecode_t *disc,
                      int64_t *v)
{
    const phx_typecode_t *d = phx_typecode_unalias(disc);
    int16_t s;
    uint16_t us;
    int32_t l;
    uint32_t ul;
    uint64_t ull;
    uint8_t o;
    bool b;

    *v = 0;
    switch (d ? d->kind : PHX_TK_NULL) {
    case PHX_TK_SHORT:
        phx_cdr_get_short(r, &s);
        *v = s;
        break;
    case PHX_TK_USHORT:
        phx_cdr_get_ushort(r, &us);
        *v = us;
        break;
    case PHX_TK_LONG:
        phx_cdr_get_long(r, &l);
        *v = l;
        break;
    case PHX_TK_ULONG:
        phx_cdr_get_ulong(r, &ul);
        *v = ul;
        break;
    case PHX_TK_ENUM:
        phx_cdr_get_ulong(r, &ul);
        *v = ul;
        if (r->err == 0 && ul >= d->member_count)
            phx_cdr_reader_fail(r, PHX_EMARSHAL, "enum out of range");
        break;
    case PHX_TK_LONGLONG:
    case PHX_TK_ULONGLONG:
        phx_cdr_get_ulonglong(r, &ull);
        *v = (int64_t)ull;
        break;
    case PHX_TK_CHAR:
        phx_cdr_get_octet(r, &o);
        *v = o;
        break;
    case PHX_TK_BOOLEAN:
        phx_cdr_get_boolean(r, &b);
        *v = b;
        break;
    default:
        phx_cdr_reader_fail(r, PHX_EINVAL, "bad discriminator type");
        break;
    }
    if (r->err)
        *v = 0;
    return r->err;
}

/* Sorted case labels of a heap union, so that selecting a branch costs
 * O(log n) however many members a TypeCode off the wire declares. */
struct phx__tc_index {
    uint32_t count;
    int64_t def; /* index of the default member, -1 for none */
    struct phx__tc_case {
        int64_t label;
        uint32_t member;
    } e[];
};

static int case_cmp(const void *a, const void *b)
{
    int64_t x = ((const struct phx__tc_case *)a)->label;
    int64_t y = ((const struct phx__tc_case *)b)->label;
    return (x > y) - (x < y);
}

const phx_tc_member_t *phx__tc_branch(const phx_typecode_t *tc,
                                      phx_tckind_t dk, int64_t d)
{
    const struct phx__tc_index *ix = tc->_index;
    const phx_tc_member_t *def = NULL;

    if (ix) {
        size_t lo = 0, hi = ix->count;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (ix->e[mid].label == d)
                return &tc->members[ix->e[mid].member];
            if (ix->e[mid].label < d)
                lo = mid + 1;
            else
                hi = mid;
        }
        return ix->def >= 0 ? &tc->members[ix->def] : NULL;
    }
    for (uint32_t i = 0; i < tc->member_count; i++) {
        const phx_tc_member_t *m = &tc->members[i];
        if (m->is_default)
            def = m;
        else if (phx__tc_norm_label(dk, m->label) == d)
            return m;
    }
    return def;
}

/* ------------------------------------------------------------------ */
/* Heap TypeCodes                                                       */
/* ------------------------------------------------------------------ */

static phx_typecode_t *tc_alloc(phx_tckind_t kind)
{
    phx_typecode_t *tc = calloc(1, sizeof *tc);
    if (tc) {
        tc->kind = kind;
        tc->_refs = 1;
    }
    return tc;
}

const phx_typecode_t *phx_typecode_ref(const phx_typecode_t *tc)
{
    if (tc && tc->_refs)
        __atomic_add_fetch(&((phx_typecode_t *)tc)->_refs, 1,
                           __ATOMIC_RELAXED);
    return tc;
}

void phx_typecode_free(const phx_typecode_t *ctc)
{
    phx_typecode_t *tc = (phx_typecode_t *)ctc;

    if (tc == NULL || tc->_refs == 0 ||
        __atomic_sub_fetch(&tc->_refs, 1, __ATOMIC_ACQ_REL) != 0)
        return;
    free((void *)tc->repo_id);
    free((void *)tc->name);
    if (tc->members) {
        for (uint32_t i = 0; i < tc->member_count; i++) {
            free((void *)tc->members[i].name);
            phx_typecode_free(tc->members[i].type);
        }
        free((void *)tc->members);
    }
    if (tc->enumerators) {
        for (uint32_t i = 0; i < tc->member_count; i++)
            free((void *)tc->enumerators[i]);
        free((void *)tc->enumerators);
    }
    phx_typecode_free(tc->content);
    phx_typecode_free(tc->discriminator);
    free((void *)tc->_index);
    free(tc);
}

static int set_ids(phx_typecode_t *tc, const char *id, const char *name)
{
    tc->repo_id = strdup(id ? id : "");
    tc->name = strdup(name ? name : "");
    return tc->repo_id && tc->name ? 0 : PHX_ENOMEM;
}

static size_t round_up(size_t v, size_t a, bool *ovf)
{
    size_t r;
    if (__builtin_add_overflow(v, a - 1, &r))
        *ovf = true;
    return r & ~(a - 1);
}

static bool pow2(size_t a)
{
    return a && (a & (a - 1)) == 0;
}

/* Sort the case labels of a heap union; duplicate labels are refused. */
static int build_index(phx_typecode_t *tc)
{
    const phx_typecode_t *d = phx_typecode_unalias(tc->discriminator);
    struct phx__tc_index *ix;
    uint32_t n = 0;

    for (uint32_t i = 0; i < tc->member_count; i++)
        n += !tc->members[i].is_default;
    ix = malloc(sizeof *ix + (size_t)n * sizeof ix->e[0]);
    if (ix == NULL)
        return PHX_ENOMEM;
    ix->count = 0;
    ix->def = -1;
    for (uint32_t i = 0; i < tc->member_count; i++) {
        if (tc->members[i].is_default) {
            ix->def = i;
            continue;
        }
        ix->e[ix->count].label =
            phx__tc_norm_label(d->kind, tc->members[i].label);
        ix->e[ix->count++].member = i;
    }
    qsort(ix->e, n, sizeof ix->e[0], case_cmp);
    tc->_index = ix;
    for (uint32_t i = 1; i < n; i++)
        if (ix->e[i].label == ix->e[i - 1].label)
            return PHX_EINVAL;
    return 0;
}

/* Compute member offsets, u_offset, c_size and c_align of a heap struct,
 * except, union or array with the usual C layout rules. */
static int tc_layout(phx_typecode_t *tc)
{
    phx_tc_member_t *m = (phx_tc_member_t *)tc->members;
    size_t off = 0, al = 1, s, a, bs = 0;
    bool ovf = false;

    switch (tc->kind) {
    case PHX_TK_STRUCT:
    case PHX_TK_EXCEPT:
        for (uint32_t i = 0; i < tc->member_count; i++) {
            s = phx_typecode_c_size(m[i].type);
            a = phx_typecode_c_align(m[i].type);
            if (s == 0 || !pow2(a))
                return PHX_EINVAL;
            off = round_up(off, a, &ovf);
            m[i].offset = off;
            ovf |= __builtin_add_overflow(off, s, &off);
            al = a > al ? a : al;
        }
        tc->c_size = off ? round_up(off, al, &ovf) : 1;
        tc->c_align = al;
        break;
    case PHX_TK_UNION: {
        size_t ds = phx_typecode_c_size(tc->discriminator);
        size_t da = phx_typecode_c_align(tc->discriminator);
        size_t ba = 1; /* body size bs, body alignment ba */
        if (ds == 0 || !pow2(da))
            return PHX_EINVAL;
        for (uint32_t i = 0; i < tc->member_count; i++) {
            s = phx_typecode_c_size(m[i].type);
            a = phx_typecode_c_align(m[i].type);
            if (s == 0 || !pow2(a))
                return PHX_EINVAL;
            bs = s > bs ? s : bs;
            ba = a > ba ? a : ba;
        }
        tc->u_offset = round_up(ds, ba, &ovf);
        for (uint32_t i = 0; i < tc->member_count; i++)
            m[i].offset = tc->u_offset;
        if (build_index(tc))
            return PHX_EINVAL;
        al = ba > da ? ba : da;
        ovf |= __builtin_add_overflow(tc->u_offset, bs, &s);
        tc->c_size = round_up(s, al, &ovf);
        tc->c_align = al;
        break;
    }
    case PHX_TK_ARRAY:
        tc->c_size = phx_typecode_c_size(tc);
        tc->c_align = phx_typecode_c_align(tc);
        if (tc->c_size == 0 || tc->c_align == 0)
            return PHX_EINVAL;
        break;
    default:
        break;
    }
    return ovf ? PHX_ELIMIT : 0;
}

static int tc_done(phx_typecode_t *tc, int rc, const phx_typecode_t **out)
{
    if (rc == 0)
        rc = tc_layout(tc);
    if (rc) {
        phx_typecode_free(tc);
        tc = NULL;
    }
    *out = tc;
    return rc;
}

int phx_tc_new_string(uint32_t bound, const phx_typecode_t **out)
{
    phx_typecode_t *tc = tc_alloc(PHX_TK_STRING);

    *out = tc;
    if (tc == NULL)
        return PHX_ENOMEM;
    tc->length = bound;
    return 0;
}

static int new_content(phx_tckind_t kind, const phx_typecode_t *elem,
                       uint32_t length, const phx_typecode_t **out)
{
    phx_typecode_t *tc;

    *out = NULL;
    if (elem == NULL || (kind == PHX_TK_ARRAY && length == 0))
        return PHX_EINVAL;
    tc = tc_alloc(kind);
    if (tc == NULL)
        return PHX_ENOMEM;
    tc->content = phx_typecode_ref(elem);
    tc->length = length;
    return tc_done(tc, 0, out);
}

int phx_tc_new_sequence(const phx_typecode_t *elem, uint32_t bound,
                        const phx_typecode_t **out)
{
    return new_content(PHX_TK_SEQUENCE, elem, bound, out);
}

int phx_tc_new_array(const phx_typecode_t *elem, uint32_t length,
                     const phx_typecode_t **out)
{
    return new_content(PHX_TK_ARRAY, elem, length, out);
}

int phx_tc_new_alias(const char *repo_id, const char *name,
                     const phx_typecode_t *orig, const phx_typecode_t **out)
{
    phx_typecode_t *tc;

    *out = NULL;
    if (orig == NULL)
        return PHX_EINVAL;
    tc = tc_alloc(PHX_TK_ALIAS);
    if (tc == NULL)
        return PHX_ENOMEM;
    tc->content = phx_typecode_ref(orig);
    return tc_done(tc, set_ids(tc, repo_id, name), out);
}

int phx_tc_new_objref(const char *repo_id, const char *name,
                      const phx_typecode_t **out)
{
    phx_typecode_t *tc = tc_alloc(PHX_TK_OBJREF);

    *out = NULL;
    if (tc == NULL)
        return PHX_ENOMEM;
    return tc_done(tc, set_ids(tc, repo_id, name), out);
}

int phx_tc_new_enum(const char *repo_id, const char *name,
                    const char *const *enumerators, uint32_t count,
                    const phx_typecode_t **out)
{
    phx_typecode_t *tc;
    char **e;
    int rc;

    *out = NULL;
    if (count == 0 || enumerators == NULL)
        return PHX_EINVAL;
    tc = tc_alloc(PHX_TK_ENUM);
    if (tc == NULL)
        return PHX_ENOMEM;
    rc = set_ids(tc, repo_id, name);
    e = calloc(count, sizeof *e);
    tc->enumerators = (const char *const *)e;
    if (e == NULL)
        return tc_done(tc, PHX_ENOMEM, out);
    tc->member_count = count;
    for (uint32_t i = 0; i < count && rc == 0; i++) {
        e[i] = strdup(enumerators[i] ? enumerators[i] : "");
        if (e[i] == NULL)
            rc = PHX_ENOMEM;
    }
    return tc_done(tc, rc, out);
}

/* Copy members (names duplicated, types referenced) into tc. */
static int set_members(phx_typecode_t *tc, const phx_tc_member_t *src,
                       uint32_t count)
{
    phx_tc_member_t *m;

    if (count == 0)
        return 0;
    if (src == NULL)
        return PHX_EINVAL;
    m = calloc(count, sizeof *m);
    if (m == NULL)
        return PHX_ENOMEM;
    tc->members = m;
    tc->member_count = count;
    for (uint32_t i = 0; i < count; i++) {
        if (src[i].type == NULL)
            return PHX_EINVAL;
        m[i].type = phx_typecode_ref(src[i].type);
        m[i].label = src[i].label;
        m[i].is_default = src[i].is_default;
        m[i].name = strdup(src[i].name ? src[i].name : "");
        if (m[i].name == NULL)
            return PHX_ENOMEM;
    }
    return 0;
}

int phx_tc_new_struct(phx_tckind_t kind, const char *repo_id,
                      const char *name, const phx_tc_member_t *members,
                      uint32_t count, const phx_typecode_t **out)
{
    phx_typecode_t *tc;
    int rc;

    *out = NULL;
    if ((kind != PHX_TK_STRUCT && kind != PHX_TK_EXCEPT) ||
        (kind == PHX_TK_STRUCT && count == 0))
        return PHX_EINVAL;
    tc = tc_alloc(kind);
    if (tc == NULL)
        return PHX_ENOMEM;
    rc = set_ids(tc, repo_id, name);
    if (rc == 0)
        rc = set_members(tc, members, count);
    return tc_done(tc, rc, out);
}

int phx_tc_new_union(const char *repo_id, const char *name,
                     const phx_typecode_t *disc,
                     const phx_tc_member_t *members, uint32_t count,
                     const phx_typecode_t **out)
{
    const phx_typecode_t *d = phx_typecode_unalias(disc);
    phx_typecode_t *tc;
    unsigned ndefault = 0;
    int rc;

    *out = NULL;
    if (d == NULL || !phx__tc_is_disc_kind(d->kind))
        return PHX_EINVAL;
    for (uint32_t i = 0; members && i < count; i++)
        ndefault += members[i].is_default;
    if (ndefault > 1)
        return PHX_EINVAL;
    tc = tc_alloc(PHX_TK_UNION);
    if (tc == NULL)
        return PHX_ENOMEM;
    tc->discriminator = phx_typecode_ref(disc);
    rc = set_ids(tc, repo_id, name);
    if (rc == 0)
        rc = set_members(tc, members, count);
    return tc_done(tc, rc, out);
}

/* ------------------------------------------------------------------ */
/* Equality                                                             */
/* ------------------------------------------------------------------ */

static bool str_eq(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

static bool tc_eq(const phx_typecode_t *a, const phx_typecode_t *b,
                  int depth)
{
    if (a == NULL)
        a = &phx_tc_null;
    if (b == NULL)
        b = &phx_tc_null;
    if (a == b)
        return true;
    if (a->kind != b->kind || depth > PHX_VALUE_MAX_DEPTH)
        return false;
    switch (a->kind) {
    case PHX_TK_STRING:
    case PHX_TK_WSTRING:
        return a->length == b->length;
    case PHX_TK_SEQUENCE:
    case PHX_TK_ARRAY:
        return a->length == b->length &&
               tc_eq(a->content, b->content, depth + 1);
    case PHX_TK_ALIAS:
        return str_eq(a->repo_id, b->repo_id) && str_eq(a->name, b->name) &&
               tc_eq(a->content, b->content, depth + 1);
    case PHX_TK_OBJREF:
        return str_eq(a->repo_id, b->repo_id) && str_eq(a->name, b->name);
    case PHX_TK_ENUM:
        if (!str_eq(a->repo_id, b->repo_id) || !str_eq(a->name, b->name) ||
            a->member_count != b->member_count)
            return false;
        for (uint32_t i = 0; i < a->member_count; i++)
            if (!str_eq(a->enumerators[i], b->enumerators[i]))
                return false;
        return true;
    case PHX_TK_STRUCT:
    case PHX_TK_EXCEPT:
    case PHX_TK_UNION:
        if (!str_eq(a->repo_id, b->repo_id) || !str_eq(a->name, b->name) ||
            a->member_count != b->member_count)
            return false;
        if (a->kind == PHX_TK_UNION &&
            !tc_eq(a->discriminator, b->discriminator, depth + 1))
            return false;
        for (uint32_t i = 0; i < a->member_count; i++) {
            const phx_tc_member_t *ma = &a->members[i], *mb = &b->members[i];
            if (!str_eq(ma->name, mb->name) ||
                !tc_eq(ma->type, mb->type, depth + 1))
                return false;
            if (a->kind == PHX_TK_UNION) {
                const phx_typecode_t *d =
                    phx_typecode_unalias(a->discriminator);
                phx_tckind_t k = d ? d->kind : PHX_TK_NULL;
                if (ma->is_default != mb->is_default)
                    return false;
                if (!ma->is_default &&
                    phx__tc_norm_label(k, ma->label) !=
                        phx__tc_norm_label(k, mb->label))
                    return false;
            }
        }
        return true;
    default:
        return true;
    }
}

bool phx_typecode_equal(const phx_typecode_t *a, const phx_typecode_t *b)
{
    return tc_eq(a, b, 0);
}

/* ------------------------------------------------------------------ */
/* CDR encoding                                                         */
/* ------------------------------------------------------------------ */

static int put_members(phx_cdr_writer_t *w, const phx_typecode_t *tc,
                       int depth)
{
    int32_t def = -1;

    if (tc->member_count && tc->members == NULL)
        return phx_cdr_writer_fail(w, PHX_EINVAL);
    if (tc->kind == PHX_TK_UNION) {
        for (uint32_t i = 0; i < tc->member_count; i++)
            if (tc->members[i].is_default)
                def = (int32_t)i;
        phx__put_typecode(w, tc->discriminator, depth + 1);
        phx_cdr_put_long(w, def);
    }
    phx_cdr_put_ulong(w, tc->member_count);
    for (uint32_t i = 0; i < tc->member_count && w->err == 0; i++) {
        const phx_tc_member_t *m = &tc->members[i];
        if (m->type == NULL)
            return phx_cdr_writer_fail(w, PHX_EINVAL);
        if (tc->kind == PHX_TK_UNION)
            phx__tc_put_label(w, tc->discriminator,
                              m->is_default ? 0 : m->label);
        phx_cdr_put_string(w, m->name);
        phx__put_typecode(w, m->type, depth + 1);
    }
    return w->err;
}

int phx__put_typecode(phx_cdr_writer_t *w, const phx_typecode_t *tc,
                      int depth)
{
    phx_cdr_mark_t mark;

    if (w->err)
        return w->err;
    if (depth > PHX_VALUE_MAX_DEPTH)
        return phx_cdr_writer_fail(w, PHX_ELIMIT);
    if (tc == NULL)
        tc = &phx_tc_null;
    if (phx_tc_basic(tc->kind))
        return phx_cdr_put_ulong(w, (uint32_t)tc->kind);
    switch (tc->kind) {
    case PHX_TK_STRING:
    case PHX_TK_WSTRING:
        phx_cdr_put_ulong(w, (uint32_t)tc->kind);
        return phx_cdr_put_ulong(w, tc->length);
    case PHX_TK_OBJREF:
    case PHX_TK_STRUCT:
    case PHX_TK_EXCEPT:
    case PHX_TK_UNION:
    case PHX_TK_ENUM:
    case PHX_TK_SEQUENCE:
    case PHX_TK_ARRAY:
    case PHX_TK_ALIAS:
        break;
    default:
        return phx_cdr_writer_fail(w, PHX_EUNSUPPORTED);
    }
    phx_cdr_put_ulong(w, (uint32_t)tc->kind);
    phx_cdr_encap_begin(w, &mark);
    switch (tc->kind) {
    case PHX_TK_SEQUENCE:
    case PHX_TK_ARRAY:
        phx__put_typecode(w, tc->content, depth + 1);
        phx_cdr_put_ulong(w, tc->length);
        break;
    default:
        phx_cdr_put_string(w, tc->repo_id);
        phx_cdr_put_string(w, tc->name);
        if (tc->kind == PHX_TK_ALIAS) {
            phx__put_typecode(w, tc->content, depth + 1);
        } else if (tc->kind == PHX_TK_ENUM) {
            phx_cdr_put_ulong(w, tc->member_count);
            for (uint32_t i = 0; i < tc->member_count; i++)
                phx_cdr_put_string(w, tc->enumerators[i]);
        } else if (tc->kind != PHX_TK_OBJREF) {
            put_members(w, tc, depth);
        }
        break;
    }
    return phx_cdr_encap_end(w, &mark);
}

int phx_cdr_put_typecode(phx_cdr_writer_t *w, const phx_typecode_t *tc)
{
    return phx__put_typecode(w, tc, 0);
}

/* Copy the error of an encapsulation's reader to the outer reader. */
static int propagate(phx_cdr_reader_t *r, const phx_cdr_reader_t *sub)
{
    if (r->err == 0 && sub->err) {
        r->err = sub->err;
        memcpy(r->errmsg, sub->errmsg, sizeof r->errmsg);
    }
    return r->err;
}

/* The complex TypeCodes met while decoding one top-level TypeCode, by
 * the address of their TCKind in the (borrowed) input, so that an
 * indirection (kind 0xffffffff, CORBA 3.0 15.3.5.1) can be resolved.
 * Other ORBs (omniORB) write an indirection for every TypeCode that
 * occurs twice, not only for recursion: a struct with two members of the
 * same struct type.  tc stays NULL while the TypeCode is being decoded,
 * so an indirection to it (a recursive TypeCode) is recognised and
 * refused: heap TypeCodes are trees, they cannot hold a cycle. */
typedef struct tc_seen {
    const uint8_t *at;
    const phx_typecode_t *tc;
    size_t nodes;          /* TypeCodes in it, shared ones counted again */
} tc_seen_t;

typedef struct tc_ctx {
    tc_seen_t *v;
    size_t n, cap;
    size_t nodes;          /* complex TypeCodes so far, expanded */
} tc_ctx_t;

/* Sharing lets a few bytes describe a TypeCode of 2^depth nodes (each
 * level naming the one below twice), which comparing or re-encoding it
 * would walk in full: the expanded size of one top-level TypeCode is
 * capped (real ones have tens of nodes). */
#define TC_MAX_EXPANDED_NODES ((size_t)1 << 20)

static int get_tc(phx_cdr_reader_t *r, const phx_typecode_t **out, int depth,
                  tc_ctx_t *ctx);

static int get_ids(phx_cdr_reader_t *r, phx_typecode_t *tc)
{
    char *id, *name;

    phx_cdr_get_string_dup(r, &id);
    tc->repo_id = id;
    phx_cdr_get_string_dup(r, &name);
    tc->name = name;
    return r->err;
}

static int get_members(phx_cdr_reader_t *r, phx_typecode_t *tc, int depth,
                       tc_ctx_t *ctx)
{
    phx_tc_member_t *m;
    int32_t def = -1;
    uint32_t n;

    if (tc->kind == PHX_TK_UNION) {
        const phx_typecode_t *d;
        get_tc(r, &tc->discriminator, depth + 1, ctx);
        d = phx_typecode_unalias(tc->discriminator);
        if (r->err == 0 && (d == NULL || !phx__tc_is_disc_kind(d->kind)))
            return phx_cdr_reader_fail(r, PHX_EMARSHAL,
                                       "bad union discriminator type");
        phx_cdr_get_long(r, &def);
    }
    /* label (>= 1) + name (>= 5) + kind (4) per union member */
    if (phx_cdr_get_seq_len(r, tc->kind == PHX_TK_UNION ? 10 : 9, &n))
        return r->err;
    /* -1 is "no default member"; omniORB writes -2 for a union whose
     * labels cover every discriminator value (boolean, enum), which
     * means the same: any negative index is taken as no default. */
    if (def < -1)
        def = -1;
    if (def >= 0 && (uint32_t)def >= n)
        return phx_cdr_reader_fail(r, PHX_EMARSHAL, "bad default index");
    if (n == 0 && tc->kind == PHX_TK_STRUCT)
        return phx_cdr_reader_fail(r, PHX_EMARSHAL, "struct without members");
    if (n == 0)
        return 0;
    m = calloc(n, sizeof *m);
    if (m == NULL)
        return phx_cdr_reader_fail(r, PHX_ENOMEM, "TypeCode members");
    tc->members = m;
    tc->member_count = n;
    for (uint32_t i = 0; i < n && r->err == 0; i++) {
        char *name;
        if (tc->kind == PHX_TK_UNION) {
            phx__tc_get_label(r, tc->discriminator, &m[i].label);
            m[i].is_default = (int32_t)i == def;
            if (m[i].is_default)
                m[i].label = 0;
        }
        phx_cdr_get_string_dup(r, &name);
        m[i].name = name;
        get_tc(r, &m[i].type, depth + 1, ctx);
    }
    return r->err;
}

static int get_enumerators(phx_cdr_reader_t *r, phx_typecode_t *tc)
{
    char **e;
    uint32_t n;

    if (phx_cdr_get_seq_len(r, 5, &n))
        return r->err;
    if (n == 0)
        return phx_cdr_reader_fail(r, PHX_EMARSHAL, "enum without members");
    e = calloc(n, sizeof *e);
    if (e == NULL)
        return phx_cdr_reader_fail(r, PHX_ENOMEM, "enumerators");
    tc->enumerators = (const char *const *)e;
    tc->member_count = n;
    for (uint32_t i = 0; i < n && r->err == 0; i++)
        phx_cdr_get_string_dup(r, &e[i]);
    return r->err;
}

/* Parameters of a complex TypeCode, read from its encapsulation. */
static int get_params(phx_cdr_reader_t *r, phx_typecode_t *tc, int depth,
                      tc_ctx_t *ctx)
{
    switch (tc->kind) {
    case PHX_TK_SEQUENCE:
    case PHX_TK_ARRAY:
        get_tc(r, &tc->content, depth + 1, ctx);
        phx_cdr_get_ulong(r, &tc->length);
        if (r->err == 0 && tc->kind == PHX_TK_ARRAY && tc->length == 0)
            return phx_cdr_reader_fail(r, PHX_EMARSHAL, "empty array");
        /* Elements that take no octets on the wire (an exception without
         * members; IDL has no such element type) would let a few bytes of
         * input ask for billions of decoding steps. */
        if (r->err == 0 && phx__tc_min_wire_size(tc->content) == 0)
            return phx_cdr_reader_fail(r, PHX_EMARSHAL,
                                       "element type has no data");
        break;
    case PHX_TK_ALIAS:
        get_ids(r, tc);
        get_tc(r, &tc->content, depth + 1, ctx);
        break;
    case PHX_TK_OBJREF:
        get_ids(r, tc);
        break;
    case PHX_TK_ENUM:
        if (get_ids(r, tc) == 0)
            get_enumerators(r, tc);
        break;
    default:
        if (get_ids(r, tc) == 0)
            get_members(r, tc, depth, ctx);
        break;
    }
    if (r->err == 0 && tc_layout(tc))
        phx_cdr_reader_fail(r, PHX_EMARSHAL, "bad TypeCode layout");
    /* A value of this type is allocated in one piece when it travels in an
     * any: a few bytes of TypeCode must not ask for gigabytes. */
    if (r->err == 0 && tc->c_size > r->max_len)
        phx_cdr_reader_fail(r, PHX_ELIMIT, "TypeCode describes a value "
                                           "larger than the reader's limit");
    return r->err;
}

/* Record the complex TypeCode whose TCKind is at 'at'; returns its index
 * (or -1 after failing r). */
static long seen_add(phx_cdr_reader_t *r, tc_ctx_t *ctx, const uint8_t *at)
{
    if (ctx->n == ctx->cap) {
        size_t cap = ctx->cap ? 2 * ctx->cap : 8;
        tc_seen_t *v = realloc(ctx->v, cap * sizeof *v);
        if (v == NULL) {
            phx_cdr_reader_fail(r, PHX_ENOMEM, "TypeCode");
            return -1;
        }
        ctx->v = v;
        ctx->cap = cap;
    }
    ctx->v[ctx->n] = (tc_seen_t){at, NULL, 0};
    return (long)ctx->n++;
}

/* An indirection: a long offset, relative to where the offset itself
 * starts, to the TCKind of a TypeCode of the same top-level TypeCode. */
static int get_indirection(phx_cdr_reader_t *r, const phx_typecode_t **out,
                           tc_ctx_t *ctx)
{
    int32_t off;
    const uint8_t *at;
    uintptr_t target;
    size_t lo = 0, hi = ctx->n;

    if (phx_cdr_get_long(r, &off))
        return r->err;
    at = r->buf + r->pos - 4;
    target = (uintptr_t)at + (uintptr_t)(intptr_t)off;
    /* The input is read front to back, so ctx->v is sorted by address. */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if ((uintptr_t)ctx->v[mid].at < target)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < ctx->n && (uintptr_t)ctx->v[lo].at == target) {
        if (ctx->v[lo].tc == NULL)
            return phx_cdr_reader_fail(r, PHX_EUNSUPPORTED,
                                       "recursive TypeCode");
        ctx->nodes += ctx->v[lo].nodes;
        if (ctx->nodes > TC_MAX_EXPANDED_NODES)
            return phx_cdr_reader_fail(r, PHX_ELIMIT,
                                       "TypeCode too large once expanded");
        *out = phx_typecode_ref(ctx->v[lo].tc);
        return 0;
    }
    return phx_cdr_reader_fail(r, PHX_EUNSUPPORTED,
                               "TypeCode indirection to nothing decoded");
}

int phx__get_typecode(phx_cdr_reader_t *r, const phx_typecode_t **out,
                      int depth)
{
    tc_ctx_t ctx = {NULL, 0, 0, 0};
    int rc = get_tc(r, out, depth, &ctx);

    free(ctx.v);
    return rc;
}

static int get_tc(phx_cdr_reader_t *r, const phx_typecode_t **out, int depth,
                  tc_ctx_t *ctx)
{
    phx_cdr_reader_t sub;
    phx_typecode_t *tc;
    uint32_t kind;
    const uint8_t *at;
    long seen;
    size_t nodes;

    *out = NULL;
    if (r->err)
        return r->err;
    if (depth > PHX_VALUE_MAX_DEPTH)
        return phx_cdr_reader_fail(r, PHX_ELIMIT, "TypeCode nested too deep");
    if (phx_cdr_get_ulong(r, &kind))
        return r->err;
    at = r->buf + r->pos - 4;
    if (kind == 0xffffffffu)
        return get_indirection(r, out, ctx);
    if (kind <= PHX_TK_EVENT && phx_tc_basic((phx_tckind_t)kind)) {
        *out = phx_tc_basic((phx_tckind_t)kind);
        return 0;
    }
    switch (kind) {
    case PHX_TK_STRING:
    case PHX_TK_WSTRING:
        tc = tc_alloc((phx_tckind_t)kind);
        if (tc == NULL)
            return phx_cdr_reader_fail(r, PHX_ENOMEM, "TypeCode");
        if (phx_cdr_get_ulong(r, &tc->length)) {
            phx_typecode_free(tc);
            return r->err;
        }
        if (kind == PHX_TK_STRING && tc->length == 0) {
            phx_typecode_free(tc);
            *out = &phx_tc_string;
        } else {
            *out = tc;
        }
        return 0;
    case PHX_TK_OBJREF:
    case PHX_TK_STRUCT:
    case PHX_TK_EXCEPT:
    case PHX_TK_UNION:
    case PHX_TK_ENUM:
    case PHX_TK_SEQUENCE:
    case PHX_TK_ARRAY:
    case PHX_TK_ALIAS:
        break;
    default:
        if (kind <= PHX_TK_EVENT)
            return phx_cdr_reader_fail(r, PHX_EUNSUPPORTED,
                                       "TypeCode kind not supported");
        return phx_cdr_reader_fail(r, PHX_EMARSHAL, "bad TCKind");
    }
    if (phx_cdr_get_encap(r, &sub))
        return r->err;
    if ((seen = seen_add(r, ctx, at)) < 0)
        return r->err;
    nodes = ++ctx->nodes;
    tc = tc_alloc((phx_tckind_t)kind);
    if (tc == NULL)
        return phx_cdr_reader_fail(r, PHX_ENOMEM, "TypeCode");
    if (get_params(&sub, tc, depth, ctx)) {
        phx_typecode_free(tc);
        return propagate(r, &sub);
    }
    ctx->v[seen].tc = tc;
    ctx->v[seen].nodes = ctx->nodes - nodes + 1;
    *out = tc;
    return 0;
}

int phx_cdr_get_typecode(phx_cdr_reader_t *r, const phx_typecode_t **tc)
{
    return phx__get_typecode(r, tc, 0);
}
