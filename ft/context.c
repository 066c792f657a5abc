/*
 * context.c - the FT-CORBA service contexts FT_REQUEST and
 * FT_GROUP_VERSION (encoded with the TypeCodes phx-idl generates from
 * idl/ft.idl, decoded by hand so that the server's hot path borrows the
 * client id instead of copying it), and the TimeBase::TimeT clock.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <phx/gcs.h>
#include <phx/typecode.h>

#include "ft_int.h"
#include "idl/ft.h"

uint64_t phx_ft_time_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (ts.tv_sec < 0)
        return PHX_FT_TIMET_UNIX_EPOCH;
    return PHX_FT_TIMET_UNIX_EPOCH + (uint64_t)ts.tv_sec * 10000000u +
           (uint64_t)ts.tv_nsec / 100u;
}

/* An encapsulation of value (of type tc) into buf, or 0. */
static size_t encap_into(uint8_t *buf, size_t cap, const phx_typecode_t *tc,
                         const void *value)
{
    phx_cdr_writer_t w;
    phx_cdr_writer_init_fixed(&w, buf, cap);
    phx_cdr_put_octet(&w, PHX_CDR_NATIVE);
    phx_cdr_put_value(&w, tc, value);
    size_t n = phx_cdr_writer_status(&w) == PHX_OK ? phx_cdr_writer_len(&w)
                                                   : 0;
    phx_cdr_writer_fini(&w);
    return n;
}

size_t phx__ft_request_ctx_write(uint8_t *buf, size_t cap,
                                 const phx_ft_request_ctx_t *c)
{
    FT_FTRequestServiceContext v = {
        .client_id = (char *)(c->client_id ? c->client_id : ""),
        .retention_id = c->retention_id,
        .expiration_time = c->expiration_time,
    };
    return encap_into(buf, cap, &TC_FT_FTRequestServiceContext, &v);
}

size_t phx__ft_group_version_ctx_write(uint8_t *buf, size_t cap,
                                       uint32_t version)
{
    FT_FTGroupVersionServiceContext v = {.object_group_ref_version =
                                             version};
    return encap_into(buf, cap, &TC_FT_FTGroupVersionServiceContext, &v);
}

int phx_ft_request_ctx_encode(const phx_ft_request_ctx_t *c, uint8_t **data,
                              size_t *len)
{
    if (c == NULL || data == NULL || len == NULL)
        return PHX_EINVAL;
    *data = NULL;
    *len = 0;
    size_t id_len = c->client_id ? strlen(c->client_id) : 0;
    /* byte order, padding, length, characters, NUL, padding, long, long
     * long: at most 32 octets beyond the characters. */
    size_t cap = id_len + 32;
    uint8_t *buf = malloc(cap);
    if (buf == NULL)
        return PHX_ENOMEM;
    size_t n = phx__ft_request_ctx_write(buf, cap, c);
    if (n == 0) {
        free(buf);
        return PHX_EINVAL;
    }
    *data = buf;
    *len = n;
    return PHX_OK;
}

int phx_ft_group_version_ctx_encode(uint32_t version, uint8_t **data,
                                    size_t *len)
{
    if (data == NULL || len == NULL)
        return PHX_EINVAL;
    *data = NULL;
    *len = 0;
    uint8_t tmp[16];
    size_t n = phx__ft_group_version_ctx_write(tmp, sizeof tmp, version);
    uint8_t *buf = n ? malloc(n) : NULL;
    if (buf == NULL)
        return n ? PHX_ENOMEM : PHX_EINVAL;
    memcpy(buf, tmp, n);
    *data = buf;
    *len = n;
    return PHX_OK;
}

int phx_ft_request_ctx_decode(const void *data, size_t len,
                              phx_ft_request_ctx_t *out, phx_error_t *err)
{
    phx_cdr_reader_t r;
    memset(out, 0, sizeof *out);
    if (data == NULL)
        return phx_error_set(err, PHX_EINVAL, "FT_REQUEST: no data");
    if (phx_cdr_reader_init_encap(&r, data, len) != PHX_OK ||
        phx_cdr_get_string(&r, &out->client_id, &out->client_id_len) !=
            PHX_OK ||
        phx_cdr_get_long(&r, &out->retention_id) != PHX_OK ||
        phx_cdr_get_ulonglong(&r, &out->expiration_time) != PHX_OK) {
        phx_error_t why;
        int rc = phx_cdr_reader_error(&r, &why);
        memset(out, 0, sizeof *out);
        return phx_error_set(err, rc ? rc : PHX_EMARSHAL,
                             "FT_REQUEST context: %s", why.msg);
    }
    phx_error_clear(err);
    return PHX_OK;
}

