/*
 * ft_nd.h - consistent non-determinism for replicated servants (libphx-ft,
 * ft/nd.c, docs/ft.md "Non-determinism and SEMI_ACTIVE").
 *
 * A servant calls these instead of the operating system's clocks, random
 * sources, input and mutexes.  Inside a *replicated invocation* (a request
 * that a replication style executes on behalf of the group: ACTIVE,
 * WARM_PASSIVE, COLD_PASSIVE, SEMI_ACTIVE) every replica that executes the
 * request sees the same values; outside one they fall through to the OS:
 *
 *   phx_ft_now          clock_gettime
 *   phx_ft_random       a fast thread-local generator (xoshiro256**)
 *                       seeded from getrandom
 *   phx_ft_random_seed  a fresh 64-bit value from that generator
 *   phx_ft_input        calls fn
 *   phx_ft_mutex_*      a plain pthread mutex (nothing counted)
 *   phx_ft_cond_*       a plain pthread condition variable
 *
 * Group time.  Every replicated invocation has a group time, in
 * nanoseconds since the Unix epoch, that never goes backwards within the
 * group, across view changes and fail-overs (the last group time travels
 * in the update records, the request logs, the checkpoints and the state
 * transfers), and that successive phx_ft_now calls within one request see
 * strictly increasing (by at least 1 us).  PHX_FT_CLOCK_REALTIME and
 * PHX_FT_CLOCK_MONOTONIC read the *same* group clock inside a replicated
 * invocation: the group's monotonic clock is the group time, which follows
 * the wall clock of the member deciding it (leader, primary, or the
 * replica that ordered the request under ACTIVE) but is held back to
 * last + 1 us whenever that clock is behind the group's last time (a
 * step back of the wall clock, a fail-over to a member whose clock lags).
 * It is therefore non-decreasing for the group and strictly increasing
 * within a request, but it has no relation to the OS monotonic clock's
 * epoch (boot time): compare group monotonic values only with each other.
 *
 * What each style supports (see docs/ft.md for the details):
 *   - ACTIVE: time and random (the replica that orders a request proposes
 *     its clock and a seed).  phx_ft_input and phx_ft_mutex ordering are
 *     not available: input returns PHX_EUNSUPPORTED; requests run one at
 *     a time, so the mutexes are plain mutexes.
 *   - WARM_PASSIVE: time, random and input (only the primary executes;
 *     backups receive the state).
 *   - COLD_PASSIVE: time and random (logged with each record, so that a
 *     recovery replays the same values); input returns PHX_EUNSUPPORTED
 *     (a recovery could not replay it).
 *   - SEMI_ACTIVE (<phx/ft_semi.h>): everything, including multithreaded
 *     servants with phx_ft_mutex / phx_ft_cond.
 *
 * Status codes are 0 or a negative PHX_E* code.
 */
#ifndef PHX_FT_ND_H
#define PHX_FT_ND_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <phx/error.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* Servant API                                                          */
/* ------------------------------------------------------------------ */

#define PHX_FT_CLOCK_REALTIME 0
#define PHX_FT_CLOCK_MONOTONIC 1

/* The time (see "Group time" above).  PHX_EINVAL for an unknown clock. */
int phx_ft_now(int clock, struct timespec *out);

/* 64 random bits: inside a replicated invocation a deterministic sequence
 * derived from the request's seed (identical on every replica). */
uint64_t phx_ft_random(void);

/* The request's seed (the same value for every call within a request,
 * identical on every replica), for a servant's own generator. */
uint64_t phx_ft_random_seed(void);

/* Input from outside the group: fn (returning 0, or non-zero on failure)
 * produces *data (malloc'd) and *len.  Inside a SEMI_ACTIVE invocation fn
 * runs on the leader only and every follower receives the same bytes (or
 * the same failure code), in call order; the caller frees *data.
 * PHX_EUNSUPPORTED under ACTIVE and COLD_PASSIVE.  Returns fn's result
 * (0 on success). */
int phx_ft_input(int (*fn)(void *arg, uint8_t **data, size_t *len),
                 void *arg, uint8_t **data, size_t *len);

/* Whether the calling thread executes a replicated invocation now. */
bool phx_ft_in_replicated(void);

