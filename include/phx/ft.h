/*
 * ft.h - the fault-tolerance layer (libphx-ft): object group references
 * (IOGRs) and a registry of groups, the FT-CORBA service contexts, the
 * client interceptor that re-invokes failed requests on another member,
 * and the server interceptor that redirects stale references and answers
 * repeated requests from a reply cache (exactly-once execution).
 *
 * Everything here plugs into the ORB through the public interceptor API
 * of <phx/interceptor.h>; the ORB knows nothing of groups.  The mapping to
 * FT-CORBA (CORBA 3.0.3 chapter 23) is described in docs/ft.md.
 *
 * Threading: the registry, the reply cache, the client and the server are
 * safe to use from any thread.  Status codes are 0 or a negative PHX_E*
 * code; functions taking a phx_error_t fill it with a message on failure.
 */
#ifndef PHX_FT_H
#define PHX_FT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <phx/cdr.h>
#include <phx/error.h>
#include <phx/ior.h>
#include <phx/orb.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* Constants                                                            */
/* ------------------------------------------------------------------ */

/* Version of the TAG_FT_GROUP component this layer writes (FT-CORBA
 * defines 1.0). */
#define PHX_FT_COMPONENT_MAJOR 1
#define PHX_FT_COMPONENT_MINOR 0

/* FT::ReplicationStyleValue. */
#define PHX_FT_STATELESS 0
#define PHX_FT_COLD_PASSIVE 1
#define PHX_FT_WARM_PASSIVE 2
#define PHX_FT_ACTIVE 3
#define PHX_FT_ACTIVE_WITH_VOTING 4

/* Minor codes of the exceptions the FT layer raises (OR'ed with
 * PHX_VMCID; the ORB's own minor codes stay below 0x100). */
enum {
    /* TRANSIENT, COMPLETED_NO: the same request (client id and retention
     * id) is still executing on this member; the retry comes too early. */
    PHX_FT_MINOR_IN_PROGRESS = 0x101,
    /* TRANSIENT, COMPLETED_NO: the reply cache is full; the request was
     * not executed. */
    PHX_FT_MINOR_CACHE_FULL = 0x102,
    /* BAD_PARAM, COMPLETED_NO: a malformed FT_REQUEST or
     * FT_GROUP_VERSION service context. */
    PHX_FT_MINOR_BAD_CONTEXT = 0x103
};

/* ------------------------------------------------------------------ */
/* Time                                                                 */
/* ------------------------------------------------------------------ */

/* TimeBase::TimeT counts 100 ns units since 15 October 1582 00:00 UTC;
 * this is the Unix epoch in those units. */
#define PHX_FT_TIMET_UNIX_EPOCH 0x01B21DD213814000ULL

/* The wall clock (CLOCK_REALTIME) as a TimeT. */
uint64_t phx_ft_time_now(void);

/* ------------------------------------------------------------------ */
/* Service contexts                                                     */
/* ------------------------------------------------------------------ */
/*
 * The context_data of FT_REQUEST (13) and FT_GROUP_VERSION (12) is a CDR
 * encapsulation of FT::FTRequestServiceContext { string client_id; long
 * retention_id; TimeBase::TimeT expiration_time; } and of
 * FT::FTGroupVersionServiceContext { unsigned long
 * object_group_ref_version; } (idl/ft.idl).
 */

typedef struct phx_ft_request_ctx {
    const char *client_id;    /* decode: borrowed from the data */
    size_t client_id_len;     /* decode: without the NUL */
    int32_t retention_id;
    uint64_t expiration_time; /* TimeT */
} phx_ft_request_ctx_t;

/* Encode into *data (malloc'd, the caller frees) / decode from data.
 * Encoding writes the native byte order; decoding accepts both. */
int phx_ft_request_ctx_encode(const phx_ft_request_ctx_t *c, uint8_t **data,
                              size_t *len);
int phx_ft_request_ctx_decode(const void *data, size_t len,
                              phx_ft_request_ctx_t *out, phx_error_t *err);
int phx_ft_group_version_ctx_encode(uint32_t version, uint8_t **data,
                                    size_t *len);
