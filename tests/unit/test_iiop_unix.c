/*
 * test_iiop_unix.c - GIOP over Unix domain sockets (iiop+unix:// endpoints
 * of the IIOP transport): listen and call, the reference round trip
 * through its string form, the fallback to the TCP profile when the
 * socket is absent or on another host, stale socket files, permissions,
 * and bad input on the socket while another client keeps working.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include <phx/giop.h>
#include <phx/ior.h>
#include <phx/transport.h>

#include "orb/transport/iiop/iiop_transport.h"
#include "tests/unit/echo_fixture.h"

static char dir[64];
static char path[100];
static char ep[160];

static void fresh_path(const char *name)
{
    snprintf(path, sizeof path, "%s/%s", dir, name);
    snprintf(ep, sizeof ep, "iiop+unix://%s", path);
}

static void call_ok(phx_object_t *o, int32_t v)
{
    phx_env_t env = PHX_ENV_INIT;
    int32_t r = 0;
    CU_ASSERT_EQUAL(Echo_echo_long(o, v, &r, &env), PHX_OK);
    CU_ASSERT_EQUAL(r, v);
    phx_env_clear(&env);
}

static void echo_octets_ok(phx_object_t *o, size_t n)
{
    phx_env_t env = PHX_ENV_INIT;
    uint8_t *in = malloc(n + 1), *out = NULL;
    for (size_t j = 0; j < n; j++)
        in[j] = (uint8_t)(j * 13);
    size_t got = 0;
    CU_ASSERT_EQUAL(Echo_echo_octets(o, in, n, &out, &got, &env), PHX_OK);
    CU_ASSERT_EQUAL(got, n);
    CU_ASSERT(out && memcmp(in, out, n) == 0);
    free(in);
    free(out);
    phx_env_clear(&env);
}

static int unix_connect(const char *p)
{
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sun;
    memset(&sun, 0, sizeof sun);
    sun.sun_family = AF_UNIX;
    snprintf(sun.sun_path, sizeof sun.sun_path, "%s", p);
    if (connect(fd, (struct sockaddr *)&sun, sizeof sun) != 0) {
        close(fd);
        return -1;
    }
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

/* The endpoint the server reports carries the host name; the reference's
 * first profile is the Phalanx endpoint profile with it; calls work. */
static void test_listen_and_call(void)
{
    fresh_path("a.sock");
    server_t s;
    CU_ASSERT_EQUAL_FATAL(server_start(&s, ep, 0, "echo"), 0);
    const char *bound = phx_orb_endpoint(s.orb, 0);
    char host[256];
    gethostname(host, sizeof host);
    char want[512];
    snprintf(want, sizeof want, "iiop+unix://%s%s", host, path);
    CU_ASSERT_STRING_EQUAL(bound, want);
    struct stat st;
    CU_ASSERT_EQUAL_FATAL(lstat(path, &st), 0);
    CU_ASSERT(S_ISSOCK(st.st_mode));
    CU_ASSERT_EQUAL(st.st_mode & 0777, 0600);

    phx_ior_t ior;
    CU_ASSERT_EQUAL_FATAL(phx_object_get_ior(s.ref, &ior), PHX_OK);
    CU_ASSERT_EQUAL(ior.profile_count, 1);
    phx_profile_t p;
    CU_ASSERT_EQUAL_FATAL(phx_profile_decode(&ior.profiles[0], &p, NULL),
                          PHX_OK);
    CU_ASSERT_EQUAL(p.tag, PHX_TAG_ZMQ_IOP);
    CU_ASSERT_STRING_EQUAL(p.endpoint, want);
    phx_profile_fini(&p);
    char *loc = NULL;
    CU_ASSERT_EQUAL(phx_ior_to_corbaloc(&ior, &loc), PHX_EUNSUPPORTED);
    free(loc);
    phx_ior_fini(&ior);

    /* Through the string form, in another ORB. */
    phx_orb_t *c = client_orb(10000);
    phx_object_t *o = resolve(c, s.ior);
    call_ok(o, 7);
    call_ok(o, -70000);
    size_t sizes[] = {0, 1000, 65536, 1 << 20};
    for (size_t i = 0; i < 4; i++)
        echo_octets_ok(o, sizes[i]);
    phx_object_release(o);
    phx_orb_destroy(c);
    server_stop(&s);
    /* The socket file goes with the listener. */
    CU_ASSERT_NOT_EQUAL(lstat(path, &st), 0);
}

