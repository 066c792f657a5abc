/*
 * test_dii.c - dynamic invocation and dynamic skeletons (include/phx/dii.h).
 *
 * A DSI servant of Test::Everything (idl/everything.idl) runs in-process
 * on tcp://127.0.0.1:* from an ORB thread; its one handler answers every
 * "T op_x(in T a, out T b, inout T c)" as the IDL says (result a, b the
 * incoming c, c becomes a).  DII calls every such operation on it with
 * values written as JSON, then does the same against the generated
 * skeleton of tests/integration/everything-server (spawned), and the
 * generated stubs call the DSI servant.  Also: user and system
 * exceptions, _is_a, the deferred form, argument checks.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include <phx/dii.h>
#include <phx/json.h>
#include <phx/phx.h>

#include "idl/everything.h"
#include "tests/integration/harness.h"

static phx_orb_t *orb;
static pthread_t loop_thread;
static phx_dsi_servant_t dsi;
static phx_object_t *dsi_ref;
static char dsi_ior[4096];
static int notes_seen;

/* ------------------------------------------------------------------ */
/* Type lookup for JSON anys and TypeCodes                              */
/* ------------------------------------------------------------------ */

static const phx_typecode_t *const known[] = {
    &TC_Test_Color, &TC_Test_Name, &TC_Test_Longs, &TC_Test_Strings4,
    &TC_Test_LongsSeq, &TC_Test_Matrix, &TC_Test_Points, &TC_Test_Point,
    &TC_Test_AllPrims, &TC_Test_Nested, &TC_Test_ByLong, &TC_Test_ByEnum,
    &TC_Test_Oops, &TC_Test_Base};

static const phx_typecode_t *resolve(void *arg, const char *id)
{
    (void)arg;
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(known[i]->repo_id, id) == 0)
            return known[i];
    return NULL;
}

static phx_json_opts_t jopts(void)
{
    phx_json_opts_t o = {.resolve = resolve, .orb = orb};
    return o;
}

/* ------------------------------------------------------------------ */
/* The DSI servant                                                      */
/* ------------------------------------------------------------------ */

static int handler(void *self, const phx_opdesc_t *op, phx_any_t *args,
                   phx_any_t *result, phx_env_t *env)
{
    (void)self;
    if (strncmp(op->name, "op_", 3) == 0 && op->param_count == 3) {
        const phx_typecode_t *t = op->params[0].type;
        size_t sz = phx_typecode_c_size(t);
        /* b = incoming c (moved), c = a, result = a */
        memcpy(args[1]._value, args[2]._value, sz);
        memset(args[2]._value, 0, sz);
        if (phx_value_copy(t, args[2]._value, args[0]._value) != PHX_OK ||
            phx_value_copy(t, result->_value, args[0]._value) != PHX_OK)
            return phx_env_system(env, PHX_SYSEX_NO_MEMORY, 0,
                                  PHX_COMPLETED_MAYBE, NULL);
        return PHX_OK;
    }
    if (strcmp(op->name, "fail") == 0) {
        int32_t code = *(int32_t *)args[0]._value;
        Test_Point where = {code, -code};
        Test_Oops ex = {.code = code,
                        .why = "dsi oops",
                        .where = {1, 1, &where, false}};
        if (code == 0)
            return phx_op_raise(env, &TC_Test_Empty, NULL);
        if (code < 0)
            return phx_env_system(env, PHX_SYSEX_NO_PERMISSION, 42,
                                  PHX_COMPLETED_NO, "negative");
        return phx_op_raise(env, &TC_Test_Oops, &ex);
    }
    if (strcmp(op->name, "base_op") == 0) {
        *(int32_t *)result->_value = *(int32_t *)args[0]._value + 1;
        return PHX_OK;
    }
    if (strcmp(op->name, "left_op") == 0) {
        const char *s = *(char **)args[0]._value;
        char *r = malloc(strlen(s) + 6);
        sprintf(r, "left:%s", s);
        *(char **)result->_value = r;
        return PHX_OK;
    }
    if (strcmp(op->name, "mixed") == 0) {
        /* s = "mixed", pts reversed, col = blue */
        Test_Points *pts = args[2]._value;
        *(char **)args[0]._value = strdup("mixed");
        for (uint32_t i = 0; i < pts->_length / 2; i++) {
            Test_Point t = pts->_buffer[i];
            pts->_buffer[i] = pts->_buffer[pts->_length - 1 - i];
            pts->_buffer[pts->_length - 1 - i] = t;
        }
        *(Test_Color *)args[4]._value = Test_blue;
        return PHX_OK;
    }
    if (strcmp(op->name, "note") == 0) {
        __atomic_add_fetch(&notes_seen, 1, __ATOMIC_SEQ_CST);
        return PHX_OK;
    }
    if (strcmp(op->name, "notes") == 0) {
        *(uint32_t *)result->_value =
            (uint32_t)__atomic_load_n(&notes_seen, __ATOMIC_SEQ_CST);
        return PHX_OK;
    }
    if (strcmp(op->name, "_get_motto") == 0) {
        *(char **)result->_value = strdup("dynamic");
        return PHX_OK;
    }
    return phx_op_not_implemented(op, env);
}

