/*
 * test_ifrepo.c - .phxif interface descriptions: the file phx-idl
 * --describe writes for idl/everything.idl ($PHX_BUILDDIR/tests/dii/
 * everything.phxif) loaded back, its TypeCodes compared with the TC_
 * constants of the generated C, a DSI servant built from it called by
 * the generated stubs, and malformed files (every truncation, bit flips,
 * bad headers) refused cleanly.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include <phx/dii.h>
#include <phx/json.h>
#include <phx/phx.h>

#include "idl/everything.h"

static char path[4096];
static uint8_t *file_buf;
static size_t file_len;

static int suite_init(void)
{
    const char *b = getenv("PHX_BUILDDIR");
    FILE *f;

    snprintf(path, sizeof path, "%s/tests/dii/everything.phxif",
             b ? b : ".");
    f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "cannot open %s\n", path);
        return -1;
    }
    file_buf = malloc(1 << 20);
    file_len = fread(file_buf, 1, 1 << 20, f);
    fclose(f);
    return file_len > 0 ? 0 : -1;
}

static int suite_clean(void)
{
    free(file_buf);
    return 0;
}

static void same_op(const phx_opdesc_t *gen, const phx_opdesc_t *ld)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(ld);
    CU_ASSERT_STRING_EQUAL(gen->name, ld->name);
    CU_ASSERT_EQUAL(gen->oneway, ld->oneway);
    CU_ASSERT(phx_typecode_equal(gen->result, ld->result));
    CU_ASSERT_EQUAL_FATAL(gen->param_count, ld->param_count);
    for (uint32_t i = 0; i < gen->param_count; i++) {
        CU_ASSERT_STRING_EQUAL(gen->params[i].name, ld->params[i].name);
        CU_ASSERT_EQUAL(gen->params[i].mode, ld->params[i].mode);
        if (!phx_typecode_equal(gen->params[i].type, ld->params[i].type)) {
            fprintf(stderr, "%s: param %s differs\n", gen->name,
                    gen->params[i].name);
            CU_FAIL("parameter TypeCode differs");
        }
    }
    CU_ASSERT_EQUAL_FATAL(gen->raise_count, ld->raise_count);
    for (uint32_t i = 0; i < gen->raise_count; i++)
        CU_ASSERT(phx_typecode_equal(gen->raises[i], ld->raises[i]));
}

static void same_iface(const phx_ifdesc_t *gen, const phx_ifdesc_t *ld)
{
    uint32_t skipped = 0;

    CU_ASSERT_PTR_NOT_NULL_FATAL(ld);
    CU_ASSERT_STRING_EQUAL(gen->repo_id, ld->repo_id);
    CU_ASSERT_EQUAL_FATAL(gen->base_count, ld->base_count);
    for (uint32_t i = 0; i < gen->base_count; i++)
        CU_ASSERT_STRING_EQUAL(gen->bases[i]->repo_id, ld->bases[i]->repo_id);
    for (uint32_t i = 0; i < gen->op_count; i++) {
        const phx_opdesc_t *o = NULL;
        for (uint32_t j = 0; j < ld->op_count; j++)
            if (strcmp(ld->ops[j]->name, gen->ops[i]->name) == 0)
                o = ld->ops[j];
        /* the recursive struct Node cannot be described */
        if (strcmp(gen->ops[i]->name, "op_node") == 0) {
            CU_ASSERT_PTR_NULL(o);
            skipped++;
            continue;
        }
        same_op(gen->ops[i], o);
    }
    CU_ASSERT_EQUAL(ld->op_count + skipped, gen->op_count);
    CU_ASSERT_EQUAL_FATAL(gen->attr_count, ld->attr_count);
    for (uint32_t i = 0; i < gen->attr_count; i++) {
        CU_ASSERT_STRING_EQUAL(gen->attrs[i].name, ld->attrs[i].name);
        CU_ASSERT_EQUAL(gen->attrs[i].readonly, ld->attrs[i].readonly);
        CU_ASSERT(phx_typecode_equal(gen->attrs[i].type, ld->attrs[i].type));
        CU_ASSERT_PTR_NOT_NULL(ld->attrs[i].get);
        CU_ASSERT_EQUAL(ld->attrs[i].set == NULL, ld->attrs[i].readonly);
    }
}

