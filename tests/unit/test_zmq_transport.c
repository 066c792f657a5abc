/*
 * test_zmq_transport.c - the ZeroMQ transport (orb/transport/zmq) driven
 * through phx_transport_ops_t: listeners served by an event-loop thread,
 * replies from that thread and from others, connection set-up, refusal,
 * timeouts, loss and reconnection, size limits and malformed input.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CUnit/Basic.h>
#include <zmq.h>

#include <phx/error.h>
#include <phx/ior.h>
#include <phx/log.h>
#include <phx/transport.h>

#include "../../orb/transport/zmq/zmq_transport.h"

static const phx_transport_ops_t *const T = &phx__zmq_transport;

/* Upper bound for anything a test waits for; never reached when the
 * transport behaves. */
#define WAIT_US (5 * 1000000LL)

static int64_t in_us(int64_t us)
{
    return phx_now_us() + us;
}

static phx_transport_config_t config(void *ctx, size_t max_message)
{
    return (phx_transport_config_t){
        .zmq_ctx = ctx,
        .max_message = max_message,
        .connect_timeout_ms = 5000,
    };
}

/* ------------------------------------------------------------------ */
/* A server: one transport instance, an event-loop thread, optional     */
/* worker threads.                                                      */
/* ------------------------------------------------------------------ */

typedef enum {
    ECHO_LOOP,   /* the event loop replies itself */
    ECHO_WORKER, /* worker threads reply */
    HOLD         /* requests are kept for the test to handle */
} serve_mode_t;

#define MAX_WORKERS 2
#define QUEUE_MAX 4096

typedef struct server {
    void *st;
    char *bound;
    serve_mode_t mode;
    pthread_t loop;
    int wake[2];
    atomic_bool stop;
    atomic_int delivered;

    pthread_mutex_t mu;
    pthread_cond_t cv;
    phx_inmsg_t queue[QUEUE_MAX];
    size_t qhead, qlen;
    bool workers_stop;
    pthread_t workers[MAX_WORKERS];
    int nworkers;
} server_t;

/* Buffers disposed of through a free function: how many so far. */
static atomic_int freed;

static void free_base(void *data, void *hint)
{
    (void)data;
    free(hint);
    atomic_fetch_add(&freed, 1);
}

/* A buffer whose data starts inside a larger block, as the ORB builds
 * them (room for a header in front). */
static phx_buf_t inner_buf(const void *data, size_t len)
{
    uint8_t *base = malloc(len + 16);
    memcpy(base + 16, data, len);
    return (phx_buf_t){.data = base + 16, .len = len, .free_fn = free_base,
                       .hint = base};
}

static void echo(void *st, phx_inmsg_t *m)
{
    phx_buf_t b = inner_buf(m->data, m->len);
    phx_error_t err;
    if (T->send_reply(st, m, &b, &err) != PHX_OK) {
        fprintf(stderr, "echo: %s\n", err.msg);
        phx_buf_dispose(&b);
    }
    phx_inmsg_release(m);
}

static void deliver(void *arg, phx_inmsg_t *m)
{
    server_t *s = arg;
    atomic_fetch_add(&s->delivered, 1);
    if (s->mode == ECHO_LOOP) {
        echo(s->st, m);
        return;
    }
    pthread_mutex_lock(&s->mu);
    if (s->qlen == QUEUE_MAX) {
        pthread_mutex_unlock(&s->mu);
        phx_inmsg_release(m);
        return;
    }
    s->queue[(s->qhead + s->qlen++) % QUEUE_MAX] = *m;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

static void *loop_main(void *arg)
{
    server_t *s = arg;
    zmq_pollitem_t items[8];
    phx_pollable_t pl[7];
    while (!atomic_load(&s->stop)) {
        size_t n = T->pollables(s->st, pl, 7);
        if (n > 7)
            n = 7;
        items[0] = (zmq_pollitem_t){NULL, s->wake[0], ZMQ_POLLIN, 0};
        for (size_t i = 0; i < n; i++)
            items[i + 1] =
                (zmq_pollitem_t){pl[i].zsock, pl[i].fd, ZMQ_POLLIN, 0};
        int rc = zmq_poll(items, (int)n + 1, 1000);
        if (rc < 0)
            continue;
        if (rc == 0) {
            T->on_readable(s->st, SIZE_MAX);
            continue;
        }
        if (items[0].revents) {
            char b[16];
            ssize_t r = read(s->wake[0], b, sizeof b);
            (void)r;
        }
        for (size_t i = 0; i < n; i++)
            if (items[i + 1].revents)
                T->on_readable(s->st, i);
    }
    return NULL;
}

/* Pop a queued request, waiting until deadline; false on timeout. */
static bool server_pop(server_t *s, phx_inmsg_t *out, int64_t deadline)
{
    pthread_mutex_lock(&s->mu);
    while (s->qlen == 0 && !s->workers_stop && phx_now_us() < deadline) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 20 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&s->cv, &s->mu, &ts);
    }
    bool got = s->qlen > 0;
    if (got) {
        *out = s->queue[s->qhead];
        s->qhead = (s->qhead + 1) % QUEUE_MAX;
        s->qlen--;
    }
    pthread_mutex_unlock(&s->mu);
    return got;
}

static void *worker_main(void *arg)
{
    server_t *s = arg;
    for (;;) {
        phx_inmsg_t m;
        pthread_mutex_lock(&s->mu);
        while (s->qlen == 0 && !s->workers_stop)
            pthread_cond_wait(&s->cv, &s->mu);
        if (s->qlen == 0) {
            pthread_mutex_unlock(&s->mu);
            return NULL;
        }
        m = s->queue[s->qhead];
        s->qhead = (s->qhead + 1) % QUEUE_MAX;
        s->qlen--;
        pthread_mutex_unlock(&s->mu);
        echo(s->st, &m);
    }
}

