/*
 * net.h - the transport of the embedded GCS: one PULL socket bound on
 * this process's endpoint, and one PUSH socket ("peer") connected to each
 * other process's endpoint, with a socket monitor whose DISCONNECTED event
 * is the fast evidence that a peer process has died.
 *
 * Every call is made from the engine thread.  Sends never block: a frame
 * that cannot be queued (the high-water mark is reached) is
 * dropped and the protocol repairs it, as it repairs any loss.
 */
#ifndef PHX_GCS_NET_H
#define PHX_GCS_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <zmq.h>

#include <phx/error.h>

#include "ft/gcs/hmap.h"

typedef struct gcs_peer {
    char *endpoint;
    void *sock;        /* PUSH */
    void *mon;         /* PAIR on the monitor; NULL for inproc:// */
    bool up;           /* handshake done and not lost since */
    uint64_t node;     /* id of the process last known there, 0 = none */
    const char *name;  /* its name (interned by the engine) or NULL */
    uint64_t drops;    /* frames dropped because they could not queue */
} gcs_peer_t;

typedef struct gcs_net {
    void *ctx;
    void *pull;
    char *bound;        /* concrete endpoint */
    size_t max_frame;
    gcs_map_t by_ep;    /* endpoint -> peer */
    gcs_peer_t **peers; /* the same peers, in an array for polling */
    size_t n_peers, cap_peers;
    unsigned mon_seq;
    bool dirty;         /* peers changed since the poll set was built */
} gcs_net_t;

/* Monitor results */
#define GCS_NET_UP 1
#define GCS_NET_DOWN 2

int phx__gcs_net_init(gcs_net_t *n, void *ctx, const char *endpoint,
                      size_t max_frame, phx_error_t *err);
void phx__gcs_net_fini(gcs_net_t *n);

/* The peer for endpoint, connecting on first use; NULL when the endpoint
 * is unusable (logged). */
gcs_peer_t *phx__gcs_net_peer(gcs_net_t *n, const char *endpoint);
gcs_peer_t *phx__gcs_net_find(gcs_net_t *n, const char *endpoint);
void phx__gcs_net_close(gcs_net_t *n, gcs_peer_t *p);

/* Send m to p; m is always consumed.  0, or PHX_EAGAIN when dropped. */
int phx__gcs_net_send(gcs_net_t *n, gcs_peer_t *p, zmq_msg_t *m);

/* Receive one frame without waiting: 1 (m holds it), 0 (none). */
int phx__gcs_net_recv(gcs_net_t *n, zmq_msg_t *m);

/* Drain p's monitor; returns GCS_NET_UP/GCS_NET_DOWN bits seen. */
int phx__gcs_net_monitor(gcs_net_t *n, gcs_peer_t *p);

#endif
