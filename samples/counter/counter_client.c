/*
 * counter_client.c - calls the replicated counter through its object group
 * reference.
 *
 *   counter-client run [--calls N] [--pace-ms MS] REF-FILE...
 *   counter-client total REF-FILE
 *
 * run: builds the group reference (IOGR) from the replicas' references
 * (one file each, as printed by counter-replica after "READY "), then
 * calls add(1) N times through it.  It prints "replica PID" (the replica
 * it talks to first), "call I total T" every 50 calls, and at the end
 * whether every call returned exactly the next total: a lost update or
 * one executed twice would show as a gap or a jump.  Exit status 0 when
 * all N calls returned 1..N in order.
 * total: prints the total of one replica, asked directly (not through the
 * group).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <phx/ft.h>
#include <phx/phx.h>

#include "samples/counter/gen/counter.h"

static char *read_ref(const char *path)
{
    FILE *f = fopen(path, "r");
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

static int usage(void)
{
    fprintf(stderr, "usage: counter-client run [--calls N] [--pace-ms MS] "
                    "REF-FILE...\n"
                    "       counter-client total REF-FILE\n");
    return 2;
}

static int describe(const char *what, phx_env_t *env)
{
    char buf[512];
    fprintf(stderr, "counter-client: %s: %s\n", what,
            phx_env_describe(env, buf, sizeof buf));
    phx_env_clear(env);
    return 1;
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return usage();
    bool run = strcmp(argv[1], "run") == 0;
    if (!run && strcmp(argv[1], "total") != 0)
        return usage();
    long calls = 600, pace_ms = 0;
    int i = 2;
    for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
        char *end;
        long v = strtol(argv[i + 1], &end, 10);
        if (*end || v < 0 || v > 10000000)
            return usage();
        if (strcmp(argv[i], "--calls") == 0)
            calls = v;
        else if (strcmp(argv[i], "--pace-ms") == 0)
            pace_ms = v;
        else
            return usage();
    }
    size_t nrefs = (size_t)(argc - i);
    if (nrefs == 0 || (!run && nrefs != 1))
        return usage();

    phx_orb_config_t cfg;
    phx_orb_config_init(&cfg);
    cfg.connect_timeout_ms = 2000;
    phx_orb_t *orb;
    phx_error_t err;
    if (phx_orb_create(&cfg, &orb, &err) != PHX_OK) {
        fprintf(stderr, "counter-client: %s\n", err.msg);
        return 1;
    }
    phx_ft_client_t *ft = NULL;
    phx_ft_client_config_t fcfg;
    phx_ft_client_config_init(&fcfg);
    fcfg.request_duration_ms = 10000;
    if (phx_ft_client_install(orb, &fcfg, &ft, &err) != PHX_OK) {
        fprintf(stderr, "counter-client: %s\n", err.msg);
        phx_orb_destroy(orb);
        return 1;
    }

    /* The replicas' references, then the group's. */
    phx_ior_t *members = calloc(nrefs, sizeof *members);
    int status = members ? 0 : 1;
    for (size_t k = 0; status == 0 && k < nrefs; k++) {
        char *s = read_ref(argv[i + (int)k]);
        if (s == NULL || phx_ior_from_string(s, &members[k], &err) != PHX_OK) {
            fprintf(stderr, "counter-client: bad reference in %s%s%s\n",
                    argv[i + (int)k], s ? ": " : "", s ? err.msg : "");
            status = 2;
        }
        free(s);
    }
    phx_object_t *obj = NULL;
    phx_env_t env = PHX_ENV_INIT;
    if (status == 0 && !run) {
        int64_t t;
        if (phx_object_from_ior(orb, &members[0], &obj, &err) != PHX_OK)
            status = 2;
        else if (demo_Counter_total(obj, &t, &env) != PHX_OK)
            status = describe("total", &env);
        else
            printf("%lld\n", (long long)t);
    } else if (status == 0) {
        phx_ft_iogr_spec_t spec = {
            .ft_domain_id = "demo",
            .object_group_id = 1,
            .object_group_ref_version = 1,
            .members = members,
            .member_count = nrefs,
            .primary = PHX_FT_NO_PRIMARY,
        };
        phx_ior_t iogr;
        if (phx_ft_iogr_build(&spec, &iogr, &err) != PHX_OK ||
            phx_object_from_ior(orb, &iogr, &obj, &err) != PHX_OK) {
            fprintf(stderr, "counter-client: group reference: %s\n",
                    err.msg);
            status = 1;
        } else {
            phx_ior_fini(&iogr);
        }
        int32_t pid;
        if (status == 0 && demo_Counter_pid(obj, &pid, &env) != PHX_OK)
            status = describe("pid", &env);
        if (status == 0) {
            printf("replica %d\n", pid);
            fflush(stdout);
        }
        int64_t first = -1, expect = 0;
        long wrong = 0;
        for (long c = 1; status == 0 && c <= calls; c++) {
            int64_t t;
            if (demo_Counter_add(obj, 1, &t, &env) != PHX_OK) {
                status = describe("add", &env);
                break;
            }
            if (first < 0)
                expect = first = t;
            if (t != expect)
                wrong++;
            expect = t + 1;
            if (c % 50 == 0) {
                printf("call %ld total %lld\n", c, (long long)t);
                fflush(stdout);
            }
            if (pace_ms) {
                struct timespec ts = {pace_ms / 1000,
                                      (pace_ms % 1000) * 1000000L};
                nanosleep(&ts, NULL);
            }
        }
        phx_ft_client_stats_t st;
        phx_ft_client_get_stats(ft, &st);
        if (status == 0) {
            printf("%ld calls returned totals %lld..%lld, %s; %llu "
                   "re-invocations\n",
                   calls, (long long)first, (long long)(expect - 1),
                   wrong ? "with gaps or repeats" : "each exactly once",
                   (unsigned long long)st.reinvocations);
            if (wrong)
                status = 1;
        }
    }
    phx_object_release(obj);
    for (size_t k = 0; members && k < nrefs; k++)
        phx_ior_fini(&members[k]);
    free(members);
    phx_orb_destroy(orb);
    phx_ft_client_destroy(ft);
    return status;
}
