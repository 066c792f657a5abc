/*
 * fault.h - fault injection for the embedded GCS.  It wraps the real
 * transport (net.h): every frame the protocol sends goes through
 * phx__gcs_fault_send, which may drop, duplicate, delay or reorder it,
 * and both directions are cut for members named in a partition.  The
 * protocol code under test is the production code; only the wire lies.
 *
 * Settings come from phx_gcs_config_t.faults, the PHX_GCS_FAULTS
 * environment variable, or phx_gcs_inject() at run time (see gcs.h for
 * the syntax).  Engine thread only.
 */
#ifndef PHX_GCS_FAULT_H
#define PHX_GCS_FAULT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <zmq.h>

#include <phx/error.h>

#include "ft/gcs/net.h"

typedef struct gcs_held {
    int64_t due_us;
    uint64_t order;   /* tie-break: FIFO among equal due times */
    gcs_peer_t *peer;
    zmq_msg_t msg;
} gcs_held_t;

typedef struct gcs_fault {
    double drop, dup, reorder;   /* probabilities */
    uint32_t delay_min_ms, delay_max_ms;
    char **cut;                  /* partitioned member names */
    size_t n_cut;
    uint64_t rng;
    bool active;                 /* anything at all configured */
    gcs_held_t **heap;           /* delayed frames, min-heap on due_us */
    size_t n_held, cap_held;
    uint64_t order;
    atomic_uint_least64_t dropped; /* frames dropped by injection */
} gcs_fault_t;

void phx__gcs_fault_init(gcs_fault_t *f);
void phx__gcs_fault_fini(gcs_fault_t *f);

/* Replace the settings with spec (NULL or "" or "heal": none).  On error
 * the settings are unchanged. */
int phx__gcs_fault_set(gcs_fault_t *f, const char *spec, phx_error_t *err);

/* Whether frames to or from member name are cut off. */
bool phx__gcs_fault_cut(const gcs_fault_t *f, const char *name);

/* Send through the fault layer (m is consumed). */
void phx__gcs_fault_send(gcs_fault_t *f, gcs_net_t *n, gcs_peer_t *p,
                         zmq_msg_t *m, int64_t now_us);

/* Release the delayed frames that are due. */
void phx__gcs_fault_run(gcs_fault_t *f, gcs_net_t *n, int64_t now_us);

/* When the next delayed frame is due (INT64_MAX: none). */
int64_t phx__gcs_fault_next(const gcs_fault_t *f);

/* Discard delayed frames towards p (before p is closed). */
void phx__gcs_fault_forget(gcs_fault_t *f, gcs_peer_t *p);

#endif
