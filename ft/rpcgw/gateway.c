/*
 * gateway.c - the ONC RPC gateway core (include/phx/rpcgw.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <phx/log.h>
#include <phx/rpcgw.h>
#include <phx/xdr.h>

#include "orb/rpc/rpcmsg.h"

#define MOD "rpcgw"

typedef struct prog {
    uint32_t prog, vers;
    phx_rpc_proc_t *procs;
    size_t count;
    phx_object_t *target;
} prog_t;

typedef struct conn {
    struct conn *next;
    phx_rpcgw_t *gw;
    int fd;
    pthread_t thread;
    bool done;
    char peer[64];
} conn_t;

struct phx_rpcgw {
    phx_rpcgw_config_t cfg;
    char host[256];
    uint16_t port;
    prog_t *progs;
    size_t n_progs;
    int lfd;
    int wake[2];
    pthread_t acceptor;
    bool started, stopping, registered;
    pthread_mutex_t lock;
    conn_t *conns;
    unsigned n_conns;
    phx_rpcgw_stats_t st;
};

void phx_rpcgw_config_init(phx_rpcgw_config_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->listen = "tcp://127.0.0.1:0";
    cfg->max_record = PHX_RPC_DEFAULT_MAX_RECORD;
    cfg->max_connections = 64;
}

static int parse_listen(const char *s, char *host, size_t hl, uint16_t *port,
                        phx_error_t *err)
{
    const char *p, *colon;
    char *end;
    if (s == NULL || strncmp(s, "tcp://", 6) != 0)
        return phx_error_set(err, PHX_EINVAL, "listen endpoint '%s': "
                             "expected tcp://HOST:PORT", s ? s : "(null)");
    p = s + 6;
    colon = strrchr(p, ':');
    if (colon == NULL || colon == p || (size_t)(colon - p) >= hl)
        return phx_error_set(err, PHX_EINVAL, "listen endpoint '%s': "
                             "expected tcp://HOST:PORT", s);
    errno = 0;
    unsigned long v = strtoul(colon + 1, &end, 10);
    if (colon[1] == '\0' || *end != '\0' || errno || v > 65535)
        return phx_error_set(err, PHX_EINVAL, "listen endpoint '%s': bad "
                             "port", s);
    memcpy(host, p, (size_t)(colon - p));
    host[colon - p] = '\0';
    if (strcmp(host, "*") == 0)
        strcpy(host, "0.0.0.0");
    *port = (uint16_t)v;
    return 0;
}

int phx_rpcgw_create(const phx_rpcgw_config_t *cfg, phx_rpcgw_t **out,
                     phx_error_t *err)
{
    phx_rpcgw_t *gw;
    int rc;

    *out = NULL;
    gw = calloc(1, sizeof *gw);
    if (gw == NULL)
        return phx_error_set(err, PHX_ENOMEM, "out of memory");
    if (cfg)
        gw->cfg = *cfg;
    else
        phx_rpcgw_config_init(&gw->cfg);
    if (gw->cfg.max_record == 0)
        gw->cfg.max_record = PHX_RPC_DEFAULT_MAX_RECORD;
    if (gw->cfg.max_connections == 0)
        gw->cfg.max_connections = 64;
    rc = parse_listen(gw->cfg.listen, gw->host, sizeof gw->host, &gw->port,
                      err);
    if (rc) {
        free(gw);
        return rc;
    }
    gw->cfg.listen = NULL;  /* not kept */
    gw->lfd = -1;
    gw->wake[0] = gw->wake[1] = -1;
    pthread_mutex_init(&gw->lock, NULL);
    *out = gw;
    return 0;
}

