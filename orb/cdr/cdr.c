/*
 * cdr.c - CDR writer and reader (see include/phx/cdr.h for the contract).
 *
 * All writes go through wspace() and all reads through rtake(): the only
 * places where capacity, alignment and bounds are computed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <phx/cdr.h>

#define CDR_FIRST_ALLOC 256

#if defined(__GNUC__) || defined(__clang__)
#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)
#define NOINLINE __attribute__((noinline))
#else
#define NOINLINE
#define LIKELY(x) (x)
#define UNLIKELY(x) (x)
#endif

static inline bool valid_align(size_t n)
{
    return n == 1 || n == 2 || n == 4 || n == 8;
}

/* Octets of padding needed to bring off (relative to base) to a multiple
 * of n, n a power of two. */
static inline size_t pad_for(size_t off, size_t n)
{
    return (size_t)(0 - off) & (n - 1);
}

/* ------------------------------------------------------------------ */
/* Writer                                                               */
/* ------------------------------------------------------------------ */

void phx_cdr_writer_init(phx_cdr_writer_t *w, size_t capacity_hint)
{
    memset(w, 0, sizeof *w);
    w->max = PHX_CDR_DEFAULT_MAX;
    w->hint = capacity_hint ? capacity_hint : CDR_FIRST_ALLOC;
}

void phx_cdr_writer_init_fixed(phx_cdr_writer_t *w, void *buf, size_t cap)
{
    memset(w, 0, sizeof *w);
    w->buf = buf;
    w->cap = buf ? cap : 0;
    w->max = w->cap;
    w->fixed = true;
}

void phx_cdr_writer_fini(phx_cdr_writer_t *w)
{
    if (!w->fixed)
        free(w->buf);
    w->buf = NULL;
    w->len = w->cap = w->base = 0;
    w->err = 0;
}

void phx_cdr_writer_reset(phx_cdr_writer_t *w)
{
    w->len = 0;
    w->base = 0;
    w->err = 0;
}

uint8_t *phx_cdr_writer_steal(phx_cdr_writer_t *w, size_t *len)
{
    uint8_t *b;

    if (w->err || w->len == 0 || w->fixed) {
        if (len)
            *len = 0;
        return NULL;
    }
    b = w->buf;
    if (len)
        *len = w->len;
    w->buf = NULL;
    w->len = w->cap = w->base = 0;
    return b;
}

int phx_cdr_writer_fail(phx_cdr_writer_t *w, int code)
{
    if (w->err == 0 && code < 0)
        w->err = code;
    return w->err;
}

/* Make room for extra more octets; sets the sticky error on failure. */
static int grow(phx_cdr_writer_t *w, size_t extra)
{
    size_t need, ncap;
    uint8_t *nb;

    if (w->fixed || extra > w->max || w->len > w->max - extra)
        return phx_cdr_writer_fail(w, PHX_ELIMIT);
    need = w->len + extra;
    ncap = w->cap ? w->cap : w->hint ? w->hint : CDR_FIRST_ALLOC;
    while (ncap < need)
        ncap = ncap > w->max / 2 ? w->max : ncap * 2;
    if (ncap > w->max)
        ncap = w->max;
    nb = realloc(w->buf, ncap);
    if (nb == NULL)
        return phx_cdr_writer_fail(w, PHX_ENOMEM);
    w->buf = nb;
    w->cap = ncap;
    return 0;
}

/* Slow path of wspace(): sticky error, growth, size overflow. */
NOINLINE static uint8_t *wspace_slow(phx_cdr_writer_t *w, size_t pad,
                                     size_t n)
{
    uint8_t *p;

    if (w->err)
        return NULL;
    if (n > SIZE_MAX - pad) {
        phx_cdr_writer_fail(w, PHX_ELIMIT);
        return NULL;
    }
    if (grow(w, pad + n))
        return NULL;
    p = w->buf + w->len;
    memset(p, 0, pad);
    w->len += pad + n;
    return p + pad;
}

/* Pad to align (relative to base) and reserve n octets; NULL on error. */
static inline uint8_t *wspace(phx_cdr_writer_t *w, size_t align, size_t n)
{
    size_t pad = pad_for(w->len - w->base, align);
    size_t room = w->cap - w->len;
    uint8_t *p;

    if (UNLIKELY(w->err || n > room || pad > room - n))
        return wspace_slow(w, pad, n);
    p = w->buf + w->len;
    for (size_t i = 0; i < pad; i++)
        *p++ = 0;
    w->len += pad + n;
    return p;
}

