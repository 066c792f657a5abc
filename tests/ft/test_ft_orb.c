/*
 * test_ft_orb.c - the FT interceptors between real ORBs in one process:
 * the contexts a group request carries (checked byte for byte), the same
 * retention id on every re-issue, exactly-once execution when a reply is
 * lost, deferred calls, what is never re-invoked, requests to plain
 * objects left alone, stale group references moved to the current one,
 * fail-over to another member, re-invocation stopping at the expiration
 * time, and the server's reply cache driven by hand-made requests
 * (duplicates, requests in progress, a full cache, COMPLETED_NO).
 *
 * Each server is an ORB whose event loop runs on its own thread, with a
 * tracing interceptor registered before the FT server interceptor: it
 * records the FT contexts of every request and, when told to, turns the
 * reply of an executed "add" into TRANSIENT/COMPLETED_MAYBE, as if the
 * reply had been lost.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <CUnit/Basic.h>

#include "tests/ft/member.h"

static const char KEY[] = "member";

/* ------------------------------------------------------------------ */
/* Tracing server interceptor                                           */
/* ------------------------------------------------------------------ */

typedef struct rec {
    char op[32];
    bool has_rq, has_gv;
    uint8_t rq[256];
    size_t rq_len;
    uint8_t gv[16];
    size_t gv_len;
} rec_t;

typedef struct trace {
    pthread_mutex_t lock;
    rec_t recs[64];
    size_t n;
    atomic_int lose_add_replies; /* how many "add" replies to lose */
} trace_t;

static int tr_receive(void *arg, phx_server_ri_t *ri, phx_env_t *env)
{
    (void)env;
    trace_t *t = arg;
    pthread_mutex_lock(&t->lock);
    if (t->n < sizeof t->recs / sizeof t->recs[0]) {
        rec_t *r = &t->recs[t->n++];
        memset(r, 0, sizeof *r);
        snprintf(r->op, sizeof r->op, "%s", phx_server_ri_operation(ri));
        const phx_service_context_t *c =
            phx_server_ri_request_context(ri, PHX_SC_FT_REQUEST);
        if (c && c->len <= sizeof r->rq) {
            r->has_rq = true;
            memcpy(r->rq, c->data, c->len);
            r->rq_len = c->len;
        }
        c = phx_server_ri_request_context(ri, PHX_SC_FT_GROUP_VERSION);
        if (c && c->len <= sizeof r->gv) {
            r->has_gv = true;
            memcpy(r->gv, c->data, c->len);
            r->gv_len = c->len;
        }
    }
    pthread_mutex_unlock(&t->lock);
    return 0;
}

static int tr_send_reply(void *arg, phx_server_ri_t *ri, phx_env_t *env)
{
    trace_t *t = arg;
    if (strcmp(phx_server_ri_operation(ri), "add") == 0 &&
        atomic_load(&t->lose_add_replies) > 0) {
        atomic_fetch_sub(&t->lose_add_replies, 1);
        return phx_env_system(env, PHX_SYSEX_TRANSIENT, 0,
                              PHX_COMPLETED_MAYBE, "reply lost (test)");
    }
    return 0;
}

static void trace_reset(trace_t *t)
{
    pthread_mutex_lock(&t->lock);
    t->n = 0;
    pthread_mutex_unlock(&t->lock);
}

static size_t trace_count(trace_t *t)
{
    pthread_mutex_lock(&t->lock);
    size_t n = t->n;
    pthread_mutex_unlock(&t->lock);
    return n;
}

/* ------------------------------------------------------------------ */
/* Fixture                                                              */
/* ------------------------------------------------------------------ */

typedef struct server {
    phx_orb_t *orb;
    pthread_t thread;
    trace_t trace;
    phx_server_interceptor_t si;
    phx_ft_server_t *ft;
    member_t m;
    phx_ior_t ior;   /* the member's own reference */
    bool running;
} server_t;

static void *loop(void *arg)
{
    phx_orb_run(arg);
    return NULL;
}

static void server_start(server_t *s, unsigned workers, size_t max_entries)
{
    memset(s, 0, sizeof *s);
    pthread_mutex_init(&s->trace.lock, NULL);
    atomic_init(&s->trace.lose_add_replies, 0);
    const char *ep = "tcp://127.0.0.1:*";
    phx_orb_config_t cfg;
    phx_orb_config_init(&cfg);
    cfg.listen = &ep;
    cfg.listen_count = 1;
    cfg.workers = workers;
    phx_error_t err;
    CU_ASSERT_EQUAL_FATAL(phx_orb_create(&cfg, &s->orb, &err), PHX_OK);
    s->si = (phx_server_interceptor_t){.name = "trace",
                                       .arg = &s->trace,
                                       .receive_request_service_contexts =
                                           tr_receive,
                                       .send_reply = tr_send_reply};
    CU_ASSERT_EQUAL_FATAL(phx_orb_add_server_interceptor(s->orb, &s->si),
                          PHX_OK);
    phx_ft_server_config_t fcfg;
    phx_ft_server_config_init(&fcfg);
    if (max_entries)
        fcfg.cache_max_entries = max_entries;
    CU_ASSERT_EQUAL_FATAL(phx_ft_server_install(s->orb, &fcfg, &s->ft, &err),
                          PHX_OK);
    member_init(&s->m, s->orb, s->ft, KEY);
    phx_object_t *ref;
    CU_ASSERT_EQUAL_FATAL(phx_orb_activate(s->orb, &s->m.servant.base, KEY,
                                           strlen(KEY), &ref, &err),
                          PHX_OK);
    CU_ASSERT_EQUAL_FATAL(phx_object_get_ior(ref, &s->ior), PHX_OK);
    phx_object_release(ref);
    CU_ASSERT_EQUAL_FATAL(pthread_create(&s->thread, NULL, loop, s->orb), 0);
    s->running = true;
}

