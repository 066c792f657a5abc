/*
 * semi_group.c - groups of tests/ft/semi_member processes for the
 * SEMI_ACTIVE and nested-invocation tests (tests/ft/semi_group.h).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/ft/gen/ft_test.h"
#include "tests/ft/semi_group.h"

void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Count the interesting lines of one line. */
void note(grp_t *g, int i, const char *line)
{
    if (strncmp(line, "DIVERGED", 8) == 0) {
        g->diverged[i]++;
        printf("\n    member %d: %s", i, line);
    } else if (strcmp(line, "PRIMARY") == 0) {
        g->primary_lines[i]++;
    }
}

/* Read p's lines until one starts with prefix (copying the rest). */
bool wait_line(grp_t *g, int i, const char *prefix, char *rest,
                      size_t cap, long long deadline)
{
    char line[8192];
    for (;;) {
        long long left = deadline - h_now_ms();
        if (left <= 0 ||
            h_read_line(&g->procs[i], line, sizeof line, (int)left) < 0) {
            /* Say what was missing, and whether the member is gone. */
            printf("\n    member %d: no '%s' line (%s)", i, prefix,
                   left <= 0 ? "timed out" : "its output ended");
            return false;
        }
        note(g, i, line);
        size_t n = strlen(prefix);
        if (strncmp(line, prefix, n) == 0) {
            if (rest) {
                if (strlen(line + n) >= cap)
                    return false;
                strcpy(rest, line + n);
            }
            return true;
        }
    }
}

/* Read whatever lines the living members printed within ms. */
void drain(grp_t *g, int ms)
{
    char line[8192];
    long long until = h_now_ms() + ms;
    do {
        for (int i = 0; i < g->n; i++)
            while (g->alive[i] &&
                   h_read_line(&g->procs[i], line, sizeof line, 5) >= 0)
                note(g, i, line);
    } while (h_now_ms() < until);
}

int spawn(grp_t *g, int i, const char *style, const char *group,
                 int members, const char *seed, const char *workers,
                 bool mt)
{
    char mem[16];
    snprintf(mem, sizeof mem, "%d", members);
    char *argv[20];
    int k = 0;
    argv[k++] = (char *)h_prog("tests/ft/semi_member");
    argv[k++] = "--style";
    argv[k++] = (char *)style;
    argv[k++] = "--group";
    argv[k++] = (char *)group;
    argv[k++] = "--members";
    argv[k++] = mem;
    argv[k++] = "--workers";
    argv[k++] = (char *)workers;
    argv[k++] = "--every";
    argv[k++] = "5";
    if (mt)
        argv[k++] = "--mt";
    if (seed) {
        argv[k++] = "--seed";
        argv[k++] = (char *)seed;
    }
    argv[k] = NULL;
    if (h_spawn(&g->procs[i], argv) != 0)
        return -1;
    g->alive[i] = true;
    return 0;
}

/* Start n members of style (the first founds the group and is the
 * leader / primary), the registry's IOGR and an FT client. */
bool start_group(grp_t *g, const char *style, const char *group,
                        int n, const char *workers, bool mt)
{
    memset(g, 0, sizeof *g);
    g->n = n;
    long long deadline = h_now_ms() + START_MS;
    for (int i = 0; i < n; i++) {
        if (spawn(g, i, style, group, n, i ? g->gcs[0] : NULL, workers,
                  mt) != 0)
            return false;
        if (!wait_line(g, i, "GCS ", g->gcs[i], sizeof g->gcs[i],
                       deadline))
            return false;
        /* The others join once the first is in its own view. */
        if (i == 0 && strcmp(style, "active") != 0 &&
            !wait_line(g, 0, "PRIMARY", NULL, 0, deadline))
            return false;
    }
    for (int i = 0; i < n; i++)
        if (!wait_line(g, i, "READY ", g->ior[i], sizeof g->ior[i],
                       deadline))
            return false;
    phx_error_t err;
    if (phx_ft_registry_create("phalanx-test", &g->reg, &err) != PHX_OK)
        return false;
    uint64_t gid;
    if (phx_ft_registry_create_group(g->reg, phxtest_Member__repo_id, &gid,
                                     &err) != PHX_OK)
        return false;
    phx_orb_config_t cfg;
    phx_orb_config_init(&cfg);
    cfg.call_timeout_ms = 10000;
    cfg.connect_timeout_ms = 1000;
    cfg.max_forwards = 64;
    if (phx_orb_create(&cfg, &g->orb, &err) != PHX_OK)
        return false;
    phx_ft_client_config_t fcfg;
    phx_ft_client_config_init(&fcfg);
    fcfg.request_duration_ms = 30000;
    if (phx_ft_client_install(g->orb, &fcfg, &g->ft, &err) != PHX_OK)
        return false;
    for (int i = 0; i < n; i++) {
        phx_ior_t ior;
        char loc[32];
        snprintf(loc, sizeof loc, "member-%d", i);
        if (phx_ior_from_string(g->ior[i], &ior, NULL) != PHX_OK)
            return false;
        int rc = phx_ft_registry_add_member(g->reg, gid, loc, &ior, &err);
        phx_ior_fini(&ior);
        if (rc != PHX_OK ||
            phx_object_from_string(g->orb, g->ior[i], &g->plain[i], &err) !=
                PHX_OK)
            return false;
    }
    phx_ior_t iogr;
    uint32_t version;
    if (phx_ft_registry_get_iogr(g->reg, gid, &iogr, &version) != PHX_OK)
        return false;
    int rc = phx_object_from_ior(g->orb, &iogr, &g->group, &err);
    phx_ior_fini(&iogr);
    return rc == PHX_OK;
}

void stop_group(grp_t *g)
{
    if (g->group)
        phx_object_release(g->group);
    for (int i = 0; i < MAXP; i++)
        if (g->plain[i])
            phx_object_release(g->plain[i]);
    if (g->orb)
        phx_orb_destroy(g->orb);
    phx_ft_client_destroy(g->ft);
    phx_ft_registry_destroy(g->reg);
    for (int i = 0; i < MAXP; i++)
        if (g->alive[i]) {
            h_kill(&g->procs[i], SIGTERM, 5000);
            g->alive[i] = false;
        }
}

/* digest() of member i, or -1. */
int64_t digest_of(grp_t *g, phx_object_t *o)
{
    phx_env_t env = PHX_ENV_INIT;
    int64_t d = -1;
    if (phxtest_Member_digest(o, &d, &env) != PHX_OK) {
        phx_env_clear(&env);
        return -1;
    }
    (void)g;
    return d;
}

/* Wait until every living member (and extra, when not NULL) has the same
 * digest; returns it or -1. */
int64_t settled_digest(grp_t *g, phx_object_t *extra)
{
    long long until = h_now_ms() + 15000;
    int64_t d0 = -1;
    do {
        bool same = true;
        d0 = -1;
        for (int i = 0; i < g->n && same; i++) {
            if (!g->alive[i])
                continue;
            int64_t d = digest_of(g, g->plain[i]);
            if (d0 == -1)
                d0 = d;
            else if (d != d0)
                same = false;
        }
        if (same && extra && digest_of(g, extra) != d0)
            same = false;
        if (same && d0 != -1)
            return d0;
        sleep_ms(20);
    } while (h_now_ms() < until);
    for (int i = 0; i < g->n; i++)
        if (g->alive[i])
            printf("\n    member %d digest %lld", i,
                   (long long)digest_of(g, g->plain[i]));
    return -1;
}