/*
 * Nested invocations: a replicated servant calls another object (plain
 * or an object group) with phx_ft_call, same contract as phx_op_invoke
 * (<phx/opdesc.h>).  Outside a replicated invocation it is phx_op_invoke.
 * Inside one, the call carries a deterministic identity that the FT
 * client interceptor (phx_ft_client_install on the servant's ORB) puts
 * into FT_REQUEST instead of its own: client id "<outer client
 * id>/<outer retention id>", retention id = the index of the call within
 * the request (0, 1, ...), the outer request's expiration.  A callee
 * group's reply cache thus recognises the same nested call made again -
 * by every ACTIVE replica, or by a new leader / primary re-executing the
 * request after a fail-over - and executes it once.
 *   SEMI_ACTIVE leader: makes the call and records its outcome (result,
 *     inout and out values, or the exception); followers do not call,
 *     they get the recorded outcome.
 *   ACTIVE: every replica calls (same identity): a group callee executes
 *     once, a plain (non-group) callee is called once per replica.
 *   WARM_PASSIVE / COLD_PASSIVE: the primary calls.
 */
struct phx_object;
struct phx_opdesc;
struct phx_env;
int phx_ft_call(struct phx_object *obj, const struct phx_opdesc *op,
                void *const *args, void *result, struct phx_env *env);

/*
 * Mutexes for multithreaded servants.  Under SEMI_ACTIVE, the order in
 * which requests acquire each mutex is decided by the leader and replayed
 * by the followers (see docs/ft.md).  A mutex's identity must be the same
 * on every replica: a non-NULL name (hashed), or, with name NULL, its
 * creation order in the process (create such mutexes in the same order
 * on every replica, e.g. at start-up or inside replicated requests).
 * Not recursive.  Statically zeroed structures are not valid: init them.
 */
typedef struct phx_ft_mutex {
    pthread_mutex_t m;     /* the real lock */
    pthread_mutex_t tlock; /* guards acq */
    pthread_cond_t turn;   /* acq changed */
    uint64_t id;
    uint64_t acq;          /* replicated acquisitions so far */
    struct phx_ft_mutex *next; /* in the process's table */
} phx_ft_mutex_t;

int phx_ft_mutex_init(phx_ft_mutex_t *m, const char *name);
int phx_ft_mutex_destroy(phx_ft_mutex_t *m);
int phx_ft_mutex_lock(phx_ft_mutex_t *m);
int phx_ft_mutex_unlock(phx_ft_mutex_t *m);

/* Condition variables to use with a phx_ft_mutex.  timedwait's abstime is
 * in group time (phx_ft_now(PHX_FT_CLOCK_REALTIME)); it returns 0 or
 * ETIMEDOUT (errno values, as pthread does), decided by the leader under
 * SEMI_ACTIVE.  Spurious wake-ups may happen: wait in a predicate loop. */
typedef struct phx_ft_cond {
    pthread_cond_t c;
} phx_ft_cond_t;

int phx_ft_cond_init(phx_ft_cond_t *c);
int phx_ft_cond_destroy(phx_ft_cond_t *c);
int phx_ft_cond_wait(phx_ft_cond_t *c, phx_ft_mutex_t *m);
int phx_ft_cond_timedwait(phx_ft_cond_t *c, phx_ft_mutex_t *m,
                          const struct timespec *abstime);
int phx_ft_cond_signal(phx_ft_cond_t *c);
int phx_ft_cond_broadcast(phx_ft_cond_t *c);

/* ------------------------------------------------------------------ */
/* For replication styles: the replicated invocation context            */
/* ------------------------------------------------------------------ */
/*
 * A style sets a context on the thread that executes a request (begin),
 * runs the request, and ends it (end).  Modes:
 *   FIXED   group time t_ns and seed given; phx_ft_now returns t_ns,
 *           t_ns + 1 us, ...; nothing is recorded (ACTIVE, WARM_PASSIVE,
 *           COLD_PASSIVE).  Input is allowed or PHX_EUNSUPPORTED;
 *           mutexes are plain.
 *   RECORD  the leader of SEMI_ACTIVE: every decision (times, inputs,
 *           mutex acquisition numbers, timed-wait outcomes) is appended
 *           to the context's log; times come from a shared group clock.
 *   REPLAY  a SEMI_ACTIVE follower: the decisions come from a log.
 */
typedef enum phx_ft_nd_mode {
    PHX_FT_ND_FIXED = 1,
    PHX_FT_ND_RECORD = 2,
    PHX_FT_ND_REPLAY = 3
} phx_ft_nd_mode_t;

/* A group clock shared by the executions of one member (RECORD): the last
 * group time handed out, in ns since the Unix epoch. */
typedef struct phx_ft_group_clock {
    pthread_mutex_t lock;
    uint64_t last_ns;
} phx_ft_group_clock_t;