int phx_ft_group_version_ctx_decode(const void *data, size_t len,
                                    uint32_t *version, phx_error_t *err);

/* ------------------------------------------------------------------ */
/* Object group references                                              */
/* ------------------------------------------------------------------ */

#define PHX_FT_NO_PRIMARY ((size_t)-1)

typedef struct phx_ft_iogr_spec {
    const char *type_id;        /* NULL: the first member's type id */
    const char *ft_domain_id;   /* NULL means "" */
    uint64_t object_group_id;
    uint32_t object_group_ref_version;
    const phx_ior_t *members;   /* one reference per member, in order */
    size_t member_count;
    size_t primary;             /* index into members or PHX_FT_NO_PRIMARY */
} phx_ft_iogr_spec_t;

/*
 * Build an IOGR: every profile of every member reference is copied in
 * member order, each with a TAG_FT_GROUP component (version 1.0, domain,
 * group id, reference version) added to its components; the first profile
 * of the primary member also gets TAG_FT_PRIMARY {TRUE}.  TAG_FT_GROUP and
 * TAG_FT_PRIMARY components the member references already carry are
 * dropped first, so an IOGR can be rebuilt from its own profiles.  A
 * group without members gets one TAG_MULTIPLE_COMPONENTS profile holding
 * only TAG_FT_GROUP, as FT-CORBA prescribes.
 * Members must have IIOP 1.1+, ZeroMQ or multiple-components profiles
 * (others cannot carry components: PHX_EUNSUPPORTED).
 */
int phx_ft_iogr_build(const phx_ft_iogr_spec_t *spec, phx_ior_t *out,
                      phx_error_t *err);

typedef struct phx_ft_iogr_info {
    phx_ft_group_t group;      /* domain, group id, version (owned) */
    uint32_t profile_count;    /* profiles in the reference */
    uint32_t group_profiles;   /* how many of them carry TAG_FT_GROUP */
    int primary;               /* profile with TAG_FT_PRIMARY TRUE, or -1 */
} phx_ft_iogr_info_t;

/* Parse an IOGR.  PHX_ENOTFOUND when no profile has TAG_FT_GROUP (a
 * plain reference), PHX_EINVAL when profiles disagree on the group or
 * more than one claims to be the primary, PHX_EMARSHAL for undecodable
 * components.  Profiles this layer cannot decode are counted but not
 * inspected. */
int phx_ft_iogr_parse(const phx_ior_t *ior, phx_ft_iogr_info_t *info,
                      phx_error_t *err);
void phx_ft_iogr_info_fini(phx_ft_iogr_info_t *info);

/* Does profile 'index' (-1: any profile) of ior carry TAG_FT_GROUP?
 * Returns 1 and its object_group_ref_version in *version (may be NULL),
 * 0 if not, or a negative code for a malformed profile.  Reads the bytes
 * in place: no allocation. */
int phx_ft_ior_group_version(const phx_ior_t *ior, int index,
                             uint32_t *version);

/* ------------------------------------------------------------------ */
/* Group registry                                                       */
/* ------------------------------------------------------------------ */
/*
 * The in-process record of the groups of one fault-tolerance domain: what
 * a replica manager keeps.  Members are named by a location (a string
 * unique within the group, e.g. "host:pid"), as FT-CORBA's
 * ObjectGroupManager names them.  Every change of a group (member added or
 * removed, primary changed) increments its object_group_ref_version and
 * rebuilds its IOGR.  Group ids start at 1 and are never reused by a
 * registry.
 */
typedef struct phx_ft_registry phx_ft_registry_t;

/* Told about every change: the group's new version and IOGR (borrowed for
 * the call), or iogr == NULL when the group was destroyed.  Called with
 * the registry's lock held: it must not call the registry. */
typedef void (*phx_ft_group_listener_fn)(void *arg, uint64_t group_id,
                                         uint32_t version,
                                         const phx_ior_t *iogr);

int phx_ft_registry_create(const char *ft_domain_id, phx_ft_registry_t **out,
                           phx_error_t *err);
