/*
 * gcs.h - the group communication service: process groups with totally
 * ordered, virtually synchronous multicast, membership views and state
 * transfer.
 *
 * The interface is shaped like Corosync's CPG so that more than one
 * backend can sit behind it: a handle, a struct of callbacks, and a file
 * descriptor plus a dispatch call so that it fits any event loop.  The
 * built-in backend ("embedded", over ZeroMQ, no daemon) is described in
 * docs/gcs.md together with the guarantees it gives and the protocol it
 * implements.
 *
 * Threading
 *   A handle is used by one application thread at a time (the caller
 *   serialises calls on one handle; distinct handles are independent).
 *   Callbacks run only inside phx_gcs_dispatch()/phx_gcs_run(), on the
 *   calling thread; a callback may call phx_gcs_multicast, _join and
 *   _leave on the same handle, but not phx_gcs_destroy.  The embedded
 *   backend runs its protocol on a thread of its own, so failure
 *   detection and ordering go on while the application is busy.
 *
 * Errors: 0 or a negative PHX_E* code, with a message in the optional
 * phx_error_t.  The async contract: if a call returns an error, no
 * callback will ever report its effect.
 *   PHX_EINVAL   bad argument (empty or too long group name, ...)
 *   PHX_ELIMIT   message larger than the configured maximum
 *   PHX_EAGAIN   flow control: too many of this process's messages are
 *                not yet delivered; dispatch and retry
 *   PHX_ESTATE   not joined to that group, or this process is outside
 *                the primary component (see view_change's primary flag)
 *   PHX_ESHUTDOWN the backend has stopped
 */
#ifndef PHX_GCS_H
#define PHX_GCS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <phx/error.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct phx_gcs phx_gcs_t;

/* Longest group name and member name, in bytes (no NUL). */
#define PHX_GCS_GROUP_MAX 255
#define PHX_GCS_NAME_MAX 255

typedef enum phx_gcs_mode {
    /* Uniform ("safe") delivery: a message is delivered only once every
     * member of the current view has it.  The default. */
    PHX_GCS_UNIFORM = 0,
    /* Agreed delivery: total order, delivered as soon as it is ordered.
     * Lower latency; a member that delivers and then crashes may have
     * delivered a message that the survivors never deliver. */
    PHX_GCS_AGREED = 1
} phx_gcs_mode_t;

/* Why a member appears in a view's joined or left list. */
typedef enum phx_gcs_reason {
    PHX_GCS_REASON_NONE = 0,        /* in the members list */
    PHX_GCS_REASON_JOIN = 1,        /* called phx_gcs_join */
    PHX_GCS_REASON_LEAVE = 2,       /* called phx_gcs_leave */
    PHX_GCS_REASON_FAILED = 3,      /* process crashed, stopped or was
                                       excluded after a suspicion */
    PHX_GCS_REASON_UNREACHABLE = 4  /* on the other side of a partition
                                       (non-primary views only) */
} phx_gcs_reason_t;

typedef struct phx_gcs_member {
    uint64_t id;             /* unique per process incarnation: a process
                                that rejoins gets a new one */
    const char *name;        /* the configured name; valid until
                                phx_gcs_destroy */
    phx_gcs_reason_t reason; /* in joined/left lists; NONE otherwise */
} phx_gcs_member_t;

typedef struct phx_gcs_view {
    /* Group view number.  In the primary component every member sees the
     * same numbers for the same membership; a non-primary view is local
     * to the process that reports it. */
    uint64_t id;
    /* true when this view belongs to the primary component (a majority
     * of the previous process-level view).  After a false one the process
     * neither delivers nor sends in this group until it has rejoined with
     * a state transfer (reported by a later primary view). */
    bool primary;
    const phx_gcs_member_t *members; /* oldest first */
    size_t n_members;
    const phx_gcs_member_t *joined;
    size_t n_joined;
    const phx_gcs_member_t *left;
    size_t n_left;
} phx_gcs_view_t;

/* Opaque sink handed to get_state. */
typedef struct phx_gcs_state_writer phx_gcs_state_writer_t;

/* Append one chunk of state (copied).  May be called any number of times
 * from get_state; each call is delivered to set_state as one or more
 * chunks, in order.  PHX_ELIMIT past the configured max_state. */
int phx_gcs_state_write(phx_gcs_state_writer_t *w, const void *data,
                        size_t len);

/* set_state flags */
#define PHX_GCS_STATE_FIRST 1u /* first chunk of a state */
#define PHX_GCS_STATE_LAST 2u  /* last chunk: the state is complete */

typedef struct phx_gcs_callbacks {
    /* A message, in total order.  msg is valid during the call. */
    void (*deliver)(phx_gcs_t *gcs, const char *group,
                    const phx_gcs_member_t *sender, const void *msg,
                    size_t len, void *arg);
    /* Group membership changed.  The view is valid during the call. */
    void (*view_change)(phx_gcs_t *gcs, const char *group,
                        const phx_gcs_view_t *view, void *arg);
    /* This member was chosen to give its state of group to a joiner: write
     * the state as it is now (after every message delivered so far and
     * before any later one) with phx_gcs_state_write.  A non-zero return
     * sends an empty state.  NULL = the group has no state. */
    int (*get_state)(phx_gcs_t *gcs, const char *group,
                     phx_gcs_state_writer_t *w, void *arg);
    /* The joiner receives that state, chunk by chunk (FIRST on the first,
     * LAST on the last; an empty state is one call with len 0 and both
     * flags).  It comes after the joiner's own join view_change and
     * before the first message ordered after the state was taken: the
     * joiner sees exactly the messages the state does not include. */
    void (*set_state)(phx_gcs_t *gcs, const char *group, const void *chunk,
                      size_t len, unsigned flags, void *arg);
} phx_gcs_callbacks_t;

