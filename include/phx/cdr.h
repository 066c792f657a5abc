/*
 * cdr.h - Common Data Representation (CORBA 3.0 chapter 15.3) encoder and
 * decoder.
 *
 * One writer and one reader type.  Both keep a sticky error: after the
 * first failure every further call is a no-op that returns the same code,
 * so marshaling code may issue a run of calls and check once at the end
 * with phx_cdr_writer_status() / phx_cdr_reader_status().
 *
 * Alignment: every primitive of size n is aligned on n relative to the
 * writer's/reader's "base" offset.  For a GIOP 1.2 message the base is the
 * first byte of the 12-byte GIOP header; for an encapsulation it is the
 * first byte of the encapsulation (its byte-order octet).
 *
 * Byte order: writers always write the host's native order.  Readers take
 * the sender's order (from the GIOP flags or the encapsulation's first
 * octet) and swap when it differs from the host's.
 *
 * Bounds: every read is checked against the end of the buffer in one place.
 * Sequence and string lengths are checked against what is left in the
 * buffer *before* anything is allocated, and against the reader's
 * configured maximum (phx_cdr_reader_set_max_len).
 */
#ifndef PHX_CDR_H
#define PHX_CDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <phx/error.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Byte-order flag values as they appear on the wire. */
#define PHX_CDR_BIG_ENDIAN 0
#define PHX_CDR_LITTLE_ENDIAN 1
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define PHX_CDR_NATIVE PHX_CDR_LITTLE_ENDIAN
#else
#define PHX_CDR_NATIVE PHX_CDR_BIG_ENDIAN
#endif

/* ------------------------------------------------------------------ */
/* Writer                                                               */
/* ------------------------------------------------------------------ */

typedef struct phx_cdr_writer {
    uint8_t *buf;      /* storage; owned unless 'fixed' */
    size_t len;        /* bytes written so far */
    size_t cap;        /* capacity of buf */
    size_t base;       /* offset alignment is computed from */
    size_t max;        /* refuse to grow beyond this (PHX_ELIMIT) */
    int err;           /* sticky status, 0 = OK */
    bool fixed;        /* buf is caller storage and may not grow */
    size_t hint;       /* first allocation size of a growable writer */
} phx_cdr_writer_t;

/* Default growth limit of a writer: 256 MiB. */
#define PHX_CDR_DEFAULT_MAX ((size_t)256 << 20)

/* Growable writer with an initial capacity hint (0 = default).  Never
 * fails: allocation happens lazily and a failure becomes the sticky
 * PHX_ENOMEM. */
void phx_cdr_writer_init(phx_cdr_writer_t *w, size_t capacity_hint);

/* Writer over caller storage that never grows; overflowing it sets
 * PHX_ELIMIT. */
void phx_cdr_writer_init_fixed(phx_cdr_writer_t *w, void *buf, size_t cap);

/* Free the storage of a growable writer.  Safe on a zeroed or already
 * finished writer. */
void phx_cdr_writer_fini(phx_cdr_writer_t *w);

/* Forget the contents (keeps the storage); clears the sticky error and
 * sets base to 0. */
void phx_cdr_writer_reset(phx_cdr_writer_t *w);

/* Take ownership of the buffer of a growable writer: returns it (caller
 * frees with free()) and its length, and leaves the writer empty.
 * Returns NULL when the writer is in error or empty. */
uint8_t *phx_cdr_writer_steal(phx_cdr_writer_t *w, size_t *len);

static inline int phx_cdr_writer_status(const phx_cdr_writer_t *w)
{
    return w->err;
}
static inline const uint8_t *phx_cdr_writer_data(const phx_cdr_writer_t *w)
{
    return w->buf;
}
static inline size_t phx_cdr_writer_len(const phx_cdr_writer_t *w)
{
    return w->len;
}

/* Set the sticky error if none is set yet; returns the sticky code. */
int phx_cdr_writer_fail(phx_cdr_writer_t *w, int code);

