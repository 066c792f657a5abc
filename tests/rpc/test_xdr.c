/*
 * test_xdr.c - XDR codec (include/phx/xdr.h): exact bytes for each kind,
 * round trips of every construct of tests/rpc/rpctest.x, and refusal of
 * garbage, truncations and out-of-bounds data (CUnit).
 */
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include <phx/error.h>
#include <phx/xdr.h>

#include "tests/rpc/gen/rpctest.h"

static uint8_t *enc(const phx_typecode_t *tc, const void *v, size_t *len,
                    int *rc)
{
    phx_xdr_writer_t w;
    phx_xdr_writer_init(&w);
    *rc = phx_xdr_put_value(&w, tc, v);
    if (*rc) {
        phx_xdr_writer_fini(&w);
        *len = 0;
        return NULL;
    }
    return phx_xdr_writer_take(&w, len);
}

static int dec(const phx_typecode_t *tc, const void *p, size_t n, void *v,
               size_t *left)
{
    phx_xdr_reader_t r;
    phx_xdr_reader_init(&r, p, n);
    int rc = phx_xdr_get_value(&r, tc, v);
    if (left)
        *left = phx_xdr_reader_remaining(&r);
    return rc;
}

static void expect_bytes(const phx_typecode_t *tc, const void *v,
                         const uint8_t *want, size_t wn)
{
    size_t n;
    int rc;
    uint8_t *b = enc(tc, v, &n, &rc);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    CU_ASSERT_EQUAL(n, wn);
    if (n == wn)
        CU_ASSERT(memcmp(b, want, n) == 0);
    free(b);
}

static void test_primitives(void)
{
    int32_t i = -2;
    static const uint8_t wi[] = {0xff, 0xff, 0xff, 0xfe};
    expect_bytes(&phx_tc_long, &i, wi, 4);
    uint32_t u = 0x01020304;
    static const uint8_t wu[] = {1, 2, 3, 4};
    expect_bytes(&phx_tc_ulong, &u, wu, 4);
    int64_t h = -1;
    static const uint8_t wh[] = {0xff, 0xff, 0xff, 0xff,
                                 0xff, 0xff, 0xff, 0xff};
    expect_bytes(&phx_tc_longlong, &h, wh, 8);
    uint64_t uh = 0x0102030405060708ull;
    static const uint8_t wuh[] = {1, 2, 3, 4, 5, 6, 7, 8};
    expect_bytes(&phx_tc_ulonglong, &uh, wuh, 8);
    bool b = true;
    static const uint8_t wb[] = {0, 0, 0, 1};
    expect_bytes(&phx_tc_boolean, &b, wb, 4);
    float f = 1.0f;
    static const uint8_t wf[] = {0x3f, 0x80, 0, 0};
    expect_bytes(&phx_tc_float, &f, wf, 4);
    double d = -2.0;
    static const uint8_t wd[] = {0xc0, 0, 0, 0, 0, 0, 0, 0};
    expect_bytes(&phx_tc_double, &d, wd, 8);
    color c = BLUE;
    static const uint8_t wc[] = {0, 0, 0, 2};
    expect_bytes(&TC_color, &c, wc, 4);
    name s = "abcde";
    static const uint8_t ws[] = {0, 0, 0, 5, 'a', 'b', 'c', 'd', 'e', 0, 0, 0};
    expect_bytes(&TC_name, &s, ws, sizeof ws);
    fixed8 f8 = {1, 2, 3, 4, 5, 6, 7, 8};
    expect_bytes(&TC_fixed8, f8, f8, 8);
    uint8_t ob[3] = {9, 8, 7};
    blob bl = {3, 3, ob, false};
    static const uint8_t wbl[] = {0, 0, 0, 3, 9, 8, 7, 0};
    expect_bytes(&TC_blob, &bl, wbl, sizeof wbl);
}

static void fill(everything *e, inner *opt_in)
{
    static uint8_t vo[7] = {1, 2, 3, 4, 5, 6, 7};
    static int32_t seq[3] = {-1, 0, 1};
    static uint8_t blb[1] = {0xaa};
    memset(e, 0, sizeof *e);
    e->i = -123456;
    e->u = 0xfedcba98u;
    e->h = -((int64_t)1 << 40);
    e->uh = 0xffffffffffffffffull;
    e->b = true;
    e->c = GREEN;
    e->sp = S_FOUR;
    e->f = 3.5f;
    e->d = 1e300;
    e->s = "hello, xdr";
    memcpy(e->fo, "12345", 5);
    e->vo._length = e->vo._maximum = 7;
    e->vo._buffer = vo;
    e->arr[0] = 1;
    e->arr[1] = 2;
    e->arr[2] = 3;
    e->ia[0].a = 10;
    e->ia[0].h = 11;
    e->ia[1].a = 12;
    e->ia[1].h = 13;
    e->seq._length = e->seq._maximum = 3;
    e->seq._buffer = seq;
    if (opt_in) {
        e->opt._length = e->opt._maximum = 1;
        e->opt._buffer = opt_in;
    }
    e->nm = "nm";
    e->bl._length = e->bl._maximum = 1;
    e->bl._buffer = blb;
    memcpy(e->f8, "abcdefgh", 8);
}

