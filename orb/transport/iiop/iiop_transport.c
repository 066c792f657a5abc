/*
 * iiop_transport.c - the IIOP transport: GIOP 1.2 messages over plain
 * TCP connections ("iiop://HOST:PORT") or Unix domain sockets
 * ("iiop+unix:///PATH"), framed by the GIOP header, with
 * no I/O thread: a calling thread reads and writes its own socket.
 *
 * Framing (shared by both sides, it_rx_*)
 *   Bytes are read without blocking into a staging buffer (IT_STAGE) and
 *   cut into messages: first the 12-byte header, checked at once (magic
 *   "GIOP"; 12 + size against max_message BEFORE anything is allocated;
 *   fragments refused), then a buffer of exactly 12 + size bytes is
 *   filled.  When the staging buffer is empty and much of a body is still
 *   missing, the body is read straight into the message buffer (no copy
 *   for large messages).  A partial message survives across calls, so a
 *   message may arrive byte by byte.  GIOP versions other than 1.2 are
 *   framed too (the size field is at the same place) and delivered: the
 *   ORB answers them with MessageError.
 *   GIOP 1.2 fragments are reassembled (rx_assemble): a Request, Reply,
 *   LocateRequest or LocateReply with the "more fragments" flag is kept,
 *   the data of each Fragment message with the same request id (after
 *   its 4-byte FragmentHeader) is appended, and the last fragment (flag
 *   clear) turns it into one message with the flag cleared and the size
 *   patched, delivered as if it had never been fragmented.  The whole is
 *   held to max_message.  One fragmented message at a time per
 *   connection: interleaved fragmented messages, a Fragment nobody
 *   started and fragments of GIOP 1.0/1.1 are refused.
 *   A framing error (bad magic, oversized message, refused fragment)
 *   makes the listener send MessageError and close that connection; on
 *   the client side it ends the connection like a loss.
 *
 * Listener side (event-loop thread)
 *   Listening sockets and accepted connections are all registered in one
 *   epoll instance, whose fd is the transport's only pollable: the set of
 *   connections changes all the time while the ORB polls a fixed list.
 *   on_readable(0) takes the ready events without waiting: it accepts new
 *   connections (non-blocking, TCP_NODELAY) and reads what each readable
 *   connection has, delivering every complete message (a bounded number
 *   of reads per connection and call, so a busy peer cannot starve the
 *   others; level-triggered epoll brings it back).
 *   A server connection (it_sconn_t) is reference-counted: the listener
 *   holds one reference while it is open, every delivered message one
 *   more (msg->route points at the connection).  Only the event loop
 *   closes the fd, under the connection's mutex, and marks it closed;
 *   send_reply (any thread) takes the same mutex, so a reply to a
 *   connection that has gone is dropped with PHX_ECLOSED, never written
 *   to a reused fd.  send_reply writes the whole reply, waiting for
 *   POLLOUT up to IT_REPLY_WAIT_MS; a reply that cannot be written
 *   completely leaves the stream unusable, so the connection is shut
 *   down (the event loop then sees EOF and closes it).  drop_peer shuts
 *   the connection down the same way.
 *
 * Connection side (the calling thread)
 *   States: down (no socket), connecting (non-blocking connect in
 *   progress), up.  conn_open starts the connect; conn_send completes it
 *   (POLLOUT until the deadline; a refusal is PHX_ECONNREFUSED, and the
 *   next send tries afresh; the deadline passing is PHX_ETIMEDOUT with
 *   the connect still in progress), then writes the whole message.  When
 *   the ORB reads the epoch of a connection that is idle (a message was
 *   received and nothing sent since: the ORB is about to send a new
 *   request), a zero-timeout poll checks that the peer has not hung up
 *   meanwhile (a restarted server): such a connection is counted as lost
 *   and closed, so the request is sent on a new connection, in the new
 *   epoch.  conn_recv polls before
 *   it reads (a reply is rarely there already), and neither side reads
 *   again after a read that left the socket empty: a round trip costs
 *   each side a write, a wait and a read.
 *   A loss (EOF, ECONNRESET, EPIPE, a framing error, a message only
 *   partly written) closes the socket, increments epoch and is reported
 *   once by conn_recv as PHX_ECLOSED; the next conn_send reconnects.
 *   SIGPIPE is avoided with MSG_NOSIGNAL.
 *
 * Unix domain sockets ("iiop+unix:///path", docs/orb.md)
 *   Everything above is shared; only the addresses differ (listen_unix,
 *   the c->path branch of conn_start).  A stale socket file (nothing
 *   accepts on it) is unlinked before bind; the file is chmod 0600
 *   between bind and listen and unlinked when the listener closes.  A
 *   client refuses (PHX_ECONNREFUSED, nothing sent) an endpoint of
 *   another host or a path where nothing accepts, so the ORB falls back
 *   to the reference's next (TCP) profile.
 *
 * Idle connections (cfg.idle_ms, cfg.server_idle_ms; 0 = off)
 *   Client: replies awaited are counted (twoway Requests and
 *   LocateRequests sent, Replies and LocateReplies received); conn_epoch
 *   (called before each request) closes a connection with none awaited
 *   that has been unused for idle_ms, without a loss (epoch unchanged).
 *   Server: sweep_idle (event loop, at most every IT_SWEEP_US) sends
 *   CloseConnection and closes connections that have no message
 *   delivered and unreleased, no partial message, and nothing read or
 *   released for server_idle_ms.
 *
 * Messages handed out own a malloc'd buffer (priv[0]); server ones also
 * hold a reference to their connection (priv[1]).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <phx/error.h>
#include <phx/giop.h>
#include <phx/ior.h>
#include <phx/log.h>
#include <phx/transport.h>

#include "iiop_transport.h"

#define MOD "iiop"

/* Staging buffer for reads. */
#define IT_STAGE 16384
/* A body with at least this much missing is read straight into place. */
#define IT_DIRECT_MIN 4096
/* Reads per connection and on_readable call. */
#define IT_READ_BUDGET 16
/* epoll events taken per on_readable call. */
#define IT_EVENTS 64
/* Longest a reply write waits for the peer to read. */
#define IT_REPLY_WAIT_MS 5000
/* connect_timeout_ms used when the configuration leaves it at 0. */
#define IT_DEFAULT_CONNECT_MS 5000
#define IT_BACKLOG 128

typedef struct it it_t;

/* Incoming-message assembly state of one connection. */
typedef struct it_rx {
    uint8_t *stage;
    size_t st_off, st_len;
    uint8_t hdr[PHX_GIOP_HEADER_SIZE];
    size_t hdr_got;
    uint8_t *msg; /* NULL while reading a header */
    size_t msg_len, msg_got;
    /* A fragmented message being put together (NULL when none). */
    uint8_t *frag;
    size_t frag_len, frag_cap;
    uint32_t frag_id;
} it_rx_t;

