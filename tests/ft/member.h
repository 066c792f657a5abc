/*
 * member.h - the phxtest::Member servant the fault-tolerance tests put
 * into object groups, shared by the in-process tests and the ft_member
 * program.
 */
#ifndef PHX_TEST_FT_MEMBER_H
#define PHX_TEST_FT_MEMBER_H

#include <stdatomic.h>

#include <phx/ft.h>
#include <phx/phx.h>

#include "tests/ft/gen/ft_test.h"

typedef struct member {
    phxtest_Member__servant servant;
    atomic_llong total;
    atomic_llong executed;
    phx_orb_t *orb;
    phx_ft_server_t *ft;      /* for set_group */
    const char *key;          /* the key the servant is activated under */
} member_t;

/* Initialize m (counters zero) for a servant activated under key. */
void member_init(member_t *m, phx_orb_t *orb, phx_ft_server_t *ft,
                 const char *key);

#endif
