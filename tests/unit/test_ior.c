/*
 * test_ior.c - unit tests of IORs, profiles, FT components, the
 * "IOR:<hex>" form and corbaloc URLs (orb/ior/ior.c, orb/ior/corbaloc.c).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>

#include <phx/ior.h>

/* ------------------------------------------------------------------ */
/* Helpers                                                              */
/* ------------------------------------------------------------------ */

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

/* Parse a string that must fail with code and mention word. */
static void bad_string(const char *s, int code, const char *word, int line)
{
    phx_ior_t ior;
    phx_error_t e;
    int rc = phx_ior_from_string(s, &ior, &e);

    check_err(rc, &e, code, word, line);
    CU_ASSERT_EQUAL(ior.profile_count, 0);
    CU_ASSERT_PTR_NULL(ior.profiles);
    CU_ASSERT_PTR_NULL(ior.type_id);
    phx_ior_fini(&ior);
}
#define BAD(s, code, word) bad_string(s, code, word, __LINE__)

/* Hex text (spaces allowed) to bytes. */
static size_t unhex(const char *h, uint8_t *out)
{
    size_t n = 0;
    while (*h) {
        unsigned v;
        if (*h == ' ') {
            h++;
            continue;
        }
        sscanf(h, "%2x", &v);
        out[n++] = (uint8_t)v;
        h += 2;
    }
    return n;
}

static bool ior_equal(const phx_ior_t *a, const phx_ior_t *b)
{
    if (strcmp(a->type_id ? a->type_id : "", b->type_id ? b->type_id : ""))
        return false;
    if (a->profile_count != b->profile_count)
        return false;
    for (uint32_t i = 0; i < a->profile_count; i++) {
        if (a->profiles[i].tag != b->profiles[i].tag ||
            a->profiles[i].len != b->profiles[i].len ||
            (a->profiles[i].len &&
             memcmp(a->profiles[i].data, b->profiles[i].data,
                    a->profiles[i].len)))
            return false;
    }
    return true;
}

/* Decode profile i of ior (must succeed). */
static void profile_at(const phx_ior_t *ior, uint32_t i, phx_profile_t *p)
{
    phx_error_t e;
    int rc;
    CU_ASSERT_FATAL(i < ior->profile_count);
    rc = phx_profile_decode(&ior->profiles[i], p, &e);
    if (rc)
        fprintf(stderr, "profile %u: %s\n", i, e.msg);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
}

static const uint8_t key5[] = {'o', 'b', 'j', 0, 0xff};

/* ------------------------------------------------------------------ */
/* IOR and profiles                                                     */
/* ------------------------------------------------------------------ */

static void test_ior_cdr_round_trip(void)
{
    phx_ior_t a, b;
    phx_cdr_writer_t w;
    phx_cdr_reader_t r;
    phx_error_t e;
    phx_tagged_component_t comp;
    static const uint8_t opaque[] = {9, 8, 7};

    CU_ASSERT_EQUAL(phx_component_encode_bool(PHX_TAG_FT_HEARTBEAT_ENABLED,
                                              true, &comp),
                    0);
    CU_ASSERT_EQUAL(phx_ior_make_zmq(&a, "IDL:Test/Echo:1.0",
                                     "tcp://127.0.0.1:5555", key5,
                                     sizeof key5, &comp, 1),
                    0);
    CU_ASSERT_EQUAL(phx_ior_add_iiop_profile(&a, "example.com", 2809, key5,
                                             sizeof key5, NULL, 0),
                    0);
    CU_ASSERT_EQUAL(phx_ior_add_profile(&a, 0x12345678u, opaque, 3), 0);
    CU_ASSERT_EQUAL(phx_ior_add_profile(&a, 0x12345679u, NULL, 0), 0);
    CU_ASSERT_EQUAL(a.profile_count, 4);
    CU_ASSERT(!phx_ior_is_nil(&a));

    /* inline in a stream at an odd offset */
    phx_cdr_writer_init(&w, 0);
    phx_cdr_put_octet(&w, 0xee);
    CU_ASSERT_EQUAL(phx_ior_write(&w, &a), 0);
    phx_cdr_reader_init(&r, phx_cdr_writer_data(&w), phx_cdr_writer_len(&w),
                        PHX_CDR_NATIVE);
    {
        uint8_t o;
        phx_cdr_get_octet(&r, &o);
    }
    CU_ASSERT_EQUAL(phx_ior_read(&r, &b, &e), 0);
    CU_ASSERT_EQUAL(phx_cdr_reader_remaining(&r), 0);
    CU_ASSERT(ior_equal(&a, &b));
    CU_ASSERT_STRING_EQUAL(b.type_id, "IDL:Test/Echo:1.0");
    phx_ior_fini(&b);

    /* raw form (as in a GIOP ReferenceAddr): exact length required */
    phx_cdr_writer_reset(&w);
    phx_ior_write(&w, &a);
    CU_ASSERT_EQUAL(phx_ior_read_raw(phx_cdr_writer_data(&w),
                                     phx_cdr_writer_len(&w), PHX_CDR_NATIVE,
                                     &b, &e),
                    0);
    CU_ASSERT(ior_equal(&a, &b));
    phx_ior_fini(&b);
    phx_cdr_put_octet(&w, 0);
    CHECK_ERR(phx_ior_read_raw(phx_cdr_writer_data(&w),
                               phx_cdr_writer_len(&w), PHX_CDR_NATIVE, &b,
                               &e),
              &e, PHX_EMARSHAL, "trailing");
    CU_ASSERT_EQUAL(b.profile_count, 0);
    phx_cdr_writer_fini(&w);

    /* copy */
    CU_ASSERT_EQUAL(phx_ior_copy(&b, &a), 0);
    CU_ASSERT(ior_equal(&a, &b));
    CU_ASSERT_PTR_NOT_EQUAL(b.profiles[0].data, a.profiles[0].data);
    phx_ior_fini(&b);
    phx_ior_fini(&b); /* idempotent */

    /* the profiles decode */
    {
        phx_profile_t p;
        bool hb;
        profile_at(&a, 0, &p);
        CU_ASSERT_EQUAL(p.tag, PHX_TAG_ZMQ_IOP);
        CU_ASSERT_EQUAL(p.major, 1);
        CU_ASSERT_EQUAL(p.minor, 2);
        CU_ASSERT_STRING_EQUAL(p.endpoint, "tcp://127.0.0.1:5555");
        CU_ASSERT_PTR_NULL(p.host);
        CU_ASSERT_EQUAL(p.key_len, sizeof key5);
        CU_ASSERT_EQUAL(memcmp(p.key, key5, sizeof key5), 0);
        CU_ASSERT_EQUAL(p.component_count, 1);
        CU_ASSERT_PTR_NOT_NULL(
            phx_profile_find_component(&p, PHX_TAG_FT_HEARTBEAT_ENABLED));
        CU_ASSERT_PTR_NULL(phx_profile_find_component(&p, PHX_TAG_FT_GROUP));
        CU_ASSERT_EQUAL(phx_component_decode_bool(&p.components[0], &hb, &e),
                        0);
        CU_ASSERT(hb);
        phx_profile_fini(&p);

        profile_at(&a, 1, &p);
        CU_ASSERT_EQUAL(p.tag, PHX_TAG_INTERNET_IOP);
        CU_ASSERT_STRING_EQUAL(p.host, "example.com");
        CU_ASSERT_EQUAL(p.port, 2809);
        CU_ASSERT_EQUAL(p.minor, 2);
        CU_ASSERT_EQUAL(p.component_count, 0);
        phx_profile_fini(&p);
        phx_profile_fini(&p);

        CHECK_ERR(phx_profile_decode(&a.profiles[2], &p, &e), &e,
                  PHX_EUNSUPPORTED, "0x12345678");
    }
    phx_ior_fini(&a);
    phx_tagged_component_fini(&comp);

    /* nil reference */
    phx_ior_init(&a);
    CU_ASSERT(phx_ior_is_nil(&a));
    CU_ASSERT_EQUAL(phx_ior_set_type_id(&a, NULL), 0);
    {
        char *s;
        CU_ASSERT_EQUAL(phx_ior_to_string(&a, &s), 0);
        CU_ASSERT_STRING_EQUAL(s, PHX_CDR_NATIVE == PHX_CDR_LITTLE_ENDIAN
                                      ? "IOR:01000000010000000000000000000000"
                                      : "IOR:00000000000000010000000000000000");
        CU_ASSERT_EQUAL(phx_ior_from_string(s, &b, &e), 0);
        CU_ASSERT(phx_ior_is_nil(&b));
        CU_ASSERT_STRING_EQUAL(b.type_id, "");
        phx_ior_fini(&b);
        free(s);
    }
    phx_ior_fini(&a);
}

