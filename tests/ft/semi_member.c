/*
 * semi_member.c - a member of the non-determinism tests
 * (tests/ft/test_ft_semi.c): an ORB on a free loopback TCP port serving
 * one phxtest::Member servant under the key "member", replicated with
 * the style given.
 *
 *   semi_member --style semi|active|passive --members N [--seed EP]
 *               [--workers N] [--mt] [--every N] [--group NAME]
 *
 * It prints "GCS <endpoint>", then "READY <reference>" once the group's
 * view has N members and the member has the group's state, "PRIMARY"
 * whenever a view makes it the leader / primary (semi, passive), and
 * "DIVERGED <details>" for every divergence the SEMI_ACTIVE detector
 * finds; it serves until SIGTERM or SIGINT.  The state (total, executed,
 * the nd digest and work()'s counters, and work()'s mutex) moves whole
 * with get_state/set_state.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <phx/ft_semi.h>
#include <phx/gcs.h>

#include "tests/ft/member.h"

static phx_orb_t *the_orb;
static member_t the_member;
static size_t want_members = 1;
static char *the_ior;
static bool ready_printed, view_ok, state_ok;
static bool was_primary;
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

static void on_signal(int sig)
{
    (void)sig;
    if (the_orb)
        phx_orb_shutdown(the_orb);
}

/* out_lock held */
static void maybe_ready(void)
{
    if (!ready_printed && view_ok && state_ok && the_ior) {
        printf("READY %s\n", the_ior);
        fflush(stdout);
        ready_printed = true;
    }
}

static void view_seen(const phx_gcs_view_t *view, int primary)
{
    pthread_mutex_lock(&out_lock);
    if (primary == 1 && !was_primary) {
        printf("PRIMARY\n");
        fflush(stdout);
    }
    if (primary >= 0)
        was_primary = primary == 1;
    if (view->primary && view->n_members >= want_members)
        view_ok = true;
    maybe_ready();
    pthread_mutex_unlock(&out_lock);
}

static void on_view2(void *arg, const phx_gcs_view_t *view, bool primary)
{
    (void)arg;
    view_seen(view, primary ? 1 : 0);
}

static void on_view1(void *arg, const phx_gcs_view_t *view)
{
    (void)arg;
    view_seen(view, -1);
}

static void on_state_ready(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&out_lock);
    state_ok = true;
    maybe_ready();
    pthread_mutex_unlock(&out_lock);
}

static void on_diverged(void *arg, const phx_ft_semi_divergence_t *d)
{
    (void)arg;
    pthread_mutex_lock(&out_lock);
    printf("DIVERGED %s\n", d->detail);
    fflush(stdout);
    pthread_mutex_unlock(&out_lock);
}

/* input_n is not state: it counts what this process made up as leader
 * (phx_ft_input's source, outside the group). */
typedef struct st {
    long long total, executed, work_count;
    unsigned long long nd_hash, work_hash;
} st_t;

static int get_state(void *arg, uint8_t **data, size_t *len)
{
    (void)arg;
    member_t *m = &the_member;
    st_t s = {atomic_load(&m->total), atomic_load(&m->executed), 0,
              atomic_load(&m->nd_hash), 0};
    phx_ft_mutex_lock(&m->mx);
    s.work_count = m->work_count;
    s.work_hash = m->work_hash;
    phx_ft_mutex_unlock(&m->mx);
    *data = malloc(sizeof s);
    if (*data == NULL)
        return -1;
    memcpy(*data, &s, sizeof s);
    *len = sizeof s;
    return 0;
}

static int set_state(void *arg, const void *data, size_t len)
{
    (void)arg;
    member_t *m = &the_member;
    st_t s;
    if (len != sizeof s)
        return -1;
    memcpy(&s, data, sizeof s);
    atomic_store(&m->total, s.total);
    atomic_store(&m->executed, s.executed);
    atomic_store(&m->nd_hash, s.nd_hash);
    phx_ft_mutex_lock(&m->mx);
    m->work_count = s.work_count;
    m->work_hash = s.work_hash;
    phx_ft_mutex_unlock(&m->mx);
    return 0;
}