int phx_rpcgw_add_program(phx_rpcgw_t *gw, uint32_t prog, uint32_t vers,
                          const phx_rpc_proc_t *procs, size_t count,
                          phx_object_t *target, phx_error_t *err)
{
    if (gw == NULL || target == NULL || (count && procs == NULL))
        return phx_error_set(err, PHX_EINVAL, "bad arguments");
    if (gw->started)
        return phx_error_set(err, PHX_ESTATE, "gateway already started");
    for (size_t i = 0; i < gw->n_progs; i++)
        if (gw->progs[i].prog == prog && gw->progs[i].vers == vers)
            return phx_error_set(err, PHX_EEXIST, "program %u version %u "
                                 "already served", prog, vers);
    for (size_t i = 0; i < count; i++) {
        const phx_opdesc_t *op = procs[i].op;
        if (procs[i].proc == 0)
            return phx_error_set(err, PHX_EINVAL, "procedure 0 is NULLPROC");
        if (op == NULL)
            return phx_error_set(err, PHX_EINVAL, "procedure %u has no "
                                 "operation", procs[i].proc);
        for (size_t j = 0; j < i; j++)
            if (procs[j].proc == procs[i].proc)
                return phx_error_set(err, PHX_EINVAL, "procedure %u twice",
                                     procs[i].proc);
        for (uint32_t k = 0; k < op->param_count; k++)
            if (op->params[k].mode != PHX_PARAM_IN)
                return phx_error_set(err, PHX_EINVAL, "operation %s: "
                                     "parameter %s is not 'in'", op->name,
                                     op->params[k].name);
    }
    prog_t *v = realloc(gw->progs, (gw->n_progs + 1) * sizeof *v);
    if (v == NULL)
        return phx_error_set(err, PHX_ENOMEM, "out of memory");
    gw->progs = v;
    prog_t *p = &v[gw->n_progs];
    memset(p, 0, sizeof *p);
    p->procs = calloc(count ? count : 1, sizeof *p->procs);
    if (p->procs == NULL)
        return phx_error_set(err, PHX_ENOMEM, "out of memory");
    if (count)
        memcpy(p->procs, procs, count * sizeof *procs);
    p->count = count;
    p->prog = prog;
    p->vers = vers;
    p->target = phx_object_ref(target);
    gw->n_progs++;
    return 0;
}

uint16_t phx_rpcgw_port(const phx_rpcgw_t *gw)
{
    return gw->port;
}

void phx_rpcgw_get_stats(phx_rpcgw_t *gw, phx_rpcgw_stats_t *st)
{
    pthread_mutex_lock(&gw->lock);
    *st = gw->st;
    pthread_mutex_unlock(&gw->lock);
}

#define COUNT(gw, field)                                                    \
    do {                                                                    \
        pthread_mutex_lock(&(gw)->lock);                                    \
        (gw)->st.field++;                                                   \
        pthread_mutex_unlock(&(gw)->lock);                                  \
    } while (0)

/* ------------------------------------------------------------------ */
/* Serving a call                                                       */
/* ------------------------------------------------------------------ */

static int send_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

static int send_reply(int fd, phx_xdr_writer_t *w)
{
    uint8_t *rec;
    size_t n;
    int rc;
    if (w->status)
        return -1;
    if (phx_rpc_record_frame(w->buf, w->len, &rec, &n))
        return -1;
    rc = send_all(fd, rec, n);
    free(rec);
    return rc;
}