/* Start serving endpoint; st may be an existing instance (owned by the
 * server from now on) or NULL to create one from cfg. */
static bool server_start(server_t *s, const phx_transport_config_t *cfg,
                         const char *endpoint, serve_mode_t mode,
                         int nworkers)
{
    memset(s, 0, sizeof *s);
    s->mode = mode;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    phx_error_t err;
    if (T->init(cfg, &s->st, &err) != PHX_OK) {
        fprintf(stderr, "init: %s\n", err.msg);
        return false;
    }
    if (T->listen(s->st, endpoint, &s->bound, deliver, s, &err) != PHX_OK) {
        fprintf(stderr, "listen %s: %s\n", endpoint, err.msg);
        T->fini(s->st);
        return false;
    }
    if (pipe(s->wake) != 0)
        return false;
    pthread_create(&s->loop, NULL, loop_main, s);
    s->nworkers = nworkers;
    for (int i = 0; i < nworkers; i++)
        pthread_create(&s->workers[i], NULL, worker_main, s);
    return true;
}

static void server_stop(server_t *s)
{
    atomic_store(&s->stop, true);
    ssize_t r = write(s->wake[1], "x", 1);
    (void)r;
    pthread_join(s->loop, NULL);
    pthread_mutex_lock(&s->mu);
    s->workers_stop = true;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    for (int i = 0; i < s->nworkers; i++)
        pthread_join(s->workers[i], NULL);
    while (s->qlen) {
        phx_inmsg_release(&s->queue[s->qhead]);
        s->qhead = (s->qhead + 1) % QUEUE_MAX;
        s->qlen--;
    }
    T->fini(s->st);
    free(s->bound);
    close(s->wake[0]);
    close(s->wake[1]);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
}

/* ------------------------------------------------------------------ */
/* Client helpers                                                       */
/* ------------------------------------------------------------------ */

static int send_bytes(void *c, const void *data, size_t len, int64_t dl)
{
    phx_buf_t b = {.data = malloc(len ? len : 1), .len = len};
    memcpy(b.data, data, len);
    phx_error_t err;
    int rc = T->conn_send(c, &b, dl, &err);
    if (rc != PHX_OK) {
        CU_ASSERT_PTR_NOT_NULL(b.data); /* still ours */
        free(b.data);
    } else {
        CU_ASSERT_PTR_NULL(b.data);
    }
    return rc;
}

static int send_str(void *c, const char *s)
{
    return send_bytes(c, s, strlen(s), 0);
}

/* Receive one message and compare it with data/len. */
static int recv_expect(void *c, const void *data, size_t len, int64_t dl)
{
    phx_inmsg_t m;
    phx_error_t err;
    int rc = T->conn_recv(c, &m, dl, &err);
    if (rc != PHX_OK)
        return rc;
    CU_ASSERT_PTR_NULL(m.route);
    CU_ASSERT_EQUAL(m.len, len);
    CU_ASSERT(m.len == len && memcmp(m.data, data, len) == 0);
    phx_inmsg_release(&m);
    return PHX_OK;
}

static int recv_str(void *c, const char *s)
{
    return recv_expect(c, s, strlen(s), in_us(WAIT_US));
}

static uint8_t *pattern(size_t len, unsigned seed)
{
    uint8_t *p = malloc(len);
    for (size_t i = 0; i < len; i++)
        p[i] = (uint8_t)(i * 31 + seed);
    return p;
}

/* Round trips of a small and a large (zero-copy) message on endpoint. */
static void roundtrip(void *cst, const char *endpoint)
{
    void *c = NULL;
    phx_error_t err;
    CU_ASSERT_EQUAL_FATAL(T->conn_open(cst, endpoint, &c, &err), PHX_OK);
    CU_ASSERT_EQUAL(send_str(c, "hello"), PHX_OK);
    CU_ASSERT_EQUAL(recv_str(c, "hello"), PHX_OK);
    size_t big = 256 * 1024;
    uint8_t *p = pattern(big, 7);
    CU_ASSERT_EQUAL(send_bytes(c, p, big, 0), PHX_OK);
    CU_ASSERT_EQUAL(recv_expect(c, p, big, in_us(WAIT_US)), PHX_OK);
    CU_ASSERT_EQUAL(send_bytes(c, p, 0, 0), PHX_OK);
    CU_ASSERT_EQUAL(recv_expect(c, p, 0, in_us(WAIT_US)), PHX_OK);
    free(p);
    CU_ASSERT_EQUAL(T->conn_epoch(c), 0);
    T->conn_close(c);
}

/* ------------------------------------------------------------------ */
/* Tests                                                                */
/* ------------------------------------------------------------------ */

