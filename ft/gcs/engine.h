/*
 * engine.h - private state of the embedded GCS backend, shared by its
 * layers (lowest first, as in Corosync's totemsrp -> cpg -> libcpg):
 *
 *   net.c, fault.c   transport: ZeroMQ links, disconnect evidence, faults
 *   order.c          total order: fixed sequencer, log, acks, repair,
 *                    uniform delivery
 *   member.c         process-level membership: failure detection, the
 *                    membership state machine, flush and view install,
 *                    primary component, joining
 *   groups.c         process groups multiplexed over the one ordered
 *                    stream: group views, join/leave, state transfer
 *   embedded.c       the backend seen by gcs.c: engine thread, command
 *                    and event queues, dispatch
 *
 * Everything in gcs_engine_t is touched by the engine thread only, except
 * the fields under "shared with the application thread".
 *
 * Internal symbols shared between these files are phx__gcs_*; the rest is
 * static.
 */
#ifndef PHX_GCS_ENGINE_H
#define PHX_GCS_ENGINE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <phx/cdr.h>
#include <phx/gcs.h>

#include "ft/gcs/fault.h"
#include "ft/gcs/hmap.h"
#include "ft/gcs/net.h"
#include "ft/gcs/wire.h"

#define GCS_MOD "gcs"

/* Items larger than this are never batched with others in one frame. */
#define GCS_BATCH_BYTES (60 * 1024)
/* Largest range one NAK asks for. */
#define GCS_NAK_SPAN 4096
/* Wire chunk of a state transfer. */
#define GCS_STATE_CHUNK (256 * 1024)

/* ------------------------------------------------------------------ */
/* Events (engine -> application) and commands (application -> engine) */
/* ------------------------------------------------------------------ */

enum gcs_ev_type {
    GCS_EV_DELIVER = 1,  /* gcs_item_t */
    GCS_EV_VIEW = 2,     /* gcs_vev_t */
    GCS_EV_GET_STATE = 3,/* gcs_gsev_t */
    GCS_EV_SET_STATE = 4,/* gcs_ssev_t */
    GCS_CMD_SUBMIT = 10, /* gcs_item_t: multicast */
    GCS_CMD_JOIN = 11,   /* gcs_gcmd_t */
    GCS_CMD_LEAVE = 12,  /* gcs_gcmd_t */
    GCS_CMD_STATE = 13,  /* gcs_xfer_t: state produced by get_state */
    GCS_CMD_INJECT = 14, /* gcs_gcmd_t: fault spec in name */
    GCS_CMD_STOP = 15    /* gcs_ev_t */
};

typedef struct gcs_ev {
    struct gcs_ev *next;
    uint8_t type;
    uint64_t pview, pseq;  /* position in the total order */
} gcs_ev_t;

/* An item of the total order; also the DELIVER event and the SUBMIT
 * command.  Reference counted: the log, the sender's pending list and
 * the event queue may share it. */
typedef struct gcs_item {
    gcs_ev_t ev;
    atomic_uint refs;
    uint8_t kind;            /* gcs_kind_t */
    uint64_t sender;
    uint64_t sseq;           /* sender's sequence number (FIFO, dedup) */
    uint64_t g;              /* position within the view, once ordered */
    const char *sender_name; /* interned; set at delivery */
    struct gcs_item *pnext;  /* the sender's own pending list */
    size_t glen, len;
    uint64_t gh;             /* phx__gcs_hash of the group name */
    char *group;             /* NUL-terminated, inside buf */
    uint8_t *data;           /* inside buf */
    char buf[];
} gcs_item_t;

typedef struct gcs_vev {
    gcs_ev_t ev;
    const char *group;
    phx_gcs_view_t view;
    phx_gcs_member_t arr[]; /* members, then joined, then left; then the
                               group name */
} gcs_vev_t;

typedef struct gcs_gsev {
    gcs_ev_t ev;
    uint64_t joiner;
    char group[];
} gcs_gsev_t;

typedef struct gcs_ssev {
    gcs_ev_t ev;
    unsigned flags;
    const char *group;
    size_t len;
    uint8_t *data;
    char buf[];  /* group name, then data */
} gcs_ssev_t;

typedef struct gcs_gcmd {
    gcs_ev_t ev;
    char name[];
} gcs_gcmd_t;

/* A state being sent to a joiner, kept until the joiner confirms it
 * (STATE_OK in the total order) or goes away. */
