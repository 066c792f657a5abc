/*
 * fuzz_giop.c - libFuzzer target for everything Phalanx decodes off the
 * wire or out of a string.
 *
 * One input is one ZeroMQ frame as a server or a client receives it: the
 * GIOP header is parsed, the message header of its type decoded, and the
 * body tried as the shapes a skeleton or a stub would read (primitives,
 * strings, octet sequences, values of every TypeCode kind through the
 * marshaling engine, TypeCodes, system exception bodies, IORs with their
 * profiles and FT components).  The same frame is then replayed with its
 * byte-order flag flipped (and its size field swapped to match), so every
 * field is also read in the other byte order.  The input is also decoded
 * as a bare CDR stream and an encapsulation, and, NUL-terminated, parsed
 * as a stringified reference ("IOR:..." and "corbaloc:...").
 *
 * Whatever decodes successfully is re-encoded and decoded again, and the
 * two results must agree: a mismatch aborts, which the fuzzer reports as
 * a crash.  Everything allocated is freed (LeakSanitizer checks) and no
 * state survives from one input to the next.
 *
 * Built by "make fuzz" (clang, -fsanitize=fuzzer) and, linked to
 * tests/fuzz/replay.c, by "make check" to replay the seed corpus.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <phx/cdr.h>
#include <phx/giop.h>
#include <phx/ior.h>
#include <phx/typecode.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An invariant of the library does not hold: report it as a crash. */
#define CHECK(cond)                                                         \
    do {                                                                    \
        if (!(cond))                                                        \
            abort();                                                        \
    } while (0)

/* ------------------------------------------------------------------ */
/* Static TypeCodes: one or more of every kind the engine marshals      */
/* ------------------------------------------------------------------ */

static const char *const color_names[] = {"red", "green", "blue"};

static const phx_typecode_t tc_color = {
    .kind = PHX_TK_ENUM,
    .repo_id = "IDL:fuzz/Color:1.0",
    .name = "Color",
    .member_count = 3,
    .enumerators = color_names,
};

static const phx_typecode_t tc_bstring = {.kind = PHX_TK_STRING,
                                          .length = 8};

static const phx_typecode_t tc_alias_long = {
    .kind = PHX_TK_ALIAS,
    .repo_id = "IDL:fuzz/Count:1.0",
    .name = "Count",
    .content = &phx_tc_long,
};

static const phx_typecode_t tc_arr3_long = {
    .kind = PHX_TK_ARRAY, .content = &phx_tc_long, .length = 3};
static const phx_typecode_t tc_arr2x3_long = {
    .kind = PHX_TK_ARRAY, .content = &tc_arr3_long, .length = 2};

static const phx_typecode_t tc_octet_seq = {.kind = PHX_TK_SEQUENCE,
                                            .content = &phx_tc_octet};
static const phx_typecode_t tc_long_seq = {.kind = PHX_TK_SEQUENCE,
                                           .content = &phx_tc_long};
static const phx_typecode_t tc_long_seq_seq = {.kind = PHX_TK_SEQUENCE,
                                               .content = &tc_long_seq};
static const phx_typecode_t tc_string_seq4 = {
    .kind = PHX_TK_SEQUENCE, .content = &phx_tc_string, .length = 4};
static const phx_typecode_t tc_bool_seq = {.kind = PHX_TK_SEQUENCE,
                                           .content = &phx_tc_boolean};
static const phx_typecode_t tc_color_seq = {.kind = PHX_TK_SEQUENCE,
                                            .content = &tc_color};

/* struct Prims { every primitive, an enum, strings, an array, an alias } */
typedef struct fz_prims {
    int16_t s;
    int32_t l;
    uint16_t us;
    uint32_t ul;
    float f;
    double d;
    bool b;
    char c;
    uint8_t o;
    int64_t ll;
    uint64_t ull;
    uint32_t color;
    char *str;
    char *bstr;
    int32_t arr[2][3];
    int32_t count;
} fz_prims_t;

#define MEMBER(T, m, tc) {.name = #m, .type = (tc), .offset = offsetof(T, m)}

static const phx_tc_member_t prims_members[] = {
    MEMBER(fz_prims_t, s, &phx_tc_short),
    MEMBER(fz_prims_t, l, &phx_tc_long),
    MEMBER(fz_prims_t, us, &phx_tc_ushort),
    MEMBER(fz_prims_t, ul, &phx_tc_ulong),
    MEMBER(fz_prims_t, f, &phx_tc_float),
    MEMBER(fz_prims_t, d, &phx_tc_double),
    MEMBER(fz_prims_t, b, &phx_tc_boolean),
    MEMBER(fz_prims_t, c, &phx_tc_char),
    MEMBER(fz_prims_t, o, &phx_tc_octet),
    MEMBER(fz_prims_t, ll, &phx_tc_longlong),
    MEMBER(fz_prims_t, ull, &phx_tc_ulonglong),
    MEMBER(fz_prims_t, color, &tc_color),
    MEMBER(fz_prims_t, str, &phx_tc_string),
    MEMBER(fz_prims_t, bstr, &tc_bstring),
    MEMBER(fz_prims_t, arr, &tc_arr2x3_long),
    MEMBER(fz_prims_t, count, &tc_alias_long),
};