static void test_ops_basics(void)
{
    CU_ASSERT_STRING_EQUAL(T->name, "zmq");
    CU_ASSERT_EQUAL(T->profile_tag, PHX_TAG_ZMQ_IOP);
    CU_ASSERT_EQUAL(T->profile_tag, 0x50485801u);
    CU_ASSERT(T->handles("tcp://127.0.0.1:5555"));
    CU_ASSERT(T->handles("ipc:///tmp/x"));
    CU_ASSERT(T->handles("inproc://x"));
    CU_ASSERT(!T->handles("iiop://host:1"));
    CU_ASSERT(!T->handles("tcp:/x"));
    CU_ASSERT(!T->handles(""));
    CU_ASSERT(!T->handles(NULL));
    CU_ASSERT_PTR_NOT_NULL(T->drop_peer);
    T->fini(NULL);

    phx_error_t err;
    void *st = NULL;
    CU_ASSERT_EQUAL(T->init(NULL, &st, &err), PHX_EINVAL);
    CU_ASSERT_PTR_NULL(st);
    phx_transport_config_t cfg = config(NULL, 1 << 20);
    CU_ASSERT_EQUAL_FATAL(T->init(&cfg, &st, &err), PHX_OK);
    CU_ASSERT_EQUAL(T->pollables(st, NULL, 0), 0);
    char *bound = NULL;
    CU_ASSERT_EQUAL(T->listen(st, "http://x", &bound, deliver, NULL, &err),
                    PHX_EINVAL);
    CU_ASSERT_EQUAL(T->listen(st, "tcp://300.1.1.1:1", &bound, deliver, NULL,
                              &err),
                    PHX_EINVAL);
    CU_ASSERT_PTR_NULL(bound);
    void *c = NULL;
    CU_ASSERT_EQUAL(T->conn_open(st, "udp://x", &c, &err), PHX_EINVAL);
    CU_ASSERT_EQUAL(T->conn_open(st, "tcp://no-port", &c, &err), PHX_EINVAL);
    CU_ASSERT_PTR_NULL(c);

    /* Two listeners: pollables are the reply socket plus both ROUTERs. */
    server_t dummy;
    memset(&dummy, 0, sizeof dummy);
    CU_ASSERT_EQUAL(T->listen(st, "tcp://127.0.0.1:*", &bound, deliver,
                              &dummy, &err),
                    PHX_OK);
    char *bound2 = NULL;
    CU_ASSERT_EQUAL(T->listen(st, "ipc://*", &bound2, deliver, &dummy, &err),
                    PHX_OK);
    /* The same endpoint twice is refused. */
    CU_ASSERT_EQUAL(T->listen(st, bound, NULL, deliver, &dummy, &err),
                    PHX_EEXIST);
    phx_pollable_t pl[4];
    CU_ASSERT_EQUAL(T->pollables(st, NULL, 0), 3);
    CU_ASSERT_EQUAL(T->pollables(st, pl, 1), 3);
    CU_ASSERT_EQUAL(T->pollables(st, pl, 4), 3);
    CU_ASSERT(pl[0].zsock == NULL && pl[0].fd >= 0);
    CU_ASSERT(pl[1].zsock != NULL && pl[2].zsock != NULL);
    T->on_readable(st, SIZE_MAX); /* housekeeping with nothing to do */
    T->on_readable(st, 1);
    T->on_readable(st, 99);

    /* Connections left open are closed by fini. */
    CU_ASSERT_EQUAL(T->conn_open(st, bound, &c, &err), PHX_OK);
    CU_ASSERT_EQUAL(T->conn_open(st, "tcp://127.0.0.1:1", &c, &err), PHX_OK);
    CU_ASSERT_EQUAL(T->conn_open(st, "inproc://nobody", &c, &err), PHX_OK);
    free(bound);
    free(bound2);
    T->fini(st);
}

static void test_tcp_roundtrip(void)
{
    server_t s;
    phx_transport_config_t cfg = config(NULL, 1 << 20);
    CU_ASSERT_FATAL(
        server_start(&s, &cfg, "tcp://127.0.0.1:*", ECHO_LOOP, 0));
    CU_ASSERT(strncmp(s.bound, "tcp://127.0.0.1:", 16) == 0);
    CU_ASSERT_PTR_NULL(strchr(s.bound, '*'));
    CU_ASSERT(atoi(s.bound + 16) > 0);

    void *cst;
    phx_error_t err;
    CU_ASSERT_EQUAL_FATAL(T->init(&cfg, &cst, &err), PHX_OK);
    roundtrip(cst, s.bound);
    T->fini(cst);
    server_stop(&s);
}

static void test_ipc_roundtrip(void)
{
    server_t s;
    phx_transport_config_t cfg = config(NULL, 1 << 20);
    CU_ASSERT_FATAL(server_start(&s, &cfg, "ipc://*", ECHO_LOOP, 0));
    CU_ASSERT(strncmp(s.bound, "ipc://", 6) == 0);
    CU_ASSERT_PTR_NULL(strchr(s.bound, '*'));
    void *cst;
    phx_error_t err;
    CU_ASSERT_EQUAL_FATAL(T->init(&cfg, &cst, &err), PHX_OK);
    roundtrip(cst, s.bound);
    T->fini(cst);
    server_stop(&s);
}

static void test_inproc_roundtrip(void)
{
    /* inproc needs one context: both instances share the caller's. */
    void *ctx = zmq_ctx_new();
    phx_transport_config_t cfg = config(ctx, 1 << 20);
    char ep[64];
    snprintf(ep, sizeof ep, "inproc://phx-test-%ld", (long)getpid());

    void *cst;
    phx_error_t err;
    CU_ASSERT_EQUAL_FATAL(T->init(&cfg, &cst, &err), PHX_OK);
    /* Connecting before anything listens: the request waits for it. */
    void *early;
    CU_ASSERT_EQUAL_FATAL(T->conn_open(cst, ep, &early, &err), PHX_OK);
    CU_ASSERT_EQUAL(send_str(early, "early"), PHX_OK);

    server_t s;
    CU_ASSERT_FATAL(server_start(&s, &cfg, ep, ECHO_LOOP, 0));
    CU_ASSERT_STRING_EQUAL(s.bound, ep);
    CU_ASSERT_EQUAL(recv_str(early, "early"), PHX_OK);
    T->conn_close(early);
    roundtrip(cst, s.bound);
    T->fini(cst);
    server_stop(&s);
    zmq_ctx_term(ctx);
}

static void *reply_once(void *arg)
{
    void **a = arg;
    phx_inmsg_t *m = a[1];
    echo(a[0], m);
    return NULL;
}

