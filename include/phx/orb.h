/*
 * orb.h - the ORB runtime: configuration, event loop, object references,
 * client requests, the object adapter and servants.
 *
 * Threading
 *   - phx_orb_run / phx_orb_run_once serve incoming requests on the
 *     calling thread (the event-loop thread).  Only one thread may be in
 *     them at a time.
 *   - Servants run on the event-loop thread, or on a pool of worker
 *     threads when phx_orb_config_t.workers > 0.
 *   - Client calls may be made from any thread, concurrently.  Each thread
 *     has its own connection per endpoint, so a call never waits for
 *     another thread's call.
 *   - phx_orb_shutdown may be called from any thread or a signal handler.
 */
#ifndef PHX_ORB_H
#define PHX_ORB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <phx/cdr.h>
#include <phx/error.h>
#include <phx/except.h>
#include <phx/giop.h>
#include <phx/ior.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct phx_orb phx_orb_t;
typedef struct phx_object phx_object_t;
typedef struct phx_request phx_request_t;
typedef struct phx_server_request phx_server_request_t;
typedef struct phx_servant phx_servant_t;

/* ------------------------------------------------------------------ */
/* ORB                                                                  */
/* ------------------------------------------------------------------ */

typedef struct phx_orb_config {
    /* Endpoints to serve on ("tcp://127.0.0.1:*" picks a free port,
     * "ipc:///path", "inproc://name").  May be empty for a pure client. */
    const char *const *listen;
    size_t listen_count;
    /* Servant worker threads; 0 runs servants on the event-loop thread. */
    unsigned workers;
    /* Default round-trip timeout of a twoway call (0 = wait forever). */
    uint32_t call_timeout_ms;
    /* Time allowed to establish a connection. */
    uint32_t connect_timeout_ms;
    /* Transport heartbeats (0 = off): a silent peer is declared dead
     * after heartbeat_timeout_ms. */
    uint32_t heartbeat_ivl_ms;
    uint32_t heartbeat_timeout_ms;
    /* Largest GIOP message sent or accepted. */
    size_t max_message;
    /* LOCATION_FORWARD hops followed by one call before TRANSIENT. */
    uint32_t max_forwards;
    /* At phx_orb_destroy, how long messages already handed to a connected
     * peer (oneways, replies) may take to leave before they are dropped.
     * A peer that is gone costs no wait. */
    uint32_t linger_ms;
    /* Idle connections (IIOP transport, iiop:// and iiop+unix://; 0 =
     * never).  A client connection with no reply outstanding that has
     * not been used for idle_ms is closed by its client (when its thread
     * next uses it or the ORB is destroyed: the next call reconnects,
     * nothing is lost).  A server connection with no request in progress
     * idle for server_idle_ms is closed by the server, which sends a GIOP
     * CloseConnection first; keep it larger than the clients' idle_ms so
     * that clients normally close first. */
    uint32_t idle_ms;
    uint32_t server_idle_ms;
} phx_orb_config_t;

/* Defaults: no listeners, 0 workers, 30 s call timeout, 5 s connect
 * timeout, heartbeats off, 64 MiB messages, 8 forwards, 2 s linger,
 * idle_ms 60 s, server_idle_ms 120 s. */
void phx_orb_config_init(phx_orb_config_t *cfg);

int phx_orb_create(const phx_orb_config_t *cfg, phx_orb_t **out,
                   phx_error_t *err);

/* Stop serving, close every connection and free the ORB.  No thread may
 * be inside a call on this ORB.  NULL-safe. */
void phx_orb_destroy(phx_orb_t *orb);

/* Serve until phx_orb_shutdown.  Returns 0, or PHX_ESTATE when another
 * thread is already running the loop. */
int phx_orb_run(phx_orb_t *orb);

/* Serve what is ready, waiting at most timeout_ms (-1 = until something
 * happens).  Returns the number of messages handled (>= 0), or
 * PHX_ESHUTDOWN after phx_orb_shutdown. */
