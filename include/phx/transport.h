/*
 * transport.h - the pluggable transport interface of the ORB.
 *
 * A transport moves whole GIOP messages between a client connection and a
 * server listener.  The ORB core knows transports only through
 * phx_transport_ops_t; the ZeroMQ transport (orb/transport/zmq) is the
 * built-in one, and a transport whose calling thread does its own socket
 * I/O (IIOP) plugs in the same way.
 *
 * Threading model
 *   - Listener side: every listener call except send_reply is made from
 *     the ORB's event-loop thread (the thread inside phx_orb_run or
 *     phx_orb_run_once).  send_reply may be called from any thread (a
 *     worker of the servant pool); the transport routes it to the
 *     listener safely.
 *   - Connection side: a connection is opened, used and closed by one
 *     thread at a time.  The ORB keeps one connection per (thread,
 *     endpoint), so the calling thread does its own I/O with no hand-off
 *     to another ORB thread.
 *
 * Messages
 *   - Outgoing messages are phx_buf_t: a malloc'd buffer whose ownership
 *     passes to the transport ONLY when the send call returns 0.  On
 *     error the caller still owns it.
 *   - Incoming messages are phx_inmsg_t: a borrowed view that the
 *     receiver must release with phx_inmsg_release() exactly once.
 *
 * Errors (negative PHX_E* codes, message in phx_error_t):
 *   PHX_ECONNREFUSED  no connection could be established: nothing was sent.
 *   PHX_ETIMEDOUT     the deadline passed.
 *   PHX_ECLOSED       the peer went away after the connection was up:
 *                     requests in flight may or may not have executed.
 *   PHX_ELIMIT        the message exceeds the configured maximum.
 */
#ifndef PHX_TRANSPORT_H
#define PHX_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <phx/error.h>

