/*
 * test_rpcgw.c - the gateway core against a raw TCP client: every reply
 * of include/phx/rpcgw.h (SUCCESS with results, NULLPROC, PROG_UNAVAIL,
 * PROG_MISMATCH, PROC_UNAVAIL, GARBAGE_ARGS, SYSTEM_ERR, RPC_MISMATCH,
 * AUTH_ERROR), fragmented and pipelined records, an oversized record
 * (connection closed), a slow client that must not block the others, and
 * many concurrent clients (CUnit).  The target servants run on an ORB in
 * this process (tests/rpc/rpctest_impl.c); the gateway reaches them
 * through the ORB's TCP transport like any remote object.
 */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include <phx/log.h>
#include <phx/rpcgw.h>
#include <phx/xdr.h>

#include "tests/rpc/gen/rpctest.h"
#include "tests/rpc/rawclient.h"
#include "tests/rpc/rpctest_impl.h"

#define PROG RPCTEST_RPCTEST_V1__rpc_prog
#define DEAD_PROG 0x20000100u
#define MAX_RECORD 8192

static phx_orb_t *orb;
static pthread_t orb_thread;
static phx_object_t *v1, *v3, *dead;
static phx_rpcgw_t *gw;
static uint16_t port;

static void *run_orb(void *arg)
{
    (void)arg;
    phx_orb_run(orb);
    return NULL;
}

static int setup(void)
{
    phx_error_t err;
    phx_orb_config_t cfg;
    const char *listen[] = {"tcp://127.0.0.1:*"};
    phx_orb_config_init(&cfg);
    cfg.listen = listen;
    cfg.listen_count = 1;
    cfg.workers = 2;
    cfg.connect_timeout_ms = 1000;
    cfg.call_timeout_ms = 5000;
    if (phx_orb_create(&cfg, &orb, &err) != 0 ||
        rpctest_activate(orb, &v1, &v3, &err) != 0)
        return 1;
    /* a reference nobody serves: SYSTEM_ERR */
    if (phx_object_from_string(orb, "corbaloc:iiop:1.2@127.0.0.1:1/nothing",
                               &dead, &err) != 0)
        return 1;
    pthread_create(&orb_thread, NULL, run_orb, NULL);

    phx_rpcgw_config_t gc;
    phx_rpcgw_config_init(&gc);
    gc.listen = "tcp://127.0.0.1:0";
    gc.max_record = MAX_RECORD;
    gc.max_connections = 32;
    if (phx_rpcgw_create(&gc, &gw, &err) != 0 ||
        phx_rpcgw_add_program(gw, PROG, 1, RPCTEST_RPCTEST_V1__rpc_procs,
                              RPCTEST_RPCTEST_V1__rpc_proc_count, v1,
                              &err) != 0 ||
        phx_rpcgw_add_program(gw, PROG, 3, RPCTEST_RPCTEST_V3__rpc_procs,
                              RPCTEST_RPCTEST_V3__rpc_proc_count, v3,
                              &err) != 0 ||
        phx_rpcgw_add_program(gw, DEAD_PROG, 1,
                              RPCTEST_RPCTEST_V1__rpc_procs,
                              RPCTEST_RPCTEST_V1__rpc_proc_count, dead,
                              &err) != 0 ||
        phx_rpcgw_start(gw, &err) != 0) {
        fprintf(stderr, "setup: %s\n", err.msg);
        return 1;
    }
    port = phx_rpcgw_port(gw);
    return 0;
}

static int teardown(void)
{
    phx_rpcgw_destroy(gw);
    phx_object_release(v1);
    phx_object_release(v3);
    phx_object_release(dead);
    phx_orb_shutdown(orb);
    pthread_join(orb_thread, NULL);
    phx_orb_destroy(orb);
    return 0;
}

static uint8_t *xdr2(int32_t a, int32_t b, size_t *n)
{
    phx_xdr_writer_t w;
    phx_xdr_writer_init(&w);
    phx_xdr_put_u32(&w, (uint32_t)a);
    phx_xdr_put_u32(&w, (uint32_t)b);
    return phx_xdr_writer_take(&w, n);
}