/* What epoll reports on: a listening socket or a server connection. */
typedef struct it_item {
    int kind; /* IT_LISTENER or IT_SCONN */
} it_item_t;

enum { IT_LISTENER = 1, IT_SCONN = 2 };

typedef struct it_listener {
    it_item_t item;
    it_t *t;
    int fd;
    char *endpoint;
    char *path; /* Unix socket file to unlink on close, or NULL */
    phx_deliver_fn deliver;
    void *arg;
} it_listener_t;

typedef struct it_sconn {
    it_item_t item;
    it_listener_t *l;
    int fd;
    atomic_int refs;
    pthread_mutex_t mu; /* fd writes, closed */
    bool closed;
    atomic_llong last_us; /* last message read or released */
    it_rx_t rx;
    struct it_sconn *prev, *next; /* open connections (event loop) */
} it_sconn_t;

typedef struct it_conn {
    it_t *t;
    char *endpoint;
    char *host;
    uint16_t port;
    char *path; /* Unix socket path (iiop+unix), NULL for TCP */
    int fd;
    bool connecting, up, lost, refused;
    uint64_t epoch;
    bool idle; /* nothing sent since the last message received */
    uint32_t pending; /* replies awaited (twoway requests sent, minus
                         replies received) */
    int64_t last_us;  /* last message sent or received */
    it_rx_t rx;
} it_conn_t;

struct it {
    phx_transport_config_t cfg;
    int epfd;
    it_listener_t **ls;
    size_t nls;
    it_sconn_t *sconns;
    int64_t next_sweep_us; /* next idle-connection sweep */
};

/* How often the listener looks for idle server connections (at most). */
#define IT_SWEEP_US 200000

/* ------------------------------------------------------------------ */
/* Helpers                                                              */
/* ------------------------------------------------------------------ */

static bool it_handles(const char *endpoint)
{
    return endpoint != NULL && (strncmp(endpoint, "iiop://", 7) == 0 ||
                                strncmp(endpoint, PHX_IIOP_UNIX_SCHEME,
                                        sizeof PHX_IIOP_UNIX_SCHEME - 1) == 0);
}

int phx__iiop_parse_unix(const char *endpoint, char **host, char **path)
{
    const size_t n = sizeof PHX_IIOP_UNIX_SCHEME - 1;
    if (endpoint == NULL || strncmp(endpoint, PHX_IIOP_UNIX_SCHEME, n) != 0)
        return PHX_EINVAL;
    const char *h = endpoint + n, *slash = strchr(h, '/');
    struct sockaddr_un sun;
    if (slash == NULL || slash[1] == '\0' ||
        strlen(slash) >= sizeof sun.sun_path)
        return PHX_EINVAL;
    char *hc = strndup(h, (size_t)(slash - h));
    char *pc = strdup(slash);
    if (hc == NULL || pc == NULL) {
        free(hc);
        free(pc);
        return PHX_ENOMEM;
    }
    *host = hc;
    *path = pc;
    return PHX_OK;
}

/* This host's name (for iiop+unix endpoints in references). */
static void local_hostname(char *buf, size_t len)
{
    if (gethostname(buf, len) != 0 || buf[0] == '\0')
        snprintf(buf, len, "localhost");
    buf[len - 1] = '\0';
}

/* Whether host (of an iiop+unix endpoint) names this machine. */
static bool host_is_local(const char *host)
{
    char me[256];
    if (host[0] == '\0' || strcmp(host, "localhost") == 0)
        return true;
    local_hostname(me, sizeof me);
    return strcmp(host, me) == 0;
}

static void unix_addr(struct sockaddr_un *sun, const char *path)
{
    memset(sun, 0, sizeof *sun);
    sun->sun_family = AF_UNIX;
    memcpy(sun->sun_path, path, strlen(path) + 1); /* length checked */
}

int phx__iiop_parse_endpoint(const char *endpoint, char **host,
                             uint16_t *port)
{
    if (!it_handles(endpoint))
        return PHX_EINVAL;
    const char *h = endpoint + 7, *hend, *colon;
    if (*h == '[') {
        hend = strchr(h, ']');
        if (hend == NULL || hend[1] != ':')
            return PHX_EINVAL;
        colon = hend + 1;
        h++;
    } else {
        colon = strrchr(h, ':');
        if (colon == NULL)
            return PHX_EINVAL;
        hend = colon;
    }
    if (hend == h)
        return PHX_EINVAL;
    const char *p = colon + 1;
    unsigned long v = 0;
    if (strcmp(p, "*") != 0) {
        if (*p == '\0')
            return PHX_EINVAL;
        for (; *p; p++) {
            if (*p < '0' || *p > '9')
                return PHX_EINVAL;
            v = v * 10 + (unsigned long)(*p - '0');
            if (v > 65535)
                return PHX_EINVAL;
        }
    }
    char *copy = strndup(h, (size_t)(hend - h));
    if (copy == NULL)
        return PHX_ENOMEM;
    *host = copy;
    *port = (uint16_t)v;
    return PHX_OK;
}

static int resolve(const char *host, uint16_t port, bool passive,
                   struct addrinfo **res, phx_error_t *err)
{
    char serv[8];
    snprintf(serv, sizeof serv, "%u", (unsigned)port);
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
    const char *node = strcmp(host, "*") == 0 ? NULL : host;
    int rc = getaddrinfo(node, serv, &hints, res);
    if (rc != 0)
        return phx_error_set(err, PHX_EINVAL, "cannot resolve '%s': %s", host,
                             gai_strerror(rc));
    return PHX_OK;
}

static void set_nodelay(int fd)
{
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static int wait_fd(int fd, short events, int64_t deadline_us)
{
    for (;;) {
        int tmo = -1;
        if (deadline_us >= 0) {
            int64_t rem = deadline_us - phx_now_us();
            if (rem <= 0)
                tmo = 0;
            else
                tmo = rem / 1000 + 1 > INT_MAX ? INT_MAX
                                               : (int)(rem / 1000 + 1);
        }
        struct pollfd pf = {fd, events, 0};
        int r = poll(&pf, 1, tmo);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0 && deadline_us >= 0 && phx_now_us() < deadline_us)
            continue;
        return r; /* 0: deadline passed */
    }
}

/* Write all of data; waits for POLLOUT up to deadline_us.  Returns 0, or
 * -1 with errno (ETIMEDOUT when the deadline passed) and *done set to the
 * bytes written. */
static int write_all(int fd, const uint8_t *data, size_t len,
                     int64_t deadline_us, size_t *done)
{
    size_t off = 0;
    while (off < len) {
        ssize_t n = send(fd, data + off, len - off, MSG_NOSIGNAL);
        if (n > 0) {
            off += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            int r = wait_fd(fd, POLLOUT, deadline_us);
            if (r < 0) {
                *done = off;
                return -1;
            }
            if (r == 0) {
                *done = off;
                errno = ETIMEDOUT;
                return -1;
            }
            continue;
        }
        *done = off;
        if (n == 0)
            errno = EPIPE;
        return -1;
    }
    *done = off;
    return 0;
}

