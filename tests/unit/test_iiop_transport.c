/*
 * test_iiop_transport.c - the IIOP transport (orb/transport/iiop) driven
 * through phx_transport_ops_t and raw TCP sockets: framing of messages
 * sent back to back or byte by byte, fragment reassembly, oversized
 * messages, refused fragments, peers that leave mid-message, connection
 * refusal, timeouts, and a server that goes away during a call.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include <phx/error.h>
#include <phx/giop.h>
#include <phx/transport.h>

#include "../../orb/transport/iiop/iiop_transport.h"

static const phx_transport_ops_t *const T = &phx__iiop_transport;

/* Upper bound for anything a test waits for. */
#define WAIT_US (5 * 1000000LL)
#define MAX_MSG (2u << 20)

/* ------------------------------------------------------------------ */
/* A server: a transport instance whose event loop runs on a thread and */
/* echoes every message, except those whose first body octet is 'H'.    */
/* ------------------------------------------------------------------ */

typedef struct server {
    void *t;
    char *ep;
    int port;
    pthread_t th;
    atomic_bool stop;
    atomic_int delivered;
    atomic_int held;
} server_t;

static void deliver(void *arg, phx_inmsg_t *m)
{
    server_t *s = arg;
    atomic_fetch_add(&s->delivered, 1);
    if (m->len > PHX_GIOP_HEADER_SIZE && m->data[PHX_GIOP_HEADER_SIZE] == 'H') {
        atomic_fetch_add(&s->held, 1);
        phx_inmsg_release(m);
        return;
    }
    phx_buf_t b = {malloc(m->len ? m->len : 1), m->len, NULL, NULL};
    memcpy(b.data, m->data, m->len);
    if (T->send_reply(s->t, m, &b, NULL) != PHX_OK)
        phx_buf_dispose(&b);
    phx_inmsg_release(m);
}

static void *server_loop(void *arg)
{
    server_t *s = arg;
    phx_pollable_t p;
    CU_ASSERT_EQUAL(T->pollables(s->t, &p, 1), 1);
    while (!atomic_load(&s->stop)) {
        struct pollfd pf = {p.fd, POLLIN, 0};
        if (poll(&pf, 1, 20) > 0)
            T->on_readable(s->t, 0);
    }
    return NULL;
}

static void server_start(server_t *s)
{
    memset(s, 0, sizeof *s);
    phx_transport_config_t cfg = {.max_message = MAX_MSG,
                                  .connect_timeout_ms = 2000};
    CU_ASSERT_EQUAL_FATAL(T->init(&cfg, &s->t, NULL), PHX_OK);
    phx_error_t err;
    int rc = T->listen(s->t, "iiop://127.0.0.1:*", &s->ep, deliver, s, &err);
    if (rc != PHX_OK)
        fprintf(stderr, "listen: %s\n", err.msg);
    CU_ASSERT_EQUAL_FATAL(rc, PHX_OK);
    CU_ASSERT(strncmp(s->ep, "iiop://127.0.0.1:", 17) == 0);
    s->port = atoi(s->ep + 17);
    CU_ASSERT(s->port > 0);
    pthread_create(&s->th, NULL, server_loop, s);
}

static void server_stop(server_t *s)
{
    atomic_store(&s->stop, true);
    pthread_join(s->th, NULL);
    T->fini(s->t);
    free(s->ep);
}

/* A GIOP 1.2 little-endian Request-typed message with a body of n octets
 * starting with first. */
static uint8_t *make_msg(size_t n, uint8_t first, size_t *len)
{
    uint8_t *m = malloc(PHX_GIOP_HEADER_SIZE + n);
    memcpy(m, "GIOP\x01\x02\x01\x00", 8);
    uint32_t sz = (uint32_t)n;
    m[8] = (uint8_t)sz;
    m[9] = (uint8_t)(sz >> 8);
    m[10] = (uint8_t)(sz >> 16);
    m[11] = (uint8_t)(sz >> 24);
    for (size_t i = 0; i < n; i++)
        m[PHX_GIOP_HEADER_SIZE + i] = (uint8_t)(i * 13 + n);
    if (n)
        m[PHX_GIOP_HEADER_SIZE] = first;
    *len = PHX_GIOP_HEADER_SIZE + n;
    return m;
}

