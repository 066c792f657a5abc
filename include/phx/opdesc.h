/*
 * opdesc.h - operation and interface descriptions, and the generic
 * invocation engine that generated stubs and skeletons call.
 *
 * phx-idl emits one phx_opdesc_t per operation (attributes become the
 * operations "_get_<name>" and "_set_<name>") and one phx_ifdesc_t per
 * interface, as static const data.  They say everything the wire needs:
 * the operation name, its parameters with their modes and TypeCodes, the
 * result type and the user exceptions it may raise.  The same tables
 * serve dynamic invocation, a libffi bridge and the fault-tolerance layer.
 *
 * Argument vectors
 *   Every engine function takes 'args', an array of op->param_count
 *   pointers, one per parameter in declaration order, each pointing at
 *   the storage of that parameter's C value (the C mapping of
 *   include/phx/typecode.h):
 *     in     the value to send (read only, even though the pointer is not
 *            const: one vector type serves every mode);
 *     inout  the value to send, replaced by the value received;
 *     out    storage the value received is written to.
 *   and 'result', storage for the return value (NULL for a void result).
 *   A string parameter's storage is a char *, so its slot holds a char **.
 *
 * Memory (the CORBA rules, client side)
 *   out and result values are written into the caller's storage; what
 *   they own (strings, sequence buffers, any contents) is malloc'd and the
 *   caller releases it with phx_value_free(type, storage).  An inout value
 *   must be owned the same way: on success the engine frees the old value
 *   with phx_value_free before storing the new one (a sequence whose
 *   _release is false keeps its buffer).  On failure out and result
 *   storage is left zeroed and inout values are left as they were.
 *
 * Memory (server side)
 *   phx_op_decode_args zeroes every slot and the result, then decodes the
 *   in and inout values (owned by the skeleton; in-mode strings and
 *   sequences of octets are not copied but point into the request, which
 *   outlives the skeleton; such a sequence has _release false).  The
 *   implementation reads in values, may change inout values (freeing what
 *   it replaces), and fills out values and the result with owned data.
 *   After phx_op_encode_results the skeleton calls phx_op_free_args,
 *   which frees everything every slot and the result own, whatever
 *   happened.
 *
 * Object references (interface types, Object) travel as IORs: the
 * engine registers the value engine's object reference hooks
 * (phx_value_set_objref_hooks) on its first use, and a received IOR
 * becomes a reference of the ORB of the last call the thread made or
 * served through the engine.  A value holds one reference count.
 *
 * Thread safety: descriptions are immutable; the engine keeps no state
 * but that thread's ORB.
 */
#ifndef PHX_OPDESC_H
#define PHX_OPDESC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <phx/except.h>
#include <phx/orb.h>
#include <phx/typecode.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Parameter modes, numbered as CORBA::ParameterMode. */
typedef enum phx_param_mode {
    PHX_PARAM_IN = 0,
    PHX_PARAM_OUT = 1,
    PHX_PARAM_INOUT = 2
} phx_param_mode_t;

typedef struct phx_paramdesc {
    const char *name;
    phx_param_mode_t mode;
    const phx_typecode_t *type;
} phx_paramdesc_t;

typedef struct phx_opdesc {
    const char *name;                    /* as sent in the Request */
    const phx_typecode_t *result;        /* &phx_tc_void when none */
    const phx_paramdesc_t *params;
    uint32_t param_count;
    const phx_typecode_t *const *raises; /* user exceptions (TypeCodes) */
    uint32_t raise_count;
    bool oneway;
} phx_opdesc_t;

typedef struct phx_attrdesc {
    const char *name;
    const phx_typecode_t *type;
    bool readonly;
    const phx_opdesc_t *get;             /* "_get_<name>" */
    const phx_opdesc_t *set;             /* "_set_<name>"; NULL if readonly */
} phx_attrdesc_t;

typedef struct phx_ifdesc {
    const char *repo_id;
    const char *name;
    const struct phx_ifdesc *const *bases;  /* direct bases, in order */
    uint32_t base_count;
    /* The interface's own operations, attribute accessors included (not
     * the inherited ones: see phx_ifdesc_find_op). */
    const phx_opdesc_t *const *ops;
    uint32_t op_count;
    const phx_attrdesc_t *attrs;
    uint32_t attr_count;
} phx_ifdesc_t;

/* The operation called name on ifd or, depth first in declaration order,
 * on one of its bases; NULL if none. */
const phx_opdesc_t *phx_ifdesc_find_op(const phx_ifdesc_t *ifd,
                                       const char *name);

/* Whether ifd is repo_id or inherits from it (every interface is
 * IDL:omg.org/CORBA/Object:1.0). */
bool phx_ifdesc_is_a(const phx_ifdesc_t *ifd, const char *repo_id);