static void test_load_everything(void)
{
    phx_ifrepo_t *repo;
    phx_error_t err;
    static const phx_typecode_t *const named[] = {
        &TC_Test_Color, &TC_Test_Name, &TC_Test_Longs, &TC_Test_Strings4,
        &TC_Test_LongsSeq, &TC_Test_Matrix, &TC_Test_MatrixAlias,
        &TC_Test_MatrixAlias2, &TC_Test_Names, &TC_Test_Colors,
        &TC_Test_AllPrims, &TC_Test_Point, &TC_Test_Points,
        &TC_Test_PointGrid, &TC_Test_Nested, &TC_Test_Nested_Inner,
        &TC_Test_ByLong, &TC_Test_ByShort, &TC_Test_ByULongLong,
        &TC_Test_ByChar, &TC_Test_ByBool, &TC_Test_ByEnum,
        &TC_Test_ByEnumAlias, &TC_Test_Oops, &TC_Test_Empty,
        &TC_Test_Base, &TC_Test_Left, &TC_Test_Right, &TC_Test_Everything};

    int rc = phx_ifrepo_load(path, &repo, &err);
    if (rc)
        fprintf(stderr, "%s\n", err.msg);
    CU_ASSERT_EQUAL_FATAL(rc, PHX_OK);
    CU_ASSERT_EQUAL(phx_ifrepo_interface_count(repo), 4);
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++) {
        const phx_typecode_t *t = phx_ifrepo_find_type(repo,
                                                       named[i]->repo_id);
        CU_ASSERT_PTR_NOT_NULL(t);
        if (t && !phx_typecode_equal(t, named[i])) {
            fprintf(stderr, "type %s differs\n", named[i]->repo_id);
            CU_FAIL("named TypeCode differs");
        }
    }
    CU_ASSERT_PTR_NULL(phx_ifrepo_find_type(repo,
                                            "IDL:phalanx.org/Test/Node:1.0"));
    CU_ASSERT_PTR_NOT_NULL(phx_ifrepo_find_type(repo, "Point"));

    const phx_ifdesc_t *ev = phx_ifrepo_find(repo,
                                             Test_Everything__repo_id);
    CU_ASSERT_PTR_EQUAL(phx_ifrepo_find(repo, "Test::Everything"), ev);
    CU_ASSERT_PTR_EQUAL(phx_ifrepo_find(repo, "::Test::Everything"), ev);
    CU_ASSERT_PTR_EQUAL(phx_ifrepo_find(repo, "Everything"), ev);
    CU_ASSERT_PTR_NULL(phx_ifrepo_find(repo, "Nothing"));
    same_iface(&Test_Everything__desc, ev);
    same_iface(&Test_Base__desc, phx_ifrepo_find(repo, "Test::Base"));
    same_iface(&Test_Left__desc, phx_ifrepo_find(repo, "Left"));
    same_iface(&Test_Right__desc, phx_ifrepo_find(repo, "Right"));
    /* inherited operations through the loaded bases */
    CU_ASSERT_PTR_NOT_NULL(phx_ifdesc_find_op(ev, "base_op"));
    CU_ASSERT_PTR_NOT_NULL(phx_ifdesc_find_op(ev, "_set_left_color"));
    CU_ASSERT(phx_ifdesc_is_a(ev, "IDL:phalanx.org/Test/Base:1.0"));
    phx_ifrepo_free(repo);
}

/* A DSI servant built from the loaded description, called through the
 * generated stubs. */
