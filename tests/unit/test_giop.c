/*
 * test_giop.c - unit tests of the GIOP 1.2 message codec
 * (orb/giop/giop.c): round trips of every message, hand-built
 * big-endian messages, and every kind of bad input.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>

#include <phx/giop.h>

/* ------------------------------------------------------------------ */
/* Helpers                                                              */
/* ------------------------------------------------------------------ */

/* Big- or little-endian bytes built by hand, independent of cdr.c. */
typedef struct bytes {
    uint8_t b[1024];
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

/* GIOP header with size 0; bb_fix_size() patches it. */
static void bb_header(bytes_t *bb, uint8_t type)
{
    bb_raw(bb, "GIOP", 4);
    bb->b[bb->n++] = 1;
    bb->b[bb->n++] = 2;
    bb->b[bb->n++] = bb->le ? 1 : 0;
    bb->b[bb->n++] = type;
    bb_uint(bb, 0, 4);
}

static void put_size(uint8_t *m, bool le, uint32_t size)
{
    for (int i = 0; i < 4; i++)
        m[8 + i] = (uint8_t)(size >> (8 * (le ? i : 3 - i)));
}

static void bb_fix_size(bytes_t *bb)
{
    put_size(bb->b, bb->le, (uint32_t)(bb->n - 12));
}

/* Finish the message in w and take its bytes. */
static uint8_t *take(phx_cdr_writer_t *w, size_t *len)
{
    uint8_t *m;
    CU_ASSERT_EQUAL_FATAL(phx_giop_finish(w), 0);
    m = phx_cdr_writer_steal(w, len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    return m;
}

/* Parse the header and set up a reader. */
static void open_msg(const uint8_t *m, size_t len, phx_giop_header_t *h,
                     phx_cdr_reader_t *r)
{
    phx_error_t e;
    int rc = phx_giop_parse_header(m, len, h, &e);
    if (rc)
        fprintf(stderr, "unexpected: %s\n", e.msg);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    phx_giop_reader_init(r, m, len, h);
    CU_ASSERT_EQUAL_FATAL(phx_cdr_reader_status(r), 0);
}

/* Decode whatever message m is; returns the status.  Used by the bad
 * input tests, so every path must fail cleanly. */
static int decode_any(const uint8_t *m, size_t len, phx_error_t *e)
{
    phx_giop_header_t h;
    phx_cdr_reader_t r;
    int rc = phx_giop_parse_header(m, len, &h, e);

    if (rc)
        return rc;
    phx_giop_reader_init(&r, m, len, &h);
    switch (h.type) {
    case PHX_GIOP_REQUEST: {
        phx_giop_request_t q;
        rc = phx_giop_read_request(&r, &q, e);
        phx_giop_request_fini(&q);
        return rc;
    }
    case PHX_GIOP_REPLY: {
        phx_giop_reply_t p;
        rc = phx_giop_read_reply(&r, &p, e);
        phx_giop_reply_fini(&p);
        return rc;
    }
    case PHX_GIOP_CANCEL_REQUEST: {
        uint32_t id;
        return phx_giop_read_cancel(&r, &id, e);
    }
    case PHX_GIOP_LOCATE_REQUEST: {
        phx_giop_locate_request_t q;
        return phx_giop_read_locate_request(&r, &q, e);
    }
    case PHX_GIOP_LOCATE_REPLY: {
        phx_giop_locate_reply_t p;
        return phx_giop_read_locate_reply(&r, &p, e);
    }
    default:
        return 0;
    }
}

/* A raw IOR struct (type_id, one profile) in native order. */
static uint8_t *raw_ior(size_t *len)
{
    phx_cdr_writer_t w;
    static const uint8_t prof[] = {1, 1, 2, 9, 9, 9};
    uint8_t *p;

    phx_cdr_writer_init(&w, 0);
    phx_cdr_put_string(&w, "IDL:Test:1.0");
    phx_cdr_put_ulong(&w, 1);
    phx_cdr_put_ulong(&w, 0x50485801u);
    phx_cdr_put_octet_seq(&w, prof, sizeof prof);
    p = phx_cdr_writer_steal(&w, len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    return p;
}

static const uint8_t key3[] = {'k', 'e', 'y'};
static const uint8_t ctx_data[] = {0, 0, 0, 0, 0x2a, 0, 0, 0};

/* Check an error code, and that the message mentions word. */
static void check_err(int rc, const phx_error_t *e, int code,
                      const char *word, int line)
{
    CU_ASSERT_EQUAL(rc, code);
    CU_ASSERT_EQUAL(e->code, code);
    if (rc != code || e->code != code)
        fprintf(stderr, "line %d: got %s (%s), expected %s\n", line,
                phx_errname(rc), e->msg, phx_errname(code));
    if (word) {
        CU_ASSERT_PTR_NOT_NULL(strstr(e->msg, word));
        if (strstr(e->msg, word) == NULL)
            fprintf(stderr, "line %d: \"%s\" lacks \"%s\"\n", line, e->msg,
                    word);
    }
}
#define CHECK_ERR(rc, e, code, word) check_err(rc, e, code, word, __LINE__)

/* ------------------------------------------------------------------ */
/* Round trips                                                          */
/* ------------------------------------------------------------------ */

static void test_request_key_addr(void)
{
    static const uint8_t flags[] = {PHX_GIOP_RESPONSE_TARGET,
                                    PHX_GIOP_RESPONSE_SERVER,
                                    PHX_GIOP_RESPONSE_NONE};
    for (size_t f = 0; f < sizeof flags; f++) {
        phx_cdr_writer_t w;
        phx_giop_request_t q, d;
        phx_giop_header_t h;
        phx_cdr_reader_t r;
        phx_error_t e;
        uint8_t *m;
        size_t len;
        uint32_t body;

        memset(&q, 0, sizeof q);
        q.request_id = 0x01020304u + (uint32_t)f;
        q.response_flags = flags[f];
        q.target.kind = PHX_GIOP_KEY_ADDR;
        q.target.key = key3;
        q.target.key_len = 3;
        q.operation = "get_value";
        phx_cdr_writer_init(&w, 0);
        CU_ASSERT_EQUAL(phx_giop_write_request(&w, &q), 0);
        /* the body starts on 8 */
        CU_ASSERT_EQUAL(phx_cdr_writer_len(&w) % 8, 0);
        phx_cdr_put_ulong(&w, 77);
        m = take(&w, &len);

        CU_ASSERT_EQUAL(memcmp(m, "GIOP\1\2", 6), 0);
        CU_ASSERT_EQUAL(m[6], PHX_CDR_NATIVE == PHX_CDR_LITTLE_ENDIAN);
        CU_ASSERT_EQUAL(m[7], PHX_GIOP_REQUEST);
        open_msg(m, len, &h, &r);
        CU_ASSERT_EQUAL(h.type, PHX_GIOP_REQUEST);
        CU_ASSERT_EQUAL(h.size, len - 12);
        CU_ASSERT_EQUAL(phx_giop_read_request(&r, &d, &e), 0);
        CU_ASSERT_EQUAL(d.request_id, q.request_id);
        CU_ASSERT_EQUAL(d.response_flags, flags[f]);
        CU_ASSERT_EQUAL(d.target.kind, PHX_GIOP_KEY_ADDR);
        CU_ASSERT_EQUAL(d.target.key_len, 3);
        CU_ASSERT_EQUAL(memcmp(d.target.key, key3, 3), 0);
        /* borrowed: points into the message */
        CU_ASSERT(d.target.key > m && d.target.key < m + len);
        CU_ASSERT_STRING_EQUAL(d.operation, "get_value");
        CU_ASSERT_EQUAL(d.operation_len, 9);
        CU_ASSERT(d.operation > (const char *)m &&
                  d.operation < (const char *)m + len);
        CU_ASSERT_EQUAL(d.contexts.count, 0);
        CU_ASSERT_EQUAL(r.pos % 8, 0);
        CU_ASSERT_EQUAL(phx_cdr_get_ulong(&r, &body), 0);
        CU_ASSERT_EQUAL(body, 77);
        CU_ASSERT_EQUAL(phx_cdr_reader_remaining(&r), 0);
        phx_giop_request_fini(&d);
        free(m);
    }
}

static void test_request_profile_addr(void)
{
    static const uint8_t prof[] = {1, 1, 2, 0, 0, 0, 0, 3, 'a', 'b', 'c'};
    phx_cdr_writer_t w;
    phx_giop_request_t q, d;
    phx_giop_header_t h;
    phx_cdr_reader_t r;
    phx_error_t e;
    uint8_t *m;
    size_t len;

    memset(&q, 0, sizeof q);
    q.request_id = 5;
    q.response_flags = PHX_GIOP_RESPONSE_TARGET;
    q.target.kind = PHX_GIOP_PROFILE_ADDR;
    q.target.profile_tag = 0x50485801u;
    q.target.profile_data = prof;
    q.target.profile_len = sizeof prof;
    q.operation = "op";
    phx_cdr_writer_init(&w, 0);
    CU_ASSERT_EQUAL(phx_giop_write_request(&w, &q), 0);
    m = take(&w, &len);
    open_msg(m, len, &h, &r);
    CU_ASSERT_EQUAL(phx_giop_read_request(&r, &d, &e), 0);
    CU_ASSERT_EQUAL(d.target.kind, PHX_GIOP_PROFILE_ADDR);
    CU_ASSERT_EQUAL(d.target.profile_tag, 0x50485801u);
    CU_ASSERT_EQUAL(d.target.profile_len, sizeof prof);
    CU_ASSERT_EQUAL(memcmp(d.target.profile_data, prof, sizeof prof), 0);
    CU_ASSERT_STRING_EQUAL(d.operation, "op");
    CU_ASSERT_EQUAL(phx_cdr_reader_remaining(&r), 0);
    phx_giop_request_fini(&d);
    free(m);
}

static void test_request_reference_addr(void)
{
    phx_cdr_writer_t w;
    phx_giop_request_t q, d;
    phx_giop_header_t h;
    phx_cdr_reader_t r;
    phx_error_t e;
    uint8_t *m, *ior;
    size_t len, ior_len;

    ior = raw_ior(&ior_len);
    memset(&q, 0, sizeof q);
    q.request_id = 6;
    q.response_flags = PHX_GIOP_RESPONSE_TARGET;
    q.target.kind = PHX_GIOP_REFERENCE_ADDR;
    q.target.selected_profile_index = 0;
    q.target.ior = ior;
    q.target.ior_len = (uint32_t)ior_len;
    q.target.ior_byte_order = PHX_CDR_NATIVE;
    q.operation = "op";
    phx_cdr_writer_init(&w, 0);
    CU_ASSERT_EQUAL(phx_giop_write_request(&w, &q), 0);
    m = take(&w, &len);
    open_msg(m, len, &h, &r);
    CU_ASSERT_EQUAL(phx_giop_read_request(&r, &d, &e), 0);
    CU_ASSERT_EQUAL(d.target.kind, PHX_GIOP_REFERENCE_ADDR);
    CU_ASSERT_EQUAL(d.target.selected_profile_index, 0);
    CU_ASSERT_EQUAL(d.target.ior_len, ior_len);
    CU_ASSERT_EQUAL(memcmp(d.target.ior, ior, ior_len), 0);
    CU_ASSERT_EQUAL(d.target.ior_byte_order, PHX_CDR_NATIVE);
    CU_ASSERT_EQUAL((size_t)(d.target.ior - m) % 4, 0);
    CU_ASSERT_STRING_EQUAL(d.operation, "op");
    phx_giop_request_fini(&d);
    free(m);

    /* a non-native raw IOR cannot be copied into a native message */
    q.target.ior_byte_order = 1 - PHX_CDR_NATIVE;
    phx_cdr_writer_init(&w, 0);
    CU_ASSERT_EQUAL(phx_giop_write_request(&w, &q), PHX_EINVAL);
    phx_cdr_writer_fini(&w);
    free(ior);
}

static void contexts_round_trip(uint32_t n)
{
    phx_service_context_t *sc = calloc(n ? n : 1, sizeof *sc);
    uint8_t *data = malloc(n * 4 + 1);
    phx_cdr_writer_t w;
    phx_giop_request_t q, d;
    phx_giop_reply_t p, dp;
    phx_giop_header_t h;
    phx_cdr_reader_t r;
    phx_error_t e;
    uint8_t *m;
    size_t len;

    for (uint32_t i = 0; i < n; i++) {
        for (int k = 0; k < 4; k++)
            data[i * 4 + k] = (uint8_t)(i + k);
        sc[i].id = i * 3 + 1;
        sc[i].data = data + i * 4;
        sc[i].len = i % 5; /* some empty */
    }
    memset(&q, 0, sizeof q);
    q.request_id = n;
    q.response_flags = PHX_GIOP_RESPONSE_TARGET;
    q.target.kind = PHX_GIOP_KEY_ADDR;
    q.target.key = key3;
    q.target.key_len = 3;
    q.operation = "x";
    q.contexts.items = sc;
    q.contexts.count = n;
    phx_cdr_writer_init(&w, 0);
    CU_ASSERT_EQUAL(phx_giop_write_request(&w, &q), 0);
    phx_cdr_put_double(&w, 2.5);
    m = take(&w, &len);
    open_msg(m, len, &h, &r);
    CU_ASSERT_EQUAL(phx_giop_read_request(&r, &d, &e), 0);
    CU_ASSERT_EQUAL(d.contexts.count, n);
    for (uint32_t i = 0; i < n; i++) {
        CU_ASSERT_EQUAL(d.contexts.items[i].id, sc[i].id);
        CU_ASSERT_EQUAL(d.contexts.items[i].len, sc[i].len);
        if (sc[i].len)
            CU_ASSERT_EQUAL(memcmp(d.contexts.items[i].data, sc[i].data,
                                   sc[i].len),
                            0);
    }
    if (n > 0) {
        const phx_service_context_t *f =
            phx_giop_sc_find(&d.contexts, sc[n - 1].id);
        CU_ASSERT_PTR_NOT_NULL(f);
        if (f)
            CU_ASSERT_EQUAL(f->len, sc[n - 1].len);
    }
    CU_ASSERT_PTR_NULL(phx_giop_sc_find(&d.contexts, 999999));
    {
        double v;
        CU_ASSERT_EQUAL(phx_cdr_get_double(&r, &v), 0);
        CU_ASSERT_EQUAL(v, 2.5);
    }
    phx_giop_request_fini(&d);
    phx_giop_request_fini(&d); /* idempotent */
    free(m);

    memset(&p, 0, sizeof p);
    p.request_id = n;
    p.reply_status = PHX_GIOP_NO_EXCEPTION;
    p.contexts.items = sc;
    p.contexts.count = n;
    phx_cdr_writer_init(&w, 0);
    CU_ASSERT_EQUAL(phx_giop_write_reply(&w, &p), 0);
    m = take(&w, &len);
    open_msg(m, len, &h, &r);
    CU_ASSERT_EQUAL(phx_giop_read_reply(&r, &dp, &e), 0);
    CU_ASSERT_EQUAL(dp.contexts.count, n);
    for (uint32_t i = 0; i < n; i++)
        CU_ASSERT_EQUAL(dp.contexts.items[i].id, sc[i].id);
    phx_giop_reply_fini(&dp);
    free(m);
    free(sc);
    free(data);
}

static void test_service_contexts(void)
{
    contexts_round_trip(0);
    contexts_round_trip(1);
    contexts_round_trip(PHX_GIOP_SC_INLINE);
    contexts_round_trip(PHX_GIOP_SC_INLINE + 1);
    contexts_round_trip(100);
}

static void test_reply_every_status(void)
{
    for (uint32_t st = 0; st <= PHX_GIOP_NEEDS_ADDRESSING_MODE; st++) {
        phx_service_context_t sc = {PHX_SC_FT_GROUP_VERSION, ctx_data, 8};
        phx_cdr_writer_t w;
        phx_giop_reply_t p, d;
        phx_giop_header_t h;
        phx_cdr_reader_t r;
        phx_error_t e;
        uint8_t *m;
        size_t len;

        memset(&p, 0, sizeof p);
        p.request_id = 100 + st;
        p.reply_status = st;
        p.contexts.items = &sc;
        p.contexts.count = 1;
        phx_cdr_writer_init(&w, 0);
        CU_ASSERT_EQUAL(phx_giop_write_reply(&w, &p), 0);
        CU_ASSERT_EQUAL(phx_cdr_writer_len(&w) % 8, 0);
        if (st == PHX_GIOP_SYSTEM_EXCEPTION)
            phx_giop_write_sysex(&w, "IDL:omg.org/CORBA/TRANSIENT:1.0", 7,
                                 PHX_COMPLETED_MAYBE);
        else if (st == PHX_GIOP_NEEDS_ADDRESSING_MODE)
            phx_cdr_put_short(&w, PHX_GIOP_REFERENCE_ADDR);
        else
            phx_cdr_put_ulonglong(&w, 0x1122334455667788ull);
        m = take(&w, &len);
        open_msg(m, len, &h, &r);
        CU_ASSERT_EQUAL(h.type, PHX_GIOP_REPLY);
        CU_ASSERT_EQUAL(phx_giop_read_reply(&r, &d, &e), 0);
        CU_ASSERT_EQUAL(d.request_id, 100 + st);
        CU_ASSERT_EQUAL(d.reply_status, st);
        CU_ASSERT_EQUAL(d.contexts.count, 1);
        CU_ASSERT_EQUAL(d.contexts.items[0].id, PHX_SC_FT_GROUP_VERSION);
        CU_ASSERT_EQUAL(r.pos % 8, 0);
        if (st == PHX_GIOP_SYSTEM_EXCEPTION) {
            phx_giop_sysex_t x;
            CU_ASSERT_EQUAL(phx_giop_read_sysex(&r, &x, &e), 0);
            CU_ASSERT_STRING_EQUAL(x.repo_id,
                                   "IDL:omg.org/CORBA/TRANSIENT:1.0");
            CU_ASSERT_EQUAL(x.repo_id_len, 31);
            CU_ASSERT_EQUAL(x.minor, 7);
            CU_ASSERT_EQUAL(x.completed, PHX_COMPLETED_MAYBE);
        } else if (st == PHX_GIOP_NEEDS_ADDRESSING_MODE) {
            int16_t disp;
            CU_ASSERT_EQUAL(phx_cdr_get_short(&r, &disp), 0);
            CU_ASSERT_EQUAL(disp, PHX_GIOP_REFERENCE_ADDR);
        } else {
            uint64_t v;
            CU_ASSERT_EQUAL(phx_cdr_get_ulonglong(&r, &v), 0);
            CU_ASSERT_EQUAL(v, 0x1122334455667788ull);
        }
        CU_ASSERT_EQUAL(phx_cdr_reader_remaining(&r), 0);
        CU_ASSERT_STRING_NOT_EQUAL(phx_giop_reply_status_name(st),
                                   "unknown");
        phx_giop_reply_fini(&d);
        free(m);
    }
    CU_ASSERT_STRING_EQUAL(phx_giop_reply_status_name(6), "unknown");
}

static void test_no_body(void)
{
    phx_cdr_writer_t w;
    phx_giop_request_t q, d;
    phx_giop_reply_t p, dp;
    phx_giop_header_t h;
    phx_cdr_reader_t r;
    phx_error_t e;
    uint8_t *m;
    size_t len;

    /* Request: 12 + 4 + 4 + (2+2+4+3) + pad + 4+2 = 41 octets, not a
     * multiple of 8: no padding is written. */
    memset(&q, 0, sizeof q);
    q.response_flags = PHX_GIOP_RESPONSE_NONE;
    q.target.kind = PHX_GIOP_KEY_ADDR;
    q.target.key = key3;
    q.target.key_len = 3;
    q.operation = "o";
    q.no_body = true;
    phx_cdr_writer_init(&w, 0);
    CU_ASSERT_EQUAL(phx_giop_write_request(&w, &q), 0);
    m = take(&w, &len);
    CU_ASSERT_NOT_EQUAL(len % 8, 0);
    open_msg(m, len, &h, &r);
    CU_ASSERT_EQUAL(phx_giop_read_request(&r, &d, &e), 0);
    CU_ASSERT_EQUAL(phx_cdr_reader_remaining(&r), 0);
    phx_giop_request_fini(&d);
    free(m);

    /* Same request padded (default): also decodes, reader at the end. */
    q.no_body = false;
    phx_cdr_writer_init(&w, 0);
    CU_ASSERT_EQUAL(phx_giop_write_request(&w, &q), 0);
    m = take(&w, &len);
    CU_ASSERT_EQUAL(len % 8, 0);
    open_msg(m, len, &h, &r);
    CU_ASSERT_EQUAL(phx_giop_read_request(&r, &d, &e), 0);
    CU_ASSERT_EQUAL(phx_cdr_reader_remaining(&r), 0);
    phx_giop_request_fini(&d);
    free(m);

    /* Reply with one 5-octet context: 12+4+4+4+4+4+5 = 37. */
    memset(&p, 0, sizeof p);
    {
        phx_service_context_t sc = {PHX_SC_CODE_SETS, ctx_data, 5};
        p.contexts.items = &sc;
        p.contexts.count = 1;
        p.no_body = true;
        phx_cdr_writer_init(&w, 0);
        CU_ASSERT_EQUAL(phx_giop_write_reply(&w, &p), 0);
        m = take(&w, &len);
    }
    CU_ASSERT_EQUAL(len, 37);
    open_msg(m, len, &h, &r);
    CU_ASSERT_EQUAL(phx_giop_read_reply(&r, &dp, &e), 0);
    CU_ASSERT_EQUAL(dp.contexts.count, 1);
    CU_ASSERT_EQUAL(phx_cdr_reader_remaining(&r), 0);
    phx_giop_reply_fini(&dp);
    free(m);
}

static void test_cancel_close_error(void)
{
    phx_cdr_writer_t w;
    phx_giop_header_t h;
    phx_cdr_reader_t r;
    phx_error_t e;
    uint8_t *m;
    size_t len;
    uint32_t id;

    phx_cdr_writer_init(&w, 0);
    CU_ASSERT_EQUAL(phx_giop_write_cancel(&w, 0xdeadbeefu), 0);
    m = phx_cdr_writer_steal(&w, &len);
    CU_ASSERT_EQUAL(len, 16);
    open_msg(m, len, &h, &r);
    CU_ASSERT_EQUAL(h.type, PHX_GIOP_CANCEL_REQUEST);
    CU_ASSERT_EQUAL(h.size, 4);
    CU_ASSERT_EQUAL(phx_giop_read_cancel(&r, &id, &e), 0);
    CU_ASSERT_EQUAL(id, 0xdeadbeefu);
    free(m);

    phx_cdr_writer_init(&w, 0);
    CU_ASSERT_EQUAL(phx_giop_write_close(&w), 0);
    m = phx_cdr_writer_steal(&w, &len);
    CU_ASSERT_EQUAL(len, 12);
    open_msg(m, len, &h, &r);
    CU_ASSERT_EQUAL(h.type, PHX_GIOP_CLOSE_CONNECTION);
    CU_ASSERT_EQUAL(h.size, 0);
    free(m);

    phx_cdr_writer_init(&w, 0);
    CU_ASSERT_EQUAL(phx_giop_write_message_error(&w), 0);
    m = phx_cdr_writer_steal(&w, &len);
    CU_ASSERT_EQUAL(len, 12);
    open_msg(m, len, &h, &r);
    CU_ASSERT_EQUAL(h.type, PHX_GIOP_MESSAGE_ERROR);
    CU_ASSERT_EQUAL(h.size, 0);
    free(m);

    for (unsigned t = 0; t <= 7; t++)
        CU_ASSERT_STRING_NOT_EQUAL(phx_giop_msg_type_name(t), "unknown");
    CU_ASSERT_STRING_EQUAL(phx_giop_msg_type_name(8), "unknown");
    CU_ASSERT_STRING_EQUAL(phx_giop_msg_type_name(0), "Request");
}

static void test_locate(void)
{
    static const uint8_t prof[] = {1, 2, 3, 4};
    size_t ior_len;
    uint8_t *ior = raw_ior(&ior_len);

    for (uint16_t kind = 0; kind <= 2; kind++) {
        phx_cdr_writer_t w;
        phx_giop_locate_request_t q, d;
        phx_giop_header_t h;
        phx_cdr_reader_t r;
        phx_error_t e;
        uint8_t *m;
        size_t len;

        memset(&q, 0, sizeof q);
        q.request_id = 40 + kind;
        q.target.kind = kind;
        q.target.key = key3;
        q.target.key_len = 3;
        q.target.profile_tag = 0;
        q.target.profile_data = prof;
        q.target.profile_len = 4;
        q.target.selected_profile_index = 3;
        q.target.ior = ior;
        q.target.ior_len = (uint32_t)ior_len;
        q.target.ior_byte_order = PHX_CDR_NATIVE;
        phx_cdr_writer_init(&w, 0);
        CU_ASSERT_EQUAL(phx_giop_write_locate_request(&w, &q), 0);
        m = phx_cdr_writer_steal(&w, &len);
        open_msg(m, len, &h, &r);
        CU_ASSERT_EQUAL(h.type, PHX_GIOP_LOCATE_REQUEST);
        CU_ASSERT_EQUAL(phx_giop_read_locate_request(&r, &d, &e), 0);
        CU_ASSERT_EQUAL(d.request_id, 40 + kind);
        CU_ASSERT_EQUAL(d.target.kind, kind);
        if (kind == PHX_GIOP_KEY_ADDR) {
            CU_ASSERT_EQUAL(d.target.key_len, 3);
        } else if (kind == PHX_GIOP_PROFILE_ADDR) {
            CU_ASSERT_EQUAL(d.target.profile_len, 4);
            CU_ASSERT_EQUAL(memcmp(d.target.profile_data, prof, 4), 0);
        } else {
            CU_ASSERT_EQUAL(d.target.selected_profile_index, 3);
            CU_ASSERT_EQUAL(d.target.ior_len, ior_len);
        }
        CU_ASSERT_EQUAL(phx_cdr_reader_remaining(&r), 0);
        free(m);
    }

    for (uint32_t st = 0; st <= PHX_GIOP_LOC_NEEDS_ADDRESSING_MODE; st++) {
        phx_cdr_writer_t w;
        phx_giop_locate_reply_t p = {7, st}, d;
        phx_giop_header_t h;
        phx_cdr_reader_t r;
        phx_error_t e;
        uint8_t *m;
        size_t len, body_at;

        phx_cdr_writer_init(&w, 0);
        CU_ASSERT_EQUAL(phx_giop_write_locate_reply(&w, &p), 0);
        body_at = phx_cdr_writer_len(&w);
        CU_ASSERT_EQUAL(body_at, 20); /* no alignment to 8 */
        if (st == PHX_GIOP_OBJECT_FORWARD ||
            st == PHX_GIOP_OBJECT_FORWARD_PERM)
            phx_cdr_put_raw(&w, ior, ior_len);
        else if (st == PHX_GIOP_LOC_SYSTEM_EXCEPTION)
            phx_giop_write_sysex(&w, "IDL:omg.org/CORBA/OBJECT_NOT_EXIST:1.0",
                                 1, PHX_COMPLETED_NO);
        else if (st == PHX_GIOP_LOC_NEEDS_ADDRESSING_MODE)
            phx_cdr_put_short(&w, 2);
        m = take(&w, &len);
        open_msg(m, len, &h, &r);
        CU_ASSERT_EQUAL(h.type, PHX_GIOP_LOCATE_REPLY);
        CU_ASSERT_EQUAL(phx_giop_read_locate_reply(&r, &d, &e), 0);
        CU_ASSERT_EQUAL(d.request_id, 7);
        CU_ASSERT_EQUAL(d.locate_status, st);
        CU_ASSERT_EQUAL(r.pos, body_at);
        if (st == PHX_GIOP_OBJECT_FORWARD ||
            st == PHX_GIOP_OBJECT_FORWARD_PERM) {
            CU_ASSERT_EQUAL(phx_cdr_reader_remaining(&r), ior_len);
            CU_ASSERT_EQUAL(memcmp(m + r.pos, ior, ior_len), 0);
        } else if (st == PHX_GIOP_LOC_SYSTEM_EXCEPTION) {
            phx_giop_sysex_t x;
            CU_ASSERT_EQUAL(phx_giop_read_sysex(&r, &x, &e), 0);
            CU_ASSERT_EQUAL(x.completed, PHX_COMPLETED_NO);
            CU_ASSERT_STRING_EQUAL(x.repo_id,
                                   "IDL:omg.org/CORBA/OBJECT_NOT_EXIST:1.0");
        } else if (st == PHX_GIOP_LOC_NEEDS_ADDRESSING_MODE) {
            int16_t v;
            CU_ASSERT_EQUAL(phx_cdr_get_short(&r, &v), 0);
            CU_ASSERT_EQUAL(v, 2);
        } else {
            CU_ASSERT_EQUAL(len, 20);
        }
        CU_ASSERT_STRING_NOT_EQUAL(phx_giop_locate_status_name(st),
                                   "unknown");
        free(m);
    }
    CU_ASSERT_STRING_EQUAL(phx_giop_locate_status_name(6), "unknown");
    free(ior);
}

static void test_sysex_all_completions(void)
{
    for (uint32_t c = 0; c <= 2; c++) {
        phx_cdr_writer_t w;
        phx_cdr_reader_t r;
        phx_giop_sysex_t x;
        phx_error_t e;

        phx_cdr_writer_init(&w, 0);
        CU_ASSERT_EQUAL(phx_giop_write_sysex(&w, "IDL:omg.org/CORBA/"
                                                 "COMM_FAILURE:1.0",
                                             0x4f4d0001u, c),
                        0);
        phx_cdr_reader_init(&r, phx_cdr_writer_data(&w),
                            phx_cdr_writer_len(&w), PHX_CDR_NATIVE);
        CU_ASSERT_EQUAL(phx_giop_read_sysex(&r, &x, &e), 0);
        CU_ASSERT_STRING_EQUAL(x.repo_id,
                               "IDL:omg.org/CORBA/COMM_FAILURE:1.0");
        CU_ASSERT_EQUAL(x.minor, 0x4f4d0001u);
        CU_ASSERT_EQUAL(x.completed, c);
        phx_cdr_writer_fini(&w);
    }
    {
        phx_cdr_writer_t w;
        phx_cdr_writer_init(&w, 0);
        CU_ASSERT_EQUAL(phx_giop_write_sysex(&w, "IDL:x:1.0", 0, 3),
                        PHX_EINVAL);
        phx_cdr_writer_fini(&w);
        phx_cdr_writer_init(&w, 0);
        CU_ASSERT_EQUAL(phx_giop_write_sysex(&w, NULL, 0, 0), PHX_EINVAL);
        phx_cdr_writer_fini(&w);
    }
}

/* The header starts where the writer is, and alignment follows it. */
static void test_message_at_offset(void)
{
    phx_cdr_writer_t w;
    phx_giop_request_t q, d;
    phx_giop_header_t h;
    phx_cdr_reader_t r;
    phx_error_t e;
    uint8_t *m;
    size_t len;
    uint64_t v;

    phx_cdr_writer_init(&w, 0);
    phx_cdr_put_raw(&w, "xyz", 3);
    memset(&q, 0, sizeof q);
    q.response_flags = PHX_GIOP_RESPONSE_TARGET;
    q.target.kind = PHX_GIOP_KEY_ADDR;
    q.operation = "op";
    CU_ASSERT_EQUAL(phx_giop_write_request(&w, &q), 0);
    CU_ASSERT_EQUAL(w.base, 3);
    CU_ASSERT_EQUAL((phx_cdr_writer_len(&w) - 3) % 8, 0);
    phx_cdr_put_ulonglong(&w, 42);
    m = take(&w, &len);
    open_msg(m + 3, len - 3, &h, &r);
    CU_ASSERT_EQUAL(phx_giop_read_request(&r, &d, &e), 0);
    CU_ASSERT_EQUAL(d.target.key_len, 0);
    CU_ASSERT_EQUAL(phx_cdr_get_ulonglong(&r, &v), 0);
    CU_ASSERT_EQUAL(v, 42);
    phx_giop_request_fini(&d);
    free(m);
}

/* ------------------------------------------------------------------ */
/* Hand-built big-endian messages                                       */
/* ------------------------------------------------------------------ */

static void test_big_endian_request(void)
{
    bytes_t bb;
    phx_giop_header_t h;
    phx_cdr_reader_t r;
    phx_giop_request_t d;
    phx_error_t e;
    uint32_t v;

    bb_init(&bb, false);
    bb_header(&bb, PHX_GIOP_REQUEST);
    bb_uint(&bb, 7, 4);                 /* request_id */
    bb_uint(&bb, 3, 1);                 /* response_flags */
    bb_raw(&bb, "\0\0\0", 3);           /* reserved */
    bb_uint(&bb, 0, 2);                 /* KeyAddr */
    bb_uint(&bb, 3, 4);                 /* key */
    bb_raw(&bb, "key", 3);
    bb_string(&bb, "ping");             /* operation */
    bb_uint(&bb, 2, 4);                 /* 2 service contexts */
    bb_uint(&bb, PHX_SC_FT_REQUEST, 4);
    bb_uint(&bb, 3, 4);
    bb_raw(&bb, "\0ab", 3);
    bb_uint(&bb, PHX_SC_CODE_SETS, 4);
    bb_uint(&bb, 0, 4);
    bb_pad(&bb, 8);                     /* body on 8 */
    bb_uint(&bb, 0x01020304, 4);        /* body: a ulong */
    bb_fix_size(&bb);
    CU_ASSERT_EQUAL(bb.b[11], bb.n - 12);
    CU_ASSERT_EQUAL(bb.b[8], 0);

    open_msg(bb.b, bb.n, &h, &r);
    CU_ASSERT_EQUAL(h.byte_order, PHX_CDR_BIG_ENDIAN);
    CU_ASSERT_EQUAL(h.size, bb.n - 12);
    CU_ASSERT_EQUAL(phx_giop_read_request(&r, &d, &e), 0);
    CU_ASSERT_EQUAL(d.request_id, 7);
    CU_ASSERT_EQUAL(d.response_flags, 3);
    CU_ASSERT_EQUAL(d.target.kind, PHX_GIOP_KEY_ADDR);
    CU_ASSERT_EQUAL(d.target.key_len, 3);
    CU_ASSERT_EQUAL(memcmp(d.target.key, "key", 3), 0);
    CU_ASSERT_STRING_EQUAL(d.operation, "ping");
    CU_ASSERT_EQUAL(d.contexts.count, 2);
    CU_ASSERT_EQUAL(d.contexts.items[0].id, PHX_SC_FT_REQUEST);
    CU_ASSERT_EQUAL(d.contexts.items[0].len, 3);
    CU_ASSERT_EQUAL(memcmp(d.contexts.items[0].data, "\0ab", 3), 0);
    CU_ASSERT_EQUAL(d.contexts.items[1].id, PHX_SC_CODE_SETS);
    CU_ASSERT_EQUAL(d.contexts.items[1].len, 0);
    CU_ASSERT_EQUAL(phx_cdr_get_ulong(&r, &v), 0);
    CU_ASSERT_EQUAL(v, 0x01020304);
    phx_giop_request_fini(&d);
}

static void test_big_endian_reply_sysex(void)
{
    bytes_t bb;
    phx_giop_header_t h;
    phx_cdr_reader_t r;
    phx_giop_reply_t d;
    phx_giop_sysex_t x;
    phx_error_t e;

    bb_init(&bb, false);
    bb_header(&bb, PHX_GIOP_REPLY);
    bb_uint(&bb, 9, 4);                 /* request_id */
    bb_uint(&bb, 2, 4);                 /* SYSTEM_EXCEPTION */
    bb_uint(&bb, 0, 4);                 /* no contexts */
    bb_pad(&bb, 8);
    bb_string(&bb, "IDL:omg.org/CORBA/TRANSIENT:1.0");
    bb_uint(&bb, 0x4f4d0002, 4);        /* minor */
    bb_uint(&bb, 1, 4);                 /* COMPLETED_NO */
    bb_fix_size(&bb);
    CU_ASSERT_EQUAL(bb.n, 68);

    open_msg(bb.b, bb.n, &h, &r);
    CU_ASSERT_EQUAL(phx_giop_read_reply(&r, &d, &e), 0);
    CU_ASSERT_EQUAL(d.request_id, 9);
    CU_ASSERT_EQUAL(d.reply_status, PHX_GIOP_SYSTEM_EXCEPTION);
    CU_ASSERT_EQUAL(r.pos, 24);
    CU_ASSERT_EQUAL(phx_giop_read_sysex(&r, &x, &e), 0);
    CU_ASSERT_STRING_EQUAL(x.repo_id, "IDL:omg.org/CORBA/TRANSIENT:1.0");
    CU_ASSERT_EQUAL(x.minor, 0x4f4d0002);
    CU_ASSERT_EQUAL(x.completed, PHX_COMPLETED_NO);
    phx_giop_reply_fini(&d);
}

static void test_big_endian_locate_and_cancel(void)
{
    bytes_t bb;
    phx_giop_header_t h;
    phx_cdr_reader_t r;
    phx_giop_locate_request_t lq;
    phx_giop_locate_reply_t lp;
    phx_error_t e;
    uint32_t id;

    bb_init(&bb, false);
    bb_header(&bb, PHX_GIOP_LOCATE_REQUEST);
    bb_uint(&bb, 0x11223344, 4);
    bb_uint(&bb, 1, 2);                 /* ProfileAddr */
    bb_uint(&bb, 0, 4);                 /* TAG_INTERNET_IOP */
    bb_uint(&bb, 2, 4);
    bb_raw(&bb, "\0\1", 2);
    bb_fix_size(&bb);
    open_msg(bb.b, bb.n, &h, &r);
    CU_ASSERT_EQUAL(phx_giop_read_locate_request(&r, &lq, &e), 0);
    CU_ASSERT_EQUAL(lq.request_id, 0x11223344);
    CU_ASSERT_EQUAL(lq.target.kind, PHX_GIOP_PROFILE_ADDR);
    CU_ASSERT_EQUAL(lq.target.profile_tag, 0);
    CU_ASSERT_EQUAL(lq.target.profile_len, 2);

    bb_init(&bb, false);
    bb_header(&bb, PHX_GIOP_LOCATE_REPLY);
    bb_uint(&bb, 5, 4);
    bb_uint(&bb, PHX_GIOP_OBJECT_HERE, 4);
    bb_fix_size(&bb);
    open_msg(bb.b, bb.n, &h, &r);
    CU_ASSERT_EQUAL(phx_giop_read_locate_reply(&r, &lp, &e), 0);
    CU_ASSERT_EQUAL(lp.request_id, 5);
    CU_ASSERT_EQUAL(lp.locate_status, PHX_GIOP_OBJECT_HERE);

    bb_init(&bb, false);
    bb_header(&bb, PHX_GIOP_CANCEL_REQUEST);
    bb_uint(&bb, 0xa1b2c3d4, 4);
    bb_fix_size(&bb);
    open_msg(bb.b, bb.n, &h, &r);
    CU_ASSERT_EQUAL(phx_giop_read_cancel(&r, &id, &e), 0);
    CU_ASSERT_EQUAL(id, 0xa1b2c3d4);
}

/* ReferenceAddr in a big-endian message: the raw IOR keeps its order. */
static void test_big_endian_reference_addr(void)
{
    bytes_t bb;
    phx_giop_header_t h;
    phx_cdr_reader_t r, ir;
    phx_giop_request_t d;
    phx_error_t e;
    const char *tid;
    size_t tlen, start;
    uint32_t n, tag;

    bb_init(&bb, false);
    bb_header(&bb, PHX_GIOP_REQUEST);
    bb_uint(&bb, 1, 4);
    bb_uint(&bb, 3, 1);
    bb_raw(&bb, "\0\0\0", 3);
    bb_uint(&bb, 2, 2);                 /* ReferenceAddr */
    bb_uint(&bb, 0, 4);                 /* selected_profile_index */
    start = bb.n;
    bb_string(&bb, "IDL:A:1.0");        /* IOR.type_id */
    bb_uint(&bb, 1, 4);                 /* one profile */
    bb_uint(&bb, 0x50485801, 4);
    bb_uint(&bb, 1, 4);
    bb_raw(&bb, "\0", 1);
    bb_string(&bb, "op");
    bb_uint(&bb, 0, 4);
    bb_fix_size(&bb);
    open_msg(bb.b, bb.n, &h, &r);
    CU_ASSERT_EQUAL(phx_giop_read_request(&r, &d, &e), 0);
    CU_ASSERT_EQUAL(d.target.kind, PHX_GIOP_REFERENCE_ADDR);
    CU_ASSERT_EQUAL(d.target.ior_byte_order, PHX_CDR_BIG_ENDIAN);
    CU_ASSERT_PTR_EQUAL(d.target.ior, bb.b + start);
    CU_ASSERT_STRING_EQUAL(d.operation, "op");
    /* decode the borrowed IOR with a fresh reader */
    phx_cdr_reader_init(&ir, d.target.ior, d.target.ior_len,
                        d.target.ior_byte_order);
    CU_ASSERT_EQUAL(phx_cdr_get_string(&ir, &tid, &tlen), 0);
    CU_ASSERT_STRING_EQUAL(tid, "IDL:A:1.0");
    CU_ASSERT_EQUAL(phx_cdr_get_ulong(&ir, &n), 0);
    CU_ASSERT_EQUAL(n, 1);
    CU_ASSERT_EQUAL(phx_cdr_get_ulong(&ir, &tag), 0);
    CU_ASSERT_EQUAL(tag, 0x50485801);
    phx_giop_request_fini(&d);
}

/* ------------------------------------------------------------------ */
/* Bad input                                                            */
/* ------------------------------------------------------------------ */

static void test_bad_headers(void)
{
    phx_cdr_writer_t w;
    phx_giop_header_t h;
    phx_error_t e;
    uint8_t *m, buf[64];
    size_t len;
    int rc;

    phx_cdr_writer_init(&w, 0);
    phx_giop_write_cancel(&w, 1);
    m = phx_cdr_writer_steal(&w, &len);
    CU_ASSERT_EQUAL_FATAL(len, 16);

    /* too short */
    for (size_t n = 0; n < 12; n++) {
        rc = phx_giop_parse_header(m, n, &h, &e);
        CHECK_ERR(rc, &e, PHX_EMARSHAL, "shorter");
    }
    rc = phx_giop_parse_header(NULL, 16, &h, &e);
    CHECK_ERR(rc, &e, PHX_EMARSHAL, NULL);

    /* wrong magic */
    memcpy(buf, m, len);
    buf[0] = 'X';
    rc = phx_giop_parse_header(buf, len, &h, &e);
    CHECK_ERR(rc, &e, PHX_EPROTO, "magic");
    memcpy(buf, m, len);
    memcpy(buf, "giop", 4);
    rc = phx_giop_parse_header(buf, len, &h, &e);
    CHECK_ERR(rc, &e, PHX_EPROTO, "magic");

    /* versions */
    {
        static const uint8_t v[][2] = {{1, 3}, {2, 0}, {1, 0}, {1, 1},
                                       {0, 2}, {1, 255}};
        for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
            memcpy(buf, m, len);
            buf[4] = v[i][0];
            buf[5] = v[i][1];
            rc = phx_giop_parse_header(buf, len, &h, &e);
            CHECK_ERR(rc, &e, PHX_EUNSUPPORTED, "version");
            CU_ASSERT_EQUAL(h.major, v[i][0]);
            CU_ASSERT_EQUAL(h.minor, v[i][1]);
            CU_ASSERT_EQUAL(h.type, PHX_GIOP_CANCEL_REQUEST);
        }
    }

    /* unknown types */
    for (unsigned t = 8; t <= 255; t++) {
        memcpy(buf, m, len);
        buf[7] = (uint8_t)t;
        rc = phx_giop_parse_header(buf, len, &h, &e);
        CHECK_ERR(rc, &e, PHX_EPROTO, "unknown message type");
        CU_ASSERT_EQUAL(h.type, t);
    }

    /* Fragment type and the fragment flag */
    memcpy(buf, m, len);
    buf[7] = PHX_GIOP_FRAGMENT;
    rc = phx_giop_parse_header(buf, len, &h, &e);
    CHECK_ERR(rc, &e, PHX_EUNSUPPORTED, "Fragment");
    memcpy(buf, m, len);
    buf[6] |= PHX_GIOP_FLAG_FRAGMENT;
    rc = phx_giop_parse_header(buf, len, &h, &e);
    CHECK_ERR(rc, &e, PHX_EUNSUPPORTED, "fragment");

    /* other flag bits are reserved and ignored */
    memcpy(buf, m, len);
    buf[6] |= 0x80;
    CU_ASSERT_EQUAL(phx_giop_parse_header(buf, len, &h, &e), 0);

    /* size larger / smaller than the frame */
    memcpy(buf, m, len);
    rc = phx_giop_parse_header(buf, len - 1, &h, &e);
    CHECK_ERR(rc, &e, PHX_EPROTO, "size");
    buf[len] = 0;
    rc = phx_giop_parse_header(buf, len + 1, &h, &e);
    CHECK_ERR(rc, &e, PHX_EPROTO, "size");
    put_size(buf, PHX_CDR_NATIVE == PHX_CDR_LITTLE_ENDIAN, 0xffffffffu);
    rc = phx_giop_parse_header(buf, len, &h, &e);
    CHECK_ERR(rc, &e, PHX_EPROTO, "size");
    CU_ASSERT_EQUAL(h.size, 0xffffffffu);
    /* but phx_giop_decode_header does not look at the frame */
    CU_ASSERT_EQUAL(phx_giop_decode_header(buf, &h, &e), 0);
    CU_ASSERT_EQUAL(h.size, 0xffffffffu);

    /* byte order from the flag: a big-endian size read big-endian */
    memcpy(buf, m, len);
    buf[6] = 0;
    put_size(buf, false, 4);
    CU_ASSERT_EQUAL(phx_giop_parse_header(buf, len, &h, &e), 0);
    CU_ASSERT_EQUAL(h.byte_order, PHX_CDR_BIG_ENDIAN);
    CU_ASSERT_EQUAL(h.size, 4);
    free(m);
}

/*
 * Cut a valid message at every length.  With the size field left alone
 * every cut is refused by the header check; with the size patched to
 * match, the message decoder must refuse it (PHX_EMARSHAL), except at
 * ok_len (a request or reply that ends right after its header).
 */
static void truncate_everywhere(const uint8_t *m, size_t len, size_t ok_len)
{
    for (size_t n = 0; n < len; n++) {
        uint8_t *c = malloc(n ? n : 1);
        phx_error_t e;
        int rc;

        memcpy(c, m, n);
        rc = decode_any(c, n, &e);
        CU_ASSERT_EQUAL(rc, n < 12 ? PHX_EMARSHAL : PHX_EPROTO);
        if (n >= 12) {
            put_size(c, m[6] & 1, (uint32_t)(n - 12));
            rc = decode_any(c, n, &e);
            if (n == ok_len) {
                CU_ASSERT_EQUAL(rc, 0);
            } else {
                CU_ASSERT_EQUAL(rc, PHX_EMARSHAL);
                CU_ASSERT_EQUAL(e.code, PHX_EMARSHAL);
                CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "GIOP "));
                if (rc != PHX_EMARSHAL)
                    fprintf(stderr, "cut at %zu of %zu: %s %s\n", n, len,
                            phx_errname(rc), e.msg);
            }
        }
        free(c);
    }
}

