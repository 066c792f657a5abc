/*
 * procs.c - gcs_member clusters for the GCS multi-process tests (see
 * procs.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/gcs/logcheck.h"
#include "tests/gcs/procs.h"

static cluster_t *active;

int cl_init(cluster_t *c, const char *tag)
{
    memset(c, 0, sizeof *c);
    active = c;
    const char *tmp = getenv("TMPDIR");
    snprintf(c->dir, sizeof c->dir, "%s/phx-gcs-%s-XXXXXX",
             tmp && *tmp ? tmp : "/tmp", tag);
    if (mkdtemp(c->dir) == NULL) {
        fprintf(stderr, "cl_init: mkdtemp: %s\n", strerror(errno));
        return -1;
    }
    return 0;
}

static void add_line(cl_member_t *m, const char *line)
{
    if (m->n_lines == m->cap_lines) {
        size_t nc = m->cap_lines ? m->cap_lines * 2 : 64;
        char **nl = realloc(m->lines, nc * sizeof *nl);
        if (nl == NULL)
            return;
        m->lines = nl;
        m->cap_lines = nc;
    }
    char *copy = strdup(line);
    if (copy)
        m->lines[m->n_lines++] = copy;
}

/* Read whatever the members have printed, waiting up to wait_ms for the
 * first byte. */
static void pump(cluster_t *c, int wait_ms)
{
    struct pollfd pfd[CL_MAX];
    size_t idx[CL_MAX];
    int n = 0;
    for (size_t i = 0; i < c->n; i++) {
        cl_member_t *m = &c->m[i];
        if (!m->started || m->p.reaped || m->p.out_fd < 0)
            continue;
        pfd[n].fd = m->p.out_fd;
        pfd[n].events = POLLIN;
        idx[n++] = i;
    }
    if (n == 0)
        return;
    if (poll(pfd, (nfds_t)n, wait_ms) <= 0)
        return;
    for (int k = 0; k < n; k++) {
        if (!(pfd[k].revents & (POLLIN | POLLHUP)))
            continue;
        cl_member_t *m = &c->m[idx[k]];
        char line[CL_LINE];
        while (h_read_line(&m->p, line, sizeof line, 1) >= 0)
            add_line(m, line);
        if (pfd[k].revents & POLLHUP) {
            /* Exited: take the rest, then stop watching it. */
            while (h_read_line(&m->p, line, sizeof line, 1) >= 0)
                add_line(m, line);
            if (h_wait_exit(&m->p, 0))
                m->alive = false;
        }
    }
}

static bool matches(const char *line, const char *prefix,
                    const char *const *need)
{
    if (strncmp(line, prefix, strlen(prefix)) != 0)
        return false;
    for (; need && *need; need++)
        if (strstr(line, *need) == NULL)
            return false;
    return true;
}

int cl_wait(cluster_t *c, size_t i, const char *prefix,
            const char *const *need, char *out, int timeout_ms)
{
    cl_member_t *m = &c->m[i];
    long long deadline = h_now_ms() + timeout_ms;
    for (;;) {
        for (; m->cursor < m->n_lines; m->cursor++) {
            if (matches(m->lines[m->cursor], prefix, need)) {
                if (out)
                    snprintf(out, CL_LINE, "%s", m->lines[m->cursor]);
                m->cursor++;
                return 0;
            }
        }
        long long left = deadline - h_now_ms();
        if (left <= 0 || !m->alive) {
            fprintf(stderr, "cl_wait: %s: no '%s' line%s\n", m->name, prefix,
                    m->alive ? " before the deadline" : " (it exited)");
            return -1;
        }
        pump(c, left > 200 ? 200 : (int)left);
    }
}

void cl_mark(cluster_t *c)
{
    pump(c, 0);
    for (size_t i = 0; i < c->n; i++)
        c->m[i].cursor = c->m[i].n_lines;
}

