/*
 * phxctl.c - the operator's command-line client of phxd.
 *
 * phxctl talks to one phxd through the Phalanx::Daemon interface
 * (idl/phxd.idl), served under the object key "phxd" on the daemon's
 * control endpoint.  Every daemon of a domain answers for the whole
 * domain, so any one will do: with --descriptor, phxctl tries the <host>
 * endpoints of the deployment descriptor in order until one answers.
 *
 * Exit status: 0 success, 1 the daemon refused (NoSuchGroup, NoSuchMember,
 * NoSuchHost, Refused), 2 usage error, 3 no daemon reachable, 4 any other
 * failure.  docs/phxctl.1 is the manual.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <phx/deploy.h>
#include <phx/dii.h>
#include <phx/ft.h>
#include <phx/json.h>
#include <phx/log.h>
#include <phx/phx.h>

#include "idl/phxd.h"

enum {
    EXIT_OK = 0,
    EXIT_REFUSED = 1,
    EXIT_USAGE = 2,
    EXIT_UNREACHABLE = 3,
    EXIT_FAILURE_OTHER = 4
};

#define DEFAULT_TIMEOUT_MS 5000u
#define WATCH_WAIT_MS 1000u
#define DAEMON_KEY "phxd"

/* ------------------------------------------------------------------ */
/* Usage                                                                */
/* ------------------------------------------------------------------ */

static const char short_usage[] =
    "Usage: phxctl [--endpoint EP | --descriptor FILE [--host NAME]]\n"
    "              [--json] [--timeout MS] COMMAND [ARGS]\n"
    "Try 'phxctl --help' for more information.\n";

static const char long_usage[] =
    "Usage: phxctl [OPTIONS] COMMAND [ARGS]\n"
    "Query and control the phxd daemons of a Phalanx fault-tolerance "
    "domain.\n"
    "\n"
    "Options (before the command):\n"
    "  --endpoint EP       the daemon's control endpoint (tcp://HOST:PORT,\n"
    "                      or an IOR:/corbaloc: reference)\n"
    "  --descriptor FILE   the deployment descriptor: try the endpoint of\n"
    "                      each <host> in order until a daemon answers\n"
    "  --host NAME         with --descriptor: only that host's daemon\n"
    "  --json              machine-readable output (JSON)\n"
    "  --timeout MS        time allowed for each call (default 5000)\n"
    "  --help              this help\n"
    "Without --endpoint or --descriptor, the endpoint is taken from the\n"
    "environment variable PHX_DAEMON.\n"
    "\n"
    "Commands (each takes --help):\n"
    "  groups                      list the object groups\n"
    "  group NAME                  one group and its members\n"
    "  ior NAME                    print the group's reference (IOGR)\n"
    "  kill-replica NAME MEMBER    kill a replica (SIGKILL)\n"
    "  add-replica NAME HOST       add a replica on HOST; prints its id\n"
    "  daemons                     the daemons in the view, leader first\n"
    "  watch [--since N] [--count N]\n"
    "                              print events as they happen\n"
    "  invoke [--idl FILE.phxif] [--interface NAME] TARGET OPERATION "
    "[JSON-ARG...]\n"
    "                              call any operation of any object\n"
    "\n"
    "Exit status:\n"
    "  0  success\n"
    "  1  the daemon refused (no such group, member or host; refused)\n"
    "  2  usage error\n"
    "  3  no daemon reachable\n"
    "  4  any other failure\n";

typedef struct command command_t;

typedef struct ctl {
    /* Options. */
    const char *endpoint;
    const char *descriptor;
    const char *host;
    bool json;
    uint32_t timeout_ms;
    /* The daemons to try, in order. */
    char **eps;
    size_t n_eps;
    size_t cur;              /* the one that answered last */
    phx_orb_t *orb;
    /* The fault-tolerance client: invoke's calls to an object group
     * carry FT_REQUEST, so they are replicated and run exactly once. */
    phx_ft_client_t *ft;
    phx_object_t **objs;     /* one per endpoint, made on first use */
    const command_t *cmd;
    uint64_t since, count;   /* watch's options */
    /* invoke's options and arguments */
    const char *inv_idl, *inv_iface, *inv_target, *inv_op;
    char **inv_args;
    int inv_nargs;
    bool inv_direct;         /* the target needs no daemon */
} ctl_t;

/* The operation a command runs on one daemon.  Returns 0 or the stub's
 * status; on failure env says why. */
typedef int (*call_fn)(phx_object_t *obj, void *arg, phx_env_t *env);

struct command {
    const char *name;
    const char *args;        /* synopsis after the name */
    const char *help;        /* what it does, for --help */
    int nargs;
    int (*run)(ctl_t *c, char **argv);
};

static void usage_error(const command_t *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void usage_error(const command_t *cmd, const char *fmt, ...)
{
    va_list ap;
    fputs("phxctl: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    if (cmd)
        fprintf(stderr,
                "Usage: phxctl [OPTIONS] %s%s%s\n"
                "Try 'phxctl %s --help' for more information.\n",
                cmd->name, cmd->args[0] ? " " : "", cmd->args, cmd->name);
    else
        fputs(short_usage, stderr);
}

static void command_help(const command_t *cmd)
{
    printf("Usage: phxctl [OPTIONS] %s%s%s\n%s", cmd->name,
           cmd->args[0] ? " " : "", cmd->args, cmd->help);
    printf("\nExit status: 0 success, 1 the daemon refused, 2 usage error,\n"
           "3 no daemon reachable, 4 any other failure.\n");
}

/* Strict unsigned decimal number. */
static bool parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    if (!s || *s < '0' || *s > '9')
        return false;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v > max)
        return false;
    *out = v;
    return true;
}

/* ------------------------------------------------------------------ */
/* Output                                                               */
/* ------------------------------------------------------------------ */

/* Length of the well-formed UTF-8 sequence at s, or 0. */
static size_t utf8_len(const unsigned char *s)
{
    unsigned c = s[0];
    size_t n;
    unsigned min;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        min = 0x10000;
    } else {
        return 0;
    }
    unsigned cp = c & (0x7fu >> n);
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

/* A JSON string: quotes, backslashes and control characters escaped;
 * UTF-8 passed through, malformed bytes as U+FFFD. */
