/*
 * giop.c - GIOP 1.2 message headers: encoding into a CDR writer and
 * zero-copy decoding from a received frame (see include/phx/giop.h).
 */
#include <stdlib.h>
#include <string.h>

#include <phx/giop.h>

static const uint8_t giop_magic[4] = {'G', 'I', 'O', 'P'};

/* ------------------------------------------------------------------ */
/* Names                                                                */
/* ------------------------------------------------------------------ */

const char *phx_giop_msg_type_name(unsigned type)
{
    static const char *const names[] = {
        "Request",      "Reply",           "CancelRequest", "LocateRequest",
        "LocateReply",  "CloseConnection", "MessageError",  "Fragment",
    };
    return type < sizeof names / sizeof names[0] ? names[type] : "unknown";
}

const char *phx_giop_reply_status_name(unsigned status)
{
    static const char *const names[] = {
        "NO_EXCEPTION",     "USER_EXCEPTION",        "SYSTEM_EXCEPTION",
        "LOCATION_FORWARD", "LOCATION_FORWARD_PERM", "NEEDS_ADDRESSING_MODE",
    };
    return status < sizeof names / sizeof names[0] ? names[status]
                                                   : "unknown";
}

const char *phx_giop_locate_status_name(unsigned status)
{
    static const char *const names[] = {
        "UNKNOWN_OBJECT",      "OBJECT_HERE",
        "OBJECT_FORWARD",      "OBJECT_FORWARD_PERM",
        "LOC_SYSTEM_EXCEPTION", "LOC_NEEDS_ADDRESSING_MODE",
    };
    return status < sizeof names / sizeof names[0] ? names[status]
                                                   : "unknown";
}

