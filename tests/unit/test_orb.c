/*
 * test_orb.c - the ORB runtime in one process: invocations over every
 * transport scheme, exceptions, built-in operations, references, timeouts,
 * deferred calls, concurrency, forwarding and the interceptor points.
 *
 * Each test starts a server ORB whose event loop runs on its own thread
 * and calls it from a separate client ORB.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "tests/unit/echo_fixture.h"

/* ------------------------------------------------------------------ */
/* Round trips                                                          */
/* ------------------------------------------------------------------ */

static void round_trip_on(const char *ep)
{
    server_t s;
    CU_ASSERT_EQUAL_FATAL(server_start(&s, ep, 0, NULL), 0);
    phx_orb_t *c = client_orb(5000);
    phx_object_t *o = resolve(c, s.ior);
    phx_env_t env = PHX_ENV_INIT;
    int32_t r = 0;
    CU_ASSERT_EQUAL(Echo_echo_long(o, 123456, &r, &env), PHX_OK);
    CU_ASSERT_EQUAL(r, 123456);
    CU_ASSERT_EQUAL(Echo_echo_long(o, -7, &r, &env), PHX_OK);
    CU_ASSERT_EQUAL(r, -7);
    size_t sizes[] = {0, 1, 1000, 65536, 1 << 20};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        uint8_t *in = malloc(sizes[i] + 1), *out = NULL;
        for (size_t j = 0; j < sizes[i]; j++)
            in[j] = (uint8_t)(j * 31 + i);
        size_t n = 99;
        CU_ASSERT_EQUAL(Echo_echo_octets(o, in, sizes[i], &out, &n, &env),
                        PHX_OK);
        CU_ASSERT_EQUAL(n, sizes[i]);
        CU_ASSERT(out && memcmp(in, out, sizes[i]) == 0);
        free(in);
        free(out);
    }
    phx_object_release(o);
    phx_orb_destroy(c);
    server_stop(&s);
}

static void test_tcp(void) { round_trip_on("tcp://127.0.0.1:*"); }
static void test_inproc(void) { round_trip_on("inproc://test-orb-echo"); }
static void test_ipc(void)
{
    char ep[128];
    snprintf(ep, sizeof ep, "ipc:///tmp/phx-test-orb-%ld.sock",
             (long)getpid());
    round_trip_on(ep);
    unlink(ep + 6);
}

/* ------------------------------------------------------------------ */
/* Exceptions                                                           */
/* ------------------------------------------------------------------ */

