/*
 * replica.c - the main program of a replica (include/phx/replica.h):
 * settings from the environment and the command line, the ORB, the
 * servant, the replication style, the report lines, signals.
 */
#include <errno.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <limits.h>
#include <stdbool.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <phx/ft.h>
#include <phx/ft_cold.h>
#include <phx/ft_semi.h>
#include <phx/gcs.h>
#include <phx/replica.h>

static const char usage_text[] =
    "options (each also read from the environment variable shown):\n"
    "  --group NAME               PHX_GROUP  object group (required)\n"
    "  --style STYLE              PHX_STYLE  active | warm_passive |\n"
    "                             cold_passive | semi_active | stateless\n"
    "                             (default active)\n"
    "  --listen EP                PHX_LISTEN  ORB endpoint\n"
    "                             (default tcp://127.0.0.1:*)\n"
    "  --gcs EP                   PHX_GCS_ENDPOINT  GCS endpoint\n"
    "                             (default tcp://127.0.0.1:*)\n"
    "  --seed EP                  PHX_GCS_SEEDS  GCS endpoint of a running\n"
    "                             member (repeatable; comma-separated)\n"
    "  --dir DIR                  PHX_STORE_DIR  stable storage\n"
    "                             (cold_passive)\n"
    "  --checkpoint-interval MS   PHX_CHECKPOINT_INTERVAL_MS (default 1000)\n"
    "  --members N                PHX_MEMBERS  report READY once the view\n"
    "                             has N members (default 1)\n"
    "  --name NAME                PHX_MEMBER  member name in views\n"
    "  --workers N                PHX_WORKERS  ORB worker threads\n"
    "                             (default 4)\n"
    "  --report-fd FD             PHX_REPORT_FD  report lines (default 1)\n"
    "  --control-fd FD            PHX_CONTROL_FD  where the group's current\n"
    "                             reference arrives (IOGR lines; default\n"
    "                             none)\n"
    "  --heartbeat-ms MS          PHX_GCS_HEARTBEAT_MS\n"
    "  --timeout-ms MS            PHX_GCS_TIMEOUT_MS\n"
    "  --help                     this text\n";

const char *phx_replica_usage(void)
{
    return usage_text;
}

static int set_str(char **dst, const char *v)
{
    char *d = strdup(v);
    if (d == NULL)
        return PHX_ENOMEM;
    free(*dst);
    *dst = d;
    return PHX_OK;
}

static int parse_u32(const char *v, uint32_t lo, uint32_t hi, uint32_t *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long n = strtoul(v, &end, 10);
    if (*v == '\0' || *v == '-' || *end != '\0' || errno != 0 || n < lo ||
        n > hi)
        return PHX_EINVAL;
    *out = (uint32_t)n;
    return PHX_OK;
}

static int parse_style(const char *v, int *style)
{
    static const struct {
        const char *name;
        int style;
    } styles[] = {{"active", PHX_FT_ACTIVE},
                  {"warm_passive", PHX_FT_WARM_PASSIVE},
                  {"cold_passive", PHX_FT_COLD_PASSIVE},
                  {"stateless", PHX_FT_STATELESS},
                  {"semi_active", PHX_FT_SEMI_ACTIVE},
                  {"SEMI_ACTIVE", PHX_FT_SEMI_ACTIVE},
                  {"ACTIVE", PHX_FT_ACTIVE},
                  {"WARM_PASSIVE", PHX_FT_WARM_PASSIVE},
                  {"COLD_PASSIVE", PHX_FT_COLD_PASSIVE},
                  {"STATELESS", PHX_FT_STATELESS}};
    for (size_t i = 0; i < sizeof styles / sizeof styles[0]; i++)
        if (strcmp(v, styles[i].name) == 0) {
            *style = styles[i].style;
            return PHX_OK;
        }
    return PHX_EINVAL;
}