static const phx_typecode_t tc_prims = {
    .kind = PHX_TK_STRUCT,
    .repo_id = "IDL:fuzz/Prims:1.0",
    .name = "Prims",
    .members = prims_members,
    .member_count = sizeof prims_members / sizeof prims_members[0],
    .c_size = sizeof(fz_prims_t),
    .c_align = _Alignof(fz_prims_t),
};

/* union LongU switch (long) { case 1: long l; case 2: string s;
 *   case 3: double d; default: sequence<octet> o; } */
typedef struct fz_lunion {
    int32_t _d;
    union {
        int32_t l;
        char *s;
        double d;
        phx_sequence_t o;
    } _u;
} fz_lunion_t;

static const phx_tc_member_t lunion_members[] = {
    {.name = "l", .type = &phx_tc_long,
     .offset = offsetof(fz_lunion_t, _u.l), .label = 1},
    {.name = "s", .type = &phx_tc_string,
     .offset = offsetof(fz_lunion_t, _u.s), .label = 2},
    {.name = "d", .type = &phx_tc_double,
     .offset = offsetof(fz_lunion_t, _u.d), .label = 3},
    {.name = "o", .type = &tc_octet_seq,
     .offset = offsetof(fz_lunion_t, _u.o), .is_default = true},
};

static const phx_typecode_t tc_lunion = {
    .kind = PHX_TK_UNION,
    .repo_id = "IDL:fuzz/LongU:1.0",
    .name = "LongU",
    .members = lunion_members,
    .member_count = 4,
    .discriminator = &phx_tc_long,
    .c_size = sizeof(fz_lunion_t),
    .c_align = _Alignof(fz_lunion_t),
    .u_offset = offsetof(fz_lunion_t, _u),
};

/* union ColorU switch (Color) { case red: short s;
 *   case blue: unsigned long long u; }  (green selects nothing) */
typedef struct fz_eunion {
    uint32_t _d;
    union {
        int16_t s;
        uint64_t u;
    } _u;
} fz_eunion_t;

static const phx_tc_member_t eunion_members[] = {
    {.name = "s", .type = &phx_tc_short,
     .offset = offsetof(fz_eunion_t, _u.s), .label = 0},
    {.name = "u", .type = &phx_tc_ulonglong,
     .offset = offsetof(fz_eunion_t, _u.u), .label = 2},
};

static const phx_typecode_t tc_eunion = {
    .kind = PHX_TK_UNION,
    .repo_id = "IDL:fuzz/ColorU:1.0",
    .name = "ColorU",
    .members = eunion_members,
    .member_count = 2,
    .discriminator = &tc_color,
    .c_size = sizeof(fz_eunion_t),
    .c_align = _Alignof(fz_eunion_t),
    .u_offset = offsetof(fz_eunion_t, _u),
};

/* union BoolU switch (boolean) { case TRUE: float f; case FALSE: char c; } */
typedef struct fz_bunion {
    bool _d;
    union {
        float f;
        char c;
    } _u;
} fz_bunion_t;

static const phx_tc_member_t bunion_members[] = {
    {.name = "f", .type = &phx_tc_float,
     .offset = offsetof(fz_bunion_t, _u.f), .label = 1},
    {.name = "c", .type = &phx_tc_char,
     .offset = offsetof(fz_bunion_t, _u.c), .label = 0},
};

static const phx_typecode_t tc_bunion = {
    .kind = PHX_TK_UNION,
    .repo_id = "IDL:fuzz/BoolU:1.0",
    .name = "BoolU",
    .members = bunion_members,
    .member_count = 2,
    .discriminator = &phx_tc_boolean,
    .c_size = sizeof(fz_bunion_t),
    .c_align = _Alignof(fz_bunion_t),
    .u_offset = offsetof(fz_bunion_t, _u),
};

/* union CharU switch (char) { case 'a': string s; default: octet o; } */
typedef struct fz_cunion {
    char _d;
    union {
        char *s;
        uint8_t o;
    } _u;
} fz_cunion_t;

static const phx_tc_member_t cunion_members[] = {
    {.name = "s", .type = &phx_tc_string,
     .offset = offsetof(fz_cunion_t, _u.s), .label = 'a'},
    {.name = "o", .type = &phx_tc_octet,
     .offset = offsetof(fz_cunion_t, _u.o), .is_default = true},
};

static const phx_typecode_t tc_cunion = {
    .kind = PHX_TK_UNION,
    .repo_id = "IDL:fuzz/CharU:1.0",
    .name = "CharU",
    .members = cunion_members,
    .member_count = 2,
    .discriminator = &phx_tc_char,
    .c_size = sizeof(fz_cunion_t),
    .c_align = _Alignof(fz_cunion_t),
    .u_offset = offsetof(fz_cunion_t, _u),
};

/* union LLU switch (long long) { case -1: any a; default: TypeCode t; } */
typedef struct fz_llunion {
    int64_t _d;
    union {
        phx_any_t a;
        const phx_typecode_t *t;
    } _u;
} fz_llunion_t;

static const phx_tc_member_t llunion_members[] = {
    {.name = "a", .type = &phx_tc_any,
     .offset = offsetof(fz_llunion_t, _u.a), .label = -1},
    {.name = "t", .type = &phx_tc_TypeCode,
     .offset = offsetof(fz_llunion_t, _u.t), .is_default = true},
};