void phx_ft_registry_destroy(phx_ft_registry_t *r); /* NULL-safe */
const char *phx_ft_registry_domain(const phx_ft_registry_t *r);
void phx_ft_registry_set_listener(phx_ft_registry_t *r,
                                  phx_ft_group_listener_fn fn, void *arg);

/* A new empty group (version 1) of type_id (may be NULL). */
int phx_ft_registry_create_group(phx_ft_registry_t *r, const char *type_id,
                                 uint64_t *group_id, phx_error_t *err);
int phx_ft_registry_destroy_group(phx_ft_registry_t *r, uint64_t group_id);

/* Add a member at a location (PHX_EEXIST if the location is taken). */
int phx_ft_registry_add_member(phx_ft_registry_t *r, uint64_t group_id,
                               const char *location, const phx_ior_t *member,
                               phx_error_t *err);
int phx_ft_registry_remove_member(phx_ft_registry_t *r, uint64_t group_id,
                                  const char *location);
/* Make the member at location the primary (NULL: no primary).  Removing
 * the primary leaves the group without one. */
int phx_ft_registry_set_primary(phx_ft_registry_t *r, uint64_t group_id,
                                const char *location);

/* The current IOGR (a copy the caller finalizes) and version. */
int phx_ft_registry_get_iogr(phx_ft_registry_t *r, uint64_t group_id,
                             phx_ior_t *iogr, uint32_t *version);
int phx_ft_registry_member_count(phx_ft_registry_t *r, uint64_t group_id,
                                 size_t *count);

/* ------------------------------------------------------------------ */
/* Reply cache                                                          */
/* ------------------------------------------------------------------ */
/*
 * Replies of executed requests, keyed by (client id, retention id), each
 * kept until its expiration time (from FT_REQUEST) has passed.  A hash
 * map gives O(1) look-ups; expired entries are collected lazily by a
 * timing wheel as time moves on (O(1) amortised per entry).
 *
 * A request goes through begin, then complete (its reply is kept) or
 * abandon (nothing was executed: forgotten).  Between the two the entry is
 * "in progress": a second request with the same key is told BUSY, and the
 * server interceptor answers it TRANSIENT, COMPLETED_NO, so the client
 * retries later.  A worker thread never blocks waiting for another one.
 *
 * Bounded: max_entries and max_bytes (entries' keys and reply bodies)
 * are checked when a request begins, after expired entries have been
 * collected.  When the cache is still full:
 *   - by default the request is refused (FULL: the server answers
 *     TRANSIENT, COMPLETED_NO, and nothing executes).  No live entry is
 *     ever dropped, so a retried request can never execute twice; the
 *     price is availability when requests arrive faster than
 *     max_entries / request duration.
 *   - with evict_when_full, completed entries closest to their expiration
 *     are dropped to make room.  A request whose entry was dropped would
 *     execute again if its client re-invoked it after that, so this trades
 *     exactly-once for throughput; entries in progress are never dropped.
 * A reply stored by complete is always kept, so the cache may exceed
 * max_bytes by the replies of the requests that were in progress.
 */
typedef struct phx_ft_reply_cache phx_ft_reply_cache_t;

typedef struct phx_ft_reply_cache_config {
    size_t max_entries;    /* default 100000 */
    size_t max_bytes;      /* default 64 MiB */
    bool evict_when_full;  /* default false: refuse (see above) */
    /* Current time as a TimeT (default phx_ft_time_now); tests inject a
     * fake clock here. */
    uint64_t (*clock)(void *arg);
    void *clock_arg;
} phx_ft_reply_cache_config_t;

void phx_ft_reply_cache_config_init(phx_ft_reply_cache_config_t *cfg);
int phx_ft_reply_cache_create(const phx_ft_reply_cache_config_t *cfg,
                              phx_ft_reply_cache_t **out);
void phx_ft_reply_cache_destroy(phx_ft_reply_cache_t *c); /* NULL-safe */