static int add_seed(phx_replica_config_t *cfg, const char *v, size_t n)
{
    if (n == 0)
        return PHX_OK;
    char **s = realloc(cfg->seeds, (cfg->n_seeds + 1) * sizeof *s);
    if (s == NULL)
        return PHX_ENOMEM;
    cfg->seeds = s;
    if ((s[cfg->n_seeds] = strndup(v, n)) == NULL)
        return PHX_ENOMEM;
    cfg->n_seeds++;
    return PHX_OK;
}

/* One setting, by option name (without "--"); from names where it came
 * from in messages. */
static int apply(phx_replica_config_t *cfg, const char *opt, const char *v,
                 const char *from, phx_error_t *err)
{
    int rc = PHX_OK;
    const char *want = NULL;
    uint32_t u;
    if (strcmp(opt, "group") == 0) {
        if (*v == '\0')
            want = "a non-empty name";
        else
            rc = set_str(&cfg->group, v);
    } else if (strcmp(opt, "style") == 0) {
        if (parse_style(v, &cfg->style) != PHX_OK)
            want = "active, warm_passive, cold_passive, semi_active or "
                   "stateless";
    } else if (strcmp(opt, "listen") == 0) {
        rc = set_str(&cfg->listen, v);
    } else if (strcmp(opt, "gcs") == 0) {
        rc = set_str(&cfg->gcs_endpoint, v);
    } else if (strcmp(opt, "seed") == 0) {
        /* The variable holds a comma-separated list. */
        for (const char *p = v; rc == PHX_OK;) {
            const char *comma = strchr(p, ',');
            size_t n = comma ? (size_t)(comma - p) : strlen(p);
            rc = add_seed(cfg, p, n);
            if (comma == NULL)
                break;
            p = comma + 1;
        }
    } else if (strcmp(opt, "dir") == 0) {
        rc = set_str(&cfg->dir, v);
    } else if (strcmp(opt, "checkpoint-interval") == 0) {
        if (parse_u32(v, 1, 86400000, &cfg->checkpoint_interval_ms))
            want = "milliseconds, 1..86400000";
    } else if (strcmp(opt, "members") == 0) {
        if (parse_u32(v, 1, 64, &cfg->members))
            want = "a count, 1..64";
    } else if (strcmp(opt, "name") == 0) {
        rc = set_str(&cfg->name, v);
    } else if (strcmp(opt, "workers") == 0) {
        if (parse_u32(v, 1, 256, &cfg->workers))
            want = "a thread count, 1..256";
    } else if (strcmp(opt, "report-fd") == 0) {
        if (parse_u32(v, 1, INT_MAX, &u))
            want = "an open file descriptor number";
        else
            cfg->report_fd = (int)u;
    } else if (strcmp(opt, "control-fd") == 0) {
        if (parse_u32(v, 0, INT_MAX, &u))
            want = "an open file descriptor number";
        else
            cfg->control_fd = (int)u;
    } else if (strcmp(opt, "heartbeat-ms") == 0) {
        if (parse_u32(v, 1, 60000, &cfg->heartbeat_ms))
            want = "milliseconds, 1..60000";
    } else if (strcmp(opt, "timeout-ms") == 0) {
        if (parse_u32(v, 1, 600000, &cfg->timeout_ms))
            want = "milliseconds, 1..600000";
    } else {
        return phx_error_set(err, PHX_EINVAL,
                             "%s: unknown option '--%s' (see --help)",
                             cfg->program, opt);
    }
    if (rc == PHX_ENOMEM)
        return phx_error_set(err, rc, "%s: out of memory", cfg->program);
    if (want)
        return phx_error_set(err, PHX_EINVAL, "%s: %s: '%s' is not valid; "
                             "expected %s", cfg->program, from, v, want);
    return PHX_OK;
}

void phx_replica_config_fini(phx_replica_config_t *cfg)
{
    if (cfg == NULL)
        return;
    free(cfg->program);
    free(cfg->group);
    free(cfg->listen);
    free(cfg->gcs_endpoint);
    for (size_t i = 0; i < cfg->n_seeds; i++)
        free(cfg->seeds[i]);
    free(cfg->seeds);
    free(cfg->dir);
    free(cfg->name);
    memset(cfg, 0, sizeof *cfg);
}