static void server_stop(server_t *s)
{
    if (!s->running)
        return;
    phx_orb_shutdown(s->orb);
    pthread_join(s->thread, NULL);
    phx_orb_destroy(s->orb);
    phx_ft_server_destroy(s->ft);
    s->running = false;
}

static void server_free(server_t *s)
{
    server_stop(s);
    phx_ior_fini(&s->ior);
    pthread_mutex_destroy(&s->trace.lock);
}

/* The IOGR of members[0..n) with this version (domain "test", id 1). */
static void iogr_of(server_t *const *members, size_t n, uint32_t version,
                    phx_ior_t *out)
{
    phx_ior_t iors[8];
    for (size_t i = 0; i < n; i++)
        iors[i] = members[i]->ior;
    phx_ft_iogr_spec_t spec = {.ft_domain_id = "test",
                               .object_group_id = 1,
                               .object_group_ref_version = version,
                               .members = iors,
                               .member_count = n,
                               .primary = PHX_FT_NO_PRIMARY};
    phx_error_t err;
    CU_ASSERT_EQUAL_FATAL(phx_ft_iogr_build(&spec, out, &err), PHX_OK);
}

static void serve_group(server_t *s, const phx_ior_t *iogr)
{
    phx_error_t err;
    CU_ASSERT_EQUAL_FATAL(phx_ft_server_set_group(s->ft, KEY, strlen(KEY),
                                                  iogr, &err),
                          PHX_OK);
}

typedef struct client {
    phx_orb_t *orb;
    phx_ft_client_t *ft;
} client_t;

static void client_start(client_t *c, uint32_t duration_ms,
                         uint32_t max_forwards)
{
    phx_orb_config_t cfg;
    phx_orb_config_init(&cfg);
    cfg.call_timeout_ms = 10000;
    cfg.connect_timeout_ms = 1000;
    if (max_forwards)
        cfg.max_forwards = max_forwards;
    CU_ASSERT_EQUAL_FATAL(phx_orb_create(&cfg, &c->orb, NULL), PHX_OK);
    phx_ft_client_config_t fc;
    phx_ft_client_config_init(&fc);
    fc.request_duration_ms = duration_ms;
    phx_error_t err;
    CU_ASSERT_EQUAL_FATAL(phx_ft_client_install(c->orb, &fc, &c->ft, &err),
                          PHX_OK);
}

static void client_stop(client_t *c)
{
    phx_orb_destroy(c->orb);
    phx_ft_client_destroy(c->ft);
}

static phx_object_t *ref_of(client_t *c, const phx_ior_t *ior)
{
    phx_object_t *o;
    CU_ASSERT_EQUAL_FATAL(phx_object_from_ior(c->orb, ior, &o, NULL), PHX_OK);
    return o;
}

/* FT_REQUEST encoded the way FT-CORBA lays it out, by hand (not through
 * the TypeCodes the library uses). */
static size_t expected_rq(uint8_t *out, size_t cap, const char *cid,
                          int32_t rid, uint64_t exp)
{
    phx_cdr_writer_t w;
    phx_cdr_writer_init_fixed(&w, out, cap);
    phx_cdr_put_octet(&w, PHX_CDR_NATIVE);
    phx_cdr_put_ulong(&w, (uint32_t)strlen(cid) + 1);
    phx_cdr_put_raw(&w, cid, strlen(cid) + 1);
    phx_cdr_align(&w, 4);
    phx_cdr_put_long(&w, rid);
    phx_cdr_align(&w, 8);
    phx_cdr_put_ulonglong(&w, exp);
    size_t n = phx_cdr_writer_status(&w) ? 0 : phx_cdr_writer_len(&w);
    phx_cdr_writer_fini(&w);
    return n;
}

static void check_gv(const rec_t *r, uint32_t version)
{
    uint8_t want[8] = {PHX_CDR_NATIVE, 0, 0, 0};
    memcpy(want + 4, &version, 4);
    CU_ASSERT(r->has_gv);
    CU_ASSERT(r->gv_len == 8 && memcmp(r->gv, want, 8) == 0);
}

/* ------------------------------------------------------------------ */
/* Tests                                                                */
/* ------------------------------------------------------------------ */

