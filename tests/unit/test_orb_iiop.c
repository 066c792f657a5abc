/*
 * test_orb_iiop.c - the ORB over the IIOP transport (iiop:// endpoints,
 * IIOP 1.2 profiles): Echo calls of every kind, large messages, oneways,
 * exceptions, concurrent callers, corbaloc:iiop URLs and a server that
 * goes away in the middle of a call.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <CUnit/Basic.h>

#include "tests/unit/echo_fixture.h"

/* Calls of every kind on o. */
static void exercise(phx_object_t *o)
{
    phx_env_t env = PHX_ENV_INIT;
    int32_t r = 0;
    CU_ASSERT_EQUAL(Echo_echo_long(o, 424242, &r, &env), PHX_OK);
    CU_ASSERT_EQUAL(r, 424242);
    CU_ASSERT_EQUAL(Echo_echo_long(o, -9, &r, &env), PHX_OK);
    CU_ASSERT_EQUAL(r, -9);
    size_t sizes[] = {0, 1, 5000, 70000, 1 << 20};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        uint8_t *in = malloc(sizes[i] + 1), *out = NULL;
        for (size_t j = 0; j < sizes[i]; j++)
            in[j] = (uint8_t)(j * 7 + i);
        size_t n = 12345;
        CU_ASSERT_EQUAL(Echo_echo_octets(o, in, sizes[i], &out, &n, &env),
                        PHX_OK);
        CU_ASSERT_EQUAL(n, sizes[i]);
        CU_ASSERT(out && memcmp(in, out, sizes[i]) == 0);
        free(in);
        free(out);
    }
}

static void test_round_trip(void)
{
    server_t s;
    CU_ASSERT_EQUAL_FATAL(server_start(&s, "iiop://127.0.0.1:0", 0, "echo"),
                          0);
    const char *ep = phx_orb_endpoint(s.orb, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ep);
    CU_ASSERT(strncmp(ep, "iiop://127.0.0.1:", 17) == 0 &&
              strcmp(ep, "iiop://127.0.0.1:0") != 0);
    /* The reference carries one IIOP 1.2 profile. */
    phx_ior_t ior;
    CU_ASSERT_EQUAL_FATAL(phx_object_get_ior(s.ref, &ior), PHX_OK);
    CU_ASSERT_EQUAL(ior.profile_count, 1);
    phx_profile_t p;
    CU_ASSERT_EQUAL_FATAL(phx_profile_decode(&ior.profiles[0], &p, NULL),
                          PHX_OK);
    CU_ASSERT_EQUAL(p.tag, PHX_TAG_INTERNET_IOP);
    CU_ASSERT_EQUAL(p.major, 1);
    CU_ASSERT_EQUAL(p.minor, 2);
    CU_ASSERT_STRING_EQUAL(p.host, "127.0.0.1");
    CU_ASSERT_EQUAL(p.port, (unsigned)atoi(ep + 17));
    phx_profile_fini(&p);
    phx_ior_fini(&ior);

    phx_orb_t *c = client_orb(10000);
    phx_object_t *o = resolve(c, s.ior);
    exercise(o);
    phx_object_release(o);
    phx_orb_destroy(c);
    server_stop(&s);
}

static void test_corbaloc(void)
{
    server_t s;
    CU_ASSERT_EQUAL_FATAL(server_start(&s, "iiop://127.0.0.1:*", 1, "E%x"),
                          0);
    const char *ep = phx_orb_endpoint(s.orb, 0);
    char url[128];
    /* The key "E%x" escaped. */
    snprintf(url, sizeof url, "corbaloc:iiop:1.2@127.0.0.1:%s/E%%25x",
             strrchr(ep, ':') + 1);
    phx_orb_t *c = client_orb(10000);
    phx_object_t *o = resolve(c, url);
    exercise(o);
    phx_object_release(o);
    phx_orb_destroy(c);
    server_stop(&s);
}

static void test_oneway_and_exceptions(void)
{
    server_t s;
    CU_ASSERT_EQUAL_FATAL(server_start(&s, "iiop://127.0.0.1:*", 0, "echo"),
                          0);
    phx_orb_t *c = client_orb(5000);
    phx_object_t *o = resolve(c, s.ior);
    phx_env_t env = PHX_ENV_INIT;
    atomic_store(&pings, 0);
    for (int i = 0; i < 100; i++)
        CU_ASSERT_EQUAL(Echo_ping(o, 2, &env), PHX_OK);
    int32_t n = 0;
    CU_ASSERT_EQUAL(Echo_count(o, &n, &env), PHX_OK);
    CU_ASSERT_EQUAL(n, 200);

    CU_ASSERT_EQUAL(Echo_fail(o, 5, "five", &env), PHX_EUSEREX);
    CU_ASSERT_STRING_EQUAL(env.repo_id, ECHO_FAILED_REPO_ID);
    const Echo_Failed *f = env.user_value;
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(f->code, 5);
    CU_ASSERT_STRING_EQUAL(f->why, "five");
    phx_env_clear(&env);

    CU_ASSERT_EQUAL(Echo_fail(o, -1, "", &env), PHX_ESYSEX);
    CU_ASSERT_TRUE(phx_env_is(&env, PHX_SYSEX_NO_PERMISSION));
    CU_ASSERT_EQUAL(env.minor, 42);
    phx_env_clear(&env);

    phx_request_t *reqs[32];
    for (int i = 0; i < 32; i++)
        CU_ASSERT_EQUAL(Echo_echo_long_send(o, i * 5, &reqs[i], &env),
                        PHX_OK);
    for (int i = 31; i >= 0; i--) {
        int32_t r = -1;
        CU_ASSERT_EQUAL(Echo_echo_long_recv(reqs[i], &r, &env), PHX_OK);
        CU_ASSERT_EQUAL(r, i * 5);
    }
    phx_object_release(o);
    phx_orb_destroy(c);
    server_stop(&s);
}