/* The IOR of the spec layout, big-endian, built by hand:
 *   type_id "IDL:Echo:1.0", one TAG_INTERNET_IOP profile, IIOP 1.2,
 *   host "10.0.0.1", port 2809, key "abc", one TAG_ORB_TYPE component
 *   whose data is the encapsulated ulong 0x50485801. */
static const char known_be[] =
    "IOR:"
    "00" "000000"                       /* big endian, pad */
    "0000000d"                          /* type_id length 13 */
    "49444c3a4563686f3a312e3000"        /* "IDL:Echo:1.0\0" */
    "000000"                            /* pad to 24 */
    "00000001"                          /* 1 profile */
    "00000000"                          /* TAG_INTERNET_IOP */
    "00000030"                          /* profile_data: 48 octets */
    "00" "0102" "00"                    /* BE, IIOP 1.2, pad */
    "00000009" "31302e302e302e3100"     /* host "10.0.0.1" */
    "00" "0af9"                         /* pad, port 2809 */
    "00000003" "616263" "00"            /* key "abc", pad */
    "00000001"                          /* 1 component */
    "00000000" "00000008"               /* TAG_ORB_TYPE, 8 octets */
    "00000000" "50485801";              /* BE, pad, ulong */

/* The same IOR re-encoded little-endian: the profile body is opaque and
 * keeps its own (big-endian) encapsulation. */
static const char known_le[] =
    "IOR:"
    "01" "000000"
    "0d000000"
    "49444c3a4563686f3a312e3000"
    "000000"
    "01000000"
    "00000000"
    "30000000"
    "00010200"
    "00000009" "31302e302e302e3100"
    "000af9"
    "00000003" "61626300"
    "00000001"
    "00000000" "00000008"
    "0000000050485801";

