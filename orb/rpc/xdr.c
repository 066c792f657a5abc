/*
 * xdr.c - XDR encoding of TypeCode-described values (include/phx/xdr.h).
 */
#include <stdlib.h>
#include <string.h>

#include <phx/error.h>
#include <phx/xdr.h>

/* ------------------------------------------------------------------ */
/* Streams                                                              */
/* ------------------------------------------------------------------ */

void phx_xdr_writer_init(phx_xdr_writer_t *w)
{
    memset(w, 0, sizeof *w);
}

void phx_xdr_writer_fini(phx_xdr_writer_t *w)
{
    free(w->buf);
    memset(w, 0, sizeof *w);
}

uint8_t *phx_xdr_writer_take(phx_xdr_writer_t *w, size_t *len)
{
    uint8_t *b = w->buf;
    *len = w->len;
    memset(w, 0, sizeof *w);
    return b;
}

void phx_xdr_reader_init(phx_xdr_reader_t *r, const void *data, size_t len)
{
    memset(r, 0, sizeof *r);
    r->data = data;
    r->len = data ? len : 0;
    r->max_len = PHX_XDR_DEFAULT_MAX_LEN;
}

size_t phx_xdr_reader_remaining(const phx_xdr_reader_t *r)
{
    return r->len - r->pos;
}

static int wfail(phx_xdr_writer_t *w, int rc)
{
    if (w->status == 0)
        w->status = rc;
    return w->status;
}

static int rfail(phx_xdr_reader_t *r, int rc)
{
    if (r->status == 0)
        r->status = rc;
    return r->status;
}

static uint8_t *wspace(phx_xdr_writer_t *w, size_t n)
{
    if (w->status)
        return NULL;
    if (n > SIZE_MAX / 2 - w->len ||
        (w->max_size && w->len + n > w->max_size)) {
        wfail(w, PHX_ELIMIT);
        return NULL;
    }
    if (w->len + n > w->cap) {
        size_t nc = w->cap ? w->cap : 256;
        while (nc < w->len + n)
            nc *= 2;
        uint8_t *b = realloc(w->buf, nc);
        if (b == NULL) {
            wfail(w, PHX_ENOMEM);
            return NULL;
        }
        w->buf = b;
        w->cap = nc;
    }
    uint8_t *p = w->buf + w->len;
    w->len += n;
    return p;
}

int phx_xdr_put_u32(phx_xdr_writer_t *w, uint32_t v)
{
    uint8_t *p = wspace(w, 4);
    if (p == NULL)
        return w->status;
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
    return 0;
}

int phx_xdr_put_u64(phx_xdr_writer_t *w, uint64_t v)
{
    phx_xdr_put_u32(w, (uint32_t)(v >> 32));
    return phx_xdr_put_u32(w, (uint32_t)v);
}

int phx_xdr_put_fixed(phx_xdr_writer_t *w, const void *src, uint32_t n)
{
    size_t padded = ((size_t)n + 3) & ~(size_t)3;
    uint8_t *p = wspace(w, padded);
    if (p == NULL)
        return w->status;
    if (n)
        memcpy(p, src, n);
    memset(p + n, 0, padded - n);
    return 0;
}

int phx_xdr_put_opaque(phx_xdr_writer_t *w, const void *src, uint32_t n)
{
    phx_xdr_put_u32(w, n);
    return phx_xdr_put_fixed(w, src, n);
}

int phx_xdr_get_u32(phx_xdr_reader_t *r, uint32_t *v)
{
    *v = 0;
    if (r->status)
        return r->status;
    if (r->len - r->pos < 4)
        return rfail(r, PHX_EMARSHAL);
    const uint8_t *p = r->data + r->pos;
    *v = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
         p[3];
    r->pos += 4;
    return 0;
}

int phx_xdr_get_u64(phx_xdr_reader_t *r, uint64_t *v)
{
    uint32_t hi, lo;
    *v = 0;
    phx_xdr_get_u32(r, &hi);
    if (phx_xdr_get_u32(r, &lo))
        return r->status;
    *v = (uint64_t)hi << 32 | lo;
    return 0;
}

int phx_xdr_get_fixed(phx_xdr_reader_t *r, uint32_t n, const uint8_t **out)
{
    size_t padded = ((size_t)n + 3) & ~(size_t)3;
    *out = NULL;
    if (r->status)
        return r->status;
    if (padded > r->len - r->pos)
        return rfail(r, PHX_EMARSHAL);
    const uint8_t *p = r->data + r->pos;
    for (size_t i = n; i < padded; i++)
        if (p[i] != 0)
            return rfail(r, PHX_EMARSHAL);
    *out = p;
    r->pos += padded;
    return 0;
}