static void test_contexts_on_the_wire(void)
{
    server_t s;
    server_start(&s, 0, 0);
    server_t *ms[] = {&s};
    phx_ior_t g;
    iogr_of(ms, 1, 3, &g);
    serve_group(&s, &g);
    client_t c;
    client_start(&c, 5000, 0);
    phx_object_t *o = ref_of(&c, &g);

    phx_env_t env = PHX_ENV_INIT;
    int64_t r = 0;
    uint64_t before = phx_ft_time_now();
    CU_ASSERT_EQUAL(phxtest_Member_add(o, 5, &r, &env), PHX_OK);
    CU_ASSERT_EQUAL(phxtest_Member_add(o, 6, &r, &env), PHX_OK);
    uint64_t after = phx_ft_time_now();
    CU_ASSERT_EQUAL(r, 11);
    CU_ASSERT_EQUAL_FATAL(trace_count(&s.trace), 2);

    const char *cid = phx_ft_client_id(c.ft);
    CU_ASSERT(strncmp(cid, "phx/", 4) == 0);
    int32_t first_rid = 0;
    for (int i = 0; i < 2; i++) {
        const rec_t *rec = &s.trace.recs[i];
        CU_ASSERT_STRING_EQUAL(rec->op, "add");
        CU_ASSERT_FATAL(rec->has_rq);
        phx_ft_request_ctx_t rq;
        CU_ASSERT_EQUAL_FATAL(phx_ft_request_ctx_decode(rec->rq, rec->rq_len,
                                                        &rq, NULL),
                              PHX_OK);
        CU_ASSERT(rq.client_id_len == strlen(cid) &&
                  memcmp(rq.client_id, cid, rq.client_id_len) == 0);
        /* Expiration: the first send plus the request duration. */
        CU_ASSERT(rq.expiration_time >= before + 5000 * 10000ULL);
        CU_ASSERT(rq.expiration_time <= after + 5000 * 10000ULL);
        if (i == 0)
            first_rid = rq.retention_id;
        else
            CU_ASSERT_EQUAL(rq.retention_id, first_rid + 1);
        uint8_t want[256];
        size_t n = expected_rq(want, sizeof want, cid, rq.retention_id,
                               rq.expiration_time);
        CU_ASSERT(n == rec->rq_len && memcmp(want, rec->rq, n) == 0);
        check_gv(rec, 3);
    }
    phx_ft_client_stats_t st;
    phx_ft_client_get_stats(c.ft, &st);
    CU_ASSERT_EQUAL(st.group_requests, 2);
    CU_ASSERT_EQUAL(st.reinvocations, 0);

    phx_object_release(o);
    client_stop(&c);
    phx_ior_fini(&g);
    server_free(&s);
}

/* The reply of an executed request is lost: the client re-issues it with
 * the same FT_REQUEST and gets the cached reply; the servant ran once. */
static void test_lost_reply_exactly_once(void)
{
    server_t s;
    server_start(&s, 2, 0);
    server_t *ms[] = {&s};
    phx_ior_t g;
    iogr_of(ms, 1, 1, &g);
    serve_group(&s, &g);
    client_t c;
    client_start(&c, 5000, 0);
    phx_object_t *o = ref_of(&c, &g);

    atomic_store(&s.trace.lose_add_replies, 1);
    phx_env_t env = PHX_ENV_INIT;
    int64_t r = 0;
    CU_ASSERT_EQUAL(phxtest_Member_add(o, 7, &r, &env), PHX_OK);
    CU_ASSERT_EQUAL(r, 7);
    CU_ASSERT_EQUAL(atomic_load(&s.m.executed), 1);
    CU_ASSERT_EQUAL(atomic_load(&s.m.total), 7);
    CU_ASSERT_EQUAL_FATAL(trace_count(&s.trace), 2);
    const rec_t *a = &s.trace.recs[0], *b = &s.trace.recs[1];
    CU_ASSERT(a->has_rq && b->has_rq && a->rq_len == b->rq_len &&
              memcmp(a->rq, b->rq, a->rq_len) == 0);
    check_gv(b, 1);
    phx_ft_client_stats_t cst;
    phx_ft_client_get_stats(c.ft, &cst);
    CU_ASSERT_EQUAL(cst.reinvocations, 1);
    phx_ft_server_stats_t sst;
    phx_ft_server_get_stats(s.ft, &sst);
    CU_ASSERT_EQUAL(sst.replayed, 1);
    CU_ASSERT_EQUAL(sst.executed, 1);

    /* Deferred calls: two outstanding on one thread, the first one's
     * reply lost.  Each keeps its own retention id. */
    trace_reset(&s.trace);
    atomic_store(&s.trace.lose_add_replies, 1);
    phx_request_t *q1, *q2;
    CU_ASSERT_EQUAL_FATAL(phxtest_Member_add__send(o, 1, &q1, &env), PHX_OK);
    /* Wait until the first one's reply has been lost, so that it is the
     * one re-issued. */
    while (atomic_load(&s.trace.lose_add_replies) > 0)
        sched_yield();
    CU_ASSERT_EQUAL_FATAL(phxtest_Member_add__send(o, 10, &q2, &env),
                          PHX_OK);
    int64_t r1 = 0, r2 = 0;
    CU_ASSERT_EQUAL(phxtest_Member_add__recv(q1, &r1, &env), PHX_OK);
    CU_ASSERT_EQUAL(phxtest_Member_add__recv(q2, &r2, &env), PHX_OK);
    CU_ASSERT_EQUAL(r1, 8);
    CU_ASSERT_EQUAL(r2, 18);
    CU_ASSERT_EQUAL(atomic_load(&s.m.executed), 3);
    CU_ASSERT_EQUAL_FATAL(trace_count(&s.trace), 3);
    phx_ft_request_ctx_t x[3];
    for (int i = 0; i < 3; i++)
        CU_ASSERT_EQUAL_FATAL(phx_ft_request_ctx_decode(s.trace.recs[i].rq,
                                                        s.trace.recs[i].rq_len,
                                                        &x[i], NULL),
                              PHX_OK);
    CU_ASSERT_NOT_EQUAL(x[0].retention_id, x[1].retention_id);
    /* The re-issue of the first call is the third request. */
    CU_ASSERT_EQUAL(x[2].retention_id, x[0].retention_id);
    CU_ASSERT_EQUAL(x[2].expiration_time, x[0].expiration_time);

    phx_object_release(o);
    client_stop(&c);
    phx_ior_fini(&g);
    server_free(&s);
}

