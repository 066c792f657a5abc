/*
 * bench_orb.c - ORB round-trip and throughput benchmarks, each measured
 * against raw libzmq moving the same bytes over the same transport (tcp
 * loopback) with the same process layout; the IIOP figures are measured
 * against a plain TCP socket ping-pong of the same bytes.
 *
 *   bench_orb [NAME...]          run the figures named (default: all)
 *   bench_orb --list             list the figure names
 *   bench_orb --serve-orb [FD]   server: an Echo object (IOR written to FD)
 *   bench_orb --serve-raw [FD]   server: a ZeroMQ ROUTER echo loop
 *                                (endpoint written to FD)
 *   bench_orb --serve-tcp [FD]   server: a TCP socket echo loop (port
 *                                written to FD)
 *   bench_orb --serve-unix [FD]  server: the same loop on a Unix socket
 *                                (path written to FD)
 *
 * The coordinator starts both servers as child processes, learns the size
 * of every ORB request and reply by sending one call of each kind through
 * a recording relay, then for every figure alternates raw and ORB runs
 * (A B B A ...) and prints one line per figure on stdout:
 *
 *   NAME: median_us=M p99_us=P ops_s=T vs=BASELINE ratio=R
 *
 * ratio is ORB median / baseline median for latency figures and ORB ops_s
 * / baseline ops_s for throughput figures.  Each value is the median over
 * the runs.  Environment: BENCH_SCALE (iteration multiplier, default 1),
 * BENCH_RUNS (runs of each side, default 9), BENCH_VERBOSE=1 (per-run
 * figures on stderr), BENCH_TIMEOUT (overall limit in seconds).
 *
 * Raw server protocol: every frame starts with two native uint32 fields,
 * the size of the reply to send and an opcode (echo, count a oneway,
 * reply with the number of oneways since the last query).  On the TCP
 * server a message starts with its own size and the size of the reply.
 *
 * The ORB server listens on a ZeroMQ, an IIOP and an iiop+unix endpoint;
 * the orb_iiop_* figures call it through a reference holding only its
 * IIOP profile (against the TCP server), the orb_unix_* ones through one
 * holding only its iiop+unix profile (against the Unix-socket server).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <zmq.h>

#include <phx/phx.h>

#include "samples/echo/echo.h"

#define PIPE_DEPTH 64
#define MAX_RUNS 99
#define RAW_MAX_FRAME ((size_t)1 << 20)
#define OBJECT_KEY "bench"

enum raw_op { RAW_ECHO = 1, RAW_ONEWAY = 2, RAW_COUNT = 3 };

/* ------------------------------------------------------------------ */
/* Small helpers                                                        */
/* ------------------------------------------------------------------ */

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2),
                                                     noreturn));

static pid_t children[4];

static volatile sig_atomic_t stopping_children;

static void kill_children(void)
{
    stopping_children = 1;
    for (size_t i = 0; i < sizeof children / sizeof children[0]; i++) {
        if (children[i] > 0) {
            kill(children[i], SIGKILL);
            waitpid(children[i], NULL, 0);
            children[i] = 0;
        }
    }
}

static void die(const char *fmt, ...)
{
    va_list ap;
    fflush(stdout);
    fputs("bench_orb: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    kill_children();
    exit(1);
}

static const char *const child_names[4] = {"raw server", "ORB server",
                                           "TCP server", "Unix server"};

/* A server that dies while we use it ends the benchmark at once, with
 * the reason, instead of a call timing out much later. */
static void on_sigchld(int sig)
{
    (void)sig;
    int saved = errno, status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        for (size_t i = 0; i < sizeof children / sizeof children[0]; i++) {
            if (pid != children[i] || stopping_children)
                continue;
            children[i] = 0;
            char msg[128] = "bench_orb: the ";
            size_t n = strlen(msg);
            const char *what = child_names[i];
            while (*what && n < 60)
                msg[n++] = *what++;
            const char *how = WIFSIGNALED(status) ? " was killed by signal "
                                                  : " exited with status ";
            while (*how && n < 100)
                msg[n++] = *how++;
            int v = WIFSIGNALED(status) ? WTERMSIG(status)
                                        : WEXITSTATUS(status);
            char digits[12];
            size_t d = 0;
            do {
                digits[d++] = (char)('0' + v % 10);
                v /= 10;
            } while (v > 0 && d < sizeof digits);
            while (d > 0 && n < sizeof msg - 2)
                msg[n++] = digits[--d];
            msg[n++] = '\n';
            (void)!write(2, msg, n);
            for (size_t j = 0; j < sizeof children / sizeof children[0]; j++)
                if (children[j] > 0)
                    kill(children[j], SIGKILL);
            _exit(1);
        }
    }
    errno = saved;
}

static void on_fatal_signal(int sig)
{
    static const char msg[] = "bench_orb: interrupted\n";
    for (size_t i = 0; i < sizeof children / sizeof children[0]; i++)
        if (children[i] > 0)
            kill(children[i], SIGKILL);
    if (sig == SIGALRM) {
        static const char tmo[] = "bench_orb: overall time limit reached "
                                  "(BENCH_TIMEOUT)\n";
        (void)!write(2, tmo, sizeof tmo - 1);
    } else {
        (void)!write(2, msg, sizeof msg - 1);
    }
    _exit(1);
}

static double env_double(const char *name, double dflt, double lo, double hi)
{
    const char *s = getenv(name);
    if (s == NULL || *s == '\0')
        return dflt;
    char *end;
    double v = strtod(s, &end);
    if (*end || !(v >= lo && v <= hi))
        die("%s=%s: want a number in %g..%g", name, s, lo, hi);
    return v;
}

/* Affinity of every thread of a process (libzmq's I/O threads too). */
static void set_affinity_all(pid_t pid, const cpu_set_t *set)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
    DIR *d = opendir(path);
    if (d == NULL)
        die("cannot list %s: %s", path, strerror(errno));
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char *end;
        long tid = strtol(e->d_name, &end, 10);
        if (*end || tid <= 0)
            continue;
        if (sched_setaffinity((pid_t)tid, sizeof *set, set) != 0 &&
            errno != ESRCH)
            die("sched_setaffinity(%ld): %s", tid, strerror(errno));
    }
    closedir(d);
}

static cpu_set_t all_cpus, cpu0;

static void pin(bool pinned)
{
    const cpu_set_t *set = pinned ? &cpu0 : &all_cpus;
    set_affinity_all(getpid(), set);
    for (size_t i = 0; i < sizeof children / sizeof children[0]; i++)
        if (children[i] > 0)
            set_affinity_all(children[i], set);
}

