/*
 * test_ft_unit.c - the fault-tolerance layer's parts without an ORB
 * running: IOGR building and parsing (component bytes checked against the
 * FT-CORBA layout), the group registry, the FT service contexts (bytes,
 * both byte orders, the generated TypeCodes) and the reply cache (hits,
 * in-progress requests, expiry on a fake clock, limits, serialization).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <CUnit/Basic.h>

#include <phx/ft.h>
#include <phx/phx.h>

#include "idl/ft.h"

#define LE (PHX_CDR_NATIVE == PHX_CDR_LITTLE_ENDIAN)

static const char type_id[] = "IDL:phxtest/Member:1.0";

static void make_member(phx_ior_t *ior, const char *ep,
                        const phx_tagged_component_t *comps, size_t n)
{
    CU_ASSERT_EQUAL_FATAL(phx_ior_make_zmq(ior, type_id, ep, "member", 6,
                                           comps, n),
                          PHX_OK);
}

static const phx_tagged_component_t *
find_comp(const phx_profile_t *p, uint32_t tag, int *count)
{
    const phx_tagged_component_t *first = NULL;
    *count = 0;
    for (uint32_t i = 0; i < p->component_count; i++) {
        if (p->components[i].tag == tag) {
            if (first == NULL)
                first = &p->components[i];
            (*count)++;
        }
    }
    return first;
}

/* ------------------------------------------------------------------ */
/* IOGRs                                                                */
/* ------------------------------------------------------------------ */