typedef struct gcs_xfer {
    gcs_ev_t ev;              /* GCS_CMD_STATE on its way to the engine */
    char *key;                /* group '\1' joiner id */
    size_t klen;
    char *group;
    uint64_t joiner;
    uint64_t pview, pseq;     /* where the state was taken */
    uint8_t **chunks;
    size_t *lens;
    size_t n_chunks, cap_chunks;
    size_t total;
    size_t max_total;
    int err;
} gcs_xfer_t;

/* ------------------------------------------------------------------ */
/* Processes                                                            */
/* ------------------------------------------------------------------ */

typedef struct gcs_node {
    uint64_t id;
    const char *name;      /* interned */
    const char *endpoint;  /* interned */
    gcs_peer_t *peer;      /* NULL for this process */
    uint64_t last_sseq;    /* its highest sseq delivered (total order) */
    uint64_t next_sseq;    /* sequencer: next sseq it will accept */
    uint64_t ack;          /* its cumulative ack in this view */
    int64_t heard_us;      /* when it was last heard from */
    bool suspected;
    bool joiner;           /* waiting to be added by the next view */
    bool fresh;            /* joined at the last install */
    /* flush bookkeeping (coordinator side) */
    bool f_acked, f_done, f_installed;
    uint64_t f_recv;
} gcs_node_t;

/* Membership states (member.c has the transitions). */
typedef enum gcs_mstate {
    GCS_S_JOINING = 0,     /* no view yet: asking seeds to be let in */
    GCS_S_OPERATIONAL = 1, /* in a primary view, ordering and delivering */
    GCS_S_FLUSH = 2,       /* view change in progress (old view frozen) */
    GCS_S_BLOCKED = 3,     /* lost the primary component or excluded:
                              rejoining with a new incarnation */
    GCS_S_STOPPED = 4
} gcs_mstate_t;

typedef struct gcs_transition {
    int64_t at_us;
    uint8_t from, to;
    char why[120];
} gcs_transition_t;

#define GCS_HISTORY 32

/* ------------------------------------------------------------------ */
/* Process groups                                                       */
/* ------------------------------------------------------------------ */

typedef struct gcs_gm {
    uint64_t id;
    bool ready;        /* has the group's state */
    uint64_t provider; /* not ready: who was asked to send it */
} gcs_gm_t;

/* Hot fields and a short name share the record's first cache line. */
#define GCS_GROUP_INLINE 40

typedef struct gcs_group {
    uint64_t h;
    char *name;        /* inl, or a buffer of its own when long */
    uint32_t len;
    bool local;        /* this process is a member */
    bool awaiting;     /* this process waits for the group's state */
    char inl[GCS_GROUP_INLINE];
    /* colder */
    uint64_t view_id;
    gcs_gm_t *m;       /* oldest first */
    size_t n, cap;
    uint64_t aw_view, aw_seq;     /* its join position */
    uint64_t provider;
    gcs_ev_t *held_head, *held_tail;
    gcs_ev_t *st_head, *st_tail;  /* chunks received so far */
    uint32_t st_next;
    uint64_t st_view, st_seq;
    int64_t st_us;
} gcs_group_t;

typedef struct gcs_want {
    char *name;
    size_t len;
    uint64_t order;
} gcs_want_t;

/* ------------------------------------------------------------------ */
/* The engine                                                           */
/* ------------------------------------------------------------------ */