int phx_ft_group_version_ctx_decode(const void *data, size_t len,
                                    uint32_t *version, phx_error_t *err)
{
    phx_cdr_reader_t r;
    *version = 0;
    if (data == NULL)
        return phx_error_set(err, PHX_EINVAL, "FT_GROUP_VERSION: no data");
    if (phx_cdr_reader_init_encap(&r, data, len) != PHX_OK ||
        phx_cdr_get_ulong(&r, version) != PHX_OK) {
        phx_error_t why;
        int rc = phx_cdr_reader_error(&r, &why);
        *version = 0;
        return phx_error_set(err, rc ? rc : PHX_EMARSHAL,
                             "FT_GROUP_VERSION context: %s", why.msg);
    }
    phx_error_clear(err);
    return PHX_OK;
}

/* ------------------------------------------------------------------ */
/* State transfer of the replicated styles                              */
/* ------------------------------------------------------------------ */

bool phx__ft_state_rx_add(phx__ft_state_rx_t *rx, const void *chunk,
                          size_t len, unsigned flags)
{
    if (flags & PHX_GCS_STATE_FIRST) {
        rx->len = 0;
        rx->failed = false;
    }
    if (len && !rx->failed) {
        if (rx->len + len > rx->cap) {
            size_t cap = rx->cap ? rx->cap : 4096;
            while (cap < rx->len + len)
                cap *= 2;
            uint8_t *b = realloc(rx->buf, cap);
            if (b == NULL) {
                rx->failed = true;
                return false;
            }
            rx->buf = b;
            rx->cap = cap;
        }
        memcpy(rx->buf + rx->len, chunk, len);
        rx->len += len;
    }
    return (flags & PHX_GCS_STATE_LAST) && !rx->failed && rx->len > 0;
}

void phx__ft_state_rx_fini(phx__ft_state_rx_t *rx)
{
    free(rx->buf);
    rx->buf = NULL;
    rx->len = rx->cap = 0;
}

/* Layout: a CDR encapsulation header (byte-order octet, padding) and
 * sequence<octet> cache, then the servant's state as raw bytes. */
int phx__ft_state_send(struct phx_gcs_state_writer *w, const uint8_t *cache,
                       size_t clen, const uint8_t *user, size_t ulen)
{
    if (clen > UINT32_MAX)
        return -1;
    uint8_t hdr[8];
    phx_cdr_writer_t hw;
    phx_cdr_writer_init_fixed(&hw, hdr, sizeof hdr);
    phx_cdr_put_octet(&hw, PHX_CDR_NATIVE);
    phx_cdr_put_ulong(&hw, (uint32_t)clen);
    int rc = phx_cdr_writer_status(&hw);
    if (rc == PHX_OK)
        rc = phx_gcs_state_write(w, hdr, hw.len);
    if (rc == PHX_OK && clen)
        rc = phx_gcs_state_write(w, cache, clen);
    if (rc == PHX_OK && ulen)
        rc = phx_gcs_state_write(w, user, ulen);
    return rc == PHX_OK ? 0 : -1;
}

bool phx__ft_state_split(const uint8_t *buf, size_t len,
                         const uint8_t **cache, size_t *clen,
                         const uint8_t **user, size_t *ulen)
{
    phx_cdr_reader_t r;
    if (phx_cdr_reader_init_encap(&r, buf, len) != PHX_OK ||
        phx_cdr_get_octet_seq(&r, cache, clen) != PHX_OK)
        return false;
    *user = buf + r.pos;
    *ulen = len - r.pos;
    return true;
}

bool phx__ft_view_joined_self(struct phx_gcs *gcs,
                              const struct phx_gcs_view *view)
{
    phx_gcs_member_t self;
    if (phx_gcs_self(gcs, &self) != PHX_OK)
        return false;
    for (size_t i = 0; i < view->n_joined; i++)
        if (view->joined[i].id == self.id)
            return true;
    return false;
}