/* Slow path of a primitive put. */
NOINLINE static int put_slow(phx_cdr_writer_t *w, const void *v, size_t n)
{
    uint8_t *p = wspace_slow(w, pad_for(w->len - w->base, n), n);

    if (p == NULL)
        return w->err;
    memcpy(p, v, n);
    return 0;
}

/* Primitive put: one test for error and room, padding, one memcpy. */
#define PUT_PRIM(w, v)                                                      \
    do {                                                                    \
        size_t pad_ = pad_for((w)->len - (w)->base, sizeof(v));             \
        size_t room_ = (w)->cap - (w)->len;                                 \
        uint8_t *p_;                                                        \
        if (UNLIKELY((w)->err || room_ < sizeof(v) ||                       \
                     pad_ > room_ - sizeof(v)))                             \
            return put_slow(w, &(v), sizeof(v));                            \
        p_ = (w)->buf + (w)->len;                                           \
        for (size_t i_ = 0; i_ < pad_; i_++)                                \
            *p_++ = 0;                                                      \
        memcpy(p_, &(v), sizeof(v));                                        \
        (w)->len += pad_ + sizeof(v);                                       \
        return 0;                                                           \
    } while (0)

int phx_cdr_align(phx_cdr_writer_t *w, size_t n)
{
    if (!valid_align(n))
        return phx_cdr_writer_fail(w, PHX_EINVAL);
    return wspace(w, n, 0) ? 0 : w->err;
}

uint8_t *phx_cdr_reserve(phx_cdr_writer_t *w, size_t n)
{
    return wspace(w, 1, n);
}

int phx_cdr_put_octet(phx_cdr_writer_t *w, uint8_t v)
{
    PUT_PRIM(w, v);
}

int phx_cdr_put_boolean(phx_cdr_writer_t *w, bool v)
{
    uint8_t o = v ? 1 : 0;
    PUT_PRIM(w, o);
}

int phx_cdr_put_char(phx_cdr_writer_t *w, char v)
{
    PUT_PRIM(w, v);
}

int phx_cdr_put_short(phx_cdr_writer_t *w, int16_t v)
{
    PUT_PRIM(w, v);
}

int phx_cdr_put_ushort(phx_cdr_writer_t *w, uint16_t v)
{
    PUT_PRIM(w, v);
}

int phx_cdr_put_long(phx_cdr_writer_t *w, int32_t v)
{
    PUT_PRIM(w, v);
}

int phx_cdr_put_ulong(phx_cdr_writer_t *w, uint32_t v)
{
    PUT_PRIM(w, v);
}

int phx_cdr_put_longlong(phx_cdr_writer_t *w, int64_t v)
{
    PUT_PRIM(w, v);
}

int phx_cdr_put_ulonglong(phx_cdr_writer_t *w, uint64_t v)
{
    PUT_PRIM(w, v);
}

int phx_cdr_put_float(phx_cdr_writer_t *w, float v)
{
    PUT_PRIM(w, v);
}

int phx_cdr_put_double(phx_cdr_writer_t *w, double v)
{
    PUT_PRIM(w, v);
}

int phx_cdr_put_raw(phx_cdr_writer_t *w, const void *p, size_t n)
{
    uint8_t *d;

    if (n == 0)
        return w->err;
    if (p == NULL)
        return phx_cdr_writer_fail(w, PHX_EINVAL);
    d = wspace(w, 1, n);
    if (d == NULL)
        return w->err;
    memcpy(d, p, n);
    return 0;
}

int phx_cdr_put_string_n(phx_cdr_writer_t *w, const char *s, size_t n)
{
    uint8_t *d;

    if (w->err)
        return w->err;
    if (s == NULL && n != 0)
        return phx_cdr_writer_fail(w, PHX_EINVAL);
    if (n >= UINT32_MAX)
        return phx_cdr_writer_fail(w, PHX_ELIMIT);
    if (n && memchr(s, '\0', n))
        return phx_cdr_writer_fail(w, PHX_EINVAL);
    if (phx_cdr_put_ulong(w, (uint32_t)(n + 1)))
        return w->err;
    d = wspace(w, 1, n + 1);
    if (d == NULL)
        return w->err;
    if (n)
        memcpy(d, s, n);
    d[n] = '\0';
    return 0;
}

int phx_cdr_put_string(phx_cdr_writer_t *w, const char *s)
{
    return phx_cdr_put_string_n(w, s ? s : "", s ? strlen(s) : 0);
}