static int32_t result_int(const phx_rpc_reply_t *rep)
{
    phx_xdr_reader_t r;
    int32_t v = 0;
    phx_xdr_reader_init(&r, rep->results, rep->results_len);
    phx_xdr_get_value(&r, &phx_tc_long, &v);
    CU_ASSERT_EQUAL(phx_xdr_reader_remaining(&r), 0);
    return v;
}

static void test_success(void)
{
    int fd = raw_connect(port);
    CU_ASSERT_FATAL(fd >= 0);
    phx_rpc_reply_t rep;
    uint8_t *buf, *args;
    size_t n;

    /* NULLPROC, both versions */
    CU_ASSERT_EQUAL(raw_call(fd, PROG, 1, 0, NULL, 0, &rep, &buf), 0);
    CU_ASSERT_EQUAL(rep.reply_stat, PHX_RPC_MSG_ACCEPTED);
    CU_ASSERT_EQUAL(rep.stat, PHX_RPC_SUCCESS);
    CU_ASSERT_EQUAL(rep.results_len, 0);
    free(buf);
    CU_ASSERT_EQUAL(raw_call(fd, PROG, 3, 0, NULL, 0, &rep, &buf), 0);
    CU_ASSERT_EQUAL(rep.stat, PHX_RPC_SUCCESS);
    free(buf);

    args = xdr2(40, 2, &n);
    CU_ASSERT_EQUAL(raw_call(fd, PROG, 1, 3, args, n, &rep, &buf), 0);
    CU_ASSERT_EQUAL(rep.stat, PHX_RPC_SUCCESS);
    CU_ASSERT_EQUAL(result_int(&rep), 42);
    free(buf);
    CU_ASSERT_EQUAL(raw_call(fd, PROG, 3, 3, args, n, &rep, &buf), 0);
    CU_ASSERT_EQUAL(rep.stat, PHX_RPC_SUCCESS);
    CU_ASSERT_EQUAL(result_int(&rep), 1042);
    free(buf);
    free(args);

    /* void PING(void): empty result */
    CU_ASSERT_EQUAL(raw_call(fd, PROG, 1, 4, NULL, 0, &rep, &buf), 0);
    CU_ASSERT_EQUAL(rep.stat, PHX_RPC_SUCCESS);
    CU_ASSERT_EQUAL(rep.results_len, 0);
    free(buf);

    /* ECHO of a struct with every construct */
    everything e, out;
    inner in = {3, -4};
    uint8_t vo[3] = {7, 8, 9};
    int32_t sq[2] = {5, 6};
    memset(&e, 0, sizeof e);
    e.i = -5;
    e.h = 1234567890123ll;
    e.b = true;
    e.c = BLUE;
    e.d = 2.5;
    e.s = "echo";
    e.vo._length = 3;
    e.vo._buffer = vo;
    e.seq._length = 2;
    e.seq._buffer = sq;
    e.opt._length = 1;
    e.opt._buffer = &in;
    e.nm = "x";
    phx_xdr_writer_t w;
    phx_xdr_writer_init(&w);
    CU_ASSERT_EQUAL(phx_xdr_put_value(&w, &TC_everything, &e), 0);
    args = phx_xdr_writer_take(&w, &n);
    CU_ASSERT_EQUAL(raw_call(fd, PROG, 1, 1, args, n, &rep, &buf), 0);
    CU_ASSERT_EQUAL(rep.stat, PHX_RPC_SUCCESS);
    CU_ASSERT_EQUAL(rep.results_len, n);
    if (rep.results_len == n)
        CU_ASSERT(memcmp(rep.results, args, n) == 0);
    phx_xdr_reader_t r;
    phx_xdr_reader_init(&r, rep.results, rep.results_len);
    CU_ASSERT_EQUAL(phx_xdr_get_value(&r, &TC_everything, &out), 0);
    CU_ASSERT(phx_value_equal(&TC_everything, &e, &out));
    phx_value_free(&TC_everything, &out);
    free(buf);
    free(args);

    /* GET: the union's arms */
    for (int32_t k = 0; k <= 3; k++) {
        uint32_t ka = htonl((uint32_t)k);
        result res;
        CU_ASSERT_EQUAL(raw_call(fd, PROG, 1, 2, &ka, 4, &rep, &buf), 0);
        CU_ASSERT_EQUAL(rep.stat, PHX_RPC_SUCCESS);
        phx_xdr_reader_init(&r, rep.results, rep.results_len);
        CU_ASSERT_EQUAL(phx_xdr_get_value(&r, &TC_result, &res), 0);
        CU_ASSERT_EQUAL(res._d, k);
        if (k == 0)
            CU_ASSERT_STRING_EQUAL(res._u.val.s, "forty-two");
        if (k == 1)
            CU_ASSERT_STRING_EQUAL(res._u.err, "no such key");
        if (k >= 2)
            CU_ASSERT_EQUAL(rep.results_len, 4);
        phx_value_free(&TC_result, &res);
        free(buf);
    }

    /* HELLO(string<32>) */
    phx_xdr_writer_init(&w);
    phx_xdr_put_opaque(&w, "bob", 3);
    args = phx_xdr_writer_take(&w, &n);
    CU_ASSERT_EQUAL(raw_call(fd, PROG, 1, 7, args, n, &rep, &buf), 0);
    CU_ASSERT_EQUAL(rep.stat, PHX_RPC_SUCCESS);
    static const uint8_t hi[] = {0, 0, 0, 6, 'h', 'i', ' ', 'b', 'o', 'b',
                                 0, 0};
    CU_ASSERT_EQUAL(rep.results_len, sizeof hi);
    if (rep.results_len == sizeof hi)
        CU_ASSERT(memcmp(rep.results, hi, sizeof hi) == 0);
    free(buf);
    free(args);
    close(fd);
}