static const uint8_t message_error[PHX_GIOP_HEADER_SIZE] = {
    'G', 'I', 'O', 'P', 1, 2, 0, PHX_GIOP_MESSAGE_ERROR, 0, 0, 0, 0};

/* ------------------------------------------------------------------ */
/* Framing                                                              */
/* ------------------------------------------------------------------ */

static void rx_reset(it_rx_t *rx)
{
    free(rx->frag);
    rx->frag = NULL;
    rx->frag_len = rx->frag_cap = 0;
    free(rx->msg);
    rx->msg = NULL;
    rx->msg_len = rx->msg_got = 0;
    rx->hdr_got = 0;
    rx->st_off = rx->st_len = 0;
}

static void rx_fini(it_rx_t *rx)
{
    rx_reset(rx);
    free(rx->stage);
    rx->stage = NULL;
}

/* Check a complete header and allocate the message buffer. */
static int rx_begin(it_rx_t *rx, size_t max_message, phx_error_t *err)
{
    const uint8_t *h = rx->hdr;
    if (memcmp(h, "GIOP", 4) != 0)
        return phx_error_set(err, PHX_EPROTO,
                             "bad GIOP magic %02x %02x %02x %02x", h[0], h[1],
                             h[2], h[3]);
    uint32_t size = (h[6] & PHX_GIOP_FLAG_LITTLE_ENDIAN)
                        ? (uint32_t)h[8] | (uint32_t)h[9] << 8 |
                              (uint32_t)h[10] << 16 | (uint32_t)h[11] << 24
                        : (uint32_t)h[8] << 24 | (uint32_t)h[9] << 16 |
                              (uint32_t)h[10] << 8 | (uint32_t)h[11];
    if ((h[7] == PHX_GIOP_FRAGMENT || (h[6] & PHX_GIOP_FLAG_FRAGMENT)) &&
        (h[4] != 1 || h[5] != 2))
        return phx_error_set(err, PHX_EUNSUPPORTED,
                             "GIOP %u.%u fragments are not accepted (only "
                             "1.2 ones)",
                             h[4], h[5]);
    size_t total = (size_t)size + PHX_GIOP_HEADER_SIZE;
    if ((max_message > 0 && total > max_message) || total < size)
        return phx_error_set(err, PHX_ELIMIT,
                             "message of %zu bytes exceeds max_message %zu",
                             total, max_message);
    rx->msg = malloc(total);
    if (rx->msg == NULL)
        return phx_error_set(err, PHX_ENOMEM, "out of memory");
    memcpy(rx->msg, rx->hdr, PHX_GIOP_HEADER_SIZE);
    rx->msg_len = total;
    rx->msg_got = PHX_GIOP_HEADER_SIZE;
    rx->hdr_got = 0;
    return PHX_OK;
}

/* Take a message out of what is staged: 1 with *out (malloc'd) and *len,
 * 0 when more bytes are needed, or a negative framing error. */
static int rx_parse(it_rx_t *rx, size_t max_message, uint8_t **out,
                    size_t *len, phx_error_t *err)
{
    for (;;) {
        if (rx->msg && rx->msg_got == rx->msg_len) {
            *out = rx->msg;
            *len = rx->msg_len;
            rx->msg = NULL;
            rx->msg_len = rx->msg_got = 0;
            return 1;
        }
        size_t avail = rx->st_len - rx->st_off;
        if (avail == 0)
            return 0;
        const uint8_t *src = rx->stage + rx->st_off;
        if (rx->msg == NULL) {
            size_t k = PHX_GIOP_HEADER_SIZE - rx->hdr_got;
            if (k > avail)
                k = avail;
            memcpy(rx->hdr + rx->hdr_got, src, k);
            rx->hdr_got += k;
            rx->st_off += k;
            if (rx->hdr_got == PHX_GIOP_HEADER_SIZE) {
                int rc = rx_begin(rx, max_message, err);
                if (rc != PHX_OK)
                    return rc;
            }
        } else {
            size_t k = rx->msg_len - rx->msg_got;
            if (k > avail)
                k = avail;
            memcpy(rx->msg + rx->msg_got, src, k);
            rx->msg_got += k;
            rx->st_off += k;
        }
        if (rx->st_off == rx->st_len)
            rx->st_off = rx->st_len = 0;
    }
}