static void json_str(FILE *f, const char *s)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    fputc('"', f);
    while (*p) {
        unsigned c = *p;
        size_t n;
        switch (c) {
        case '"': fputs("\\\"", f); p++; continue;
        case '\\': fputs("\\\\", f); p++; continue;
        case '\b': fputs("\\b", f); p++; continue;
        case '\f': fputs("\\f", f); p++; continue;
        case '\n': fputs("\\n", f); p++; continue;
        case '\r': fputs("\\r", f); p++; continue;
        case '\t': fputs("\\t", f); p++; continue;
        default: break;
        }
        if (c < 0x20 || c == 0x7f) {
            fprintf(f, "\\u%04x", c);
            p++;
        } else if ((n = utf8_len(p)) == 0) {
            fputs("\\ufffd", f);
            p++;
        } else {
            fwrite(p, 1, n, f);
            p += n;
        }
    }
    fputc('"', f);
}

/* Text for a terminal: control characters shown as escapes, "-" for an
 * empty string (so columns stay aligned). */
static char *human(const char *s)
{
    if (!s || !*s)
        return strdup("-");
    size_t len = strlen(s);
    char *out = malloc(len * 4 + 1);
    if (!out)
        return NULL;
    char *o = out;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '\n') {
            *o++ = '\\';
            *o++ = 'n';
        } else if (*p == '\t') {
            *o++ = '\\';
            *o++ = 't';
        } else if (*p < 0x20 || *p == 0x7f) {
            o += sprintf(o, "\\x%02x", *p);
        } else {
            *o++ = (char)*p;
        }
    }
    *o = '\0';
    return out;
}

/* A table of strings, printed with columns padded to fit. */
typedef struct table {
    size_t ncols, nrows;
    char **cells; /* nrows * ncols, owned */
    bool oom;
} table_t;

static void table_row(table_t *t, const char *const *vals)
{
    char **cells = realloc(t->cells,
                           (t->nrows + 1) * t->ncols * sizeof *cells);
    if (!cells) {
        t->oom = true;
        return;
    }
    t->cells = cells;
    for (size_t i = 0; i < t->ncols; i++) {
        char *h = human(vals[i]);
        if (!h)
            t->oom = true;
        cells[t->nrows * t->ncols + i] = h;
    }
    t->nrows++;
}

static void table_print(table_t *t, const char *indent)
{
    size_t w[16] = {0};
    for (size_t r = 0; r < t->nrows; r++)
        for (size_t i = 0; i < t->ncols && i < 16; i++) {
            const char *s = t->cells[r * t->ncols + i];
            size_t n = s ? strlen(s) : 0;
            if (n > w[i])
                w[i] = n;
        }
    for (size_t r = 0; r < t->nrows; r++) {
        fputs(indent, stdout);
        for (size_t i = 0; i < t->ncols; i++) {
            const char *s = t->cells[r * t->ncols + i];
            if (!s)
                s = "?";
            if (i + 1 == t->ncols)
                printf("%s\n", s);
            else
                printf("%-*s  ", (int)w[i], s);
        }
    }
}