typedef struct caller {
    phx_object_t *obj;
    int id, ok;
} caller_t;

static void *caller_main(void *arg)
{
    caller_t *c = arg;
    phx_env_t env = PHX_ENV_INIT;
    for (int i = 0; i < 200; i++) {
        int32_t v = c->id * 1000 + i, r = 0;
        if (Echo_echo_long(c->obj, v, &r, &env) == PHX_OK && r == v)
            c->ok++;
        phx_env_clear(&env);
    }
    return NULL;
}

static void test_eight_threads(void)
{
    server_t s;
    CU_ASSERT_EQUAL_FATAL(server_start(&s, "iiop://127.0.0.1:*", 4, "echo"),
                          0);
    phx_orb_t *c = client_orb(10000);
    phx_object_t *o = resolve(c, s.ior);
    pthread_t th[8];
    caller_t cs[8];
    for (int i = 0; i < 8; i++) {
        cs[i] = (caller_t){.obj = o, .id = i + 1};
        pthread_create(&th[i], NULL, caller_main, &cs[i]);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        CU_ASSERT_EQUAL(cs[i].ok, 200);
    }
    phx_object_release(o);
    phx_orb_destroy(c);
    server_stop(&s);
}

static void test_refused(void)
{
    /* A port where nothing listens: bind a server, note it, stop it. */
    server_t s;
    CU_ASSERT_EQUAL_FATAL(server_start(&s, "iiop://127.0.0.1:*", 0, "echo"),
                          0);
    char *ior = strdup(s.ior);
    server_stop(&s);
    phx_orb_t *c = client_orb(2000);
    phx_object_t *o = resolve(c, ior);
    phx_env_t env = PHX_ENV_INIT;
    int32_t r;
    CU_ASSERT_EQUAL(Echo_echo_long(o, 1, &r, &env), PHX_ESYSEX);
    CU_ASSERT_TRUE(phx_env_is(&env, PHX_SYSEX_TRANSIENT) ||
                   phx_env_is(&env, PHX_SYSEX_COMM_FAILURE));
    CU_ASSERT_EQUAL(env.completed, PHX_COMPLETED_NO);
    phx_env_clear(&env);
    phx_object_release(o);
    phx_orb_destroy(c);
    free(ior);
}

/* An IPv6 endpoint: the profile holds the bare address, the endpoint
 * brackets it.  Skipped where the loopback has no IPv6. */
static void test_ipv6(void)
{
    server_t s;
    if (server_start(&s, "iiop://[::1]:*", 0, "echo") != 0) {
        fprintf(stderr, "(no IPv6 loopback here: skipped) ");
        return;
    }
    CU_ASSERT(strncmp(phx_orb_endpoint(s.orb, 0), "iiop://[::1]:", 13) == 0);
    phx_orb_t *c = client_orb(5000);
    phx_object_t *o = resolve(c, s.ior);
    phx_env_t env = PHX_ENV_INIT;
    int32_t r = 0;
    CU_ASSERT_EQUAL(Echo_echo_long(o, 66, &r, &env), PHX_OK);
    CU_ASSERT_EQUAL(r, 66);
    phx_object_release(o);
    phx_orb_destroy(c);
    server_stop(&s);
}

/* A server restarted at the same port while the client's connection to
 * its first incarnation sits idle: the next call goes out on a new
 * connection and succeeds. */
static void test_server_restart(void)
{
    server_t s;
    CU_ASSERT_EQUAL_FATAL(server_start(&s, "iiop://127.0.0.1:*", 0, "echo"),
                          0);
    char ep[64];
    snprintf(ep, sizeof ep, "%s", phx_orb_endpoint(s.orb, 0));
    phx_orb_t *c = client_orb(5000);
    phx_object_t *o = resolve(c, s.ior);
    phx_env_t env = PHX_ENV_INIT;
    int32_t r = 0;
    CU_ASSERT_EQUAL(Echo_echo_long(o, 1, &r, &env), PHX_OK);
    server_stop(&s);
    CU_ASSERT_EQUAL_FATAL(server_start(&s, ep, 0, "echo"), 0);
    CU_ASSERT_EQUAL(Echo_echo_long(o, 2, &r, &env), PHX_OK);
    CU_ASSERT_EQUAL(r, 2);
    phx_env_clear(&env);
    phx_object_release(o);
    phx_orb_destroy(c);
    server_stop(&s);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("orb over iiop", NULL, NULL);
    if (s == NULL || !CU_add_test(s, "round trip", test_round_trip) ||
        !CU_add_test(s, "corbaloc:iiop", test_corbaloc) ||
        !CU_add_test(s, "oneway and exceptions",
                     test_oneway_and_exceptions) ||
        !CU_add_test(s, "eight client threads", test_eight_threads) ||
        !CU_add_test(s, "refused", test_refused) ||
        !CU_add_test(s, "server restarted", test_server_restart) ||
        !CU_add_test(s, "IPv6", test_ipv6)) {
        CU_cleanup_registry();
        return 1;
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