static void test_known_vector(void)
{
    phx_ior_t ior, again;
    phx_profile_t p;
    phx_error_t e;
    char *s;
    int rc;

    rc = phx_ior_from_string(known_be, &ior, &e);
    if (rc)
        fprintf(stderr, "%s\n", e.msg);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    CU_ASSERT_STRING_EQUAL(ior.type_id, "IDL:Echo:1.0");
    CU_ASSERT_EQUAL(ior.profile_count, 1);
    CU_ASSERT_EQUAL(ior.profiles[0].tag, PHX_TAG_INTERNET_IOP);
    CU_ASSERT_EQUAL(ior.profiles[0].len, 48);
    profile_at(&ior, 0, &p);
    CU_ASSERT_EQUAL(p.major, 1);
    CU_ASSERT_EQUAL(p.minor, 2);
    CU_ASSERT_STRING_EQUAL(p.host, "10.0.0.1");
    CU_ASSERT_EQUAL(p.port, 2809);
    CU_ASSERT_EQUAL(p.key_len, 3);
    CU_ASSERT_EQUAL(memcmp(p.key, "abc", 3), 0);
    CU_ASSERT_EQUAL(p.component_count, 1);
    CU_ASSERT_EQUAL(p.components[0].tag, PHX_TAG_ORB_TYPE);
    CU_ASSERT_EQUAL(p.components[0].len, 8);
    {
        const uint8_t *k;
        size_t kl;
        CU_ASSERT_EQUAL(phx_profile_peek_key(ior.profiles[0].tag,
                                             ior.profiles[0].data,
                                             ior.profiles[0].len, &k, &kl,
                                             &e),
                        0);
        CU_ASSERT_EQUAL(kl, 3);
        CU_ASSERT_PTR_EQUAL(k, ior.profiles[0].data + 24);
    }

    /* re-encoding the decoded profile (native order) decodes the same */
    {
        phx_tagged_profile_t tp;
        phx_profile_t q;
        CU_ASSERT_EQUAL(phx_profile_encode(&p, &tp), 0);
        CU_ASSERT_EQUAL(phx_profile_decode(&tp, &q, &e), 0);
        CU_ASSERT_STRING_EQUAL(q.host, "10.0.0.1");
        CU_ASSERT_EQUAL(q.port, 2809);
        CU_ASSERT_EQUAL(q.component_count, 1);
        CU_ASSERT_EQUAL(memcmp(q.components[0].data, p.components[0].data,
                               8),
                        0);
        if (PHX_CDR_NATIVE == PHX_CDR_BIG_ENDIAN) {
            CU_ASSERT_EQUAL(tp.len, 48);
            CU_ASSERT_EQUAL(memcmp(tp.data, ior.profiles[0].data, 48), 0);
        }
        phx_profile_fini(&q);
        phx_tagged_profile_fini(&tp);
    }
    phx_profile_fini(&p);

    CU_ASSERT_EQUAL(phx_ior_to_string(&ior, &s), 0);
    if (PHX_CDR_NATIVE == PHX_CDR_LITTLE_ENDIAN) {
        CU_ASSERT_STRING_EQUAL(s, known_le);
    } else {
        CU_ASSERT_STRING_EQUAL(s, known_be);
    }
    CU_ASSERT_EQUAL(phx_ior_from_string(s, &again, &e), 0);
    CU_ASSERT(ior_equal(&ior, &again));
    phx_ior_fini(&again);
    free(s);

    /* upper-case hex, lower-case prefix, trailing newline */
    {
        char buf[sizeof known_be + 4];
        strcpy(buf, known_be);
        for (char *c = buf; *c; c++)
            if (*c >= 'a' && *c <= 'f')
                *c = (char)(*c - 'a' + 'A');
        memcpy(buf, "ioR:", 4);
        strcat(buf, "\r\n");
        CU_ASSERT_EQUAL(phx_ior_from_string(buf, &again, &e), 0);
        CU_ASSERT(ior_equal(&ior, &again));
        phx_ior_fini(&again);
    }
    phx_ior_fini(&ior);
}

static void test_profile_versions(void)
{
    phx_profile_t p, q;
    phx_tagged_profile_t tp;
    phx_tagged_component_t c;
    phx_error_t e;

    /* IIOP 1.0: no components on the wire */
    memset(&p, 0, sizeof p);
    p.tag = PHX_TAG_INTERNET_IOP;
    p.major = 1;
    p.minor = 0;
    p.host = "h";
    p.port = 1;
    p.key = (uint8_t *)"k";
    p.key_len = 1;
    CU_ASSERT_EQUAL(phx_profile_encode(&p, &tp), 0);
    /* bo, 1, 0, pad, len 2 "h\0", pad, port, len 1, "k" */
    CU_ASSERT_EQUAL(tp.len, 4 + 4 + 2 + 2 + 4 + 1);
    CU_ASSERT_EQUAL(phx_profile_decode(&tp, &q, &e), 0);
    CU_ASSERT_EQUAL(q.minor, 0);
    CU_ASSERT_EQUAL(q.component_count, 0);
    CU_ASSERT_STRING_EQUAL(q.host, "h");
    phx_profile_fini(&q);
    phx_tagged_profile_fini(&tp);

    /* IIOP 1.0 cannot carry components */
    CU_ASSERT_EQUAL(phx_ft_primary_encode(true, &c), 0);
    p.components = &c;
    p.component_count = 1;
    CU_ASSERT_EQUAL(phx_profile_encode(&p, &tp), PHX_EINVAL);
    /* 1.1 can */
    p.minor = 1;
    CU_ASSERT_EQUAL(phx_profile_encode(&p, &tp), 0);
    CU_ASSERT_EQUAL(phx_profile_decode(&tp, &q, &e), 0);
    CU_ASSERT_EQUAL(q.minor, 1);
    CU_ASSERT_EQUAL(q.component_count, 1);
    phx_profile_fini(&q);
    phx_tagged_profile_fini(&tp);

    /* version 0.0 means the default 1.2 */
    p.minor = 0;
    p.major = 0;
    CU_ASSERT_EQUAL(phx_profile_encode(&p, &tp), 0);
    CU_ASSERT_EQUAL(tp.data[1], 1);
    CU_ASSERT_EQUAL(tp.data[2], 2);
    phx_tagged_profile_fini(&tp);

    /* IIOP 2.x and ZMQ 2.x are refused on decode */
    p.major = 1;
    p.minor = 2;
    CU_ASSERT_EQUAL(phx_profile_encode(&p, &tp), 0);
    tp.data[1] = 2;
    CHECK_ERR(phx_profile_decode(&tp, &q, &e), &e, PHX_EUNSUPPORTED,
              "version 2.2");
    phx_tagged_profile_fini(&tp);

    /* multiple components profile */
    memset(&p, 0, sizeof p);
    p.tag = PHX_TAG_MULTIPLE_COMPONENTS;
    p.components = &c;
    p.component_count = 1;
    CU_ASSERT_EQUAL(phx_profile_encode(&p, &tp), 0);
    CU_ASSERT_EQUAL(phx_profile_decode(&tp, &q, &e), 0);
    CU_ASSERT_EQUAL(q.tag, PHX_TAG_MULTIPLE_COMPONENTS);
    CU_ASSERT_EQUAL(q.component_count, 1);
    CU_ASSERT_EQUAL(q.components[0].tag, PHX_TAG_FT_PRIMARY);
    phx_profile_fini(&q);
    phx_tagged_profile_fini(&tp);

    /* bad encode arguments */
    memset(&p, 0, sizeof p);
    p.tag = PHX_TAG_ZMQ_IOP;
    CU_ASSERT_EQUAL(phx_profile_encode(&p, &tp), PHX_EINVAL);
    p.endpoint = "";
    CU_ASSERT_EQUAL(phx_profile_encode(&p, &tp), PHX_EINVAL);
    p.tag = PHX_TAG_INTERNET_IOP;
    CU_ASSERT_EQUAL(phx_profile_encode(&p, &tp), PHX_EINVAL);
    p.tag = 77;
    CU_ASSERT_EQUAL(phx_profile_encode(&p, &tp), PHX_EUNSUPPORTED);
    phx_tagged_component_fini(&c);
}