/* ------------------------------------------------------------------ */
/* Client side                                                          */
/* ------------------------------------------------------------------ */
/*
 * All return 0, PHX_ESYSEX or PHX_EUSEREX, with env describing the
 * exception (a user exception listed in op->raises is decoded into
 * env->user_value).  A value that does not fit its type (a bound
 * exceeded, an enum out of range) raises BAD_PARAM, COMPLETED_NO, before
 * anything is sent.
 */

/* Marshal, send, wait and unmarshal: the whole call.  A oneway operation
 * returns once the request is sent. */
int phx_op_invoke(phx_object_t *obj, const phx_opdesc_t *op,
                  void *const *args, void *result, phx_env_t *env);

/* Deferred synchronous form: send now (only the in and inout slots of
 * args are read; they may be reused at once), and collect later with
 * phx_op_recv, which consumes *req whatever the outcome (only the inout
 * and out slots are used there).  On failure *req is NULL. */
int phx_op_send(phx_object_t *obj, const phx_opdesc_t *op,
                void *const *args, phx_request_t **req, phx_env_t *env);
int phx_op_recv(phx_request_t *req, const phx_opdesc_t *op,
                void *const *args, void *result, phx_env_t *env);

/* The pieces generated stubs use when they marshal arguments of basic
 * types themselves (the fast path for operations that have nothing else):
 * phx_op_request: checks obj, then a request for op with its exceptions
 * set (*req is NULL on failure; phx_request_destroy(NULL) is fine).
 * phx_op_wait: phx_request_wait, raising BAD_INV_ORDER for a NULL req.
 * phx_op_check_reply: MARSHAL, COMPLETED_YES, if the reply reader r is
 * in error, 0 otherwise. */
int phx_op_request(phx_object_t *obj, const phx_opdesc_t *op,
                   phx_request_t **req, phx_env_t *env);
int phx_op_wait(phx_request_t *req, const phx_opdesc_t *op, phx_env_t *env);
int phx_op_check_reply(phx_cdr_reader_t *r, const phx_opdesc_t *op,
                       phx_env_t *env);

/* The marshaling steps alone, for callers that build requests
 * themselves (DII, gateways, replay).  put: the in and inout values, in
 * order.  get: the result, then the inout and out values; a NULL slot or
 * result decodes and drops its value.  Both return the stream's status;
 * get leaves every slot untouched and the result zeroed on error. */
int phx_op_put_args(phx_cdr_writer_t *w, const phx_opdesc_t *op,
                    void *const *args);
int phx_op_get_results(phx_cdr_reader_t *r, const phx_opdesc_t *op,
                       void *const *args, void *result);

/* ------------------------------------------------------------------ */
/* Server side (what generated skeletons call)                          */
/* ------------------------------------------------------------------ */

/* Zero every slot and the result, then decode the in and inout values.
 * A malformed body raises MARSHAL, COMPLETED_NO, in env. */
int phx_op_decode_args(phx_server_request_t *sr, const phx_opdesc_t *op,
                       void *const *args, void *result, phx_env_t *env);

/* Encode the result, then the inout and out values (nothing for a oneway
 * operation).  A value that does not fit its type raises MARSHAL,
 * COMPLETED_YES. */
int phx_op_encode_results(phx_server_request_t *sr, const phx_opdesc_t *op,
                          void *const *args, const void *result,
                          phx_env_t *env);

/* Free what every slot and the result own, and zero the slots that
 * owned something (values decoded by phx_op_decode_args /
 * phx_op_get_args: borrowed in-mode strings are not freed).  result may
 * be NULL. */
void phx_op_free_args(const phx_opdesc_t *op, void *const *args,
                      void *result);

/* For skeletons that decode arguments of basic types themselves: MARSHAL
 * (or NO_MEMORY), COMPLETED_NO, if the argument reader r is in error. */
int phx_op_check_args(phx_cdr_reader_t *r, const phx_opdesc_t *op,
                      phx_env_t *env);

/* Raise NO_IMPLEMENT, COMPLETED_NO, for an operation the servant does
 * not implement (a NULL entry in its function table). */
int phx_op_not_implemented(const phx_opdesc_t *op, phx_env_t *env);

/* Raise the user exception tc with a deep copy of value (NULL: zeroed
 * members); NO_MEMORY if the copy fails.  Returns PHX_EUSEREX or
 * PHX_ESYSEX. */
int phx_op_raise(phx_env_t *env, const phx_typecode_t *tc,
                 const void *value);

/* The same steps on plain streams.  get_args leaves every slot zeroed on
 * error; put_results returns the writer's status. */
int phx_op_get_args(phx_cdr_reader_t *r, const phx_opdesc_t *op,
                    void *const *args, void *result);
int phx_op_put_results(phx_cdr_writer_t *w, const phx_opdesc_t *op,
                       void *const *args, const void *result);

#ifdef __cplusplus
}
#endif

#endif /* PHX_OPDESC_H */
