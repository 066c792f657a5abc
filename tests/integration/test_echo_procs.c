/*
 * test_echo_procs.c - the ORB across real processes on loopback: the echo
 * server and client programs, a server killed in the middle of a call, a
 * hung server found by heartbeats, reconnection to a restarted server,
 * concurrent client threads, and clean shutdown on SIGTERM.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "harness.h"
#include "samples/echo/echo.h"

static phx_orb_t *client(uint32_t timeout_ms, uint32_t hb_ivl,
                         uint32_t hb_timeout)
{
    phx_orb_config_t cfg;
    phx_orb_config_init(&cfg);
    cfg.call_timeout_ms = timeout_ms;
    cfg.connect_timeout_ms = 3000;
    cfg.heartbeat_ivl_ms = hb_ivl;
    cfg.heartbeat_timeout_ms = hb_timeout;
    phx_orb_t *orb = NULL;
    phx_error_t err;
    if (phx_orb_create(&cfg, &orb, &err) != PHX_OK)
        fprintf(stderr, "client orb: %s\n", err.msg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(orb);
    return orb;
}

static phx_object_t *ref(phx_orb_t *orb, const char *s)
{
    phx_object_t *o = NULL;
    CU_ASSERT_EQUAL_FATAL(phx_object_from_string(orb, s, &o, NULL), PHX_OK);
    return o;
}

/* Run echo-client with args; returns its exit status, first output line
 * in out. */
static int run_client(char *out, size_t cap, const char *const *args)
{
    char *argv[16];
    int n = 0;
    static char prog[4096];
    snprintf(prog, sizeof prog, "%s", h_prog("samples/echo/echo-client"));
    argv[n++] = prog;
    for (; *args && n < 15; args++)
        argv[n++] = (char *)*args;
    argv[n] = NULL;
    hproc_t p;
    if (h_spawn(&p, argv) != 0)
        return -1;
    out[0] = '\0';
    h_read_line(&p, out, cap, 20000);
    if (!h_wait_exit(&p, 20000))
        h_kill(&p, SIGKILL, 1000);
    return WIFEXITED(p.status) ? WEXITSTATUS(p.status) : -1;
}

static void test_programs(void)
{
    hproc_t srv;
    char ior[4096], out[256];
    const char *extra[] = {"--listen", "tcp://127.0.0.1:*", NULL};
    CU_ASSERT_EQUAL_FATAL(h_start_echo_server(&srv, ior, sizeof ior, extra),
                          0);
    const char *a1[] = {ior, "long", "42", NULL};
    CU_ASSERT_EQUAL(run_client(out, sizeof out, a1), 0);
    CU_ASSERT_STRING_EQUAL(out, "42");
    const char *a2[] = {ior, "octets", "70000", NULL};
    CU_ASSERT_EQUAL(run_client(out, sizeof out, a2), 0);
    CU_ASSERT_STRING_EQUAL(out, "70000");
    const char *a3[] = {ior, "fail", "7", "because", NULL};
    CU_ASSERT_EQUAL(run_client(out, sizeof out, a3), 3);
    /* Oneways sent just before the client exits are not lost: closing
     * the ORB lets them leave first. */
    const char *a4[] = {"--repeat", "500", ior, "ping", "1", NULL};
    CU_ASSERT_EQUAL(run_client(out, sizeof out, a4), 0);
    /* The count comes over another connection, which may overtake the
     * pings still queued at the server: wait for all of them. */
    const char *a5[] = {ior, "count", NULL};
    long long until = h_now_ms() + 20000;
    do {
        CU_ASSERT_EQUAL(run_client(out, sizeof out, a5), 0);
    } while (strcmp(out, "500") != 0 && atoi(out) < 500 &&
             h_now_ms() < until);
    CU_ASSERT_STRING_EQUAL(out, "500");
    /* Usage errors are reported, not crashed on. */
    const char *b1[] = {ior, "long", "notanumber", NULL};
    CU_ASSERT_EQUAL(run_client(out, sizeof out, b1), 2);
    const char *b2[] = {"IOR:0102", "long", "1", NULL};
    CU_ASSERT_EQUAL(run_client(out, sizeof out, b2), 2);
    const char *b3[] = {ior, "dance", "1", NULL};
    CU_ASSERT_EQUAL(run_client(out, sizeof out, b3), 2);
    /* SIGTERM: orderly exit with status 0. */
    int st = h_kill(&srv, SIGTERM, 5000);
    CU_ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);

    /* The oneway shutdown operation stops the server too. */
    CU_ASSERT_EQUAL_FATAL(h_start_echo_server(&srv, ior, sizeof ior, extra),
                          0);
    const char *a6[] = {ior, "shutdown", NULL};
    CU_ASSERT_EQUAL(run_client(out, sizeof out, a6), 0);
    CU_ASSERT_TRUE(h_wait_exit(&srv, 5000));
    CU_ASSERT_TRUE(WIFEXITED(srv.status) && WEXITSTATUS(srv.status) == 0);
    h_kill(&srv, SIGKILL, 1000);

    /* Bad server options are refused with a message. */
    char *bad[] = {(char *)h_prog("samples/echo/echo-server"), "--listen",
                   "udp://nowhere", NULL};
    hproc_t p;
    CU_ASSERT_EQUAL_FATAL(h_spawn(&p, bad), 0);
    CU_ASSERT_TRUE(h_wait_exit(&p, 5000));
    CU_ASSERT_TRUE(WIFEXITED(p.status) && WEXITSTATUS(p.status) == 1);
}