static void test_truncated(void)
{
    phx_service_context_t sc[6];
    phx_cdr_writer_t w;
    phx_giop_request_t q;
    phx_giop_reply_t p;
    phx_giop_locate_request_t lq;
    phx_giop_locate_reply_t lp = {3, PHX_GIOP_OBJECT_HERE};
    uint8_t *m, *ior;
    size_t len, unpadded, ior_len;

    for (int i = 0; i < 6; i++) {
        sc[i].id = (uint32_t)i;
        sc[i].data = ctx_data;
        sc[i].len = (uint32_t)i + 1;
    }
    ior = raw_ior(&ior_len);
    memset(&q, 0, sizeof q);
    q.request_id = 1;
    q.response_flags = PHX_GIOP_RESPONSE_TARGET;
    q.operation = "operation";
    q.contexts.items = sc;
    q.contexts.count = 6;
    for (uint16_t kind = 0; kind <= 2; kind++) {
        q.target.kind = kind;
        q.target.key = key3;
        q.target.key_len = 3;
        q.target.profile_data = ctx_data;
        q.target.profile_len = 7;
        q.target.ior = ior;
        q.target.ior_len = (uint32_t)ior_len;
        q.target.ior_byte_order = PHX_CDR_NATIVE;

        q.no_body = true;
        phx_cdr_writer_init(&w, 0);
        phx_giop_write_request(&w, &q);
        unpadded = phx_cdr_writer_len(&w);
        phx_cdr_writer_fini(&w);

        q.no_body = false;
        phx_cdr_writer_init(&w, 0);
        phx_giop_write_request(&w, &q);
        m = take(&w, &len);
        CU_ASSERT(unpadded < len);
        truncate_everywhere(m, len, unpadded);
        free(m);

        lq.request_id = 2;
        lq.target = q.target;
        phx_cdr_writer_init(&w, 0);
        phx_giop_write_locate_request(&w, &lq);
        m = take(&w, &len);
        truncate_everywhere(m, len, SIZE_MAX);
        free(m);
    }

    memset(&p, 0, sizeof p);
    p.reply_status = PHX_GIOP_USER_EXCEPTION;
    p.contexts.items = sc;
    p.contexts.count = 5;
    p.no_body = true;
    phx_cdr_writer_init(&w, 0);
    phx_giop_write_reply(&w, &p);
    unpadded = phx_cdr_writer_len(&w);
    phx_cdr_writer_fini(&w);
    p.no_body = false;
    phx_cdr_writer_init(&w, 0);
    phx_giop_write_reply(&w, &p);
    m = take(&w, &len);
    CU_ASSERT(unpadded < len);
    truncate_everywhere(m, len, unpadded);
    free(m);

    phx_cdr_writer_init(&w, 0);
    phx_giop_write_locate_reply(&w, &lp);
    m = take(&w, &len);
    truncate_everywhere(m, len, SIZE_MAX);
    free(m);

    phx_cdr_writer_init(&w, 0);
    phx_giop_write_cancel(&w, 9);
    m = take(&w, &len);
    truncate_everywhere(m, len, SIZE_MAX);
    free(m);
    free(ior);
}

