/*
 * dii.h - dynamic invocation (DII), dynamic skeletons (DSI) and interface
 * repositories loaded from .phxif files (phx-idl --describe).
 *
 * Values travel as phx_any_t (include/phx/typecode.h): one any per
 * parameter of the operation description, in declaration order.
 *
 * DII (client)
 *   in     args[i] holds the value to send (its _type, when set, must be
 *          equal to the parameter's TypeCode; it is only read);
 *   inout  args[i] holds the value to send and, on success, receives the
 *          value returned (the old contents are freed);
 *   out    args[i] is overwritten: it is released first (phx_value_free
 *          on an any: pass a zeroed one) and on success holds a new owned
 *          value of the parameter's type (_release true).
 *   result receives an owned any of op->result (a void result gives a
 *          zeroed any, tk_null); may be NULL to drop the result.
 *   Release the anys with phx_value_free(&phx_tc_any, &a) (or
 *   phx_dii_args_free).  Errors and exceptions are reported as with
 *   phx_op_invoke: 0, PHX_ESYSEX or PHX_EUSEREX; a user exception listed
 *   in op->raises is decoded with its TypeCode into env->user_value.
 *   A mistyped or missing argument raises BAD_PARAM, COMPLETED_NO, before
 *   anything is sent.
 *
 * DSI (server)
 *   phx_dsi_servant_t is a servant whose every operation goes to one
 *   handler.  The engine decodes the in and inout values into anys
 *   (owned by the engine, _release false: the handler must not release
 *   them; in-mode strings point into the request), gives out and result
 *   anys zeroed storage of the right type, calls the handler, encodes
 *   what it left in the storage and frees everything afterwards.  The
 *   handler writes values into args[i]._value / result->_value (it must
 *   not replace those pointers), may change inout values in place
 *   (freeing what it replaces), and raises exceptions through env as a
 *   generated implementation does (phx_op_raise, phx_env_system).
 *   _is_a answers for the interface and all its ancestors.
 */
#ifndef PHX_DII_H
#define PHX_DII_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <phx/opdesc.h>
#include <phx/orb.h>
#include <phx/typecode.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* Anys                                                                 */
/* ------------------------------------------------------------------ */

/* Make *a an owned, zeroed value of type tc (_type referenced, _value
 * calloc'd, _release true).  *a is overwritten, not freed.  A void or
 * null tc gives a zeroed any.  0 or PHX_ENOMEM / PHX_EINVAL. */
int phx_dii_any_alloc(phx_any_t *a, const phx_typecode_t *tc);

/* phx_value_free(&phx_tc_any, ...) on count anys (NULL-safe). */
void phx_dii_args_free(phx_any_t *args, size_t count);

/* Anys for every parameter of op: in/inout ones zeroed and owned, ready
 * to be filled, out ones zeroed.  *out is calloc'd (free the values with
 * phx_dii_args_free, then free()). */
int phx_dii_args_new(const phx_opdesc_t *op, phx_any_t **out);

/* ------------------------------------------------------------------ */
/* DII                                                                  */
/* ------------------------------------------------------------------ */

int phx_dii_invoke(phx_object_t *obj, const phx_opdesc_t *op,
                   phx_any_t *args, phx_any_t *result, phx_env_t *env);

/* Deferred synchronous form: send now (in/inout anys are read and may be
 * reused at once); phx_dii_recv consumes *req whatever the outcome. */
int phx_dii_send(phx_object_t *obj, const phx_opdesc_t *op,
                 phx_any_t *args, phx_request_t **req, phx_env_t *env);
int phx_dii_recv(phx_request_t *req, const phx_opdesc_t *op,
                 phx_any_t *args, phx_any_t *result, phx_env_t *env);

/* ------------------------------------------------------------------ */
/* DSI                                                                  */
/* ------------------------------------------------------------------ */

typedef int (*phx_dsi_handler_t)(void *self, const phx_opdesc_t *op,
                                 phx_any_t *args, phx_any_t *result,
                                 phx_env_t *env);

typedef struct phx_dsi_servant {
    phx_servant_t base;          /* what phx_orb_activate takes */
    phx_interface_t iface;       /* repo id, every ancestor, no ops */
    const phx_ifdesc_t *desc;
    phx_dsi_handler_t handler;
    void *self;
    const char **_bases;         /* private */
} phx_dsi_servant_t;

/* Set up sv for iface (which must outlive it).  0 or PHX_ENOMEM /
 * PHX_EINVAL.  Call phx_dsi_servant_fini once the adapter no longer uses
 * the servant (after deactivation or ORB destruction). */
int phx_dsi_servant_init(phx_dsi_servant_t *sv, const phx_ifdesc_t *iface,
                         phx_dsi_handler_t handler, void *self);
void phx_dsi_servant_fini(phx_dsi_servant_t *sv);

/* ------------------------------------------------------------------ */
/* Interface repositories (.phxif files)                                */
/* ------------------------------------------------------------------ */
/*
 * A .phxif file (written by phx-idl --describe) is a CDR encapsulation:
 *   octet   byte order (the encapsulation flag)
 *   octet[4] magic "PHXI", ulong version (1)
 *   ulong   type count, then per named type: string repo id,
 *           TypeCode
 *   ulong   interface count, then per interface:
 *     string repo id, string name
 *     ulong base count, string base repo ids (defined earlier in the file)
 *     ulong operation count, per operation:
 *       string name, boolean oneway, TypeCode result,
 *       ulong param count, per param: string name, ulong mode, TypeCode
 *       ulong raise count, per raise: TypeCode (an exception)
 *     ulong attribute count, per attribute:
 *       string name, boolean readonly, TypeCode type
 *       (their _get_/_set_ operations are among the operations)
 */

#define PHX_IFREPO_MAGIC "PHXI"
#define PHX_IFREPO_VERSION 1u

typedef struct phx_ifrepo phx_ifrepo_t;

/* Load from a file / from memory.  On failure *out is NULL, err (may be
 * NULL) says why, and PHX_EMARSHAL (malformed), PHX_EUNSUPPORTED (other
 * version), PHX_EIO (file) or PHX_ENOMEM is returned. */
int phx_ifrepo_load(const char *path, phx_ifrepo_t **out, phx_error_t *err);
int phx_ifrepo_load_buffer(const void *buf, size_t len, phx_ifrepo_t **out,
                           phx_error_t *err);
void phx_ifrepo_free(phx_ifrepo_t *repo); /* NULL-safe */

size_t phx_ifrepo_interface_count(const phx_ifrepo_t *repo);
const phx_ifdesc_t *phx_ifrepo_interface(const phx_ifrepo_t *repo,
                                         size_t i);
/* By repository id, or by name: the simple name ("Echo") or the scoped
 * one ("phalanx::Echo"). */
const phx_ifdesc_t *phx_ifrepo_find(const phx_ifrepo_t *repo,
                                    const char *id_or_name);
/* A named type (struct, union, enum, alias, exception, interface) by
 * repository id or name. */
const phx_typecode_t *phx_ifrepo_find_type(const phx_ifrepo_t *repo,
                                           const char *id_or_name);
size_t phx_ifrepo_type_count(const phx_ifrepo_t *repo);
const phx_typecode_t *phx_ifrepo_type(const phx_ifrepo_t *repo, size_t i);

#ifdef __cplusplus
}
#endif

#endif /* PHX_DII_H */
