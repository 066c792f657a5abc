/*
 * test_typecode.c - unit tests of TypeCodes and the marshaling engine
 * (orb/cdr/typecode.c, orb/cdr/value.c).
 */
#include <stdalign.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>

#include <phx/typecode.h>

/* ------------------------------------------------------------------ */
/* Types as the IDL compiler would emit them                            */
/* ------------------------------------------------------------------ */

/* enum Color { RED, GREEN, BLUE }; */
static const char *const Color_names[] = {"RED", "GREEN", "BLUE"};
static const phx_typecode_t Color_tc = {
    .kind = PHX_TK_ENUM, .repo_id = "IDL:T/Color:1.0", .name = "Color",
    .enumerators = Color_names, .member_count = 3,
    .c_size = sizeof(uint32_t), .c_align = _Alignof(uint32_t)};

/* struct Inner { long a; string s; }; */
typedef struct Inner {
    int32_t a;
    char *s;
} Inner;
static const phx_tc_member_t Inner_members[] = {
    {"a", &phx_tc_long, offsetof(Inner, a), 0, false},
    {"s", &phx_tc_string, offsetof(Inner, s), 0, false},
};
static const phx_typecode_t Inner_tc = {
    .kind = PHX_TK_STRUCT, .repo_id = "IDL:T/Inner:1.0", .name = "Inner",
    .members = Inner_members, .member_count = 2, .c_size = sizeof(Inner),
    .c_align = _Alignof(Inner)};

/* union U switch (short) { case 1: long l; case 2: case 3: string s;
 *                          default: double d; }; */
typedef struct U {
    int16_t _d;
    union {
        int32_t l;
        char *s;
        double d;
    } _u;
} U;
static const phx_tc_member_t U_members[] = {
    {"l", &phx_tc_long, offsetof(U, _u.l), 1, false},
    {"s", &phx_tc_string, offsetof(U, _u.s), 2, false},
    {"s", &phx_tc_string, offsetof(U, _u.s), 3, false},
    {"d", &phx_tc_double, offsetof(U, _u.d), 0, true},
};
static const phx_typecode_t U_tc = {
    .kind = PHX_TK_UNION, .repo_id = "IDL:T/U:1.0", .name = "U",
    .discriminator = &phx_tc_short, .members = U_members, .member_count = 4,
    .c_size = sizeof(U), .c_align = _Alignof(U), .u_offset = offsetof(U, _u)};

static const phx_typecode_t seq_long_tc = {.kind = PHX_TK_SEQUENCE,
                                           .content = &phx_tc_long};
static const phx_typecode_t seq_Inner_tc = {.kind = PHX_TK_SEQUENCE,
                                            .content = &Inner_tc};
static const phx_typecode_t seq_seq_Inner_tc = {.kind = PHX_TK_SEQUENCE,
                                                .content = &seq_Inner_tc};
static const phx_typecode_t seq_bool_tc = {.kind = PHX_TK_SEQUENCE,
                                           .content = &phx_tc_boolean};
static const phx_typecode_t seq_Color_tc = {.kind = PHX_TK_SEQUENCE,
                                            .content = &Color_tc};
static const phx_typecode_t bstr8_tc = {.kind = PHX_TK_STRING, .length = 8};
static const phx_typecode_t bseq3_tc = {.kind = PHX_TK_SEQUENCE,
                                        .content = &phx_tc_long, .length = 3};
static const phx_typecode_t short3_tc = {
    .kind = PHX_TK_ARRAY, .content = &phx_tc_short, .length = 3};
static const phx_typecode_t short23_tc = {.kind = PHX_TK_ARRAY,
                                          .content = &short3_tc, .length = 2};
static const phx_typecode_t ll4_tc = {
    .kind = PHX_TK_ARRAY, .content = &phx_tc_longlong, .length = 4};
static const phx_typecode_t ll34_tc = {.kind = PHX_TK_ARRAY,
                                       .content = &ll4_tc, .length = 3};
static const phx_typecode_t ll234_tc = {.kind = PHX_TK_ARRAY,
                                        .content = &ll34_tc, .length = 2};
static const phx_typecode_t Inner2_tc = {.kind = PHX_TK_ARRAY,
                                         .content = &Inner_tc, .length = 2};
static const phx_typecode_t MyLong_tc = {
    .kind = PHX_TK_ALIAS, .repo_id = "IDL:T/MyLong:1.0", .name = "MyLong",
    .content = &phx_tc_long};

/* A struct holding every kind. */
typedef struct All {
    int16_t s;
    int32_t l;
    int64_t ll;
    uint16_t us;
    uint32_t ul;
    uint64_t ull;
    float f;
    double d;
    bool b;
    char c;
    uint8_t o;
    char *str;
    char *bstr;
    phx_sequence_t seq_long;
    phx_sequence_t seq_inner;
    phx_sequence_t seq_seq_inner;
    int16_t arr[2][3];
    Inner inners[2];
    uint32_t color;
    U u;
    phx_any_t any;
    const phx_typecode_t *tc;
    phx_sequence_t bools;
    phx_sequence_t colors;
    int32_t ml;
    int64_t cube[2][3][4];
} All;

#define M(n, t) {#n, t, offsetof(All, n), 0, false}
static const phx_tc_member_t All_members[] = {
    M(s, &phx_tc_short),
    M(l, &phx_tc_long),
    M(ll, &phx_tc_longlong),
    M(us, &phx_tc_ushort),
    M(ul, &phx_tc_ulong),
    M(ull, &phx_tc_ulonglong),
    M(f, &phx_tc_float),
    M(d, &phx_tc_double),
    M(b, &phx_tc_boolean),
    M(c, &phx_tc_char),
    M(o, &phx_tc_octet),
    M(str, &phx_tc_string),
    M(bstr, &bstr8_tc),
    M(seq_long, &seq_long_tc),
    M(seq_inner, &seq_Inner_tc),
    M(seq_seq_inner, &seq_seq_Inner_tc),
    M(arr, &short23_tc),
    M(inners, &Inner2_tc),
    M(color, &Color_tc),
    M(u, &U_tc),
    M(any, &phx_tc_any),
    M(tc, &phx_tc_TypeCode),
    M(bools, &seq_bool_tc),
    M(colors, &seq_Color_tc),
    M(ml, &MyLong_tc),
    M(cube, &ll234_tc),
};
#undef M
static const phx_typecode_t All_tc = {
    .kind = PHX_TK_STRUCT, .repo_id = "IDL:T/All:1.0", .name = "All",
    .members = All_members,
    .member_count = sizeof All_members / sizeof All_members[0],
    .c_size = sizeof(All), .c_align = _Alignof(All)};

/* exception Oops { long code; string why; }; */
typedef struct Oops {
    int32_t code;
    char *why;
} Oops;
static const phx_tc_member_t Oops_members[] = {
    {"code", &phx_tc_long, offsetof(Oops, code), 0, false},
    {"why", &phx_tc_string, offsetof(Oops, why), 0, false},
};
static const phx_typecode_t Oops_tc = {
    .kind = PHX_TK_EXCEPT, .repo_id = "IDL:T/Oops:1.0", .name = "Oops",
    .members = Oops_members, .member_count = 2, .c_size = sizeof(Oops),
    .c_align = _Alignof(Oops)};

/* struct Node { long v; sequence<Node> kids; }; (recursive) */
typedef struct Node {
    int32_t v;
    phx_sequence_t kids;
} Node;
extern const phx_typecode_t Node_tc;
static const phx_typecode_t seq_Node_tc = {.kind = PHX_TK_SEQUENCE,
                                           .content = &Node_tc};
static const phx_tc_member_t Node_members[] = {
    {"v", &phx_tc_long, offsetof(Node, v), 0, false},
    {"kids", &seq_Node_tc, offsetof(Node, kids), 0, false},
};
const phx_typecode_t Node_tc = {
    .kind = PHX_TK_STRUCT, .repo_id = "IDL:T/Node:1.0", .name = "Node",
    .members = Node_members, .member_count = 2, .c_size = sizeof(Node),
    .c_align = _Alignof(Node)};

/* ------------------------------------------------------------------ */
/* Helpers                                                              */
/* ------------------------------------------------------------------ */

static phx_sequence_t seq_of(void *buf, uint32_t n)
{
    phx_sequence_t s = {n, n, buf, false};
    return s;
}

static int32_t g_longs[] = {1, -2, 3, INT32_MAX};
static Inner g_inners[] = {{10, "ten"}, {-20, ""}, {30, NULL}};
static phx_sequence_t g_inner_seqs[2];
static bool g_bools[] = {true, false, true};
static uint32_t g_colors[] = {2, 0, 1, 1};
static Inner g_any_inner = {77, "in an any"};

static void fill_all(All *a)
{
    memset(a, 0, sizeof *a);
    a->s = -12345;
    a->l = INT32_MIN;
    a->ll = INT64_MIN + 1;
    a->us = 65000;
    a->ul = 4000000000u;
    a->ull = UINT64_MAX - 1;
    a->f = 3.5f;
    a->d = -1.0 / 3.0;
    a->b = true;
    a->c = 'Q';
    a->o = 0xFE;
    a->str = "hello, world";
    a->bstr = "12345678";
    a->seq_long = seq_of(g_longs, 4);
    a->seq_inner = seq_of(g_inners, 3);
    g_inner_seqs[0] = seq_of(g_inners, 2);
    g_inner_seqs[1] = seq_of(NULL, 0);
    a->seq_seq_inner = seq_of(g_inner_seqs, 2);
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++)
            a->arr[i][j] = (int16_t)(i * 10 + j - 7);
    a->inners[0] = (Inner){5, "five"};
    a->inners[1] = (Inner){6, "six"};
    a->color = 2;
    a->u._d = 3;
    a->u._u.s = "branch s";
    a->any._type = &Inner_tc;
    a->any._value = &g_any_inner;
    a->tc = &U_tc;
    a->bools = seq_of(g_bools, 3);
    a->colors = seq_of(g_colors, 4);
    a->ml = 424242;
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++)
            for (int k = 0; k < 4; k++)
                a->cube[i][j][k] = (int64_t)i << 40 | j << 20 | k;
}