static void test_reply_from_other_threads(void)
{
    server_t s;
    phx_transport_config_t cfg = config(NULL, 1 << 20);
    CU_ASSERT_FATAL(
        server_start(&s, &cfg, "tcp://127.0.0.1:*", ECHO_WORKER, 2));
    void *cst, *c;
    phx_error_t err;
    CU_ASSERT_EQUAL_FATAL(T->init(&cfg, &cst, &err), PHX_OK);
    CU_ASSERT_EQUAL_FATAL(T->conn_open(cst, s.bound, &c, &err), PHX_OK);

    /* Requests pipelined; two workers reply, so order may vary. */
    enum { N = 300 };
    bool seen[N] = {false};
    for (uint32_t i = 0; i < N; i++) {
        size_t len = i % 10 == 0 ? 4096 : 16;
        uint8_t *p = pattern(len, i);
        memcpy(p, &i, sizeof i);
        CU_ASSERT_EQUAL(send_bytes(c, p, len, 0), PHX_OK);
        free(p);
    }
    for (int k = 0; k < N; k++) {
        phx_inmsg_t m;
        int rc = T->conn_recv(c, &m, in_us(WAIT_US), &err);
        CU_ASSERT_EQUAL_FATAL(rc, PHX_OK);
        uint32_t i;
        CU_ASSERT_FATAL(m.len >= sizeof i);
        memcpy(&i, m.data, sizeof i);
        CU_ASSERT_FATAL(i < N);
        size_t len = i % 10 == 0 ? 4096 : 16;
        uint8_t *p = pattern(len, i);
        memcpy(p, &i, sizeof i);
        CU_ASSERT(m.len == len && memcmp(m.data, p, len) == 0);
        free(p);
        CU_ASSERT(!seen[i]);
        seen[i] = true;
        phx_inmsg_release(&m);
    }
    T->conn_close(c);
    T->fini(cst);
    server_stop(&s);

    /* A thread that replies once and exits: its reply socket goes with
     * it, the reply still arrives. */
    CU_ASSERT_FATAL(server_start(&s, &cfg, "tcp://127.0.0.1:*", HOLD, 0));
    CU_ASSERT_EQUAL_FATAL(T->init(&cfg, &cst, &err), PHX_OK);
    CU_ASSERT_EQUAL_FATAL(T->conn_open(cst, s.bound, &c, &err), PHX_OK);
    for (int round = 0; round < 3; round++) {
        CU_ASSERT_EQUAL(send_str(c, "short-lived"), PHX_OK);
        phx_inmsg_t m;
        CU_ASSERT_FATAL(server_pop(&s, &m, in_us(WAIT_US)));
        CU_ASSERT_PTR_NOT_NULL(m.route);
        pthread_t th;
        void *a[2] = {s.st, &m};
        pthread_create(&th, NULL, reply_once, a);
        pthread_join(th, NULL);
        CU_ASSERT_EQUAL(recv_str(c, "short-lived"), PHX_OK);
    }
    /* Replies over the size limit are refused; the buffer stays ours. */
    CU_ASSERT_EQUAL(send_str(c, "too big a reply"), PHX_OK);
    phx_inmsg_t m;
    CU_ASSERT_FATAL(server_pop(&s, &m, in_us(WAIT_US)));
    phx_buf_t b = {.data = malloc((1 << 20) + 1), .len = (1 << 20) + 1};
    CU_ASSERT_EQUAL(T->send_reply(s.st, &m, &b, &err), PHX_ELIMIT);
    CU_ASSERT_PTR_NOT_NULL(b.data);
    free(b.data);
    /* A reply to a client request is not a listener's business. */
    phx_inmsg_t fake = {0};
    phx_buf_t small = {.data = NULL, .len = 0};
    CU_ASSERT_EQUAL(T->send_reply(s.st, &fake, &small, &err), PHX_EINVAL);
    T->drop_peer(s.st, &m); /* logs; the peer stays */
    echo(s.st, &m);
    CU_ASSERT_EQUAL(recv_str(c, "too big a reply"), PHX_OK);
    T->conn_close(c);
    T->fini(cst);
    server_stop(&s);
}

/* An endpoint where nothing listens: bind a port, then free it. */
static char *dead_endpoint(void)
{
    void *st;
    phx_transport_config_t cfg = config(NULL, 1 << 20);
    char *bound = NULL;
    if (T->init(&cfg, &st, NULL) != PHX_OK)
        return NULL;
    server_t dummy;
    if (T->listen(st, "tcp://127.0.0.1:*", &bound, deliver, &dummy, NULL) !=
        PHX_OK)
        bound = NULL;
    T->fini(st);
    return bound;
}

/* With a context shared with others, closing a socket is asynchronous;
 * fini still returns only once its listeners are really gone. */
static void test_fini_releases_listeners(void)
{
    void *ctx = zmq_ctx_new();
    phx_transport_config_t cfg = config(ctx, 1 << 20);
    void *cst;
    phx_error_t err;
    CU_ASSERT_EQUAL_FATAL(T->init(&cfg, &cst, &err), PHX_OK);
    const char *eps[] = {"tcp://127.0.0.1:*", "ipc://*"};
    for (int round = 0; round < 20; round++) {
        for (int k = 0; k < 2; k++) {
            void *st;
            char *bound = NULL;
            server_t dummy;
            CU_ASSERT_EQUAL_FATAL(T->init(&cfg, &st, &err), PHX_OK);
            CU_ASSERT_EQUAL_FATAL(T->listen(st, eps[k], &bound, deliver,
                                            &dummy, &err),
                                  PHX_OK);
            T->fini(st);
            void *c;
            CU_ASSERT_EQUAL_FATAL(T->conn_open(cst, bound, &c, &err), PHX_OK);
            int rc = send_str(c, "anyone?");
            if (rc != PHX_ECONNREFUSED)
                fprintf(stderr, "%s still answered after fini (%s)\n", bound,
                        phx_errname(rc));
            CU_ASSERT_EQUAL(rc, PHX_ECONNREFUSED);
            T->conn_close(c);
            free(bound);
        }
    }
    T->fini(cst);
    zmq_ctx_term(ctx);
}