static void test_killed_mid_call(void)
{
    hproc_t srv;
    char ior[4096];
    const char *extra[] = {"--listen", "tcp://127.0.0.1:*", NULL};
    CU_ASSERT_EQUAL_FATAL(h_start_echo_server(&srv, ior, sizeof ior, extra),
                          0);
    phx_orb_t *orb = client(30000, 0, 0);
    phx_object_t *o = ref(orb, ior);
    phx_env_t env = PHX_ENV_INIT;
    int32_t r;
    CU_ASSERT_EQUAL(Echo_echo_long(o, 1, &r, &env), PHX_OK);

    /* A call in flight when the server dies. */
    phx_request_t *req;
    CU_ASSERT_EQUAL_FATAL(phx_request_create(o, "sleep_ms", 0, &req), PHX_OK);
    phx_cdr_put_long(phx_request_args(req), 10000);
    CU_ASSERT_EQUAL_FATAL(phx_request_send(req, &env), PHX_OK);
    long long t0 = h_now_ms();
    h_kill(&srv, SIGKILL, 5000);
    CU_ASSERT_EQUAL(phx_request_wait(req, &env), PHX_ESYSEX);
    long long waited = h_now_ms() - t0;
    CU_ASSERT_TRUE(phx_env_is(&env, PHX_SYSEX_COMM_FAILURE));
    CU_ASSERT_EQUAL(env.completed, PHX_COMPLETED_MAYBE);
    CU_ASSERT(waited < 5000); /* noticed, not timed out (30 s) */
    phx_request_destroy(req);
    phx_env_clear(&env);

    /* The next call finds nobody: TRANSIENT, COMPLETED_NO. */
    CU_ASSERT_EQUAL(Echo_echo_long(o, 2, &r, &env), PHX_ESYSEX);
    CU_ASSERT_TRUE(phx_env_is(&env, PHX_SYSEX_TRANSIENT));
    CU_ASSERT_EQUAL(env.completed, PHX_COMPLETED_NO);
    phx_env_clear(&env);

    /* A server back on the same port with the same key: the old
     * reference works again. */
    phx_ior_t i;
    phx_object_get_ior(o, &i);
    phx_profile_t prof;
    CU_ASSERT_EQUAL_FATAL(phx_profile_decode(&i.profiles[0], &prof, NULL),
                          PHX_OK);
    const char *extra2[] = {"--listen", prof.endpoint, "--key", "k", NULL};
    CU_ASSERT_EQUAL_FATAL(
        h_start_echo_server(&srv, ior, sizeof ior, extra2), 0);
    phx_object_t *o2;
    phx_ior_t i2;
    phx_ior_make_zmq(&i2, ECHO_REPO_ID, prof.endpoint, "k", 1, NULL, 0);
    CU_ASSERT_EQUAL(phx_object_from_ior(orb, &i2, &o2, NULL), PHX_OK);
    int rc2 = Echo_echo_long(o2, 3, &r, &env);
    if (rc2 != PHX_OK) {
        char b[300];
        fprintf(stderr, "after restart: %s\n",
                phx_env_describe(&env, b, sizeof b));
    }
    CU_ASSERT_EQUAL(rc2, PHX_OK);
    CU_ASSERT_EQUAL(r, 3);
    phx_ior_fini(&i2);
    phx_ior_fini(&i);
    phx_profile_fini(&prof);
    phx_object_release(o2);
    h_kill(&srv, SIGTERM, 5000);
    phx_object_release(o);
    phx_orb_destroy(orb);
}