/* User exceptions, and system exceptions outside the FT-CORBA table or
 * with COMPLETED_YES, are passed to the caller at once. */
static void test_not_reinvoked(void)
{
    server_t s;
    server_start(&s, 0, 0);
    server_t *ms[] = {&s};
    phx_ior_t g;
    iogr_of(ms, 1, 1, &g);
    serve_group(&s, &g);
    client_t c;
    client_start(&c, 5000, 0);
    phx_object_t *o = ref_of(&c, &g);
    phx_env_t env = PHX_ENV_INIT;

    CU_ASSERT_EQUAL(phxtest_Member_refuse(o, 3, &env), PHX_EUSEREX);
    CU_ASSERT_STRING_EQUAL(env.repo_id, ex_phxtest_Member_Refused);
    phx_env_clear(&env);
    CU_ASSERT_EQUAL(phxtest_Member_fail(o, "IDL:omg.org/CORBA/NO_PERMISSION:1.0",
                                        PHX_COMPLETED_MAYBE, &env),
                    PHX_ESYSEX);
    CU_ASSERT(phx_env_is(&env, PHX_SYSEX_NO_PERMISSION));
    phx_env_clear(&env);
    CU_ASSERT_EQUAL(phxtest_Member_fail(o, "IDL:omg.org/CORBA/TRANSIENT:1.0",
                                        PHX_COMPLETED_YES, &env),
                    PHX_ESYSEX);
    CU_ASSERT(phx_env_is(&env, PHX_SYSEX_TRANSIENT));
    CU_ASSERT_EQUAL(env.completed, PHX_COMPLETED_YES);
    phx_env_clear(&env);
    CU_ASSERT_EQUAL(atomic_load(&s.m.executed), 3);
    CU_ASSERT_EQUAL(trace_count(&s.trace), 3);
    phx_ft_client_stats_t st;
    phx_ft_client_get_stats(c.ft, &st);
    CU_ASSERT_EQUAL(st.reinvocations, 0);

    phx_object_release(o);
    client_stop(&c);
    phx_ior_fini(&g);
    server_free(&s);
}

static void test_plain_objects_untouched(void)
{
    server_t s;
    server_start(&s, 0, 0);
    server_t *ms[] = {&s};
    phx_ior_t g;
    iogr_of(ms, 1, 1, &g);
    serve_group(&s, &g);
    client_t c;
    client_start(&c, 5000, 0);
    phx_object_t *o = ref_of(&c, &s.ior); /* the member itself */
    phx_env_t env = PHX_ENV_INIT;
    int64_t r;
    CU_ASSERT_EQUAL(phxtest_Member_add(o, 2, &r, &env), PHX_OK);
    bool is;
    CU_ASSERT_EQUAL(phx_object_is_a(o, phxtest_Member__repo_id, &is, &env),
                    PHX_OK);
    CU_ASSERT(is);
    CU_ASSERT_EQUAL_FATAL(trace_count(&s.trace), 2);
    for (int i = 0; i < 2; i++) {
        CU_ASSERT(!s.trace.recs[i].has_rq);
        CU_ASSERT(!s.trace.recs[i].has_gv);
    }
    phx_ft_client_stats_t st;
    phx_ft_client_get_stats(c.ft, &st);
    CU_ASSERT_EQUAL(st.group_requests, 0);
    /* A plain object that fails is not re-invoked either. */
    phx_env_clear(&env);
    CU_ASSERT_EQUAL(phxtest_Member_fail(o, "IDL:omg.org/CORBA/TRANSIENT:1.0",
                                        PHX_COMPLETED_NO, &env),
                    PHX_ESYSEX);
    phx_env_clear(&env);
    phx_ft_client_get_stats(c.ft, &st);
    CU_ASSERT_EQUAL(st.reinvocations, 0);

    phx_object_release(o);
    client_stop(&c);
    phx_ior_fini(&g);
    server_free(&s);
}