static void *loop(void *arg)
{
    phx_orb_run(arg);
    return NULL;
}

static int suite_init(void)
{
    const char *listen[] = {"tcp://127.0.0.1:*"};
    phx_orb_config_t cfg;
    phx_error_t err;
    char *s;

    phx_orb_config_init(&cfg);
    cfg.listen = listen;
    cfg.listen_count = 1;
    cfg.call_timeout_ms = 10000;
    if (phx_orb_create(&cfg, &orb, &err) != PHX_OK)
        return -1;
    if (phx_dsi_servant_init(&dsi, &Test_Everything__desc, handler, NULL))
        return -1;
    if (phx_orb_activate(orb, &dsi.base, "dsi", 3, &dsi_ref, &err))
        return -1;
    if (phx_object_to_string(dsi_ref, &s))
        return -1;
    snprintf(dsi_ior, sizeof dsi_ior, "%s", s);
    free(s);
    pthread_create(&loop_thread, NULL, loop, orb);
    return 0;
}

static int suite_clean(void)
{
    phx_object_release(dsi_ref);
    phx_orb_shutdown(orb);
    pthread_join(loop_thread, NULL);
    phx_orb_destroy(orb);
    phx_dsi_servant_fini(&dsi);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Every type through DII                                               */
/* ------------------------------------------------------------------ */

typedef struct sample {
    const char *op;
    const char *a, *c;
} sample_t;

static const sample_t samples[] = {
    {"op_short", "-32768", "7"},
    {"op_ushort", "65535", "1"},
    {"op_long", "-2147483648", "5"},
    {"op_ulong", "4294967295", "0"},
    {"op_longlong", "-9223372036854775808", "9223372036854775807"},
    {"op_ulonglong", "18446744073709551615", "3"},
    {"op_float", "1.5", "-0.25"},
    {"op_double", "3.141592653589793", "1e-300"},
    {"op_boolean", "true", "false"},
    {"op_char", "\"q\"", "\"\\u00e9\""},
    {"op_octet", "255", "0"},
    {"op_enum", "\"blue\"", "\"red\""},
    {"op_string", "\"h\\u00e9llo \\\"w\\\"\\n\"", "\"\""},
    {"op_name", "\"sixteen-chars-ok\"", "\"x\""},
    {"op_longs", "[1,2,3]", "[]"},
    {"op_strings4", "[\"a\",\"b\",\"c\",\"d\"]", "[\"z\"]"},
    {"op_longsseq", "[[1],[],[2,3]]", "[]"},
    {"op_colors", "[\"red\",\"blue\"]", "[\"green\"]"},
    {"op_points", "[{\"x\":1,\"y\":2},{\"x\":-1,\"y\":-2}]", "[]"},
    {"op_matrix", "[[1,2,3],[4,5,6]]", "[[0,0,0],[0,0,-1]]"},
    {"op_matrix2", "[[1,2,3],[4,5,6]]", "[[9,9,9],[0,0,-1]]"},
    {"op_names", "[\"a\",\"b\"]", "[\"\",\"c\"]"},
    {"op_grid",
     "[[{\"x\":1,\"y\":2},{\"x\":3,\"y\":4}],[{\"x\":5,\"y\":6},"
     "{\"x\":7,\"y\":8}]]",
     "[[{\"x\":0,\"y\":0},{\"x\":0,\"y\":0}],[{\"x\":0,\"y\":0},"
     "{\"x\":0,\"y\":1}]]"},
    {"op_prims",
     "{\"s\":-1,\"us\":2,\"l\":-3,\"ul\":4,\"ll\":-5,\"ull\":6,\"f\":0.5,"
     "\"d\":0.25,\"b\":true,\"c\":\"z\",\"o\":9}",
     "{\"s\":0,\"us\":0,\"l\":0,\"ul\":0,\"ll\":0,\"ull\":0,\"f\":0,"
     "\"d\":0,\"b\":false,\"c\":\"a\",\"o\":0}"},
    {"op_point", "{\"x\":1,\"y\":2}", "{\"y\":4,\"x\":3}"},
    {"op_nested",
     "{\"p\":{\"x\":1,\"y\":2},\"detail\":{\"tag\":7,\"label\":\"lbl\","
     "\"vals\":[1.5,2.5,3.5]},\"corners\":[{\"x\":0,\"y\":0}],"
     "\"color\":\"green\",\"longs\":[1,2],\"words\":[[\"a\",\"b\"],[]]}",
     "{\"p\":{\"x\":0,\"y\":0},\"detail\":{\"tag\":0,\"label\":\"\","
     "\"vals\":[0,0,0]},\"corners\":[],\"color\":\"red\",\"longs\":[],"
     "\"words\":[]}"},
    {"op_node", "{\"value\":1,\"kids\":[{\"value\":2,\"kids\":[]}]}",
     "{\"value\":0,\"kids\":[]}"},
    {"op_bylong", "{\"discriminator\":2,\"value\":\"two\"}",
     "{\"p\":{\"x\":1,\"y\":1}}"},
    {"op_byshort", "{\"discriminator\":7,\"value\":[1,2]}",
     "{\"discriminator\":0}"},
    {"op_byull",
     "{\"discriminator\":18446744073709551615,\"value\":255}",
     "{\"zero\":\"z\"}"},
    {"op_bychar", "{\"a\":5}", "{\"discriminator\":\"x\",\"value\":3}"},
    {"op_bybool", "{\"yes\":1}", "{\"no\":\"nope\"}"},
    {"op_byenum", "{\"discriminator\":\"blue\",\"value\":[[1,2,3],[4,5,6]]}",
     "{\"g\":{\"x\":1,\"y\":2}}"},
    {"op_any",
     "{\"type\":\"IDL:phalanx.org/Test/Nested:1.0\",\"value\":"
     "{\"p\":{\"x\":1,\"y\":2},\"detail\":{\"tag\":7,\"label\":\"lbl\","
     "\"vals\":[1.5,2.5,3.5]},\"corners\":[],\"color\":\"blue\","
     "\"longs\":[],\"words\":[]}}",
     "{\"type\":\"sequence<string,3>\",\"value\":[\"s\"]}"},
    {"op_typecode", "\"IDL:phalanx.org/Test/Nested:1.0\"",
     "\"sequence<long,5>\""},
    {"op_objref", "SELF", "null"},
    {"op_object", "SELF", "SELF"},
};

static int parse(const phx_typecode_t *tc, const char *json, void *v)
{
    phx_json_opts_t o = jopts();
    phx_error_t err;
    int rc;

    if (strcmp(json, "SELF") == 0) {
        char buf[4200];
        snprintf(buf, sizeof buf, "\"%s\"", dsi_ior);
        rc = phx_json_to_value_ex(tc, buf, strlen(buf), v, NULL, &o, &err);
    } else {
        rc = phx_json_to_value_ex(tc, json, strlen(json), v, NULL, &o, &err);
    }
    if (rc)
        fprintf(stderr, "parse %s: %s\n", json, err.msg);
    return rc;
}

/* Call every op_* of samples on obj through DII and check the values. */
static void every_type(phx_object_t *obj)
{
    for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
        const sample_t *s = &samples[i];
        const phx_opdesc_t *op = phx_ifdesc_find_op(&Test_Everything__desc,
                                                    s->op);
        phx_any_t *args, result, expect_a, expect_c;
        phx_env_t env = PHX_ENV_INIT;
        int rc;

        CU_ASSERT_PTR_NOT_NULL_FATAL(op);
        const phx_typecode_t *t = op->params[0].type;
        CU_ASSERT_EQUAL_FATAL(phx_dii_args_new(op, &args), PHX_OK);
        CU_ASSERT_EQUAL_FATAL(phx_dii_any_alloc(&expect_a, t), PHX_OK);
        CU_ASSERT_EQUAL_FATAL(phx_dii_any_alloc(&expect_c, t), PHX_OK);
        CU_ASSERT_EQUAL(parse(t, s->a, args[0]._value), PHX_OK);
        CU_ASSERT_EQUAL(parse(t, s->c, args[2]._value), PHX_OK);
        CU_ASSERT_EQUAL(parse(t, s->a, expect_a._value), PHX_OK);
        CU_ASSERT_EQUAL(parse(t, s->c, expect_c._value), PHX_OK);
        rc = phx_dii_invoke(obj, op, args, &result, &env);
        if (rc != PHX_OK) {
            char buf[256];
            fprintf(stderr, "%s: %s\n", s->op,
                    phx_env_describe(&env, buf, sizeof buf));
        }
        CU_ASSERT_EQUAL(rc, PHX_OK);
        if (rc == PHX_OK) {
            CU_ASSERT(phx_typecode_equal(result._type, op->result));
            CU_ASSERT(phx_value_equal(t, result._value, expect_a._value));
            CU_ASSERT(phx_value_equal(t, args[1]._value, expect_c._value));
            CU_ASSERT(phx_value_equal(t, args[2]._value, expect_a._value));
            CU_ASSERT_TRUE(args[1]._release);
            /* and the JSON of what came back is the JSON of what went */
            char *j1 = NULL, *j2 = NULL;
            CU_ASSERT_EQUAL(phx_value_to_json(t, result._value, &j1), 0);
            CU_ASSERT_EQUAL(phx_value_to_json(t, expect_a._value, &j2), 0);
            if (j1 && j2)
                CU_ASSERT_STRING_EQUAL(j1, j2);
            free(j1);
            free(j2);
        }
        phx_value_free(&phx_tc_any, &result);
        phx_value_free(&phx_tc_any, &expect_a);
        phx_value_free(&phx_tc_any, &expect_c);
        phx_dii_args_free(args, op->param_count);
        free(args);
        phx_env_clear(&env);
    }
}