static void test_exceptions(void)
{
    server_t s;
    CU_ASSERT_EQUAL_FATAL(server_start(&s, "tcp://127.0.0.1:*", 0, NULL), 0);
    phx_orb_t *c = client_orb(5000);
    phx_object_t *o = resolve(c, s.ior);
    phx_env_t env = PHX_ENV_INIT;

    /* User exception, decoded with its TypeCode. */
    CU_ASSERT_EQUAL(Echo_fail(o, 17, "seventeen", &env), PHX_EUSEREX);
    CU_ASSERT_EQUAL(env.major, PHX_USER_EXCEPTION);
    CU_ASSERT_STRING_EQUAL(env.repo_id, ECHO_FAILED_REPO_ID);
    const Echo_Failed *f = env.user_value;
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(f->code, 17);
    CU_ASSERT_STRING_EQUAL(f->why, "seventeen");
    phx_env_clear(&env);

    /* System exception raised by the servant travels intact. */
    CU_ASSERT_EQUAL(Echo_fail(o, -1, "", &env), PHX_ESYSEX);
    CU_ASSERT_TRUE(phx_env_is(&env, PHX_SYSEX_NO_PERMISSION));
    CU_ASSERT_EQUAL(env.minor, 42);
    CU_ASSERT_EQUAL(env.completed, PHX_COMPLETED_YES);
    phx_env_clear(&env);

    /* A servant failing without an exception: UNKNOWN, MAYBE. */
    CU_ASSERT_EQUAL(Echo_fail(o, 0, "", &env), PHX_ESYSEX);
    CU_ASSERT_TRUE(phx_env_is(&env, PHX_SYSEX_UNKNOWN));
    CU_ASSERT_EQUAL(env.completed, PHX_COMPLETED_MAYBE);
    phx_env_clear(&env);

    /* Unknown operation. */
    phx_request_t *req;
    CU_ASSERT_EQUAL(phx_request_create(o, "no_such_op", 0, &req), PHX_OK);
    CU_ASSERT_EQUAL(phx_request_invoke(req, &env), PHX_ESYSEX);
    CU_ASSERT_TRUE(phx_env_is(&env, PHX_SYSEX_BAD_OPERATION));
    CU_ASSERT_EQUAL(env.completed, PHX_COMPLETED_NO);
    phx_request_destroy(req);
    phx_env_clear(&env);

    /* Arguments missing: MARSHAL, COMPLETED_NO. */
    CU_ASSERT_EQUAL(phx_request_create(o, "echo_long", 0, &req), PHX_OK);
    CU_ASSERT_EQUAL(phx_request_invoke(req, &env), PHX_ESYSEX);
    CU_ASSERT_TRUE(phx_env_is(&env, PHX_SYSEX_MARSHAL));
    CU_ASSERT_EQUAL(env.completed, PHX_COMPLETED_NO);
    phx_request_destroy(req);
    phx_env_clear(&env);

    /* Unknown object key. */
    phx_ior_t ior;
    CU_ASSERT_EQUAL(phx_ior_make_zmq(&ior, ECHO_REPO_ID, phx_orb_endpoint(
                                         s.orb, 0), "nobody", 6, NULL, 0),
                    PHX_OK);
    phx_object_t *ghost;
    CU_ASSERT_EQUAL(phx_object_from_ior(c, &ior, &ghost, NULL), PHX_OK);
    phx_ior_fini(&ior);
    int32_t r;
    CU_ASSERT_EQUAL(Echo_echo_long(ghost, 1, &r, &env), PHX_ESYSEX);
    CU_ASSERT_TRUE(phx_env_is(&env, PHX_SYSEX_OBJECT_NOT_EXIST));
    CU_ASSERT_EQUAL(env.completed, PHX_COMPLETED_NO);
    phx_env_clear(&env);
    bool ne = false;
    CU_ASSERT_EQUAL(phx_object_non_existent(ghost, &ne, &env), PHX_OK);
    CU_ASSERT_TRUE(ne);
    uint32_t loc = 99;
    CU_ASSERT_EQUAL(phx_object_locate(ghost, &loc, &env), PHX_OK);
    CU_ASSERT_EQUAL(loc, PHX_GIOP_UNKNOWN_OBJECT);
    phx_object_release(ghost);

    phx_object_release(o);
    phx_orb_destroy(c);
    server_stop(&s);
}

/* ------------------------------------------------------------------ */
/* Built-ins, references, keys                                          */
/* ------------------------------------------------------------------ */