int phx_orb_run_once(phx_orb_t *orb, int timeout_ms);

/* Ask the loop to return.  Thread- and async-signal-safe. */
void phx_orb_shutdown(phx_orb_t *orb);

/* The concrete endpoints served (wildcards resolved), in config order. */
size_t phx_orb_endpoint_count(const phx_orb_t *orb);
const char *phx_orb_endpoint(const phx_orb_t *orb, size_t i);

/* ------------------------------------------------------------------ */
/* Object references                                                    */
/* ------------------------------------------------------------------ */

/* Parse "IOR:..." or "corbaloc:...".  The reference is counted. */
int phx_object_from_string(phx_orb_t *orb, const char *s, phx_object_t **out,
                           phx_error_t *err);
/* Build a reference from an IOR (copied). */
int phx_object_from_ior(phx_orb_t *orb, const phx_ior_t *ior,
                        phx_object_t **out, phx_error_t *err);
/* "IOR:..." (malloc'd). */
int phx_object_to_string(phx_object_t *obj, char **out);
/* The IOR currently used (after any permanent forward).  Valid until the
 * next call on obj that may forward it; copy it to keep it. */
int phx_object_get_ior(phx_object_t *obj, phx_ior_t *copy);
const char *phx_object_type_id(phx_object_t *obj);
phx_orb_t *phx_object_orb(phx_object_t *obj);

phx_object_t *phx_object_ref(phx_object_t *obj);
void phx_object_release(phx_object_t *obj); /* NULL-safe */

/* Built-in operations every object supports. */
int phx_object_is_a(phx_object_t *obj, const char *repo_id, bool *result,
                    phx_env_t *env);
int phx_object_non_existent(phx_object_t *obj, bool *result, phx_env_t *env);
/* LocateRequest: *status is a phx_giop_locate_status value. */
int phx_object_locate(phx_object_t *obj, uint32_t *status, phx_env_t *env);

/* ------------------------------------------------------------------ */
/* Client requests (what stubs call)                                    */
/* ------------------------------------------------------------------ */

enum {
    PHX_REQ_ONEWAY = 1 << 0 /* no reply expected (response_flags 0) */
};

/* Start a request: the argument writer is ready for the body.  The
 * request keeps a reference on obj. */
int phx_request_create(phx_object_t *obj, const char *operation,
                       unsigned flags, phx_request_t **out);
void phx_request_destroy(phx_request_t *req); /* NULL-safe */

/* Where the stub marshals the in/inout arguments. */
phx_cdr_writer_t *phx_request_args(phx_request_t *req);

/* Round-trip timeout for this request (0 = wait forever). */
void phx_request_set_timeout(phx_request_t *req, uint32_t ms);

/* TypeCodes of the user exceptions the operation may raise, so a
 * received user exception is decoded into env->user_value. */
void phx_request_set_exceptions(phx_request_t *req,
                                const struct phx_typecode *const *tcs,
                                size_t count);

/* Add a service context to send (data copied). */
int phx_request_add_context(phx_request_t *req, uint32_t id,
                            const void *data, size_t len);

/* Send and wait for the reply (a oneway returns once sent).
 * Returns 0 (results readable from phx_request_result), PHX_ESYSEX or
 * PHX_EUSEREX (env describes the exception). */
int phx_request_invoke(phx_request_t *req, phx_env_t *env);

/* Deferred synchronous: send now, collect later with phx_request_wait.
 * Many requests may be outstanding on one thread. */
int phx_request_send(phx_request_t *req, phx_env_t *env);
int phx_request_wait(phx_request_t *req, phx_env_t *env);

/* Reader over the reply body (out/inout arguments and the result), valid
 * until the request is destroyed. */
phx_cdr_reader_t *phx_request_result(phx_request_t *req);

/* A service context of the reply, or NULL. */
const phx_service_context_t *phx_request_reply_context(phx_request_t *req,
                                                       uint32_t id);

/* ------------------------------------------------------------------ */
/* Servants and the object adapter                                      */
/* ------------------------------------------------------------------ */

