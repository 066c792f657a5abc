/*
 * typecode.h - TypeCodes and the type-table-driven marshaling engine.
 *
 * A phx_typecode_t describes an IDL type.  The IDL compiler emits them as
 * static const data next to the C types it generates; the engine walks
 * them to marshal any value (phx_cdr_put_value / phx_cdr_get_value).
 * TypeCodes can also be built at run time (DII) or decoded off the wire;
 * those live on the heap, are reference counted and are released with
 * phx_typecode_free() (a no-op on static TypeCodes).
 *
 * C mapping marshaled by the engine (what 'value' points to):
 *
 *   short, long, long long       int16_t, int32_t, int64_t
 *   unsigned short/long/l. long  uint16_t, uint32_t, uint64_t
 *   float, double                float, double
 *   boolean                      bool (one octet, 0 or 1)
 *   char, octet                  char, uint8_t
 *   enum                         uint32_t (ordinal)
 *   string                       char * (NULL marshals as "")
 *   sequence                     phx_sequence_t (elements in _buffer)
 *   array                        the elements inline, row-major; a
 *                                multi-dimensional array is an array of
 *                                arrays
 *   struct                       a C struct; each member at the offset in
 *                                its phx_tc_member_t
 *   exception                    like a struct, and marshaled like one:
 *                                the members only (a GIOP user exception
 *                                body is the repository id string, written
 *                                and read by the ORB, then this)
 *   union                        a C struct with the discriminator '_d' at
 *                                offset 0 and the C union '_u' at u_offset;
 *                                each member's offset is measured from the
 *                                start of the struct (offsetof(T, _u.x))
 *   Object reference             void * (the ORB's reference); marshaled
 *                                only through phx_objref_hooks_t
 *   any                          phx_any_t
 *   TypeCode                     const phx_typecode_t *
 *
 * Errors: put refuses values that do not fit their type (a bound exceeded,
 * an enum out of range, a sequence with _length but no _buffer) with
 * PHX_EINVAL.  get refuses data that does not fit the type (bound
 * exceeded, enum out of range, boolean not 0/1, a string or sequence
 * longer than what is left) with PHX_EMARSHAL, lengths above the reader's
 * max_len and nesting deeper than PHX_VALUE_MAX_DEPTH with PHX_ELIMIT, and
 * kinds the engine cannot marshal (fixed, wstring, valuetypes...) with
 * PHX_EUNSUPPORTED.  All errors are sticky on the writer/reader.
 *
 * Static TypeCodes: generated code should initialize every field of a
 * phx_tc_member_t (or use designated initializers) to stay clean under
 * -Wextra, e.g.
 *     static const phx_tc_member_t Point_members[] = {
 *         {"x", &phx_tc_long, offsetof(Point, x), 0, false}, ...};
 *     const phx_typecode_t Point_tc = {.kind = PHX_TK_STRUCT,
 *         .repo_id = "IDL:Point:1.0", .name = "Point",
 *         .members = Point_members, .member_count = 2,
 *         .c_size = sizeof(Point), .c_align = _Alignof(Point)};
 * Unions set .discriminator and .u_offset; a union without a default
 * member simply has no member with is_default.  Fields starting with '_'
 * are private and stay zero in static data.
 */
#ifndef PHX_TYPECODE_H
#define PHX_TYPECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <phx/cdr.h>

