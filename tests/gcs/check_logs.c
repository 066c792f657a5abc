/*
 * check_logs.c - command-line front end of the GCS delivery-log checker:
 *   check_logs LOG...
 * Exit status 0 when every guarantee holds, 1 otherwise.
 */
#include <stdio.h>

#include "tests/gcs/logcheck.h"

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: check_logs LOG...\n");
        return 2;
    }
    lc_result_t r;
    int v = lc_check((const char *const *)argv + 1, (size_t)argc - 1, stderr,
                     &r);
    printf("check_logs: %zu deliveries, %zu positions, %zu view transitions, "
           "%d violation(s)\n", r.deliveries, r.positions, r.transitions, v);
    return v ? 1 : 0;
}
