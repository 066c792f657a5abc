/*
 * ledger_client.c - a classic ONC RPC client of ledger.x: rpcgen's client
 * stubs (ledger_clnt.c) and XDR routines (ledger_xdr.c), libtirpc, and
 * nothing of Phalanx.  It talks to phx-rpcgw exactly as it would to the
 * original rpcgen server.
 *
 *   ledger-client HOST PORT whoami          the server's pid
 *   ledger-client HOST PORT total           sum of the balances
 *   ledger-client HOST PORT run N [PACE_MS] N deposits of 1 over 5
 *                                           accounts, then checks that
 *                                           the total grew by exactly N
 *   ledger-client HOST PORT bench N         N WHOAMI calls, then
 *                                           "LAT <median_us> <p99_us>"
 *
 * PORT 0 asks the portmapper (clnt_create), as rpcgen clients usually do.
 * Prints "PROGRESS i" every 25 calls and "DONE ..." at the end of run.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "samples/legacy-rpc/rpcgen/ledger.h"

static CLIENT *connect_to(const char *host, int port)
{
    CLIENT *cl;
    if (port == 0) {
        cl = clnt_create(host, LEDGER_PROG, LEDGER_VERS, "tcp");
    } else {
        struct sockaddr_in sa;
        int sock = RPC_ANYSOCK;
        memset(&sa, 0, sizeof sa);
        sa.sin_family = AF_INET;
        sa.sin_port = htons((unsigned short)port);
        if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
            fprintf(stderr, "ledger-client: %s: not an IPv4 address\n", host);
            return NULL;
        }
        cl = clnttcp_create(&sa, LEDGER_PROG, LEDGER_VERS, &sock, 0, 0);
    }
    if (cl == NULL) {
        clnt_pcreateerror(host);
        return NULL;
    }
    struct timeval tv = {30, 0};
    clnt_control(cl, CLSET_TIMEOUT, (char *)&tv);
    return cl;
}

static quad_t total(CLIENT *cl, int *ok)
{
    quad_t *t = total_1(NULL, cl);
    *ok = t != NULL;
    if (t == NULL) {
        clnt_perror(cl, "TOTAL");
        return 0;
    }
    return *t;
}

static int cmp_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: ledger-client HOST PORT whoami|total|"
                "run N [PACE_MS]|bench N\n");
        return 2;
    }
    CLIENT *cl = connect_to(argv[1], atoi(argv[2]));
    if (cl == NULL)
        return 1;
    int status = 0, ok;
    if (strcmp(argv[3], "whoami") == 0) {
        int *pid = whoami_1(NULL, cl);
        if (pid == NULL) {
            clnt_perror(cl, "WHOAMI");
            status = 1;
        } else {
            printf("%d\n", *pid);
        }
    } else if (strcmp(argv[3], "total") == 0) {
        quad_t t = total(cl, &ok);
        if (ok)
            printf("%lld\n", (long long)t);
        status = !ok;
    } else if (strcmp(argv[3], "run") == 0 && argc >= 5) {
        long n = atol(argv[4]), pace = argc >= 6 ? atol(argv[5]) : 0;
        long failed = 0, bad = 0;
        quad_t before = total(cl, &ok);
        if (!ok)
            return 1;
        for (long i = 1; i <= n; i++) {
            char key[16];
            deposit_args a;
            snprintf(key, sizeof key, "acct%ld", i % 5);
            a.key = key;
            a.amount = 1;
            a.note = "deposit";
            lookup_res *r = deposit_1(&a, cl);
            if (r == NULL) {
                clnt_perror(cl, "DEPOSIT");
                failed++;
            } else if (r->status != LEDGER_OK ||
                       strcmp(r->lookup_res_u.e.key, key) != 0) {
                bad++;
            }
            if (r)
                xdr_free((xdrproc_t)xdr_lookup_res, (char *)r);
            if (i % 25 == 0) {
                printf("PROGRESS %ld\n", i);
                fflush(stdout);
            }
            if (pace) {
                struct timespec ts = {pace / 1000, (pace % 1000) * 1000000L};
                nanosleep(&ts, NULL);
            }
        }
        quad_t after = total(cl, &ok);
        lookup_res *l;
        char *k = "acct1";
        l = lookup_1(&k, cl);
        printf("DONE calls=%ld failed=%ld bad=%ld grew=%lld lookup=%s\n", n,
               failed, bad, (long long)(after - before),
               l && l->status == LEDGER_OK ? "ok" : "failed");
        if (l)
            xdr_free((xdrproc_t)xdr_lookup_res, (char *)l);
        status = (!ok || failed || bad || after - before != n) ? 1 : 0;
    } else if (strcmp(argv[3], "bench") == 0 && argc >= 5) {
        long n = atol(argv[4]);
        long *us = calloc((size_t)(n > 0 ? n : 1), sizeof *us);
        for (long i = 0; us && i < n; i++) {
            struct timespec t0, t1;
            clock_gettime(CLOCK_MONOTONIC, &t0);
            if (whoami_1(NULL, cl) == NULL) {
                clnt_perror(cl, "WHOAMI");
                status = 1;
                break;
            }
            clock_gettime(CLOCK_MONOTONIC, &t1);
            us[i] = (t1.tv_sec - t0.tv_sec) * 1000000L +
                    (t1.tv_nsec - t0.tv_nsec) / 1000;
        }
        if (us && status == 0 && n > 0) {
            qsort(us, (size_t)n, sizeof *us, cmp_long);
            printf("LAT %ld %ld\n", us[n / 2], us[(n * 99) / 100]);
        }
        free(us);
    } else {
        fprintf(stderr, "ledger-client: unknown command '%s'\n", argv[3]);
        status = 2;
    }
    clnt_destroy(cl);
    return status;
}