static void test_iogr_build_bytes(void)
{
    /* Member A: one profile.  Member B: two profiles, one carrying a
     * stale TAG_FT_GROUP (must be replaced) and an ORB type component
     * (must be kept). */
    phx_ior_t a, b;
    make_member(&a, "tcp://127.0.0.1:5001", NULL, 0);
    phx_ft_group_t stale = {1, 0, (char *)"old", 99, 1};
    phx_tagged_component_t bc[2];
    CU_ASSERT_EQUAL_FATAL(phx_ft_group_encode(&stale, &bc[0]), PHX_OK);
    uint8_t orbtype[] = {PHX_CDR_NATIVE, 0, 0, 0, 1, 2, 3, 4};
    bc[1].tag = PHX_TAG_ORB_TYPE;
    bc[1].data = orbtype;
    bc[1].len = sizeof orbtype;
    make_member(&b, "tcp://127.0.0.1:5002", bc, 2);
    CU_ASSERT_EQUAL_FATAL(phx_ior_add_zmq_profile(&b, "ipc:///tmp/phx-b",
                                                  "member", 6, NULL, 0),
                          PHX_OK);
    phx_tagged_component_fini(&bc[0]);

    phx_ior_t members[2] = {a, b};
    phx_ft_iogr_spec_t spec = {
        .ft_domain_id = "dom",
        .object_group_id = 0x0102030405060708ULL,
        .object_group_ref_version = 7,
        .members = members,
        .member_count = 2,
        .primary = 1,
    };
    phx_ior_t g;
    phx_error_t err;
    CU_ASSERT_EQUAL_FATAL(phx_ft_iogr_build(&spec, &g, &err), PHX_OK);
    CU_ASSERT_STRING_EQUAL(g.type_id, type_id);
    CU_ASSERT_EQUAL_FATAL(g.profile_count, 3);

    /* The component as FT-CORBA lays it out (encapsulation, little
     * endian): byte order, version 1.0, pad, string "dom", pad to 8,
     * group id, reference version. */
    static const uint8_t want_le[] = {
        0x01, 0x01, 0x00, 0x00,                         /* bo 1.0 pad */
        0x04, 0x00, 0x00, 0x00, 'd', 'o', 'm', 0x00,    /* "dom" */
        0x00, 0x00, 0x00, 0x00,                         /* pad to 16 */
        0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, /* id */
        0x07, 0x00, 0x00, 0x00};                        /* version */
    static const uint8_t want_be[] = {
        0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04,
        'd',  'o',  'm',  0x00, 0x00, 0x00, 0x00, 0x00,
        0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
        0x00, 0x00, 0x00, 0x07};
    const uint8_t *want = LE ? want_le : want_be;
    static const char *eps[] = {"tcp://127.0.0.1:5001",
                                "tcp://127.0.0.1:5002", "ipc:///tmp/phx-b"};
    for (uint32_t i = 0; i < g.profile_count; i++) {
        phx_profile_t p;
        CU_ASSERT_EQUAL_FATAL(phx_profile_decode(&g.profiles[i], &p, &err),
                              PHX_OK);
        CU_ASSERT_EQUAL(p.tag, PHX_TAG_ZMQ_IOP);
        CU_ASSERT_STRING_EQUAL(p.endpoint, eps[i]);
        CU_ASSERT_EQUAL(p.key_len, 6);
        CU_ASSERT(memcmp(p.key, "member", 6) == 0);
        int n;
        const phx_tagged_component_t *c =
            find_comp(&p, PHX_TAG_FT_GROUP, &n);
        CU_ASSERT_EQUAL(n, 1);
        CU_ASSERT_FATAL(c != NULL);
        CU_ASSERT_EQUAL(c->len, sizeof want_le);
        CU_ASSERT(c->len == sizeof want_le &&
                  memcmp(c->data, want, c->len) == 0);

        /* The generated TypeCode reads the same thing. */
        phx_cdr_reader_t r;
        FT_TagFTGroupTaggedComponent v;
        CU_ASSERT_EQUAL(phx_cdr_reader_init_encap(&r, c->data, c->len),
                        PHX_OK);
        CU_ASSERT_EQUAL(phx_cdr_get_value(&r, &TC_FT_TagFTGroupTaggedComponent,
                                          &v),
                        PHX_OK);
        CU_ASSERT_EQUAL(v.version.major, 1);
        CU_ASSERT_EQUAL(v.version.minor, 0);
        CU_ASSERT_STRING_EQUAL(v.ft_domain_id, "dom");
        CU_ASSERT_EQUAL(v.object_group_id, 0x0102030405060708ULL);
        CU_ASSERT_EQUAL(v.object_group_ref_version, 7);
        FT_TagFTGroupTaggedComponent__free(&v);

        const phx_tagged_component_t *pc =
            find_comp(&p, PHX_TAG_FT_PRIMARY, &n);
        if (i == 1) {
            CU_ASSERT_EQUAL(n, 1);
            CU_ASSERT_FATAL(pc != NULL);
            CU_ASSERT_EQUAL(pc->len, 2);
            CU_ASSERT_EQUAL(pc->data[0], PHX_CDR_NATIVE);
            CU_ASSERT_EQUAL(pc->data[1], 1);
            const phx_tagged_component_t *ot =
                find_comp(&p, PHX_TAG_ORB_TYPE, &n);
            CU_ASSERT_EQUAL(n, 1);
            CU_ASSERT(ot && ot->len == sizeof orbtype &&
                      memcmp(ot->data, orbtype, sizeof orbtype) == 0);
        } else {
            CU_ASSERT_EQUAL(n, 0);
        }
        phx_profile_fini(&p);
    }

    /* Parse back, also after a trip through the string form. */
    char *str;
    CU_ASSERT_EQUAL_FATAL(phx_ior_to_string(&g, &str), PHX_OK);
    phx_ior_t g2;
    CU_ASSERT_EQUAL_FATAL(phx_ior_from_string(str, &g2, &err), PHX_OK);
    free(str);
    phx_ft_iogr_info_t info;
    CU_ASSERT_EQUAL_FATAL(phx_ft_iogr_parse(&g2, &info, &err), PHX_OK);
    CU_ASSERT_STRING_EQUAL(info.group.ft_domain_id, "dom");
    CU_ASSERT_EQUAL(info.group.major, 1);
    CU_ASSERT_EQUAL(info.group.minor, 0);
    CU_ASSERT_EQUAL(info.group.object_group_id, 0x0102030405060708ULL);
    CU_ASSERT_EQUAL(info.group.object_group_ref_version, 7);
    CU_ASSERT_EQUAL(info.profile_count, 3);
    CU_ASSERT_EQUAL(info.group_profiles, 3);
    CU_ASSERT_EQUAL(info.primary, 1);
    phx_ft_iogr_info_fini(&info);

    uint32_t ver = 0;
    CU_ASSERT_EQUAL(phx_ft_ior_group_version(&g2, -1, &ver), 1);
    CU_ASSERT_EQUAL(ver, 7);
    CU_ASSERT_EQUAL(phx_ft_ior_group_version(&g2, 2, &ver), 1);
    CU_ASSERT_EQUAL(phx_ft_ior_group_version(&a, -1, &ver), 0);
    CU_ASSERT_EQUAL(phx_ft_ior_group_version(&a, 0, NULL), 0);
    CU_ASSERT_EQUAL(phx_ft_iogr_parse(&a, &info, &err), PHX_ENOTFOUND);

    /* Rebuilding from the IOGR's own profiles replaces the components. */
    spec.members = &g2;
    spec.member_count = 1;
    spec.primary = PHX_FT_NO_PRIMARY;
    spec.object_group_ref_version = 8;
    phx_ior_t g3;
    CU_ASSERT_EQUAL_FATAL(phx_ft_iogr_build(&spec, &g3, &err), PHX_OK);
    CU_ASSERT_EQUAL_FATAL(phx_ft_iogr_parse(&g3, &info, &err), PHX_OK);
    CU_ASSERT_EQUAL(info.group.object_group_ref_version, 8);
    CU_ASSERT_EQUAL(info.primary, -1);
    CU_ASSERT_EQUAL(info.group_profiles, 3);
    phx_ft_iogr_info_fini(&info);

    /* Profiles of two versions in one reference are refused. */
    phx_ior_t mixed;
    phx_ior_init(&mixed);
    phx_ior_add_profile(&mixed, g2.profiles[0].tag, g2.profiles[0].data,
                        g2.profiles[0].len);
    phx_ior_add_profile(&mixed, g3.profiles[1].tag, g3.profiles[1].data,
                        g3.profiles[1].len);
    CU_ASSERT_EQUAL(phx_ft_iogr_parse(&mixed, &info, &err), PHX_EINVAL);
    phx_ior_fini(&mixed);

    /* Two primaries are refused. */
    phx_ior_init(&mixed);
    phx_ior_add_profile(&mixed, g2.profiles[1].tag, g2.profiles[1].data,
                        g2.profiles[1].len);
    phx_ior_add_profile(&mixed, g2.profiles[1].tag, g2.profiles[1].data,
                        g2.profiles[1].len);
    CU_ASSERT_EQUAL(phx_ft_iogr_parse(&mixed, &info, &err), PHX_EINVAL);
    phx_ior_fini(&mixed);

    phx_ior_fini(&g3);
    phx_ior_fini(&g2);
    phx_ior_fini(&g);
    phx_ior_fini(&a);
    phx_ior_fini(&b);
}