static void test_hung_server_heartbeat(void)
{
    hproc_t srv;
    char ior[4096];
    const char *extra[] = {"--listen", "tcp://127.0.0.1:*", NULL};
    CU_ASSERT_EQUAL_FATAL(h_start_echo_server(&srv, ior, sizeof ior, extra),
                          0);
    phx_orb_t *orb = client(30000, 100, 600);
    phx_object_t *o = ref(orb, ior);
    phx_env_t env = PHX_ENV_INIT;
    int32_t r;
    CU_ASSERT_EQUAL(Echo_echo_long(o, 1, &r, &env), PHX_OK);
    /* The server stops answering anything, heartbeats included. */
    kill(srv.pid, SIGSTOP);
    long long t0 = h_now_ms();
    CU_ASSERT_EQUAL(Echo_echo_long(o, 2, &r, &env), PHX_ESYSEX);
    long long waited = h_now_ms() - t0;
    CU_ASSERT_TRUE(phx_env_is(&env, PHX_SYSEX_COMM_FAILURE));
    CU_ASSERT_EQUAL(env.completed, PHX_COMPLETED_MAYBE);
    CU_ASSERT(waited < 10000);
    phx_env_clear(&env);
    kill(srv.pid, SIGCONT);
    h_kill(&srv, SIGKILL, 5000);
    phx_object_release(o);
    phx_orb_destroy(orb);
}

typedef struct th {
    phx_object_t *o;
    int id, ok;
} th_t;

static void *th_main(void *a)
{
    th_t *t = a;
    phx_env_t env = PHX_ENV_INIT;
    for (int i = 0; i < 300; i++) {
        int32_t v = t->id * 1000 + i, r = -1;
        if (Echo_echo_long(t->o, v, &r, &env) == PHX_OK && r == v)
            t->ok++;
        phx_env_clear(&env);
    }
    return NULL;
}

static void test_eight_threads(void)
{
    hproc_t srv;
    char ior[4096];
    const char *extra[] = {"--listen", "tcp://127.0.0.1:*", "--workers", "4",
                           NULL};
    CU_ASSERT_EQUAL_FATAL(h_start_echo_server(&srv, ior, sizeof ior, extra),
                          0);
    phx_orb_t *orb = client(10000, 0, 0);
    phx_object_t *o = ref(orb, ior);
    pthread_t tids[8];
    th_t ts[8];
    for (int i = 0; i < 8; i++) {
        ts[i] = (th_t){o, i, 0};
        pthread_create(&tids[i], NULL, th_main, &ts[i]);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(tids[i], NULL);
        CU_ASSERT_EQUAL(ts[i].ok, 300);
    }
    int st = h_kill(&srv, SIGTERM, 5000);
    CU_ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    phx_object_release(o);
    phx_orb_destroy(orb);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("echo processes", NULL, NULL);
    if (s == NULL || !CU_add_test(s, "server and client programs",
                                  test_programs) ||
        !CU_add_test(s, "server killed mid-call", test_killed_mid_call) ||
        !CU_add_test(s, "hung server found by heartbeats",
                     test_hung_server_heartbeat) ||
        !CU_add_test(s, "eight client threads", test_eight_threads)) {
        CU_cleanup_registry();
        return 1;
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
