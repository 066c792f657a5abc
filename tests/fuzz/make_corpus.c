/*
 * make_corpus.c - writes the seed corpus of the GIOP fuzz target
 * (tests/fuzz/corpus/giop/): a valid message of every GIOP type in both
 * byte orders, requests with each TargetAddress kind, replies with each
 * status, IORs, stringified references, TypeCodes, profile and component
 * bodies, and a few known-bad frames.
 *
 * Not part of the build.  To regenerate the seeds, from the top of the
 * source tree (only the codec sources are needed):
 *
 *   cc -std=c11 -D_GNU_SOURCE -Iinclude -o /tmp/make_corpus \
 *      tests/fuzz/make_corpus.c orb/core/error.c orb/core/log.c \
 *      orb/cdr/cdr.c orb/cdr/typecode.c orb/cdr/value.c \
 *      orb/giop/giop.c orb/ior/ior.c orb/ior/corbaloc.c
 *   /tmp/make_corpus tests/fuzz/corpus/giop
 *
 * Messages in the host's byte order are written by the library's GIOP
 * writers; the other order is built octet by octet here (the library only
 * writes the native order), which also keeps a second, independent
 * encoder of the format in the corpus.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <phx/cdr.h>
#include <phx/giop.h>
#include <phx/ior.h>
#include <phx/typecode.h>

static const char *outdir = "tests/fuzz/corpus/giop";
static int written;

static void die(const char *what)
{
    fprintf(stderr, "make_corpus: %s\n", what);
    exit(1);
}

static void save(const char *name, const void *p, size_t n)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", outdir, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL || (n && fwrite(p, 1, n, f) != n) || fclose(f) != 0)
        die(path);
    written++;
}

static void save_str(const char *name, const char *s)
{
    save(name, s, strlen(s));
}

/* Save a library writer's contents, which must be error free. */
static void save_w(const char *name, phx_cdr_writer_t *w)
{
    if (phx_cdr_writer_status(w) != PHX_OK)
        die(name);
    save(name, phx_cdr_writer_data(w), phx_cdr_writer_len(w));
    phx_cdr_writer_fini(w);
}

/* "-le" or "-be" for the host's order, to name native messages. */
static const char *native_sfx(void)
{
    return PHX_CDR_NATIVE == PHX_CDR_LITTLE_ENDIAN ? "le" : "be";
}

static const char *other_sfx(void)
{
    return PHX_CDR_NATIVE == PHX_CDR_LITTLE_ENDIAN ? "be" : "le";
}

static void name2(char *buf, size_t cap, const char *stem, const char *sfx)
{
    snprintf(buf, cap, "%s-%s.bin", stem, sfx);
}

/* ------------------------------------------------------------------ */
/* A CDR encoder in the non-native byte order                           */
/* ------------------------------------------------------------------ */

typedef struct xw {
    uint8_t buf[8192];
    size_t len;
    size_t base;
} xw_t;

static void xw_raw(xw_t *w, const void *p, size_t n)
{
    if (w->len + n > sizeof w->buf)
        die("xw overflow");
    if (n)
        memcpy(w->buf + w->len, p, n);
    w->len += n;
}

static void xw_align(xw_t *w, size_t a)
{
    static const uint8_t zeros[8];
    size_t off = (w->len - w->base) % a;
    if (off)
        xw_raw(w, zeros, a - off);
}

/* An n-octet integer in the non-native order, aligned on n. */
static void xw_int(xw_t *w, uint64_t v, size_t n)
{
    uint8_t b[8];
    bool big = PHX_CDR_NATIVE == PHX_CDR_LITTLE_ENDIAN;
    xw_align(w, n);
    for (size_t i = 0; i < n; i++)
        b[big ? n - 1 - i : i] = (uint8_t)(v >> (8 * i));
    xw_raw(w, b, n);
}

static void xw_u8(xw_t *w, uint8_t v) { xw_raw(w, &v, 1); }
static void xw_u16(xw_t *w, uint16_t v) { xw_int(w, v, 2); }
static void xw_u32(xw_t *w, uint32_t v) { xw_int(w, v, 4); }
static void xw_u64(xw_t *w, uint64_t v) { xw_int(w, v, 8); }

static void xw_str(xw_t *w, const char *s)
{
    xw_u32(w, (uint32_t)strlen(s) + 1);
    xw_raw(w, s, strlen(s) + 1);
}

static void xw_seq(xw_t *w, const void *p, size_t n)
{
    xw_u32(w, (uint32_t)n);
    xw_raw(w, p, n);
}

