/*
 * except.h - CORBA exceptions and the environment that carries them.
 *
 * phx_env_t plays the role of the OMG C mapping's CORBA_Environment: every
 * invocation takes one, and after a call that returned PHX_ESYSEX or
 * PHX_EUSEREX it describes the exception.  A call that returns 0 leaves
 * the environment at PHX_NO_EXCEPTION.
 */
#ifndef PHX_EXCEPT_H
#define PHX_EXCEPT_H

#include <stdbool.h>
#include <stdint.h>

#include <phx/error.h>

#ifdef __cplusplus
extern "C" {
#endif

struct phx_typecode;

typedef enum phx_completion {
    PHX_COMPLETED_YES = 0,
    PHX_COMPLETED_NO = 1,
    PHX_COMPLETED_MAYBE = 2
} phx_completion_t;

typedef enum phx_exception_type {
    PHX_NO_EXCEPTION = 0,
    PHX_USER_EXCEPTION = 1,
    PHX_SYSTEM_EXCEPTION = 2
} phx_exception_type_t;

/* The standard system exceptions (CORBA 3.0 section 4.12.3), one table
 * for the enum, the repository ids and the names. */
#define PHX_SYSEXCEPTIONS(X)                                                \
    X(UNKNOWN)                                                              \
    X(BAD_PARAM)                                                            \
    X(NO_MEMORY)                                                            \
    X(IMP_LIMIT)                                                            \
    X(COMM_FAILURE)                                                         \
    X(INV_OBJREF)                                                           \
    X(NO_PERMISSION)                                                        \
    X(INTERNAL)                                                             \
    X(MARSHAL)                                                              \
    X(INITIALIZE)                                                           \
    X(NO_IMPLEMENT)                                                         \
    X(BAD_TYPECODE)                                                         \
    X(BAD_OPERATION)                                                        \
    X(NO_RESOURCES)                                                         \
    X(NO_RESPONSE)                                                          \
    X(PERSIST_STORE)                                                        \
    X(BAD_INV_ORDER)                                                        \
    X(TRANSIENT)                                                            \
    X(FREE_MEM)                                                             \
    X(INV_IDENT)                                                            \
    X(INV_FLAG)                                                             \
    X(INTF_REPOS)                                                           \
    X(BAD_CONTEXT)                                                          \
    X(OBJ_ADAPTER)                                                          \
    X(DATA_CONVERSION)                                                      \
    X(OBJECT_NOT_EXIST)                                                     \
    X(TRANSACTION_REQUIRED)                                                 \
    X(TRANSACTION_ROLLEDBACK)                                               \
    X(INVALID_TRANSACTION)                                                  \
    X(INV_POLICY)                                                           \
    X(CODESET_INCOMPATIBLE)                                                 \
    X(REBIND)                                                               \
    X(TIMEOUT)                                                              \
    X(TRANSACTION_UNAVAILABLE)                                              \
    X(TRANSACTION_MODE)                                                     \
    X(BAD_QOS)

typedef enum phx_sysex {
    PHX_SYSEX_NONE = 0,
#define PHX__SYSEX_ENUM(n) PHX_SYSEX_##n,
    PHX_SYSEXCEPTIONS(PHX__SYSEX_ENUM)
#undef PHX__SYSEX_ENUM
    PHX_SYSEX_COUNT
} phx_sysex_t;

/* Vendor minor code set of Phalanx ("PX" in the high 20 bits, as the OMG
 * VMCID scheme lays out) and the OMG standard minor code base. */
#define PHX_VMCID 0x50580000u
#define PHX_OMGVMCID 0x4f4d0000u

/* Phalanx minor codes (OR'ed with PHX_VMCID). */
enum {
    PHX_MINOR_CONNECT_FAILED = 1,  /* TRANSIENT: could not connect */
    PHX_MINOR_CONNECT_TIMEOUT = 2, /* TRANSIENT: connection not up in time */
    PHX_MINOR_PEER_CLOSED = 3,     /* COMM_FAILURE: peer went away */
    PHX_MINOR_CALL_TIMEOUT = 4,    /* TIMEOUT: no reply in time */
    PHX_MINOR_BAD_MESSAGE = 5,     /* MARSHAL: malformed GIOP/CDR */
    PHX_MINOR_UNKNOWN_KEY = 6,     /* OBJECT_NOT_EXIST: no such key */
    PHX_MINOR_UNKNOWN_OP = 7,      /* BAD_OPERATION: no such operation */
    PHX_MINOR_TOO_MANY_FORWARDS = 8, /* TRANSIENT: forwarding loop */
    PHX_MINOR_NO_PROFILE = 9,      /* INV_OBJREF: no usable profile */
    PHX_MINOR_MESSAGE_ERROR = 10,  /* COMM_FAILURE: peer sent MessageError */
    PHX_MINOR_CLOSE_CONNECTION = 11, /* TRANSIENT: peer closed connection */
    PHX_MINOR_SHUTDOWN = 12,       /* BAD_INV_ORDER: ORB shut down */
    PHX_MINOR_SERVANT_FAILED = 13, /* UNKNOWN: servant failed silently */
    PHX_MINOR_TOO_LARGE = 14,      /* IMP_LIMIT: message too large */
    PHX_MINOR_INTERCEPTOR = 15     /* raised by an interceptor */
};

typedef struct phx_env {
    phx_exception_type_t major;
    phx_sysex_t sysex;          /* for system exceptions */
    char *repo_id;              /* owned; set for both kinds */
    uint32_t minor;             /* system exceptions */
    phx_completion_t completed; /* system exceptions */
    /* User exceptions: the decoded members, when the exception's
     * TypeCode was known (value is malloc'd and owned). */
    const struct phx_typecode *user_tc;
    void *user_value;
    /* A human-readable account of where the exception came from (owned,
     * may be NULL). */
    char *detail;
} phx_env_t;

#define PHX_ENV_INIT {PHX_NO_EXCEPTION, PHX_SYSEX_NONE, NULL, 0,           \
                      PHX_COMPLETED_NO, NULL, NULL, NULL}

