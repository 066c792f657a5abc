/*
 * echo.h - the Echo interface, with hand-written stubs and skeletons of
 * the shape phx-idl generates.  Used by the sample, the tests and the
 * benchmarks.
 *
 *   module phalanx {
 *     interface Echo {
 *       exception Failed { long code; string why; };
 *       long echo_long(in long v);
 *       sequence<octet> echo_octets(in sequence<octet> data);
 *       oneway void ping(in long v);
 *       long count();              // pings received so far
 *       void fail(in long code, in string why) raises (Failed);
 *       void sleep_ms(in long ms); // returns after ms milliseconds
 *       oneway void shutdown();    // stops the server
 *     };
 *   };
 */
#ifndef PHX_SAMPLE_ECHO_H
#define PHX_SAMPLE_ECHO_H

#include <phx/phx.h>

#define ECHO_REPO_ID "IDL:phalanx/Echo:1.0"
#define ECHO_FAILED_REPO_ID "IDL:phalanx/Echo/Failed:1.0"

typedef struct Echo_Failed {
    int32_t code;
    char *why;
} Echo_Failed;

extern const phx_typecode_t Echo_Failed_tc;
extern const phx_interface_t Echo_interface;

/* ---- client stubs: 0, PHX_ESYSEX or PHX_EUSEREX (env says which) ---- */

int Echo_echo_long(phx_object_t *obj, int32_t v, int32_t *ret,
                   phx_env_t *env);
/* *out is malloc'd (caller frees). */
int Echo_echo_octets(phx_object_t *obj, const void *data, size_t len,
                     uint8_t **out, size_t *out_len, phx_env_t *env);
int Echo_ping(phx_object_t *obj, int32_t v, phx_env_t *env);
int Echo_count(phx_object_t *obj, int32_t *ret, phx_env_t *env);
int Echo_fail(phx_object_t *obj, int32_t code, const char *why,
              phx_env_t *env);
int Echo_sleep_ms(phx_object_t *obj, int32_t ms, phx_env_t *env);
int Echo_shutdown(phx_object_t *obj, phx_env_t *env);

/* Deferred forms, for pipelining. */
int Echo_echo_long_send(phx_object_t *obj, int32_t v, phx_request_t **req,
                        phx_env_t *env);
int Echo_echo_long_recv(phx_request_t *req, int32_t *ret, phx_env_t *env);

/* ---- servant side ---- */

typedef struct Echo_impl {
    int (*echo_long)(void *self, int32_t v, int32_t *ret, phx_env_t *env);
    /* Returns its result in a sequence it fills (the skeleton frees
     * _buffer when _release is set). */
    int (*echo_octets)(void *self, const uint8_t *data, size_t len,
                       phx_sequence_t *ret, phx_env_t *env);
    int (*ping)(void *self, int32_t v, phx_env_t *env);
    int (*count)(void *self, int32_t *ret, phx_env_t *env);
    int (*fail)(void *self, int32_t code, const char *why, phx_env_t *env);
    int (*sleep_ms)(void *self, int32_t ms, phx_env_t *env);
    int (*shutdown)(void *self, phx_env_t *env);
} Echo_impl;

typedef struct Echo_servant {
    phx_servant_t base;
    const Echo_impl *impl;
    void *self;
} Echo_servant;

void Echo_servant_init(Echo_servant *sv, const Echo_impl *impl, void *self);

/* Raise Echo::Failed from an implementation. */
int Echo_raise_Failed(phx_env_t *env, int32_t code, const char *why);

#endif
