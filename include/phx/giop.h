/*
 * giop.h - GIOP 1.2 messages (CORBA 3.0 chapter 15.4): the 12-byte
 * message header, the Request, Reply, CancelRequest, LocateRequest,
 * LocateReply, CloseConnection and MessageError messages, the system
 * exception reply body and the standard service context ids.
 *
 * Writing: a whole message goes into one phx_cdr_writer_t.  The header is
 * written at the writer's current position and the writer's base is moved
 * there, so CDR alignment is relative to the first byte of the header as
 * GIOP 1.2 requires.  phx_giop_write_request() / phx_giop_write_reply()
 * write the header (with a size placeholder), the message header and the
 * padding to the 8-aligned body; the caller appends the body with the
 * writer and calls phx_giop_finish() to patch the size field.  The other
 * writers produce complete messages (size already patched); after
 * appending a LocateReply body call phx_giop_finish() again.
 *
 * Reading: one ZeroMQ frame holds exactly one GIOP message.
 * phx_giop_parse_header() validates the header against the frame length,
 * phx_giop_reader_init() sets up a CDR reader positioned after it and
 * phx_giop_read_*() decode the message header, leaving the reader at the
 * start of the body.  Decoded strings and octet sequences are BORROWED
 * pointers into the message buffer (no copies): they stay valid as long
 * as the buffer does.
 *
 * Errors (codes the ORB maps to its answers):
 *   PHX_EMARSHAL      frame shorter than 12 bytes; anything truncated,
 *                     malformed or out of range in a message header
 *                     (string without NUL, sequence longer than the
 *                     message, bad enum value, ...)
 *   PHX_EPROTO        bad magic, unknown message type (8 and above),
 *                     size field that disagrees with the frame length
 *   PHX_EUNSUPPORTED  GIOP version other than 1.2, the "more fragments"
 *                     flag or a Fragment message: on ZeroMQ one message is
 *                     one frame and Phalanx never fragments.  The ORB
 *                     answers all three with MessageError.
 * The header is filled in as far as it could be read even on error, so
 * the ORB can see the peer's version and message type.
 *
 * Body alignment: GIOP 1.2 says the Request and Reply bodies are aligned
 * on 8.  The writers add that padding unless the caller says no body
 * follows ('no_body'; omitting it then is what most ORBs do).  The reader
 * accepts both forms: when the message ends right after the message
 * header there is no padding to skip; otherwise the padding must be
 * present.  The content of padding octets is not checked (senders ought to
 * write zeros; non-zero padding is accepted).  The LocateReply body is NOT
 * aligned (OMG interop issue 4314, followed by the common ORBs).
 */
#ifndef PHX_GIOP_H
#define PHX_GIOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <phx/cdr.h>
#include <phx/error.h>
#include <phx/except.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* Constants                                                            */
/* ------------------------------------------------------------------ */

#define PHX_GIOP_HEADER_SIZE 12
#define PHX_GIOP_MAJOR 1
#define PHX_GIOP_MINOR 2

/* Header flags octet. */
#define PHX_GIOP_FLAG_LITTLE_ENDIAN 0x01
#define PHX_GIOP_FLAG_FRAGMENT 0x02

/* Message types. */
typedef enum phx_giop_msg_type {
    PHX_GIOP_REQUEST = 0,
    PHX_GIOP_REPLY = 1,
    PHX_GIOP_CANCEL_REQUEST = 2,
    PHX_GIOP_LOCATE_REQUEST = 3,
    PHX_GIOP_LOCATE_REPLY = 4,
    PHX_GIOP_CLOSE_CONNECTION = 5,
    PHX_GIOP_MESSAGE_ERROR = 6,
    PHX_GIOP_FRAGMENT = 7
} phx_giop_msg_type_t;

/* Request response_flags (GIOP 1.2). */
#define PHX_GIOP_RESPONSE_NONE 0x00        /* oneway (SYNC_NONE) */
#define PHX_GIOP_RESPONSE_SERVER 0x01      /* SYNC_WITH_SERVER */
#define PHX_GIOP_RESPONSE_TARGET 0x03      /* normal twoway */

/* TargetAddress discriminator (GIOP::AddressingDisposition). */
#define PHX_GIOP_KEY_ADDR 0
#define PHX_GIOP_PROFILE_ADDR 1
#define PHX_GIOP_REFERENCE_ADDR 2

/* Reply status. */
typedef enum phx_giop_reply_status {
    PHX_GIOP_NO_EXCEPTION = 0,
    PHX_GIOP_USER_EXCEPTION = 1,
    PHX_GIOP_SYSTEM_EXCEPTION = 2,
    PHX_GIOP_LOCATION_FORWARD = 3,
    PHX_GIOP_LOCATION_FORWARD_PERM = 4,
    PHX_GIOP_NEEDS_ADDRESSING_MODE = 5
} phx_giop_reply_status_t;