static void test_dii_dsi_every_type(void)
{
    every_type(dsi_ref);
}

static void test_dii_deferred(void)
{
    const phx_opdesc_t *op = &Test_Everything__op_op_long;
    phx_request_t *req[4];
    phx_any_t *args[4], result;
    phx_env_t env = PHX_ENV_INIT;

    for (int i = 0; i < 4; i++) {
        CU_ASSERT_EQUAL_FATAL(phx_dii_args_new(op, &args[i]), 0);
        *(int32_t *)args[i][0]._value = 100 + i;
        *(int32_t *)args[i][2]._value = i;
        CU_ASSERT_EQUAL(phx_dii_send(dsi_ref, op, args[i], &req[i], &env),
                        0);
    }
    for (int i = 3; i >= 0; i--) {
        CU_ASSERT_EQUAL(phx_dii_recv(req[i], op, args[i], &result, &env), 0);
        CU_ASSERT_EQUAL(*(int32_t *)result._value, 100 + i);
        CU_ASSERT_EQUAL(*(int32_t *)args[i][1]._value, i);
        CU_ASSERT_EQUAL(*(int32_t *)args[i][2]._value, 100 + i);
        phx_value_free(&phx_tc_any, &result);
        phx_dii_args_free(args[i], op->param_count);
        free(args[i]);
    }
}