#ifdef __cplusplus
extern "C" {
#endif

/* TCKind, numbered as in CORBA 3.0 (module CORBA, enum TCKind). */
typedef enum phx_tckind {
    PHX_TK_NULL = 0,
    PHX_TK_VOID = 1,
    PHX_TK_SHORT = 2,
    PHX_TK_LONG = 3,
    PHX_TK_USHORT = 4,
    PHX_TK_ULONG = 5,
    PHX_TK_FLOAT = 6,
    PHX_TK_DOUBLE = 7,
    PHX_TK_BOOLEAN = 8,
    PHX_TK_CHAR = 9,
    PHX_TK_OCTET = 10,
    PHX_TK_ANY = 11,
    PHX_TK_TYPECODE = 12,
    PHX_TK_PRINCIPAL = 13,
    PHX_TK_OBJREF = 14,
    PHX_TK_STRUCT = 15,
    PHX_TK_UNION = 16,
    PHX_TK_ENUM = 17,
    PHX_TK_STRING = 18,
    PHX_TK_SEQUENCE = 19,
    PHX_TK_ARRAY = 20,
    PHX_TK_ALIAS = 21,
    PHX_TK_EXCEPT = 22,
    PHX_TK_LONGLONG = 23,
    PHX_TK_ULONGLONG = 24,
    PHX_TK_LONGDOUBLE = 25,
    PHX_TK_WCHAR = 26,
    PHX_TK_WSTRING = 27,
    PHX_TK_FIXED = 28,
    PHX_TK_VALUE = 29,
    PHX_TK_VALUE_BOX = 30,
    PHX_TK_NATIVE = 31,
    PHX_TK_ABSTRACT_INTERFACE = 32,
    PHX_TK_LOCAL_INTERFACE = 33,
    PHX_TK_COMPONENT = 34,
    PHX_TK_HOME = 35,
    PHX_TK_EVENT = 36
} phx_tckind_t;

/* Deepest nesting of constructed types/values the engine accepts. */
#define PHX_VALUE_MAX_DEPTH 64

struct phx_typecode;

/* A member of a struct, exception or union. */
typedef struct phx_tc_member {
    const char *name;
    const struct phx_typecode *type;
    size_t offset;     /* byte offset in the C struct (unions: from the
                        * start of the struct, i.e. offsetof(T, _u.m)) */
    int64_t label;     /* unions: the case label (enum ordinal, char code,
                        * 0/1 for boolean) */
    bool is_default;   /* unions: this is the default branch */
} phx_tc_member_t;

typedef struct phx_typecode {
    phx_tckind_t kind;
    const char *repo_id;     /* objref struct union enum alias except */
    const char *name;        /* same kinds */
    const phx_tc_member_t *members;      /* struct, except, union */
    uint32_t member_count;   /* members, or enumerators for an enum */
    const char *const *enumerators;      /* enum */
    const struct phx_typecode *content;  /* sequence/array element, alias
                                          * original type */
    const struct phx_typecode *discriminator; /* union */
    uint32_t length;         /* string/sequence bound (0 = unbounded),
                              * array element count */
    size_t c_size;           /* sizeof the C type (0: derived from kind
                              * where possible) */
    size_t c_align;          /* _Alignof the C type (0: derived) */
    size_t u_offset;         /* union: offsetof(T, _u) */
    uint32_t _refs;          /* 0 for static TypeCodes; heap refcount */
    const struct phx__tc_index *_index; /* heap unions: sorted labels */
} phx_typecode_t;

/* sequence<T> */
typedef struct phx_sequence {
    uint32_t _maximum;
    uint32_t _length;
    void *_buffer;
    bool _release;           /* phx_value_free frees _buffer and its
                              * elements only when set */
} phx_sequence_t;

/* any */
typedef struct phx_any {
    const phx_typecode_t *_type;  /* NULL: tk_null */
    void *_value;                 /* storage of _type's C size */
    bool _release;                /* phx_value_free frees _value (and its
                                   * contents) and releases _type */
} phx_any_t;

/* Constants for the kinds without parameters, unbounded string and
 * CORBA::Object. */
extern const phx_typecode_t phx_tc_null, phx_tc_void, phx_tc_short,
    phx_tc_long, phx_tc_ushort, phx_tc_ulong, phx_tc_float, phx_tc_double,
    phx_tc_boolean, phx_tc_char, phx_tc_octet, phx_tc_any, phx_tc_TypeCode,
    phx_tc_Principal, phx_tc_longlong, phx_tc_ulonglong, phx_tc_longdouble,
    phx_tc_wchar, phx_tc_string, phx_tc_Object;

/* The constant for a kind without parameters; NULL for other kinds. */
const phx_typecode_t *phx_tc_basic(phx_tckind_t kind);

/* ------------------------------------------------------------------ */
/* TypeCodes built at run time                                          */
/* ------------------------------------------------------------------ */
/*
 * Each constructor returns 0 and a new heap TypeCode in *out (release it
 * with phx_typecode_free), or PHX_EINVAL / PHX_ENOMEM and *out = NULL.
 * Strings are copied; TypeCodes passed in are referenced, not consumed.
 * Member offsets, u_offset, c_size and c_align are computed with the usual
 * C layout rules, so values built for them by hand must use the computed
 * offsets.
 */
int phx_tc_new_string(uint32_t bound, const phx_typecode_t **out);
int phx_tc_new_sequence(const phx_typecode_t *elem, uint32_t bound,
                        const phx_typecode_t **out);
/* length >= 1 */
int phx_tc_new_array(const phx_typecode_t *elem, uint32_t length,
                     const phx_typecode_t **out);
int phx_tc_new_alias(const char *repo_id, const char *name,
                     const phx_typecode_t *orig, const phx_typecode_t **out);
int phx_tc_new_objref(const char *repo_id, const char *name,
                      const phx_typecode_t **out);
/* count >= 1 */
int phx_tc_new_enum(const char *repo_id, const char *name,
                    const char *const *enumerators, uint32_t count,
                    const phx_typecode_t **out);
/* kind is PHX_TK_STRUCT or PHX_TK_EXCEPT; members' offsets are ignored. */
int phx_tc_new_struct(phx_tckind_t kind, const char *repo_id,
                      const char *name, const phx_tc_member_t *members,
                      uint32_t count, const phx_typecode_t **out);
/* disc: an integer, char, boolean or enum TypeCode (or an alias of one);
 * at most one member is_default; offsets are ignored. */
int phx_tc_new_union(const char *repo_id, const char *name,
                     const phx_typecode_t *disc,
                     const phx_tc_member_t *members, uint32_t count,
                     const phx_typecode_t **out);

/* Take a reference (heap) and return tc; static TypeCodes are returned
 * as they are. */
const phx_typecode_t *phx_typecode_ref(const phx_typecode_t *tc);
/* Drop a reference; frees a heap TypeCode on the last one.  NULL and
 * static TypeCodes are ignored. */
void phx_typecode_free(const phx_typecode_t *tc);

/* ------------------------------------------------------------------ */
/* Queries                                                              */
/* ------------------------------------------------------------------ */

/* Same type: kinds, repository ids, names, members, labels, bounds all
 * equal (CORBA TypeCode::equal).  NULL is treated as tk_null. */
bool phx_typecode_equal(const phx_typecode_t *a, const phx_typecode_t *b);

/* tc with aliases stripped (NULL for an alias chain deeper than
 * PHX_VALUE_MAX_DEPTH). */
const phx_typecode_t *phx_typecode_unalias(const phx_typecode_t *tc);

/* Size and alignment of the C type, derived from the kind when the
 * TypeCode leaves them 0; 0 when unknown (a struct or union without
 * c_size). */
size_t phx_typecode_c_size(const phx_typecode_t *tc);
size_t phx_typecode_c_align(const phx_typecode_t *tc);

/* ------------------------------------------------------------------ */
/* CDR encoding of TypeCodes (CORBA 3.0 15.3.5.1)                        */
/* ------------------------------------------------------------------ */

/* Simple kinds are the TCKind alone; string bounds follow inline; complex
 * kinds carry their parameters in an encapsulation.  Indirections are never
 * written; a recursive TypeCode is refused with PHX_ELIMIT. */
int phx_cdr_put_typecode(phx_cdr_writer_t *w, const phx_typecode_t *tc);

/* Decode a TypeCode: *tc is a static constant or a new heap TypeCode
 * (release with phx_typecode_free), NULL on error.  An indirection
 * (0xffffffff) to a complex TypeCode decoded earlier in the same
 * top-level TypeCode (what other ORBs write for a type used twice) shares
 * it; one to a TypeCode still being decoded (a recursive TypeCode) or
 * to anything else is refused with PHX_EUNSUPPORTED, and a TypeCode
 * that sharing would expand beyond 2^20 TypeCodes with PHX_ELIMIT. */
int phx_cdr_get_typecode(phx_cdr_reader_t *r, const phx_typecode_t **tc);

/* ------------------------------------------------------------------ */
/* Values                                                               */
/* ------------------------------------------------------------------ */

/* Marshal the value at 'value' (C mapping above) as type tc. */
int phx_cdr_put_value(phx_cdr_writer_t *w, const phx_typecode_t *tc,
                      const void *value);

/* Unmarshal into 'value' (storage of tc's C size; its old contents are
 * overwritten, not freed).  Strings, sequence buffers, any values and
 * TypeCodes are malloc'd; release them with phx_value_free.  On error
 * everything allocated is freed and the storage is left zeroed. */
int phx_cdr_get_value(phx_cdr_reader_t *r, const phx_typecode_t *tc,
                      void *value);

/* Free what a value owns (not its storage) and zero the storage. */
void phx_value_free(const phx_typecode_t *tc, void *value);

/* Deep copy of src into dst (storage of tc's C size); on error dst is left
 * zeroed.  Object references are copied through the hooks' copy function
 * (PHX_EUNSUPPORTED without one). */
int phx_value_copy(const phx_typecode_t *tc, void *dst, const void *src);

/* Deep comparison (floats compare bit for bit). */
bool phx_value_equal(const phx_typecode_t *tc, const void *a,
                     const void *b);

/*
 * Object references.  The engine knows nothing of IORs: the ORB registers
 * these hooks once at start-up (before any marshaling, from one thread).
 * Without them objrefs are refused with PHX_EUNSUPPORTED.  'ref' is the
 * value stored in the C mapping (a void *); NULL is a nil reference.
 */
typedef struct phx_objref_hooks {
    int (*put)(phx_cdr_writer_t *w, const phx_typecode_t *tc,
               const void *ref, void *arg);
    int (*get)(phx_cdr_reader_t *r, const phx_typecode_t *tc, void **ref,
               void *arg);
    void (*release)(void *ref, void *arg);        /* may be NULL */
    int (*copy)(const void *ref, void **out, void *arg); /* may be NULL */
    bool (*equal)(const void *a, const void *b, void *arg); /* NULL: == */
    void *arg;
} phx_objref_hooks_t;

/* Register (copies *hooks) or clear (NULL) the object reference hooks. */
void phx_value_set_objref_hooks(const phx_objref_hooks_t *hooks);

/* ------------------------------------------------------------------ */
/* Internal: shared by orb/cdr/typecode.c and orb/cdr/value.c            */
/* ------------------------------------------------------------------ */

/* Discriminator kinds a union may switch on. */
bool phx__tc_is_disc_kind(phx_tckind_t kind);
/* A label value normalized to the discriminator kind's range. */
int64_t phx__tc_norm_label(phx_tckind_t disc_kind, int64_t label);
int phx__tc_put_label(phx_cdr_writer_t *w, const phx_typecode_t *disc,
                      int64_t label);
int phx__tc_get_label(phx_cdr_reader_t *r, const phx_typecode_t *disc,
                      int64_t *label);
/* The union member selected by discriminator value d (normalized): the
 * case with that label, else the default, else NULL. */
const phx_tc_member_t *phx__tc_branch(const phx_typecode_t *tc,
                                      phx_tckind_t disc_kind, int64_t d);
/* Fewest octets a value of tc can occupy on the wire (alignment ignored;
 * saturates at SIZE_MAX). */
size_t phx__tc_min_wire_size(const phx_typecode_t *tc);
/* Size of a kind whose C value is its CDR encoding and owns nothing
 * (numbers, boolean, char, octet, enum); 0 for every other kind. */
size_t phx__tc_prim_size(phx_tckind_t kind);
int phx__put_typecode(phx_cdr_writer_t *w, const phx_typecode_t *tc,
                      int depth);
int phx__get_typecode(phx_cdr_reader_t *r, const phx_typecode_t **tc,
                      int depth);

#ifdef __cplusplus
}
#endif

#endif /* PHX_TYPECODE_H */
