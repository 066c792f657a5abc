/*
 * cold.c - COLD_PASSIVE replication (include/phx/ft_cold.h, docs/ft.md):
 * the holder of an OFD lock on DIR/primary.lock is the primary.  It
 * executes each request carrying FT_REQUEST, appends a record of it (the
 * request and its reply) to DIR/log, syncs it, and only then answers.
 * DIR/checkpoint holds the servant's state, the reply cache and the last
 * log sequence number it covers.  A member that takes the lock recovers
 * first: checkpoint, then every logged request the checkpoint does not
 * cover, executed again with its logged reply put in the reply cache.
 *
 * Threads: ORB workers run the interceptor; one background thread tries
 * the lock, recovers and takes checkpoints.  exec_lock is held by whoever
 * executes on the servant for the group (a request, a recovery, a
 * checkpoint) and guards the files and the reply cache; lock (taken after
 * exec_lock when both are) guards the flags and the statistics.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <phx/ft.h>
#include <phx/ft_nd.h>
#include <phx/ft_cold.h>
#include <phx/interceptor.h>
#include <phx/log.h>

#include "ft/ft_int.h"

#define MOD "ft-cold"
#define OWNER_LOOKUP ((uintptr_t)3)
#define MAGIC "PHXCKPT1"
#define MAGIC_LEN 8
#define RETRY_MS 1000 /* after a recovery that failed for want of I/O */

/* Outcome of a recovery. */
enum { REC_OK = 0, REC_RETRY = 1, REC_CORRUPT = 2 };

struct phx_ft_cold {
    phx_orb_t *orb;
    uint8_t *key;
    size_t key_len;
    phx_ft_cold_config_t cfg;
    char *lock_path, *ckpt_path, *tmp_path, *log_path, *dir;
    phx_server_interceptor_t si;
    uint8_t *genesis;          /* the servant's state at install */
    size_t genesis_len;

    pthread_mutex_t exec_lock; /* the servant, the files, the fields below */
    phx_ft_reply_cache_t *cache;
    int lock_fd;               /* open from install to destroy */
    int log_fd;                /* open while primary */
    uint64_t last_seq;         /* of the last record logged */
    uint64_t last_ns;          /* the last group time (<phx/ft_nd.h>) */
    uint32_t since_ckpt;       /* records logged since the checkpoint */
    long long ckpt_at_ms;

    pthread_mutex_t lock;      /* everything below */
    pthread_cond_t cond;
    bool is_primary;
    bool stopping;
    bool kick;                 /* a checkpoint is due */
    bool thread_started;
    pthread_t thread;
    phx_ft_cold_stats_t stats;
};

/* ------------------------------------------------------------------ */
/* Small helpers                                                        */
/* ------------------------------------------------------------------ */

static uint32_t crc_table[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1u)));
        crc_table[i] = c;
    }
}

/* CRC-32C (Castagnoli), continuing from crc (0 to start). */
static uint32_t crc32c(uint32_t crc, const void *data, size_t n)
{
    pthread_once(&crc_once, crc_init);
    const uint8_t *p = data;
    crc = ~crc;
    while (n--)
        crc = crc_table[(crc ^ *p++) & 0xFF] ^ (crc >> 8);
    return ~crc;
}

