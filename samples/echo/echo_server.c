/*
 * echo_server.c - serves one Echo object.
 *
 *   echo-server [--listen EP]... [--workers N] [--key NAME]
 *               [--ior-file FILE] [--max-message BYTES] [--log LEVEL]
 *
 * Prints the object's IOR on the first line of stdout once it serves
 * (and writes it to FILE when asked), then serves until SIGINT/SIGTERM or
 * the oneway Echo::shutdown.
 */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "echo.h"

static phx_orb_t *the_orb;
static atomic_int pings;

static int impl_echo_long(void *self, int32_t v, int32_t *ret, phx_env_t *env)
{
    (void)self;
    (void)env;
    *ret = v;
    return PHX_OK;
}

static int impl_echo_octets(void *self, const uint8_t *data, size_t len,
                            phx_sequence_t *ret, phx_env_t *env)
{
    (void)self;
    (void)env;
    /* The argument stays valid until the reply is written: no copy. */
    ret->_buffer = (void *)data;
    ret->_length = ret->_maximum = (uint32_t)len;
    ret->_release = false;
    return PHX_OK;
}

static int impl_ping(void *self, int32_t v, phx_env_t *env)
{
    (void)self;
    (void)v;
    (void)env;
    atomic_fetch_add(&pings, 1);
    return PHX_OK;
}

static int impl_count(void *self, int32_t *ret, phx_env_t *env)
{
    (void)self;
    (void)env;
    *ret = atomic_load(&pings);
    return PHX_OK;
}

static int impl_fail(void *self, int32_t code, const char *why,
                     phx_env_t *env)
{
    (void)self;
    return Echo_raise_Failed(env, code, why);
}

static int impl_sleep_ms(void *self, int32_t ms, phx_env_t *env)
{
    (void)self;
    if (ms < 0 || ms > 600000)
        return phx_env_system(env, PHX_SYSEX_BAD_PARAM, 0, PHX_COMPLETED_NO,
                              "sleep_ms: %d is out of range 0..600000", ms);
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
    return PHX_OK;
}

static int impl_shutdown(void *self, phx_env_t *env)
{
    (void)self;
    (void)env;
    phx_orb_shutdown(the_orb);
    return PHX_OK;
}

static const Echo_impl echo_impl = {
    impl_echo_long, impl_echo_octets, impl_ping,    impl_count,
    impl_fail,      impl_sleep_ms,    impl_shutdown,
};

static void on_signal(int sig)
{
    (void)sig;
    if (the_orb)
        phx_orb_shutdown(the_orb);
}

static void usage(FILE *f)
{
    fprintf(f, "usage: echo-server [--listen ENDPOINT]... [--workers N] "
               "[--key NAME]\n"
               "                   [--ior-file FILE] [--max-message BYTES] "
               "[--log LEVEL]\n"
               "  ENDPOINT: tcp://HOST:PORT (PORT may be *), ipc://PATH, "
               "inproc://NAME\n"
               "  default: --listen tcp://127.0.0.1:*\n");
}

int main(int argc, char **argv)
{
    const char **listen = calloc((size_t)argc, sizeof *listen);
    size_t nlisten = 0;
    unsigned workers = 0;
    unsigned long long max_message = 0;
    const char *key = NULL, *ior_file = NULL;
    if (listen == NULL)
        return 1;
    for (int i = 1; i < argc; i += 2) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            free(listen);
            return 0;
        }
        if (v == NULL) {
            fprintf(stderr, "echo-server: %s needs a value\n", a);
            usage(stderr);
            free(listen);
            return 2;
        }
        if (strcmp(a, "--listen") == 0) {
            listen[nlisten++] = v;
        } else if (strcmp(a, "--workers") == 0) {
            char *end;
            long n = strtol(v, &end, 10);
            if (*end || n < 0 || n > 256) {
                fprintf(stderr, "echo-server: --workers wants 0..256, got "
                                "'%s'\n", v);
                free(listen);
                return 2;
            }
            workers = (unsigned)n;
        } else if (strcmp(a, "--max-message") == 0) {
            char *end;
            max_message = strtoull(v, &end, 10);
            if (*v == '-' || *end || max_message < 64 ||
                max_message > (1ULL << 31)) {
                fprintf(stderr, "echo-server: --max-message wants 64.."
                                "2147483648 bytes, got '%s'\n", v);
                free(listen);
                return 2;
            }
        } else if (strcmp(a, "--key") == 0) {
            key = v;
        } else if (strcmp(a, "--ior-file") == 0) {
            ior_file = v;
        } else if (strcmp(a, "--log") == 0) {
            phx_log_level_t lvl;
            if (phx_log_parse_level(v, &lvl) != PHX_OK) {
                fprintf(stderr, "echo-server: unknown log level '%s' "
                                "(error, warn, info, debug, trace)\n", v);
                free(listen);
                return 2;
            }
            phx_log_set_level(lvl);
        } else {
            fprintf(stderr, "echo-server: unknown option '%s'\n", a);
            usage(stderr);
            free(listen);
            return 2;
        }
    }
    if (nlisten == 0)
        listen[nlisten++] = "tcp://127.0.0.1:*";

    phx_orb_config_t cfg;
    phx_orb_config_init(&cfg);
    cfg.listen = listen;
    cfg.listen_count = nlisten;
    cfg.workers = workers;
    if (max_message)
        cfg.max_message = (size_t)max_message;
    phx_error_t err;
    if (phx_orb_create(&cfg, &the_orb, &err) != PHX_OK) {
        fprintf(stderr, "echo-server: %s\n", err.msg);
        free(listen);
        return 1;
    }
    free(listen);

    Echo_servant servant;
    Echo_servant_init(&servant, &echo_impl, NULL);
    phx_object_t *ref;
    if (phx_orb_activate(the_orb, &servant.base, key,
                         key ? strlen(key) : 0, &ref, &err) != PHX_OK) {
        fprintf(stderr, "echo-server: %s\n", err.msg);
        phx_orb_destroy(the_orb);
        return 1;
    }
    char *ior;
    if (phx_object_to_string(ref, &ior) != PHX_OK) {
        fprintf(stderr, "echo-server: cannot stringify the reference\n");
        phx_object_release(ref);
        phx_orb_destroy(the_orb);
        return 1;
    }
    phx_object_release(ref);
    if (ior_file) {
        char tmp[4096];
        snprintf(tmp, sizeof tmp, "%s.tmp", ior_file);
        FILE *f = fopen(tmp, "w");
        if (f == NULL || fprintf(f, "%s\n", ior) < 0 || fclose(f) != 0 ||
            rename(tmp, ior_file) != 0) {
            fprintf(stderr, "echo-server: cannot write %s: %s\n", ior_file,
                    strerror(errno));
            free(ior);
            phx_orb_destroy(the_orb);
            return 1;
        }
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    printf("%s\n", ior);
    fflush(stdout);
    free(ior);

    int rc = phx_orb_run(the_orb);
    phx_orb_destroy(the_orb);
    return rc == PHX_OK ? 0 : 1;
}
