/*
 * harness.h - helpers for multi-process tests: start a program with its
 * stdout on a pipe, wait for a line from it with a deadline, kill it by
 * PID and reap it.  Programs are found under $PHX_BUILDDIR.
 */
#ifndef PHX_TEST_HARNESS_H
#define PHX_TEST_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct hproc {
    pid_t pid;
    int out_fd;      /* read end of the child's stdout */
    char buf[8192];  /* bytes read but not yet returned as lines */
    size_t len;
    bool reaped;
    int status;      /* wait status once reaped */
} hproc_t;

/* Path of a build-tree program ("samples/echo/echo-server"); static
 * storage, overwritten by the next call. */
const char *h_prog(const char *relpath);

/* Start argv[0] with argv; stdout piped, stderr inherited.  0 or -1. */
int h_spawn(hproc_t *p, char *const argv[]);

/* Read one line (without newline) into line, waiting at most timeout_ms.
 * Returns its length, or -1 on timeout/EOF. */
int h_read_line(hproc_t *p, char *line, size_t cap, int timeout_ms);

/* Send sig (if still running) and reap, waiting at most timeout_ms, then
 * SIGKILL.  Returns the wait status. */
int h_kill(hproc_t *p, int sig, int timeout_ms);

/* Reap if it has exited within timeout_ms; returns true when it has. */
bool h_wait_exit(hproc_t *p, int timeout_ms);

/* Start echo-server with extra args and read its IOR line.  0 or -1. */
int h_start_echo_server(hproc_t *p, char *ior, size_t cap,
                        const char *const *extra);

/* Milliseconds on the monotonic clock. */
long long h_now_ms(void);

#endif
