/*
 * bank_client.c - clients of the replicated bank.
 *
 *   bank-client setup [--accounts N] [--initial AMOUNT] REF...
 *   bank-client run [--clients T] [--accounts N] [--transfers N]
 *                   [--seconds S] [--stall-ms MS] REF...
 *   bank-client summary REF
 *
 * REF is a reference ("IOR:...", "corbaloc:...") or a file holding one.
 * Several REFs (the members' references) are made into one object group
 * reference (IOGR); one REF is used as it is (phxctl ior prints the
 * group's IOGR).
 *
 * setup opens accounts acct-0 .. acct-(N-1) with AMOUNT each (accounts
 * that exist already are left alone).
 * run starts T threads, each transferring 1 between random accounts until
 * it has made N transfers, S seconds have passed, or SIGTERM/SIGINT.  A
 * call that takes longer than MS (default 50) is reported as
 * "STALL <ms> ms at <seconds> s", and every second "PROGRESS <acknowledged>
 * max_ms=<longest call of that second>".
 * The last line is "DONE acknowledged=A insufficient=I errors=E": A
 * transfers returned normally (each must have been applied exactly
 * once), I were refused for want of funds (applied nowhere), E failed
 * with a system exception (the group was unreachable for a whole
 * request duration).  Exit status 0 when E is 0.
 * summary asks one member directly (not through the group) and prints
 * "accounts=N total=T transfers=X digest=D pid=P".
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <phx/ft.h>
#include <phx/phx.h>

#include "samples/bank/gen/bank.h"

static volatile sig_atomic_t stop_flag;
static atomic_ullong acknowledged, insufficient, errors;
/* Longest call since the last PROGRESS line, in microseconds. */
static atomic_ullong max_us;
static uint32_t n_accounts = 16;
static long max_transfers = -1;
static double max_seconds = -1, stall_ms = 50;
static struct timespec t0;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0.tv_sec) +
           (double)(t.tv_nsec - t0.tv_nsec) / 1e9;
}

static int usage(void)
{
    fprintf(stderr,
            "usage: bank-client setup [--accounts N] [--initial AMOUNT] "
            "REF...\n"
            "       bank-client run [--clients T] [--accounts N] "
            "[--transfers N] [--seconds S] [--stall-ms MS] REF...\n"
            "       bank-client summary REF\n"
            "REF: a reference (IOR:..., corbaloc:...) or a file holding "
            "one\n");
    return 2;
}

/* The reference in s, or in the file s names. */
static char *load_ref(const char *s)
{
    if (strncmp(s, "IOR:", 4) == 0 || strncmp(s, "corbaloc:", 9) == 0)
        return strdup(s);
    FILE *f = fopen(s, "r");
    if (f == NULL)
        return NULL;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = getline(&line, &cap, f);
    fclose(f);
    if (n <= 0) {
        free(line);
        return NULL;
    }
    line[strcspn(line, "\r\n")] = '\0';
    return line;
}

typedef struct worker {
    Banking_Bank bank;
    unsigned seed;
} worker_t;