/* A server on both: the Unix profile comes first and is used; with the
 * socket file gone, or for another host, the TCP profile serves. */
static void test_prefer_and_fallback(void)
{
    fresh_path("b.sock");
    const char *eps[] = {"iiop://127.0.0.1:*", ep};
    phx_orb_config_t cfg;
    phx_orb_config_init(&cfg);
    cfg.listen = eps;
    cfg.listen_count = 2;
    server_t s;
    memset(&s, 0, sizeof s);
    phx_error_t err;
    CU_ASSERT_EQUAL_FATAL(phx_orb_create(&cfg, &s.orb, &err), PHX_OK);
    Echo_servant_init(&s.servant, &impl, NULL);
    CU_ASSERT_EQUAL_FATAL(phx_orb_activate(s.orb, &s.servant.base, "echo", 4,
                                           &s.ref, &err),
                          PHX_OK);
    CU_ASSERT_EQUAL_FATAL(phx_object_to_string(s.ref, &s.ior), PHX_OK);
    CU_ASSERT_EQUAL_FATAL(pthread_create(&s.thread, NULL, loop, s.orb), 0);

    phx_ior_t ior;
    CU_ASSERT_EQUAL_FATAL(phx_object_get_ior(s.ref, &ior), PHX_OK);
    CU_ASSERT_EQUAL_FATAL(ior.profile_count, 2);
    CU_ASSERT_EQUAL(ior.profiles[0].tag, PHX_TAG_ZMQ_IOP);
    CU_ASSERT_EQUAL(ior.profiles[1].tag, PHX_TAG_INTERNET_IOP);

    phx_orb_t *c = client_orb(10000);
    phx_object_t *o = resolve(c, s.ior);
    call_ok(o, 1);
    phx_object_release(o);
    phx_orb_destroy(c);

    /* The Unix profile is the one used: with the TCP profile pointing at
     * a port where nothing listens, calls still work. */
    {
        server_t dead;
        CU_ASSERT_EQUAL_FATAL(
            server_start(&dead, "iiop://127.0.0.1:*", 0, "echo"), 0);
        phx_ior_t dior, mix;
        CU_ASSERT_EQUAL_FATAL(phx_object_get_ior(dead.ref, &dior), PHX_OK);
        server_stop(&dead);
        phx_ior_init(&mix);
        CU_ASSERT_EQUAL(phx_ior_set_type_id(&mix, ior.type_id), PHX_OK);
        CU_ASSERT_EQUAL(phx_ior_add_profile(&mix, ior.profiles[0].tag,
                                            ior.profiles[0].data,
                                            ior.profiles[0].len),
                        PHX_OK);
        CU_ASSERT_EQUAL(phx_ior_add_profile(&mix, dior.profiles[0].tag,
                                            dior.profiles[0].data,
                                            dior.profiles[0].len),
                        PHX_OK);
        c = client_orb(10000);
        CU_ASSERT_EQUAL_FATAL(phx_object_from_ior(c, &mix, &o, &err), PHX_OK);
        call_ok(o, 10);
        call_ok(o, 11);
        phx_object_release(o);
        phx_orb_destroy(c);
        phx_ior_fini(&mix);
        phx_ior_fini(&dior);
    }

    /* Socket file absent: TCP. */
    CU_ASSERT_EQUAL(unlink(path), 0);
    c = client_orb(10000);
    o = resolve(c, s.ior);
    call_ok(o, 2);
    call_ok(o, 3);
    phx_object_release(o);
    phx_orb_destroy(c);

    /* Another host's socket: not tried, TCP serves. */
    phx_profile_t p;
    CU_ASSERT_EQUAL_FATAL(phx_profile_decode(&ior.profiles[0], &p, NULL),
                          PHX_OK);
    free(p.endpoint);
    p.endpoint = strdup("iiop+unix://no-such-host.invalid/tmp/x.sock");
    phx_ior_t ior2;
    phx_ior_init(&ior2);
    CU_ASSERT_EQUAL(phx_ior_set_type_id(&ior2, ior.type_id), PHX_OK);
    CU_ASSERT_EQUAL(phx_ior_add_decoded_profile(&ior2, &p), PHX_OK);
    CU_ASSERT_EQUAL(phx_ior_add_profile(&ior2, ior.profiles[1].tag,
                                        ior.profiles[1].data,
                                        ior.profiles[1].len),
                    PHX_OK);
    phx_profile_fini(&p);
    c = client_orb(10000);
    CU_ASSERT_EQUAL_FATAL(phx_object_from_ior(c, &ior2, &o, &err), PHX_OK);
    call_ok(o, 4);
    phx_object_release(o);
    phx_orb_destroy(c);
    phx_ior_fini(&ior2);
    phx_ior_fini(&ior);
    server_stop(&s);
}

