/*
 * backend.h - what a GCS backend provides to gcs.c.  The public calls in
 * include/phx/gcs.h check their arguments and forward here; everything
 * above this interface is backend-neutral.  Backends: "embedded"
 * (ft/gcs/embedded.c, over ZeroMQ); a Corosync CPG backend would map
 * these one to one onto cpg_initialize/cpg_fd_get/cpg_dispatch/cpg_join/
 * cpg_leave/cpg_mcast_joined.
 *
 * Threading: every operation is called from the application thread that
 * owns the handle (one at a time), except stop which may come from any
 * thread.  Errors are negative PHX_E* codes with a message in err.
 */
#ifndef PHX_GCS_BACKEND_H
#define PHX_GCS_BACKEND_H

#include <stddef.h>

#include <phx/error.h>
#include <phx/gcs.h>

/* The sink get_state writes to: the backend supplies write/ctx. */
struct phx_gcs_state_writer {
    int (*write)(void *ctx, const void *data, size_t len);
    void *ctx;
};

typedef struct phx__gcs_backend {
    const char *name;

    /* Start an instance for handle gcs (passed back to callbacks).  The
     * config is validated and complete (defaults applied); strings in it
     * are copied if kept.  On failure *state is untouched and destroy is
     * not called. */
    int (*create)(phx_gcs_t *gcs, const phx_gcs_config_t *cfg,
                  const phx_gcs_callbacks_t *cb, void *arg, void **state,
                  phx_error_t *err);

    /* Stop and free; events not dispatched are dropped. */
    void (*destroy)(void *state);

    /* Readable when dispatch has work.  Owned by the backend. */
    int (*fd)(void *state);

    /* Run callbacks for pending events, waiting up to timeout_ms (-1:
     * forever) for the first.  Returns the number dispatched or an
     * error.  May return 0 early (spurious wake-up). */
    int (*dispatch)(void *state, int timeout_ms, phx_error_t *err);

    /* group is NUL-terminated, 1..PHX_GCS_GROUP_MAX bytes. */
    int (*join)(void *state, const char *group, phx_error_t *err);
    int (*leave)(void *state, const char *group, phx_error_t *err);

    /* msg is copied; ownership never passes. */
    int (*multicast)(void *state, const char *group, const void *msg,
                     size_t len, phx_error_t *err);

    int (*self)(void *state, phx_gcs_member_t *self);
    const char *(*endpoint)(void *state);

    /* Fault injection; NULL when the backend has none. */
    int (*inject)(void *state, const char *spec, phx_error_t *err);

    void (*stats)(void *state, phx_gcs_stats_t *st);
} phx__gcs_backend_t;

extern const phx__gcs_backend_t phx__gcs_embedded;

#endif