static void test_errors(void)
{
    int fd = raw_connect(port);
    CU_ASSERT_FATAL(fd >= 0);
    phx_rpc_reply_t rep;
    uint8_t *buf, *args;
    size_t n;

    CU_ASSERT_EQUAL(raw_call(fd, 0x12345, 1, 0, NULL, 0, &rep, &buf), 0);
    CU_ASSERT_EQUAL(rep.reply_stat, PHX_RPC_MSG_ACCEPTED);
    CU_ASSERT_EQUAL(rep.stat, PHX_RPC_PROG_UNAVAIL);
    free(buf);

    CU_ASSERT_EQUAL(raw_call(fd, PROG, 2, 0, NULL, 0, &rep, &buf), 0);
    CU_ASSERT_EQUAL(rep.stat, PHX_RPC_PROG_MISMATCH);
    CU_ASSERT_EQUAL(rep.low, 1);
    CU_ASSERT_EQUAL(rep.high, 3);
    free(buf);

    CU_ASSERT_EQUAL(raw_call(fd, PROG, 1, 5, NULL, 0, &rep, &buf), 0);
    CU_ASSERT_EQUAL(rep.stat, PHX_RPC_PROC_UNAVAIL);
    free(buf);
    CU_ASSERT_EQUAL(raw_call(fd, PROG, 3, 1, NULL, 0, &rep, &buf), 0);
    CU_ASSERT_EQUAL(rep.stat, PHX_RPC_PROC_UNAVAIL);
    free(buf);

    /* ADD with one argument, then with a trailing word */
    args = xdr2(1, 2, &n);
    CU_ASSERT_EQUAL(raw_call(fd, PROG, 1, 3, args, 4, &rep, &buf), 0);
    CU_ASSERT_EQUAL(rep.stat, PHX_RPC_GARBAGE_ARGS);
    free(buf);
    uint8_t three[12];
    memcpy(three, args, 8);
    memset(three + 8, 0, 4);
    CU_ASSERT_EQUAL(raw_call(fd, PROG, 1, 3, three, 12, &rep, &buf), 0);
    CU_ASSERT_EQUAL(rep.stat, PHX_RPC_GARBAGE_ARGS);
    free(buf);
    /* HELLO with a string over its bound */
    uint8_t longs[4 + 40] = {0, 0, 0, 40};
    memset(longs + 4, 'a', 40);
    CU_ASSERT_EQUAL(raw_call(fd, PROG, 1, 7, longs, sizeof longs, &rep,
                             &buf), 0);
    CU_ASSERT_EQUAL(rep.stat, PHX_RPC_GARBAGE_ARGS);
    free(buf);

    /* the target cannot be reached */
    CU_ASSERT_EQUAL(raw_call(fd, DEAD_PROG, 1, 3, args, n, &rep, &buf), 0);
    CU_ASSERT_EQUAL(rep.stat, PHX_RPC_SYSTEM_ERR);
    free(buf);
    /* NULLPROC does not touch the target */
    CU_ASSERT_EQUAL(raw_call(fd, DEAD_PROG, 1, 0, NULL, 0, &rep, &buf), 0);
    CU_ASSERT_EQUAL(rep.stat, PHX_RPC_SUCCESS);
    free(buf);
    free(args);

    /* the connection still works after all that */
    args = xdr2(1, 1, &n);
    CU_ASSERT_EQUAL(raw_call(fd, PROG, 1, 3, args, n, &rep, &buf), 0);
    CU_ASSERT_EQUAL(rep.stat, PHX_RPC_SUCCESS);
    CU_ASSERT_EQUAL(result_int(&rep), 2);
    free(buf);
    free(args);
    close(fd);
}

