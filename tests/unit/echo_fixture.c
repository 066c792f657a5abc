/*
 * echo_fixture.c - the Echo servant and the server/client helpers the ORB
 * unit tests share (see echo_fixture.h).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <CUnit/Basic.h>

#include "tests/unit/echo_fixture.h"

/* ------------------------------------------------------------------ */
/* Fixture                                                              */
/* ------------------------------------------------------------------ */

atomic_int pings;

static int i_echo_long(void *s, int32_t v, int32_t *r, phx_env_t *e)
{
    (void)s;
    (void)e;
    *r = v;
    return 0;
}
static int i_echo_octets(void *s, const uint8_t *d, size_t n,
                         phx_sequence_t *r, phx_env_t *e)
{
    (void)s;
    (void)e;
    r->_buffer = (void *)d;
    r->_length = (uint32_t)n;
    return 0;
}
static int i_ping(void *s, int32_t v, phx_env_t *e)
{
    (void)s;
    (void)e;
    atomic_fetch_add(&pings, v);
    return 0;
}
static int i_count(void *s, int32_t *r, phx_env_t *e)
{
    (void)s;
    (void)e;
    *r = atomic_load(&pings);
    return 0;
}
static int i_fail(void *s, int32_t c, const char *why, phx_env_t *e)
{
    (void)s;
    if (c < 0)
        return phx_env_system(e, PHX_SYSEX_NO_PERMISSION, 42,
                              PHX_COMPLETED_YES, "told to");
    if (c == 0)
        return PHX_EIO; /* fails without saying why */
    return Echo_raise_Failed(e, c, why);
}
static int i_sleep(void *s, int32_t ms, phx_env_t *e)
{
    (void)s;
    (void)e;
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    return 0;
}
static int i_shutdown(void *s, phx_env_t *e)
{
    (void)s;
    (void)e;
    return 0;
}
const Echo_impl impl = {i_echo_long, i_echo_octets, i_ping, i_count,
                               i_fail,      i_sleep,       i_shutdown};


void *loop(void *arg)
{
    phx_orb_run(arg);
    return NULL;
}

int server_start(server_t *s, const char *ep, unsigned workers,
                        const char *key)
{
    memset(s, 0, sizeof *s);
    phx_orb_config_t cfg;
    phx_orb_config_init(&cfg);
    cfg.listen = &ep;
    cfg.listen_count = 1;
    cfg.workers = workers;
    phx_error_t err;
    if (phx_orb_create(&cfg, &s->orb, &err) != PHX_OK) {
        fprintf(stderr, "server: %s\n", err.msg);
        return -1;
    }
    Echo_servant_init(&s->servant, &impl, NULL);
    if (phx_orb_activate(s->orb, &s->servant.base, key,
                         key ? strlen(key) : 0, &s->ref, &err) != PHX_OK) {
        fprintf(stderr, "activate: %s\n", err.msg);
        return -1;
    }
    phx_object_to_string(s->ref, &s->ior);
    pthread_create(&s->thread, NULL, loop, s->orb);
    return 0;
}

void server_stop(server_t *s)
{
    phx_orb_shutdown(s->orb);
    pthread_join(s->thread, NULL);
    phx_object_release(s->ref);
    free(s->ior);
    phx_orb_destroy(s->orb);
}

phx_orb_t *client_orb(uint32_t timeout_ms)
{
    phx_orb_config_t cfg;
    phx_orb_config_init(&cfg);
    cfg.call_timeout_ms = timeout_ms;
    cfg.connect_timeout_ms = 2000;
    phx_orb_t *orb = NULL;
    CU_ASSERT_EQUAL_FATAL(phx_orb_create(&cfg, &orb, NULL), PHX_OK);
    return orb;
}

phx_object_t *resolve(phx_orb_t *orb, const char *s)
{
    phx_object_t *o = NULL;
    phx_error_t err;
    int rc = phx_object_from_string(orb, s, &o, &err);
    if (rc != PHX_OK)
        fprintf(stderr, "resolve %s: %s\n", s, err.msg);
    CU_ASSERT_EQUAL_FATAL(rc, PHX_OK);
    return o;
}

