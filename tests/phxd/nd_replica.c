/*
 * nd_replica.c - a replica of phxtest::Member (tests/ft/ft_test.idl) run
 * by phx_replica_run, for the daemon tests: its bad() operation secretly
 * reads the raw clock into its reply, so under SEMI_ACTIVE the followers'
 * divergence detector reports it (a DIVERGED line phxd turns into an
 * event).  The state is the servant's total and execution count.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <phx/replica.h>

#include "tests/ft/member.h"

static member_t the_member;

typedef struct st {
    long long total, executed;
} st_t;

static int get_state(void *arg, uint8_t **data, size_t *len)
{
    member_t *m = arg;
    st_t s = {atomic_load(&m->total), atomic_load(&m->executed)};
    if ((*data = malloc(sizeof s)) == NULL)
        return -1;
    memcpy(*data, &s, sizeof s);
    *len = sizeof s;
    return 0;
}

static int set_state(void *arg, const void *data, size_t len)
{
    member_t *m = arg;
    st_t s;
    if (len != sizeof s)
        return -1;
    memcpy(&s, data, sizeof s);
    atomic_store(&m->total, s.total);
    atomic_store(&m->executed, s.executed);
    return 0;
}

int main(int argc, char **argv)
{
    phx_replica_config_t cfg;
    phx_error_t err;
    int rc = phx_replica_parse(&cfg, "nd-replica", argc, argv, &err);
    if (rc != PHX_OK) {
        phx_replica_config_fini(&cfg);
        if (rc == PHX_EEXIST)
            return 0;
        fprintf(stderr, "%s\n", err.msg);
        return 2;
    }
    member_init(&the_member, NULL, NULL, "member");
    phx_replica_servant_t s = {
        .servant = &the_member.servant.base,
        .key = "member",
        .arg = &the_member,
        .get_state = get_state,
        .set_state = set_state,
    };
    rc = phx_replica_run(&cfg, &s, &err);
    if (rc != PHX_OK)
        fprintf(stderr, "%s\n", err.msg);
    phx_replica_config_fini(&cfg);
    return rc == PHX_OK ? 0 : 1;
}