typedef struct gcs_engine {
    phx_gcs_t *outer;
    phx_gcs_callbacks_t cb;
    void *cb_arg;

    /* settings */
    int64_t hb_us, timeout_us, rto_us, join_us;
    size_t max_message, max_pending, max_queue, max_state, max_frame;
    bool agreed;

    /* identity */
    uint64_t self;
    uint64_t prev_self;    /* previous incarnation, told to the group */
    const char *name;      /* interned */
    const char *endpoint;  /* interned, the bound one */

    gcs_map_t strings;     /* intern pool */
    void *zctx;
    gcs_net_t net;
    gcs_fault_t fault;
    phx_cdr_writer_t w;
    int64_t now;

    /* ---- membership (member.c) ---- */
    gcs_mstate_t state;
    uint64_t view_id;
    gcs_node_t **members;  /* the installed view, oldest first */
    size_t n_members, cap_members;
    gcs_node_t *me;        /* my record (also in members) */
    gcs_map_t nodes;       /* id -> node: members and joiners */
    uint64_t max_view_seen;
    size_t n_suspected;
    /* flush: the attempt this process runs or has accepted */
    uint64_t f_new;
    uint64_t f_coord;
    bool f_coordinating;
    int f_phase;           /* 1: collecting FLUSH_ACK, 2: FLUSH_DONE */
    bool f_done_sent;
    uint64_t f_cut, f_holder;
    gcs_node_t **f_prop;   /* proposed members (old survivors + joiners) */
    size_t f_n, f_cap;
    int64_t f_start_us, f_retry_us;
    /* INSTALL frames kept for members that have not shown up yet */
    uint8_t *inst_frame, *inst_join_frame;
    size_t inst_len, inst_join_len;
    int64_t inst_retry_us;
    /* joining */
    char **contacts;
    size_t n_contacts, cap_contacts;
    int64_t join_next_us;
    uint64_t excl_id;
    int64_t excl_us;
    gcs_map_t departed;    /* id -> endpoint: left at the last install */
    int64_t gossip_us;
    int64_t flush_since_us;
    gcs_transition_t hist[GCS_HISTORY];
    unsigned n_hist;
    int64_t hb_next_us;

    /* ---- total order (order.c) ---- */
    gcs_item_t **log;      /* slot g & (log_cap - 1), for g in [lo, ...) */
    size_t log_cap;
    uint64_t log_lo;       /* lowest g still held */
    uint64_t ordered_hi;   /* sequencer: last g assigned */
    uint64_t bcast_hi;     /* sequencer: last g broadcast */
    uint64_t recv_hi;      /* every g <= recv_hi is here */
    uint64_t seen_hi;      /* highest g known to exist */
    uint64_t stable;       /* every member has every g <= stable */
    uint64_t delivered;    /* last g delivered */
    uint64_t adv_ack;      /* ack advertised */
    uint64_t sent_ack;
    int64_t nak_us;
    uint64_t nak_from;
    uint64_t nak_to;       /* whom the last NAK went to */
    /* own items: not yet delivered, in sseq order */
    gcs_item_t *pend_head, *pend_tail;
    gcs_item_t *pend_next; /* first with sseq > sent_sseq, or NULL */
    uint64_t next_sseq;    /* last sseq assigned */
    uint64_t sent_sseq;    /* last sseq submitted in this view */
    uint64_t own_ordered;  /* last own sseq seen ordered in this view */
    int64_t submit_us;     /* last submit or ordering progress */

    /* ---- groups (groups.c) ---- */
    gcs_map_t groups;      /* name -> gcs_group_t */
    gcs_map_t awaiting;    /* name -> gcs_group_t waiting for state */
    gcs_map_t xfers;       /* key -> gcs_xfer_t */
    gcs_map_t wants;       /* name -> gcs_want_t: groups the app joined */
    uint64_t want_order;

    /* events produced in this loop iteration, published at its end */
    gcs_ev_t *out_head, *out_tail;
    size_t out_n;

    /* ---- shared with the application thread ---- */
    pthread_mutex_t lock;
    gcs_ev_t *cmd_head, *cmd_tail;
    gcs_ev_t *evq_head, *evq_tail;
    int wake_fd;           /* engine wakes on it */
    int app_fd;            /* phx_gcs_fd */
    pthread_t thread;
    bool thread_started;
    atomic_size_t queued;  /* events not yet dispatched */
    atomic_size_t pending; /* own app messages not yet delivered */
    atomic_bool blocked;   /* outside the primary component */
    atomic_uint_least64_t self_pub;
    atomic_bool stopped;
    /* statistics (written by the engine, read racily by stats) */
    atomic_uint_least64_t st_views, st_delivered, st_in, st_out, st_bad,
        st_retrans, st_susp, st_groups;
    atomic_uint st_members;
    char st_state[16], st_why[128]; /* under lock */
} gcs_engine_t;

/* ---- embedded.c ---- */
const char *phx__gcs_intern(gcs_engine_t *e, const char *s, size_t len);
void phx__gcs_emit(gcs_engine_t *e, gcs_ev_t *ev);
/* Send the frame in e->w to one node / to every other member of the
 * proposed or installed view. */