static void roundtrip(const phx_typecode_t *tc, const void *v, size_t csize)
{
    size_t n, left;
    int rc;
    uint8_t *b = enc(tc, v, &n, &rc);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    CU_ASSERT_EQUAL(n % 4, 0);
    void *out = calloc(1, csize);
    rc = dec(tc, b, n, out, &left);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_EQUAL(left, 0);
    if (rc == 0)
        CU_ASSERT(phx_value_equal(tc, v, out));
    phx_value_free(tc, out);
    /* Every truncation fails cleanly (and frees what it allocated). */
    for (size_t k = 0; k < n; k++) {
        rc = dec(tc, b, k, out, NULL);
        CU_ASSERT_NOT_EQUAL(rc, 0);
        /* the storage is left zeroed */
        uint8_t zero[1024] = {0};
        if (csize <= sizeof zero)
            CU_ASSERT(memcmp(out, zero, csize) == 0);
    }
    free(out);
    free(b);
}

static void test_roundtrip_struct(void)
{
    everything e;
    inner in = {-7, 77};
    fill(&e, &in);
    roundtrip(&TC_everything, &e, sizeof e);
    fill(&e, NULL);
    roundtrip(&TC_everything, &e, sizeof e);
}

static void test_roundtrip_union(void)
{
    result r;
    inner in = {1, 2};
    memset(&r, 0, sizeof r);
    r._d = 0;
    fill(&r._u.val, &in);
    roundtrip(&TC_result, &r, sizeof r);
    memset(&r, 0, sizeof r);
    r._d = 1;
    r._u.err = "no such key";
    roundtrip(&TC_result, &r, sizeof r);
    /* void arm: the discriminant alone */
    memset(&r, 0, sizeof r);
    r._d = 2;
    static const uint8_t w2[] = {0, 0, 0, 2};
    expect_bytes(&TC_result, &r, w2, 4);
    roundtrip(&TC_result, &r, sizeof r);
    r._d = 99;
    roundtrip(&TC_result, &r, sizeof r);
    byflag bf = {true, {.value = 42}};
    static const uint8_t wbf[] = {0, 0, 0, 1, 0, 0, 0, 42};
    expect_bytes(&TC_byflag, &bf, wbf, 8);
    roundtrip(&TC_byflag, &bf, sizeof bf);
    bf._d = false;
    roundtrip(&TC_byflag, &bf, sizeof bf);
}

static void test_optional_bytes(void)
{
    /* inner *opt: absent is FALSE, present is TRUE + value */
    phx_sequence_t s = {0, 0, NULL, false};
    const phx_typecode_t *tc = TC_everything.members[15].type;
    static const uint8_t w0[] = {0, 0, 0, 0};
    expect_bytes(tc, &s, w0, 4);
    inner in = {5, 6};
    s._length = s._maximum = 1;
    s._buffer = &in;
    static const uint8_t w1[] = {0, 0, 0, 1, 0, 0, 0, 5,
                                 0, 0, 0, 0, 0, 0, 0, 6};
    expect_bytes(tc, &s, w1, sizeof w1);
    /* count 2 is not optional data */
    static const uint8_t bad[] = {0, 0, 0, 2, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0,
                                  0, 6, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 6};
    phx_sequence_t out;
    CU_ASSERT_EQUAL(dec(tc, bad, sizeof bad, &out, NULL), PHX_EMARSHAL);
}

