/*
 * rpcmsg.c - ONC RPC call/reply messages and record marking (RFC 5531).
 */
#include <stdlib.h>
#include <string.h>

#include <phx/error.h>

#include "orb/rpc/rpcmsg.h"

/* Credentials or verifier: flavor, then opaque<400>. */
static int get_auth(phx_xdr_reader_t *r, uint32_t *flavor,
                    const uint8_t **body, uint32_t *len)
{
    phx_xdr_get_u32(r, flavor);
    return phx_xdr_get_opaque(r, PHX_RPC_MAX_AUTH, body, len);
}

static bool parse_auth_sys(const uint8_t *p, uint32_t n,
                           phx_rpc_auth_sys_t *s)
{
    phx_xdr_reader_t r;
    const uint8_t *name;
    uint32_t nl;

    phx_xdr_reader_init(&r, p, n);
    memset(s, 0, sizeof *s);
    phx_xdr_get_u32(&r, &s->stamp);
    if (phx_xdr_get_opaque(&r, PHX_RPC_MAX_MACHINENAME, &name, &nl))
        return false;
    if (nl && memchr(name, 0, nl) != NULL)
        return false;
    if (nl)
        memcpy(s->machinename, name, nl);
    s->machinename[nl] = '\0';
    phx_xdr_get_u32(&r, &s->uid);
    phx_xdr_get_u32(&r, &s->gid);
    if (phx_xdr_get_u32(&r, &s->ngids) || s->ngids > PHX_RPC_MAX_GIDS)
        return false;
    for (uint32_t i = 0; i < s->ngids; i++)
        phx_xdr_get_u32(&r, &s->gids[i]);
    return r.status == 0 && phx_xdr_reader_remaining(&r) == 0;
}

phx_rpc_call_status_t phx_rpc_decode_call(const void *msg, size_t len,
                                          phx_rpc_call_t *c,
                                          uint32_t *auth_stat)
{
    phx_xdr_reader_t r;
    uint32_t mtype;
    const uint8_t *cred, *verf;
    uint32_t cred_len, verf_len;

    memset(c, 0, sizeof *c);
    *auth_stat = PHX_RPC_AUTH_OK;
    phx_xdr_reader_init(&r, msg, len);
    phx_xdr_get_u32(&r, &c->xid);
    if (phx_xdr_get_u32(&r, &mtype))
        return PHX_RPC_CALL_GARBAGE;
    if (mtype != PHX_RPC_CALL)
        return PHX_RPC_CALL_NOT_CALL;
    if (phx_xdr_get_u32(&r, &c->rpcvers))
        return PHX_RPC_CALL_GARBAGE;
    if (c->rpcvers != PHX_RPC_VERS)
        return PHX_RPC_CALL_BAD_RPCVERS;
    phx_xdr_get_u32(&r, &c->prog);
    phx_xdr_get_u32(&r, &c->vers);
    phx_xdr_get_u32(&r, &c->proc);
    if (r.status)
        return PHX_RPC_CALL_GARBAGE;
    if (get_auth(&r, &c->cred_flavor, &cred, &cred_len)) {
        *auth_stat = PHX_RPC_AUTH_BADCRED;
        return PHX_RPC_CALL_BAD_AUTH;
    }
    if (get_auth(&r, &c->verf_flavor, &verf, &verf_len)) {
        *auth_stat = PHX_RPC_AUTH_BADVERF;
        return PHX_RPC_CALL_BAD_AUTH;
    }
    switch (c->cred_flavor) {
    case PHX_RPC_AUTH_NONE:
        if (cred_len != 0) {
            *auth_stat = PHX_RPC_AUTH_BADCRED;
            return PHX_RPC_CALL_BAD_AUTH;
        }
        break;
    case PHX_RPC_AUTH_SYS:
        if (!parse_auth_sys(cred, cred_len, &c->sys)) {
            *auth_stat = PHX_RPC_AUTH_BADCRED;
            return PHX_RPC_CALL_BAD_AUTH;
        }
        break;
    default:
        /* RPCSEC_GSS and the rest: not accepted here. */
        *auth_stat = PHX_RPC_AUTH_REJECTEDCRED;
        return PHX_RPC_CALL_BAD_AUTH;
    }
    /* The verifier of AUTH_NONE and AUTH_SYS calls is AUTH_NONE. */
    if (c->verf_flavor != PHX_RPC_AUTH_NONE || verf_len != 0) {
        *auth_stat = PHX_RPC_AUTH_BADVERF;
        return PHX_RPC_CALL_BAD_AUTH;
    }
    c->args = (const uint8_t *)msg + r.pos;
    c->args_len = len - r.pos;
    return PHX_RPC_CALL_OK;
}