int phx_replica_parse(phx_replica_config_t *cfg, const char *program,
                      int argc, char **argv, phx_error_t *err)
{
    static const struct {
        const char *opt, *env;
    } vars[] = {{"group", "PHX_GROUP"},
                {"style", "PHX_STYLE"},
                {"listen", "PHX_LISTEN"},
                {"gcs", "PHX_GCS_ENDPOINT"},
                {"seed", "PHX_GCS_SEEDS"},
                {"dir", "PHX_STORE_DIR"},
                {"checkpoint-interval", "PHX_CHECKPOINT_INTERVAL_MS"},
                {"members", "PHX_MEMBERS"},
                {"name", "PHX_MEMBER"},
                {"workers", "PHX_WORKERS"},
                {"report-fd", "PHX_REPORT_FD"},
                {"control-fd", "PHX_CONTROL_FD"},
                {"heartbeat-ms", "PHX_GCS_HEARTBEAT_MS"},
                {"timeout-ms", "PHX_GCS_TIMEOUT_MS"}};
    memset(cfg, 0, sizeof *cfg);
    cfg->style = PHX_FT_ACTIVE;
    cfg->checkpoint_interval_ms = 1000;
    cfg->members = 1;
    cfg->workers = 4;
    cfg->report_fd = 1;
    cfg->control_fd = -1;
    if (set_str(&cfg->program, program ? program : "replica") != PHX_OK ||
        set_str(&cfg->listen, "tcp://127.0.0.1:*") != PHX_OK ||
        set_str(&cfg->gcs_endpoint, "tcp://127.0.0.1:*") != PHX_OK)
        return phx_error_set(err, PHX_ENOMEM, "out of memory");
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv(vars[i].env);
        if (v != NULL && *v != '\0') {
            int rc = apply(cfg, vars[i].opt, v, vars[i].env, err);
            if (rc != PHX_OK)
                return rc;
        }
    }
    /* Seeds on the command line replace those of the environment. */
    bool argv_seeds = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            printf("usage: %s [options]\n%s", cfg->program, usage_text);
            fflush(stdout);
            return phx_error_set(err, PHX_EEXIST, "help printed");
        }
        if (strncmp(a, "--", 2) != 0)
            return phx_error_set(err, PHX_EINVAL,
                                 "%s: unexpected argument '%s' (see --help)",
                                 cfg->program, a);
        char opt[64];
        const char *eq = strchr(a + 2, '=');
        size_t n = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
        if (n == 0 || n >= sizeof opt)
            return phx_error_set(err, PHX_EINVAL,
                                 "%s: unknown option '%s' (see --help)",
                                 cfg->program, a);
        memcpy(opt, a + 2, n);
        opt[n] = '\0';
        const char *v;
        if (eq) {
            v = eq + 1;
        } else if (i + 1 < argc) {
            v = argv[++i];
        } else {
            return phx_error_set(err, PHX_EINVAL,
                                 "%s: option '--%s' needs a value",
                                 cfg->program, opt);
        }
        if (strcmp(opt, "seed") == 0 && !argv_seeds) {
            for (size_t k = 0; k < cfg->n_seeds; k++)
                free(cfg->seeds[k]);
            cfg->n_seeds = 0;
            argv_seeds = true;
        }
        char from[80];
        snprintf(from, sizeof from, "--%s", opt);
        int rc = apply(cfg, opt, v, from, err);
        if (rc != PHX_OK)
            return rc;
    }
    if (cfg->group == NULL)
        return phx_error_set(err, PHX_EINVAL,
                             "%s: no group: give --group NAME or set "
                             "PHX_GROUP", cfg->program);
    if (cfg->style == PHX_FT_COLD_PASSIVE && cfg->dir == NULL)
        return phx_error_set(err, PHX_EINVAL,
                             "%s: cold_passive needs --dir DIR (or "
                             "PHX_STORE_DIR): the group's stable storage",
                             cfg->program);
    return PHX_OK;
}