static void test_builtins_and_refs(void)
{
    server_t s;
    CU_ASSERT_EQUAL_FATAL(server_start(&s, "tcp://127.0.0.1:*", 0, "MyEcho"),
                          0);
    phx_orb_t *c = client_orb(5000);
    phx_object_t *o = resolve(c, s.ior);
    phx_env_t env = PHX_ENV_INIT;
    bool b = false;
    CU_ASSERT_EQUAL(phx_object_is_a(o, ECHO_REPO_ID, &b, &env), PHX_OK);
    CU_ASSERT_TRUE(b);
    CU_ASSERT_EQUAL(phx_object_is_a(o, "IDL:omg.org/CORBA/Object:1.0", &b,
                                    &env),
                    PHX_OK);
    CU_ASSERT_TRUE(b);
    CU_ASSERT_EQUAL(phx_object_is_a(o, "IDL:Other:1.0", &b, &env), PHX_OK);
    CU_ASSERT_FALSE(b);
    CU_ASSERT_EQUAL(phx_object_non_existent(o, &b, &env), PHX_OK);
    CU_ASSERT_FALSE(b);
    uint32_t loc = 0;
    CU_ASSERT_EQUAL(phx_object_locate(o, &loc, &env), PHX_OK);
    CU_ASSERT_EQUAL(loc, PHX_GIOP_OBJECT_HERE);
    CU_ASSERT_STRING_EQUAL(phx_object_type_id(o), ECHO_REPO_ID);

    /* A corbaloc: URL with the persistent key reaches the same object. */
    const char *ep = phx_orb_endpoint(s.orb, 0); /* tcp://127.0.0.1:PORT */
    char url[256];
    snprintf(url, sizeof url, "corbaloc:phx:tcp:%s/MyEcho",
             ep + strlen("tcp://"));
    phx_object_t *o2 = resolve(c, url);
    int32_t r = 0;
    CU_ASSERT_EQUAL(Echo_echo_long(o2, 99, &r, &env), PHX_OK);
    CU_ASSERT_EQUAL(r, 99);
    phx_object_release(o2);

    /* The key is taken; a second activation is refused. */
    Echo_servant other;
    Echo_servant_init(&other, &impl, NULL);
    phx_error_t err;
    CU_ASSERT_EQUAL(phx_orb_activate(s.orb, &other.base, "MyEcho", 6, NULL,
                                     &err),
                    PHX_EEXIST);
    /* Deactivation: the object is gone for new requests. */
    CU_ASSERT_EQUAL(phx_orb_deactivate(s.orb, "MyEcho", 6), PHX_OK);
    CU_ASSERT_EQUAL(phx_orb_deactivate(s.orb, "MyEcho", 6), PHX_ENOTFOUND);
    CU_ASSERT_EQUAL(Echo_echo_long(o, 1, &r, &env), PHX_ESYSEX);
    CU_ASSERT_TRUE(phx_env_is(&env, PHX_SYSEX_OBJECT_NOT_EXIST));
    phx_env_clear(&env);
    /* ...and can be activated again under the same key. */
    CU_ASSERT_EQUAL(phx_orb_activate(s.orb, &other.base, "MyEcho", 6, NULL,
                                     &err),
                    PHX_OK);
    CU_ASSERT_EQUAL(Echo_echo_long(o, 5, &r, &env), PHX_OK);
    CU_ASSERT_EQUAL(r, 5);

    /* Bad reference strings are refused with a message. */
    phx_object_t *bad = NULL;
    CU_ASSERT_NOT_EQUAL(phx_object_from_string(c, "IOR:zz", &bad, &err),
                        PHX_OK);
    CU_ASSERT_PTR_NULL(bad);
    CU_ASSERT_NOT_EQUAL(err.msg[0], '\0');

    phx_object_release(o);
    phx_orb_destroy(c);
    server_stop(&s);
}

/* ------------------------------------------------------------------ */
/* Failures: refused, timeout                                           */
/* ------------------------------------------------------------------ */

