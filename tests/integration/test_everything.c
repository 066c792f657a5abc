/*
 * test_everything.c - the code phx-idl generates from idl/everything.idl,
 * across processes: starts everything-server, calls every operation
 * through the generated stubs and checks every value that comes back
 * (result, out and inout), then sends every "T op_x(in T a, out T b,
 * inout T c)" request again encoded in big-endian byte order by hand over
 * a raw ZeroMQ DEALER, so the server decodes the other byte order too.
 * Also: inherited operations and attributes through the diamond, user
 * exceptions with members, _is_a along the inheritance graph, oneways,
 * values refused before sending, an unknown operation.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CUnit/Basic.h>
#include <zmq.h>

#include <phx/phx.h>

#include "harness.h"
#include "idl/everything.h"

static hproc_t server;
static phx_orb_t *orb;
static Test_Everything obj;

/* ------------------------------------------------------------------ */
/* The values: x goes in as a, y as c                                   */
/* ------------------------------------------------------------------ */

static int32_t longs_x[] = {1, -2, 2147483647}, longs_y[] = {9};
static Test_Longs v_longs_x = {3, 3, longs_x, false};
static Test_Longs v_longs_y = {1, 1, longs_y, false};
static Test_Longs v_longs_empty = {0, 0, NULL, false};

static char *strs_x[] = {"a", "bb", "", "dddd"}, *strs_y[] = {"z"};
static Test_Strings4 v_strs_x = {4, 4, strs_x, false};
static Test_Strings4 v_strs_y = {1, 1, strs_y, false};

static int32_t ls1[] = {1}, ls2[] = {2, 3};
static Test_Longs lss_x[] = {{1, 1, ls1, false}, {2, 2, ls2, false},
                             {0, 0, NULL, false}};
static Test_LongsSeq v_lss_x = {3, 3, lss_x, false};
static Test_LongsSeq v_lss_y = {0, 0, NULL, false};

static Test_Color colors_x[] = {Test_red, Test_blue, Test_green},
                  colors_y[] = {Test_blue};
static Test_Colors v_colors_x = {3, 3, colors_x, false};
static Test_Colors v_colors_y = {1, 1, colors_y, false};

static Test_Point pts_x[] = {{1, 2}, {3, 4}, {-5, 6}}, pts_y[] = {{7, 8}};
static Test_Points v_pts_x = {3, 3, pts_x, false};
static Test_Points v_pts_y = {1, 1, pts_y, false};

static Test_Matrix v_mx_x = {{1, 2, 3}, {4, 5, 6}};
static Test_Matrix v_mx_y = {{-1, -2, -3}, {-4, -5, 2147483647}};
static Test_MatrixAlias2 v_mx2_x = {{7, 7, 7}, {0, 0, 1}};
static Test_MatrixAlias2 v_mx2_y = {{0}};

static Test_Names v_names_x = {"left", "right"};
static Test_Names v_names_y = {"", "only"};

static Test_PointGrid v_grid_x = {{{1, 2}, {3, 4}}, {{5, 6}, {7, 8}}};
static Test_PointGrid v_grid_y = {{{-1, -1}, {0, 0}}, {{9, 9}, {2, 1}}};

static Test_AllPrims v_prims_x = {
    .s = -32768, .us = 65535, .l = -2147483647 - 1, .ul = 4294967295u,
    .ll = INT64_MIN, .ull = UINT64_MAX, .f = -1.5f, .d = 1e300,
    .b = true, .c = '\x7f', .o = 255};
static Test_AllPrims v_prims_y = {
    .s = 1, .us = 2, .l = 3, .ul = 4, .ll = 5, .ull = 6, .f = 7.25f,
    .d = -8.5, .b = false, .c = 'c', .o = 0};

static Test_Point v_point_x = {-100, 200}, v_point_y = {3, -3};

static Test_Point corners_x[] = {{0, 0}, {0, 9}, {9, 9}, {9, 0}};
static char *words_a[] = {"alpha", "beta"};
static phx_seq_string words_x[] = {{2, 2, words_a, false},
                                   {0, 0, NULL, false}};
static int32_t nested_longs[] = {42, 43};
static Test_Nested v_nested_x = {
    .p = {1, -1},
    .detail = {.tag = 0xab, .label = "sixteen chars!!!",
              .vals = {0.5, -0.25, 1e-300}},
    .corners = {4, 4, corners_x, false},
    .color = Test_blue,
    .longs = {2, 2, nested_longs, false},
    .words = {2, 2, words_x, false}};
static Test_Nested v_nested_y = {.detail = {.label = ""},
                                 .color = Test_red};

static Test_Node node_leaf4 = {4, {0, 0, NULL, false}};
static Test_Node node_kids3[] = {{5, {0, 0, NULL, false}}};
static Test_Node node_kids1[] = {{2, {0, 0, NULL, false}},
                                 {3, {1, 1, node_kids3, false}}};
static Test_Node v_node_x = {1, {2, 2, node_kids1, false}};

static Test_ByLong v_bylong[3];
static Test_ByShort v_byshort[3];
static Test_ByULongLong v_byull[2];
static Test_ByChar v_bychar[3];
static Test_ByBool v_bybool[2];
static Test_ByEnumAlias v_byenum[3];

static int32_t any_long = -77;
static char *any_str = "any string";
static phx_any_t v_any[5];