/* Send a hand-made message, return its decoded reply. */
static int raw_msg(int fd, const uint32_t *words, size_t nw,
                   phx_rpc_reply_t *rep, uint8_t **buf)
{
    uint8_t msg[256];
    size_t rl;
    for (size_t i = 0; i < nw; i++) {
        uint32_t v = htonl(words[i]);
        memcpy(msg + 4 * i, &v, 4);
    }
    if (raw_send_record(fd, msg, 4 * nw, 1))
        return -1;
    int rc = raw_recv_record(fd, buf, &rl, 10000);
    if (rc)
        return rc;
    return phx_rpc_decode_reply(*buf, rl, rep);
}

static void test_denied(void)
{
    int fd = raw_connect(port);
    CU_ASSERT_FATAL(fd >= 0);
    phx_rpc_reply_t rep;
    uint8_t *buf;

    /* rpcvers 3 */
    const uint32_t v3[] = {7, 0, 3, PROG, 1, 0, 0, 0, 0, 0};
    CU_ASSERT_EQUAL(raw_msg(fd, v3, 10, &rep, &buf), 0);
    CU_ASSERT_EQUAL(rep.xid, 7);
    CU_ASSERT_EQUAL(rep.reply_stat, PHX_RPC_MSG_DENIED);
    CU_ASSERT_EQUAL(rep.stat, PHX_RPC_RPC_MISMATCH);
    CU_ASSERT_EQUAL(rep.low, 2);
    CU_ASSERT_EQUAL(rep.high, 2);
    free(buf);

    /* RPCSEC_GSS credentials: rejected */
    const uint32_t gss[] = {8, 0, 2, PROG, 1, 0, 6, 0, 0, 0};
    CU_ASSERT_EQUAL(raw_msg(fd, gss, 10, &rep, &buf), 0);
    CU_ASSERT_EQUAL(rep.reply_stat, PHX_RPC_MSG_DENIED);
    CU_ASSERT_EQUAL(rep.stat, PHX_RPC_AUTH_ERROR);
    CU_ASSERT_EQUAL(rep.auth_stat, PHX_RPC_AUTH_REJECTEDCRED);
    free(buf);

    /* AUTH_SYS with a body that does not parse (gids count 99) */
    const uint32_t badsys[] = {9, 0, 2, PROG, 1, 0, 1, 20, 0, 0, 0, 0, 99,
                               0, 0};
    CU_ASSERT_EQUAL(raw_msg(fd, badsys, 15, &rep, &buf), 0);
    CU_ASSERT_EQUAL(rep.stat, PHX_RPC_AUTH_ERROR);
    CU_ASSERT_EQUAL(rep.auth_stat, PHX_RPC_AUTH_BADCRED);
    free(buf);

    /* AUTH_NONE with a body */
    const uint32_t nonebody[] = {10, 0, 2, PROG, 1, 0, 0, 4, 1, 0, 0};
    CU_ASSERT_EQUAL(raw_msg(fd, nonebody, 11, &rep, &buf), 0);
    CU_ASSERT_EQUAL(rep.auth_stat, PHX_RPC_AUTH_BADCRED);
    free(buf);

    /* credentials longer than 400 octets */
    const uint32_t huge[] = {11, 0, 2, PROG, 1, 0, 1, 404, 0};
    CU_ASSERT_EQUAL(raw_msg(fd, huge, 9, &rep, &buf), 0);
    CU_ASSERT_EQUAL(rep.auth_stat, PHX_RPC_AUTH_BADCRED);
    free(buf);

    /* a verifier of another flavour */
    const uint32_t badverf[] = {12, 0, 2, PROG, 1, 0, 0, 0, 1, 0};
    CU_ASSERT_EQUAL(raw_msg(fd, badverf, 10, &rep, &buf), 0);
    CU_ASSERT_EQUAL(rep.auth_stat, PHX_RPC_AUTH_BADVERF);
    free(buf);

    /* a good AUTH_SYS: stamp, "h", uid, gid, 2 gids */
    const uint32_t sys[] = {13, 0, 2, PROG, 1, 0, 1, 32, 5, 1, 0x68000000u,
                            1000, 1000, 2, 4, 24, 0, 0};
    CU_ASSERT_EQUAL(raw_msg(fd, sys, 18, &rep, &buf), 0);
    CU_ASSERT_EQUAL(rep.reply_stat, PHX_RPC_MSG_ACCEPTED);
    CU_ASSERT_EQUAL(rep.stat, PHX_RPC_SUCCESS);
    free(buf);

    /* a REPLY sent to the gateway: the connection is closed */
    const uint32_t reply[] = {14, 1, 0, 0, 0, 0};
    CU_ASSERT_EQUAL(raw_msg(fd, reply, 6, &rep, &buf), -2);
    close(fd);
}

