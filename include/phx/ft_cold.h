/*
 * ft_cold.h - COLD_PASSIVE replication (libphx-ft, ft/cold.c, docs/ft.md).
 *
 * Every member of a COLD_PASSIVE group runs an ORB serving the same
 * servant under the same object key, and one phx_ft_cold_t pointing at the
 * group's stable storage: a directory DIR shared by every member.  One
 * member, the primary, executes; the others are not loaded (their servant
 * is not kept up to date).  DIR holds:
 *   - primary.lock: an exclusive OFD lock (fcntl F_OFD_SETLK) on it makes
 *     its holder the primary.  A background thread of every member tries
 *     to take it every lock_poll_ms; the kernel releases it when the
 *     holder's process dies (even by SIGKILL), so fail-over needs no
 *     failure detector.  OFD locks belong to an open file description, so
 *     two members in one process exclude each other too.  The lock is
 *     also the fence: only its holder ever writes checkpoint and log, so
 *     two primaries never write at once.  DIR must therefore be on storage
 *     every member shares with working OFD locks: one host's local file
 *     system, or a shared file system whose locks are reliable (not NFS
 *     without working lock recovery).
 *   - checkpoint: the servant's state (get_state), the reply cache and the
 *     sequence number of the last request it covers, CRC-protected.
 *   - log: one record per request executed since that checkpoint (the
 *     request and its reply), each CRC-protected and made durable
 *     (fdatasync) before the client is answered.
 *
 * Becoming primary is recovery: the checkpoint is loaded (set_state and
 * the reply cache), then every logged request it does not cover is
 * executed again through phx_orb_invoke_local, in log order, with its
 * logged reply put into the reply cache; the servant must be
 * deterministic, as for every replicated style.  A torn log tail (a
 * record whose write was cut short by a crash: never acknowledged) is
 * dropped with a warning.  A corrupt checkpoint or a corrupt record
 * followed by others is a hard error: the member logs it, releases the
 * lock, never serves as primary and stops contending for the lock (the
 * storage needs an operator; stats.broken is set).  Recovery ends with a
 * fresh checkpoint whenever the log was not empty, so the log restarts
 * empty.  Missing files mean an empty group (first start).
 *
 * A request carrying FT_REQUEST to the key that reaches:
 *   - the primary: answered from the reply cache when it ran before;
 *     otherwise executed (one request at a time), its record appended to
 *     the log and synced, and only then answered;
 *   - any other member: TRANSIENT, COMPLETED_NO (the FT client re-issues
 *     it to the next profile, eventually the primary).
 * Requests without FT_REQUEST reach the servant directly, unreplicated
 * and unlogged (lost on fail-over).
 *
 * When the log cannot be written or synced (ENOSPC, EIO, ...) the client
 * is answered TRANSIENT, COMPLETED_MAYBE and the member gives up the
 * primary role at once (it releases the lock): its servant has executed a
 * request storage may not have.  Whoever takes the lock next, this member
 * included, recovers from storage, where the record is either whole (the
 * retry is answered from the cache) or torn (dropped; the retry runs).
 * A member whose recovery failed for want of I/O retries after 1 s.
 *
 * Checkpoints are taken by the background thread while no request
 * executes, every checkpoint_interval_ms or checkpoint_every requests,
 * whichever comes first (only when requests ran since the last one):
 * get_state, write checkpoint.tmp, fsync, rename over checkpoint, fsync
 * DIR, then truncate the log.  Recovery skips the records a checkpoint
 * covers, so a crash anywhere in between is safe.
 *
 * The ORB must serve with worker threads (phx_orb_config_t.workers >= 1)
 * and the servant must be activated before phx_ft_cold_install: recovery
 * may start at once.  set_state and the re-executions of recovery run on
 * the background thread, get_state there too, while ORB workers may be
 * running unreplicated requests: the servant must be thread-safe.
 * Install before the ORB serves; phx_ft_cold_shutdown before
 * phx_orb_destroy (the thread calls into the ORB), phx_ft_cold_destroy
 * after it.
 */
#ifndef PHX_FT_COLD_H
#define PHX_FT_COLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <phx/error.h>
#include <phx/orb.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct phx_ft_cold phx_ft_cold_t;

typedef struct phx_ft_cold_config {
    const char *dir;                 /* the group's stable storage, shared
                                      * by its members (required; must
                                      * exist) */
    uint32_t checkpoint_interval_ms; /* default 1000 */
    uint32_t checkpoint_every;       /* requests; default 1000 */
    uint32_t lock_poll_ms;           /* default 2 */
    size_t cache_max_entries;        /* reply cache limits (0: defaults) */
    size_t cache_max_bytes;
    void *arg;                       /* passed to the callbacks below */
    /* Required: the servant's whole state (*data malloc'd, the caller
     * frees it), for checkpoints; and installing such a state during
     * recovery.  Non-zero: failure. */
    int (*get_state)(void *arg, uint8_t **data, size_t *len);
    int (*set_state)(void *arg, const void *data, size_t len);
    /* Optional: this member became the primary (after its recovery) or
     * gave the role up.  Called without locks held, from the background
     * thread or an ORB worker. */
    void (*role_change)(void *arg, bool primary);
} phx_ft_cold_config_t;

void phx_ft_cold_config_init(phx_ft_cold_config_t *cfg);

/*
 * Register the server interceptor for the servant activated under key
 * and start the background thread (which may become primary at once).
 * The servant's state at install is the group's initial state, used when
 * DIR has no checkpoint yet.
 */
int phx_ft_cold_install(phx_orb_t *orb, const void *key, size_t key_len,
                        const phx_ft_cold_config_t *cfg, phx_ft_cold_t **out,
                        phx_error_t *err);
/* Whether this member is the primary now (recovered and serving). */
bool phx_ft_cold_is_primary(phx_ft_cold_t *c);
/* Wait up to timeout_ms for this member to be the primary. */
bool phx_ft_cold_wait_primary(phx_ft_cold_t *c, uint32_t timeout_ms);
/* Stop the background thread and release the lock; later requests with
 * FT_REQUEST are answered TRANSIENT.  Idempotent. */
void phx_ft_cold_shutdown(phx_ft_cold_t *c);
void phx_ft_cold_destroy(phx_ft_cold_t *c); /* NULL-safe */

typedef struct phx_ft_cold_stats {
    uint64_t executed;          /* requests executed and logged here */
    uint64_t replayed;          /* answered from the reply cache */
    uint64_t refused;           /* TRANSIENT: not the primary */
    uint64_t recovered_records; /* log records re-executed by recoveries */
    uint64_t checkpoints;       /* checkpoints written */
    uint64_t recoveries;        /* successful recoveries (promotions) */
    uint64_t last_recovery_us;  /* duration of the last one */
    uint64_t write_errors;      /* log writes/syncs that failed */
    uint64_t failed_recoveries; /* recoveries given up */
    bool broken;                /* storage found corrupt: not contending */
} phx_ft_cold_stats_t;
void phx_ft_cold_get_stats(phx_ft_cold_t *c, phx_ft_cold_stats_t *st);

#ifdef __cplusplus
}
#endif

#endif /* PHX_FT_COLD_H */