static void test_dii_exceptions(void)
{
    const phx_opdesc_t *op = &Test_Everything__op_fail;
    phx_any_t arg;
    phx_env_t env = PHX_ENV_INIT;
    int32_t code = 7;

    arg._type = &phx_tc_long;
    arg._value = &code;
    arg._release = false;
    CU_ASSERT_EQUAL(phx_dii_invoke(dsi_ref, op, &arg, NULL, &env),
                    PHX_EUSEREX);
    CU_ASSERT_STRING_EQUAL(env.repo_id, "IDL:phalanx.org/Test/Oops:1.0");
    CU_ASSERT_PTR_EQUAL(env.user_tc, &TC_Test_Oops);
    CU_ASSERT_PTR_NOT_NULL_FATAL(env.user_value);
    {
        char *j = NULL;
        phx_value_to_json(env.user_tc, env.user_value, &j);
        CU_ASSERT_STRING_EQUAL(j, "{\"code\":7,\"why\":\"dsi oops\","
                                  "\"where\":[{\"x\":7,\"y\":-7}]}");
        free(j);
    }
    phx_env_clear(&env);
    code = 0;
    CU_ASSERT_EQUAL(phx_dii_invoke(dsi_ref, op, &arg, NULL, &env),
                    PHX_EUSEREX);
    CU_ASSERT_STRING_EQUAL(env.repo_id, "IDL:phalanx.org/Test/Empty:1.0");
    phx_env_clear(&env);
    code = -1;
    CU_ASSERT_EQUAL(phx_dii_invoke(dsi_ref, op, &arg, NULL, &env),
                    PHX_ESYSEX);
    CU_ASSERT(phx_env_is(&env, PHX_SYSEX_NO_PERMISSION));
    CU_ASSERT_EQUAL(env.minor, 42);
    phx_env_clear(&env);

    /* an operation the handler does not implement */
    CU_ASSERT_EQUAL(phx_dii_invoke(dsi_ref, &Test_Everything__op__get_origin,
                                   NULL, NULL, &env), PHX_ESYSEX);
    CU_ASSERT(phx_env_is(&env, PHX_SYSEX_NO_IMPLEMENT));
    phx_env_clear(&env);

    /* an operation the interface does not have */
    phx_opdesc_t bogus = {.name = "no_such_op", .result = &phx_tc_void};
    CU_ASSERT_EQUAL(phx_dii_invoke(dsi_ref, &bogus, NULL, NULL, &env),
                    PHX_ESYSEX);
    CU_ASSERT(phx_env_is(&env, PHX_SYSEX_BAD_OPERATION));
    phx_env_clear(&env);

    /* mistyped and missing arguments: BAD_PARAM before sending */
    double d = 1.0;
    phx_any_t bad = {&phx_tc_double, &d, false};
    CU_ASSERT_EQUAL(phx_dii_invoke(dsi_ref, op, &bad, NULL, &env),
                    PHX_ESYSEX);
    CU_ASSERT(phx_env_is(&env, PHX_SYSEX_BAD_PARAM));
    CU_ASSERT_EQUAL(env.completed, PHX_COMPLETED_NO);
    phx_env_clear(&env);
    phx_any_t none = {NULL, NULL, false};
    CU_ASSERT_EQUAL(phx_dii_invoke(dsi_ref, op, &none, NULL, &env),
                    PHX_ESYSEX);
    CU_ASSERT(phx_env_is(&env, PHX_SYSEX_BAD_PARAM));
    phx_env_clear(&env);
    /* a value that does not fit its type (Name is string<16>) */
    phx_any_t *args;
    CU_ASSERT_EQUAL_FATAL(phx_dii_args_new(&Test_Everything__op_op_name,
                                           &args), 0);
    *(char **)args[0]._value = strdup("seventeen-chars-x");
    CU_ASSERT_EQUAL(phx_dii_invoke(dsi_ref, &Test_Everything__op_op_name,
                                   args, NULL, &env), PHX_ESYSEX);
    CU_ASSERT(phx_env_is(&env, PHX_SYSEX_BAD_PARAM));
    CU_ASSERT_PTR_NULL(args[1]._value);
    phx_env_clear(&env);
    phx_dii_args_free(args, 3);
    free(args);
}