/* Build a request by hand around one bad piece. */
static void test_bad_request_fields(void)
{
    bytes_t bb;
    phx_error_t e;
    int rc;

    /* operation string without NUL */
    bb_init(&bb, false);
    bb_header(&bb, PHX_GIOP_REQUEST);
    bb_uint(&bb, 1, 4);
    bb_uint(&bb, 3, 1);
    bb_raw(&bb, "\0\0\0", 3);
    bb_uint(&bb, 0, 2);
    bb_uint(&bb, 0, 4);
    bb_uint(&bb, 4, 4);
    bb_raw(&bb, "ping", 4);
    bb_uint(&bb, 0, 4);
    bb_fix_size(&bb);
    rc = decode_any(bb.b, bb.n, &e);
    CHECK_ERR(rc, &e, PHX_EMARSHAL, "operation");

    /* operation with length 0 */
    bb_init(&bb, true);
    bb_header(&bb, PHX_GIOP_REQUEST);
    bb_uint(&bb, 1, 4);
    bb_uint(&bb, 3, 1);
    bb_raw(&bb, "\0\0\0", 3);
    bb_uint(&bb, 0, 2);
    bb_uint(&bb, 0, 4);
    bb_uint(&bb, 0, 4);
    bb_uint(&bb, 0, 4);
    bb_fix_size(&bb);
    rc = decode_any(bb.b, bb.n, &e);
    CHECK_ERR(rc, &e, PHX_EMARSHAL, "operation");

    /* object key longer than the message */
    bb_init(&bb, false);
    bb_header(&bb, PHX_GIOP_REQUEST);
    bb_uint(&bb, 1, 4);
    bb_uint(&bb, 3, 1);
    bb_raw(&bb, "\0\0\0", 3);
    bb_uint(&bb, 0, 2);
    bb_uint(&bb, 0x7fffffff, 4);
    bb_raw(&bb, "abcd", 4);
    bb_fix_size(&bb);
    rc = decode_any(bb.b, bb.n, &e);
    CHECK_ERR(rc, &e, PHX_EMARSHAL, "object key");

    /* service context count far beyond what the message holds: refused
     * before anything is allocated */
    bb_init(&bb, true);
    bb_header(&bb, PHX_GIOP_REQUEST);
    bb_uint(&bb, 1, 4);
    bb_uint(&bb, 3, 1);
    bb_raw(&bb, "\0\0\0", 3);
    bb_uint(&bb, 0, 2);
    bb_uint(&bb, 0, 4);
    bb_string(&bb, "op");
    bb_uint(&bb, 0x10000000, 4);
    bb_uint(&bb, 1, 4);
    bb_uint(&bb, 0, 4);
    bb_fix_size(&bb);
    rc = decode_any(bb.b, bb.n, &e);
    CHECK_ERR(rc, &e, PHX_EMARSHAL, "service context count");

    /* service context data longer than the message */
    bb_init(&bb, true);
    bb_header(&bb, PHX_GIOP_REQUEST);
    bb_uint(&bb, 1, 4);
    bb_uint(&bb, 3, 1);
    bb_raw(&bb, "\0\0\0", 3);
    bb_uint(&bb, 0, 2);
    bb_uint(&bb, 0, 4);
    bb_string(&bb, "op");
    bb_uint(&bb, 1, 4);
    bb_uint(&bb, 13, 4);
    bb_uint(&bb, 100, 4);
    bb_fix_size(&bb);
    rc = decode_any(bb.b, bb.n, &e);
    CHECK_ERR(rc, &e, PHX_EMARSHAL, "service context");

    /* response_flags 2 and 0x83 */
    for (int f = 0; f < 2; f++) {
        bb_init(&bb, true);
        bb_header(&bb, PHX_GIOP_REQUEST);
        bb_uint(&bb, 1, 4);
        bb_uint(&bb, f ? 0x83 : 2, 1);
        bb_raw(&bb, "\0\0\0", 3);
        bb_uint(&bb, 0, 2);
        bb_uint(&bb, 0, 4);
        bb_string(&bb, "op");
        bb_uint(&bb, 0, 4);
        bb_fix_size(&bb);
        rc = decode_any(bb.b, bb.n, &e);
        CHECK_ERR(rc, &e, PHX_EMARSHAL, "response_flags");
    }

    /* TargetAddress discriminators 3 and -1 */
    for (int k = 0; k < 2; k++) {
        bb_init(&bb, true);
        bb_header(&bb, PHX_GIOP_REQUEST);
        bb_uint(&bb, 1, 4);
        bb_uint(&bb, 3, 1);
        bb_raw(&bb, "\0\0\0", 3);
        bb_uint(&bb, k ? 0xffff : 3, 2);
        bb_uint(&bb, 0, 4);
        bb_string(&bb, "op");
        bb_uint(&bb, 0, 4);
        bb_fix_size(&bb);
        rc = decode_any(bb.b, bb.n, &e);
        CHECK_ERR(rc, &e, PHX_EMARSHAL, "TargetAddress");
    }

    /* ReferenceAddr whose IOR has a profile count beyond the message */
    bb_init(&bb, true);
    bb_header(&bb, PHX_GIOP_REQUEST);
    bb_uint(&bb, 1, 4);
    bb_uint(&bb, 3, 1);
    bb_raw(&bb, "\0\0\0", 3);
    bb_uint(&bb, 2, 2);
    bb_uint(&bb, 0, 4);
    bb_string(&bb, "IDL:A:1.0");
    bb_uint(&bb, 1000, 4);
    bb_string(&bb, "op");
    bb_uint(&bb, 0, 4);
    bb_fix_size(&bb);
    rc = decode_any(bb.b, bb.n, &e);
    CHECK_ERR(rc, &e, PHX_EMARSHAL, "IOR");

    /* non-zero padding before the body is accepted (not checked) */
    bb_init(&bb, true);
    bb_header(&bb, PHX_GIOP_REQUEST);
    bb_uint(&bb, 1, 4);
    bb_uint(&bb, 3, 1);
    bb_raw(&bb, "\xff\xff\xff", 3);    /* reserved octets not checked */
    bb_uint(&bb, 0, 2);
    bb_uint(&bb, 0, 4);
    bb_string(&bb, "op");
    bb_uint(&bb, 1, 4);                 /* one context */
    bb_uint(&bb, 99, 4);
    bb_uint(&bb, 1, 4);
    bb_raw(&bb, "z", 1);                /* header ends at 49 */
    CU_ASSERT_EQUAL(bb.n, 49);
    bb_raw(&bb, "\xaa\xbb\xcc\xdd\xee\x01\x02", 7);
    bb_uint(&bb, 0x55, 4);
    bb_fix_size(&bb);
    {
        phx_giop_header_t h;
        phx_cdr_reader_t r;
        phx_giop_request_t d;
        uint32_t v;
        open_msg(bb.b, bb.n, &h, &r);
        CU_ASSERT_EQUAL(phx_giop_read_request(&r, &d, &e), 0);
        CU_ASSERT_EQUAL(r.pos, 56);
        CU_ASSERT_EQUAL(phx_cdr_get_ulong(&r, &v), 0);
        CU_ASSERT_EQUAL(v, 0x55);
        phx_giop_request_fini(&d);
    }
}