int phx_rpc_encode_call(phx_xdr_writer_t *w, const phx_rpc_call_t *c,
                        const void *args, size_t args_len)
{
    phx_xdr_put_u32(w, c->xid);
    phx_xdr_put_u32(w, PHX_RPC_CALL);
    phx_xdr_put_u32(w, c->rpcvers);
    phx_xdr_put_u32(w, c->prog);
    phx_xdr_put_u32(w, c->vers);
    phx_xdr_put_u32(w, c->proc);
    if (c->cred_flavor == PHX_RPC_AUTH_SYS) {
        phx_xdr_writer_t cw;
        size_t n;
        phx_xdr_writer_init(&cw);
        phx_xdr_put_u32(&cw, c->sys.stamp);
        phx_xdr_put_opaque(&cw, c->sys.machinename,
                           (uint32_t)strlen(c->sys.machinename));
        phx_xdr_put_u32(&cw, c->sys.uid);
        phx_xdr_put_u32(&cw, c->sys.gid);
        phx_xdr_put_u32(&cw, c->sys.ngids);
        for (uint32_t i = 0; i < c->sys.ngids && i < PHX_RPC_MAX_GIDS; i++)
            phx_xdr_put_u32(&cw, c->sys.gids[i]);
        if (cw.status) {
            int rc = cw.status;
            phx_xdr_writer_fini(&cw);
            w->status = w->status ? w->status : rc;
            return w->status;
        }
        uint8_t *b = phx_xdr_writer_take(&cw, &n);
        phx_xdr_put_u32(w, PHX_RPC_AUTH_SYS);
        phx_xdr_put_opaque(w, b, (uint32_t)n);
        free(b);
    } else {
        phx_xdr_put_u32(w, c->cred_flavor);
        phx_xdr_put_u32(w, 0);
    }
    phx_xdr_put_u32(w, PHX_RPC_AUTH_NONE);
    phx_xdr_put_u32(w, 0);
    if (args_len) {
        /* Arguments are already XDR (a multiple of 4 normally); copy raw. */
        size_t at = w->len;
        if (phx_xdr_put_fixed(w, args, (uint32_t)args_len) == 0)
            w->len = at + args_len;
    }
    return w->status;
}

static void reply_head(phx_xdr_writer_t *w, uint32_t xid, uint32_t stat)
{
    phx_xdr_put_u32(w, xid);
    phx_xdr_put_u32(w, PHX_RPC_REPLY);
    phx_xdr_put_u32(w, stat);
}

int phx_rpc_encode_accepted(phx_xdr_writer_t *w, uint32_t xid,
                            uint32_t accept_stat, uint32_t low,
                            uint32_t high)
{
    reply_head(w, xid, PHX_RPC_MSG_ACCEPTED);
    phx_xdr_put_u32(w, PHX_RPC_AUTH_NONE);  /* verifier */
    phx_xdr_put_u32(w, 0);
    phx_xdr_put_u32(w, accept_stat);
    if (accept_stat == PHX_RPC_PROG_MISMATCH) {
        phx_xdr_put_u32(w, low);
        phx_xdr_put_u32(w, high);
    }
    return w->status;
}

int phx_rpc_encode_rpc_mismatch(phx_xdr_writer_t *w, uint32_t xid)
{
    reply_head(w, xid, PHX_RPC_MSG_DENIED);
    phx_xdr_put_u32(w, PHX_RPC_RPC_MISMATCH);
    phx_xdr_put_u32(w, PHX_RPC_VERS);
    return phx_xdr_put_u32(w, PHX_RPC_VERS);
}

int phx_rpc_encode_auth_error(phx_xdr_writer_t *w, uint32_t xid,
                              uint32_t auth_stat)
{
    reply_head(w, xid, PHX_RPC_MSG_DENIED);
    phx_xdr_put_u32(w, PHX_RPC_AUTH_ERROR);
    return phx_xdr_put_u32(w, auth_stat);
}

