/*
 * invoke.c - the client side of an invocation: building the GIOP Request
 * in place, choosing a profile, sending on the calling thread's
 * connection, matching the Reply by request id, mapping failures to system
 * exceptions with the right completion status, following forwards, and
 * running the client interceptors.
 *
 * Request buffer layout: the argument writer starts PHX__REQ_GAP bytes
 * into its buffer (its alignment base is there, which is equivalent to the
 * 8-aligned body offset of a GIOP 1.2 Request).  At send time the header is
 * written into the gap right in front of the body, so the body is never
 * copied; the buffer is shared with the transport through a reference
 * count until the transport has written it.
 *
 * Completion status:
 *   - nothing could be sent (no connection, refused, timed out
 *     connecting): TRANSIENT, COMPLETED_NO, and the next profile is tried;
 *   - sent, then the connection was lost: COMM_FAILURE, COMPLETED_MAYBE;
 *   - sent, no reply before the deadline: TIMEOUT, COMPLETED_MAYBE;
 *   - the server sent CloseConnection: TRANSIENT, COMPLETED_NO (GIOP
 *     guarantees it did not process unanswered requests).
 */
#include <stdlib.h>
#include <string.h>

#include <phx/log.h>
#include <phx/typecode.h>

#include "orb_impl.h"

#define MOD "invoke"

/* A request buffer shared with the transport. */
typedef struct msgbuf {
    atomic_int refs;
    uint8_t *base;
} msgbuf_t;

static void msgbuf_unref(void *data, void *hint)
{
    (void)data;
    msgbuf_t *mb = hint;
    if (mb && atomic_fetch_sub(&mb->refs, 1) == 1) {
        free(mb->base);
        free(mb);
    }
}

struct phx_client_ri {
    phx_request_t *req;
};

enum req_state { REQ_NEW, REQ_SENT, REQ_DONE };

struct phx_request {
    phx_client_ri_t ri;
    phx_request_t *next_spare; /* in the thread's spare list */
    phx_orb_t *orb;
    phx_object_t *target;     /* what the call was made on */
    phx_object_t *effective;  /* where it goes now */
    phx__binding_t *binding;  /* effective's binding for this attempt */
    size_t tidx;              /* target index in binding */
    size_t tried;             /* targets tried in this binding */
    char *operation;          /* op_inline or malloc'd */
    size_t op_len;
    char op_inline[48];
    unsigned flags;
    bool is_locate;
    uint16_t addr_mode;       /* TargetAddress kind to send */
    uint32_t timeout_ms;
    int64_t deadline;         /* 0 = none */
    const struct phx_typecode *const *ex_tcs;
    size_t ex_count;

    phx_cdr_writer_t args;
    msgbuf_t *mb;             /* owner of args.buf once shared */
    phx__sc_vec_t ctx;

    enum req_state state;
    phx__conn_t *conn;
    uint32_t rid;
    uint64_t epoch;
    unsigned attempt;
    unsigned forwards;
    size_t ci_started;

    bool have_reply;
    phx_inmsg_t reply;
    phx_giop_reply_t rh;
    bool have_rh;
    uint32_t reply_status;
    uint32_t locate_status;
    phx_cdr_reader_t rd;
    phx_object_t *fwd;        /* next target (forward or interceptor) */
    bool fwd_perm;
    bool retry;               /* fwd is a retry of the same target */
    int retry_profile;        /* IOR profile to retry on; -1: the next */
    phx_object_t *fwd_seen;   /* receive_other: the forward received */
};

/* ------------------------------------------------------------------ */
/* Creation and destruction                                             */
/* ------------------------------------------------------------------ */

static void args_init(phx_request_t *req, size_t hint)
{
    phx_cdr_writer_init(&req->args, PHX__REQ_GAP + hint);
    req->args.max = req->orb->cfg.max_message;
    phx_cdr_reserve(&req->args, PHX__REQ_GAP);
    req->args.base = PHX__REQ_GAP;
}

static int request_new(phx_object_t *obj, const char *op, unsigned flags,
                       phx_request_t **out)
{
    if (obj == NULL || op == NULL || out == NULL)
        return PHX_EINVAL;
    size_t op_len = strlen(op);
    phx__thread_t *t = pthread_getspecific(obj->orb->tls_key);
    phx_request_t *req = t ? t->spare : NULL;
    if (req) {
        /* Reuse a spare: keep its argument buffer, reset the rest. */
        t->spare = req->next_spare;
        t->spare_count--;
        phx_cdr_writer_t keep = req->args;
        memset(req, 0, sizeof *req);
        req->args = keep;
        phx_cdr_writer_reset(&req->args);
        phx_cdr_reserve(&req->args, PHX__REQ_GAP);
        req->args.base = PHX__REQ_GAP;
        req->args.max = obj->orb->cfg.max_message;
    } else {
        req = calloc(1, sizeof *req);
        if (req == NULL)
            return PHX_ENOMEM;
        req->orb = obj->orb;
        args_init(req, 256);
    }
    if (op_len < sizeof req->op_inline) {
        req->operation = req->op_inline;
    } else if ((req->operation = malloc(op_len + 1)) == NULL) {
        phx__request_free(req);
        return PHX_ENOMEM;
    }
    memcpy(req->operation, op, op_len + 1);
    req->ri.req = req;
    req->orb = obj->orb;
    req->target = phx_object_ref(obj);
    req->effective = phx_object_ref(obj);
    req->op_len = op_len;
    req->flags = flags;
    req->timeout_ms = obj->orb->cfg.call_timeout_ms;
    req->addr_mode = PHX_GIOP_KEY_ADDR;
    *out = req;
    return PHX_OK;
}