const phx_service_context_t *phx_giop_sc_find(const phx_giop_sc_list_t *l,
                                              uint32_t id)
{
    if (l == NULL || l->items == NULL)
        return NULL;
    for (uint32_t i = 0; i < l->count; i++)
        if (l->items[i].id == id)
            return &l->items[i];
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Header                                                               */
/* ------------------------------------------------------------------ */

int phx_giop_decode_header(const void *buf, phx_giop_header_t *h,
                           phx_error_t *err)
{
    const uint8_t *p = buf;

    memset(h, 0, sizeof *h);
    if (p == NULL)
        return phx_error_set(err, PHX_EINVAL, "GIOP header: NULL buffer");
    if (memcmp(p, giop_magic, 4) != 0)
        return phx_error_set(err, PHX_EPROTO,
                             "GIOP header: bad magic %02x %02x %02x %02x "
                             "(expected \"GIOP\")",
                             p[0], p[1], p[2], p[3]);
    h->major = p[4];
    h->minor = p[5];
    h->flags = p[6];
    h->type = p[7];
    h->byte_order = (p[6] & PHX_GIOP_FLAG_LITTLE_ENDIAN)
                        ? PHX_CDR_LITTLE_ENDIAN
                        : PHX_CDR_BIG_ENDIAN;
    if (h->byte_order == PHX_CDR_LITTLE_ENDIAN)
        h->size = (uint32_t)p[8] | (uint32_t)p[9] << 8 |
                  (uint32_t)p[10] << 16 | (uint32_t)p[11] << 24;
    else
        h->size = (uint32_t)p[8] << 24 | (uint32_t)p[9] << 16 |
                  (uint32_t)p[10] << 8 | (uint32_t)p[11];

    if (h->major != PHX_GIOP_MAJOR || h->minor != PHX_GIOP_MINOR)
        return phx_error_set(err, PHX_EUNSUPPORTED,
                             "GIOP header: version %u.%u not supported "
                             "(only 1.2)",
                             h->major, h->minor);
    if (h->type > PHX_GIOP_FRAGMENT)
        return phx_error_set(err, PHX_EPROTO,
                             "GIOP header: unknown message type %u",
                             h->type);
    if (h->type == PHX_GIOP_FRAGMENT)
        return phx_error_set(err, PHX_EUNSUPPORTED,
                             "GIOP header: Fragment message refused "
                             "(one message per frame, no fragmentation)");
    if (h->flags & PHX_GIOP_FLAG_FRAGMENT)
        return phx_error_set(err, PHX_EUNSUPPORTED,
                             "GIOP header: %s with the more-fragments flag "
                             "refused (one message per frame, no "
                             "fragmentation)",
                             phx_giop_msg_type_name(h->type));
    phx_error_clear(err);
    return 0;
}

int phx_giop_parse_header(const void *buf, size_t len, phx_giop_header_t *h,
                          phx_error_t *err)
{
    int rc;

    if (buf == NULL || len < PHX_GIOP_HEADER_SIZE) {
        memset(h, 0, sizeof *h);
        return phx_error_set(err, PHX_EMARSHAL,
                             "GIOP header: frame of %zu octets is shorter "
                             "than the 12-octet header",
                             buf ? len : (size_t)0);
    }
    rc = phx_giop_decode_header(buf, h, err);
    if (rc)
        return rc;
    if ((size_t)h->size != len - PHX_GIOP_HEADER_SIZE)
        return phx_error_set(err, PHX_EPROTO,
                             "GIOP header: %s size field %u disagrees with "
                             "the frame (%zu octets after the header)",
                             phx_giop_msg_type_name(h->type), h->size,
                             len - PHX_GIOP_HEADER_SIZE);
    return 0;
}

void phx_giop_reader_init(phx_cdr_reader_t *r, const void *msg, size_t len,
                          const phx_giop_header_t *h)
{
    phx_cdr_reader_init(r, msg, len, h->byte_order);
    if (r->err == 0) {
        if (len < PHX_GIOP_HEADER_SIZE)
            phx_cdr_reader_fail(r, PHX_EMARSHAL, "truncated GIOP header");
        else
            r->pos = PHX_GIOP_HEADER_SIZE;
    }
}

/* Write the 12-byte header with a zero size; the header starts at the
 * writer's current position, which becomes the alignment base. */
static int write_header(phx_cdr_writer_t *w, uint8_t type)
{
    uint8_t *p;

    if (w->err)
        return w->err;
    w->base = w->len;
    p = phx_cdr_reserve(w, PHX_GIOP_HEADER_SIZE);
    if (p == NULL)
        return w->err;
    memcpy(p, giop_magic, 4);
    p[4] = PHX_GIOP_MAJOR;
    p[5] = PHX_GIOP_MINOR;
    p[6] = PHX_CDR_NATIVE == PHX_CDR_LITTLE_ENDIAN
               ? PHX_GIOP_FLAG_LITTLE_ENDIAN
               : 0;
    p[7] = type;
    memset(p + 8, 0, 4);
    return 0;
}

int phx_giop_finish(phx_cdr_writer_t *w)
{
    size_t n;

    if (w->err)
        return w->err;
    if (w->buf == NULL || w->len < w->base ||
        w->len - w->base < PHX_GIOP_HEADER_SIZE ||
        memcmp(w->buf + w->base, giop_magic, 4) != 0)
        return phx_cdr_writer_fail(w, PHX_EINVAL);
    n = w->len - w->base - PHX_GIOP_HEADER_SIZE;
    if (n > UINT32_MAX)
        return phx_cdr_writer_fail(w, PHX_ELIMIT);
    return phx_cdr_patch_ulong(w, w->base + 8, (uint32_t)n);
}

/* ------------------------------------------------------------------ */
/* Writers                                                              */
/* ------------------------------------------------------------------ */

static int write_target(phx_cdr_writer_t *w, const phx_giop_target_t *t)
{
    switch (t->kind) {
    case PHX_GIOP_KEY_ADDR:
        if (t->key == NULL && t->key_len)
            return phx_cdr_writer_fail(w, PHX_EINVAL);
        phx_cdr_put_short(w, PHX_GIOP_KEY_ADDR);
        return phx_cdr_put_octet_seq(w, t->key, t->key_len);
    case PHX_GIOP_PROFILE_ADDR:
        if (t->profile_data == NULL && t->profile_len)
            return phx_cdr_writer_fail(w, PHX_EINVAL);
        phx_cdr_put_short(w, PHX_GIOP_PROFILE_ADDR);
        phx_cdr_put_ulong(w, t->profile_tag);
        return phx_cdr_put_octet_seq(w, t->profile_data, t->profile_len);
    case PHX_GIOP_REFERENCE_ADDR:
        /* The raw IOR is copied as is: it must be in our byte order and,
         * as it is aligned on at most 4 internally, any 4-aligned start
         * keeps its layout valid. */
        if (t->ior == NULL || t->ior_len < 8 ||
            t->ior_byte_order != PHX_CDR_NATIVE)
            return phx_cdr_writer_fail(w, PHX_EINVAL);
        phx_cdr_put_short(w, PHX_GIOP_REFERENCE_ADDR);
        phx_cdr_put_ulong(w, t->selected_profile_index);
        return phx_cdr_put_raw(w, t->ior, t->ior_len);
    default:
        return phx_cdr_writer_fail(w, PHX_EINVAL);
    }
}

static int write_contexts(phx_cdr_writer_t *w, const phx_giop_sc_list_t *l)
{
    if (l->count && l->items == NULL)
        return phx_cdr_writer_fail(w, PHX_EINVAL);
    phx_cdr_put_ulong(w, l->count);
    for (uint32_t i = 0; i < l->count && w->err == 0; i++) {
        const phx_service_context_t *c = &l->items[i];
        if (c->data == NULL && c->len)
            return phx_cdr_writer_fail(w, PHX_EINVAL);
        phx_cdr_put_ulong(w, c->id);
        phx_cdr_put_octet_seq(w, c->data, c->len);
    }
    return w->err;
}

static bool valid_response_flags(uint8_t f)
{
    return f == PHX_GIOP_RESPONSE_NONE || f == PHX_GIOP_RESPONSE_SERVER ||
           f == PHX_GIOP_RESPONSE_TARGET;
}

int phx_giop_write_request(phx_cdr_writer_t *w, const phx_giop_request_t *req)
{
    static const uint8_t reserved[3] = {0, 0, 0};
    size_t oplen;

    if (w->err)
        return w->err;
    if (req == NULL || req->operation == NULL ||
        !valid_response_flags(req->response_flags))
        return phx_cdr_writer_fail(w, PHX_EINVAL);
    oplen = req->operation_len ? req->operation_len : strlen(req->operation);
    if (write_header(w, PHX_GIOP_REQUEST))
        return w->err;
    phx_cdr_put_ulong(w, req->request_id);
    phx_cdr_put_octet(w, req->response_flags);
    phx_cdr_put_raw(w, reserved, 3);
    write_target(w, &req->target);
    phx_cdr_put_string_n(w, req->operation, oplen);
    write_contexts(w, &req->contexts);
    if (!req->no_body)
        phx_cdr_align(w, 8);
    return w->err;
}

int phx_giop_write_reply(phx_cdr_writer_t *w, const phx_giop_reply_t *rep)
{
    if (w->err)
        return w->err;
    if (rep == NULL || rep->reply_status > PHX_GIOP_NEEDS_ADDRESSING_MODE)
        return phx_cdr_writer_fail(w, PHX_EINVAL);
    if (write_header(w, PHX_GIOP_REPLY))
        return w->err;
    phx_cdr_put_ulong(w, rep->request_id);
    phx_cdr_put_ulong(w, rep->reply_status);
    write_contexts(w, &rep->contexts);
    if (!rep->no_body)
        phx_cdr_align(w, 8);
    return w->err;
}

int phx_giop_write_cancel(phx_cdr_writer_t *w, uint32_t request_id)
{
    if (write_header(w, PHX_GIOP_CANCEL_REQUEST))
        return w->err;
    phx_cdr_put_ulong(w, request_id);
    return phx_giop_finish(w);
}

int phx_giop_write_locate_request(phx_cdr_writer_t *w,
                                  const phx_giop_locate_request_t *req)
{
    if (w->err)
        return w->err;
    if (req == NULL)
        return phx_cdr_writer_fail(w, PHX_EINVAL);
    if (write_header(w, PHX_GIOP_LOCATE_REQUEST))
        return w->err;
    phx_cdr_put_ulong(w, req->request_id);
    write_target(w, &req->target);
    return phx_giop_finish(w);
}

int phx_giop_write_locate_reply(phx_cdr_writer_t *w,
                                const phx_giop_locate_reply_t *rep)
{
    if (w->err)
        return w->err;
    if (rep == NULL ||
        rep->locate_status > PHX_GIOP_LOC_NEEDS_ADDRESSING_MODE)
        return phx_cdr_writer_fail(w, PHX_EINVAL);
    if (write_header(w, PHX_GIOP_LOCATE_REPLY))
        return w->err;
    phx_cdr_put_ulong(w, rep->request_id);
    phx_cdr_put_ulong(w, rep->locate_status);
    return phx_giop_finish(w);
}

int phx_giop_write_close(phx_cdr_writer_t *w)
{
    if (write_header(w, PHX_GIOP_CLOSE_CONNECTION))
        return w->err;
    return phx_giop_finish(w);
}

int phx_giop_write_message_error(phx_cdr_writer_t *w)
{
    if (write_header(w, PHX_GIOP_MESSAGE_ERROR))
        return w->err;
    return phx_giop_finish(w);
}

int phx_giop_write_sysex(phx_cdr_writer_t *w, const char *repo_id,
                         uint32_t minor, uint32_t completed)
{
    if (w->err)
        return w->err;
    if (repo_id == NULL || completed > PHX_COMPLETED_MAYBE)
        return phx_cdr_writer_fail(w, PHX_EINVAL);
    phx_cdr_put_string(w, repo_id);
    phx_cdr_put_ulong(w, minor);
    return phx_cdr_put_ulong(w, completed);
}

/* ------------------------------------------------------------------ */
/* Readers                                                              */
/* ------------------------------------------------------------------ */

/* Report the reader's error with the message and field it happened in. */
static int rd_error(const phx_cdr_reader_t *r, phx_error_t *err,
                    const char *msg, const char *field)
{
    return phx_error_set(err, r->err, "GIOP %s: bad %s: %s", msg, field,
                         r->errmsg);
}

/* Fail the reader with a malformed-value error and report it. */
static int rd_invalid(phx_cdr_reader_t *r, phx_error_t *err, const char *msg,
                      const char *field, unsigned value)
{
    phx_cdr_reader_fail(r, PHX_EMARSHAL, "value out of range");
    return phx_error_set(err, PHX_EMARSHAL, "GIOP %s: invalid %s %u", msg,
                         field, value);
}

static int read_target(phx_cdr_reader_t *r, phx_giop_target_t *t,
                       const char *msg, phx_error_t *err)
{
    int16_t kind;
    const uint8_t *p;
    size_t n;

    memset(t, 0, sizeof *t);
    if (phx_cdr_get_short(r, &kind))
        return rd_error(r, err, msg, "TargetAddress discriminator");
    switch (kind) {
    case PHX_GIOP_KEY_ADDR:
        t->kind = PHX_GIOP_KEY_ADDR;
        if (phx_cdr_get_octet_seq(r, &p, &n))
            return rd_error(r, err, msg, "object key");
        t->key = p;
        t->key_len = (uint32_t)n;
        return 0;
    case PHX_GIOP_PROFILE_ADDR:
        t->kind = PHX_GIOP_PROFILE_ADDR;
        if (phx_cdr_get_ulong(r, &t->profile_tag) ||
            phx_cdr_get_octet_seq(r, &p, &n))
            return rd_error(r, err, msg, "TargetAddress profile");
        t->profile_data = p;
        t->profile_len = (uint32_t)n;
        return 0;
    case PHX_GIOP_REFERENCE_ADDR: {
        size_t start;
        uint32_t count;
        t->kind = PHX_GIOP_REFERENCE_ADDR;
        if (phx_cdr_get_ulong(r, &t->selected_profile_index))
            return rd_error(r, err, msg, "selected_profile_index");
        /* Walk over the IOR to find where it ends; its pieces are
         * validated again by whoever decodes it. */
        start = r->pos;
        {
            const char *s;
            size_t sl;
            phx_cdr_get_string(r, &s, &sl);
        }
        phx_cdr_get_seq_len(r, 8, &count);
        for (uint32_t i = 0; i < count && r->err == 0; i++) {
            uint32_t tag;
            phx_cdr_get_ulong(r, &tag);
            phx_cdr_get_octet_seq(r, &p, &n);
        }
        if (r->err)
            return rd_error(r, err, msg, "TargetAddress IOR");
        t->ior = r->buf + start;
        t->ior_len = (uint32_t)(r->pos - start);
        t->ior_byte_order = r->swap ? 1 - PHX_CDR_NATIVE : PHX_CDR_NATIVE;
        return 0;
    }
    default:
        return rd_invalid(r, err, msg, "TargetAddress discriminator",
                          (unsigned)(uint16_t)kind);
    }
}

static void sc_list_reset(phx_giop_sc_list_t *l)
{
    free(l->heap);
    l->heap = NULL;
    l->items = NULL;
    l->count = 0;
}

static int read_contexts(phx_cdr_reader_t *r, phx_giop_sc_list_t *l,
                         const char *msg, phx_error_t *err)
{
    uint32_t count;
    phx_service_context_t *items;

    l->items = NULL;
    l->count = 0;
    l->heap = NULL;
    /* Each context is at least an id and a length: 8 octets. */
    if (phx_cdr_get_seq_len(r, 8, &count))
        return rd_error(r, err, msg, "service context count");
    if (count > PHX_GIOP_SC_INLINE) {
        l->heap = calloc(count, sizeof *l->heap);
        if (l->heap == NULL) {
            phx_cdr_reader_fail(r, PHX_ENOMEM, "service context list");
            return phx_error_set(err, PHX_ENOMEM,
                                 "GIOP %s: no memory for %u service "
                                 "contexts",
                                 msg, count);
        }
        items = l->heap;
    } else {
        items = l->inline_items;
    }
    for (uint32_t i = 0; i < count; i++) {
        const uint8_t *p;
        size_t n;
        if (phx_cdr_get_ulong(r, &items[i].id) ||
            phx_cdr_get_octet_seq(r, &p, &n)) {
            sc_list_reset(l);
            return rd_error(r, err, msg, "service context");
        }
        items[i].data = p;
        items[i].len = (uint32_t)n;
    }
    l->items = items;
    l->count = count;
    return 0;
}

/* Skip the padding before an 8-aligned body.  A message that ends right
 * after its header has no body and needs no padding. */
static int skip_body_padding(phx_cdr_reader_t *r, const char *msg,
                             phx_error_t *err)
{
    if (phx_cdr_reader_remaining(r) == 0)
        return 0;
    if (phx_cdr_skip_align(r, 8))
        return rd_error(r, err, msg, "body alignment padding");
    return 0;
}

int phx_giop_read_request(phx_cdr_reader_t *r, phx_giop_request_t *out,
                          phx_error_t *err)
{
    static const char msg[] = "Request";
    const char *op;
    size_t oplen;

    memset(out, 0, sizeof *out);
    if (r->err)
        return rd_error(r, err, msg, "reader");
    if (phx_cdr_get_ulong(r, &out->request_id))
        return rd_error(r, err, msg, "request_id");
    if (phx_cdr_get_octet(r, &out->response_flags) ||
        phx_cdr_get_raw(r, 3) == NULL)
        return rd_error(r, err, msg, "response_flags");
    if (!valid_response_flags(out->response_flags))
        return rd_invalid(r, err, msg, "response_flags",
                          out->response_flags);
    if (read_target(r, &out->target, msg, err))
        return r->err;
    if (phx_cdr_get_string(r, &op, &oplen))
        return rd_error(r, err, msg, "operation");
    out->operation = op;
    out->operation_len = oplen;
    if (read_contexts(r, &out->contexts, msg, err))
        return r->err;
    if (skip_body_padding(r, msg, err)) {
        sc_list_reset(&out->contexts);
        return r->err;
    }
    phx_error_clear(err);
    return 0;
}

void phx_giop_request_fini(phx_giop_request_t *req)
{
    if (req)
        sc_list_reset(&req->contexts);
}

int phx_giop_read_reply(phx_cdr_reader_t *r, phx_giop_reply_t *out,
                        phx_error_t *err)
{
    static const char msg[] = "Reply";

    memset(out, 0, sizeof *out);
    if (r->err)
        return rd_error(r, err, msg, "reader");
    if (phx_cdr_get_ulong(r, &out->request_id))
        return rd_error(r, err, msg, "request_id");
    if (phx_cdr_get_ulong(r, &out->reply_status))
        return rd_error(r, err, msg, "reply_status");
    if (out->reply_status > PHX_GIOP_NEEDS_ADDRESSING_MODE)
        return rd_invalid(r, err, msg, "reply_status", out->reply_status);
    if (read_contexts(r, &out->contexts, msg, err))
        return r->err;
    if (skip_body_padding(r, msg, err)) {
        sc_list_reset(&out->contexts);
        return r->err;
    }
    phx_error_clear(err);
    return 0;
}

void phx_giop_reply_fini(phx_giop_reply_t *rep)
{
    if (rep)
        sc_list_reset(&rep->contexts);
}

int phx_giop_read_cancel(phx_cdr_reader_t *r, uint32_t *request_id,
                         phx_error_t *err)
{
    if (phx_cdr_get_ulong(r, request_id))
        return rd_error(r, err, "CancelRequest", "request_id");
    phx_error_clear(err);
    return 0;
}

int phx_giop_read_locate_request(phx_cdr_reader_t *r,
                                 phx_giop_locate_request_t *out,
                                 phx_error_t *err)
{
    static const char msg[] = "LocateRequest";

    memset(out, 0, sizeof *out);
    if (phx_cdr_get_ulong(r, &out->request_id))
        return rd_error(r, err, msg, "request_id");
    if (read_target(r, &out->target, msg, err))
        return r->err;
    phx_error_clear(err);
    return 0;
}

int phx_giop_read_locate_reply(phx_cdr_reader_t *r,
                               phx_giop_locate_reply_t *out,
                               phx_error_t *err)
{
    static const char msg[] = "LocateReply";

    memset(out, 0, sizeof *out);
    if (phx_cdr_get_ulong(r, &out->request_id))
        return rd_error(r, err, msg, "request_id");
    if (phx_cdr_get_ulong(r, &out->locate_status))
        return rd_error(r, err, msg, "locate_status");
    if (out->locate_status > PHX_GIOP_LOC_NEEDS_ADDRESSING_MODE)
        return rd_invalid(r, err, msg, "locate_status",
                          out->locate_status);
    phx_error_clear(err);
    return 0;
}

int phx_giop_read_sysex(phx_cdr_reader_t *r, phx_giop_sysex_t *out,
                        phx_error_t *err)
{
    static const char msg[] = "system exception";
    const char *id;
    size_t n;

    memset(out, 0, sizeof *out);
    if (phx_cdr_get_string(r, &id, &n))
        return rd_error(r, err, msg, "repository id");
    out->repo_id = id;
    out->repo_id_len = n;
    if (phx_cdr_get_ulong(r, &out->minor))
        return rd_error(r, err, msg, "minor code");
    if (phx_cdr_get_ulong(r, &out->completed))
        return rd_error(r, err, msg, "completion status");
    if (out->completed > PHX_COMPLETED_MAYBE)
        return rd_invalid(r, err, msg, "completion status", out->completed);
    phx_error_clear(err);
    return 0;
}