int phx_cdr_put_octet_seq(phx_cdr_writer_t *w, const void *p, size_t n)
{
    if (w->err)
        return w->err;
    if (n > UINT32_MAX)
        return phx_cdr_writer_fail(w, PHX_ELIMIT);
    if (phx_cdr_put_ulong(w, (uint32_t)n))
        return w->err;
    return phx_cdr_put_raw(w, p, n);
}

int phx_cdr_put_array(phx_cdr_writer_t *w, const void *p, size_t count,
                      size_t elem_size)
{
    uint8_t *d;

    if (w->err)
        return w->err;
    if (!valid_align(elem_size) || (p == NULL && count))
        return phx_cdr_writer_fail(w, PHX_EINVAL);
    if (count == 0)
        return 0;
    if (count > SIZE_MAX / elem_size)
        return phx_cdr_writer_fail(w, PHX_ELIMIT);
    d = wspace(w, elem_size, count * elem_size);
    if (d == NULL)
        return w->err;
    memcpy(d, p, count * elem_size);
    return 0;
}

int phx_cdr_encap_begin(phx_cdr_writer_t *w, phx_cdr_mark_t *mark)
{
    mark->len_pos = 0;
    mark->old_base = w->base;
    if (phx_cdr_put_ulong(w, 0))
        return w->err;
    mark->len_pos = w->len - 4;
    w->base = w->len;
    return phx_cdr_put_octet(w, PHX_CDR_NATIVE);
}

int phx_cdr_encap_end(phx_cdr_writer_t *w, const phx_cdr_mark_t *mark)
{
    size_t n;

    if (w->err)
        return w->err;
    if (mark->len_pos > w->len || w->len - mark->len_pos < 5 ||
        mark->old_base > mark->len_pos)
        return phx_cdr_writer_fail(w, PHX_EINVAL);
    n = w->len - mark->len_pos - 4;
    if (n > UINT32_MAX)
        return phx_cdr_writer_fail(w, PHX_ELIMIT);
    w->base = mark->old_base;
    return phx_cdr_patch_ulong(w, mark->len_pos, (uint32_t)n);
}