int phx_request_create(phx_object_t *obj, const char *operation,
                       unsigned flags, phx_request_t **out)
{
    return request_new(obj, operation, flags, out);
}

static void reply_drop(phx_request_t *req)
{
    if (req->have_rh) {
        phx_giop_reply_fini(&req->rh);
        req->have_rh = false;
    }
    if (req->have_reply) {
        phx_inmsg_release(&req->reply);
        req->have_reply = false;
    }
}

void phx__request_free(phx_request_t *req)
{
    while (req) {
        phx_request_t *next = req->next_spare;
        phx_cdr_writer_fini(&req->args);
        free(req);
        req = next;
    }
}

void phx_request_destroy(phx_request_t *req)
{
    if (req == NULL)
        return;
    if (req->state == REQ_SENT && req->conn)
        phx__conn_forget(req->conn, req->rid);
    reply_drop(req);
    if (req->mb) {
        /* The buffer is ours again once the transport let go of it. */
        if (atomic_load(&req->mb->refs) == 1) {
            free(req->mb);
        } else {
            req->args.buf = NULL;
            req->args.cap = 0;
            msgbuf_unref(NULL, req->mb);
        }
        req->mb = NULL;
    }
    phx__sc_vec_free(&req->ctx);
    phx__binding_unref(req->binding);
    phx_object_release(req->fwd);
    phx_object_release(req->fwd_seen);
    phx_object_release(req->effective);
    phx_object_release(req->target);
    if (req->operation != req->op_inline)
        free(req->operation);
    phx__thread_t *t = pthread_getspecific(req->orb->tls_key);
    if (t && t->spare_count < PHX__SPARE_MAX &&
        req->args.cap <= ((size_t)1 << 20) && req->args.buf) {
        req->next_spare = t->spare;
        t->spare = req;
        t->spare_count++;
        return;
    }
    req->next_spare = NULL;
    phx__request_free(req);
}

phx_cdr_writer_t *phx_request_args(phx_request_t *req)
{
    return &req->args;
}

void phx_request_set_timeout(phx_request_t *req, uint32_t ms)
{
    req->timeout_ms = ms;
}

void phx_request_set_exceptions(phx_request_t *req,
                                const struct phx_typecode *const *tcs,
                                size_t count)
{
    req->ex_tcs = tcs;
    req->ex_count = count;
}

int phx_request_add_context(phx_request_t *req, uint32_t id,
                            const void *data, size_t len)
{
    return phx__sc_vec_set(&req->ctx, id, data, len, true);
}

phx_cdr_reader_t *phx_request_result(phx_request_t *req)
{
    return &req->rd;
}

const phx_service_context_t *phx_request_reply_context(phx_request_t *req,
                                                       uint32_t id)
{
    return req->have_rh ? phx_giop_sc_find(&req->rh.contexts, id) : NULL;
}

/* ------------------------------------------------------------------ */
/* Interceptor points                                                   */
/* ------------------------------------------------------------------ */

enum ending { END_REPLY, END_EXCEPTION, END_OTHER };

/* Run send_request in order; on a raise, the interceptors already
 * started get receive_exception. */
static int ci_start(phx_request_t *req, phx_env_t *env)
{
    phx_orb_t *orb = req->orb;
    req->ci_started = 0;
    for (size_t i = 0; i < orb->ci_count; i++) {
        const phx_client_interceptor_t *ci = orb->cis[i];
        if (ci->send_request) {
            int rc = ci->send_request(ci->arg, &req->ri, env);
            if (rc != PHX_OK) {
                if (env->major == PHX_NO_EXCEPTION)
                    phx_env_system(env, PHX_SYSEX_UNKNOWN,
                                   PHX_VMCID | PHX_MINOR_INTERCEPTOR,
                                   PHX_COMPLETED_NO,
                                   "interceptor %s failed in send_request",
                                   ci->name ? ci->name : "?");
                return PHX_ESYSEX;
            }
        }
        req->ci_started = i + 1;
    }
    return PHX_OK;
}

/* Run the ending points in reverse order.  An interceptor that raises
 * turns the outcome into that exception for the ones after it. */
static void ci_end(phx_request_t *req, enum ending kind, phx_env_t *env)
{
    phx_orb_t *orb = req->orb;
    while (req->ci_started > 0) {
        const phx_client_interceptor_t *ci = orb->cis[--req->ci_started];
        int (*fn)(void *, phx_client_ri_t *, phx_env_t *) =
            kind == END_REPLY       ? ci->receive_reply
            : kind == END_EXCEPTION ? ci->receive_exception
                                    : ci->receive_other;
        if (fn == NULL)
            continue;
        if (fn(ci->arg, &req->ri, env) != PHX_OK) {
            if (env->major == PHX_NO_EXCEPTION)
                phx_env_system(env, PHX_SYSEX_UNKNOWN,
                               PHX_VMCID | PHX_MINOR_INTERCEPTOR,
                               PHX_COMPLETED_MAYBE,
                               "interceptor %s failed",
                               ci->name ? ci->name : "?");
            kind = END_EXCEPTION;
        }
    }
}

/* ------------------------------------------------------------------ */
/* Sending                                                              */
/* ------------------------------------------------------------------ */

static int64_t connect_deadline(phx_request_t *req)
{
    int64_t d = phx_now_us() + (int64_t)req->orb->cfg.connect_timeout_ms * 1000;
    if (req->deadline && req->deadline < d)
        d = req->deadline;
    return d;
}

