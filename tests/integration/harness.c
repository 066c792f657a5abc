/*
 * harness.c - process helpers for the integration tests (see harness.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

long long h_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *h_prog(const char *relpath)
{
    static char path[4096];
    const char *dir = getenv("PHX_BUILDDIR");
    snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : ".", relpath);
    return path;
}

int h_spawn(hproc_t *p, char *const argv[])
{
    int fds[2];
    memset(p, 0, sizeof *p);
    if (pipe2(fds, O_CLOEXEC) != 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        execv(argv[0], argv);
        fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(fds[1]);
    p->pid = pid;
    p->out_fd = fds[0];
    return 0;
}

int h_read_line(hproc_t *p, char *line, size_t cap, int timeout_ms)
{
    long long deadline = h_now_ms() + timeout_ms;
    for (;;) {
        char *nl = memchr(p->buf, '\n', p->len);
        if (nl) {
            size_t n = (size_t)(nl - p->buf);
            size_t c = n < cap - 1 ? n : cap - 1;
            memcpy(line, p->buf, c);
            line[c] = '\0';
            memmove(p->buf, nl + 1, p->len - n - 1);
            p->len -= n + 1;
            return (int)c;
        }
        long long left = deadline - h_now_ms();
        if (left <= 0 || p->len == sizeof p->buf)
            return -1;
        struct pollfd pfd = {.fd = p->out_fd, .events = POLLIN};
        int rc = poll(&pfd, 1, (int)left);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc <= 0)
            return -1;
        ssize_t n = read(p->out_fd, p->buf + p->len, sizeof p->buf - p->len);
        if (n <= 0)
            return -1;
        p->len += (size_t)n;
    }
}

bool h_wait_exit(hproc_t *p, int timeout_ms)
{
    if (p->reaped)
        return true;
    long long deadline = h_now_ms() + timeout_ms;
    for (;;) {
        int st;
        pid_t r = waitpid(p->pid, &st, WNOHANG);
        if (r == p->pid) {
            p->reaped = true;
            p->status = st;
            if (p->out_fd >= 0)
                close(p->out_fd);
            p->out_fd = -1;
            return true;
        }
        if (h_now_ms() >= deadline)
            return false;
        /* Child exit is not pollable portably without a pidfd: a short
         * nap between checks bounds the wait without a fixed delay. */
        struct timespec ts = {0, 2 * 1000000L};
        nanosleep(&ts, NULL);
    }
}

int h_kill(hproc_t *p, int sig, int timeout_ms)
{
    if (!p->reaped && p->pid > 0) {
        kill(p->pid, sig);
        if (!h_wait_exit(p, timeout_ms)) {
            kill(p->pid, SIGKILL);
            h_wait_exit(p, 5000);
        }
    }
    return p->status;
}

int h_start_echo_server(hproc_t *p, char *ior, size_t cap,
                        const char *const *extra)
{
    char *argv[32];
    int n = 0;
    static char prog[4096];
    snprintf(prog, sizeof prog, "%s", h_prog("samples/echo/echo-server"));
    argv[n++] = prog;
    for (; extra && *extra && n < 30; extra++)
        argv[n++] = (char *)*extra;
    argv[n] = NULL;
    if (h_spawn(p, argv) != 0)
        return -1;
    if (h_read_line(p, ior, cap, 10000) <= 0 || strncmp(ior, "IOR:", 4)) {
        h_kill(p, SIGKILL, 1000);
        return -1;
    }
    return 0;
}