static void xw_header(xw_t *w, uint8_t type)
{
    uint8_t h[8] = {'G', 'I', 'O', 'P', 1, 2, 0, type};
    h[6] = PHX_CDR_NATIVE == PHX_CDR_LITTLE_ENDIAN
               ? 0
               : PHX_GIOP_FLAG_LITTLE_ENDIAN;
    w->len = 0;
    w->base = 0;
    xw_raw(w, h, 8);
    xw_u32(w, 0);
}

static void xw_finish(xw_t *w)
{
    size_t len = w->len;
    w->len = 8;
    xw_u32(w, (uint32_t)(len - PHX_GIOP_HEADER_SIZE));
    w->len = len;
}

static void xw_ior(xw_t *w, const phx_ior_t *ior)
{
    xw_str(w, ior->type_id ? ior->type_id : "");
    xw_u32(w, ior->profile_count);
    for (uint32_t i = 0; i < ior->profile_count; i++) {
        xw_u32(w, ior->profiles[i].tag);
        xw_seq(w, ior->profiles[i].data, ior->profiles[i].len);
    }
}

static void xw_target(xw_t *w, const phx_giop_target_t *t,
                      const phx_ior_t *ior)
{
    xw_u16(w, t->kind);
    switch (t->kind) {
    case PHX_GIOP_KEY_ADDR:
        xw_seq(w, t->key, t->key_len);
        break;
    case PHX_GIOP_PROFILE_ADDR:
        xw_u32(w, t->profile_tag);
        xw_seq(w, t->profile_data, t->profile_len);
        break;
    default:
        xw_u32(w, t->selected_profile_index);
        xw_ior(w, ior);
        break;
    }
}

static void xw_contexts(xw_t *w, const phx_giop_sc_list_t *l)
{
    xw_u32(w, l->count);
    for (uint32_t i = 0; i < l->count; i++) {
        xw_u32(w, l->items[i].id);
        xw_seq(w, l->items[i].data, l->items[i].len);
    }
}

/* ------------------------------------------------------------------ */
/* Shared pieces                                                        */
/* ------------------------------------------------------------------ */

static const uint8_t echo_key[] = {'e', 'c', 'h', 'o', 0, 1};

static phx_ior_t iogr;           /* 2 ZMQ profiles + 1 IIOP, FT comps */
static phx_tagged_profile_t zmq_profile;
static uint8_t iogr_raw[4096];   /* native CDR of iogr, at offset 0 */
static size_t iogr_raw_len;

static void make_iogr(void)
{
    phx_ft_group_t g = {.major = 1, .minor = 0,
                        .ft_domain_id = "fuzz.example",
                        .object_group_id = 0x1122334455667788ull,
                        .object_group_ref_version = 3};
    phx_tagged_component_t comps[3];
    if (phx_ft_group_encode(&g, &comps[0]) ||
        phx_ft_primary_encode(true, &comps[1]) ||
        phx_component_encode_bool(PHX_TAG_FT_HEARTBEAT_ENABLED, true,
                                  &comps[2]))
        die("components");
    phx_ior_init(&iogr);
    if (phx_ior_set_type_id(&iogr, "IDL:phalanx/Echo:1.0") ||
        phx_ior_add_zmq_profile(&iogr, "tcp://127.0.0.1:5555", echo_key,
                                sizeof echo_key, comps, 3) ||
        phx_ior_add_zmq_profile(&iogr, "ipc:///tmp/phx-echo", echo_key,
                                sizeof echo_key, comps, 1) ||
        phx_ior_add_iiop_profile(&iogr, "::1", 2809, echo_key,
                                 sizeof echo_key, NULL, 0))
        die("iogr");
    for (int i = 0; i < 3; i++)
        phx_tagged_component_fini(&comps[i]);
    zmq_profile = iogr.profiles[0];

    phx_cdr_writer_t w;
    phx_cdr_writer_init_fixed(&w, iogr_raw, sizeof iogr_raw);
    if (phx_ior_write(&w, &iogr))
        die("iogr raw");
    iogr_raw_len = w.len;
}

/* Service contexts: FT_REQUEST, FT_GROUP_VERSION, CODE_SETS and two
 * unknown ones (five: more than fit inline in a decoded list). */
static uint8_t ctx_buf[5][64];
static phx_service_context_t ctx_items[5];

