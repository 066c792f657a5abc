/*
 * server.c - the server side of an invocation: every message a listener
 * delivers is validated, Requests are dispatched to servants through the
 * object adapter (with the server interceptors around them), and the reply
 * is built in place in front of the body the skeleton wrote.
 *
 * Bad input never takes the server down: a message whose GIOP header or
 * request header cannot be decoded is answered with MessageError and
 * dropped; a request whose arguments cannot be decoded gets MARSHAL; an
 * unknown key OBJECT_NOT_EXIST; an unknown operation BAD_OPERATION.
 */
#include <stdlib.h>
#include <string.h>

#include <phx/log.h>
#include <phx/typecode.h>

#include "orb_impl.h"

#define MOD "server"

struct phx_server_ri {
    phx_server_request_t *sr;
};

struct phx_server_request {
    phx_server_ri_t ri;
    phx_orb_t *orb;
    phx__transport_t *tp;
    phx_inmsg_t *msg;
    phx_giop_request_t gr;
    phx_cdr_reader_t args;
    const uint8_t *body;
    size_t body_len;
    int byte_order;
    const uint8_t *key;
    size_t key_len;
    phx_ior_t target_ior; /* for ReferenceAddr */
    phx__aentry_t *entry;
    phx_cdr_writer_t reply;
    phx__sc_vec_t reply_ctx;
    uint32_t reply_status;
    phx_object_t *fwd;
    bool fwd_perm;
    bool answered; /* an interceptor supplied the reply */
    size_t si_started;
};

/* ------------------------------------------------------------------ */
/* Sending replies                                                      */
/* ------------------------------------------------------------------ */

static void free_base(void *data, void *hint)
{
    (void)data;
    free(hint);
}

static void send_buf(phx__transport_t *tp, phx_inmsg_t *msg, phx_buf_t *buf)
{
    phx_error_t err;
    phx_error_clear(&err);
    if (tp->ops->send_reply(tp->state, msg, buf, &err) != PHX_OK) {
        PHX_DEBUG(MOD, "reply not delivered: %s", err.msg);
        phx_buf_dispose(buf);
    }
}

static void send_message_error(phx__transport_t *tp, phx_inmsg_t *msg)
{
    uint8_t tmp[PHX_GIOP_HEADER_SIZE];
    phx_cdr_writer_t w;
    phx_cdr_writer_init_fixed(&w, tmp, sizeof tmp);
    if (phx_giop_write_message_error(&w) != PHX_OK)
        return;
    phx_buf_t buf = {.data = malloc(w.len), .len = w.len};
    if (buf.data == NULL)
        return;
    memcpy(buf.data, tmp, w.len);
    send_buf(tp, msg, &buf);
}

