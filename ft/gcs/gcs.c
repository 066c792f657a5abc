/*
 * gcs.c - the public group communication API (include/phx/gcs.h): checks
 * arguments, applies configuration defaults, picks the backend and
 * forwards to it.
 */
#include <poll.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <phx/error.h>
#include <phx/gcs.h>

#include "ft/gcs/backend.h"

struct phx_gcs {
    const phx__gcs_backend_t *be;
    void *state;
    atomic_bool stop;
};

static const phx__gcs_backend_t *const backends[] = {&phx__gcs_embedded};

void phx_gcs_config_init(phx_gcs_config_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->heartbeat_ms = 100;
    cfg->timeout_ms = 1000;
    cfg->retransmit_ms = 20;
    cfg->mode = PHX_GCS_UNIFORM;
    cfg->max_message = (size_t)1 << 20;
    cfg->max_pending = 1024;
    cfg->max_queue = 65536;
    cfg->max_state = (size_t)1 << 30;
}

static int check_group(const char *group, phx_error_t *err)
{
    if (group == NULL || group[0] == '\0')
        return phx_error_set(err, PHX_EINVAL, "gcs: empty group name");
    if (strnlen(group, PHX_GCS_GROUP_MAX + 1) > PHX_GCS_GROUP_MAX)
        return phx_error_set(err, PHX_EINVAL,
                             "gcs: group name longer than %d bytes",
                             PHX_GCS_GROUP_MAX);
    return 0;
}

int phx_gcs_create(const phx_gcs_config_t *cfg_in,
                   const phx_gcs_callbacks_t *cb, void *arg,
                   phx_gcs_t **out, phx_error_t *err)
{
    phx_gcs_config_t cfg;
    if (out == NULL)
        return phx_error_set(err, PHX_EINVAL, "gcs: no handle pointer");
    if (cfg_in)
        cfg = *cfg_in;
    else
        phx_gcs_config_init(&cfg);
    if (cfg.heartbeat_ms == 0 || cfg.timeout_ms <= cfg.heartbeat_ms)
        return phx_error_set(err, PHX_EINVAL,
                             "gcs: timeout_ms (%u) must exceed "
                             "heartbeat_ms (%u) > 0",
                             cfg.timeout_ms, cfg.heartbeat_ms);
    if (cfg.retransmit_ms == 0 || cfg.max_pending == 0 ||
        cfg.max_message == 0 || cfg.max_queue == 0)
        return phx_error_set(err, PHX_EINVAL,
                             "gcs: retransmit_ms, max_pending, max_message "
                             "and max_queue must be positive");
    if (cfg.mode != PHX_GCS_UNIFORM && cfg.mode != PHX_GCS_AGREED)
        return phx_error_set(err, PHX_EINVAL, "gcs: unknown mode %d",
                             (int)cfg.mode);
    if (cfg.n_seeds && cfg.seeds == NULL)
        return phx_error_set(err, PHX_EINVAL, "gcs: n_seeds without seeds");
    if (cfg.name && strlen(cfg.name) > PHX_GCS_NAME_MAX)
        return phx_error_set(err, PHX_EINVAL,
                             "gcs: member name longer than %d bytes",
                             PHX_GCS_NAME_MAX);
    const char *bname = cfg.backend ? cfg.backend : "embedded";
    const phx__gcs_backend_t *be = NULL;
    for (size_t i = 0; i < sizeof backends / sizeof backends[0]; i++)
        if (strcmp(backends[i]->name, bname) == 0)
            be = backends[i];
    if (be == NULL)
        return phx_error_set(err, PHX_EUNSUPPORTED,
                             "gcs: no backend named '%s' (available: "
                             "embedded)", bname);
    phx_gcs_t *g = calloc(1, sizeof *g);
    if (g == NULL)
        return phx_error_set(err, PHX_ENOMEM, "gcs: out of memory");
    g->be = be;
    phx_gcs_callbacks_t none = {0};
    int rc = be->create(g, &cfg, cb ? cb : &none, arg, &g->state, err);
    if (rc) {
        free(g);
        return rc;
    }
    *out = g;
    return 0;
}

