/*
 * bank_replica.c - one replica of the bank (samples/bank/bank.idl).
 *
 *   bank-replica --group bank --style warm_passive [--seed EP] ...
 *
 * The servant keeps accounts (name, balance) and the number of transfers
 * applied.  It has no replication logic: besides the operations it
 * implements the FT::Checkpointable pair (get_state/set_state: every
 * account) and the FT::Updateable pair (get_update/set_update: the
 * accounts changed since the last get_state or get_update), and
 * phx_replica_run (include/phx/replica.h) does the rest: settings from the
 * command line or from phxd, the ORB, the replication style, the report
 * lines.  Every style works; the sample is meant for warm_passive.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <phx/cdr.h>
#include <phx/ft.h>
#include <phx/phx.h>
#include <phx/replica.h>

#include "samples/bank/gen/bank.h"

/* ---- the state: accounts sorted by name ---- */

typedef struct account {
    char *name;
    int64_t balance;
    bool dirty; /* changed since the last get_state or get_update */
} account_t;

typedef struct bank {
    pthread_mutex_t lock;
    account_t *acc;
    size_t n, cap;
    uint64_t transfers;
    bool transfers_dirty;
} bank_t;

static bank_t the_bank = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* Index of name, or of where it would go (*found false). */
static size_t find(const bank_t *b, const char *name, bool *found)
{
    size_t lo = 0, hi = b->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(b->acc[mid].name, name);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

/* Set the balance of name, creating the account.  Lock held. */
static int upsert(bank_t *b, const char *name, size_t len, int64_t balance,
                  bool dirty)
{
    char *nm = strndup(name, len);
    if (nm == NULL)
        return -1;
    bool found;
    size_t i = find(b, nm, &found);
    if (found) {
        free(nm);
    } else {
        if (b->n == b->cap) {
            size_t cap = b->cap ? 2 * b->cap : 64;
            account_t *a = realloc(b->acc, cap * sizeof *a);
            if (a == NULL) {
                free(nm);
                return -1;
            }
            b->acc = a;
            b->cap = cap;
        }
        memmove(&b->acc[i + 1], &b->acc[i], (b->n - i) * sizeof *b->acc);
        b->acc[i].name = nm;
        b->n++;
    }
    b->acc[i].balance = balance;
    b->acc[i].dirty = dirty;
    return 0;
}

static void clear(bank_t *b)
{
    for (size_t i = 0; i < b->n; i++)
        free(b->acc[i].name);
    b->n = 0;
    b->transfers = 0;
}

/*
 * State and updates share one CDR encapsulation: unsigned long long
 * transfers, unsigned long n, then n (string name, long long balance),
 * sorted by name.  A state lists every account, an update the changed
 * ones.  Lock held; clears the dirty marks.
 */
static int encode(bank_t *b, bool only_dirty, uint8_t **data, size_t *len)
{
    uint32_t n = 0;
    for (size_t i = 0; i < b->n; i++)
        n += !only_dirty || b->acc[i].dirty;
    phx_cdr_writer_t w;
    phx_cdr_writer_init(&w, 16 + (size_t)n * 32);
    phx_cdr_put_octet(&w, PHX_CDR_NATIVE);
    phx_cdr_put_ulonglong(&w, b->transfers);
    phx_cdr_put_ulong(&w, n);
    for (size_t i = 0; i < b->n; i++) {
        if (only_dirty && !b->acc[i].dirty)
            continue;
        phx_cdr_put_string(&w, b->acc[i].name);
        phx_cdr_put_longlong(&w, b->acc[i].balance);
        b->acc[i].dirty = false;
    }
    b->transfers_dirty = false;
    int rc = phx_cdr_writer_status(&w);
    *data = rc == PHX_OK ? phx_cdr_writer_steal(&w, len) : NULL;
    phx_cdr_writer_fini(&w);
    return *data ? 0 : -1;
}

static int decode(bank_t *b, bool replace, const void *data, size_t len)
{
    phx_cdr_reader_t r;
    uint64_t transfers = 0;
    uint32_t n = 0;
    if (phx_cdr_reader_init_encap(&r, data, len) != PHX_OK)
        return -1;
    phx_cdr_get_ulonglong(&r, &transfers);
    phx_cdr_get_ulong(&r, &n);
    if (phx_cdr_reader_status(&r) != PHX_OK ||
        n > phx_cdr_reader_remaining(&r) / 12)
        return -1;
    if (replace)
        clear(b);
    for (uint32_t i = 0; i < n; i++) {
        const char *name;
        size_t nlen;
        int64_t bal;
        phx_cdr_get_string(&r, &name, &nlen);
        phx_cdr_get_longlong(&r, &bal);
        if (phx_cdr_reader_status(&r) != PHX_OK ||
            upsert(b, name, nlen, bal, false) != 0)
            return -1;
    }
    b->transfers = transfers;
    return phx_cdr_reader_remaining(&r) == 0 ? 0 : -1;
}

static int get_state(void *arg, uint8_t **data, size_t *len)
{
    bank_t *b = arg;
    pthread_mutex_lock(&b->lock);
    int rc = encode(b, false, data, len);
    pthread_mutex_unlock(&b->lock);
    return rc;
}

static int set_state(void *arg, const void *data, size_t len)
{
    bank_t *b = arg;
    pthread_mutex_lock(&b->lock);
    int rc = decode(b, true, data, len);
    pthread_mutex_unlock(&b->lock);
    return rc;
}

static int get_update(void *arg, uint8_t **data, size_t *len)
{
    bank_t *b = arg;
    pthread_mutex_lock(&b->lock);
    int rc = encode(b, true, data, len);
    pthread_mutex_unlock(&b->lock);
    return rc;
}

static int set_update(void *arg, const void *data, size_t len)
{
    bank_t *b = arg;
    pthread_mutex_lock(&b->lock);
    int rc = decode(b, false, data, len);
    pthread_mutex_unlock(&b->lock);
    return rc;
}

/* ---- the operations ---- */

static int b_open(void *self, const char *name, int64_t initial,
                  phx_env_t *env)
{
    bank_t *b = self;
    pthread_mutex_lock(&b->lock);
    bool found;
    find(b, name, &found);
    int rc = PHX_OK;
    if (found) {
        Banking_AccountExists ex = {(char *)name};
        rc = Banking_AccountExists__raise(env, &ex);
    } else if (upsert(b, name, strlen(name), initial, true) != 0) {
        rc = phx_env_system(env, PHX_SYSEX_NO_MEMORY, 0, PHX_COMPLETED_NO,
                            "bank: out of memory");
    }
    pthread_mutex_unlock(&b->lock);
    return rc;
}

static int b_balance(void *self, const char *name, int64_t *ret,
                     phx_env_t *env)
{
    bank_t *b = self;
    pthread_mutex_lock(&b->lock);
    bool found;
    size_t i = find(b, name, &found);
    int rc = PHX_OK;
    if (found) {
        *ret = b->acc[i].balance;
    } else {
        Banking_NoSuchAccount ex = {(char *)name};
        rc = Banking_NoSuchAccount__raise(env, &ex);
    }
    pthread_mutex_unlock(&b->lock);
    return rc;
}

static int b_transfer(void *self, const char *from, const char *to,
                      int64_t amount, phx_env_t *env)
{
    bank_t *b = self;
    if (amount <= 0)
        return phx_env_system(env, PHX_SYSEX_BAD_PARAM, 0, PHX_COMPLETED_NO,
                              "bank: the amount must be positive");
    pthread_mutex_lock(&b->lock);
    bool f1, f2;
    size_t i = find(b, from, &f1);
    size_t j = find(b, to, &f2);
    int rc = PHX_OK;
    if (!f1 || !f2) {
        Banking_NoSuchAccount ex = {(char *)(f1 ? to : from)};
        rc = Banking_NoSuchAccount__raise(env, &ex);
    } else if (b->acc[i].balance < amount) {
        Banking_InsufficientFunds ex = {(char *)from, b->acc[i].balance,
                                        amount};
        rc = Banking_InsufficientFunds__raise(env, &ex);
    } else {
        b->acc[i].balance -= amount;
        b->acc[j].balance += amount;
        b->acc[i].dirty = b->acc[j].dirty = true;
        b->transfers++;
        b->transfers_dirty = true;
    }
    pthread_mutex_unlock(&b->lock);
    return rc;
}

static int b_summary(void *self, Banking_Summary *ret, phx_env_t *env)
{
    (void)env;
    bank_t *b = self;
    pthread_mutex_lock(&b->lock);
    uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */
    int64_t total = 0;
    for (size_t i = 0; i < b->n; i++) {
        total += b->acc[i].balance;
        for (const char *p = b->acc[i].name; *p; p++)
            h = (h ^ (uint8_t)*p) * 0x100000001b3ULL;
        h = (h ^ 0xff) * 0x100000001b3ULL;
        uint64_t v = (uint64_t)b->acc[i].balance;
        for (int k = 0; k < 8; k++)
            h = (h ^ ((v >> (8 * k)) & 0xff)) * 0x100000001b3ULL;
    }
    ret->accounts = (uint32_t)b->n;
    ret->total = total;
    ret->transfers = b->transfers;
    ret->digest = (h ^ b->transfers) * 0x100000001b3ULL;
    pthread_mutex_unlock(&b->lock);
    return PHX_OK;
}

static int b_pid(void *self, int32_t *ret, phx_env_t *env)
{
    (void)self;
    (void)env;
    *ret = (int32_t)getpid();
    return PHX_OK;
}

static const Banking_Bank__epv bank_epv = {
    .open = b_open,
    .balance = b_balance,
    .transfer = b_transfer,
    .summary = b_summary,
    .pid = b_pid,
};

int main(int argc, char **argv)
{
    phx_replica_config_t cfg;
    phx_error_t err;
    int rc = phx_replica_parse(&cfg, "bank-replica", argc, argv, &err);
    if (rc != PHX_OK) {
        phx_replica_config_fini(&cfg);
        if (rc == PHX_EEXIST)
            return 0;
        fprintf(stderr, "%s\n", err.msg);
        return 2;
    }
    Banking_Bank__servant servant;
    Banking_Bank__servant_init(&servant, &bank_epv, &the_bank);
    phx_replica_servant_t s = {
        .servant = &servant.base,
        .key = "bank",
        .arg = &the_bank,
        .get_state = get_state,
        .set_state = set_state,
        .get_update = get_update,
        .set_update = set_update,
    };
    rc = phx_replica_run(&cfg, &s, &err);
    if (rc != PHX_OK)
        fprintf(stderr, "%s\n", err.msg);
    phx_replica_config_fini(&cfg);
    pthread_mutex_lock(&the_bank.lock);
    clear(&the_bank);
    free(the_bank.acc);
    pthread_mutex_unlock(&the_bank.lock);
    return rc == PHX_OK ? 0 : 1;
}
