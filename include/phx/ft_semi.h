/*
 * ft_semi.h - SEMI_ACTIVE replication (libphx-ft, ft/semi.c, docs/ft.md
 * "Non-determinism and SEMI_ACTIVE").
 *
 * Every member of a SEMI_ACTIVE group runs an ORB serving the same
 * servant under the same object key, and one phx_ft_semi_t, which owns a
 * GCS handle joined (uniform delivery) to a group named after the object
 * group and a thread that dispatches it.  The leader is the oldest member
 * of the current primary-component view.  A request carrying FT_REQUEST
 * that reaches:
 *   - any member that has its reply in the reply cache: answered from it;
 *   - the leader: executed there on the ORB worker that received it
 *     (several at once), with a recording context (<phx/ft_nd.h>): every
 *     non-deterministic decision (times, the seed, inputs, mutex
 *     acquisition numbers, timed-wait outcomes) goes into the request's
 *     record together with the request and its reply; the record is
 *     multicast and the client answered once the leader delivered it;
 *   - a follower: TRANSIENT, COMPLETED_NO (the FT client re-issues it to
 *     the next profile, eventually the leader).
 * Followers execute every delivered record with a replaying context (each
 * in a thread of its own, concurrently, per-mutex acquisition order
 * enforced), keep the leader's reply in their reply cache and compare it
 * with their own (the divergence detector).
 *
 * A servant that is not multithreaded (cfg.multithreaded false, the
 * default) has its requests executed one at a time on every member: each
 * execution holds an implicit group mutex, whose acquisition order the
 * leader decides like any other.  A multithreaded servant protects its
 * shared state with phx_ft_mutex / phx_ft_cond itself.
 *
 * The ORB must serve with worker threads (phx_orb_config_t.workers >= 1;
 * more give concurrency on the leader).  PHX_FT_SEMI_ACTIVE (5) is not an
 * FT::ReplicationStyleValue (those are 0..4): it is Phalanx's own.
 */
#ifndef PHX_FT_SEMI_H
#define PHX_FT_SEMI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <phx/error.h>
#include <phx/orb.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PHX_FT_SEMI_ACTIVE 5

struct phx_gcs_config;
struct phx_gcs_view;

typedef struct phx_ft_semi phx_ft_semi_t;

/* What the divergence detector found (valid during the callback). */
typedef struct phx_ft_semi_divergence {
    const char *group;
    const char *member;        /* this member's GCS name */
    const char *client_id;     /* NUL-terminated copy */
    int32_t retention_id;
    const char *operation;
    const char *kind;          /* "reply", "state" or "replay" */
    uint64_t expected;         /* the leader's digest */
    uint64_t got;              /* this member's digest */
    uint64_t record;           /* records delivered here before this one */
    const char *detail;        /* a readable summary */
} phx_ft_semi_divergence_t;

typedef struct phx_ft_semi_config {
    const char *group;          /* GCS group name (required) */
    uint32_t wait_ms;           /* longest wait for a delivery; default
                                 * 10000 */
    size_t cache_max_entries;   /* reply cache limits (0: defaults) */
    size_t cache_max_bytes;
    bool multithreaded;         /* the servant uses phx_ft_mutex itself */
    /* Divergence detector: also compare a digest of the servant's state
     * (get_state) every every_n executions (0: replies only).  Only for
     * servants that are not multithreaded. */
    uint32_t every_n;
    void *arg;                  /* passed to the callbacks below */
    void (*view_change)(void *arg, const struct phx_gcs_view *view,
                        bool leader);
    /* Required: the servant's whole state for a joiner (taken while no
     * request executes on the giving member) and installing it. */
    int (*get_state)(void *arg, uint8_t **data, size_t *len);
    int (*set_state)(void *arg, const void *data, size_t len);
    void (*state_ready)(void *arg);
    /* Optional: a divergence was found (on a replay thread). */
    void (*divergence)(void *arg, const phx_ft_semi_divergence_t *d);
} phx_ft_semi_config_t;

void phx_ft_semi_config_init(phx_ft_semi_config_t *cfg);

/* As phx_ft_passive_install (the GCS mode is forced to uniform). */
int phx_ft_semi_install(phx_orb_t *orb, const struct phx_gcs_config *gcs_cfg,
                        const void *key, size_t key_len,
                        const phx_ft_semi_config_t *cfg,
                        phx_ft_semi_t **out, phx_error_t *err);
const char *phx_ft_semi_gcs_endpoint(phx_ft_semi_t *s);
bool phx_ft_semi_is_leader(phx_ft_semi_t *s);
/* Stop the dispatch thread, wait for the replays in progress, leave the
 * GCS.  Idempotent. */
void phx_ft_semi_shutdown(phx_ft_semi_t *s);
void phx_ft_semi_destroy(phx_ft_semi_t *s); /* NULL-safe */

typedef struct phx_ft_semi_stats {
    uint64_t executed;      /* requests executed here as leader */
    uint64_t replayed;      /* delivered records executed as follower */
    uint64_t skipped;       /* delivered records a state transfer held */
    uint64_t cached;        /* answered from the reply cache */
    uint64_t refused;       /* TRANSIENT: not the leader */
    uint64_t batches;       /* messages multicast (several records each) */
    uint64_t undelivered;   /* own records not delivered: left the group */
    uint64_t promotions;
    uint64_t divergences;   /* mismatches found here */
    uint64_t state_checks;  /* state digests compared */
} phx_ft_semi_stats_t;
void phx_ft_semi_get_stats(phx_ft_semi_t *s, phx_ft_semi_stats_t *st);

#ifdef __cplusplus
}
#endif

#endif /* PHX_FT_SEMI_H */