/* Invoke op with the XDR arguments; fills w with the whole reply. */
static void serve_op(conn_t *c, const prog_t *p, const phx_opdesc_t *op,
                     const phx_rpc_call_t *call, phx_xdr_writer_t *w)
{
    phx_rpcgw_t *gw = c->gw;
    void **slots = NULL, *result = NULL;
    uint32_t n = op->param_count;
    phx_xdr_reader_t r;
    bool garbage = false, sysex = false;
    phx_env_t env;

    phx_env_init(&env);
    slots = calloc(n ? n : 1, sizeof *slots);
    if (slots == NULL) {
        sysex = true;
        goto reply;
    }
    for (uint32_t i = 0; i < n; i++) {
        size_t sz = phx_typecode_c_size(op->params[i].type);
        slots[i] = calloc(1, sz ? sz : 8);
        if (slots[i] == NULL) {
            sysex = true;
            goto reply;
        }
    }
    phx_xdr_reader_init(&r, call->args, call->args_len);
    r.max_len = (uint32_t)gw->cfg.max_record;
    for (uint32_t i = 0; i < n && !garbage; i++)
        if (phx_xdr_get_value(&r, op->params[i].type, slots[i]) != 0)
            garbage = true;
    if (!garbage && phx_xdr_reader_remaining(&r) != 0)
        garbage = true;
    if (garbage) {
        PHX_INFO(MOD, "%s: call %u.%u.%u (%s): undecodable arguments",
                 c->peer, call->prog, call->vers, call->proc, op->name);
        goto reply;
    }
    if (op->result && op->result->kind != PHX_TK_VOID) {
        size_t sz = phx_typecode_c_size(op->result);
        result = calloc(1, sz ? sz : 8);
        if (result == NULL) {
            sysex = true;
            goto reply;
        }
    }
    if (phx_op_invoke(p->target, op, slots, result, &env) != 0) {
        char buf[256];
        PHX_WARN(MOD, "%s: call %u.%u.%u (%s) failed: %s", c->peer,
                 call->prog, call->vers, call->proc, op->name,
                 phx_env_describe(&env, buf, sizeof buf));
        sysex = true;
        free(result);
        result = NULL;
    }
reply:
    if (garbage) {
        phx_rpc_encode_accepted(w, call->xid, PHX_RPC_GARBAGE_ARGS, 0, 0);
        COUNT(gw, garbage_args);
    } else if (sysex) {
        phx_rpc_encode_accepted(w, call->xid, PHX_RPC_SYSTEM_ERR, 0, 0);
        COUNT(gw, system_err);
    } else {
        phx_rpc_encode_accepted(w, call->xid, PHX_RPC_SUCCESS, 0, 0);
        if (result)
            phx_xdr_put_value(w, op->result, result);
        if (w->status) {
            PHX_WARN(MOD, "%s: %s: result cannot be encoded: %s", c->peer,
                     op->name, phx_strerror(w->status));
            phx_xdr_writer_fini(w);
            phx_xdr_writer_init(w);
            phx_rpc_encode_accepted(w, call->xid, PHX_RPC_SYSTEM_ERR, 0, 0);
            COUNT(gw, system_err);
        } else {
            COUNT(gw, success);
        }
    }
    if (result) {
        phx_value_free(op->result, result);
        free(result);
    }
    if (slots) {
        for (uint32_t i = 0; i < n; i++)
            if (slots[i]) {
                phx_value_free(op->params[i].type, slots[i]);
                free(slots[i]);
            }
        free(slots);
    }
    phx_env_clear(&env);
}

/* Handle one record; false: close the connection. */
static bool serve_record(conn_t *c, const uint8_t *rec, size_t len)
{
    phx_rpcgw_t *gw = c->gw;
    phx_rpc_call_t call;
    uint32_t auth_stat;
    phx_xdr_writer_t w;
    bool ok = true;

    phx_xdr_writer_init(&w);
    switch (phx_rpc_decode_call(rec, len, &call, &auth_stat)) {
    case PHX_RPC_CALL_GARBAGE:
    case PHX_RPC_CALL_NOT_CALL:
        PHX_INFO(MOD, "%s: not an RPC call (%zu octets): closing", c->peer,
                 len);
        phx_xdr_writer_fini(&w);
        return false;
    case PHX_RPC_CALL_BAD_RPCVERS:
        COUNT(gw, rpc_mismatch);
        phx_rpc_encode_rpc_mismatch(&w, call.xid);
        break;
    case PHX_RPC_CALL_BAD_AUTH:
        COUNT(gw, auth_error);
        phx_rpc_encode_auth_error(&w, call.xid, auth_stat);
        break;
    case PHX_RPC_CALL_OK: {
        const prog_t *p = NULL;
        uint32_t lo = UINT32_MAX, hi = 0;
        bool known = false;
        COUNT(gw, calls);
        for (size_t i = 0; i < gw->n_progs; i++) {
            if (gw->progs[i].prog != call.prog)
                continue;
            known = true;
            if (gw->progs[i].vers < lo)
                lo = gw->progs[i].vers;
            if (gw->progs[i].vers > hi)
                hi = gw->progs[i].vers;
            if (gw->progs[i].vers == call.vers)
                p = &gw->progs[i];
        }
        if (!known) {
            COUNT(gw, prog_unavail);
            phx_rpc_encode_accepted(&w, call.xid, PHX_RPC_PROG_UNAVAIL, 0, 0);
        } else if (p == NULL) {
            COUNT(gw, prog_mismatch);
            phx_rpc_encode_accepted(&w, call.xid, PHX_RPC_PROG_MISMATCH, lo,
                                    hi);
        } else if (call.proc == 0) {
            COUNT(gw, success);
            phx_rpc_encode_accepted(&w, call.xid, PHX_RPC_SUCCESS, 0, 0);
        } else {
            const phx_opdesc_t *op = NULL;
            for (size_t i = 0; i < p->count; i++)
                if (p->procs[i].proc == call.proc)
                    op = p->procs[i].op;
            if (op == NULL) {
                COUNT(gw, proc_unavail);
                phx_rpc_encode_accepted(&w, call.xid, PHX_RPC_PROC_UNAVAIL,
                                        0, 0);
            } else {
                serve_op(c, p, op, &call, &w);
            }
        }
        break;
    }
    }
    if (send_reply(c->fd, &w) != 0)
        ok = false;
    phx_xdr_writer_fini(&w);
    return ok;
}