static bool all_zero(const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i])
            return false;
    return true;
}

/* Encode value with tc into a fresh writer; returns the writer's status. */
static int encode(phx_cdr_writer_t *w, const phx_typecode_t *tc,
                  const void *v)
{
    phx_cdr_writer_init(w, 0);
    return phx_cdr_put_value(w, tc, v);
}

/* Byte builder for hand-made input in a chosen byte order. */
typedef struct bytes {
    uint8_t b[1024];
    size_t n;
    bool le;
} bytes_t;

static void bb_uint(bytes_t *bb, uint64_t v, size_t size)
{
    while (bb->n % size)
        bb->b[bb->n++] = 0;
    for (size_t i = 0; i < size; i++)
        bb->b[bb->n++] =
            (uint8_t)(v >> (8 * (bb->le ? i : size - 1 - i)));
}

static void bb_string(bytes_t *bb, const char *s)
{
    bb_uint(bb, strlen(s) + 1, 4);
    memcpy(bb->b + bb->n, s, strlen(s) + 1);
    bb->n += strlen(s) + 1;
}

/* ------------------------------------------------------------------ */
/* Tests                                                                */
/* ------------------------------------------------------------------ */

static void test_kinds_and_constants(void)
{
    CU_ASSERT_EQUAL(PHX_TK_NULL, 0);
    CU_ASSERT_EQUAL(PHX_TK_TYPECODE, 12);
    CU_ASSERT_EQUAL(PHX_TK_OBJREF, 14);
    CU_ASSERT_EQUAL(PHX_TK_STRING, 18);
    CU_ASSERT_EQUAL(PHX_TK_EXCEPT, 22);
    CU_ASSERT_EQUAL(PHX_TK_LONGLONG, 23);
    CU_ASSERT_EQUAL(PHX_TK_ULONGLONG, 24);
    CU_ASSERT_EQUAL(PHX_TK_WSTRING, 27);
    CU_ASSERT_EQUAL(PHX_TK_LOCAL_INTERFACE, 33);
    CU_ASSERT_PTR_EQUAL(phx_tc_basic(PHX_TK_LONG), &phx_tc_long);
    CU_ASSERT_PTR_EQUAL(phx_tc_basic(PHX_TK_ULONGLONG), &phx_tc_ulonglong);
    CU_ASSERT_PTR_NULL(phx_tc_basic(PHX_TK_STRUCT));
    CU_ASSERT_PTR_NULL(phx_tc_basic((phx_tckind_t)99));
    CU_ASSERT_EQUAL(phx_typecode_c_size(&phx_tc_double), sizeof(double));
    CU_ASSERT_EQUAL(phx_typecode_c_size(&seq_long_tc), sizeof(phx_sequence_t));
    CU_ASSERT_EQUAL(phx_typecode_c_size(&ll234_tc), sizeof(int64_t) * 24);
    CU_ASSERT_EQUAL(phx_typecode_c_size(&MyLong_tc), 4);
    CU_ASSERT_EQUAL(phx_typecode_c_align(&short23_tc), _Alignof(int16_t));
    CU_ASSERT_EQUAL(phx_typecode_c_size(&Color_tc), 4);
    CU_ASSERT_PTR_EQUAL(phx_typecode_unalias(&MyLong_tc), &phx_tc_long);
    CU_ASSERT_PTR_EQUAL(phx_typecode_ref(&phx_tc_long), &phx_tc_long);
    phx_typecode_free(&phx_tc_long); /* static: ignored */
    phx_typecode_free(NULL);
}

static void test_struct_roundtrip(void)
{
    phx_cdr_writer_t w;
    phx_cdr_reader_t r;
    All in, out;

    fill_all(&in);
    CU_ASSERT_EQUAL_FATAL(encode(&w, &All_tc, &in), 0);
    phx_cdr_reader_init(&r, w.buf, w.len, PHX_CDR_NATIVE);
    CU_ASSERT_EQUAL_FATAL(phx_cdr_get_value(&r, &All_tc, &out), 0);
    CU_ASSERT_EQUAL(phx_cdr_reader_remaining(&r), 0);
    CU_ASSERT_TRUE(phx_value_equal(&All_tc, &in, &out));

    CU_ASSERT_EQUAL(out.s, -12345);
    CU_ASSERT_EQUAL(out.ull, UINT64_MAX - 1);
    CU_ASSERT_STRING_EQUAL(out.str, "hello, world");
    CU_ASSERT_EQUAL(out.seq_inner._length, 3);
    CU_ASSERT_TRUE(out.seq_inner._release);
    CU_ASSERT_STRING_EQUAL(((Inner *)out.seq_inner._buffer)[0].s, "ten");
    CU_ASSERT_STRING_EQUAL(((Inner *)out.seq_inner._buffer)[2].s, "");
    CU_ASSERT_EQUAL(out.seq_seq_inner._length, 2);
    phx_sequence_t *ss = out.seq_seq_inner._buffer;
    CU_ASSERT_EQUAL(ss[0]._length, 2);
    CU_ASSERT_EQUAL(((Inner *)ss[0]._buffer)[1].a, -20);
    CU_ASSERT_EQUAL(ss[1]._length, 0);
    CU_ASSERT_EQUAL(out.arr[1][2], 5);
    CU_ASSERT_STRING_EQUAL(out.inners[1].s, "six");
    CU_ASSERT_EQUAL(out.u._d, 3);
    CU_ASSERT_STRING_EQUAL(out.u._u.s, "branch s");
    CU_ASSERT_TRUE(phx_typecode_equal(out.any._type, &Inner_tc));
    CU_ASSERT_PTR_NOT_EQUAL(out.any._type, &Inner_tc);
    CU_ASSERT_EQUAL(((Inner *)out.any._value)->a, 77);
    CU_ASSERT_TRUE(phx_typecode_equal(out.tc, &U_tc));
    CU_ASSERT_EQUAL(out.cube[1][2][3], ((int64_t)1 << 40) | 2 << 20 | 3);

    /* A difference is seen. */
    out.cube[0][0][1]++;
    CU_ASSERT_FALSE(phx_value_equal(&All_tc, &in, &out));
    out.cube[0][0][1]--;
    ((Inner *)ss[0]._buffer)[0].s[0] = 'T';
    CU_ASSERT_FALSE(phx_value_equal(&All_tc, &in, &out));

    phx_value_free(&All_tc, &out);
    CU_ASSERT_TRUE(all_zero(&out, sizeof out));
    phx_cdr_writer_fini(&w);
}

static void test_copy(void)
{
    All in, cp;

    fill_all(&in);
    CU_ASSERT_EQUAL_FATAL(phx_value_copy(&All_tc, &cp, &in), 0);
    CU_ASSERT_TRUE(phx_value_equal(&All_tc, &in, &cp));
    CU_ASSERT_PTR_NOT_EQUAL(cp.str, in.str);
    CU_ASSERT_PTR_NOT_EQUAL(cp.seq_inner._buffer, in.seq_inner._buffer);
    phx_value_free(&All_tc, &cp);
}

/* A small struct decoded from hand-made big- and little-endian bytes. */
typedef struct Small {
    int16_t s;
    int32_t l;
    double d;
    char *str;
    phx_sequence_t us;
    uint32_t color;
    bool b;
    int16_t pair[2];
} Small;
static const phx_typecode_t seq_ushort_tc = {.kind = PHX_TK_SEQUENCE,
                                             .content = &phx_tc_ushort};
static const phx_typecode_t short2_tc = {
    .kind = PHX_TK_ARRAY, .content = &phx_tc_short, .length = 2};
static const phx_tc_member_t Small_members[] = {
    {"s", &phx_tc_short, offsetof(Small, s), 0, false},
    {"l", &phx_tc_long, offsetof(Small, l), 0, false},
    {"d", &phx_tc_double, offsetof(Small, d), 0, false},
    {"str", &phx_tc_string, offsetof(Small, str), 0, false},
    {"us", &seq_ushort_tc, offsetof(Small, us), 0, false},
    {"color", &Color_tc, offsetof(Small, color), 0, false},
    {"b", &phx_tc_boolean, offsetof(Small, b), 0, false},
    {"pair", &short2_tc, offsetof(Small, pair), 0, false},
};
static const phx_typecode_t Small_tc = {
    .kind = PHX_TK_STRUCT, .repo_id = "IDL:T/Small:1.0", .name = "Small",
    .members = Small_members, .member_count = 8, .c_size = sizeof(Small),
    .c_align = _Alignof(Small)};

