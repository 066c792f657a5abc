/*
 * xdr.h - XDR (RFC 4506) encoding of values described by TypeCodes.
 *
 * The value layout is the C mapping of include/phx/typecode.h, so a value
 * decoded here can be passed to phx_op_invoke and freed with
 * phx_value_free.  The encoding is the one rpcgen uses for the types the
 * ONC RPC mapping of phx-idl produces (docs/onc-rpc-mapping.md):
 *
 *   long, unsigned long, enum         4 octets, big-endian
 *   short, unsigned short, char,      4 octets (XDR has no smaller
 *   octet (alone)                     integer); decode refuses values
 *                                     that do not fit the C type
 *   boolean                           4 octets, 0 or 1 (else refused)
 *   long long, unsigned long long     8 octets (hyper)
 *   float, double                     IEEE 754, big-endian
 *   string<n>                         length, octets, zero padding to 4
 *   octet[n] / sequence<octet,n>      opaque[n] / opaque<n>, padded to 4
 *   T[n]                              n elements (fixed array)
 *   sequence<T,n>                     count then elements (variable
 *                                     array); sequence<T,1> is exactly
 *                                     XDR optional data (bool + value)
 *   struct                            members in order
 *   union                             discriminant (4 octets), then the
 *                                     selected arm; a discriminant no
 *                                     label (and no default) selects is
 *                                     a void arm
 *   alias                             its original type
 *
 * Any, TypeCode, object references and the other kinds are refused with
 * PHX_EUNSUPPORTED.
 *
 * Decoding is strict: padding must be zero, lengths must respect their
 * bounds, the reader's max_len and what is left of the input, booleans
 * must be 0 or 1, enums in range, nesting at most PHX_XDR_MAX_DEPTH.
 * Errors (PHX_EMARSHAL, PHX_ELIMIT, PHX_EUNSUPPORTED, PHX_ENOMEM) are
 * sticky on the reader/writer; a failed decode frees what it allocated
 * and leaves the storage zeroed.  Garbage never crashes the decoder.
 */
#ifndef PHX_XDR_H
#define PHX_XDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <phx/typecode.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PHX_XDR_MAX_DEPTH PHX_VALUE_MAX_DEPTH
/* Default bound on any single string / opaque / array length decoded. */
#define PHX_XDR_DEFAULT_MAX_LEN (16u << 20)

typedef struct phx_xdr_writer {
    uint8_t *buf;       /* malloc'd; take it with phx_xdr_writer_take */
    size_t len, cap;
    size_t max_size;    /* 0: no limit; else PHX_ELIMIT beyond */
    int status;
} phx_xdr_writer_t;

typedef struct phx_xdr_reader {
    const uint8_t *data;
    size_t len, pos;
    uint32_t max_len;   /* largest length accepted for one string,
                         * opaque or array (default PHX_XDR_DEFAULT_MAX_LEN) */
    int status;
} phx_xdr_reader_t;

void phx_xdr_writer_init(phx_xdr_writer_t *w);
void phx_xdr_writer_fini(phx_xdr_writer_t *w);
/* Hand the buffer over (the caller frees it); the writer is reset. */
uint8_t *phx_xdr_writer_take(phx_xdr_writer_t *w, size_t *len);

void phx_xdr_reader_init(phx_xdr_reader_t *r, const void *data, size_t len);
size_t phx_xdr_reader_remaining(const phx_xdr_reader_t *r);

/* Primitives. */
int phx_xdr_put_u32(phx_xdr_writer_t *w, uint32_t v);
int phx_xdr_put_u64(phx_xdr_writer_t *w, uint64_t v);
/* Length-prefixed opaque (padded). */
int phx_xdr_put_opaque(phx_xdr_writer_t *w, const void *p, uint32_t n);
/* Fixed-length opaque (padded, no length). */
int phx_xdr_put_fixed(phx_xdr_writer_t *w, const void *p, uint32_t n);

int phx_xdr_get_u32(phx_xdr_reader_t *r, uint32_t *v);
int phx_xdr_get_u64(phx_xdr_reader_t *r, uint64_t *v);
/* Variable opaque of at most bound octets (0: max_len): *p points into
 * the input (not copied). */
int phx_xdr_get_opaque(phx_xdr_reader_t *r, uint32_t bound, const uint8_t **p,
                       uint32_t *n);
int phx_xdr_get_fixed(phx_xdr_reader_t *r, uint32_t n, const uint8_t **p);

/* Values. */
int phx_xdr_put_value(phx_xdr_writer_t *w, const phx_typecode_t *tc,
                      const void *value);
int phx_xdr_get_value(phx_xdr_reader_t *r, const phx_typecode_t *tc,
                      void *value);

#ifdef __cplusplus
}
#endif

#endif /* PHX_XDR_H */