static void test_dsi_misc(void)
{
    phx_env_t env = PHX_ENV_INIT;
    bool yes;
    const char *ids[] = {"IDL:phalanx.org/Test/Everything:1.0",
                         "IDL:phalanx.org/Test/Left:1.0",
                         "IDL:phalanx.org/Test/Right:1.0",
                         "IDL:phalanx.org/Test/Base:1.0",
                         "IDL:omg.org/CORBA/Object:1.0"};

    for (size_t i = 0; i < 5; i++) {
        CU_ASSERT_EQUAL(phx_object_is_a(dsi_ref, ids[i], &yes, &env), 0);
        CU_ASSERT_TRUE(yes);
    }
    CU_ASSERT_EQUAL(phx_object_is_a(dsi_ref, "IDL:Other:1.0", &yes, &env),
                    0);
    CU_ASSERT_FALSE(yes);

    /* inherited operations, oneway, attributes, mixed modes */
    phx_any_t x, r;
    int32_t v = 41;
    x._type = &phx_tc_long;
    x._value = &v;
    x._release = false;
    CU_ASSERT_EQUAL(phx_dii_invoke(dsi_ref, &Test_Base__op_base_op, &x, &r,
                                   &env), 0);
    CU_ASSERT_EQUAL(*(int32_t *)r._value, 42);
    phx_value_free(&phx_tc_any, &r);

    const phx_opdesc_t *note = phx_ifdesc_find_op(&Test_Everything__desc,
                                                  "note");
    const char *txt = "n";
    phx_any_t ta = {&phx_tc_string, &txt, false};
    CU_ASSERT_EQUAL(phx_dii_invoke(dsi_ref, note, &ta, NULL, &env), 0);
    uint32_t n = 0;
    for (int tries = 0; tries < 200 && n == 0; tries++) {
        CU_ASSERT_EQUAL(Test_Everything_notes(dsi_ref, &n, &env), 0);
        if (n == 0)
            usleep(5000);
    }
    CU_ASSERT_EQUAL(n, 1);

    phx_any_t *args;
    const phx_opdesc_t *mixed = &Test_Everything__op_mixed;
    CU_ASSERT_EQUAL_FATAL(phx_dii_args_new(mixed, &args), 0);
    *(uint8_t *)args[1]._value = 3;
    *(double *)args[3]._value = 2.5;
    CU_ASSERT_EQUAL(parse(mixed->params[2].type,
                          "[{\"x\":1,\"y\":1},{\"x\":2,\"y\":2}]",
                          args[2]._value), 0);
    CU_ASSERT_EQUAL(phx_dii_invoke(dsi_ref, mixed, args, NULL, &env), 0);
    CU_ASSERT_STRING_EQUAL(*(char **)args[0]._value, "mixed");
    CU_ASSERT_EQUAL(*(Test_Color *)args[4]._value, Test_blue);
    CU_ASSERT_EQUAL(((Test_Points *)args[2]._value)->_buffer[0].x, 2);
    phx_dii_args_free(args, mixed->param_count);
    free(args);
    phx_env_clear(&env);
}