static void test_byte_orders(void)
{
    for (int le = 0; le <= 1; le++) {
        bytes_t bb = {.le = le};
        phx_cdr_reader_t r;
        Small v;
        double d = -6.25;
        uint64_t du;

        memcpy(&du, &d, 8);
        bb_uint(&bb, 0xFFFE, 2);
        bb_uint(&bb, 0x01020304, 4);
        bb_uint(&bb, du, 8);
        bb_string(&bb, "abc");
        bb_uint(&bb, 3, 4);
        bb_uint(&bb, 0x0102, 2);
        bb_uint(&bb, 0xA0B0, 2);
        bb_uint(&bb, 7, 2);
        bb_uint(&bb, 1, 4);
        bb_uint(&bb, 1, 1);
        bb_uint(&bb, 0x1122, 2);
        bb_uint(&bb, 0x3344, 2);
        phx_cdr_reader_init(&r, bb.b, bb.n, le);
        CU_ASSERT_EQUAL_FATAL(phx_cdr_get_value(&r, &Small_tc, &v), 0);
        CU_ASSERT_EQUAL(phx_cdr_reader_remaining(&r), 0);
        CU_ASSERT_EQUAL(v.s, -2);
        CU_ASSERT_EQUAL(v.l, 0x01020304);
        CU_ASSERT_EQUAL(v.d, -6.25);
        CU_ASSERT_STRING_EQUAL(v.str, "abc");
        CU_ASSERT_EQUAL_FATAL(v.us._length, 3);
        CU_ASSERT_EQUAL(((uint16_t *)v.us._buffer)[0], 0x0102);
        CU_ASSERT_EQUAL(((uint16_t *)v.us._buffer)[1], 0xA0B0);
        CU_ASSERT_EQUAL(((uint16_t *)v.us._buffer)[2], 7);
        CU_ASSERT_EQUAL(v.color, 1);
        CU_ASSERT_TRUE(v.b);
        CU_ASSERT_EQUAL(v.pair[0], 0x1122);
        CU_ASSERT_EQUAL(v.pair[1], 0x3344);
        phx_value_free(&Small_tc, &v);
    }
}

static void test_bounds(void)
{
    phx_cdr_writer_t w;
    phx_cdr_reader_t r;
    int32_t four[4] = {1, 2, 3, 4};
    char *s;
    phx_sequence_t seq;

    /* put: violations are PHX_EINVAL. */
    s = "123456789";
    CU_ASSERT_EQUAL(encode(&w, &bstr8_tc, &s), PHX_EINVAL);
    phx_cdr_writer_fini(&w);
    s = "12345678";
    CU_ASSERT_EQUAL(encode(&w, &bstr8_tc, &s), 0);
    phx_cdr_writer_fini(&w);
    seq = seq_of(four, 4);
    CU_ASSERT_EQUAL(encode(&w, &bseq3_tc, &seq), PHX_EINVAL);
    phx_cdr_writer_fini(&w);
    seq = seq_of(NULL, 2);
    CU_ASSERT_EQUAL(encode(&w, &seq_long_tc, &seq), PHX_EINVAL);
    phx_cdr_writer_fini(&w);

    /* get: violations are PHX_EMARSHAL and leave the value zeroed. */
    s = "123456789";
    CU_ASSERT_EQUAL(encode(&w, &phx_tc_string, &s), 0);
    s = (char *)1;
    phx_cdr_reader_init(&r, w.buf, w.len, PHX_CDR_NATIVE);
    CU_ASSERT_EQUAL(phx_cdr_get_value(&r, &bstr8_tc, &s), PHX_EMARSHAL);
    CU_ASSERT_PTR_NULL(s);
    phx_cdr_writer_fini(&w);

    seq = seq_of(four, 4);
    CU_ASSERT_EQUAL(encode(&w, &seq_long_tc, &seq), 0);
    phx_cdr_reader_init(&r, w.buf, w.len, PHX_CDR_NATIVE);
    CU_ASSERT_EQUAL(phx_cdr_get_value(&r, &bseq3_tc, &seq), PHX_EMARSHAL);
    CU_ASSERT_TRUE(all_zero(&seq, sizeof seq));
    /* max_len also applies. */
    phx_cdr_reader_init(&r, w.buf, w.len, PHX_CDR_NATIVE);
    phx_cdr_reader_set_max_len(&r, 3);
    CU_ASSERT_EQUAL(phx_cdr_get_value(&r, &seq_long_tc, &seq), PHX_ELIMIT);
    phx_cdr_writer_fini(&w);

    /* A bounded sequence inside a struct: the strings already decoded
     * are freed (ASan checks). */
    All a, out;
    fill_all(&a);
    static const phx_typecode_t bseq2_Inner_tc = {
        .kind = PHX_TK_SEQUENCE, .content = &Inner_tc, .length = 2};
    phx_tc_member_t m[sizeof All_members / sizeof All_members[0]];
    memcpy(m, All_members, sizeof m);
    m[14].type = &bseq2_Inner_tc; /* seq_inner has 3 elements */
    phx_typecode_t bounded = All_tc;
    bounded.members = m;
    CU_ASSERT_EQUAL(encode(&w, &All_tc, &a), 0);
    phx_cdr_reader_init(&r, w.buf, w.len, PHX_CDR_NATIVE);
    CU_ASSERT_EQUAL(phx_cdr_get_value(&r, &bounded, &out), PHX_EMARSHAL);
    CU_ASSERT_TRUE(all_zero(&out, sizeof out));
    phx_cdr_writer_fini(&w);
}

static void test_static_union(void)
{
    phx_cdr_writer_t w;
    phx_cdr_reader_t r;
    U in, out;

    /* case 1 */
    memset(&in, 0, sizeof in);
    in._d = 1;
    in._u.l = -99;
    CU_ASSERT_EQUAL(encode(&w, &U_tc, &in), 0);
    CU_ASSERT_EQUAL(w.len, 8);
    phx_cdr_reader_init(&r, w.buf, w.len, PHX_CDR_NATIVE);
    CU_ASSERT_EQUAL(phx_cdr_get_value(&r, &U_tc, &out), 0);
    CU_ASSERT_EQUAL(out._d, 1);
    CU_ASSERT_EQUAL(out._u.l, -99);
    phx_value_free(&U_tc, &out);
    phx_cdr_writer_fini(&w);

    /* case 2 (second label of a member with two) */
    in._d = 2;
    in._u.s = "two";
    CU_ASSERT_EQUAL(encode(&w, &U_tc, &in), 0);
    phx_cdr_reader_init(&r, w.buf, w.len, PHX_CDR_NATIVE);
    CU_ASSERT_EQUAL(phx_cdr_get_value(&r, &U_tc, &out), 0);
    CU_ASSERT_STRING_EQUAL(out._u.s, "two");
    CU_ASSERT_TRUE(phx_value_equal(&U_tc, &in, &out));
    phx_value_free(&U_tc, &out);
    phx_cdr_writer_fini(&w);

    /* default */
    in._d = -7;
    in._u.d = 2.5;
    CU_ASSERT_EQUAL(encode(&w, &U_tc, &in), 0);
    CU_ASSERT_EQUAL(w.len, 16);
    phx_cdr_reader_init(&r, w.buf, w.len, PHX_CDR_NATIVE);
    CU_ASSERT_EQUAL(phx_cdr_get_value(&r, &U_tc, &out), 0);
    CU_ASSERT_EQUAL(out._d, -7);
    CU_ASSERT_EQUAL(out._u.d, 2.5);
    phx_cdr_writer_fini(&w);
}

/* Write discriminator value d into C storage for kind k. */
static void set_disc(phx_tckind_t k, uint8_t *v, int64_t d)
{
    int16_t s = (int16_t)d;
    int32_t l = (int32_t)d;
    uint8_t o = (uint8_t)d;
    switch (k) {
    case PHX_TK_SHORT:
    case PHX_TK_USHORT:
        memcpy(v, &s, 2);
        break;
    case PHX_TK_LONG:
    case PHX_TK_ULONG:
    case PHX_TK_ENUM:
        memcpy(v, &l, 4);
        break;
    case PHX_TK_LONGLONG:
    case PHX_TK_ULONGLONG:
        memcpy(v, &d, 8);
        break;
    default:
        memcpy(v, &o, 1);
        break;
    }
}

static void test_union_disc_kinds(void)
{
    static const struct {
        const phx_typecode_t *disc;
        int64_t l1, l2, other;
        size_t disc_wire;
    } cases[] = {
        {&phx_tc_short, -5, 7, 0, 2},
        {&phx_tc_ushort, 65535, 1, 0, 2},
        {&phx_tc_long, INT32_MIN, 2, 0, 4},
        {&phx_tc_ulong, 0xFFFFFFFF, 3, 0, 4},
        {&phx_tc_longlong, INT64_MIN, 4, 0, 8},
        {&phx_tc_ulonglong, -1, 5, 0, 8},
        {&phx_tc_char, 'x', 233, 'q', 1},
        {&phx_tc_boolean, 1, 1, 0, 1},
        {&Color_tc, 2, 0, 1, 4},
        {&MyLong_tc, 9, 10, 11, 4},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        for (int with_default = 0; with_default <= 1; with_default++) {
            phx_tc_member_t m[3] = {
                {"a", &phx_tc_long, 0, cases[i].l1, false},
                {"b", &phx_tc_string, 0, cases[i].l2, false},
                {"c", &phx_tc_double, 0, 0, true},
            };
            const phx_typecode_t *tc;
            phx_tckind_t dk = phx_typecode_unalias(cases[i].disc)->kind;
            uint32_t nm = dk == PHX_TK_BOOLEAN ? 1 : 2;
            if (with_default)
                m[nm] = m[2];
            CU_ASSERT_EQUAL_FATAL(
                phx_tc_new_union("IDL:T/V:1.0", "V", cases[i].disc, m,
                                 nm + (uint32_t)with_default, &tc),
                0);
            CU_ASSERT_TRUE(tc->u_offset >= phx_typecode_c_size(cases[i].disc));
            /* body alignment: 8 with a string or double branch */
            size_t ba = nm + (uint32_t)with_default > 1 ? 8 : 4;
            CU_ASSERT_EQUAL(tc->u_offset % ba, 0);
            CU_ASSERT_TRUE(tc->u_offset <
                           phx_typecode_c_size(cases[i].disc) + ba);
            CU_ASSERT_EQUAL(tc->c_size % tc->c_align, 0);
            CU_ASSERT_TRUE(tc->c_size >= tc->u_offset + ba);

            for (int which = 0; which < 3; which++) {
                alignas(16) uint8_t in[64] = {0}, out[64];
                phx_cdr_writer_t w;
                phx_cdr_reader_t r;
                int64_t d = which == 0   ? cases[i].l1
                            : which == 1 ? cases[i].l2
                                         : cases[i].other;
                char *str = "bee";
                int32_t l = 1234;
                double dbl = 0.125;

                if (which == 1 && nm == 1)
                    continue;
                set_disc(dk, in, d);
                if (which == 0)
                    memcpy(in + tc->u_offset, &l, 4);
                else if (which == 1)
                    memcpy(in + tc->u_offset, &str, sizeof str);
                else
                    memcpy(in + tc->u_offset, &dbl, 8);
                CU_ASSERT_EQUAL(encode(&w, tc, in), 0);
                if (which == 2 && !with_default) {
                    CU_ASSERT_EQUAL(w.len, cases[i].disc_wire);
                }
                phx_cdr_reader_init(&r, w.buf, w.len, PHX_CDR_NATIVE);
                CU_ASSERT_EQUAL(phx_cdr_get_value(&r, tc, out), 0);
                CU_ASSERT_EQUAL(phx_cdr_reader_remaining(&r), 0);
                if (which == 2 && !with_default) {
                    /* no branch: only the discriminator came across */
                    CU_ASSERT_TRUE(all_zero(out + tc->u_offset,
                                            tc->c_size - tc->u_offset));
                    CU_ASSERT_EQUAL(memcmp(in, out, tc->u_offset), 0);
                } else {
                    CU_ASSERT_TRUE(phx_value_equal(tc, in, out));
                }
                phx_value_free(tc, out);
                phx_cdr_writer_fini(&w);
            }
            phx_typecode_free(tc);
        }
    }
}

