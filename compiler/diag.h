/*
 * diag.h - diagnostics of phx-idl: every phase reports errors and warnings
 * through one diag_t, which prints them as
 *
 *     FILE:LINE:COL: error: message
 *     FILE:LINE:COL: warning: message
 *
 * and counts them.  Lines and columns are 1-based; a column counts bytes
 * (a tab is one column).  A position with line 0 prints as "FILE: error:".
 */
#ifndef PHX_IDL_DIAG_H
#define PHX_IDL_DIAG_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

typedef struct diag {
    FILE *out;              /* where messages go; NULL discards them */
    unsigned errors;        /* errors reported so far */
    unsigned warnings;      /* warnings reported so far */
    unsigned max_errors;    /* stop printing (still counting) past this; 0 = no limit */
    int werror;             /* nonzero: warnings count as errors */
} diag_t;

/* Reset the counters and set the output stream (NULL = silent). */
void diag_init(diag_t *d, FILE *out);

#if defined(__GNUC__)
#define DIAG_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define DIAG_PRINTF(a, b)
#endif

/* Report an error or a warning at FILE:LINE:COL. */
void diag_error(diag_t *d, const char *file, uint32_t line, uint32_t column,
                const char *fmt, ...) DIAG_PRINTF(5, 6);
void diag_warning(diag_t *d, const char *file, uint32_t line,
                  uint32_t column, const char *fmt, ...) DIAG_PRINTF(5, 6);
/* A "note:" line that explains the previous error (not counted). */
void diag_note(diag_t *d, const char *file, uint32_t line, uint32_t column,
               const char *fmt, ...) DIAG_PRINTF(5, 6);

void diag_verror(diag_t *d, const char *file, uint32_t line, uint32_t column,
                 const char *fmt, va_list ap);

#endif /* PHX_IDL_DIAG_H */