/* Every cut of a ZMQ and an IIOP profile body must fail cleanly. */
static void test_profile_truncated(void)
{
    phx_ior_t ior;
    phx_tagged_component_t c[2];
    phx_ft_group_t g = {1, 0, "dom", 77, 3};
    phx_error_t e;

    CU_ASSERT_EQUAL(phx_ft_group_encode(&g, &c[0]), 0);
    CU_ASSERT_EQUAL(phx_ft_primary_encode(true, &c[1]), 0);
    CU_ASSERT_EQUAL(phx_ior_make_zmq(&ior, "IDL:X:1.0", "ipc:///tmp/x",
                                     key5, sizeof key5, c, 2),
                    0);
    CU_ASSERT_EQUAL(phx_ior_add_iiop_profile(&ior, "h", 1, key5, sizeof key5,
                                             c, 2),
                    0);
    for (uint32_t i = 0; i < 2; i++) {
        const phx_tagged_profile_t *tp = &ior.profiles[i];
        for (uint32_t n = 0; n < tp->len; n++) {
            uint8_t *cut = malloc(n ? n : 1);
            phx_profile_t p;
            const uint8_t *k;
            size_t kl;
            int rc;

            memcpy(cut, tp->data, n);
            rc = phx_profile_decode_raw(tp->tag, cut, n, &p, &e);
            CU_ASSERT_EQUAL(rc, PHX_EMARSHAL);
            CU_ASSERT_EQUAL(e.code, PHX_EMARSHAL);
            CU_ASSERT_PTR_NULL(p.key);
            CU_ASSERT_PTR_NULL(p.components);
            rc = phx_profile_peek_key(tp->tag, cut, n, &k, &kl, &e);
            /* the key ends before the components */
            if (rc == 0) {
                CU_ASSERT_EQUAL(kl, sizeof key5);
            } else {
                CU_ASSERT_EQUAL(rc, PHX_EMARSHAL);
            }
            free(cut);
        }
    }
    phx_ior_fini(&ior);
    phx_tagged_component_fini(&c[0]);
    phx_tagged_component_fini(&c[1]);
}

/* ------------------------------------------------------------------ */
/* FT components                                                        */
/* ------------------------------------------------------------------ */

static void test_ft_components(void)
{
    phx_ft_group_t g = {1, 0, "phalanx.example", 0x0102030405060708ull, 42};
    phx_ft_group_t d;
    phx_tagged_component_t c, p, hb;
    phx_error_t e;
    bool v;

    CU_ASSERT_EQUAL(phx_ft_group_encode(&g, &c), 0);
    CU_ASSERT_EQUAL(c.tag, PHX_TAG_FT_GROUP);
    CU_ASSERT_EQUAL(phx_ft_group_decode(&c, &d, &e), 0);
    CU_ASSERT_EQUAL(d.major, 1);
    CU_ASSERT_EQUAL(d.minor, 0);
    CU_ASSERT_STRING_EQUAL(d.ft_domain_id, "phalanx.example");
    CU_ASSERT_EQUAL(d.object_group_id, 0x0102030405060708ull);
    CU_ASSERT_EQUAL(d.object_group_ref_version, 42);
    phx_ft_group_fini(&d);

    /* every cut fails */
    for (uint32_t n = 0; n < c.len; n++) {
        phx_tagged_component_t cut = {PHX_TAG_FT_GROUP, c.data, n};
        CHECK_ERR(phx_ft_group_decode(&cut, &d, &e), &e, PHX_EMARSHAL,
                  "TAG_FT_GROUP");
        CU_ASSERT_PTR_NULL(d.ft_domain_id);
    }
    /* wrong tag */
    c.tag = PHX_TAG_FT_PRIMARY;
    CHECK_ERR(phx_ft_group_decode(&c, &d, &e), &e, PHX_EINVAL, "tag");
    phx_tagged_component_fini(&c);

    /* hand-built big-endian body */
    {
        uint8_t b[64];
        size_t n = unhex("00 0100 00"               /* BE, 1.0, pad */
                         "00000005 646f6d3100"      /* "dom1" */
                         "000000"                   /* pad to 16 */
                         "0102030405060708"         /* group id */
                         "0000002a",                /* ref version */
                         b);
        phx_tagged_component_t hc = {PHX_TAG_FT_GROUP, b, (uint32_t)n};
        CU_ASSERT_EQUAL(n, 28);
        CU_ASSERT_EQUAL(phx_ft_group_decode(&hc, &d, &e), 0);
        CU_ASSERT_STRING_EQUAL(d.ft_domain_id, "dom1");
        CU_ASSERT_EQUAL(d.object_group_id, 0x0102030405060708ull);
        CU_ASSERT_EQUAL(d.object_group_ref_version, 42);
        phx_ft_group_fini(&d);
    }

    CU_ASSERT_EQUAL(phx_ft_primary_encode(true, &p), 0);
    CU_ASSERT_EQUAL(p.tag, PHX_TAG_FT_PRIMARY);
    CU_ASSERT_EQUAL(p.len, 2);
    CU_ASSERT_EQUAL(phx_ft_primary_decode(&p, &v, &e), 0);
    CU_ASSERT(v);
    p.data[1] = 2; /* not a boolean */
    CHECK_ERR(phx_ft_primary_decode(&p, &v, &e), &e, PHX_EMARSHAL,
              "boolean");
    phx_tagged_component_fini(&p);
    CU_ASSERT_EQUAL(phx_ft_primary_encode(false, &p), 0);
    CU_ASSERT_EQUAL(phx_ft_primary_decode(&p, &v, &e), 0);
    CU_ASSERT(!v);
    phx_tagged_component_fini(&p);

    CU_ASSERT_EQUAL(phx_component_encode_bool(PHX_TAG_FT_HEARTBEAT_ENABLED,
                                              true, &hb),
                    0);
    CHECK_ERR(phx_ft_primary_decode(&hb, &v, &e), &e, PHX_EINVAL, "tag");
    CU_ASSERT_EQUAL(phx_component_decode_bool(&hb, &v, &e), 0);
    CU_ASSERT(v);
    phx_tagged_component_fini(&hb);
}