static void test_iogr_edge_cases(void)
{
    phx_error_t err;
    /* No members: one TAG_MULTIPLE_COMPONENTS profile with the group. */
    phx_ft_iogr_spec_t spec = {.type_id = type_id,
                               .ft_domain_id = "d",
                               .object_group_id = 5,
                               .object_group_ref_version = 1,
                               .primary = PHX_FT_NO_PRIMARY};
    phx_ior_t g;
    CU_ASSERT_EQUAL_FATAL(phx_ft_iogr_build(&spec, &g, &err), PHX_OK);
    CU_ASSERT_EQUAL_FATAL(g.profile_count, 1);
    CU_ASSERT_EQUAL(g.profiles[0].tag, PHX_TAG_MULTIPLE_COMPONENTS);
    phx_ft_iogr_info_t info;
    CU_ASSERT_EQUAL(phx_ft_iogr_parse(&g, &info, &err), PHX_OK);
    CU_ASSERT_EQUAL(info.group.object_group_id, 5);
    CU_ASSERT_EQUAL(info.primary, -1);
    phx_ft_iogr_info_fini(&info);
    uint32_t v;
    CU_ASSERT_EQUAL(phx_ft_ior_group_version(&g, 0, &v), 1);
    CU_ASSERT_EQUAL(v, 1);
    phx_ior_fini(&g);

    /* IIOP 1.0 profiles cannot carry the component. */
    phx_ior_t old;
    CU_ASSERT_EQUAL_FATAL(phx_ior_from_string("corbaloc:iiop:host:1/k",
                                              &old, &err),
                          PHX_OK);
    spec.members = &old;
    spec.member_count = 1;
    CU_ASSERT_EQUAL(phx_ft_iogr_build(&spec, &g, &err), PHX_EUNSUPPORTED);
    CU_ASSERT(strstr(err.msg, "IIOP 1.0") != NULL);
    phx_ior_fini(&old);

    /* IIOP 1.2 profiles can. */
    CU_ASSERT_EQUAL_FATAL(phx_ior_from_string("corbaloc:iiop:1.2@host:1/k",
                                              &old, &err),
                          PHX_OK);
    CU_ASSERT_EQUAL(phx_ft_iogr_build(&spec, &g, &err), PHX_OK);
    CU_ASSERT_EQUAL(phx_ft_ior_group_version(&g, 0, &v), 1);
    phx_ior_fini(&g);
    phx_ior_fini(&old);

    /* A primary out of range, a nil member. */
    phx_ior_t nil;
    phx_ior_init(&nil);
    spec.members = &nil;
    spec.primary = 3;
    CU_ASSERT_EQUAL(phx_ft_iogr_build(&spec, &g, &err), PHX_EINVAL);
    spec.primary = PHX_FT_NO_PRIMARY;
    CU_ASSERT_EQUAL(phx_ft_iogr_build(&spec, &g, &err), PHX_EINVAL);

    /* A malformed TAG_FT_GROUP component. */
    uint8_t junk[] = {PHX_CDR_NATIVE, 1, 0, 0, 0xff, 0xff, 0xff, 0x7f};
    phx_tagged_component_t bad = {PHX_TAG_FT_GROUP, junk, sizeof junk};
    phx_ior_t m;
    make_member(&m, "tcp://127.0.0.1:1", &bad, 1);
    CU_ASSERT_EQUAL(phx_ft_iogr_parse(&m, &info, &err), PHX_EMARSHAL);
    CU_ASSERT(phx_ft_ior_group_version(&m, 0, &v) < 0);
    phx_ior_fini(&m);
}

/* ------------------------------------------------------------------ */
/* Registry                                                             */
/* ------------------------------------------------------------------ */

static int heard;
static uint32_t heard_version;
static bool heard_gone;

static void listener(void *arg, uint64_t gid, uint32_t version,
                     const phx_ior_t *iogr)
{
    (void)arg;
    (void)gid;
    heard++;
    heard_version = version;
    heard_gone = iogr == NULL;
    if (iogr) {
        uint32_t v;
        CU_ASSERT_EQUAL(phx_ft_ior_group_version(iogr, -1, &v), 1);
        CU_ASSERT_EQUAL(v, version);
    }
}

static int primary_of(phx_ft_registry_t *r, uint64_t gid, uint32_t *version,
                      uint32_t *profiles)
{
    phx_ior_t g;
    phx_ft_iogr_info_t info;
    CU_ASSERT_EQUAL_FATAL(phx_ft_registry_get_iogr(r, gid, &g, version),
                          PHX_OK);
    CU_ASSERT_EQUAL_FATAL(phx_ft_iogr_parse(&g, &info, NULL), PHX_OK);
    CU_ASSERT_EQUAL(info.group.object_group_ref_version, *version);
    CU_ASSERT_STRING_EQUAL(info.group.ft_domain_id, "phalanx-test");
    CU_ASSERT_EQUAL(info.group.object_group_id, gid);
    int p = info.primary;
    *profiles = g.profile_count;
    phx_ft_iogr_info_fini(&info);
    phx_ior_fini(&g);
    return p;
}