typedef struct phx_gcs_config {
    const char *backend;      /* "embedded" (default when NULL) */
    const char *name;         /* member name shown in views; default
                                 "<hostname>-<pid>" */
    const char *endpoint;     /* where to listen; default
                                 "tcp://127.0.0.1:*" (wildcard resolved,
                                 see phx_gcs_endpoint) */
    /* Endpoints of existing members to join through.  None: this process
     * founds a new primary component on its own. */
    const char *const *seeds;
    size_t n_seeds;
    uint32_t heartbeat_ms;    /* default 100 */
    uint32_t timeout_ms;      /* silence before suspicion; default 1000 */
    uint32_t retransmit_ms;   /* repair interval; default 20 */
    phx_gcs_mode_t mode;      /* default PHX_GCS_UNIFORM */
    size_t max_message;       /* largest payload; default 1 MiB */
    size_t max_pending;       /* own messages not yet delivered before
                                 multicast says PHX_EAGAIN; default 1024 */
    size_t max_queue;         /* events waiting for dispatch before this
                                 member stops acknowledging (back-pressure
                                 on every sender); default 65536 */
    size_t max_state;         /* largest state transfer; default 1 GiB */
    /* Fault injection for tests (see phx_gcs_inject); NULL: the
     * PHX_GCS_FAULTS environment variable, if set. */
    const char *faults;
} phx_gcs_config_t;

/* Fill cfg with the defaults (all pointers NULL). */
void phx_gcs_config_init(phx_gcs_config_t *cfg);

/* Create a handle: binds the endpoint and starts the backend.  cb is
 * copied; arg is passed to every callback.  On failure *out is untouched
 * and nothing needs to be destroyed. */
int phx_gcs_create(const phx_gcs_config_t *cfg,
                   const phx_gcs_callbacks_t *cb, void *arg,
                   phx_gcs_t **out, phx_error_t *err);

/* Stop and free.  Other members see this process fail at once (it says
 * goodbye).  Events not yet dispatched are dropped.  NULL-safe. */
void phx_gcs_destroy(phx_gcs_t *gcs);

/* A file descriptor that is readable when phx_gcs_dispatch has work. */
int phx_gcs_fd(phx_gcs_t *gcs);

/* Run the callbacks of every pending event, waiting up to timeout_ms
 * for the first one (0: do not wait; -1: wait until there is one).
 * Returns how many events were dispatched (>= 0) or an error. */
int phx_gcs_dispatch(phx_gcs_t *gcs, int timeout_ms, phx_error_t *err);

/* Dispatch until phx_gcs_stop().  Returns 0 or an error. */
int phx_gcs_run(phx_gcs_t *gcs, phx_error_t *err);

/* Make phx_gcs_run return; may be called from a callback or a signal-free
 * other thread. */
void phx_gcs_stop(phx_gcs_t *gcs);

/* Join / leave a group.  Asynchronous: the effect is the view_change
 * that lists this member as joined or left.  Messages multicast after
 * join are ordered after the join. */
int phx_gcs_join(phx_gcs_t *gcs, const char *group, phx_error_t *err);
int phx_gcs_leave(phx_gcs_t *gcs, const char *group, phx_error_t *err);

/* Multicast len bytes (copied) to group in total order, FIFO with this
 * member's other messages.  The group must have been joined. */
int phx_gcs_multicast(phx_gcs_t *gcs, const char *group, const void *msg,
                      size_t len, phx_error_t *err);

/* This process's current identity (the id changes when it rejoins). */
int phx_gcs_self(phx_gcs_t *gcs, phx_gcs_member_t *self);

/* The concrete endpoint bound (wildcards resolved); valid until destroy. */
const char *phx_gcs_endpoint(phx_gcs_t *gcs);

/*
 * Fault injection, for tests: the backend's transport wrapper drops,
 * delays, duplicates and reorders the frames it sends, and cuts this
 * process off from named members.  spec is a comma-separated list that
 * replaces the current settings:
 *   drop=P  dup=P  reorder=P     probabilities in [0,1] per frame
 *   delay=MIN-MAX                extra delay in ms (uniform)
 *   partition=NAME+NAME...       no frames to or from these members
 *   seed=N                       random seed
 * An empty spec (or "heal") turns everything off.
 */
int phx_gcs_inject(phx_gcs_t *gcs, const char *spec, phx_error_t *err);

typedef struct phx_gcs_stats {
    uint64_t views;            /* process-level views installed */
    uint64_t delivered;        /* messages delivered to this process */
    uint64_t frames_in, frames_out;
    uint64_t bad_frames;       /* malformed or from non-members: dropped */
    uint64_t retransmits;      /* frames resent for repair */
    uint64_t suspicions;       /* members this process suspected */
    uint64_t fault_dropped;    /* frames dropped by fault injection */
    uint64_t groups;           /* groups known to this process */
    uint32_t members;          /* processes in the current view */
    bool primary;              /* in the primary component */
    char state[16];            /* membership state ("OPERATIONAL", ...) */
    char why[128];             /* reason of its last transition */
} phx_gcs_stats_t;

int phx_gcs_stats(phx_gcs_t *gcs, phx_gcs_stats_t *st);

#ifdef __cplusplus
}
#endif

#endif /* PHX_GCS_H */
