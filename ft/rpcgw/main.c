/*
 * phx-rpcgw - ONC RPC gateway to an object group (docs/phx-rpcgw.1,
 * docs/migrating-onc-rpc.md).
 *
 *   phx-rpcgw --listen tcp://127.0.0.1:PORT --describe FILE.phxif
 *             --program NAME|NUMBER --target REF [--target REF ...]
 *             [--version N] [--register] [--request-duration-ms MS]
 *             [--max-record BYTES] [--max-connections N]
 *
 * The .phxif file comes from "phx-idl --describe prog.x": it holds the
 * operations of every version and, for RPC input, the procedure numbers
 * (a named type "phx-rpc:<interface id>", see compiler/be_describe.c).
 * Prints "LISTENING tcp://HOST:PORT" on stdout once serving, and serves
 * until SIGINT or SIGTERM.  Exit 0 after a clean stop, 1 on a failure,
 * 2 on a usage error.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <phx/dii.h>
#include <phx/ft.h>
#include <phx/ior.h>
#include <phx/log.h>
#include <phx/orb.h>
#include <phx/rpcgw.h>

#define PROG "phx-rpcgw"
#define MAX_TARGETS 16

static const char usage_text[] =
    "usage: " PROG " --listen tcp://HOST:PORT --describe FILE.phxif\n"
    "                 --program NAME|NUMBER --target REF [--target REF...]\n"
    "                 [--version N] [--register] [--request-duration-ms MS]\n"
    "                 [--max-record BYTES] [--max-connections N]\n"
    "  REF: IOR:..., corbaloc:..., or a file holding one (several\n"
    "  --target: the members of one object group)\n";

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, PROG ": ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n%s", usage_text);
    return 2;
}

static bool parse_u32(const char *s, uint32_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (*s == '\0' || *s == '-' || *end || errno || v > UINT32_MAX)
        return false;
    *out = (uint32_t)v;
    return true;
}

/* The reference text: the argument itself, or the first line of a file. */
static char *read_ref(const char *arg)
{
    if (strncmp(arg, "IOR:", 4) == 0 || strncmp(arg, "corbaloc:", 9) == 0)
        return strdup(arg);
    FILE *f = fopen(arg, "r");
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
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r' ||
                     line[n - 1] == ' '))
        line[--n] = '\0';
    char *s = line;
    if (strncmp(s, "READY ", 6) == 0)
        memmove(s, s + 6, strlen(s + 6) + 1);
    return s;
}

typedef struct version_map {
    uint32_t prog, vers;
    const phx_ifdesc_t *ifd;
    phx_rpc_proc_t *procs;
    size_t count;
} version_map_t;

/* The module part of "IDL:P/V:1.0" is the program name. */
static bool program_matches(const char *iface_id, const char *want,
                            uint32_t prog)
{
    uint32_t num;
    if (parse_u32(want, &num))
        return num == prog;
    if (strncmp(iface_id, "IDL:", 4) != 0)
        return false;
    const char *p = iface_id + 4, *slash = strchr(p, '/');
    return slash && (size_t)(slash - p) == strlen(want) &&
           strncmp(p, want, strlen(want)) == 0;
}

static int load_versions(const phx_ifrepo_t *repo, const char *want,
                         bool any_version, uint32_t want_vers,
                         version_map_t **out, size_t *n_out)
{
    version_map_t *v = NULL;
    size_t n = 0;
    bool any_rpc = false;

    for (size_t i = 0; i < phx_ifrepo_type_count(repo); i++) {
        const phx_typecode_t *tc = phx_ifrepo_type(repo, i);
        uint32_t prog, vers;
        char buf[32];
        if (tc->kind != PHX_TK_ENUM || tc->repo_id == NULL ||
            strncmp(tc->repo_id, "phx-rpc:", 8) != 0 || tc->name == NULL)
            continue;
        any_rpc = true;
        const char *dot = strchr(tc->name, '.');
        if (dot == NULL || (size_t)(dot - tc->name) >= sizeof buf)
            continue;
        memcpy(buf, tc->name, (size_t)(dot - tc->name));
        buf[dot - tc->name] = '\0';
        if (!parse_u32(buf, &prog) || !parse_u32(dot + 1, &vers))
            continue;
        const char *iid = tc->repo_id + 8;
        if (!program_matches(iid, want, prog))
            continue;
        if (!any_version && vers != want_vers)
            continue;
        const phx_ifdesc_t *ifd = phx_ifrepo_find(repo, iid);
        if (ifd == NULL) {
            fprintf(stderr, PROG ": %s: not described in the file\n", iid);
            continue;
        }
        version_map_t *nv = realloc(v, (n + 1) * sizeof *nv);
        if (nv == NULL)
            break;
        v = nv;
        version_map_t *m = &v[n++];
        m->prog = prog;
        m->vers = vers;
        m->ifd = ifd;
        m->count = 0;
        m->procs = calloc(tc->member_count ? tc->member_count : 1,
                          sizeof *m->procs);
        for (uint32_t k = 0; m->procs && k < tc->member_count; k++) {
            const char *e = tc->enumerators[k], *eq = strrchr(e, '=');
            char opname[256];
            uint32_t proc;
            if (eq == NULL || (size_t)(eq - e) >= sizeof opname ||
                !parse_u32(eq + 1, &proc) || proc == 0)
                continue;
            memcpy(opname, e, (size_t)(eq - e));
            opname[eq - e] = '\0';
            const phx_opdesc_t *op = phx_ifdesc_find_op(ifd, opname);
            if (op == NULL) {
                fprintf(stderr, PROG ": %s: procedure %u (%s) is not "
                        "described (a recursive type?); it answers "
                        "PROC_UNAVAIL\n", iid, proc, opname);
                continue;
            }
            m->procs[m->count].proc = proc;
            m->procs[m->count].op = op;
            m->count++;
        }
    }
    *out = v;
    *n_out = n;
    if (!any_rpc)
        return -1;
    return 0;
}