/* A union off the wire with many cases picks branches by label. */
static void test_wide_union(void)
{
    enum { N = 2000 };
    phx_tc_member_t *m = calloc(N + 1, sizeof *m);
    const phx_typecode_t *tc, *wire;
    phx_cdr_writer_t w;
    phx_cdr_reader_t r;

    for (int i = 0; i < N; i++)
        m[i] = (phx_tc_member_t){"x", i % 2 ? &phx_tc_long : &phx_tc_double,
                                 0, (N - i) * 3, false};
    m[N] = (phx_tc_member_t){"d", &phx_tc_string, 0, 0, true};
    CU_ASSERT_EQUAL_FATAL(phx_tc_new_union("IDL:W:1.0", "W", &phx_tc_long, m,
                                           N + 1, &tc),
                          0);
    phx_cdr_writer_init(&w, 0);
    phx_cdr_put_typecode(&w, tc);
    phx_cdr_reader_init(&r, w.buf, w.len, PHX_CDR_NATIVE);
    CU_ASSERT_EQUAL_FATAL(phx_cdr_get_typecode(&r, &wire), 0);
    CU_ASSERT_TRUE(phx_typecode_equal(tc, wire));
    phx_cdr_writer_fini(&w);

    static const int32_t probes[] = {3, 6, 3 * N, 3 * (N - 1), 4, -3, 0};
    for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
        const phx_tc_member_t *a = phx__tc_branch(tc, PHX_TK_LONG, probes[i]);
        const phx_tc_member_t *b =
            phx__tc_branch(wire, PHX_TK_LONG, probes[i]);
        CU_ASSERT_PTR_NOT_NULL_FATAL(a);
        CU_ASSERT_PTR_NOT_NULL_FATAL(b);
        CU_ASSERT_EQUAL(a - tc->members, b - wire->members);
        if (probes[i] % 3 || probes[i] <= 0) {
            CU_ASSERT_TRUE(a->is_default);
        } else {
            CU_ASSERT_EQUAL(a->label, probes[i]);
        }
    }
    phx_typecode_free(tc);
    phx_typecode_free(wire);
    free(m);
}

static void test_enums(void)
{
    phx_cdr_writer_t w;
    phx_cdr_reader_t r;
    uint32_t e = 3;
    static const uint8_t bad[] = {0, 0, 0, 3};
    static const uint8_t good[] = {0, 0, 0, 2};

    CU_ASSERT_EQUAL(encode(&w, &Color_tc, &e), PHX_EINVAL);
    phx_cdr_writer_fini(&w);
    phx_cdr_reader_init(&r, bad, 4, PHX_CDR_BIG_ENDIAN);
    CU_ASSERT_EQUAL(phx_cdr_get_value(&r, &Color_tc, &e), PHX_EMARSHAL);
    CU_ASSERT_EQUAL(e, 0);
    phx_cdr_reader_init(&r, good, 4, PHX_CDR_BIG_ENDIAN);
    CU_ASSERT_EQUAL(phx_cdr_get_value(&r, &Color_tc, &e), 0);
    CU_ASSERT_EQUAL(e, 2);

    /* In a sequence (fast path) and as a union discriminator. */
    uint32_t cols[3] = {0, 5, 1};
    phx_sequence_t s = seq_of(cols, 3);
    CU_ASSERT_EQUAL(encode(&w, &seq_Color_tc, &s), PHX_EINVAL);
    phx_cdr_writer_fini(&w);
    static const uint8_t bad_seq[] = {0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 9};
    phx_cdr_reader_init(&r, bad_seq, sizeof bad_seq, PHX_CDR_BIG_ENDIAN);
    CU_ASSERT_EQUAL(phx_cdr_get_value(&r, &seq_Color_tc, &s), PHX_EMARSHAL);
    CU_ASSERT_TRUE(all_zero(&s, sizeof s));

    phx_tc_member_t m[] = {{"a", &phx_tc_long, 0, 1, false}};
    const phx_typecode_t *tc;
    alignas(8) uint8_t v[16] = {0};
    CU_ASSERT_EQUAL_FATAL(phx_tc_new_union(NULL, NULL, &Color_tc, m, 1, &tc),
                          0);
    phx_cdr_reader_init(&r, bad, 4, PHX_CDR_BIG_ENDIAN);
    CU_ASSERT_EQUAL(phx_cdr_get_value(&r, tc, v), PHX_EMARSHAL);
    e = 7;
    memcpy(v, &e, 4);
    CU_ASSERT_EQUAL(encode(&w, tc, v), PHX_EINVAL);
    phx_cdr_writer_fini(&w);
    phx_typecode_free(tc);

    /* Booleans other than 0/1 in a sequence. */
    static const uint8_t bad_bools[] = {0, 0, 0, 2, 1, 2};
    phx_cdr_reader_init(&r, bad_bools, sizeof bad_bools, PHX_CDR_BIG_ENDIAN);
    CU_ASSERT_EQUAL(phx_cdr_get_value(&r, &seq_bool_tc, &s), PHX_EMARSHAL);
    CU_ASSERT_TRUE(all_zero(&s, sizeof s));
}

static void test_arrays(void)
{
    phx_cdr_writer_t w;
    phx_cdr_reader_t r;
    int64_t cube[2][3][4], out[2][3][4];
    const phx_typecode_t *a3, *a33;
    char *strs[2][3] = {{"a", "b", NULL}, {"", "e", "f"}};
    char *sout[2][3];

    for (int i = 0; i < 24; i++)
        (&cube[0][0][0])[i] = i * 1000003LL - 5;
    /* Primitive arrays go out as one block: the bytes are the memory. */
    CU_ASSERT_EQUAL(encode(&w, &ll234_tc, cube), 0);
    CU_ASSERT_EQUAL_FATAL(w.len, sizeof cube);
    CU_ASSERT_EQUAL(memcmp(w.buf, cube, sizeof cube), 0);
    phx_cdr_reader_init(&r, w.buf, w.len, PHX_CDR_NATIVE);
    CU_ASSERT_EQUAL(phx_cdr_get_value(&r, &ll234_tc, out), 0);
    CU_ASSERT_EQUAL(memcmp(out, cube, sizeof cube), 0);
    phx_cdr_writer_fini(&w);

    /* Multi-dimensional array of strings, built at run time. */
    CU_ASSERT_EQUAL_FATAL(phx_tc_new_array(&phx_tc_string, 3, &a3), 0);
    CU_ASSERT_EQUAL_FATAL(phx_tc_new_array(a3, 2, &a33), 0);
    CU_ASSERT_EQUAL(phx_typecode_c_size(a33), sizeof strs);
    CU_ASSERT_EQUAL(encode(&w, a33, strs), 0);
    phx_cdr_reader_init(&r, w.buf, w.len, PHX_CDR_NATIVE);
    CU_ASSERT_EQUAL(phx_cdr_get_value(&r, a33, sout), 0);
    CU_ASSERT_STRING_EQUAL(sout[0][1], "b");
    CU_ASSERT_STRING_EQUAL(sout[0][2], "");
    CU_ASSERT_STRING_EQUAL(sout[1][2], "f");
    CU_ASSERT_TRUE(phx_value_equal(a33, strs, sout));
    phx_value_free(a33, sout);
    phx_cdr_writer_fini(&w);
    phx_typecode_free(a3);
    phx_typecode_free(a33);
}