/* Frame the reply body (already in sr->reply after the gap) and send. */
static void send_reply(phx_server_request_t *sr)
{
    phx_orb_t *orb = sr->orb;
    phx_giop_reply_t rep;
    memset(&rep, 0, sizeof rep);
    rep.request_id = sr->gr.request_id;
    rep.reply_status = sr->reply_status;
    rep.contexts.items = sr->reply_ctx.items;
    rep.contexts.count = (uint32_t)sr->reply_ctx.n;

    size_t body_len = sr->reply.len - PHX__REPLY_GAP;
    uint8_t hstack[PHX__REPLY_GAP];
    phx_cdr_writer_t hw;
    phx_cdr_writer_init_fixed(&hw, hstack, sizeof hstack);
    int rc = phx_cdr_writer_status(&sr->reply);
    if (rc == PHX_OK)
        rc = phx_giop_write_reply(&hw, &rep);
    phx_buf_t buf = {0};
    if (rc == PHX_OK) {
        size_t h = hw.len;
        uint32_t size = (uint32_t)(h + body_len - PHX_GIOP_HEADER_SIZE);
        memcpy(hstack + 8, &size, 4);
        memcpy(sr->reply.buf + PHX__REPLY_GAP - h, hstack, h);
        buf.data = sr->reply.buf + PHX__REPLY_GAP - h;
        buf.len = h + body_len;
        buf.free_fn = free_base;
        buf.hint = sr->reply.buf;
        sr->reply.buf = NULL; /* now owned by buf */
        sr->reply.len = sr->reply.cap = 0;
    } else if (rc == PHX_ELIMIT && phx_cdr_writer_status(&sr->reply) == 0) {
        phx_cdr_writer_t w;
        phx_cdr_writer_init(&w, 1024 + body_len);
        w.max = orb->cfg.max_message;
        rc = phx_giop_write_reply(&w, &rep);
        phx_cdr_put_raw(&w, sr->reply.buf + PHX__REPLY_GAP, body_len);
        rc = rc ? rc : phx_giop_finish(&w);
        if (rc == PHX_OK)
            buf.data = phx_cdr_writer_steal(&w, &buf.len);
        phx_cdr_writer_fini(&w);
    }
    if (rc != PHX_OK || buf.len > orb->cfg.max_message) {
        /* The reply cannot be sent as is: say so with a small one. */
        phx_buf_dispose(&buf);
        PHX_WARN(MOD, "reply to '%s' cannot be sent (%s); answering "
                      "IMP_LIMIT",
                 sr->gr.operation,
                 rc ? phx_strerror(rc) : "larger than max_message");
        phx_cdr_writer_t w;
        phx_cdr_writer_init(&w, 128);
        rep.reply_status = PHX_GIOP_SYSTEM_EXCEPTION;
        rep.contexts.count = 0;
        phx_giop_write_reply(&w, &rep);
        phx_giop_write_sysex(&w, phx_sysex_repo_id(PHX_SYSEX_IMP_LIMIT),
                             PHX_VMCID | PHX_MINOR_TOO_LARGE,
                             PHX_COMPLETED_YES);
        if (phx_giop_finish(&w) == PHX_OK)
            buf.data = phx_cdr_writer_steal(&w, &buf.len);
        phx_cdr_writer_fini(&w);
        if (buf.data == NULL)
            return;
    }
    send_buf(sr->tp, sr->msg, &buf);
}

/* ------------------------------------------------------------------ */
/* Outcomes                                                             */
/* ------------------------------------------------------------------ */

static void reply_reset(phx_server_request_t *sr)
{
    sr->reply.len = PHX__REPLY_GAP;
    sr->reply.err = 0;
}

/* Write env's exception as the reply body. */
static void encode_exception(phx_server_request_t *sr, phx_env_t *env)
{
    reply_reset(sr);
    if (env->major == PHX_USER_EXCEPTION && env->user_tc) {
        sr->reply_status = PHX_GIOP_USER_EXCEPTION;
        phx_cdr_put_string(&sr->reply, env->repo_id);
        if (env->user_value &&
            phx_cdr_put_value(&sr->reply, env->user_tc, env->user_value) !=
                PHX_OK) {
            reply_reset(sr);
            phx_env_system(env, PHX_SYSEX_MARSHAL, 0, PHX_COMPLETED_YES,
                           "cannot encode user exception %s",
                           env->repo_id);
        } else {
            return;
        }
    } else if (env->major == PHX_USER_EXCEPTION) {
        sr->reply_status = PHX_GIOP_USER_EXCEPTION;
        phx_cdr_put_string(&sr->reply, env->repo_id);
        return;
    }
    sr->reply_status = PHX_GIOP_SYSTEM_EXCEPTION;
    phx_giop_write_sysex(&sr->reply,
                         env->repo_id ? env->repo_id
                                      : phx_sysex_repo_id(env->sysex),
                         env->minor, env->completed);
}

static void encode_forward(phx_server_request_t *sr)
{
    reply_reset(sr);
    sr->reply_status = sr->fwd_perm ? PHX_GIOP_LOCATION_FORWARD_PERM
                                    : PHX_GIOP_LOCATION_FORWARD;
    phx_ior_t ior;
    if (phx_object_get_ior(sr->fwd, &ior) == PHX_OK) {
        phx_ior_write(&sr->reply, &ior);
        phx_ior_fini(&ior);
    } else {
        phx_cdr_writer_fail(&sr->reply, PHX_ENOMEM);
    }
}

/* ------------------------------------------------------------------ */
/* Interceptor points                                                   */
/* ------------------------------------------------------------------ */

static int si_fail(const phx_server_interceptor_t *si, phx_env_t *env,
                   phx_completion_t c)
{
    if (env->major == PHX_NO_EXCEPTION)
        phx_env_system(env, PHX_SYSEX_UNKNOWN,
                       PHX_VMCID | PHX_MINOR_INTERCEPTOR, c,
                       "interceptor %s failed", si->name ? si->name : "?");
    return PHX_ESYSEX;
}

