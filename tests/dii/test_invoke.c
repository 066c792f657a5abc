/*
 * test_invoke.c - "phxctl invoke" against an in-process DSI servant of
 * Test::Everything (idl/everything.idl) served on tcp://127.0.0.1:* from
 * an ORB thread: the built $PHX_BUILDDIR/ft/phxd/phxctl runs with
 * $PHX_BUILDDIR/tests/dii/everything.phxif; stdout, stderr and the exit
 * status (0 result, 1 user exception, 2 bad arguments) are checked.
 * Every child is waited for by PID under a deadline.
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include <phx/dii.h>
#include <phx/phx.h>

#include "idl/everything.h"

extern char **environ;

#define RUN_MS 20000

static phx_orb_t *orb;
static pthread_t loop_thread;
static phx_dsi_servant_t dsi;
static char ior[4096];
static char phxctl[4096], phxif[4096], iorfile[4096];

static int handler(void *self, const phx_opdesc_t *op, phx_any_t *args,
                   phx_any_t *result, phx_env_t *env)
{
    (void)self;
    if (strncmp(op->name, "op_", 3) == 0 && op->param_count == 3) {
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
        int32_t code = *(int32_t *)args[0]._value;
        Test_Point where = {code, -code};
        Test_Oops ex = {.code = code, .why = "bad \"luck\"",
                        .where = {1, 1, &where, false}};
        if (code < 0)
            return phx_env_system(env, PHX_SYSEX_NO_PERMISSION, 0,
                                  PHX_COMPLETED_NO, "negative");
        return code ? phx_op_raise(env, &TC_Test_Oops, &ex)
                    : phx_op_raise(env, &TC_Test_Empty, NULL);
    }
    if (strcmp(op->name, "base_op") == 0) {
        *(int32_t *)result->_value = *(int32_t *)args[0]._value * 2;
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
    const char *b = getenv("PHX_BUILDDIR");
    phx_orb_config_t cfg;
    phx_object_t *ref;
    phx_error_t err;
    char *s;

    snprintf(phxctl, sizeof phxctl, "%s/ft/phxd/phxctl", b ? b : ".");
    snprintf(phxif, sizeof phxif, "%s/tests/dii/everything.phxif",
             b ? b : ".");
    phx_orb_config_init(&cfg);
    cfg.listen = listen;
    cfg.listen_count = 1;
    if (phx_orb_create(&cfg, &orb, &err) ||
        phx_dsi_servant_init(&dsi, &Test_Everything__desc, handler, NULL) ||
        phx_orb_activate(orb, &dsi.base, "inv", 3, &ref, &err) ||
        phx_object_to_string(ref, &s))
        return -1;
    snprintf(ior, sizeof ior, "%s", s);
    free(s);
    phx_object_release(ref);
    snprintf(iorfile, sizeof iorfile, "/tmp/phx-test-invoke-%ld.ior",
             (long)getpid());
    FILE *f = fopen(iorfile, "w");
    if (f == NULL)
        return -1;
    fprintf(f, "\n  %s\n", ior);
    fclose(f);
    pthread_create(&loop_thread, NULL, loop, orb);
    return 0;
}

static int suite_clean(void)
{
    phx_orb_shutdown(orb);
    pthread_join(loop_thread, NULL);
    phx_orb_destroy(orb);
    phx_dsi_servant_fini(&dsi);
    unlink(iorfile);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Running phxctl                                                       */
/* ------------------------------------------------------------------ */

typedef struct run {
    int status;        /* exit status, or -1 */
    char out[8192];
    char err[8192];
} run_t;

static void slurp(int fd, char *buf, size_t cap)
{
    ssize_t n = pread(fd, buf, cap - 1, 0);
    buf[n > 0 ? n : 0] = '\0';
}

