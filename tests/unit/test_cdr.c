/*
 * test_cdr.c - unit tests of the CDR writer and reader (orb/cdr/cdr.c).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>

#include <phx/cdr.h>

/* ------------------------------------------------------------------ */
/* Building expected bytes by hand in a chosen byte order               */
/* ------------------------------------------------------------------ */

typedef struct bytes {
    uint8_t b[512];
    size_t n;
    bool le;
} bytes_t;

static void bb_init(bytes_t *bb, bool le)
{
    memset(bb, 0, sizeof *bb);
    bb->le = le;
}

static void bb_pad(bytes_t *bb, size_t align)
{
    while (bb->n % align)
        bb->b[bb->n++] = 0;
}

static void bb_uint(bytes_t *bb, uint64_t v, size_t size)
{
    bb_pad(bb, size);
    for (size_t i = 0; i < size; i++) {
        size_t shift = bb->le ? i : size - 1 - i;
        bb->b[bb->n++] = (uint8_t)(v >> (8 * shift));
    }
}

static void bb_raw(bytes_t *bb, const void *p, size_t n)
{
    memcpy(bb->b + bb->n, p, n);
    bb->n += n;
}

static void bb_string(bytes_t *bb, const char *s)
{
    bb_uint(bb, strlen(s) + 1, 4);
    bb_raw(bb, s, strlen(s) + 1);
}

