/*
 * counter_replica.c - one replica of the ACTIVE replicated counter.
 *
 *   counter-replica --members N [--seed GCS-ENDPOINT]
 *
 * Serves demo::Counter under the key "counter" on a free loopback TCP port,
 * replicated with the ACTIVE style over the group communication group
 * "phx-counter": every replica executes every request in the same order,
 * and a replica that joins later gets the total through state transfer.
 * Prints "GCS <endpoint>" (what others pass as --seed) once its group
 * handle is up, then "READY <reference>" once the group has N members,
 * and serves until SIGTERM or SIGINT.  The servant itself has no
 * replication logic beyond get_state/set_state.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <phx/ft.h>
#include <phx/gcs.h>
#include <phx/phx.h>

#include "samples/counter/gen/counter.h"

static atomic_llong total;
static phx_orb_t *the_orb;
static size_t want_members = 1;
static char *the_ior;
static bool ready_printed;
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- the servant: no replication logic ---- */

static int c_add(void *self, int64_t delta, int64_t *ret, phx_env_t *env)
{
    (void)self;
    (void)env;
    *ret = atomic_fetch_add(&total, delta) + delta;
    return PHX_OK;
}

static int c_total(void *self, int64_t *ret, phx_env_t *env)
{
    (void)self;
    (void)env;
    *ret = atomic_load(&total);
    return PHX_OK;
}

static int c_pid(void *self, int32_t *ret, phx_env_t *env)
{
    (void)self;
    (void)env;
    *ret = (int32_t)getpid();
    return PHX_OK;
}

static const demo_Counter__epv counter_epv = {
    .add = c_add,
    .total = c_total,
    .pid = c_pid,
};

/* ---- state transfer: the total ---- */

static int get_state(void *arg, uint8_t **data, size_t *len)
{
    (void)arg;
    long long t = atomic_load(&total);
    if ((*data = malloc(sizeof t)) == NULL)
        return -1;
    memcpy(*data, &t, sizeof t);
    *len = sizeof t;
    return 0;
}

static int set_state(void *arg, const void *data, size_t len)
{
    (void)arg;
    long long t;
    if (len != sizeof t)
        return -1;
    memcpy(&t, data, sizeof t);
    atomic_store(&total, t);
    return 0;
}

static void on_view(void *arg, const phx_gcs_view_t *view)
{
    (void)arg;
    pthread_mutex_lock(&out_lock);
    if (!ready_printed && view->primary && view->n_members >= want_members &&
        the_ior) {
        printf("READY %s\n", the_ior);
        fflush(stdout);
        ready_printed = true;
    }
    pthread_mutex_unlock(&out_lock);
}

static void on_signal(int sig)
{
    (void)sig;
    if (the_orb)
        phx_orb_shutdown(the_orb);
}

int main(int argc, char **argv)
{
    const char *seed = NULL;
    for (int i = 1; i < argc; i += 2) {
        char *end = NULL;
        if (strcmp(argv[i], "--members") == 0 && i + 1 < argc) {
            long n = strtol(argv[i + 1], &end, 10);
            if (*end || n < 1 || n > 64) {
                fprintf(stderr, "counter-replica: --members wants 1..64\n");
                return 2;
            }
            want_members = (size_t)n;
        } else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
            seed = argv[i + 1];
        } else {
            fprintf(stderr, "usage: counter-replica --members N "
                            "[--seed GCS-ENDPOINT]\n");
            return 2;
        }
    }

    const char *ep = "tcp://127.0.0.1:*";
    phx_orb_config_t cfg;
    phx_orb_config_init(&cfg);
    cfg.listen = &ep;
    cfg.listen_count = 1;
    cfg.workers = 2; /* a replicated request holds a worker until done */
    phx_error_t err;
    phx_orb_t *orb;
    if (phx_orb_create(&cfg, &orb, &err) != PHX_OK) {
        fprintf(stderr, "counter-replica: %s\n", err.msg);
        return 1;
    }
    static const char key[] = "counter";
    demo_Counter__servant servant;
    demo_Counter__servant_init(&servant, &counter_epv, NULL);
    phx_object_t *ref;
    char *ior = NULL;
    if (phx_orb_activate(orb, &servant.base, key, strlen(key), &ref,
                         &err) != PHX_OK ||
        phx_object_to_string(ref, &ior) != PHX_OK) {
        fprintf(stderr, "counter-replica: cannot activate: %s\n", err.msg);
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
    phx_ft_active_config_t acfg;
    phx_ft_active_config_init(&acfg);
    acfg.group = "phx-counter";
    acfg.view_change = on_view;
    acfg.get_state = get_state;
    acfg.set_state = set_state;
    phx_ft_active_t *act;
    if (phx_ft_active_install(orb, &gc, key, strlen(key), &acfg, &act,
                              &err) != PHX_OK) {
        fprintf(stderr, "counter-replica: %s\n", err.msg);
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
    printf("GCS %s\n", phx_ft_active_gcs_endpoint(act));
    fflush(stdout);
    pthread_mutex_unlock(&out_lock);

    phx_orb_run(orb);
    the_orb = NULL;
    phx_ft_active_shutdown(act);
    phx_orb_destroy(orb);
    phx_ft_active_destroy(act);
    free(ior);
    return 0;
}