static void test_connection_refused(void)
{
    char *ep = dead_endpoint();
    CU_ASSERT_PTR_NOT_NULL_FATAL(ep);
    phx_transport_config_t cfg = config(NULL, 1 << 20);
    void *cst, *c;
    phx_error_t err;
    CU_ASSERT_EQUAL_FATAL(T->init(&cfg, &cst, &err), PHX_OK);
    CU_ASSERT_EQUAL_FATAL(T->conn_open(cst, ep, &c, &err), PHX_OK);
    /* Small (copied) and large (zero-copy) messages both come back. */
    size_t sizes[] = {10, 8192, 10};
    for (int i = 0; i < 3; i++) {
        uint8_t *p = pattern(sizes[i], 1);
        int64_t t0 = phx_now_us();
        CU_ASSERT_EQUAL(send_bytes(c, p, sizes[i], 0), PHX_ECONNREFUSED);
        int64_t took = phx_now_us() - t0;
        /* connect_timeout_ms is 5000: refusal is far quicker. */
        CU_ASSERT(took < 1000 * 1000);
        free(p);
    }
    CU_ASSERT_EQUAL(T->conn_epoch(c), 0);
    T->conn_close(c);

    char ipc[128];
    snprintf(ipc, sizeof ipc, "ipc:///tmp/phx-test-nobody-%ld",
             (long)getpid());
    CU_ASSERT_EQUAL_FATAL(T->conn_open(cst, ipc, &c, &err), PHX_OK);
    int64_t t0 = phx_now_us();
    CU_ASSERT_EQUAL(send_str(c, "x"), PHX_ECONNREFUSED);
    CU_ASSERT(phx_now_us() - t0 < 1000 * 1000);
    T->conn_close(c);
    T->fini(cst);
    free(ep);
}

/* Wait until freed reaches n (it may be reached from libzmq's I/O thread). */
static bool freed_reaches(int n)
{
    int64_t until = in_us(WAIT_US);
    while (atomic_load(&freed) < n && phx_now_us() < until)
        sched_yield();
    return atomic_load(&freed) == n;
}

static void test_buffer_ownership(void)
{
    server_t s;
    phx_transport_config_t cfg = config(NULL, 1 << 20);
    CU_ASSERT_FATAL(server_start(&s, &cfg, "tcp://127.0.0.1:*", HOLD, 0));
    void *cst, *c, *dead;
    phx_error_t err;
    CU_ASSERT_EQUAL_FATAL(T->init(&cfg, &cst, &err), PHX_OK);
    CU_ASSERT_EQUAL_FATAL(T->conn_open(cst, s.bound, &c, &err), PHX_OK);
    char *ep = dead_endpoint();
    CU_ASSERT_PTR_NOT_NULL_FATAL(ep);
    CU_ASSERT_EQUAL_FATAL(T->conn_open(cst, ep, &dead, &err), PHX_OK);

    size_t sizes[] = {100, 64 * 1024};
    for (int i = 0; i < 2; i++) {
        uint8_t *p = pattern(sizes[i], 5);
        atomic_store(&freed, 0);
        /* Failure: the buffer is untouched and still the caller's. */
        phx_buf_t b = inner_buf(p, sizes[i]);
        CU_ASSERT_EQUAL(T->conn_send(dead, &b, 0, &err), PHX_ECONNREFUSED);
        CU_ASSERT_EQUAL(atomic_load(&freed), 0);
        CU_ASSERT(b.data != NULL && memcmp(b.data, p, sizes[i]) == 0);
        /* Success: disposed of exactly once, through free_fn. */
        CU_ASSERT_EQUAL(T->conn_send(c, &b, 0, &err), PHX_OK);
        CU_ASSERT_PTR_NULL(b.data);
        phx_inmsg_t m;
        CU_ASSERT_FATAL(server_pop(&s, &m, in_us(WAIT_US)));
        CU_ASSERT(m.len == sizes[i] && memcmp(m.data, p, sizes[i]) == 0);
        CU_ASSERT(freed_reaches(1));
        /* A reply from this (non event-loop) thread, same rules. */
        echo(s.st, &m);
        CU_ASSERT_EQUAL(recv_expect(c, p, sizes[i], in_us(WAIT_US)), PHX_OK);
        CU_ASSERT(freed_reaches(2));
        free(p);
    }
    T->conn_close(dead);
    T->conn_close(c);
    T->fini(cst);
    server_stop(&s);
    free(ep);
}