static void table_free(table_t *t)
{
    for (size_t i = 0; i < t->nrows * t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
}

static void fmt_u64(char *buf, size_t cap, uint64_t v)
{
    snprintf(buf, cap, "%" PRIu64, v);
}

/* ------------------------------------------------------------------ */
/* Reaching a daemon                                                    */
/* ------------------------------------------------------------------ */

/* Failures that say nothing answers for the daemon at that endpoint. */
static bool unreachable(const phx_env_t *env)
{
    if (env->major != PHX_SYSTEM_EXCEPTION)
        return false;
    switch (env->sysex) {
    case PHX_SYSEX_TRANSIENT:
    case PHX_SYSEX_COMM_FAILURE:
    case PHX_SYSEX_TIMEOUT:
    case PHX_SYSEX_NO_RESPONSE:
    case PHX_SYSEX_OBJECT_NOT_EXIST:
    case PHX_SYSEX_INV_OBJREF:
        return true;
    default:
        return false;
    }
}

static int make_ref(ctl_t *c, size_t i, phx_error_t *err)
{
    if (c->objs[i])
        return 0;
    const char *ep = c->eps[i];
    if (strncmp(ep, "IOR:", 4) == 0 || strncmp(ep, "corbaloc:", 9) == 0)
        return phx_object_from_string(c->orb, ep, &c->objs[i], err);
    phx_ior_t ior;
    phx_ior_init(&ior);
    int rc = phx_ior_make_zmq(&ior, Phalanx_Daemon__repo_id, ep, DAEMON_KEY,
                              strlen(DAEMON_KEY), NULL, 0);
    if (rc == 0)
        rc = phx_object_from_ior(c->orb, &ior, &c->objs[i], err);
    else
        phx_error_set(err, rc, "cannot make a reference: %s",
                      phx_strerror(rc));
    phx_ior_fini(&ior);
    return rc;
}

/* Report an exception the daemon raised and return the exit status. */
static int report_exception(const phx_env_t *env)
{
    if (env->major == PHX_USER_EXCEPTION && env->repo_id) {
        const char *id = env->repo_id;
        /* All four exceptions have one string member first. */
        const char *v = env->user_value ? *(char *const *)env->user_value
                                        : NULL;
        if (!v)
            v = "";
        if (strcmp(id, ex_Phalanx_NoSuchGroup) == 0)
            fprintf(stderr, "phxctl: no group named '%s'\n", v);
        else if (strcmp(id, ex_Phalanx_NoSuchMember) == 0)
            fprintf(stderr, "phxctl: no member named '%s'\n", v);
        else if (strcmp(id, ex_Phalanx_NoSuchHost) == 0)
            fprintf(stderr, "phxctl: no host named '%s'\n", v);
        else if (strcmp(id, ex_Phalanx_Refused) == 0)
            fprintf(stderr, "phxctl: refused: %s\n", v);
        else {
            fprintf(stderr, "phxctl: unexpected exception %s\n", id);
            return EXIT_FAILURE_OTHER;
        }
        return EXIT_REFUSED;
    }
    char buf[512];
    fprintf(stderr, "phxctl: the daemon failed: %s\n",
            phx_env_describe(env, buf, sizeof buf));
    return EXIT_FAILURE_OTHER;
}

/*
 * Run fn on the daemons, starting at c->cur: the first that answers
 * (normally or with an exception other than "unreachable") gives the
 * result.  A request that may have been carried out (COMPLETED_MAYBE) is
 * not sent to another daemon unless it is idempotent.  Returns an exit
 * status (what went wrong is printed); on EXIT_OK c->cur is the daemon
 * that answered.
 */
static int call_daemon_x(ctl_t *c, call_fn fn, void *arg, bool idempotent)
{
    char **why = calloc(c->n_eps, sizeof *why);
    size_t tried = 0;
    int status = EXIT_UNREACHABLE;
    if (!why) {
        fputs("phxctl: out of memory\n", stderr);
        return EXIT_FAILURE_OTHER;
    }
    for (size_t k = 0; k < c->n_eps; k++) {
        size_t i = (c->cur + k) % c->n_eps;
        phx_error_t err;
        phx_error_clear(&err);
        tried = k + 1;
        if (make_ref(c, i, &err) != 0) {
            why[i] = strdup(err.msg[0] ? err.msg : phx_strerror(err.code));
            continue;
        }
        phx_env_t env = PHX_ENV_INIT;
        int rc = fn(c->objs[i], arg, &env);
        if (rc == 0) {
            c->cur = i;
            status = EXIT_OK;
            break;
        }
        if (rc != PHX_ESYSEX && rc != PHX_EUSEREX) {
            why[i] = strdup(phx_strerror(rc));
            phx_env_clear(&env);
            continue;
        }
        if (unreachable(&env)) {
            char buf[512];
            why[i] = strdup(phx_env_describe(&env, buf, sizeof buf));
            bool maybe = env.completed != PHX_COMPLETED_NO;
            phx_env_clear(&env);
            if (maybe && !idempotent) {
                fprintf(stderr,
                        "phxctl: no reply from %s (%s); the request "
                        "may have been carried out\n",
                        c->eps[i], why[i] ? why[i] : "?");
                tried = 0;
                break;
            }
            continue;
        }
        c->cur = i;
        status = report_exception(&env);
        phx_env_clear(&env);
        break;
    }
    if (status == EXIT_UNREACHABLE && tried) {
        fprintf(stderr, "phxctl: no daemon reachable; tried:\n");
        for (size_t k = 0; k < tried; k++) {
            size_t i = (c->cur + k) % c->n_eps;
            fprintf(stderr, "  %s: %s\n", c->eps[i],
                    why[i] ? why[i] : "out of memory");
        }
    }
    for (size_t i = 0; i < c->n_eps; i++)
        free(why[i]);
    free(why);
    return status;
}

/* Read-only operations may go to the next daemon whatever happened. */
static int call_daemon(ctl_t *c, call_fn fn, void *arg)
{
    return call_daemon_x(c, fn, arg, true);
}

/* ------------------------------------------------------------------ */
/* JSON of the daemon's values                                          */
/* ------------------------------------------------------------------ */

static void json_member(const Phalanx_MemberInfo *m)
{
    fputs("{\"id\":", stdout);
    json_str(stdout, m->id);
    fputs(",\"host\":", stdout);
    json_str(stdout, m->host);
    printf(",\"pid\":%" PRId32 ",\"state\":", m->pid);
    json_str(stdout, m->state);
    fputs(",\"role\":", stdout);
    json_str(stdout, m->role);
    fputs(",\"ior\":", stdout);
    json_str(stdout, m->ior);
    printf(",\"restarts\":%" PRIu32 ",\"requests\":%" PRIu64 "}",
           m->restarts, m->requests);
}

static void json_group(const Phalanx_GroupInfo *g)
{
    fputs("{\"name\":", stdout);
    json_str(stdout, g->name);
    fputs(",\"type_id\":", stdout);
    json_str(stdout, g->type_id);
    fputs(",\"style\":", stdout);
    json_str(stdout, g->style);
    printf(",\"target\":%" PRIu32 ",\"minimum\":%" PRIu32
           ",\"running\":%" PRIu32 ",\"primary\":",
           g->target, g->minimum, g->running);
    json_str(stdout, g->primary);
    printf(",\"view_id\":%" PRIu64 ",\"version\":%" PRIu32
           ",\"failovers\":%" PRIu64 ",\"restarts\":%" PRIu64
           ",\"requests\":%" PRIu64 ",\"divergences\":%" PRIu64
           ",\"members\":[",
           g->view_id, g->version, g->failovers, g->restarts, g->requests,
           g->divergences);
    for (uint32_t i = 0; i < g->members._length; i++) {
        if (i)
            fputc(',', stdout);
        json_member(&g->members._buffer[i]);
    }
    fputs("]}", stdout);
}

/* ------------------------------------------------------------------ */
/* Commands                                                             */
/* ------------------------------------------------------------------ */

static int call_groups(phx_object_t *obj, void *arg, phx_env_t *env)
{
    return Phalanx_Daemon_groups(obj, arg, env);
}

static int cmd_groups(ctl_t *c, char **argv)
{
    (void)argv;
    Phalanx_GroupSeq gs = {0};
    int st = call_daemon(c, call_groups, &gs);
    if (st != EXIT_OK)
        return st;
    if (c->json) {
        fputc('[', stdout);
        for (uint32_t i = 0; i < gs._length; i++) {
            if (i)
                fputc(',', stdout);
            json_group(&gs._buffer[i]);
        }
        fputs("]\n", stdout);
    } else {
        table_t t = {.ncols = 6};
        const char *head[] = {"NAME", "STYLE", "RUNNING/TARGET", "PRIMARY",
                              "VERSION", "FAILOVERS"};
        table_row(&t, head);
        for (uint32_t i = 0; i < gs._length; i++) {
            const Phalanx_GroupInfo *g = &gs._buffer[i];
            char rt[48], ver[24], fo[24];
            snprintf(rt, sizeof rt, "%" PRIu32 "/%" PRIu32, g->running,
                     g->target);
            fmt_u64(ver, sizeof ver, g->version);
            fmt_u64(fo, sizeof fo, g->failovers);
            const char *row[] = {g->name, g->style, rt, g->primary, ver, fo};
            table_row(&t, row);
        }
        if (t.oom)
            st = EXIT_FAILURE_OTHER;
        else
            table_print(&t, "");
        table_free(&t);
    }
    Phalanx_GroupSeq__free(&gs);
    return st;
}

typedef struct group_arg {
    const char *name;
    Phalanx_GroupInfo g;
} group_arg_t;

static int call_group(phx_object_t *obj, void *arg, phx_env_t *env)
{
    group_arg_t *a = arg;
    return Phalanx_Daemon_group(obj, a->name, &a->g, env);
}

static int cmd_group(ctl_t *c, char **argv)
{
    group_arg_t a = {.name = argv[0]};
    int st = call_daemon(c, call_group, &a);
    if (st != EXIT_OK)
        return st;
    const Phalanx_GroupInfo *g = &a.g;
    if (c->json) {
        json_group(g);
        fputc('\n', stdout);
    } else {
        char n[10][24];
        snprintf(n[0], sizeof n[0], "%" PRIu32, g->running);
        snprintf(n[1], sizeof n[1], "%" PRIu32, g->target);
        snprintf(n[2], sizeof n[2], "%" PRIu32, g->minimum);
        fmt_u64(n[3], sizeof n[3], g->view_id);
        fmt_u64(n[4], sizeof n[4], g->version);
        fmt_u64(n[5], sizeof n[5], g->failovers);
        fmt_u64(n[6], sizeof n[6], g->restarts);
        fmt_u64(n[7], sizeof n[7], g->requests);
        fmt_u64(n[8], sizeof n[8], g->divergences);
        table_t f = {.ncols = 2};
        const char *rows[][2] = {
            {"name:", g->name},       {"type id:", g->type_id},
            {"style:", g->style},     {"running:", n[0]},
            {"target:", n[1]},        {"minimum:", n[2]},
            {"primary:", g->primary}, {"view:", n[3]},
            {"version:", n[4]},       {"failovers:", n[5]},
            {"restarts:", n[6]},      {"requests:", n[7]},
            {"diverged:", n[8]},
        };
        for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
            table_row(&f, rows[i]);
        table_t t = {.ncols = 7};
        const char *head[] = {"ID",   "HOST",     "PID",     "STATE",
                              "ROLE", "RESTARTS", "REQUESTS"};
        table_row(&t, head);
        for (uint32_t i = 0; i < g->members._length; i++) {
            const Phalanx_MemberInfo *m = &g->members._buffer[i];
            char pid[24], rs[24], rq[24];
            if (m->pid > 0)
                snprintf(pid, sizeof pid, "%" PRId32, m->pid);
            else
                pid[0] = '\0';
            snprintf(rs, sizeof rs, "%" PRIu32, m->restarts);
            fmt_u64(rq, sizeof rq, m->requests);
            const char *row[] = {m->id,   m->host, pid, m->state,
                                 m->role, rs,      rq};
            table_row(&t, row);
        }
        if (f.oom || t.oom) {
            st = EXIT_FAILURE_OTHER;
        } else {
            table_print(&f, "");
            fputc('\n', stdout);
            table_print(&t, "");
        }
        table_free(&f);
        table_free(&t);
    }
    Phalanx_GroupInfo__free(&a.g);
    return st;
}

typedef struct str_arg {
    const char *a, *b;
    char *ret;
} str_arg_t;

static int call_ior(phx_object_t *obj, void *arg, phx_env_t *env)
{
    str_arg_t *a = arg;
    return Phalanx_Daemon_ior(obj, a->a, &a->ret, env);
}

static int cmd_ior(ctl_t *c, char **argv)
{
    str_arg_t a = {.a = argv[0]};
    int st = call_daemon(c, call_ior, &a);
    if (st != EXIT_OK)
        return st;
    if (c->json) {
        fputs("{\"group\":", stdout);
        json_str(stdout, argv[0]);
        fputs(",\"ior\":", stdout);
        json_str(stdout, a.ret);
        fputs("}\n", stdout);
    } else {
        printf("%s\n", a.ret ? a.ret : "");
    }
    free(a.ret);
    return st;
}

static int call_kill(phx_object_t *obj, void *arg, phx_env_t *env)
{
    str_arg_t *a = arg;
    return Phalanx_Daemon_kill_replica(obj, a->a, a->b, env);
}

static int cmd_kill(ctl_t *c, char **argv)
{
    str_arg_t a = {.a = argv[0], .b = argv[1]};
    int st = call_daemon_x(c, call_kill, &a, false);
    if (st != EXIT_OK)
        return st;
    if (c->json) {
        fputs("{\"group\":", stdout);
        json_str(stdout, argv[0]);
        fputs(",\"member\":", stdout);
        json_str(stdout, argv[1]);
        fputs(",\"killed\":true}\n", stdout);
    } else {
        char *g = human(argv[0]), *m = human(argv[1]);
        printf("killed %s of group %s\n", m ? m : "?", g ? g : "?");
        free(g);
        free(m);
    }
    return st;
}

static int call_add(phx_object_t *obj, void *arg, phx_env_t *env)
{
    str_arg_t *a = arg;
    return Phalanx_Daemon_add_replica(obj, a->a, a->b, &a->ret, env);
}

static int cmd_add(ctl_t *c, char **argv)
{
    str_arg_t a = {.a = argv[0], .b = argv[1]};
    int st = call_daemon_x(c, call_add, &a, false);
    if (st != EXIT_OK)
        return st;
    if (c->json) {
        fputs("{\"group\":", stdout);
        json_str(stdout, argv[0]);
        fputs(",\"host\":", stdout);
        json_str(stdout, argv[1]);
        fputs(",\"member\":", stdout);
        json_str(stdout, a.ret);
        fputs("}\n", stdout);
    } else {
        printf("%s\n", a.ret ? a.ret : "");
    }
    free(a.ret);
    return st;
}

typedef struct daemons_arg {
    char *domain, *host;
    Phalanx_NameSeq names;
} daemons_arg_t;

static int call_daemons(phx_object_t *obj, void *arg, phx_env_t *env)
{
    daemons_arg_t *a = arg;
    int rc = Phalanx_Daemon_daemons(obj, &a->names, env);
    if (rc == 0)
        rc = Phalanx_Daemon_domain(obj, &a->domain, env);
    if (rc == 0)
        rc = Phalanx_Daemon_host(obj, &a->host, env);
    if (rc != 0) {
        Phalanx_NameSeq__free(&a->names);
        memset(&a->names, 0, sizeof a->names);
        free(a->domain);
        a->domain = NULL;
    }
    return rc;
}

static int cmd_daemons(ctl_t *c, char **argv)
{
    (void)argv;
    daemons_arg_t a = {0};
    int st = call_daemon(c, call_daemons, &a);
    if (st != EXIT_OK)
        return st;
    if (c->json) {
        fputs("{\"domain\":", stdout);
        json_str(stdout, a.domain);
        fputs(",\"host\":", stdout);
        json_str(stdout, a.host);
        fputs(",\"leader\":", stdout);
        json_str(stdout, a.names._length ? a.names._buffer[0] : "");
        fputs(",\"daemons\":[", stdout);
        for (uint32_t i = 0; i < a.names._length; i++) {
            if (i)
                fputc(',', stdout);
            json_str(stdout, a.names._buffer[i]);
        }
        fputs("]}\n", stdout);
    } else {
        char *d = human(a.domain), *h = human(a.host);
        printf("domain %s (answered by %s)\n", d ? d : "?", h ? h : "?");
        free(d);
        free(h);
        for (uint32_t i = 0; i < a.names._length; i++) {
            char *n = human(a.names._buffer[i]);
            printf("%s%s\n", n ? n : "?", i == 0 ? "  (leader)" : "");
            free(n);
        }
    }
    free(a.domain);
    free(a.host);
    Phalanx_NameSeq__free(&a.names);
    return st;
}

/* ---- watch ---- */

static volatile sig_atomic_t stop_signal;

static void on_stop(int sig)
{
    stop_signal = sig;
}

typedef struct events_arg {
    uint64_t since;
    Phalanx_EventSeq evs;
} events_arg_t;

static int call_events(phx_object_t *obj, void *arg, phx_env_t *env)
{
    events_arg_t *a = arg;
    return Phalanx_Daemon_events(obj, a->since, WATCH_WAIT_MS, &a->evs, env);
}

static void print_event(const ctl_t *c, const Phalanx_Event *e)
{
    if (c->json) {
        printf("{\"seq\":%" PRIu64 ",\"time_ms\":%" PRIu64 ",\"kind\":",
               e->seq, e->time_ms);
        json_str(stdout, e->kind);
        fputs(",\"group\":", stdout);
        json_str(stdout, e->group);
        fputs(",\"member\":", stdout);
        json_str(stdout, e->member);
        fputs(",\"text\":", stdout);
        json_str(stdout, e->text);
        fputs("}\n", stdout);
    } else {
        time_t secs = (time_t)(e->time_ms / 1000);
        struct tm tm;
        char ts[32] = "??:??:??";
        if (localtime_r(&secs, &tm))
            strftime(ts, sizeof ts, "%H:%M:%S", &tm);
        char *k = human(e->kind), *g = human(e->group),
             *m = human(e->member), *t = human(e->text);
        printf("%s.%03u  %-8s  %-10s  %-12s  %s\n", ts,
               (unsigned)(e->time_ms % 1000), k ? k : "?", g ? g : "?",
               m ? m : "?", t ? t : "?");
        free(k);
        free(g);
        free(m);
        free(t);
    }
    fflush(stdout);
}

/* watch's options, before anything else is done: returns -1 to go on,
 * else the exit status. */
static int parse_watch(ctl_t *c, char **argv)
{
    static const struct option opts[] = {
        {"since", required_argument, NULL, 's'},
        {"count", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int argc = 0;
    while (argv[argc])
        argc++;
    /* argv[-1] is the command name: getopt starts at index 1. */
    char **av = argv - 1;
    optind = 0; /* glibc: start afresh (main's getopt ran before) */
    opterr = 0;
    for (;;) {
        int o = getopt_long(argc + 1, av, "+:", opts, NULL);
        if (o == -1)
            break;
        switch (o) {
        case 's':
            if (!parse_u64(optarg, UINT64_MAX, &c->since)) {
                usage_error(c->cmd, "watch: --since wants a number, not "
                            "'%s'", optarg);
                return EXIT_USAGE;
            }
            break;
        case 'c':
            if (!parse_u64(optarg, UINT64_MAX, &c->count) || c->count == 0) {
                usage_error(c->cmd, "watch: --count wants a positive "
                            "number, not '%s'", optarg);
                return EXIT_USAGE;
            }
            break;
        case 'h':
            command_help(c->cmd);
            return EXIT_OK;
        case ':':
            usage_error(c->cmd, "watch: option '%s' needs an argument",
                        av[optind - 1]);
            return EXIT_USAGE;
        default:
            usage_error(c->cmd, "watch: unknown option '%s'",
                        av[optind - 1]);
            return EXIT_USAGE;
        }
    }
    if (optind < argc + 1) {
        usage_error(c->cmd, "watch: unexpected argument '%s'", av[optind]);
        return EXIT_USAGE;
    }
    return -1;
}

static int cmd_watch(ctl_t *c, char **argv)
{
    (void)argv;
    uint64_t since = c->since, count = c->count;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    uint64_t printed = 0;
    while (!stop_signal) {
        events_arg_t a = {.since = since};
        size_t was = c->cur;
        int st = call_daemon(c, call_events, &a);
        if (stop_signal) {
            Phalanx_EventSeq__free(&a.evs);
            break;
        }
        if (st != EXIT_OK)
            return st;
        if (c->cur != was)
            fprintf(stderr, "phxctl: %s stopped answering; now watching "
                    "%s\n", c->eps[was], c->eps[c->cur]);
        for (uint32_t i = 0; i < a.evs._length && !stop_signal; i++) {
            const Phalanx_Event *e = &a.evs._buffer[i];
            if (e->seq <= since)
                continue;
            print_event(c, e);
            since = e->seq;
            if (count && ++printed >= count)
                break;
        }
        Phalanx_EventSeq__free(&a.evs);
        if (count && printed >= count)
            break;
    }
    return EXIT_OK;
}

/* ------------------------------------------------------------------ */
/* invoke: dynamic invocation of any operation (include/phx/dii.h)      */
/* ------------------------------------------------------------------ */

static bool is_ref(const char *s)
{
    return strncmp(s, "IOR:", 4) == 0 || strncmp(s, "corbaloc:", 9) == 0;
}

static int parse_invoke(ctl_t *c, char **argv)
{
    int i = 0;

    c->inv_idl = getenv("PHX_IFREPO");
    for (; argv[i]; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        }
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            command_help(c->cmd);
            return EXIT_OK;
        }
        if (strcmp(a, "--idl") == 0 || strcmp(a, "--interface") == 0) {
            if (!argv[i + 1]) {
                usage_error(c->cmd, "invoke: option '%s' needs an argument",
                            a);
                return EXIT_USAGE;
            }
            if (strcmp(a, "--idl") == 0)
                c->inv_idl = argv[++i];
            else
                c->inv_iface = argv[++i];
            continue;
        }
        if (a[0] == '-' && a[1]) {
            usage_error(c->cmd, "invoke: unknown option '%s'", a);
            return EXIT_USAGE;
        }
        break;
    }
    if (!argv[i] || !argv[i + 1]) {
        usage_error(c->cmd, "invoke: missing %s",
                    argv[i] ? "OPERATION" : "TARGET OPERATION");
        return EXIT_USAGE;
    }
    if (!c->inv_idl) {
        usage_error(c->cmd, "invoke: no interface description: use --idl "
                    "FILE.phxif (phx-idl --describe) or set PHX_IFREPO");
        return EXIT_USAGE;
    }
    c->inv_target = argv[i];
    c->inv_op = argv[i + 1];
    c->inv_args = argv + i + 2;
    while (c->inv_args[c->inv_nargs])
        c->inv_nargs++;
    /* A reference or a file holding one needs no daemon. */
    FILE *f = is_ref(c->inv_target) ? NULL : fopen(c->inv_target, "r");
    c->inv_direct = is_ref(c->inv_target) || f != NULL;
    if (f)
        fclose(f);
    return -1;
}

/* The reference TARGET names: itself, a file's contents, or the group's
 * IOGR from the daemon.  *s is malloc'd.  Returns an exit status. */
static int invoke_target(ctl_t *c, char **s)
{
    const char *t = c->inv_target;

    *s = NULL;
    if (is_ref(t)) {
        *s = strdup(t);
        return *s ? EXIT_OK : EXIT_FAILURE_OTHER;
    }
    if (c->inv_direct) {
        FILE *f = fopen(t, "r");
        char buf[16384];
        size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
        if (f)
            fclose(f);
        buf[n] = '\0';
        char *p = buf;
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
            p++;
        p[strcspn(p, " \t\r\n")] = '\0';
        if (!is_ref(p)) {
            fprintf(stderr, "phxctl: %s holds no IOR: or corbaloc: "
                    "reference\n", t);
            return EXIT_USAGE;
        }
        *s = strdup(p);
        return *s ? EXIT_OK : EXIT_FAILURE_OTHER;
    }
    str_arg_t a = {.a = t};
    int st = call_daemon(c, call_ior, &a);
    *s = a.ret;
    return st;
}

/* "a: long, c: string" for the in and inout parameters. */
static void invoke_signature(const phx_opdesc_t *op, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = '\0';
    for (uint32_t i = 0; i < op->param_count; i++) {
        char tn[160];
        if (op->params[i].mode == PHX_PARAM_OUT)
            continue;
        if (!phx_json_type_name(op->params[i].type, tn, sizeof tn))
            snprintf(tn, sizeof tn, "array");
        int n = snprintf(buf + len, cap - len, "%s%s: %s", len ? ", " : "",
                         op->params[i].name, tn);
        if (n < 0 || (size_t)n >= cap - len)
            break;
        len += (size_t)n;
    }
}

static const phx_typecode_t *invoke_resolve(void *arg, const char *id)
{
    return phx_ifrepo_find_type(arg, id);
}

/* Print the result and the out/inout values as one JSON object. */
static int invoke_print(const phx_opdesc_t *op, phx_any_t *args,
                        phx_any_t *result)
{
    phx_error_t err;
    char *js = NULL;

    phx_error_clear(&err);
    if (phx_value_to_json_ex(result->_type, result->_value, &js, &err)) {
        fprintf(stderr, "phxctl: the result: %s\n", err.msg);
        return EXIT_FAILURE_OTHER;
    }
    printf("{\"result\":%s,\"out\":{", js);
    free(js);
    bool first = true;
    for (uint32_t i = 0; i < op->param_count; i++) {
        if (op->params[i].mode == PHX_PARAM_IN)
            continue;
        if (phx_value_to_json_ex(op->params[i].type, args[i]._value, &js,
                                 &err)) {
            fprintf(stderr, "\nphxctl: out parameter '%s': %s\n",
                    op->params[i].name, err.msg);
            return EXIT_FAILURE_OTHER;
        }
        fputs(first ? "" : ",", stdout);
        json_str(stdout, op->params[i].name);
        printf(":%s", js);
        free(js);
        first = false;
    }
    fputs("}}\n", stdout);
    return EXIT_OK;
}

static int invoke_call(ctl_t *c, phx_object_t *obj, const phx_ifdesc_t *ifd,
                       phx_ifrepo_t *repo)
{
    const phx_opdesc_t *op = phx_ifdesc_find_op(ifd, c->inv_op);
    char sig[1024];
    int st = EXIT_OK;

    if (!op) {
        fprintf(stderr, "phxctl: %s has no operation '%s'; it has:",
                ifd->name, c->inv_op);
        for (uint32_t i = 0; i < ifd->op_count; i++)
            fprintf(stderr, " %s", ifd->ops[i]->name);
        if (ifd->base_count)
            fputs(" (and those of its bases)", stderr);
        fputc('\n', stderr);
        return EXIT_USAGE;
    }
    int wanted = 0;
    for (uint32_t i = 0; i < op->param_count; i++)
        if (op->params[i].mode != PHX_PARAM_OUT)
            wanted++;
    invoke_signature(op, sig, sizeof sig);
    if (wanted != c->inv_nargs) {
        fprintf(stderr, "phxctl: %s takes %d argument%s (%s), got %d\n",
                op->name, wanted, wanted == 1 ? "" : "s", sig,
                c->inv_nargs);
        return EXIT_USAGE;
    }
    phx_any_t *args = NULL, result;
    if (phx_dii_args_new(op, &args) != 0) {
        fputs("phxctl: out of memory\n", stderr);
        return EXIT_FAILURE_OTHER;
    }
    phx_json_opts_t jo = {.resolve = invoke_resolve, .resolve_arg = repo,
                          .orb = c->orb};
    int k = 0;
    for (uint32_t i = 0; i < op->param_count && st == EXIT_OK; i++) {
        const phx_paramdesc_t *pd = &op->params[i];
        char path[32], tn[160];
        phx_error_t err;
        if (pd->mode == PHX_PARAM_OUT)
            continue;
        snprintf(path, sizeof path, "args[%d]", k);
        const char *j = c->inv_args[k++];
        if (phx_json_to_value_ex(pd->type, j, strlen(j), args[i]._value,
                                 path, &jo, &err) != 0) {
            if (!phx_json_type_name(pd->type, tn, sizeof tn))
                snprintf(tn, sizeof tn, "array");
            fprintf(stderr, "phxctl: %s (parameter '%s' of %s is %s)\n",
                    err.msg, pd->name, op->name, tn);
            st = EXIT_USAGE;
        }
    }
    if (st == EXIT_OK) {
        phx_env_t env = PHX_ENV_INIT;
        int rc = phx_dii_invoke(obj, op, args, &result, &env);
        if (rc == 0) {
            st = invoke_print(op, args, &result);
            phx_value_free(&phx_tc_any, &result);
        } else if (rc == PHX_EUSEREX) {
            char *js = NULL;
            fputs("{\"exception\":", stdout);
            json_str(stdout, env.repo_id ? env.repo_id : "");
            if (env.user_tc && env.user_value &&
                phx_value_to_json_ex(env.user_tc, env.user_value, &js,
                                     NULL) == 0) {
                printf(",\"value\":%s}\n", js);
                free(js);
            } else {
                fputs(",\"value\":null}\n", stdout);
            }
            st = EXIT_REFUSED;
        } else {
            char buf[512];
            fprintf(stderr, "phxctl: %s failed: %s\n", op->name,
                    phx_env_describe(&env, buf, sizeof buf));
            st = rc == PHX_ESYSEX && unreachable(&env) ? EXIT_UNREACHABLE
                                                       : EXIT_FAILURE_OTHER;
            if (phx_env_is(&env, PHX_SYSEX_BAD_PARAM) &&
                env.completed == PHX_COMPLETED_NO)
                st = EXIT_USAGE;
        }
        phx_env_clear(&env);
    }
    phx_dii_args_free(args, op->param_count);
    free(args);
    return st;
}

static int cmd_invoke(ctl_t *c, char **argv)
{
    phx_ifrepo_t *repo = NULL;
    phx_object_t *obj = NULL;
    phx_error_t err;
    char *ref = NULL;
    int st;

    (void)argv;
    phx_error_clear(&err);
    if (phx_ifrepo_load(c->inv_idl, &repo, &err) != 0) {
        fprintf(stderr, "phxctl: %s\n", err.msg);
        return EXIT_USAGE;
    }
    st = invoke_target(c, &ref);
    if (st == EXIT_OK && phx_object_from_string(c->orb, ref, &obj, &err)) {
        fprintf(stderr, "phxctl: bad reference for %s: %s\n", c->inv_target,
                err.msg);
        st = EXIT_USAGE;
    }
    if (st == EXIT_OK) {
        const char *want = c->inv_iface ? c->inv_iface
                                        : phx_object_type_id(obj);
        const phx_ifdesc_t *ifd = want && want[0]
                                      ? phx_ifrepo_find(repo, want) : NULL;
        if (!ifd) {
            if (want && want[0])
                fprintf(stderr, "phxctl: no interface %s in %s%s\n", want,
                        c->inv_idl, c->inv_iface ? ""
                                    : "; name one with --interface");
            else
                fprintf(stderr, "phxctl: the reference has no type id; "
                        "name the interface with --interface\n");
            st = EXIT_USAGE;
        } else {
            st = invoke_call(c, obj, ifd, repo);
        }
    }
    phx_object_release(obj);
    free(ref);
    phx_ifrepo_free(repo);
    return st;
}

static const command_t commands[] = {
    {"groups", "", "List the object groups: NAME STYLE RUNNING/TARGET "
     "PRIMARY VERSION FAILOVERS\n(--json: an array of group objects).\n",
     0, cmd_groups},
    {"group", "NAME", "Show the group NAME: its fields, then its members: "
     "ID HOST PID STATE ROLE\nRESTARTS (--json: one group object).\n",
     1, cmd_group},
    {"ior", "NAME", "Print the group's current reference (IOGR) alone on "
     "one line\n(--json: {\"group\":..., \"ior\":...}).\n", 1, cmd_ior},
    {"kill-replica", "NAME MEMBER", "Kill the replica MEMBER (an id such as "
     "NAME/2) of group NAME with SIGKILL;\nthe daemons then restore the "
     "group's replica count.\n", 2, cmd_kill},
    {"add-replica", "NAME HOST", "Raise the target of group NAME by one and "
     "place the new replica on HOST;\nprints the new member id.\n", 2,
     cmd_add},
    {"daemons", "", "List the daemons in the current view, the leader "
     "first.\n", 0, cmd_daemons},
    {"watch", "[--since N] [--count N]",
     "Print the domain's events as they happen, one per line:\n"
     "  HH:MM:SS.mmm  KIND  GROUP  MEMBER  TEXT   (local time)\n"
     "or one JSON object per line with --json.  Starts after event number "
     "N\n(--since, default 0: every event the daemon keeps), stops after "
     "--count N\nevents or on SIGINT/SIGTERM (exit 0).  When the daemon "
     "goes away, the\nothers of --descriptor are tried; without them the "
     "exit status is 3.\n", -1, cmd_watch},
    {"invoke", "[--idl FILE.phxif] [--interface NAME] TARGET OPERATION "
     "[JSON-ARG...]",
     "Call OPERATION on TARGET (an IOR: or corbaloc: reference, a file "
     "holding one,\nor a group name, resolved through the daemon) by "
     "dynamic invocation.  The\ninterface comes from FILE.phxif (phx-idl "
     "--describe; default $PHX_IFREPO),\nfound by the target's type id or "
     "--interface.  One JSON text per in and\ninout parameter.  Prints "
     "{\"result\":...,\"out\":{\"NAME\":...}}, or for a user\n"
     "exception {\"exception\":\"IDL:...\",\"value\":{...}} (exit 1).  "
     "A wrong argument\ncount or value exits 2, naming the parameter and "
     "its type.\n", -1, cmd_invoke},
};

/* ------------------------------------------------------------------ */
/* main                                                                 */
/* ------------------------------------------------------------------ */

static int add_ep(ctl_t *c, const char *ep)
{
    char **eps = realloc(c->eps, (c->n_eps + 1) * sizeof *eps);
    if (!eps)
        return -1;
    c->eps = eps;
    if (!(eps[c->n_eps] = strdup(ep)))
        return -1;
    c->n_eps++;
    return 0;
}

/* Fill c->eps; returns an exit status. */
static int choose_daemons(ctl_t *c)
{
    if (c->endpoint || (!c->descriptor && getenv("PHX_DAEMON"))) {
        const char *ep = c->endpoint ? c->endpoint : getenv("PHX_DAEMON");
        const char *what = c->endpoint ? "--endpoint" : "PHX_DAEMON";
        if (strncmp(ep, "IOR:", 4) == 0 || strncmp(ep, "corbaloc:", 9) == 0) {
            phx_ior_t ior;
            phx_error_t err;
            phx_error_clear(&err);
            phx_ior_init(&ior);
            int rc = phx_ior_from_string(ep, &ior, &err);
            phx_ior_fini(&ior);
            if (rc != 0) {
                usage_error(NULL, "%s: %s", what,
                            err.msg[0] ? err.msg : phx_strerror(rc));
                return EXIT_USAGE;
            }
        } else if (strncmp(ep, "tcp://", 6) != 0 &&
                   strncmp(ep, "ipc://", 6) != 0 &&
                   strncmp(ep, "inproc://", 9) != 0) {
            usage_error(NULL, "%s '%s' is not an endpoint (tcp://HOST:PORT, "
                        "ipc://PATH, inproc://NAME) or a reference (IOR:, "
                        "corbaloc:)", what, ep);
            return EXIT_USAGE;
        }
        return add_ep(c, ep) ? EXIT_FAILURE_OTHER : EXIT_OK;
    }
    if (!c->descriptor) {
        usage_error(NULL, "no daemon given: use --endpoint, --descriptor "
                    "or set PHX_DAEMON");
        return EXIT_USAGE;
    }
    phx_deploy_t *d = NULL;
    phx_error_t err;
    phx_error_clear(&err);
    if (phx_deploy_load(c->descriptor, &d, &err) != 0) {
        fprintf(stderr, "phxctl: %s\n",
                err.msg[0] ? err.msg : phx_strerror(err.code));
        return EXIT_FAILURE_OTHER;
    }
    int st = EXIT_OK;
    if (c->host) {
        const phx_deploy_host_t *h = phx_deploy_find_host(d, c->host);
        if (!h) {
            usage_error(NULL, "no host named '%s' in %s", c->host,
                        c->descriptor);
            st = EXIT_USAGE;
        } else if (add_ep(c, h->endpoint)) {
            st = EXIT_FAILURE_OTHER;
        }
    } else {
        for (size_t i = 0; i < d->n_hosts && st == EXIT_OK; i++)
            if (add_ep(c, d->hosts[i].endpoint))
                st = EXIT_FAILURE_OTHER;
        if (st == EXIT_OK && c->n_eps == 0) {
            fprintf(stderr, "phxctl: %s names no host\n", c->descriptor);
            st = EXIT_UNREACHABLE;
        }
    }
    phx_deploy_free(d);
    if (st == EXIT_FAILURE_OTHER)
        fputs("phxctl: out of memory\n", stderr);
    return st;
}

static int run(ctl_t *c, char **argv)
{
    int argc = 0;
    while (argv[argc])
        argc++;
    const command_t *cmd = NULL;
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[0], commands[i].name) == 0)
            cmd = &commands[i];
    if (!cmd) {
        usage_error(NULL, "unknown command '%s'", argv[0]);
        return EXIT_USAGE;
    }
    c->cmd = cmd;
    if (cmd->nargs >= 0) {
        /* Positional arguments only; --help anywhere asks for help. */
        for (int i = 1; i < argc; i++) {
            if (strcmp(argv[i], "--help") == 0 ||
                strcmp(argv[i], "-h") == 0) {
                command_help(cmd);
                return EXIT_OK;
            }
            if (strcmp(argv[i], "--") == 0)
                break;
            if (argv[i][0] == '-' && argv[i][1]) {
                usage_error(cmd, "%s: unknown option '%s'", cmd->name,
                            argv[i]);
                return EXIT_USAGE;
            }
        }
        int first = 1;
        if (argc > 1 && strcmp(argv[1], "--") == 0)
            first = 2;
        int n = argc - first;
        if (n < cmd->nargs) {
            usage_error(cmd, "%s: missing %s", cmd->name,
                        cmd->nargs - n == 1 && n == 1
                            ? strchr(cmd->args, ' ') + 1
                            : cmd->args);
            return EXIT_USAGE;
        }
        if (n > cmd->nargs) {
            usage_error(cmd, "%s: unexpected argument '%s'", cmd->name,
                        argv[first + cmd->nargs]);
            return EXIT_USAGE;
        }
        argv += first - 1;
    } else if (cmd->run == cmd_invoke) {
        int st = parse_invoke(c, argv + 1);
        if (st >= 0)
            return st;
    } else {
        int st = parse_watch(c, argv + 1);
        if (st >= 0)
            return st;
    }

    int st = cmd->run == cmd_invoke && c->inv_direct ? EXIT_OK
                                                     : choose_daemons(c);
    if (st != EXIT_OK)
        return st;
    if (!getenv("PHX_LOG"))
        phx_log_set_level(PHX_LOG_ERROR);
    phx_orb_config_t cfg;
    phx_orb_config_init(&cfg);
    cfg.call_timeout_ms = c->timeout_ms;
    if (cmd->run == cmd_watch)
        cfg.call_timeout_ms = c->timeout_ms + WATCH_WAIT_MS;
    cfg.connect_timeout_ms = c->timeout_ms;
    cfg.linger_ms = 0;
    phx_error_t err;
    phx_error_clear(&err);
    if (phx_orb_create(&cfg, &c->orb, &err) != 0) {
        fprintf(stderr, "phxctl: cannot start the ORB: %s\n",
                err.msg[0] ? err.msg : phx_strerror(err.code));
        return EXIT_FAILURE_OTHER;
    }
    if (cmd->run == cmd_invoke) {
        phx_ft_client_config_t fc;
        phx_ft_client_config_init(&fc);
        fc.request_duration_ms = c->timeout_ms;
        if (phx_ft_client_install(c->orb, &fc, &c->ft, &err) != PHX_OK) {
            fprintf(stderr, "phxctl: %s\n", err.msg);
            return EXIT_FAILURE_OTHER;
        }
    }
    c->objs = calloc(c->n_eps ? c->n_eps : 1, sizeof *c->objs);
    if (!c->objs) {
        fputs("phxctl: out of memory\n", stderr);
        return EXIT_FAILURE_OTHER;
    }
    return cmd->run(c, argv + 1);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"endpoint", required_argument, NULL, 'e'},
        {"descriptor", required_argument, NULL, 'd'},
        {"host", required_argument, NULL, 'H'},
        {"json", no_argument, NULL, 'j'},
        {"timeout", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    ctl_t c = {.timeout_ms = DEFAULT_TIMEOUT_MS};
    uint64_t v;
    opterr = 0;
    for (;;) {
        int o = getopt_long(argc, argv, "+:h", opts, NULL);
        if (o == -1)
            break;
        switch (o) {
        case 'e': c.endpoint = optarg; break;
        case 'd': c.descriptor = optarg; break;
        case 'H': c.host = optarg; break;
        case 'j': c.json = true; break;
        case 't':
            if (!parse_u64(optarg, 3600000, &v) || v == 0) {
                usage_error(NULL, "--timeout wants milliseconds (1 to "
                            "3600000), not '%s'", optarg);
                return EXIT_USAGE;
            }
            c.timeout_ms = (uint32_t)v;
            break;
        case 'h':
            fputs(long_usage, stdout);
            return EXIT_OK;
        case ':':
            usage_error(NULL, "option '%s' needs an argument",
                        argv[optind - 1]);
            return EXIT_USAGE;
        default:
            usage_error(NULL, "unknown option '%s'", argv[optind - 1]);
            return EXIT_USAGE;
        }
    }
    if (c.endpoint && c.descriptor) {
        usage_error(NULL, "--endpoint and --descriptor exclude each other");
        return EXIT_USAGE;
    }
    if (c.host && !c.descriptor) {
        usage_error(NULL, "--host needs --descriptor");
        return EXIT_USAGE;
    }
    if (optind >= argc) {
        usage_error(NULL, "no command given");
        return EXIT_USAGE;
    }

    int st = run(&c, argv + optind);

    if (fflush(stdout) != 0 && st == EXIT_OK) {
        fprintf(stderr, "phxctl: cannot write the output: %s\n",
                strerror(errno));
        st = EXIT_FAILURE_OTHER;
    }
    for (size_t i = 0; c.objs && i < c.n_eps; i++)
        phx_object_release(c.objs[i]);
    free(c.objs);
    phx_orb_destroy(c.orb);
    phx_ft_client_destroy(c.ft);
    for (size_t i = 0; i < c.n_eps; i++)
        free(c.eps[i]);
    free(c.eps);
    return st;
}