static void test_bad_reply_fields(void)
{
    bytes_t bb;
    phx_error_t e;
    int rc;

    /* reply_status 6 */
    bb_init(&bb, false);
    bb_header(&bb, PHX_GIOP_REPLY);
    bb_uint(&bb, 1, 4);
    bb_uint(&bb, 6, 4);
    bb_uint(&bb, 0, 4);
    bb_fix_size(&bb);
    rc = decode_any(bb.b, bb.n, &e);
    CHECK_ERR(rc, &e, PHX_EMARSHAL, "reply_status 6");

    /* locate_status 6 */
    bb_init(&bb, false);
    bb_header(&bb, PHX_GIOP_LOCATE_REPLY);
    bb_uint(&bb, 1, 4);
    bb_uint(&bb, 6, 4);
    bb_fix_size(&bb);
    rc = decode_any(bb.b, bb.n, &e);
    CHECK_ERR(rc, &e, PHX_EMARSHAL, "locate_status 6");

    /* completion status 3, minor missing, repository id without NUL */
    {
        phx_cdr_reader_t r;
        phx_giop_sysex_t x;

        bb_init(&bb, false);
        bb_string(&bb, "IDL:omg.org/CORBA/UNKNOWN:1.0");
        bb_uint(&bb, 1, 4);
        bb_uint(&bb, 3, 4);
        phx_cdr_reader_init(&r, bb.b, bb.n, PHX_CDR_BIG_ENDIAN);
        rc = phx_giop_read_sysex(&r, &x, &e);
        CHECK_ERR(rc, &e, PHX_EMARSHAL, "completion status 3");

        phx_cdr_reader_init(&r, bb.b, bb.n - 8, PHX_CDR_BIG_ENDIAN);
        rc = phx_giop_read_sysex(&r, &x, &e);
        CHECK_ERR(rc, &e, PHX_EMARSHAL, "minor");

        bb_init(&bb, false);
        bb_uint(&bb, 3, 4);
        bb_raw(&bb, "abc", 3);
        bb_uint(&bb, 0, 4);
        bb_uint(&bb, 0, 4);
        phx_cdr_reader_init(&r, bb.b, bb.n, PHX_CDR_BIG_ENDIAN);
        rc = phx_giop_read_sysex(&r, &x, &e);
        CHECK_ERR(rc, &e, PHX_EMARSHAL, "repository id");
    }

    /* padding cut short: the message ends 3 octets into the padding */
    bb_init(&bb, true);
    bb_header(&bb, PHX_GIOP_REPLY);
    bb_uint(&bb, 1, 4);
    bb_uint(&bb, 0, 4);
    bb_uint(&bb, 1, 4);
    bb_uint(&bb, 1, 4);
    bb_uint(&bb, 1, 4);
    bb_raw(&bb, "z", 1);                /* ends at 33 */
    bb_raw(&bb, "\0\0\0", 3);
    bb_fix_size(&bb);
    rc = decode_any(bb.b, bb.n, &e);
    CHECK_ERR(rc, &e, PHX_EMARSHAL, "padding");
}