int phx_rpc_decode_reply(const void *msg, size_t len, phx_rpc_reply_t *rep)
{
    phx_xdr_reader_t r;
    uint32_t mtype, flavor, vl;
    const uint8_t *verf;

    memset(rep, 0, sizeof *rep);
    phx_xdr_reader_init(&r, msg, len);
    phx_xdr_get_u32(&r, &rep->xid);
    phx_xdr_get_u32(&r, &mtype);
    phx_xdr_get_u32(&r, &rep->reply_stat);
    if (r.status || mtype != PHX_RPC_REPLY)
        return PHX_EMARSHAL;
    if (rep->reply_stat == PHX_RPC_MSG_ACCEPTED) {
        get_auth(&r, &flavor, &verf, &vl);
        phx_xdr_get_u32(&r, &rep->stat);
        if (rep->stat == PHX_RPC_PROG_MISMATCH) {
            phx_xdr_get_u32(&r, &rep->low);
            phx_xdr_get_u32(&r, &rep->high);
        }
        if (r.status)
            return PHX_EMARSHAL;
        rep->results = (const uint8_t *)msg + r.pos;
        rep->results_len = len - r.pos;
        return 0;
    }
    if (rep->reply_stat != PHX_RPC_MSG_DENIED)
        return PHX_EMARSHAL;
    phx_xdr_get_u32(&r, &rep->stat);
    if (rep->stat == PHX_RPC_RPC_MISMATCH) {
        phx_xdr_get_u32(&r, &rep->low);
        phx_xdr_get_u32(&r, &rep->high);
    } else if (rep->stat == PHX_RPC_AUTH_ERROR) {
        phx_xdr_get_u32(&r, &rep->auth_stat);
    } else {
        return PHX_EMARSHAL;
    }
    return r.status ? PHX_EMARSHAL : 0;
}

/* ------------------------------------------------------------------ */
/* Record marking                                                       */
/* ------------------------------------------------------------------ */

void phx_rpc_recbuf_init(phx_rpc_recbuf_t *rb, size_t max_record)
{
    memset(rb, 0, sizeof *rb);
    rb->max_record = max_record ? max_record : PHX_RPC_DEFAULT_MAX_RECORD;
}

void phx_rpc_recbuf_fini(phx_rpc_recbuf_t *rb)
{
    free(rb->rec);
    memset(rb, 0, sizeof *rb);
}

void phx_rpc_recbuf_reset(phx_rpc_recbuf_t *rb)
{
    rb->rec_len = 0;
    rb->hdr_have = 0;
    rb->frag_left = 0;
    rb->in_frag = false;
    rb->last = false;
    rb->complete = false;
}

int phx_rpc_recbuf_feed(phx_rpc_recbuf_t *rb, const uint8_t *p, size_t n,
                        size_t *used)
{
    size_t i = 0;
    *used = 0;
    if (rb->complete)
        return 1;
    while (i < n || (rb->in_frag && rb->frag_left == 0)) {
        if (!rb->in_frag) {
            size_t k = 4 - rb->hdr_have;
            if (k > n - i)
                k = n - i;
            memcpy(rb->hdr + rb->hdr_have, p + i, k);
            rb->hdr_have += k;
            i += k;
            if (rb->hdr_have < 4)
                break;
            uint32_t h = (uint32_t)rb->hdr[0] << 24 |
                         (uint32_t)rb->hdr[1] << 16 |
                         (uint32_t)rb->hdr[2] << 8 | rb->hdr[3];
            rb->hdr_have = 0;
            rb->last = (h & PHX_RPC_LAST_FRAG) != 0;
            rb->frag_left = h & ~PHX_RPC_LAST_FRAG;
            rb->in_frag = true;
            if (rb->frag_left > rb->max_record - rb->rec_len) {
                *used = i;
                return PHX_ELIMIT;
            }
            if (rb->rec_len + rb->frag_left > rb->rec_cap) {
                size_t nc = rb->rec_cap ? rb->rec_cap : 4096;
                while (nc < rb->rec_len + rb->frag_left)
                    nc *= 2;
                uint8_t *b = realloc(rb->rec, nc);
                if (b == NULL) {
                    *used = i;
                    return PHX_ENOMEM;
                }
                rb->rec = b;
                rb->rec_cap = nc;
            }
        }
        size_t k = rb->frag_left;
        if (k > n - i)
            k = n - i;
        if (k) {
            memcpy(rb->rec + rb->rec_len, p + i, k);
            rb->rec_len += k;
            rb->frag_left -= (uint32_t)k;
            i += k;
        }
        if (rb->frag_left == 0) {
            rb->in_frag = false;
            if (rb->last) {
                rb->complete = true;
                *used = i;
                return 1;
            }
        }
    }
    *used = i;
    return 0;
}

int phx_rpc_record_frame(const void *body, size_t len, uint8_t **out,
                         size_t *out_len)
{
    if (len > 0x7fffffffu)
        return PHX_ELIMIT;
    uint8_t *b = malloc(len + 4);
    if (b == NULL)
        return PHX_ENOMEM;
    uint32_t h = PHX_RPC_LAST_FRAG | (uint32_t)len;
    b[0] = (uint8_t)(h >> 24);
    b[1] = (uint8_t)(h >> 16);
    b[2] = (uint8_t)(h >> 8);
    b[3] = (uint8_t)h;
    if (len)
        memcpy(b + 4, body, len);
    *out = b;
    *out_len = len + 4;
    return 0;
}