int main(int argc, char **argv)
{
    const char *seed = NULL, *style = "semi", *group = NULL;
    int workers = 4;
    bool mt = false;
    unsigned every = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--members") == 0 && i + 1 < argc)
            want_members = (size_t)atoi(argv[++i]);
        else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
            seed = argv[++i];
        else if (strcmp(argv[i], "--style") == 0 && i + 1 < argc)
            style = argv[++i];
        else if (strcmp(argv[i], "--group") == 0 && i + 1 < argc)
            group = argv[++i];
        else if (strcmp(argv[i], "--workers") == 0 && i + 1 < argc)
            workers = atoi(argv[++i]);
        else if (strcmp(argv[i], "--every") == 0 && i + 1 < argc)
            every = (unsigned)atoi(argv[++i]);
        else if (strcmp(argv[i], "--mt") == 0)
            mt = true;
        else {
            fprintf(stderr,
                    "usage: %s --style semi|active|passive --members N "
                    "[--seed EP] [--workers N] [--mt] [--every N] "
                    "[--group NAME]\n",
                    argv[0]);
            return 2;
        }
    }
    if (want_members == 0)
        want_members = 1;
    if (workers < 1)
        workers = 1;
    char gname[128];
    snprintf(gname, sizeof gname, "phx-nd-%s", group ? group : style);
    const char *ep = "tcp://127.0.0.1:*";
    phx_orb_config_t cfg;
    phx_orb_config_init(&cfg);
    cfg.listen = &ep;
    cfg.listen_count = 1;
    cfg.workers = (unsigned)workers;
    phx_error_t err;
    phx_orb_t *orb;
    if (phx_orb_create(&cfg, &orb, &err) != PHX_OK) {
        fprintf(stderr, "semi_member: %s\n", err.msg);
        return 1;
    }
    static const char key[] = "member";
    member_init(&the_member, orb, NULL, key);
    member_nd_init(&the_member);
    phx_object_t *ref;
    char *ior = NULL;
    if (phx_orb_activate(orb, &the_member.servant.base, key, strlen(key),
                         &ref, &err) != PHX_OK ||
        phx_object_to_string(ref, &ior) != PHX_OK) {
        fprintf(stderr, "semi_member: cannot activate: %s\n", err.msg);
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
    phx_ft_semi_t *semi = NULL;
    phx_ft_active_t *act = NULL;
    phx_ft_passive_t *pas = NULL;
    const char *gcs_ep = NULL;
    int rc;
    if (strcmp(style, "semi") == 0) {
        phx_ft_semi_config_t sc;
        phx_ft_semi_config_init(&sc);
        sc.group = gname;
        sc.multithreaded = mt;
        sc.every_n = every;
        sc.view_change = on_view2;
        sc.state_ready = on_state_ready;
        sc.get_state = get_state;
        sc.set_state = set_state;
        sc.divergence = on_diverged;
        rc = phx_ft_semi_install(orb, &gc, key, strlen(key), &sc, &semi,
                                 &err);
        gcs_ep = rc == PHX_OK ? phx_ft_semi_gcs_endpoint(semi) : NULL;
    } else if (strcmp(style, "active") == 0) {
        phx_ft_active_config_t ac;
        phx_ft_active_config_init(&ac);
        ac.group = gname;
        ac.view_change = on_view1;
        ac.state_ready = on_state_ready;
        ac.get_state = get_state;
        ac.set_state = set_state;
        rc = phx_ft_active_install(orb, &gc, key, strlen(key), &ac, &act,
                                   &err);
        gcs_ep = rc == PHX_OK ? phx_ft_active_gcs_endpoint(act) : NULL;
    } else {
        phx_ft_passive_config_t pc;
        phx_ft_passive_config_init(&pc);
        pc.group = gname;
        pc.view_change = on_view2;
        pc.state_ready = on_state_ready;
        pc.get_state = get_state;
        pc.set_state = set_state;
        rc = phx_ft_passive_install(orb, &gc, key, strlen(key), &pc, &pas,
                                    &err);
        gcs_ep = rc == PHX_OK ? phx_ft_passive_gcs_endpoint(pas) : NULL;
    }
    if (rc != PHX_OK) {
        fprintf(stderr, "semi_member: %s\n", err.msg);
        phx_orb_destroy(orb);
        member_nd_fini(&the_member);
        free(ior);
        return 1;
    }
    /* Nested calls (relay) to object groups carry FT_REQUEST. */
    phx_ft_client_t *ftc = NULL;
    if (phx_ft_client_install(orb, NULL, &ftc, &err) != PHX_OK) {
        fprintf(stderr, "semi_member: %s\n", err.msg);
        return 1;
    }
    the_orb = orb;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    pthread_mutex_lock(&out_lock);
    printf("GCS %s\n", gcs_ep);
    fflush(stdout);
    pthread_mutex_unlock(&out_lock);

    phx_orb_run(orb);
    the_orb = NULL;
    phx_ft_semi_shutdown(semi);
    phx_ft_active_shutdown(act);
    phx_ft_passive_shutdown(pas);
    phx_orb_destroy(orb);
    phx_ft_semi_destroy(semi);
    phx_ft_active_destroy(act);
    phx_ft_passive_destroy(pas);
    phx_ft_client_destroy(ftc);
    member_nd_fini(&the_member);
    pthread_mutex_lock(&out_lock);
    the_ior = NULL;
    pthread_mutex_unlock(&out_lock);
    free(ior);
    return 0;
}