static int echo_handler(void *self, const phx_opdesc_t *op, phx_any_t *args,
                        phx_any_t *result, phx_env_t *env)
{
    (void)self;
    if (op->param_count == 3 && strncmp(op->name, "op_", 3) == 0) {
        const phx_typecode_t *t = op->params[0].type;
        size_t sz = phx_typecode_c_size(t);
        memcpy(args[1]._value, args[2]._value, sz);
        memset(args[2]._value, 0, sz);
        if (phx_value_copy(t, args[2]._value, args[0]._value) ||
            phx_value_copy(t, result->_value, args[0]._value))
            return phx_env_system(env, PHX_SYSEX_NO_MEMORY, 0,
                                  PHX_COMPLETED_MAYBE, NULL);
        return PHX_OK;
    }
    if (strcmp(op->name, "fail") == 0) {
        Test_Oops ex = {.code = 9, .why = "loaded", .where = {0, 0, NULL,
                                                             false}};
        return phx_op_raise(env, op->raises[0], &ex);
    }
    return phx_op_not_implemented(op, env);
}

static void *loop(void *arg)
{
    phx_orb_run(arg);
    return NULL;
}

static void test_dsi_from_file(void)
{
    const char *listen[] = {"tcp://127.0.0.1:*"};
    phx_orb_config_t cfg;
    phx_orb_t *orb;
    phx_ifrepo_t *repo;
    phx_dsi_servant_t sv;
    phx_object_t *ref;
    phx_error_t err;
    phx_env_t env = PHX_ENV_INIT;
    pthread_t th;

    CU_ASSERT_EQUAL_FATAL(phx_ifrepo_load_buffer(file_buf, file_len, &repo,
                                                 &err), 0);
    phx_orb_config_init(&cfg);
    cfg.listen = listen;
    cfg.listen_count = 1;
    CU_ASSERT_EQUAL_FATAL(phx_orb_create(&cfg, &orb, &err), 0);
    CU_ASSERT_EQUAL_FATAL(
        phx_dsi_servant_init(&sv, phx_ifrepo_find(repo, "Everything"),
                             echo_handler, NULL), 0);
    CU_ASSERT_EQUAL_FATAL(phx_orb_activate(orb, &sv.base, "x", 1, &ref,
                                           &err), 0);
    pthread_create(&th, NULL, loop, orb);

    Test_Nested a = {0}, b, c = {0}, r;
    Test_Point pt = {3, 4};
    a.p.x = 1;
    a.detail.label = "lbl";
    a.corners._length = a.corners._maximum = 1;
    a.corners._buffer = &pt;
    a.color = Test_blue;
    c.detail.label = strdup("c");
    CU_ASSERT_EQUAL(Test_Everything_op_nested(ref, &a, &b, &c, &r, &env), 0);
    CU_ASSERT(phx_value_equal(&TC_Test_Nested, &r, &a));
    CU_ASSERT(phx_value_equal(&TC_Test_Nested, &c, &a));
    CU_ASSERT_STRING_EQUAL(b.detail.label, "c");
    Test_Nested__free(&b);
    Test_Nested__free(&c);
    Test_Nested__free(&r);

    Test_ByEnumAlias u = {0}, ub, uc = {0}, ur;
    u._d = Test_blue;
    u._u.b[1][2] = 7;
    CU_ASSERT_EQUAL(Test_Everything_op_byenum(ref, &u, &ub, &uc, &ur, &env),
                    0);
    CU_ASSERT(phx_value_equal(&TC_Test_ByEnumAlias, &ur, &u));

    CU_ASSERT_EQUAL(Test_Everything_fail(ref, 1, &env), PHX_EUSEREX);
    CU_ASSERT_STRING_EQUAL(env.repo_id, "IDL:phalanx.org/Test/Oops:1.0");
    if (env.user_value)
        CU_ASSERT_EQUAL(((Test_Oops *)env.user_value)->code, 9);
    phx_env_clear(&env);

    bool yes = false;
    CU_ASSERT_EQUAL(phx_object_is_a(ref, "IDL:phalanx.org/Test/Left:1.0",
                                    &yes, &env), 0);
    CU_ASSERT_TRUE(yes);

    phx_object_release(ref);
    phx_orb_shutdown(orb);
    pthread_join(th, NULL);
    phx_orb_destroy(orb);
    phx_dsi_servant_fini(&sv);
    phx_ifrepo_free(repo);
}