typedef enum phx_ft_cache_result {
    PHX_FT_CACHE_MISS = 0, /* not known: now in progress for owner */
    PHX_FT_CACHE_HIT,      /* executed before: the reply is in *reply */
    PHX_FT_CACHE_BUSY,     /* in progress for another owner */
    PHX_FT_CACHE_FULL      /* refused: no room */
} phx_ft_cache_result_t;

/* A copy of a cached reply (body malloc'd; phx_ft_cached_reply_fini). */
typedef struct phx_ft_cached_reply {
    uint32_t reply_status; /* NO_EXCEPTION, USER_ or SYSTEM_EXCEPTION */
    uint8_t *body;         /* native byte order, as the server produced */
    size_t len;
} phx_ft_cached_reply_t;
void phx_ft_cached_reply_fini(phx_ft_cached_reply_t *r);

/* Look the key up and, when unknown, record it as in progress for owner
 * (any non-zero value identifying the execution).  Returns a
 * phx_ft_cache_result_t, or PHX_ENOMEM / PHX_EINVAL. */
int phx_ft_reply_cache_begin(phx_ft_reply_cache_t *c, const char *client_id,
                             size_t client_id_len, int32_t retention_id,
                             uint64_t expiration_time, uintptr_t owner,
                             phx_ft_cached_reply_t *reply);
/* Keep the reply of the request owner began.  PHX_ENOTFOUND when the
 * entry is not in progress for owner (then nothing changes). */
int phx_ft_reply_cache_complete(phx_ft_reply_cache_t *c,
                                const char *client_id, size_t client_id_len,
                                int32_t retention_id, uintptr_t owner,
                                uint32_t reply_status, const void *body,
                                size_t len);
/* Forget a request owner began but did not execute. */
int phx_ft_reply_cache_abandon(phx_ft_reply_cache_t *c,
                               const char *client_id, size_t client_id_len,
                               int32_t retention_id, uintptr_t owner);
/* Store a reply learnt from elsewhere (another replica, a checkpoint),
 * replacing what the key had (an execution in progress here then
 * completes as a no-op).  PHX_ELIMIT when the cache is full. */
int phx_ft_reply_cache_put(phx_ft_reply_cache_t *c, const char *client_id,
                           size_t client_id_len, int32_t retention_id,
                           uint64_t expiration_time, uint32_t reply_status,
                           const void *body, size_t len);

/* Collect expired entries now; returns how many were removed.  begin
 * does this by itself. */
size_t phx_ft_reply_cache_gc(phx_ft_reply_cache_t *c);

typedef struct phx_ft_reply_cache_stats {
    size_t entries;        /* in the cache now (in progress included) */
    size_t in_progress;
    size_t bytes;
    uint64_t hits, misses, busy, full, expired, evicted;
} phx_ft_reply_cache_stats_t;
void phx_ft_reply_cache_get_stats(phx_ft_reply_cache_t *c,
                                  phx_ft_reply_cache_stats_t *st);

/*
 * The completed entries as a CDR encapsulation (for checkpoints and state
 * transfer), appended to w (a fresh writer; its base must be where the
 * encapsulation starts):
 *     octet byte_order; unsigned long format (1);
 *     sequence<struct { string client_id; long retention_id;
 *                       TimeBase::TimeT expiration_time;
 *                       unsigned long reply_status;
 *                       sequence<octet> body; }> entries;
 * Reply bodies are in the byte order of the encapsulation.
 * deserialize puts every entry of such an encapsulation into c, after
 * checking all of them and that they fit: on error c is unchanged (unless
 * memory runs out while they are stored).  An encapsulation in the
 * other byte order is refused with PHX_EUNSUPPORTED unless it is empty,
 * since reply bodies cannot be byte-swapped without their types.
 */
int phx_ft_reply_cache_serialize(phx_ft_reply_cache_t *c,
                                 phx_cdr_writer_t *w);
int phx_ft_reply_cache_deserialize(phx_ft_reply_cache_t *c, const void *buf,
                                   size_t len, phx_error_t *err);