void phx_gcs_destroy(phx_gcs_t *gcs)
{
    if (gcs == NULL)
        return;
    gcs->be->destroy(gcs->state);
    free(gcs);
}

int phx_gcs_fd(phx_gcs_t *gcs)
{
    return gcs ? gcs->be->fd(gcs->state) : -1;
}

int phx_gcs_dispatch(phx_gcs_t *gcs, int timeout_ms, phx_error_t *err)
{
    if (gcs == NULL)
        return phx_error_set(err, PHX_EINVAL, "gcs: no handle");
    return gcs->be->dispatch(gcs->state, timeout_ms, err);
}

int phx_gcs_run(phx_gcs_t *gcs, phx_error_t *err)
{
    if (gcs == NULL)
        return phx_error_set(err, PHX_EINVAL, "gcs: no handle");
    atomic_store(&gcs->stop, false);
    while (!atomic_load(&gcs->stop)) {
        /* A bounded wait so that phx_gcs_stop from another thread is
         * noticed without a wake-up channel of its own. */
        int rc = gcs->be->dispatch(gcs->state, 100, err);
        if (rc < 0)
            return rc;
    }
    return 0;
}

void phx_gcs_stop(phx_gcs_t *gcs)
{
    if (gcs)
        atomic_store(&gcs->stop, true);
}

int phx_gcs_join(phx_gcs_t *gcs, const char *group, phx_error_t *err)
{
    if (gcs == NULL)
        return phx_error_set(err, PHX_EINVAL, "gcs: no handle");
    int rc = check_group(group, err);
    return rc ? rc : gcs->be->join(gcs->state, group, err);
}

int phx_gcs_leave(phx_gcs_t *gcs, const char *group, phx_error_t *err)
{
    if (gcs == NULL)
        return phx_error_set(err, PHX_EINVAL, "gcs: no handle");
    int rc = check_group(group, err);
    return rc ? rc : gcs->be->leave(gcs->state, group, err);
}

int phx_gcs_multicast(phx_gcs_t *gcs, const char *group, const void *msg,
                      size_t len, phx_error_t *err)
{
    if (gcs == NULL)
        return phx_error_set(err, PHX_EINVAL, "gcs: no handle");
    if (msg == NULL && len > 0)
        return phx_error_set(err, PHX_EINVAL, "gcs: NULL message");
    int rc = check_group(group, err);
    return rc ? rc : gcs->be->multicast(gcs->state, group, msg, len, err);
}

int phx_gcs_self(phx_gcs_t *gcs, phx_gcs_member_t *self)
{
    if (gcs == NULL || self == NULL)
        return PHX_EINVAL;
    return gcs->be->self(gcs->state, self);
}

const char *phx_gcs_endpoint(phx_gcs_t *gcs)
{
    return gcs ? gcs->be->endpoint(gcs->state) : NULL;
}

int phx_gcs_inject(phx_gcs_t *gcs, const char *spec, phx_error_t *err)
{
    if (gcs == NULL)
        return phx_error_set(err, PHX_EINVAL, "gcs: no handle");
    if (gcs->be->inject == NULL)
        return phx_error_set(err, PHX_EUNSUPPORTED,
                             "gcs: backend '%s' has no fault injection",
                             gcs->be->name);
    return gcs->be->inject(gcs->state, spec, err);
}

int phx_gcs_state_write(phx_gcs_state_writer_t *w, const void *data,
                        size_t len)
{
    if (w == NULL || (data == NULL && len > 0))
        return PHX_EINVAL;
    return len ? w->write(w->ctx, data, len) : 0;
}

int phx_gcs_stats(phx_gcs_t *gcs, phx_gcs_stats_t *st)
{
    if (gcs == NULL || st == NULL)
        return PHX_EINVAL;
    memset(st, 0, sizeof *st);
    gcs->be->stats(gcs->state, st);
    return 0;
}