static void init_values(void)
{
    v_bylong[0]._d = 1;
    v_bylong[0]._u.l = 5;
    v_bylong[1]._d = 3;
    v_bylong[1]._u.s = "three";
    v_bylong[2]._d = 99; /* the default branch */
    v_bylong[2]._u.p = (Test_Point){7, 8};

    v_byshort[0]._d = -1;
    v_byshort[0]._u.d = 2.5;
    v_byshort[1]._d = 7;
    v_byshort[1]._u.ls = v_longs_x;
    v_byshort[2]._d = 0; /* no branch: the discriminator alone */

    v_byull[0]._d = UINT64_MAX;
    v_byull[0]._u.top = 9;
    v_byull[1]._d = 0;
    v_byull[1]._u.zero = "zero";

    v_bychar[0]._d = 'a';
    v_bychar[0]._u.a = -1;
    v_bychar[1]._d = 'b';
    v_bychar[1]._u.b = "bee";
    v_bychar[2]._d = 'z'; /* default */
    v_bychar[2]._u.other = 3;

    v_bybool[0]._d = true;
    v_bybool[0]._u.yes = 1;
    v_bybool[1]._d = false;
    v_bybool[1]._u.no = "no";

    v_byenum[0]._d = Test_red;
    v_byenum[0]._u.r = 11;
    v_byenum[1]._d = Test_green;
    v_byenum[1]._u.g = (Test_Point){1, 2};
    v_byenum[2]._d = Test_blue;
    memcpy(v_byenum[2]._u.b, v_mx_x, sizeof v_mx_x);

    v_any[0] = (phx_any_t){&phx_tc_long, &any_long, false};
    v_any[1] = (phx_any_t){&phx_tc_string, &any_str, false};
    v_any[2] = (phx_any_t){&TC_Test_Point, &v_point_x, false};
    v_any[3] = (phx_any_t){&TC_Test_Nested, &v_nested_x, false};
    v_any[4] = (phx_any_t){NULL, NULL, false};
}

/* ------------------------------------------------------------------ */
/* Checking one call                                                    */
/* ------------------------------------------------------------------ */

static void describe_failure(const char *what, int rc, phx_env_t *env)
{
    char buf[512];
    fprintf(stderr, "%s: rc %d: %s\n", what, rc,
            phx_env_describe(env, buf, sizeof buf));
}

/* result == x, b == y, c == x; then free them. */
static void check3(const char *what, const phx_typecode_t *tc, int rc,
                   phx_env_t *env, void *r, void *b, void *c, const void *x,
                   const void *y)
{
    CU_ASSERT_EQUAL(rc, PHX_OK);
    if (rc != PHX_OK) {
        describe_failure(what, rc, env);
        phx_env_clear(env);
        return;
    }
    CU_ASSERT_TRUE(phx_value_equal(tc, r, x));
    CU_ASSERT_TRUE(phx_value_equal(tc, b, y));
    CU_ASSERT_TRUE(phx_value_equal(tc, c, x));
    if (!phx_value_equal(tc, r, x) || !phx_value_equal(tc, b, y) ||
        !phx_value_equal(tc, c, x))
        fprintf(stderr, "%s: a value came back wrong\n", what);
    phx_value_free(tc, r);
    phx_value_free(tc, b);
    phx_value_free(tc, c);
}