static void make_contexts(void)
{
    static const uint32_t ids[5] = {PHX_SC_FT_REQUEST,
                                    PHX_SC_FT_GROUP_VERSION,
                                    PHX_SC_CODE_SETS, 0x50580001u, 99};
    for (int i = 0; i < 5; i++) {
        phx_cdr_writer_t w;
        phx_cdr_writer_init_fixed(&w, ctx_buf[i], sizeof ctx_buf[i]);
        phx_cdr_put_octet(&w, PHX_CDR_NATIVE);
        switch (i) {
        case 0:
            phx_cdr_put_string(&w, "client-7");
            phx_cdr_put_long(&w, 42);
            phx_cdr_put_ulonglong(&w, 1700000000000ull);
            break;
        case 1:
            phx_cdr_put_ulong(&w, 3);
            break;
        case 2:
            phx_cdr_put_ulong(&w, 0x05010001u);
            phx_cdr_put_ulong(&w, 0x00010109u);
            break;
        case 3:
            phx_cdr_put_string(&w, "opaque");
            break;
        default:
            break;
        }
        if (w.err)
            die("contexts");
        ctx_items[i] = (phx_service_context_t){
            .id = ids[i], .data = ctx_buf[i], .len = (uint32_t)w.len};
    }
}

/* ------------------------------------------------------------------ */
/* Requests                                                             */
/* ------------------------------------------------------------------ */

typedef void (*body_fn)(phx_cdr_writer_t *w, xw_t *x);

static void body_long42(phx_cdr_writer_t *w, xw_t *x)
{
    if (w)
        phx_cdr_put_long(w, 42);
    else
        xw_u32(x, 42);
}

static void body_octets(phx_cdr_writer_t *w, xw_t *x)
{
    static const uint8_t o[] = {0, 1, 2, 3, 0xfe, 0xff, 'x'};
    if (w)
        phx_cdr_put_octet_seq(w, o, sizeof o);
    else
        xw_seq(x, o, sizeof o);
}

static void body_fail(phx_cdr_writer_t *w, xw_t *x)
{
    if (w) {
        phx_cdr_put_long(w, 7);
        phx_cdr_put_string(w, "because");
    } else {
        xw_u32(x, 7);
        xw_str(x, "because");
    }
}

/* The fuzz target's "Prims" struct: every primitive, an enum, strings,
 * a long[2][3] and an alias of long. */
static void body_prims(phx_cdr_writer_t *w, xw_t *x)
{
    double d = -2.5;
    float f = 1.25f;
    uint64_t dbits;
    uint32_t fbits;
    memcpy(&dbits, &d, 8);
    memcpy(&fbits, &f, 4);
    if (w) {
        phx_cdr_put_short(w, -2);
        phx_cdr_put_long(w, -100000);
        phx_cdr_put_ushort(w, 65000);
        phx_cdr_put_ulong(w, 4000000000u);
        phx_cdr_put_float(w, f);
        phx_cdr_put_double(w, d);
        phx_cdr_put_boolean(w, true);
        phx_cdr_put_char(w, 'z');
        phx_cdr_put_octet(w, 0xab);
        phx_cdr_put_longlong(w, -1);
        phx_cdr_put_ulonglong(w, 0x0102030405060708ull);
        phx_cdr_put_ulong(w, 2);
        phx_cdr_put_string(w, "unbounded");
        phx_cdr_put_string(w, "short");
        for (int32_t i = 0; i < 6; i++)
            phx_cdr_put_long(w, i);
        phx_cdr_put_long(w, 99);
    } else {
        xw_u16(x, (uint16_t)-2);
        xw_u32(x, (uint32_t)-100000);
        xw_u16(x, 65000);
        xw_u32(x, 4000000000u);
        xw_u32(x, fbits);
        xw_u64(x, dbits);
        xw_u8(x, 1);
        xw_u8(x, 'z');
        xw_u8(x, 0xab);
        xw_u64(x, UINT64_MAX);
        xw_u64(x, 0x0102030405060708ull);
        xw_u32(x, 2);
        xw_str(x, "unbounded");
        xw_str(x, "short");
        for (uint32_t i = 0; i < 6; i++)
            xw_u32(x, i);
        xw_u32(x, 99);
    }
}

typedef struct req_spec {
    const char *stem;
    const char *op;
    uint8_t flags;
    uint16_t kind;
    bool contexts;
    body_fn body; /* NULL: no body at all */
} req_spec_t;

static void target_of(uint16_t kind, phx_giop_target_t *t)
{
    memset(t, 0, sizeof *t);
    t->kind = kind;
    t->key = echo_key;
    t->key_len = sizeof echo_key;
    t->profile_tag = zmq_profile.tag;
    t->profile_data = zmq_profile.data;
    t->profile_len = zmq_profile.len;
    t->selected_profile_index = 1;
    t->ior = iogr_raw;
    t->ior_len = (uint32_t)iogr_raw_len;
    t->ior_byte_order = PHX_CDR_NATIVE;
}