/* The two starting points.  Returns 0 to go on to the servant. */
static int si_start(phx_server_request_t *sr, phx_env_t *env)
{
    phx_orb_t *orb = sr->orb;
    sr->si_started = 0;
    for (size_t i = 0; i < orb->si_count; i++) {
        const phx_server_interceptor_t *si = orb->sis[i];
        if (si->receive_request_service_contexts &&
            si->receive_request_service_contexts(si->arg, &sr->ri, env) != 0)
            return si_fail(si, env, PHX_COMPLETED_NO);
        sr->si_started = i + 1;
        if (sr->fwd || sr->answered)
            return PHX_OK;
    }
    for (size_t i = 0; i < orb->si_count; i++) {
        const phx_server_interceptor_t *si = orb->sis[i];
        if (si->receive_request &&
            si->receive_request(si->arg, &sr->ri, env) != 0)
            return si_fail(si, env, PHX_COMPLETED_NO);
        if (sr->fwd || sr->answered)
            return PHX_OK;
    }
    return PHX_OK;
}

enum ending { END_REPLY, END_EXCEPTION, END_OTHER };

static void si_end(phx_server_request_t *sr, phx_env_t *env)
{
    phx_orb_t *orb = sr->orb;
    enum ending kind =
        sr->reply_status == PHX_GIOP_NO_EXCEPTION ? END_REPLY
        : sr->reply_status == PHX_GIOP_USER_EXCEPTION ||
                sr->reply_status == PHX_GIOP_SYSTEM_EXCEPTION
            ? END_EXCEPTION
            : END_OTHER;
    while (sr->si_started > 0) {
        const phx_server_interceptor_t *si = orb->sis[--sr->si_started];
        int (*fn)(void *, phx_server_ri_t *, phx_env_t *) =
            kind == END_REPLY       ? si->send_reply
            : kind == END_EXCEPTION ? si->send_exception
                                    : si->send_other;
        if (fn == NULL)
            continue;
        if (fn(si->arg, &sr->ri, env) != PHX_OK) {
            si_fail(si, env, PHX_COMPLETED_MAYBE);
            encode_exception(sr, env);
            kind = END_EXCEPTION;
        } else if (sr->fwd && kind != END_OTHER) {
            encode_forward(sr);
            kind = END_OTHER;
        }
    }
}

/* ------------------------------------------------------------------ */
/* Dispatch                                                             */
/* ------------------------------------------------------------------ */

static bool iface_is_a(const phx_interface_t *iface, const char *id)
{
    if (strcmp(id, "IDL:omg.org/CORBA/Object:1.0") == 0 ||
        strcmp(id, iface->repo_id) == 0)
        return true;
    for (size_t i = 0; i < iface->base_count; i++)
        if (iface->bases[i] && strcmp(iface->bases[i], id) == 0)
            return true;
    return false;
}

/* Run the operation; 0 or an exception in env. */
static int dispatch(phx_server_request_t *sr, phx_env_t *env)
{
    phx_servant_t *sv = sr->entry->servant;
    const char *op = sr->gr.operation;
    if (op[0] == '_') {
        if (strcmp(op, "_is_a") == 0) {
            const char *id;
            size_t n;
            if (phx_cdr_get_string(&sr->args, &id, &n) != PHX_OK)
                return PHX_EMARSHAL;
            return phx_cdr_put_boolean(&sr->reply, iface_is_a(sv->iface, id));
        }
        if (strcmp(op, "_non_existent") == 0 ||
            strcmp(op, "_not_existent") == 0)
            return phx_cdr_put_boolean(&sr->reply, false);
        if (strcmp(op, "_repository_id") == 0)
            return phx_cdr_put_string(&sr->reply, sv->iface->repo_id);
    }
    const phx_interface_t *iface = sv->iface;
    for (size_t i = 0; i < iface->op_count; i++) {
        const phx_operation_t *o = &iface->ops[i];
        if (o->name[0] == op[0] && strcmp(o->name, op) == 0)
            return o->skel(sv, sr, env);
    }
    if (sv->invoke)
        return sv->invoke(sv, sr, env);
    return phx_env_system(env, PHX_SYSEX_BAD_OPERATION,
                          PHX_OMGVMCID | 2, PHX_COMPLETED_NO,
                          "%s has no operation '%s'", iface->repo_id, op);
}

