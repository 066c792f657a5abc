/*
 * log.h - the one logging module.
 *
 * Messages at or above the current level go to the sink (stderr by
 * default) as "phx[<pid>] <LEVEL> <module>: <message>".  The initial level
 * comes from the PHX_LOG environment variable (error, warn, info, debug,
 * trace; default warn) the first time anything is logged.
 */
#ifndef PHX_LOG_H
#define PHX_LOG_H

#include <stdarg.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum phx_log_level {
    PHX_LOG_ERROR = 0,
    PHX_LOG_WARN = 1,
    PHX_LOG_INFO = 2,
    PHX_LOG_DEBUG = 3,
    PHX_LOG_TRACE = 4
} phx_log_level_t;

/* A sink receives one formatted line (no trailing newline).  It is called
 * with an internal lock held, from whichever thread logged. */
typedef void (*phx_log_sink_fn)(phx_log_level_t level, const char *module,
                                const char *line, void *arg);

void phx_log_set_level(phx_log_level_t level);
phx_log_level_t phx_log_get_level(void);

/* Parse "error", "warn", "info", "debug" or "trace"; returns 0 or
 * PHX_EINVAL. */
int phx_log_parse_level(const char *name, phx_log_level_t *out);

/* Replace the sink; NULL restores the stderr sink. */
void phx_log_set_sink(phx_log_sink_fn sink, void *arg);

int phx_log_enabled(phx_log_level_t level);

void phx_log(phx_log_level_t level, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void phx_logv(phx_log_level_t level, const char *module, const char *fmt,
              va_list ap);

#define PHX_LOG_AT(lvl, mod, ...)                                           \
    do {                                                                    \
        if (phx_log_enabled(lvl))                                           \
            phx_log(lvl, mod, __VA_ARGS__);                                 \
    } while (0)
#define PHX_ERROR(mod, ...) PHX_LOG_AT(PHX_LOG_ERROR, mod, __VA_ARGS__)
#define PHX_WARN(mod, ...) PHX_LOG_AT(PHX_LOG_WARN, mod, __VA_ARGS__)
#define PHX_INFO(mod, ...) PHX_LOG_AT(PHX_LOG_INFO, mod, __VA_ARGS__)
#define PHX_DEBUG(mod, ...) PHX_LOG_AT(PHX_LOG_DEBUG, mod, __VA_ARGS__)
#define PHX_TRACE(mod, ...) PHX_LOG_AT(PHX_LOG_TRACE, mod, __VA_ARGS__)

#ifdef __cplusplus
}
#endif

#endif /* PHX_LOG_H */