#define CALL_SCALAR(op, T, tc, X, Y)                                        \
    do {                                                                    \
        T x_ = (X), y_ = (Y), b_, c_ = y_, r_;                              \
        phx_env_t env_ = PHX_ENV_INIT;                                      \
        int rc_ = Test_Everything_##op(obj, x_, &b_, &c_, &r_, &env_);      \
        check3(#op, tc, rc_, &env_, &r_, &b_, &c_, &x_, &y_);               \
    } while (0)

/* T must be one token: a typedef of char *. */
typedef char *str_t;

#define CALL_STRING(op, T, tc, X, Y)                                        \
    do {                                                                    \
        const char *x_ = (X), *y_ = (Y);                                    \
        T b_, c_ = strdup(y_), r_;                                          \
        phx_env_t env_ = PHX_ENV_INIT;                                      \
        int rc_ = Test_Everything_##op(obj, x_, &b_, &c_, &r_, &env_);      \
        check3(#op, tc, rc_, &env_, &r_, &b_, &c_, &x_, &y_);               \
    } while (0)

/* c must be owned by the caller: a deep copy of Y. */
#define CALL_REF(op, T, tc, X, Y)                                           \
    do {                                                                    \
        T b_, c_, r_;                                                       \
        phx_env_t env_ = PHX_ENV_INIT;                                      \
        CU_ASSERT_EQUAL_FATAL(phx_value_copy(tc, &c_, &(Y)), PHX_OK);       \
        int rc_ = Test_Everything_##op(obj, &(X), &b_, &c_, &r_, &env_);    \
        check3(#op, tc, rc_, &env_, &r_, &b_, &c_, &(X), &(Y));             \
    } while (0)

static void test_scalars(void)
{
    CALL_SCALAR(op_short, int16_t, &phx_tc_short, -12345, 32767);
    CALL_SCALAR(op_ushort, uint16_t, &phx_tc_ushort, 65535, 1);
    CALL_SCALAR(op_long, int32_t, &phx_tc_long, -2147483647 - 1, 99);
    CALL_SCALAR(op_ulong, uint32_t, &phx_tc_ulong, 4294967295u, 7);
    CALL_SCALAR(op_longlong, int64_t, &phx_tc_longlong, INT64_MIN,
                INT64_MAX);
    CALL_SCALAR(op_ulonglong, uint64_t, &phx_tc_ulonglong, UINT64_MAX, 0);
    CALL_SCALAR(op_float, float, &phx_tc_float, 1.5f, -0.125f);
    CALL_SCALAR(op_double, double, &phx_tc_double, 3.141592653589793,
                -1e-300);
    CALL_SCALAR(op_boolean, bool, &phx_tc_boolean, true, false);
    CALL_SCALAR(op_boolean, bool, &phx_tc_boolean, false, true);
    CALL_SCALAR(op_char, char, &phx_tc_char, 'A', '\n');
    CALL_SCALAR(op_octet, uint8_t, &phx_tc_octet, 0xfe, 0);
    CALL_SCALAR(op_enum, Test_Color, &TC_Test_Color, Test_blue, Test_red);
}

static void test_strings(void)
{
    CALL_STRING(op_string, str_t, &phx_tc_string, "hello, world", "");
    CALL_STRING(op_string, str_t, &phx_tc_string, "", "was empty");
    CALL_STRING(op_name, Test_Name, &TC_Test_Name, "sixteen chars!!!",
                "x");
}

static void test_sequences_and_arrays(void)
{
    CALL_REF(op_longs, Test_Longs, &TC_Test_Longs, v_longs_x, v_longs_y);
    CALL_REF(op_longs, Test_Longs, &TC_Test_Longs, v_longs_empty,
             v_longs_x);
    CALL_REF(op_strings4, Test_Strings4, &TC_Test_Strings4, v_strs_x,
             v_strs_y);
    CALL_REF(op_longsseq, Test_LongsSeq, &TC_Test_LongsSeq, v_lss_x,
             v_lss_y);
    CALL_REF(op_colors, Test_Colors, &TC_Test_Colors, v_colors_x,
             v_colors_y);
    CALL_REF(op_points, Test_Points, &TC_Test_Points, v_pts_x, v_pts_y);
    CALL_REF(op_matrix, Test_Matrix, &TC_Test_Matrix, v_mx_x, v_mx_y);
    CALL_REF(op_matrix2, Test_MatrixAlias2, &TC_Test_MatrixAlias2, v_mx2_x,
             v_mx2_y);
    CALL_REF(op_names, Test_Names, &TC_Test_Names, v_names_x, v_names_y);
    CALL_REF(op_grid, Test_PointGrid, &TC_Test_PointGrid, v_grid_x,
             v_grid_y);
}

static void test_structs(void)
{
    CALL_REF(op_prims, Test_AllPrims, &TC_Test_AllPrims, v_prims_x,
             v_prims_y);
    CALL_REF(op_point, Test_Point, &TC_Test_Point, v_point_x, v_point_y);
    CALL_REF(op_nested, Test_Nested, &TC_Test_Nested, v_nested_x,
             v_nested_y);
    CALL_REF(op_node, Test_Node, &TC_Test_Node, v_node_x, node_leaf4);
}

static void test_unions(void)
{
    for (int i = 0; i < 3; i++)
        CALL_REF(op_bylong, Test_ByLong, &TC_Test_ByLong, v_bylong[i],
                 v_bylong[(i + 1) % 3]);
    for (int i = 0; i < 3; i++)
        CALL_REF(op_byshort, Test_ByShort, &TC_Test_ByShort, v_byshort[i],
                 v_byshort[(i + 1) % 3]);
    for (int i = 0; i < 2; i++)
        CALL_REF(op_byull, Test_ByULongLong, &TC_Test_ByULongLong,
                 v_byull[i], v_byull[1 - i]);
    for (int i = 0; i < 3; i++)
        CALL_REF(op_bychar, Test_ByChar, &TC_Test_ByChar, v_bychar[i],
                 v_bychar[(i + 1) % 3]);
    for (int i = 0; i < 2; i++)
        CALL_REF(op_bybool, Test_ByBool, &TC_Test_ByBool, v_bybool[i],
                 v_bybool[1 - i]);
    for (int i = 0; i < 3; i++)
        CALL_REF(op_byenum, Test_ByEnumAlias, &TC_Test_ByEnumAlias,
                 v_byenum[i], v_byenum[(i + 1) % 3]);
}

static void test_any_and_typecode(void)
{
    for (int i = 0; i < 5; i++)
        CALL_REF(op_any, phx_any_t, &phx_tc_any, v_any[i], v_any[(i + 1) % 5]);

    /* A TypeCode comes back as an equal (heap) TypeCode. */
    const phx_typecode_t *b = NULL, *c = &phx_tc_long, *r = NULL;
    phx_env_t env = PHX_ENV_INIT;
    int rc = Test_Everything_op_typecode(obj, &TC_Test_Nested, &b, &c, &r,
                                         &env);
    CU_ASSERT_EQUAL(rc, PHX_OK);
    if (rc != PHX_OK) {
        describe_failure("op_typecode", rc, &env);
        phx_env_clear(&env);
        return;
    }
    CU_ASSERT_TRUE(phx_typecode_equal(r, &TC_Test_Nested));
    CU_ASSERT_TRUE(phx_typecode_equal(c, &TC_Test_Nested));
    CU_ASSERT_TRUE(phx_typecode_equal(b, &phx_tc_long));
    phx_typecode_free(r);
    phx_typecode_free(b);
    phx_typecode_free(c);
}

/* References go out and come back as references to the same object. */
static void test_object_references(void)
{
    phx_env_t env = PHX_ENV_INIT;
    Test_Base b = NULL, c = NULL, r = NULL;
    phx_object_t *ob = NULL, *oc = phx_object_ref(obj), *or = NULL;
    int32_t n = 0;

    CU_ASSERT_EQUAL_FATAL(Test_Everything_op_objref(obj, obj, &b, &c, &r,
                                                    &env),
                          PHX_OK);
    CU_ASSERT_PTR_NULL(b);
    CU_ASSERT_TRUE(phx_value_equal(&TC_Test_Base, &r, &obj));
    CU_ASSERT_TRUE(phx_value_equal(&TC_Test_Base, &c, &obj));
    /* And work: the returned reference is a Base. */
    CU_ASSERT_EQUAL(Test_Base_base_op(r, 1, &n, &env), PHX_OK);
    CU_ASSERT_EQUAL(n, 2);
    phx_value_free(&TC_Test_Base, &r);
    phx_value_free(&TC_Test_Base, &c);

    CU_ASSERT_EQUAL_FATAL(Test_Everything_op_object(obj, NULL, &ob, &oc,
                                                    &or, &env),
                          PHX_OK);
    CU_ASSERT_PTR_NULL(or);
    CU_ASSERT_PTR_NULL(oc);
    CU_ASSERT_TRUE(phx_value_equal(&phx_tc_Object, &ob, &obj));
    phx_object_release(ob);
}

static void test_mixed(void)
{
    Test_Points pts;
    char *s = NULL;
    Test_Color col = Test_red;
    phx_env_t env = PHX_ENV_INIT;

    CU_ASSERT_EQUAL_FATAL(phx_value_copy(&TC_Test_Points, &pts, &v_pts_x),
                          PHX_OK);
    int rc = Test_Everything_mixed(obj, &s, 5, &pts, 0.75, &col, &env);
    CU_ASSERT_EQUAL_FATAL(rc, PHX_OK);
    CU_ASSERT_STRING_EQUAL(s, "5/0.75");
    CU_ASSERT_EQUAL(col, Test_blue);
    CU_ASSERT_EQUAL_FATAL(pts._length, 4);
    CU_ASSERT_EQUAL(pts._buffer[0].x, -5);
    CU_ASSERT_EQUAL(pts._buffer[2].y, 2);
    CU_ASSERT_EQUAL(pts._buffer[3].x, 5);
    CU_ASSERT_EQUAL(pts._buffer[3].y, 5);
    free(s);
    Test_Points__free(&pts);
}

/* ------------------------------------------------------------------ */
/* Inheritance, attributes, exceptions                                  */
/* ------------------------------------------------------------------ */

static void test_inherited(void)
{
    phx_env_t env = PHX_ENV_INIT;
    int32_t n = 0, m = 0;
    char *s = NULL;
    Test_Point p = {0, 0}, q = {3, 4};
    Test_Color col = Test_red;

    /* Inherited operations under the derived interface's names. */
    CU_ASSERT_EQUAL(Test_Everything_base_op(obj, 41, &n, &env), PHX_OK);
    CU_ASSERT_EQUAL(n, 42);
    CU_ASSERT_EQUAL(Test_Everything_left_op(obj, "x", &s, &env), PHX_OK);
    CU_ASSERT_STRING_EQUAL(s, "left:x");
    free(s);
    CU_ASSERT_EQUAL(Test_Everything_right_op(obj, &q, &p, &env), PHX_OK);
    CU_ASSERT_TRUE(p.x == 4 && p.y == 3);
    /* And under the base's own. */
    CU_ASSERT_EQUAL(Test_Base_base_op(obj, -1, &n, &env), PHX_OK);
    CU_ASSERT_EQUAL(n, 0);

    /* Attributes: readonly, read-write, from a base and from the most
     * derived interface. */
    CU_ASSERT_EQUAL(Test_Everything__get_calls(obj, &n, &env), PHX_OK);
    CU_ASSERT_EQUAL(Test_Base__get_calls(obj, &m, &env), PHX_OK);
    CU_ASSERT_TRUE(n > 0 && m > n);
    CU_ASSERT_EQUAL(Test_Everything__set_left_color(obj, Test_blue, &env),
                    PHX_OK);
    CU_ASSERT_EQUAL(Test_Left__get_left_color(obj, &col, &env), PHX_OK);
    CU_ASSERT_EQUAL(col, Test_blue);
    CU_ASSERT_EQUAL(Test_Everything__set_origin(obj, &q, &env), PHX_OK);
    CU_ASSERT_EQUAL(Test_Everything__get_origin(obj, &p, &env), PHX_OK);
    CU_ASSERT_TRUE(p.x == 3 && p.y == 4);
    CU_ASSERT_EQUAL(Test_Everything__get_motto(obj, &s, &env), PHX_OK);
    CU_ASSERT_STRING_EQUAL(s, "every type, every way");
    free(s);

    /* getraises / setraises */
    CU_ASSERT_EQUAL(Test_Everything__set_guarded(obj, 5, &env), PHX_OK);
    CU_ASSERT_EQUAL(Test_Everything__get_guarded(obj, &n, &env), PHX_OK);
    CU_ASSERT_EQUAL(n, 5);
    CU_ASSERT_EQUAL(Test_Everything__set_guarded(obj, 0, &env),
                    PHX_EUSEREX);
    CU_ASSERT_STRING_EQUAL(env.repo_id, ex_Test_Empty);
    phx_env_clear(&env);
    CU_ASSERT_EQUAL(Test_Everything__set_guarded(obj, -3, &env), PHX_OK);
    CU_ASSERT_EQUAL(Test_Everything__get_guarded(obj, &n, &env),
                    PHX_EUSEREX);
    CU_ASSERT_STRING_EQUAL(env.repo_id, ex_Test_Oops);
    CU_ASSERT_PTR_EQUAL(env.user_tc, &TC_Test_Oops);
    if (env.user_value) {
        const Test_Oops *o = env.user_value;
        CU_ASSERT_EQUAL(o->code, -3);
        CU_ASSERT_STRING_EQUAL(o->why, "negative");
    }
    phx_env_clear(&env);
    CU_ASSERT_EQUAL(Test_Everything__set_guarded(obj, 1, &env), PHX_OK);
}

static void test_exceptions(void)
{
    phx_env_t env = PHX_ENV_INIT;

    CU_ASSERT_EQUAL(Test_Everything_fail(obj, 0, &env), PHX_EUSEREX);
    CU_ASSERT_EQUAL(env.major, PHX_USER_EXCEPTION);
    CU_ASSERT_STRING_EQUAL(env.repo_id, "IDL:phalanx.org/Test/Empty:1.0");
    phx_env_clear(&env);

    CU_ASSERT_EQUAL(Test_Everything_fail(obj, 7, &env), PHX_EUSEREX);
    CU_ASSERT_STRING_EQUAL(env.repo_id, ex_Test_Oops);
    CU_ASSERT_PTR_NOT_NULL_FATAL(env.user_value);
    const Test_Oops *o = env.user_value;
    CU_ASSERT_EQUAL(o->code, 7);
    CU_ASSERT_STRING_EQUAL(o->why, "oops 7");
    CU_ASSERT_EQUAL_FATAL(o->where._length, 1);
    CU_ASSERT_TRUE(o->where._buffer[0].x == 7 &&
                   o->where._buffer[0].y == -7);
    phx_env_clear(&env);
}

static void test_is_a(void)
{
    static const char *const yes[] = {
        Test_Everything__repo_id, Test_Left__repo_id, Test_Right__repo_id,
        Test_Base__repo_id, "IDL:omg.org/CORBA/Object:1.0"};
    phx_env_t env = PHX_ENV_INIT;
    bool b;

    CU_ASSERT_STRING_EQUAL(Test_Base__repo_id,
                           "IDL:phalanx.org/Test/Base:1.0");
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        b = false;
        CU_ASSERT_EQUAL(phx_object_is_a(obj, yes[i], &b, &env), PHX_OK);
        CU_ASSERT_TRUE(b);
    }
    b = true;
    CU_ASSERT_EQUAL(phx_object_is_a(obj, "IDL:phalanx.org/Test/Point:1.0",
                                    &b, &env),
                    PHX_OK);
    CU_ASSERT_FALSE(b);
    /* The descriptions know the graph too. */
    CU_ASSERT_TRUE(phx_ifdesc_is_a(&Test_Everything__desc,
                                   Test_Base__repo_id));
    CU_ASSERT_FALSE(phx_ifdesc_is_a(&Test_Left__desc, Test_Right__repo_id));
    CU_ASSERT_PTR_EQUAL(phx_ifdesc_find_op(&Test_Everything__desc,
                                           "base_op"),
                        &Test_Base__op_base_op);
    CU_ASSERT_PTR_EQUAL(phx_ifdesc_find_op(&Test_Everything__desc,
                                           "_set_left_color"),
                        &Test_Left__op__set_left_color);
}

static void test_oneway(void)
{
    phx_env_t env = PHX_ENV_INIT;
    uint32_t before = 0, after = 0;

    CU_ASSERT_EQUAL(Test_Everything_notes(obj, &before, &env), PHX_OK);
    for (int i = 0; i < 3; i++)
        CU_ASSERT_EQUAL(Test_Everything_note(obj, "hi", &env), PHX_OK);
    CU_ASSERT_EQUAL(Test_Everything_notes(obj, &after, &env), PHX_OK);
    CU_ASSERT_EQUAL(after, before + 3);
}

static void test_deferred(void)
{
    phx_request_t *req[3];
    phx_env_t env = PHX_ENV_INIT;

    for (int i = 0; i < 3; i++)
        CU_ASSERT_EQUAL_FATAL(Test_Everything_op_long__send(obj, i, 100 + i,
                                                            &req[i], &env),
                              PHX_OK);
    for (int i = 2; i >= 0; i--) {
        int32_t b = 0, c = 0, r = 0;
        CU_ASSERT_EQUAL(Test_Everything_op_long__recv(req[i], &b, &c, &r,
                                                      &env),
                        PHX_OK);
        CU_ASSERT_TRUE(r == i && b == 100 + i && c == i);
    }
}

/* Values that do not fit their type are refused before anything is
 * sent, and nothing changes. */
static void test_refused_values(void)
{
    phx_env_t env = PHX_ENV_INIT;
    char *c = strdup("kept");
    char *b = (char *)"untouched", *r = NULL;
    char *five[] = {"1", "2", "3", "4", "5"};
    Test_Strings4 s5 = {5, 5, five, false}, sb, sc = {0, 0, NULL, false},
                  sr;
    Test_Color cb, cc = Test_red, cr;

    CU_ASSERT_EQUAL(Test_Everything_op_name(obj, "seventeen chars!!", &b,
                                            &c, &r, &env),
                    PHX_ESYSEX);
    CU_ASSERT_TRUE(phx_env_is(&env, PHX_SYSEX_BAD_PARAM));
    CU_ASSERT_EQUAL(env.completed, PHX_COMPLETED_NO);
    CU_ASSERT_STRING_EQUAL(c, "kept");
    CU_ASSERT_PTR_NULL(b); /* out values are zeroed on failure */
    free(c);
    phx_env_clear(&env);

    CU_ASSERT_EQUAL(Test_Everything_op_strings4(obj, &s5, &sb, &sc, &sr,
                                                &env),
                    PHX_ESYSEX);
    CU_ASSERT_TRUE(phx_env_is(&env, PHX_SYSEX_BAD_PARAM));
    phx_env_clear(&env);

    CU_ASSERT_EQUAL(Test_Everything_op_enum(obj, (Test_Color)3, &cb, &cc,
                                            &cr, &env),
                    PHX_ESYSEX);
    CU_ASSERT_TRUE(phx_env_is(&env, PHX_SYSEX_BAD_PARAM));
    phx_env_clear(&env);
}

static void test_unknown_operation(void)
{
    static const phx_opdesc_t nope = {.name = "no_such_operation",
                                      .result = &phx_tc_void};
    phx_env_t env = PHX_ENV_INIT;

    CU_ASSERT_EQUAL(phx_op_invoke(obj, &nope, NULL, NULL, &env),
                    PHX_ESYSEX);
    CU_ASSERT_TRUE(phx_env_is(&env, PHX_SYSEX_BAD_OPERATION));
    phx_env_clear(&env);
}

/* ------------------------------------------------------------------ */
/* Big-endian requests, encoded by hand                                 */
/* ------------------------------------------------------------------ */

typedef struct bew {
    uint8_t *buf;
    size_t len, cap;
    bool bad;
} bew_t;

static void be_raw(bew_t *w, const void *p, size_t n)
{
    if (w->len + n > w->cap) {
        size_t cap = (w->len + n) * 2 + 64;
        uint8_t *b = realloc(w->buf, cap);
        if (b == NULL) {
            w->bad = true;
            return;
        }
        w->buf = b;
        w->cap = cap;
    }
    memcpy(w->buf + w->len, p, n);
    w->len += n;
}

/* Alignment is relative to the start of the GIOP message. */
static void be_align(bew_t *w, size_t n)
{
    static const uint8_t zero[8];
    if (w->len % n)
        be_raw(w, zero, n - w->len % n);
}

static void be_uint(bew_t *w, uint64_t v, size_t n)
{
    uint8_t b[8];
    be_align(w, n);
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
    be_raw(w, b, n);
}

static uint64_t load(const void *p, size_t n)
{
    uint8_t u8;
    uint16_t u16;
    uint32_t u32;
    uint64_t u64;

    switch (n) {
    case 1:
        memcpy(&u8, p, 1);
        return u8;
    case 2:
        memcpy(&u16, p, 2);
        return u16;
    case 4:
        memcpy(&u32, p, 4);
        return u32;
    default:
        memcpy(&u64, p, 8);
        return u64;
    }
}

static size_t prim_size(phx_tckind_t k)
{
    switch (k) {
    case PHX_TK_BOOLEAN:
    case PHX_TK_CHAR:
    case PHX_TK_OCTET:
        return 1;
    case PHX_TK_SHORT:
    case PHX_TK_USHORT:
        return 2;
    case PHX_TK_LONG:
    case PHX_TK_ULONG:
    case PHX_TK_FLOAT:
    case PHX_TK_ENUM:
        return 4;
    case PHX_TK_LONGLONG:
    case PHX_TK_ULONGLONG:
    case PHX_TK_DOUBLE:
        return 8;
    default:
        return 0;
    }
}

/* A discriminator as the int64_t of the union's member labels. */
static int64_t disc_value(phx_tckind_t k, const void *p)
{
    switch (k) {
    case PHX_TK_SHORT:
        return (int16_t)load(p, 2);
    case PHX_TK_LONG:
        return (int32_t)load(p, 4);
    default:
        return (int64_t)load(p, prim_size(k));
    }
}

/* CDR in big-endian of the value at v (the C mapping of typecode.h). */
static void be_value(bew_t *w, const phx_typecode_t *tc, const void *v)
{
    const uint8_t *p = v;
    size_t n = prim_size(tc->kind);

    if (n) {
        be_uint(w, load(v, n), n);
        return;
    }
    switch (tc->kind) {
    case PHX_TK_STRING: {
        const char *s;
        memcpy(&s, v, sizeof s);
        n = s ? strlen(s) : 0;
        be_uint(w, n + 1, 4);
        be_raw(w, s ? s : "", n + 1);
        return;
    }
    case PHX_TK_SEQUENCE: {
        phx_sequence_t s;
        size_t es = phx_typecode_c_size(tc->content);
        memcpy(&s, v, sizeof s);
        be_uint(w, s._length, 4);
        for (uint32_t i = 0; i < s._length; i++)
            be_value(w, tc->content, (const uint8_t *)s._buffer + i * es);
        return;
    }
    case PHX_TK_ARRAY: {
        size_t es = phx_typecode_c_size(tc->content);
        for (uint32_t i = 0; i < tc->length; i++)
            be_value(w, tc->content, p + i * es);
        return;
    }
    case PHX_TK_STRUCT:
    case PHX_TK_EXCEPT:
        for (uint32_t i = 0; i < tc->member_count; i++)
            be_value(w, tc->members[i].type, p + tc->members[i].offset);
        return;
    case PHX_TK_UNION: {
        const phx_typecode_t *d = phx_typecode_unalias(tc->discriminator);
        int64_t dv = disc_value(d->kind, v);
        const phx_tc_member_t *m = NULL, *def = NULL;
        be_value(w, d, v);
        for (uint32_t i = 0; i < tc->member_count && m == NULL; i++) {
            if (tc->members[i].is_default)
                def = &tc->members[i];
            else if (tc->members[i].label == dv)
                m = &tc->members[i];
        }
        if (m == NULL)
            m = def;
        if (m)
            be_value(w, m->type, p + m->offset);
        return;
    }
    case PHX_TK_ALIAS:
        be_value(w, tc->content, v);
        return;
    default:
        w->bad = true;
        return;
    }
}

typedef struct be_case {
    const phx_opdesc_t *op;
    const void *x, *y;
} be_case_t;

static void *zctx, *zsock;
static uint8_t object_key[256];
static size_t object_key_len;

/* Send op(x, -, y) big-endian and check the reply as check3 does. */
static void be_call(const be_case_t *t, uint32_t id)
{
    const phx_opdesc_t *op = t->op;
    const phx_typecode_t *tc = op->result;
    size_t size = phx_typecode_c_size(tc);
    bew_t w = {NULL, 0, 0, false};
    static const uint8_t header[8] = {'G', 'I', 'O', 'P', 1, 2, 0, 0};
    static const uint8_t reserved[3];
    void *b = calloc(1, size), *c = calloc(1, size), *r = calloc(1, size);
    void *const slots[3] = {NULL, b, c};
    phx_giop_header_t h;
    phx_giop_reply_t rep;
    phx_cdr_reader_t rd;
    zmq_msg_t msg;

    CU_ASSERT_FATAL(b && c && r);
    be_raw(&w, header, sizeof header);
    be_uint(&w, 0, 4);                 /* message size, patched below */
    be_uint(&w, id, 4);                /* request_id */
    be_uint(&w, 3, 1);                 /* response_flags: SYNC_WITH_TARGET */
    be_raw(&w, reserved, 3);
    be_uint(&w, 0, 2);                 /* KeyAddr */
    be_uint(&w, object_key_len, 4);
    be_raw(&w, object_key, object_key_len);
    be_uint(&w, strlen(op->name) + 1, 4);
    be_raw(&w, op->name, strlen(op->name) + 1);
    be_uint(&w, 0, 4);                 /* no service contexts */
    be_align(&w, 8);
    be_value(&w, op->params[0].type, t->x);
    be_value(&w, op->params[2].type, t->y);
    CU_ASSERT_FATAL(!w.bad);
    for (int i = 0; i < 4; i++)
        w.buf[8 + i] = (uint8_t)((w.len - 12) >> (8 * (3 - i)));

    CU_ASSERT_EQUAL_FATAL(zmq_send(zsock, w.buf, w.len, 0), (int)w.len);
    free(w.buf);
    zmq_msg_init(&msg);
    CU_ASSERT_FATAL(zmq_msg_recv(&msg, zsock, 0) >= 0);
    CU_ASSERT_EQUAL_FATAL(phx_giop_parse_header(zmq_msg_data(&msg),
                                                zmq_msg_size(&msg), &h, NULL),
                          PHX_OK);
    phx_giop_reader_init(&rd, zmq_msg_data(&msg), zmq_msg_size(&msg), &h);
    CU_ASSERT_EQUAL_FATAL(phx_giop_read_reply(&rd, &rep, NULL), PHX_OK);
    CU_ASSERT_EQUAL(rep.request_id, id);
    CU_ASSERT_EQUAL(rep.reply_status, PHX_GIOP_NO_EXCEPTION);
    if (rep.reply_status == PHX_GIOP_NO_EXCEPTION) {
        CU_ASSERT_EQUAL(phx_op_get_results(&rd, op, slots, r), PHX_OK);
        CU_ASSERT_TRUE(phx_value_equal(tc, r, t->x));
        CU_ASSERT_TRUE(phx_value_equal(tc, b, t->y));
        CU_ASSERT_TRUE(phx_value_equal(tc, c, t->x));
        if (!phx_value_equal(tc, r, t->x) || !phx_value_equal(tc, b, t->y) ||
            !phx_value_equal(tc, c, t->x))
            fprintf(stderr, "%s (big-endian): a value came back wrong\n",
                    op->name);
    } else {
        fprintf(stderr, "%s (big-endian): reply status %u\n", op->name,
                rep.reply_status);
    }
    phx_giop_reply_fini(&rep);
    zmq_msg_close(&msg);
    phx_value_free(tc, r);
    phx_value_free(tc, b);
    phx_value_free(tc, c);
    free(r);
    free(b);
    free(c);
}

static void test_big_endian(void)
{
    static int16_t s_x = -2, s_y = 300;
    static uint16_t us_x = 0xfeed, us_y = 1;
    static int32_t l_x = -123456789, l_y = 1;
    static uint32_t ul_x = 0xdeadbeef, ul_y = 2;
    static int64_t ll_x = -1234567890123LL, ll_y = 3;
    static uint64_t ull_x = 0x0102030405060708ULL, ull_y = 4;
    static float f_x = -3.5f, f_y = 1e10f;
    static double d_x = 2.718281828459045, d_y = -0.0;
    static bool b_x = true, b_y = false;
    static char c_x = 'Z', c_y = 'a';
    static uint8_t o_x = 0x80, o_y = 1;
    static Test_Color e_x = Test_green, e_y = Test_blue;
    static char *str_x = "big-endian", *str_y = "";
    const be_case_t cases[] = {
        {&Test_Everything__op_op_short, &s_x, &s_y},
        {&Test_Everything__op_op_ushort, &us_x, &us_y},
        {&Test_Everything__op_op_long, &l_x, &l_y},
        {&Test_Everything__op_op_ulong, &ul_x, &ul_y},
        {&Test_Everything__op_op_longlong, &ll_x, &ll_y},
        {&Test_Everything__op_op_ulonglong, &ull_x, &ull_y},
        {&Test_Everything__op_op_float, &f_x, &f_y},
        {&Test_Everything__op_op_double, &d_x, &d_y},
        {&Test_Everything__op_op_boolean, &b_x, &b_y},
        {&Test_Everything__op_op_char, &c_x, &c_y},
        {&Test_Everything__op_op_octet, &o_x, &o_y},
        {&Test_Everything__op_op_enum, &e_x, &e_y},
        {&Test_Everything__op_op_string, &str_x, &str_y},
        {&Test_Everything__op_op_name, &str_x, &str_y},
        {&Test_Everything__op_op_longs, &v_longs_x, &v_longs_y},
        {&Test_Everything__op_op_strings4, &v_strs_x, &v_strs_y},
        {&Test_Everything__op_op_longsseq, &v_lss_x, &v_lss_y},
        {&Test_Everything__op_op_colors, &v_colors_x, &v_colors_y},
        {&Test_Everything__op_op_points, &v_pts_x, &v_pts_y},
        {&Test_Everything__op_op_matrix, &v_mx_x, &v_mx_y},
        {&Test_Everything__op_op_matrix2, &v_mx2_x, &v_mx2_y},
        {&Test_Everything__op_op_names, &v_names_x, &v_names_y},
        {&Test_Everything__op_op_grid, &v_grid_x, &v_grid_y},
        {&Test_Everything__op_op_prims, &v_prims_x, &v_prims_y},
        {&Test_Everything__op_op_point, &v_point_x, &v_point_y},
        {&Test_Everything__op_op_nested, &v_nested_x, &v_nested_y},
        {&Test_Everything__op_op_node, &v_node_x, &node_leaf4},
        {&Test_Everything__op_op_bylong, &v_bylong[0], &v_bylong[1]},
        {&Test_Everything__op_op_bylong, &v_bylong[2], &v_bylong[0]},
        {&Test_Everything__op_op_byshort, &v_byshort[1], &v_byshort[2]},
        {&Test_Everything__op_op_byshort, &v_byshort[0], &v_byshort[1]},
        {&Test_Everything__op_op_byull, &v_byull[0], &v_byull[1]},
        {&Test_Everything__op_op_bychar, &v_bychar[2], &v_bychar[1]},
        {&Test_Everything__op_op_bybool, &v_bybool[1], &v_bybool[0]},
        {&Test_Everything__op_op_byenum, &v_byenum[2], &v_byenum[1]},
    };
    phx_ior_t ior;
    phx_profile_t prof;
    int timeout = 10000;

    CU_ASSERT_EQUAL_FATAL(phx_object_get_ior(obj, &ior), PHX_OK);
    CU_ASSERT_EQUAL_FATAL(phx_profile_decode(&ior.profiles[0], &prof, NULL),
                          PHX_OK);
    CU_ASSERT_FATAL(prof.key_len <= sizeof object_key);
    memcpy(object_key, prof.key, prof.key_len);
    object_key_len = prof.key_len;
    zctx = zmq_ctx_new();
    zsock = zmq_socket(zctx, ZMQ_DEALER);
    CU_ASSERT_PTR_NOT_NULL_FATAL(zsock);
    zmq_setsockopt(zsock, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    zmq_setsockopt(zsock, ZMQ_SNDTIMEO, &timeout, sizeof timeout);
    CU_ASSERT_EQUAL_FATAL(zmq_connect(zsock, prof.endpoint), 0);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        be_call(&cases[i], (uint32_t)(1000 + i));
    zmq_close(zsock);
    zmq_ctx_term(zctx);
    phx_profile_fini(&prof);
    phx_ior_fini(&ior);
}

/* ------------------------------------------------------------------ */

static int start_server(void)
{
    char ior[8192];
    static char prog[4096];
    char *argv[] = {prog, NULL};
    phx_orb_config_t cfg;
    phx_error_t err;

    snprintf(prog, sizeof prog, "%s",
             h_prog("tests/integration/everything-server"));
    if (h_spawn(&server, argv) != 0 ||
        h_read_line(&server, ior, sizeof ior, 20000) <= 0) {
        fprintf(stderr, "test_everything: %s did not start\n", prog);
        return -1;
    }
    phx_orb_config_init(&cfg);
    cfg.call_timeout_ms = 10000;
    if (phx_orb_create(&cfg, &orb, &err) != PHX_OK ||
        phx_object_from_string(orb, ior, &obj, &err) != PHX_OK) {
        fprintf(stderr, "test_everything: %s\n", err.msg);
        return -1;
    }
    return 0;
}

/* The last test: the oneway shutdown stops the server cleanly. */
static void test_shutdown(void)
{
    phx_env_t env = PHX_ENV_INIT;

    CU_ASSERT_EQUAL_FATAL(Test_Everything_shutdown(obj, &env), PHX_OK);
    CU_ASSERT_TRUE_FATAL(h_wait_exit(&server, 10000));
    CU_ASSERT_TRUE(WIFEXITED(server.status) &&
                   WEXITSTATUS(server.status) == 0);
}

int main(void)
{
    static const struct {
        const char *name;
        void (*fn)(void);
    } tests[] = {
        {"every basic type", test_scalars},
        {"strings, bounded and not", test_strings},
        {"sequences and arrays", test_sequences_and_arrays},
        {"structs: flat, nested, recursive", test_structs},
        {"unions on every discriminator kind", test_unions},
        {"any and TypeCode", test_any_and_typecode},
        {"object references", test_object_references},
        {"mixed modes", test_mixed},
        {"inherited operations and attributes", test_inherited},
        {"user exceptions with members", test_exceptions},
        {"_is_a through the diamond", test_is_a},
        {"oneway", test_oneway},
        {"deferred calls", test_deferred},
        {"values refused before sending", test_refused_values},
        {"unknown operation", test_unknown_operation},
        {"big-endian requests", test_big_endian},
        {"shutdown", test_shutdown},
    };
    CU_pSuite s;
    unsigned failed;

    signal(SIGPIPE, SIG_IGN);
    alarm(300);
    init_values();
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    s = CU_add_suite("everything", NULL, NULL);
    for (size_t i = 0; s && i < sizeof tests / sizeof tests[0]; i++)
        if (!CU_add_test(s, tests[i].name, tests[i].fn))
            s = NULL;
    if (s == NULL || start_server() != 0) {
        if (server.pid > 0)
            h_kill(&server, SIGKILL, 5000);
        CU_cleanup_registry();
        return 1;
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    if (!server.reaped)
        h_kill(&server, SIGKILL, 5000);
    phx_object_release(obj);
    phx_orb_destroy(orb);
    failed = CU_get_number_of_failures();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