/* Pad with zero octets so that len - base is a multiple of n (1,2,4,8). */
int phx_cdr_align(phx_cdr_writer_t *w, size_t n);

/* Reserve n raw bytes (no alignment) and return a pointer to them, or NULL
 * on error.  The pointer is valid until the next write. */
uint8_t *phx_cdr_reserve(phx_cdr_writer_t *w, size_t n);

int phx_cdr_put_octet(phx_cdr_writer_t *w, uint8_t v);
int phx_cdr_put_boolean(phx_cdr_writer_t *w, bool v);
int phx_cdr_put_char(phx_cdr_writer_t *w, char v);
int phx_cdr_put_short(phx_cdr_writer_t *w, int16_t v);
int phx_cdr_put_ushort(phx_cdr_writer_t *w, uint16_t v);
int phx_cdr_put_long(phx_cdr_writer_t *w, int32_t v);
int phx_cdr_put_ulong(phx_cdr_writer_t *w, uint32_t v);
int phx_cdr_put_longlong(phx_cdr_writer_t *w, int64_t v);
int phx_cdr_put_ulonglong(phx_cdr_writer_t *w, uint64_t v);
int phx_cdr_put_float(phx_cdr_writer_t *w, float v);
int phx_cdr_put_double(phx_cdr_writer_t *w, double v);

/* Raw octets, no alignment, no length. */
int phx_cdr_put_raw(phx_cdr_writer_t *w, const void *p, size_t n);

/* string: ulong length including the NUL, the characters, the NUL.
 * NULL is written as the empty string. */
int phx_cdr_put_string(phx_cdr_writer_t *w, const char *s);
/* Same, for a string of known length (s need not be NUL-terminated). */
int phx_cdr_put_string_n(phx_cdr_writer_t *w, const char *s, size_t n);

/* sequence<octet>: ulong length then the bytes, copied with one memcpy. */
int phx_cdr_put_octet_seq(phx_cdr_writer_t *w, const void *p, size_t n);

/* Arrays of primitives (no length prefix), aligned once, one memcpy when
 * elem_size is 1 or the byte order is native (always, for a writer).
 * elem_size must be 1, 2, 4 or 8.  An empty array writes nothing, not even
 * padding (the same holds for phx_cdr_get_array). */
int phx_cdr_put_array(phx_cdr_writer_t *w, const void *p, size_t count,
                      size_t elem_size);

/* Encapsulation: begin writes a ulong length placeholder and the
 * byte-order octet and moves the alignment base to the byte-order octet;
 * end patches the length and restores the base.  They nest. */
typedef struct phx_cdr_mark {
    size_t len_pos;
    size_t old_base;
} phx_cdr_mark_t;

int phx_cdr_encap_begin(phx_cdr_writer_t *w, phx_cdr_mark_t *mark);
int phx_cdr_encap_end(phx_cdr_writer_t *w, const phx_cdr_mark_t *mark);

/* Overwrite a ulong previously written at offset pos (native order). */
int phx_cdr_patch_ulong(phx_cdr_writer_t *w, size_t pos, uint32_t v);

/* ------------------------------------------------------------------ */
/* Reader                                                               */
/* ------------------------------------------------------------------ */

typedef struct phx_cdr_reader {
    const uint8_t *buf;  /* not owned */
    size_t len;          /* end of readable data */
    size_t pos;          /* next byte to read */
    size_t base;         /* offset alignment is computed from */
    size_t max_len;      /* largest string/sequence length accepted */
    int err;             /* sticky status, 0 = OK */
    bool swap;           /* sender's byte order differs from the host's */
    char errmsg[96];     /* what the first error was, for diagnostics */
} phx_cdr_reader_t;

/* Reader over buf[0..len) in the given wire byte order
 * (PHX_CDR_BIG_ENDIAN / PHX_CDR_LITTLE_ENDIAN), base 0.  max_len defaults
 * to PHX_CDR_DEFAULT_MAX. */
void phx_cdr_reader_init(phx_cdr_reader_t *r, const void *buf, size_t len,
                         int byte_order);

