/*
 * diag.c - printing and counting the diagnostics of phx-idl (see diag.h).
 */
#include "compiler/diag.h"

void diag_init(diag_t *d, FILE *out)
{
    d->out = out;
    d->errors = 0;
    d->warnings = 0;
    d->max_errors = 0;
    d->werror = 0;
}

static void diag_emit(diag_t *d, const char *what, const char *file,
                      uint32_t line, uint32_t column, const char *fmt,
                      va_list ap)
{
    if (d->out == NULL)
        return;
    if (file == NULL)
        fprintf(d->out, "phx-idl: %s: ", what);
    else if (line == 0)
        fprintf(d->out, "%s: %s: ", file, what);
    else if (column == 0)
        fprintf(d->out, "%s:%lu: %s: ", file, (unsigned long)line, what);
    else
        fprintf(d->out, "%s:%lu:%lu: %s: ", file, (unsigned long)line,
                (unsigned long)column, what);
    vfprintf(d->out, fmt, ap);
    fputc('\n', d->out);
}

void diag_verror(diag_t *d, const char *file, uint32_t line, uint32_t column,
                 const char *fmt, va_list ap)
{
    d->errors++;
    if (d->max_errors != 0 && d->errors > d->max_errors)
        return;
    diag_emit(d, "error", file, line, column, fmt, ap);
}

void diag_error(diag_t *d, const char *file, uint32_t line, uint32_t column,
                const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    diag_verror(d, file, line, column, fmt, ap);
    va_end(ap);
}

void diag_warning(diag_t *d, const char *file, uint32_t line,
                  uint32_t column, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    if (d->werror) {
        diag_verror(d, file, line, column, fmt, ap);
    } else {
        d->warnings++;
        diag_emit(d, "warning", file, line, column, fmt, ap);
    }
    va_end(ap);
}

void diag_note(diag_t *d, const char *file, uint32_t line, uint32_t column,
               const char *fmt, ...)
{
    va_list ap;

    if (d->max_errors != 0 && d->errors > d->max_errors)
        return;
    va_start(ap, fmt);
    diag_emit(d, "note", file, line, column, fmt, ap);
    va_end(ap);
}