static void run_phxctl(run_t *r, char *const extra[])
{
    char *argv[32];
    char o[] = "/tmp/phx-inv-outXXXXXX", e[] = "/tmp/phx-inv-errXXXXXX";
    int ofd = mkstemp(o), efd = mkstemp(e), n = 0;
    posix_spawn_file_actions_t fa;
    pid_t pid;

    r->status = -1;
    r->out[0] = r->err[0] = '\0';
    argv[n++] = phxctl;
    for (int i = 0; extra[i] && n < 31; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, ofd, 1);
    posix_spawn_file_actions_adddup2(&fa, efd, 2);
    if (posix_spawn(&pid, phxctl, &fa, NULL, argv, environ) == 0) {
        struct timespec t0, t;
        int st;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (;;) {
            pid_t w = waitpid(pid, &st, WNOHANG);
            if (w == pid) {
                r->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
                break;
            }
            clock_gettime(CLOCK_MONOTONIC, &t);
            if ((t.tv_sec - t0.tv_sec) * 1000 +
                    (t.tv_nsec - t0.tv_nsec) / 1000000 > RUN_MS) {
                kill(pid, SIGKILL);
                waitpid(pid, &st, 0);
                break;
            }
            usleep(2000);
        }
    }
    posix_spawn_file_actions_destroy(&fa);
    slurp(ofd, r->out, sizeof r->out);
    slurp(efd, r->err, sizeof r->err);
    close(ofd);
    close(efd);
    unlink(o);
    unlink(e);
}

#define INVOKE(r, ...)                                                     \
    do {                                                                   \
        char *a_[] = {"invoke", "--idl", phxif, __VA_ARGS__, NULL};        \
        run_phxctl(r, a_);                                                 \
    } while (0)

static void expect(const run_t *r, int status, const char *out,
                   const char *err_part)
{
    if (r->status != status || (out && strcmp(r->out, out) != 0) ||
        (err_part && strstr(r->err, err_part) == NULL)) {
        fprintf(stderr, "\nstatus %d (want %d)\nstdout: %s\nstderr: %s\n",
                r->status, status, r->out, r->err);
        if (out)
            fprintf(stderr, "want stdout: %s\n", out);
        if (err_part)
            fprintf(stderr, "want in stderr: %s\n", err_part);
        CU_FAIL("phxctl invoke");
    } else {
        CU_PASS("phxctl invoke");
    }
}