static uint32_t get_u32(const uint8_t *p, bool le)
{
    return le ? (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                    (uint32_t)p[3] << 24
              : (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
                    (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* Fragment reassembly (GIOP 1.2, one fragmented message at a time per
 * connection).  Takes the whole message m (malloc'd, *len bytes).
 * Returns 1 when a complete message is in *out and *len (m itself or the
 * reassembled one), 0 when m was kept or merged as a fragment, or a
 * negative error (m is freed then). */
static int rx_assemble(it_rx_t *rx, size_t max_message, uint8_t *m,
                       size_t *len, uint8_t **out, phx_error_t *err)
{
    bool more = (m[6] & PHX_GIOP_FLAG_FRAGMENT) != 0;
    bool le = (m[6] & PHX_GIOP_FLAG_LITTLE_ENDIAN) != 0;
    if (m[7] != PHX_GIOP_FRAGMENT && !more) {
        *out = m;
        return 1;
    }
    int rc = PHX_OK;
    if (*len < PHX_GIOP_HEADER_SIZE + 4) {
        rc = phx_error_set(err, PHX_EPROTO, "fragment without a request id");
        goto fail;
    }
    uint32_t id = get_u32(m + PHX_GIOP_HEADER_SIZE, le);
    if (m[7] != PHX_GIOP_FRAGMENT) {
        /* The first piece of a fragmented message. */
        if (rx->frag) {
            rc = phx_error_set(err, PHX_EUNSUPPORTED,
                               "interleaved fragmented messages are not "
                               "accepted");
            goto fail;
        }
        if (m[7] != PHX_GIOP_REQUEST && m[7] != PHX_GIOP_REPLY &&
            m[7] != PHX_GIOP_LOCATE_REQUEST && m[7] != PHX_GIOP_LOCATE_REPLY) {
            rc = phx_error_set(err, PHX_EPROTO,
                               "message type %u cannot be fragmented", m[7]);
            goto fail;
        }
        rx->frag = m;
        rx->frag_len = rx->frag_cap = *len;
        rx->frag_id = id;
        return 0;
    }
    if (rx->frag == NULL || id != rx->frag_id) {
        rc = phx_error_set(err, PHX_EPROTO,
                           "Fragment for request %u, which is not being "
                           "received",
                           id);
        goto fail;
    }
    size_t add = *len - PHX_GIOP_HEADER_SIZE - 4;
    if (max_message == 0 || max_message > UINT32_MAX)
        max_message = UINT32_MAX;
    if (rx->frag_len + add > max_message) {
        rc = phx_error_set(err, PHX_ELIMIT,
                           "fragmented message exceeds max_message %zu",
                           max_message);
        goto fail;
    }
    if (rx->frag_len + add > rx->frag_cap) {
        size_t cap = rx->frag_cap * 2;
        if (cap < rx->frag_len + add)
            cap = rx->frag_len + add;
        if (cap > max_message)
            cap = max_message;
        uint8_t *n = realloc(rx->frag, cap);
        if (n == NULL) {
            rc = phx_error_set(err, PHX_ENOMEM, "out of memory");
            goto fail;
        }
        rx->frag = n;
        rx->frag_cap = cap;
    }
    memcpy(rx->frag + rx->frag_len, m + PHX_GIOP_HEADER_SIZE + 4, add);
    rx->frag_len += add;
    free(m);
    if (more)
        return 0;
    /* The last fragment: one whole message, as if never fragmented. */
    uint8_t *w = rx->frag;
    bool wle = (w[6] & PHX_GIOP_FLAG_LITTLE_ENDIAN) != 0;
    uint32_t size = (uint32_t)(rx->frag_len - PHX_GIOP_HEADER_SIZE);
    w[6] &= (uint8_t)~PHX_GIOP_FLAG_FRAGMENT;
    for (int i = 0; i < 4; i++)
        w[8 + i] = (uint8_t)(size >> (wle ? 8 * i : 8 * (3 - i)));
    *out = w;
    *len = rx->frag_len;
    rx->frag = NULL;
    rx->frag_len = rx->frag_cap = 0;
    return 1;

fail:
    free(m);
    return rc;
}

/* The next whole (reassembled) message from what is staged: as
 * rx_parse. */
static int rx_next(it_rx_t *rx, size_t max_message, uint8_t **out,
                   size_t *len, phx_error_t *err)
{
    for (;;) {
        uint8_t *m = NULL;
        int r = rx_parse(rx, max_message, &m, len, err);
        if (r != 1)
            return r;
        r = rx_assemble(rx, max_message, m, len, out, err);
        if (r != 0)
            return r;
    }
}

/* One read from fd: > 0 bytes read, 0 at EOF, -1 with errno.  *drained
 * tells whether the read took less than it asked for (the socket had no
 * more: the next read would only fail with EAGAIN). */
static ssize_t rx_read(it_rx_t *rx, int fd, bool *drained)
{
    *drained = false;
    if (rx->st_off == rx->st_len && rx->msg &&
        rx->msg_len - rx->msg_got >= IT_DIRECT_MIN) {
        size_t want = rx->msg_len - rx->msg_got;
        ssize_t n;
        do
            n = recv(fd, rx->msg + rx->msg_got, want, 0);
        while (n < 0 && errno == EINTR);
        if (n > 0) {
            rx->msg_got += (size_t)n;
            *drained = (size_t)n < want;
        }
        return n;
    }
    if (rx->stage == NULL) {
        rx->stage = malloc(IT_STAGE);
        if (rx->stage == NULL) {
            errno = ENOMEM;
            return -1;
        }
    }
    if (rx->st_off == rx->st_len)
        rx->st_off = rx->st_len = 0;
    size_t want = IT_STAGE - rx->st_len;
    ssize_t n;
    do
        n = recv(fd, rx->stage + rx->st_len, want, 0);
    while (n < 0 && errno == EINTR);
    if (n > 0) {
        rx->st_len += (size_t)n;
        *drained = (size_t)n < want;
    }
    return n;
}

static void it_free_msg(phx_inmsg_t *m);

/* ------------------------------------------------------------------ */
/* Instance                                                             */
/* ------------------------------------------------------------------ */

static int it_init(const phx_transport_config_t *cfg, void **state,
                   phx_error_t *err)
{
    if (cfg == NULL || state == NULL)
        return phx_error_set(err, PHX_EINVAL,
                             "iiop transport init: NULL argument");
    it_t *t = calloc(1, sizeof *t);
    if (t == NULL)
        return phx_error_set(err, PHX_ENOMEM, "out of memory");
    t->cfg = *cfg;
    if (t->cfg.connect_timeout_ms == 0)
        t->cfg.connect_timeout_ms = IT_DEFAULT_CONNECT_MS;
    t->epfd = -1;
    *state = t;
    return PHX_OK;
}

static void sconn_unref(it_sconn_t *s)
{
    if (atomic_fetch_sub(&s->refs, 1) != 1)
        return;
    rx_fini(&s->rx);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

/* Close a server connection (event-loop thread). */
static void sconn_close(it_t *t, it_sconn_t *s)
{
    pthread_mutex_lock(&s->mu);
    if (t->epfd >= 0)
        epoll_ctl(t->epfd, EPOLL_CTL_DEL, s->fd, NULL);
    close(s->fd);
    s->fd = -1;
    s->closed = true;
    pthread_mutex_unlock(&s->mu);
    rx_reset(&s->rx);
    if (s->prev)
        s->prev->next = s->next;
    else
        t->sconns = s->next;
    if (s->next)
        s->next->prev = s->prev;
    sconn_unref(s);
}

static void it_fini(void *state)
{
    it_t *t = state;
    if (t == NULL)
        return;
    while (t->sconns)
        sconn_close(t, t->sconns);
    for (size_t i = 0; i < t->nls; i++) {
        close(t->ls[i]->fd);
        if (t->ls[i]->path) {
            (void)unlink(t->ls[i]->path);
            free(t->ls[i]->path);
        }
        free(t->ls[i]->endpoint);
        free(t->ls[i]);
    }
    free(t->ls);
    if (t->epfd >= 0)
        close(t->epfd);
    free(t);
}

/* ------------------------------------------------------------------ */
/* Listener side                                                        */
/* ------------------------------------------------------------------ */

static int ensure_epoll(it_t *t, phx_error_t *err)
{
    if (t->epfd < 0) {
        t->epfd = epoll_create1(EPOLL_CLOEXEC);
        if (t->epfd < 0)
            return phx_error_set(err, PHX_EIO, "epoll_create1: %s",
                                 strerror(errno));
    }
    return PHX_OK;
}

/* Register a bound, listening socket; takes fd, endpoint and path (on
 * failure too). */
static int add_listener(it_t *t, int fd, char *endpoint, char *path,
                        char **bound, phx_deliver_fn deliver, void *arg,
                        phx_error_t *err)
{
    int rc;
    it_listener_t *l = calloc(1, sizeof *l);
    it_listener_t **nls = realloc(t->ls, (t->nls + 1) * sizeof *nls);
    if (nls)
        t->ls = nls;
    if (l == NULL || nls == NULL || endpoint == NULL) {
        rc = phx_error_set(err, PHX_ENOMEM, "out of memory");
        goto fail;
    }
    l->item.kind = IT_LISTENER;
    l->t = t;
    l->fd = fd;
    l->endpoint = endpoint;
    l->path = path;
    l->deliver = deliver;
    l->arg = arg;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &l->item};
    if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
        rc = phx_error_set(err, PHX_EIO, "epoll_ctl: %s", strerror(errno));
        goto fail;
    }
    if (bound && (*bound = strdup(l->endpoint)) == NULL) {
        epoll_ctl(t->epfd, EPOLL_CTL_DEL, fd, NULL);
        rc = phx_error_set(err, PHX_ENOMEM, "out of memory");
        goto fail;
    }
    t->ls[t->nls++] = l;
    PHX_DEBUG(MOD, "listening on %s", l->endpoint);
    return PHX_OK;

fail:
    free(l);
    close(fd);
    if (path)
        unlink(path);
    free(path);
    free(endpoint);
    return rc;
}

/* Listen on a Unix domain socket.  A socket file left behind by a dead
 * server (nothing accepts on it) is removed first; a live one, or a file
 * that is not a socket, is left alone (PHX_EEXIST).  The file is made
 * mode 0600 between bind and listen (before any client can connect) and
 * removed when the listener closes. */
static int listen_unix(it_t *t, const char *endpoint, char **bound,
                       phx_deliver_fn deliver, void *arg, phx_error_t *err)
{
    char *host = NULL, *path = NULL;
    int rc = phx__iiop_parse_unix(endpoint, &host, &path);
    if (rc != PHX_OK || !host_is_local(host)) {
        free(host);
        free(path);
        return phx_error_set(err, PHX_EINVAL,
                             "iiop listen: bad endpoint '%s' (expected "
                             "iiop+unix:///PATH on this host)",
                             endpoint);
    }
    free(host);
    if ((rc = ensure_epoll(t, err)) != PHX_OK) {
        free(path);
        return rc;
    }
    struct sockaddr_un sun;
    unix_addr(&sun, path);
    struct stat st;
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            rc = phx_error_set(err, PHX_EEXIST,
                               "cannot listen on %s: %s exists and is not a "
                               "socket",
                               endpoint, path);
            free(path);
            return rc;
        }
        int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        bool live = probe >= 0 &&
                    connect(probe, (struct sockaddr *)&sun, sizeof sun) == 0;
        if (probe >= 0)
            close(probe);
        if (live) {
            rc = phx_error_set(err, PHX_EEXIST,
                               "cannot listen on %s: a server already "
                               "listens there",
                               endpoint);
            free(path);
            return rc;
        }
        PHX_INFO(MOD, "removing stale socket file %s", path);
        (void)unlink(path);
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        rc = phx_error_set(err, PHX_EIO, "socket: %s", strerror(errno));
        free(path);
        return rc;
    }
    if (bind(fd, (struct sockaddr *)&sun, sizeof sun) != 0) {
        int e = errno;
        rc = phx_error_set(err, e == EADDRINUSE ? PHX_EEXIST : PHX_EINVAL,
                           "cannot listen on %s: %s", endpoint, strerror(e));
        close(fd);
        free(path);
        return rc;
    }
    if (chmod(path, 0600) != 0 || listen(fd, IT_BACKLOG) != 0) {
        rc = phx_error_set(err, PHX_EIO, "cannot listen on %s: %s", endpoint,
                           strerror(errno));
        close(fd);
        unlink(path);
        free(path);
        return rc;
    }
    char me[256];
    local_hostname(me, sizeof me);
    size_t eplen = sizeof PHX_IIOP_UNIX_SCHEME + strlen(me) + strlen(path);
    char *ep = malloc(eplen);
    if (ep)
        snprintf(ep, eplen, "%s%s%s", PHX_IIOP_UNIX_SCHEME, me, path);
    return add_listener(t, fd, ep, path, bound, deliver, arg, err);
}

static int it_listen(void *state, const char *endpoint, char **bound,
                     phx_deliver_fn deliver, void *arg, phx_error_t *err)
{
    it_t *t = state;
    if (t != NULL && deliver != NULL && endpoint != NULL &&
        strncmp(endpoint, PHX_IIOP_UNIX_SCHEME,
                sizeof PHX_IIOP_UNIX_SCHEME - 1) == 0)
        return listen_unix(t, endpoint, bound, deliver, arg, err);
    char *host = NULL;
    uint16_t port = 0;
    if (t == NULL || deliver == NULL ||
        phx__iiop_parse_endpoint(endpoint, &host, &port) != PHX_OK)
        return phx_error_set(err, PHX_EINVAL,
                             "iiop listen: bad endpoint '%s' (expected "
                             "iiop://HOST:PORT or iiop+unix:///PATH)",
                             endpoint ? endpoint : "(null)");
    int rc;
    struct addrinfo *ai = NULL;
    int fd = -1;
    if ((rc = ensure_epoll(t, err)) != PHX_OK)
        goto fail;
    if ((rc = resolve(host, port, true, &ai, err)) != PHX_OK)
        goto fail;
    fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) {
        rc = phx_error_set(err, PHX_EIO, "socket: %s", strerror(errno));
        goto fail;
    }
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 ||
        listen(fd, IT_BACKLOG) != 0) {
        int e = errno;
        rc = phx_error_set(err, e == EADDRINUSE ? PHX_EEXIST : PHX_EINVAL,
                           "cannot listen on %s: %s", endpoint, strerror(e));
        goto fail;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0) {
        rc = phx_error_set(err, PHX_EIO, "getsockname: %s", strerror(errno));
        goto fail;
    }
    uint16_t bport = ss.ss_family == AF_INET6
                         ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                         : ntohs(((struct sockaddr_in *)&ss)->sin_port);
    size_t eplen = strlen(host) + 16;
    char *ep = malloc(eplen);
    if (ep)
        snprintf(ep, eplen,
                 strchr(host, ':') ? "iiop://[%s]:%u" : "iiop://%s:%u", host,
                 (unsigned)bport);
    freeaddrinfo(ai);
    free(host);
    return add_listener(t, fd, ep, NULL, bound, deliver, arg, err);

fail:
    if (fd >= 0)
        close(fd);
    if (ai)
        freeaddrinfo(ai);
    free(host);
    return rc;
}