static void request(const req_spec_t *s, bool both)
{
    char name[256];
    phx_giop_request_t req;
    memset(&req, 0, sizeof req);
    req.request_id = 17;
    req.response_flags = s->flags;
    target_of(s->kind, &req.target);
    req.operation = s->op;
    if (s->contexts) {
        req.contexts.items = ctx_items;
        req.contexts.count = 5;
    }
    req.no_body = s->body == NULL;

    phx_cdr_writer_t w;
    phx_cdr_writer_init(&w, 0);
    phx_giop_write_request(&w, &req);
    if (s->body)
        s->body(&w, NULL);
    phx_giop_finish(&w);
    name2(name, sizeof name, s->stem, native_sfx());
    save_w(name, &w);
    if (!both)
        return;

    xw_t x;
    xw_header(&x, PHX_GIOP_REQUEST);
    xw_u32(&x, req.request_id);
    xw_u8(&x, req.response_flags);
    xw_raw(&x, "\0\0\0", 3);
    xw_target(&x, &req.target, &iogr);
    xw_str(&x, req.operation);
    xw_contexts(&x, &req.contexts);
    if (s->body) {
        xw_align(&x, 8);
        s->body(NULL, &x);
    }
    xw_finish(&x);
    name2(name, sizeof name, s->stem, other_sfx());
    save(name, x.buf, x.len);
}

static void requests(void)
{
    static const req_spec_t specs[] = {
        {"req-keyaddr", "echo_long", 3, PHX_GIOP_KEY_ADDR, false,
         body_long42},
        {"req-profileaddr", "echo_long", 3, PHX_GIOP_PROFILE_ADDR, false,
         body_long42},
        {"req-refaddr", "echo_long", 3, PHX_GIOP_REFERENCE_ADDR, false,
         body_long42},
        {"req-contexts", "echo_octets", 3, PHX_GIOP_KEY_ADDR, true,
         body_octets},
        {"req-prims", "set_prims", 3, PHX_GIOP_KEY_ADDR, false,
         body_prims},
    };
    static const req_spec_t native_only[] = {
        {"req-oneway-ping", "ping", 0, PHX_GIOP_KEY_ADDR, false,
         body_long42},
        {"req-syncserver-fail", "fail", 1, PHX_GIOP_KEY_ADDR, false,
         body_fail},
        {"req-nobody-count", "count", 3, PHX_GIOP_KEY_ADDR, false, NULL},
    };
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++)
        request(&specs[i], true);
    for (size_t i = 0; i < sizeof native_only / sizeof native_only[0]; i++)
        request(&native_only[i], false);
}

/* ------------------------------------------------------------------ */
/* Replies                                                              */
/* ------------------------------------------------------------------ */

enum rbody { RB_NONE, RB_LONG, RB_USEREX, RB_SYSEX, RB_IOR, RB_MODE };

static void reply_body(phx_cdr_writer_t *w, xw_t *x, enum rbody b)
{
    switch (b) {
    case RB_NONE:
        break;
    case RB_LONG:
        body_long42(w, x);
        break;
    case RB_USEREX:
        if (w) {
            phx_cdr_put_string(w, "IDL:phalanx/Echo/Failed:1.0");
            phx_cdr_put_long(w, 7);
            phx_cdr_put_string(w, "because");
        } else {
            xw_str(x, "IDL:phalanx/Echo/Failed:1.0");
            xw_u32(x, 7);
            xw_str(x, "because");
        }
        break;
    case RB_SYSEX:
        if (w) {
            phx_giop_write_sysex(w, "IDL:omg.org/CORBA/MARSHAL:1.0",
                                 0x50580005u, PHX_COMPLETED_NO);
        } else {
            xw_str(x, "IDL:omg.org/CORBA/MARSHAL:1.0");
            xw_u32(x, 0x50580005u);
            xw_u32(x, PHX_COMPLETED_NO);
        }
        break;
    case RB_IOR:
        if (w)
            phx_ior_write(w, &iogr);
        else
            xw_ior(x, &iogr);
        break;
    case RB_MODE:
        if (w)
            phx_cdr_put_short(w, PHX_GIOP_REFERENCE_ADDR);
        else
            xw_u16(x, PHX_GIOP_REFERENCE_ADDR);
        break;
    }
}

