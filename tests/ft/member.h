/*
 * member.h - the phxtest::Member servant the fault-tolerance tests put
 * into object groups, shared by the in-process tests and the ft_member
 * program.
 */
#ifndef PHX_TEST_FT_MEMBER_H
#define PHX_TEST_FT_MEMBER_H

#include <stdatomic.h>

#include <phx/ft.h>
#include <phx/ft_nd.h>
#include <phx/phx.h>

#include "tests/ft/gen/ft_test.h"

typedef struct member {
    phxtest_Member__servant servant;
    atomic_llong total;
    atomic_llong executed;
    phx_orb_t *orb;
    phx_ft_server_t *ft;      /* for set_group */
    const char *key;          /* the key the servant is activated under */
    /* Non-determinism hooks (gnow, grand, ginput, work): */
    atomic_ullong nd_hash;    /* what gnow/grand/ginput saw */
    atomic_llong input_n;     /* ginput's counter */
    bool nd_ready;            /* member_nd_init done: work() available */
    phx_ft_mutex_t mx;        /* work(): its state below */
    phx_ft_cond_t cv;
    long long work_count;
    unsigned long long work_hash;
} member_t;

/* Initialize m (counters zero) for a servant activated under key. */
void member_init(member_t *m, phx_orb_t *orb, phx_ft_server_t *ft,
                 const char *key);
/* Create work()'s mutex and condition variable (before serving). */
void member_nd_init(member_t *m);
void member_nd_fini(member_t *m);
/* The state digest() returns. */
int64_t member_digest(member_t *m);

#endif