/* A client holding version 1 of the group's reference is moved to
 * version 2 by LOCATION_FORWARD_PERM, keeping its retention id. */
static void test_stale_reference_forwarded(void)
{
    server_t s;
    server_start(&s, 0, 0);
    server_t *ms[] = {&s};
    phx_ior_t g1, g2;
    iogr_of(ms, 1, 1, &g1);
    iogr_of(ms, 1, 2, &g2);
    serve_group(&s, &g1);
    serve_group(&s, &g2);
    phx_error_t err;
    CU_ASSERT_EQUAL(phx_ft_server_set_group(s.ft, KEY, strlen(KEY), &g1,
                                            &err),
                    PHX_ESTATE);
    uint32_t v;
    CU_ASSERT_EQUAL(phx_ft_server_group_version(s.ft, KEY, strlen(KEY), &v),
                    PHX_OK);
    CU_ASSERT_EQUAL(v, 2);

    client_t c;
    client_start(&c, 5000, 0);
    phx_object_t *o = ref_of(&c, &g1);
    char *s1, *s2, *now;
    CU_ASSERT_EQUAL_FATAL(phx_ior_to_string(&g1, &s1), PHX_OK);
    CU_ASSERT_EQUAL_FATAL(phx_ior_to_string(&g2, &s2), PHX_OK);
    CU_ASSERT_EQUAL_FATAL(phx_object_to_string(o, &now), PHX_OK);
    CU_ASSERT_STRING_EQUAL(now, s1);
    free(now);

    phx_env_t env = PHX_ENV_INIT;
    int64_t r;
    CU_ASSERT_EQUAL(phxtest_Member_add(o, 4, &r, &env), PHX_OK);
    CU_ASSERT_EQUAL(r, 4);
    CU_ASSERT_EQUAL(atomic_load(&s.m.executed), 1);
    CU_ASSERT_EQUAL_FATAL(phx_object_to_string(o, &now), PHX_OK);
    CU_ASSERT_STRING_EQUAL(now, s2);
    free(now);
    CU_ASSERT_EQUAL_FATAL(trace_count(&s.trace), 2);
    const rec_t *a = &s.trace.recs[0], *b = &s.trace.recs[1];
    check_gv(a, 1);
    check_gv(b, 2);
    CU_ASSERT(a->rq_len == b->rq_len && memcmp(a->rq, b->rq, a->rq_len) == 0);
    phx_ft_server_stats_t st;
    phx_ft_server_get_stats(s.ft, &st);
    CU_ASSERT_EQUAL(st.forwarded, 1);

    /* Later calls go straight to version 2. */
    CU_ASSERT_EQUAL(phxtest_Member_add(o, 1, &r, &env), PHX_OK);
    CU_ASSERT_EQUAL_FATAL(trace_count(&s.trace), 3);
    check_gv(&s.trace.recs[2], 2);
    phx_ft_server_get_stats(s.ft, &st);
    CU_ASSERT_EQUAL(st.forwarded, 1);

    free(s1);
    free(s2);
    phx_object_release(o);
    client_stop(&c);
    phx_ior_fini(&g1);
    phx_ior_fini(&g2);
    server_free(&s);
}

