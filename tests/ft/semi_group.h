/*
 * semi_group.h - the groups of tests/ft/semi_member processes that the
 * SEMI_ACTIVE and nested-invocation tests start: spawning the members on
 * loopback (the first founds, the others join through it), reading their
 * report lines under deadlines, the group reference with the FT client,
 * state digests, and stopping them by PID.
 */
#ifndef PHX_TEST_FT_SEMI_GROUP_H
#define PHX_TEST_FT_SEMI_GROUP_H

#include <stdbool.h>
#include <stdint.h>

#include <phx/ft.h>
#include <phx/phx.h>

#include "tests/integration/harness.h"

#define MAXP 4
#define START_MS 20000

typedef struct grp {
    hproc_t procs[MAXP];
    bool alive[MAXP];
    char gcs[MAXP][512];
    char ior[MAXP][8192];
    int diverged[MAXP];
    int primary_lines[MAXP];
    int n;
    phx_orb_t *orb;
    phx_ft_client_t *ft;
    phx_ft_registry_t *reg;
    phx_object_t *group;
    phx_object_t *plain[MAXP];
} grp_t;

void sleep_ms(int ms);
void note(grp_t *g, int i, const char *line);
bool wait_line(grp_t *g, int i, const char *prefix, char *rest, size_t cap, long long deadline);
void drain(grp_t *g, int ms);
int spawn(grp_t *g, int i, const char *style, const char *group, int members, const char *seed, const char *workers, bool mt);
bool start_group(grp_t *g, const char *style, const char *group, int n, const char *workers, bool mt);
void stop_group(grp_t *g);
int64_t digest_of(grp_t *g, phx_object_t *o);
int64_t settled_digest(grp_t *g, phx_object_t *extra);

#endif
