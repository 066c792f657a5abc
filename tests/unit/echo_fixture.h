/*
 * echo_fixture.h - shared by the ORB unit tests: an Echo servant whose
 * pings add to `pings`, whose fail(code) raises Echo::Failed (code > 0),
 * NO_PERMISSION minor 42 (code < 0) or fails silently (code 0); a server
 * ORB running its event loop on a thread of its own; and client helpers.
 */
#ifndef PHX_TEST_ECHO_FIXTURE_H
#define PHX_TEST_ECHO_FIXTURE_H

#include <pthread.h>
#include <stdatomic.h>

#include "samples/echo/echo.h"

extern atomic_int pings;
extern const Echo_impl impl;

typedef struct server {
    phx_orb_t *orb;
    pthread_t thread;
    Echo_servant servant;
    phx_object_t *ref; /* made by the server ORB */
    char *ior;
} server_t;

/* The thread body that runs phx_orb_run(arg). */
void *loop(void *arg);
/* Serve an Echo servant under key (NULL: generated) on endpoint ep with
 * that many workers, the loop on its own thread.  0 or -1. */
int server_start(server_t *s, const char *ep, unsigned workers,
                 const char *key);
void server_stop(server_t *s);
/* A client ORB with this call timeout (CUnit-fatal on failure). */
phx_orb_t *client_orb(uint32_t timeout_ms);
/* A reference from a string (CUnit-fatal on failure). */
phx_object_t *resolve(phx_orb_t *orb, const char *s);

#endif