static void *conn_main(void *arg)
{
    conn_t *c = arg;
    phx_rpcgw_t *gw = c->gw;
    phx_rpc_recbuf_t rb;
    uint8_t buf[16384];

    phx_rpc_recbuf_init(&rb, gw->cfg.max_record);
    for (;;) {
        if (gw->cfg.idle_timeout_ms) {
            struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
            int k = poll(&pfd, 1, (int)gw->cfg.idle_timeout_ms);
            if (k == 0) {
                PHX_INFO(MOD, "%s: idle: closing", c->peer);
                break;
            }
            if (k < 0 && errno == EINTR)
                continue;
        }
        ssize_t n = recv(c->fd, buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        size_t off = 0, used;
        bool close_it = false;
        while (off < (size_t)n || rb.complete) {
            int rc = phx_rpc_recbuf_feed(&rb, buf + off, (size_t)n - off,
                                         &used);
            off += used;
            if (rc == PHX_ELIMIT) {
                PHX_WARN(MOD, "%s: record larger than %zu octets: closing "
                         "the connection", c->peer, gw->cfg.max_record);
                COUNT(gw, oversized);
                close_it = true;
                break;
            }
            if (rc < 0) {
                close_it = true;
                break;
            }
            if (rc == 0)
                break;
            if (!serve_record(c, rb.rec, rb.rec_len)) {
                close_it = true;
                break;
            }
            phx_rpc_recbuf_reset(&rb);
        }
        if (close_it)
            break;
    }
    phx_rpc_recbuf_fini(&rb);
    pthread_mutex_lock(&gw->lock);
    shutdown(c->fd, SHUT_RDWR);
    c->done = true;
    pthread_mutex_unlock(&gw->lock);
    return NULL;
}

/* Join finished connection threads (lock held). */
static void reap(phx_rpcgw_t *gw, bool all)
{
    conn_t **pp = &gw->conns;
    while (*pp) {
        conn_t *c = *pp;
        if (c->done || all) {
            *pp = c->next;
            pthread_mutex_unlock(&gw->lock);
            pthread_join(c->thread, NULL);
            pthread_mutex_lock(&gw->lock);
            close(c->fd);
            free(c);
            gw->n_conns--;
        } else {
            pp = &c->next;
        }
    }
}

static void *accept_main(void *arg)
{
    phx_rpcgw_t *gw = arg;
    for (;;) {
        struct pollfd pfd[2] = {{.fd = gw->lfd, .events = POLLIN},
                                {.fd = gw->wake[0], .events = POLLIN}};
        int k = poll(pfd, 2, 1000);
        if (k < 0 && errno != EINTR)
            break;
        pthread_mutex_lock(&gw->lock);
        bool stop = gw->stopping;
        reap(gw, false);
        pthread_mutex_unlock(&gw->lock);
        if (stop || (pfd[1].revents & POLLIN))
            break;
        if (k <= 0 || !(pfd[0].revents & POLLIN))
            continue;
        struct sockaddr_in sa;
        socklen_t sl = sizeof sa;
        int fd = accept(gw->lfd, (struct sockaddr *)&sa, &sl);
        if (fd < 0)
            continue;
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        char peer[64];
        char a[INET_ADDRSTRLEN] = "?";
        inet_ntop(AF_INET, &sa.sin_addr, a, sizeof a);
        snprintf(peer, sizeof peer, "%s:%u", a, (unsigned)ntohs(sa.sin_port));
        pthread_mutex_lock(&gw->lock);
        if (gw->n_conns >= gw->cfg.max_connections) {
            gw->st.refused_connections++;
            pthread_mutex_unlock(&gw->lock);
            PHX_WARN(MOD, "%s: %u connections already: refused", peer,
                     gw->cfg.max_connections);
            close(fd);
            continue;
        }
        conn_t *c = calloc(1, sizeof *c);
        if (c == NULL) {
            pthread_mutex_unlock(&gw->lock);
            close(fd);
            continue;
        }
        c->gw = gw;
        c->fd = fd;
        memcpy(c->peer, peer, sizeof peer);
        if (pthread_create(&c->thread, NULL, conn_main, c) != 0) {
            pthread_mutex_unlock(&gw->lock);
            PHX_WARN(MOD, "%s: no thread: refused", peer);
            close(fd);
            free(c);
            continue;
        }
        c->next = gw->conns;
        gw->conns = c;
        gw->n_conns++;
        gw->st.connections++;
        pthread_mutex_unlock(&gw->lock);
    }
    return NULL;
}

int phx_rpcgw_start(phx_rpcgw_t *gw, phx_error_t *err)
{
    struct sockaddr_in sa;
    socklen_t sl = sizeof sa;
    int one = 1;

    if (gw->started)
        return phx_error_set(err, PHX_ESTATE, "already started");
    if (gw->n_progs == 0)
        return phx_error_set(err, PHX_EINVAL, "no program to serve");
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons(gw->port);
    if (strcmp(gw->host, "localhost") == 0)
        strcpy(gw->host, "127.0.0.1");
    if (inet_pton(AF_INET, gw->host, &sa.sin_addr) != 1)
        return phx_error_set(err, PHX_EINVAL, "listen host '%s': an IPv4 "
                             "address is expected", gw->host);
    gw->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (gw->lfd < 0)
        return phx_error_set(err, PHX_EIO, "socket: %s", strerror(errno));
    setsockopt(gw->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(gw->lfd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        listen(gw->lfd, 64) != 0) {
        int e = errno;
        close(gw->lfd);
        gw->lfd = -1;
        return phx_error_set(err, PHX_EIO, "listen on %s:%u: %s", gw->host,
                             (unsigned)gw->port, strerror(e));
    }
    getsockname(gw->lfd, (struct sockaddr *)&sa, &sl);
    gw->port = ntohs(sa.sin_port);
    if (pipe2(gw->wake, O_CLOEXEC) != 0) {
        close(gw->lfd);
        gw->lfd = -1;
        return phx_error_set(err, PHX_EIO, "pipe: %s", strerror(errno));
    }
    if (pthread_create(&gw->acceptor, NULL, accept_main, gw) != 0) {
        close(gw->lfd);
        close(gw->wake[0]);
        close(gw->wake[1]);
        gw->lfd = gw->wake[0] = gw->wake[1] = -1;
        return phx_error_set(err, PHX_ENOMEM, "cannot start a thread");
    }
    gw->started = true;
    PHX_INFO(MOD, "listening on %s:%u", gw->host, (unsigned)gw->port);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Portmapper (RFC 1833 version 2)                                      */
/* ------------------------------------------------------------------ */

#define PMAP_PROG 100000u
#define PMAP_VERS 2u
#define PMAPPROC_SET 1u
#define PMAPPROC_UNSET 2u
#define IPPROTO_TCP_NUM 6u

static int recv_full(int fd, uint8_t *p, size_t n, int timeout_ms)
{
    while (n) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (poll(&pfd, 1, timeout_ms) <= 0)
            return -1;
        ssize_t k = recv(fd, p, n, 0);
        if (k <= 0)
            return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

static int pmap_call(uint32_t proc, uint32_t prog, uint32_t vers,
                     uint32_t port, phx_error_t *err)
{
    struct sockaddr_in sa;
    phx_xdr_writer_t args, msg;
    phx_rpc_call_t call;
    uint8_t *rec = NULL, hdr[4], *body = NULL;
    size_t n, args_len;
    int fd, rc = 0;
    uint8_t *ab;

    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons(111);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return phx_error_set(err, PHX_EIO, "socket: %s", strerror(errno));
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return phx_error_set(err, PHX_ECONNREFUSED, "no portmapper at "
                             "127.0.0.1:111 (%s)", strerror(errno));
    }
    phx_xdr_writer_init(&args);
    phx_xdr_put_u32(&args, prog);
    phx_xdr_put_u32(&args, vers);
    phx_xdr_put_u32(&args, proc == PMAPPROC_SET ? IPPROTO_TCP_NUM : 0);
    phx_xdr_put_u32(&args, port);
    ab = phx_xdr_writer_take(&args, &args_len);
    memset(&call, 0, sizeof call);
    call.xid = (uint32_t)time(NULL) ^ (uint32_t)getpid();
    call.rpcvers = PHX_RPC_VERS;
    call.prog = PMAP_PROG;
    call.vers = PMAP_VERS;
    call.proc = proc;
    /* rpcbind only lets root or AUTH_SYS uid 0 change foreign entries;
     * AUTH_SYS with our uid is what pmap_set sends too. */
    call.cred_flavor = PHX_RPC_AUTH_SYS;
    gethostname(call.sys.machinename, sizeof call.sys.machinename - 1);
    call.sys.uid = (uint32_t)getuid();
    call.sys.gid = (uint32_t)getgid();
    phx_xdr_writer_init(&msg);
    phx_rpc_encode_call(&msg, &call, ab, args_len);
    free(ab);
    if (msg.status || phx_rpc_record_frame(msg.buf, msg.len, &rec, &n) ||
        send_all(fd, rec, n) != 0) {
        rc = phx_error_set(err, PHX_EIO, "portmapper: send failed");
        goto out;
    }
    if (recv_full(fd, hdr, 4, 3000) != 0) {
        rc = phx_error_set(err, PHX_EIO, "portmapper: no reply");
        goto out;
    }
    n = ((uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 |
         (uint32_t)hdr[2] << 8 | hdr[3]) & 0x7fffffffu;
    if (n > 4096 || (body = malloc(n ? n : 1)) == NULL ||
        recv_full(fd, body, n, 3000) != 0) {
        rc = phx_error_set(err, PHX_EIO, "portmapper: bad reply");
        goto out;
    }
    phx_rpc_reply_t rep;
    if (phx_rpc_decode_reply(body, n, &rep) != 0 ||
        rep.reply_stat != PHX_RPC_MSG_ACCEPTED ||
        rep.stat != PHX_RPC_SUCCESS || rep.results_len < 4 ||
        rep.results[3] != 1) {
        rc = phx_error_set(err, PHX_EPROTO, "portmapper refused %s of "
                           "program %u version %u",
                           proc == PMAPPROC_SET ? "SET" : "UNSET", prog,
                           vers);
    }
out:
    free(rec);
    free(body);
    phx_xdr_writer_fini(&msg);
    close(fd);
    return rc;
}

int phx_rpcgw_register(phx_rpcgw_t *gw, phx_error_t *err)
{
    if (!gw->started)
        return phx_error_set(err, PHX_ESTATE, "not started");
    for (size_t i = 0; i < gw->n_progs; i++) {
        /* A stale entry from an earlier run would make SET fail. */
        pmap_call(PMAPPROC_UNSET, gw->progs[i].prog, gw->progs[i].vers, 0,
                  NULL);
        int rc = pmap_call(PMAPPROC_SET, gw->progs[i].prog, gw->progs[i].vers,
                           gw->port, err);
        if (rc)
            return rc;
    }
    gw->registered = true;
    return 0;
}

int phx_rpcgw_unregister(phx_rpcgw_t *gw, phx_error_t *err)
{
    int rc = 0;
    for (size_t i = 0; i < gw->n_progs; i++) {
        int r = pmap_call(PMAPPROC_UNSET, gw->progs[i].prog,
                          gw->progs[i].vers, 0, err);
        if (r && rc == 0)
            rc = r;
    }
    gw->registered = false;
    return rc;
}

void phx_rpcgw_destroy(phx_rpcgw_t *gw)
{
    if (gw == NULL)
        return;
    if (gw->started) {
        pthread_mutex_lock(&gw->lock);
        gw->stopping = true;
        pthread_mutex_unlock(&gw->lock);
        ssize_t k = write(gw->wake[1], "x", 1);
        (void)k;
        pthread_join(gw->acceptor, NULL);
        pthread_mutex_lock(&gw->lock);
        for (conn_t *c = gw->conns; c; c = c->next)
            shutdown(c->fd, SHUT_RDWR);
        reap(gw, true);
        pthread_mutex_unlock(&gw->lock);
        if (gw->registered)
            phx_rpcgw_unregister(gw, NULL);
        close(gw->lfd);
        close(gw->wake[0]);
        close(gw->wake[1]);
    }
    for (size_t i = 0; i < gw->n_progs; i++) {
        free(gw->progs[i].procs);
        phx_object_release(gw->progs[i].target);
    }
    free(gw->progs);
    pthread_mutex_destroy(&gw->lock);
    free(gw);
}
