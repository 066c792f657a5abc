/*
 * test_tc_indirection.c - TypeCodes as omniORB writes them (issue 9,
 * docs/interop.md): an indirection (0xffffffff, offset) for the second
 * use of a type inside one TypeCode is decoded by sharing the first; an
 * indirection to an enclosing TypeCode (recursion) or to nothing is
 * refused with PHX_EUNSUPPORTED without leaks; sharing cannot blow a
 * small TypeCode up exponentially (PHX_ELIMIT); a union default index of
 * -2 (omniORB's "every label covered") means no default.  Needs no
 * omniORB: the bytes are written here, laid out as omniORB 4.2 writes
 * them (tests/interop/test_omni_client.sh checks the real thing).
 */
#include <stdio.h>
#include <string.h>

#include <CUnit/Basic.h>

#include <phx/phx.h>

/* Write struct Point {long x; long y;}; *kind_pos = offset of its TCKind. */
static void put_point(phx_cdr_writer_t *w, size_t *kind_pos)
{
    phx_cdr_mark_t mk;

    phx_cdr_put_ulong(w, PHX_TK_STRUCT);
    *kind_pos = w->len - 4;
    phx_cdr_encap_begin(w, &mk);
    phx_cdr_put_string(w, "IDL:T/Point:1.0");
    phx_cdr_put_string(w, "Point");
    phx_cdr_put_ulong(w, 2);
    phx_cdr_put_string(w, "x");
    phx_cdr_put_ulong(w, PHX_TK_LONG);
    phx_cdr_put_string(w, "y");
    phx_cdr_put_ulong(w, PHX_TK_LONG);
    phx_cdr_encap_end(w, &mk);
}

/* An indirection to the TCKind at target. */
static void put_indirection(phx_cdr_writer_t *w, size_t target)
{
    phx_cdr_put_ulong(w, 0xffffffffu);
    /* put_long aligns to 4, which the ulong above already did. */
    phx_cdr_put_long(w, (int32_t)((long)target - (long)w->len));
}

/* struct Two {Point a; sequence<Point> b; Point c;}: b's element and c
 * are indirections to a's TypeCode (in the same encapsulation and inside
 * a nested one). */
static void test_shared(void)
{
    {
        phx_cdr_writer_t w;
        phx_cdr_mark_t mk, mk2;
        size_t point_at;
        const phx_typecode_t *tc = NULL;
        phx_cdr_reader_t r;

        phx_cdr_writer_init(&w, 0);
        phx_cdr_put_ulong(&w, PHX_TK_STRUCT);
        phx_cdr_encap_begin(&w, &mk);
        phx_cdr_put_string(&w, "IDL:T/Two:1.0");
        phx_cdr_put_string(&w, "Two");
        phx_cdr_put_ulong(&w, 3);
        phx_cdr_put_string(&w, "a");
        put_point(&w, &point_at);
        phx_cdr_put_string(&w, "b");
        phx_cdr_put_ulong(&w, PHX_TK_SEQUENCE);
        phx_cdr_encap_begin(&w, &mk2);
        put_indirection(&w, point_at);
        phx_cdr_put_ulong(&w, 0);
        phx_cdr_encap_end(&w, &mk2);
        phx_cdr_put_string(&w, "c");
        put_indirection(&w, point_at);
        phx_cdr_encap_end(&w, &mk);
        CU_ASSERT_EQUAL_FATAL(w.err, 0);

        phx_cdr_reader_init(&r, w.buf, w.len, PHX_CDR_NATIVE);
        CU_ASSERT_EQUAL(phx_cdr_get_typecode(&r, &tc), PHX_OK);
        CU_ASSERT_PTR_NOT_NULL_FATAL(tc);
        CU_ASSERT_EQUAL(tc->member_count, 3);
        const phx_typecode_t *a = tc->members[0].type;
        CU_ASSERT_EQUAL(a->kind, PHX_TK_STRUCT);
        CU_ASSERT_STRING_EQUAL(a->repo_id, "IDL:T/Point:1.0");
        CU_ASSERT_EQUAL(tc->members[1].type->kind, PHX_TK_SEQUENCE);
        CU_ASSERT_PTR_EQUAL(tc->members[1].type->content, a);
        CU_ASSERT_PTR_EQUAL(tc->members[2].type, a);
        /* The layout is computed: Two holds a, b and c. */
        CU_ASSERT_TRUE(phx_typecode_c_size(tc) >=
                       2 * phx_typecode_c_size(a) + sizeof(phx_sequence_t));

        /* Written out again (without indirections) and read back, the
         * same TypeCode. */
        phx_cdr_writer_t w2;
        const phx_typecode_t *tc2 = NULL;
        phx_cdr_writer_init(&w2, 0);
        CU_ASSERT_EQUAL(phx_cdr_put_typecode(&w2, tc), PHX_OK);
        phx_cdr_reader_init(&r, w2.buf, w2.len, PHX_CDR_NATIVE);
        CU_ASSERT_EQUAL(phx_cdr_get_typecode(&r, &tc2), PHX_OK);
        CU_ASSERT_TRUE(phx_typecode_equal(tc, tc2));
        phx_typecode_free(tc2);
        phx_cdr_writer_fini(&w2);

        phx_typecode_free(tc);
        phx_cdr_writer_fini(&w);
    }
}

