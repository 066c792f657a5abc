/*
 * replica.h - the main program of a replica: everything a replicated
 * server does besides its servant.  It reads the replica's settings from
 * the environment (what the phxd daemon passes) and the command line
 * (what a person types), creates the ORB, activates the servant,
 * installs the replication style, reports on a line protocol when it is
 * ready and which role it has, and serves until SIGTERM or SIGINT.
 *
 *   int main(int argc, char **argv) {
 *       phx_replica_config_t cfg;
 *       phx_error_t err;
 *       int rc = phx_replica_parse(&cfg, "bank-replica", argc, argv, &err);
 *       if (rc != PHX_OK) ... print err.msg, exit 2 (0 after --help) ...
 *       phx_replica_servant_t s = { &servant.base, &bank, get_state, ... };
 *       rc = phx_replica_run(&cfg, &s, &err);
 *       phx_replica_config_fini(&cfg);
 *   }
 *
 * Settings (command line over environment over default):
 *   --group NAME       PHX_GROUP            object group / GCS group name
 *                                           (required)
 *   --style STYLE      PHX_STYLE            active, warm_passive,
 *                                           cold_passive, semi_active
 *                                           (PHX_FT_SEMI_ACTIVE, 5, in
 *                                           <phx/ft_semi.h>) or stateless
 *                                           (default active)
 *   --listen EP        PHX_LISTEN           ORB endpoint (default
 *                                           tcp://127.0.0.1:*)
 *   --gcs EP           PHX_GCS_ENDPOINT     GCS endpoint (default
 *                                           tcp://127.0.0.1:*)
 *   --seed EP          PHX_GCS_SEEDS        GCS endpoint of a running
 *                                           member; repeatable (comma-
 *                                           separated in the variable)
 *   --dir DIR          PHX_STORE_DIR        stable storage (cold_passive)
 *   --checkpoint-interval MS
 *                      PHX_CHECKPOINT_INTERVAL_MS  (default 1000)
 *   --members N        PHX_MEMBERS          READY once the group's view
 *                                           has N members (default 1)
 *   --name NAME        PHX_MEMBER           member name in views
 *   --workers N        PHX_WORKERS          ORB worker threads (default 4)
 *   --report-fd FD     PHX_REPORT_FD        where the report lines go
 *                                           (default 1, stdout)
 *   --control-fd FD    PHX_CONTROL_FD       where "IOGR <reference>" lines
 *                                           arrive each time the group's
 *                                           reference changes; requests
 *                                           carrying an older
 *                                           FT_GROUP_VERSION are answered
 *                                           LOCATION_FORWARD_PERM to it
 *                                           (default: none)
 *   --heartbeat-ms MS  PHX_GCS_HEARTBEAT_MS
 *   --timeout-ms MS    PHX_GCS_TIMEOUT_MS
 *   --help
 *
 * Report lines, each flushed as it is written:
 *   GCS <endpoint>     the GCS handle is up (what others pass as --seed)
 *   READY <IOR>        serving with the group's state (after the state
 *                      transfer when joining), and the view has the
 *                      wanted members
 *   ROLE primary|backup   passive styles: every change of role
 *   VIEW <id> <n>      every view of the group (id, member count)
 *   DIVERGED <details> semi_active: this replica's execution of a request
 *                      differed from the leader's (divergence detector)
 */
#ifndef PHX_REPLICA_H
#define PHX_REPLICA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <phx/error.h>
#include <phx/orb.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct phx_replica_config {
    char *program;          /* for messages */
    char *group;
    int style;              /* PHX_FT_ACTIVE, ... (ft.h) */
    char *listen;
    char *gcs_endpoint;
    char **seeds;
    size_t n_seeds;
    char *dir;
    uint32_t checkpoint_interval_ms;
    uint32_t members;
    char *name;
    uint32_t workers;
    int report_fd;
    int control_fd;         /* -1: none */
    uint32_t heartbeat_ms;  /* 0: the GCS default */
    uint32_t timeout_ms;    /* 0: the GCS default */
} phx_replica_config_t;

/* The servant and its state callbacks (as in ft.h: get/set_state
 * required for every style but stateless, get/set_update optional). */
typedef struct phx_replica_servant {
    phx_servant_t *servant;
    const char *key;        /* object key; NULL: the group name */
    void *arg;              /* passed to the callbacks */
    int (*get_state)(void *arg, uint8_t **data, size_t *len);
    int (*set_state)(void *arg, const void *data, size_t len);
    int (*get_update)(void *arg, uint8_t **data, size_t *len);
    int (*set_update)(void *arg, const void *data, size_t len);
    /* semi_active: the servant protects its state with phx_ft_mutex
     * itself (<phx/ft_nd.h>), so requests may run concurrently; and the
     * divergence detector's state digest every N requests (0: none). */
    bool multithreaded;
    uint32_t check_every_n;
} phx_replica_servant_t;

/*
 * Fill cfg from the environment and argv.  PHX_OK; PHX_EINVAL with a
 * message naming the option or variable and what it wants (the usage
 * follows in err->msg when it fits); PHX_EEXIST after --help, which
 * printed the usage to stdout.  cfg is initialised either way:
 * phx_replica_config_fini it.
 */
int phx_replica_parse(phx_replica_config_t *cfg, const char *program,
                      int argc, char **argv, phx_error_t *err);
void phx_replica_config_fini(phx_replica_config_t *cfg);
/* The usage text (static). */
const char *phx_replica_usage(void);

/*
 * Serve until SIGTERM or SIGINT (handlers installed for the call; one
 * replica per process).  Returns PHX_OK after a clean stop, or the
 * failure to start with err filled.
 */
int phx_replica_run(const phx_replica_config_t *cfg,
                    const phx_replica_servant_t *s, phx_error_t *err);

#ifdef __cplusplus
}
#endif

#endif /* PHX_REPLICA_H */
