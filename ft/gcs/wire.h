/*
 * wire.h - frames of the embedded GCS protocol, encoded with the ORB's
 * CDR codec (include/phx/cdr.h).
 *
 * Every frame is one ZeroMQ message:
 *
 *   octet     byte order (PHX_CDR_BIG_ENDIAN / PHX_CDR_LITTLE_ENDIAN)
 *   octet     'G'
 *   octet     version (1)
 *   octet     type (gcs_msg_t)
 *   ulong     reserved (0)
 *   ulonglong sender   id of the sending process incarnation
 *   ulonglong view     the sender's process-level view id (0: none)
 *   ...       type-specific body (see ft/gcs/proto.c)
 *
 * Alignment is relative to the first octet, as in a GIOP message.
 */
#ifndef PHX_GCS_WIRE_H
#define PHX_GCS_WIRE_H

#include <stdbool.h>
#include <stdint.h>

#include <phx/cdr.h>

/* Longest member name and endpoint accepted from the wire. */
#define GCS_NAME_MAX 255
#define GCS_ENDPOINT_MAX 1023

#define GCS_WIRE_MAGIC 'G'
#define GCS_WIRE_VERSION 1
#define GCS_WIRE_HDR 24

typedef enum gcs_msg {
    GCS_M_JOIN_REQ = 1,   /* would-be member -> member (-> coordinator) */
    GCS_M_SUBMIT = 2,     /* sender -> sequencer: unordered items */
    GCS_M_DATA = 3,       /* sequencer/holder -> members: ordered items */
    GCS_M_ACK = 4,        /* member -> members: heartbeat + cumulative ack */
    GCS_M_NAK = 5,        /* member -> sequencer/holder: missing range */
    GCS_M_SUSPECT = 6,    /* member -> members: suspected ids */
    GCS_M_FLUSH_REQ = 7,  /* coordinator -> survivors: stop, report */
    GCS_M_FLUSH_ACK = 8,  /* survivor -> coordinator: received/delivered */
    GCS_M_FLUSH_CUT = 9,  /* coordinator -> survivors: fetch up to cut */
    GCS_M_FLUSH_DONE = 10,/* survivor -> coordinator: have everything */
    GCS_M_INSTALL = 11,   /* coordinator -> new view: install it */
    GCS_M_STATE = 12,     /* provider -> joiner: a chunk of group state */
    GCS_M_STATE_RETRY = 13, /* joiner -> provider: resend from chunk */
    GCS_M_EXCLUDED = 14,  /* member -> stale process: you are not in it */
    GCS_M_BYE = 15,       /* process -> members: stopping now */
    GCS_M_LAST = 15
} gcs_msg_t;

typedef struct gcs_hdr {
    uint8_t type;
    uint64_t sender;
    uint64_t view;
} gcs_hdr_t;

/* Kinds of items carried in the total order. */
typedef enum gcs_kind {
    GCS_K_APP = 0,       /* application message */
    GCS_K_GJOIN = 1,     /* sender joins the group */
    GCS_K_GLEAVE = 2,    /* sender leaves the group */
    GCS_K_STATE_OK = 3,  /* sender has received the group's state */
    GCS_K_LAST = 3
} gcs_kind_t;

const char *phx__gcs_msg_name(int type);

/* Start a frame in w (reset first). */
void phx__gcs_wire_begin(phx_cdr_writer_t *w, gcs_msg_t type,
                         uint64_t sender, uint64_t view);

/* Open a frame: checks the header and sets up r over the whole frame
 * positioned at the body.  Returns 0 or PHX_EMARSHAL/PHX_EPROTO. */
int phx__gcs_wire_open(phx_cdr_reader_t *r, const void *buf, size_t len,
                       size_t max_len, gcs_hdr_t *hdr);

#endif