void phx_env_init(phx_env_t *env);

/* Free what the environment holds and reset it to PHX_NO_EXCEPTION. */
void phx_env_clear(phx_env_t *env);

/* Raise a system exception; returns PHX_ESYSEX.  detail may be NULL. */
int phx_env_system(phx_env_t *env, phx_sysex_t ex, uint32_t minor,
                   phx_completion_t completed, const char *detail, ...)
    __attribute__((format(printf, 5, 6)));

/* Raise a system exception by repository id (unknown ids become UNKNOWN
 * with the id kept); returns PHX_ESYSEX. */
int phx_env_system_id(phx_env_t *env, const char *repo_id, uint32_t minor,
                      phx_completion_t completed);

/* Raise a user exception; ownership of value (malloc'd, laid out as tc's
 * C mapping) passes to env on success.  value may be NULL for an
 * exception without members.  Returns PHX_EUSEREX, or PHX_ENOMEM. */
int phx_env_user(phx_env_t *env, const struct phx_typecode *tc,
                 void *value);

/* Copy src into dst (dst is cleared first).  User values are copied
 * only by reference to the repository id (user_value is not duplicated). */
int phx_env_copy(phx_env_t *dst, const phx_env_t *src);

/* "IDL:omg.org/CORBA/TRANSIENT:1.0" */
const char *phx_sysex_repo_id(phx_sysex_t ex);
/* "TRANSIENT" */
const char *phx_sysex_name(phx_sysex_t ex);
/* PHX_SYSEX_NONE when the id is not a standard system exception. */
phx_sysex_t phx_sysex_from_repo_id(const char *repo_id);
const char *phx_completion_name(phx_completion_t c);

/* One-line description for logs and messages: "TRANSIENT (minor 0x..,
 * COMPLETED_NO): detail". Writes into buf and returns it. */
const char *phx_env_describe(const phx_env_t *env, char *buf, size_t len);

static inline bool phx_env_is(const phx_env_t *env, phx_sysex_t ex)
{
    return env->major == PHX_SYSTEM_EXCEPTION && env->sysex == ex;
}

#ifdef __cplusplus
}
#endif

#endif /* PHX_EXCEPT_H */