/* struct Node {long v; sequence<Node> kids;}: the sequence's element is
 * an indirection to the enclosing struct. */
static void test_recursive_refused(void)
{
    phx_cdr_writer_t w;
    phx_cdr_mark_t mk, mk2;
    const phx_typecode_t *tc = (const phx_typecode_t *)&w;
    phx_cdr_reader_t r;
    size_t node_at;

    phx_cdr_writer_init(&w, 0);
    phx_cdr_put_ulong(&w, PHX_TK_STRUCT);
    node_at = w.len - 4;
    phx_cdr_encap_begin(&w, &mk);
    phx_cdr_put_string(&w, "IDL:T/Node:1.0");
    phx_cdr_put_string(&w, "Node");
    phx_cdr_put_ulong(&w, 2);
    phx_cdr_put_string(&w, "v");
    phx_cdr_put_ulong(&w, PHX_TK_LONG);
    phx_cdr_put_string(&w, "kids");
    phx_cdr_put_ulong(&w, PHX_TK_SEQUENCE);
    phx_cdr_encap_begin(&w, &mk2);
    put_indirection(&w, node_at);
    phx_cdr_put_ulong(&w, 0);
    phx_cdr_encap_end(&w, &mk2);
    phx_cdr_encap_end(&w, &mk);
    CU_ASSERT_EQUAL_FATAL(w.err, 0);
    phx_cdr_reader_init(&r, w.buf, w.len, PHX_CDR_NATIVE);
    CU_ASSERT_EQUAL(phx_cdr_get_typecode(&r, &tc), PHX_EUNSUPPORTED);
    CU_ASSERT_PTR_NULL(tc);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.errmsg, "recursive"));
    phx_cdr_writer_fini(&w);
}

/* Indirections to places that hold no TypeCode decoded so far: before
 * the buffer, to a simple TypeCode, forward, to itself. */
static void test_bad_targets(void)
{
    static const long offsets[] = {-8, -4, 0, 4, 64};
    for (size_t i = 0; i < sizeof offsets / sizeof offsets[0]; i++) {
        phx_cdr_writer_t w;
        phx_cdr_mark_t mk;
        const phx_typecode_t *tc = NULL;
        phx_cdr_reader_t r;

        phx_cdr_writer_init(&w, 0);
        phx_cdr_put_ulong(&w, PHX_TK_ALIAS);
        phx_cdr_encap_begin(&w, &mk);
        phx_cdr_put_string(&w, "IDL:T/A:1.0");
        phx_cdr_put_string(&w, "A");
        phx_cdr_put_ulong(&w, 0xffffffffu);
        phx_cdr_put_long(&w, (int32_t)offsets[i]);
        phx_cdr_encap_end(&w, &mk);
        phx_cdr_reader_init(&r, w.buf, w.len, PHX_CDR_NATIVE);
        CU_ASSERT_EQUAL(phx_cdr_get_typecode(&r, &tc), PHX_EUNSUPPORTED);
        CU_ASSERT_PTR_NULL(tc);
        phx_cdr_writer_fini(&w);
    }
}

/* T0 = struct {long v;}, T(k+1) = struct {T(k) a; T(k) b;} with b an
 * indirection to a: a few bytes per level, 2^depth TypeCodes once
 * expanded.  Shallow ones decode; deep ones are refused (PHX_ELIMIT)
 * instead of costing the receiver exponential time. */