/* LocateReply status. */
typedef enum phx_giop_locate_status {
    PHX_GIOP_UNKNOWN_OBJECT = 0,
    PHX_GIOP_OBJECT_HERE = 1,
    PHX_GIOP_OBJECT_FORWARD = 2,
    PHX_GIOP_OBJECT_FORWARD_PERM = 3,
    PHX_GIOP_LOC_SYSTEM_EXCEPTION = 4,
    PHX_GIOP_LOC_NEEDS_ADDRESSING_MODE = 5
} phx_giop_locate_status_t;

/* System exception completion status: phx_completion_t of
 * <phx/except.h> (PHX_COMPLETED_YES 0, _NO 1, _MAYBE 2). */

/* Standard service context ids (IOP::ServiceId). */
#define PHX_SC_CODE_SETS 1u
#define PHX_SC_BI_DIR_IIOP 5u
#define PHX_SC_SENDING_CONTEXT_RUNTIME 6u
#define PHX_SC_FT_GROUP_VERSION 12u
#define PHX_SC_FT_REQUEST 13u

/* ------------------------------------------------------------------ */
/* Types                                                                */
/* ------------------------------------------------------------------ */

typedef struct phx_giop_header {
    uint8_t major;
    uint8_t minor;
    uint8_t flags;       /* raw flags octet */
    uint8_t type;        /* phx_giop_msg_type_t */
    uint32_t size;       /* octets after the 12-byte header */
    int byte_order;      /* PHX_CDR_BIG_ENDIAN / PHX_CDR_LITTLE_ENDIAN */
} phx_giop_header_t;

/* One service context; data/len is the context_data octet sequence
 * (usually an encapsulation).  Decoded contexts borrow from the message. */
typedef struct phx_service_context {
    uint32_t id;
    const uint8_t *data;
    uint32_t len;
} phx_service_context_t;

/* Contexts held inline by a decoded list before it allocates. */
#define PHX_GIOP_SC_INLINE 4

/*
 * A service context list.  Writing: set items/count to the caller's
 * array.  Decoding: items points either at inline_items (count <=
 * PHX_GIOP_SC_INLINE) or at a malloc'd array released by the matching
 * *_fini(); a decoded struct therefore must not be copied by value and
 * used after the original is gone.
 */
typedef struct phx_giop_sc_list {
    const phx_service_context_t *items;
    uint32_t count;
    phx_service_context_t *heap;          /* internal */
    phx_service_context_t inline_items[PHX_GIOP_SC_INLINE]; /* internal */
} phx_giop_sc_list_t;

/* First context with the given id, or NULL. */
const phx_service_context_t *phx_giop_sc_find(const phx_giop_sc_list_t *l,
                                              uint32_t id);

/*
 * TargetAddress.  Only the members of the selected kind are meaningful.
 *  KEY_ADDR:       key/key_len, the object key.
 *  PROFILE_ADDR:   profile_tag and profile_data/profile_len, the raw
 *                  profile_data (an encapsulation); decode it with
 *                  phx_profile_decode_raw() from <phx/ior.h>.
 *  REFERENCE_ADDR: selected_profile_index and ior/ior_len, the raw CDR
 *                  bytes of the IOR struct in byte order ior_byte_order.
 *                  They start on a 4-aligned offset and an IOR has no
 *                  member aligned on more than 4, so they decode with a
 *                  fresh reader: phx_ior_read_raw() from <phx/ior.h>.
 *                  When writing, ior must be in the native byte order
 *                  (e.g. made by phx_ior_write() into a fresh writer).
 */
typedef struct phx_giop_target {
    uint16_t kind;
    const uint8_t *key;
    uint32_t key_len;
    uint32_t profile_tag;
    const uint8_t *profile_data;
    uint32_t profile_len;
    uint32_t selected_profile_index;
    const uint8_t *ior;
    uint32_t ior_len;
    int ior_byte_order;
} phx_giop_target_t;

typedef struct phx_giop_request {
    uint32_t request_id;
    uint8_t response_flags;          /* PHX_GIOP_RESPONSE_* */
    phx_giop_target_t target;
    const char *operation;           /* decoded: borrowed, NUL-terminated */
    size_t operation_len;            /* without the NUL; 0 on write means
                                        strlen(operation) */
    phx_giop_sc_list_t contexts;
    bool no_body;                    /* write only: omit the body padding */
} phx_giop_request_t;

typedef struct phx_giop_reply {
    uint32_t request_id;
    uint32_t reply_status;           /* phx_giop_reply_status_t */
    phx_giop_sc_list_t contexts;
    bool no_body;                    /* write only: omit the body padding */
} phx_giop_reply_t;

typedef struct phx_giop_locate_request {
    uint32_t request_id;
    phx_giop_target_t target;
} phx_giop_locate_request_t;

