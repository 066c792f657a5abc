/*
 * ft_member.c - a member process of the fault-tolerance tests: an ORB on
 * a free loopback TCP port serving one phxtest::Member servant under the
 * key "member", with the FT server interceptor installed.  It prints
 * "IOR <reference>" on stdout, then serves until SIGTERM or SIGINT; the
 * test tells it its group with set_group.
 *
 *   ft_member [--workers N]
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/ft/member.h"

static phx_orb_t *the_orb;

static void on_signal(int sig)
{
    (void)sig;
    if (the_orb)
        phx_orb_shutdown(the_orb);
}

int main(int argc, char **argv)
{
    unsigned workers = 2;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--workers") == 0 && i + 1 < argc) {
            workers = (unsigned)atoi(argv[++i]);
        } else {
            fprintf(stderr, "usage: %s [--workers N]\n", argv[0]);
            return 2;
        }
    }
    const char *ep = "tcp://127.0.0.1:*";
    phx_orb_config_t cfg;
    phx_orb_config_init(&cfg);
    cfg.listen = &ep;
    cfg.listen_count = 1;
    cfg.workers = workers;
    phx_error_t err;
    phx_orb_t *orb;
    if (phx_orb_create(&cfg, &orb, &err) != PHX_OK) {
        fprintf(stderr, "ft_member: %s\n", err.msg);
        return 1;
    }
    phx_ft_server_t *ft;
    if (phx_ft_server_install(orb, NULL, &ft, &err) != PHX_OK) {
        fprintf(stderr, "ft_member: %s\n", err.msg);
        phx_orb_destroy(orb);
        return 1;
    }
    static const char key[] = "member";
    member_t m;
    member_init(&m, orb, ft, key);
    phx_object_t *ref;
    char *ior = NULL;
    if (phx_orb_activate(orb, &m.servant.base, key, strlen(key), &ref,
                         &err) != PHX_OK ||
        phx_object_to_string(ref, &ior) != PHX_OK) {
        fprintf(stderr, "ft_member: cannot activate: %s\n", err.msg);
        phx_orb_destroy(orb);
        phx_ft_server_destroy(ft);
        return 1;
    }
    the_orb = orb;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    printf("IOR %s\n", ior);
    fflush(stdout);
    free(ior);
    phx_object_release(ref);
    phx_orb_run(orb);
    the_orb = NULL;
    phx_orb_destroy(orb);
    phx_ft_server_destroy(ft);
    return 0;
}
