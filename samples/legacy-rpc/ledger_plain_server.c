/*
 * ledger_plain_server.c - the ledger as a plain, unreplicated rpcgen
 * server: rpcgen's dispatcher (ledger_svc.c, made with -m) and
 * ledger_server.c, on a TCP port given on the command line, without the
 * portmapper.  The baseline of the rpcgw_echo benchmark.
 *
 *   ledger-plain-server PORT      (0: any) prints "LISTENING <port>"
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "samples/legacy-rpc/rpcgen/ledger.h"

void ledger_prog_1(struct svc_req *rqstp, SVCXPRT *transp);

int main(int argc, char **argv)
{
    struct sockaddr_in sa;
    socklen_t sl = sizeof sa;
    int one = 1, sock;
    SVCXPRT *transp;

    if (argc != 2) {
        fprintf(stderr, "usage: ledger-plain-server PORT\n");
        return 2;
    }
    sock = socket(AF_INET, SOCK_STREAM, 0);
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)atoi(argv[1]));
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (sock < 0 || bind(sock, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        listen(sock, 16) != 0) {
        perror("ledger-plain-server");
        return 1;
    }
    getsockname(sock, (struct sockaddr *)&sa, &sl);
    transp = svctcp_create(sock, 0, 0);
    if (transp == NULL ||
        !svc_register(transp, LEDGER_PROG, LEDGER_VERS, ledger_prog_1, 0)) {
        fprintf(stderr, "ledger-plain-server: cannot serve\n");
        return 1;
    }
    printf("LISTENING %u\n", (unsigned)ntohs(sa.sin_port));
    fflush(stdout);
    svc_run();
    return 1;
}