static void test_bad_writer_args(void)
{
    phx_cdr_writer_t w;
    phx_giop_request_t q;
    phx_giop_reply_t p;
    phx_giop_locate_reply_t lp = {1, 6};
    uint8_t small[20];

    memset(&q, 0, sizeof q);
    q.operation = "op";
    q.response_flags = 2;
    phx_cdr_writer_init(&w, 0);
    CU_ASSERT_EQUAL(phx_giop_write_request(&w, &q), PHX_EINVAL);
    phx_cdr_writer_fini(&w);

    q.response_flags = 3;
    q.operation = NULL;
    phx_cdr_writer_init(&w, 0);
    CU_ASSERT_EQUAL(phx_giop_write_request(&w, &q), PHX_EINVAL);
    phx_cdr_writer_fini(&w);

    q.operation = "op";
    q.target.kind = 3;
    phx_cdr_writer_init(&w, 0);
    CU_ASSERT_EQUAL(phx_giop_write_request(&w, &q), PHX_EINVAL);
    phx_cdr_writer_fini(&w);

    q.target.kind = PHX_GIOP_KEY_ADDR;
    q.contexts.count = 2; /* items NULL */
    phx_cdr_writer_init(&w, 0);
    CU_ASSERT_EQUAL(phx_giop_write_request(&w, &q), PHX_EINVAL);
    phx_cdr_writer_fini(&w);

    memset(&p, 0, sizeof p);
    p.reply_status = 6;
    phx_cdr_writer_init(&w, 0);
    CU_ASSERT_EQUAL(phx_giop_write_reply(&w, &p), PHX_EINVAL);
    phx_cdr_writer_fini(&w);

    phx_cdr_writer_init(&w, 0);
    CU_ASSERT_EQUAL(phx_giop_write_locate_reply(&w, &lp), PHX_EINVAL);
    phx_cdr_writer_fini(&w);

    /* finish without a header */
    phx_cdr_writer_init(&w, 0);
    CU_ASSERT_EQUAL(phx_giop_finish(&w), PHX_EINVAL);
    phx_cdr_writer_fini(&w);
    phx_cdr_writer_init(&w, 0);
    phx_cdr_put_ulonglong(&w, 1);
    phx_cdr_put_ulonglong(&w, 2);
    CU_ASSERT_EQUAL(phx_giop_finish(&w), PHX_EINVAL);
    phx_cdr_writer_fini(&w);

    /* a fixed buffer too small */
    phx_cdr_writer_init_fixed(&w, small, sizeof small);
    q.contexts.count = 0;
    CU_ASSERT_EQUAL(phx_giop_write_request(&w, &q), PHX_ELIMIT);
    CU_ASSERT_EQUAL(phx_giop_finish(&w), PHX_ELIMIT);

    /* a fixed buffer just big enough for a cancel */
    phx_cdr_writer_init_fixed(&w, small, 16);
    CU_ASSERT_EQUAL(phx_giop_write_cancel(&w, 3), 0);
    CU_ASSERT_EQUAL(phx_cdr_writer_len(&w), 16);
}