/* ------------------------------------------------------------------ */
/* Running                                                              */
/* ------------------------------------------------------------------ */

typedef struct run {
    const phx_replica_config_t *cfg;
    const phx_replica_servant_t *s;
    pthread_mutex_t lock;
    char *ior;
    bool ready;
    bool view_ok;       /* a view with the wanted members was seen */
    bool gcs_reported;  /* the GCS line is out (READY must follow it) */
    bool state_ok;      /* the servant has the group's state */
    int role; /* -1 unknown, 0 backup, 1 primary */
} run_t;

static phx_orb_t *volatile the_orb;

static void on_signal(int sig)
{
    (void)sig;
    phx_orb_t *orb = the_orb;
    if (orb)
        phx_orb_shutdown(orb);
}

/* Write one report line.  Lock held. */
static void report(run_t *r, const char *fmt, ...)
{
    char line[8192];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n > sizeof line - 2)
        n = (int)sizeof line - 2;
    line[n++] = '\n';
    for (int off = 0; off < n;) {
        ssize_t w = write(r->cfg->report_fd, line + off, (size_t)(n - off));
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        off += (int)w;
    }
}

/* READY once serving with the group's state, after the GCS line
 * (whoever starts the next replicas needs this one's endpoint as their
 * seed).  Lock held. */
static void maybe_ready(run_t *r)
{
    if (!r->ready && r->view_ok && r->state_ok && r->gcs_reported &&
        r->ior) {
        report(r, "READY %s", r->ior);
        r->ready = true;
    }
}

static void state_ready(void *arg)
{
    run_t *r = arg;
    pthread_mutex_lock(&r->lock);
    r->state_ok = true;
    maybe_ready(r);
    pthread_mutex_unlock(&r->lock);
}

static void view_seen(run_t *r, const phx_gcs_view_t *view, int role)
{
    pthread_mutex_lock(&r->lock);
    report(r, "VIEW %llu %zu", (unsigned long long)view->id,
           view->n_members);
    if (view->primary && view->n_members >= r->cfg->members)
        r->view_ok = true;
    maybe_ready(r);
    if (role >= 0 && role != r->role) {
        report(r, "ROLE %s", role ? "primary" : "backup");
        r->role = role;
    }
    pthread_mutex_unlock(&r->lock);
}

/* The styles hand the run to their callbacks; the servant wants its own
 * argument. */
static int w_get_state(void *arg, uint8_t **data, size_t *len)
{
    const phx_replica_servant_t *s = ((run_t *)arg)->s;
    return s->get_state(s->arg, data, len);
}

static int w_set_state(void *arg, const void *data, size_t len)
{
    const phx_replica_servant_t *s = ((run_t *)arg)->s;
    return s->set_state(s->arg, data, len);
}

static int w_get_update(void *arg, uint8_t **data, size_t *len)
{
    const phx_replica_servant_t *s = ((run_t *)arg)->s;
    return s->get_update(s->arg, data, len);
}

static int w_set_update(void *arg, const void *data, size_t len)
{
    const phx_replica_servant_t *s = ((run_t *)arg)->s;
    return s->set_update(s->arg, data, len);
}

static void cold_role(void *arg, bool primary)
{
    run_t *r = arg;
    pthread_mutex_lock(&r->lock);
    if ((int)primary != r->role) {
        report(r, "ROLE %s", primary ? "primary" : "backup");
        r->role = primary;
    }
    pthread_mutex_unlock(&r->lock);
}

/* The control channel: "IOGR <reference>" lines from whoever manages the
 * group (phxd) whenever its reference changes.  Each becomes the
 * reference stale clients are redirected to. */
typedef struct control {
    int fd;
    run_t *run;
    phx_ft_active_t *act;
    phx_ft_passive_t *pas;
    phx_ft_cold_t *cold;
    phx_ft_semi_t *semi;
    uint64_t reported;
    phx_ft_server_t *srv;
    const char *key;
    size_t key_len;
    const char *program;
    int stop_fd;
} control_t;