static void *run_worker(void *arg)
{
    worker_t *w = arg;
    phx_env_t env = PHX_ENV_INIT;
    for (long k = 0; !stop_flag; k++) {
        if (max_transfers >= 0 && k >= max_transfers)
            break;
        if (max_seconds >= 0 && now_s() >= max_seconds)
            break;
        char from[32], to[32];
        uint32_t a = (uint32_t)rand_r(&w->seed) % n_accounts;
        uint32_t b = (uint32_t)rand_r(&w->seed) % (n_accounts - 1);
        if (b >= a)
            b++;
        snprintf(from, sizeof from, "acct-%u", a);
        snprintf(to, sizeof to, "acct-%u", b);
        double t = now_s();
        int rc = Banking_Bank_transfer(w->bank, from, to, 1, &env);
        double ms = (now_s() - t) * 1000.0;
        unsigned long long us = (unsigned long long)(ms * 1000.0);
        unsigned long long cur = atomic_load(&max_us);
        while (us > cur && !atomic_compare_exchange_weak(&max_us, &cur, us))
            ;
        if (ms >= stall_ms) {
            printf("STALL %.1f ms at %.3f s\n", ms, t);
            fflush(stdout);
        }
        if (rc == PHX_OK) {
            atomic_fetch_add(&acknowledged, 1);
        } else if (rc == PHX_EUSEREX &&
                   strcmp(env.repo_id, ex_Banking_InsufficientFunds) == 0) {
            atomic_fetch_add(&insufficient, 1);
            phx_env_clear(&env);
        } else {
            char buf[512];
            fprintf(stderr, "bank-client: transfer: %s\n",
                    phx_env_describe(&env, buf, sizeof buf));
            phx_env_clear(&env);
            atomic_fetch_add(&errors, 1);
        }
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return usage();
    const char *cmd = argv[1];
    if (strcmp(cmd, "setup") && strcmp(cmd, "run") && strcmp(cmd, "summary"))
        return usage();
    long clients = 4, initial = 1000000;
    int i = 2;
    for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
        char *end;
        double v = strtod(argv[i + 1], &end);
        if (*end || v < 0 || v > 1e9) {
            fprintf(stderr, "bank-client: %s: '%s' is not a number in "
                            "0..1e9\n", argv[i], argv[i + 1]);
            return 2;
        }
        if (strcmp(argv[i], "--clients") == 0 && v >= 1 && v <= 256)
            clients = (long)v;
        else if (strcmp(argv[i], "--accounts") == 0 && v >= 2 && v <= 100000)
            n_accounts = (uint32_t)v;
        else if (strcmp(argv[i], "--initial") == 0)
            initial = (long)v;
        else if (strcmp(argv[i], "--transfers") == 0)
            max_transfers = (long)v;
        else if (strcmp(argv[i], "--seconds") == 0)
            max_seconds = v;
        else if (strcmp(argv[i], "--stall-ms") == 0)
            stall_ms = v;
        else
            return usage();
    }
    size_t nrefs = (size_t)(argc - i);
    if (nrefs == 0 || (strcmp(cmd, "summary") == 0 && nrefs != 1))
        return usage();

    phx_orb_config_t cfg;
    phx_orb_config_init(&cfg);
    cfg.connect_timeout_ms = 2000;
    phx_orb_t *orb;
    phx_error_t err;
    if (phx_orb_create(&cfg, &orb, &err) != PHX_OK) {
        fprintf(stderr, "bank-client: %s\n", err.msg);
        return 1;
    }
    phx_ft_client_t *ft = NULL;
    phx_ft_client_config_t fcfg;
    phx_ft_client_config_init(&fcfg);
    if (phx_ft_client_install(orb, &fcfg, &ft, &err) != PHX_OK) {
        fprintf(stderr, "bank-client: %s\n", err.msg);
        phx_orb_destroy(orb);
        return 1;
    }

    int status = 0;
    phx_ior_t *members = calloc(nrefs, sizeof *members);
    size_t loaded = 0;
    for (; members && loaded < nrefs; loaded++) {
        const char *arg = argv[i + (int)loaded];
        char *s = load_ref(arg);
        if (s == NULL || phx_ior_from_string(s, &members[loaded], &err)) {
            fprintf(stderr, "bank-client: %s: %s\n", arg,
                    s ? err.msg : "not a reference nor a readable file");
            free(s);
            status = 2;
            break;
        }
        free(s);
    }
    phx_object_t *obj = NULL;
    if (status == 0 && nrefs == 1) {
        if (phx_object_from_ior(orb, &members[0], &obj, &err) != PHX_OK)
            status = 2;
    } else if (status == 0) {
        phx_ft_iogr_spec_t spec = {
            .ft_domain_id = "bank",
            .object_group_id = 1,
            .object_group_ref_version = 1,
            .members = members,
            .member_count = nrefs,
            .primary = PHX_FT_NO_PRIMARY,
        };
        phx_ior_t iogr;
        if (phx_ft_iogr_build(&spec, &iogr, &err) != PHX_OK) {
            status = 2;
        } else {
            if (phx_object_from_ior(orb, &iogr, &obj, &err) != PHX_OK)
                status = 2;
            phx_ior_fini(&iogr);
        }
    }
    if (status != 0 && obj == NULL && err.msg[0])
        fprintf(stderr, "bank-client: %s\n", err.msg);

    phx_env_t env = PHX_ENV_INIT;
    char buf[512];
    if (status == 0 && strcmp(cmd, "summary") == 0) {
        Banking_Summary s;
        int32_t pid = 0;
        if (Banking_Bank_summary(obj, &s, &env) != PHX_OK ||
            Banking_Bank_pid(obj, &pid, &env) != PHX_OK) {
            fprintf(stderr, "bank-client: summary: %s\n",
                    phx_env_describe(&env, buf, sizeof buf));
            phx_env_clear(&env);
            status = 1;
        } else {
            printf("accounts=%u total=%lld transfers=%llu digest=%016llx "
                   "pid=%d\n",
                   s.accounts, (long long)s.total,
                   (unsigned long long)s.transfers,
                   (unsigned long long)s.digest, pid);
        }
    } else if (status == 0 && strcmp(cmd, "setup") == 0) {
        for (uint32_t a = 0; a < n_accounts && status == 0; a++) {
            char name[32];
            snprintf(name, sizeof name, "acct-%u", a);
            if (Banking_Bank_open(obj, name, initial, &env) == PHX_OK)
                continue;
            if (env.repo_id &&
                strcmp(env.repo_id, ex_Banking_AccountExists) == 0) {
                phx_env_clear(&env);
                continue;
            }
            fprintf(stderr, "bank-client: open %s: %s\n", name,
                    phx_env_describe(&env, buf, sizeof buf));
            phx_env_clear(&env);
            status = 1;
        }
        if (status == 0)
            printf("SETUP accounts=%u initial=%ld\n", n_accounts, initial);
    } else if (status == 0) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        clock_gettime(CLOCK_MONOTONIC, &t0);
        worker_t *w = calloc((size_t)clients, sizeof *w);
        pthread_t *th = calloc((size_t)clients, sizeof *th);
        long started = 0;
        for (; w && th && started < clients; started++) {
            w[started].bank = obj;
            w[started].seed = (unsigned)(started * 7919 + 17);
            if (pthread_create(&th[started], NULL, run_worker,
                               &w[started]) != 0)
                break;
        }
        printf("RUNNING clients=%ld\n", started);
        fflush(stdout);
        /* Progress once a second while the workers run. */
        for (double next = 1.0;;) {
            bool done = stop_flag ||
                        (max_seconds >= 0 && now_s() >= max_seconds + 0.5);
            if (max_transfers >= 0 &&
                atomic_load(&acknowledged) + atomic_load(&insufficient) +
                        atomic_load(&errors) >=
                    (unsigned long long)(max_transfers * started))
                done = true;
            if (done)
                break;
            struct timespec ts = {0, 20 * 1000000L};
            nanosleep(&ts, NULL);
            if (now_s() >= next) {
                printf("PROGRESS %llu max_ms=%.1f\n",
                       (unsigned long long)atomic_load(&acknowledged),
                       (double)atomic_exchange(&max_us, 0) / 1000.0);
                fflush(stdout);
                next += 1.0;
            }
        }
        for (long k = 0; k < started; k++)
            pthread_join(th[k], NULL);
        free(w);
        free(th);
        printf("DONE acknowledged=%llu insufficient=%llu errors=%llu\n",
               (unsigned long long)atomic_load(&acknowledged),
               (unsigned long long)atomic_load(&insufficient),
               (unsigned long long)atomic_load(&errors));
        fflush(stdout);
        if (atomic_load(&errors) || started < clients)
            status = 1;
    }
    phx_object_release(obj);
    for (size_t k = 0; k < loaded; k++)
        phx_ior_fini(&members[k]);
    free(members);
    phx_orb_destroy(orb);
    phx_ft_client_destroy(ft);
    return status;
}