void phx__gcs_send(gcs_engine_t *e, gcs_node_t *to);
void phx__gcs_send_peer(gcs_engine_t *e, gcs_peer_t *p);
void phx__gcs_send_buf(gcs_engine_t *e, gcs_peer_t *p, const uint8_t *buf,
                       size_t len);
void phx__gcs_bcast(gcs_engine_t *e);
uint64_t phx__gcs_new_id(void);

/* ---- items ---- */
gcs_item_t *phx__gcs_item_new(uint8_t kind, const char *group, size_t glen,
                              const void *data, size_t len);
void phx__gcs_item_ref(gcs_item_t *it);
void phx__gcs_item_unref(gcs_item_t *it);
void phx__gcs_ev_free(gcs_ev_t *ev);

/* ---- order.c ---- */
void phx__gcs_order_reset(gcs_engine_t *e);
void phx__gcs_order_fini(gcs_engine_t *e);
gcs_node_t *phx__gcs_sequencer(gcs_engine_t *e);
void phx__gcs_order_on_submit(gcs_engine_t *e, gcs_node_t *from,
                              phx_cdr_reader_t *r);
void phx__gcs_order_on_data(gcs_engine_t *e, gcs_node_t *from,
                            phx_cdr_reader_t *r);
void phx__gcs_order_on_ack(gcs_engine_t *e, gcs_node_t *from,
                           phx_cdr_reader_t *r);
void phx__gcs_order_on_nak(gcs_engine_t *e, gcs_node_t *from,
                           phx_cdr_reader_t *r);
void phx__gcs_order_pend(gcs_engine_t *e, gcs_item_t *it);
/* End of a loop iteration: order/submit, broadcast, ack, deliver. */
void phx__gcs_order_pump(gcs_engine_t *e);
/* Timer work: heartbeats, repair. */
void phx__gcs_order_tick(gcs_engine_t *e);
/* Deliver every g <= upto (flush: the cut is stable by agreement). */
void phx__gcs_order_deliver_upto(gcs_engine_t *e, uint64_t upto);
void phx__gcs_order_nak(gcs_engine_t *e, gcs_node_t *to, uint64_t upto);
void phx__gcs_order_drop_pending(gcs_engine_t *e);
/* Re-number own items after joining with a fresh incarnation. */
void phx__gcs_order_requeue(gcs_engine_t *e, gcs_item_t *first);

/* ---- member.c ---- */
void phx__gcs_member_start(gcs_engine_t *e, const char *const *seeds,
                           size_t n_seeds);
void phx__gcs_member_fini(gcs_engine_t *e);
void phx__gcs_member_frame(gcs_engine_t *e, const gcs_hdr_t *h,
                           phx_cdr_reader_t *r);
void phx__gcs_member_tick(gcs_engine_t *e);
void phx__gcs_member_peer_down(gcs_engine_t *e, gcs_peer_t *p);
void phx__gcs_member_goodbye(gcs_engine_t *e);
void phx__gcs_member_check_flush(gcs_engine_t *e);
gcs_node_t *phx__gcs_node(gcs_engine_t *e, uint64_t id);
const char *phx__gcs_state_name(gcs_mstate_t s);

/* ---- groups.c ---- */
void phx__gcs_groups_init(gcs_engine_t *e);
void phx__gcs_groups_fini(gcs_engine_t *e);
void phx__gcs_groups_deliver(gcs_engine_t *e, gcs_item_t *it);
void phx__gcs_groups_depart(gcs_engine_t *e, const uint64_t *ids, size_t n);
void phx__gcs_groups_blocked(gcs_engine_t *e);
void phx__gcs_groups_snapshot(gcs_engine_t *e, phx_cdr_writer_t *w);
int phx__gcs_groups_load(gcs_engine_t *e, phx_cdr_reader_t *r);
void phx__gcs_groups_rejoin(gcs_engine_t *e);
void phx__gcs_groups_want(gcs_engine_t *e, const char *name, bool join);
void phx__gcs_groups_xfer(gcs_engine_t *e, gcs_xfer_t *x);
void phx__gcs_xfer_free(gcs_xfer_t *x);
void phx__gcs_groups_on_state(gcs_engine_t *e, gcs_node_t *from,
                              phx_cdr_reader_t *r);
void phx__gcs_groups_on_retry(gcs_engine_t *e, gcs_node_t *from,
                              phx_cdr_reader_t *r);
void phx__gcs_groups_tick(gcs_engine_t *e);

#endif