static void control_line(control_t *c, char *line)
{
    if (strncmp(line, "IOGR ", 5) != 0)
        return;
    phx_ior_t ior;
    phx_error_t err;
    if (phx_ior_from_string(line + 5, &ior, &err) != PHX_OK) {
        fprintf(stderr, "%s: control: bad group reference: %s\n",
                c->program, err.msg);
        return;
    }
    int rc = phx_ft_server_set_group(c->srv, c->key, c->key_len, &ior, &err);
    if (rc != PHX_OK && rc != PHX_ESTATE)
        fprintf(stderr, "%s: control: %s\n", c->program, err.msg);
    phx_ior_fini(&ior);
}

/* "STATS <n>": the replicated requests this replica executed, when the
 * count changed. */
static void report_stats(control_t *c)
{
    uint64_t n = 0;
    if (c->act) {
        phx_ft_active_stats_t st;
        phx_ft_active_get_stats(c->act, &st);
        n = st.executed;
    } else if (c->pas) {
        phx_ft_passive_stats_t st;
        phx_ft_passive_get_stats(c->pas, &st);
        n = st.executed;
    } else if (c->cold) {
        phx_ft_cold_stats_t st;
        phx_ft_cold_get_stats(c->cold, &st);
        n = st.executed;
    } else if (c->semi) {
        phx_ft_semi_stats_t st;
        phx_ft_semi_get_stats(c->semi, &st);
        n = st.executed + st.replayed;
    }
    if (n == c->reported)
        return;
    c->reported = n;
    pthread_mutex_lock(&c->run->lock);
    report(c->run, "STATS %llu", (unsigned long long)n);
    pthread_mutex_unlock(&c->run->lock);
}