/* ------------------------------------------------------------------ */
/* Servers                                                              */
/* ------------------------------------------------------------------ */

static volatile sig_atomic_t server_stop;
static phx_orb_t *server_orb;
static int32_t server_pings;

static void on_server_signal(int sig)
{
    (void)sig;
    server_stop = 1;
    if (server_orb)
        phx_orb_shutdown(server_orb);
}

static void server_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_server_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* Write what the parent waits for (one line) and close the channel. */
static void announce(int fd, const char *text)
{
    size_t len = strlen(text), off = 0;
    while (off < len) {
        ssize_t n = write(fd, text + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            exit(1);
        off += (size_t)n;
    }
    if (write(fd, "\n", 1) != 1)
        exit(1);
    if (fd != STDOUT_FILENO)
        close(fd);
}

static int serve_raw(int fd)
{
    void *ctx = zmq_ctx_new();
    void *s = zmq_socket(ctx, ZMQ_ROUTER);
    int zero = 0;
    zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
    if (zmq_bind(s, "tcp://127.0.0.1:*") != 0) {
        fprintf(stderr, "bench_orb: raw server: bind: %s\n",
                zmq_strerror(zmq_errno()));
        return 1;
    }
    char ep[256];
    size_t eplen = sizeof ep;
    zmq_getsockopt(s, ZMQ_LAST_ENDPOINT, ep, &eplen);
    uint8_t *reply = calloc(1, RAW_MAX_FRAME);
    if (reply == NULL)
        return 1;
    server_signals();
    announce(fd, ep);

    uint32_t oneways = 0;
    while (!server_stop) {
        zmq_msg_t id, body;
        zmq_msg_init(&id);
        if (zmq_msg_recv(&id, s, 0) < 0) {
            zmq_msg_close(&id);
            if (zmq_errno() == EINTR)
                continue;
            break;
        }
        zmq_msg_init(&body);
        if (!zmq_msg_more(&id) || zmq_msg_recv(&body, s, 0) < 0) {
            zmq_msg_close(&id);
            zmq_msg_close(&body);
            continue;
        }
        uint32_t hdr[2] = {0, 0};
        if (zmq_msg_size(&body) >= sizeof hdr)
            memcpy(hdr, zmq_msg_data(&body), sizeof hdr);
        zmq_msg_close(&body);
        if (hdr[1] == RAW_ONEWAY) {
            oneways++;
            zmq_msg_close(&id);
            continue;
        }
        size_t rlen = hdr[0];
        if (rlen > RAW_MAX_FRAME || (hdr[1] != RAW_ECHO &&
                                     hdr[1] != RAW_COUNT)) {
            zmq_msg_close(&id);
            continue;
        }
        if (hdr[1] == RAW_COUNT) {
            if (rlen >= sizeof oneways)
                memcpy(reply, &oneways, sizeof oneways);
            oneways = 0;
        }
        if (zmq_msg_send(&id, s, ZMQ_SNDMORE) < 0) {
            zmq_msg_close(&id);
            continue;
        }
        zmq_send(s, reply, rlen, 0);
    }
    zmq_close(s);
    zmq_ctx_term(ctx);
    free(reply);
    return 0;
}

/* Read exactly len bytes from a blocking socket; false at EOF or error. */
static bool read_full(int fd, uint8_t *b, size_t len)
{
    size_t off = 0;
    while (off < len) {
        ssize_t n = recv(fd, b + off, len - off, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        off += (size_t)n;
    }
    return true;
}

static bool write_full(int fd, const uint8_t *b, size_t len)
{
    size_t off = 0;
    while (off < len) {
        ssize_t n = send(fd, b + off, len - off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        off += (size_t)n;
    }
    return true;
}

/* The Unix-socket servers' socket paths (one per server process). */
static void unix_path(char *buf, size_t len, const char *what)
{
    snprintf(buf, len, "/tmp/phx-bench-%s-%ld.sock", what, (long)getpid());
}

/* The raw stream echo server: over TCP loopback (announces its port) or,
 * with is_unix, over a Unix socket (announces its path). */
static int serve_stream(int fd, bool is_unix)
{
    int ls;
    char port[96];
    if (is_unix) {
        struct sockaddr_un u = {.sun_family = AF_UNIX};
        unix_path(port, sizeof port, "raw");
        snprintf(u.sun_path, sizeof u.sun_path, "%s", port);
        unlink(port);
        ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (ls < 0 || bind(ls, (struct sockaddr *)&u, sizeof u) != 0 ||
            listen(ls, 8) != 0) {
            fprintf(stderr, "bench_orb: Unix server: %s\n", strerror(errno));
            return 1;
        }
    } else {
        ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in a = {.sin_family = AF_INET};
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t al = sizeof a;
        if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof a) != 0 ||
            listen(ls, 8) != 0 ||
            getsockname(ls, (struct sockaddr *)&a, &al) != 0) {
            fprintf(stderr, "bench_orb: TCP server: %s\n", strerror(errno));
            return 1;
        }
        snprintf(port, sizeof port, "%u", (unsigned)ntohs(a.sin_port));
    }
    uint8_t *buf = calloc(1, RAW_MAX_FRAME);
    if (buf == NULL)
        return 1;
    server_signals();
    announce(fd, port);
    while (!server_stop) {
        int c = accept(ls, NULL, NULL);
        if (c < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        int one = 1;
        if (!is_unix)
            setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        uint32_t hdr[2];
        while (!server_stop && read_full(c, (uint8_t *)hdr, sizeof hdr)) {
            if (hdr[0] < sizeof hdr || hdr[0] > RAW_MAX_FRAME ||
                hdr[1] > RAW_MAX_FRAME ||
                !read_full(c, buf, hdr[0] - sizeof hdr) ||
                !write_full(c, buf, hdr[1]))
                break;
        }
        close(c);
    }
    close(ls);
    if (is_unix)
        unlink(port);
    free(buf);
    return 0;
}

static int impl_echo_long(void *self, int32_t v, int32_t *ret, phx_env_t *env)
{
    (void)self;
    (void)env;
    *ret = v;
    return PHX_OK;
}

static int impl_echo_octets(void *self, const uint8_t *data, size_t len,
                            phx_sequence_t *ret, phx_env_t *env)
{
    (void)self;
    (void)env;
    ret->_buffer = (void *)data;
    ret->_length = ret->_maximum = (uint32_t)len;
    ret->_release = false;
    return PHX_OK;
}

static int impl_ping(void *self, int32_t v, phx_env_t *env)
{
    (void)self;
    (void)v;
    (void)env;
    server_pings++;
    return PHX_OK;
}

static int impl_count(void *self, int32_t *ret, phx_env_t *env)
{
    (void)self;
    (void)env;
    *ret = server_pings;
    return PHX_OK;
}

static int impl_fail(void *self, int32_t code, const char *why,
                     phx_env_t *env)
{
    (void)self;
    return Echo_raise_Failed(env, code, why);
}

static int impl_sleep_ms(void *self, int32_t ms, phx_env_t *env)
{
    (void)self;
    (void)env;
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (ms > 0 && nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
    return PHX_OK;
}

static int impl_shutdown(void *self, phx_env_t *env)
{
    (void)self;
    (void)env;
    phx_orb_shutdown(server_orb);
    return PHX_OK;
}

static const Echo_impl bench_echo_impl = {
    impl_echo_long, impl_echo_octets, impl_ping,    impl_count,
    impl_fail,      impl_sleep_ms,    impl_shutdown,
};

static int serve_orb(int fd)
{
    char uep[160], upath[128];
    unix_path(upath, sizeof upath, "orb");
    snprintf(uep, sizeof uep, "iiop+unix://%s", upath);
    const char *listen[] = {"tcp://127.0.0.1:*", "iiop://127.0.0.1:*", uep};
    phx_orb_config_t cfg;
    phx_orb_config_init(&cfg);
    cfg.listen = listen;
    cfg.listen_count = 3;
    phx_error_t err;
    phx_error_clear(&err);
    if (phx_orb_create(&cfg, &server_orb, &err) != PHX_OK) {
        fprintf(stderr, "bench_orb: ORB server: %s\n", err.msg);
        return 1;
    }
    Echo_servant servant;
    Echo_servant_init(&servant, &bench_echo_impl, NULL);
    phx_object_t *ref;
    char *ior;
    if (phx_orb_activate(server_orb, &servant.base, OBJECT_KEY,
                         strlen(OBJECT_KEY), &ref, &err) != PHX_OK) {
        fprintf(stderr, "bench_orb: ORB server: %s\n", err.msg);
        phx_orb_destroy(server_orb);
        return 1;
    }
    int rc = phx_object_to_string(ref, &ior);
    phx_object_release(ref);
    if (rc != PHX_OK) {
        fprintf(stderr, "bench_orb: ORB server: cannot stringify the "
                        "reference\n");
        phx_orb_destroy(server_orb);
        return 1;
    }
    server_signals();
    announce(fd, ior);
    free(ior);
    rc = phx_orb_run(server_orb);
    phx_orb_destroy(server_orb);
    return rc == PHX_OK ? 0 : 1;
}

static void orb_fail(const char *what, phx_env_t *env)
{
    char buf[512];
    die("%s raised %s", what, phx_env_describe(env, buf, sizeof buf));
}

/* This program's path, for starting the servers. */
static char self_exe[4096];

/* Start this program in a server mode; returns its pid and the line it
 * announces (endpoint or IOR, malloc'd). */
static pid_t spawn_server(const char *mode, char **line)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0)
        die("pipe: %s", strerror(errno));
    pid_t parent = getpid();
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        die("fork: %s", strerror(errno));
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(1);
        close(p[0]);
        int fl = fcntl(p[1], F_GETFD);
        fcntl(p[1], F_SETFD, fl & ~FD_CLOEXEC);
        char fdarg[16];
        snprintf(fdarg, sizeof fdarg, "%d", p[1]);
        execl(self_exe, self_exe, mode, fdarg, (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    if (buf == NULL)
        die("out of memory");
    int64_t deadline = now_ns() + 15 * (int64_t)1000000000;
    for (;;) {
        int left = (int)((deadline - now_ns()) / 1000000);
        struct pollfd pfd = {.fd = p[0], .events = POLLIN};
        if (left <= 0 || poll(&pfd, 1, left) == 0)
            die("%s server did not start within 15 s", mode);
        if (len + 1 == cap) {
            char *nb = realloc(buf, cap *= 2);
            if (nb == NULL)
                die("out of memory");
            buf = nb;
        }
        ssize_t n = read(p[0], buf + len, cap - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            die("reading from the %s server: %s", mode, strerror(errno));
        if (n == 0)
            break;
        len += (size_t)n;
    }
    close(p[0]);
    buf[len] = '\0';
    buf[strcspn(buf, "\r\n")] = '\0';
    if (buf[0] == '\0') {
        int status = 0;
        waitpid(pid, &status, 0);
        die("%s server exited before serving (status %d)", mode, status);
    }
    *line = buf;
    return pid;
}

/* ------------------------------------------------------------------ */
/* Frame sizes: what the ORB really puts on the wire                    */
/* ------------------------------------------------------------------ */

/*
 * One call of each kind is made through a relay (ROUTER in front, DEALER
 * to the ORB server) that records the size of every frame going either
 * way, so the raw baseline moves exactly the bytes the ORB moves, whatever
 * the stubs and the ORB put in their messages.
 */
enum { F_LONG, F_1K, F_64K, F_PING, F_COUNT, F_KINDS };

typedef struct frame_sizes {
    size_t request[F_KINDS];
    size_t reply[F_KINDS]; /* 0 for the oneway ping */
} frame_sizes_t;

static frame_sizes_t frames;

#define RELAY_LOG 16

typedef struct relay {
    void *front, *back;
    atomic_bool stop;
    atomic_size_t nreq, nrep;
    size_t req[RELAY_LOG], rep[RELAY_LOG];
    atomic_int bad; /* a message of more than one frame was seen */
} relay_t;

/* Receive one whole message without waiting: returns its number of
 * frames (0 if none was there), with the first frame moved into first
 * (when not NULL) and the last one into last. */
static int relay_recv(void *sock, zmq_msg_t *first, zmq_msg_t *last)
{
    int n = 0;
    bool more = true;
    while (more) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m);
            break;
        }
        more = zmq_msg_more(&m);
        if (n++ == 0 && first && more) {
            zmq_msg_close(first);
            zmq_msg_init(first);
            zmq_msg_move(first, &m);
        } else {
            zmq_msg_close(last);
            zmq_msg_init(last);
            zmq_msg_move(last, &m);
        }
        zmq_msg_close(&m);
    }
    return n;
}

static void *relay_main(void *arg)
{
    relay_t *r = arg;
    zmq_msg_t peer;
    zmq_msg_init(&peer);
    while (!atomic_load(&r->stop)) {
        zmq_pollitem_t it[2] = {{r->front, 0, ZMQ_POLLIN, 0},
                                {r->back, 0, ZMQ_POLLIN, 0}};
        if (zmq_poll(it, 2, 50) <= 0)
            continue;
        if (it[0].revents & ZMQ_POLLIN) {
            zmq_msg_t id, body;
            zmq_msg_init(&id);
            zmq_msg_init(&body);
            int n = relay_recv(r->front, &id, &body);
            if (n != 2)
                atomic_store(&r->bad, 1);
            if (n >= 2) {
                size_t i = atomic_load(&r->nreq);
                if (i < RELAY_LOG)
                    r->req[i] = zmq_msg_size(&body);
                atomic_store(&r->nreq, i + 1);
                zmq_msg_close(&peer);
                zmq_msg_init(&peer);
                zmq_msg_copy(&peer, &id);
                zmq_msg_send(&body, r->back, 0);
            }
            zmq_msg_close(&id);
            zmq_msg_close(&body);
        }
        if (it[1].revents & ZMQ_POLLIN) {
            zmq_msg_t body;
            zmq_msg_init(&body);
            int n = relay_recv(r->back, NULL, &body);
            if (n != 1)
                atomic_store(&r->bad, 1);
            if (n >= 1) {
                size_t i = atomic_load(&r->nrep);
                if (i < RELAY_LOG)
                    r->rep[i] = zmq_msg_size(&body);
                atomic_store(&r->nrep, i + 1);
                zmq_msg_t id;
                zmq_msg_init(&id);
                zmq_msg_copy(&id, &peer);
                zmq_msg_send(&id, r->front, ZMQ_SNDMORE);
                zmq_msg_send(&body, r->front, 0);
                zmq_msg_close(&id);
            }
            zmq_msg_close(&body);
        }
    }
    zmq_msg_close(&peer);
    return NULL;
}

/* Learn the frame sizes by calling the server once per kind of call
 * through a relay.  The relay's sockets stay open (idle) until the end,
 * so the ORB's connection to it does not keep reconnecting. */
static void measure_frames(phx_orb_t *orb, phx_object_t *server, void *ctx,
                           relay_t *r)
{
    phx_ior_t sior;
    phx_profile_t prof;
    phx_error_t err;
    phx_error_clear(&err);
    memset(&prof, 0, sizeof prof);
    if (phx_object_get_ior(server, &sior) != PHX_OK ||
        sior.profile_count == 0 ||
        phx_profile_decode(&sior.profiles[0], &prof, &err) != PHX_OK ||
        prof.endpoint == NULL)
        die("cannot read the ORB server's endpoint: %s", err.msg);

    memset(r, 0, sizeof *r);
    r->front = zmq_socket(ctx, ZMQ_ROUTER);
    r->back = zmq_socket(ctx, ZMQ_DEALER);
    int zero = 0;
    if (r->front == NULL || r->back == NULL)
        die("relay sockets: %s", zmq_strerror(zmq_errno()));
    zmq_setsockopt(r->front, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(r->back, ZMQ_LINGER, &zero, sizeof zero);
    char ep[256];
    size_t eplen = sizeof ep;
    if (zmq_bind(r->front, "tcp://127.0.0.1:*") != 0 ||
        zmq_getsockopt(r->front, ZMQ_LAST_ENDPOINT, ep, &eplen) != 0 ||
        zmq_connect(r->back, prof.endpoint) != 0)
        die("relay: %s", zmq_strerror(zmq_errno()));

    phx_ior_t rior;
    phx_object_t *via;
    if (phx_ior_make_zmq(&rior, phx_object_type_id(server), ep, prof.key,
                         prof.key_len, NULL, 0) != PHX_OK ||
        phx_object_from_ior(orb, &rior, &via, &err) != PHX_OK)
        die("cannot make a reference to the relay: %s", err.msg);
    phx_ior_fini(&rior);
    phx_profile_fini(&prof);
    phx_ior_fini(&sior);

    pthread_t th;
    if (pthread_create(&th, NULL, relay_main, r) != 0)
        die("cannot start the relay thread");

    static uint8_t buf[65536];
    phx_env_t env = PHX_ENV_INIT;
    int32_t v = 0;
    uint8_t *out = NULL;
    size_t out_len;
    const char *what = "Echo::echo_long";
    int rc = Echo_echo_long(via, 7, &v, &env);
    if (rc == PHX_OK) {
        what = "Echo::echo_octets";
        rc = Echo_echo_octets(via, buf, 1024, &out, &out_len, &env);
        free(out);
        out = NULL;
    }
    if (rc == PHX_OK) {
        rc = Echo_echo_octets(via, buf, sizeof buf, &out, &out_len, &env);
        free(out);
    }
    if (rc == PHX_OK) {
        what = "Echo::ping";
        rc = Echo_ping(via, 1, &env);
    }
    if (rc == PHX_OK) {
        what = "Echo::count";
        rc = Echo_count(via, &v, &env);
    }
    if (rc != PHX_OK)
        orb_fail(what, &env);
    atomic_store(&r->stop, true);
    pthread_join(th, NULL);
    phx_object_release(via);

    if (atomic_load(&r->bad))
        die("an ORB message was not a single ZeroMQ frame; the raw "
            "baseline assumes one frame per message");
    if (atomic_load(&r->nreq) != F_KINDS || atomic_load(&r->nrep) != 4)
        die("relay saw %zu requests and %zu replies, expected %d and 4",
            atomic_load(&r->nreq), atomic_load(&r->nrep), F_KINDS);
    for (int k = 0; k < F_KINDS; k++)
        frames.request[k] = r->req[k];
    frames.reply[F_LONG] = r->rep[0];
    frames.reply[F_1K] = r->rep[1];
    frames.reply[F_64K] = r->rep[2];
    frames.reply[F_COUNT] = r->rep[3];
    for (int k = 0; k < F_KINDS; k++)
        if (frames.request[k] < 8 || (k != F_PING && frames.reply[k] < 8))
            die("implausibly small ORB frame (%zu/%zu bytes)",
                frames.request[k], frames.reply[k]);
}

static void relay_close(relay_t *r)
{
    zmq_close(r->front);
    zmq_close(r->back);
}

/* ------------------------------------------------------------------ */
/* Figures                                                              */
/* ------------------------------------------------------------------ */

typedef enum { K_RT, K_PIPE, K_ONEWAY } kind_t;

typedef struct figure {
    const char *name;     /* ORB figure */
    const char *base;     /* its raw baseline */
    kind_t kind;
    size_t payload;       /* echo_octets size; 0 = echo_long */
    double iters;         /* per run at BENCH_SCALE=1 */
    bool pinned;
    bool selected;
    int via;              /* VIA_ZMQ; VIA_IIOP: over IIOP/TCP, against a
                             raw TCP ping-pong; VIA_UNIX: over IIOP on a
                             Unix socket, against a raw Unix ping-pong */
} figure_t;

enum { VIA_ZMQ = 0, VIA_IIOP = 1, VIA_UNIX = 2 };

static figure_t figures[] = {
    {"orb_echo_long", "zmq_rt_small", K_RT, 0, 8000, false, false, false},
    {"orb_echo_long_pinned", "zmq_rt_small_pinned", K_RT, 0, 8000, true,
     false, false},
    {"orb_echo_1k", "zmq_rt_1k", K_RT, 1024, 8000, false, false, false},
    {"orb_echo_1k_pinned", "zmq_rt_1k_pinned", K_RT, 1024, 8000, true,
     false, false},
    {"orb_echo_64k", "zmq_rt_64k", K_RT, 65536, 1500, false, false, false},
    {"orb_echo_64k_pinned", "zmq_rt_64k_pinned", K_RT, 65536, 1500, true,
     false, false},
    {"orb_pipelined", "zmq_pipelined", K_PIPE, 0, 60000, false, false, false},
    {"orb_oneway", "zmq_oneway", K_ONEWAY, 0, 100000, false, false, false},
    {"orb_iiop_echo_long", "tcp_rt_small", K_RT, 0, 8000, false, false,
     true},
    {"orb_iiop_echo_long_pinned", "tcp_rt_small_pinned", K_RT, 0, 8000, true,
     false, true},
    {"orb_iiop_echo_1k", "tcp_rt_1k", K_RT, 1024, 8000, false, false,
     VIA_IIOP},
    {"orb_iiop_echo_64k", "tcp_rt_64k", K_RT, 65536, 1500, false, false,
     VIA_IIOP},
    {"orb_unix_echo_long", "unix_rt_small", K_RT, 0, 8000, false, false,
     VIA_UNIX},
    {"orb_unix_echo_long_pinned", "unix_rt_small_pinned", K_RT, 0, 8000, true,
     false, VIA_UNIX},
};
#define NFIGURES (sizeof figures / sizeof figures[0])

typedef struct result {
    double median_us, p99_us, ops_s;
} result_t;

/* One measurement: samples are per-operation times in ns. */
typedef struct run {
    int64_t *samples;
    size_t n;
    int64_t elapsed_ns;
} run_t;

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static result_t summarize(run_t *r)
{
    result_t res = {0, 0, 0};
    if (r->n == 0)
        return res;
    qsort(r->samples, r->n, sizeof *r->samples, cmp_i64);
    size_t mid = r->n / 2;
    double med = r->n % 2 ? (double)r->samples[mid]
                          : ((double)r->samples[mid - 1] +
                             (double)r->samples[mid]) / 2;
    size_t i99 = (r->n * 99 + 99) / 100; /* ceil(0.99 n), 1-based */
    if (i99 > 0)
        i99--;
    res.median_us = med / 1000.0;
    res.p99_us = (double)r->samples[i99] / 1000.0;
    res.ops_s = r->elapsed_ns > 0
                    ? (double)r->n * 1e9 / (double)r->elapsed_ns
                    : 0;
    return res;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median_of(double *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static result_t median_result(const result_t *rs, size_t n)
{
    double a[MAX_RUNS], b[MAX_RUNS], c[MAX_RUNS];
    for (size_t i = 0; i < n; i++) {
        a[i] = rs[i].median_us;
        b[i] = rs[i].p99_us;
        c[i] = rs[i].ops_s;
    }
    result_t m = {median_of(a, n), median_of(b, n), median_of(c, n)};
    return m;
}

/* ------------------------------------------------------------------ */
/* Raw ZeroMQ client                                                    */
/* ------------------------------------------------------------------ */

typedef struct raw_client {
    void *ctx, *sock;
    uint8_t *buf;
} raw_client_t;

static void raw_open(raw_client_t *c, const char *endpoint)
{
    c->ctx = zmq_ctx_new();
    c->sock = c->ctx ? zmq_socket(c->ctx, ZMQ_DEALER) : NULL;
    if (c->sock == NULL)
        die("zmq socket: %s", zmq_strerror(zmq_errno()));
    int zero = 0, tmo = 10000;
    zmq_setsockopt(c->sock, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(c->sock, ZMQ_RCVTIMEO, &tmo, sizeof tmo);
    zmq_setsockopt(c->sock, ZMQ_SNDTIMEO, &tmo, sizeof tmo);
    if (zmq_connect(c->sock, endpoint) != 0)
        die("zmq_connect %s: %s", endpoint, zmq_strerror(zmq_errno()));
    c->buf = calloc(1, RAW_MAX_FRAME);
    if (c->buf == NULL)
        die("out of memory");
    for (size_t i = 0; i < RAW_MAX_FRAME; i++)
        c->buf[i] = (uint8_t)(i * 7);
}

static void raw_close(raw_client_t *c)
{
    zmq_close(c->sock);
    zmq_ctx_term(c->ctx);
    free(c->buf);
}

static void raw_send(raw_client_t *c, size_t len, uint32_t reply_len,
                     uint32_t op)
{
    uint32_t hdr[2] = {reply_len, op};
    memcpy(c->buf, hdr, sizeof hdr);
    if (zmq_send(c->sock, c->buf, len, 0) != (int)len)
        die("raw send: %s", zmq_strerror(zmq_errno()));
}

static size_t raw_recv(raw_client_t *c, uint32_t *first)
{
    zmq_msg_t m;
    zmq_msg_init(&m);
    int n = zmq_msg_recv(&m, c->sock, 0);
    if (n < 0)
        die("raw receive: %s", zmq_strerror(zmq_errno()));
    if (first && n >= 4)
        memcpy(first, zmq_msg_data(&m), 4);
    zmq_msg_close(&m);
    return (size_t)n;
}

static void raw_expect(raw_client_t *c, size_t want)
{
    size_t got = raw_recv(c, NULL);
    if (got != want)
        die("raw reply of %zu bytes, expected %zu", got, want);
}

/* ------------------------------------------------------------------ */
/* Workloads                                                            */
/* ------------------------------------------------------------------ */

typedef struct target {
    raw_client_t raw;
    int tcp;              /* connection to the TCP server */
    int ux;               /* connection to the Unix-socket server */
    phx_object_t *obj;
    phx_object_t *iiop;   /* the ORB server through its IIOP profile */
    phx_object_t *unix_;  /* ... through its iiop+unix profile */
    int32_t pings_seen;  /* ORB server's ping count after the last check */
    uint8_t *payload;    /* source of echo_octets arguments */
} target_t;

static void orb_rt(target_t *t, phx_object_t *obj, size_t payload, int32_t i,
                   bool check)
{
    phx_env_t env = PHX_ENV_INIT;
    if (payload == 0) {
        int32_t ret = 0;
        if (Echo_echo_long(obj, i, &ret, &env) != PHX_OK)
            orb_fail("Echo::echo_long", &env);
        if (ret != i)
            die("Echo::echo_long(%d) returned %d", i, ret);
        return;
    }
    uint8_t *out = NULL;
    size_t out_len = 0;
    if (Echo_echo_octets(obj, t->payload, payload, &out, &out_len,
                         &env) != PHX_OK)
        orb_fail("Echo::echo_octets", &env);
    if (out_len != payload || (check && memcmp(out, t->payload, payload)))
        die("Echo::echo_octets(%zu bytes) returned %zu different bytes",
            payload, out_len);
    free(out);
}

/* One TCP (or Unix socket) ping-pong on fd: qlen bytes there, plen
 * bytes back. */
static void tcp_rt(target_t *t, int fd, size_t qlen, size_t plen)
{
    uint32_t hdr[2] = {(uint32_t)qlen, (uint32_t)plen};
    memcpy(t->raw.buf, hdr, sizeof hdr);
    if (!write_full(fd, t->raw.buf, qlen) ||
        !read_full(fd, t->raw.buf + RAW_MAX_FRAME / 2, plen))
        die("raw stream round trip: %s", strerror(errno));
}

static void run_rt(target_t *t, const figure_t *f, bool orb, size_t n,
                   size_t warm, run_t *r)
{
    int k = f->payload == 0 ? F_LONG : f->payload <= 1024 ? F_1K : F_64K;
    size_t qlen = frames.request[k], plen = frames.reply[k];
    phx_object_t *obj = f->via == VIA_IIOP   ? t->iiop
                        : f->via == VIA_UNIX ? t->unix_
                                             : t->obj;
    int sfd = f->via == VIA_UNIX ? t->ux : t->tcp;
    for (size_t i = 0; i < warm; i++) {
        if (orb) {
            orb_rt(t, obj, f->payload, (int32_t)i, true);
        } else if (f->via != VIA_ZMQ) {
            tcp_rt(t, sfd, qlen, plen);
        } else {
            raw_send(&t->raw, qlen, (uint32_t)plen, RAW_ECHO);
            raw_expect(&t->raw, plen);
        }
    }
    pin(f->pinned);
    int64_t start = now_ns();
    for (size_t i = 0; i < n; i++) {
        int64_t t0 = now_ns();
        if (orb) {
            orb_rt(t, obj, f->payload, (int32_t)i, false);
        } else if (f->via != VIA_ZMQ) {
            tcp_rt(t, sfd, qlen, plen);
        } else {
            raw_send(&t->raw, qlen, (uint32_t)plen, RAW_ECHO);
            raw_expect(&t->raw, plen);
        }
        r->samples[i] = now_ns() - t0;
    }
    r->elapsed_ns = now_ns() - start;
    r->n = n;
}

/* depth requests in flight; each sample is one request's send-to-reply
 * time, elapsed covers all of them. */
static void pipe_loop(target_t *t, bool orb, size_t n, int64_t *samples,
                      int64_t *elapsed)
{
    size_t qlen = frames.request[F_LONG], plen = frames.reply[F_LONG];
    phx_request_t *ring[PIPE_DEPTH];
    int64_t sent_at[PIPE_DEPTH];
    size_t next = 0, done = 0;
    int64_t start = now_ns();
    while (done < n) {
        while (next < n && next - done < PIPE_DEPTH) {
            size_t slot = next % PIPE_DEPTH;
            sent_at[slot] = now_ns();
            if (orb) {
                phx_env_t env = PHX_ENV_INIT;
                if (Echo_echo_long_send(t->obj, (int32_t)next, &ring[slot],
                                        &env) != PHX_OK)
                    orb_fail("Echo::echo_long (deferred send)", &env);
            } else {
                raw_send(&t->raw, qlen, (uint32_t)plen, RAW_ECHO);
            }
            next++;
        }
        size_t slot = done % PIPE_DEPTH;
        if (orb) {
            phx_env_t env = PHX_ENV_INIT;
            int32_t ret = 0;
            if (Echo_echo_long_recv(ring[slot], &ret, &env) != PHX_OK)
                orb_fail("Echo::echo_long (deferred receive)", &env);
            if (ret != (int32_t)done)
                die("pipelined Echo::echo_long(%zu) returned %d", done, ret);
        } else {
            raw_expect(&t->raw, plen);
        }
        if (samples)
            samples[done] = now_ns() - sent_at[slot];
        done++;
    }
    if (elapsed)
        *elapsed = now_ns() - start;
}

static void run_pipe(target_t *t, const figure_t *f, bool orb, size_t n,
                     size_t warm, run_t *r)
{
    pipe_loop(t, orb, warm, NULL, NULL);
    pin(f->pinned);
    pipe_loop(t, orb, n, r->samples, &r->elapsed_ns);
    r->n = n;
}

/* n oneways then a twoway query that proves they were all processed;
 * each sample is one send, elapsed includes the final query. */
static void oneway_loop(target_t *t, bool orb, size_t n, int64_t *samples,
                        int64_t *elapsed)
{
    size_t qlen = frames.request[F_PING];
    size_t clen = frames.request[F_COUNT], plen = frames.reply[F_COUNT];
    int64_t start = now_ns();
    for (size_t i = 0; i < n; i++) {
        int64_t t0 = now_ns();
        if (orb) {
            phx_env_t env = PHX_ENV_INIT;
            if (Echo_ping(t->obj, (int32_t)i, &env) != PHX_OK)
                orb_fail("Echo::ping", &env);
        } else {
            raw_send(&t->raw, qlen, 0, RAW_ONEWAY);
        }
        if (samples)
            samples[i] = now_ns() - t0;
    }
    uint32_t got;
    if (orb) {
        phx_env_t env = PHX_ENV_INIT;
        int32_t count = 0;
        if (Echo_count(t->obj, &count, &env) != PHX_OK)
            orb_fail("Echo::count", &env);
        got = (uint32_t)(count - t->pings_seen);
        t->pings_seen = count;
    } else {
        raw_send(&t->raw, clen, (uint32_t)plen, RAW_COUNT);
        got = 0;
        if (raw_recv(&t->raw, &got) != plen)
            die("raw count reply of the wrong size");
    }
    if (elapsed)
        *elapsed = now_ns() - start;
    if (got != n)
        die("%s server saw %u of %zu oneway messages", orb ? "ORB" : "raw",
            got, n);
}

static void run_oneway(target_t *t, const figure_t *f, bool orb, size_t n,
                       size_t warm, run_t *r)
{
    oneway_loop(t, orb, warm, NULL, NULL);
    pin(f->pinned);
    oneway_loop(t, orb, n, r->samples, &r->elapsed_ns);
    r->n = n;
}

static void measure(target_t *t, const figure_t *f, bool orb, size_t n,
                    size_t warm, run_t *r)
{
    pin(f->pinned);
    switch (f->kind) {
    case K_RT:
        run_rt(t, f, orb, n, warm, r);
        break;
    case K_PIPE:
        run_pipe(t, f, orb, n, warm, r);
        break;
    case K_ONEWAY:
        run_oneway(t, f, orb, n, warm, r);
        break;
    }
}

static void print_line(const char *name, const result_t *r, const char *vs,
                       double ratio)
{
    printf("%s: median_us=%.2f p99_us=%.2f ops_s=%.0f vs=%s ratio=%.2f\n",
           name, r->median_us, r->p99_us, r->ops_s, vs, ratio);
    fflush(stdout);
}

static void run_figure(target_t *t, const figure_t *f, double scale,
                       size_t runs, bool verbose)
{
    size_t n = (size_t)(f->iters * scale + 0.5);
    if (n < 10)
        n = 10;
    size_t warm = n / 10 < 10 ? 10 : n / 10;
    run_t r = {.samples = malloc(n * sizeof(int64_t))};
    if (r.samples == NULL)
        die("out of memory");
    result_t raw[MAX_RUNS], orb[MAX_RUNS];
    for (size_t i = 0; i < runs; i++) {
        /* A B B A ...: a slow drift weighs on both sides alike. */
        for (int k = 0; k < 2; k++) {
            bool side_orb = (k == 0) == (i % 2 == 1);
            measure(t, f, side_orb, n, warm, &r);
            if (side_orb)
                orb[i] = summarize(&r);
            else
                raw[i] = summarize(&r);
        }
        if (verbose)
            fprintf(stderr,
                    "# run %zu/%zu: %s median_us=%.1f p99_us=%.1f "
                    "ops_s=%.0f | %s median_us=%.1f p99_us=%.1f "
                    "ops_s=%.0f\n",
                    i + 1, runs, f->base, raw[i].median_us, raw[i].p99_us,
                    raw[i].ops_s, f->name, orb[i].median_us, orb[i].p99_us,
                    orb[i].ops_s);
    }
    pin(false);
    free(r.samples);
    result_t rb = median_result(raw, runs), ro = median_result(orb, runs);
    double ratio;
    if (f->kind == K_RT)
        ratio = rb.median_us > 0 ? ro.median_us / rb.median_us : 0;
    else
        ratio = rb.ops_s > 0 ? ro.ops_s / rb.ops_s : 0;
    print_line(f->base, &rb, "self", 1.0);
    print_line(f->name, &ro, f->base, ratio);
}

/* ------------------------------------------------------------------ */
/* Main                                                                 */
/* ------------------------------------------------------------------ */

/* A reference to the same object holding only its first profile of one
 * kind: via VIA_IIOP its IIOP profile, VIA_UNIX its iiop+unix one,
 * VIA_ZMQ its ZeroMQ one. */
static phx_object_t *only_profile(phx_orb_t *orb, phx_object_t *obj, int via)
{
    phx_ior_t all, one;
    phx_ior_init(&one);
    if (phx_object_get_ior(obj, &all) != PHX_OK)
        die("cannot read the ORB server's reference");
    int rc = phx_ior_set_type_id(&one, all.type_id);
    bool found = false;
    for (uint32_t i = 0; rc == PHX_OK && i < all.profile_count; i++) {
        bool take =
            via == VIA_IIOP && all.profiles[i].tag == PHX_TAG_INTERNET_IOP;
        if (via != VIA_IIOP && all.profiles[i].tag == PHX_TAG_ZMQ_IOP) {
            phx_profile_t p;
            if (phx_profile_decode(&all.profiles[i], &p, NULL) == PHX_OK) {
                take = p.endpoint &&
                       (strncmp(p.endpoint, "iiop+unix://", 12) == 0) ==
                           (via == VIA_UNIX);
                phx_profile_fini(&p);
            }
        }
        if (take && !found) {
            rc = phx_ior_add_profile(&one, all.profiles[i].tag,
                                     all.profiles[i].data,
                                     all.profiles[i].len);
            found = true;
        }
    }
    phx_object_t *o = NULL;
    phx_error_t err;
    phx_error_clear(&err);
    if (rc != PHX_OK || !found ||
        phx_object_from_ior(orb, &one, &o, &err) != PHX_OK)
        die("the ORB server's reference has no usable %s profile %s",
            via == VIA_UNIX   ? "iiop+unix"
            : via == VIA_IIOP ? "IIOP"
                              : "ZeroMQ",
            err.msg);
    phx_ior_fini(&one);
    phx_ior_fini(&all);
    return o;
}

static int tcp_open(const char *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)atoi(port))};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0)
        die("cannot connect to the TCP server: %s", strerror(errno));
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

static int unix_open(const char *path)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un u = {.sun_family = AF_UNIX};
    snprintf(u.sun_path, sizeof u.sun_path, "%s", path);
    if (fd < 0 || connect(fd, (struct sockaddr *)&u, sizeof u) != 0)
        die("cannot connect to the Unix-socket server: %s", strerror(errno));
    return fd;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: bench_orb [NAME...] | --list | --serve-orb [FD] | "
                 "--serve-raw [FD] | --serve-tcp [FD] | --serve-unix [FD]\n"
                 "  NAME: a figure or a baseline name (--list shows them)\n"
                 "  env: BENCH_SCALE (default 1), BENCH_RUNS (default 9), "
                 "BENCH_VERBOSE=1, BENCH_TIMEOUT (s, default 900)\n");
}

