/*
 * test_error_log.c - the status code table, phx_error_t, the logging
 * module and the exception environment.
 */
#include <string.h>

#include <CUnit/Basic.h>

#include <phx/phx.h>

static void test_strerror_table(void)
{
    CU_ASSERT_STRING_EQUAL(phx_strerror(PHX_OK), "success");
    CU_ASSERT_STRING_EQUAL(phx_errname(PHX_EMARSHAL), "PHX_EMARSHAL");
    CU_ASSERT_STRING_EQUAL(phx_strerror(12345), "unknown error");
    CU_ASSERT_STRING_EQUAL(phx_errname(-999), "PHX_E?");
    /* Every code from 0 down to the last has a distinct description. */
    for (int c = PHX_OK; c >= PHX_E_LAST; c--) {
        CU_ASSERT_STRING_NOT_EQUAL(phx_strerror(c), "unknown error");
        for (int d = c - 1; d >= PHX_E_LAST; d--)
            CU_ASSERT_STRING_NOT_EQUAL(phx_strerror(c), phx_strerror(d));
    }
}

static void test_error_set(void)
{
    phx_error_t err;
    CU_ASSERT_EQUAL(phx_error_set(&err, PHX_EINVAL, "bad %s %d", "port", 7),
                    PHX_EINVAL);
    CU_ASSERT_EQUAL(err.code, PHX_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.msg, "bad port 7");
    char big[1000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    phx_error_set(&err, PHX_ELIMIT, "%s", big);
    CU_ASSERT_EQUAL(strlen(err.msg), PHX_ERROR_MSG_MAX - 1);
    phx_error_clear(&err);
    CU_ASSERT_EQUAL(err.code, PHX_OK);
    CU_ASSERT_STRING_EQUAL(err.msg, "");
    CU_ASSERT_EQUAL(phx_error_set(NULL, PHX_EIO, "x"), PHX_EIO);
    phx_error_clear(NULL);
}

static int sink_calls;
static char sink_line[256], sink_mod[32];
static phx_log_level_t sink_level;

static void sink(phx_log_level_t level, const char *module, const char *line,
                 void *arg)
{
    (void)arg;
    sink_calls++;
    sink_level = level;
    snprintf(sink_line, sizeof sink_line, "%s", line);
    snprintf(sink_mod, sizeof sink_mod, "%s", module);
}

static void test_log_levels_and_sink(void)
{
    phx_log_level_t l;
    CU_ASSERT_EQUAL(phx_log_parse_level("debug", &l), PHX_OK);
    CU_ASSERT_EQUAL(l, PHX_LOG_DEBUG);
    CU_ASSERT_EQUAL(phx_log_parse_level("WARNING", &l), PHX_OK);
    CU_ASSERT_EQUAL(l, PHX_LOG_WARN);
    CU_ASSERT_EQUAL(phx_log_parse_level("loud", &l), PHX_EINVAL);
    CU_ASSERT_EQUAL(phx_log_parse_level(NULL, &l), PHX_EINVAL);

    phx_log_set_sink(sink, NULL);
    phx_log_set_level(PHX_LOG_WARN);
    sink_calls = 0;
    PHX_INFO("test", "hidden %d", 1);
    CU_ASSERT_EQUAL(sink_calls, 0);
    PHX_ERROR("test", "shown %d", 2);
    CU_ASSERT_EQUAL(sink_calls, 1);
    CU_ASSERT_STRING_EQUAL(sink_line, "shown 2");
    CU_ASSERT_STRING_EQUAL(sink_mod, "test");
    CU_ASSERT_EQUAL(sink_level, PHX_LOG_ERROR);
    phx_log_set_level(PHX_LOG_TRACE);
    CU_ASSERT_TRUE(phx_log_enabled(PHX_LOG_TRACE));
    PHX_TRACE("t", "x");
    CU_ASSERT_EQUAL(sink_calls, 2);
    phx_log_set_sink(NULL, NULL);
    phx_log_set_level(PHX_LOG_WARN);
}

static void test_env(void)
{
    phx_env_t env = PHX_ENV_INIT;
    CU_ASSERT_EQUAL(phx_env_system(&env, PHX_SYSEX_TRANSIENT, 7,
                                   PHX_COMPLETED_NO, "no %s", "route"),
                    PHX_ESYSEX);
    CU_ASSERT_EQUAL(env.major, PHX_SYSTEM_EXCEPTION);
    CU_ASSERT_STRING_EQUAL(env.repo_id, "IDL:omg.org/CORBA/TRANSIENT:1.0");
    CU_ASSERT_STRING_EQUAL(env.detail, "no route");
    CU_ASSERT_TRUE(phx_env_is(&env, PHX_SYSEX_TRANSIENT));
    char buf[200];
    phx_env_describe(&env, buf, sizeof buf);
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "TRANSIENT"));
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "COMPLETED_NO"));

    phx_env_t copy = PHX_ENV_INIT;
    CU_ASSERT_EQUAL(phx_env_copy(&copy, &env), PHX_OK);
    CU_ASSERT_STRING_EQUAL(copy.repo_id, env.repo_id);
    phx_env_clear(&copy);

    /* Every standard id maps back to its enum value. */
    for (int i = 1; i < PHX_SYSEX_COUNT; i++)
        CU_ASSERT_EQUAL(phx_sysex_from_repo_id(phx_sysex_repo_id((phx_sysex_t)i)),
                        (phx_sysex_t)i);
    CU_ASSERT_EQUAL(phx_sysex_from_repo_id("IDL:acme/Odd:1.0"),
                    PHX_SYSEX_NONE);
    phx_env_system_id(&env, "IDL:omg.org/CORBA/Vendor_SPECIFIC:1.0", 1,
                      PHX_COMPLETED_MAYBE);
    CU_ASSERT_EQUAL(env.sysex, PHX_SYSEX_UNKNOWN);
    CU_ASSERT_STRING_EQUAL(env.repo_id,
                           "IDL:omg.org/CORBA/Vendor_SPECIFIC:1.0");
    phx_env_clear(&env);
    CU_ASSERT_EQUAL(env.major, PHX_NO_EXCEPTION);
    CU_ASSERT_PTR_NULL(env.repo_id);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("error_log", NULL, NULL);
    if (s == NULL ||
        !CU_add_test(s, "strerror table", test_strerror_table) ||
        !CU_add_test(s, "error_set", test_error_set) ||
        !CU_add_test(s, "log levels and sink", test_log_levels_and_sink) ||
        !CU_add_test(s, "exception environment", test_env)) {
        CU_cleanup_registry();
        return 1;
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