/* ------------------------------------------------------------------ */
/* Client interceptor                                                   */
/* ------------------------------------------------------------------ */
/*
 * Installed once per ORB.  For every request whose target profile carries
 * TAG_FT_GROUP it adds FT_REQUEST (client id, a retention id, expiration
 * time = first send + request duration) and FT_GROUP_VERSION; on
 * COMM_FAILURE, TRANSIENT, NO_RESPONSE or OBJ_ADAPTER with COMPLETED_NO or
 * COMPLETED_MAYBE it re-issues the request, with the same FT_REQUEST, to
 * the group's next profile until a reply comes or the expiration time
 * passes.  Other requests are left alone.  Re-issues go through
 * phx_client_ri_retry: they do not count against the ORB's max_forwards;
 * the expiration time alone bounds them.
 */
typedef struct phx_ft_client phx_ft_client_t;

typedef struct phx_ft_client_config {
    /* NULL: "phx/<host>/<pid>/<64 random bits>/<n>", unique per
     * installation. */
    const char *client_id;
    uint32_t request_duration_ms; /* default 15000 */
    /* After every profile of the group failed once in a row, wait before
     * the next round: 1 ms, doubling up to this (default 100). */
    uint32_t backoff_max_ms;
    /* Spread the calls to a group without a primary (STATELESS) over its
     * members: every new call starts at the next profile in turn, instead
     * of the one that answered last (default false). */
    bool spread;
} phx_ft_client_config_t;

void phx_ft_client_config_init(phx_ft_client_config_t *cfg);
/* Register the interceptor (before the ORB makes any call).  *out must be
 * destroyed after the ORB (the ORB keeps using it until then). */
int phx_ft_client_install(phx_orb_t *orb, const phx_ft_client_config_t *cfg,
                          phx_ft_client_t **out, phx_error_t *err);
void phx_ft_client_destroy(phx_ft_client_t *c); /* NULL-safe */
const char *phx_ft_client_id(const phx_ft_client_t *c);

typedef struct phx_ft_client_stats {
    uint64_t group_requests; /* calls that got FT_REQUEST */
    uint64_t reinvocations;  /* re-issues after a failure */
    uint64_t expired;        /* re-invocations declined because the
                              * expiration time had passed (a call that
                              * fails to connect may count more than once:
                              * the ORB then tries its other profiles) */
} phx_ft_client_stats_t;
void phx_ft_client_get_stats(const phx_ft_client_t *c,
                             phx_ft_client_stats_t *st);

/* ------------------------------------------------------------------ */
/* Server interceptor                                                   */
/* ------------------------------------------------------------------ */
/*
 * Installed once per ORB; told which groups the ORB's servants are
 * members of (by object key) and each group's current IOGR.  For a
 * request to such a key:
 *   - FT_GROUP_VERSION older than the group's version: answered
 *     LOCATION_FORWARD_PERM with the current IOGR (the servant is not
 *     called);
 *   - FT_REQUEST: looked up in the group's reply cache; a request executed
 *     before is answered with the same reply without calling the servant;
 *     otherwise its reply is kept (NO_EXCEPTION, user exceptions, and
 *     system exceptions other than COMPLETED_NO ones, which say nothing
 *     was executed).
 * Requests to other keys, and requests without the contexts, are left
 * alone.
 */
typedef struct phx_ft_server phx_ft_server_t;

typedef struct phx_ft_server_config {
    /* Limits of each group's reply cache (see the reply cache). */
    size_t cache_max_entries;
    size_t cache_max_bytes;
    bool cache_evict_when_full;
    uint64_t (*clock)(void *arg); /* default phx_ft_time_now */
    void *clock_arg;
    /* Only redirect stale references: leave requests with FT_REQUEST to
     * a replication style (ACTIVE, WARM_PASSIVE and COLD_PASSIVE keep
     * their own reply caches); no cache is consulted or filled.  Install
     * it before the style, so the redirect comes first. */
    bool version_only;
} phx_ft_server_config_t;

void phx_ft_server_config_init(phx_ft_server_config_t *cfg);
/* Register the interceptor (before the ORB serves).  *out must be
 * destroyed after the ORB. */