static void test_any(void)
{
    phx_cdr_writer_t w;
    phx_cdr_reader_t r;
    Inner inner = {5, "x"};
    phx_any_t a = {&Inner_tc, &inner, false}, inner_any, out;
    int32_t l = 31337;

    CU_ASSERT_EQUAL(encode(&w, &phx_tc_any, &a), 0);
    phx_cdr_reader_init(&r, w.buf, w.len, PHX_CDR_NATIVE);
    CU_ASSERT_EQUAL_FATAL(phx_cdr_get_value(&r, &phx_tc_any, &out), 0);
    CU_ASSERT_TRUE(out._release);
    CU_ASSERT_TRUE(phx_typecode_equal(out._type, &Inner_tc));
    CU_ASSERT_EQUAL(out._type->c_size, sizeof(Inner));
    CU_ASSERT_EQUAL(out._type->members[1].offset, offsetof(Inner, s));
    CU_ASSERT_TRUE(phx_value_equal(&phx_tc_any, &a, &out));
    phx_value_free(&phx_tc_any, &out);
    phx_cdr_writer_fini(&w);

    /* any in an any */
    inner_any = (phx_any_t){&phx_tc_long, &l, false};
    a = (phx_any_t){&phx_tc_any, &inner_any, false};
    CU_ASSERT_EQUAL(encode(&w, &phx_tc_any, &a), 0);
    phx_cdr_reader_init(&r, w.buf, w.len, PHX_CDR_NATIVE);
    CU_ASSERT_EQUAL_FATAL(phx_cdr_get_value(&r, &phx_tc_any, &out), 0);
    CU_ASSERT_PTR_EQUAL(out._type, &phx_tc_any);
    CU_ASSERT_EQUAL(*(int32_t *)((phx_any_t *)out._value)->_value, 31337);
    phx_any_t cp;
    CU_ASSERT_EQUAL(phx_value_copy(&phx_tc_any, &cp, &out), 0);
    CU_ASSERT_TRUE(phx_value_equal(&phx_tc_any, &cp, &a));
    phx_value_free(&phx_tc_any, &cp);
    phx_value_free(&phx_tc_any, &out);
    phx_cdr_writer_fini(&w);

    /* empty any */
    a = (phx_any_t){NULL, NULL, false};
    CU_ASSERT_EQUAL(encode(&w, &phx_tc_any, &a), 0);
    CU_ASSERT_EQUAL(w.len, 4);
    phx_cdr_reader_init(&r, w.buf, w.len, PHX_CDR_NATIVE);
    CU_ASSERT_EQUAL(phx_cdr_get_value(&r, &phx_tc_any, &out), 0);
    CU_ASSERT_EQUAL(out._type->kind, PHX_TK_NULL);
    CU_ASSERT_PTR_NULL(out._value);
    phx_value_free(&phx_tc_any, &out);
    phx_cdr_writer_fini(&w);

    /* A value-less any with a real type is refused. */
    a = (phx_any_t){&phx_tc_long, NULL, false};
    CU_ASSERT_EQUAL(encode(&w, &phx_tc_any, &a), PHX_EINVAL);
    phx_cdr_writer_fini(&w);
}

static void test_typecode_bytes(void)
{
    phx_cdr_writer_t w;
    phx_cdr_reader_t r;
    const phx_typecode_t *tc;
    bytes_t exp = {.le = PHX_CDR_NATIVE == PHX_CDR_LITTLE_ENDIAN};

    /* sequence<long, 5> */
    phx_cdr_writer_init(&w, 0);
    static const phx_typecode_t s5 = {.kind = PHX_TK_SEQUENCE,
                                      .content = &phx_tc_long, .length = 5};
    CU_ASSERT_EQUAL(phx_cdr_put_typecode(&w, &s5), 0);
    bb_uint(&exp, 19, 4);
    bb_uint(&exp, 12, 4);
    bb_uint(&exp, PHX_CDR_NATIVE, 1);
    bb_uint(&exp, 3, 4);
    bb_uint(&exp, 5, 4);
    CU_ASSERT_EQUAL_FATAL(w.len, exp.n);
    CU_ASSERT_EQUAL(memcmp(w.buf, exp.b, exp.n), 0);
    phx_cdr_writer_fini(&w);

    /* Simple kinds and string bounds are not encapsulated. */
    phx_cdr_writer_init(&w, 0);
    phx_cdr_put_typecode(&w, &phx_tc_double);
    phx_cdr_put_typecode(&w, &bstr8_tc);
    phx_cdr_put_typecode(&w, &phx_tc_string);
    CU_ASSERT_EQUAL(w.len, 4 + 8 + 8);
    phx_cdr_reader_init(&r, w.buf, w.len, PHX_CDR_NATIVE);
    CU_ASSERT_EQUAL(phx_cdr_get_typecode(&r, &tc), 0);
    CU_ASSERT_PTR_EQUAL(tc, &phx_tc_double);
    CU_ASSERT_EQUAL(phx_cdr_get_typecode(&r, &tc), 0);
    CU_ASSERT_EQUAL(tc->kind, PHX_TK_STRING);
    CU_ASSERT_EQUAL(tc->length, 8);
    phx_typecode_free(tc);
    CU_ASSERT_EQUAL(phx_cdr_get_typecode(&r, &tc), 0);
    CU_ASSERT_PTR_EQUAL(tc, &phx_tc_string);
    phx_cdr_writer_fini(&w);

    /* enum Color in big-endian bytes. */
    bytes_t be = {.le = false};
    bb_uint(&be, 17, 4);
    bb_uint(&be, 0, 4); /* length, patched below */
    be.b[be.n++] = PHX_CDR_BIG_ENDIAN;
    bb_string(&be, "IDL:T/Color:1.0");
    bb_string(&be, "Color");
    bb_uint(&be, 3, 4);
    bb_string(&be, "RED");
    bb_string(&be, "GREEN");
    bb_string(&be, "BLUE");
    be.b[7] = (uint8_t)(be.n - 8);
    phx_cdr_reader_init(&r, be.b, be.n, PHX_CDR_BIG_ENDIAN);
    CU_ASSERT_EQUAL_FATAL(phx_cdr_get_typecode(&r, &tc), 0);
    CU_ASSERT_TRUE(phx_typecode_equal(tc, &Color_tc));
    CU_ASSERT_EQUAL(phx_cdr_reader_remaining(&r), 0);
    phx_typecode_free(tc);
}

static void test_typecode_roundtrip(void)
{
    const phx_typecode_t *list[] = {
        &All_tc, &U_tc, &Color_tc, &MyLong_tc, &bseq3_tc, &ll234_tc,
        &phx_tc_Object, &Oops_tc, &Small_tc, &seq_seq_Inner_tc, &bstr8_tc,
    };

    for (size_t i = 0; i < sizeof list / sizeof list[0]; i++) {
        phx_cdr_writer_t w, w2;
        phx_cdr_reader_t r;
        const phx_typecode_t *tc;

        phx_cdr_writer_init(&w, 0);
        CU_ASSERT_EQUAL(phx_cdr_put_typecode(&w, list[i]), 0);
        phx_cdr_reader_init(&r, w.buf, w.len, PHX_CDR_NATIVE);
        CU_ASSERT_EQUAL_FATAL(phx_cdr_get_typecode(&r, &tc), 0);
        CU_ASSERT_EQUAL(phx_cdr_reader_remaining(&r), 0);
        CU_ASSERT_TRUE(phx_typecode_equal(tc, list[i]));
        /* The computed C layout is the compiler's. */
        CU_ASSERT_EQUAL(phx_typecode_c_size(tc),
                        phx_typecode_c_size(list[i]));
        CU_ASSERT_EQUAL(phx_typecode_c_align(tc),
                        phx_typecode_c_align(list[i]));
        for (uint32_t k = 0; list[i]->members && k < tc->member_count; k++)
            CU_ASSERT_EQUAL(tc->members[k].offset, list[i]->members[k].offset);
        if (list[i]->kind == PHX_TK_UNION)
            CU_ASSERT_EQUAL(tc->u_offset, list[i]->u_offset);
        /* Re-encoding gives the same bytes. */
        phx_cdr_writer_init(&w2, 0);
        phx_cdr_put_typecode(&w2, tc);
        CU_ASSERT_EQUAL(w2.len, w.len);
        CU_ASSERT_EQUAL(memcmp(w2.buf, w.buf, w.len), 0);
        phx_cdr_writer_fini(&w2);
        phx_typecode_free(tc);
        phx_cdr_writer_fini(&w);
    }

    /* A value marshaled with a static TypeCode decodes with the decoded
     * TypeCode and re-encodes to the same bytes. */
    phx_cdr_writer_t w, w2;
    phx_cdr_reader_t r;
    const phx_typecode_t *tc;
    All in;
    void *out;

    fill_all(&in);
    phx_cdr_writer_init(&w, 0);
    phx_cdr_put_typecode(&w, &All_tc);
    phx_cdr_reader_init(&r, w.buf, w.len, PHX_CDR_NATIVE);
    CU_ASSERT_EQUAL_FATAL(phx_cdr_get_typecode(&r, &tc), 0);
    phx_cdr_writer_fini(&w);
    CU_ASSERT_EQUAL(encode(&w, &All_tc, &in), 0);
    out = malloc(phx_typecode_c_size(tc));
    phx_cdr_reader_init(&r, w.buf, w.len, PHX_CDR_NATIVE);
    CU_ASSERT_EQUAL(phx_cdr_get_value(&r, tc, out), 0);
    CU_ASSERT_TRUE(phx_value_equal(tc, out, &in));
    CU_ASSERT_EQUAL(encode(&w2, tc, out), 0);
    CU_ASSERT_EQUAL(w2.len, w.len);
    CU_ASSERT_EQUAL(memcmp(w.buf, w2.buf, w.len), 0);
    phx_value_free(tc, out);
    free(out);
    phx_typecode_free(tc);
    phx_cdr_writer_fini(&w);
    phx_cdr_writer_fini(&w2);
}

