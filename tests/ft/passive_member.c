/*
 * passive_member.c - a member of the WARM_PASSIVE replication test: an
 * ORB with worker threads on a free loopback TCP port serving one
 * phxtest::Member servant under the key "member", with WARM_PASSIVE
 * replication installed over the GCS group "phx-passive-test".
 *
 *   passive_member --members N [--seed ENDPOINT]
 *
 * It prints "GCS <endpoint>" once its GCS handle is up, then
 * "READY <reference>" once the group's view has N members, and
 * "PRIMARY" whenever a view makes it the primary; it serves until
 * SIGTERM or SIGINT.  The servant's total and execution count are the
 * state the primary sends with each update.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <phx/gcs.h>

#include "tests/ft/member.h"

static phx_orb_t *the_orb;
static member_t the_member;
static size_t want_members;
static char *the_ior;
static bool ready_printed;
static bool was_primary;
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

static void on_signal(int sig)
{
    (void)sig;
    if (the_orb)
        phx_orb_shutdown(the_orb);
}

static void on_view(void *arg, const phx_gcs_view_t *view, bool primary)
{
    (void)arg;
    pthread_mutex_lock(&out_lock);
    if (primary && !was_primary) {
        printf("PRIMARY\n");
        fflush(stdout);
    }
    was_primary = primary;
    if (!ready_printed && view->primary && view->n_members >= want_members &&
        the_ior != NULL) {
        printf("READY %s\n", the_ior);
        fflush(stdout);
        ready_printed = true;
    }
    pthread_mutex_unlock(&out_lock);
}

static int get_state(void *arg, uint8_t **data, size_t *len)
{
    (void)arg;
    long long t = atomic_load(&the_member.total);
    long long e = atomic_load(&the_member.executed);
    *data = malloc(2 * sizeof t);
    if (*data == NULL)
        return -1;
    memcpy(*data, &t, sizeof t);
    memcpy(*data + sizeof t, &e, sizeof e);
    *len = 2 * sizeof t;
    return 0;
}

static int set_state(void *arg, const void *data, size_t len)
{
    (void)arg;
    long long t, e;
    if (len != 2 * sizeof t)
        return -1;
    memcpy(&t, data, sizeof t);
    memcpy(&e, (const uint8_t *)data + sizeof t, sizeof e);
    atomic_store(&the_member.total, t);
    atomic_store(&the_member.executed, e);
    return 0;
}

int main(int argc, char **argv)
{
    const char *seed = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--members") == 0 && i + 1 < argc) {
            want_members = (size_t)atoi(argv[++i]);
        } else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
            seed = argv[++i];
        } else {
            fprintf(stderr, "usage: %s --members N [--seed ENDPOINT]\n",
                    argv[0]);
            return 2;
        }
    }
    if (want_members == 0)
        want_members = 1;
    const char *ep = "tcp://127.0.0.1:*";
    phx_orb_config_t cfg;
    phx_orb_config_init(&cfg);
    cfg.listen = &ep;
    cfg.listen_count = 1;
    cfg.workers = 2; /* the primary's worker waits for the update */
    phx_error_t err;
    phx_orb_t *orb;
    if (phx_orb_create(&cfg, &orb, &err) != PHX_OK) {
        fprintf(stderr, "passive_member: %s\n", err.msg);
        return 1;
    }
    static const char key[] = "member";
    member_init(&the_member, orb, NULL, key);
    phx_object_t *ref;
    char *ior = NULL;
    if (phx_orb_activate(orb, &the_member.servant.base, key, strlen(key),
                         &ref, &err) != PHX_OK ||
        phx_object_to_string(ref, &ior) != PHX_OK) {
        fprintf(stderr, "passive_member: cannot activate: %s\n", err.msg);
        phx_orb_destroy(orb);
        return 1;
    }
    phx_object_release(ref);
    pthread_mutex_lock(&out_lock);
    the_ior = ior;
    pthread_mutex_unlock(&out_lock);

    phx_gcs_config_t gc;
    phx_gcs_config_init(&gc);
    if (seed) {
        gc.seeds = &seed;
        gc.n_seeds = 1;
    }
    phx_ft_passive_config_t pcfg;
    phx_ft_passive_config_init(&pcfg);
    pcfg.group = "phx-passive-test";
    pcfg.view_change = on_view;
    pcfg.get_state = get_state;
    pcfg.set_state = set_state;
    phx_ft_passive_t *pas;
    if (phx_ft_passive_install(orb, &gc, key, strlen(key), &pcfg, &pas,
                               &err) != PHX_OK) {
        fprintf(stderr, "passive_member: %s\n", err.msg);
        phx_orb_destroy(orb);
        free(ior);
        return 1;
    }
    the_orb = orb;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    pthread_mutex_lock(&out_lock);
    printf("GCS %s\n", phx_ft_passive_gcs_endpoint(pas));
    fflush(stdout);
    pthread_mutex_unlock(&out_lock);

    phx_orb_run(orb);
    the_orb = NULL;
    phx_ft_passive_shutdown(pas);
    phx_orb_destroy(orb);
    phx_ft_passive_destroy(pas);
    free(ior);
    return 0;
}