static void test_timeouts(void)
{
    /* A TCP port that accepts connections but never speaks ZMTP: the
     * handshake cannot complete, nothing is refused. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    CU_ASSERT_FATAL(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    CU_ASSERT_FATAL(bind(fd, (struct sockaddr *)&a, sizeof a) == 0);
    CU_ASSERT_FATAL(listen(fd, 8) == 0);
    CU_ASSERT_FATAL(getsockname(fd, (struct sockaddr *)&a, &alen) == 0);
    char ep[64];
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%u", ntohs(a.sin_port));

    phx_transport_config_t cfg = config(NULL, 1 << 20);
    cfg.connect_timeout_ms = 300;
    void *cst, *c;
    phx_error_t err;
    CU_ASSERT_EQUAL_FATAL(T->init(&cfg, &cst, &err), PHX_OK);
    CU_ASSERT_EQUAL_FATAL(T->conn_open(cst, ep, &c, &err), PHX_OK);
    int64_t t0 = phx_now_us();
    CU_ASSERT_EQUAL(send_bytes(c, "abc", 3, in_us(200 * 1000)),
                    PHX_ETIMEDOUT);
    int64_t took = phx_now_us() - t0;
    CU_ASSERT(took >= 200 * 1000 && took < 2000 * 1000);
    /* deadline 0: connect_timeout_ms (300 ms) from now. */
    uint8_t *p = pattern(4096, 3);
    t0 = phx_now_us();
    CU_ASSERT_EQUAL(send_bytes(c, p, 4096, 0), PHX_ETIMEDOUT);
    took = phx_now_us() - t0;
    CU_ASSERT(took >= 300 * 1000 && took < 2000 * 1000);
    free(p);

    /* conn_recv: an absolute deadline, and 0 = do not wait. */
    phx_inmsg_t m;
    t0 = phx_now_us();
    CU_ASSERT_EQUAL(T->conn_recv(c, &m, in_us(50 * 1000), &err),
                    PHX_ETIMEDOUT);
    took = phx_now_us() - t0;
    CU_ASSERT(took >= 50 * 1000 && took < 2000 * 1000);
    t0 = phx_now_us();
    CU_ASSERT_EQUAL(T->conn_recv(c, &m, 0, &err), PHX_ETIMEDOUT);
    CU_ASSERT(phx_now_us() - t0 < 500 * 1000);
    CU_ASSERT_EQUAL(T->conn_epoch(c), 0);
    T->conn_close(c);
    T->fini(cst);
    close(fd);
}

static void test_loss_and_reconnect(void)
{
    server_t s;
    phx_transport_config_t cfg = config(NULL, 1 << 20);
    CU_ASSERT_FATAL(server_start(&s, &cfg, "tcp://127.0.0.1:*", HOLD, 0));
    char *ep = strdup(s.bound);
    void *cst, *c;
    phx_error_t err;
    CU_ASSERT_EQUAL_FATAL(T->init(&cfg, &cst, &err), PHX_OK);
    CU_ASSERT_EQUAL_FATAL(T->conn_open(cst, ep, &c, &err), PHX_OK);

    /* A request is in flight when the listener goes away. */
    CU_ASSERT_EQUAL(send_str(c, "lost"), PHX_OK);
    phx_inmsg_t held;
    CU_ASSERT_FATAL(server_pop(&s, &held, in_us(WAIT_US)));
    phx_inmsg_release(&held);
    CU_ASSERT_EQUAL(T->conn_epoch(c), 0);
    server_stop(&s);

    phx_inmsg_t m;
    int64_t t0 = phx_now_us();
    CU_ASSERT_EQUAL(T->conn_recv(c, &m, in_us(WAIT_US), &err), PHX_ECLOSED);
    CU_ASSERT(phx_now_us() - t0 < WAIT_US);
    CU_ASSERT_EQUAL(T->conn_epoch(c), 1);
    /* Reported once. */
    CU_ASSERT_EQUAL(T->conn_recv(c, &m, 0, &err), PHX_ETIMEDOUT);
    CU_ASSERT_EQUAL(T->conn_epoch(c), 1);
    /* Nobody there now: refused, quickly. */
    t0 = phx_now_us();
    CU_ASSERT_EQUAL(send_str(c, "nobody"), PHX_ECONNREFUSED);
    CU_ASSERT(phx_now_us() - t0 < 1000 * 1000);

    /* The listener comes back on the same port: the same connection
     * reaches it.  A refusal seen before it was back may still be
     * reported once. */
    CU_ASSERT_FATAL(server_start(&s, &cfg, ep, ECHO_LOOP, 0));
    CU_ASSERT_STRING_EQUAL(s.bound, ep);
    int rc;
    int64_t until = in_us(WAIT_US);
    while ((rc = send_str(c, "back")) == PHX_ECONNREFUSED &&
           phx_now_us() < until)
        ;
    CU_ASSERT_EQUAL(rc, PHX_OK);
    CU_ASSERT_EQUAL(recv_str(c, "back"), PHX_OK);
    CU_ASSERT_EQUAL(T->conn_epoch(c), 1);

    /* And again: a second loss is a second epoch. */
    CU_ASSERT_EQUAL(send_str(c, "ping"), PHX_OK);
    CU_ASSERT_EQUAL(recv_str(c, "ping"), PHX_OK);
    server_stop(&s);
    CU_ASSERT_EQUAL(T->conn_recv(c, &m, in_us(WAIT_US), &err), PHX_ECLOSED);
    CU_ASSERT_EQUAL(T->conn_epoch(c), 2);
    T->conn_close(c);
    T->fini(cst);
    free(ep);
}