/* Generated stubs against the DSI servant. */
static void test_stubs_on_dsi(void)
{
    phx_env_t env = PHX_ENV_INIT;
    Test_Nested a, b, c, ret;
    char *s = NULL;
    int32_t l_b, l_c = 9, l_r;

    CU_ASSERT_EQUAL(Test_Everything_op_long(dsi_ref, 5, &l_b, &l_c, &l_r,
                                            &env), 0);
    CU_ASSERT_EQUAL(l_r, 5);
    CU_ASSERT_EQUAL(l_b, 9);
    CU_ASSERT_EQUAL(l_c, 5);

    CU_ASSERT_EQUAL(parse(&TC_Test_Nested, samples[25].a, &a), 0);
    CU_ASSERT_EQUAL(parse(&TC_Test_Nested, samples[25].c, &c), 0);
    CU_ASSERT_EQUAL(Test_Everything_op_nested(dsi_ref, &a, &b, &c, &ret,
                                              &env), 0);
    CU_ASSERT(phx_value_equal(&TC_Test_Nested, &ret, &a));
    CU_ASSERT(phx_value_equal(&TC_Test_Nested, &c, &a));
    CU_ASSERT_EQUAL(b.detail.tag, 0);
    Test_Nested__free(&a);
    Test_Nested__free(&b);
    Test_Nested__free(&c);
    Test_Nested__free(&ret);

    CU_ASSERT_EQUAL(Test_Everything_left_op(dsi_ref, "x", &s, &env), 0);
    CU_ASSERT_STRING_EQUAL(s, "left:x");
    free(s);
    CU_ASSERT_EQUAL(Test_Everything__get_motto(dsi_ref, &s, &env), 0);
    CU_ASSERT_STRING_EQUAL(s, "dynamic");
    free(s);

    CU_ASSERT_EQUAL(Test_Everything_fail(dsi_ref, 3, &env), PHX_EUSEREX);
    CU_ASSERT_PTR_EQUAL(env.user_tc, &TC_Test_Oops);
    if (env.user_value)
        CU_ASSERT_EQUAL(((Test_Oops *)env.user_value)->code, 3);
    phx_env_clear(&env);
}