static size_t it_pollables(void *state, phx_pollable_t *items, size_t max)
{
    it_t *t = state;
    if (t == NULL || t->nls == 0)
        return 0;
    if (items && max > 0) {
        items[0].zsock = NULL;
        items[0].fd = t->epfd;
    }
    return 1;
}

static void accept_all(it_listener_t *l)
{
    it_t *t = l->t;
    for (;;) {
        int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                PHX_WARN(MOD, "%s: accept: %s", l->endpoint, strerror(errno));
            return;
        }
        set_nodelay(fd);
        it_sconn_t *s = calloc(1, sizeof *s);
        if (s == NULL) {
            close(fd);
            PHX_ERROR(MOD, "%s: out of memory accepting", l->endpoint);
            return;
        }
        s->item.kind = IT_SCONN;
        s->l = l;
        s->fd = fd;
        atomic_init(&s->refs, 1);
        atomic_init(&s->last_us, phx_now_us());
        pthread_mutex_init(&s->mu, NULL);
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &s->item};
        if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
            PHX_WARN(MOD, "%s: epoll_ctl: %s", l->endpoint, strerror(errno));
            close(fd);
            pthread_mutex_destroy(&s->mu);
            free(s);
            continue;
        }
        s->next = t->sconns;
        if (s->next)
            s->next->prev = s;
        t->sconns = s;
        PHX_DEBUG(MOD, "%s: connection accepted", l->endpoint);
    }
}