static void test_records(void)
{
    int fd = raw_connect(port);
    CU_ASSERT_FATAL(fd >= 0);
    uint8_t *msg, *buf, *args;
    size_t len, n, rl;
    phx_rpc_reply_t rep;

    /* one call in 3 fragments, then byte by byte */
    args = xdr2(20, 22, &n);
    CU_ASSERT_EQUAL(raw_make_call(100, PROG, 1, 3, args, n, &msg, &len), 0);
    CU_ASSERT_EQUAL(raw_send_record(fd, msg, len, 3), 0);
    CU_ASSERT_EQUAL(raw_recv_record(fd, &buf, &rl, 10000), 0);
    CU_ASSERT_EQUAL(phx_rpc_decode_reply(buf, rl, &rep), 0);
    CU_ASSERT_EQUAL(rep.xid, 100);
    CU_ASSERT_EQUAL(result_int(&rep), 42);
    free(buf);
    uint8_t *rec;
    size_t reclen;
    CU_ASSERT_EQUAL(phx_rpc_record_frame(msg, len, &rec, &reclen), 0);
    for (size_t i = 0; i < reclen; i++)
        CU_ASSERT_EQUAL(raw_send(fd, rec + i, 1), 0);
    CU_ASSERT_EQUAL(raw_recv_record(fd, &buf, &rl, 10000), 0);
    CU_ASSERT_EQUAL(phx_rpc_decode_reply(buf, rl, &rep), 0);
    CU_ASSERT_EQUAL(result_int(&rep), 42);
    free(buf);

    /* two calls in one write: two replies, in order */
    uint8_t two[512];
    memcpy(two, rec, reclen);
    memcpy(two + reclen, rec, reclen);
    two[reclen + 7] = 101;  /* second xid: 100 -> 101 (low byte) */
    CU_ASSERT_EQUAL(raw_send(fd, two, 2 * reclen), 0);
    for (uint32_t x = 100; x <= 101; x++) {
        CU_ASSERT_EQUAL(raw_recv_record(fd, &buf, &rl, 10000), 0);
        CU_ASSERT_EQUAL(phx_rpc_decode_reply(buf, rl, &rep), 0);
        CU_ASSERT_EQUAL(rep.xid, x);
        free(buf);
    }
    free(rec);
    free(msg);
    free(args);

    /* an oversized record: the connection is closed */
    uint8_t big[4] = {0x80, 0x10, 0, 0};   /* 1 MiB > MAX_RECORD */
    CU_ASSERT_EQUAL(raw_send(fd, big, 4), 0);
    CU_ASSERT_EQUAL(raw_recv_record(fd, &buf, &rl, 10000), -2);
    close(fd);
    /* also when fragments add up past the limit */
    fd = raw_connect(port);
    CU_ASSERT_FATAL(fd >= 0);
    uint8_t frag[4 + 4096] = {0, 0, 0x10, 0};
    memset(frag + 4, 0, 4096);
    CU_ASSERT_EQUAL(raw_send(fd, frag, sizeof frag), 0);
    CU_ASSERT_EQUAL(raw_send(fd, frag, sizeof frag), 0);
    raw_send(fd, frag, sizeof frag);
    CU_ASSERT_EQUAL(raw_recv_record(fd, &buf, &rl, 10000), -2);
    close(fd);
    phx_rpcgw_stats_t st;
    phx_rpcgw_get_stats(gw, &st);
    CU_ASSERT(st.oversized >= 2);
}