static void *control_main(void *arg)
{
    control_t *c = arg;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    bool open = true;
    for (;;) {
        struct pollfd pf[2] = {{open ? c->fd : -1, POLLIN, 0},
                               {c->stop_fd, POLLIN, 0}};
        int pr = poll(pf, 2, 1000);
        if (pr < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (pf[1].revents)
            break;
        report_stats(c);
        if (pr == 0 || !(pf[0].revents & (POLLIN | POLLHUP)))
            continue;
        if (len + 4096 + 1 > cap) {
            size_t ncap = cap ? 2 * cap : 8192;
            if (ncap > (1u << 24))
                break; /* a line this long is not a reference */
            char *b = realloc(buf, ncap);
            if (b == NULL)
                break;
            buf = b;
            cap = ncap;
        }
        ssize_t n = read(c->fd, buf + len, cap - len - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            open = false; /* the manager went away: keep the last
                           * reference */
            continue;
        }
        len += (size_t)n;
        buf[len] = '\0';
        char *start = buf, *nl;
        while ((nl = strchr(start, '\n')) != NULL) {
            *nl = '\0';
            control_line(c, start);
            start = nl + 1;
        }
        len -= (size_t)(start - buf);
        memmove(buf, start, len);
    }
    free(buf);
    return NULL;
}

static void active_view(void *arg, const phx_gcs_view_t *view)
{
    view_seen(arg, view, -1);
}

static void passive_view(void *arg, const phx_gcs_view_t *view,
                         bool primary)
{
    view_seen(arg, view, primary ? 1 : 0);
}

/* SEMI_ACTIVE's divergence detector: "DIVERGED <details>" (phxd shows
 * it). */
static void semi_diverged(void *arg, const phx_ft_semi_divergence_t *d)
{
    run_t *r = arg;
    pthread_mutex_lock(&r->lock);
    report(r, "DIVERGED %s", d->detail);
    pthread_mutex_unlock(&r->lock);
}

int phx_replica_run(const phx_replica_config_t *cfg,
                    const phx_replica_servant_t *s, phx_error_t *err)
{
    if (cfg == NULL || s == NULL || s->servant == NULL || cfg->group == NULL)
        return phx_error_set(err, PHX_EINVAL, "replica: bad argument");
    if (cfg->style != PHX_FT_STATELESS &&
        (s->get_state == NULL || s->set_state == NULL))
        return phx_error_set(err, PHX_EINVAL,
                             "%s: the %s style needs get_state and "
                             "set_state", cfg->program,
                             cfg->style == PHX_FT_ACTIVE        ? "active"
                             : cfg->style == PHX_FT_SEMI_ACTIVE ? "semi-active"
                                                                : "passive");

    if ((s->get_update == NULL) != (s->set_update == NULL))
        return phx_error_set(err, PHX_EINVAL,
                             "%s: get_update and set_update go together",
                             cfg->program);
    run_t r = {.cfg = cfg, .s = s, .role = -1};
    pthread_mutex_init(&r.lock, NULL);
    const char *key = s->key ? s->key : cfg->group;
    size_t key_len = strlen(key);

    const char *ep = cfg->listen;
    phx_orb_config_t oc;
    phx_orb_config_init(&oc);
    oc.listen = &ep;
    oc.listen_count = 1;
    oc.workers = cfg->workers; /* a replicated request holds a worker */
    phx_orb_t *orb = NULL;
    int rc = phx_orb_create(&oc, &orb, err);
    if (rc != PHX_OK) {
        pthread_mutex_destroy(&r.lock);
        return rc;
    }
    phx_object_t *ref = NULL;
    char *ior = NULL;
    rc = phx_orb_activate(orb, s->servant, key, key_len, &ref, err);
    if (rc == PHX_OK) {
        rc = phx_object_to_string(ref, &ior);
        phx_object_release(ref);
        if (rc != PHX_OK)
            phx_error_set(err, rc, "%s: cannot stringify the reference",
                          cfg->program);
    }
    if (rc != PHX_OK) {
        phx_orb_destroy(orb);
        pthread_mutex_destroy(&r.lock);
        return rc;
    }
    pthread_mutex_lock(&r.lock);
    r.ior = ior;
    pthread_mutex_unlock(&r.lock);

    phx_gcs_config_t gc;
    phx_gcs_config_init(&gc);
    gc.endpoint = cfg->gcs_endpoint;
    gc.seeds = (const char *const *)cfg->seeds;
    gc.n_seeds = cfg->n_seeds;
    if (cfg->name)
        gc.name = cfg->name;
    if (cfg->heartbeat_ms)
        gc.heartbeat_ms = cfg->heartbeat_ms;
    if (cfg->timeout_ms)
        gc.timeout_ms = cfg->timeout_ms;

    /* Stale references are redirected first (LOCATION_FORWARD_PERM to the
     * group's current reference, once the manager has sent one). */
    phx_ft_server_t *srv = NULL;
    phx_ft_server_config_t sc;
    phx_ft_server_config_init(&sc);
    sc.version_only = true;
    if (cfg->control_fd >= 0 &&
        phx_ft_server_install(orb, &sc, &srv, err) != PHX_OK) {
        phx_orb_destroy(orb);
        free(ior);
        pthread_mutex_destroy(&r.lock);
        return err->code;
    }
    phx_ft_active_t *act = NULL;
    phx_ft_passive_t *pas = NULL;
    phx_ft_cold_t *cold = NULL;
    phx_ft_semi_t *semi = NULL;
    const char *gcs_ep = NULL;
    if (cfg->style == PHX_FT_ACTIVE) {
        phx_ft_active_config_t ac;
        phx_ft_active_config_init(&ac);
        ac.group = cfg->group;
        ac.arg = &r;
        ac.view_change = active_view;
        ac.state_ready = state_ready;
        ac.get_state = w_get_state;
        ac.set_state = w_set_state;
        rc = phx_ft_active_install(orb, &gc, key, key_len, &ac, &act, err);
        if (rc == PHX_OK)
            gcs_ep = phx_ft_active_gcs_endpoint(act);
    } else if (cfg->style == PHX_FT_WARM_PASSIVE) {
        phx_ft_passive_config_t pc;
        phx_ft_passive_config_init(&pc);
        pc.group = cfg->group;
        pc.arg = &r;
        pc.view_change = passive_view;
        pc.state_ready = state_ready;
        pc.get_state = w_get_state;
        pc.set_state = w_set_state;
        pc.get_update = s->get_update ? w_get_update : NULL;
        pc.set_update = s->set_update ? w_set_update : NULL;
        pc.checkpoint_interval_ms = cfg->checkpoint_interval_ms;
        rc = phx_ft_passive_install(orb, &gc, key, key_len, &pc, &pas, err);
        if (rc == PHX_OK)
            gcs_ep = phx_ft_passive_gcs_endpoint(pas);
    } else if (cfg->style == PHX_FT_COLD_PASSIVE) {
        phx_ft_cold_config_t cc;
        phx_ft_cold_config_init(&cc);
        cc.dir = cfg->dir;
        cc.checkpoint_interval_ms = cfg->checkpoint_interval_ms;
        cc.arg = &r;
        cc.get_state = w_get_state;
        cc.set_state = w_set_state;
        cc.role_change = cold_role;
        rc = phx_ft_cold_install(orb, key, key_len, &cc, &cold, err);
    } else if (cfg->style == PHX_FT_SEMI_ACTIVE) {
        phx_ft_semi_config_t smc;
        phx_ft_semi_config_init(&smc);
        smc.group = cfg->group;
        smc.arg = &r;
        smc.view_change = passive_view;
        smc.state_ready = state_ready;
        smc.get_state = w_get_state;
        smc.set_state = w_set_state;
        smc.multithreaded = s->multithreaded;
        smc.every_n = s->check_every_n;
        smc.divergence = semi_diverged;
        rc = phx_ft_semi_install(orb, &gc, key, key_len, &smc, &semi, err);
        if (rc == PHX_OK)
            gcs_ep = phx_ft_semi_gcs_endpoint(semi);
    }
    if (rc != PHX_OK) {
        phx_orb_destroy(orb);
        phx_ft_server_destroy(srv);
        free(ior);
        pthread_mutex_destroy(&r.lock);
        return rc;
    }

    control_t ctl = {cfg->control_fd, &r, act, pas, cold, semi, 0,
                     srv, key, key_len, cfg->program, -1};
    pthread_t ctl_thread;
    bool ctl_started = false;
    if (srv) {
        ctl.stop_fd = eventfd(0, EFD_CLOEXEC);
        ctl_started = ctl.stop_fd >= 0 &&
                      pthread_create(&ctl_thread, NULL, control_main,
                                     &ctl) == 0;
    }

    the_orb = orb;
    struct sigaction sa, old_term, old_int;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, &old_term);
    sigaction(SIGINT, &sa, &old_int);

    pthread_mutex_lock(&r.lock);
    if (gcs_ep)
        report(&r, "GCS %s", gcs_ep);
    r.gcs_reported = true;
    if (cfg->style == PHX_FT_STATELESS || cfg->style == PHX_FT_COLD_PASSIVE) {
        report(&r, "READY %s", ior);
        r.ready = true;
    }
    maybe_ready(&r);
    pthread_mutex_unlock(&r.lock);

    phx_orb_run(orb);

    the_orb = NULL;
    if (ctl_started) {
        uint64_t one = 1;
        ssize_t w = write(ctl.stop_fd, &one, sizeof one);
        (void)w;
        pthread_join(ctl_thread, NULL);
    }
    if (ctl.stop_fd >= 0)
        close(ctl.stop_fd);
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGINT, &old_int, NULL);
    phx_ft_active_shutdown(act);
    phx_ft_passive_shutdown(pas);
    phx_ft_cold_shutdown(cold);
    phx_ft_semi_shutdown(semi);
    phx_orb_destroy(orb);
    phx_ft_active_destroy(act);
    phx_ft_passive_destroy(pas);
    phx_ft_cold_destroy(cold);
    phx_ft_semi_destroy(semi);
    phx_ft_server_destroy(srv);
    pthread_mutex_lock(&r.lock);
    r.ior = NULL;
    pthread_mutex_unlock(&r.lock);
    free(ior);
    pthread_mutex_destroy(&r.lock);
    return PHX_OK;
}