static void test_registry(void)
{
    phx_ft_registry_t *r;
    phx_error_t err;
    CU_ASSERT_EQUAL_FATAL(phx_ft_registry_create("phalanx-test", &r, &err),
                          PHX_OK);
    CU_ASSERT_STRING_EQUAL(phx_ft_registry_domain(r), "phalanx-test");
    phx_ft_registry_set_listener(r, listener, NULL);
    heard = 0;

    uint64_t gid;
    CU_ASSERT_EQUAL_FATAL(phx_ft_registry_create_group(r, type_id, &gid,
                                                       &err),
                          PHX_OK);
    CU_ASSERT_EQUAL(gid, 1);
    CU_ASSERT_EQUAL(heard, 1);
    uint32_t v, profiles;
    CU_ASSERT_EQUAL(primary_of(r, gid, &v, &profiles), -1);
    CU_ASSERT_EQUAL(v, 1);
    CU_ASSERT_EQUAL(profiles, 1); /* the members-less profile */

    phx_ior_t ma, mb, mc;
    make_member(&ma, "tcp://127.0.0.1:6001", NULL, 0);
    make_member(&mb, "tcp://127.0.0.1:6002", NULL, 0);
    make_member(&mc, "tcp://127.0.0.1:6003", NULL, 0);
    CU_ASSERT_EQUAL(phx_ft_registry_add_member(r, gid, "a", &ma, &err),
                    PHX_OK);
    CU_ASSERT_EQUAL(phx_ft_registry_add_member(r, gid, "b", &mb, &err),
                    PHX_OK);
    CU_ASSERT_EQUAL(phx_ft_registry_add_member(r, gid, "c", &mc, &err),
                    PHX_OK);
    CU_ASSERT_EQUAL(heard, 4);
    CU_ASSERT_EQUAL(heard_version, 4);
    CU_ASSERT_EQUAL(phx_ft_registry_add_member(r, gid, "b", &mb, &err),
                    PHX_EEXIST);
    CU_ASSERT_EQUAL(phx_ft_registry_add_member(r, 77, "z", &mb, &err),
                    PHX_ENOTFOUND);
    size_t count;
    CU_ASSERT_EQUAL(phx_ft_registry_member_count(r, gid, &count), PHX_OK);
    CU_ASSERT_EQUAL(count, 3);
    CU_ASSERT_EQUAL(primary_of(r, gid, &v, &profiles), -1);
    CU_ASSERT_EQUAL(v, 4);
    CU_ASSERT_EQUAL(profiles, 3);

    CU_ASSERT_EQUAL(phx_ft_registry_set_primary(r, gid, "b"), PHX_OK);
    CU_ASSERT_EQUAL(primary_of(r, gid, &v, &profiles), 1);
    CU_ASSERT_EQUAL(v, 5);
    CU_ASSERT_EQUAL(phx_ft_registry_set_primary(r, gid, "b"), PHX_OK);
    CU_ASSERT_EQUAL(primary_of(r, gid, &v, &profiles), 1);
    CU_ASSERT_EQUAL(v, 5); /* no change, no new version */
    CU_ASSERT_EQUAL(phx_ft_registry_set_primary(r, gid, "nobody"),
                    PHX_ENOTFOUND);

    /* Removing a member before the primary keeps the primary. */
    CU_ASSERT_EQUAL(phx_ft_registry_remove_member(r, gid, "a"), PHX_OK);
    CU_ASSERT_EQUAL(primary_of(r, gid, &v, &profiles), 0);
    CU_ASSERT_EQUAL(v, 6);
    CU_ASSERT_EQUAL(profiles, 2);
    CU_ASSERT_EQUAL(phx_ft_registry_remove_member(r, gid, "a"),
                    PHX_ENOTFOUND);
    /* Removing the primary leaves none. */
    CU_ASSERT_EQUAL(phx_ft_registry_remove_member(r, gid, "b"), PHX_OK);
    CU_ASSERT_EQUAL(primary_of(r, gid, &v, &profiles), -1);
    CU_ASSERT_EQUAL(v, 7);
    CU_ASSERT_EQUAL(profiles, 1);
    CU_ASSERT_EQUAL(heard_version, 7);

    /* A member whose profiles cannot carry components is refused and
     * changes nothing. */
    phx_ior_t old;
    CU_ASSERT_EQUAL_FATAL(phx_ior_from_string("corbaloc:iiop:host:1/k",
                                              &old, &err),
                          PHX_OK);
    CU_ASSERT_EQUAL(phx_ft_registry_add_member(r, gid, "old", &old, &err),
                    PHX_EUNSUPPORTED);
    CU_ASSERT_EQUAL(primary_of(r, gid, &v, &profiles), -1);
    CU_ASSERT_EQUAL(v, 7);
    phx_ior_fini(&old);

    /* Many groups: ids unique, every one reachable. */
    enum { MANY = 2000 };
    for (int i = 0; i < MANY; i++) {
        uint64_t id;
        CU_ASSERT_EQUAL_FATAL(phx_ft_registry_create_group(r, NULL, &id,
                                                           &err),
                              PHX_OK);
        CU_ASSERT_EQUAL(id, (uint64_t)i + 2);
        CU_ASSERT_EQUAL(phx_ft_registry_add_member(r, id, "x", &ma, &err),
                        PHX_OK);
    }
    for (uint64_t id = 2; id < MANY + 2; id += 97) {
        phx_ior_t g;
        CU_ASSERT_EQUAL(phx_ft_registry_get_iogr(r, id, &g, &v), PHX_OK);
        CU_ASSERT_EQUAL(v, 2);
        phx_ior_fini(&g);
    }

    heard_gone = false;
    CU_ASSERT_EQUAL(phx_ft_registry_destroy_group(r, gid), PHX_OK);
    CU_ASSERT(heard_gone);
    CU_ASSERT_EQUAL(phx_ft_registry_destroy_group(r, gid), PHX_ENOTFOUND);
    phx_ior_t g;
    CU_ASSERT_EQUAL(phx_ft_registry_get_iogr(r, gid, &g, &v),
                    PHX_ENOTFOUND);

    phx_ior_fini(&ma);
    phx_ior_fini(&mb);
    phx_ior_fini(&mc);
    phx_ft_registry_destroy(r);
}

/* ------------------------------------------------------------------ */
/* Service contexts                                                     */
/* ------------------------------------------------------------------ */

static void test_contexts(void)
{
    phx_ft_request_ctx_t c = {.client_id = "client-1",
                              .retention_id = 42,
                              .expiration_time = 0x0102030405060708ULL};
    uint8_t *d;
    size_t n;
    CU_ASSERT_EQUAL_FATAL(phx_ft_request_ctx_encode(&c, &d, &n), PHX_OK);
    static const uint8_t want_le[] = {
        0x01, 0x00, 0x00, 0x00,                         /* bo, pad */
        0x09, 0x00, 0x00, 0x00,                         /* length 9 */
        'c',  'l',  'i',  'e',  'n',  't',  '-',  '1',  0x00,
        0x00, 0x00, 0x00,                               /* pad to 20 */
        0x2a, 0x00, 0x00, 0x00,                         /* retention 42 */
        0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01  /* at 24 */
    };
    static const uint8_t want_be[] = {
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x09,
        'c',  'l',  'i',  'e',  'n',  't',  '-',  '1',  0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2a,
        0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08};
    CU_ASSERT_EQUAL(n, sizeof want_le);
    CU_ASSERT(n == sizeof want_le &&
              memcmp(d, LE ? want_le : want_be, n) == 0);

    phx_ft_request_ctx_t back;
    phx_error_t err;
    CU_ASSERT_EQUAL(phx_ft_request_ctx_decode(d, n, &back, &err), PHX_OK);
    CU_ASSERT_EQUAL(back.client_id_len, 8);
    CU_ASSERT(memcmp(back.client_id, "client-1", 9) == 0);
    CU_ASSERT_EQUAL(back.retention_id, 42);
    CU_ASSERT_EQUAL(back.expiration_time, 0x0102030405060708ULL);

    /* The other byte order decodes too. */
    const uint8_t *other = LE ? want_be : want_le;
    CU_ASSERT_EQUAL(phx_ft_request_ctx_decode(other, sizeof want_le, &back,
                                              &err),
                    PHX_OK);
    CU_ASSERT_EQUAL(back.retention_id, 42);
    CU_ASSERT_EQUAL(back.expiration_time, 0x0102030405060708ULL);

    /* And the generated TypeCode agrees. */
    phx_cdr_reader_t r;
    FT_FTRequestServiceContext v;
    phx_cdr_reader_init_encap(&r, d, n);
    CU_ASSERT_EQUAL(phx_cdr_get_value(&r, &TC_FT_FTRequestServiceContext,
                                      &v),
                    PHX_OK);
    CU_ASSERT_STRING_EQUAL(v.client_id, "client-1");
    CU_ASSERT_EQUAL(v.retention_id, 42);
    FT_FTRequestServiceContext__free(&v);

    /* Truncated data is refused. */
    for (size_t cut = 0; cut < n; cut++)
        CU_ASSERT_NOT_EQUAL(phx_ft_request_ctx_decode(d, cut, &back, &err),
                            PHX_OK);
    free(d);

    CU_ASSERT_EQUAL_FATAL(phx_ft_group_version_ctx_encode(7, &d, &n),
                          PHX_OK);
    static const uint8_t gv_le[] = {1, 0, 0, 0, 7, 0, 0, 0};
    static const uint8_t gv_be[] = {0, 0, 0, 0, 0, 0, 0, 7};
    CU_ASSERT(n == 8 && memcmp(d, LE ? gv_le : gv_be, 8) == 0);
    uint32_t ver;
    CU_ASSERT_EQUAL(phx_ft_group_version_ctx_decode(d, n, &ver, &err),
                    PHX_OK);
    CU_ASSERT_EQUAL(ver, 7);
    CU_ASSERT_EQUAL(phx_ft_group_version_ctx_decode(LE ? gv_be : gv_le, 8,
                                                    &ver, &err),
                    PHX_OK);
    CU_ASSERT_EQUAL(ver, 7);
    CU_ASSERT_NOT_EQUAL(phx_ft_group_version_ctx_decode(d, 5, &ver, &err),
                        PHX_OK);
    free(d);

    /* TimeT: 100 ns since 15 October 1582. */
    uint64_t now = phx_ft_time_now();
    uint64_t unix_now = (uint64_t)time(NULL);
    uint64_t expect = PHX_FT_TIMET_UNIX_EPOCH + unix_now * 10000000ULL;
    CU_ASSERT(now + 20000000ULL > expect && now < expect + 20000000ULL);
    CU_ASSERT_EQUAL(PHX_FT_TIMET_UNIX_EPOCH, 122192928000000000ULL);
}