/* Read what a server connection has and deliver every whole message. */
static void sconn_read(it_t *t, it_sconn_t *s)
{
    it_listener_t *l = s->l;
    int budget = IT_READ_BUDGET;
    bool drained = false;
    for (;;) {
        uint8_t *data;
        size_t len;
        phx_error_t err;
        phx_error_clear(&err);
        int r = rx_next(&s->rx, t->cfg.max_message, &data, &len, &err);
        if (r == 1) {
            phx_inmsg_t m;
            memset(&m, 0, sizeof m);
            m.data = data;
            m.len = len;
            m.route = s;
            m.release = it_free_msg;
            m.priv[0] = data;
            m.priv[1] = s;
            atomic_fetch_add(&s->refs, 1);
            l->deliver(l->arg, &m);
            if (s->closed)
                return;
            continue;
        }
        if (r < 0) {
            PHX_WARN(MOD, "%s: %s; answering MessageError and closing the "
                          "connection",
                     l->endpoint, err.msg);
            pthread_mutex_lock(&s->mu);
            if (!s->closed)
                (void)send(s->fd, message_error, sizeof message_error,
                           MSG_NOSIGNAL | MSG_DONTWAIT);
            pthread_mutex_unlock(&s->mu);
            sconn_close(t, s);
            return;
        }
        /* After a short read the socket is empty: epoll reports what
         * comes next. */
        if (drained || budget-- == 0)
            return;
        ssize_t n = rx_read(&s->rx, s->fd, &drained);
        if (n > 0) {
            atomic_store_explicit(&s->last_us, phx_now_us(),
                                  memory_order_relaxed);
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n == 0 || errno == ECONNRESET)
            PHX_DEBUG(MOD, "%s: peer closed the connection%s", l->endpoint,
                      s->rx.msg || s->rx.hdr_got ? " mid-message" : "");
        else
            PHX_WARN(MOD, "%s: reading: %s", l->endpoint, strerror(errno));
        sconn_close(t, s);
        return;
    }
}

static const uint8_t close_connection[PHX_GIOP_HEADER_SIZE] = {
    'G', 'I', 'O', 'P', 1, 2, 0, PHX_GIOP_CLOSE_CONNECTION, 0, 0, 0, 0};

/* Close server connections idle for server_idle_ms: no request being
 * processed (the listener's is the only reference), no partial message,
 * nothing read for that long.  GIOP CloseConnection goes first, so the
 * client knows no request of its was dropped (event-loop thread). */
static void sweep_idle(it_t *t, int64_t now)
{
    if (t->cfg.server_idle_ms == 0 || now < t->next_sweep_us)
        return;
    t->next_sweep_us = now + IT_SWEEP_US;
    int64_t limit = (int64_t)t->cfg.server_idle_ms * 1000;
    for (it_sconn_t *s = t->sconns, *next; s; s = next) {
        next = s->next;
        if (atomic_load(&s->refs) != 1 || s->rx.msg || s->rx.hdr_got ||
            s->rx.frag || s->rx.st_len > s->rx.st_off ||
            now - atomic_load_explicit(&s->last_us, memory_order_relaxed) <
                limit)
            continue;
        PHX_DEBUG(MOD, "%s: closing a connection idle for more than %u ms",
                  s->l->endpoint, t->cfg.server_idle_ms);
        pthread_mutex_lock(&s->mu);
        (void)send(s->fd, close_connection, sizeof close_connection,
                   MSG_NOSIGNAL | MSG_DONTWAIT);
        pthread_mutex_unlock(&s->mu);
        sconn_close(t, s);
    }
}

static void it_on_readable(void *state, size_t i)
{
    it_t *t = state;
    if (t == NULL || t->epfd < 0)
        return;
    if (t->cfg.server_idle_ms)
        sweep_idle(t, phx_now_us());
    if (i == SIZE_MAX)
        return;
    struct epoll_event evs[IT_EVENTS];
    int n;
    do
        n = epoll_wait(t->epfd, evs, IT_EVENTS, 0);
    while (n < 0 && errno == EINTR);
    /* A connection closed while handling an earlier event of this batch
     * could be freed: hold every connection of the batch meanwhile. */
    for (int k = 0; k < n; k++) {
        it_item_t *it = evs[k].data.ptr;
        if (it->kind == IT_SCONN)
            atomic_fetch_add(&((it_sconn_t *)it)->refs, 1);
    }
    for (int k = 0; k < n; k++) {
        it_item_t *it = evs[k].data.ptr;
        if (it->kind == IT_LISTENER) {
            accept_all((it_listener_t *)it);
        } else {
            it_sconn_t *s = (it_sconn_t *)it;
            if (!s->closed)
                sconn_read(t, s);
        }
    }
    for (int k = 0; k < n; k++) {
        it_item_t *it = evs[k].data.ptr;
        if (it->kind == IT_SCONN)
            sconn_unref((it_sconn_t *)it);
    }
}

static int it_send_reply(void *state, const phx_inmsg_t *msg,
                         phx_buf_t *reply, phx_error_t *err)
{
    it_t *t = state;
    if (t == NULL || msg == NULL || msg->priv[1] == NULL || reply == NULL ||
        (reply->data == NULL && reply->len > 0))
        return phx_error_set(err, PHX_EINVAL,
                             "iiop send_reply: not a request of a listener");
    it_sconn_t *s = msg->priv[1];
    if (t->cfg.max_message > 0 && reply->len > t->cfg.max_message)
        return phx_error_set(err, PHX_ELIMIT,
                             "reply of %zu bytes exceeds max_message %zu",
                             reply->len, t->cfg.max_message);
    pthread_mutex_lock(&s->mu);
    if (s->closed) {
        pthread_mutex_unlock(&s->mu);
        return phx_error_set(err, PHX_ECLOSED,
                             "%s: the peer of this request has gone",
                             s->l->endpoint);
    }
    size_t done = 0;
    int rc = write_all(s->fd, reply->data, reply->len,
                       phx_now_us() + (int64_t)IT_REPLY_WAIT_MS * 1000, &done);
    int e = errno;
    if (rc != 0 && done > 0)
        shutdown(s->fd, SHUT_RDWR);
    pthread_mutex_unlock(&s->mu);
    if (rc != 0)
        return phx_error_set(err, e == ETIMEDOUT ? PHX_ETIMEDOUT : PHX_ECLOSED,
                             "%s: sending a reply: %s", s->l->endpoint,
                             strerror(e));
    phx_buf_dispose(reply);
    reply->data = NULL;
    reply->len = 0;
    return PHX_OK;
}