static void test_oversized(void)
{
    server_t s;
    phx_transport_config_t scfg = config(NULL, 4096);
    CU_ASSERT_FATAL(server_start(&s, &scfg, "tcp://127.0.0.1:*", ECHO_LOOP,
                                 0));
    /* A client whose own limit is larger than the server's. */
    phx_transport_config_t ccfg = config(NULL, 1 << 20);
    void *cst, *big, *other;
    phx_error_t err;
    CU_ASSERT_EQUAL_FATAL(T->init(&ccfg, &cst, &err), PHX_OK);
    CU_ASSERT_EQUAL_FATAL(T->conn_open(cst, s.bound, &big, &err), PHX_OK);
    CU_ASSERT_EQUAL_FATAL(T->conn_open(cst, s.bound, &other, &err), PHX_OK);
    CU_ASSERT_EQUAL(send_str(other, "before"), PHX_OK);
    CU_ASSERT_EQUAL(recv_str(other, "before"), PHX_OK);
    CU_ASSERT_EQUAL(send_str(big, "fits"), PHX_OK);
    CU_ASSERT_EQUAL(recv_str(big, "fits"), PHX_OK);

    uint8_t *p = pattern(8192, 9);
    CU_ASSERT_EQUAL(send_bytes(big, p, 8192, 0), PHX_OK);
    phx_inmsg_t m;
    CU_ASSERT_EQUAL(T->conn_recv(big, &m, in_us(WAIT_US), &err), PHX_ECLOSED);
    CU_ASSERT_EQUAL(T->conn_epoch(big), 1);
    CU_ASSERT_EQUAL(atomic_load(&s.delivered), 2);

    /* The listener keeps serving the other client... */
    CU_ASSERT_EQUAL(send_str(other, "after"), PHX_OK);
    CU_ASSERT_EQUAL(recv_str(other, "after"), PHX_OK);
    CU_ASSERT_EQUAL(T->conn_epoch(other), 0);
    /* ...and the dropped one once it reconnects. */
    int rc;
    int64_t until = in_us(WAIT_US);
    while ((rc = send_str(big, "again")) == PHX_ECONNREFUSED &&
           phx_now_us() < until)
        ;
    CU_ASSERT_EQUAL(rc, PHX_OK);
    CU_ASSERT_EQUAL(recv_str(big, "again"), PHX_OK);
    T->conn_close(big);
    T->conn_close(other);
    T->fini(cst);

    /* A client with the server's limit refuses to send it at all. */
    CU_ASSERT_EQUAL_FATAL(T->init(&scfg, &cst, &err), PHX_OK);
    CU_ASSERT_EQUAL_FATAL(T->conn_open(cst, s.bound, &big, &err), PHX_OK);
    CU_ASSERT_EQUAL(send_bytes(big, p, 8192, 0), PHX_ELIMIT);
    CU_ASSERT_EQUAL(send_bytes(big, p, 4096, 0), PHX_OK);
    CU_ASSERT_EQUAL(recv_expect(big, p, 4096, in_us(WAIT_US)), PHX_OK);
    T->conn_close(big);
    T->fini(cst);
    free(p);
    server_stop(&s);
}

static atomic_int warnings;

static void count_warnings(phx_log_level_t level, const char *module,
                           const char *line, void *arg)
{
    (void)line;
    (void)arg;
    if (level == PHX_LOG_WARN && strcmp(module, "zmq") == 0)
        atomic_fetch_add(&warnings, 1);
}

/* Receive on a raw socket with a deadline; returns the size or -1. */
static int raw_recv(void *sock, char *buf, size_t cap)
{
    zmq_pollitem_t it = {sock, 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&it, 1, WAIT_US / 1000) != 1)
        return -1;
    return zmq_recv(sock, buf, cap, ZMQ_DONTWAIT);
}

static void test_malformed_frames(void)
{
    server_t s;
    phx_transport_config_t cfg = config(NULL, 1 << 20);
    CU_ASSERT_FATAL(
        server_start(&s, &cfg, "tcp://127.0.0.1:*", ECHO_LOOP, 0));
    atomic_store(&warnings, 0);
    phx_log_set_sink(count_warnings, NULL);

    void *ctx = zmq_ctx_new();
    void *d = zmq_socket(ctx, ZMQ_DEALER);
    int zero = 0;
    zmq_setsockopt(d, ZMQ_LINGER, &zero, sizeof zero);
    CU_ASSERT_EQUAL_FATAL(zmq_connect(d, s.bound), 0);
    /* Two frames, then three, then a proper one-frame message; the
     * peer's messages arrive in order, so once the reply to the last one
     * is back the first two have been dealt with. */
    CU_ASSERT(zmq_send(d, "a", 1, ZMQ_SNDMORE) == 1);
    CU_ASSERT(zmq_send(d, "b", 1, 0) == 1);
    CU_ASSERT(zmq_send(d, "c", 1, ZMQ_SNDMORE) == 1);
    CU_ASSERT(zmq_send(d, "", 0, ZMQ_SNDMORE) == 0);
    CU_ASSERT(zmq_send(d, "d", 1, 0) == 1);
    CU_ASSERT(zmq_send(d, "good", 4, 0) == 4);
    char buf[64];
    int n = raw_recv(d, buf, sizeof buf);
    CU_ASSERT_EQUAL(n, 4);
    CU_ASSERT(n == 4 && memcmp(buf, "good", 4) == 0);
    int more = 0;
    size_t ml = sizeof more;
    zmq_getsockopt(d, ZMQ_RCVMORE, &more, &ml);
    CU_ASSERT_EQUAL(more, 0);
    CU_ASSERT_EQUAL(atomic_load(&s.delivered), 1);
    CU_ASSERT_EQUAL(atomic_load(&warnings), 2);
    phx_log_set_sink(NULL, NULL);

    /* The listener still serves a regular client. */
    void *cst;
    phx_error_t err;
    CU_ASSERT_EQUAL_FATAL(T->init(&cfg, &cst, &err), PHX_OK);
    roundtrip(cst, s.bound);
    T->fini(cst);

    /* A server answering with two frames: the client drops that reply. */
    void *r = zmq_socket(ctx, ZMQ_ROUTER);
    zmq_setsockopt(r, ZMQ_LINGER, &zero, sizeof zero);
    CU_ASSERT_EQUAL_FATAL(zmq_bind(r, "tcp://127.0.0.1:*"), 0);
    char rep[256];
    size_t rl = sizeof rep;
    zmq_getsockopt(r, ZMQ_LAST_ENDPOINT, rep, &rl);
    void *c;
    CU_ASSERT_EQUAL_FATAL(T->init(&cfg, &cst, &err), PHX_OK);
    CU_ASSERT_EQUAL_FATAL(T->conn_open(cst, rep, &c, &err), PHX_OK);
    CU_ASSERT_EQUAL(send_str(c, "q"), PHX_OK);
    char id[256];
    int idn = raw_recv(r, id, sizeof id);
    CU_ASSERT_FATAL(idn > 0);
    CU_ASSERT_EQUAL(zmq_recv(r, buf, sizeof buf, 0), 1);
    zmq_send(r, id, (size_t)idn, ZMQ_SNDMORE);
    zmq_send(r, "x", 1, ZMQ_SNDMORE);
    zmq_send(r, "y", 1, 0);
    zmq_send(r, id, (size_t)idn, ZMQ_SNDMORE);
    zmq_send(r, "fine", 4, 0);
    CU_ASSERT_EQUAL(recv_str(c, "fine"), PHX_OK);
    T->conn_close(c);
    T->fini(cst);

    zmq_close(r);
    zmq_close(d);
    zmq_ctx_term(ctx);
    server_stop(&s);
}