typedef struct phx_giop_locate_reply {
    uint32_t request_id;
    uint32_t locate_status;          /* phx_giop_locate_status_t */
} phx_giop_locate_reply_t;

/* System exception reply body. */
typedef struct phx_giop_sysex {
    const char *repo_id;             /* e.g. "IDL:omg.org/CORBA/TRANSIENT:1.0" */
    size_t repo_id_len;              /* decoded: without the NUL */
    uint32_t minor;
    uint32_t completed;              /* phx_completion_t value */
} phx_giop_sysex_t;

/* ------------------------------------------------------------------ */
/* Header                                                               */
/* ------------------------------------------------------------------ */

/* Names for logs: "Request", ..., "unknown". */
const char *phx_giop_msg_type_name(unsigned type);
const char *phx_giop_reply_status_name(unsigned status);
const char *phx_giop_locate_status_name(unsigned status);

/*
 * Decode and validate the 12 header bytes at buf (at least 12 readable)
 * without looking at the frame length: for stream transports that read
 * the header first.  Checks magic, version 1.2, type, fragment flag.
 */
int phx_giop_decode_header(const void *buf, phx_giop_header_t *h,
                           phx_error_t *err);

/* Validate the header of the one message in buf[0..len) (a whole frame):
 * phx_giop_decode_header() plus size == len - 12. */
int phx_giop_parse_header(const void *buf, size_t len, phx_giop_header_t *h,
                          phx_error_t *err);

/* Reader over msg[0..len) in h's byte order, base at the header start,
 * positioned after the header. */
void phx_giop_reader_init(phx_cdr_reader_t *r, const void *msg, size_t len,
                          const phx_giop_header_t *h);

/* Patch the size field of the message whose header starts at the writer's
 * base.  Returns the writer's status (PHX_EINVAL if no header is there). */
int phx_giop_finish(phx_cdr_writer_t *w);

/* ------------------------------------------------------------------ */
/* Writers                                                              */
/* ------------------------------------------------------------------ */

/* Header + RequestHeader_1_2 + body padding; append the body, then
 * phx_giop_finish(). */
int phx_giop_write_request(phx_cdr_writer_t *w, const phx_giop_request_t *req);

/* Header + ReplyHeader_1_2 + body padding; append the body, then
 * phx_giop_finish(). */
int phx_giop_write_reply(phx_cdr_writer_t *w, const phx_giop_reply_t *rep);

/* Complete messages. */
int phx_giop_write_cancel(phx_cdr_writer_t *w, uint32_t request_id);
int phx_giop_write_locate_request(phx_cdr_writer_t *w,
                                  const phx_giop_locate_request_t *req);
/* Complete when the status has no body; for OBJECT_FORWARD(_PERM) append
 * the IOR, for LOC_SYSTEM_EXCEPTION phx_giop_write_sysex(), for
 * LOC_NEEDS_ADDRESSING_MODE a short, then call phx_giop_finish(). */
int phx_giop_write_locate_reply(phx_cdr_writer_t *w,
                                const phx_giop_locate_reply_t *rep);
int phx_giop_write_close(phx_cdr_writer_t *w);
int phx_giop_write_message_error(phx_cdr_writer_t *w);

/* System exception body (append to a Reply or LocateReply). */
int phx_giop_write_sysex(phx_cdr_writer_t *w, const char *repo_id,
                         uint32_t minor, uint32_t completed);

/* ------------------------------------------------------------------ */
/* Readers (r from phx_giop_reader_init)                                */
/* ------------------------------------------------------------------ */

/* On success r is at the start of the body.  On failure *out is left
 * with nothing to free (fini is still safe to call). */
int phx_giop_read_request(phx_cdr_reader_t *r, phx_giop_request_t *out,
                          phx_error_t *err);
void phx_giop_request_fini(phx_giop_request_t *req);

int phx_giop_read_reply(phx_cdr_reader_t *r, phx_giop_reply_t *out,
                        phx_error_t *err);
void phx_giop_reply_fini(phx_giop_reply_t *rep);

int phx_giop_read_cancel(phx_cdr_reader_t *r, uint32_t *request_id,
                         phx_error_t *err);
int phx_giop_read_locate_request(phx_cdr_reader_t *r,
                                 phx_giop_locate_request_t *out,
                                 phx_error_t *err);
/* Leaves r at the (unaligned) LocateReply body. */
int phx_giop_read_locate_reply(phx_cdr_reader_t *r,
                               phx_giop_locate_reply_t *out,
                               phx_error_t *err);

int phx_giop_read_sysex(phx_cdr_reader_t *r, phx_giop_sysex_t *out,
                        phx_error_t *err);

#ifdef __cplusplus
}
#endif

#endif /* PHX_GIOP_H */