static void test_slow_client(void)
{
    /* A client that sent half a record, and one that never reads its
     * replies, do not hold up a third. */
    int slow = raw_connect(port), mute = raw_connect(port);
    CU_ASSERT_FATAL(slow >= 0 && mute >= 0);
    uint8_t half[6] = {0x80, 0, 0, 40, 0, 0};
    CU_ASSERT_EQUAL(raw_send(slow, half, sizeof half), 0);
    uint8_t *msg, *rec;
    size_t len, reclen;
    raw_make_call(1, PROG, 1, 0, NULL, 0, &msg, &len);
    phx_rpc_record_frame(msg, len, &rec, &reclen);
    for (int i = 0; i < 200; i++)
        raw_send(mute, rec, reclen);
    free(rec);
    free(msg);

    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int fd = raw_connect(port);
    CU_ASSERT_FATAL(fd >= 0);
    phx_rpc_reply_t rep;
    uint8_t *buf, *args;
    size_t n;
    args = xdr2(2, 2, &n);
    CU_ASSERT_EQUAL(raw_call(fd, PROG, 1, 3, args, n, &rep, &buf), 0);
    CU_ASSERT_EQUAL(result_int(&rep), 4);
    free(buf);
    free(args);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    CU_ASSERT((t1.tv_sec - t0.tv_sec) < 3);
    close(fd);
    close(slow);
    close(mute);
}

static void *many_worker(void *arg)
{
    long id = (long)arg, bad = 0;
    int fd = raw_connect(port);
    if (fd < 0)
        return (void *)1;
    for (int32_t i = 0; i < 50; i++) {
        phx_rpc_reply_t rep;
        uint8_t *buf, *args;
        size_t n;
        args = xdr2((int32_t)id, i, &n);
        if (raw_call(fd, PROG, 1, 3, args, n, &rep, &buf) != 0 ||
            rep.stat != PHX_RPC_SUCCESS || rep.results_len != 4 ||
            (int32_t)ntohl(*(const uint32_t *)(const void *)rep.results) !=
                (int32_t)id + i)
            bad++;
        free(buf);
        free(args);
    }
    close(fd);
    return (void *)bad;
}

static void test_many_clients(void)
{
    pthread_t t[16];
    for (long i = 0; i < 16; i++)
        pthread_create(&t[i], NULL, many_worker, (void *)(i * 1000));
    for (int i = 0; i < 16; i++) {
        void *r;
        pthread_join(t[i], &r);
        CU_ASSERT_PTR_NULL(r);
    }
}

