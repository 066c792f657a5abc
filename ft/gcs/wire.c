/*
 * wire.c - frame header of the embedded GCS protocol (see wire.h); the
 * bodies are written and read next to the protocol code that uses them.
 */
#include <phx/cdr.h>
#include <phx/error.h>

#include "ft/gcs/wire.h"

const char *phx__gcs_msg_name(int type)
{
    static const char *const names[] = {
        "?",         "JOIN_REQ",  "SUBMIT",     "DATA",    "ACK",
        "NAK",       "SUSPECT",   "FLUSH_REQ",  "FLUSH_ACK",
        "FLUSH_CUT", "FLUSH_DONE", "INSTALL",   "STATE",   "STATE_RETRY",
        "EXCLUDED",  "BYE"};
    if (type < 1 || type > GCS_M_LAST)
        return "?";
    return names[type];
}

void phx__gcs_wire_begin(phx_cdr_writer_t *w, gcs_msg_t type,
                         uint64_t sender, uint64_t view)
{
    phx_cdr_writer_reset(w);
    phx_cdr_put_octet(w, PHX_CDR_NATIVE);
    phx_cdr_put_octet(w, GCS_WIRE_MAGIC);
    phx_cdr_put_octet(w, GCS_WIRE_VERSION);
    phx_cdr_put_octet(w, (uint8_t)type);
    phx_cdr_put_ulong(w, 0);
    phx_cdr_put_ulonglong(w, sender);
    phx_cdr_put_ulonglong(w, view);
}

int phx__gcs_wire_open(phx_cdr_reader_t *r, const void *buf, size_t len,
                       size_t max_len, gcs_hdr_t *hdr)
{
    const uint8_t *b = buf;
    if (len < GCS_WIRE_HDR)
        return PHX_EMARSHAL;
    if (b[0] > 1 || b[1] != GCS_WIRE_MAGIC || b[2] != GCS_WIRE_VERSION)
        return PHX_EPROTO;
    if (b[3] < 1 || b[3] > GCS_M_LAST)
        return PHX_EPROTO;
    phx_cdr_reader_init(r, buf, len, b[0]);
    phx_cdr_reader_set_max_len(r, max_len);
    uint8_t skip[4];
    uint32_t reserved;
    phx_cdr_get_array(r, skip, 4, 1);
    phx_cdr_get_ulong(r, &reserved);
    phx_cdr_get_ulonglong(r, &hdr->sender);
    phx_cdr_get_ulonglong(r, &hdr->view);
    hdr->type = b[3];
    return phx_cdr_reader_status(r);
}