static void reply(const char *stem, uint32_t status, enum rbody b,
                  bool contexts, bool both)
{
    char name[256];
    phx_giop_reply_t rep;
    memset(&rep, 0, sizeof rep);
    rep.request_id = 17;
    rep.reply_status = status;
    if (contexts) {
        rep.contexts.items = ctx_items;
        rep.contexts.count = 5;
    }
    rep.no_body = b == RB_NONE;

    phx_cdr_writer_t w;
    phx_cdr_writer_init(&w, 0);
    phx_giop_write_reply(&w, &rep);
    reply_body(&w, NULL, b);
    phx_giop_finish(&w);
    name2(name, sizeof name, stem, native_sfx());
    save_w(name, &w);
    if (!both)
        return;

    xw_t x;
    xw_header(&x, PHX_GIOP_REPLY);
    xw_u32(&x, rep.request_id);
    xw_u32(&x, rep.reply_status);
    xw_contexts(&x, &rep.contexts);
    if (b != RB_NONE) {
        xw_align(&x, 8);
        reply_body(NULL, &x, b);
    }
    xw_finish(&x);
    name2(name, sizeof name, stem, other_sfx());
    save(name, x.buf, x.len);
}

static void replies(void)
{
    reply("reply-noexc", PHX_GIOP_NO_EXCEPTION, RB_LONG, false, true);
    reply("reply-userex", PHX_GIOP_USER_EXCEPTION, RB_USEREX, false, true);
    reply("reply-sysex", PHX_GIOP_SYSTEM_EXCEPTION, RB_SYSEX, false, true);
    reply("reply-fwd", PHX_GIOP_LOCATION_FORWARD, RB_IOR, false, true);
    reply("reply-fwdperm", PHX_GIOP_LOCATION_FORWARD_PERM, RB_IOR, false,
          false);
    reply("reply-needsaddr", PHX_GIOP_NEEDS_ADDRESSING_MODE, RB_MODE, false,
          false);
}

/* ------------------------------------------------------------------ */
/* The other message types                                              */
/* ------------------------------------------------------------------ */

static void small_messages(void)
{
    char name[256];
    phx_cdr_writer_t w;
    xw_t x;

    /* CancelRequest */
    phx_cdr_writer_init(&w, 0);
    phx_giop_write_cancel(&w, 17);
    name2(name, sizeof name, "cancel", native_sfx());
    save_w(name, &w);
    xw_header(&x, PHX_GIOP_CANCEL_REQUEST);
    xw_u32(&x, 17);
    xw_finish(&x);
    name2(name, sizeof name, "cancel", other_sfx());
    save(name, x.buf, x.len);

    /* LocateRequest with each target kind; native and other order */
    static const struct {
        const char *stem;
        uint16_t kind;
    } lr[] = {{"locreq-keyaddr", PHX_GIOP_KEY_ADDR},
              {"locreq-profileaddr", PHX_GIOP_PROFILE_ADDR},
              {"locreq-refaddr", PHX_GIOP_REFERENCE_ADDR}};
    for (size_t i = 0; i < 3; i++) {
        phx_giop_locate_request_t l = {.request_id = 18};
        target_of(lr[i].kind, &l.target);
        phx_cdr_writer_init(&w, 0);
        phx_giop_write_locate_request(&w, &l);
        name2(name, sizeof name, lr[i].stem, native_sfx());
        save_w(name, &w);
        if (lr[i].kind != PHX_GIOP_KEY_ADDR)
            continue;
        xw_header(&x, PHX_GIOP_LOCATE_REQUEST);
        xw_u32(&x, 18);
        xw_target(&x, &l.target, &iogr);
        xw_finish(&x);
        name2(name, sizeof name, lr[i].stem, other_sfx());
        save(name, x.buf, x.len);
    }

    /* LocateReply: here, forward (IOR body), system exception, needs
     * addressing mode.  The body is not aligned. */
    static const struct {
        const char *stem;
        uint32_t status;
        enum rbody b;
    } lp[] = {{"locrep-here", PHX_GIOP_OBJECT_HERE, RB_NONE},
              {"locrep-fwd", PHX_GIOP_OBJECT_FORWARD, RB_IOR},
              {"locrep-sysex", PHX_GIOP_LOC_SYSTEM_EXCEPTION, RB_SYSEX},
              {"locrep-needsaddr", PHX_GIOP_LOC_NEEDS_ADDRESSING_MODE,
               RB_MODE}};
    for (size_t i = 0; i < sizeof lp / sizeof lp[0]; i++) {
        phx_giop_locate_reply_t l = {.request_id = 18,
                                     .locate_status = lp[i].status};
        phx_cdr_writer_init(&w, 0);
        phx_giop_write_locate_reply(&w, &l);
        reply_body(&w, NULL, lp[i].b);
        phx_giop_finish(&w);
        name2(name, sizeof name, lp[i].stem, native_sfx());
        save_w(name, &w);
        if (lp[i].status != PHX_GIOP_LOC_SYSTEM_EXCEPTION)
            continue;
        xw_header(&x, PHX_GIOP_LOCATE_REPLY);
        xw_u32(&x, 18);
        xw_u32(&x, lp[i].status);
        reply_body(NULL, &x, lp[i].b);
        xw_finish(&x);
        name2(name, sizeof name, lp[i].stem, other_sfx());
        save(name, x.buf, x.len);
    }

    /* CloseConnection and MessageError: header only. */
    phx_cdr_writer_init(&w, 0);
    phx_giop_write_close(&w);
    name2(name, sizeof name, "close", native_sfx());
    save_w(name, &w);
    xw_header(&x, PHX_GIOP_CLOSE_CONNECTION);
    xw_finish(&x);
    name2(name, sizeof name, "close", other_sfx());
    save(name, x.buf, x.len);

    phx_cdr_writer_init(&w, 0);
    phx_giop_write_message_error(&w);
    name2(name, sizeof name, "msgerr", native_sfx());
    save_w(name, &w);
    xw_header(&x, PHX_GIOP_MESSAGE_ERROR);
    xw_finish(&x);
    name2(name, sizeof name, "msgerr", other_sfx());
    save(name, x.buf, x.len);
}