/* An IOGR: one profile per replica, TAG_FT_GROUP in each, TAG_FT_PRIMARY
 * on the primary's; through a string and back. */
static void test_iogr(void)
{
    phx_ft_group_t g = {1, 0, "dom", 9, 4};
    phx_tagged_component_t comps[2];
    phx_ior_t iogr, back;
    phx_error_t e;
    char *s;

    CU_ASSERT_EQUAL(phx_ft_group_encode(&g, &comps[0]), 0);
    CU_ASSERT_EQUAL(phx_ft_primary_encode(true, &comps[1]), 0);
    CU_ASSERT_EQUAL(phx_ior_make_zmq(&iogr, "IDL:Bank/Account:1.0",
                                     "tcp://10.0.0.1:7000", "acct", 4,
                                     comps, 2),
                    0);
    CU_ASSERT_EQUAL(phx_ior_add_zmq_profile(&iogr, "tcp://10.0.0.2:7000",
                                            "acct", 4, comps, 1),
                    0);
    CU_ASSERT_EQUAL(phx_ior_to_string(&iogr, &s), 0);
    CU_ASSERT_EQUAL(strncmp(s, "IOR:", 4), 0);
    CU_ASSERT_EQUAL(phx_ior_from_string(s, &back, &e), 0);
    CU_ASSERT(ior_equal(&iogr, &back));
    for (uint32_t i = 0; i < 2; i++) {
        phx_profile_t p;
        phx_ft_group_t d;
        const phx_tagged_component_t *c;
        profile_at(&back, i, &p);
        c = phx_profile_find_component(&p, PHX_TAG_FT_GROUP);
        CU_ASSERT_PTR_NOT_NULL_FATAL(c);
        CU_ASSERT_EQUAL(phx_ft_group_decode(c, &d, &e), 0);
        CU_ASSERT_EQUAL(d.object_group_id, 9);
        CU_ASSERT_EQUAL(d.object_group_ref_version, 4);
        phx_ft_group_fini(&d);
        c = phx_profile_find_component(&p, PHX_TAG_FT_PRIMARY);
        CU_ASSERT((c != NULL) == (i == 0));
        phx_profile_fini(&p);
    }
    phx_ior_fini(&back);
    phx_ior_fini(&iogr);
    free(s);
    phx_tagged_component_fini(&comps[0]);
    phx_tagged_component_fini(&comps[1]);
}

/* ------------------------------------------------------------------ */
/* Malformed IOR strings                                                */
/* ------------------------------------------------------------------ */

static void test_bad_ior_strings(void)
{
    phx_ior_t ior;
    phx_error_t e;
    char buf[sizeof known_be + 32];

    BAD("", PHX_EINVAL, "offset 0");
    BAD("IOX:00", PHX_EINVAL, "\"IOR:\" or \"corbaloc:\"");
    BAD("http://x/", PHX_EINVAL, "offset 0");
    BAD(" IOR:00", PHX_EINVAL, "offset 0");
    BAD("IOR:", PHX_EINVAL, "no hex digits");
    BAD("IOR:\n", PHX_EINVAL, "no hex digits");
    BAD("IOR:0", PHX_EINVAL, "odd");
    BAD("IOR:010", PHX_EINVAL, "offset 6");
    BAD("IOR:0g", PHX_EINVAL, "'g' at offset 5");
    BAD("IOR:00 x", PHX_EINVAL, "offset 6");
    BAD("IOR:00\x01", PHX_EINVAL, "0x01 at offset 6");
    BAD("corbaname::host/NameService", PHX_EUNSUPPORTED, "corbaname");
    BAD(NULL, PHX_EINVAL, "NULL");

    /* byte-order octet other than 0/1 */
    BAD("IOR:02000000", PHX_EMARSHAL, "byte-order");
    /* truncated: drop the last octet, then cut at several places */
    strcpy(buf, known_be);
    buf[strlen(buf) - 2] = '\0';
    BAD(buf, PHX_EMARSHAL, "profile");
    for (size_t n = 6; n < strlen(known_be); n += 2) {
        int rc;
        memcpy(buf, known_be, n);
        buf[n] = '\0';
        rc = phx_ior_from_string(buf, &ior, &e);
        CU_ASSERT_EQUAL(rc, PHX_EMARSHAL);
        CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "string offset"));
        CU_ASSERT_PTR_NULL(ior.profiles);
    }
    /* trailing data after the IOR: up to 7 zero octets are padding */
    strcpy(buf, known_be);
    strcat(buf, "000000");
    CU_ASSERT_EQUAL(phx_ior_from_string(buf, &ior, &e), 0);
    phx_ior_fini(&ior);
    strcpy(buf, known_be);
    strcat(buf, "0001");
    BAD(buf, PHX_EMARSHAL, "trailing");
    strcpy(buf, known_be);
    strcat(buf, "0000000000000000");
    BAD(buf, PHX_EMARSHAL, "trailing");
    /* sequence count beyond the data */
    BAD("IOR:00000000000000010000ffffff", PHX_EMARSHAL, "profile count");
    BAD("IOR:0000000000000001000000007fffffff", PHX_EMARSHAL,
        "profile count");
    BAD("IOR:00000000ffffffff", PHX_EMARSHAL, "type_id");

    /* absurd length: refused before allocating */
    {
        size_t n = 4 + 2 * PHX_IOR_MAX_ENCODED + 2;
        char *big = malloc(n + 1);
        memcpy(big, "IOR:", 4);
        memset(big + 4, '0', n - 4);
        big[n] = '\0';
        BAD(big, PHX_ELIMIT, "limit");
        big = realloc(big, 4 * PHX_IOR_MAX_ENCODED);
        memset(big + 4, '0', 4 * PHX_IOR_MAX_ENCODED - 5);
        big[4 * PHX_IOR_MAX_ENCODED - 1] = '\0';
        BAD(big, PHX_ELIMIT, "limit");
        free(big);
    }
}

