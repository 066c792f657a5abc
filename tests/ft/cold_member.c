/*
 * cold_member.c - a member of the COLD_PASSIVE replication tests: an ORB
 * with worker threads on a free loopback TCP port serving one
 * phxtest::Member servant under the key "member", with COLD_PASSIVE
 * replication installed on the stable storage DIR.
 *
 *   cold_member --dir DIR [--every N] [--interval MS] [--state-bytes N]
 *               [--fsize N]
 *
 * --every and --interval set checkpoint_every and checkpoint_interval_ms;
 * --state-bytes pads the servant's state (for measurements); --fsize
 * limits the size of the files it writes (RLIMIT_FSIZE, SIGXFSZ ignored),
 * so that writing the log fails as on a full disk.  It prints
 * "READY <reference>" once installed, "PRIMARY total=T recovered=R us=U"
 * each time it becomes the primary (T: the servant's total after the
 * recovery, R: the log records the member re-executed so far, U: the
 * duration of the recovery), "BACKUP" when it gives the role up, every
 * log line of the library as "LOG <line>" (also on stderr), and at exit
 * (SIGTERM, SIGINT) "STATS executed=E replayed=P refused=F recovered=R
 * checkpoints=C recoveries=V broken=B".
 */
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <phx/ft_cold.h>
#include <phx/log.h>

#include "tests/ft/member.h"

static phx_orb_t *the_orb;
static phx_ft_cold_t *the_cold;
static member_t the_member;
static size_t pad_bytes;
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
/* Held by main while phx_ft_cold_install runs: the_cold is set then. */
static pthread_mutex_t cold_lock = PTHREAD_MUTEX_INITIALIZER;

static void on_signal(int sig)
{
    (void)sig;
    if (the_orb)
        phx_orb_shutdown(the_orb);
}

static void out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void out(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pthread_mutex_lock(&out_lock);
    vprintf(fmt, ap);
    putchar('\n');
    fflush(stdout);
    pthread_mutex_unlock(&out_lock);
    va_end(ap);
}

static void on_log(phx_log_level_t level, const char *module,
                   const char *line, void *arg)
{
    (void)level;
    (void)module;
    (void)arg;
    fprintf(stderr, "%s\n", line);
    out("LOG %s", line);
}

static void on_role(void *arg, bool primary)
{
    (void)arg;
    if (!primary) {
        out("BACKUP");
        return;
    }
    /* The first promotion may come before install has returned. */
    pthread_mutex_lock(&cold_lock);
    phx_ft_cold_stats_t st;
    phx_ft_cold_get_stats(the_cold, &st);
    pthread_mutex_unlock(&cold_lock);
    out("PRIMARY total=%lld recovered=%llu us=%llu",
        (long long)atomic_load(&the_member.total),
        (unsigned long long)st.recovered_records,
        (unsigned long long)st.last_recovery_us);
}

static int get_state(void *arg, uint8_t **data, size_t *len)
{
    (void)arg;
    long long v[2] = {atomic_load(&the_member.total),
                      atomic_load(&the_member.executed)};
    *len = sizeof v + pad_bytes;
    *data = malloc(*len);
    if (*data == NULL)
        return -1;
    memcpy(*data, v, sizeof v);
    for (size_t i = 0; i < pad_bytes; i++)
        (*data)[sizeof v + i] = (uint8_t)i;
    return 0;
}

static int set_state(void *arg, const void *data, size_t len)
{
    (void)arg;
    long long v[2];
    if (len != sizeof v + pad_bytes)
        return -1;
    memcpy(v, data, sizeof v);
    atomic_store(&the_member.total, v[0]);
    atomic_store(&the_member.executed, v[1]);
    return 0;
}

int main(int argc, char **argv)
{
    phx_ft_cold_config_t ccfg;
    phx_ft_cold_config_init(&ccfg);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
            ccfg.dir = argv[++i];
        else if (strcmp(argv[i], "--every") == 0 && i + 1 < argc)
            ccfg.checkpoint_every = (uint32_t)atol(argv[++i]);
        else if (strcmp(argv[i], "--interval") == 0 && i + 1 < argc)
            ccfg.checkpoint_interval_ms = (uint32_t)atol(argv[++i]);
        else if (strcmp(argv[i], "--state-bytes") == 0 && i + 1 < argc)
            pad_bytes = (size_t)atol(argv[++i]);
        else if (strcmp(argv[i], "--fsize") == 0 && i + 1 < argc) {
            struct rlimit rl;
            rl.rlim_cur = rl.rlim_max = (rlim_t)atol(argv[++i]);
            signal(SIGXFSZ, SIG_IGN);
            setrlimit(RLIMIT_FSIZE, &rl);
        }
        else
            ccfg.dir = NULL, i = argc;
    }
    if (ccfg.dir == NULL) {
        fprintf(stderr, "usage: %s --dir DIR [--every N] [--interval MS] "
                        "[--state-bytes N] [--fsize N]\n",
                argv[0]);
        return 2;
    }
    phx_log_set_sink(on_log, NULL);
    const char *ep = "tcp://127.0.0.1:*";
    phx_orb_config_t cfg;
    phx_orb_config_init(&cfg);
    cfg.listen = &ep;
    cfg.listen_count = 1;
    cfg.workers = 2;
    phx_error_t err;
    phx_orb_t *orb;
    if (phx_orb_create(&cfg, &orb, &err) != PHX_OK) {
        fprintf(stderr, "cold_member: %s\n", err.msg);
        return 1;
    }
    static const char key[] = "member";
    member_init(&the_member, orb, NULL, key);
    phx_object_t *ref;
    char *ior = NULL;
    if (phx_orb_activate(orb, &the_member.servant.base, key, strlen(key),
                         &ref, &err) != PHX_OK ||
        phx_object_to_string(ref, &ior) != PHX_OK) {
        fprintf(stderr, "cold_member: cannot activate: %s\n", err.msg);
        phx_orb_destroy(orb);
        return 1;
    }
    phx_object_release(ref);

    ccfg.get_state = get_state;
    ccfg.set_state = set_state;
    ccfg.role_change = on_role;
    pthread_mutex_lock(&cold_lock);
    int rc = phx_ft_cold_install(orb, key, strlen(key), &ccfg, &the_cold,
                                 &err);
    pthread_mutex_unlock(&cold_lock);
    if (rc != PHX_OK) {
        fprintf(stderr, "cold_member: %s\n", err.msg);
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
    out("READY %s", ior);

    phx_orb_run(orb);
    the_orb = NULL;
    phx_ft_cold_stats_t st;
    phx_ft_cold_get_stats(the_cold, &st);
    phx_ft_cold_shutdown(the_cold);
    phx_orb_destroy(orb);
    phx_ft_cold_destroy(the_cold);
    out("STATS executed=%llu replayed=%llu refused=%llu recovered=%llu "
        "checkpoints=%llu recoveries=%llu broken=%d",
        (unsigned long long)st.executed, (unsigned long long)st.replayed,
        (unsigned long long)st.refused,
        (unsigned long long)st.recovered_records,
        (unsigned long long)st.checkpoints,
        (unsigned long long)st.recoveries, (int)st.broken);
    free(ior);
    return 0;
}