static const phx_typecode_t tc_llunion = {
    .kind = PHX_TK_UNION,
    .repo_id = "IDL:fuzz/LLU:1.0",
    .name = "LLU",
    .members = llunion_members,
    .member_count = 2,
    .discriminator = &phx_tc_longlong,
    .c_size = sizeof(fz_llunion_t),
    .c_align = _Alignof(fz_llunion_t),
    .u_offset = offsetof(fz_llunion_t, _u),
};

static const phx_typecode_t tc_lunion_seq = {.kind = PHX_TK_SEQUENCE,
                                             .content = &tc_lunion};
static const phx_typecode_t tc_prims_arr2 = {
    .kind = PHX_TK_ARRAY, .content = &tc_prims, .length = 2};

/* struct Mixed { constructed members of every kind } */
typedef struct fz_mixed {
    phx_sequence_t names;
    phx_sequence_t unions;
    phx_sequence_t nested;
    phx_sequence_t flags;
    phx_sequence_t colors;
    fz_eunion_t eu;
    fz_bunion_t bu;
    fz_cunion_t cu;
    fz_llunion_t llu;
    phx_any_t any;
    const phx_typecode_t *tc;
    fz_prims_t two[2];
} fz_mixed_t;

static const phx_tc_member_t mixed_members[] = {
    MEMBER(fz_mixed_t, names, &tc_string_seq4),
    MEMBER(fz_mixed_t, unions, &tc_lunion_seq),
    MEMBER(fz_mixed_t, nested, &tc_long_seq_seq),
    MEMBER(fz_mixed_t, flags, &tc_bool_seq),
    MEMBER(fz_mixed_t, colors, &tc_color_seq),
    MEMBER(fz_mixed_t, eu, &tc_eunion),
    MEMBER(fz_mixed_t, bu, &tc_bunion),
    MEMBER(fz_mixed_t, cu, &tc_cunion),
    MEMBER(fz_mixed_t, llu, &tc_llunion),
    MEMBER(fz_mixed_t, any, &phx_tc_any),
    MEMBER(fz_mixed_t, tc, &phx_tc_TypeCode),
    MEMBER(fz_mixed_t, two, &tc_prims_arr2),
};

static const phx_typecode_t tc_mixed = {
    .kind = PHX_TK_STRUCT,
    .repo_id = "IDL:fuzz/Mixed:1.0",
    .name = "Mixed",
    .members = mixed_members,
    .member_count = sizeof mixed_members / sizeof mixed_members[0],
    .c_size = sizeof(fz_mixed_t),
    .c_align = _Alignof(fz_mixed_t),
};

/* Echo::fail's arguments as a struct, and Echo::Failed, whose members a
 * user exception body carries after its repository id. */
typedef struct fz_failed {
    int32_t code;
    char *why;
} fz_failed_t;

static const phx_tc_member_t failed_members[] = {
    MEMBER(fz_failed_t, code, &phx_tc_long),
    MEMBER(fz_failed_t, why, &phx_tc_string),
};

static const phx_typecode_t tc_fail_args = {
    .kind = PHX_TK_STRUCT,
    .repo_id = "IDL:fuzz/FailArgs:1.0",
    .name = "FailArgs",
    .members = failed_members,
    .member_count = 2,
    .c_size = sizeof(fz_failed_t),
    .c_align = _Alignof(fz_failed_t),
};

static const phx_typecode_t tc_failed = {
    .kind = PHX_TK_EXCEPT,
    .repo_id = "IDL:phalanx/Echo/Failed:1.0",
    .name = "Failed",
    .members = failed_members,
    .member_count = 2,
    .c_size = sizeof(fz_failed_t),
    .c_align = _Alignof(fz_failed_t),
};

/* The shapes a body is tried as. */
static const phx_typecode_t *const shapes[] = {
    &phx_tc_long,   &phx_tc_string, &tc_octet_seq, &tc_fail_args,
    &tc_failed,     &tc_prims,      &tc_mixed,     &tc_lunion,
    &tc_llunion,    &phx_tc_any,    &phx_tc_TypeCode,
    /* Kinds the engine refuses: must fail cleanly. */
    &phx_tc_Object, &phx_tc_wchar,  &phx_tc_longdouble,
};

/* Storage big enough and aligned enough for any shape's C value. */
typedef union fz_storage {
    fz_prims_t prims;
    fz_mixed_t mixed;
    fz_lunion_t lu;
    fz_llunion_t llu;
    fz_failed_t failed;
    phx_any_t any;
    phx_sequence_t seq;
    long double ld;
    void *p;
} fz_storage_t;

/* ------------------------------------------------------------------ */
/* Values and TypeCodes                                                 */
/* ------------------------------------------------------------------ */

/* Decode a value of type tc from a copy of r0; whatever decodes must
 * re-encode, decode to an equal value, and copy to an equal value. */
static void try_value(const phx_cdr_reader_t *r0, const phx_typecode_t *tc)
{
    phx_cdr_reader_t r = *r0;
    fz_storage_t v, v2, v3;

    CHECK(phx_typecode_c_size(tc) <= sizeof v);
    if (phx_cdr_get_value(&r, tc, &v) != PHX_OK) {
        phx_value_free(tc, &v);
        return;
    }
    CHECK(r.pos <= r.len);

    phx_cdr_writer_t w;
    phx_cdr_writer_init(&w, 0);
    CHECK(phx_cdr_put_value(&w, tc, &v) == PHX_OK);
    phx_cdr_reader_t r2;
    phx_cdr_reader_init(&r2, phx_cdr_writer_data(&w), phx_cdr_writer_len(&w),
                        PHX_CDR_NATIVE);
    CHECK(phx_cdr_get_value(&r2, tc, &v2) == PHX_OK);
    CHECK(phx_cdr_reader_remaining(&r2) == 0);
    CHECK(phx_value_equal(tc, &v, &v2));
    phx_value_free(tc, &v2);
    phx_cdr_writer_fini(&w);

    if (phx_value_copy(tc, &v3, &v) == PHX_OK) {
        CHECK(phx_value_equal(tc, &v, &v3));
        phx_value_free(tc, &v3);
    }
    phx_value_free(tc, &v);
}

