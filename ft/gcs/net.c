/*
 * net.c - ZeroMQ links of the embedded GCS (see net.h).
 *
 * PUSH/PULL carries one protocol frame per ZeroMQ message.  Frames sent
 * while a connection is being set up are queued (up to SNDHWM) and go out
 * once it is up, so a member that just joined misses nothing; the links
 * of a process that has left the view are closed when the next view is
 * installed, which bounds what can pile up towards a dead peer.  libzmq
 * reconnects on its own.
 * The monitor reports, for tcp:// and ipc://, HANDSHAKE_SUCCEEDED when a
 * connection is up and DISCONNECTED when an established one is lost: on
 * a live host that means the peer process has exited or crashed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#include <phx/error.h>
#include <phx/log.h>

#include "ft/gcs/net.h"

#define MOD "gcs.net"
#define SNDHWM 20000
#define RCVHWM 100000

static const char *peer_key(const void *val)
{
    return ((const gcs_peer_t *)val)->endpoint;
}

int phx__gcs_net_init(gcs_net_t *n, void *ctx, const char *endpoint,
                      size_t max_frame, phx_error_t *err)
{
    memset(n, 0, sizeof *n);
    n->ctx = ctx;
    n->max_frame = max_frame;
    phx__gcs_map_init_str(&n->by_ep, peer_key);
    n->pull = zmq_socket(ctx, ZMQ_PULL);
    if (n->pull == NULL)
        return phx_error_set(err, PHX_EIO, "gcs: cannot create a socket: %s",
                             zmq_strerror(errno));
    int linger = 0, hwm = RCVHWM;
    int64_t maxmsg = (int64_t)max_frame;
    zmq_setsockopt(n->pull, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(n->pull, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt(n->pull, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
    if (zmq_bind(n->pull, endpoint) != 0) {
        int e = errno;
        zmq_close(n->pull);
        n->pull = NULL;
        return phx_error_set(err, PHX_EIO, "gcs: cannot bind '%s': %s",
                             endpoint, zmq_strerror(e));
    }
    char buf[1024];
    size_t len = sizeof buf;
    if (zmq_getsockopt(n->pull, ZMQ_LAST_ENDPOINT, buf, &len) != 0 ||
        (n->bound = strdup(buf)) == NULL) {
        zmq_close(n->pull);
        n->pull = NULL;
        return phx_error_set(err, PHX_ENOMEM, "gcs: no bound endpoint");
    }
    return 0;
}

static void peer_free(gcs_peer_t *p)
{
    /* Stop the monitor before closing its reader: libzmq's I/O thread
     * sends events with a blocking send while holding the monitor's lock,
     * so an event emitted after the reader is gone would wedge both it and
     * the zmq_socket_monitor(NULL) call that waits for that lock. */
    if (p->sock)
        zmq_socket_monitor(p->sock, NULL, 0);
    if (p->mon)
        zmq_close(p->mon);
    if (p->sock)
        zmq_close(p->sock);
    free(p->endpoint);
    free(p);
}

void phx__gcs_net_fini(gcs_net_t *n)
{
    for (size_t i = 0; i < n->n_peers; i++)
        peer_free(n->peers[i]);
    free(n->peers);
    phx__gcs_map_fini(&n->by_ep);
    if (n->pull)
        zmq_close(n->pull);
    free(n->bound);
    memset(n, 0, sizeof *n);
}

gcs_peer_t *phx__gcs_net_find(gcs_net_t *n, const char *endpoint)
{
    size_t len = strlen(endpoint);
    return phx__gcs_map_gets(&n->by_ep, phx__gcs_hash(endpoint, len),
                             endpoint, len);
}