/* Resolve the object key from the TargetAddress. */
static int resolve_key(phx_server_request_t *sr, const phx_giop_target_t *t,
                       phx_error_t *err)
{
    switch (t->kind) {
    case PHX_GIOP_KEY_ADDR:
        sr->key = t->key;
        sr->key_len = t->key_len;
        return PHX_OK;
    case PHX_GIOP_PROFILE_ADDR:
        return phx_profile_peek_key(t->profile_tag, t->profile_data,
                                    t->profile_len, &sr->key, &sr->key_len,
                                    err);
    case PHX_GIOP_REFERENCE_ADDR: {
        int rc = phx_ior_read_raw(t->ior, t->ior_len, t->ior_byte_order,
                                  &sr->target_ior, err);
        if (rc != PHX_OK)
            return rc;
        if (t->selected_profile_index >= sr->target_ior.profile_count)
            return phx_error_set(err, PHX_EMARSHAL,
                                 "selected profile %u of %u",
                                 t->selected_profile_index,
                                 sr->target_ior.profile_count);
        const phx_tagged_profile_t *p =
            &sr->target_ior.profiles[t->selected_profile_index];
        return phx_profile_peek_key(p->tag, p->data, p->len, &sr->key,
                                    &sr->key_len, err);
    }
    }
    return phx_error_set(err, PHX_EMARSHAL, "bad addressing disposition");
}

static void handle_request(phx__transport_t *tp, phx_inmsg_t *msg,
                           const phx_giop_header_t *h)
{
    phx_orb_t *orb = tp->orb;
    phx_server_request_t sr;
    memset(&sr, 0, sizeof sr);
    sr.ri.sr = &sr;
    sr.orb = orb;
    sr.tp = tp;
    sr.msg = msg;
    sr.byte_order = h->byte_order;
    phx_env_t env = PHX_ENV_INIT;
    phx_error_t err;
    phx_error_clear(&err);

    phx_giop_reader_init(&sr.args, msg->data, msg->len, h);
    sr.args.max_len = orb->cfg.max_message;
    if (phx_giop_read_request(&sr.args, &sr.gr, &err) != PHX_OK) {
        PHX_WARN(MOD, "malformed Request header: %s", err.msg);
        send_message_error(tp, msg);
        phx_giop_request_fini(&sr.gr);
        return;
    }
    sr.body = msg->data + sr.args.pos;
    sr.body_len = msg->len - sr.args.pos;
    bool twoway = sr.gr.response_flags != PHX_GIOP_RESPONSE_NONE;
    PHX_DEBUG(MOD, "request %u '%s'%s, %zu bytes of arguments",
              sr.gr.request_id, sr.gr.operation, twoway ? "" : " (oneway)",
              sr.body_len);

    phx_cdr_writer_init(&sr.reply, PHX__REPLY_GAP + 256);
    sr.reply.max = orb->cfg.max_message;
    phx_cdr_reserve(&sr.reply, PHX__REPLY_GAP);
    sr.reply.base = PHX__REPLY_GAP;
    sr.reply_status = PHX_GIOP_NO_EXCEPTION;

    int rc = resolve_key(&sr, &sr.gr.target, &err);
    if (rc == PHX_OK)
        sr.entry = phx__adapter_find(&orb->adapter, sr.key, sr.key_len);
    else
        PHX_DEBUG(MOD, "cannot resolve target: %s", err.msg);

    if (rc != PHX_OK) {
        phx_env_system(&env, PHX_SYSEX_MARSHAL,
                       PHX_VMCID | PHX_MINOR_BAD_MESSAGE, PHX_COMPLETED_NO,
                       "bad target address: %s", err.msg);
        encode_exception(&sr, &env);
    } else if (si_start(&sr, &env) != PHX_OK) {
        encode_exception(&sr, &env);
    } else if (sr.fwd) {
        encode_forward(&sr);
    } else if (sr.answered) {
        /* the interceptor's reply is in sr.reply already */
    } else if (sr.entry == NULL) {
        phx_env_system(&env, PHX_SYSEX_OBJECT_NOT_EXIST,
                       PHX_VMCID | PHX_MINOR_UNKNOWN_KEY, PHX_COMPLETED_NO,
                       "no object with this key");
        encode_exception(&sr, &env);
    } else {
        rc = dispatch(&sr, &env);
        if (rc != PHX_OK || env.major != PHX_NO_EXCEPTION) {
            if (env.major == PHX_NO_EXCEPTION) {
                if (rc == PHX_EMARSHAL ||
                    phx_cdr_reader_status(&sr.args) != PHX_OK)
                    phx_env_system(&env, PHX_SYSEX_MARSHAL,
                                   PHX_VMCID | PHX_MINOR_BAD_MESSAGE,
                                   PHX_COMPLETED_NO,
                                   "cannot decode the arguments of '%s'",
                                   sr.gr.operation);
                else if (rc == PHX_ENOMEM)
                    phx_env_system(&env, PHX_SYSEX_NO_MEMORY, 0,
                                   PHX_COMPLETED_MAYBE, NULL);
                else
                    phx_env_system(&env, PHX_SYSEX_UNKNOWN,
                                   PHX_VMCID | PHX_MINOR_SERVANT_FAILED,
                                   PHX_COMPLETED_MAYBE,
                                   "servant failed with %s",
                                   phx_errname(rc));
            }
            encode_exception(&sr, &env);
        } else if (phx_cdr_writer_status(&sr.reply) != PHX_OK) {
            phx_env_system(&env, PHX_SYSEX_MARSHAL, 0, PHX_COMPLETED_YES,
                           "cannot encode the results of '%s': %s",
                           sr.gr.operation,
                           phx_strerror(phx_cdr_writer_status(&sr.reply)));
            encode_exception(&sr, &env);
        }
    }
    si_end(&sr, &env);

    if (twoway)
        send_reply(&sr);
    phx_env_clear(&env);
    phx__adapter_entry_unref(sr.entry);
    phx_object_release(sr.fwd);
    phx__sc_vec_free(&sr.reply_ctx);
    phx_cdr_writer_fini(&sr.reply);
    phx_ior_fini(&sr.target_ior);
    phx_giop_request_fini(&sr.gr);
}