/* ------------------------------------------------------------------ */
/* References, TypeCodes, profile and component bodies                  */
/* ------------------------------------------------------------------ */

static void references(void)
{
    char *s;

    save("ior-iogr-cdr.bin", iogr_raw, iogr_raw_len);

    /* The encapsulation inside an "IOR:" string. */
    phx_cdr_writer_t w;
    phx_cdr_writer_init(&w, 0);
    phx_cdr_put_octet(&w, PHX_CDR_NATIVE);
    phx_ior_write(&w, &iogr);
    save_w("ior-iogr-encap.bin", &w);

    if (phx_ior_to_string(&iogr, &s))
        die("ior string");
    save_str("str-ior-iogr.txt", s);
    free(s);

    save_str("str-corbaloc-iiop.txt",
             "corbaloc:iiop:1.2@host.example.com:2809/Echo%20Key\n");
    save_str("str-corbaloc-multi.txt",
             "corbaloc::10.0.0.1,iiop:1.1@[fe80::1]:7000,"
             "phx:tcp:127.0.0.1:5555/echo%00%01");
    save_str("str-corbaloc-phx-ipc.txt",
             "corbaloc:phx:ipc:%2Ftmp%2Fphx-echo/echo");
    save_str("str-corbaloc-phx-inproc.txt",
             "CORBALOC:PHX:inproc:echo-1/k");

    /* Profile and component bodies (encapsulations); the corbaloc above
     * gives an IIOP 1.0 profile. */
    save("profile-zmq.bin", zmq_profile.data, zmq_profile.len);

    phx_ft_group_t g = {.major = 1, .ft_domain_id = "d",
                        .object_group_id = 5,
                        .object_group_ref_version = 1};
    phx_tagged_component_t c;
    if (phx_ft_group_encode(&g, &c))
        die("ft group");
    save("component-ftgroup.bin", c.data, c.len);
    phx_tagged_component_fini(&c);
}