static void test_results(void)
{
    static run_t r;

    INVOKE(&r, ior, "op_long", "5", "7");
    expect(&r, 0, "{\"result\":5,\"out\":{\"b\":7,\"c\":5}}\n", NULL);
    INVOKE(&r, iorfile, "op_string", "\"caf\\u00e9\"", "\"x\"");
    expect(&r, 0,
           "{\"result\":\"caf\xc3\xa9\",\"out\":{\"b\":\"x\","
           "\"c\":\"caf\xc3\xa9\"}}\n", NULL);
    INVOKE(&r, ior, "op_nested",
           "{\"p\":{\"x\":1,\"y\":2},\"detail\":{\"tag\":7,\"label\":\"l\","
           "\"vals\":[1.5,2,3]},\"corners\":[],\"color\":\"blue\","
           "\"longs\":[1],\"words\":[[\"w\"]]}",
           "{\"p\":{\"x\":0,\"y\":0},\"detail\":{\"tag\":0,\"label\":\"\","
           "\"vals\":[0,0,0]},\"corners\":[],\"color\":\"red\","
           "\"longs\":[],\"words\":[]}");
    expect(&r, 0,
           "{\"result\":{\"p\":{\"x\":1,\"y\":2},\"detail\":{\"tag\":7,"
           "\"label\":\"l\",\"vals\":[1.5,2,3]},\"corners\":[],"
           "\"color\":\"blue\",\"longs\":[1],\"words\":[[\"w\"]]},"
           "\"out\":{\"b\":{\"p\":{\"x\":0,\"y\":0},\"detail\":{\"tag\":0,"
           "\"label\":\"\",\"vals\":[0,0,0]},\"corners\":[],"
           "\"color\":\"red\",\"longs\":[],\"words\":[]},"
           "\"c\":{\"p\":{\"x\":1,\"y\":2},\"detail\":{\"tag\":7,"
           "\"label\":\"l\",\"vals\":[1.5,2,3]},\"corners\":[],"
           "\"color\":\"blue\",\"longs\":[1],\"words\":[[\"w\"]]}}}\n",
           NULL);
    INVOKE(&r, ior, "op_any",
           "{\"type\":\"IDL:phalanx.org/Test/Point:1.0\","
           "\"value\":{\"x\":1,\"y\":2}}",
           "{\"type\":\"null\",\"value\":null}");
    expect(&r, 0,
           "{\"result\":{\"type\":\"IDL:phalanx.org/Test/Point:1.0\","
           "\"value\":{\"x\":1,\"y\":2}},\"out\":{\"b\":{\"type\":\"null\","
           "\"value\":null},\"c\":{\"type\":\"IDL:phalanx.org/Test/"
           "Point:1.0\",\"value\":{\"x\":1,\"y\":2}}}}\n", NULL);
    INVOKE(&r, ior, "op_byenum", "{\"g\":{\"x\":1,\"y\":2}}",
           "{\"discriminator\":\"red\",\"value\":-4}");
    expect(&r, 0,
           "{\"result\":{\"discriminator\":\"green\",\"value\":{\"x\":1,"
           "\"y\":2}},\"out\":{\"b\":{\"discriminator\":\"red\","
           "\"value\":-4},\"c\":{\"discriminator\":\"green\",\"value\":"
           "{\"x\":1,\"y\":2}}}}\n", NULL);
    /* inherited, by interface name */
    char *a[] = {"invoke", "--interface", "Test::Base", "--idl", phxif, ior,
                 "base_op", "21", NULL};
    run_phxctl(&r, a);
    expect(&r, 0, "{\"result\":42,\"out\":{}}\n", NULL);
    INVOKE(&r, ior, "note", "\"hi\"");
    expect(&r, 0, "{\"result\":null,\"out\":{}}\n", NULL);
}

static void test_exceptions(void)
{
    static run_t r;

    INVOKE(&r, ior, "fail", "3");
    expect(&r, 1,
           "{\"exception\":\"IDL:phalanx.org/Test/Oops:1.0\",\"value\":"
           "{\"code\":3,\"why\":\"bad \\\"luck\\\"\",\"where\":"
           "[{\"x\":3,\"y\":-3}]}}\n", NULL);
    INVOKE(&r, ior, "fail", "0");
    expect(&r, 1,
           "{\"exception\":\"IDL:phalanx.org/Test/Empty:1.0\","
           "\"value\":{}}\n", NULL);
    INVOKE(&r, ior, "fail", "-1");
    expect(&r, 4, "", "NO_PERMISSION");
    INVOKE(&r, ior, "_get_origin");
    expect(&r, 4, "", "NO_IMPLEMENT");
}