/* A skeleton function: decode the arguments from phx_server_request_args,
 * call the implementation, encode results into phx_server_request_reply.
 * Return 0, or raise through env (phx_env_system / phx_env_user) and
 * return its code.  A failing return with no exception in env becomes
 * UNKNOWN; a decoding failure (PHX_EMARSHAL) becomes MARSHAL. */
typedef int (*phx_skel_fn)(phx_servant_t *servant, phx_server_request_t *sr,
                           phx_env_t *env);

typedef struct phx_operation {
    const char *name;
    phx_skel_fn skel;
} phx_operation_t;

/* An interface as the adapter sees it (generated by phx-idl, or written
 * by hand). */
typedef struct phx_interface {
    const char *repo_id;
    /* Repository ids of every base interface, for _is_a. */
    const char *const *bases;
    size_t base_count;
    const phx_operation_t *ops;
    size_t op_count;
} phx_interface_t;

struct phx_servant {
    const phx_interface_t *iface;
    /* Optional generic handler (dynamic skeleton): called for operations
     * not found in iface->ops. */
    phx_skel_fn invoke;
    /* Optional: called once the adapter no longer uses the servant
     * (after deactivation completes, or at ORB destruction). */
    void (*release)(phx_servant_t *servant);
    /* For the implementation. */
    void *impl;
};

/* Activate servant under key (copied).  key == NULL generates a unique
 * key.  *ref (optional) receives a reference whose IOR has one profile
 * per endpoint of the ORB.  PHX_EEXIST if the key is taken. */
int phx_orb_activate(phx_orb_t *orb, phx_servant_t *servant, const void *key,
                     size_t key_len, phx_object_t **ref, phx_error_t *err);

/* Deactivate: new requests get OBJECT_NOT_EXIST; the servant's release
 * callback runs once requests in progress have finished. */
int phx_orb_deactivate(phx_orb_t *orb, const void *key, size_t key_len);

/* A reference to an object served by this ORB (active or not yet). */
int phx_orb_make_ref(phx_orb_t *orb, const char *type_id, const void *key,
                     size_t key_len, phx_object_t **ref, phx_error_t *err);

/* Run a request on a servant of this ORB directly, with no transport and
 * no interceptors: what a replication layer uses to execute, on every
 * replica, a request it has ordered itself.  body/len is the request body
 * (the arguments) in byte_order, as it followed an 8-aligned GIOP header.
 * On success *reply_status is a phx_giop_reply_status (NO_EXCEPTION,
 * USER_EXCEPTION or SYSTEM_EXCEPTION) and *reply_body (malloc'd, caller
 * frees) is the reply body in native order, ready for
 * phx_server_ri_set_reply.  Exceptions are results, not errors: the call
 * fails only when the reply cannot be produced (PHX_ENOMEM, ...). */
int phx_orb_invoke_local(phx_orb_t *orb, const void *key, size_t key_len,
                         const char *operation, const void *body, size_t len,
                         int byte_order, uint32_t *reply_status,
                         uint8_t **reply_body, size_t *reply_len,
                         phx_error_t *err);

/* ---- inside a skeleton ---- */

const char *phx_server_request_operation(const phx_server_request_t *sr);
phx_cdr_reader_t *phx_server_request_args(phx_server_request_t *sr);
phx_cdr_writer_t *phx_server_request_reply(phx_server_request_t *sr);
bool phx_server_request_response_expected(const phx_server_request_t *sr);
uint32_t phx_server_request_id(const phx_server_request_t *sr);
const phx_service_context_t *
phx_server_request_context(const phx_server_request_t *sr, uint32_t id);
phx_orb_t *phx_server_request_orb(const phx_server_request_t *sr);
/* Object key the request was addressed to. */
const uint8_t *phx_server_request_key(const phx_server_request_t *sr,
                                      size_t *len);

#ifdef __cplusplus
}
#endif

#endif /* PHX_ORB_H */