static void handle_locate(phx__transport_t *tp, phx_inmsg_t *msg,
                          const phx_giop_header_t *h)
{
    phx_cdr_reader_t r;
    phx_giop_locate_request_t lr;
    phx_error_t err;
    phx_error_clear(&err);
    phx_giop_reader_init(&r, msg->data, msg->len, h);
    if (phx_giop_read_locate_request(&r, &lr, &err) != PHX_OK) {
        PHX_WARN(MOD, "malformed LocateRequest: %s", err.msg);
        send_message_error(tp, msg);
        return;
    }
    phx_server_request_t sr;
    memset(&sr, 0, sizeof sr);
    phx_giop_locate_reply_t rep = {.request_id = lr.request_id,
                                   .locate_status = PHX_GIOP_UNKNOWN_OBJECT};
    if (resolve_key(&sr, &lr.target, &err) == PHX_OK) {
        phx__aentry_t *e =
            phx__adapter_find(&tp->orb->adapter, sr.key, sr.key_len);
        if (e)
            rep.locate_status = PHX_GIOP_OBJECT_HERE;
        phx__adapter_entry_unref(e);
    }
    phx_ior_fini(&sr.target_ior);
    phx_cdr_writer_t w;
    phx_cdr_writer_init(&w, 64);
    phx_giop_write_locate_reply(&w, &rep);
    phx_buf_t buf = {0};
    if (phx_giop_finish(&w) == PHX_OK)
        buf.data = phx_cdr_writer_steal(&w, &buf.len);
    phx_cdr_writer_fini(&w);
    if (buf.data)
        send_buf(tp, msg, &buf);
}

void phx__server_handle(phx__transport_t *tp, phx_inmsg_t *msg)
{
    phx_giop_header_t h;
    phx_error_t err;
    phx_error_clear(&err);
    int rc = phx_giop_parse_header(msg->data, msg->len, &h, &err);
    if (rc != PHX_OK) {
        PHX_WARN(MOD, "bad GIOP message (%zu bytes): %s", msg->len, err.msg);
        send_message_error(tp, msg);
        phx_inmsg_release(msg);
        return;
    }
    switch (h.type) {
    case PHX_GIOP_REQUEST:
        handle_request(tp, msg, &h);
        break;
    case PHX_GIOP_LOCATE_REQUEST:
        handle_locate(tp, msg, &h);
        break;
    case PHX_GIOP_CANCEL_REQUEST:
        /* Replies are sent anyway; the client drops them. */
        PHX_DEBUG(MOD, "CancelRequest ignored");
        break;
    case PHX_GIOP_CLOSE_CONNECTION:
        PHX_DEBUG(MOD, "CloseConnection from a client");
        break;
    case PHX_GIOP_MESSAGE_ERROR:
        PHX_WARN(MOD, "a client reports MessageError");
        break;
    default:
        PHX_WARN(MOD, "unexpected %s from a client",
                 phx_giop_msg_type_name(h.type));
        send_message_error(tp, msg);
        break;
    }
    phx_inmsg_release(msg);
}