static uint32_t f2u(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static uint64_t d2u(double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    return u;
}

/* The known message used by the encode and decode tests. */
static void build_known(bytes_t *bb, bool le)
{
    bb_init(bb, le);
    bb_uint(bb, 0xAB, 1);                    /* octet at 0 */
    bb_uint(bb, 0xFFFE, 2);                  /* short -2 at 2 */
    bb_uint(bb, 0x01020304, 4);              /* long at 4 */
    bb_uint(bb, 0x7F, 1);                    /* octet at 8 */
    bb_uint(bb, 0x0102030405060708ULL, 8);   /* longlong at 16 */
    bb_uint(bb, 1, 1);                       /* boolean at 24 */
    bb_uint(bb, 'Z', 1);                     /* char at 25 */
    bb_uint(bb, 0xBEEF, 2);                  /* ushort at 26 */
    bb_uint(bb, f2u(1.5f), 4);               /* float at 28 */
    bb_uint(bb, d2u(-2.25), 8);              /* double at 32 */
    bb_uint(bb, 0xDEADBEEF, 4);              /* ulong at 40 */
    bb_string(bb, "hi");                     /* string at 44 */
    bb_uint(bb, 0xFEDCBA9876543210ULL, 8);   /* ulonglong at 56 */
}

static void write_known(phx_cdr_writer_t *w)
{
    phx_cdr_put_octet(w, 0xAB);
    phx_cdr_put_short(w, -2);
    phx_cdr_put_long(w, 0x01020304);
    phx_cdr_put_octet(w, 0x7F);
    phx_cdr_put_longlong(w, 0x0102030405060708LL);
    phx_cdr_put_boolean(w, true);
    phx_cdr_put_char(w, 'Z');
    phx_cdr_put_ushort(w, 0xBEEF);
    phx_cdr_put_float(w, 1.5f);
    phx_cdr_put_double(w, -2.25);
    phx_cdr_put_ulong(w, 0xDEADBEEF);
    phx_cdr_put_string(w, "hi");
    phx_cdr_put_ulonglong(w, 0xFEDCBA9876543210ULL);
}

static void read_known(phx_cdr_reader_t *r)
{
    uint8_t o;
    int16_t s;
    int32_t l;
    int64_t ll;
    bool b;
    char c;
    uint16_t us;
    float f;
    double d;
    uint32_t ul;
    uint64_t ull;
    const char *str;
    size_t n;

    CU_ASSERT_EQUAL(phx_cdr_get_octet(r, &o), 0);
    CU_ASSERT_EQUAL(o, 0xAB);
    CU_ASSERT_EQUAL(phx_cdr_get_short(r, &s), 0);
    CU_ASSERT_EQUAL(s, -2);
    CU_ASSERT_EQUAL(phx_cdr_get_long(r, &l), 0);
    CU_ASSERT_EQUAL(l, 0x01020304);
    CU_ASSERT_EQUAL(phx_cdr_get_octet(r, &o), 0);
    CU_ASSERT_EQUAL(o, 0x7F);
    CU_ASSERT_EQUAL(phx_cdr_get_longlong(r, &ll), 0);
    CU_ASSERT_EQUAL(ll, 0x0102030405060708LL);
    CU_ASSERT_EQUAL(phx_cdr_get_boolean(r, &b), 0);
    CU_ASSERT_TRUE(b);
    CU_ASSERT_EQUAL(phx_cdr_get_char(r, &c), 0);
    CU_ASSERT_EQUAL(c, 'Z');
    CU_ASSERT_EQUAL(phx_cdr_get_ushort(r, &us), 0);
    CU_ASSERT_EQUAL(us, 0xBEEF);
    CU_ASSERT_EQUAL(phx_cdr_get_float(r, &f), 0);
    CU_ASSERT_EQUAL(f, 1.5f);
    CU_ASSERT_EQUAL(phx_cdr_get_double(r, &d), 0);
    CU_ASSERT_EQUAL(d, -2.25);
    CU_ASSERT_EQUAL(phx_cdr_get_ulong(r, &ul), 0);
    CU_ASSERT_EQUAL(ul, 0xDEADBEEF);
    CU_ASSERT_EQUAL(phx_cdr_get_string(r, &str, &n), 0);
    CU_ASSERT_EQUAL(n, 2);
    CU_ASSERT_STRING_EQUAL(str, "hi");
    CU_ASSERT_EQUAL(phx_cdr_get_ulonglong(r, &ull), 0);
    CU_ASSERT_EQUAL(ull, 0xFEDCBA9876543210ULL);
    CU_ASSERT_EQUAL(phx_cdr_reader_remaining(r), 0);
    CU_ASSERT_EQUAL(phx_cdr_reader_status(r), 0);
}

/* ------------------------------------------------------------------ */
/* Tests                                                                */
/* ------------------------------------------------------------------ */

static void test_writer_native_bytes(void)
{
    phx_cdr_writer_t w;
    bytes_t exp;

    build_known(&exp, PHX_CDR_NATIVE == PHX_CDR_LITTLE_ENDIAN);
    CU_ASSERT_EQUAL(exp.n, 64);
    phx_cdr_writer_init(&w, 0);
    write_known(&w);
    CU_ASSERT_EQUAL(phx_cdr_writer_status(&w), 0);
    CU_ASSERT_EQUAL_FATAL(phx_cdr_writer_len(&w), exp.n);
    for (size_t i = 0; i < exp.n; i++) {
        if (phx_cdr_writer_data(&w)[i] != exp.b[i]) {
            CU_FAIL("writer output differs");
            printf("\n  byte %zu: got %02x want %02x\n", i,
                   phx_cdr_writer_data(&w)[i], exp.b[i]);
            break;
        }
    }
    phx_cdr_writer_fini(&w);
}

static void test_reader_both_orders(void)
{
    phx_cdr_reader_t r;
    bytes_t in;

    build_known(&in, false);
    phx_cdr_reader_init(&r, in.b, in.n, PHX_CDR_BIG_ENDIAN);
    read_known(&r);

    build_known(&in, true);
    phx_cdr_reader_init(&r, in.b, in.n, PHX_CDR_LITTLE_ENDIAN);
    read_known(&r);

    /* Spot check: big-endian 0x00000102 is 258. */
    static const uint8_t be[] = {0, 0, 1, 2};
    uint32_t v;
    phx_cdr_reader_init(&r, be, sizeof be, PHX_CDR_BIG_ENDIAN);
    CU_ASSERT_EQUAL(phx_cdr_get_ulong(&r, &v), 0);
    CU_ASSERT_EQUAL(v, 258);
    phx_cdr_reader_init(&r, be, sizeof be, PHX_CDR_LITTLE_ENDIAN);
    CU_ASSERT_EQUAL(phx_cdr_get_ulong(&r, &v), 0);
    CU_ASSERT_EQUAL(v, 0x02010000);
}

static void test_roundtrip_extremes(void)
{
    phx_cdr_writer_t w;
    phx_cdr_reader_t r;
    int16_t s;
    uint16_t us;
    int32_t l;
    uint32_t ul;
    int64_t ll;
    uint64_t ull;
    float f;
    double d;

    phx_cdr_writer_init(&w, 1);
    phx_cdr_put_short(&w, INT16_MIN);
    phx_cdr_put_ushort(&w, UINT16_MAX);
    phx_cdr_put_long(&w, INT32_MIN);
    phx_cdr_put_ulong(&w, UINT32_MAX);
    phx_cdr_put_longlong(&w, INT64_MIN);
    phx_cdr_put_ulonglong(&w, UINT64_MAX);
    phx_cdr_put_float(&w, -INFINITY);
    phx_cdr_put_double(&w, NAN);
    phx_cdr_put_double(&w, 1e-300);
    CU_ASSERT_EQUAL_FATAL(phx_cdr_writer_status(&w), 0);

    phx_cdr_reader_init(&r, w.buf, w.len, PHX_CDR_NATIVE);
    phx_cdr_get_short(&r, &s);
    CU_ASSERT_EQUAL(s, INT16_MIN);
    phx_cdr_get_ushort(&r, &us);
    CU_ASSERT_EQUAL(us, UINT16_MAX);
    phx_cdr_get_long(&r, &l);
    CU_ASSERT_EQUAL(l, INT32_MIN);
    phx_cdr_get_ulong(&r, &ul);
    CU_ASSERT_EQUAL(ul, UINT32_MAX);
    phx_cdr_get_longlong(&r, &ll);
    CU_ASSERT_EQUAL(ll, INT64_MIN);
    phx_cdr_get_ulonglong(&r, &ull);
    CU_ASSERT_EQUAL(ull, UINT64_MAX);
    phx_cdr_get_float(&r, &f);
    CU_ASSERT_TRUE(isinf(f) && f < 0);
    phx_cdr_get_double(&r, &d);
    CU_ASSERT_TRUE(isnan(d));
    phx_cdr_get_double(&r, &d);
    CU_ASSERT_EQUAL(d, 1e-300);
    CU_ASSERT_EQUAL(phx_cdr_reader_status(&r), 0);
    CU_ASSERT_EQUAL(phx_cdr_reader_remaining(&r), 0);
    phx_cdr_writer_fini(&w);
}

static void test_alignment_base(void)
{
    phx_cdr_writer_t w;
    phx_cdr_reader_t r;
    uint32_t v;
    uint16_t s;

    phx_cdr_writer_init(&w, 0);
    phx_cdr_put_octet(&w, 9);
    w.base = 1;
    phx_cdr_put_ulong(&w, 7);         /* no padding: offset 0 from base */
    CU_ASSERT_EQUAL(w.len, 5);
    phx_cdr_put_short(&w, 1);         /* relative 4: aligned */
    CU_ASSERT_EQUAL(w.len, 7);
    phx_cdr_put_long(&w, 2);          /* relative 6: two octets of pad */
    CU_ASSERT_EQUAL(w.len, 13);
    CU_ASSERT_EQUAL(w.buf[7], 0);
    CU_ASSERT_EQUAL(w.buf[8], 0);
    CU_ASSERT_EQUAL(phx_cdr_align(&w, 8), 0); /* relative 12 -> 16 */
    CU_ASSERT_EQUAL(w.len, 17);
    CU_ASSERT_EQUAL(phx_cdr_align(&w, 3), PHX_EINVAL);
    phx_cdr_writer_fini(&w);

    /* The reader honours its base the same way. */
    static const uint8_t in[] = {0xEE, 0, 0, 0, 5, 0, 3};
    phx_cdr_reader_init(&r, in, sizeof in, PHX_CDR_BIG_ENDIAN);
    r.pos = 1;
    r.base = 1;
    CU_ASSERT_EQUAL(phx_cdr_get_ulong(&r, &v), 0);
    CU_ASSERT_EQUAL(v, 5);
    CU_ASSERT_EQUAL(phx_cdr_get_ushort(&r, &s), 0);
    CU_ASSERT_EQUAL(s, 3);

    /* Padding past the end is truncation. */
    static const uint8_t two[] = {1, 2};
    phx_cdr_reader_init(&r, two, sizeof two, PHX_CDR_NATIVE);
    CU_ASSERT_EQUAL(phx_cdr_skip_align(&r, 2), 0);
    CU_ASSERT_EQUAL(phx_cdr_get_raw(&r, 1)[0], 1);
    CU_ASSERT_EQUAL(phx_cdr_skip_align(&r, 4), PHX_EMARSHAL);
}

static void test_encap_nesting(void)
{
    phx_cdr_writer_t w;
    phx_cdr_reader_t r, sub, sub2;
    phx_cdr_mark_t outer, inner;
    bytes_t exp;
    bool le = PHX_CDR_NATIVE == PHX_CDR_LITTLE_ENDIAN;
    uint8_t o;
    uint64_t ull;
    int16_t s;
    double d;
    int32_t l;

    phx_cdr_writer_init(&w, 0);
    phx_cdr_put_octet(&w, 0x11);
    CU_ASSERT_EQUAL(phx_cdr_encap_begin(&w, &outer), 0);
    CU_ASSERT_EQUAL(w.base, 8);
    phx_cdr_put_ulonglong(&w, 0x1122334455667788ULL);
    CU_ASSERT_EQUAL(phx_cdr_encap_begin(&w, &inner), 0);
    CU_ASSERT_EQUAL(w.base, 28);
    phx_cdr_put_short(&w, -5);
    CU_ASSERT_EQUAL(phx_cdr_encap_end(&w, &inner), 0);
    CU_ASSERT_EQUAL(w.base, 8);
    phx_cdr_put_double(&w, 0.5);
    CU_ASSERT_EQUAL(phx_cdr_encap_end(&w, &outer), 0);
    CU_ASSERT_EQUAL(w.base, 0);
    phx_cdr_put_long(&w, 77);
    CU_ASSERT_EQUAL_FATAL(phx_cdr_writer_status(&w), 0);

    bb_init(&exp, le);
    bb_uint(&exp, 0x11, 1);
    bb_uint(&exp, 32, 4);                    /* outer length at 4 */
    bb_uint(&exp, PHX_CDR_NATIVE, 1);        /* outer byte order at 8 */
    bb_raw(&exp, "\0\0\0\0\0\0\0", 7);       /* pad to 8 relative to 8 */
    bb_uint(&exp, 0x1122334455667788ULL, 8); /* at 16 */
    bb_uint(&exp, 4, 4);                     /* inner length at 24 */
    bb_uint(&exp, PHX_CDR_NATIVE, 1);        /* inner byte order at 28 */
    bb_raw(&exp, "\0", 1);                   /* pad to 2 relative to 28 */
    bb_uint(&exp, 0xFFFB, 2);                /* short at 30 */
    bb_uint(&exp, d2u(0.5), 8);              /* double at 32 */
    bb_uint(&exp, 77, 4);                    /* long at 40 */
    CU_ASSERT_EQUAL_FATAL(w.len, exp.n);
    CU_ASSERT_EQUAL(memcmp(w.buf, exp.b, exp.n), 0);

    phx_cdr_reader_init(&r, w.buf, w.len, PHX_CDR_NATIVE);
    phx_cdr_get_octet(&r, &o);
    CU_ASSERT_EQUAL(o, 0x11);
    CU_ASSERT_EQUAL_FATAL(phx_cdr_get_encap(&r, &sub), 0);
    CU_ASSERT_EQUAL(sub.len, 32);
    phx_cdr_get_ulonglong(&sub, &ull);
    CU_ASSERT_EQUAL(ull, 0x1122334455667788ULL);
    CU_ASSERT_EQUAL_FATAL(phx_cdr_get_encap(&sub, &sub2), 0);
    phx_cdr_get_short(&sub2, &s);
    CU_ASSERT_EQUAL(s, -5);
    CU_ASSERT_EQUAL(phx_cdr_reader_remaining(&sub2), 0);
    phx_cdr_get_double(&sub, &d);
    CU_ASSERT_EQUAL(d, 0.5);
    CU_ASSERT_EQUAL(phx_cdr_reader_remaining(&sub), 0);
    CU_ASSERT_EQUAL(phx_cdr_reader_status(&sub), 0);
    phx_cdr_get_long(&r, &l);
    CU_ASSERT_EQUAL(l, 77);
    CU_ASSERT_EQUAL(phx_cdr_reader_status(&r), 0);
    phx_cdr_writer_fini(&w);

    /* A big-endian encapsulation inside a little-endian stream. */
    bytes_t in;
    bb_init(&in, true);
    bb_uint(&in, 10, 4);
    in.b[in.n++] = PHX_CDR_BIG_ENDIAN;
    in.le = false;
    bb_raw(&in, "\0\0\0", 3);
    bb_uint(&in, 0xCAFEBABE, 4);
    bb_uint(&in, 0x0102, 2);
    phx_cdr_reader_init(&r, in.b, in.n, PHX_CDR_LITTLE_ENDIAN);
    CU_ASSERT_EQUAL_FATAL(phx_cdr_get_encap(&r, &sub), 0);
    uint32_t ul;
    uint16_t us;
    phx_cdr_get_ulong(&sub, &ul);
    CU_ASSERT_EQUAL(ul, 0xCAFEBABE);
    phx_cdr_get_ushort(&sub, &us);
    CU_ASSERT_EQUAL(us, 0x0102);
    CU_ASSERT_EQUAL(phx_cdr_reader_status(&sub), 0);

    /* Bad encapsulations. */
    static const uint8_t empty[] = {0, 0, 0, 0};
    phx_cdr_reader_init(&r, empty, sizeof empty, PHX_CDR_BIG_ENDIAN);
    CU_ASSERT_EQUAL(phx_cdr_get_encap(&r, &sub), PHX_EMARSHAL);
    CU_ASSERT_EQUAL(phx_cdr_reader_status(&sub), PHX_EMARSHAL);
    static const uint8_t badbo[] = {0, 0, 0, 1, 7};
    phx_cdr_reader_init(&r, badbo, sizeof badbo, PHX_CDR_BIG_ENDIAN);
    CU_ASSERT_EQUAL(phx_cdr_get_encap(&r, &sub), PHX_EMARSHAL);
    static const uint8_t lies[] = {0, 0, 0, 9, 0, 1};
    phx_cdr_reader_init(&r, lies, sizeof lies, PHX_CDR_BIG_ENDIAN);
    CU_ASSERT_EQUAL(phx_cdr_get_encap(&r, &sub), PHX_EMARSHAL);
    CU_ASSERT_NOT_EQUAL(phx_cdr_reader_status(&sub), 0);
    CU_ASSERT_EQUAL(phx_cdr_reader_init_encap(&sub, empty, 0), PHX_EMARSHAL);
    CU_ASSERT_EQUAL(phx_cdr_reader_init_encap(&sub, badbo + 4, 1),
                    PHX_EMARSHAL);
    CU_ASSERT_EQUAL(phx_cdr_reader_init_encap(&sub, empty, 1), 0);
    CU_ASSERT_EQUAL(sub.swap, PHX_CDR_NATIVE != PHX_CDR_BIG_ENDIAN);

    /* A mark that does not belong to the writer. */
    phx_cdr_writer_init(&w, 0);
    phx_cdr_mark_t bogus = {100, 0};
    CU_ASSERT_EQUAL(phx_cdr_encap_end(&w, &bogus), PHX_EINVAL);
    phx_cdr_writer_fini(&w);
}

static void test_strings(void)
{
    phx_cdr_writer_t w;
    phx_cdr_reader_t r;
    const char *s;
    char *dup;
    size_t n;
    bytes_t in;

    phx_cdr_writer_init(&w, 0);
    phx_cdr_put_string(&w, "");
    phx_cdr_put_string(&w, NULL);
    phx_cdr_put_string(&w, "hello");
    phx_cdr_put_string_n(&w, "worldXXX", 5);
    CU_ASSERT_EQUAL(phx_cdr_writer_status(&w), 0);
    CU_ASSERT_EQUAL(w.len, 5 + 3 + 5 + 3 + 10 + 2 + 10);
    phx_cdr_reader_init(&r, w.buf, w.len, PHX_CDR_NATIVE);
    CU_ASSERT_EQUAL(phx_cdr_get_string(&r, &s, &n), 0);
    CU_ASSERT_STRING_EQUAL(s, "");
    CU_ASSERT_EQUAL(n, 0);
    CU_ASSERT_EQUAL(phx_cdr_get_string(&r, &s, &n), 0);
    CU_ASSERT_STRING_EQUAL(s, "");
    CU_ASSERT_EQUAL(phx_cdr_get_string(&r, &s, &n), 0);
    CU_ASSERT_STRING_EQUAL(s, "hello");
    CU_ASSERT_EQUAL(n, 5);
    CU_ASSERT_TRUE((const uint8_t *)s > w.buf &&
                   (const uint8_t *)s < w.buf + w.len);
    CU_ASSERT_EQUAL(phx_cdr_get_string_dup(&r, &dup), 0);
    CU_ASSERT_STRING_EQUAL(dup, "world");
    free(dup);
    CU_ASSERT_EQUAL(phx_cdr_reader_remaining(&r), 0);

    /* Writer refusals. */
    phx_cdr_writer_reset(&w);
    CU_ASSERT_EQUAL(phx_cdr_put_string_n(&w, "a\0b", 3), PHX_EINVAL);
    phx_cdr_writer_reset(&w);
    CU_ASSERT_EQUAL(phx_cdr_put_string_n(&w, NULL, 2), PHX_EINVAL);
    phx_cdr_writer_fini(&w);

    /* Missing NUL. */
    bb_init(&in, false);
    bb_uint(&in, 3, 4);
    bb_raw(&in, "abc", 3);
    phx_cdr_reader_init(&r, in.b, in.n, PHX_CDR_BIG_ENDIAN);
    CU_ASSERT_EQUAL(phx_cdr_get_string(&r, &s, &n), PHX_EMARSHAL);
    CU_ASSERT_STRING_EQUAL(s, "");
    CU_ASSERT_EQUAL(n, 0);

    /* Embedded NUL. */
    bb_init(&in, false);
    bb_uint(&in, 4, 4);
    bb_raw(&in, "a\0b\0", 4);
    phx_cdr_reader_init(&r, in.b, in.n, PHX_CDR_BIG_ENDIAN);
    CU_ASSERT_EQUAL(phx_cdr_get_string(&r, &s, &n), PHX_EMARSHAL);
    phx_cdr_reader_init(&r, in.b, in.n, PHX_CDR_BIG_ENDIAN);
    CU_ASSERT_EQUAL(phx_cdr_get_string_dup(&r, &dup), PHX_EMARSHAL);
    CU_ASSERT_PTR_NULL(dup);

    /* Length 0. */
    bb_init(&in, false);
    bb_uint(&in, 0, 4);
    bb_raw(&in, "\0", 1);
    phx_cdr_reader_init(&r, in.b, in.n, PHX_CDR_BIG_ENDIAN);
    CU_ASSERT_EQUAL(phx_cdr_get_string(&r, &s, &n), PHX_EMARSHAL);

    /* Length beyond the buffer, small and huge. */
    bb_init(&in, false);
    bb_uint(&in, 6, 4);
    bb_raw(&in, "abcd\0", 5);
    phx_cdr_reader_init(&r, in.b, in.n, PHX_CDR_BIG_ENDIAN);
    CU_ASSERT_EQUAL(phx_cdr_get_string(&r, &s, &n), PHX_EMARSHAL);
    bb_init(&in, false);
    bb_uint(&in, 0xFFFFFFFF, 4);
    bb_raw(&in, "abcd\0", 5);
    phx_cdr_reader_init(&r, in.b, in.n, PHX_CDR_BIG_ENDIAN);
    CU_ASSERT_EQUAL(phx_cdr_get_string_dup(&r, &dup), PHX_EMARSHAL);
    CU_ASSERT_PTR_NULL(dup);

    /* max_len counts characters without the NUL. */
    bb_init(&in, false);
    bb_string(&in, "0123456789");
    phx_cdr_reader_init(&r, in.b, in.n, PHX_CDR_BIG_ENDIAN);
    phx_cdr_reader_set_max_len(&r, 9);
    CU_ASSERT_EQUAL(phx_cdr_get_string(&r, &s, &n), PHX_ELIMIT);
    phx_cdr_reader_init(&r, in.b, in.n, PHX_CDR_BIG_ENDIAN);
    phx_cdr_reader_set_max_len(&r, 10);
    CU_ASSERT_EQUAL(phx_cdr_get_string(&r, &s, &n), 0);
    CU_ASSERT_EQUAL(n, 10);
}

static void test_octet_seq(void)
{
    phx_cdr_writer_t w;
    phx_cdr_reader_t r;
    const uint8_t *p;
    size_t n;
    static const uint8_t data[] = {1, 2, 3, 4, 5};

    phx_cdr_writer_init(&w, 0);
    phx_cdr_put_octet(&w, 0);
    phx_cdr_put_octet_seq(&w, data, sizeof data);
    phx_cdr_put_octet_seq(&w, NULL, 0);
    CU_ASSERT_EQUAL(phx_cdr_put_octet_seq(&w, NULL, 3), PHX_EINVAL);
    phx_cdr_writer_reset(&w);
    phx_cdr_put_octet(&w, 0);
    phx_cdr_put_octet_seq(&w, data, sizeof data);
    phx_cdr_put_octet_seq(&w, NULL, 0);
    CU_ASSERT_EQUAL_FATAL(phx_cdr_writer_status(&w), 0);
    CU_ASSERT_EQUAL(w.len, 4 + 4 + 5 + 3 + 4);

    phx_cdr_reader_init(&r, w.buf, w.len, PHX_CDR_NATIVE);
    phx_cdr_get_raw(&r, 1);
    CU_ASSERT_EQUAL(phx_cdr_get_octet_seq(&r, &p, &n), 0);
    CU_ASSERT_EQUAL(n, 5);
    CU_ASSERT_PTR_EQUAL(p, w.buf + 8);
    CU_ASSERT_EQUAL(memcmp(p, data, 5), 0);
    CU_ASSERT_EQUAL(phx_cdr_get_octet_seq(&r, &p, &n), 0);
    CU_ASSERT_EQUAL(n, 0);
    CU_ASSERT_EQUAL(phx_cdr_reader_remaining(&r), 0);
    phx_cdr_writer_fini(&w);
}

static void test_seq_len_lies(void)
{
    phx_cdr_reader_t r;
    bytes_t in;
    uint32_t c;
    const uint8_t *p;
    size_t n;

    bb_init(&in, false);
    bb_uint(&in, 0xFFFFFFFF, 4);
    bb_uint(&in, 0, 8);
    phx_cdr_reader_init(&r, in.b, in.n, PHX_CDR_BIG_ENDIAN);
    CU_ASSERT_EQUAL(phx_cdr_get_seq_len(&r, 1, &c), PHX_EMARSHAL);
    CU_ASSERT_EQUAL(c, 0);
    phx_cdr_reader_init(&r, in.b, in.n, PHX_CDR_BIG_ENDIAN);
    CU_ASSERT_EQUAL(phx_cdr_get_octet_seq(&r, &p, &n), PHX_EMARSHAL);
    CU_ASSERT_PTR_NULL(p);
    CU_ASSERT_EQUAL(n, 0);

    /* 8 octets left: 2 doubles fit, 3 do not (also checked when the
     * count alone would fit as octets). */
    bb_init(&in, false);
    bb_uint(&in, 3, 4);
    bb_uint(&in, 0, 8);
    phx_cdr_reader_init(&r, in.b, in.n, PHX_CDR_BIG_ENDIAN);
    CU_ASSERT_EQUAL(phx_cdr_get_seq_len(&r, 8, &c), PHX_EMARSHAL);
    phx_cdr_reader_init(&r, in.b, in.n, PHX_CDR_BIG_ENDIAN);
    CU_ASSERT_EQUAL(phx_cdr_get_seq_len(&r, 1, &c), 0);
    CU_ASSERT_EQUAL(c, 3);

    /* min_elem_size 0: only max_len protects. */
    bb_init(&in, false);
    bb_uint(&in, 1000000, 4);
    phx_cdr_reader_init(&r, in.b, in.n, PHX_CDR_BIG_ENDIAN);
    phx_cdr_reader_set_max_len(&r, 1000);
    CU_ASSERT_EQUAL(phx_cdr_get_seq_len(&r, 0, &c), PHX_ELIMIT);
    CU_ASSERT_EQUAL(c, 0);

    /* max_len on octet sequences. */
    bb_init(&in, false);
    bb_uint(&in, 4, 4);
    bb_uint(&in, 0, 4);
    phx_cdr_reader_init(&r, in.b, in.n, PHX_CDR_BIG_ENDIAN);
    phx_cdr_reader_set_max_len(&r, 3);
    CU_ASSERT_EQUAL(phx_cdr_get_octet_seq(&r, &p, &n), PHX_ELIMIT);
    phx_cdr_reader_init(&r, in.b, in.n, PHX_CDR_BIG_ENDIAN);
    phx_cdr_reader_set_max_len(&r, 4);
    CU_ASSERT_EQUAL(phx_cdr_get_octet_seq(&r, &p, &n), 0);
}

static void test_reader_sticky(void)
{
    phx_cdr_reader_t r;
    static const uint8_t in[] = {0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    uint32_t ul = 99;
    uint8_t o = 99;
    bool b = true;
    double d = 1;
    int16_t s = 1;
    const char *str = NULL;
    const uint8_t *p = in;
    size_t n = 99;
    uint16_t arr[2] = {5, 5};
    phx_error_t err;

    phx_cdr_reader_init(&r, in, 12, PHX_CDR_BIG_ENDIAN);
    CU_ASSERT_EQUAL(phx_cdr_reader_error(&r, &err), 0);
    CU_ASSERT_EQUAL(err.code, 0);
    CU_ASSERT_EQUAL(phx_cdr_get_ulong(&r, &ul), 0);
    /* A boolean of 1 is fine; a lying string length fails. */
    CU_ASSERT_EQUAL(phx_cdr_get_boolean(&r, &b), 0);
    CU_ASSERT_EQUAL(phx_cdr_get_string(&r, &str, &n), PHX_EMARSHAL);
    CU_ASSERT_EQUAL(phx_cdr_reader_status(&r), PHX_EMARSHAL);
    CU_ASSERT_EQUAL(phx_cdr_reader_remaining(&r), 0);

    /* Everything afterwards fails with the same code, outputs zeroed. */
    CU_ASSERT_EQUAL(phx_cdr_get_octet(&r, &o), PHX_EMARSHAL);
    CU_ASSERT_EQUAL(o, 0);
    CU_ASSERT_EQUAL(phx_cdr_get_ulong(&r, &ul), PHX_EMARSHAL);
    CU_ASSERT_EQUAL(ul, 0);
    b = true;
    CU_ASSERT_EQUAL(phx_cdr_get_boolean(&r, &b), PHX_EMARSHAL);
    CU_ASSERT_FALSE(b);
    CU_ASSERT_EQUAL(phx_cdr_get_double(&r, &d), PHX_EMARSHAL);
    CU_ASSERT_EQUAL(d, 0.0);
    CU_ASSERT_EQUAL(phx_cdr_get_short(&r, &s), PHX_EMARSHAL);
    CU_ASSERT_EQUAL(s, 0);
    n = 5;
    CU_ASSERT_EQUAL(phx_cdr_get_string(&r, &str, &n), PHX_EMARSHAL);
    CU_ASSERT_STRING_EQUAL(str, "");
    CU_ASSERT_EQUAL(n, 0);
    CU_ASSERT_EQUAL(phx_cdr_get_octet_seq(&r, &p, &n), PHX_EMARSHAL);
    CU_ASSERT_PTR_NULL(p);
    CU_ASSERT_EQUAL(phx_cdr_get_array(&r, arr, 2, 2), PHX_EMARSHAL);
    CU_ASSERT_EQUAL(arr[0], 0);
    CU_ASSERT_EQUAL(arr[1], 0);
    CU_ASSERT_PTR_NULL(phx_cdr_get_raw(&r, 0));
    CU_ASSERT_EQUAL(phx_cdr_skip_align(&r, 1), PHX_EMARSHAL);

    /* The first error wins. */
    CU_ASSERT_EQUAL(phx_cdr_reader_fail(&r, PHX_ELIMIT, "x"), PHX_EMARSHAL);
    CU_ASSERT_EQUAL(phx_cdr_reader_error(&r, &err), PHX_EMARSHAL);
    CU_ASSERT_EQUAL(err.code, PHX_EMARSHAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "CDR: "));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "offset 12"));

    /* Truncated primitive. */
    phx_cdr_reader_init(&r, in, 3, PHX_CDR_BIG_ENDIAN);
    ul = 7;
    CU_ASSERT_EQUAL(phx_cdr_get_ulong(&r, &ul), PHX_EMARSHAL);
    CU_ASSERT_EQUAL(ul, 0);

    /* Bad byte order and NULL buffer. */
    phx_cdr_reader_init(&r, in, 12, 2);
    CU_ASSERT_EQUAL(phx_cdr_reader_status(&r), PHX_EINVAL);
    phx_cdr_reader_init(&r, NULL, 12, PHX_CDR_NATIVE);
    CU_ASSERT_EQUAL(phx_cdr_reader_status(&r), PHX_EINVAL);
    phx_cdr_reader_init(&r, NULL, 0, PHX_CDR_NATIVE);
    CU_ASSERT_EQUAL(phx_cdr_reader_status(&r), 0);
    CU_ASSERT_EQUAL(phx_cdr_get_octet(&r, &o), PHX_EMARSHAL);
}