/* Write the message header for this attempt into hw. */
static int write_header(phx_request_t *req, const phx__target_t *t,
                        phx_cdr_writer_t *hw, phx_cdr_writer_t *scratch)
{
    if (req->is_locate) {
        phx_giop_locate_request_t lr = {.request_id = req->rid};
        lr.target.kind = PHX_GIOP_KEY_ADDR;
        lr.target.key = t->key;
        lr.target.key_len = (uint32_t)t->key_len;
        return phx_giop_write_locate_request(hw, &lr);
    }
    phx_giop_request_t gr;
    memset(&gr, 0, sizeof gr);
    gr.request_id = req->rid;
    gr.response_flags = (req->flags & PHX_REQ_ONEWAY)
                            ? PHX_GIOP_RESPONSE_NONE
                            : PHX_GIOP_RESPONSE_TARGET;
    gr.target.kind = req->addr_mode;
    const phx_tagged_profile_t *prof =
        &req->binding->ior.profiles[t->profile_index];
    switch (req->addr_mode) {
    case PHX_GIOP_PROFILE_ADDR:
        gr.target.profile_tag = prof->tag;
        gr.target.profile_data = prof->data;
        gr.target.profile_len = prof->len;
        break;
    case PHX_GIOP_REFERENCE_ADDR: {
        int rc = phx_ior_write(scratch, &req->binding->ior);
        if (rc != PHX_OK)
            return rc;
        gr.target.selected_profile_index = (uint32_t)t->profile_index;
        gr.target.ior = phx_cdr_writer_data(scratch);
        gr.target.ior_len = (uint32_t)phx_cdr_writer_len(scratch);
        gr.target.ior_byte_order = PHX_CDR_NATIVE;
        break;
    }
    default:
        gr.target.kind = PHX_GIOP_KEY_ADDR;
        gr.target.key = t->key;
        gr.target.key_len = (uint32_t)t->key_len;
        break;
    }
    gr.operation = req->operation;
    gr.operation_len = req->op_len;
    gr.contexts.items = req->ctx.items;
    gr.contexts.count = (uint32_t)req->ctx.n;
    return phx_giop_write_request(hw, &gr);
}

/* Put the header in front of the body and hand the message to the
 * transport. */
static int transmit(phx_request_t *req, const phx__target_t *t,
                    phx_error_t *err)
{
    uint8_t hstack[PHX__REQ_GAP];
    phx_cdr_writer_t hw, scratch;
    phx_cdr_writer_init_fixed(&hw, hstack, sizeof hstack);
    phx_cdr_writer_init(&scratch, 0);
    int rc = write_header(req, t, &hw, &scratch);
    size_t body_len = req->args.len - PHX__REQ_GAP;
    phx_buf_t buf = {0};
    if (req->is_locate) {
        rc = rc ? rc : phx_giop_finish(&hw);
        if (rc == PHX_OK) {
            buf.data = malloc(hw.len);
            if (buf.data == NULL)
                rc = PHX_ENOMEM;
            else {
                memcpy(buf.data, hstack, hw.len);
                buf.len = hw.len;
            }
        }
    } else if (rc == PHX_OK) {
        /* In place: header into the gap, the body stays where it is. */
        size_t h = hw.len;
        uint32_t size = (uint32_t)(h + body_len - PHX_GIOP_HEADER_SIZE);
        memcpy(hstack + 8, &size, 4);
        if (req->mb == NULL) {
            req->mb = malloc(sizeof *req->mb);
            if (req->mb == NULL) {
                phx_cdr_writer_fini(&scratch);
                return phx_error_set(err, PHX_ENOMEM, "out of memory");
            }
            atomic_init(&req->mb->refs, 1);
            req->mb->base = req->args.buf;
        }
        memcpy(req->args.buf + PHX__REQ_GAP - h, hstack, h);
        atomic_fetch_add(&req->mb->refs, 1);
        buf.data = req->args.buf + PHX__REQ_GAP - h;
        buf.len = h + body_len;
        buf.free_fn = msgbuf_unref;
        buf.hint = req->mb;
    } else if (rc == PHX_ELIMIT) {
        /* Header larger than the gap (many or big contexts): copy. */
        phx_cdr_writer_t w;
        phx_cdr_writer_init(&w, 512 + body_len);
        w.max = req->orb->cfg.max_message;
        rc = write_header(req, t, &w, &scratch);
        phx_cdr_put_raw(&w, req->args.buf + PHX__REQ_GAP, body_len);
        rc = rc ? rc : phx_giop_finish(&w);
        if (rc == PHX_OK)
            buf.data = phx_cdr_writer_steal(&w, &buf.len);
        phx_cdr_writer_fini(&w);
    }
    phx_cdr_writer_fini(&scratch);
    if (rc != PHX_OK)
        return phx_error_set(err, rc, "cannot encode request '%s': %s",
                             req->operation, phx_strerror(rc));
    if (buf.len > req->orb->cfg.max_message) {
        phx_buf_dispose(&buf);
        return phx_error_set(err, PHX_ELIMIT,
                             "request of %zu bytes exceeds max_message %zu",
                             buf.len, req->orb->cfg.max_message);
    }
    rc = t->tp->ops->conn_send(req->conn->tconn, &buf, connect_deadline(req),
                               err);
    if (rc != PHX_OK)
        phx_buf_dispose(&buf);
    return rc;
}

static int outstanding_add(phx__conn_t *c, uint32_t id)
{
    if (c->n_outstanding == c->cap_outstanding) {
        size_t nc = c->cap_outstanding ? c->cap_outstanding * 2 : 16;
        uint32_t *n = realloc(c->outstanding, nc * sizeof *n);
        if (n == NULL)
            return PHX_ENOMEM;
        c->outstanding = n;
        c->cap_outstanding = nc;
    }
    c->outstanding[c->n_outstanding++] = id;
    return PHX_OK;
}