/* ------------------------------------------------------------------ */
/* Reply cache                                                          */
/* ------------------------------------------------------------------ */

#define SEC 10000000ULL
static uint64_t fake_now;
static uint64_t fake_clock(void *arg)
{
    (void)arg;
    return fake_now;
}

static bool evicting;

static phx_ft_reply_cache_t *new_cache(size_t max_entries, size_t max_bytes)
{
    phx_ft_reply_cache_config_t cfg;
    phx_ft_reply_cache_config_init(&cfg);
    cfg.evict_when_full = evicting;
    if (max_entries)
        cfg.max_entries = max_entries;
    if (max_bytes)
        cfg.max_bytes = max_bytes;
    cfg.clock = fake_clock;
    phx_ft_reply_cache_t *c;
    CU_ASSERT_EQUAL_FATAL(phx_ft_reply_cache_create(&cfg, &c), PHX_OK);
    return c;
}

static int begin(phx_ft_reply_cache_t *c, const char *cid, int32_t rid,
                 uint64_t exp, uintptr_t owner, phx_ft_cached_reply_t *rep)
{
    return phx_ft_reply_cache_begin(c, cid, strlen(cid), rid, exp, owner,
                                    rep);
}

static int complete(phx_ft_reply_cache_t *c, const char *cid, int32_t rid,
                    uintptr_t owner, uint32_t status, const char *body)
{
    return phx_ft_reply_cache_complete(c, cid, strlen(cid), rid, owner,
                                       status, body, strlen(body));
}

static void test_cache_basics(void)
{
    fake_now = 1000 * SEC;
    phx_ft_reply_cache_t *c = new_cache(0, 0);
    phx_ft_cached_reply_t rep;
    uint64_t exp = fake_now + 15 * SEC;

    CU_ASSERT_EQUAL(begin(c, "A", 1, exp, 11, &rep), PHX_FT_CACHE_MISS);
    CU_ASSERT_EQUAL(begin(c, "A", 1, exp, 12, &rep), PHX_FT_CACHE_BUSY);
    /* Same retention id, other client: a different request. */
    CU_ASSERT_EQUAL(begin(c, "B", 1, exp, 13, &rep), PHX_FT_CACHE_MISS);
    /* Only the owner completes it. */
    CU_ASSERT_EQUAL(complete(c, "A", 1, 12, 0, "nope"), PHX_ENOTFOUND);
    CU_ASSERT_EQUAL(complete(c, "A", 1, 11, PHX_GIOP_USER_EXCEPTION,
                             "reply-A"),
                    PHX_OK);
    CU_ASSERT_EQUAL(complete(c, "A", 1, 11, 0, "again"), PHX_ENOTFOUND);
    CU_ASSERT_EQUAL(begin(c, "A", 1, exp, 14, &rep), PHX_FT_CACHE_HIT);
    CU_ASSERT_EQUAL(rep.reply_status, PHX_GIOP_USER_EXCEPTION);
    CU_ASSERT(rep.len == 7 && memcmp(rep.body, "reply-A", 7) == 0);
    phx_ft_cached_reply_fini(&rep);

    /* Abandoned: as if never seen. */
    CU_ASSERT_EQUAL(phx_ft_reply_cache_abandon(c, "B", 1, 1, 99),
                    PHX_ENOTFOUND);
    CU_ASSERT_EQUAL(phx_ft_reply_cache_abandon(c, "B", 1, 1, 13), PHX_OK);
    CU_ASSERT_EQUAL(begin(c, "B", 1, exp, 15, &rep), PHX_FT_CACHE_MISS);

    /* put replaces an execution in progress; its completion is then a
     * no-op. */
    CU_ASSERT_EQUAL(phx_ft_reply_cache_put(c, "B", 1, 1, exp, 0, "learnt",
                                           6),
                    PHX_OK);
    CU_ASSERT_EQUAL(complete(c, "B", 1, 15, 0, "local"), PHX_ENOTFOUND);
    CU_ASSERT_EQUAL(begin(c, "B", 1, exp, 16, &rep), PHX_FT_CACHE_HIT);
    CU_ASSERT(rep.len == 6 && memcmp(rep.body, "learnt", 6) == 0);
    phx_ft_cached_reply_fini(&rep);

    /* Empty client ids and bodies are fine; owner 0 is not. */
    CU_ASSERT_EQUAL(begin(c, "", -5, exp, 17, &rep), PHX_FT_CACHE_MISS);
    CU_ASSERT_EQUAL(complete(c, "", -5, 17, 0, ""), PHX_OK);
    CU_ASSERT_EQUAL(begin(c, "", -5, exp, 18, &rep), PHX_FT_CACHE_HIT);
    CU_ASSERT_EQUAL(rep.len, 0);
    phx_ft_cached_reply_fini(&rep);
    CU_ASSERT_EQUAL(begin(c, "Z", 1, exp, 0, &rep), PHX_EINVAL);

    phx_ft_reply_cache_stats_t st;
    phx_ft_reply_cache_get_stats(c, &st);
    CU_ASSERT_EQUAL(st.entries, 3);
    CU_ASSERT_EQUAL(st.in_progress, 0);
    CU_ASSERT_EQUAL(st.hits, 3);
    CU_ASSERT_EQUAL(st.busy, 1);
    phx_ft_reply_cache_destroy(c);
}