static void typecodes(void)
{
    static const char *const colors[] = {"red", "green", "blue"};
    const phx_typecode_t *color = NULL, *bstr = NULL, *seq = NULL,
                         *arr = NULL, *alias = NULL, *obj = NULL, *st, *un,
                         *ex;
    phx_tc_member_t sm[9], um[3], em[2];

    if (phx_tc_new_enum("IDL:fuzz/Color:1.0", "Color", colors, 3, &color) ||
        phx_tc_new_string(8, &bstr) ||
        phx_tc_new_sequence(&phx_tc_long, 0, &seq) ||
        phx_tc_new_array(&phx_tc_double, 3, &arr) ||
        phx_tc_new_alias("IDL:fuzz/Count:1.0", "Count", &phx_tc_ulong,
                         &alias) ||
        phx_tc_new_objref("IDL:phalanx/Echo:1.0", "Echo", &obj))
        die("typecodes");
    memset(sm, 0, sizeof sm);
    const phx_typecode_t *stypes[9] = {&phx_tc_short, &phx_tc_longlong,
                                       &phx_tc_boolean, color,
                                       bstr, seq, arr, alias, &phx_tc_any};
    for (int i = 0; i < 9; i++) {
        sm[i].name = "m";
        sm[i].type = stypes[i];
    }
    if (phx_tc_new_struct(PHX_TK_STRUCT, "IDL:fuzz/S:1.0", "S", sm, 9, &st))
        die("struct tc");
    memset(um, 0, sizeof um);
    um[0] = (phx_tc_member_t){.name = "a", .type = st, .label = 0};
    um[1] = (phx_tc_member_t){.name = "b", .type = &phx_tc_string,
                              .label = 2};
    um[2] = (phx_tc_member_t){.name = "c", .type = obj, .is_default = true};
    if (phx_tc_new_union("IDL:fuzz/U:1.0", "U", color, um, 3, &un))
        die("union tc");
    memset(em, 0, sizeof em);
    em[0] = (phx_tc_member_t){.name = "code", .type = &phx_tc_long};
    em[1] = (phx_tc_member_t){.name = "why", .type = &phx_tc_string};
    if (phx_tc_new_struct(PHX_TK_EXCEPT, "IDL:phalanx/Echo/Failed:1.0",
                          "Failed", em, 2, &ex))
        die("except tc");

    phx_cdr_writer_t w;
    phx_cdr_writer_init(&w, 0);
    phx_cdr_put_typecode(&w, st);
    save_w("tc-struct.bin", &w);
    phx_cdr_writer_init(&w, 0);
    phx_cdr_put_typecode(&w, un);
    save_w("tc-union-enum.bin", &w);

    /* An any holding an exception value: the TypeCode, then the members
     * (the value engine marshals an exception like a struct). */
    phx_cdr_writer_init(&w, 0);
    phx_cdr_put_typecode(&w, ex);
    phx_cdr_put_long(&w, 3);
    phx_cdr_put_string(&w, "three");
    save_w("any-except.bin", &w);

    phx_typecode_free(st);
    phx_typecode_free(un);
    phx_typecode_free(ex);
    phx_typecode_free(color);
    phx_typecode_free(bstr);
    phx_typecode_free(seq);
    phx_typecode_free(arr);
    phx_typecode_free(alias);
    phx_typecode_free(obj);
}

/* ------------------------------------------------------------------ */
/* Known-bad frames                                                     */
/* ------------------------------------------------------------------ */

/* A native echo_long request to corrupt. */
static size_t good_request(uint8_t *buf, size_t cap)
{
    phx_giop_request_t req;
    memset(&req, 0, sizeof req);
    req.request_id = 1;
    req.response_flags = PHX_GIOP_RESPONSE_TARGET;
    target_of(PHX_GIOP_KEY_ADDR, &req.target);
    req.operation = "echo_long";
    phx_cdr_writer_t w;
    phx_cdr_writer_init_fixed(&w, buf, cap);
    phx_giop_write_request(&w, &req);
    phx_cdr_put_long(&w, 42);
    if (phx_giop_finish(&w))
        die("good request");
    return w.len;
}

static void put_native_u32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

static void bad_frames(void)
{
    uint8_t m[256];
    size_t n = good_request(m, sizeof m);
    /* Offsets in the request: header 12, request_id 12, flags 16,
     * reserved 17..19, discriminator 20, key length 24, key 28..33,
     * operation length at 36. */
    save("bad-truncated-6.bin", m, 6);

    n = good_request(m, sizeof m);
    memcpy(m, "GIOQ", 4);
    save("bad-magic.bin", m, n);

    n = good_request(m, sizeof m);
    m[5] = 0;
    save("bad-version-1-0.bin", m, n);

    n = good_request(m, sizeof m);
    m[7] = 8;
    save("bad-type-8.bin", m, n);

    n = good_request(m, sizeof m);
    m[6] |= PHX_GIOP_FLAG_FRAGMENT;
    save("bad-fragment-flag.bin", m, n);

    n = good_request(m, sizeof m);
    m[7] = PHX_GIOP_FRAGMENT;
    save("bad-fragment-msg.bin", m, n);

    n = good_request(m, sizeof m);
    put_native_u32(m + 8, (uint32_t)(n - 12 + 4));
    save("bad-size-larger.bin", m, n);


    n = good_request(m, sizeof m);
    /* "echo_long" is 10 octets with its NUL at 40 + 9. */
    m[49] = 'X';
    save("bad-op-no-nul.bin", m, n);

    n = good_request(m, sizeof m);
    put_native_u32(m + 24, 0xFFFFFFF0u);
    save("bad-key-len-huge.bin", m, n);

    /* A request with a service context count of 2^31. */
    phx_giop_request_t req;
    memset(&req, 0, sizeof req);
    req.request_id = 2;
    req.response_flags = PHX_GIOP_RESPONSE_TARGET;
    target_of(PHX_GIOP_KEY_ADDR, &req.target);
    req.operation = "echo_long";
    req.no_body = true;
    phx_cdr_writer_t w;
    phx_cdr_writer_init_fixed(&w, m, sizeof m);
    phx_giop_write_request(&w, &req);
    phx_giop_finish(&w);
    if (w.err)
        die("sc request");
    put_native_u32(m + w.len - 4, 0x80000000u);
    save("bad-sc-count-2e31.bin", m, w.len);
}

