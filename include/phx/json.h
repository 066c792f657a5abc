/*
 * json.h - IDL values to and from JSON (RFC 8259), driven by TypeCodes.
 *
 * Mapping (values in the C layout of include/phx/typecode.h):
 *   integers, octet     JSON integers, range checked, exact over 64 bits
 *                       (no fraction or exponent accepted)
 *   float, double       numbers; NaN and the infinities as the strings
 *                       "NaN", "Infinity", "-Infinity"
 *   boolean             true / false
 *   char                a one-character string (U+0000..U+00FF, Latin-1)
 *   string              a string (valid UTF-8, no U+0000; bound checked
 *                       in bytes); on output bytes that are not UTF-8
 *                       are written as the Latin-1 code points
 *   enum                the enumerator's name
 *   struct, exception   an object with every member by name, no others
 *   union               {"discriminator": D, "value": V} (what is
 *                       written; "value" is absent when no member is
 *                       selected) or {"<member name>": V} (the member's
 *                       first label, or for the default member a value no
 *                       label uses)
 *   sequence, array     arrays (length checked)
 *   any                 {"type": T, "value": V}: T is a basic type name
 *                       ("long", "unsigned long long", "string", "any",
 *                       "TypeCode", "Object", "null"...), "string<N>",
 *                       "sequence<T>", "sequence<T,N>", or a repository id
 *                       (found through opts->resolve)
 *   TypeCode            a type name as for any
 *   object reference    an "IOR:..." string (or corbaloc: on input, which
 *                       needs opts->orb), null for a nil reference
 *   alias               as the type it names
 *
 * Errors name the path of the offending value and what was expected:
 *   args[1].address.zip: expected an integer 0..65535, got "x"
 */
#ifndef PHX_JSON_H
#define PHX_JSON_H

#include <stddef.h>

#include <phx/error.h>
#include <phx/orb.h>
#include <phx/typecode.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PHX_JSON_MAX_DEPTH 64
#define PHX_JSON_MAX_SIZE ((size_t)64 << 20)

typedef struct phx_json_opts {
    /* Named types for any values and TypeCodes, by repository id (may be
     * NULL: only basic types resolve). */
    const phx_typecode_t *(*resolve)(void *arg, const char *repo_id);
    void *resolve_arg;
    /* ORB that parsed object references belong to (NULL: references
     * cannot be read). */
    phx_orb_t *orb;
    /* 0: PHX_JSON_MAX_DEPTH / PHX_JSON_MAX_SIZE. */
    unsigned max_depth;
    size_t max_size;
} phx_json_opts_t;

/* Parse the JSON text (NUL-terminated) as a value of type tc into
 * storage (tc's C size; overwritten, not freed).  On success the value is
 * owned (release it with phx_value_free); on failure storage is zeroed
 * and err (may be NULL) says where and why.  Returns 0, PHX_EINVAL (not
 * JSON or not of the type), PHX_ELIMIT or PHX_ENOMEM. */
int phx_json_to_value(const phx_typecode_t *tc, const char *text,
                      void *storage, phx_error_t *err);

/* The same with a length, a path prefix for messages ("args[1]"; NULL:
 * "value") and options (NULL: defaults). */
int phx_json_to_value_ex(const phx_typecode_t *tc, const char *text,
                         size_t len, void *storage, const char *path,
                         const phx_json_opts_t *opts, phx_error_t *err);

/* The value as compact JSON in *out (malloc'd, NUL-terminated). */
int phx_value_to_json(const phx_typecode_t *tc, const void *storage,
                      char **out);
int phx_value_to_json_ex(const phx_typecode_t *tc, const void *storage,
                         char **out, phx_error_t *err);

/* What JSON a value of tc takes, as in error messages ("an integer
 * 0..65535", "one of \"red\", \"green\""); writes into buf and returns it. */
const char *phx_json_describe_type(const phx_typecode_t *tc, char *buf,
                                   size_t len);

/* The type name used for any values: "long", "sequence<string>",
 * "IDL:M/S:1.0"... into buf; NULL when tc has no name (arrays). */
const char *phx_json_type_name(const phx_typecode_t *tc, char *buf,
                               size_t len);

/* Check that text is one well-formed JSON value (within the limits). */
int phx_json_validate(const char *text, size_t len, phx_error_t *err);

#ifdef __cplusplus
}
#endif

#endif /* PHX_JSON_H */