static void it_drop_peer(void *state, const phx_inmsg_t *msg)
{
    (void)state;
    it_sconn_t *s = msg ? msg->priv[1] : NULL;
    if (s == NULL)
        return;
    pthread_mutex_lock(&s->mu);
    if (!s->closed)
        shutdown(s->fd, SHUT_RDWR);
    pthread_mutex_unlock(&s->mu);
}

static void it_free_msg(phx_inmsg_t *m)
{
    free(m->priv[0]);
    m->priv[0] = NULL;
    m->data = NULL;
    m->len = 0;
    if (m->priv[1]) {
        it_sconn_t *s = m->priv[1];
        if (s->l->t->cfg.server_idle_ms)
            atomic_store_explicit(&s->last_us, phx_now_us(),
                                  memory_order_relaxed);
        sconn_unref(m->priv[1]);
        m->priv[1] = NULL;
    }
}

/* ------------------------------------------------------------------ */
/* Connection side                                                      */
/* ------------------------------------------------------------------ */

static void conn_down(it_conn_t *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->connecting = c->up = false;
    c->pending = 0;
    rx_reset(&c->rx);
}

static void conn_lose(it_conn_t *c, const char *why)
{
    conn_down(c);
    c->epoch++;
    c->lost = true;
    PHX_INFO(MOD, "connection to %s lost (%s; epoch %llu)", c->endpoint, why,
             (unsigned long long)c->epoch);
}

/* Start a non-blocking connect. */
static int conn_start(it_conn_t *c, phx_error_t *err)
{
    c->last_us = phx_now_us();
    if (c->path) {
        /* Same framing, another address family.  Another host's socket
         * (or none at the path) is a refusal: the ORB moves on to the
         * reference's next profile (TCP). */
        if (!host_is_local(c->host)) {
            c->refused = true;
            return PHX_OK;
        }
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
                        0);
        if (fd < 0)
            return phx_error_set(err, PHX_EIO, "socket: %s", strerror(errno));
        struct sockaddr_un sun;
        unix_addr(&sun, c->path);
        int r = connect(fd, (struct sockaddr *)&sun, sizeof sun);
        int e = errno;
        c->fd = fd;
        if (r == 0) {
            c->up = true;
        } else if (e == EINPROGRESS || e == EINTR) {
            c->connecting = true;
        } else {
            /* ENOENT, ECONNREFUSED (stale file), EACCES, and EAGAIN (the
             * server's backlog is full: a Unix connect does not wait in
             * progress, it has to be retried): nothing was sent. */
            conn_down(c);
            c->refused = true;
        }
        return PHX_OK;
    }
    struct addrinfo *ai;
    int rc = resolve(c->host, c->port, false, &ai, err);
    if (rc != PHX_OK)
        return rc;
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
                    0);
    if (fd < 0) {
        freeaddrinfo(ai);
        return phx_error_set(err, PHX_EIO, "socket: %s", strerror(errno));
    }
    set_nodelay(fd);
    int r = connect(fd, ai->ai_addr, ai->ai_addrlen);
    int e = errno;
    freeaddrinfo(ai);
    c->fd = fd;
    if (r == 0) {
        c->up = true;
    } else if (e == EINPROGRESS || e == EINTR) {
        c->connecting = true;
    } else {
        conn_down(c);
        c->refused = true;
    }
    return PHX_OK;
}

static int it_conn_open(void *state, const char *endpoint, void **conn,
                        phx_error_t *err)
{
    it_t *t = state;
    char *host = NULL, *path = NULL;
    uint16_t port = 0;
    bool is_unix = endpoint != NULL &&
                   strncmp(endpoint, PHX_IIOP_UNIX_SCHEME,
                           sizeof PHX_IIOP_UNIX_SCHEME - 1) == 0;
    if (t == NULL || conn == NULL ||
        (is_unix ? phx__iiop_parse_unix(endpoint, &host, &path)
                 : (phx__iiop_parse_endpoint(endpoint, &host, &port) !=
                            PHX_OK ||
                        port == 0
                    ? PHX_EINVAL
                    : PHX_OK)) != PHX_OK) {
        free(host);
        free(path);
        return phx_error_set(err, PHX_EINVAL,
                             "iiop connect: bad endpoint '%s' (expected "
                             "iiop://HOST:PORT)",
                             endpoint ? endpoint : "(null)");
    }
    it_conn_t *c = calloc(1, sizeof *c);
    if (c == NULL || (c->endpoint = strdup(endpoint)) == NULL) {
        free(c);
        free(host);
        free(path);
        return phx_error_set(err, PHX_ENOMEM, "out of memory");
    }
    c->t = t;
    c->host = host;
    c->port = port;
    c->path = path;
    c->fd = -1;
    int rc = conn_start(c, err);
    if (rc != PHX_OK) {
        free(c->endpoint);
        free(c->host);
        free(c->path);
        free(c);
        return rc;
    }
    *conn = c;
    return PHX_OK;
}

static void it_conn_close(void *conn)
{
    it_conn_t *c = conn;
    if (c == NULL)
        return;
    conn_down(c);
    rx_fini(&c->rx);
    free(c->endpoint);
    free(c->host);
    free(c->path);
    free(c);
}