static void test_writer_fixed_and_sticky(void)
{
    phx_cdr_writer_t w;
    uint8_t buf[8];
    uint8_t six[6];

    phx_cdr_writer_init_fixed(&w, buf, sizeof buf);
    CU_ASSERT_EQUAL(phx_cdr_put_ulonglong(&w, 1), 0);
    CU_ASSERT_EQUAL(w.len, 8);
    CU_ASSERT_EQUAL(phx_cdr_put_octet(&w, 1), PHX_ELIMIT);
    CU_ASSERT_EQUAL(w.len, 8);
    CU_ASSERT_PTR_EQUAL(w.buf, buf);
    phx_cdr_writer_fini(&w); /* must not free caller storage */

    phx_cdr_writer_init_fixed(&w, six, sizeof six);
    CU_ASSERT_EQUAL(phx_cdr_put_octet(&w, 1), 0);
    CU_ASSERT_EQUAL(phx_cdr_put_ulong(&w, 2), PHX_ELIMIT); /* pad+4 > 5 */
    CU_ASSERT_EQUAL(w.len, 1);
    /* Sticky: everything fails now, even what would fit. */
    CU_ASSERT_EQUAL(phx_cdr_put_octet(&w, 1), PHX_ELIMIT);
    CU_ASSERT_EQUAL(phx_cdr_put_string(&w, ""), PHX_ELIMIT);
    CU_ASSERT_EQUAL(phx_cdr_put_raw(&w, "x", 1), PHX_ELIMIT);
    CU_ASSERT_PTR_NULL(phx_cdr_reserve(&w, 1));
    CU_ASSERT_EQUAL(phx_cdr_align(&w, 2), PHX_ELIMIT);
    CU_ASSERT_EQUAL(w.len, 1);
    CU_ASSERT_EQUAL(phx_cdr_writer_fail(&w, PHX_EINVAL), PHX_ELIMIT);
    CU_ASSERT_PTR_NULL(phx_cdr_writer_steal(&w, NULL));

    /* Reset clears the error and keeps the storage. */
    phx_cdr_writer_reset(&w);
    CU_ASSERT_EQUAL(phx_cdr_writer_status(&w), 0);
    CU_ASSERT_EQUAL(w.len, 0);
    CU_ASSERT_EQUAL(phx_cdr_put_ulong(&w, 0x01020304), 0);
    CU_ASSERT_EQUAL(phx_cdr_put_short(&w, 5), 0);
    CU_ASSERT_EQUAL(w.len, 6);
    CU_ASSERT_PTR_EQUAL(w.buf, six);
    phx_cdr_writer_fini(&w);

    /* Zero-size fixed writer. */
    phx_cdr_writer_init_fixed(&w, NULL, 0);
    CU_ASSERT_EQUAL(phx_cdr_put_octet(&w, 1), PHX_ELIMIT);
    phx_cdr_writer_fini(&w);

    /* patch_ulong outside the written data. */
    phx_cdr_writer_init(&w, 0);
    phx_cdr_put_ulong(&w, 0);
    CU_ASSERT_EQUAL(phx_cdr_patch_ulong(&w, 0, 42), 0);
    CU_ASSERT_EQUAL(phx_cdr_patch_ulong(&w, 1, 42), PHX_EINVAL);
    phx_cdr_writer_fini(&w);
    phx_cdr_writer_fini(&w); /* twice is safe */

    phx_cdr_writer_t z;
    memset(&z, 0, sizeof z);
    phx_cdr_writer_fini(&z);
}

