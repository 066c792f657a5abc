/*
 * rawclient.c - see rawclient.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/rpc/rawclient.h"

int raw_connect(uint16_t port)
{
    struct sockaddr_in sa;
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    if (fd < 0)
        return -1;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

int raw_send(int fd, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n) {
        ssize_t k = send(fd, b, n, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        b += k;
        n -= (size_t)k;
    }
    return 0;
}

int raw_send_record(int fd, const void *body, size_t n, int nfrag)
{
    const uint8_t *b = body;
    size_t per = nfrag > 1 ? n / (size_t)nfrag : n;
    for (int i = 0; i < nfrag || nfrag <= 0; i++) {
        bool last = i == nfrag - 1 || nfrag <= 1;
        size_t k = last ? n : per;
        uint32_t h = (uint32_t)k | (last ? PHX_RPC_LAST_FRAG : 0);
        uint8_t hb[4] = {(uint8_t)(h >> 24), (uint8_t)(h >> 16),
                         (uint8_t)(h >> 8), (uint8_t)h};
        if (raw_send(fd, hb, 4) || (k && raw_send(fd, b, k)))
            return -1;
        b += k;
        n -= k;
        if (last)
            break;
    }
    return 0;
}

static int recv_full(int fd, uint8_t *p, size_t n, int timeout_ms)
{
    while (n) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int k = poll(&pfd, 1, timeout_ms);
        if (k <= 0)
            return -1;
        ssize_t got = recv(fd, p, n, 0);
        if (got == 0)
            return -2;
        if (got < 0)
            return errno == ECONNRESET ? -2 : -1;
        p += got;
        n -= (size_t)got;
    }
    return 0;
}

int raw_recv_record(int fd, uint8_t **body, size_t *n, int timeout_ms)
{
    uint8_t *b = NULL;
    size_t len = 0;
    *body = NULL;
    *n = 0;
    for (;;) {
        uint8_t h[4];
        int rc = recv_full(fd, h, 4, timeout_ms);
        if (rc) {
            free(b);
            return rc;
        }
        uint32_t v = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 |
                     (uint32_t)h[2] << 8 | h[3];
        size_t k = v & ~PHX_RPC_LAST_FRAG;
        if (k > (16u << 20)) {
            free(b);
            return -1;
        }
        uint8_t *nb = realloc(b, len + k + 1);
        if (nb == NULL) {
            free(b);
            return -1;
        }
        b = nb;
        rc = recv_full(fd, b + len, k, timeout_ms);
        if (rc) {
            free(b);
            return rc;
        }
        len += k;
        if (v & PHX_RPC_LAST_FRAG)
            break;
    }
    *body = b;
    *n = len;
    return 0;
}

int raw_make_call(uint32_t xid, uint32_t prog, uint32_t vers, uint32_t proc,
                  const void *args, size_t args_len, uint8_t **msg,
                  size_t *len)
{
    phx_xdr_writer_t w;
    phx_rpc_call_t c;
    memset(&c, 0, sizeof c);
    c.xid = xid;
    c.rpcvers = PHX_RPC_VERS;
    c.prog = prog;
    c.vers = vers;
    c.proc = proc;
    phx_xdr_writer_init(&w);
    if (phx_rpc_encode_call(&w, &c, args, args_len)) {
        phx_xdr_writer_fini(&w);
        return -1;
    }
    *msg = phx_xdr_writer_take(&w, len);
    return 0;
}

int raw_call(int fd, uint32_t prog, uint32_t vers, uint32_t proc,
             const void *args, size_t args_len, phx_rpc_reply_t *rep,
             uint8_t **buf)
{
    static uint32_t xid = 0x1000;
    uint8_t *msg;
    size_t len, rl;
    uint32_t my = __atomic_add_fetch(&xid, 1, __ATOMIC_RELAXED);
    *buf = NULL;
    if (raw_make_call(my, prog, vers, proc, args, args_len, &msg, &len))
        return -1;
    int rc = raw_send_record(fd, msg, len, 1);
    free(msg);
    if (rc)
        return -1;
    rc = raw_recv_record(fd, buf, &rl, 20000);
    if (rc)
        return rc;
    if (phx_rpc_decode_reply(*buf, rl, rep) != 0 || rep->xid != my)
        return -3;
    return 0;
}