/* Only the Unix profile and nothing there: TRANSIENT, COMPLETED_NO. */
static void test_absent(void)
{
    fresh_path("gone.sock");
    server_t s;
    CU_ASSERT_EQUAL_FATAL(server_start(&s, ep, 0, "echo"), 0);
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

/* A socket file left by a dead server is reused; a live one, or a file
 * that is not a socket, is refused. */
static void test_stale_and_busy(void)
{
    fresh_path("stale.sock");
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sun;
    memset(&sun, 0, sizeof sun);
    sun.sun_family = AF_UNIX;
    snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
    CU_ASSERT_EQUAL_FATAL(bind(fd, (struct sockaddr *)&sun, sizeof sun), 0);
    close(fd); /* the file stays, nobody listens */
    server_t s;
    CU_ASSERT_EQUAL_FATAL(server_start(&s, ep, 0, "echo"), 0);
    phx_orb_t *c = client_orb(10000);
    phx_object_t *o = resolve(c, s.ior);
    call_ok(o, 11);

    /* A second server on the live socket: refused, the first unharmed. */
    const char *eps[] = {ep};
    phx_orb_config_t cfg;
    phx_orb_config_init(&cfg);
    cfg.listen = eps;
    cfg.listen_count = 1;
    phx_orb_t *o2 = NULL;
    phx_error_t err;
    CU_ASSERT_EQUAL(phx_orb_create(&cfg, &o2, &err), PHX_EEXIST);
    CU_ASSERT_PTR_NULL(o2);
    call_ok(o, 12);
    phx_object_release(o);
    phx_orb_destroy(c);
    server_stop(&s);

    /* A regular file is never removed. */
    fresh_path("file");
    FILE *f = fopen(path, "w");
    fputs("keep", f);
    fclose(f);
    CU_ASSERT_EQUAL(phx_orb_create(&cfg, &o2, &err), PHX_EEXIST);
    struct stat st;
    CU_ASSERT_EQUAL(stat(path, &st), 0);
    CU_ASSERT_EQUAL(st.st_size, 4);
    unlink(path);

    /* Bad endpoints. */
    const char *bad[] = {"iiop+unix://", "iiop+unix://host-only",
                         "iiop+unix://not-this-host.invalid/tmp/x"};
    for (int i = 0; i < 3; i++) {
        eps[0] = bad[i];
        CU_ASSERT_EQUAL(phx_orb_create(&cfg, &o2, &err), PHX_EINVAL);
    }
}

typedef struct caller {
    phx_object_t *obj;
    atomic_bool stop;
    int ok, bad;
} caller_t;

static void *caller_main(void *arg)
{
    caller_t *c = arg;
    phx_env_t env = PHX_ENV_INIT;
    for (int32_t i = 0; !atomic_load(&c->stop); i++) {
        int32_t r = 0;
        if (Echo_echo_long(c->obj, i, &r, &env) == PHX_OK && r == i)
            c->ok++;
        else
            c->bad++;
        phx_env_clear(&env);
    }
    return NULL;
}

/* Read a MessageError (when expect_me) then EOF (when expect_eof). */
static void expect_answer(int fd, bool expect_me, bool expect_eof)
{
    uint8_t b[12];
    size_t got = 0;
    while (got < sizeof b) {
        ssize_t n = recv(fd, b + got, sizeof b - got, 0);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    if (expect_me) {
        CU_ASSERT_EQUAL(got, 12);
        CU_ASSERT(memcmp(b, "GIOP", 4) == 0);
        CU_ASSERT_EQUAL(b[7], PHX_GIOP_MESSAGE_ERROR);
        if (expect_eof)
            CU_ASSERT_EQUAL(recv(fd, b, 1, 0), 0);
    } else {
        CU_ASSERT_EQUAL(got, 0);
    }
}

/* Bad input on the Unix socket (truncated header, lying sizes, junk)
 * while an ORB client keeps calling over the same socket. */
static void test_bad_input(void)
{
    fresh_path("bad.sock");
    server_t s;
    CU_ASSERT_EQUAL_FATAL(server_start(&s, ep, 2, "echo"), 0);
    phx_orb_t *c = client_orb(10000);
    caller_t cl;
    memset(&cl, 0, sizeof cl);
    cl.obj = resolve(c, s.ior);
    pthread_t th;
    pthread_create(&th, NULL, caller_main, &cl);

    /* Truncated header, then the writer goes: closed without delivery. */
    int fd = unix_connect(path);
    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT_EQUAL(send(fd, "GIOP\1\2", 6, 0), 6);
    shutdown(fd, SHUT_WR);
    expect_answer(fd, false, true);
    close(fd);

    /* A size that lies upward: 1000 announced, 8 sent. */
    static const uint8_t up[20] = {'G', 'I', 'O', 'P', 1, 2, 0, 0,
                                   0,   0,   3,   0xe8, 1, 2, 3, 4,
                                   5,   6,   7,   8};
    fd = unix_connect(path);
    CU_ASSERT_EQUAL(send(fd, up, sizeof up, 0), (ssize_t)sizeof up);
    shutdown(fd, SHUT_WR);
    expect_answer(fd, false, true);
    close(fd);

    /* A size that lies downward: a Request of 4 bytes cannot hold its
     * header: MessageError from the ORB (which keeps the connection). */
    static const uint8_t down[16] = {'G', 'I', 'O', 'P', 1, 2, 0, 0,
                                     0,   0,   0,   4,   0, 0, 0, 1};
    fd = unix_connect(path);
    CU_ASSERT_EQUAL(send(fd, down, sizeof down, 0), (ssize_t)sizeof down);
    expect_answer(fd, true, false);
    close(fd);

    /* Oversized and bad magic: MessageError from the transport. */
    static const uint8_t big[12] = {'G', 'I', 'O', 'P', 1,    2,
                                    0,   0,   0x7f, 0xff, 0xff, 0xff};
    fd = unix_connect(path);
    CU_ASSERT_EQUAL(send(fd, big, sizeof big, 0), (ssize_t)sizeof big);
    expect_answer(fd, true, true);
    close(fd);
    static const uint8_t junk[12] = {'J', 'U', 'N', 'K', 1, 2,
                                     0,   0,   0,   0,   0, 0};
    fd = unix_connect(path);
    CU_ASSERT_EQUAL(send(fd, junk, sizeof junk, 0), (ssize_t)sizeof junk);
    expect_answer(fd, true, true);
    close(fd);

    struct timespec ts = {0, 50 * 1000 * 1000};
    nanosleep(&ts, NULL);
    atomic_store(&cl.stop, true);
    pthread_join(th, NULL);
    CU_ASSERT(cl.ok > 0);
    CU_ASSERT_EQUAL(cl.bad, 0);
    call_ok(cl.obj, 99);
    phx_object_release(cl.obj);
    phx_orb_destroy(c);
    server_stop(&s);
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* A GIOP 1.2 (little-endian) message of the given type whose body starts
 * with request id 7 and, for a Request, response_flags. */
static uint8_t *giop_msg(uint8_t type, uint8_t flags, size_t *len)
{
    uint8_t *m = calloc(1, 32);
    memcpy(m, "GIOP\1\2\1", 7);
    m[7] = type;
    m[8] = 8; /* body size */
    m[12] = 7;
    m[16] = flags;
    *len = 20;
    return m;
}

/* 1 when the peer of fd has closed (EOF within ms), 0 otherwise. */
static int peer_closed(int fd, int ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    uint8_t b[64];
    ssize_t n = recv(fd, b, sizeof b, 0);
    return n == 0;
}

/* Client side, straight on the transport against a raw Unix server: a
 * connection with no reply awaited, unused for idle_ms, is closed by the
 * client before its next request (which goes on a new connection, in
 * the same epoch); one awaiting a reply is kept. */
static void test_client_idle(void)
{
    const phx_transport_ops_t *T = &phx__iiop_transport;
    fresh_path("idle-c.sock");
    int ls = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
    CU_ASSERT_EQUAL_FATAL(bind(ls, (struct sockaddr *)&sun, sizeof sun), 0);
    CU_ASSERT_EQUAL_FATAL(listen(ls, 4), 0);

    phx_transport_config_t cfg = {.max_message = 1 << 20,
                                  .connect_timeout_ms = 2000,
                                  .idle_ms = 150};
    void *st = NULL, *conn = NULL;
    phx_error_t err;
    CU_ASSERT_EQUAL_FATAL(T->init(&cfg, &st, &err), PHX_OK);
    CU_ASSERT_EQUAL_FATAL(T->conn_open(st, ep, &conn, &err), PHX_OK);
    uint64_t e0 = T->conn_epoch(conn);
    size_t len;
    phx_buf_t b = {.data = giop_msg(PHX_GIOP_REQUEST, 3, &len)};
    b.len = len;
    CU_ASSERT_EQUAL_FATAL(T->conn_send(conn, &b, 0, &err), PHX_OK);
    int a = accept(ls, NULL, NULL);
    CU_ASSERT_FATAL(a >= 0);
    uint8_t in[64];
    CU_ASSERT_EQUAL(recv(a, in, sizeof in, 0), 20);

    /* A reply awaited: idle time does not close the connection. */
    sleep_ms(250);
    CU_ASSERT_EQUAL(T->conn_epoch(conn), e0);
    CU_ASSERT_EQUAL(peer_closed(a, 50), 0);

    /* The reply; then idle_ms with nothing awaited. */
    uint8_t *rep = giop_msg(PHX_GIOP_REPLY, 0, &len);
    CU_ASSERT_EQUAL(send(a, rep, len, 0), (ssize_t)len);
    free(rep);
    phx_inmsg_t m;
    CU_ASSERT_EQUAL_FATAL(T->conn_recv(conn, &m, phx_now_us() + 2000000,
                                       &err),
                          PHX_OK);
    CU_ASSERT_EQUAL(m.data[7], PHX_GIOP_REPLY);
    phx_inmsg_release(&m);
    /* Used again at once: kept. */
    CU_ASSERT_EQUAL(T->conn_epoch(conn), e0);
    CU_ASSERT_EQUAL(peer_closed(a, 50), 0);
    /* A oneway sent: nothing awaited still. */
    b.data = giop_msg(PHX_GIOP_REQUEST, 0, &len);
    b.len = len;
    CU_ASSERT_EQUAL_FATAL(T->conn_send(conn, &b, 0, &err), PHX_OK);
    CU_ASSERT_EQUAL(recv(a, in, sizeof in, 0), 20);
    sleep_ms(250);
    CU_ASSERT_EQUAL(T->conn_epoch(conn), e0); /* closed, nothing lost */
    CU_ASSERT_EQUAL(peer_closed(a, 1000), 1);
    close(a);
    /* The next request reconnects. */
    b.data = giop_msg(PHX_GIOP_REQUEST, 3, &len);
    b.len = len;
    CU_ASSERT_EQUAL_FATAL(T->conn_send(conn, &b, 0, &err), PHX_OK);
    a = accept(ls, NULL, NULL);
    CU_ASSERT_FATAL(a >= 0);
    CU_ASSERT_EQUAL(recv(a, in, sizeof in, 0), 20);
    close(a);
    T->conn_close(conn);
    T->fini(st);
    close(ls);
    unlink(path);
}

/* Server side: a connection idle for server_idle_ms gets a GIOP
 * CloseConnection and is closed; a connection whose request is still
 * being processed is not; an ORB client whose connection was closed so
 * reconnects on its next call. */
static void test_server_idle(void)
{
    fresh_path("idle-s.sock");
    const char *eps[] = {ep};
    phx_orb_config_t cfg;
    phx_orb_config_init(&cfg);
    cfg.listen = eps;
    cfg.listen_count = 1;
    cfg.workers = 2;
    cfg.server_idle_ms = 300;
    server_t s;
    memset(&s, 0, sizeof s);
    phx_error_t err;
    CU_ASSERT_EQUAL_FATAL(phx_orb_create(&cfg, &s.orb, &err), PHX_OK);
    Echo_servant_init(&s.servant, &impl, NULL);
    CU_ASSERT_EQUAL_FATAL(phx_orb_activate(s.orb, &s.servant.base, "echo", 4,
                                           &s.ref, &err),
                          PHX_OK);
    CU_ASSERT_EQUAL_FATAL(phx_object_to_string(s.ref, &s.ior), PHX_OK);
    CU_ASSERT_EQUAL_FATAL(pthread_create(&s.thread, NULL, loop, s.orb), 0);

    /* A silent raw client: CloseConnection, then EOF. */
    int fd = unix_connect(path);
    CU_ASSERT_FATAL(fd >= 0);
    int64_t t0 = phx_now_us();
    uint8_t b[12];
    size_t got = 0;
    while (got < sizeof b) {
        ssize_t n = recv(fd, b + got, sizeof b - got, 0);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    int64_t waited = phx_now_us() - t0;
    CU_ASSERT_EQUAL(got, 12);
    CU_ASSERT(memcmp(b, "GIOP", 4) == 0);
    CU_ASSERT_EQUAL(b[7], PHX_GIOP_CLOSE_CONNECTION);
    CU_ASSERT(waited >= 280000 && waited < 3000000);
    CU_ASSERT_EQUAL(recv(fd, b, 1, 0), 0);
    close(fd);

    /* A call longer than the limit is not cut; the client's connection,
     * closed by the server after it, is replaced at the next call. */
    phx_orb_t *c = client_orb(10000);
    phx_object_t *o = resolve(c, s.ior);
    phx_env_t env = PHX_ENV_INIT;
    CU_ASSERT_EQUAL(Echo_sleep_ms(o, 700, &env), PHX_OK);
    call_ok(o, 5);
    sleep_ms(1600);
    call_ok(o, 6);
    call_ok(o, 7);
    phx_object_release(o);
    phx_orb_destroy(c);
    server_stop(&s);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/phx-iiop-unix-XXXXXX");
    if (mkdtemp(dir) == NULL)
        return 1;
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("iiop over unix sockets", NULL, NULL);
    if (s == NULL || !CU_add_test(s, "listen and call", test_listen_and_call) ||
        !CU_add_test(s, "prefer unix, fall back to tcp",
                     test_prefer_and_fallback) ||
        !CU_add_test(s, "socket absent", test_absent) ||
        !CU_add_test(s, "stale and busy socket files", test_stale_and_busy) ||
        !CU_add_test(s, "bad input", test_bad_input) ||
        !CU_add_test(s, "client closes idle connections", test_client_idle) ||
        !CU_add_test(s, "server closes idle connections",
                     test_server_idle)) {
        CU_cleanup_registry();
        return 1;
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures();
    CU_cleanup_registry();
    rmdir(dir);
    return failed ? 1 : 0;
}
