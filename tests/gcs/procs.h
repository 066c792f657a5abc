/*
 * procs.h - a cluster of gcs_member processes for the GCS multi-process
 * tests, built on tests/integration/harness.h: start members on loopback,
 * each with a delivery log and a control FIFO in a private temporary
 * directory; wait (with deadlines, never fixed sleeps) for lines they
 * print; send them commands; kill them; run the log checker.
 */
#ifndef PHX_TEST_GCS_PROCS_H
#define PHX_TEST_GCS_PROCS_H

#include <stdbool.h>
#include <stddef.h>

#include "tests/integration/harness.h"

#define CL_MAX 9
#define CL_LINE 1024

typedef struct cl_member {
    hproc_t p;
    bool started, alive;
    char name[32];
    char endpoint[256];
    char log[512];
    char ctl[512];
    char **lines;      /* everything it printed */
    size_t n_lines, cap_lines;
    size_t cursor;     /* cl_wait looks at lines from here on */
} cl_member_t;

typedef struct cluster {
    char dir[256];
    cl_member_t m[CL_MAX];
    size_t n;
    bool keep;         /* a check failed: keep the logs */
} cluster_t;

/* A fresh cluster in a temporary directory; 0 or -1. */
int cl_init(cluster_t *c, const char *tag);

/* Start member i (named n<i+1>) with extra arguments (NULL-terminated).
 * It joins through every member already running (none: it founds the
 * group).  Waits for READY.  0 or -1. */
int cl_start(cluster_t *c, size_t i, const char *const *extra);

/* Wait until member i prints a line starting with prefix and containing
 * every string of need (NULL-terminated, may be NULL), at or after its
 * cursor; the cursor moves past it.  Copies the line to out (may be NULL).
 * 0, or -1 on timeout/exit. */
int cl_wait(cluster_t *c, size_t i, const char *prefix,
            const char *const *need, char *out, int timeout_ms);

/* Move every member's cursor to the end of what it printed so far. */
void cl_mark(cluster_t *c);

/* Write one command line to member i's control FIFO. */
int cl_ctl(cluster_t *c, size_t i, const char *cmd);

/* kill -9 (or another signal) member i and reap it. */
void cl_kill(cluster_t *c, size_t i, int sig);

/* Run the log checker over every member's log; returns the number of
 * violations (0 = all guarantees hold). */
int cl_check(cluster_t *c);

/* Stop every member and remove the directory (kept when c->keep). */
void cl_fini(cluster_t *c);

/* For a CUnit test teardown: if a cluster is still running (a fatal
 * assertion cut its test short), stop it and keep its logs. */
void cl_teardown(void);

/* The value of field k (0-based, space separated) of a line. */
const char *cl_field(const char *line, int k, char *buf, size_t cap);

#endif
