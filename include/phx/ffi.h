/*
 * ffi.h - the libffi bridge: existing C functions as operations of an
 * object, and plain C function pointers that call a remote object.
 *
 * Link with -lphx-ffi (orb/libphx-ffi.la), which needs -lphx-orb and
 * libffi.  docs/ffi.md explains the conventions with examples.
 *
 * Calling conventions (phx_ffi_conv_t)
 *
 *   PHX_FFI_PLAIN
 *     R fn(P1, ..., Pn)
 *     Each parameter exactly as the IDL C mapping passes it to a servant
 *     (docs/idl-c-mapping.md), without _self and _env:
 *       in    numbers, boolean, char, octet, enum, object reference,
 *             TypeCode: by value (T x);  string: const char *x;
 *             struct, union, sequence, any, array: const T *x
 *       out, inout   any type: T *x (a string: char **x)
 *     The result R:
 *       void                                   void
 *       numbers, boolean, char, octet, enum    by value
 *       object reference, TypeCode             by value (a pointer)
 *       string                                 char * (NULL sends "")
 *       struct, sequence, any, exception       by value (a libffi struct
 *                                              type built from the
 *                                              TypeCode layout, checked
 *                                              against c_size, c_align
 *                                              and member offsets)
 *       union, array                           not bridgeable by value:
 *                                              use PHX_FFI_PLAIN_OUTRET
 *
 *   PHX_FFI_PLAIN_OUTRET
 *     void fn(P1, ..., Pn, R *_ret)
 *     As PHX_FFI_PLAIN, but a non-void result is written through a
 *     trailing pointer (char **_ret for a string), exactly as a servant
 *     function of the IDL C mapping gets it.  Every result type works.
 *
 *   PHX_FFI_RPCGEN
 *     R *fn(A *argp, struct svc_req *rqstp)      (server side)
 *     R *fn(A *argp, CLIENT *clnt)               (client side)
 *     ONC RPC as rpcgen (without -N) writes it: the operation has at most
 *     one parameter, which is in; argp points at its C value (char ** for
 *     a string; with no parameter argp points at a zeroed dummy).  The
 *     result is a pointer to storage the function keeps (a static
 *     variable, as rpcgen servers do); a void result only needs a
 *     non-NULL pointer.  Server side the bridge encodes (copies) *result
 *     and never frees it; a NULL result raises UNKNOWN (minor
 *     PHX_VMCID|PHX_MINOR_SERVANT_FAILED, COMPLETED_MAYBE), as a servant
 *     that failed without raising.  rqstp is the binding's rqstp (NULL by
 *     default).  Client side see phx_ffi_closure_new.
 *
 * Memory on the server follows the servant rules: in values belong to
 * the bridge; inout values may be changed in place (freeing what is
 * replaced); out values and results are filled with owned (malloc'd)
 * data, freed by the bridge after the reply is encoded, unless the
 * binding has PHX_FFI_RESULT_BORROWED (the result, e.g. a static string,
 * stays the function's).
 *
 * Exceptions: a bridged function raises through phx_ffi_env(), the
 * environment of the request the calling thread is serving, e.g.
 *     phx_op_raise(phx_ffi_env(), &TC_M_Oops, &oops);   return 0;
 * What it returned is then discarded (and freed unless borrowed).
 *
 * Thread safety: a servant and a closure may be used from any number of
 * threads at once (a PHX_FFI_RPCGEN closure's result storage excepted, see
 * phx_ffi_closure_new).
 */
#ifndef PHX_FFI_H
#define PHX_FFI_H

#include <stddef.h>

#include <phx/error.h>
#include <phx/except.h>
#include <phx/opdesc.h>
#include <phx/orb.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum phx_ffi_conv {
    PHX_FFI_PLAIN = 0,
    PHX_FFI_PLAIN_OUTRET = 1,
    PHX_FFI_RPCGEN = 2
} phx_ffi_conv_t;

/* Binding flags. */
enum {
    /* PHX_FFI_PLAIN / _OUTRET: the result the function returns (a string,
     * or what a struct/sequence/any result points to) is not owned by the
     * bridge, which encodes it and does not free it. */
    PHX_FFI_RESULT_BORROWED = 1u << 0
};

/* Any C function, whatever its type: store it with PHX_FFI_FN(f). */
typedef void (*phx_ffi_fn)(void);
#define PHX_FFI_FN(f) ((phx_ffi_fn)(void (*)(void))(f))

typedef struct phx_ffi_binding {
    const char *operation;   /* IDL name ("_get_x" for an attribute) */
    phx_ffi_fn fn;           /* NULL: the operation raises NO_IMPLEMENT */
    phx_ffi_conv_t conv;
    unsigned flags;          /* PHX_FFI_RESULT_BORROWED */
    void *rqstp;             /* PHX_FFI_RPCGEN: the svc_req argument */
} phx_ffi_binding_t;