/* ------------------------------------------------------------------ */

int main(void)
{
    static const struct {
        const char *name;
        CU_TestFunc fn;
    } tests[] = {
        {"request KeyAddr, all response flags", test_request_key_addr},
        {"request ProfileAddr", test_request_profile_addr},
        {"request ReferenceAddr", test_request_reference_addr},
        {"service contexts 0/1/4/5/100", test_service_contexts},
        {"reply every status", test_reply_every_status},
        {"no body, with and without padding", test_no_body},
        {"cancel, close, message error", test_cancel_close_error},
        {"locate request/reply", test_locate},
        {"system exception body", test_sysex_all_completions},
        {"message at a writer offset", test_message_at_offset},
        {"big-endian request", test_big_endian_request},
        {"big-endian reply with system exception",
         test_big_endian_reply_sysex},
        {"big-endian locate and cancel", test_big_endian_locate_and_cancel},
        {"big-endian ReferenceAddr", test_big_endian_reference_addr},
        {"bad headers", test_bad_headers},
        {"truncated at every offset", test_truncated},
        {"bad request fields", test_bad_request_fields},
        {"bad reply fields", test_bad_reply_fields},
        {"bad writer arguments", test_bad_writer_args},
    };
    CU_pSuite s;
    unsigned failures;

    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    s = CU_add_suite("giop", NULL, NULL);
    if (s == NULL)
        return 2;
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++)
        if (CU_add_test(s, tests[i].name, tests[i].fn) == NULL)
            return 2;
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    failures = CU_get_number_of_failures();
    CU_cleanup_registry();
    return failures != 0;
}