/* ------------------------------------------------------------------ */
/* corbaloc                                                             */
/* ------------------------------------------------------------------ */

/* Parse s (must work), then print it back and compare with want (s when
 * NULL), then parse that and compare the IORs. */
static void corbaloc_both_ways(const char *s, const char *want,
                               phx_ior_t *out, int line)
{
    phx_ior_t again;
    phx_error_t e;
    char *back = NULL;
    int rc = phx_ior_from_string(s, out, &e);

    if (rc)
        fprintf(stderr, "line %d: %s: %s\n", line, s, e.msg);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    CU_ASSERT_STRING_EQUAL(out->type_id, "");
    rc = phx_ior_to_corbaloc(out, &back);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    if (strcmp(back, want ? want : s)) {
        fprintf(stderr, "line %d: printed \"%s\", expected \"%s\"\n", line,
                back, want ? want : s);
        CU_FAIL("corbaloc printed differently");
    }
    CU_ASSERT_EQUAL(phx_corbaloc_parse(back, &again, &e), 0);
    CU_ASSERT(ior_equal(out, &again));
    phx_ior_fini(&again);
    free(back);
}
#define BOTH(s, want, out) corbaloc_both_ways(s, want, out, __LINE__)

static void test_corbaloc_iiop(void)
{
    phx_ior_t ior;
    phx_profile_t p;

    BOTH("corbaloc:iiop:1.2@host.example.com:2809/Key", NULL, &ior);
    CU_ASSERT_EQUAL(ior.profile_count, 1);
    profile_at(&ior, 0, &p);
    CU_ASSERT_EQUAL(p.tag, PHX_TAG_INTERNET_IOP);
    CU_ASSERT_EQUAL(p.major, 1);
    CU_ASSERT_EQUAL(p.minor, 2);
    CU_ASSERT_STRING_EQUAL(p.host, "host.example.com");
    CU_ASSERT_EQUAL(p.port, 2809);
    CU_ASSERT_EQUAL(p.key_len, 3);
    CU_ASSERT_EQUAL(memcmp(p.key, "Key", 3), 0);
    phx_profile_fini(&p);
    phx_ior_fini(&ior);

    /* no version: IIOP 1.0 as the spec says; default port */
    BOTH("corbaloc::localhost/NameService",
         "corbaloc:iiop:1.0@localhost:2809/NameService", &ior);
    profile_at(&ior, 0, &p);
    CU_ASSERT_EQUAL(p.minor, 0);
    CU_ASSERT_EQUAL(p.port, PHX_IIOP_DEFAULT_PORT);
    CU_ASSERT_EQUAL(p.component_count, 0);
    phx_profile_fini(&p);
    phx_ior_fini(&ior);

    BOTH("corbaloc:iiop:h:1/k", "corbaloc:iiop:1.0@h:1/k", &ior);
    phx_ior_fini(&ior);

    /* IPv6 */
    BOTH("corbaloc:iiop:1.2@[::1]:9000/k", NULL, &ior);
    profile_at(&ior, 0, &p);
    CU_ASSERT_STRING_EQUAL(p.host, "::1");
    CU_ASSERT_EQUAL(p.port, 9000);
    phx_profile_fini(&p);
    phx_ior_fini(&ior);
    BOTH("corbaloc:iiop:[fe80::1:2]/k", "corbaloc:iiop:1.0@[fe80::1:2]:2809/k",
         &ior);
    phx_ior_fini(&ior);

    /* address list, escapes, case-insensitive scheme and protocol */
    BOTH("CORBALOC:IIOP:1.2@a.b:1,:c,iiop:1.1@[::2]:3/k%2Fx%00y%7e/z",
         "corbaloc:iiop:1.2@a.b:1,iiop:1.0@c:2809,iiop:1.1@[::2]:3/"
         "k%2Fx%00y~%2Fz",
         &ior);
    CU_ASSERT_EQUAL(ior.profile_count, 3);
    for (uint32_t i = 0; i < 3; i++) {
        profile_at(&ior, i, &p);
        CU_ASSERT_EQUAL(p.key_len, 8);
        CU_ASSERT_EQUAL(memcmp(p.key, "k/x\0y~/z", 8), 0);
        phx_profile_fini(&p);
    }
    profile_at(&ior, 2, &p);
    CU_ASSERT_EQUAL(p.minor, 1);
    CU_ASSERT_STRING_EQUAL(p.host, "::2");
    phx_profile_fini(&p);
    phx_ior_fini(&ior);

    /* empty key; trailing newline */
    BOTH("corbaloc:iiop:1.2@h:5/\n", "corbaloc:iiop:1.2@h:5/", &ior);
    profile_at(&ior, 0, &p);
    CU_ASSERT_EQUAL(p.key_len, 0);
    phx_profile_fini(&p);
    phx_ior_fini(&ior);

    /* reserved characters in the key are kept, and escaped on output */
    BOTH("corbaloc:iiop:1.2@h:5/a:b@c;d", "corbaloc:iiop:1.2@h:5/a%3Ab%40c%3Bd",
         &ior);
    phx_ior_fini(&ior);
}