static void test_writer_growth_and_max(void)
{
    phx_cdr_writer_t w;

    phx_cdr_writer_init(&w, 1);
    for (uint32_t i = 0; i < 100000; i++)
        phx_cdr_put_ulong(&w, i);
    CU_ASSERT_EQUAL_FATAL(phx_cdr_writer_status(&w), 0);
    CU_ASSERT_EQUAL(w.len, 400000);
    CU_ASSERT_TRUE(w.cap >= w.len);
    bool ok = true;
    for (uint32_t i = 0; i < 100000; i++) {
        uint32_t v;
        memcpy(&v, w.buf + 4 * i, 4);
        ok = ok && v == i;
    }
    CU_ASSERT_TRUE(ok);
    phx_cdr_writer_fini(&w);

    phx_cdr_writer_init(&w, 0);
    w.max = 16;
    for (int i = 0; i < 16; i++)
        CU_ASSERT_EQUAL(phx_cdr_put_octet(&w, (uint8_t)i), 0);
    CU_ASSERT_EQUAL(phx_cdr_put_octet(&w, 16), PHX_ELIMIT);
    CU_ASSERT_EQUAL(w.len, 16);
    CU_ASSERT_TRUE(w.cap <= 16);
    phx_cdr_writer_fini(&w);

    phx_cdr_writer_init(&w, 0);
    w.max = 1000;
    CU_ASSERT_EQUAL(phx_cdr_put_octet(&w, 1), 0);
    CU_ASSERT_PTR_NULL(phx_cdr_reserve(&w, SIZE_MAX));
    CU_ASSERT_EQUAL(phx_cdr_writer_status(&w), PHX_ELIMIT);
    phx_cdr_writer_reset(&w);
    CU_ASSERT_EQUAL(phx_cdr_put_array(&w, "", SIZE_MAX / 2, 4), PHX_ELIMIT);
    phx_cdr_writer_reset(&w);
    uint8_t *p = phx_cdr_reserve(&w, 1000);
    CU_ASSERT_PTR_NOT_NULL(p);
    CU_ASSERT_EQUAL(w.len, 1000);
    phx_cdr_writer_fini(&w);
}