/* Re-base the body into a fresh buffer before a re-issue, because the
 * transport may still be reading the previous message's header. */
static int body_detach(phx_request_t *req)
{
    if (req->mb == NULL)
        return PHX_OK;
    size_t body_len = req->args.len - PHX__REQ_GAP;
    phx_cdr_writer_t nw;
    phx_cdr_writer_init(&nw, PHX__REQ_GAP + body_len);
    nw.max = req->args.max;
    phx_cdr_reserve(&nw, PHX__REQ_GAP);
    phx_cdr_put_raw(&nw, req->args.buf + PHX__REQ_GAP, body_len);
    if (phx_cdr_writer_status(&nw) != PHX_OK) {
        phx_cdr_writer_fini(&nw);
        return PHX_ENOMEM;
    }
    nw.base = PHX__REQ_GAP;
    req->args.buf = NULL;
    msgbuf_unref(NULL, req->mb);
    req->mb = NULL;
    req->args = nw;
    return PHX_OK;
}

/* Switch to a new effective target (after a forward). */
static void retarget(phx_request_t *req, phx_object_t *obj)
{
    phx_object_release(req->effective);
    req->effective = phx_object_ref(obj);
    phx__binding_unref(req->binding);
    req->binding = NULL;
}

/* One attempt: pick a target, run send_request, send.  Connection
 * failures move on to the next profile.  Returns 0 when sent. */
static int attempt_send(phx_request_t *req, phx_env_t *env)
{
    for (;;) {
        if (req->binding == NULL) {
            size_t pref;
            req->binding = phx__object_binding(req->effective, &pref);
            req->tidx = pref < req->binding->target_count ? pref : 0;
            req->tried = 0;
        }
        phx__binding_t *b = req->binding;
        if (b->target_count == 0)
            return phx_env_system(env, PHX_SYSEX_INV_OBJREF,
                                  PHX_VMCID | PHX_MINOR_NO_PROFILE,
                                  PHX_COMPLETED_NO,
                                  "the reference has no profile this ORB "
                                  "can use");
        if (req->tried >= b->target_count)
            return PHX_ESYSEX; /* env holds the last failure */
        phx__target_t *t = &b->targets[req->tidx];
        req->attempt++;

        int rc = ci_start(req, env);
        if (rc != PHX_OK) {
            ci_end(req, END_EXCEPTION, env);
            return rc;
        }
        /* Interceptors may have picked another profile. */
        t = &b->targets[req->tidx];

        phx_error_t err;
        phx_error_clear(&err);
        rc = phx__conn_get(req->orb, t->tp, t->endpoint, &req->conn, &err);
        if (rc == PHX_OK) {
            req->rid = req->conn->next_id++;
            req->epoch = t->tp->ops->conn_epoch(req->conn->tconn);
            rc = transmit(req, t, &err);
        }
        if (rc == PHX_OK) {
            phx__object_set_preferred(req->effective, b, req->tidx);
            if (!(req->flags & PHX_REQ_ONEWAY)) {
                if (outstanding_add(req->conn, req->rid) != PHX_OK) {
                    phx_env_system(env, PHX_SYSEX_NO_MEMORY, 0,
                                   PHX_COMPLETED_MAYBE, "out of memory");
                    ci_end(req, END_EXCEPTION, env);
                    return PHX_ESYSEX;
                }
            }
            req->state = REQ_SENT;
            return PHX_OK;
        }
        PHX_DEBUG(MOD, "%s to %s failed: %s", req->operation, t->endpoint,
                  err.msg);
        phx_completion_t done =
            rc == PHX_ECLOSED ? PHX_COMPLETED_MAYBE : PHX_COMPLETED_NO;
        phx__env_from_status(env, rc, done, t->endpoint, &err);
        ci_end(req, END_EXCEPTION, env);
        if (req->fwd)
            return PHX_EAGAIN; /* an interceptor redirected it */
        if (rc == PHX_ELIMIT || rc == PHX_ENOMEM || done != PHX_COMPLETED_NO)
            return PHX_ESYSEX;
        /* Nothing was sent: the next profile may do better. */
        req->tried++;
        req->tidx = (req->tidx + 1) % b->target_count;
        if (req->tried >= b->target_count)
            return PHX_ESYSEX;
        if (body_detach(req) != PHX_OK)
            return phx_env_system(env, PHX_SYSEX_NO_MEMORY, 0,
                                  PHX_COMPLETED_NO, "out of memory");
        phx_env_clear(env);
    }
}

/* ------------------------------------------------------------------ */
/* Receiving                                                            */
/* ------------------------------------------------------------------ */

static bool is_outstanding(const phx__conn_t *c, uint32_t id)
{
    for (size_t i = 0; i < c->n_outstanding; i++)
        if (c->outstanding[i] == id)
            return true;
    return false;
}

/* Peek at a received message: its type and request id. */
static int classify(const phx_inmsg_t *m, phx_giop_header_t *h,
                    uint32_t *rid)
{
    int rc = phx_giop_parse_header(m->data, m->len, h, NULL);
    if (rc != PHX_OK)
        return rc;
    *rid = 0;
    if (h->type == PHX_GIOP_REPLY || h->type == PHX_GIOP_LOCATE_REPLY) {
        if (m->len < PHX_GIOP_HEADER_SIZE + 4)
            return PHX_EMARSHAL;
        uint32_t v;
        memcpy(&v, m->data + PHX_GIOP_HEADER_SIZE, 4);
        if (h->byte_order != PHX_CDR_NATIVE)
            v = __builtin_bswap32(v);
        *rid = v;
    }
    return PHX_OK;
}

