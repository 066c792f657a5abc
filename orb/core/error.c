/*
 * error.c - status codes, their names and descriptions, and phx_error_t.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <phx/error.h>

const char *phx_strerror(int code)
{
    switch (code) {
#define PHX__ERR_TEXT(name, value, text)                                    \
    case value:                                                             \
        return text;
        PHX_ERRORS(PHX__ERR_TEXT)
#undef PHX__ERR_TEXT
    default:
        return "unknown error";
    }
}

const char *phx_errname(int code)
{
    switch (code) {
#define PHX__ERR_NAME(name, value, text)                                    \
    case value:                                                             \
        return #name;
        PHX_ERRORS(PHX__ERR_NAME)
#undef PHX__ERR_NAME
    default:
        return "PHX_E?";
    }
}

void phx_error_clear(phx_error_t *err)
{
    if (err) {
        err->code = PHX_OK;
        err->msg[0] = '\0';
    }
}

int phx_error_set(phx_error_t *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        err->code = code;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}