static void test_cache_expiry(void)
{
    fake_now = 5000 * SEC;
    phx_ft_reply_cache_t *c = new_cache(0, 0);
    phx_ft_cached_reply_t rep;
    struct {
        const char *cid;
        uint64_t exp;
    } e[] = {{"one", fake_now + 1 * SEC},
             {"ten", fake_now + 10 * SEC},
             {"far", fake_now + 100 * SEC}, /* beyond one wheel turn */
             {"past", fake_now - 30 * SEC}};
    for (int i = 0; i < 4; i++) {
        CU_ASSERT_EQUAL(begin(c, e[i].cid, 1, e[i].exp, 1, &rep),
                        PHX_FT_CACHE_MISS);
        CU_ASSERT_EQUAL(complete(c, e[i].cid, 1, 1, 0, e[i].cid), PHX_OK);
    }
    /* In progress past its expiration: kept until its owner is done. */
    CU_ASSERT_EQUAL(begin(c, "busy", 1, fake_now + 1 * SEC, 7, &rep),
                    PHX_FT_CACHE_MISS);

    phx_ft_reply_cache_stats_t st;
    CU_ASSERT_EQUAL(phx_ft_reply_cache_gc(c), 0);
    fake_now += SEC / 2;
    CU_ASSERT_EQUAL(phx_ft_reply_cache_gc(c), 1); /* "past" */
    fake_now += 2 * SEC;
    CU_ASSERT_EQUAL(phx_ft_reply_cache_gc(c), 1); /* "one" */
    CU_ASSERT_EQUAL(begin(c, "one", 1, fake_now + SEC, 2, &rep),
                    PHX_FT_CACHE_MISS);
    CU_ASSERT_EQUAL(phx_ft_reply_cache_abandon(c, "one", 3, 1, 2), PHX_OK);
    CU_ASSERT_EQUAL(begin(c, "busy", 1, 0, 8, &rep), PHX_FT_CACHE_BUSY);
    fake_now += 10 * SEC;
    CU_ASSERT_EQUAL(phx_ft_reply_cache_gc(c), 1); /* "ten" */
    CU_ASSERT_EQUAL(begin(c, "far", 1, 0, 9, &rep), PHX_FT_CACHE_HIT);
    phx_ft_cached_reply_fini(&rep);
    phx_ft_reply_cache_get_stats(c, &st);
    CU_ASSERT_EQUAL(st.entries, 2); /* "far" and "busy" */
    CU_ASSERT_EQUAL(complete(c, "busy", 1, 7, 0, "late"), PHX_OK);
    fake_now += 70 * SEC; /* a wheel turn later: "busy" goes */
    CU_ASSERT_EQUAL(phx_ft_reply_cache_gc(c), 1);
    CU_ASSERT_EQUAL(begin(c, "far", 1, 0, 9, &rep), PHX_FT_CACHE_HIT);
    phx_ft_cached_reply_fini(&rep);
    fake_now += 30 * SEC;
    CU_ASSERT_EQUAL(phx_ft_reply_cache_gc(c), 1); /* "far" */
    phx_ft_reply_cache_get_stats(c, &st);
    CU_ASSERT_EQUAL(st.entries, 0);
    CU_ASSERT_EQUAL(st.expired, 5);
    CU_ASSERT_EQUAL(st.bytes, 0);

    /* Many entries with spread expirations, then a long pause: all go,
     * each visited a bounded number of times. */
    enum { MANY = 50000 };
    char id[32];
    for (int i = 0; i < MANY; i++) {
        snprintf(id, sizeof id, "c%d", i % 100);
        uint64_t exp = fake_now + (uint64_t)(i % 40) * SEC;
        CU_ASSERT_EQUAL_FATAL(begin(c, id, i, exp, 1, NULL),
                              PHX_FT_CACHE_MISS);
        CU_ASSERT_EQUAL_FATAL(phx_ft_reply_cache_complete(c, id, strlen(id),
                                                          i, 1, 0, "x", 1),
                              PHX_OK);
    }
    phx_ft_reply_cache_get_stats(c, &st);
    CU_ASSERT_EQUAL(st.entries, MANY);
    fake_now += 20 * SEC;
    size_t gone = phx_ft_reply_cache_gc(c);
    CU_ASSERT(gone > MANY / 3 && gone < MANY * 2 / 3);
    fake_now += 3600 * SEC;
    CU_ASSERT_EQUAL(phx_ft_reply_cache_gc(c), MANY - gone);
    phx_ft_reply_cache_get_stats(c, &st);
    CU_ASSERT_EQUAL(st.entries, 0);
    CU_ASSERT_EQUAL(st.bytes, 0);
    phx_ft_reply_cache_destroy(c);
}