static void test_writer_steal_reset(void)
{
    phx_cdr_writer_t w;
    uint8_t *b;
    size_t n = 99;

    phx_cdr_writer_init(&w, 0);
    CU_ASSERT_PTR_NULL(phx_cdr_writer_steal(&w, &n));
    CU_ASSERT_EQUAL(n, 0);
    phx_cdr_put_string(&w, "abc");
    b = phx_cdr_writer_steal(&w, &n);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    CU_ASSERT_EQUAL(n, 8);
    CU_ASSERT_STRING_EQUAL((char *)b + 4, "abc");
    CU_ASSERT_PTR_NULL(w.buf);
    CU_ASSERT_EQUAL(w.len, 0);
    free(b);

    /* The writer is usable after a steal. */
    CU_ASSERT_EQUAL(phx_cdr_put_ulonglong(&w, 3), 0);
    CU_ASSERT_EQUAL(w.len, 8);

    /* Reset forgets contents and base, keeps the buffer. */
    w.base = 4;
    uint8_t *keep = w.buf;
    phx_cdr_writer_fail(&w, PHX_ENOMEM);
    CU_ASSERT_PTR_NULL(phx_cdr_writer_steal(&w, &n));
    phx_cdr_writer_reset(&w);
    CU_ASSERT_EQUAL(w.err, 0);
    CU_ASSERT_EQUAL(w.len, 0);
    CU_ASSERT_EQUAL(w.base, 0);
    CU_ASSERT_PTR_EQUAL(w.buf, keep);
    phx_cdr_put_octet(&w, 1);
    phx_cdr_put_ulong(&w, 1);
    CU_ASSERT_EQUAL(w.len, 8);
    phx_cdr_writer_fini(&w);

    /* A fixed writer's storage cannot be stolen. */
    uint8_t buf[4];
    phx_cdr_writer_init_fixed(&w, buf, sizeof buf);
    phx_cdr_put_octet(&w, 1);
    CU_ASSERT_PTR_NULL(phx_cdr_writer_steal(&w, &n));
}