/* Wait until the reply of req has arrived; fills req->reply. */
static int await_reply(phx_request_t *req, phx_env_t *env)
{
    phx__conn_t *c = req->conn;
    const phx_transport_ops_t *ops = c->tp->ops;
    for (;;) {
        for (phx__stashed_t **pp = &c->stash; *pp; pp = &(*pp)->next) {
            if ((*pp)->request_id == req->rid) {
                phx__stashed_t *s = *pp;
                *pp = s->next;
                req->reply = s->msg;
                req->have_reply = true;
                free(s);
                phx__conn_forget(c, req->rid);
                return PHX_OK;
            }
        }
        if (ops->conn_epoch(c->tconn) != req->epoch) {
            phx__conn_forget(c, req->rid);
            return phx_env_system(env, PHX_SYSEX_COMM_FAILURE,
                                  PHX_VMCID | PHX_MINOR_PEER_CLOSED,
                                  PHX_COMPLETED_MAYBE,
                                  "connection to %s lost while waiting "
                                  "for the reply to '%s'",
                                  c->endpoint, req->operation);
        }
        phx_inmsg_t m;
        phx_error_t err;
        phx_error_clear(&err);
        int rc = ops->conn_recv(c->tconn, &m,
                                req->deadline ? req->deadline : -1, &err);
        if (rc == PHX_ECLOSED)
            continue; /* the epoch check reports it */
        if (rc != PHX_OK) {
            phx__conn_forget(c, req->rid);
            if (rc == PHX_ETIMEDOUT)
                return phx_env_system(env, PHX_SYSEX_TIMEOUT,
                                      PHX_VMCID | PHX_MINOR_CALL_TIMEOUT,
                                      PHX_COMPLETED_MAYBE,
                                      "no reply to '%s' from %s within "
                                      "%u ms",
                                      req->operation, c->endpoint,
                                      req->timeout_ms);
            return phx__env_from_status(env, rc, PHX_COMPLETED_MAYBE,
                                        c->endpoint, &err);
        }
        phx_giop_header_t h;
        uint32_t rid;
        rc = classify(&m, &h, &rid);
        if (rc != PHX_OK) {
            PHX_WARN(MOD, "dropping a malformed message from %s: %s",
                     c->endpoint, phx_strerror(rc));
            phx_inmsg_release(&m);
            continue;
        }
        if (h.type == PHX_GIOP_CLOSE_CONNECTION ||
            h.type == PHX_GIOP_MESSAGE_ERROR) {
            phx_inmsg_release(&m);
            phx__conn_forget(c, req->rid);
            /* Every request outstanding on the connection is lost. */
            c->n_outstanding = 0;
            if (h.type == PHX_GIOP_CLOSE_CONNECTION)
                return phx_env_system(env, PHX_SYSEX_TRANSIENT,
                                      PHX_VMCID | PHX_MINOR_CLOSE_CONNECTION,
                                      PHX_COMPLETED_NO,
                                      "%s closed the connection",
                                      c->endpoint);
            return phx_env_system(env, PHX_SYSEX_COMM_FAILURE,
                                  PHX_VMCID | PHX_MINOR_MESSAGE_ERROR,
                                  PHX_COMPLETED_MAYBE,
                                  "%s answered with MessageError",
                                  c->endpoint);
        }
        bool wanted = req->is_locate ? h.type == PHX_GIOP_LOCATE_REPLY
                                     : h.type == PHX_GIOP_REPLY;
        if (wanted && rid == req->rid) {
            req->reply = m;
            req->have_reply = true;
            phx__conn_forget(c, req->rid);
            return PHX_OK;
        }
        if ((h.type == PHX_GIOP_REPLY || h.type == PHX_GIOP_LOCATE_REPLY) &&
            is_outstanding(c, rid)) {
            phx__stashed_t *s = malloc(sizeof *s);
            if (s) {
                s->request_id = rid;
                s->msg = m;
                s->next = c->stash;
                c->stash = s;
                continue;
            }
        }
        PHX_DEBUG(MOD, "dropping %s %u from %s (no one waits for it)",
                  phx_giop_msg_type_name(h.type), rid, c->endpoint);
        phx_inmsg_release(&m);
    }
}

/* Decode a user exception into env, using the operation's TypeCodes. */
static int take_user_exception(phx_request_t *req, phx_env_t *env)
{
    char *id = NULL;
    if (phx_cdr_get_string_dup(&req->rd, &id) != PHX_OK)
        return phx_env_system(env, PHX_SYSEX_MARSHAL,
                              PHX_VMCID | PHX_MINOR_BAD_MESSAGE,
                              PHX_COMPLETED_YES,
                              "user exception without a repository id");
    for (size_t i = 0; i < req->ex_count; i++) {
        const phx_typecode_t *tc = req->ex_tcs[i];
        if (tc && tc->repo_id && strcmp(tc->repo_id, id) == 0) {
            size_t sz = phx_typecode_c_size(tc);
            void *v = calloc(1, sz ? sz : 1);
            if (v == NULL) {
                free(id);
                return phx_env_system(env, PHX_SYSEX_NO_MEMORY, 0,
                                      PHX_COMPLETED_YES, "out of memory");
            }
            if (phx_cdr_get_value(&req->rd, tc, v) != PHX_OK) {
                free(v);
                free(id);
                return phx_env_system(env, PHX_SYSEX_MARSHAL,
                                      PHX_VMCID | PHX_MINOR_BAD_MESSAGE,
                                      PHX_COMPLETED_YES,
                                      "cannot decode user exception %s",
                                      tc->repo_id);
            }
            free(id);
            phx_env_user(env, tc, v);
            return PHX_EUSEREX;
        }
    }
    /* Not one the caller declared: report it by repository id. */
    phx_env_clear(env);
    env->major = PHX_USER_EXCEPTION;
    env->repo_id = id;
    env->completed = PHX_COMPLETED_YES;
    return PHX_EUSEREX;
}