/* ------------------------------------------------------------------ */
/* Server: C functions as an object                                     */
/* ------------------------------------------------------------------ */

typedef struct phx_ffi_servant phx_ffi_servant_t;

/*
 * A servant implementing interface ifd (its operations and every
 * inherited one; _is_a answers for every ancestor) with the functions
 * of bindings[0..count).  Operations without a binding raise
 * NO_IMPLEMENT.  Every call interface is prepared here: an operation
 * name the interface does not have (PHX_ENOTFOUND), one bound twice
 * (PHX_EEXIST), a signature the convention cannot express or libffi
 * cannot pass (PHX_EUNSUPPORTED, the message names the operation, the
 * parameter and why) fail the whole registration, with nothing left
 * allocated.  ifd, the opdescs and bindings' operation names must
 * outlive the servant (static data from phx-idl).
 */
int phx_ffi_servant_new(const phx_ifdesc_t *ifd,
                        const phx_ffi_binding_t *bindings, size_t count,
                        phx_ffi_servant_t **out, phx_error_t *err);

/* The same from a list of operation descriptions, for an interface with
 * repository id repo_id (copied) and no bases. */
int phx_ffi_servant_new_ops(const char *repo_id,
                            const phx_opdesc_t *const *ops, size_t op_count,
                            const phx_ffi_binding_t *bindings, size_t count,
                            phx_ffi_servant_t **out, phx_error_t *err);

/* What phx_orb_activate takes. */
phx_servant_t *phx_ffi_servant_base(phx_ffi_servant_t *s);

/* Free the servant: after phx_orb_destroy, or once a deactivation has
 * completed (the servant's release callback: see
 * phx_ffi_servant_set_release).  NULL-safe. */
void phx_ffi_servant_free(phx_ffi_servant_t *s);

/* Optional: called when the adapter is done with the servant (it may
 * call phx_ffi_servant_free). */
void phx_ffi_servant_set_release(phx_ffi_servant_t *s,
                                 void (*release)(phx_ffi_servant_t *s,
                                                 void *arg),
                                 void *arg);

/* Inside a bridged function: the environment of the request the calling
 * thread is serving, to raise exceptions into; NULL elsewhere. */
phx_env_t *phx_ffi_env(void);

/* ------------------------------------------------------------------ */
/* Client: a C function pointer that calls a remote object              */
/* ------------------------------------------------------------------ */

typedef struct phx_ffi_closure phx_ffi_closure_t;

/*
 * A closure: *fnptr becomes a C function of op's signature in convention
 * conv (cast it to the right type); calling it invokes op on obj (an
 * object or an object group alike) with phx_op_invoke and returns the
 * result.  The closure holds a reference on obj.
 *
 * Memory, as for a generated stub: out values and the result (strings,
 * sequence buffers, struct contents) are malloc'd and the caller frees
 * them; inout values must be owned and are replaced on success.
 *
 * Errors never abort the caller: the function returns 0 / NULL / a
 * zeroed struct, out values are zeroed, inout values are unchanged, and
 * phx_ffi_last_error() describes the exception (a user exception listed
 * in op->raises has its members in user_value).  A NULL pointer where the
 * mapping needs one (an out, inout or by-pointer in parameter, the _ret
 * of PHX_FFI_PLAIN_OUTRET) raises BAD_PARAM, COMPLETED_NO, without a call.
 *
 * PHX_FFI_RPCGEN: fn(argp, clnt) with clnt ignored, returning a pointer to
 * the closure's own result storage, valid until the next call of the
 * same closure (it frees the previous result), or NULL on an exception;
 * as rpcgen's client stubs, not for concurrent use of one closure.  A
 * void result returns a pointer to a static dummy.
 *
 * Returns NULL and fills err (the reasons of phx_ffi_servant_new) when
 * the signature cannot be bridged or memory runs out.
 */
phx_ffi_closure_t *phx_ffi_closure_new(phx_object_t *obj,
                                       const phx_opdesc_t *op,
                                       phx_ffi_conv_t conv,
                                       phx_ffi_fn *fnptr, phx_error_t *err);

/* Release the closure and its reference; its function pointer must no
 * longer be called.  NULL-safe. */
void phx_ffi_closure_free(phx_ffi_closure_t *c);

/* The outcome of the calling thread's last closure call: PHX_NO_EXCEPTION
 * after a success.  Never NULL; valid until the thread's next closure
 * call or phx_ffi_clear_last_error. */
const phx_env_t *phx_ffi_last_error(void);

/* Free what the thread's last error holds (also done at thread exit). */
void phx_ffi_clear_last_error(void);

#ifdef __cplusplus
}
#endif

#endif /* PHX_FFI_H */