static int server_fd(int argc, char **argv)
{
    if (argc < 3)
        return STDOUT_FILENO;
    char *end;
    long fd = strtol(argv[2], &end, 10);
    if (*end || fd < 0 || fd > 1 << 20) {
        usage(stderr);
        exit(2);
    }
    return (int)fd;
}

static void select_figures(int argc, char **argv)
{
    if (argc < 2) {
        for (size_t i = 0; i < NFIGURES; i++)
            figures[i].selected = true;
        return;
    }
    for (int a = 1; a < argc; a++) {
        bool found = false;
        for (size_t i = 0; i < NFIGURES; i++) {
            if (strcmp(argv[a], figures[i].name) == 0 ||
                strcmp(argv[a], figures[i].base) == 0) {
                figures[i].selected = true;
                found = true;
            }
        }
        if (!found) {
            fprintf(stderr, "bench_orb: unknown figure '%s'\n", argv[a]);
            usage(stderr);
            exit(2);
        }
    }
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "--serve-raw") == 0)
        return serve_raw(server_fd(argc, argv));
    if (argc >= 2 && strcmp(argv[1], "--serve-orb") == 0)
        return serve_orb(server_fd(argc, argv));
    if (argc >= 2 && strcmp(argv[1], "--serve-tcp") == 0)
        return serve_stream(server_fd(argc, argv), false);
    if (argc >= 2 && strcmp(argv[1], "--serve-unix") == 0)
        return serve_stream(server_fd(argc, argv), true);
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 ||
                      strcmp(argv[1], "-h") == 0)) {
        usage(stdout);
        return 0;
    }
    if (argc >= 2 && strcmp(argv[1], "--list") == 0) {
        for (size_t i = 0; i < NFIGURES; i++)
            printf("%s (baseline %s)\n", figures[i].name, figures[i].base);
        return 0;
    }
    select_figures(argc, argv);

    double scale = env_double("BENCH_SCALE", 1.0, 1e-4, 1e3);
    size_t runs = (size_t)env_double("BENCH_RUNS", 9, 1, MAX_RUNS);
    bool verbose = env_double("BENCH_VERBOSE", 0, 0, 1) != 0;
    unsigned limit = (unsigned)env_double("BENCH_TIMEOUT", 900, 1, 86400);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_fatal_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGALRM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    alarm(limit);

    ssize_t sl = readlink("/proc/self/exe", self_exe, sizeof self_exe - 1);
    if (sl <= 0 || (size_t)sl >= sizeof self_exe - 1)
        die("cannot find my own executable: %s", strerror(errno));
    self_exe[sl] = '\0';
    if (sched_getaffinity(0, sizeof all_cpus, &all_cpus) != 0)
        die("sched_getaffinity: %s", strerror(errno));
    /* "Pinned" means CPU 0, or the first CPU we may use. */
    int first_cpu = 0;
    while (first_cpu < CPU_SETSIZE - 1 && !CPU_ISSET(first_cpu, &all_cpus))
        first_cpu++;
    CPU_ZERO(&cpu0);
    CPU_SET(first_cpu, &cpu0);

    char *raw_ep, *ior, *tcp_port, *unix_sock;
    children[0] = spawn_server("--serve-raw", &raw_ep);
    children[1] = spawn_server("--serve-orb", &ior);
    children[2] = spawn_server("--serve-tcp", &tcp_port);
    children[3] = spawn_server("--serve-unix", &unix_sock);
    sa.sa_handler = on_sigchld;
    sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
    sigaction(SIGCHLD, &sa, NULL);

    phx_orb_config_t cfg;
    phx_orb_config_init(&cfg);
    cfg.call_timeout_ms = 10000;
    phx_orb_t *orb;
    phx_error_t err;
    phx_error_clear(&err);
    if (phx_orb_create(&cfg, &orb, &err) != PHX_OK)
        die("cannot create the client ORB: %s", err.msg);
    target_t t;
    memset(&t, 0, sizeof t);
    phx_object_t *all;
    if (phx_object_from_string(orb, ior, &all, &err) != PHX_OK)
        die("bad reference from the ORB server: %s", err.msg);
    /* Each figure through its own profile (the iiop+unix one comes first
     * in the server's reference and would otherwise be used for all). */
    t.obj = only_profile(orb, all, VIA_ZMQ);
    raw_open(&t.raw, raw_ep);
    t.iiop = only_profile(orb, all, VIA_IIOP);
    t.unix_ = only_profile(orb, all, VIA_UNIX);
    phx_object_release(all);
    t.tcp = tcp_open(tcp_port);
    t.ux = unix_open(unix_sock);
    relay_t relay;
    measure_frames(orb, t.obj, t.raw.ctx, &relay);
    phx_env_t env = PHX_ENV_INIT;
    if (Echo_count(t.obj, &t.pings_seen, &env) != PHX_OK)
        orb_fail("Echo::count", &env);
    t.payload = t.raw.buf + 4096;

    char load[64] = "?";
    FILE *lf = fopen("/proc/loadavg", "r");
    if (lf) {
        if (fgets(load, sizeof load, lf) == NULL)
            strcpy(load, "?");
        load[strcspn(load, "\n")] = '\0';
        fclose(lf);
    }
    fprintf(stderr, "# load average at start: %s\n", load);
    fprintf(stderr,
            "# frames (bytes): echo_long %zu/%zu, echo_octets 1k %zu/%zu, "
            "64k %zu/%zu, ping %zu, count %zu/%zu; %zu run(s) each, "
            "scale %g\n",
            frames.request[F_LONG], frames.reply[F_LONG],
            frames.request[F_1K], frames.reply[F_1K], frames.request[F_64K],
            frames.reply[F_64K], frames.request[F_PING],
            frames.request[F_COUNT], frames.reply[F_COUNT], runs, scale);

    for (size_t i = 0; i < NFIGURES; i++)
        if (figures[i].selected)
            run_figure(&t, &figures[i], scale, runs, verbose);

    phx_object_release(t.obj);
    phx_object_release(t.iiop);
    phx_object_release(t.unix_);
    phx_orb_destroy(orb);
    relay_close(&relay);
    raw_close(&t.raw);
    close(t.tcp);
    close(t.ux);
    free(raw_ep);
    free(ior);
    free(tcp_port);
    free(unix_sock);
    stopping_children = 1;
    for (size_t i = 0; i < sizeof children / sizeof children[0]; i++) {
        if (children[i] > 0) {
            kill(children[i], SIGTERM);
            int64_t deadline = now_ns() + 2 * (int64_t)1000000000;
            while (waitpid(children[i], NULL, WNOHANG) == 0) {
                if (now_ns() > deadline) {
                    kill(children[i], SIGKILL);
                    waitpid(children[i], NULL, 0);
                    break;
                }
                struct timespec ts = {0, 5000000};
                nanosleep(&ts, NULL);
            }
            children[i] = 0;
        }
    }
    return 0;
}