/* Turn the received reply into the request's outcome. */
static int process_reply(phx_request_t *req, phx_env_t *env,
                         enum ending *kind)
{
    phx_giop_header_t h;
    phx_error_t err;
    phx_error_clear(&err);
    int rc = phx_giop_parse_header(req->reply.data, req->reply.len, &h, &err);
    if (rc == PHX_OK)
        phx_giop_reader_init(&req->rd, req->reply.data, req->reply.len, &h);
    if (rc == PHX_OK && req->is_locate) {
        phx_giop_locate_reply_t lr;
        rc = phx_giop_read_locate_reply(&req->rd, &lr, &err);
        if (rc == PHX_OK) {
            req->locate_status = lr.locate_status;
            *kind = END_REPLY;
            return PHX_OK;
        }
    } else if (rc == PHX_OK) {
        rc = phx_giop_read_reply(&req->rd, &req->rh, &err);
        if (rc == PHX_OK)
            req->have_rh = true;
    }
    if (rc != PHX_OK) {
        *kind = END_EXCEPTION;
        return phx_env_system(env, PHX_SYSEX_MARSHAL,
                              PHX_VMCID | PHX_MINOR_BAD_MESSAGE,
                              PHX_COMPLETED_MAYBE,
                              "malformed reply to '%s': %s", req->operation,
                              err.msg);
    }
    req->reply_status = req->rh.reply_status;
    switch (req->rh.reply_status) {
    case PHX_GIOP_NO_EXCEPTION:
        *kind = END_REPLY;
        return PHX_OK;
    case PHX_GIOP_USER_EXCEPTION:
        *kind = END_EXCEPTION;
        return take_user_exception(req, env);
    case PHX_GIOP_SYSTEM_EXCEPTION: {
        phx_giop_sysex_t sx;
        *kind = END_EXCEPTION;
        if (phx_giop_read_sysex(&req->rd, &sx, &err) != PHX_OK)
            return phx_env_system(env, PHX_SYSEX_MARSHAL,
                                  PHX_VMCID | PHX_MINOR_BAD_MESSAGE,
                                  PHX_COMPLETED_MAYBE,
                                  "malformed system exception: %s", err.msg);
        phx_env_system_id(env, sx.repo_id, sx.minor,
                          (phx_completion_t)(sx.completed <= 2
                                                 ? sx.completed
                                                 : PHX_COMPLETED_MAYBE));
        return PHX_ESYSEX;
    }
    case PHX_GIOP_LOCATION_FORWARD:
    case PHX_GIOP_LOCATION_FORWARD_PERM: {
        phx_ior_t ior;
        *kind = END_OTHER;
        rc = phx_ior_read(&req->rd, &ior, &err);
        phx_object_t *fwd = NULL;
        if (rc == PHX_OK) {
            rc = phx_object_from_ior(req->orb, &ior, &fwd, &err);
            phx_ior_fini(&ior);
        }
        if (rc != PHX_OK) {
            *kind = END_EXCEPTION;
            return phx_env_system(env, PHX_SYSEX_MARSHAL,
                                  PHX_VMCID | PHX_MINOR_BAD_MESSAGE,
                                  PHX_COMPLETED_NO,
                                  "bad forward reference: %s", err.msg);
        }
        phx_object_release(req->fwd_seen);
        req->fwd_seen = phx_object_ref(fwd);
        phx_object_release(req->fwd);
        req->fwd = fwd;
        req->fwd_perm =
            req->rh.reply_status == PHX_GIOP_LOCATION_FORWARD_PERM;
        return PHX_OK;
    }
    case PHX_GIOP_NEEDS_ADDRESSING_MODE: {
        int16_t mode = -1;
        *kind = END_OTHER;
        phx_cdr_get_short(&req->rd, &mode);
        if (mode < PHX_GIOP_KEY_ADDR || mode > PHX_GIOP_REFERENCE_ADDR ||
            mode == (int16_t)req->addr_mode) {
            *kind = END_EXCEPTION;
            return phx_env_system(env, PHX_SYSEX_MARSHAL,
                                  PHX_VMCID | PHX_MINOR_BAD_MESSAGE,
                                  PHX_COMPLETED_NO,
                                  "server asked for addressing mode %d",
                                  mode);
        }
        req->addr_mode = (uint16_t)mode;
        phx_object_release(req->fwd);
        req->fwd = phx_object_ref(req->effective);
        req->fwd_perm = false;
        return PHX_OK;
    }
    default:
        *kind = END_EXCEPTION;
        return phx_env_system(env, PHX_SYSEX_MARSHAL,
                              PHX_VMCID | PHX_MINOR_BAD_MESSAGE,
                              PHX_COMPLETED_MAYBE, "unknown reply status %u",
                              req->rh.reply_status);
    }
}