static void test_corbaloc_phx(void)
{
    phx_ior_t ior;
    phx_profile_t p;

    BOTH("corbaloc:phx:tcp:127.0.0.1:5555/key", NULL, &ior);
    profile_at(&ior, 0, &p);
    CU_ASSERT_EQUAL(p.tag, PHX_TAG_ZMQ_IOP);
    CU_ASSERT_EQUAL(p.major, 1);
    CU_ASSERT_EQUAL(p.minor, 2);
    CU_ASSERT_STRING_EQUAL(p.endpoint, "tcp://127.0.0.1:5555");
    CU_ASSERT_EQUAL(p.key_len, 3);
    phx_profile_fini(&p);
    phx_ior_fini(&ior);

    BOTH("corbaloc:phx:tcp:[::1]:5555/key", NULL, &ior);
    profile_at(&ior, 0, &p);
    CU_ASSERT_STRING_EQUAL(p.endpoint, "tcp://[::1]:5555");
    phx_profile_fini(&p);
    phx_ior_fini(&ior);

    BOTH("corbaloc:phx:ipc:%2Ftmp%2Fx/key", NULL, &ior);
    profile_at(&ior, 0, &p);
    CU_ASSERT_STRING_EQUAL(p.endpoint, "ipc:///tmp/x");
    phx_profile_fini(&p);
    phx_ior_fini(&ior);

    /* unescaped safe characters and escaped ',' in a path */
    BOTH("corbaloc:PHX:IPC:@abstract%2Ca.sock/key",
         "corbaloc:phx:ipc:%40abstract%2Ca.sock/key", &ior);
    profile_at(&ior, 0, &p);
    CU_ASSERT_STRING_EQUAL(p.endpoint, "ipc://@abstract,a.sock");
    phx_profile_fini(&p);
    phx_ior_fini(&ior);

    BOTH("corbaloc:phx:inproc:name/key", NULL, &ior);
    profile_at(&ior, 0, &p);
    CU_ASSERT_STRING_EQUAL(p.endpoint, "inproc://name");
    phx_profile_fini(&p);
    phx_ior_fini(&ior);

    /* mixed list */
    BOTH("corbaloc:phx:tcp:h1:1,phx:inproc:n,iiop:1.2@h2:2/%01%02",
         NULL, &ior);
    CU_ASSERT_EQUAL(ior.profile_count, 3);
    CU_ASSERT_EQUAL(ior.profiles[0].tag, PHX_TAG_ZMQ_IOP);
    CU_ASSERT_EQUAL(ior.profiles[1].tag, PHX_TAG_ZMQ_IOP);
    CU_ASSERT_EQUAL(ior.profiles[2].tag, PHX_TAG_INTERNET_IOP);
    phx_ior_fini(&ior);
}

static void test_to_corbaloc(void)
{
    phx_ior_t ior;
    phx_tagged_component_t c;
    char *s;

    /* an IOR made by the ORB: type id and components are dropped */
    CU_ASSERT_EQUAL(phx_ft_primary_encode(true, &c), 0);
    CU_ASSERT_EQUAL(phx_ior_make_zmq(&ior, "IDL:A:1.0", "ipc:///run/a b",
                                     "\x01k", 2, &c, 1),
                    0);
    CU_ASSERT_EQUAL(phx_ior_add_zmq_profile(&ior, "inproc://in", "\x01k", 2,
                                            NULL, 0),
                    0);
    CU_ASSERT_EQUAL(phx_ior_to_corbaloc(&ior, &s), 0);
    CU_ASSERT_STRING_EQUAL(s, "corbaloc:phx:ipc:%2Frun%2Fa%20b,"
                              "phx:inproc:in/%01k");
    free(s);

    /* a different key in another profile */
    CU_ASSERT_EQUAL(phx_ior_add_zmq_profile(&ior, "inproc://x", "k2", 2,
                                            NULL, 0),
                    0);
    CU_ASSERT_EQUAL(phx_ior_to_corbaloc(&ior, &s), PHX_EUNSUPPORTED);
    CU_ASSERT_PTR_NULL(s);
    phx_ior_fini(&ior);

    /* endpoints without a corbaloc form */
    {
        static const char *const eps[] = {
            "tcp://*:5555",       "tcp://h:*",       "tcp://eth0;h:1",
            "pgm://eth0;239.1.1.1:5555", "tcp://h",  "tcp://[::1:5",
            "tcp://h:70000",      "ipc://",          "inproc://",
        };
        for (size_t i = 0; i < sizeof eps / sizeof eps[0]; i++) {
            CU_ASSERT_EQUAL(phx_ior_make_zmq(&ior, "", eps[i], "k", 1, NULL,
                                             0),
                            0);
            CU_ASSERT_EQUAL(phx_ior_to_corbaloc(&ior, &s), PHX_EUNSUPPORTED);
            phx_ior_fini(&ior);
        }
    }

    /* unknown profile; IIOP host that is not a host; port 0 */
    phx_ior_init(&ior);
    CU_ASSERT_EQUAL(phx_ior_add_profile(&ior, 5, "x", 1), 0);
    CU_ASSERT_EQUAL(phx_ior_to_corbaloc(&ior, &s), PHX_EUNSUPPORTED);
    phx_ior_fini(&ior);
    phx_ior_init(&ior);
    CU_ASSERT_EQUAL(phx_ior_add_iiop_profile(&ior, "a/b", 1, "k", 1, NULL,
                                             0),
                    0);
    CU_ASSERT_EQUAL(phx_ior_to_corbaloc(&ior, &s), PHX_EUNSUPPORTED);
    phx_ior_fini(&ior);
    phx_ior_init(&ior);
    CU_ASSERT_EQUAL(phx_ior_add_iiop_profile(&ior, "h", 0, "k", 1, NULL, 0),
                    0);
    CU_ASSERT_EQUAL(phx_ior_to_corbaloc(&ior, &s), PHX_EUNSUPPORTED);
    phx_ior_fini(&ior);

    /* nil */
    phx_ior_init(&ior);
    CU_ASSERT_EQUAL(phx_ior_to_corbaloc(&ior, &s), PHX_EINVAL);
    phx_tagged_component_fini(&c);
}

