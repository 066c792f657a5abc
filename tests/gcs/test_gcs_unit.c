/*
 * test_gcs_unit.c - unit and in-process tests of the group communication
 * service: its hash maps, fault-injection settings and frame header; the
 * delivery-log checker (fed logs that break each guarantee); the public
 * API's errors and flow control; group views, leave and chunked state
 * transfer between handles in one process; agreed mode; a state larger
 * than a wire chunk; garbage frames; 10,000 groups.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>
#include <zmq.h>

#include <phx/cdr.h>
#include <phx/gcs.h>
#include <phx/transport.h>

#include "ft/gcs/fault.h"
#include "ft/gcs/hmap.h"
#include "ft/gcs/wire.h"
#include "tests/gcs/logcheck.h"

#define DEADLINE_US (30 * 1000000LL)

/* ------------------------------------------------------------------ */
/* Internals                                                            */
/* ------------------------------------------------------------------ */

static const char *key_is_value(const void *val)
{
    return val;
}

static void test_hmap(void)
{
    gcs_map_t m;
    phx__gcs_map_init(&m);
    static int vals[20000];
    for (uint64_t k = 0; k < 20000; k++)
        CU_ASSERT_EQUAL(phx__gcs_map_put64(&m, k * 7, &vals[k]), 0);
    CU_ASSERT_EQUAL(m.n, 20000);
    for (uint64_t k = 0; k < 20000; k += 2)
        CU_ASSERT_PTR_EQUAL(phx__gcs_map_del64(&m, k * 7), &vals[k]);
    for (uint64_t k = 0; k < 20000; k++) {
        void *v = phx__gcs_map_get64(&m, k * 7);
        CU_ASSERT_PTR_EQUAL(v, k % 2 ? &vals[k] : NULL);
    }
    CU_ASSERT_PTR_NULL(phx__gcs_map_get64(&m, 3));
    phx__gcs_map_fini(&m);

    /* String keys, short (inline in the slot) and long (compared through
     * keyof), and the tag kept with a slot. */
    static char keys[5000][32];
    phx__gcs_map_init_str(&m, key_is_value);
    for (int i = 0; i < 5000; i++) {
        int n = snprintf(keys[i], sizeof keys[i],
                         i % 2 ? "group-%d" : "a-much-longer-group-%d", i);
        CU_ASSERT_EQUAL(phx__gcs_map_puts(&m, phx__gcs_hash(keys[i], (size_t)n),
                                          keys[i], (size_t)n, keys[i]),
                        0);
    }
    for (int i = 0; i < 5000; i += 3) {
        size_t n = strlen(keys[i]);
        CU_ASSERT_PTR_EQUAL(phx__gcs_map_dels(&m, phx__gcs_hash(keys[i], n),
                                              keys[i], n),
                            keys[i]);
    }
    for (int i = 0; i < 5000; i++) {
        size_t n = strlen(keys[i]);
        void *v = phx__gcs_map_gets(&m, phx__gcs_hash(keys[i], n), keys[i], n);
        CU_ASSERT_PTR_EQUAL(v, i % 3 ? keys[i] : NULL);
    }
    CU_ASSERT_PTR_NULL(phx__gcs_map_gets(&m, phx__gcs_hash("x", 1), "x", 1));
    /* Same hash, different keys (long and short): never confused. */
    const char *k1 = "a-much-longer-group-1";
    CU_ASSERT_PTR_NULL(phx__gcs_map_gets(&m, phx__gcs_hash(keys[2], 22), k1,
                                         strlen(k1)));
    size_t n1 = strlen(keys[1]);
    uint64_t h1 = phx__gcs_hash(keys[1], n1);
    uint8_t tag = 9;
    CU_ASSERT_PTR_EQUAL(phx__gcs_map_gets_tag(&m, h1, keys[1], n1, &tag),
                        keys[1]);
    CU_ASSERT_EQUAL(tag, 0);
    phx__gcs_map_set_tag(&m, h1, keys[1], n1, 3);
    CU_ASSERT_PTR_EQUAL(phx__gcs_map_gets_tag(&m, h1, keys[1], n1, &tag),
                        keys[1]);
    CU_ASSERT_EQUAL(tag, 3);
    CU_ASSERT_PTR_NULL(phx__gcs_map_gets_tag(&m, 1, "zz", 2, &tag));
    CU_ASSERT_EQUAL(tag, 0);
    phx__gcs_map_fini(&m);
}

