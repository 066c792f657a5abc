/*
 * echo_client.c - calls an Echo object from the command line.
 *
 *   echo-client [--timeout MS] [--repeat N] REF COMMAND [ARG]
 *
 * REF is an "IOR:..." or "corbaloc:..." string, or @FILE to read it from a
 * file.  Commands: long N | octets SIZE | ping N | count | fail CODE WHY |
 * sleep MS | shutdown.  Exit status: 0 success, 2 usage error, 3 the call
 * raised an exception (printed on stderr), 1 anything else.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "echo.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: echo-client [--timeout MS] [--repeat N] REF COMMAND "
            "[ARG...]\n"
            "  REF: IOR:..., corbaloc:... or @FILE\n"
            "  COMMAND: long N | octets SIZE | ping N | count |\n"
            "           fail CODE WHY | sleep MS | shutdown\n");
}

static int parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static char *read_ref(const char *arg)
{
    if (arg[0] != '@')
        return strdup(arg);
    FILE *f = fopen(arg + 1, "r");
    if (f == NULL)
        return NULL;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = getline(&line, &cap, f);
    fclose(f);
    if (n <= 0) {
        free(line);
        return NULL;
    }
    line[strcspn(line, "\r\n")] = '\0';
    return line;
}

static int report(int rc, phx_env_t *env)
{
    if (rc == PHX_OK)
        return 0;
    char buf[512];
    if (env->major == PHX_USER_EXCEPTION && env->user_value &&
        strcmp(env->repo_id, ECHO_FAILED_REPO_ID) == 0) {
        const Echo_Failed *f = env->user_value;
        fprintf(stderr, "echo-client: Echo::Failed code=%d why=%s\n",
                f->code, f->why);
    } else {
        fprintf(stderr, "echo-client: %s\n",
                phx_env_describe(env, buf, sizeof buf));
    }
    return 3;
}

int main(int argc, char **argv)
{
    long timeout = -1, repeat = 1;
    int i = 1;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
        if (strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "echo-client: %s needs a value\n", argv[i]);
            return 2;
        }
        long *dst = strcmp(argv[i], "--timeout") == 0  ? &timeout
                    : strcmp(argv[i], "--repeat") == 0 ? &repeat
                                                       : NULL;
        if (dst == NULL ||
            parse_long(argv[i + 1], dst == &repeat ? 1 : 0, 100000000L,
                       dst) != 0) {
            fprintf(stderr, "echo-client: bad option %s %s\n", argv[i],
                    argv[i + 1]);
            usage(stderr);
            return 2;
        }
    }
    if (argc - i < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[i + 1];
    const char *arg1 = i + 2 < argc ? argv[i + 2] : NULL;
    const char *arg2 = i + 3 < argc ? argv[i + 3] : NULL;
    long n = 0;
    bool needs_arg = strcmp(cmd, "count") != 0 && strcmp(cmd, "shutdown") != 0;
    if (needs_arg && (arg1 == NULL || parse_long(arg1, -2147483648L,
                                                 2147483647L, &n) != 0)) {
        fprintf(stderr, "echo-client: '%s' needs an integer argument\n", cmd);
        return 2;
    }
    char *refstr = read_ref(argv[i]);
    if (refstr == NULL) {
        fprintf(stderr, "echo-client: cannot read reference from %s\n",
                argv[i] + 1);
        return 1;
    }

    phx_orb_config_t cfg;
    phx_orb_config_init(&cfg);
    if (timeout >= 0)
        cfg.call_timeout_ms = (uint32_t)timeout;
    phx_orb_t *orb;
    phx_error_t err;
    if (phx_orb_create(&cfg, &orb, &err) != PHX_OK) {
        fprintf(stderr, "echo-client: %s\n", err.msg);
        free(refstr);
        return 1;
    }
    phx_object_t *obj;
    if (phx_object_from_string(orb, refstr, &obj, &err) != PHX_OK) {
        fprintf(stderr, "echo-client: bad reference: %s\n", err.msg);
        free(refstr);
        phx_orb_destroy(orb);
        return 2;
    }
    free(refstr);

    phx_env_t env = PHX_ENV_INIT;
    int status = 0;
    for (long k = 0; k < repeat && status == 0; k++) {
        int rc;
        if (strcmp(cmd, "long") == 0) {
            int32_t ret;
            rc = Echo_echo_long(obj, (int32_t)n, &ret, &env);
            if (rc == PHX_OK && k == repeat - 1)
                printf("%d\n", ret);
        } else if (strcmp(cmd, "octets") == 0) {
            if (n < 0 || n > (64L << 20)) {
                fprintf(stderr, "echo-client: octets SIZE is 0..%ld\n",
                        64L << 20);
                status = 2;
                break;
            }
            uint8_t *data = malloc((size_t)n + 1), *out = NULL;
            size_t out_len = 0;
            for (long j = 0; data && j < n; j++)
                data[j] = (uint8_t)(j * 7 + 1);
            rc = data ? Echo_echo_octets(obj, data, (size_t)n, &out, &out_len,
                                         &env)
                      : PHX_ENOMEM;
            if (rc == PHX_OK) {
                bool same = out_len == (size_t)n &&
                            memcmp(out, data, (size_t)n) == 0;
                if (!same) {
                    fprintf(stderr, "echo-client: reply differs\n");
                    status = 1;
                } else if (k == repeat - 1) {
                    printf("%zu\n", out_len);
                }
            }
            free(out);
            free(data);
        } else if (strcmp(cmd, "ping") == 0) {
            rc = Echo_ping(obj, (int32_t)n, &env);
        } else if (strcmp(cmd, "count") == 0) {
            int32_t ret;
            rc = Echo_count(obj, &ret, &env);
            if (rc == PHX_OK && k == repeat - 1)
                printf("%d\n", ret);
        } else if (strcmp(cmd, "fail") == 0) {
            rc = Echo_fail(obj, (int32_t)n, arg2 ? arg2 : "", &env);
        } else if (strcmp(cmd, "sleep") == 0) {
            rc = Echo_sleep_ms(obj, (int32_t)n, &env);
        } else if (strcmp(cmd, "shutdown") == 0) {
            rc = Echo_shutdown(obj, &env);
        } else {
            fprintf(stderr, "echo-client: unknown command '%s'\n", cmd);
            usage(stderr);
            status = 2;
            break;
        }
        if (status == 0)
            status = report(rc, &env);
        phx_env_clear(&env);
    }
    fflush(stdout);
    phx_object_release(obj);
    phx_orb_destroy(orb);
    return status;
}