static int raw_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CU_ASSERT_EQUAL_FATAL(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

/* Read exactly n octets (or fewer at EOF/timeout); returns the count. */
static size_t read_n(int fd, uint8_t *b, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = recv(fd, b + got, n - got, 0);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    return got;
}

static void expect_echo(int fd, const uint8_t *m, size_t len)
{
    uint8_t *b = malloc(len);
    CU_ASSERT_EQUAL(read_n(fd, b, len), len);
    CU_ASSERT(memcmp(b, m, len) == 0);
    free(b);
}

/* ------------------------------------------------------------------ */
/* Tests                                                                */
/* ------------------------------------------------------------------ */

static void test_back_to_back(void)
{
    server_t s;
    server_start(&s);
    int fd = raw_connect(s.port);
    size_t l1, l2, l3;
    uint8_t *m1 = make_msg(8, 'a', &l1), *m2 = make_msg(0, 0, &l2),
            *m3 = make_msg(40000, 'c', &l3);
    uint8_t *all = malloc(l1 + l2 + l3);
    memcpy(all, m1, l1);
    memcpy(all + l1, m2, l2);
    memcpy(all + l1 + l2, m3, l3);
    CU_ASSERT_EQUAL(send(fd, all, l1 + l2 + l3, 0), (ssize_t)(l1 + l2 + l3));
    expect_echo(fd, m1, l1);
    expect_echo(fd, m2, l2);
    expect_echo(fd, m3, l3);
    free(all);
    free(m1);
    free(m2);
    free(m3);
    close(fd);
    server_stop(&s);
}

static void test_byte_by_byte(void)
{
    server_t s;
    server_start(&s);
    int fd = raw_connect(s.port);
    size_t len;
    uint8_t *m = make_msg(30, 'x', &len);
    for (int k = 0; k < 2; k++)
        for (size_t i = 0; i < len; i++)
            CU_ASSERT_EQUAL(send(fd, m + i, 1, 0), 1);
    expect_echo(fd, m, len);
    expect_echo(fd, m, len);
    CU_ASSERT_EQUAL(atomic_load(&s.delivered), 2);
    free(m);
    close(fd);
    server_stop(&s);
}

/* Bytes the listener refuses: MessageError, then the connection is
 * closed; other clients carry on. */
static void refused_bytes(const uint8_t *bytes, size_t n)
{
    server_t s;
    server_start(&s);
    int fd = raw_connect(s.port);
    CU_ASSERT_EQUAL(send(fd, bytes, n, 0), (ssize_t)n);
    uint8_t b[16];
    CU_ASSERT_EQUAL(read_n(fd, b, 12), 12);
    CU_ASSERT(memcmp(b, "GIOP", 4) == 0);
    CU_ASSERT_EQUAL(b[7], PHX_GIOP_MESSAGE_ERROR);
    CU_ASSERT_EQUAL(recv(fd, b, 1, 0), 0); /* EOF */
    close(fd);
    CU_ASSERT_EQUAL(atomic_load(&s.delivered), 0);
    int fd2 = raw_connect(s.port);
    size_t len;
    uint8_t *m = make_msg(4, 'o', &len);
    CU_ASSERT_EQUAL(send(fd2, m, len, 0), (ssize_t)len);
    expect_echo(fd2, m, len);
    free(m);
    close(fd2);
    server_stop(&s);
}

static void test_oversized(void)
{
    /* Big-endian size 0x7fffffff: refused before any allocation. */
    static const uint8_t h[12] = {'G', 'I', 'O', 'P', 1, 2, 0, 0,
                                  0x7f, 0xff, 0xff, 0xff};
    refused_bytes(h, sizeof h);
}

static void test_bad_fragments_and_magic(void)
{
    /* A Fragment of a message nobody started. */
    static const uint8_t orphan[16] = {'G', 'I', 'O', 'P', 1, 2, 0x01, 7,
                                       4,   0,   0,   0,   9, 0, 0,    0};
    refused_bytes(orphan, sizeof orphan);
    /* GIOP 1.1 fragments are not reassembled. */
    static const uint8_t v11[12] = {'G', 'I', 'O', 'P', 1, 1, 0x03, 0,
                                    8,   0,   0,   0};
    refused_bytes(v11, sizeof v11);
    static const uint8_t magic[12] = {'J', 'U', 'N', 'K', 1, 2, 0, 0,
                                      0,   0,   0,   0};
    refused_bytes(magic, sizeof magic);
}

/* A GIOP 1.2 message in three pieces (big-endian, so the reassembly
 * patches a big-endian size), sent byte by byte: delivered once, whole,
 * with the fragment flag cleared. */
static void test_reassembly(void)
{
    static const uint8_t first[20] = {'G', 'I', 'O', 'P', 1,   2,   0x02,
                                      0,   0,   0,   0,   8,   0,   0,
                                      0,   7,   'a', 'b', 'c', 'd'};
    static const uint8_t mid[24] = {'G', 'I', 'O', 'P', 1,   2,   0x02, 7,
                                    0,   0,   0,   12,  0,   0,   0,    7,
                                    'e', 'f', 'g', 'h', 'i', 'j', 'k',  'l'};
    static const uint8_t last[21] = {'G', 'I', 'O', 'P', 1,   2,   0x00,
                                     7,   0,   0,   0,   9,   0,   0,
                                     0,   7,   'm', 'n', 'o', 'p', 'q'};
    static const uint8_t whole[33] = {
        'G', 'I', 'O', 'P', 1,   2,   0x00, 0,   0,   0,   0,
        21,  0,   0,   0,   7,   'a', 'b',  'c', 'd', 'e', 'f',
        'g', 'h', 'i', 'j', 'k', 'l', 'm',  'n', 'o', 'p', 'q'};
    server_t s;
    server_start(&s);
    int fd = raw_connect(s.port);
    const uint8_t *parts[3] = {first, mid, last};
    size_t lens[3] = {sizeof first, sizeof mid, sizeof last};
    for (int p = 0; p < 3; p++)
        for (size_t i = 0; i < lens[p]; i++)
            CU_ASSERT_EQUAL(send(fd, parts[p] + i, 1, 0), 1);
    expect_echo(fd, whole, sizeof whole);
    CU_ASSERT_EQUAL(atomic_load(&s.delivered), 1);
    /* The connection still frames what follows. */
    size_t len;
    uint8_t *m = make_msg(3, 'z', &len);
    CU_ASSERT_EQUAL(send(fd, m, len, 0), (ssize_t)len);
    expect_echo(fd, m, len);
    free(m);
    close(fd);
    server_stop(&s);
}

/* Fragments that add up to more than max_message are refused. */
static void test_fragments_too_large(void)
{
    size_t big = MAX_MSG * 3 / 4;
    uint8_t *b = calloc(1, 20 + 2 * (16 + big));
    static const uint8_t first[20] = {'G', 'I', 'O', 'P', 1, 2, 0x03, 0,
                                      8,   0,   0,   0,   5, 0, 0,    0,
                                      1,   2,   3,   4};
    memcpy(b, first, sizeof first);
    size_t off = sizeof first;
    for (int k = 0; k < 2; k++) {
        uint32_t sz = (uint32_t)(4 + big);
        uint8_t h[16] = {'G', 'I', 'O', 'P', 1, 2, 0x03, 7,
                         (uint8_t)sz, (uint8_t)(sz >> 8),
                         (uint8_t)(sz >> 16), (uint8_t)(sz >> 24),
                         5, 0, 0, 0};
        memcpy(b + off, h, sizeof h);
        off += sizeof h + big;
    }
    refused_bytes(b, off);
    free(b);
}

static void test_peer_leaves_mid_message(void)
{
    server_t s;
    server_start(&s);
    size_t len;
    uint8_t *m = make_msg(1000, 'p', &len);
    int fd = raw_connect(s.port);
    CU_ASSERT_EQUAL(send(fd, m, len / 2, 0), (ssize_t)(len / 2));
    close(fd);
    int fd2 = raw_connect(s.port);
    CU_ASSERT_EQUAL(send(fd2, m, len, 0), (ssize_t)len);
    expect_echo(fd2, m, len);
    CU_ASSERT_EQUAL(atomic_load(&s.delivered), 1);
    close(fd2);
    free(m);
    server_stop(&s);
}

static void *client_new(void **t, const char *ep, void **conn)
{
    phx_transport_config_t cfg = {.max_message = MAX_MSG,
                                  .connect_timeout_ms = 2000};
    CU_ASSERT_EQUAL_FATAL(T->init(&cfg, t, NULL), PHX_OK);
    CU_ASSERT_EQUAL_FATAL(T->conn_open(*t, ep, conn, NULL), PHX_OK);
    return *conn;
}

static int send_copy(void *conn, const uint8_t *m, size_t len)
{
    phx_buf_t b = {malloc(len), len, NULL, NULL};
    memcpy(b.data, m, len);
    int rc = T->conn_send(conn, &b, phx_now_us() + WAIT_US, NULL);
    if (rc != PHX_OK)
        phx_buf_dispose(&b);
    return rc;
}

static void test_client_round_trip(void)
{
    server_t s;
    server_start(&s);
    void *t, *c;
    client_new(&t, s.ep, &c);
    size_t sizes[] = {0, 10, 100000, 1 << 20};
    for (size_t i = 0; i < 4; i++) {
        size_t len;
        uint8_t *m = make_msg(sizes[i], 'r', &len);
        CU_ASSERT_EQUAL(send_copy(c, m, len), PHX_OK);
        phx_inmsg_t in;
        CU_ASSERT_EQUAL_FATAL(
            T->conn_recv(c, &in, phx_now_us() + WAIT_US, NULL), PHX_OK);
        CU_ASSERT_EQUAL(in.len, len);
        CU_ASSERT(memcmp(in.data, m, len) == 0);
        phx_inmsg_release(&in);
        free(m);
    }
    /* Nothing more: a zero deadline does not wait. */
    phx_inmsg_t in;
    CU_ASSERT_EQUAL(T->conn_recv(c, &in, 0, NULL), PHX_ETIMEDOUT);
    CU_ASSERT_EQUAL(T->conn_epoch(c), 0);
    T->conn_close(c);
    T->fini(t);
    server_stop(&s);
}

static void test_refused_connect(void)
{
    /* A port nobody listens on: one that was just released. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    bind(fd, (struct sockaddr *)&a, sizeof a);
    getsockname(fd, (struct sockaddr *)&a, &al);
    close(fd);
    char ep[64];
    snprintf(ep, sizeof ep, "iiop://127.0.0.1:%u", ntohs(a.sin_port));
    void *t, *c;
    client_new(&t, ep, &c);
    size_t len;
    uint8_t *m = make_msg(4, 'r', &len);
    CU_ASSERT_EQUAL(send_copy(c, m, len), PHX_ECONNREFUSED);
    CU_ASSERT_EQUAL(send_copy(c, m, len), PHX_ECONNREFUSED);
    free(m);
    T->conn_close(c);
    T->fini(t);

    /* Bad endpoints. */
    char *h;
    uint16_t p;
    CU_ASSERT_EQUAL(phx__iiop_parse_endpoint("iiop://[::1]:99", &h, &p),
                    PHX_OK);
    CU_ASSERT_STRING_EQUAL(h, "::1");
    CU_ASSERT_EQUAL(p, 99);
    free(h);
    CU_ASSERT_EQUAL(phx__iiop_parse_endpoint("iiop://host", &h, &p),
                    PHX_EINVAL);
    CU_ASSERT_EQUAL(phx__iiop_parse_endpoint("iiop://h:70000", &h, &p),
                    PHX_EINVAL);
    CU_ASSERT_EQUAL(phx__iiop_parse_endpoint("tcp://h:1", &h, &p),
                    PHX_EINVAL);
}

static void test_timeout_and_server_gone(void)
{
    server_t s;
    server_start(&s);
    void *t, *c;
    client_new(&t, s.ep, &c);
    size_t len;
    uint8_t *m = make_msg(16, 'H', &len);
    CU_ASSERT_EQUAL(send_copy(c, m, len), PHX_OK);
    phx_inmsg_t in;
    int64_t t0 = phx_now_us();
    CU_ASSERT_EQUAL(T->conn_recv(c, &in, t0 + 50000, NULL), PHX_ETIMEDOUT);
    CU_ASSERT(phx_now_us() - t0 >= 50000);
    /* The server goes away while the call waits for its reply. */
    server_stop(&s);
    CU_ASSERT_EQUAL(T->conn_recv(c, &in, phx_now_us() + WAIT_US, NULL),
                    PHX_ECLOSED);
    CU_ASSERT_EQUAL(T->conn_epoch(c), 1);
    /* Reported once; the next send reconnects, and nobody is there. */
    CU_ASSERT_EQUAL(send_copy(c, m, len), PHX_ECONNREFUSED);

    /* A new server at another port; a restarted one is reached at once
     * by a new connection. */
    server_t s2;
    server_start(&s2);
    void *c2;
    CU_ASSERT_EQUAL_FATAL(T->conn_open(t, s2.ep, &c2, NULL), PHX_OK);
    free(m);
    m = make_msg(16, 'e', &len);
    CU_ASSERT_EQUAL(send_copy(c2, m, len), PHX_OK);
    CU_ASSERT_EQUAL(T->conn_recv(c2, &in, phx_now_us() + WAIT_US, NULL),
                    PHX_OK);
    CU_ASSERT_EQUAL(in.len, len);
    phx_inmsg_release(&in);
    free(m);
    T->conn_close(c2);
    T->conn_close(c);
    T->fini(t);
    server_stop(&s2);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("iiop transport", NULL, NULL);
    if (s == NULL || !CU_add_test(s, "back to back", test_back_to_back) ||
        !CU_add_test(s, "byte by byte", test_byte_by_byte) ||
        !CU_add_test(s, "oversized header", test_oversized) ||
        !CU_add_test(s, "bad fragments and magic",
                     test_bad_fragments_and_magic) ||
        !CU_add_test(s, "fragment reassembly", test_reassembly) ||
        !CU_add_test(s, "fragments beyond max_message",
                     test_fragments_too_large) ||
        !CU_add_test(s, "peer leaves mid-message",
                     test_peer_leaves_mid_message) ||
        !CU_add_test(s, "client round trip", test_client_round_trip) ||
        !CU_add_test(s, "refused connect", test_refused_connect) ||
        !CU_add_test(s, "timeout and server gone",
                     test_timeout_and_server_gone)) {
        CU_cleanup_registry();
        return 1;
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