static void put_doubling(phx_cdr_writer_t *w, int depth)
{
    phx_cdr_mark_t mk;
    size_t a_at;
    char name[16];

    phx_cdr_put_ulong(w, PHX_TK_STRUCT);
    phx_cdr_encap_begin(w, &mk);
    snprintf(name, sizeof name, "T%d", depth);
    phx_cdr_put_string(w, name);
    phx_cdr_put_string(w, name);
    if (depth == 0) {
        phx_cdr_put_ulong(w, 1);
        phx_cdr_put_string(w, "v");
        phx_cdr_put_ulong(w, PHX_TK_LONG);
    } else {
        phx_cdr_put_ulong(w, 2);
        phx_cdr_put_string(w, "a");
        /* put_doubling starts with an aligned ulong: its TCKind. */
        a_at = (w->len + 3) & ~(size_t)3;
        put_doubling(w, depth - 1);
        phx_cdr_put_string(w, "b");
        put_indirection(w, a_at);
    }
    phx_cdr_encap_end(w, &mk);
}

static void test_expansion_capped(void)
{
    static const struct {
        int depth;
        int rc;
    } cases[] = {{8, PHX_OK}, {16, PHX_OK}, {24, PHX_ELIMIT}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        phx_cdr_writer_t w;
        phx_cdr_reader_t r;
        const phx_typecode_t *tc = NULL;

        phx_cdr_writer_init(&w, 0);
        put_doubling(&w, cases[i].depth);
        CU_ASSERT_EQUAL_FATAL(w.err, 0);
        CU_ASSERT_TRUE(w.len < 64 * (size_t)(cases[i].depth + 1));
        phx_cdr_reader_init(&r, w.buf, w.len, PHX_CDR_NATIVE);
        CU_ASSERT_EQUAL(phx_cdr_get_typecode(&r, &tc), cases[i].rc);
        if (cases[i].rc == PHX_OK) {
            CU_ASSERT_PTR_NOT_NULL(tc);
            if (tc)
                CU_ASSERT_PTR_EQUAL(tc->members[0].type,
                                    tc->members[1].type);
        } else {
            CU_ASSERT_PTR_NULL(tc);
        }
        phx_typecode_free(tc);
        phx_cdr_writer_fini(&w);
    }
}

/* union U switch (boolean) {case TRUE: long yes; case FALSE: string no;}
 * with default index -2, as omniORB writes it. */
static void test_union_default_minus_two(void)
{
    phx_cdr_writer_t w;
    phx_cdr_mark_t mk;
    const phx_typecode_t *tc = NULL;
    phx_cdr_reader_t r;

    phx_cdr_writer_init(&w, 0);
    phx_cdr_put_ulong(&w, PHX_TK_UNION);
    phx_cdr_encap_begin(&w, &mk);
    phx_cdr_put_string(&w, "IDL:T/U:1.0");
    phx_cdr_put_string(&w, "U");
    phx_cdr_put_ulong(&w, PHX_TK_BOOLEAN);
    phx_cdr_put_long(&w, -2);
    phx_cdr_put_ulong(&w, 2);
    phx_cdr_put_boolean(&w, true);
    phx_cdr_put_string(&w, "yes");
    phx_cdr_put_ulong(&w, PHX_TK_LONG);
    phx_cdr_put_boolean(&w, false);
    phx_cdr_put_string(&w, "no");
    phx_cdr_put_ulong(&w, PHX_TK_STRING);
    phx_cdr_put_ulong(&w, 0);
    phx_cdr_encap_end(&w, &mk);
    phx_cdr_reader_init(&r, w.buf, w.len, PHX_CDR_NATIVE);
    CU_ASSERT_EQUAL(phx_cdr_get_typecode(&r, &tc), PHX_OK);
    CU_ASSERT_PTR_NOT_NULL_FATAL(tc);
    CU_ASSERT_EQUAL(tc->member_count, 2);
    CU_ASSERT_FALSE(tc->members[0].is_default);
    CU_ASSERT_FALSE(tc->members[1].is_default);
    phx_typecode_free(tc);
    phx_cdr_writer_fini(&w);
}

int main(void)
{
    CU_pSuite s;
    unsigned failed;

    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    s = CU_add_suite("TypeCode indirections (omniORB)", NULL, NULL);
    if (!s ||
        !CU_add_test(s, "a type used twice is shared", test_shared) ||
        !CU_add_test(s, "recursive TypeCode refused",
                     test_recursive_refused) ||
        !CU_add_test(s, "indirection to nothing refused", test_bad_targets) ||
        !CU_add_test(s, "expansion through sharing capped",
                     test_expansion_capped) ||
        !CU_add_test(s, "union default index -2",
                     test_union_default_minus_two)) {
        CU_cleanup_registry();
        return 1;
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    failed = CU_get_number_of_failures();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
