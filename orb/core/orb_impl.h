/*
 * orb_impl.h - internal structures of the ORB runtime, shared by the files
 * of orb/core and orb/adapter.  Internal symbols carry the phx__ prefix.
 */
#ifndef PHX_ORB_IMPL_H
#define PHX_ORB_IMPL_H

#include <pthread.h>
#include <stdatomic.h>

#include <phx/interceptor.h>
#include <phx/orb.h>
#include <phx/transport.h>

/* Room left in front of a request/reply body for the GIOP header, so the
 * header can be put in place without copying the body. */
#define PHX__REQ_GAP 256
#define PHX__REPLY_GAP 128

/* ---- transports ---- */

typedef struct phx__transport {
    const phx_transport_ops_t *ops;
    void *state;
    phx_orb_t *orb;
} phx__transport_t;

/* ---- references ---- */

/* One usable profile of an IOR. */
typedef struct phx__target {
    int profile_index;           /* in the IOR */
    phx__transport_t *tp;        /* NULL when no transport handles it */
    char *endpoint;
    uint8_t *key;
    size_t key_len;
} phx__target_t;

/* An immutable decoded IOR, shared by references and requests. */
typedef struct phx__binding {
    atomic_int refs;
    phx_ior_t ior;
    phx__target_t *targets;
    size_t target_count;
} phx__binding_t;

struct phx_object {
    atomic_int refs;
    phx_orb_t *orb;
    char *type_id;        /* of the IOR the reference was made from */
    pthread_mutex_t lock; /* guards binding and preferred */
    phx__binding_t *binding;
    size_t preferred;     /* target that answered last */
};

phx__binding_t *phx__binding_ref(phx__binding_t *b);
void phx__binding_unref(phx__binding_t *b);
/* Current binding of obj, with a reference the caller drops. */
phx__binding_t *phx__object_binding(phx_object_t *obj, size_t *preferred);
void phx__object_set_preferred(phx_object_t *obj, phx__binding_t *b,
                               size_t idx);
/* Replace obj's reference (LOCATION_FORWARD_PERM). */
void phx__object_replace(phx_object_t *obj, phx_object_t *with);

/* ---- service context lists being built (request or reply) ---- */

typedef struct phx__sc_vec {
    phx_service_context_t *items; /* data of each item is owned */
    size_t n, cap;
} phx__sc_vec_t;

/* Add a copy of data under id; with replace, an existing id is
 * overwritten instead.  0, PHX_ENOMEM or PHX_ELIMIT. */
int phx__sc_vec_set(phx__sc_vec_t *v, uint32_t id, const void *data,
                    size_t len, bool replace);
const phx_service_context_t *phx__sc_vec_find(const phx__sc_vec_t *v,
                                              uint32_t id);
void phx__sc_vec_free(phx__sc_vec_t *v);

/* ---- client connections (one per thread and endpoint) ---- */

typedef struct phx__stashed {
    struct phx__stashed *next;
    uint32_t request_id;
    phx_inmsg_t msg;
} phx__stashed_t;

typedef struct phx__conn {
    struct phx__conn *next;              /* in the thread's list */
    struct phx__conn *all_prev, *all_next; /* in the ORB's list */
    phx__transport_t *tp;
    void *tconn;
    char *endpoint;
    uint32_t next_id;
    /* Requests sent and not yet answered or abandoned. */
    uint32_t *outstanding;
    size_t n_outstanding, cap_outstanding;
    /* Replies received for other requests than the one waited for. */
    phx__stashed_t *stash;
} phx__conn_t;

typedef struct phx__thread {
    struct phx__thread *prev, *next; /* in the ORB's list */
    phx_orb_t *orb;
    phx__conn_t *conns;
    /* Finished requests kept for the next calls on this thread (a LIFO of
     * up to PHX__SPARE_MAX), so calls allocate nothing in the steady state,
     * pipelined ones included. */
    phx_request_t *spare;
    unsigned spare_count;
} phx__thread_t;

#define PHX__SPARE_MAX 64

/* invoke.c: free a request kept as a thread's spare (and the ones
 * chained after it). */
void phx__request_free(phx_request_t *req);

int phx__conn_get(phx_orb_t *orb, phx__transport_t *tp, const char *endpoint,
                  phx__conn_t **out, phx_error_t *err);
/* Forget a request id: its reply, if it ever comes, is dropped. */
void phx__conn_forget(phx__conn_t *c, uint32_t request_id);

/* ---- object adapter ---- */

typedef struct phx__aentry {
    struct phx__aentry *next; /* hash chain */
    uint8_t *key;
    size_t key_len;
    uint64_t hash;
    phx_servant_t *servant;
    atomic_int refs;          /* 1 while active + requests in progress */
    bool active;
} phx__aentry_t;

typedef struct phx__adapter {
    pthread_rwlock_t lock;
    phx__aentry_t **buckets;
    size_t nbuckets, count;
    uint8_t instance[8];      /* random: makes generated keys unique */
    atomic_uint_fast64_t next_key;
} phx__adapter_t;

int phx__adapter_init(phx__adapter_t *a);
void phx__adapter_fini(phx__adapter_t *a);
/* Find an active entry and take a reference on it (NULL if none). */
phx__aentry_t *phx__adapter_find(phx__adapter_t *a, const uint8_t *key,
                                 size_t len);
void phx__adapter_entry_unref(phx__aentry_t *e);

/* ---- servant worker pool ---- */

typedef struct phx__work {
    struct phx__work *next;
    phx__transport_t *tp;
    phx_inmsg_t msg;
} phx__work_t;

/* ---- the ORB ---- */

struct phx_orb {
    phx_orb_config_t cfg;
    void *zctx;
    phx__transport_t *transports;
    size_t transport_count;
    char **endpoints;        /* bound endpoints */
    phx__transport_t **endpoint_tp;
    size_t endpoint_count;

    phx__adapter_t adapter;

    /* interceptors */
    const phx_client_interceptor_t **cis;
    size_t ci_count;
    const phx_server_interceptor_t **sis;
    size_t si_count;

    /* event loop: what it polls, gathered once the listeners exist */
    void *poll_items;        /* zmq_pollitem_t[poll_count] */
    size_t *poll_owner;      /* transport << 16 | pollable index */
    size_t poll_count;
    int wake_fd[2];
    atomic_bool shutdown;
    atomic_bool running;

    /* worker pool */
    pthread_t *workers;
    unsigned worker_count;
    pthread_mutex_t wq_lock;
    pthread_cond_t wq_cond;
    phx__work_t *wq_head, *wq_tail;
    bool wq_stop;

    /* client connections of all threads */
    pthread_key_t tls_key;
    pthread_mutex_t conns_lock;
    phx__conn_t *all_conns;
    phx__thread_t *threads;  /* every thread's state */
};

/* server.c */
void phx__orb_deliver(void *arg, phx_inmsg_t *msg);
void phx__server_handle(phx__transport_t *tp, phx_inmsg_t *msg);

/* object.c */
int phx__object_from_binding(phx_orb_t *orb, phx__binding_t *b,
                             phx_object_t **out);
int phx__binding_from_ior(phx_orb_t *orb, const phx_ior_t *ior,
                          phx__binding_t **out, phx_error_t *err);
phx__transport_t *phx__orb_transport_for(phx_orb_t *orb,
                                         const char *endpoint);

/* except.c: map a transport/decoder status to a system exception. */
int phx__env_from_status(phx_env_t *env, int status,
                         phx_completion_t completed, const char *what,
                         const phx_error_t *err);

#endif /* PHX_ORB_IMPL_H */