static void test_typecode_equal(void)
{
    const phx_typecode_t *a, *b;
    phx_tc_member_t m[2] = {{"a", &phx_tc_long, 0, 0, false},
                            {"s", &phx_tc_string, 0, 0, false}};

    CU_ASSERT_EQUAL(phx_tc_new_struct(PHX_TK_STRUCT, "IDL:T/Inner:1.0",
                                      "Inner", m, 2, &a),
                    0);
    CU_ASSERT_TRUE(phx_typecode_equal(a, &Inner_tc));
    CU_ASSERT_EQUAL(a->c_size, sizeof(Inner));
    m[1].name = "t";
    CU_ASSERT_EQUAL(phx_tc_new_struct(PHX_TK_STRUCT, "IDL:T/Inner:1.0",
                                      "Inner", m, 2, &b),
                    0);
    CU_ASSERT_FALSE(phx_typecode_equal(a, b));
    phx_typecode_free(b);
    CU_ASSERT_EQUAL(phx_tc_new_struct(PHX_TK_EXCEPT, "IDL:T/Inner:1.0",
                                      "Inner", m, 2, &b),
                    0);
    CU_ASSERT_FALSE(phx_typecode_equal(a, b));
    phx_typecode_free(b);
    CU_ASSERT_FALSE(phx_typecode_equal(&bstr8_tc, &phx_tc_string));
    CU_ASSERT_FALSE(phx_typecode_equal(&MyLong_tc, &phx_tc_long));
    CU_ASSERT_TRUE(phx_typecode_equal(NULL, &phx_tc_null));

    /* References keep a heap TypeCode alive. */
    CU_ASSERT_PTR_EQUAL(phx_typecode_ref(a), a);
    phx_typecode_free(a);
    CU_ASSERT_EQUAL(a->kind, PHX_TK_STRUCT);
    phx_typecode_free(a);
}

static void test_builders_refuse(void)
{
    const phx_typecode_t *tc = &phx_tc_long;
    phx_tc_member_t two_defaults[] = {{"a", &phx_tc_long, 0, 0, true},
                                      {"b", &phx_tc_long, 0, 0, true}};
    phx_tc_member_t untyped[] = {{"a", NULL, 0, 0, false}};
    const char *none[] = {NULL};

    CU_ASSERT_EQUAL(phx_tc_new_array(&phx_tc_long, 0, &tc), PHX_EINVAL);
    CU_ASSERT_PTR_NULL(tc);
    CU_ASSERT_EQUAL(phx_tc_new_sequence(NULL, 0, &tc), PHX_EINVAL);
    CU_ASSERT_EQUAL(phx_tc_new_alias("a", "b", NULL, &tc), PHX_EINVAL);
    CU_ASSERT_EQUAL(phx_tc_new_enum("a", "b", none, 0, &tc), PHX_EINVAL);
    CU_ASSERT_EQUAL(phx_tc_new_union("a", "b", &phx_tc_long, two_defaults, 2,
                                     &tc),
                    PHX_EINVAL);
    CU_ASSERT_EQUAL(phx_tc_new_union("a", "b", &phx_tc_string, NULL, 0, &tc),
                    PHX_EINVAL);
    CU_ASSERT_EQUAL(phx_tc_new_union("a", "b", &phx_tc_double, NULL, 0, &tc),
                    PHX_EINVAL);
    CU_ASSERT_EQUAL(phx_tc_new_struct(PHX_TK_UNION, "a", "b", NULL, 0, &tc),
                    PHX_EINVAL);
    CU_ASSERT_EQUAL(phx_tc_new_struct(PHX_TK_STRUCT, "a", "b", untyped, 1,
                                      &tc),
                    PHX_EINVAL);
    CU_ASSERT_PTR_NULL(tc);
    CU_ASSERT_EQUAL(phx_tc_new_struct(PHX_TK_STRUCT, "a", "b", NULL, 0, &tc),
                    PHX_EINVAL);
    phx_tc_member_t dup[] = {{"a", &phx_tc_long, 0, 7, false},
                             {"b", &phx_tc_long, 0, 7 + 65536, false}};
    CU_ASSERT_EQUAL(phx_tc_new_union("a", "b", &phx_tc_ushort, dup, 2, &tc),
                    PHX_EINVAL); /* same label once normalized */
    CU_ASSERT_EQUAL(phx_tc_new_union("a", "b", &phx_tc_long, dup, 2, &tc), 0);
    phx_typecode_free(tc);

    /* The others build and free cleanly. */
    CU_ASSERT_EQUAL(phx_tc_new_string(10, &tc), 0);
    phx_typecode_free(tc);
    CU_ASSERT_EQUAL(phx_tc_new_objref("IDL:T/I:1.0", "I", &tc), 0);
    CU_ASSERT_STRING_EQUAL(tc->name, "I");
    phx_typecode_free(tc);
    CU_ASSERT_EQUAL(phx_tc_new_enum(NULL, NULL, Color_names, 3, &tc), 0);
    CU_ASSERT_TRUE(phx_typecode_equal(tc, tc));
    phx_typecode_free(tc);
    CU_ASSERT_EQUAL(phx_tc_new_struct(PHX_TK_EXCEPT, "IDL:E:1.0", "E", NULL,
                                      0, &tc),
                    0);
    CU_ASSERT_EQUAL(tc->c_size, 1);
    phx_typecode_free(tc);
}

static void test_exception(void)
{
    phx_cdr_writer_t w;
    phx_cdr_reader_t r;
    Oops in = {42, "bad thing"}, out;
    const char *id;
    size_t n;

    /* Members only, like a struct: the ORB writes the repository id. */
    phx_cdr_writer_init(&w, 0);
    phx_cdr_put_string(&w, Oops_tc.repo_id);
    CU_ASSERT_EQUAL(phx_cdr_put_value(&w, &Oops_tc, &in), 0);
    CU_ASSERT_EQUAL(w.len, 20 + 4 + 14);
    phx_cdr_reader_init(&r, w.buf, w.len, PHX_CDR_NATIVE);
    CU_ASSERT_EQUAL(phx_cdr_get_string(&r, &id, &n), 0);
    CU_ASSERT_STRING_EQUAL(id, "IDL:T/Oops:1.0");
    CU_ASSERT_EQUAL(phx_cdr_get_value(&r, &Oops_tc, &out), 0);
    CU_ASSERT_EQUAL(phx_cdr_reader_remaining(&r), 0);
    CU_ASSERT_EQUAL(out.code, 42);
    CU_ASSERT_STRING_EQUAL(out.why, "bad thing");
    CU_ASSERT_TRUE(phx_value_equal(&Oops_tc, &in, &out));
    phx_value_free(&Oops_tc, &out);
    CU_ASSERT_TRUE(all_zero(&out, sizeof out));
    phx_cdr_writer_fini(&w);

    /* Truncated members. */
    phx_cdr_writer_init(&w, 0);
    phx_cdr_put_long(&w, 1);
    phx_cdr_put_ulong(&w, 10);
    phx_cdr_put_raw(&w, "abc", 3);
    phx_cdr_reader_init(&r, w.buf, w.len, PHX_CDR_NATIVE);
    CU_ASSERT_EQUAL(phx_cdr_get_value(&r, &Oops_tc, &out), PHX_EMARSHAL);
    CU_ASSERT_TRUE(all_zero(&out, sizeof out));
    phx_cdr_writer_fini(&w);
}

/* A toy ORB: a reference is a malloc'd string. */
static int released;

static int ref_put(phx_cdr_writer_t *w, const phx_typecode_t *tc,
                   const void *ref, void *arg)
{
    (void)tc;
    (void)arg;
    return phx_cdr_put_string(w, ref);
}

static int ref_get(phx_cdr_reader_t *r, const phx_typecode_t *tc, void **ref,
                   void *arg)
{
    char *s;
    (void)tc;
    (void)arg;
    phx_cdr_get_string_dup(r, &s);
    *ref = s;
    return r->err;
}

static void ref_release(void *ref, void *arg)
{
    (void)arg;
    released++;
    free(ref);
}

static int ref_copy(const void *ref, void **out, void *arg)
{
    (void)arg;
    *out = strdup(ref);
    return *out ? 0 : PHX_ENOMEM;
}

static bool ref_equal(const void *a, const void *b, void *arg)
{
    (void)arg;
    return strcmp(a, b) == 0;
}

static void test_objref(void)
{
    phx_cdr_writer_t w;
    phx_cdr_reader_t r;
    void *ref = "corbaloc:x", *out, *cp;
    static const uint8_t data[] = {0, 0, 0, 2, 'a', 0};

    CU_ASSERT_EQUAL(encode(&w, &phx_tc_Object, &ref), PHX_EUNSUPPORTED);
    phx_cdr_writer_fini(&w);
    phx_cdr_reader_init(&r, data, sizeof data, PHX_CDR_BIG_ENDIAN);
    CU_ASSERT_EQUAL(phx_cdr_get_value(&r, &phx_tc_Object, &out),
                    PHX_EUNSUPPORTED);

    phx_objref_hooks_t hooks = {ref_put, ref_get, ref_release, ref_copy,
                                ref_equal, NULL};
    phx_value_set_objref_hooks(&hooks);
    CU_ASSERT_EQUAL(encode(&w, &phx_tc_Object, &ref), 0);
    phx_cdr_reader_init(&r, w.buf, w.len, PHX_CDR_NATIVE);
    CU_ASSERT_EQUAL(phx_cdr_get_value(&r, &phx_tc_Object, &out), 0);
    CU_ASSERT_STRING_EQUAL(out, "corbaloc:x");
    CU_ASSERT_TRUE(phx_value_equal(&phx_tc_Object, &ref, &out));
    CU_ASSERT_EQUAL(phx_value_copy(&phx_tc_Object, &cp, &out), 0);
    CU_ASSERT_PTR_NOT_EQUAL(cp, out);
    released = 0;
    phx_value_free(&phx_tc_Object, &out);
    phx_value_free(&phx_tc_Object, &cp);
    CU_ASSERT_EQUAL(released, 2);
    CU_ASSERT_PTR_NULL(out);
    phx_cdr_writer_fini(&w);
    phx_value_set_objref_hooks(NULL);
}

/* Every prefix of a valid encoding fails cleanly, leaves the value zeroed
 * and leaks nothing; flipped bytes never crash. */