static inline int phx_cdr_reader_status(const phx_cdr_reader_t *r)
{
    return r->err;
}
static inline size_t phx_cdr_reader_remaining(const phx_cdr_reader_t *r)
{
    return r->err ? 0 : r->len - r->pos;
}
static inline void phx_cdr_reader_set_max_len(phx_cdr_reader_t *r, size_t m)
{
    r->max_len = m;
}

/* Set the sticky error (first one wins) with a short description; returns
 * the sticky code. */
int phx_cdr_reader_fail(phx_cdr_reader_t *r, int code, const char *what);

/* Copy the reader's error into err (code and "CDR: <what> at offset N"). */
int phx_cdr_reader_error(const phx_cdr_reader_t *r, phx_error_t *err);

int phx_cdr_skip_align(phx_cdr_reader_t *r, size_t n);

/* Borrow n raw bytes (no alignment); NULL on error. */
const uint8_t *phx_cdr_get_raw(phx_cdr_reader_t *r, size_t n);

/* Out-parameters are set to 0 / false / "" on error. */
int phx_cdr_get_octet(phx_cdr_reader_t *r, uint8_t *v);
int phx_cdr_get_boolean(phx_cdr_reader_t *r, bool *v); /* only 0 or 1 */
int phx_cdr_get_char(phx_cdr_reader_t *r, char *v);
int phx_cdr_get_short(phx_cdr_reader_t *r, int16_t *v);
int phx_cdr_get_ushort(phx_cdr_reader_t *r, uint16_t *v);
int phx_cdr_get_long(phx_cdr_reader_t *r, int32_t *v);
int phx_cdr_get_ulong(phx_cdr_reader_t *r, uint32_t *v);
int phx_cdr_get_longlong(phx_cdr_reader_t *r, int64_t *v);
int phx_cdr_get_ulonglong(phx_cdr_reader_t *r, uint64_t *v);
int phx_cdr_get_float(phx_cdr_reader_t *r, float *v);
int phx_cdr_get_double(phx_cdr_reader_t *r, double *v);

/* Borrow a string: *s points into the buffer (valid while the buffer is),
 * *n is its length without the NUL.  The length must be >= 1, fit in the
 * buffer and the last octet must be NUL; an embedded NUL is refused
 * (PHX_EMARSHAL).  More than max_len characters (NUL not counted) is
 * PHX_ELIMIT. */
int phx_cdr_get_string(phx_cdr_reader_t *r, const char **s, size_t *n);
/* Same, returning a malloc'd copy the caller frees (NULL on error). */
int phx_cdr_get_string_dup(phx_cdr_reader_t *r, char **s);

/* Borrow a sequence<octet>: pointer into the buffer, no copy. */
int phx_cdr_get_octet_seq(phx_cdr_reader_t *r, const uint8_t **p, size_t *n);

/* Read a sequence length and check that count * min_elem_size octets are
 * still available (PHX_EMARSHAL otherwise) and count <= max_len
 * (PHX_ELIMIT otherwise) before the caller allocates. */
int phx_cdr_get_seq_len(phx_cdr_reader_t *r, size_t min_elem_size,
                        uint32_t *count);

/* Arrays of primitives into p (count elements of elem_size 1,2,4,8),
 * swapping as needed. */
int phx_cdr_get_array(phx_cdr_reader_t *r, void *p, size_t count,
                      size_t elem_size);

/* Open an encapsulation (a sequence<octet> whose first octet is the byte
 * order): sub reads its contents with base at the byte-order octet.  The
 * outer reader is advanced past it. */
int phx_cdr_get_encap(phx_cdr_reader_t *r, phx_cdr_reader_t *sub);

/* Reader over an encapsulation held in a plain buffer (e.g. a profile's
 * profile_data): checks and consumes the byte-order octet. */
int phx_cdr_reader_init_encap(phx_cdr_reader_t *r, const void *buf,
                              size_t len);

#ifdef __cplusplus
}
#endif

#endif /* PHX_CDR_H */