static void test_usage(void)
{
    static run_t r;

    INVOKE(&r, ior, "op_long", "5");
    expect(&r, 2, "",
           "phxctl: op_long takes 2 arguments (a: long, c: long), got 1\n");
    INVOKE(&r, ior, "op_long", "5", "\"x\"");
    expect(&r, 2, "",
           "phxctl: args[1]: expected an integer -2147483648..2147483647, "
           "got \"x\" (parameter 'c' of op_long is long)\n");
    INVOKE(&r, ior, "op_point", "{\"x\":1,\"y\":2}", "{\"x\":1,\"z\":2}");
    expect(&r, 2, "",
           "phxctl: args[1]: unknown member \"z\" (struct Point has: x, y) "
           "(parameter 'c' of op_point is "
           "IDL:phalanx.org/Test/Point:1.0)\n");
    INVOKE(&r, ior, "op_nested",
           "{\"p\":{\"x\":1,\"y\":2},\"detail\":{\"tag\":256}}", "{}");
    expect(&r, 2, "",
           "phxctl: args[0].detail.tag: expected an integer 0..255, got 256");
    INVOKE(&r, ior, "op_name", "\"seventeen-chars-x\"", "\"\"");
    expect(&r, 2, "", "expected a string of at most 16 bytes");
    INVOKE(&r, ior, "op_long", "[1", "2");
    expect(&r, 2, "", "args[0]: invalid JSON at offset 2");
    INVOKE(&r, ior, "no_such_op");
    expect(&r, 2, "", "Everything has no operation 'no_such_op'");
    char *a1[] = {"invoke", "--idl", "/nonexistent.phxif", ior, "op_long",
                  "1", "2", NULL};
    run_phxctl(&r, a1);
    expect(&r, 2, "", "/nonexistent.phxif");
    char *a2[] = {"invoke", ior, "op_long", NULL};
    run_phxctl(&r, a2);
    expect(&r, 2, "", "no interface description");
    char *a3[] = {"invoke", "--idl", phxif, "--interface", "Nope", ior,
                  "op_long", "1", "2", NULL};
    run_phxctl(&r, a3);
    expect(&r, 2, "", "no interface Nope in");
    char *a4[] = {"invoke", "--idl", phxif, NULL};
    run_phxctl(&r, a4);
    expect(&r, 2, "", "invoke: missing TARGET OPERATION");
    char *a5[] = {"invoke", "--help", NULL};
    run_phxctl(&r, a5);
    expect(&r, 0, NULL, NULL);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "JSON-ARG"));
    /* a group name needs a daemon */
    char *a6[] = {"invoke", "--idl", phxif, "somegroup", "op_long", NULL};
    unsetenv("PHX_DAEMON");
    run_phxctl(&r, a6);
    expect(&r, 2, "", "no daemon given");
}

/* An object whose server is gone: exit 3. */
static void test_unreachable(void)
{
    const char *listen[] = {"tcp://127.0.0.1:*"};
    phx_orb_config_t cfg;
    phx_orb_t *o2;
    phx_dsi_servant_t sv;
    phx_object_t *ref;
    phx_error_t err;
    char *s = NULL;
    static run_t r;

    phx_orb_config_init(&cfg);
    cfg.listen = listen;
    cfg.listen_count = 1;
    CU_ASSERT_EQUAL_FATAL(phx_orb_create(&cfg, &o2, &err), 0);
    CU_ASSERT_EQUAL_FATAL(phx_dsi_servant_init(&sv, &Test_Everything__desc,
                                               handler, NULL), 0);
    CU_ASSERT_EQUAL_FATAL(phx_orb_activate(o2, &sv.base, "gone", 4, &ref,
                                           &err), 0);
    CU_ASSERT_EQUAL_FATAL(phx_object_to_string(ref, &s), 0);
    phx_object_release(ref);
    phx_orb_destroy(o2);
    phx_dsi_servant_fini(&sv);
    char *a[] = {"--timeout", "1000", "invoke", "--idl", phxif, s,
                 "op_long", "1", "2", NULL};
    run_phxctl(&r, a);
    expect(&r, 3, "", "op_long failed");
    free(s);
}

int main(void)
{
    CU_pSuite s;
    int failures;

    signal(SIGPIPE, SIG_IGN);
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    s = CU_add_suite("phxctl invoke", suite_init, suite_clean);
    CU_add_test(s, "results", test_results);
    CU_add_test(s, "exceptions", test_exceptions);
    CU_add_test(s, "usage errors", test_usage);
    CU_add_test(s, "unreachable object", test_unreachable);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    failures = (int)CU_get_number_of_failures();
    CU_cleanup_registry();
    return failures ? 1 : 0;
}
