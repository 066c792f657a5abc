/*
 * interceptor.h - portable request interceptors.
 *
 * Interceptors see every request at the standard points of CORBA Portable
 * Interceptors.  Client side: send_request (start), then exactly one of
 * receive_reply, receive_exception or receive_other (end).  Server side:
 * receive_request_service_contexts and receive_request (start), then
 * exactly one of send_reply, send_exception or send_other (end).
 * Starting points run in registration order, ending points in reverse,
 * and an interceptor whose starting point ran always gets an ending point.
 *
 * A point returns 0 to let the request go on.  To change its course it
 * calls one of the action functions below and returns their result:
 *   - raise a system exception (phx_env_system on the env it was given,
 *     returning PHX_ESYSEX);
 *   - forward the request to another object (LOCATION_FORWARD): client
 *     points may re-issue it elsewhere, server points answer the client
 *     with a forward;
 *   - (server, starting points) answer the request itself with a
 *     complete reply, so the servant is not called (a reply cache).
 *
 * Interceptors are called on the thread that makes the call (client) or
 * that runs the servant (server), without ORB locks held.  They must be
 * registered before the ORB serves or calls anything.
 */
#ifndef PHX_INTERCEPTOR_H
#define PHX_INTERCEPTOR_H

#include <phx/orb.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct phx_client_ri phx_client_ri_t;
typedef struct phx_server_ri phx_server_ri_t;

typedef struct phx_client_interceptor {
    const char *name;
    void *arg;
    int (*send_request)(void *arg, phx_client_ri_t *ri, phx_env_t *env);
    int (*receive_reply)(void *arg, phx_client_ri_t *ri, phx_env_t *env);
    int (*receive_exception)(void *arg, phx_client_ri_t *ri, phx_env_t *env);
    int (*receive_other)(void *arg, phx_client_ri_t *ri, phx_env_t *env);
} phx_client_interceptor_t;

typedef struct phx_server_interceptor {
    const char *name;
    void *arg;
    int (*receive_request_service_contexts)(void *arg, phx_server_ri_t *ri,
                                            phx_env_t *env);
    int (*receive_request)(void *arg, phx_server_ri_t *ri, phx_env_t *env);
    int (*send_reply)(void *arg, phx_server_ri_t *ri, phx_env_t *env);
    int (*send_exception)(void *arg, phx_server_ri_t *ri, phx_env_t *env);
    int (*send_other)(void *arg, phx_server_ri_t *ri, phx_env_t *env);
} phx_server_interceptor_t;

/* The structs are not copied: they must outlive the ORB. */
int phx_orb_add_client_interceptor(phx_orb_t *orb,
                                   const phx_client_interceptor_t *ci);
int phx_orb_add_server_interceptor(phx_orb_t *orb,
                                   const phx_server_interceptor_t *si);

/* ---- client request info ---- */

const char *phx_client_ri_operation(const phx_client_ri_t *ri);
uint32_t phx_client_ri_request_id(const phx_client_ri_t *ri);
bool phx_client_ri_response_expected(const phx_client_ri_t *ri);
/* The object the call was made on, and the one it is being sent to
 * (differs after a forward). */
phx_object_t *phx_client_ri_target(const phx_client_ri_t *ri);
phx_object_t *phx_client_ri_effective_target(const phx_client_ri_t *ri);
/* The IOR profile the request goes to (index into the effective target's
 * IOR), or -1 before one is chosen. */
int phx_client_ri_effective_profile(const phx_client_ri_t *ri);
/* How many times this call has been re-issued (forwards and retries). */
unsigned phx_client_ri_attempt(const phx_client_ri_t *ri);
/* Add (or with replace, replace) a request service context.
 * send_request only. */
int phx_client_ri_add_request_context(phx_client_ri_t *ri, uint32_t id,
                                      const void *data, size_t len,
                                      bool replace);
const phx_service_context_t *
phx_client_ri_request_context(const phx_client_ri_t *ri, uint32_t id);
const phx_service_context_t *
phx_client_ri_reply_context(const phx_client_ri_t *ri, uint32_t id);
/* Reply status (phx_giop_reply_status) at the ending points. */
uint32_t phx_client_ri_reply_status(const phx_client_ri_t *ri);
/* receive_other after LOCATION_FORWARD(_PERM): the new target. */
phx_object_t *phx_client_ri_forward_target(const phx_client_ri_t *ri);
/* From receive_exception or receive_other: re-issue the request to obj
 * (same request body and contexts); returns PHX_OK and the ORB re-sends
 * once the ending points have run. obj may be the original target, to
 * retry.  permanent also replaces the target's reference. */
int phx_client_ri_forward(phx_client_ri_t *ri, phx_object_t *obj,
                          bool permanent);
/* From send_request: send to the profile with this index in the effective
 * target's IOR instead of the one the ORB chose (for load spreading or
 * fail-over).  PHX_ENOTFOUND when this ORB cannot use that profile. */
int phx_client_ri_select_profile(phx_client_ri_t *ri, int index);
/* From receive_exception or receive_other: re-issue the request to the
 * same effective target, on the profile with this IOR index (-1: the
 * usable profile after the one that was tried).  Unlike a forward it does
 * not count against max_forwards: the interceptor bounds its own retries
 * (the fault-tolerance layer by the request's expiration time). */
int phx_client_ri_retry(phx_client_ri_t *ri, int profile_index);
/* The effective target's IOR, borrowed: valid during the point. */
const phx_ior_t *phx_client_ri_effective_ior(const phx_client_ri_t *ri);

/* ---- server request info ---- */

const char *phx_server_ri_operation(const phx_server_ri_t *ri);
uint32_t phx_server_ri_request_id(const phx_server_ri_t *ri);
bool phx_server_ri_response_expected(const phx_server_ri_t *ri);
const uint8_t *phx_server_ri_object_key(const phx_server_ri_t *ri,
                                        size_t *len);
/* Repository id of the servant's interface ("" when none is active). */
const char *phx_server_ri_target_repo_id(const phx_server_ri_t *ri);
const phx_service_context_t *
phx_server_ri_request_context(const phx_server_ri_t *ri, uint32_t id);
int phx_server_ri_add_reply_context(phx_server_ri_t *ri, uint32_t id,
                                    const void *data, size_t len,
                                    bool replace);
/* Reply status at the ending points. */
uint32_t phx_server_ri_reply_status(const phx_server_ri_t *ri);
/* At send_reply / send_exception: the reply body as it will be sent
 * (native byte order, starting 8-aligned). */
const uint8_t *phx_server_ri_reply_body(const phx_server_ri_t *ri,
                                        size_t *len);
/* Request arguments (the request body, 8-aligned, in sender's order:
 * phx_server_ri_request_byte_order). */
const uint8_t *phx_server_ri_request_body(const phx_server_ri_t *ri,
                                          size_t *len);
int phx_server_ri_request_byte_order(const phx_server_ri_t *ri);
/* From a starting point: answer with LOCATION_FORWARD (or _PERM) to obj;
 * the servant is not called. */
int phx_server_ri_forward(phx_server_ri_t *ri, phx_object_t *obj,
                          bool permanent);
/* From a starting point: answer with this reply (status NO_EXCEPTION,
 * USER_EXCEPTION or SYSTEM_EXCEPTION, body as produced by
 * phx_server_ri_reply_body, copied); the servant is not called. */
int phx_server_ri_set_reply(phx_server_ri_t *ri, uint32_t reply_status,
                            const void *body, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* PHX_INTERCEPTOR_H */