int phx_cdr_patch_ulong(phx_cdr_writer_t *w, size_t pos, uint32_t v)
{
    if (w->err)
        return w->err;
    if (pos > w->len || w->len - pos < 4)
        return phx_cdr_writer_fail(w, PHX_EINVAL);
    memcpy(w->buf + pos, &v, 4);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Reader                                                               */
/* ------------------------------------------------------------------ */

void phx_cdr_reader_init(phx_cdr_reader_t *r, const void *buf, size_t len,
                         int byte_order)
{
    r->buf = buf;
    r->len = buf ? len : 0;
    r->pos = 0;
    r->base = 0;
    r->max_len = PHX_CDR_DEFAULT_MAX;
    r->err = 0;
    r->swap = byte_order != PHX_CDR_NATIVE;
    r->errmsg[0] = '\0';
    if (byte_order != PHX_CDR_BIG_ENDIAN &&
        byte_order != PHX_CDR_LITTLE_ENDIAN)
        phx_cdr_reader_fail(r, PHX_EINVAL, "bad byte order");
    else if (buf == NULL && len != 0)
        phx_cdr_reader_fail(r, PHX_EINVAL, "NULL buffer");
}

int phx_cdr_reader_fail(phx_cdr_reader_t *r, int code, const char *what)
{
    if (r->err == 0 && code < 0) {
        r->err = code;
        snprintf(r->errmsg, sizeof r->errmsg, "%s at offset %zu",
                 what ? what : phx_strerror(code), r->pos);
    }
    return r->err;
}

int phx_cdr_reader_error(const phx_cdr_reader_t *r, phx_error_t *err)
{
    if (r->err == 0) {
        phx_error_clear(err);
        return 0;
    }
    return phx_error_set(err, r->err, "CDR: %s", r->errmsg);
}

/* Skip padding to align (relative to base) and borrow n octets; NULL on
 * error.  The single bounds check of the reader. */
static inline const uint8_t *rtake(phx_cdr_reader_t *r, size_t align,
                                   size_t n)
{
    size_t avail = r->len - r->pos;
    size_t pad = pad_for(r->pos - r->base, align);
    const uint8_t *p;

    if (UNLIKELY(r->err))
        return NULL;
    if (UNLIKELY(pad > avail || n > avail - pad)) {
        phx_cdr_reader_fail(r, PHX_EMARSHAL, "truncated data");
        return NULL;
    }
    p = r->buf + r->pos + pad;
    r->pos += pad + n;
    return p;
}

int phx_cdr_skip_align(phx_cdr_reader_t *r, size_t n)
{
    if (!valid_align(n))
        return phx_cdr_reader_fail(r, PHX_EINVAL, "bad alignment");
    return rtake(r, n, 0) ? 0 : r->err;
}

const uint8_t *phx_cdr_get_raw(phx_cdr_reader_t *r, size_t n)
{
    return rtake(r, 1, n);
}

static inline uint16_t bswap16(uint16_t x)
{
    return (uint16_t)((x >> 8) | (x << 8));
}

static inline uint32_t bswap32(uint32_t x)
{
    return __builtin_bswap32(x);
}

static inline uint64_t bswap64(uint64_t x)
{
    return __builtin_bswap64(x);
}

/* Read an unsigned integer of type T (N bits) into *out, zero on error. */
#define GET_UINT(r, T, N, out)                                              \
    do {                                                                    \
        const uint8_t *p_ = rtake(r, sizeof(T), sizeof(T));                 \
        T x_;                                                               \
        if (UNLIKELY(p_ == NULL)) {                                         \
            *(out) = 0;                                                     \
            return (r)->err;                                                \
        }                                                                   \
        memcpy(&x_, p_, sizeof x_);                                         \
        *(out) = (r)->swap ? bswap##N(x_) : x_;                             \
    } while (0)

int phx_cdr_get_octet(phx_cdr_reader_t *r, uint8_t *v)
{
    const uint8_t *p = rtake(r, 1, 1);
    *v = p ? *p : 0;
    return r->err;
}

int phx_cdr_get_boolean(phx_cdr_reader_t *r, bool *v)
{
    const uint8_t *p = rtake(r, 1, 1);

    *v = false;
    if (p == NULL)
        return r->err;
    if (*p > 1)
        return phx_cdr_reader_fail(r, PHX_EMARSHAL, "boolean not 0 or 1");
    *v = *p == 1;
    return 0;
}

int phx_cdr_get_char(phx_cdr_reader_t *r, char *v)
{
    const uint8_t *p = rtake(r, 1, 1);
    *v = p ? (char)*p : 0;
    return r->err;
}

int phx_cdr_get_ushort(phx_cdr_reader_t *r, uint16_t *v)
{
    GET_UINT(r, uint16_t, 16, v);
    return 0;
}

int phx_cdr_get_short(phx_cdr_reader_t *r, int16_t *v)
{
    uint16_t u;
    int rc = phx_cdr_get_ushort(r, &u);
    memcpy(v, &u, sizeof u);
    return rc;
}

int phx_cdr_get_ulong(phx_cdr_reader_t *r, uint32_t *v)
{
    GET_UINT(r, uint32_t, 32, v);
    return 0;
}

int phx_cdr_get_long(phx_cdr_reader_t *r, int32_t *v)
{
    uint32_t u;
    int rc = phx_cdr_get_ulong(r, &u);
    memcpy(v, &u, sizeof u);
    return rc;
}

int phx_cdr_get_ulonglong(phx_cdr_reader_t *r, uint64_t *v)
{
    GET_UINT(r, uint64_t, 64, v);
    return 0;
}

int phx_cdr_get_longlong(phx_cdr_reader_t *r, int64_t *v)
{
    uint64_t u;
    int rc = phx_cdr_get_ulonglong(r, &u);
    memcpy(v, &u, sizeof u);
    return rc;
}

int phx_cdr_get_float(phx_cdr_reader_t *r, float *v)
{
    uint32_t u;
    int rc = phx_cdr_get_ulong(r, &u);
    memcpy(v, &u, sizeof u);
    return rc;
}

int phx_cdr_get_double(phx_cdr_reader_t *r, double *v)
{
    uint64_t u;
    int rc = phx_cdr_get_ulonglong(r, &u);
    memcpy(v, &u, sizeof u);
    return rc;
}

int phx_cdr_get_string(phx_cdr_reader_t *r, const char **s, size_t *n)
{
    uint32_t len;
    const uint8_t *p;

    *s = "";
    *n = 0;
    if (phx_cdr_get_ulong(r, &len))
        return r->err;
    if (len == 0)
        return phx_cdr_reader_fail(r, PHX_EMARSHAL, "string length 0");
    if (len > r->len - r->pos)
        return phx_cdr_reader_fail(r, PHX_EMARSHAL,
                                   "string longer than the data");
    if (len - 1 > r->max_len)
        return phx_cdr_reader_fail(r, PHX_ELIMIT, "string too long");
    p = rtake(r, 1, len);
    if (p == NULL)
        return r->err;
    if (p[len - 1] != '\0')
        return phx_cdr_reader_fail(r, PHX_EMARSHAL, "string without NUL");
    if (memchr(p, '\0', len - 1))
        return phx_cdr_reader_fail(r, PHX_EMARSHAL, "string with NUL");
    *s = (const char *)p;
    *n = len - 1;
    return 0;
}

int phx_cdr_get_string_dup(phx_cdr_reader_t *r, char **s)
{
    const char *p;
    size_t n;
    char *d;

    *s = NULL;
    if (phx_cdr_get_string(r, &p, &n))
        return r->err;
    d = malloc(n + 1);
    if (d == NULL)
        return phx_cdr_reader_fail(r, PHX_ENOMEM, "string allocation");
    memcpy(d, p, n + 1);
    *s = d;
    return 0;
}

int phx_cdr_get_octet_seq(phx_cdr_reader_t *r, const uint8_t **p, size_t *n)
{
    uint32_t count;
    const uint8_t *d;

    *p = NULL;
    *n = 0;
    if (phx_cdr_get_seq_len(r, 1, &count))
        return r->err;
    d = rtake(r, 1, count);
    if (d == NULL)
        return r->err;
    *p = d;
    *n = count;
    return 0;
}

int phx_cdr_get_seq_len(phx_cdr_reader_t *r, size_t min_elem_size,
                        uint32_t *count)
{
    uint32_t c;

    *count = 0;
    if (phx_cdr_get_ulong(r, &c))
        return r->err;
    if (min_elem_size && c > (r->len - r->pos) / min_elem_size)
        return phx_cdr_reader_fail(r, PHX_EMARSHAL,
                                   "sequence longer than the data");
    if (c > r->max_len)
        return phx_cdr_reader_fail(r, PHX_ELIMIT, "sequence too long");
    *count = c;
    return 0;
}

int phx_cdr_get_array(phx_cdr_reader_t *r, void *p, size_t count,
                      size_t elem_size)
{
    const uint8_t *s;
    uint8_t *d = p;

    if (r->err || !valid_align(elem_size) || count > SIZE_MAX / elem_size ||
        (p == NULL && count)) {
        if (r->err == 0)
            phx_cdr_reader_fail(r, PHX_EINVAL, "bad array arguments");
        if (p && valid_align(elem_size) && count <= SIZE_MAX / elem_size)
            memset(p, 0, count * elem_size);
        return r->err;
    }
    if (count == 0)
        return 0;
    s = rtake(r, elem_size, count * elem_size);
    if (s == NULL) {
        memset(p, 0, count * elem_size);
        return r->err;
    }
    memcpy(d, s, count * elem_size);
    if (r->swap && elem_size > 1) {
        for (size_t i = 0; i < count; i++, d += elem_size) {
            switch (elem_size) {
            case 2: {
                uint16_t x;
                memcpy(&x, d, 2);
                x = bswap16(x);
                memcpy(d, &x, 2);
                break;
            }
            case 4: {
                uint32_t x;
                memcpy(&x, d, 4);
                x = bswap32(x);
                memcpy(d, &x, 4);
                break;
            }
            default: {
                uint64_t x;
                memcpy(&x, d, 8);
                x = bswap64(x);
                memcpy(d, &x, 8);
                break;
            }
            }
        }
    }
    return 0;
}

int phx_cdr_reader_init_encap(phx_cdr_reader_t *r, const void *buf,
                              size_t len)
{
    uint8_t bo;

    phx_cdr_reader_init(r, buf, len, PHX_CDR_NATIVE);
    if (r->err == 0 && r->len == 0)
        return phx_cdr_reader_fail(r, PHX_EMARSHAL, "empty encapsulation");
    if (phx_cdr_get_octet(r, &bo))
        return r->err;
    if (bo > 1)
        return phx_cdr_reader_fail(r, PHX_EMARSHAL,
                                   "bad encapsulation byte order");
    r->swap = bo != PHX_CDR_NATIVE;
    return 0;
}

int phx_cdr_get_encap(phx_cdr_reader_t *r, phx_cdr_reader_t *sub)
{
    const uint8_t *p;
    size_t n;

    if (phx_cdr_get_octet_seq(r, &p, &n)) {
        phx_cdr_reader_init(sub, NULL, 0, PHX_CDR_NATIVE);
        phx_cdr_reader_fail(sub, r->err, "bad encapsulation");
        return r->err;
    }
    if (phx_cdr_reader_init_encap(sub, p, n))
        return phx_cdr_reader_fail(r, sub->err, "bad encapsulation");
    sub->max_len = r->max_len;
    return 0;
}