static void test_truncation_and_fuzz(void)
{
    phx_cdr_writer_t w;
    All in;
    All *out = malloc(sizeof *out);
    size_t failures = 0, zeroed = 0;

    fill_all(&in);
    CU_ASSERT_EQUAL_FATAL(encode(&w, &All_tc, &in), 0);
    size_t vlen = w.len;
    phx_cdr_put_typecode(&w, &All_tc);
    CU_ASSERT_EQUAL_FATAL(w.err, 0);

    for (size_t n = 0; n < vlen; n++) {
        uint8_t *cut = malloc(n ? n : 1);
        phx_cdr_reader_t r;
        memcpy(cut, w.buf, n);
        phx_cdr_reader_init(&r, cut, n, PHX_CDR_NATIVE);
        failures += phx_cdr_get_value(&r, &All_tc, out) != 0;
        zeroed += all_zero(out, sizeof *out);
        free(cut);
    }
    CU_ASSERT_EQUAL(failures, vlen);
    CU_ASSERT_EQUAL(zeroed, vlen);

    /* The TypeCode encoding too. */
    size_t tlen = w.len - vlen;
    failures = 0;
    for (size_t n = 0; n < tlen; n++) {
        uint8_t *cut = malloc(n ? n : 1);
        phx_cdr_reader_t r;
        const phx_typecode_t *tc = &phx_tc_long;
        memcpy(cut, w.buf + vlen, n);
        phx_cdr_reader_init(&r, cut, n, PHX_CDR_NATIVE);
        if (phx_cdr_get_typecode(&r, &tc) != 0 && tc == NULL)
            failures++;
        phx_typecode_free(tc);
        free(cut);
    }
    CU_ASSERT_EQUAL(failures, tlen);

    /* Flip bytes of the value and of the TypeCode. */
    uint32_t seed = 12345;
    for (size_t i = 0; i < w.len; i++) {
        static const uint8_t pokes[] = {0x00, 0xFF, 0x7F, 0x80, 0x01};
        for (size_t p = 0; p < sizeof pokes + 2; p++) {
            uint8_t *m = malloc(w.len);
            phx_cdr_reader_t r;
            memcpy(m, w.buf, w.len);
            seed = seed * 1103515245u + 12345u;
            m[i] = p < sizeof pokes ? pokes[p] : (uint8_t)(seed >> 16);
            if (i < vlen) {
                phx_cdr_reader_init(&r, m, vlen, PHX_CDR_NATIVE);
                if (phx_cdr_get_value(&r, &All_tc, out) == 0)
                    phx_value_free(&All_tc, out);
                else
                    CU_ASSERT_TRUE(all_zero(out, sizeof *out));
            } else {
                const phx_typecode_t *tc;
                phx_cdr_reader_init(&r, m + vlen, w.len - vlen,
                                    PHX_CDR_NATIVE);
                if (phx_cdr_get_typecode(&r, &tc) == 0) {
                    /* Whatever decoded must encode again. */
                    phx_cdr_writer_t w2;
                    phx_cdr_writer_init(&w2, 0);
                    phx_cdr_put_typecode(&w2, tc);
                    phx_cdr_writer_fini(&w2);
                    phx_typecode_free(tc);
                }
            }
            free(m);
        }
    }
    free(out);
    phx_cdr_writer_fini(&w);
}

static void test_hostile_typecodes(void)
{
    phx_cdr_reader_t r;
    const phx_typecode_t *tc;
    phx_cdr_writer_t w;
    phx_cdr_mark_t mk;

    /* Indirection is refused. */
    static const uint8_t ind[] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                                  0xF8};
    phx_cdr_reader_init(&r, ind, sizeof ind, PHX_CDR_BIG_ENDIAN);
    CU_ASSERT_EQUAL(phx_cdr_get_typecode(&r, &tc), PHX_EUNSUPPORTED);
    CU_ASSERT_PTR_NULL(tc);

    /* Unknown and unsupported kinds. */
    static const uint8_t k99[] = {0, 0, 0, 99};
    phx_cdr_reader_init(&r, k99, 4, PHX_CDR_BIG_ENDIAN);
    CU_ASSERT_EQUAL(phx_cdr_get_typecode(&r, &tc), PHX_EMARSHAL);
    static const uint8_t kval[] = {0, 0, 0, 29, 0, 0, 0, 0};
    phx_cdr_reader_init(&r, kval, sizeof kval, PHX_CDR_BIG_ENDIAN);
    CU_ASSERT_EQUAL(phx_cdr_get_typecode(&r, &tc), PHX_EUNSUPPORTED);

    /* Struct with a huge member count. */
    phx_cdr_writer_init(&w, 0);
    phx_cdr_put_ulong(&w, PHX_TK_STRUCT);
    phx_cdr_encap_begin(&w, &mk);
    phx_cdr_put_string(&w, "IDL:X:1.0");
    phx_cdr_put_string(&w, "X");
    phx_cdr_put_ulong(&w, 0x10000000);
    phx_cdr_encap_end(&w, &mk);
    phx_cdr_reader_init(&r, w.buf, w.len, PHX_CDR_NATIVE);
    CU_ASSERT_EQUAL(phx_cdr_get_typecode(&r, &tc), PHX_EMARSHAL);
    phx_cdr_writer_fini(&w);

    /* Union: default index out of range, then a string discriminator. */
    for (int variant = 0; variant < 2; variant++) {
        phx_cdr_writer_init(&w, 0);
        phx_cdr_put_ulong(&w, PHX_TK_UNION);
        phx_cdr_encap_begin(&w, &mk);
        phx_cdr_put_string(&w, "IDL:X:1.0");
        phx_cdr_put_string(&w, "X");
        phx_cdr_put_typecode(&w, variant ? &phx_tc_string : &phx_tc_long);
        phx_cdr_put_long(&w, variant ? -1 : 1);
        phx_cdr_put_ulong(&w, 1);
        phx_cdr_put_long(&w, 0);
        phx_cdr_put_string(&w, "a");
        phx_cdr_put_typecode(&w, &phx_tc_long);
        phx_cdr_encap_end(&w, &mk);
        phx_cdr_reader_init(&r, w.buf, w.len, PHX_CDR_NATIVE);
        CU_ASSERT_EQUAL(phx_cdr_get_typecode(&r, &tc), PHX_EMARSHAL);
        CU_ASSERT_PTR_NULL(tc);
        phx_cdr_writer_fini(&w);
    }

    /* A struct without members, a union with a repeated label. */
    phx_cdr_writer_init(&w, 0);
    phx_cdr_put_ulong(&w, PHX_TK_STRUCT);
    phx_cdr_encap_begin(&w, &mk);
    phx_cdr_put_string(&w, "IDL:X:1.0");
    phx_cdr_put_string(&w, "X");
    phx_cdr_put_ulong(&w, 0);
    phx_cdr_encap_end(&w, &mk);
    phx_cdr_reader_init(&r, w.buf, w.len, PHX_CDR_NATIVE);
    CU_ASSERT_EQUAL(phx_cdr_get_typecode(&r, &tc), PHX_EMARSHAL);
    phx_cdr_writer_fini(&w);
    phx_cdr_writer_init(&w, 0);
    phx_cdr_put_ulong(&w, PHX_TK_UNION);
    phx_cdr_encap_begin(&w, &mk);
    phx_cdr_put_string(&w, "IDL:X:1.0");
    phx_cdr_put_string(&w, "X");
    phx_cdr_put_typecode(&w, &phx_tc_long);
    phx_cdr_put_long(&w, -1);
    phx_cdr_put_ulong(&w, 2);
    for (int i = 0; i < 2; i++) {
        phx_cdr_put_long(&w, 5);
        phx_cdr_put_string(&w, "a");
        phx_cdr_put_typecode(&w, &phx_tc_long);
    }
    phx_cdr_encap_end(&w, &mk);
    phx_cdr_reader_init(&r, w.buf, w.len, PHX_CDR_NATIVE);
    CU_ASSERT_EQUAL(phx_cdr_get_typecode(&r, &tc), PHX_EMARSHAL);
    phx_cdr_writer_fini(&w);

    /* A sequence count that the remaining data cannot hold. */
    phx_cdr_writer_init(&w, 0);
    phx_cdr_put_ulong(&w, 1000);
    phx_cdr_put_double(&w, 1.0);
    phx_sequence_t sq;
    static const phx_typecode_t seq_double_tc = {.kind = PHX_TK_SEQUENCE,
                                                 .content = &phx_tc_double};
    phx_cdr_reader_init(&r, w.buf, w.len, PHX_CDR_NATIVE);
    CU_ASSERT_EQUAL(phx_cdr_get_value(&r, &seq_double_tc, &sq), PHX_EMARSHAL);
    CU_ASSERT_TRUE(all_zero(&sq, sizeof sq));
    phx_cdr_writer_fini(&w);

    /* An array whose C size overflows. */
    phx_cdr_writer_init(&w, 0);
    phx_cdr_mark_t m2;
    phx_cdr_put_ulong(&w, PHX_TK_ARRAY);
    phx_cdr_encap_begin(&w, &mk);
    phx_cdr_put_ulong(&w, PHX_TK_ARRAY);
    phx_cdr_encap_begin(&w, &m2);
    phx_cdr_put_ulong(&w, PHX_TK_ARRAY);
    phx_cdr_encap_begin(&w, &m2);
    phx_cdr_put_ulong(&w, PHX_TK_DOUBLE);
    phx_cdr_put_ulong(&w, 0xFFFFFFFF);
    phx_cdr_encap_end(&w, &m2);
    phx_cdr_put_ulong(&w, 0xFFFFFFFF);
    phx_cdr_encap_end(&w, &m2);
    phx_cdr_put_ulong(&w, 0xFFFFFFFF);
    phx_cdr_encap_end(&w, &mk);
    CU_ASSERT_EQUAL_FATAL(w.err, 0);
    phx_cdr_reader_init(&r, w.buf, w.len, PHX_CDR_NATIVE);
    CU_ASSERT_NOT_EQUAL(phx_cdr_get_typecode(&r, &tc), 0);
    CU_ASSERT_PTR_NULL(tc);
    phx_cdr_writer_fini(&w);

    /* An any claiming a huge array value with few bytes behind it: the
     * TypeCode alone is refused, its value being larger than the reader's
     * limit. */
    phx_cdr_writer_init(&w, 0);
    phx_cdr_put_ulong(&w, PHX_TK_ARRAY);
    phx_cdr_encap_begin(&w, &mk);
    phx_cdr_put_ulong(&w, PHX_TK_DOUBLE);
    phx_cdr_put_ulong(&w, 100000000);
    phx_cdr_encap_end(&w, &mk);
    phx_cdr_put_double(&w, 1.0);
    phx_any_t a;
    phx_cdr_reader_init(&r, w.buf, w.len, PHX_CDR_NATIVE);
    CU_ASSERT_EQUAL(phx_cdr_get_value(&r, &phx_tc_any, &a), PHX_ELIMIT);
    CU_ASSERT_TRUE(all_zero(&a, sizeof a));
    /* Below the default limit but above a tighter one. */
    phx_cdr_reader_init(&r, w.buf, w.len, PHX_CDR_NATIVE);
    phx_cdr_reader_set_max_len(&r, 1 << 20);
    CU_ASSERT_EQUAL(phx_cdr_get_value(&r, &phx_tc_any, &a), PHX_ELIMIT);
    phx_cdr_writer_fini(&w);

    /* A sequence whose elements are small on the wire (a union is its
     * discriminator when no branch is selected) but large in memory. */
    const phx_typecode_t *big_arr, *big_u, *seq_u;
    CU_ASSERT_EQUAL_FATAL(phx_tc_new_array(&phx_tc_long, 1 << 20, &big_arr),
                          PHX_OK);
    phx_tc_member_t bm = {.name = "m", .type = big_arr, .label = 0};
    CU_ASSERT_EQUAL_FATAL(phx_tc_new_union("IDL:U:1.0", "U", &phx_tc_long,
                                           &bm, 1, &big_u),
                          PHX_OK);
    CU_ASSERT_EQUAL_FATAL(phx_tc_new_sequence(big_u, 0, &seq_u), PHX_OK);
    phx_cdr_writer_init(&w, 0);
    phx_cdr_put_ulong(&w, 64); /* 64 elements of 4 MiB each */
    for (int i = 0; i < 64; i++)
        phx_cdr_put_long(&w, 1); /* no branch selected */
    phx_sequence_t big_seq;
    phx_cdr_reader_init(&r, w.buf, w.len, PHX_CDR_NATIVE);
    phx_cdr_reader_set_max_len(&r, 16 << 20);
    CU_ASSERT_EQUAL(phx_cdr_get_value(&r, seq_u, &big_seq), PHX_ELIMIT);
    phx_cdr_writer_fini(&w);
    phx_typecode_free(seq_u);
    phx_typecode_free(big_u);
    phx_typecode_free(big_arr);
}