static volatile sig_atomic_t stop_flag;
static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

int main(int argc, char **argv)
{
    const char *listen = NULL, *describe = NULL, *program = NULL;
    const char *targets[MAX_TARGETS];
    size_t n_targets = 0;
    uint32_t vers = 0, duration = 15000, max_record = 0, max_conn = 0;
    bool any_version = true, do_register = false;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage_text, stdout);
            return 0;
        }
        if (strcmp(a, "--register") == 0) {
            do_register = true;
            continue;
        }
        if (val == NULL)
            return usage_error("%s needs a value", a);
        i++;
        if (strcmp(a, "--listen") == 0)
            listen = val;
        else if (strcmp(a, "--describe") == 0)
            describe = val;
        else if (strcmp(a, "--program") == 0)
            program = val;
        else if (strcmp(a, "--target") == 0) {
            if (n_targets == MAX_TARGETS)
                return usage_error("too many --target (at most 16)%s", "");
            targets[n_targets++] = val;
        } else if (strcmp(a, "--version") == 0) {
            if (!parse_u32(val, &vers))
                return usage_error("--version: '%s' is not a number", val);
            any_version = false;
        } else if (strcmp(a, "--request-duration-ms") == 0) {
            if (!parse_u32(val, &duration) || duration == 0)
                return usage_error("--request-duration-ms: bad value '%s'",
                                   val);
        } else if (strcmp(a, "--max-record") == 0) {
            if (!parse_u32(val, &max_record) || max_record < 64)
                return usage_error("--max-record: bad value '%s' "
                                   "(at least 64)", val);
        } else if (strcmp(a, "--max-connections") == 0) {
            if (!parse_u32(val, &max_conn) || max_conn == 0)
                return usage_error("--max-connections: bad value '%s'", val);
        } else {
            return usage_error("unknown option '%s'", a);
        }
    }
    if (listen == NULL)
        return usage_error("--listen is required%s", "");
    if (describe == NULL)
        return usage_error("--describe is required%s", "");
    if (program == NULL)
        return usage_error("--program is required%s", "");
    if (n_targets == 0)
        return usage_error("--target is required%s", "");

    phx_error_t err;
    phx_rpcgw_config_t gcfg;
    phx_rpcgw_config_init(&gcfg);
    gcfg.listen = listen;
    if (max_record)
        gcfg.max_record = max_record;
    if (max_conn)
        gcfg.max_connections = max_conn;
    phx_rpcgw_t *gw = NULL;
    if (phx_rpcgw_create(&gcfg, &gw, &err) != 0)
        return usage_error("%s", err.msg);

    phx_ifrepo_t *repo = NULL;
    if (phx_ifrepo_load(describe, &repo, &err) != 0) {
        fprintf(stderr, PROG ": %s: %s\n", describe, err.msg);
        phx_rpcgw_destroy(gw);
        return 1;
    }
    version_map_t *maps = NULL;
    size_t n_maps = 0;
    if (load_versions(repo, program, any_version, vers, &maps, &n_maps) < 0) {
        fprintf(stderr, PROG ": %s has no ONC RPC programs (write it with "
                "phx-idl --describe from a .x file)\n", describe);
        phx_ifrepo_free(repo);
        phx_rpcgw_destroy(gw);
        return 1;
    }
    int status = 0;
    if (n_maps == 0) {
        fprintf(stderr, PROG ": %s: no program '%s'%s\n", describe, program,
                any_version ? "" : " with that version");
        status = 2;
    }

    phx_orb_t *orb = NULL;
    phx_ft_client_t *ft = NULL;
    phx_object_t *target = NULL;
    if (status == 0) {
        phx_orb_config_t ocfg;
        phx_orb_config_init(&ocfg);
        ocfg.connect_timeout_ms = 2000;
        ocfg.call_timeout_ms = duration;
        phx_ft_client_config_t fcfg;
        phx_ft_client_config_init(&fcfg);
        fcfg.request_duration_ms = duration;
        if (phx_orb_create(&ocfg, &orb, &err) != 0 ||
            phx_ft_client_install(orb, &fcfg, &ft, &err) != 0) {
            fprintf(stderr, PROG ": %s\n", err.msg);
            status = 1;
        }
    }
    if (status == 0) {
        phx_ior_t members[MAX_TARGETS];
        size_t got = 0;
        for (size_t k = 0; k < n_targets && status == 0; k++) {
            char *s = read_ref(targets[k]);
            if (s == NULL) {
                fprintf(stderr, PROG ": --target %s: not a reference nor a "
                        "readable file\n", targets[k]);
                status = 2;
            } else if (phx_ior_from_string(s, &members[got], &err) != 0) {
                fprintf(stderr, PROG ": --target %s: %s\n", targets[k],
                        err.msg);
                status = 2;
            } else {
                got++;
            }
            free(s);
        }
        if (status == 0 && got == 1) {
            if (phx_object_from_ior(orb, &members[0], &target, &err) != 0) {
                fprintf(stderr, PROG ": target: %s\n", err.msg);
                status = 1;
            }
        } else if (status == 0) {
            phx_ft_iogr_spec_t spec = {
                .ft_domain_id = "rpcgw",
                .object_group_id = 1,
                .object_group_ref_version = 1,
                .members = members,
                .member_count = got,
                .primary = PHX_FT_NO_PRIMARY,
            };
            phx_ior_t iogr;
            if (phx_ft_iogr_build(&spec, &iogr, &err) != 0 ||
                phx_object_from_ior(orb, &iogr, &target, &err) != 0) {
                fprintf(stderr, PROG ": group reference: %s\n", err.msg);
                status = 1;
            } else {
                phx_ior_fini(&iogr);
            }
        }
        for (size_t k = 0; k < got; k++)
            phx_ior_fini(&members[k]);
    }
    for (size_t i = 0; status == 0 && i < n_maps; i++)
        if (phx_rpcgw_add_program(gw, maps[i].prog, maps[i].vers,
                                  maps[i].procs, maps[i].count, target,
                                  &err) != 0) {
            fprintf(stderr, PROG ": %s\n", err.msg);
            status = 1;
        }
    if (status == 0 && phx_rpcgw_start(gw, &err) != 0) {
        fprintf(stderr, PROG ": %s\n", err.msg);
        status = 1;
    }
    if (status == 0 && do_register && phx_rpcgw_register(gw, &err) != 0)
        fprintf(stderr, PROG ": --register: %s (serving anyway; clients "
                "must be given the port)\n", err.msg);

    if (status == 0) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        signal(SIGPIPE, SIG_IGN);
        for (size_t i = 0; i < n_maps; i++)
            printf("PROGRAM %u %u %zu\n", maps[i].prog, maps[i].vers,
                   maps[i].count);
        const char *h = listen + 6, *colon = strrchr(h, ':');
        printf("LISTENING tcp://%.*s:%u\n", (int)(colon - h), h,
               (unsigned)phx_rpcgw_port(gw));
        fflush(stdout);
        while (!stop_flag) {
            struct timespec ts = {0, 50 * 1000000L};
            nanosleep(&ts, NULL);
        }
        phx_rpcgw_stats_t st;
        phx_rpcgw_get_stats(gw, &st);
        fprintf(stderr, PROG ": stopping: %llu calls, %llu ok, %llu "
                "system errors\n", (unsigned long long)st.calls,
                (unsigned long long)st.success,
                (unsigned long long)st.system_err);
    }
    phx_rpcgw_destroy(gw);
    phx_object_release(target);
    phx_orb_destroy(orb);
    phx_ft_client_destroy(ft);
    for (size_t i = 0; i < n_maps; i++)
        free(maps[i].procs);
    free(maps);
    phx_ifrepo_free(repo);
    return status;
}
