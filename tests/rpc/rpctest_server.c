/*
 * rpctest_server.c - helper of tests/rpc/test_phx_rpcgw.sh.
 *
 *   rpctest-server serve            serve tests/rpc/rpctest.x (both
 *                                   versions) on an ORB; prints
 *                                   "READY <IOR of v1>" and "V3 <IOR>"
 *   rpctest-server call PORT PROG VERS PROC [INT...]
 *                                   one raw ONC RPC call through a
 *                                   gateway; prints "STAT <accept_stat>
 *                                   [<int result>]" or "DENIED <stat>",
 *                                   "MISMATCH <low> <high>"
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <phx/orb.h>
#include <phx/xdr.h>

#include "tests/rpc/rawclient.h"
#include "tests/rpc/rpctest_impl.h"

static phx_orb_t *orb;

static void on_term(int sig)
{
    (void)sig;
    phx_orb_shutdown(orb);
}

static int serve(void)
{
    phx_error_t err;
    phx_orb_config_t cfg;
    const char *listen[] = {"tcp://127.0.0.1:*"};
    phx_object_t *v1, *v3;
    char *s1, *s3;
    phx_orb_config_init(&cfg);
    cfg.listen = listen;
    cfg.listen_count = 1;
    cfg.workers = 2;
    if (phx_orb_create(&cfg, &orb, &err) != 0 ||
        rpctest_activate(orb, &v1, &v3, &err) != 0) {
        fprintf(stderr, "rpctest-server: %s\n", err.msg);
        return 1;
    }
    phx_object_to_string(v1, &s1);
    phx_object_to_string(v3, &s3);
    signal(SIGTERM, on_term);
    signal(SIGINT, on_term);
    printf("READY %s\nV3 %s\n", s1, s3);
    fflush(stdout);
    free(s1);
    free(s3);
    phx_orb_run(orb);
    phx_object_release(v1);
    phx_object_release(v3);
    phx_orb_destroy(orb);
    return 0;
}

static int call(int argc, char **argv)
{
    if (argc < 4)
        return 2;
    int fd = raw_connect((uint16_t)atoi(argv[0]));
    if (fd < 0) {
        printf("NOCONNECT\n");
        return 1;
    }
    phx_xdr_writer_t w;
    phx_xdr_writer_init(&w);
    for (int i = 4; i < argc; i++)
        phx_xdr_put_u32(&w, (uint32_t)strtol(argv[i], NULL, 0));
    phx_rpc_reply_t rep;
    uint8_t *buf;
    int rc = raw_call(fd, (uint32_t)strtoul(argv[1], NULL, 0),
                      (uint32_t)strtoul(argv[2], NULL, 0),
                      (uint32_t)strtoul(argv[3], NULL, 0), w.buf, w.len,
                      &rep, &buf);
    phx_xdr_writer_fini(&w);
    close(fd);
    if (rc != 0) {
        printf("NOREPLY %d\n", rc);
        free(buf);
        return 1;
    }
    if (rep.reply_stat != PHX_RPC_MSG_ACCEPTED)
        printf("DENIED %u\n", rep.stat);
    else if (rep.stat == PHX_RPC_PROG_MISMATCH)
        printf("MISMATCH %u %u\n", rep.low, rep.high);
    else if (rep.stat == PHX_RPC_SUCCESS && rep.results_len == 4)
        printf("STAT 0 %d\n", (int32_t)((uint32_t)rep.results[0] << 24 |
                                        (uint32_t)rep.results[1] << 16 |
                                        (uint32_t)rep.results[2] << 8 |
                                        rep.results[3]));
    else
        printf("STAT %u\n", rep.stat);
    free(buf);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "serve") == 0)
        return serve();
    if (argc >= 2 && strcmp(argv[1], "call") == 0)
        return call(argc - 2, argv + 2);
    fprintf(stderr, "usage: rpctest-server serve | call PORT PROG VERS "
            "PROC [INT...]\n");
    return 2;
}
