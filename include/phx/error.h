/*
 * error.h - status codes and the optional error struct.
 *
 * Every Phalanx function that can fail returns an int: 0 (PHX_OK) on
 * success or a negative PHX_E* code.  Functions that take a phx_error_t *
 * fill it, when it is not NULL, with the code and a human-readable message
 * that says what was wrong and where.  Nothing in Phalanx aborts on bad
 * input from the network, a file or a user.
 */
#ifndef PHX_ERROR_H
#define PHX_ERROR_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * One table generates the enum, phx_strerror() and phx_errname().
 * X(NAME, value, "description")
 */
#define PHX_ERRORS(X)                                                       \
    X(PHX_OK, 0, "success")                                                 \
    X(PHX_ENOMEM, -1, "out of memory")                                      \
    X(PHX_EINVAL, -2, "invalid argument")                                   \
    X(PHX_EMARSHAL, -3, "malformed or truncated data")                      \
    X(PHX_EPROTO, -4, "protocol error")                                     \
    X(PHX_ELIMIT, -5, "size limit exceeded")                                \
    X(PHX_ETIMEDOUT, -6, "timed out")                                       \
    X(PHX_ECLOSED, -7, "connection closed")                                 \
    X(PHX_ECONNREFUSED, -8, "connection refused or unreachable")            \
    X(PHX_ENOTFOUND, -9, "not found")                                       \
    X(PHX_EEXIST, -10, "already exists")                                    \
    X(PHX_ESTATE, -11, "operation not valid in the current state")          \
    X(PHX_EUNSUPPORTED, -12, "not supported")                               \
    X(PHX_EIO, -13, "input/output error")                                   \
    X(PHX_ESYSEX, -14, "system exception raised")                           \
    X(PHX_EUSEREX, -15, "user exception raised")                            \
    X(PHX_EBADREF, -16, "invalid object reference")                         \
    X(PHX_ESHUTDOWN, -17, "ORB has been shut down")                         \
    X(PHX_EAGAIN, -18, "resource temporarily unavailable")

typedef enum phx_status {
#define PHX__ERR_ENUM(name, value, text) name = value,
    PHX_ERRORS(PHX__ERR_ENUM)
#undef PHX__ERR_ENUM
} phx_status_t;

/* Number of the most negative code; codes run from 0 down to this. */
#define PHX_E_LAST PHX_EAGAIN

/* Capacity of the message in phx_error_t, including the NUL. */
#define PHX_ERROR_MSG_MAX 256

typedef struct phx_error {
    int code;                       /* PHX_OK or a PHX_E* code */
    char msg[PHX_ERROR_MSG_MAX];    /* NUL-terminated; "" when code is 0 */
} phx_error_t;

/* Human description of a status code; never NULL ("unknown error" for
 * codes outside the table). */
const char *phx_strerror(int code);

/* Symbolic name ("PHX_EMARSHAL"); never NULL. */
const char *phx_errname(int code);

/* Reset an error struct to PHX_OK.  NULL is accepted and ignored. */
void phx_error_clear(phx_error_t *err);

/*
 * Record an error and return code, so callers can write
 *     return phx_error_set(err, PHX_EINVAL, "bad port '%s'", s);
 * err may be NULL (the code is still returned).  The message is
 * truncated to fit; truncation is never an error.
 */
int phx_error_set(phx_error_t *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#ifdef __cplusplus
}
#endif

#endif /* PHX_ERROR_H */