/* The member that answered stops; the next call goes to the other one. */
static void test_failover(void)
{
    server_t a, b;
    server_start(&a, 0, 0);
    server_start(&b, 0, 0);
    server_t *ms[] = {&a, &b};
    phx_ior_t g;
    iogr_of(ms, 2, 1, &g);
    serve_group(&a, &g);
    serve_group(&b, &g);
    client_t c;
    client_start(&c, 5000, 0);
    phx_object_t *o = ref_of(&c, &g);
    phx_env_t env = PHX_ENV_INIT;
    int64_t r;
    CU_ASSERT_EQUAL(phxtest_Member_add(o, 1, &r, &env), PHX_OK);
    CU_ASSERT_EQUAL(atomic_load(&a.m.executed), 1);
    server_stop(&a);
    for (int i = 0; i < 5; i++) {
        CU_ASSERT_EQUAL(phxtest_Member_add(o, 1, &r, &env), PHX_OK);
        CU_ASSERT_EQUAL(r, i + 1);
    }
    CU_ASSERT_EQUAL(atomic_load(&b.m.executed), 5);
    phx_ft_client_stats_t st;
    phx_ft_client_get_stats(c.ft, &st);
    CU_ASSERT(st.reinvocations >= 1);

    phx_object_release(o);
    client_stop(&c);
    phx_ior_fini(&g);
    server_free(&a);
    server_free(&b);
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Every member gone: re-invocation goes on until the expiration time,
 * then the last failure reaches the caller. */
static void test_expiration(void)
{
    server_t a, b;
    server_start(&a, 0, 0);
    server_start(&b, 0, 0);
    server_t *ms[] = {&a, &b};
    phx_ior_t g;
    iogr_of(ms, 2, 1, &g);
    server_stop(&a);
    server_stop(&b);

    client_t c;
    client_start(&c, 400, 100000);
    phx_object_t *o = ref_of(&c, &g);
    phx_env_t env = PHX_ENV_INIT;
    int64_t r;
    long long t0 = now_ms();
    CU_ASSERT_EQUAL(phxtest_Member_add(o, 1, &r, &env), PHX_ESYSEX);
    long long took = now_ms() - t0;
    CU_ASSERT(phx_env_is(&env, PHX_SYSEX_TRANSIENT) ||
              phx_env_is(&env, PHX_SYSEX_COMM_FAILURE));
    phx_env_clear(&env);
    CU_ASSERT(took >= 390);
    CU_ASSERT(took < 400 + 1500);
    phx_ft_client_stats_t st;
    phx_ft_client_get_stats(c.ft, &st);
    CU_ASSERT(st.expired >= 1);
    CU_ASSERT(st.reinvocations >= 2);
    printf("\n    expiration: %lld ms, %llu re-invocations\n", took,
           (unsigned long long)st.reinvocations);

    phx_object_release(o);
    client_stop(&c);
    phx_ior_fini(&g);
    server_free(&a);
    server_free(&b);
}

/* A servant that raises a re-invocable exception after doing its work:
 * every re-issue is answered from the cache, the servant runs once, and
 * the caller gets the exception when the request expires. */
static void test_cached_failure_until_expiry(void)
{
    server_t s;
    server_start(&s, 0, 0);
    server_t *ms[] = {&s};
    phx_ior_t g;
    iogr_of(ms, 1, 1, &g);
    serve_group(&s, &g);
    client_t c;
    client_start(&c, 300, 100000);
    phx_object_t *o = ref_of(&c, &g);
    phx_env_t env = PHX_ENV_INIT;
    CU_ASSERT_EQUAL(phxtest_Member_fail(o, "IDL:omg.org/CORBA/OBJ_ADAPTER:1.0",
                                        PHX_COMPLETED_MAYBE, &env),
                    PHX_ESYSEX);
    CU_ASSERT(phx_env_is(&env, PHX_SYSEX_OBJ_ADAPTER));
    phx_env_clear(&env);
    CU_ASSERT_EQUAL(atomic_load(&s.m.executed), 1);
    phx_ft_server_stats_t st;
    phx_ft_server_get_stats(s.ft, &st);
    CU_ASSERT(st.replayed >= 1);

    phx_object_release(o);
    client_stop(&c);
    phx_ior_fini(&g);
    server_free(&s);
}

/* ---- the reply cache, with hand-made requests ---- */

typedef struct raw_result {
    int rc;
    phx_env_t env;
    uint8_t body[64];
    size_t len;
} raw_result_t;

/* Invoke op (an add of v, or a fail) on o with a given FT_REQUEST. */
static void raw_call(phx_object_t *o, const char *op, int64_t v,
                     const char *cid, int32_t rid, raw_result_t *out)
{
    memset(out, 0, sizeof *out);
    phx_request_t *req;
    CU_ASSERT_EQUAL_FATAL(phx_request_create(o, op, 0, &req), PHX_OK);
    phx_cdr_writer_t *w = phx_request_args(req);
    if (strcmp(op, "fail") == 0) {
        phx_cdr_put_string(w, "IDL:omg.org/CORBA/NO_PERMISSION:1.0");
        phx_cdr_put_long(w, (int32_t)v);
    } else {
        phx_cdr_put_longlong(w, v);
    }
    phx_ft_request_ctx_t rq = {.client_id = cid,
                               .retention_id = rid,
                               .expiration_time =
                                   phx_ft_time_now() + 60 * 10000000ULL};
    uint8_t *d;
    size_t n;
    CU_ASSERT_EQUAL_FATAL(phx_ft_request_ctx_encode(&rq, &d, &n), PHX_OK);
    CU_ASSERT_EQUAL(phx_request_add_context(req, PHX_SC_FT_REQUEST, d, n),
                    PHX_OK);
    free(d);
    out->env = (phx_env_t)PHX_ENV_INIT;
    out->rc = phx_request_invoke(req, &out->env);
    if (out->rc == PHX_OK) {
        phx_cdr_reader_t *r = phx_request_result(req);
        out->len = phx_cdr_reader_remaining(r);
        if (out->len > sizeof out->body)
            out->len = sizeof out->body;
        memcpy(out->body, r->buf + r->pos, out->len);
    }
    phx_request_destroy(req);
}

static void test_cache_duplicates(void)
{
    server_t s;
    server_start(&s, 2, 0);
    server_t *ms[] = {&s};
    phx_ior_t g;
    iogr_of(ms, 1, 1, &g);
    serve_group(&s, &g);
    client_t c; /* no FT client needed: the contexts are made by hand */
    phx_orb_config_t cfg;
    phx_orb_config_init(&cfg);
    CU_ASSERT_EQUAL_FATAL(phx_orb_create(&cfg, &c.orb, NULL), PHX_OK);
    phx_object_t *o = ref_of(&c, &s.ior);

    raw_result_t r1, r2, r3;
    raw_call(o, "add", 5, "raw-client", 99, &r1);
    raw_call(o, "add", 5, "raw-client", 99, &r2);
    /* Same key, other arguments: still the first reply. */
    raw_call(o, "add", 1000, "raw-client", 99, &r3);
    CU_ASSERT_EQUAL(r1.rc, PHX_OK);
    CU_ASSERT_EQUAL(r2.rc, PHX_OK);
    CU_ASSERT_EQUAL(r3.rc, PHX_OK);
    CU_ASSERT_EQUAL(r1.len, 8);
    CU_ASSERT(r1.len == r2.len && memcmp(r1.body, r2.body, r1.len) == 0);
    CU_ASSERT(r1.len == r3.len && memcmp(r1.body, r3.body, r1.len) == 0);
    CU_ASSERT_EQUAL(atomic_load(&s.m.executed), 1);
    CU_ASSERT_EQUAL(atomic_load(&s.m.total), 5);
    /* Another retention id, or another client: executed. */
    raw_call(o, "add", 5, "raw-client", 100, &r1);
    raw_call(o, "add", 5, "raw-other", 99, &r2);
    CU_ASSERT_EQUAL(atomic_load(&s.m.executed), 3);

    /* A system exception with COMPLETED_NO says nothing ran: not kept.
     * With COMPLETED_YES it is kept. */
    raw_call(o, "fail", PHX_COMPLETED_NO, "raw-client", 200, &r1);
    raw_call(o, "fail", PHX_COMPLETED_NO, "raw-client", 200, &r2);
    CU_ASSERT_EQUAL(r1.rc, PHX_ESYSEX);
    CU_ASSERT_EQUAL(r2.rc, PHX_ESYSEX);
    CU_ASSERT_EQUAL(atomic_load(&s.m.executed), 5);
    phx_env_clear(&r1.env);
    phx_env_clear(&r2.env);
    raw_call(o, "fail", PHX_COMPLETED_YES, "raw-client", 201, &r1);
    raw_call(o, "fail", PHX_COMPLETED_YES, "raw-client", 201, &r2);
    CU_ASSERT(phx_env_is(&r2.env, PHX_SYSEX_NO_PERMISSION));
    CU_ASSERT_EQUAL(r2.env.completed, PHX_COMPLETED_YES);
    CU_ASSERT_EQUAL(atomic_load(&s.m.executed), 6);
    phx_env_clear(&r1.env);
    phx_env_clear(&r2.env);

    phx_ft_server_stats_t st;
    phx_ft_server_get_stats(s.ft, &st);
    CU_ASSERT_EQUAL(st.replayed, 3);

    phx_object_release(o);
    phx_orb_destroy(c.orb);
    phx_ior_fini(&g);
    server_free(&s);
}

typedef struct cache_op {
    const char *what;
    int rc;
} cache_op_t;

/* Stands in for an execution on another thread: the key is in
 * progress, then completed with a reply body for "add" (a long long). */
static void mark_in_progress(void *arg, phx_ft_reply_cache_t *c)
{
    cache_op_t *op = arg;
    op->rc = phx_ft_reply_cache_begin(c, "raw-client", 10, 7,
                                      phx_ft_time_now() + 600000000ULL, 0x77,
                                      NULL);
}

static void finish_it(void *arg, phx_ft_reply_cache_t *c)
{
    cache_op_t *op = arg;
    int64_t v = 4242;
    op->rc = phx_ft_reply_cache_complete(c, "raw-client", 10, 7, 0x77,
                                         PHX_GIOP_NO_EXCEPTION, &v, sizeof v);
}

static void test_cache_in_progress_and_full(void)
{
    server_t s;
    server_start(&s, 0, 3);
    server_t *ms[] = {&s};
    phx_ior_t g;
    iogr_of(ms, 1, 1, &g);
    serve_group(&s, &g);
    client_t c;
    phx_orb_config_t cfg;
    phx_orb_config_init(&cfg);
    CU_ASSERT_EQUAL_FATAL(phx_orb_create(&cfg, &c.orb, NULL), PHX_OK);
    phx_object_t *o = ref_of(&c, &s.ior);

    cache_op_t op;
    CU_ASSERT_EQUAL(phx_ft_server_with_cache(s.ft, KEY, strlen(KEY),
                                             mark_in_progress, &op),
                    PHX_OK);
    CU_ASSERT_EQUAL(op.rc, PHX_FT_CACHE_MISS);
    raw_result_t r;
    raw_call(o, "add", 1, "raw-client", 7, &r);
    CU_ASSERT_EQUAL(r.rc, PHX_ESYSEX);
    CU_ASSERT(phx_env_is(&r.env, PHX_SYSEX_TRANSIENT));
    CU_ASSERT_EQUAL(r.env.minor, PHX_VMCID | PHX_FT_MINOR_IN_PROGRESS);
    CU_ASSERT_EQUAL(r.env.completed, PHX_COMPLETED_NO);
    phx_env_clear(&r.env);
    CU_ASSERT_EQUAL(atomic_load(&s.m.executed), 0);
    CU_ASSERT_EQUAL(phx_ft_server_with_cache(s.ft, KEY, strlen(KEY),
                                             finish_it, &op),
                    PHX_OK);
    CU_ASSERT_EQUAL(op.rc, PHX_OK);
    raw_call(o, "add", 1, "raw-client", 7, &r);
    CU_ASSERT_EQUAL(r.rc, PHX_OK);
    int64_t v = 0;
    memcpy(&v, r.body, sizeof v);
    CU_ASSERT_EQUAL(v, 4242);
    CU_ASSERT_EQUAL(atomic_load(&s.m.executed), 0);

    /* Three entries fit: two more requests, then the cache is full and
     * the next one is refused without running. */
    raw_call(o, "add", 1, "raw-client", 8, &r);
    CU_ASSERT_EQUAL(r.rc, PHX_OK);
    raw_call(o, "add", 1, "raw-client", 9, &r);
    CU_ASSERT_EQUAL(r.rc, PHX_OK);
    raw_call(o, "add", 1, "raw-client", 10, &r);
    CU_ASSERT_EQUAL(r.rc, PHX_ESYSEX);
    CU_ASSERT(phx_env_is(&r.env, PHX_SYSEX_TRANSIENT));
    CU_ASSERT_EQUAL(r.env.minor, PHX_VMCID | PHX_FT_MINOR_CACHE_FULL);
    CU_ASSERT_EQUAL(r.env.completed, PHX_COMPLETED_NO);
    phx_env_clear(&r.env);
    CU_ASSERT_EQUAL(atomic_load(&s.m.executed), 2);
    /* Known requests are still answered. */
    raw_call(o, "add", 1, "raw-client", 9, &r);
    CU_ASSERT_EQUAL(r.rc, PHX_OK);
    CU_ASSERT_EQUAL(atomic_load(&s.m.executed), 2);
    /* Requests without FT_REQUEST do not use the cache. */
    int64_t t;
    phx_env_t env = PHX_ENV_INIT;
    CU_ASSERT_EQUAL(phxtest_Member_add(o, 1, &t, &env), PHX_OK);
    CU_ASSERT_EQUAL(atomic_load(&s.m.executed), 3);

    phx_object_release(o);
    phx_orb_destroy(c.orb);
    phx_ior_fini(&g);
    server_free(&s);
}

/* The member's key is not a group member (yet): nothing happens. */
static void test_unserved_key(void)
{
    server_t s;
    server_start(&s, 0, 0);
    client_t c;
    phx_orb_config_t cfg;
    phx_orb_config_init(&cfg);
    CU_ASSERT_EQUAL_FATAL(phx_orb_create(&cfg, &c.orb, NULL), PHX_OK);
    phx_object_t *o = ref_of(&c, &s.ior);
    raw_result_t r;
    raw_call(o, "add", 1, "raw-client", 1, &r);
    raw_call(o, "add", 1, "raw-client", 1, &r);
    CU_ASSERT_EQUAL(r.rc, PHX_OK);
    CU_ASSERT_EQUAL(atomic_load(&s.m.executed), 2);
    CU_ASSERT_EQUAL(phx_ft_server_group_version(s.ft, KEY, strlen(KEY), NULL),
                    PHX_ENOTFOUND);
    /* Served, then no longer. */
    server_t *ms[] = {&s};
    phx_ior_t g;
    iogr_of(ms, 1, 1, &g);
    serve_group(&s, &g);
    raw_call(o, "add", 1, "raw-client", 1, &r);
    raw_call(o, "add", 1, "raw-client", 1, &r);
    CU_ASSERT_EQUAL(atomic_load(&s.m.executed), 3);
    CU_ASSERT_EQUAL(phx_ft_server_remove_group(s.ft, KEY, strlen(KEY)),
                    PHX_OK);
    raw_call(o, "add", 1, "raw-client", 1, &r);
    CU_ASSERT_EQUAL(atomic_load(&s.m.executed), 4);
    /* A plain reference is not a group reference. */
    phx_error_t err;
    CU_ASSERT_EQUAL(phx_ft_server_set_group(s.ft, KEY, strlen(KEY), &s.ior,
                                            &err),
                    PHX_ENOTFOUND);

    phx_object_release(o);
    phx_orb_destroy(c.orb);
    phx_ior_fini(&g);
    server_free(&s);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("ft-orb", NULL, NULL);
    if (s == NULL ||
        !CU_add_test(s, "contexts on the wire", test_contexts_on_the_wire) ||
        !CU_add_test(s, "lost reply: exactly once",
                     test_lost_reply_exactly_once) ||
        !CU_add_test(s, "not re-invoked", test_not_reinvoked) ||
        !CU_add_test(s, "plain objects untouched",
                     test_plain_objects_untouched) ||
        !CU_add_test(s, "stale reference forwarded",
                     test_stale_reference_forwarded) ||
        !CU_add_test(s, "fail-over", test_failover) ||
        !CU_add_test(s, "expiration", test_expiration) ||
        !CU_add_test(s, "cached failure until expiry",
                     test_cached_failure_until_expiry) ||
        !CU_add_test(s, "reply cache: duplicates", test_cache_duplicates) ||
        !CU_add_test(s, "reply cache: in progress, full",
                     test_cache_in_progress_and_full) ||
        !CU_add_test(s, "keys not served", test_unserved_key)) {
        CU_cleanup_registry();
        return 1;
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
