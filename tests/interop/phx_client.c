/*
 * phx_client.c - a Phalanx client (the C stubs phx-idl generates) of
 * standard CORBA servers, for the interoperability tests
 * (docs/interop.md):
 *
 *   phx_client everything REF
 *       call every operation of Test::Everything (idl/everything.idl) at
 *       REF (an omniORB server: tests/interop/omni_server.cc) and check
 *       every value: result, out and inout; attributes, user and system
 *       exceptions; then print the components of REF's IIOP profile and
 *       check its TAG_CODE_SETS (omniORB's code sets).
 *   phx_client naming NSREF NAME OBJREF
 *       through CosNaming (idl/CosNaming.idl) at NSREF (omniNames): bind
 *       OBJREF under NAME ("ctx.kind/name"), resolve it back with resolve
 *       and resolve_str, call base_op on what comes back, list the
 *       context, check NotFound and AlreadyBound, to_name/to_string/to_url.
 *   phx_client iogr [--alternates] OUTFILE REF...
 *       write to OUTFILE the IOGR phx_ft_iogr_build makes of the REFs
 *       (members of one object group), for the fail-over test; with
 *       --alternates, each IIOP profile also lists the other members'
 *       addresses as TAG_ALTERNATE_IIOP_ADDRESS components (same key).
 *   phx_client call REF
 *       base_op(41) == 42.
 *   phx_client echo REF N
 *       N calls of op_long; prints "phx_echo: median_us=..." (bench).
 *   phx_client codesets REF
 *       print the components of REF's IIOP profiles; check that they
 *       carry TAG_CODE_SETS with native char set ISO-8859-1.
 *
 * REF is "IOR:...", "corbaloc:..." or "@FILE" (the first line of FILE).
 * Exit status 0 when every check passed, 1 otherwise, 2 for bad usage.
 * Every failed check prints one "FAIL: ..." line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <phx/phx.h>
#include <phx/ft.h>

#include "idl/everything.h"
#include "tests/interop/gen/CosNaming.h"

static int failures, checks;

#define CHECK(cond, ...)                                                    \
    do {                                                                    \
        checks++;                                                           \
        if (!(cond)) {                                                      \
            failures++;                                                     \
            fprintf(stderr, "FAIL: %s:%d: %s: ", __FILE__, __LINE__,        \
                    #cond);                                                 \
            fprintf(stderr, __VA_ARGS__);                                   \
            fputc('\n', stderr);                                            \
        }                                                                   \
    } while (0)

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
    failures++;
    fprintf(stderr, "FAIL: %s: rc %d: %s\n", what, rc,
            phx_env_describe(env, buf, sizeof buf));
    phx_env_clear(env);
}

/* result == x, b == y, c == x; then free them. */
static void check3(const char *what, const phx_typecode_t *tc, int rc,
                   phx_env_t *env, void *r, void *b, void *c, const void *x,
                   const void *y)
{
    checks++;
    if (rc != PHX_OK) {
        describe_failure(what, rc, env);
        return;
    }
    CHECK(phx_value_equal(tc, r, x) && phx_value_equal(tc, b, y) &&
              phx_value_equal(tc, c, x),
          "%s: a value came back wrong", what);
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

typedef char *str_t;

#define CALL_STRING(op, T, tc, X, Y)                                        \
    do {                                                                    \
        const char *x_ = (X), *y_ = (Y);                                    \
        T b_, c_ = strdup(y_), r_;                                          \
        phx_env_t env_ = PHX_ENV_INIT;                                      \
        int rc_ = Test_Everything_##op(obj, x_, &b_, &c_, &r_, &env_);      \
        if (rc_ != PHX_OK)                                                  \
            free(c_);                                                       \
        check3(#op, tc, rc_, &env_, &r_, &b_, &c_, &x_, &y_);               \
    } while (0)

#define CALL_REF(op, T, tc, X, Y)                                           \
    do {                                                                    \
        T b_, c_, r_;                                                       \
        phx_env_t env_ = PHX_ENV_INIT;                                      \
        if (phx_value_copy(tc, &c_, &(Y)) != PHX_OK)                        \
            abort();                                                        \
        int rc_ = Test_Everything_##op(obj, &(X), &b_, &c_, &r_, &env_);    \
        if (rc_ != PHX_OK)                                                  \
            phx_value_free(tc, &c_);                                        \
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
    /* Eight-bit characters: ISO-8859-1, omniORB's native char set. */
    CALL_STRING(op_string, str_t, &phx_tc_string, "caf\xe9 \xfc\xff", "x");
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
    /* omniORB sends the TypeCode of Nested back with an indirection for
     * its second use of Point (corners): decoded since issue 9. */
    for (int i = 0; i < 5; i++)
        CALL_REF(op_any, phx_any_t, &phx_tc_any, v_any[i], v_any[(i + 1) % 5]);

    static const phx_typecode_t *const tcs[] = {
        &TC_Test_Nested, &TC_Test_ByEnumAlias, &TC_Test_ByBool,
        &TC_Test_Everything, &TC_Test_Oops};
    for (size_t i = 0; i < sizeof tcs / sizeof tcs[0]; i++) {
        const phx_typecode_t *b = NULL, *c = &phx_tc_long, *r = NULL;
        phx_env_t env = PHX_ENV_INIT;
        int rc = Test_Everything_op_typecode(obj, tcs[i], &b, &c, &r, &env);
        if (rc != PHX_OK) {
            describe_failure("op_typecode", rc, &env);
            continue;
        }
        CHECK(phx_typecode_equal(r, tcs[i]) && phx_typecode_equal(c, tcs[i]) &&
                  phx_typecode_equal(b, &phx_tc_long),
              "op_typecode %s", tcs[i]->repo_id);
        phx_typecode_free(r);
        phx_typecode_free(b);
        phx_typecode_free(c);
    }
}

static void test_object_references(void)
{
    phx_env_t env = PHX_ENV_INIT;
    Test_Base b = NULL, c = NULL, r = NULL;
    phx_object_t *ob = NULL, *oc = phx_object_ref(obj), *or = NULL;
    int32_t n = 0;
    int rc;

    rc = Test_Everything_op_objref(obj, obj, &b, &c, &r, &env);
    if (rc != PHX_OK) {
        describe_failure("op_objref", rc, &env);
    } else {
        CHECK(b == NULL, "op_objref out");
        CHECK(phx_value_equal(&TC_Test_Base, &r, &obj) &&
                  phx_value_equal(&TC_Test_Base, &c, &obj),
              "op_objref result and inout");
        CHECK(Test_Base_base_op(r, 1, &n, &env) == PHX_OK && n == 2,
              "a returned reference works");
        phx_value_free(&TC_Test_Base, &r);
        phx_value_free(&TC_Test_Base, &c);
    }
    rc = Test_Everything_op_object(obj, NULL, &ob, &oc, &or, &env);
    if (rc != PHX_OK) {
        phx_object_release(oc);
        describe_failure("op_object", rc, &env);
        return;
    }
    CHECK(or == NULL && oc == NULL, "op_object nil");
    CHECK(phx_value_equal(&phx_tc_Object, &ob, &obj), "op_object out");
    phx_object_release(ob);
}

static void test_mixed(void)
{
    Test_Points pts;
    char *s = NULL;
    Test_Color col = Test_red;
    phx_env_t env = PHX_ENV_INIT;

    if (phx_value_copy(&TC_Test_Points, &pts, &v_pts_x) != PHX_OK)
        abort();
    int rc = Test_Everything_mixed(obj, &s, 5, &pts, 0.75, &col, &env);
    if (rc != PHX_OK) {
        describe_failure("mixed", rc, &env);
    } else {
        CHECK(strcmp(s, "5/0.75") == 0, "mixed s %s", s);
        CHECK(col == Test_blue, "mixed col");
        CHECK(pts._length == 4 && pts._buffer[0].x == -5 &&
                  pts._buffer[2].y == 2 && pts._buffer[3].x == 5 &&
                  pts._buffer[3].y == 5,
              "mixed pts");
        free(s);
    }
    Test_Points__free(&pts);
}

static void test_inherited_and_attributes(void)
{
    phx_env_t env = PHX_ENV_INIT;
    int32_t n = 0, m = 0;
    char *s = NULL;
    Test_Point p = {0, 0}, q = {3, 4};
    Test_Color col = Test_red;

    CHECK(Test_Everything_base_op(obj, 41, &n, &env) == PHX_OK && n == 42,
          "base_op");
    CHECK(Test_Everything_left_op(obj, "x", &s, &env) == PHX_OK &&
              strcmp(s, "left:x") == 0,
          "left_op");
    free(s);
    CHECK(Test_Everything_right_op(obj, &q, &p, &env) == PHX_OK &&
              p.x == 4 && p.y == 3,
          "right_op");
    CHECK(Test_Base_base_op(obj, -1, &n, &env) == PHX_OK && n == 0,
          "Base base_op");
    CHECK(Test_Everything__get_calls(obj, &n, &env) == PHX_OK &&
              Test_Base__get_calls(obj, &m, &env) == PHX_OK && n > 0 &&
              m > n,
          "calls");
    CHECK(Test_Everything__set_left_color(obj, Test_blue, &env) == PHX_OK &&
              Test_Left__get_left_color(obj, &col, &env) == PHX_OK &&
              col == Test_blue,
          "left_color");
    CHECK(Test_Everything__set_origin(obj, &q, &env) == PHX_OK &&
              Test_Everything__get_origin(obj, &p, &env) == PHX_OK &&
              p.x == 3 && p.y == 4,
          "origin");
    s = NULL;
    CHECK(Test_Everything__get_motto(obj, &s, &env) == PHX_OK && s &&
              strcmp(s, "every type, every way") == 0,
          "motto");
    free(s);
    CHECK(Test_Everything__set_guarded(obj, 5, &env) == PHX_OK &&
              Test_Everything__get_guarded(obj, &n, &env) == PHX_OK &&
              n == 5,
          "guarded");
    /* omniidl cannot declare getraises/setraises: the omniORB servant's
     * Empty and Oops leave as CORBA::UNKNOWN (docs/interop.md). */
    CHECK(Test_Everything__set_guarded(obj, 0, &env) == PHX_ESYSEX &&
              env.sysex == PHX_SYSEX_UNKNOWN,
          "setraises through omniORB gives UNKNOWN");
    phx_env_clear(&env);
    CHECK(Test_Everything__set_guarded(obj, 1, &env) == PHX_OK,
          "guarded 1");
}

static void test_exceptions(void)
{
    phx_env_t env = PHX_ENV_INIT;

    CHECK(Test_Everything_fail(obj, 0, &env) == PHX_EUSEREX &&
              env.repo_id &&
              strcmp(env.repo_id, "IDL:phalanx.org/Test/Empty:1.0") == 0,
          "fail(0) raises Empty");
    phx_env_clear(&env);
    CHECK(Test_Everything_fail(obj, 7, &env) == PHX_EUSEREX, "fail(7)");
    const Test_Oops *o = env.user_value;
    CHECK(o && o->code == 7 && strcmp(o->why, "oops 7") == 0 &&
              o->where._length == 1 && o->where._buffer[0].x == 7 &&
              o->where._buffer[0].y == -7,
          "Oops members");
    phx_env_clear(&env);

    /* System exceptions from omniORB: an unknown operation. */
    phx_request_t *req;
    CHECK(phx_request_create(obj, "no_such_operation", 0, &req) == PHX_OK,
          "request");
    CHECK(phx_request_invoke(req, &env) == PHX_ESYSEX &&
              env.sysex == PHX_SYSEX_BAD_OPERATION &&
              env.completed == PHX_COMPLETED_NO,
          "unknown operation gives BAD_OPERATION");
    phx_env_clear(&env);
    phx_request_destroy(req);
}

static void test_is_a_and_oneway(void)
{
    phx_env_t env = PHX_ENV_INIT;
    bool b = false, ne = true;
    uint32_t before = 0, after = 0;

    CHECK(phx_object_is_a(obj, Test_Base__repo_id, &b, &env) == PHX_OK && b,
          "_is_a Base");
    CHECK(phx_object_is_a(obj, "IDL:phalanx.org/Test/Point:1.0", &b,
                          &env) == PHX_OK &&
              !b,
          "_is_a Point");
    CHECK(phx_object_non_existent(obj, &ne, &env) == PHX_OK && !ne,
          "_non_existent");
    CHECK(Test_Everything_notes(obj, &before, &env) == PHX_OK, "notes");
    for (int i = 0; i < 3; i++)
        CHECK(Test_Everything_note(obj, "hi", &env) == PHX_OK, "note");
    /* omniORB dispatches requests on a pool of threads: a oneway may run
     * after the twoway sent behind it, so the count is awaited (2 s). */
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    bool got = false;
    for (;;) {
        got = Test_Everything_notes(obj, &after, &env) == PHX_OK;
        if (!got || after >= before + 3)
            break;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if ((now.tv_sec - t0.tv_sec) * 1000 +
                (now.tv_nsec - t0.tv_nsec) / 1000000 > 2000)
            break;
        struct timespec pause = {0, 1000000};
        nanosleep(&pause, NULL);
    }
    CHECK(got && after == before + 3, "notes %u -> %u", before, after);
}

static void test_deferred(void)
{
    phx_request_t *req[3];
    phx_env_t env = PHX_ENV_INIT;

    for (int i = 0; i < 3; i++)
        if (Test_Everything_op_long__send(obj, i, 100 + i, &req[i], &env))
            return describe_failure("op_long__send", -1, &env);
    for (int i = 2; i >= 0; i--) {
        int32_t b = 0, c = 0, r = 0;
        CHECK(Test_Everything_op_long__recv(req[i], &b, &c, &r, &env) ==
                      PHX_OK &&
                  r == i && b == 100 + i && c == i,
              "deferred %d", i);
    }
}

/* Print the components of the IIOP profiles of ior and the code sets of
 * their TAG_CODE_SETS (CONV_FRAME::CodeSetComponentInfo); *native_char
 * is the first profile's native char code set (0 without the
 * component). */
static bool show_code_sets(const phx_ior_t *ior, uint32_t *native_char)
{
    phx_profile_t p;
    phx_error_t err;
    bool found = false;

    *native_char = 0;
    for (uint32_t i = 0; i < ior->profile_count; i++) {
        memset(&p, 0, sizeof p);
        if (ior->profiles[i].tag != PHX_TAG_INTERNET_IOP ||
            phx_profile_decode(&ior->profiles[i], &p, &err) != PHX_OK)
            continue;
        printf("IIOP %u.%u %s:%u, components:", p.major, p.minor, p.host,
               p.port);
        for (uint32_t j = 0; j < p.component_count; j++)
            printf(" %u", p.components[j].tag);
        printf("\n");
        const phx_tagged_component_t *cs =
            phx_profile_find_component(&p, PHX_TAG_CODE_SETS);
        if (cs) {
            phx_cdr_reader_t r;
            uint32_t nc = 0, nw = 0, n = 0, x;
            phx_cdr_reader_init_encap(&r, cs->data, cs->len);
            phx_cdr_get_ulong(&r, &nc);
            phx_cdr_get_ulong(&r, &n);
            printf("  TAG_CODE_SETS char: native 0x%08x conversion {", nc);
            for (uint32_t k = 0; k < n && k < 16; k++) {
                phx_cdr_get_ulong(&r, &x);
                printf(" 0x%08x", x);
            }
            phx_cdr_get_ulong(&r, &nw);
            phx_cdr_get_ulong(&r, &n);
            printf(" }; wchar: native 0x%08x conversion {", nw);
            for (uint32_t k = 0; k < n && k < 16; k++) {
                phx_cdr_get_ulong(&r, &x);
                printf(" 0x%08x", x);
            }
            printf(" }\n");
            CHECK(r.err == 0, "TAG_CODE_SETS decodes");
            if (!found)
                *native_char = nc;
            found = true;
        }
        phx_profile_fini(&p);
    }
    return found;
}

/* omniORB's reference announces ISO-8859-1, the char set Phalanx's
 * strings are passed through as. */
static void test_code_sets(void)
{
    phx_ior_t ior;
    uint32_t nc = 0;

    CHECK(phx_object_get_ior(obj, &ior) == PHX_OK, "get_ior");
    CHECK(show_code_sets(&ior, &nc), "omniORB's IOR has TAG_CODE_SETS");
    CHECK(nc == 0x00010001u, "omniORB's native char set is ISO-8859-1");
    phx_ior_fini(&ior);
}

/* ------------------------------------------------------------------ */

static char *read_ref(const char *arg)
{
    char line[65536];
    FILE *f;

    if (arg[0] != '@')
        return strdup(arg);
    f = fopen(arg + 1, "r");
    if (f == NULL || fgets(line, sizeof line, f) == NULL) {
        perror(arg + 1);
        if (f)
            fclose(f);
        return NULL;
    }
    fclose(f);
    line[strcspn(line, "\r\n")] = 0;
    return strdup(line);
}

static phx_object_t *resolve_ref(const char *arg)
{
    phx_object_t *o = NULL;
    phx_error_t err;
    char *s = read_ref(arg);

    if (s == NULL || phx_object_from_string(orb, s, &o, &err) != PHX_OK) {
        fprintf(stderr, "FAIL: %s: %s\n", arg, s ? err.msg : "unreadable");
        o = NULL;
    }
    free(s);
    return o;
}

static int run_everything(const char *ref)
{
    static const struct {
        const char *name;
        void (*fn)(void);
    } tests[] = {
        {"every basic type", test_scalars},
        {"strings", test_strings},
        {"sequences and arrays", test_sequences_and_arrays},
        {"structs", test_structs},
        {"unions", test_unions},
        {"any and TypeCode", test_any_and_typecode},
        {"object references", test_object_references},
        {"mixed modes", test_mixed},
        {"inherited operations and attributes",
         test_inherited_and_attributes},
        {"exceptions", test_exceptions},
        {"_is_a, _non_existent, oneway", test_is_a_and_oneway},
        {"deferred calls", test_deferred},
        {"code sets", test_code_sets},
    };

    init_values();
    if ((obj = resolve_ref(ref)) == NULL)
        return 1;
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        int before = failures;
        tests[i].fn();
        printf("%-40s %s\n", tests[i].name,
               failures == before ? "ok" : "FAILED");
    }
    phx_env_t env = PHX_ENV_INIT;
    CHECK(Test_Everything_shutdown(obj, &env) == PHX_OK, "shutdown");
    phx_object_release(obj);
    printf("phx_client: %d checks, %d failed\n", checks, failures);
    return failures ? 1 : 0;
}

/* "a.k/b" -> Name {("a", "k"), ("b", "")} through the service's to_name. */
static int run_naming(const char *nsref, const char *name, const char *oref)
{
    phx_env_t env = PHX_ENV_INIT;
    phx_object_t *ns = resolve_ref(nsref), *target = resolve_ref(oref);
    CosNaming_Name n = {0}, n2 = {0}, ctxname = {0};
    phx_object_t *got = NULL, *ctx = NULL;
    char *s = NULL;
    int32_t r = 0;
    bool b = false;

    if (ns == NULL || target == NULL)
        return 1;
    CHECK(phx_object_is_a(ns, CosNaming_NamingContextExt__repo_id, &b,
                          &env) == PHX_OK &&
              b,
          "the naming service is a NamingContextExt");
    /* Name conversions. */
    if (CosNaming_NamingContextExt_to_name(ns, name, &n, &env) != PHX_OK)
        return describe_failure("to_name", -1, &env), 1;
    CHECK(n._length >= 1, "to_name gives %u components", n._length);
    CHECK(CosNaming_NamingContextExt_to_string(ns, &n, &s, &env) == PHX_OK &&
              strcmp(s, name) == 0,
          "to_string gives back %s", s ? s : "(null)");
    free(s);
    s = NULL;
    CHECK(CosNaming_NamingContextExt_to_url(ns, "iiop:127.0.0.1:1", name,
                                            &s, &env) == PHX_OK &&
              strncmp(s, "corbaname:", 10) == 0,
          "to_url gives %s", s ? s : "(null)");
    free(s);

    /* Contexts for every component but the last. */
    ctxname._buffer = n._buffer;
    ctxname._release = false;
    for (uint32_t i = 1; i < n._length; i++) {
        ctxname._length = ctxname._maximum = i;
        phx_object_t *c = NULL;
        int rc = CosNaming_NamingContext_bind_new_context(ns, &ctxname, &c,
                                                          &env);
        if (rc == PHX_EUSEREX && env.repo_id &&
            strcmp(env.repo_id, ex_CosNaming_NamingContext_AlreadyBound) == 0)
            rc = PHX_OK;
        CHECK(rc == PHX_OK, "bind_new_context %u", i);
        phx_env_clear(&env);
        phx_object_release(c);
    }

    /* bind, then bind again: AlreadyBound; rebind is fine. */
    CHECK(CosNaming_NamingContext_bind(ns, &n, target, &env) == PHX_OK,
          "bind");
    phx_env_clear(&env);
    CHECK(CosNaming_NamingContext_bind(ns, &n, target, &env) == PHX_EUSEREX &&
              strcmp(env.repo_id, ex_CosNaming_NamingContext_AlreadyBound) ==
                  0,
          "bind twice: AlreadyBound");
    phx_env_clear(&env);
    CHECK(CosNaming_NamingContext_rebind(ns, &n, target, &env) == PHX_OK,
          "rebind");
    phx_env_clear(&env);

    /* resolve and resolve_str give a reference that works. */
    CHECK(CosNaming_NamingContext_resolve(ns, &n, &got, &env) == PHX_OK &&
              got != NULL,
          "resolve");
    phx_env_clear(&env);
    CHECK(got && Test_Base_base_op(got, 41, &r, &env) == PHX_OK && r == 42,
          "base_op through the resolved reference");
    phx_env_clear(&env);
    phx_object_release(got);
    got = NULL;
    CHECK(CosNaming_NamingContextExt_resolve_str(ns, name, &got, &env) ==
                  PHX_OK &&
              got != NULL,
          "resolve_str");
    phx_env_clear(&env);
    r = 0;
    CHECK(got && Test_Base_base_op(got, 1, &r, &env) == PHX_OK && r == 2,
          "base_op through resolve_str");
    phx_env_clear(&env);
    phx_object_release(got);

    /* list the root context: the first component is there. */
    {
        CosNaming_BindingList bl = {0};
        CosNaming_BindingIterator bi = NULL;
        bool found = false;
        CHECK(CosNaming_NamingContext_list(ns, 100, &bl, &bi, &env) == PHX_OK,
              "list");
        phx_env_clear(&env);
        for (uint32_t i = 0; i < bl._length; i++) {
            CosNaming_Binding *bd = &bl._buffer[i];
            if (bd->binding_name._length == 1 &&
                strcmp(bd->binding_name._buffer[0].id, n._buffer[0].id) == 0)
                found = true;
        }
        CHECK(found, "list shows %s", n._buffer[0].id);
        CosNaming_BindingList__free(&bl);
        phx_object_release(bi);
    }

    /* NotFound, with its members. */
    n2 = (CosNaming_Name){0};
    if (CosNaming_NamingContextExt_to_name(ns, "no.such/name", &n2, &env) ==
        PHX_OK) {
        CHECK(CosNaming_NamingContext_resolve(ns, &n2, &got, &env) ==
                      PHX_EUSEREX &&
                  strcmp(env.repo_id, ex_CosNaming_NamingContext_NotFound) ==
                      0,
              "resolve of a missing name: NotFound");
        const CosNaming_NamingContext_NotFound *nf = env.user_value;
        CHECK(nf && nf->why == CosNaming_NamingContext_missing_node &&
                  nf->rest_of_name._length == 2,
              "NotFound members");
        phx_env_clear(&env);
        CosNaming_Name__free(&n2);
    }
    /* new_context + destroy. */
    CHECK(CosNaming_NamingContext_new_context(ns, &ctx, &env) == PHX_OK &&
              ctx != NULL,
          "new_context");
    phx_env_clear(&env);
    if (ctx) {
        CHECK(CosNaming_NamingContext_destroy(ctx, &env) == PHX_OK,
              "destroy");
        phx_env_clear(&env);
        phx_object_release(ctx);
    }
    CosNaming_Name__free(&n);
    phx_object_release(ns);
    phx_object_release(target);
    printf("phx_client naming: %d checks, %d failed\n", checks, failures);
    return failures ? 1 : 0;
}

/* TAG_ALTERNATE_IIOP_ADDRESS {string HostID; unsigned short port;}. */
static int alternate_address(const char *host, uint16_t port,
                             phx_tagged_component_t *out)
{
    phx_cdr_writer_t w;
    phx_cdr_mark_t mk;
    int rc;

    phx_cdr_writer_init(&w, 64);
    phx_cdr_encap_begin(&w, &mk);
    phx_cdr_put_string(&w, host);
    phx_cdr_put_ushort(&w, port);
    phx_cdr_encap_end(&w, &mk);
    /* The encapsulation's octets, without the sequence length. */
    rc = w.err;
    if (rc == 0) {
        out->tag = PHX_TAG_ALTERNATE_IIOP_ADDRESS;
        out->len = (uint32_t)(w.len - 4);
        out->data = malloc(out->len);
        if (out->data == NULL)
            rc = PHX_ENOMEM;
        else
            memcpy(out->data, w.buf + 4, out->len);
    }
    phx_cdr_writer_fini(&w);
    return rc;
}

/* Give every IIOP profile of ior a TAG_ALTERNATE_IIOP_ADDRESS component
 * for the address of every other IIOP profile with the same object key:
 * omniORB 4.2 uses only the first IIOP profile of a reference, and its
 * alternate addresses (docs/interop.md). */
static int add_alternates(phx_ior_t *ior)
{
    uint32_t n = ior->profile_count;
    phx_profile_t *p = calloc(n, sizeof *p);
    bool *iiop = calloc(n, sizeof *iiop);
    phx_error_t err;
    int rc = (p && iiop) ? PHX_OK : PHX_ENOMEM;

    for (uint32_t i = 0; rc == PHX_OK && i < n; i++)
        iiop[i] = ior->profiles[i].tag == PHX_TAG_INTERNET_IOP &&
                  phx_profile_decode(&ior->profiles[i], &p[i], &err) ==
                      PHX_OK;
    for (uint32_t i = 0; rc == PHX_OK && i < n; i++) {
        if (!iiop[i])
            continue;
        for (uint32_t j = 0; rc == PHX_OK && j < n; j++) {
            if (j == i || !iiop[j] || p[j].key_len != p[i].key_len ||
                memcmp(p[j].key, p[i].key, p[i].key_len) != 0)
                continue;
            phx_tagged_component_t *c =
                realloc(p[i].components,
                        (p[i].component_count + 1) * sizeof *c);
            if (c == NULL) {
                rc = PHX_ENOMEM;
                break;
            }
            p[i].components = c;
            rc = alternate_address(p[j].host, p[j].port,
                                   &c[p[i].component_count]);
            if (rc == PHX_OK)
                p[i].component_count++;
        }
        phx_tagged_profile_t tp = {0};
        if (rc == PHX_OK && (rc = phx_profile_encode(&p[i], &tp)) == PHX_OK) {
            phx_tagged_profile_fini(&ior->profiles[i]);
            ior->profiles[i] = tp;
        }
    }
    for (uint32_t i = 0; p && i < n; i++)
        phx_profile_fini(&p[i]);
    free(p);
    free(iiop);
    return rc;
}

static int run_iogr(const char *out, int n, char **refs)
{
    bool alternates = false;

    if (n > 0 && strcmp(out, "--alternates") == 0) {
        alternates = true;
        out = refs[0];
        refs++;
        n--;
    }
    phx_ior_t *members = calloc((size_t)n, sizeof *members);
    phx_ft_iogr_spec_t spec;
    phx_ior_t iogr;
    phx_error_t err;
    char *s = NULL;
    FILE *f;

    for (int i = 0; i < n; i++) {
        char *r = read_ref(refs[i]);
        if (r == NULL || phx_ior_from_string(r, &members[i], &err) != PHX_OK) {
            fprintf(stderr, "FAIL: %s: %s\n", refs[i], r ? err.msg : "?");
            return 1;
        }
        free(r);
    }
    memset(&spec, 0, sizeof spec);
    spec.ft_domain_id = "interop";
    spec.object_group_id = 9;
    spec.object_group_ref_version = 1;
    spec.members = members;
    spec.member_count = (size_t)n;
    spec.primary = 0;
    if (phx_ft_iogr_build(&spec, &iogr, &err) != PHX_OK ||
        (alternates && add_alternates(&iogr) != PHX_OK) ||
        phx_ior_to_string(&iogr, &s) != PHX_OK) {
        fprintf(stderr, "FAIL: iogr: %s\n", err.msg);
        return 1;
    }
    f = fopen(out, "w");
    if (f == NULL || fprintf(f, "%s\n", s) < 0 || fclose(f) != 0) {
        perror(out);
        return 1;
    }
    printf("IOGR with %u profiles\n", iogr.profile_count);
    free(s);
    phx_ior_fini(&iogr);
    for (int i = 0; i < n; i++)
        phx_ior_fini(&members[i]);
    free(members);
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* n calls of op_long; the median and 99th percentile round trip. */
static int run_echo(const char *ref, int n)
{
    phx_object_t *o = resolve_ref(ref);
    double *us = calloc(n > 0 ? (size_t)n : 1, sizeof *us);
    phx_env_t env = PHX_ENV_INIT;
    int rc = 0;

    if (o == NULL || us == NULL || n <= 0) {
        free(us);
        phx_object_release(o);
        return 1;
    }
    for (int i = 0; i < n && rc == 0; i++) {
        int32_t b = 0, c = i, r = 0;
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        rc = Test_Everything_op_long(o, i, &b, &c, &r, &env);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if (rc != PHX_OK || r != i)
            rc = 1;
        us[i] = (double)(t1.tv_sec - t0.tv_sec) * 1e6 +
                (double)(t1.tv_nsec - t0.tv_nsec) / 1e3;
    }
    if (rc == 0) {
        qsort(us, (size_t)n, sizeof *us, cmp_double);
        printf("phx_echo: median_us=%.2f p99_us=%.2f n=%d\n", us[n / 2],
               us[(size_t)n * 99 / 100], n);
    }
    phx_env_clear(&env);
    free(us);
    phx_object_release(o);
    return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
    phx_orb_config_t cfg;
    phx_error_t err;
    int rc = 2;

    phx_orb_config_init(&cfg);
    cfg.call_timeout_ms = 10000;
    if (phx_orb_create(&cfg, &orb, &err) != PHX_OK) {
        fprintf(stderr, "phx_client: %s\n", err.msg);
        return 1;
    }
    if (argc == 3 && strcmp(argv[1], "everything") == 0) {
        rc = run_everything(argv[2]);
    } else if (argc == 5 && strcmp(argv[1], "naming") == 0) {
        rc = run_naming(argv[2], argv[3], argv[4]);
    } else if (argc >= 4 && strcmp(argv[1], "iogr") == 0) {
        rc = run_iogr(argv[2], argc - 3, argv + 3);
    } else if (argc == 4 && strcmp(argv[1], "echo") == 0) {
        rc = run_echo(argv[2], atoi(argv[3]));
    } else if (argc == 3 && strcmp(argv[1], "codesets") == 0) {
        /* Every IIOP profile of REF has TAG_CODE_SETS, native char
         * ISO-8859-1. */
        phx_ior_t ior;
        char *s = read_ref(argv[2]);
        uint32_t nc = 0;
        rc = 1;
        if (s && phx_ior_from_string(s, &ior, &err) == PHX_OK) {
            CHECK(show_code_sets(&ior, &nc), "TAG_CODE_SETS present");
            CHECK(nc == 0x00010001u, "native char ISO-8859-1");
            rc = failures ? 1 : 0;
            phx_ior_fini(&ior);
        }
        free(s);
    } else if (argc == 3 && strcmp(argv[1], "call") == 0) {
        phx_object_t *o = resolve_ref(argv[2]);
        phx_env_t env = PHX_ENV_INIT;
        int32_t r = 0;
        rc = o && Test_Base_base_op(o, 41, &r, &env) == PHX_OK && r == 42
                 ? 0
                 : 1;
        phx_env_clear(&env);
        phx_object_release(o);
    } else {
        fprintf(stderr, "usage: phx_client everything REF\n"
                        "       phx_client naming NSREF NAME OBJREF\n"
                        "       phx_client iogr [--alternates] OUTFILE REF...\n"
                        "       phx_client call REF\n"
                        "       phx_client codesets REF\n"
                        "       phx_client echo REF N\n");
    }
    phx_orb_destroy(orb);
    return rc;
}