/* Prepare the next attempt after a forward; 0 or an exception. */
static int follow_forward(phx_request_t *req, phx_env_t *env)
{
    phx_object_t *fwd = req->fwd;
    req->fwd = NULL;
    if (req->retry) {
        /* Same target again, on the profile asked for: not a forward, so
         * it does not count against max_forwards (the interceptor that
         * retries bounds its retries). */
        req->retry = false;
        phx_object_release(fwd);
        phx__binding_t *b = req->binding;
        if (b && b->target_count) {
            size_t next = (req->tidx + 1) % b->target_count;
            for (size_t i = 0; req->retry_profile >= 0 &&
                               i < b->target_count; i++)
                if (b->targets[i].profile_index == req->retry_profile)
                    next = i;
            req->tidx = next;
        }
        req->tried = 0;
        reply_drop(req);
        req->state = REQ_NEW;
        if (body_detach(req) != PHX_OK)
            return phx_env_system(env, PHX_SYSEX_NO_MEMORY, 0,
                                  PHX_COMPLETED_NO, "out of memory");
        phx_env_clear(env);
        return PHX_OK;
    }
    if (++req->forwards > req->orb->cfg.max_forwards) {
        phx_object_release(fwd);
        return phx_env_system(env, PHX_SYSEX_TRANSIENT,
                              PHX_VMCID | PHX_MINOR_TOO_MANY_FORWARDS,
                              PHX_COMPLETED_NO,
                              "'%s' forwarded more than %u times",
                              req->operation, req->orb->cfg.max_forwards);
    }
    if (req->fwd_perm)
        phx__object_replace(req->target, fwd);
    retarget(req, fwd);
    phx_object_release(fwd);
    reply_drop(req);
    req->state = REQ_NEW;
    if (body_detach(req) != PHX_OK)
        return phx_env_system(env, PHX_SYSEX_NO_MEMORY, 0, PHX_COMPLETED_NO,
                              "out of memory");
    phx_env_clear(env);
    return PHX_OK;
}

/* ------------------------------------------------------------------ */
/* Public entry points                                                  */
/* ------------------------------------------------------------------ */

static int finish_oneway(phx_request_t *req, phx_env_t *env)
{
    req->state = REQ_DONE;
    ci_end(req, END_OTHER, env);
    return env->major == PHX_NO_EXCEPTION ? PHX_OK : PHX_ESYSEX;
}

int phx_request_send(phx_request_t *req, phx_env_t *env)
{
    phx_env_t local = PHX_ENV_INIT;
    if (env == NULL)
        env = &local;
    phx_env_clear(env);
    if (req->state != REQ_NEW) {
        phx_env_clear(&local);
        return PHX_ESTATE;
    }
    if (atomic_load(&req->orb->shutdown))
        return phx_env_system(env, PHX_SYSEX_BAD_INV_ORDER,
                              PHX_VMCID | PHX_MINOR_SHUTDOWN,
                              PHX_COMPLETED_NO, "the ORB has shut down");
    int rc = phx_cdr_writer_status(&req->args);
    if (rc != PHX_OK)
        return phx__env_from_status(env, rc == PHX_EINVAL ? PHX_EMARSHAL : rc,
                                    PHX_COMPLETED_NO, "marshaling arguments",
                                    NULL);
    req->deadline = req->timeout_ms && !(req->flags & PHX_REQ_ONEWAY)
                        ? phx_now_us() + (int64_t)req->timeout_ms * 1000
                        : 0;
    for (;;) {
        rc = attempt_send(req, env);
        if (rc == PHX_EAGAIN) {
            if ((rc = follow_forward(req, env)) != PHX_OK)
                break;
            continue;
        }
        break;
    }
    if (rc == PHX_OK && (req->flags & PHX_REQ_ONEWAY))
        rc = finish_oneway(req, env);
    if (env == &local)
        phx_env_clear(&local);
    return rc;
}

int phx_request_wait(phx_request_t *req, phx_env_t *env)
{
    phx_env_t local = PHX_ENV_INIT;
    if (env == NULL)
        env = &local;
    int rc;
    for (;;) {
        if (req->state == REQ_DONE) {
            rc = env->major == PHX_NO_EXCEPTION ? PHX_OK
                 : env->major == PHX_USER_EXCEPTION ? PHX_EUSEREX
                                                    : PHX_ESYSEX;
            break;
        }
        if (req->state != REQ_SENT) {
            rc = PHX_ESTATE;
            break;
        }
        enum ending kind;
        rc = await_reply(req, env);
        if (rc == PHX_OK) {
            rc = process_reply(req, env, &kind);
        } else {
            kind = END_EXCEPTION;
        }
        req->state = REQ_DONE;
        ci_end(req, kind, env);
        if (req->fwd) {
            if ((rc = follow_forward(req, env)) != PHX_OK)
                break;
            rc = attempt_send(req, env);
            while (rc == PHX_EAGAIN) {
                if ((rc = follow_forward(req, env)) != PHX_OK)
                    break;
                rc = attempt_send(req, env);
            }
            if (rc != PHX_OK) {
                req->state = REQ_DONE;
                break;
            }
            if (req->flags & PHX_REQ_ONEWAY) {
                rc = finish_oneway(req, env);
                break;
            }
            continue;
        }
        /* Ending points may have raised or cleared an exception. */
        rc = env->major == PHX_NO_EXCEPTION     ? PHX_OK
             : env->major == PHX_USER_EXCEPTION ? PHX_EUSEREX
                                                : PHX_ESYSEX;
        break;
    }
    if (env == &local)
        phx_env_clear(&local);
    return rc;
}

int phx_request_invoke(phx_request_t *req, phx_env_t *env)
{
    int rc = phx_request_send(req, env);
    if (rc != PHX_OK || (req->flags & PHX_REQ_ONEWAY))
        return rc;
    return phx_request_wait(req, env);
}

/* ------------------------------------------------------------------ */
/* Built-in operations                                                  */
/* ------------------------------------------------------------------ */