static void test_booleans(void)
{
    static const uint8_t in[] = {0, 1, 2, 0xFF};
    phx_cdr_reader_t r;
    bool b;

    phx_cdr_reader_init(&r, in, sizeof in, PHX_CDR_NATIVE);
    CU_ASSERT_EQUAL(phx_cdr_get_boolean(&r, &b), 0);
    CU_ASSERT_FALSE(b);
    CU_ASSERT_EQUAL(phx_cdr_get_boolean(&r, &b), 0);
    CU_ASSERT_TRUE(b);
    CU_ASSERT_EQUAL(phx_cdr_get_boolean(&r, &b), PHX_EMARSHAL);
    CU_ASSERT_FALSE(b);
    phx_cdr_reader_init(&r, in + 3, 1, PHX_CDR_NATIVE);
    CU_ASSERT_EQUAL(phx_cdr_get_boolean(&r, &b), PHX_EMARSHAL);

    phx_cdr_writer_t w;
    phx_cdr_writer_init(&w, 0);
    phx_cdr_put_boolean(&w, true);
    phx_cdr_put_boolean(&w, false);
    CU_ASSERT_EQUAL(w.buf[0], 1);
    CU_ASSERT_EQUAL(w.buf[1], 0);
    phx_cdr_writer_fini(&w);
}