static void test_fault_spec(void)
{
    gcs_fault_t f;
    phx_error_t err;
    phx__gcs_fault_init(&f);
    CU_ASSERT_EQUAL(phx__gcs_fault_set(&f, "drop=0.1,dup=0.2,reorder=0.3,"
                                           "delay=1-5,partition=a+b,seed=9",
                                       &err),
                    0);
    CU_ASSERT(f.active);
    CU_ASSERT_DOUBLE_EQUAL(f.drop, 0.1, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(f.dup, 0.2, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(f.reorder, 0.3, 1e-9);
    CU_ASSERT_EQUAL(f.delay_min_ms, 1);
    CU_ASSERT_EQUAL(f.delay_max_ms, 5);
    CU_ASSERT(phx__gcs_fault_cut(&f, "a"));
    CU_ASSERT(phx__gcs_fault_cut(&f, "b"));
    CU_ASSERT(!phx__gcs_fault_cut(&f, "c"));
    CU_ASSERT(!phx__gcs_fault_cut(&f, NULL));
    /* Bad settings change nothing. */
    const char *bad[] = {"drop=2", "delay=5-1", "bogus=1", "drop",
                         "dup=x", "seed=", "delay=99999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CU_ASSERT_EQUAL(phx__gcs_fault_set(&f, bad[i], &err), PHX_EINVAL);
        CU_ASSERT(phx__gcs_fault_cut(&f, "a"));
    }
    CU_ASSERT_EQUAL(phx__gcs_fault_set(&f, "heal", &err), 0);
    CU_ASSERT(!f.active);
    CU_ASSERT(!phx__gcs_fault_cut(&f, "a"));
    CU_ASSERT_EQUAL(phx__gcs_fault_set(&f, NULL, &err), 0);
    phx__gcs_fault_fini(&f);
}

static void test_wire_header(void)
{
    phx_cdr_writer_t w;
    phx_cdr_writer_init(&w, 0);
    phx__gcs_wire_begin(&w, GCS_M_ACK, 0x1122334455667788ull, 42);
    phx_cdr_put_ulonglong(&w, 7);
    CU_ASSERT_EQUAL(phx_cdr_writer_status(&w), 0);
    phx_cdr_reader_t r;
    gcs_hdr_t h;
    CU_ASSERT_EQUAL(phx__gcs_wire_open(&r, phx_cdr_writer_data(&w),
                                       phx_cdr_writer_len(&w), 1 << 20, &h),
                    0);
    CU_ASSERT_EQUAL(h.type, GCS_M_ACK);
    CU_ASSERT_EQUAL(h.sender, 0x1122334455667788ull);
    CU_ASSERT_EQUAL(h.view, 42);
    uint64_t v;
    CU_ASSERT_EQUAL(phx_cdr_get_ulonglong(&r, &v), 0);
    CU_ASSERT_EQUAL(v, 7);
    CU_ASSERT_STRING_EQUAL(phx__gcs_msg_name(GCS_M_FLUSH_CUT), "FLUSH_CUT");
    CU_ASSERT_STRING_EQUAL(phx__gcs_msg_name(99), "?");

    /* The other byte order is read too. */
    uint8_t be[GCS_WIRE_HDR] = {0, 'G', 1, GCS_M_BYE, 0, 0, 0, 0,
                                0, 0, 0, 0, 0, 0, 0, 5,
                                0, 0, 0, 0, 0, 0, 1, 2};
    CU_ASSERT_EQUAL(phx__gcs_wire_open(&r, be, sizeof be, 1 << 20, &h), 0);
    CU_ASSERT_EQUAL(h.sender, 5);
    CU_ASSERT_EQUAL(h.view, 0x102);

    /* Garbage is refused. */
    uint8_t buf[64];
    memcpy(buf, phx_cdr_writer_data(&w), GCS_WIRE_HDR);
    CU_ASSERT_NOT_EQUAL(phx__gcs_wire_open(&r, buf, 10, 1 << 20, &h), 0);
    buf[1] = 'X';
    CU_ASSERT_NOT_EQUAL(phx__gcs_wire_open(&r, buf, GCS_WIRE_HDR, 1 << 20, &h),
                        0);
    buf[1] = 'G';
    buf[2] = 2;
    CU_ASSERT_NOT_EQUAL(phx__gcs_wire_open(&r, buf, GCS_WIRE_HDR, 1 << 20, &h),
                        0);
    buf[2] = 1;
    buf[3] = 0;
    CU_ASSERT_NOT_EQUAL(phx__gcs_wire_open(&r, buf, GCS_WIRE_HDR, 1 << 20, &h),
                        0);
    buf[3] = 200;
    CU_ASSERT_NOT_EQUAL(phx__gcs_wire_open(&r, buf, GCS_WIRE_HDR, 1 << 20, &h),
                        0);
    buf[3] = GCS_M_ACK;
    buf[0] = 7;
    CU_ASSERT_NOT_EQUAL(phx__gcs_wire_open(&r, buf, GCS_WIRE_HDR, 1 << 20, &h),
                        0);
    phx_cdr_writer_fini(&w);
}

/* ------------------------------------------------------------------ */
/* The log checker finds each kind of violation                         */
/* ------------------------------------------------------------------ */

static char tmpdir[256];

static const char *write_log(const char *name, const char *text)
{
    static char paths[8][512];
    static int next;
    char *p = paths[next++ % 8];
    snprintf(p, 512, "%s/%s", tmpdir, name);
    FILE *f = fopen(p, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
    return p;
}

static int check2(const char *a, const char *b)
{
    const char *paths[2] = {write_log("a.log", a), write_log("b.log", b)};
    return lc_check(paths, 2, NULL, NULL);
}

/* Both already members of view 1 (not joining in it). */
#define V1 "I x 01\nV g 1 1 01,02 - -\n"
#define V1B "I y 02\nV g 1 1 01,02 - -\n"

static void test_logcheck(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/phx-gcs-lc-XXXXXX");
    CU_ASSERT_FATAL(mkdtemp(tmpdir) != NULL);
    const char *good = V1 "D g 1 x 1 01\nD g 2 y 1 02\nD g 3 x 2 01\n"
                          "V g 2 1 01 - 02\n";
    const char *goodb = V1B "D g 1 x 1 01\nD g 2 y 1 02\nD g 3 x 2 01\n";
    CU_ASSERT_EQUAL(check2(good, goodb), 0);

    /* total order: position 2 differs */
    CU_ASSERT(check2(V1 "D g 1 x 1 01\nD g 2 y 1 02\n",
                     V1B "D g 1 x 1 01\nD g 2 x 2 01\n") > 0);
    /* gap in a member's counter */
    CU_ASSERT(check2(V1 "D g 1 x 1 01\nD g 3 x 2 01\n",
                     V1B "D g 1 x 1 01\n") > 0);
    /* duplicate */
    CU_ASSERT(check2(V1 "D g 1 x 1 01\nD g 1 x 1 01\n",
                     V1B "D g 1 x 1 01\n") > 0);
    /* FIFO: x:2 missing in the agreed order */
    CU_ASSERT(check2(V1 "D g 1 x 1 01\nD g 2 x 3 01\n",
                     V1B "D g 1 x 1 01\nD g 2 x 3 01\n") > 0);
    /* virtual synchrony: both go from view 1 to view 3, after 1 and 2 */
    CU_ASSERT(check2(V1 "D g 1 x 1 01\nV g 3 1 01,02 - -\n",
                     V1B "D g 1 x 1 01\nD g 2 y 1 02\nV g 3 1 01,02 - -\n") >
              0);
    /* uniform: a (crashed in view 1) applied message 2; b moved on after 1 */
    CU_ASSERT(check2(V1 "D g 1 x 1 01\nD g 2 y 1 02\n",
                     V1B "D g 1 x 1 01\nV g 2 1 02 - 01\n") > 0);
    /* no split brain: a message applied in a non-primary view */
    CU_ASSERT(check2(V1 "V g 2 0 01 - 02\nD g 1 x 1 01\n",
                     V1B "V g 2 1 02 - 01\n") > 0);
    /* views disagree */
    CU_ASSERT(check2(V1 "V g 2 1 01 - 02\n", V1B "V g 2 1 02 - 01\n") > 0);
    /* a joiner's exact suffix after its state is fine... */
    CU_ASSERT_EQUAL(check2(V1 "D g 1 x 1 01\nD g 2 x 2 01\nD g 3 x 3 01\n",
                           "I y 02\nV g 2 1 01,02 02 -\nS g 2 0\n"
                           "D g 3 x 3 01\n"),
                    0);
    /* ...but not a duplicate of what the state already had */
    CU_ASSERT(check2(V1 "D g 1 x 1 01\nD g 2 x 2 01\nD g 3 x 3 01\n",
                     "I y 02\nV g 2 1 01,02 02 -\nS g 2 0\nD g 3 x 2 01\n") >
              0);
    /* a line cut short by a crash is ignored */
    CU_ASSERT_EQUAL(check2(good, V1B "D g 1 x 1 01\nD g 2 y"), 0);
    const char *names[] = {"a.log", "b.log"};
    for (size_t i = 0; i < 2; i++) {
        char p[512];
        snprintf(p, sizeof p, "%s/%s", tmpdir, names[i]);
        unlink(p);
    }
    rmdir(tmpdir);
}

/* ------------------------------------------------------------------ */
/* In-process members                                                   */
/* ------------------------------------------------------------------ */

#define MAXD 12000

typedef struct node {
    phx_gcs_t *g;
    const char *name;
    unsigned n;                 /* messages delivered */
    char seq[MAXD][24];
    unsigned views;
    phx_gcs_view_t last;        /* copied scalars of the last view */
    phx_gcs_reason_t last_left_reason;
    phx_gcs_reason_t last_join_reason;
    char state[256];            /* state of group "st" */
    size_t state_len;
    unsigned chunks, firsts, lasts;
    unsigned groups_full;       /* 10k test: groups with 2 members */
} node_t;

static void n_deliver(phx_gcs_t *g, const char *group,
                      const phx_gcs_member_t *s, const void *m, size_t len,
                      void *arg)
{
    (void)g;
    (void)group;
    (void)s;
    node_t *n = arg;
    if (n->n < MAXD)
        snprintf(n->seq[n->n], sizeof n->seq[0], "%.*s",
                 (int)(len < 23 ? len : 23), (const char *)m);
    n->n++;
    if (strcmp(group, "st") == 0 && len + n->state_len < sizeof n->state) {
        memcpy(n->state + n->state_len, m, len);
        n->state_len += len;
    }
}

static void n_view(phx_gcs_t *g, const char *group, const phx_gcs_view_t *v,
                   void *arg)
{
    (void)g;
    node_t *n = arg;
    n->views++;
    n->last = *v;
    n->last.members = n->last.joined = n->last.left = NULL;
    if (v->n_left)
        n->last_left_reason = v->left[0].reason;
    if (v->n_joined)
        n->last_join_reason = v->joined[0].reason;
    if (strncmp(group, "k", 1) == 0 && v->n_members == 2)
        n->groups_full++;
}

static int n_get_state(phx_gcs_t *g, const char *group,
                       phx_gcs_state_writer_t *w, void *arg)
{
    (void)g;
    node_t *n = arg;
    if (strcmp(group, "st") != 0)
        return 0;
    /* In three pieces. */
    size_t third = n->state_len / 3;
    int rc = phx_gcs_state_write(w, n->state, third);
    rc |= phx_gcs_state_write(w, n->state + third, third);
    rc |= phx_gcs_state_write(w, n->state + 2 * third,
                              n->state_len - 2 * third);
    return rc;
}

static void n_set_state(phx_gcs_t *g, const char *group, const void *chunk,
                        size_t len, unsigned flags, void *arg)
{
    (void)g;
    node_t *n = arg;
    if (strcmp(group, "st") != 0)
        return;
    if (flags & PHX_GCS_STATE_FIRST) {
        n->state_len = 0;
        n->firsts++;
    }
    if (flags & PHX_GCS_STATE_LAST)
        n->lasts++;
    n->chunks++;
    if (n->state_len + len < sizeof n->state) {
        memcpy(n->state + n->state_len, chunk, len);
        n->state_len += len;
    }
}

static const phx_gcs_callbacks_t node_cb = {n_deliver, n_view, n_get_state,
                                            n_set_state};

/* A state larger than one wire chunk, checked byte for byte. */
#define BIG_STATE ((size_t)1536 * 1024 + 17)

typedef struct big {
    size_t got;
    unsigned chunks, lasts;
    bool ok;
} big_t;

static big_t big_rx;

static uint8_t big_byte(size_t i)
{
    return (uint8_t)(i * 2654435761u >> 13);
}

static int big_get_state(phx_gcs_t *g, const char *group,
                         phx_gcs_state_writer_t *w, void *arg)
{
    (void)g;
    (void)group;
    (void)arg;
    uint8_t *buf = malloc(BIG_STATE);
    if (buf == NULL)
        return PHX_ENOMEM;
    for (size_t i = 0; i < BIG_STATE; i++)
        buf[i] = big_byte(i);
    int rc = phx_gcs_state_write(w, buf, BIG_STATE);
    free(buf);
    return rc;
}

static void big_set_state(phx_gcs_t *g, const char *group, const void *chunk,
                          size_t len, unsigned flags, void *arg)
{
    (void)g;
    (void)group;
    (void)arg;
    const uint8_t *p = chunk;
    if (flags & PHX_GCS_STATE_FIRST) {
        big_rx.got = 0;
        big_rx.ok = true;
    }
    for (size_t i = 0; i < len; i++)
        if (p[i] != big_byte(big_rx.got + i))
            big_rx.ok = false;
    big_rx.got += len;
    big_rx.chunks++;
    if (flags & PHX_GCS_STATE_LAST)
        big_rx.lasts++;
}

static int node_start(node_t *n, const char *name, node_t *seed,
                      phx_gcs_config_t *cfg_in)
{
    memset(n, 0, sizeof *n);
    n->name = name;
    phx_gcs_config_t cfg;
    if (cfg_in)
        cfg = *cfg_in;
    else
        phx_gcs_config_init(&cfg);
    cfg.name = name;
    const char *s = seed ? phx_gcs_endpoint(seed->g) : NULL;
    if (s) {
        cfg.seeds = &s;
        cfg.n_seeds = 1;
    }
    phx_error_t err;
    int rc = phx_gcs_create(&cfg, &node_cb, n, &n->g, &err);
    if (rc)
        fprintf(stderr, "node_start: %s\n", err.msg);
    return rc;
}

typedef bool (*pred_fn)(node_t *nodes, size_t n, void *arg);

/* Dispatch every node until pred holds (or the deadline passes). */
static bool pump(node_t *nodes, size_t n, pred_fn pred, void *arg)
{
    int64_t deadline = phx_now_us() + DEADLINE_US;
    while (!pred(nodes, n, arg)) {
        if (phx_now_us() > deadline)
            return false;
        for (size_t i = 0; i < n; i++)
            phx_gcs_dispatch(nodes[i].g, n == 1 ? 20 : 2, NULL);
    }
    return true;
}

static bool members_are(node_t *nodes, size_t n, void *arg)
{
    size_t want = *(size_t *)arg;
    for (size_t i = 0; i < n; i++)
        if (nodes[i].last.n_members != want || !nodes[i].last.primary)
            return false;
    return true;
}

static bool delivered_at_least(node_t *nodes, size_t n, void *arg)
{
    unsigned want = *(unsigned *)arg;
    for (size_t i = 0; i < n; i++)
        if (nodes[i].n < want)
            return false;
    return true;
}

static void test_api_errors(void)
{
    phx_gcs_config_t cfg;
    phx_gcs_t *g = NULL;
    phx_error_t err;
    phx_gcs_config_init(&cfg);
    cfg.timeout_ms = cfg.heartbeat_ms;
    CU_ASSERT_EQUAL(phx_gcs_create(&cfg, NULL, NULL, &g, &err), PHX_EINVAL);
    phx_gcs_config_init(&cfg);
    cfg.backend = "cpg";
    CU_ASSERT_EQUAL(phx_gcs_create(&cfg, NULL, NULL, &g, &err),
                    PHX_EUNSUPPORTED);
    phx_gcs_config_init(&cfg);
    cfg.endpoint = "tcp://256.1.1.1:99999";
    CU_ASSERT_EQUAL(phx_gcs_create(&cfg, NULL, NULL, &g, &err), PHX_EIO);
    phx_gcs_config_init(&cfg);
    cfg.faults = "drop=7";
    CU_ASSERT_EQUAL(phx_gcs_create(&cfg, NULL, NULL, &g, &err), PHX_EINVAL);
    CU_ASSERT_PTR_NULL(g);
    CU_ASSERT_EQUAL(phx_gcs_create(NULL, NULL, NULL, NULL, &err), PHX_EINVAL);

    node_t *a = calloc(1, sizeof *a);
    CU_ASSERT_FATAL(a != NULL);
    phx_gcs_config_init(&cfg);
    cfg.max_message = 1000;
    cfg.max_pending = 4;
    cfg.max_queue = 1;
    CU_ASSERT_FATAL(node_start(a, "solo", NULL, &cfg) == 0);
    CU_ASSERT(phx_gcs_fd(a->g) >= 0);
    CU_ASSERT(strncmp(phx_gcs_endpoint(a->g), "tcp://127.0.0.1:", 16) == 0);
    phx_gcs_member_t self;
    CU_ASSERT_EQUAL(phx_gcs_self(a->g, &self), 0);
    CU_ASSERT_STRING_EQUAL(self.name, "solo");
    CU_ASSERT_NOT_EQUAL(self.id, 0);

    char big[PHX_GCS_GROUP_MAX + 2];
    memset(big, 'g', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    CU_ASSERT_EQUAL(phx_gcs_join(a->g, "", &err), PHX_EINVAL);
    CU_ASSERT_EQUAL(phx_gcs_join(a->g, NULL, &err), PHX_EINVAL);
    CU_ASSERT_EQUAL(phx_gcs_join(a->g, big, &err), PHX_EINVAL);
    CU_ASSERT_EQUAL(phx_gcs_multicast(a->g, "g", "x", 1, &err), PHX_ESTATE);
    CU_ASSERT_EQUAL(phx_gcs_leave(a->g, "g", &err), PHX_ENOTFOUND);
    CU_ASSERT_EQUAL(phx_gcs_join(a->g, "g", &err), 0);
    CU_ASSERT_EQUAL(phx_gcs_join(a->g, "g", &err), PHX_EEXIST);
    CU_ASSERT_EQUAL(phx_gcs_multicast(a->g, "g", NULL, 1, &err), PHX_EINVAL);
    char msg[1001] = {0};
    CU_ASSERT_EQUAL(phx_gcs_multicast(a->g, "g", msg, sizeof msg, &err),
                    PHX_ELIMIT);
    CU_ASSERT_EQUAL(phx_gcs_inject(a->g, "drop=x", &err), PHX_EINVAL);
    CU_ASSERT_EQUAL(phx_gcs_inject(a->g, "", &err), 0);

    /* Back-pressure: without dispatch, the queue fills, acknowledgements
     * stop and multicast says PHX_EAGAIN; nothing is lost. */
    int sent = 0, rc = 0;
    int64_t deadline = phx_now_us() + DEADLINE_US;
    while (phx_now_us() < deadline) {
        char m[16];
        snprintf(m, sizeof m, "m%d", sent);
        rc = phx_gcs_multicast(a->g, "g", m, strlen(m), &err);
        if (rc == PHX_EAGAIN)
            break;
        CU_ASSERT_EQUAL_FATAL(rc, 0);
        sent++;
        usleep(1000);
    }
    CU_ASSERT_EQUAL(rc, PHX_EAGAIN);
    CU_ASSERT(sent >= 4 && sent < 100);
    unsigned want = (unsigned)sent;
    CU_ASSERT(pump(a, 1, delivered_at_least, &want));
    CU_ASSERT_EQUAL(a->n, (unsigned)sent);
    for (int i = 0; i < sent && i < MAXD; i++) {
        char m[16];
        snprintf(m, sizeof m, "m%d", i);
        CU_ASSERT_STRING_EQUAL(a->seq[i], m);
    }
    CU_ASSERT_EQUAL(phx_gcs_leave(a->g, "g", &err), 0);
    CU_ASSERT_EQUAL(phx_gcs_multicast(a->g, "g", "x", 1, &err), PHX_ESTATE);
    phx_gcs_stats_t st;
    CU_ASSERT_EQUAL(phx_gcs_stats(a->g, &st), 0);
    CU_ASSERT(st.primary);
    CU_ASSERT_EQUAL(st.members, 1);
    CU_ASSERT(st.delivered >= (uint64_t)sent);
    CU_ASSERT_STRING_EQUAL(st.state, "OPERATIONAL");
    CU_ASSERT(strstr(st.why, "installed view 1") != NULL);
    phx_gcs_destroy(a->g);
    free(a);
    phx_gcs_destroy(NULL);
}

static void test_inproc_group(void)
{
    node_t *nodes = calloc(3, sizeof *nodes);
    CU_ASSERT_FATAL(nodes != NULL);
    phx_error_t err;
    CU_ASSERT_FATAL(node_start(&nodes[0], "a", NULL, NULL) == 0);
    CU_ASSERT_FATAL(node_start(&nodes[1], "b", &nodes[0], NULL) == 0);
    CU_ASSERT_FATAL(node_start(&nodes[2], "c", &nodes[0], NULL) == 0);
    for (size_t i = 0; i < 3; i++)
        CU_ASSERT(phx_gcs_join(nodes[i].g, "g", &err) == 0);
    size_t three = 3, two = 2;
    CU_ASSERT_FATAL(pump(nodes, 3, members_are, &three));
    CU_ASSERT_EQUAL(nodes[0].last_join_reason, PHX_GCS_REASON_JOIN);

    /* Concurrent senders, one total order. */
    for (int k = 0; k < 200; k++) {
        for (size_t i = 0; i < 3; i++) {
            char m[24];
            snprintf(m, sizeof m, "%s%d", nodes[i].name, k);
            while (phx_gcs_multicast(nodes[i].g, "g", m, strlen(m), &err) ==
                   PHX_EAGAIN)
                phx_gcs_dispatch(nodes[i].g, 1, NULL);
        }
    }
    unsigned want = 600;
    CU_ASSERT_FATAL(pump(nodes, 3, delivered_at_least, &want));
    for (size_t i = 1; i < 3; i++)
        for (unsigned k = 0; k < 600; k++)
            CU_ASSERT_STRING_EQUAL(nodes[i].seq[k], nodes[0].seq[k]);

    /* Leave: the others see c go with reason LEAVE. */
    CU_ASSERT(phx_gcs_leave(nodes[2].g, "g", &err) == 0);
    CU_ASSERT_FATAL(pump(nodes, 2, members_are, &two));
    CU_ASSERT_EQUAL(nodes[0].last_left_reason, PHX_GCS_REASON_LEAVE);

    /* State transfer in chunks: a holds "st" state, c joins. */
    CU_ASSERT(phx_gcs_join(nodes[0].g, "st", &err) == 0);
    size_t one = 1;
    CU_ASSERT_FATAL(pump(nodes, 1, members_are, &one));
    const char *text = "the quick brown fox jumps over the lazy dog";
    CU_ASSERT(phx_gcs_multicast(nodes[0].g, "st", text, strlen(text), &err) ==
              0);
    want = 601;
    CU_ASSERT_FATAL(pump(nodes, 1, delivered_at_least, &want));
    CU_ASSERT(phx_gcs_join(nodes[2].g, "st", &err) == 0);
    int64_t deadline = phx_now_us() + DEADLINE_US;
    while ((nodes[2].lasts == 0 || nodes[0].last.n_members != 2) &&
           phx_now_us() < deadline)
        for (size_t i = 0; i < 3; i++)
            phx_gcs_dispatch(nodes[i].g, 2, NULL);
    CU_ASSERT_EQUAL(nodes[2].firsts, 1);
    CU_ASSERT_EQUAL(nodes[2].lasts, 1);
    CU_ASSERT(nodes[2].chunks >= 3);
    CU_ASSERT_EQUAL(nodes[2].state_len, strlen(text));
    CU_ASSERT(memcmp(nodes[2].state, text, strlen(text)) == 0);

    /* Destroying a member is seen at once by the others. */
    phx_gcs_destroy(nodes[1].g);
    nodes[1].g = NULL;
    deadline = phx_now_us() + DEADLINE_US;
    while (nodes[0].last.n_members != 1 && phx_now_us() < deadline) {
        phx_gcs_dispatch(nodes[0].g, 2, NULL);
        phx_gcs_dispatch(nodes[2].g, 2, NULL);
    }
    CU_ASSERT_EQUAL(nodes[0].last.n_members, 1);
    CU_ASSERT_EQUAL(nodes[0].last_left_reason, PHX_GCS_REASON_FAILED);
    phx_gcs_destroy(nodes[0].g);
    phx_gcs_destroy(nodes[2].g);
    free(nodes);
}

static void test_agreed_mode(void)
{
    node_t *nodes = calloc(3, sizeof *nodes);
    CU_ASSERT_FATAL(nodes != NULL);
    phx_gcs_config_t cfg;
    phx_gcs_config_init(&cfg);
    cfg.mode = PHX_GCS_AGREED;
    phx_error_t err;
    CU_ASSERT_FATAL(node_start(&nodes[0], "a", NULL, &cfg) == 0);
    CU_ASSERT_FATAL(node_start(&nodes[1], "b", &nodes[0], &cfg) == 0);
    CU_ASSERT_FATAL(node_start(&nodes[2], "c", &nodes[0], &cfg) == 0);
    for (size_t i = 0; i < 3; i++)
        CU_ASSERT(phx_gcs_join(nodes[i].g, "g", &err) == 0);
    size_t three = 3;
    CU_ASSERT_FATAL(pump(nodes, 3, members_are, &three));
    for (int k = 0; k < 300; k++) {
        for (size_t i = 0; i < 3; i++) {
            char m[24];
            snprintf(m, sizeof m, "%s%d", nodes[i].name, k);
            while (phx_gcs_multicast(nodes[i].g, "g", m, strlen(m), &err) ==
                   PHX_EAGAIN)
                phx_gcs_dispatch(nodes[i].g, 1, NULL);
        }
    }
    unsigned want = 900;
    CU_ASSERT_FATAL(pump(nodes, 3, delivered_at_least, &want));
    for (size_t i = 1; i < 3; i++)
        for (unsigned k = 0; k < 900; k++)
            CU_ASSERT_STRING_EQUAL(nodes[i].seq[k], nodes[0].seq[k]);
    for (size_t i = 0; i < 3; i++)
        phx_gcs_destroy(nodes[i].g);
    free(nodes);
}

static void test_big_state(void)
{
    phx_gcs_callbacks_t cb = {NULL, NULL, big_get_state, big_set_state};
    phx_gcs_t *a = NULL, *b = NULL;
    phx_gcs_config_t cfg;
    phx_error_t err;
    phx_gcs_config_init(&cfg);
    cfg.name = "a";
    CU_ASSERT_FATAL(phx_gcs_create(&cfg, &cb, NULL, &a, &err) == 0);
    CU_ASSERT(phx_gcs_join(a, "big", &err) == 0);
    const char *seed = phx_gcs_endpoint(a);
    cfg.name = "b";
    cfg.seeds = &seed;
    cfg.n_seeds = 1;
    CU_ASSERT_FATAL(phx_gcs_create(&cfg, &cb, NULL, &b, &err) == 0);
    memset(&big_rx, 0, sizeof big_rx);
    CU_ASSERT(phx_gcs_join(b, "big", &err) == 0);
    int64_t deadline = phx_now_us() + DEADLINE_US;
    while (big_rx.lasts == 0 && phx_now_us() < deadline) {
        phx_gcs_dispatch(a, 2, NULL);
        phx_gcs_dispatch(b, 2, NULL);
    }
    CU_ASSERT_EQUAL(big_rx.lasts, 1);
    CU_ASSERT_EQUAL(big_rx.got, BIG_STATE);
    CU_ASSERT(big_rx.ok);
    CU_ASSERT(big_rx.chunks > 5); /* 256 KiB wire chunks */
    phx_gcs_destroy(b);
    phx_gcs_destroy(a);
}

/* ------------------------------------------------------------------ */
/* Garbage from the network                                             */
/* ------------------------------------------------------------------ */

static void raw_send(void *sock, const void *p, size_t n)
{
    zmq_send(sock, p, n, 0);
}

static void forge(void *sock, uint8_t type, uint64_t sender, uint64_t view,
                  const void *body, size_t n)
{
    phx_cdr_writer_t w;
    phx_cdr_writer_init(&w, 0);
    phx__gcs_wire_begin(&w, (gcs_msg_t)type, sender, view);
    phx_cdr_put_raw(&w, body, n);
    raw_send(sock, phx_cdr_writer_data(&w), phx_cdr_writer_len(&w));
    phx_cdr_writer_fini(&w);
}

static void test_garbage(void)
{
    node_t *nodes = calloc(2, sizeof *nodes);
    CU_ASSERT_FATAL(nodes != NULL);
    phx_error_t err;
    CU_ASSERT_FATAL(node_start(&nodes[0], "a", NULL, NULL) == 0);
    CU_ASSERT_FATAL(node_start(&nodes[1], "b", &nodes[0], NULL) == 0);
    for (size_t i = 0; i < 2; i++)
        CU_ASSERT(phx_gcs_join(nodes[i].g, "g", &err) == 0);
    size_t two = 2;
    CU_ASSERT_FATAL(pump(nodes, 2, members_are, &two));

    void *ctx = zmq_ctx_new();
    void *sock = zmq_socket(ctx, ZMQ_PUSH);
    int linger = 0;
    zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger);
    CU_ASSERT_FATAL(zmq_connect(sock, phx_gcs_endpoint(nodes[0].g)) == 0);
    phx_gcs_member_t b;
    phx_gcs_self(nodes[1].g, &b);
    uint8_t junk[512];
    uint64_t x = 88172645463325252ull;
    for (size_t i = 0; i < sizeof junk; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        junk[i] = (uint8_t)x;
    }
    /* Random bytes, empty frames, multi-part messages. */
    for (size_t len = 0; len < sizeof junk; len += 37)
        raw_send(sock, junk, len);
    zmq_send(sock, "a", 1, ZMQ_SNDMORE);
    zmq_send(sock, "b", 1, 0);
    /* Every frame type with a random body from a process nobody knows,
     * and with a body too short to be valid in the name of member b, in
     * this view and in others.  (A well-formed frame in b's name would be
     * b speaking: the protocol does not authenticate members.) */
    for (uint8_t t = 1; t <= GCS_M_LAST; t++) {
        for (size_t len = 0; len < 96; len += 13)
            forge(sock, t, 12345, 1, junk + len, len);
        if (t == GCS_M_EXCLUDED || t == GCS_M_BYE)
            continue; /* no body: always well-formed */
        for (size_t len = 0; len < 4; len++) {
            forge(sock, t, b.id, 2, junk, len);
            forge(sock, t, b.id, 999, junk, len);
        }
    }
    /* Sequence lengths that claim more than the frame holds. */
    uint8_t huge[16] = {0xff, 0xff, 0xff, 0x7f};
    forge(sock, GCS_M_SUBMIT, b.id, 2, huge, 4);
    forge(sock, GCS_M_SUSPECT, b.id, 2, huge, 4);
    forge(sock, GCS_M_FLUSH_REQ, b.id, 2, huge, 16);

    /* The frames travel asynchronously: wait until a has seen them (the
     * random ones alone are 15 malformed frames). */
    phx_gcs_stats_t st;
    int64_t deadline = phx_now_us() + DEADLINE_US;
    do {
        phx_gcs_dispatch(nodes[0].g, 5, NULL);
        phx_gcs_dispatch(nodes[1].g, 0, NULL);
        phx_gcs_stats(nodes[0].g, &st);
    } while (st.bad_frames < 15 && phx_now_us() < deadline);
    CU_ASSERT(st.bad_frames >= 15);

    /* The group still works and agrees. */
    for (int k = 0; k < 50; k++) {
        char m[16];
        snprintf(m, sizeof m, "%s%d", k % 2 ? "a" : "b", k);
        phx_gcs_multicast(nodes[k % 2].g, "g", m, strlen(m), &err);
    }
    unsigned want = 50;
    CU_ASSERT(pump(nodes, 2, delivered_at_least, &want));
    for (unsigned k = 0; k < 50; k++)
        CU_ASSERT_STRING_EQUAL(nodes[1].seq[k], nodes[0].seq[k]);
    phx_gcs_stats(nodes[0].g, &st);
    CU_ASSERT(st.primary);
    CU_ASSERT_EQUAL(st.members, 2);
    zmq_close(sock);
    zmq_ctx_term(ctx);
    phx_gcs_destroy(nodes[0].g);
    phx_gcs_destroy(nodes[1].g);
    free(nodes);
}

/* ------------------------------------------------------------------ */
/* 10,000 groups                                                        */
/* ------------------------------------------------------------------ */

#define NGROUPS 10000

static bool all_groups_full(node_t *nodes, size_t n, void *arg)
{
    (void)arg;
    for (size_t i = 0; i < n; i++)
        if (nodes[i].groups_full < NGROUPS)
            return false;
    return true;
}

static void test_ten_thousand_groups(void)
{
    node_t *nodes = calloc(2, sizeof *nodes);
    CU_ASSERT_FATAL(nodes != NULL);
    phx_error_t err;
    CU_ASSERT_FATAL(node_start(&nodes[0], "a", NULL, NULL) == 0);
    char name[32];
    for (int i = 0; i < NGROUPS; i++) {
        snprintf(name, sizeof name, "k%d", i);
        CU_ASSERT_EQUAL(phx_gcs_join(nodes[0].g, name, &err), 0);
    }
    /* b joins the process view (and gets the 10,000-group table), then
     * every group (and gets 10,000 state transfers). */
    CU_ASSERT_FATAL(node_start(&nodes[1], "b", &nodes[0], NULL) == 0);
    for (int i = 0; i < NGROUPS; i++) {
        snprintf(name, sizeof name, "k%d", i);
        CU_ASSERT_EQUAL(phx_gcs_join(nodes[1].g, name, &err), 0);
    }
    CU_ASSERT_FATAL(pump(nodes, 2, all_groups_full, NULL));
    for (int i = 0; i < NGROUPS; i++) {
        snprintf(name, sizeof name, "k%d", i);
        while (phx_gcs_multicast(nodes[i % 2].g, name, name, strlen(name),
                                 &err) == PHX_EAGAIN) {
            phx_gcs_dispatch(nodes[0].g, 1, NULL);
            phx_gcs_dispatch(nodes[1].g, 1, NULL);
        }
    }
    unsigned want = NGROUPS;
    CU_ASSERT(pump(nodes, 2, delivered_at_least, &want));
    CU_ASSERT_EQUAL(nodes[0].n, NGROUPS);
    CU_ASSERT_EQUAL(nodes[1].n, NGROUPS);
    for (unsigned k = 0; k < NGROUPS && k < MAXD; k++)
        CU_ASSERT_STRING_EQUAL(nodes[1].seq[k], nodes[0].seq[k]);
    phx_gcs_stats_t st;
    phx_gcs_stats(nodes[1].g, &st);
    CU_ASSERT_EQUAL(st.groups, NGROUPS);
    phx_gcs_destroy(nodes[0].g);
    phx_gcs_destroy(nodes[1].g);
    free(nodes);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("gcs_unit", NULL, NULL);
    if (s == NULL || !CU_add_test(s, "hash maps", test_hmap) ||
        !CU_add_test(s, "fault-injection settings", test_fault_spec) ||
        !CU_add_test(s, "frame header", test_wire_header) ||
        !CU_add_test(s, "log checker finds violations", test_logcheck) ||
        !CU_add_test(s, "API errors and back-pressure", test_api_errors) ||
        !CU_add_test(s, "views, leave, chunked state transfer",
                     test_inproc_group) ||
        !CU_add_test(s, "agreed mode", test_agreed_mode) ||
        !CU_add_test(s, "state larger than a wire chunk", test_big_state) ||
        !CU_add_test(s, "garbage frames", test_garbage) ||
        !CU_add_test(s, "10,000 groups", test_ten_thousand_groups)) {
        CU_cleanup_registry();
        return 1;
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