int phx_object_is_a(phx_object_t *obj, const char *repo_id, bool *result,
                    phx_env_t *env)
{
    phx_request_t *req;
    if (request_new(obj, "_is_a", 0, &req) != PHX_OK)
        return phx_env_system(env, PHX_SYSEX_NO_MEMORY, 0, PHX_COMPLETED_NO,
                              "out of memory");
    phx_cdr_put_string(&req->args, repo_id);
    int rc = phx_request_invoke(req, env);
    if (rc == PHX_OK && phx_cdr_get_boolean(&req->rd, result) != PHX_OK)
        rc = phx_env_system(env, PHX_SYSEX_MARSHAL,
                            PHX_VMCID | PHX_MINOR_BAD_MESSAGE,
                            PHX_COMPLETED_YES, "bad _is_a reply");
    phx_request_destroy(req);
    return rc;
}

int phx_object_non_existent(phx_object_t *obj, bool *result, phx_env_t *env)
{
    phx_request_t *req;
    if (request_new(obj, "_non_existent", 0, &req) != PHX_OK)
        return phx_env_system(env, PHX_SYSEX_NO_MEMORY, 0, PHX_COMPLETED_NO,
                              "out of memory");
    int rc = phx_request_invoke(req, env);
    if (rc == PHX_OK && phx_cdr_get_boolean(&req->rd, result) != PHX_OK)
        rc = phx_env_system(env, PHX_SYSEX_MARSHAL,
                            PHX_VMCID | PHX_MINOR_BAD_MESSAGE,
                            PHX_COMPLETED_YES, "bad _non_existent reply");
    if (rc == PHX_ESYSEX && phx_env_is(env, PHX_SYSEX_OBJECT_NOT_EXIST)) {
        phx_env_clear(env);
        *result = true;
        rc = PHX_OK;
    }
    phx_request_destroy(req);
    return rc;
}

int phx_object_locate(phx_object_t *obj, uint32_t *status, phx_env_t *env)
{
    phx_request_t *req;
    if (request_new(obj, "_locate", 0, &req) != PHX_OK)
        return phx_env_system(env, PHX_SYSEX_NO_MEMORY, 0, PHX_COMPLETED_NO,
                              "out of memory");
    req->is_locate = true;
    int rc = phx_request_invoke(req, env);
    if (rc == PHX_OK)
        *status = req->locate_status;
    phx_request_destroy(req);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Client request info                                                  */
/* ------------------------------------------------------------------ */

const char *phx_client_ri_operation(const phx_client_ri_t *ri)
{
    return ri->req->operation;
}

uint32_t phx_client_ri_request_id(const phx_client_ri_t *ri)
{
    return ri->req->rid;
}

bool phx_client_ri_response_expected(const phx_client_ri_t *ri)
{
    return !(ri->req->flags & PHX_REQ_ONEWAY);
}

phx_object_t *phx_client_ri_target(const phx_client_ri_t *ri)
{
    return ri->req->target;
}

phx_object_t *phx_client_ri_effective_target(const phx_client_ri_t *ri)
{
    return ri->req->effective;
}

int phx_client_ri_effective_profile(const phx_client_ri_t *ri)
{
    const phx_request_t *r = ri->req;
    if (r->binding == NULL || r->tidx >= r->binding->target_count)
        return -1;
    return r->binding->targets[r->tidx].profile_index;
}

unsigned phx_client_ri_attempt(const phx_client_ri_t *ri)
{
    return ri->req->attempt;
}

int phx_client_ri_add_request_context(phx_client_ri_t *ri, uint32_t id,
                                      const void *data, size_t len,
                                      bool replace)
{
    if (ri->req->state != REQ_NEW)
        return PHX_ESTATE;
    return phx__sc_vec_set(&ri->req->ctx, id, data, len, replace);
}

const phx_service_context_t *
phx_client_ri_request_context(const phx_client_ri_t *ri, uint32_t id)
{
    return phx__sc_vec_find(&ri->req->ctx, id);
}

const phx_service_context_t *
phx_client_ri_reply_context(const phx_client_ri_t *ri, uint32_t id)
{
    return ri->req->have_rh ? phx_giop_sc_find(&ri->req->rh.contexts, id)
                            : NULL;
}

uint32_t phx_client_ri_reply_status(const phx_client_ri_t *ri)
{
    return ri->req->reply_status;
}

phx_object_t *phx_client_ri_forward_target(const phx_client_ri_t *ri)
{
    return ri->req->fwd_seen;
}

int phx_client_ri_forward(phx_client_ri_t *ri, phx_object_t *obj,
                          bool permanent)
{
    if (obj == NULL)
        return PHX_EINVAL;
    phx_request_t *r = ri->req;
    phx_object_release(r->fwd);
    r->fwd = phx_object_ref(obj);
    r->fwd_perm = permanent;
    return PHX_OK;
}

int phx_client_ri_retry(phx_client_ri_t *ri, int profile_index)
{
    phx_request_t *r = ri->req;
    if (r->binding == NULL)
        return PHX_ESTATE;
    phx_object_release(r->fwd);
    r->fwd = phx_object_ref(r->effective);
    r->fwd_perm = false;
    r->retry = true;
    r->retry_profile = profile_index;
    return PHX_OK;
}

const phx_ior_t *phx_client_ri_effective_ior(const phx_client_ri_t *ri)
{
    const phx_request_t *r = ri->req;
    return r->binding ? &r->binding->ior : NULL;
}

int phx_client_ri_select_profile(phx_client_ri_t *ri, int index)
{
    phx_request_t *r = ri->req;
    if (r->state != REQ_NEW || r->binding == NULL)
        return PHX_ESTATE;
    for (size_t i = 0; i < r->binding->target_count; i++) {
        if (r->binding->targets[i].profile_index == index) {
            r->tidx = i;
            return PHX_OK;
        }
    }
    return PHX_ENOTFOUND;
}