#ifdef __cplusplus
extern "C" {
#endif

/* An outgoing message: ownership of data passes on a successful send.
 * The transport disposes of it with phx_buf_dispose(): free_fn(data, hint)
 * when free_fn is set (its signature matches zmq_free_fn, so it can be
 * handed to zmq_msg_init_data as is), free(data) otherwise. */
typedef struct phx_buf {
    uint8_t *data;
    size_t len;
    void (*free_fn)(void *data, void *hint);
    void *hint;
} phx_buf_t;

void phx_buf_dispose(phx_buf_t *buf);

/* An incoming message: a view onto transport-owned storage. */
typedef struct phx_inmsg phx_inmsg_t;
struct phx_inmsg {
    const uint8_t *data;
    size_t len;
    /* Opaque to the ORB: which listener/peer the message came from, so
     * that a reply can be routed back.  NULL for client connections. */
    void *route;
    /* Transport-private storage and the function that frees it. */
    void (*release)(phx_inmsg_t *m);
    void *priv[6];
};

static inline void phx_inmsg_release(phx_inmsg_t *m)
{
    if (m && m->release) {
        m->release(m);
        m->release = NULL;
    }
}

/* Settings a transport instance is created with (copied by init). */
typedef struct phx_transport_config {
    void *zmq_ctx;                 /* ZeroMQ context shared by the ORB */
    size_t max_message;            /* largest message accepted, bytes */
    uint32_t connect_timeout_ms;   /* to establish a connection */
    uint32_t heartbeat_ivl_ms;     /* 0 = no transport heartbeats */
    uint32_t heartbeat_timeout_ms; /* peer declared dead after this */
    uint32_t linger_ms;            /* how long closing waits for messages
                                      already sent to reach a connected
                                      peer */
    uint32_t idle_ms;              /* client connections with nothing
                                      outstanding unused this long are
                                      closed (0 = never); IIOP only */
    uint32_t server_idle_ms;       /* server connections idle this long
                                      are closed (IIOP: after a GIOP
                                      CloseConnection); 0 = never */
} phx_transport_config_t;

/* Callback through which a listener hands each incoming message to the
 * ORB.  The ORB takes the message (it will call phx_inmsg_release). */
typedef void (*phx_deliver_fn)(void *orb_arg, phx_inmsg_t *msg);

/* A pollable item: either a ZeroMQ socket or a file descriptor, as in
 * zmq_pollitem_t.  The event loop polls all of them together. */
typedef struct phx_pollable {
    void *zsock; /* ZeroMQ socket, or NULL */
    int fd;      /* file descriptor when zsock is NULL */
} phx_pollable_t;

typedef struct phx_transport_ops {
    /* Short name ("zmq"), used in logs. */
    const char *name;

    /* IOR profile tag this transport's references use. */
    uint32_t profile_tag;

    /* Whether an endpoint string belongs to this transport (e.g.
     * "tcp://...", "ipc://...", "inproc://..." for ZeroMQ). */
    bool (*handles)(const char *endpoint);

    /* Create an instance.  Does not block.  On failure *state is left
     * untouched and fini must not be called. */
    int (*init)(const phx_transport_config_t *cfg, void **state,
                phx_error_t *err);

    /* Destroy an instance: closes every listener and every connection it
     * still has.  Called once, after the event loop has stopped and no
     * thread is inside a connection call.  NULL-safe. */
    void (*fini)(void *state);

    /* ---- listener side (event-loop thread) ---- */

    /* Bind to endpoint.  Wildcard ports ("tcp://127.0.0.1:*") are
     * resolved: *bound receives the concrete endpoint (malloc'd, caller
     * frees).  deliver/arg are used for every incoming message. */
    int (*listen)(void *state, const char *endpoint, char **bound,
                  phx_deliver_fn deliver, void *arg, phx_error_t *err);

    /* Fill up to max pollables the event loop must watch; returns how
     * many there are (which may exceed max: call again with more room). */
    size_t (*pollables)(void *state, phx_pollable_t *items, size_t max);

    /* Called when item index i from pollables() is readable (or after a
     * timeout with i == SIZE_MAX, for housekeeping).  Reads every message
     * available without blocking and passes each to deliver. */
    void (*on_readable)(void *state, size_t i);

    /* Send a reply to the peer msg came from.  May be called from any
     * thread.  The route pointer stays valid until msg is released, so
     * send_reply must be called before phx_inmsg_release(msg). */
    int (*send_reply)(void *state, const phx_inmsg_t *msg, phx_buf_t *reply,
                      phx_error_t *err);

    /* Drop the peer msg came from (after a protocol error), if the
     * transport can; the listener keeps serving others.  May be NULL. */
    void (*drop_peer)(void *state, const phx_inmsg_t *msg);

    /* ---- connection side (calling thread) ---- */

    /* Open a connection to endpoint.  Does not wait for it to be
     * established (conn_send does, up to connect_timeout_ms). */
    int (*conn_open)(void *state, const char *endpoint, void **conn,
                     phx_error_t *err);

    /* Close a connection; in-flight messages are dropped. */
    void (*conn_close)(void *conn);

    /* Send one message.  Waits for the connection to be established if
     * needed, but not beyond deadline_us (CLOCK_MONOTONIC microseconds,
     * 0 = connect_timeout_ms from now).  Returns 0 (ownership of buf
     * passed), PHX_ECONNREFUSED or PHX_ETIMEDOUT (nothing sent), or
     * PHX_ECLOSED. */
    int (*conn_send)(void *conn, phx_buf_t *buf, int64_t deadline_us,
                     phx_error_t *err);

    /* Receive one message, waiting until deadline_us (CLOCK_MONOTONIC
     * microseconds; -1 = forever; 0 = do not wait).  PHX_ECLOSED when the
     * peer went away since the connection was up: it is reported once per
     * loss, and epoch (below) increases. */
    int (*conn_recv)(void *conn, phx_inmsg_t *msg, int64_t deadline_us,
                     phx_error_t *err);

    /* Number of connection losses seen so far on conn.  A request sent in
     * an earlier epoch than the current one will never get its reply. */
    uint64_t (*conn_epoch)(void *conn);
} phx_transport_ops_t;

/* Monotonic clock in microseconds (the clock deadlines use). */
int64_t phx_now_us(void);

#ifdef __cplusplus
}
#endif

#endif /* PHX_TRANSPORT_H */