static void put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int write_all(int fd, const void *buf, size_t n)
{
    const uint8_t *p = buf;
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Read the whole file at path (or the open fd) into *buf.  0, or -1 with
 * errno (ENOENT: no such file). */
static int read_all(int fd, const char *path, uint8_t **buf, size_t *len)
{
    int own = -1;
    if (fd < 0 && (fd = own = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return -1;
    struct stat st;
    int rc = fstat(fd, &st);
    size_t n = rc == 0 ? (size_t)st.st_size : 0;
    uint8_t *b = rc == 0 ? malloc(n ? n : 1) : NULL;
    size_t got = 0;
    while (b && got < n) {
        ssize_t r = pread(fd, b + got, n - got, (off_t)got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    int e = errno;
    if (own >= 0)
        close(own);
    if (b == NULL || got < n) {
        free(b);
        errno = b == NULL && rc == 0 ? ENOMEM : (e ? e : EIO);
        return -1;
    }
    *buf = b;
    *len = n;
    return 0;
}

static int lock_file(phx_ft_cold_t *c, short type)
{
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = type;
    fl.l_whence = SEEK_SET;
    return fcntl(c->lock_fd, F_OFD_SETLK, &fl);
}

/* ------------------------------------------------------------------ */
/* Log records                                                          */
/* ------------------------------------------------------------------ */
/*
 * [u32 length][u32 CRC-32C of the payload] (little endian), then the
 * payload: a CDR encapsulation of unsigned long long seq,
 * sequence<octet> client id, long retention id, unsigned long long
 * expiration, string operation, octet request byte order,
 * sequence<octet> request body, unsigned long reply status,
 * sequence<octet> reply body, unsigned long long group time and
 * unsigned long long random seed of the execution (<phx/ft_nd.h>: a
 * recovery replays the request with the same values).
 */
typedef struct record {
    uint64_t seq;
    const char *client_id;
    size_t client_id_len;
    int32_t retention_id;
    uint64_t expiration;
    const char *op;
    uint8_t byte_order;
    const uint8_t *body;
    size_t body_len;
    uint32_t status;
    const uint8_t *reply;
    size_t reply_len;
    uint64_t time_ns;
    uint64_t seed;
} record_t;

#define REC_HDR 8

static uint8_t *record_encode(const record_t *r, size_t *len)
{
    phx_cdr_writer_t w;
    phx_cdr_writer_init(&w, 96 + r->client_id_len + strlen(r->op) +
                                r->body_len + r->reply_len);
    phx_cdr_reserve(&w, REC_HDR);
    w.base = REC_HDR;
    phx_cdr_put_octet(&w, PHX_CDR_NATIVE);
    phx_cdr_put_ulonglong(&w, r->seq);
    phx_cdr_put_octet_seq(&w, r->client_id, r->client_id_len);
    phx_cdr_put_long(&w, r->retention_id);
    phx_cdr_put_ulonglong(&w, r->expiration);
    phx_cdr_put_string(&w, r->op);
    phx_cdr_put_octet(&w, r->byte_order);
    phx_cdr_put_octet_seq(&w, r->body, r->body_len);
    phx_cdr_put_ulong(&w, r->status);
    phx_cdr_put_octet_seq(&w, r->reply, r->reply_len);
    phx_cdr_put_ulonglong(&w, r->time_ns);
    phx_cdr_put_ulonglong(&w, r->seed);
    uint8_t *buf = phx_cdr_writer_status(&w) == PHX_OK
                       ? phx_cdr_writer_steal(&w, len)
                       : NULL;
    phx_cdr_writer_fini(&w);
    if (buf == NULL || *len - REC_HDR > UINT32_MAX) {
        free(buf);
        return NULL;
    }
    put_le32(buf, (uint32_t)(*len - REC_HDR));
    put_le32(buf + 4, crc32c(0, buf + REC_HDR, *len - REC_HDR));
    return buf;
}

static bool record_decode(const uint8_t *p, size_t len, record_t *r)
{
    phx_cdr_reader_t rd;
    const uint8_t *id;
    size_t oplen;
    if (phx_cdr_reader_init_encap(&rd, p, len) != PHX_OK)
        return false;
    phx_cdr_get_ulonglong(&rd, &r->seq);
    phx_cdr_get_octet_seq(&rd, &id, &r->client_id_len);
    phx_cdr_get_long(&rd, &r->retention_id);
    phx_cdr_get_ulonglong(&rd, &r->expiration);
    phx_cdr_get_string(&rd, &r->op, &oplen);
    phx_cdr_get_octet(&rd, &r->byte_order);
    phx_cdr_get_octet_seq(&rd, &r->body, &r->body_len);
    phx_cdr_get_ulong(&rd, &r->status);
    phx_cdr_get_octet_seq(&rd, &r->reply, &r->reply_len);
    phx_cdr_get_ulonglong(&rd, &r->time_ns);
    phx_cdr_get_ulonglong(&rd, &r->seed);
    r->client_id = (const char *)id;
    return phx_cdr_reader_status(&rd) == PHX_OK &&
           phx_cdr_reader_remaining(&rd) == 0 && r->client_id_len > 0 &&
           r->byte_order <= 1;
}

/* Whether a whole record with a valid CRC starts at off. */
static bool record_at(const uint8_t *b, size_t len, size_t off)
{
    if (len - off < REC_HDR + 16)
        return false;
    uint32_t n = get_le32(b + off);
    return n >= 16 && n <= len - off - REC_HDR && b[off + REC_HDR] <= 1 &&
           crc32c(0, b + off + REC_HDR, n) == get_le32(b + off + 4);
}

/* ------------------------------------------------------------------ */
/* Checkpoints                                                          */
/* ------------------------------------------------------------------ */
/*
 * "PHXCKPT1", a CDR encapsulation {unsigned long long last seq covered;
 * sequence<octet> reply cache serialization; sequence<octet> state;
 * unsigned long long last group time},
 * then the CRC-32C of everything before it (little endian).
 */

/* Write a checkpoint of the servant and the cache covering last_seq,
 * then empty the log.  exec_lock held, lock file held.  0 or -1. */
static int checkpoint(phx_ft_cold_t *c)
{
    uint8_t *state = NULL, *cache = NULL, *encap = NULL;
    size_t state_len = 0, cache_len = 0, encap_len = 0;
    const char *what = "get_state";
    errno = 0;
    if (c->cfg.get_state(c->cfg.arg, &state, &state_len) != 0)
        goto fail;
    what = "encoding";
    phx_cdr_writer_t w;
    phx_cdr_writer_init(&w, 256);
    if (phx_ft_reply_cache_serialize(c->cache, &w) == PHX_OK)
        cache = phx_cdr_writer_steal(&w, &cache_len);
    phx_cdr_writer_fini(&w);
    if (cache == NULL)
        goto fail;
    phx_cdr_writer_init(&w, 64 + cache_len + state_len);
    phx_cdr_put_octet(&w, PHX_CDR_NATIVE);
    phx_cdr_put_ulonglong(&w, c->last_seq);
    phx_cdr_put_octet_seq(&w, cache, cache_len);
    phx_cdr_put_octet_seq(&w, state, state_len);
    phx_cdr_put_ulonglong(&w, c->last_ns);
    if (phx_cdr_writer_status(&w) == PHX_OK)
        encap = phx_cdr_writer_steal(&w, &encap_len);
    phx_cdr_writer_fini(&w);
    if (encap == NULL)
        goto fail;
    uint8_t crc[4];
    put_le32(crc, crc32c(crc32c(0, MAGIC, MAGIC_LEN), encap, encap_len));

    what = c->tmp_path;
    int fd = open(c->tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                  0644);
    if (fd < 0)
        goto fail;
    int rc = write_all(fd, MAGIC, MAGIC_LEN);
    if (rc == 0)
        rc = write_all(fd, encap, encap_len);
    if (rc == 0)
        rc = write_all(fd, crc, sizeof crc);
    if (rc == 0)
        rc = fsync(fd);
    if (close(fd) != 0)
        rc = -1;
    if (rc != 0)
        goto fail;
    what = "rename";
    if (rename(c->tmp_path, c->ckpt_path) != 0)
        goto fail;
    /* The new checkpoint must be durable before the log it replaces is
     * dropped; until then recovery skips the records it covers. */
    what = c->dir;
    int dfd = open(c->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    rc = dfd < 0 ? -1 : fsync(dfd);
    if (dfd >= 0)
        close(dfd);
    if (rc != 0)
        goto fail;
    what = c->log_path;
    if (ftruncate(c->log_fd, 0) != 0 || fsync(c->log_fd) != 0)
        goto fail;
    free(state);
    free(cache);
    free(encap);
    c->since_ckpt = 0;
    c->ckpt_at_ms = now_ms();
    pthread_mutex_lock(&c->lock);
    c->stats.checkpoints++;
    pthread_mutex_unlock(&c->lock);
    return 0;
fail:
    PHX_WARN(MOD, "checkpoint in %s failed at %s: %s", c->dir, what,
             errno ? strerror(errno) : "failed");
    free(state);
    free(cache);
    free(encap);
    c->ckpt_at_ms = now_ms(); /* retried after the next interval */
    return -1;
}

/* ------------------------------------------------------------------ */
/* Recovery                                                             */
/* ------------------------------------------------------------------ */

/* Execute a logged request again and keep its logged reply. */
static int replay(phx_ft_cold_t *c, const record_t *r)
{
    uint32_t status = 0;
    uint8_t *reply = NULL;
    size_t reply_len = 0;
    phx_error_t err;
    phx_ft_nd_ctx_t nd;
    phx_ft_nd_begin_fixed(&nd, r->time_ns, r->seed, false);
    phx_ft_nd_set_request(&nd, r->client_id, r->client_id_len,
                          r->retention_id, r->expiration);
    int rc = phx_orb_invoke_local(c->orb, c->key, c->key_len, r->op,
                                  r->body, r->body_len, r->byte_order,
                                  &status, &reply, &reply_len, &err);
    phx_ft_nd_end(&nd);
    if (phx_ft_nd_last(&nd) > c->last_ns)
        c->last_ns = phx_ft_nd_last(&nd);
    phx_ft_nd_ctx_fini(&nd);
    if (rc != PHX_OK) {
        PHX_ERROR(MOD, "replaying record %llu (%s): %s",
                  (unsigned long long)r->seq, r->op, err.msg);
        return -1;
    }
    if (status != r->status || reply_len != r->reply_len ||
        (reply_len && memcmp(reply, r->reply, reply_len) != 0))
        PHX_WARN(MOD, "replaying record %llu (%s) gave another reply than "
                 "logged: is the servant deterministic?",
                 (unsigned long long)r->seq, r->op);
    free(reply);
    phx_ft_reply_cache_put(c->cache, r->client_id, r->client_id_len,
                           r->retention_id, r->expiration, r->status,
                           r->reply, r->reply_len);
    return 0;
}

static phx_ft_reply_cache_t *new_cache(const phx_ft_cold_config_t *cfg)
{
    phx_ft_reply_cache_config_t cc;
    phx_ft_reply_cache_config_init(&cc);
    /* Every logged reply must be kept: the oldest completed entries make
     * room (as WARM_PASSIVE does). */
    cc.evict_when_full = true;
    if (cfg->cache_max_entries)
        cc.max_entries = cfg->cache_max_entries;
    if (cfg->cache_max_bytes)
        cc.max_bytes = cfg->cache_max_bytes;
    phx_ft_reply_cache_t *cache = NULL;
    phx_ft_reply_cache_create(&cc, &cache);
    return cache;
}

/* Load the checkpoint (or the initial state) into the servant and a new
 * reply cache.  exec_lock held. */
static int load_checkpoint(phx_ft_cold_t *c, bool *found, uint64_t *seq)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    *seq = 0;
    *found = false;
    c->last_ns = 0; /* storage decides: the checkpoint, then the log */
    unlink(c->tmp_path); /* a checkpoint cut short by a crash */
    if (read_all(-1, c->ckpt_path, &buf, &len) != 0) {
        if (errno != ENOENT) {
            PHX_ERROR(MOD, "cannot read %s: %s", c->ckpt_path,
                      strerror(errno));
            return REC_RETRY;
        }
        return c->cfg.set_state(c->cfg.arg, c->genesis, c->genesis_len)
                   ? REC_CORRUPT
                   : REC_OK;
    }
    *found = true;
    int res = REC_CORRUPT;
    const uint8_t *cache, *state;
    size_t cache_len = 0, state_len = 0;
    phx_cdr_reader_t r;
    phx_error_t err;
    if (len < MAGIC_LEN + 4 || memcmp(buf, MAGIC, MAGIC_LEN) != 0 ||
        crc32c(0, buf, len - 4) != get_le32(buf + len - 4)) {
        PHX_ERROR(MOD, "checkpoint %s is corrupt (bad magic, length or "
                  "CRC): refusing to serve",
                  c->ckpt_path);
        goto out;
    }
    if (phx_cdr_reader_init_encap(&r, buf + MAGIC_LEN,
                                  len - MAGIC_LEN - 4) == PHX_OK) {
        phx_cdr_get_ulonglong(&r, seq);
        phx_cdr_get_octet_seq(&r, &cache, &cache_len);
        phx_cdr_get_octet_seq(&r, &state, &state_len);
        phx_cdr_get_ulonglong(&r, &c->last_ns);
    }
    if (phx_cdr_reader_status(&r) != PHX_OK ||
        phx_cdr_reader_remaining(&r) != 0) {
        PHX_ERROR(MOD, "checkpoint %s is malformed: refusing to serve",
                  c->ckpt_path);
        goto out;
    }
    if (phx_ft_reply_cache_deserialize(c->cache, cache, cache_len, &err) !=
        PHX_OK) {
        PHX_ERROR(MOD, "checkpoint %s: reply cache: %s: refusing to serve",
                  c->ckpt_path, err.msg);
        goto out;
    }
    if (c->cfg.set_state(c->cfg.arg, state, state_len) != 0) {
        PHX_ERROR(MOD, "checkpoint %s: set_state refused the state: "
                  "refusing to serve",
                  c->ckpt_path);
        goto out;
    }
    res = REC_OK;
out:
    free(buf);
    return res;
}

/* Become the primary: checkpoint, log, and a fresh checkpoint when the
 * log was not empty.  exec_lock and the lock file held. */
static int recover(phx_ft_cold_t *c)
{
    phx_ft_reply_cache_t *cache = new_cache(&c->cfg);
    if (cache == NULL)
        return REC_RETRY;
    phx_ft_reply_cache_destroy(c->cache);
    c->cache = cache;
    bool found;
    uint64_t ckpt_seq;
    int res = load_checkpoint(c, &found, &ckpt_seq);
    if (res != REC_OK)
        return res;

    c->log_fd = open(c->log_path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC,
                     0644);
    uint8_t *b = NULL;
    size_t len = 0;
    if (c->log_fd < 0 || read_all(c->log_fd, NULL, &b, &len) != 0) {
        PHX_ERROR(MOD, "cannot read %s: %s", c->log_path, strerror(errno));
        return REC_RETRY;
    }
    uint64_t last = ckpt_seq, prev = 0, replayed = 0;
    size_t off = 0;
    res = REC_OK;
    while (off < len && res == REC_OK) {
        record_t r;
        if (!record_at(b, len, off)) {
            /* Only the last write can be torn: a valid record after this
             * one means the middle of the log is damaged. */
            size_t j = off + 1;
            while (j < len && !record_at(b, len, j))
                j++;
            if (j < len) {
                PHX_ERROR(MOD, "%s: corrupt record at offset %zu followed "
                          "by valid ones: refusing to serve",
                          c->log_path, off);
                res = REC_CORRUPT;
            } else {
                PHX_WARN(MOD, "%s: torn tail of %zu bytes at offset %zu "
                         "dropped (never acknowledged)",
                         c->log_path, len - off, off);
            }
            break;
        }
        size_t n = get_le32(b + off);
        if (!record_decode(b + off + REC_HDR, n, &r) || r.seq <= prev ||
            (r.seq > last && r.seq != last + 1)) {
            PHX_ERROR(MOD, "%s: record at offset %zu is malformed or out of "
                      "sequence (%llu after %llu, checkpoint %llu): "
                      "refusing to serve",
                      c->log_path, off, (unsigned long long)r.seq,
                      (unsigned long long)prev,
                      (unsigned long long)ckpt_seq);
            res = REC_CORRUPT;
            break;
        }
        prev = r.seq;
        if (r.seq > last) { /* not covered by the checkpoint */
            if (replay(c, &r) != 0)
                res = REC_RETRY;
            last = r.seq;
            replayed++;
        }
        off += REC_HDR + n;
    }
    free(b);
    if (res != REC_OK)
        return res;
    c->last_seq = last;
    c->since_ckpt = (uint32_t)replayed;
    c->ckpt_at_ms = now_ms();
    pthread_mutex_lock(&c->lock);
    c->stats.recovered_records += replayed;
    pthread_mutex_unlock(&c->lock);
    /* Fold the log into a new checkpoint: the log restarts empty (a torn
     * tail goes too) and a first primary leaves a checkpoint behind. */
    if ((len > 0 || !found) && checkpoint(c) != 0)
        return REC_RETRY;
    return REC_OK;
}

/* Give up the primary role.  exec_lock held. */
static void release(phx_ft_cold_t *c)
{
    if (c->log_fd >= 0)
        close(c->log_fd);
    c->log_fd = -1;
    lock_file(c, F_UNLCK);
    pthread_mutex_lock(&c->lock);
    c->is_primary = false;
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->lock);
}

/* Take the lock if free and recover.  Returns when to try again (ms on
 * the monotonic clock). */
static long long try_promote(phx_ft_cold_t *c)
{
    if (lock_file(c, F_WRLCK) != 0)
        return 0;
    uint64_t t0 = now_us();
    pthread_mutex_lock(&c->exec_lock);
    int res = recover(c);
    if (res != REC_OK)
        release(c);
    pthread_mutex_lock(&c->lock);
    bool stop = c->stopping;
    if (res == REC_OK && !stop) {
        c->is_primary = true;
        c->stats.recoveries++;
        c->stats.last_recovery_us = now_us() - t0;
        PHX_INFO(MOD, "primary for %s after recovering %llu records in "
                 "%llu us",
                 c->dir, (unsigned long long)c->since_ckpt,
                 (unsigned long long)c->stats.last_recovery_us);
    } else if (res != REC_OK) {
        c->stats.failed_recoveries++;
        c->stats.broken = res == REC_CORRUPT;
        if (c->stats.broken)
            PHX_ERROR(MOD, "storage in %s is corrupt: this member will not "
                      "serve",
                      c->dir);
    }
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->lock);
    if (res == REC_OK && stop)
        release(c);
    pthread_mutex_unlock(&c->exec_lock);
    if (res == REC_OK && !stop && c->cfg.role_change)
        c->cfg.role_change(c->cfg.arg, true);
    return res == REC_RETRY ? now_ms() + RETRY_MS : 0;
}

static void *thread_main(void *arg)
{
    phx_ft_cold_t *c = arg;
    long long retry_at = 0;
    pthread_mutex_lock(&c->lock);
    while (!c->stopping) {
        bool primary = c->is_primary, broken = c->stats.broken;
        c->kick = false;
        pthread_mutex_unlock(&c->lock);
        long long wait = c->cfg.lock_poll_ms;
        if (!primary && !broken && now_ms() >= retry_at) {
            retry_at = try_promote(c);
        } else if (primary) {
            /* A checkpoint when due, between requests. */
            pthread_mutex_lock(&c->exec_lock);
            long long due = c->ckpt_at_ms + c->cfg.checkpoint_interval_ms;
            if (c->log_fd >= 0 && c->since_ckpt > 0 &&
                (c->since_ckpt >= c->cfg.checkpoint_every ||
                 now_ms() >= due))
                checkpoint(c);
            wait = c->since_ckpt ? c->ckpt_at_ms +
                                       c->cfg.checkpoint_interval_ms -
                                       now_ms()
                                 : c->cfg.checkpoint_interval_ms;
            pthread_mutex_unlock(&c->exec_lock);
            if (wait < 1)
                wait = 1;
        }
        pthread_mutex_lock(&c->lock);
        if (!c->stopping && !c->kick) {
            struct timespec dl;
            clock_gettime(CLOCK_MONOTONIC, &dl);
            dl.tv_sec += wait / 1000;
            dl.tv_nsec += (wait % 1000) * 1000000L;
            if (dl.tv_nsec >= 1000000000L) {
                dl.tv_sec++;
                dl.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&c->cond, &c->lock, &dl);
        }
    }
    pthread_mutex_unlock(&c->lock);
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Server interceptor (ORB workers)                                     */
/* ------------------------------------------------------------------ */

static int cold_receive(void *arg, phx_server_ri_t *ri, phx_env_t *env)
{
    phx_ft_cold_t *c = arg;
    const phx_service_context_t *sc =
        phx_server_ri_request_context(ri, PHX_SC_FT_REQUEST);
    if (sc == NULL)
        return PHX_OK;
    size_t klen;
    const uint8_t *key = phx_server_ri_object_key(ri, &klen);
    if (klen != c->key_len || memcmp(key, c->key, klen) != 0)
        return PHX_OK;
    phx_ft_request_ctx_t rq;
    phx_error_t err;
    if (phx_ft_request_ctx_decode(sc->data, sc->len, &rq, &err) != PHX_OK ||
        rq.client_id_len == 0)
        return phx_env_system(env, PHX_SYSEX_BAD_PARAM,
                              PHX_VMCID | PHX_FT_MINOR_BAD_CONTEXT,
                              PHX_COMPLETED_NO, "FT_REQUEST: %s",
                              rq.client_id_len ? err.msg : "no client id");

    pthread_mutex_lock(&c->exec_lock);
    pthread_mutex_lock(&c->lock);
    bool primary = c->is_primary && !c->stopping;
    if (!primary)
        c->stats.refused++;
    pthread_mutex_unlock(&c->lock);
    if (!primary) {
        pthread_mutex_unlock(&c->exec_lock);
        return phx_env_system(env, PHX_SYSEX_TRANSIENT, 0, PHX_COMPLETED_NO,
                              "cold passive: not the primary");
    }
    phx_ft_cached_reply_t cached = {0, NULL, 0};
    int res = phx_ft_reply_cache_begin(c->cache, rq.client_id,
                                       rq.client_id_len, rq.retention_id,
                                       rq.expiration_time, OWNER_LOOKUP,
                                       &cached);
    if (res == PHX_FT_CACHE_MISS)
        phx_ft_reply_cache_abandon(c->cache, rq.client_id, rq.client_id_len,
                                   rq.retention_id, OWNER_LOOKUP);
    if (res == PHX_FT_CACHE_HIT) {
        pthread_mutex_lock(&c->lock);
        c->stats.replayed++;
        pthread_mutex_unlock(&c->lock);
        pthread_mutex_unlock(&c->exec_lock);
        int rc = phx_server_ri_set_reply(ri, cached.reply_status,
                                         cached.body, cached.len);
        phx_ft_cached_reply_fini(&cached);
        return rc;
    }

    /* Execute, log, sync; answer only then. */
    size_t blen;
    const uint8_t *body = phx_server_ri_request_body(ri, &blen);
    const char *op = phx_server_ri_operation(ri);
    int bo = phx_server_ri_request_byte_order(ri);
    uint32_t status = 0;
    uint8_t *reply = NULL, *rec = NULL;
    size_t reply_len = 0, rec_len = 0;
    /* Group time max(own clock, last + 1 us) and a seed, both logged;
     * phx_ft_input is not available (a recovery could not replay it). */
    uint64_t gtime = phx_ft_nd_group_time(phx_ft_nd_wall_ns(), c->last_ns);
    phx_ft_nd_ctx_t nd;
    phx_ft_nd_begin_fixed(&nd, gtime, phx_ft_nd_fresh_seed(), false);
    phx_ft_nd_set_request(&nd, rq.client_id, rq.client_id_len,
                          rq.retention_id, rq.expiration_time);
    int rc = phx_orb_invoke_local(c->orb, c->key, c->key_len, op, body,
                                  body ? blen : 0, bo, &status, &reply,
                                  &reply_len, &err);
    phx_ft_nd_end(&nd);
    c->last_ns = phx_ft_nd_last(&nd);
    phx_ft_nd_ctx_fini(&nd);
    if (rc == PHX_OK) {
        record_t r = {c->last_seq + 1, rq.client_id, rq.client_id_len,
                      rq.retention_id, rq.expiration_time, op, (uint8_t)bo,
                      body, body ? blen : 0, status, reply, reply_len,
                      gtime, nd.seed};
        rec = record_encode(&r, &rec_len);
    }
    const char *what = rc != PHX_OK ? err.msg
                       : rec == NULL ? "cannot encode the record"
                                     : NULL;
    if (rec && (write_all(c->log_fd, rec, rec_len) != 0 ||
                fdatasync(c->log_fd) != 0))
        what = strerror(errno);
    free(rec);
    if (what) {
        /* The servant may hold an execution storage does not: give the
         * role up; whoever recovers next gets the state from storage. */
        PHX_ERROR(MOD, "request '%s' not made durable (%s): giving up the "
                  "primary role",
                  op, what);
        pthread_mutex_lock(&c->lock);
        c->stats.write_errors++;
        pthread_mutex_unlock(&c->lock);
        release(c);
        pthread_mutex_unlock(&c->exec_lock);
        free(reply);
        if (c->cfg.role_change)
            c->cfg.role_change(c->cfg.arg, false);
        return phx_env_system(env, PHX_SYSEX_TRANSIENT, 0,
                              PHX_COMPLETED_MAYBE,
                              "cold passive: request not made durable");
    }
    c->last_seq++;
    c->since_ckpt++;
    phx_ft_reply_cache_put(c->cache, rq.client_id, rq.client_id_len,
                           rq.retention_id, rq.expiration_time, status,
                           reply, reply_len);
    bool due = c->since_ckpt >= c->cfg.checkpoint_every;
    pthread_mutex_lock(&c->lock);
    c->stats.executed++;
    if (due) {
        c->kick = true;
        pthread_cond_broadcast(&c->cond);
    }
    pthread_mutex_unlock(&c->lock);
    pthread_mutex_unlock(&c->exec_lock);
    rc = phx_server_ri_set_reply(ri, status, reply, reply_len);
    free(reply);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Life cycle                                                           */
/* ------------------------------------------------------------------ */

void phx_ft_cold_config_init(phx_ft_cold_config_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->checkpoint_interval_ms = 1000;
    cfg->checkpoint_every = 1000;
    cfg->lock_poll_ms = 2;
}

void phx_ft_cold_shutdown(phx_ft_cold_t *c)
{
    if (c == NULL)
        return;
    pthread_mutex_lock(&c->lock);
    bool join = c->thread_started;
    c->thread_started = false;
    c->stopping = true;
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->lock);
    if (join)
        pthread_join(c->thread, NULL);
    pthread_mutex_lock(&c->exec_lock);
    bool was = phx_ft_cold_is_primary(c);
    if (was || c->log_fd >= 0)
        release(c);
    pthread_mutex_unlock(&c->exec_lock);
    if (was && c->cfg.role_change)
        c->cfg.role_change(c->cfg.arg, false);
}

void phx_ft_cold_destroy(phx_ft_cold_t *c)
{
    if (c == NULL)
        return;
    phx_ft_cold_shutdown(c);
    phx_ft_reply_cache_destroy(c->cache);
    if (c->lock_fd >= 0)
        close(c->lock_fd);
    pthread_mutex_destroy(&c->exec_lock);
    pthread_mutex_destroy(&c->lock);
    pthread_cond_destroy(&c->cond);
    free(c->genesis);
    free(c->lock_path);
    free(c->ckpt_path);
    free(c->tmp_path);
    free(c->log_path);
    free(c->dir);
    free(c->key);
    free(c);
}

static char *path_in(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", dir, name);
    return p;
}

int phx_ft_cold_install(phx_orb_t *orb, const void *key, size_t key_len,
                        const phx_ft_cold_config_t *cfg, phx_ft_cold_t **out,
                        phx_error_t *err)
{
    if (orb == NULL || key == NULL || key_len == 0 || cfg == NULL ||
        cfg->dir == NULL || cfg->get_state == NULL ||
        cfg->set_state == NULL || out == NULL)
        return phx_error_set(err, PHX_EINVAL, "cold: bad argument");
    phx_ft_cold_t *c = calloc(1, sizeof *c);
    if (c == NULL)
        return phx_error_set(err, PHX_ENOMEM, "cold: out of memory");
    c->lock_fd = c->log_fd = -1;
    pthread_mutex_init(&c->exec_lock, NULL);
    pthread_mutex_init(&c->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&c->cond, &ca);
    pthread_condattr_destroy(&ca);
    c->orb = orb;
    c->cfg = *cfg;
    if (c->cfg.checkpoint_interval_ms == 0)
        c->cfg.checkpoint_interval_ms = 1000;
    if (c->cfg.checkpoint_every == 0)
        c->cfg.checkpoint_every = 1000;
    if (c->cfg.lock_poll_ms == 0)
        c->cfg.lock_poll_ms = 2;
    c->key = malloc(key_len);
    c->key_len = key_len;
    c->dir = strdup(cfg->dir);
    c->lock_path = path_in(cfg->dir, "primary.lock");
    c->ckpt_path = path_in(cfg->dir, "checkpoint");
    c->tmp_path = path_in(cfg->dir, "checkpoint.tmp");
    c->log_path = path_in(cfg->dir, "log");
    c->cache = new_cache(cfg);
    if (c->key == NULL || c->dir == NULL || c->lock_path == NULL ||
        c->ckpt_path == NULL || c->tmp_path == NULL || c->log_path == NULL ||
        c->cache == NULL) {
        phx_ft_cold_destroy(c);
        return phx_error_set(err, PHX_ENOMEM, "cold: out of memory");
    }
    memcpy(c->key, key, key_len);
    c->lock_fd = open(c->lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (c->lock_fd < 0) {
        int e = errno;
        phx_ft_cold_destroy(c);
        return phx_error_set(err, PHX_EIO, "cold: cannot open %s/primary.lock: "
                             "%s", cfg->dir, strerror(e));
    }
    if (cfg->get_state(cfg->arg, &c->genesis, &c->genesis_len) != 0) {
        phx_ft_cold_destroy(c);
        return phx_error_set(err, PHX_EINVAL, "cold: get_state failed");
    }
    if (pthread_create(&c->thread, NULL, thread_main, c) != 0) {
        phx_ft_cold_destroy(c);
        return phx_error_set(err, PHX_ENOMEM,
                             "cold: cannot start the lock thread");
    }
    c->thread_started = true;
    c->si = (phx_server_interceptor_t){
        .name = "phx-ft-cold",
        .arg = c,
        .receive_request_service_contexts = cold_receive,
    };
    int rc = phx_orb_add_server_interceptor(orb, &c->si);
    if (rc != PHX_OK) {
        phx_ft_cold_destroy(c);
        return phx_error_set(err, rc, "cold: cannot add interceptor");
    }
    *out = c;
    return PHX_OK;
}

bool phx_ft_cold_is_primary(phx_ft_cold_t *c)
{
    if (c == NULL)
        return false;
    pthread_mutex_lock(&c->lock);
    bool r = c->is_primary;
    pthread_mutex_unlock(&c->lock);
    return r;
}

bool phx_ft_cold_wait_primary(phx_ft_cold_t *c, uint32_t timeout_ms)
{
    if (c == NULL)
        return false;
    struct timespec dl;
    clock_gettime(CLOCK_MONOTONIC, &dl);
    dl.tv_sec += timeout_ms / 1000;
    dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (dl.tv_nsec >= 1000000000L) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&c->lock);
    int rc = 0;
    while (!c->is_primary && !c->stopping && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&c->cond, &c->lock, &dl);
    bool r = c->is_primary;
    pthread_mutex_unlock(&c->lock);
    return r;
}

void phx_ft_cold_get_stats(phx_ft_cold_t *c, phx_ft_cold_stats_t *st)
{
    if (c == NULL) {
        memset(st, 0, sizeof *st);
        return;
    }
    pthread_mutex_lock(&c->lock);
    *st = c->stats;
    pthread_mutex_unlock(&c->lock);
}