gcs_peer_t *phx__gcs_net_peer(gcs_net_t *n, const char *endpoint)
{
    gcs_peer_t *p = phx__gcs_net_find(n, endpoint);
    if (p != NULL)
        return p;
    if (n->n_peers == n->cap_peers) {
        size_t ncap = n->cap_peers ? n->cap_peers * 2 : 8;
        gcs_peer_t **np = realloc(n->peers, ncap * sizeof *np);
        if (np == NULL)
            return NULL;
        n->peers = np;
        n->cap_peers = ncap;
    }
    p = calloc(1, sizeof *p);
    if (p == NULL || (p->endpoint = strdup(endpoint)) == NULL) {
        free(p);
        return NULL;
    }
    p->sock = zmq_socket(n->ctx, ZMQ_PUSH);
    if (p->sock == NULL)
        goto fail;
    int linger = 0, hwm = SNDHWM;
    zmq_setsockopt(p->sock, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(p->sock, ZMQ_SNDHWM, &hwm, sizeof hwm);
    if (strncmp(endpoint, "inproc://", 9) != 0) {
        char mon_ep[96];
        snprintf(mon_ep, sizeof mon_ep, "inproc://phx-gcs-mon-%p-%u",
                 (void *)n, n->mon_seq++);
        if (zmq_socket_monitor(p->sock, mon_ep,
                               ZMQ_EVENT_HANDSHAKE_SUCCEEDED |
                                   ZMQ_EVENT_DISCONNECTED) != 0)
            goto fail;
        p->mon = zmq_socket(n->ctx, ZMQ_PAIR);
        if (p->mon == NULL || zmq_connect(p->mon, mon_ep) != 0)
            goto fail;
    } else {
        p->up = true;
    }
    if (zmq_connect(p->sock, endpoint) != 0) {
        PHX_WARN(MOD, "cannot connect to '%s': %s", endpoint,
                 zmq_strerror(errno));
        goto fail;
    }
    size_t len = strlen(p->endpoint);
    if (phx__gcs_map_puts(&n->by_ep, phx__gcs_hash(p->endpoint, len),
                          p->endpoint, len, p) != 0)
        goto fail;
    n->peers[n->n_peers++] = p;
    n->dirty = true;
    PHX_DEBUG(MOD, "peer %s opened", endpoint);
    return p;
fail:
    peer_free(p);
    return NULL;
}

void phx__gcs_net_close(gcs_net_t *n, gcs_peer_t *p)
{
    size_t len = strlen(p->endpoint);
    phx__gcs_map_dels(&n->by_ep, phx__gcs_hash(p->endpoint, len),
                      p->endpoint, len);
    for (size_t i = 0; i < n->n_peers; i++) {
        if (n->peers[i] == p) {
            n->peers[i] = n->peers[--n->n_peers];
            break;
        }
    }
    PHX_DEBUG(MOD, "peer %s closed", p->endpoint);
    peer_free(p);
    n->dirty = true;
}

int phx__gcs_net_send(gcs_net_t *n, gcs_peer_t *p, zmq_msg_t *m)
{
    (void)n;
    if (zmq_msg_send(m, p->sock, ZMQ_DONTWAIT) >= 0)
        return 0;
    zmq_msg_close(m);
    p->drops++;
    return PHX_EAGAIN;
}

int phx__gcs_net_recv(gcs_net_t *n, zmq_msg_t *m)
{
    if (zmq_msg_recv(m, n->pull, ZMQ_DONTWAIT) < 0)
        return 0;
    if (!zmq_msg_more(m))
        return 1;
    /* PUSH/PULL frames are single-part: a multi-part message is not ours.
     * Drain it and hand up an empty frame, which is rejected upstream. */
    bool more = true;
    while (more) {
        zmq_msg_t extra;
        zmq_msg_init(&extra);
        if (zmq_msg_recv(&extra, n->pull, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&extra);
            break;
        }
        more = zmq_msg_more(&extra);
        zmq_msg_close(&extra);
    }
    zmq_msg_close(m);
    zmq_msg_init(m);
    return 1;
}

int phx__gcs_net_monitor(gcs_net_t *n, gcs_peer_t *p)
{
    (void)n;
    int seen = 0;
    if (p->mon == NULL)
        return 0;
    for (;;) {
        zmq_msg_t ev;
        zmq_msg_init(&ev);
        if (zmq_msg_recv(&ev, p->mon, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&ev);
            break;
        }
        uint16_t id = 0;
        if (zmq_msg_size(&ev) >= 2)
            memcpy(&id, zmq_msg_data(&ev), 2);
        bool more = zmq_msg_more(&ev);
        zmq_msg_close(&ev);
        while (more) {
            zmq_msg_t part;
            zmq_msg_init(&part);
            if (zmq_msg_recv(&part, p->mon, ZMQ_DONTWAIT) < 0) {
                zmq_msg_close(&part);
                break;
            }
            more = zmq_msg_more(&part);
            zmq_msg_close(&part);
        }
        if (id == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
            p->up = true;
            seen |= GCS_NET_UP;
        } else if (id == ZMQ_EVENT_DISCONNECTED) {
            if (p->up)
                seen |= GCS_NET_DOWN;
            p->up = false;
        }
    }
    return seen;
}