static void test_bad_corbaloc(void)
{
    /* bad prefix */
    BAD("corbaloc", PHX_EINVAL, "offset 0");
    BAD("corbalo:iiop:h/k", PHX_EINVAL, "offset 0");
    /* missing key slash */
    BAD("corbaloc:iiop:h:2809", PHX_EINVAL, "missing '/'");
    BAD("corbaloc:phx:inproc:x", PHX_EINVAL, "offset 21");
    /* ports */
    BAD("corbaloc:iiop:h:99999/k", PHX_EINVAL, "bad port \"99999\"");
    BAD("corbaloc:iiop:h:65536/k", PHX_EINVAL, "bad port");
    BAD("corbaloc:iiop:h:0/k", PHX_EINVAL, "bad port \"0\"");
    BAD("corbaloc:iiop:h:12a/k", PHX_EINVAL, "offset 16");
    BAD("corbaloc:iiop:h:-1/k", PHX_EINVAL, "bad port");
    BAD("corbaloc:iiop:h:/k", PHX_EINVAL, "empty port at offset 16");
    BAD("corbaloc:iiop:h:99999999999999999999/k", PHX_EINVAL, "bad port");
    BAD("corbaloc:phx:tcp:h/k", PHX_EINVAL, "missing ':port'");
    BAD("corbaloc:phx:tcp:h:x/k", PHX_EINVAL, "bad port");
    BAD("corbaloc:iiop:[::1]x/k", PHX_EINVAL, "after the IPv6");
    /* escapes */
    BAD("corbaloc:iiop:h/k%4", PHX_EINVAL, "%-escape in object key at "
                                           "offset 17");
    BAD("corbaloc:iiop:h/k%zz", PHX_EINVAL, "offset 17");
    BAD("corbaloc:iiop:h/k%", PHX_EINVAL, "offset 17");
    BAD("corbaloc:iiop:h/a b", PHX_EINVAL, "0x20 in object key");
    BAD("corbaloc:iiop:h/a\x80", PHX_EINVAL, "0x80");
    BAD("corbaloc:phx:ipc:%2/k", PHX_EINVAL, "ipc path");
    BAD("corbaloc:phx:ipc:%00x/k", PHX_EINVAL, "NUL");
    BAD("corbaloc:phx:inproc:a,b/k", PHX_EINVAL, "no protocol");
    BAD("corbaloc:phx:inproc:a#b/k", PHX_EINVAL, "'#' in inproc name");
    /* empty hosts and addresses */
    BAD("corbaloc:iiop:/k", PHX_EINVAL, "empty host");
    BAD("corbaloc:iiop::2809/k", PHX_EINVAL, "empty host at offset 14");
    BAD("corbaloc::/k", PHX_EINVAL, "empty host");
    BAD("corbaloc:iiop:1.2@/k", PHX_EINVAL, "empty host");
    BAD("corbaloc:iiop:[]:1/k", PHX_EINVAL, "empty IPv6");
    BAD("corbaloc:iiop:[::1/k", PHX_EINVAL, "closing");
    BAD("corbaloc:iiop:[::g]/k", PHX_EINVAL, "'g'");
    BAD("corbaloc:phx:tcp::1/k", PHX_EINVAL, "empty host");
    BAD("corbaloc:/k", PHX_EINVAL, "empty address at offset 9");
    BAD("corbaloc:iiop:h,/k", PHX_EINVAL, "empty address at offset 16");
    BAD("corbaloc:,iiop:h/k", PHX_EINVAL, "empty address");
    BAD("corbaloc:iiop:h_%/k", PHX_EINVAL, "'%' in host");
    BAD("corbaloc:phx:ipc:/k", PHX_EINVAL, "empty ipc path");
    BAD("corbaloc:hostonly/k", PHX_EINVAL, "no protocol");
    /* versions */
    BAD("corbaloc:iiop:2.0@h/k", PHX_EUNSUPPORTED, "2.0");
    BAD("corbaloc:iiop:1.x@h/k", PHX_EINVAL, "IIOP version");
    BAD("corbaloc:iiop:1@h/k", PHX_EINVAL, "IIOP version");
    BAD("corbaloc:iiop:1.2.3@h/k", PHX_EINVAL, "IIOP version");
    BAD("corbaloc:iiop:1.256@h/k", PHX_EINVAL, "IIOP version");
    /* protocols */
    BAD("corbaloc:rir:/NameService", PHX_EUNSUPPORTED, "rir");
    BAD("corbaloc:rir:", PHX_EUNSUPPORTED, "rir");
    BAD("corbaloc:iiop:h,rir:/k", PHX_EUNSUPPORTED, "offset 16");
    BAD("corbaloc:ssliop:h:1/k", PHX_EUNSUPPORTED, "\"ssliop\"");
    BAD("corbaloc:phx:pgm:x/k", PHX_EUNSUPPORTED, "\"pgm\"");
    BAD("corbaloc:phx:x/k", PHX_EINVAL, "transport");
    /* size limit */
    {
        char *big = malloc(PHX_CORBALOC_MAX + 2);
        memcpy(big, "corbaloc:iiop:h/", 16);
        memset(big + 16, 'a', PHX_CORBALOC_MAX + 2 - 16);
        big[PHX_CORBALOC_MAX + 1] = '\0';
        BAD(big, PHX_ELIMIT, "limit");
        free(big);
    }
}

/* ------------------------------------------------------------------ */

int main(void)
{
    static const struct {
        const char *name;
        CU_TestFunc fn;
    } tests[] = {
        {"IOR CDR round trip, copy, raw, nil", test_ior_cdr_round_trip},
        {"known hex vector", test_known_vector},
        {"profile versions", test_profile_versions},
        {"truncated profiles", test_profile_truncated},
        {"FT components", test_ft_components},
        {"IOGR through a string", test_iogr},
        {"malformed IOR strings", test_bad_ior_strings},
        {"corbaloc iiop", test_corbaloc_iiop},
        {"corbaloc phx", test_corbaloc_phx},
        {"IOR to corbaloc", test_to_corbaloc},
        {"malformed corbaloc", test_bad_corbaloc},
    };
    CU_pSuite s;
    unsigned failures;

    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    s = CU_add_suite("ior", NULL, NULL);
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