int phx_ft_server_install(phx_orb_t *orb, const phx_ft_server_config_t *cfg,
                          phx_ft_server_t **out, phx_error_t *err);
void phx_ft_server_destroy(phx_ft_server_t *s); /* NULL-safe */

/* Serve, or move to a new reference of, the group whose member is
 * activated under key.  iogr must be an IOGR.  A reference of the same
 * group (domain and id) with an older version than the one known is
 * refused (PHX_ESTATE); the same version is a no-op.  A different group
 * under the same key starts with an empty reply cache. */
int phx_ft_server_set_group(phx_ft_server_t *s, const void *key,
                            size_t key_len, const phx_ior_t *iogr,
                            phx_error_t *err);
int phx_ft_server_remove_group(phx_ft_server_t *s, const void *key,
                               size_t key_len);
/* Version of the group served under key (PHX_ENOTFOUND if none). */
int phx_ft_server_group_version(phx_ft_server_t *s, const void *key,
                                size_t key_len, uint32_t *version);
/* Run fn on the reply cache of the group served under key, with the
 * cache kept alive for the call (for checkpoints and tests). */
int phx_ft_server_with_cache(phx_ft_server_t *s, const void *key,
                             size_t key_len,
                             void (*fn)(void *arg, phx_ft_reply_cache_t *c),
                             void *arg);

typedef struct phx_ft_server_stats {
    uint64_t forwarded;   /* LOCATION_FORWARD_PERM for stale versions */
    uint64_t replayed;    /* answered from the reply cache */
    uint64_t executed;    /* replies kept in the cache */
    uint64_t refused;     /* TRANSIENT: in progress or cache full */
} phx_ft_server_stats_t;
void phx_ft_server_get_stats(const phx_ft_server_t *s,
                             phx_ft_server_stats_t *st);

#ifdef __cplusplus
}
#endif

#endif /* PHX_FT_H */

/* The ACTIVE replication declarations below have a guard of their own. */
#ifndef PHX_FT_ACTIVE_H
#define PHX_FT_ACTIVE_H

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* ACTIVE replication                                                   */
/* ------------------------------------------------------------------ */
/*
 * Every replica of an ACTIVE group runs an ORB serving the same servant
 * under the same object key, and one phx_ft_active_t, which owns a GCS
 * handle joined to a group named after the object group and a thread
 * that dispatches it.  A request carrying FT_REQUEST that reaches a
 * replica is answered from the replica's reply cache when it has run
 * before; otherwise it is multicast in total order to every replica and
 * the worker thread that received it waits until this replica has
 * delivered and executed it.  Every replica executes every delivered
 * request once, in delivery order (a duplicate, i.e. a retry of a request
 * already delivered, is skipped), and keeps its reply in its cache, so a
 * client retrying on another replica after a crash gets the same reply
 * without a second execution.  Requests without FT_REQUEST reach the
 * servant directly, unreplicated.  Described in docs/ft.md.
 *
 * The ORB must serve with worker threads (phx_orb_config_t.workers >=
 * 1): a replicated request blocks the worker that received it until its
 * delivery.  The servant runs on the dispatch thread for replicated
 * requests (through phx_orb_invoke_local) and on the ORB's threads for
 * the others, so it must be thread-safe.  The servant's state reaches a
 * joining replica through the state callbacks, together with the reply
 * cache.
 */
struct phx_gcs_config;
struct phx_gcs_view;

typedef struct phx_ft_active phx_ft_active_t;

typedef struct phx_ft_active_config {
    const char *group;          /* GCS group name (required) */
    uint32_t wait_ms;           /* longest wait for a delivery before the
                                 * client is told TRANSIENT, COMPLETED_MAYBE
                                 * (it then retries); default 10000 */
    size_t cache_max_entries;   /* reply cache limits (0: defaults) */
    size_t cache_max_bytes;
    void *arg;                  /* passed to the callbacks below */
    /* Optional, on the dispatch thread: every view of the group. */
    void (*view_change)(void *arg, const struct phx_gcs_view *view);
    /* Optional: the servant's state for a joining replica (*data
     * malloc'd, the caller frees it), taken on the dispatch thread after
     * the last delivered request; and installing such a state on the
     * joiner before the first request it delivers.  Non-zero: failure. */
    int (*get_state)(void *arg, uint8_t **data, size_t *len);
    int (*set_state)(void *arg, const void *data, size_t len);
    /* Optional, on the dispatch thread: this replica has the group's
     * state: at once when it founds the group, after the state transfer
     * when it joins one (also after a rejoin).  Until then its servant
     * may not have the group's state yet. */
    void (*state_ready)(void *arg);
} phx_ft_active_config_t;