static void test_refused_and_timeout(void)
{
    phx_orb_t *c = client_orb(300);
    phx_env_t env = PHX_ENV_INIT;
    int32_t r;
    /* Nobody listens on this port: TRANSIENT, COMPLETED_NO, quickly. */
    server_t s;
    CU_ASSERT_EQUAL_FATAL(server_start(&s, "tcp://127.0.0.1:*", 1, NULL), 0);
    char *ior = strdup(s.ior);
    server_stop(&s);
    phx_object_t *dead = resolve(c, ior);
    free(ior);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CU_ASSERT_EQUAL(Echo_echo_long(dead, 1, &r, &env), PHX_ESYSEX);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    CU_ASSERT_TRUE(phx_env_is(&env, PHX_SYSEX_TRANSIENT));
    CU_ASSERT_EQUAL(env.completed, PHX_COMPLETED_NO);
    double secs = (double)(t1.tv_sec - t0.tv_sec) +
                  (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    CU_ASSERT(secs < 1.9); /* well before the 2 s connect timeout */
    phx_env_clear(&env);
    phx_object_release(dead);

    /* A reply slower than the call timeout: TIMEOUT, COMPLETED_MAYBE. */
    CU_ASSERT_EQUAL_FATAL(server_start(&s, "tcp://127.0.0.1:*", 2, NULL), 0);
    phx_object_t *o = resolve(c, s.ior);
    CU_ASSERT_EQUAL(Echo_sleep_ms(o, 1500, &env), PHX_ESYSEX);
    CU_ASSERT_TRUE(phx_env_is(&env, PHX_SYSEX_TIMEOUT));
    CU_ASSERT_EQUAL(env.completed, PHX_COMPLETED_MAYBE);
    phx_env_clear(&env);
    /* The late reply is dropped; the next call gets its own answer. */
    CU_ASSERT_EQUAL(Echo_echo_long(o, 77, &r, &env), PHX_OK);
    CU_ASSERT_EQUAL(r, 77);
    phx_object_release(o);
    phx_orb_destroy(c);
    server_stop(&s);
}

/* ------------------------------------------------------------------ */
/* Oneway, deferred, threads                                            */
/* ------------------------------------------------------------------ */

static void test_oneway_and_deferred(void)
{
    server_t s;
    CU_ASSERT_EQUAL_FATAL(server_start(&s, "tcp://127.0.0.1:*", 0, NULL), 0);
    phx_orb_t *c = client_orb(5000);
    phx_object_t *o = resolve(c, s.ior);
    phx_env_t env = PHX_ENV_INIT;
    atomic_store(&pings, 0);
    for (int i = 0; i < 100; i++)
        CU_ASSERT_EQUAL(Echo_ping(o, 1, &env), PHX_OK);
    /* One connection, in order: the count call sees all the pings. */
    int32_t n = 0;
    CU_ASSERT_EQUAL(Echo_count(o, &n, &env), PHX_OK);
    CU_ASSERT_EQUAL(n, 100);

    /* 64 outstanding requests, collected in reverse order. */
    phx_request_t *reqs[64];
    for (int i = 0; i < 64; i++)
        CU_ASSERT_EQUAL(Echo_echo_long_send(o, i * 3, &reqs[i], &env),
                        PHX_OK);
    for (int i = 63; i >= 0; i--) {
        int32_t r = -1;
        CU_ASSERT_EQUAL(Echo_echo_long_recv(reqs[i], &r, &env), PHX_OK);
        CU_ASSERT_EQUAL(r, i * 3);
    }
    /* A request destroyed before its reply does not confuse the next. */
    phx_request_t *abandoned;
    CU_ASSERT_EQUAL(Echo_echo_long_send(o, 1, &abandoned, &env), PHX_OK);
    phx_request_destroy(abandoned);
    int32_t r = 0;
    CU_ASSERT_EQUAL(Echo_echo_long(o, 2, &r, &env), PHX_OK);
    CU_ASSERT_EQUAL(r, 2);
    phx_object_release(o);
    phx_orb_destroy(c);
    server_stop(&s);
}

typedef struct caller {
    phx_object_t *obj;
    int id;
    int ok;
} caller_t;

static void *caller_main(void *arg)
{
    caller_t *c = arg;
    phx_env_t env = PHX_ENV_INIT;
    for (int i = 0; i < 200; i++) {
        int32_t v = c->id * 100000 + i, r = 0;
        if (Echo_echo_long(c->obj, v, &r, &env) == PHX_OK && r == v)
            c->ok++;
        phx_env_clear(&env);
    }
    return NULL;
}

static void test_eight_threads(void)
{
    server_t s;
    CU_ASSERT_EQUAL_FATAL(server_start(&s, "tcp://127.0.0.1:*", 4, NULL), 0);
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

/* ------------------------------------------------------------------ */
/* Interceptors                                                         */
/* ------------------------------------------------------------------ */

/* Client points write to ctrace, server points to strace: the server runs
 * on its own thread, so one shared trace would interleave. */
static char ctrace[512], strace_[512];
static pthread_mutex_t trace_lock = PTHREAD_MUTEX_INITIALIZER;

static void mark_in(char *trace, const char *s)
{
    pthread_mutex_lock(&trace_lock);
    strncat(trace, s, 511 - strlen(trace));
    pthread_mutex_unlock(&trace_lock);
}
#define cmark(s) mark_in(ctrace, s)
#define smark(s) mark_in(strace_, s)

static void traces_reset(void)
{
    pthread_mutex_lock(&trace_lock);
    ctrace[0] = strace_[0] = '\0';
    pthread_mutex_unlock(&trace_lock);
}

#define CTX_ID 0x50480042u

static int c1_send(void *a, phx_client_ri_t *ri, phx_env_t *e)
{
    (void)a;
    (void)e;
    cmark("c1.send ");
    return phx_client_ri_add_request_context(ri, CTX_ID, "hello", 5, false);
}
static int c2_send(void *a, phx_client_ri_t *ri, phx_env_t *e)
{
    (void)a;
    (void)ri;
    (void)e;
    cmark("c2.send ");
    return 0;
}
static int c1_reply(void *a, phx_client_ri_t *ri, phx_env_t *e)
{
    (void)a;
    (void)e;
    const phx_service_context_t *sc = phx_client_ri_reply_context(ri, CTX_ID);
    cmark(sc && sc->len == 5 && memcmp(sc->data, "world", 5) == 0
             ? "c1.reply+ctx "
             : "c1.reply ");
    return 0;
}
static int c2_reply(void *a, phx_client_ri_t *ri, phx_env_t *e)
{
    (void)a;
    (void)ri;
    (void)e;
    cmark("c2.reply ");
    return 0;
}
static int c1_exc(void *a, phx_client_ri_t *ri, phx_env_t *e)
{
    (void)a;
    (void)ri;
    (void)e;
    cmark("c1.exc ");
    return 0;
}
static int c2_exc(void *a, phx_client_ri_t *ri, phx_env_t *e)
{
    (void)a;
    (void)ri;
    (void)e;
    cmark("c2.exc ");
    return 0;
}
static int c_other(void *a, phx_client_ri_t *ri, phx_env_t *e)
{
    (void)a;
    (void)ri;
    (void)e;
    cmark("c.other ");
    return 0;
}

static int s1_rsc(void *a, phx_server_ri_t *ri, phx_env_t *e)
{
    (void)a;
    (void)e;
    const phx_service_context_t *sc =
        phx_server_ri_request_context(ri, CTX_ID);
    smark(sc && sc->len == 5 && memcmp(sc->data, "hello", 5) == 0
             ? "s1.rsc+ctx "
             : "s1.rsc ");
    return 0;
}
static int s2_rsc(void *a, phx_server_ri_t *ri, phx_env_t *e)
{
    (void)a;
    (void)ri;
    (void)e;
    smark("s2.rsc ");
    return 0;
}
static int s1_rr(void *a, phx_server_ri_t *ri, phx_env_t *e)
{
    (void)a;
    (void)e;
    smark("s1.rr ");
    /* Answer "cached" straight from the interceptor. */
    if (strcmp(phx_server_ri_operation(ri), "count") == 0) {
        int32_t v = 4242;
        return phx_server_ri_set_reply(ri, PHX_GIOP_NO_EXCEPTION, &v, 4);
    }
    return 0;
}
static int s2_rr(void *a, phx_server_ri_t *ri, phx_env_t *e)
{
    (void)a;
    (void)ri;
    (void)e;
    smark("s2.rr ");
    return 0;
}
static int s1_sr(void *a, phx_server_ri_t *ri, phx_env_t *e)
{
    (void)a;
    (void)e;
    smark("s1.sr ");
    return phx_server_ri_add_reply_context(ri, CTX_ID, "world", 5, false);
}
static int s2_sr(void *a, phx_server_ri_t *ri, phx_env_t *e)
{
    (void)a;
    (void)e;
    size_t n;
    const uint8_t *body = phx_server_ri_reply_body(ri, &n);
    smark(body && n == 4 ? "s2.sr4 " : "s2.sr ");
    return 0;
}
static int s_exc(void *a, phx_server_ri_t *ri, phx_env_t *e)
{
    (void)a;
    (void)ri;
    (void)e;
    smark("s.exc ");
    return 0;
}

static const phx_client_interceptor_t ci1 = {"c1", NULL, c1_send, c1_reply,
                                             c1_exc, c_other};
static const phx_client_interceptor_t ci2 = {"c2", NULL, c2_send, c2_reply,
                                             c2_exc, c_other};
static const phx_server_interceptor_t si1 = {"s1", NULL, s1_rsc, s1_rr,
                                             s1_sr, s_exc, NULL};
static const phx_server_interceptor_t si2 = {"s2", NULL, s2_rsc, s2_rr,
                                             s2_sr, s_exc, NULL};

static void test_interceptor_order(void)
{
    server_t s;
    /* Register before the loop starts. */
    memset(&s, 0, sizeof s);
    const char *ep = "tcp://127.0.0.1:*";
    phx_orb_config_t cfg;
    phx_orb_config_init(&cfg);
    cfg.listen = &ep;
    cfg.listen_count = 1;
    CU_ASSERT_EQUAL_FATAL(phx_orb_create(&cfg, &s.orb, NULL), PHX_OK);
    phx_orb_add_server_interceptor(s.orb, &si1);
    phx_orb_add_server_interceptor(s.orb, &si2);
    Echo_servant_init(&s.servant, &impl, NULL);
    CU_ASSERT_EQUAL_FATAL(phx_orb_activate(s.orb, &s.servant.base, NULL, 0,
                                           &s.ref, NULL),
                          PHX_OK);
    phx_object_to_string(s.ref, &s.ior);
    pthread_create(&s.thread, NULL, loop, s.orb);

    phx_orb_t *c = client_orb(5000);
    phx_orb_add_client_interceptor(c, &ci1);
    phx_orb_add_client_interceptor(c, &ci2);
    phx_object_t *o = resolve(c, s.ior);
    phx_env_t env = PHX_ENV_INIT;
    int32_t r;

    traces_reset();
    CU_ASSERT_EQUAL(Echo_echo_long(o, 3, &r, &env), PHX_OK);
    CU_ASSERT_STRING_EQUAL(ctrace, "c1.send c2.send c2.reply c1.reply+ctx ");
    CU_ASSERT_STRING_EQUAL(strace_, "s1.rsc+ctx s2.rsc s1.rr s2.rr s2.sr4 "
                                    "s1.sr ");

    traces_reset();
    CU_ASSERT_EQUAL(Echo_fail(o, 5, "x", &env), PHX_EUSEREX);
    CU_ASSERT_STRING_EQUAL(ctrace, "c1.send c2.send c2.exc c1.exc ");
    CU_ASSERT_STRING_EQUAL(strace_,
                           "s1.rsc+ctx s2.rsc s1.rr s2.rr s.exc s.exc ");
    phx_env_clear(&env);

    /* Answered by the server interceptor: the servant is never called,
     * and the ending points still run. */
    traces_reset();
    atomic_store(&pings, 0);
    CU_ASSERT_EQUAL(Echo_count(o, &r, &env), PHX_OK);
    CU_ASSERT_EQUAL(r, 4242);
    CU_ASSERT_STRING_EQUAL(strace_, "s1.rsc+ctx s2.rsc s1.rr s2.sr4 s1.sr ");

    /* A oneway ends with receive_other on the client; the twoway call
     * after it is answered only once the ping has been through the
     * server's points, since one connection keeps the order. */
    traces_reset();
    CU_ASSERT_EQUAL(Echo_ping(o, 1, &env), PHX_OK);
    CU_ASSERT_STRING_EQUAL(ctrace, "c1.send c2.send c.other c.other ");
    CU_ASSERT_EQUAL(Echo_echo_long(o, 4, &r, &env), PHX_OK);
    CU_ASSERT_EQUAL(strncmp(strace_, "s1.rsc+ctx s2.rsc s1.rr s2.rr ", 30),
                    0);

    phx_object_release(o);
    phx_orb_destroy(c);
    server_stop(&s);
}

/* Server interceptor that forwards every request for "old" to new_ref. */
static phx_object_t *new_ref;
static bool fwd_perm;
static int fwd_rr(void *a, phx_server_ri_t *ri, phx_env_t *e)
{
    (void)a;
    (void)e;
    size_t n;
    const uint8_t *k = phx_server_ri_object_key(ri, &n);
    if (n == 3 && memcmp(k, "old", 3) == 0)
        return phx_server_ri_forward(ri, new_ref, fwd_perm);
    return 0;
}
static const phx_server_interceptor_t fwd_si = {"fwd", NULL, NULL, fwd_rr,
                                                NULL, NULL, NULL};

static void test_location_forward(void)
{
    server_t target;
    CU_ASSERT_EQUAL_FATAL(
        server_start(&target, "tcp://127.0.0.1:*", 0, "new"), 0);
    server_t front;
    memset(&front, 0, sizeof front);
    const char *ep = "tcp://127.0.0.1:*";
    phx_orb_config_t cfg;
    phx_orb_config_init(&cfg);
    cfg.listen = &ep;
    cfg.listen_count = 1;
    CU_ASSERT_EQUAL_FATAL(phx_orb_create(&cfg, &front.orb, NULL), PHX_OK);
    phx_orb_add_server_interceptor(front.orb, &fwd_si);
    pthread_create(&front.thread, NULL, loop, front.orb);
    phx_object_t *old;
    CU_ASSERT_EQUAL(phx_orb_make_ref(front.orb, ECHO_REPO_ID, "old", 3, &old,
                                     NULL),
                    PHX_OK);
    char *old_ior;
    phx_object_to_string(old, &old_ior);
    phx_object_release(old);

    phx_orb_t *c = client_orb(5000);
    new_ref = resolve(c, target.ior);
    phx_object_t *o = resolve(c, old_ior);
    phx_env_t env = PHX_ENV_INIT;
    int32_t r = 0;
    fwd_perm = false;
    CU_ASSERT_EQUAL(Echo_echo_long(o, 11, &r, &env), PHX_OK);
    CU_ASSERT_EQUAL(r, 11);
    /* Not permanent: the reference still names the old place. */
    char *now;
    phx_object_to_string(o, &now);
    CU_ASSERT_STRING_EQUAL(now, old_ior);
    free(now);
    fwd_perm = true;
    CU_ASSERT_EQUAL(Echo_echo_long(o, 12, &r, &env), PHX_OK);
    CU_ASSERT_EQUAL(r, 12);
    /* Permanent: the reference now is the target's. */
    phx_object_to_string(o, &now);
    CU_ASSERT_STRING_EQUAL(now, target.ior);
    free(now);

    phx_object_release(o);
    phx_object_release(new_ref);
    free(old_ior);
    phx_orb_destroy(c);
    phx_orb_shutdown(front.orb);
    pthread_join(front.thread, NULL);
    phx_orb_destroy(front.orb);
    server_stop(&target);
}

/* A client interceptor that retries a failed call on another reference,
 * as the fault-tolerance layer does. */
static phx_object_t *retry_to;
static int retry_exc(void *a, phx_client_ri_t *ri, phx_env_t *e)
{
    (void)a;
    if (phx_env_is(e, PHX_SYSEX_TRANSIENT) && retry_to &&
        phx_client_ri_effective_target(ri) != retry_to)
        return phx_client_ri_forward(ri, retry_to, false);
    return 0;
}
static const phx_client_interceptor_t retry_ci = {"retry", NULL, NULL, NULL,
                                                  retry_exc, NULL};

static void test_client_retry(void)
{
    server_t live;
    CU_ASSERT_EQUAL_FATAL(server_start(&live, "tcp://127.0.0.1:*", 0, NULL),
                          0);
    server_t gone;
    CU_ASSERT_EQUAL_FATAL(server_start(&gone, "tcp://127.0.0.1:*", 0, NULL),
                          0);
    char *gone_ior = strdup(gone.ior);
    server_stop(&gone);
    phx_orb_t *c = client_orb(5000);
    phx_orb_add_client_interceptor(c, &retry_ci);
    retry_to = resolve(c, live.ior);
    phx_object_t *o = resolve(c, gone_ior);
    phx_env_t env = PHX_ENV_INIT;
    int32_t r = 0;
    CU_ASSERT_EQUAL(Echo_echo_long(o, 21, &r, &env), PHX_OK);
    CU_ASSERT_EQUAL(r, 21);
    phx_object_release(o);
    phx_object_release(retry_to);
    retry_to = NULL;
    free(gone_ior);
    phx_orb_destroy(c);
    server_stop(&live);
}

/* A request run on a servant directly, as a replication layer does. */
static void test_invoke_local(void)
{
    server_t s;
    CU_ASSERT_EQUAL_FATAL(server_start(&s, "inproc://test-local", 0, "L"), 0);
    phx_cdr_writer_t w;
    phx_cdr_writer_init(&w, 0);
    phx_cdr_put_long(&w, 31337);
    uint32_t st = 99;
    uint8_t *body = NULL;
    size_t n = 0;
    CU_ASSERT_EQUAL(phx_orb_invoke_local(s.orb, "L", 1, "echo_long", w.buf,
                                         w.len, PHX_CDR_NATIVE, &st, &body,
                                         &n, NULL),
                    PHX_OK);
    CU_ASSERT_EQUAL(st, PHX_GIOP_NO_EXCEPTION);
    phx_cdr_reader_t r;
    int32_t v = 0;
    phx_cdr_reader_init(&r, body, n, PHX_CDR_NATIVE);
    CU_ASSERT_EQUAL(phx_cdr_get_long(&r, &v), PHX_OK);
    CU_ASSERT_EQUAL(v, 31337);
    free(body);

    /* The same argument in the other byte order. */
    uint8_t swapped[4];
    uint32_t x = 31337;
    for (int i = 0; i < 4; i++)
        swapped[i] = (uint8_t)(x >> (PHX_CDR_NATIVE == PHX_CDR_LITTLE_ENDIAN
                                         ? 24 - 8 * i
                                         : 8 * i));
    CU_ASSERT_EQUAL(phx_orb_invoke_local(
                        s.orb, "L", 1, "echo_long", swapped, 4,
                        PHX_CDR_NATIVE == PHX_CDR_LITTLE_ENDIAN
                            ? PHX_CDR_BIG_ENDIAN
                            : PHX_CDR_LITTLE_ENDIAN,
                        &st, &body, &n, NULL),
                    PHX_OK);
    phx_cdr_reader_init(&r, body, n, PHX_CDR_NATIVE);
    CU_ASSERT_EQUAL(phx_cdr_get_long(&r, &v), PHX_OK);
    CU_ASSERT_EQUAL(v, 31337);
    free(body);

    /* Exceptions come back as results. */
    phx_cdr_writer_reset(&w);
    phx_cdr_put_long(&w, 9);
    phx_cdr_put_string(&w, "nine");
    CU_ASSERT_EQUAL(phx_orb_invoke_local(s.orb, "L", 1, "fail", w.buf, w.len,
                                         PHX_CDR_NATIVE, &st, &body, &n, NULL),
                    PHX_OK);
    CU_ASSERT_EQUAL(st, PHX_GIOP_USER_EXCEPTION);
    const char *id;
    size_t idn;
    phx_cdr_reader_init(&r, body, n, PHX_CDR_NATIVE);
    CU_ASSERT_EQUAL(phx_cdr_get_string(&r, &id, &idn), PHX_OK);
    CU_ASSERT_STRING_EQUAL(id, ECHO_FAILED_REPO_ID);
    free(body);
    CU_ASSERT_EQUAL(phx_orb_invoke_local(s.orb, "nobody", 6, "echo_long",
                                         w.buf, w.len, PHX_CDR_NATIVE, &st,
                                         &body, &n, NULL),
                    PHX_OK);
    CU_ASSERT_EQUAL(st, PHX_GIOP_SYSTEM_EXCEPTION);
    phx_giop_sysex_t sx;
    phx_cdr_reader_init(&r, body, n, PHX_CDR_NATIVE);
    CU_ASSERT_EQUAL(phx_giop_read_sysex(&r, &sx, NULL), PHX_OK);
    CU_ASSERT_STRING_EQUAL(sx.repo_id,
                           phx_sysex_repo_id(PHX_SYSEX_OBJECT_NOT_EXIST));
    free(body);
    phx_cdr_writer_fini(&w);
    server_stop(&s);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("orb", NULL, NULL);
    if (s == NULL || !CU_add_test(s, "round trip tcp", test_tcp) ||
        !CU_add_test(s, "round trip inproc", test_inproc) ||
        !CU_add_test(s, "round trip ipc", test_ipc) ||
        !CU_add_test(s, "exceptions", test_exceptions) ||
        !CU_add_test(s, "built-ins and references", test_builtins_and_refs) ||
        !CU_add_test(s, "refused and timeout", test_refused_and_timeout) ||
        !CU_add_test(s, "oneway and deferred", test_oneway_and_deferred) ||
        !CU_add_test(s, "eight client threads", test_eight_threads) ||
        !CU_add_test(s, "interceptor order", test_interceptor_order) ||
        !CU_add_test(s, "location forward", test_location_forward) ||
        !CU_add_test(s, "client retry through interceptor",
                     test_client_retry) ||
        !CU_add_test(s, "local invocation", test_invoke_local)) {
        CU_cleanup_registry();
        return 1;
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