static void test_bad_inputs(void)
{
    bool b;
    static const uint8_t b2[] = {0, 0, 0, 2};
    CU_ASSERT_EQUAL(dec(&phx_tc_boolean, b2, 4, &b, NULL), PHX_EMARSHAL);
    color c;
    static const uint8_t c3[] = {0, 0, 0, 3};
    CU_ASSERT_EQUAL(dec(&TC_color, c3, 4, &c, NULL), PHX_EMARSHAL);
    name s = NULL;
    /* over the bound (33 > 32) */
    uint8_t big[4 + 36] = {0, 0, 0, 33};
    memset(big + 4, 'x', 33);
    CU_ASSERT_EQUAL(dec(&TC_name, big, sizeof big, &s, NULL), PHX_EMARSHAL);
    CU_ASSERT_PTR_NULL(s);
    /* nonzero padding */
    static const uint8_t pad[] = {0, 0, 0, 1, 'a', 0, 1, 0};
    CU_ASSERT_EQUAL(dec(&TC_name, pad, sizeof pad, &s, NULL), PHX_EMARSHAL);
    /* an embedded NUL */
    static const uint8_t nul[] = {0, 0, 0, 2, 'a', 0, 0, 0};
    CU_ASSERT_EQUAL(dec(&TC_name, nul, sizeof nul, &s, NULL), PHX_EMARSHAL);
    /* a huge length with nothing behind it */
    static const uint8_t huge[] = {0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0};
    CU_ASSERT_NOT_EQUAL(dec(&phx_tc_string, huge, sizeof huge, &s, NULL), 0);
    phx_sequence_t q;
    CU_ASSERT_NOT_EQUAL(dec(TC_everything.members[14].type, huge,
                            sizeof huge, &q, NULL), 0);
    /* opaque<64> with 65 */
    uint8_t ob[4 + 68] = {0, 0, 0, 65};
    blob bl;
    CU_ASSERT_EQUAL(dec(&TC_blob, ob, sizeof ob, &bl, NULL), PHX_EMARSHAL);
    /* int seq<4> with 5 */
    uint8_t sq[4 + 20] = {0, 0, 0, 5};
    CU_ASSERT_EQUAL(dec(TC_everything.members[14].type, sq, sizeof sq, &q,
                        NULL), PHX_EMARSHAL);
    /* the reader's max_len */
    uint8_t ml[4 + 12] = {0, 0, 0, 9};
    phx_xdr_reader_t r;
    phx_xdr_reader_init(&r, ml, sizeof ml);
    r.max_len = 8;
    CU_ASSERT_EQUAL(phx_xdr_get_value(&r, &phx_tc_string, &s), PHX_ELIMIT);
    /* an unsupported kind */
    phx_any_t any;
    CU_ASSERT_EQUAL(dec(&phx_tc_any, b2, 4, &any, NULL), PHX_EUNSUPPORTED);
}

static void test_encode_refusals(void)
{
    int rc;
    size_t n;
    color c = (color)7;
    CU_ASSERT_PTR_NULL(enc(&TC_color, &c, &n, &rc));
    CU_ASSERT_EQUAL(rc, PHX_EINVAL);
    name s = "0123456789012345678901234567890123456789";
    CU_ASSERT_PTR_NULL(enc(&TC_name, &s, &n, &rc));
    CU_ASSERT_EQUAL(rc, PHX_EINVAL);
    phx_sequence_t q = {5, 5, NULL, false};
    CU_ASSERT_PTR_NULL(enc(&TC_blob, &q, &n, &rc));
    CU_ASSERT_EQUAL(rc, PHX_EINVAL);
    phx_xdr_writer_t w;
    phx_xdr_writer_init(&w);
    w.max_size = 8;
    uint64_t x = 1;
    phx_xdr_put_value(&w, &phx_tc_ulonglong, &x);
    CU_ASSERT_EQUAL(phx_xdr_put_value(&w, &phx_tc_ulonglong, &x), PHX_ELIMIT);
    phx_xdr_writer_fini(&w);
}

static void test_nesting_limit(void)
{
    /* sequence<sequence<...<long>>> 80 deep: refused, no crash */
    const phx_typecode_t *tc = phx_typecode_ref(&phx_tc_long), *next;
    for (int i = 0; i < 80; i++) {
        CU_ASSERT_EQUAL_FATAL(phx_tc_new_sequence(tc, 0, &next), 0);
        phx_typecode_free(tc);
        tc = next;
    }
    uint8_t ones[80 * 4];
    for (size_t i = 0; i < sizeof ones; i += 4) {
        ones[i] = ones[i + 1] = ones[i + 2] = 0;
        ones[i + 3] = 1;
    }
    phx_sequence_t s;
    CU_ASSERT_EQUAL(dec(tc, ones, sizeof ones, &s, NULL), PHX_ELIMIT);
    phx_typecode_free(tc);
}

static void test_random_garbage(void)
{
    uint32_t seed = 12345;
    uint8_t buf[512];
    for (int it = 0; it < 3000; it++) {
        size_t n = (size_t)(it % 512);
        for (size_t k = 0; k < n; k++) {
            seed = seed * 1103515245u + 12345u;
            buf[k] = (uint8_t)(seed >> 16);
            /* keep lengths small so that some inputs decode far */
            if (k % 4 == 0 && (seed & 0x30000))
                buf[k] = 0;
        }
        everything e;
        result r;
        if (dec(&TC_everything, buf, n, &e, NULL) == 0)
            phx_value_free(&TC_everything, &e);
        if (dec(&TC_result, buf, n, &r, NULL) == 0)
            phx_value_free(&TC_result, &r);
    }
    CU_PASS("no crash");
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("xdr", NULL, NULL);
    CU_add_test(s, "primitives: exact bytes", test_primitives);
    CU_add_test(s, "struct round trips and truncations", test_roundtrip_struct);
    CU_add_test(s, "union round trips (void arms too)", test_roundtrip_union);
    CU_add_test(s, "optional data", test_optional_bytes);
    CU_add_test(s, "bad inputs", test_bad_inputs);
    CU_add_test(s, "encode refusals", test_encode_refusals);
    CU_add_test(s, "nesting limit", test_nesting_limit);
    CU_add_test(s, "random garbage", test_random_garbage);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned fails = CU_get_number_of_failures();
    CU_cleanup_registry();
    return fails ? 1 : 0;
}
