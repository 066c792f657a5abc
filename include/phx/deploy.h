/*
 * deploy.h - the deployment descriptor of a fault-tolerance domain: one
 * XML file (namespace urn:phalanx:deployment:1, schema
 * ft/deploy/phalanx-deploy.xsd, format in docs/phalanx-deploy.5) naming
 * the hosts and their daemons (phxd), the object groups with their
 * fault-tolerance properties, the factories that start replicas, the GCS
 * settings and logging.
 *
 * Loading validates the file against the schema and then checks what a
 * schema cannot (unique names, references between elements, ranges that
 * depend on each other).  Every error names the file and line, says what
 * is wrong and what was expected; nothing is returned from an invalid
 * file.  Optional settings get the defaults listed below.
 */
#ifndef PHX_DEPLOY_H
#define PHX_DEPLOY_H

#include <stddef.h>
#include <stdint.h>

#include <phx/error.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct phx_deploy_host {
    char *name;          /* unique among hosts */
    char *endpoint;      /* the daemon's control endpoint (ORB, e.g.
                          * "tcp://127.0.0.1:7101"); unique */
    char *gcs_endpoint;  /* the daemon's GCS endpoint; unique */
    /* Ports the daemon gives to the replicas it starts on this host
     * (each replica takes two: its ORB and its GCS endpoint).  Default
     * 0/0: the system picks (the replica reports what it got). */
    uint16_t port_min, port_max;
    char *address;       /* interface replicas listen on; default
                          * "127.0.0.1" */
    unsigned line;       /* where it was declared */
} phx_deploy_host_t;

typedef struct phx_deploy_env {
    char *name;
    char *value;
} phx_deploy_env_t;

/* How a replica of a group is started on a host. */
typedef struct phx_deploy_factory {
    char *host;          /* a host name, or "*" for every host */
    char **argv;         /* the command: program then arguments, NULL
                          * terminated (argc entries before the NULL) */
    size_t argc;
    char *workdir;       /* NULL: the daemon's working directory */
    phx_deploy_env_t *env;
    size_t n_env;
    unsigned line;
} phx_deploy_factory_t;

/* FT::ReplicationStyleValue numbers (PHX_FT_STATELESS ... in ft.h). */
typedef enum phx_deploy_style {
    PHX_DEPLOY_STATELESS = 0,
    PHX_DEPLOY_COLD_PASSIVE = 1,
    PHX_DEPLOY_WARM_PASSIVE = 2,
    PHX_DEPLOY_ACTIVE = 3,
    PHX_DEPLOY_SEMI_ACTIVE = 5   /* PHX_FT_SEMI_ACTIVE (ft_semi.h) */
} phx_deploy_style_t;

/* What the daemons do with a group's replicas when they stop. */
typedef enum phx_deploy_on_stop {
    PHX_DEPLOY_STOP_REPLICAS = 0,   /* SIGTERM, then SIGKILL (default) */
    PHX_DEPLOY_LEAVE_REPLICAS = 1   /* leave them running */
} phx_deploy_on_stop_t;

typedef struct phx_deploy_group {
    char *name;              /* unique among groups; [A-Za-z0-9_.-]+ */
    char *type_id;           /* IDL repository id, e.g. "IDL:Bank:1.0"
                              * (required) */
    phx_deploy_style_t style;    /* required */
    uint32_t initial_replicas;   /* default 3 */
    uint32_t minimum_replicas;   /* default 2 (initial_replicas when that
                                  * is 1); 1 <= min <= initial */
    uint32_t fault_monitoring_interval_ms; /* default 1000 */
    uint32_t fault_monitoring_timeout_ms;  /* default 500; < interval
                                            * is not required */
    uint32_t checkpoint_interval_ms;       /* default 1000 */
    uint32_t request_duration_ms;          /* default 15000 */
    phx_deploy_on_stop_t on_stop;
    /* Placement: the hosts replicas may run on, in preference order
     * (NULL/0: every host). */
    char **hosts;
    size_t n_hosts;
    phx_deploy_factory_t *factories;  /* at least one */
    size_t n_factories;
    unsigned line;
} phx_deploy_group_t;

typedef enum phx_deploy_log_target {
    PHX_DEPLOY_LOG_STDERR = 0,   /* default */
    PHX_DEPLOY_LOG_SYSLOG = 1
} phx_deploy_log_target_t;

typedef struct phx_deploy {
    char *path;              /* the file it was loaded from */
    char *domain;            /* the fault-tolerance domain id (required;
                              * [A-Za-z0-9_.-]+) */
    /* GCS settings (backend "embedded"; phx_gcs_config_t has the
     * meanings). */
    char *gcs_backend;       /* default "embedded" */
    uint32_t gcs_heartbeat_ms;   /* default 100 */
    uint32_t gcs_timeout_ms;     /* default 1000 */
    char *log_level;         /* "error" "warn" "info" "debug"; default
                              * "info" */
    phx_deploy_log_target_t log_target;
    char *log_ident;         /* syslog identity; default "phxd" */
    phx_deploy_host_t *hosts;
    size_t n_hosts;
    phx_deploy_group_t *groups;
    size_t n_groups;
} phx_deploy_t;

/*
 * Load and validate path.  On success *out is the descriptor (free with
 * phx_deploy_free).  On failure returns PHX_EINVAL (invalid content),
 * PHX_EIO (cannot read) or PHX_ENOMEM, and err->msg holds the first
 * problem as "FILE:LINE: what is wrong; expected what" (truncated to
 * PHX_ERROR_MSG_MAX).  Problems of the file as a whole (cannot be
 * opened, empty, larger than 16 MiB) are "FILE: ..." without a line.
 * Files with a <!DOCTYPE> are refused: nothing but the file is read.
 * libxml2's error handlers of the calling thread are replaced during the
 * call and restored afterwards; libxml2 prints nothing.
 */
int phx_deploy_load(const char *path, phx_deploy_t **out, phx_error_t *err);
/* The same from a buffer; name is used in messages in place of a path. */
int phx_deploy_load_mem(const char *name, const void *data, size_t len,
                        phx_deploy_t **out, phx_error_t *err);
/* As phx_deploy_load, and report(arg, msg) is called for every problem
 * found (each "FILE:LINE: ..."), in file order, not only the first.
 * report may be NULL; out may be NULL to check only. */
typedef void (*phx_deploy_report_fn)(void *arg, const char *msg);
int phx_deploy_check(const char *path, phx_deploy_report_fn report,
                     void *arg, phx_deploy_t **out, phx_error_t *err);
void phx_deploy_free(phx_deploy_t *d); /* NULL-safe */

const phx_deploy_host_t *phx_deploy_find_host(const phx_deploy_t *d,
                                              const char *name);
const phx_deploy_group_t *phx_deploy_find_group(const phx_deploy_t *d,
                                                const char *name);
/* The factory of group g for host (the one naming the host, else "*"),
 * or NULL when g cannot run there (host outside g's placement, or no
 * factory for it). */
const phx_deploy_factory_t *
phx_deploy_factory_for(const phx_deploy_group_t *g, const char *host);

/* "STATELESS", "COLD_PASSIVE", "WARM_PASSIVE", "ACTIVE", "SEMI_ACTIVE". */
const char *phx_deploy_style_name(phx_deploy_style_t s);

#ifdef __cplusplus
}
#endif

#endif /* PHX_DEPLOY_H */