static void try_shapes(const phx_cdr_reader_t *r0)
{
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        try_value(r0, shapes[i]);
}

/* Decode a TypeCode; a decoded one must re-encode to an equal one. */
static void try_typecode(const phx_cdr_reader_t *r0)
{
    phx_cdr_reader_t r = *r0;
    const phx_typecode_t *tc, *tc2;

    if (phx_cdr_get_typecode(&r, &tc) != PHX_OK) {
        CHECK(tc == NULL);
        return;
    }
    CHECK(tc != NULL);
    (void)phx_typecode_c_size(tc);
    (void)phx_typecode_c_align(tc);
    (void)phx_typecode_unalias(tc);
    (void)phx__tc_min_wire_size(tc);

    phx_cdr_writer_t w;
    phx_cdr_writer_init(&w, 0);
    CHECK(phx_cdr_put_typecode(&w, tc) == PHX_OK);
    phx_cdr_reader_t r2;
    phx_cdr_reader_init(&r2, phx_cdr_writer_data(&w), phx_cdr_writer_len(&w),
                        PHX_CDR_NATIVE);
    CHECK(phx_cdr_get_typecode(&r2, &tc2) == PHX_OK);
    CHECK(phx_cdr_reader_remaining(&r2) == 0);
    CHECK(phx_typecode_equal(tc, tc2));
    phx_typecode_free(tc2);
    phx_cdr_writer_fini(&w);

    const phx_typecode_t *ref = phx_typecode_ref(tc);
    phx_typecode_free(ref);
    phx_typecode_free(tc);
}

/* ------------------------------------------------------------------ */
/* IORs, profiles, components                                           */
/* ------------------------------------------------------------------ */

static bool bytes_eq(const void *a, size_t an, const void *b, size_t bn)
{
    return an == bn && (an == 0 || memcmp(a, b, an) == 0);
}

