/*
 * rpcmsg.h - ONC RPC messages (RFC 5531) and TCP record marking.
 * Internal to the gateway, its tests and the fuzz target.
 */
#ifndef PHX_ORB_RPC_RPCMSG_H
#define PHX_ORB_RPC_RPCMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <phx/xdr.h>

#define PHX_RPC_VERS 2u
#define PHX_RPC_CALL 0u
#define PHX_RPC_REPLY 1u

#define PHX_RPC_MSG_ACCEPTED 0u
#define PHX_RPC_MSG_DENIED 1u

enum {
    PHX_RPC_SUCCESS = 0,
    PHX_RPC_PROG_UNAVAIL = 1,
    PHX_RPC_PROG_MISMATCH = 2,
    PHX_RPC_PROC_UNAVAIL = 3,
    PHX_RPC_GARBAGE_ARGS = 4,
    PHX_RPC_SYSTEM_ERR = 5
};

enum { PHX_RPC_RPC_MISMATCH = 0, PHX_RPC_AUTH_ERROR = 1 };

enum {
    PHX_RPC_AUTH_OK = 0,
    PHX_RPC_AUTH_BADCRED = 1,
    PHX_RPC_AUTH_REJECTEDCRED = 2,
    PHX_RPC_AUTH_BADVERF = 3,
    PHX_RPC_AUTH_REJECTEDVERF = 4,
    PHX_RPC_AUTH_TOOWEAK = 5
};

enum { PHX_RPC_AUTH_NONE = 0, PHX_RPC_AUTH_SYS = 1 };

#define PHX_RPC_MAX_AUTH 400u
#define PHX_RPC_MAX_MACHINENAME 255u
#define PHX_RPC_MAX_GIDS 16u

typedef struct phx_rpc_auth_sys {
    uint32_t stamp;
    char machinename[PHX_RPC_MAX_MACHINENAME + 1];
    uint32_t uid, gid;
    uint32_t gids[PHX_RPC_MAX_GIDS];
    uint32_t ngids;
} phx_rpc_auth_sys_t;

typedef struct phx_rpc_call {
    uint32_t xid;
    uint32_t rpcvers, prog, vers, proc;
    uint32_t cred_flavor, verf_flavor;
    phx_rpc_auth_sys_t sys;        /* when cred_flavor is AUTH_SYS */
    const uint8_t *args;           /* into the message */
    size_t args_len;
} phx_rpc_call_t;

/* How a call header decodes. */
typedef enum phx_rpc_call_status {
    PHX_RPC_CALL_OK = 0,
    PHX_RPC_CALL_GARBAGE,      /* not even an xid + CALL: drop it */
    PHX_RPC_CALL_NOT_CALL,     /* a REPLY or an unknown msg_type: drop */
    PHX_RPC_CALL_BAD_RPCVERS,  /* answer RPC_MISMATCH */
    PHX_RPC_CALL_BAD_AUTH      /* answer AUTH_ERROR, *auth_stat set */
} phx_rpc_call_status_t;

/* Decode a call message (one record).  xid is set whenever one could be
 * read; *auth_stat for PHX_RPC_CALL_BAD_AUTH. */
phx_rpc_call_status_t phx_rpc_decode_call(const void *msg, size_t len,
                                          phx_rpc_call_t *call,
                                          uint32_t *auth_stat);

/* Encode a call (AUTH_NONE or AUTH_SYS with sys) with its argument bytes. */
int phx_rpc_encode_call(phx_xdr_writer_t *w, const phx_rpc_call_t *call,
                        const void *args, size_t args_len);

/* Reply headers.  Accepted: accept_stat, and for PROG_MISMATCH low/high;
 * for SUCCESS the results follow (the caller appends them). */
int phx_rpc_encode_accepted(phx_xdr_writer_t *w, uint32_t xid,
                            uint32_t accept_stat, uint32_t low,
                            uint32_t high);
int phx_rpc_encode_rpc_mismatch(phx_xdr_writer_t *w, uint32_t xid);
int phx_rpc_encode_auth_error(phx_xdr_writer_t *w, uint32_t xid,
                              uint32_t auth_stat);

/* A decoded reply (for clients and tests). */
typedef struct phx_rpc_reply {
    uint32_t xid;
    uint32_t reply_stat;   /* MSG_ACCEPTED / MSG_DENIED */
    uint32_t stat;         /* accept_stat or reject_stat */
    uint32_t low, high;    /* PROG_MISMATCH / RPC_MISMATCH */
    uint32_t auth_stat;    /* AUTH_ERROR */
    const uint8_t *results;
    size_t results_len;
} phx_rpc_reply_t;
int phx_rpc_decode_reply(const void *msg, size_t len, phx_rpc_reply_t *rep);

/* ------------------------------------------------------------------ */
/* Record marking (RFC 5531 section 11)                                 */
/* ------------------------------------------------------------------ */

#define PHX_RPC_LAST_FRAG 0x80000000u
#define PHX_RPC_DEFAULT_MAX_RECORD (1u << 20)

/* Reassembles records from a byte stream. */
typedef struct phx_rpc_recbuf {
    uint8_t *rec;          /* the record being assembled */
    size_t rec_len, rec_cap;
    size_t max_record;
    uint8_t hdr[4];
    size_t hdr_have;       /* octets of the fragment header read */
    uint32_t frag_left;    /* octets of the current fragment still due */
    bool in_frag, last;
    bool complete;         /* rec holds a whole record */
} phx_rpc_recbuf_t;

void phx_rpc_recbuf_init(phx_rpc_recbuf_t *rb, size_t max_record);
void phx_rpc_recbuf_fini(phx_rpc_recbuf_t *rb);
/* Feed bytes; stops after a complete record (*used tells how much was
 * consumed).  Returns 0, 1 when a record is complete (take it from
 * rb->rec / rb->rec_len, then phx_rpc_recbuf_reset), PHX_ELIMIT for a
 * record larger than max_record, PHX_ENOMEM. */
int phx_rpc_recbuf_feed(phx_rpc_recbuf_t *rb, const uint8_t *p, size_t n,
                        size_t *used);
void phx_rpc_recbuf_reset(phx_rpc_recbuf_t *rb);

/* Write a record as one last fragment: 4-byte header + body into a
 * malloc'd buffer. */
int phx_rpc_record_frame(const void *body, size_t len, uint8_t **out,
                         size_t *out_len);

#endif /* PHX_ORB_RPC_RPCMSG_H */