void phx_ft_group_clock_init(phx_ft_group_clock_t *gc, uint64_t last_ns);
void phx_ft_group_clock_fini(phx_ft_group_clock_t *gc);
/* Raise last_ns to at least t (a delivered record, a state transfer). */
void phx_ft_group_clock_advance(phx_ft_group_clock_t *gc, uint64_t t);
uint64_t phx_ft_group_clock_last(phx_ft_group_clock_t *gc);
/* max(wall clock, last + 1 us), which becomes the last. */
uint64_t phx_ft_group_clock_next(phx_ft_group_clock_t *gc);

/* The wall clock in ns since the Unix epoch. */
uint64_t phx_ft_nd_wall_ns(void);
/* max(proposed, last + 1 us): the group time of a request whose time is
 * proposed by one replica and whose predecessor left the group at
 * last. */
uint64_t phx_ft_nd_group_time(uint64_t proposed, uint64_t last);
/* 64 bits for a seed (getrandom). */
uint64_t phx_ft_nd_fresh_seed(void);

typedef struct phx_ft_nd_ctx {
    phx_ft_nd_mode_t mode;
    uint64_t seed;
    uint64_t rnd_n;            /* phx_ft_random calls so far */
    uint64_t t_ns;             /* FIXED: the request's group time */
    uint64_t last_ns;          /* the last time handed out (0: none) */
    uint32_t now_calls;
    bool allow_input;          /* FIXED */
    phx_ft_group_clock_t *clock; /* RECORD */
    /* RECORD: the log being written (malloc'd); REPLAY: the log read
     * (borrowed). */
    uint8_t *log;
    size_t log_len, log_cap, log_pos;
    /* RECORD: the largest global acquisition number taken (for the
     * leader's commit order), or UINT64_MAX when none. */
    uint64_t max_g;
    uint64_t *gs;              /* RECORD: every global number taken */
    size_t n_gs, cap_gs;
    /* REPLAY: the log did not match what the servant asked for. */
    bool diverged;
    char why[160];
    bool failed;               /* RECORD: out of memory */
    /* The request being executed (phx_ft_nd_set_request; borrowed): the
     * identity nested calls derive theirs from.  client_id NULL: none. */
    const char *req_client_id;
    size_t req_client_id_len;
    int32_t req_retention_id;
    uint64_t req_expiration;   /* TimeT */
    uint32_t calls;            /* phx_ft_call calls so far */
} phx_ft_nd_ctx_t;

/* Set ctx as the calling thread's context (ctx is zeroed first). */
void phx_ft_nd_begin_fixed(phx_ft_nd_ctx_t *ctx, uint64_t t_ns,
                           uint64_t seed, bool allow_input);
void phx_ft_nd_begin_record(phx_ft_nd_ctx_t *ctx,
                            phx_ft_group_clock_t *clock, uint64_t seed);
void phx_ft_nd_begin_replay(phx_ft_nd_ctx_t *ctx, const uint8_t *log,
                            size_t len, uint64_t seed);
/* The FT_REQUEST of the request the context executes (after begin;
 * client_id is borrowed and must outlive the execution).  Nested calls
 * (phx_ft_call) then carry the identity client id "<client_id>/<retention
 * id>", retention id = the call's index within the request, and the
 * request's expiration. */
void phx_ft_nd_set_request(phx_ft_nd_ctx_t *ctx, const char *client_id,
                           size_t client_id_len, int32_t retention_id,
                           uint64_t expiration);
/* Clear the thread's context; ctx keeps its results (last_ns, the log).
 * phx_ft_nd_ctx_fini frees what the context owns. */
void phx_ft_nd_end(phx_ft_nd_ctx_t *ctx);
void phx_ft_nd_ctx_fini(phx_ft_nd_ctx_t *ctx);
/* The last group time the request used: last_ns, or t_ns when it never
 * asked (FIXED). */
uint64_t phx_ft_nd_last(const phx_ft_nd_ctx_t *ctx);
/* The log's largest time entry (REPLAY: what the follower's group clock
 * advances to), 0 when none. */
uint64_t phx_ft_nd_log_max_time(const uint8_t *log, size_t len);

/* Global acquisition numbers (the leader's commit order): the next number
 * to be assigned. */
uint64_t phx_ft_nd_next_g(void);

/* Every phx_ft_mutex's replicated acquisition count, for state transfer:
 * a buffer of (u64 id, u64 acq) pairs in native order (malloc'd), and
 * setting them back (ids unknown here are kept and applied when a mutex
 * with that id is created).  PHX_ENOMEM. */
int phx_ft_nd_mutex_counts(uint8_t **data, size_t *len);
int phx_ft_nd_set_mutex_counts(const uint8_t *data, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* PHX_FT_ND_H */