static bool str_eq(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

static bool ior_eq(const phx_ior_t *a, const phx_ior_t *b)
{
    if (!str_eq(a->type_id, b->type_id) ||
        a->profile_count != b->profile_count)
        return false;
    for (uint32_t i = 0; i < a->profile_count; i++) {
        const phx_tagged_profile_t *p = &a->profiles[i], *q = &b->profiles[i];
        if (p->tag != q->tag || !bytes_eq(p->data, p->len, q->data, q->len))
            return false;
    }
    return true;
}

static bool profile_eq(const phx_profile_t *a, const phx_profile_t *b)
{
    if (a->tag != b->tag || a->major != b->major || a->minor != b->minor ||
        a->port != b->port || !str_eq(a->host, b->host) ||
        !str_eq(a->endpoint, b->endpoint) ||
        !bytes_eq(a->key, a->key_len, b->key, b->key_len) ||
        a->component_count != b->component_count)
        return false;
    for (uint32_t i = 0; i < a->component_count; i++) {
        const phx_tagged_component_t *c = &a->components[i];
        const phx_tagged_component_t *d = &b->components[i];
        if (c->tag != d->tag || !bytes_eq(c->data, c->len, d->data, d->len))
            return false;
    }
    return true;
}

/* The FT and boolean components, whatever tag they come under. */
static void try_component(const phx_tagged_component_t *c)
{
    phx_error_t err;
    phx_ft_group_t g, g2;
    bool b;

    phx_tagged_component_t copy;
    if (phx_tagged_component_copy(&copy, c) == PHX_OK) {
        CHECK(copy.tag == c->tag &&
              bytes_eq(copy.data, copy.len, c->data, c->len));
        phx_tagged_component_fini(&copy);
    }

    phx_tagged_component_t as_group = *c;
    as_group.tag = PHX_TAG_FT_GROUP;
    if (phx_ft_group_decode(&as_group, &g, &err) == PHX_OK) {
        phx_tagged_component_t enc;
        CHECK(phx_ft_group_encode(&g, &enc) == PHX_OK);
        CHECK(phx_ft_group_decode(&enc, &g2, &err) == PHX_OK);
        CHECK(g.major == g2.major && g.minor == g2.minor &&
              str_eq(g.ft_domain_id, g2.ft_domain_id) &&
              g.object_group_id == g2.object_group_id &&
              g.object_group_ref_version == g2.object_group_ref_version);
        phx_ft_group_fini(&g2);
        phx_tagged_component_fini(&enc);
    }
    phx_ft_group_fini(&g);

    phx_tagged_component_t as_primary = *c;
    as_primary.tag = PHX_TAG_FT_PRIMARY;
    if (phx_ft_primary_decode(&as_primary, &b, &err) == PHX_OK) {
        phx_tagged_component_t enc;
        bool b2;
        CHECK(phx_ft_primary_encode(b, &enc) == PHX_OK);
        CHECK(phx_ft_primary_decode(&enc, &b2, &err) == PHX_OK && b == b2);
        phx_tagged_component_fini(&enc);
    }
    (void)phx_component_decode_bool(c, &b, &err);
}

/* A decoded profile must encode and decode back to itself, and its key
 * must be what peek_key finds. */
static void try_profile(const phx_tagged_profile_t *tp)
{
    phx_profile_t p, p2;
    phx_error_t err;
    const uint8_t *key;
    size_t key_len;

    int peek = phx_profile_peek_key(tp->tag, tp->data, tp->len, &key,
                                    &key_len, &err);
    if (phx_profile_decode(tp, &p, &err) != PHX_OK)
        return;
    if (p.tag != PHX_TAG_MULTIPLE_COMPONENTS) {
        CHECK(peek == PHX_OK);
        CHECK(bytes_eq(key, key_len, p.key, p.key_len));
    }
    for (uint32_t i = 0; i < p.component_count; i++)
        try_component(&p.components[i]);
    (void)phx_profile_find_component(&p, PHX_TAG_FT_GROUP);
    (void)phx_profile_find_component(&p, PHX_TAG_FT_PRIMARY);

    phx_tagged_profile_t enc;
    CHECK(phx_profile_encode(&p, &enc) == PHX_OK);
    CHECK(phx_profile_decode(&enc, &p2, &err) == PHX_OK);
    CHECK(profile_eq(&p, &p2));
    phx_profile_fini(&p2);
    phx_tagged_profile_fini(&enc);
    phx_profile_fini(&p);
}

/* Everything that can be done with an IOR, and its round trips through
 * CDR, "IOR:" strings and corbaloc URLs. */
static void try_ior(const phx_ior_t *ior)
{
    phx_error_t err;

    (void)phx_ior_is_nil(ior);
    for (uint32_t i = 0; i < ior->profile_count; i++)
        try_profile(&ior->profiles[i]);

    phx_ior_t copy;
    if (phx_ior_copy(&copy, ior) == PHX_OK)
        CHECK(ior_eq(ior, &copy));
    phx_ior_fini(&copy);

    phx_cdr_writer_t w;
    phx_cdr_writer_init(&w, 0);
    CHECK(phx_ior_write(&w, ior) == PHX_OK);
    phx_ior_t back;
    CHECK(phx_ior_read_raw(phx_cdr_writer_data(&w), phx_cdr_writer_len(&w),
                           PHX_CDR_NATIVE, &back, &err) == PHX_OK);
    CHECK(ior_eq(ior, &back));
    phx_ior_fini(&back);
    phx_cdr_writer_fini(&w);

    char *s, *s2;
    CHECK(phx_ior_to_string(ior, &s) == PHX_OK);
    CHECK(phx_ior_from_string(s, &back, &err) == PHX_OK);
    CHECK(ior_eq(ior, &back));
    CHECK(phx_ior_to_string(&back, &s2) == PHX_OK);
    CHECK(strcmp(s, s2) == 0);
    free(s2);
    phx_ior_fini(&back);
    free(s);

    /* A corbaloc URL drops the type id and components, and normalizes
     * some spellings: printing what it parses to gives it back. */
    if (phx_ior_to_corbaloc(ior, &s) == PHX_OK &&
        strlen(s) <= PHX_CORBALOC_MAX) {
        CHECK(phx_ior_from_string(s, &back, &err) == PHX_OK);
        CHECK(back.profile_count == ior->profile_count);
        CHECK(phx_ior_to_corbaloc(&back, &s2) == PHX_OK);
        CHECK(strcmp(s, s2) == 0);
        free(s2);
        phx_ior_fini(&back);
    }
    free(s);
}

/* An IOR read from r (as in a LOCATION_FORWARD body). */
static void try_ior_at(const phx_cdr_reader_t *r0)
{
    phx_cdr_reader_t r = *r0;
    phx_ior_t ior;
    phx_error_t err;

    if (phx_ior_read(&r, &ior, &err) == PHX_OK)
        try_ior(&ior);
    phx_ior_fini(&ior);
}

/* A stringified reference. */
static void try_string(const char *s)
{
    phx_ior_t ior;
    phx_error_t err;

    if (phx_ior_from_string(s, &ior, &err) == PHX_OK)
        try_ior(&ior);
    phx_ior_fini(&ior);
    if (phx_corbaloc_parse(s, &ior, &err) == PHX_OK)
        try_ior(&ior);
    phx_ior_fini(&ior);
}

/* ------------------------------------------------------------------ */
/* GIOP messages                                                        */
/* ------------------------------------------------------------------ */

static bool target_eq(const phx_giop_target_t *a, const phx_giop_target_t *b)
{
    if (a->kind != b->kind)
        return false;
    switch (a->kind) {
    case PHX_GIOP_KEY_ADDR:
        return bytes_eq(a->key, a->key_len, b->key, b->key_len);
    case PHX_GIOP_PROFILE_ADDR:
        return a->profile_tag == b->profile_tag &&
               bytes_eq(a->profile_data, a->profile_len, b->profile_data,
                        b->profile_len);
    default:
        return a->selected_profile_index == b->selected_profile_index &&
               a->ior_byte_order == b->ior_byte_order &&
               bytes_eq(a->ior, a->ior_len, b->ior, b->ior_len);
    }
}

static bool contexts_eq(const phx_giop_sc_list_t *a,
                        const phx_giop_sc_list_t *b)
{
    if (a->count != b->count)
        return false;
    for (uint32_t i = 0; i < a->count; i++)
        if (a->items[i].id != b->items[i].id ||
            !bytes_eq(a->items[i].data, a->items[i].len, b->items[i].data,
                      b->items[i].len))
            return false;
    return true;
}

/* Service contexts a Phalanx server or client looks into. */
static void try_contexts(const phx_giop_sc_list_t *l)
{
    for (uint32_t i = 0; i < l->count; i++) {
        const phx_service_context_t *c = &l->items[i];
        CHECK(phx_giop_sc_find(l, c->id) != NULL);
        phx_cdr_reader_t r;
        if (phx_cdr_reader_init_encap(&r, c->data, c->len) != PHX_OK)
            continue;
        phx_cdr_reader_t r2 = r;
        const char *client;
        size_t n;
        int32_t retention;
        uint64_t expiration;
        uint32_t version, cs1, cs2;
        /* FT_REQUEST: client_id, retention_id, expiration_time. */
        phx_cdr_get_string(&r, &client, &n);
        phx_cdr_get_long(&r, &retention);
        phx_cdr_get_ulonglong(&r, &expiration);
        /* FT_GROUP_VERSION: one ulong; CODE_SETS: two. */
        r = r2;
        phx_cdr_get_ulong(&r, &version);
        phx_cdr_get_ulong(&r, &cs1);
        phx_cdr_get_ulong(&r, &cs2);
    }
}

/* What a server does with a TargetAddress. */
static void try_target(const phx_giop_target_t *t)
{
    phx_error_t err;
    const uint8_t *key;
    size_t key_len;

    switch (t->kind) {
    case PHX_GIOP_KEY_ADDR:
        CHECK(t->key_len == 0 || t->key != NULL);
        break;
    case PHX_GIOP_PROFILE_ADDR: {
        phx_tagged_profile_t tp = {.tag = t->profile_tag,
                                   .data = (uint8_t *)t->profile_data,
                                   .len = t->profile_len};
        (void)phx_profile_peek_key(t->profile_tag, t->profile_data,
                                   t->profile_len, &key, &key_len, &err);
        try_profile(&tp);
        break;
    }
    case PHX_GIOP_REFERENCE_ADDR: {
        phx_ior_t ior;
        if (phx_ior_read_raw(t->ior, t->ior_len, t->ior_byte_order, &ior,
                             &err) == PHX_OK) {
            if (t->selected_profile_index < ior.profile_count) {
                const phx_tagged_profile_t *p =
                    &ior.profiles[t->selected_profile_index];
                (void)phx_profile_peek_key(p->tag, p->data, p->len, &key,
                                           &key_len, &err);
            }
            try_ior(&ior);
        }
        phx_ior_fini(&ior);
        break;
    }
    default:
        CHECK(0);
    }
}

/* Parse the message written in w and return a reader after its header. */
static void reparse(const phx_cdr_writer_t *w, phx_cdr_reader_t *r,
                    uint8_t type)
{
    phx_giop_header_t h;
    phx_error_t err;

    CHECK(phx_cdr_writer_status(w) == PHX_OK);
    CHECK(phx_giop_parse_header(phx_cdr_writer_data(w),
                                phx_cdr_writer_len(w), &h, &err) == PHX_OK);
    CHECK(h.type == type);
    phx_giop_reader_init(r, phx_cdr_writer_data(w), phx_cdr_writer_len(w),
                         &h);
}

static void on_request(const phx_cdr_reader_t *r0)
{
    phx_cdr_reader_t r = *r0;
    phx_giop_request_t req;
    phx_error_t err;

    if (phx_giop_read_request(&r, &req, &err) != PHX_OK) {
        phx_giop_request_fini(&req);
        return;
    }
    CHECK(req.operation != NULL &&
          strlen(req.operation) == req.operation_len);
    CHECK(phx_cdr_reader_remaining(&r) == 0 || r.pos % 8 == 0);
    try_target(&req.target);
    try_contexts(&req.contexts);
    try_shapes(&r);
    try_typecode(&r);

    /* Write the same header again; it must read back the same.  A raw
     * ReferenceAddr IOR can only be written in the native byte order. */
    if (req.target.kind != PHX_GIOP_REFERENCE_ADDR ||
        req.target.ior_byte_order == PHX_CDR_NATIVE) {
        phx_cdr_writer_t w;
        phx_cdr_reader_t r2;
        phx_giop_request_t again;
        phx_cdr_writer_init(&w, 0);
        req.no_body = phx_cdr_reader_remaining(&r) == 0;
        CHECK(phx_giop_write_request(&w, &req) == PHX_OK);
        phx_cdr_put_raw(&w, r.buf + r.pos, phx_cdr_reader_remaining(&r));
        CHECK(phx_giop_finish(&w) == PHX_OK);
        reparse(&w, &r2, PHX_GIOP_REQUEST);
        CHECK(phx_giop_read_request(&r2, &again, &err) == PHX_OK);
        CHECK(again.request_id == req.request_id &&
              again.response_flags == req.response_flags &&
              target_eq(&again.target, &req.target) &&
              again.operation_len == req.operation_len &&
              strcmp(again.operation, req.operation) == 0 &&
              contexts_eq(&again.contexts, &req.contexts));
        CHECK(phx_cdr_reader_remaining(&r2) == phx_cdr_reader_remaining(&r));
        phx_giop_request_fini(&again);
        phx_cdr_writer_fini(&w);
    }
    phx_giop_request_fini(&req);
}

/* A system exception body; a decoded one must encode back. */
static void try_sysex(const phx_cdr_reader_t *r0)
{
    phx_cdr_reader_t r = *r0;
    phx_giop_sysex_t sx, sx2;
    phx_error_t err;

    if (phx_giop_read_sysex(&r, &sx, &err) != PHX_OK)
        return;
    CHECK(strlen(sx.repo_id) == sx.repo_id_len);
    phx_cdr_writer_t w;
    phx_cdr_writer_init(&w, 0);
    CHECK(phx_giop_write_sysex(&w, sx.repo_id, sx.minor, sx.completed) ==
          PHX_OK);
    phx_cdr_reader_t r2;
    phx_cdr_reader_init(&r2, phx_cdr_writer_data(&w), phx_cdr_writer_len(&w),
                        PHX_CDR_NATIVE);
    CHECK(phx_giop_read_sysex(&r2, &sx2, &err) == PHX_OK);
    CHECK(strcmp(sx.repo_id, sx2.repo_id) == 0 && sx.minor == sx2.minor &&
          sx.completed == sx2.completed);
    phx_cdr_writer_fini(&w);
}

/* The bodies a client may find after a Reply or LocateReply header. */
static void try_reply_body(const phx_cdr_reader_t *r0)
{
    phx_cdr_reader_t r = *r0;
    const char *id;
    size_t n;
    int16_t mode;

    try_sysex(r0);
    try_ior_at(r0);
    phx_cdr_get_short(&r, &mode); /* NEEDS_ADDRESSING_MODE */
    try_shapes(r0);
    try_typecode(r0);
    /* USER_EXCEPTION: the repository id, then the exception's members. */
    r = *r0;
    if (phx_cdr_get_string(&r, &id, &n) == PHX_OK)
        try_value(&r, &tc_failed);
}

static void on_reply(const phx_cdr_reader_t *r0)
{
    phx_cdr_reader_t r = *r0;
    phx_giop_reply_t rep, again;
    phx_error_t err;

    if (phx_giop_read_reply(&r, &rep, &err) != PHX_OK) {
        phx_giop_reply_fini(&rep);
        return;
    }
    CHECK(rep.reply_status <= PHX_GIOP_NEEDS_ADDRESSING_MODE);
    (void)phx_giop_reply_status_name(rep.reply_status);
    try_contexts(&rep.contexts);
    try_reply_body(&r);

    phx_cdr_writer_t w;
    phx_cdr_reader_t r2;
    phx_cdr_writer_init(&w, 0);
    rep.no_body = phx_cdr_reader_remaining(&r) == 0;
    CHECK(phx_giop_write_reply(&w, &rep) == PHX_OK);
    phx_cdr_put_raw(&w, r.buf + r.pos, phx_cdr_reader_remaining(&r));
    CHECK(phx_giop_finish(&w) == PHX_OK);
    reparse(&w, &r2, PHX_GIOP_REPLY);
    CHECK(phx_giop_read_reply(&r2, &again, &err) == PHX_OK);
    CHECK(again.request_id == rep.request_id &&
          again.reply_status == rep.reply_status &&
          contexts_eq(&again.contexts, &rep.contexts));
    CHECK(phx_cdr_reader_remaining(&r2) == phx_cdr_reader_remaining(&r));
    phx_giop_reply_fini(&again);
    phx_cdr_writer_fini(&w);
    phx_giop_reply_fini(&rep);
}

static void on_cancel(const phx_cdr_reader_t *r0)
{
    phx_cdr_reader_t r = *r0, r2;
    phx_error_t err;
    uint32_t id, id2;

    if (phx_giop_read_cancel(&r, &id, &err) != PHX_OK)
        return;
    phx_cdr_writer_t w;
    phx_cdr_writer_init(&w, 0);
    CHECK(phx_giop_write_cancel(&w, id) == PHX_OK);
    reparse(&w, &r2, PHX_GIOP_CANCEL_REQUEST);
    CHECK(phx_giop_read_cancel(&r2, &id2, &err) == PHX_OK && id == id2);
    phx_cdr_writer_fini(&w);
}

static void on_locate_request(const phx_cdr_reader_t *r0)
{
    phx_cdr_reader_t r = *r0, r2;
    phx_giop_locate_request_t lr, again;
    phx_error_t err;

    if (phx_giop_read_locate_request(&r, &lr, &err) != PHX_OK)
        return;
    try_target(&lr.target);
    if (lr.target.kind == PHX_GIOP_REFERENCE_ADDR &&
        lr.target.ior_byte_order != PHX_CDR_NATIVE)
        return;
    phx_cdr_writer_t w;
    phx_cdr_writer_init(&w, 0);
    CHECK(phx_giop_write_locate_request(&w, &lr) == PHX_OK);
    reparse(&w, &r2, PHX_GIOP_LOCATE_REQUEST);
    CHECK(phx_giop_read_locate_request(&r2, &again, &err) == PHX_OK);
    CHECK(again.request_id == lr.request_id &&
          target_eq(&again.target, &lr.target));
    phx_cdr_writer_fini(&w);
}

static void on_locate_reply(const phx_cdr_reader_t *r0)
{
    phx_cdr_reader_t r = *r0, r2;
    phx_giop_locate_reply_t lr, again;
    phx_error_t err;

    if (phx_giop_read_locate_reply(&r, &lr, &err) != PHX_OK)
        return;
    (void)phx_giop_locate_status_name(lr.locate_status);
    try_reply_body(&r);
    phx_cdr_writer_t w;
    phx_cdr_writer_init(&w, 0);
    CHECK(phx_giop_write_locate_reply(&w, &lr) == PHX_OK);
    reparse(&w, &r2, PHX_GIOP_LOCATE_REPLY);
    CHECK(phx_giop_read_locate_reply(&r2, &again, &err) == PHX_OK);
    CHECK(again.request_id == lr.request_id &&
          again.locate_status == lr.locate_status);
    phx_cdr_writer_fini(&w);
}

/* One frame as the server and the client ORBs see it. */
static void on_frame(const uint8_t *data, size_t size)
{
    phx_giop_header_t h, h2;
    phx_error_t err;
    phx_cdr_reader_t r;

    (void)phx_giop_msg_type_name(size > 7 ? data[7] : 0);
    int rc = phx_giop_parse_header(data, size, &h, &err);
    if (size >= PHX_GIOP_HEADER_SIZE) {
        /* The stream transports' check agrees with the frame one except
         * about the size field. */
        int rc2 = phx_giop_decode_header(data, &h2, &err);
        CHECK(rc2 == rc || (rc2 == PHX_OK && rc == PHX_EPROTO));
    } else {
        CHECK(rc == PHX_EMARSHAL);
    }
    if (rc != PHX_OK)
        return;
    CHECK((size_t)h.size + PHX_GIOP_HEADER_SIZE == size);
    phx_giop_reader_init(&r, data, size, &h);
    switch (h.type) {
    case PHX_GIOP_REQUEST:
        on_request(&r);
        break;
    case PHX_GIOP_REPLY:
        on_reply(&r);
        break;
    case PHX_GIOP_CANCEL_REQUEST:
        on_cancel(&r);
        break;
    case PHX_GIOP_LOCATE_REQUEST:
        on_locate_request(&r);
        break;
    case PHX_GIOP_LOCATE_REPLY:
        on_locate_reply(&r);
        break;
    case PHX_GIOP_CLOSE_CONNECTION:
    case PHX_GIOP_MESSAGE_ERROR:
        break;
    default:
        CHECK(0); /* parse_header refuses the other types */
    }
}

/* ------------------------------------------------------------------ */
/* Bare CDR and encapsulations                                          */
/* ------------------------------------------------------------------ */

static void on_cdr(const uint8_t *data, size_t size, int byte_order)
{
    phx_cdr_reader_t r;
    phx_ior_t ior;
    phx_error_t err;

    phx_cdr_reader_init(&r, data, size, byte_order);
    try_typecode(&r);
    try_shapes(&r);
    try_ior_at(&r);
    if (phx_ior_read_raw(data, size, byte_order, &ior, &err) == PHX_OK)
        try_ior(&ior);
    phx_ior_fini(&ior);
}

/* The input as an encapsulation: a profile body or a component body. */
static void on_encap(const uint8_t *data, size_t size)
{
    static const uint32_t tags[] = {PHX_TAG_INTERNET_IOP, PHX_TAG_ZMQ_IOP,
                                    PHX_TAG_MULTIPLE_COMPONENTS};
    phx_cdr_reader_t r;

    for (size_t i = 0; i < sizeof tags / sizeof tags[0]; i++) {
        phx_tagged_profile_t tp = {.tag = tags[i], .data = (uint8_t *)data,
                                   .len = (uint32_t)size};
        try_profile(&tp);
    }
    phx_tagged_component_t c = {.tag = PHX_TAG_FT_GROUP,
                                .data = (uint8_t *)data,
                                .len = (uint32_t)size};
    try_component(&c);
    if (phx_cdr_reader_init_encap(&r, data, size) == PHX_OK) {
        try_typecode(&r);
        try_shapes(&r);
    }
}

/* ------------------------------------------------------------------ */
/* Entry point                                                          */
/* ------------------------------------------------------------------ */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Lengths on the wire are 32-bit: a larger frame is refused by the
     * transport before any decoder sees it. */
    if (size > UINT32_MAX)
        return 0;

    /* Own copies, so that reads past the input are caught exactly (the
     * buffer is no larger than the input) even when data is shared. */
    uint8_t *msg = calloc(size ? size : 1, 1);
    if (msg == NULL)
        return 0;
    if (size)
        memcpy(msg, data, size);

    on_frame(msg, size);

    /* The same frame in the other byte order: flip the flag and swap
     * the size field so that the header still matches the frame. */
    if (size >= PHX_GIOP_HEADER_SIZE && memcmp(msg, "GIOP", 4) == 0) {
        uint8_t t;
        msg[6] ^= PHX_GIOP_FLAG_LITTLE_ENDIAN;
        t = msg[8], msg[8] = msg[11], msg[11] = t;
        t = msg[9], msg[9] = msg[10], msg[10] = t;
        on_frame(msg, size);
        memcpy(msg, data, size);
    }

    on_cdr(msg, size, PHX_CDR_BIG_ENDIAN);
    on_cdr(msg, size, PHX_CDR_LITTLE_ENDIAN);
    on_encap(msg, size);
    free(msg);

    char *s = malloc(size + 1);
    if (s == NULL)
        return 0;
    if (size)
        memcpy(s, data, size);
    s[size] = '\0';
    try_string(s);
    free(s);
    return 0;
}