static void test_arrays_swap(void)
{
    phx_cdr_reader_t r;
    bytes_t in;
    uint16_t us[3];
    uint32_t ul[2];
    uint64_t ull[2];
    double d[2];
    uint8_t oc[3];
    int16_t none[1] = {7};

    bb_init(&in, false);
    bb_uint(&in, 0xAA, 1);
    bb_uint(&in, 0x0102, 2);
    bb_uint(&in, 0x0304, 2);
    bb_uint(&in, 0x0506, 2);
    bb_uint(&in, 0x0A0B0C0D, 4);
    bb_uint(&in, 0x01020304, 4);
    bb_uint(&in, 0x1112131415161718ULL, 8);
    bb_uint(&in, 0x2122232425262728ULL, 8);
    bb_uint(&in, d2u(3.25), 8);
    bb_uint(&in, d2u(-1e10), 8);
    bb_raw(&in, "xyz", 3);
    CU_ASSERT_EQUAL(in.n, 8 + 8 + 16 + 16 + 3);

    phx_cdr_reader_init(&r, in.b, in.n, PHX_CDR_BIG_ENDIAN);
    phx_cdr_get_raw(&r, 1);
    CU_ASSERT_EQUAL(phx_cdr_get_array(&r, us, 3, 2), 0);
    CU_ASSERT_EQUAL(us[0], 0x0102);
    CU_ASSERT_EQUAL(us[1], 0x0304);
    CU_ASSERT_EQUAL(us[2], 0x0506);
    CU_ASSERT_EQUAL(phx_cdr_get_array(&r, ul, 2, 4), 0);
    CU_ASSERT_EQUAL(ul[0], 0x0A0B0C0D);
    CU_ASSERT_EQUAL(ul[1], 0x01020304);
    /* An empty array reads nothing, not even padding. */
    CU_ASSERT_EQUAL(phx_cdr_get_array(&r, none, 0, 8), 0);
    CU_ASSERT_EQUAL(r.pos, 16);
    CU_ASSERT_EQUAL(phx_cdr_get_array(&r, ull, 2, 8), 0);
    CU_ASSERT_EQUAL(ull[0], 0x1112131415161718ULL);
    CU_ASSERT_EQUAL(ull[1], 0x2122232425262728ULL);
    CU_ASSERT_EQUAL(phx_cdr_get_array(&r, d, 2, 8), 0);
    CU_ASSERT_EQUAL(d[0], 3.25);
    CU_ASSERT_EQUAL(d[1], -1e10);
    CU_ASSERT_EQUAL(phx_cdr_get_array(&r, oc, 3, 1), 0);
    CU_ASSERT_EQUAL(memcmp(oc, "xyz", 3), 0);
    CU_ASSERT_EQUAL(phx_cdr_reader_remaining(&r), 0);
    CU_ASSERT_EQUAL(phx_cdr_get_array(&r, ul, 1, 4), PHX_EMARSHAL);
    CU_ASSERT_EQUAL(ul[0], 0);

    /* Native round trip and padding on the writer side. */
    phx_cdr_writer_t w;
    static const uint32_t src[3] = {1, 0xFFFFFFFF, 0x12345678};
    uint32_t dst[3];
    phx_cdr_writer_init(&w, 0);
    phx_cdr_put_octet(&w, 1);
    CU_ASSERT_EQUAL(phx_cdr_put_array(&w, src, 0, 4), 0);
    CU_ASSERT_EQUAL(w.len, 1);
    CU_ASSERT_EQUAL(phx_cdr_put_array(&w, src, 3, 4), 0);
    CU_ASSERT_EQUAL(w.len, 16);
    phx_cdr_reader_init(&r, w.buf, w.len, PHX_CDR_NATIVE);
    phx_cdr_get_raw(&r, 1);
    CU_ASSERT_EQUAL(phx_cdr_get_array(&r, dst, 3, 4), 0);
    CU_ASSERT_EQUAL(memcmp(src, dst, sizeof src), 0);
    CU_ASSERT_EQUAL(phx_cdr_put_array(&w, src, 1, 3), PHX_EINVAL);
    phx_cdr_writer_fini(&w);

    /* Invalid element size on the reader. */
    phx_cdr_reader_init(&r, in.b, in.n, PHX_CDR_BIG_ENDIAN);
    CU_ASSERT_EQUAL(phx_cdr_get_array(&r, oc, 1, 3), PHX_EINVAL);
}