static void test_cache_full(void)
{
    fake_now = 100 * SEC;
    phx_ft_reply_cache_t *c = new_cache(3, 0);
    phx_ft_cached_reply_t rep;
    for (int i = 0; i < 3; i++)
        CU_ASSERT_EQUAL(begin(c, "k", i, fake_now + SEC, 1, &rep),
                        PHX_FT_CACHE_MISS);
    CU_ASSERT_EQUAL(begin(c, "k", 3, fake_now + SEC, 1, &rep),
                    PHX_FT_CACHE_FULL);
    /* Known keys are still answered when full. */
    CU_ASSERT_EQUAL(complete(c, "k", 0, 1, 0, "r0"), PHX_OK);
    CU_ASSERT_EQUAL(begin(c, "k", 0, fake_now + SEC, 2, &rep),
                    PHX_FT_CACHE_HIT);
    phx_ft_cached_reply_fini(&rep);
    CU_ASSERT_EQUAL(phx_ft_reply_cache_put(c, "k", 1, 9, fake_now, 0, "", 0),
                    PHX_ELIMIT);
    /* Expiry makes room (entries in progress stay). */
    complete(c, "k", 1, 1, 0, "r1");
    fake_now += 2 * SEC;
    CU_ASSERT_EQUAL(begin(c, "k", 3, fake_now + SEC, 1, &rep),
                    PHX_FT_CACHE_MISS);
    CU_ASSERT_EQUAL(begin(c, "k", 4, fake_now + SEC, 1, &rep),
                    PHX_FT_CACHE_MISS);
    CU_ASSERT_EQUAL(begin(c, "k", 5, fake_now + SEC, 1, &rep),
                    PHX_FT_CACHE_FULL);
    phx_ft_reply_cache_stats_t st;
    phx_ft_reply_cache_get_stats(c, &st);
    CU_ASSERT_EQUAL(st.entries, 3);
    CU_ASSERT_EQUAL(st.in_progress, 3);
    CU_ASSERT_EQUAL(st.full, 2);
    phx_ft_reply_cache_destroy(c);

    /* The byte limit: big replies are still stored once executed, and
     * then nothing new gets in until they expire. */
    c = new_cache(0, 4096);
    static char big[3000];
    memset(big, 'b', sizeof big - 1);
    CU_ASSERT_EQUAL(begin(c, "b", 1, fake_now + SEC, 1, &rep),
                    PHX_FT_CACHE_MISS);
    CU_ASSERT_EQUAL(begin(c, "b", 2, fake_now + SEC, 2, &rep),
                    PHX_FT_CACHE_MISS);
    CU_ASSERT_EQUAL(complete(c, "b", 1, 1, 0, big), PHX_OK);
    CU_ASSERT_EQUAL(complete(c, "b", 2, 2, 0, big), PHX_OK);
    phx_ft_reply_cache_get_stats(c, &st);
    CU_ASSERT(st.bytes > 4096);
    CU_ASSERT_EQUAL(begin(c, "b", 3, fake_now + SEC, 3, &rep),
                    PHX_FT_CACHE_FULL);
    fake_now += 2 * SEC;
    CU_ASSERT_EQUAL(begin(c, "b", 3, fake_now + SEC, 3, &rep),
                    PHX_FT_CACHE_MISS);
    phx_ft_reply_cache_destroy(c);

    /* Evicting instead: the completed entries closest to expiry go first,
     * entries in progress never. */
    evicting = true;
    c = new_cache(3, 0);
    evicting = false;
    CU_ASSERT_EQUAL(begin(c, "e", 1, fake_now + 30 * SEC, 1, &rep),
                    PHX_FT_CACHE_MISS);
    CU_ASSERT_EQUAL(begin(c, "e", 2, fake_now + 10 * SEC, 2, &rep),
                    PHX_FT_CACHE_MISS);
    CU_ASSERT_EQUAL(begin(c, "e", 3, fake_now + 20 * SEC, 3, &rep),
                    PHX_FT_CACHE_MISS);
    CU_ASSERT_EQUAL(begin(c, "e", 4, fake_now + 20 * SEC, 4, &rep),
                    PHX_FT_CACHE_FULL); /* all in progress */
    CU_ASSERT_EQUAL(complete(c, "e", 1, 1, 0, "r1"), PHX_OK);
    CU_ASSERT_EQUAL(complete(c, "e", 2, 2, 0, "r2"), PHX_OK);
    /* e2 expires first: it goes. */
    CU_ASSERT_EQUAL(begin(c, "e", 4, fake_now + 20 * SEC, 4, &rep),
                    PHX_FT_CACHE_MISS);
    CU_ASSERT_EQUAL(begin(c, "e", 1, 0, 5, &rep), PHX_FT_CACHE_HIT);
    phx_ft_cached_reply_fini(&rep);
    /* e2 again: a new request, which pushes e1 out. */
    CU_ASSERT_EQUAL(begin(c, "e", 2, fake_now + 20 * SEC, 6, &rep),
                    PHX_FT_CACHE_MISS);
    /* Now all three are in progress: nothing can go. */
    CU_ASSERT_EQUAL(begin(c, "e", 1, fake_now + 20 * SEC, 7, &rep),
                    PHX_FT_CACHE_FULL);
    phx_ft_reply_cache_get_stats(c, &st);
    CU_ASSERT_EQUAL(st.evicted, 2);
    CU_ASSERT_EQUAL(st.entries, 3);
    CU_ASSERT_EQUAL(st.in_progress, 3);
    phx_ft_reply_cache_destroy(c);
}