int phx_xdr_get_opaque(phx_xdr_reader_t *r, uint32_t bound, const uint8_t **p,
                       uint32_t *n)
{
    *p = NULL;
    *n = 0;
    uint32_t len;
    if (phx_xdr_get_u32(r, &len))
        return r->status;
    if (bound && len > bound)
        return rfail(r, PHX_EMARSHAL);
    if (len > r->max_len)
        return rfail(r, PHX_ELIMIT);
    if (phx_xdr_get_fixed(r, len, p))
        return r->status;
    *n = len;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Values                                                               */
/* ------------------------------------------------------------------ */

/* Discriminant stored in C as its kind's type. */
static int disc_load(phx_tckind_t k, const void *p, int64_t *d)
{
    switch (k) {
    case PHX_TK_LONG: { int32_t v; memcpy(&v, p, 4); *d = v; return 0; }
    case PHX_TK_ULONG:
    case PHX_TK_ENUM: { uint32_t v; memcpy(&v, p, 4); *d = v; return 0; }
    case PHX_TK_SHORT: { int16_t v; memcpy(&v, p, 2); *d = v; return 0; }
    case PHX_TK_USHORT: { uint16_t v; memcpy(&v, p, 2); *d = v; return 0; }
    case PHX_TK_BOOLEAN: { bool v; memcpy(&v, p, 1); *d = v ? 1 : 0; return 0; }
    case PHX_TK_CHAR: { char v; memcpy(&v, p, 1); *d = (unsigned char)v; return 0; }
    case PHX_TK_OCTET: { uint8_t v; memcpy(&v, p, 1); *d = v; return 0; }
    case PHX_TK_LONGLONG: { int64_t v; memcpy(&v, p, 8); *d = v; return 0; }
    case PHX_TK_ULONGLONG: { uint64_t v; memcpy(&v, p, 8); *d = (int64_t)v; return 0; }
    default: return PHX_EUNSUPPORTED;
    }
}

static int put_value(phx_xdr_writer_t *w, const phx_typecode_t *tc,
                     const void *v, int depth);
static int get_value(phx_xdr_reader_t *r, const phx_typecode_t *tc, void *v,
                     int depth);

static int put_disc(phx_xdr_writer_t *w, phx_tckind_t k, int64_t d)
{
    if (k == PHX_TK_LONGLONG || k == PHX_TK_ULONGLONG)
        return phx_xdr_put_u64(w, (uint64_t)d);
    return phx_xdr_put_u32(w, (uint32_t)d);
}

static int put_elems(phx_xdr_writer_t *w, const phx_typecode_t *et,
                     const void *buf, uint32_t n, int depth)
{
    const phx_typecode_t *u = phx_typecode_unalias(et);
    if (u == NULL)
        return wfail(w, PHX_ELIMIT);
    if (u->kind == PHX_TK_OCTET)
        return phx_xdr_put_fixed(w, buf, n);
    size_t es = phx_typecode_c_size(et);
    if (es == 0 && n)
        return wfail(w, PHX_EUNSUPPORTED);
    for (uint32_t i = 0; i < n && w->status == 0; i++)
        put_value(w, et, (const uint8_t *)buf + (size_t)i * es, depth + 1);
    return w->status;
}

static int put_value(phx_xdr_writer_t *w, const phx_typecode_t *tc,
                     const void *v, int depth)
{
    if (w->status)
        return w->status;
    if (depth > PHX_XDR_MAX_DEPTH)
        return wfail(w, PHX_ELIMIT);
    const phx_typecode_t *u = phx_typecode_unalias(tc);
    if (u == NULL)
        return wfail(w, PHX_ELIMIT);
    switch (u->kind) {
    case PHX_TK_VOID:
        return 0;
    case PHX_TK_LONG: { int32_t x; memcpy(&x, v, 4); return phx_xdr_put_u32(w, (uint32_t)x); }
    case PHX_TK_ULONG: { uint32_t x; memcpy(&x, v, 4); return phx_xdr_put_u32(w, x); }
    case PHX_TK_ENUM: {
        uint32_t x;
        memcpy(&x, v, 4);
        if (x >= u->member_count)
            return wfail(w, PHX_EINVAL);
        return phx_xdr_put_u32(w, x);
    }
    case PHX_TK_SHORT: { int16_t x; memcpy(&x, v, 2); return phx_xdr_put_u32(w, (uint32_t)(int32_t)x); }
    case PHX_TK_USHORT: { uint16_t x; memcpy(&x, v, 2); return phx_xdr_put_u32(w, x); }
    case PHX_TK_CHAR: { char x; memcpy(&x, v, 1); return phx_xdr_put_u32(w, (uint32_t)(int32_t)(signed char)x); }
    case PHX_TK_OCTET: { uint8_t x; memcpy(&x, v, 1); return phx_xdr_put_u32(w, x); }
    case PHX_TK_BOOLEAN: { bool x; memcpy(&x, v, 1); return phx_xdr_put_u32(w, x ? 1 : 0); }
    case PHX_TK_LONGLONG:
    case PHX_TK_ULONGLONG:
    case PHX_TK_DOUBLE: { uint64_t x; memcpy(&x, v, 8); return phx_xdr_put_u64(w, x); }
    case PHX_TK_FLOAT: { uint32_t x; memcpy(&x, v, 4); return phx_xdr_put_u32(w, x); }
    case PHX_TK_STRING: {
        const char *s;
        memcpy(&s, v, sizeof s);
        if (s == NULL)
            s = "";
        size_t n = strlen(s);
        if (n > UINT32_MAX || (u->length && n > u->length))
            return wfail(w, PHX_EINVAL);
        return phx_xdr_put_opaque(w, s, (uint32_t)n);
    }
    case PHX_TK_SEQUENCE: {
        const phx_sequence_t *s = v;
        if (u->length && s->_length > u->length)
            return wfail(w, PHX_EINVAL);
        if (s->_length && s->_buffer == NULL)
            return wfail(w, PHX_EINVAL);
        phx_xdr_put_u32(w, s->_length);
        return put_elems(w, u->content, s->_buffer, s->_length, depth);
    }
    case PHX_TK_ARRAY:
        return put_elems(w, u->content, v, u->length, depth);
    case PHX_TK_STRUCT:
    case PHX_TK_EXCEPT:
        for (uint32_t i = 0; i < u->member_count && w->status == 0; i++)
            put_value(w, u->members[i].type,
                      (const uint8_t *)v + u->members[i].offset, depth + 1);
        return w->status;
    case PHX_TK_UNION: {
        const phx_typecode_t *dt = phx_typecode_unalias(u->discriminator);
        int64_t d;
        if (dt == NULL || disc_load(dt->kind, v, &d))
            return wfail(w, PHX_EUNSUPPORTED);
        if (dt->kind == PHX_TK_ENUM && (uint64_t)d >= dt->member_count)
            return wfail(w, PHX_EINVAL);
        put_disc(w, dt->kind, d);
        const phx_tc_member_t *m =
            phx__tc_branch(u, dt->kind, phx__tc_norm_label(dt->kind, d));
        if (m == NULL)
            return w->status;  /* void arm */
        return put_value(w, m->type, (const uint8_t *)v + m->offset,
                         depth + 1);
    }
    default:
        return wfail(w, PHX_EUNSUPPORTED);
    }
}

int phx_xdr_put_value(phx_xdr_writer_t *w, const phx_typecode_t *tc,
                      const void *value)
{
    return put_value(w, tc, value, 0);
}

/* Fewest octets an XDR value of tc occupies (at least 1, saturating). */
static size_t min_size(const phx_typecode_t *tc, int depth)
{
    const phx_typecode_t *u = phx_typecode_unalias(tc);
    if (u == NULL || depth > PHX_XDR_MAX_DEPTH)
        return 4;
    switch (u->kind) {
    case PHX_TK_LONGLONG:
    case PHX_TK_ULONGLONG:
    case PHX_TK_DOUBLE:
        return 8;
    case PHX_TK_ARRAY: {
        const phx_typecode_t *e = phx_typecode_unalias(u->content);
        if (e && e->kind == PHX_TK_OCTET)
            return u->length ? u->length : 1;
        size_t m = min_size(u->content, depth + 1);
        if (u->length && m > SIZE_MAX / u->length)
            return SIZE_MAX;
        return u->length ? m * u->length : 1;
    }
    case PHX_TK_STRUCT:
    case PHX_TK_EXCEPT: {
        size_t s = 0;
        for (uint32_t i = 0; i < u->member_count; i++) {
            size_t m = min_size(u->members[i].type, depth + 1);
            if (m > SIZE_MAX - s)
                return SIZE_MAX;
            s += m;
        }
        return s ? s : 1;
    }
    default:
        return 4;
    }
}

static int store_int(phx_xdr_reader_t *r, phx_tckind_t k, void *v, int64_t x)
{
    switch (k) {
    case PHX_TK_SHORT:
        if (x < INT16_MIN || x > INT16_MAX)
            return rfail(r, PHX_EMARSHAL);
        { int16_t y = (int16_t)x; memcpy(v, &y, 2); }
        return 0;
    case PHX_TK_USHORT:
        if (x < 0 || x > UINT16_MAX)
            return rfail(r, PHX_EMARSHAL);
        { uint16_t y = (uint16_t)x; memcpy(v, &y, 2); }
        return 0;
    case PHX_TK_CHAR:
        if (x < -128 || x > 127)
            return rfail(r, PHX_EMARSHAL);
        { char y = (char)x; memcpy(v, &y, 1); }
        return 0;
    case PHX_TK_OCTET:
        if (x < 0 || x > 255)
            return rfail(r, PHX_EMARSHAL);
        { uint8_t y = (uint8_t)x; memcpy(v, &y, 1); }
        return 0;
    case PHX_TK_BOOLEAN:
        if (x != 0 && x != 1)
            return rfail(r, PHX_EMARSHAL);
        { bool y = x != 0; memcpy(v, &y, 1); }
        return 0;
    case PHX_TK_LONG: { int32_t y = (int32_t)x; memcpy(v, &y, 4); return 0; }
    case PHX_TK_ULONG:
    case PHX_TK_ENUM: { uint32_t y = (uint32_t)x; memcpy(v, &y, 4); return 0; }
    case PHX_TK_LONGLONG: { int64_t y = x; memcpy(v, &y, 8); return 0; }
    case PHX_TK_ULONGLONG: { uint64_t y = (uint64_t)x; memcpy(v, &y, 8); return 0; }
    default:
        return rfail(r, PHX_EUNSUPPORTED);
    }
}

static int get_int(phx_xdr_reader_t *r, phx_tckind_t k, int64_t *x)
{
    if (k == PHX_TK_LONGLONG || k == PHX_TK_ULONGLONG) {
        uint64_t y;
        phx_xdr_get_u64(r, &y);
        *x = (int64_t)y;
    } else {
        uint32_t y;
        phx_xdr_get_u32(r, &y);
        if (k == PHX_TK_LONG || k == PHX_TK_SHORT || k == PHX_TK_CHAR)
            *x = (int32_t)y;
        else
            *x = y;
    }
    return r->status;
}

static int get_elems(phx_xdr_reader_t *r, const phx_typecode_t *et, void *buf,
                     uint32_t n, int depth)
{
    const phx_typecode_t *u = phx_typecode_unalias(et);
    if (u == NULL)
        return rfail(r, PHX_ELIMIT);
    if (u->kind == PHX_TK_OCTET) {
        const uint8_t *p;
        if (phx_xdr_get_fixed(r, n, &p) == 0 && n)
            memcpy(buf, p, n);
        return r->status;
    }
    size_t es = phx_typecode_c_size(et);
    if (es == 0 && n)
        return rfail(r, PHX_EUNSUPPORTED);
    for (uint32_t i = 0; i < n && r->status == 0; i++)
        get_value(r, et, (uint8_t *)buf + (size_t)i * es, depth + 1);
    return r->status;
}

static int get_value(phx_xdr_reader_t *r, const phx_typecode_t *tc, void *v,
                     int depth)
{
    if (r->status)
        return r->status;
    if (depth > PHX_XDR_MAX_DEPTH)
        return rfail(r, PHX_ELIMIT);
    const phx_typecode_t *u = phx_typecode_unalias(tc);
    if (u == NULL)
        return rfail(r, PHX_ELIMIT);
    switch (u->kind) {
    case PHX_TK_VOID:
        return 0;
    case PHX_TK_LONG:
    case PHX_TK_ULONG:
    case PHX_TK_SHORT:
    case PHX_TK_USHORT:
    case PHX_TK_CHAR:
    case PHX_TK_OCTET:
    case PHX_TK_BOOLEAN:
    case PHX_TK_LONGLONG:
    case PHX_TK_ULONGLONG: {
        int64_t x;
        if (get_int(r, u->kind, &x))
            return r->status;
        return store_int(r, u->kind, v, x);
    }
    case PHX_TK_ENUM: {
        uint32_t x;
        if (phx_xdr_get_u32(r, &x))
            return r->status;
        if (x >= u->member_count)
            return rfail(r, PHX_EMARSHAL);
        memcpy(v, &x, 4);
        return 0;
    }
    case PHX_TK_FLOAT: { uint32_t x; phx_xdr_get_u32(r, &x); memcpy(v, &x, 4); return r->status; }
    case PHX_TK_DOUBLE: { uint64_t x; phx_xdr_get_u64(r, &x); memcpy(v, &x, 8); return r->status; }
    case PHX_TK_STRING: {
        const uint8_t *p;
        uint32_t n;
        if (phx_xdr_get_opaque(r, u->length, &p, &n))
            return r->status;
        if (n && memchr(p, 0, n) != NULL)
            return rfail(r, PHX_EMARSHAL);
        char *s = malloc((size_t)n + 1);
        if (s == NULL)
            return rfail(r, PHX_ENOMEM);
        if (n)
            memcpy(s, p, n);
        s[n] = '\0';
        memcpy(v, &s, sizeof s);
        return 0;
    }
    case PHX_TK_SEQUENCE: {
        phx_sequence_t *s = v;
        uint32_t n;
        if (phx_xdr_get_u32(r, &n))
            return r->status;
        if (u->length && n > u->length)
            return rfail(r, PHX_EMARSHAL);
        if (n > r->max_len)
            return rfail(r, PHX_ELIMIT);
        size_t ms = min_size(u->content, depth + 1);
        const phx_typecode_t *e = phx_typecode_unalias(u->content);
        if (e && e->kind == PHX_TK_OCTET)
            ms = 1;
        if (n > phx_xdr_reader_remaining(r) / ms)
            return rfail(r, PHX_EMARSHAL);
        if (n == 0)
            return 0;
        size_t es = phx_typecode_c_size(u->content);
        if (es == 0)
            return rfail(r, PHX_EUNSUPPORTED);
        void *buf = calloc(n, es);
        if (buf == NULL)
            return rfail(r, PHX_ENOMEM);
        s->_buffer = buf;
        s->_length = s->_maximum = n;
        s->_release = true;
        return get_elems(r, u->content, buf, n, depth);
    }
    case PHX_TK_ARRAY:
        return get_elems(r, u->content, v, u->length, depth);
    case PHX_TK_STRUCT:
    case PHX_TK_EXCEPT:
        for (uint32_t i = 0; i < u->member_count && r->status == 0; i++)
            get_value(r, u->members[i].type,
                      (uint8_t *)v + u->members[i].offset, depth + 1);
        return r->status;
    case PHX_TK_UNION: {
        const phx_typecode_t *dt = phx_typecode_unalias(u->discriminator);
        int64_t d;
        if (dt == NULL)
            return rfail(r, PHX_ELIMIT);
        if (dt->kind == PHX_TK_ENUM) {
            uint32_t x;
            if (phx_xdr_get_u32(r, &x))
                return r->status;
            if (x >= dt->member_count)
                return rfail(r, PHX_EMARSHAL);
            d = x;
            memcpy(v, &x, 4);
        } else {
            if (get_int(r, dt->kind, &d) || store_int(r, dt->kind, v, d))
                return r->status;
        }
        const phx_tc_member_t *m =
            phx__tc_branch(u, dt->kind, phx__tc_norm_label(dt->kind, d));
        if (m == NULL)
            return 0;  /* void arm */
        return get_value(r, m->type, (uint8_t *)v + m->offset, depth + 1);
    }
    default:
        return rfail(r, PHX_EUNSUPPORTED);
    }
}

int phx_xdr_get_value(phx_xdr_reader_t *r, const phx_typecode_t *tc,
                      void *value)
{
    size_t sz = phx_typecode_c_size(tc);
    if (r->status)
        return r->status;
    if (sz)
        memset(value, 0, sz);
    if (get_value(r, tc, value, 0) != 0) {
        /* The partial value is consistent (zeroed storage filled in
         * order, sequences carry their lengths), so it can be freed. */
        if (sz)
            phx_value_free(tc, value);
        return r->status;
    }
    return 0;
}