/* ------------------------------------------------------------------ */
/* Reproducers of library bugs the fuzzer found                         */
/* ------------------------------------------------------------------ */

/* union switch (long) { case 0: long m[count]; } as a TypeCode. */
static void put_union_of_array(phx_cdr_writer_t *w, uint32_t count)
{
    phx_cdr_mark_t u, a;
    phx_cdr_put_ulong(w, PHX_TK_UNION);
    phx_cdr_encap_begin(w, &u);
    phx_cdr_put_string(w, "IDL:fuzz/Big:1.0");
    phx_cdr_put_string(w, "Big");
    phx_cdr_put_ulong(w, PHX_TK_LONG); /* discriminator type */
    phx_cdr_put_long(w, -1);           /* no default member */
    phx_cdr_put_ulong(w, 1);           /* one member */
    phx_cdr_put_long(w, 0);            /* case 0: */
    phx_cdr_put_string(w, "m");
    phx_cdr_put_ulong(w, PHX_TK_ARRAY);
    phx_cdr_encap_begin(w, &a);
    phx_cdr_put_ulong(w, PHX_TK_LONG);
    phx_cdr_put_ulong(w, count);
    phx_cdr_encap_end(w, &a);
    phx_cdr_encap_end(w, &u);
}

static void reproducers(void)
{
    phx_cdr_writer_t w;
    phx_cdr_mark_t a, st;

    /* An any whose TypeCode is a union with a 3 GiB array member, and a
     * discriminator selecting no member: 4 octets of value, yet the
     * decoder allocates the union's whole C size. */
    phx_cdr_writer_init(&w, 0);
    put_union_of_array(&w, 0x30000000u);
    phx_cdr_put_long(&w, 1);
    save_w("crash-any-union-huge-alloc.bin", &w);

    /* An any holding a sequence of 4 such unions (1 GiB each). */
    phx_cdr_writer_init(&w, 0);
    phx_cdr_put_ulong(&w, PHX_TK_SEQUENCE);
    phx_cdr_encap_begin(&w, &a);
    put_union_of_array(&w, 0x10000000u);
    phx_cdr_put_ulong(&w, 0); /* unbounded */
    phx_cdr_encap_end(&w, &a);
    phx_cdr_put_ulong(&w, 4);
    for (int i = 0; i < 4; i++)
        phx_cdr_put_long(&w, 1);
    save_w("crash-any-seq-union-huge-alloc.bin", &w);

    /* An any holding an array of 2^32-1 exceptions without members
     * (the wire refuses empty structs, not empty exceptions): no octets
     * of value, a 4 GiB allocation and 2^32-1 element decodes. */
    phx_cdr_writer_init(&w, 0);
    phx_cdr_put_ulong(&w, PHX_TK_ARRAY);
    phx_cdr_encap_begin(&w, &a);
    phx_cdr_put_ulong(&w, PHX_TK_EXCEPT);
    phx_cdr_encap_begin(&w, &st);
    phx_cdr_put_string(&w, "IDL:fuzz/Empty:1.0");
    phx_cdr_put_string(&w, "Empty");
    phx_cdr_put_ulong(&w, 0); /* no members */
    phx_cdr_encap_end(&w, &st);
    phx_cdr_put_ulong(&w, 0xFFFFFFFFu);
    phx_cdr_encap_end(&w, &a);
    save_w("crash-any-empty-except-array.bin", &w);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        outdir = argv[1];
    make_iogr();
    make_contexts();
    requests();
    replies();
    small_messages();
    references();
    typecodes();
    bad_frames();
    reproducers();
    phx_ior_fini(&iogr);
    printf("make_corpus: %d files in %s\n", written, outdir);
    return 0;
}