static void test_raw(void)
{
    phx_cdr_writer_t w;
    phx_cdr_reader_t r;
    const uint8_t *p;

    phx_cdr_writer_init(&w, 0);
    CU_ASSERT_EQUAL(phx_cdr_put_raw(&w, "abc", 3), 0);
    CU_ASSERT_EQUAL(phx_cdr_put_raw(&w, NULL, 0), 0);
    uint8_t *q = phx_cdr_reserve(&w, 2);
    CU_ASSERT_PTR_NOT_NULL_FATAL(q);
    q[0] = 'd';
    q[1] = 'e';
    CU_ASSERT_EQUAL(w.len, 5);
    phx_cdr_reader_init(&r, w.buf, w.len, PHX_CDR_NATIVE);
    p = phx_cdr_get_raw(&r, 5);
    CU_ASSERT_PTR_EQUAL(p, w.buf);
    CU_ASSERT_PTR_NULL(phx_cdr_get_raw(&r, 1));
    CU_ASSERT_EQUAL(phx_cdr_reader_status(&r), PHX_EMARSHAL);
    CU_ASSERT_EQUAL(phx_cdr_put_raw(&w, NULL, 1), PHX_EINVAL);
    phx_cdr_writer_fini(&w);
}

int main(void)
{
    static const struct {
        const char *name;
        CU_TestFunc fn;
    } tests[] = {
        {"writer native bytes", test_writer_native_bytes},
        {"reader both byte orders", test_reader_both_orders},
        {"round trip extremes", test_roundtrip_extremes},
        {"alignment relative to base", test_alignment_base},
        {"encapsulation nesting", test_encap_nesting},
        {"strings", test_strings},
        {"octet sequences borrowed", test_octet_seq},
        {"sequence lengths that lie", test_seq_len_lies},
        {"reader sticky errors", test_reader_sticky},
        {"fixed writer and sticky errors", test_writer_fixed_and_sticky},
        {"writer growth and max", test_writer_growth_and_max},
        {"writer steal and reset", test_writer_steal_reset},
        {"booleans", test_booleans},
        {"arrays with swap", test_arrays_swap},
        {"raw octets", test_raw},
    };
    CU_pSuite suite;
    unsigned failures;

    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    suite = CU_add_suite("cdr", NULL, NULL);
    if (suite == NULL)
        goto setup_failed;
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++)
        if (CU_add_test(suite, tests[i].name, tests[i].fn) == NULL)
            goto setup_failed;
    CU_basic_set_mode(CU_BRM_VERBOSE);
    if (CU_basic_run_tests() != CUE_SUCCESS)
        goto setup_failed;
    failures = CU_get_number_of_failures();
    CU_cleanup_registry();
    return failures ? 1 : 0;

setup_failed:
    CU_cleanup_registry();
    return 2;
}