static void test_limits(void)
{
    /* max_connections 1: a second connection is closed at once; the
     * idle timeout closes a silent connection. */
    phx_rpcgw_t *g;
    phx_error_t err;
    phx_rpcgw_config_t gc;
    phx_rpcgw_config_init(&gc);
    gc.max_connections = 1;
    gc.idle_timeout_ms = 300;
    CU_ASSERT_EQUAL_FATAL(phx_rpcgw_create(&gc, &g, &err), 0);
    CU_ASSERT_EQUAL_FATAL(
        phx_rpcgw_add_program(g, PROG, 1, RPCTEST_RPCTEST_V1__rpc_procs,
                              RPCTEST_RPCTEST_V1__rpc_proc_count, v1, &err),
        0);
    CU_ASSERT_EQUAL_FATAL(phx_rpcgw_start(g, &err), 0);
    uint16_t p = phx_rpcgw_port(g);
    int a = raw_connect(p);
    CU_ASSERT_FATAL(a >= 0);
    phx_rpc_reply_t rep;
    uint8_t *buf;
    size_t rl;
    CU_ASSERT_EQUAL(raw_call(a, PROG, 1, 0, NULL, 0, &rep, &buf), 0);
    free(buf);
    int b = raw_connect(p);
    CU_ASSERT_FATAL(b >= 0);
    CU_ASSERT_EQUAL(raw_recv_record(b, &buf, &rl, 5000), -2);
    close(b);
    /* a stays silent: closed after the idle timeout */
    CU_ASSERT_EQUAL(raw_recv_record(a, &buf, &rl, 5000), -2);
    close(a);
    /* then a new connection is served again */
    usleep(100 * 1000);
    a = raw_connect(p);
    CU_ASSERT_FATAL(a >= 0);
    CU_ASSERT_EQUAL(raw_call(a, PROG, 1, 0, NULL, 0, &rep, &buf), 0);
    CU_ASSERT_EQUAL(rep.stat, PHX_RPC_SUCCESS);
    free(buf);
    close(a);
    phx_rpcgw_stats_t st;
    phx_rpcgw_get_stats(g, &st);
    CU_ASSERT_EQUAL(st.refused_connections, 1);
    phx_rpcgw_destroy(g);
}

static void test_api_errors(void)
{
    phx_rpcgw_t *g;
    phx_error_t err;
    phx_rpcgw_config_t gc;
    phx_rpcgw_config_init(&gc);
    gc.listen = "udp://x";
    CU_ASSERT_EQUAL(phx_rpcgw_create(&gc, &g, &err), PHX_EINVAL);
    gc.listen = "tcp://127.0.0.1:99999";
    CU_ASSERT_EQUAL(phx_rpcgw_create(&gc, &g, &err), PHX_EINVAL);
    gc.listen = "tcp://127.0.0.1:0";
    CU_ASSERT_EQUAL_FATAL(phx_rpcgw_create(&gc, &g, &err), 0);
    CU_ASSERT_EQUAL(phx_rpcgw_start(g, &err), PHX_EINVAL);
    CU_ASSERT_EQUAL(phx_rpcgw_add_program(g, 1, 1,
                                          RPCTEST_RPCTEST_V1__rpc_procs,
                                          RPCTEST_RPCTEST_V1__rpc_proc_count,
                                          v1, &err), 0);
    CU_ASSERT_EQUAL(phx_rpcgw_add_program(g, 1, 1,
                                          RPCTEST_RPCTEST_V1__rpc_procs,
                                          RPCTEST_RPCTEST_V1__rpc_proc_count,
                                          v1, &err), PHX_EEXIST);
    phx_rpc_proc_t dup[2] = {{3, &RPCTEST_RPCTEST_V1__op_ADD},
                             {3, &RPCTEST_RPCTEST_V1__op_ADD}};
    CU_ASSERT_EQUAL(phx_rpcgw_add_program(g, 2, 1, dup, 2, v1, &err),
                    PHX_EINVAL);
    dup[0].proc = 0;
    CU_ASSERT_EQUAL(phx_rpcgw_add_program(g, 2, 1, dup, 1, v1, &err),
                    PHX_EINVAL);
    phx_rpcgw_destroy(g);
}

int main(void)
{
    if (getenv("PHX_LOG") == NULL)
        phx_log_set_level(PHX_LOG_ERROR);
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("rpcgw", setup, teardown);
    CU_add_test(s, "calls that succeed", test_success);
    CU_add_test(s, "accepted errors", test_errors);
    CU_add_test(s, "denied calls", test_denied);
    CU_add_test(s, "records: fragments, pipelining, oversized",
                test_records);
    CU_add_test(s, "a slow client blocks nobody", test_slow_client);
    CU_add_test(s, "16 concurrent clients", test_many_clients);
    CU_add_test(s, "connection limit and idle timeout", test_limits);
    CU_add_test(s, "API errors", test_api_errors);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned fails = CU_get_number_of_failures() +
                     CU_get_number_of_suites_failed();
    CU_cleanup_registry();
    return fails ? 1 : 0;
}