void phx_ft_active_config_init(phx_ft_active_config_t *cfg);

/*
 * Create the GCS handle from gcs_cfg (NULL: defaults), join cfg->group,
 * start the dispatch thread and register the server interceptor for the
 * servant activated under key.  Call before the ORB serves.  Shut down
 * with phx_ft_active_shutdown before phx_orb_destroy (the dispatch thread
 * calls into the ORB), and destroy after it.
 */
int phx_ft_active_install(phx_orb_t *orb,
                          const struct phx_gcs_config *gcs_cfg,
                          const void *key, size_t key_len,
                          const phx_ft_active_config_t *cfg,
                          phx_ft_active_t **out, phx_error_t *err);
/* The GCS endpoint of this replica (seeds for the next ones). */
const char *phx_ft_active_gcs_endpoint(phx_ft_active_t *a);
/* Stop the dispatch thread and leave the GCS; waiting requests and later
 * ones are answered TRANSIENT, COMPLETED_MAYBE.  Idempotent. */
void phx_ft_active_shutdown(phx_ft_active_t *a);
void phx_ft_active_destroy(phx_ft_active_t *a); /* NULL-safe */

typedef struct phx_ft_active_stats {
    uint64_t multicast;  /* requests this replica ordered for clients */
    uint64_t executed;   /* delivered requests executed here */
    uint64_t duplicates; /* delivered requests skipped (already run) */
    uint64_t replayed;   /* answered from the cache without ordering */
    uint64_t timeouts;   /* waits that reached wait_ms */
} phx_ft_active_stats_t;
void phx_ft_active_get_stats(phx_ft_active_t *a, phx_ft_active_stats_t *st);

#ifdef __cplusplus
}
#endif

#endif /* PHX_FT_ACTIVE_H */

/* The WARM_PASSIVE replication declarations below have a guard of their
 * own. */
#ifndef PHX_FT_PASSIVE_H
#define PHX_FT_PASSIVE_H

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* WARM_PASSIVE replication                                             */
/* ------------------------------------------------------------------ */
/*
 * Every member of a WARM_PASSIVE group runs an ORB serving the same
 * servant under the same object key, and one phx_ft_passive_t, which
 * owns a GCS handle joined to a group named after the object group (in
 * uniform delivery mode) and a thread that dispatches it.  The primary is
 * the oldest member of the current primary-component view.  A request
 * carrying FT_REQUEST that reaches:
 *   - any member that has its reply in the reply cache: answered from it;
 *   - the primary: executed there (one request at a time), then its
 *     update (the reply and the servant's state from get_state) is
 *     multicast and the client is answered once the primary has
 *     delivered the update, i.e. once every member of the view has it;
 *   - a backup: TRANSIENT, COMPLETED_NO (the FT client re-issues it to
 *     the next profile, eventually the primary).
 * Every backup installs each delivered update with set_state and keeps
 * its reply, so the member that becomes primary when the primary fails
 * answers a retry of an acknowledged request from its cache.  Requests
 * without FT_REQUEST reach the servant directly, unreplicated.
 * Described in docs/ft.md.
 *
 * The ORB must serve with worker threads (phx_orb_config_t.workers >=
 * 1).  set_state runs on the dispatch thread, and on a worker when an
 * update could not be delivered (the servant goes back to the last
 * delivered state), so the servant must be thread-safe.
 */
struct phx_gcs_config;
struct phx_gcs_view;

typedef struct phx_ft_passive phx_ft_passive_t;

