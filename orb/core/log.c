/*
 * log.c - the logging module: levels, a replaceable sink, stderr default.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <phx/error.h>
#include <phx/log.h>

static const char *const level_names[] = {"error", "warn", "info", "debug",
                                          "trace"};

/* -1 until the first use reads PHX_LOG. */
static atomic_int cur_level = -1;
static pthread_mutex_t sink_lock = PTHREAD_MUTEX_INITIALIZER;
static phx_log_sink_fn sink_fn;
static void *sink_arg;

int phx_log_parse_level(const char *name, phx_log_level_t *out)
{
    if (name == NULL)
        return PHX_EINVAL;
    for (size_t i = 0; i < sizeof level_names / sizeof level_names[0]; i++) {
        if (strcasecmp(name, level_names[i]) == 0) {
            *out = (phx_log_level_t)i;
            return PHX_OK;
        }
    }
    if (strcasecmp(name, "warning") == 0) {
        *out = PHX_LOG_WARN;
        return PHX_OK;
    }
    return PHX_EINVAL;
}

static int level_now(void)
{
    int lvl = atomic_load_explicit(&cur_level, memory_order_relaxed);
    if (lvl < 0) {
        phx_log_level_t parsed = PHX_LOG_WARN;
        const char *env = getenv("PHX_LOG");
        if (env && *env && phx_log_parse_level(env, &parsed) != PHX_OK)
            parsed = PHX_LOG_WARN;
        int expected = -1;
        atomic_compare_exchange_strong(&cur_level, &expected, (int)parsed);
        lvl = atomic_load(&cur_level);
    }
    return lvl;
}

void phx_log_set_level(phx_log_level_t level)
{
    atomic_store(&cur_level, (int)level);
}

phx_log_level_t phx_log_get_level(void)
{
    return (phx_log_level_t)level_now();
}

int phx_log_enabled(phx_log_level_t level)
{
    return (int)level <= level_now();
}

void phx_log_set_sink(phx_log_sink_fn sink, void *arg)
{
    pthread_mutex_lock(&sink_lock);
    sink_fn = sink;
    sink_arg = arg;
    pthread_mutex_unlock(&sink_lock);
}

void phx_logv(phx_log_level_t level, const char *module, const char *fmt,
              va_list ap)
{
    if (!phx_log_enabled(level))
        return;
    char line[1024];
    vsnprintf(line, sizeof line, fmt, ap);
    const char *lname = (unsigned)level < 5 ? level_names[level] : "?";
    pthread_mutex_lock(&sink_lock);
    if (sink_fn) {
        sink_fn(level, module ? module : "-", line, sink_arg);
    } else {
        fprintf(stderr, "phx[%ld] %s %s: %s\n", (long)getpid(), lname,
                module ? module : "-", line);
    }
    pthread_mutex_unlock(&sink_lock);
}

void phx_log(phx_log_level_t level, const char *module, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    phx_logv(level, module, fmt, ap);
    va_end(ap);
}
