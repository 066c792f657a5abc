/*
 * test_deploy.c - the deployment descriptor (include/phx/deploy.h).
 *
 * The files valid/NAME.xml are loaded and checked field by field.  Every
 * invalid/NAME.xml has a golden invalid/NAME.err next to it: the messages
 * phx_deploy_check reports for it, one a line, in order, with the file
 * named "invalid/NAME.xml" (the test runs in the directory of this
 * file).  phx_deploy_load must fail on it with the first of them.
 *
 * The data directory is $PHX_SRCDIR/tests/deploy (set by make check) or
 * else the source directory compiled in.  With PHX_DEPLOY_REGEN=1 the
 * golden files are rewritten from the current output instead of compared
 * (review the diff before keeping them).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>
#include <libxml/xmlerror.h>

#include <phx/deploy.h>

#ifndef PHX_DEPLOY_TESTDIR
#define PHX_DEPLOY_TESTDIR "."
#endif

/* ------------------------------------------------------------------ */
/* Helpers                                                              */
/* ------------------------------------------------------------------ */

typedef struct msgs {
    char *text; /* messages joined by '\n', each ending in '\n' */
    size_t len;
    size_t n;
} msgs_t;

static void collect(void *arg, const char *msg)
{
    msgs_t *m = arg;
    size_t l = strlen(msg);
    char *t = realloc(m->text, m->len + l + 2);
    if (t == NULL)
        abort();
    memcpy(t + m->len, msg, l);
    t[m->len + l] = '\n';
    t[m->len + l + 1] = '\0';
    m->text = t;
    m->len += l + 1;
    m->n++;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    size_t r;
    while (buf != NULL && (r = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += r;
        if (n + 1 == cap) {
            char *b = realloc(buf, cap *= 2);
            if (b == NULL)
                free(buf);
            buf = b;
        }
    }
    fclose(f);
    if (buf != NULL)
        buf[n] = '\0';
    return buf;
}

static const phx_deploy_t *load_ok(const char *path, phx_deploy_t **d)
{
    phx_error_t err;
    int rc = phx_deploy_load(path, d, &err);
    if (rc != 0)
        fprintf(stderr, "unexpected failure: %s\n", err.msg);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    CU_ASSERT_EQUAL(err.code, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(*d);
    return *d;
}

/* ------------------------------------------------------------------ */
/* Valid files                                                          */
/* ------------------------------------------------------------------ */

static void test_minimal(void)
{
    phx_deploy_t *dd = NULL;
    const phx_deploy_t *d = load_ok("valid/minimal.xml", &dd);
    CU_ASSERT_STRING_EQUAL(d->path, "valid/minimal.xml");
    CU_ASSERT_STRING_EQUAL(d->domain, "mini");
    CU_ASSERT_STRING_EQUAL(d->gcs_backend, "embedded");
    CU_ASSERT_EQUAL(d->gcs_heartbeat_ms, 100);
    CU_ASSERT_EQUAL(d->gcs_timeout_ms, 1000);
    CU_ASSERT_STRING_EQUAL(d->log_level, "info");
    CU_ASSERT_EQUAL(d->log_target, PHX_DEPLOY_LOG_STDERR);
    CU_ASSERT_STRING_EQUAL(d->log_ident, "phxd");

    CU_ASSERT_EQUAL_FATAL(d->n_hosts, 1);
    const phx_deploy_host_t *h = &d->hosts[0];
    CU_ASSERT_STRING_EQUAL(h->name, "h1");
    CU_ASSERT_STRING_EQUAL(h->endpoint, "tcp://127.0.0.1:7101");
    CU_ASSERT_STRING_EQUAL(h->gcs_endpoint, "tcp://127.0.0.1:7201");
    CU_ASSERT_EQUAL(h->port_min, 0);
    CU_ASSERT_EQUAL(h->port_max, 0);
    CU_ASSERT_STRING_EQUAL(h->address, "127.0.0.1");
    CU_ASSERT_EQUAL(h->line, 5);

    CU_ASSERT_EQUAL_FATAL(d->n_groups, 1);
    const phx_deploy_group_t *g = &d->groups[0];
    CU_ASSERT_STRING_EQUAL(g->name, "counter");
    CU_ASSERT_STRING_EQUAL(g->type_id, "IDL:Counter:1.0");
    CU_ASSERT_EQUAL(g->style, PHX_DEPLOY_ACTIVE);
    CU_ASSERT_EQUAL(g->initial_replicas, 3);
    CU_ASSERT_EQUAL(g->minimum_replicas, 2);
    CU_ASSERT_EQUAL(g->fault_monitoring_interval_ms, 1000);
    CU_ASSERT_EQUAL(g->fault_monitoring_timeout_ms, 500);
    CU_ASSERT_EQUAL(g->checkpoint_interval_ms, 1000);
    CU_ASSERT_EQUAL(g->request_duration_ms, 15000);
    CU_ASSERT_EQUAL(g->on_stop, PHX_DEPLOY_STOP_REPLICAS);
    CU_ASSERT_PTR_NULL(g->hosts);
    CU_ASSERT_EQUAL(g->n_hosts, 0);
    CU_ASSERT_EQUAL(g->line, 6);
    CU_ASSERT_EQUAL_FATAL(g->n_factories, 1);
    const phx_deploy_factory_t *f = &g->factories[0];
    CU_ASSERT_STRING_EQUAL(f->host, "*");
    CU_ASSERT_EQUAL_FATAL(f->argc, 1);
    CU_ASSERT_STRING_EQUAL(f->argv[0], "/usr/bin/counter-replica");
    CU_ASSERT_PTR_NULL(f->argv[1]);
    CU_ASSERT_PTR_NULL(f->workdir);
    CU_ASSERT_PTR_NULL(f->env);
    CU_ASSERT_EQUAL(f->n_env, 0);
    CU_ASSERT_EQUAL(f->line, 7);
    phx_deploy_free(dd);
}

static void test_full(void)
{
    phx_deploy_t *dd = NULL;
    const phx_deploy_t *d = load_ok("valid/full.xml", &dd);
    CU_ASSERT_STRING_EQUAL(d->domain, "bank-demo");
    CU_ASSERT_STRING_EQUAL(d->gcs_backend, "embedded");
    CU_ASSERT_EQUAL(d->gcs_heartbeat_ms, 50);
    CU_ASSERT_EQUAL(d->gcs_timeout_ms, 2000);
    CU_ASSERT_STRING_EQUAL(d->log_level, "debug");
    CU_ASSERT_EQUAL(d->log_target, PHX_DEPLOY_LOG_SYSLOG);
    CU_ASSERT_STRING_EQUAL(d->log_ident, "phxd-bank");

    CU_ASSERT_EQUAL_FATAL(d->n_hosts, 2);
    const phx_deploy_host_t *h = &d->hosts[0];
    CU_ASSERT_STRING_EQUAL(h->name, "h1");
    CU_ASSERT_STRING_EQUAL(h->endpoint, "tcp://127.0.0.1:7101");
    CU_ASSERT_STRING_EQUAL(h->gcs_endpoint, "tcp://127.0.0.1:7201");
    CU_ASSERT_STRING_EQUAL(h->address, "127.0.0.1");
    CU_ASSERT_EQUAL(h->port_min, 7300);
    CU_ASSERT_EQUAL(h->port_max, 7399);
    CU_ASSERT_EQUAL(h->line, 8);
    h = &d->hosts[1];
    CU_ASSERT_STRING_EQUAL(h->name, "h2");
    CU_ASSERT_STRING_EQUAL(h->endpoint, "ipc:///run/phalanx/h2");
    CU_ASSERT_STRING_EQUAL(h->gcs_endpoint, "tcp://[::1]:7202");
    CU_ASSERT_STRING_EQUAL(h->address, "::1");
    CU_ASSERT_EQUAL(h->port_min, 7400);
    CU_ASSERT_EQUAL(h->port_max, 7401);

    CU_ASSERT_EQUAL_FATAL(d->n_groups, 1);
    const phx_deploy_group_t *g = &d->groups[0];
    CU_ASSERT_STRING_EQUAL(g->name, "bank");
    CU_ASSERT_STRING_EQUAL(g->type_id, "IDL:Bank/Bank:1.0");
    CU_ASSERT_EQUAL(g->style, PHX_DEPLOY_WARM_PASSIVE);
    CU_ASSERT_EQUAL(g->initial_replicas, 4);
    CU_ASSERT_EQUAL(g->minimum_replicas, 3);
    CU_ASSERT_EQUAL(g->fault_monitoring_interval_ms, 2000);
    CU_ASSERT_EQUAL(g->fault_monitoring_timeout_ms, 700);
    CU_ASSERT_EQUAL(g->checkpoint_interval_ms, 250);
    CU_ASSERT_EQUAL(g->request_duration_ms, 30000);
    CU_ASSERT_EQUAL(g->on_stop, PHX_DEPLOY_LEAVE_REPLICAS);
    CU_ASSERT_EQUAL_FATAL(g->n_hosts, 2);
    CU_ASSERT_STRING_EQUAL(g->hosts[0], "h2");
    CU_ASSERT_STRING_EQUAL(g->hosts[1], "h1");
    CU_ASSERT_EQUAL_FATAL(g->n_factories, 1);
    const phx_deploy_factory_t *f = &g->factories[0];
    CU_ASSERT_STRING_EQUAL(f->host, "h1");
    CU_ASSERT_STRING_EQUAL(f->workdir, "/var/lib/bank");
    CU_ASSERT_EQUAL_FATAL(f->argc, 4);
    CU_ASSERT_STRING_EQUAL(f->argv[0], "/usr/bin/bank_replica");
    CU_ASSERT_STRING_EQUAL(f->argv[1], "--verbose");
    CU_ASSERT_STRING_EQUAL(f->argv[2], " two words ");
    CU_ASSERT_STRING_EQUAL(f->argv[3], "");
    CU_ASSERT_PTR_NULL(f->argv[4]);
    CU_ASSERT_EQUAL_FATAL(f->n_env, 2);
    CU_ASSERT_STRING_EQUAL(f->env[0].name, "BANK_MODE");
    CU_ASSERT_STRING_EQUAL(f->env[0].value, "demo");
    CU_ASSERT_STRING_EQUAL(f->env[1].name, "EMPTY");
    CU_ASSERT_STRING_EQUAL(f->env[1].value, "");

    CU_ASSERT_PTR_EQUAL(phx_deploy_factory_for(g, "h1"), f);
    CU_ASSERT_PTR_NULL(phx_deploy_factory_for(g, "h2")); /* no factory */
    CU_ASSERT_PTR_NULL(phx_deploy_factory_for(g, "h3")); /* not placed */
    phx_deploy_free(dd);
}

static void test_several(void)
{
    phx_deploy_t *dd = NULL;
    const phx_deploy_t *d = load_ok("valid/several.xml", &dd);
    CU_ASSERT_EQUAL_FATAL(d->n_hosts, 3);
    CU_ASSERT_EQUAL_FATAL(d->n_groups, 3);
    for (size_t i = 0; i < 3; i++) {
        char name[8], ep[32];
        snprintf(name, sizeof name, "h%zu", i + 1);
        snprintf(ep, sizeof ep, "tcp://127.0.0.1:%zu", 7101 + i);
        const phx_deploy_host_t *h = phx_deploy_find_host(d, name);
        CU_ASSERT_PTR_EQUAL(h, &d->hosts[i]);
        CU_ASSERT_STRING_EQUAL(h->endpoint, ep);
        CU_ASSERT_EQUAL(h->port_min, 7300 + 100 * i);
        CU_ASSERT_EQUAL(h->port_max, 7399 + 100 * i);
    }
    CU_ASSERT_PTR_NULL(phx_deploy_find_host(d, "h4"));
    CU_ASSERT_PTR_NULL(phx_deploy_find_host(d, NULL));
    CU_ASSERT_PTR_NULL(phx_deploy_find_group(d, "nope"));
    CU_ASSERT_PTR_NULL(phx_deploy_find_host(NULL, "h1"));

    /* "*" and a host-specific factory: the specific one wins. */
    const phx_deploy_group_t *g = phx_deploy_find_group(d, "counter");
    CU_ASSERT_PTR_EQUAL_FATAL(g, &d->groups[0]);
    CU_ASSERT_EQUAL(g->style, PHX_DEPLOY_ACTIVE);
    CU_ASSERT_EQUAL_FATAL(g->n_factories, 2);
    const phx_deploy_factory_t *f = phx_deploy_factory_for(g, "h2");
    CU_ASSERT_PTR_EQUAL(f, &g->factories[1]);
    CU_ASSERT_STRING_EQUAL(f->argv[0], "/opt/counter/bin/counter-replica");
    CU_ASSERT_STRING_EQUAL(f->argv[1], "--h2");
    f = phx_deploy_factory_for(g, "h1");
    CU_ASSERT_PTR_EQUAL(f, &g->factories[0]);
    CU_ASSERT_STRING_EQUAL(f->argv[1], "--any");
    CU_ASSERT_PTR_EQUAL(phx_deploy_factory_for(g, "h3"), &g->factories[0]);
    CU_ASSERT_PTR_NULL(phx_deploy_factory_for(g, NULL));
    CU_ASSERT_PTR_NULL(phx_deploy_factory_for(NULL, "h1"));

    /* Per-host factories only, with a placement. */
    g = phx_deploy_find_group(d, "bank.accounts_v2");
    CU_ASSERT_PTR_EQUAL_FATAL(g, &d->groups[1]);
    CU_ASSERT_EQUAL(g->style, PHX_DEPLOY_COLD_PASSIVE);
    CU_ASSERT_EQUAL(g->initial_replicas, 2);
    CU_ASSERT_EQUAL(g->minimum_replicas, 1);
    CU_ASSERT_EQUAL_FATAL(g->n_hosts, 2);
    CU_ASSERT_STRING_EQUAL(g->hosts[0], "h3");
    CU_ASSERT_STRING_EQUAL(g->hosts[1], "h1");
    CU_ASSERT_PTR_EQUAL(phx_deploy_factory_for(g, "h1"), &g->factories[0]);
    CU_ASSERT_PTR_EQUAL(phx_deploy_factory_for(g, "h3"), &g->factories[1]);
    CU_ASSERT_EQUAL(g->factories[1].argc, 2);
    CU_ASSERT_PTR_NULL(phx_deploy_factory_for(g, "h2"));

    /* initial-replicas 1 alone: minimum-replicas follows it down. */
    g = phx_deploy_find_group(d, "lookup");
    CU_ASSERT_PTR_EQUAL_FATAL(g, &d->groups[2]);
    CU_ASSERT_EQUAL(g->style, PHX_DEPLOY_STATELESS);
    CU_ASSERT_EQUAL(g->initial_replicas, 1);
    CU_ASSERT_EQUAL(g->minimum_replicas, 1);
    phx_deploy_free(dd);
}

static void test_mem_and_names(void)
{
    char *xml = slurp("valid/minimal.xml");
    CU_ASSERT_PTR_NOT_NULL_FATAL(xml);
    phx_deploy_t *d = NULL;
    phx_error_t err;
    CU_ASSERT_EQUAL(phx_deploy_load_mem("<builtin>", xml, strlen(xml), &d,
                                        &err),
                    0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    CU_ASSERT_STRING_EQUAL(d->path, "<builtin>");
    CU_ASSERT_EQUAL(d->n_groups, 1);
    phx_deploy_free(d);
    free(xml);
    phx_deploy_free(NULL);

    CU_ASSERT_STRING_EQUAL(phx_deploy_style_name(PHX_DEPLOY_STATELESS),
                           "STATELESS");
    CU_ASSERT_STRING_EQUAL(phx_deploy_style_name(PHX_DEPLOY_COLD_PASSIVE),
                           "COLD_PASSIVE");
    CU_ASSERT_STRING_EQUAL(phx_deploy_style_name(PHX_DEPLOY_WARM_PASSIVE),
                           "WARM_PASSIVE");
    CU_ASSERT_STRING_EQUAL(phx_deploy_style_name(PHX_DEPLOY_ACTIVE),
                           "ACTIVE");
    CU_ASSERT_STRING_EQUAL(phx_deploy_style_name((phx_deploy_style_t)9),
                           "UNKNOWN");

    /* check on a valid file: nothing reported, descriptor optional. */
    msgs_t m = {0};
    CU_ASSERT_EQUAL(phx_deploy_check("valid/several.xml", collect, &m, NULL,
                                     &err),
                    0);
    CU_ASSERT_EQUAL(m.n, 0);
    CU_ASSERT_EQUAL(phx_deploy_check("valid/several.xml", NULL, NULL, &d,
                                     NULL),
                    0);
    CU_ASSERT_PTR_NOT_NULL(d);
    phx_deploy_free(d);
}

/* ------------------------------------------------------------------ */
/* Invalid files                                                        */
/* ------------------------------------------------------------------ */

static const char *const invalid_files[] = {
    "not-well-formed", "truncated", "empty", "wrong-root",
    "wrong-namespace", "no-namespace", "unknown-element",
    "misplaced-element", "unknown-attribute", "missing-attribute",
    "missing-child", "no-host", "text-content", "bad-enum", "out-of-range",
    "not-a-number", "bad-ports", "ports-range", "dup-host", "dup-group",
    "dup-endpoint", "min-gt-initial", "unknown-placement-host",
    "dup-placement-host", "unknown-factory-host", "no-factory",
    "no-usable-factory", "two-factories", "two-default-factories",
    "empty-command", "bad-endpoint", "bad-group-name", "external-entity",
    "several-problems",
};

static void check_invalid(const char *base, int regen)
{
    char xml[256], errf[256];
    snprintf(xml, sizeof xml, "invalid/%s.xml", base);
    snprintf(errf, sizeof errf, "invalid/%s.err", base);

    msgs_t m = {0};
    phx_deploy_t *d = (phx_deploy_t *)1;
    phx_error_t err;
    int rc = phx_deploy_check(xml, collect, &m, &d, &err);
    CU_ASSERT_EQUAL(rc, PHX_EINVAL);
    CU_ASSERT_EQUAL(err.code, PHX_EINVAL);
    CU_ASSERT_PTR_NULL(d);
    CU_ASSERT(m.n >= 1);
    const char *got = m.text ? m.text : "";

    if (regen) {
        FILE *f = fopen(errf, "w");
        CU_ASSERT_PTR_NOT_NULL_FATAL(f);
        fputs(got, f);
        fclose(f);
    } else {
        char *want = slurp(errf);
        CU_ASSERT_PTR_NOT_NULL(want);
        if (want != NULL && strcmp(want, got) != 0) {
            fprintf(stderr, "\n%s: messages differ\n--- expected\n%s"
                            "--- got\n%s",
                    xml, want, got);
            CU_FAIL("messages differ from the golden file");
        }
        free(want);
    }

    /* The first message is phx_deploy_load's (and truncated safely). */
    const char *nl = strchr(got, '\n');
    size_t first = nl ? (size_t)(nl - got) : strlen(got);
    if (first > PHX_ERROR_MSG_MAX - 1)
        first = PHX_ERROR_MSG_MAX - 1;
    d = (phx_deploy_t *)1;
    CU_ASSERT_EQUAL(phx_deploy_load(xml, &d, &err), PHX_EINVAL);
    CU_ASSERT_PTR_NULL(d);
    CU_ASSERT_EQUAL(strlen(err.msg), first);
    CU_ASSERT_EQUAL(strncmp(err.msg, got, first), 0);
    /* Every message names the file. */
    for (const char *p = got; *p; p = strchr(p, '\n') + 1)
        CU_ASSERT_EQUAL(strncmp(p, xml, strlen(xml)), 0);
    free(m.text);
}

static void test_invalid(void)
{
    const char *r = getenv("PHX_DEPLOY_REGEN");
    int regen = r != NULL && strcmp(r, "1") == 0;
    for (size_t i = 0; i < sizeof invalid_files / sizeof invalid_files[0];
         i++)
        check_invalid(invalid_files[i], regen);
}

/* phx_deploy_check reports every problem of a file, in file order. */
static void test_check_order(void)
{
    msgs_t m = {0};
    phx_error_t err;
    CU_ASSERT_EQUAL(phx_deploy_check("invalid/several-problems.xml", collect,
                                     &m, NULL, &err),
                    PHX_EINVAL);
    CU_ASSERT(m.n >= 7);
    unsigned long last = 0;
    const char *pfx = "invalid/several-problems.xml:";
    for (const char *p = m.text; p && *p; p = strchr(p, '\n') + 1) {
        CU_ASSERT_EQUAL_FATAL(strncmp(p, pfx, strlen(pfx)), 0);
        unsigned long line = strtoul(p + strlen(pfx), NULL, 10);
        CU_ASSERT(line >= last);
        last = line;
    }
    free(m.text);
}

/* The external entity is never read: refused at the <!DOCTYPE>. */
static void test_external_entity(void)
{
    phx_deploy_t *d = NULL;
    phx_error_t err;
    CU_ASSERT_EQUAL(phx_deploy_load("invalid/external-entity.xml", &d, &err),
                    PHX_EINVAL);
    CU_ASSERT_PTR_NULL(d);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "<!DOCTYPE"));
    CU_ASSERT_PTR_NULL(strstr(err.msg, "root:"));
}

static void test_missing_file(void)
{
    phx_deploy_t *d = (phx_deploy_t *)1;
    phx_error_t err;
    CU_ASSERT_EQUAL(phx_deploy_load("invalid/no-such-file.xml", &d, &err),
                    PHX_EIO);
    CU_ASSERT_PTR_NULL(d);
    CU_ASSERT_EQUAL(err.code, PHX_EIO);
    char want[PHX_ERROR_MSG_MAX];
    snprintf(want, sizeof want,
             "invalid/no-such-file.xml: cannot open the file: %s; expected "
             "a readable deployment descriptor",
             strerror(ENOENT));
    CU_ASSERT_STRING_EQUAL(err.msg, want);

    msgs_t m = {0};
    CU_ASSERT_EQUAL(phx_deploy_check("invalid", collect, &m, NULL, &err),
                    PHX_EIO);
    CU_ASSERT_EQUAL(m.n, 1);
    CU_ASSERT_STRING_EQUAL(m.text, "invalid: is a directory; expected a "
                                   "deployment descriptor file\n");
    free(m.text);
}

static void test_oversized(void)
{
    size_t len = 16u * 1024 * 1024 + 1;
    char *big = malloc(len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(big);
    memset(big, ' ', len);
    phx_deploy_t *d = (phx_deploy_t *)1;
    phx_error_t err;
    CU_ASSERT_EQUAL(phx_deploy_load_mem("big.xml", big, len, &d, &err),
                    PHX_EINVAL);
    CU_ASSERT_PTR_NULL(d);
    CU_ASSERT_STRING_EQUAL(err.msg,
                           "big.xml: the file is too large (16777217 "
                           "bytes); expected at most 16777216 bytes (16 MiB)");
    free(big);

    /* A file: refused from its size, without reading it. */
    char path[] = "/tmp/phx-deploy-big-XXXXXX";
    int fd = mkstemp(path);
    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT_EQUAL(ftruncate(fd, 20 * 1024 * 1024), 0);
    close(fd);
    CU_ASSERT_EQUAL(phx_deploy_load(path, &d, &err), PHX_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, ": the file is too large "
                                           "(20971520 bytes); expected at "
                                           "most 16777216 bytes (16 MiB)"));
    unlink(path);

    /* Empty buffers. */
    CU_ASSERT_EQUAL(phx_deploy_load_mem("e.xml", "", 0, &d, &err),
                    PHX_EINVAL);
    CU_ASSERT_EQUAL(strncmp(err.msg, "e.xml: the file is empty;", 25), 0);
    CU_ASSERT_EQUAL(phx_deploy_load_mem("e.xml", NULL, 0, &d, &err),
                    PHX_EINVAL);
    CU_ASSERT_EQUAL(phx_deploy_load_mem("e.xml", " \n\t", 3, &d, &err),
                    PHX_EINVAL);
    CU_ASSERT_EQUAL(strncmp(err.msg, "e.xml: the file is empty;", 25), 0);
    CU_ASSERT_EQUAL(phx_deploy_load_mem("e.xml", "<x/>", 4, NULL, &err),
                    PHX_EINVAL);
}

/* A message longer than phx_error_t holds is cut, NUL-terminated. */
static void test_truncation(void)
{
    char name[400];
    memset(name, 'n', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    phx_deploy_t *d = NULL;
    phx_error_t err;
    CU_ASSERT_EQUAL(phx_deploy_load_mem(name, "<x/>", 4, &d, &err),
                    PHX_EINVAL);
    CU_ASSERT_EQUAL(strlen(err.msg), PHX_ERROR_MSG_MAX - 1);
    CU_ASSERT_EQUAL(strncmp(err.msg, name, PHX_ERROR_MSG_MAX - 1), 0);
    CU_ASSERT_EQUAL(phx_deploy_load_mem(name, "<x/>", 4, &d, NULL),
                    PHX_EINVAL);
}

/* libxml2 handlers in place before a load are back afterwards, and
 * nothing reaches them during the load. */
static int foreign_calls;
static void foreign_handler(void *arg, xmlErrorPtr e)
{
    (void)arg;
    (void)e;
    foreign_calls++;
}

static void test_handlers_restored(void)
{
    int tag;
    xmlSetStructuredErrorFunc(&tag, foreign_handler);
    phx_deploy_t *d = NULL;
    phx_error_t err;
    CU_ASSERT_EQUAL(phx_deploy_load("invalid/several-problems.xml", &d, &err),
                    PHX_EINVAL);
    CU_ASSERT_EQUAL(phx_deploy_load("invalid/not-well-formed.xml", &d, &err),
                    PHX_EINVAL);
    CU_ASSERT_EQUAL(foreign_calls, 0);
    CU_ASSERT_PTR_EQUAL(xmlStructuredErrorContext, &tag);
    CU_ASSERT(xmlStructuredError == foreign_handler);
    xmlSetStructuredErrorFunc(NULL, NULL);
}

int main(void)
{
    const char *src = getenv("PHX_SRCDIR");
    char dir[4096];
    if (src != NULL)
        snprintf(dir, sizeof dir, "%s/tests/deploy", src);
    else
        snprintf(dir, sizeof dir, "%s", PHX_DEPLOY_TESTDIR);
    if (chdir(dir) != 0) {
        fprintf(stderr, "test_deploy: cannot enter %s: %s\n", dir,
                strerror(errno));
        return 1;
    }
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("deploy", NULL, NULL);
    if (s == NULL || !CU_add_test(s, "minimal file, defaults", test_minimal) ||
        !CU_add_test(s, "full file, every field", test_full) ||
        !CU_add_test(s, "hosts, groups, factory_for", test_several) ||
        !CU_add_test(s, "load_mem, names, check", test_mem_and_names) ||
        !CU_add_test(s, "invalid files and golden messages", test_invalid) ||
        !CU_add_test(s, "check reports in file order", test_check_order) ||
        !CU_add_test(s, "external entity not fetched",
                     test_external_entity) ||
        !CU_add_test(s, "missing file, directory", test_missing_file) ||
        !CU_add_test(s, "oversized and empty input", test_oversized) ||
        !CU_add_test(s, "message truncation", test_truncation) ||
        !CU_add_test(s, "libxml2 handlers restored",
                     test_handlers_restored)) {
        CU_cleanup_registry();
        return 1;
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
