/*
 * bench_dii.c - the cost of dynamic invocation (include/phx/dii.h): a
 * call of phalanx::Echo::echo_long built at run time from its operation
 * description, against the generated stub making the same call, in
 * interleaved rounds in the same process, on the same connection.  The
 * server is an ORB in this process (its own thread, ZeroMQ over loopback
 * TCP) with the generated skeleton.
 *
 *   bench_dii [dii_echo]      bench_dii --list
 *
 *   dii_echo: median_us=M p99_us=P ops_s=T vs=stub_echo ratio=R base_us=B
 *
 * ratio = DII median / stub median.  Environment: BENCH_SCALE (call-count
 * multiplier, default 1), BENCH_RUNS (rounds, default 5).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <phx/dii.h>
#include <phx/phx.h>
#include <phx/transport.h>

#include "samples/echo/gen/echo.h"

static int impl_echo_long(void *self, int32_t v, int32_t *ret, phx_env_t *env)
{
    (void)self;
    (void)env;
    *ret = v;
    return PHX_OK;
}

static const phalanx_Echo__epv epv = {.echo_long = impl_echo_long};

static void die(const char *what, const char *why)
{
    fprintf(stderr, "bench_dii: %s: %s\n", what, why);
    exit(1);
}

static void *serve(void *arg)
{
    phx_orb_run(arg);
    return NULL;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

typedef struct stats {
    double med, p99, ops;
} stats_t;

static stats_t summarize(int64_t *s, int n)
{
    qsort(s, (size_t)n, sizeof s[0], cmp_i64);
    int64_t sum = 0;
    for (int i = 0; i < n; i++)
        sum += s[i];
    stats_t st = {(double)s[n / 2], (double)s[(n * 99) / 100],
                  sum > 0 ? (double)n * 1e6 / (double)sum : 0};
    return st;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--list") == 0) {
        printf("dii_echo\n");
        return 0;
    }
    for (int a = 1; a < argc; a++)
        if (strcmp(argv[a], "dii_echo") != 0) {
            fprintf(stderr, "bench_dii: unknown figure '%s' (--list)\n",
                    argv[a]);
            return 2;
        }
    const char *e;
    double scale = (e = getenv("BENCH_SCALE")) && atof(e) > 0 ? atof(e) : 1;
    int runs = (e = getenv("BENCH_RUNS")) && atoi(e) > 0 ? atoi(e) : 5;
    int per = (int)(4000 * scale);
    if (per < 20)
        per = 20;

    const char *ep = "tcp://127.0.0.1:*";
    phx_orb_config_t cfg;
    phx_orb_config_init(&cfg);
    cfg.listen = &ep;
    cfg.listen_count = 1;
    phx_error_t err;
    phx_orb_t *server, *client;
    if (phx_orb_create(&cfg, &server, &err) != PHX_OK)
        die("server", err.msg);
    phalanx_Echo__servant sv;
    phalanx_Echo__servant_init(&sv, &epv, NULL);
    phx_object_t *ref;
    char *ior;
    if (phx_orb_activate(server, &sv.base, "echo", 4, &ref, &err) != PHX_OK ||
        phx_object_to_string(ref, &ior) != PHX_OK)
        die("activate", err.msg);
    phx_object_release(ref);
    pthread_t th;
    if (pthread_create(&th, NULL, serve, server) != 0)
        die("thread", "cannot start the server");
    phx_orb_config_init(&cfg);
    phx_object_t *obj;
    if (phx_orb_create(&cfg, &client, &err) != PHX_OK ||
        phx_object_from_string(client, ior, &obj, &err) != PHX_OK)
        die("client", err.msg);
    free(ior);

    const phx_opdesc_t *op = &phalanx_Echo__op_echo_long;
    phx_any_t *args;
    if (phx_dii_args_new(op, &args) != PHX_OK)
        die("dii", "cannot make the arguments");
    phx_env_t env = PHX_ENV_INIT;
    int64_t *ss = malloc(sizeof *ss * (size_t)(per * runs));
    int64_t *sd = malloc(sizeof *sd * (size_t)(per * runs));
    if (ss == NULL || sd == NULL)
        die("memory", "out of memory");
    int ns = 0, nd = 0;
    for (int r = -1; r < runs; r++) {
        /* round -1 warms the connection up and is not counted */
        for (int i = 0; i < per; i++) {
            int32_t v = i, out = 0;
            int64_t t0 = phx_now_us();
            if (phalanx_Echo_echo_long(obj, v, &out, &env) != PHX_OK ||
                out != v)
                die("stub call", "failed");
            if (r >= 0)
                ss[ns++] = phx_now_us() - t0;
        }
        for (int i = 0; i < per; i++) {
            *(int32_t *)args[0]._value = i;
            phx_any_t result = {0};
            int64_t t0 = phx_now_us();
            if (phx_dii_invoke(obj, op, args, &result, &env) != PHX_OK ||
                *(int32_t *)result._value != i)
                die("DII call", "failed");
            int64_t dt = phx_now_us() - t0;
            phx_value_free(&phx_tc_any, &result);
            if (r >= 0)
                sd[nd++] = dt;
        }
    }
    stats_t s = summarize(ss, ns), d = summarize(sd, nd);
    printf("dii_echo: median_us=%.2f p99_us=%.2f ops_s=%.0f vs=stub_echo "
           "ratio=%.2f base_us=%.2f\n",
           d.med, d.p99, d.ops, d.med / s.med, s.med);
    phx_dii_args_free(args, op->param_count);
    free(args);
    free(ss);
    free(sd);
    phx_object_release(obj);
    phx_orb_destroy(client);
    phx_orb_shutdown(server);
    pthread_join(th, NULL);
    phx_orb_destroy(server);
    return 0;
}