static void expect_error(const void *buf, size_t len, const char *msg_part)
{
    phx_ifrepo_t *repo = (phx_ifrepo_t *)1;
    phx_error_t err;
    int rc = phx_ifrepo_load_buffer(buf, len, &repo, &err);

    CU_ASSERT(rc != PHX_OK);
    CU_ASSERT_PTR_NULL(repo);
    if (msg_part && strstr(err.msg, msg_part) == NULL) {
        fprintf(stderr, "message '%s' lacks '%s'\n", err.msg, msg_part);
        CU_FAIL("error message");
    }
}

static void test_malformed(void)
{
    uint8_t *copy = malloc(file_len + 8);
    phx_ifrepo_t *repo;
    phx_error_t err;
    uint32_t seed = 12345;
    unsigned loaded = 0;

    expect_error(NULL, 0, "too short");
    expect_error("", 0, "too short");
    expect_error("\001PHXX\0\0\0\001\0\0\0", 12, "bad magic");
    expect_error("\007PHXI\0\0\0\001\0\0\0", 12, "byte order");
    {
        uint8_t v2[16] = {PHX_CDR_NATIVE, 'P', 'H', 'X', 'I', 0, 0, 0};
        uint32_t ver = 2;
        memcpy(v2 + 8, &ver, 4);
        phx_ifrepo_t *r = NULL;
        CU_ASSERT_EQUAL(phx_ifrepo_load_buffer(v2, 16, &r, &err),
                        PHX_EUNSUPPORTED);
        CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "version 2"));
    }
    /* every truncation */
    for (size_t n = 0; n < file_len; n++)
        expect_error(file_buf, n, NULL);
    /* trailing data */
    memcpy(copy, file_buf, file_len);
    memset(copy + file_len, 0, 8);
    expect_error(copy, file_len + 8, "trailing data");
    /* random corruption: refused or loaded, never a crash or a leak */
    for (int i = 0; i < 3000; i++) {
        memcpy(copy, file_buf, file_len);
        for (int k = 0; k < 1 + i % 4; k++) {
            seed = seed * 1103515245u + 12345u;
            size_t at = (seed >> 8) % file_len;
            seed = seed * 1103515245u + 12345u;
            copy[at] ^= (uint8_t)(1u << ((seed >> 16) % 8));
            if (i % 7 == 0)
                copy[at] = 0xff;
        }
        if (phx_ifrepo_load_buffer(copy, file_len, &repo, &err) == PHX_OK) {
            loaded++;
            /* whatever loaded is usable */
            for (size_t j = 0; j < phx_ifrepo_interface_count(repo); j++) {
                const phx_ifdesc_t *d = phx_ifrepo_interface(repo, j);
                for (uint32_t o = 0; o < d->op_count; o++)
                    CU_ASSERT_PTR_NOT_NULL(d->ops[o]->result);
            }
            phx_ifrepo_free(repo);
        } else {
            CU_ASSERT(err.msg[0] != '\0');
        }
    }
    CU_ASSERT(loaded < 3000);
    free(copy);

    CU_ASSERT_EQUAL(phx_ifrepo_load("/nonexistent/x.phxif", &repo, &err),
                    PHX_EIO);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "/nonexistent/x.phxif"));
    phx_ifrepo_free(NULL);
}

int main(void)
{
    CU_pSuite s;
    int failures;

    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    s = CU_add_suite("ifrepo", suite_init, suite_clean);
    CU_add_test(s, "everything.phxif equals the generated descriptions",
                test_load_everything);
    CU_add_test(s, "DSI servant from a .phxif", test_dsi_from_file);
    CU_add_test(s, "malformed files", test_malformed);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    failures = (int)CU_get_number_of_failures();
    CU_cleanup_registry();
    return failures ? 1 : 0;
}