typedef struct phx_ft_passive_config {
    const char *group;          /* GCS group name (required) */
    uint32_t wait_ms;           /* longest wait for the delivery of an
                                 * update before the client is told
                                 * TRANSIENT, COMPLETED_MAYBE; default
                                 * 10000 */
    size_t cache_max_entries;   /* reply cache limits (0: defaults) */
    size_t cache_max_bytes;
    void *arg;                  /* passed to the callbacks below */
    /* Optional, on the dispatch thread: every view of the group, and
     * whether this member is the primary in it. */
    void (*view_change)(void *arg, const struct phx_gcs_view *view,
                        bool primary);
    /* Required (FT::Checkpointable): the servant's whole state (*data
     * malloc'd, the caller frees it), taken on the primary at install and
     * for every checkpoint (after each request when there is no
     * get_update); and installing such a state on a backup, a joiner, or
     * the primary when an update was not delivered.  Non-zero: failure. */
    int (*get_state)(void *arg, uint8_t **data, size_t *len);
    int (*set_state)(void *arg, const void *data, size_t len);
    /* Optional (FT::Updateable), both or neither: the changes the last
     * request made (*data malloc'd; "the changes since the previous
     * get_update or get_state", so the servant tracks what it changed and
     * get_state also clears that), taken on the primary after each
     * request between checkpoints; and applying such an update on top of
     * the last state.  set_state and set_update are not changes.  With
     * them, the primary multicasts an update per request and a whole
     * state only every checkpoint_interval_ms or checkpoint_every
     * requests, whichever comes first. */
    int (*get_update)(void *arg, uint8_t **data, size_t *len);
    int (*set_update)(void *arg, const void *data, size_t len);
    uint32_t checkpoint_interval_ms; /* default 1000 */
    uint32_t checkpoint_every;       /* default 100 */
    /* Optional, on the dispatch thread: this member has the group's
     * state (as for ACTIVE). */
    void (*state_ready)(void *arg);
} phx_ft_passive_config_t;

void phx_ft_passive_config_init(phx_ft_passive_config_t *cfg);

/*
 * Create the GCS handle from gcs_cfg (NULL: defaults; the mode is forced
 * to PHX_GCS_UNIFORM), join cfg->group, start the dispatch thread and
 * register the server interceptor for the servant activated under key.
 * Call before the ORB serves.  Shut down with phx_ft_passive_shutdown
 * before phx_orb_destroy, and destroy after it.
 */
int phx_ft_passive_install(phx_orb_t *orb,
                           const struct phx_gcs_config *gcs_cfg,
                           const void *key, size_t key_len,
                           const phx_ft_passive_config_t *cfg,
                           phx_ft_passive_t **out, phx_error_t *err);
/* The GCS endpoint of this member (seeds for the next ones). */
const char *phx_ft_passive_gcs_endpoint(phx_ft_passive_t *p);
/* Whether this member is the primary now. */
bool phx_ft_passive_is_primary(phx_ft_passive_t *p);
/* Stop the dispatch thread and leave the GCS; later requests are
 * answered TRANSIENT.  Idempotent. */
void phx_ft_passive_shutdown(phx_ft_passive_t *p);
void phx_ft_passive_destroy(phx_ft_passive_t *p); /* NULL-safe */

typedef struct phx_ft_passive_stats {
    uint64_t executed;      /* requests executed here as primary */
    uint64_t delivered_own; /* own updates delivered */
    uint64_t applied;       /* other members' updates installed */
    uint64_t replayed;      /* answered from the reply cache */
    uint64_t refused;       /* TRANSIENT: not the primary */
    uint64_t undelivered;   /* updates not delivered within wait_ms */
    uint64_t promotions;    /* views that made this member primary */
    uint64_t checkpoints;   /* whole states this member multicast */
    uint64_t updates;       /* get_update records this member multicast */
} phx_ft_passive_stats_t;
void phx_ft_passive_get_stats(phx_ft_passive_t *p,
                              phx_ft_passive_stats_t *st);

#ifdef __cplusplus
}
#endif

#endif /* PHX_FT_PASSIVE_H */