/* DII against the generated skeleton of everything-server. */
static void test_dii_generated_skeleton(void)
{
    hproc_t p;
    char ior[4096];
    char *argv[] = {(char *)h_prog("tests/integration/everything-server"),
                    NULL};
    phx_object_t *obj;
    phx_error_t err;

    CU_ASSERT_EQUAL_FATAL(h_spawn(&p, argv), 0);
    if (h_read_line(&p, ior, sizeof ior, 10000) <= 0) {
        CU_FAIL("everything-server did not print its IOR");
        h_kill(&p, SIGKILL, 1000);
        return;
    }
    CU_ASSERT_EQUAL_FATAL(phx_object_from_string(orb, ior, &obj, &err), 0);
    every_type(obj);

    phx_any_t arg;
    phx_env_t env = PHX_ENV_INIT;
    int32_t code = 5;
    arg._type = &phx_tc_long;
    arg._value = &code;
    arg._release = false;
    CU_ASSERT_EQUAL(phx_dii_invoke(obj, &Test_Everything__op_fail, &arg,
                                   NULL, &env), PHX_EUSEREX);
    CU_ASSERT_PTR_EQUAL(env.user_tc, &TC_Test_Oops);
    phx_env_clear(&env);
    phx_object_release(obj);
    h_kill(&p, SIGTERM, 5000);
}

int main(void)
{
    CU_pSuite s;
    int failures;

    signal(SIGPIPE, SIG_IGN);
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    s = CU_add_suite("dii", suite_init, suite_clean);
    CU_add_test(s, "DII to a DSI servant, every type", test_dii_dsi_every_type);
    CU_add_test(s, "deferred DII", test_dii_deferred);
    CU_add_test(s, "exceptions", test_dii_exceptions);
    CU_add_test(s, "DSI: _is_a, inheritance, oneway, modes", test_dsi_misc);
    CU_add_test(s, "generated stubs on a DSI servant", test_stubs_on_dsi);
    CU_add_test(s, "DII to a generated skeleton",
                test_dii_generated_skeleton);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    failures = (int)CU_get_number_of_failures();
    CU_cleanup_registry();
    return failures ? 1 : 0;
}