static void test_recursion_limit(void)
{
    phx_cdr_writer_t w;
    phx_cdr_reader_t r;
    const phx_typecode_t *tc;
    phx_cdr_mark_t marks[100];

    /* sequence<sequence<...<long>...>> 100 deep */
    phx_cdr_writer_init(&w, 0);
    for (int i = 0; i < 100; i++) {
        phx_cdr_put_ulong(&w, PHX_TK_SEQUENCE);
        phx_cdr_encap_begin(&w, &marks[i]);
    }
    phx_cdr_put_ulong(&w, PHX_TK_LONG);
    for (int i = 99; i >= 0; i--) {
        phx_cdr_put_ulong(&w, 0);
        phx_cdr_encap_end(&w, &marks[i]);
    }
    CU_ASSERT_EQUAL_FATAL(w.err, 0);
    phx_cdr_reader_init(&r, w.buf, w.len, PHX_CDR_NATIVE);
    CU_ASSERT_EQUAL(phx_cdr_get_typecode(&r, &tc), PHX_ELIMIT);
    CU_ASSERT_PTR_NULL(tc);
    phx_cdr_writer_fini(&w);

    /* any holding an any holding ... 100 deep */
    phx_cdr_writer_init(&w, 0);
    for (int i = 0; i < 100; i++)
        phx_cdr_put_ulong(&w, PHX_TK_ANY);
    phx_cdr_put_ulong(&w, PHX_TK_LONG);
    phx_cdr_put_long(&w, 1);
    phx_any_t a;
    phx_cdr_reader_init(&r, w.buf, w.len, PHX_CDR_NATIVE);
    CU_ASSERT_EQUAL(phx_cdr_get_value(&r, &phx_tc_any, &a), PHX_ELIMIT);
    CU_ASSERT_TRUE(all_zero(&a, sizeof a));
    phx_cdr_writer_fini(&w);

    /* A recursive static TypeCode: shallow values work... */
    Node leaf[2] = {{3, {0}}, {4, {0}}};
    Node mid = {2, {2, 2, leaf, false}};
    Node root = {1, {1, 1, &mid, false}}, out;
    CU_ASSERT_EQUAL(encode(&w, &Node_tc, &root), 0);
    phx_cdr_reader_init(&r, w.buf, w.len, PHX_CDR_NATIVE);
    CU_ASSERT_EQUAL(phx_cdr_get_value(&r, &Node_tc, &out), 0);
    CU_ASSERT_TRUE(phx_value_equal(&Node_tc, &root, &out));
    phx_value_free(&Node_tc, &out);
    phx_cdr_writer_fini(&w);

    /* ...its TypeCode cannot be encoded without indirection... */
    phx_cdr_writer_init(&w, 0);
    CU_ASSERT_EQUAL(phx_cdr_put_typecode(&w, &Node_tc), PHX_ELIMIT);
    phx_cdr_writer_fini(&w);

    /* ...and deep chains are refused both ways. */
    Node chain[100];
    for (int i = 0; i < 100; i++) {
        chain[i].v = i;
        chain[i].kids = i < 99 ? (phx_sequence_t){1, 1, &chain[i + 1], false}
                               : (phx_sequence_t){0, 0, NULL, false};
    }
    CU_ASSERT_EQUAL(encode(&w, &Node_tc, &chain[0]), PHX_ELIMIT);
    phx_cdr_writer_fini(&w);
    phx_cdr_writer_init(&w, 0);
    for (int i = 0; i < 100; i++) {
        phx_cdr_put_long(&w, i);
        phx_cdr_put_ulong(&w, i < 99);
    }
    phx_cdr_reader_init(&r, w.buf, w.len, PHX_CDR_NATIVE);
    CU_ASSERT_EQUAL(phx_cdr_get_value(&r, &Node_tc, &out), PHX_ELIMIT);
    CU_ASSERT_TRUE(all_zero(&out, sizeof out));
    phx_cdr_writer_fini(&w);
}

static void test_unsupported_and_sticky(void)
{
    phx_cdr_writer_t w;
    phx_cdr_reader_t r;
    static const phx_typecode_t wstr = {.kind = PHX_TK_WSTRING};
    static const phx_typecode_t fixed = {.kind = PHX_TK_FIXED};
    char *p = NULL;
    int32_t l = 5;

    CU_ASSERT_EQUAL(encode(&w, &wstr, &p), PHX_EUNSUPPORTED);
    phx_cdr_writer_fini(&w);
    phx_cdr_writer_init(&w, 0);
    CU_ASSERT_EQUAL(phx_cdr_put_typecode(&w, &fixed), PHX_EUNSUPPORTED);
    /* The writer stays failed. */
    CU_ASSERT_EQUAL(phx_cdr_put_value(&w, &phx_tc_long, &l), PHX_EUNSUPPORTED);
    phx_cdr_writer_fini(&w);

    /* A failed reader does not touch a value beyond zeroing it. */
    static const uint8_t two[] = {1, 2};
    phx_cdr_reader_init(&r, two, 2, PHX_CDR_NATIVE);
    CU_ASSERT_EQUAL(phx_cdr_get_value(&r, &phx_tc_long, &l), PHX_EMARSHAL);
    CU_ASSERT_EQUAL(l, 0);
    l = 9;
    CU_ASSERT_EQUAL(phx_cdr_get_value(&r, &phx_tc_short, &l), PHX_EMARSHAL);
    CU_ASSERT_EQUAL(l & 0xFFFF, 0);

    /* Fixed-size writer overflow in the middle of a value. */
    uint8_t small[16];
    All a;
    fill_all(&a);
    phx_cdr_writer_init_fixed(&w, small, sizeof small);
    CU_ASSERT_EQUAL(phx_cdr_put_value(&w, &All_tc, &a), PHX_ELIMIT);
}

int main(void)
{
    static const struct {
        const char *name;
        CU_TestFunc fn;
    } tests[] = {
        {"kinds and constants", test_kinds_and_constants},
        {"struct with every kind", test_struct_roundtrip},
        {"deep copy", test_copy},
        {"both byte orders", test_byte_orders},
        {"bounded strings and sequences", test_bounds},
        {"static union", test_static_union},
        {"union discriminator kinds", test_union_disc_kinds},
        {"wide union", test_wide_union},
        {"enums and booleans", test_enums},
        {"arrays", test_arrays},
        {"any", test_any},
        {"TypeCode bytes", test_typecode_bytes},
        {"TypeCode round trip", test_typecode_roundtrip},
        {"TypeCode equality", test_typecode_equal},
        {"builders refuse bad input", test_builders_refuse},
        {"exceptions", test_exception},
        {"object references", test_objref},
        {"truncation and fuzz", test_truncation_and_fuzz},
        {"hostile TypeCodes", test_hostile_typecodes},
        {"recursion limit", test_recursion_limit},
        {"unsupported kinds and sticky errors", test_unsupported_and_sticky},
    };
    CU_pSuite suite;
    unsigned failures;

    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    suite = CU_add_suite("typecode", NULL, NULL);
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