int cl_start(cluster_t *c, size_t i, const char *const *extra)
{
    if (i >= CL_MAX)
        return -1;
    cl_member_t *m = &c->m[i];
    memset(m, 0, sizeof *m);
    char dir[sizeof c->dir];
    memcpy(dir, c->dir, sizeof dir);
    snprintf(m->name, sizeof m->name, "n%zu", i + 1);
    snprintf(m->log, sizeof m->log, "%s/n%zu.log", dir, i + 1);
    snprintf(m->ctl, sizeof m->ctl, "%s/n%zu.ctl", dir, i + 1);
    unlink(m->ctl);
    if (mkfifo(m->ctl, 0600) != 0)
        return -1;
    if (i + 1 > c->n)
        c->n = i + 1;

    static char prog[4096];
    snprintf(prog, sizeof prog, "%s", h_prog("tests/gcs/gcs_member"));
    char *argv[96];
    int n = 0;
    argv[n++] = prog;
    argv[n++] = "--name";
    argv[n++] = m->name;
    argv[n++] = "--log";
    argv[n++] = m->log;
    argv[n++] = "--control";
    argv[n++] = m->ctl;
    for (size_t k = 0; k < c->n && n < 70; k++) {
        if (k == i || !c->m[k].alive || c->m[k].endpoint[0] == '\0')
            continue;
        argv[n++] = "--seed";
        argv[n++] = c->m[k].endpoint;
    }
    for (; extra && *extra && n < 94; extra++)
        argv[n++] = (char *)*extra;
    argv[n] = NULL;
    if (h_spawn(&m->p, argv) != 0)
        return -1;
    m->started = m->alive = true;
    char line[CL_LINE];
    if (cl_wait(c, i, "READY ", NULL, line, 20000) != 0)
        return -1;
    cl_field(line, 1, m->endpoint, sizeof m->endpoint);
    return 0;
}

int cl_ctl(cluster_t *c, size_t i, const char *cmd)
{
    cl_member_t *m = &c->m[i];
    /* Read-write: never blocks waiting for a reader, and the member keeps
     * its own end open. */
    int fd = open(m->ctl, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return -1;
    char buf[1100];
    int len = snprintf(buf, sizeof buf, "%s\n", cmd);
    ssize_t w = write(fd, buf, (size_t)len);
    close(fd);
    return w == len ? 0 : -1;
}

void cl_kill(cluster_t *c, size_t i, int sig)
{
    cl_member_t *m = &c->m[i];
    if (!m->started)
        return;
    pump(c, 0);
    h_kill(&m->p, sig, 10000);
    m->alive = false;
}

int cl_check(cluster_t *c)
{
    const char *paths[CL_MAX];
    size_t n = 0;
    for (size_t i = 0; i < c->n; i++)
        if (c->m[i].started)
            paths[n++] = c->m[i].log;
    lc_result_t r;
    int v = lc_check(paths, n, stderr, &r);
    fprintf(stderr, "logcheck: %zu members, %zu deliveries, %zu positions, "
            "%zu view transitions, %d violation(s)\n", n, r.deliveries,
            r.positions, r.transitions, v);
    if (v || r.deliveries == 0)
        c->keep = true;
    return v ? v : (r.deliveries == 0 ? -1 : 0);
}

void cl_teardown(void)
{
    if (active) {
        active->keep = true;
        cl_fini(active);
    }
}

void cl_fini(cluster_t *c)
{
    if (c == active)
        active = NULL;
    for (size_t i = 0; i < c->n; i++) {
        cl_member_t *m = &c->m[i];
        if (m->started && !m->p.reaped)
            h_kill(&m->p, SIGTERM, 10000);
        for (size_t k = 0; k < m->n_lines; k++)
            free(m->lines[k]);
        free(m->lines);
        m->lines = NULL;
        m->n_lines = 0;
        if (!c->keep && m->started) {
            unlink(m->log);
            unlink(m->ctl);
        }
    }
    if (c->keep)
        fprintf(stderr, "cl_fini: logs kept in %s\n", c->dir);
    else
        rmdir(c->dir);
}

const char *cl_field(const char *line, int k, char *buf, size_t cap)
{
    const char *p = line;
    for (int i = 0; i < k && p; i++) {
        p = strchr(p, ' ');
        if (p)
            p++;
    }
    if (p == NULL) {
        buf[0] = '\0';
        return buf;
    }
    size_t n = strcspn(p, " ");
    if (n >= cap)
        n = cap - 1;
    memcpy(buf, p, n);
    buf[n] = '\0';
    return buf;
}