static void test_cache_serialize(void)
{
    fake_now = 2000 * SEC;
    phx_ft_reply_cache_t *c = new_cache(0, 0);
    enum { N = 300 };
    char id[32], body[64];
    for (int i = 0; i < N; i++) {
        snprintf(id, sizeof id, "client-%d", i % 7);
        snprintf(body, sizeof body, "%.*s", i % 50,
                 "0123456789abcdefghijklmnopqrstuvwxyz0123456789ABCDEF");
        CU_ASSERT_EQUAL_FATAL(begin(c, id, i, fake_now + (uint64_t)(i % 90) *
                                                             SEC,
                                    1, NULL),
                              PHX_FT_CACHE_MISS);
        CU_ASSERT_EQUAL_FATAL(phx_ft_reply_cache_complete(
                                  c, id, strlen(id), i, 1, (uint32_t)(i % 3),
                                  body, strlen(body)),
                              PHX_OK);
    }
    /* Requests in progress are not part of the state. */
    CU_ASSERT_EQUAL(begin(c, "running", 1, fake_now + SEC, 5, NULL),
                    PHX_FT_CACHE_MISS);

    phx_cdr_writer_t w;
    phx_cdr_writer_init(&w, 0);
    CU_ASSERT_EQUAL_FATAL(phx_ft_reply_cache_serialize(c, &w), PHX_OK);
    size_t len;
    uint8_t *state = phx_cdr_writer_steal(&w, &len);
    phx_cdr_writer_fini(&w);
    CU_ASSERT_FATAL(state != NULL);

    phx_ft_reply_cache_t *d = new_cache(0, 0);
    phx_error_t err;
    CU_ASSERT_EQUAL_FATAL(phx_ft_reply_cache_deserialize(d, state, len,
                                                         &err),
                          PHX_OK);
    phx_ft_reply_cache_stats_t st;
    phx_ft_reply_cache_get_stats(d, &st);
    CU_ASSERT_EQUAL(st.entries, N);
    CU_ASSERT_EQUAL(st.in_progress, 0);
    for (int i = 0; i < N; i++) {
        snprintf(id, sizeof id, "client-%d", i % 7);
        snprintf(body, sizeof body, "%.*s", i % 50,
                 "0123456789abcdefghijklmnopqrstuvwxyz0123456789ABCDEF");
        phx_ft_cached_reply_t rep;
        CU_ASSERT_EQUAL(begin(d, id, i, 0, 2, &rep), PHX_FT_CACHE_HIT);
        CU_ASSERT_EQUAL(rep.reply_status, (uint32_t)(i % 3));
        CU_ASSERT(rep.len == strlen(body) &&
                  (rep.len == 0 || memcmp(rep.body, body, rep.len) == 0));
        phx_ft_cached_reply_fini(&rep);
    }
    CU_ASSERT_EQUAL(begin(d, "running", 1, fake_now + SEC, 5, NULL),
                    PHX_FT_CACHE_MISS);
    /* Expirations travel too. */
    fake_now += 45 * SEC;
    phx_ft_reply_cache_gc(d);
    phx_ft_reply_cache_get_stats(d, &st);
    CU_ASSERT(st.entries > N / 3 && st.entries < N * 2 / 3);

    /* Truncations and corruption are refused and change nothing. */
    phx_ft_reply_cache_t *e = new_cache(0, 0);
    for (size_t cut = 0; cut < len; cut += 1 + cut / 4) {
        CU_ASSERT_NOT_EQUAL(phx_ft_reply_cache_deserialize(e, state, cut,
                                                           &err),
                            PHX_OK);
    }
    phx_ft_reply_cache_get_stats(e, &st);
    CU_ASSERT_EQUAL(st.entries, 0);
    /* A status that is not a reply status. */
    phx_cdr_writer_init(&w, 0);
    phx_cdr_put_octet(&w, PHX_CDR_NATIVE);
    phx_cdr_put_ulong(&w, 1);
    phx_cdr_put_ulong(&w, 1);
    phx_cdr_put_string(&w, "x");
    phx_cdr_put_long(&w, 1);
    phx_cdr_put_ulonglong(&w, fake_now + SEC);
    phx_cdr_put_ulong(&w, 4);
    phx_cdr_put_octet_seq(&w, "", 0);
    CU_ASSERT_EQUAL(phx_ft_reply_cache_deserialize(
                        e, phx_cdr_writer_data(&w), phx_cdr_writer_len(&w),
                        &err),
                    PHX_EMARSHAL);
    phx_cdr_writer_fini(&w);
    /* Another format version. */
    uint8_t fmt2[] = {PHX_CDR_NATIVE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    uint32_t two = 2;
    memcpy(fmt2 + 4, &two, 4);
    CU_ASSERT_EQUAL(phx_ft_reply_cache_deserialize(e, fmt2, sizeof fmt2,
                                                   &err),
                    PHX_EUNSUPPORTED);
    /* The other byte order: refused unless empty. */
    uint8_t other_empty[] = {!PHX_CDR_NATIVE, 0, 0, 0, 0, 0, 0, 1,
                             0, 0, 0, 0};
    if (LE)
        other_empty[7] = 1;
    else
        other_empty[4] = 1;
    CU_ASSERT_EQUAL(phx_ft_reply_cache_deserialize(e, other_empty,
                                                   sizeof other_empty, &err),
                    PHX_OK);
    uint8_t other_one[sizeof other_empty];
    memcpy(other_one, other_empty, sizeof other_one);
    other_one[LE ? 11 : 8] = 1;
    CU_ASSERT_EQUAL(phx_ft_reply_cache_deserialize(e, other_one,
                                                   sizeof other_one, &err),
                    PHX_EUNSUPPORTED);
    phx_ft_reply_cache_destroy(e);

    /* Into a cache too small: refused whole. */
    e = new_cache(10, 0);
    CU_ASSERT_EQUAL(phx_ft_reply_cache_deserialize(e, state, len, &err),
                    PHX_ELIMIT);
    phx_ft_reply_cache_get_stats(e, &st);
    CU_ASSERT_EQUAL(st.entries, 0);
    phx_ft_reply_cache_destroy(e);

    free(state);
    phx_ft_reply_cache_destroy(d);
    phx_ft_reply_cache_destroy(c);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("ft", NULL, NULL);
    if (s == NULL ||
        !CU_add_test(s, "IOGR build and parse, component bytes",
                     test_iogr_build_bytes) ||
        !CU_add_test(s, "IOGR edge cases", test_iogr_edge_cases) ||
        !CU_add_test(s, "group registry", test_registry) ||
        !CU_add_test(s, "service contexts", test_contexts) ||
        !CU_add_test(s, "reply cache basics", test_cache_basics) ||
        !CU_add_test(s, "reply cache expiry", test_cache_expiry) ||
        !CU_add_test(s, "reply cache limits", test_cache_full) ||
        !CU_add_test(s, "reply cache serialization",
                     test_cache_serialize)) {
        CU_cleanup_registry();
        return 1;
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