/* ------------------------------------------------------------------ */
/* Local invocation (no transport)                                      */
/* ------------------------------------------------------------------ */

int phx_orb_invoke_local(phx_orb_t *orb, const void *key, size_t key_len,
                         const char *operation, const void *body, size_t len,
                         int byte_order, uint32_t *reply_status,
                         uint8_t **reply_body, size_t *reply_len,
                         phx_error_t *err)
{
    if (orb == NULL || key == NULL || operation == NULL ||
        (body == NULL && len > 0) || reply_status == NULL ||
        reply_body == NULL || reply_len == NULL)
        return phx_error_set(err, PHX_EINVAL,
                             "invoke_local: NULL argument");
    phx_server_request_t sr;
    memset(&sr, 0, sizeof sr);
    sr.ri.sr = &sr;
    sr.orb = orb;
    sr.byte_order = byte_order;
    sr.key = key;
    sr.key_len = key_len;
    sr.gr.operation = operation;
    sr.gr.operation_len = strlen(operation);
    sr.gr.response_flags = PHX_GIOP_RESPONSE_TARGET;
    sr.body = body;
    sr.body_len = len;
    /* The body starts 8-aligned in its message, so base 0 aligns alike. */
    phx_cdr_reader_init(&sr.args, body, len, byte_order);
    sr.args.max_len = orb->cfg.max_message;
    phx_cdr_writer_init(&sr.reply, PHX__REPLY_GAP + 256);
    sr.reply.max = orb->cfg.max_message;
    phx_cdr_reserve(&sr.reply, PHX__REPLY_GAP);
    sr.reply.base = PHX__REPLY_GAP;
    sr.reply_status = PHX_GIOP_NO_EXCEPTION;
    phx_env_t env = PHX_ENV_INIT;

    sr.entry = phx__adapter_find(&orb->adapter, key, key_len);
    if (sr.entry == NULL) {
        phx_env_system(&env, PHX_SYSEX_OBJECT_NOT_EXIST,
                       PHX_VMCID | PHX_MINOR_UNKNOWN_KEY, PHX_COMPLETED_NO,
                       "no object with this key");
        encode_exception(&sr, &env);
    } else {
        int rc = dispatch(&sr, &env);
        if (rc != PHX_OK || env.major != PHX_NO_EXCEPTION) {
            if (env.major == PHX_NO_EXCEPTION)
                phx_env_system(&env,
                               rc == PHX_EMARSHAL ? PHX_SYSEX_MARSHAL
                                                  : PHX_SYSEX_UNKNOWN,
                               PHX_VMCID | (rc == PHX_EMARSHAL
                                                ? PHX_MINOR_BAD_MESSAGE
                                                : PHX_MINOR_SERVANT_FAILED),
                               rc == PHX_EMARSHAL ? PHX_COMPLETED_NO
                                                  : PHX_COMPLETED_MAYBE,
                               "'%s' failed with %s", operation,
                               phx_errname(rc));
            encode_exception(&sr, &env);
        }
    }
    int rc = phx_cdr_writer_status(&sr.reply);
    if (rc == PHX_OK) {
        size_t n = sr.reply.len - PHX__REPLY_GAP;
        uint8_t *out = malloc(n ? n : 1);
        if (out == NULL) {
            rc = phx_error_set(err, PHX_ENOMEM, "out of memory");
        } else {
            memcpy(out, sr.reply.buf + PHX__REPLY_GAP, n);
            *reply_body = out;
            *reply_len = n;
            *reply_status = sr.reply_status;
        }
    } else {
        phx_error_set(err, rc, "cannot encode the reply of '%s': %s",
                      operation, phx_strerror(rc));
    }
    phx_env_clear(&env);
    phx__adapter_entry_unref(sr.entry);
    phx_cdr_writer_fini(&sr.reply);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Server request accessors (skeletons)                                 */
/* ------------------------------------------------------------------ */

const char *phx_server_request_operation(const phx_server_request_t *sr)
{
    return sr->gr.operation;
}

phx_cdr_reader_t *phx_server_request_args(phx_server_request_t *sr)
{
    return &sr->args;
}

phx_cdr_writer_t *phx_server_request_reply(phx_server_request_t *sr)
{
    return &sr->reply;
}

bool phx_server_request_response_expected(const phx_server_request_t *sr)
{
    return sr->gr.response_flags != PHX_GIOP_RESPONSE_NONE;
}

uint32_t phx_server_request_id(const phx_server_request_t *sr)
{
    return sr->gr.request_id;
}

const phx_service_context_t *
phx_server_request_context(const phx_server_request_t *sr, uint32_t id)
{
    return phx_giop_sc_find(&sr->gr.contexts, id);
}

phx_orb_t *phx_server_request_orb(const phx_server_request_t *sr)
{
    return sr->orb;
}

const uint8_t *phx_server_request_key(const phx_server_request_t *sr,
                                      size_t *len)
{
    *len = sr->key_len;
    return sr->key;
}

/* ------------------------------------------------------------------ */
/* Server request info (interceptors)                                   */
/* ------------------------------------------------------------------ */

const char *phx_server_ri_operation(const phx_server_ri_t *ri)
{
    return ri->sr->gr.operation;
}

uint32_t phx_server_ri_request_id(const phx_server_ri_t *ri)
{
    return ri->sr->gr.request_id;
}

bool phx_server_ri_response_expected(const phx_server_ri_t *ri)
{
    return phx_server_request_response_expected(ri->sr);
}

const uint8_t *phx_server_ri_object_key(const phx_server_ri_t *ri,
                                        size_t *len)
{
    return phx_server_request_key(ri->sr, len);
}

const char *phx_server_ri_target_repo_id(const phx_server_ri_t *ri)
{
    const phx__aentry_t *e = ri->sr->entry;
    return e ? e->servant->iface->repo_id : "";
}

const phx_service_context_t *
phx_server_ri_request_context(const phx_server_ri_t *ri, uint32_t id)
{
    return phx_giop_sc_find(&ri->sr->gr.contexts, id);
}

int phx_server_ri_add_reply_context(phx_server_ri_t *ri, uint32_t id,
                                    const void *data, size_t len,
                                    bool replace)
{
    return phx__sc_vec_set(&ri->sr->reply_ctx, id, data, len, replace);
}

uint32_t phx_server_ri_reply_status(const phx_server_ri_t *ri)
{
    return ri->sr->reply_status;
}

const uint8_t *phx_server_ri_reply_body(const phx_server_ri_t *ri,
                                        size_t *len)
{
    const phx_cdr_writer_t *w = &ri->sr->reply;
    *len = w->len >= PHX__REPLY_GAP ? w->len - PHX__REPLY_GAP : 0;
    return w->buf ? w->buf + PHX__REPLY_GAP : NULL;
}

const uint8_t *phx_server_ri_request_body(const phx_server_ri_t *ri,
                                          size_t *len)
{
    *len = ri->sr->body_len;
    return ri->sr->body;
}

int phx_server_ri_request_byte_order(const phx_server_ri_t *ri)
{
    return ri->sr->byte_order;
}

int phx_server_ri_forward(phx_server_ri_t *ri, phx_object_t *obj,
                          bool permanent)
{
    if (obj == NULL)
        return PHX_EINVAL;
    phx_server_request_t *sr = ri->sr;
    phx_object_release(sr->fwd);
    sr->fwd = phx_object_ref(obj);
    sr->fwd_perm = permanent;
    return PHX_OK;
}

int phx_server_ri_set_reply(phx_server_ri_t *ri, uint32_t reply_status,
                            const void *body, size_t len)
{
    phx_server_request_t *sr = ri->sr;
    if (reply_status > PHX_GIOP_SYSTEM_EXCEPTION)
        return PHX_EINVAL;
    reply_reset(sr);
    phx_cdr_put_raw(&sr->reply, body, len);
    if (phx_cdr_writer_status(&sr->reply) != PHX_OK)
        return phx_cdr_writer_status(&sr->reply);
    sr->reply_status = reply_status;
    sr->answered = true;
    return PHX_OK;
}
