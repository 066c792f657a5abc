/*
 * logcheck.h - verifies the delivery logs written by gcs_member (--log)
 * against the guarantees of the group communication service.
 *
 * Log lines (one event each, space separated):
 *   I <name> <id>                                this process's incarnation
 *   V <group> <view> <primary> <ids> <joined> <left>   view change
 *   D <group> <count> <sender> <seq> <sender id> message applied; count is
 *                                                the member's counter after
 *   Y <group> <token>                            sync marker delivered
 *   S <group> <count> <digest>                   state installed
 *   G <group> <count> <digest>                   state given
 *
 * A member's counter is replicated state (it travels with state transfer),
 * so "the message applied as number c" must be the same message at every
 * member.  The checks, per group:
 *   total order   position c holds the same message in every log;
 *   gap-free      each member's counter goes up by one per message, from
 *                 0 or from the state it installed (exact suffix after a
 *                 state transfer, no duplicates);
 *   FIFO          in the agreed sequence each sender's numbers are
 *                 consecutive (nothing lost, reordered or repeated);
 *   views         a primary view id names the same members everywhere;
 *   virtual synchrony  members that move from view v to the same primary
 *                 view w have applied the same messages when they leave v;
 *   uniform       everything any member (even one that crashed or was cut
 *                 off) applied in v was applied in v by every member that
 *                 moved on to a primary view;
 *   no split brain  nothing is applied in a non-primary view.
 */
#ifndef PHX_TEST_LOGCHECK_H
#define PHX_TEST_LOGCHECK_H

#include <stddef.h>
#include <stdio.h>

typedef struct lc_result {
    int violations;
    size_t deliveries;   /* D lines read */
    size_t positions;    /* distinct positions (group, count) */
    size_t transitions;  /* view transitions compared */
} lc_result_t;

/* Check the logs; violations are described on report (may be NULL). */
int lc_check(const char *const *paths, size_t n, FILE *report,
             lc_result_t *res);

#endif