static int it_conn_send(void *conn, phx_buf_t *buf, int64_t deadline_us,
                        phx_error_t *err)
{
    it_conn_t *c = conn;
    if (c == NULL || buf == NULL || (buf->data == NULL && buf->len > 0))
        return phx_error_set(err, PHX_EINVAL, "iiop conn_send: NULL argument");
    it_t *t = c->t;
    if (t->cfg.max_message > 0 && buf->len > t->cfg.max_message)
        return phx_error_set(err, PHX_ELIMIT,
                             "message of %zu bytes exceeds max_message %zu",
                             buf->len, t->cfg.max_message);
    int64_t deadline =
        deadline_us > 0
            ? deadline_us
            : phx_now_us() + (int64_t)t->cfg.connect_timeout_ms * 1000;
    if (c->fd < 0 && !c->refused) {
        int rc = conn_start(c, err);
        if (rc != PHX_OK)
            return rc;
    }
    if (c->refused) {
        c->refused = false;
        return phx_error_set(err, PHX_ECONNREFUSED,
                             "nothing accepts connections at %s",
                             c->endpoint);
    }
    if (c->connecting) {
        int r = wait_fd(c->fd, POLLOUT, deadline);
        if (r < 0)
            return phx_error_set(err, PHX_EIO, "waiting for %s: %s",
                                 c->endpoint, strerror(errno));
        if (r == 0)
            return phx_error_set(err, PHX_ETIMEDOUT,
                                 "no connection to %s could be established "
                                 "before the deadline",
                                 c->endpoint);
        int soerr = 0;
        socklen_t sl = sizeof soerr;
        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0)
            soerr = errno;
        if (soerr != 0) {
            conn_down(c);
            return phx_error_set(err, soerr == ETIMEDOUT ? PHX_ETIMEDOUT
                                                         : PHX_ECONNREFUSED,
                                 "cannot connect to %s: %s", c->endpoint,
                                 strerror(soerr));
        }
        c->connecting = false;
        c->up = true;
        PHX_DEBUG(MOD, "connected to %s", c->endpoint);
    }
    size_t done = 0;
    if (write_all(c->fd, buf->data, buf->len, deadline, &done) != 0) {
        int e = errno;
        if (e == ETIMEDOUT && done == 0)
            return phx_error_set(err, PHX_ETIMEDOUT,
                                 "%s did not accept the message before the "
                                 "deadline",
                                 c->endpoint);
        conn_lose(c, strerror(e));
        c->lost = false; /* reported here */
        return phx_error_set(err, PHX_ECLOSED, "sending to %s: %s",
                             c->endpoint, strerror(e));
    }
    c->idle = false;
    if (t->cfg.idle_ms) {
        /* Count the replies awaited: a GIOP 1.2 Request says whether it
         * wants one (response_flags, after the request id); other
         * versions are assumed to. */
        const uint8_t *m = buf->data;
        if (buf->len >= PHX_GIOP_HEADER_SIZE &&
            (m[7] == PHX_GIOP_LOCATE_REQUEST ||
             (m[7] == PHX_GIOP_REQUEST &&
              !(m[4] == 1 && m[5] == 2 && buf->len > 16 &&
                (m[16] & 0x03) == 0))))
            c->pending++;
        c->last_us = phx_now_us();
    }
    phx_buf_dispose(buf);
    buf->data = NULL;
    buf->len = 0;
    return PHX_OK;
}

static int it_conn_recv(void *conn, phx_inmsg_t *msg, int64_t deadline_us,
                        phx_error_t *err)
{
    it_conn_t *c = conn;
    if (c == NULL || msg == NULL)
        return phx_error_set(err, PHX_EINVAL, "iiop conn_recv: NULL argument");
    /* A reply is rarely there already when a call starts to wait for it:
     * poll first rather than try a read that fails with EAGAIN. */
    bool drained = true;
    for (;;) {
        if (c->lost) {
            c->lost = false;
            return phx_error_set(err, PHX_ECLOSED,
                                 "connection to %s lost (epoch %llu)",
                                 c->endpoint, (unsigned long long)c->epoch);
        }
        if (!c->up)
            return phx_error_set(err, PHX_EIO, "not connected to %s",
                                 c->endpoint);
        uint8_t *data;
        size_t len;
        phx_error_t perr;
        phx_error_clear(&perr);
        int r = rx_next(&c->rx, c->t->cfg.max_message, &data, &len, &perr);
        if (r == 1) {
            c->idle = true;
            if (c->t->cfg.idle_ms) {
                if ((data[7] == PHX_GIOP_REPLY ||
                     data[7] == PHX_GIOP_LOCATE_REPLY) &&
                    c->pending > 0)
                    c->pending--;
                c->last_us = phx_now_us();
            }
            memset(msg, 0, sizeof *msg);
            msg->data = data;
            msg->len = len;
            msg->release = it_free_msg;
            msg->priv[0] = data;
            return PHX_OK;
        }
        if (r < 0) {
            PHX_WARN(MOD, "%s: %s", c->endpoint, perr.msg);
            conn_lose(c, "bad message from the server");
            continue;
        }
        ssize_t n = -1;
        errno = EAGAIN;
        if (!drained)
            n = rx_read(&c->rx, c->fd, &drained);
        else
            drained = false;
        if (n > 0)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            int w = wait_fd(c->fd, POLLIN, deadline_us);
            if (w < 0)
                return phx_error_set(err, PHX_EIO, "waiting for %s: %s",
                                     c->endpoint, strerror(errno));
            if (w == 0)
                return phx_error_set(err, PHX_ETIMEDOUT,
                                     "no message from %s before the "
                                     "deadline",
                                     c->endpoint);
            continue;
        }
        if (n < 0 && errno == ENOMEM)
            return phx_error_set(err, PHX_ENOMEM, "out of memory");
        conn_lose(c, n == 0 ? "end of stream" : strerror(errno));
    }
}

static uint64_t it_conn_epoch(void *conn)
{
    it_conn_t *c = conn;
    if (c == NULL)
        return 0;
    uint32_t idle_ms = c->t->cfg.idle_ms;
    if (idle_ms && c->up && c->pending == 0 && c->rx.msg == NULL &&
        c->rx.frag == NULL &&
        phx_now_us() - c->last_us >= (int64_t)idle_ms * 1000) {
        /* Unused for idle_ms with no reply awaited: closed by the client
         * (so it does not race the server's own idle close); the request
         * about to be sent opens a new connection.  Nothing was lost, so
         * the epoch stays. */
        PHX_DEBUG(MOD, "closing the connection to %s, idle for more than "
                       "%u ms",
                  c->endpoint, idle_ms);
        conn_down(c);
        c->idle = false;
        return c->epoch;
    }
    if (c->up && c->idle) {
        /* The ORB reads the epoch before it sends a request: a peer that
         * hung up while the connection was idle (a server restarted) is
         * noticed now, so that the request goes out on a new connection
         * in the new epoch instead of into the dead one. */
        c->idle = false;
        struct pollfd pf = {c->fd, POLLRDHUP, 0};
        if (poll(&pf, 1, 0) > 0 &&
            (pf.revents & (POLLRDHUP | POLLHUP | POLLERR)))
            conn_lose(c, "the peer hung up");
    }
    return c->epoch;
}

const phx_transport_ops_t phx__iiop_transport = {
    .name = "iiop",
    .profile_tag = PHX_TAG_INTERNET_IOP,
    .handles = it_handles,
    .init = it_init,
    .fini = it_fini,
    .listen = it_listen,
    .pollables = it_pollables,
    .on_readable = it_on_readable,
    .send_reply = it_send_reply,
    .drop_peer = it_drop_peer,
    .conn_open = it_conn_open,
    .conn_close = it_conn_close,
    .conn_send = it_conn_send,
    .conn_recv = it_conn_recv,
    .conn_epoch = it_conn_epoch,
};