static void test_pipelined_in_order(void)
{
    server_t s;
    phx_transport_config_t cfg = config(NULL, 1 << 20);
    cfg.heartbeat_ivl_ms = 100;
    cfg.heartbeat_timeout_ms = 1000;
    CU_ASSERT_FATAL(server_start(&s, &cfg, "ipc://*", ECHO_LOOP, 0));
    void *cst, *c;
    phx_error_t err;
    CU_ASSERT_EQUAL_FATAL(T->init(&cfg, &cst, &err), PHX_OK);
    CU_ASSERT_EQUAL_FATAL(T->conn_open(cst, s.bound, &c, &err), PHX_OK);
    enum { N = 1500 };
    for (uint32_t i = 0; i < N; i++) {
        size_t len = i % 7 == 0 ? 2000 : 8;
        uint8_t *p = pattern(len, i);
        memcpy(p, &i, sizeof i);
        CU_ASSERT_EQUAL(send_bytes(c, p, len, 0), PHX_OK);
        free(p);
    }
    for (uint32_t i = 0; i < N; i++) {
        size_t len = i % 7 == 0 ? 2000 : 8;
        uint8_t *p = pattern(len, i);
        memcpy(p, &i, sizeof i);
        int rc = recv_expect(c, p, len, in_us(WAIT_US));
        free(p);
        CU_ASSERT_EQUAL_FATAL(rc, PHX_OK);
    }
    CU_ASSERT_EQUAL(atomic_load(&s.delivered), N);
    T->conn_close(c);
    T->fini(cst);
    server_stop(&s);
}

static void test_reply_to_vanished_peer(void)
{
    server_t s;
    phx_transport_config_t cfg = config(NULL, 1 << 20);
    CU_ASSERT_FATAL(server_start(&s, &cfg, "tcp://127.0.0.1:*", HOLD, 0));
    void *cst, *c;
    phx_error_t err;
    CU_ASSERT_EQUAL_FATAL(T->init(&cfg, &cst, &err), PHX_OK);
    CU_ASSERT_EQUAL_FATAL(T->conn_open(cst, s.bound, &c, &err), PHX_OK);
    CU_ASSERT_EQUAL(send_str(c, "gone"), PHX_OK);
    phx_inmsg_t m;
    CU_ASSERT_FATAL(server_pop(&s, &m, in_us(WAIT_US)));
    T->conn_close(c);
    /* The reply goes nowhere; the server carries on. */
    echo(s.st, &m);
    CU_ASSERT_EQUAL_FATAL(T->conn_open(cst, s.bound, &c, &err), PHX_OK);
    CU_ASSERT_EQUAL(send_str(c, "next"), PHX_OK);
    CU_ASSERT_FATAL(server_pop(&s, &m, in_us(WAIT_US)));
    echo(s.st, &m);
    CU_ASSERT_EQUAL(recv_str(c, "next"), PHX_OK);
    T->conn_close(c);
    T->fini(cst);
    server_stop(&s);
}

int main(void)
{
    /* libzmq puts the sockets of wildcard ipc endpoints under $TMPDIR,
     * or else in the current directory. */
    setenv("TMPDIR", "/tmp", 0);
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("zmq_transport", NULL, NULL);
    if (s == NULL ||
        !CU_add_test(s, "ops basics", test_ops_basics) ||
        !CU_add_test(s, "tcp round trip", test_tcp_roundtrip) ||
        !CU_add_test(s, "ipc round trip", test_ipc_roundtrip) ||
        !CU_add_test(s, "inproc round trip", test_inproc_roundtrip) ||
        !CU_add_test(s, "replies from other threads",
                     test_reply_from_other_threads) ||
        !CU_add_test(s, "connection refused", test_connection_refused) ||
        !CU_add_test(s, "fini releases listeners",
                     test_fini_releases_listeners) ||
        !CU_add_test(s, "buffer ownership", test_buffer_ownership) ||
        !CU_add_test(s, "timeouts", test_timeouts) ||
        !CU_add_test(s, "loss and reconnect", test_loss_and_reconnect) ||
        !CU_add_test(s, "oversized message", test_oversized) ||
        !CU_add_test(s, "malformed frames", test_malformed_frames) ||
        !CU_add_test(s, "pipelined in order", test_pipelined_in_order) ||
        !CU_add_test(s, "reply to a vanished peer",
                     test_reply_to_vanished_peer)) {
        CU_cleanup_registry();
        return 1;
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
